/* SPDX-License-Identifier: ISC */
/*
 * Telemetry settings: the fields of meshkit's MeshConfig that Istio's
 * MeshConfig has for access logs and tracing (accessLogFile,
 * accessLogEncoding, accessLogFormat, enableTracing,
 * defaultConfig.tracing, extensionProviders, defaultProviders,
 * rootNamespace) plus stats-d's own (stats), and Istio's Telemetry kind.
 *
 * What meshkit reads but does not act on is a warning, never silence:
 * Istio's files carry settings for Envoy that have no meaning here, and
 * refusing them would refuse the files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "config.h"
#include "config_impl.h"
#include "json.h"
#include "log.h"
#include "logfilter.h"
#include "metrics.h"
#include "util.h"
#include "yaml.h"

static const char *const tl_modes[] = { "CLIENT_AND_SERVER", "CLIENT",
    "SERVER", NULL };
static const char *const tl_encodings[] = { "TEXT", "JSON", NULL };

static int	tl_provider_names(struct config_loader *, const struct ynode *,
		    const char *, char ***, size_t *);
static int	tl_mode(struct config_loader *, const struct ynode *,
		    const char *, enum telemetry_mode *);
static int	tl_log_file(struct config_loader *, const struct ynode *,
		    const char *, char **);
static void	tl_istio_labels(struct labels *);
static void	tl_format_headers(struct config_loader *,
		    const struct ynode *, const char *,
		    const struct accesslog_format *);
static int	tl_hostport(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	tl_url_path(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	tl_headers(struct config_loader *, const struct ynode *,
		    const char *, struct labels *);
static int	tl_log_format(struct config_loader *, const struct ynode *,
		    struct extension_provider *);
static int	tl_provider(struct config_loader *, const struct ynode *,
		    struct extension_provider *);
static int	tl_providers(struct config_loader *, const struct ynode *,
		    struct mesh_config *);
static int	tl_default_providers(struct config_loader *,
		    const struct ynode *, struct mesh_config *);
static int	tl_default_config(struct config_loader *, const struct ynode *,
		    struct mesh_config *);
static int	tl_stats(struct config_loader *, const struct ynode *,
		    struct stats_settings *);
static int	tl_logging(struct config_loader *, const struct ynode *,
		    struct telemetry_logging *);
static int	tl_tracing(struct config_loader *, const struct ynode *,
		    struct telemetry_tracing *);
static int	tl_override(struct config_loader *, const struct ynode *,
		    struct telemetry_override *);
static int	tl_metrics(struct config_loader *, const struct ynode *,
		    struct telemetry_metrics *);
static void	tl_provider_fini(struct extension_provider *);

/* providers: [{name: x}, ...] */
static int
tl_provider_names(struct config_loader *l, const struct ynode *n,
    const char *what, char ***out, size_t *nout)
{
	const struct ynode	*name;
	size_t			 i;
	int			 rc = 0;

	if (config_seq(l, n, what) == -1)
		return -1;
	*out = xcalloc(n->n + 1, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		if (config_keys(l, n->values[i], what, (const char *[]){
		    "name", NULL }) == -1) {
			rc = -1;
			continue;
		}
		if ((name = yaml_get(n->values[i], "name")) == NULL) {
			config_error(l, n->values[i], "%s[%zu].name is "
			    "required", what, i);
			rc = -1;
			continue;
		}
		if (config_string(l, name, "provider name",
		    &(*out)[*nout]) == -1)
			rc = -1;
		else
			(*nout)++;
	}
	return rc;
}

static int
tl_mode(struct config_loader *l, const struct ynode *n, const char *what,
    enum telemetry_mode *mode)
{
	const struct ynode	*m;
	int			 v;

	if (config_keys(l, n, what, (const char *[]){ "mode", NULL }) == -1)
		return -1;
	if ((m = yaml_get(n, "mode")) == NULL || config_is_null(m))
		return 0;
	if (config_enum(l, m, "match.mode", tl_modes, &v) == -1)
		return -1;
	*mode = (enum telemetry_mode)v;
	return 0;
}

