/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the telemetry settings: MeshConfig's telemetry fields
 * and the Telemetry kind (lib/config_telemetry.c), what applies to a
 * workload (lib/telemetry.c) and access log filters (lib/logfilter.c).
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
#include "logfilter.h"
#include "metrics.h"
#include "record.h"
#include "telemetry.h"
#include "util.h"
#include "yaml.h"

static struct config *load(const char *, struct cfg_errors *);
static void	assert_error(const char *, const char *);
static int	has_warning(const struct cfg_errors *, const char *);
static struct str s(const char *);
static int	filter(const char *, const struct record *);
static void	test_mesh_fields(void **);
static void	test_mesh_errors(void **);
static void	test_warnings(void **);
static void	test_resolve_defaults(void **);
static void	test_resolve_levels(void **);
static void	test_resolve_tracing(void **);
static void	test_resolve_metrics(void **);
static void	test_filter(void **);
static void	test_filter_refused(void **);
static void	test_file_provider_defaults(void **);
static void	test_header_cap(void **);
static const struct cfg_error *warning_at(const struct cfg_errors *,
		    const char *);

#define MESH_HEAD "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n" \
	"metadata:\n  name: mesh\nspec:\n"
#define TEL_HEAD(ns, name) "---\napiVersion: telemetry.istio.io/v1\n" \
	"kind: Telemetry\nmetadata:\n  name: " name "\n  namespace: " ns \
	"\nspec:\n"

static struct config *
load(const char *yaml, struct cfg_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_load_buffer("t.yaml", yaml, strlen(yaml), errs);
}

static void
assert_error(const char *yaml, const char *want)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	size_t			 i;

	cfg = load(yaml, &errs);
	if (cfg != NULL)
		fail_msg("accepted, want an error with \"%s\"", want);
	for (i = 0; i < errs.n; i++)
		if (strstr(errs.v[i].message, want) != NULL)
			break;
	if (i == errs.n)
		fail_msg("no error with \"%s\" (first: %s)", want, errs.n > 0 ?
		    errs.v[0].message : "none");
	cfg_errors_fini(&errs);
}

static int
has_warning(const struct cfg_errors *errs, const char *want)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		if (errs->v[i].warning &&
		    strstr(errs->v[i].message, want) != NULL)
			return 1;
	return 0;
}

static struct str
s(const char *p)
{
	return p == NULL ? (struct str){ NULL, 0 } : (struct str){ p,
	    strlen(p) };
}

