#!/bin/bash
# SPDX-License-Identifier: ISC
# What proxy-d puts in each record, as the access log's command
# operators print it: Envoy's %RESPONSE_CODE_DETAILS% for answers from
# upstream and of proxy-d's own, %ROUTE_NAME%, the addresses of both
# connections (the client's side asked of the socket, so a reload does
# not lose it), %PROTOCOL%, the rewritten path beside
# X-ENVOY-ORIGINAL-PATH, %UPSTREAM_TRANSPORT_FAILURE_REASON% of a refused
# connect, a long header cut rather than left out; and requests proxy-d
# refuses before routing (a bad head, CONNECT, a head over the limit)
# logged and counted, as Envoy logs its codec errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
B=$(port 1) P=$(port 2) H=$(port 3) DEAD=$(port 4) IN=$(port 5)
ports_free "$B" "$P" "$H" "$DEAD" "$IN"
REC=ipc://$RUN/stats-records.sock

cat >"$T/etc/mesh.yaml" <<YAML
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  accessLogFile: $T/access.log
  accessLogFormat: "%REQ(:PATH)% orig=%REQ(X-ENVOY-ORIGINAL-PATH)% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% det=%RESPONSE_CODE_DETAILS% route=%ROUTE_NAME% ul=%UPSTREAM_LOCAL_ADDRESS% dl=%DOWNSTREAM_LOCAL_ADDRESS% proto=%PROTOCOL% rd=%REQUEST_DURATION% tf=%UPSTREAM_TRANSPORT_FAILURE_REASON% big=%REQ(X-BIG):12% sni=%REQUESTED_SERVER_NAME% cl=%UPSTREAM_CLUSTER%\n"
  stats:
    address: 127.0.0.1:$H
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc}
spec:
  hosts: [svc.example]
  http:
  - name: old-to-new
    match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new}
    route: [{destination: {host: svc.example}}]
  - route: [{destination: {host: svc.example}}]
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: app}
spec:
  workload: {name: app, labels: {app: app}}
  listeners:
  - {name: outbound, direction: outbound, address: "127.0.0.1:$P"}
  daemons:
    route: {address: "ipc://$RUN/route.sock"}
    stats: {address: "$REC"}
    tls: {}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svcm}
spec:
  hosts: [svcm.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: svcm}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: svcm-1}
spec:
  address: 127.0.0.1
  ports: {http: $IN}
  labels: {app: svcm, security.istio.io/tlsMode: istio}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: svcm}
spec:
  workload: {name: svcm-1, serviceAccount: svcm-sa, labels: {app: svcm}}
  listeners:
  - {name: inbound, direction: inbound, address: "127.0.0.1:$IN", forward: "127.0.0.1:$B"}
  daemons:
    stats: {address: "$REC"}
    tls: {}
YAML
se svc svc.example 80 "$B"
se plain plain.example 80 "$B"
se dead dead.example 80 "$DEAD"

backend b1 "$B"
spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$T/tls-state"
wait_file "$RUN/tls.sock"
route_d
stats_d
wait_port "$H"
proxy_d app "$P"
proxy_d svcm "$IN"
until_ok 10 grep -q 'sa/svcm-sa valid' "$T/svcm.log"
joined stats-d 0 2>/dev/null
metrics() { curl -s --max-time 5 "http://127.0.0.1:$H/metrics"; }
line() { grep -F -- "$1" "$T/access.log" | tail -1; }
get() { curl -s --max-time 5 -o /dev/null "$@"; }

# proxy-d dials stats-d in the background: wait until lines come
until_ok 5 eval 'get -H "Host: plain.example" "http://127.0.0.1:$P/warm"; grep -q "^/warm " "$T/access.log" 2>/dev/null'

get -H 'Host: svc.example' "http://127.0.0.1:$P/old/x?q=1"
get -H 'Host: svc.example' "http://127.0.0.1:$P/unnamed"
get -H 'Host: plain.example' --http1.0 "http://127.0.0.1:$P/ten"
get -H 'Host: dead.example' "http://127.0.0.1:$P/refused"
get -H 'Host: nowhere.example' "http://127.0.0.1:$P/nr"
get -H 'Host: plain.example' -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' b)" "http://127.0.0.1:$P/big"
printf 'GET /nohost HTTP/1.1\r\n\r\n' | raw "$P" >/dev/null
printf 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n' | raw "$P" >/dev/null
until_ok 5 eval 'grep -q "^- .*code=501" "$T/access.log"'

