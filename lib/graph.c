/* SPDX-License-Identifier: ISC */
/*
 * The live service graph (graph.h).
 *
 * Each edge keeps GRAPH_SLOTS one-second slots (a ring indexed by the
 * second), so any window up to a minute is a sum over slots and no
 * record is kept.  A request is drawn once: from its source's record
 * when the caller is in the mesh, from its destination's when the caller
 * is not (Kiali's "unknown" node).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "metrics.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "strmap.h"
#include "util.h"

struct graph_sum {
	uint64_t	 requests, errors, mtls;
	uint64_t	 buckets[METRICS_NBUCKETS + 1];
};

static char	*graph_strdup(struct str, const char *);
static void	graph_id_add(char *, size_t, size_t *, const char *, size_t);
static size_t	graph_workload_id(char *, size_t, const struct record_peer *);
static struct graph_node *graph_node_get(struct graph *, const char *, size_t,
		    const char *, struct str, struct str, struct str,
		    struct str);
static void	graph_node_free(struct graph_node *);
static void	graph_edge_add(struct graph *, struct graph_node *,
		    struct graph_node *, const struct record *, uint64_t);
static void	graph_sum_slot(struct graph_sum *, const struct graph_slot *);
static void	graph_stats(const struct graph_sum *, double,
		    struct graph_stats *);
static int	graph_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	graph_json_number(struct sbuf *, double);
static void	graph_json_stats(struct sbuf *, const struct graph_stats *);
static void	graph_json_str(struct sbuf *, const char *);
static void	graph_dot_id(struct sbuf *, const char *);
static void	graph_msg_stats(struct msg_writer *,
		    const struct graph_stats *);
static int	graph_read_stats(const struct msg *, const struct msg_block *,
		    struct graph_stats *);
static char	*graph_dup_field(const struct msg *, const struct msg_block *,
		    const char *);
static double	graph_ms_value(const struct msg *, const struct msg_block *,
		    const char *);

static int
graph_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

struct graph *
graph_new(size_t max_edges)
{
	struct graph	*g = xcalloc(1, sizeof(*g));

	strmap_init(&g->nodes);
	strmap_init(&g->edges);
	g->max_edges = max_edges != 0 ? max_edges : GRAPH_DEFAULT_MAX_EDGES;
	return g;
}

static void
graph_node_free(struct graph_node *n)
{
	free(n->id);
	free(n->kind);
	free(n->name);
	free(n->namespace);
	free(n->app);
	free(n->version);
	free(n);
}

void
graph_free(struct graph *g)
{
	const char	*key;
	void		*v;
	size_t		 pos = 0;

	if (g == NULL)
		return;
	while (strmap_next(&g->edges, &pos, &key, &v))
		free(v);
	pos = 0;
	while (strmap_next(&g->nodes, &pos, &key, &v))
		graph_node_free(v);
	strmap_fini(&g->edges);
	strmap_fini(&g->nodes);
	free(g);
}

void
graph_set_max_edges(struct graph *g, size_t max)
{
	g->max_edges = max != 0 ? max : GRAPH_DEFAULT_MAX_EDGES;
}

/* A label value: at most METRICS_MAX_VALUE bytes, else dflt. */
static char *
graph_strdup(struct str s, const char *dflt)
{
	if (s.p == NULL || s.n == 0)
		return dflt != NULL ? xstrdup(dflt) : NULL;
	return xstrndup(s.p, s.n < METRICS_MAX_VALUE ? s.n :
	    METRICS_MAX_VALUE);
}

static struct graph_node *
graph_node_get(struct graph *g, const char *id, size_t idlen, const char *kind,
    struct str name, struct str ns, struct str app, struct str version)
{
	struct graph_node	*n;

