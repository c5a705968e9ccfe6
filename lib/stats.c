/* SPDX-License-Identifier: ISC */
/*
 * stats-d's work on records (stats.h).
 *
 * What applies to a reporting workload (its Telemetry, MeshConfig) is
 * resolved once per workload and config generation and cached: per
 * record there is a metrics update, a graph update, the access log lines
 * and a span, nothing more.  Access logs and collectors are keyed by
 * what they are (path and format; kind, host, port and path), so two
 * workloads naming the same file share one, and a reload keeps them.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "config.h"
#include "graph.h"
#include "logfilter.h"
#include "metrics.h"
#include "msg.h"
#include "record.h"
#include "route.h"
#include "sbuf.h"
#include "stats.h"
#include "strmap.h"
#include "telemetry.h"
#include "trace.h"
#include "util.h"

#define STATS_MAX_LABELS	32
#define STATS_PROXY_COUNTERS	RECORD_MAX_COUNTERS

struct stats_log_use {
	struct stats_sink	*sink;
	const struct logfilter	*filter;
	enum telemetry_mode	 mode;
};

/* What applies to one reporting workload, resolved. */
struct stats_effective {
	struct stats_log_use	 logs[TELEMETRY_MAX_TARGETS];
	size_t			 nlogs;
	struct stats_collector	*traces[TELEMETRY_MAX_TARGETS];
	size_t			 ntraces;
	int			 spans[2];	/* client, server */
	unsigned		 metrics_off[2];
};

/* A proxy-d instance's counters, as its last message had them. */
struct stats_proxy {
	char		*workload;
	char		*namespace;
	uint64_t	 last_ms;
	size_t		 n;
	char		*names[STATS_PROXY_COUNTERS];
	uint64_t	 values[STATS_PROXY_COUNTERS];
};

/* One sample of a family written in name order. */
struct stats_sample {
	char		*name;
	char		*labels;
	uint64_t	 value;
	int		 gauge;
	int		 ms;		/* written in seconds */
};

static void	stats_sink_free(struct stats_sink *);
static void	stats_collector_free(struct stats_collector *);
static void	stats_proxy_free(struct stats_proxy *);
static void	stats_clear_effective(struct stats *);
static void	stats_problem(struct stats *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static struct stats_sink *stats_sink_get(struct stats *,
		    const struct telemetry_log_target *);
static struct stats_collector *stats_collector_get(struct stats *,
		    const struct telemetry_trace_target *);
static struct stats_effective *stats_resolve(struct stats *,
		    const struct msg *, const struct record_batch *);
static void	stats_proxy_update(struct stats *, const struct record_batch *,
		    uint64_t);
static void	stats_proxy_retire(struct stats *, const char *,
		    struct stats_proxy *);
static void	stats_proxy_evict(struct stats *, uint64_t);
static void	stats_record(struct stats *, const struct stats_effective *,
		    const struct record *, uint64_t);
static void	stats_metric_name(char *, size_t, const char *, const char *,
		    const char *);
static int	stats_sample_cmp(const void *, const void *);
static void	stats_samples_write(struct sbuf *, struct stats_sample *,
		    size_t, const char *);
static void	stats_samples_free(struct stats_sample *, size_t);
static void	stats_counter_add(struct stats_proxy *, const char *,
		    uint64_t);

struct stats *
stats_new(void)
{
	struct stats	*st = xcalloc(1, sizeof(*st));

	metrics_init(&st->metrics, 0);
	st->graph = graph_new(0);
	st->max_spans = STATS_DEFAULT_MAX_SPANS;
	st->fallback_trace = -1;
	strmap_init(&st->effective);
	strmap_init(&st->proxies);
	strmap_init(&st->retired);
	msg_init(&st->msg);
	sbuf_init(&st->scratch, 0);
	return st;
}

static void
stats_sink_free(struct stats_sink *s)
{
	free(s->key);
	free(s->path);
	accesslog_format_free(s->format);
	sbuf_fini(&s->pending);
	free(s);
}

static void
stats_collector_free(struct stats_collector *c)
{
	size_t	 i;

	for (i = 0; i < c->nspans; i++)
		trace_span_free(c->spans[i]);
	free(c->spans);
	free(c->key);
	free(c->provider);
	free(c->host);
	free(c->path);
	for (i = 0; i < c->headers.n; i++) {
		free(c->headers.keys[i]);
		free(c->headers.values[i]);
	}
	free(c->headers.keys);
	free(c->headers.values);
	free(c);
}

static void
stats_proxy_free(struct stats_proxy *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->workload);
	free(p->namespace);
	free(p);
}

static void
stats_clear_effective(struct stats *st)
{
	const char	*key;
	void		*v;
	size_t		 pos = 0;

	while (strmap_next(&st->effective, &pos, &key, &v))
		free(v);
	strmap_fini(&st->effective);
	strmap_init(&st->effective);
}

void
stats_free(struct stats *st)
{
	const char	*key;
	void		*v;
	size_t		 i, pos;

	if (st == NULL)
		return;
	stats_clear_effective(st);
	strmap_fini(&st->effective);
	pos = 0;
	while (strmap_next(&st->proxies, &pos, &key, &v))
		stats_proxy_free(v);
	strmap_fini(&st->proxies);
	pos = 0;
	while (strmap_next(&st->retired, &pos, &key, &v))
		stats_proxy_free(v);
	strmap_fini(&st->retired);
	for (i = 0; i < st->nsinks; i++)
		stats_sink_free(st->sinks[i]);
	for (i = 0; i < st->ncollectors; i++)
		stats_collector_free(st->collectors[i]);
	metrics_fini(&st->metrics);
	graph_free(st->graph);
	msg_fini(&st->msg);
	sbuf_fini(&st->scratch);
	free(st);
}

