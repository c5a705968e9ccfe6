#!/bin/bash
# SPDX-License-Identifier: ISC
# The article's bookstore (etc/bookstore/) on this test's own ports: the
# book service and rating v1/v2, each behind a proxy-d, one route-d,
# breaker-d and authz-d.
# With no VirtualService the book's ratings alternate 1 (v1) and 3 (v2);
# a misbehaving v2 makes about half of the books fail; behaving again
# heals them; every rating logs "Request N".
. "$(dirname "$0")/lib.sh"

BOOK_IN=$(port 1)	# 8080  book's proxy-d, inbound
BOOK_APP=$(port 2)	# 9080  the book app
R1_APP=$(port 3)	# 9081  rating v1
R2_APP=$(port 4)	# 9082  rating v2
BOOK_OUT=$(port 5)	# 15001 book's proxy-d, outbound
R1_IN=$(port 6)		# 15081 rating v1's proxy-d, inbound
R2_IN=$(port 7)		# 15082 rating v2's proxy-d, inbound
N=20

for p in "$BOOK_IN" "$BOOK_APP" "$R1_APP" "$R2_APP" "$BOOK_OUT" "$R1_IN" "$R2_IN"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

# The demo's own files, moved onto this test's ports.
for f in "$TOP"/etc/bookstore/*.yaml; do
	[ -f "$f" ] || continue
	sed -e "s/127\.0\.0\.1:8080\b/127.0.0.1:$BOOK_IN/g" \
	    -e "s/127\.0\.0\.1:9080\b/127.0.0.1:$BOOK_APP/g" \
	    -e "s/127\.0\.0\.1:9081\b/127.0.0.1:$R1_APP/g" \
	    -e "s/127\.0\.0\.1:9082\b/127.0.0.1:$R2_APP/g" \
	    -e "s/127\.0\.0\.1:15001\b/127.0.0.1:$BOOK_OUT/g" \
	    -e "s/127\.0\.0\.1:15081\b/127.0.0.1:$R1_IN/g" \
	    -e "s/127\.0\.0\.1:15082\b/127.0.0.1:$R2_IN/g" \
	    -e "s/\(http: *\)8080\b/\1$BOOK_IN/" \
	    -e "s/\(http: *\)15081\b/\1$R1_IN/" \
	    -e "s/\(http: *\)15082\b/\1$R2_IN/" \
	    "$f" >"$T/etc/$(basename "$f")"
done
left=$(cat "$T"/etc/* | grep -v '^ *#' | grep -cE \
    '127\.0\.0\.1:(8080|908[012]|15001|1508[12])\b|http: *(8080|1508[12])\b')
expect "every fixed demo port moved to this test's ports" "$left" 0
validates() { "$BIN/meshctl" validate "$T"/etc/* >/dev/null; }
check "the bookstore config validates" validates

route_d
# book's proxy-d asks authz-d and breaker-d, as in the demo
spawn breaker-d "$BIN/breaker-d" -c "$T/etc"
spawn authz-d "$BIN/authz-d" -c "$T/etc"
wait_file "$MESHKIT_RUNDIR/breaker.sock"
wait_file "$MESHKIT_RUNDIR/authz.sock"
spawn app-rating-v1 "$BIN/rating" -l "127.0.0.1:$R1_APP" -v v1
spawn app-rating-v2 "$BIN/rating" -l "127.0.0.1:$R2_APP" -v v2
spawn app-book "$BIN/book" -l "127.0.0.1:$BOOK_APP" \
    -r "127.0.0.1:$BOOK_OUT" -s rating
wait_port "$R1_APP"
wait_port "$R2_APP"
wait_port "$BOOK_APP"
proxy_d rating-v1 "$R1_IN"
proxy_d rating-v2 "$R2_IN"
proxy_d book "$BOOK_IN"
wait_port "$BOOK_OUT"

# books NAME : N requests for /book/1 through book's proxy-d, one
# "CODE BODY" a line in $T/NAME
books() {
	for _ in $(seq "$N"); do
		curl -s -o "$T/body" -w '%{http_code} ' --max-time 5 \
		    "http://127.0.0.1:$BOOK_IN/book/1"
		cat "$T/body" 2>/dev/null
		echo
		rm -f "$T/body"
	done >"$T/$1"
}
count() { grep -c -- "$2" "$T/$1"; }

# The apps themselves answer the article's API.
expect "rating v1 rates book 1 with 1" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$R1_APP/rate/1")" \
    '{"bookId":1,"rate":1}'
expect "rating v2 rates book 1 with 3" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$R2_APP/rate/1")" \
    '{"bookId":1,"rate":3}'
expect "rating v2 rates each book the same every time" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$R2_APP/rate/7" \
    "http://127.0.0.1:$R2_APP/rate/7" | sort -u | wc -l)" 1
expect "an unknown path is 404" "$(curl -s -o /dev/null -w '%{http_code}' \
    --max-time 5 "http://127.0.0.1:$R1_APP/rate/x")" 404

# No VirtualService: round robin over v1 and v2.
books rr
expect "every /book/1 answered 200" "$(count rr '^200 ')" "$N"
expect "half the books rated 1 (v1)" \
    "$(count rr '^200 {"bookId":1,"name":"Book 1","rating":1}$')" $((N / 2))
expect "half the books rated 3 (v2)" \
    "$(count rr '^200 {"bookId":1,"name":"Book 1","rating":3}$')" $((N / 2))
expect "ratings alternate" "$(awk 'NR > 1 && $0 == prev {n++} {prev = $0}
    END {print n + 0}' "$T/rr")" 0

# v2 misbehaves: its half of the books fail, visibly.
expect "v2 misbehaves" "$(curl -s -o /dev/null -w '%{http_code}' \
    --max-time 5 "http://127.0.0.1:$R2_APP/rate/misbehave")" 200
books bad
fail=$(count bad '^503 .*rating service failed')
good=$(count bad '^200 {"bookId":1,"name":"Book 1","rating":1}$')
if [ "$fail" -ge $((N / 2 - 3)) ] && [ "$fail" -le $((N / 2 + 3)) ] &&
    [ $((fail + good)) -eq "$N" ]; then
	ok "about half of /book/1 fail while v2 misbehaves ($fail of $N)"
else
	not_ok "misbehaving v2: $fail of $N failed, $good rated 1 (want about half failing, the rest rated 1)"
fi

# v2 behaves again: every book is rated.
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$R2_APP/rate/behave"
books healed
expect "every /book/1 answered 200 once v2 behaves" \
    "$(count healed '^200 {"bookId":1,"name":"Book 1","rating":[13]}$')" "$N"

# A route on a request header, in bookinfo's end-user: jason style,
# applied with meshctl: with the header always v2 (3), without it, or
# with another user, always v1 (1).  The book service passes end-user on.
cat >"$T/jason.yaml" <<EOF
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: rating
spec:
  hosts:
  - rating
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: rating
        subset: version-v2
  - route:
    - destination:
        host: rating
        subset: version-v1
EOF
check "meshctl apply: the walkthrough's DestinationRule and the header route" \
    "$BIN/meshctl" -c "$T/etc" apply \
    -f "$OWN/destination-rule-v1-v2.yml" \
    -f "$T/jason.yaml"
# user_books NAME USER : N books asked as USER ("" for no header)
user_books() {
	for _ in $(seq "$N"); do
		if [ -n "$2" ]; then
			curl -s --max-time 5 -H "end-user: $2" \
			    "http://127.0.0.1:$BOOK_IN/book/1"
		else
			curl -s --max-time 5 "http://127.0.0.1:$BOOK_IN/book/1"
		fi
		echo
	done >"$T/$1"
}
# route-d picks the change up by itself; wait until jason is on v2
for _ in $(seq 50); do
	user_books probe jason
	[ "$(count probe '"rating":3}$')" = "$N" ] && break
	sleep 0.1
done
user_books jason jason
user_books anonymous ""
user_books alice alice
expect "end-user: jason always rated 3 (v2)" \
    "$(count jason '^{"bookId":1,"name":"Book 1","rating":3}$')" "$N"
expect "no end-user always rated 1 (v1)" \
    "$(count anonymous '^{"bookId":1,"name":"Book 1","rating":1}$')" "$N"
expect "end-user: alice always rated 1 (v1)" \
    "$(count alice '^{"bookId":1,"name":"Book 1","rating":1}$')" "$N"
# the article's own DestinationRule in its place says the same
if conformance "conformance: the article's DestinationRule, same subsets"; then
	"$BIN/meshctl" -c "$T/etc" apply \
	    -f "$SHARED/testdata/article/destination-rule-v1-v2.yml" >/dev/null
	sleep 1.5
	user_books jason2 jason
	user_books alice2 alice
	expect "conformance: the article's DestinationRule, same subsets" \
	    "$(count jason2 '"rating":3}$') $(count alice2 '"rating":1}$')" \
	    "$N $N"
fi

# Each rating logs "Request N", counting every /rate/{id}.
for v in v1 v2; do
	log=$T/app-rating-$v.log
	lines=$(grep -c 'Request [0-9]' "$log")
	last=$(sed -n 's/.*Request \([0-9]*\)$/\1/p' "$log" | tail -1)
	if [ "$lines" -ge $((N + N / 2)) ] && [ "$last" = "$lines" ]; then
		ok "rating $v logged Request 1..$last"
	else
		not_ok "rating $v logged $lines Request lines, the last 'Request ${last:-}'"
	fi
done

# The book service names the rating failure; it does not hang or crash.
stop rating-v1
stop rating-v2
code=$(curl -s -o "$T/down" -w '%{http_code}' --max-time 10 \
    "http://127.0.0.1:$BOOK_APP/book/1")
if [ "$code" = 503 ] && grep -q 'rating service failed' "$T/down"; then
	ok "no rating proxy: /book/1 is 503 with the reason"
else
	not_ok "no rating proxy: got $code $(cat "$T/down")"
fi
check "book still serves" alive app-book

finish