	if ((n = strmap_get(&g->nodes, id, idlen)) != NULL) {
		/* a workload's labels may arrive later than its name */
		if (n->app == NULL && app.p != NULL)
			n->app = graph_strdup(app, NULL);
		if (n->version == NULL && version.p != NULL)
			n->version = graph_strdup(version, NULL);
		return n;
	}
	n = xcalloc(1, sizeof(*n));
	n->id = xstrdup(id);
	n->idlen = idlen;
	n->kind = xstrdup(kind);
	n->name = graph_strdup(name, "unknown");
	n->namespace = graph_strdup(ns, NULL);
	n->app = graph_strdup(app, NULL);
	n->version = graph_strdup(version, NULL);
	strmap_put(&g->nodes, id, idlen, n);
	return n;
}

/*
 * Appends p[0..n) to the string in buf (cap bytes, *len used) up to a
 * NUL and cut to fit, as snprintf's "%.*s" would, without its cost.
 */
static void
graph_id_add(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
	n = strnlen(p, n);
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, p, n);
	*len += n;
	buf[*len] = '\0';
}

/* A workload node's id, "namespace/workload"; its length. */
static size_t
graph_workload_id(char *buf, size_t cap, const struct record_peer *w)
{
	size_t	 len = 0;

	buf[0] = '\0';
	graph_id_add(buf, cap, &len, w->namespace.p != NULL ?
	    w->namespace.p : "unknown", w->namespace.p != NULL ?
	    w->namespace.n : 7);
	graph_id_add(buf, cap, &len, "/", 1);
	graph_id_add(buf, cap, &len, w->workload.p, w->workload.n <
	    METRICS_MAX_VALUE ? w->workload.n : METRICS_MAX_VALUE);
	return len;
}

static void
graph_edge_add(struct graph *g, struct graph_node *from,
    struct graph_node *to, const struct record *r, uint64_t now_ms)
{
	struct graph_edge	*e;
	struct graph_slot	*slot;
	char			 key[2 * (METRICS_MAX_VALUE * 2 + 8) + 2];
	uint64_t		 second = now_ms / 1000;
	size_t			 n;

	if (from->idlen + 1 + to->idlen >= sizeof(key))
		return;
	memcpy(key, from->id, from->idlen);
	key[from->idlen] = '\n';
	memcpy(key + from->idlen + 1, to->id, to->idlen);
	n = from->idlen + 1 + to->idlen;
	key[n] = '\0';
	if ((e = strmap_get(&g->edges, key, n)) == NULL) {
		if (g->edges.n >= g->max_edges) {
			g->dropped++;
			return;
		}
		e = xcalloc(1, sizeof(*e));
		e->from = from;
		e->to = to;
		strmap_put(&g->edges, key, n, e);
	}
	slot = &e->slots[second % GRAPH_SLOTS];
	if (slot->second != second) {
		memset(slot, 0, sizeof(*slot));
		slot->second = second;
	}
	slot->requests++;
	if (record_is_error(r))
		slot->errors++;
	if (r->security.p != NULL && util_str_eq(r->security, "mutual_tls"))
		slot->mtls++;
	slot->buckets[metrics_bucket((double)r->duration_us / 1000.0)]++;
	e->total++;
	e->last_ms = now_ms;
}

void
graph_add(struct graph *g, const struct record *r, uint64_t now_ms)
{
	struct graph_node	*src, *svc, *dst;
	char			 id[2 * METRICS_MAX_VALUE + 8];
	struct str		 none = { NULL, 0 };
	const struct record_peer *s = &r->source, *d = &r->destination;
	size_t			 len;

	/* one of the two records of an in-mesh call draws it */
	if (r->reporter == RECORD_DESTINATION && s->workload.p != NULL)
		return;
	if (r->service.p == NULL)
		return;
	/* ids: namespace/workload, the host; the sizes "%.*s" would cut */
	if (s->workload.p != NULL) {
		len = graph_workload_id(id, sizeof(id), s);
		src = graph_node_get(g, id, len, "workload", s->workload,
		    s->namespace, s->app, s->version);
	} else
		src = graph_node_get(g, "unknown", 7, "unknown",
		    STR_LIT("unknown"), none, none, none);
	len = 0;
	id[0] = '\0';
	graph_id_add(id, sizeof(id), &len, r->service.p, r->service.n <
	    METRICS_MAX_VALUE ? r->service.n : METRICS_MAX_VALUE);
	{
		struct str	 name, ns;

		record_service_parts(r, &name, &ns);
		svc = graph_node_get(g, id, len, "service", name, ns, none,
		    none);
	}
	graph_edge_add(g, src, svc, r, now_ms);
	if (d->workload.p == NULL)
		return;
	len = graph_workload_id(id, sizeof(id), d);
	dst = graph_node_get(g, id, len, "workload", d->workload,
	    d->namespace, d->app, d->version);
	graph_edge_add(g, svc, dst, r, now_ms);
}

