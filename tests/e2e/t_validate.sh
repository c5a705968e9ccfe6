#!/bin/bash
# SPDX-License-Identifier: ISC
# meshctl validate's warnings (fields meshkit reads but does not act on)
# and --strict, and the daemons logging the same warnings once at load.
# Every file is written here.
. "$(dirname "$0")/lib.sh"

W=$T/w
mkdir -p "$W"

cat >"$W/dr.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: rating
spec:
  host: rating.example
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    tunnel: {protocol: CONNECT, targetHost: proxy.example, targetPort: 3128}
YAML

out=$(mc 10 validate "$W/dr.yaml" 2>&1)
rc=$?
expect "a warning alone: exit 0" "$rc" 0
check "the warning at file:line:col" grep -qF \
    "$W/dr.yaml:9:5: warning: DestinationRule trafficPolicy.tunnel is not supported by meshkit and is ignored" \
    <<<"$out"
check "the summary counts it" grep -q '^1 file valid, 1 warning$' <<<"$out"

out=$(mc 10 validate --strict "$W/dr.yaml" 2>&1)
rc=$?
expect "--strict: a warning fails" "$rc" 1
check "--strict reports it as an error" grep -qE \
    "dr.yaml:9:5: DestinationRule trafficPolicy.tunnel is not supported" \
    <<<"$out"
check "--strict says why" grep -q '^1 error (--strict' <<<"$out"

out=$(mc 10 -o json validate "$W/dr.yaml" 2>/dev/null)
check "json: severity warning, still valid" python3 -c '
import json, sys
d = json.load(sys.stdin)
m = d["messages"]
sys.exit(0 if d["valid"] and d["warnings"] == 1 and
    m[0]["severity"] == "warning" and m[0]["line"] == 9 else 1)' <<<"$out"
out=$(mc 10 -o json validate --strict "$W/dr.yaml" 2>/dev/null)
check "json --strict: invalid, one error" python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if not d["valid"] and d["errors"] == 1 and
    d["messages"][0]["severity"] == "error" else 1)' <<<"$out"

# a file meshkit acts on whole: --strict passes
cat >"$W/clean.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: clean
spec:
  host: clean.example
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
YAML
mc 10 validate --strict "$W/clean.yaml" >/dev/null 2>&1
expect "--strict on a clean file: exit 0" "$?" 0

# --- the daemons: -n prints the warning; route-d logs it once at start
cp "$W/dr.yaml" "$T/etc/"
out=$(timeout 10 "$BIN/route-d" -n -c "$T/etc" 2>&1)
check "route-d -n prints the warning" grep -qF \
    "dr.yaml:9:5: warning: DestinationRule trafficPolicy.tunnel" <<<"$out"
route_d
until_ok 5 grep -q 'trafficPolicy.tunnel is not supported' "$T/route-d.log"
expect "route-d logs the warning once at start" \
    "$(grep -c 'trafficPolicy.tunnel is not supported' "$T/route-d.log")" 1
# a watched reload that changes nothing of route-d's logs nothing again
touch "$T/etc/dr.yaml"
until_ok 5 grep -q "resources changed" "$T/route-d.log"
expect "an unchanged reload does not log it again" \
    "$(grep -c 'trafficPolicy.tunnel is not supported' "$T/route-d.log")" 1
# SIGHUP always makes a new generation: its warnings are logged, once
kill -HUP "$(pid_of route-d)"
until_ok 5 eval "[ \$(grep -c 'trafficPolicy.tunnel is not' '$T/route-d.log') -ge 2 ]"
sleep 0.3
expect "SIGHUP: logged again, once" \
    "$(grep -c 'trafficPolicy.tunnel is not supported' "$T/route-d.log")" 2

# PeerAuthentication and source principals are enforced now (proxy-d,
# tls-d's certificates): no warning from authz-d, route-d or --strict
mkdir -p "$T/etc2"
cat >"$T/etc2/sec.yaml" <<'YAML'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-b}
spec:
  rules:
  - from:
    - source: {principals: [cluster.local/ns/default/sa/b]}
YAML
ASOCK=$MESHKIT_RUNDIR/authz2.sock
spawn authz-d "$BIN/authz-d" -c "$T/etc2" -s "ipc://$ASOCK"
wait_file "$ASOCK"
until_ok 5 grep -q 'listening on' "$T/authz-d.log"
expect "authz-d: no warning for source.principals or PeerAuthentication" \
    "$(grep -c 'warning:' "$T/authz-d.log")" 0
out=$(timeout 10 "$BIN/route-d" -c "$T/etc2" -s "ipc://$MESHKIT_RUNDIR/r2.sock" -f </dev/null 2>&1)
check "route-d does not log the security kinds' warnings" \
    test -z "$(grep 'warning:' <<<"$out")"
mc 10 validate --strict "$T/etc2" >/dev/null 2>&1
expect "--strict: PeerAuthentication and principals pass" "$?" 0

finish
