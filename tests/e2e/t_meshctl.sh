#!/bin/bash
# SPDX-License-Identifier: ISC
# meshctl validate on meshkit's own files (and Istio's, in the
# conformance stage) and on hostile YAML; meshctl
# status with route-d up, down and hung.
. "$(dirname "$0")/lib.sh"

SOCK=$MESHKIT_RUNDIR/route.sock
B=$(port 1)
# (a redirection after check would swallow its ok line)
is_json() { python3 -m json.tool >/dev/null 2>&1; }

# another run on the same ports would make every check below confusing
for p in "$B" "$(port 2)"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		not_ok "port $p is already in use (another test run?)"
	fi
done

cleanup() {
	p=$(pid_of route-d)
	[ -n "$p" ] && kill -CONT "$p" 2>/dev/null
}
trap 'cleanup; E2E_FAILED=$((E2E_FAILED + 1)); finish' INT TERM

# --- files, one at a time (several of them define the same resource:
# they are alternatives): meshkit's own, then Istio's bookinfo samples
# and the article's files in the conformance stage
# validate_each FILE... : sets n (files seen) and bad (those that fail)
validate_each() {
	n=0
	bad=""
	for f in "$@"; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		out=$(mc 20 validate "$f" 2>&1)
		rc=$?
		# notices (kinds meshkit does not use) and warnings (fields it
		# ignores) are fine, errors are not
		errs=$(printf '%s\n' "$out" | grep -E ':[0-9]+:[0-9]+: ' |
		    grep -vE ': (notice|warning): ')
		if [ "$rc" -ne 0 ] || [ -n "$errs" ]; then
			bad="$bad $(basename "$f")"
			printf '%s: exit %s\n%s\n' "$f" "$rc" "$out"
		fi
	done
}
validate_each "$TOP"/etc/bookstore/*.yaml "$OWN"/*.yml \
    "$TOP"/etc/meshkit/*.yaml "$TOP"/etc/quickstart/*.yaml \
    "$TESTDATA"/samples/*.yaml
check "meshkit's own files present ($n files)" test "$n" -ge 25
expect "every own file (etc/, tests/data/samples/) validates" "$bad" ""
out=$(mc 20 validate "$TESTDATA"/samples/deployment.yaml 2>&1)
check "a kind meshkit does not use is a notice with file:line:col" \
    grep -qE 'deployment\.yaml:[0-9]+:[0-9]+: notice: ' <<<"$out"
out=$(mc 20 -o json validate "$TESTDATA"/samples/virtual-service-cart-v1.yaml \
    2>/dev/null)
check "validate -o json parses" \
    is_json <<<"$out"
check "validate -o json says valid" python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["valid"] is True and d["errors"] == 0 else 1)' <<<"$out"
if conformance "conformance: testdata present" \
    "conformance: every bookinfo and article file validates" \
    "conformance: the article's Deployment is a notice" \
    "conformance: the walkthrough's files say what the article's say"; then
	validate_each "$SHARED"/testdata/istio/bookinfo/*.yaml \
	    "$SHARED"/testdata/article/*.yml
	check "conformance: testdata present ($n files)" test "$n" -ge 30
	expect "conformance: every bookinfo and article file validates" "$bad" ""
	out=$(mc 20 validate "$SHARED"/testdata/article/deployment-v1.yml 2>&1)
	check "conformance: the article's Deployment is a notice" \
	    grep -qE 'deployment-v1\.yml:[0-9]+:[0-9]+: notice: ' <<<"$out"
	# the same trees but for apiVersion, the default namespace spelled
	# out, and where the keys are (the demo's own, not the article's
	# gist)
	check "conformance: the walkthrough's files say what the article's say" \
	    python3 - "$OWN" "$SHARED/testdata/article" <<-'EOF'
	import os, sys, yaml
	own, art = sys.argv[1], sys.argv[2]
	spelled = {"virtual-service-retry.yml": "virtua-service-retry.yml"}
	def tree(path):
	    out = []
	    for d in yaml.safe_load_all(open(path)):
	        if not d:
	            continue
	        d.pop("apiVersion", None)
	        d.setdefault("metadata", {}).setdefault("namespace", "default")
	        for r in (d.get("spec") or {}).get("jwtRules") or []:
	            r.pop("jwksUri", None)
	        out.append(d)
	    return out
	# the article's mTLS step has no files: these two are meshkit's own
	extra = {"peer-authentication-strict.yml",
	    "authorization-policy-rating.yml"}
	files = sorted(f for f in os.listdir(own) if f.endswith(".yml"))
	assert len(files) == 10 and extra <= set(files), files
	for f in files:
	    if f in extra:
	        continue
	    a = tree(os.path.join(art, spelled.get(f, f)))
	    o = tree(os.path.join(own, f))
	    if a != o:
	        sys.exit("%s differs:\n  article %s\n  own     %s" % (f, a, o))
	EOF
fi

# --- hostile and broken files: exit 1, file:line:col: message
H=$T/hostile
mkdir -p "$H"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: &m {name: a}\nspec:\n  hosts: [a]\n' \
    >"$H/anchor.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec: &s\n  hosts: [a]\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: b}\nspec: *s\n' \
    >"$H/alias.yaml"
awk 'BEGIN {print "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:";
    ind = "  "; for (i = 0; i < 200; i++) {print ind "k" i ":"; ind = ind "  "}
    print ind "v: 1"}' >"$H/deep-block.yaml"
awk 'BEGIN {s = "apiVersion: v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec: {hosts: ";
    for (i = 0; i < 200; i++) s = s "["; for (i = 0; i < 200; i++) s = s "]";
    print s "}"}' >"$H/deep-flow.yaml"
awk 'BEGIN {print "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: big}\nspec:\n  hosts:";
    for (i = 0; i < 120000; i++) printf "  - host%06d.example.with.a.rather.long.name\n", i}' \
    >"$H/big.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a\nspec: [\n' \
    >"$H/syntax.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: ["unterminated]\n' \
    >"$H/quote.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n\thosts: [a]\n' \
    >"$H/tab.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  ports:\n  - {number: 99999, name: http, protocol: HTTP}\n' \
    >"$H/port-high.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  ports:\n  - {number: 0, name: http, protocol: HTTP}\n' \
    >"$H/port-zero.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  ports:\n  - {number: eighty, name: http, protocol: HTTP}\n' \
    >"$H/port-word.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  resolution: STATIC\n  endpoints:\n  - {address: 127.0.0.1, ports: {http: 70000}}\n' \
    >"$H/endpoint-port.yaml"
printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\nmetadata: {name: p}\nspec:\n  listeners:\n  - {name: o, direction: outbound, address: "127.0.0.1:65536"}\n' \
    >"$H/listener-port.yaml"
printf 'apiVersion: meshkit.io/v1alpha1\nkind: Proxy\nmetadata: {name: p}\nspec:\n  daemons:\n    route: {timeout: soon}\n' \
    >"$H/duration.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  resolution: SOMETIMES\n' \
    >"$H/enum.yaml"
printf 'apiVersion: networking.istio.io/v1\nkind: Service\0Entry\nmetadata: {name: a}\n' \
    >"$H/nul.yaml"
head -c 4096 /dev/urandom >"$H/binary.yaml"

for f in "$H"/*.yaml; do
	name=$(basename "$f")
	out=$(mc 30 validate "$f" 2>&1)
	rc=$?
	printf '%s\n' "$out" >"$T/validate-$name.out"
	expect "hostile $name: exit 1" "$rc" 1
	check "hostile $name: says $name:line:col: message" \
	    grep -qE "^$f:[0-9]+:[0-9]+: [^ ]" "$T/validate-$name.out"
done
check "the 5 MB file is over 5 MB" \
    test "$(wc -c <"$H/big.yaml")" -gt 5000000
check "anchors are named as the reason" \
    grep -qi 'anchor' "$T/validate-anchor.yaml.out"
check "nesting depth is named as the reason" \
    grep -qi 'nest\|deep\|depth' "$T/validate-deep-block.yaml.out"
check "size is named as the reason" \
    grep -qi 'large\|size\|bytes' "$T/validate-big.yaml.out"
check "bad port names the value" grep -q '99999' "$T/validate-port-high.yaml.out"
check "bad port points at the line of the port" \
    grep -q "port-high.yaml:7:" "$T/validate-port-high.yaml.out"
out=$(mc 30 -o json validate "$H/port-high.yaml" 2>/dev/null)
check "validate -o json of errors parses" \
    is_json <<<"$out"
check "validate -o json lists the error with line and col" python3 -c '
import json, sys
d = json.load(sys.stdin)
m = [e for e in d["messages"] if e["severity"] == "error"]
sys.exit(0 if d["valid"] is False and m and m[0]["line"] == 7 and
    m[0]["col"] > 0 else 1)' <<<"$out"
out=$(mc 10 validate "$T/no-such-file.yaml" 2>&1)
expect "missing file: exit 1" "$?" 1
check "missing file: names the file" grep -q 'no-such-file.yaml' <<<"$out"
out=$(mc 30 validate "$TESTDATA/samples/virtual-service-cart-v1.yaml" "$H/syntax.yaml" 2>&1)
expect "one good file, one broken: exit 1" "$?" 1

# the daemons refuse the same files at start, with the same messages
mkdir -p "$T/bad-etc"
cp "$H/deep-flow.yaml" "$T/bad-etc/"
out=$(timeout 10 "$BIN/route-d" -c "$T/bad-etc" -n 2>&1)
expect "route-d -n on a hostile dir: exit 1" "$?" 1
printf '%s\n' "$out" >>"$T/route-d-n.log"
check "route-d -n says file:line:col" \
    grep -qE 'deep-flow\.yaml:[0-9]+:[0-9]+: ' <<<"$out"
out=$(timeout 10 "$BIN/route-d" -c "$T/bad-etc" -s "ipc://$T/bad.sock" 2>&1)
expect "route-d refuses to start on a hostile dir" "$?" 1
printf '%s\n' "$out" >>"$T/route-d-n.log"

# --- status
se svc svc 80 "$B"
proxy px "$(port 2)"
out=$(mc 10 status -s "ipc://$SOCK" 2>&1)
expect "status, route-d never started: exit 1" "$?" 1
check "status, route-d never started: says down" grep -q down <<<"$out"

route_d
out=$(mc 10 status -s "ipc://$SOCK" 2>&1)
expect "status, route-d up: exit 0" "$?" 0
check "status, route-d up: says up with generation 1" \
    grep -qE 'route-d +up +generation 1 ' <<<"$out"
check "status, route-d up: its pid" \
    grep -q "pid $(pid_of route-d)\$" <<<"$out"
out=$(mc 10 -c "$T/etc" status 2>&1)
expect "status -c: route-d found through the Proxy resource" "$?" 0
out=$(mc 10 -o json status -s "ipc://$SOCK" 2>/dev/null)
check "status -o json parses" is_json <<<"$out"
check "status -o json: up, generation 1, pid" python3 -c "
import json, sys
d = json.load(sys.stdin)['daemons'][0]
sys.exit(0 if d['up'] is True and d['generation'] == 1 and
    d['pid'] == $(pid_of route-d) else 1)" <<<"$out"
kill -HUP "$(pid_of route-d)"
gen=""
for _ in $(seq 50); do
	gen=$(mc 10 -o json status -s "ipc://$SOCK" 2>/dev/null |
	    python3 -c 'import json, sys
print(json.load(sys.stdin)["daemons"][0]["generation"])' 2>/dev/null)
	[ "$gen" = 2 ] && break
	sleep 0.1
done
expect "status after SIGHUP: generation 2" "$gen" 2

# hung: SIGSTOP
RPID=$(pid_of route-d)
kill -STOP "$RPID"
t0=$(date +%s%N)
out=$(mc 20 status -s "ipc://$SOCK" 2>&1)
rc=$?
t1=$(date +%s%N)
# with no -c, meshctl asks route-d where its config is: no answer, no
# guess (another directory would be another mesh)
printf '%s\n' 'apiVersion: networking.istio.io/v1' 'kind: ServiceEntry' \
    'metadata: {name: hung}' 'spec:' '  hosts: [hung.example]' \
    '  ports: [{number: 80, name: http}]' >"$T/hung.yaml"
out2=$(mc 20 apply -f "$T/hung.yaml" 2>&1)
rc2=$?
kill -CONT "$RPID"
expect "apply, no -c, route-d stopped: exit 1" "$rc2" 1
check "apply, no -c, route-d stopped: its config directory is not known" \
    grep -q 'config directory is not known; name it with -c' <<<"$out2"
check "apply, no -c, route-d stopped: nothing written" \
    test ! -e "$T/etc/serviceentry.default.hung.yaml"
expect "status, route-d stopped: exit 1" "$rc" 1
check "status, route-d stopped: says down" grep -q down <<<"$out"
ms=$(((t1 - t0) / 1000000))
check "status, route-d stopped: answers within 5 s (took $ms ms)" \
    test "$ms" -lt 5000

# killed: the socket file is left behind
stop route-d KILL
out=$(mc 10 status -s "ipc://$SOCK" 2>&1)
expect "status, route-d killed: exit 1" "$?" 1
check "status, route-d killed: says down" grep -q down <<<"$out"
out=$(mc 10 -o json status -s "ipc://$SOCK" 2>/dev/null)
check "status -o json, down: parses" \
    is_json <<<"$out"
check "status -o json, down: up is false, with a reason" python3 -c '
import json, sys
d = json.load(sys.stdin)["daemons"][0]
sys.exit(0 if d["up"] is False and d["reason"] else 1)' <<<"$out"
# a stand-in speaking garbage is down too, not up
spawn junk nngcat --rep --listen "ipc://$SOCK" --data "not a message"
wait_file "$SOCK"
sleep 0.2
out=$(mc 10 status -s "ipc://$SOCK" 2>&1)
expect "status, garbage answer: exit 1" "$?" 1
stop junk
# an HTTP address where nng's is wanted: said so, not "Invalid argument"
out=$(mc 10 top --once -s 127.0.0.1:15090 2>&1)
expect "top -s host:port: exit 1" "$?" 1
check "top -s host:port: says a daemon's address is nng's" \
	grep -q 'ipc://PATH or tcp://HOST:PORT' <<<"$out"
out=$(mc 10 top --once -s http://127.0.0.1:15090 2>&1)
check "top -s http://: the same" grep -q 'ipc://PATH or tcp://HOST:PORT' <<<"$out"

cleanup
finish
