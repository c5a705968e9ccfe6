#!/bin/bash
# SPDX-License-Identifier: ISC
# The IPC protocol of meshkit-ipc(7) seen from both ends: nngcat standing
# in for route-d (fixed replies, captured questions, broken replies),
# route-d as a filter, and a running route-d fed garbage.
. "$(dirname "$0")/lib.sh"

SOCK=$MESHKIT_RUNDIR/route.sock
B=$(port 1)
P=$(port 2)

# another run on the same ports would make every check below confusing
for p in "$B" "$P"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

# code HOST [PATH] : "STATUS FLAGS" of one request through proxy-d
code() {
	curl -s -o /dev/null -D "$T/h" --max-time 5 -H "Host: $1" \
	    "http://127.0.0.1:$P${2:-/}" >/dev/null
	printf '%s %s' "$(awk 'NR==1 {print $2}' "$T/h" 2>/dev/null)" \
	    "$(tr -d '\r' <"$T/h" 2>/dev/null |
	    awk -F': ' 'tolower($1) == "x-meshkit-flags" {print $2}')"
}


# standin NAME REPLY : nngcat answering every question with REPLY and
# printing what it received, raw, to $T/NAME.log
standin() {
	rm -f "$SOCK"
	spawn "$1" nngcat --rep --listen "ipc://$SOCK" --raw --data "$2"
	wait_file "$SOCK"
}

questions() { grep -c '^meshkit/1 route$' "$T/$1.log"; }

backend b1 "$B"
proxy px "$P"

# --- a fixed reply, as in the EXAMPLES of meshkit-ipc(7)
standin fixed "$(printf 'meshkit/1 route-reply\n\nendpoint: 127.0.0.1:%s' "$B")"
proxy_d px "$P"
body=$(curl -s --max-time 5 -H 'Host: svc' "http://127.0.0.1:$P/a?b=c")
expect "nngcat stand-in: request served" "$body" "hello from mk-backend b1"
expect "nngcat stand-in: any host goes to its endpoint" \
    "$(code other.example:8080 /x)" "200 "
expect "nngcat stand-in: third request" "$(code svc /a?b=c)" "200 "
sleep 0.3
expect "an answer without reuse serves one request only: 3 questions" \
    "$(questions fixed)" 3

# What proxy-d asked, checked against the fields the man page documents.
q=$(awk '/^meshkit\/1 route$/ {n++} n == 1' "$T/fixed.log")
printf '%s\n' "$q" >"$T/question1.txt"
hdr=$(msg_header "$q")
rec=$(msg_records "$q")
expect "question: first line" "$(printf '%s\n' "$q" | head -1)" \
    "meshkit/1 route"
expect "question: header names the workload" "$(field "$hdr" workload)" px
expect "question: header names the namespace" "$(field "$hdr" namespace)" \
    default
expect "question: header carries the labels" "$(field "$hdr" label)" app=px
check "question: record id is decimal" \
    grep -qE '^[0-9]+$' <<<"$(field "$rec" id)"
expect "question: authority" "$(field "$rec" authority)" svc
expect "question: method" "$(field "$rec" method)" GET
expect "question: path with query" "$(field "$rec" path)" "/a?b=c"
expect "question: listener" "$(field "$rec" listener)" outbound
check "question: source is the client's address" \
    grep -qE '^127\.0\.0\.1:[0-9]+$' <<<"$(field "$rec" source)"
check "question: lines end in LF only, no NUL" \
    bash -c "! LC_ALL=C grep -q \$'\\r' '$T/fixed.log' &&
    [ \$(tr -d '\\0' <'$T/fixed.log' | wc -c) = \$(wc -c <'$T/fixed.log') ]"
q2=$(awk '/^meshkit\/1 route$/ {n++} n == 2' "$T/fixed.log")
expect "question 2: authority with port" \
    "$(printf '%s\n' "$q2" | sed -n 's/^authority: //p')" other.example:8080
stop fixed
# failurePolicy stale (the default): the last answer serves the hosts it
# answered while nobody listens
expect "stand-in gone: a host it answered is served from the last answer" \
    "$(code svc /a?b=c)" "200 "
expect "stand-in gone: a host never asked is 503 RDU" \
    "$(code never.example)" "503 RDU"

