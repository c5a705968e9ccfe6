#!/bin/bash
# SPDX-License-Identifier: ISC
# authz-d as a daemon and as a filter: the walkthrough's
# RequestAuthentication and AuthorizationPolicy with meshkit's own keys
# and tokens (the article's files with Istio's tokens in the conformance
# stage), the jwksUri mapped to a
# file, to a loopback HTTP server, and to a server that is not there (a
# fetch failure must never hold a decision up); reloads; an HTTPS key
# server whose certificate nobody signed is refused.
. "$(dirname "$0")/lib.sh"

SOCK=$MESHKIT_RUNDIR/authz.sock
HTTP=$(port 1)
DEAD=$(port 2)
TLS=$(port 3)
WL="--workload book -n default --label app.kubernetes.io/name=book-service"

# use LABEL ARTDIR JWTDIR : the policies (the walkthrough's two files)
# and the tokens (demo.jwt, role-customer.jwt, jwks.json) the checks use
use() {
	L=$1 ART=$2 JWT=$3
	URI=$(sed -n 's/^ *jwksUri: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' \
	    "$ART/request-authentication-jwt.yml")
	DEMO="authorization: Bearer $(cat "$JWT/demo.jwt")"
	CUSTOMER="authorization: Bearer $(cat "$JWT/role-customer.jwt")"
	rm -rf "$T/etc"
	mkdir -p "$T/etc"
}

