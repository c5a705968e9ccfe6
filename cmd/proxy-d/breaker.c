/* SPDX-License-Identifier: ISC */
/*
 * breaker-d's side of a request, kept per cluster (service, subset,
 * port of route-d's answer): its last admit answer (limits, ejected
 * endpoints, panic), the upstream requests in flight and the queue of
 * those waiting for one of its connections.  proxy-d never waits on
 * breaker-d: an answer missing or due is asked for in the background
 * and the request goes on without limits meanwhile; breaker-d away
 * means no limits and no ejections (fail open), counted.  Ejections
 * and returns breaker-d publishes apply at once.  Outcomes of every
 * try are pushed to breaker-d, batched per loop turn.  The messages are
 * read and written by lib/breaker_wire.c, breaker-d's own.
 */
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "log.h"
#include "proxy.h"
#include "util.h"

#define CLUSTER_KEY_MAX		360
#define CLUSTER_MAX		4096
#define CLUSTER_IDLE_MS		60000
#define BREAKER_MAX_BATCH	256
#define BREAKER_DEFAULT_REUSE_MS 1000
#define BREAKER_RETRY_MS	500	/* after a failed admit */
#define BREAKER_EJECTION_MS	30000	/* an event that gives no time */

/* proxy-d's three sockets to breaker-d (lib/breaker.h is breaker-d's) */
struct breaker_link {
	struct proxy		*proxy;
	struct ipc_req		*req;
	struct ipc_push		*push;
	struct ipc_sub		*sub;
	struct breaker_answer	 reply;		/* the one read last */
};

struct ejection {
	struct pool	*pool;
	uint64_t	 until_ms;
};

/* Successes in a row are reported at most this often per endpoint. */
#define REPORT_OK_MS		100

struct cluster {
	struct proxy		*proxy;
	char			*key;
	char			 service[256];
	char			 subset[64];
	uint32_t		 port;
	/* the last admit answer */
	int			 asking;
	int			 answered;	/* limits and panic in force */
	uint64_t		 expires_ms;	/* ask again after */
	uint64_t		 retry_after_ms;
	int			 panic;
	struct breaker_limits	 limits;
	struct ejection		*ejected;
	size_t			 nejected;
	size_t			 capejected;
	/* its requests */
	uint64_t		 active;	/* upstream requests going */
	uint64_t		 retries;	/* retries in flight */
	uint64_t		 holds;		/* sessions attached */
	TAILQ_HEAD(, session)	 queue;
	size_t			 nqueue;
	struct event		*wake_ev;
	uint64_t		 last_used_ms;
};

static int	breaker_read(void *, const struct msg *,
		    const struct msg_block *, uint64_t *, int *, char *,
		    size_t);
static void	breaker_answer(void *, void *);
static void	breaker_fail(void *, void *, const char *);
static void	breaker_connected(void *, int);
static void	breaker_event(void *, const struct msg *);
static struct cluster *cluster_get(struct proxy *, const char *,
		    const char *, uint32_t);
static void	cluster_free(struct cluster *);
static void	cluster_ask(struct proxy *, struct cluster *,
		    const struct route_entry *);
static void	cluster_wake(struct cluster *);
static void	cluster_wake_cb(evutil_socket_t, short, void *);
static int	cluster_limited(const struct cluster *, unsigned);
static void	cluster_eject(struct cluster *, struct pool *, uint64_t);
static void	cluster_unject(struct cluster *, struct pool *);
static int	cluster_admit(struct cluster *, struct session *);
static enum stage_result cluster_start(struct session *);
static void	cluster_cancel(struct session *);

const struct stage stage_cluster = {
	.name = "cluster",
	.start = cluster_start,
	.cancel = cluster_cancel,
};

static const struct ipc_req_ops breaker_ops = {
	.daemon = "breaker-d",
	.type = "admit",
	.reply = "admit-reply",
	.read = breaker_read,
	.answer = breaker_answer,
	.fail = breaker_fail,
	.connected = breaker_connected,
};