void
graph_expire(struct graph *g, uint64_t now_ms)
{
	struct graph_edge	*e;
	struct graph_node	*n;
	const char		*key, *k2;
	void			*v;
	size_t			 pos = 0, p2;
	int			 used;

	while (strmap_next(&g->edges, &pos, &key, &v)) {
		e = v;
		if (now_ms > e->last_ms + GRAPH_IDLE_MS) {
			strmap_del(&g->edges, key, strlen(key));
			free(e);
		}
	}
	pos = 0;
	while (strmap_next(&g->nodes, &pos, &key, &v)) {
		n = v;
		used = 0;
		p2 = 0;
		while (!used && strmap_next(&g->edges, &p2, &k2, &v))
			used = ((struct graph_edge *)v)->from == n ||
			    ((struct graph_edge *)v)->to == n;
		if (!used) {
			strmap_del(&g->nodes, key, strlen(key));
			graph_node_free(n);
		}
	}
}

static void
graph_sum_slot(struct graph_sum *sum, const struct graph_slot *s)
{
	size_t	 i;

	sum->requests += s->requests;
	sum->errors += s->errors;
	sum->mtls += s->mtls;
	for (i = 0; i <= METRICS_NBUCKETS; i++)
		sum->buckets[i] += s->buckets[i];
}

static void
graph_stats(const struct graph_sum *sum, double seconds,
    struct graph_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->requests = sum->requests;
	st->errors = sum->errors;
	st->mtls = sum->mtls;
	st->rate = seconds > 0 ? (double)sum->requests / seconds : 0;
	if (sum->requests == 0) {
		st->error_rate = st->p50 = st->p90 = st->p99 = NAN;
		return;
	}
	st->error_rate = (double)sum->errors / (double)sum->requests;
	st->p50 = metrics_quantile(sum->buckets, 0.5);
	st->p90 = metrics_quantile(sum->buckets, 0.9);
	st->p99 = metrics_quantile(sum->buckets, 0.99);
}

