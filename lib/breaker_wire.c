/* SPDX-License-Identifier: ISC */
/*
 * The wire form of breaker-d's messages (meshkit-ipc(7)): admit and its
 * reply, report, breaker-event, breaker-state, status and error, and the
 * filter mode's stream of reports and admits.  Strings read point into
 * the message; what is kept is copied into the breaker's own buffers.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "breaker.h"
#include "config.h"
#include "msg.h"
#include "util.h"

#define BREAKER_PROGRAM		"breaker-d"

/* One admit question, copied out of the message. */
struct breaker_admit {
	uint64_t	 id;
	char		 service[BREAKER_SERVICE_MAX];
	char		 subset[BREAKER_SUBSET_MAX];
	uint32_t	 port;
	char		 endpoints[BREAKER_MAX_ENDPOINTS][BREAKER_ADDRESS_MAX];
	size_t		 nendpoints;
};

/* One report record. */
struct breaker_result_rec {
	char		 service[BREAKER_SERVICE_MAX];
	char		 subset[BREAKER_SUBSET_MAX];
	uint32_t	 port;
	char		 endpoint[BREAKER_ADDRESS_MAX];
	enum breaker_result result;
	uint32_t	 status;
	uint64_t	 time_ms;
	int		 has_time;
};

static struct str breaker_cstr(const char *);
static int	breaker_copy(char *, size_t, struct str);
static int	breaker_namespace(const struct msg *, char *, size_t);
static int	breaker_address(char *, size_t, struct str);
static int	breaker_common_field(struct str, struct str, char *, size_t,
		    char *, size_t, uint32_t *, char *, size_t, int *);
static int	breaker_admit_read(const struct msg *, const struct msg_block *,
		    struct breaker_admit *, char *, size_t);
static int	breaker_result_rec_read(const struct msg *,
		    const struct msg_block *, struct breaker_result_rec *,
		    char *, size_t);
static void	breaker_error_reply(struct breaker *, struct msg_writer *,
		    size_t, const char *);
static void	breaker_status_reply(struct breaker *, struct msg_writer *);
static void	breaker_state_reply(struct breaker *, struct msg_writer *);
static void	breaker_admit_reply(struct breaker *, const struct msg *,
		    uint64_t, struct msg_writer *);
static void	breaker_admit_answer(struct breaker *, const char *,
		    const struct breaker_admit *, uint64_t,
		    struct msg_writer *);
static void	breaker_limits_write(struct msg_writer *,
		    const struct breaker_limits *);
static int	breaker_report_apply(struct breaker *, const struct msg *,
		    int, char *, size_t);
static int	breaker_limits_read(struct str, struct breaker_limits *);
static const char *breaker_result_name(enum breaker_result);

static struct str
breaker_cstr(const char *s)
{
	struct str	 r = { s, strlen(s) };

	return r;
}

/* s as a C string in dst; -1 if it does not fit. */
static int
breaker_copy(char *dst, size_t dstlen, struct str s)
{
	if (s.n >= dstlen)
		return -1;
	if (s.n > 0)
		memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return 0;
}

/* The asker's namespace from the header; -1 for a bad header. */
static int
breaker_namespace(const struct msg *m, char *ns, size_t nslen)
{
	struct msg_source	 src;

	if (msg_source_read(m, &src) == -1)
		return -1;
	if (breaker_copy(ns, nslen, src.namespace) == -1 ||
	    memchr(src.namespace.p, '\0', src.namespace.n) != NULL)
		return -1;
	return 0;
}

/* "ADDR:PORT [words...]": the numeric address and port, copied. */
static int
breaker_address(char *dst, size_t dstlen, struct str v)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	const char		*sp;

	if (v.p == NULL)
		return -1;	/* absent */
	if ((sp = memchr(v.p, ' ', v.n)) != NULL)
		v.n = (size_t)(sp - v.p);
	if (breaker_copy(dst, dstlen, v) == -1 ||
	    util_parse_sockaddr(dst, &ss, &sl) == -1 ||
	    ss.ss_family == AF_UNIX)
		return -1;
	return 0;
}