static void
stats_problem(struct stats *st, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[sizeof(st->problem)];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, st->problem) != 0) {
		memcpy(st->problem, buf, sizeof(buf));
		st->new_problem = 1;
	}
}

void
stats_set_config(struct stats *st, const struct config *cfg,
    uint64_t generation)
{
	const struct stats_settings	*ss = cfg != NULL && cfg->mesh != NULL ?
					    &cfg->mesh->stats : NULL;

	st->config = cfg;
	st->generation = generation;
	stats_clear_effective(st);
	metrics_set_max_series(&st->metrics, ss != NULL ? ss->max_series : 0);
	graph_set_max_edges(st->graph, ss != NULL ? ss->max_edges : 0);
	st->max_spans = ss != NULL && ss->max_spans != 0 ? ss->max_spans :
	    STATS_DEFAULT_MAX_SPANS;
}

/* An access log for a target: the one already open for its key. */
static struct stats_sink *
stats_sink_get(struct stats *st, const struct telemetry_log_target *t)
{
	struct stats_sink	*s;
	char			 err[256];
	size_t			 i;

	sbuf_reset(&st->scratch);
	sbuf_printf(&st->scratch, "%s\n%d\n", t->path, t->json);
	if (t->labels != NULL)
		for (i = 0; i < t->labels->n; i++)
			sbuf_printf(&st->scratch, "%s=%s\n",
			    t->labels->keys[i], t->labels->values[i]);
	else if (t->format != NULL)
		sbuf_adds(&st->scratch, t->format);
	for (i = 0; i < st->nsinks; i++)
		if (strcmp(st->sinks[i]->key, st->scratch.buf) == 0)
			return st->sinks[i];
	if (st->nsinks == STATS_MAX_SINKS) {
		stats_problem(st, "more than %d access logs: %s not written",
		    STATS_MAX_SINKS, t->path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if (t->labels != NULL)
		s->format = accesslog_json_new(t->labels->keys,
		    t->labels->values, t->labels->n, err, sizeof(err));
	else if (t->json)
		s->format = accesslog_json_parse(t->format, err, sizeof(err));
	else
		s->format = accesslog_text_new(t->format, err, sizeof(err));
	if (s->format == NULL) {
		stats_problem(st, "access log %s: %s", t->path, err);
		free(s);
		return NULL;
	}
	s->key = xstrdup(st->scratch.buf);
	s->path = xstrdup(t->path);
	sbuf_init(&s->pending, STATS_SINK_BUFFER);
	st->sinks[st->nsinks++] = s;
	return s;
}

static struct stats_collector *
stats_collector_get(struct stats *st, const struct telemetry_trace_target *t)
{
	struct stats_collector	*c;
	char			 key[1024];
	size_t			 i;

	snprintf(key, sizeof(key), "%d %s %u %s %u", (int)t->kind, t->host,
	    t->port, t->path, t->max_tag_length);
	for (i = 0; i < st->ncollectors; i++)
		if (strcmp(st->collectors[i]->key, key) == 0)
			return st->collectors[i];
	if (st->ncollectors == STATS_MAX_COLLECTORS) {
		stats_problem(st, "more than %d collectors: %s not used",
		    STATS_MAX_COLLECTORS, t->provider);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->key = xstrdup(key);
	c->provider = xstrdup(t->provider);
	c->kind = t->kind;
	c->host = xstrdup(t->host);
	c->port = t->port;
	c->path = xstrdup(t->path);
	c->timeout_ms = t->timeout_ms;
	c->max_tag_length = t->max_tag_length;
	if (t->headers != NULL && t->headers->n > 0) {
		c->headers.keys = xcalloc(t->headers->n, sizeof(char *));
		c->headers.values = xcalloc(t->headers->n, sizeof(char *));
		for (i = 0; i < t->headers->n; i++) {
			c->headers.keys[i] = xstrdup(t->headers->keys[i]);
			c->headers.values[i] = xstrdup(t->headers->values[i]);
		}
		c->headers.n = t->headers->n;
	}
	c->spans = xcalloc(st->max_spans, sizeof(*c->spans));
	st->collectors[st->ncollectors++] = c;
	return c;
}

/* What applies to the batch's workload, from the cache or resolved. */
static struct stats_effective *
stats_resolve(struct stats *st, const struct msg *m,
    const struct record_batch *b)
{
	struct telemetry_effective	 te;
	struct stats_effective		*e;
	struct labels			 labels;
	char				*keys[STATS_MAX_LABELS];
	char				*values[STATS_MAX_LABELS];
	char				 key[2 * METRICS_MAX_VALUE + 2], *ns;
	size_t				 i, n;
	struct str			 v;
	const char			*eq;

	n = (size_t)snprintf(key, sizeof(key), "%.*s\n%.*s",
	    (int)(b->self.namespace.p != NULL ? (b->self.namespace.n <
	    METRICS_MAX_VALUE ? b->self.namespace.n : METRICS_MAX_VALUE) : 7),
	    b->self.namespace.p != NULL ? b->self.namespace.p : "default",
	    (int)(b->self.workload.p != NULL ? (b->self.workload.n <
	    METRICS_MAX_VALUE ? b->self.workload.n : METRICS_MAX_VALUE) : 0),
	    b->self.workload.p != NULL ? b->self.workload.p : "");
	if (n >= sizeof(key))
		n = sizeof(key) - 1;
	if ((e = strmap_get(&st->effective, key, n)) != NULL)
		return e;

	/* the workload's labels, for Telemetry selectors */
	memset(&labels, 0, sizeof(labels));
	labels.keys = keys;
	labels.values = values;
	for (i = m->header.first; i < m->header.first + m->header.count &&
	    labels.n < STATS_MAX_LABELS; i++) {
		if (!util_str_eq(m->fields[i].key, "label"))
			continue;
		v = m->fields[i].value;
		if ((eq = memchr(v.p, '=', v.n)) == NULL)
			continue;
		keys[labels.n] = xstrndup(v.p, (size_t)(eq - v.p));
		values[labels.n++] = xstrndup(eq + 1, v.n -
		    (size_t)(eq - v.p) - 1);
	}
	ns = xstrndup(key, strchr(key, '\n') - key);
	telemetry_resolve(st->config, ns, &labels, &te);
	free(ns);
	for (i = 0; i < labels.n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	if (te.problem[0] != '\0')
		stats_problem(st, "%s", te.problem);

	if (te.nlogs == 0 && st->fallback_log) {
		te.logs[0].provider = "envoy";
		te.logs[0].path = "-";
		te.nlogs = 1;
	}
	if (te.ntraces == 0 && st->fallback_trace != -1) {
		te.traces[0].provider = "filter";
		te.traces[0].kind = (enum provider_kind)st->fallback_trace;
		te.traces[0].host = "-";
		te.traces[0].path = "-";
		te.ntraces = 1;
	}
	e = xcalloc(1, sizeof(*e));
	for (i = 0; i < te.nlogs; i++) {
		e->logs[e->nlogs].sink = stats_sink_get(st, &te.logs[i]);
		if (e->logs[e->nlogs].sink == NULL)
			continue;
		e->logs[e->nlogs].filter = te.logs[i].filter;
		e->logs[e->nlogs++].mode = te.logs[i].mode;
	}
	for (i = 0; i < te.ntraces; i++)
		if ((e->traces[e->ntraces] = stats_collector_get(st,
		    &te.traces[i])) != NULL)
			e->ntraces++;
	e->spans[0] = te.spans[0];
	e->spans[1] = te.spans[1];
	e->metrics_off[0] = te.metrics_off[0];
	e->metrics_off[1] = te.metrics_off[1];
	if (st->effective.n < STATS_CACHE_MAX)
		strmap_put(&st->effective, key, n, e);
	else {
		/* too many workloads to keep: used once, for this batch */
		stats_clear_effective(st);
		strmap_put(&st->effective, key, n, e);
	}
	return e;
}

static void
stats_counter_add(struct stats_proxy *p, const char *name, uint64_t value)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0) {
			p->values[i] += value;
			return;
		}
	if (p->n == STATS_PROXY_COUNTERS)
		return;
	p->names[p->n] = xstrdup(name);
	p->values[p->n++] = value;
}

/* A proxy's counters, as its header gives them. */
static void
stats_proxy_update(struct stats *st, const struct record_batch *b,
    uint64_t now_ms)
{
	struct stats_proxy	*p;
	char			 key[2 * METRICS_MAX_VALUE + 32], name[80];
	size_t			 i, j, n;

	if (b->ncounters == 0 || b->self.workload.p == NULL)
		return;
	n = (size_t)snprintf(key, sizeof(key), "%.*s/%.*s/%llu",
	    (int)(b->self.namespace.p != NULL ? (b->self.namespace.n <
	    METRICS_MAX_VALUE ? b->self.namespace.n : METRICS_MAX_VALUE) : 7),
	    b->self.namespace.p != NULL ? b->self.namespace.p : "default",
	    (int)(b->self.workload.n < METRICS_MAX_VALUE ? b->self.workload.n :
	    METRICS_MAX_VALUE), b->self.workload.p,
	    (unsigned long long)b->pid);
	if (n >= sizeof(key))
		n = sizeof(key) - 1;
	if ((p = strmap_get(&st->proxies, key, n)) == NULL) {
		if (st->proxies.n >= STATS_MAX_PROXIES)
			stats_proxy_evict(st, now_ms);
		p = xcalloc(1, sizeof(*p));
		p->workload = xstrndup(b->self.workload.p,
		    b->self.workload.n < METRICS_MAX_VALUE ?
		    b->self.workload.n : METRICS_MAX_VALUE);
		p->namespace = b->self.namespace.p != NULL ?
		    xstrndup(b->self.namespace.p, b->self.namespace.n <
		    METRICS_MAX_VALUE ? b->self.namespace.n :
		    METRICS_MAX_VALUE) : xstrdup("default");
		strmap_put(&st->proxies, key, n, p);
	}
	p->last_ms = now_ms;
	for (i = 0; i < b->ncounters; i++) {
		snprintf(name, sizeof(name), "%.*s",
		    (int)b->counters[i].name.n, b->counters[i].name.p);
		for (j = 0; j < p->n; j++)
			if (strcmp(p->names[j], name) == 0)
				break;
		if (j < p->n)
			p->values[j] = b->counters[i].value;
		else if (p->n < STATS_PROXY_COUNTERS) {
			p->names[p->n] = xstrdup(name);
			p->values[p->n++] = b->counters[i].value;
		}
	}
}

/*
 * A proxy's entry goes; its counts stay in its workload's, which never
 * go back.  key is its key in st->proxies.
 */
static void
stats_proxy_retire(struct stats *st, const char *key, struct stats_proxy *p)
{
	struct stats_proxy	*r;
	char			 rkey[2 * METRICS_MAX_VALUE + 2];
	size_t			 i;

	snprintf(rkey, sizeof(rkey), "%s/%s", p->namespace, p->workload);
	if ((r = strmap_get(&st->retired, rkey, strlen(rkey))) == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->workload = xstrdup(p->workload);
		r->namespace = xstrdup(p->namespace);
		strmap_put(&st->retired, rkey, strlen(rkey), r);
	}
	for (i = 0; i < p->n; i++)
		stats_counter_add(r, p->names[i], p->values[i]);
	strmap_del(&st->proxies, key, strlen(key));
	stats_proxy_free(p);
}

/*
 * The table is full and a new proxy speaks: the one heard from longest
 * ago makes room (a live proxy is never ignored), counted, and said at
 * most once a STATS_EVICT_WARN_MS.  A scan of the table, only when it
 * is full.
 */
static void
stats_proxy_evict(struct stats *st, uint64_t now_ms)
{
	struct stats_proxy	*p, *oldest = NULL;
	const char		*key, *oldest_key = NULL;
	void			*v;
	char			 gone[2 * METRICS_MAX_VALUE + 32];
	uint64_t		 idle;
	size_t			 pos = 0;

	while (strmap_next(&st->proxies, &pos, &key, &v)) {
		p = v;
		if (oldest == NULL || p->last_ms < oldest->last_ms) {
			oldest = p;
			oldest_key = key;
		}
	}
	if (oldest == NULL)
		return;
	util_strlcpy(gone, oldest_key, sizeof(gone));
	idle = now_ms > oldest->last_ms ? now_ms - oldest->last_ms : 0;
	stats_proxy_retire(st, oldest_key, oldest);
	st->c.proxies_evicted++;
	if (st->c.proxies_evicted == 1 ||
	    now_ms >= st->evict_warned_ms + STATS_EVICT_WARN_MS) {
		st->evict_warned_ms = now_ms;
		stats_problem(st, "more than %d proxies: %s, idle %llu s, "
		    "made room (%llu so far; its counts stay in its "
		    "workload's)", STATS_MAX_PROXIES, gone,
		    (unsigned long long)(idle / 1000),
		    (unsigned long long)st->c.proxies_evicted);
	}
}

static void
stats_record(struct stats *st, const struct stats_effective *e,
    const struct record *r, uint64_t now_ms)
{
	struct stats_sink	*sink;
	struct stats_collector	*c;
	struct span		*sp;
	struct trace_span_config tc;
	int			 side = r->reporter == RECORD_SOURCE ? 0 : 1;
	size_t			 i, before;

	metrics_add(&st->metrics, r, e->metrics_off[side]);
	graph_add(st->graph, r, now_ms);
	for (i = 0; i < e->nlogs; i++) {
		if ((e->logs[i].mode == TELEMETRY_CLIENT && side != 0) ||
		    (e->logs[i].mode == TELEMETRY_SERVER && side != 1))
			continue;
		if (!logfilter_match(e->logs[i].filter, r)) {
			st->c.log_filtered++;
			continue;
		}
		sink = e->logs[i].sink;
		before = sink->pending.len;
		accesslog_write(sink->format, r, &sink->pending);
		if (sink->pending.overflow) {
			/* the writer is behind: this line is dropped whole */
			sbuf_truncate(&sink->pending, before);
			sink->dropped++;
			continue;
		}
		sink->lines++;
		st->c.log_lines++;
	}
	if (!e->spans[side] || e->ntraces == 0 || !r->sampled)
		return;
	for (i = 0; i < e->ntraces; i++) {
		c = e->traces[i];
		/* Istio's maxTagLength is Envoy's max_path_tag_length */
		tc.max_path_length = c->max_tag_length;
		tc.mesh_id = config_trust_domain(st->config);
		if ((sp = trace_span_new(r, &tc)) == NULL)
			return;
		st->c.spans++;
		if (st->queued_spans >= st->max_spans) {
			trace_span_free(sp);
			c->dropped++;
			continue;
		}
		c->spans[c->nspans++] = sp;
		c->queued++;
		st->queued_spans++;
	}
}

int
stats_handle(struct stats *st, const char *buf, size_t len, uint64_t now_ms)
{
	struct record_batch	 b;
	struct record		 r;
	struct stats_effective	*e;
	char			 err[200];
	size_t			 i;

	st->c.messages++;
	if (msg_parse_keyed(&st->msg, buf, len, record_keys(), err,
	    sizeof(err)) == -1) {
		st->c.bad_messages++;
		snprintf(st->last_error, sizeof(st->last_error), "%s", err);
		return -1;
	}
	if (!msg_type_is(&st->msg, "records")) {
		st->c.bad_messages++;
		snprintf(st->last_error, sizeof(st->last_error), "a %.*s "
		    "message where records were expected",
		    (int)(st->msg.type.n < 64 ? st->msg.type.n : 64),
		    st->msg.type.p);
		return -1;
	}
	if (record_batch_read(&st->msg, &b, err, sizeof(err)) == -1) {
		st->c.bad_messages++;
		snprintf(st->last_error, sizeof(st->last_error), "%s", err);
		return -1;
	}
	stats_proxy_update(st, &b, now_ms);
	if (st->msg.nrecords == 0)
		return 0;
	e = stats_resolve(st, &st->msg, &b);
	for (i = 0; i < st->msg.nrecords; i++) {
		if (record_read(&st->msg, &st->msg.records[i], &b, &r, err,
		    sizeof(err)) == -1) {
			st->c.bad_records++;
			snprintf(st->last_error, sizeof(st->last_error),
			    "record %zu: %s", i + 1, err);
			continue;
		}
		st->c.records++;
		stats_record(st, e, &r, now_ms);
		if (st->yield_every != 0 && (i + 1) % st->yield_every == 0)
			sched_yield();
	}
	return 0;
}

struct span **
stats_take_spans(struct stats *st, struct stats_collector *c, size_t *n)
{
	struct span	**v;

	*n = c->nspans;
	if (c->nspans == 0)
		return NULL;
	v = c->spans;
	c->spans = xcalloc(st->max_spans, sizeof(*c->spans));
	st->queued_spans -= c->nspans;
	c->nspans = 0;
	return v;
}

void
stats_expire(struct stats *st, uint64_t now_ms)
{
	struct stats_proxy	*p;
	const char		*key;
	void			*v;
	size_t			 pos = 0;

	graph_expire(st->graph, now_ms);
	while (strmap_next(&st->proxies, &pos, &key, &v)) {
		p = v;
		if (now_ms <= p->last_ms + STATS_PROXY_IDLE_MS)
			continue;
		stats_proxy_retire(st, key, p);
	}
}

/* meshkit_<program>_<field>[_total]: dashes to underscores. */
static void
stats_metric_name(char *out, size_t len, const char *prefix,
    const char *field, const char *suffix)
{
	size_t	 i;

	snprintf(out, len, "%s%s%s", prefix, field, suffix);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '-' || out[i] == '.')
			out[i] = '_';
}

static int
stats_sample_cmp(const void *a, const void *b)
{
	const struct stats_sample	*x = a, *y = b;
	int				 c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->labels, y->labels);
}

