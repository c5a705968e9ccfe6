#!/bin/bash
# SPDX-License-Identifier: ISC
# ServiceEntries with resolution DNS: route-d resolves their hosts (no
# endpoints) and endpoint names through a DNS server of the test's own
# (mk-dns on loopback, named by route-d -r), answers the addresses,
# asks again when the records' TTL runs out, keeps the last good
# addresses while DNS fails, and answers status error for a name that
# has never resolved.  proxy-d forwards to a resolved endpoint.
. "$(dirname "$0")/lib.sh"

DNS=$(port 53)
B1=$(port 1)
B2=$(port 2)
P=$(port 10)
SOCK=$MESHKIT_RUNDIR/route.sock
MKDNS=$BUILD/tests/mk-dns

for p in "$B1" "$B2" "$P"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

printf 'nameserver 127.0.0.1:%s\noptions timeout:1 attempts:1\n' "$DNS" \
    >"$T/resolv.conf"
# the zone: api.test on 127.0.0.1 (TTL 1 s), db.test on two addresses
zone() {
	printf 'api.test ttl=1 %s\n' "$1" >"$T/zone.new"
	printf 'db.test ttl=1 10.9.0.1 10.9.0.2\n' >>"$T/zone.new"
	printf 'rr.test ttl=1 10.8.0.1 10.8.0.2\n' >>"$T/zone.new"
	mv "$T/zone.new" "$T/zone"
}
zone 127.0.0.1

cat >"$T/etc/dns.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api}
spec:
  hosts: [api.test]
  ports: [{number: $B1, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db}
spec:
  hosts: [db.example]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints:
  - {address: db.test, ports: {http: 8080}}
  - {address: 10.9.9.9}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr}
spec:
  hosts: [rr.test]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
EOF
proxy app "$P"

# ask AUTHORITY : route-d's answer to one question
ask() {
	timeout 10 nngcat --req --dial "ipc://$SOCK" --raw --recv-timeout 5 \
	    --data "$(printf 'meshkit/1 route\n\nid: 1\nauthority: %s\n' "$1")" \
	    2>/dev/null
}
endpoints() { ask "$1" | sed -n 's/^endpoint: //p' | sort | tr '\n' ' '; }
api_is() { [ "$(endpoints api.test)" = "$1" ]; }
# evdns varies the case of the names it asks for
queries() { grep -ci "^query api.test A$" "$T/dns.log" 2>/dev/null; }
reusable() { ask "$1" | grep -q '^reuse: 1000$'; }

status_field() {
	timeout 10 nngcat --req --dial "ipc://$SOCK" --raw --recv-timeout 5 \
	    --data "$(printf 'meshkit/1 status\n')" 2>/dev/null |
	    sed -n "s/^$1: //p"
}

# No DNS server yet: the name has never resolved.
route_d -r "$T/resolv.conf"
expect "status: three names, none resolved" \
    "$(status_field dns-names) $(status_field dns-unresolved)" "3 3"
a=$(ask api.test)
case "$a" in
*"status: error"*"api.test: not resolved yet"*)
	ok "never resolved: status error, with the reason" ;;
*) not_ok "never resolved (got: $(printf '%s' "$a" | tr '\n' '|'))" ;;
esac
case "$a" in
*reuse:*) not_ok "an error answer is not for reuse" ;;
*) ok "an error answer is not for reuse" ;;
esac

# The DNS server comes up: route-d's next try resolves it.
spawn dns "$MKDNS" -l "127.0.0.1:$DNS" -f "$T/zone" -T 300
sleep 0.2
check "resolved once the DNS server answers" \
    until_ok 8 api_is "127.0.0.1:$B1 "
expect "endpoint names resolved, with the endpoint's port; addresses kept" \
    "$(endpoints db.example)" "10.9.0.1:8080 10.9.0.2:8080 10.9.9.9:80 "
expect "DNS_ROUND_ROBIN: the first address only" \
    "$(endpoints rr.test)" "10.8.0.1:80 "
expect "status: all three resolved" "$(status_field dns-unresolved)" 0
check "the answer is ok and reusable" reusable api.test

# proxy-d forwards to the resolved endpoint.
backend b1 "$B1"
proxy_d app "$P"
body=$(curl -s --max-time 5 -H "Host: api.test:$B1" "http://127.0.0.1:$P/")
expect "proxy-d reaches the DNS name's endpoint" "$body" \
    "hello from mk-backend b1"

# The record changes: asked again on its TTL (1 s), the new address.
q0=$(queries)
sleep 3
q1=$(queries)
if [ "$q1" -ge $((q0 + 2)) ]; then
	ok "asked again on the TTL ($q0 -> $q1 A questions in 3 s)"
else
	not_ok "asked again on the TTL ($q0 -> $q1 A questions in 3 s)"
fi
zone 127.0.0.2
kill -HUP "$(pid_of dns)"
check "a changed record is picked up after its TTL" \
    until_ok 5 api_is "127.0.0.2:$B1 "

# DNS fails (SERVFAIL, then no server at all): the last good addresses.
kill -USR1 "$(pid_of dns)"
sleep 3
expect "DNS answering SERVFAIL: the last good addresses" \
    "$(endpoints api.test)" "127.0.0.2:$B1 "
check "route-d says so in its log" \
    grep -q "resolver: api.test: .*; keeping its last addresses" \
    "$T/route-d.log"
stop dns
sleep 3
expect "no DNS server at all: the last good addresses" \
    "$(endpoints api.test)" "127.0.0.2:$B1 "
expect "and for the endpoint names" "$(endpoints db.example)" \
    "10.9.0.1:8080 10.9.0.2:8080 10.9.9.9:80 "

# Back, with another answer: followed again.
zone 127.0.0.3
spawn dns "$MKDNS" -l "127.0.0.1:$DNS" -f "$T/zone" -T 300
check "DNS back: the new answer" until_ok 8 api_is "127.0.0.3:$B1 "

# A new ServiceEntry on reload is resolved too; a name gone is dropped.
cat >"$T/etc/dns2.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: late}
spec:
  hosts: [late.example]
  ports: [{number: 80, name: http}]
  resolution: DNS
  endpoints: [{address: rr.test}]
EOF
kill -HUP "$(pid_of route-d)"
late_ok() { [ "$(endpoints late.example)" = "10.8.0.1:80 10.8.0.2:80 " ]; }
check "a ServiceEntry added on reload is resolved" until_ok 8 late_ok

# The filter mode resolves once before answering.
out=$(printf 'meshkit/1 route\n\nid: 1\nauthority: db.example\n' |
    "$BIN/route-d" -c "$T/etc" -r "$T/resolv.conf" -f 2>"$T/filter.err")
expect "filter mode answers resolved names" \
    "$(printf '%s\n' "$out" | sed -n 's/^endpoint: //p' | sort | tr '\n' ' ')" \
    "10.9.0.1:8080 10.9.0.2:8080 10.9.9.9:80 "

# A wildcard host cannot be resolved: refused at validation.
cat >"$T/bad.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild}
spec:
  hosts: ["*.example"]
  ports: [{number: 80, name: http}]
  resolution: DNS
EOF
out=$("$BIN/meshctl" validate "$T/bad.yaml" 2>&1)
case "$out" in
*"a wildcard cannot be resolved"*) ok "a wildcard host with DNS is refused" ;;
*) not_ok "a wildcard host with DNS (got: $out)" ;;
esac
check "route-d alive" alive route-d
finish