int
breaker_result_read(struct str v, enum breaker_result *r, uint32_t *status)
{
	uint64_t	 u;

	*status = 0;
	if (util_str_eq(v, "connect-failure"))
		*r = BREAKER_RESULT_CONNECT_FAILURE;
	else if (util_str_eq(v, "reset"))
		*r = BREAKER_RESULT_RESET;
	else if (util_str_eq(v, "timeout"))
		*r = BREAKER_RESULT_TIMEOUT;
	else if (v.n == 3 && msg_str_u64(v, &u) == 0 && u >= 100 && u <= 599) {
		*r = BREAKER_RESULT_STATUS;
		*status = (uint32_t)u;
	} else
		return -1;
	return 0;
}

/*
 * service, subset and port, shared by admit and report records: 1 if k
 * was one of them, 0 if not, -1 if its value was bad.  seen keeps the
 * first occurrence of each.
 */
static int
breaker_common_field(struct str k, struct str v, char *service,
    size_t servicelen, char *subset, size_t subsetlen, uint32_t *port,
    char *err, size_t errlen, int *seen)
{
	uint64_t	 u;

	if (util_str_eq(k, "service")) {
		if (*seen & 1)
			return 1;
		*seen |= 1;
		if (v.n == 0 || breaker_copy(service, servicelen, v) == -1) {
			snprintf(err, errlen, "service: want a host of at "
			    "most %zu bytes", servicelen - 1);
			return -1;
		}
		return 1;
	}
	if (util_str_eq(k, "subset")) {
		if (*seen & 2)
			return 1;
		*seen |= 2;
		if (breaker_copy(subset, subsetlen, v) == -1) {
			snprintf(err, errlen, "subset: longer than %zu bytes",
			    subsetlen - 1);
			return -1;
		}
		return 1;
	}
	if (util_str_eq(k, "port")) {
		if (*seen & 4)
			return 1;
		*seen |= 4;
		if (msg_str_u64(v, &u) == -1 || u == 0 || u > 65535) {
			snprintf(err, errlen, "port: want 1..65535");
			return -1;
		}
		*port = (uint32_t)u;
		return 1;
	}
	return 0;
}

static int
breaker_admit_read(const struct msg *m, const struct msg_block *b,
    struct breaker_admit *q, char *err, size_t errlen)
{
	size_t	 i;
	int	 seen = 0, rv;

	q->service[0] = q->subset[0] = '\0';
	q->port = 0;
	q->nendpoints = 0;
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field *f = &m->fields[i];

		rv = breaker_common_field(f->key, f->value, q->service,
		    sizeof(q->service), q->subset, sizeof(q->subset),
		    &q->port, err, errlen, &seen);
		if (rv == -1)
			return -1;
		if (rv == 1 || !util_str_eq(f->key, "endpoint"))
			continue;
		/* route-d gives at most 256: more are not candidates */
		if (q->nendpoints == BREAKER_MAX_ENDPOINTS)
			continue;
		if (breaker_address(q->endpoints[q->nendpoints],
		    sizeof(q->endpoints[0]), f->value) == -1) {
			snprintf(err, errlen, "endpoint: want a numeric "
			    "ADDR:PORT");
			return -1;
		}
		q->nendpoints++;
	}
	if (q->service[0] == '\0') {
		snprintf(err, errlen, "service: missing");
		return -1;
	}
	return 0;
}

static int
breaker_result_rec_read(const struct msg *m, const struct msg_block *b,
    struct breaker_result_rec *r, char *err, size_t errlen)
{
	size_t	 i;
	int	 seen = 0, rv, have_endpoint = 0, have_result = 0;

	memset(r, 0, sizeof(*r));
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field	*f = &m->fields[i];

