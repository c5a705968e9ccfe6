#!/bin/bash
# SPDX-License-Identifier: ISC
# tls-d, the mesh CA: its root in the state directory, CSRs signed for the
# identity a Proxy resource entitles (and only for it, and only for its
# uid), hostile CSRs refused with tls-d alive, root rotation, kill -9 and
# restart with the same root, meshctl tls, the PEM filter, a plug-in CA.
. "$(dirname "$0")/lib.sh"

SOCK=ipc://$MESHKIT_RUNDIR/tls.sock
EVENTS=ipc://$MESHKIT_RUNDIR/tls-events.sock
ST=$T/state
ME=$(id -u)
cat >"$T/etc/proxies.yaml" <<EOF
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: book}
spec:
  workload: {name: book-service, serviceAccount: bookinfo-book, uid: $ME}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: rating, namespace: shop}
spec:
  workload: {name: rating, uid: $((ME + 1))}
---
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: free}
spec:
  workload: {name: free}
EOF

# answering : tls-d answers a status request (a killed one leaves its socket)
answering() {
	nngcat --req --dial "$SOCK" --raw --recv-timeout 1 --data 'meshkit/1 status' 2>/dev/null |
	    grep -q "^pid: $1\$"
}

tls_d() {
	spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$ST" -s "$SOCK" -e "$EVENTS" "$@"
	until_ok 10 answering "$(pid_of tls-d)"
}

# csr_b64 SAN [KEYSPEC] : a CSR asking for SAN (openssl's syntax), base64 DER
csr_b64() {
	openssl req -new -newkey "${2:-ec}" ${3:+-pkeyopt "$3"} -nodes \
	    -keyout "$T/key.pem" -subj / -addext "subjectAltName=$1" \
	    -outform DER 2>/dev/null | base64 -w0
}
ec_csr() { csr_b64 "$1" ec ec_paramgen_curve:P-256; }

# ask TYPE HEADER RECORD : one request to tls-d, the reply on stdout
ask() {
	nngcat --req --dial "$SOCK" --raw --recv-timeout 3 \
	    --data "$(printf 'meshkit/1 %s\n%s\n\n%s' "$1" "$2" "$3")" 2>/dev/null
}
csr_ask() { ask csr "$1" "$(printf 'id: 1\ncsr: %s' "$2")"; }
der_pem() { base64 -d | openssl x509 -inform DER; }

tls_d
check "state directory is 0700, the root key 0600" \
    test "$(stat -c %a "$ST")" = 700 -a "$(stat -c %a "$ST/root-1-key.pem")" = 600
check "meshctl status lists tls-d up" \
    sh -c "'$BIN/meshctl' -c '$T/etc' status -t '$SOCK' | grep -q '^tls-d .*up'"

# the identity the Proxy entitles, for a peer with its uid
r=$(csr_ask "workload: book-service" "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/bookinfo-book)")
expect "CSR for book's identity: ok" "$(field "$r" status)" ok
expect "its SPIFFE ID" "$(field "$r" spiffe-id)" spiffe://cluster.local/ns/default/sa/bookinfo-book
field "$r" cert | der_pem >"$T/book.pem"
check "openssl verify -CAfile root accepts it" \
    sh -c "openssl verify -CAfile '$ST/root-1.pem' '$T/book.pem' | grep -q ': OK'"
check "no subject, the SPIFFE URI as a critical SAN" sh -c "openssl x509 -in '$T/book.pem' -noout -text |
    grep -A1 'Subject Alternative Name: critical' | grep -q 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-book'"
check "key usages: serverAuth and clientAuth" sh -c "openssl x509 -in '$T/book.pem' -noout -text |
    grep -q 'TLS Web Server Authentication, TLS Web Client Authentication'"