void
graph_snapshot_take(const struct graph *g, uint64_t now_ms,
    uint64_t window_ms, size_t history, struct graph_snapshot *snap)
{
	const struct graph_edge	*e;
	const struct graph_node	*n;
	struct graph_snapshot_edge *se;
	struct graph_snapshot_service *sv;
	struct graph_sum	 sum, *svsum;
	const char		*key;
	void			*v;
	uint64_t		 now_s = now_ms / 1000, first, sec;
	double			 seconds;
	size_t			 pos, i, j, k, nwindow;

	memset(snap, 0, sizeof(*snap));
	if (window_ms < GRAPH_MIN_WINDOW_MS)
		window_ms = GRAPH_MIN_WINDOW_MS;
	if (window_ms > GRAPH_MAX_WINDOW_MS)
		window_ms = GRAPH_MAX_WINDOW_MS;
	if (history > GRAPH_SLOTS)
		history = GRAPH_SLOTS;
	snap->window_ms = window_ms;
	nwindow = (size_t)(window_ms / 1000);
	/* whole seconds before this one, and this one's part */
	first = now_s >= nwindow - 1 ? now_s - (nwindow - 1) : 0;
	seconds = (double)(nwindow - 1) + (double)(now_ms % 1000) / 1000.0;
	if (seconds < 0.001)
		seconds = 0.001;

	snap->nodes = xcalloc(g->nodes.n + 1, sizeof(*snap->nodes));
	pos = 0;
	while (strmap_next(&g->nodes, &pos, &key, &v)) {
		n = v;
		snap->nodes[snap->nnodes].id = xstrdup(n->id);
		snap->nodes[snap->nnodes].kind = xstrdup(n->kind);
		snap->nodes[snap->nnodes].name = xstrdup(n->name);
		snap->nodes[snap->nnodes].namespace = n->namespace != NULL ?
		    xstrdup(n->namespace) : NULL;
		snap->nodes[snap->nnodes].app = n->app != NULL ?
		    xstrdup(n->app) : NULL;
		snap->nodes[snap->nnodes].version = n->version != NULL ?
		    xstrdup(n->version) : NULL;
		snap->nnodes++;
	}
	snap->edges = xcalloc(g->edges.n + 1, sizeof(*snap->edges));
	snap->services = xcalloc(g->nodes.n + 1, sizeof(*snap->services));
	svsum = xcalloc(g->nodes.n + 1, sizeof(*svsum));
	pos = 0;
	while (strmap_next(&g->edges, &pos, &key, &v)) {
		e = v;
		memset(&sum, 0, sizeof(sum));
		for (i = 0; i < GRAPH_SLOTS; i++)
			if (e->slots[i].second >= first &&
			    e->slots[i].second <= now_s)
				graph_sum_slot(&sum, &e->slots[i]);
		se = &snap->edges[snap->nedges++];
		se->from = xstrdup(e->from->id);
		se->to = xstrdup(e->to->id);
		se->total = e->total;
		graph_stats(&sum, seconds, &se->stats);
		se->mtls = sum.requests > 0 && sum.mtls == sum.requests;
		if (strcmp(e->to->kind, "service") != 0)
			continue;
		/* a service's numbers: the edges into it */
		for (j = 0; j < snap->nservices; j++)
			if (strcmp(snap->services[j].name, e->to->id) == 0)
				break;
		sv = &snap->services[j];
		if (j == snap->nservices) {
			snap->nservices++;
			sv->name = xstrdup(e->to->id);
			if (history > 0) {
				sv->nhistory = history;
				sv->rate = xcalloc(history, sizeof(double));
				sv->error_rate = xcalloc(history,
				    sizeof(double));
				sv->p50 = xcalloc(history, sizeof(double));
				sv->p90 = xcalloc(history, sizeof(double));
				sv->p99 = xcalloc(history, sizeof(double));
			}
		}
		svsum[j].requests += sum.requests;
		svsum[j].errors += sum.errors;
		svsum[j].mtls += sum.mtls;
		for (i = 0; i <= METRICS_NBUCKETS; i++)
			svsum[j].buckets[i] += sum.buckets[i];
	}
	for (j = 0; j < snap->nservices; j++) {
		sv = &snap->services[j];
		graph_stats(&svsum[j], seconds, &sv->stats);
		/* per second, oldest first: the seconds before this one */
		for (k = 0; k < sv->nhistory; k++) {
			struct graph_stats	 st;

			sec = now_s - (sv->nhistory - k);
			memset(&sum, 0, sizeof(sum));
			pos = 0;
			while (strmap_next(&g->edges, &pos, &key, &v)) {
				e = v;
				if (strcmp(e->to->id, sv->name) != 0)
					continue;
				if (e->slots[sec % GRAPH_SLOTS].second == sec)
					graph_sum_slot(&sum,
					    &e->slots[sec % GRAPH_SLOTS]);
			}
			graph_stats(&sum, 1, &st);
			sv->rate[k] = st.rate;
			sv->error_rate[k] = st.error_rate;
			sv->p50[k] = st.p50;
			sv->p90[k] = st.p90;
			sv->p99[k] = st.p99;
		}
	}
	free(svsum);
}