		rv = breaker_common_field(f->key, f->value, r->service,
		    sizeof(r->service), r->subset, sizeof(r->subset),
		    &r->port, err, errlen, &seen);
		if (rv == -1)
			return -1;
		if (rv == 1)
			continue;
		if (!have_endpoint && util_str_eq(f->key, "endpoint")) {
			have_endpoint = 1;
			if (breaker_address(r->endpoint, sizeof(r->endpoint),
			    f->value) == -1) {
				snprintf(err, errlen, "endpoint: want a "
				    "numeric ADDR:PORT");
				return -1;
			}
		} else if (!have_result && util_str_eq(f->key, "result")) {
			have_result = 1;
			if (breaker_result_read(f->value, &r->result,
			    &r->status) == -1) {
				snprintf(err, errlen, "result: want a status "
				    "100..599, connect-failure, reset or "
				    "timeout");
				return -1;
			}
		} else if (!r->has_time && util_str_eq(f->key, "time-ms")) {
			r->has_time = 1;
			if (msg_str_u64(f->value, &r->time_ms) == -1) {
				snprintf(err, errlen, "time-ms: not a decimal "
				    "number");
				return -1;
			}
		}
	}
	if (r->service[0] == '\0') {
		snprintf(err, errlen, "service: missing");
		return -1;
	}
	if (!have_endpoint) {
		snprintf(err, errlen, "endpoint: missing");
		return -1;
	}
	if (!have_result) {
		snprintf(err, errlen, "result: missing");
		return -1;
	}
	return 0;
}

/* An error message in place of what out held past start. */
static void
breaker_error_reply(struct breaker *b, struct msg_writer *out, size_t start,
    const char *reason)
{
	struct breaker_stats	*st = breaker_stats(b);

	out->len = start < out->len ? start : out->len;
	out->overflow = 0;
	if (out->buf != NULL)
		out->buf[out->len] = '\0';
	msgw_begin(out, "error");
	msgw_fieldf(out, "reason", "%s", reason);
	msgw_fieldf(out, "versions", "%d", MSG_VERSION);
	st->bad_messages++;
	util_strlcpy(st->last_error, reason, sizeof(st->last_error));
}

static void
breaker_status_reply(struct breaker *b, struct msg_writer *out)
{
	struct breaker_stats	*st = breaker_stats(b);
	size_t			 i, endpoints = 0, ejected = 0;

	for (i = 0; i < breaker_nclusters(b); i++) {
		endpoints += breaker_cluster_at(b, i)->nendpoints;
		ejected += breaker_cluster_at(b, i)->nejected;
	}
	msgw_begin(out, "status-reply");
	msgw_field(out, "program", STR_LIT(BREAKER_PROGRAM));
	msgw_field(out, "version", STR_LIT(MESHKIT_VERSION));
	msgw_field_u64(out, "pid", (uint64_t)getpid());
	msgw_field_u64(out, "generation", breaker_generation(b));
	msgw_field_u64(out, "uptime-ms", util_now_ms() - st->start_ms);
	msgw_field_u64(out, "messages", st->messages);
	msgw_field_u64(out, "bad-messages", st->bad_messages);
	msgw_field_u64(out, "admits", st->admits);
	msgw_field_u64(out, "admit-errors", st->admit_errors);
	msgw_field_u64(out, "panics", st->panics);
	msgw_field_u64(out, "reports", st->reports);
	msgw_field_u64(out, "results", st->results);
	msgw_field_u64(out, "bad-results", st->bad_results);
	msgw_field_u64(out, "ejections", st->ejections);
	msgw_field_u64(out, "returns", st->returns);
	msgw_field_u64(out, "overflows", st->overflows);
	msgw_field_u64(out, "dropped", st->dropped);
	msgw_field_u64(out, "clusters", breaker_nclusters(b));
	msgw_field_u64(out, "endpoints", endpoints);
	msgw_field_u64(out, "ejected", ejected);
	msgw_field_u64(out, "reloads", st->reloads);
	msgw_field_u64(out, "reload-failures", st->reload_failures);
}

