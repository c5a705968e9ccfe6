#!/bin/bash
# SPDX-License-Identifier: ISC
# proxy-d streams bodies both ways in constant memory: 1 GB down and up
# (Content-Length and chunked), smaller chunked transfers checked byte for
# byte, and backpressure against a client or upstream that stops reading.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B=$(port 1) SINK=$(port 2) P=$(port 10)
ports_free "$B" "$SINK" "$P"
backend b1 "$B"
fake_upstream sink "$SINK" sink
se svc svc 80 "$B"
se sink sink 80 "$SINK"
proxy app "$P"
route_d
proxy_d app "$P"
U=http://127.0.0.1:$P
GB=1073741824
RSS_MAX=16384	# kB

# Under ASan the quarantine keeps freed buffers, so RSS says nothing about
# leaks of the proxy's own; the byte counts are still checked there.
rss_ok() {
	if sanitized; then
		ok "$1 (RSS not checked under sanitizers: $2 kB)"
	elif [ "$2" -le "$RSS_MAX" ]; then
		ok "$1 ($2 kB)"
	else
		not_ok "$1 ($2 kB, want <= $RSS_MAX kB)"
	fi
}

curl -s -o /dev/null -H 'Host: svc' $U/bytes/1000	# warm up
got=$(curl -s -o /dev/null -H 'Host: svc' --max-time 60 \
	-w '%{http_code} %{size_download}' $U/bytes/$GB)
expect "1 GB download (Content-Length)" "$got" "200 $GB"
rss_ok "peak RSS of proxy-d after 1 GB download" "$(peak_rss app)"

truncate -s $GB "$T/gb"
want=$("$BACKEND" -S <"$T/gb")
got=$(curl -s -H 'Host: svc' --max-time 60 -T "$T/gb" $U/upload)
expect "1 GB upload (Content-Length), backend got every byte" "$got" "$want"
got=$(head -c $GB /dev/zero | curl -s -H 'Host: svc' --max-time 60 -T - $U/upload)
expect "1 GB upload (chunked from stdin), backend got every byte" "$got" "$want"
rm -f "$T/gb"
rss_ok "peak RSS of proxy-d after 1 GB uploads" "$(peak_rss app)"

# smaller transfers, content compared with the direct answer
N=$((20 * 1024 * 1024 + 12345))
curl -s -o "$T/direct" http://127.0.0.1:$B/chunked/$N
curl -s -o "$T/proxied" -D "$T/proxied.h" -H 'Host: svc' $U/chunked/$N
check "chunked download: same bytes as direct ($N)" cmp -s "$T/direct" "$T/proxied"
got=$(header transfer-encoding <"$T/proxied.h")
expect "chunked download stays chunked" "$got" chunked
curl -s -o "$T/proxied" -H 'Host: svc' $U/bytes/$N
curl -s -o "$T/direct" http://127.0.0.1:$B/bytes/$N
check "Content-Length download: same bytes as direct" cmp -s "$T/direct" "$T/proxied"

