#!/bin/bash
# SPDX-License-Identifier: ISC
# route-d and stats-d killed with SIGKILL over and over under load, each
# 0-90 ms after its start, while proxy-d redials.  Afterwards proxy-d is
# alive, has joined the last route-d and stats-d, and requests are routed
# and counted.  (The kill that lands inside nng's handshake, after which
# nng 1.5's dialer gives up, is rare here; t_redial makes it happen.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 2) H=$(port 3)
ports_free "$B" "$P" "$H"
ROUNDS=${RESTART_ROUNDS:-12}

mesh_stats "$H"
se svc svc 80 "$B"
proxy px "$P" "    stats: {address: ipc://$RUN/stats-records.sock}"
backend b1 "$B"
route_d
stats_d
wait_port "$H"
proxy_d px "$P"
joined route-d 0
joined stats-d 0

# a bounded load beside the kills: 30 s or 3000 requests at most
siege -q -j --no-parser -t 30S -r 3000 -c 2 -d 0.01 -H 'Host: svc' \
	"http://127.0.0.1:$P/" >"$T/siege.json" 2>"$T/siege.err" &
sg=$!
for i in $(seq "$ROUNDS"); do
	stop route-d KILL
	stop stats-d KILL
	sleep "0.0$((RANDOM % 5))"
	spawn route-d "$BIN/route-d" -c "$T/etc" -s "ipc://$RUN/route.sock"
	stats_d
	# killed again 0-90 ms after its start: proxy-d may be mid-handshake
	sleep "0.0$((RANDOM % 10))"
done
stop route-d KILL
stop stats-d KILL
kill "$sg" 2>/dev/null
wait "$sg" 2>/dev/null
check "proxy-d alive after $ROUNDS kills of each" alive px

# the last daemons, to stay
route_d
stats_d
wait_port "$H"
last() { grep -E "$1 at .* (connected|disconnected)$" "$T/px.log" | tail -1 | grep -q ' connected$'; }
until_ok 15 eval 'last route-d && last stats-d'
check "proxy-d joined the last route-d" last route-d
check "proxy-d joined the last stats-d" last stats-d
# records queued while stats-d was away reach it at the connect: count
# from what it has once those are in
total() { curl -s --max-time 5 "http://127.0.0.1:$H/metrics" | awk '/^istio_requests_total\{.*response_code="200"/ {n += $NF} END {print n + 0}'; }
sleep 0.5
base=$(total)
n=0
for _ in $(seq 20); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: svc' \
	    "http://127.0.0.1:$P/")" = 200 ] && n=$((n + 1))
done
check "20 requests after: $n answered 200" test "$n" -eq 20
until_ok 5 eval '[ "$(total)" -eq $((base + 20)) ]'
got=$(( $(total) - base ))
check "the last stats-d counts those 20 ($got)" test "$got" -eq 20
check "proxy-d alive" alive px

trap - EXIT
finish
