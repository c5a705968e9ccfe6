#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d's side of authz-d: nngcat stands in for authz-d with fixed
# replies; mk-backend is the local app behind an inbound listener.
# Allow with header operations, deny bodies, failing closed (403 and
# 503) while authz-d is away and recovering when it comes, decision
# reuse and vary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

SOCK=$MESHKIT_RUNDIR/authz.sock
APP=$(port 1)
OUT=$(port 2)
IN=$(port 3)
OUT2=$(port 4)
IN2=$(port 5)


# standin NAME REPLY : nngcat answering every question with REPLY,
# printing what it received to $T/NAME.log
# (and proxy-d, if running, connected to it: nng redials every
# 20..500 ms)
standin() {
	n=$(joins authz-d)
	rm -f "$SOCK"
	spawn "$1" nngcat --rep --listen "ipc://$SOCK" --raw ${2:+--data "$2"}
	wait_file "$SOCK"
	[ -f "$T/px.log" ] || return 0
	joined authz-d "$n"
}
unstand() { stop "$1"; rm -f "$SOCK"; }
questions() { grep -c '^meshkit/1 authz$' "$T/$1.log"; }

# req [CURL ARGS] : "STATUS FLAGS" of one request to the inbound listener
req() {
	curl -s -o "$T/body" -D "$T/h" --max-time 5 "$@" \
	    "http://127.0.0.1:$IN/headers?q=1" >/dev/null
	printf '%s %s' "$(awk 'NR==1 {print $2}' "$T/h")" \
	    "$(header x-meshkit-flags <"$T/h")"
}

not_in() { ! grep -qiF -- "$2" <<<"$1"; }
reply() { printf 'meshkit/1 authz-reply\ngeneration: 1\n\n%s' "$1"; }

ports_free "$APP" "$OUT" "$IN" "$OUT2" "$IN2"
backend app "$APP"
proxy_io px "$OUT" "$IN" "$APP" "    authz:
      address: ipc://$SOCK
      timeout: 500ms"
proxy_io plain "$OUT2" "$IN2" "$APP"

# --- allow, with header operations reaching the app
standin allow "$(reply 'decision: allow
principal: example.com/alice
request-header-set: x-user: alice
request-header-set: X-Drop: replaced
request-header-remove: x-secret
request-header-set: x-late: first
request-header-remove: x-late
reason: ALLOW policy default/app')"
proxy_d px "$IN"
expect "allow: 200" "$(req -H 'x-secret: s3' -H 'x-drop: orig' \
    -H 'x-late: l' -H 'X-Mixed: One')" "200 "
body=$(tr -d '\r' <"$T/body")
check "allow: a set header reaches the app" grep -q '^x-user: alice$' \
    <<<"$body"
check "allow: a set header replaces the request's" \
    grep -q '^X-Drop: replaced$' <<<"$body"
check "allow: the replaced value is gone" \
    not_in "$body" 'x-drop: orig'
check "allow: a removed header is gone" not_in "$body" 'x-secret'
check "allow: set then removed: gone" not_in "$body" 'x-late'
check "allow: other headers pass" grep -q '^X-Mixed: One$' <<<"$body"

# What proxy-d asked, against the fields proxy-d documents.
sleep 0.2
q=$(awk '/^meshkit\/1 authz$/ {n++} n == 1' "$T/allow.log")
hdr=$(msg_header "$q")
rec=$(msg_records "$q")
expect "question: first line" "$(printf '%s\n' "$q" | head -1)" \
    "meshkit/1 authz"
expect "question: workload" "$(field "$hdr" workload)" px
expect "question: namespace" "$(field "$hdr" namespace)" default
expect "question: label" "$(field "$hdr" label)" app=px
check "question: id" grep -qE '^[0-9]+$' <<<"$(field "$rec" id)"
expect "question: authority" "$(field "$rec" authority)" "127.0.0.1:$IN"
# destination.ip and destination.port: where the peer connected to,
# the inbound listener (not the app behind it)
expect "question: destination is the listener's address" \
    "$(field "$rec" destination)" "127.0.0.1:$IN"
expect "question: port is the destination's" "$(field "$rec" port)" "$IN"
expect "question: method" "$(field "$rec" method)" GET
expect "question: path with query" "$(field "$rec" path)" "/headers?q=1"
check "question: source is the peer" \
    grep -qE '^127\.0\.0\.1:[0-9]+$' <<<"$(field "$rec" source)"
