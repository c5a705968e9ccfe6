/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/config_networking.c and lib/match.c: VirtualService,
 * DestinationRule and Kubernetes Service read into their typed forms,
 * Istio's validation rules, and the string matches.
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
#include "helpers.h"
#include "match.h"
#include "util.h"
#include "yaml.h"

static void	test_virtual_service(void **);
static void	test_virtual_service_errors(void **);
static void	test_destination_rule(void **);
static void	test_destination_rule_errors(void **);
static void	test_kube_service(void **);
static void	circuit_breaker_file(const char *);
static void	test_circuit_breaker(void **);
static void	test_circuit_breaker_article(void **);
static void	test_match_string(void **);
static void	test_regex(void **);
static void	test_mesh_config(void **);

#define VS_HEAD	"apiVersion: networking.istio.io/v1\nkind: VirtualService\n" \
		"metadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n"
#define DR_HEAD	"apiVersion: networking.istio.io/v1beta1\n" \
		"kind: DestinationRule\nmetadata: {name: r}\nspec:\n" \
		"  host: r\n"

static void
test_virtual_service(void **state)
{
	static const char yaml[] = VS_HEAD
	    "  - name: jason\n"
	    "    match:\n"
	    "    - headers:\n"
	    "        End-User: {exact: jason}\n"
	    "        x-any: {}\n"
	    "      uri: {regex: \"/Rate/[0-9]+\"}\n"
	    "      ignoreUriCase: true\n"
	    "      method: {exact: GET}\n"
	    "      authority: {prefix: rat}\n"
	    "      scheme: {exact: http}\n"
	    "      port: 8080\n"
	    "      queryParams: {v: {exact: \"2\"}}\n"
	    "      withoutHeaders: {x-test: {prefix: a}}\n"
	    "      sourceLabels: {app: book}\n"
	    "      sourceNamespace: default\n"
	    "    - uri: {prefix: /b}\n"
	    "    route:\n"
	    "    - destination: {host: Rating, subset: v2, port: {number: 80}}\n"
	    "      weight: 75\n"
	    "      headers:\n"
	    "        request: {set: {X-A: b}, add: {x-c: d}, remove: [X-E]}\n"
	    "    - destination: {host: rating, subset: v1}\n"
	    "      weight: 25\n"
	    "    timeout: 2s\n"
	    "    retries: {attempts: 3, perTryTimeout: 500ms, "
	    "retryOn: \"5xx,connect-failure,503\"}\n"
	    "    fault:\n"
	    "      delay: {fixedDelay: 5s, percentage: {value: 12.5}}\n"
	    "      abort: {httpStatus: 503, percent: 10}\n"
	    "    mirror: {host: shadow}\n"
	    "    mirrorPercentage: {value: 50}\n"
	    "    rewrite: {uri: /v2, authority: new}\n"
	    "    corsPolicy:\n"
	    "      allowOrigins: [{exact: \"https://a\"}, {regex: "
	    "\"https://.*\\\\.b\"}]\n"
	    "      allowMethods: [GET, POST]\n"
	    "      maxAge: 24h\n"
	    "      allowCredentials: true\n"
	    "    headers:\n"
	    "      response: {set: {x-r: \"1\"}}\n"
	    "  - redirect: {uri: /new, authority: b, redirectCode: 302}\n"
	    "  - directResponse: {status: 503, body: {string: down}}\n"
	    "  - route: [{destination: {host: r}}]\n"
	    "    rewrite: {uriRegexRewrite: {match: \"/a(.*)\", "
	    "rewrite: \"/b\\\\1\"}}\n";
	struct loaded			 l;
	const struct virtual_service	*vs;
	const struct http_route		*h;
	const struct http_match		*m;

	(void)state;
	load(&l, yaml);
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->nvirtual_services, 1);
	/* the tree stays for whoever reads resources */
	assert_int_equal(l.cfg->nresources, 1);
	vs = &l.cfg->virtual_services[0];
	assert_string_equal(vs->meta.name, "r");
	assert_int_equal(vs->nhttp, 4);
	h = &vs->http[0];
	assert_string_equal(h->name, "jason");
	assert_int_equal(h->nmatches, 2);
	m = &h->matches[0];
	assert_int_equal(m->nheaders, 2);
	assert_string_equal(m->headers[0].name, "end-user");
	assert_int_equal(m->headers[0].match.kind, MATCH_EXACT);
	assert_int_equal(m->headers[1].match.kind, MATCH_ANY);
	assert_int_equal(m->uri.kind, MATCH_REGEX);
	assert_true(m->ignore_uri_case);
	/* compiled caseless because of ignoreUriCase */
	assert_int_equal(match_string_test(&m->uri, "/rate/12", 8, 0),
	    MATCH_YES);
	assert_int_equal(m->method.kind, MATCH_EXACT);
	assert_int_equal(m->authority.kind, MATCH_PREFIX);
	assert_int_equal(m->scheme.kind, MATCH_EXACT);
	assert_int_equal(m->port, 8080);
	assert_int_equal(m->nquery_params, 1);
	assert_int_equal(m->nwithout_headers, 1);
	assert_string_equal(labels_get(&m->source_labels, "app"), "book");
	assert_string_equal(m->source_namespace, "default");
	assert_int_equal(h->nroutes, 2);
	assert_string_equal(h->routes[0].host, "rating");
	assert_string_equal(h->routes[0].subset, "v2");
	assert_int_equal(h->routes[0].port, 80);
	assert_int_equal(h->routes[0].weight, 75);
	assert_int_equal(h->routes[1].weight, 25);
	assert_string_equal(labels_get(&h->routes[0].headers.request.set,
	    "x-a"), "b");
	assert_int_equal(h->routes[0].headers.request.nremove, 1);
	assert_string_equal(h->routes[0].headers.request.remove[0], "x-e");
	assert_int_equal(h->timeout_ms, 2000);
	assert_non_null(h->retries);
	assert_int_equal(h->retries->attempts, 3);
	assert_int_equal(h->retries->per_try_timeout_ms, 500);
	assert_string_equal(h->retries->retry_on, "5xx,connect-failure,503");
	assert_int_equal(h->fault.delay_ms, 5000);
	assert_int_equal(h->fault.delay_ppm, 125000);
	assert_int_equal(h->fault.abort_status, 503);
	assert_int_equal(h->fault.abort_ppm, 100000);
	assert_int_equal(h->nmirrors, 1);
	assert_string_equal(h->mirrors[0].host, "shadow");
	assert_int_equal(h->mirrors[0].mirror_ppm, 500000);
	assert_string_equal(h->rewrite->uri, "/v2");
	assert_string_equal(h->rewrite->authority, "new");
	assert_int_equal(h->cors->nallow_origins, 2);
	assert_int_equal(h->cors->max_age_ms, 24 * 3600 * 1000);
	assert_int_equal(h->cors->allow_credentials, 1);
	assert_string_equal(labels_get(&h->headers.response.set, "x-r"), "1");
	assert_int_equal(vs->http[1].redirect->code, 302);
	assert_string_equal(vs->http[1].redirect->uri, "/new");
	assert_int_equal(vs->http[2].direct_status, 503);
	assert_string_equal(vs->http[2].direct_body, "down");
	/* one destination without a weight takes all */
	assert_int_equal(vs->http[3].routes[0].weight, 100);
	assert_non_null(vs->http[3].rewrite->regex);
	done(&l);
}