head -c $N /dev/urandom >"$T/rand"
want=$("$BACKEND" -S <"$T/rand")
got=$(curl -s -H 'Host: svc' -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/rand" $U/upload)
expect "chunked upload of random bytes" "$got" "$want"
got=$(curl -s -H 'Host: svc' --data-binary @"$T/rand" $U/upload)
expect "Content-Length upload of random bytes" "$got" "$want"
got=$(curl -s -o /dev/null -o /dev/null -o /dev/null -H 'Host: svc' \
	-w '%{http_code}/%{num_connects} ' $U/chunked/100000 $U/bytes/100000 \
	$U/chunked/0)
expect "bodies leave the client connection reusable" "$got" \
	"200/1 200/0 200/0 "
got=$(curl -s -I -H 'Host: svc' -w '%{http_code}' -o /dev/null $U/bytes/5000)
expect "HEAD of a sized body" "$got" 200
# after a HEAD the proxy must not wait for a body that will not come
printf 'HEAD /bytes/5000 HTTP/1.1\r\nHost: svc\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n' |
	raw "$P" -o "$T/head.txt" >/dev/null
got=$(grep -a '^HTTP/1.1' "$T/head.txt" | awk '{ printf "%s ", $2 }')
expect "HEAD then GET on one connection" "$got" "200 202 "

# a client that gives up mid-body leaves no half-used upstream behind
head -c 20000000 /dev/zero >"$T/20m"
curl -s -o /dev/null --max-time 1 --limit-rate 2M -H 'Host: svc' -T "$T/20m" $U/upload
expect "client aborts a 20 MB upload" $? 28
rm -f "$T/20m"
got=$(printf 'POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\n\r\nhi' |
	raw "$P" -o "$T/after.txt")
expect "an upload after the aborted one" "$got" "200 - open"
expect "...and the backend counted only its bytes" \
	"$(tail -1 "$T/after.txt")" "$(printf hi | "$BACKEND" -S)"
for what in bytes chunked; do
	curl -s -o /dev/null --max-time 1 --limit-rate 2M -H 'Host: svc' \
		$U/$what/100000000
	expect "client aborts a 100 MB $what download" $? 28
	got=$(curl -s -o /dev/null -o /dev/null -w '%{http_code}/%{size_download} ' \
		-H 'Host: svc' $U/ $U/bytes/1000)
	expect "requests after the aborted $what download" "$got" "200/25 200/1000 "
done

# backpressure: a client that reads nothing while 1 GB is on offer
printf 'GET /bytes/%s HTTP/1.1\r\nHost: svc\r\n\r\n' $GB |
	$RAWHTTP stall "$P" 4 >"$T/stall.out" &
stall_pid=$!
sleep 2.5
now=$(rss app)
rss_ok "RSS while a client stalls a 1 GB download" "$now"
wait $stall_pid
check "the stalled download was flowing" test "$(cat "$T/stall.out")" -gt 0

# backpressure: an upstream that reads nothing while we upload 1 GB
truncate -s $GB "$T/gb"
curl -s -o /dev/null -H 'Host: sink' --max-time 4 -T "$T/gb" $U/upload &
curl_pid=$!
sleep 2.5
now=$(rss app)
rss_ok "RSS while an upstream stalls a 1 GB upload" "$now"
wait $curl_pid
expect "the stalled upload was still in progress (curl timed out)" $? 28
rm -f "$T/gb"

got=$(curl -s -H 'Host: svc' $U/)
expect "proxy still serving after the stalls" "$got" "hello from mk-backend b1"
# A chunked body that arrives whole while the request waits for route-d
# (here: route-d stopped for a moment, every request consulted) sits in
# many buffer chains; all of it must be forwarded, not the first few.
P2=$(port 11)
cat >"$T/etc/proxy-nc.yaml" <<EOF
apiVersion: meshkit.io/v1alpha1
kind: Proxy
metadata: {name: nc}
spec:
  listeners:
  - {name: outbound, direction: outbound, address: "127.0.0.1:$P2"}
  daemons:
    route: {address: "ipc://$MESHKIT_RUNDIR/route.sock", cache: false}
EOF
proxy_d nc "$P2"
head -c 204800 /dev/urandom >"$T/r200k"
want=$("$BACKEND" -S <"$T/r200k")
kill -STOP "$(pid_of route-d)"
curl -s -H 'Host: svc' -H 'Transfer-Encoding: chunked' --max-time 10 \
	--data-binary @"$T/r200k" "http://127.0.0.1:$P2/upload" >"$T/r200k.out" &
CURL=$!
sleep 0.5
kill -CONT "$(pid_of route-d)"
wait "$CURL"
expect "chunked body buffered while waiting for route-d: all forwarded" \
	"$(cat "$T/r200k.out")" "$want"

trap - EXIT
finish