void
graph_snapshot_fini(struct graph_snapshot *snap)
{
	size_t	 i;

	for (i = 0; i < snap->nnodes; i++) {
		free(snap->nodes[i].id);
		free(snap->nodes[i].kind);
		free(snap->nodes[i].name);
		free(snap->nodes[i].namespace);
		free(snap->nodes[i].app);
		free(snap->nodes[i].version);
	}
	for (i = 0; i < snap->nedges; i++) {
		free(snap->edges[i].from);
		free(snap->edges[i].to);
	}
	for (i = 0; i < snap->nservices; i++) {
		free(snap->services[i].name);
		free(snap->services[i].rate);
		free(snap->services[i].error_rate);
		free(snap->services[i].p50);
		free(snap->services[i].p90);
		free(snap->services[i].p99);
	}
	free(snap->nodes);
	free(snap->edges);
	free(snap->services);
	memset(snap, 0, sizeof(*snap));
}

static void
graph_msg_stats(struct msg_writer *w, const struct graph_stats *st)
{
	msgw_field_u64(w, "requests", st->requests);
	msgw_fieldf(w, "rate", "%.3f", st->rate);
	msgw_field_u64(w, "errors", st->errors);
	if (st->requests > 0) {
		msgw_fieldf(w, "error-rate", "%.4f", st->error_rate);
		msgw_fieldf(w, "p50-ms", "%.3f", st->p50);
		msgw_fieldf(w, "p90-ms", "%.3f", st->p90);
		msgw_fieldf(w, "p99-ms", "%.3f", st->p99);
	}
}

void
graph_snapshot_write_msg(const struct graph_snapshot *snap,
    struct msg_writer *w)
{
	const struct graph_snapshot_node *n;
	const struct graph_snapshot_edge *e;
	size_t				 i;

	msgw_begin(w, "stats-graph-reply");
	msgw_field_u64(w, "window-ms", snap->window_ms);
	msgw_field_u64(w, "generation", snap->generation);
	for (i = 0; i < snap->nnodes; i++) {
		n = &snap->nodes[i];
		msgw_record(w);
		msgw_field(w, "node", (struct str){ n->id, strlen(n->id) });
		msgw_field(w, "kind", (struct str){ n->kind,
		    strlen(n->kind) });
		msgw_field(w, "name", (struct str){ n->name,
		    strlen(n->name) });
		if (n->namespace != NULL)
			msgw_field(w, "namespace", (struct str){ n->namespace,
			    strlen(n->namespace) });
		if (n->app != NULL)
			msgw_field(w, "app", (struct str){ n->app,
			    strlen(n->app) });
		if (n->version != NULL)
			msgw_field(w, "version", (struct str){ n->version,
			    strlen(n->version) });
	}
	for (i = 0; i < snap->nedges; i++) {
		e = &snap->edges[i];
		msgw_record(w);
		msgw_fieldf(w, "edge", "%s %s", e->from, e->to);
		graph_msg_stats(w, &e->stats);
		msgw_field(w, "mtls", e->mtls ? STR_LIT("yes") :
		    STR_LIT("no"));
		msgw_field_u64(w, "total", e->total);
	}
	for (i = 0; i < snap->nservices; i++) {
		msgw_record(w);
		msgw_field(w, "service", (struct str){ snap->services[i].name,
		    strlen(snap->services[i].name) });
		graph_msg_stats(w, &snap->services[i].stats);
	}
}

static char *
graph_dup_field(const struct msg *m, const struct msg_block *b,
    const char *key)
{
	struct str	 v = msg_get(m, b, key);

	return v.p != NULL ? xstrndup(v.p, v.n) : NULL;
}

static double
graph_ms_value(const struct msg *m, const struct msg_block *b,
    const char *key)
{
	struct str	 v = msg_get(m, b, key);
	char		 tmp[32], *end;
	double		 d;

	if (v.p == NULL || v.n == 0 || v.n >= sizeof(tmp))
		return NAN;
	memcpy(tmp, v.p, v.n);
	tmp[v.n] = '\0';
	d = strtod(tmp, &end);
	return *end == '\0' ? d : NAN;
}

