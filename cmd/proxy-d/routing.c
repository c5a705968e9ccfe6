/* SPDX-License-Identifier: ISC */
/*
 * The answers of route-d as proxy-d keeps them: a cache keyed by what the
 * answer depended on, coalescing of identical questions, stale answers
 * when route-d is away, and the choice of an endpoint from an answer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"
#include "key.h"
#include "proxy.h"
#include "util.h"

#define ROUTE_KEY_MAX		320
#define ROUTE_CACHE_MAX		65536
#define ROUTE_RETRY_STALE_MS	1000

static struct route_entry *entry_new(const char *, size_t);
static void	entry_free(struct route_entry *);
static size_t	route_key(const struct session *, char *, size_t);
static struct route_entry *vary_node(struct proxy *, const char *, size_t,
		    const char *);
static int	vary_has(const char *, const char *);
static void	wake_ready(struct route_entry *);
static void	routing_answer_vary(struct proxy *, struct route_entry *,
		    const struct route_answer *);
static void	entry_fill(struct proxy *, struct route_entry *,
		    const struct route_answer *);
static void	routing_request(struct proxy *, struct session *);
static void	route_ready(struct session *, struct route_entry *);
static enum stage_result route_start(struct session *);
static void	route_cancel(struct session *);

const struct stage stage_route = {
	.name = "route",
	.start = route_start,
	.cancel = route_cancel,
};

/*
 * The stage: an outbound request asks route-d (or its cached answer);
 * an inbound one goes to the listener's local app.
 */
static enum stage_result
route_start(struct session *s)
{
	if (s->inbound) {
		if (s->forward == NULL) {
			session_error(s, 503, "NR",
			    "no local application for this listener");
			return STAGE_STOP;
		}
		s->cands[0] = s->forward;
		s->ncands = 1;
		s->cand = 0;
		s->tried = 0;
		return STAGE_NEXT;
	}
	if (s->req.authority.n == 0) {
		session_error(s, 400, "DPE", "no Host header or absolute URI");
		return STAGE_STOP;
	}
	routing_request(s->proxy, s);
	return STAGE_WAIT;
}

/* The request is over: off the waiters, and out of the cluster that
   route_ready attached it to (whatever stage it got to). */
static void
route_cancel(struct session *s)
{
	routing_cancel(s);
	cluster_done(s->cluster, s);	/* breaker */
}

/* route-d's answer for this request is in: the endpoints to try. */
static void
route_ready(struct session *s, struct route_entry *e)
{
	struct pool	*pool;

	switch (e->status) {
	case ROUTE_NO_ROUTE:
		session_error(s, 404, "NR", "no route: %s", e->reason[0] ?
		    e->reason : "no service for this host");
		return;
	case ROUTE_ERROR:
		session_error(s, 503, "RDU", "route-d could not decide: %s",
		    e->reason);
		return;
	case ROUTE_OK:
		break;
	}
	policy_unref(s->policy);
	s->policy = policy_ref(e->policy);
	/* the record's, and the SNI of a mesh connection (conn.c) */
	util_strlcpy(s->service, e->service, sizeof(s->service));
	util_strlcpy(s->subset, e->subset, sizeof(s->subset));
	s->service_port = e->port;
	/*
	 * The endpoint for the first try, and the others a retry may move
	 * to, in the answer's order after it: kept here, since the answer
	 * may go while the request waits out a delay or a back-off.
	 */
	s->ncands = 0;
	s->cand = 0;
	s->tried = 0;
	cluster_attach(s, cluster_for(s->proxy, e));	/* breaker */
	if ((pool = cluster_pick(s->proxy, s->cluster, e)) != NULL) {
		size_t i, at = 0;

		for (i = 0; i < e->npools; i++)
			if (e->pools[i] == pool)
				at = i;
		s->cands[s->ncands++] = pool;
		for (i = 1; i < e->npools &&
		    s->ncands < SESSION_MAX_CANDIDATES; i++)
			if (!cluster_skip(s->cluster,	/* breaker */
			    e->pools[(at + i) % e->npools]))
				s->cands[s->ncands++] =
				    e->pools[(at + i) % e->npools];
	}
	stage_done(s, STAGE_NEXT);
}

