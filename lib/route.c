/* SPDX-License-Identifier: ISC */
/*
 * Routing decisions from ServiceEntry and WorkloadEntry, and what route-d
 * answers to each message.  The wire form of the route messages of
 * meshkit-ipc(7) is in route_wire.c.
 *
 * A decision is a scan of the config: configs are small (tens to a few
 * hundred services) and a scan of them costs about a microsecond, less
 * than building and keeping an index in step with reloads would save.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "mtls.h"
#include "route.h"
#include "route_dns.h"
#include "route_impl.h"
#include "util.h"

#define ROUTE_DEFAULT_VARY	"authority listener"
#define ROUTE_DECIDE_VARY	"authority listener port"
#define ROUTE_PROGRAM		"route-d"

/* Round-robin counters, open addressing keyed by service host and port. */
struct route_rr {
	char		*host;		/* NULL: free slot */
	uint32_t	 port;
	uint32_t	 hash;
	uint64_t	 count;
};

#define ROUTE_RR_SLOTS_MIN	64
#define ROUTE_RR_SLOTS_MAX	16384

struct route_state {
	struct route_rr		*rr;
	size_t			 rrslots;	/* a power of two */
	size_t			 rrused;
	struct route_stats	 stats;
	/* reused by route_handle_message so that a message costs no malloc */
	struct msg		 msg;
	struct route_query	 query;
	struct route_answer	 answer;
	/* the last maglev table built, for as long as its endpoints last */
	uint32_t		*maglev;
	size_t			 maglev_size;
	uint64_t		 maglev_key;
	const struct route_dns	*dns;
};

static uint32_t	route_hash(const char *, uint32_t);
static void	route_rr_clear(struct route_state *);
static int	route_visible(const struct service_entry *, const char *);
static const struct service_port *route_pick_port(
		    const struct service_entry *, uint32_t);
static uint32_t	route_target_port(const struct workload *,
		    const struct service_port *);
static int	route_add_endpoint(struct route_answer *, const char *,
		    uint32_t, uint32_t, char *, size_t);
static void	route_collect_one(const struct config *,
		    struct route_state *, const struct service_entry *,
		    struct route_answer *, const struct workload *,
		    const char *, const struct service_port *,
		    struct route_skips *);
static void	route_add_workload(struct route_state *,
		    const struct service_entry *, struct route_answer *,
		    const struct workload *, const struct service_port *,
		    struct route_skips *);
static void	route_skip(struct route_skips *, const char *);
static void	route_reverse(struct route_endpoint *, size_t, size_t);
static void	route_lookup_in(const struct service_entry *, size_t,
		    const char *, const struct route_names *, uint32_t,
		    struct route_match *, int *);
static void	route_error_reply(struct route_state *, struct msg_writer *,
		    const char *);
static void	route_status_reply(const struct config *,
		    struct route_state *, uint64_t,
		    struct msg_writer *);
static void	route_route_reply(const struct config *, struct route_state *,
		    struct msg *, uint64_t, uint64_t, struct msg_writer *);

struct route_state *
route_state_new(void)
{
	struct route_state	*st;

	st = xcalloc(1, sizeof(*st));
	st->rrslots = ROUTE_RR_SLOTS_MIN;
	st->rr = xcalloc(st->rrslots, sizeof(*st->rr));
	st->stats.start_ms = util_now_ms();
	msg_init(&st->msg);
	return st;
}

void
route_state_free(struct route_state *st)
{
	if (st == NULL)
		return;
	route_rr_clear(st);
	free(st->rr);
	free(st->maglev);
	msg_fini(&st->msg);
	free(st);
}

void
route_state_set_dns(struct route_state *st, const struct route_dns *dns)
{
	st->dns = dns;
}

struct route_stats *
route_state_stats(struct route_state *st)
{
	return &st->stats;
}

static void
route_rr_clear(struct route_state *st)
{
	size_t	 i;

	for (i = 0; i < st->rrslots; i++) {
		free(st->rr[i].host);
		st->rr[i].host = NULL;
	}
	st->rrused = 0;
}