check "question: headers, names in lower case" \
    grep -qx 'header: x-mixed: One' <<<"$rec"
check "question: the header that will be removed is asked about" \
    grep -qx 'header: x-secret: s3' <<<"$rec"

# outbound requests are not authz-d's
expect "authz asked once for one inbound request" "$(questions allow)" 1
unstand allow

# --- deny: authz-d's status and body, flag UAEX
standin deny401 "$(reply 'decision: deny
status: 401
body: Jwt verification fails
reason: token expired')"
expect "deny 401: status and flag" "$(req)" "401 UAEX"
expect "deny 401: body" "$(cat "$T/body")" "Jwt verification fails"
expect "deny 401: text/plain" "$(header content-type <"$T/h")" text/plain
check "deny: logged with UAEX" grep -q ' 401 UAEX GET .*token expired' \
    "$T/px.log"
unstand deny401
standin deny403 "$(reply 'decision: deny
body: RBAC: access denied')"
expect "deny without status: 403" "$(req)" "403 UAEX"
expect "deny 403: body" "$(cat "$T/body")" "RBAC: access denied"
unstand deny403

# --- authz-d cannot decide, or answers nonsense: fail closed
standin err "$(reply 'decision: error
reason: jwks not loaded')"
expect "decision error: 403 ADU" "$(req)" "403 ADU"
unstand err
standin junk "this is not a message"
expect "unreadable reply: 403 ADU" "$(req)" "403 ADU"
unstand junk
standin bad "$(reply 'decision: allow
request-header-set: bad name: x')"
expect "a header operation that is no header: 403 ADU" "$(req)" "403 ADU"
unstand bad
# an authz-d that takes the question and never answers: the timeout
standin mute ""
t0=$(date +%s%N)
expect "authz-d silent: 403 ADU" "$(req)" "403 ADU"
ms=$((($(date +%s%N) - t0) / 1000000))
check "authz-d silent: answered after the 500 ms timeout (${ms} ms)" \
    test "$ms" -ge 450 -a "$ms" -lt 3000
unstand mute

# --- authz-d away: fail closed at once, 403 then 503 as configured
expect "authz-d absent: 403 ADU" "$(req)" "403 ADU"
check "absent: counted as unavailable" grep -q 'ADU' "$T/px.log"
proxy_io px "$OUT" "$IN" "$APP" "    authz:
      address: ipc://$SOCK
      timeout: 500ms
      failurePolicy: closed
      failureStatus: 503"
check "reload with failureStatus 503" \
    until_ok 5 grep -q 'generation 2 in force' "$T/px.log"
expect "authz-d absent, failureStatus 503: 503 ADU" "$(req)" "503 ADU"
# and back: no restart of proxy-d
standin back "$(reply 'decision: allow')"
check "authz-d returns: allowed again" until_ok 3 \
    eval '[ "$(req)" = "200 " ]'
unstand back

# --- no daemons.authz section: authz-d is never asked
proxy_d plain "$IN2"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:$IN2/")
expect "no authz section: served without authz-d" "$code" 200

# --- reuse and vary
standin vary "$(reply 'decision: allow
reuse: 5000
vary: header:x-user method')"
for u in a a b a b; do req -H "x-user: $u" >/dev/null; done
req >/dev/null			# no x-user: its own decision
req -X POST -H 'x-user: a' >/dev/null	# another method
req -H 'x-user: a' >/dev/null
expect "vary header:x-user method: 4 questions for 8 requests" \
    "$(questions vary)" 4
unstand vary
standin unknown "$(reply 'decision: allow
reuse: 5000
vary: moon-phase')"
# (each phase below asks with its own x-user: decisions of the phase
# before are still fresh)
for _ in 1 2 3; do req -H 'x-user: u1' >/dev/null; done
expect "vary on an unknown field: no reuse" "$(questions unknown)" 3
unstand unknown
# destination.ip and destination.port (authz-d names them port and
# destination-ip): keyed on the address the connection came to
standin dest "$(reply 'decision: allow
reuse: 5000
vary: port destination-ip header:x-user')"
for _ in 1 2 3; do req -H 'x-user: d1' >/dev/null; done
expect "vary port destination-ip: 1 question for 3 requests" \
    "$(questions dest)" 1
