/*
 * Unit tests of lib/authz_reply.c and lib/admit_reply.c: authz-d's and
 * breaker-d's answers as proxy-d reads them, bad ones refused with a
 * reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit_reply.h"
#include "authz_reply.h"
#include "msg.h"
#include "util.h"

static void	test_authz_reply(void **);
static void	test_authz_reply_bad(void **);
static void	test_authz_vary(void **);
static void	test_admit_reply(void **);
static void	test_admit_reply_bad(void **);
static void	test_ejection_event(void **);

static struct msg	 m;
static char		 buf[70000], err[160];

/* Parse "meshkit/1 TYPE\n\n" + rec; the record is m.records[0]. */
static const struct msg_block *
record(const char *type, const char *rec)
{
	snprintf(buf, sizeof(buf), "meshkit/1 %s\ngeneration: 1\n\n%s", type,
	    rec);
	assert_int_equal(msg_parse(&m, buf, strlen(buf), err, sizeof(err)), 0);
	assert_int_equal(m.nrecords, 1);
	return &m.records[0];
}

static void
test_authz_reply(void **state)
{
	struct authz_reply	 a;

	(void)state;
	msg_init(&m);
	assert_int_equal(authz_reply_read(&m, record("authz-reply",
	    "id: 7\ndecision: allow\nprincipal: example.com/alice\n"
	    "request-header-set: x-user:  alice \n"
	    "request-header-remove: authorization\n"
	    "request-header-set: x-empty:\n"
	    "reuse: 3000\nvary: header:authorization path\n"
	    "reason: ALLOW default/app\nfuture-key: ignored\n"),
	    &a, err, sizeof(err)), 0);
	assert_true(a.has_id);
	assert_int_equal(a.id, 7);
	assert_int_equal(a.decision, AUTHZ_REPLY_ALLOW);
	assert_true(util_str_eq(a.principal, "example.com/alice"));
	assert_int_equal(a.nops, 3);
	assert_false(a.ops[0].remove);
	assert_true(util_str_eq(a.ops[0].name, "x-user"));
	assert_true(util_str_eq(a.ops[0].value, "alice"));
	assert_true(a.ops[1].remove);
	assert_true(util_str_eq(a.ops[1].name, "authorization"));
	assert_true(util_str_eq(a.ops[2].name, "x-empty"));
	assert_int_equal(a.ops[2].value.n, 0);
	assert_int_equal(a.reuse_ms, 3000);
	assert_true(util_str_eq(a.vary, "header:authorization path"));
	assert_true(util_str_eq(a.reason, "ALLOW default/app"));

	/* deny: status defaults to 403 */
	assert_int_equal(authz_reply_read(&m, record("authz-reply",
	    "decision: deny\nbody: RBAC: access denied\n"), &a, err,
	    sizeof(err)), 0);
	assert_false(a.has_id);
	assert_int_equal(a.decision, AUTHZ_REPLY_DENY);
	assert_int_equal(a.status, 403);
	assert_true(util_str_eq(a.body, "RBAC: access denied"));
	assert_int_equal(authz_reply_read(&m, record("authz-reply",
	    "id: 1\ndecision: deny\nstatus: 401\n"
	    "body: Jwt verification fails\n"), &a, err, sizeof(err)), 0);
	assert_int_equal(a.status, 401);
	assert_int_equal(authz_reply_read(&m, record("authz-reply",
	    "decision: error\nreason: jwks not loaded\n"), &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.decision, AUTHZ_REPLY_ERROR);
	msg_fini(&m);
}

static void
test_authz_reply_bad(void **state)
{
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "id: 1\n", "decision: missing" },
		{ "decision: maybe\n", "decision: unknown" },
		{ "id: x\ndecision: allow\n", "id: not a decimal" },
		{ "decision: deny\nstatus: 200\n", "status" },
		{ "decision: deny\nstatus: 4o3\n", "status" },
		{ "decision: allow\nreuse: soon\n", "reuse" },
		{ "decision: allow\nrequest-header-set: novalue\n",
		  "request-header-set" },
		{ "decision: allow\nrequest-header-set: bad name: v\n",
		  "not a header name" },
		{ "decision: allow\nrequest-header-set: : v\n",
		  "not a header name" },
		{ "decision: allow\nrequest-header-remove: a(b)\n",
		  "not a header name" },
		{ "decision: allow\nrequest-header-set: x: a\tb\x01\n",
		  "not a header value" },
	};
	struct authz_reply	 a;
	char			 rec[8192];
	size_t			 i, n;

	(void)state;
	msg_init(&m);
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		assert_int_equal(authz_reply_read(&m, record("authz-reply",
		    bad[i].rec), &a, err, sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].rec, err,
			    bad[i].reason);
	}
	/* too many header operations */
	n = (size_t)snprintf(rec, sizeof(rec), "decision: allow\n");
	for (i = 0; i <= AUTHZ_REPLY_MAX_OPS; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n,
		    "request-header-set: x-%zu: v\n", i);
	assert_int_equal(authz_reply_read(&m, record("authz-reply", rec), &a,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header operations"));
	msg_fini(&m);
}

static void
test_authz_vary(void **state)
{
	(void)state;
	assert_true(authz_reply_vary_known(STR_LIT("")));
	assert_true(authz_reply_vary_known(STR_LIT("authority port method "
	    "path source-ip remote principal sni header:x-user")));
	assert_true(authz_reply_vary_known(STR_LIT("path,header:a")));
	assert_false(authz_reply_vary_known(STR_LIT("path moon")));
	assert_false(authz_reply_vary_known(STR_LIT("header:")));
	assert_false(authz_reply_vary_known(STR_LIT("header:a(b)")));
	assert_false(authz_reply_vary_known(STR_LIT("source")));
}

static void
test_admit_reply(void **state)
{
	struct admit_reply	 a;

	(void)state;
	msg_init(&m);
	assert_int_equal(admit_reply_read(&m, record("admit-reply",
	    "id: 3\nejected: 10.0.0.1:80 2500\nejected: [::1]:81 10\n"
	    "panic: yes\noutlier: yes\n"
	    "limits: max-connections=1 max-pending=0 "
	    "max-requests-per-connection=5 max-retries=3 "
	    "connect-timeout=250 idle-timeout=1000 later-limit=7\n"
	    "reuse: 500\nreason: DestinationRule default/r\n"), &a, err,
	    sizeof(err)), 0);
	assert_true(a.has_id);
	assert_int_equal(a.id, 3);
	assert_int_equal(a.nejected, 2);
	assert_true(util_str_eq(a.ejected[0].endpoint, "10.0.0.1:80"));
	assert_int_equal(a.ejected[0].ms_left, 2500);
	assert_true(util_str_eq(a.ejected[1].endpoint, "[::1]:81"));
	assert_true(a.panic);
	assert_true(a.outlier);
	assert_int_equal(a.limits.set, ADMIT_MAX_CONNECTIONS |
	    ADMIT_MAX_PENDING | ADMIT_MAX_REQUESTS_PER_CONNECTION |
	    ADMIT_MAX_RETRIES | ADMIT_CONNECT_TIMEOUT | ADMIT_IDLE_TIMEOUT);
	assert_int_equal(a.limits.max_connections, 1);
	assert_int_equal(a.limits.max_pending, 0);
	assert_int_equal(a.limits.max_requests_per_connection, 5);
	assert_int_equal(a.limits.max_retries, 3);
	assert_int_equal(a.limits.connect_timeout_ms, 250);
	assert_int_equal(a.limits.idle_timeout_ms, 1000);
	assert_true(a.has_reuse);
	assert_int_equal(a.reuse_ms, 500);
	assert_false(a.error);

	/* nothing said: no limits, no ejections */
	assert_int_equal(admit_reply_read(&m, record("admit-reply",
	    "id: 0\n"), &a, err, sizeof(err)), 0);
	assert_int_equal(a.limits.set, 0);
	assert_int_equal(a.nejected, 0);
	assert_false(a.panic);
	assert_false(a.has_reuse);
	assert_int_equal(admit_reply_read(&m, record("admit-reply",
	    "id: 0\nstatus: error\nreason: bad question\n"), &a, err,
	    sizeof(err)), 0);
	assert_true(a.error);
	msg_fini(&m);
}

static void
test_admit_reply_bad(void **state)
{
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "id: -1\n", "id" },
		{ "limits: max-connections\n", "name=number" },
		{ "limits: max-connections=x\n", "not a number" },
		{ "limits: max-connections=-1\n", "not a number" },
		{ "ejected: 10.0.0.1\n", "ejected" },
		{ "ejected: 10.0.0.1:80 soon\n", "ms-left" },
		{ "reuse: x\n", "reuse" },
	};
	struct admit_reply	 a;
	size_t			 i;

	(void)state;
	msg_init(&m);
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		assert_int_equal(admit_reply_read(&m, record("admit-reply",
		    bad[i].rec), &a, err, sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].rec, err,
			    bad[i].reason);
	}
	msg_fini(&m);
}

