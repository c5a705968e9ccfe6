#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d against hostile and broken peers (issue 9, "How to prove it"):
# an upstream that breaks HTTP/1.1 (tests/tools/mk-hostile.py backend)
# and clients that misbehave.  For each case: the answer HAProxy or Envoy
# would give, proxy-d's peak RSS under RSS_MAX, and a plain request from
# another client served while the case runs and after it.  A case that
# leaves proxy-d dead or deaf restarts it, so that the next case tests
# its own thing.  Every client and every wait is bounded in time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

HOSTILE="python3 $TOP/tests/tools/mk-hostile.py"
B=$(port 1) H=$(port 2) BIG=$(port 3) VB=$(port 4) P=$(port 10) PI=$(port 11)
AZ=$MESHKIT_RUNDIR/authz.sock
ports_free "$B" "$H" "$BIG" "$VB" "$P" "$PI"
RSS_MAX=32768	# kB: a few buffers of limits.bufferBytes per connection
STREAM_IDLE=3	# s, timeouts.streamIdle and timeouts.idle below

backend b1 "$B"
backend big "$BIG"
backend victim "$VB"
spawn hostile $HOSTILE backend "$H"
wait_port "$H"
se svc svc 80 "$B"
se big big 80 "$BIG"
se hostile hostile 80 "$H"
se victim victim.example 80 "$VB"
# outlier detection as strict as it gets: one failure ejects
cat >"$T/etc/victim-dr.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: victim}
spec:
  host: victim.example
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, consecutiveGatewayErrors: 1,
      interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}
YAML
# hosts asked about for the first time by one case each: no answer to
# reuse, so the request waits for route-d
{
	printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n'
	printf 'metadata: {name: fresh}\nspec:\n  hosts: ['
	for i in $(seq 1 20); do printf 'fresh%s.example, ' "$i"; done
	printf 'fresh0.example]\n  ports: [{number: 80, name: http}]\n'
	printf '  resolution: STATIC\n'
	printf '  endpoints: [{address: 127.0.0.1, ports: {http: %s}}]\n' "$B"
} >"$T/etc/fresh.yaml"
proxy_io app "$P" "$PI" "$B" "    authz: {address: ipc://$AZ, timeout: 2s}
    breaker: {enabled: true}
  timeouts: {connect: 1s, requestHead: ${STREAM_IDLE}s, idle: ${STREAM_IDLE}s, streamIdle: ${STREAM_IDLE}s, upstreamIdle: 10s}"
route_d
spawn authz-d "$BIN/authz-d" -c "$T/etc" -s "ipc://$AZ"
wait_file "$AZ"
spawn breaker-d "$BIN/breaker-d" -c "$T/etc"
wait_file "$MESHKIT_RUNDIR/breaker-events.sock"
proxy_d app "$P"
U=http://127.0.0.1:$P
CASE=start

# Under ASan the quarantine keeps freed memory, so RSS says nothing there.
rss_ok() {
	kb=$(peak_rss app 2>/dev/null || echo 0)
	if sanitized; then
		ok "$CASE: peak RSS not checked under sanitizers ($kb kB)"
	elif [ -n "$kb" ] && [ "$kb" -le "$RSS_MAX" ]; then
		ok "$CASE: peak RSS $kb kB <= $RSS_MAX kB"
	else
		not_ok "$CASE: peak RSS $kb kB, want <= $RSS_MAX kB"
	fi
}

# served WHEN : another client's plain request answered within 3 s
SERVED_OK=1
served() {
	got=$(curl -s --max-time 3 -H 'Host: svc' "$U/")
	if [ "$got" = "hello from mk-backend b1" ]; then
		ok "$CASE: another client served $1"
	else
		not_ok "$CASE: another client served $1 (got '$got')"
		SERVED_OK=0
	fi
}

# begin NAME : a new case
begin() {
	CASE=$1
	SERVED_OK=1
}

