/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/route_vs.c: decisions under VirtualServices and
 * DestinationRules, from Istio-form YAML (the article's and bookinfo's
 * files among them), and the answer fields they add, on the wire and
 * back.  Every routing field has a case that fails if it is ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "msg.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define MAX_HEADERS	8

/* One question, built by the tests. */
struct ask {
	const char	*authority;
	const char	*path;
	const char	*method;
	const char	*scheme;
	const char	*source;
	const char	*headers[MAX_HEADERS];	/* "name: value" */
};

/* Rating v1 and v2 as the article's WorkloadEntries would be. */
static const char workloads[] =
    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
    "metadata: {name: rating-v1}\n"
    "spec:\n  address: 127.0.0.1\n  ports: {http: 9081}\n"
    "  labels: {app: rating-service, app.kubernetes.io/version: v1.0.0}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
    "metadata: {name: rating-v2}\n"
    "spec:\n  address: 127.0.0.2\n  ports: {http: 9082}\n"
    "  labels: {app: rating-service, app.kubernetes.io/version: v2.0.0}\n"
    "---\n";

/* A service with four endpoints, two per version, and a fallback. */
static const char shop[] =
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: shop}\n"
    "spec:\n  hosts: [shop.default.svc.cluster.local]\n"
    "  ports: [{number: 80, name: http}]\n  resolution: STATIC\n"
    "  endpoints:\n"
    "  - {address: 10.0.0.1, labels: {version: v1}}\n"
    "  - {address: 10.0.0.2, labels: {version: v1}}\n"
    "  - {address: 10.0.0.3, labels: {version: v2}}\n"
    "  - {address: 10.0.0.4, labels: {version: v2}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: other}\n"
    "spec:\n  hosts: [other.default.svc.cluster.local]\n"
    "  ports: [{number: 80, name: http}, {number: 8080, name: alt}]\n"
    "  resolution: STATIC\n"
    "  endpoints: [{address: 10.0.1.1}]\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: shop}\n"
    "spec:\n  host: shop\n  subsets:\n"
    "  - {name: v1, labels: {version: v1}}\n"
    "  - {name: v2, labels: {version: v2}}\n"
    "---\n";

static char	*slurp(const char *);
static struct str cstr(const char *);
static char	*shared_file(const char *);
static int	 use_own(void **);
static int	 use_article(void **);
static struct config *load(const char *, const char *const *);
static void	decide(const struct config *, struct route_state *,
		    const struct ask *, struct route_answer *);
static const char *first(const struct config *, const struct ask *);
static void	test_article_default(void **);
static void	test_article_subsets(void **);
static void	test_article_75_25(void **);
static void	test_bookinfo_jason(void **);
static void	test_match_fields(void **);
static void	test_match_or_and(void **);
static void	test_no_route_and_gateways(void **);
static void	test_weights_exact(void **);
static void	test_kube_target_port(void **);
static void	test_load_balancer(void **);
static void	test_consistent_hash(void **);
static void	test_policy_fields(void **);
static void	test_rewrite(void **);
static void	test_regex_fails_closed(void **);
static void	test_policy_wire(void **);
static void	test_retries_default(void **);
static void	test_dr_merge(void **);
static void	test_dr_without_vs(void **);
static void	test_more_fields(void **);
static void	test_mirror_percent(void **);
static void	test_hash_kinds(void **);

static struct route_answer	 ans;
static int			 article;	/* the article's own files */

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * The path of a file the tests load (free it).
 * "article/NAME": the walkthrough's file of that name, meshkit's own
 * with the article's meaning (etc/bookstore/), or in the conformance
 * stage (use_article) the article's own file.  Any other name is of
 * the conformance data: the test is skipped without it.
 */
static char *
shared_file(const char *name)
{
	const char	*env = getenv("MESHKIT_SHARED");
	const char	*top = getenv("MESHKIT_TOP");
	char		*path;

	if (top == NULL || *top == '\0')
		top = ".";
	if (!article && strncmp(name, "article/", 8) == 0) {
		name += 8;
		if (strcmp(name, "service.yml") == 0)
			xasprintf(&path, "%s/etc/bookstore/rating-service.yaml",
			    top);
		else
			xasprintf(&path, "%s/etc/bookstore/walkthrough/%s", top,
			    name);
	} else
		xasprintf(&path, "%s/testdata/%s", env != NULL &&
		    *env != '\0' ? env : "../shared", name);
	return path;
}

static int
use_own(void **state)
{
	article = 0;
	return 0;
}

static int
use_article(void **state)
{
	article = 1;
	return 0;
}

/*
 * yaml, then each shared file, as one buffer; it must load.  Skipped,
 * before anything is allocated, when a file of the conformance data is
 * not there.
 */
static struct config *
load(const char *yaml, const char *const *files)
{
	struct cfg_errors	 errs;
	struct config		*c;
	char			*all, *f, *n;
	size_t			 i;
	int			 missing = 0;

	for (i = 0; files != NULL && files[i] != NULL; i++) {
		f = shared_file(files[i]);
		missing |= access(f, R_OK) == -1;
		free(f);
	}
	if (missing)
		skip();
	all = xstrdup(yaml);
	for (i = 0; files != NULL && files[i] != NULL; i++) {
		n = shared_file(files[i]);
		f = slurp(n);
		free(n);
		xasprintf(&n, "%s\n---\n%s\n", all, f);
		free(all);
		free(f);
		all = n;
	}
	memset(&errs, 0, sizeof(errs));
	c = config_load_buffer("test.yaml", all, strlen(all), &errs);
	for (i = 0; i < errs.n; i++)
		if (!errs.v[i].notice)
			print_error("%s:%d:%d: %s\n", errs.v[i].file,
			    errs.v[i].line, errs.v[i].col, errs.v[i].message);
	cfg_errors_fini(&errs);
	free(all);
	assert_non_null(c);
	return c;
}

static struct str
cstr(const char *s)
{
	return (struct str){ s, s != NULL ? strlen(s) : 0 };
}

static void
decide(const struct config *c, struct route_state *st, const struct ask *k,
    struct route_answer *a)
{
	static struct route_query	 q;
	struct msg_source		 src;
	size_t				 i;

	memset(&q, 0, sizeof(q));
	memset(&src, 0, sizeof(src));
	src.workload = STR_LIT("book-v1");
	src.namespace = STR_LIT("default");
	src.label_keys[0] = STR_LIT("app");
	src.label_values[0] = STR_LIT("book");
	src.nlabels = 1;
	q.id = 1;
	q.authority = cstr(k->authority);
	q.path = cstr(k->path != NULL ? k->path : "/");
	q.method = cstr(k->method != NULL ? k->method : "GET");
	q.scheme = cstr(k->scheme != NULL ? k->scheme : "http");
	q.source = cstr(k->source);
	for (i = 0; i < MAX_HEADERS && k->headers[i] != NULL; i++) {
		const char *colon = strchr(k->headers[i], ':');

		q.header_names[i] = (struct str){ k->headers[i],
		    (size_t)(colon - k->headers[i]) };
		q.header_values[i] = cstr(colon + 2);
	}
	q.nheaders = i;
	route_decide(c, st, &src, &q, 1000, a);
}

/* The first endpoint of a fresh decision (no rotation), or the status. */
static const char *
first(const struct config *c, const struct ask *k)
{
	decide(c, NULL, k, &ans);
	if (ans.status == ROUTE_NO_ROUTE)
		return "no-route";
	if (ans.status == ROUTE_ERROR)
		return "error";
	return ans.nendpoints > 0 ? ans.endpoints[0].address : "none";
}

static void
test_article_default(void **state)
{
	static const char *const files[] = { "article/service.yml", NULL };
	struct config		*c = load(workloads, files);
	struct route_state	*st = route_state_new();
	struct ask		 k = { .authority = "rating:8080" };
	int			 v1 = 0, i;

	(void)state;
	/* no VirtualService: every endpoint, round robin */
	for (i = 0; i < 10; i++) {
		decide(c, st, &k, &ans);
		assert_int_equal(ans.status, ROUTE_OK);
		assert_int_equal(ans.nendpoints, 2);
		assert_string_equal(ans.service,
		    "rating.default.svc.cluster.local");
		v1 += strcmp(ans.endpoints[0].address, "127.0.0.1:9081") == 0;
	}
	assert_int_equal(v1, 5);
	assert_string_equal(ans.vary, "authority listener port");
	/* no VirtualService: Istio's route is named "default" */
	assert_string_equal(ans.policy.route_name, "default");
	route_state_free(st);
	config_free(c);
}

