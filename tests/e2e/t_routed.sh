#!/bin/bash
# SPDX-License-Identifier: ISC
# route-d serving several proxy-d, and route-d failing under them: killed,
# restarted, stopped.  proxy-d must never hang or crash, serve the hosts
# it knows from its last answers, fail the others fast with 503 RDU, and
# pick route-d up again by itself.
. "$(dirname "$0")/lib.sh"

SOCK=$MESHKIT_RUNDIR/route.sock
B1=$(port 1)
B2=$(port 2)
PA=$(port 10)
PB=$(port 11)
PC=$(port 12)
PS=$(port 13)
PF=$(port 14)
PN=$(port 15)

# another run on the same ports would make every check below confusing
for p in "$B1" "$B2" "$PA" "$PB" "$PC" "$PS" "$PF" "$PN"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

# A Proxy resource: proxy_ns NAME PORT NAMESPACE [ROUTE_FIELDS]
proxy_ns() {
	{
		printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n'
		printf 'metadata: {name: %s, namespace: %s}\nspec:\n' "$1" "$3"
		printf '  workload: {name: %s, namespace: %s, labels: {app: %s}}\n' \
		    "$1" "$3" "$1"
		printf '  listeners:\n  - {name: out, direction: outbound, address: 127.0.0.1:%s}\n' "$2"
		printf '  daemons:\n    route: {address: "ipc://%s"%s}\n' "$SOCK" \
		    "${4:+, $4}"
	} >"$T/etc/proxy-$1.yaml"
}

# A ServiceEntry of one namespace, visible only there:
# se_ns NAME NAMESPACE HOST ENDPOINT_PORT
se_ns() {
	cat >"$T/etc/se-$1.yaml" <<-EOF
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata: {name: $1, namespace: $2}
	spec:
	  hosts: [$3]
	  exportTo: ["."]
	  ports: [{number: 80, name: http, protocol: HTTP}]
	  resolution: STATIC
	  endpoints: [{address: 127.0.0.1, ports: {http: $4}}]
	EOF
}

# req PORT HOST : "CODE FLAGS SECONDS" of one request, never over 5 s
req() {
	curl -s -o /dev/null -D "$T/h.$1" --max-time 5 \
	    -w '%{time_total}' -H "Host: $2" "http://127.0.0.1:$1/" \
	    >"$T/t.$1" 2>/dev/null
	printf '%s %s %s' \
	    "$(tr -d '\r' <"$T/h.$1" | awk 'NR == 1 {print $2}')" \
	    "$(tr -d '\r' <"$T/h.$1" |
	    awk 'tolower($1) == "x-meshkit-flags:" {print $2}')" \
	    "$(cat "$T/t.$1")"
}
code() { req "$1" "$2" | awk '{print $1}'; }
backend_of() {
	curl -s -D - -o /dev/null --max-time 5 -H "Host: $2" \
	    "http://127.0.0.1:$1/" | tr -d '\r' |
	    awk 'tolower($1) == "x-backend:" {print $2}'
}
# fast_rdu NAME PORT HOST : 503 RDU in under 2 s
fast_rdu() {
	r=$(req "$2" "$3")
	set -- "$1" $r - - -
	if [ "$2" = 503 ] && [ "$3" = RDU ] &&
	    awk -v t="$4" 'BEGIN {exit !(t < 2.0)}'; then
		ok "$1 ($4 s)"
	else
		not_ok "$1 (got '$2 $3' in ${4:-?} s, want 503 RDU under 2 s)"
	fi
}
routed_status() {
	timeout 10 nngcat --req --dial "ipc://$SOCK" --raw --recv-timeout 5 \
	    --data "$(printf 'meshkit/1 status\n')" 2>/dev/null
}
status_field() { routed_status | sed -n "s/^$1: //p"; }
# load NAME PORT HOST COUNT : COUNT sequential requests in the background,
# one status code a line in $T/NAME.codes
load() {
	(
		for _ in $(seq "$4"); do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
			    -H "Host: $3" "http://127.0.0.1:$2/"
			sleep 0.01
		done
	) >"$T/$1.codes" 2>/dev/null &
	LOAD_PIDS="$LOAD_PIDS $!"
}
# load_wait : for every load started (60 s at most)
load_wait() {
	for p in $LOAD_PIDS; do
		for _ in $(seq 600); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LOAD_PIDS=""
}
LOAD_PIDS=""
not_200() { grep -vc '^200$' "$T/$1.codes"; }