/* FNV-1a over the host, then the port. */
static uint32_t
route_hash(const char *host, uint32_t port)
{
	uint32_t	 h = 2166136261u;

	for (; *host != '\0'; host++)
		h = (h ^ (unsigned char)*host) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h;
}

/*
 * The counter of host:port, then one more.  Services come from the
 * config, so the table is bounded by it; a table grown past its cap
 * (many reloads naming ever new hosts) starts over, which only resets
 * rotations.
 */
uint64_t
route_rr_next(struct route_state *st, const char *host, uint32_t port)
{
	uint32_t	 h = route_hash(host, port);
	size_t		 i, mask;
	struct route_rr	*r;

	if ((st->rrused + 1) * 4 > st->rrslots * 3) {
		if (st->rrslots >= ROUTE_RR_SLOTS_MAX)
			route_rr_clear(st);
		else {
			struct route_rr	*old = st->rr;
			size_t		 n = st->rrslots, j;

			st->rrslots *= 2;
			st->rr = xcalloc(st->rrslots, sizeof(*st->rr));
			mask = st->rrslots - 1;
			for (j = 0; j < n; j++) {
				if (old[j].host == NULL)
					continue;
				for (i = old[j].hash & mask;
				    st->rr[i].host != NULL; i = (i + 1) & mask)
					;
				st->rr[i] = old[j];
			}
			free(old);
		}
	}
	mask = st->rrslots - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		r = &st->rr[i];
		if (r->host == NULL) {
			r->host = xstrdup(host);
			r->port = port;
			r->hash = h;
			r->count = 0;
			st->rrused++;
			break;
		}
		if (r->hash == h && r->port == port &&
		    strcmp(r->host, host) == 0)
			break;
	}
	return r->count++;
}

/* Decimal digits of v at buf (20 bytes at most); returns their count. */
size_t
route_format_u64(char *buf, uint64_t v)
{
	char	 tmp[20];
	size_t	 n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

int
route_copy(char *dst, size_t dstlen, struct str s)
{
	if (s.n >= dstlen)
		return -1;
	if (s.n > 0)
		memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return 0;
}

/*
 * How well pattern (a ServiceEntry host) names the host name[0..n):
 * 0 not at all; an exact match beats any wildcard, and a longer wildcard
 * suffix beats a shorter one ("*.a.example.com" over "*.example.com").
 */
long
route_host_score(const char *pattern, const char *name, size_t n)
{
	size_t	 pn = strlen(pattern);

	if (pn > 0 && pattern[pn - 1] == '.')
		pn--;
	if (pn == 1 && pattern[0] == '*')
		return 1;
	if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com" wants a label before ".example.com" */
		if (n > pn - 1 && strncasecmp(name + n - (pn - 1), pattern + 1,
		    pn - 1) == 0)
			return 1 + (long)pn;
		return 0;
	}
	if (pn == n && strncasecmp(pattern, name, n) == 0)
		return 1L << 20;
	return 0;
}

/* exportTo: absent or "*" is everyone, "." the entry's own namespace. */
static int
route_visible(const struct service_entry *se, const char *ns)
{
	size_t	 i;

	if (se->nexport_to == 0)
		return 1;
	for (i = 0; i < se->nexport_to; i++) {
		const char *e = se->export_to[i];

		if (strcmp(e, "*") == 0)
			return 1;
		if (strcmp(e, ".") == 0 && se->meta.namespace != NULL &&
		    strcmp(se->meta.namespace, ns) == 0)
			return 1;
		if (strcmp(e, ns) == 0)
			return 1;
	}
	return 0;
}

/*
 * The port of se a request goes to: the one numbered port when the
 * request named one, else 80 when se has it, else se's only port.
 */
static const struct service_port *
route_pick_port(const struct service_entry *se, uint32_t port)
{
	size_t	 i;

	if (port != 0) {
		for (i = 0; i < se->nports; i++)
			if (se->ports[i].number == port)
				return &se->ports[i];
		return NULL;
	}
	for (i = 0; i < se->nports; i++)
		if (se->ports[i].number == 80)
			return &se->ports[i];
	return se->nports == 1 ? &se->ports[0] : NULL;
}

