/* SPDX-License-Identifier: ISC */
/*
 * Names route-d resolves through DNS, and what they resolved to: the
 * endpoint addresses (and, without endpoints, the hosts) of ServiceEntries
 * with resolution DNS or DNS_ROUND_ROBIN, as Istio resolves them.  Plain
 * data: route-d's resolver thread fills the table (lib has no DNS client),
 * decisions read it, both under route-d's lock.
 */
#ifndef MESHKIT_ROUTE_DNS_H
#define MESHKIT_ROUTE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ROUTE_DNS_MAX_ADDRS	64	/* kept per name */

struct route_dns_entry {
	char		*name;		/* lower case, no final dot */
	int		 resolved;	/* has had one answer */
	char		*addrs[ROUTE_DNS_MAX_ADDRS]; /* numeric, IPv4 first */
	size_t		 naddrs;
	uint64_t	 when_ms;	/* util_now_ms() of the last answer */
	char		 error[128];	/* of the last failed try, or "" */
};

struct route_dns {
	struct route_dns_entry	*v;
	size_t			 n;
};

struct route_dns *route_dns_new(void);
void	route_dns_free(struct route_dns *);

/* A name DNS must answer: not numeric, not a unix socket, not empty. */
int	route_dns_is_name(const char *);
/*
 * The names cfg needs resolved, each once (lower case), in a new array
 * of *n strings; free with config_paths_free.
 */
char	**route_dns_wanted(const struct config *, size_t *n);
/*
 * Make the table hold exactly these names: the ones it has keep what
 * they resolved to, new ones start unresolved.
 */
void	route_dns_want(struct route_dns *, char *const *names, size_t n);
/*
 * An answer for name (n addresses, maybe none), or with error set a
 * failed try, which keeps the last good addresses.
 */
void	route_dns_update(struct route_dns *, const char *name,
	    const char *const *addrs, size_t n, const char *error);
const struct route_dns_entry *route_dns_find(const struct route_dns *,
	    const char *name);

#endif