unstand dest
# a token looked for in a query parameter: keyed on its value alone
standin query "$(reply 'decision: allow
reuse: 5000
vary: query:token header:x-user')"
for q in a a b; do
	curl -s -o /dev/null --max-time 5 -H 'x-user: q1' \
	    "http://127.0.0.1:$IN/headers?x=$RANDOM&token=$q"
done
curl -s -o /dev/null --max-time 5 -H 'x-user: q1' \
    "http://127.0.0.1:$IN/other?tokens=a"
curl -s -o /dev/null --max-time 5 -H 'x-user: q1' \
    "http://127.0.0.1:$IN/other"
expect "vary query:token: 3 questions (a, b, none) for 5 requests" \
    "$(questions query)" 3
unstand query
standin short "$(reply 'decision: allow
reuse: 300')"
req -H 'x-user: s1' >/dev/null
req -H 'x-user: s1' >/dev/null
sleep 0.5
req -H 'x-user: s1' >/dev/null
expect "reuse 300 ms: reused within, asked again after" \
    "$(questions short)" 2
unstand short
# a decision kept from before authz-d went away still holds within its
# reuse time, and never after it
standin keep "$(reply 'decision: allow
reuse: 2500')"
req -H 'x-user: k1' >/dev/null
unstand keep
expect "within reuse, authz-d away: still allowed" \
    "$(req -H 'x-user: k1')" "200 "
sleep 2.6
expect "past reuse, authz-d away: 503 ADU" "$(req -H 'x-user: k1')" \
    "503 ADU"

# concurrent identical questions: one is asked, its answer serves all
# (authz-d is stopped while they arrive, so they meet in flight)
standin many "$(reply 'decision: allow
reuse: 5000
vary: header:x-user')"
req -H 'x-user: z' >/dev/null	# teaches proxy-d the vary fields
kill -STOP "$(pid_of many)"
curls=""
for i in $(seq 20); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
	    -H 'x-user: y' "http://127.0.0.1:$IN/" >"$T/many.$i" &
	curls="$curls $!"
done
sleep 0.3
kill -CONT "$(pid_of many)"
wait $curls
expect "20 concurrent identical requests: all allowed" \
    "$(cat "$T"/many.* | grep -c '^200$')" 20
expect "20 concurrent identical requests: one question" \
    "$(questions many)" 2
unstand many

# --- the real authz-d: a JWT rule and a DENY policy, as the article's
"$TOP/scripts/mk-jwt" "$T/k1" own@meshkit.test alice 3600
"$TOP/scripts/mk-jwt" "$T/k2" own@meshkit.test alice 3600
cat >"$T/etc/security.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: own, namespace: default}
spec:
  selector: {matchLabels: {app: px}}
  jwtRules:
  - issuer: own@meshkit.test
    jwksUri: file://$T/k1/jwks.json
    audiences: [meshkit]
    outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-mallory, namespace: default}
spec:
  selector: {matchLabels: {app: px}}
  action: DENY
  rules:
  - when:
    - key: request.headers[x-user]
      values: [mallory]
YAML
n=$(joins authz-d)
rm -f "$SOCK"
spawn authz-d "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK"
wait_file "$SOCK"
check "real authz-d joined" joined authz-d "$n"
expect "real: no token, another user: allowed" "$(req -H 'x-user: bob')" \
    "200 "
expect "real: DENY policy: 403" "$(req -H 'x-user: mallory')" "403 UAEX"
expect "real: DENY policy: its body" "$(cat "$T/body")" \
    "RBAC: access denied"
expect "real: a token of the JWKS: allowed" \
    "$(req -H "authorization: Bearer $(cat "$T/k1/token")")" "200 "
body=$(tr -d '\r' <"$T/body")
check "real: the claim header reaches the app" \
    grep -qi '^x-jwt-sub: alice$' <<<"$body"
check "real: the token does not (forwardOriginalToken false)" \
    not_in "$body" "authorization: Bearer"
expect "real: a token of another key: 401" \
    "$(req -H "authorization: Bearer $(cat "$T/k2/token")")" "401 UAEX"
expect "real: its body" "$(cat "$T/body")" "Jwt verification fails"
stop authz-d
rm -f "$SOCK"
expect "real authz-d stopped: 503 ADU (another token, not reused)" \
    "$(req -H 'authorization: Bearer x.y.z')" "503 ADU"

check "proxy-d alive" alive px
trap - EXIT
finish
