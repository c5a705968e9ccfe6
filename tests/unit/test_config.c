/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the config module (lib/config*.c): the real Istio and
 * article files load, every kind is typed or kept or skipped as it
 * should be, and every error a user can cause is reported with its
 * position.
 */
#include <sys/stat.h>

#include <dirent.h>
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
#include "util.h"

static void	 assert_loads(const char *);
static char	*shared_dir(void);
static void	 load_shared_dir(const char *, size_t *);
static void	 write_file(const char *, const char *, const char *);
static void	 test_bookinfo(void **);
static void	 test_article(void **);
static void	 test_example_proxy(void **);
static void	 test_proxy_defaults(void **);
static void	 test_proxy_errors(void **);
static void	 test_service_entry(void **);
static void	 test_service_entry_errors(void **);
static void	 test_workload_entry(void **);
static void	 test_api_versions(void **);
static void	 test_kinds(void **);
static void	 test_envelope(void **);
static void	 test_list(void **);
static void	 test_duplicates(void **);
static void	 test_all_errors(void **);
static void	 test_hostile(void **);
static void	 test_load_dir(void **);
static void	 test_load_files(void **);
static void	 test_labels(void **);
static void	 test_find_proxy(void **);

static void
assert_loads(const char *yaml)
{
	struct loaded	 l;

	load(&l, yaml);
	if (l.cfg == NULL || l.errs.nerrors != 0)
		fail_msg("should load, got:\n%s", l.text);
	done(&l);
}

/* The conformance data; the test is skipped without it. */
static char *
shared_dir(void)
{
	const char	*env = getenv("MESHKIT_SHARED");
	char		 data[4096];

	snprintf(data, sizeof(data), "%s/testdata",
	    env != NULL && *env != '\0' ? env : "../shared");
	if (access(data, R_OK) == -1)
		skip();
	return xstrdup(env != NULL && *env != '\0' ? env : "../shared");
}

/*
 * Each file alone: the samples are alternatives (several VirtualServices
 * named "reviews"), so a directory of them is rightly a duplicate error.
 */
static void
load_shared_dir(const char *sub, size_t *nfiles)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*base, *dir, **paths, *text;
	size_t			  n, i;

	base = shared_dir();
	xasprintf(&dir, "%s/%s", base, sub);
	memset(&errs, 0, sizeof(errs));
	if (config_dir_files(dir, &paths, &n, &errs) == -1)
		fail_msg("%s: cannot list (set MESHKIT_SHARED)", dir);
	for (i = 0; i < n; i++) {
		cfg = config_load_files(&paths[i], 1, &errs);
		if (cfg == NULL || errs.nerrors != 0) {
			text = NULL;
			cfg_errors_print(&errs, 0, collect, &text);
			fail_msg("%s does not load:\n%s", paths[i], text);
		}
		config_free(cfg);
	}
	*nfiles = n;
	config_paths_free(paths, n);
	cfg_errors_fini(&errs);
	free(dir);
	free(base);
}

static void
test_bookinfo(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	const struct service_entry *se;
	char			*base, *path;
	size_t			 n;

	(void)state;
	load_shared_dir("testdata/istio/bookinfo", &n);
	assert_int_equal(n, 21);

	base = shared_dir();
	xasprintf(&path, "%s/testdata/istio/bookinfo/"
	    "egress-rule-google-apis.yaml", base);
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_files(&path, 1, &errs);
	assert_non_null(cfg);
	assert_int_equal(cfg->nservice_entries, 1);
	se = &cfg->service_entries[0];
	assert_string_equal(se->meta.name, "googleapis");
	assert_string_equal(se->meta.namespace, "default");
	assert_string_equal(se->meta.api_version, "networking.istio.io/v1");
	assert_string_equal(se->meta.origin.file, path);
	assert_int_equal(se->meta.origin.line, 1);
	assert_int_equal(se->nhosts, 1);
	assert_string_equal(se->hosts[0], "www.googleapis.com");
	assert_int_equal(se->nports, 2);
	assert_int_equal(se->ports[1].number, 443);
	assert_string_equal(se->ports[1].name, "https");
	assert_string_equal(se->ports[1].protocol, "HTTPS");
	assert_int_equal(se->resolution, RESOLUTION_DNS);
	assert_false(se->mesh_internal);
	/* the VirtualService and DestinationRule are kept whole */
	assert_int_equal(cfg->nresources, 2);
	assert_string_equal(cfg->resources[0].meta.kind, "VirtualService");
	assert_string_equal(cfg->resources[1].meta.kind, "DestinationRule");
	assert_non_null(cfg->resources[1].spec);
	assert_string_equal(yaml_get(cfg->resources[1].spec, "host")->value,
	    "www.googleapis.com");
	/* proxy-d originates the rule's TLS: nothing to warn about */
	assert_int_equal(errs.nerrors, 0);
	assert_int_equal(errs.nwarnings, 0);
	assert_non_null(cfg->destination_rules[0].policy.ports[0].policy.tls);
	config_free(cfg);
	free(path);
	cfg_errors_fini(&errs);

	/* a Gateway is skipped with a notice, its VirtualService kept */
	xasprintf(&path, "%s/testdata/istio/bookinfo/bookinfo-gateway.yaml",
	    base);
	cfg = config_load_files(&path, 1, &errs);
	assert_non_null(cfg);
	assert_int_equal(errs.nerrors, 0);
	assert_int_equal(errs.n - errs.nwarnings, 1);
	assert_true(errs.v[0].notice);
	assert_string_equal(errs.v[0].message,
	    "skipping kind Gateway: not used by meshkit");
	assert_int_equal(cfg->nresources, 1);
	config_free(cfg);
	free(path);
	cfg_errors_fini(&errs);
	free(base);
}

