/* SPDX-License-Identifier: ISC */
/*
 * route-d's DNS resolver: evdns on an event_base of its own, in a thread
 * of its own, re-resolving each name of the table on its records' TTL.
 */
#ifndef ROUTE_D_RESOLVER_H
#define ROUTE_D_RESOLVER_H

#include <pthread.h>
#include <stddef.h>

#include "route_dns.h"

#define RESOLVER_TTL_MIN_S	1	/* answers are re-asked no sooner */
#define RESOLVER_TTL_MAX_S	300	/* and no later */
#define RESOLVER_RETRY_S	2	/* after a failed try */
#define RESOLVER_EMPTY_S	5	/* after an answer without addresses */

struct resolver;

/*
 * A resolver configured from conf (resolv.conf's form: nameserver
 * IP[:PORT], search, options), filling table under lock.  NULL on error.
 */
struct resolver *resolver_new(const char *conf, pthread_mutex_t *lock,
	    struct route_dns *table);
/*
 * The names to keep resolved from now on (the table follows at once;
 * names already there keep their addresses).  Takes names.
 */
void	resolver_want(struct resolver *, char **names, size_t n);
/* Resolving in a thread of its own, for the daemon: 0 or -1. */
int	resolver_start(struct resolver *);
/* Resolving in this thread until every name has had one try (filter). */
void	resolver_run_once(struct resolver *, int timeout_ms);
/* Stops the thread and frees everything. */
void	resolver_free(struct resolver *);

#endif
