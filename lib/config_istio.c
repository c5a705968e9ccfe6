/* SPDX-License-Identifier: ISC */
/*
 * The Istio kinds meshkit types itself: ServiceEntry and WorkloadEntry.
 * The rules are Istio's own validation, so that a file Istio refuses is
 * refused here too, and each error points at the offending node.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static const char *const resolutions[] = {
	"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", NULL
};
static const char *const locations[] = {
	"MESH_EXTERNAL", "MESH_INTERNAL", NULL
};
/* Istio's protocol names; it reads them in any case. */
static const char *const protocols[] = {
	"HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY", "TCP",
	"TLS", "UDP", "MONGO", "MYSQL", "REDIS", NULL
};

static int	 istio_workload(struct config_loader *, const struct ynode *,
		    const char *, struct workload *);
static void	 istio_workload_fini(struct workload *);
static int	 istio_port_map(struct config_loader *, const struct ynode *,
		    struct port_map *);
static int	 istio_ports(struct config_loader *, const struct ynode *,
		    struct service_entry *);
static int	 istio_port(struct config_loader *, const struct ynode *,
		    struct service_port *);
static int	 istio_protocol(struct config_loader *, const struct ynode *,
		    char **);
static int	 istio_endpoints(struct config_loader *, const struct ynode *,
		    struct service_entry *);
static int	 istio_selector(struct config_loader *, const struct ynode *,
		    struct service_entry *);
static void	 istio_check_entry(struct config_loader *,
		    const struct ynode *, const struct ynode *,
		    const struct service_entry *);
static int	 istio_ip(const char *);
static int	 istio_subnet(const char *);
static void	 istio_host(struct config_loader *, const struct ynode *,
		    const char *);

static void
istio_workload_fini(struct workload *w)
{
	size_t	 i;

	free(w->address);
	for (i = 0; i < w->ports.n; i++)
		free(w->ports.names[i]);
	free(w->ports.names);
	free(w->ports.numbers);
	config_labels_fini(&w->labels);
	free(w->network);
	free(w->locality);
	free(w->service_account);
	memset(w, 0, sizeof(*w));
}

static int
istio_port_map(struct config_loader *l, const struct ynode *n,
    struct port_map *pm)
{
	size_t	 i;
	int	 rc = 0;

	if (config_expect_map(l, n, "ports") == -1)
		return -1;
	pm->names = xcalloc(n->n, sizeof(*pm->names));
	pm->numbers = xcalloc(n->n, sizeof(*pm->numbers));
	for (i = 0; i < n->n; i++) {
		char *name = NULL;

		if (config_string(l, n->keys[i], "port name", &name) == -1) {
			rc = -1;
			continue;
		}
		if (config_u32(l, n->values[i], "port", 1, 65535,
		    &pm->numbers[pm->n]) == -1) {
			free(name);
			rc = -1;
			continue;
		}
		pm->names[pm->n++] = name;
	}
	return rc;
}