static struct route_entry *
entry_new(const char *key, size_t keylen)
{
	struct route_entry	*e;

	e = xcalloc(1, sizeof(*e));
	if (key != NULL)
		e->key = xstrndup(key, keylen);
	e->state = ROUTE_ENTRY_PENDING;
	TAILQ_INIT(&e->waiters);
	return e;
}

struct policy *
policy_ref(struct policy *pol)
{
	if (pol != NULL)
		pol->refs++;
	return pol;
}

void
policy_unref(struct policy *pol)
{
	size_t	 i;

	if (pol == NULL || --pol->refs > 0)
		return;
	for (i = 0; i < ROUTE_MAX_ORIGINS; i++)
		match_regex_free(pol->origin_re[i]);
	free(pol);
}

/*
 * What proxy-d needs ready-made from a route's policy: its retry
 * conditions parsed, its CORS origin patterns compiled.
 */
static struct policy *
policy_new(const struct route_answer *a)
{
	struct policy	*pol = xcalloc(1, sizeof(*pol));
	char		 err[160];
	size_t		 i;

	pol->refs = 1;
	pol->p = a->policy;
	pol->timeout_ms = a->timeout_ms;
	if (a->policy.retry_attempts > 0) {
		/* Istio's default conditions when the route names none */
		const char *on = a->policy.retry_on[0] != '\0' ?
		    a->policy.retry_on : RETRY_DEFAULT_ON;

		if (retry_on_parse(on, &pol->retry, err, sizeof(err)) == -1)
			log_warnx("route-d: retries of %s: %s", a->service,
			    err);
		else {
			pol->retry.attempts = a->policy.retry_attempts;
			pol->retry.per_try_ms = a->policy.retry_per_try_ms;
		}
	}
	for (i = 0; i < a->policy.norigins && i < ROUTE_MAX_ORIGINS; i++) {
		if (a->policy.origins[i].kind != MATCH_REGEX)
			continue;
		pol->origin_re[i] = match_regex_compile(
		    a->policy.origins[i].value, 0, err, sizeof(err));
		if (pol->origin_re[i] == NULL)
			log_warnx("route-d: CORS origin of %s: %s",
			    a->service, err);
	}
	return pol;
}

/* Does the answer ask for anything beyond where to go? */
static int
policy_present(const struct route_policy *p)
{
	return p->redirect_code != 0 || p->direct_status != 0 ||
	    p->rewrite_path[0] != '\0' || p->rewrite_authority[0] != '\0' ||
	    p->route_name[0] != '\0' || p->nheaders > 0 || p->nmirrors > 0 ||
	    p->cors || p->retry_attempts > 0 || p->fault_delay_ppm > 0 ||
	    p->fault_abort_ppm > 0;
}

static void
entry_free(struct route_entry *e)
{
	policy_unref(e->policy);
	free(e->key);
	free(e->fallback_key);
	free(e->vary_fields);
	free(e->pools);
	free(e->weights);
	free(e->current);
	free(e);
}

/*
 * The cache key: the listener and the authority (lower case), which is
 * what route-d's answers vary on unless they say otherwise.
 */
static size_t
route_key(const struct session *s, char *buf, size_t len)
{
	const struct str *a = &s->req.authority;
	size_t		 i;

	if (a->n + 2 > len)
		return 0;
	buf[0] = s->inbound ? 'i' : 'o';
	buf[1] = '|';
	for (i = 0; i < a->n; i++)
		buf[i + 2] = (char)tolower((unsigned char)a->p[i]);
	return a->n + 2;
}

