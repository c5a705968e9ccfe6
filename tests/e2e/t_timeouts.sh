#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's timeouts and upstream failures, each answered with a status,
# an x-meshkit-flags header and a body saying why; and SIGHUP/SIGTERM with
# a request in flight.  Bounds are generous: the machine may be busy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B=$(port 1) DEAD=$(port 2) HOLE=$(port 3) CLOSER=$(port 4) JUNK=$(port 5)
CLTE=$(port 6) BIG=$(port 7) EOFR=$(port 8) PART=$(port 9)
SLOW=$(port 11) P=$(port 10) PD=$(port 20)
ports_free "$B" "$DEAD" "$HOLE" "$CLOSER" "$JUNK" "$CLTE" "$BIG" "$EOFR" "$PART" \
	"$SLOW" "$P" "$PD"
backend b1 "$B"
backend slow "$SLOW"
fake_upstream hole "$HOLE" blackhole
fake_upstream closer "$CLOSER" close
fake_upstream junk "$JUNK" garbage
printf 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled\n' >"$T/clte.resp"
{
	printf 'HTTP/1.1 200 OK\r\nX-Big: '
	head -c 80000 /dev/zero | tr '\0' b
	printf '\r\nContent-Length: 2\r\n\r\nhi'
} >"$T/big.resp"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close\n' >"$T/eof.resp"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten\n' >"$T/part.resp"
fake_upstream clte "$CLTE" reply:"$T/clte.resp"
fake_upstream big "$BIG" reply:"$T/big.resp"
fake_upstream eofr "$EOFR" reply:"$T/eof.resp"
fake_upstream part "$PART" hold:"$T/part.resp"
se clte clte 80 "$CLTE"
se big big 80 "$BIG"
se eofr eofr 80 "$EOFR"
se part part 80 "$PART"
se svc svc 80 "$B"
se slow slow 80 "$SLOW"
se dead dead 80 "$DEAD"
se hole hole 80 "$HOLE"
se closer closer 80 "$CLOSER"
se junk junk 80 "$JUNK"
proxy app "$P" "  timeouts: {connect: 500ms, requestHead: 1s, idle: 1s, streamIdle: 3s, upstreamIdle: 1s}"
proxy drainer "$PD"
route_d
proxy_d app "$P"
proxy_d drainer "$PD"
U=http://127.0.0.1:$P

# between LOW HIGH VALUE : LOW <= VALUE <= HIGH, seconds with decimals
between() { awk -v l="$1" -v h="$2" -v v="$3" 'BEGIN { exit !(v >= l && v <= h) }'; }

# timed NAME STATUS FLAGS LOW HIGH CURL_ARGS... : an error answer within
# LOW..HIGH seconds
timed() {
	name=$1 st=$2 fl=$3 lo=$4 hi=$5
	shift 5
	t=$(curl -s -i -o "$T/answer.txt" -w '%{time_total}' --max-time 20 "$@")
	error_answer "$name" "$st" "$fl" "$T/answer.txt"
	if between "$lo" "$hi" "$t"; then
		ok "$name: in ${t}s"
	else
		not_ok "$name: in ${t}s (want $lo..$hi s)"
	fi
}

# --- upstream side
timed "connection refused: 503 UF" 503 UF 0 3 -H 'Host: dead' $U/
# the black hole must really hang a connect, or the next case proves nothing
curl -s -o /dev/null --connect-timeout 1 http://127.0.0.1:$HOLE/
expect "black hole listener swallows connects" $? 28
timed "connect timeout (500ms): 503 UF" 503 UF 0.3 5 -H 'Host: hole' $U/
timed "streamIdle (3s) with a silent upstream: 504 UT" 504 UT 2.5 10 \
	-H 'Host: svc' $U/hang
timed "upstream closes without a response: 503 UC" 503 UC 0 3 \
	-H 'Host: closer' $U/
timed "invalid response head: 502" 502 UPE 0 3 -H 'Host: junk' $U/
timed "response with Content-Length and Transfer-Encoding: 502" 502 UPE 0 3 \
	-H 'Host: clte' $U/
timed "response head over 64 KiB: 502" 502 UPE 0 3 -H 'Host: big' $U/
got=$(curl -s -o /dev/null -o /dev/null -w '%{http_code}/%{size_download} ' \
	-H 'Host: eofr' $U/ $U/)
expect "response delimited by close: whole body, twice" "$got" "200/12 200/12 "
got=$(curl -s -o /dev/null -w '%{http_code}/%{size_download}' --max-time 15 \
	-H 'Host: part' $U/)
rc=$?
expect "upstream stalls mid-body: the client is cut, not hung (curl exit 18)" \
	"$rc $got" "18 200/9"
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: svc' $U/delay/300)
expect "a slow but live upstream is waited for" "$got" 200

# a pooled connection that the upstream closed is not an error: restart
# the backend under an idle pooled connection, then ask again
curl -s -o /dev/null -H 'Host: svc' $U/
stop b1
backend b1 "$B"
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: svc' $U/)
expect "request after the backend restarted (stale pooled connection)" "$got" 200
got=$(printf 'POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\n\r\nhi' | raw "$P" -w 0.3)
expect "upload after the backend restarted (kept open: idle is 1s)" "$got" "200 - open"

