#!/bin/bash
# SPDX-License-Identifier: ISC
# meshctl analyze on files written here: each cross-resource problem
# with its code, the exit status, -f, -o json, and the config directory
# (-c) when nothing is named.
. "$(dirname "$0")/lib.sh"

A=$T/a
mkdir -p "$A/ok" "$A/bad"

cat >"$A/ok/shop.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: shop}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: shop-1}
spec: {address: 10.0.0.1, labels: {app: shop, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop}
spec:
  host: shop.example.com
  subsets: [{name: v1, labels: {version: v1}}]
YAML
cat >"$A/ok/route.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  http:
  - route: [{destination: {host: shop.example.com, subset: v1}}]
YAML

out=$(mc 10 analyze "$A/ok")
expect "a consistent directory: exit 0" "$?" 0
check "and says so" grep -q "^No validation issues found when analyzing $A/ok\.$" \
    <<<"$out"

cp "$A/ok/shop.yaml" "$A/bad/"
cat >"$A/bad/problems.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  gateways: [mesh, shop-gateway]
  http:
  - route:
    - {destination: {host: shop.example.com, subset: v2}, weight: 50}
    - {destination: {host: gone.example.com}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ghost}
spec:
  host: ghost.example.com
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-again}
spec:
  host: shop.example.com
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: nobody}
spec:
  selector: {matchLabels: {app: gone}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  selector: {matchLabels: {app: shop}}
  jwtRules:
  - issuer: https://issuer.example
    jwksUri: file:///nonexistent/meshkit-e2e/jwks.json
YAML

out=$(mc 10 analyze "$A/bad")
rc=$?
printf '%s\n' "$out" >"$T/analyze.out"
expect "problems: exit 1" "$rc" 1
has() { grep -qF -- "$1" "$T/analyze.out"; }
check "a route to a subset no DestinationRule defines: IST0101" has \
    'Error [IST0101] (VirtualService default/shop '"$A"'/bad/problems.yaml:9) Referenced host+subset in destinationrule not found: "shop.example.com+v2"'
check "a host nothing defines: IST0101" has \
    'Error [IST0101] (VirtualService default/shop '"$A"'/bad/problems.yaml:10) Referenced host not found: "gone.example.com"'
check "a Gateway that does not exist: IST0101" has \
    'Error [IST0101] (VirtualService default/shop '"$A"'/bad/problems.yaml:6) Referenced gateway not found: "shop-gateway"'
check "a DestinationRule for an unknown host: IST0174" has \
    'Warning [IST0174] (DestinationRule default/ghost '"$A"'/bad/problems.yaml:16) The host ghost.example.com defined in the DestinationRule does not match any services in the mesh.'
# files load in name order: problems.yaml's shop-again is the first rule
check "conflicting DestinationRules: MK0001" has \
    'Warning [MK0001] (DestinationRule default/shop '"$A"'/bad/shop.yaml:20) The DestinationRules default/shop-again and default/shop both define subset v1'
check "a selector that matches no workload: IST0127" has \
    'Warning [IST0127] (AuthorizationPolicy default/nobody '"$A"'/bad/problems.yaml:30) No matching workloads for this resource with the following labels: app=gone'
check "a JWT rule without keys: IST0101" has \
    'Error [IST0101] (RequestAuthentication default/jwt '"$A"'/bad/problems.yaml:40) Referenced jwksUri file not found: "/nonexistent/meshkit-e2e/jwks.json"'
check "the gateway also warns as not supported: IST0133" has \
    'Warning [IST0133] ('"$A"'/bad/problems.yaml:6:20) Schema validation warning: VirtualService gateway shop-gateway is not supported by meshkit and is ignored'
check "errors come before warnings" test \
    "$(grep -n '^Error' "$T/analyze.out" | tail -1 | cut -d: -f1)" -lt \
    "$(grep -n '^Warning' "$T/analyze.out" | head -1 | cut -d: -f1)"

# -f names files; json is machine-readable and has the same codes
out=$(mc 10 -o json analyze -f "$A/bad/shop.yaml" -f "$A/bad/problems.yaml")
expect "-f: exit 1" "$?" 1
check "json parses, with codes and resources" python3 -c '
import json, sys
d = json.load(sys.stdin)
codes = sorted(set(m["code"] for m in d["messages"]))
want = ["IST0101", "IST0127", "IST0133", "IST0174", "MK0001"]
ok = codes == want and d["errors"] == 4 and all(
    "line" in m and "level" in m for m in d["messages"])
ok = ok and any(m.get("origin", {}).get("kind") == "VirtualService" and
    m["origin"]["name"] == "shop" and m["name"] ==
    "ReferencedResourceNotFound" for m in d["messages"])
sys.exit(0 if ok else 1)' <<<"$out"

# one consistent file alone: exit 0
out=$(mc 10 analyze -f "$A/ok/shop.yaml")
expect "-f with one consistent file: exit 0" "$?" 0
printf 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: lone}\nspec:\n  host: lone.example.com\n  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n' \
    >"$A/warn.yaml"
out=$(mc 10 analyze -f "$A/warn.yaml")
expect "warnings only: exit 0" "$?" 0
check "warnings only: IST0174" grep -q 'IST0174' <<<"$out"

# a file that does not load: its errors as IST0106, exit 1
printf 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: x}\nspec: {host: a, subsetz: []}\n' \
    >"$A/broken.yaml"
out=$(mc 10 analyze -f "$A/broken.yaml" 2>&1)
expect "a broken file: exit 1" "$?" 1
check "a broken file: IST0106 at file:line:col" grep -qF \
    "Error [IST0106] ($A/broken.yaml:4:" <<<"$out"

# nothing named: the config directory meshctl uses (-c)
out=$(mc 10 -c "$A/bad" analyze)
expect "no arguments, -c dir: exit 1" "$?" 1
check "no arguments: the -c directory's problems" grep -q \
    'Referenced host not found: "gone.example.com"' <<<"$out"
out=$(mc 10 analyze -c "$A/ok")
expect "-c after the command too" "$?" 0

finish
