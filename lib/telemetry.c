/* SPDX-License-Identifier: ISC */
/*
 * The telemetry that applies to a workload (telemetry.h).
 *
 * Istio's order: a Telemetry in the workload's namespace whose selector
 * matches its labels, else one in its namespace without a selector, else
 * one in the root namespace without a selector; each section (access
 * logging, tracing, metrics) is taken from the most specific Telemetry
 * that has it, the rest from MeshConfig.  Several at one level: the
 * oldest wins in Istio; here, the first by namespace and name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "config.h"
#include "logfilter.h"
#include "metrics.h"
#include "telemetry.h"
#include "util.h"

static int	tel_has(const struct telemetry *, int);
static const struct extension_provider *tel_provider(const struct config *,
		    const char *);
static void	tel_log_provider(const struct config *, const char *,
		    const struct logfilter *, enum telemetry_mode,
		    struct telemetry_effective *);
static void	tel_trace_provider(const struct config *, const char *,
		    struct telemetry_effective *);
static void	tel_problem(struct telemetry_effective *, const char *,
		    const char *);
static void	tel_count_header(void *, int, const char *);
static void	tel_headers_check(struct telemetry_effective *);

/* tel_headers_check's: the names of each side so far (copies: the
   formats they come from go first), the first lost */
struct tel_header_count {
	char		**names[2];
	size_t		 n[2];
	const char	*lost[2];
};

static int
tel_has(const struct telemetry *t, int section)
{
	return section == TELEMETRY_LOGGING ? t->has_logging :
	    section == TELEMETRY_TRACING ? t->has_tracing : t->has_metrics;
}

const struct telemetry *
telemetry_find(const struct config *cfg, const char *ns,
    const struct labels *labels, int section)
{
	const struct telemetry	*t, *best = NULL;
	const char		*root = config_root_namespace(cfg);
	int			 level, best_level = 0;
	size_t			 i;

	if (cfg == NULL)
		return NULL;
	for (i = 0; i < cfg->ntelemetries; i++) {
		t = &cfg->telemetries[i];
		if (!tel_has(t, section) || t->applies_to_none)
			continue;
		level = 0;
		if (strcmp(t->meta.namespace, ns) == 0) {
			if (t->has_selector && t->selector.n > 0) {
				if (labels != NULL &&
				    labels_match(&t->selector, labels))
					level = 3;
			} else
				level = 2;
		} else if (strcmp(t->meta.namespace, root) == 0 &&
		    (!t->has_selector || t->selector.n == 0))
			level = 1;
		if (level > best_level || (level == best_level && level > 0 &&
		    strcmp(t->meta.name, best->meta.name) < 0)) {
			best = t;
			best_level = level;
		}
	}
	return best;
}

static const struct extension_provider *
tel_provider(const struct config *cfg, const char *name)
{
	size_t	 i;

	if (cfg->mesh == NULL)
		return NULL;
	for (i = 0; i < cfg->mesh->nproviders; i++)
		if (strcmp(cfg->mesh->providers[i].name, name) == 0)
			return &cfg->mesh->providers[i];
	return NULL;
}

static void
tel_problem(struct telemetry_effective *e, const char *name, const char *why)
{
	if (e->problem[0] == '\0')
		snprintf(e->problem, sizeof(e->problem), "provider %s: %s",
		    name, why);
}

/*
 * Each header the workload's access logs and their filters read, to fn
 * (side 0 request, 1 response; a name may come more than once), and the
 * optional record fields (RECORD_F_*) they read: what proxy-d must put
 * in its records, and what must fit in one.
 */
unsigned
telemetry_log_reads(const struct telemetry_effective *e,
    void (*fn)(void *, int, const char *), void *arg)
{
	struct accesslog_format	*f;
	const char *const	*v;
	unsigned		 fields = 0;
	size_t			 i, j, k;
	int			 r;
	char			 err[200];

	for (i = 0; i < e->nlogs; i++) {
		const struct telemetry_log_target *t = &e->logs[i];

		if (t->labels != NULL)
			f = accesslog_json_new(t->labels->keys,
			    t->labels->values, t->labels->n, err, sizeof(err));
		else if (t->json)
			f = accesslog_json_parse(t->format, err, sizeof(err));
		else
			f = accesslog_text_new(t->format, err, sizeof(err));
		if (f != NULL)
			fields |= accesslog_fields(f);
		if (t->filter != NULL)
			fields |= logfilter_fields(t->filter);
		for (r = 0; r < 2; r++) {
			k = f != NULL ? accesslog_headers(f, r, &v) : 0;
			for (j = 0; j < k; j++)
				fn(arg, r, v[j]);
			k = t->filter != NULL ? logfilter_headers(t->filter,
			    r, &v) : 0;
			for (j = 0; j < k; j++)
				fn(arg, r, v[j]);
		}
		accesslog_format_free(f);
	}
	return fields;
}

/*
 * A name among a side's names (a set), the one past what a record
 * carries kept as lost.
 */