static void
test_article(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*base, *paths[2];
	size_t			 n;

	(void)state;
	load_shared_dir("testdata/article", &n);
	assert_int_equal(n, 11);

	base = shared_dir();
	xasprintf(&paths[0], "%s/testdata/article/deployment-v1.yml", base);
	xasprintf(&paths[1], "%s/testdata/article/service.yml", base);
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_files(paths, 2, &errs);
	assert_non_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].message,
	    "skipping kind Deployment: not used by meshkit");
	assert_int_equal(errs.v[0].line, 3);
	assert_int_equal(errs.v[0].col, 7);
	/* the Kubernetes Service is kept for route-d */
	assert_int_equal(cfg->nresources, 1);
	assert_string_equal(cfg->resources[0].meta.kind, "Service");
	assert_string_equal(cfg->resources[0].meta.name, "rating");
	assert_string_equal(labels_get(&cfg->resources[0].meta.labels,
	    "app"), "rating-service");
	assert_int_equal(cfg->nfiles, 2);
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(paths[0]);
	free(paths[1]);

	/* the whole folder: four VirtualServices "rating" clash */
	xasprintf(&paths[0], "%s/testdata/article", base);
	cfg = config_load_dir(paths[0], &errs);
	assert_null(cfg);
	assert_int_equal(errs.nerrors, 4);
	assert_non_null(strstr(errs.v[2].message,
	    "duplicate DestinationRule default/rating (first at "));
	cfg_errors_fini(&errs);
	free(paths[0]);
	free(base);
}

static void
test_example_proxy(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	const struct proxy_config	*p;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir("etc/meshkit", &errs);
	assert_non_null(cfg);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg->dir, "etc/meshkit");
	p = config_find_proxy(cfg, "app");
	assert_non_null(p);
	assert_ptr_equal(p, config_find_proxy(cfg, NULL));
	assert_string_equal(p->meta.kind, "Proxy");
	assert_string_equal(p->workload_name, "app-v1");
	assert_string_equal(p->workload_namespace, "default");
	assert_string_equal(labels_get(&p->workload_labels, "version"), "v1");
	assert_int_equal(p->nlisteners, 2);
	assert_string_equal(p->listeners[0].name, "inbound");
	assert_int_equal(p->listeners[0].direction, LISTENER_INBOUND);
	assert_string_equal(p->listeners[0].address, "127.0.0.1:15006");
	assert_string_equal(p->listeners[0].forward, "127.0.0.1:8000");
	assert_int_equal(p->listeners[1].direction, LISTENER_OUTBOUND);
	assert_null(p->listeners[1].forward);
	assert_string_equal(p->route.address,
	    "ipc:///run/meshkit/route.sock");
	assert_int_equal(p->route.timeout_ms, 1000);
	assert_true(p->route.cache);
	assert_int_equal(p->route.failure, FAILURE_STALE);
	/* commented out in the example: not asked */
	assert_false(p->authz.enabled);
	assert_false(p->breaker.enabled);
	assert_int_equal(p->max_request_line, 8192);
	assert_int_equal(p->max_headers, 100);
	assert_int_equal(p->max_head_bytes, 65536);
	assert_int_equal(p->max_connections, 10000);
	assert_int_equal(p->buffer_bytes, 262144);
	assert_int_equal(p->pool_max_idle, 64);
	assert_int_equal(p->connect_timeout_ms, 10000);
	assert_int_equal(p->request_head_timeout_ms, 10000);
	assert_int_equal(p->idle_timeout_ms, 300000);
	assert_int_equal(p->upstream_idle_timeout_ms, 60000);
	assert_int_equal(p->stream_idle_timeout_ms, 300000);
	assert_int_equal(p->drain_timeout_ms, 30000);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_proxy_defaults(void **state)
{
	struct proxy_config	 d;
	const struct proxy_config *p;
	struct loaded		 l;

	(void)state;
	setenv("MESHKIT_RUNDIR", "/tmp/mk-test-run", 1);
	config_proxy_defaults(&d);
	assert_string_equal(d.route.address,
	    "ipc:///tmp/mk-test-run/route.sock");
	assert_int_equal(d.route.timeout_ms, 1000);
	assert_true(d.route.cache);
	assert_int_equal(d.route.failure, FAILURE_STALE);
	assert_int_equal(d.drain_timeout_ms, 30000);

	load(&l, "apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata:\n  name: book\n  namespace: shop\n");
	assert_non_null(l.cfg);
	p = config_find_proxy(l.cfg, "book");
	assert_non_null(p);
	/* the workload is the resource unless it says otherwise */
	assert_string_equal(p->workload_name, "book");
	assert_string_equal(p->workload_namespace, "shop");
	assert_string_equal(p->route.address, d.route.address);
	assert_int_equal(p->nlisteners, 0);
	assert_int_equal(p->max_head_bytes, d.max_head_bytes);
	assert_int_equal(p->idle_timeout_ms, d.idle_timeout_ms);
	assert_int_equal(p->upstream_idle_timeout_ms,
	    d.upstream_idle_timeout_ms);
	done(&l);
	config_proxy_fini(&d);
	unsetenv("MESHKIT_RUNDIR");

	load(&l, "apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata: {name: p}\nspec:\n  daemons:\n    route:\n"
	    "      address: tcp://10.0.0.1:7000\n      timeout: 250ms\n"
	    "      cache: false\n      failurePolicy: closed\n"
	    "  timeouts: {drain: 2m, connect: 1.5s}\n"
	    "  limits: {maxConnections: 0}\n");
	assert_non_null(l.cfg);
	p = &l.cfg->proxies[0];
	assert_string_equal(p->route.address, "tcp://10.0.0.1:7000");
	assert_int_equal(p->route.timeout_ms, 250);
	assert_false(p->route.cache);
	assert_int_equal(p->route.failure, FAILURE_CLOSED);
	assert_int_equal(p->drain_timeout_ms, 120000);
	assert_int_equal(p->connect_timeout_ms, 1500);
	assert_int_equal(p->max_connections, 0);
	done(&l);
}

#define PROXY_HEAD \
	"apiVersion: meshkit.io/v1alpha1\nkind: Proxy\nmetadata:\n" \
	"  name: p\nspec:\n"

