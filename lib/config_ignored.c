/* SPDX-License-Identifier: ISC */
/*
 * Istio fields meshkit reads and checks, as Istio checks them, but does
 * not act on: each gives a warning at its key ("... is not supported by
 * meshkit and is ignored") so that neither a typo nor a silently dropped
 * meaning goes unnoticed.  A value Istio would refuse is an error here
 * too.  Nothing of them is kept.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static int	 ign_locality(const char *);
static int	 ign_subnet(const char *);
static int	 ign_l4_match(struct config_loader *, const struct ynode *,
		    const char *, int, char *const *, size_t);
static int	 ign_l4_route(struct config_loader *, const struct ynode *,
		    const char *);
static int	 ign_l4(struct config_loader *, const struct ynode *,
		    const char *, int, char *const *, size_t);
static int	 ign_host_covered(const char *, char *const *, size_t);

/* "region/zone/subzone", parts not empty, one '*' at the very end. */
static int
ign_locality(const char *s)
{
	const char	*star = strchr(s, '*');
	const char	*p;
	int		 parts = 0;

	if (star != NULL && star[1] != '\0')
		return 0;
	for (p = s;; p++) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (len == 0 || ++parts > 3)
			return 0;
		if (slash == NULL)
			return 1;
		p = slash;
	}
}

/* An address or a CIDR block, as Istio's ValidateIPSubnet. */
static int
ign_subnet(const char *s)
{
	struct ip_block	 b;

	return config_ip_block(s, &b) == 0;
}

/* Whether an SNI host is a subset of one of the VirtualService's hosts. */
static int
ign_host_covered(const char *sni, char *const *hosts, size_t nhosts)
{
	size_t	 i, n, m;

	for (i = 0; i < nhosts; i++) {
		if (strcmp(hosts[i], "*") == 0 || strcasecmp(hosts[i], sni) ==
		    0)
			return 1;
		if (hosts[i][0] != '*')
			continue;
		/* "*.example.com" covers "a.example.com", "*.a.example.com" */
		n = strlen(hosts[i]) - 1;
		m = strlen(sni);
		if (m > n && strcasecmp(sni + m - n, hosts[i] + 1) == 0)
			return 1;
	}
	return 0;
}

int
config_tunnel(struct config_loader *l, const struct ynode *key,
    const struct ynode *n)
{
	static const char *const protocols[] = { "CONNECT", "POST", NULL };
	const struct ynode	*v;
	char			*host = NULL;
	uint32_t		 port;
	int			 rc = 0, idx;

	if (config_keys(l, n, "tunnel", (const char *[]){ "protocol",
	    "targetHost", "targetPort", NULL }) == -1)
		return -1;
	if (!config_is_null(v = yaml_get(n, "protocol")) &&
	    config_enum(l, v, "tunnel protocol", protocols, &idx) == -1)
		rc = -1;
	v = yaml_get(n, "targetHost");
	if (config_is_null(v)) {
		config_error(l, n, "tunnel: targetHost is required");
		rc = -1;
	} else if (config_string(l, v, "tunnel targetHost", &host) == 0 &&
	    !config_domain_name(host, 0) && !config_ip_address(host)) {
		config_error(l, v, "tunnel targetHost must be a domain name or "
		    "an IP address, got \"%.100s\"", host);
		rc = -1;
	} else if (host == NULL)
		rc = -1;
	free(host);
	v = yaml_get(n, "targetPort");
	if (config_is_null(v)) {
		config_error(l, n, "tunnel: targetPort is required");
		rc = -1;
	} else if (config_u32(l, v, "tunnel targetPort", 1, 65535, &port) ==
	    -1)
		rc = -1;
	if (rc == 0)
		config_ignored(l, key, "trafficPolicy.tunnel");
	return rc;
}

int
config_proxy_protocol(struct config_loader *l, const struct ynode *key,
    const struct ynode *n)
{
	static const char *const versions[] = { "V1", "V2", NULL };
	const struct ynode	*v;
	int			 idx;

	if (config_keys(l, n, "proxyProtocol", (const char *[]){ "version",
	    NULL }) == -1)
		return -1;
	if (!config_is_null(v = yaml_get(n, "version")) &&
	    config_enum(l, v, "proxyProtocol version", versions, &idx) == -1)
		return -1;
	config_ignored(l, key, "trafficPolicy.proxyProtocol");
	return 0;
}