static void
breaker_state_reply(struct breaker *b, struct msg_writer *out)
{
	size_t	 i, j;

	msgw_begin(out, "breaker-state-reply");
	msgw_field_u64(out, "generation", breaker_generation(b));
	for (i = 0; i < breaker_nclusters(b) && !out->overflow; i++) {
		const struct breaker_cluster *c = breaker_cluster_at(b, i);

		for (j = 0; j < c->nendpoints; j++) {
			const struct breaker_endpoint *e = &c->endpoints[j];

			msgw_record(out);
			msgw_field(out, "service", breaker_cstr(c->service));
			if (c->subset[0] != '\0')
				msgw_field(out, "subset",
				    breaker_cstr(c->subset));
			if (c->port != 0)
				msgw_field_u64(out, "port", c->port);
			msgw_field(out, "endpoint", breaker_cstr(e->address));
			msgw_field(out, "state",
			    breaker_cstr(breaker_state_name(e->state)));
			msgw_field_u64(out, "consecutive-5xx",
			    e->consecutive_5xx);
			msgw_field_u64(out, "consecutive-gateway",
			    e->consecutive_gateway);
			msgw_field_u64(out, "ejections", e->ejections);
			msgw_field_u64(out, "ms-left", breaker_ms_left(b, e));
		}
	}
	if (out->overflow)
		breaker_error_reply(b, out, 0, "breaker-state reply larger "
		    "than 1 MiB");
}

static void
breaker_limits_write(struct msg_writer *w, const struct breaker_limits *l)
{
	char	 buf[320];
	size_t	 o = 0;

#define LIMIT(flag, fmt, v) do {					\
	if ((l->set & (flag)) && o < sizeof(buf))			\
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s" fmt, \
		    o == 0 ? "" : " ", (v));				\
} while (0)
	LIMIT(BREAKER_LIMIT_CONNECTIONS, "max-connections=%u",
	    l->max_connections);
	LIMIT(BREAKER_LIMIT_PENDING, "max-pending=%u", l->max_pending);
	LIMIT(BREAKER_LIMIT_PER_CONNECTION, "max-requests-per-connection=%u",
	    l->max_requests_per_connection);
	LIMIT(BREAKER_LIMIT_RETRIES, "max-retries=%u", l->max_retries);
	LIMIT(BREAKER_LIMIT_CONNECT_TIMEOUT, "connect-timeout=%llu",
	    (unsigned long long)l->connect_timeout_ms);
	LIMIT(BREAKER_LIMIT_IDLE_TIMEOUT, "idle-timeout=%llu",
	    (unsigned long long)l->idle_timeout_ms);
#undef LIMIT
	if (o > 0 && o < sizeof(buf))
		msgw_field(w, "limits", (struct str){ buf, o });
}

static void
breaker_admit_answer(struct breaker *b, const char *ns,
    const struct breaker_admit *q, uint64_t reuse_ms, struct msg_writer *out)
{
	struct breaker_stats	*st = breaker_stats(b);
	struct breaker_cluster	*c;
	struct breaker_endpoint	*e[BREAKER_MAX_ENDPOINTS];
	uint64_t		 left, reuse = reuse_ms;
	size_t			 i, nejected = 0;
	int			 panic;
	char			 buf[BREAKER_ADDRESS_MAX + 24];

	c = breaker_cluster(b, ns, q->service, q->subset, q->port, 1);
	if (c == NULL) {
		st->admit_errors++;
		msgw_field(out, "status", STR_LIT("error"));
		msgw_fieldf(out, "reason", "more than %d services tracked",
		    BREAKER_MAX_CLUSTERS);
		return;
	}
	/*
	 * The candidates are the cluster's endpoints: learn them all first
	 * (learning one may move the others), then look them up.
	 */
	for (i = 0; i < q->nendpoints; i++)
		breaker_endpoint(b, c, q->endpoints[i], 1);
	for (i = 0; i < q->nendpoints; i++)
		e[i] = breaker_endpoint(b, c, q->endpoints[i], 0);
	panic = breaker_panic(c);
	for (i = 0; i < q->nendpoints; i++) {
		if (e[i] == NULL || (left = breaker_ms_left(b, e[i])) == 0)
			continue;
		nejected++;
		/* an answer must not outlive the ejection it tells of */
		if (left < reuse)
			reuse = left;
		if (panic)
			continue;
		snprintf(buf, sizeof(buf), "%s %llu", e[i]->address,
		    (unsigned long long)left);
		msgw_field(out, "ejected", breaker_cstr(buf));
	}
	if (panic) {
		st->panics++;
		msgw_field(out, "panic", STR_LIT("yes"));
	}
	breaker_limits_write(out, &c->policy.limits);
	if (c->policy.outlier.enabled)
		msgw_field(out, "outlier", STR_LIT("yes"));
	msgw_field_u64(out, "reuse", reuse);
	if (panic)
		msgw_fieldf(out, "reason", "panic: %zu of %zu endpoints "
		    "ejected, under minHealthPercent %u of %s; ejections "
		    "ignored", c->nejected, c->nendpoints,
		    c->policy.outlier.min_health_percent, c->policy.source);
	else if (c->policy.outlier.enabled)
		msgw_fieldf(out, "reason", "%zu of %zu candidates ejected; "
		    "outlierDetection of %s", nejected, q->nendpoints,
		    c->policy.source);
	else
		msgw_fieldf(out, "reason", "no outlierDetection (%s)",
		    c->policy.source);
}