/* Samples sorted by name, one family header before each name. */
static void
stats_samples_write(struct sbuf *b, struct stats_sample *v, size_t n,
    const char *help)
{
	size_t	 i;

	qsort(v, n, sizeof(*v), stats_sample_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i].name, v[i - 1].name) != 0)
			metrics_family(b, v[i].name, v[i].gauge ? "gauge" :
			    "counter", help);
		/* the same labels twice (two pids): summed */
		while (i + 1 < n && strcmp(v[i].name, v[i + 1].name) == 0 &&
		    strcmp(v[i].labels, v[i + 1].labels) == 0) {
			v[i + 1].value += v[i].value;
			i++;
		}
		if (v[i].ms)
			metrics_sample(b, v[i].name, v[i].labels,
			    (double)v[i].value / 1000);
		else
			metrics_sample_u64(b, v[i].name, v[i].labels,
			    v[i].value);
	}
}

static void
stats_samples_free(struct stats_sample *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].labels);
	}
	free(v);
}

void
stats_write_metrics(struct stats *st, struct sbuf *b)
{
	stats_write_own(st, b);
	metrics_write(&st->metrics, b);
}

void
stats_write_own(struct stats *st, struct sbuf *b)
{
	struct stats_sample	*v;
	struct stats_proxy	*p;
	struct sbuf		 lab;
	const char		*key;
	void			*val;
	char			 name[160];
	size_t			 n = 0, cap, i, pos, pass;
	uint64_t		 sink_dropped = 0, sink_errors = 0;
	uint64_t		 exported = 0, dropped = 0, failures = 0;

	metrics_family(b, "istio_build", "gauge",
	    "The build of the proxies' telemetry: meshkit's.");
	metrics_sample(b, "istio_build", "component=\"proxy\","
	    "tag=\"meshkit\"", 1);

	for (i = 0; i < st->nsinks; i++) {
		sink_dropped += st->sinks[i]->dropped;
		sink_errors += st->sinks[i]->errors;
	}
	for (i = 0; i < st->ncollectors; i++) {
		exported += st->collectors[i]->exported;
		dropped += st->collectors[i]->dropped;
		failures += st->collectors[i]->failures;
	}
#define OWN(nm, type, help, val) do {					\
	metrics_family(b, "meshkit_stats_" nm, type, help);		\
	metrics_sample_u64(b, "meshkit_stats_" nm, NULL, (val));	\
} while (0)
	OWN("messages_total", "counter", "Messages received from proxies.",
	    st->c.messages);
	OWN("bad_messages_total", "counter", "Messages dropped as malformed.",
	    st->c.bad_messages);
	OWN("records_total", "counter", "Records counted.", st->c.records);
	OWN("bad_records_total", "counter", "Records skipped as malformed.",
	    st->c.bad_records);
	OWN("series", "gauge", "Label sets of Istio's metrics kept.",
	    (uint64_t)metrics_nseries(&st->metrics));
	OWN("series_overflow_total", "counter", "Records counted into the "
	    "overflow series, past stats.maxSeries.", st->metrics.overflowed);
	OWN("bad_security_total", "counter", "Records whose security was "
	    "not mutual_tls, none or unknown: counted as unknown.",
	    st->metrics.bad_security);
	OWN("graph_dropped_total", "counter", "Records past stats.maxEdges, "
	    "not drawn.", st->graph->dropped);
	OWN("log_lines_total", "counter", "Access log lines written.",
	    st->c.log_lines);
	OWN("log_filtered_total", "counter", "Records a Telemetry filter "
	    "kept out of the access log.", st->c.log_filtered);
	OWN("log_dropped_total", "counter", "Access log lines dropped: the "
	    "log was not written fast enough.", sink_dropped);
	OWN("log_errors_total", "counter", "Access log writes that failed.",
	    sink_errors);
	OWN("spans_total", "counter", "Spans made from sampled records.",
	    st->c.spans);
	OWN("spans_exported_total", "counter", "Spans a collector took.",
	    exported);
	OWN("spans_dropped_total", "counter", "Spans dropped: queue full or "
	    "export failed.", dropped);
	OWN("export_failures_total", "counter", "Exports to collectors that "
	    "failed.", failures);
	OWN("proxies_evicted_total", "counter", "Proxies forgotten to make "
	    "room for a new one, past 1024; their counts stay.",
	    st->c.proxies_evicted);
	OWN("scrapes_refused_total", "counter", "Scrapes of /metrics answered "
	    "500: stats-d's own metrics passed the output's bound.",
	    st->c.scrapes_refused);
	OWN("reloads_total", "counter", "Configuration reloads.",
	    st->c.reloads);
	OWN("reload_failures_total", "counter", "Reloads refused.",
	    st->c.reload_failures);