/* Istio's rule: the endpoint's port of that name, targetPort, number. */
static uint32_t
route_target_port(const struct workload *w, const struct service_port *sp)
{
	size_t	 i;

	/* a Kubernetes Service's named targetPort: the pod's port name */
	if (sp->target_port_name != NULL)
		for (i = 0; i < w->ports.n; i++)
			if (w->ports.names[i] != NULL && strcmp(
			    w->ports.names[i], sp->target_port_name) == 0 &&
			    w->ports.numbers[i] != 0)
				return w->ports.numbers[i];
	if (sp->name != NULL)
		for (i = 0; i < w->ports.n; i++)
			if (w->ports.names[i] != NULL &&
			    strcmp(w->ports.names[i], sp->name) == 0 &&
			    w->ports.numbers[i] != 0)
				return w->ports.numbers[i];
	return sp->target_port != 0 ? sp->target_port : sp->number;
}

/* 0, or -1 with why in why when the endpoint cannot be used. */
static int
route_add_endpoint(struct route_answer *a, const char *addr, uint32_t port,
    uint32_t weight, char *why, size_t whylen)
{
	struct in6_addr		 a6;
	struct in_addr		 a4;
	char			 host[INET6_ADDRSTRLEN + 2];
	size_t			 n;
	struct route_endpoint	*e;

	if (addr == NULL || *addr == '\0') {
		snprintf(why, whylen, "an endpoint has no address");
		return -1;
	}
	if (strncmp(addr, "unix:", 5) == 0) {
		snprintf(why, whylen, "%s: unix sockets not supported yet",
		    addr);
		return -1;
	}
	if (port == 0 || port > 65535) {
		snprintf(why, whylen, "%s: bad port %u", addr, port);
		return -1;
	}
	if (a->nendpoints == ROUTE_MAX_ENDPOINTS) {
		snprintf(why, whylen, "more than %d endpoints",
		    ROUTE_MAX_ENDPOINTS);
		return -1;
	}
	/* Istio writes IPv6 bare; tolerate the bracketed form too. */
	n = strlen(addr);
	if (addr[0] == '[' && n > 2 && addr[n - 1] == ']' &&
	    n - 2 < sizeof(host)) {
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
		addr = host;
	}
	e = &a->endpoints[a->nendpoints];
	n = strlen(addr);
	/* Formatted by hand: snprintf was a fifth of a decision's cost. */
	if (n >= INET6_ADDRSTRLEN) {
		snprintf(why, whylen, "%.64s...: not a numeric address",
		    addr);
		return -1;
	} else if (inet_pton(AF_INET, addr, &a4) == 1) {
		memcpy(e->address, addr, n);
		e->address[n++] = ':';
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		e->address[0] = '[';
		memcpy(e->address + 1, addr, n);
		n++;
		e->address[n++] = ']';
		e->address[n++] = ':';
	} else {
		snprintf(why, whylen, "%s: not a numeric address (DNS not "
		    "supported yet)", addr);
		return -1;
	}
	n += route_format_u64(e->address + n, port);
	e->address[n] = '\0';
	e->weight = weight == 0 ? 1 : weight;
	a->nendpoints++;
	return 0;
}

static void
route_skip(struct route_skips *sk, const char *reason)
{
	if (sk->skipped++ == 0)
		util_strlcpy(sk->why, reason, sizeof(sk->why));
}

/*
 * One workload's endpoint; with resolution DNS a name is its addresses
 * as last resolved (DNS_ROUND_ROBIN: the first only, as Envoy's logical
 * DNS connects to the first address of an answer).
 */