static void
breaker_admit_reply(struct breaker *b, const struct msg *m, uint64_t reuse_ms,
    struct msg_writer *out)
{
	struct breaker_stats	*st = breaker_stats(b);
	struct breaker_admit	*q;
	char			 ns[128], err[200], reason[256];
	uint64_t		 id;
	size_t			 i, start = out->len;

	if (breaker_namespace(m, ns, sizeof(ns)) == -1) {
		breaker_error_reply(b, out, start, "header: label: want "
		    "key=value, namespace: at most 127 bytes");
		return;
	}
	for (i = 0; i < m->nrecords; i++)
		if (msg_get_u64(m, &m->records[i], "id", &id) == -1) {
			snprintf(reason, sizeof(reason), "record %zu: id: "
			    "missing or not a decimal number", i + 1);
			breaker_error_reply(b, out, start, reason);
			return;
		}
	q = xmalloc(sizeof(*q));
	msgw_begin(out, "admit-reply");
	msgw_field_u64(out, "generation", breaker_generation(b));
	for (i = 0; i < m->nrecords && !out->overflow; i++) {
		const struct msg_block *blk = &m->records[i];

		msg_get_u64(m, blk, "id", &q->id);
		st->admits++;
		msgw_record(out);
		msgw_field_u64(out, "id", q->id);
		if (breaker_admit_read(m, blk, q, err, sizeof(err)) == -1) {
			st->admit_errors++;
			msgw_field(out, "status", STR_LIT("error"));
			msgw_field(out, "reason", breaker_cstr(err));
			continue;
		}
		breaker_admit_answer(b, ns, q, reuse_ms, out);
	}
	free(q);
	if (out->overflow)
		breaker_error_reply(b, out, start, "reply larger than 1 MiB: "
		    "send "
		    "fewer questions per message");
}

void
breaker_handle_request(struct breaker *b, uint64_t reuse_ms, const char *buf,
    size_t len, struct msg_writer *out)
{
	struct msg	 m;
	char		 err[200];

	msgw_reset(out);
	msg_init(&m);
	breaker_stats(b)->messages++;
	if (msg_parse(&m, buf, len, err, sizeof(err)) == -1)
		breaker_error_reply(b, out, 0, err);
	else if (msg_type_is(&m, "admit"))
		breaker_admit_reply(b, &m, reuse_ms, out);
	else if (msg_type_is(&m, "breaker-state"))
		breaker_state_reply(b, out);
	else if (msg_type_is(&m, "status"))
		breaker_status_reply(b, out);
	else {
		snprintf(err, sizeof(err), "unknown message type \"%.*s\"",
		    (int)(m.type.n > 64 ? 64 : m.type.n), m.type.p);
		breaker_error_reply(b, out, 0, err);
	}
	msg_fini(&m);
}

/* The records of a parsed report; the first bad one's reason in err. */
static int
breaker_report_apply(struct breaker *b, const struct msg *m, int use_time,
    char *err, size_t errlen)
{
	struct breaker_stats		*st = breaker_stats(b);
	struct breaker_result_rec	 r;
	struct breaker_cluster		*c;
	struct breaker_endpoint		*e;
	char				 ns[128], rerr[200];
	size_t				 i;
	int				 rc = 0;

	if (breaker_namespace(m, ns, sizeof(ns)) == -1) {
		snprintf(err, errlen, "header: label: want key=value, "
		    "namespace: at most 127 bytes");
		st->bad_messages++;
		return -1;
	}
	for (i = 0; i < m->nrecords; i++) {
		st->results++;
		if (breaker_result_rec_read(m, &m->records[i], &r, rerr,
		    sizeof(rerr)) == -1) {
			st->bad_results++;
			if (rc == 0)
				snprintf(err, errlen, "record %zu: %s", i + 1,
				    rerr);
			rc = -1;
			continue;
		}
		if (use_time && r.has_time)
			breaker_advance(b, r.time_ms);
		if ((c = breaker_cluster(b, ns, r.service, r.subset, r.port,
		    1)) == NULL || (e = breaker_endpoint(b, c, r.endpoint,
		    1)) == NULL)
			continue;
		breaker_report(b, c, e, r.result, r.status);
	}
	return rc;
}