# end : served after, RSS; a proxy-d left dead or deaf is restarted
end() {
	served after
	rss_ok
	if ! alive app || [ "$SERVED_OK" = 0 ]; then
		not_ok "$CASE: proxy-d $(alive app && echo 'stopped serving' ||
			echo died); restarting it for the next case"
		stop app KILL
		proxy_d app "$P"
	fi
}

# --- a misbehaving upstream

begin "stray bytes after a response"
# Expected (HAProxy, Envoy): a connection that sends bytes nobody asked
# for is closed, never handed to the next request.
res=""
for i in 1 2 3; do
	res="$res$(curl -s --max-time 5 -H 'Host: hostile' "$U/stray/s$i")|"
	res="$res$(curl -s --max-time 5 -H 'Host: hostile' "$U/ok/n$i")|"
done
expect "$CASE: each client gets its own answer" "$res" \
	"ok s1|ok n1|ok s2|ok n2|ok s3|ok n3|"
res=""
for i in 1 2 3; do
	res="$res$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
		-H 'Host: hostile' "$U/204stray/z$i") "
	res="$res$(curl -s --max-time 5 -H 'Host: hostile' "$U/ok/m$i")|"
done
expect "$CASE: 204 then stray bytes: the next request is not fed them" \
	"$res" "204 ok m1|204 ok m2|204 ok m3|"
# the stray bytes arrive while the connection waits in the pool
res=""
for i in 1 2; do
	res="$res$(curl -s --max-time 5 -H 'Host: hostile' "$U/late/100/l$i")|"
	sleep 0.3
	res="$res$(curl -s --max-time 5 -H 'Host: hostile' "$U/ok/k$i")|"