/* Is word one of the space-separated words of list? */
static int
vary_has(const char *list, const char *word)
{
	size_t		 n = strlen(word);
	const char	*p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' ||
		    p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* The vary node at a base key, made or brought up to date. */
static struct route_entry *
vary_node(struct proxy *p, const char *base, size_t baselen,
    const char *fields)
{
	struct route_entry	*node;

	node = strmap_get(&p->routes, base, baselen);
	if (node != NULL && node->vary_fields == NULL) {
		if (node->inflight || !TAILQ_EMPTY(&node->waiters))
			return NULL;
		strmap_del(&p->routes, base, baselen);
		entry_free(node);
		node = NULL;
	}
	if (node == NULL) {
		if (p->routes.n >= ROUTE_CACHE_MAX)
			return NULL;
		node = entry_new(base, baselen);
		node->state = ROUTE_ENTRY_VALID;
		strmap_put(&p->routes, base, baselen, node);
	}
	/*
	 * The union of what the answers said: one answer of an authority
	 * may look at a header only, another at the header and the path;
	 * keys made of all of them are right for both.
	 */
	if (node->vary_fields == NULL)
		node->vary_fields = xstrdup(fields);
	else {
		char	 copy[256], merged[512], *word, *save = NULL;

		util_strlcpy(merged, node->vary_fields, sizeof(merged));
		util_strlcpy(copy, fields, sizeof(copy));
		for (word = strtok_r(copy, " ,", &save); word != NULL;
		    word = strtok_r(NULL, " ,", &save)) {
			if (vary_has(merged, word))
				continue;
			if (strlen(merged) + strlen(word) + 2 > 256)
				return NULL;	/* too many to key on */
			strcat(merged, " ");
			strcat(merged, word);
		}
		if (strcmp(merged, node->vary_fields) != 0) {
			free(node->vary_fields);
			node->vary_fields = xstrdup(merged);
		}
	}
	node->last_used_ms = util_now_ms();
	return node;
}

static void
entry_fill(struct proxy *p, struct route_entry *e,
    const struct route_answer *a)
{
	size_t	 i, n = 0;

	e->status = a->status;
	util_strlcpy(e->reason, a->reason, sizeof(e->reason));
	util_strlcpy(e->service, a->service, sizeof(e->service));
	util_strlcpy(e->subset, a->subset, sizeof(e->subset));
	e->port = a->port;
	policy_unref(e->policy);
	e->policy = NULL;
	if (policy_present(&a->policy) || a->timeout_ms > 0)
		e->policy = policy_new(a);
	e->lb = a->lb;
	free(e->pools);
	free(e->weights);
	free(e->current);
	e->pools = xcalloc(a->nendpoints, sizeof(*e->pools));
	e->weights = xcalloc(a->nendpoints, sizeof(*e->weights));
	e->current = xcalloc(a->nendpoints, sizeof(*e->current));
	e->uniform = 1;
	for (i = 0; i < a->nendpoints; i++) {
		struct pool *pool = pool_get(p, a->endpoints[i].address);

		if (pool == NULL) {
			log_warnx("route-d gave a bad endpoint address %s",
			    a->endpoints[i].address);
			continue;
		}
		conn_pool_route(pool, &a->tls, a->endpoints[i].mtls);
		e->pools[n] = pool;
		e->weights[n] = a->endpoints[i].weight > 0 ?
		    a->endpoints[i].weight : 1;
		if (e->weights[n] != e->weights[0])
			e->uniform = 0;
		n++;
	}
	e->npools = n;
	e->next = 0;
	e->fresh = 1;
	e->state = ROUTE_ENTRY_VALID;
}

/* Where does this request go?  Answers now or parks the session. */
static void
routing_request(struct proxy *p, struct session *s)
{
	const struct proxy_daemon *rd = &s->gen->pc->route;
	char			 key[ROUTE_KEY_MAX];
	size_t			 keylen;
	struct route_entry	*e = NULL, *q;
	uint64_t		 now = util_now_ms();

	keylen = route_key(s, key, sizeof(key));
	if (keylen > 0)
		e = strmap_get(&p->routes, key, keylen);
	if (e != NULL && e->vary_fields != NULL) {
		/* answers for this authority depend on more of the request */
		char	 base[ROUTE_KEY_MAX];
		size_t	 baselen = keylen;

		e->last_used_ms = now;
		memcpy(base, key, keylen);
		keylen = key_route(&s->req, s->client_ip, e->vary_fields,
		    base, baselen, key, sizeof(key));
		e = keylen > 0 ? strmap_get(&p->routes, key, keylen) : NULL;
	}

	if (rd->cache && e != NULL && e->state == ROUTE_ENTRY_VALID) {
		e->last_used_ms = now;
		if (now < e->expires_ms) {
			p->route_hits++;
			route_ready(s, e);
			return;
		}
		/*
		 * Expired.  While route-d is there, wait for its fresh
		 * answer (with every other request for the key); when it
		 * is away, serve the last one.
		 */
		if (!consult_connected(p->consult) &&
		    rd->failure != FAILURE_CLOSED) {
			p->route_stale++;
			route_ready(s, e);
			return;
		}
	}

	p->route_misses++;
	if (rd->cache && keylen > 0 && (e == NULL || !e->no_reuse)) {
		if (e == NULL) {
			if (p->routes.n >= ROUTE_CACHE_MAX)
				goto oneshot;
			e = entry_new(key, keylen);
			strmap_put(&p->routes, key, keylen, e);
		}
		q = e;
	} else {
oneshot:
		/* this request's own question; its answer is kept as the
		   fallback for when route-d is away */
		q = entry_new(NULL, 0);
		if (keylen > 0)
			q->fallback_key = xstrndup(key, keylen);
	}
	s->waiting = q;
	TAILQ_INSERT_TAIL(&q->waiters, s, wait_entry);
	if (q->inflight)
		return;
	switch (consult_enqueue(p->consult, q, s)) {
	case -1:
		routing_failure(p, q, "route-d unavailable (not connected)");
		return;
	case -2:
		/* this request alone: nobody else waits for q, which
		   goes unless it holds a last answer */
		routing_cancel(s);
		if (q->state != ROUTE_ENTRY_VALID) {
			if (q->key != NULL)
				strmap_del(&p->routes, q->key, strlen(q->key));
			entry_free(q);
		}
		session_error(s, 431, "DPE", "request too large to ask "
		    "route-d about (over %d bytes)", MSG_MAX_BYTES);
		return;
	}
	q->inflight = 1;
}

void
routing_cancel(struct session *s)
{
	if (s->waiting == NULL)
		return;
	TAILQ_REMOVE(&s->waiting->waiters, s, wait_entry);
	s->waiting = NULL;
}

static void
wake_ready(struct route_entry *e)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&e->waiters)) != NULL) {
		TAILQ_REMOVE(&e->waiters, s, wait_entry);
		s->waiting = NULL;
		route_ready(s, e);
	}
}

