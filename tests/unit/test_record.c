/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/record.c: the records message's reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "record.h"
#include "util.h"

static void	assert_str(struct str, const char *);
static struct str s(const char *);
static int	read_one(const char *, struct record *, char *, size_t);
static void	test_round_trip(void **);
static void	test_defaults(void **);
static void	test_minimal(void **);
static void	test_refused(void **);
static void	test_batch(void **);
static void	test_headers(void **);
static void	test_service_parts(void **);
static void	test_first_wins(void **);
static void	test_keyed(void **);
static void	assert_same_record(const struct record *,
		    const struct record *);

static struct msg	 m;

static void
assert_str(struct str v, const char *want)
{
	if (want == NULL) {
		assert_null(v.p);
		return;
	}
	assert_non_null(v.p);
	assert_int_equal(v.n, strlen(want));
	assert_memory_equal(v.p, want, v.n);
}

static struct str
s(const char *p)
{
	return (struct str){ p, strlen(p) };
}

/* r and r2 the same, strings at the same bytes. */
static void
assert_same_record(const struct record *r, const struct record *r2)
{
	size_t	 i;

	/* record_clear zeroes both, padding too; the rest is assigned */
	assert_memory_equal(r, r2, offsetof(struct record, request_headers));
	assert_int_equal(r->nrequest_headers, r2->nrequest_headers);
	assert_int_equal(r->nresponse_headers, r2->nresponse_headers);
	for (i = 0; i < r->nrequest_headers; i++)
		assert_memory_equal(&r->request_headers[i],
		    &r2->request_headers[i], sizeof(r->request_headers[i]));
	for (i = 0; i < r->nresponse_headers; i++)
		assert_memory_equal(&r->response_headers[i],
		    &r2->response_headers[i], sizeof(r->response_headers[i]));
}

/*
 * The first record of a records message; header as batch.  Read twice:
 * parsed with record_keys, as stats-d does, and without; both reads
 * must agree in everything, errors included.
 */
static int
read_one(const char *text, struct record *r, char *err, size_t errlen)
{
	static struct msg	 plain;
	struct record_batch	 b;
	struct record		 r2;
	char			 err2[256] = "";
	int			 rc, rc2;

	rc = msg_parse_keyed(&m, text, strlen(text), record_keys(), err,
	    errlen);
	rc2 = msg_parse(&plain, text, strlen(text), err2, sizeof(err2));
	assert_int_equal(rc, rc2);
	if (rc == -1) {
		assert_string_equal(err, err2);
		return -2;
	}
	assert_ptr_equal(m.keyed, record_keys());
	assert_null(plain.keyed);
	assert_int_equal(m.nfields, plain.nfields);
	assert_memory_equal(m.fields, plain.fields,
	    m.nfields * sizeof(*m.fields));
	if (record_batch_read(&m, &b, err, errlen) == -1)
		return -3;
	assert_true(m.nrecords >= 1);
	memset(r, 0x5a, sizeof(*r));
	memset(&r2, 0x5a, sizeof(r2));
	rc = record_read(&m, &m.records[0], &b, r, err, errlen);
	rc2 = record_read(&plain, &plain.records[0], &b, &r2, err2,
	    sizeof(err2));
	assert_int_equal(rc, rc2);
	if (rc == -1)
		assert_string_equal(err, err2);
	else
		assert_same_record(r, &r2);
	return rc;
}

/*
 * msg_parse_keyed: each record field's key found at its place in the
 * writer's order, wherever it stands; header fields and unknown keys
 * not.
 */
