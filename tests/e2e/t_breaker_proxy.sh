#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's side of breaker-d, with nngcat standing in for route-d (a
# fixed answer naming the service), for breaker-d's admit (REP), its
# reports (PULL) and its events (PUB): reports with the right results,
# ejection and return, failing open while breaker-d is away, and the
# connection-pool limits of an admit-reply.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B1=$(port 1)
B2=$(port 2)
B3=$(port 3)
P=$(port 4)
B4=$(port 5)
B5=$(port 6)
B6=$(port 7)		# answers 503 to everything
DEAD=$(port 9)		# nothing listens here


# route_standin NAME ENDPOINT_PORT... : route-d answering every question
# with service svc.example port 80 over those endpoints
route_standin() {
	name=$1
	shift
	msg=$(printf 'meshkit/1 route-reply\n\nservice: svc.example.svc.cluster.local\nport: 80\nsubset: v1\nreuse: 60000')
	for ep in "$@"; do msg=$(printf '%s\nendpoint: 127.0.0.1:%s' "$msg" "$ep"); done
	n=$(joins route-d)
	rm -f "$RUN/route.sock"
	spawn "$name" nngcat --rep --listen "ipc://$RUN/route.sock" --raw --data "$msg"
	wait_file "$RUN/route.sock"
	[ -f "$T/px.log" ] && joined route-d "$n"
	return 0
}

# admit NAME BODY : breaker-d's REP answering every admit with BODY
admit() {
	n=$(joins breaker-d)
	rm -f "$RUN/breaker.sock"
	spawn "$1" nngcat --rep --listen "ipc://$RUN/breaker.sock" --raw \
	    --data "$(printf 'meshkit/1 admit-reply\n\n%s' "$2")"
	wait_file "$RUN/breaker.sock"
	joined breaker-d "$n"
}
unadmit() { stop "$1"; rm -f "$RUN/breaker.sock"; }

# event NAME KIND ENDPOINT_PORT : breaker-d's PUB publishing one event,
# once a second, 5 times (a subscriber may join late)
event() {
	rm -f "$RUN/breaker-events.sock"
	spawn "$1" nngcat --pub --listen "ipc://$RUN/breaker-events.sock" \
	    --interval 1 --count 5 --data "$(printf 'meshkit/1 breaker-event\n\nservice: svc.example.svc.cluster.local\nsubset: v1\nport: 80\nendpoint: 127.0.0.1:%s\nevent: %s\nejection-ms: 60000\nejections: 1\nreason: 5 consecutive 5xx' "$3" "$2")"
	wait_file "$RUN/breaker-events.sock"
}

# who HOST [PATH] : the backend that answered (x-backend), or the status
who() {
	curl -s -o /dev/null -D "$T/h" --max-time 5 -H "Host: $1" \
	    "http://127.0.0.1:$P${2:-/}" >/dev/null
	b=$(header x-backend <"$T/h")
	[ -n "$b" ] && echo "$b" || awk 'NR==1 {print $2}' "$T/h"
}
reports() { grep -c "^result: $1\$" "$T/pull.log"; }

ports_free "$B1" "$B2" "$B3" "$P" "$B4" "$B5" "$B6"
backend b1 "$B1"
backend b2 "$B2"
backend b3 "$B3"
backend b4 "$B4"
proxy px "$P" "    breaker:
      timeout: 100ms"
route_standin route "$B1" "$B2"
spawn pull nngcat --pull --listen "ipc://$RUN/breaker-report.sock" --raw
wait_file "$RUN/breaker-report.sock"
proxy_d px "$P"
sleep 0.3

# --- breaker-d's REP absent: requests go (fail open) and are reported;
# the four successes in one curl, so that they come within the 100 ms a
# report folds successes for, however busy the machine
curl -s -o /dev/null --max-time 5 -H 'Host: svc' "http://127.0.0.1:$P/" \
    "http://127.0.0.1:$P/" "http://127.0.0.1:$P/" "http://127.0.0.1:$P/"
who svc /status/503 >/dev/null
who svc /status/503 >/dev/null
sleep 0.3
# successes in a row fold into one report per endpoint (100 ms); every
# failure goes, and so does the first success after one
expect "reports: 4 quick successes over 2 endpoints, one report each" \
    "$(reports 200)" 2
expect "reports: 2 results 503" "$(reports 503)" 2
for _ in 1 2; do who svc >/dev/null; done
sleep 0.3
expect "reports: each endpoint's first success after its 503 goes at once" \
    "$(reports 200)" 4
