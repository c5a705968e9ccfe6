#!/bin/bash
# SPDX-License-Identifier: ISC
# breaker-d killed with SIGKILL in the middle of a siege: no request is
# lost (proxy-d fails open and never waits on it); once breaker-d is back,
# the DestinationRule's pool limits hold again.  The real route-d,
# breaker-d and proxy-d.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 10)
ports_free "$B" "$P"
backend b1 "$B"
se svc svc.example 80 "$B"
proxy app "$P" "    breaker: {address: ipc://$RUN/breaker.sock, reports: ipc://$RUN/breaker-report.sock, events: ipc://$RUN/breaker-events.sock}"
cat >"$T/etc/dr.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc}
spec:
  host: svc.example
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 2}
      http: {http1MaxPendingRequests: 2}
    outlierDetection: {consecutive5xxErrors: 5, interval: 1s, baseEjectionTime: 30s}
YAML
route_d
breaker() {
	spawn breaker-d "$BIN/breaker-d" -c "$T/etc" -s "ipc://$RUN/breaker.sock" \
	    -r "ipc://$RUN/breaker-report.sock" -e "ipc://$RUN/breaker-events.sock"
	wait_file "$RUN/breaker.sock"
}
breaker
proxy_d app "$P"
U=http://127.0.0.1:$P/

# burst: 6 requests at once that each hold the upstream 300 ms; prints
# how many were refused with 503 UO
burst() {
	for i in 1 2 3 4 5 6; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
		    -H 'Host: svc.example' "http://127.0.0.1:$P/delay/300" &
	done >"$T/burst.out"
	wait $(jobs -p)
	grep -c 503 "$T/burst.out"
}
# the limits are in force: (max-connections 2 + 2 pending) of 6 served
limits_hold() {
	for _ in $(seq 30); do
		[ "$(burst)" = 2 ] && return 0
		sleep 0.2
	done
	return 1
}
check "breaker-d's limits hold: a burst of 6 gets 2 fast 503 UO" limits_hold

# a siege of 2 x 500 requests (within the limits); breaker-d killed
# halfway and started again later
siege -q -j --no-parser -r 500 -c 2 -d 0.01 -H 'Host: svc.example' "$U" \
	>"$T/siege.json" 2>"$T/siege.err" &
SIEGE=$!
sleep 0.5
kill -KILL "$(pid_of breaker-d)"
sleep 1
rm -f "$RUN/breaker.sock" "$RUN/breaker-report.sock" "$RUN/breaker-events.sock"
breaker
check "the siege was still running when breaker-d came back" kill -0 "$SIEGE"
for _ in $(seq 300); do kill -0 "$SIEGE" 2>/dev/null || break; sleep 0.1; done
kill "$SIEGE" 2>/dev/null
wait "$SIEGE" 2>/dev/null
avail=$(sed -n 's/.*"availability":[[:space:]]*\([0-9.]*\).*/\1/p' "$T/siege.json")
tx=$(sed -n 's/.*"transactions":[[:space:]]*\([0-9]*\).*/\1/p' "$T/siege.json")
expect "SIGKILL of breaker-d mid-siege: every request answered ($tx transactions)" \
	"$avail" "100.00"
expect "the siege ran whole" "$tx" 1000
check "proxy-d logged breaker-d going away" grep -q 'breaker-d.*disconnected' "$T/app.log"
check "once breaker-d is back, its limits hold again" limits_hold
check "proxy-d alive" alive app
trap - EXIT
finish