#undef OWN

	/* proxies' counters: live instances and retired ones, by workload */
	cap = 16;
	v = xcalloc(cap, sizeof(*v));
	sbuf_init(&lab, 0);
	for (pass = 0; pass < 2; pass++) {
		pos = 0;
		while (strmap_next(pass == 0 ? &st->proxies : &st->retired,
		    &pos, &key, &val)) {
			p = val;
			sbuf_reset(&lab);
			sbuf_adds(&lab, "workload=\"");
			sbuf_prom_escape(&lab, p->workload,
			    strlen(p->workload));
			sbuf_adds(&lab, "\",namespace=\"");
			sbuf_prom_escape(&lab, p->namespace,
			    strlen(p->namespace));
			sbuf_addc(&lab, '"');
			for (i = 0; i < p->n; i++) {
				if (n == cap) {
					cap *= 2;
					v = xreallocarray(v, cap, sizeof(*v));
				}
				stats_metric_name(name, sizeof(name),
				    "meshkit_proxy_", p->names[i], "_total");
				v[n].name = xstrdup(name);
				v[n].labels = xstrdup(lab.buf);
				v[n].value = p->values[i];
				v[n].ms = 0;	/* a count, whatever its name */
				v[n++].gauge = 0;
			}
		}
	}
	stats_samples_write(b, v, n, "A counter of proxy-d's, by workload.");
	stats_samples_free(v, n);
	sbuf_fini(&lab);
}

