/* SPDX-License-Identifier: ISC */
/*
 * Decisions under a VirtualService: its http routes in order, the first
 * that matches wins (match blocks ORed, the fields of one ANDed); its
 * destinations' subsets from the DestinationRule of their host; weights
 * across destinations turned into endpoint weights; the DestinationRule's
 * load balancer, consistent hashes chosen here; and what else the route
 * says (timeout, retries, fault, mirror, rewrite, redirect, direct
 * response, header operations, CORS) carried in the answer.
 *
 * vary names every field of the question a decision looked at, so that
 * proxy-d reuses an answer only for requests that would get the same.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "match.h"
#include "route.h"
#include "route_impl.h"
#include "util.h"

#define ROUTE_VS_MAX_DESTINATIONS	16
#define ROUTE_VS_RING_MAX		8192
#define ROUTE_VS_EMPTY			UINT32_MAX

/* The endpoints one destination put in the answer. */
struct vs_segment {
	size_t		 from, to;
	uint32_t	 weight;	/* the destination's, 1..100 */
	uint64_t	 sum;		/* of its endpoints' weights */
};

static int	vs_visible(char *const *, size_t, const char *, const char *);
static int	vs_mesh(char *const *, size_t);
static void	vary_add(struct route_answer *, const char *, size_t);
static int	vs_header(const struct route_query *, const char *,
		    struct str *);
static int	vs_query_param(struct str, const char *, struct str *);
static int	vs_cookie(struct str, const char *, struct str *);
static struct str vs_path(const struct route_query *);
static enum match_result vs_match(const struct http_match *,
		    const struct msg_source *, const struct route_query *,
		    uint32_t, struct route_answer *);
static const struct destination_rule *vs_find_dr(const struct config *,
		    const char *, const char *);
static int	vs_same_rule(const struct destination_rule *,
		    const struct destination_rule *);
static const struct dr_subset *vs_subset(const struct config *,
		    const char *, const struct destination_rule *,
		    const char *);
static const struct traffic_policy *vs_policy(const struct config *,
		    const char *, const struct destination_rule *,
		    const struct dr_subset *, uint32_t);
static uint64_t	vs_hash64(const char *, size_t, uint64_t);
static uint64_t	vs_gcd(uint64_t, uint64_t);
static void	vs_weights(struct route_answer *, struct vs_segment *,
		    size_t);
static void	vs_consistent_hash(struct route_state *,
		    const struct traffic_policy *, const struct route_query *,
		    struct route_answer *);
static size_t	vs_ring(const struct traffic_policy *,
		    const struct route_answer *, uint64_t);
static size_t	vs_maglev(struct route_state *, const struct traffic_policy *,
		    const struct route_answer *, uint64_t);
static void	vs_balance(struct route_state *, const struct traffic_policy *,
		    const struct route_query *, struct route_answer *);
static void	vs_header_ops(struct route_policy *,
		    const struct header_operations *, int);
static void	vs_rewrite(const struct http_route *, const struct http_match *,
		    const struct route_query *, struct route_answer *);
static void	vs_mirrors(const struct config *, struct route_state *,
		    const struct http_route *,
		    const char *, const char *, uint32_t,
		    struct route_answer *);
static void	vs_cors(const struct cors_policy *, struct route_policy *);
static void	vs_join(char *, size_t, char *const *, size_t);

void
route_retries(const struct config *cfg, const struct http_retries *own,
    struct route_policy *p)
{
	const struct http_retries	*mesh = NULL;
	const char			*on = MESH_DEFAULT_RETRY_ON;
	uint32_t			 attempts = MESH_DEFAULT_RETRY_ATTEMPTS;
	uint64_t			 per_try = 0;

	if (cfg != NULL && cfg->mesh != NULL)
		mesh = cfg->mesh->default_retries;
	/* Istio: a policy given replaces the built-in one, field by field */
	if (mesh != NULL) {
		attempts = mesh->attempts;
		per_try = mesh->per_try_timeout_ms;
		if (mesh->retry_on != NULL)
			on = mesh->retry_on;
	}
	if (own != NULL) {
		attempts = own->attempts;
		if (own->per_try_timeout_ms != 0)
			per_try = own->per_try_timeout_ms;
		if (own->retry_on != NULL)
			on = own->retry_on;
	}
	p->retries_set = 1;
	p->retry_attempts = attempts;
	/* attempts 0 (or none given) turns retries off, whatever else */
	p->retry_per_try_ms = attempts != 0 ? per_try : 0;
	util_strlcpy(p->retry_on, attempts != 0 ? on : "",
	    sizeof(p->retry_on));
}

void
route_policy_reset(struct route_policy *p)
{
	/* Field by field: most of it is buffers no answer uses. */
	p->redirect_code = 0;
	p->redirect_port = 0;
	p->redirect_scheme[0] = '\0';
	p->redirect_authority[0] = '\0';
	p->redirect_uri[0] = '\0';
	p->direct_status = 0;
	p->direct_body[0] = '\0';
	p->rewrite_path[0] = '\0';
	p->rewrite_authority[0] = '\0';
	p->route_name[0] = '\0';
	p->retries_set = 0;
	p->retry_attempts = 0;
	p->retry_per_try_ms = 0;
	p->retry_on[0] = '\0';
	p->fault_delay_ms = 0;
	p->fault_delay_ppm = 0;
	p->fault_abort_status = 0;
	p->fault_abort_ppm = 0;
	p->nmirrors = 0;
	p->nheaders = 0;
	p->cors = 0;
	p->norigins = 0;
	p->cors_methods[0] = '\0';
	p->cors_allow_headers[0] = '\0';
	p->cors_expose_headers[0] = '\0';
	p->cors_max_age_ms = 0;
	p->cors_credentials = -1;
}

