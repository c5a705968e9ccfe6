/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/route_wire.c: questions and the source header read,
 * bad ones refused with a reason, answers written and read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "route.h"
#include "util.h"

static void	test_query_read(void **);
static void	test_answer_round_trip(void **);
static void	test_answer_read(void **);

static void
test_query_read(void **state)
{
	static const char full[] = "meshkit/1 route\n\n"
	    "id: 12\nlistener: inbound\nauthority: a.b:81\nport: 8080\n"
	    "method: GET\npath: /x?y=1\nscheme: https\nsource: 1.2.3.4:5\n"
	    "header: x-user: alice\nheader: x-empty:\nunknown-key: zz\n"
	    "authority: second-ignored\n";
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "authority: a\n", "id: missing" },
		{ "id: x\nauthority: a\n", "id: not a decimal" },
		{ "id: 1\n", "authority: missing" },
		{ "id: 1\nauthority:\n", "authority: missing" },
		{ "id: 1\nauthority: a\nport: 0\n", "port: want" },
		{ "id: 1\nauthority: a\nport: 65536\n", "port: want" },
		{ "id: 1\nauthority: a\nlistener: sideways\n", "listener" },
		{ "id: 1\nauthority: a\nscheme: ftp\n", "scheme" },
		{ "id: 1\nauthority: a\nheader: novalue\n", "header" },
		{ "id: 1\nauthority: a\nheader: : v\n", "header" },
	};
	struct msg		 m;
	struct route_query	 q;
	char			 err[128], buf[256];
	size_t			 i;

	msg_init(&m);
	assert_int_equal(msg_parse(&m, full, sizeof(full) - 1, err,
	    sizeof(err)), 0);
	assert_int_equal(route_query_read(&m, &m.records[0], &q, err,
	    sizeof(err)), 0);
	assert_int_equal(q.id, 12);
	assert_true(q.inbound);
	assert_true(util_str_eq(q.authority, "a.b:81"));
	assert_int_equal(q.port, 8080);
	assert_true(util_str_eq(q.method, "GET"));
	assert_true(util_str_eq(q.path, "/x?y=1"));
	assert_true(util_str_eq(q.scheme, "https"));
	assert_true(util_str_eq(q.source, "1.2.3.4:5"));
	assert_int_equal(q.nheaders, 2);
	assert_true(util_str_eq(q.header_names[0], "x-user"));
	assert_true(util_str_eq(q.header_values[0], "alice"));
	assert_true(util_str_eq(q.header_names[1], "x-empty"));
	assert_int_equal(q.header_values[1].n, 0);

	/* defaults */
	snprintf(buf, sizeof(buf), "meshkit/1 route\n\nid: 1\nauthority: a\n");
	assert_int_equal(msg_parse(&m, buf, strlen(buf), err, sizeof(err)), 0);
	assert_int_equal(route_query_read(&m, &m.records[0], &q, err,
	    sizeof(err)), 0);
	assert_false(q.inbound);
	assert_int_equal(q.port, 0);
	assert_true(util_str_eq(q.scheme, "http"));
	assert_null(q.method.p);
	assert_int_equal(q.nheaders, 0);

	for (i = 0; i < nitems(bad); i++) {
		snprintf(buf, sizeof(buf), "meshkit/1 route\n\n%s", bad[i].rec);
		assert_int_equal(msg_parse(&m, buf, strlen(buf), err,
		    sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(route_query_read(&m, &m.records[0], &q, err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].rec, err,
			    bad[i].reason);
	}
	msg_fini(&m);
}

static void
test_answer_round_trip(void **state)
{
	struct route_answer	 a, b;
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];

	memset(&a, 0, sizeof(a));
	a.id = 99;
	a.has_id = 1;
	a.status = ROUTE_OK;
	util_strlcpy(a.service, "rating.default.svc.cluster.local",
	    sizeof(a.service));
	util_strlcpy(a.subset, "v2", sizeof(a.subset));
	util_strlcpy(a.endpoints[0].address, "127.0.0.1:9081",
	    sizeof(a.endpoints[0].address));
	a.endpoints[0].weight = 1;
	util_strlcpy(a.endpoints[1].address, "[::1]:9082",
	    sizeof(a.endpoints[1].address));
	a.endpoints[1].weight = 70;
	a.nendpoints = 2;
	a.lb = ROUTE_LB_LEAST_REQUEST;
	a.reuse_ms = 1500;
	util_strlcpy(a.vary, "authority listener header:x-user",
	    sizeof(a.vary));
	a.timeout_ms = 250;
	util_strlcpy(a.reason, "because\nstatus: error", sizeof(a.reason));

	msgw_init(&w);
	msg_init(&m);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &a);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), 0);
	assert_true(b.has_id);
	assert_int_equal(b.id, 99);
	assert_int_equal(b.status, ROUTE_OK);
	assert_string_equal(b.service, a.service);
	assert_string_equal(b.subset, "v2");
	assert_int_equal(b.nendpoints, 2);
	assert_string_equal(b.endpoints[1].address, "[::1]:9082");
	assert_int_equal(b.endpoints[1].weight, 70);
	assert_int_equal(b.lb, ROUTE_LB_LEAST_REQUEST);
	assert_int_equal(b.reuse_ms, 1500);
	assert_string_equal(b.vary, a.vary);
	assert_int_equal(b.timeout_ms, 250);
	/* the newline in the reason could not forge a status */
	assert_string_equal(b.reason, "because status: error");

	/* no-route and error answers say so */
	a.status = ROUTE_NO_ROUTE;
	a.nendpoints = 0;
	msgw_reset(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &a);
	assert_non_null(strstr(w.buf, "status: no-route\n"));
	assert_null(strstr(w.buf, "lb:"));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.status, ROUTE_NO_ROUTE);
	a.status = ROUTE_ERROR;
	msgw_reset(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &a);
	/* an error is never to be reused */
	assert_null(strstr(w.buf, "reuse:"));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.status, ROUTE_ERROR);
	assert_int_equal(b.reuse_ms, 0);
	msg_fini(&m);
	msgw_fini(&w);
}