void
stats_daemon_metrics(struct sbuf *b, const char *program, const struct msg *m)
{
	static const char *const known_gauges[] = { "dns-names",
	    "dns-unresolved", "clusters", "endpoints", "ejected",
	    "uptime-ms", "root-generation", "bundle-generation", "roots",
	    "ca-not-after", NULL };
	struct stats_sample	*v;
	const struct msg_field	*f;
	struct str		 gauges = msg_get(m, &m->header, "gauges");
	char			 prefix[80], field[MSG_MAX_KEY + 1], name[200];
	uint64_t		 value;
	size_t			 i, j, n = 0, plen, flen;
	int			 gauge, ms;

	/* "route-d" -> meshkit_route_ */
	plen = strlen(program);
	if (plen > 2 && strcmp(program + plen - 2, "-d") == 0)
		plen -= 2;
	snprintf(prefix, sizeof(prefix), "meshkit_%.*s_", (int)plen, program);
	v = xcalloc(m->header.count + 1, sizeof(*v));
	for (i = m->header.first; i < m->header.first + m->header.count;
	    i++) {
		f = &m->fields[i];
		if (util_str_eq(f->key, "pid") || util_str_eq(f->key,
		    "generation") || msg_str_u64(f->value, &value) == -1)
			continue;
		snprintf(field, sizeof(field), "%.*s", (int)f->key.n,
		    f->key.p);
		gauge = 0;
		for (j = 0; known_gauges[j] != NULL; j++)
			if (strcmp(known_gauges[j], field) == 0)
				gauge = 1;
		/* milliseconds: Prometheus' base unit is the second */
		flen = strlen(field);
		ms = flen > 3 && strcmp(field + flen - 3, "-ms") == 0;
		if (gauges.p != NULL) {
			const char *p = gauges.p, *end = gauges.p + gauges.n;

			while (p < end) {
				const char *sp = memchr(p, ' ', (size_t)(end -
				    p));
				size_t wl = (size_t)((sp != NULL ? sp : end) -
				    p);

				if (wl == strlen(field) && memcmp(p, field,
				    wl) == 0)
					gauge = 1;
				p += wl + 1;
			}
		}
		if (ms)
			field[flen - 3] = '\0';
		stats_metric_name(name, sizeof(name), prefix, field,
		    ms ? (gauge ? "_seconds" : "_seconds_total") :
		    gauge ? "" : "_total");
		/* a name Prometheus would refuse is left out */
		for (j = 0; name[j] != '\0'; j++)
			if (!((name[j] >= 'a' && name[j] <= 'z') ||
			    (name[j] >= '0' && name[j] <= '9') ||
			    name[j] == '_'))
				break;
		if (name[j] != '\0')
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(v[j].name, name) == 0)
				break;
		if (j < n)
			continue;	/* the first counts */
		v[n].name = xstrdup(name);
		v[n].labels = xstrdup("");
		v[n].value = value;
		v[n].ms = ms;
		v[n++].gauge = gauge;
	}
	snprintf(name, sizeof(name), "A number from %s's status.", program);
	stats_samples_write(b, v, n, name);
	stats_samples_free(v, n);
}

