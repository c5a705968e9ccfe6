/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/route_dns.c and of decisions on ServiceEntries with
 * resolution DNS: which names are resolved, what the table keeps across
 * config changes and failures, and what route-d answers before and after
 * a name resolves.
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
#include "route.h"
#include "route_dns.h"
#include "util.h"

static const char yaml[] =
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: api}\n"
    "spec:\n  hosts: [API.test, other.test]\n"
    "  ports: [{number: 8080, name: http}]\n  resolution: DNS\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: db}\n"
    "spec:\n  hosts: [db.example]\n"
    "  ports: [{number: 80, name: http}]\n  resolution: DNS\n"
    "  endpoints:\n"
    "  - {address: db.test, ports: {http: 5432}, labels: {v: \"1\"}}\n"
    "  - {address: 10.0.0.9, labels: {v: \"2\"}}\n"
    "  - {address: api.test}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: rr}\n"
    "spec:\n  hosts: [rr.example]\n"
    "  ports: [{number: 80, name: http}]\n"
    "  resolution: DNS_ROUND_ROBIN\n"
    "  endpoints: [{address: rr.test}]\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: vm}\n"
    "spec:\n  hosts: [vm.example]\n"
    "  ports: [{number: 80, name: http}]\n  resolution: DNS\n"
    "  workloadSelector: {labels: {app: vm}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
    "metadata: {name: vm-1}\n"
    "spec: {address: vm1.test, labels: {app: vm}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: static}\n"
    "spec:\n  hosts: [static.example]\n"
    "  ports: [{number: 80, name: http}]\n  resolution: STATIC\n"
    "  endpoints: [{address: 10.0.0.1}]\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: db}\n"
    "spec:\n  hosts: [db.example]\n  http:\n"
    "  - route: [{destination: {host: db.example}}]\n";

static struct route_answer	 ans;

static struct config	*load(void);
static void		 decide(const struct config *, struct route_state *,
			    const char *);
static void		 test_names(void **);
static void		 test_table(void **);
static void		 test_decide(void **);

static struct config *
load(void)
{
	struct cfg_errors	 errs;
	struct config		*c;
	size_t			 i;

	memset(&errs, 0, sizeof(errs));
	c = config_load_buffer("dns.yaml", yaml, strlen(yaml), &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line,
		    errs.v[i].col, errs.v[i].message);
	cfg_errors_fini(&errs);
	assert_non_null(c);
	return c;
}

static void
decide(const struct config *c, struct route_state *st, const char *authority)
{
	struct route_query	 q;

	memset(&q, 0, sizeof(q));
	q.authority = (struct str){ authority, strlen(authority) };
	q.path = STR_LIT("/");
	route_decide(c, st, NULL, &q, 1000, &ans);
}

static void
test_names(void **state)
{
	struct config	*c = load();
	char		**v;
	size_t		  n;

	(void)state;
	assert_true(route_dns_is_name("db.test"));
	assert_false(route_dns_is_name("10.0.0.1"));
	assert_false(route_dns_is_name("fd00::1"));
	assert_false(route_dns_is_name("[fd00::1]"));
	assert_false(route_dns_is_name("unix:///run/a.sock"));
	assert_false(route_dns_is_name(""));
	v = route_dns_wanted(c, &n);
	/* hosts without endpoints; endpoint and workload names; once each */
	assert_int_equal(n, 5);
	assert_string_equal(v[0], "api.test");
	assert_string_equal(v[1], "other.test");
	assert_string_equal(v[2], "db.test");
	assert_string_equal(v[3], "rr.test");
	assert_string_equal(v[4], "vm1.test");
	config_paths_free(v, n);
	config_free(c);
}

static void
test_table(void **state)
{
	struct route_dns		*d = route_dns_new();
	const struct route_dns_entry	*e;
	const char			*a2[] = { "10.0.0.1", "fd00::1" };
	char				*w1[] = { "a.test", "b.test" };
	char				*w2[] = { "b.test", "c.test" };

	(void)state;
	route_dns_want(d, w1, 2);
	e = route_dns_find(d, "A.test.");
	assert_non_null(e);
	assert_false(e->resolved);
	route_dns_update(d, "b.test", a2, 2, NULL);
	/* a failure keeps what was resolved, and says why */
	route_dns_update(d, "b.test", NULL, 0, "timed out");
	e = route_dns_find(d, "b.test");
	assert_true(e->resolved);
	assert_int_equal(e->naddrs, 2);
	assert_string_equal(e->addrs[1], "fd00::1");
	assert_string_equal(e->error, "timed out");
	/* another config: b stays resolved, a goes, c comes */
	route_dns_want(d, w2, 2);
	assert_null(route_dns_find(d, "a.test"));
	e = route_dns_find(d, "b.test");
	assert_true(e->resolved);
	assert_int_equal(e->naddrs, 2);
	assert_false(route_dns_find(d, "c.test")->resolved);
	/* an answer for a name no longer wanted is dropped */
	route_dns_update(d, "a.test", a2, 1, NULL);
	assert_null(route_dns_find(d, "a.test"));
	/* an answer without addresses is an answer */
	route_dns_update(d, "b.test", NULL, 0, NULL);
	e = route_dns_find(d, "b.test");
	assert_int_equal(e->naddrs, 0);
	assert_string_equal(e->error, "");
	route_dns_want(d, NULL, 0);
	assert_null(route_dns_find(d, "b.test"));
	route_dns_free(d);
}

