#!/bin/bash
# SPDX-License-Identifier: ISC
# Failures a client causes are never its endpoint's (issue 9).  A client
# that stalls, resets or half-closes in the middle of its request body
# gets 408 SI, nothing, or 400 DC; its upstream connection is closed, the
# request is not tried again (its route has retries), and nothing is
# reported to breaker-d for the endpoint.  A slow upload that keeps
# coming is the client's time: neither timeouts.streamIdle nor a
# perTryTimeout runs against the endpoint before the request is all
# sent.  The endpoint's own silences still count, and are reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
HOSTILE="python3 $TOP/tests/tools/mk-hostile.py"
MID=$(port 1) OKB=$(port 2) SINK=$(port 3) EARLY=$(port 4) P=$(port 10)
ports_free "$MID" "$OKB" "$SINK" "$EARLY" "$P"
# mk-hostile's backend logs "req TAG METHOD PATH" for every request head
spawn mid $HOSTILE backend "$MID"
spawn okb $HOSTILE backend "$OKB"
spawn sink $RAWHTTP serve "$SINK" sink	# accepts, never reads
# answers at the head, before the body: 50 of 100 bytes, then silence
printf 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n%050d' 0 >"$T/early.txt"
spawn early $RAWHTTP serve "$EARLY" "hold:$T/early.txt"
wait_port "$MID"
wait_port "$OKB"
wait_port "$SINK"
wait_port "$EARLY"
se mid mid.example 80 "$MID"
se okb okb.example 80 "$OKB"
se sink sink.example 80 "$SINK"
se early early.example 80 "$EARLY"
cat >"$T/etc/vs.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mid}
spec:
  hosts: [mid.example]
  http:
  - route: [{destination: {host: mid.example}}]
    timeout: 20s
    retries: {attempts: 2, perTryTimeout: 1s,
      retryOn: "5xx,reset,gateway-error,connect-failure"}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: okb}
spec:
  hosts: [okb.example]
  http:
  - match: [{uri: {prefix: /ok/p}}]
    route: [{destination: {host: okb.example}}]
    retries: {attempts: 2, perTryTimeout: 500ms, retryOn: "5xx,reset"}
  - route: [{destination: {host: okb.example}}]
YAML
proxy app "$P" "    breaker: {timeout: 100ms}
  timeouts: {connect: 1s, streamIdle: 2s}"
route_d
# breaker-d's reports, pulled by nngcat; its REP is absent (fail open)
spawn pull nngcat --pull --listen "ipc://$RUN/breaker-report.sock" --raw
wait_file "$RUN/breaker-report.sock"
proxy_d app "$P"
sleep 0.3

# client.py PORT HOST PATH LEN SENT MODE [PIECE MS]: a POST of LEN bytes
# (Content-Length) of which SENT go, then by MODE:
#   stall      wait (15 s at most): "STATUS FLAGS STATE SECONDS"
#   reset      0.5 s later an RST: "reset"
#   halfclose  shutdown(SHUT_WR), read to the close: "STATUS FLAGS STATE"
#   steady     all LEN bytes, PIECE every MS ms: "STATUS FLAGS BODY"
#   watch      the same while reading, to the close: "STATUS SENT SECONDS"
cat >"$T/client.py" <<'PY'
import select, socket, struct, sys, time
port, host, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n, sent, mode = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
start = time.monotonic()
s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" %
          (path.encode(), host.encode(), n))
body = (b"x" * n)
def read_all(secs):
    data, closed, end = b"", False, time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], end - time.monotonic())
        if not r:
            break
        try:
            c = s.recv(65536)
        except OSError:
            closed = True
            break
        if not c:
            closed = True
            break
        data += c
    return data, closed
def answer(data):
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    first = lines[0].split(b" ")
    st = first[1].decode() if len(first) > 1 else "000"
    fl = "-"
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"x-meshkit-flags":
            fl = v.strip().decode()
    return st, fl, rest.decode("latin-1").strip()
if mode == "watch":
    # send all LEN bytes, PIECE every MS ms, reading what comes; stop at
    # the close: "STATUS BYTES-SENT SECONDS"
    piece, ms = int(sys.argv[7]), float(sys.argv[8])
    data, sent = b"", 0
    while sent < n:
        try:
            s.sendall(body[sent:sent + piece])
        except OSError:
            break
        sent += piece
        r, _, _ = select.select([s], [], [], ms / 1000)
        if r:
            try:
                c = s.recv(65536)
            except OSError:
                c = b""
            if not c:
                break
            data += c
    print(answer(data)[0] if data else "000", sent,
          "%.1f" % (time.monotonic() - start))
    sys.exit(0)
if mode == "steady":
    piece, ms = int(sys.argv[7]), float(sys.argv[8])
    for i in range(0, n, piece):
        s.sendall(body[i:i + piece])
        time.sleep(ms / 1000)
    data, _ = read_all(10)
    print(*answer(data))
    sys.exit(0)