/* authz-d and breaker-d: asked only when their section is there. */
static void
test_proxy_daemons(void **state)
{
	struct proxy_config	 d;
	const struct proxy_config *p;
	struct loaded		 l;

	(void)state;
	setenv("MESHKIT_RUNDIR", "/tmp/mk-test-run", 1);
	config_proxy_defaults(&d);
	assert_false(d.authz.enabled);
	assert_string_equal(d.authz.address,
	    "ipc:///tmp/mk-test-run/authz.sock");
	assert_int_equal(d.authz.timeout_ms, 1000);
	assert_true(d.authz.cache);
	assert_int_equal(d.authz.failure, FAILURE_CLOSED);
	assert_int_equal(d.authz.failure_status, 403);
	assert_false(d.breaker.enabled);
	assert_string_equal(d.breaker.address,
	    "ipc:///tmp/mk-test-run/breaker.sock");
	assert_string_equal(d.breaker.reports,
	    "ipc:///tmp/mk-test-run/breaker-report.sock");
	assert_string_equal(d.breaker.events,
	    "ipc:///tmp/mk-test-run/breaker-events.sock");
	assert_int_equal(d.breaker.timeout_ms, 100);
	assert_int_equal(d.breaker.failure, FAILURE_OPEN);
	config_proxy_fini(&d);

	/* a bare section turns them on, with the defaults */
	load(&l, PROXY_HEAD "  daemons:\n    authz:\n    breaker: {}\n");
	assert_non_null(l.cfg);
	p = &l.cfg->proxies[0];
	assert_true(p->authz.enabled);
	assert_true(p->breaker.enabled);
	assert_string_equal(p->authz.address,
	    "ipc:///tmp/mk-test-run/authz.sock");
	assert_int_equal(p->authz.failure_status, 403);
	done(&l);
	unsetenv("MESHKIT_RUNDIR");

	load(&l, PROXY_HEAD "  daemons:\n    authz:\n"
	    "      address: tcp://10.0.0.2:7001\n      timeout: 250ms\n"
	    "      cache: false\n      failurePolicy: closed\n"
	    "      failureStatus: 503\n"
	    "    breaker:\n      enabled: false\n"
	    "      address: ipc:///r/b.sock\n      reports: ipc:///r/p.sock\n"
	    "      events: ipc:///r/e.sock\n      timeout: 50ms\n"
	    "      failurePolicy: open\n");
	assert_non_null(l.cfg);
	p = &l.cfg->proxies[0];
	assert_true(p->authz.enabled);
	assert_string_equal(p->authz.address, "tcp://10.0.0.2:7001");
	assert_int_equal(p->authz.timeout_ms, 250);
	assert_false(p->authz.cache);
	assert_int_equal(p->authz.failure_status, 503);
	assert_false(p->breaker.enabled);
	assert_string_equal(p->breaker.address, "ipc:///r/b.sock");
	assert_string_equal(p->breaker.reports, "ipc:///r/p.sock");
	assert_string_equal(p->breaker.events, "ipc:///r/e.sock");
	assert_int_equal(p->breaker.timeout_ms, 50);
	done(&l);

	load(&l, PROXY_HEAD "  daemons:\n    authz: {enabled: true}\n");
	assert_non_null(l.cfg);
	assert_true(l.cfg->proxies[0].authz.enabled);
	assert_false(l.cfg->proxies[0].breaker.enabled);
	done(&l);

	assert_refused(PROXY_HEAD "  daemons:\n    authz:\n"
	    "      failureStatus: 404\n",
	    "m.yaml:8:22: failureStatus must be 403 or 503, got 404");
	assert_refused(PROXY_HEAD "  daemons:\n    authz:\n"
	    "      failurePolicy: open\n",
	    "m.yaml:8:22: authz-d fails closed: failurePolicy must be closed");
	assert_refused(PROXY_HEAD "  daemons:\n    breaker:\n"
	    "      failurePolicy: closed\n",
	    "m.yaml:8:22: breaker-d fails open: failurePolicy must be open");
	assert_refused(PROXY_HEAD "  daemons:\n    breaker:\n"
	    "      reports: /run/r.sock\n",
	    "m.yaml:8:16: daemons.breaker.reports must be an nng URL");
	assert_refused(PROXY_HEAD "  daemons:\n    route:\n"
	    "      failureStatus: 503\n",
	    "m.yaml:8:7: unknown field failureStatus in Proxy daemons.route");
	assert_refused(PROXY_HEAD "  daemons:\n    authz:\n"
	    "      events: ipc:///r/e.sock\n",
	    "m.yaml:8:7: unknown field events in Proxy daemons.authz");
}