# --- reuse granted by the stand-in: the answer is cached per authority
standin reuse "$(printf 'meshkit/1 route-reply\n\nendpoint: 127.0.0.1:%s\nreuse: 60000\nvary: authority' "$B")"
until_ok 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    --max-time 5 -H 'Host: cached' http://127.0.0.1:$P/)\" = 200 ]"
for _ in 1 2 3 4 5; do code cached >/dev/null; done
expect "reuse: 60000: requests for one authority served from the answer" \
    "$(questions reuse)" 1
expect "reuse: another authority is asked" "$(code cached2)" "200 "
expect "reuse: ... once" "$(questions reuse)" 2
stop reuse

# --- status: no-route -> 404 NR
standin noroute "$(printf 'meshkit/1 route-reply\n\nstatus: no-route\nreason: nothing here')"
check "no-route stand-in: 404 NR" \
    until_ok 10 bash -c "[ \"\$(curl -s -o /dev/null -D - --max-time 5 \
    -H 'Host: nr.example' http://127.0.0.1:$P/ | tr -d '\r' |
    awk 'NR == 1 {c = \$2} tolower(\$1) == \"x-meshkit-flags:\" {f = \$2}
    END {print c, f}')\" = '404 NR' ]"
stop noroute

# --- status: error -> 503
standin err "$(printf 'meshkit/1 route-reply\n\nstatus: error\nreason: cannot decide')"
check "error stand-in: 503" until_ok 10 bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -H 'Host: er.example' http://127.0.0.1:$P/)\" = 503 ]"
stop err

# --- ok without an endpoint -> 503 UH
standin noep "$(printf 'meshkit/1 route-reply\n\nservice: empty.example')"
check "no endpoint: 503 UH" until_ok 10 bash -c \
    "[ \"\$(curl -s -o /dev/null -D - --max-time 5 \
    -H 'Host: ne.example' http://127.0.0.1:$P/ | tr -d '\r' |
    awk 'NR == 1 {c = \$2} tolower(\$1) == \"x-meshkit-flags:\" {f = \$2}
    END {print c, f}')\" = '503 UH' ]"
stop noep

# --- broken replies: proxy-d answers 503 in time and lives on
n=0
for reply in 'garbage, not a message' \
    "$(printf 'meshkit/2 route-reply\n\nendpoint: 127.0.0.1:%s' "$B")" \
    "$(printf 'meshkit/1 route-reply\n\nid: 987654\nendpoint: 127.0.0.1:%s' "$B")" \
    "$(printf 'meshkit/1 error\nreason: no\nversions: 1')" \
    "$(printf 'meshkit/1 route-reply\n\nendpoint: not-an-address')" \
    "$(printf 'meshkit/1 route-reply\nno colon here\n\nendpoint: 127.0.0.1:%s' "$B")"; do
	n=$((n + 1))
	standin bad$n "$reply"
	# the first requests may still meet the old, closed stand-in
	got=""
	for _ in $(seq 30); do
		got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		    -H "Host: bad$n.example" "http://127.0.0.1:$P/")
		[ "$(questions bad$n)" -gt 0 ] && break
		sleep 0.2
	done
	case "$got" in
	5??) ok "broken reply $n: $got" ;;
	*) not_ok "broken reply $n: got '$got', want 5xx" ;;
	esac
	stop bad$n
done
check "proxy-d alive after broken replies" alive px
rm -f "$SOCK"

# --- route-d itself, as a filter (messages on stdin, answers on stdout)
se svc svc 80 "$B"
out=$(printf 'meshkit/1 route\n\nid: 1\nauthority: svc\n' |
    timeout 10 "$BIN/route-d" -c "$T/etc" -f 2>"$T/filter.log")
rc=$?
expect "filter: exit 0" "$rc" 0
printf '%s\n' "$out" >"$T/filter1.txt"
expect "filter: reply type" "$(printf '%s\n' "$out" | head -1)" \
    "meshkit/1 route-reply"
check "filter: generation in the header" grep -q '^generation: 1$' \
    "$T/filter1.txt"
check "filter: id echoed" grep -q '^id: 1$' "$T/filter1.txt"
check "filter: service" grep -q '^service: svc' "$T/filter1.txt"
check "filter: endpoint" grep -q "^endpoint: 127.0.0.1:$B\$" \
    "$T/filter1.txt"
check "filter: reuse as route-d grants" grep -q '^reuse: 1000$' \
    "$T/filter1.txt"

out=$(printf 'meshkit/1 route\nworkload: w\n\nid: 1\nauthority: svc\n\nid: 2\nauthority: nosuch.example\nmeshkit/1 route\n\nid: 9\nauthority: svc:80\n' |
    timeout 10 "$BIN/route-d" -c "$T/etc" -f 2>>"$T/filter.log")