s.sendall(body[:sent])
if mode == "reset":
    time.sleep(0.5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset")
    sys.exit(0)
if mode == "halfclose":
    s.shutdown(socket.SHUT_WR)
data, closed = read_all(15)
st, fl, _ = answer(data)
print(st, fl, "closed" if closed else "open",
      "%.1f" % (time.monotonic() - start))
PY
client() { timeout 30 python3 "$T/client.py" "$P" "$@"; }
tries() { grep -c "^req $1 " "$T/$2.log"; }
reports() { grep -c "^endpoint: 127.0.0.1:$1\$" "$T/pull.log"; }
results() { grep "^result: " "$T/pull.log" | sort | uniq -c | tr -s ' \n' ' '; }
upstream_open() { ss -tanH state established "( dport = :$1 )" | wc -l; }
upstream_closed() { until_ok 5 eval "[ \$(upstream_open $1) = 0 ]"; }

# a report for the endpoint when it answers: breaker-d is being told
got=$(client mid.example /ok/first 10 10 halfclose)
expect "an answered request is reported" "$(reports "$MID")" 1
check "its upstream connection goes back to the pool" \
	test "$(upstream_open "$MID")" = 1
# (the idle pooled one is reused by the next case, then closed with it)

# --- a client stalls mid-body: 408 SI after streamIdle, the client's
read -r st fl state secs < <(client mid.example /ok/s1 1000 100 stall)
expect "stall mid-body: 408 SI, closed" "$st $fl $state" "408 SI closed"
check "stall mid-body: after streamIdle (2 s), not before (${secs}s)" \
	awk -v s="$secs" 'BEGIN { exit !(s >= 1.8 && s < 4) }'
expect "stall mid-body: tried once, not retried" "$(tries s1 mid)" 1
check "stall mid-body: the upstream connection closed, not pooled" \
	upstream_closed "$MID"
expect "stall mid-body: nothing reported for the endpoint" \
	"$(reports "$MID")" 1

# --- a client resets mid-body
got=$(client mid.example /ok/r1 1000 100 reset)
check "reset mid-body: the upstream connection closed" upstream_closed "$MID"
expect "reset mid-body: tried once, not retried" "$(tries r1 mid)" 1
sleep 0.3
expect "reset mid-body: nothing reported for the endpoint" \
	"$(reports "$MID")" 1

# --- a client half-closes mid-body: 400 DC, its answer still reaches it
read -r st fl state secs < <(client mid.example /ok/h1 1000 100 halfclose)
expect "half-close mid-body: 400 DC, closed" "$st $fl $state" "400 DC closed"
# (the head may not have left before the close was seen: at most once)
check "half-close mid-body: not retried" test "$(tries h1 mid)" -le 1
check "half-close mid-body: the upstream connection closed" \
	upstream_closed "$MID"
expect "half-close mid-body: nothing reported for the endpoint" \
	"$(reports "$MID")" 1
check "proxy-d's log says 408 SI for the stalled upload" \
	grep -q ' 408 SI POST mid.example/ok/s1: ' "$T/app.log"
check "proxy-d's log says DC for the reset" \
	grep -q 'client went away mid-request (DC)' "$T/app.log"

# --- slow uploads that keep coming are the client's time
got=$(client okb.example /ok/w1 3000 0 steady 100 100)
expect "a 3 s upload, 100 bytes every 100 ms, streamIdle 2 s: answered" \
	"$got" "200 - ok w1"
got=$(client okb.example /ok/pw2 1500 0 steady 100 100)
expect "a 1.5 s upload on a route with perTryTimeout 500ms: answered" \
	"$got" "200 - ok pw2"
expect "... tried once" "$(tries pw2 okb)" 1
expect "the reports so far: successes only (the first, w1, w2)" \
	"$(results)" " 3 result: 200 "

# --- the endpoint's own silence after a whole request still counts
got=$(client sink.example /s 100 0 steady 100 0)
expect "an endpoint silent after the whole request: 504 UT" "$got" \
	"504 UT meshkit: upstream 127.0.0.1:$SINK sent no response in time (UT)"
sleep 0.3
check "... reported as a timeout" \
	grep -qx 'result: timeout' "$T/pull.log"
expect "... for that endpoint" "$(reports "$SINK")" 1

# --- an answer begun before the body's end is owed from its head on: it
# stalls, and the client is cut after streamIdle though its upload
# still comes (6 s of it, 100 bytes every 200 ms)
read -r st sent secs < <(client early.example /e 3000 0 watch 100 200)
check "an early answer that stalls: cut after streamIdle (2 s), not at the upload's end (200, ${sent} bytes sent, ${secs}s)" \
	awk -v st="$st" -v s="$secs" 'BEGIN { exit !(st == 200 && s >= 1.8 && s < 4) }'

# --- while the body streams, an endpoint that takes none of it is the
# one at fault: its write side keeps its deadline (the client, held
# back, is not late)
head -c $((32 * 1024 * 1024)) /dev/zero >"$T/32m"
curl -s -o /dev/null --max-time 10 -H 'Host: sink.example' -H 'Expect:' \
	--data-binary @"$T/32m" "http://127.0.0.1:$P/big" >/dev/null
check "an endpoint that takes none of the body: 504 UT, its fault" \
	grep -q ' 504 UT POST sink.example/big: upstream 127.0.0.1:'"$SINK"' took no more of the request in time' "$T/app.log"
sleep 0.3
expect "... reported as a timeout too" "$(reports "$SINK")" 2

check "proxy-d alive at the end" alive app
trap - EXIT
finish