static void
test_keyed(void **state)
{
	const struct msg_keys	*k = record_keys();
	const char		*text = "meshkit/1 records\nworkload: w\n"
	    "reporter: x\n\nduration-us: 2\nreporter: source\n"
	    "request-header: a: 1\nrequest-header: b: 2\nfuture: x\n"
	    "start-us: 1\nresponse-header: c: 3\n\nreporter: destination\n"
	    "start-us: 3\nduration-us: 4\nsampled: 1";
	const char		*want[] = { NULL, NULL, "duration-us",
	    "reporter", "request-header", "request-header", NULL,
	    "start-us", "response-header", "reporter", "start-us",
	    "duration-us", "sampled" };
	struct record		 r;
	char			 err[256];
	size_t			 i, j;

	/* every field the writer writes, once each, in its order */
	assert_true(k->n >= 50 && k->n < MSG_KEY_NONE);
	assert_string_equal(k->keys[0], "reporter");
	assert_string_equal(k->keys[k->n - 1], "response-header");
	for (i = 0; i < k->n; i++) {
		assert_int_equal(k->lens[i], strlen(k->keys[i]));
		for (j = 0; j < i; j++)
			assert_string_not_equal(k->keys[i], k->keys[j]);
	}
	assert_int_equal(read_one(text, &r, err, sizeof(err)), 0);
	assert_int_equal(m.nfields, nitems(want));
	for (i = 0; i < m.nfields; i++) {
		if (want[i] == NULL) {
			assert_int_equal(m.keyids[i], MSG_KEY_NONE);
			continue;
		}
		assert_int_not_equal(m.keyids[i], MSG_KEY_NONE);
		assert_string_equal(k->keys[m.keyids[i]], want[i]);
	}
	assert_int_equal(r.reporter, RECORD_SOURCE);
	assert_int_equal(r.start_us, 1);
	assert_int_equal(r.nrequest_headers, 2);
	assert_str(r.request_headers[1].value, "2");
	assert_str(r.response_headers[0].name, "c");
	/* a message parsed without the keys says so */
	assert_int_equal(msg_parse(&m, text, strlen(text), err,
	    sizeof(err)), 0);
	assert_null(m.keyed);
}

