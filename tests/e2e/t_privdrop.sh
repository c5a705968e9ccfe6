#!/bin/bash
# SPDX-License-Identifier: ISC
# The daemons without root (issue 9): started as root they drop to their
# user (-u, MESHKIT_USER, else meshkit) once bound, and refuse to start
# when that user does not exist; a run directory that exists must be the
# user's and writable by nobody else.  The user here is nobody, which
# every Debian has.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B=$(port 1) P=$(port 10) SH=$(port 12)
ports_free "$B" "$P" "$SH"

# refused NAME DIR CMD... : CMD exits 1 within 5 s, its log says NAME's
# words ($WORDS), and DIR holds no socket
refused() {
	name=$1 dir=$2
	shift 2
	out=$(timeout 5 "$@" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q -- "$WORDS" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name (exit $rc: $(tail -1 <<<"$out"))"
	fi
	if [ -n "$dir" ] && ls "$dir"/*.sock >/dev/null 2>&1; then
		not_ok "$name: a socket was made in $dir"
	fi
}

# uid_of NAME : the real and effective uid of a spawned process
uid_of() { ps -o ruid=,euid= -p "$(pid_of "$1")" | tr -s ' ' | sed 's/^ //'; }

backend b1 "$B"
se svc svc 80 "$B"
proxy app "$P" "    breaker: {address: ipc://$T/drop/breaker.sock, reports: ipc://$T/drop/breaker-report.sock, events: ipc://$T/drop/breaker-events.sock}
    stats: {address: ipc://$T/drop/stats-records.sock}"
sed -i "s|ipc://$MESHKIT_RUNDIR/route.sock|ipc://$T/drop/route.sock|" \
	"$T/etc/proxy-app.yaml"

if [ "$(id -u)" = 0 ]; then
	# nobody must reach its run directory and read the config
	chmod 0711 "$T"
	chmod 0755 "$T/etc"
	export MESHKIT_RUNDIR=$T/drop

	# --- root, -u nobody: every daemon drops, and they still talk
	spawn route-d "$BIN/route-d" -c "$T/etc" -u nobody
	wait_file "$T/drop/route.sock"
	spawn breaker-d "$BIN/breaker-d" -c "$T/etc" -u nobody
	wait_file "$T/drop/breaker-events.sock"
	spawn authz-d "$BIN/authz-d" -c "$T/etc" -u nobody
	wait_file "$T/drop/authz.sock"
	spawn tls-d "$BIN/tls-d" -c "$T/etc" -d "$T/tls-state" -u nobody
	wait_file "$T/drop/tls.sock"
	spawn stats-d "$BIN/stats-d" -c "$T/etc" -H "127.0.0.1:$SH" -u nobody
	wait_file "$T/drop/stats-records.sock"
	proxy_d app "$P" -u nobody
	for d in route-d breaker-d authz-d tls-d stats-d app; do
		until_ok 5 grep -q 'running as user nobody' "$T/$d.log"
		expect "$d started as root runs as nobody (ps: ruid euid)" \
			"$(uid_of "$d")" "65534 65534"
	done
	expect "proxy-d keeps no supplementary group" \
		"$(awk '/^Groups:/ { print $2 $3 }' "/proc/$(pid_of app)/status")" \
		65534
	expect "the run directory it made is nobody's, 0750" \
		"$(stat -c '%U %a' "$T/drop")" "nobody 750"
	expect "its sockets are nobody's" \
		"$(stat -c '%U' "$T"/drop/*.sock | sort -u | tr '\n' ' ')" "nobody "
	got=$(curl -s --max-time 5 -H 'Host: svc' "http://127.0.0.1:$P/")
	expect "proxy-d as nobody asks route-d as nobody and forwards" "$got" \
		"hello from mk-backend b1"
	check "proxy-d reached breaker-d" until_ok 5 \
		grep -q 'breaker-d at .* connected' "$T/app.log"
	counted() { curl -s --max-time 2 "http://127.0.0.1:$SH/metrics" |
	    grep -q '^istio_requests_total{.*reporter="source".*} 1$'; }
	check "stats-d as nobody counts proxy-d's record" until_ok 5 counted
	until_ok 5 test -s "$T/tls-state/state"
	expect "tls-d's state directory, made before the drop, is nobody's" \
		"$(stat -c '%U %a' "$T/tls-state")" "nobody 700"
	expect "the CA key tls-d made as nobody is nobody's alone" \
		"$(stat -c '%U %a' "$T"/tls-state/root-*-key.pem)" "nobody 600"
	stop app
	for d in route-d breaker-d authz-d tls-d stats-d; do stop "$d"; done
	check "the daemons removed their sockets as nobody" \
		test -z "$(ls "$T/drop")"

	# --- the user must exist
	WORDS="user no-such-meshkit-user does not exist"
	refused "route-d -u with a user that does not exist: refused" "" \
		"$BIN/route-d" -c "$T/etc" -u no-such-meshkit-user
	refused "proxy-d likewise" "" \
		"$BIN/proxy-d" -c "$T/etc" -n app -u no-such-meshkit-user
	WORDS="user no-such-meshkit-user does not exist"
	refused "MESHKIT_USER names it: refused" "" \
		env MESHKIT_USER=no-such-meshkit-user "$BIN/authz-d" -c "$T/etc"
	if getent passwd meshkit >/dev/null; then
		spawn dflt env -u MESHKIT_USER "$BIN/breaker-d" -c "$T/etc"
		check "as root, nothing named: runs as meshkit" until_ok 5 \
			grep -q 'running as user meshkit' "$T/dflt.log"
		stop dflt
	else
		WORDS="user meshkit does not exist"
		refused "as root, nothing named, no user meshkit: refused, not run as root" \
			"$T/drop" env -u MESHKIT_USER "$BIN/route-d" -c "$T/etc"
	fi
	# -u root keeps root, saying so
	spawn asroot "$BIN/route-d" -c "$T/etc" -u root -s "ipc://$T/root.sock"
	check "-u root keeps root, with a warning" until_ok 5 \
		grep -q 'running as root, as asked' "$T/asroot.log"
	expect "...as ps says" "$(uid_of asroot)" "0 0"
	stop asroot

	# --- without root there is no switching
	mkdir -m 0777 "$T/nobody"
	WORDS="cannot become user root (uid 0) without root"
	refused "as nobody, -u root: refused" "" setpriv --reuid=65534 \
		--regid=65534 --clear-groups env MESHKIT_RUNDIR="$T/nobody/run" \
		"$BIN/route-d" -c "$T/etc" -u root

	# --- run directories planted by someone else
	export MESHKIT_USER=root
	rm -rf "$T/drop"
	mkdir -m 0750 "$T/drop"
	chown nobody: "$T/drop"
	WORDS="belongs to nobody (uid 65534), not to root"
	refused "route-d: a run directory owned by another user: refused" \
		"$T/drop" "$BIN/route-d" -c "$T/etc"
	refused "authz-d likewise" "$T/drop" "$BIN/authz-d" -c "$T/etc"
	refused "breaker-d likewise" "$T/drop" "$BIN/breaker-d" -c "$T/etc"
	refused "tls-d likewise" "$T/drop" "$BIN/tls-d" -c "$T/etc" \
		-d "$T/tls-state2"
	refused "proxy-d likewise" "$T/drop" "$BIN/proxy-d" -c "$T/etc" -n app
	chown root: "$T/drop"
fi

# (as root or not) a run directory anyone may write to
rm -rf "$T/drop"
mkdir -m 0777 "$T/drop"
export MESHKIT_RUNDIR=$T/drop
WORDS="is writable by everyone"
refused "route-d: a world-writable run directory: refused" "$T/drop" \
	"$BIN/route-d" -c "$T/etc"
refused "proxy-d likewise" "$T/drop" "$BIN/proxy-d" -c "$T/etc" -n app
chmod 01777 "$T/drop"
refused "sticky makes no difference" "$T/drop" "$BIN/breaker-d" -c "$T/etc"
chmod 0770 "$T/drop"
chgrp "$(id -gn nobody)" "$T/drop" 2>/dev/null && {
	WORDS="is writable by its group"
	refused "writable by another group: refused" "$T/drop" \
		"$BIN/authz-d" -c "$T/etc"
}
rm -rf "$T/drop"
ln -s "$T/etc" "$T/drop"
WORDS="is not a directory (a symbolic link)"
refused "a symbolic link as the run directory: refused" "" \
	"$BIN/route-d" -c "$T/etc"
rm -f "$T/drop"
mkdir -m 0755 "$T/drop"
spawn route-d2 "$BIN/route-d" -c "$T/etc"
check "the same directory, ours and 0755: route-d starts" \
	wait_file "$T/drop/route.sock"
stop route-d2
trap - EXIT
finish