static void
test_proxy_errors(void **state)
{
	(void)state;
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: sideways\n"
	    "    address: 127.0.0.1:1\n",
	    "m.yaml:7:16: listener direction must be inbound or outbound, "
	    "got \"sideways\"");
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: inbound\n"
	    "    address: 127.0.0.1:1\n",
	    "m.yaml:7:5: an inbound listener needs forward");
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: outbound\n"
	    "    address: 127.0.0.1:1\n    forward: 127.0.0.1:2\n",
	    "m.yaml:9:14: forward is only for inbound listeners");
	assert_refused(PROXY_HEAD "  listeners:\n  - address: 127.0.0.1:1\n",
	    "m.yaml:7:5: listener direction is required");
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: outbound\n",
	    "m.yaml:7:5: listener address is required");
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: outbound\n"
	    "    address: localhost:80\n",
	    "m.yaml:8:14: listener address must be a numeric address and "
	    "port such as 127.0.0.1:15001, [::1]:15001 or unix:/path, got "
	    "\"localhost:80\"");
	assert_refused(PROXY_HEAD "  listeners:\n  - direction: outbound\n"
	    "    address: 127.0.0.1:1\n  - direction: outbound\n"
	    "    address: 127.0.0.1:2\n",
	    "m.yaml:9:5: duplicate listener name outbound");
	assert_refused(PROXY_HEAD "  listeners:\n  - {name: a, direction: "
	    "outbound, address: \"[::1]:1\"}\n  - {name: b, direction: "
	    "outbound, address: \"[::1]:1\"}\n",
	    "m.yaml:8:5: duplicate listener address [::1]:1");
	assert_refused(PROXY_HEAD "  daemons:\n    route:\n      timeout: 0s\n",
	    "m.yaml:8:16: timeout must be a positive duration such as 1s, "
	    "250ms or 1m, got \"0s\"");
	assert_refused(PROXY_HEAD "  daemons:\n    route:\n"
	    "      failurePolicy: never\n",
	    "m.yaml:8:22: failurePolicy must be open, closed or stale, got "
	    "\"never\"");
	assert_refused(PROXY_HEAD "  daemons:\n    route:\n      cache: 1\n",
	    "m.yaml:8:14: cache must be true or false, got \"1\"");
	assert_refused(PROXY_HEAD "  daemons:\n    route:\n      address: "
	    "/run/route.sock\n",
	    "m.yaml:8:16: daemon address must be an nng URL");
	assert_refused(PROXY_HEAD "  daemons:\n    rout: {}\n",
	    "m.yaml:7:5: unknown field rout in Proxy daemons");
	assert_refused(PROXY_HEAD "  limits:\n    maxHeaders: 0\n",
	    "m.yaml:7:17: maxHeaders must be 1..10000, got 0");
	assert_refused(PROXY_HEAD "  limits:\n    bufferBytes: lots\n",
	    "m.yaml:7:18: bufferBytes must be a number 4096..1073741824, got "
	    "\"lots\"");
	assert_refused(PROXY_HEAD "  limits:\n    maxRequestLine: 65536\n"
	    "    maxHeadBytes: 4096\n",
	    "m.yaml:7:5: maxHeadBytes (4096) must be at least maxRequestLine "
	    "(65536)");
	assert_refused(PROXY_HEAD "  timeouts:\n    idle: forever\n",
	    "m.yaml:7:11: timeouts.idle must be a positive duration");
	assert_refused(PROXY_HEAD "  timeouts:\n    idel: 1s\n",
	    "m.yaml:7:5: unknown field idel in Proxy timeouts");
	assert_refused(PROXY_HEAD "  workload:\n    nmae: x\n",
	    "m.yaml:7:5: unknown field nmae in Proxy workload");
	assert_refused(PROXY_HEAD "  listener: []\n",
	    "m.yaml:6:3: unknown field listener in Proxy spec");
	assert_refused("apiVersion: meshkit.io/v1\nkind: Proxy\n"
	    "metadata: {name: p}\n",
	    "m.yaml:1:13: apiVersion \"meshkit.io/v1\" is not valid for kind "
	    "Proxy (want meshkit.io/v1alpha1)");
	assert_refused("apiVersion: meshkit.io/v1alpha1\nkind: Proxi\n"
	    "metadata: {name: p}\n",
	    "m.yaml:2:7: unknown kind \"Proxi\" in meshkit.io/v1alpha1");
}

static void
test_service_entry(void **state)
{
	struct loaded			 l;
	const struct service_entry	*se;
	const struct workload		*w;

	(void)state;
	load(&l,
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: ServiceEntry\n"
	    "metadata:\n"
	    "  name: rating\n"
	    "  namespace: shop\n"
	    "spec:\n"
	    "  hosts: [rating, rating.shop.svc.cluster.local]\n"
	    "  addresses: [10.1.0.1/32]\n"
	    "  location: MESH_INTERNAL\n"
	    "  resolution: STATIC\n"
	    "  exportTo: [\".\"]\n"
	    "  ports:\n"
	    "  - number: 8080\n"
	    "    name: http\n"
	    "    protocol: http\n"
	    "    targetPort: \"9080\"\n"
	    "  endpoints:\n"
	    "  - address: 127.0.0.1\n"
	    "    ports: {http: 9081}\n"
	    "    labels: {version: v1}\n"
	    "    weight: 75\n"
	    "    network: n1\n"
	    "    locality: eu/west\n"
	    "    serviceAccount: rating\n"
	    "  - address: 127.0.0.2\n"
	    "    weight: 4294967295\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1alpha3\n"
	    "kind: ServiceEntry\n"
	    "metadata: {name: book}\n"
	    "spec:\n"
	    "  hosts: [book]\n"
	    "  ports: [{number: 80}]\n"
	    "  workloadSelector:\n"
	    "    labels: {app: book}\n");
	if (l.cfg == NULL)
		fail_msg("%s", l.text);
	assert_int_equal(l.cfg->nservice_entries, 2);
	se = &l.cfg->service_entries[0];
	assert_string_equal(se->meta.namespace, "shop");
	assert_int_equal(se->nhosts, 2);
	assert_string_equal(se->hosts[1], "rating.shop.svc.cluster.local");
	assert_int_equal(se->naddresses, 1);
	assert_true(se->mesh_internal);
	assert_int_equal(se->resolution, RESOLUTION_STATIC);
	assert_int_equal(se->nexport_to, 1);
	assert_string_equal(se->export_to[0], ".");
	assert_int_equal(se->nports, 1);
	assert_int_equal(se->ports[0].number, 8080);
	assert_string_equal(se->ports[0].protocol, "HTTP");
	assert_int_equal(se->ports[0].target_port, 9080);
	assert_false(se->has_selector);
	assert_int_equal(se->nendpoints, 2);
	w = &se->endpoints[0];
	assert_string_equal(w->address, "127.0.0.1");
	assert_int_equal(w->ports.n, 1);
	assert_string_equal(w->ports.names[0], "http");
	assert_int_equal(w->ports.numbers[0], 9081);
	assert_string_equal(labels_get(&w->labels, "version"), "v1");
	assert_int_equal(w->weight, 75);
	assert_string_equal(w->network, "n1");
	assert_string_equal(w->locality, "eu/west");
	assert_string_equal(w->service_account, "rating");
	assert_int_equal(se->endpoints[1].weight, UINT32_MAX);
	assert_int_equal(se->endpoints[1].ports.n, 0);

	se = &l.cfg->service_entries[1];
	assert_int_equal(se->resolution, RESOLUTION_NONE);
	assert_false(se->mesh_internal);
	assert_true(se->has_selector);
	assert_string_equal(labels_get(&se->selector, "app"), "book");
	assert_null(se->ports[0].name);
	assert_null(se->ports[0].protocol);
	assert_int_equal(se->ports[0].target_port, 0);
	done(&l);
}

