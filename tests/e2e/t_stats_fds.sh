#!/bin/bash
# SPDX-License-Identifier: ISC
# Clients that hold stats-d's HTTP port until it runs out of descriptors:
# stats-d rests its listener instead of calling accept(2) again at once
# (libevent's default: a spinning thread and a warning per turn, a log
# that grows by the megabyte); once they go, /metrics answers again.
. "$(dirname "$0")/lib.sh"

RUN=$MESHKIT_RUNDIR
H=$(port 1)
ports_free "$H"
mesh_stats "$H"

spawn stats-d sh -c 'ulimit -n 64 && exec "$@"' sh "$BIN/stats-d" -c "$T/etc" \
	-s "ipc://$RUN/stats.sock" -r "ipc://$RUN/stats-records.sock"
wait_port "$H"
pid=$(pid_of stats-d)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# 100 connections held for 4 s: more than the 64 descriptors stats-d has
python3 - "$H" >"$T/holders.log" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(100):
    try:
        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1))
    except OSError:
        break
print(len(held), flush=True)
time.sleep(4)
PY
holders=$!
sleep 1
t0=$(ticks)
l0=$(wc -l <"$T/stats-d.log")
sleep 2
t1=$(ticks)
l1=$(wc -l <"$T/stats-d.log")
used=$((t1 - t0))
check "100 connections made" test "$(head -1 "$T/holders.log")" -eq 100
check "out of descriptors, stats-d rests: $used CPU ticks in 2 s (< 50)" test "$used" -lt 50
check "warned once a second at most: $((l1 - l0)) lines in 2 s" test $((l1 - l0)) -le 3
check "and said why" grep -q "accept: Too many open files" "$T/stats-d.log"
wait "$holders"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$H/metrics"; }
until_ok 5 eval '[ "$(code)" = 200 ]'
expect "once they are gone, /metrics answers" "$(code)" 200
check "stats-d alive" alive stats-d

trap - EXIT
finish