# hostile CSRs: refused with a reason, tls-d alive
r=$(csr_ask "workload: book-service" "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/admin)")
expect "another identity: refused" "$(field "$r" status)" refused
check "... with the reason" sh -c "printf '%s' '$(field "$r" reason)' | grep -q 'entitled to spiffe://cluster.local/ns/default/sa/bookinfo-book only'"
r=$(csr_ask "workload: book-service" "$(printf 'garbage garbage' | base64 -w0)")
expect "garbage: refused" "$(field "$r" status)" refused
r=$(csr_ask "workload: book-service" "not base64!")
expect "not base64: refused" "$(field "$r" status)" refused
r=$(csr_ask "workload: book-service" "$(head -c 20000 /dev/urandom | base64 -w0)")
expect "huge: refused" "$(field "$r" status)" refused
check "... as too large" sh -c "printf '%s' '$(field "$r" reason)' | grep -q 'larger than 8192'"
r=$(csr_ask "workload: book-service" "$(csr_b64 URI:spiffe://cluster.local/ns/default/sa/bookinfo-book rsa:512)")
expect "RSA-512: refused" "$(field "$r" status)" refused
check "... as a weak key" sh -c "printf '%s' '$(field "$r" reason)' | grep -q 'RSA key of 512 bits'"
r=$(csr_ask "workload: book-service" "$(csr_b64 URI:spiffe://cluster.local/ns/default/sa/bookinfo-book ec ec_paramgen_curve:prime192v1)")
expect "P-192: refused" "$(field "$r" status)" refused
r=$(csr_ask "workload: book-service" "$(ec_csr DNS:book.default.svc.cluster.local)")
expect "a DNS name: refused" "$(field "$r" status)" refused
# a 2 MiB message is dropped by the socket; the next one is answered
head -c 2200000 /dev/zero | tr '\0' a >"$T/big"
nngcat --req --dial "$SOCK" --raw --recv-timeout 1 --file "$T/big" >/dev/null 2>&1
r=$(ask bundle "" "")
check "tls-d alive after all of it" alive tls-d
expect "... and answering" "$(printf '%s\n' "$r" | head -1)" "meshkit/1 bundle-reply"
check "refusals are logged with their reason" grep -q "refused workload book-service .*RSA key of 512 bits" "$T/tls-d.log"
r=$(ask csr "workload: book-service" "csr: x")
expect "a record without id: error message" "$(printf '%s\n' "$r" | head -1)" "meshkit/1 error"

