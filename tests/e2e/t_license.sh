#!/bin/bash
# SPDX-License-Identifier: ISC
# meshkit is ISC-licensed: LICENSE says so, and every source file git
# tracks (C, shell, Python, the scripts, the man pages) carries the SPDX
# line in its first three lines.  Skipped outside a git checkout.
. "$(dirname "$0")/lib.sh"

check "LICENSE is the ISC license" grep -q '^ISC License' "$TOP/LICENSE"
check "README names the license" grep -q 'ISC' "$TOP/README.md"
if ! git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
	skip "every source file has its SPDX line" "not a git checkout"
	finish
fi
missing=""
n=0
while read -r f; do
	case "$f" in
	*.c|*.h|*.sh|*.py|scripts/*|man/*.[1-9]|Makefile|.ci/run|tests/run|\
	tests/fuzz/run|tests/conformance/run-*) ;;
	*) continue ;;
	esac
	[ -f "$TOP/$f" ] || continue
	n=$((n + 1))
	head -3 "$TOP/$f" | grep -q 'SPDX-License-Identifier: ISC' ||
	    missing="$missing $f"
done < <(git -C "$TOP" ls-files)
check "source files found ($n)" test "$n" -gt 100
expect "every source file has its SPDX line" "$missing" ""
finish
