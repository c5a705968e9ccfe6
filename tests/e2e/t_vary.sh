#!/bin/bash
# SPDX-License-Identifier: ISC
# Answers that depend on a header or the path (VirtualService matches)
# are reused only for requests that agree on those values: proxy-d keys
# them by the values route-d's answer says it looked at, and requests
# that arrived together with different values each get their own answer.
. "$(dirname "$0")/lib.sh"

B1=$(port 1) B2=$(port 2) P=$(port 10)
backend v1 "$B1"
backend v2 "$B2"
cat >"$T/etc/svc.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc}
spec:
  hosts: [svc.example]
  ports: [{number: 80, name: http}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $B1}, labels: {version: v1}}
  - {address: 127.0.0.1, ports: {http: $B2}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc}
spec:
  host: svc.example
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc}
spec:
  hosts: [svc.example]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: svc.example, subset: v2}}]
  - match: [{uri: {prefix: /two}}]
    route: [{destination: {host: svc.example, subset: v2}}]
  - route: [{destination: {host: svc.example, subset: v1}}]
YAML
proxy app "$P"
route_d -R 60000
proxy_d app "$P"
U=http://127.0.0.1:$P

who() { curl -s -o /dev/null -w '%{header_json}' "$@" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["x-backend"][0])'; }

seq_got=""
for i in 1 2 3; do
	seq_got="$seq_got $(who -H 'Host: svc.example' -H 'end-user: jason' $U/)"
	seq_got="$seq_got $(who -H 'Host: svc.example' $U/)"
	seq_got="$seq_got $(who -H 'Host: svc.example' -H 'end-user: bob' $U/)"
	seq_got="$seq_got $(who -H 'Host: svc.example' $U/two/x)"
done
expect "header and path matches hold while answers are reused" "$seq_got" \
	" v2 v1 v1 v2 v2 v1 v1 v2 v2 v1 v1 v2"

# many at once, mixed: each request gets the answer for its own values
bad=0
for round in 1 2 3; do
	kids=""
	for i in $(seq 20); do
		if [ $((i % 2)) = 0 ]; then
			( [ "$(who -H 'Host: svc.example' -H 'end-user: jason' $U/)" = v2 ] ||
			    echo bad >>"$T/bad" ) &
		else
			( [ "$(who -H 'Host: svc.example' $U/)" = v1 ] ||
			    echo bad >>"$T/bad" ) &
		fi
		kids="$kids $!"
	done
	# only these: a bare wait would wait for the daemons too
	for k in $kids; do wait "$k"; done
	sleep 0.2
done
[ -f "$T/bad" ] && bad=$(wc -l <"$T/bad")
expect "60 concurrent mixed requests, each routed by its own header" "$bad" 0

# reuse really happens: route-d answered far fewer questions than requests
q=$(timeout 5 nngcat --req --dial "ipc://$MESHKIT_RUNDIR/route.sock" --raw \
	--data "$(printf 'meshkit/1 status\n')" | sed -n 's/^queries: //p')
case "$q" in
'') not_ok "route-d's question count not readable" ;;
*) if [ "$q" -lt 40 ]; then ok "answers reused: route-d asked $q times for 72 requests"
   else not_ok "answers reused (route-d asked $q times for 72 requests)"; fi ;;
esac
check "proxy-d alive" alive app
finish