/*
 * The clients follow the config: made when breaker-d is first
 * configured, remade when an address changes.
 */
void
breaker_configure(struct proxy *p, const struct proxy_config *pc)
{
	const struct proxy_daemon *d = &pc->breaker;
	struct breaker_link	*b = p->breaker;

	if (!d->enabled)
		return;
	if (b == NULL) {
		b = p->breaker = xcalloc(1, sizeof(*b));
		b->proxy = p;
	}
	if (b->req != NULL &&
	    strcmp(ipc_req_address(b->req), d->address) != 0) {
		ipc_req_free(b->req);
		b->req = NULL;
	}
	if (b->req == NULL)
		b->req = ipc_req_new(p, &breaker_ops, b, d->address,
		    d->timeout_ms, BREAKER_MAX_BATCH);
	else
		ipc_req_set_timeout(b->req, d->timeout_ms);
	if (b->push != NULL && strcmp(ipc_push_address(b->push),
	    d->reports) != 0) {
		ipc_push_free(b->push);
		b->push = NULL;
	}
	if (b->push == NULL)
		b->push = ipc_push_new(p, "breaker-d reports", "report",
		    d->reports);
	if (b->sub != NULL && strcmp(ipc_sub_address(b->sub), d->events) != 0) {
		ipc_sub_free(b->sub);
		b->sub = NULL;
	}
	if (b->sub == NULL)
		b->sub = ipc_sub_new(p, "breaker-d events", d->events,
		    breaker_event, b);
}

static struct cluster *
cluster_get(struct proxy *p, const char *service, const char *subset,
    uint32_t port)
{
	struct cluster	*c;
	char		 key[CLUSTER_KEY_MAX];
	int		 n;

	n = snprintf(key, sizeof(key), "%s|%s|%u", service, subset, port);
	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	if ((c = strmap_get(&p->clusters, key, (size_t)n)) != NULL)
		return c;
	if (p->clusters.n >= CLUSTER_MAX)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->proxy = p;
	c->key = xstrndup(key, (size_t)n);
	util_strlcpy(c->service, service, sizeof(c->service));
	util_strlcpy(c->subset, subset, sizeof(c->subset));
	c->port = port;
	TAILQ_INIT(&c->queue);
	c->wake_ev = event_new(p->base, -1, 0, cluster_wake_cb, c);
	strmap_put(&p->clusters, c->key, (size_t)n, c);
	return c;
}

static void
cluster_free(struct cluster *c)
{
	event_free(c->wake_ev);
	free(c->ejected);
	free(c->key);
	free(c);
}

/*
 * The cluster of a route answer, or NULL when breaker-d is not in use
 * (or the answer names no service).  Asks breaker-d in the background
 * when its answer for the cluster is missing or due.
 */
struct cluster *
cluster_for(struct proxy *p, const struct route_entry *e)
{
	struct cluster	*c;
	uint64_t	 now;

	if (p->breaker == NULL || !p->gen->pc->breaker.enabled ||
	    e->service[0] == '\0')
		return NULL;
	if ((c = cluster_get(p, e->service, e->subset, e->port)) == NULL)
		return NULL;
	now = util_now_ms();
	c->last_used_ms = now;
	if (!c->asking && now >= c->expires_ms && now >= c->retry_after_ms)
		cluster_ask(p, c, e);
	return c;
}

static void
cluster_ask(struct proxy *p, struct cluster *c, const struct route_entry *e)
{
	struct msg_writer	*w;
	size_t			 i;

	if ((w = ipc_req_begin(p->breaker->req, p->gen->pc)) == NULL) {
		breaker_fail(p->breaker, c, "breaker-d unavailable");
		return;
	}
	msgw_field(w, "service", (struct str){ c->service,
	    strlen(c->service) });
	if (c->subset[0] != '\0')
		msgw_field(w, "subset", (struct str){ c->subset,
		    strlen(c->subset) });
	if (c->port != 0)
		msgw_field_u64(w, "port", c->port);
	for (i = 0; i < e->npools; i++)
		msgw_field(w, "endpoint", (struct str){ e->pools[i]->name,
		    strlen(e->pools[i]->name) });
	if (ipc_req_end(p->breaker->req, c) == -1) {
		breaker_fail(p->breaker, c, "admit question too large");
		return;
	}
	c->asking = 1;
	p->breaker_questions++;
}

