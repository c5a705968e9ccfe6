#!/bin/bash
# SPDX-License-Identifier: ISC
# System calls on proxy-d's hot paths, counted with strace over a run of
# keep-alive requests: what a proxied request costs beyond its reads and
# writes must not grow per request.
#  - Reusing a pooled upstream connection: no recv(MSG_PEEK) per reuse
#    (one in eight of a request's system calls), only for a connection
#    taken in the loop turn that released it (upstream.c).
#  - An inbound request asking authz-d (decisions reused): the address
#    the client connected to is asked of the socket once per connection,
#    not per request (getsockname).
# SKIPs when strace is absent or may not attach (ptrace refused).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

SOCK=$MESHKIT_RUNDIR/authz.sock
APP=$(port 1) OUT=$(port 2) IN=$(port 3)
N=200
ports_free "$APP" "$OUT" "$IN"

if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null
then
	skip "syscalls per request" "strace absent or not allowed"
	trap - EXIT
	finish
fi
if sanitized; then
	skip "syscalls per request" "sanitizers add their own"
	trap - EXIT
	finish
fi

backend app "$APP"
se svc svc 80 "$APP"
proxy_io px "$OUT" "$IN" "$APP" "    authz:
      address: ipc://$SOCK
      timeout: 2s"
# authz-d standing in: every question allowed, the decision reused 60 s
spawn authz nngcat --rep --listen "ipc://$SOCK" --raw --data "$(printf \
	'meshkit/1 authz-reply\ngeneration: 1\n\ndecision: allow\nreuse: 60000')"
wait_file "$SOCK"
route_d
proxy_d px "$OUT"
PID=$(pid_of px)

# count PORT HOST SYSCALL... : N keep-alive requests in one curl, proxy-d
# traced; prints "REQUESTS COUNT" (COUNT of the syscalls named)
count() {
	port=$1 host=$2
	shift 2
	urls=$(for _ in $(seq $N); do
		printf -- '-o /dev/null http://127.0.0.1:%s/ ' "$port"
	done)
	curl -s -H "Host: $host" $urls	# warm: pooled, cached
	rm -f "$T/strace.out"
	strace -f -qq -o "$T/strace.out" -e trace="$(IFS=,; echo "$*")" \
		-p "$PID" &
	sp=$!
	sleep 0.5
	n=$(curl -s -w '%{http_code}\n' -H "Host: $host" $urls |
		grep -c '^200$')
	sleep 0.2
	kill -INT $sp
	wait $sp
	echo "$n $(grep -cE "^[0-9]+ +($(IFS='|'; echo "$*"))\(" "$T/strace.out")"
}

read -r n peeks < <(count "$OUT" svc recvfrom)
expect "outbound: $N requests answered" "$n" "$N"
check "outbound: reusing the pooled connection costs no recv(MSG_PEEK) per request ($peeks for $n)" \
	test "$peeks" -le $((N / 10))
# the same requests still read and write: the trace saw them
read -r n rw < <(count "$OUT" svc readv writev)
check "outbound: the trace sees the requests' reads and writes ($rw for $n)" \
	test "$rw" -ge $((2 * N))

# libevent asks ioctl(FIONREAD) before each read of its own; plainio.c
# reads without asking
read -r n ioctls < <(count "$OUT" svc ioctl)
check "outbound: no ioctl per read ($ioctls for $n requests)" \
	test "$ioctls" -le $((N / 10))

read -r n names < <(count "$IN" app getsockname)
expect "inbound through authz-d: $N requests answered" "$n" "$N"
check "inbound: the local address asked once per connection, not per request ($names for $n)" \
	test "$names" -le 2

check "proxy-d alive at the end" alive px
trap - EXIT
finish
