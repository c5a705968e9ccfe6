#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's strict parser over raw sockets: every smuggling shape gets 400
# and a close, oversized heads 431, limits come from config, the smuggled
# request never reaches the backend, and the Severe cases of
# http-desync-guardian are all refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B=$(port 1) P=$(port 10) PL=$(port 20) PW=$(port 30) PWI=$(port 31)
ports_free "$B" "$P" "$PL" "$PW" "$PWI"
backend_v b1 "$B"
se svc svc 80 "$B"
proxy app "$P"
proxy tight "$PL" "  limits: {maxHeaders: 5, maxHeadBytes: 2048, maxRequestLine: 1024}"
proxy_io wide "$PW" "$PWI" "$B" "  limits: {maxHeaders: 1000}"
route_d
proxy_d app "$P"
proxy_d tight "$PL"
proxy_d wide "$PW"
wait_port "$PWI"

# refused NAME REQUEST : 400 DPE and a close for the raw REQUEST (printf
# format) sent to the default proxy
refused() {
	got=$(printf "$2" | raw "$P")
	expect "$1: 400 and close" "$got" "400 DPE closed"
}
H='Host: svc\r\n'

# the controls: the same framing done right is forwarded and kept alive
got=$(printf "POST /upload HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello" | raw "$P")
expect "control: Content-Length body forwarded, connection kept" "$got" "200 - open"
got=$(printf "POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" | raw "$P")
expect "control: chunked body forwarded, connection kept" "$got" "200 - open"
got=$(printf "POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n" | raw "$P")
expect "control: chunk extension and trailer accepted" "$got" "200 - open"
got=$(printf "POST /upload HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello" | raw "$P")
case "$got" in
"200 - open" | "400 DPE closed") ok "identical duplicate Content-Length: forwarded or refused ($got)" ;;
*) not_ok "identical duplicate Content-Length (got '$got')" ;;
esac

refused "Content-Length with Transfer-Encoding" \
	"POST /upload HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
refused "Transfer-Encoding with Content-Length" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
refused "two different Content-Length" \
	"POST /upload HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nhello"
refused "Content-Length list" \
	"POST /upload HTTP/1.1\r\n${H}Content-Length: 4, 5\r\n\r\nhello"
refused "negative Content-Length" \
	"POST /upload HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n"
refused "Content-Length with a plus sign" \
	"POST /upload HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello"
refused "Transfer-Encoding gzip (not ending in chunked)" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n"
refused "Transfer-Encoding chunked, gzip" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n"
refused "Transfer-Encoding chunked twice" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
refused "Transfer-Encoding in HTTP/1.0" \
	"POST /upload HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
refused "obs-fold" \
	"GET / HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n"
refused "obs-fold with a tab" \
	"GET / HTTP/1.1\r\n${H}X-Folded: a\r\n\tTransfer-Encoding: chunked\r\n\r\n"
refused "bare CR in a value" \
	"GET / HTTP/1.1\r\n${H}X-Bad: a\rb\r\n\r\n"
refused "bare LF in a value (header injection)" \
	"GET / HTTP/1.1\r\n${H}X-Bad: a\nContent-Length: 5\r\n\r\n"
refused "bare CR in the request line" \
	"GET /a\rb HTTP/1.1\r\n${H}\r\n"
refused "invalid header name (space)" \
	"GET / HTTP/1.1\r\n${H}X Bad: a\r\n\r\n"
refused "invalid header name (parenthesis)" \
	"GET / HTTP/1.1\r\n${H}X(Bad): a\r\n\r\n"
refused "empty header name" \
	"GET / HTTP/1.1\r\n${H}: a\r\n\r\n"
refused "header line without a colon" \
	"GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n"
refused "space before the colon" \
	"GET / HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello"
refused "tab before the colon" \
	"GET / HTTP/1.1\r\n${H}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"
refused "whitespace before the first header" \
	"GET / HTTP/1.1\r\n Host: svc\r\n\r\n"
refused "NUL in a value" \
	"GET / HTTP/1.1\r\n${H}X-Bad: a\0b\r\n\r\n"
refused "DEL in a value" \
	"GET / HTTP/1.1\r\n${H}X-Bad: a\177b\r\n\r\n"