#define SE_HEAD \
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n" \
	"metadata:\n  name: s\nspec:\n"

static void
test_service_entry_errors(void **state)
{
	(void)state;
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: abc\n",
	    "m.yaml:8:13: port must be a number 1..65535, got \"abc\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 0\n",
	    "m.yaml:8:13: port must be 1..65535, got 0");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 65536\n",
	    "m.yaml:8:13: port must be 1..65535, got 65536");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 0x50\n",
	    "m.yaml:8:13: port must be a number 1..65535, got \"0x50\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: [80]\n",
	    "m.yaml:8:13: port must be a number 1..65535, got a list");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - name: http\n",
	    "m.yaml:8:5: port number is required");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 80\n"
	    "    protocol: SMTP\n",
	    "m.yaml:9:15: protocol must be HTTP, HTTPS, HTTP2, GRPC, "
	    "GRPC-WEB, HTTP_PROXY, TCP, TLS, UDP, MONGO, MYSQL or REDIS, got "
	    "\"SMTP\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 80\n"
	    "  - number: 80\n",
	    "m.yaml:9:5: duplicate port number 80");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n  - number: 80\n"
	    "    nmae: http\n",
	    "m.yaml:9:5: unknown field nmae in ServiceEntry port");
	assert_refused(SE_HEAD "  hosts: [a]\n  hostz: [b]\n",
	    "m.yaml:7:3: unknown field hostz in ServiceEntry spec");
	assert_refused(SE_HEAD "  ports: [{number: 80}]\n",
	    "m.yaml:6:3: hosts is required in ServiceEntry spec");
	assert_refused(SE_HEAD "  hosts: []\n",
	    "m.yaml:6:10: hosts must not be empty");
	assert_refused(SE_HEAD "  hosts: a.example\n",
	    "m.yaml:6:10: hosts must be a list of strings, got "
	    "\"a.example\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: dns\n",
	    "m.yaml:7:15: resolution must be NONE, STATIC, DNS or "
	    "DNS_ROUND_ROBIN, got \"dns\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  location: INTERNAL\n",
	    "m.yaml:7:13: location must be MESH_EXTERNAL or MESH_INTERNAL, "
	    "got \"INTERNAL\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: STATIC\n"
	    "  endpoints:\n  - address: 1.2.3.4\n    weight: -1\n",
	    "m.yaml:10:13: weight must be 0..4294967295, got -1");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: STATIC\n"
	    "  endpoints:\n  - address: 1.2.3.4\n    weight: 4294967296\n",
	    "m.yaml:10:13: weight must be 0..4294967295, got 4294967296");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: STATIC\n"
	    "  endpoints:\n  - address: 1.2.3.4\n    wieght: 1\n",
	    "m.yaml:10:5: unknown field wieght in ServiceEntry endpoint");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: STATIC\n"
	    "  endpoints:\n  - address: 1.2.3.4\n"
	    "  workloadSelector:\n    labels: {app: a}\n",
	    "m.yaml:11:5: workloadSelector and endpoints cannot both be set");
	assert_refused(SE_HEAD "  hosts: [a]\n"
	    "  endpoints:\n  - address: 1.2.3.4\n",
	    "m.yaml:8:3: endpoints need resolution STATIC or DNS");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: STATIC\n"
	    "  endpoints:\n  - address: db.example\n",
	    "m.yaml:9:14: endpoint address must be an IP address or unix:// "
	    "path with resolution STATIC, got \"db.example\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: DNS\n"
	    "  endpoints:\n  - labels: {a: b}\n",
	    "m.yaml:9:5: address is required in ServiceEntry endpoint");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: DNS\n"
	    "  ports: [{number: 80, name: http}]\n"
	    "  endpoints:\n  - address: db.example\n    ports: {htp: 8080}\n",
	    "m.yaml:11:13: endpoint port htp is not a port name of the "
	    "ServiceEntry");
	assert_refused(SE_HEAD "  hosts: [a]\n  resolution: DNS\n"
	    "  endpoints:\n  - address: db.example\n    ports: {http: x}\n",
	    "m.yaml:10:19: port must be a number 1..65535, got \"x\"");
	assert_refused(SE_HEAD "  hosts: [a]\n  workloadSelector:\n"
	    "    matchLabels: {a: b}\n",
	    "m.yaml:8:5: unknown field matchLabels in ServiceEntry "
	    "workloadSelector");
	/* Istio reads port numbers given as strings; so does meshkit */
	assert_loads(SE_HEAD "  hosts: [a]\n  ports: [{number: \"80\"}]\n"
	    "  subjectAltNames: [spiffe://x/ns/a/sa/b]\n");
}

static void
test_workload_entry(void **state)
{
	struct loaded			 l;
	const struct workload_entry	*we;

	(void)state;
	load(&l, "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	    "metadata:\n  name: rating-v1\nspec:\n  address: 127.0.0.1\n"
	    "  ports:\n    http: 9081\n  labels:\n    app: rating\n"
	    "    version: v1\n  serviceAccount: rating\n  weight: 3\n");
	if (l.cfg == NULL)
		fail_msg("%s", l.text);
	assert_int_equal(l.cfg->nworkload_entries, 1);
	we = &l.cfg->workload_entries[0];
	assert_string_equal(we->meta.name, "rating-v1");
	assert_string_equal(we->spec.address, "127.0.0.1");
	assert_int_equal(we->spec.ports.numbers[0], 9081);
	assert_int_equal(we->spec.labels.n, 2);
	assert_string_equal(labels_get(&we->spec.labels, "version"), "v1");
	assert_int_equal(we->spec.weight, 3);
	assert_null(we->spec.network);
	done(&l);

	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: w}\nspec:\n  labels: {app: a}\n",
	    "m.yaml:5:3: address is required in WorkloadEntry spec");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: w}\nspec:\n  address: 1.2.3.4\n  port: 80\n",
	    "m.yaml:6:3: unknown field port in WorkloadEntry spec");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: w}\n",
	    "m.yaml:1:1: spec with an address is required in WorkloadEntry");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: w}\nspec:\n  address: 1.2.3.4\n"
	    "  labels: [a]\n",
	    "m.yaml:6:11: labels must be a map, got a list");
	/* a workload behind another network's gateway has no address */
	assert_loads("apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	    "metadata: {name: w}\nspec:\n  network: n2\n");
}

