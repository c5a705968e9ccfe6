/*
 * Unit tests of the config module's warnings: every field meshkit reads
 * and checks but does not act on is a warning at its position, tagged
 * with its resource's kind, and the load still succeeds; --strict
 * (cfg_errors_strict) makes them errors.  Fixtures are written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

struct loaded {
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*text;
};

static void	 collect(const char *, void *);
static void	 load(struct loaded *, const char *);
static void	 done(struct loaded *);
static void	 assert_has(const struct loaded *, const char *);
static void	 assert_warns(const char *, const char *);
static void	 test_mechanism(void **);
static void	 test_kind_filter(void **);
static void	 test_strict(void **);
static void	 test_dr_tunnel(void **);

#define DR_HEAD \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata: {name: r}\n" \
	"spec:\n" \
	"  host: r.example\n"

static void
collect(const char *line, void *arg)
{
	char	**text = arg;
	char	 *n;

	xasprintf(&n, "%s%s\n", *text != NULL ? *text : "", line);
	free(*text);
	*text = n;
}

static void
load(struct loaded *l, const char *yaml)
{
	memset(l, 0, sizeof(*l));
	l->cfg = config_load_buffer("w.yaml", yaml, strlen(yaml), &l->errs);
	cfg_errors_print(&l->errs, 1, collect, &l->text);
	if (l->text == NULL)
		l->text = xstrdup("");
}

static void
done(struct loaded *l)
{
	config_free(l->cfg);
	cfg_errors_fini(&l->errs);
	free(l->text);
}

static void
assert_has(const struct loaded *l, const char *want)
{
	if (strstr(l->text, want) == NULL)
		fail_msg("want \"%s\" in:\n%s", want, l->text);
}

/* yaml loads, with no error and the warning want among its messages */
static void
assert_warns(const char *yaml, const char *want)
{
	struct loaded	 l;

	load(&l, yaml);
	if (l.cfg == NULL || l.errs.nerrors != 0)
		fail_msg("want a load with warnings, got:\n%s", l.text);
	assert_true(l.errs.nwarnings > 0);
	assert_has(&l, want);
	done(&l);
}

static void
test_mechanism(void **state)
{
	struct cfg_errors	 errs;
	char			*text = NULL;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	cfg_errors_add(&errs, "a.yaml", 3, 5, CFG_WARNING, "x is ignored");
	cfg_errors_add(&errs, "a.yaml", 4, 1, CFG_NOTICE, "skipping kind K");
	cfg_errors_add(&errs, "a.yaml", 9, 2, CFG_ERROR, "bad");
	assert_int_equal(errs.nerrors, 1);
	assert_int_equal(errs.nwarnings, 1);
	assert_true(errs.v[0].notice && errs.v[0].warning);
	assert_true(errs.v[1].notice && !errs.v[1].warning);
	cfg_errors_print(&errs, 1, collect, &text);
	assert_string_equal(text, "a.yaml:3:5: warning: x is ignored\n"
	    "a.yaml:4:1: notice: skipping kind K\n"
	    "a.yaml:9:2: bad\n");
	free(text);
	text = NULL;
	cfg_errors_print(&errs, 0, collect, &text);
	assert_string_equal(text, "a.yaml:9:2: bad\n");
	free(text);
	cfg_errors_fini(&errs);
}

/* a daemon logs the warnings about its own kinds, and only those */
static void
test_kind_filter(void **state)
{
	static const char *const route_kinds[] = { "DestinationRule" };
	static const char *const authz_kinds[] = { "AuthorizationPolicy" };
	struct loaded	 l;
	char		*text = NULL;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    tunnel: {protocol: CONNECT, "
	    "targetHost: h, targetPort: 80}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.nwarnings, 1);
	assert_string_equal(l.errs.v[0].kind, "DestinationRule");
	cfg_errors_print_warnings(&l.errs, route_kinds, 1, collect, &text);
	assert_non_null(text);
	assert_string_equal(text, "w.yaml:7:5: warning: DestinationRule "
	    "trafficPolicy.tunnel is not supported by meshkit and is "
	    "ignored\n");
	free(text);
	text = NULL;
	cfg_errors_print_warnings(&l.errs, authz_kinds, 1, collect, &text);
	assert_null(text);
	cfg_errors_print_warnings(&l.errs, NULL, 0, collect, &text);
	assert_non_null(text);
	free(text);
	done(&l);
}

static void
test_strict(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    proxyProtocol: "
	    "{version: V1}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.nerrors, 0);
	assert_int_equal(l.errs.nwarnings, 1);
	cfg_errors_strict(&l.errs);
	assert_int_equal(l.errs.nerrors, 1);
	assert_int_equal(l.errs.nwarnings, 0);
	assert_false(l.errs.v[0].notice);
	done(&l);
}

static void
test_dr_tunnel(void **state)
{
	(void)state;
	assert_warns(DR_HEAD "  trafficPolicy:\n    tunnel: {protocol: "
	    "CONNECT, targetHost: h, targetPort: 80}\n",
	    "w.yaml:7:5: warning: DestinationRule trafficPolicy.tunnel is "
	    "not supported by meshkit and is ignored");
	assert_warns(DR_HEAD "  trafficPolicy:\n    proxyProtocol: "
	    "{version: V2}\n", "w.yaml:7:5: warning: DestinationRule "
	    "trafficPolicy.proxyProtocol is not supported");
	/* in a subset's policy and a port's too */
	assert_warns(DR_HEAD "  subsets:\n  - name: v1\n    labels: {v: "
	    "\"1\"}\n    trafficPolicy:\n      portLevelSettings:\n      - "
	    "port: {number: 80}\n        proxyProtocol: {version: V1}\n",
	    "w.yaml:12:9: warning: DestinationRule "
	    "trafficPolicy.proxyProtocol");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanism),
		cmocka_unit_test(test_kind_filter),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_dr_tunnel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