static void
test_article_subsets(void **state)
{
	static const char *const v1[] = { "article/service.yml",
	    "article/destination-rule-v1-v2.yml",
	    "article/virtual-service-v1.yml", NULL };
	static const char *const v2[] = { "article/service.yml",
	    "article/destination-rule-v1-v2.yml",
	    "article/virtual-service-v2.yml", NULL };
	struct route_state	*st;
	struct ask		 k = { .authority = "rating:8080",
				    .path = "/rate/1" };
	struct config		*c;
	int			 i;

	(void)state;
	c = load(workloads, v1);
	st = route_state_new();
	for (i = 0; i < 4; i++) {
		decide(c, st, &k, &ans);
		assert_int_equal(ans.status, ROUTE_OK);
		assert_int_equal(ans.nendpoints, 1);
		assert_string_equal(ans.endpoints[0].address,
		    "127.0.0.1:9081");
		assert_string_equal(ans.subset, "version-v1");
		assert_string_equal(ans.service,
		    "rating.default.svc.cluster.local");
	}
	/* nothing but the authority decided it: reusable */
	assert_string_equal(ans.vary, "authority listener port");
	config_free(c);
	c = load(workloads, v2);
	for (i = 0; i < 4; i++) {
		decide(c, st, &k, &ans);
		assert_int_equal(ans.nendpoints, 1);
		assert_string_equal(ans.endpoints[0].address,
		    "127.0.0.2:9082");
		assert_string_equal(ans.subset, "version-v2");
	}
	config_free(c);
	route_state_free(st);
}

static void
test_article_75_25(void **state)
{
	static const char *const files[] = { "article/service.yml",
	    "article/destination-rule-v1-v2.yml",
	    "article/virtual-service-v1-v2-75-25.yml", NULL };
	struct config		*c = load(workloads, files);
	struct route_state	*st = route_state_new();
	struct ask		 k = { .authority = "rating:8080" };
	int			 v1 = 0, i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		decide(c, st, &k, &ans);
		assert_int_equal(ans.nendpoints, 2);
		v1 += strcmp(ans.endpoints[0].address, "127.0.0.1:9081") == 0;
	}
	assert_in_range(v1, 710, 790);
	/* and the weights give proxy-d the same split when it reuses */
	assert_int_equal(ans.endpoints[0].weight +
	    ans.endpoints[1].weight, 4);
	assert_int_equal(strcmp(ans.endpoints[0].address, "127.0.0.1:9081")
	    == 0 ? ans.endpoints[0].weight : ans.endpoints[1].weight, 3);
	assert_string_equal(ans.subset, "");
	route_state_free(st);
	config_free(c);
}

static void
test_bookinfo_jason(void **state)
{
	static const char reviews[] =
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: reviews}\n"
	    "spec:\n  hosts: [reviews.default.svc.cluster.local]\n"
	    "  ports: [{number: 9080, name: http}]\n  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - {address: 10.1.0.1, labels: {app: reviews, version: v1}}\n"
	    "  - {address: 10.1.0.2, labels: {app: reviews, version: v2}}\n"
	    "  - {address: 10.1.0.3, labels: {app: reviews, version: v3}}\n";
	static const char *const files[] = {
	    "istio/bookinfo/destination-rule-all.yaml",
	    "istio/bookinfo/virtual-service-reviews-jason-v2-v3.yaml", NULL };
	struct config	*c = load(reviews, files);
	struct ask	 jason = { .authority = "reviews:9080",
			    .headers = { "end-user: jason" } };
	struct ask	 other = { .authority = "reviews:9080",
			    .headers = { "end-user: alice" } };
	struct ask	 none = { .authority = "reviews:9080" };

	(void)state;
	assert_string_equal(first(c, &jason), "10.1.0.2:9080");
	assert_string_equal(ans.subset, "v2");
	assert_non_null(strstr(ans.vary, "header:end-user"));
	assert_string_equal(first(c, &other), "10.1.0.3:9080");
	assert_string_equal(ans.subset, "v3");
	assert_non_null(strstr(ans.vary, "header:end-user"));
	assert_string_equal(first(c, &none), "10.1.0.3:9080");
	config_free(c);
}

/*
 * One route per case with one match field, then a fallback to v2: a
 * request that matches goes to v1 (10.0.0.1/2), one that does not to
 * v2, and vary names the field.
 */
static void
test_match_fields(void **state)
{
	static const struct {
		const char	*match;
		struct ask	 yes, no;
		const char	*vary;
	} cases[] = {
		{ "uri: {exact: /a}", { .path = "/a?x=1" }, { .path = "/ab" },
		    "path" },
		{ "uri: {prefix: /a}", { .path = "/ab" }, { .path = "/b" },
		    "path" },
		{ "uri: {regex: \"/a/[0-9]+\"}", { .path = "/a/12" },
		    { .path = "/a/12/x" }, "path" },
		{ "uri: {prefix: /a}\n      ignoreUriCase: true",
		    { .path = "/A" }, { .path = "/b" }, "path" },
		{ "method: {exact: POST}", { .method = "POST" },
		    { .method = "GET" }, "method" },
		{ "scheme: {exact: https}", { .scheme = "https" },
		    { .scheme = "http" }, "scheme" },
		{ "authority: {prefix: shop.default}",
		    { .authority = "shop.default" }, { .authority = "shop" },
		    "authority" },
		{ "headers: {x-v: {exact: \"1\"}}", { .headers = { "x-v: 1" } },
		    { .headers = { "x-v: 2" } }, "header:x-v" },
		{ "headers: {X-V: {prefix: a}}", { .headers = { "x-v: ab" } },
		    { .headers = { "x-w: ab" } }, "header:x-v" },
		{ "headers: {x-v: {regex: \"a+\"}}",
		    { .headers = { "x-v: aaa" } },
		    { .headers = { "x-v: aab" } }, "header:x-v" },
		{ "headers: {x-v: {}}", { .headers = { "x-v: " } },
		    { .headers = { "x-w: 1" } }, "header:x-v" },
		{ "withoutHeaders: {x-v: {exact: \"1\"}}",
		    { .headers = { "x-v: 2" } }, { .headers = { "x-v: 1" } },
		    "header:x-v" },
		{ "queryParams: {v: {exact: \"2\"}}", { .path = "/?a=1&v=2" },
		    { .path = "/?v=22" }, "path" },
		{ "queryParams: {v: {regex: \"[0-9]\"}}", { .path = "/?v=7" },
		    { .path = "/?w=7" }, "path" },
		{ "port: 8080", { .authority = "shop:8080" },
		    { .authority = "shop:80" }, "port" },
		{ "port: 80", { .authority = "shop" },
		    { .authority = "shop:8080" }, "port" },
		{ "sourceLabels: {app: book}", { .path = "/" }, { .path = "/" },
		    NULL },
		{ "sourceNamespace: default", { .path = "/" }, { .path = "/" },
		    NULL },
		{ "gateways: [mesh]", { .path = "/" }, { .path = "/" }, NULL },
	};
	static const char ports8080[] =
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: shop8080}\n"
	    "spec:\n  hosts: [shop.default.svc.cluster.local]\n"
	    "  ports: [{number: 8080, name: http}]\n  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - {address: 10.0.0.1, labels: {version: v1}}\n"
	    "  - {address: 10.0.0.3, labels: {version: v2}}\n---\n";
	char		*yaml;
	struct config	*c;
	struct ask	 yes, no;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		xasprintf(&yaml, "%s%s"
		    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		    "metadata: {name: shop}\n"
		    "spec:\n  hosts: [shop]\n  http:\n"
		    "  - match:\n    - %s\n"
		    "    route: [{destination: {host: shop, subset: v1}}]\n"
		    "  - route: [{destination: {host: shop, subset: v2}}]\n",
		    shop, i == 14 || i == 15 ? ports8080 : "", cases[i].match);
		c = load(yaml, NULL);
		yes = cases[i].yes;
		no = cases[i].no;
		if (yes.authority == NULL)
			yes.authority = "shop";
		if (no.authority == NULL)
			no.authority = "shop";
		first(c, &yes);
		if (ans.status != ROUTE_OK || strcmp(ans.subset, "v1") != 0)
			fail_msg("case %zu (%s): a match went to \"%s\" (%s)",
			    i, cases[i].match, ans.subset, ans.reason);
		if (cases[i].vary != NULL && strstr(ans.vary,
		    cases[i].vary) == NULL)
			fail_msg("case %zu: vary \"%s\" lacks %s", i, ans.vary,
			    cases[i].vary);
		if (cases[i].vary != NULL) {
			first(c, &no);
			if (strcmp(ans.subset, "v2") != 0)
				fail_msg("case %zu (%s): a miss went to "
				    "\"%s\"", i, cases[i].match, ans.subset);
			if (strstr(ans.vary, cases[i].vary) == NULL)
				fail_msg("case %zu: vary \"%s\" lacks %s", i,
				    ans.vary, cases[i].vary);
		}
		config_free(c);
		free(yaml);
	}
	/* the asker's labels and namespace, when they do not match */
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{sourceLabels: {app: cart}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "  - match: [{sourceNamespace: other}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "  - match: [{gateways: [edge-gateway]}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "  - route: [{destination: {host: shop, subset: v2}}]\n", shop);
	c = load(yaml, NULL);
	yes = (struct ask){ .authority = "shop" };
	first(c, &yes);
	assert_string_equal(ans.subset, "v2");
	config_free(c);
	free(yaml);
}

