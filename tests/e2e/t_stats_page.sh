#!/bin/bash
# SPDX-License-Identifier: ISC
# stats-d's graph page in headless Chromium, with the bookstore demo
# under load: the page draws book-service, the rating service and rating
# v1 and v2 apart, edges with their rate, error rate and p99, and a panel
# per service; it loads nothing from outside.  A screenshot is kept
# (run/e2e/t_stats_page.png, and in the test's logs).  The demo's fixed
# ports: run under flock /tmp/meshkit-demo.lock.
. "$(dirname "$0")/lib.sh"

export MESHKIT_BIN="$BIN" MESHKIT_SHARED="$SHARED"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	skip "the page in headless Chromium" "no chromium (scripts/install-deps installs it)"
	finish
fi
demo_stop() { "$TOP/scripts/demo" stop >/dev/null 2>&1; }
trap 'demo_stop; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM
if ! "$TOP/scripts/demo" start >"$T/demo.log" 2>&1; then
	not_ok "scripts/demo start"
	cat "$T/demo.log"
	demo_stop
	finish
fi

# load: /book/1 until the pictures are taken (60 s at most), rating v2
# failing after the first 5 s
siege -q -j --no-parser -t 60S -c 3 -d 0.02 http://127.0.0.1:8080/book/1 \
	>"$T/siege.json" 2>"$T/siege.err" &
sg=$!
sleep 5
curl -s -o /dev/null http://127.0.0.1:9082/rate/misbehave
sleep 4

chrome() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --no-first-run --user-data-dir="$T/chromium" \
	    --virtual-time-budget=4000 "$@" http://127.0.0.1:15090/ 2>>"$T/chromium.log"
}
chrome --dump-dom >"$T/page.html"
chrome --window-size=1280,1000 --screenshot="$T/graph.png" >/dev/null
kill -INT "$sg" 2>/dev/null
wait "$sg"
curl -s -o /dev/null http://127.0.0.1:9082/rate/behave

check "the page loaded its data" grep -q 'data-loaded="yes"' "$T/page.html"
node() { grep -o "<g class=\"node $1\"[^>]*data-id=\"$2\"" "$T/page.html"; }
check "a workload node for book-service" test -n "$(node workload default/book-service)"
check "a service node for rating" test -n "$(node service rating.default.svc.cluster.local)"
check "rating v1 and v2 apart" eval \
	'[ -n "$(node workload default/rating-v1)" ] && [ -n "$(node workload default/rating-v2)" ]'
check "versions on the workloads" grep -q 'data-id="default/rating-v2"[^>]*data-version="v2.0.0"\|data-version="v2.0.0"[^>]*data-id="default/rating-v2"' "$T/page.html"
edge() { grep -o "<g class=\"edge[^\"]*\" data-from=\"$1\" data-to=\"$2\"[^>]*>" "$T/page.html"; }
e=$(edge default/book-service rating.default.svc.cluster.local)
check "edge book-service -> rating" test -n "$e"
rate=$(sed -n 's/.*data-rate="\([0-9.]*\)".*/\1/p' <<<"$e")
check "its rate is some requests/s ($rate)" awk -v r="$rate" 'BEGIN { exit !(r > 1) }'
e2=$(edge rating.default.svc.cluster.local default/rating-v2)
err=$(sed -n 's/.*data-error-rate="\([0-9.]*\)".*/\1/p' <<<"$e2")
check "rating -> v2: errors while v2 misbehaves ($err)" awk -v r="$err" 'BEGIN { exit !(r > 0.1) }'
check "rating -> v2 drawn as failing" grep -q 'class="edge failing" data-from="rating.default.svc.cluster.local" data-to="default/rating-v2"' <<<"$e2"
p99=$(sed -n 's/.*data-p99="\([0-9.]*\)".*/\1/p' <<<"$e")
check "a p99 on the edge ($p99 ms)" awk -v r="$p99" 'BEGIN { exit !(r > 0) }'
check "edges labelled with rps, error %, p99" grep -qE '[0-9.]+ rps' "$T/page.html"
check "a panel per service: rate, errors, duration" eval \
	'grep -q "data-service=\"rating.default.svc.cluster.local\"" "$T/page.html" &&
	 grep -q "data-service=\"book-service.default.svc.cluster.local\"" "$T/page.html" &&
	 grep -q "Request rate" "$T/page.html" && grep -q "Error rate (5xx)" "$T/page.html" &&
	 grep -q "Duration p50 / p90 / p99" "$T/page.html"'
check "the panels draw lines" grep -q '<polyline points="[0-9]' "$T/page.html"
# book -> rating is mutual TLS in the demo (tls-d's certificates),
# the callers outside the mesh -> book plain text
# edge_lock FROM TO: the edge's element holds a lock
edge_lock() {
	python3 - "$T/page.html" "$1" "$2" <<'PY'
import sys
html = open(sys.argv[1]).read()
i = html.find('data-from="%s" data-to="%s"' % (sys.argv[2], sys.argv[3]))
j = html.find('<g class="edge', i + 1)
sys.exit(0 if i >= 0 and 'class="lock"' in html[i:j if j > 0 else len(html)] else 1)
PY
}
check "a lock on book-service -> rating (mutual TLS)" eval \
	'grep -q "data-mtls=\"true\"" <<<"$e" && edge_lock default/book-service rating.default.svc.cluster.local'
check "and on rating -> v2" grep -q 'data-mtls="true"' <<<"$e2"
check "none from outside the mesh to book (plain text)" eval \
	'grep -q "data-mtls=\"false\"" <<<"$(edge unknown book-service.default.svc.cluster.local)" &&
	 ! edge_lock unknown book-service.default.svc.cluster.local'
check "nothing from outside: no http(s) URL the page loads" eval \
	'! grep -oE "(src|href)=\"https?://" "$T/page.html" | grep -q .'
check "a screenshot" test -s "$T/graph.png"
mkdir -p "$TOP/run/e2e"
cp "$T/graph.png" "$TOP/run/e2e/t_stats_page.png" 2>/dev/null
demo_stop

# the lock on an mTLS edge: records pushed by hand to a stats-d of ours
H=$(port 1)
REC=ipc://$MESHKIT_RUNDIR/stats-records.sock
spawn stats-d "$BIN/stats-d" -c "$T/etc" -H "127.0.0.1:$H" -s "ipc://$MESHKIT_RUNDIR/stats.sock" -r "$REC"
wait_port "$H"
msg=$(printf 'meshkit/1 records\nworkload: a\nnamespace: default\n\nreporter: source\nstart-us: 1\nduration-us: 1000\ncode: 200\nservice: b.default.svc.cluster.local\ndestination-workload: b-v1\ndestination-namespace: default\nsecurity: mutual_tls\n')
for _ in 1 2 3; do nngcat --push --dial "$REC" --data "$msg"; done
sleep 0.3
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run \
	--user-data-dir="$T/chromium2" --virtual-time-budget=3000 --dump-dom \
	"http://127.0.0.1:$H/" >"$T/page2.html" 2>>"$T/chromium.log"
check "an mTLS edge has its lock" eval \
	'grep -o "<g class=\"edge\" data-from=\"default/a\"[^>]*data-mtls=\"true\"" "$T/page2.html" | grep -q . && grep -q "class=\"lock\"" "$T/page2.html"'

trap - EXIT
finish