static void
test_round_trip(void **state)
{
	struct msg_writer	 w;
	struct record_batch	 b, b2;
	struct record		 r, got;
	const char		*labels[] = { "app=book", "version=v1" };
	char			 err[256];

	memset(&b, 0, sizeof(b));
	b.self.workload = s("book-v1");
	b.self.namespace = s("shop");
	b.self.principal = s("spiffe://cluster.local/ns/shop/sa/book");
	b.pid = 4242;
	b.counters[0].name = s("records-dropped");
	b.counters[0].value = 7;
	b.counters[1].name = s("records-sent");
	b.counters[1].value = 1000;
	b.ncounters = 2;

	memset(&r, 0, sizeof(r));
	r.reporter = RECORD_SOURCE;
	r.start_us = 1764000000123456ULL;
	r.duration_us = 2500;
	r.has = RECORD_HAS_REQUEST_BYTES | RECORD_HAS_RESPONSE_BYTES |
	    RECORD_HAS_UPSTREAM | RECORD_HAS_PORT | RECORD_HAS_SAMPLED |
	    RECORD_HAS_ATTEMPTS | RECORD_HAS_REQUEST_HEAD |
	    RECORD_HAS_RESPONSE_HEAD | RECORD_HAS_REQUEST_DURATION |
	    RECORD_HAS_RESPONSE_START | RECORD_HAS_CODE;
	r.request_bytes = 0;
	r.response_bytes = 45;
	r.upstream_us = 2000;
	r.request_head_bytes = 80;
	r.response_head_bytes = 120;
	r.request_duration_us = 10;
	r.response_start_us = 2100;
	r.code = 503;
	r.port = 8080;
	r.attempts = 3;
	r.sampled = 1;
	r.flags = s("UF,URX");
	r.method = s("GET");
	r.path = s("/rate/1");
	r.authority = s("rating:8080");
	r.service = s("rating.shop.svc.cluster.local");
	r.security = s("none");
	r.destination.workload = s("rating-v2");
	r.destination.namespace = s("shop");
	r.destination.app = s("rating");
	r.destination.version = s("v2");
	r.upstream_host = s("127.0.0.1:9082");
	r.trace_id = s("4bf92f3577b34da6a3ce929d0e0e4736");
	r.span_id = s("00f067aa0ba902b7");
	r.parent_span_id = s("a3ce929d0e0e4736");
	r.request_headers[0].name = s("user-agent");
	r.request_headers[0].value = s("curl/7.88");
	r.nrequest_headers = 1;
	r.response_headers[0].name = s("content-type");
	r.response_headers[0].value = s("application/json");
	r.nresponse_headers = 1;

	msgw_init(&w);
	record_batch_write(&w, &b, labels, 2);
	record_write(&w, &r);
	record_write(&w, &r);
	assert_false(w.overflow);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "records"));
	assert_int_equal(m.nrecords, 2);
	assert_int_equal(record_batch_read(&m, &b2, err, sizeof(err)), 0);
	assert_str(b2.self.workload, "book-v1");
	assert_str(b2.self.app, "book");
	assert_str(b2.self.version, "v1");
	assert_int_equal(b2.pid, 4242);
	assert_int_equal(b2.ncounters, 2);
	assert_str(b2.counters[0].name, "records-dropped");
	assert_int_equal(b2.counters[0].value, 7);
	assert_int_equal(b2.counters[1].value, 1000);

	assert_int_equal(record_read(&m, &m.records[1], &b2, &got, err,
	    sizeof(err)), 0);
	assert_int_equal(got.reporter, RECORD_SOURCE);
	assert_int_equal(got.start_us, r.start_us);
	assert_int_equal(got.duration_us, 2500);
	assert_int_equal(got.has, r.has);
	assert_int_equal(got.response_bytes, 45);
	assert_int_equal(got.request_bytes, 0);
	assert_int_equal(got.upstream_us, 2000);
	assert_int_equal(got.code, 503);
	assert_int_equal(got.port, 8080);
	assert_int_equal(got.attempts, 3);
	assert_int_equal(got.sampled, 1);
	assert_str(got.flags, "UF,URX");
	assert_str(got.path, "/rate/1");
	assert_str(got.service, "rating.shop.svc.cluster.local");
	/* the reporter's own side comes from the header */
	assert_str(got.source.workload, "book-v1");
	assert_str(got.source.namespace, "shop");
	assert_str(got.source.app, "book");
	assert_str(got.source.version, "v1");
	assert_str(got.source.principal,
	    "spiffe://cluster.local/ns/shop/sa/book");
	assert_str(got.destination.workload, "rating-v2");
	assert_str(got.destination.version, "v2");
	assert_str(got.destination.principal, NULL);
	assert_str(got.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_str(got.parent_span_id, "a3ce929d0e0e4736");
	assert_str(record_request_header(&got, "User-Agent"), "curl/7.88");
	assert_str(record_response_header(&got, "content-type"),
	    "application/json");
	assert_str(record_request_header(&got, "x-request-id"), NULL);
	msgw_fini(&w);
}

