#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's sessions against clients and upstreams that misbehave: each
# case is one defect of issue 9 and fails on the code before its fix.
# Uploads while a request waits for route-d or authz-d, half-closed
# clients, pipelined floods answered by proxy-d itself, clients that
# never read, heads with numbers too long for a guessed width, HEAD then
# an error, 1xx floods, codings that are not chunked, stray bytes after
# a response, chunk sizes as received, bodies on GET.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

PEERS="python3 $TOP/tests/e2e/peers.py"
APP=$(port 1) P=$(port 10) IN=$(port 11) P2=$(port 12) FAKE=$(port 20)
SOCK=$MESHKIT_RUNDIR/authz.sock
ports_free "$APP" "$P" "$IN" "$P2" "$FAKE"
backend app "$APP"
se app app.example 80 "$APP"
se fake fake.example 80 "$FAKE"
proxy_io px "$P" "$IN" "$APP" "    authz:
      address: ipc://$SOCK
      timeout: 2s
  timeouts: {streamIdle: 2s}
  limits: {maxHeadBytes: 4194304, maxHeaders: 300}"
# the same without authz-d, with the defaults, for the floods; its
# route-d's answers are reused for a minute
proxy plain "$P2" "  limits: {maxHeadBytes: 4194304, maxHeaders: 300}"
sed -i "s|route.sock|route2.sock|" "$T/etc/proxy-plain.yaml"
route_d -R 500
spawn route-d2 "$BIN/route-d" -c "$T/etc" -R 60000 \
    -s "ipc://$MESHKIT_RUNDIR/route2.sock"
wait_file "$MESHKIT_RUNDIR/route2.sock"
spawn authz nngcat --rep --listen "ipc://$SOCK" --raw \
    --data "$(printf 'meshkit/1 authz-reply\ngeneration: 1\n\ndecision: allow\nreuse: 0\n')"
wait_file "$SOCK"
proxy_d px "$P"
proxy_d plain "$P2"
pid_px=$(pid_of px)

# not_header NAME TEXT : TEXT (a response) has no header NAME
not_header() { [ -z "$(header "$1" <<<"$2")" ]; }
# cpu_ms NAME : user + system CPU time of a spawned process, in ms
cpu_ms() {
	awk '{ print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' \
	    "/proc/$(pid_of "$1")/stat"
}
# served NAME : a plain request from another client gets its answer
served() {
	expect "$1: another client is served" "$(curl -s -o /dev/null \
	    -w '%{http_code}' --max-time 5 -H 'Host: app.example' \
	    "http://127.0.0.1:$P/")" 200
}

# --- 1: an upload while the request waits for route-d (its first
# request: no answer to reuse) and for authz-d (asked every time)
head -c 1048576 /dev/urandom >"$T/mib"
want=$("$BACKEND" -S <"$T/mib")
before=$(cpu_ms px)
got=$(curl -s --max-time 10 -H 'Host: app.example' --data-binary @"$T/mib" \
    "http://127.0.0.1:$P/upload")
expect "1: 1 MiB upload while route-d is asked: forwarded whole" "$got" \
    "$want"
sleep 0.6	# past the reuse time: route-d is asked again
got=$(curl -s --max-time 10 -H 'Host: app.example' --data-binary @"$T/mib" \
    "http://127.0.0.1:$P/upload")
expect "1: again after the reuse time" "$got" "$want"
got=$(curl -s --max-time 10 --data-binary @"$T/mib" \
    "http://127.0.0.1:$IN/upload")
expect "1: 1 MiB upload while authz-d is asked: forwarded whole" "$got" \
    "$want"
used=$(( $(cpu_ms px) - before ))
check "1: proxy-d did not spin (${used} ms of CPU for 3 MiB)" \
    test "$used" -lt 1500
served 1

