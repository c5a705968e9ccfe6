#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's HTTP basics: routing (Host, absolute form, inbound), round
# robin, NR/UH answers, keep-alive on both sides, the headers it adds and
# the hop-by-hop ones it drops.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B1=$(port 1) B2=$(port 2) B3=$(port 3) OUT=$(port 10) IN=$(port 11) CAP=$(port 20)
ports_free "$B1" "$B2" "$B3" "$OUT" "$IN" "$CAP"
backend b1 "$B1"
backend b2 "$B2"
backend solo "$B3"
se svc svc 80 "$B1" "$B2"
se solo solo 80 "$B3"
se empty empty 80
proxy_io app "$OUT" "$IN" "$B1"
proxy capped "$CAP" "  limits: {maxConnections: 3}"
route_d
proxy_d app "$OUT"
wait_port "$IN"
proxy_d capped "$CAP"
U=http://127.0.0.1:$OUT

# --- routing
got=$(curl -s -H 'Host: solo' $U/)
expect "outbound by Host" "$got" "hello from mk-backend solo"
got=$(curl -s -H 'Host: solo:80' $U/)
expect "outbound by Host with the service port" "$got" \
	"hello from mk-backend solo"
got=$(curl -s -x "$U" http://solo/)
expect "outbound as HTTP proxy (curl -x, absolute form)" "$got" \
	"hello from mk-backend solo"
got=$(http_proxy=$U curl -s http://solo/)
expect "outbound with http_proxy in the environment" "$got" \
	"hello from mk-backend solo"
got=$(HTTP_PROXY=$U python3 -c '
import urllib.request
print(urllib.request.urlopen("http://solo/", timeout=10).read().decode(), end="")')
expect "outbound with HTTP_PROXY in the environment (python urllib)" \
	"$got" "hello from mk-backend solo"
got=$(curl -s -x "$U" http://solo/headers | head -1 | tr -d '\r')
expect "absolute form is sent upstream in origin form" "$got" \
	"GET /headers HTTP/1.1"
got=$(curl -s -x "$U" 'http://solo/headers?a=1&b=2' | head -1 | tr -d '\r')
expect "absolute form keeps the query" "$got" "GET /headers?a=1&b=2 HTTP/1.1"
got=$(curl -s -x "$U" http://solo/headers | header host)
expect "absolute form: upstream Host is the authority" "$got" "solo"
printf 'GET http://solo/headers HTTP/1.1\r\nHost: other.example\r\n\r\n' |
	raw "$OUT" -o "$T/abs.txt" >/dev/null
got=$(sed '1,/^\r$/d' "$T/abs.txt" | grep -ai '^host:' | tr -d '\r' | tr '\n' ' ')
expect "absolute form wins over a different Host, sent once" "$got" "Host: solo "
got=$(curl -s -H 'Host: SOLO' $U/)
expect "host names match in any case" "$got" "hello from mk-backend solo"
got=$(curl -s http://127.0.0.1:$IN/)
expect "inbound forwards to the local app" "$got" "hello from mk-backend b1"
got=$(curl -s -H 'Host: whatever.example' http://127.0.0.1:$IN/status/201 \
	-o /dev/null -w '%{http_code}')
expect "inbound ignores Host and passes the status through" "$got" 201

# round robin: consecutive answers come from different endpoints (one
# repeat allowed, where a refreshed route answer may restart the rotation)
seq_=""
for _ in 1 2 3 4 5 6 7 8; do
	seq_="$seq_ $(curl -s -D - -o /dev/null -H 'Host: svc' $U/ | header x-backend)"
done
changes=$(echo $seq_ | tr ' ' '\n' | uniq | wc -l)
if [ "$changes" -ge 7 ] && echo "$seq_" | grep -q b1 && echo "$seq_" | grep -q b2; then
	ok "round robin alternates over 2 endpoints:$seq_"
else
	not_ok "round robin alternates over 2 endpoints (got$seq_)"
fi

curl -s -i -H 'Host: nosuch.example' $U/ >"$T/nr.txt"
error_answer "unknown host: 404 NR with a reason" 404 NR "$T/nr.txt"
grep -q 'nosuch.example' "$T/nr.txt"
check "NR body names the host" test $? -eq 0
curl -s -i -H 'Host: empty' $U/ >"$T/uh.txt"
error_answer "service without endpoints: 503 UH with a reason" 503 UH "$T/uh.txt"
printf 'GET / HTTP/1.1\r\n\r\n' | raw "$OUT" -o "$T/nohost.txt" >/dev/null
error_answer "outbound request without Host: 400 DPE" 400 DPE "$T/nohost.txt"

# --- keep-alive with the client: several URLs on one curl reuse its
# connection; curl prints num_connects per transfer
got=$(curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	-H 'Host: solo' -w '%{http_code}/%{num_connects} ' \
	$U/ $U/bytes/10 $U/chunked/100 $U/status/404 $U/)
expect "5 requests on one client connection" "$got" \
	"200/1 200/0 200/0 404/0 200/0 "
got=$(curl -s -o /dev/null -o /dev/null -H 'Host: empty' \
	-w '%{http_code}/%{num_connects} ' $U/ $U/)
expect "an error answer (UH) keeps the client connection" "$got" \
	"503/1 503/0 "
got=$(curl -s -o /dev/null -o /dev/null -H 'Host: solo' -H 'Connection: close' \
	-w '%{http_code}/%{num_connects} ' $U/ $U/)
expect "Connection: close from the client is honoured" "$got" "200/1 200/1 "
got=$(curl -s -o /dev/null -o /dev/null -o /dev/null -H 'Host: solo' \
	-w '%{http_code}/%{num_connects} ' $U/status/204 $U/status/304 $U/)
expect "bodiless 204 and 304 keep the connection" "$got" "204/1 304/0 200/0 "
{
	for i in $(seq 49); do printf 'GET /status/200 HTTP/1.1\r\nHost: solo\r\n\r\n'; done
	printf 'GET /status/203 HTTP/1.1\r\nHost: solo\r\nConnection: close\r\n\r\n'
} | raw "$OUT" -o "$T/pipe.txt" >/dev/null
got=$(grep -a '^HTTP/1.1 ' "$T/pipe.txt" | awk '{ print $2 }' | uniq -c | awk '{ printf "%s*%s ", $1, $2 }')
expect "50 pipelined requests answered in order" "$got" "49*200 1*203 "
got=$(printf 'GET / HTTP/1.0\r\nHost: solo\r\n\r\n' | raw "$OUT")
expect "HTTP/1.0 without keep-alive gets closed" "$got" "200 - closed"
# a HEAD answer keeps the upstream's Content-Length (it has no body)
got=$(curl -s -I -H 'Host: solo' "$U/bytes/1234" | tr -d '\r' |
	sed -n 's/^[Cc]ontent-[Ll]ength: //p')
expect "HEAD: the upstream's Content-Length is passed on" "$got" 1234
# an HTTP/1.0 client must never get a chunked response (the upstream
# would otherwise chunk /chunked/N), and keeps its connection if it asks
got=$(curl -s -0 -D - -o "$T/c10.txt" -H 'Host: solo' "$U/chunked/1000" |
	tr -d '\r' | grep -ci '^transfer-encoding:')
expect "HTTP/1.0 client: no chunked response" "$got" 0
expect "HTTP/1.0 client: whole body" "$(wc -c <"$T/c10.txt")" 1000
got=$(curl -s -0 -o /dev/null -o /dev/null -H 'Host: solo' \
	-H 'Connection: keep-alive' -w '%{num_connects} ' $U/ $U/)
expect "HTTP/1.0 client asking keep-alive keeps its connection" "$got" "1 0 "

# --- keep-alive upstream: 20 requests, each on its own client connection,
# reach the backend on the connection pooled before (ss counts every
# connection to the backend's port, TIME-WAIT ones too)
curl -s -o /dev/null -H 'Host: solo' $U/bytes/100
n0=$(upstream_conns "$B3")
for _ in $(seq 20); do
	curl -s -o /dev/null -H 'Host: solo' $U/bytes/100
done
n=$(( $(upstream_conns "$B3") - n0 ))
if [ "$n" -le 1 ]; then
	ok "upstream pool: 20 requests opened $n new connection(s) to the backend"
else
	not_ok "upstream pool: 20 requests opened $n new connections to the backend (want 0-1)"
fi

# --- headers the proxy adds
hdrs=$(curl -s -H 'Host: solo' $U/headers)
rid=$(printf '%s\n' "$hdrs" | header x-request-id)
if printf '%s' "$rid" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'; then
	ok "x-request-id generated (uuid v4)"
else
	not_ok "x-request-id generated (got '$rid')"
fi
rid2=$(curl -s -H 'Host: solo' $U/headers | header x-request-id)
check "x-request-id differs between requests" test "$rid" != "$rid2"
hdrs=$(curl -s -H 'Host: solo' -H 'X-Request-Id: my-id-42' $U/headers)
got=$(printf '%s\n' "$hdrs" | grep -ci '^x-request-id:')
expect "x-request-id present once when the client sent one" "$got" 1
expect "x-request-id kept when present" \
	"$(printf '%s\n' "$hdrs" | header x-request-id)" my-id-42
got=$(curl -s -i -H 'Host: empty' $U/ | header x-request-id)
case "$got" in
????????-????-????-????-????????????) ok "error answers carry the generated x-request-id" ;;
*) not_ok "error answers carry the generated x-request-id (got '$got')" ;;
esac

xff() { tr -d '\r' | awk 'tolower($0) ~ /^x-forwarded-for:/ { sub(/^[^:]*:[ \t]*/, ""); v = v (v == "" ? "" : ", ") $0 } END { print v }'; }
got=$(curl -s -H 'Host: solo' $U/headers | xff)
expect "x-forwarded-for added" "$got" 127.0.0.1
got=$(curl -s -H 'Host: solo' -H 'X-Forwarded-For: 10.1.2.3, 10.4.5.6' $U/headers | xff)
expect "x-forwarded-for appended to the existing value" "$got" \
	"10.1.2.3, 10.4.5.6, 127.0.0.1"
got=$(curl -s -H 'Host: solo' -H 'X-Forwarded-For: 10.1.1.1' \
	-H 'X-Forwarded-For: 10.2.2.2' $U/headers | xff)
expect "x-forwarded-for: two header lines kept in order" "$got" \
	"10.1.1.1, 10.2.2.2, 127.0.0.1"
got=$(curl -s http://127.0.0.1:$IN/headers | xff)
expect "inbound adds x-forwarded-for too" "$got" 127.0.0.1

hdrs=$(curl -s -H 'Host: solo' -H 'Connection: keep-alive, X-Hop' \
	-H 'X-Hop: secret' -H 'Keep-Alive: timeout=5' -H 'TE: trailers' \
	-H 'Upgrade: h2c' -H 'Proxy-Connection: keep-alive' \
	-H 'X-End-To-End: kept' \
	$U/headers | tr -d '\r')
for h in x-hop keep-alive te upgrade proxy-connection; do
	if printf '%s\n' "$hdrs" | grep -qi "^$h:"; then
		not_ok "hop-by-hop $h not forwarded"
	else
		ok "hop-by-hop $h not forwarded"
	fi
done
got=$(printf '%s\n' "$hdrs" | grep -ci '^connection:.*x-hop')
expect "client's Connection header not forwarded as is" "$got" 0
expect "end-to-end header forwarded" \
	"$(printf '%s\n' "$hdrs" | header x-end-to-end)" kept
got=$(curl -s -D - -o /dev/null -H 'Host: solo' $U/close | grep -ci '^connection:')
expect "upstream's Connection: close not passed to a keep-alive client" \
	"$got" 0

# --- maxConnections 3: a fourth connection is turned away at once (not
# left hanging), and served again when a slot frees
exec 5<>/dev/tcp/127.0.0.1/$CAP 6<>/dev/tcp/127.0.0.1/$CAP 7<>/dev/tcp/127.0.0.1/$CAP
sleep 0.3
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: solo' http://127.0.0.1:$CAP/)
case "$got" in
000 | 503) ok "maxConnections 3: the 4th connection is refused ($got)" ;;
*) not_ok "maxConnections 3: the 4th connection is refused (got $got)" ;;
esac
exec 5>&- 6>&- 7>&-
got=000
for _ in $(seq 20); do
	got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: solo' http://127.0.0.1:$CAP/)
	[ "$got" = 200 ] && break
	sleep 0.1
done
expect "maxConnections 3: served again once connections close" "$got" 200

# --- the same requests still work after all the above
got=$(curl -s -H 'Host: svc' -o /dev/null -w '%{http_code}' $U/)
expect "proxy still serving" "$got" 200
check "proxy-d alive" alive app
trap - EXIT
finish
