#!/bin/bash
# SPDX-License-Identifier: ISC
# stats-d as a daemon, fed by hand-written records (meshkit-ipc(7)
# records) pushed with nngcat: Istio's metrics on /metrics (promtool's
# check passes but for the _milliseconds lint), bounded series, its own
# and route-d's counters, access logs to a file (reopened on SIGHUP) in
# Envoy's default format and as JSON, a Telemetry filter, meshctl status,
# graph and top, garbage that costs nothing, and its memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
H=$(port 1)
ports_free "$H"
REC=ipc://$RUN/stats-records.sock

cat >"$T/etc/mesh.yaml" <<YAML
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  accessLogFile: $T/access.log
  stats:
    address: 127.0.0.1:$H
    maxSeries: 6
YAML

# a batch of N records from book-v1 to rating-vV, answered CODE
batch() {
	n=$1 v=$2 code=$3
	printf 'meshkit/1 records\nworkload: book-v1\nnamespace: default\n'
	printf 'label: app=book\nlabel: version=v1\npid: 4242\n'
	printf 'counter: records-sent 100\ncounter: records-dropped 7\n'
	for i in $(seq "$n"); do
		printf '\nreporter: source\nstart-us: 1764000000%06d\n' "$i"
		printf 'duration-us: 3000\ncode: %s\nmethod: GET\n' "$code"
		printf 'path: /rate/%s\nauthority: rating:8080\n' "$i"
		printf 'service: rating.default.svc.cluster.local\nport: 8080\n'
		printf 'destination-workload: rating-%s\n' "$v"
		printf 'destination-namespace: default\ndestination-app: rating\n'
		printf 'destination-version: %s\nsecurity: mutual_tls\n' "$v"
		printf 'upstream-host: 127.0.0.1:9081\n'
		printf 'request-header: user-agent: siege/4\n'
		printf 'request-header: x-request-id: id-%s\n' "$i"
	done
}
push() { nngcat --push --dial "$REC" --data "$1"; }
metrics() { curl -s --max-time 5 "http://127.0.0.1:$H/metrics"; }
# the value of the first sample line matching a fixed string
sample() { metrics | grep -v '^#' | grep -F "$1" | head -1 | awk '{print $NF}'; }

check "stats-d -n: the configuration is valid" \
	"$BIN/stats-d" -n -c "$T/etc"
spawn stats-d "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" -r "$REC"
wait_port "$H"

push "$(batch 20 v1 200)"
push "$(batch 5 v2 503)"
until_ok 5 eval '[ "$(sample meshkit_stats_records_total)" = 25 ]'
expect "25 records counted" "$(sample meshkit_stats_records_total)" 25
expect "istio_requests_total: 20 200s to rating-v1" \
	"$(sample 'istio_requests_total{response_code="200",reporter="source",source_workload="book-v1"')" 20
expect "istio_requests_total: 5 503s to rating-v2" \
	"$(metrics | grep '^istio_requests_total{response_code="503"' | grep -c 'destination_version="v2"')" 1
check "the labels Istio documents" eval 'metrics | grep "^istio_requests_total{response_code=\"200\"" | head -1 | grep -q "source_workload_namespace=\"default\",source_principal=\"unknown\",source_app=\"book\",source_version=\"v1\",destination_workload=\"rating-v1\",destination_workload_namespace=\"default\",destination_principal=\"unknown\",destination_app=\"rating\",destination_version=\"v1\",destination_service=\"rating.default.svc.cluster.local\",destination_service_name=\"rating\",destination_service_namespace=\"default\",request_protocol=\"http\",response_flags=\"-\",grpc_response_status=\"\",connection_security_policy=\"mutual_tls\""'
check "3 ms requests: none under le=1, all under le=5" eval \
	'metrics | grep "^istio_request_duration_milliseconds_bucket{response_code=\"200\"" | grep -q "le=\"5\"} 20" &&
	 metrics | grep "^istio_request_duration_milliseconds_bucket{response_code=\"200\"" | grep -q "le=\"1\"} 0"'
check "Istio's default buckets, 0.5 to 3600000 and +Inf" eval \
	'[ "$(metrics | grep "^istio_request_duration_milliseconds_bucket{response_code=\"200\"" | sed "s/.*le=\"\([^\"]*\)\".*/\1/" | tr "\n" " ")" = "0.5 1 5 10 25 50 100 250 500 1000 2500 5000 10000 30000 60000 300000 600000 1800000 3600000 +Inf " ]'