static void
tel_count_header(void *arg, int response, const char *name)
{
	struct tel_header_count	*c = arg;
	size_t			 i, max = response ?
				    ACCESSLOG_MAX_RESPONSE_HEADERS :
				    ACCESSLOG_MAX_REQUEST_HEADERS;

	if (!ACCESSLOG_HEADER_TAKES(response, name))
		return;
	for (i = 0; i < c->n[response]; i++)
		if (strcmp(c->names[response][i], name) == 0)
			return;
	c->names[response] = xreallocarray(c->names[response],
	    c->n[response] + 1, sizeof(*c->names[response]));
	c->names[response][c->n[response]++] = xstrdup(name);
	if (c->n[response] == max + 1)
		c->lost[response] = c->names[response][c->n[response] - 1];
}

/*
 * The headers all the access logs and their filters read, and the
 * spans' one, must fit in a record (proxy-d captures what fits, the
 * rest prints "-"): a problem to warn of, not a silent dash.
 */
static void
tel_headers_check(struct telemetry_effective *e)
{
	struct tel_header_count	 c;
	char			 err[200];
	size_t			 i;
	int			 r;

	memset(&c, 0, sizeof(c));
	(void)telemetry_log_reads(e, tel_count_header, &c);
	if (e->nlogs > 0 && e->tracing)
		tel_count_header(&c, 0, "user-agent");
	if (accesslog_headers_check(c.n[0], c.n[1], c.lost, err,
	    sizeof(err)) == -1 && e->problem[0] == '\0')
		snprintf(e->problem, sizeof(e->problem), "access logs: %s",
		    err);
	for (r = 0; r < 2; r++) {
		for (i = 0; i < c.n[r]; i++)
			free(c.names[r][i]);
		free(c.names[r]);
	}
}

static void
tel_log_provider(const struct config *cfg, const char *name,
    const struct logfilter *filter, enum telemetry_mode mode,
    struct telemetry_effective *e)
{
	const struct extension_provider	*p;
	struct telemetry_log_target	*t;
	const struct mesh_config	*mc = cfg->mesh;

	if (e->nlogs == TELEMETRY_MAX_TARGETS) {
		tel_problem(e, name, "too many access logs");
		return;
	}
	t = &e->logs[e->nlogs];
	memset(t, 0, sizeof(*t));
	t->provider = name;
	t->filter = filter;
	t->mode = mode;
	if (strcmp(name, "envoy") == 0) {
		/* Istio's built-in: MeshConfig's file, format, encoding */
		t->path = mc != NULL && mc->access_log_file != NULL ?
		    mc->access_log_file : "/dev/stdout";
		t->json = mc != NULL &&
		    mc->access_log_encoding == ACCESS_LOG_JSON;
		t->format = mc != NULL ? mc->access_log_format : NULL;
		e->nlogs++;
		return;
	}
	if ((p = tel_provider(cfg, name)) == NULL) {
		tel_problem(e, name, "not in MeshConfig's extensionProviders");
		return;
	}
	if (p->kind != PROVIDER_FILE_ACCESS_LOG) {
		tel_problem(e, name, "not an envoyFileAccessLog provider");
		return;
	}
	/* Istio's fileAccessLogFromTelemetry: no path is /dev/stdout */
	t->path = p->path != NULL ? p->path : "/dev/stdout";
	if (p->log_labels.n > 0) {
		t->json = 1;
		t->labels = &p->log_labels;
	} else
		t->format = p->log_text;
	e->nlogs++;
}

static void
tel_trace_provider(const struct config *cfg, const char *name,
    struct telemetry_effective *e)
{
	const struct extension_provider	*p;
	struct telemetry_trace_target	*t;

	if ((p = tel_provider(cfg, name)) == NULL) {
		tel_problem(e, name, "not in MeshConfig's extensionProviders");
		return;
	}
	if (p->kind != PROVIDER_ZIPKIN && p->kind != PROVIDER_OPENTELEMETRY) {
		tel_problem(e, name, "not a zipkin or opentelemetry provider");
		return;
	}
	if (e->ntraces == TELEMETRY_MAX_TARGETS) {
		tel_problem(e, name, "too many collectors");
		return;
	}
	t = &e->traces[e->ntraces++];
	memset(t, 0, sizeof(*t));
	t->provider = p->name;
	t->kind = p->kind;
	t->host = p->service;
	t->port = p->port;
	t->path = p->path != NULL ? p->path : p->kind == PROVIDER_ZIPKIN ?
	    "/api/v2/spans" : "/v1/traces";
	t->timeout_ms = p->timeout_ms;
	t->headers = &p->headers;
	t->max_tag_length = p->max_tag_length;
}