done
expect "$CASE: stray bytes while pooled" "$res" "ok l1|ok k1|ok l2|ok k2|"
# pipelined: the next request is ready the moment the answer ends, the
# stray bytes already there (in the read that ends the answer, or left in
# the socket by a read that ended with it).  Bytes that come only after
# the next request went are its answer to any proxy: not tested.
for kind in stray 204stray aligned/16384 aligned/32768; do
	printf 'GET /%s/q1 HTTP/1.1\r\nHost: hostile\r\n\r\nGET /ok/q2 HTTP/1.1\r\nHost: hostile\r\nConnection: close\r\n\r\n' "$kind" |
		timeout 10 $HOSTILE request "$P" -t 5 -o "$T/pipe.raw" >/dev/null
	got=$(tr -d '\r' <"$T/pipe.raw" | grep -E '^(HTTP|ok|STRAY)' | tr '\n' '|')
	case $kind in
	stray) want="HTTP/1.1 200 OK|ok q1|HTTP/1.1 200 OK|ok q2|" ;;
	aligned/*) want="HTTP/1.1 200 OK|HTTP/1.1 200 OK|ok q2|" ;;
	*) want="HTTP/1.1 204 No Content|HTTP/1.1 200 OK|ok q2|" ;;
	esac
	expect "$CASE: pipelined after /$kind: the next answer is its own" \
		"$got" "$want"
done
end

begin "1xx flood"
# 3,000 interim responses.  Expected: bounded (at most 100 reach the
# client), then the final answer or a 502.
printf 'GET /1xx/3000/f1 HTTP/1.1\r\nHost: hostile\r\n\r\n' |
	timeout 20 $HOSTILE request "$P" -t 8 >"$T/1xx.out" &
fl=$!
served during
wait $fl
n=$(grep -c '^HTTP/1.1 1' "$T/1xx.out")
final=$(grep -v '^HTTP/1.1 1' "$T/1xx.out" | head -1)
case "$n $final" in
[0-9]" HTTP/1.1 "[25]0[02]*|[0-9][0-9]" HTTP/1.1 "[25]0[02]*|100" HTTP/1.1 "[25]0[02]*)
	ok "$CASE: $n interim responses, then '$final'" ;;
*) not_ok "$CASE: $n interim responses (want <= 100), then '$final'" ;;
esac
# Expected (RFC 9110 15.2): no 1xx ever reaches an HTTP/1.0 client.
printf 'GET /1xx/5/f2 HTTP/1.0\r\nHost: hostile\r\n\r\n' |
	timeout 20 $HOSTILE request "$P" -t 5 >"$T/1xx10.out"
expect "$CASE: HTTP/1.0 client gets no 1xx, only the answer" \
	"$(grep '^HTTP/' "$T/1xx10.out" | tr -d '\r' | tr '\n' '|')" \
	"HTTP/1.1 200 OK|"
end

begin "unknown transfer coding"
# Transfer-Encoding: gzip alone: a body delimited by the close, coded.
# Expected: the coding reaches the client with the coded body (and the
# connection closes after it), or a 502; never the body without it.
for coding in gzip x-custom; do
	curl -s -D "$T/te.h" -o "$T/te.b" --max-time 5 -H 'Host: hostile' \
		"$U/te/$coding/t1"
	st=$(awk 'NR == 1 { print $2 }' "$T/te.h")
	te=$(header transfer-encoding <"$T/te.h")
	len=$(wc -c <"$T/te.b")
	case "$st" in
	502) ok "$CASE: $coding: 502" ;;
	200)
		case "$te" in
		*"$coding"*) ok "$CASE: $coding: forwarded with its coding ($len bytes)" ;;
		*) not_ok "$CASE: $coding: 200, $len bytes, but Transfer-Encoding '$te'" ;;
		esac ;;
	*) not_ok "$CASE: $coding: status '$st'" ;;
	esac
done
end

begin "slow response body"
# 150 bytes, one every 20 ms: 3 s, never silent for timeouts.streamIdle.
curl -s --max-time 15 -o "$T/slow.b" -H 'Host: hostile' "$U/slow/150/20/w1" &
slow=$!
sleep 1
served during
wait $slow
expect "$CASE: all 150 bytes, in order" "$(cat "$T/slow.b")" \
	"$(python3 -c 'print(("w1." * 50)[:150], end="")')"
end

begin "never-ending response body"
# A client that reads 2 s of an endless body and goes: the upstream
# connection must go with it (Expected: both sides closed).
curl -s --max-time 2 -o /dev/null -H 'Host: hostile' "$U/endless/e1"
check "$CASE: the upstream connection closed after the client went" \
	until_ok 5 grep -q '^end e1 ' "$T/hostile.log"
# A client that never reads an endless body: memory stays bounded while
# the proxy waits, and both connections are closed by a deadline.
timeout 30 $HOSTILE noread "$P" hostile /endless/e2 $((STREAM_IDLE * 4)) \
	>"$T/noread-e.out" &
nr=$!
sleep 2
served during
# while the client still holds its end
check "$CASE: the endless upstream closed by a deadline" \
	until_ok $((STREAM_IDLE + 4)) grep -q '^end e2 ' "$T/hostile.log"
wait $nr
expect "$CASE: a client that never reads is closed by a deadline" \
	"$(cat "$T/noread-e.out")" closed
end

begin "response body stalls midway"
# Half of a 100,000-byte body, then silence.  Expected: the client
# connection is cut after timeouts.streamIdle, before the full length.
printf 'GET /stall/100000/st1 HTTP/1.1\r\nHost: hostile\r\n\r\n' |
	timeout 30 $HOSTILE request "$P" -t $((STREAM_IDLE * 3)) >"$T/stall.out" &
st=$!
sleep 1
served during
wait $st
expect "$CASE: partial body, then the client connection is cut" \
	"$(tr -d '\r' <"$T/stall.out" | tr '\n' '|')" \
	"HTTP/1.1 200 OK|body 50000|closed|"
end

begin "upstream resets mid-body"
printf 'GET /reset/100000/r1 HTTP/1.1\r\nHost: hostile\r\n\r\n' |
	timeout 20 $HOSTILE request "$P" -t 5 >"$T/reset.out"
expect "$CASE: partial body, then the client connection is cut" \
	"$(tr -d '\r' <"$T/reset.out" | tr '\n' '|')" \
	"HTTP/1.1 200 OK|body 50000|closed|"
curl -s -i --max-time 5 -o "$T/rh.txt" -H 'Host: hostile' "$U/resethead/r2"
error_answer "$CASE: reset before the response head: 503 UC" 503 UC "$T/rh.txt"
got=$(curl -s --max-time 5 -H 'Host: hostile' "$U/ok/r3")
expect "$CASE: the next request to that upstream" "$got" "ok r3"
end

begin "zero-padded chunk sizes"
# Expected (HAProxy): chunked bodies re-framed with canonical sizes.
printf 'GET /chunkpad/c1 HTTP/1.1\r\nHost: hostile\r\nConnection: close\r\n\r\n' |
	timeout 20 $HOSTILE request "$P" -t 5 -o "$T/chunk.raw" >/dev/null
size=$(python3 - "$T/chunk.raw" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
print(d.partition(b"\r\n\r\n")[2].split(b"\r\n")[0].decode("latin-1"))
PY
)
expect "$CASE: the client gets the size line '4e', not sixteen digits" \
	"$size" 4e
end

# --- misbehaving clients

mb=$((1024 * 1024))
head -c $mb /dev/urandom >"$T/1m"
want_1m=$("$BACKEND" -S <"$T/1m")

begin "1 MiB upload while the route is unknown"
# Expected: the upload is forwarded (proxy-d stops reading while it waits
# for route-d, and every question has a deadline).
curl -s --max-time 15 -H 'Host: fresh1.example' -H 'Expect:' -T "$T/1m" \
	"$U/upload" \
	>"$T/up.out" &
up=$!
sleep 1
served during
wait $up
expect "$CASE: forwarded whole" "$(cat "$T/up.out")" "$want_1m"
end

begin "1 MiB upload through authz-d"
curl -s --max-time 15 -H 'Host: app' -H 'Expect:' -T "$T/1m" \
	"http://127.0.0.1:$PI/upload" >"$T/upin.out" &
up=$!
sleep 1
served during
wait $up
expect "$CASE: forwarded whole" "$(cat "$T/upin.out")" "$want_1m"
end

begin "client that never reads"
# GET 1 GiB and read nothing.  Expected: proxy-d stops reading upstream
# (bounded memory) and closes both connections by a deadline.
timeout 40 $HOSTILE noread "$P" big /bytes/1073741824 $((STREAM_IDLE * 4)) \
	>"$T/noread.out" &
nr=$!
sleep 2
served during
check "$CASE: the upstream was sending" \
	test "$(ss -tanH state established "( dport = :$BIG )" | wc -l)" -gt 0
# while the client still holds its end
check "$CASE: the upstream connection closed by a deadline" \
	until_ok $((STREAM_IDLE + 4)) eval \
	"[ \$(ss -tanH state established '( dport = :$BIG )' | wc -l) = 0 ]"
wait $nr
expect "$CASE: the client connection closed by a deadline" \
	"$(cat "$T/noread.out")" closed
end

begin "half-close after a whole request"
# Expected (HAProxy, Envoy): a client that sent a whole request and shut
# its write side gets its answer.
got=$(timeout 20 $HOSTILE halfclose "$P" fresh2.example POST /upload 1000)
expect "$CASE: POST, route unknown" "$got" \
	"HTTP/1.1 200 OK $(python3 -c '
import sys; sys.stdout.write(("hc." * 400)[:1000])' | "$BACKEND" -S)"
got=$(timeout 20 $HOSTILE halfclose "$P" fresh3.example GET / 0)
expect "$CASE: GET, route unknown" "$got" \
	"HTTP/1.1 200 OK hello from mk-backend b1"
got=$(timeout 20 $HOSTILE halfclose "$P" svc GET / 0)
expect "$CASE: GET, route known" "$got" \
	"HTTP/1.1 200 OK hello from mk-backend b1"
end

begin "pipelined flood answered by proxy-d"
# 404s for a host nobody serves, sent for 6 s and never read.  Expected:
# proxy-d stops reading while its output is above the watermark.
timeout 30 $HOSTILE pipeflood "$P" nowhere.example 6 200 >"$T/flood.out" &
fl=$!
sleep 3
served during
wait $fl
check "$CASE: the flood ran ($(cat "$T/flood.out"))" grep -q '^sent [1-9]' "$T/flood.out"
end

begin "pipelined flood forwarded"
timeout 30 $HOSTILE pipeflood "$P" svc 6 200 >"$T/flood2.out" &
fl=$!
sleep 3
served during
wait $fl
check "$CASE: the flood ran ($(cat "$T/flood2.out"))" grep -q '^sent [1-9]' "$T/flood2.out"
end

begin "slow upload"
# 20,000 bytes, 1,000 every 100 ms: slow, never silent for streamIdle.
timeout 30 $HOSTILE slowupload "$P" svc /upload 20000 1000 100 >"$T/slowup.out" &
su=$!
sleep 1
served during
wait $su
want=$(python3 -c 'import sys; sys.stdout.write(("slow." * 4000)[:20000])' |
	"$BACKEND" -S)
expect "$CASE: forwarded whole" "$(head -1 "$T/slowup.out")" \
	"HTTP/1.1 200 OK $want"
end

begin "upload stalls midway"
# 5,000 of 20,000 bytes, then nothing.  Expected: both connections closed
# by a deadline (timeouts.streamIdle), with a 408 if anything, as nginx's
# client_body_timeout does: the client is late, not the upstream, so
# never a 504 UT that blames the upstream (and reports it to breaker-d
# as a timeout of a healthy endpoint).
timeout 40 $HOSTILE slowupload "$P" svc /upload 20000 5000 10 5000 \
	>"$T/stallup.out" &
su=$!
sleep 1
served during
wait $su
st=$(head -1 "$T/stallup.out" | awk '{ print $2 }')
read -r state secs < <(sed -n 2p "$T/stallup.out")
case "$st $state" in
"408 closed"|" closed") ok "$CASE: closed in ${secs}s (${st:-no answer})" ;;
*) not_ok "$CASE: '$(head -1 "$T/stallup.out")', $state after ${secs}s" ;;
esac
end

begin "stalled uploads and the upstream's health"
# Clients that stall mid-upload say nothing about the endpoint: with
# outlier detection at one failure, it must not be ejected for them.
got=$(curl -s --max-time 5 -H 'Host: victim.example' "$U/")
expect "$CASE: the endpoint answers first" "$got" "hello from mk-backend victim"
sleep 1.5	# breaker-d's answer in force
pids=""
for i in 1 2; do
	timeout 40 $HOSTILE slowupload "$P" victim.example /upload 20000 5000 10 \
		5000 >/dev/null &
	pids="$pids $!"
done
wait $pids
sleep 1.5	# an ejection would be published by now
got=$(curl -s --max-time 5 -H 'Host: victim.example' "$U/")
expect "$CASE: the endpoint still serves" "$got" "hello from mk-backend victim"
check "$CASE: breaker-d ejected nothing" \
	bash -c "! grep -q 'breaker-d: ejects' '$T/app.log'"
end

begin "Content-Length of 10^13"
# Expected: the head goes upstream as sent, every byte of it printable.
printf 'POST /rec/h1 HTTP/1.1\r\nHost: hostile\r\nContent-Length: 10000000000000\r\n\r\n0123456789' |
	timeout 10 $HOSTILE request "$P" -t 3 >/dev/null
heads=$(curl -s --max-time 5 -H 'Host: hostile' "$U/heads")
check "$CASE: the backend got the request" grep -q "POST /rec/h1" <<<"$heads"
check "$CASE: its Content-Length intact" \
	grep -qF 'Content-Length: 10000000000000\r\n' <<<"$heads"
check "$CASE: no stray bytes in the head" python3 -c '
import ast, sys
for line in sys.stdin:
    if not line.strip():
        continue
    h = ast.literal_eval(line)
    if b"/rec/h1" in h and any(b < 32 and b not in (10, 13) or b > 126 for b in h):
        sys.exit(1)' <<<"$heads"
end

check "proxy-d alive at the end" alive app
trap - EXIT
finish
