#!/bin/bash
# SPDX-License-Identifier: ISC
# stats-d's span exports: sampled records become spans, sent in batches
# to a Zipkin v2 endpoint (POST /api/v2/spans) and an OTLP/HTTP one
# (/v1/traces, JSON), checked against meshkit's expectations always and
# against ../shared/testdata/tracing (Zipkin's schema, OTLP's protos and
# example) when it is there.  A collector that fails or is gone costs
# counted spans, nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
H=$(port 1) Z=$(port 2) O=$(port 3)
ports_free "$H" "$Z" "$O"
REC=ipc://$RUN/stats-records.sock
TD=$SHARED/testdata/tracing
mkdir -p "$T/zipkin" "$T/otlp"

cat >"$T/etc/mesh.yaml" <<YAML
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  defaultConfig:
    tracing:
      sampling: 100
  extensionProviders:
  - name: zipkin
    zipkin:
      service: 127.0.0.1
      port: $Z
      maxTagLength: 3
  - name: otel
    opentelemetry:
      service: 127.0.0.1
      port: $O
      http:
        path: /v1/traces
        headers:
        - name: x-tenant
          value: meshkit-test
  defaultProviders:
    tracing: [zipkin, otel]
  stats:
    address: 127.0.0.1:$H
    exportInterval: 200ms
YAML

spawn zipkin python3 "$TOP/tests/e2e/collector.py" "$Z" "$T/zipkin" 202
spawn otlp python3 "$TOP/tests/e2e/collector.py" "$O" "$T/otlp" 200
wait_port "$Z"
wait_port "$O"
spawn stats-d "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" -r "$REC"
wait_port "$H"

TRACE=4bf92f3577b34da6a3ce929d0e0e4736
# the two records of one call book -> rating, and one not sampled
records() {
	cat <<EOF
meshkit/1 records
workload: book-v1
namespace: default
label: app=book
label: version=v1

reporter: source
start-us: 1764000000000100
duration-us: 2500
code: 200
method: GET
path: /rate/1
authority: rating:8080
service: rating.default.svc.cluster.local
port: 8080
destination-workload: rating-v1
destination-version: v1
upstream-host: 127.0.0.1:9081
trace-id: $TRACE
span-id: 1111111111111111
parent-span-id: 0000000000000abc
sampled: 1

reporter: source
start-us: 1764000000000200
duration-us: 100
code: 200
service: rating.default.svc.cluster.local
trace-id: 99999999999999999999999999999999
span-id: 9999999999999999
sampled: 0
EOF
}
records2() {
	cat <<EOF
meshkit/1 records
workload: rating-v1
namespace: default
label: app=rating
label: version=v1

reporter: destination
start-us: 1764000000000300
duration-us: 1800
code: 503
method: GET
path: /rate/1
authority: rating:8080
service: rating.default.svc.cluster.local
port: 8080
source-workload: book-v1
downstream-remote: 127.0.0.1:40000
request-head-bytes: 300
request-bytes: 11
response-head-bytes: 200
response-bytes: 22
trace-id: $TRACE
span-id: 2222222222222222
parent-span-id: 1111111111111111
sampled: 1
EOF
}
nngcat --push --dial "$REC" --data "$(records)"
nngcat --push --dial "$REC" --data "$(records2)"