static void
test_api_versions(void **state)
{
	static const char *const networking[] = {
		"ServiceEntry", "WorkloadEntry", "VirtualService",
		"DestinationRule", "Gateway", "Sidecar"
	};
	static const char *const security[] = {
		"PeerAuthentication", "RequestAuthentication",
		"AuthorizationPolicy"
	};
	static const char *const nv[] = { "v1alpha3", "v1beta1", "v1" };
	static const char *const sv[] = { "v1beta1", "v1" };
	static const char *const spec_we = "spec: {address: 1.2.3.4}\n";
	static const char *const spec_se = "spec: {hosts: [a]}\n";
	static const char *const spec_dr = "spec: {host: a}\n";
	char	*doc;
	size_t	 i, j;

	(void)state;
	for (i = 0; i < nitems(networking); i++)
		for (j = 0; j < nitems(nv); j++) {
			xasprintf(&doc, "apiVersion: networking.istio.io/%s\n"
			    "kind: %s\nmetadata: {name: x}\n%s", nv[j],
			    networking[i], i == 0 || i == 2 ? spec_se :
			    i == 1 ? spec_we : i == 3 ? spec_dr : "");
			assert_loads(doc);
			free(doc);
		}
	for (i = 0; i < nitems(security); i++)
		for (j = 0; j < nitems(sv); j++) {
			xasprintf(&doc, "apiVersion: security.istio.io/%s\n"
			    "kind: %s\nmetadata: {name: x}\n", sv[j],
			    security[i]);
			assert_loads(doc);
			free(doc);
		}
	assert_refused("apiVersion: security.istio.io/v1alpha3\n"
	    "kind: AuthorizationPolicy\nmetadata: {name: x}\n",
	    "m.yaml:1:13: apiVersion \"security.istio.io/v1alpha3\" is not "
	    "valid for kind AuthorizationPolicy (want security.istio.io/"
	    "v1beta1, security.istio.io/v1)");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: PeerAuthentication\nmetadata: {name: x}\n",
	    "m.yaml:1:13: apiVersion \"networking.istio.io/v1\" is not valid "
	    "for kind PeerAuthentication");
	/* the group forgotten */
	assert_refused("apiVersion: v1\nkind: VirtualService\n"
	    "metadata: {name: x}\n",
	    "m.yaml:1:13: apiVersion \"v1\" is not valid for kind "
	    "VirtualService");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: x}\n---\napiVersion: networking.istio.io/v2\n"
	    "kind: Gateway\nmetadata: {name: x}\n",
	    "m.yaml:5:13: apiVersion \"networking.istio.io/v2\" is not valid "
	    "for kind Gateway");
}

static void
test_kinds(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
	    "---\napiVersion: v1\nkind: ServiceAccount\n"
	    "metadata: {name: sa}\n"
	    "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
	    "metadata: {name: g}\n"
	    "---\napiVersion: networking.istio.io/v1alpha3\n"
	    "kind: EnvoyFilter\nmetadata: {name: e}\nspec: {whatever: 1}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Sidecar\n"
	    "metadata: {name: s}\n"
	    "---\napiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\n"
	    "metadata: {name: t}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\n"
	    "spec:\n  ports: [{port: 80}]\n");
	if (l.cfg == NULL)
		fail_msg("%s", l.text);
	assert_int_equal(l.errs.nerrors, 0);
	assert_int_equal(l.errs.n, 6);
	assert_string_equal(l.text,
	    "m.yaml:2:7: notice: skipping kind Deployment: not used by "
	    "meshkit\n"
	    "m.yaml:6:7: notice: skipping kind ServiceAccount: not used by "
	    "meshkit\n"
	    "m.yaml:10:7: notice: skipping kind Gateway "
	    "(gateway.networking.k8s.io/v1): not used by meshkit\n"
	    "m.yaml:14:7: notice: skipping kind EnvoyFilter: not used by "
	    "meshkit\n"
	    "m.yaml:19:7: notice: skipping kind Sidecar: not used by "
	    "meshkit\n"
	    "m.yaml:23:7: notice: skipping kind WasmPlugin: not used by "
	    "meshkit\n");
	assert_int_equal(l.cfg->nresources, 1);
	assert_string_equal(l.cfg->resources[0].meta.kind, "Service");
	assert_string_equal(l.cfg->resources[0].meta.api_version, "v1");
	assert_int_equal(l.cfg->resources[0].spec->line, 30);
	done(&l);

	assert_loads("apiVersion: install.istio.io/v1alpha1\n"
	    "kind: IstioOperator\nmetadata: {name: x}\nspec: {a: b}\n");
	assert_refused("apiVersion: networking.istio.io/v1\n"
	    "kind: VirtualServce\nmetadata: {name: x}\n",
	    "m.yaml:2:7: unknown kind \"VirtualServce\" in "
	    "networking.istio.io/v1");
}