static void
test_virtual_service_errors(void **state)
{
	(void)state;
	assert_refused(VS_HEAD "  - route:\n"
	    "    - destination: {host: a}\n      weight: 70\n"
	    "    - destination: {host: b}\n      weight: 20\n",
	    "m.yaml:8:5: route weights must sum to 100, got 90");
	assert_refused(VS_HEAD "  - route:\n"
	    "    - destination: {host: a}\n      weight: 120\n",
	    "m.yaml:9:15: weight must be 0..100, got 120");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    timeot: 1s\n",
	    "m.yaml:8:5: unknown field timeot in HTTPRoute");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    timeout: soon\n",
	    "timeout must be a positive duration");
	assert_refused(VS_HEAD "  - match: [{uri: {regex: \"(a\"}}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "uri: bad regex: missing closing parenthesis");
	assert_refused(VS_HEAD "  - match: [{uri: {regex: \"(a)\\\\1\"}}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "backreferences are not RE2 syntax");
	assert_refused(VS_HEAD "  - match: [{uri: {exact: /a, prefix: /b}}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "uri takes one of exact, prefix and regex");
	assert_refused(VS_HEAD "  - match: [{uri: {suffix: /a}}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "unknown field suffix in uri");
	assert_refused(VS_HEAD "  - match: [{headers: {uri: {exact: /a}}}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "header name uri is reserved");
	assert_refused(VS_HEAD "  - route: [{destination: {subset: v1}}]\n",
	    "destination: host is required");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    redirect: {uri: /b}\n",
	    "route cannot be set with redirect or directResponse");
	assert_refused(VS_HEAD "  - match: [{uri: {exact: /}}]\n",
	    "HTTPRoute needs route, redirect or directResponse");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    fault: {abort: {percentage: {value: 101}, httpStatus: 503}}\n",
	    "percentage must be a number 0..100, got \"101\"");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    retries: {attempts: 2, retryOn: \"5xx,sometimes\"}\n",
	    "retryOn: unknown condition \"sometimes\"");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: VirtualService\n"
	    "metadata: {name: r}\nspec:\n  http: []\n",
	    "hosts is required in VirtualService spec");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    headers: {request: {set: {x-a: \"1\\r\\nx-b: 2\"}}}\n",
	    "header x-a: a name must be a token and a value one line");
	assert_refused(VS_HEAD "  - route: [{destination: {host: a}}]\n"
	    "    headers: {response: {add: {\"x a\": \"1\"}}}\n",
	    "header x a: a name must be a token");
	assert_refused(VS_HEAD "  - directResponse: {status: 99}\n",
	    "directResponse status must be 200..599, got 99");
}

static void
test_destination_rule(void **state)
{
	static const char yaml[] = DR_HEAD
	    "  trafficPolicy:\n"
	    "    loadBalancer: {simple: LEAST_REQUEST}\n"
	    "    connectionPool: {tcp: {maxConnections: 1}}\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, interval: 1s}\n"
	    "    portLevelSettings:\n"
	    "    - port: {number: 9080}\n"
	    "      loadBalancer: {simple: RANDOM}\n"
	    "  subsets:\n"
	    "  - name: v1\n"
	    "    labels: {version: v1}\n"
	    "  - name: v2\n"
	    "    labels: {version: v2}\n"
	    "    trafficPolicy:\n"
	    "      loadBalancer:\n"
	    "        consistentHash:\n"
	    "          httpHeaderName: X-User\n"
	    "          maglev: {tableSize: 251}\n"
	    "  - name: v3\n"
	    "    trafficPolicy:\n"
	    "      loadBalancer:\n"
	    "        consistentHash:\n"
	    "          httpCookie: {name: user, ttl: 10s}\n"
	    "          ringHash: {minimumRingSize: 64}\n";
	struct loaded			 l;
	const struct destination_rule	*dr;

	(void)state;
	load(&l, yaml);
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->ndestination_rules, 1);
	dr = &l.cfg->destination_rules[0];
	assert_string_equal(dr->host, "r");
	assert_true(dr->has_policy);
	assert_int_equal(dr->policy.simple, LB_LEAST_REQUEST);
	assert_non_null(dr->policy.connection_pool);
	assert_non_null(dr->policy.outlier_detection);
	assert_int_equal(dr->policy.nports, 1);
	assert_int_equal(dr->policy.ports[0].port, 9080);
	assert_int_equal(dr->policy.ports[0].policy.simple, LB_RANDOM);
	assert_int_equal(dr->nsubsets, 3);
	assert_string_equal(labels_get(&dr->subsets[0].labels, "version"),
	    "v1");
	assert_int_equal(dr->subsets[1].policy.hash, HASH_HEADER);
	assert_string_equal(dr->subsets[1].policy.hash_key, "x-user");
	assert_true(dr->subsets[1].policy.maglev);
	assert_int_equal(dr->subsets[1].policy.maglev_size, 251);
	assert_int_equal(dr->subsets[2].policy.hash, HASH_COOKIE);
	assert_string_equal(dr->subsets[2].policy.hash_key, "user");
	assert_int_equal(dr->subsets[2].policy.cookie_ttl_ms, 10000);
	assert_false(dr->subsets[2].policy.maglev);
	assert_int_equal(dr->subsets[2].policy.ring_size, 64);
	done(&l);
}

static void
test_destination_rule_errors(void **state)
{
	(void)state;
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    loadBalancer: {simple: FASTEST}\n",
	    "loadBalancer simple must be UNSPECIFIED");
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    loadBalancer: {consistentHash: {}}\n",
	    "consistentHash needs one of httpHeaderName");
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    loadBalancer: {consistentHash: {useSourceIp: true, "
	    "maglev: {tableSize: 100}}}\n",
	    "maglev tableSize must be a prime, got 100");
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    connectionPool: {tcpp: {}}\n",
	    "unknown field tcpp in connectionPool");
	assert_refused(DR_HEAD "  subsets:\n  - name: a\n  - name: a\n",
	    "duplicate subset name a");
	assert_refused(DR_HEAD "  subsets:\n  - labels: {a: b}\n",
	    "subset name is required");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: r}\nspec: {}\n",
	    "host is required in DestinationRule spec");
}

