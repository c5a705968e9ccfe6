/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/trace.c: trace context headers and spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "record.h"
#include "sbuf.h"
#include "trace.h"
#include "util.h"

#define REMOVED	"(removed)"

struct headers {
	const char	*names[8];
	const char	*values[8];
	size_t		 n;
	char		 out[12][128];	/* REMOVED: removed */
	char		 outnames[12][32];
	size_t		 nout;
};

static struct str s(const char *);
static struct str get(const char *, void *);
static void	set(const char *, const char *, void *);
static const char *out(const struct headers *, const char *);
static void	example(struct record *);
static void	test_traceparent(void **);
static void	test_b3_single(void **);
static void	test_b3_multi(void **);
static void	test_read_order(void **);
static void	test_write(void **);
static void	test_decision_only(void **);
static void	test_state(void **);
static void	test_write_replaces(void **);
static void	test_random(void **);
static void	test_zipkin(void **);
static void	test_otlp(void **);
static void	test_not_sampled(void **);
static void	test_tags(void **);
static const char *tag(const struct span *, const char *);

static struct str
s(const char *p)
{
	return p == NULL ? (struct str){ NULL, 0 } : (struct str){ p,
	    strlen(p) };
}

static struct str
get(const char *name, void *arg)
{
	struct headers	*h = arg;
	size_t		 i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->names[i], name) == 0)
			return s(h->values[i]);
	return s(NULL);
}

static void
set(const char *name, const char *value, void *arg)
{
	struct headers	*h = arg;

	assert_true(h->nout < 12);
	assert_null(out(h, name));	/* one operation a header */
	snprintf(h->outnames[h->nout], sizeof(h->outnames[0]), "%s", name);
	snprintf(h->out[h->nout++], sizeof(h->out[0]), "%s",
	    value != NULL ? value : REMOVED);
}

static const char *
out(const struct headers *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nout; i++)
		if (strcmp(h->outnames[i], name) == 0)
			return h->out[i];
	return NULL;
}

static void
test_traceparent(void **state)
{
	struct trace_context	 c;
	static const char *const bad[] = {
		"",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
		"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	};
	size_t			 i;

	assert_int_equal(trace_parse_traceparent(s("00-4bf92f3577b34da6a3ce9"
	    "29d0e0e4736-00f067aa0ba902b7-01"), &c), 1);
	assert_string_equal(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(c.span_id, "00f067aa0ba902b7");
	assert_int_equal(c.sampled, 1);
	assert_int_equal(c.b3, 0);
	assert_int_equal(trace_parse_traceparent(s("00-4bf92f3577b34da6a3ce9"
	    "29d0e0e4736-00f067aa0ba902b7-00"), &c), 1);
	assert_int_equal(c.sampled, 0);
	/* flags are bits: 09 is sampled */
	assert_int_equal(trace_parse_traceparent(s("00-4bf92f3577b34da6a3ce9"
	    "29d0e0e4736-00f067aa0ba902b7-09"), &c), 1);
	assert_int_equal(c.sampled, 1);
	/* a later version may carry more */
	assert_int_equal(trace_parse_traceparent(s("cc-4bf92f3577b34da6a3ce9"
	    "29d0e0e4736-00f067aa0ba902b7-01-what-not"), &c), 1);
	for (i = 0; i < nitems(bad); i++) {
		if (trace_parse_traceparent(s(bad[i]), &c) != 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(c.sampled, -1);
		assert_string_equal(c.trace_id, "");
	}
}

static void
test_b3_single(void **state)
{
	struct trace_context	 c;

	assert_int_equal(trace_parse_b3(s("80f198ee56343ba864fe8b2a57d3eff7-"
	    "e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"), &c), 1);
	assert_string_equal(c.trace_id, "80f198ee56343ba864fe8b2a57d3eff7");
	assert_string_equal(c.span_id, "e457b5a2e4d86bd1");
	assert_string_equal(c.parent_id, "05e3ac9a4f6e3b90");
	assert_int_equal(c.sampled, 1);
	assert_int_equal(c.b3, TRACE_B3_SINGLE);
	/* 64-bit ids are padded */
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b7"),
	    &c), 1);
	assert_string_equal(c.trace_id, "0000000000000000a3ce929d0e0e4736");
	assert_int_equal(c.sampled, -1);
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b7-"
	    "d"), &c), 1);
	assert_int_equal(c.debug, 1);
	assert_int_equal(c.sampled, 1);
	/* a decision alone */
	assert_int_equal(trace_parse_b3(s("0"), &c), 0);
	assert_int_equal(c.sampled, 0);
	assert_int_equal(trace_parse_b3(s("x"), &c), 0);
	assert_int_equal(c.sampled, -1);
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b7-"
	    "2"), &c), 0);
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b7-"
	    "1-05e3ac9a4f6e3b90-x"), &c), 0);
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b"),
	    &c), 0);
}