static void
test_answer_read(void **state)
{
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "id: -1\n", "id:" },
		{ "status: maybe\n", "status: unknown" },
		{ "endpoint: web.local:80\n", "endpoint:" },
		{ "endpoint: 10.0.0.1\n", "endpoint:" },
		{ "endpoint: unix:/x\n", "endpoint:" },
		{ "endpoint: 10.0.0.1:80 weight=0\n", "bad weight" },
		{ "endpoint: 10.0.0.1:80 weight=x\n", "bad weight" },
		{ "reuse: soon\n", "reuse:" },
		{ "timeout: 1s\n", "timeout:" },
	};
	struct msg		 m;
	struct route_answer	 a;
	char			 err[128], buf[256];
	const char		*s;
	size_t			 i;

	msg_init(&m);
	/* the fixed reply of the man page's nngcat stand-in */
	s = "meshkit/1 route-reply\n\nendpoint: 127.0.0.1:9080";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_false(a.has_id);
	assert_int_equal(a.status, ROUTE_OK);
	assert_int_equal(a.nendpoints, 1);
	assert_string_equal(a.endpoints[0].address, "127.0.0.1:9080");
	assert_int_equal(a.endpoints[0].weight, 1);
	assert_int_equal(a.lb, ROUTE_LB_ROUND_ROBIN);
	assert_int_equal(a.reuse_ms, 0);
	assert_string_equal(a.vary, "authority listener");

	/* words of later versions and unknown lb names are tolerated */
	s = "meshkit/1 route-reply\n\nid: 3\nlb: maglev\nnew-key: 1\n"
	    "endpoint: 10.0.0.1:80 zone=a weight=4\n";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.id, 3);
	assert_int_equal(a.lb, ROUTE_LB_ROUND_ROBIN);
	assert_int_equal(a.endpoints[0].weight, 4);

	for (i = 0; i < nitems(bad); i++) {
		snprintf(buf, sizeof(buf), "meshkit/1 route-reply\n\n%s",
		    bad[i].rec);
		assert_int_equal(msg_parse(&m, buf, strlen(buf), err,
		    sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(route_answer_read(&m, &m.records[0], &a, err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].rec, err,
			    bad[i].reason);
	}
	msg_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_read),
		cmocka_unit_test(test_answer_round_trip),
		cmocka_unit_test(test_answer_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