static int
breaker_read(void *arg, const struct msg *m, const struct msg_block *blk,
    uint64_t *id, int *has_id, char *err, size_t errlen)
{
	struct breaker_link	*b = arg;

	if (breaker_answer_read(m, blk, &b->reply, err, errlen) == -1)
		return -1;
	*id = b->reply.id;
	*has_id = b->reply.has_id;
	return 0;
}

static void
breaker_answer(void *arg, void *item)
{
	struct breaker_link	*b = arg;
	struct cluster		*c = item;
	const struct breaker_answer *r = &b->reply;
	uint64_t		 now = util_now_ms();
	size_t			 i;

	c->asking = 0;
	if (r->error) {
		breaker_fail(b, c, "breaker-d could not decide");
		return;
	}
	c->answered = 1;
	c->panic = r->panic;
	c->limits = r->limits;
	c->expires_ms = now + (r->reuse_ms > 0 ? r->reuse_ms :
	    BREAKER_DEFAULT_REUSE_MS);
	c->nejected = 0;
	for (i = 0; i < r->nejected; i++) {
		struct pool *pool;

		if ((pool = pool_get(b->proxy, r->ejected[i])) != NULL)
			cluster_eject(c, pool, now + r->ejected_ms[i]);
	}
	/* the limits may let more in now */
	cluster_wake(c);
}

/*
 * No answer: fail open (no limits), and ask again a little later.
 * Ejections stay for the time they were given: breaker-d's events may
 * still come while its admit is slow; when breaker-d goes away
 * altogether they go too (breaker_connected).
 */
static void
breaker_fail(void *arg, void *item, const char *reason)
{
	struct breaker_link	*b = arg;
	struct cluster	*c = item;

	c->asking = 0;
	b->proxy->breaker_failures++;
	if (c->answered)
		log_debug("%s: %s; no limits for %s", c->key, reason,
		    c->service);
	c->answered = 0;
	c->panic = 0;
	c->retry_after_ms = util_now_ms() + BREAKER_RETRY_MS;
	cluster_wake(c);
}

/* breaker-d went away: nothing of its holds any more (fail open). */
static void
breaker_connected(void *arg, int up)
{
	struct breaker_link	*b = arg;
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	while (strmap_next(&b->proxy->clusters, &pos, &key, &value)) {
		struct cluster *c = value;

		if (up) {
			c->retry_after_ms = 0;	/* ask at the next use */
			continue;
		}
		c->answered = 0;
		c->panic = 0;
		c->nejected = 0;
		c->expires_ms = 0;
		cluster_wake(c);
	}
}

static void
cluster_eject(struct cluster *c, struct pool *pool, uint64_t until)
{
	size_t	 i;

	for (i = 0; i < c->nejected; i++)
		if (c->ejected[i].pool == pool) {
			c->ejected[i].until_ms = until;
			return;
		}
	if (c->nejected == c->capejected) {
		c->capejected = c->capejected ? c->capejected * 2 : 4;
		c->ejected = xreallocarray(c->ejected, c->capejected,
		    sizeof(*c->ejected));
	}
	c->ejected[c->nejected].pool = pool;
	c->ejected[c->nejected].until_ms = until;
	c->nejected++;
}

static void
cluster_unject(struct cluster *c, struct pool *pool)
{
	size_t	 i;

	for (i = 0; i < c->nejected; i++)
		if (c->ejected[i].pool == pool) {
			c->ejected[i] = c->ejected[--c->nejected];
			return;
		}
}

/*
 * A breaker-event: an endpoint ejected or returned, at once; the
 * cluster's admit answer is asked again at its next use.
 */