void
stats_write_status(const struct stats *st, struct msg_writer *w,
    uint64_t now_ms)
{
	const struct stats_proxy	*p;
	const char			*key;
	void				*v;
	uint64_t			 dropped = 0, exported = 0;
	uint64_t			 sdropped = 0, failures = 0;
	uint64_t			 log_dropped = 0, log_errors = 0;
	size_t				 i, pos, pass, live = 0;

	for (pass = 0; pass < 2; pass++) {
		pos = 0;
		while (strmap_next(pass == 0 ? &st->proxies : &st->retired,
		    &pos, &key, &v)) {
			p = v;
			if (pass == 0 && p->last_ms + STATS_PROXY_LIVE_MS >=
			    now_ms)
				live++;
			for (i = 0; i < p->n; i++)
				if (strcmp(p->names[i], "records-dropped") ==
				    0)
					dropped += p->values[i];
		}
	}
	for (i = 0; i < st->ncollectors; i++) {
		exported += st->collectors[i]->exported;
		sdropped += st->collectors[i]->dropped;
		failures += st->collectors[i]->failures;
	}
	for (i = 0; i < st->nsinks; i++) {
		log_dropped += st->sinks[i]->dropped;
		log_errors += st->sinks[i]->errors;
	}
	msgw_field_u64(w, "messages", st->c.messages);
	msgw_field_u64(w, "bad-messages", st->c.bad_messages);
	msgw_field_u64(w, "records", st->c.records);
	msgw_field_u64(w, "bad-records", st->c.bad_records);
	msgw_field_u64(w, "series", metrics_nseries(&st->metrics));
	msgw_field_u64(w, "overflow", st->metrics.overflowed);
	msgw_field_u64(w, "log-lines", st->c.log_lines);
	msgw_field_u64(w, "log-dropped", log_dropped);
	msgw_field_u64(w, "log-errors", log_errors);
	msgw_field_u64(w, "spans", st->c.spans);
	msgw_field_u64(w, "spans-exported", exported);
	msgw_field_u64(w, "spans-dropped", sdropped);
	msgw_field_u64(w, "export-failures", failures);
	msgw_field_u64(w, "proxies", live);
	msgw_field_u64(w, "proxy-records-dropped", dropped);
	msgw_field_u64(w, "reloads", st->c.reloads);
	msgw_field_u64(w, "reload-failures", st->c.reload_failures);
	msgw_field(w, "gauges", STR_LIT("series proxies"));
}

