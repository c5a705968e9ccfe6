#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d carries out a route's retries, timeouts, fault injection,
# mirrors and CORS policy, as route-d hands them over from real
# VirtualServices.  Each case fails if proxy-d ignores the field.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

GOOD=$(port 1) BAD=$(port 2) CLOSED=$(port 3) MIR=$(port 4) MIR2=$(port 5)
P=$(port 10)
ports_free "$GOOD" "$BAD" "$CLOSED" "$MIR" "$MIR2" "$P"
backend_v good "$GOOD"
spawn bad "$BACKEND" -v -s 503 -n bad -l "127.0.0.1:$BAD"
wait_port "$BAD"
backend_v mirror "$MIR"
backend_v mirror2 "$MIR2"
se good good.example 80 "$GOOD"
se flaky flaky.example 80 "$BAD" "$GOOD"
se plain plain.example 80 "$BAD" "$GOOD"
se broken broken.example 80 "$BAD"
se gone gone.example 80 "$CLOSED" "$GOOD"
se mirror mirror.example 80 "$MIR"
se mirror2 mirror2.example 80 "$MIR2"
proxy app "$P"
cat >"$T/etc/vs.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: flaky}
spec:
  hosts: [flaky.example]
  http:
  - route: [{destination: {host: flaky.example}}]
    retries: {attempts: 2, retryOn: 5xx}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: plain}
spec:
  hosts: [plain.example]
  http:
  - route: [{destination: {host: plain.example}}]
    retries: {attempts: 0}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken}
spec:
  hosts: [broken.example]
  http:
  - route: [{destination: {host: broken.example}}]
    retries: {attempts: 2, retryOn: "gateway-error"}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: gone}
spec:
  hosts: [gone.example]
  http:
  - route: [{destination: {host: gone.example}}]
    retries: {attempts: 1, retryOn: connect-failure}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: good}
spec:
  hosts: [good.example]
  http:
  - match: [{uri: {prefix: /timeout}}]
    rewrite: {uri: /delay/3000}
    timeout: 300ms
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /pertry}}]
    rewrite: {uri: /delay/3000}
    timeout: 10s
    retries: {attempts: 2, perTryTimeout: 200ms, retryOn: "5xx,reset"}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /abort}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /half}}]
    fault: {abort: {httpStatus: 500, percentage: {value: 50}}}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /slow}}]
    fault: {delay: {fixedDelay: 600ms, percentage: {value: 100}}}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /mirror}}]
    mirror: {host: mirror.example}
    mirrorPercentage: {value: 100}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /both}}]
    mirrors:
    - {destination: {host: mirror.example}}
    - {destination: {host: mirror2.example}, percentage: {value: 100}}
    route: [{destination: {host: good.example}}]
  - match: [{uri: {prefix: /cors}}]
    corsPolicy:
      allowOrigins: [{exact: "https://a.example"}, {regex: "https://.*[.]b[.]example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-h]
      exposeHeaders: [x-e]
      maxAge: 24h
      allowCredentials: true
    route: [{destination: {host: good.example}}]
YAML
route_d
proxy_d app "$P"
U=http://127.0.0.1:$P
bad_count() { grep -c 'bad GET' "$T/bad.log"; }

# retries: half the tries land on the failing endpoint, none fails
codes=""
for i in $(seq 20); do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: flaky.example' "$U/headers")"
done
expect "retries on 5xx: 20 requests over a half-failing service all succeed" \
	"$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "200x20 "
check "the failing endpoint was tried (and retried past)" test "$(bad_count)" -ge 5
got=$(curl -s -H 'Host: flaky.example' "$U/headers" | tr -d '\r' |
	grep -ci '^x-envoy-attempt-count: [12]$')
expect "the upstream sees x-envoy-attempt-count" "$got" 1

# a request body goes again on the retry, whole
head -c 200000 /dev/urandom >"$T/body"
want=$("$BACKEND" -S <"$T/body")
codes="" sums=""
for i in 1 2 3 4; do
	got=$(curl -s --max-time 10 -o "$T/up.out" -w '%{http_code}' -H 'Host: flaky.example' --data-binary @"$T/body" "$U/upload")
	[ "$got $(cat "$T/up.out")" = "200 $want" ] || sums="$sums [$got $(cat "$T/up.out")]"
done
expect "retries replay the request body (200 kB POST, 4 times)" "$sums" ""
check "the failing endpoint read bodies too" test "$(grep -c 'bad POST' "$T/bad.log")" -ge 1

# attempts: 0 means none: the same service fails half the time
fails=0
for i in $(seq 20); do
	c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: plain.example' "$U/")
	[ "$c" = 503 ] && fails=$((fails + 1))
done
check "retries {attempts: 0}: failures reach the client ($fails of 20)" \
	test "$fails" -ge 5

# retries exhausted: 1 + attempts tries, then the last answer
before=$(bad_count)
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: broken.example' "$U/")
expect "retries exhausted: the last try's 503 goes to the client" "$got" 503
expect "retries exhausted: 1 + attempts tries reached the upstream" \
	"$(( $(bad_count) - before ))" 3

# connect-failure: the endpoint that refuses is passed over
codes=""
for i in $(seq 10); do
	codes="$codes$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: gone.example' "$U/")"
done
expect "retryOn connect-failure: every request reaches the live endpoint" \
	"$codes" "$(printf '200%.0s' $(seq 10))"

# the route's timeout: 504 UT long before the upstream answers
start=$(date +%s%N)
got=$(curl -s -D "$T/t.h" -o /dev/null -w '%{http_code}' -H 'Host: good.example' "$U/timeout")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "timeout: 504" "$got" 504
expect "timeout: flag UT" "$(header x-meshkit-flags <"$T/t.h")" UT
check "timeout: answered after 300 ms, well before 3 s ($ms ms)" \
	test "$ms" -ge 250 -a "$ms" -lt 2000

# perTryTimeout: three tries of 200 ms each, then 504
start=$(date +%s%N)
body=$(curl -s -H 'Host: good.example' "$U/pertry")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
case "$body" in
*"per-try timeout (after 3 tries)"*) ok "perTryTimeout: each try cut at 200 ms, 3 tries" ;;
*) not_ok "perTryTimeout (got '$body')" ;;
esac
check "perTryTimeout: done in 3 x 200 ms plus back-off ($ms ms)" \
	test "$ms" -ge 550 -a "$ms" -lt 2500