static void
test_b3_multi(void **state)
{
	struct trace_context	 c;

	assert_int_equal(trace_parse_b3_multi(
	    s("463ac35c9f6413ad48485a3953bb6124"), s("a2fb4a1d1a96d312"),
	    s("0020000000000001"), s("1"), s(NULL), &c), 1);
	assert_string_equal(c.parent_id, "0020000000000001");
	assert_int_equal(c.sampled, 1);
	assert_int_equal(trace_parse_b3_multi(s("463ac35c9f6413ad"),
	    s("a2fb4a1d1a96d312"), s(NULL), s(NULL), s("1"), &c), 1);
	assert_int_equal(c.debug, 1);
	assert_int_equal(c.sampled, 1);
	assert_string_equal(c.trace_id, "0000000000000000463ac35c9f6413ad");
	/* no ids, but a decision to honour */
	assert_int_equal(trace_parse_b3_multi(s(NULL), s(NULL), s(NULL),
	    s("0"), s(NULL), &c), 0);
	assert_int_equal(c.sampled, 0);
	assert_int_equal(trace_parse_b3_multi(s("463ac35c9f6413ad"),
	    s("a2fb4a1d1a96d312"), s("zz"), s(NULL), s(NULL), &c), 0);
}

static void
test_read_order(void **state)
{
	struct trace_context	 c;
	struct headers		 h = {
		{ "x-b3-traceid", "x-b3-spanid", "traceparent", "tracestate" },
		{ "463ac35c9f6413ad", "a2fb4a1d1a96d312",
		  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		  "congo=t61rcWkgMzE" }, 4, { { 0 } }, { { 0 } }, 0,
	};

	/* both valid: B3 first, as Envoy's Zipkin tracer */
	assert_int_equal(trace_context_read(&c, get, &h), 1);
	assert_string_equal(c.trace_id, "0000000000000000463ac35c9f6413ad");
	assert_string_equal(c.span_id, "a2fb4a1d1a96d312");
	assert_int_equal(c.b3, TRACE_B3_MULTI);
	assert_int_equal(c.sampled, -1);
	/* tracestate was of the other trace */
	assert_int_equal(c.keep_state, 0);
	/* a broken B3: traceparent it is */
	h.values[1] = "a2fb4a1d1a96d31";
	assert_int_equal(trace_context_read(&c, get, &h), 1);
	assert_string_equal(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_int_equal(c.sampled, 1);
	assert_int_equal(c.keep_state, 1);
	/* the same trace in both: B3's ids, tracestate goes on */
	h.values[0] = "4bf92f3577b34da6a3ce929d0e0e4736";
	h.values[1] = "a2fb4a1d1a96d312";
	assert_int_equal(trace_context_read(&c, get, &h), 1);
	assert_string_equal(c.span_id, "a2fb4a1d1a96d312");
	assert_int_equal(c.keep_state, 1);
	h.n = 0;
	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.sampled, -1);
	assert_int_equal(c.b3, TRACE_B3_NONE);
}

/* "b3: 0", "b3: 1", "b3: d": a decision without ids still holds. */
static void
test_decision_only(void **state)
{
	struct trace_context	 c;
	struct headers		 h = {
		{ "b3", "x-b3-sampled", "traceparent" },
		{ "0", "1",
		  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
		2, { { 0 } }, { { 0 } }, 0,
	};

	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.sampled, 0);
	assert_int_equal(c.debug, 0);
	assert_int_equal(c.b3, TRACE_B3_SINGLE);
	h.values[0] = "1";
	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.sampled, 1);
	h.values[0] = "d";
	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.sampled, 1);
	assert_int_equal(c.debug, 1);
	/* beside a traceparent: its trace, B3's decision */
	h.values[0] = "0";
	h.n = 3;
	h.names[1] = "x";
	assert_int_equal(trace_context_read(&c, get, &h), 1);
	assert_string_equal(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_int_equal(c.sampled, 0);
	assert_int_equal(c.b3, TRACE_B3_SINGLE);
	/* the multi form's decision alone */
	h.names[0] = "x-b3-flags";
	h.values[0] = "1";
	h.n = 1;
	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.sampled, 1);
	assert_int_equal(c.debug, 1);
	assert_int_equal(c.b3, TRACE_B3_MULTI);
}

