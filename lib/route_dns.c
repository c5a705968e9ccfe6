/* SPDX-License-Identifier: ISC */
/*
 * The table of names route-d resolves (route_dns.h).  Configs name tens of
 * hosts, not thousands: a sorted array would buy nothing a scan costs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "route_dns.h"
#include "util.h"

static void	dns_entry_clear(struct route_dns_entry *);
static void	dns_add_name(char ***, size_t *, const char *);
static int	dns_resolves(const struct service_entry *);

struct route_dns *
route_dns_new(void)
{
	return xcalloc(1, sizeof(struct route_dns));
}

static void
dns_entry_clear(struct route_dns_entry *e)
{
	size_t	 i;

	for (i = 0; i < e->naddrs; i++)
		free(e->addrs[i]);
	e->naddrs = 0;
}

void
route_dns_free(struct route_dns *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		dns_entry_clear(&d->v[i]);
		free(d->v[i].name);
	}
	free(d->v);
	free(d);
}

int
route_dns_is_name(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	char		 tmp[INET6_ADDRSTRLEN + 2];
	size_t		 n;

	if (s == NULL || *s == '\0' || strncmp(s, "unix:", 5) == 0)
		return 0;
	n = strlen(s);
	/* Istio writes IPv6 bare; "[::1]" is an address too */
	if (s[0] == '[' && n > 2 && s[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		s = tmp;
	}
	return inet_pton(AF_INET, s, buf) != 1 &&
	    inet_pton(AF_INET6, s, buf) != 1;
}

static int
dns_resolves(const struct service_entry *se)
{
	return se->resolution == RESOLUTION_DNS ||
	    se->resolution == RESOLUTION_DNS_ROUND_ROBIN;
}

static void
dns_add_name(char ***v, size_t *n, const char *name)
{
	char	*lc;
	size_t	 i, len;

	if (!route_dns_is_name(name) || strchr(name, '*') != NULL)
		return;
	lc = xstrdup(name);
	for (i = 0; lc[i] != '\0'; i++)
		lc[i] = (char)tolower((unsigned char)lc[i]);
	len = strlen(lc);
	if (len > 1 && lc[len - 1] == '.')
		lc[len - 1] = '\0';
	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], lc) == 0) {
			free(lc);
			return;
		}
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = lc;
}

char **
route_dns_wanted(const struct config *cfg, size_t *n)
{
	char	**v = NULL;
	size_t	  i, j;

	*n = 0;
	for (i = 0; cfg != NULL && i < cfg->nservice_entries; i++) {
		const struct service_entry *se = &cfg->service_entries[i];
		const char *sens = se->meta.namespace;

		if (!dns_resolves(se))
			continue;
		for (j = 0; j < se->nendpoints; j++)
			dns_add_name(&v, n, se->endpoints[j].address);
		if (se->has_selector) {
			for (j = 0; j < cfg->nworkload_entries; j++) {
				const struct workload_entry *we =
				    &cfg->workload_entries[j];

				if (strcmp(we->meta.namespace, sens) == 0 &&
				    labels_match(&se->selector,
				    &we->spec.labels))
					dns_add_name(&v, n, we->spec.address);
			}
		} else if (se->nendpoints == 0)
			for (j = 0; j < se->nhosts; j++)
				dns_add_name(&v, n, se->hosts[j]);
	}
	return v;
}

void
route_dns_want(struct route_dns *d, char *const *names, size_t n)
{
	struct route_dns_entry	*v;
	size_t			 i, j;

	v = xcalloc(n > 0 ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		for (j = 0; j < d->n; j++)
			if (d->v[j].name != NULL &&
			    strcmp(d->v[j].name, names[i]) == 0)
				break;
		if (j < d->n) {
			v[i] = d->v[j];		/* moved, with its answer */
			d->v[j].name = NULL;
		} else
			v[i].name = xstrdup(names[i]);
	}
	for (j = 0; j < d->n; j++)
		if (d->v[j].name != NULL) {
			dns_entry_clear(&d->v[j]);
			free(d->v[j].name);
		}
	free(d->v);
	d->v = v;
	d->n = n;
}

void
route_dns_update(struct route_dns *d, const char *name,
    const char *const *addrs, size_t n, const char *error)
{
	struct route_dns_entry	*e = NULL;
	size_t			 i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			e = &d->v[i];
	if (e == NULL)
		return;		/* no longer wanted */
	if (error != NULL) {
		util_strlcpy(e->error, error, sizeof(e->error));
		return;
	}
	dns_entry_clear(e);
	for (i = 0; i < n && i < ROUTE_DNS_MAX_ADDRS; i++)
		e->addrs[e->naddrs++] = xstrdup(addrs[i]);
	e->resolved = 1;
	e->error[0] = '\0';
	e->when_ms = util_now_ms();
}

const struct route_dns_entry *
route_dns_find(const struct route_dns *d, const char *name)
{
	size_t	 i, n;

	if (d == NULL || name == NULL)
		return NULL;
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		n--;
	for (i = 0; i < d->n; i++)
		if (strlen(d->v[i].name) == n &&
		    strncasecmp(d->v[i].name, name, n) == 0)
			return &d->v[i];
	return NULL;
}