# fault abort: the answer comes from proxy-d, the upstream sees nothing
before=$(grep -c 'good GET /abort' "$T/good.log")
got=$(curl -s -D "$T/a.h" -w ' %{http_code}' -H 'Host: good.example' "$U/abort")
expect "fault abort: httpStatus and Envoy's body" "$got" "fault filter abort 418"
expect "fault abort: flag FI" "$(header x-meshkit-flags <"$T/a.h")" FI
expect "fault abort: never forwarded" "$(grep -c 'good GET /abort' "$T/good.log")" "$before"
n500=0
for i in $(seq 200); do
	c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: good.example' "$U/half")
	[ "$c" = 500 ] && n500=$((n500 + 1))
done
check "fault abort at 50%: $n500 of 200 aborted (60..140)" \
	test "$n500" -ge 60 -a "$n500" -le 140

# fault delay: the request waits, then is served
start=$(date +%s%N)
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: good.example' "$U/slow")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "fault delay: served" "$got" 200
check "fault delay: after fixedDelay 600 ms ($ms ms)" test "$ms" -ge 580

# mirrors: a copy goes to the mirror service, its answer is dropped
for i in $(seq 10); do
	curl -s -o /dev/null -H 'Host: good.example' "$U/mirror/$i"
done
sleep 0.5
expect "mirror: each request copied to the mirror service" \
	"$(grep -c 'mirror GET /mirror/' "$T/mirror.log")" 10
expect "mirror: the client got the real answer" \
	"$(curl -s -H 'Host: good.example' "$U/mirror/x")" "hello from mk-backend good"
curl -s -o /dev/null -H 'Host: good.example' "$U/both/1"
sleep 0.3
expect "mirrors: the copy reaches every mirror" \
	"$(grep -c 'GET /both/1' "$T/mirror.log" "$T/mirror2.log" | cut -d: -f2 | tr '\n' ' ')" "1 1 "

# CORS
curl -s -D "$T/c.h" -o /dev/null -X OPTIONS -H 'Host: good.example' \
	-H 'Origin: https://a.example' -H 'Access-Control-Request-Method: POST' "$U/cors"
expect "CORS preflight: answered 200 by proxy-d" \
	"$(head -1 "$T/c.h" | tr -d '\r')" "HTTP/1.1 200 OK"
expect "CORS preflight: allow-origin echoes the origin" \
	"$(header access-control-allow-origin <"$T/c.h")" "https://a.example"
expect "CORS preflight: allow-methods" "$(header access-control-allow-methods <"$T/c.h")" "GET,POST"
expect "CORS preflight: allow-headers" "$(header access-control-allow-headers <"$T/c.h")" "x-h"
expect "CORS preflight: max-age in seconds" "$(header access-control-max-age <"$T/c.h")" 86400
expect "CORS preflight: allow-credentials" "$(header access-control-allow-credentials <"$T/c.h")" true
expect "CORS preflight: not forwarded" "$(grep -c 'good OPTIONS' "$T/good.log")" 0
curl -s -D "$T/c2.h" -o /dev/null -H 'Host: good.example' \
	-H 'Origin: https://x.b.example' "$U/cors"
expect "CORS: a regex-allowed origin gets allow-origin on the response" \
	"$(header access-control-allow-origin <"$T/c2.h")" "https://x.b.example"
expect "CORS: expose-headers on the response" \
	"$(header access-control-expose-headers <"$T/c2.h")" "x-e"
curl -s -D "$T/c3.h" -o /dev/null -H 'Host: good.example' \
	-H 'Origin: https://evil.example' "$U/cors"
expect "CORS: another origin gets no allow-origin" \
	"$(header access-control-allow-origin <"$T/c3.h")" ""

check "proxy-d alive" alive app
trap - EXIT
finish