/* W3C 4.3: no valid traceparent, no tracestate. */
static void
test_state(void **state)
{
	struct trace_context	 c;
	struct headers		 h = {
		{ "tracestate", "traceparent" },
		{ "congo=t61rcWkgMzE",
		  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
		1, { { 0 } }, { { 0 } }, 0,
	};

	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.keep_state, 0);
	h.n = 2;
	assert_int_equal(trace_context_read(&c, get, &h), 1);
	assert_int_equal(c.keep_state, 1);
	/* sent twice: the getter says so with an empty value */
	h.values[1] = "";
	assert_int_equal(trace_context_read(&c, get, &h), 0);
	assert_int_equal(c.keep_state, 0);
	h.nout = 0;
	strcpy(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "tracestate"), REMOVED);
}

static void
test_write(void **state)
{
	struct trace_context	 c;
	struct headers		 h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(trace_parse_traceparent(s("00-4bf92f3577b34da6a3ce9"
	    "29d0e0e4736-00f067aa0ba902b7-01"), &c), 1);
	c.keep_state = 1;
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "traceparent"),
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01");
	/* left as it came */
	assert_null(out(&h, "tracestate"));
	/* W3C in, B3 multi out too */
	assert_string_equal(out(&h, "x-b3-traceid"),
	    "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(out(&h, "x-b3-parentspanid"), "00f067aa0ba902b7");
	assert_string_equal(out(&h, "x-b3-sampled"), "1");
	assert_string_equal(out(&h, "b3"), REMOVED);

	memset(&h, 0, sizeof(h));
	assert_int_equal(trace_parse_b3(s("a3ce929d0e0e4736-00f067aa0ba902b7-"
	    "0"), &c), 1);
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "traceparent"),
	    "00-0000000000000000a3ce929d0e0e4736-b7ad6b7169203331-00");
	/* b3 in, b3 out */
	assert_string_equal(out(&h, "b3"),
	    "a3ce929d0e0e4736-b7ad6b7169203331-0-00f067aa0ba902b7");
	assert_string_equal(out(&h, "x-b3-traceid"), REMOVED);
	assert_string_equal(out(&h, "x-b3-spanid"), REMOVED);
	assert_string_equal(out(&h, "x-b3-parentspanid"), REMOVED);
	assert_string_equal(out(&h, "x-b3-sampled"), REMOVED);
	assert_string_equal(out(&h, "x-b3-flags"), REMOVED);
	assert_string_equal(out(&h, "tracestate"), REMOVED);
}

/* A new trace, a debug one: every context header of the one trace. */
static void
test_write_replaces(void **state)
{
	struct trace_context	 c;
	struct headers		 h;

	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	strcpy(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	c.sampled = 1;
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "x-b3-traceid"),
	    "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(out(&h, "x-b3-spanid"), "b7ad6b7169203331");
	assert_string_equal(out(&h, "x-b3-parentspanid"), REMOVED);
	assert_string_equal(out(&h, "x-b3-sampled"), "1");
	assert_string_equal(out(&h, "x-b3-flags"), REMOVED);
	assert_string_equal(out(&h, "b3"), REMOVED);
	assert_string_equal(out(&h, "tracestate"), REMOVED);

	memset(&h, 0, sizeof(h));
	c.debug = 1;
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "x-b3-flags"), "1");
	assert_string_equal(out(&h, "x-b3-sampled"), REMOVED);
	assert_string_equal(out(&h, "traceparent"),
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01");
	memset(&h, 0, sizeof(h));
	c.b3 = TRACE_B3_SINGLE;
	c.sampled = 0;
	c.debug = 0;
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "b3"),
	    "4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-0");
	c.debug = 1;
	memset(&h, 0, sizeof(h));
	trace_context_write(&c, "b7ad6b7169203331", set, &h);
	assert_string_equal(out(&h, "b3"),
	    "4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-d");
}

static void
test_random(void **state)
{
	char	 a[33], b[33];
	int	 i, yes = 0;

	trace_random_hex(a, 16);
	trace_random_hex(b, 16);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(trace_sample(0), 0);
	assert_int_equal(trace_sample(1000000), 1);
	for (i = 0; i < 10000; i++)
		yes += trace_sample(500000);
	assert_true(yes > 4500 && yes < 5500);
}