/*
 * A reusable answer that depends on more than its key.  The entry moves
 * to the key made of the asking request's values (under a vary node at
 * its base key).  Requests that waited with it but differ in those
 * values were coalesced too early: each asks again under its own key.
 */
static void
routing_answer_vary(struct proxy *p, struct route_entry *e,
    const struct route_answer *a)
{
	TAILQ_HEAD(, session)	 others = TAILQ_HEAD_INITIALIZER(others);
	struct session		*s, *first;
	struct route_entry	*node;
	char			 key[ROUTE_KEY_MAX];
	size_t			 baselen, keylen;
	const char		*sep;

	sep = memchr(e->key, KEY_SEP, strlen(e->key));
	baselen = sep != NULL ? (size_t)(sep - e->key) : strlen(e->key);
	first = TAILQ_FIRST(&e->waiters);
	strmap_del(&p->routes, e->key, strlen(e->key));
	node = vary_node(p, e->key, baselen, a->vary);
	keylen = first != NULL && node != NULL ? key_route(&first->req,
	    first->client_ip, node->vary_fields, e->key, baselen, key,
	    sizeof(key)) : 0;
	if (keylen == 0) {
		/* cannot keep it: it answers its waiters, then goes */
		free(e->key);
		e->key = NULL;
		while ((s = TAILQ_FIRST(&e->waiters)) != NULL) {
			TAILQ_REMOVE(&e->waiters, s, wait_entry);
			s->waiting = NULL;
			if (s == first || node == NULL)
				route_ready(s, e);
			else
				TAILQ_INSERT_TAIL(&others, s, wait_entry);
		}
		entry_free(e);
		goto again;
	}
	{
		struct route_entry *old = strmap_get(&p->routes, key, keylen);

		if (old != NULL && old != e) {
			if (old->inflight || !TAILQ_EMPTY(&old->waiters)) {
				/* someone asks there already: just answer */
				free(e->key);
				e->key = NULL;
				goto answer_all;
			}
			strmap_del(&p->routes, key, keylen);
			entry_free(old);
		}
	}
	free(e->key);
	e->key = xstrndup(key, keylen);
	strmap_put(&p->routes, e->key, keylen, e);
answer_all:
	while ((s = TAILQ_FIRST(&e->waiters)) != NULL) {
		char	 k2[ROUTE_KEY_MAX];
		size_t	 n2;

		TAILQ_REMOVE(&e->waiters, s, wait_entry);
		s->waiting = NULL;
		n2 = s == first ? keylen : key_route(&s->req, s->client_ip,
		    node->vary_fields, key, baselen, k2, sizeof(k2));
		if (s == first || (n2 == keylen && memcmp(k2, key, n2) == 0))
			route_ready(s, e);
		else
			TAILQ_INSERT_TAIL(&others, s, wait_entry);
	}
	if (e->key == NULL)
		entry_free(e);
again:
	while ((s = TAILQ_FIRST(&others)) != NULL) {
		TAILQ_REMOVE(&others, s, wait_entry);
		routing_request(p, s);
	}
}

