#!/bin/bash
# SPDX-License-Identifier: ISC
# SIGHUP: proxy-d and route-d take a changed config, refuse a broken one
# whole (the old one stays, the log says file:line:col), and reload under
# load without failing a single request.
. "$(dirname "$0")/lib.sh"

SOCK=$MESHKIT_RUNDIR/route.sock
B1=$(port 1)
B2=$(port 2)
P1=$(port 10)
P2=$(port 11)
P3=$(port 12)
P4=$(port 13)

# another run on the same ports would make every check below confusing
for p in "$B1" "$B2" "$P1" "$P2" "$P3" "$P4"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

cleanup() {
	for n in route-d rd2 rd3; do
		p=$(pid_of $n)
		[ -n "$p" ] && kill -CONT "$p" 2>/dev/null
	done
}
trap 'cleanup; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM

# code PORT HOST [CURL_ARGS] : status code of one request
code() {
	p=$1 h=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $h" \
	    "$@" "http://127.0.0.1:$p/"
}
backend_of() {
	curl -s -D - -o /dev/null --max-time 5 -H "Host: $2" \
	    "http://127.0.0.1:$1/" | tr -d '\r' |
	    awk 'tolower($1) == "x-backend:" {print $2}'
}
# curl arguments for N extra request headers
headers() {
	for i in $(seq "$1"); do printf -- '-H\nx-extra-%d: %d\n' "$i" "$i"; done
}
many_headers() {
	mapfile -t h < <(headers "$3")
	code "$1" "$2" "${h[@]}"
}
# count NAME PATTERN : lines of NAME's log matching PATTERN
count() { grep -cE "$2" "$T/$1.log"; }
# hup NAME PATTERN : SIGHUP, then wait (10 s) for one more log line
# matching PATTERN
hup() {
	n0=$(count "$1" "$2")
	kill -HUP "$(pid_of "$1")"
	until_ok 10 bash -c "[ \$(grep -cE '$2' '$T/$1.log') -gt $n0 ]"
}
generation() {
	timeout 10 "$BIN/meshctl" -o json status -s "ipc://$SOCK" 2>/dev/null |
	    python3 -c 'import json, sys
print(json.load(sys.stdin)["daemons"][0].get("generation"))' 2>/dev/null
}

# px_config LISTENER_PORTS MAX_HEADERS
px_config() {
	{
		printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n'
		printf 'metadata: {name: px}\nspec:\n'
		printf '  workload: {name: px, labels: {app: px}}\n  listeners:\n'
		for p in $1; do
			printf '  - {name: out%s, direction: outbound, address: "127.0.0.1:%s"}\n' \
			    "$p" "$p"
		done
		printf '  daemons:\n    route: {address: "ipc://%s"}\n' "$SOCK"
		printf '  limits: {maxHeaders: %s}\n' "$2"
	} >"$T/etc/proxy-px.yaml"
}

backend b1 "$B1"
backend b2 "$B2"
se svc svc 80 "$B1"
px_config "$P1" 100
route_d -R 1000
proxy_d px "$P1"

# --- proxy-d: a listener added, a limit changed
expect "before: 40 extra headers pass (maxHeaders 100)" \
    "$(many_headers "$P1" svc 40)" 200
px_config "$P1 $P2" 20
check "proxy-d SIGHUP: new generation" hup px 'generation [0-9]+ in force'
check "new listener accepts" wait_port "$P2"
expect "new listener serves" "$(backend_of "$P2" svc)" b1
expect "old listener still serves" "$(backend_of "$P1" svc)" b1
expect "changed limit: 40 headers now refused with 431" \
    "$(many_headers "$P1" svc 40)" 431
expect "changed limit: 10 headers pass" "$(many_headers "$P1" svc 10)" 200

# --- proxy-d: a broken file is refused whole
# the broken file first: a reload by the directory watch between the
# two writes must not see the good change alone
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: broken\nspec:\n  hosts: [x]\n' \
    >"$T/etc/zz-broken.yaml"
px_config "$P1 $P2 $P3" 100
check "broken file: reload refused" hup px 'reload refused'
check "broken file: the log says file:line:col" \
    grep -qE 'zz-broken\.yaml:[0-9]+:[0-9]+: ' "$T/px.log"
check "broken file: no generation 3" \
    bash -c "! grep -q 'generation 3 in force' '$T/px.log'"
expect "broken file: still served" "$(backend_of "$P1" svc)" b1
expect "broken file: second listener still served" "$(backend_of "$P2" svc)" b1
expect "broken file: the good changes beside it were not taken (limit 20)" \
    "$(many_headers "$P1" svc 40)" 431
check "broken file: the listener of the refused config is not opened" \
    bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$P3) 2>/dev/null"