static void
test_ejection_event(void **state)
{
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "endpoint: 1.2.3.4:80\nevent: eject\n", "service" },
		{ "service: s\nevent: eject\n", "endpoint" },
		{ "service: s\nendpoint: 1.2.3.4:80\n", "event" },
		{ "service: s\nendpoint: 1.2.3.4:80\nevent: explode\n",
		  "event" },
		{ "service: s\nendpoint: 1.2.3.4:80\nevent: eject\n"
		  "port: 70000\n", "port" },
		{ "service: s\nendpoint: 1.2.3.4:80\nevent: eject\n"
		  "ejection-ms: long\n", "ejection-ms" },
	};
	struct ejection_event	 e;
	size_t			 i;

	(void)state;
	msg_init(&m);
	assert_int_equal(ejection_event_read(&m, record("breaker-event",
	    "service: rating.default.svc.cluster.local\nsubset: v2\n"
	    "port: 9080\nendpoint: 127.0.0.1:9082\nevent: eject\n"
	    "ejection-ms: 30000\nejections: 2\nreason: 1 consecutive 5xx\n"),
	    &e, err, sizeof(err)), 0);
	assert_true(util_str_eq(e.service,
	    "rating.default.svc.cluster.local"));
	assert_true(util_str_eq(e.subset, "v2"));
	assert_int_equal(e.port, 9080);
	assert_true(util_str_eq(e.endpoint, "127.0.0.1:9082"));
	assert_true(e.eject);
	assert_int_equal(e.ejection_ms, 30000);
	assert_int_equal(e.ejections, 2);
	assert_true(util_str_eq(e.reason, "1 consecutive 5xx"));
	assert_int_equal(ejection_event_read(&m, record("breaker-event",
	    "service: s\nendpoint: 1.2.3.4:80\nevent: return\n"), &e, err,
	    sizeof(err)), 0);
	assert_false(e.eject);
	assert_int_equal(e.subset.n, 0);
	assert_int_equal(e.port, 0);
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		assert_int_equal(ejection_event_read(&m, record(
		    "breaker-event", bad[i].rec), &e, err, sizeof(err)), -1);
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
		cmocka_unit_test(test_authz_reply),
		cmocka_unit_test(test_authz_reply_bad),
		cmocka_unit_test(test_authz_vary),
		cmocka_unit_test(test_admit_reply),
		cmocka_unit_test(test_admit_reply_bad),
		cmocka_unit_test(test_ejection_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
