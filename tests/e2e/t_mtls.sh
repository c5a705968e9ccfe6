#!/bin/bash
# SPDX-License-Identifier: ISC
# Mutual TLS between proxies: book's proxy-d reaches rating's over mTLS
# (auto mTLS: the endpoint is labelled security.istio.io/tlsMode: istio),
# rating's app gets x-forwarded-client-cert, PeerAuthentication
# PERMISSIVE then STRICT, openssl s_client without a certificate, with a
# foreign, an expired and a non-SPIFFE one refused and a mesh one served,
# a mesh-wide STRICT policy in MeshConfig's rootNamespace,
# an AuthorizationPolicy on the principal, meshctl describe, session
# resumption of pooled connections, and a DestinationRule's SIMPLE TLS to
# an nginx outside the mesh.
. "$(dirname "$0")/lib.sh"

APP=$(port 1) RATING=$(port 2) BOOK=$(port 3) WEB=$(port 4)
SOCK=ipc://$MESHKIT_RUNDIR/tls.sock
ST=$T/state
cat >"$T/etc/mesh.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rating}
spec:
  hosts: [rating]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: rating}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: rating-1}
spec:
  address: 127.0.0.1
  ports: {http: $RATING}
  serviceAccount: rating
  labels: {app: rating, security.istio.io/tlsMode: istio}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: book}
spec:
  workload: {name: book, serviceAccount: book, labels: {app: book}}
  listeners:
  - {name: outbound, direction: outbound, address: 127.0.0.1:$BOOK}
  daemons:
    route: {address: ipc://$MESHKIT_RUNDIR/route.sock}
    tls: {}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: rating}
spec:
  workload: {name: rating, serviceAccount: rating, labels: {app: rating}}
  listeners:
  - {name: inbound, direction: inbound, address: 127.0.0.1:$RATING, forward: 127.0.0.1:$APP}
  daemons:
    tls: {}
    authz: {}
EOF

backend app "$APP"
spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$ST"
wait_file "$MESHKIT_RUNDIR/tls.sock"
spawn authz-d "$BIN/authz-d" -c "$T/etc"
wait_file "$MESHKIT_RUNDIR/authz.sock"
route_d
proxy_d rating "$RATING"
proxy_d book "$BOOK"
until_ok 10 grep -q 'tls: certificate spiffe://cluster.local/ns/default/sa/rating valid' "$T/rating.log"
until_ok 10 grep -q 'tls: certificate spiffe://cluster.local/ns/default/sa/book valid' "$T/book.log"
check "both proxies got their certificates" grep -q 'sa/book valid' "$T/book.log"

via_book() { curl -s --max-time 5 -H 'Host: rating:8080' "$@" "http://127.0.0.1:$BOOK/headers"; }
out=$(via_book -H 'x-forwarded-client-cert: By=forged;URI=spiffe://evil')
check "book -> rating over mTLS: 200" sh -c "printf '%s' '$out' | grep -q '^GET /headers'"
xfcc=$(printf '%s\n' "$out" | tr -d '\r' | sed -n 's/^x-forwarded-client-cert: //p')
hash=$(openssl x509 -in <("$BIN/meshctl" tls cert book -s "$SOCK" 2>/dev/null) -outform DER | sha256sum | cut -c1-64)
expect "the app gets Envoy's x-forwarded-client-cert" "$xfcc" \
    "By=spiffe://cluster.local/ns/default/sa/rating;Hash=$hash;Subject=\"\";URI=spiffe://cluster.local/ns/default/sa/book"
check "rating's proxy took a TLS client" sh -c "! grep -q 'TLS handshake refused' '$T/rating.log'"

# big bodies both ways through mTLS: flow control (buffers filling and
# draining) must not stall a TLS connection
head -c 30000000 /dev/urandom >"$T/big"
want=$("$BUILD/tests/mk-backend" -S <"$T/big")
got=$(curl -s --max-time 60 -H 'Host: rating:8080' --data-binary @"$T/big" "http://127.0.0.1:$BOOK/upload")
expect "a 30 MB upload through mTLS" "$got" "$want"
# mk-backend's /bytes/N: byte i is pattern[i % 64]
pattern() { yes '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.' | head -c "$1" | sha256sum; }
got=$(curl -s --max-time 60 -H 'Host: rating:8080' "http://127.0.0.1:$BOOK/bytes/30000000" | sha256sum)
expect "a 30 MB download through mTLS, byte for byte" "$got" "$(pattern 30000000)"
got=$(curl -s --max-time 60 --limit-rate 2M -H 'Host: rating:8080' "http://127.0.0.1:$BOOK/bytes/4000000" | sha256sum)
expect "a download read slowly (the proxies' buffers fill and drain)" "$got" "$(pattern 4000000)"
rm -f "$T/big"

