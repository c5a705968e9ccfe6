/* SPDX-License-Identifier: ISC */
/*
 * proxy-d's side of observability: the stage hooks (stage.h) that start
 * or continue each request's trace and put its context on the upstream
 * head, and hand one record per request (meshkit-ipc(7) records) to
 * stats-d, batched per turn of the event loop on a PUSH socket that is
 * never waited on.  stats-d away or slow: the batch is dropped and its
 * records counted (records-dropped), and no request notices.
 *
 * What applies to this workload (sampling, the headers its access logs
 * print) is resolved from the config once per generation: per request
 * there is a context read, two random ids, a few header operations and
 * one record written.
 *
 * Who is on the other end: an outbound request's destination workload
 * is the WorkloadEntry at the endpoint that answered; an inbound
 * request's source is what its caller's proxy-d said in
 * x-meshkit-source ("workload=W,namespace=N,app=A,version=V"), taken
 * off before the application sees the request.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "accesslog.h"
#include "config.h"
#include "log.h"
#include "logfilter.h"
#include "msg.h"
#include "proxy.h"
#include "spiffe.h"
#include "record.h"
#include "stage.h"
#include "strmap.h"
#include "telemetry.h"
#include "trace.h"
#include "util.h"

#define OBSERVE_SOURCE_HEADER	"x-meshkit-source"
#define OBSERVE_MAX_CAPTURE	RECORD_MAX_HEADERS
#define OBSERVE_COUNTERS_MS	2000	/* counters alone, when idle */
#define OBSERVE_BATCH_MS	50	/* a batch waits this long at most */

/* A workload at an endpoint address, for outbound records. */
struct observe_peer {
	char		*workload;
	char		*namespace;
	char		*app;
	char		*version;
	char		*principal;	/* its SPIFFE ID, or NULL */
};

struct observe {
	struct proxy		*proxy;
	struct ipc_push		*push;
	uint64_t		 generation;
	int			 tracing;
	uint32_t		 sampling_ppm;
	int			 logging;	/* an access log applies */
	unsigned		 fields;	/* RECORD_F_* the logs read */
	char			*self_header;	/* x-meshkit-source's value */
	char			*self_service;	/* inbound records' service */
	char			*self_principal; /* with a certificate */
	uint32_t		 self_port;	/* and its port */
	struct strmap		 peers;		/* "addr:port" -> peer */
	/* the headers stats-d's formats and filters read */
	struct str		 capture[2][OBSERVE_MAX_CAPTURE];
	size_t			 ncapture[2];
	uint64_t		 last_counters_ms;
	/* the wall clock less the monotonic one, renewed once a second */
	uint64_t		 wall_offset_us;
	uint64_t		 counted_dropped;
	struct msg_writer	*writer;	/* of the batch being written */
};

static void	observe_upstream_head(struct session *, struct extra_ops *);
static void	observe_request_done(struct proxy *, const struct session *,
		    const struct request_record *);
static void	observe_trace_start(struct observe *, struct session *);
static void	observe_optional(const struct observe *,
		    const struct session *, const struct request_record *,
		    struct record *);
static void	observe_trace_set(const char *, const char *, void *);
static int	observe_has_context(const struct session *);
static void	observe_wall_offset(struct observe *);
static struct str observe_header(const struct session *, const char *);
static struct str observe_get(const char *, void *);
static void	observe_peers_build(struct observe *, const struct config *);
static void	observe_peers_free(struct observe *);
static void	observe_self(struct observe *, const struct generation *);
static void	observe_capture_add(struct observe *, int, const char *);
static void	observe_capture_cb(void *, int, const char *);
static void	observe_capture_free(struct observe *);
static void	observe_parse_source(struct str, struct record_peer *);
static void	observe_header_fields(struct msg_writer *, void *);
static const char *observe_label(const struct labels *, const char *,
		    const char *);
static uint32_t	observe_port(const struct sockaddr_storage *);
static void	observe_cluster(char *, size_t, const char *, uint32_t,
		    const char *, const char *);