int
breaker_handle_report(struct breaker *b, int use_time, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct msg	 m;
	int		 rc;

	msg_init(&m);
	breaker_stats(b)->messages++;
	if (msg_parse(&m, buf, len, err, errlen) == -1) {
		breaker_stats(b)->bad_messages++;
		rc = -1;
	} else if (!msg_type_is(&m, "report")) {
		snprintf(err, errlen, "unknown message type \"%.*s\" (want "
		    "report)", (int)(m.type.n > 64 ? 64 : m.type.n), m.type.p);
		breaker_stats(b)->bad_messages++;
		rc = -1;
	} else {
		breaker_stats(b)->reports++;
		rc = breaker_report_apply(b, &m, use_time, err, errlen);
	}
	msg_fini(&m);
	return rc;
}

void
breaker_event_write(struct msg_writer *w, const struct breaker_event *ev)
{
	msgw_begin(w, "breaker-event");
	msgw_record(w);
	msgw_field(w, "service", breaker_cstr(ev->service));
	if (ev->subset[0] != '\0')
		msgw_field(w, "subset", breaker_cstr(ev->subset));
	if (ev->port != 0)
		msgw_field_u64(w, "port", ev->port);
	msgw_field(w, "endpoint", breaker_cstr(ev->endpoint));
	if (ev->kind == BREAKER_EVENT_EJECT) {
		msgw_field(w, "event", STR_LIT("eject"));
		msgw_field_u64(w, "ejection-ms", ev->ejection_ms);
	} else
		msgw_field(w, "event", STR_LIT("return"));
	msgw_field_u64(w, "ejections", ev->ejections);
	msgw_field_u64(w, "time-ms", ev->time_ms);
	if (ev->reason[0] != '\0')
		msgw_field(w, "reason", breaker_cstr(ev->reason));
}

int
breaker_filter_message(struct breaker *b, uint64_t reuse_ms, const char *buf,
    size_t len, struct msg_writer *out, char *err, size_t errlen)
{
	const struct breaker_event	*ev;
	struct msg			 m;
	uint64_t			 t;
	size_t				 i, n;
	int				 rc = 0;

	msgw_reset(out);
	msg_init(&m);
	if (msg_parse(&m, buf, len, err, errlen) == -1) {
		breaker_stats(b)->messages++;
		breaker_error_reply(b, out, 0, err);
		msg_fini(&m);
		return -1;
	}
	if (msg_type_is(&m, "report")) {
		breaker_stats(b)->messages++;
		breaker_stats(b)->reports++;
		rc = breaker_report_apply(b, &m, 1, err, errlen);
	} else if (msg_type_is(&m, "admit")) {
		breaker_stats(b)->messages++;
		if (msg_get_u64(&m, &m.header, "time-ms", &t) == 0)
			breaker_advance(b, t);
	}
	n = breaker_events(b, &ev);
	for (i = 0; i < n; i++)
		breaker_event_write(out, &ev[i]);
	breaker_events_clear(b);
	if (msg_type_is(&m, "admit"))
		breaker_admit_reply(b, &m, reuse_ms, out);
	else if (!msg_type_is(&m, "report")) {
		snprintf(err, errlen, "unknown message type \"%.*s\" (want "
		    "report or admit)", (int)(m.type.n > 64 ? 64 : m.type.n),
		    m.type.p);
		breaker_stats(b)->messages++;
		breaker_error_reply(b, out, out->len, err);
		rc = -1;
	}
	msg_fini(&m);
	return rc;
}