static void
route_add_workload(struct route_state *st, const struct service_entry *se,
    struct route_answer *a, const struct workload *w,
    const struct service_port *sp, struct route_skips *sk)
{
	const struct route_dns_entry	*e;
	char				 reason[200];
	uint32_t			 port = route_target_port(w, sp);
	size_t				 i, n;

	if ((se->resolution == RESOLUTION_DNS ||
	    se->resolution == RESOLUTION_DNS_ROUND_ROBIN) &&
	    route_dns_is_name(w->address)) {
		e = route_dns_find(st != NULL ? st->dns : NULL, w->address);
		if (e == NULL || !e->resolved) {
			snprintf(reason, sizeof(reason), "%.100s: not "
			    "resolved yet%s%.40s", w->address,
			    e != NULL && e->error[0] != '\0' ? ": " : "",
			    e != NULL ? e->error : "");
			sk->unresolved++;
			route_skip(sk, reason);
			return;
		}
		if (e->naddrs == 0) {
			snprintf(reason, sizeof(reason), "%.100s: resolved to "
			    "no address", w->address);
			route_skip(sk, reason);
			return;
		}
		n = se->resolution == RESOLUTION_DNS_ROUND_ROBIN ? 1 :
		    e->naddrs;
		for (i = 0; i < n; i++)
			if (route_add_endpoint(a, e->addrs[i], port, w->weight,
			    reason, sizeof(reason)) == -1)
				route_skip(sk, reason);
		return;
	}
	if (route_add_endpoint(a, w->address, port, w->weight, reason,
	    sizeof(reason)) == 0)
		return;
	route_skip(sk, reason);
}

static void
route_reverse(struct route_endpoint *e, size_t from, size_t to)
{
	struct route_endpoint	 t;

	while (from + 1 < to) {
		t = e[from];
		e[from] = e[to - 1];
		e[to - 1] = t;
		from++;
		to--;
	}
}

/*
 * Rotate left in place (three reversals, no scratch copy) so that the
 * endpoint whose turn it is comes first.  With unequal weights the turn
 * walks the weights: count modulo their sum falls on each endpoint as
 * often as its weight says, so answers that are used once each (no
 * reuse) still split traffic by weight.
 */
void
route_rotate(struct route_answer *a, uint64_t count)
{
	size_t		 n = a->nendpoints, k = 0, i;
	uint64_t	 total = 0, pos;

	if (n < 2)
		return;
	for (i = 0; i < n; i++)
		total += a->endpoints[i].weight;
	if (total == (uint64_t)n * a->endpoints[0].weight)
		k = (size_t)(count % n);
	else {
		pos = count % total;
		for (k = 0; k < n - 1 && pos >= a->endpoints[k].weight; k++)
			pos -= a->endpoints[k].weight;
	}
	if (k == 0)
		return;
	route_reverse(a->endpoints, 0, k);
	route_reverse(a->endpoints, k, n);
	route_reverse(a->endpoints, 0, n);
}

void
route_answer_reset(struct route_answer *a, uint64_t id)
{
	/* Field by field: the endpoint array is 17 KiB and mostly unused. */
	a->id = id;
	a->has_id = 1;
	a->status = ROUTE_OK;
	a->service[0] = '\0';
	a->subset[0] = '\0';
	a->port = 0;
	a->nendpoints = 0;
	a->lb = ROUTE_LB_ROUND_ROBIN;
	a->reuse_ms = 0;
	util_strlcpy(a->vary, ROUTE_DEFAULT_VARY, sizeof(a->vary));
	a->timeout_ms = 0;
	a->reason[0] = '\0';
	route_policy_reset(&a->policy);
	route_tls_reset(&a->tls);
}

uint32_t *
route_maglev_table(struct route_state *st, uint64_t key, size_t size,
    int *fresh)
{
	if (st == NULL)
		return NULL;
	*fresh = !(st->maglev != NULL && st->maglev_key == key &&
	    st->maglev_size == size);
	if (*fresh) {
		free(st->maglev);
		st->maglev = xcalloc(size, sizeof(*st->maglev));
		st->maglev_size = size;
		st->maglev_key = key;
	}
	return st->maglev;
}