void
routing_answer(struct proxy *p, struct route_entry *e,
    const struct route_answer *a)
{
	uint64_t		 now = util_now_ms();
	struct route_entry	*old;

	e->inflight = 0;
	entry_fill(p, e, a);
	e->last_used_ms = now;
	e->no_reuse = a->reuse_ms == 0;
	e->expires_ms = a->reuse_ms > 0 ? now + a->reuse_ms : 0;
	if (e->key != NULL && !key_route_cacheable(a->vary) &&
	    a->reuse_ms > 0 && a->status != ROUTE_ERROR) {
		routing_answer_vary(p, e, a);
		return;
	}
	wake_ready(e);
	if (e->key == NULL && e->fallback_key != NULL && p->routes.n <
	    ROUTE_CACHE_MAX) {
		/* a one-shot answer becomes the last answer for its key */
		size_t n = strlen(e->fallback_key);

		old = strmap_get(&p->routes, e->fallback_key, n);
		if (old == NULL || (!old->inflight &&
		    TAILQ_EMPTY(&old->waiters))) {
			e->key = e->fallback_key;
			e->fallback_key = NULL;
			strmap_put(&p->routes, e->key, n, e);
			if (old != NULL)
				entry_free(old);
		}
	}
	/*
	 * Kept: fresh for its reuse time, then only the last answer to
	 * fall back on.  Answers that depend on more than the key, or
	 * that report an error, are not kept at all.
	 */
	if (e->key != NULL && (!key_route_cacheable(a->vary) ||
	    a->status == ROUTE_ERROR)) {
		strmap_del(&p->routes, e->key, strlen(e->key));
		entry_free(e);
	} else if (e->key == NULL)
		entry_free(e);
}