static void
test_match_or_and(void **state)
{
	char		*yaml;
	struct config	*c;
	struct ask	 k;

	(void)state;
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match:\n"
	    "    - {uri: {prefix: /a}, method: {exact: POST}}\n"
	    "    - headers: {x-b: {exact: \"1\"}}\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "  - route: [{destination: {host: shop, subset: v2}}]\n", shop);
	c = load(yaml, NULL);
	/* both fields of the first block */
	k = (struct ask){ .authority = "shop", .path = "/a",
	    .method = "POST" };
	first(c, &k);
	assert_string_equal(ans.subset, "v1");
	/* one field alone is not enough */
	k = (struct ask){ .authority = "shop", .path = "/a" };
	first(c, &k);
	assert_string_equal(ans.subset, "v2");
	k = (struct ask){ .authority = "shop", .path = "/b",
	    .method = "POST" };
	first(c, &k);
	assert_string_equal(ans.subset, "v2");
	/* the second block alone */
	k = (struct ask){ .authority = "shop", .path = "/b",
	    .headers = { "x-b: 1" } };
	first(c, &k);
	assert_string_equal(ans.subset, "v1");
	assert_non_null(strstr(ans.vary, "path"));
	assert_non_null(strstr(ans.vary, "header:x-b"));
	config_free(c);
	free(yaml);
}

static void
test_no_route_and_gateways(void **state)
{
	char		*yaml;
	struct config	*c;
	struct ask	 k = { .authority = "shop", .path = "/b" };

	(void)state;
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {prefix: /a}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: edge}\n"
	    "spec:\n  hosts: [\"*\"]\n  gateways: [edge-gateway]\n  http:\n"
	    "  - route: [{destination: {host: other}}]\n", shop);
	c = load(yaml, NULL);
	/* no route of the VirtualService matches: no route */
	assert_string_equal(first(c, &k), "no-route");
	assert_non_null(strstr(ans.reason, "no http route matches"));
	/* a short host is the VirtualService's namespace's service */
	{
		struct config		*c2;
		char			*y2;
		struct msg_source	 src;
		struct route_query	 q;

		xasprintf(&y2, "%s"
		    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		    "metadata: {name: shop, namespace: other}\n"
		    "spec:\n  hosts: [shop.other.svc.cluster.local]\n"
		    "  ports: [{number: 80, name: http}]\n"
		    "  resolution: STATIC\n"
		    "  endpoints: [{address: 10.0.9.9}]\n"
		    "---\n"
		    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		    "metadata: {name: shop}\n"
		    "spec:\n  hosts: [shop]\n  http:\n"
		    "  - route: [{destination: {host: shop, subset: v1}}]\n",
		    shop);
		c2 = load(y2, NULL);
		memset(&src, 0, sizeof(src));
		memset(&q, 0, sizeof(q));
		src.namespace = STR_LIT("other");
		q.authority = STR_LIT("shop");
		route_decide(c2, NULL, &src, &q, 0, &ans);
		assert_int_equal(ans.nendpoints, 1);
		assert_string_equal(ans.endpoints[0].address, "10.0.9.9:80");
		src.namespace = STR_LIT("default");
		route_decide(c2, NULL, &src, &q, 0, &ans);
		assert_string_equal(ans.subset, "v1");
		config_free(c2);
		free(y2);
	}
	/* a gateway's VirtualService does not apply to sidecars */
	k.authority = "other";
	assert_string_equal(first(c, &k), "10.0.1.1:80");
	config_free(c);
	free(yaml);
}

static void
test_weights_exact(void **state)
{
	char			*yaml;
	struct config		*c;
	struct route_state	*st = route_state_new();
	struct ask		 k = { .authority = "shop" };
	uint64_t		 v1 = 0, v2 = 0, o = 0;
	size_t			 i;
	int			 n[3] = { 0, 0, 0 };

	(void)state;
	/* 2, 2 and 1 endpoints: 50/30/20 must hold per destination */
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - route:\n"
	    "    - {destination: {host: shop, subset: v1}, weight: 50}\n"
	    "    - {destination: {host: shop, subset: v2}, weight: 30}\n"
	    "    - {destination: {host: other}, weight: 20}\n", shop);
	c = load(yaml, NULL);
	decide(c, NULL, &k, &ans);
	assert_int_equal(ans.nendpoints, 5);
	for (i = 0; i < ans.nendpoints; i++) {
		const char *a = ans.endpoints[i].address;

		if (strcmp(a, "10.0.0.1:80") == 0 ||
		    strcmp(a, "10.0.0.2:80") == 0)
			v1 += ans.endpoints[i].weight;
		else if (strcmp(a, "10.0.1.1:80") == 0)
			o += ans.endpoints[i].weight;
		else
			v2 += ans.endpoints[i].weight;
	}
	assert_int_equal(v1 * 30, v2 * 50);
	assert_int_equal(v1 * 20, o * 50);
	/* and the rotation splits uncached decisions the same way */
	for (i = 0; i < 1000; i++) {
		const char *a;

		decide(c, st, &k, &ans);
		a = ans.endpoints[0].address;
		n[strncmp(a, "10.0.1.", 7) == 0 ? 2 : strcmp(a, "10.0.0.1:80")
		    == 0 || strcmp(a, "10.0.0.2:80") == 0 ? 0 : 1]++;
	}
	assert_in_range(n[0], 460, 540);
	assert_in_range(n[1], 260, 340);
	assert_in_range(n[2], 160, 240);
	route_state_free(st);
	config_free(c);
	free(yaml);
}

/* A Service's targetPort, by name or number, against the workloads. */
static void
test_kube_target_port(void **state)
{
	static const char yaml[] =
	    "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n"
	    "spec:\n  selector: {app: api}\n  ports:\n"
	    "  - {name: web, port: 80, targetPort: http-alt}\n"
	    "  - {name: admin, port: 81, targetPort: 9191}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	    "metadata: {name: api-1}\n"
	    "spec: {address: 10.2.0.1, ports: {http-alt: 7070}, "
	    "labels: {app: api}}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	    "metadata: {name: other}\n"
	    "spec: {address: 10.2.0.9, labels: {app: not-api}}\n";
	struct config	*c = load(yaml, NULL);
	struct ask	 k = { .authority = "api.default.svc.cluster.local" };

	(void)state;
	assert_string_equal(first(c, &k), "10.2.0.1:7070");
	assert_int_equal(ans.nendpoints, 1);
	assert_string_equal(ans.service, "api.default.svc.cluster.local");
	k.authority = "api:81";
	assert_string_equal(first(c, &k), "10.2.0.1:9191");
	config_free(c);
}