/* Built by hand: snprintf here was a third of a decision's cost. */
void
route_names(struct route_names *nm, const char *host, const char *ns)
{
	static const char	 suffix[] = ".svc.cluster.local";
	const char		*dot;
	size_t			 hn = strlen(host), nn, o;

	if (hn >= sizeof(nm->v[0]))
		hn = sizeof(nm->v[0]) - 1;
	memcpy(nm->v[0], host, hn);
	nm->v[0][hn] = '\0';
	nm->len[0] = hn;
	nm->n = 1;
	if ((dot = memchr(host, '.', hn)) != NULL &&
	    memchr(dot + 1, '.', hn - (size_t)(dot + 1 - host)) != NULL)
		return;
	nn = dot == NULL ? strlen(ns) : 0;
	if (hn + 1 + nn + sizeof(suffix) > sizeof(nm->v[1]))
		return;
	memcpy(nm->v[1], host, hn);
	o = hn;
	if (dot == NULL) {
		nm->v[1][o++] = '.';
		memcpy(nm->v[1] + o, ns, nn);
		o += nn;
	}
	memcpy(nm->v[1] + o, suffix, sizeof(suffix));
	nm->len[1] = o + sizeof(suffix) - 1;
	nm->n = 2;
}

static void
route_lookup_in(const struct service_entry *v, size_t nv, const char *ns,
    const struct route_names *nm, uint32_t port, struct route_match *best,
    int *host_seen)
{
	size_t	 i, j, k;

	for (i = 0; i < nv; i++) {
		const struct service_entry *se = &v[i];

		if (!route_visible(se, ns))
			continue;
		for (j = 0; j < se->nhosts; j++) {
			const struct service_port *sp;
			long	 score, s;

			for (k = 0, score = 0; k < nm->n; k++) {
				s = route_host_score(se->hosts[j], nm->v[k],
				    nm->len[k]);
				/* the literal host wins a tie */
				s = s * 2 + (k == 0 && s > 0);
				if (s > score)
					score = s;
			}
			if (score == 0)
				continue;
			*host_seen = 1;
			if (score <= best->score ||
			    (sp = route_pick_port(se, port)) == NULL)
				continue;
			best->se = se;
			best->host = se->hosts[j];
			best->port = sp;
			best->score = score;
		}
	}
}

const struct service_entry *
route_service_of(const struct config *cfg, const char *ns, const char *host,
    const char **service_host)
{
	const struct service_entry	*v[2], *se, *best = NULL;
	struct route_names		 nm;
	size_t				 nv[2], l, i, j, k;
	long				 s, score = 0;

	if (cfg == NULL)
		return NULL;
	route_names(&nm, host, ns);
	v[0] = cfg->service_entries;
	nv[0] = cfg->nservice_entries;
	v[1] = cfg->kube_services;
	nv[1] = cfg->nkube_services;
	for (l = 0; l < 2; l++)
		for (i = 0; i < nv[l]; i++) {
			se = &v[l][i];
			if (!route_visible(se, ns))
				continue;
			for (j = 0; j < se->nhosts; j++)
				for (k = 0; k < nm.n; k++) {
					s = route_host_score(se->hosts[j],
					    nm.v[k], nm.len[k]);
					if (s <= score)
						continue;
					score = s;
					best = se;
					if (service_host != NULL)
						*service_host = se->hosts[j];
				}
		}
	return best;
}

int
route_lookup(const struct config *cfg, const char *ns,
    const struct route_names *nm, uint32_t port, struct route_match *best,
    int *host_seen)
{
	memset(best, 0, sizeof(*best));
	*host_seen = 0;
	if (cfg == NULL)
		return -1;
	route_lookup_in(cfg->service_entries, cfg->nservice_entries, ns, nm,
	    port, best, host_seen);
	route_lookup_in(cfg->kube_services, cfg->nkube_services, ns, nm,
	    port, best, host_seen);
	return best->se != NULL ? 0 : -1;
}

/*
 * One workload's endpoints, marked when it runs a meshkit proxy (auto
 * mTLS); its service account is one identity of the service.
 */
static void
route_collect_one(const struct config *cfg, struct route_state *st,
    const struct service_entry *se, struct route_answer *a,
    const struct workload *w, const char *ns,
    const struct service_port *sp, struct route_skips *sk)
{
	size_t	 from = a->nendpoints, i;
	int	 mtls = mtls_endpoint_has_proxy(&w->labels);

	route_add_workload(st, se, a, w, sp, sk);
	for (i = from; i < a->nendpoints; i++)
		a->endpoints[i].mtls = mtls;
	if (a->nendpoints > from)
		route_tls_identity(cfg, a, ns != NULL ? ns :
		    CONFIG_DEFAULT_NAMESPACE, w->service_account);
}