/* "", an absolute path, or syslog[:facility]. */
static int
tl_log_file(struct config_loader *l, const struct ynode *n, const char *what,
    char **out)
{
	char	*v = NULL;

	if (config_string(l, n, what, &v) == -1)
		return -1;
	if (v[0] == '\0') {
		free(v);
		free(*out);
		*out = NULL;
		return 0;
	}
	if (v[0] != '/' && strcmp(v, "syslog") != 0 &&
	    strncmp(v, "syslog:", 7) != 0) {
		config_error(l, n, "%s must be an absolute path, \"syslog\" "
		    "or \"syslog:FACILITY\", got \"%s\"", what, v);
		free(v);
		return -1;
	}
	if (strncmp(v, "syslog:", 7) == 0) {
		static const char *const fac[] = { "user", "daemon", "local0",
		    "local1", "local2", "local3", "local4", "local5",
		    "local6", "local7", NULL };
		size_t	 i;

		for (i = 0; fac[i] != NULL && strcmp(v + 7, fac[i]) != 0;
		    i++)
			;
		if (fac[i] == NULL) {
			config_error(l, n, "%s: syslog facility must be user, "
			    "daemon or local0..local7, got \"%s\"", what,
			    v + 7);
			free(v);
			return -1;
		}
	}
	free(*out);
	*out = v;
	return 0;
}

/* host:port with a port, for an address to send to. */
static int
tl_hostport(struct config_loader *l, const struct ynode *n, const char *what,
    char **out)
{
	char	*v = NULL, host[256];
	int	 port;

	if (config_string(l, n, what, &v) == -1)
		return -1;
	if (util_split_hostport(v, strlen(v), host, sizeof(host), &port,
	    -1) == -1 || port < 1 || port > 65535 || host[0] == '\0') {
		config_error(l, n, "%s must be host:port, got \"%s\"", what,
		    v);
		free(v);
		return -1;
	}
	free(*out);
	*out = v;
	return 0;
}

static int
tl_url_path(struct config_loader *l, const struct ynode *n, const char *what,
    char **out)
{
	char	*v = NULL;
	size_t	 i;

	if (config_string(l, n, what, &v) == -1)
		return -1;
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			break;
	if (v[0] != '/' || v[i] != '\0') {
		config_error(l, n, "%s must be a path starting with '/', "
		    "without spaces, got \"%s\"", what, v);
		free(v);
		return -1;
	}
	free(*out);
	*out = v;
	return 0;
}

/* http.headers: [{name: x, value: y}] */
static int
tl_headers(struct config_loader *l, const struct ynode *n, const char *what,
    struct labels *out)
{
	const struct ynode	*h, *name, *value;
	size_t			 i;

	if (config_seq(l, n, what) == -1)
		return -1;
	out->keys = xcalloc(n->n + 1, sizeof(*out->keys));
	out->values = xcalloc(n->n + 1, sizeof(*out->values));
	for (i = 0; i < n->n; i++) {
		h = n->values[i];
		if (config_keys(l, h, what, (const char *[]){ "name", "value",
		    "envName", NULL }) == -1)
			return -1;
		if (yaml_get(h, "envName") != NULL) {
			config_error(l, h, "%s: envName is not supported; "
			    "give the value", what);
			return -1;
		}
		name = yaml_get(h, "name");
		value = yaml_get(h, "value");
		if (name == NULL || value == NULL) {
			config_error(l, h, "%s needs a name and a value",
			    what);
			return -1;
		}
		if (config_string(l, name, "header name",
		    &out->keys[out->n]) == -1)
			return -1;
		if (!util_is_token((struct str){ out->keys[out->n],
		    strlen(out->keys[out->n]) })) {
			config_error(l, name, "%s: \"%s\" is not a header "
			    "name", what, out->keys[out->n]);
			free(out->keys[out->n]);
			out->keys[out->n] = NULL;
			return -1;
		}
		if (config_string(l, value, "header value",
		    &out->values[out->n]) == -1 ||
		    strpbrk(out->values[out->n], "\r\n") != NULL) {
			if (out->values[out->n] != NULL)
				config_error(l, value, "%s: a value is one "
				    "line", what);
			free(out->keys[out->n]);
			free(out->values[out->n]);
			out->keys[out->n] = out->values[out->n] = NULL;
			return -1;
		}
		out->n++;
	}
	return 0;
}

/*
 * Istio's default JSON format as labels: what logFormat.labels empty
 * gives ("allow default behavior when no labels supplied").
 */