cleanup() {
	p=$(pid_of route-d)
	[ -n "$p" ] && kill -CONT "$p" 2>/dev/null
	for p in $LOAD_PIDS; do kill "$p" 2>/dev/null; done
}
trap 'cleanup; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM

backend b1 "$B1"
backend b2 "$B2"
se_ns api1 ns1 api.ns1.svc.cluster.local "$B1"
se_ns api2 ns2 api.ns2.svc.cluster.local "$B2"
se svc svc 80 "$B1"
proxy_ns pa "$PA" ns1
proxy_ns pb "$PB" ns2
proxy_ns pc "$PC" default "cache: false"
proxy_ns ps "$PS" default "timeout: 300ms"
proxy_ns pf "$PF" default "failurePolicy: closed"

# -R 500: answers expire quickly, so "served after route-d died" below
# means served from stale answers, not from answers still fresh.
route_d -R 500
proxy_d pa "$PA"
proxy_d pb "$PB"
proxy_d pc "$PC"
proxy_d ps "$PS"
proxy_d pf "$PF"

# --- one route-d, two workloads in two namespaces
expect "pa (ns1): short name api goes to ns1's service" \
    "$(backend_of "$PA" api)" b1
expect "pb (ns2): short name api goes to ns2's service" \
    "$(backend_of "$PB" api)" b2
expect "pa: ns2's service is not exported to ns1" \
    "$(req "$PA" api.ns2.svc.cluster.local | awk '{print $1, $2}')" "404 NR"
expect "pb: ns1's service is not exported to ns2" \
    "$(req "$PB" api.ns1.svc.cluster.local | awk '{print $1, $2}')" "404 NR"
expect "pa: shared service" "$(code "$PA" svc)" 200
expect "pb: shared service" "$(code "$PB" svc)" 200
for _ in 1 2 3 4 5; do code "$PA" api >/dev/null; code "$PB" api >/dev/null; done
expect "pa still right after interleaved requests" "$(backend_of "$PA" api)" b1
expect "pb still right after interleaved requests" "$(backend_of "$PB" api)" b2

# --- cache: false: every request is a consult
q0=$(status_field queries)
for _ in $(seq 10); do code "$PC" svc >/dev/null; done
q1=$(status_field queries)
check "cache: false: 10 requests, at least 10 consults ($q0 -> $q1)" \
    test "$((q1 - q0))" -ge 10
q0=$(status_field queries)
for _ in $(seq 10); do code "$PA" svc >/dev/null; done
q1=$(status_field queries)
check "cache on: 10 quick requests, fewer than 10 consults ($q0 -> $q1)" \
    test "$((q1 - q0))" -lt 10

# --- SIGKILL under traffic
code "$PS" svc >/dev/null
code "$PF" svc >/dev/null
load ka "$PA" api 300
load kc "$PC" svc 150
sleep 1
stop route-d KILL
sleep 1.5
check "proxy-d pa alive after route-d died" alive pa
fast_rdu "route-d dead: never-seen host is a fast 503 RDU" "$PA" never.example
fast_rdu "route-d dead, cache: false: never-seen host is a fast 503 RDU" \
    "$PC" never.example
r=$(req "$PC" svc)
case "$r" in
"200 "* | "503 RDU "*) ok "route-d dead, cache: false: known host: $r" ;;
*) not_ok "route-d dead, cache: false: known host: got '$r', want 200 or 503 RDU" ;;
esac
load_wait
expect "route-d killed mid-load: known host served from stale answers" \
    "$(not_200 ka)" 0
expect "... and all 300 requests answered" "$(wc -l <"$T/ka.codes")" 300
check "cache: false under the kill: only 200 or 503, no hang or reset" \
    bash -c "! grep -vqE '^(200|503)$' '$T/kc.codes'"
expect "route-d dead: pb serves what it knew" "$(code "$PB" api)" 200
expect "route-d dead, failurePolicy: closed: expired answer not used" \
    "$(req "$PF" svc | awk '{print $1, $2}')" "503 RDU"
for n in pa pb pc ps pf; do check "$n alive after route-d was killed" alive $n; done

# --- restart on the same socket; a service added meanwhile
se fresh fresh.example 80 "$B2"
mv "$T/route-d.log" "$T/route-d.1.log"
route_d -R 500
check "route-d restarted" until_ok 5 alive route-d
check "new host routed within 5 s of the restart, proxy-d not restarted" \
    until_ok 5 bash -c "[ \"\$(curl -s -D - -o /dev/null --max-time 5 \
    -H 'Host: fresh.example' http://127.0.0.1:$PA/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"
