#!/bin/bash
# SPDX-License-Identifier: ISC
# A real Prometheus on loopback scrapes stats-d while the bookstore demo
# is under load (rating v2 misbehaving part of the time).  Every PromQL
# expression of Istio's mesh, service and workload dashboards
# (../shared/testdata/istio/dashboards, Grafana's variables filled in)
# that concerns HTTP returns data, those of mutual TLS traffic (book ->
# rating) and of plain text alike.  Expressions of our own
# always run: the request count equals what siege sent, the 5xx count
# what siege saw fail, quantiles lie within the buckets.  The demo's
# fixed ports: run under flock /tmp/meshkit-demo.lock.
. "$(dirname "$0")/lib.sh"

export MESHKIT_BIN="$BIN" MESHKIT_SHARED="$SHARED"
PROMETHEUS=$(command -v prometheus || true)
if [ -z "$PROMETHEUS" ]; then
	skip "Istio's dashboards on a real Prometheus" "no prometheus (scripts/install-deps installs it)"
	finish
fi
PP=$(port 1)
PROM=http://127.0.0.1:$PP
demo_stop() { "$TOP/scripts/demo" stop >/dev/null 2>&1; }
trap 'demo_stop; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM
if ! "$TOP/scripts/demo" start >"$T/demo.log" 2>&1; then
	not_ok "scripts/demo start"
	cat "$T/demo.log"
	demo_stop
	finish
fi
cat >"$T/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: stats-d
  static_configs:
  - targets: ['127.0.0.1:15090']
YAML
spawn prometheus "$PROMETHEUS" --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$PP" \
	--log.level=warn
wait_port "$PP"

# q EXPR: the first value of an instant query ("" when none)
q() {
	curl -s --max-time 10 --data-urlencode "query=$1" "$PROM/api/v1/query" |
	    jq -r '.data.result[0].value[1] // empty'
}
up() { [ "$(q 'up{job="stats-d"}')" = 1 ]; }
until_ok 20 up
check "Prometheus scrapes stats-d" up

BOOK='reporter="destination",destination_workload="book-service"'
total() { q "sum(istio_requests_total{$BOOK}) or vector(0)"; }
errors() { q "sum(istio_requests_total{$BOOK,response_code=~\"5..\"}) or vector(0)"; }
sleep 2
t0=$(total)
e0=$(errors)

# 24 s of /book/1; rating v2 fails from the 8th to the 16th second
siege -q -j --no-parser -t 24S -c 3 -d 0.05 http://127.0.0.1:8080/book/1 \
	>"$T/siege.json" 2>"$T/siege.err" &
sg=$!
sleep 8
curl -s -o /dev/null http://127.0.0.1:9082/rate/misbehave
sleep 8
curl -s -o /dev/null http://127.0.0.1:9082/rate/behave
wait "$sg"
sleep 3		# the last batches, and two scrapes
sent=$(jq '.transactions + .failed_transactions' "$T/siege.json")
failed=$(jq '.failed_transactions' "$T/siege.json")
t1=$(total)
e1=$(errors)
# siege's time limit cuts off the requests in flight (3 at most, one a
# user): proxy-d saw and counted them, siege did not
d=$((t1 - t0 - sent))
check "istio_requests_total counts what siege sent ($((t1 - t0)), siege $sent)" \
	test "$d" -ge 0 -a "$d" -le 3
check "siege saw failures while v2 misbehaved ($failed)" test "$failed" -gt 0
expect "the 5xx count is what siege saw fail" "$((e1 - e0))" "$failed"
ratio=$(q "sum(increase(istio_requests_total{$BOOK,response_code=~\"5..\"}[40s])) / sum(increase(istio_requests_total{$BOOK}[40s]))")
want=$(awk -v f="$failed" -v s="$sent" 'BEGIN { print f / s }')
check "the 5xx ratio ($ratio) agrees with siege's ($want)" awk -v a="$ratio" \
	-v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.05 && a > 0) }'
H='istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload="book-service"}'
p50=$(q "histogram_quantile(0.5, sum(rate(${H}[30s])) by (le))")
p99=$(q "histogram_quantile(0.99, sum(rate(${H}[30s])) by (le))")
check "p50 ($p50 ms) and p99 ($p99 ms) within the buckets: 0 < p50 <= p99 <= 250" \
	awk -v a="$p50" -v b="$p99" 'BEGIN { exit !(a > 0 && a <= b && b <= 250) }'
