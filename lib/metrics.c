/* SPDX-License-Identifier: ISC */
/*
 * Istio's standard HTTP metrics (metrics.h).
 *
 * A series is found by a compact key: the label values as the record has
 * them, each cut to METRICS_MAX_VALUE bytes and prefixed by its length
 * (0xff: unknown), no names, no escaping; that is a copy of the values
 * and one hash lookup per record.  A new series writes its label set
 * once as the exposition writes it (name="escaped value",...), so that
 * rendering a scrape is a copy per line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "record.h"
#include "sbuf.h"
#include "strmap.h"
#include "util.h"

const double metrics_buckets[METRICS_NBUCKETS] = {
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000,
};

static void	metrics_label(struct sbuf *, const char *, struct str,
		    const char *);
static struct str metrics_security(struct str);
static struct str metrics_grpc_status(const struct record *);
static void	metrics_key(struct sbuf *, const struct record *);
static void	metrics_labels(struct sbuf *, const struct record *);
static struct metrics_series *metrics_series_new(const char *, size_t);
static void	metrics_write_histogram(struct sbuf *, const char *,
		    const struct metrics_series *,
		    const struct metrics_histogram *);
static void	metrics_write_one(struct sbuf *, const struct metrics_series *,
		    int);

void
metrics_init(struct metrics *m, size_t max_series)
{
	memset(m, 0, sizeof(*m));
	strmap_init(&m->series);
	m->max_series = max_series != 0 ? max_series :
	    METRICS_DEFAULT_MAX_SERIES;
	sbuf_init(&m->key, 0);
}

void
metrics_fini(struct metrics *m)
{
	size_t	 pos = 0;
	const char *key;
	void	*v;

	while (strmap_next(&m->series, &pos, &key, &v)) {
		free((char *)((struct metrics_series *)v)->labels);
		free(v);
	}
	strmap_fini(&m->series);
	free(m->overflow);
	sbuf_fini(&m->key);
	memset(m, 0, sizeof(*m));
}

void
metrics_set_max_series(struct metrics *m, size_t max)
{
	m->max_series = max != 0 ? max : METRICS_DEFAULT_MAX_SERIES;
}

size_t
metrics_nseries(const struct metrics *m)
{
	return m->series.n;
}

/* name="value" (or the default when unknown), comma before all but one */
static void
metrics_label(struct sbuf *b, const char *name, struct str v,
    const char *dflt)
{
	if (b->len > 0)
		sbuf_addc(b, ',');
	sbuf_adds(b, name);
	sbuf_add(b, "=\"", 2);
	if (v.p == NULL || v.n == 0)
		sbuf_adds(b, dflt);
	else
		sbuf_prom_escape(b, v.p, sbuf_utf8_cut(v.p, v.n,
		    METRICS_MAX_VALUE));
	sbuf_addc(b, '"');
}

/*
 * connection_security_policy is one of Istio's three words: another
 * value in a record (a peer's bug, or a hostile one) is unknown, not a
 * label value of its own; metrics_add counts it.
 */
static struct str
metrics_security(struct str v)
{
	if (v.p != NULL && (util_str_eq(v, "mutual_tls") ||
	    util_str_eq(v, "none") || util_str_eq(v, "unknown")))
		return v;
	return (struct str){ NULL, 0 };
}

/* grpc_response_status: only a gRPC request has one, as in Istio. */
static struct str
metrics_grpc_status(const struct record *r)
{
	if (r->request_protocol.p != NULL &&
	    util_str_eq(r->request_protocol, "grpc"))
		return r->grpc_status;
	return (struct str){ NULL, 0 };
}

/*
 * One value of the compact key.  A value that renders as the default
 * (a field left out, or "unknown" said outright) is the same label, so
 * the same key.
 */
static void
metrics_key_value(struct sbuf *b, struct str v, struct str dflt)
{
	size_t	 n;

	if (v.p == NULL || v.n == 0 || (v.n == dflt.n &&
	    memcmp(v.p, dflt.p, v.n) == 0)) {
		sbuf_addc(b, (char)0xff);
		return;
	}
	/* a value that fits is never cut: no need to walk it */
	n = v.n <= METRICS_MAX_VALUE ? v.n :
	    sbuf_utf8_cut(v.p, v.n, METRICS_MAX_VALUE);
	sbuf_addc(b, (char)n);
	sbuf_add(b, v.p, n);
}