/* The port of an address (the local application's). */
static uint32_t
observe_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* Envoy's cluster name, DIRECTION|port|subset|service, without printf. */
static void
observe_cluster(char *buf, size_t len, const char *dir, uint32_t port,
    const char *subset, const char *service)
{
	char	 digits[20];
	size_t	 n = 0, k;

#define PUT(p, plen) do {						\
	k = (plen);							\
	if (n + k + 1 >= len)						\
		k = len - n - 1;					\
	memcpy(buf + n, (p), k);					\
	n += k;								\
} while (0)
	PUT(dir, strlen(dir));
	PUT(digits, (size_t)(util_put_u64(digits, port) - digits));
	PUT("|", 1);
	PUT(subset, strlen(subset));
	PUT("|", 1);
	PUT(service, strlen(service));
#undef PUT
	buf[n] = '\0';
}

/*
 * Records carry wall-clock times; the request's were taken on the
 * monotonic clock (util_now_us), turned with an offset a sweep renews
 * once a second, so a record costs no clock of its own.
 */
static void
observe_wall_offset(struct observe *o)
{
	struct timespec	 ts;
	uint64_t	 wall;

	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	o->wall_offset_us = wall - util_now_us();
}

static const char *
observe_label(const struct labels *l, const char *a, const char *b)
{
	const char	*v;

	if ((v = labels_get(l, a)) != NULL && v[0] != '\0')
		return v;
	if ((v = labels_get(l, b)) != NULL && v[0] != '\0')
		return v;
	return NULL;
}

static void
observe_peers_free(struct observe *o)
{
	const char		*key;
	void			*v;
	struct observe_peer	*pe;
	size_t			 pos = 0;

	while (strmap_next(&o->peers, &pos, &key, &v)) {
		pe = v;
		free(pe->workload);
		free(pe->namespace);
		free(pe->app);
		free(pe->version);
		free(pe->principal);
		free(pe);
	}
	strmap_fini(&o->peers);
	strmap_init(&o->peers);
}

/* Every WorkloadEntry port, by "address:port". */
static void
observe_peers_build(struct observe *o, const struct config *cfg)
{
	const struct workload_entry	*we;
	struct observe_peer		*pe;
	const char			*v;
	char				 key[128], id[SPIFFE_ID_MAX + 1];
	char				 err[128];
	size_t				 i, j;
	int				 n;

	observe_peers_free(o);
	for (i = 0; i < cfg->nworkload_entries; i++) {
		we = &cfg->workload_entries[i];
		if (we->spec.address == NULL)
			continue;
		for (j = 0; j < we->spec.ports.n; j++) {
			n = snprintf(key, sizeof(key), strchr(we->spec.address,
			    ':') != NULL ? "[%s]:%u" : "%s:%u",
			    we->spec.address, we->spec.ports.numbers[j]);
			if (n < 0 || (size_t)n >= sizeof(key) ||
			    strmap_get(&o->peers, key, (size_t)n) != NULL)
				continue;
			pe = xcalloc(1, sizeof(*pe));
			pe->workload = xstrdup(we->meta.name);
			pe->namespace = xstrdup(we->meta.namespace);
			if ((v = observe_label(&we->spec.labels, "app",
			    "app.kubernetes.io/name")) != NULL)
				pe->app = xstrdup(v);
			if ((v = observe_label(&we->spec.labels, "version",
			    "app.kubernetes.io/version")) != NULL)
				pe->version = xstrdup(v);
			/* as route-d names the identities of a service */
			if (we->spec.service_account != NULL &&
			    we->spec.service_account[0] != '\0' &&
			    spiffe_id_format(id, sizeof(id),
			    config_trust_domain(cfg), we->meta.namespace != NULL ?
			    we->meta.namespace : CONFIG_DEFAULT_NAMESPACE,
			    we->spec.service_account, err, sizeof(err)) == 0)
				pe->principal = xstrdup(id);
			strmap_put(&o->peers, key, (size_t)n, pe);
		}
	}
}