static void
breaker_event(void *arg, const struct msg *m)
{
	struct breaker_link	*b = arg;
	struct proxy		*p = b->proxy;
	struct breaker_event	 ev;
	struct cluster		*c;
	struct pool		*pool;
	char			 err[160];

	if (breaker_event_read(m, &ev, err, sizeof(err)) == -1) {
		log_warnx("breaker-d event: %s", err);
		return;
	}
	p->breaker_events++;
	log_info("breaker-d: %s %s of %s%s%s port %u (%llu ms, ejection %u)"
	    "%s%s", ev.kind == BREAKER_EVENT_EJECT ? "ejects" : "returns",
	    ev.endpoint, ev.service, ev.subset[0] ? " subset " : "",
	    ev.subset, ev.port, (unsigned long long)ev.ejection_ms,
	    ev.ejections, ev.reason[0] ? ": " : "", ev.reason);
	if ((c = cluster_get(p, ev.service, ev.subset, ev.port)) == NULL ||
	    (pool = pool_get(p, ev.endpoint)) == NULL)
		return;
	if (ev.kind == BREAKER_EVENT_EJECT)
		cluster_eject(c, pool, util_now_ms() + (ev.ejection_ms > 0 ?
		    ev.ejection_ms : BREAKER_EJECTION_MS));
	else
		cluster_unject(c, pool);
	c->expires_ms = 0;
}

/* Is this endpoint ejected (and the cluster not in panic)? */
int
cluster_skip(struct cluster *c, struct pool *pool)
{
	size_t	 i;

	if (c == NULL || c->nejected == 0 || c->panic)
		return 0;
	for (i = 0; i < c->nejected; i++)
		if (c->ejected[i].pool == pool)
			return util_now_ms() < c->ejected[i].until_ms;
	return 0;
}

/*
 * An endpoint of the answer that is not ejected, in the answer's
 * load-balancing order; NULL when every one is.
 */
struct pool *
cluster_pick(struct proxy *p, struct cluster *c, struct route_entry *e)
{
	struct pool	*pool;
	size_t		 i;

	for (i = 0; i < e->npools + 1; i++) {
		if ((pool = routing_pick(e)) == NULL)
			return NULL;
		if (!cluster_skip(c, pool))
			return pool;
		p->breaker_skipped++;
	}
	/* the picks may repeat (random): look at each once */
	for (i = 0; i < e->npools; i++)
		if (!cluster_skip(c, e->pools[i]))
			return e->pools[i];
	return NULL;
}

static int
cluster_limited(const struct cluster *c, unsigned which)
{
	return c != NULL && c->answered && (c->limits.set & which);
}

/*
 * The request's cluster (NULL: none), held until cluster_done; route
 * answers may go while the request waits (a fault's delay, a queue).
 */
void
cluster_attach(struct session *s, struct cluster *c)
{
	if (s->cluster == c)
		return;
	cluster_done(s->cluster, s);
	s->cluster = c;
	s->cluster_use = CLUSTER_HELD;
	s->cluster_retries = 0;
	if (c != NULL)
		c->holds++;
}

/*
 * The stage: an endpoint to try, and the cluster's connection-pool
 * limits let the request go now, or it waits in the cluster's queue, or
 * it is over them (503 UO).
 */
static enum stage_result
cluster_start(struct session *s)
{
	const struct policy	*pol = s->policy;

	if (s->ncands == 0) {
		session_error(s, 503, "UH", "no healthy upstream for %.*s",
		    (int)s->req.authority.n, s->req.authority.p);
		return STAGE_STOP;
	}
	switch (cluster_admit(s->cluster, s)) {
	case -1:
		session_error(s, 503, "UO", "%.*s: upstream connection pool "
		    "full", (int)s->req.authority.n, s->req.authority.p);
		return STAGE_STOP;
	case 0:
		/* the route timeout counts the wait, as Envoy's does */
		if (pol != NULL && pol->timeout_ms > 0 && s->req_body_done &&
		    s->deadline_ms == 0) {
			s->deadline_ms = util_now_ms() + pol->timeout_ms;
			session_timer_rearm(s);
		}
		return STAGE_WAIT;
	}
	return STAGE_NEXT;
}