/* The values of the label set, in Istio's order: what tells series apart. */
static void
metrics_key(struct sbuf *b, const struct record *r)
{
	struct str	 name, ns;
	char		 head[4];

	sbuf_reset(b);
	head[0] = (char)(r->code & 0xff);
	head[1] = (char)(r->code >> 8);
	head[2] = r->reporter == RECORD_SOURCE ? 's' : 'd';
	head[3] = r->request_protocol.p != NULL &&
	    util_str_eq(r->request_protocol, "grpc") ? 'g' : 'h';
	sbuf_add(b, head, sizeof(head));
	metrics_key_value(b, r->source.workload, STR_LIT("unknown"));
	metrics_key_value(b, r->source.namespace, STR_LIT("unknown"));
	metrics_key_value(b, r->source.principal, STR_LIT("unknown"));
	metrics_key_value(b, r->source.app, STR_LIT("unknown"));
	metrics_key_value(b, r->source.version, STR_LIT("unknown"));
	metrics_key_value(b, r->destination.workload, STR_LIT("unknown"));
	metrics_key_value(b, r->destination.namespace, STR_LIT("unknown"));
	metrics_key_value(b, r->destination.principal, STR_LIT("unknown"));
	metrics_key_value(b, r->destination.app, STR_LIT("unknown"));
	metrics_key_value(b, r->destination.version, STR_LIT("unknown"));
	metrics_key_value(b, r->service, STR_LIT("unknown"));
	record_service_parts(r, &name, &ns);
	metrics_key_value(b, name, STR_LIT("unknown"));
	metrics_key_value(b, ns, STR_LIT("unknown"));
	metrics_key_value(b, r->flags, STR_LIT("-"));
	metrics_key_value(b, metrics_grpc_status(r), STR_LIT(""));
	metrics_key_value(b, metrics_security(r->security),
	    STR_LIT("unknown"));
}

/* The label set of Istio's standard metrics, in Istio's order. */
static void
metrics_labels(struct sbuf *b, const struct record *r)
{
	struct str	 name, ns;
	char		 code[8];
	const char	*protocol;

	sbuf_reset(b);
	snprintf(code, sizeof(code), "%u", r->code);
	metrics_label(b, "response_code", (struct str){ code, strlen(code) },
	    "0");
	metrics_label(b, "reporter", r->reporter == RECORD_SOURCE ?
	    STR_LIT("source") : STR_LIT("destination"), "");
	metrics_label(b, "source_workload", r->source.workload, "unknown");
	metrics_label(b, "source_workload_namespace", r->source.namespace,
	    "unknown");
	metrics_label(b, "source_principal", r->source.principal, "unknown");
	metrics_label(b, "source_app", r->source.app, "unknown");
	metrics_label(b, "source_version", r->source.version, "unknown");
	metrics_label(b, "destination_workload", r->destination.workload,
	    "unknown");
	metrics_label(b, "destination_workload_namespace",
	    r->destination.namespace, "unknown");
	metrics_label(b, "destination_principal", r->destination.principal,
	    "unknown");
	metrics_label(b, "destination_app", r->destination.app, "unknown");
	metrics_label(b, "destination_version", r->destination.version,
	    "unknown");
	metrics_label(b, "destination_service", r->service, "unknown");
	record_service_parts(r, &name, &ns);
	metrics_label(b, "destination_service_name", name, "unknown");
	metrics_label(b, "destination_service_namespace", ns, "unknown");
	protocol = r->request_protocol.p != NULL &&
	    util_str_eq(r->request_protocol, "grpc") ? "grpc" : "http";
	metrics_label(b, "request_protocol", (struct str){ protocol,
	    strlen(protocol) }, "http");
	metrics_label(b, "response_flags", r->flags, "-");
	metrics_label(b, "grpc_response_status", metrics_grpc_status(r), "");
	metrics_label(b, "connection_security_policy",
	    metrics_security(r->security), "unknown");
}

static struct metrics_series *
metrics_series_new(const char *key, size_t len)
{
	struct metrics_series	*s = xcalloc(1, sizeof(*s));

	s->labels = key;
	s->labels_len = len;
	return s;
}