/* exportTo: absent or "*" is everyone, "." the resource's namespace. */
static int
vs_visible(char *const *export_to, size_t n, const char *own, const char *ns)
{
	size_t	 i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(export_to[i], "*") == 0 ||
		    (strcmp(export_to[i], ".") == 0 && strcmp(own, ns) == 0) ||
		    strcmp(export_to[i], ns) == 0)
			return 1;
	return 0;
}

/* Rules bound to gateways only do not apply to sidecars. */
static int
vs_mesh(char *const *gateways, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(gateways[i], "mesh") == 0)
			return 1;
	return 0;
}

const struct virtual_service *
route_vs_find(const struct config *cfg, const char *ns,
    const struct route_names *nm)
{
	const struct virtual_service	*best = NULL;
	struct route_names		 vn;
	long				 score, best_score = 0, s;
	size_t				 i, j, k, e;

	for (i = 0; i < cfg->nvirtual_services; i++) {
		const struct virtual_service *vs = &cfg->virtual_services[i];

		if (!vs_mesh(vs->gateways, vs->ngateways) || vs->nhttp == 0 ||
		    !vs_visible(vs->export_to, vs->nexport_to,
		    vs->meta.namespace, ns))
			continue;
		for (j = 0; j < vs->nhosts; j++) {
			/*
			 * A short host is a name in the VirtualService's
			 * namespace, as Istio reads it: only its completed
			 * form counts, so that "rating" of one namespace
			 * does not catch "rating" asked from another.
			 */
			route_names(&vn, vs->hosts[j], vs->meta.namespace);
			for (k = 0, score = 0; k < nm->n; k++)
				for (e = vn.n - 1; e < vn.n; e++) {
					s = route_host_score(vn.v[e], nm->v[k],
					    nm->len[k]);
					if (s > score)
						score = s;
				}
			if (score > best_score) {
				best = vs;
				best_score = score;
			}
		}
	}
	return best;
}

/* Adds word[0..n) to vary; one that does not fit forbids reuse. */
static void
vary_add(struct route_answer *a, const char *word, size_t n)
{
	size_t	 len = strlen(a->vary);
	char	*p = a->vary;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == a->vary || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return;
		p++;
	}
	if (len + 1 + n + 1 > sizeof(a->vary)) {
		a->reuse_ms = 0;
		return;
	}
	a->vary[len] = ' ';
	memcpy(a->vary + len + 1, word, n);
	a->vary[len + 1 + n] = '\0';
}

static int
vs_header(const struct route_query *q, const char *name, struct str *v)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < q->nheaders; i++)
		if (q->header_names[i].n == n &&
		    strncasecmp(q->header_names[i].p, name, n) == 0) {
			*v = q->header_values[i];
			return 1;
		}
	return 0;
}

/* The path without its query, as Envoy matches it. */
static struct str
vs_path(const struct route_query *q)
{
	struct str	 p = q->path;
	const char	*qm;

	if (p.p == NULL)
		return (struct str){ "", 0 };
	if ((qm = memchr(p.p, '?', p.n)) != NULL)
		p.n = (size_t)(qm - p.p);
	return p;
}

static int
vs_query_param(struct str path, const char *name, struct str *v)
{
	const char	*p, *end = path.p + path.n, *amp, *eq;
	size_t		 n = strlen(name);

	if (path.p == NULL || (p = memchr(path.p, '?', path.n)) == NULL)
		return 0;
	for (p++; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if ((size_t)((eq != NULL ? eq : amp) - p) == n &&
		    memcmp(p, name, n) == 0) {
			v->p = eq != NULL ? eq + 1 : amp;
			v->n = (size_t)(amp - v->p);
			return 1;
		}
	}
	return 0;
}

static int
vs_cookie(struct str cookies, const char *name, struct str *v)
{
	const char	*p = cookies.p, *end = cookies.p + cookies.n, *semi;
	const char	*eq;
	size_t		 n = strlen(name);

	for (; p != NULL && p < end; p = semi + 1) {
		while (p < end && *p == ' ')
			p++;
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    memcmp(p, name, n) == 0) {
			v->p = eq + 1;
			v->n = (size_t)(semi - v->p);
			return 1;
		}
	}
	return 0;
}

/*
 * One match block: every field it has must match.  Each field looked
 * at is added to vary before it is compared, and the scan stops at the
 * first miss: the outcome depends on no field after it.  A regex that
 * fails (its budget, a subject that is not UTF-8) is MATCH_ERROR, never
 * a miss: the request then fails rather than skip the route.
 */