int
config_locality_lb(struct config_loader *l, const struct ynode *key,
    const struct ynode *n)
{
	const struct ynode	*k, *v, *e, *to;
	size_t			 i, j, t;
	int			 rc = 0, enabled = 1;
	uint32_t		 w, sum;
	char			*from, *dest;

	if (config_keys(l, n, "localityLbSetting", (const char *[]){
	    "enabled", "distribute", "failover", "failoverPriority",
	    NULL }) == -1)
		return -1;
	if (!config_is_null(yaml_get(n, "distribute")) &&
	    !config_is_null(yaml_get(n, "failover"))) {
		config_error(l, n, "localityLbSetting: distribute and failover "
		    "cannot both be given");
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "enabled")) {
			rc |= config_bool(l, v, "localityLbSetting enabled",
			    &enabled);
			continue;
		}
		if (config_key_is(k, "failoverPriority")) {
			char	**fp = NULL;
			size_t	  nfp = 0;

			if (config_string_list(l, v, "failoverPriority", &fp,
			    &nfp) == -1)
				rc = -1;
			config_strings_free(fp, nfp);
			continue;
		}
		if (config_seq(l, v, k->value) == -1) {
			rc = -1;
			continue;
		}
		for (j = 0; j < v->n; j++) {
			e = v->values[j];
			if (config_keys(l, e, k->value, (const char *[]){
			    "from", "to", NULL }) == -1) {
				rc = -1;
				continue;
			}
			from = dest = NULL;
			if (!config_is_null(yaml_get(e, "from")))
				rc |= config_string(l, yaml_get(e, "from"),
				    "from", &from);
			to = yaml_get(e, "to");
			if (config_key_is(k, "failover")) {
				if (!config_is_null(to))
					rc |= config_string(l, to, "to", &dest);
				if (from == NULL || dest == NULL ||
				    strcmp(from, dest) == 0 ||
				    strpbrk(from, "/*") != NULL ||
				    strpbrk(dest, "/*") != NULL) {
					config_error(l, e, "localityLbSetting "
					    "failover: from and to must be two "
					    "different regions, without '/' or "
					    "'*'");
					rc = -1;
				}
			} else {
				if (from == NULL || !ign_locality(from)) {
					config_error(l, e, "localityLbSetting "
					    "distribute: from must be a "
					    "locality region/zone/subzone, '*' "
					    "only at the end");
					rc = -1;
				}
				if (config_is_null(to) || config_expect_map(l,
				    to, "distribute to") == -1) {
					if (config_is_null(to))
						config_error(l, e,
						    "distribute: to is "
						    "required");
					rc = -1;
					free(from);
					continue;
				}
				for (t = 0, sum = 0; t < to->n; t++) {
					if (config_u32(l, to->values[t],
					    "locality weight", 1, 100, &w) ==
					    -1) {
						rc = -1;
						continue;
					}
					sum += w;
					if (!ign_locality(to->keys[t]->value)) {
						config_error(l, to->keys[t],
						    "distribute to: a locality "
						    "region/zone/subzone, '*' "
						    "only at the end");
						rc = -1;
					}
				}
				if (rc == 0 && sum != 100) {
					config_error(l, to, "distribute to: "
					    "weights must sum to 100, got %u",
					    sum);
					rc = -1;
				}
			}
			free(from);
			free(dest);
		}
	}
	/* enabled: false asks for what meshkit does, one locality */
	if (rc == 0 && enabled)
		config_ignored(l, key, "trafficPolicy.loadBalancer."
		    "localityLbSetting");
	return rc == 0 ? 0 : -1;
}