void
stats_set_fallback(struct stats *st, int log, int trace)
{
	st->fallback_log = log;
	st->fallback_trace = trace;
	stats_clear_effective(st);
}

int
stats_handle_request(struct stats *st, uint64_t started_ms, const char *buf,
    size_t len, uint64_t now_ms, struct msg_writer *out)
{
	struct graph_snapshot	 snap;
	uint64_t		 window = GRAPH_DEFAULT_WINDOW_MS;
	struct str		 v;
	char			 err[200];

	msgw_reset(out);
	err[0] = '\0';
	if (msg_parse(&st->msg, buf, len, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "malformed message");
	} else if (!msg_type_is(&st->msg, "status") &&
	    !msg_type_is(&st->msg, "stats-graph"))
		snprintf(err, sizeof(err), "stats-d answers status and "
		    "stats-graph, not %.*s", (int)(st->msg.type.n < 64 ?
		    st->msg.type.n : 64), st->msg.type.p);
	if (err[0] != '\0') {
		msgw_begin(out, "error");
		msgw_fieldf(out, "reason", "%s", err);
		msgw_fieldf(out, "versions", "%d", MSG_VERSION);
		snprintf(st->last_error, sizeof(st->last_error), "%s", err);
		st->c.bad_messages++;
		return -1;
	}
	if (msg_type_is(&st->msg, "status")) {
		msgw_begin(out, "status-reply");
		msgw_field(out, "program", STR_LIT(STATS_PROGRAM));
		msgw_field(out, "version", STR_LIT(MESHKIT_VERSION));
		msgw_field_u64(out, "pid", (uint64_t)getpid());
		msgw_field_u64(out, "generation", st->generation);
		msgw_field_u64(out, "uptime-ms", now_ms - started_ms);
		stats_write_status(st, out, now_ms);
		return 0;
	}
	v = msg_get(&st->msg, &st->msg.header, "window-ms");
	if (v.p != NULL && (msg_str_u64(v, &window) == -1 ||
	    window < GRAPH_MIN_WINDOW_MS || window > GRAPH_MAX_WINDOW_MS)) {
		msgw_begin(out, "error");
		msgw_fieldf(out, "reason", "window-ms must be %d..%d",
		    GRAPH_MIN_WINDOW_MS, GRAPH_MAX_WINDOW_MS);
		msgw_fieldf(out, "versions", "%d", MSG_VERSION);
		st->c.bad_messages++;
		return -1;
	}
	graph_snapshot_take(st->graph, now_ms, window, 0, &snap);
	snap.generation = st->generation;
	graph_snapshot_write_msg(&snap, out);
	graph_snapshot_fini(&snap);
	if (out->overflow) {
		msgw_reset(out);
		msgw_begin(out, "error");
		msgw_field(out, "reason", STR_LIT("the graph does not fit in "
		    "one message"));
		msgw_fieldf(out, "versions", "%d", MSG_VERSION);
		return -1;
	}
	return 0;
}