static void
test_load_balancer(void **state)
{
	static const char vs[] =
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: lb}\n"
	    "spec:\n  hosts: [lb]\n  http:\n"
	    "  - match: [{uri: {prefix: /v1}}]\n"
	    "    route: [{destination: {host: lb, subset: v1}}]\n"
	    "  - route: [{destination: {host: lb, subset: v2}}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: lb}\n"
	    "spec:\n  hosts: [lb.default.svc.cluster.local]\n"
	    "  ports: [{number: 80, name: http}, {number: 81, name: b}]\n"
	    "  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - {address: 10.0.0.1, labels: {version: v1}}\n"
	    "  - {address: 10.0.0.3, labels: {version: v2}}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: lb}\n"
	    "spec:\n  host: lb\n"
	    "  trafficPolicy:\n    loadBalancer: {simple: RANDOM}\n"
	    "    portLevelSettings:\n"
	    "    - {port: {number: 81}, loadBalancer: {simple: ROUND_ROBIN}}\n"
	    "  subsets:\n"
	    "  - name: v1\n    labels: {version: v1}\n"
	    "    trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n"
	    "  - {name: v2, labels: {version: v2}}\n";
	struct config	*c = load(vs, NULL);
	struct ask	 k = { .authority = "lb", .path = "/v1" };

	(void)state;
	/* the subset's own policy */
	first(c, &k);
	assert_int_equal(ans.lb, ROUTE_LB_LEAST_REQUEST);
	/* the rule's */
	k.path = "/v2";
	first(c, &k);
	assert_int_equal(ans.lb, ROUTE_LB_RANDOM);
	/* the port's */
	k.authority = "lb:81";
	first(c, &k);
	assert_int_equal(ans.lb, ROUTE_LB_ROUND_ROBIN);
	config_free(c);
}

static void
test_consistent_hash(void **state)
{
	static const char *const how[] = {
		"httpHeaderName: x-user",
		"httpHeaderName: x-user, maglev: {tableSize: 1031}",
		"httpCookie: {name: user}",
		"useSourceIp: true",
		"httpQueryParameterName: user",
	};
	static const char *const vary[] = {
		"header:x-user", "header:x-user", "header:cookie", "source",
		"path"
	};
	struct route_state	*st = route_state_new();
	char			*yaml, user[64], cookie[64], src[64], path[64];
	char			 seen[4][64];
	struct config		*c;
	struct ask		 k;
	size_t			 i, u, r, nseen;

	(void)state;
	for (i = 0; i < nitems(how); i++) {
		xasprintf(&yaml,
		    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		    "metadata: {name: hash}\n"
		    "spec:\n  hosts: [hash.default.svc.cluster.local]\n"
		    "  ports: [{number: 80, name: http}]\n"
		    "  resolution: STATIC\n"
		    "  endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}, "
		    "{address: 10.0.0.3}, {address: 10.0.0.4}]\n"
		    "---\n"
		    "apiVersion: networking.istio.io/v1\n"
		    "kind: DestinationRule\nmetadata: {name: hash}\n"
		    "spec:\n  host: hash\n  trafficPolicy:\n"
		    "    loadBalancer: {consistentHash: {%s}}\n"
		    "---\n"
		    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		    "metadata: {name: hash}\n"
		    "spec:\n  hosts: [hash]\n  http:\n"
		    "  - route: [{destination: {host: hash}}]\n", how[i]);
		c = load(yaml, NULL);
		nseen = 0;
		for (u = 0; u < 40; u++) {
			char	 chosen[64];

			snprintf(user, sizeof(user), "x-user: u%zu", u);
			snprintf(cookie, sizeof(cookie), "cookie: a=b; user=u%zu",
			    u);
			snprintf(src, sizeof(src), "10.9.%zu.1:%zu", u, 1000 + u);
			snprintf(path, sizeof(path), "/x?user=u%zu", u);
			memset(&k, 0, sizeof(k));
			k.authority = "hash";
			k.path = path;
			k.source = src;
			k.headers[0] = user;
			k.headers[1] = cookie;
			decide(c, st, &k, &ans);
			assert_int_equal(ans.status, ROUTE_OK);
			assert_int_equal(ans.nendpoints, 4);
			assert_int_equal(ans.lb, ROUTE_LB_ORDERED);
			if (strstr(ans.vary, vary[i]) == NULL)
				fail_msg("%s: vary \"%s\"", how[i], ans.vary);
			util_strlcpy(chosen, ans.endpoints[0].address,
			    sizeof(chosen));
			/* the same key, the same endpoint, every time */
			for (r = 0; r < 3; r++) {
				if (i == 3)
					snprintf(src, sizeof(src),
					    "10.9.%zu.1:%zu", u, 2000 + r);
				decide(c, st, &k, &ans);
				assert_string_equal(ans.endpoints[0].address,
				    chosen);
			}
			for (r = 0; r < nseen; r++)
				if (strcmp(seen[r], chosen) == 0)
					break;
			if (r == nseen && nseen < 4)
				util_strlcpy(seen[nseen++], chosen,
				    sizeof(seen[0]));
		}
		/* and different keys spread over the endpoints */
		if (nseen < 3)
			fail_msg("%s: 40 keys on %zu endpoints only", how[i],
			    nseen);
		/* without the key: balanced as usual */
		memset(&k, 0, sizeof(k));
		k.authority = "hash";
		k.path = "/";
		if (i != 3) {
			decide(c, st, &k, &ans);
			assert_int_equal(ans.lb, ROUTE_LB_ROUND_ROBIN);
		}
		config_free(c);
		free(yaml);
	}
	route_state_free(st);
}

