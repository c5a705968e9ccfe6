/* SPDX-License-Identifier: ISC */
/*
 * breaker-d's decisions: the policy of each cluster from the
 * DestinationRules, and the outlier-detection state machine of each
 * endpoint, as Istio configures Envoy's.
 *
 * An endpoint is healthy, ejected or on probation.  A result counts
 * towards consecutive 5xx (any 5xx, and the local-origin failures
 * connect-failure, reset and timeout, which Envoy maps to 5xx) and
 * towards consecutive gateway errors (502, 503, 504 and the local-origin
 * failures); any other result resets both.  Reaching a threshold ejects
 * the endpoint at once, for baseEjectionTime times its number of
 * ejections (capped as Envoy caps it), if fewer than maxEjectionPercent
 * of its cluster's endpoints are ejected already.  When its time is up it
 * returns on probation: its next failure ejects it again, for longer, and
 * its next success makes it healthy.  The ejection count decays by one
 * per interval without an ejection.
 *
 * Clusters and endpoints are arrays scanned in order: a cluster has at
 * most a few hundred endpoints and a report names one; a hash on the
 * cluster key keeps the scan of clusters to integer compares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "config.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define BREAKER_MAX_EVENTS	4096
#define BREAKER_MAX_MULTIPLIER	1000

struct breaker {
	const struct config	 *config;
	uint64_t		  generation;
	uint64_t		  now;
	uint64_t		  next_due;	/* 0: nothing due */
	struct breaker_cluster	**clusters;
	uint64_t		 *keys;		/* hash of each cluster's key */
	size_t			  nclusters;
	size_t			  capclusters;
	size_t			  nendpoints;	/* of every cluster */
	struct breaker_event	 *events;
	size_t			  nevents;
	size_t			  capevents;
	struct breaker_stats	  stats;
	struct route_answer	 *scratch;	/* for reloads */
};

static uint64_t	breaker_key(const char *, const char *, uint32_t);
static void	breaker_due(struct breaker *, uint64_t);
static void	breaker_recompute_due(struct breaker *);
static const struct traffic_policy *breaker_port_level(
		    const struct traffic_policy *, uint32_t);
static int	breaker_has(const struct ynode *, const char *);
static void	breaker_limits_fill(const struct traffic_policy *,
		    struct breaker_limits *);
static void	breaker_outlier_fill(const struct traffic_policy *,
		    struct breaker_outlier *);
static void	breaker_cluster_policy(struct breaker *,
		    struct breaker_cluster *);
static struct breaker_event *breaker_event_new(struct breaker *,
		    const struct breaker_cluster *,
		    const struct breaker_endpoint *, enum breaker_event_kind);
static void	breaker_eject(struct breaker *, struct breaker_cluster *,
		    struct breaker_endpoint *, const char *);
static void	breaker_cluster_free(struct breaker_cluster *);
static void	breaker_cluster_prune(struct breaker *,
		    struct breaker_cluster *);
static void	breaker_cluster_release(struct breaker *,
		    struct breaker_cluster *);

struct breaker *
breaker_new(void)
{
	struct breaker	*b = xcalloc(1, sizeof(*b));

	b->stats.start_ms = util_now_ms();
	b->scratch = xmalloc(sizeof(*b->scratch));
	return b;
}

void
breaker_free(struct breaker *b)
{
	size_t	 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nclusters; i++)
		breaker_cluster_free(b->clusters[i]);
	b->nendpoints = 0;
	free(b->clusters);
	free(b->keys);
	free(b->events);
	free(b->scratch);
	free(b);
}

struct breaker_stats *
breaker_stats(struct breaker *b)
{
	return &b->stats;
}

static void
breaker_cluster_free(struct breaker_cluster *c)
{
	free(c->endpoints);
	free(c);
}

const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_EJECTED:
		return "ejected";
	case BREAKER_PROBATION:
		return "probation";
	default:
		return "healthy";
	}
}