# the uid check
r=$(csr_ask "workload: rating
namespace: shop" "$(ec_csr URI:spiffe://cluster.local/ns/shop/sa/default)")
expect "a Proxy with another uid: refused" "$(field "$r" status)" refused
check "... naming both uids" sh -c "printf '%s' '$(field "$r" reason)' | grep -q 'uid $((ME + 1)); the peer is uid $ME'"
r=$(csr_ask "workload: free" "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/default)")
expect "a Proxy without uid, default service account: ok" "$(field "$r" status)" ok
r=$(csr_ask "workload: nobody" "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/default)")
expect "no Proxy resource: refused" "$(field "$r" status)" refused

# meshctl tls cert: what tls-d last issued to the workload
out=$("$BIN/meshctl" -c "$T/etc" tls cert book-service -s "$SOCK")
check "meshctl tls cert: the SPIFFE ID" sh -c "printf '%s\n' '$out' | grep -q '^SPIFFE ID: *spiffe://cluster.local/ns/default/sa/bookinfo-book'"
check "... issuer, validity, serial, renewal" sh -c "printf '%s\n' '$out' | grep -q '^issuer: .*O=cluster.local' &&
    printf '%s\n' '$out' | grep -q '^valid: ' && printf '%s\n' '$out' | grep -q '^serial: ' &&
    printf '%s\n' '$out' | grep -q '^renewal: .*(in '"
check "... its PEM reads with openssl x509 -text" sh -c "'$BIN/meshctl' -c '$T/etc' tls cert book -s '$SOCK' |
    openssl x509 -noout -text | grep -q 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-book'"
check "... the one issued" sh -c "'$BIN/meshctl' -c '$T/etc' tls cert book-service -s '$SOCK' | openssl x509 -noout -serial |
    grep -qi \"\$(openssl x509 -in '$T/book.pem' -noout -serial)\""
check "meshctl tls cert of a workload never served: fails" \
    sh -c "! '$BIN/meshctl' -c '$T/etc' tls cert nobody -s '$SOCK' 2>/dev/null"

# rotation: the old root stays in the bundle, new certificates from the new
nngcat --sub --dial "$EVENTS" --subscribe '' --raw --count 1 --recv-timeout 5 >"$T/event" 2>/dev/null &
sub=$!
sleep 0.5
check "meshctl tls rotate-root" sh -c "'$BIN/meshctl' tls rotate-root -s '$SOCK' | grep -q 'root generation 2'"
wait $sub
expect "a bundle-event is published" "$(head -1 "$T/event")" "meshkit/1 bundle-event"
expect "... with generation 2" "$(field "$(cat "$T/event")" bundle-generation)" 2
expect "... and both roots" "$(grep -c '^root: ' "$T/event")" 2
"$BIN/meshctl" tls bundle -s "$SOCK" >"$T/bundle.pem" 2>/dev/null
check "the old certificate verifies with the bundle" \
    sh -c "openssl verify -CAfile '$T/bundle.pem' '$T/book.pem' | grep -q ': OK'"
r=$(csr_ask "workload: book-service" "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/bookinfo-book)")
field "$r" cert | der_pem >"$T/book2.pem"
check "a new one is signed by the new root" sh -c "openssl verify -CAfile '$ST/root-2.pem' '$T/book2.pem' | grep -q ': OK' &&
    ! openssl verify -CAfile '$ST/root-1.pem' '$T/book2.pem' >/dev/null 2>&1"
check "rotate-root from another uid is refused" sh -c "
    command -v setpriv >/dev/null && [ $ME = 0 ] || exit 0
    chmod 755 '$T' '$MESHKIT_RUNDIR'; chmod 666 '$MESHKIT_RUNDIR/tls.sock'
    ! setpriv --reuid=65534 --regid=65534 --clear-groups '$BIN/meshctl' tls rotate-root -s '$SOCK' 2>/dev/null"

# kill -9 and a restart: the same root, the same bundle
stop tls-d KILL
tls_d
r=$(ask bundle "" "")
expect "after kill -9: the same bundle generation" "$(field "$r" bundle-generation)" 2
printf '%s\n' "$r" | sed -n 's/^root: //p' | head -1 | der_pem >"$T/root-after.pem"
check "... the same root" cmp -s <(openssl x509 -in "$T/root-after.pem" -outform DER) <(openssl x509 -in "$ST/root-2.pem" -outform DER)
check "... and meshctl tls cert still knows book-service" \
    sh -c "'$BIN/meshctl' -c '$T/etc' tls cert book-service -s '$SOCK' | grep -q '^SPIFFE ID'"

# the filter: PEM CSRs in, PEM certificates out; -t mints an expired one
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj / \
    -addext "subjectAltName=URI:spiffe://cluster.local/ns/ci/sa/tester" -out "$T/ci.csr" 2>/dev/null
"$BIN/tls-d" -q -f -c "$T/etc" -d "$ST" <"$T/ci.csr" >"$T/ci.pem"
check "tls-d -f: a PEM certificate from a PEM CSR" \
    sh -c "openssl verify -CAfile '$ST/root-2.pem' '$T/ci.pem' | grep -q ': OK'"
"$BIN/tls-d" -q -f -c "$T/etc" -d "$ST" -t $(($(date +%s) - 3 * 86400)) <"$T/ci.csr" >"$T/old.pem"
check "tls-d -f -t: an expired one" sh -c "openssl verify -CAfile '$ST/root-2.pem' '$T/old.pem' 2>&1 | grep -q 'expired'"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj / \
    -addext "subjectAltName=URI:spiffe://evil.org/ns/ci/sa/tester" -out "$T/evil.csr" 2>/dev/null
check "tls-d -f: another trust domain is refused" \
    sh -c "! '$BIN/tls-d' -q -f -c '$T/etc' -d '$ST' <'$T/evil.csr' >/dev/null 2>&1"
out=$(printf 'meshkit/1 csr\nworkload: free\n\nid: 1\ncsr: %s\n' "$(ec_csr URI:spiffe://cluster.local/ns/default/sa/default)" |
    "$BIN/tls-d" -q -f -c "$T/etc" -d "$ST")
expect "tls-d -f: messages too" "$(field "$out" status)" ok

# MeshConfig: trust domain and lifetime
cat >"$T/etc/mesh.yaml" <<EOF
apiVersion: meshkit.io/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {trustDomain: example.org, workloadCertTtl: 1h}
EOF
kill -HUP "$(pid_of tls-d)"
until_ok 5 grep -q 'trust domain example.org, certificates for 3600 s' "$T/tls-d.log"
r=$(csr_ask "workload: free" "$(ec_csr URI:spiffe://example.org/ns/default/sa/default)")
expect "trustDomain from MeshConfig" "$(field "$r" spiffe-id)" spiffe://example.org/ns/default/sa/default
expect "workloadCertTtl from MeshConfig" "$(($(field "$r" not-after) - $(field "$r" not-before)))" 3660
mkdir -p "$T/bad"
printf 'apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec: {trustDomain: "Bad Domain"}\n' >"$T/bad/mesh.yaml"
check "tls-d -n refuses a bad trustDomain" sh -c "'$BIN/tls-d' -n -c '$T/bad' 2>&1 | grep -q 'trustDomain must be'"
stop tls-d

# a plug-in CA in Istio's cacerts layout: an intermediate signs
C=$T/cacerts
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/root-key.pem" \
    -subj "/O=Example/CN=Example Root" -days 30 -out "$C/root-cert.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/ca-key.pem" \
    -subj "/O=Example/CN=Intermediate" -out "$C/ca.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$C/ext"
openssl x509 -req -in "$C/ca.csr" -CA "$C/root-cert.pem" -CAkey "$C/root-key.pem" -CAcreateserial \
    -days 20 -extfile "$C/ext" -out "$C/ca-cert.pem" 2>/dev/null
cat "$C/ca-cert.pem" "$C/root-cert.pem" >"$C/cert-chain.pem"
chmod 600 "$C/ca-key.pem"
rm -f "$C/root-key.pem"
spawn tls-d-plugin "$BIN/tls-d" -c "$T/etc" -d "$T/state2" -C "$C" -s "$SOCK" -e "$EVENTS"
until_ok 10 answering "$(pid_of tls-d-plugin)"
r=$(csr_ask "workload: free" "$(ec_csr URI:spiffe://example.org/ns/default/sa/default)")
expect "plug-in CA: ok" "$(field "$r" status)" ok
field "$r" cert | der_pem >"$T/leaf.pem"
field "$r" chain | der_pem >"$T/chain.pem"
check "plug-in CA: the leaf verifies to root-cert.pem through its chain" \
    sh -c "openssl verify -CAfile '$C/root-cert.pem' -untrusted '$T/chain.pem' '$T/leaf.pem' | grep -q ': OK'"
check "plug-in CA: the bundle is root-cert.pem" \
    cmp -s <(printf '%s\n' "$r" | sed -n 's/^root: //p' | base64 -d) <(openssl x509 -in "$C/root-cert.pem" -outform DER)
check "plug-in CA: its key is not copied to the state directory" \
    sh -c "! grep -rl PRIVATE '$T/state2' >/dev/null"
stop tls-d-plugin
chmod 644 "$C/ca-key.pem"
"$BIN/tls-d" -c "$T/etc" -d "$T/state2" -C "$C" -s "$SOCK" -e "$EVENTS" >"$T/refused.log" 2>&1 &
p=$!
for _ in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
check "plug-in CA: a key readable by others stops tls-d" sh -c "! kill -0 $p 2>/dev/null && grep -q 'readable by others' '$T/refused.log'"
kill $p 2>/dev/null; wait $p 2>/dev/null

finish