void
routing_failure(struct proxy *p, struct route_entry *e, const char *reason)
{
	struct route_entry	*fallback = NULL;
	struct session		*s;
	int			 stale_ok = 1, keep;
	TAILQ_HEAD(, session)	 waiters = TAILQ_HEAD_INITIALIZER(waiters);

	e->inflight = 0;
	p->route_failures++;
	s = TAILQ_FIRST(&e->waiters);
	if (s != NULL && s->gen->pc->route.failure == FAILURE_CLOSED)
		stale_ok = 0;
	if (e->state == ROUTE_ENTRY_VALID && stale_ok)
		fallback = e;
	else if (e->fallback_key != NULL && stale_ok) {
		fallback = strmap_get(&p->routes, e->fallback_key,
		    strlen(e->fallback_key));
		if (fallback != NULL && (fallback->state != ROUTE_ENTRY_VALID ||
		    fallback->vary_fields != NULL))
			fallback = NULL;
	}
	/*
	 * The waiters leave the entry, and an entry that goes leaves the
	 * cache, before anyone is served: serving one may bring a new
	 * request for the same key, which must not join (or re-ask for)
	 * an entry about to be freed.
	 */
	TAILQ_CONCAT(&waiters, &e->waiters, wait_entry);
	keep = e->state == ROUTE_ENTRY_VALID && e->key != NULL;
	if (!keep && e->key != NULL) {
		strmap_del(&p->routes, e->key, strlen(e->key));
		free(e->key);
		e->key = NULL;
	}
	if (fallback != NULL) {
		log_debug("route-d: %s; serving the last answer", reason);
		if (fallback == e)
			e->expires_ms = util_now_ms() + ROUTE_RETRY_STALE_MS;
		while ((s = TAILQ_FIRST(&waiters)) != NULL) {
			TAILQ_REMOVE(&waiters, s, wait_entry);
			s->waiting = NULL;
			route_ready(s, fallback);
		}
	} else {
		while ((s = TAILQ_FIRST(&waiters)) != NULL) {
			TAILQ_REMOVE(&waiters, s, wait_entry);
			s->waiting = NULL;
			session_error(s, 503, "RDU", "%s", reason);
		}
	}
	if (!keep)
		entry_free(e);	/* stays as the last answer otherwise */
}

/* Pick an endpoint from an answer, by its load-balancing policy. */
struct pool *
routing_pick(struct route_entry *e)
{
	size_t		 i, best;
	int64_t		 total = 0;

	if (e->npools == 0)
		return NULL;
	if (e->npools == 1)
		return e->pools[0];
	/*
	 * The first use of a new answer takes route-d's own choice, which
	 * it rotated by its round-robin turn; later uses of a reused answer
	 * balance here.
	 */
	if (e->fresh) {
		e->fresh = 0;
		e->next = 1;
		if (e->lb != ROUTE_LB_RANDOM && e->lb != ROUTE_LB_LEAST_REQUEST)
			return e->pools[0];
	}
	switch (e->lb) {
	case ROUTE_LB_ORDERED:
		return e->pools[0];
	case ROUTE_LB_RANDOM: {
		uint64_t r;

		for (i = 0; i < e->npools; i++)
			total += e->weights[i];
		r = util_random() % (uint64_t)total;
		for (i = 0; i < e->npools; i++) {
			if (r < (uint64_t)e->weights[i])
				return e->pools[i];
			r -= (uint64_t)e->weights[i];
		}
		return e->pools[e->npools - 1];
	}
	case ROUTE_LB_LEAST_REQUEST: {
		/* the better of two random choices */
		struct pool *a = e->pools[util_random() % e->npools];
		struct pool *b = e->pools[util_random() % e->npools];

		return a->active <= b->active ? a : b;
	}
	case ROUTE_LB_ROUND_ROBIN:
	default:
		break;
	}
	if (e->uniform)
		return e->pools[e->next++ % e->npools];
	/* smooth weighted round robin */
	best = 0;
	for (i = 0; i < e->npools; i++) {
		e->current[i] += e->weights[i];
		total += e->weights[i];
		if (e->current[i] > e->current[best])
			best = i;
	}
	e->current[best] -= total;
	return e->pools[best];
}

void
routing_forget(struct proxy *p, struct route_entry *e)
{
	strmap_del(&p->routes, e->key, strlen(e->key));
	entry_free(e);
}

void
routing_fini(struct proxy *p)
{
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	while (strmap_next(&p->routes, &pos, &key, &value))
		entry_free(value);
	strmap_fini(&p->routes);
}