static void
tl_istio_labels(struct labels *lb)
{
	struct json	*j;
	char		 err[128];
	size_t		 i;

	j = json_parse(ACCESSLOG_ISTIO_JSON_FORMAT,
	    strlen(ACCESSLOG_ISTIO_JSON_FORMAT), err, sizeof(err));
	if (j == NULL || j->type != JSON_OBJECT)
		fatalx("%s: Istio's JSON format: %s", __func__, err);
	config_labels_fini(lb);
	lb->keys = xcalloc(j->n, sizeof(*lb->keys));
	lb->values = xcalloc(j->n, sizeof(*lb->values));
	for (i = 0; i < j->n; i++) {
		lb->keys[i] = xstrdup(j->keys[i]);
		lb->values[i] = xstrdup(j->values[i]->string);
	}
	lb->n = j->n;
	json_free(j);
}

/* A format that reads more headers than a record carries: a warning. */
static void
tl_format_headers(struct config_loader *l, const struct ynode *n,
    const char *what, const struct accesslog_format *f)
{
	char	 err[256];

	if (accesslog_format_check(f, err, sizeof(err)) == -1)
		config_warn(l, n, "%s: %s", what, err);
}

/* envoyFileAccessLog.logFormat: {text: ...} or {labels: {...}} */
static int
tl_log_format(struct config_loader *l, const struct ynode *n,
    struct extension_provider *p)
{
	const struct ynode		*text, *labels;
	struct accesslog_format		*f;
	char				 err[256];

	if (config_keys(l, n, "logFormat", (const char *[]){ "text",
	    "labels", "omitEmptyValues", NULL }) == -1)
		return -1;
	text = yaml_get(n, "text");
	labels = yaml_get(n, "labels");
	if (yaml_get(n, "omitEmptyValues") != NULL)
		config_warn(l, yaml_get(n, "omitEmptyValues"),
		    "logFormat.omitEmptyValues is not acted on: empty values "
		    "are written as \"-\" or null");
	if (text != NULL && labels != NULL) {
		config_error(l, n, "logFormat takes text or labels, not both");
		return -1;
	}
	if (text != NULL) {
		if (config_string(l, text, "logFormat.text",
		    &p->log_text) == -1)
			return -1;
		if ((f = accesslog_text_new(p->log_text, err,
		    sizeof(err))) == NULL) {
			config_error(l, text, "logFormat.text: %s", err);
			return -1;
		}
		tl_format_headers(l, text, "logFormat.text", f);
		accesslog_format_free(f);
	} else if (labels != NULL) {
		if (!config_is_null(labels) && config_labels(l, labels,
		    "logFormat.labels", &p->log_labels) == -1)
			return -1;
		/* none given: Istio's default JSON, not text */
		if (p->log_labels.n == 0)
			tl_istio_labels(&p->log_labels);
		if ((f = accesslog_json_new(p->log_labels.keys,
		    p->log_labels.values, p->log_labels.n, err,
		    sizeof(err))) == NULL) {
			config_error(l, labels, "logFormat.labels: %s", err);
			return -1;
		}
		tl_format_headers(l, labels, "logFormat.labels", f);
		accesslog_format_free(f);
	}
	return 0;
}