/* The article's circuit breaker, from the file at path. */
static void
circuit_breaker_file(const char *path)
{
	char				*yaml;
	FILE				*f;
	long				 n;
	struct loaded			 l;
	const struct traffic_policy	*p;

	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	yaml = xcalloc(1, (size_t)n + 1);
	assert_int_equal(fread(yaml, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	load(&l, yaml);
	assert_non_null(l.cfg);
	p = &l.cfg->destination_rules[0].policy;
	assert_int_equal(p->pool.http1_max_pending, 3);
	assert_int_equal(p->pool.max_requests_per_connection, 3);
	assert_int_equal(p->pool.max_connections, 3);
	assert_int_equal(p->outlier.base_ejection_ms, 180000);
	assert_int_equal(p->outlier.consecutive_5xx, 1);
	assert_int_equal(p->outlier.interval_ms, 1000);
	assert_int_equal(p->outlier.max_ejection_percent, 100);
	done(&l);
	free(yaml);
}

/*
 * The walkthrough's circuit breaker (the article's, in meshkit's own
 * words): connectionPool and outlierDetection.
 */
static void
test_circuit_breaker(void **state)
{
	const char	*top = getenv("MESHKIT_TOP");
	char		*path;

	(void)state;
	xasprintf(&path, "%s/etc/bookstore/walkthrough/destination-rule-"
	    "circuit-breaker.yml", top != NULL && *top != '\0' ? top : ".");
	circuit_breaker_file(path);
	free(path);
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    outlierDetection: {maxEjectionPercent: 101}\n",
	    "maxEjectionPercent must be 0..100, got 101");
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    connectionPool: {http: {http1MaxPending: 1}}\n",
	    "unknown field http1MaxPending in connectionPool.http");
	assert_refused(DR_HEAD "  trafficPolicy:\n"
	    "    outlierDetection: {interval: often}\n",
	    "interval must be a positive duration");
}

