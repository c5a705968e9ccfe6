#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d and stats-d together: a caller's proxy-d (outbound) and a
# callee's (inbound) each report every request; Istio's metrics from
# both sides with the workloads on both ends; the trace context started,
# continued (W3C and B3) and passed on; spans to a collector, one trace;
# access log lines; the graph; and stats-d killed with SIGKILL in the
# middle of a load: no request fails, the proxies count what they
# dropped, stats-d serves again within a second of its restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 2) Q=$(port 3) H=$(port 4) Z=$(port 5)
ports_free "$B" "$P" "$Q" "$H" "$Z"
REC=ipc://$RUN/stats-records.sock
mkdir -p "$T/zipkin"

cat >"$T/etc/mesh.yaml" <<YAML
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  accessLogFile: $T/access.log
  defaultConfig:
    tracing:
      sampling: 100
  extensionProviders:
  - name: zipkin
    zipkin: {service: 127.0.0.1, port: $Z}
  defaultProviders:
    tracing: [zipkin]
  stats:
    address: 127.0.0.1:$H
    exportInterval: 100ms
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc}
spec:
  hosts: [svc.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector:
    labels: {app: svc}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: svc-v1}
spec:
  address: 127.0.0.1
  ports: {http: $Q}
  labels: {app: svc, version: v1}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: app}
spec:
  workload: {name: app, labels: {app: app, version: v7}}
  listeners:
  - {name: outbound, direction: outbound, address: "127.0.0.1:$P"}
  daemons:
    route: {address: "ipc://$RUN/route.sock"}
    stats: {address: "$REC"}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: svc}
spec:
  workload: {name: svc-v1, labels: {app: svc, version: v1}}
  listeners:
  - {name: inbound, direction: inbound, address: "127.0.0.1:$Q", forward: "127.0.0.1:$B"}
  daemons:
    route: {address: "ipc://$RUN/route.sock"}
    stats: {address: "$REC"}
YAML

backend b1 "$B"
spawn zipkin python3 "$TOP/tests/e2e/collector.py" "$Z" "$T/zipkin" 202
wait_port "$Z"
route_d
statsd() {
	spawn "${1:-stats-d}" "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" -r "$REC"
	wait_port "$H"
}
statsd
proxy_d app "$P"
proxy_d svc "$Q"
joined stats-d 0 2>/dev/null
metrics() { curl -s --max-time 5 "http://127.0.0.1:$H/metrics"; }
sample() { metrics | grep -v '^#' | grep -F "$1" | grep -F "$2" | head -1 | awk '{print $NF}'; }
get() { curl -s --max-time 5 -H 'Host: svc.example' "$@"; }

# proxy-d dials stats-d in the background: wait until records arrive
until_ok 5 eval 'get "http://127.0.0.1:$P/" >/dev/null; [ -n "$(sample "reporter=\"destination\"" "istio_requests_total{")" ]'
sleep 0.5	# the last of those, batched for 50 ms at most
base_src=$(sample 'reporter="source"' 'istio_requests_total{response_code="200"')
base_dst=$(sample 'reporter="destination"' 'istio_requests_total{response_code="200"')
for i in $(seq 20); do get -o /dev/null "http://127.0.0.1:$P/"; done
until_ok 5 eval '[ "$(sample "reporter=\"destination\"" "istio_requests_total{response_code=\"200\"")" = $((base_dst + 20)) ]'
expect "the caller's proxy reports 20 more (reporter source)" \
	"$(sample 'reporter="source"' 'istio_requests_total{response_code="200"')" $((base_src + 20))
expect "the callee's proxy reports 20 more (reporter destination)" \
	"$(sample 'reporter="destination"' 'istio_requests_total{response_code="200"')" $((base_dst + 20))
check "source side: both workloads, the service" eval \
	'metrics | grep "^istio_requests_total{response_code=\"200\",reporter=\"source\"" | grep "source_workload=\"app\"" | grep "source_version=\"v7\"" | grep "destination_workload=\"svc-v1\"" | grep "destination_version=\"v1\"" | grep -q "destination_service=\"svc.example\""'
check "destination side: the caller from x-meshkit-source" eval \
	'metrics | grep "^istio_requests_total{response_code=\"200\",reporter=\"destination\"" | grep "source_workload=\"app\"" | grep "source_app=\"app\"" | grep "destination_workload=\"svc-v1\"" | grep -q "connection_security_policy=\"none\""'