/* FNV-1a over the key's parts, NUL-separated. */
static uint64_t
breaker_key(const char *service, const char *subset, uint32_t port)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;

	for (p = service; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	for (p = subset; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	return (h ^ port) * 0x100000001b3ULL;
}

void
breaker_set_clock(struct breaker *b, uint64_t now_ms)
{
	if (now_ms > b->now)
		b->now = now_ms;
}

uint64_t
breaker_clock(const struct breaker *b)
{
	return b->now;
}

uint64_t
breaker_generation(const struct breaker *b)
{
	return b->generation;
}

static void
breaker_due(struct breaker *b, uint64_t t)
{
	if (t != 0 && (b->next_due == 0 || t < b->next_due))
		b->next_due = t;
}

static void
breaker_recompute_due(struct breaker *b)
{
	size_t	 i, j;

	b->next_due = 0;
	for (i = 0; i < b->nclusters; i++) {
		const struct breaker_cluster *c = b->clusters[i];

		for (j = 0; j < c->nendpoints; j++) {
			const struct breaker_endpoint *e = &c->endpoints[j];

			if (e->state == BREAKER_EJECTED)
				breaker_due(b, e->return_at);
			else
				breaker_due(b, e->decay_at);
		}
	}
}

uint64_t
breaker_next_due(const struct breaker *b)
{
	return b->next_due;
}

void
breaker_tick(struct breaker *b)
{
	size_t	 i, j;

	if (b->next_due == 0 || b->next_due > b->now)
		return;
	for (i = 0; i < b->nclusters; i++) {
		struct breaker_cluster *c = b->clusters[i];

		for (j = 0; j < c->nendpoints; j++) {
			struct breaker_endpoint	*e = &c->endpoints[j];
			struct breaker_event	*ev;
			uint64_t		 interval;

			interval = c->policy.outlier.interval_ms != 0 ?
			    c->policy.outlier.interval_ms :
			    BREAKER_DEFAULT_INTERVAL_MS;
			if (e->state == BREAKER_EJECTED) {
				if (e->return_at > b->now)
					continue;
				e->state = BREAKER_PROBATION;
				e->consecutive_5xx = 0;
				e->consecutive_gateway = 0;
				e->return_at = 0;
				e->decay_at = b->now + interval;
				c->nejected--;
				b->stats.returns++;
				if ((ev = breaker_event_new(b, c, e,
				    BREAKER_EVENT_RETURN)) != NULL)
					snprintf(ev->reason, sizeof(ev->reason),
					    "ejection time is up; on probation "
					    "until its next result");
				continue;
			}
			if (e->decay_at == 0 || e->decay_at > b->now)
				continue;
			if (e->ejections > 0)
				e->ejections--;
			e->decay_at = e->ejections > 0 ? b->now + interval : 0;
		}
	}
	breaker_recompute_due(b);
}

void
breaker_advance(struct breaker *b, uint64_t now_ms)
{
	uint64_t	 d;

	while ((d = b->next_due) != 0 && d <= now_ms) {
		breaker_set_clock(b, d);
		breaker_tick(b);
		if (b->next_due != 0 && b->next_due <= d)
			break;		/* cannot happen; never loop on it */
	}
	breaker_set_clock(b, now_ms);
}

static const struct traffic_policy *
breaker_port_level(const struct traffic_policy *p, uint32_t port)
{
	size_t	 i;

	for (i = 0; port != 0 && i < p->nports; i++)
		if (p->ports[i].port == port)
			return &p->ports[i].policy;
	return NULL;
}

static void
breaker_limits_fill(const struct traffic_policy *p, struct breaker_limits *l)
{
	const struct connection_pool	*cp = &p->pool;
	const struct ynode		*http;

	memset(l, 0, sizeof(*l));
	if (p->connection_pool == NULL)
		return;
	http = yaml_get(p->connection_pool, "http");
	if (cp->max_connections != 0) {
		l->set |= BREAKER_LIMIT_CONNECTIONS;
		l->max_connections = cp->max_connections;
	}
	if (cp->http1_max_pending != 0) {
		l->set |= BREAKER_LIMIT_PENDING;
		l->max_pending = cp->http1_max_pending;
	}
	/* 0 means unlimited for Istio: only a positive number is a limit */
	if (cp->max_requests_per_connection != 0) {
		l->set |= BREAKER_LIMIT_PER_CONNECTION;
		l->max_requests_per_connection =
		    cp->max_requests_per_connection;
	}
	/* maxRetries: 0 is a limit (no retries), so the tree tells */
	if (http != NULL && breaker_has(http, "maxRetries")) {
		l->set |= BREAKER_LIMIT_RETRIES;
		l->max_retries = cp->max_retries;
	}
	if (cp->connect_timeout_ms != 0) {
		l->set |= BREAKER_LIMIT_CONNECT_TIMEOUT;
		l->connect_timeout_ms = cp->connect_timeout_ms;
	}
	if (cp->http_idle_timeout_ms != 0 || cp->tcp_idle_timeout_ms != 0) {
		l->set |= BREAKER_LIMIT_IDLE_TIMEOUT;
		l->idle_timeout_ms = cp->http_idle_timeout_ms != 0 ?
		    cp->http_idle_timeout_ms : cp->tcp_idle_timeout_ms;
	}
}

/* Is key set (not null) in the map n? */
static int
breaker_has(const struct ynode *n, const char *key)
{
	const struct ynode	*v = yaml_get(n, key);

	if (v == NULL)
		return 0;
	if (v->type == YNODE_SCALAR && v->plain && (v->len == 0 ||
	    strcmp(v->value, "~") == 0 || strcmp(v->value, "null") == 0 ||
	    strcmp(v->value, "Null") == 0 || strcmp(v->value, "NULL") == 0))
		return 0;
	return 1;
}

static void
breaker_outlier_fill(const struct traffic_policy *p, struct breaker_outlier *o)
{
	const struct outlier_detection	*od = &p->outlier;
	const struct ynode		*n = p->outlier_detection;

	memset(o, 0, sizeof(*o));
	if (n == NULL)
		return;
	o->enabled = 1;
	/* 0 means "off" for these two, so absent and 0 differ */
	o->consecutive_5xx = breaker_has(n, "consecutive5xxErrors") ||
	    breaker_has(n, "consecutiveErrors") ? od->consecutive_5xx :
	    BREAKER_DEFAULT_5XX;
	o->consecutive_gateway = od->consecutive_gateway;
	o->interval_ms = od->interval_ms != 0 ? od->interval_ms :
	    BREAKER_DEFAULT_INTERVAL_MS;
	o->base_ejection_ms = od->base_ejection_ms != 0 ?
	    od->base_ejection_ms : BREAKER_DEFAULT_EJECTION_MS;
	o->max_ejection_percent = breaker_has(n, "maxEjectionPercent") ?
	    od->max_ejection_percent : BREAKER_DEFAULT_MAX_EJECTION;
	o->min_health_percent = od->min_health_percent;
}

void
breaker_policy_find(const struct config *cfg, const char *ns,
    const char *service, const char *subset, uint32_t port,
    struct breaker_policy *out)
{
	const struct destination_rule	*dr, *top;
	const struct dr_subset		*ss = NULL;
	const struct traffic_policy	*pool = NULL, *outlier = NULL, *pp;
	int				 pool_done = 0, outlier_done = 0;

	memset(out, 0, sizeof(*out));
	if ((dr = route_destination_rule(cfg, ns, service)) == NULL) {
		snprintf(out->source, sizeof(out->source),
		    "no DestinationRule");
		return;
	}
	snprintf(out->source, sizeof(out->source), "DestinationRule "
	    "%.50s/%.60s", dr->meta.namespace, dr->meta.name);
	/* several rules for the host are one, merged as route-d merges them */
	if (subset != NULL && subset[0] != '\0')
		ss = route_dr_subset(cfg, ns, dr, subset);
	/*
	 * As Istio merges them: a portLevelSettings entry for the port
	 * replaces its level's policy whole (what it leaves out is unset);
	 * a subset's setting overrides the rule's.
	 */
	if (ss != NULL && ss->has_policy) {
		if ((pp = breaker_port_level(&ss->policy, port)) != NULL) {
			pool = outlier = pp;
			pool_done = outlier_done = 1;
		} else {
			if (ss->policy.connection_pool != NULL) {
				pool = &ss->policy;
				pool_done = 1;
			}
			if (ss->policy.outlier_detection != NULL) {
				outlier = &ss->policy;
				outlier_done = 1;
			}
		}
	}
	if ((top = route_dr_policy_rule(cfg, ns, dr)) != NULL) {
		pp = breaker_port_level(&top->policy, port);
		if (pp == NULL)
			pp = &top->policy;
		if (!pool_done)
			pool = pp;
		if (!outlier_done)
			outlier = pp;
	}
	if (pool != NULL)
		breaker_limits_fill(pool, &out->limits);
	if (outlier != NULL)
		breaker_outlier_fill(outlier, &out->outlier);
}

static void
breaker_cluster_policy(struct breaker *b, struct breaker_cluster *c)
{
	breaker_policy_find(b->config, c->namespace, c->service, c->subset,
	    c->port, &c->policy);
	c->policy_generation = b->generation;
}

struct breaker_cluster *
breaker_cluster(struct breaker *b, const char *ns, const char *service,
    const char *subset, uint32_t port, int create)
{
	struct breaker_cluster	*c;
	uint64_t		 key;
	size_t			 i;

	if (subset == NULL)
		subset = "";
	if (ns == NULL || ns[0] == '\0')
		ns = CONFIG_DEFAULT_NAMESPACE;
	key = breaker_key(service, subset, port);
	for (i = 0; i < b->nclusters; i++) {
		c = b->clusters[i];
		if (b->keys[i] != key || c->port != port ||
		    strcmp(c->service, service) != 0 ||
		    strcmp(c->subset, subset) != 0)
			continue;
		/* exportTo depends on who asks: the last asker's view */
		if (create && strcmp(c->namespace, ns) != 0) {
			util_strlcpy(c->namespace, ns, sizeof(c->namespace));
			breaker_cluster_policy(b, c);
		} else if (c->policy_generation != b->generation)
			breaker_cluster_policy(b, c);
		return c;
	}
	if (!create)
		return NULL;
	if (b->nclusters == BREAKER_MAX_CLUSTERS ||
	    strlen(service) >= sizeof(c->service) ||
	    strlen(subset) >= sizeof(c->subset)) {
		b->stats.dropped++;
		return NULL;
	}
	if (b->nclusters == b->capclusters) {
		b->capclusters = b->capclusters == 0 ? 16 : b->capclusters * 2;
		b->clusters = xreallocarray(b->clusters, b->capclusters,
		    sizeof(*b->clusters));
		b->keys = xreallocarray(b->keys, b->capclusters,
		    sizeof(*b->keys));
	}
	c = xcalloc(1, sizeof(*c));
	util_strlcpy(c->service, service, sizeof(c->service));
	util_strlcpy(c->subset, subset, sizeof(c->subset));
	util_strlcpy(c->namespace, ns, sizeof(c->namespace));
	c->port = port;
	breaker_cluster_policy(b, c);
	b->keys[b->nclusters] = key;
	b->clusters[b->nclusters++] = c;
	return c;
}

struct breaker_endpoint *
breaker_endpoint(struct breaker *b, struct breaker_cluster *c,
    const char *address, int create)
{
	struct breaker_endpoint	*e;
	size_t			 i;

	for (i = 0; i < c->nendpoints; i++)
		if (strcmp(c->endpoints[i].address, address) == 0)
			return &c->endpoints[i];
	if (!create)
		return NULL;
	if (c->nendpoints == BREAKER_MAX_ENDPOINTS ||
	    b->nendpoints == BREAKER_MAX_TOTAL_ENDPOINTS ||
	    strlen(address) >= sizeof(e->address)) {
		b->stats.dropped++;
		return NULL;
	}
	if (c->nendpoints == c->capendpoints) {
		c->capendpoints = c->capendpoints == 0 ? 4 :
		    c->capendpoints * 2;
		c->endpoints = xreallocarray(c->endpoints, c->capendpoints,
		    sizeof(*c->endpoints));
	}
	e = &c->endpoints[c->nendpoints++];
	b->nendpoints++;
	memset(e, 0, sizeof(*e));
	util_strlcpy(e->address, address, sizeof(e->address));
	return e;
}

static struct breaker_event *
breaker_event_new(struct breaker *b, const struct breaker_cluster *c,
    const struct breaker_endpoint *e, enum breaker_event_kind kind)
{
	struct breaker_event	*ev;

	if (b->nevents == BREAKER_MAX_EVENTS)
		return NULL;	/* nobody takes them: keep memory bounded */
	if (b->nevents == b->capevents) {
		b->capevents = b->capevents == 0 ? 8 : b->capevents * 2;
		b->events = xreallocarray(b->events, b->capevents,
		    sizeof(*b->events));
	}
	ev = &b->events[b->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	util_strlcpy(ev->service, c->service, sizeof(ev->service));
	util_strlcpy(ev->subset, c->subset, sizeof(ev->subset));
	ev->port = c->port;
	util_strlcpy(ev->endpoint, e->address, sizeof(ev->endpoint));
	ev->ejections = e->ejections;
	ev->time_ms = b->now;
	if (kind == BREAKER_EVENT_EJECT)
		ev->ejection_ms = e->return_at - b->now;
	return ev;
}

size_t
breaker_events(const struct breaker *b, const struct breaker_event **v)
{
	*v = b->events;
	return b->nevents;
}

void
breaker_events_clear(struct breaker *b)
{
	b->nevents = 0;
}

size_t
breaker_nclusters(const struct breaker *b)
{
	return b->nclusters;
}

struct breaker_cluster *
breaker_cluster_at(struct breaker *b, size_t i)
{
	return i < b->nclusters ? b->clusters[i] : NULL;
}

int
breaker_panic(const struct breaker_cluster *c)
{
	const struct breaker_outlier	*o = &c->policy.outlier;

	if (!o->enabled || c->nendpoints == 0)
		return 0;
	/* healthy share below minHealthPercent, in integers */
	return (uint64_t)(c->nendpoints - c->nejected) * 100 <
	    (uint64_t)o->min_health_percent * c->nendpoints;
}

uint64_t
breaker_ms_left(const struct breaker *b, const struct breaker_endpoint *e)
{
	if (e->state != BREAKER_EJECTED || e->return_at <= b->now)
		return 0;
	return e->return_at - b->now;
}

/*
 * Envoy's check: eject only while the share already ejected is below
 * maxEjectionPercent, so one host of a small cluster may go at 10%.
 */
static void
breaker_eject(struct breaker *b, struct breaker_cluster *c,
    struct breaker_endpoint *e, const char *why)
{
	const struct breaker_outlier	*o = &c->policy.outlier;
	struct breaker_event		*ev;
	uint64_t			 ms, cap;

	if (e->state == BREAKER_EJECTED)
		return;
	if ((uint64_t)c->nejected * 100 >=
	    (uint64_t)o->max_ejection_percent * c->nendpoints) {
		b->stats.overflows++;
		return;
	}
	if (e->ejections < BREAKER_MAX_MULTIPLIER)
		e->ejections++;
	cap = o->base_ejection_ms > BREAKER_MAX_EJECTION_MS ?
	    o->base_ejection_ms : BREAKER_MAX_EJECTION_MS;
	ms = o->base_ejection_ms * e->ejections;
	if (ms > cap)
		ms = cap;
	e->state = BREAKER_EJECTED;
	e->return_at = b->now + ms;
	e->decay_at = 0;
	e->consecutive_5xx = 0;
	e->consecutive_gateway = 0;
	c->nejected++;
	b->stats.ejections++;
	breaker_due(b, e->return_at);
	if ((ev = breaker_event_new(b, c, e, BREAKER_EVENT_EJECT)) != NULL)
		util_strlcpy(ev->reason, why, sizeof(ev->reason));
}

void
breaker_report(struct breaker *b, struct breaker_cluster *c,
    struct breaker_endpoint *e, enum breaker_result result, uint32_t status)
{
	const struct breaker_outlier	*o = &c->policy.outlier;
	int				 local, is5xx, gateway;
	char				 why[160], what[32];

	local = result != BREAKER_RESULT_STATUS;
	is5xx = local || (status >= 500 && status <= 599);
	gateway = local || status == 502 || status == 503 || status == 504;
	if (!is5xx) {
		e->consecutive_5xx = 0;
		e->consecutive_gateway = 0;
		if (e->state == BREAKER_PROBATION)
			e->state = BREAKER_HEALTHY;
		return;
	}
	if (e->consecutive_5xx < UINT32_MAX)
		e->consecutive_5xx++;
	if (!gateway)
		e->consecutive_gateway = 0;
	else if (e->consecutive_gateway < UINT32_MAX)
		e->consecutive_gateway++;
	/* tries in flight when it was ejected still report: counted only */
	if (e->state == BREAKER_EJECTED || !o->enabled)
		return;
	switch (result) {
	case BREAKER_RESULT_CONNECT_FAILURE:
		snprintf(what, sizeof(what), "connect-failure");
		break;
	case BREAKER_RESULT_RESET:
		snprintf(what, sizeof(what), "reset");
		break;
	case BREAKER_RESULT_TIMEOUT:
		snprintf(what, sizeof(what), "timeout");
		break;
	default:
		snprintf(what, sizeof(what), "%u", status);
	}
	if (e->state == BREAKER_PROBATION && (o->consecutive_5xx != 0 ||
	    (gateway && o->consecutive_gateway != 0))) {
		snprintf(why, sizeof(why), "%s on probation", what);
		breaker_eject(b, c, e, why);
	} else if (o->consecutive_5xx != 0 &&
	    e->consecutive_5xx >= o->consecutive_5xx) {
		snprintf(why, sizeof(why), "%u consecutive 5xx, the last %s",
		    e->consecutive_5xx, what);
		breaker_eject(b, c, e, why);
	} else if (gateway && o->consecutive_gateway != 0 &&
	    e->consecutive_gateway >= o->consecutive_gateway) {
		snprintf(why, sizeof(why), "%u consecutive gateway errors, "
		    "the last %s", e->consecutive_gateway, what);
		breaker_eject(b, c, e, why);
	}
}

/* No outlierDetection any more: nothing stays ejected. */
static void
breaker_cluster_release(struct breaker *b, struct breaker_cluster *c)
{
	struct breaker_event	*ev;
	size_t			 i;

	for (i = 0; i < c->nendpoints; i++) {
		struct breaker_endpoint *e = &c->endpoints[i];

		if (e->state != BREAKER_EJECTED)
			continue;
		e->state = BREAKER_HEALTHY;
		e->return_at = 0;
		c->nejected--;
		b->stats.returns++;
		if ((ev = breaker_event_new(b, c, e, BREAKER_EVENT_RETURN)) !=
		    NULL)
			snprintf(ev->reason, sizeof(ev->reason), "no "
			    "outlierDetection for it any more");
	}
}

/* Keeps the endpoints the config still gives the cluster. */
static void
breaker_cluster_prune(struct breaker *b, struct breaker_cluster *c)
{
	struct route_answer	*a = b->scratch;
	size_t			 i, j, o;

	if (a->nendpoints == 0)
		return;		/* none listed (DNS names): nothing to tell */
	for (i = 0; i < c->nendpoints; i++)
		c->endpoints[i].seen = 0;
	for (j = 0; j < a->nendpoints; j++)
		for (i = 0; i < c->nendpoints; i++)
			if (strcmp(c->endpoints[i].address,
			    a->endpoints[j].address) == 0)
				c->endpoints[i].seen = 1;
	for (i = o = 0; i < c->nendpoints; i++) {
		if (!c->endpoints[i].seen) {
			if (c->endpoints[i].state == BREAKER_EJECTED)
				c->nejected--;
			continue;
		}
		if (o != i)
			c->endpoints[o] = c->endpoints[i];
		o++;
	}
	b->nendpoints -= c->nendpoints - o;
	c->nendpoints = o;
}

void
breaker_set_config(struct breaker *b, const struct config *cfg,
    uint64_t generation)
{
	size_t	 i, o;

	b->config = cfg;
	b->generation = generation;
	for (i = o = 0; i < b->nclusters; i++) {
		struct breaker_cluster *c = b->clusters[i];

		if (cfg != NULL && route_service_endpoints(cfg, NULL,
		    c->namespace, c->service, c->subset, c->port,
		    b->scratch) == -1) {
			/* the service, or its subset, is gone */
			b->nendpoints -= c->nendpoints;
			breaker_cluster_free(c);
			continue;
		}
		if (cfg != NULL)
			breaker_cluster_prune(b, c);
		breaker_cluster_policy(b, c);
		if (!c->policy.outlier.enabled)
			breaker_cluster_release(b, c);
		b->keys[o] = b->keys[i];
		b->clusters[o++] = c;
	}
	b->nclusters = o;
	breaker_recompute_due(b);
}
