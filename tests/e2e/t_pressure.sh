#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d under the loads that once broke it (found in review): many
# requests coalesced on one route-d question and asked again under their
# own keys (the answers of a message handed out while new questions
# flush), thousands of pipelined requests answered by proxy-d itself (no
# recursion per request), and pipelined requests failing while route-d is
# away (a failed entry is never joined or freed twice).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B1=$(port 1) B2=$(port 2) P=$(port 10)
ports_free "$B1" "$B2" "$P"
backend v1 "$B1"
backend v2 "$B2"
cat >"$T/etc/svc.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc}
spec:
  hosts: [svc.example]
  ports: [{number: 80, name: http}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $B1}, labels: {version: v1}}
  - {address: 127.0.0.1, ports: {http: $B2}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc}
spec:
  host: svc.example
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc}
spec:
  hosts: [svc.example]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: svc.example, subset: v2}}]
  - route: [{destination: {host: svc.example, subset: v1}}]
YAML
proxy app "$P"
route_d -R 60000
proxy_d app "$P"

# 400 connections, each a request with its own end-user, sent at once:
# they wait on one question, whose answer varies on end-user, so 399 ask
# again in one turn (more than one message's worth)
got=$(timeout 60 python3 - "$P" <<'PY'
import socket, sys
P = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", P)) for _ in range(400)]
for i, s in enumerate(socks):
    s.sendall(b"GET / HTTP/1.1\r\nHost: svc.example\r\nend-user: u%d\r\n"
              b"Connection: close\r\n\r\n" % i)
codes = {}
for s in socks:
    s.settimeout(20)
    d = b""
    try:
        while True:
            x = s.recv(65536)
            if not x:
                break
            d += x
    except OSError:
        d += b" TIMEOUT"
    line = d.split(b"\r\n", 1)[0].decode(errors="replace")
    codes[line] = codes.get(line, 0) + 1
print(" ".join("%s=%d" % (k, v) for k, v in sorted(codes.items())))
PY
)
expect "400 coalesced requests re-asked under their own keys: all 200" \
	"$got" "HTTP/1.1 200 OK=400"
check "no request failed for want of an answer" \
	bash -c "! grep -q 'gave no answer' '$T/app.log'"

# 4000 pipelined requests on one connection for a host route-d does not
# know: each answered 404 by proxy-d itself
got=$(timeout 60 python3 - "$P" <<'PY'
import socket, sys
P = int(sys.argv[1])
N = 4000
s = socket.create_connection(("127.0.0.1", P))
s.sendall(b"GET / HTTP/1.1\r\nHost: nowhere.example\r\n\r\n" * N)
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
d = b""
try:
    while True:
        x = s.recv(1 << 20)
        if not x:
            break
        d += x
except OSError:
    pass
print(d.count(b"HTTP/1.1 404 "))
PY
)
expect "4000 pipelined requests answered 404 one by one" "$got" 4000
check "proxy-d alive after the pipeline" alive app

# route-d away: two pipelined requests for one host never asked before
stop route-d
rm -f "$MESHKIT_RUNDIR/route.sock"
got=$(printf 'GET / HTTP/1.1\r\nHost: new.example\r\n\r\nGET / HTTP/1.1\r\nHost: new.example\r\nConnection: close\r\n\r\n' |
	timeout 20 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
s.settimeout(15)
d = b""
try:
    while True:
        x = s.recv(65536)
        if not x:
            break
        d += x
except OSError:
    pass
print(d.count(b"HTTP/1.1 503 "))' "$P")
expect "route-d away: both pipelined requests get 503 RDU" "$got" 2
check "proxy-d alive" alive app
trap - EXIT
finish