static enum match_result
vs_match(const struct http_match *m, const struct msg_source *src,
    const struct route_query *q, uint32_t port, struct route_answer *a)
{
	struct str		 v, path = vs_path(q);
	char			 word[ROUTE_HOST_MAX];
	size_t			 i, j;
	int			 n;
	enum match_result	 r;

#define VS_TRY(expr)	do {						\
	if ((r = (expr)) != MATCH_YES)					\
		return r;						\
} while (0)
	if (!vs_mesh(m->gateways, m->ngateways))
		return MATCH_NO;
	/* no port in the authority: HTTP's own */
	if (m->port != 0 && m->port != (port != 0 ? port : 80))
		return MATCH_NO;
	if (m->uri.kind != MATCH_ANY) {
		vary_add(a, "path", 4);
		VS_TRY(match_string_test(&m->uri, path.p, path.n,
		    m->ignore_uri_case));
	}
	if (m->scheme.kind != MATCH_ANY) {
		vary_add(a, "scheme", 6);
		VS_TRY(match_string_test(&m->scheme, q->scheme.p, q->scheme.n,
		    0));
	}
	if (m->method.kind != MATCH_ANY) {
		vary_add(a, "method", 6);
		VS_TRY(match_string_test(&m->method, q->method.p, q->method.n,
		    0));
	}
	if (m->authority.kind != MATCH_ANY)
		VS_TRY(match_string_test(&m->authority, q->authority.p,
		    q->authority.n, 0));
	for (i = 0; i < m->nheaders; i++) {
		n = snprintf(word, sizeof(word), "header:%s",
		    m->headers[i].name);
		vary_add(a, word, (size_t)n < sizeof(word) ? (size_t)n :
		    sizeof(word) - 1);
		if (!vs_header(q, m->headers[i].name, &v))
			return MATCH_NO;
		VS_TRY(match_string_test(&m->headers[i].match, v.p, v.n, 0));
	}
	for (i = 0; i < m->nwithout_headers; i++) {
		n = snprintf(word, sizeof(word), "header:%s",
		    m->without_headers[i].name);
		vary_add(a, word, (size_t)n < sizeof(word) ? (size_t)n :
		    sizeof(word) - 1);
		if (!vs_header(q, m->without_headers[i].name, &v))
			continue;
		r = match_string_test(&m->without_headers[i].match, v.p, v.n,
		    0);
		if (r != MATCH_NO)
			return r == MATCH_YES ? MATCH_NO : MATCH_ERROR;
	}
	if (m->nquery_params > 0)
		vary_add(a, "path", 4);
	for (i = 0; i < m->nquery_params; i++) {
		if (!vs_query_param(q->path, m->query_params[i].name, &v))
			return MATCH_NO;
		VS_TRY(match_string_test(&m->query_params[i].match, v.p, v.n,
		    0));
	}
#undef VS_TRY
	/* The asker's identity: the same for every question of a proxy. */
	if (m->source_namespace != NULL && (src == NULL ||
	    !util_str_eq(src->namespace, m->source_namespace)))
		return MATCH_NO;
	for (i = 0; i < m->source_labels.n; i++) {
		for (j = 0; src != NULL && j < src->nlabels; j++)
			if (util_str_eq(src->label_keys[j],
			    m->source_labels.keys[i]) &&
			    util_str_eq(src->label_values[j],
			    m->source_labels.values[i]))
				break;
		if (src == NULL || j == src->nlabels)
			return MATCH_NO;
	}
	return MATCH_YES;
}

/* The DestinationRule whose host names service best. */
static const struct destination_rule *
vs_find_dr(const struct config *cfg, const char *ns, const char *service)
{
	const struct destination_rule	*best = NULL;
	struct route_names		 dn;
	long				 score = 0, s;
	size_t				 i, e, n = strlen(service);

	for (i = 0; i < cfg->ndestination_rules; i++) {
		const struct destination_rule *dr = &cfg->destination_rules[i];

		if (dr->host == NULL || !vs_visible(dr->export_to,
		    dr->nexport_to, dr->meta.namespace, ns))
			continue;
		route_names(&dn, dr->host, dr->meta.namespace);
		for (e = 0; e < dn.n; e++) {
			s = route_host_score(dn.v[e], service, n);
			if (s > score) {
				score = s;
				best = dr;
			}
		}
	}
	return best;
}

/*
 * Two DestinationRules of one namespace for one host are one rule, as
 * Istio merges them: the subsets of both (a name already taken keeps
 * its first), the first top-level trafficPolicy.  Their order is the
 * config's: files in name order, documents in file order, which stands
 * for Istio's creation time.
 */
static int
vs_same_rule(const struct destination_rule *a,
    const struct destination_rule *b)
{
	struct route_names	 an, bn;

	if (a == b)
		return 1;
	if (a->host == NULL || b->host == NULL ||
	    strcmp(a->meta.namespace, b->meta.namespace) != 0)
		return 0;
	route_names(&an, a->host, a->meta.namespace);
	route_names(&bn, b->host, b->meta.namespace);
	return strcasecmp(an.v[an.n - 1], bn.v[bn.n - 1]) == 0;
}

static const struct dr_subset *
vs_subset(const struct config *cfg, const char *ns,
    const struct destination_rule *dr, const char *name)
{
	size_t	 i, k;

	for (i = 0; dr != NULL && i < cfg->ndestination_rules; i++) {
		const struct destination_rule *d = &cfg->destination_rules[i];

		if (!vs_same_rule(dr, d) || !vs_visible(d->export_to,
		    d->nexport_to, d->meta.namespace, ns))
			continue;
		for (k = 0; k < d->nsubsets; k++)
			if (strcmp(d->subsets[k].name, name) == 0)
				return &d->subsets[k];
	}
	return NULL;
}