# --- 8: a whole POST, then the client half-closes at once: the answer
# still comes, while the route is asked and while it is reused
req8() {
	printf 'POST /upload HTTP/1.1\r\nHost: app.example\r\n'
	printf 'Content-Length: 5\r\n\r\nhello'
}
sleep 0.6
got=$(req8 | $PEERS halfclose "$P" 5 | tr -d '\r' | tail -1)
expect "8: POST then half-close, route asked: answered" "$got" \
    "$(printf hello | "$BACKEND" -S)"
got=$(req8 | $PEERS halfclose "$P" 5 | tr -d '\r' | tail -1)
expect "8: POST then half-close, route reused: answered" "$got" \
    "$(printf hello | "$BACKEND" -S)"
got=$(req8 | $PEERS halfclose "$IN" 5 | tr -d '\r' | tail -1)
expect "8: POST then half-close, authz-d asked: answered" "$got" \
    "$(printf hello | "$BACKEND" -S)"

# --- 6: pipelined requests answered by proxy-d itself (no route: 404),
# never read: reading stops while the answers are over the watermark
rss0=$(peak_rss plain)
got=$(printf 'GET / HTTP/1.1\r\nHost: nowhere.example\r\n\r\n' |
    $PEERS flood "$P2" 6)
grown=$(( $(peak_rss plain) - rss0 ))
# under ASan the quarantine keeps freed buffers: RSS says nothing there
if sanitized; then
	ok "6: $got pipelined 404s unread (RSS not checked under sanitizers)"
else
	check "6: $got pipelined 404s unread: peak RSS grew ${grown} kB (< 16384)" \
	    test "$grown" -lt 16384
fi
served 6

# --- 7: a client that never reads a long answer: closed after
# streamIdle (2 s here), its upstream connection with it
got=$(printf 'GET /bytes/100000000 HTTP/1.1\r\nHost: app.example\r\n\r\n' |
    $PEERS noread "$P" 5)
expect "7: a client that never reads is closed after streamIdle" "$got" \
    closed
check "7: proxy-d says why" grep -q 'read nothing of its answer for streamIdle' \
    "$T/px.log"
served 7

# fake REPLY [PAUSE] : the fake upstream answers every request with the
# bytes printf makes of REPLY (its log: $T/fake.log); fake -f FILE
# [PAUSE]: with the bytes of FILE
fake() {
	stop fake
	if [ "$1" = -f ]; then
		cp "$2" "$T/fake.reply"
		shift
	else
		printf "$1" >"$T/fake.reply"
	fi
	: >"$T/fake.log"
	spawn fake $PEERS serve "$FAKE" "$T/fake.reply" ${2:-}
	until_ok 5 grep -q serving "$T/fake.log"
}
# fakereq METHOD PATH : a request to the fake upstream through proxy-d,
# what came back as received
fakereq() {
	printf '%s %s HTTP/1.1\r\nHost: fake.example\r\n\r\n' "$1" "$2" |
	    $PEERS exchange "$P" 3
}

# --- 10: numbers longer than a guessed width: a Content-Length of
# 10^13 reaches the upstream whole (it was cut, with a NUL, and the
# head never ended)
fake 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
got=$(printf 'POST / HTTP/1.1\r\nHost: fake.example\r\nContent-Length: 10000000000000\r\n\r\nabc' |
    $PEERS exchange "$P" 3 | tr -d '\r' | tail -1)
expect "10: Content-Length 10^13: the upstream answered" "$got" ok
check "10: the upstream got the length whole, the head ended" \
    grep -q "Content-Length: 10000000000000'" "$T/fake.log"

# --- 11: after a HEAD, proxy-d's own error on the same connection
# keeps its body (the method of the last request is gone with it)
got=$(printf 'HEAD / HTTP/1.1\r\nHost: app.example\r\n\r\nGET / HTTP/1.1\nHost: app.example\n\n' |
    $PEERS exchange "$P" 3 | tr -d '\r')
check "11: HEAD, then a bad head: the 400 has its body" \
    grep -q '^meshkit: .*(DPE)$' <<<"$got"