expect "filter: two messages, two replies" \
    "$(printf '%s\n' "$out" | grep -c '^meshkit/1 route-reply$')" 2
expect "filter: ids in order" \
    "$(printf '%s\n' "$out" | sed -n 's/^id: //p' | tr '\n' ' ')" "1 2 9 "
check "filter: unknown host is no-route" \
    grep -q '^status: no-route$' <<<"$out"

out=$(printf 'hello\nworld\n' |
    timeout 10 "$BIN/route-d" -c "$T/etc" -f 2>>"$T/filter.log")
rc=$?
expect "filter: garbage gets an error message" \
    "$(printf '%s\n' "$out" | head -1)" "meshkit/1 error"
check "filter: error names the versions" grep -q '^versions: 1$' <<<"$out"
check "filter: garbage exit status sane (0 or 1)" test "$rc" -le 1

out=$(head -c 2000000 /dev/urandom |
    timeout 20 "$BIN/route-d" -c "$T/etc" -f 2>>"$T/filter.log")
rc=$?
check "filter: 2 MB of noise: no crash" test "$rc" -le 1
check "filter: 2 MB of noise: an error message" \
    grep -q '^meshkit/1 error$' <<<"$out"

# --- a running route-d fed garbage over nng
route_d
ask() {
	timeout 10 nngcat --req --dial "ipc://$SOCK" --raw --recv-timeout 5 \
	    "$@" 2>&1
}
out=$(ask --data "junk")
expect "route-d: junk -> error" "$(printf '%s\n' "$out" | head -1)" \
    "meshkit/1 error"
check "route-d: junk error has a reason" grep -q '^reason: ' <<<"$out"
out=$(ask --data "$(printf 'meshkit/9 route\n\nid: 1\nauthority: svc\n')")
expect "route-d: wrong version -> error" \
    "$(printf '%s\n' "$out" | head -1)" "meshkit/1 error"
check "route-d: wrong version error names version 1" \
    grep -q '^versions: 1$' <<<"$out"
printf 'meshkit/1 route\n\nid: 1\nauth\0ority: svc\n' >"$T/nul.msg"
out=$(ask --file "$T/nul.msg")
expect "route-d: NUL byte -> error" "$(printf '%s\n' "$out" | head -1)" \
    "meshkit/1 error"
out=$(ask --data "$(printf 'meshkit/1 route\n\nid: 1\nno colon\n')")
expect "route-d: line without colon -> error" \
    "$(printf '%s\n' "$out" | head -1)" "meshkit/1 error"
awk 'BEGIN {print "meshkit/1 route"; for (i = 0; i < 5000; i++)
    printf "\nid: %d\nauthority: svc\n", i}' >"$T/many.msg"
out=$(ask --file "$T/many.msg")
expect "route-d: 5000 records -> error" "$(printf '%s\n' "$out" | head -1)" \
    "meshkit/1 error"
# Over 1 MiB: an error reply, or the transport drops it; never a crash.
awk 'BEGIN {printf "meshkit/1 route\n\nid: 1\nauthority: svc\nheader: x: ";
    for (i = 0; i < 40000; i++) printf "%s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    print ""}' >"$T/huge.msg"
out=$(ask --file "$T/huge.msg")
case "$out" in
"" | "meshkit/1 error"*) ok "route-d: 2 MB message refused" ;;
*) not_ok "route-d: 2 MB message: got '$(printf '%s' "$out" | head -3)'" ;;
esac
out=$(ask --data "$(printf 'meshkit/1 route\n\nid: 5\nauthority: svc\n')")
check "route-d: a good question still answered" \
    grep -q "^endpoint: 127.0.0.1:$B\$" <<<"$out"
out=$(ask --data "$(printf 'meshkit/1 status\n')")
expect "route-d: status-reply" "$(printf '%s\n' "$out" | head -1)" \
    "meshkit/1 status-reply"
check "route-d: status counts the bad messages" \
    grep -qE '^bad-messages: [5-9]$' <<<"$out"
check "route-d alive after garbage" alive route-d
check "route-d logged the malformed messages" \
    grep -q 'malformed message' "$T/route-d.log"
check "proxy-d served through route-d after the garbage" \
    until_ok 10 bash -c "[ \"\$(curl -s --max-time 5 -H 'Host: svc' \
    http://127.0.0.1:$P/)\" = 'hello from mk-backend b1' ]"
check "proxy-d alive" alive px

finish