static void
cluster_cancel(struct session *s)
{
	cluster_done(s->cluster, s);
}

/*
 * May s use an upstream of its cluster now?  1: yes (counted in flight
 * until cluster_done); 0: queued, stage_done comes later; -1: over the
 * limits, answer 503 (UO).
 */
static int
cluster_admit(struct cluster *c, struct session *s)
{
	if (c == NULL || s->cluster != c)
		return 1;
	if (s->cluster_use != CLUSTER_HELD)
		return s->cluster_use == CLUSTER_ADMITTED ? 1 : 0;
	c->last_used_ms = util_now_ms();
	/* no connection at all allowed: nothing queued could ever go */
	if (cluster_limited(c, BREAKER_LIMIT_CONNECTIONS) &&
	    c->limits.max_connections == 0) {
		c->proxy->breaker_overflows++;
		return -1;
	}
	if (cluster_limited(c, BREAKER_LIMIT_CONNECTIONS) &&
	    c->active >= c->limits.max_connections) {
		if (cluster_limited(c, BREAKER_LIMIT_PENDING) &&
		    c->nqueue >= c->limits.max_pending) {
			c->proxy->breaker_overflows++;
			return -1;
		}
		s->cluster_use = CLUSTER_QUEUED;
		TAILQ_INSERT_TAIL(&c->queue, s, cluster_entry);
		c->nqueue++;
		c->proxy->breaker_queued++;
		return 0;
	}
	s->cluster_use = CLUSTER_ADMITTED;
	c->active++;
	return 1;
}

/*
 * The request is done with its cluster: out of its queue or its
 * requests in flight (the next in the queue may go), its retries no
 * longer counted, its hold released.
 */
void
cluster_done(struct cluster *c, struct session *s)
{
	if (c == NULL || s->cluster != c)
		return;
	if (s->cluster_use == CLUSTER_QUEUED) {
		TAILQ_REMOVE(&c->queue, s, cluster_entry);
		c->nqueue--;
	} else if (s->cluster_use == CLUSTER_ADMITTED && c->active > 0) {
		c->active--;
		cluster_wake(c);
	}
	c->retries -= s->cluster_retries < c->retries ? s->cluster_retries :
	    c->retries;
	c->holds--;
	s->cluster = NULL;
	s->cluster_use = CLUSTER_HELD;
	s->cluster_retries = 0;
}

/* Let the queue move, from the loop: never inside a caller's path. */
static void
cluster_wake(struct cluster *c)
{
	if (c->nqueue > 0)
		event_active(c->wake_ev, EV_TIMEOUT, 0);
}

static void
cluster_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster	*c = arg;
	struct session	*s;

	while ((s = TAILQ_FIRST(&c->queue)) != NULL &&
	    (!cluster_limited(c, BREAKER_LIMIT_CONNECTIONS) ||
	    c->active < c->limits.max_connections)) {
		TAILQ_REMOVE(&c->queue, s, cluster_entry);
		c->nqueue--;
		s->cluster_use = CLUSTER_ADMITTED;
		c->active++;
		stage_done(s, STAGE_NEXT);
	}
}

/* Has this connection served all the requests it may? */
int
cluster_conn_spent(const struct cluster *c, const struct upstream *u)
{
	return cluster_limited(c, BREAKER_LIMIT_PER_CONNECTION) &&
	    c->limits.max_requests_per_connection > 0 &&
	    u->requests >= c->limits.max_requests_per_connection;
}

/*
 * May one more retry of s start (max-retries: retries of the cluster in
 * flight at once)?  If so it counts until cluster_retry_done or
 * cluster_done.
 */
int
cluster_retry_ok(struct cluster *c, struct session *s)
{
	if (c == NULL || s->cluster != c)
		return 1;
	if (cluster_limited(c, BREAKER_LIMIT_RETRIES) &&
	    c->retries >= c->limits.max_retries) {
		c->proxy->breaker_overflows++;
		return 0;
	}
	c->retries++;
	s->cluster_retries++;
	return 1;
}