refused "bad chunk size" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
refused "chunk size overflowing 64 bits" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"
refused "chunk size with a space before it" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n"
refused "chunk data longer than its size" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"
refused "chunk size line ended by a bare LF" \
	"POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"
refused "not an HTTP version" \
	"GET / HTTPS/1.1\r\n${H}\r\n"
refused "two Host headers" \
	"GET / HTTP/1.1\r\n${H}Host: other\r\n\r\n"
refused "garbage request line" \
	"GET\r\n${H}\r\n"

# the answers say why in the body
printf "POST /upload HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" |
	raw "$P" -o "$T/clte.txt" >/dev/null
error_answer "CL+TE answer has flags and a reason" 400 DPE "$T/clte.txt"

# --- the smuggled request never reaches the backend
printf "POST /front HTTP/1.1\r\n${H}Content-Length: 48\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled-1 HTTP/1.1\r\nHost: svc\r\n\r\n" | raw "$P" >/dev/null
printf "POST /front HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\nGET /smuggled-2 HTTP/1.1\r\nHost: svc\r\n\r\n" | raw "$P" >/dev/null
printf "POST /front HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled-3 HTTP/1.1\r\nHost: svc\r\n\r\n" | raw "$P" >/dev/null
printf "POST /front HTTP/1.1\r\n${H}X-Fold: x\r\n Content-Length: 44\r\n\r\nGET /smuggled-4 HTTP/1.1\r\nHost: svc\r\n\r\n" | raw "$P" >/dev/null
got=$(curl -s -H 'Host: svc' -o /dev/null -w '%{http_code}' http://127.0.0.1:$P/control-after)
expect "after the 400s the proxy serves other clients" "$got" 200
sleep 0.2
check "backend log shows the control request" grep -q 'GET /control-after' "$T/b1.log"
got=$(grep -c -e smuggled -e /front "$T/b1.log")
expect "backend never saw a refused or smuggled request" "$got" 0

# pipelining is not smuggling: two whole requests in one write both answered
got=$(printf "GET /status/201 HTTP/1.1\r\n${H}\r\nGET /status/202 HTTP/1.1\r\n${H}Connection: close\r\n\r\n" |
	raw "$P" -o "$T/pipe.txt")
st=$(grep -a '^HTTP/1.1' "$T/pipe.txt" | awk '{ printf "%s ", $2 }')
expect "two pipelined requests answered in order" "$st" "201 202 "

# --- limits: 431 for heads too big, defaults then configured ones
# head PORT NHEADERS VALUE_BYTES [TARGET_BYTES] : a GET with Host and
# NHEADERS more headers of VALUE_BYTES each, sent raw to PORT
head_of() {
	awk -v n="$2" -v v="$3" -v t="${4:-0}" 'BEGIN {
		for (i = 0; i < v; i++) pad = pad "v"
		for (i = 0; i < t; i++) tgt = tgt "t"
		printf "GET /%s HTTP/1.1\r\nHost: svc\r\n", tgt
		for (i = 1; i <= n; i++) printf "X-H%d: %s\r\n", i, pad
		printf "\r\n" }' | raw "$1"
}
expect "head over 64 KiB (one 70 KB header): 431 and close" \
	"$(head_of "$P" 1 70000)" "431 DPE closed"
expect "head over 64 KiB (2000 headers of 30 bytes): 431 and close" \
	"$(head_of "$P" 2000 30)" "431 DPE closed"
expect "101 headers (default maxHeaders 100): 431 and close" \
	"$(head_of "$P" 100 1)" "431 DPE closed"
expect "100 headers pass" "$(head_of "$P" 99 1)" "200 - open"
awk 'BEGIN { printf "GET / HTTP/1.1\r\nHost: svc\r\n"; for (i = 0; i < 200; i++) printf "X-H%d: v\r\n", i; printf "\r\n" }' |
	raw "$P" -o "$T/431.txt" >/dev/null
error_answer "431 has flags and a reason" 431 DPE "$T/431.txt"

expect "maxHeaders 5: 5 headers pass" "$(head_of "$PL" 4 1)" "200 - open"
expect "maxHeaders 5: 6 headers get 431 and close" "$(head_of "$PL" 5 1)" \
	"431 DPE closed"
expect "maxHeadBytes 2048: 1.7 KiB head passes" "$(head_of "$PL" 2 800)" \
	"200 - open"
