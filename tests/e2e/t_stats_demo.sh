#!/bin/bash
# SPDX-License-Identifier: ISC
# The bookstore's traces: with a Zipkin collector named in the demo's
# MeshConfig, one /book/1 asked from inside the mesh (through book's
# outbound listener, as a caller with a proxy-d would) is one trace of
# four spans (the caller's client span, book's server span, book's client
# span to rating, rating's server span), each the parent of the next:
# the book app passes the trace context on.  Asked from outside (curl to
# book's inbound listener), three.  The demo's fixed ports: run under
# flock /tmp/meshkit-demo.lock.
. "$(dirname "$0")/lib.sh"

export MESHKIT_BIN="$BIN" MESHKIT_SHARED="$SHARED"
Z=$(port 1)
demo_stop() { "$TOP/scripts/demo" stop >/dev/null 2>&1; }
trap 'demo_stop; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM
if ! "$TOP/scripts/demo" start >"$T/demo.log" 2>&1; then
	not_ok "scripts/demo start"
	cat "$T/demo.log"
	demo_stop
	finish
fi
mkdir -p "$T/zipkin"
spawn zipkin python3 "$TOP/tests/e2e/collector.py" "$Z" "$T/zipkin" 202
wait_port "$Z"
ETC=$TOP/run/demo/etc
LOG=$TOP/run/demo/logs/stats-d.log
# the demo appends to its logs: only what this run's stats-d says
since=$(wc -l <"$LOG")
reloaded() { tail -n +$((since + 1)) "$LOG" | grep -q "generation 2"; }
cat >>"$ETC/mesh.yaml" <<YAML
  extensionProviders:
  - name: zipkin
    zipkin: {service: 127.0.0.1, port: $Z}
  defaultProviders:
    tracing: [zipkin]
YAML
until_ok 10 reloaded
check "stats-d took the collector (generation 2)" reloaded

TRACE=0123456789abcdef0123456789abcdef
curl -s -o /dev/null --max-time 5 \
	-H 'Host: book-service.default.svc.cluster.local:8080' \
	-H "traceparent: 00-$TRACE-1111111111111111-01" \
	http://127.0.0.1:15001/book/1
spans() { cat "$T"/zipkin/*.json 2>/dev/null | jq -s 'add // []'; }
count() { spans | jq "map(select(.traceId == \"$1\")) | length"; }
until_ok 10 eval '[ "$(count $TRACE)" -ge 4 ]'
expect "/book/1 from inside the mesh: one trace of four spans" "$(count $TRACE)" 4
spans | jq "map(select(.traceId == \"$TRACE\"))" >"$T/trace.json"
check "client (the caller) -> server (book) -> client (book) -> server (rating)" \
	python3 - "$T/trace.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
by_parent = {x.get("parentId"): x for x in s}
chain, p = [], "1111111111111111"
while p in by_parent:
    chain.append(by_parent[p])
    p = by_parent[p]["id"]
want = [("CLIENT", "book-service.default"), ("SERVER", "book-service.default"),
        ("CLIENT", "book-service.default"), ("SERVER", "rating-service.default")]
got = [(x["kind"], x["localEndpoint"]["serviceName"]) for x in chain]
print(got)
sys.exit(0 if got == want else 1)
EOF
check "the rating span is named for the rating service" eval \
	'jq -e "map(select(.kind == \"SERVER\" and (.name | startswith(\"rating.default.svc.cluster.local:\")))) | length == 1" "$T/trace.json" >/dev/null'

# from outside: book's inbound listener starts the trace
curl -s -o /dev/null --max-time 5 \
	-H "traceparent: 00-fedcba9876543210fedcba9876543210-2222222222222222-01" \
	http://127.0.0.1:8080/book/1
until_ok 10 eval '[ "$(count fedcba9876543210fedcba9876543210)" -ge 3 ]'
expect "/book/1 from outside: three spans" \
	"$(count fedcba9876543210fedcba9876543210)" 3

demo_stop
trap - EXIT
finish
