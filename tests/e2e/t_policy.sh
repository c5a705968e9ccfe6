#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d carries out what a VirtualService route asks beyond where to
# go: rewrite of path and authority, redirect, direct response, request
# and response header operations.  Each case fails if the field is
# ignored.
. "$(dirname "$0")/lib.sh"

B=$(port 1) P=$(port 10)
backend b1 "$B"
se svc svc.example 80 "$B"
proxy app "$P"
cat >"$T/etc/vs.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc}
spec:
  hosts: [svc.example]
  http:
  - match: [{uri: {exact: /old}}]
    rewrite: {uri: /headers, authority: new.example}
    route: [{destination: {host: svc.example}}]
  - match: [{uri: {exact: /moved}}]
    redirect: {uri: /new, redirectCode: 301}
  - match: [{uri: {exact: /elsewhere}}]
    redirect: {authority: other.example, port: 8443, scheme: https}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - headers:
      request:
        set: {x-set: "yes"}
        add: {x-add: one}
        remove: [user-agent]
      response:
        set: {x-resp: set}
        remove: [x-backend]
    route: [{destination: {host: svc.example}}]
YAML
route_d
proxy_d app "$P"
U=http://127.0.0.1:$P

body=$(curl -s -H 'Host: svc.example' "$U/old")
case "$body" in
"GET /headers HTTP/1.1"*) ok "rewrite.uri: the upstream sees the new path" ;;
*) not_ok "rewrite.uri (got '$(printf '%s' "$body" | head -1)')" ;;
esac
got=$(printf '%s\n' "$body" | tr -d '\r' | grep -ci '^host: new.example$')
expect "rewrite.authority: the upstream sees the new Host" "$got" 1

got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	-H 'Host: svc.example' "$U/moved")
expect "redirect: 301 to the new path on the same host" "$got" \
	"301 http://svc.example/new"
got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	-H 'Host: svc.example' "$U/elsewhere")
expect "redirect: scheme, authority and port replaced" "$got" \
	"301 https://other.example:8443/elsewhere"

got=$(curl -s -w ' %{http_code}' -H 'Host: svc.example' "$U/teapot")
expect "directResponse: status and body from the route" "$got" \
	"short and stout 418"

curl -s -D "$T/h.txt" -o "$T/b.txt" -H 'Host: svc.example' \
	-H 'x-set: no' "$U/headers"
tr -d '\r' <"$T/b.txt" >"$T/b2.txt"
tr -d '\r' <"$T/h.txt" >"$T/h2.txt"
expect "request header set replaces the client's value" \
	"$(grep -ci '^x-set: yes$' "$T/b2.txt") $(grep -ci '^x-set: no$' "$T/b2.txt")" "1 0"
expect "request header add" "$(grep -ci '^x-add: one$' "$T/b2.txt")" 1
expect "request header remove" "$(grep -ci '^user-agent:' "$T/b2.txt")" 0
expect "response header set" "$(grep -ci '^x-resp: set$' "$T/h2.txt")" 1
expect "response header remove" "$(grep -ci '^x-backend:' "$T/h2.txt")" 0

# the same requests again: answers are reused, the policy still applies
got=$(curl -s -w ' %{http_code}' -H 'Host: svc.example' "$U/teapot")
expect "directResponse again (answer reused or asked anew)" "$got" \
	"short and stout 418"
check "proxy-d alive" alive app
finish