/* The article's own file, in the conformance stage. */
static void
test_circuit_breaker_article(void **state)
{
	const char	*env = getenv("MESHKIT_SHARED");
	char		*path;

	(void)state;
	xasprintf(&path, "%s/testdata/article/destination-rule-circuit-"
	    "breaker.yml", env != NULL && *env != '\0' ? env : "../shared");
	if (access(path, R_OK) == -1) {
		free(path);
		skip();
	}
	circuit_breaker_file(path);
	free(path);
}

static void
test_kube_service(void **state)
{
	static const char yaml[] =
	    "apiVersion: v1\nkind: Service\n"
	    "metadata: {name: rating, namespace: shop}\n"
	    "spec:\n"
	    "  type: LoadBalancer\n"
	    "  selector: {app: rating}\n"
	    "  ports:\n"
	    "  - {name: http, port: 8080, targetPort: 9080}\n"
	    "  - {name: admin, port: 8081, targetPort: admin-port}\n";
	struct loaded			 l;
	const struct service_entry	*se;

	(void)state;
	load(&l, yaml);
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->nkube_services, 1);
	se = &l.cfg->kube_services[0];
	assert_string_equal(se->hosts[0], "rating.shop.svc.cluster.local");
	assert_true(se->has_selector);
	assert_string_equal(labels_get(&se->selector, "app"), "rating");
	assert_int_equal(se->nports, 2);
	assert_int_equal(se->ports[0].number, 8080);
	assert_int_equal(se->ports[0].target_port, 9080);
	assert_string_equal(se->ports[1].target_port_name, "admin-port");
	done(&l);
	assert_refused("apiVersion: v1\nkind: Service\nmetadata: {name: r}\n"
	    "spec:\n  ports: [{name: http, prot: 1}]\n",
	    "unknown field prot in Service port");
}

