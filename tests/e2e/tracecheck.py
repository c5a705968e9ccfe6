#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks spans stats-d exported, for the e2e tests.

    tracecheck.py zipkin FILE [ZIPKIN2_API_YAML]
    tracecheck.py otlp FILE [TRACING_TESTDATA_DIR]

Always: meshkit's own expectations of the JSON (ids, kinds, times, tags).
With the reference files: the Zipkin v2 JSON schema (zipkin2-api.yaml's
ListOfSpans, with jsonschema), and for OTLP every key checked against the
fields of its message in the protos (trace-otlp.proto, common-otlp.proto,
resource-otlp.proto, trace_service-otlp.proto: JSON names are the
lowerCamelCase of the fields), the SpanKind and status code enums, and the
shape of the specification's example.  Prints one line per problem and
exits 1 when there is one.
"""
import json
import os
import re
import sys

problems = []


def bad(msg):
    problems.append(msg)


def hexid(v, n):
    return isinstance(v, str) and re.fullmatch("[0-9a-f]{%d}" % n, v)


def zipkin(spans, schema_file):
    if not isinstance(spans, list) or not spans:
        bad("zipkin: not a non-empty list of spans")
        return
    for s in spans:
        if not hexid(s.get("traceId"), 32) and not hexid(s.get("traceId"), 16):
            bad("zipkin: traceId %r" % s.get("traceId"))
        if not hexid(s.get("id"), 16):
            bad("zipkin: id %r" % s.get("id"))
        if "parentId" in s and not hexid(s["parentId"], 16):
            bad("zipkin: parentId %r" % s["parentId"])
        if s.get("kind") not in ("SERVER", "CLIENT"):
            bad("zipkin: kind %r" % s.get("kind"))
        if not isinstance(s.get("timestamp"), int) or s["timestamp"] <= 0:
            bad("zipkin: timestamp %r" % s.get("timestamp"))
        if not isinstance(s.get("duration"), int) or s["duration"] < 1:
            bad("zipkin: duration %r" % s.get("duration"))
        if not s.get("localEndpoint", {}).get("serviceName"):
            bad("zipkin: no localEndpoint.serviceName")
        for k, v in s.get("tags", {}).items():
            if not isinstance(v, str):
                bad("zipkin: tag %s is not a string" % k)
    if schema_file:
        import yaml
        import jsonschema
        with open(schema_file) as f:
            api = yaml.safe_load(f)
        schema = {"$ref": "#/definitions/ListOfSpans",
                  "definitions": api["definitions"]}
        v = jsonschema.Draft4Validator(schema)
        for e in v.iter_errors(spans):
            bad("zipkin2-api.yaml: %s at %s" % (e.message, list(e.path)))


def camel(name):
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def proto_messages(paths):
    """message name -> {json field name: type name}, enums -> values."""
    msgs, enums = {}, {}
    for path in paths:
        with open(path) as f:
            text = re.sub(r"//[^\n]*", "", f.read())
        # nested messages and enums: scan with a stack of names
        stack = []
        for tok in re.finditer(
                r"(message|enum)\s+(\w+)\s*\{|\}|"
                r"(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;|"
                r"(\w+)\s*=\s*(\d+)\s*;", text):
            if tok.group(1):
                stack.append((tok.group(1), tok.group(2)))
                if tok.group(1) == "message":
                    msgs.setdefault(tok.group(2), {})
                else:
                    enums.setdefault(tok.group(2), {})
            elif tok.group(0) == "}":
                if stack:
                    stack.pop()
            elif tok.group(5) and stack and stack[-1][0] == "message":
                msgs[stack[-1][1]][camel(tok.group(5))] = \
                    tok.group(4).split(".")[-1]
            elif tok.group(7) and stack and stack[-1][0] == "enum":
                enums[stack[-1][1]][tok.group(7)] = int(tok.group(8))
    return msgs, enums


def walk(value, msg, msgs, where):
    if msg not in msgs:
        return
    if not isinstance(value, dict):
        bad("%s: want an object for %s" % (where, msg))
        return
    fields = msgs[msg]
    for k, v in value.items():
        if k not in fields:
            bad("%s: %s has no field %s" % (where, msg, k))
            continue
        t = fields[k]
        if isinstance(v, list):
            for i, item in enumerate(v):
                walk(item, t, msgs, "%s.%s[%d]" % (where, k, i))
        else:
            walk(v, t, msgs, "%s.%s" % (where, k))


def keypaths(v, prefix=""):
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(prefix + "/" + k)
            out |= keypaths(x, prefix + "/" + k)
    elif isinstance(v, list):
        for x in v:
            out |= keypaths(x, prefix + "[]")
    return out


def otlp(req, testdata):
    rs = req.get("resourceSpans")
    if not isinstance(rs, list) or not rs:
        bad("otlp: no resourceSpans")
        return
    for r in rs:
        attrs = r.get("resource", {}).get("attributes", [])
        if not any(a.get("key") == "service.name" and
                   a.get("value", {}).get("stringValue") for a in attrs):
            bad("otlp: a resource without service.name")
        for ss in r.get("scopeSpans", []):
            for s in ss.get("spans", []):
                if not hexid(s.get("traceId"), 32):
                    bad("otlp: traceId %r" % s.get("traceId"))
                if not hexid(s.get("spanId"), 16):
                    bad("otlp: spanId %r" % s.get("spanId"))
                if "parentSpanId" in s and not hexid(s["parentSpanId"], 16):
                    bad("otlp: parentSpanId %r" % s["parentSpanId"])
                if s.get("kind") not in (2, 3):
                    bad("otlp: kind %r" % s.get("kind"))
                st, en = s.get("startTimeUnixNano"), s.get("endTimeUnixNano")
                if not (isinstance(st, str) and st.isdigit() and
                        isinstance(en, str) and en.isdigit() and
                        int(en) >= int(st)):
                    bad("otlp: times %r %r" % (st, en))
                for a in s.get("attributes", []):
                    val = a.get("value", {})
                    if len(val) != 1 or list(val)[0] not in (
                            "stringValue", "intValue"):
                        bad("otlp: attribute %r" % a)
    if not testdata:
        return
    msgs, enums = proto_messages([os.path.join(testdata, f) for f in (
        "trace_service-otlp.proto", "trace-otlp.proto", "common-otlp.proto",
        "resource-otlp.proto")])
    walk(req, "ExportTraceServiceRequest", msgs, "request")
    kinds = set(enums.get("SpanKind", {}).values())
    codes = set(enums.get("StatusCode", {}).values())
    for r in rs:
        for ss in r.get("scopeSpans", []):
            for s in ss.get("spans", []):
                if s.get("kind") not in kinds:
                    bad("otlp: kind %r not in SpanKind %r" % (s.get("kind"),
                                                            kinds))
                if s.get("status", {}).get("code", 0) not in codes:
                    bad("otlp: status code %r" % s["status"]["code"])
    with open(os.path.join(testdata, "otlp-trace-example.json")) as f:
        example = json.load(f)
    # every path of ours but the optional ones is a path of the example
    ours = keypaths(req)
    theirs = keypaths(example)
    optional = {"/resourceSpans[]/scopeSpans[]/spans[]/status",
                "/resourceSpans[]/scopeSpans[]/spans[]/status/code",
                "/resourceSpans[]/scopeSpans[]/spans[]/attributes[]/value/"
                "intValue"}
    for p in sorted(ours - theirs - optional):
        bad("otlp: %s is not in the specification's example" % p)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    ref = sys.argv[3] if len(sys.argv) > 3 else None
    with open(path) as f:
        data = json.load(f)
    if kind == "zipkin":
        zipkin(data, ref)
    else:
        otlp(data, ref)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


main()