# a well-formed file with a bad value: refused too
rm -f "$T/etc/zz-broken.yaml"
se badport badport.example 99999 "$B1"
check "bad port: reload refused" hup px 'reload refused'
check "bad port: the log says file:line:col" \
    grep -qE 'se-badport\.yaml:[0-9]+:[0-9]+: .*port' "$T/px.log"
expect "bad port: still served" "$(backend_of "$P1" svc)" b1
printf 'a: &x 1\nb: *x\n' >"$T/etc/zz-alias.yaml"
rm -f "$T/etc/se-badport.yaml"
check "aliases: reload refused" hup px 'reload refused'
check "aliases: the log says file:line:col" \
    grep -qE 'zz-alias\.yaml:[0-9]+:[0-9]+: ' "$T/px.log"
rm -f "$T/etc/zz-alias.yaml"
check "fixed: reload accepted" hup px 'generation [0-9]+ in force'
check "fixed: third listener opened" wait_port "$P3"
expect "fixed: limit back to 100" "$(many_headers "$P1" svc 40)" 200

# a listener removed while a request on it is in flight: the request ends
curl -s -o "$T/slow.body" -w '%{http_code}' --max-time 10 -H 'Host: svc' \
    "http://127.0.0.1:$P3/delay/1500" >"$T/slow.code" 2>/dev/null &
SLOW=$!
sleep 0.4
px_config "$P1 $P2" 100
check "listener removed: reload" hup px 'generation [0-9]+ in force'
check "listener removed: no new connection on it" until_ok 3 \
    bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$P3) 2>/dev/null"
wait "$SLOW"
expect "listener removed: the request in flight on it completed" \
    "$(cat "$T/slow.code")" 200
check "proxy-d alive after the reloads" alive px

# --- route-d: a new service, a moved one, a broken file
expect "route-d generation 1" "$(generation)" 1
expect "before: new.example unknown" "$(code "$P1" new.example)" 404
se newsvc new.example 80 "$B2"
se svc svc 80 "$B2"
check "route-d SIGHUP: generation 2" hup route-d 'generation [0-9]+:'
expect "meshctl status: generation 2" "$(generation)" 2
check "new service routed" until_ok 5 bash -c \
    "[ \"\$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: new.example' \
    http://127.0.0.1:$P1/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"
# the answer for svc was reusable for 1 s: the move shows within 3 s
check "moved service: new endpoint within the reuse time" until_ok 3 \
    bash -c "[ \"\$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: svc' \
    http://127.0.0.1:$P1/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: broken\n spec: {\n' \
    >"$T/etc/zz-broken.yaml"
se gone gone.example 80 "$B1"
check "route-d broken file: reload failed" hup route-d 'reload failed'
check "route-d broken file: the log says file:line:col" \
    grep -qE 'zz-broken\.yaml:[0-9]+:[0-9]+: ' "$T/route-d.log"
expect "route-d broken file: meshctl status generation unchanged" \
    "$(generation)" 2
expect "route-d broken file: old config still routes" \
    "$(backend_of "$P1" new.example)" b2
expect "route-d broken file: service of the refused config not routed" \
    "$(code "$P1" gone.example)" 404
rm -f "$T/etc/zz-broken.yaml" "$T/etc/se-gone.yaml"
check "route-d fixed: generation 3" hup route-d 'generation [0-9]+:'
expect "meshctl status: generation 3" "$(generation)" 3

# --- reload under load: zero failed requests
se svc svc 80 "$B1" "$B2"
hup route-d 'generation [0-9]+:' >/dev/null
wrk -t 1 -c 20 -d 5s --timeout 5s -H 'Host: svc' "http://127.0.0.1:$P1/" \
    >"$T/wrk.out" 2>&1 &
WRK=$!
sleep 0.5
for i in 1 2 3 4 5 6; do
	# every other reload changes something for real
	if [ $((i % 2)) = 0 ]; then
		px_config "$P1 $P2" 100
		se svc svc 80 "$B2" "$B1"
	else
		px_config "$P1 $P2 $P3" 100
		se svc svc 80 "$B1" "$B2"
	fi
	kill -HUP "$(pid_of px)"
	kill -HUP "$(pid_of route-d)"
	sleep 0.6
done
for _ in $(seq 150); do kill -0 "$WRK" 2>/dev/null || break; sleep 0.1; done
kill "$WRK" 2>/dev/null
wait "$WRK" 2>/dev/null
total=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$T/wrk.out")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' \
    "$T/wrk.out")
sockerr=$(grep 'Socket errors' "$T/wrk.out")
check "wrk under reloads: ran (${total:-0} requests)" test "${total:-0}" -gt 200
expect "wrk under reloads: no non-2xx responses" "${non2xx:-0}" 0
expect "wrk under reloads: no socket errors" "$sockerr" ""
check "proxy-d took all 6 reloads" \
    test "$(count px 'generation [0-9]+ in force')" -ge 9