static int
tl_provider(struct config_loader *l, const struct ynode *n,
    struct extension_provider *p)
{
	const struct ynode	*k, *v, *kk, *vv, *name = NULL, *body = NULL;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "extensionProviders[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_key_is(k, "name"))
			name = v;
		else if (body != NULL) {
			config_error(l, k, "an extension provider has one "
			    "kind; %s comes after another", k->value);
			return -1;
		} else {
			body = v;
			if (config_key_is(k, "zipkin"))
				p->kind = PROVIDER_ZIPKIN;
			else if (config_key_is(k, "opentelemetry"))
				p->kind = PROVIDER_OPENTELEMETRY;
			else if (config_key_is(k, "envoyFileAccessLog"))
				p->kind = PROVIDER_FILE_ACCESS_LOG;
			else if (config_key_is(k, "prometheus"))
				p->kind = PROVIDER_PROMETHEUS;
			else {
				/* a provider for something else (ext authz) */
				config_warn(l, k, "extension provider kind "
				    "%s is not one stats-d exports to", k->value);
				p->kind = PROVIDER_OTHER;
			}
		}
	}
	if (name == NULL || config_string(l, name, "extensionProviders[].name",
	    &p->name) == -1) {
		if (name == NULL)
			config_error(l, n, "extensionProviders[].name is "
			    "required");
		return -1;
	}
	if (body == NULL) {
		config_error(l, n, "extension provider %s has no kind "
		    "(zipkin, opentelemetry, envoyFileAccessLog, prometheus)",
		    p->name);
		return -1;
	}
	if (p->kind == PROVIDER_OTHER || config_is_null(body))
		return 0;
	if (config_expect_map(l, body, p->name) == -1)
		return -1;
	for (i = 0; i < body->n; i++) {
		k = body->keys[i];
		v = body->values[i];
		if (config_is_null(v))
			continue;
		if ((p->kind == PROVIDER_ZIPKIN ||
		    p->kind == PROVIDER_OPENTELEMETRY) &&
		    config_key_is(k, "service"))
			rc |= config_string(l, v, "service", &p->service);
		else if ((p->kind == PROVIDER_ZIPKIN ||
		    p->kind == PROVIDER_OPENTELEMETRY) &&
		    config_key_is(k, "port"))
			rc |= config_u32(l, v, "port", 1, 65535, &p->port);
		else if ((p->kind == PROVIDER_ZIPKIN ||
		    p->kind == PROVIDER_OPENTELEMETRY) &&
		    config_key_is(k, "maxTagLength"))
			rc |= config_u32(l, v, "maxTagLength", 0, 65536,
			    &p->max_tag_length);
		else if (p->kind == PROVIDER_ZIPKIN &&
		    config_key_is(k, "path"))
			rc |= tl_url_path(l, v, "zipkin.path", &p->path);
		else if (p->kind == PROVIDER_ZIPKIN &&
		    (config_key_is(k, "enable64bitTraceId") ||
		    config_key_is(k, "traceContextOption") ||
		    config_key_is(k, "timeout") || config_key_is(k,
		    "headers")))
			config_warn(l, k, "zipkin.%s is not acted on",
			    k->value);
		else if (p->kind == PROVIDER_OPENTELEMETRY &&
		    config_key_is(k, "http")) {
			if (config_keys(l, v, "opentelemetry.http",
			    (const char *[]){ "path", "timeout", "headers",
			    NULL }) == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				kk = v->keys[j];
				vv = v->values[j];
				if (config_is_null(vv))
					continue;
				if (config_key_is(kk, "path"))
					rc |= tl_url_path(l, vv,
					    "opentelemetry.http.path",
					    &p->path);
				else if (config_key_is(kk, "timeout"))
					rc |= config_duration(l, vv,
					    "opentelemetry.http.timeout",
					    &p->timeout_ms);
				else
					rc |= tl_headers(l, vv,
					    "opentelemetry.http.headers",
					    &p->headers);
			}
		} else if (p->kind == PROVIDER_OPENTELEMETRY &&
		    config_key_is(k, "grpc")) {
			config_error(l, k, "opentelemetry.grpc: stats-d "
			    "exports OTLP over HTTP (JSON) only; give http "
			    "instead");
			rc = -1;
		} else if (p->kind == PROVIDER_OPENTELEMETRY &&
		    (config_key_is(k, "resourceDetectors") ||
		    config_key_is(k, "dynatraceSampler")))
			config_warn(l, k, "opentelemetry.%s is not acted "
			    "on", k->value);
		else if (p->kind == PROVIDER_FILE_ACCESS_LOG &&
		    config_key_is(k, "path"))
			rc |= tl_log_file(l, v, "envoyFileAccessLog.path",
			    &p->path);
		else if (p->kind == PROVIDER_FILE_ACCESS_LOG &&
		    config_key_is(k, "logFormat"))
			rc |= tl_log_format(l, v, p);
		else
			config_unknown_field(l, k, p->name);
	}
	if (rc == 0 && (p->kind == PROVIDER_ZIPKIN ||
	    p->kind == PROVIDER_OPENTELEMETRY) &&
	    (p->service == NULL || p->port == 0)) {
		config_error(l, body, "extension provider %s needs a service "
		    "and a port", p->name);
		return -1;
	}
	/* no path: /dev/stdout, as Istio's (telemetry.c) */
	return rc;
}

static int
tl_providers(struct config_loader *l, const struct ynode *n,
    struct mesh_config *mc)
{
	size_t	 i, j;
	int	 rc = 0;

	if (config_seq(l, n, "extensionProviders") == -1)
		return -1;
	mc->providers = xcalloc(n->n + 1, sizeof(*mc->providers));
	for (i = 0; i < n->n; i++) {
		struct extension_provider *p = &mc->providers[mc->nproviders];

		if (tl_provider(l, n->values[i], p) == -1) {
			tl_provider_fini(p);
			rc = -1;
			continue;
		}
		for (j = 0; j < mc->nproviders; j++)
			if (strcmp(mc->providers[j].name, p->name) == 0)
				break;
		if (j < mc->nproviders) {
			config_error(l, n->values[i], "extension provider %s "
			    "given twice", p->name);
			tl_provider_fini(p);
			rc = -1;
			continue;
		}
		mc->nproviders++;
	}
	return rc;
}