# a quantile lies inside the bucket holding that rank
inb=$(curl -s --max-time 10 --data-urlencode "query=sum(increase(${H}[40s])) by (le)" \
	"$PROM/api/v1/query" | jq -r '.data.result[] | "\(.metric.le) \(.value[1])"' |
	sort -g | awk -v p="$p50" '
	$1 != "+Inf" { n++; le[n] = $1; c[n] = $2 }
	$1 == "+Inf" { tot = $2 }
	END { rank = 0.5 * tot; lo = 0
	      for (i = 1; i <= n; i++) { if (c[i] >= rank) { print (p >= lo && p <= le[i]) ? "yes" : "no " lo "-" le[i]; exit } lo = le[i] } }')
expect "p50 lies in the bucket of the median" "$inb" yes
check "reporter=source series: book-service's calls to rating" eval \
	'[ -n "$(q "sum(istio_requests_total{reporter=\"source\",source_workload=\"book-service\",destination_service=\"rating.default.svc.cluster.local\"})")" ]'
check "proxy-d's own counters reach Prometheus" eval \
	'[ -n "$(q "meshkit_proxy_requests_total{workload=\"book-service\"}")" ]'
check "the daemons' counters reach Prometheus" eval \
	'[ "$(q "meshkit_daemon_up{daemon=\"route-d\"}")" = 1 ] && [ -n "$(q meshkit_route_queries_total)" ]'

check "mutual TLS: book -> rating, both reporters, with both SPIFFE principals" eval \
	'[ "$(q "count(count by (reporter) (istio_requests_total{connection_security_policy=\"mutual_tls\",destination_service=\"rating.default.svc.cluster.local\",source_principal=\"spiffe://cluster.local/ns/default/sa/book-service\",destination_principal=\"spiffe://cluster.local/ns/default/sa/rating-service\"}))")" = 2 ]'
check "plain text: outside -> book (connection_security_policy none)" eval \
	'[ -n "$(q "sum(istio_requests_total{connection_security_policy=\"none\",reporter=\"destination\",destination_workload=\"book-service\"})")" ]'
check "certificate expiry: the three proxies' (state ok) and tls-d's CA" eval \
	'[ "$(q "count(meshkit_proxy_cert_expiry_timestamp_seconds > time())")" = 3 ] &&
	 [ "$(q "sum(meshkit_proxy_cert_state{state=\"ok\"})")" = 3 ] &&
	 [ -n "$(q "meshkit_tls_ca_not_after > time()")" ]'
curl -s --max-time 10 http://127.0.0.1:15090/metrics >"$T/demo-metrics.txt"
promtool check metrics <"$T/demo-metrics.txt" >"$T/promtool.out" 2>&1
check "promtool: the demo's metrics under load, only the _milliseconds lint" eval \
	'! grep -v "_milliseconds use base unit" "$T/promtool.out" | grep -q .'

# Istio's dashboards, Grafana's variables filled in, under load (irate
# looks at the last two scrapes).  The demo's traffic has both kinds a
# dashboard tells apart: book -> rating is mutual TLS, the callers
# outside the mesh -> book plain text; and book's outbound listener also
# carries plain calls to book-service (its WorkloadEntry runs no
# tlsMode label), so that book's outbound panels have both kinds too.
# Each expression must return data with one of the variable sets.
DASH=$SHARED/testdata/istio/dashboards
if [ -d "$DASH" ]; then
	siege -q -j --no-parser -t 60S -c 2 -d 0.05 http://127.0.0.1:8080/book/1 \
		>"$T/siege2.json" 2>"$T/siege2.err" &
	sg=$!
	(for _ in $(seq 1200); do
		curl -s -o /dev/null --max-time 2 \
		    -H 'Host: book-service.default.svc.cluster.local:8080' \
		    http://127.0.0.1:15001/book/1
		sleep 0.05
	done) &
	loop=$!
	curl -s -o /dev/null http://127.0.0.1:9082/rate/misbehave
	sleep 5
	check "book's outbound listener carries plain text too (to book-service)" eval \
		'[ -n "$(q "sum(istio_requests_total{connection_security_policy=\"none\",reporter=\"source\",source_workload=\"book-service\",destination_service=\"book-service.default.svc.cluster.local\"})")" ]'
	common="__rate_interval=30s __interval=5s __range=30s qrep=source|destination srcwl=.* srcns=.* dstwl=.* dstns=.* srccluster=.* dstcluster=.*"
	for d in istio-mesh-dashboard.gen.json:"" \
	    istio-service-dashboard.json:"-- service=rating.default.svc.cluster.local -- service=book-service.default.svc.cluster.local" \
	    istio-workload-dashboard.json:"namespace=default dstsvc=.* -- workload=book-service -- workload=rating-v1"; do
		f=${d%%:*}
		vars=${d#*:}
		# shellcheck disable=SC2086
		python3 "$TOP/tests/e2e/promcheck.py" "$PROM" "$DASH/$f" $common $vars \
		    >"$T/$f.out" 2>&1
		n_ok=$(grep -c '^ok ' "$T/$f.out")
		n_bad=$(grep -cv '^ok ' "$T/$f.out")
		n_mtls=$(grep '^ok ' "$T/$f.out" | grep -c 'connection_security_policy="mutual_tls"')
		check "$f: $n_ok HTTP expressions return data ($n_mtls of mutual TLS), $n_bad do not" \
		    test "$n_bad" = 0 -a "$n_ok" -gt 0
		grep -v '^ok ' "$T/$f.out" | head -5
	done
	kill -INT "$sg" 2>/dev/null
	kill "$loop" 2>/dev/null
	wait "$sg" "$loop" 2>/dev/null
	curl -s -o /dev/null http://127.0.0.1:9082/rate/behave
else
	echo "# SKIP: $DASH absent: Istio's dashboards not checked"
fi

# stats-d's memory with the demo's series, after all of the load
sdpid=$(awk '$2 == "stats-d" { p = $1 } END { print p }' "$TOP/run/demo/pids")
series=$(q 'meshkit_stats_series')
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$sdpid/status" 2>/dev/null)
if [ -n "${MESHKIT_SANITIZED:-}" ]; then
	echo "# SKIP: RSS under the sanitizers (${rss} kB) is theirs"
else
	check "stats-d's RSS with the demo's $series series: ${rss} kB <= 8 MB" \
	    test "${rss:-99999}" -le 8192
fi

demo_stop
trap - EXIT
finish