check "istio_request_bytes and istio_response_bytes histograms" eval \
	'metrics | grep -q "^istio_request_bytes_count{" && metrics | grep -q "^istio_response_bytes_count{"'
check "proxy-d's own counters, by workload" eval \
	'metrics | grep -qx "meshkit_proxy_records_dropped_total{workload=\"book-v1\",namespace=\"default\"} 7"'

metrics >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1
check "promtool: only the _milliseconds lint" eval \
	'! grep -v "^istio_request_duration_milliseconds use base unit \"seconds\" instead of \"milliseconds\"$" "$T/promtool.out" | grep -q .'
check "promtool: it did look at the histogram" \
	grep -q "^istio_request_duration_milliseconds use base unit" "$T/promtool.out"

# --- access logs: Envoy's default format, to the file; SIGHUP reopens
until_ok 5 eval '[ "$(wc -l <"$T/access.log" 2>/dev/null)" = 25 ]'
expect "25 access log lines" "$(wc -l <"$T/access.log")" 25
check "Envoy's default format" grep -qE \
	'^\[2025-11-24T16:00:00\.000Z\] "GET /rate/1 HTTP/1\.1" 200 - 0 0 3 - "-" "siege/4" "id-1" "rating:8080" "127\.0\.0\.1:9081"$' "$T/access.log"
mv "$T/access.log" "$T/access.log.1"
stop_sig() { kill -"$1" "$(pid_of stats-d)"; }
stop_sig HUP
push "$(batch 2 v1 200)"
until_ok 5 test -s "$T/access.log"
expect "after SIGHUP a new file: 2 lines" "$(wc -l <"$T/access.log" 2>/dev/null)" 2
expect "the rotated file kept its 25" "$(wc -l <"$T/access.log.1")" 25

# --- bounded series: maxSeries 6, the rest folds into "overflow"
for v in a b c d e f g h; do push "$(batch 1 "$v" 200)"; done
until_ok 5 eval '[ "$(sample meshkit_stats_records_total)" = 35 ]'
expect "series capped at 6" "$(sample 'meshkit_stats_series ')" 6
check "the overflow series counts the rest" eval \
	'metrics | grep "^istio_requests_total{response_code=\"overflow\"" | grep -q "} 4$"'
expect "overflowed records counted" "$(sample meshkit_stats_series_overflow_total)" 4

# --- garbage: counted, logged, nothing else
push "this is not a message"
push "$(printf 'meshkit/1 records\n\nreporter: nobody\nstart-us: 1\nduration-us: 1\n')"
push "$(printf 'meshkit/1 admit\n\nid: 1\n')"
until_ok 5 eval '[ "$(sample meshkit_stats_bad_messages_total)" = 2 ]'
expect "bad messages counted" "$(sample meshkit_stats_bad_messages_total)" 2
expect "a bad record counted" "$(sample meshkit_stats_bad_records_total)" 1
check "stats-d still serves" alive stats-d
check "the malformed message is logged" grep -q "malformed message" "$T/stats-d.log"

# --- meshctl status, graph, top
out=$("$BIN/meshctl" status -m "ipc://$RUN/stats.sock" 2>&1)
check "meshctl status: stats-d up, its records, the proxies' drops" \
	grep -qE '^stats-d +up .*records 35 +proxies 1 +dropped by proxies 7$' <<<"$out"
"$BIN/meshctl" graph -s "ipc://$RUN/stats.sock" -w 60 >"$T/graph.dot" 2>"$T/graph.err"
check "meshctl graph: book-v1 -> rating, mTLS" grep -q \
	'"default/book-v1" -> "rating.default.svc.cluster.local" \[label="mTLS ' "$T/graph.dot"
check "meshctl graph: rating -> rating-v1 and rating-v2 apart" eval \
	'grep -q "\"rating.default.svc.cluster.local\" -> \"default/rating-v1\"" "$T/graph.dot" &&
	 grep -q "\"rating.default.svc.cluster.local\" -> \"default/rating-v2\"" "$T/graph.dot"'