static void
test_policy_fields(void **state)
{
	char		*yaml;
	struct config	*c;
	struct ask	 k = { .authority = "shop", .path = "/all" };
	const struct route_policy *p = &ans.policy;

	(void)state;
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {exact: /all}}]\n"
	    "    route:\n"
	    "    - destination: {host: shop, subset: v1}\n"
	    "      headers: {request: {set: {x-dest: v1}}}\n"
	    "    timeout: 3s\n"
	    "    retries: {attempts: 3, perTryTimeout: 2s, "
	    "retryOn: \"5xx,connect-failure\"}\n"
	    "    fault:\n"
	    "      delay: {fixedDelay: 5s, percentage: {value: 10}}\n"
	    "      abort: {httpStatus: 503, percentage: {value: 0.5}}\n"
	    "    mirrors:\n"
	    "    - destination: {host: other}\n"
	    "      percentage: {value: 25}\n"
	    "    headers:\n"
	    "      request: {add: {x-a: \"1\"}, remove: [x-r]}\n"
	    "      response: {set: {x-s: \"2\"}}\n"
	    "    corsPolicy:\n"
	    "      allowOrigins: [{exact: \"https://a.example\"}]\n"
	    "      allowMethods: [GET, POST]\n"
	    "      allowHeaders: [x-h]\n"
	    "      exposeHeaders: [x-e]\n"
	    "      maxAge: 1m\n"
	    "      allowCredentials: false\n"
	    "  - match: [{uri: {exact: /old}}]\n"
	    "    redirect: {uri: /new, authority: b.example, scheme: https, "
	    "redirectCode: 308}\n"
	    "  - match: [{uri: {exact: /down}}]\n"
	    "    directResponse: {status: 503, body: {string: \"down\\nnow\"}}\n"
	    "  - route: [{destination: {host: shop, subset: v2}}]\n", shop);
	c = load(yaml, NULL);
	first(c, &k);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.timeout_ms, 3000);
	assert_int_equal(p->retry_attempts, 3);
	assert_int_equal(p->retry_per_try_ms, 2000);
	assert_string_equal(p->retry_on, "5xx,connect-failure");
	assert_int_equal(p->fault_delay_ms, 5000);
	assert_int_equal(p->fault_delay_ppm, 100000);
	assert_int_equal(p->fault_abort_status, 503);
	assert_int_equal(p->fault_abort_ppm, 5000);
	assert_int_equal(p->nmirrors, 1);
	assert_string_equal(p->mirrors[0].address, "10.0.1.1:80");
	assert_int_equal(p->mirrors[0].ppm, 250000);
	assert_string_equal(p->mirrors[0].service,
	    "other.default.svc.cluster.local");
	/* the mirror's endpoints are not the route's */
	assert_int_equal(ans.nendpoints, 2);
	assert_int_equal(p->nheaders, 4);
	assert_int_equal(p->headers[0].kind, ROUTE_REQUEST_ADD);
	assert_string_equal(p->headers[0].name, "x-a");
	assert_int_equal(p->headers[1].kind, ROUTE_REQUEST_REMOVE);
	assert_int_equal(p->headers[2].kind, ROUTE_RESPONSE_SET);
	assert_int_equal(p->headers[3].kind, ROUTE_REQUEST_SET);
	assert_string_equal(p->headers[3].name, "x-dest");
	assert_true(p->cors);
	assert_int_equal(p->norigins, 1);
	assert_string_equal(p->origins[0].value, "https://a.example");
	assert_string_equal(p->cors_methods, "GET,POST");
	assert_string_equal(p->cors_allow_headers, "x-h");
	assert_string_equal(p->cors_expose_headers, "x-e");
	assert_int_equal(p->cors_max_age_ms, 60000);
	assert_int_equal(p->cors_credentials, 0);

	k.path = "/old";
	first(c, &k);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 0);
	assert_int_equal(p->redirect_code, 308);
	assert_string_equal(p->redirect_uri, "/new");
	assert_string_equal(p->redirect_authority, "b.example");
	assert_string_equal(p->redirect_scheme, "https");
	assert_int_equal(ans.timeout_ms, 0);

	k.path = "/down";
	first(c, &k);
	assert_int_equal(p->direct_status, 503);
	assert_string_equal(p->direct_body, "down\nnow");

	/* the other route has none of it: the mesh's default retries */
	k.path = "/x";
	first(c, &k);
	assert_int_equal(p->redirect_code, 0);
	assert_true(p->retries_set);
	assert_int_equal(p->retry_attempts, 2);
	assert_string_equal(p->retry_on,
	    "connect-failure,refused-stream,unavailable,cancelled");
	assert_int_equal(p->nheaders, 0);
	assert_false(p->cors);
	config_free(c);
	free(yaml);
}

static void
test_rewrite(void **state)
{
	char		*yaml;
	struct config	*c;
	struct ask	 k = { .authority = "shop" };

	(void)state;
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - name: old-new\n"
	    "    match: [{uri: {prefix: /old/}}]\n"
	    "    rewrite: {uri: /new/, authority: shop.internal}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - match: [{uri: {exact: /exact}}]\n"
	    "    rewrite: {uri: /whole}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - match: [{uri: {prefix: /re/}}]\n"
	    "    rewrite: {uriRegexRewrite: {match: \"^/re/([a-z]+)/(.*)$\", "
	    "rewrite: \"/\\\\2/\\\\1\"}}\n"
	    "    route: [{destination: {host: shop}}]\n", shop);
	c = load(yaml, NULL);
	k.path = "/old/a/b?q=1";
	first(c, &k);
	assert_string_equal(ans.policy.rewrite_path, "/new/a/b?q=1");
	assert_string_equal(ans.policy.rewrite_authority, "shop.internal");
	assert_non_null(strstr(ans.vary, "path"));
	/* %ROUTE_NAME%: the http route's name; none for an unnamed one */
	assert_string_equal(ans.policy.route_name, "old-new");
	/* an exact match: the whole path replaced, the query kept */
	k.path = "/exact?q=2";
	first(c, &k);
	assert_string_equal(ans.policy.rewrite_path, "/whole?q=2");
	assert_string_equal(ans.policy.rewrite_authority, "");
	assert_string_equal(ans.policy.route_name, "");
	k.path = "/re/abc/x/y";
	first(c, &k);
	assert_string_equal(ans.policy.rewrite_path, "/x/y/abc");
	config_free(c);
	free(yaml);
}

/*
 * A regex that cannot be matched (a byte that is not UTF-8, a pattern
 * past its budget) fails the request: the route it guards may be a 403,
 * and "no match" would skip it for the next one.
 */
static void
test_regex_fails_closed(void **state)
{
	char		*yaml;
	struct config	*c;
	struct ask	 k = { .authority = "shop" };

	(void)state;
	xasprintf(&yaml, "%s"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {regex: \"/admin.*\"}}]\n"
	    "    directResponse: {status: 403}\n"
	    "  - match: [{headers: {x-v: {regex: \"(a+)+\"}}}]\n"
	    "    directResponse: {status: 403}\n"
	    "  - match: [{uri: {prefix: /re/}}]\n"
	    "    rewrite: {uriRegexRewrite: {match: \"^/re/(.*)$\", "
	    "rewrite: \"/\\\\1\"}}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - route: [{destination: {host: shop}}]\n", shop);
	c = load(yaml, NULL);
	k.path = "/admin/x";
	first(c, &k);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.policy.direct_status, 403);
	k.path = "/admin/x\xff";
	assert_string_equal(first(c, &k), "error");
	assert_non_null(strstr(ans.reason, "regex"));
	k.path = "/public";
	assert_string_equal(first(c, &k), "10.0.0.1:80");
	k.path = "/public";
	k.headers[0] = "x-v: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
	assert_string_equal(first(c, &k), "error");
	k.headers[0] = "x-v: aaa";
	first(c, &k);
	assert_int_equal(ans.policy.direct_status, 403);
	k.headers[0] = NULL;
	k.path = "/re/x\xff";
	assert_string_equal(first(c, &k), "error");
	k.path = "/re/x";
	first(c, &k);
	assert_string_equal(ans.policy.rewrite_path, "/x");
	config_free(c);
	free(yaml);
}

