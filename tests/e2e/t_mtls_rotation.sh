#!/bin/bash
# SPDX-License-Identifier: ISC
# Certificates that change under load: book's proxy-d calls rating's
# over mutual TLS (STRICT) with wrk for a bounded time while both
# proxies renew their 6-second certificates twice and tls-d rotates its
# root; then while tls-d is killed with -9 and started again.  Not one
# request may fail, and the restarted tls-d must keep the same root.
. "$(dirname "$0")/lib.sh"

APP=$(port 1) RATING=$(port 2) BOOK=$(port 3)
SOCK=ipc://$MESHKIT_RUNDIR/tls.sock
ST=$T/state
command -v wrk >/dev/null || { echo "# wrk not installed: skipped"; finish; }
cat >"$T/etc/mesh.yaml" <<EOF
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {workloadCertTtl: 6s}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rating}
spec:
  hosts: [rating]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: $RATING}, labels: {security.istio.io/tlsMode: istio}}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: book}
spec:
  workload: {name: book, serviceAccount: book}
  listeners:
  - {name: outbound, direction: outbound, address: 127.0.0.1:$BOOK}
  limits: {poolMaxIdle: 1}     # connections come and go: handshakes
  daemons:
    route: {address: ipc://$MESHKIT_RUNDIR/route.sock}
    tls: {}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: rating}
spec:
  workload: {name: rating}
  listeners:
  - {name: inbound, direction: inbound, address: 127.0.0.1:$RATING, forward: 127.0.0.1:$APP}
  daemons:
    tls: {}
EOF

tls_d() {
	spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$ST"
	until_ok 10 sh -c "nngcat --req --dial '$SOCK' --raw --recv-timeout 1 \
	    --data 'meshkit/1 status' 2>/dev/null | grep -q '^pid: $(pid_of tls-d)\$'"
}
certs() { grep -c "tls: certificate .* valid until" "$T/$1.log"; }
# more NAME N : the proxy has logged more than N certificates
more() { [ "$(certs "$1")" -gt "$2" ]; }

# wrk DURATION NAME : a bounded load through book, its summary in $T/NAME
load() {
	timeout $(($1 + 20)) wrk -t1 -c4 -d"$1s" -H 'Host: rating:8080' \
	    "http://127.0.0.1:$BOOK/" >"$T/$2" 2>&1 &
	LOAD=$!
}
# the requests wrk made, and those that failed
made() { sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$T/$1"; }
failed() {
	awk '/Non-2xx or 3xx responses:/ { n += $NF }
	    /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
	    END { print n + 0 }' "$T/$1"
}

backend app "$APP"
tls_d
route_d
proxy_d rating "$RATING"
proxy_d book "$BOOK"
until_ok 10 more rating 0
until_ok 10 more book 0
expect "STRICT mTLS book -> rating" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -H 'Host: rating:8080' "http://127.0.0.1:$BOOK/")" 200

# two renewals each, and a root rotation, under load
r0=$(certs rating) b0=$(certs book)
load 14 wrk1
sleep 3
check "meshctl tls rotate-root under load" sh -c "'$BIN/meshctl' tls rotate-root -s '$SOCK' >/dev/null"
until_ok 12 more rating $((r0 + 2))
until_ok 12 more book $((b0 + 2))
wait $LOAD
check "both proxies renewed at least twice more (rating $r0 -> $(certs rating), book $b0 -> $(certs book))" \
    sh -c "[ $(certs rating) -ge $((r0 + 2)) ] && [ $(certs book) -ge $((b0 + 2)) ]"
check "both took the rotated bundle" sh -c "grep -q 'bundle generation 2' '$T/rating.log' &&
    grep -q 'bundle generation 2' '$T/book.log'"
check "the load ran ($(made wrk1) requests)" test "$(made wrk1)" -gt 100
expect "0 failed requests across renewals and a root rotation" "$(failed wrk1)" 0
check "book's certificate now comes from the new root" \
    sh -c "'$BIN/meshctl' tls cert book -s '$SOCK' | openssl verify -CAfile '$ST/root-2.pem' >/dev/null 2>&1"

# tls-d killed under load, and back: the proxies keep going.  The
# certificates live 12 s now, so that they outlast tls-d's absence: a
# renewal falls due while it is away, and fails, and is tried again.
sed -i 's/workloadCertTtl: 6s/workloadCertTtl: 12s/' "$T/etc/mesh.yaml"
kill -HUP "$(pid_of tls-d)"
until_ok 10 grep -q 'certificates for 12 s' "$T/tls-d.log"
until_ok 10 grep -q 'sa/book valid until .*, renewing in [67] s' "$T/book.log"
until_ok 10 grep -q 'sa/default valid until .*, renewing in [67] s' "$T/rating.log"
root=$(openssl x509 -in "$ST/root-2.pem" -noout -fingerprint)
load 16 wrk2
sleep 1
stop tls-d KILL
until_ok 10 grep -q 'no certificate from tls-d' "$T/book.log"
check "with tls-d down, the proxies retry and keep their certificates" \
    grep -q 'no certificate from tls-d: tls-d is not reachable; keeping the certificate' "$T/book.log"
out=$("$BIN/meshctl" status -t "$SOCK" 2>/dev/null)
check "meshctl status says so" sh -c "printf '%s\n' '$out' | grep -q '^tls-d .*down' &&
    printf '%s\n' '$out' | grep -q '^proxy book .*mTLS retrying .*spiffe://cluster.local/ns/default/sa/book, valid'"
tls_d
wait $LOAD
expect "0 failed requests with tls-d killed -9 ($(made wrk2) requests)" "$(failed wrk2)" 0
check "the load ran" test "$(made wrk2)" -gt 100
expect "its restart keeps the same root" "$(openssl x509 -in "$ST/root-2.pem" -noout -fingerprint)" "$root"
r=$(nngcat --req --dial "$SOCK" --raw --recv-timeout 2 --data 'meshkit/1 bundle' 2>/dev/null)
expect "... and the same bundle generation" "$(field "$r" bundle-generation)" 2
nb=$(certs book)
until_ok 10 more book "$nb"
check "renewals resume" more book "$nb"
out=$("$BIN/meshctl" status -t "$SOCK" 2>/dev/null)
check "meshctl status: tls-d up, the proxies ok again" sh -c "printf '%s\n' '$out' | grep -q '^tls-d .*up' &&
    printf '%s\n' '$out' | grep -q '^proxy book .*mTLS ok'"

finish
