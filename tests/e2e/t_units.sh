#!/bin/bash
# SPDX-License-Identifier: ISC
# The systemd units of etc/systemd: each rated by systemd-analyze
# security --offline=true at most 2.0 (systemd's "OK" is up to 4.0; the
# units reach 1.2 to 1.4 with systemd 252, and a change that loosens one
# must say so here), each run as the user meshkit, and the sysusers.d
# file creates that user.  Skipped without systemd-analyze.
. "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
	ok "SKIP: no systemd-analyze"
	trap - EXIT
	finish
fi
out=$("$TOP/scripts/check-units" -m 2.0 2>&1)
rc=$?
while read -r unit score rating; do
	case $unit in
	*.service) ok "$unit: exposure $score $rating" ;;
	esac
done <<<"$out"
expect "every unit at most 2.0 and User=meshkit" "$rc" 0
[ "$rc" = 0 ] || printf '%s\n' "$out"
expect "six units rated" "$(grep -c '\.service [0-9]' <<<"$out")" 6
# the checker must fail a unit that is loose
sed -e '/^User=/d' -e '/^SystemCallFilter=/d' -e '/^Protect/d' \
	"$TOP/etc/systemd/meshkit-route-d.service" >"$T/loose.service"
"$TOP/scripts/check-units" "$T/loose.service" >/dev/null 2>&1
expect "a loosened unit fails the check" $? 1
check "sysusers.d: user meshkit, group meshkit" grep -qE \
	'^u meshkit - ' "$TOP/etc/sysusers.d/meshkit.conf"

# make install's user, on a copy of this system's user database
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/root/etc"
	cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$T/root/etc/"
	sed -i '/^meshkit:/d' "$T/root/etc/passwd" "$T/root/etc/group" \
		"$T/root/etc/shadow" "$T/root/etc/gshadow"
	before=$(getent passwd meshkit)
	check "install-user creates meshkit" "$TOP/scripts/install-user" \
		--root "$T/root"
	expect "...a system user that cannot log in" "$(awk -F: \
		'$1 == "meshkit" && $3 < 1000 { print $7 }' "$T/root/etc/passwd")" \
		/usr/sbin/nologin
	gid=$(awk -F: '$1 == "meshkit" { print $4 }' "$T/root/etc/passwd")
	expect "...with its own group" \
		"$(awk -F: -v g="$gid" '$3 == g { print $1 }' "$T/root/etc/group")" meshkit
	"$TOP/scripts/install-user" --root "$T/root" >"$T/again.out"
	expect "run again, it changes nothing" \
		"$(cat "$T/again.out") $(grep -c '^meshkit:' "$T/root/etc/passwd")" \
		"install-user: user meshkit exists 1"
	expect "the system's own users untouched" "$(getent passwd meshkit)" \
		"$before"
fi
# staging into DESTDIR installs the sysusers.d file, creates no user
before=$(getent passwd meshkit)
make -s -C "$TOP" -o all install BIN="$BIN" BUILD="$BUILD" PREFIX=/usr \
	DESTDIR="$T/stage" >"$T/install.out" 2>&1
expect "make install DESTDIR=...: exit 0" $? 0
check "...the sysusers.d file in PREFIX/lib/sysusers.d" \
	cmp -s "$TOP/etc/sysusers.d/meshkit.conf" \
	"$T/stage/usr/lib/sysusers.d/meshkit.conf"
check "...the units in share/meshkit/systemd" \
	test -f "$T/stage/usr/share/meshkit/systemd/meshkit-route-d.service"
expect "...and no user created" "$(getent passwd meshkit)" "$before"
trap - EXIT
finish