/* Who this workload is, as its callees see it, and its service. */
static void
observe_self(struct observe *o, const struct generation *g)
{
	const struct proxy_config	*pc = g->pc;
	const struct config		*cfg = g->config;
	const struct service_entry	*se;
	const char			*app, *version;
	char				 id[SPIFFE_ID_MAX + 1], err[128];
	size_t				 i, k;

	app = observe_label(&pc->workload_labels, "app",
	    "app.kubernetes.io/name");
	version = observe_label(&pc->workload_labels, "version",
	    "app.kubernetes.io/version");
	free(o->self_header);
	xasprintf(&o->self_header, "workload=%s,namespace=%s%s%s%s%s",
	    pc->workload_name, pc->workload_namespace, app != NULL ?
	    ",app=" : "", app != NULL ? app : "", version != NULL ?
	    ",version=" : "", version != NULL ? version : "");
	/* a value may not forge a line: what cannot go, does not go */
	if (strpbrk(o->self_header, "\r\n") != NULL) {
		free(o->self_header);
		o->self_header = NULL;
	}
	free(o->self_principal);
	o->self_principal = NULL;
	/* the identity tls-d certifies, for the records of mTLS requests */
	if (pc->tls.enabled && spiffe_id_format(id, sizeof(id),
	    config_trust_domain(cfg), pc->workload_namespace,
	    pc->service_account, err, sizeof(err)) == 0)
		o->self_principal = xstrdup(id);
	free(o->self_service);
	o->self_service = NULL;
	o->self_port = 0;
	for (k = 0; cfg != NULL && k < 2 && o->self_service == NULL; k++) {
		size_t n = k == 0 ? cfg->nservice_entries :
		    cfg->nkube_services;

		for (i = 0; i < n; i++) {
			se = k == 0 ? &cfg->service_entries[i] :
			    &cfg->kube_services[i];
			if (se->has_selector && se->selector.n > 0 &&
			    se->nhosts > 0 && labels_match(&se->selector,
			    &pc->workload_labels)) {
				o->self_service = xstrdup(se->hosts[0]);
				o->self_port = se->nports > 0 ?
				    se->ports[0].number : 0;
				break;
			}
		}
	}
}

static void
observe_capture_free(struct observe *o)
{
	size_t	 i, r;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < o->ncapture[r]; i++)
			free((char *)o->capture[r][i].p);
		o->ncapture[r] = 0;
	}
}

static void
observe_capture_cb(void *arg, int response, const char *name)
{
	observe_capture_add(arg, response, name);
}

static void
observe_capture_add(struct observe *o, int response, const char *name)
{
	size_t	 i;

	/* the request id goes with every record anyway */
	if (!ACCESSLOG_HEADER_TAKES(response, name))
		return;
	for (i = 0; i < o->ncapture[response]; i++)
		if (strcmp(o->capture[response][i].p, name) == 0)
			return;
	/* past what a record carries: telemetry_resolve said so */
	if (o->ncapture[response] < (response ?
	    ACCESSLOG_MAX_RESPONSE_HEADERS : ACCESSLOG_MAX_REQUEST_HEADERS))
		o->capture[response][o->ncapture[response]++] = (struct str){
		    xstrdup(name), strlen(name) };
}

void
observe_configure(struct proxy *p, const struct generation *g)
{
	const struct proxy_daemon	*d = &g->pc->stats;
	struct observe			*o = p->observe;
	struct telemetry_effective	 te;

	if (!d->enabled) {
		if (o != NULL)
			observe_fini(p);
		return;
	}
	if (o == NULL) {
		o = p->observe = xcalloc(1, sizeof(*o));
		o->proxy = p;
		strmap_init(&o->peers);
	}
	if (o->push != NULL && strcmp(ipc_push_address(o->push),
	    d->address) != 0) {
		ipc_push_free(o->push);
		o->push = NULL;
	}
	if (o->push == NULL) {
		o->push = ipc_push_new(p, "stats-d", "records", d->address);
		ipc_push_set_header(o->push, observe_header_fields, o);
		ipc_push_set_delay(o->push, OBSERVE_BATCH_MS);
	}
	o->generation = g->number;
	telemetry_resolve(g->config, g->pc->workload_namespace,
	    &g->pc->workload_labels, &te);
	if (te.problem[0] != '\0')
		log_warnx("telemetry: %s", te.problem);
	o->tracing = te.tracing;
	o->sampling_ppm = te.sampling_ppm;
	o->logging = te.nlogs > 0;
	observe_capture_free(o);
	/* the headers and fields its logs and their filters print */
	o->fields = telemetry_log_reads(&te, observe_capture_cb, o);
	/* the spans' tags */
	if (o->tracing) {
		o->fields |= RECORD_F_PROTOCOL;
		observe_capture_add(o, 0, "user-agent");
		observe_capture_add(o, 0, "x-request-id");
	}
	observe_peers_build(o, g->config);
	observe_self(o, g);
	p->hooks.upstream_head = observe_upstream_head;
	p->hooks.request_done = observe_request_done;
}