static void
test_match_string(void **state)
{
	struct string_match	 m = { MATCH_EXACT, "/a", NULL };

	(void)state;
	assert_int_equal(match_string_test(&m, "/a", 2, 0), MATCH_YES);
	assert_int_equal(match_string_test(&m, "/A", 2, 0), MATCH_NO);
	assert_int_equal(match_string_test(&m, "/A", 2, 1), MATCH_YES);
	assert_int_equal(match_string_test(&m, "/ab", 3, 0), MATCH_NO);
	m.kind = MATCH_PREFIX;
	assert_int_equal(match_string_test(&m, "/ab", 3, 0), MATCH_YES);
	assert_int_equal(match_string_test(&m, "/", 1, 0), MATCH_NO);
	assert_int_equal(match_string_test(&m, "/AB", 3, 1), MATCH_YES);
	m.kind = MATCH_ANY;
	assert_int_equal(match_string_test(&m, "", 0, 0), MATCH_YES);
}

static void
test_regex(void **state)
{
	char	 err[200], out[128];
	void	*re;

	(void)state;
	/* RE2's match is a full match: anchored at both ends */
	re = match_regex_compile("/rate/[0-9]+", 0, err, sizeof(err));
	assert_non_null(re);
	assert_true(match_regex(re, "/rate/12", 8));
	assert_false(match_regex(re, "/rate/12x", 9));
	assert_false(match_regex(re, "x/rate/12", 9));
	assert_false(match_regex(re, "/RATE/12", 8));
	match_regex_free(re);
	/* a catastrophic pattern hits the budget instead of stalling */
	re = match_regex_compile("(a+)+b", 0, err, sizeof(err));
	assert_non_null(re);
	assert_false(match_regex(re, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
	    41));
	match_regex_free(re);
	/* one with no required character to give it away: out of budget,
	   which is an error, not a miss */
	re = match_regex_compile("(a+)+", 0, err, sizeof(err));
	assert_non_null(re);
	assert_int_equal(match_regex_test(re,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", 41), MATCH_ERROR);
	assert_false(match_regex(re,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", 41));
	assert_int_equal(match_regex_test(re, "aaa", 3), MATCH_YES);
	assert_int_equal(match_regex_test(re, "c", 1), MATCH_NO);
	match_regex_free(re);
	/* a subject that is not UTF-8 is an error too */
	re = match_regex_compile("/admin.*", 0, err, sizeof(err));
	assert_non_null(re);
	assert_int_equal(match_regex_test(re, "/admin/x", 8), MATCH_YES);
	assert_int_equal(match_regex_test(re, "/admin/x\xff", 9),
	    MATCH_ERROR);
	assert_int_equal(match_regex_test(re, "/public", 7), MATCH_NO);
	match_regex_free(re);
	assert_null(match_regex_compile("(?=a)", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "lookaround"));
	re = match_regex_search_compile("^/a/(.*)", err, sizeof(err));
	assert_int_equal(match_regex_replace(re, "/a/x/y", 6, "/b/\\1", out,
	    sizeof(out)), MATCH_YES);
	assert_string_equal(out, "/b/x/y");
	assert_int_equal(match_regex_replace(re, "/c", 2, "/b/\\1", out,
	    sizeof(out)), MATCH_NO);
	/* not UTF-8, or too long for out: an error, not "no match" */
	assert_int_equal(match_regex_replace(re, "/a/\xff", 4, "/b/\\1",
	    out, sizeof(out)), MATCH_ERROR);
	assert_int_equal(match_regex_replace(re, "/a/xxxxxxxxxxxxxxxx", 19,
	    "/b/\\1", out, 8), MATCH_ERROR);
	match_regex_free(re);
}


#define MC_HEAD	"apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n" \
		"metadata: {name: mesh}\nspec:\n"

static void
test_mesh_config(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, MC_HEAD "  defaultHttpRetryPolicy:\n"
	    "    attempts: 3\n    perTryTimeout: 2s\n"
	    "    retryOn: \" 5xx , retriable-4xx,reset,connect-failure,"
	    "refused-stream,retriable-status-codes,unavailable,cancelled,"
	    "deadline-exceeded,resource-exhausted,gateway-error,503\"\n");
	assert_non_null(l.cfg);
	assert_non_null(l.cfg->mesh);
	assert_non_null(l.cfg->mesh->default_retries);
	assert_int_equal(l.cfg->mesh->default_retries->attempts, 3);
	assert_int_equal(l.cfg->mesh->default_retries->per_try_timeout_ms,
	    2000);
	assert_string_equal(l.cfg->mesh->default_retries->retry_on,
	    "5xx,retriable-4xx,reset,connect-failure,refused-stream,"
	    "retriable-status-codes,unavailable,cancelled,deadline-exceeded,"
	    "resource-exhausted,gateway-error,503");
	/* kept as a resource too, for meshctl get and apply */
	assert_int_equal(l.cfg->nresources, 1);
	assert_string_equal(l.cfg->resources[0].meta.kind, "MeshConfig");
	done(&l);
	/* an empty one is no MeshConfig policy at all */
	load(&l, MC_HEAD "  {}\n");
	assert_non_null(l.cfg);
	assert_null(l.cfg->mesh->default_retries);
	assert_string_equal(config_root_namespace(l.cfg), "istio-system");
	assert_int_equal(l.cfg->mesh->path_normalization, URI_NORMALIZE_BASE);
	done(&l);
	/* pathNormalization, Istio's field and names */
	{
		static const struct {
			const char		*name;
			enum uri_normalization	 mode;
		} modes[] = {
			{ "DEFAULT", URI_NORMALIZE_BASE },
			{ "BASE", URI_NORMALIZE_BASE },
			{ "NONE", URI_NORMALIZE_NONE },
			{ "MERGE_SLASHES", URI_NORMALIZE_MERGE_SLASHES },
			{ "DECODE_AND_MERGE_SLASHES",
			    URI_NORMALIZE_DECODE_AND_MERGE_SLASHES },
		};
		char	*yaml;
		size_t	 i;

		for (i = 0; i < nitems(modes); i++) {
			xasprintf(&yaml, MC_HEAD "  pathNormalization:\n"
			    "    normalization: %s\n", modes[i].name);
			load(&l, yaml);
			assert_non_null(l.cfg);
			assert_int_equal(l.cfg->mesh->path_normalization,
			    modes[i].mode);
			done(&l);
			free(yaml);
		}
	}
	load(&l, MC_HEAD "  pathNormalization: {}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->mesh->path_normalization, URI_NORMALIZE_BASE);
	done(&l);
	assert_refused(MC_HEAD "  pathNormalization: {normalization: merge}\n",
	    "m.yaml:5:38: pathNormalization.normalization must be DEFAULT, "
	    "NONE, BASE, MERGE_SLASHES or DECODE_AND_MERGE_SLASHES, got "
	    "\"merge\"");
	assert_refused(MC_HEAD "  pathNormalization: {mode: BASE}\n",
	    "unknown field mode in pathNormalization");
	/* rootNamespace: a namespace name */
	load(&l, MC_HEAD "  rootNamespace: mesh-root\n");
	assert_non_null(l.cfg);
	assert_string_equal(config_root_namespace(l.cfg), "mesh-root");
	done(&l);
	assert_string_equal(config_root_namespace(NULL), "istio-system");
	assert_refused(MC_HEAD "  rootNamespace: Mesh_Root\n",
	    "m.yaml:5:18: rootNamespace must be a namespace name (RFC 1123: "
	    "1 to 63 of a-z, 0-9 and '-', not at either end), got "
	    "\"Mesh_Root\"");
	assert_refused(MC_HEAD "  rootNamespace: \"\"\n",
	    "rootNamespace must be a namespace name");
	assert_refused(MC_HEAD "  rootNamespace: -root\n",
	    "rootNamespace must be a namespace name");
	assert_refused(MC_HEAD "  rootNamespace: [a]\n", "rootNamespace");
	assert_refused(MC_HEAD "  pathNormalization: BASE\n",
	    "pathNormalization must be a map");

	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {retryOn: "
	    "\"5xx,sometimes\"}\n",
	    "m.yaml:5:37: retryOn: unknown condition "
	    "\"sometimes\"");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {retryOn: \"600\"}\n",
	    "unknown condition \"600\"");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {retryOn: \",\"}\n",
	    "no retry condition");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {attempts: -1}\n",
	    "attempts");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {tries: 3}\n",
	    "unknown field tries in defaultHttpRetryPolicy");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: {perTryTimeout: "
	    "soon}\n", "perTryTimeout");
	assert_refused(MC_HEAD "  enablePrometheusMerge: true\n",
	    "unknown field enablePrometheusMerge in MeshConfig spec");
	assert_refused(MC_HEAD "  defaultHttpRetryPolicy: 3\n",
	    "defaultHttpRetryPolicy");
	assert_refused(MC_HEAD "  {}\n---\n"
	    "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: other}\nspec: {}\n",
	    "only one MeshConfig may be given (first at m.yaml:1:1)");
	assert_refused("apiVersion: meshkit.io/v1\nkind: MeshConfig\n"
	    "metadata: {name: mesh}\n", "not valid for kind MeshConfig");
	/* the same checks of a VirtualService's retries */
	assert_refused(VS_HEAD "  - route: [{destination: {host: r}}]\n"
	    "    retries: {attempts: 2, retryOn: \" , \"}\n",
	    "no retry condition");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_service),
		cmocka_unit_test(test_virtual_service_errors),
		cmocka_unit_test(test_destination_rule),
		cmocka_unit_test(test_destination_rule_errors),
		cmocka_unit_test(test_kube_service),
		cmocka_unit_test(test_circuit_breaker),
		cmocka_unit_test(test_circuit_breaker_article),
		cmocka_unit_test(test_match_string),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_mesh_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