static int
graph_read_stats(const struct msg *m, const struct msg_block *b,
    struct graph_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (msg_get_u64(m, b, "requests", &st->requests) == -1 ||
	    msg_get_u64(m, b, "errors", &st->errors) == -1)
		return -1;
	st->rate = graph_ms_value(m, b, "rate");
	if (isnan(st->rate))
		return -1;
	st->error_rate = graph_ms_value(m, b, "error-rate");
	st->p50 = graph_ms_value(m, b, "p50-ms");
	st->p90 = graph_ms_value(m, b, "p90-ms");
	st->p99 = graph_ms_value(m, b, "p99-ms");
	return 0;
}

int
graph_snapshot_read_msg(const struct msg *m, struct graph_snapshot *snap,
    char *err, size_t errlen)
{
	const struct msg_block	*b;
	struct str		 v;
	const char		*sp;
	size_t			 i;

	memset(snap, 0, sizeof(*snap));
	if (!msg_type_is(m, "stats-graph-reply"))
		return graph_fail(err, errlen, "not a stats-graph-reply");
	msg_get_u64(m, &m->header, "window-ms", &snap->window_ms);
	msg_get_u64(m, &m->header, "generation", &snap->generation);
	snap->nodes = xcalloc(m->nrecords + 1, sizeof(*snap->nodes));
	snap->edges = xcalloc(m->nrecords + 1, sizeof(*snap->edges));
	snap->services = xcalloc(m->nrecords + 1, sizeof(*snap->services));
	for (i = 0; i < m->nrecords; i++) {
		b = &m->records[i];
		if ((v = msg_get(m, b, "node")).p != NULL) {
			struct graph_snapshot_node *n =
			    &snap->nodes[snap->nnodes++];

			n->id = xstrndup(v.p, v.n);
			n->kind = graph_dup_field(m, b, "kind");
			n->name = graph_dup_field(m, b, "name");
			n->namespace = graph_dup_field(m, b, "namespace");
			n->app = graph_dup_field(m, b, "app");
			n->version = graph_dup_field(m, b, "version");
			if (n->kind == NULL)
				n->kind = xstrdup("unknown");
			if (n->name == NULL)
				n->name = xstrdup(n->id);
		} else if ((v = msg_get(m, b, "edge")).p != NULL) {
			struct graph_snapshot_edge *e =
			    &snap->edges[snap->nedges];

			if ((sp = memchr(v.p, ' ', v.n)) == NULL ||
			    sp == v.p || sp == v.p + v.n - 1 ||
			    graph_read_stats(m, b, &e->stats) == -1) {
				graph_snapshot_fini(snap);
				return graph_fail(err, errlen, "bad edge "
				    "record %zu", i + 1);
			}
			e->from = xstrndup(v.p, (size_t)(sp - v.p));
			e->to = xstrndup(sp + 1, v.n - (size_t)(sp - v.p) - 1);
			e->mtls = util_str_eq(msg_get(m, b, "mtls"), "yes");
			msg_get_u64(m, b, "total", &e->total);
			snap->nedges++;
		} else if ((v = msg_get(m, b, "service")).p != NULL) {
			struct graph_snapshot_service *s =
			    &snap->services[snap->nservices];

			if (graph_read_stats(m, b, &s->stats) == -1) {
				graph_snapshot_fini(snap);
				return graph_fail(err, errlen, "bad service "
				    "record %zu", i + 1);
			}
			s->name = xstrndup(v.p, v.n);
			snap->nservices++;
		}
	}
	return 0;
}

static void
graph_json_number(struct sbuf *b, double d)
{
	if (isnan(d) || isinf(d))
		sbuf_adds(b, "null");
	else
		sbuf_printf(b, "%.3f", d);
}

