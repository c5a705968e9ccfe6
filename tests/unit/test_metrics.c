/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/metrics.c and lib/sbuf.c: Istio's metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "metrics.h"
#include "record.h"
#include "sbuf.h"
#include "util.h"

static struct str s(const char *);
static void	record_example(struct record *);
static void	assert_has_line(const char *, const char *);
static void	test_series(void **);
static void	test_histogram(void **);
static void	test_overflow(void **);
static void	test_escape(void **);
static void	test_quantile(void **);
static void	test_disabled(void **);
static void	test_sbuf(void **);
static void	test_label_values(void **);
static void	test_cursor(void **);

static struct str
s(const char *p)
{
	return (struct str){ p, strlen(p) };
}

static void
record_example(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->reporter = RECORD_SOURCE;
	r->start_us = 1;
	r->duration_us = 3000;		/* 3 ms */
	r->code = 200;
	r->service = s("rating.default.svc.cluster.local");
	r->source.workload = s("book-v1");
	r->source.namespace = s("default");
	r->source.app = s("book");
	r->source.version = s("v1");
	r->destination.workload = s("rating-v1");
	r->destination.namespace = s("default");
	r->destination.app = s("rating");
	r->destination.version = s("v1");
	r->request_head_bytes = 100;
	r->response_head_bytes = 50;
	r->response_bytes = 950;
}

static void
assert_has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

#define LABELS(code, wl) "response_code=\"" code "\",reporter=\"source\"," \
	"source_workload=\"book-v1\",source_workload_namespace=\"default\"," \
	"source_principal=\"unknown\",source_app=\"book\",source_version=" \
	"\"v1\",destination_workload=\"" wl "\"," \
	"destination_workload_namespace=\"default\",destination_principal=" \
	"\"unknown\",destination_app=\"rating\",destination_version=\"v1\"," \
	"destination_service=\"rating.default.svc.cluster.local\"," \
	"destination_service_name=\"rating\"," \
	"destination_service_namespace=\"default\",request_protocol=" \
	"\"http\",response_flags=\"-\",grpc_response_status=\"\"," \
	"connection_security_policy=\"unknown\""

static void
test_series(void **state)
{
	struct metrics	 m;
	struct record	 r;
	struct sbuf	 b;

	metrics_init(&m, 0);
	sbuf_init(&b, 0);
	record_example(&r);
	metrics_add(&m, &r, 0);
	metrics_add(&m, &r, 0);
	r.code = 503;
	r.flags = s("UF,URX");
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 2);
	metrics_write(&m, &b);
	assert_false(b.overflow);
	assert_has_line(b.buf, "# TYPE istio_requests_total counter");
	assert_has_line(b.buf, "# TYPE istio_request_duration_milliseconds "
	    "histogram");
	assert_has_line(b.buf, "# TYPE istio_request_bytes histogram");
	assert_has_line(b.buf, "# TYPE istio_response_bytes histogram");
	assert_has_line(b.buf, "istio_requests_total{" LABELS("200",
	    "rating-v1") "} 2");
	assert_non_null(strstr(b.buf, "response_code=\"503\""));
	assert_non_null(strstr(b.buf, "response_flags=\"UF,URX\""));
	/* 3 ms: not in le=1, in le=5 */
	assert_has_line(b.buf, "istio_request_duration_milliseconds_bucket{"
	    LABELS("200", "rating-v1") ",le=\"1\"} 0");
	assert_has_line(b.buf, "istio_request_duration_milliseconds_bucket{"
	    LABELS("200", "rating-v1") ",le=\"5\"} 2");
	assert_has_line(b.buf, "istio_request_duration_milliseconds_bucket{"
	    LABELS("200", "rating-v1") ",le=\"+Inf\"} 2");
	assert_has_line(b.buf, "istio_request_duration_milliseconds_sum{"
	    LABELS("200", "rating-v1") "} 6");
	assert_has_line(b.buf, "istio_request_duration_milliseconds_count{"
	    LABELS("200", "rating-v1") "} 2");
	/* head and body: 100 in, 1000 out */
	assert_has_line(b.buf, "istio_request_bytes_sum{" LABELS("200",
	    "rating-v1") "} 200");
	assert_has_line(b.buf, "istio_response_bytes_bucket{" LABELS("200",
	    "rating-v1") ",le=\"1000\"} 2");
	assert_has_line(b.buf, "istio_response_bytes_bucket{" LABELS("200",
	    "rating-v1") ",le=\"500\"} 0");
	assert_has_line(b.buf, "istio_request_duration_milliseconds_bucket{"
	    LABELS("200", "rating-v1") ",le=\"0.5\"} 0");
	sbuf_fini(&b);
	metrics_fini(&m);

	/* said outright, the defaults are the same labels: the same series */
	metrics_init(&m, 0);
	sbuf_init(&b, 0);
	record_example(&r);
	metrics_add(&m, &r, 0);
	r.source.principal = s("unknown");
	r.flags = s("-");
	r.security = s("unknown");
	r.grpc_status = s("");
	r.request_protocol = s("http");
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 1);
	/* a code whose low byte is 0 */
	r.code = 256;
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 2);
	metrics_write(&m, &b);
	assert_has_line(b.buf, "istio_requests_total{" LABELS("200",
	    "rating-v1") "} 2");
	assert_has_line(b.buf, "istio_requests_total{" LABELS("256",
	    "rating-v1") "} 1");
	sbuf_fini(&b);
	metrics_fini(&m);
}

