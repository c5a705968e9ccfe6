#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Runs the PromQL of Istio's Grafana dashboards against a Prometheus, for
the e2e tests.

    promcheck.py PROM_URL DASHBOARD.json NAME=VALUE... [-- NAME=VALUE...]...

Grafana's variables ($service, $qrep, $__rate_interval, ...) are filled
with the NAME=VALUE pairs given before the first "--", then with those of
each set after it in turn (one dashboard variable set each: a service
whose traffic is mutual TLS, one whose traffic is plain), until one
returns data.  Expressions on TCP metrics are not HTTP's and are left
out.  Prints one line per expression:

    ok N EXPR         it returned N samples (EXPR as filled in)
    empty EXPR        it returned nothing, with any set
    error MSG EXPR    Prometheus refused it
"""
import json
import re
import sys
import urllib.parse
import urllib.request


def exprs(dashboard):
    out = []

    def walk(v):
        if isinstance(v, dict):
            if isinstance(v.get("expr"), str):
                out.append(v["expr"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(dashboard)
    seen, uniq = set(), []
    for e in out:
        if e not in seen:
            seen.add(e)
            uniq.append(e)
    return uniq


def fill(expr, values):
    # longest names first: $srcwl before $srcns is not an issue, but
    # $__rate_interval before $__interval is
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name])
        expr = expr.replace("$" + name, values[name])
    return expr


def query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    req = urllib.request.Request(url + "/api/v1/query", data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def main():
    url, path = sys.argv[1], sys.argv[2]
    groups, cur = [], []
    for a in sys.argv[3:]:
        if a == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    groups.append(cur)
    common = dict(a.split("=", 1) for a in groups[0])
    sets = []
    for g in groups[1:] or [[]]:
        v = dict(common)
        v.update(dict(a.split("=", 1) for a in g))
        sets.append(v)
    with open(path) as f:
        dashboard = json.load(f)
    for e in exprs(dashboard):
        if "istio_tcp_" in e:
            continue
        line = None
        for values in sets:
            q = fill(e, values)
            left = re.findall(r"\$\{?\w+", q)
            if left:
                line = "error unfilled %s %s" % (",".join(left), e)
                break
            r = query(url, q)
            if r.get("status") != "success":
                line = "error %s %s" % (r.get("error", "?"), q)
                break
            res = r["data"]["result"]
            n = len(res) if isinstance(res, list) else 1
            # a NaN quantile is no data either
            if isinstance(res, list) and res and all(
                    x.get("value", [0, "NaN"])[1] == "NaN" for x in res):
                n = 0
            if n > 0:
                line = "ok %d %s" % (n, q)
                break
            line = "empty " + e
        print(line)


main()