static void
example(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->reporter = RECORD_DESTINATION;
	r->start_us = 1544712660000000ULL;
	r->duration_us = 1500;
	r->code = 503;
	r->has = RECORD_HAS_SAMPLED | RECORD_HAS_PORT;
	r->sampled = 1;
	r->port = 8080;
	r->trace_id = s("5b8efff798038103d269b633813fc60c");
	r->span_id = s("eee19b7ec3c1b174");
	r->parent_span_id = s("eee19b7ec3c1b173");
	r->service = s("rating.default.svc.cluster.local");
	r->method = s("GET");
	r->path = s("/rate/1");
	r->authority = s("rating:8080");
	r->destination.workload = s("rating-v2");
	r->destination.app = s("rating");
	r->destination.version = s("v2");
	r->destination.namespace = s("default");
	r->downstream_remote = s("127.0.0.1:40000");
}

static void
test_zipkin(void **state)
{
	struct record		 r;
	struct span		*sp[2];
	struct sbuf		 b;
	struct json		*j;
	const struct json	*span, *tags;
	char			 err[256];

	example(&r);
	assert_non_null(sp[0] = trace_span_new(&r, NULL));
	r.reporter = RECORD_SOURCE;
	r.code = 200;
	r.parent_span_id = s(NULL);
	r.source.app = s("book");
	r.source.namespace = s("default");
	r.upstream_host = s("[::1]:9082");
	assert_non_null(sp[1] = trace_span_new(&r, NULL));
	sbuf_init(&b, 0);
	trace_zipkin_write(&b, sp, 2);
	assert_non_null(j = json_parse(b.buf, b.len, err, sizeof(err)));
	assert_int_equal(j->type, JSON_ARRAY);
	assert_int_equal(j->n, 2);
	span = j->values[0];
	assert_string_equal(json_get_string(span, "traceId"),
	    "5b8efff798038103d269b633813fc60c");
	assert_string_equal(json_get_string(span, "id"), "eee19b7ec3c1b174");
	assert_string_equal(json_get_string(span, "parentId"),
	    "eee19b7ec3c1b173");
	assert_string_equal(json_get_string(span, "kind"), "SERVER");
	assert_string_equal(json_get_string(span, "name"),
	    "rating.default.svc.cluster.local:8080/*");
	assert_true(json_get(span, "timestamp")->number == 1544712660000000.0);
	assert_true(json_get(span, "duration")->number == 1500);
	assert_string_equal(json_get_string(json_get(span, "localEndpoint"),
	    "serviceName"), "rating.default");
	assert_string_equal(json_get_string(json_get(span, "remoteEndpoint"),
	    "ipv4"), "127.0.0.1");
	assert_true(json_get(json_get(span, "remoteEndpoint"),
	    "port")->number == 40000);
	tags = json_get(span, "tags");
	assert_string_equal(json_get_string(tags, "http.status_code"), "503");
	assert_string_equal(json_get_string(tags, "error"), "true");
	assert_string_equal(json_get_string(tags, "http.url"),
	    "http://rating:8080/rate/1");
	assert_string_equal(json_get_string(tags, "istio.canonical_service"),
	    "rating");
	span = j->values[1];
	assert_string_equal(json_get_string(span, "kind"), "CLIENT");
	assert_null(json_get(span, "parentId"));
	assert_string_equal(json_get_string(json_get(span, "localEndpoint"),
	    "serviceName"), "book.default");
	assert_string_equal(json_get_string(json_get(span, "remoteEndpoint"),
	    "ipv6"), "::1");
	assert_null(json_get(json_get(span, "tags"), "error"));
	json_free(j);
	sbuf_fini(&b);
	trace_span_free(sp[0]);
	trace_span_free(sp[1]);
}