static void
test_histogram(void **state)
{
	struct metrics_histogram h;

	assert_int_equal(metrics_bucket(0), 0);
	assert_int_equal(metrics_bucket(0.5), 0);
	assert_int_equal(metrics_bucket(0.51), 1);
	assert_int_equal(metrics_bucket(1), 1);
	assert_int_equal(metrics_bucket(3600000), METRICS_NBUCKETS - 1);
	assert_int_equal(metrics_bucket(3600001), METRICS_NBUCKETS);
	memset(&h, 0, sizeof(h));
	metrics_histogram_add(&h, 7);
	metrics_histogram_add(&h, 7000000);
	assert_int_equal(h.count, 2);
	assert_int_equal(h.counts[3], 1);
	assert_int_equal(h.counts[METRICS_NBUCKETS], 1);
	assert_true(h.sum == 7000007);
}

static void
test_overflow(void **state)
{
	struct metrics	 m;
	struct record	 r;
	struct sbuf	 b;
	char		 name[32];
	int		 i;

	metrics_init(&m, 3);
	sbuf_init(&b, 0);
	record_example(&r);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "wl-%d", i);
		r.destination.workload = s(name);
		metrics_add(&m, &r, 0);
	}
	/* an existing series still counts after the cap */
	r.destination.workload = s("wl-0");
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 3);
	assert_int_equal(m.overflowed, 7);
	metrics_write(&m, &b);
	assert_non_null(strstr(b.buf, "istio_requests_total{response_code="
	    "\"overflow\",reporter=\"overflow\","));
	assert_non_null(strstr(b.buf, "connection_security_policy="
	    "\"overflow\"} 7\n"));
	assert_has_line(b.buf, "istio_requests_total{" LABELS("200", "wl-0")
	    "} 2");
	/* the cap rises on reload: new series are kept again */
	metrics_set_max_series(&m, 4);
	r.destination.workload = s("wl-new");
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 4);
	assert_int_equal(m.overflowed, 7);
	sbuf_fini(&b);
	metrics_fini(&m);
}

static void
test_escape(void **state)
{
	struct metrics	 m;
	struct record	 r;
	struct sbuf	 b;
	char		 longname[400];

	metrics_init(&m, 0);
	sbuf_init(&b, 0);
	record_example(&r);
	r.source.workload = s("a\"b\\c\nd");
	r.source.app = s("bad\xff" "byte");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	r.destination.workload = s(longname);
	metrics_add(&m, &r, 0);
	metrics_write(&m, &b);
	assert_non_null(strstr(b.buf, "source_workload=\"a\\\"b\\\\c\\nd\""));
	assert_non_null(strstr(b.buf, "source_app=\"bad\xef\xbf\xbd" "byte\""));
	/* cut at 128 bytes */
	memset(longname, 'x', 128);
	longname[128] = '"';
	longname[129] = '\0';
	assert_non_null(strstr(b.buf, longname));
	sbuf_fini(&b);
	metrics_fini(&m);
}

