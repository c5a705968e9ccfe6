#!/bin/bash
# SPDX-License-Identifier: ISC
# What routing and authorization decide on is what the application gets,
# and a cached decision is reused only for requests it was made for
# (issue 9, items 2 3 4 5 9):
# - one normalized path (MeshConfig pathNormalization, lib/uri.c) is
#   routed, authorized and forwarded; one that cannot be is 400;
# - raw non-ASCII bytes in a target are 400, and a regex route that
#   cannot be matched fails the request instead of being skipped;
# - authz-d sees every header proxy-d forwards (maxHeaders 1000, long
#   names);
# - an answer that looked at the scheme is not reused without it;
# - authz decision keys tell one "x: a,b" from two fields "x: a", "x: b".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

APP=$(port 1) OUT=$(port 2) IN=$(port 3) OUT2=$(port 4) IN2=$(port 5)
SOCK=$MESHKIT_RUNDIR/authz.sock
SOCK2=$MESHKIT_RUNDIR/authz2.sock
LONG=x-$(printf 'l%.0s' $(seq 130))

ports_free "$APP" "$OUT" "$IN" "$OUT2" "$IN2"
backend_v app "$APP"
se svc svc.example 80 "$APP"
proxy_io px "$OUT" "$IN" "$APP" "    authz:
      address: ipc://$SOCK
      timeout: 2s
  limits: {maxHeaders: 1000}"
cat >"$T/etc/policy.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny, namespace: default}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]
  - when: [{key: "request.headers[x-evil]", values: ["*"]}]
  - when: [{key: "request.headers[$LONG]", values: ["*"]}]
YAML
cat >"$T/etc/vs.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc}
spec:
  hosts: [svc.example]
  http:
  - match: [{uri: {regex: "/admin.*"}}]
    directResponse: {status: 403, body: {string: "admin route"}}
  - match: [{headers: {x-v: {regex: "(a+)+"}}}]
    directResponse: {status: 403, body: {string: "x-v route"}}
  - match: [{scheme: {exact: https}}]
    directResponse: {status: 418, body: {string: "https route"}}
  - route: [{destination: {host: svc.example}}]
YAML
route_d
spawn authz-d "$BIN/authz-d" -c "$T/etc" -s "ipc://$SOCK"
wait_file "$SOCK"
proxy_d px "$IN"

# get PORT TARGET [HEADER_LINES] : "STATUS" of one request; the header
# lines are separated by newlines
get() {
	{
		printf 'GET %s HTTP/1.1\r\nHost: svc.example\r\n' "$2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | awk 'NF {printf "%s\r\n", $0}'
		printf '\r\n'
	} | raw "$1" -w 0.1 | cut -d' ' -f1
}
# app_got : the target of the last request the application answered
app_got() { sleep 0.1; tail -1 "$T/app.log" | awk '{print $5}'; }
mesh() {
	printf 'apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n'
	printf 'metadata: {name: mesh}\nspec:\n'
	printf '  pathNormalization: {normalization: %s}\n' "$1"
} >"$T/etc/mesh.yaml"

# --- 5: authorized and forwarded: the same, normalized path (BASE)
expect "/admin/../public: allowed" "$(get "$IN" /admin/../public)" 200
expect "/admin/../public: the app gets /public" "$(app_got)" /public
expect "/admin/%2e%2e/public: allowed" "$(get "$IN" /admin/%2e%2e/public)" 200
expect "/admin/%2e%2e/public: the app gets /public" "$(app_got)" /public
expect "/public/../admin: denied" "$(get "$IN" /public/../admin)" 403
expect "/public/%2E%2e/admin: denied" "$(get "$IN" /public/%2E%2e/admin)" 403
expect "/public\\..\\admin: denied (backslash is a slash)" \
    "$(get "$IN" '/public\..\admin')" 403
expect "/%61dmin: denied" "$(get "$IN" /%61dmin)" 403
expect "the query is kept as sent" "$(get "$IN" '/x/./../p?a=/../b&c=%2e')" 200
expect "the query is kept as sent: the app's target" "$(app_got)" \
    '/p?a=/../b&c=%2e'
expect "/a%zz: 400" "$(get "$IN" /a%zz)" 400
expect "/admin%00: 400" "$(get "$IN" /admin%00)" 400
expect "BASE keeps //: //admin is not /admin*" "$(get "$IN" //admin)" 200
expect "BASE keeps //: the app gets //admin" "$(app_got)" //admin
# outbound too: route-d routes the normalized path
expect "outbound /public/../admin/x: the regex 403 route" \
    "$(get "$OUT" /public/../admin/x)" 403
expect "outbound /x/%2e%2e/y: forwarded as /y" "$(get "$OUT" /x/%2e%2e/y)" 200
expect "outbound /x/%2e%2e/y: the app gets /y" "$(app_got)" /y