static int
tl_default_providers(struct config_loader *l, const struct ynode *n,
    struct mesh_config *mc)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_keys(l, n, "defaultProviders", (const char *[]){ "tracing",
	    "accessLogging", "metrics", NULL }) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "tracing"))
			rc |= config_string_list(l, v, "defaultProviders.tracing",
			    &mc->default_tracing, &mc->ndefault_tracing);
		else if (config_key_is(k, "accessLogging"))
			rc |= config_string_list(l, v,
			    "defaultProviders.accessLogging",
			    &mc->default_access_logging,
			    &mc->ndefault_access_logging);
		else
			rc |= config_string_list(l, v, "defaultProviders.metrics",
			    &mc->default_metrics, &mc->ndefault_metrics);
	}
	return rc;
}

/* defaultConfig (Istio's ProxyConfig): only its tracing is ours. */
static int
tl_default_config(struct config_loader *l, const struct ynode *n,
    struct mesh_config *mc)
{
	const struct ynode	*k, *v, *kk, *vv;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "defaultConfig") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (!config_key_is(k, "tracing")) {
			config_warn(l, k, "defaultConfig.%s is not acted "
			    "on by meshkit", k->value);
			continue;
		}
		if (config_is_null(v))
			continue;
		if (config_expect_map(l, v, "defaultConfig.tracing") == -1)
			return -1;
		for (j = 0; j < v->n; j++) {
			kk = v->keys[j];
			vv = v->values[j];
			if (config_is_null(vv))
				continue;
			if (config_key_is(kk, "sampling")) {
				rc |= config_percent(l, vv,
				    "defaultConfig.tracing.sampling",
				    &mc->sampling_ppm);
			} else if (config_key_is(kk, "zipkin")) {
				if (config_keys(l, vv, "tracing.zipkin",
				    (const char *[]){ "address", NULL }) == -1) {
					rc = -1;
					continue;
				}
				if (yaml_get(vv, "address") != NULL &&
				    tl_hostport(l, yaml_get(vv, "address"),
				    "tracing.zipkin.address",
				    &mc->zipkin_address) == 0) {
					char	 host[256];
					int	 port;

					util_split_hostport(mc->zipkin_address,
					    strlen(mc->zipkin_address), host,
					    sizeof(host), &port, -1);
					free(mc->zipkin_host);
					mc->zipkin_host = xstrdup(host);
					mc->zipkin_port = (uint32_t)port;
				} else if (yaml_get(vv, "address") != NULL)
					rc = -1;
			} else if (config_key_is(kk, "openCensusAgent") ||
			    config_key_is(kk, "lightstep") ||
			    config_key_is(kk, "datadog") ||
			    config_key_is(kk, "stackdriver")) {
				config_error(l, kk, "defaultConfig.tracing.%s: "
				    "meshkit exports to Zipkin and OTLP/HTTP "
				    "collectors only", kk->value);
				rc = -1;
			} else
				config_warn(l, kk, "defaultConfig.tracing.%s "
				    "is not acted on", kk->value);
		}
	}
	return rc;
}

static int
tl_stats(struct config_loader *l, const struct ynode *n,
    struct stats_settings *st)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_keys(l, n, "stats", (const char *[]){ "address",
	    "maxSeries", "maxEdges", "maxSpans", "exportInterval",
	    NULL }) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "address"))
			rc |= tl_hostport(l, v, "stats.address", &st->address);
		else if (config_key_is(k, "maxSeries"))
			rc |= config_u32(l, v, "stats.maxSeries", 1, 1000000,
			    &st->max_series);
		else if (config_key_is(k, "maxEdges"))
			rc |= config_u32(l, v, "stats.maxEdges", 1, 100000,
			    &st->max_edges);
		else if (config_key_is(k, "maxSpans"))
			rc |= config_u32(l, v, "stats.maxSpans", 1, 1000000,
			    &st->max_spans);
		else {
			rc |= config_duration(l, v, "stats.exportInterval",
			    &st->export_interval_ms);
			if (rc == 0 && (st->export_interval_ms < 10 ||
			    st->export_interval_ms > 60000)) {
				config_error(l, v, "stats.exportInterval must "
				    "be 10ms..60s");
				rc = -1;
			}
		}
	}
	return rc;
}