/*
 * The subset's policy if it sets a balancer, else the port's of the
 * rule's, else the rule's.
 */
static const struct traffic_policy *
vs_policy(const struct config *cfg, const char *ns,
    const struct destination_rule *dr, const struct dr_subset *ss,
    uint32_t port)
{
	const struct destination_rule	*top;
	size_t				 i;

	if (ss != NULL && ss->has_policy && (ss->policy.simple != LB_UNSET ||
	    ss->policy.hash != HASH_NONE))
		return &ss->policy;
	if ((top = route_dr_policy_rule(cfg, ns, dr)) == NULL)
		return NULL;
	for (i = 0; i < top->policy.nports; i++)
		if (top->policy.ports[i].port == port)
			return &top->policy.ports[i].policy;
	return &top->policy;
}

/* FNV-1a, then a 64-bit finalizer so that near keys spread. */
static uint64_t
vs_hash64(const char *s, size_t n, uint64_t seed)
{
	uint64_t	 h = 14695981039346656037ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
	size_t		 i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
vs_gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Each destination's weight over its endpoints, exactly: an endpoint of
 * destination d gets W_d * w * (L / S_d), L the least common multiple
 * of the S_d (each destination's endpoint weights summed), so that every
 * destination's endpoints add up to W_d * L; then all are divided by
 * their greatest common divisor.
 */
static void
vs_weights(struct route_answer *a, struct vs_segment *seg, size_t nseg)
{
	uint64_t	 l = 1, g = 0, w, max = 0;
	size_t		 d, i;
	int		 exact = 1;

	for (d = 0; d < nseg; d++) {
		if (seg[d].sum == 0)
			continue;
		l = l / vs_gcd(l, seg[d].sum) * seg[d].sum;
		if (l > UINT32_MAX) {
			exact = 0;
			break;
		}
	}
	for (d = 0; d < nseg; d++)
		for (i = seg[d].from; i < seg[d].to; i++) {
			w = a->endpoints[i].weight;
			if (exact)
				w = seg[d].weight * w * (l / seg[d].sum);
			else	/* parts per million of the destination */
				w = (seg[d].weight * w * 1000000 +
				    seg[d].sum / 2) / seg[d].sum;
			if (w == 0)
				w = 1;
			a->endpoints[i].weight = (uint32_t)(w > UINT32_MAX ?
			    UINT32_MAX : w);
			g = vs_gcd(g, a->endpoints[i].weight);
			if (a->endpoints[i].weight > max)
				max = a->endpoints[i].weight;
		}
	for (i = 0; g > 1 && i < a->nendpoints; i++)
		a->endpoints[i].weight /= (uint32_t)g;
}

/*
 * Ring hash without the ring: the endpoint owning the first of its
 * points clockwise from the key, found by scanning every point.  Costs
 * a hash per point, and needs neither memory nor a sort.
 */
static size_t
vs_ring(const struct traffic_policy *p, const struct route_answer *a,
    uint64_t key)
{
	uint64_t	 total = 0, ring, best = UINT64_MAX, h, d, points;
	size_t		 i, j, chosen = 0, n;

	for (i = 0; i < a->nendpoints; i++)
		total += a->endpoints[i].weight;
	ring = p->ring_size < ROUTE_VS_RING_MAX ? p->ring_size :
	    ROUTE_VS_RING_MAX;
	for (i = 0; i < a->nendpoints; i++) {
		const char *addr = a->endpoints[i].address;

		points = ring * a->endpoints[i].weight / total;
		if (points == 0)
			points = 1;
		n = strlen(addr);
		for (j = 0; j < points; j++) {
			h = vs_hash64(addr, n, j + 1);
			d = h - key;
			if (d < best) {
				best = d;
				chosen = i;
			}
		}
	}
	return chosen;
}

/*
 * Maglev: a lookup table where each endpoint takes slots in the order of
 * its own permutation, as often as its weight says.  Built once for a
 * set of endpoints and kept in the state until the set changes.
 */
static size_t
vs_maglev(struct route_state *st, const struct traffic_policy *p,
    const struct route_answer *a, uint64_t key)
{
	uint64_t	 offset[ROUTE_MAX_ENDPOINTS], skip[ROUTE_MAX_ENDPOINTS];
	uint64_t	 next[ROUTE_MAX_ENDPOINTS], credit[ROUTE_MAX_ENDPOINTS];
	uint64_t	 m = p->maglev_size, setkey = m, wmax = 0, c;
	uint32_t	*table, *own = NULL, idx;
	size_t		 i, filled = 0, n = a->nendpoints;
	int		 fresh = 1;

	for (i = 0; i < n; i++) {
		setkey = vs_hash64(a->endpoints[i].address,
		    strlen(a->endpoints[i].address), setkey) ^
		    a->endpoints[i].weight;
		if (a->endpoints[i].weight > wmax)
			wmax = a->endpoints[i].weight;
	}
	if ((table = route_maglev_table(st, setkey, m, &fresh)) == NULL)
		table = own = xcalloc(m, sizeof(*table));
	if (fresh) {
		for (c = 0; c < m; c++)
			table[c] = ROUTE_VS_EMPTY;
		for (i = 0; i < n; i++) {
			size_t l = strlen(a->endpoints[i].address);

			offset[i] = vs_hash64(a->endpoints[i].address, l, 1) %
			    m;
			skip[i] = vs_hash64(a->endpoints[i].address, l, 2) %
			    (m - 1) + 1;
			next[i] = 0;
			credit[i] = 0;
		}
		while (filled < m) {
			for (i = 0; i < n && filled < m; i++) {
				credit[i] += a->endpoints[i].weight;
				if (credit[i] < wmax)
					continue;
				credit[i] -= wmax;
				do {
					c = (offset[i] + next[i] * skip[i]) % m;
					next[i]++;
				} while (table[c] != ROUTE_VS_EMPTY);
				table[c] = (uint32_t)i;
				filled++;
			}
		}
	}
	idx = table[key % m];
	free(own);
	return idx < n ? idx : 0;
}

static void
vs_consistent_hash(struct route_state *st, const struct traffic_policy *p,
    const struct route_query *q, struct route_answer *a)
{
	struct str	 v = { NULL, 0 }, c;
	char		 word[ROUTE_HOST_MAX];
	size_t		 chosen, k;
	int		 n, have = 0;
	uint64_t	 key;

	switch (p->hash) {
	case HASH_HEADER:
		n = snprintf(word, sizeof(word), "header:%s", p->hash_key);
		vary_add(a, word, (size_t)n < sizeof(word) ? (size_t)n :
		    sizeof(word) - 1);
		have = vs_header(q, p->hash_key, &v);
		break;
	case HASH_COOKIE:
		vary_add(a, "header:cookie", 13);
		have = vs_header(q, "cookie", &c) &&
		    vs_cookie(c, p->hash_key, &v);
		break;
	case HASH_SOURCE_IP:
		vary_add(a, "source", 6);
		if (q->source.n > 0) {
			const char *colon = NULL, *s;

			/* "1.2.3.4:5" or "[::1]:5": the address alone */
			for (s = q->source.p; s < q->source.p + q->source.n;
			    s++)
				if (*s == ':')
					colon = s;
			v.p = q->source.p;
			v.n = colon != NULL && q->source.p[0] != '[' &&
			    memchr(q->source.p, ':', (size_t)(colon -
			    q->source.p)) == NULL ? (size_t)(colon -
			    q->source.p) : colon != NULL && q->source.p[0] ==
			    '[' ? (size_t)(colon - q->source.p) : q->source.n;
			have = 1;
		}
		break;
	case HASH_QUERY:
		vary_add(a, "path", 4);
		have = vs_query_param(q->path, p->hash_key, &v);
		break;
	case HASH_NONE:
		return;
	}
	if (!have || a->nendpoints < 2)
		return;
	key = vs_hash64(v.p, v.n, 0);
	chosen = p->maglev ? vs_maglev(st, p, a, key) : vs_ring(p, a, key);
	/* that endpoint first, then the rest in their order */
	for (k = chosen; k > 0; k--) {
		struct route_endpoint t = a->endpoints[k];

		a->endpoints[k] = a->endpoints[k - 1];
		a->endpoints[k - 1] = t;
	}
	a->lb = ROUTE_LB_ORDERED;
}

/* The policy's balancer; a consistent hash picks the endpoint here. */
static void
vs_balance(struct route_state *st, const struct traffic_policy *p,
    const struct route_query *q, struct route_answer *a)
{
	switch (p->simple) {
	case LB_RANDOM:
		a->lb = ROUTE_LB_RANDOM;
		break;
	case LB_LEAST_REQUEST:
		a->lb = ROUTE_LB_LEAST_REQUEST;
		break;
	default:
		break;
	}
	if (p->hash != HASH_NONE)
		vs_consistent_hash(st, p, q, a);
}

void
route_dr_balance(const struct config *cfg, struct route_state *st,
    const char *ns, const struct route_query *q, struct route_answer *a)
{
	const struct traffic_policy	*p;

	if (cfg == NULL || cfg->ndestination_rules == 0)
		return;
	if ((p = vs_policy(cfg, ns, vs_find_dr(cfg, ns, a->service), NULL,
	    a->port)) != NULL)
		vs_balance(st, p, q, a);
}

static void
vs_header_ops(struct route_policy *p, const struct header_operations *o,
    int response)
{
	size_t	 i;
	struct route_header_op *h;

	for (i = 0; i < o->set.n && p->nheaders < ROUTE_MAX_HEADER_OPS; i++) {
		h = &p->headers[p->nheaders++];
		h->kind = response ? ROUTE_RESPONSE_SET : ROUTE_REQUEST_SET;
		util_strlcpy(h->name, o->set.keys[i], sizeof(h->name));
		util_strlcpy(h->value, o->set.values[i], sizeof(h->value));
	}
	for (i = 0; i < o->add.n && p->nheaders < ROUTE_MAX_HEADER_OPS; i++) {
		h = &p->headers[p->nheaders++];
		h->kind = response ? ROUTE_RESPONSE_ADD : ROUTE_REQUEST_ADD;
		util_strlcpy(h->name, o->add.keys[i], sizeof(h->name));
		util_strlcpy(h->value, o->add.values[i], sizeof(h->value));
	}
	for (i = 0; i < o->nremove && p->nheaders < ROUTE_MAX_HEADER_OPS; i++) {
		h = &p->headers[p->nheaders++];
		h->kind = response ? ROUTE_RESPONSE_REMOVE :
		    ROUTE_REQUEST_REMOVE;
		util_strlcpy(h->name, o->remove[i], sizeof(h->name));
		h->value[0] = '\0';
	}
}

/*
 * The new path, whole: a uri rewrite replaces what a prefix match
 * matched (the whole path otherwise), a regex rewrite every match; the
 * query stays.  The answer then depends on the path.
 */
static void
vs_rewrite(const struct http_route *h, const struct http_match *m,
    const struct route_query *q, struct route_answer *a)
{
	const struct http_rewrite	*r = h->rewrite;
	struct route_policy		*p = &a->policy;
	struct str			 path = vs_path(q), rest;
	char				 np[512];
	size_t				 keep = 0;

	if (r->authority != NULL)
		util_strlcpy(p->rewrite_authority, r->authority,
		    sizeof(p->rewrite_authority));
	if (r->uri == NULL && r->regex == NULL)
		return;
	vary_add(a, "path", 4);
	rest.p = path.p + path.n;
	rest.n = q->path.n - path.n;
	if (r->uri != NULL) {
		/* after a prefix match the rest of the path stays */
		if (m != NULL && m->uri.kind == MATCH_PREFIX) {
			keep = strlen(m->uri.value);
			if (keep > path.n)
				keep = path.n;
		} else
			keep = path.n;
		snprintf(np, sizeof(np), "%s%.*s", r->uri,
		    (int)(path.n - keep), path.p + keep);
	} else {
		switch (match_regex_replace(r->regex, path.p, path.n,
		    r->regex_rewrite, np, sizeof(np))) {
		case MATCH_YES:
			break;
		case MATCH_NO:
			snprintf(np, sizeof(np), "%.*s", (int)path.n, path.p);
			break;
		case MATCH_ERROR:
			a->status = ROUTE_ERROR;
			snprintf(a->reason, sizeof(a->reason),
			    "uriRegexRewrite could not be applied (out of "
			    "budget, a path that is not UTF-8, or longer "
			    "than %zu bytes)", sizeof(np) - 1);
			return;
		}
	}
	if (snprintf(p->rewrite_path, sizeof(p->rewrite_path), "%s%.*s", np,
	    (int)rest.n, rest.p) >= (int)sizeof(p->rewrite_path)) {
		p->rewrite_path[0] = '\0';
		a->status = ROUTE_ERROR;
		snprintf(a->reason, sizeof(a->reason), "the rewritten path "
		    "is longer than %zu bytes", sizeof(p->rewrite_path) - 1);
	}
}

static void
vs_mirrors(const struct config *cfg, struct route_state *st,
    const struct http_route *h,
    const char *vsns, const char *ns, uint32_t port, struct route_answer *a)
{
	struct route_names	 nm;
	struct route_match	 m;
	struct route_skips	 sk;
	size_t			 i, from;
	int			 seen;

	memset(&sk, 0, sizeof(sk));
	for (i = 0; i < h->nmirrors && a->policy.nmirrors <
	    ROUTE_MAX_MIRRORS; i++) {
		const struct http_destination *d = &h->mirrors[i];
		const struct dr_subset *ss;
		const struct labels *sub = NULL;

		/* mirrorPercent(age) 0: Istio mirrors nothing */
		if (d->mirror_ppm == 0)
			continue;
		route_names(&nm, d->host, vsns);
		if (route_lookup(cfg, ns, &nm, d->port != 0 ? d->port : port,
		    &m, &seen) == -1)
			continue;
		if (d->subset != NULL && (ss = vs_subset(cfg, ns,
		    vs_find_dr(cfg, ns, m.host), d->subset)) != NULL)
			sub = &ss->labels;
		from = a->nendpoints;
		route_collect(cfg, st, &m, sub, a, &sk);
		if (a->nendpoints > from) {
			struct route_mirror *mr =
			    &a->policy.mirrors[a->policy.nmirrors++];

			util_strlcpy(mr->address, a->endpoints[from].address,
			    sizeof(mr->address));
			util_strlcpy(mr->service, m.host, sizeof(mr->service));
			mr->ppm = d->mirror_ppm;
		}
		a->nendpoints = from;
	}
}

static void
vs_join(char *out, size_t outlen, char *const *v, size_t n)
{
	size_t	 i;
	size_t	 o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s",
		    i > 0 ? "," : "", v[i]);
}

static void
vs_cors(const struct cors_policy *c, struct route_policy *p)
{
	size_t	 i;

	p->cors = 1;
	for (i = 0; i < c->nallow_origins && p->norigins < ROUTE_MAX_ORIGINS;
	    i++) {
		p->origins[p->norigins].kind = (int)c->allow_origins[i].kind;
		util_strlcpy(p->origins[p->norigins].value,
		    c->allow_origins[i].value != NULL ?
		    c->allow_origins[i].value : "",
		    sizeof(p->origins[0].value));
		p->norigins++;
	}
	vs_join(p->cors_methods, sizeof(p->cors_methods), c->allow_methods,
	    c->nallow_methods);
	vs_join(p->cors_allow_headers, sizeof(p->cors_allow_headers),
	    c->allow_headers, c->nallow_headers);
	vs_join(p->cors_expose_headers, sizeof(p->cors_expose_headers),
	    c->expose_headers, c->nexpose_headers);
	p->cors_max_age_ms = c->max_age_ms;
	p->cors_credentials = c->allow_credentials;
}

void
route_vs_decide(const struct config *cfg, struct route_state *st,
    const struct msg_source *src, const struct route_query *q,
    const char *ns, const struct virtual_service *vs, struct route_answer *a)
{
	const struct http_route		*h = NULL;
	const struct http_match		*hit = NULL;
	const struct traffic_policy	*lbp = NULL;
	struct vs_segment		 seg[ROUTE_VS_MAX_DESTINATIONS];
	struct route_names		 nm;
	struct route_match		 m;
	struct route_policy		*p = &a->policy;
	struct route_skips		 sk;
	size_t				 i, j, nseg = 0, ndest = 0;
	uint32_t			 port = a->port;
	char				 rrkey[ROUTE_HOST_MAX + 32];
	char				 name[80];
	int				 seen;
	const char			*vsns = vs->meta.namespace;
	enum match_result		 mr;

	for (i = 0; i < vs->nhttp; i++) {
		h = &vs->http[i];
		if (h->nmatches == 0)
			break;
		for (j = 0; j < h->nmatches; j++) {
			mr = vs_match(&h->matches[j], src, q, port, a);
			if (mr == MATCH_ERROR) {
				/* fail closed: the route may be a 403 */
				a->status = ROUTE_ERROR;
				snprintf(a->reason, sizeof(a->reason),
				    "VirtualService %.40s/%.40s http[%zu] "
				    "match[%zu]: a regex could not be "
				    "matched (out of budget, or not "
				    "UTF-8)", vsns, vs->meta.name, i, j);
				return;
			}
			if (mr == MATCH_YES) {
				hit = &h->matches[j];
				break;
			}
		}
		if (j < h->nmatches)
			break;
	}
	if (i == vs->nhttp) {
		a->status = ROUTE_NO_ROUTE;
		snprintf(a->reason, sizeof(a->reason), "VirtualService %s/%s: "
		    "no http route matches", vsns, vs->meta.name);
		return;
	}
	if (h->name != NULL) {
		snprintf(name, sizeof(name), "%.60s", h->name);
		util_strlcpy(p->route_name, h->name, sizeof(p->route_name));
	} else
		snprintf(name, sizeof(name), "#%zu", i + 1);
	util_strlcpy(a->service, vs->hosts[0], sizeof(a->service));

	a->timeout_ms = h->timeout_ms;
	p->fault_delay_ms = h->fault.delay_ms;
	p->fault_delay_ppm = h->fault.delay_ms != 0 ? h->fault.delay_ppm : 0;
	p->fault_abort_status = h->fault.abort_status;
	p->fault_abort_ppm = h->fault.abort_status != 0 ?
	    h->fault.abort_ppm : 0;
	vs_header_ops(p, &h->headers.request, 0);
	vs_header_ops(p, &h->headers.response, 1);
	if (h->cors != NULL)
		vs_cors(h->cors, p);
	if (h->rewrite != NULL) {
		vs_rewrite(h, hit, q, a);
		if (a->status == ROUTE_ERROR)
			return;
	}

	if (h->redirect != NULL) {
		const struct http_redirect *r = h->redirect;

		p->redirect_code = r->code;
		p->redirect_port = r->derive_port ? port : r->port;
		util_strlcpy(p->redirect_scheme, r->scheme != NULL ?
		    r->scheme : "", sizeof(p->redirect_scheme));
		util_strlcpy(p->redirect_authority, r->authority != NULL ?
		    r->authority : "", sizeof(p->redirect_authority));
		util_strlcpy(p->redirect_uri, r->uri != NULL ? r->uri : "",
		    sizeof(p->redirect_uri));
		snprintf(a->reason, sizeof(a->reason), "VirtualService %s/%s "
		    "route %s: redirect %u", vsns, vs->meta.name, name,
		    r->code);
		return;
	}
	if (h->direct_status != 0) {
		p->direct_status = h->direct_status;
		util_strlcpy(p->direct_body, h->direct_body != NULL ?
		    h->direct_body : "", sizeof(p->direct_body));
		snprintf(a->reason, sizeof(a->reason), "VirtualService %s/%s "
		    "route %s: direct response %u", vsns, vs->meta.name, name,
		    h->direct_status);
		return;
	}
	/* only an answer that forwards has something to retry */
	route_retries(cfg, h->retries, p);

	memset(&sk, 0, sizeof(sk));
	for (i = 0; i < h->nroutes && nseg < ROUTE_VS_MAX_DESTINATIONS; i++) {
		const struct http_destination	*d = &h->routes[i];
		const struct destination_rule	*dr;
		const struct dr_subset		*ss = NULL;
		struct vs_segment		*sg;
		size_t				 k;

		if (d->weight == 0)
			continue;
		ndest++;
		route_names(&nm, d->host, vsns);
		if (route_lookup(cfg, ns, &nm, d->port != 0 ? d->port : port,
		    &m, &seen) == -1) {
			if (sk.skipped++ == 0)
				snprintf(sk.why, sizeof(sk.why), "no service "
				    "for destination %.100s", d->host);
			continue;
		}
		dr = vs_find_dr(cfg, ns, m.host);
		if (d->subset != NULL) {
			ss = vs_subset(cfg, ns, dr, d->subset);
			if (ss == NULL) {
				if (sk.skipped++ == 0)
					snprintf(sk.why, sizeof(sk.why),
					    "subset %.40s of %.80s is in no "
					    "DestinationRule", d->subset,
					    m.host);
				continue;
			}
		}
		sg = &seg[nseg++];
		sg->from = a->nendpoints;
		route_collect(cfg, st, &m, ss != NULL ? &ss->labels : NULL, a,
		    &sk);
		sg->to = a->nendpoints;
		sg->weight = d->weight;
		for (sg->sum = 0, k = sg->from; k < sg->to; k++)
			sg->sum += a->endpoints[k].weight;
		if (nseg == 1) {
			util_strlcpy(a->service, m.host, sizeof(a->service));
			a->port = m.port->number;
			lbp = vs_policy(cfg, ns, dr, ss, m.port->number);
			if (d->subset != NULL)
				util_strlcpy(a->subset, d->subset,
				    sizeof(a->subset));
		} else if (strcmp(a->subset, d->subset != NULL ? d->subset :
		    "") != 0)
			a->subset[0] = '\0';	/* a split: no one subset */
	}
	/* a destination's own headers apply when it is the only one */
	if (ndest == 1 && nseg == 1)
		for (i = 0; i < h->nroutes; i++)
			if (h->routes[i].weight != 0) {
				vs_header_ops(p, &h->routes[i].headers.request,
				    0);
				vs_header_ops(p,
				    &h->routes[i].headers.response, 1);
			}
	if (a->nendpoints == 0 && sk.unresolved > 0) {
		/* not "no endpoints": it may have some in a moment */
		a->status = ROUTE_ERROR;
		if (snprintf(a->reason, sizeof(a->reason), "VirtualService "
		    "%.40s/%.60s route %s: %s", vsns, vs->meta.name, name,
		    sk.why) >= (int)sizeof(a->reason))
			memcpy(a->reason + sizeof(a->reason) - 4, "...", 4);
		return;
	}
	if (nseg > 1)
		vs_weights(a, seg, nseg);
	vs_mirrors(cfg, st, h, vsns, ns, port, a);

	if (lbp != NULL)
		vs_balance(st, lbp, q, a);
	route_tls_decide(cfg, ns, a);
	if (st != NULL && a->nendpoints > 1 && a->lb != ROUTE_LB_ORDERED) {
		snprintf(rrkey, sizeof(rrkey), "%.63s/%.160s#%zu", vsns,
		    vs->meta.name, (size_t)(h - vs->http));
		route_rotate(a, route_rr_next(st, rrkey, a->port));
	}
	/* cut to fit: only logs and meshctl read it */
	if (snprintf(a->reason, sizeof(a->reason), "VirtualService %.40s/%.60s "
	    "route %s: %zu destination%s, %zu endpoint%s%s%.90s%s", vsns,
	    vs->meta.name, name, nseg, nseg == 1 ? "" : "s", a->nendpoints,
	    a->nendpoints == 1 ? "" : "s",
	    sk.skipped > 0 ? "; skipped some, first: " : "", sk.why,
	    sk.skipped > 1 ? " ..." : "") >= (int)sizeof(a->reason))
		memcpy(a->reason + sizeof(a->reason) - 4, "...", 4);
}

const struct destination_rule *
route_destination_rule(const struct config *cfg, const char *ns,
    const char *service)
{
	const struct destination_rule	*dr = NULL;
	struct route_names		 nm;
	size_t				 i;

	if (cfg == NULL)
		return NULL;
	/* a short name as a workload of ns would write it, too */
	route_names(&nm, service, ns);
	for (i = 0; i < nm.n && dr == NULL; i++)
		dr = vs_find_dr(cfg, ns, nm.v[i]);
	return dr;
}

const struct dr_subset *
route_dr_subset(const struct config *cfg, const char *ns,
    const struct destination_rule *dr, const char *name)
{
	return vs_subset(cfg, ns, dr, name);
}

const struct destination_rule *
route_dr_policy_rule(const struct config *cfg, const char *ns,
    const struct destination_rule *dr)
{
	size_t	 i;

	for (i = 0; dr != NULL && i < cfg->ndestination_rules; i++) {
		const struct destination_rule *d = &cfg->destination_rules[i];

		if (d->has_policy && vs_same_rule(dr, d) &&
		    vs_visible(d->export_to, d->nexport_to,
		    d->meta.namespace, ns))
			return d;
	}
	return NULL;
}

int
route_service_endpoints(const struct config *cfg, struct route_state *st,
    const char *ns, const char *service, const char *subset, uint32_t port,
    struct route_answer *a)
{
	const struct dr_subset		*ss = NULL;
	struct route_names		 nm;
	struct route_match		 m;
	struct route_skips		 sk;
	int				 seen;

	route_answer_reset(a, 0);
	route_names(&nm, service, ns);
	if (route_lookup(cfg, ns, &nm, port, &m, &seen) == -1)
		return -1;
	if (subset != NULL && subset[0] != '\0' && (ss = vs_subset(cfg, ns,
	    vs_find_dr(cfg, ns, m.host), subset)) == NULL)
		return -1;
	memset(&sk, 0, sizeof(sk));
	route_collect(cfg, st, &m, ss != NULL ? &ss->labels : NULL, a, &sk);
	return 0;
}