# MeshConfig pathNormalization, applied on reload
mesh MERGE_SLASHES
kill -HUP "$(pid_of px)"
check "MERGE_SLASHES: //admin is /admin, denied" \
    until_ok 5 eval '[ "$(get "$IN" //admin)" = 403 ]'
expect "MERGE_SLASHES: %2F is not a slash" "$(get "$IN" /public%2F..%2Fadmin)" \
    200
mesh DECODE_AND_MERGE_SLASHES
kill -HUP "$(pid_of px)"
check "DECODE_AND_MERGE_SLASHES: /public%2F..%2Fadmin is /admin, denied" \
    until_ok 5 eval '[ "$(get "$IN" /public%2F..%2Fadmin)" = 403 ]'
expect "DECODE_AND_MERGE_SLASHES: /a%5Cb%2fc forwarded as /a/b/c" \
    "$(get "$IN" /a%5Cb%2fc)" 200
expect "DECODE_AND_MERGE_SLASHES: the app gets /a/b/c" "$(app_got)" /a/b/c
mesh NONE
kill -HUP "$(pid_of px)"
check "NONE: the path goes as received" \
    until_ok 5 eval '[ "$(get "$IN" /x/../p)" = 200 ] &&
    [ "$(app_got)" = /x/../p ]'
expect "NONE: authz-d still normalizes: /p/../admin denied" \
    "$(get "$IN" /p/../admin)" 403
rm -f "$T/etc/mesh.yaml"
kill -HUP "$(pid_of px)"
check "back to BASE" until_ok 5 eval '[ "$(get "$IN" /x/../p)" = 200 ] &&
    [ "$(app_got)" = /p ]'

# --- 3: raw bytes >= 0x80 are 400; a regex that fails fails closed
expect "outbound /admin/x\\xff: 400, not past the regex route" \
    "$(get "$OUT" "$(printf '/admin/x\xff')")" 400
expect "inbound /admin\\xc3\\xa9: 400" "$(get "$IN" "$(printf '/admin\xc3\xa9')")" \
    400
expect "a regex out of budget: 503, not the next route" \
    "$(get "$OUT" /h 'x-v: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!
')" 503
expect "the same regex matching: its 403 route" "$(get "$OUT" /h 'x-v: aaa
')" 403

# --- 9: an answer that looked at the scheme is keyed on it
got=$(printf 'GET https://svc.example/ HTTP/1.1\r\nHost: svc.example\r\n\r\n' |
    raw "$OUT" -w 0.1 | cut -d' ' -f1)
expect "https://svc.example/ (absolute form): the scheme route" "$got" 418
expect "then GET / (origin form): not the https route" "$(get "$OUT" /)" 200
got=$(printf 'GET https://svc.example/ HTTP/1.1\r\nHost: svc.example\r\n\r\n' |
    raw "$OUT" -w 0.1 | cut -d' ' -f1)
expect "and https:// again: still the scheme route" "$got" 418

# --- 4: authz-d sees every header proxy-d forwards
many=$(for i in $(seq 200); do printf 'a%d: b\n' "$i"; done)
expect "200 headers, then x-evil: denied" \
    "$(get "$IN" /ok "$many
x-evil: 1")" 403
expect "200 headers without x-evil: allowed" "$(get "$IN" /ok "$many")" 200
expect "a 132-byte header name authz-d decides on: denied" \
    "$(get "$IN" /ok "$LONG: 1
")" 403
check "proxy-d alive" alive px

# --- 2: decision keys: one "x-a: evil,x" is not two fields
standin() {
	rm -f "$SOCK2"
	spawn standin nngcat --rep --listen "ipc://$SOCK2" --raw --data \
	    "$(printf 'meshkit/1 authz-reply\ngeneration: 1\n\ndecision: allow\nreuse: 60000\nvary: header:x-a\n')"
	wait_file "$SOCK2"
}
questions() { grep -c '^meshkit/1 authz$' "$T/standin.log"; }
proxy_io px2 "$OUT2" "$IN2" "$APP" "    authz:
      address: ipc://$SOCK2
      timeout: 2s"
standin
proxy_d px2 "$IN2"
until_ok 5 eval '[ "$(get "$IN2" /k "x-a: evil,x
")" = 200 ]'
n1=$(questions)
expect "the same request again: from the cache" "$(get "$IN2" /k "x-a: evil,x
")" 200
expect "the same request again: no new question" "$(questions)" "$n1"
get "$IN2" /k "x-a: evil
x-a: x
" >/dev/null
expect "x-a: evil + x-a: x is another question" "$(questions)" $((n1 + 1))
get "$IN2" /k "x-a: evil,x
x-a:
" >/dev/null
expect "x-a: evil,x + x-a: (empty) is another question" "$(questions)" \
    $((n1 + 2))
get "$IN2" /k "x-a:
" >/dev/null
get "$IN2" /k "" >/dev/null
expect "x-a empty and no x-a are two more" "$(questions)" $((n1 + 4))

trap - EXIT
finish
