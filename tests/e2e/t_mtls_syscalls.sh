#!/bin/bash
# SPDX-License-Identifier: ISC
# Mutual TLS between two proxies costs no more system calls per request
# than plain text: strace counts both proxy-d's over N keep-alive
# requests to the same inbound listener (PERMISSIVE), once through a
# ServiceEntry whose endpoint runs a meshkit proxy (auto mTLS) and once
# through one whose endpoint does not (plain text).  libevent's OpenSSL
# bufferevent armed the write event for every write (an epoll_ctl pair)
# and read each record with two read(2)s: 18.6 system calls a request
# against 14.6 in plain text on the two-hop bench; proxy-d's own
# transport (tlsio.c) reads a record with one recv and writes it with
# one send.  SKIPs when strace is absent or may not attach, and under
# the sanitizers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

APP=$(port 1) IN=$(port 2) OUT=$(port 3)
N=200
ports_free "$APP" "$IN" "$OUT"

if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null
then
	skip "syscalls per request over mTLS" "strace absent or not allowed"
	trap - EXIT
	finish
fi
if sanitized; then
	skip "syscalls per request over mTLS" "sanitizers add their own"
	trap - EXIT
	finish
fi

cat >"$T/etc/mesh.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tls}
spec:
  hosts: [tls.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $IN}, labels: {security.istio.io/tlsMode: istio}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: plain}
spec:
  hosts: [plain.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $IN}}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: client}
spec:
  workload: {name: client, serviceAccount: client}
  listeners:
  - {name: outbound, direction: outbound, address: 127.0.0.1:$OUT}
  daemons:
    route: {address: ipc://$MESHKIT_RUNDIR/route.sock}
    tls: {}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: server}
spec:
  workload: {name: server, serviceAccount: server}
  listeners:
  - {name: inbound, direction: inbound, address: 127.0.0.1:$IN, forward: 127.0.0.1:$APP}
  daemons:
    tls: {}
EOF

backend app "$APP"
spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$T/state"
wait_file "$MESHKIT_RUNDIR/tls.sock"
route_d
proxy_d server "$IN"
proxy_d client "$OUT"
until_ok 10 grep -q 'tls: certificate .*/sa/server valid' "$T/server.log"
until_ok 10 grep -q 'tls: certificate .*/sa/client valid' "$T/client.log"

# count HOST : N keep-alive requests in one curl, both proxies traced;
# prints "ANSWERED SYSCALLS EPOLL_CTL" (system calls but the waits)
count() {
	urls=$(for _ in $(seq $N); do
		printf -- '-o /dev/null http://127.0.0.1:%s/ ' "$OUT"
	done)
	curl -s -H "Host: $1" $urls	# warm: pooled, cached
	rm -f "$T"/strace.*
	strace -f -c -o "$T/strace.client" -p "$(pid_of client)" &
	sc=$!
	strace -f -c -o "$T/strace.server" -p "$(pid_of server)" &
	ss=$!
	sleep 0.5
	n=$(curl -s -w '%{http_code}\n' -H "Host: $1" $urls | grep -c '^200$')
	sleep 0.2
	kill -INT $sc $ss
	wait $sc $ss
	cat "$T"/strace.client "$T"/strace.server | awk -v n="$n" '
		$1 ~ /^[0-9.]+$/ && $NF != "total" {
			if ($NF == "epoll_ctl")
				ctl += $4
			if ($NF !~ /^(epoll_wait|epoll_pwait|futex|clock_gettime|nanosleep)$/)
				all += $4
		}
		END { printf "%d %d %d\n", n, all, ctl }'
}

read -r n plain _ < <(count plain.example)
expect "plain text: $N requests answered" "$n" "$N"
read -r n tls ctl < <(count tls.example)
expect "mTLS: $N requests answered" "$n" "$N"
check "mTLS: the requests go over mutual TLS (the app gets x-forwarded-client-cert)" \
	sh -c "curl -s -H 'Host: tls.example' http://127.0.0.1:$OUT/headers |
	    grep -qi '^x-forwarded-client-cert: .*URI=spiffe://cluster.local/ns/default/sa/client'"
check "plain text: the others do not" \
	sh -c "! curl -s -H 'Host: plain.example' http://127.0.0.1:$OUT/headers |
	    grep -qi '^x-forwarded-client-cert'"
check "mTLS: no epoll_ctl per request ($ctl for $n)" test "$ctl" -le $((N / 10))
check "mTLS: no more system calls than plain text ($tls against $plain for $n requests)" \
	test "$tls" -le $((plain + N / 10))
check "mTLS: the trace saw the requests ($tls for $n)" test "$tls" -ge $((4 * N))

check "both proxies alive at the end" sh -c "kill -0 $(pid_of client) && kill -0 $(pid_of server)"
trap - EXIT
finish