void
observe_fini(struct proxy *p)
{
	struct observe	*o = p->observe;

	if (o == NULL)
		return;
	p->hooks.upstream_head = NULL;
	p->hooks.request_done = NULL;
	if (o->push != NULL)
		ipc_push_free(o->push);
	observe_peers_free(o);
	strmap_fini(&o->peers);
	observe_capture_free(o);
	free(o->self_header);
	free(o->self_service);
	free(o->self_principal);
	free(o);
	p->observe = NULL;
}

void
observe_counters(const struct proxy *p, uint64_t *sent, uint64_t *dropped)
{
	*sent = *dropped = 0;
	if (p->observe != NULL && p->observe->push != NULL)
		ipc_push_counters(p->observe->push, sent, dropped);
}

/* The batch's header beyond who we are: pid and counters. */
static void
observe_header_fields(struct msg_writer *w, void *arg)
{
	struct observe	*o = arg;
	struct proxy	*p = o->proxy;
	uint64_t	 sent, dropped, bsent, bdropped;

	ipc_push_counters(o->push, &sent, &dropped);
	o->counted_dropped = dropped;
	breaker_reports(p, &bsent, &bdropped);
	msgw_field_u64(w, "pid", (uint64_t)getpid());
	{
		const struct {
			const char	*name;
			uint64_t	 value;
		} c[] = {
			{ "records-sent", sent },
			{ "records-dropped", dropped },
			{ "requests", p->requests },
			{ "retries", p->retries },
			{ "timeouts", p->timeouts },
			{ "route-hits", p->route_hits },
			{ "route-misses", p->route_misses },
			{ "route-failures", p->route_failures },
			{ "authz-questions", p->authz_questions },
			{ "authz-hits", p->authz_hits },
			{ "authz-denied", p->authz_denied },
			{ "breaker-overflows", p->breaker_overflows },
			{ "breaker-reports-dropped", bdropped },
		};

		size_t	i;

		for (i = 0; i < nitems(c); i++)
			msgw_fieldf(w, "counter", "%s %llu", c[i].name,
			    (unsigned long long)c[i].value);
	}
}

/*
 * Once a second: the wall clock's offset, and the counters alone when
 * they changed and no batch went.
 */
void
observe_sweep(struct proxy *p, uint64_t now)
{
	struct observe	*o = p->observe;
	uint64_t	 sent, dropped;

	if (o == NULL || o->push == NULL)
		return;
	observe_wall_offset(o);
	if (now < o->last_counters_ms + OBSERVE_COUNTERS_MS)
		return;
	o->last_counters_ms = now;
	ipc_push_counters(o->push, &sent, &dropped);
	if (dropped != o->counted_dropped)
		ipc_push_empty(o->push, p->gen->pc);
}

static struct str
observe_header(const struct session *s, const char *name)
{
	const struct http_header	*h;

	h = http_header_find(s->req.headers, s->req.nheaders, name);
	return h != NULL ? h->value : STR_NULL;
}

/*
 * trace_context_read's getter: a traceparent sent twice is invalid (W3C
 * 3.2: "more than one traceparent: not valid"), said with an empty one.
 */