zfile() { ls "$T/zipkin"/*-api-v2-spans.json 2>/dev/null | head -1; }
ofile() { ls "$T/otlp"/*-v1-traces.json 2>/dev/null | head -1; }
until_ok 10 eval '[ -n "$(zfile)" ] && [ -n "$(ofile)" ]'
check "spans reached the Zipkin collector at /api/v2/spans" test -n "$(zfile)"
check "spans reached the OTLP collector at /v1/traces" test -n "$(ofile)"
# both records may come in one export or two
until_ok 5 eval '[ "$(cat "$T"/zipkin/*.json | jq -s "map(length) | add")" = 2 ]'
expect "two sampled spans, the unsampled one left out" \
	"$(cat "$T"/zipkin/*.json | jq -s 'map(length) | add')" 2
check "one trace: the server span's parent is the client span" eval \
	'cat "$T"/zipkin/*.json | jq -se "add | map(select(.kind == \"SERVER\"))[0] | .parentId == \"1111111111111111\" and .traceId == \"$TRACE\"" >/dev/null'
check "the client span continues the caller's" eval \
	'cat "$T"/zipkin/*.json | jq -se "add | map(select(.kind == \"CLIENT\"))[0] | .parentId == \"0000000000000abc\" and .localEndpoint.serviceName == \"book.default\"" >/dev/null'
check "Istio's span name and tags" eval \
	'cat "$T"/zipkin/*.json | jq -se "add | map(select(.kind == \"SERVER\"))[0] | .name == \"rating.default.svc.cluster.local:8080/*\" and .tags[\"http.status_code\"] == \"503\" and .tags.error == \"true\" and .tags[\"istio.canonical_service\"] == \"rating\" and .timestamp == 1764000000000300 and .duration == 1800" >/dev/null'
server() { cat "$T"/zipkin/*.json | jq -se "add | map(select(.kind == \"SERVER\"))[0]"; }
check "sizes are the bodies' bytes, as Envoy's request_size, response_size" eval \
	'server | jq -e ".tags.request_size == \"11\" and .tags.response_size == \"22\"" >/dev/null'
check "peer.address: the downstream's IP, no port" eval \
	'server | jq -e ".tags[\"peer.address\"] == \"127.0.0.1\"" >/dev/null'
check "Istio's defaults: user_agent, downstream_cluster -, mesh_id the trust domain" eval \
	'server | jq -e ".tags.user_agent == \"-\" and .tags.downstream_cluster == \"-\" and .tags[\"istio.mesh_id\"] == \"cluster.local\" and .tags[\"istio.canonical_revision\"] == \"v1\"" >/dev/null'
check "maxTagLength 3 bounds http.url's path (Envoy's max_path_tag_length)" eval \
	'server | jq -e ".tags[\"http.url\"] == \"http://rating:8080/ra\"" >/dev/null'
check "the client span: upstream_address the endpoint" eval \
	'cat "$T"/zipkin/*.json | jq -se "add | map(select(.kind == \"CLIENT\"))[0] | .tags.upstream_address == \"127.0.0.1:9081\" and .tags[\"istio.canonical_revision\"] == \"v1\"" >/dev/null'
check "OTLP without maxTagLength: the whole path" eval \
	'cat "$T"/otlp/*.json | jq -se "[.[].resourceSpans[].scopeSpans[].spans[]] | map(select(.kind == 2))[0].attributes | map(select(.key == \"http.url\"))[0].value.stringValue == \"http://rating:8080/rate/1\"" >/dev/null'
check "Zipkin's content type" grep -qi "content-type: application/json" "$(zfile).headers"
check "OTLP: the provider's headers are sent" grep -qi "x-tenant: meshkit-test" "$(ofile).headers"

for f in "$T"/zipkin/*.json; do
	out=$(python3 "$TOP/tests/e2e/tracecheck.py" zipkin "$f" 2>&1)
	check "Zipkin JSON as meshkit expects it ($(basename "$f"))" test -z "$out"
	[ -n "$out" ] && echo "$out"
done
for f in "$T"/otlp/*.json; do
	out=$(python3 "$TOP/tests/e2e/tracecheck.py" otlp "$f" 2>&1)
	check "OTLP JSON as meshkit expects it ($(basename "$f"))" test -z "$out"
	[ -n "$out" ] && echo "$out"
done
if [ -f "$TD/zipkin2-api.yaml" ] && python3 -c 'import yaml, jsonschema' 2>/dev/null; then
	for f in "$T"/zipkin/*.json; do
		out=$(python3 "$TOP/tests/e2e/tracecheck.py" zipkin "$f" "$TD/zipkin2-api.yaml" 2>&1)
		check "Zipkin JSON valid under zipkin2-api.yaml" test -z "$out"
		[ -n "$out" ] && echo "$out"
	done
	for f in "$T"/otlp/*.json; do
		out=$(python3 "$TOP/tests/e2e/tracecheck.py" otlp "$f" "$TD" 2>&1)
		check "OTLP JSON: the protos' fields and enums, the example's shape" test -z "$out"
		[ -n "$out" ] && echo "$out"
	done
else
	echo "# SKIP: $TD or python3 yaml/jsonschema absent: no schema checks"
fi
check "OTLP: one trace, the server span under the client span" eval \
	'cat "$T"/otlp/*.json | jq -se "[.[].resourceSpans[].scopeSpans[].spans[]] | map(select(.kind == 2))[0] | .parentSpanId == \"1111111111111111\" and .traceId == \"$TRACE\" and .status.code == 2" >/dev/null'

metrics() { curl -s --max-time 5 "http://127.0.0.1:$H/metrics"; }
sample() { metrics | grep -v '^#' | grep -F "$1" | head -1 | awk '{print $NF}'; }
until_ok 5 eval '[ "$(sample meshkit_stats_spans_exported_total)" = 4 ]'
expect "4 spans exported (2 to each)" "$(sample meshkit_stats_spans_exported_total)" 4

# --- a collector that fails, then one that is gone
stop otlp
spawn otlp python3 "$TOP/tests/e2e/collector.py" "$O" "$T/otlp" 500
wait_port "$O"
nngcat --push --dial "$REC" --data "$(records2)"
until_ok 10 eval '[ "$(sample meshkit_stats_export_failures_total)" -ge 1 ]'
check "a 500 from the collector: the export counted as failed" \
	test "$(sample meshkit_stats_export_failures_total)" -ge 1
check "and its span as dropped" test "$(sample meshkit_stats_spans_dropped_total)" -ge 1
stop otlp
stop zipkin
nngcat --push --dial "$REC" --data "$(records2)"
until_ok 10 eval '[ "$(sample meshkit_stats_export_failures_total)" -ge 3 ]'
check "collectors gone: failures counted" \
	test "$(sample meshkit_stats_export_failures_total)" -ge 3
check "stats-d serves on" alive stats-d
check "the failure is logged" grep -q "export of .* spans to" "$T/stats-d.log"

trap - EXIT
finish