/* "key=n" words of a limits line; unknown keys are skipped. */
static int
breaker_limits_read(struct str v, struct breaker_limits *l)
{
	static const struct {
		const char	*key;
		unsigned	 flag;
	} keys[] = {
		{ "max-connections", BREAKER_LIMIT_CONNECTIONS },
		{ "max-pending", BREAKER_LIMIT_PENDING },
		{ "max-requests-per-connection", BREAKER_LIMIT_PER_CONNECTION },
		{ "max-retries", BREAKER_LIMIT_RETRIES },
		{ "connect-timeout", BREAKER_LIMIT_CONNECT_TIMEOUT },
		{ "idle-timeout", BREAKER_LIMIT_IDLE_TIMEOUT },
	};
	struct str	 word, val;
	const char	*eq, *sp, *end = v.p + v.n, *p = v.p;
	uint64_t	 u;
	size_t		 k;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		sp = memchr(p, ' ', (size_t)(end - p));
		word.p = p;
		word.n = (sp != NULL ? sp : end) - p;
		p += word.n;
		if ((eq = memchr(word.p, '=', word.n)) == NULL)
			return -1;
		val.p = eq + 1;
		val.n = word.n - (size_t)(val.p - word.p);
		word.n = (size_t)(eq - word.p);
		for (k = 0; k < nitems(keys); k++)
			if (util_str_eq(word, keys[k].key))
				break;
		if (k == nitems(keys))
			continue;	/* a later version's */
		if (msg_str_u64(val, &u) == -1 ||
		    (keys[k].flag != BREAKER_LIMIT_CONNECT_TIMEOUT &&
		    keys[k].flag != BREAKER_LIMIT_IDLE_TIMEOUT &&
		    u > UINT32_MAX))
			return -1;
		l->set |= keys[k].flag;
		switch (keys[k].flag) {
		case BREAKER_LIMIT_CONNECTIONS:
			l->max_connections = (uint32_t)u;
			break;
		case BREAKER_LIMIT_PENDING:
			l->max_pending = (uint32_t)u;
			break;
		case BREAKER_LIMIT_PER_CONNECTION:
			l->max_requests_per_connection = (uint32_t)u;
			break;
		case BREAKER_LIMIT_RETRIES:
			l->max_retries = (uint32_t)u;
			break;
		case BREAKER_LIMIT_CONNECT_TIMEOUT:
			l->connect_timeout_ms = u;
			break;
		default:
			l->idle_timeout_ms = u;
		}
	}
	return 0;
}

int
breaker_answer_read(const struct msg *m, const struct msg_block *b,
    struct breaker_answer *a, char *err, size_t errlen)
{
	size_t		 i;
	int		 seen_reuse = 0, seen_limits = 0;
	const char	*sp;

	a->id = 0;
	a->has_id = a->error = a->panic = a->outlier = 0;
	a->nejected = 0;
	memset(&a->limits, 0, sizeof(a->limits));
	a->reuse_ms = 0;
	a->reason[0] = '\0';
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field	*f = &m->fields[i];
		struct str		 k = f->key, v = f->value;