static struct str
observe_get(const char *name, void *arg)
{
	const struct session		*s = arg;
	const struct http_header	*h;
	struct str			 v = STR_NULL;
	size_t				 i;

	if (strcmp(name, "traceparent") != 0)
		return observe_header(s, name);
	for (i = 0; i < s->req.nheaders; i++) {
		h = &s->req.headers[i];
		if (!util_str_caseeq(h->name, "traceparent"))
			continue;
		if (v.p != NULL)
			return STR_LIT("");
		v = h->value;
	}
	return v;
}

/*
 * Has the request a trace context header?  One pass over its names: a
 * request without one (most, at the edge) costs no lookups of each.
 */
static int
observe_has_context(const struct session *s)
{
	const struct http_header	*h;
	size_t				 i;

	for (i = 0; i < s->req.nheaders; i++) {
		h = &s->req.headers[i];
		if (h->name.n < 2)
			continue;
		switch (h->name.p[0] | 0x20) {
		case 't':
		case 'b':
		case 'x':
			if (trace_header_is(h->name))
				return 1;
			break;
		}
	}
	return 0;
}

/* This request's trace: continued from its headers, or begun here. */
static void
observe_trace_start(struct observe *o, struct session *s)
{
	struct trace_context	 ctx;

	s->trace_started = 1;
	s->trace_b3 = TRACE_B3_NONE;
	s->trace_debug = 0;
	s->trace_state = 0;
	s->trace_in = 0;
	if (!o->tracing) {
		s->trace_id[0] = '\0';
		return;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.sampled = -1;
	s->trace_in = observe_has_context(s);
	if (s->trace_in && trace_context_read(&ctx, observe_get, s)) {
		memcpy(s->trace_id, ctx.trace_id, sizeof(s->trace_id));
		memcpy(s->parent_span_id, ctx.span_id,
		    sizeof(s->parent_span_id));
	} else {
		/* a decision without ids ("b3: 0") is kept for the new one */
		trace_random_hex(s->trace_id, 16);
		s->parent_span_id[0] = '\0';
	}
	s->trace_b3 = ctx.b3;
	s->trace_state = ctx.keep_state;
	s->trace_debug = ctx.debug;
	s->trace_sampled = ctx.sampled != -1 ? ctx.sampled :
	    trace_sample(o->sampling_ppm);
	trace_random_hex(s->span_id, 8);
}

/* trace_context_write's: each value copied where the head can see it. */
struct observe_trace_out {
	struct session		*session;
	struct extra_ops	*ops;
	size_t			 used;
};

static void
observe_trace_set(const char *name, const char *value, void *arg)
{
	struct observe_trace_out	*out = arg;
	struct session			*s = out->session;
	size_t				 n;
	char				*v;

	if (value == NULL) {
		/* nothing to take off a request that came with none */
		if (s->trace_in)
			extra_ops_add(out->ops, name, strlen(name), NULL, 0,
			    1);
		return;
	}
	n = strlen(value);
	if (out->used + n + 1 > sizeof(s->trace_values))
		return;		/* cannot be: the values are bounded */
	v = s->trace_values + out->used;
	memcpy(v, value, n + 1);
	out->used += n + 1;
	extra_ops_add(out->ops, name, strlen(name), v, n, 0);
}

/* Before each upstream head: the trace context, who we are. */
static void
observe_upstream_head(struct session *s, struct extra_ops *x)
{
	struct observe			*o = s->proxy->observe;
	struct trace_context		 ctx;
	struct observe_trace_out	 out = { s, x, 0 };

	if (o == NULL)
		return;
	if (!s->trace_started)
		observe_trace_start(o, s);
	/* the last try's connection says the record's security policy */
	s->up_mtls = s->up != NULL && s->up->pool->tls != NULL &&
	    s->up->pool->tls->kind == CONN_TLS_MESH &&
	    conn_ssl(s->up->bev) != NULL;
	/* asked of the socket once per connection: connect(2) bound it */
	if (s->up != NULL && (o->fields & RECORD_F_UPSTREAM_LOCAL)) {
		if (s->up->local[0] == '\0')
			socket_local_addr(bufferevent_getfd(s->up->bev),
			    s->up->local, sizeof(s->up->local));
		util_strlcpy(s->up_local, s->up->local, sizeof(s->up_local));
	}

	if (s->inbound)
		extra_ops_add(x, OBSERVE_SOURCE_HEADER,
		    sizeof(OBSERVE_SOURCE_HEADER) - 1, NULL, 0, 1);
	else if (o->self_header != NULL)
		extra_ops_add(x, OBSERVE_SOURCE_HEADER,
		    sizeof(OBSERVE_SOURCE_HEADER) - 1, o->self_header,
		    strlen(o->self_header), 0);
	if (s->trace_id[0] == '\0')
		return;
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.trace_id, s->trace_id, sizeof(ctx.trace_id));
	memcpy(ctx.span_id, s->parent_span_id, sizeof(ctx.span_id));
	ctx.sampled = s->trace_sampled;
	ctx.debug = s->trace_debug;
	ctx.b3 = s->trace_b3;
	ctx.keep_state = s->trace_state;
	trace_context_write(&ctx, s->span_id, observe_trace_set, &out);
}