int
config_warmup(struct config_loader *l, const struct ynode *key,
    const struct ynode *n)
{
	const struct ynode	*v;
	uint64_t		 ms;
	uint32_t		 pct;
	char			*end;
	double			 d;
	int			 rc = 0;

	/* warmupDurationSecs: the older form, a duration */
	if (config_key_is(key, "warmupDurationSecs")) {
		if (config_duration(l, n, "warmupDurationSecs", &ms) == -1)
			return -1;
		config_ignored(l, key, "trafficPolicy.loadBalancer."
		    "warmupDurationSecs");
		return 0;
	}
	if (config_keys(l, n, "warmup", (const char *[]){ "duration",
	    "minimumPercent", "aggression", NULL }) == -1)
		return -1;
	if (config_is_null(v = yaml_get(n, "duration"))) {
		config_error(l, n, "warmup: duration is required");
		rc = -1;
	} else
		rc |= config_duration(l, v, "warmup duration", &ms);
	if (!config_is_null(v = yaml_get(n, "minimumPercent")))
		rc |= config_u32(l, v, "warmup minimumPercent", 0, 100, &pct);
	v = yaml_get(n, "aggression");
	if (!config_is_null(v)) {
		d = v->type == YNODE_SCALAR ? strtod(v->value, &end) : 0;
		if (v->type != YNODE_SCALAR || *end != '\0' || !isfinite(d) ||
		    d <= 0) {
			config_error(l, v, "warmup aggression must be a number "
			    "greater than 0");
			rc = -1;
		}
	}
	if (rc == 0)
		config_ignored(l, key, "trafficPolicy.loadBalancer.warmup");
	return rc == 0 ? 0 : -1;
}

int
config_tcp_keepalive(struct config_loader *l, const struct ynode *key,
    const struct ynode *n)
{
	const struct ynode	*v;
	uint64_t		 ms;
	uint32_t		 probes;
	int			 rc = 0;

	if (config_keys(l, n, "tcpKeepalive", (const char *[]){ "probes",
	    "time", "interval", NULL }) == -1)
		return -1;
	if (!config_is_null(v = yaml_get(n, "probes")))
		rc |= config_u32(l, v, "tcpKeepalive probes", 0, UINT32_MAX,
		    &probes);
	if (!config_is_null(v = yaml_get(n, "time")))
		rc |= config_duration(l, v, "tcpKeepalive time", &ms);
	if (!config_is_null(v = yaml_get(n, "interval")))
		rc |= config_duration(l, v, "tcpKeepalive interval", &ms);
	if (rc == 0)
		config_ignored(l, key, "connectionPool.tcp.tcpKeepalive");
	return rc == 0 ? 0 : -1;
}

/* VirtualService tcp and tls routes. */

static int
ign_l4_match(struct config_loader *l, const struct ynode *n,
    const char *what, int tls, char *const *hosts, size_t nhosts)
{
	const struct ynode	*k, *v;
	struct labels		 lb;
	char			**list = NULL, *s = NULL;
	size_t			  i, j, nlist = 0;
	uint32_t		  port;
	int			  rc = 0, sni = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "port"))
			rc |= config_u32(l, v, "match port", 1, 65535, &port);
		else if (config_key_is(k, "sourceLabels")) {
			memset(&lb, 0, sizeof(lb));
			rc |= config_labels(l, v, "sourceLabels", &lb);
			config_labels_fini(&lb);
		} else if (config_key_is(k, "sourceNamespace") ||
		    (!tls && config_key_is(k, "sourceSubnet"))) {
			rc |= config_string(l, v, k->value, &s);
			free(s);
			s = NULL;
		} else if (config_key_is(k, "destinationSubnets") ||
		    config_key_is(k, "gateways") ||
		    (tls && config_key_is(k, "sniHosts"))) {
			if (config_string_list(l, v, k->value, &list,
			    &nlist) == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < nlist; j++) {
				if (config_key_is(k, "destinationSubnets") &&
				    !ign_subnet(list[j])) {
					config_error(l, v->values[j], "%s: "
					    "\"%.100s\" is not an IP address "
					    "or CIDR block", k->value, list[j]);
					rc = -1;
				}
				if (!config_key_is(k, "sniHosts"))
					continue;
				sni++;
				if (!config_domain_name(list[j], 1) &&
				    !config_ip_address(list[j])) {
					config_error(l, v->values[j],
					    "sniHosts: \"%.100s\" is not a "
					    "domain name", list[j]);
					rc = -1;
				} else if (!ign_host_covered(list[j], hosts,
				    nhosts)) {
					config_error(l, v->values[j],
					    "SNI host \"%.100s\" is not one "
					    "of the VirtualService's hosts",
					    list[j]);
					rc = -1;
				}
			}
			config_strings_free(list, nlist);
			list = NULL;
			nlist = 0;
		} else {
			config_unknown_field(l, k, what);
			rc = -1;
		}
	}
	if (rc == 0 && tls && sni == 0) {
		config_error(l, n, "a tls match needs at least one of "
		    "sniHosts");
		rc = -1;
	}
	return rc;
}