int
config_mesh_telemetry(struct config_loader *l, const struct ynode *k,
    const struct ynode *v, struct mesh_config *mc)
{
	int			 enc;

	if (config_key_is(k, "accessLogFile"))
		return tl_log_file(l, v, "accessLogFile",
		    &mc->access_log_file) == -1 ? -1 : 1;
	if (config_key_is(k, "accessLogEncoding")) {
		if (config_enum(l, v, "accessLogEncoding", tl_encodings,
		    &enc) == -1)
			return -1;
		mc->access_log_encoding = enc;
		return 1;
	}
	if (config_key_is(k, "accessLogFormat")) {
		if (config_string(l, v, "accessLogFormat",
		    &mc->access_log_format) == -1)
			return -1;
		/* checked with the encoding, at the end of MeshConfig */
		return 1;
	}
	if (config_key_is(k, "enableTracing"))
		return config_bool(l, v, "enableTracing",
		    &mc->enable_tracing) == -1 ? -1 : 1;
	if (config_key_is(k, "defaultConfig"))
		return tl_default_config(l, v, mc) == -1 ? -1 : 1;
	if (config_key_is(k, "extensionProviders"))
		return tl_providers(l, v, mc) == -1 ? -1 : 1;
	if (config_key_is(k, "defaultProviders"))
		return tl_default_providers(l, v, mc) == -1 ? -1 : 1;
	if (config_key_is(k, "stats"))
		return tl_stats(l, v, &mc->stats) == -1 ? -1 : 1;
	return 0;
}

/* After every field of a MeshConfig: what depends on several. */
int
config_mesh_telemetry_check(struct config_loader *l, const struct ynode *spec,
    struct mesh_config *mc)
{
	struct accesslog_format	*f;
	const char *const	*lists[3];
	size_t			 nlists[3], i, j, p;
	char			 err[256];
	static const char *const what[] = { "tracing", "accessLogging",
	    "metrics" };
	static const char *const builtin[] = { NULL, "envoy", "prometheus" };

	if (mc->access_log_format != NULL && mc->access_log_format[0] != '\0') {
		f = mc->access_log_encoding == ACCESS_LOG_JSON ?
		    accesslog_json_parse(mc->access_log_format, err,
		    sizeof(err)) : accesslog_text_new(mc->access_log_format,
		    err, sizeof(err));
		if (f == NULL) {
			config_error(l, yaml_get(spec, "accessLogFormat"),
			    "accessLogFormat: %s", err);
			return -1;
		}
		tl_format_headers(l, yaml_get(spec, "accessLogFormat"),
		    "accessLogFormat", f);
		accesslog_format_free(f);
	}
	lists[0] = (const char *const *)mc->default_tracing;
	nlists[0] = mc->ndefault_tracing;
	lists[1] = (const char *const *)mc->default_access_logging;
	nlists[1] = mc->ndefault_access_logging;
	lists[2] = (const char *const *)mc->default_metrics;
	nlists[2] = mc->ndefault_metrics;
	for (i = 0; i < 3; i++)
		for (j = 0; j < nlists[i]; j++) {
			if (builtin[i] != NULL && strcmp(lists[i][j],
			    builtin[i]) == 0)
				continue;
			for (p = 0; p < mc->nproviders; p++)
				if (strcmp(mc->providers[p].name,
				    lists[i][j]) == 0)
					break;
			if (p == mc->nproviders) {
				config_error(l, yaml_get(spec,
				    "defaultProviders"), "defaultProviders.%s: "
				    "no extension provider %s", what[i],
				    lists[i][j]);
				return -1;
			}
		}
	return 0;
}

static void
tl_provider_fini(struct extension_provider *p)
{
	free(p->name);
	free(p->service);
	free(p->path);
	config_labels_fini(&p->headers);
	free(p->log_text);
	config_labels_fini(&p->log_labels);
	memset(p, 0, sizeof(*p));
}

void
config_mesh_telemetry_fini(struct mesh_config *mc)
{
	size_t	 i;

	free(mc->access_log_file);
	free(mc->access_log_format);
	free(mc->zipkin_address);
	free(mc->zipkin_host);
	for (i = 0; i < mc->nproviders; i++)
		tl_provider_fini(&mc->providers[i]);
	free(mc->providers);
	config_strings_free(mc->default_tracing, mc->ndefault_tracing);
	config_strings_free(mc->default_access_logging,
	    mc->ndefault_access_logging);
	config_strings_free(mc->default_metrics, mc->ndefault_metrics);
	free(mc->stats.address);
}