r=$(awk '/^meshkit\/1 report$/ {n++} n == 1' "$T/pull.log")
check "report: header names the workload" grep -qx 'workload: px' <<<"$r"
check "report: service" grep -qx 'service: svc.example.svc.cluster.local' \
    <<<"$r"
check "report: subset" grep -qx 'subset: v1' <<<"$r"
check "report: port" grep -qx 'port: 80' <<<"$r"
check "report: endpoint" grep -qE "^endpoint: 127.0.0.1:($B1|$B2)\$" \
    <<<"$r"
# a refused connection
stop route
route_standin route2 "$DEAD"
expect "dead endpoint: 503" "$(who dead.example)" 503
sleep 0.3
expect "report: connect-failure" "$(reports connect-failure)" 1
stop route2
route_standin route "$B1" "$B2"

# --- events: an ejected endpoint gets no traffic, a returned one does
event ev1 eject "$B2"
check "eject event logged at info" \
    until_ok 5 grep -q "breaker-d: ejects 127.0.0.1:$B2" "$T/px.log"
got=""
for _ in $(seq 10); do got="$got $(who svc)"; done
expect "ejected b2: 10 requests all to b1" "$got" \
    " b1 b1 b1 b1 b1 b1 b1 b1 b1 b1"
stop ev1
event ev2 return "$B2"
check "return event logged" \
    until_ok 5 grep -q "breaker-d: returns 127.0.0.1:$B2" "$T/px.log"
got=""
for _ in $(seq 10); do got="$got $(who svc)"; done
check "returned b2: serves again ($got)" grep -q b2 <<<"$got"
stop ev2

# --- an admit-reply's ejections and panic
admit ej "ejected: 127.0.0.1:$B1 30000
reuse: 60000"
who svc >/dev/null	# asks in the background, goes on meanwhile
sleep 0.3
got=""
for _ in $(seq 6); do got="$got $(who svc)"; done
expect "admit-reply ejects b1: all to b2" "$got" " b2 b2 b2 b2 b2 b2"
unadmit ej
check "breaker-d gone: disconnection logged" \
    until_ok 3 grep -q 'breaker-d at .* disconnected' "$T/px.log"
got=""
for _ in $(seq 6); do got="$got $(who svc)"; done
check "breaker-d gone: its ejections no longer hold ($got)" \
    grep -q b1 <<<"$got"
admit panic "ejected: 127.0.0.1:$B1 30000
panic: yes
reuse: 60000"
who svc >/dev/null
sleep 0.3
got=""
for _ in $(seq 6); do got="$got $(who svc)"; done
check "panic: ejections ignored ($got)" grep -q b1 <<<"$got"
unadmit panic

# --- limits: max-connections 1, max-pending 1
stop route
route_standin route3 "$B3"
admit lim "limits: max-connections=1 max-pending=1
reuse: 60000"
check "lim: first request (fail open while asking)" \
    test "$(who lim.example)" = b3
sleep 0.3
q=$(grep -c '^meshkit/1 admit$' "$T/lim.log")
check "admit asked ($q)" test "$q" -ge 1
a=$(awk '/^meshkit\/1 admit$/ {n++} n == 1' "$T/lim.log")
check "admit: service" grep -qx 'service: svc.example.svc.cluster.local' \
    <<<"$a"
check "admit: endpoint" grep -qx "endpoint: 127.0.0.1:$B3" <<<"$a"
check "admit: id" grep -qE '^id: [0-9]+$' <<<"$a"
pids=""
for i in $(seq 6); do
	curl -s -o /dev/null -D "$T/burst.$i" -w '%{http_code} %{time_total}\n' \
	    --max-time 5 -H 'Host: lim.example' \
	    "http://127.0.0.1:$P/delay/300" >"$T/burst.$i.out" &
	pids="$pids $!"
done
wait $pids
ok200=$(cat "$T"/burst.*.out | grep -c '^200 ')
n503=$(cat "$T"/burst.*.out | grep -c '^503 ')
expect "burst of 6: 2 served (1 at once, 1 pending)" "$ok200" 2
expect "burst of 6: 4 refused" "$n503" 4
uo=$(for i in $(seq 6); do header x-meshkit-flags <"$T/burst.$i"; done |
    grep -c '^UO$')
expect "refused with flag UO" "$uo" 4
fast=$(cat "$T"/burst.*.out | awk '$1 == 503 && $2 < 0.2' | wc -l)
expect "the refusals are fast" "$fast" 4
expect "the backend never saw more than 1 at once" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$B3/delay-peak")" 1
check "UO logged" grep -q ' 503 UO GET' "$T/px.log"
unadmit lim

