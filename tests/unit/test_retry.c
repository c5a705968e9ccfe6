/* SPDX-License-Identifier: ISC */
/* lib/retry.c: Envoy's retry conditions and back-off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "retry.h"

static struct retry_policy
parse_ok(const char *s)
{
	struct retry_policy	 p;
	char			 err[128];

	memset(&p, 0, sizeof(p));
	assert_int_equal(retry_on_parse(s, &p, err, sizeof(err)), 0);
	return p;
}

static void
test_parse(void **state)
{
	struct retry_policy	 p;
	char			 err[128];

	(void)state;
	p = parse_ok("5xx,connect-failure, 409 ,retriable-4xx");
	assert_int_equal(p.on, RETRY_ON_5XX | RETRY_ON_CONNECT_FAILURE |
	    RETRY_ON_STATUS_CODES | RETRY_ON_RETRIABLE_4XX);
	assert_int_equal(p.ncodes, 1);
	assert_int_equal(p.codes[0], 409);
	p = parse_ok(RETRY_DEFAULT_ON);
	assert_int_equal(p.on, RETRY_ON_CONNECT_FAILURE |
	    RETRY_ON_REFUSED_STREAM | RETRY_ON_UNAVAILABLE | RETRY_ON_CANCELLED);
	p = parse_ok("");
	assert_int_equal(p.on, 0);
	assert_int_equal(retry_on_parse("5xx,bogus", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(retry_on_parse("5xx,", &p, err, sizeof(err)), -1);
	assert_int_equal(retry_on_parse(",5xx", &p, err, sizeof(err)), -1);
	assert_int_equal(retry_on_parse("600", &p, err, sizeof(err)), -1);
	assert_int_equal(retry_on_parse("5000", &p, err, sizeof(err)), -1);
	assert_int_equal(retry_on_parse(
	    "500,501,502,503,504,505,506,507,508,509,510,511,512,513,514,515,"
	    "516", &p, err, sizeof(err)), -1);
}

static void
test_wanted(void **state)
{
	struct retry_policy	 p;

	(void)state;
	p = parse_ok("5xx");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 503, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 500, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 404, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 200, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_CONNECT_FAILURE, 0, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESET, 0, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_TIMEOUT, 0, -1));

	p = parse_ok("gateway-error");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 502, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 504, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 500, -1));

	p = parse_ok("connect-failure");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_CONNECT_FAILURE, 0, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESET, 0, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 503, -1));

	p = parse_ok("reset");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESET, 0, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_TIMEOUT, 0, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 503, -1));

	p = parse_ok("retriable-4xx,429");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 409, -1));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 429, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 400, -1));

	p = parse_ok("unavailable,cancelled");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 200, 14));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 200, 1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 200, 4));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 503, -1));
	p = parse_ok("refused-stream");
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESET, 0, -1));
	p = parse_ok("internal,reset-before-request,envoy-ratelimited,"
	    "retriable-headers,http3-post-connect-failure");
	assert_true(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 200, 13));
	assert_true(retry_wanted(&p, RETRY_OUTCOME_CONNECT_FAILURE, 0, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESET, 0, -1));
	assert_false(retry_wanted(&p, RETRY_OUTCOME_RESPONSE, 503, -1));
	/* route-d's validation and proxy-d agree on every word */
	assert_true(retry_condition_known("internal", 8));
	assert_true(retry_condition_known("503", 3));
	assert_false(retry_condition_known("600", 3));
	assert_false(retry_condition_known("bogus", 5));
}

static void
test_backoff(void **state)
{
	uint64_t	 r;

	(void)state;
	assert_int_equal(retry_backoff_ms(0, 25, 250, 12345), 0);
	/* first retry: [0, 25] */
	for (r = 0; r < 1000; r += 7)
		assert_true(retry_backoff_ms(1, 25, 250, r) <= 25);
	assert_int_equal(retry_backoff_ms(1, 25, 250, 25), 25);
	assert_int_equal(retry_backoff_ms(1, 25, 250, 26), 0);
	/* second: [0, 75]; later ones capped at max */
	assert_int_equal(retry_backoff_ms(2, 25, 250, 75), 75);
	assert_true(retry_backoff_ms(30, 25, 250, UINT64_MAX) <= 250);
	assert_int_equal(retry_backoff_ms(10, 25, 250, 250), 250);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