# --- the trace context
hdrs=$(get "http://127.0.0.1:$P/headers")
check "the app gets a traceparent" grep -qiE '^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01' <<<"$hdrs"
check "x-meshkit-source is taken off before the app" eval '! grep -qi "^x-meshkit-source" <<<"$hdrs"'
TRACE=0af7651916cd43dd8448eb211c80319c
hdrs=$(get -H "traceparent: 00-$TRACE-b7ad6b7169203331-01" -H 'tracestate: congo=t61rcWkgMzE' "http://127.0.0.1:$P/headers")
check "W3C: the trace goes on" grep -qiE "^traceparent: 00-$TRACE-[0-9a-f]{16}-01" <<<"$hdrs"
check "W3C: a span of its own" eval '! grep -qi "b7ad6b7169203331" <<<"$hdrs"'
check "W3C: tracestate passed on" grep -qi '^tracestate: congo=t61rcWkgMzE' <<<"$hdrs"
hdrs=$(get -H "traceparent: 00-$TRACE-b7ad6b7169203331-00" "http://127.0.0.1:$P/headers")
check "W3C: the caller's not-sampled decision holds" grep -qiE "^traceparent: 00-$TRACE-[0-9a-f]{16}-00" <<<"$hdrs"
hdrs=$(get -H 'b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' "http://127.0.0.1:$P/headers")
check "B3 single header: the trace goes on in b3" grep -qiE '^b3: 80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-1-[0-9a-f]{16}' <<<"$hdrs"
check "B3 single header: and in traceparent" grep -qi '^traceparent: 00-80f198ee56343ba864fe8b2a57d3eff7-' <<<"$hdrs"
hdrs=$(get -H 'x-b3-traceid: 463ac35c9f6413ad' -H 'x-b3-spanid: a2fb4a1d1a96d312' -H 'x-b3-sampled: 1' "http://127.0.0.1:$P/headers")
check "B3 headers: a 64-bit trace stays 64-bit" grep -qi '^x-b3-traceid: 463ac35c9f6413ad' <<<"$hdrs"
check "B3 headers: a new span under the caller's" eval \
	'grep -qi "^x-b3-parentspanid: " <<<"$hdrs" && ! grep -qi "^x-b3-spanid: a2fb4a1d1a96d312" <<<"$hdrs"'