/* "rate":R,"errorRate":E,"p50":A,"p90":B,"p99":C */
static void
graph_json_stats(struct sbuf *b, const struct graph_stats *st)
{
	sbuf_adds(b, "\"rate\":");
	graph_json_number(b, st->rate);
	sbuf_adds(b, ",\"errorRate\":");
	graph_json_number(b, st->error_rate);
	sbuf_adds(b, ",\"p50\":");
	graph_json_number(b, st->p50);
	sbuf_adds(b, ",\"p90\":");
	graph_json_number(b, st->p90);
	sbuf_adds(b, ",\"p99\":");
	graph_json_number(b, st->p99);
}

static void
graph_json_str(struct sbuf *b, const char *s)
{
	if (s == NULL)
		sbuf_adds(b, "null");
	else
		sbuf_json_string(b, s, strlen(s));
}

void
graph_snapshot_write_json(const struct graph_snapshot *snap, struct sbuf *b)
{
	const struct graph_snapshot_node	*n;
	const struct graph_snapshot_edge	*e;
	const struct graph_snapshot_service	*s;
	size_t					 i, k;

	sbuf_printf(b, "{\"windowMs\":%llu,\"nodes\":[",
	    (unsigned long long)snap->window_ms);
	for (i = 0; i < snap->nnodes; i++) {
		n = &snap->nodes[i];
		sbuf_adds(b, i > 0 ? ",{\"id\":" : "{\"id\":");
		graph_json_str(b, n->id);
		sbuf_adds(b, ",\"kind\":");
		graph_json_str(b, n->kind);
		sbuf_adds(b, ",\"name\":");
		graph_json_str(b, n->name);
		sbuf_adds(b, ",\"namespace\":");
		graph_json_str(b, n->namespace);
		sbuf_adds(b, ",\"app\":");
		graph_json_str(b, n->app);
		sbuf_adds(b, ",\"version\":");
		graph_json_str(b, n->version);
		sbuf_addc(b, '}');
	}
	sbuf_adds(b, "],\"edges\":[");
	for (i = 0; i < snap->nedges; i++) {
		e = &snap->edges[i];
		sbuf_adds(b, i > 0 ? ",{\"from\":" : "{\"from\":");
		graph_json_str(b, e->from);
		sbuf_adds(b, ",\"to\":");
		graph_json_str(b, e->to);
		sbuf_printf(b, ",\"requests\":%llu,\"errors\":%llu,"
		    "\"total\":%llu,\"mtls\":%s,",
		    (unsigned long long)e->stats.requests,
		    (unsigned long long)e->stats.errors,
		    (unsigned long long)e->total, e->mtls ? "true" : "false");
		graph_json_stats(b, &e->stats);
		sbuf_addc(b, '}');
	}
	sbuf_adds(b, "],\"services\":[");
	for (i = 0; i < snap->nservices; i++) {
		s = &snap->services[i];
		sbuf_adds(b, i > 0 ? ",{\"name\":" : "{\"name\":");
		graph_json_str(b, s->name);
		sbuf_printf(b, ",\"requests\":%llu,\"errors\":%llu,",
		    (unsigned long long)s->stats.requests,
		    (unsigned long long)s->stats.errors);
		graph_json_stats(b, &s->stats);
		sbuf_adds(b, ",\"history\":{");
		{
			static const char *const names[] = { "rate",
			    "errorRate", "p50", "p90", "p99" };
			const double *series[5] = { s->rate, s->error_rate,
			    s->p50, s->p90, s->p99 };
			size_t	 h;

			for (h = 0; h < 5; h++) {
				sbuf_printf(b, "%s\"%s\":[", h > 0 ? "," : "",
				    names[h]);
				for (k = 0; k < s->nhistory; k++) {
					if (k > 0)
						sbuf_addc(b, ',');
					graph_json_number(b, series[h][k]);
				}
				sbuf_addc(b, ']');
			}
		}
		sbuf_add(b, "}}", 2);
	}
	sbuf_add(b, "]}", 2);
}

/* A DOT id: always quoted, so any name is one. */
static void
graph_dot_id(struct sbuf *b, const char *s)
{
	sbuf_addc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_addc(b, '\\');
		sbuf_addc(b, *s == '\n' ? ' ' : *s);
	}
	sbuf_addc(b, '"');
}

