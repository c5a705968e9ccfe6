#!/bin/bash
# SPDX-License-Identifier: ISC
# The authz conformance suite (tests/conformance/README): Istio's
# semantics for RequestAuthentication and AuthorizationPolicy, and the
# cases of its integration tests, asked of authz-d -f and meshctl
# validate, with keys and tokens made here.
. "$(dirname "$0")/lib.sh"

out=$(python3 "$TOP/tests/conformance/run-authz" --bin "$BIN" \
    --work "$T/conformance" "$TOP"/tests/conformance/authz/*.case 2>&1)
rc=$?
printf '%s\n' "$out"
n=$(printf '%s\n' "$out" | grep -c '^not ok - ')
E2E_FAILED=$((E2E_FAILED + n))
if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
	not_ok "run-authz exited $rc"
fi
finish