/* A WorkloadEntry's spec, or one endpoint of a ServiceEntry. */
static int
istio_workload(struct config_loader *l, const struct ynode *n,
    const char *where, struct workload *w)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, where) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "address"))
			rc |= config_string(l, v, "address", &w->address);
		else if (config_key_is(k, "ports"))
			rc |= istio_port_map(l, v, &w->ports);
		else if (config_key_is(k, "labels"))
			rc |= config_labels(l, v, "labels", &w->labels);
		else if (config_key_is(k, "weight"))
			rc |= config_u32(l, v, "weight", 0, UINT32_MAX,
			    &w->weight);
		else if (config_key_is(k, "serviceAccount"))
			/* its mTLS identity: proxies check servers by it */
			rc |= config_string(l, v, k->value,
			    &w->service_account);
		else if (config_key_is(k, "network") ||
		    config_key_is(k, "locality")) {
			char	**out, w2[80];

			out = config_key_is(k, "network") ? &w->network :
			    &w->locality;
			if (config_string(l, v, k->value, out) == -1) {
				rc = -1;
				continue;
			}
			/* one network, one locality */
			snprintf(w2, sizeof(w2), "%s%s",
			    strcmp(where, "WorkloadEntry spec") == 0 ? "" :
			    "endpoints[].", k->value);
			if ((*out)[0] != '\0')
				config_ignored(l, k, w2);
		} else {
			config_unknown_field(l, k, where);
			rc = -1;
		}
	}
	/* only a workload behind another network's gateway has none */
	if ((w->address == NULL || w->address[0] == '\0') &&
	    w->network == NULL && rc == 0) {
		config_error(l, n, "address is required in %s", where);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
istio_protocol(struct config_loader *l, const struct ynode *n, char **out)
{
	char	*p = NULL, *c;
	int	 idx;

	if (config_string(l, n, "protocol", &p) == -1)
		return -1;
	for (c = p; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	for (idx = 0; protocols[idx] != NULL; idx++)
		if (strcmp(protocols[idx], p) == 0)
			break;
	if (protocols[idx] == NULL) {
		/* config_enum words the message the same way as elsewhere */
		free(p);
		config_enum(l, n, "protocol", protocols, &idx);
		return -1;
	}
	free(*out);
	*out = p;
	return 0;
}

static int
istio_port(struct config_loader *l, const struct ynode *n,
    struct service_port *p)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0, has_number = 0;

	if (config_expect_map(l, n, "a port") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "number")) {
			if (config_u32(l, v, "port", 1, 65535,
			    &p->number) == -1)
				rc = -1;
			else
				has_number = 1;
		} else if (config_key_is(k, "name"))
			rc |= config_string(l, v, "port name", &p->name);
		else if (config_key_is(k, "protocol"))
			rc |= istio_protocol(l, v, &p->protocol);
		else if (config_key_is(k, "targetPort"))
			rc |= config_u32(l, v, "targetPort", 1, 65535,
			    &p->target_port);
		else {
			config_unknown_field(l, k, "ServiceEntry port");
			rc = -1;
		}
	}
	if (!has_number && rc == 0) {
		config_error(l, n, "port number is required");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
istio_ports(struct config_loader *l, const struct ynode *n,
    struct service_entry *se)
{
	size_t	 i, j;
	int	 rc = 0;

	if (n->type != YNODE_SEQ) {
		config_error(l, n, "ports must be a list");
		return -1;
	}
	se->ports = xcalloc(n->n, sizeof(*se->ports));
	for (i = 0; i < n->n; i++) {
		struct service_port *p = &se->ports[se->nports];

		se->nports++;
		if (istio_port(l, n->values[i], p) == -1) {
			rc = -1;
			continue;
		}
		for (j = 0; j + 1 < se->nports; j++) {
			const struct service_port *q = &se->ports[j];

			if (q->number == p->number) {
				config_error(l, n->values[i], "duplicate port "
				    "number %u", p->number);
				rc = -1;
			} else if (q->name != NULL && p->name != NULL &&
			    strcmp(q->name, p->name) == 0) {
				config_error(l, n->values[i], "duplicate port "
				    "name %s", p->name);
				rc = -1;
			}
		}
	}
	return rc;
}

static int
istio_endpoints(struct config_loader *l, const struct ynode *n,
    struct service_entry *se)
{
	size_t	 i;
	int	 rc = 0;

	if (n->type != YNODE_SEQ) {
		config_error(l, n, "endpoints must be a list");
		return -1;
	}
	se->endpoints = xcalloc(n->n, sizeof(*se->endpoints));
	for (i = 0; i < n->n; i++)
		if (istio_workload(l, n->values[i], "ServiceEntry endpoint",
		    &se->endpoints[se->nendpoints++]) == -1)
			rc = -1;
	return rc;
}

static int
istio_selector(struct config_loader *l, const struct ynode *n,
    struct service_entry *se)
{
	size_t	 i;
	int	 rc = 0;

	if (config_expect_map(l, n, "workloadSelector") == -1)
		return -1;
	se->has_selector = 1;
	for (i = 0; i < n->n; i++) {
		if (config_key_is(n->keys[i], "labels")) {
			if (!config_is_null(n->values[i]))
				rc |= config_labels(l, n->values[i],
				    "workloadSelector.labels", &se->selector);
		} else {
			config_unknown_field(l, n->keys[i],
			    "ServiceEntry workloadSelector");
			rc = -1;
		}
	}
	return rc;
}

static int
istio_ip(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static int
istio_subnet(const char *s)
{
	struct ip_block	 b;

	return config_ip_block(s, &b) == 0;
}

/* A ServiceEntry host: a domain name, "*." first at most; not "*". */
static void
istio_host(struct config_loader *l, const struct ynode *n, const char *h)
{
	if (h[0] == '\0')
		config_error(l, n, "a host must not be empty");
	else if (strcmp(h, "*") == 0)
		config_error(l, n, "host \"*\" is not allowed in a "
		    "ServiceEntry: name the hosts");
	else if (!config_domain_name(h, 1))
		config_error(l, n, "host \"%.100s\" is not a domain name "
		    "(letters, digits, '-', and '*.' first at most)", h);
}

/* The rules that tie fields together, checked once all are read. */
static void
istio_check_entry(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, const struct service_entry *se)
{
	const struct ynode	*eps, *ep, *pm;
	size_t			 i, j, k;

	eps = yaml_get(spec, "endpoints");
	if (config_is_null(yaml_get(spec, "hosts")))
		config_error(l, spec != NULL ? spec : root,
		    "hosts is required in ServiceEntry spec");
	for (i = 0; i < se->naddresses; i++)
		if (strchr(se->addresses[i], '/') != NULL &&
		    se->resolution != RESOLUTION_NONE &&
		    se->resolution != RESOLUTION_STATIC) {
			config_error(l, yaml_get(spec, "addresses"), "CIDR "
			    "addresses are allowed only with resolution NONE "
			    "or STATIC");
			break;
		}
	if (se->resolution == RESOLUTION_NONE && se->nendpoints > 0)
		config_error(l, eps, "endpoints need resolution STATIC or DNS "
		    "(resolution is NONE)");
	if (se->resolution == RESOLUTION_DNS_ROUND_ROBIN &&
	    se->nendpoints > 1)
		config_error(l, eps, "resolution DNS_ROUND_ROBIN takes at "
		    "most one endpoint");
	/* without endpoints, DNS resolves the hosts themselves */
	if ((se->resolution == RESOLUTION_DNS ||
	    se->resolution == RESOLUTION_DNS_ROUND_ROBIN) &&
	    se->nendpoints == 0 && !se->has_selector)
		for (i = 0; i < se->nhosts; i++)
			if (strchr(se->hosts[i], '*') != NULL)
				config_error(l, yaml_get(spec, "hosts"),
				    "host \"%.100s\": a wildcard cannot be "
				    "resolved: resolution DNS without endpoints "
				    "wants names", se->hosts[i]);
	if (eps == NULL || eps->type != YNODE_SEQ)
		return;
	for (i = 0; i < se->nendpoints && i < eps->n; i++) {
		const struct workload *w = &se->endpoints[i];

		ep = eps->values[i];
		if ((se->resolution == RESOLUTION_DNS ||
		    se->resolution == RESOLUTION_DNS_ROUND_ROBIN) &&
		    w->address != NULL &&
		    strncmp(w->address, "unix://", 7) == 0)
			config_error(l, yaml_get(ep, "address"), "a unix "
			    "socket endpoint cannot have resolution DNS");
		if (se->resolution == RESOLUTION_STATIC && w->address !=
		    NULL && !istio_ip(w->address) &&
		    strncmp(w->address, "unix://", 7) != 0)
			config_error(l, yaml_get(ep, "address"), "endpoint "
			    "address must be an IP address or unix:// path "
			    "with resolution STATIC, got \"%s\"", w->address);
		/* an endpoint remaps the service's ports by their names */
		pm = yaml_get(ep, "ports");
		if (pm == NULL || pm->type != YNODE_MAP)
			continue;
		for (j = 0; j < w->ports.n; j++) {
			for (k = 0; k < se->nports; k++)
				if (se->ports[k].name != NULL && strcmp(
				    se->ports[k].name, w->ports.names[j]) == 0)
					break;
			if (k == se->nports && j < pm->n)
				config_error(l, pm->keys[j], "endpoint port "
				    "%s is not a port name of the ServiceEntry",
				    w->ports.names[j]);
		}
	}
}

void
config_service_entry(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct service_entry *se)
{
	const struct ynode	*k, *v, *sel;
	size_t			 i, h;
	int			 idx, failed = 0;

	for (i = 0; spec != NULL && i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "hosts")) {
			if (config_string_list(l, v, "hosts", &se->hosts,
			    &se->nhosts) == -1)
				failed = 1;
			else if (se->nhosts == 0)
				config_error(l, v, "hosts must not be empty");
			else
				for (h = 0; h < se->nhosts; h++)
					istio_host(l, v->values[h],
					    se->hosts[h]);
		} else if (config_key_is(k, "addresses")) {
			if (config_string_list(l, v, "addresses",
			    &se->addresses, &se->naddresses) == -1) {
				failed = 1;
				continue;
			}
			for (h = 0; h < se->naddresses; h++)
				if (!istio_subnet(se->addresses[h])) {
					config_error(l, v->values[h],
					    "address \"%.100s\" is not an IP "
					    "address or a CIDR block",
					    se->addresses[h]);
					failed = 1;
				}
			/* route-d routes by host, not by a VIP */
			if (!failed && se->naddresses > 0)
				config_ignored(l, k, "addresses");
		}
		else if (config_key_is(k, "ports"))
			failed |= istio_ports(l, v, se) == -1;
		else if (config_key_is(k, "location")) {
			if (config_enum(l, v, "location", locations,
			    &idx) == 0)
				se->mesh_internal = idx == 1;
			/* external is what meshkit does: plain connections */
			if (se->mesh_internal)
				config_ignored(l, k, "location MESH_INTERNAL");
		} else if (config_key_is(k, "resolution")) {
			if (config_enum(l, v, "resolution", resolutions,
			    &idx) == 0)
				se->resolution = (enum resolution)idx;
		} else if (config_key_is(k, "endpoints"))
			failed |= istio_endpoints(l, v, se) == -1;
		else if (config_key_is(k, "workloadSelector"))
			failed |= istio_selector(l, v, se) == -1;
		else if (config_key_is(k, "exportTo"))
			failed |= config_string_list(l, v, "exportTo",
			    &se->export_to, &se->nexport_to) == -1;
		else if (config_key_is(k, "subjectAltNames"))
			/* what proxy-d checks a server's mTLS identity with */
			failed |= config_string_list(l, v, "subjectAltNames",
			    &se->subject_alt_names,
			    &se->nsubject_alt_names) == -1;
		else
			config_unknown_field(l, k, "ServiceEntry spec");
	}
	sel = yaml_get(spec, "workloadSelector");
	if (!config_is_null(sel) && !config_is_null(yaml_get(spec,
	    "endpoints")))
		config_error(l, sel, "workloadSelector and endpoints cannot "
		    "both be set");
	/* the other rules, on half-read fields, would only add noise */
	if (!failed)
		istio_check_entry(l, root, spec, se);
}

void
config_workload_entry(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct workload_entry *we)
{
	if (spec == NULL) {
		config_error(l, root, "spec with an address is required in "
		    "WorkloadEntry");
		return;
	}
	istio_workload(l, spec, "WorkloadEntry spec", &we->spec);
}

void
config_service_entry_fini(struct service_entry *se)
{
	size_t	 i;

	config_meta_fini(&se->meta);
	config_strings_free(se->hosts, se->nhosts);
	config_strings_free(se->addresses, se->naddresses);
	for (i = 0; i < se->nports; i++) {
		free(se->ports[i].name);
		free(se->ports[i].protocol);
		free(se->ports[i].target_port_name);
	}
	free(se->ports);
	for (i = 0; i < se->nendpoints; i++)
		istio_workload_fini(&se->endpoints[i]);
	free(se->endpoints);
	config_labels_fini(&se->selector);
	config_strings_free(se->export_to, se->nexport_to);
	config_strings_free(se->subject_alt_names, se->nsubject_alt_names);
	memset(se, 0, sizeof(*se));
}

void
config_workload_entry_fini(struct workload_entry *we)
{
	config_meta_fini(&we->meta);
	istio_workload_fini(&we->spec);
}
