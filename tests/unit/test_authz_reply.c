/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/authz_reply.c: authz-d's answers as proxy-d reads
 * them, bad ones refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authz_reply.h"
#include "msg.h"
#include "util.h"

static void	test_authz_reply(void **);
static void	test_authz_reply_bad(void **);
static void	test_authz_vary(void **);

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authz_reply),
		cmocka_unit_test(test_authz_reply_bad),
		cmocka_unit_test(test_authz_vary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