# PERMISSIVE (no PeerAuthentication): plain text is served too, and a
# plain-text client's x-forwarded-client-cert does not reach the app
out=$(curl -s --max-time 5 -H 'x-forwarded-client-cert: By=forged' "http://127.0.0.1:$RATING/headers")
check "PERMISSIVE: plain text served" sh -c "printf '%s' '$out' | grep -q '^GET /headers'"
check "... and its x-forwarded-client-cert removed" sh -c "! printf '%s' '$out' | grep -qi forged"
out=$("$BIN/meshctl" -c "$T/etc" describe rating)
check "meshctl describe: PERMISSIVE, no policy" sh -c "printf '%s\n' '$out' | grep -q 'inbound.*yes (PERMISSIVE)' &&
    printf '%s\n' '$out' | grep -q 'no PeerAuthentication'"

# MeshConfig rootNamespace: the mesh-wide policy lives there, and
# istio-system is a namespace like any other
cat >"$T/etc/root.yaml" <<EOF
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {rootNamespace: mesh-root}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: mesh-root}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ignored, namespace: istio-system}
spec: {mtls: {mode: DISABLE}}
EOF
until_ok 10 grep -q "listener 127.0.0.1:$RATING: mTLS STRICT (PeerAuthentication mesh-root/strict (mesh))" "$T/rating.log"
check "rootNamespace: its PeerAuthentication is the mesh's" \
    grep -q "mTLS STRICT (PeerAuthentication mesh-root/strict (mesh))" "$T/rating.log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RATING/")
expect "rootNamespace: plain text refused" "$code" 000
expect "rootNamespace: book -> rating over mTLS" "$(via_book -o /dev/null -w '%{http_code}')" 200
out=$("$BIN/meshctl" -c "$T/etc" describe rating)
check "rootNamespace: meshctl describe says so" sh -c "printf '%s\n' '$out' | grep -q 'inbound.*yes (STRICT)'"
rm -f "$T/etc/root.yaml"
until_ok 10 sh -c "tail -n 3 '$T/rating.log' | grep -q 'mTLS PERMISSIVE'"

# certificates for openssl s_client
mkcsr() {	# mkcsr NAME SAN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -subj / -addext "subjectAltName=$2" -out "$T/$1.csr" 2>/dev/null
}
mkcsr tester URI:spiffe://cluster.local/ns/default/sa/tester
"$BIN/tls-d" -q -f -c "$T/etc" -d "$ST" <"$T/tester.csr" >"$T/tester.pem"
"$BIN/tls-d" -q -f -c "$T/etc" -d "$ST" -t $(($(date +%s) - 3 * 86400)) <"$T/tester.csr" >"$T/expired.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/foreign-ca.key" \
    -subj /CN=foreign -days 2 -out "$T/foreign-ca.pem" 2>/dev/null
openssl x509 -req -in "$T/tester.csr" -CA "$T/foreign-ca.pem" -CAkey "$T/foreign-ca.key" \
    -CAcreateserial -days 1 -copy_extensions copy -out "$T/foreign.pem" 2>/dev/null
mkcsr dns DNS:tester.example
openssl x509 -req -in "$T/dns.csr" -CA "$ST/root-1.pem" -CAkey "$ST/root-1-key.pem" \
    -CAcreateserial -days 1 -copy_extensions copy -out "$T/dns.pem" 2>/dev/null

# s_client KEYNAME CERT : GET /headers over TLS, the first line back
s_client() {
	printf 'GET /headers HTTP/1.1\r\nHost: rating\r\nConnection: close\r\n\r\n' |
	    timeout 5 openssl s_client -connect "127.0.0.1:$RATING" -quiet \
	    -CAfile "$ST/root-1.pem" ${2:+-cert "$2" -key "$T/$1.key"} 2>/dev/null | head -1 | tr -d '\r'
}

# STRICT for rating
cat >"$T/etc/pa.yaml" <<EOF
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: rating-strict}
spec:
  selector: {matchLabels: {app: rating}}
  mtls: {mode: STRICT}
EOF
until_ok 10 grep -q "listener 127.0.0.1:$RATING: mTLS STRICT (PeerAuthentication default/rating-strict" "$T/rating.log"
check "STRICT: in force" grep -q "mTLS STRICT (PeerAuthentication default/rating-strict (workload))" "$T/rating.log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RATING/")
expect "STRICT: plain text refused" "$code" 000
expect "STRICT: book -> rating still works" "$(via_book -o /dev/null -w '%{http_code}')" 200
expect "s_client without a certificate: refused" "$(s_client)" ""
expect "s_client with a foreign CA's certificate: refused" "$(s_client tester "$T/foreign.pem")" ""
expect "s_client with an expired certificate: refused" "$(s_client tester "$T/expired.pem")" ""
expect "s_client with a certificate without SPIFFE ID: refused" "$(s_client dns "$T/dns.pem")" ""
expect "s_client with a mesh certificate: served" "$(s_client tester "$T/tester.pem")" "HTTP/1.1 200 OK"
check "refusals are logged with their reason" grep -q 'TLS handshake refused: certificate: certificate has expired' "$T/rating.log"
check "openssl verify accepts every issued certificate" sh -c "
    openssl verify -CAfile '$ST/root-1.pem' '$T/tester.pem' >/dev/null &&
    '$BIN/meshctl' tls cert book -s '$SOCK' | openssl verify -CAfile '$ST/root-1.pem' >/dev/null &&
    '$BIN/meshctl' tls cert rating -s '$SOCK' | openssl verify -CAfile '$ST/root-1.pem' >/dev/null"