static void
test_envelope(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, "apiVersion: \"security.istio.io/v1beta1\"\n"
	    "kind: \"RequestAuthentication\"\nmetadata:\n  name: \"jwt\"\n"
	    "  labels:\n    app: x\n    empty:\n  annotations: {a: b}\n"
	    "  uid: 123\nspec: {}\nstatus: {}\n");
	if (l.cfg == NULL)
		fail_msg("%s", l.text);
	assert_string_equal(l.cfg->resources[0].meta.namespace, "default");
	assert_string_equal(labels_get(&l.cfg->resources[0].meta.labels,
	    "empty"), "");
	assert_int_equal(l.cfg->resources[0].meta.origin.line, 1);
	done(&l);

	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata:\n  namespace: x\n",
	    "m.yaml:4:3: metadata.name is required");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\n",
	    "m.yaml:1:1: metadata.name is required");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata:\n  name: Reviews\n",
	    "m.yaml:4:9: metadata.name must be lowercase letters, digits, "
	    "'-' and '.', at most 253, got \"Reviews\"");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata:\n  name: r\n  namespace: a.b\n",
	    "m.yaml:5:14: metadata.namespace must be lowercase letters");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata:\n  name: r\n  labels: {a: {b: c}}\n",
	    "m.yaml:5:15: a label value must be a string, got a map");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata: {name: r}\nsepc: {}\n",
	    "m.yaml:4:1: unknown field sepc in VirtualService");
	assert_refused("apiVersion: networking.istio.io/v1\nkind: "
	    "VirtualService\nmetadata: {name: r}\nspec: [a]\n",
	    "m.yaml:4:7: spec must be a map, got a list");
	assert_refused("- apiVersion: v1\n",
	    "m.yaml:1:1: a resource must be a map with apiVersion, kind and "
	    "metadata, got a list");
	assert_refused("just text\n", "m.yaml:1:1: a resource must be a map");
	assert_refused("apiVersion: v1\nmetadata: {name: x}\n",
	    "m.yaml:1:1: kind is required");
	assert_refused("kind: Service\n", "m.yaml:1:1: apiVersion is required");
	assert_refused("apiVersion: [v1]\nkind: Service\n",
	    "m.yaml:1:13: apiVersion must be a string, got a list");
	/* empty documents and a file of comments are fine */
	assert_loads("");
	assert_loads("---\n---\n# nothing\n---\n");
	assert_loads("---\n~\n");
}

static void
test_list(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, "apiVersion: v1\nkind: List\nitems:\n"
	    "- apiVersion: networking.istio.io/v1\n  kind: WorkloadEntry\n"
	    "  metadata: {name: a}\n  spec: {address: 1.1.1.1}\n"
	    "- apiVersion: apps/v1\n  kind: Deployment\n"
	    "  metadata: {name: d}\n");
	if (l.cfg == NULL)
		fail_msg("%s", l.text);
	assert_int_equal(l.cfg->nworkload_entries, 1);
	assert_int_equal(l.cfg->workload_entries[0].meta.origin.line, 4);
	assert_int_equal(l.cfg->workload_entries[0].meta.origin.col, 3);
	assert_has(&l, "m.yaml:9:9: notice: skipping kind Deployment");
	done(&l);

	assert_refused("apiVersion: v1\nkind: List\nitems:\n"
	    "- apiVersion: v1\n  kind: List\n  items: []\n",
	    "m.yaml:4:3: a List cannot hold another List");
	assert_refused("apiVersion: v1\nkind: List\nitems: {}\n",
	    "m.yaml:3:8: items must be a list, got a map");
	assert_refused("apiVersion: v1\nkind: List\nitems:\n"
	    "- apiVersion: networking.istio.io/v1\n  kind: WorkloadEntry\n"
	    "  metadata: {name: a}\n  spec: {address: 1.1.1.1, weight: x}\n",
	    "m.yaml:7:36: weight must be a number 0..4294967295, got \"x\"");
}

static void
test_duplicates(void **state)
{
	static const char *const vs =
	    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "spec: {hosts: [r]}\nmetadata: {name: r}\n";

	(void)state;
	{
		char *doc;

		xasprintf(&doc, "%s---\n%s", vs, vs);
		assert_refused(doc, "m.yaml:6:1: duplicate VirtualService "
		    "default/r (first at m.yaml:1:1)");
		free(doc);
		/* another namespace, or another kind, is another resource */
		xasprintf(&doc, "%s---\n%s  namespace: other\n---\n"
		    "apiVersion: networking.istio.io/v1\nkind: "
		    "DestinationRule\nmetadata: {name: r}\nspec: {host: r}\n",
		    vs, "apiVersion: networking.istio.io/v1\nkind: "
		    "VirtualService\nspec: {hosts: [r]}\nmetadata:\n  name: r\n");
		assert_loads(doc);
		free(doc);
	}
	/* Proxies are found by name alone */
	assert_refused("apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata: {name: p}\n---\napiVersion: meshkit.io/v1alpha1\n"
	    "kind: Proxy\nmetadata: {name: p, namespace: other}\n",
	    "m.yaml:5:1: duplicate Proxy name p (first at m.yaml:1:1)");
}

static void
test_all_errors(void **state)
{
	struct loaded	 l;

	(void)state;
	/* every error, not just the first; and no config at all */
	load(&l, SE_HEAD "  hosts: [a]\n  ports: [{number: abc}]\n"
	    "  bogus: 1\n---\n" PROXY_HEAD "  limits: {maxHeaders: -5}\n"
	    "---\napiVersion: apps/v1\nkind: Deployment\n");
	assert_null(l.cfg);
	assert_int_equal(l.errs.nerrors, 3);
	assert_int_equal(l.errs.n, 4);
	assert_has(&l, "m.yaml:7:20: port must be a number 1..65535, got "
	    "\"abc\"");
	assert_has(&l, "m.yaml:8:3: unknown field bogus in ServiceEntry spec");
	assert_has(&l, "m.yaml:15:24: maxHeaders must be 1..10000, got -5");
	assert_has(&l, "m.yaml:18:7: notice: skipping kind Deployment");
	done(&l);
}

