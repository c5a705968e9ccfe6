#!/bin/bash
# SPDX-License-Identifier: ISC
# A /metrics past the 64 MiB an output buffer may hold (2,000 label sets
# of some 39 KB each): stats-d streams it whole, chunk by chunk, never a
# 200 cut short; its own meshkit_* metrics come first; promtool reads all
# of it; a scraper that hangs up midway costs nothing; its memory stays
# far below the body's size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
H=$(port 1)
ports_free "$H"
mesh_stats "$H"
stats_d
wait_port "$H"

# 2,000 destination workloads, 250 records a batch
for b in $(seq 0 7); do
	{
		printf 'meshkit/1 records\nworkload: book-v1\nnamespace: default\n'
		printf 'label: app=book\nlabel: version=v1\n'
		for i in $(seq $((b * 250 + 1)) $((b * 250 + 250))); do
			printf '\nreporter: source\nstart-us: 1764000000%06d\n' "$i"
			printf 'duration-us: 3000\ncode: 200\nmethod: GET\npath: /\n'
			printf 'service: rating.default.svc.cluster.local\n'
			printf 'destination-workload: rating-%s\n' "$i"
			printf 'destination-namespace: default\nsecurity: mutual_tls\n'
		done
	} >"$T/records.txt"
	nngcat --push --dial "ipc://$RUN/stats-records.sock" --file "$T/records.txt"
done
metric() { curl -s --max-time 30 "http://127.0.0.1:$H/metrics" | grep -m1 "^$1 " | awk '{print $2}'; }
until_ok 10 eval '[ "$(metric meshkit_stats_records_total)" = 2000 ]'
before=$(rss stats-d)

code=$(curl -s -o "$T/metrics.txt" -w '%{http_code}' --max-time 60 \
    "http://127.0.0.1:$H/metrics")
expect "/metrics answers 200" "$code" 200
bytes=$(wc -c <"$T/metrics.txt")
check "the body passes 64 MiB: $bytes bytes" test "$bytes" -gt 67108864
expect "every series, in every family: 2000 counters" \
	"$(grep -c '^istio_requests_total{' "$T/metrics.txt")" 2000
expect "2000 histogram counts in the last family" \
	"$(grep -c '^istio_response_bytes_count{' "$T/metrics.txt")" 2000
check "the body ends with a whole line" eval \
	'[ "$(tail -c 1 "$T/metrics.txt" | od -An -c | tr -d " ")" = "\\n" ]'
first_istio=$(grep -n -m1 '^istio_requests_total{' "$T/metrics.txt" | cut -d: -f1)
last_meshkit=$(grep -n '^meshkit_' "$T/metrics.txt" | tail -1 | cut -d: -f1)
check "stats-d's own metrics before Istio's ($last_meshkit < $first_istio)" \
	test "$last_meshkit" -lt "$first_istio"
expect "meshkit_stats_records_total in the body" \
	"$(grep -m1 '^meshkit_stats_records_total ' "$T/metrics.txt" | awk '{print $2}')" 2000
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1
check "promtool: only the _milliseconds lint" eval \
	'! grep -v "^istio_request_duration_milliseconds use base unit \"seconds\" instead of \"milliseconds\"$" "$T/promtool.out" | grep -q .'
check "promtool: it did look at the histogram" \
	grep -q "^istio_request_duration_milliseconds use base unit" "$T/promtool.out"

# scrapers that hang up after the first bytes, and two at once
for _ in 1 2 3 4 5; do
	curl -s --max-time 10 "http://127.0.0.1:$H/metrics" | head -c 1000 >/dev/null
done
curl -s -o "$T/a.txt" --max-time 60 "http://127.0.0.1:$H/metrics" &
a=$!
curl -s -o "$T/b.txt" --max-time 60 "http://127.0.0.1:$H/metrics" &
b=$!
wait "$a" "$b"
expect "two scrapes at once: both whole" \
	"$(grep -c '^istio_response_bytes_count{' "$T/a.txt" "$T/b.txt" | cut -d: -f2 | tr '\n' ' ')" "2000 2000 "
expect "HEAD /metrics: 200" "$(curl -s -I -o /dev/null -w '%{http_code}' \
    --max-time 10 "http://127.0.0.1:$H/metrics")" 200
check "stats-d alive" alive stats-d
held=$(rss stats-d)
if sanitized; then
	skip "stats-d's memory: no copy of the body" "RSS under the sanitizers ($held KB) is theirs"
else
	check "stats-d's memory: no copy of the body ($before -> $held KB, < +32 MB)" \
		test $((held - before)) -lt 32768
fi
rm -f "$T/metrics.txt" "$T/a.txt" "$T/b.txt"

trap - EXIT
finish
