#!/bin/bash
# SPDX-License-Identifier: ISC
# The demo as a user meets it: `scripts/demo start`, then every hint it
# prints run as printed, from the top of the repository with nothing in
# the environment (meshctl finds the demo by itself), then
# scripts/walkthrough on meshkit's own files, then `scripts/demo stop`.
# With the conformance data beside the repository, the walkthrough also
# replays the article's own files (--article) with Istio's tokens.
# The demo's addresses are fixed (8080, 9080-9082, 15001, 15081-15082):
# run under flock /tmp/meshkit-demo.lock.
. "$(dirname "$0")/lib.sh"

export MESHKIT_BIN="$BIN" MESHKIT_SHARED="$SHARED"
demo_stop() { "$TOP/scripts/demo" stop >/dev/null 2>&1; }
trap 'demo_stop; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM
# as in a new terminal: no MESHKIT_RUNDIR, no MESHKIT_CONFIG, no MESHKIT_USER
fresh() { env -u MESHKIT_RUNDIR -u MESHKIT_CONFIG -u MESHKIT_USER "$@"; }

if ! fresh "$TOP/scripts/demo" start >"$T/demo.log" 2>&1; then
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
check "the demo's keys and tokens are its own, made at start" \
    test -s "$TOP/run/demo/jwt/jwks.json" -a -s "$TOP/run/demo/jwt/role-customer.jwt"

# --- meshctl with no flags, from anywhere, finds the demo
RUNDIR=$(cd "$TOP/run/demo/sock" && pwd -P)
ETCDIR=$(cd "$TOP/run/demo/etc" && pwd -P)
W=$TOP/etc/bookstore/walkthrough
mc() { (cd / && fresh timeout 20 "$BIN/meshctl" "$@"); }
out=$(mc status 2>&1)
expect "meshctl status, no flags: exit 0" "$?" 0
check "meshctl status: every daemon up" \
    test "$(grep -cE '^(route|breaker|authz)-d +up' <<<"$out")" = 3
check "meshctl status: the demo's sockets, through its link" \
    grep -qF "sockets   $RUNDIR (/tmp/meshkit-$(id -u)/current)" <<<"$out"
check "meshctl status: route-d's config directory" \
    grep -qF "config    $ETCDIR (route-d)" <<<"$out"
out=$(mc apply -f "$W/destination-rule-v1-v2.yml" -f "$W/virtual-service-v1.yml" 2>&1)
expect "meshctl apply -f, no flags: exit 0" "$?" 0
check "meshctl apply wrote into the demo's config" \
    test "$(grep -l 'written by meshctl apply' "$ETCDIR"/* 2>/dev/null | wc -l)" = 2
check "meshctl analyze, no arguments: the demo's directory" \
    eval 'mc analyze 2>&1 | grep -qF "No validation issues found when analyzing $ETCDIR."'
check "meshctl get, no flags: the VirtualService" \
    eval 'mc get virtualservice 2>&1 | grep -q rating'
v1() { [ "$(curl -s --max-time 5 http://127.0.0.1:8080/book/1 | sed -n 's/.*"rating":\([0-9]*\).*/\1/p')$(curl -s --max-time 5 http://127.0.0.1:8080/book/1 | sed -n 's/.*"rating":\([0-9]*\).*/\1/p')" = 11 ]; }
check "the applied route is in force: always rating 1" until_ok 10 v1
check "meshctl route explain, no flags: subset version-v1" \
    eval 'mc route explain --host rating --workload book 2>&1 | grep -q "^subset: *version-v1"'
check "meshctl breaker, no flags: the rating endpoints" \
    eval 'mc breaker 2>&1 | grep -q "127.0.0.1:15081"'
check "meshctl authz check, no flags: allowed" \
    eval 'mc authz check --workload book --path /book/1 2>&1 | grep -q "^decision: *allow"'
out=$(mc delete -f "$W/virtual-service-v1.yml" -f "$W/destination-rule-v1-v2.yml" 2>&1)
expect "meshctl delete -f, no flags: exit 0" "$?" 0
check "meshctl delete removed what apply wrote" \
    test "$(grep -l 'written by meshctl apply' "$ETCDIR"/* 2>/dev/null | wc -l)" = 0
