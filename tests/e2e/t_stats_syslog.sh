#!/bin/bash
# SPDX-License-Identifier: ISC
# stats-d's access log to syslog (MeshConfig accessLogFile: syslog:local3):
# one syslog message per request at local3.info, in Envoy's default
# format.  stats-d runs in a mount namespace of its own whose /dev/log is
# this test's syslog daemon, so the machine's /dev/log is never touched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

RUN=$MESHKIT_RUNDIR
# stopped early, it still stops its processes and reports
trap 'not_ok "script ended before its end"; finish' EXIT
H=$(port 1)
ports_free "$H"
REC=ipc://$RUN/stats-records.sock
if ! unshare -m --propagation private true 2>/dev/null; then
	skip "access log to syslog" "no mount namespace (unshare -m needs root)"
	trap - EXIT
	finish
fi

mesh_stats "$H"
printf '  accessLogFile: syslog:local3\n' >>"$T/etc/mesh.yaml"

spawn syslogd python3 "$TOP/tests/e2e/syslogd.py" "$T/log.sock" "$T/syslog.out" 60
wait_file "$T/log.sock"
# /dev anew in the namespace: a tmpfs with the devices stats-d needs and
# /dev/log pointing at the test's socket
mkdir -p "$T/dev.orig"
spawn stats-d unshare -m --propagation private sh -c '
	mount --bind /dev "$1/dev.orig" && mount -t tmpfs tmpfs /dev &&
	for d in null zero random urandom; do
		touch "/dev/$d" && mount --bind "$1/dev.orig/$d" "/dev/$d" || exit 1
	done &&
	ln -s "$1/log.sock" /dev/log && shift &&
	exec "$@"' sh "$T" "$BIN/stats-d" -c "$T/etc" -s "ipc://$RUN/stats.sock" -r "$REC"
wait_port "$H"

records() {
	printf 'meshkit/1 records\nworkload: book-v1\nnamespace: default\n'
	for i in 1 2 3; do
		printf '\nreporter: source\nstart-us: 1764000000%06d\n' "$i"
		printf 'duration-us: 3000\ncode: 200\nmethod: GET\n'
		printf 'path: /rate/%s\nauthority: rating:8080\n' "$i"
		printf 'service: rating.default.svc.cluster.local\nport: 8080\n'
		printf 'upstream-host: 127.0.0.1:9081\n'
	done
}
nngcat --push --dial "$REC" --data "$(records)"
until_ok 5 eval '[ "$(grep -c "GET /rate/" "$T/syslog.out" 2>/dev/null)" -ge 3 ]'
expect "three syslog messages, one per request" \
	"$(grep -c 'GET /rate/' "$T/syslog.out")" 3
# local3 (19) * 8 + info (6)
check "at local3.info (<158>)" eval \
	'[ "$(grep "GET /rate/" "$T/syslog.out" | grep -c "^<158>")" = 3 ]'
check "in Envoy's default format" \
	grep -qE '^<158>.*\[2025-11-24T[0-9:.]+Z\] "GET /rate/2 HTTP/1.1" 200 - ' "$T/syslog.out"
check "stats-d alive" alive stats-d

trap - EXIT
finish
