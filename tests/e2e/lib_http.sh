# SPDX-License-Identifier: ISC
# Helpers for the HTTP tests of proxy-d (t_http, t_smuggling, t_stream,
# t_timeouts).  Source it after lib.sh.
RAWHTTP="python3 $TOP/tests/e2e/rawhttp.py"

# raw PORT [rawhttp send options] <request : "STATUS FLAGS closed|open"
raw() {
	p=$1
	shift
	$RAWHTTP send "$p" "$@"
}

# backend_v NAME PORT : an mk-backend that logs every request it answers
backend_v() {
	spawn "$1" "$BACKEND" -v -n "$1" -l "127.0.0.1:$2"
	wait_port "$2"
}

# fake_upstream NAME PORT MODE : a misbehaving upstream (rawhttp.py serve)
fake_upstream() {
	spawn "$1" $RAWHTTP serve "$2" "$3"
	for _ in $(seq 100); do
		grep -q . "$T/$1.log" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# proxy_io NAME OUT_PORT IN_PORT FORWARD_PORT [EXTRA_SPEC_YAML] : a Proxy
# resource with an outbound and an inbound listener
proxy_io() {
	{
		printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n'
		printf 'metadata:\n  name: %s\nspec:\n' "$1"
		printf '  workload: {name: %s, labels: {app: %s}}\n' "$1" "$1"
		printf '  listeners:\n'
		printf '  - {name: outbound, direction: outbound, address: 127.0.0.1:%s}\n' "$2"
		printf '  - {name: inbound, direction: inbound, address: 127.0.0.1:%s, forward: 127.0.0.1:%s}\n' "$3" "$4"
		printf '  daemons:\n    route: {address: ipc://%s/route.sock}\n' "$MESHKIT_RUNDIR"
		[ $# -ge 5 ] && printf '%s\n' "$5"
	} >"$T/etc/proxy-$1.yaml"
}

# header NAME <response : the value of the first header NAME (any case)
header() {
	tr -d '\r' | awk -v h="$(echo "$1" | tr A-Z a-z)" '
		/^$/ { exit }
		{ n = index($0, ":"); if (n && tolower(substr($0, 1, n - 1)) == h) {
			v = substr($0, n + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

# peak_rss NAME / rss NAME : VmHWM / VmRSS of a spawned process, in kB
peak_rss() { awk '/^VmHWM:/ { print $2 }' "/proc/$(pid_of "$1")/status"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$(pid_of "$1")/status"; }

# upstream_conns PORT : how many connections there are, or were in the
# last minute (TIME-WAIT), from anyone to 127.0.0.1:PORT
upstream_conns() {
	ss -tanH "( dport = :$1 )" | awk '{ print $4 }' | sort -u | wc -l
}

# sanitized : true when the programs are built with ASan/UBSan
sanitized() {
	[ -n "${MESHKIT_SANITIZED:-}" ] || case "$BIN" in *asan*) true ;; *) false ;; esac
}

# error_answer NAME STATUS FLAGS FILE : FILE (curl -i output) is a meshkit
# error answer: that status, that x-meshkit-flags, a body naming the flags
error_answer() {
	f=$4
	st=$(head -1 "$f" | awk '{ print $2 }')
	fl=$(header x-meshkit-flags <"$f")
	body=$(tr -d '\r' <"$f" | sed '1,/^$/d')
	case "$body" in
	"meshkit: "*"($3)") expect "$1" "$st $fl" "$2 $3" ;;
	*) not_ok "$1 (status $st flags '$fl' body '$body')" ;;
	esac
}

# A script that stops early (an unset variable under set -u, say) still
# stops its processes and reports; scripts end with `trap - EXIT; finish`.
trap 'not_ok "script ended before its end"; finish' EXIT

# ports_free PORT... : stop here, and say why, when something (another run
# of the suite, say) already listens on one of this test's ports
ports_free() {
	for p in "$@"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			not_ok "port $p is already in use: another test run?"
			trap - EXIT
			finish
		fi
	done
}