static void
test_mesh_fields(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	const struct mesh_config *mc;

	cfg = load(MESH_HEAD
	    "  accessLogFile: /var/log/meshkit/access.log\n"
	    "  accessLogEncoding: JSON\n"
	    "  accessLogFormat: '{\"code\": \"%RESPONSE_CODE%\"}'\n"
	    "  enableTracing: true\n"
	    "  defaultConfig:\n    tracing:\n      sampling: 12.5\n"
	    "      zipkin:\n        address: zipkin.local:9411\n"
	    "  extensionProviders:\n"
	    "  - name: otel\n    opentelemetry:\n      service: 127.0.0.1\n"
	    "      port: 4318\n      http:\n        path: /v1/traces\n"
	    "        timeout: 2s\n        headers:\n"
	    "        - name: x-token\n          value: abc\n"
	    "  - name: zk\n    zipkin:\n      service: 127.0.0.1\n"
	    "      port: 9411\n"
	    "  - name: file\n    envoyFileAccessLog:\n      path: /tmp/x.log\n"
	    "      logFormat:\n        labels:\n          code: "
	    "'%RESPONSE_CODE%'\n"
	    "  defaultProviders:\n    tracing: [otel]\n"
	    "    accessLogging: [envoy, file]\n"
	    "  stats:\n    address: 127.0.0.1:15090\n    maxSeries: 100\n"
	    "    exportInterval: 500ms\n", &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	mc = cfg->mesh;
	assert_string_equal(mc->access_log_file,
	    "/var/log/meshkit/access.log");
	assert_int_equal(mc->access_log_encoding, ACCESS_LOG_JSON);
	assert_int_equal(mc->sampling_ppm, 125000);
	assert_string_equal(mc->zipkin_host, "zipkin.local");
	assert_int_equal(mc->zipkin_port, 9411);
	assert_int_equal(mc->nproviders, 3);
	assert_int_equal(mc->providers[0].kind, PROVIDER_OPENTELEMETRY);
	assert_int_equal(mc->providers[0].timeout_ms, 2000);
	assert_string_equal(mc->providers[0].headers.keys[0], "x-token");
	assert_int_equal(mc->providers[2].log_labels.n, 1);
	assert_int_equal(mc->ndefault_access_logging, 2);
	assert_string_equal(mc->stats.address, "127.0.0.1:15090");
	assert_int_equal(mc->stats.max_series, 100);
	assert_int_equal(mc->stats.export_interval_ms, 500);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_mesh_errors(void **state)
{
	assert_error(MESH_HEAD "  accessLogFile: relative.log\n",
	    "absolute path");
	assert_error(MESH_HEAD "  accessLogFile: syslog:kern\n",
	    "syslog facility");
	assert_error(MESH_HEAD "  accessLogEncoding: XML\n",
	    "accessLogEncoding must be TEXT or JSON");
	assert_error(MESH_HEAD "  accessLogFormat: '%NOPE%'\n",
	    "accessLogFormat: unknown command operator %NOPE%");
	assert_error(MESH_HEAD "  accessLogEncoding: JSON\n"
	    "  accessLogFormat: 'not json'\n", "accessLogFormat:");
	assert_error(MESH_HEAD "  defaultProviders:\n    tracing: [nope]\n",
	    "defaultProviders.tracing: no extension provider nope");
	assert_error(MESH_HEAD "  extensionProviders:\n  - name: o\n"
	    "    opentelemetry:\n      service: x\n      port: 4317\n"
	    "      grpc: {}\n", "OTLP over HTTP");
	assert_error(MESH_HEAD "  extensionProviders:\n  - name: z\n"
	    "    zipkin:\n      service: x\n", "needs a service and a port");
	assert_error(MESH_HEAD "  extensionProviders:\n  - name: z\n"
	    "    zipkin: {service: x, port: 1}\n  - name: z\n"
	    "    zipkin: {service: x, port: 2}\n", "given twice");
	assert_error(MESH_HEAD "  defaultConfig:\n    tracing:\n"
	    "      sampling: 101\n", "must be a number 0..100");
	assert_error(MESH_HEAD "  stats:\n    address: nowhere\n",
	    "stats.address must be host:port");
	assert_error(MESH_HEAD "  stats:\n    maxSeries: 0\n",
	    "stats.maxSeries");
	assert_error(MESH_HEAD "  defaultConfig:\n    tracing:\n"
	    "      datadog: {}\n", "Zipkin and OTLP/HTTP collectors only");
	assert_error(TEL_HEAD("default", "t")
	    "  accessLogging:\n  - filter:\n      expression: "
	    "'response.code >= \"x\"'\n", "compares a number with a string");
	assert_error(TEL_HEAD("default", "t")
	    "  tracing:\n  - randomSamplingPercentage: -1\n",
	    "must be a number 0..100");
	assert_error(TEL_HEAD("default", "t")
	    "  accessLogging:\n  - match:\n      mode: BOTH\n",
	    "match.mode must be");
	assert_error(TEL_HEAD("default", "t") "  metrics:\n  - overrides:\n"
	    "    - match:\n        metric: EVERYTHING\n", "match.metric");
	assert_error(TEL_HEAD("default", "t") "  nonsense: 1\n",
	    "unknown field nonsense in Telemetry spec");
}

static void
test_warnings(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;

	cfg = load(MESH_HEAD "  defaultConfig:\n"
	    "    holdApplicationUntilProxyStarts: true\n"
	    "    tracing:\n      maxPathTagLength: 99\n"
	    "  extensionProviders:\n  - name: ext\n    envoyExtAuthzHttp:\n"
	    "      service: x\n"
	    TEL_HEAD("default", "t")
	    "  tracing:\n  - customTags:\n      a:\n        literal:\n"
	    "          value: b\n"
	    "  metrics:\n  - overrides:\n    - tagOverrides:\n"
	    "        x: {operation: REMOVE}\n"
	    "    reportingInterval: 5s\n"
	    TEL_HEAD("default", "gw")
	    "  targetRefs:\n  - kind: Gateway\n    name: gw\n"
	    "  accessLogging:\n  - providers:\n    - name: envoy\n", &errs);
	assert_non_null(cfg);
	assert_true(has_warning(&errs, "defaultConfig."
	    "holdApplicationUntilProxyStarts is not acted on"));
	assert_true(has_warning(&errs, "maxPathTagLength is not acted on"));
	assert_true(has_warning(&errs, "envoyExtAuthzHttp is not one "
	    "stats-d exports to"));
	assert_true(has_warning(&errs, "customTags is not acted on"));
	assert_true(has_warning(&errs, "tagOverrides is not acted on"));
	assert_true(has_warning(&errs, "reportingInterval is not acted on"));
	assert_true(has_warning(&errs, "targetRefs is not acted on"));
	assert_int_equal(errs.nerrors, 0);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_resolve_defaults(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;

	/* nothing: Istio's 1%, no log, no collector */
	telemetry_resolve(NULL, "default", NULL, &e);
	assert_int_equal(e.nlogs, 0);
	assert_int_equal(e.ntraces, 0);
	assert_int_equal(e.sampling_ppm, 10000);
	assert_true(e.tracing);

	cfg = load(MESH_HEAD "  accessLogFile: /dev/stdout\n"
	    "  defaultConfig:\n    tracing:\n      sampling: 100\n"
	    "      zipkin:\n        address: 127.0.0.1:9411\n", &errs);
	assert_non_null(cfg);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_int_equal(e.nlogs, 1);
	assert_string_equal(e.logs[0].path, "/dev/stdout");
	assert_string_equal(e.logs[0].provider, "envoy");
	assert_false(e.logs[0].json);
	assert_int_equal(e.sampling_ppm, 1000000);
	assert_int_equal(e.ntraces, 1);
	assert_int_equal(e.traces[0].kind, PROVIDER_ZIPKIN);
	assert_string_equal(e.traces[0].host, "127.0.0.1");
	assert_int_equal(e.traces[0].port, 9411);
	assert_string_equal(e.traces[0].path, "/api/v2/spans");
	config_free(cfg);
	cfg_errors_fini(&errs);

	/* tracing off */
	cfg = load(MESH_HEAD "  enableTracing: false\n"
	    "  defaultConfig:\n    tracing:\n      zipkin:\n"
	    "        address: 127.0.0.1:9411\n", &errs);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_false(e.tracing);
	assert_int_equal(e.ntraces, 0);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_resolve_levels(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;
	char				*k[] = { "app" }, *v[] = { "rating" };
	char				*v2[] = { "book" };
	struct labels			 rating = { k, v, 1 }, book = { k, v2,
					    1 };

	cfg = load(MESH_HEAD "  accessLogFile: /tmp/mesh.log\n"
	    "  extensionProviders:\n  - name: file\n"
	    "    envoyFileAccessLog:\n      path: /tmp/file.log\n"
	    TEL_HEAD("istio-system", "mesh-default")
	    "  accessLogging:\n  - providers:\n    - name: envoy\n"
	    TEL_HEAD("shop", "ns-wide")
	    "  accessLogging:\n  - providers:\n    - name: file\n"
	    "    match:\n      mode: SERVER\n"
	    TEL_HEAD("shop", "rating-only")
	    "  selector:\n    matchLabels:\n      app: rating\n"
	    "  accessLogging:\n  - disabled: true\n", &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	/* the root namespace's, for any other namespace */
	telemetry_resolve(cfg, "default", &book, &e);
	assert_int_equal(e.nlogs, 1);
	assert_string_equal(e.logs[0].path, "/tmp/mesh.log");
	/* the namespace's */
	telemetry_resolve(cfg, "shop", &book, &e);
	assert_int_equal(e.nlogs, 1);
	assert_string_equal(e.logs[0].path, "/tmp/file.log");
	assert_int_equal(e.logs[0].mode, TELEMETRY_SERVER);
	/* the workload's: off */
	telemetry_resolve(cfg, "shop", &rating, &e);
	assert_int_equal(e.nlogs, 0);
	config_free(cfg);
	cfg_errors_fini(&errs);

	/* a provider that is not there: said, not used */
	cfg = load(TEL_HEAD("default", "t") "  accessLogging:\n"
	    "  - providers:\n    - name: ghost\n", &errs);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_int_equal(e.nlogs, 0);
	assert_non_null(strstr(e.problem, "ghost"));
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_resolve_tracing(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;

	cfg = load(MESH_HEAD "  extensionProviders:\n  - name: otel\n"
	    "    opentelemetry:\n      service: collector\n      port: 4318\n"
	    "  - name: zk\n    zipkin:\n      service: 127.0.0.1\n"
	    "      port: 9411\n      path: /zipkin/api/v2/spans\n"
	    "  defaultProviders:\n    tracing: [zk]\n"
	    TEL_HEAD("istio-system", "mesh")
	    "  tracing:\n  - randomSamplingPercentage: 100\n"
	    TEL_HEAD("shop", "shop")
	    "  tracing:\n  - providers:\n    - name: otel\n"
	    "    randomSamplingPercentage: 0.5\n"
	    "    disableSpanReporting: true\n    match:\n      mode: CLIENT\n",
	    &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_int_equal(e.sampling_ppm, 1000000);
	assert_int_equal(e.ntraces, 1);
	assert_string_equal(e.traces[0].path, "/zipkin/api/v2/spans");
	telemetry_resolve(cfg, "shop", NULL, &e);
	assert_int_equal(e.sampling_ppm, 5000);
	assert_int_equal(e.ntraces, 1);
	assert_int_equal(e.traces[0].kind, PROVIDER_OPENTELEMETRY);
	assert_string_equal(e.traces[0].path, "/v1/traces");
	assert_string_equal(e.traces[0].host, "collector");
	assert_false(e.spans[0]);
	assert_true(e.spans[1]);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static void
test_resolve_metrics(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;

	cfg = load(TEL_HEAD("default", "m")
	    "  metrics:\n  - providers:\n    - name: prometheus\n"
	    "    overrides:\n    - match:\n        metric: REQUEST_SIZE\n"
	    "        mode: CLIENT\n      disabled: true\n"
	    "    - match:\n        metric: RESPONSE_SIZE\n"
	    "      disabled: true\n", &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_int_equal(e.metrics_off[0], METRICS_REQUEST_SIZE |
	    METRICS_RESPONSE_SIZE);
	assert_int_equal(e.metrics_off[1], METRICS_RESPONSE_SIZE);
	config_free(cfg);
	cfg_errors_fini(&errs);
}

static int
filter(const char *expr, const struct record *r)
{
	struct logfilter	*f;
	char			 err[256];
	int			 rc;

	if ((f = logfilter_parse(expr, err, sizeof(err))) == NULL)
		fail_msg("refused \"%s\": %s", expr, err);
	rc = logfilter_match(f, r);
	logfilter_free(f);
	/* the optional record fields a filter makes proxy-d send */
	f = logfilter_parse("response.code_details == 'x' || "
	    "(request.protocol == 'HTTP/1.0' && "
	    "connection.requested_server_name != '')", err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(logfilter_fields(f), RECORD_F_DETAILS |
	    RECORD_F_PROTOCOL | RECORD_F_SNI);
	logfilter_free(f);
	f = logfilter_parse("response.code >= 500", err, sizeof(err));
	assert_int_equal(logfilter_fields(f), 0);
	logfilter_free(f);
	return rc;
}

static void
test_filter(void **state)
{
	struct record		 r;
	struct logfilter	*f;
	const char *const	*names;
	char			 err[256];

	memset(&r, 0, sizeof(r));
	r.code = 503;
	r.method = s("GET");
	r.path = s("/api/books?x=1");
	r.authority = s("book:8080");
	r.downstream_remote = s("10.1.2.3:5555");
	r.upstream_host = s("[::1]:9081");
	r.security = s("mutual_tls");
	r.response_bytes = 10;
	r.request_headers[0].name = s("x-debug");
	r.request_headers[0].value = s("on");
	r.nrequest_headers = 1;
	assert_true(filter("response.code >= 400", &r));
	assert_false(filter("response.code < 400", &r));
	assert_true(filter("response.code == 503 && request.method == 'GET'",
	    &r));
	assert_true(filter("response.code == 200 || request.url_path == "
	    "\"/api/books\"", &r));
	assert_true(filter("request.path.startsWith('/api') && "
	    "!request.path.endsWith('/x')", &r));
	assert_true(filter("request.headers['X-Debug'] == 'on'", &r));
	assert_false(filter("request.headers['x-none'] == 'on'", &r));
	assert_true(filter("request.headers['x-none'] == ''", &r));
	assert_true(filter("source.address == '10.1.2.3' && source.port == "
	    "5555", &r));
	assert_true(filter("upstream.address == '::1' && upstream.port == "
	    "9081", &r));
	assert_true(filter("connection.mtls", &r));
	assert_true(filter("connection.mtls == true && (response.size > 5)",
	    &r));
	assert_true(filter("request.host.contains(':80')", &r));
	assert_false(filter("!(response.code > 0)", &r));
	/* CEL's in over a list */
	assert_true(filter("response.code in [500, 503]", &r));
	assert_false(filter("response.code in [500, 502]", &r));
	assert_false(filter("response.code in []", &r));
	assert_true(filter("request.method in ['POST', \"GET\"] && "
	    "!(response.code in [200])", &r));
	assert_false(filter("request.method in ['GE', 'GETX']", &r));
	assert_true(filter("response.code in [ -1 ,503 ]||false", &r));
	assert_true(filter("request.headers['x-debug'] in ['on']", &r));
	/* the headers a filter needs, for proxy-d */
	f = logfilter_parse("request.headers['a'] == '' || "
	    "response.headers['b'] == '' || request.headers['a'] == 'x'",
	    err, sizeof(err));
	assert_int_equal(logfilter_headers(f, 0, &names), 1);
	assert_string_equal(names[0], "a");
	assert_int_equal(logfilter_headers(f, 1, &names), 1);
	logfilter_free(f);
}

static void
test_filter_refused(void **state)
{
	static const char *const bad[] = {
		"", "response.code", "response.code >=", "response.code == 'x'",
		"request.nope == 1", "(response.code == 1", "response.code == 1)",
		"request.method.startsWith(1)", "request.method.lower()",
		"response.code.contains('x')", "'unterminated",
		"request.headers == 'x'", "request.headers[1] == 'x'",
		"true < false", "response.code == 99999999999999999999",
		"connection.mtls && 1", "request.headers['a b'] == ''",
		"response.code in 500", "response.code in [500, '503']",
		"request.method in [1]", "response.code in [500",
		"response.code in [500,]", "response.code in [response.size]",
		"connection.mtls in [true]", "response.code in [500] == true",
	};
	char	 err[256], deep[200];
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if (logfilter_parse(bad[i], err, sizeof(err)) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(err[0] != '\0');
	}
	memset(deep, '(', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_null(logfilter_parse(deep, err, sizeof(err)));
	assert_non_null(strstr(err, "deep"));
	/* a list of the wrong type: said where */
	assert_null(logfilter_parse("response.code in [500, 'x']", err,
	    sizeof(err)));
	assert_string_equal(err, "in looks for a number in a list with a "
	    "string at offset 23");
}

static const struct cfg_error *
warning_at(const struct cfg_errors *errs, const char *want)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		if (errs->v[i].warning &&
		    strstr(errs->v[i].message, want) != NULL)
			return &errs->v[i];
	return NULL;
}

/*
 * envoyFileAccessLog as Istio's fileAccessLogFromTelemetry reads it: no
 * path is /dev/stdout; labels empty or null is Istio's default JSON.
 */
static void
test_file_provider_defaults(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;
	size_t				 i;

	cfg = load(MESH_HEAD "  extensionProviders:\n"
	    "  - name: nopath\n    envoyFileAccessLog: {}\n"
	    "  - name: bare\n    envoyFileAccessLog:\n"
	    "  - name: empty\n    envoyFileAccessLog:\n"
	    "      path: /tmp/e.log\n      logFormat:\n        labels: {}\n"
	    "  - name: nolabels\n    envoyFileAccessLog:\n"
	    "      logFormat:\n        labels:\n"
	    "  - name: text\n    envoyFileAccessLog:\n"
	    "      logFormat:\n        text: '%RESPONSE_CODE%'\n"
	    TEL_HEAD("default", "t")
	    "  accessLogging:\n  - providers:\n    - name: nopath\n"
	    "    - name: bare\n    - name: empty\n    - name: nolabels\n"
	    "    - name: text\n", &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_string_equal(e.problem, "");
	assert_int_equal(e.nlogs, 5);
	assert_string_equal(e.logs[0].path, "/dev/stdout");
	assert_string_equal(e.logs[1].path, "/dev/stdout");
	assert_false(e.logs[0].json);
	assert_string_equal(e.logs[2].path, "/tmp/e.log");
	assert_string_equal(e.logs[3].path, "/dev/stdout");
	for (i = 2; i <= 3; i++) {
		assert_true(e.logs[i].json);
		assert_non_null(e.logs[i].labels);
		assert_int_equal(e.logs[i].labels->n, 24);
		assert_string_equal(e.logs[i].labels->keys[0], "start_time");
		assert_string_equal(e.logs[i].labels->values[18],
		    "%UPSTREAM_CLUSTER_RAW%");
	}
	assert_false(e.logs[4].json);
	assert_string_equal(e.logs[4].format, "%RESPONSE_CODE%");
	config_free(cfg);
	cfg_errors_fini(&errs);
}

/*
 * More headers than a record carries: a warning where the format is,
 * and a problem when several logs together read too many.
 */
static void
test_header_cap(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	struct telemetry_effective	 e;
	const struct cfg_error		*w;
	char				 yaml[4096], fmt[1024];
	size_t				 i, n;

	n = 0;
	for (i = 0; i < 16; i++)
		n += (size_t)snprintf(fmt + n, sizeof(fmt) - n,
		    "%%REQ(X-H%zu)%% ", i);
	snprintf(yaml, sizeof(yaml), MESH_HEAD "  accessLogFile: /dev/stdout\n"
	    "  accessLogFormat: '%s'\n", fmt);
	cfg = load(yaml, &errs);
	assert_non_null(cfg);
	assert_non_null((w = warning_at(&errs, "accessLogFormat: 16 request "
	    "headers")));
	assert_non_null(strstr(w->message, "x-h15 and those after it print"));
	assert_int_equal(w->line, 7);
	assert_int_equal(w->col, 20);
	config_free(cfg);
	cfg_errors_fini(&errs);

	/* two logs of 8 request headers each: each fits, together not */
	n = 0;
	for (i = 0; i < 8; i++)
		n += (size_t)snprintf(fmt + n, sizeof(fmt) - n,
		    "%%REQ(X-A%zu)%% ", i);
	n = (size_t)snprintf(yaml, sizeof(yaml), MESH_HEAD
	    "  accessLogFile: /dev/stdout\n  accessLogFormat: '%s'\n"
	    "  extensionProviders:\n  - name: second\n"
	    "    envoyFileAccessLog:\n      logFormat:\n        labels:\n",
	    fmt);
	for (i = 0; i < 8; i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
		    "          b%zu: '%%REQ(X-B%zu)%%'\n", i, i);
	snprintf(yaml + n, sizeof(yaml) - n, TEL_HEAD("default", "t")
	    "  accessLogging:\n  - providers:\n    - name: envoy\n"
	    "    - name: second\n");
	cfg = load(yaml, &errs);
	if (cfg == NULL)
		fail_msg("refused: %s", errs.v[0].message);
	assert_null(warning_at(&errs, "request headers"));
	telemetry_resolve(cfg, "default", NULL, &e);
	assert_int_equal(e.nlogs, 2);
	/* 16 of the formats' and the spans' user-agent */
	assert_non_null(strstr(e.problem, "access logs: 17 request headers"));
	config_free(cfg);
	cfg_errors_fini(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh_fields),
		cmocka_unit_test(test_mesh_errors),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_resolve_defaults),
		cmocka_unit_test(test_resolve_levels),
		cmocka_unit_test(test_resolve_tracing),
		cmocka_unit_test(test_resolve_metrics),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_filter_refused),
		cmocka_unit_test(test_file_provider_defaults),
		cmocka_unit_test(test_header_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