/* Every added field, written and read back the same. */
static void
test_policy_wire(void **state)
{
	struct route_answer	*a = xcalloc(1, sizeof(*a));
	struct route_answer	*b = xcalloc(1, sizeof(*b));
	struct route_policy	*p = &a->policy;
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];

	(void)state;
	memset(a, 0, sizeof(*a));
	a->has_id = 1;
	a->id = 7;
	a->status = ROUTE_OK;
	util_strlcpy(a->service, "s", sizeof(a->service));
	p->cors_credentials = -1;
	p->redirect_code = 301;
	util_strlcpy(p->redirect_uri, "/n", sizeof(p->redirect_uri));
	util_strlcpy(p->redirect_authority, "b", sizeof(p->redirect_authority));
	util_strlcpy(p->redirect_scheme, "https", sizeof(p->redirect_scheme));
	p->redirect_port = 8443;
	p->direct_status = 418;
	util_strlcpy(p->direct_body, "a\\b\nc", sizeof(p->direct_body));
	util_strlcpy(p->rewrite_path, "/x?y", sizeof(p->rewrite_path));
	util_strlcpy(p->rewrite_authority, "h", sizeof(p->rewrite_authority));
	util_strlcpy(p->route_name, "r-1", sizeof(p->route_name));
	p->retry_attempts = 3;
	p->retry_per_try_ms = 2000;
	util_strlcpy(p->retry_on, "5xx,reset", sizeof(p->retry_on));
	p->fault_delay_ms = 5000;
	p->fault_delay_ppm = 125000;
	p->fault_abort_status = 503;
	p->fault_abort_ppm = 1;
	p->nmirrors = 1;
	util_strlcpy(p->mirrors[0].address, "10.0.0.1:80",
	    sizeof(p->mirrors[0].address));
	p->mirrors[0].ppm = 500000;
	util_strlcpy(p->mirrors[0].service, "m", sizeof(p->mirrors[0].service));
	p->nheaders = 2;
	p->headers[0].kind = ROUTE_REQUEST_SET;
	util_strlcpy(p->headers[0].name, "x-a", sizeof(p->headers[0].name));
	util_strlcpy(p->headers[0].value, "1 2", sizeof(p->headers[0].value));
	p->headers[1].kind = ROUTE_RESPONSE_REMOVE;
	util_strlcpy(p->headers[1].name, "x-b", sizeof(p->headers[1].name));
	p->cors = 1;
	p->norigins = 1;
	p->origins[0].kind = MATCH_PREFIX;
	util_strlcpy(p->origins[0].value, "https://a",
	    sizeof(p->origins[0].value));
	util_strlcpy(p->cors_methods, "GET", sizeof(p->cors_methods));
	p->cors_max_age_ms = 60000;
	p->cors_credentials = 1;

	msgw_init(&w);
	msg_init(&m);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, a);
	assert_non_null(strstr(w.buf, "\nredirect: 301 uri=/n authority=b "
	    "scheme=https port=8443\n"));
	assert_non_null(strstr(w.buf, "\ndirect-response: 418 a\\\\b\\nc\n"));
	assert_non_null(strstr(w.buf, "\nrequest-header-set: x-a: 1 2\n"));
	assert_non_null(strstr(w.buf, "\nresponse-header-remove: x-b\n"));
	assert_non_null(strstr(w.buf, "\nretries: attempts=3 "
	    "per-try-timeout=2000 retry-on=5xx,reset\n"));
	assert_non_null(strstr(w.buf, "\nfault-delay: 5000 percent=12.5\n"));
	assert_non_null(strstr(w.buf, "\nfault-abort: 503 percent=0.0001\n"));
	assert_non_null(strstr(w.buf, "\nmirror: 10.0.0.1:80 percent=50 "
	    "service=m\n"));
	assert_non_null(strstr(w.buf, "\ncors-allow-origin: prefix "
	    "https://a\n"));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], b, err,
	    sizeof(err)), 0);
	assert_int_equal(b->policy.redirect_code, 301);
	assert_string_equal(b->policy.route_name, "r-1");
	assert_string_equal(b->policy.redirect_uri, "/n");
	assert_string_equal(b->policy.redirect_authority, "b");
	assert_string_equal(b->policy.redirect_scheme, "https");
	assert_int_equal(b->policy.redirect_port, 8443);
	assert_int_equal(b->policy.direct_status, 418);
	assert_string_equal(b->policy.direct_body, "a\\b\nc");
	assert_string_equal(b->policy.rewrite_path, "/x?y");
	assert_string_equal(b->policy.rewrite_authority, "h");
	assert_int_equal(b->policy.retry_attempts, 3);
	assert_int_equal(b->policy.retry_per_try_ms, 2000);
	assert_string_equal(b->policy.retry_on, "5xx,reset");
	assert_int_equal(b->policy.fault_delay_ms, 5000);
	assert_int_equal(b->policy.fault_delay_ppm, 125000);
	assert_int_equal(b->policy.fault_abort_status, 503);
	assert_int_equal(b->policy.fault_abort_ppm, 1);
	assert_int_equal(b->policy.nmirrors, 1);
	assert_string_equal(b->policy.mirrors[0].address, "10.0.0.1:80");
	assert_int_equal(b->policy.mirrors[0].ppm, 500000);
	assert_string_equal(b->policy.mirrors[0].service, "m");
	assert_int_equal(b->policy.nheaders, 2);
	assert_int_equal(b->policy.headers[0].kind, ROUTE_REQUEST_SET);
	assert_string_equal(b->policy.headers[0].name, "x-a");
	assert_string_equal(b->policy.headers[0].value, "1 2");
	assert_int_equal(b->policy.headers[1].kind, ROUTE_RESPONSE_REMOVE);
	assert_string_equal(b->policy.headers[1].name, "x-b");
	assert_true(b->policy.cors);
	assert_int_equal(b->policy.norigins, 1);
	assert_int_equal(b->policy.origins[0].kind, MATCH_PREFIX);
	assert_string_equal(b->policy.origins[0].value, "https://a");
	assert_string_equal(b->policy.cors_methods, "GET");
	assert_int_equal(b->policy.cors_max_age_ms, 60000);
	assert_int_equal(b->policy.cors_credentials, 1);

	/* bad values make the answer unreadable, as bad endpoints do */
	{
		static const char *const bad[] = {
			"redirect: 200\n", "direct-response: x\n",
			"fault-abort: 503 percent=101\n",
			"fault-delay: 0\n", "request-header-set: nocolon\n",
		};
		size_t	 i;
		char	 buf[256];

		for (i = 0; i < nitems(bad); i++) {
			int n = snprintf(buf, sizeof(buf), "meshkit/1 "
			    "route-reply\n\nid: 1\n%s", bad[i]);

			assert_int_equal(msg_parse(&m, buf, (size_t)n, err,
			    sizeof(err)), 0);
			if (route_answer_read(&m, &m.records[0], b, err,
			    sizeof(err)) != -1)
				fail_msg("read \"%s\"", bad[i]);
		}
	}
	msg_fini(&m);
	msgw_fini(&w);
	free(a);
	free(b);
}


/* The retries line: the route's, MeshConfig's, or Istio's default. */
static void
test_retries_default(void **state)
{
	static const char vs[] =
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {exact: /off}}]\n"
	    "    retries: {attempts: 0, retryOn: 5xx}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - match: [{uri: {exact: /five}}]\n"
	    "    retries: {attempts: 5}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - match: [{uri: {exact: /own}}]\n"
	    "    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "
	    "\"gateway-error, 503\"}\n"
	    "    route: [{destination: {host: shop}}]\n"
	    "  - match: [{uri: {exact: /moved}}]\n"
	    "    redirect: {uri: /new}\n"
	    "  - route: [{destination: {host: shop}}]\n"
	    "---\n";
	static const char mesh[] =
	    "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: mesh}\n"
	    "spec:\n  defaultHttpRetryPolicy:\n"
	    "    attempts: 4\n    perTryTimeout: 250ms\n"
	    "    retryOn: 5xx,reset\n";
	static const char off[] =
	    "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: mesh}\n"
	    "spec: {defaultHttpRetryPolicy: {attempts: 0}}\n";
	const struct route_policy *p = &ans.policy;
	struct msg_writer	 w;
	struct ask		 k = { .authority = "shop" };
	char			*yaml;
	struct config		*c;

	(void)state;
	/* no VirtualService at all: Istio's default, not on 503 */
	c = load(shop, NULL);
	first(c, &k);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_true(p->retries_set);
	assert_int_equal(p->retry_attempts, 2);
	assert_int_equal(p->retry_per_try_ms, 0);
	assert_string_equal(p->retry_on,
	    "connect-failure,refused-stream,unavailable,cancelled");
	msgw_init(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &ans);
	assert_non_null(strstr(w.buf, "\nretries: attempts=2 "
	    "per-try-timeout=0 retry-on=connect-failure,refused-stream,"
	    "unavailable,cancelled\n"));
	config_free(c);

	xasprintf(&yaml, "%s%s", shop, vs);
	c = load(yaml, NULL);
	/* attempts 0 turns them off, and says so */
	k.path = "/off";
	first(c, &k);
	assert_true(p->retries_set);
	assert_int_equal(p->retry_attempts, 0);
	assert_string_equal(p->retry_on, "");
	msgw_reset(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &ans);
	assert_non_null(strstr(w.buf, "\nretries: attempts=0\n"));
	/* read back: a retries line saying none, not "no line" */
	{
		struct route_answer	*b = xcalloc(1, sizeof(*b));
		struct msg		 m;
		char			 err[128];

		msg_init(&m);
		assert_int_equal(msg_parse(&m, w.buf, w.len, err,
		    sizeof(err)), 0);
		assert_int_equal(route_answer_read(&m, &m.records[0], b, err,
		    sizeof(err)), 0);
		assert_true(b->policy.retries_set);
		assert_int_equal(b->policy.retry_attempts, 0);
		msg_fini(&m);
		free(b);
	}
	/* attempts alone: the default's conditions */
	k.path = "/five";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 5);
	assert_string_equal(p->retry_on,
	    "connect-failure,refused-stream,unavailable,cancelled");
	/* the route's own, spaces dropped */
	k.path = "/own";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 3);
	assert_int_equal(p->retry_per_try_ms, 1000);
	assert_string_equal(p->retry_on, "gateway-error,503");
	/* a redirect forwards nothing: nothing to retry */
	k.path = "/moved";
	first(c, &k);
	assert_false(p->retries_set);
	msgw_reset(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &ans);
	assert_null(strstr(w.buf, "retries:"));
	/* a route without retries: the default */
	k.path = "/x";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 2);
	config_free(c);
	free(yaml);

	/* MeshConfig replaces the default; a route's own still wins */
	xasprintf(&yaml, "%s%s%s", shop, vs, mesh);
	c = load(yaml, NULL);
	k.path = "/x";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 4);
	assert_int_equal(p->retry_per_try_ms, 250);
	assert_string_equal(p->retry_on, "5xx,reset");
	k.path = "/five";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 5);
	assert_int_equal(p->retry_per_try_ms, 250);
	assert_string_equal(p->retry_on, "5xx,reset");
	k.path = "/own";
	first(c, &k);
	assert_int_equal(p->retry_attempts, 3);
	assert_string_equal(p->retry_on, "gateway-error,503");
	config_free(c);
	free(yaml);
	/* and without a VirtualService too */
	xasprintf(&yaml, "%s%s", shop, mesh);
	c = load(yaml, NULL);
	first(c, &k);
	assert_int_equal(p->retry_attempts, 4);
	config_free(c);
	free(yaml);
	/* a mesh without retries */
	xasprintf(&yaml, "%s%s", shop, off);
	c = load(yaml, NULL);
	first(c, &k);
	assert_true(p->retries_set);
	assert_int_equal(p->retry_attempts, 0);
	config_free(c);
	free(yaml);
	msgw_fini(&w);
}