expect "maxHeadBytes 2048: 2.2 KiB head gets 431 and close" \
	"$(head_of "$PL" 2 1100)" "431 DPE closed"
expect "maxRequestLine 1024: 900-byte target passes" \
	"$(head_of "$PL" 0 0 900)" "200 - open"
got=$(head_of "$PL" 0 0 1500)
case "$got" in
"414 DPE closed" | "400 DPE closed") ok "maxRequestLine 1024: 1.5 KiB request line refused ($got)" ;;
*) not_ok "maxRequestLine 1024: 1.5 KiB request line refused (got '$got')" ;;
esac
got=$(head_of "$PL" 1 1500)
case "$got" in
"431 DPE closed" | "400 DPE closed") ok "maxRequestLine 1024 bounds a header line too ($got)" ;;
*) not_ok "maxRequestLine 1024 bounds a header line too (got '$got')" ;;
esac
got=$(head_of "$P" 0 0 10000)
case "$got" in
"414 DPE closed" | "400 DPE closed") ok "default maxRequestLine 8192: 10 KB request line refused ($got)" ;;
*) not_ok "default maxRequestLine 8192: 10 KB request line refused (got '$got')" ;;
esac

# maxHeaders raised: many headers pass.  Written "a:b", each grows by a
# byte when the proxy re-emits it as "a: b"; the padding walks the head's
# size across a buffer boundary.
many_of() {
	awk -v n="$2" -v pad="$3" 'BEGIN {
		printf "GET /headers HTTP/1.1\r\nHost:svc\r\nX-Pad:"
		for (i = 0; i < pad; i++) printf "p"
		printf "\r\n"
		for (i = 0; i < n; i++) printf "a:b\r\n"
		printf "\r\n" }' | raw "$1" -w 0.1 -o "$T/many.txt"
}
got=$(many_of "$PW" 200 0)
expect "maxHeaders 1000, outbound: 200 headers forwarded" "$got" "200 - open"
bad=""
for pad in $(seq 0 300 3900); do
	got=$(many_of "$PWI" 900 "$pad")
	n=$(grep -ac '^a: *b' "$T/many.txt")
	[ "$got $n" = "200 - open 900" ] || bad="$bad pad=$pad:'$got',$n"
	alive wide || break
done
expect "maxHeaders 1000, inbound: 900 headers forwarded whole at every size" \
	"${bad:-none}" none
check "proxy-d alive after 900-header requests" alive wide

# --- request smuggling: every Severe case refused with 400 and a close,
# none reaching the backend; meshkit's own cases (tests/data/desync), and
# http-desync-guardian's in the conformance stage
# desync LABEL MIN DIR : the Severe cases of DIR/*.yaml through proxy-d
desync() {
	$RAWHTTP desync "$P" svc "$3"/*.yaml >"$T/desync-$1.txt" 2>&1
	sed -n 's/^FAIL /  desync FAIL: /p' "$T/desync-$1.txt"
	got=$(tail -1 "$T/desync-$1.txt")
	case "$got" in
	"severe "*" refused "*)
		read -r _ total _ refused <<<"$got"
		if [ "$total" -ge "$2" ] && [ "$total" = "$refused" ]; then
			ok "desync ($1): all $total Severe cases refused with 400 and close"
		else
			not_ok "desync ($1): $refused of $total Severe cases refused with 400 and close"
		fi ;;
	*) not_ok "desync ($1): runner failed: $(tail -3 "$T/desync-$1.txt")" ;;
	esac
}
before=$(grep -c -e /orders -e /search "$T/b1.log")
desync own 20 "$TESTDATA/desync"
expect "desync (own): no Severe case reached the backend" \
    "$(( $(grep -c -e /orders -e /search "$T/b1.log") - before ))" 0
if conformance "desync (conformance): all Severe cases refused with 400 and close" \
    "desync (conformance): no Severe case reached the backend"; then
	desync conformance 27 "$SHARED/testdata/http-desync-guardian"
	got=$(grep -c -e /foo/bar -e /test.html -e endpoint_ "$T/b1.log")
	expect "desync (conformance): no Severe case reached the backend" "$got" 0
fi

check "proxy-d alive after all of it" alive app
got=$(curl -s -H 'Host: svc' http://127.0.0.1:$P/)
expect "proxy still serving at the end" "$got" "hello from mk-backend b1"
trap - EXIT
finish