static void
test_quantile(void **state)
{
	uint64_t	 c[METRICS_NBUCKETS + 1];

	memset(c, 0, sizeof(c));
	assert_true(isnan(metrics_quantile(c, 0.5)));
	/* 10 in (1, 5]: the median is interpolated to 3 */
	c[2] = 10;
	assert_true(fabs(metrics_quantile(c, 0.5) - 3) < 1e-9);
	assert_true(fabs(metrics_quantile(c, 1) - 5) < 1e-9);
	/* 90 in (0, 0.5], 10 in (100, 250]: p99 at 235 */
	memset(c, 0, sizeof(c));
	c[0] = 90;
	c[7] = 10;
	assert_true(fabs(metrics_quantile(c, 0.99) - 235) < 1e-9);
	assert_true(metrics_quantile(c, 0.5) <= 0.5);
	/* all in +Inf: the highest finite bound */
	memset(c, 0, sizeof(c));
	c[METRICS_NBUCKETS] = 3;
	assert_true(metrics_quantile(c, 0.5) == 3600000);
}

static void
test_disabled(void **state)
{
	struct metrics	 m;
	struct record	 r;
	struct sbuf	 b;

	metrics_init(&m, 0);
	sbuf_init(&b, 0);
	record_example(&r);
	metrics_add(&m, &r, METRICS_REQUEST_SIZE | METRICS_RESPONSE_SIZE);
	metrics_write(&m, &b);
	assert_non_null(strstr(b.buf, "istio_requests_total{"));
	assert_non_null(strstr(b.buf, "istio_request_duration_milliseconds_"
	    "bucket{"));
	assert_null(strstr(b.buf, "istio_request_bytes_bucket{"));
	assert_null(strstr(b.buf, "istio_response_bytes_sum{"));
	sbuf_fini(&b);
	metrics_fini(&m);
}