/* route[]: {destination: {host, subset, port}, weight} */
static int
ign_l4_route(struct config_loader *l, const struct ynode *n, const char *what)
{
	const struct ynode	*d, *v;
	char			*host = NULL, *subset = NULL;
	uint32_t		 weight = 0, port;
	size_t			 i;
	int			 rc = 0, total = 0;

	if (config_seq(l, n, "route") == -1)
		return -1;
	if (n->n == 0) {
		config_error(l, n, "%s: route is required", what);
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		if (config_keys(l, n->values[i], "route", (const char *[]){
		    "destination", "weight", NULL }) == -1) {
			rc = -1;
			continue;
		}
		if (!config_is_null(v = yaml_get(n->values[i], "weight"))) {
			if (config_u32(l, v, "weight", 0, 100, &weight) == -1)
				rc = -1;
			total += weight;
		}
		d = yaml_get(n->values[i], "destination");
		if (config_is_null(d)) {
			config_error(l, n->values[i], "%s: destination is "
			    "required", what);
			rc = -1;
			continue;
		}
		if (config_keys(l, d, "destination", (const char *[]){ "host",
		    "subset", "port", NULL }) == -1) {
			rc = -1;
			continue;
		}
		if (config_is_null(v = yaml_get(d, "host")) ||
		    config_string(l, v, "destination host", &host) == -1 ||
		    strcmp(host, "*") == 0 || !config_domain_name(host, 1)) {
			config_error(l, v != NULL ? v : d, "%s: destination "
			    "host must be a domain name", what);
			rc = -1;
		}
		free(host);
		host = NULL;
		if (!config_is_null(v = yaml_get(d, "subset")) &&
		    config_string(l, v, "destination subset", &subset) == 0 &&
		    (subset[0] == '\0' || !config_domain_name(subset, 0) ||
		    strchr(subset, '.') != NULL)) {
			config_error(l, v, "destination subset \"%.100s\" is "
			    "not a valid subset name", subset);
			rc = -1;
		}
		free(subset);
		subset = NULL;
		if (!config_is_null(v = yaml_get(d, "port"))) {
			if (config_keys(l, v, "destination port",
			    (const char *[]){ "number", NULL }) == -1 ||
			    config_is_null(yaml_get(v, "number")) ||
			    config_u32(l, yaml_get(v, "number"), "port number",
			    1, 65535, &port) == -1)
				rc = -1;
		}
	}
	if (rc == 0 && n->n > 1 && total == 0) {
		config_error(l, n, "%s: total destination weight is 0", what);
		rc = -1;
	}
	return rc;
}

static int
ign_l4(struct config_loader *l, const struct ynode *n, const char *what,
    int tls, char *const *hosts, size_t nhosts)
{
	const struct ynode	*m, *r;
	size_t			 i;
	int			 rc = 0;

	if (config_keys(l, n, what, (const char *[]){ "match", "route",
	    NULL }) == -1)
		return -1;
	m = yaml_get(n, "match");
	if (!config_is_null(m)) {
		if (config_seq(l, m, "match") == -1)
			rc = -1;
		else
			for (i = 0; i < m->n; i++)
				rc |= ign_l4_match(l, m->values[i], what, tls,
				    hosts, nhosts);
	}
	if (tls && (config_is_null(m) || m->n == 0)) {
		config_error(l, n, "%s needs at least one match", what);
		rc = -1;
	}
	r = yaml_get(n, "route");
	if (config_is_null(r)) {
		config_error(l, n, "%s: route is required", what);
		rc = -1;
	} else
		rc |= ign_l4_route(l, r, what);
	return rc == 0 ? 0 : -1;
}

int
config_l4_routes(struct config_loader *l, const struct ynode *key,
    const struct ynode *n, char *const *hosts, size_t nhosts)
{
	int	 tls = config_key_is(key, "tls"), rc = 0;
	size_t	 i;

	if (config_seq(l, n, tls ? "tls" : "tcp") == -1)
		return -1;
	for (i = 0; i < n->n; i++)
		rc |= ign_l4(l, n->values[i], tls ? "tls route" : "tcp route",
		    tls, hosts, nhosts);
	if (rc == 0 && n->n > 0)
		config_warn(l, key, "VirtualService %s is not supported by "
		    "meshkit and is ignored: proxy-d routes HTTP only",
		    tls ? "tls" : "tcp");
	return rc == 0 ? 0 : -1;
}