void
route_collect(const struct config *cfg, struct route_state *st,
    const struct route_match *m, const struct labels *subset,
    struct route_answer *a, struct route_skips *sk)
{
	const struct service_entry	*se = m->se;
	struct workload			 host;
	size_t				 i;

	route_tls_known(a, se->subject_alt_names, se->nsubject_alt_names);
	if (se->nendpoints > 0) {
		for (i = 0; i < se->nendpoints; i++)
			if (subset == NULL || labels_match(subset,
			    &se->endpoints[i].labels))
				route_collect_one(cfg, st, se, a,
				    &se->endpoints[i], se->meta.namespace,
				    m->port, sk);
	} else if (se->has_selector) {
		const char *sens = se->meta.namespace != NULL ?
		    se->meta.namespace : CONFIG_DEFAULT_NAMESPACE;

		for (i = 0; i < cfg->nworkload_entries; i++) {
			const struct workload_entry *we =
			    &cfg->workload_entries[i];
			const char *wens = we->meta.namespace != NULL ?
			    we->meta.namespace : CONFIG_DEFAULT_NAMESPACE;

			if (strcmp(wens, sens) != 0 ||
			    !labels_match(&se->selector, &we->spec.labels) ||
			    (subset != NULL && !labels_match(subset,
			    &we->spec.labels)))
				continue;
			route_collect_one(cfg, st, se, a, &we->spec, wens,
			    m->port, sk);
		}
	} else if ((se->resolution == RESOLUTION_DNS ||
	    se->resolution == RESOLUTION_DNS_ROUND_ROBIN) &&
	    subset == NULL) {
		/* Istio: no endpoints, the host itself is the DNS name */
		if (strchr(m->host, '*') != NULL) {
			route_skip(sk, "a wildcard host has no address to "
			    "resolve");
			return;
		}
		memset(&host, 0, sizeof(host));
		host.address = (char *)m->host;
		route_add_workload(st, se, a, &host, m->port, sk);
	}
}