void
cluster_retry_done(struct cluster *c, struct session *s)
{
	if (c != NULL && s->cluster == c && s->cluster_retries > 0) {
		s->cluster_retries--;
		c->retries--;
	}
}

uint64_t
cluster_connect_timeout(const struct cluster *c, uint64_t dflt)
{
	return cluster_limited(c, BREAKER_LIMIT_CONNECT_TIMEOUT) &&
	    c->limits.connect_timeout_ms > 0 ? c->limits.connect_timeout_ms :
	    dflt;
}

uint64_t
cluster_idle_timeout(const struct cluster *c, uint64_t dflt)
{
	return cluster_limited(c, BREAKER_LIMIT_IDLE_TIMEOUT) &&
	    c->limits.idle_timeout_ms > 0 ? c->limits.idle_timeout_ms : dflt;
}

/*
 * The outcome of one try, for breaker-d's outlier detection: a status
 * code, or connect-failure, reset, timeout.  Never waits.
 */
void
cluster_report(struct proxy *p, struct cluster *c, struct pool *pool,
    const char *result)
{
	struct msg_writer	*w;
	enum breaker_result	 r;
	uint32_t		 status;

	uint64_t		 now;
	int			 failed;

	if (c == NULL || result == NULL || p->breaker == NULL ||
	    p->breaker->push == NULL || breaker_result_read((struct str){
	    result, strlen(result) }, &r, &status) == -1)
		return;
	/*
	 * A success only resets breaker-d's consecutive counts, which the
	 * first success after a failure has done already: further ones are
	 * reported at most every REPORT_OK_MS per endpoint, so a healthy
	 * service costs next to no reports.  Failures always go.
	 */
	now = util_now_ms();
	failed = r != BREAKER_RESULT_STATUS || status >= 500;
	if (!failed && pool->rep_cluster == c && !pool->rep_failed &&
	    now < pool->rep_ok_ms + REPORT_OK_MS) {
		p->reports_folded++;
		return;
	}
	if ((w = ipc_push_begin(p->breaker->push, p->gen->pc)) == NULL)
		return;
	pool->rep_cluster = c;
	pool->rep_failed = failed;
	if (!failed)
		pool->rep_ok_ms = now;
	breaker_result_write(w, c->service, c->subset, c->port, pool->name,
	    r, status, now);
	ipc_push_end(p->breaker->push);
}

/* Reports pushed, and dropped while breaker-d was away. */
void
breaker_reports(const struct proxy *p, uint64_t *sent, uint64_t *dropped)
{
	*sent = *dropped = 0;
	if (p->breaker != NULL && p->breaker->push != NULL)
		ipc_push_counters(p->breaker->push, sent, dropped);
}

/* Forget clusters nobody used for a while, and ejections past. */
void
breaker_sweep(struct proxy *p, uint64_t now)
{
	size_t		 pos = 0, i;
	const char	*key;
	void		*value;

	while (strmap_next(&p->clusters, &pos, &key, &value)) {
		struct cluster *c = value;

		for (i = 0; i < c->nejected; )
			if (now >= c->ejected[i].until_ms)
				c->ejected[i] = c->ejected[--c->nejected];
			else
				i++;
		if (c->asking || c->holds > 0 || c->active > 0 ||
		    c->nqueue > 0 || c->nejected > 0 ||
		    now < c->last_used_ms + CLUSTER_IDLE_MS)
			continue;
		strmap_del(&p->clusters, c->key, strlen(c->key));
		cluster_free(c);
	}
}

void
breaker_fini(struct proxy *p)
{
	struct breaker_link	*b = p->breaker;
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	if (b != NULL) {
		if (b->req != NULL)
			ipc_req_free(b->req);
		if (b->push != NULL)
			ipc_push_free(b->push);
		if (b->sub != NULL)
			ipc_sub_free(b->sub);
		free(b);
		p->breaker = NULL;
	}
	while (strmap_next(&p->clusters, &pos, &key, &value))
		cluster_free(value);
	strmap_fini(&p->clusters);
}