/* Telemetry */

static int
tl_logging(struct config_loader *l, const struct ynode *n,
    struct telemetry_logging *lg)
{
	const struct ynode	*k, *v, *expr;
	size_t			 i;
	int			 rc = 0;
	char			 err[256];

	lg->disabled = -1;
	if (config_keys(l, n, "accessLogging[]", (const char *[]){
	    "providers", "disabled", "filter", "match", NULL }) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "providers"))
			rc |= tl_provider_names(l, v,
			    "accessLogging[].providers", &lg->providers,
			    &lg->nproviders);
		else if (config_key_is(k, "disabled"))
			rc |= config_bool(l, v, "accessLogging[].disabled",
			    &lg->disabled);
		else if (config_key_is(k, "match"))
			rc |= tl_mode(l, v, "accessLogging[].match",
			    &lg->mode);
		else {
			if (config_keys(l, v, "accessLogging[].filter",
			    (const char *[]){ "expression", NULL }) == -1) {
				rc = -1;
				continue;
			}
			if ((expr = yaml_get(v, "expression")) == NULL ||
			    config_is_null(expr))
				continue;
			if (config_string(l, expr, "filter.expression",
			    &lg->filter) == -1) {
				rc = -1;
				continue;
			}
			if ((lg->filter_expr = logfilter_parse(lg->filter,
			    err, sizeof(err))) == NULL) {
				config_error(l, expr, "filter.expression: %s",
				    err);
				rc = -1;
			}
		}
	}
	return rc;
}

static int
tl_tracing(struct config_loader *l, const struct ynode *n,
    struct telemetry_tracing *tr)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	tr->disable_span_reporting = -1;
	if (config_expect_map(l, n, "tracing[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "providers"))
			rc |= tl_provider_names(l, v, "tracing[].providers",
			    &tr->providers, &tr->nproviders);
		else if (config_key_is(k, "randomSamplingPercentage")) {
			rc |= config_percent(l, v,
			    "tracing[].randomSamplingPercentage",
			    &tr->sampling_ppm);
			tr->has_sampling = 1;
		} else if (config_key_is(k, "disableSpanReporting"))
			rc |= config_bool(l, v, "tracing[].disableSpanReporting",
			    &tr->disable_span_reporting);
		else if (config_key_is(k, "match"))
			rc |= tl_mode(l, v, "tracing[].match", &tr->mode);
		else if (config_key_is(k, "customTags") ||
		    config_key_is(k, "useRequestIdForTraceSampling") ||
		    config_key_is(k, "enableIstioTags"))
			config_warn(l, k, "tracing[].%s is not acted on",
			    k->value);
		else
			config_unknown_field(l, k, "tracing[]");
	}
	return rc;
}

static int
tl_override(struct config_loader *l, const struct ynode *n,
    struct telemetry_override *o)
{
	static const char *const names[] = { "ALL_METRICS", "REQUEST_COUNT",
	    "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE",
	    "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS",
	    "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES",
	    "GRPC_RESPONSE_MESSAGES", NULL };
	static const unsigned masks[] = { METRICS_ALL, METRICS_REQUEST_COUNT,
	    METRICS_REQUEST_DURATION, METRICS_REQUEST_SIZE,
	    METRICS_RESPONSE_SIZE, 0, 0, 0, 0, 0, 0 };
	const struct ynode	*k, *v, *m;
	size_t			 i, j;
	int			 rc = 0, which;

	o->disabled = -1;
	o->metrics = METRICS_ALL;
	if (config_keys(l, n, "overrides[]", (const char *[]){ "match",
	    "disabled", "tagOverrides", NULL }) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "disabled"))
			rc |= config_bool(l, v, "overrides[].disabled",
			    &o->disabled);
		else if (config_key_is(k, "tagOverrides"))
			config_warn(l, k, "overrides[].tagOverrides is not "
			    "acted on: Istio's labels stay as they are");
		else {
			if (config_keys(l, v, "overrides[].match",
			    (const char *[]){ "metric", "customMetric",
			    "mode", NULL }) == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				m = v->values[j];
				if (config_key_is(v->keys[j], "mode")) {
					int mode;

					if (config_enum(l, m, "match.mode",
					    tl_modes, &mode) == -1)
						rc = -1;
					else
						o->mode = (enum telemetry_mode)
						    mode;
				} else if (config_key_is(v->keys[j],
				    "customMetric")) {
					config_warn(l, v->keys[j],
					    "customMetric is not acted on: "
					    "stats-d has Istio's metrics only");
					o->metrics = 0;
				} else if (config_enum(l, m, "match.metric",
				    names, &which) == -1)
					rc = -1;
				else {
					o->metrics = masks[which];
					if (o->metrics == 0)
						config_warn(l, m, "%s: "
						    "meshkit has no TCP or "
						    "gRPC message metrics",
						    names[which]);
				}
			}
		}
	}
	return rc;
}