# one context upstream: every trace header of the trace in traceparent
tp_trace() { sed -n 's/^traceparent: 00-\([0-9a-f]\{32\}\)-.*/\1/Ip' <<<"$1" | tr -d '\r'; }
hval() { grep -i "^$1: " <<<"$2" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
hdrs=$(get "http://127.0.0.1:$P/headers")
t=$(tp_trace "$hdrs")
check "a new trace: x-b3-* beside traceparent, as Istio's apps pass on" eval \
	'[ "$(hval x-b3-traceid "$hdrs")" = "$t" ] && [ "$(hval x-b3-sampled "$hdrs")" = 1 ] && [ -n "$(hval x-b3-spanid "$hdrs")" ] && grep -qi "^traceparent: 00-$t-$(hval x-b3-spanid "$hdrs")-01" <<<"$hdrs"'
hdrs=$(get -H 'b3: 0' "http://127.0.0.1:$P/headers")
check "b3: 0 alone: the caller's not-sampled decision holds" eval \
	'grep -qiE "^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-00" <<<"$hdrs" && grep -qiE "^b3: [0-9a-f]{32}-[0-9a-f]{16}-0-[0-9a-f]{16}" <<<"$hdrs"'
hdrs=$(get -H 'b3: d' "http://127.0.0.1:$P/headers")
check "b3: d alone: debug goes on as d" eval \
	'grep -qiE "^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01" <<<"$hdrs" && grep -qiE "^b3: [0-9a-f]{32}-[0-9a-f]{16}-d-" <<<"$hdrs"'
hdrs=$(get -H 'x-b3-flags: 1' "http://127.0.0.1:$P/headers")
check "x-b3-flags: 1 alone: debug goes on in x-b3-flags" eval \
	'[ "$(hval x-b3-flags "$hdrs")" = 1 ] && ! grep -qi "^x-b3-sampled" <<<"$hdrs"'
hdrs=$(get -H 'b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' -H 'x-b3-traceid: 463ac35c9f6413ad' -H 'x-b3-spanid: a2fb4a1d1a96d312' "http://127.0.0.1:$P/headers")
check "b3 with stale x-b3-*: none of the other trace goes up" eval \
	'! grep -qi "^x-b3-" <<<"$hdrs" && [ "$(tp_trace "$hdrs")" = 80f198ee56343ba864fe8b2a57d3eff7 ]'
hdrs=$(get -H 'x-b3-spanid: a2fb4a1d1a96d312' -H 'x-b3-parentspanid: 0020000000000001' "http://127.0.0.1:$P/headers")
t=$(tp_trace "$hdrs")
check "stale x-b3-spanid, x-b3-parentspanid: replaced by the new trace's" eval \
	'! grep -qi "a2fb4a1d1a96d312\|0020000000000001" <<<"$hdrs" && [ "$(hval x-b3-traceid "$hdrs")" = "$t" ]'
hdrs=$(get -H "traceparent: 00-$TRACE-b7ad6b7169203331-01" -H 'x-b3-traceid: 463ac35c9f6413ad' -H 'x-b3-spanid: a2fb4a1d1a96d312' -H 'x-b3-sampled: 1' -H 'tracestate: congo=t61rcWkgMzE' "http://127.0.0.1:$P/headers")
check "B3 and traceparent both valid: B3 first, as Envoy's Zipkin tracer" eval \
	'[ "$(hval x-b3-traceid "$hdrs")" = 463ac35c9f6413ad ] && [ "$(tp_trace "$hdrs")" = 0000000000000000463ac35c9f6413ad ]'
check "and the other trace's tracestate is not passed on" eval '! grep -qi "^tracestate" <<<"$hdrs"'
hdrs=$(get -H "traceparent: 00-bad" -H 'tracestate: congo=t61rcWkgMzE' "http://127.0.0.1:$P/headers")
check "an invalid traceparent: a new one, tracestate deleted (W3C 4.3)" eval \
	'! grep -qi "^tracestate" <<<"$hdrs" && grep -qiE "^traceparent: 00-[0-9a-f]{32}-" <<<"$hdrs"'
hdrs=$(get -H "traceparent: 00-$TRACE-b7ad6b7169203331-01" -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' -H 'tracestate: congo=t61rcWkgMzE' "http://127.0.0.1:$P/headers")
t=$(tp_trace "$hdrs")
check "two traceparents: the trace restarts, tracestate deleted" eval \
	'[ -n "$t" ] && [ "$t" != $TRACE ] && [ "$t" != 4bf92f3577b34da6a3ce929d0e0e4736 ] && [ "$(grep -ci "^traceparent" <<<"$hdrs")" = 1 ] && ! grep -qi "^tracestate" <<<"$hdrs"'

# --- spans: the client's and the server's, one trace
get -H "traceparent: 00-1234567890abcdef1234567890abcdef-00f067aa0ba902b7-01" -o /dev/null "http://127.0.0.1:$P/"
spans() { cat "$T"/zipkin/*.json 2>/dev/null | jq -s 'add // []'; }
until_ok 10 eval '[ "$(spans | jq "map(select(.traceId == \"1234567890abcdef1234567890abcdef\")) | length")" = 2 ]'
expect "two spans of that trace" \
	"$(spans | jq 'map(select(.traceId == "1234567890abcdef1234567890abcdef")) | length')" 2
check "the client span under the caller's, the server span under it" eval \
	'spans | jq -e "map(select(.traceId == \"1234567890abcdef1234567890abcdef\")) as \$s | (\$s | map(select(.kind == \"CLIENT\"))[0]) as \$c | (\$s | map(select(.kind == \"SERVER\"))[0]) as \$v | \$c.parentId == \"00f067aa0ba902b7\" and \$v.parentId == \$c.id and \$c.localEndpoint.serviceName == \"app.default\" and \$v.localEndpoint.serviceName == \"svc.default\"" >/dev/null'

# --- access logs: both proxies' lines
until_ok 5 eval 'grep -q "\"GET /headers HTTP/1.1\" 200" "$T/access.log"'
check "access log: Envoy's format, the endpoint as upstream host" grep -qE \
	"^\[[0-9T:.-]+Z\] \"GET / HTTP/1.1\" 200 - 0 [0-9]+ [0-9]+ [0-9]+ \"-\" \"curl/[^\"]*\" \"[^\"]+\" \"svc.example\" \"127.0.0.1:$Q\"$" "$T/access.log"
check "access log: the inbound side too" grep -qE \
	"\"GET / HTTP/1.1\" 200 - 0 [0-9]+ [0-9]+ [0-9]+ \"127.0.0.1\" \"curl/[^\"]*\" \"[^\"]+\" \"svc.example\" \"127.0.0.1:$B\"$" "$T/access.log"

# --- the graph
"$BIN/meshctl" graph -s "ipc://$RUN/stats.sock" -w 60 >"$T/graph.dot" 2>&1
check "graph: app -> svc.example -> svc-v1" eval \
	'grep -q "\"default/app\" -> \"svc.example\"" "$T/graph.dot" && grep -q "\"svc.example\" -> \"default/svc-v1\"" "$T/graph.dot"'

# --- stats-d killed under load: no request fails
siege -q -j --no-parser -r 400 -c 2 -d 0.005 -H 'Host: svc.example' \
	"http://127.0.0.1:$P/" >"$T/siege.json" 2>"$T/siege.err" &
sg=$!
sleep 0.7
stop stats-d KILL
sleep 1
t0=$(date +%s%N)
statsd stats-d2
until_ok 5 eval 'metrics | grep -q "^meshkit_stats_records_total"'
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "stats-d serves again ${ms} ms after its restart (< 1000)" test "$ms" -lt 1000
wait "$sg"
check "siege: 800 requests, 0 failed" eval \
	'jq -e ".transactions == 800 and .failed_transactions == 0" "$T/siege.json" >/dev/null'
until_ok 10 eval '[ -n "$(sample "workload=\"app\"" "meshkit_proxy_records_dropped_total")" ] && [ "$(sample "workload=\"app\"" "meshkit_proxy_records_dropped_total")" -gt 0 ]'
check "the caller's proxy-d counted the records it dropped" eval \
	'[ "$(sample "workload=\"app\"" "meshkit_proxy_records_dropped_total")" -gt 0 ]'
out=$("$BIN/meshctl" status -m "ipc://$RUN/stats.sock" -s "ipc://$RUN/route.sock" 2>&1)
check "meshctl status: the proxies' drops" grep -qE \
	'^stats-d +up .*dropped by proxies [1-9][0-9]*$' <<<"$out"
check "both proxies alive" eval 'alive app && alive svc'

trap - EXIT
finish