check "dot draws it" eval 'dot -Tsvg "$T/graph.dot" | grep -q "<svg"'
out=$("$BIN/meshctl" top --once -w 60 -s "ipc://$RUN/stats.sock" 2>&1)
check "meshctl top --once: a row for rating" grep -qE \
	'^rating\.default\.svc\.cluster\.local +[0-9.]+ +[0-9.]+% +[0-9.]+ms' <<<"$out"
check "meshctl top: header" grep -q '^SERVICE .*RPS .*SUCCESS .*P50 .*P90 .*P99' <<<"$out"

# --- route-d's counters through stats-d
cat >"$T/etc/se.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: x}
spec:
  hosts: [x.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1}]
YAML
route_d
printf 'meshkit/1 route\n\nid: 1\nauthority: x.example\n' >"$T/q.txt"
nngcat --req --dial "ipc://$RUN/route.sock" --file "$T/q.txt" >/dev/null 2>&1
# stats-d started before route-d: it asks the run directory's daemons
# once a second, and finds this one
until_ok 10 eval 'metrics | grep -qx "meshkit_daemon_up{daemon=\"route-d\"} 1"'
check "route-d is up, as stats-d sees it" eval \
	'metrics | grep -qx "meshkit_daemon_up{daemon=\"route-d\"} 1"'
until_ok 5 eval 'metrics | grep -q "^meshkit_route_queries_total 1$"'
check "route-d's queries as a counter" eval \
	'metrics | grep -q "^meshkit_route_queries_total 1$"'
check "route-d's DNS names as a gauge" eval \
	'metrics | grep -q "^# TYPE meshkit_route_dns_names gauge$"'
stop route-d
until_ok 5 eval 'metrics | grep -qx "meshkit_daemon_up{daemon=\"route-d\"} 0"'
check "route-d stopped: up 0" eval \
	'metrics | grep -qx "meshkit_daemon_up{daemon=\"route-d\"} 0"'
metrics | promtool check metrics >"$T/promtool2.out" 2>&1
check "promtool, with the daemons' metrics: only the lint" eval \
	'! grep -v "_milliseconds use base unit" "$T/promtool2.out" | grep -q .'

# --- JSON access logs and a Telemetry filter, by reload
cat >"$T/etc/mesh.yaml" <<YAML
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  accessLogFile: $T/access.json
  accessLogEncoding: JSON
  accessLogFormat: '{"code": "%RESPONSE_CODE%", "path": "%REQ(:PATH)%", "took": "%DURATION% ms"}'
  stats:
    address: 127.0.0.1:$H
    maxSeries: 6
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: errors-only, namespace: istio-system}
spec:
  accessLogging:
  - providers: [{name: envoy}]
    filter:
      expression: response.code >= 500
YAML
stop_sig HUP
until_ok 5 grep -q "generation 2" "$T/stats-d.log"
push "$(batch 3 v1 200)"
push "$(batch 2 v2 503)"
until_ok 5 eval '[ "$(wc -l <"$T/access.json" 2>/dev/null)" = 2 ]'
expect "the filter logs the 503s only" "$(wc -l <"$T/access.json")" 2
check "JSON lines, numbers as numbers" grep -qx \
	'{"code":503,"path":"/rate/1","took":"3 ms"}' "$T/access.json"
check "every line is JSON" eval 'jq -e .code "$T/access.json" >/dev/null'
expect "filtered out, counted" "$(sample meshkit_stats_log_filtered_total)" 3

# --- a broken reload keeps the running config
printf 'apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec:\n  accessLogFormat: "%%NOPE%%"\n' >"$T/etc/mesh.yaml"
stop_sig HUP
until_ok 5 grep -q "reload failed" "$T/stats-d.log"
check "a bad format is refused with its place" grep -q \
	"mesh.yaml:5:.*accessLogFormat: unknown command operator %NOPE%" "$T/stats-d.log"
expect "the reload failure counted" "$(sample meshkit_stats_reload_failures_total)" 1

# --- memory: the demo's handful of series and edges
for i in $(seq 20); do push "$(batch 50 v1 200)"; done
until_ok 5 eval '[ "$(sample meshkit_stats_records_total)" -ge 1040 ]'
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(pid_of stats-d)/status")
if [ -n "${MESHKIT_SANITIZED:-}" ]; then
	echo "# SKIP: RSS under the sanitizers (${rss} kB) is theirs"
else
	check "stats-d's RSS ${rss} kB <= 8 MB" test "$rss" -le 8192
fi

trap - EXIT
finish