/* Istio merges DestinationRules for one host: subsets, first policy. */
static void
test_dr_merge(void **state)
{
	static const char se[] =
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.default.svc.cluster.local]\n"
	    "  ports: [{number: 80, name: http}]\n  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - {address: 10.0.0.1, labels: {version: v1}}\n"
	    "  - {address: 10.0.0.2, labels: {version: v1}}\n"
	    "  - {address: 10.0.0.3, labels: {version: v2}}\n"
	    "  - {address: 10.0.0.4, labels: {version: v3}}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {exact: /v1}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "  - match: [{uri: {exact: /v2}}]\n"
	    "    route: [{destination: {host: shop, subset: v2}}]\n"
	    "  - match: [{uri: {exact: /v3}}]\n"
	    "    route: [{destination: {host: shop, subset: v3}}]\n"
	    "---\n";
	/* the first: v1 and a policy */
	static const char dr1[] =
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: shop-a}\n"
	    "spec:\n  host: shop\n"
	    "  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n"
	    "  subsets:\n  - {name: v1, labels: {version: v1}}\n"
	    "---\n";
	/* the second: v2, a v1 of its own (ignored) and another policy */
	static const char dr2[] =
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: shop-b}\n"
	    "spec:\n  host: shop.default.svc.cluster.local\n"
	    "  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n"
	    "  subsets:\n  - {name: v2, labels: {version: v2}}\n"
	    "  - {name: v1, labels: {version: v3}}\n"
	    "---\n";
	/* another namespace's rule for another host of the same name */
	static const char dr3[] =
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: shop, namespace: other}\n"
	    "spec:\n  host: shop\n"
	    "  subsets:\n  - {name: v3, labels: {version: v3}}\n"
	    "---\n";
	static const char nopolicy[] =
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: shop-0}\n"
	    "spec:\n  host: shop\n"
	    "  subsets:\n  - {name: v3, labels: {version: v3}}\n"
	    "---\n";
	struct ask	 k = { .authority = "shop" };
	struct config	*c;
	char		*yaml;

	(void)state;
	xasprintf(&yaml, "%s%s%s%s", se, dr1, dr2, dr3);
	c = load(yaml, NULL);
	/* a subset of the second rule */
	k.path = "/v2";
	assert_string_equal(first(c, &k), "10.0.0.3:80");
	assert_string_equal(ans.subset, "v2");
	assert_int_equal(ans.nendpoints, 1);
	/* a name both have: the first rule's */
	k.path = "/v1";
	first(c, &k);
	assert_int_equal(ans.nendpoints, 2);
	assert_string_equal(ans.endpoints[0].address, "10.0.0.1:80");
	/* the first rule's trafficPolicy, for every subset */
	assert_int_equal(ans.lb, ROUTE_LB_RANDOM);
	k.path = "/v2";
	first(c, &k);
	assert_int_equal(ans.lb, ROUTE_LB_RANDOM);
	/* another namespace's rule is not merged in: no endpoints */
	k.path = "/v3";
	assert_string_equal(first(c, &k), "none");
	assert_non_null(strstr(ans.reason, "subset v3"));
	config_free(c);
	free(yaml);

	/* the first rule without a policy: the next one's */
	xasprintf(&yaml, "%s%s%s", se, nopolicy, dr2);
	c = load(yaml, NULL);
	k.path = "/v3";
	assert_string_equal(first(c, &k), "10.0.0.4:80");
	assert_int_equal(ans.lb, ROUTE_LB_LEAST_REQUEST);
	k.path = "/v2";
	assert_string_equal(first(c, &k), "10.0.0.3:80");
	config_free(c);
	free(yaml);

	/* order is the config's: swapped, the other rule's v1 wins */
	xasprintf(&yaml, "%s%s%s", se, dr2, dr1);
	c = load(yaml, NULL);
	k.path = "/v1";
	assert_string_equal(first(c, &k), "10.0.0.4:80");
	assert_int_equal(ans.lb, ROUTE_LB_LEAST_REQUEST);
	config_free(c);
	free(yaml);
}

/* No VirtualService: the DestinationRule still balances. */
static void
test_dr_without_vs(void **state)
{
	static const char se[] =
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.default.svc.cluster.local]\n"
	    "  ports: [{number: 80, name: http}, {number: 81, name: b}]\n"
	    "  resolution: STATIC\n"
	    "  endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}, "
	    "{address: 10.0.0.3}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  host: shop\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer: {consistentHash: {httpHeaderName: x-user}}\n"
	    "    portLevelSettings:\n"
	    "    - {port: {number: 81}, loadBalancer: {simple: RANDOM}}\n";
	struct route_state	*st = route_state_new();
	struct ask		 k = { .authority = "shop",
				    .headers = { "x-user: ann" } };
	struct config		*c = load(se, NULL);
	char			 chosen[64];
	int			 i;

	(void)state;
	decide(c, st, &k, &ans);
	assert_int_equal(ans.lb, ROUTE_LB_ORDERED);
	assert_non_null(strstr(ans.vary, "header:x-user"));
	util_strlcpy(chosen, ans.endpoints[0].address, sizeof(chosen));
	/* not rotated: the same endpoint first every time */
	for (i = 0; i < 5; i++) {
		decide(c, st, &k, &ans);
		assert_string_equal(ans.endpoints[0].address, chosen);
	}
	k.authority = "shop:81";
	decide(c, st, &k, &ans);
	assert_int_equal(ans.lb, ROUTE_LB_RANDOM);
	route_state_free(st);
	config_free(c);
}


/*
 * Fields the other cases leave unchecked, each failing if ignored:
 * redirect port and derivePort, a destination's port, mirror with
 * mirrorPercentage, response header add, CORS prefix and regex origins.
 */