/* "workload=W,namespace=N,app=A,version=V" */
static void
observe_parse_source(struct str v, struct record_peer *peer)
{
	const char	*p = v.p, *end = v.p + v.n, *comma, *eq;
	struct str	 key, val;

	while (p != NULL && p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if ((eq = memchr(p, '=', (size_t)(comma - p))) != NULL) {
			key = (struct str){ p, (size_t)(eq - p) };
			val = (struct str){ eq + 1, (size_t)(comma - eq - 1) };
			if (val.n == 0)
				;
			else if (util_str_eq(key, "workload"))
				peer->workload = val;
			else if (util_str_eq(key, "namespace"))
				peer->namespace = val;
			else if (util_str_eq(key, "app"))
				peer->app = val;
			else if (util_str_eq(key, "version"))
				peer->version = val;
		}
		p = comma + 1;
	}
}

/*
 * The fields a record carries only when a log format or filter of this
 * workload reads them (o->fields): every byte of a record is written
 * here and parsed again by stats-d, per request.
 */
static void
observe_optional(const struct observe *o, const struct session *s,
    const struct request_record *rec, struct record *r)
{
	unsigned	 f = o->fields;

	if ((f & RECORD_F_UPSTREAM_FAILURE) && s->up_failure[0] != '\0')
		r->upstream_failure = (struct str){ s->up_failure,
		    strlen(s->up_failure) };
	/* a connect that failed had no address of its own to speak of */
	if ((f & RECORD_F_UPSTREAM_LOCAL) && s->up_local[0] != '\0' &&
	    strcmp(s->flags, "UF") != 0)
		r->upstream_local = (struct str){ s->up_local,
		    strlen(s->up_local) };
	if (f & RECORD_F_PROTOCOL)
		r->protocol = s->req.version == 10 ? STR_LIT("HTTP/1.0") :
		    STR_LIT("HTTP/1.1");
	if ((f & RECORD_F_DETAILS) && s->details[0] != '\0')
		r->details = (struct str){ s->details, strlen(s->details) };
	else if ((f & RECORD_F_DETAILS) && s->resp_head_done &&
	    s->up_sent_us != 0)
		r->details = STR_LIT("via_upstream");
	if ((f & RECORD_F_REQUEST_DURATION) && s->req_body_done &&
	    s->start_us != 0) {
		r->has |= RECORD_HAS_REQUEST_DURATION;
		r->request_duration_us = s->req_done_us > s->start_us ?
		    s->req_done_us - s->start_us : 0;
	}
	if ((f & RECORD_F_SNI) && s->peer_sni != NULL)
		r->sni = (struct str){ s->peer_sni, strlen(s->peer_sni) };
	if ((f & RECORD_F_ROUTE) && rec->inbound)
		r->route_name = STR_LIT("default");
	else if ((f & RECORD_F_ROUTE) && s->policy != NULL &&
	    s->policy->p.route_name[0] != '\0')
		r->route_name = (struct str){ s->policy->p.route_name,
		    strlen(s->policy->p.route_name) };
}