out=$("$BIN/meshctl" -c "$T/etc" describe rating)
check "meshctl describe: STRICT and the policy" sh -c "printf '%s\n' '$out' | grep -q 'inbound.*yes (STRICT)' &&
    printf '%s\n' '$out' | grep -q 'default/rating-strict (workload)'"

# the principal reaches authz-d: only book may call rating
cat >"$T/etc/az.yaml" <<EOF
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: rating-from-book}
spec:
  selector: {matchLabels: {app: rating}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/book]}}]
EOF
until_ok 10 grep -q 'generation 2: 0 RequestAuthentications, 1 AuthorizationPolicies' "$T/authz-d.log"
sleep 1.5	# the decisions proxy-d may reuse run out
expect "book's principal: allowed" "$(via_book -o /dev/null -w '%{http_code}')" 200
expect "another mesh identity: 403" "$(s_client tester "$T/tester.pem")" "HTTP/1.1 403 Forbidden"
cat >"$T/etc/az.yaml" <<EOF
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: rating-from-book}
spec:
  selector: {matchLabels: {app: rating}}
  action: ALLOW
  rules:
  - from: [{source: {namespaces: [default]}}]
    when: [{key: source.principal, values: ["*/sa/tester"]}]
EOF
until_ok 10 grep -q 'generation 3:' "$T/authz-d.log"
sleep 1.5
expect "source.namespace and source.principal conditions" "$(s_client tester "$T/tester.pem")" "HTTP/1.1 200 OK"
expect "... and book no longer" "$(via_book -o /dev/null -w '%{http_code}')" 403
rm -f "$T/etc/az.yaml"

# a DestinationRule SIMPLE to an nginx with TLS on loopback
if command -v nginx >/dev/null; then
	mkdir -p "$T/nginx"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/web-ca.key" \
	    -subj /CN=web-ca -days 2 -out "$T/web-ca.pem" \
	    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/web.key" \
	    -subj /CN=web.example -addext subjectAltName=DNS:web.example -out "$T/web.csr" 2>/dev/null
	openssl x509 -req -in "$T/web.csr" -CA "$T/web-ca.pem" -CAkey "$T/web-ca.key" -CAcreateserial \
	    -days 1 -copy_extensions copy -out "$T/web.pem" 2>/dev/null
	cat >"$T/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx/b; proxy_temp_path $T/nginx/p;
	fastcgi_temp_path $T/nginx/f; uwsgi_temp_path $T/nginx/u; scgi_temp_path $T/nginx/s;
	server {
		listen 127.0.0.1:$WEB ssl;
		ssl_certificate $T/web.pem;
		ssl_certificate_key $T/web.key;
		location / { return 200 "tls ok \$ssl_server_name\n"; }
	}
}
EOF
	spawn nginx nginx -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf"
	wait_port "$WEB"
	cat >"$T/etc/web.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web}
spec:
  hosts: [web.example]
  ports: [{number: 443, name: https, protocol: HTTP}]
  resolution: STATIC
  location: MESH_EXTERNAL
  endpoints: [{address: 127.0.0.1, ports: {https: $WEB}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web.example
  trafficPolicy:
    tls: {mode: SIMPLE, caCertificates: $T/web-ca.pem}
EOF
	sleep 1.5	# route-d's reload, and proxy-d's cached answers
	out=$(curl -s --max-time 5 -H 'Host: web.example:443' "http://127.0.0.1:$BOOK/")
	expect "egress: SIMPLE TLS to nginx, SNI from the host" "$out" "tls ok web.example"
	sed -i "s|caCertificates: .*}|caCertificates: $ST/root-1.pem}|" "$T/etc/web.yaml"
	sleep 1.5
	code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 -H 'Host: web.example:443' "http://127.0.0.1:$BOOK/")
	expect "egress: a server the CA does not vouch for: 503" "$code" 503
	check "... saying why" grep -q 'certificate' "$T/body"
else
	echo "# nginx not installed: egress case skipped"
fi

# resumption: each request on a new upstream connection
stop book
sed -i '/^metadata: {name: book}$/,/^---$/ s/^  daemons:$/  limits: {poolMaxIdle: 0}\n  daemons:/' "$T/etc/mesh.yaml"
proxy_d book "$BOOK"
until_ok 10 grep -q 'tls: certificate spiffe://cluster.local/ns/default/sa/book valid' "$T/book.log"
for _ in 1 2 3 4 5; do via_book -o /dev/null; done
stop rating
full=$(sed -n 's/.*full handshakes \([0-9]*\), resumed \([0-9]*\).*/\1/p' "$T/rating.log")
resumed=$(sed -n 's/.*full handshakes \([0-9]*\), resumed \([0-9]*\).*/\2/p' "$T/rating.log")
check "pooled connections resume their TLS sessions ($full full, $resumed resumed)" \
    test "${resumed:-0}" -ge 4

finish