l=$(line "/new/x?q=1 ")
check "a rewrite: the path sent, X-ENVOY-ORIGINAL-PATH the one that came" \
	grep -qF '/new/x?q=1 orig=/old/x?q=1 code=200 flags=- det=via_upstream route=old-to-new ' <<<"$l"
check "the client's side: the address it connected to" grep -qF "dl=127.0.0.1:$P " <<<"$l"
check "the upstream side: the address proxy-d connected from" \
	grep -qE ' ul=127\.0\.0\.1:[0-9]+ ' <<<"$l"
check "a request without a body: its duration ends with its head" \
	grep -qE ' proto=HTTP/1\.1 rd=[0-9]+ tf=- ' <<<"$l"
check "an unnamed route of a VirtualService has no name" \
	grep -qF ' route=- ' <<<"$(line '/unnamed ')"
check "no VirtualService: Istio's route named default" \
	grep -qF ' route=default ' <<<"$(line '/ten ')"
check "an HTTP/1.0 request's protocol" grep -qF ' proto=HTTP/1.0 ' <<<"$(line '/ten ')"
l=$(line "/refused ")
check "a refused connect: Envoy's details and transport failure reason" \
	grep -qE "code=503 flags=UF det=upstream_reset_before_response_started\{connection_failure,delayed_connect_error:_[0-9]+\} .* ul=- .* tf=delayed_connect_error:_[0-9]+ " <<<"$l"
check "no route: route_not_found" grep -qF 'code=404 flags=NR det=route_not_found' <<<"$(line '/nr ')"
check "a 3000-byte header is cut, not left out: %REQ(X-BIG):12%" \
	grep -qE ' big=bbbbbbbbbbbb sni=- ' <<<"$(line '/big ')"

# refused before routing: logged and counted all the same
check "a head without Host: its 400 logged" \
	grep -qE '^/nohost orig=- code=400 flags=DPE det=http1\.codec_error ' "$T/access.log"
check "CONNECT: its 501 logged" \
	grep -qE '^- orig=- code=501 flags=DPE det=http1\.codec_error ' "$T/access.log"
check "istio_requests_total counts the 400 and the 501" eval \
	'metrics | grep -q "^istio_requests_total{response_code=\"400\",.*response_flags=\"DPE\"" && metrics | grep -q "^istio_requests_total{response_code=\"501\","'
check "a head over the limit: 431, logged as Envoy's headers_too_large" eval \
	'python3 -c "import sys; sys.stdout.buffer.write(b\"GET /huge HTTP/1.1\r\nHost: plain.example\r\nX-H: \" + b\"h\" * 70000 + b\"\r\n\r\n\")" | raw "$P" >/dev/null; until_ok 5 grep -q "code=431 flags=DPE det=http1.headers_too_large" "$T/access.log"'

# mutual TLS: the source side names the server by its certificate,
# though its WorkloadEntry has no serviceAccount
until_ok 10 eval 'get -H "Host: svcm.example" "http://127.0.0.1:$P/m"; grep -q "^/m .*code=200" "$T/access.log"'
check "source side, mutual TLS: destination_principal from the server's certificate" eval \
	'metrics | grep "^istio_requests_total{.*reporter=\"source\"" | grep "destination_service=\"svcm.example\"" | grep -q "destination_principal=\"spiffe://cluster.local/ns/default/sa/svcm-sa\""'
check "inbound over mutual TLS: %REQUESTED_SERVER_NAME% is the SNI the caller sent" \
	grep -qE '^/m .* sni=outbound_\.80_\._\.svcm\.example ' "$T/access.log"
check "inbound: Istio's cluster names the application's port" \
	grep -qE "^/m .* cl=inbound\\|$B\\|\\|$" "$T/access.log"

# the client's side after a reload: asked of the socket, not the listener
exec 7<>"/dev/tcp/127.0.0.1/$P"
printf 'GET /before HTTP/1.1\r\nHost: plain.example\r\n\r\n' >&7
until_ok 5 eval 'grep -q "^/before " "$T/access.log"'
stop_sig() { kill -"$1" "$(pid_of app)"; }
stop_sig HUP
until_ok 5 eval 'grep -q "generation 2 in force" "$T/app.log"'
sleep 0.5
printf 'GET /after HTTP/1.1\r\nHost: plain.example\r\n\r\n' >&7
until_ok 5 eval 'grep -q "^/after " "$T/access.log"'
exec 7>&-
check "a connection older than a reload still logs its local address" \
	grep -qF "dl=127.0.0.1:$P " <<<"$(line '/after ')"
check "proxy-d alive" alive app

trap - EXIT
finish