out=$(cd / && env MESHKIT_RUNDIR=/nonexistent "$BIN/meshctl" status 2>&1)
check "MESHKIT_RUNDIR wins over the demo's link" \
    grep -q 'no socket at /nonexistent/route.sock' <<<"$out"
out=$(mc -r /nonexistent status 2>&1)
check "-r wins over the demo's link" \
    grep -q 'no socket at /nonexistent/route.sock' <<<"$out"
# a link another user could have planted is not followed
CUR=/tmp/meshkit-$(id -u)
chmod 777 "$CUR"
out=$(mc status 2>&1)
chmod 700 "$CUR"
check "a link in a directory others may write is not followed" \
    grep -q 'no socket at /run/meshkit/route.sock' <<<"$out"

# --- every hint the demo printed, as printed, from the top directory
# (the walkthrough hints below, with the 3 minute ejection shortened)
hints=$(sed -n 's/^  \(\(curl\|tail\|scripts\/walkthrough\|[^ ]*meshctl\) .*\)$/\1/p' \
    "$T/demo.log" | sed 's/  *#.*$//')
check "the demo printed its hints" test "$(wc -l <<<"$hints")" -ge 9
walks=()
while IFS= read -r h; do
	[ -n "$h" ] || continue
	case "$h" in
	scripts/walkthrough*) walks+=("$h"); continue ;;
	"tail -f "* | *"meshctl top")
		# live until interrupted: a second of it is the hint working
		(cd "$TOP" && fresh timeout 1 bash -c "$h") >/dev/null 2>&1
		rc=$?
		[ "$rc" = 124 ] && rc=0 ;;
	*)
		out=$(cd "$TOP" && fresh timeout 20 bash -c "$h" 2>&1)
		rc=$? ;;
	esac
	expect "hint works as printed: $h" "$rc" 0
	case "$h" in
	*" apply -f "*virtual-service-v1.yml) sleep 1.5 ;;
	esac
done <<<"$hints"
check "a hint runs the walkthrough" test "${#walks[@]}" -ge 1

# walk LABEL HINT : one walkthrough run, each verdict a test line
walk() {
	(cd "$TOP" && fresh WALKTHROUGH_EJECTION=5s timeout 300 bash -c "$2") \
	    >"$T/walkthrough-$1.log" 2>&1
	while IFS= read -r line; do
		case "$line" in
		*"-> NOT AS EXPECTED: "*) not_ok "walkthrough ($1): ${line#*-> }" ;;
		*"-> "*) ok "walkthrough ($1): ${line#*-> }" ;;
		esac
	done <"$T/walkthrough-$1.log"
	grep -E '^== |requests:|^walkthrough' "$T/walkthrough-$1.log"
	check "walkthrough ($1) exits 0" grep -q 'every step as in the article' \
	    "$T/walkthrough-$1.log"
}
for h in "${walks[@]}"; do
	case "$h" in
	*--article*) walk article "$h" ;;
	*) walk own "$h" ;;
	esac
done
if [ -d "$SHARED/testdata" ]; then
	check "with the article beside it, the demo prints the --article hint" \
	    grep -q -- '--article' <<<"${walks[*]}"
else
	# each step the article's own files would have been checked on
	why="no conformance data ($SHARED/testdata)"
	skip "with the article beside it, the demo prints the --article hint" "$why"
	sed -n 's/^ *-> \(NOT AS EXPECTED: \)\{0,1\}//p' "$T/walkthrough-own.log" |
	    while IFS= read -r v; do
		skip "walkthrough (article): $v" "$why"
	done
	skip "walkthrough (article) exits 0" "$why"
fi
check "rating v2 logs Request N" grep -q 'Request [0-9]' \
	"$TOP/run/demo/logs/rating-v2.log"
demo_stop
check "scripts/demo stop leaves nothing running" \
	bash -c "! curl -s --max-time 2 http://127.0.0.1:8080/book/1"
check "scripts/demo stop removes meshctl's link to it" \
	test ! -e "/tmp/meshkit-$(id -u)/current"
out=$(mc status 2>&1)
check "meshctl status, demo stopped: says where it looked" \
	grep -q 'no socket at /run/meshkit/route.sock' <<<"$out"
finish
