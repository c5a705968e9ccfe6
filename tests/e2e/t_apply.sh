#!/bin/bash
# SPDX-License-Identifier: ISC
# meshctl apply / delete / get / route explain against a running mesh:
# route-d picks changes of its directory up by itself (no signal), a
# broken file or a hand-written resource is refused whole, and traffic
# through proxy-d never fails while resources change.
. "$(dirname "$0")/lib.sh"

M=$BIN/meshctl
SOCK=$MESHKIT_RUNDIR/route.sock
B1=$(port 1)
B2=$(port 2)
P=$(port 10)

for p in "$B1" "$B2" "$P"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

# mc ARGS... : meshctl on the test's directory, bounded; stderr kept
mc() {
	timeout 20 "$M" -c "$T/etc" "$@" 2>"$T/mc.err"
	rc=$?
	cat "$T/mc.err" >>"$T/meshctl.log"
	return $rc
}
backend_of() {
	curl -s -D - -o /dev/null --max-time 5 -H "Host: $1" \
	    "http://127.0.0.1:$P/" | tr -d '\r' |
	    awk 'tolower($1) == "x-backend:" {print $2}'
}
is_backend() { [ "$(backend_of "$1")" = "$2" ]; }
code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $1" \
	    "http://127.0.0.1:$P/"
}
# se_file FILE NAME HOST ENDPOINT_PORT : a ServiceEntry to apply
se_file() {
	cat >"$1" <<-EOF
	# the operator's copy, with a comment
	apiVersion: networking.istio.io/v1
	kind: ServiceEntry
	metadata:
	  name: $2
	spec:
	  hosts: [$3]
	  ports: [{number: 80, name: http, protocol: HTTP}]
	  resolution: STATIC
	  endpoints:
	  - {address: 127.0.0.1, ports: {http: $4}}
	EOF
}
# snapshot : the directory's names and contents, to tell "nothing written"
snapshot() { (cd "$T/etc" && ls -A && cat ./*) | md5sum; }
generation() {
	timeout 10 "$M" -o json status -s "ipc://$SOCK" 2>/dev/null |
	    python3 -c 'import json, sys
print(json.load(sys.stdin)["daemons"][0].get("generation"))' 2>/dev/null
}

# --- files applied each to a directory of its own: the files meshctl
# writes load, say the same as the original (with PyYAML), and a second
# apply changes nothing.  meshkit's own files; Istio's bookinfo samples
# and the article's files in the conformance stage.
# round_trip LABEL MIN_FILES MIN_RESOURCES FILE...
round_trip() {
	label=$1 min_files=$2 min_res=$3
	shift 3
	n=0
	bad=""
	rt=$T/rt-$label
	for f in "$@"; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		d=$rt/$n
		mkdir -p "$d"
		if ! timeout 20 "$M" -c "$d" apply -f "$f" >/dev/null 2>>"$T/meshctl.log" ||
		    ! timeout 20 "$M" validate "$d" >/dev/null 2>>"$T/meshctl.log" ||
		    timeout 20 "$M" -c "$d" apply -f "$f" 2>>"$T/meshctl.log" |
		    grep -qv ' unchanged$'; then
			bad="$bad $(basename "$f")"
		fi
	done
	check "$label: applied ($n files)" test "$n" -ge "$min_files"
	expect "$label: written files load, a second apply is unchanged" "$bad" ""
	check "$label: written files hold the same trees as the originals" \
	    python3 - "$rt" "$min_res" "$@" <<-'EOF'
	import glob, os, sys, yaml
	def key(doc):
	    m = doc.get("metadata") or {}
	    return (doc["kind"], m.get("namespace", "default"), m["name"])
	def flat(doc):
	    if not isinstance(doc, dict):
	        return []
	    if doc.get("kind") == "List":
	        return [i for d in doc.get("items") or [] for i in flat(d)]
	    return [doc]
	total = 0
	for n, src in enumerate(sys.argv[3:], 1):
	    want = {key(d): d for x in yaml.safe_load_all(open(src))
	            for d in flat(x)}
	    got = {}
	    for p in glob.glob(os.path.join(sys.argv[1], str(n), "*.yaml")):
	        docs = list(yaml.safe_load_all(open(p)))
	        got[key(docs[0])] = docs[0]
	    for k, v in got.items():
	        if want.get(k) != v:
	            sys.exit("%s: %s differs" % (src, k))
	    total += len(got)
	if total < int(sys.argv[2]):
	    sys.exit("only %d resources written" % total)
	EOF
}
round_trip own 25 30 "$TOP"/etc/bookstore/*.yaml "$OWN"/*.yml \
    "$TOP"/etc/meshkit/*.yaml "$TOP"/etc/quickstart/*.yaml \
    "$TESTDATA"/samples/*.yaml
if conformance "conformance: applied" \
    "conformance: written files load, a second apply is unchanged" \
    "conformance: written files hold the same trees as the originals"; then
	round_trip conformance 30 40 "$SHARED"/testdata/istio/bookinfo/*.yaml \
	    "$SHARED"/testdata/article/*.yml
fi

backend b1 "$B1"
backend b2 "$B2"
se base base.example 80 "$B1"
proxy px "$P"
route_d
proxy_d px "$P"
W=$T/work
mkdir -p "$W"

# a bounded curl loop on base.example for the whole apply/delete part
(
	for _ in $(seq 400); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
		    -H 'Host: base.example' "http://127.0.0.1:$P/"
		sleep 0.01
	done
) >"$T/loop.codes" 2>/dev/null &
LOOP=$!

# --- apply a new ServiceEntry: routed within 2 s, no signal
expect "before: new.example unknown (404)" "$(code new.example)" 404
se_file "$W/new.yaml" newsvc new.example "$B1"
out=$(mc apply -f "$W/new.yaml")
expect "apply new: exit 0" "$?" 0
expect "apply new: kubectl's words" "$out" \
    "serviceentry.networking.istio.io/newsvc created"
check "apply new: its own file" test -f "$T/etc/serviceentry.default.newsvc.yaml"
check "apply new: no temporary file left" \
    bash -c "! ls -A '$T/etc' | grep -q '^\.'"
check "apply new: routed within 2 s, without a signal" \
    until_ok 3 is_backend new.example b1
check "route-d reloaded by itself" grep -q 'changed' "$T/route-d.log"

# a bounded curl loop on new.example from here until after its delete:
# 200 all along, while it changes, then 404 once it is gone
(
	for _ in $(seq 1500); do
		[ -e "$T/loop2.stop" ] && break
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
		    -H 'Host: new.example' "http://127.0.0.1:$P/"
		sleep 0.01
	done
) >"$T/loop2.codes" 2>/dev/null &
LOOP2=$!

# --- the same again: unchanged, nothing rewritten
g=$(generation)
out=$(mc apply -f "$W/new.yaml")
expect "apply again: unchanged" "$out" \
    "serviceentry.networking.istio.io/newsvc unchanged"
sleep 0.4
expect "apply again: no reload (generation $g stays)" "$(generation)" "$g"

# --- changed: the endpoint moves, traffic follows
se_file "$W/new.yaml" newsvc new.example "$B2"
out=$(mc apply -f "$W/new.yaml")
expect "apply changed: configured" "$out" \
    "serviceentry.networking.istio.io/newsvc configured"
check "apply changed: traffic follows to b2 within 3 s" \
    until_ok 3 is_backend new.example b2

# --- from standard input, several resources at once
{
	printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n'
	printf 'metadata: {name: two, namespace: ns2}\nspec:\n  hosts: [two.example]\n'
	printf '  ports: [{number: 80, name: http, protocol: HTTP}]\n'
	printf '  resolution: STATIC\n  endpoints: [{address: 127.0.0.1, ports: {http: %s}}]\n' "$B2"
	printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n'
} >"$W/stdin.yaml"
out=$(mc apply -f - <"$W/stdin.yaml")
expect "apply -f -: exit 0" "$?" 0
expect "apply -f -: created" "$out" \
    "serviceentry.networking.istio.io/two created"
check "apply -f -: a skipped kind is a notice" \
    grep -q 'notice: skipping kind Deployment' "$T/mc.err"
check "apply -f -: its file is named by namespace" \
    test -f "$T/etc/serviceentry.ns2.two.yaml"
check "apply -f -: routed" until_ok 3 is_backend two.example b2

# --- a broken file: exit 1, file:line:col, nothing written
before=$(snapshot)
g=$(generation)
se_file "$W/bad.yaml" badsvc bad.example 99999
mc apply -f "$W/bad.yaml" >/dev/null
expect "apply broken: exit 1" "$?" 1
check "apply broken: says file:line:col" \
    grep -qE "bad\.yaml:[0-9]+:[0-9]+: .*99999" "$T/mc.err"
expect "apply broken: nothing written" "$(snapshot)" "$before"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x\n' \
    >"$W/syntax.yaml"
mc apply -f "$W/new.yaml" -f "$W/syntax.yaml" >/dev/null
expect "apply good + broken: exit 1" "$?" 1
check "apply good + broken: says syntax.yaml:line:col" \
    grep -qE "syntax\.yaml:[0-9]+:[0-9]+: " "$T/mc.err"
expect "apply good + broken: nothing written" "$(snapshot)" "$before"
sleep 0.4
expect "apply broken: generation unchanged" "$(generation)" "$g"
expect "apply broken: traffic unaffected" "$(backend_of new.example)" b2

# --- a resource of a hand-written file: refused, the file named
se_file "$W/base.yaml" base base.example "$B2"
mc apply -f "$W/base.yaml" >/dev/null
expect "apply over a hand-written file: exit 1" "$?" 1
check "apply over a hand-written file: names file:line" \
    grep -qE "se-base\.yaml:[0-9]+" "$T/mc.err"
expect "apply over a hand-written file: nothing written" "$(snapshot)" "$before"
mc delete -f "$W/base.yaml" >/dev/null
expect "delete of a hand-written resource: exit 1" "$?" 1
check "delete of a hand-written resource: the file stays" \
    test -f "$T/etc/se-base.yaml"

# --- a directory change the daemon reloads by itself, without meshctl:
# a ConfigMap-style swap of a ..data symlink
mkdir -p "$T/etc/..v1" "$T/etc/..v2"
se_file "$T/etc/..v1/cm.yaml" cm cm.example "$B1"
se_file "$T/etc/..v2/cm.yaml" cm cm.example "$B2"
ln -s ..v1 "$T/etc/..data"
ln -s ..data/cm.yaml "$T/etc/cm.yaml"
check "ConfigMap volume: its file is picked up" \
    until_ok 3 is_backend cm.example b1
ln -s ..v2 "$T/etc/..data_tmp"
mv -T "$T/etc/..data_tmp" "$T/etc/..data"
check "ConfigMap volume: the ..data swap is picked up" \
    until_ok 3 is_backend cm.example b2
rm -f "$T/etc/cm.yaml" "$T/etc/..data"
rm -rf "$T/etc/..v1" "$T/etc/..v2"

# --- get
out=$(mc get)
expect "get: exit 0" "$?" 0
check "get: header" grep -qE '^KIND +NAMESPACE +NAME +FILE:LINE' <<<"$out"
check "get: the applied one, with its file and line" grep -qE \
    "^ServiceEntry +default +newsvc +$T/etc/serviceentry.default.newsvc.yaml:[0-9]+" \
    <<<"$out"
check "get: the hand-written one" \
    grep -qE "^ServiceEntry +default +base +$T/etc/se-base.yaml:1" <<<"$out"
check "get: the Proxy" grep -qE '^Proxy +default +px ' <<<"$out"
out=$(mc get se -n ns2)
check "get se -n ns2: only two" bash -c \
    "grep -q ' two ' <<<'$out' && ! grep -q newsvc <<<'$out'"
out=$(mc get VirtualServices)
expect "get VirtualServices: none, exit 0" "$?" 0
out=$(mc get nosuchkind)
expect "get of an unknown kind: exit 1" "$?" 1
out=$(mc -o json get serviceentries)
check "get -o json lists newsvc" python3 -c '
import json, sys
d = json.load(sys.stdin)
n = [i for i in d["items"] if i["name"] == "newsvc"]
sys.exit(0 if n and n[0]["managed"] and n[0]["kind"] == "ServiceEntry" else 1)' <<<"$out"

# --- route explain
out=$(mc route explain --host new.example --path /x -H 'x-user: me' \
    -s "ipc://$SOCK")
expect "route explain: exit 0" "$?" 0
check "route explain: names the service" \
    grep -qE '^service: +new\.example' <<<"$out"
check "route explain: lists the endpoint" \
    grep -qE "127\.0\.0\.1:$B2 +weight 1" <<<"$out"
check "route explain: the reason or lb" grep -qE '^lb: +round-robin' <<<"$out"
out=$(mc -o json route explain --host new.example --workload px)
check "route explain -o json (address from the Proxy)" python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["status"] == "ok" and d["service"] == "new.example" and
    d["endpoints"][0]["address"].endswith(":'"$B2"'") else 1)' <<<"$out"
out=$(mc route explain --host nowhere.example -s "ipc://$SOCK")
expect "route explain, unknown host: exit 1" "$?" 1
check "route explain, unknown host: says no-route and why" bash -c \
    "grep -q 'no-route' <<<'$out' && grep -q 'nowhere.example' <<<'$out'"
mc route explain --host x -s "ipc://$T/nothing.sock" >/dev/null
expect "route explain, route-d down: exit 1" "$?" 1

# --- a VirtualService applied: the header match is taken, and explained
cat >"$W/vs.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: newvs}
spec:
  hosts: [new.example]
  http:
  - name: jason
    match: [{headers: {x-user: {exact: jason}}}]
    route: [{destination: {host: base.example}}]
  - name: rest
    route: [{destination: {host: new.example}}]
EOF
out=$(mc apply -f "$W/vs.yaml")
expect "apply VirtualService: created" "$out" \
    "virtualservice.networking.istio.io/newvs created"
is_jason() {
	[ "$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: new.example' \
	    -H 'x-user: jason' "http://127.0.0.1:$P/" | tr -d '\r' |
	    awk 'tolower($1) == "x-backend:" {print $2}')" = b1 ]
}
check "VirtualService: x-user: jason goes to base.example (b1)" \
    until_ok 3 is_jason
expect "VirtualService: the others still go to b2" \
    "$(backend_of new.example)" b2
out=$(mc route explain --host new.example -H 'X-User: jason' \
    -s "ipc://$SOCK")
check "route explain: names the route that matched" \
    grep -qE '^why: +VirtualService default/newvs route jason' <<<"$out"
check "route explain: the header route's service" \
    grep -qE '^service: +base\.example' <<<"$out"
check "route explain: the header route's endpoint" \
    grep -qE "127\.0\.0\.1:$B1 +weight 1" <<<"$out"
out=$(mc route explain --host new.example -s "ipc://$SOCK")
check "route explain without the header: route rest" \
    grep -qE '^why: +VirtualService default/newvs route rest' <<<"$out"
out=$(mc delete -f "$W/vs.yaml")
expect "delete VirtualService" "$out" \
    'virtualservice.networking.istio.io "newvs" deleted'

# --- delete
out=$(mc delete -f "$W/new.yaml")
expect "delete: exit 0" "$?" 0
expect "delete: kubectl's words" "$out" \
    'serviceentry.networking.istio.io "newsvc" deleted'
check "delete: its file is gone" \
    test ! -e "$T/etc/serviceentry.default.newsvc.yaml"
check "delete: 404 NR within 3 s" until_ok 3 \
    bash -c "[ \"\$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: new.example' \
    http://127.0.0.1:$P/ | tr -d '\r' | awk 'NR == 1 {print \$2}
    tolower(\$1) == \"x-meshkit-flags:\" {print \$2}' | tr '\n' ' ')\" = '404 NR ' ]"
mc delete -f "$W/new.yaml" >/dev/null
expect "delete again: not found, exit 1" "$?" 1
check "delete again: says not found" grep -q 'not found' "$T/mc.err"
mc delete --ignore-not-found -f "$W/new.yaml" >/dev/null
expect "delete --ignore-not-found: exit 0" "$?" 0

touch "$T/loop2.stop"
wait "$LOOP2"
codes=$(uniq "$T/loop2.codes" | tr '\n' ' ')
check "curl loop on the changing service: $(wc -l <"$T/loop2.codes") answers" \
    test "$(wc -l <"$T/loop2.codes")" -gt 50
# (proxy-d may still reuse the no-route answer of "before" for up to
# route-d's reuse time when the loop starts)
expect "curl loop on the changing service: 200 until the delete, then 404" \
    "${codes#404 }" "200 404 "
wait "$LOOP"
expect "curl loop: 400 answers" "$(wc -l <"$T/loop.codes")" 400
expect "curl loop: every one 200 while resources changed" \
    "$(grep -vc '^200$' "$T/loop.codes")" 0
check "route-d alive" alive route-d
check "proxy-d alive" alive px

# --- no -c: meshctl asks route-d (at $MESHKIT_RUNDIR) which directory
# it reads, as it finds a running mesh (meshctl(8), MESH DISCOVERY)
se_file "$W/found.yaml" foundsvc found.example "$B1"
out=$(cd / && timeout 20 "$M" apply -f "$W/found.yaml" 2>&1)
expect "no -c: apply writes into route-d's directory" "$out" \
    "serviceentry.networking.istio.io/foundsvc created"
check "no -c: the file is in route-d's directory" \
    test -f "$T/etc/serviceentry.default.foundsvc.yaml"
check "no -c: routed" until_ok 3 is_backend found.example b1
out=$(cd / && timeout 20 "$M" get serviceentry 2>&1)
check "no -c: get lists route-d's directory" grep -q foundsvc <<<"$out"
out=$(cd / && timeout 20 "$M" status 2>&1)
check "no -c: status says where and how" \
    grep -qF "config    $(cd "$T/etc" && pwd -P) (route-d)" <<<"$out"
mkdir -p "$T/other"
out=$(cd / && MESHKIT_CONFIG=$T/other timeout 20 "$M" apply -f "$W/found.yaml" 2>&1)
check "MESHKIT_CONFIG names the directory instead" \
    test -f "$T/other/serviceentry.default.foundsvc.yaml"
out=$(cd / && MESHKIT_CONFIG=$T/other timeout 20 "$M" -c "$T/etc" delete -f "$W/found.yaml" 2>&1)
check "-c wins over MESHKIT_CONFIG" \
    test ! -e "$T/etc/serviceentry.default.foundsvc.yaml" -a \
    -f "$T/other/serviceentry.default.foundsvc.yaml"
out=$(cd / && MESHKIT_RUNDIR=$T/nowhere timeout 20 "$M" get 2>&1)
check "no route-d to ask: the default /etc/meshkit" \
    grep -q '/etc/meshkit' <<<"$out"

finish