static void
test_hostile(void **state)
{
	char	*buf;
	size_t	 i, o = 0;

	(void)state;
	assert_refused(SE_HEAD "  hosts: &h [a]\n  addresses: *h\n",
	    "m.yaml:6:10: anchors and aliases are not allowed");
	assert_refused(SE_HEAD "  hosts: [a]\n  hosts: [b]\n",
	    "m.yaml:7:3: duplicate key \"hosts\" (first at line 6 column 3)");
	assert_refused(SE_HEAD "  hosts: [a]\n\tports: []\n",
	    "m.yaml:7:1: tab character: YAML indents with spaces only");
	assert_refused(SE_HEAD "  hosts: [a\n",
	    "m.yaml:7:1: did not find expected ',' or ']'");
	assert_refused(SE_HEAD "  hosts: [a]\n  ports:\n"
	    "  - number: \"8\\x0080\"\n",
	    "m.yaml:8:13: port must be a number 1..65535, got \"8\\x0080\"");
	buf = xmalloc(4000);
	o = (size_t)sprintf(buf, SE_HEAD "  hosts: ");
	for (i = 0; i < 1000; i++)
		buf[o++] = '[';
	buf[o] = '\0';
	assert_refused(buf, "m.yaml:6:72: nesting deeper than 64 levels");
	free(buf);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
test_load_dir(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			 dir[] = "/tmp/meshkit-test-config.XXXXXX";
	char			*sub, *path, **paths;
	size_t			 n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "b.yaml", "apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: b}\n"
	    "spec: {address: 1.1.1.2}\n");
	write_file(dir, "a.yml", "apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: a}\n"
	    "spec: {address: 1.1.1.1}\n");
	write_file(dir, ".hidden.yaml", "broken: [\n");
	write_file(dir, "notes.txt", "broken: [\n");
	write_file(dir, "c.yaml.orig", "broken: [\n");
	xasprintf(&sub, "%s/sub.yaml", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(sub, "d.yaml", "broken: [\n");

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir(dir, &errs);
	assert_non_null(cfg);
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg->nfiles, 2);
	assert_non_null(strstr(cfg->files[0], "/a.yml"));
	assert_non_null(strstr(cfg->files[1], "/b.yaml"));
	assert_int_equal(cfg->nworkload_entries, 2);
	assert_string_equal(cfg->workload_entries[0].meta.name, "a");
	assert_ptr_equal(cfg->workload_entries[1].meta.origin.file,
	    cfg->files[1]);
	config_free(cfg);

	assert_int_equal(config_dir_files(dir, &paths, &n, &errs), 0);
	assert_int_equal(n, 2);
	config_paths_free(paths, n);

	/* one bad file refuses the whole directory */
	write_file(dir, "c.yaml", "apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: c}\nspec: {adress: x}\n");
	cfg = config_load_dir(dir, &errs);
	assert_null(cfg);
	assert_int_equal(errs.nerrors, 1);
	assert_non_null(strstr(errs.v[0].message, "unknown field adress"));
	assert_int_equal(errs.v[0].line, 4);
	assert_int_equal(errs.v[0].col, 8);
	assert_non_null(strstr(errs.v[0].file, "/c.yaml"));
	cfg_errors_fini(&errs);

	assert_null(config_load_dir("/nonexistent/meshkit", &errs));
	assert_string_equal(errs.v[0].message,
	    "cannot open directory: No such file or directory");
	cfg_errors_fini(&errs);

	xasprintf(&path, "%s/sub.yaml/d.yaml", dir);
	unlink(path);
	free(path);
	rmdir(sub);
	free(sub);
	xasprintf(&path, "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	free(path);
}

static void
test_load_files(void **state)
{
	struct cfg_errors	 errs;
	char			*paths[] = { "etc/meshkit/proxy.yaml",
				    "/nonexistent.yaml", "etc" };

	(void)state;
	memset(&errs, 0, sizeof(errs));
	assert_null(config_load_files(paths, 3, &errs));
	assert_int_equal(errs.nerrors, 2);
	assert_string_equal(errs.v[0].file, "/nonexistent.yaml");
	assert_string_equal(errs.v[0].message,
	    "cannot open: No such file or directory");
	assert_string_equal(errs.v[1].message, "cannot read: is a directory");
	cfg_errors_fini(&errs);
}

static void
test_labels(void **state)
{
	char		*sk[] = { "app", "version" }, *sv[] = { "r", "v1" };
	char		*lk[] = { "version", "app", "x" };
	char		*lv[] = { "v1", "r", "y" };
	char		*ov[] = { "v2", "r", "y" };
	struct labels	 sel = { sk, sv, 2 }, lab = { lk, lv, 3 };
	struct labels	 other = { lk, ov, 3 }, empty = { NULL, NULL, 0 };

	(void)state;
	assert_true(labels_match(&sel, &lab));
	assert_false(labels_match(&sel, &other));
	assert_false(labels_match(&lab, &sel));	/* "x" is missing */
	assert_true(labels_match(&empty, &lab));
	assert_true(labels_match(&empty, &empty));
	assert_true(labels_match(NULL, &lab));
	assert_false(labels_match(&sel, &empty));
	assert_false(labels_match(&sel, NULL));
	assert_string_equal(labels_get(&lab, "x"), "y");
	assert_null(labels_get(&lab, "z"));
	assert_null(labels_get(&empty, "x"));
	assert_null(labels_get(NULL, "x"));
}

static void
test_find_proxy(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, "apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata: {name: a}\n---\napiVersion: meshkit.io/v1alpha1\n"
	    "kind: Proxy\nmetadata: {name: b, namespace: x}\n");
	assert_non_null(l.cfg);
	assert_null(config_find_proxy(l.cfg, NULL));	/* two: ambiguous */
	assert_string_equal(config_find_proxy(l.cfg, "b")->meta.namespace,
	    "x");
	assert_null(config_find_proxy(l.cfg, "c"));
	assert_null(config_find_proxy(NULL, "a"));
	done(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bookinfo),
		cmocka_unit_test(test_article),
		cmocka_unit_test(test_example_proxy),
		cmocka_unit_test(test_proxy_defaults),
		cmocka_unit_test(test_proxy_errors),
		cmocka_unit_test(test_service_entry),
		cmocka_unit_test(test_service_entry_errors),
		cmocka_unit_test(test_workload_entry),
		cmocka_unit_test(test_api_versions),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_find_proxy),
		cmocka_unit_test(test_proxy_daemons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
