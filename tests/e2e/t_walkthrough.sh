#!/bin/bash
# The article's Discovery section on the running demo, as a user would
# do it: `scripts/demo start`, then the article's own files applied and
# deleted with meshctl (scripts/walkthrough), then `scripts/demo stop`.
# The demo's addresses are fixed (8080, 9080-9082, 15001, 15081-15082).
. "$(dirname "$0")/lib.sh"

export MESHKIT_BIN="$BIN" MESHKIT_SHARED="$SHARED"
demo_stop() { "$TOP/scripts/demo" stop >/dev/null 2>&1; }
trap 'demo_stop; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM

if ! "$TOP/scripts/demo" start >"$T/demo.log" 2>&1; then
	not_ok "scripts/demo start (see below)"
	cat "$T/demo.log"
	demo_stop
	finish
fi
ok "scripts/demo start returns once the bookstore answers"
got=$(curl -s --max-time 5 http://127.0.0.1:8080/book/1 |
	sed -n 's/.*"bookId":\([0-9]*\),"name":"\([^"]*\)","rating":\([0-9]*\).*/\1 \2 \3/p')
case "$got" in
"1 Book 1 1" | "1 Book 1 3") ok "GET /book/1 through book's proxy-d: $got" ;;
*) not_ok "GET /book/1 (got '$got')" ;;
esac

WALKTHROUGH_EJECTION=5s WALKTHROUGH_REQUESTS=1000 timeout 300 "$TOP/scripts/walkthrough" \
	>"$T/walkthrough.log" 2>&1
while IFS= read -r line; do
	case "$line" in
	*"-> NOT AS EXPECTED: "*) not_ok "walkthrough: ${line#*-> }" ;;
	*"-> "*) ok "walkthrough: ${line#*-> }" ;;
	esac
done <"$T/walkthrough.log"
grep -E '^== |requests:' "$T/walkthrough.log"
check "walkthrough exits 0" grep -q 'every step as in the article' \
	"$T/walkthrough.log"
check "rating v2 logs Request N" grep -q 'Request [0-9]' \
	"$TOP/run/demo/logs/rating-v2.log"
demo_stop
check "scripts/demo stop leaves nothing running" \
	bash -c "! curl -s --max-time 2 http://127.0.0.1:8080/book/1"
finish