/*
 * The proxies' certificates, from the status files proxy-d keeps in the
 * run directory (tls-NAME.status, as meshctl status reads them): when
 * each expires, when it is renewed, and its state ("not running" for
 * the file of a proxy that is gone).
 */
#define STATS_MAX_CERTS	256

struct stats_cert {
	char		 labels[400];
	char		 state[16];
	uint64_t	 not_after, renew_at;
};

static void
stats_cert_label(struct sbuf *b, const char *name, struct str v, int comma)
{
	if (comma)
		sbuf_addc(b, ',');
	sbuf_adds(b, name);
	sbuf_adds(b, "=\"");
	sbuf_prom_escape(b, v.p != NULL ? v.p : "", v.p != NULL ? v.n : 0);
	sbuf_addc(b, '"');
}

static int
stats_cert_read(const char *path, struct msg *m, char **buf)
{
	size_t	 n;
	char	 err[256];

	if ((*buf = util_read_file(path, 65536, &n, err, sizeof(err))) ==
	    NULL)
		return -1;
	if (n == 0 || msg_parse(m, *buf, n, err, sizeof(err)) == -1 ||
	    !msg_type_is(m, "tls-status")) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

void
stats_cert_metrics(struct sbuf *b, const char *rundir)
{
	static const char *const states[] = { "ok", "retrying", "expired",
	    "none", "not running" };
	struct stats_cert	*c;
	struct dirent		*de;
	struct sbuf		 lab;
	struct msg		 m;
	struct str		 state;
	DIR			*d;
	char			 path[4096], *buf, one[440];
	size_t			 n = 0, i, j, len;
	uint64_t		 pid;

	if ((d = opendir(rundir)) == NULL)
		return;
	c = xcalloc(STATS_MAX_CERTS, sizeof(*c));
	msg_init(&m);
	sbuf_init(&lab, 0);
	while ((de = readdir(d)) != NULL && n < STATS_MAX_CERTS) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "tls-", 4) != 0 || len < 12 ||
		    strcmp(de->d_name + len - 7, ".status") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", rundir, de->d_name);
		if (stats_cert_read(path, &m, &buf) == -1)
			continue;
		sbuf_reset(&lab);
		stats_cert_label(&lab, "proxy", msg_get(&m, &m.header,
		    "proxy"), 0);
		stats_cert_label(&lab, "workload", msg_get(&m, &m.header,
		    "workload"), 1);
		stats_cert_label(&lab, "namespace", msg_get(&m, &m.header,
		    "namespace"), 1);
		stats_cert_label(&lab, "spiffe_id", msg_get(&m, &m.header,
		    "spiffe-id"), 1);
		if (lab.len < sizeof(c[n].labels)) {
			memcpy(c[n].labels, lab.buf, lab.len);
			c[n].labels[lab.len] = '\0';
			pid = 0;
			msg_get_u64(&m, &m.header, "pid", &pid);
			msg_get_u64(&m, &m.header, "not-after",
			    &c[n].not_after);
			msg_get_u64(&m, &m.header, "renew-at",
			    &c[n].renew_at);
			state = msg_get(&m, &m.header, "state");
			if (pid == 0 || (kill((pid_t)pid, 0) == -1 &&
			    errno != EPERM))
				util_strlcpy(c[n].state, "not running",
				    sizeof(c[n].state));
			else
				snprintf(c[n].state, sizeof(c[n].state),
				    "%.*s", (int)state.n, state.p != NULL ?
				    state.p : "");
			n++;
		}
		free(buf);
	}
	closedir(d);
	msg_fini(&m);
	sbuf_fini(&lab);
	if (n > 0) {
		metrics_family(b, "meshkit_proxy_cert_expiry_timestamp_seconds",
		    "gauge", "When the certificate a proxy-d holds from tls-d "
		    "expires, in seconds since the epoch.");
		for (i = 0; i < n; i++)
			if (c[i].not_after != 0)
				metrics_sample_u64(b, "meshkit_proxy_cert_"
				    "expiry_timestamp_seconds", c[i].labels,
				    c[i].not_after);
		metrics_family(b, "meshkit_proxy_cert_renewal_timestamp_seconds",
		    "gauge", "When the proxy-d renews its certificate, in "
		    "seconds since the epoch.");
		for (i = 0; i < n; i++)
			if (c[i].renew_at != 0)
				metrics_sample_u64(b, "meshkit_proxy_cert_"
				    "renewal_timestamp_seconds", c[i].labels,
				    c[i].renew_at);
		metrics_family(b, "meshkit_proxy_cert_state", "gauge",
		    "1 for the state of each proxy-d's certificate: ok, "
		    "retrying (tls-d away or refusing), expired, none, not "
		    "running.");
		for (i = 0; i < n; i++)
			for (j = 0; j < nitems(states); j++) {
				snprintf(one, sizeof(one), "%s,state=\"%s\"",
				    c[i].labels, states[j]);
				metrics_sample_u64(b,
				    "meshkit_proxy_cert_state", one,
				    strcmp(c[i].state, states[j]) == 0);
			}
	}
	free(c);
}