static int
tl_metrics(struct config_loader *l, const struct ynode *n,
    struct telemetry_metrics *mt)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "metrics[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "providers"))
			rc |= tl_provider_names(l, v, "metrics[].providers",
			    &mt->providers, &mt->nproviders);
		else if (config_key_is(k, "overrides")) {
			if (config_seq(l, v, "metrics[].overrides") == -1) {
				rc = -1;
				continue;
			}
			mt->overrides = xcalloc(v->n + 1,
			    sizeof(*mt->overrides));
			for (j = 0; j < v->n; j++)
				if (tl_override(l, v->values[j],
				    &mt->overrides[mt->noverrides]) == -1)
					rc = -1;
				else
					mt->noverrides++;
		} else if (config_key_is(k, "reportingInterval"))
			config_warn(l, k, "metrics[].reportingInterval is "
			    "not acted on: stats-d's metrics are live");
		else
			config_unknown_field(l, k, "metrics[]");
	}
	return rc;
}

void
config_telemetry(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct telemetry *t)
{
	const struct ynode	*k, *v;
	size_t			 i, j;

	if (spec == NULL || config_is_null(spec))
		return;
	if (config_expect_map(l, spec, "Telemetry spec") == -1)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector"))
			/* Istio checks it as the security kinds' */
			(void)config_security_selector(l, v, &t->selector,
			    &t->has_selector);
		else if (config_key_is(k, "targetRef") ||
		    config_key_is(k, "targetRefs")) {
			/* it names a Gateway or Service: none of ours */
			config_warn(l, k, "%s is not acted on: this "
			    "Telemetry applies to no workload", k->value);
			t->applies_to_none = 1;
		} else if (config_key_is(k, "accessLogging")) {
			if (config_seq(l, v, "accessLogging") == -1)
				continue;
			t->has_logging = 1;
			t->logging = xcalloc(v->n + 1, sizeof(*t->logging));
			for (j = 0; j < v->n; j++)
				if (tl_logging(l, v->values[j],
				    &t->logging[t->nlogging++]) == -1)
					break;
		} else if (config_key_is(k, "tracing")) {
			if (config_seq(l, v, "tracing") == -1)
				continue;
			t->has_tracing = 1;
			t->tracing = xcalloc(v->n + 1, sizeof(*t->tracing));
			for (j = 0; j < v->n; j++)
				if (tl_tracing(l, v->values[j],
				    &t->tracing[t->ntracing++]) == -1)
					break;
		} else if (config_key_is(k, "metrics")) {
			if (config_seq(l, v, "metrics") == -1)
				continue;
			t->has_metrics = 1;
			t->metrics = xcalloc(v->n + 1, sizeof(*t->metrics));
			for (j = 0; j < v->n; j++)
				if (tl_metrics(l, v->values[j],
				    &t->metrics[t->nmetrics++]) == -1)
					break;
		} else
			config_unknown_field(l, k, "Telemetry spec");
	}
	(void)root;
}

void
config_telemetry_fini(struct telemetry *t)
{
	size_t	 i;

	config_meta_fini(&t->meta);
	config_labels_fini(&t->selector);
	for (i = 0; i < t->nlogging; i++) {
		config_strings_free(t->logging[i].providers,
		    t->logging[i].nproviders);
		free(t->logging[i].filter);
		logfilter_free(t->logging[i].filter_expr);
	}
	free(t->logging);
	for (i = 0; i < t->ntracing; i++)
		config_strings_free(t->tracing[i].providers,
		    t->tracing[i].nproviders);
	free(t->tracing);
	for (i = 0; i < t->nmetrics; i++) {
		config_strings_free(t->metrics[i].providers,
		    t->metrics[i].nproviders);
		free(t->metrics[i].overrides);
	}
	free(t->metrics);
	memset(t, 0, sizeof(*t));
}
