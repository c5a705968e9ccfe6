#!/bin/bash
# SPDX-License-Identifier: ISC
# The whole proxy under random and mutated bytes on both sides
# (tests/tools/mk-proxy-fuzz.py): a random client and a random backend
# around a real proxy-d, checking that no byte of one exchange reaches
# another, that a connection gets at most one response per request, in
# order, that every connection ends, and that proxy-d stays alive, in
# bounded memory, and serving.  A short run by default; a longer one:
#   FUZZ_PROXY_SECONDS=600 FUZZ_PROXY_CONNS=100000 tests/e2e/t_fuzz_proxy.sh
# FUZZ_PROXY_SEED=N replays the plans of a run (printed on failure).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

B=$(port 1) P=$(port 10)
ports_free "$B" "$P"
SECONDS_MAX=${FUZZ_PROXY_SECONDS:-30}
CONNS=${FUZZ_PROXY_CONNS:-300}
SEED=${FUZZ_PROXY_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SEED=$((SEED % 2147483648))
RSS_MAX=65536	# kB: 16 connections at once, a few bufferBytes each
sanitized && RSS_MAX=0	# ASan's quarantine keeps freed memory

se fuzz fuzz 80 "$B"
proxy app "$P" "  timeouts: {connect: 1s, requestHead: 2s, idle: 2s, streamIdle: 2s, upstreamIdle: 5s}"
route_d
proxy_d app "$P"

timeout $((SECONDS_MAX + 120)) python3 "$TOP/tests/tools/mk-proxy-fuzz.py" \
	-p "$P" -b "$B" -H fuzz -s "$SEED" -n "$CONNS" -t "$SECONDS_MAX" \
	-c 16 -P "$(pid_of app)" -r "$RSS_MAX" -d "$T" >"$T/fuzz.out" 2>&1
rc=$?
summary=$(grep '^seed ' "$T/fuzz.out")
check "fuzz run finished (rc $rc): $summary" test -n "$summary"
for kind in foreign mixed count duplicate order hang alive rss served; do
	n=$(grep -c "^VIOLATION $kind:" "$T/fuzz.out")
	if [ "$n" = 0 ]; then
		ok "invariant $kind held"
	else
		not_ok "invariant $kind: $n violations, e.g. $(grep -m1 \
			"^VIOLATION $kind:" "$T/fuzz.out") (seed $SEED)"
	fi
done
check "no other failure of the fuzzer (seed $SEED)" \
	test "$rc" = 0 -o "$(grep -c '^VIOLATION' "$T/fuzz.out")" -gt 0
[ "$rc" = 0 ] || tail -20 "$T/fuzz.out"
check "proxy-d alive" alive app
trap - EXIT
finish
