#!/bin/bash
# SPDX-License-Identifier: ISC
# A daemon asked to stop must stop, even when a socket close never
# returns (nng 1.5's nng_close has hung so, once, in stats-d stopped
# under load).  With nng_close made to hang (tests/e2e/hangclose.c,
# preloaded), route-d, stats-d and proxy-d each exit 5 s after leaving
# their loop, with status 1 and a line saying why; without the hang,
# they stop at once with status 0.
. "$(dirname "$0")/lib.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 2) H=$(port 3)
ports_free "$B" "$P" "$H"

CC=${CC:-cc}
if ! command -v "$CC" >/dev/null ||
    ! "$CC" -shared -fPIC -o "$T/hangclose.so" "$TOP/tests/e2e/hangclose.c" \
    -ldl 2>"$T/cc.log"; then
	skip "stop deadline" "cannot build the nng_close preload: $(head -1 "$T/cc.log" 2>/dev/null)"
	trap - EXIT
	finish
	exit 0
fi
# a sanitizer's runtime wants to come first; the preload is plain C
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
FLAG=$T/hang
PRE="env LD_PRELOAD=$T/hangclose.so HANG_CLOSE_FLAG=$FLAG"

mesh_stats "$H"
se svc svc 80 "$B"
proxy px "$P" "    stats: {address: ipc://$RUN/stats-records.sock}"
backend b1 "$B"

start_all() {
	spawn route-d $PRE "$BIN/route-d" -c "$T/etc" -s "ipc://$RUN/route.sock"
	spawn stats-d $PRE "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" \
	    -r "ipc://$RUN/stats-records.sock"
	wait_file "$RUN/route.sock"
	wait_port "$H"
	spawn px $PRE "$BIN/proxy-d" -c "$T/etc" -n px
	wait_port "$P"
	for _ in 1 2 3; do
		curl -s -o /dev/null --max-time 5 -H 'Host: svc' "http://127.0.0.1:$P/"
	done
	until_ok 5 eval 'curl -s --max-time 5 "http://127.0.0.1:$H/metrics" | grep -q "^istio_requests_total{.* 3$"'
}

# stop_timed NAME... : SIGTERM them all at once; "NAME ms status" each
stop_timed() {
	local n p t0 rc
	t0=$(date +%s%N)
	for n in "$@"; do
		kill -TERM "$(pid_of "$n")"
	done
	for n in "$@"; do
		p=$(pid_of "$n")
		for _ in $(seq 150); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p"
			wait "$p" 2>/dev/null
			echo "$n still-running killed"
		else
			wait "$p"
			rc=$?
			echo "$n $(( ($(date +%s%N) - t0) / 1000000 )) $rc"
		fi
	done
}

start_all
check "the requests were counted" eval 'curl -s --max-time 5 "http://127.0.0.1:$H/metrics" | grep -q "^istio_requests_total{.* 3$"'
stop_timed px stats-d route-d >"$T/normal.txt"
while read -r n ms rc; do
	check "without a hang, $n stops at once (${ms} ms < 4000) with status 0 ($rc)" \
	    eval '[ "$ms" != still-running ] && [ "$ms" -lt 4000 ] && [ "$rc" = 0 ]'
done <"$T/normal.txt"

start_all
touch "$FLAG"
stop_timed px stats-d route-d >"$T/hung.txt"
while read -r n ms rc; do
	check "with nng_close hung, $n exits after its 5 s deadline (${ms} ms, 4500..10000) with status 1 ($rc)" \
	    eval '[ "$ms" != still-running ] && [ "$ms" -ge 4500 ] && [ "$ms" -lt 10000 ] && [ "$rc" = 1 ]'
	check "and $n says why" grep -q "not stopped 5 s after leaving its loop" "$T/$n.log"
done <"$T/hung.txt"

trap - EXIT
finish