static void
test_defaults(void **state)
{
	struct record	 r;
	char		 err[256];

	assert_int_equal(read_one("meshkit/1 records\n"
	    "workload: rating-v1\nnamespace: default\n"
	    "label: app.kubernetes.io/name=rating\nlabel: version=v1\n\n"
	    "reporter: destination\nstart-us: 1\nduration-us: 2\n"
	    "source-workload: book-v1\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.reporter, RECORD_DESTINATION);
	assert_str(r.destination.workload, "rating-v1");
	assert_str(r.destination.app, "rating");
	assert_str(r.destination.version, "v1");
	assert_str(r.source.workload, "book-v1");
	assert_str(r.source.namespace, NULL);
	assert_int_equal(r.has, 0);
	assert_int_equal(r.code, 0);
	assert_true(record_is_error(&r));
	r.code = 404;
	assert_false(record_is_error(&r));
	r.code = 500;
	assert_true(record_is_error(&r));
}

static void
test_minimal(void **state)
{
	struct record	 r;
	char		 err[256];

	/* a header of nothing, unknown keys ignored */
	assert_int_equal(read_one("meshkit/1 records\n\nreporter: source\n"
	    "start-us: 0\nduration-us: 0\nfuture-field: x\n", &r, err,
	    sizeof(err)), 0);
	assert_str(r.source.workload, NULL);
	assert_str(r.service, NULL);
}

static void
test_refused(void **state)
{
	static const struct {
		const char	*record;
		const char	*reason;
	} cases[] = {
		{ "start-us: 1\nduration-us: 1\n", "missing reporter" },
		{ "reporter: source\nduration-us: 1\n", "missing start-us" },
		{ "reporter: source\nstart-us: 1\n", "missing duration-us" },
		{ "reporter: both\nstart-us: 1\nduration-us: 1\n",
		    "bad reporter" },
		{ "reporter: source\nstart-us: -1\nduration-us: 1\n",
		    "bad start-us" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1x\n",
		    "bad duration-us" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "code: 600\n", "bad code" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "code: 42\n", "bad code 42" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "port: 65536\n", "bad port" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "trace-id: 4BF92F3577B34DA6A3CE929D0E0E4736\n"
		    "span-id: 00f067aa0ba902b7\n", "bad trace-id" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "trace-id: 4bf92f3577b34da6a3ce929d0e0e47\n"
		    "span-id: 00f067aa0ba902b7\n", "bad trace-id" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "trace-id: 4bf92f3577b34da6a3ce929d0e0e4736\n",
		    "go together" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "span-id: 00f067aa0ba902b\n", "bad span-id" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "sampled: yes\n", "bad sampled" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "request-header: no colon\n", "bad request-header" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "response-header: Upper: x\n", "bad response-header" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "request-header: : x\n", "bad request-header" },
		{ "reporter: source\nstart-us: 1\nduration-us: 1\n"
		    "start-us: 99999999999999999999999\n", NULL },
	};
	struct record	 r;
	char		 text[512], err[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof(text), "meshkit/1 records\n\n%s",
		    cases[i].record);
		err[0] = '\0';
		rc = read_one(text, &r, err, sizeof(err));
		if (cases[i].reason == NULL) {
			/* a repeat of a number is not read at all */
			assert_int_equal(rc, 0);
			assert_int_equal(r.start_us, 1);
			continue;
		}
		if (rc != -1 || strstr(err, cases[i].reason) == NULL)
			fail_msg("case %zu: rc %d err \"%s\", want \"%s\"", i,
			    rc, err, cases[i].reason);
	}
}

static void
test_batch(void **state)
{
	struct record_batch	 b;
	char			 err[256];
	const char		*text;
	static const char *const bad[] = {
		"meshkit/1 records\nlabel: novalue\n",
		"meshkit/1 records\nlabel: =x\n",
		"meshkit/1 records\npid: x\n",
		"meshkit/1 records\ncounter: x\n",
		"meshkit/1 records\ncounter: Bad 1\n",
		"meshkit/1 records\ncounter: x -1\n",
		"meshkit/1 records\ncounter:  1\n",
	};
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		assert_int_equal(msg_parse(&m, bad[i], strlen(bad[i]), err,
		    sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(record_batch_read(&m, &b, err, sizeof(err)),
		    -1);
		assert_true(err[0] != '\0');
	}
	/* "app" beats app.kubernetes.io/name whichever comes first */
	text = "meshkit/1 records\nlabel: app=a\n"
	    "label: app.kubernetes.io/name=b\nlabel: app.kubernetes.io/"
	    "version=2\nlabel: version=1\nlabel: empty=\n";
	assert_int_equal(msg_parse(&m, text, strlen(text), err, sizeof(err)),
	    0);
	assert_int_equal(record_batch_read(&m, &b, err, sizeof(err)), 0);
	assert_str(b.self.app, "a");
	assert_str(b.self.version, "1");
}

static void
test_headers(void **state)
{
	struct record	 r;
	char		 text[8192], err[256];
	size_t		 i, len;

	len = (size_t)snprintf(text, sizeof(text), "meshkit/1 records\n\n"
	    "reporter: source\nstart-us: 1\nduration-us: 1\n");
	for (i = 0; i < RECORD_MAX_HEADERS + 4; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "request-header: h%zu:v%zu\n", i, i);
	assert_int_equal(read_one(text, &r, err, sizeof(err)), 0);
	/* at most 16 kept, the rest ignored */
	assert_int_equal(r.nrequest_headers, RECORD_MAX_HEADERS);
	assert_str(record_request_header(&r, "h0"), "v0");
	assert_str(record_request_header(&r, "h15"), "v15");
	assert_str(record_request_header(&r, "h16"), NULL);
}

static void
test_service_parts(void **state)
{
	struct record	 r;
	struct str	 name, ns;

	memset(&r, 0, sizeof(r));
	r.service = s("rating.shop.svc.cluster.local");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "rating");
	assert_str(ns, "shop");
	r.service = s("rating.shop.svc");
	record_service_parts(&r, &name, &ns);
	assert_str(ns, "shop");
	r.service = s("rating.shop.svc.cluster.local:8080");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "rating");
	assert_str(ns, "shop");
	r.service = s("rating");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "rating");
	assert_str(ns, NULL);
	/* a ServiceEntry's name is its whole hostname, as Istio's */
	r.service = s("api.example.com");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "api.example.com");
	assert_str(ns, NULL);
	r.service = s("svc.example");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "svc.example");
	r.service = s("a.svc.example");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "a.svc.example");
	assert_str(ns, NULL);
	/* a host not mapped: as the request gave it, never cut at a dot */
	r.service = s("10.1.2.3:9999");
	record_service_parts(&r, &name, &ns);
	assert_str(name, "10.1.2.3:9999");
	/* the namespace: the destination's, else from its identity */
	r.destination.principal = s("spiffe://cluster.local/ns/ext/sa/api");
	record_service_parts(&r, &name, &ns);
	assert_str(ns, "ext");
	r.destination.namespace = s("backend");
	record_service_parts(&r, &name, &ns);
	assert_str(ns, "backend");
	r.service = s("rating.shop.svc.cluster.local");
	record_service_parts(&r, &name, &ns);
	assert_str(ns, "shop");
	r.service_namespace = s("ext");
	record_service_parts(&r, &name, &ns);
	assert_str(ns, "ext");
	memset(&r, 0, sizeof(r));
	record_service_parts(&r, &name, &ns);
	assert_str(name, NULL);
	assert_str(ns, NULL);
}

