#!/bin/bash
# SPDX-License-Identifier: ISC
# breaker-d as a daemon, fed outcome reports with nngcat as proxy-d would
# push them: ejections and returns seen on its event socket and in its
# log, admit answers, meshctl breaker and status, malformed messages,
# reload (SIGHUP and the directory watch), SIGKILL and restart; and its
# filter mode on a recorded trace against the expected output.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/e2e/data
# the walkthrough's circuit breaker: the article's rule, as meshkit's own
# file (the article's own in the conformance stage)
RULE=$OWN/destination-rule-circuit-breaker.yml
REQ=ipc://$MESHKIT_RUNDIR/breaker.sock
REP=ipc://$MESHKIT_RUNDIR/breaker-report.sock
EV=ipc://$MESHKIT_RUNDIR/breaker-events.sock

# rating_se DIR [PORT...] : rating, v1 on 9081 and v2 on 9082 by default
# (nothing connects to them)
rating_se() {
	dir=$1
	shift
	[ $# -gt 0 ] || set -- 9081 9082
	{
		printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n'
		printf 'metadata: {name: rating}\nspec:\n  hosts: [rating]\n'
		printf '  ports: [{number: 8080, name: http, protocol: HTTP}]\n'
		printf '  resolution: STATIC\n  endpoints:\n'
		for p in "$@"; do
			printf '  - {address: 127.0.0.1, ports: {http: %s}, labels: {version: v%s}}\n' \
			    "$p" "${p#908}"
		done
	} >"$dir/se-rating.yaml"
}

breaker_d() {
	spawn breaker-d "$BIN/breaker-d" -c "$T/etc" -s "$REQ" -r "$REP" \
	    -e "$EV" "$@"
	wait_file "$MESHKIT_RUNDIR/breaker.sock" &&
	    wait_file "$MESHKIT_RUNDIR/breaker-report.sock" &&
	    wait_file "$MESHKIT_RUNDIR/breaker-events.sock"
}
ask() {
	timeout 10 nngcat --req --dial "$REQ" --raw --recv-timeout 5 \
	    --data "$1" 2>/dev/null
}
push() {
	timeout 10 nngcat --push --dial "$REP" --data "$1" >/dev/null 2>&1
}
admit() {
	ask "$(printf 'meshkit/1 admit\nworkload: book\nnamespace: default\n\nid: 7\nservice: rating\nport: 8080\nendpoint: 127.0.0.1:9081\nendpoint: 127.0.0.1:9082\n')"
}
# result ENDPOINT RESULT : one report record, as proxy-d sends them
result() {
	push "$(printf 'meshkit/1 report\nworkload: book\n\nservice: rating\nport: 8080\nendpoint: %s\nresult: %s\n' "$1" "$2")"
}
status_field() {
	ask "$(printf 'meshkit/1 status\n')" | sed -n "s/^$1: //p"
}
gen_is() { [ "$(status_field generation)" = "$1" ]; }
events_count() { grep -c "^event: $1\$" "$T/sub.log" 2>/dev/null; }
has_events() { [ "$(events_count "$1")" -ge "$2" ]; }
mc() { timeout 10 "$BIN/meshctl" "$@"; }
breaker_row() { mc breaker -s "$REQ" 2>/dev/null | grep " $1 "; }

rating_se "$T/etc"
# the article's circuit breaker, its ejection time shortened
sed 's/baseEjectionTime: 3m/baseEjectionTime: 3s/' "$RULE" \
    >"$T/etc/dr-rating.yaml"
check "the test's rule has a 3 s ejection time" \
    grep -q 'baseEjectionTime: 3s' "$T/etc/dr-rating.yaml"

out=$("$BIN/breaker-d" -n -c "$T/etc" 2>&1)
expect "breaker-d -n: config OK" "$out" "configuration OK"

breaker_d
check "breaker-d starts and listens on its three sockets" alive breaker-d
spawn sub nngcat --sub --dial "$EV" --subscribe "" --raw
sleep 0.3

out=$(mc status -s "ipc://$MESHKIT_RUNDIR/none.sock" -b "$REQ" 2>&1)
check "meshctl status: breaker-d up, generation 1" \
    grep -qE '^breaker-d +up +generation 1 ' <<<"$out"

out=$(admit)
check "admit before any report: a reply" grep -q '^meshkit/1 admit-reply$' <<<"$out"
check "admit: the article's pool limits" grep -qx \
    'limits: max-connections=3 max-pending=3 max-requests-per-connection=3' <<<"$out"
check "admit: outlier detection applies" grep -qx 'outlier: yes' <<<"$out"
check "admit: nothing ejected yet" test -z "$(grep '^ejected:' <<<"$out")"
check "admit: reuse 1000 (the default of -R)" grep -qx 'reuse: 1000' <<<"$out"

# v2 misbehaves: one 503 ejects it (consecutive5xxErrors: 1)
result 127.0.0.1:9081 200
result 127.0.0.1:9082 503
check "the 503 of v2: an eject event on the PUB socket" until_ok 5 has_events eject 1
check "eject event: the endpoint" \
    grep -A2 -x 'endpoint: 127.0.0.1:9082' "$T/sub.log" | grep -qx 'event: eject'
check "eject event: ejection-ms 3000, first ejection" \
    grep -A1 -x 'ejection-ms: 3000' "$T/sub.log" | grep -qx 'ejections: 1'
check "breaker-d logs the ejection" \
    grep -q 'ejected 127.0.0.1:9082 of rating port 8080 for 3000 ms' "$T/breaker-d.log"
out=$(admit)
left=$(sed -n 's/^ejected: 127.0.0.1:9082 //p' <<<"$out")
check "admit: v2 ejected, with the time left ($left ms)" \
    test -n "$left" -a "${left:-0}" -gt 0 -a "${left:-9999}" -le 3000
reuse=$(sed -n 's/^reuse: //p' <<<"$out")
check "admit: reuse no longer than the ejection ($reuse <= $left)" \
    test "${reuse:-9999}" -le "${left:-0}"
check "admit: v1 not ejected" test -z "$(grep '^ejected: 127.0.0.1:9081' <<<"$out")"

row=$(breaker_row 127.0.0.1:9082)
check "meshctl breaker: v2 ejected, 1 ejection, time left" \
    grep -qE 'rating +- +8080 127.0.0.1:9082 +ejected +0 +0 +1 +[0-9.]+s$' <<<"$row"
check "meshctl breaker: v1 healthy" \
    grep -qE '127.0.0.1:9081 +healthy' <<<"$(breaker_row 127.0.0.1:9081)"
check "meshctl -o json breaker: parses, v2 ejected" python3 -c '
import json, sys
d = json.load(sys.stdin)
e = [x for x in d["endpoints"] if x["endpoint"] == "127.0.0.1:9082"][0]
sys.exit(0 if e["state"] == "ejected" and e["ejections"] == 1 and
    0 < e["ms-left"] <= 3000 and e["port"] == 8080 else 1)' \
    <<<"$(mc -o json breaker -s "$REQ")"

# its time is up: a return event, probation
check "after 3 s: a return event" until_ok 8 has_events return 1
check "breaker-d logs the return" grep -q 'returned 127.0.0.1:9082 of rating' \
    "$T/breaker-d.log"
check "meshctl breaker: v2 on probation" \
    grep -qE '127.0.0.1:9082 +probation' <<<"$(breaker_row 127.0.0.1:9082)"
check "admit: v2 no longer ejected" test -z "$(admit | grep '^ejected:')"
# one more failure on probation: ejected again, for longer
result 127.0.0.1:9082 connect-failure
check "a failure on probation: ejected again" until_ok 5 has_events eject 2
check "the second ejection lasts 6000 ms" grep -qx 'ejection-ms: 6000' "$T/sub.log"
check "meshctl breaker: 2 ejections" \
    grep -qE '127.0.0.1:9082 +ejected +0 +0 +2 ' <<<"$(breaker_row 127.0.0.1:9082)"

# bad input costs nothing else
out=$(ask "not a message")
check "garbage request: an error reply" grep -q '^meshkit/1 error$' <<<"$out"
out=$(ask "$(printf 'meshkit/1 admit\n\nid: 1\nport: 8080\n')")
check "admit without service: status error in its record" \
    grep -qx 'status: error' <<<"$out"
push "junk"
push "$(printf 'meshkit/1 report\n\nservice: rating\nendpoint: 127.0.0.1:9082\nresult: 999\n')"
check "malformed reports are logged" until_ok 3 grep -q 'malformed message' \
    "$T/breaker-d.log"
check "breaker-d still answers after them" test -n "$(status_field reports)"
expect "status: bad-results counted" "$(status_field bad-results)" 1
expect "status: two ejections" "$(status_field ejections)" 2
expect "status: one return" "$(status_field returns)" 1

# reload: SIGHUP with a changed rule; v1 removed from the service
sed -i 's/maxConnections: 3/maxConnections: 5/' "$T/etc/dr-rating.yaml"
rating_se "$T/etc" 9082
kill -HUP "$(pid_of breaker-d)"
check "SIGHUP: generation 2" until_ok 5 gen_is 2
check "reload keeps v2's state (still ejected, 2 ejections)" \
    grep -qE '127.0.0.1:9082 +(ejected|probation) +0 +0 +2 ' \
    <<<"$(breaker_row 127.0.0.1:9082)"
check "reload forgets v1, gone from the service" \
    test -z "$(breaker_row 127.0.0.1:9081)"
check "admit: the new limit" grep -q 'max-connections=5 ' <<<"$(admit)"
# the directory watch: a broken file is refused whole
printf 'kind: DestinationRule\n  bad: [\n' >"$T/etc/zz-broken.yaml"
check "a broken file: reload failed, logged" until_ok 5 grep -q \
    'reload failed; generation 2 stays' "$T/breaker-d.log"
expect "a broken file: generation stays 2" "$(status_field generation)" 2
rm -f "$T/etc/zz-broken.yaml"
sed -i 's/consecutive5xxErrors: 1/consecutive5xxErrors: 2/' "$T/etc/dr-rating.yaml"
check "an edited file: the watch reloads (generation 3)" \
    until_ok 5 gen_is 3

# SIGKILL: the socket files stay; a restart takes them over
stop breaker-d KILL
check "after SIGKILL the socket file is left" test -S "$MESHKIT_RUNDIR/breaker.sock"
mc breaker -s "$REQ" >/dev/null 2>&1
expect "meshctl breaker with breaker-d down: exit 1" "$?" 1
out=$(mc status -s "ipc://$MESHKIT_RUNDIR/none.sock" 2>&1)
check "meshctl status: breaker-d down" grep -qE '^breaker-d +down' <<<"$out"
mv "$T/breaker-d.log" "$T/breaker-d-1.log"
breaker_d -R 250 -p "$T/breaker-d.pid"
# the old socket file is still there: the pid file says it is up
wait_file "$T/breaker-d.pid"
expect "restarted: its pid file" "$(cat "$T/breaker-d.pid" 2>/dev/null)" \
    "$(pid_of breaker-d)"
check "restarted over the stale sockets" until_ok 3 grep -q \
    'removing stale socket' "$T/breaker-d.log"
expect "restarted: generation 1" "$(status_field generation)" 1
out=$(mc breaker -s "$REQ" 2>&1)
expect "restarted: no endpoints tracked yet" "$out" "no endpoints tracked yet"
out=$(admit)
check "restarted: limits apply again" grep -q 'max-connections=5 ' <<<"$out"
check "restarted with -R 250: reuse 250" grep -qx 'reuse: 250' <<<"$out"
stop breaker-d
check "stopped: pid file and sockets removed" \
    test ! -e "$T/breaker-d.pid" -a ! -e "$MESHKIT_RUNDIR/breaker.sock" \
    -a ! -e "$MESHKIT_RUNDIR/breaker-events.sock"

# filter mode: the recorded trace, the article's rule as it is
# trace LABEL RULE : the trace through breaker-d -f with RULE
trace() {
	mkdir -p "$T/filter-$1"
	rating_se "$T/filter-$1"
	cp "$2" "$T/filter-$1/"
	"$BIN/breaker-d" -c "$T/filter-$1" -f <"$DATA/breaker-trace.in" \
	    >"$T/trace-$1.out" 2>"$T/filter-$1.log"
	expect "filter mode ($1): exit 0" "$?" 0
	if diff -u "$DATA/breaker-trace.out" "$T/trace-$1.out" >"$T/trace.diff"; then
		ok "filter mode ($1): the trace gives the expected events and answers"
	else
		not_ok "filter mode ($1): output differs from $DATA/breaker-trace.out"
		head -40 "$T/trace.diff"
	fi
}
trace own "$RULE"
if conformance "filter mode (article): exit 0" \
    "filter mode (article): the trace gives the expected events and answers"; then
	trace article "$SHARED/testdata/article/destination-rule-circuit-breaker.yml"
fi
cp -r "$T/filter-own" "$T/filter-etc"
cp "$T/trace-own.out" "$T/trace.out"
check "filter: the second ejection is longer (300 s, Envoy's cap)" \
    grep -qx 'ejection-ms: 300000' "$T/trace.out"
out=$(printf 'meshkit/1 report\n\nservice: rating\nresult: 503\n' |
    "$BIN/breaker-d" -c "$T/filter-etc" -f 2>&1)
check "filter mode: a bad record is logged" grep -q 'endpoint: missing' <<<"$out"

finish