/* The request is over: its record goes to stats-d. */
static void
observe_request_done(struct proxy *p, const struct session *s,
    const struct request_record *rec)
{
	struct observe			*o = p->observe;
	struct msg_writer		*w;
	struct record			 r;
	const struct observe_peer	*pe;
	const struct http_header	*h;
	struct str			 v;
	char				 cluster[400];
	const char			*local;
	uint64_t			 now_us = util_now_us();
	size_t				 i;

	if (o == NULL || o->push == NULL)
		return;
	if (!s->trace_started)
		observe_trace_start(o, (struct session *)s);
	if ((w = ipc_push_begin(o->push, p->gen->pc)) == NULL)
		return;		/* stats-d away: dropped, counted */
	record_clear(&r);
	r.reporter = rec->inbound ? RECORD_DESTINATION : RECORD_SOURCE;
	if (o->wall_offset_us == 0)
		observe_wall_offset(o);
	r.duration_us = now_us > s->start_us ? now_us - s->start_us : 0;
	r.start_us = s->start_us + o->wall_offset_us;
	r.has = RECORD_HAS_REQUEST_HEAD | RECORD_HAS_RESPONSE_HEAD |
	    RECORD_HAS_REQUEST_BYTES | RECORD_HAS_RESPONSE_BYTES |
	    RECORD_HAS_ATTEMPTS;
	r.request_head_bytes = s->headlen;
	r.request_bytes = rec->bytes_in > s->headlen ? rec->bytes_in -
	    s->headlen : 0;
	r.response_head_bytes = s->resp_head_bytes;
	r.response_bytes = rec->bytes_out > s->resp_head_bytes ?
	    rec->bytes_out - s->resp_head_bytes : 0;
	r.attempts = rec->tries;
	if (s->resp_head_us != 0 && s->resp_head_us >= s->start_us) {
		r.has |= RECORD_HAS_RESPONSE_START;
		r.response_start_us = s->resp_head_us - s->start_us;
		if (s->up_sent_us != 0 && s->resp_head_us >= s->up_sent_us) {
			r.has |= RECORD_HAS_UPSTREAM;
			r.upstream_us = s->resp_head_us - s->up_sent_us;
		}
	}
	r.code = rec->status > 0 ? (uint32_t)rec->status : 0;
	if (rec->flags != NULL && rec->flags[0] != '\0')
		r.flags = (struct str){ rec->flags, strlen(rec->flags) };
	r.method = (struct str){ rec->method, rec->method_len };
	r.path = (struct str){ rec->path, rec->path_len };
	r.authority = (struct str){ rec->authority, rec->authority_len };
	if (r.method.n == 0)
		r.method.p = NULL;
	if (r.authority.n == 0)
		r.authority.p = NULL;
	if (!rec->inbound && rec->service != NULL && rec->service[0] != '\0')
		r.service = (struct str){ rec->service, strlen(rec->service) };
	else if (rec->inbound && o->self_service != NULL)
		r.service = (struct str){ o->self_service,
		    strlen(o->self_service) };
	else
		r.service = r.authority;
	if (rec->port != 0) {
		r.has |= RECORD_HAS_PORT;
		r.port = rec->port;
	} else if (rec->inbound && o->self_port != 0) {
		r.has |= RECORD_HAS_PORT;
		r.port = o->self_port;
	}
	if (rec->inbound) {
		r.security = rec->peer_identity[0] != '\0' ?
		    STR_LIT("mutual_tls") : STR_LIT("none");
		if (rec->peer_identity[0] != '\0') {
			r.source.principal = (struct str){ rec->peer_identity,
			    strlen(rec->peer_identity) };
			if (o->self_principal != NULL)
				r.destination.principal = (struct str){
				    o->self_principal,
				    strlen(o->self_principal) };
		}
		if ((v = observe_header(s, OBSERVE_SOURCE_HEADER)).p != NULL)
			observe_parse_source(v, &r.source);
		/* Istio's inbound cluster names the workload's own port */
		observe_cluster(cluster, sizeof(cluster), "inbound|",
		    s->forward != NULL ? observe_port(&s->forward->addr) :
		    r.port, "", "");
	} else {
		pe = rec->endpoint[0] != '\0' ? strmap_get(&o->peers,
		    rec->endpoint, strlen(rec->endpoint)) : NULL;
		if (s->up_sent_us != 0) {
			r.security = s->up_mtls ? STR_LIT("mutual_tls") :
			    STR_LIT("none");
			if (s->up_mtls && o->self_principal != NULL)
				r.source.principal = (struct str){
				    o->self_principal,
				    strlen(o->self_principal) };
			if (s->up_mtls && s->up_principal[0] != '\0')
				r.destination.principal = (struct str){
				    s->up_principal, strlen(s->up_principal) };
			else if (s->up_mtls && pe != NULL &&
			    pe->principal != NULL)
				r.destination.principal = (struct str){
				    pe->principal, strlen(pe->principal) };
		}
		if (pe != NULL) {
			r.destination.workload = (struct str){ pe->workload,
			    strlen(pe->workload) };
			r.destination.namespace = (struct str){ pe->namespace,
			    strlen(pe->namespace) };
			if (pe->app != NULL)
				r.destination.app = (struct str){ pe->app,
				    strlen(pe->app) };
			if (pe->version != NULL)
				r.destination.version = (struct str){
				    pe->version, strlen(pe->version) };
		}
		observe_cluster(cluster, sizeof(cluster), "outbound|",
		    rec->port, rec->subset, rec->service);
	}
	if (rec->service[0] != '\0' || rec->inbound)
		r.upstream_cluster = (struct str){ cluster, strlen(cluster) };
	if (rec->endpoint[0] != '\0')
		r.upstream_host = (struct str){ rec->endpoint,
		    strlen(rec->endpoint) };
	r.downstream_remote = (struct str){ rec->client, strlen(rec->client) };
	local = session_local_addr((struct session *)s);
	if (local[0] != '\0')
		r.downstream_local = (struct str){ local, strlen(local) };
	/* Envoy logs the path it sent, and the one that came beside it */
	if (!rec->inbound && s->policy != NULL &&
	    s->policy->p.rewrite_path[0] != '\0' && s->up_sent_us != 0) {
		if (o->fields & RECORD_F_ORIGINAL_PATH)
			r.original_path = r.path;
		r.path = (struct str){ s->policy->p.rewrite_path,
		    strlen(s->policy->p.rewrite_path) };
	}
	if (o->fields != 0)
		observe_optional(o, s, rec, &r);
	if (s->trace_id[0] != '\0') {
		r.trace_id = (struct str){ s->trace_id, 32 };
		r.span_id = (struct str){ s->span_id, 16 };
		if (s->parent_span_id[0] != '\0')
			r.parent_span_id = (struct str){ s->parent_span_id,
			    16 };
		r.has |= RECORD_HAS_SAMPLED;
		r.sampled = s->trace_sampled;
	}
	/* the request id stats-d's logs and spans print */
	if (rec->request_id_len > 0) {
		r.request_headers[r.nrequest_headers].name =
		    STR_LIT("x-request-id");
		r.request_headers[r.nrequest_headers++].value =
		    (struct str){ rec->request_id, rec->request_id_len };
	}
	for (i = 0; i < o->ncapture[0] && r.nrequest_headers <
	    RECORD_MAX_HEADERS; i++) {
		if ((h = http_header_find(s->req.headers, s->req.nheaders,
		    o->capture[0][i].p)) == NULL)
			continue;
		r.request_headers[r.nrequest_headers].name = o->capture[0][i];
		r.request_headers[r.nrequest_headers++].value = h->value;
	}
	for (i = 0; s->resp_head_done && i < o->ncapture[1] &&
	    r.nresponse_headers < RECORD_MAX_HEADERS; i++) {
		if ((h = http_header_find(s->resp_headers, s->resp.nheaders,
		    o->capture[1][i].p)) == NULL)
			continue;
		r.response_headers[r.nresponse_headers].name = o->capture[1][i];
		r.response_headers[r.nresponse_headers++].value = h->value;
	}
	record_write(w, &r);
	ipc_push_end(o->push);
}