static void
test_sbuf(void **state)
{
	struct sbuf	 b;

	sbuf_init(&b, 16);
	sbuf_adds(&b, "0123456789");
	sbuf_adds(&b, "0123456789");
	assert_true(b.overflow);
	assert_int_equal(b.len, 10);
	sbuf_reset(&b);
	assert_false(b.overflow);
	sbuf_json_string(&b, "a\"\x01", 3);
	assert_string_equal(b.buf, "\"a\\\"\\u0001\"");
	sbuf_fini(&b);

	sbuf_init(&b, 0);
	sbuf_json_escape(&b, "\xc3\xa9\xff\xe2\x82", 5);
	assert_string_equal(b.buf, "\xc3\xa9\\ufffd\\ufffd\\ufffd");
	sbuf_reset(&b);
	sbuf_double(&b, 0.5);
	sbuf_addc(&b, ' ');
	sbuf_double(&b, 1800000);
	sbuf_addc(&b, ' ');
	sbuf_double(&b, 0.1);
	sbuf_addc(&b, ' ');
	sbuf_double(&b, NAN);
	sbuf_addc(&b, ' ');
	sbuf_double(&b, -INFINITY);
	assert_string_equal(b.buf, "0.5 1800000 0.1 NaN -Inf");
	sbuf_reset(&b);
	sbuf_u64(&b, 0);
	sbuf_u64(&b, UINT64_MAX);
	assert_string_equal(b.buf, "018446744073709551615");
	sbuf_reset(&b);
	sbuf_html_escape(&b, "<a href='x'>&\"", 14);
	assert_string_equal(b.buf,
	    "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
	assert_int_equal(sbuf_utf8_cut("ab\xc3\xa9", 4, 3), 2);
	assert_int_equal(sbuf_utf8_cut("ab\xc3\xa9", 4, 4), 4);
	sbuf_fini(&b);
}

/*
 * Labels only Istio's values fill: a security word of its own is
 * unknown (and counted), a grpc-status on a request that is not gRPC
 * is "", and a host that is no .svc name keeps its dots.
 */
static void
test_label_values(void **state)
{
	struct metrics	 m;
	struct record	 r;
	struct sbuf	 b;

	metrics_init(&m, 0);
	sbuf_init(&b, 0);
	record_example(&r);
	r.security = s("plaintext\",evil=\"1");
	r.grpc_status = s("14");
	metrics_add(&m, &r, 0);
	assert_int_equal(m.bad_security, 1);
	/* the same series as a record that says nothing of either */
	record_example(&r);
	metrics_add(&m, &r, 0);
	assert_int_equal(metrics_nseries(&m), 1);
	assert_int_equal(m.bad_security, 1);
	metrics_write(&m, &b);
	assert_has_line(b.buf, "istio_requests_total{" LABELS("200",
	    "rating-v1") "} 2");
	assert_null(strstr(b.buf, "plaintext"));
	assert_null(strstr(b.buf, "grpc_response_status=\"14\""));
	/* gRPC: its status is a label */
	r.request_protocol = s("grpc");
	r.grpc_status = s("14");
	r.security = s("mutual_tls");
	metrics_add(&m, &r, 0);
	sbuf_reset(&b);
	metrics_write(&m, &b);
	assert_non_null(strstr(b.buf, "request_protocol=\"grpc\","
	    "response_flags=\"-\",grpc_response_status=\"14\","
	    "connection_security_policy=\"mutual_tls\"} 1\n"));
	/* a ServiceEntry's host, a bare address */
	record_example(&r);
	r.service = s("svc.example");
	r.destination.namespace = s("ext");
	metrics_add(&m, &r, 0);
	r.service = s("10.1.2.3:9999");
	metrics_add(&m, &r, 0);
	sbuf_reset(&b);
	metrics_write(&m, &b);
	assert_non_null(strstr(b.buf, "destination_service=\"svc.example\","
	    "destination_service_name=\"svc.example\","
	    "destination_service_namespace=\"ext\","));
	assert_non_null(strstr(b.buf, "destination_service_name=\"10.1.2.3:"
	    "9999\",destination_service_namespace=\"ext\","));
	sbuf_fini(&b);
	metrics_fini(&m);
}

/* Pieces of any size make the same text as metrics_write, header once. */
static void
test_cursor(void **state)
{
	struct metrics		 m;
	struct metrics_cursor	 c;
	struct record		 r;
	struct sbuf		 whole, pieces, one;
	char			 wl[32];
	size_t			 maxes[] = { 1, 1000, 100000 }, k, n;
	int			 i, more;

	metrics_init(&m, 0);
	sbuf_init(&whole, 0);
	for (i = 0; i < 40; i++) {
		record_example(&r);
		snprintf(wl, sizeof(wl), "rating-%d", i);
		r.destination.workload = s(wl);
		metrics_add(&m, &r, i % 3 == 0 ? METRICS_REQUEST_SIZE : 0);
	}
	metrics_write(&m, &whole);
	for (k = 0; k < nitems(maxes); k++) {
		sbuf_init(&pieces, 0);
		metrics_cursor_init(&c, &m);
		/* a series made now waits for the next scrape */
		record_example(&r);
		r.destination.workload = s("late");
		metrics_add(&m, &r, 0);
		n = 0;
		do {
			sbuf_init(&one, 0);
			more = metrics_cursor_write(&c, &one, maxes[k]);
			assert_true(one.len > 0);
			if (more)
				assert_true(one.len >= maxes[k]);
			sbuf_add(&pieces, one.buf, one.len);
			sbuf_fini(&one);
			n++;
		} while (more);
		metrics_cursor_fini(&c);
		assert_int_equal(pieces.len, whole.len);
		assert_memory_equal(pieces.buf, whole.buf, whole.len);
		if (maxes[k] == 1)
			assert_true(n > 40);
		sbuf_fini(&pieces);
		metrics_fini(&m);
		metrics_init(&m, 0);
		for (i = 0; i < 40; i++) {
			record_example(&r);
			snprintf(wl, sizeof(wl), "rating-%d", i);
			r.destination.workload = s(wl);
			metrics_add(&m, &r, i % 3 == 0 ?
			    METRICS_REQUEST_SIZE : 0);
		}
	}
	sbuf_fini(&whole);
	metrics_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_sbuf),
		cmocka_unit_test(test_label_values),
		cmocka_unit_test(test_cursor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