static void
test_decide(void **state)
{
	struct config		*c = load();
	struct route_state	*st = route_state_new();
	struct route_dns	*d = route_dns_new();
	const char		*api[] = { "127.0.0.5" };
	const char		*db[] = { "10.1.0.1", "fd00::2" };
	const char		*rr[] = { "10.2.0.1", "10.2.0.2" };
	char			**v;
	size_t			  n;

	(void)state;
	/* no table at all: not resolved, an error saying which name */
	decide(c, NULL, "api.test");
	assert_int_equal(ans.status, ROUTE_ERROR);
	assert_non_null(strstr(ans.reason, "API.test: not resolved yet"));
	v = route_dns_wanted(c, &n);
	route_dns_want(d, v, n);
	config_paths_free(v, n);
	route_state_set_dns(st, d);
	decide(c, st, "api.test:8080");
	assert_int_equal(ans.status, ROUTE_ERROR);
	/* one endpoint resolved of three: answered, the rest explained */
	decide(c, st, "db.example");
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 1);
	assert_string_equal(ans.endpoints[0].address, "10.0.0.9:80");
	assert_non_null(strstr(ans.reason, "not resolved yet"));
	/* a failed try says why */
	route_dns_update(d, "api.test", NULL, 0, "timed out");
	decide(c, st, "api.test");
	assert_int_equal(ans.status, ROUTE_ERROR);
	assert_non_null(strstr(ans.reason, "not resolved yet: timed out"));

	route_dns_update(d, "api.test", api, 1, NULL);
	route_dns_update(d, "db.test", db, 2, NULL);
	route_dns_update(d, "rr.test", rr, 2, NULL);
	/* the host itself, on the ServiceEntry's port */
	decide(c, st, "API.test");
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 1);
	assert_string_equal(ans.endpoints[0].address, "127.0.0.5:8080");
	assert_true(ans.policy.retries_set);
	/* another host of the entry is another name */
	decide(c, st, "other.test");
	assert_int_equal(ans.status, ROUTE_ERROR);
	assert_non_null(strstr(ans.reason, "other.test"));
	/* endpoint names, with the endpoint's port; under a VirtualService */
	decide(c, NULL, "db.example");
	decide(c, st, "db.example");
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 4);
	assert_string_equal(ans.endpoints[0].address, "10.1.0.1:5432");
	assert_string_equal(ans.endpoints[1].address, "[fd00::2]:5432");
	assert_string_equal(ans.endpoints[2].address, "10.0.0.9:80");
	assert_string_equal(ans.endpoints[3].address, "127.0.0.5:80");
	assert_non_null(strstr(ans.reason, "VirtualService"));
	/* DNS_ROUND_ROBIN: the first address of the answer */
	decide(c, st, "rr.example");
	assert_int_equal(ans.nendpoints, 1);
	assert_string_equal(ans.endpoints[0].address, "10.2.0.1:80");
	/* a selected workload's name */
	decide(c, st, "vm.example");
	assert_int_equal(ans.status, ROUTE_ERROR);
	route_dns_update(d, "vm1.test", api, 1, NULL);
	decide(c, st, "vm.example");
	assert_int_equal(ans.status, ROUTE_OK);
	assert_string_equal(ans.endpoints[0].address, "127.0.0.5:80");
	/* resolved to nothing: ok without endpoints (proxy-d says UH) */
	route_dns_update(d, "api.test", NULL, 0, NULL);
	decide(c, st, "api.test");
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 0);
	assert_non_null(strstr(ans.reason, "resolved to no address"));
	/* STATIC entries never look at the table */
	decide(c, st, "static.example");
	assert_string_equal(ans.endpoints[0].address, "10.0.0.1:80");
	route_state_free(st);
	route_dns_free(d);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