void
telemetry_resolve(const struct config *cfg, const char *ns,
    const struct labels *labels, struct telemetry_effective *e)
{
	const struct mesh_config	*mc = cfg != NULL ? cfg->mesh : NULL;
	const struct telemetry		*t;
	size_t				 i, j, m;

	memset(e, 0, sizeof(*e));
	e->sampling_ppm = MESH_DEFAULT_SAMPLING_PPM;
	e->tracing = 1;
	if (cfg == NULL)
		return;

	/* access logs */
	if ((t = telemetry_find(cfg, ns, labels, TELEMETRY_LOGGING)) != NULL) {
		for (i = 0; i < t->nlogging; i++) {
			const struct telemetry_logging *lg = &t->logging[i];

			if (lg->disabled == 1)
				continue;
			if (lg->nproviders > 0)
				for (j = 0; j < lg->nproviders; j++)
					tel_log_provider(cfg, lg->providers[j],
					    lg->filter_expr, lg->mode, e);
			else if (mc != NULL && mc->ndefault_access_logging > 0)
				for (j = 0; j < mc->ndefault_access_logging;
				    j++)
					tel_log_provider(cfg,
					    mc->default_access_logging[j],
					    lg->filter_expr, lg->mode, e);
			else
				tel_log_provider(cfg, "envoy",
				    lg->filter_expr, lg->mode, e);
		}
	} else if (mc != NULL && mc->ndefault_access_logging > 0) {
		for (j = 0; j < mc->ndefault_access_logging; j++)
			tel_log_provider(cfg, mc->default_access_logging[j],
			    NULL, TELEMETRY_CLIENT_AND_SERVER, e);
	} else if (mc != NULL && mc->access_log_file != NULL)
		tel_log_provider(cfg, "envoy", NULL,
		    TELEMETRY_CLIENT_AND_SERVER, e);

	/* tracing */
	if (mc != NULL)
		e->sampling_ppm = mc->sampling_ppm;	/* its default 1% */
	e->spans[0] = e->spans[1] = 1;
	if ((t = telemetry_find(cfg, ns, labels, TELEMETRY_TRACING)) != NULL) {
		for (i = 0; i < t->ntracing; i++) {
			const struct telemetry_tracing *tr = &t->tracing[i];

			if (tr->has_sampling)
				e->sampling_ppm = tr->sampling_ppm;
			if (tr->disable_span_reporting == 1) {
				if (tr->mode != TELEMETRY_SERVER)
					e->spans[0] = 0;
				if (tr->mode != TELEMETRY_CLIENT)
					e->spans[1] = 0;
			}
			for (j = 0; j < tr->nproviders; j++)
				tel_trace_provider(cfg, tr->providers[j], e);
		}
		if (e->ntraces == 0 && mc != NULL)
			for (j = 0; j < mc->ndefault_tracing; j++)
				tel_trace_provider(cfg, mc->default_tracing[j],
				    e);
	} else if (mc != NULL) {
		e->tracing = mc->enable_tracing;
		for (j = 0; j < mc->ndefault_tracing; j++)
			tel_trace_provider(cfg, mc->default_tracing[j], e);
	}
	if (e->ntraces == 0 && mc != NULL && mc->zipkin_address != NULL &&
	    e->tracing) {
		/* the legacy defaultConfig.tracing.zipkin.address */
		struct telemetry_trace_target *tt = &e->traces[e->ntraces++];

		memset(tt, 0, sizeof(*tt));
		tt->provider = "zipkin";
		tt->kind = PROVIDER_ZIPKIN;
		tt->host = mc->zipkin_host;
		tt->port = mc->zipkin_port;
		tt->path = "/api/v2/spans";
	}

	tel_headers_check(e);

	/* metrics: Telemetry's overrides */
	if ((t = telemetry_find(cfg, ns, labels, TELEMETRY_METRICS)) != NULL) {
		for (i = 0; i < t->nmetrics; i++) {
			const struct telemetry_metrics *mt = &t->metrics[i];
			int prom = mt->nproviders == 0;

			for (j = 0; j < mt->nproviders; j++)
				if (strcmp(mt->providers[j], "prometheus") == 0)
					prom = 1;
				else if (tel_provider(cfg, mt->providers[j]) ==
				    NULL || tel_provider(cfg,
				    mt->providers[j])->kind !=
				    PROVIDER_PROMETHEUS)
					tel_problem(e, mt->providers[j],
					    "not a prometheus provider");
				else
					prom = 1;
			if (!prom) {
				e->metrics_off[0] = e->metrics_off[1] =
				    METRICS_ALL;
				continue;
			}
			for (m = 0; m < mt->noverrides; m++) {
				const struct telemetry_override *o =
				    &mt->overrides[m];

				if (o->disabled == -1)
					continue;
				for (j = 0; j < 2; j++) {
					if ((j == 0 && o->mode ==
					    TELEMETRY_SERVER) || (j == 1 &&
					    o->mode == TELEMETRY_CLIENT))
						continue;
					if (o->disabled)
						e->metrics_off[j] |= o->metrics;
					else
						e->metrics_off[j] &= ~o->metrics;
				}
			}
		}
	}
}