check "11: the HEAD's answer had none" \
    test "$(grep -c 'hello from mk-backend' <<<"$got")" -eq 0

# --- 12: interim (1xx) answers: none to an HTTP/1.0 client, a few to
# 1.1 clients, an endless stream cut (502)
hints='HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n'
fake "${hints}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
got=$(printf 'GET /a HTTP/1.0\r\nHost: fake.example\r\n\r\n' |
    $PEERS exchange "$P" 3 | tr -d '\r')
expect "12: HTTP/1.0 client: the 200 only" \
    "$(head -1 <<<"$got") $(tail -1 <<<"$got")" "HTTP/1.1 200 OK ok"
got=$(fakereq GET /b | tr -d '\r' | grep '^HTTP/')
expect "12: HTTP/1.1 client: the 103, then the 200" "$(echo $got)" \
    "HTTP/1.1 103 Early Hints HTTP/1.1 200 OK"
python3 -c 'import sys; sys.stdout.write("HTTP/1.1 100 Continue\\r\\n\\r\\n" * 3000 + "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")' >"$T/flood1xx"
fake "$(cat "$T/flood1xx")"
got=$(fakereq GET /c | tr -d '\r')
expect "12: 3000 interim answers: 502 UPE" \
    "$(grep '^HTTP/' <<<"$got" | tail -1) $(grep -c '^HTTP/1.1 100' <<<"$got")" \
    "HTTP/1.1 502 Bad Gateway 16"

# --- 13: a body coded gzip and framed by the close: the client gets
# the coding with it (it was dropped as hop-by-hop); a 1.0 client,
# which takes no transfer coding, gets a 502
{
	printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n'
	printf 'Connection: close\r\n\r\n'
	printf 'gzipped body\n' | gzip -c
} >"$T/gz.reply"
fake -f "$T/gz.reply"
fakereq GET /gz >"$T/gz.out"
expect "13: Transfer-Encoding: gzip reaches the client" \
    "$(header transfer-encoding <"$T/gz.out")" gzip
expect "13: the coded body decodes" \
    "$(python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1])' "$T/gz.out" |
    gzip -dc 2>/dev/null)" "gzipped body"
got=$(printf 'GET /gz HTTP/1.0\r\nHost: fake.example\r\n\r\n' |
    $PEERS exchange "$P" 3 | head -1 | tr -d '\r')
expect "13: to an HTTP/1.0 client: 502" "$got" "HTTP/1.1 502 Bad Gateway"

# --- 15: chunked bodies are framed anew: plain hex sizes, no
# extensions, both ways (sizes went on as received: 000...04)
fake 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000004;x=y\r\nWiki\r\n00A\r\npedia in c\r\n000\r\nx-t: 1\r\n\r\n'
got=$(fakereq GET /chunks | sed '1,/^\r$/d')
expect "15: response: chunks framed anew, trailers kept" "$got" \
    "$(printf '4\r\nWiki\r\na\r\npedia in c\r\n0\r\nx-t: 1\r\n\r')"
printf 'POST /up HTTP/1.1\r\nHost: fake.example\r\nTransfer-Encoding: chunked\r\n\r\n0005;ext\r\nhello\r\n0\r\n\r\n' |
    $PEERS exchange "$P" 2 >/dev/null
check "15: request: chunks framed anew" grep -qF \
    "5\\r\\nhello\\r\\n0\\r\\n\\r\\n" <(sed -n 's/^recv b.//p' "$T/fake.log" | tr -d "'\n")
got=$(printf 'GET /chunks HTTP/1.0\r\nHost: fake.example\r\n\r\n' |
    $PEERS exchange "$P" 3 | tr -d '\r')
expect "15: to an HTTP/1.0 client: the data alone, to the close" \
    "$(sed '1,/^$/d' <<<"$got")" "Wikipedia in c"
check "15: ... and no Transfer-Encoding" not_header transfer-encoding "$got"