mc() { "$BIN/meshctl" "$@"; }
# decision ARGS... : "allow", "deny 401", ... from meshctl authz check
decision() {
	mc authz check -s "ipc://$SOCK" $WL "$@" 2>&1 |
	    awk '/^decision:/ {d = $2} /^status:/ {s = $2} END {print d (s ? " " s : "")}'
}
# status_field NAME : a field of authz-d's status-reply
status_field() {
	printf 'meshkit/1 status\n' >"$T/status.req"
	nngcat --req --dial "ipc://$SOCK" --file "$T/status.req" --raw \
	    2>/dev/null | sed -n "s/^$1: //p" | head -1
}
# wait_fetches N : until authz-d has fetched keys N times (5 s)
wait_fetches() {
	for _ in $(seq 100); do
		f=$(status_field jwks-fetches)
		[ "${f:-0}" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# suite LABEL ARTDIR JWTDIR : the policies and tokens (as use takes
# them) through validate, the daemon (keys from a file through -m), a
# reload, SIGHUP and the filter mode
suite() {
	use "$@"
	[ -n "$URI" ] || not_ok "$L: no jwksUri in $ART/request-authentication-jwt.yml"
	cp "$ART/request-authentication-jwt.yml" "$T/etc/"

	# --- validate
	out=$(mc validate "$ART/request-authentication-jwt.yml" \
	    "$ART/authorization-policy-jwt.yml" 2>&1)
	expect "$L: validate: the two files pass" "$?" 0
	printf '%s\n' 'apiVersion: security.istio.io/v1' 'kind: AuthorizationPolicy' \
	    'metadata: {name: bad}' 'spec:' '  rules:' '  - from:' \
	    '    - source: {requestPrincipal: ["x"]}' '    when:' \
	    '    - key: request.auth.claims[role]' >"$T/bad.yaml"
	out=$(mc validate "$T/bad.yaml" 2>&1)
	expect "$L: validate: a bad policy fails" "$?" 1
	check "$L: validate: unknown field at its line and column" \
	    grep -q 'bad.yaml:7:16: unknown field requestPrincipal' <<<"$out"
	check "$L: validate: when without values" grep -q 'bad.yaml:9:7: ' <<<"$out"

	# --- the daemon, keys from a file through -m
	spawn "authz-d-$L" "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK" \
	    -m "$URI=file://$JWT/jwks.json"
	wait_file "$SOCK"
	check "$L: daemon: keys fetched from the mapped file" wait_fetches 1
	expect "$L: RequestAuthentication: demo.jwt allowed" "$(decision -H "$DEMO")" "allow"
	expect "$L: RequestAuthentication: no token allowed" "$(decision)" "allow"
	expect "$L: RequestAuthentication: a tampered token is 401" \
	    "$(decision -H "${DEMO%??????}AAAAAA")" "deny 401"
	expect "$L: RequestAuthentication: another workload is not concerned" \
	    "$(mc authz check -s "ipc://$SOCK" --workload x -H "${DEMO}x" 2>&1 |
	    awk '/^decision:/ {print $2}')" "allow"
	out=$(mc -o json authz check -s "ipc://$SOCK" $WL -H "$DEMO" 2>&1)
	check "$L: authz check -o json: principal, the token removed, vary" \
	    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["decision"] == "allow", d
assert d["principal"] == "testing@secure.istio.io/testing@secure.istio.io", d
assert {"op": "remove", "name": "authorization", "value": ""} in d["headers"], d
assert "header:authorization" in d["vary"], d
	' "$out"

	# --- reload: the AuthorizationPolicy arrives
	cp "$ART/authorization-policy-jwt.yml" "$T/etc/"
	for _ in $(seq 50); do
		[ "$(status_field generation)" = 2 ] && break
		sleep 0.1
	done
	expect "$L: reload on change: generation 2" "$(status_field generation)" 2
	expect "$L: AuthorizationPolicy: demo.jwt is 403" "$(decision -H "$DEMO")" "deny 403"
	out=$(mc authz check -s "ipc://$SOCK" $WL -H "$DEMO" 2>&1)
	check "$L: AuthorizationPolicy: RBAC: access denied" \
	    grep -q 'status: *403 RBAC: access denied' <<<"$out"
	expect "$L: AuthorizationPolicy: role-customer.jwt allowed" \
	    "$(decision -H "$CUSTOMER")" "allow"
	expect "$L: AuthorizationPolicy: no token is 403" "$(decision)" "deny 403"
	# the workload's labels from its Proxy resource, as its proxy-d sends them
	printf '%s\n' 'apiVersion: meshkit.io/v1alpha1' 'kind: Proxy' \
	    'metadata: {name: book-v1}' 'spec:' \
	    '  workload: {name: book-v1, labels: {app.kubernetes.io/name: book-service}}' \
	    '  listeners:' \
	    '  - {name: in, direction: inbound, address: "127.0.0.1:1", forward: "127.0.0.1:2"}' \
	    >"$T/etc/proxy-book.yaml"
	expect "$L: authz check --workload: labels from the Proxy resource" \
	    "$(mc -c "$T/etc" authz check -s "ipc://$SOCK" --workload book-v1 \
	    -H "$DEMO" 2>&1 | awk '/^decision:/ {print $2}')" "deny"
	sleep 0.5
	expect "$L: a Proxy resource changes no authz-d generation" \
	    "$(status_field generation)" 2
	kill -HUP "$(pid_of "authz-d-$L")"
	for _ in $(seq 50); do
		[ "$(status_field generation)" = 3 ] && break
		sleep 0.1
	done
	expect "$L: SIGHUP: generation 3" "$(status_field generation)" 3
	stop "authz-d-$L"

	# --- filter mode, for CI without a mesh
	req() {
		printf 'meshkit/1 authz\nworkload: book\nnamespace: default\n'
		printf 'label: app.kubernetes.io/name=book-service\n\n'
		printf 'id: 1\nauthority: book:8080\nmethod: GET\npath: /\n'
		printf 'header: %s\n\nid: 2\nauthority: book\nmethod: GET\npath: /\n' "$CUSTOMER"
		printf 'header: %s\n' "$DEMO"
	}
	out=$(req | "$BIN/authz-d" -q -f -c "$T/etc" -m "$URI=file://$JWT/jwks.json")
	check "$L: filter: two answers, allow then deny, the policy named" \
	    python3 -c '
import sys
recs = sys.argv[1].split("\n\n")[1:]
assert "decision: allow" in recs[0] and "require-jwt rules[0]" in recs[0], recs
assert "decision: deny" in recs[1] and "status: 403" in recs[1], recs
	' "$out"
	out=$(printf 'meshkit/1 authz\n\nid: x\n' | "$BIN/authz-d" -q -f -c "$T/etc" -m "$URI=file:///nonexistent")
	check "$L: filter: a bad id is an error message" grep -q '^meshkit/1 error' <<<"$out"
}

# meshkit's own: the walkthrough's files, keys and tokens made here
jwt_fixtures "$T/jwt"
suite own "$OWN" "$T/jwt"
# the conformance stage: the article's files, Istio's tokens
conformance_run "article: the authz suite" suite article \
    "$SHARED/testdata/article" "$SHARED/testdata/istio/jwt"
# the rest with meshkit's own
use own "$OWN" "$T/jwt"
cp "$ART/request-authentication-jwt.yml" "$ART/authorization-policy-jwt.yml" "$T/etc/"

# --- keys and tokens made here (scripts/mk-jwt): valid, expired, foreign
mkdir -p "$T/own"
"$TOP/scripts/mk-jwt" "$T/k1" own@meshkit.test alice 3600
"$TOP/scripts/mk-jwt" "$T/k2" own@meshkit.test alice 3600
"$TOP/scripts/mk-jwt" "$T/k3" own@meshkit.test alice -3600
printf '%s\n' 'apiVersion: security.istio.io/v1' 'kind: RequestAuthentication' \
    'metadata: {name: own}' 'spec:' '  jwtRules:' \
    '  - issuer: own@meshkit.test' \
    "    jwksUri: file://$T/k1/jwks.json" '    audiences: [meshkit]' \
    >"$T/own/ra.yaml"