static void
test_otlp(void **state)
{
	struct record		 r;
	struct span		*sp[3];
	struct sbuf		 b;
	struct json		*j;
	const struct json	*rs, *spans, *span, *attr;
	char			 err[256];
	size_t			 i;
	int			 found = 0;

	example(&r);
	sp[0] = trace_span_new(&r, NULL);
	r.span_id = s("eee19b7ec3c1b175");
	sp[2] = trace_span_new(&r, NULL);
	r.reporter = RECORD_SOURCE;
	r.source.app = s("book");
	r.source.namespace = s("default");
	sp[1] = trace_span_new(&r, NULL);
	sbuf_init(&b, 0);
	trace_otlp_write(&b, sp, 3);
	assert_non_null(j = json_parse(b.buf, b.len, err, sizeof(err)));
	rs = json_get(j, "resourceSpans");
	assert_int_equal(rs->n, 2);	/* rating.default, book.default */
	assert_string_equal(json_get_string(json_get(json_get(
	    rs->values[0], "resource"), "attributes")->values[0], "key"),
	    "service.name");
	spans = json_get(json_get(rs->values[0], "scopeSpans")->values[0],
	    "spans");
	assert_int_equal(spans->n, 2);
	span = spans->values[0];
	assert_string_equal(json_get_string(span, "traceId"),
	    "5b8efff798038103d269b633813fc60c");
	assert_string_equal(json_get_string(span, "parentSpanId"),
	    "eee19b7ec3c1b173");
	assert_true(json_get(span, "kind")->number == 2);
	assert_string_equal(json_get_string(span, "startTimeUnixNano"),
	    "1544712660000000000");
	assert_string_equal(json_get_string(span, "endTimeUnixNano"),
	    "1544712660001500000");
	assert_true(json_get(json_get(span, "status"), "code")->number == 2);
	attr = json_get(span, "attributes");
	for (i = 0; i < attr->n; i++)
		if (strcmp(json_get_string(attr->values[i], "key"),
		    "http.status_code") == 0) {
			assert_string_equal(json_get_string(json_get(
			    attr->values[i], "value"), "intValue"), "503");
			found = 1;
		}
	assert_true(found);
	spans = json_get(json_get(rs->values[1], "scopeSpans")->values[0],
	    "spans");
	assert_true(json_get(spans->values[0], "kind")->number == 3);
	json_free(j);
	sbuf_fini(&b);
	for (i = 0; i < 3; i++)
		trace_span_free(sp[i]);
}

static void
test_not_sampled(void **state)
{
	struct record	 r;

	example(&r);
	r.sampled = 0;
	assert_null(trace_span_new(&r, NULL));
	r.has &= ~RECORD_HAS_SAMPLED;
	r.sampled = 1;
	assert_null(trace_span_new(&r, NULL));
	example(&r);
	r.trace_id = s(NULL);
	assert_null(trace_span_new(&r, NULL));
}

static const char *
tag(const struct span *sp, const char *key)
{
	size_t	 i;

	for (i = 0; i < sp->ntags; i++)
		if (strcmp(sp->keys[i], key) == 0)
			return sp->values[i];
	return NULL;
}

/* The tags as Envoy's finalizeDownstreamSpan and Istio's service tags. */
static void
test_tags(void **state)
{
	struct record			 r;
	struct span			*sp;
	struct trace_span_config	 tc = { 10, "cluster.local" };
	char				 path[400], want[400];

	example(&r);
	r.has |= RECORD_HAS_REQUEST_BYTES | RECORD_HAS_RESPONSE_BYTES |
	    RECORD_HAS_REQUEST_HEAD | RECORD_HAS_RESPONSE_HEAD;
	r.request_head_bytes = 300;
	r.request_bytes = 11;
	r.response_head_bytes = 200;
	r.response_bytes = 22;
	r.destination.version = s(NULL);
	r.upstream_host = s("127.0.0.1:9080");
	memset(path, 'a', 300);
	path[0] = '/';
	path[300] = '\0';
	r.path = s(path);
	assert_non_null(sp = trace_span_new(&r, NULL));
	assert_string_equal(tag(sp, "request_size"), "11");
	assert_string_equal(tag(sp, "response_size"), "22");
	assert_string_equal(tag(sp, "peer.address"), "127.0.0.1");
	assert_string_equal(tag(sp, "upstream_address"), "127.0.0.1:9080");
	assert_string_equal(tag(sp, "user_agent"), "-");
	assert_string_equal(tag(sp, "downstream_cluster"), "-");
	assert_string_equal(tag(sp, "istio.canonical_revision"), "latest");
	assert_string_equal(tag(sp, "istio.mesh_id"), "unknown");
	/* Envoy's default max_path_tag_length: 256 */
	snprintf(want, sizeof(want), "http://rating:8080%.256s", path);
	assert_string_equal(tag(sp, "http.url"), want);
	trace_span_free(sp);
	assert_non_null(sp = trace_span_new(&r, &tc));
	assert_string_equal(tag(sp, "http.url"), "http://rating:8080/aaaaaaaaa");
	assert_string_equal(tag(sp, "istio.mesh_id"), "cluster.local");
	trace_span_free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traceparent),
		cmocka_unit_test(test_b3_single),
		cmocka_unit_test(test_b3_multi),
		cmocka_unit_test(test_read_order),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_decision_only),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_write_replaces),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_zipkin),
		cmocka_unit_test(test_otlp),
		cmocka_unit_test(test_not_sampled),
		cmocka_unit_test(test_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