check "route-d took all 6 reloads" \
    test "$(count route-d 'generation [0-9]+:')" -ge 10
check "proxy-d alive after the load" alive px
check "route-d alive after the load" alive route-d
[ "$E2E_FAILED" -gt 0 ] && cat "$T/wrk.out"

# the same with plain curl: 4 parallel loops of 100, reloads meanwhile
for j in 1 2 3 4; do
	(
		for _ in $(seq 100); do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
			    -H 'Host: svc' "http://127.0.0.1:$P1/"
		done
	) >"$T/curl$j.codes" 2>/dev/null &
	eval "CURL$j=\$!"
done
for i in 1 2 3 4; do
	kill -HUP "$(pid_of px)"
	kill -HUP "$(pid_of route-d)"
	sleep 0.4
done
for j in 1 2 3 4; do
	eval "p=\$CURL$j"
	for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
expect "curl loops under reloads: 400 answers" \
    "$(cat "$T"/curl?.codes | wc -l)" 400
expect "curl loops under reloads: all 200" \
    "$(cat "$T"/curl?.codes | grep -vc '^200$')" 0

# --- reload of the daemon settings: timeout, address
# pt_config ADDRESS TIMEOUT
pt_config() {
	cat >"$T/etc/proxy-pt.yaml" <<-EOF
	apiVersion: meshkit.io/v1alpha1
	kind: Proxy
	metadata: {name: pt}
	spec:
	  listeners: [{name: out, direction: outbound, address: "127.0.0.1:$P4"}]
	  daemons: {route: {address: "$1", timeout: $2}}
	EOF
}
# timed PORT HOST : "CODE SECONDS"
timed() {
	curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 8 \
	    -H "Host: $2" "http://127.0.0.1:$1/"
}
# within "CODE SECONDS" CODE MIN MAX
within() {
	awk -v c="${1% *}" -v t="${1#* }" -v want="$2" -v lo="$3" -v hi="$4" \
	    'BEGIN {exit !(c == want && t >= lo && t < hi)}'
}
pt_config "ipc://$SOCK" 3s
proxy_d pt "$P4"
expect "pt serves" "$(code "$P4" svc)" 200
kill -STOP "$(pid_of route-d)"
r=$(timed "$P4" u1.example)
check "route-d stopped, timeout 3s: 503 after about 3 s ($r)" \
    within "$r" 503 2 5
pt_config "ipc://$SOCK" 300ms
check "timeout changed to 300ms: reload" hup pt 'generation [0-9]+ in force'
r=$(timed "$P4" u2.example)
check "route-d stopped, timeout now 300ms: 503 in under 1.5 s ($r)" \
    within "$r" 503 0 1.5
kill -CONT "$(pid_of route-d)"

# a second route-d with its own config: the reload moves pt over to it
mkdir -p "$T/etc2"
cat >"$T/etc2/se.yaml" <<-EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: only2}
spec:
  hosts: [only2.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: $B2}}]
EOF
spawn rd2 "$BIN/route-d" -c "$T/etc2" -s "ipc://$MESHKIT_RUNDIR/route2.sock"
wait_file "$MESHKIT_RUNDIR/route2.sock"
expect "before the move: only2.example unknown to pt" \
    "$(code "$P4" only2.example)" 404
pt_config "ipc://$MESHKIT_RUNDIR/route2.sock" 300ms
check "address changed: reload" hup pt 'generation [0-9]+ in force'
check "address changed: pt asks the new route-d" until_ok 5 bash -c \
    "[ \"\$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: only2.example' \
    http://127.0.0.1:$P4/ | tr -d '\r' |
    awk 'tolower(\$1) == \"x-backend:\" {print \$2}')\" = b2 ]"

# moving to a route-d that hangs must not stall proxy-d's event loop
spawn rd3 "$BIN/route-d" -c "$T/etc2" -s "ipc://$MESHKIT_RUNDIR/route3.sock"
wait_file "$MESHKIT_RUNDIR/route3.sock"
kill -STOP "$(pid_of rd3)"
pt_config "ipc://$MESHKIT_RUNDIR/route3.sock" 300ms
n0=$(count pt 'generation [0-9]+ in force')
kill -HUP "$(pid_of pt)"
sleep 0.2
r=$(timed "$P4" only2.example)
check "reload to a hung route-d: known host still served at once ($r)" \
    within "$r" 200 0 2
check "reload to a hung route-d: takes effect within 2 s" until_ok 2 \
    bash -c "[ \$(grep -cE 'generation [0-9]+ in force' '$T/pt.log') -gt $n0 ]"
kill -CONT "$(pid_of rd3)"
check "pt alive at the end" alive pt

cleanup
finish