size_t
metrics_bucket(double v)
{
	size_t	 lo = 0, hi = METRICS_NBUCKETS, mid;

	/* the first bound >= v: Prometheus' le is "less or equal" */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (metrics_buckets[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
metrics_histogram_add(struct metrics_histogram *h, double v)
{
	h->counts[metrics_bucket(v)]++;
	h->count++;
	h->sum += v;
}

struct metrics_series *
metrics_add(struct metrics *m, const struct record *r, unsigned disabled)
{
	struct metrics_series	*s;
	static const char	 overflow_labels[] =
	    "response_code=\"overflow\",reporter=\"overflow\","
	    "source_workload=\"overflow\",source_workload_namespace="
	    "\"overflow\",source_principal=\"overflow\",source_app="
	    "\"overflow\",source_version=\"overflow\",destination_workload="
	    "\"overflow\",destination_workload_namespace=\"overflow\","
	    "destination_principal=\"overflow\",destination_app="
	    "\"overflow\",destination_version=\"overflow\","
	    "destination_service=\"overflow\",destination_service_name="
	    "\"overflow\",destination_service_namespace=\"overflow\","
	    "request_protocol=\"overflow\",response_flags=\"overflow\","
	    "grpc_response_status=\"overflow\","
	    "connection_security_policy=\"overflow\"";

	if (r->security.p != NULL && r->security.n > 0 &&
	    metrics_security(r->security).p == NULL)
		m->bad_security++;
	metrics_key(&m->key, r);
	if ((s = strmap_get(&m->series, m->key.buf, m->key.len)) == NULL) {
		if (m->series.n >= m->max_series || m->key.overflow) {
			if (m->overflow == NULL)
				m->overflow = metrics_series_new(
				    overflow_labels,
				    sizeof(overflow_labels) - 1);
			s = m->overflow;
			m->overflowed++;
		} else {
			struct sbuf	 labels;

			sbuf_init(&labels, 0);
			metrics_labels(&labels, r);
			s = metrics_series_new(xstrndup(labels.buf != NULL ?
			    labels.buf : "", labels.len), labels.len);
			sbuf_fini(&labels);
			s->owned = 1;
			strmap_put(&m->series, m->key.buf, m->key.len, s);
		}
	}
	s->disabled = disabled;
	s->requests++;
	metrics_histogram_add(&s->duration, (double)r->duration_us / 1000.0);
	metrics_histogram_add(&s->request_size, (double)(r->request_bytes +
	    r->request_head_bytes));
	metrics_histogram_add(&s->response_size, (double)(r->response_bytes +
	    r->response_head_bytes));
	return s;
}

double
metrics_quantile(const uint64_t counts[METRICS_NBUCKETS + 1], double q)
{
	uint64_t	 total = 0, cum = 0;
	double		 rank, lower;
	size_t		 i;

	for (i = 0; i <= METRICS_NBUCKETS; i++)
		total += counts[i];
	if (total == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	rank = q * (double)total;
	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		if ((double)(cum + counts[i]) >= rank && counts[i] > 0)
			break;
		cum += counts[i];
	}
	if (i >= METRICS_NBUCKETS)	/* +Inf: the highest finite bound */
		return metrics_buckets[METRICS_NBUCKETS - 1];
	lower = i == 0 ? 0 : metrics_buckets[i - 1];
	return lower + (metrics_buckets[i] - lower) *
	    ((rank - (double)cum) / (double)counts[i]);
}

void
metrics_family(struct sbuf *b, const char *name, const char *type,
    const char *help)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

void
metrics_sample(struct sbuf *b, const char *name, const char *labels,
    double value)
{
	sbuf_adds(b, name);
	if (labels != NULL && labels[0] != '\0') {
		sbuf_addc(b, '{');
		sbuf_adds(b, labels);
		sbuf_addc(b, '}');
	}
	sbuf_addc(b, ' ');
	sbuf_double(b, value);
	sbuf_addc(b, '\n');
}

void
metrics_sample_u64(struct sbuf *b, const char *name, const char *labels,
    uint64_t value)
{
	sbuf_adds(b, name);
	if (labels != NULL && labels[0] != '\0') {
		sbuf_addc(b, '{');
		sbuf_adds(b, labels);
		sbuf_addc(b, '}');
	}
	sbuf_addc(b, ' ');
	sbuf_u64(b, value);
	sbuf_addc(b, '\n');
}

static void
metrics_write_histogram(struct sbuf *b, const char *name,
    const struct metrics_series *s, const struct metrics_histogram *h)
{
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		cum += h->counts[i];
		sbuf_adds(b, name);
		sbuf_add(b, "_bucket{", 8);
		sbuf_add(b, s->labels, s->labels_len);
		sbuf_add(b, ",le=\"", 5);
		if (i == METRICS_NBUCKETS)
			sbuf_adds(b, "+Inf");
		else
			sbuf_double(b, metrics_buckets[i]);
		sbuf_add(b, "\"} ", 3);
		sbuf_u64(b, cum);
		sbuf_addc(b, '\n');
	}
	sbuf_adds(b, name);
	sbuf_add(b, "_sum{", 5);
	sbuf_add(b, s->labels, s->labels_len);
	sbuf_add(b, "} ", 2);
	sbuf_double(b, h->sum);
	sbuf_addc(b, '\n');
	sbuf_adds(b, name);
	sbuf_add(b, "_count{", 7);
	sbuf_add(b, s->labels, s->labels_len);
	sbuf_add(b, "} ", 2);
	sbuf_u64(b, h->count);
	sbuf_addc(b, '\n');
}

static void
metrics_write_one(struct sbuf *b, const struct metrics_series *s, int which)
{
	if (s->disabled & (unsigned)which)
		return;
	switch (which) {
	case METRICS_REQUEST_COUNT:
		sbuf_add(b, "istio_requests_total{", 21);
		sbuf_add(b, s->labels, s->labels_len);
		sbuf_add(b, "} ", 2);
		sbuf_u64(b, s->requests);
		sbuf_addc(b, '\n');
		break;
	case METRICS_REQUEST_DURATION:
		metrics_write_histogram(b,
		    "istio_request_duration_milliseconds", s, &s->duration);
		break;
	case METRICS_REQUEST_SIZE:
		metrics_write_histogram(b, "istio_request_bytes", s,
		    &s->request_size);
		break;
	case METRICS_RESPONSE_SIZE:
		metrics_write_histogram(b, "istio_response_bytes", s,
		    &s->response_size);
		break;
	}
}

static const struct {
	int		 which;
	const char	*name;
	const char	*type;
	const char	*help;
} metrics_families[] = {
	{ METRICS_REQUEST_COUNT, "istio_requests_total", "counter",
	    "Requests, by reporter, workloads, service and response." },
	{ METRICS_REQUEST_DURATION, "istio_request_duration_milliseconds",
	    "histogram", "Request durations, first byte in to last byte out." },
	{ METRICS_REQUEST_SIZE, "istio_request_bytes", "histogram",
	    "Request sizes, head and body." },
	{ METRICS_RESPONSE_SIZE, "istio_response_bytes", "histogram",
	    "Response sizes, head and body." },
};

void
metrics_cursor_init(struct metrics_cursor *c, const struct metrics *m)
{
	const char	*key;
	void		*v;
	size_t		 pos = 0;

	memset(c, 0, sizeof(*c));
	c->series = xcalloc(m->series.n + 1, sizeof(*c->series));
	while (strmap_next(&m->series, &pos, &key, &v) &&
	    c->n < m->series.n)
		c->series[c->n++] = v;
	if (m->overflow != NULL)
		c->series[c->n++] = m->overflow;
}

int
metrics_cursor_write(struct metrics_cursor *c, struct sbuf *b, size_t max)
{
	size_t	 start = b->len;

	while (c->family < nitems(metrics_families)) {
		if (c->next == 0)
			metrics_family(b, metrics_families[c->family].name,
			    metrics_families[c->family].type,
			    metrics_families[c->family].help);
		while (c->next < c->n) {
			metrics_write_one(b, c->series[c->next++],
			    metrics_families[c->family].which);
			if (b->len - start >= max)
				break;
		}
		if (c->next < c->n)
			return 1;
		c->family++;
		c->next = 0;
		if (b->len - start >= max)
			return c->family < nitems(metrics_families);
	}
	return 0;
}

void
metrics_cursor_fini(struct metrics_cursor *c)
{
	free(c->series);
	memset(c, 0, sizeof(*c));
}

void
metrics_write(const struct metrics *m, struct sbuf *b)
{
	struct metrics_cursor	 c;

	metrics_cursor_init(&c, m);
	metrics_cursor_write(&c, b, SIZE_MAX);
	metrics_cursor_fini(&c);
}