# --- breaker-d away: no limits (fail open)
check "lim gone: disconnection" until_ok 3 eval \
    "[ \$(grep -c 'breaker-d at .* disconnected' '$T/px.log') -ge 2 ]"
pids=""
for i in $(seq 4); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
	    -H 'Host: lim.example' "http://127.0.0.1:$P/delay/300" \
	    >"$T/open.$i.out" &
	pids="$pids $!"
done
wait $pids
expect "breaker-d away: a burst of 4 all served" \
    "$(cat "$T"/open.*.out | grep -c '^200$')" 4
# and back: limits apply again, no restart
admit lim2 "limits: max-connections=1 max-pending=0
reuse: 60000"
who lim.example >/dev/null
sleep 0.3
pids=""
for i in $(seq 3); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
	    -H 'Host: lim.example' "http://127.0.0.1:$P/delay/300" \
	    >"$T/back.$i.out" &
	pids="$pids $!"
done
wait $pids
expect "breaker-d back: limits again (1 served, 2 refused)" \
    "$(cat "$T"/back.*.out | sort | tr '\n' ' ')" "200 503 503 "
unadmit lim2

# --- max-requests-per-connection: a connection is closed after 2
stop route3
route_standin route4 "$B4"
admit mrpc "limits: max-requests-per-connection=2
reuse: 60000"
before=$(upstream_conns "$B4")	# other runs' TIME-WAITs
who mrpc.example >/dev/null	# connection 1, request 1 (asks meanwhile)
sleep 0.3
for _ in $(seq 6); do who mrpc.example >/dev/null; done
# 7 requests: 2 on the first connection, 2 + 2 + 1 on three more
expect "7 requests, at most 2 a connection: 4 connections" \
    "$(($(upstream_conns "$B4") - before))" 4
unadmit mrpc

# --- the real route-d and breaker-d: the messages as they speak them
stop route4
stop pull
rm -f "$RUN/route.sock" "$RUN/breaker-events.sock" "$RUN/breaker-report.sock"
backend b5 "$B5"
spawn b6 "$BACKEND" -n b6 -l "127.0.0.1:$B6" -s 503
wait_port "$B6"
cat >"$T/etc/real.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: real}
spec:
  hosts: [real.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $B5}}
  - {address: 127.0.0.1, ports: {http: $B6}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: real}
spec:
  host: real.example
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1}
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 5s
      maxEjectionPercent: 100
YAML
nr=$(joins route-d)
nb=$(joins breaker-d)
route_d
spawn breaker-d "$BIN/breaker-d" -c "$T/etc"
wait_file "$RUN/breaker-events.sock"
check "real route-d joined" joined route-d "$nr"
check "real breaker-d joined" joined breaker-d "$nb"
sleep 0.6	# the report and event sockets too
got=""
for _ in $(seq 4); do got="$got $(who real.example)"; done
check "real: b6 (its 503s) reached ($got)" grep -q b6 <<<"$got"
check "real: breaker-d ejected b6 (its event logged by proxy-d)" \
    until_ok 5 grep -q "breaker-d: ejects 127.0.0.1:$B6 of real.example" \
    "$T/px.log"
got=""
for _ in $(seq 8); do got="$got $(who real.example)"; done
expect "real: b6 ejected, 8 requests all to b5" "$got" \
    " b5 b5 b5 b5 b5 b5 b5 b5"
pids=""
for i in $(seq 6); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
	    -H 'Host: real.example' "http://127.0.0.1:$P/delay/300" \
	    >"$T/real.$i.out" &
	pids="$pids $!"
done
wait $pids
expect "real: maxConnections 1, 1 pending: 2 served, 4 refused" \
    "$(cat "$T"/real.*.out | sort | uniq -c |
    awk '{ printf "%s:%s ", $2, $1 }')" "200:2 503:4 "
expect "real: b5 never saw more than 1 at once" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$B5/delay-peak")" 1

check "proxy-d alive" alive px
stop px
check "counters at exit: admits asked, failures (breaker-d away) counted" \
    grep -qE 'breaker questions [1-9][0-9]* failures [1-9]' "$T/px.log"
check "counters at exit: overflows counted" \
    grep -qE 'overflows [1-9]' "$T/px.log"
check "counters at exit: reports pushed" \
    grep -qE 'reports [1-9][0-9]* dropped [0-9]' "$T/px.log"
trap - EXIT
finish