void
graph_snapshot_write_dot(const struct graph_snapshot *snap, struct sbuf *b)
{
	const struct graph_snapshot_node	*n;
	const struct graph_snapshot_edge	*e;
	char					 label[512];
	size_t					 i;

	sbuf_printf(b, "digraph mesh {\n\trankdir=LR;\n\tlabel=\"meshkit "
	    "service graph, last %llu s\";\n\tnode [fontname=\"Helvetica\"];"
	    "\n\tedge [fontname=\"Helvetica\", fontsize=10];\n",
	    (unsigned long long)(snap->window_ms / 1000));
	for (i = 0; i < snap->nnodes; i++) {
		n = &snap->nodes[i];
		sbuf_addc(b, '\t');
		graph_dot_id(b, n->id);
		if (strcmp(n->kind, "service") == 0)
			snprintf(label, sizeof(label), "%s", n->name);
		else if (strcmp(n->kind, "workload") == 0)
			snprintf(label, sizeof(label), "%s%s%s", n->name,
			    n->version != NULL ? "\\n" : "",
			    n->version != NULL ? n->version : "");
		else
			snprintf(label, sizeof(label), "unknown");
		sbuf_printf(b, " [shape=%s, label=\"",
		    strcmp(n->kind, "service") == 0 ? "triangle" :
		    strcmp(n->kind, "workload") == 0 ? "box" : "ellipse");
		/* the label's own quotes and backslashes, but \n stays */
		{
			const char *p;

			for (p = label; *p != '\0'; p++) {
				if (*p == '"')
					sbuf_addc(b, '\\');
				sbuf_addc(b, *p);
			}
		}
		sbuf_adds(b, "\"];\n");
	}
	for (i = 0; i < snap->nedges; i++) {
		e = &snap->edges[i];
		sbuf_addc(b, '\t');
		graph_dot_id(b, e->from);
		sbuf_adds(b, " -> ");
		graph_dot_id(b, e->to);
		if (e->stats.requests > 0)
			snprintf(label, sizeof(label), "%s%.2f rps\\n%.1f%% "
			    "err\\np99 %.1f ms", e->mtls ? "mTLS " : "",
			    e->stats.rate, 100 * e->stats.error_rate,
			    e->stats.p99);
		else
			snprintf(label, sizeof(label), "idle");
		sbuf_printf(b, " [label=\"%s\"%s];\n", label,
		    e->stats.requests > 0 && e->stats.error_rate > 0.05 ?
		    ", color=red" : e->stats.requests == 0 ?
		    ", style=dashed" : "");
	}
	sbuf_adds(b, "}\n");
}

void
graph_snapshot_write_table(const struct graph_snapshot *snap,
    struct sbuf *b)
{
	const struct graph_snapshot_service	*s;
	size_t					 i, w = 7;

	for (i = 0; i < snap->nservices; i++)
		if (strlen(snap->services[i].name) > w)
			w = strlen(snap->services[i].name);
	sbuf_printf(b, "%-*s %9s %8s %10s %10s %10s %9s\n", (int)w,
	    "SERVICE", "RPS", "SUCCESS", "P50", "P90", "P99", "REQUESTS");
	for (i = 0; i < snap->nservices; i++) {
		s = &snap->services[i];
		if (s->stats.requests == 0) {
			sbuf_printf(b, "%-*s %9.2f %8s %10s %10s %10s %9s\n",
			    (int)w, s->name, 0.0, "-", "-", "-", "-", "0");
			continue;
		}
		sbuf_printf(b, "%-*s %9.2f %7.2f%% %8.1fms %8.1fms %8.1fms "
		    "%9llu\n", (int)w, s->name, s->stats.rate,
		    100 * (1 - s->stats.error_rate), s->stats.p50,
		    s->stats.p90, s->stats.p99,
		    (unsigned long long)s->stats.requests);
	}
}
