#!/bin/bash
# SPDX-License-Identifier: ISC
# A daemon that dies while proxy-d's connection to it is still in its
# handshake: nng 1.5's dialer then gives up for good, and a proxy-d used
# to stay away from the daemon started after it (seen as a proxy that
# never reported to a restarted stats-d).  proxy-d now replaces a dialer
# whose statistics stood still for 11 s while its link was down: it
# joins the real route-d and stats-d, and requests are routed and
# counted.  A second stats-d, watching route-d's status
# (-d), makes its socket anew after unanswered polls and sees it up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 2) H=$(port 3) W=$(port 4)
ports_free "$B" "$P" "$H" "$W"

mesh_stats "$H"
se svc svc 80 "$B"
proxy px "$P" "    stats: {address: ipc://$RUN/stats-records.sock}"
backend b1 "$B"

spawn watcher "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/watch.sock" \
	-r "ipc://$RUN/watch-records.sock" -H "127.0.0.1:$W" \
	-d "route-d=ipc://$RUN/route.sock"
wait_port "$W"

# both daemons' sockets hang up on every connection for 2 s
spawn hang-route python3 "$TOP/tests/e2e/hangup.py" "$RUN/route.sock" 2
spawn hang-stats python3 "$TOP/tests/e2e/hangup.py" "$RUN/stats-records.sock" 2
wait_file "$RUN/route.sock"
wait_file "$RUN/stats-records.sock"
proxy_d px "$P" -v
wait "$(pid_of hang-route)" "$(pid_of hang-stats)"
check "proxy-d met route-d's socket hanging up" \
	test "$(cat "$T/hang-route.log")" -gt 0
check "proxy-d met stats-d's socket hanging up" \
	test "$(cat "$T/hang-stats.log")" -gt 0

# then the real daemons
t0=$(date +%s%N)
route_d
spawn stats-d "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" \
	-r "ipc://$RUN/stats-records.sock"
wait_port "$H"
until_ok 16 eval 'grep -q "route-d at .* connected$" "$T/px.log" && grep -q "stats-d at .* connected$" "$T/px.log"'
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "proxy-d joined route-d ${ms} ms after it started (< 14000)" eval \
	'grep -q "route-d at .* connected$" "$T/px.log" && [ "$ms" -lt 14000 ]'
check "proxy-d joined stats-d" grep -q "stats-d at .* connected$" "$T/px.log"
check "and dialled anew to do it" grep -q "stopped redialling.*dialling anew" "$T/px.log"
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 5 -H 'Host: svc' "http://127.0.0.1:$P/"
done
expect "a request through proxy-d" "$(curl -s --max-time 5 -H 'Host: svc' \
	"http://127.0.0.1:$P/")" "hello from mk-backend b1"
until_ok 5 eval 'curl -s --max-time 5 "http://127.0.0.1:$H/metrics" | grep -q "^istio_requests_total{.*response_code=\"200\".* 4$"'
check "stats-d counts the four requests" eval \
	'curl -s --max-time 5 "http://127.0.0.1:$H/metrics" | grep -q "^istio_requests_total{.*response_code=\"200\".* 4$"'
up() { curl -s --max-time 5 "http://127.0.0.1:$W/metrics" | grep -q '^meshkit_daemon_up{daemon="route-d"} 1$'; }
until_ok 10 up
check "the watching stats-d sees route-d up" up
check "proxy-d alive" alive px

trap - EXIT
finish
