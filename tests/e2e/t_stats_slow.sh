#!/bin/bash
# SPDX-License-Identifier: ISC
# Scrapers that ask for /metrics and never read the answer: /metrics is
# streamed, so each holds one chunk (256 KB) of it, not a copy of the
# whole; the bytes not yet written to their sockets are counted, and past
# 32 MB of them a scrape is 503 with Retry-After, so its memory stays
# bounded; once those clients go, /metrics answers again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
H=$(port 1)
ports_free "$H"
mesh_stats "$H"
stats_d
wait_port "$H"

# 300 label sets: some 12 MB of /metrics, more than a socket buffers
{
	printf 'meshkit/1 records\nworkload: book-v1\nnamespace: default\n'
	for i in $(seq 300); do
		printf '\nreporter: source\nstart-us: 1764000000%06d\n' "$i"
		printf 'duration-us: 3000\ncode: 200\nmethod: GET\npath: /\n'
		printf 'service: rating.default.svc.cluster.local\n'
		printf 'destination-workload: rating-%s\n' "$i"
	done
} >"$T/records.txt"
nngcat --push --dial "ipc://$RUN/stats-records.sock" --file "$T/records.txt"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$H/metrics"; }
size() { curl -s --max-time 10 "http://127.0.0.1:$H/metrics" | wc -c; }
until_ok 5 eval 'curl -s --max-time 10 "http://127.0.0.1:$H/metrics" | grep -q "destination_workload=\"rating-300\""'
bytes=$(size)
check "300 label sets: $bytes bytes of /metrics (> 8 MB)" test "$bytes" -gt 8000000
before=$(rss stats-d)

# 160 scrapers with 4 KB receive buffers that never read, for 15 s at
# most: a chunk each and what the kernel took pass 32 MB
python3 - "$H" >"$T/slow.log" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(160):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
    time.sleep(0.01)
print(len(held), flush=True)
time.sleep(15)
PY
slow=$!
# measured well inside the 10 s after which libevent drops an idle
# connection (and with it what it held)
until_ok 5 eval '[ "$(cat "$T/slow.log")" = 160 ]'
sleep 1
held=$(rss stats-d)
# 32 MB pending at most; 160 whole copies would be 2 GB
if sanitized; then
	skip "stats-d's memory bounded" "RSS under the sanitizers ($held KB) is theirs"
else
	check "stats-d's memory bounded: RSS $before -> $held KB (< +100 MB)" \
		test $((held - before)) -lt 100000
fi
expect "with the answers unread, a scrape is refused" "$(code)" 503
check "with Retry-After" eval 'curl -s -D - -o /dev/null --max-time 10 "http://127.0.0.1:$H/metrics" | grep -qi "^Retry-After: 1"'
check "and it said why" grep -q "bytes of answers unread" "$T/stats-d.log"
check "the page still answers" eval \
	'[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 "http://127.0.0.1:$H/")" = 200 ]'
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
until_ok 10 eval '[ "$(code)" = 200 ]'
expect "once they are gone, /metrics answers" "$(code)" 200
check "stats-d alive" alive stats-d

trap - EXIT
finish