# --- 14: bytes after a complete response (a 204 with a body) close the
# upstream connection: the next request never reads them as its answer,
# whether they come with the 204 or a moment after it
fake 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray'
for i in 1 2 3 4 5 6 7 8; do
	printf 'GET /n%s HTTP/1.1\r\nHost: fake.example\r\n\r\n' $i
done | $PEERS exchange "$P" 3 >"$T/stray.out"
expect "14: stray bytes with the 204: every answer a 204" \
    "$(tr -d '\r' <"$T/stray.out" | grep -c '^HTTP/1.1 204') $(grep -c stray "$T/stray.out")" \
    "8 0"
fake 'HTTP/1.1 204 No Content\r\nContent-Length: 41\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray' 0.01
for i in 1 2 3 4 5 6 7 8; do
	printf 'GET /n%s HTTP/1.1\r\nHost: fake.example\r\n\r\n' $i
done | $PEERS exchange "$P" 3 >"$T/stray.out"
expect "14: a 204 that announced a body, sent after: every answer a 204" \
    "$(tr -d '\r' <"$T/stray.out" | grep -c '^HTTP/1.1 204') $(grep -c stray "$T/stray.out")" \
    "8 0"

# --- 16: a properly framed body on GET is forwarded (it was refused
# with 400), on an upstream connection that closes after it
got=$(curl -s --max-time 5 -X GET -H 'Host: app.example' --data-binary hello \
    "http://127.0.0.1:$P/upload")
expect "16: GET with a Content-Length body: forwarded" "$got" \
    "$(printf hello | "$BACKEND" -S)"
got=$(printf 'GET /upload HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' |
    $PEERS halfclose "$P" 5 | tr -d '\r' | tail -1)
expect "16: GET with a chunked body: forwarded" "$got" \
    "$(printf hello | "$BACKEND" -S)"
fake 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
got=$(printf 'GET /q HTTP/1.1\r\nHost: fake.example\r\nContent-Length: 2\r\n\r\n{}' |
    $PEERS exchange "$P" 2 | tr -d '\r' | tail -1)
expect "16: the upstream answered" "$got" ok
check "16: ... and was asked to close after it" \
    grep -q "^request 1 b'GET /q HTTP/1.1.*Connection: close" "$T/fake.log"

# --- ipc: a request whose question to a daemon would not fit in a
# message (over 1 MiB of headers) is refused alone with 431; it failed
# the whole batch of questions, other clients' included, with 503
python3 -c '
import sys
h = "".join("x-big-%d: %s\r\n" % (i, "v" * 7000) for i in range(200))
sys.stdout.write("GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (sys.argv[1], h))
' big.example >"$T/big.req"
got=$($PEERS exchange "$P2" 3 <"$T/big.req" | head -1 | tr -d '\r')
expect "ipc: route-d question over 1 MiB: 431 for that request" "$got" \
    "HTTP/1.1 431 Request Header Fields Too Large"
sed -i 's/^Host: big.example/Host: 127.0.0.1/' "$T/big.req"
got=$($PEERS exchange "$IN" 3 <"$T/big.req" | head -1 | tr -d '\r')
expect "ipc: authz-d question over 1 MiB: 431 for that request" "$got" \
    "HTTP/1.1 431 Request Header Fields Too Large"
served ipc

# --- meshctl: route explain asks about the path proxy-d would ask about,
# normalized (it sent the raw one); one proxy-d would refuse is refused
got=$("$BIN/meshctl" route explain -c "$T/etc" --host app.example \
    --path '/a/./b/../%63' -s "ipc://$MESHKIT_RUNDIR/route.sock" -o json)
check "meshctl: route explain normalizes the path" \
    grep -q '"path": "/a/c"' <<<"$got"
"$BIN/meshctl" route explain -c "$T/etc" --host app.example --path '/a%zz' \
    -s "ipc://$MESHKIT_RUNDIR/route.sock" >/dev/null 2>"$T/mc.err"
check "meshctl: a path proxy-d refuses is refused" \
    grep -q '400' "$T/mc.err"

trap - EXIT
finish