/* host and port of an address field, as logs and filters read them */
static void
test_addr_split(void **state)
{
	static const struct {
		const char	*in, *host;
		long long	 port;
	} c[] = {
		{ "10.0.0.1:8080", "10.0.0.1", 8080 },
		{ "10.0.0.1", "10.0.0.1", 0 },
		{ "[::1]:15001", "::1", 15001 },
		{ "[::1]", "::1", 0 },
		{ "::1", "::1", 0 },
		{ "rating:80", "rating", 80 },
		{ "[fe80::1", "[fe80::1", 0 },
	};
	struct str	 h;
	long long	 port;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		h = record_addr_split((struct str){ c[i].in,
		    strlen(c[i].in) }, &port);
		assert_int_equal(h.n, strlen(c[i].host));
		assert_memory_equal(h.p, c[i].host, h.n);
		assert_int_equal(port, c[i].port);
	}
	h = record_addr_split((struct str){ NULL, 0 }, &port);
	assert_null(h.p);
	assert_int_equal(port, 0);
}

static void
test_first_wins(void **state)
{
	struct record	 r;
	char		 err[256];

	assert_int_equal(read_one("meshkit/1 records\n\nreporter: source\n"
	    "reporter: destination\nstart-us: 1\nduration-us: 1\n"
	    "code: 200\ncode: 500\nservice: a\nservice: b\nflags:\n"
	    "flags: UH\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.reporter, RECORD_SOURCE);
	assert_int_equal(r.code, 200);
	assert_str(r.service, "a");
	/* an empty value is unknown, so the next one counts */
	assert_str(r.flags, "UH");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_service_parts),
		cmocka_unit_test(test_addr_split),
		cmocka_unit_test(test_first_wins),
		cmocka_unit_test(test_keyed),
	};
	int	 rc;

	msg_init(&m);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	msg_fini(&m);
	return rc;
}