		if (util_str_eq(k, "ejected")) {
			if (a->nejected == BREAKER_MAX_ENDPOINTS)
				continue;
			if ((sp = memchr(v.p, ' ', v.n)) == NULL ||
			    breaker_address(a->ejected[a->nejected],
			    sizeof(a->ejected[0]), (struct str){ v.p,
			    (size_t)(sp - v.p) }) == -1 ||
			    msg_str_u64((struct str){ sp + 1,
			    v.n - (size_t)(sp + 1 - v.p) },
			    &a->ejected_ms[a->nejected]) == -1) {
				snprintf(err, errlen, "ejected: want "
				    "ADDR:PORT MS");
				return -1;
			}
			a->nejected++;
		} else if (!a->has_id && util_str_eq(k, "id")) {
			if (msg_str_u64(v, &a->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
			a->has_id = 1;
		} else if (util_str_eq(k, "status")) {
			a->error = util_str_eq(v, "error");
		} else if (util_str_eq(k, "panic")) {
			a->panic = util_str_eq(v, "yes");
		} else if (util_str_eq(k, "outlier")) {
			a->outlier = util_str_eq(v, "yes");
		} else if (!seen_limits && util_str_eq(k, "limits")) {
			seen_limits = 1;
			if (breaker_limits_read(v, &a->limits) == -1) {
				snprintf(err, errlen, "limits: want KEY=N "
				    "words");
				return -1;
			}
		} else if (!seen_reuse && util_str_eq(k, "reuse")) {
			seen_reuse = 1;
			if (msg_str_u64(v, &a->reuse_ms) == -1) {
				snprintf(err, errlen, "reuse: not a number");
				return -1;
			}
		} else if (a->reason[0] == '\0' && util_str_eq(k, "reason"))
			snprintf(a->reason, sizeof(a->reason), "%.*s",
			    (int)(v.n > sizeof(a->reason) - 1 ?
			    sizeof(a->reason) - 1 : v.n), v.p);
	}
	return 0;
}

static const char *
breaker_result_name(enum breaker_result r)
{
	switch (r) {
	case BREAKER_RESULT_CONNECT_FAILURE:
		return "connect-failure";
	case BREAKER_RESULT_RESET:
		return "reset";
	case BREAKER_RESULT_TIMEOUT:
		return "timeout";
	default:
		return NULL;
	}
}

void
breaker_result_write(struct msg_writer *w, const char *service,
    const char *subset, uint32_t port, const char *endpoint,
    enum breaker_result r, uint32_t status, uint64_t time_ms)
{
	const char	*name = breaker_result_name(r);

	msgw_record(w);
	msgw_field(w, "service", breaker_cstr(service));
	if (subset != NULL && subset[0] != '\0')
		msgw_field(w, "subset", breaker_cstr(subset));
	if (port != 0)
		msgw_field_u64(w, "port", port);
	msgw_field(w, "endpoint", breaker_cstr(endpoint));
	if (name != NULL)
		msgw_field(w, "result", breaker_cstr(name));
	else
		msgw_field_u64(w, "result", status);
	if (time_ms != 0)
		msgw_field_u64(w, "time-ms", time_ms);
}

int
breaker_event_read(const struct msg *m, struct breaker_event *ev, char *err,
    size_t errlen)
{
	const struct msg_block	*b;
	struct str		 v;
	uint64_t		 u;
	int			 seen = 0;
	size_t			 i;

	memset(ev, 0, sizeof(*ev));
	if (!msg_type_is(m, "breaker-event") || m->nrecords != 1) {
		snprintf(err, errlen, "want a breaker-event with one record");
		return -1;
	}
	b = &m->records[0];
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field *f = &m->fields[i];

		if (breaker_common_field(f->key, f->value, ev->service,
		    sizeof(ev->service), ev->subset, sizeof(ev->subset),
		    &ev->port, err, errlen, &seen) == -1)
			return -1;
	}
	if (ev->service[0] == '\0') {
		snprintf(err, errlen, "service: missing");
		return -1;
	}
	if (breaker_address(ev->endpoint, sizeof(ev->endpoint),
	    msg_get(m, b, "endpoint")) == -1) {
		snprintf(err, errlen, "endpoint: want a numeric ADDR:PORT");
		return -1;
	}
	v = msg_get(m, b, "event");
	if (util_str_eq(v, "eject"))
		ev->kind = BREAKER_EVENT_EJECT;
	else if (util_str_eq(v, "return"))
		ev->kind = BREAKER_EVENT_RETURN;
	else {
		snprintf(err, errlen, "event: want eject or return");
		return -1;
	}
	if (msg_get_u64(m, b, "ejection-ms", &u) == 0)
		ev->ejection_ms = u;
	if (msg_get_u64(m, b, "ejections", &u) == 0 && u <= UINT32_MAX)
		ev->ejections = (uint32_t)u;
	if (msg_get_u64(m, b, "time-ms", &u) == 0)
		ev->time_ms = u;
	v = msg_get(m, b, "reason");
	if (v.p != NULL)
		snprintf(ev->reason, sizeof(ev->reason), "%.*s",
		    (int)(v.n > sizeof(ev->reason) - 1 ?
		    sizeof(ev->reason) - 1 : v.n), v.p);
	return 0;
}