# upstreamIdle (1s): the pooled connection is closed by the proxy
curl -s -o /dev/null -H 'Host: svc' $U/
est() { ss -tnH state established "( dport = :$B )" | wc -l; }
n1=$(est)
for _ in $(seq 50); do
	[ "$(est)" -eq 0 ] && break
	sleep 0.1
done
expect "upstreamIdle closes the pooled connection (had $n1)" "$(est)" 0

# --- client side
got=$(printf 'GET / HTTP/1.1\r\nHost: svc\r\n' | raw "$P" -e -t 8)
read -r st fl state t_resp t_end <<<"$got"
expect "requestHead (1s): partial head gets 408 and close" "$st $fl $state" \
	"408 DPE closed"
check "requestHead: 408 after the timeout, not before (${t_resp}s)" \
	between 0.7 6 "$t_resp"
printf 'GET / HTTP/1.1\r\nHost: svc\r\n' | raw "$P" -t 8 -o "$T/408.txt" >/dev/null
error_answer "408 has flags and a reason" 408 DPE "$T/408.txt"
got=$(printf 'GET / HTTP/1.1\r\nHost: svc\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n' |
	raw "$P" -e -t 8 -d 0.1)
read -r st fl state t_resp t_end <<<"$got"
expect "requestHead: a head dripping one byte per 100ms gets 408" \
	"$st $fl $state" "408 DPE closed"
check "requestHead: slowloris cut in time (${t_resp}s, the head needs 8s)" \
	between 0.7 6 "$t_resp"
got=$(printf 'GET / HTTP/1.1\r\nHost: svc\r\n\r\n' | raw "$P" -e -w 8)
read -r st fl state t_resp t_end <<<"$got"
expect "idle (1s): keep-alive connection closed after a request" \
	"$st $fl $state" "200 - closed"
check "idle: closed after the timeout, not at once (${t_end}s)" \
	between 0.7 7 "$t_end"
got=$(printf '' | raw "$P" -e -t 8)
read -r st fl state t_resp t_end <<<"$got"
expect "idle: a connection that sends nothing is closed" "$st $fl $state" \
	"000 - closed"
check "idle: silent connection closed in time (${t_end}s)" \
	between 0.7 7 "$t_end"
got=$(curl -s -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' \
	-H 'Host: svc' $U/delay/1500 $U/)
expect "idle (1s) does not cut a request in flight (1.5s, streamIdle 3s)" \
	"$got" "200/1 200/0 "

# --- SIGHUP and SIGTERM with a request in flight (drainer: default
# timeouts; only it talks to the backend "slow", so a connection to that
# one means the request has been forwarded)
UD=http://127.0.0.1:$PD
in_flight() {
	for _ in $(seq 100); do
		[ "$(ss -tnH state established "( dport = :$SLOW )" | wc -l)" -gt 0 ] && return 0
		sleep 0.05
	done
	return 1
}
curl -s -o "$T/hup.out" -w '%{http_code}' -H 'Host: slow' $UD/delay/1500 >"$T/hup.code" &
c1=$!
check "SIGHUP: a request is in flight" in_flight
stop_sig() { kill -"$2" "$(pid_of "$1")"; }
stop_sig drainer HUP
wait $c1
expect "SIGHUP: the request in flight completes" "$(cat "$T/hup.code")" 200
got=$(curl -s -H 'Host: svc' $UD/)
expect "SIGHUP: serving after the reload" "$got" "hello from mk-backend b1"

stop slow	# the pooled connection is no longer established: the next is new
backend slow "$SLOW"
curl -s -o "$T/term.out" -w '%{http_code}' -H 'Host: slow' $UD/delay/1500 >"$T/term.code" &
c1=$!
check "SIGTERM: a request is in flight" in_flight
stop_sig drainer TERM
for _ in $(seq 20); do	# the signal may take a moment to be handled
	curl -s -o /dev/null --max-time 3 -H 'Host: svc' $UD/
	rc=$?
	[ $rc -eq 7 ] && break
	sleep 0.1
done
case $rc in
7) ok "SIGTERM: new connections refused (curl exit $rc)" ;;
*) not_ok "SIGTERM: new connections refused (curl exit $rc)" ;;
esac
wait $c1
expect "SIGTERM: the request in flight completes with 200" \
	"$(cat "$T/term.code")" 200
expect "SIGTERM: with its whole body" "$(cat "$T/term.out")" \
	"delayed 1500 ms"
for _ in $(seq 100); do
	alive drainer || break
	sleep 0.1
done
if alive drainer; then
	not_ok "SIGTERM: proxy-d exits by itself once drained"
else
	wait "$(pid_of drainer)"
	expect "SIGTERM: proxy-d exits by itself once drained, status 0" $? 0
fi

check "proxy-d app alive" alive app
trap - EXIT
finish