mkdir -p "$T/own3"
sed "s|$T/k1/|$T/k3/|" "$T/own/ra.yaml" >"$T/own3/ra.yaml"
own() {
	printf 'meshkit/1 authz\nworkload: w\n\nid: 1\nmethod: GET\npath: /\n'
	printf 'header: authorization: Bearer %s\n' "$1"
}
d=$(own "$(cat "$T/k1/token")" | "$BIN/authz-d" -q -f -c "$T/own")
check "own keys: a token of the JWKS is allowed, principal iss/sub" \
    grep -q '^principal: own@meshkit.test/alice$' <<<"$d"
d=$(own "$(cat "$T/k2/token")" | "$BIN/authz-d" -q -f -c "$T/own")
check "own keys: a token of another key pair, same kid, is 401" \
    grep -q '^status: 401$' <<<"$d"
d=$(own "$(cat "$T/k3/token")" | "$BIN/authz-d" -q -f -c "$T/own3")
check "own keys: an expired token (of the right key) is 401, expired" \
    grep -q '^reason: .*expired' <<<"$d"
d=$(own "$(cat "$T/k1/token")" | "$BIN/authz-d" -q -f -c "$T/own" \
    -t $(( $(date +%s) + 7200 )))
check "own keys: the valid token two hours on (-t) is 401, expired" \
    grep -q '^reason: .*expired' <<<"$d"

# --- keys over HTTP from a loopback server
mkdir -p "$T/www"
cp "$JWT/jwks.json" "$T/www/"
spawn http python3 -m http.server "$HTTP" --bind 127.0.0.1 --directory "$T/www"
wait_port "$HTTP"
spawn authz-d2 "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK" \
    -m "$URI=http://127.0.0.1:$HTTP/jwks.json"
wait_file "$SOCK"
check "http: keys fetched" wait_fetches 1
expect "http: role-customer.jwt allowed" "$(decision -H "$CUSTOMER")" "allow"
expect "http: no fetch failed" "$(status_field jwks-failures)" 0
stop authz-d2

# --- the key server goes away: refreshes fail, the last good set stays
spawn authz-d5 "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK" -T 1 \
    -m "$URI=http://127.0.0.1:$HTTP/jwks.json"
wait_file "$SOCK"
check "refresh: first fetch" wait_fetches 1
stop http
for _ in $(seq 60); do
	[ "$(status_field jwks-failures)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
check "refresh: a refresh failed once the server was gone" \
    test "$(status_field jwks-failures)" -ge 1
expect "refresh: the last good keys still verify" \
    "$(decision -H "$CUSTOMER")" "allow"
stop authz-d5

# --- a key server that is not there: decisions go on, tokens get 401
spawn authz-d3 "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK" \
    -m "$URI=http://127.0.0.1:$DEAD/jwks.json"
wait_file "$SOCK"
check "dead key server: fetch tried" wait_fetches 1
start=$(date +%s%N)
d=$(decision -H "$CUSTOMER")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "dead key server: a token fails verification (401)" "$d" "deny 401"
check "dead key server: answered at once ($ms ms)" test "$ms" -lt 1000
expect "dead key server: no token is 403 as before" "$(decision)" "deny 403"
check "dead key server: counted as a failure" \
    test "$(status_field jwks-failures)" -ge 1
out=$(mc status -s "ipc://$MESHKIT_RUNDIR/none.sock" -a "ipc://$SOCK" 2>&1)
check "meshctl status shows authz-d up" grep -q '^authz-d *up' <<<"$out"
stop authz-d3

# --- HTTPS with a certificate no CA signed: refused, not trusted
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" \
    -out "$T/c.pem" -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost >/dev/null 2>&1
spawn tls sh -c "cd '$T/www' && exec openssl s_server -quiet -WWW \
    -accept $TLS -cert '$T/c.pem' -key '$T/k.pem'"
wait_port "$TLS"
spawn authz-d4 "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK" \
    -m "$URI=https://localhost:$TLS/jwks.json"
wait_file "$SOCK"
check "https: fetch tried" wait_fetches 1
for _ in $(seq 50); do
	grep -q 'jwks https' "$T/authz-d4.log" && break
	sleep 0.1
done
check "https: a certificate of an unknown CA is refused" \
    grep -q 'certificate' "$T/authz-d4.log"
expect "https: so the token is 401" "$(decision -H "$CUSTOMER")" "deny 401"
stop authz-d4

finish
