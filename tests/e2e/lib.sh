# SPDX-License-Identifier: ISC
# Helpers for the end-to-end tests: real processes on loopback, private
# ports and socket paths, logs kept only when something fails.
# Source it first thing; call `finish` last.
set -u
TOP=${MESHKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${MESHKIT_BIN:-bin}
case "$BIN" in /*) ;; *) BIN=$TOP/$BIN ;; esac
BUILD=${MESHKIT_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BACKEND=$BUILD/tests/mk-backend
# The conformance stage's data (Istio's samples and tokens, the article's
# files, the desync corpus): only when it is here; see conformance below.
SHARED=${MESHKIT_SHARED:-$TOP/../shared}
# meshkit's own fixtures: etc/bookstore/ (the demo and the walkthrough's
# files) and tests/data/
OWN=$TOP/etc/bookstore/walkthrough
TESTDATA=$TOP/tests/data
PORT_BASE=${E2E_PORT_BASE:-21000}
T=$(mktemp -d /tmp/meshkit-e2e.XXXXXX)
export MESHKIT_RUNDIR=$T/run
# The daemons run as whoever runs the tests (as root too: t_privdrop tests
# the switch to another user); see privdrop.h.
export MESHKIT_USER=${MESHKIT_USER:-$(id -un)}
mkdir -p "$MESHKIT_RUNDIR" "$T/etc"
E2E_FAILED=0
E2E_PIDS=""

port() { echo $((PORT_BASE + $1)); }

# spawn NAME CMD... : start in the background, output to $T/NAME.log
spawn() {
	name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	eval "PID_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$!"
	E2E_PIDS="$E2E_PIDS $!"
}

pid_of() { eval "echo \${PID_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _):-}"; }

# stop NAME [SIGNAL] : signal the process, wait at most 10 s for it
stop() {
	p=$(pid_of "$1")
	[ -n "$p" ] || return 0
	kill -"${2:-TERM}" "$p" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

alive() { p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# wait_port PORT : until something accepts on 127.0.0.1:PORT (5 s)
wait_port() {
	for _ in $(seq 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "port $1 never opened" >&2
	return 1
}

# wait_file PATH
wait_file() {
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# until_ok SECONDS CMD... : poll CMD every 0.1 s for at most SECONDS
until_ok() {
	n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# joins DAEMON : how many times proxy-d ($T/px.log) logged connecting to
# DAEMON; joined DAEMON N : wait until more than N (nng redials every
# 20..500 ms)
joins() { grep -c "$1 at .* connected\$" "$T/px.log" 2>/dev/null; }
joined() { until_ok 5 eval "[ \$(joins '$1') -gt $2 ]"; }

# field TEXT NAME : the value of the first "NAME: value" line of TEXT
field() { printf '%s\n' "$1" | sed -n "s/^$2: //p" | head -1; }
# msg_header MSG, msg_records MSG : a meshkit-ipc(7) message's header
# fields (after its first line), and what follows them
msg_header() { printf '%s\n' "$1" | awk 'NR > 1 && /^$/ {exit} NR > 1'; }
msg_records() { printf '%s\n' "$1" | awk 'f; /^$/ {f = 1}'; }

# mc SECONDS ARGS... : meshctl, bounded; its stderr shown and also kept
# in $T/meshctl.log, where finish looks for sanitizer reports.  (A test
# that wants meshctl run otherwise defines its own mc.)
mc() {
	t=$1
	shift
	timeout "$t" "$BIN/meshctl" "$@" 2>"$T/mc.err"
	rc=$?
	cat "$T/mc.err" >&2
	cat "$T/mc.err" >>"$T/meshctl.log"
	return $rc
}

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; E2E_FAILED=$((E2E_FAILED + 1)); }
# skip NAME WHY : a case that cannot run here; tests/run counts it as
# skipped, never as passed or failed
skip() { echo "ok - $1 # SKIP $2"; }

# conformance NAME... : 0 when $SHARED/testdata is here, so the
# conformance cases run; otherwise each NAME is reported skipped and 1
# is returned.  Use: if conformance "a" "b"; then ...checks a, b...; fi
conformance() {
	[ -d "$SHARED/testdata" ] && return 0
	for n in "$@"; do
		skip "$n" "no conformance data ($SHARED/testdata)"
	done
	return 1
}

# conformance_run LABEL FUNC [ARGS...] : FUNC ARGS when the conformance
# data is here; otherwise one skip for each check and expect in FUNC
conformance_run() {
	label=$1
	shift
	if [ -d "$SHARED/testdata" ]; then
		"$@"
		return
	fi
	n=$(declare -f "$1" | grep -cE '^[[:space:]]*(check|expect|not_ok|ok) ')
	for i in $(seq "$n"); do
		skip "$label ($i of $n)" "no conformance data ($SHARED/testdata)"
	done
}

# jwt_fixtures DIR : meshkit's own signing key, JWKS and the walkthrough's
# tokens in DIR, made with openssl by scripts/mk-jwt (see there)
jwt_fixtures() { "$TOP/scripts/mk-jwt" -b "$1" >/dev/null; }

# check NAME CMD... : ok if CMD succeeds
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', want '$3')"
	fi
}

# backend NAME PORT : an mk-backend instance
backend() {
	spawn "$1" "$BACKEND" -n "$1" -l "127.0.0.1:$2"
	wait_port "$2"
}

# route_d [ARGS] : route-d on this test's config dir and socket
route_d() {
	spawn route-d "$BIN/route-d" -c "$T/etc" -s "ipc://$MESHKIT_RUNDIR/route.sock" "$@"
	wait_file "$MESHKIT_RUNDIR/route.sock"
}

# proxy_d NAME PORT [ARGS] : proxy-d for the Proxy resource NAME
proxy_d() {
	name=$1
	p=$2
	shift 2
	spawn "$name" "$BIN/proxy-d" -c "$T/etc" -n "$name" "$@"
	wait_port "$p"
}

# A ServiceEntry with static endpoints: se NAME HOST PORT ENDPOINT_PORT...
se() {
	name=$1 host=$2 sport=$3
	shift 3
	{
		printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n'
		printf 'metadata:\n  name: %s\nspec:\n  hosts: [%s]\n' "$name" "$host"
		printf '  ports: [{number: %s, name: http, protocol: HTTP}]\n' "$sport"
		printf '  resolution: STATIC\n  endpoints:\n'
		for ep in "$@"; do
			printf '  - {address: 127.0.0.1, ports: {http: %s}}\n' "$ep"
		done
	} >"$T/etc/se-$name.yaml"
}

# stats_d [NAME] : stats-d on this test's config dir and sockets
stats_d() {
	spawn "${1:-stats-d}" "$BIN/stats-d" -c "$T/etc" \
	    -s "ipc://$MESHKIT_RUNDIR/stats.sock" \
	    -r "ipc://$MESHKIT_RUNDIR/stats-records.sock"
}

# mesh_stats PORT : a MeshConfig whose stats-d serves HTTP on 127.0.0.1:PORT
mesh_stats() {
	printf 'apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n' >"$T/etc/mesh.yaml"
	printf 'metadata: {name: mesh}\nspec:\n  stats:\n' >>"$T/etc/mesh.yaml"
	printf '    address: 127.0.0.1:%s\n' "$1" >>"$T/etc/mesh.yaml"
}

# A Proxy resource with an outbound listener: proxy NAME OUT_PORT [EXTRA_SPEC_YAML]
proxy() {
	{
		printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n'
		printf 'metadata:\n  name: %s\nspec:\n' "$1"
		printf '  workload: {name: %s, labels: {app: %s}}\n' "$1" "$1"
		printf '  listeners:\n  - {name: outbound, direction: outbound, address: 127.0.0.1:%s}\n' "$2"
		printf '  daemons:\n    route: {address: ipc://%s/route.sock}\n' "$MESHKIT_RUNDIR"
		[ $# -ge 3 ] && printf '%s\n' "$3"
	} >"$T/etc/proxy-$1.yaml"
}

finish() {
	for p in $E2E_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $E2E_PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
			not_ok "sanitizer report in $(basename "$f")"
		fi
	done
	if [ "$E2E_FAILED" -gt 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (last 25 lines)"
			tail -25 "$f"
		done
		echo "logs kept in $T"
		exit 1
	fi
	rm -rf "$T"
	exit 0
}
trap 'E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM
