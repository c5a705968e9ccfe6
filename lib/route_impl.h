/* SPDX-License-Identifier: ISC */
/*
 * Inside the route module: what route.c (decisions, route-d's message
 * handling) and route_wire.c (reading and writing the route messages)
 * share.  Not for other modules.
 */
#ifndef MESHKIT_ROUTE_IMPL_H
#define MESHKIT_ROUTE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"
#include "util.h"

#define ROUTE_HOST_MAX		256

/* The best service host for a query so far. */
struct route_match {
	const struct service_entry	*se;
	const char			*host;
	const struct service_port	*port;
	long				 score;
};

/*
 * The names a host may stand for, most literal first: itself and, for
 * Kubernetes short names, their FQDN in namespace ns.
 */
struct route_names {
	char		 v[3][ROUTE_HOST_MAX + 160];
	size_t		 len[3];
	size_t		 n;
};

void	route_names(struct route_names *, const char *host, const char *ns);
long	route_host_score(const char *pattern, const char *name, size_t n);
/*
 * The service (ServiceEntry or Kubernetes Service visible from ns) for
 * names and port; 0, or -1 with host_seen telling whether a service had
 * the host on other ports.
 */
int	route_lookup(const struct config *, const char *ns,
	    const struct route_names *, uint32_t port, struct route_match *,
	    int *host_seen);
/* What a collection of endpoints left out, and why. */
struct route_skips {
	size_t		 skipped;	/* endpoints left out */
	size_t		 unresolved;	/* of them, names not resolved yet */
	char		 why[160];	/* the first one's reason */
};

/*
 * Appends the endpoints of m's service whose labels match subset (NULL:
 * all), names resolved through st's DNS table; counts and explains the
 * ones skipped.
 */
void	route_collect(const struct config *, struct route_state *,
	    const struct route_match *, const struct labels *subset,
	    struct route_answer *, struct route_skips *);
uint64_t route_rr_next(struct route_state *, const char *, uint32_t);
void	route_rotate(struct route_answer *, uint64_t);
/* The state's maglev table for n endpoints, or NULL (route_vs.c). */
uint32_t *route_maglev_table(struct route_state *, uint64_t key,
	    size_t size, int *fresh);

/* route_vs.c: the answer when a VirtualService names the host. */
const struct virtual_service *route_vs_find(const struct config *,
	    const char *ns, const struct route_names *);
void	route_vs_decide(const struct config *, struct route_state *,
	    const struct msg_source *, const struct route_query *,
	    const char *ns, const struct virtual_service *,
	    struct route_answer *);
void	route_policy_reset(struct route_policy *);
/*
 * Without a VirtualService: the balancer of the DestinationRule of the
 * answer's service and port, as Istio applies a rule's trafficPolicy to
 * every request for its host.
 */
void	route_dr_balance(const struct config *, struct route_state *,
	    const char *ns, const struct route_query *,
	    struct route_answer *);
/*
 * The retry policy of a forwarding answer: the route's own (own, NULL
 * without), over MeshConfig's defaultHttpRetryPolicy, over Istio's
 * built-in default.
 */
void	route_retries(const struct config *, const struct http_retries *own,
	    struct route_policy *);

/* Empty the answer for a question (field by field: it is large). */
void	route_answer_reset(struct route_answer *, uint64_t id);
/* Decimal digits of v at buf (20 bytes at most); returns their count. */
size_t	route_format_u64(char *buf, uint64_t v);
/* s as a C string in dst; -1 if it does not fit. */
int	route_copy(char *dst, size_t dstlen, struct str s);

#endif