check "cache: false: recovered after the restart" \
    until_ok 5 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    --max-time 5 -H 'Host: fresh.example' http://127.0.0.1:$PC/)\" = 200 ]"
check "pb recovered too" until_ok 5 bash -c \
    "[ \"\$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: fresh.example' \
    http://127.0.0.1:$PB/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"

# --- kill again while cache: false is under load, then restart
load kc2 "$PC" svc 150
sleep 0.5
stop route-d KILL
sleep 1
mv "$T/route-d.log" "$T/route-d.2.log"
route_d -R 500
load_wait
check "cache: false, route-d killed and restarted mid-load: only 200/503" \
    bash -c "! grep -vqE '^(200|503)$' '$T/kc2.codes'"
check "cache: false: served again after the second restart" \
    until_ok 5 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    --max-time 5 -H 'Host: svc' http://127.0.0.1:$PC/)\" = 200 ]"
check "cache: false: last requests of the load were served" \
    bash -c "[ \"\$(tail -1 '$T/kc2.codes')\" = 200 ]"

# --- route-d hung (SIGSTOP), consult timeout 300ms
code "$PS" svc >/dev/null
code "$PS" api >/dev/null
RPID=$(pid_of route-d)
kill -STOP "$RPID"
sleep 1	# past the 500 ms reuse: the next consult must time out
r=$(req "$PS" svc)
set -- $r - - -
if [ "$1" = 200 ] && awk -v t="$3" 'BEGIN {exit !(t < 2.0)}'; then
	ok "route-d stopped: known host served ($3 s)"
else
	not_ok "route-d stopped: known host: got '$r', want 200 under 2 s"
fi
r=$(req "$PS" unknown.example)
set -- $r - - -
if [ "$1" = 503 ] && [ "$2" = RDU ] &&
    awk -v t="$3" 'BEGIN {exit !(t < 1.5)}'; then
	ok "route-d stopped: unknown host 503 RDU within the timeout ($3 s)"
else
	not_ok "route-d stopped: unknown host: got '$r', want 503 RDU in ~0.3 s"
fi
fast_rdu "route-d stopped, default timeout: unknown host 503 RDU" \
    "$PA" unknown2.example
load ks "$PS" svc 50
load_wait
expect "route-d stopped: 50 requests for a known host, all 200" \
    "$(not_200 ks)" 0
# 40 never-seen hosts at once: each must fail on its own timeout, not
# queue behind the others
for i in $(seq 40); do
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 \
	    -H "Host: par$i.example" "http://127.0.0.1:$PS/" >"$T/par$i.out" &
	eval "PAR$i=\$!"
done
for i in $(seq 40); do eval "wait \$PAR$i"; done
expect "route-d stopped: 40 parallel unknown hosts, all 503" \
    "$(cat "$T"/par*.out | grep -c '^503 ')" 40
check "route-d stopped: ... each within 3 s" \
    awk '$2 >= 3.0 {bad++} END {exit bad > 0}' "$T"/par*.out
# a proxy-d started while route-d hangs comes up and fails fast
proxy_ns pn "$PN" default "timeout: 300ms"
proxy_d pn "$PN"
check "route-d stopped: a new proxy-d starts" alive pn
r=$(req "$PN" svc)
set -- $r - - -
if [ "$1" = 503 ] && [ "$2" = RDU ] &&
    awk -v t="$3" 'BEGIN {exit !(t < 2.0)}'; then
	ok "route-d stopped: new proxy-d answers 503 RDU fast ($3 s)"
else
	not_ok "route-d stopped: new proxy-d: got '$r', want 503 RDU under 2 s"
fi
kill -CONT "$RPID"
check "route-d continued: unknown host is now answered (404 NR)" \
    until_ok 5 bash -c "curl -s -D - -o /dev/null --max-time 5 \
    -H 'Host: unknown.example' http://127.0.0.1:$PS/ | tr -d '\r' |
    grep -qi '^x-meshkit-flags: NR'"
expect "route-d continued: routed again" "$(backend_of "$PS" fresh.example)" b2
check "route-d continued: the proxy-d started meanwhile routes" \
    until_ok 5 bash -c "[ \"\$(curl -s -D - -o /dev/null --max-time 5 \
    -H 'Host: fresh.example' http://127.0.0.1:$PN/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"
for n in pa pb pc ps pf pn; do check "$n alive at the end" alive $n; done
check "route-d alive at the end" alive route-d

cleanup
finish