static void
test_more_fields(void **state)
{
	static const char vs[] =
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {exact: /port}}]\n"
	    "    redirect: {uri: /p, port: 8443}\n"
	    "  - match: [{uri: {exact: /derive}}]\n"
	    "    redirect: {uri: /d, derivePort: FROM_REQUEST_PORT}\n"
	    "  - match: [{uri: {exact: /alt}}]\n"
	    "    route: [{destination: {host: other, port: {number: 8080}}}]\n"
	    "  - match: [{uri: {exact: /mirror}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "    mirror: {host: shop, subset: v2}\n"
	    "    mirrorPercentage: {value: 12.5}\n"
	    "    headers: {response: {add: {x-r: \"1\"}}}\n"
	    "    corsPolicy:\n"
	    "      allowOrigins: [{prefix: \"https://a.\"}, "
	    "{regex: \"https://.*[.]example\"}]\n"
	    "  - route: [{destination: {host: shop}}]\n";
	const struct route_policy *p = &ans.policy;
	struct ask	 k = { .authority = "shop" };
	struct config	*c;
	char		*yaml;

	(void)state;
	xasprintf(&yaml, "%s%s", shop, vs);
	c = load(yaml, NULL);
	k.path = "/port";
	first(c, &k);
	assert_int_equal(p->redirect_code, 301);
	assert_int_equal(p->redirect_port, 8443);
	/* derivePort: the request's own port */
	k.path = "/derive";
	k.authority = "shop:80";
	first(c, &k);
	assert_int_equal(p->redirect_port, 80);
	k.authority = "shop";
	/* the destination's port picks the service's port and endpoints */
	k.path = "/alt";
	assert_string_equal(first(c, &k), "10.0.1.1:8080");
	assert_int_equal(ans.port, 8080);
	assert_string_equal(ans.service, "other.default.svc.cluster.local");
	/* mirror (singular), its subset and mirrorPercentage */
	k.path = "/mirror";
	first(c, &k);
	assert_int_equal(p->nmirrors, 1);
	assert_true(strcmp(p->mirrors[0].address, "10.0.0.3:80") == 0 ||
	    strcmp(p->mirrors[0].address, "10.0.0.4:80") == 0);
	assert_int_equal(p->mirrors[0].ppm, 125000);
	assert_int_equal(p->nheaders, 1);
	assert_int_equal(p->headers[0].kind, ROUTE_RESPONSE_ADD);
	assert_string_equal(p->headers[0].name, "x-r");
	assert_string_equal(p->headers[0].value, "1");
	assert_int_equal(p->norigins, 2);
	assert_int_equal(p->origins[0].kind, MATCH_PREFIX);
	assert_string_equal(p->origins[0].value, "https://a.");
	assert_int_equal(p->origins[1].kind, MATCH_REGEX);
	assert_string_equal(p->origins[1].value, "https://.*[.]example");
	config_free(c);
	free(yaml);
}

/*
 * The deprecated mirrorPercent, which Istio still honours: 0 mirrors
 * nothing (route-d leaves the mirror out), mirrorPercentage wins over
 * it, and without either the mirror takes every request.
 */
static void
test_mirror_percent(void **state)
{
	static const char vs[] =
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop]\n  http:\n"
	    "  - match: [{uri: {exact: /half}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "    mirror: {host: other}\n    mirrorPercent: 50\n"
	    "  - match: [{uri: {exact: /none}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "    mirror: {host: other}\n    mirrorPercent: 0\n"
	    "  - match: [{uri: {exact: /both}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "    mirror: {host: other}\n    mirrorPercent: 50\n"
	    "    mirrorPercentage: {value: 10}\n"
	    "  - match: [{uri: {exact: /zero}}]\n"
	    "    route: [{destination: {host: shop, subset: v1}}]\n"
	    "    mirror: {host: other}\n"
	    "    mirrorPercentage: {value: 0}\n"
	    "  - route: [{destination: {host: shop}}]\n"
	    "    mirror: {host: other}\n";
	const struct route_policy *p = &ans.policy;
	struct ask	 k = { .authority = "shop" };
	struct config	*c;
	char		*yaml;

	(void)state;
	xasprintf(&yaml, "%s%s", shop, vs);
	c = load(yaml, NULL);
	k.path = "/half";
	first(c, &k);
	assert_int_equal(p->nmirrors, 1);
	assert_int_equal(p->mirrors[0].ppm, 500000);
	k.path = "/none";
	first(c, &k);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(p->nmirrors, 0);
	k.path = "/both";
	first(c, &k);
	assert_int_equal(p->nmirrors, 1);
	assert_int_equal(p->mirrors[0].ppm, 100000);
	k.path = "/zero";
	first(c, &k);
	assert_int_equal(p->nmirrors, 0);
	k.path = "/else";
	first(c, &k);
	assert_int_equal(p->nmirrors, 1);
	assert_int_equal(p->mirrors[0].ppm, 1000000);
	config_free(c);
	free(yaml);
}

/*
 * Ring hash and maglev are two different tables, and the ring's size
 * shapes the ring: for the same keys each choice differs somewhere.  If
 * maglev or minimumRingSize were ignored, the choices would all agree.
 */
static void
test_hash_kinds(void **state)
{
	static const char *const how[] = {
		"ringHash: {minimumRingSize: 1024}",
		"ringHash: {minimumRingSize: 3}",
		"maglev: {tableSize: 1031}",
		"minimumRingSize: 3",
	};
	char		 chosen[nitems(how)][64][64];
	char		*yaml, user[64];
	struct config	*c;
	struct ask	 k;
	size_t		 i, u, diff;

	(void)state;
	for (i = 0; i < nitems(how); i++) {
		xasprintf(&yaml,
		    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		    "metadata: {name: hash}\n"
		    "spec:\n  hosts: [hash.default.svc.cluster.local]\n"
		    "  ports: [{number: 80, name: http}]\n"
		    "  resolution: STATIC\n"
		    "  endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}, "
		    "{address: 10.0.0.3}, {address: 10.0.0.4}]\n"
		    "---\n"
		    "apiVersion: networking.istio.io/v1\n"
		    "kind: DestinationRule\nmetadata: {name: hash}\n"
		    "spec:\n  host: hash\n  trafficPolicy:\n"
		    "    loadBalancer: {consistentHash: {httpHeaderName: x-user, "
		    "%s}}\n", how[i]);
		c = load(yaml, NULL);
		for (u = 0; u < 64; u++) {
			snprintf(user, sizeof(user), "x-user: u%zu", u);
			memset(&k, 0, sizeof(k));
			k.authority = "hash";
			k.headers[0] = user;
			decide(c, NULL, &k, &ans);
			assert_int_equal(ans.lb, ROUTE_LB_ORDERED);
			util_strlcpy(chosen[i][u], ans.endpoints[0].address,
			    sizeof(chosen[i][u]));
		}
		config_free(c);
		free(yaml);
	}
	for (i = 1; i < 3; i++) {
		for (u = 0, diff = 0; u < 64; u++)
			diff += strcmp(chosen[0][u], chosen[i][u]) != 0;
		if (diff == 0)
			fail_msg("\"%s\" chose as \"%s\" for every key",
			    how[i], how[0]);
	}
	/* the deprecated spelling is the same ring */
	for (u = 0; u < 64; u++)
		assert_string_equal(chosen[1][u], chosen[3][u]);
}

/* The walkthrough's tests run on meshkit's files, then the article's. */
#define OWN(f)		{ .name = #f " (own)", .test_func = f,		\
			    .setup_func = use_own }
#define ARTICLE(f)	{ .name = #f " (article)", .test_func = f,	\
			    .setup_func = use_article }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		OWN(test_article_default),
		OWN(test_article_subsets),
		OWN(test_article_75_25),
		ARTICLE(test_article_default),
		ARTICLE(test_article_subsets),
		ARTICLE(test_article_75_25),
		cmocka_unit_test(test_bookinfo_jason),
		cmocka_unit_test(test_match_fields),
		cmocka_unit_test(test_match_or_and),
		cmocka_unit_test(test_no_route_and_gateways),
		cmocka_unit_test(test_weights_exact),
		cmocka_unit_test(test_kube_target_port),
		cmocka_unit_test(test_load_balancer),
		cmocka_unit_test(test_consistent_hash),
		cmocka_unit_test(test_policy_fields),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_regex_fails_closed),
		cmocka_unit_test(test_policy_wire),
		cmocka_unit_test(test_retries_default),
		cmocka_unit_test(test_dr_merge),
		cmocka_unit_test(test_dr_without_vs),
		cmocka_unit_test(test_more_fields),
		cmocka_unit_test(test_mirror_percent),
		cmocka_unit_test(test_hash_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