void
route_decide(const struct config *cfg, struct route_state *st,
    const struct msg_source *src, const struct route_query *q,
    uint64_t reuse_ms, struct route_answer *a)
{
	char				 host[ROUTE_HOST_MAX];
	struct route_names		 nm;
	size_t				 i, hn;
	char				 ns[128];
	struct route_skips		 sk;
	int				 aport, host_seen = 0;
	uint32_t			 port;
	struct route_match		 best;
	const struct virtual_service	*vs;

	route_answer_reset(a, q->id);
	a->reuse_ms = reuse_ms;
	util_strlcpy(a->vary, ROUTE_DECIDE_VARY, sizeof(a->vary));

	if (q->inbound) {
		a->status = ROUTE_NO_ROUTE;
		snprintf(a->reason, sizeof(a->reason), "inbound requests are "
		    "forwarded by proxy-d, not routed");
		return;
	}
	if (util_split_hostport(q->authority.p, q->authority.n, host,
	    sizeof(host), &aport, 0) == -1) {
		a->status = ROUTE_NO_ROUTE;
		snprintf(a->reason, sizeof(a->reason), "bad authority \"%.*s\"",
		    (int)(q->authority.n > 128 ? 128 : q->authority.n),
		    q->authority.p != NULL ? q->authority.p : "");
		return;
	}
	hn = strlen(host);
	for (i = 0; i < hn; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (hn > 1 && host[hn - 1] == '.')
		host[--hn] = '\0';
	port = aport != 0 ? (uint32_t)aport : q->port;
	a->port = port;

	/*
	 * The names the host may stand for, most literal first: itself, and
	 * for Kubernetes short names "rating" and "rating.ns" their FQDN as
	 * a pod's resolver search list would make it.
	 */
	if (src != NULL && src->namespace.n > 0 &&
	    src->namespace.n < sizeof(ns))
		route_copy(ns, sizeof(ns), src->namespace);
	else
		util_strlcpy(ns, CONFIG_DEFAULT_NAMESPACE, sizeof(ns));
	route_names(&nm, host, ns);

	if (cfg != NULL && cfg->nvirtual_services > 0 &&
	    (vs = route_vs_find(cfg, ns, &nm)) != NULL) {
		route_vs_decide(cfg, st, src, q, ns, vs, a);
		return;
	}

	if (route_lookup(cfg, ns, &nm, port, &best, &host_seen) == -1) {
		a->status = ROUTE_NO_ROUTE;
		if (host_seen && port == 0)
			snprintf(a->reason, sizeof(a->reason), "no service "
			    "for host %.150s without a port: its services "
			    "have several ports, none 80", host);
		else
			snprintf(a->reason, sizeof(a->reason), "no service "
			    "for host %.200s port %u", host,
			    port != 0 ? port : 80);
		return;
	}

	util_strlcpy(a->service, best.host, sizeof(a->service));
	a->port = best.port->number;
	/* Istio's name for the route it makes without a VirtualService */
	util_strlcpy(a->policy.route_name, "default",
	    sizeof(a->policy.route_name));
	memset(&sk, 0, sizeof(sk));
	route_collect(cfg, st, &best, NULL, a, &sk);
	if (a->nendpoints == 0 && sk.unresolved > 0) {
		/* not "no endpoints": it may have some in a moment */
		a->status = ROUTE_ERROR;
		snprintf(a->reason, sizeof(a->reason), "ServiceEntry %.60s/%.60s "
		    "(resolution DNS): %.150s", best.se->meta.namespace != NULL ?
		    best.se->meta.namespace : "", best.se->meta.name != NULL ?
		    best.se->meta.name : "", sk.why);
		return;
	}
	route_retries(cfg, NULL, &a->policy);
	route_dr_balance(cfg, st, ns, q, a);
	route_tls_decide(cfg, ns, a);

	if (st != NULL && a->nendpoints > 1 && a->lb != ROUTE_LB_ORDERED)
		route_rotate(a, route_rr_next(st, a->service, a->port));
	snprintf(a->reason, sizeof(a->reason), "%s %s/%s host %s "
	    "port %u: %zu endpoint%s%s%s%s",
	    best.se->meta.kind != NULL && strcmp(best.se->meta.kind,
	    "Service") == 0 ? "Service" : "ServiceEntry",
	    best.se->meta.namespace != NULL ? best.se->meta.namespace : "",
	    best.se->meta.name != NULL ? best.se->meta.name : "",
	    best.host, a->port, a->nendpoints, a->nendpoints == 1 ? "" : "s",
	    sk.skipped > 0 ? "; skipped some, first: " : "", sk.why,
	    sk.skipped > 1 ? " ..." : "");
}

static void
route_error_reply(struct route_state *st, struct msg_writer *out,
    const char *reason)
{
	msgw_reset(out);
	msgw_begin(out, "error");
	msgw_fieldf(out, "reason", "%s", reason);
	msgw_fieldf(out, "versions", "%d", MSG_VERSION);
	if (st != NULL) {
		st->stats.bad_messages++;
		util_strlcpy(st->stats.last_error, reason,
		    sizeof(st->stats.last_error));
	}
}

static void
route_status_reply(const struct config *cfg, struct route_state *st,
    uint64_t generation, struct msg_writer *out)
{
	char	*dir;

	msgw_begin(out, "status-reply");
	msgw_field(out, "program", STR_LIT(ROUTE_PROGRAM));
	msgw_field(out, "version", STR_LIT(MESHKIT_VERSION));
	msgw_field_u64(out, "pid", (uint64_t)getpid());
	msgw_field_u64(out, "generation", generation);
	/*
	 * Where meshctl apply writes for this mesh: the directory in full,
	 * so that it means the same from any working directory.  A name
	 * with a line break could not be sent whole: it is left out.
	 */
	if (cfg != NULL && cfg->dir != NULL &&
	    (dir = realpath(cfg->dir, NULL)) != NULL) {
		if (strpbrk(dir, "\r\n") == NULL)
			msgw_fieldf(out, "config", "%s", dir);
		free(dir);
	}
	if (st == NULL)
		return;
	msgw_field_u64(out, "uptime-ms", util_now_ms() - st->stats.start_ms);
	msgw_field_u64(out, "messages", st->stats.messages);
	msgw_field_u64(out, "bad-messages", st->stats.bad_messages);
	msgw_field_u64(out, "queries", st->stats.queries);
	msgw_field_u64(out, "answers-ok", st->stats.answers_ok);
	msgw_field_u64(out, "answers-no-route", st->stats.answers_no_route);
	msgw_field_u64(out, "answers-error", st->stats.answers_error);
	msgw_field_u64(out, "reloads", st->stats.reloads);
	msgw_field_u64(out, "reload-failures", st->stats.reload_failures);
	if (st->dns != NULL) {
		size_t	 i, unresolved = 0;

		for (i = 0; i < st->dns->n; i++)
			unresolved += !st->dns->v[i].resolved;
		msgw_field_u64(out, "dns-names", st->dns->n);
		msgw_field_u64(out, "dns-unresolved", unresolved);
	}
}

static void
route_route_reply(const struct config *cfg, struct route_state *st,
    struct msg *m, uint64_t generation, uint64_t reuse_ms,
    struct msg_writer *out)
{
	struct msg_source	 src;
	struct route_query	 lq, *q = st != NULL ? &st->query : &lq;
	struct route_answer	*a;
	char			 err[200], reason[256];
	size_t			 i;

	if (msg_source_read(m, &src) == -1) {
		route_error_reply(st, out, "header: label: want key=value");
		return;
	}
	/*
	 * A question without an id cannot be answered: refuse the message
	 * before deciding anything, so that a refused message moves no
	 * round-robin counter.  The id comes first in practice, so this
	 * pass looks at one field per record.
	 */
	for (i = 0; i < m->nrecords; i++) {
		if (msg_get_u64(m, &m->records[i], "id", &q->id) == -1) {
			snprintf(reason, sizeof(reason), "record %zu: id: "
			    "missing or not a decimal number", i + 1);
			route_error_reply(st, out, reason);
			return;
		}
	}
	a = st != NULL ? &st->answer : xmalloc(sizeof(*a));
	msgw_begin(out, "route-reply");
	msgw_field_u64(out, "generation", generation);
	for (i = 0; i < m->nrecords; i++) {
		const struct msg_block *b = &m->records[i];

		if (route_query_read(m, b, q, err, sizeof(err)) == 0)
			route_decide(cfg, st, &src, q, reuse_ms, a);
		else {
			/* Only this question is wrong: say so in its answer. */
			msg_get_u64(m, b, "id", &q->id);
			route_answer_reset(a, q->id);
			a->status = ROUTE_ERROR;
			snprintf(a->reason, sizeof(a->reason), "%s", err);
		}
		if (st != NULL) {
			st->stats.queries++;
			if (a->status == ROUTE_OK)
				st->stats.answers_ok++;
			else if (a->status == ROUTE_NO_ROUTE)
				st->stats.answers_no_route++;
			else
				st->stats.answers_error++;
		}
		msgw_record(out);
		route_answer_write(out, a);
		if (out->overflow)
			break;
	}
	if (out->overflow)
		route_error_reply(st, out, "reply larger than 1 MiB: send "
		    "fewer questions per message");
	if (st == NULL)
		free(a);
}

void
route_handle_message(const struct config *cfg, struct route_state *st,
    uint64_t generation, uint64_t reuse_ms, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct msg	 lm, *m = st != NULL ? &st->msg : &lm;
	char		 err[200];

	msgw_reset(out);
	if (st != NULL)
		st->stats.messages++;
	else
		msg_init(&lm);
	if (msg_parse(m, buf, len, err, sizeof(err)) == -1)
		route_error_reply(st, out, err);
	else if (msg_type_is(m, "route"))
		route_route_reply(cfg, st, m, generation, reuse_ms, out);
	else if (msg_type_is(m, "status"))
		route_status_reply(cfg, st, generation, out);
	else {
		snprintf(err, sizeof(err), "unknown message type \"%.*s\"",
		    (int)m->type.n, m->type.p);
		route_error_reply(st, out, err);
	}
	if (st == NULL)
		msg_fini(&lm);
}
