#!/bin/bash
# SPDX-License-Identifier: ISC
# A daemon that dies while a connection to it is still in its handshake:
# nng 1.5's dialer then gives up for good.  stats-d, watching route-d's
# status (-d) through such hang-ups, makes its socket anew after
# unanswered polls and sees route-d up once it is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
W=$(port 4)
ports_free "$W"

spawn watcher "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/watch.sock" \
	-r "ipc://$RUN/watch-records.sock" -H "127.0.0.1:$W" \
	-d "route-d=ipc://$RUN/route.sock"
wait_port "$W"

# route-d's socket hangs up on every connection for 2 s
spawn hang-route python3 "$TOP/tests/e2e/hangup.py" "$RUN/route.sock" 2
wait_file "$RUN/route.sock"
wait "$(pid_of hang-route)"
check "stats-d met route-d's socket hanging up" \
	test "$(cat "$T/hang-route.log")" -gt 0

route_d
up() { curl -s --max-time 5 "http://127.0.0.1:$W/metrics" | grep -q '^meshkit_daemon_up{daemon="route-d"} 1$'; }
until_ok 10 up
check "the watching stats-d sees route-d up" up
check "stats-d alive" alive watcher

trap - EXIT
finish
