/* SPDX-License-Identifier: ISC */
/*
 * Checks across resources, as istioctl analyze makes them, on a config
 * that loaded: the references a resource makes (a destination's host
 * and subset, a VirtualService's gateways, a JWT rule's keys), the
 * selectors that pick no workload, and rules that shadow each other.
 * Each message names its resource and, where the tree says, the line
 * of the field at fault.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "config.h"
#include "jwt.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

/* A workload a selector may pick: a Proxy's, or a WorkloadEntry. */
struct an_workload {
	const char		*namespace;
	const struct labels	*labels;
};

struct an_ctx {
	const struct config	*cfg;
	struct analyze_messages	*msgs;
	struct an_workload	*workloads;
	size_t			 nworkloads;
};

static void	 an_add(struct an_ctx *, enum analyze_level, const char *,
		    const char *, const struct resource_meta *,
		    const struct ynode *, const char *, ...)
		    __attribute__((format(printf, 7, 8)));
static const struct ynode *an_spec(const struct config *,
		    const struct resource_meta *);
static const struct ynode *an_at(const struct ynode *, const char *,
		    size_t);
static void	 an_labels_string(const struct labels *, char *, size_t);
static int	 an_selects(const struct an_ctx *, const char *, int,
		    const struct labels *);
static void	 an_destination(struct an_ctx *,
		    const struct virtual_service *,
		    const struct http_destination *, const struct ynode *, int);
static void	 an_virtual_services(struct an_ctx *);
static int	 an_gateway_exists(const struct config *, const char *,
		    const char *);
static void	 an_gateways(struct an_ctx *, const struct virtual_service *,
		    const struct ynode *);
static void	 an_mesh_hosts(struct an_ctx *);
static int	 an_dr_host_known(const struct config *,
		    const struct destination_rule *);
static size_t	 an_subset_workloads(const struct an_ctx *,
		    const struct service_entry *, const struct labels *);
static void	 an_destination_rules(struct an_ctx *);
static void	 an_dr_conflicts(struct an_ctx *);
static void	 an_dr_subset_conflict(struct an_ctx *,
		    const struct destination_rule *,
		    const struct destination_rule *, const struct ynode *,
		    size_t, size_t);
static void	 an_selector(struct an_ctx *, const struct resource_meta *,
		    const struct ynode *, int, const struct labels *, int);
static void	 an_selectors(struct an_ctx *);
static void	 an_jwt_keys(struct an_ctx *);
static int	 an_message_cmp(const void *, const void *);
static void	 an_fqdn(const char *, const char *, char *, size_t);
static int	 an_mesh_bound(const struct virtual_service *);

const char *
analyze_level_name(enum analyze_level l)
{
	return l == ANALYZE_ERROR ? "Error" : l == ANALYZE_WARNING ?
	    "Warning" : "Info";
}

static void
an_add(struct an_ctx *c, enum analyze_level level, const char *code,
    const char *name, const struct resource_meta *m, const struct ynode *at,
    const char *fmt, ...)
{
	struct analyze_messages	*msgs = c->msgs;
	struct analyze_message	*am;
	va_list			 ap;

	msgs->v = xreallocarray(msgs->v, msgs->n + 1, sizeof(*msgs->v));
	am = &msgs->v[msgs->n++];
	memset(am, 0, sizeof(*am));
	am->level = level;
	am->code = code;
	am->name = name;
	am->kind = xstrdup(m->kind);
	am->namespace = xstrdup(m->namespace);
	am->resource = xstrdup(m->name);
	am->file = xstrdup(m->origin.file != NULL ? m->origin.file : "-");
	am->line = at != NULL ? at->line : m->origin.line;
	am->col = at != NULL ? at->col : m->origin.col;
	va_start(ap, fmt);
	if (vasprintf(&am->text, fmt, ap) < 0)
		am->text = xstrdup("(out of memory)");
	va_end(ap);
	if (level == ANALYZE_ERROR)
		msgs->nerrors++;
}

/* The tree of a typed resource: its twin among cfg->resources. */
static const struct ynode *
an_spec(const struct config *cfg, const struct resource_meta *m)
{
	size_t	 i;

	for (i = 0; i < cfg->nresources; i++) {
		const struct resource_meta *r = &cfg->resources[i].meta;

		if (r->origin.file == m->origin.file &&
		    r->origin.line == m->origin.line &&
		    r->origin.col == m->origin.col)
			return cfg->resources[i].spec;
	}
	return NULL;
}

/* n[key][i] (i == (size_t)-1: n[key]), or NULL. */
static const struct ynode *
an_at(const struct ynode *n, const char *key, size_t i)
{
	if (n == NULL || n->type != YNODE_MAP)
		return NULL;
	n = yaml_get(n, key);
	if (n == NULL || i == (size_t)-1)
		return n;
	if (n->type != YNODE_SEQ || i >= n->n)
		return NULL;
	return n->values[i];
}

/* "app=shop,version=v1", by name, as Kubernetes prints a selector */
static void
an_labels_string(const struct labels *lb, char *out, size_t outlen)
{
	size_t	 i, j, o = 0, *order;

	out[0] = '\0';
	if (lb->n == 0)
		return;
	order = xcalloc(lb->n, sizeof(*order));
	for (i = 0; i < lb->n; i++) {
		for (j = i; j > 0 && strcmp(lb->keys[order[j - 1]],
		    lb->keys[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < lb->n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s=%s",
		    i == 0 ? "" : ",", lb->keys[order[i]],
		    lb->values[order[i]]);
	free(order);
}

/*
 * Whether a workload of ns (any namespace when all) has all of
 * selector's labels (no selector: any workload at all).
 */
static int
an_selects(const struct an_ctx *c, const char *ns, int all,
    const struct labels *selector)
{
	size_t	 i;

	for (i = 0; i < c->nworkloads; i++) {
		if (!all && strcmp(c->workloads[i].namespace, ns) != 0)
			continue;
		if (selector == NULL || labels_match(selector,
		    c->workloads[i].labels))
			return 1;
	}
	return 0;
}

/* One route or mirror destination of a VirtualService. */
static void
an_destination(struct an_ctx *c, const struct virtual_service *vs,
    const struct http_destination *d, const struct ynode *at, int mirror)
{
	const struct config		*cfg = c->cfg;
	const struct destination_rule	*dr;
	const char			*ns = vs->meta.namespace, *host;
	const struct ynode		*hn, *sn;

	hn = an_at(at, "host", (size_t)-1);
	sn = an_at(at, "subset", (size_t)-1);
	if (route_service_of(cfg, ns, d->host, &host) == NULL) {
		an_add(c, ANALYZE_ERROR, "IST0101",
		    "ReferencedResourceNotFound", &vs->meta,
		    hn != NULL ? hn : at, "Referenced %s not found: \"%s\"",
		    mirror ? "mirror host" : "host", d->host);
		return;
	}
	if (d->subset == NULL)
		return;
	dr = route_destination_rule(cfg, ns, host);
	if (route_dr_subset(cfg, ns, dr, d->subset) == NULL)
		an_add(c, ANALYZE_ERROR, "IST0101",
		    "ReferencedResourceNotFound", &vs->meta,
		    sn != NULL ? sn : at, "Referenced %s not found: \"%s+%s\"",
		    mirror ? "mirror+subset in destinationrule" :
		    "host+subset in destinationrule", d->host, d->subset);
}

static void
an_virtual_services(struct an_ctx *c)
{
	const struct virtual_service	*vs;
	const struct http_route		*h;
	const struct ynode		*spec, *hr, *at;
	size_t				 i, j, k;

	for (i = 0; i < c->cfg->nvirtual_services; i++) {
		vs = &c->cfg->virtual_services[i];
		spec = an_spec(c->cfg, &vs->meta);
		an_gateways(c, vs, spec);
		for (j = 0; j < vs->nhttp; j++) {
			h = &vs->http[j];
			hr = an_at(spec, "http", j);
			for (k = 0; k < h->nroutes; k++)
				an_destination(c, vs, &h->routes[k],
				    an_at(an_at(hr, "route", k), "destination",
				    (size_t)-1), 0);
			for (k = 0; k < h->nmirrors; k++) {
				/* mirror, or mirrors[] (never both) */
				at = an_at(hr, "mirror", (size_t)-1);
				if (at == NULL)
					at = an_at(an_at(hr, "mirrors", k),
					    "destination", (size_t)-1);
				an_destination(c, vs, &h->mirrors[k], at, 1);
			}
		}
	}
}

/*
 * A Gateway of the config (Istio's, or the Kubernetes Gateway API's),
 * named as a VirtualService names it: "name" in ns, "ns/name", or the
 * older "name.ns".
 */
static int
an_gateway_exists(const struct config *cfg, const char *ns, const char *ref)
{
	const struct ynode	*root, *kind, *api, *md, *name, *gns;
	const char		*slash = strchr(ref, '/'), *dot;
	char			 want_ns[256], want_name[256];
	size_t			 f, d;

	if (slash != NULL) {
		snprintf(want_ns, sizeof(want_ns), "%.*s", (int)(slash - ref),
		    ref);
		snprintf(want_name, sizeof(want_name), "%s", slash + 1);
	} else if ((dot = strchr(ref, '.')) != NULL) {
		snprintf(want_name, sizeof(want_name), "%.*s",
		    (int)(dot - ref), ref);
		snprintf(want_ns, sizeof(want_ns), "%.*s",
		    (int)strcspn(dot + 1, "."), dot + 1);
	} else {
		snprintf(want_ns, sizeof(want_ns), "%s", ns);
		snprintf(want_name, sizeof(want_name), "%s", ref);
	}
	for (f = 0; f < cfg->nfiles; f++)
		for (d = 0; d < cfg->ndocs[f]; d++) {
			root = cfg->docs[f][d].root;
			kind = an_at(root, "kind", (size_t)-1);
			api = an_at(root, "apiVersion", (size_t)-1);
			md = an_at(root, "metadata", (size_t)-1);
			name = an_at(md, "name", (size_t)-1);
			gns = an_at(md, "namespace", (size_t)-1);
			if (kind == NULL || kind->type != YNODE_SCALAR ||
			    strcmp(kind->value, "Gateway") != 0 ||
			    api == NULL || api->type != YNODE_SCALAR ||
			    (strncmp(api->value, "networking.istio.io/", 20) !=
			    0 && strncmp(api->value,
			    "gateway.networking.k8s.io/", 26) != 0) ||
			    name == NULL || name->type != YNODE_SCALAR)
				continue;
			if (strcmp(name->value, want_name) == 0 &&
			    strcmp(gns != NULL && gns->type == YNODE_SCALAR &&
			    gns->len > 0 ? gns->value :
			    CONFIG_DEFAULT_NAMESPACE, want_ns) == 0)
				return 1;
		}
	return 0;
}

static void
an_gateways(struct an_ctx *c, const struct virtual_service *vs,
    const struct ynode *spec)
{
	const struct http_match	*m;
	size_t			 i, j, k;

	for (i = 0; i < vs->ngateways; i++)
		if (strcmp(vs->gateways[i], "mesh") != 0 &&
		    !an_gateway_exists(c->cfg, vs->meta.namespace,
		    vs->gateways[i]))
			an_add(c, ANALYZE_ERROR, "IST0101",
			    "ReferencedResourceNotFound", &vs->meta,
			    an_at(spec, "gateways", i), "Referenced gateway "
			    "not found: \"%s\"", vs->gateways[i]);
	for (i = 0; i < vs->nhttp; i++)
		for (j = 0; j < vs->http[i].nmatches; j++) {
			m = &vs->http[i].matches[j];
			for (k = 0; k < m->ngateways; k++)
				if (strcmp(m->gateways[k], "mesh") != 0 &&
				    !an_gateway_exists(c->cfg,
				    vs->meta.namespace, m->gateways[k]))
					an_add(c, ANALYZE_ERROR, "IST0101",
					    "ReferencedResourceNotFound",
					    &vs->meta, an_at(an_at(an_at(
					    spec, "http", i), "match", j),
					    "gateways", k), "Referenced "
					    "gateway not found: \"%s\"",
					    m->gateways[k]);
		}
}

/*
 * A host as its resource's namespace completes it: "shop" and
 * "shop.ns" are Kubernetes names under .svc.cluster.local.
 */
static void
an_fqdn(const char *host, const char *ns, char *out, size_t outlen)
{
	const char	*dot = strchr(host, '.');

	if (dot == NULL)
		snprintf(out, outlen, "%s.%s.svc.cluster.local", host, ns);
	else if (strchr(dot + 1, '.') == NULL)
		snprintf(out, outlen, "%s.svc.cluster.local", host);
	else
		snprintf(out, outlen, "%s", host);
}

/* A VirtualService the proxies use: no gateways, or "mesh" among them. */
static int
an_mesh_bound(const struct virtual_service *vs)
{
	size_t	 i;

	for (i = 0; i < vs->ngateways; i++)
		if (strcmp(vs->gateways[i], "mesh") == 0)
			return 1;
	return vs->ngateways == 0;
}

/*
 * Two VirtualServices for one host that the same proxies see: only one
 * of them routes it.
 */
static void
an_mesh_hosts(struct an_ctx *c)
{
	const struct config		*cfg = c->cfg;
	const struct virtual_service	*a, *b;
	char				 an[300], bn[300];
	size_t				 i, j, h, k;
	char				 list[512];

	for (i = 0; i < cfg->nvirtual_services; i++) {
		a = &cfg->virtual_services[i];
		if (!an_mesh_bound(a))
			continue;
		for (h = 0; h < a->nhosts; h++) {
			an_fqdn(a->hosts[h], a->meta.namespace, an,
			    sizeof(an));
			snprintf(list, sizeof(list), "%s/%s",
			    a->meta.namespace, a->meta.name);
			for (j = 0; j < cfg->nvirtual_services; j++) {
				b = &cfg->virtual_services[j];
				if (j == i || !an_mesh_bound(b) ||
				    (strcmp(a->meta.namespace,
				    b->meta.namespace) != 0 &&
				    (a->nexport_to > 0 || b->nexport_to > 0)))
					continue;
				for (k = 0; k < b->nhosts; k++) {
					an_fqdn(b->hosts[k],
					    b->meta.namespace, bn, sizeof(bn));
					if (strcmp(an, bn) == 0)
						break;
				}
				if (k < b->nhosts)
					snprintf(list + strlen(list),
					    sizeof(list) - strlen(list),
					    ",%s/%s", b->meta.namespace,
					    b->meta.name);
			}
			if (strchr(list, ',') != NULL)
				an_add(c, ANALYZE_WARNING, "IST0109",
				    "ConflictingMeshGatewayVirtualServiceHosts",
				    &a->meta, an_at(an_spec(cfg, &a->meta),
				    "hosts", h), "The VirtualServices %s "
				    "associated with mesh gateway define the "
				    "same host %s which can lead to undefined "
				    "behavior. This can be fixed by merging "
				    "the conflicting VirtualServices into a "
				    "single resource.", list, a->hosts[h]);
		}
	}
}

/* A rule's host names a service, or a wildcard covers one. */
static int
an_dr_host_known(const struct config *cfg, const struct destination_rule *dr)
{
	const struct service_entry	*v[2];
	size_t				 nv[2], l, i, j, n, m;

	if (route_service_of(cfg, dr->meta.namespace, dr->host, NULL) !=
	    NULL)
		return 1;
	if (dr->host[0] != '*')
		return 0;
	v[0] = cfg->service_entries;
	nv[0] = cfg->nservice_entries;
	v[1] = cfg->kube_services;
	nv[1] = cfg->nkube_services;
	n = strlen(dr->host) - 1;
	for (l = 0; l < 2; l++)
		for (i = 0; i < nv[l]; i++)
			for (j = 0; j < v[l][i].nhosts; j++) {
				m = strlen(v[l][i].hosts[j]);
				if (m > n && strcmp(v[l][i].hosts[j] + m - n,
				    dr->host + 1) == 0)
					return 1;
			}
	return 0;
}

/* The workloads of a service whose labels hold subset's. */
static size_t
an_subset_workloads(const struct an_ctx *c, const struct service_entry *se,
    const struct labels *subset)
{
	const struct config	*cfg = c->cfg;
	size_t			 i, n = 0;

	for (i = 0; i < se->nendpoints; i++)
		n += labels_match(subset, &se->endpoints[i].labels);
	if (!se->has_selector)
		return n;
	for (i = 0; i < cfg->nworkload_entries; i++) {
		const struct workload_entry *we = &cfg->workload_entries[i];

		if (strcmp(we->meta.namespace, se->meta.namespace) == 0 &&
		    labels_match(&se->selector, &we->spec.labels) &&
		    labels_match(subset, &we->spec.labels))
			n++;
	}
	return n;
}

static void
an_destination_rules(struct an_ctx *c)
{
	const struct config		*cfg = c->cfg;
	const struct destination_rule	*dr;
	const struct service_entry	*se;
	size_t				 i, j;

	for (i = 0; i < cfg->ndestination_rules; i++) {
		dr = &cfg->destination_rules[i];
		if (dr->host == NULL)
			continue;
		if (!an_dr_host_known(cfg, dr)) {
			an_add(c, ANALYZE_WARNING, "IST0174",
			    "UnknownDestinationRuleHost", &dr->meta,
			    an_at(an_spec(cfg, &dr->meta), "host", (size_t)-1),
			    "The host %s defined in the DestinationRule does "
			    "not match any services in the mesh.", dr->host);
			continue;
		}
		se = route_service_of(cfg, dr->meta.namespace, dr->host,
		    NULL);
		/* a service by DNS name has no workloads to count */
		if (se == NULL || (se->nendpoints == 0 && !se->has_selector))
			continue;
		for (j = 0; j < dr->nsubsets; j++)
			if (dr->subsets[j].name != NULL &&
			    an_subset_workloads(c, se,
			    &dr->subsets[j].labels) == 0)
				an_add(c, ANALYZE_ERROR, "IST0173",
				    "DestinationRuleSubsetNotSelectPods",
				    &dr->meta, an_at(an_spec(cfg, &dr->meta),
				    "subsets", j), "The Subset %s defined in "
				    "the DestinationRule does not select any "
				    "pods. Which may lead to 503 UH "
				    "(NoHealthyUpstream).",
				    dr->subsets[j].name);
	}
}

/* b's subset k has the name of a's subset m, which hides it. */
static void
an_dr_subset_conflict(struct an_ctx *c, const struct destination_rule *a,
    const struct destination_rule *b, const struct ynode *spec, size_t k,
    size_t m)
{
	const char	*name = b->subsets[k].name;

	if (name == NULL || a->subsets[m].name == NULL ||
	    strcmp(name, a->subsets[m].name) != 0)
		return;
	an_add(c, ANALYZE_WARNING, "MK0001", "ConflictingDestinationRules",
	    &b->meta, an_at(spec, "subsets", k), "The DestinationRules "
	    "%s/%s and %s/%s both define subset %s of host %s: only the "
	    "first one's applies.", a->meta.namespace, a->meta.name,
	    b->meta.namespace, b->meta.name, name, b->host);
}

/*
 * Rules of one namespace for one host are merged, the first one's
 * trafficPolicy and the first definition of a subset winning: what a
 * later rule says there is dropped.
 */
static void
an_dr_conflicts(struct an_ctx *c)
{
	const struct config		*cfg = c->cfg;
	const struct destination_rule	*a, *b;
	char				 an[300], bn[300];
	const struct ynode		*spec;
	size_t				 i, j, k, m;

	for (i = 0; i < cfg->ndestination_rules; i++) {
		b = &cfg->destination_rules[i];
		if (b->host == NULL)
			continue;
		an_fqdn(b->host, b->meta.namespace, bn, sizeof(bn));
		spec = an_spec(cfg, &b->meta);
		for (j = 0; j < i; j++) {
			a = &cfg->destination_rules[j];
			if (a->host == NULL || strcmp(a->meta.namespace,
			    b->meta.namespace) != 0)
				continue;
			an_fqdn(a->host, a->meta.namespace, an, sizeof(an));
			if (strcmp(an, bn) != 0)
				continue;
			if (a->has_policy && b->has_policy)
				an_add(c, ANALYZE_WARNING, "MK0001",
				    "ConflictingDestinationRules", &b->meta,
				    an_at(spec, "trafficPolicy", (size_t)-1),
				    "The DestinationRules %s/%s and %s/%s "
				    "define a trafficPolicy for the same host "
				    "%s: only the first one's applies.",
				    a->meta.namespace, a->meta.name,
				    b->meta.namespace, b->meta.name, b->host);
			for (k = 0; k < b->nsubsets; k++)
				for (m = 0; m < a->nsubsets; m++)
					an_dr_subset_conflict(c, a, b, spec,
					    k, m);
		}
	}
}

/*
 * A policy's selector (or, with none, its namespace) picks no workload:
 * it has no effect.  In the root namespace it reaches every namespace.
 */
static void
an_selector(struct an_ctx *c, const struct resource_meta *m,
    const struct ynode *at, int has_selector, const struct labels *sel,
    int namespace_wide_too)
{
	char	 ls[512];
	int	 all = strcmp(m->namespace, config_root_namespace(c->cfg)) ==
		    0;

	if (!has_selector && (!namespace_wide_too || all))
		return;
	if (an_selects(c, m->namespace, all, has_selector ? sel : NULL))
		return;
	an_labels_string(has_selector ? sel : &(struct labels){ 0 }, ls,
	    sizeof(ls));
	an_add(c, ANALYZE_WARNING, "IST0127", "NoMatchingWorkloadsFound", m,
	    at, "No matching workloads for this resource with the following "
	    "labels: %s", ls);
}

static void
an_selectors(struct an_ctx *c)
{
	const struct config	*cfg = c->cfg;
	const struct service_entry *se;
	size_t			 i, k, n;

	for (i = 0; i < cfg->nauthorization_policies; i++) {
		const struct authorization_policy *ap =
		    &cfg->authorization_policies[i];

		an_selector(c, &ap->meta, an_at(an_spec(cfg, &ap->meta),
		    "selector", (size_t)-1), ap->has_selector &&
		    ap->selector.n > 0, &ap->selector, 1);
	}
	for (i = 0; i < cfg->nrequest_authentications; i++) {
		const struct request_authentication *ra =
		    &cfg->request_authentications[i];

		an_selector(c, &ra->meta, an_at(an_spec(cfg, &ra->meta),
		    "selector", (size_t)-1), ra->has_selector &&
		    ra->selector.n > 0, &ra->selector, 0);
	}
	for (i = 0; i < cfg->npeer_authentications; i++) {
		const struct peer_authentication *pa =
		    &cfg->peer_authentications[i];

		an_selector(c, &pa->meta, an_at(an_spec(cfg, &pa->meta),
		    "selector", (size_t)-1), pa->has_selector, &pa->selector,
		    0);
	}
	/* a service's selector picks WorkloadEntries of its namespace */
	for (k = 0; k < 2; k++) {
		n = k == 0 ? cfg->nservice_entries : cfg->nkube_services;
		for (i = 0; i < n; i++) {
			size_t	 w;
			char	 ls[512];

			se = k == 0 ? &cfg->service_entries[i] :
			    &cfg->kube_services[i];
			if (!se->has_selector || se->selector.n == 0)
				continue;
			for (w = 0; w < cfg->nworkload_entries; w++)
				if (strcmp(cfg->workload_entries[w].meta.
				    namespace, se->meta.namespace) == 0 &&
				    labels_match(&se->selector,
				    &cfg->workload_entries[w].spec.labels))
					break;
			if (w < cfg->nworkload_entries)
				continue;
			an_labels_string(&se->selector, ls, sizeof(ls));
			an_add(c, ANALYZE_WARNING, "IST0127",
			    "NoMatchingWorkloadsFound", &se->meta,
			    an_at(an_spec(cfg, &se->meta), k == 0 ?
			    "workloadSelector" : "selector", (size_t)-1),
			    "No matching workloads for this resource with "
			    "the following labels: %s", ls);
		}
	}
}

/*
 * A JWT rule's keys: an inline JWKS is checked at load; a file:// one
 * can be read here.  A rule without keys fails every token it sees.
 */
static void
an_jwt_keys(struct an_ctx *c)
{
	const struct config	*cfg = c->cfg;
	struct jwks		*keys;
	const struct ynode	*at;
	char			*buf, err[200];
	size_t			 i, j, len;

	for (i = 0; i < cfg->nrequest_authentications; i++) {
		const struct request_authentication *ra =
		    &cfg->request_authentications[i];

		for (j = 0; j < ra->nrules; j++) {
			const struct jwt_rule *r = &ra->rules[j];

			if (r->jwks_uri == NULL ||
			    strncmp(r->jwks_uri, "file://", 7) != 0)
				continue;
			at = an_at(an_at(an_spec(cfg, &ra->meta), "jwtRules",
			    j), "jwksUri", (size_t)-1);
			if ((buf = util_read_file(r->jwks_uri + 7, 1 << 20,
			    &len, err, sizeof(err))) == NULL) {
				an_add(c, ANALYZE_ERROR, "IST0101",
				    "ReferencedResourceNotFound", &ra->meta,
				    at, "Referenced jwksUri file not found: "
				    "\"%s\"", r->jwks_uri + 7);
				continue;
			}
			keys = jwks_parse(buf, len, err, sizeof(err));
			free(buf);
			if (keys == NULL)
				an_add(c, ANALYZE_ERROR, "MK0002",
				    "JwtRuleWithoutKeys", &ra->meta, at,
				    "The JWT rule for issuer %s has no usable "
				    "key in %s: %s; every token it sees fails.",
				    r->issuer, r->jwks_uri, err);
			jwks_free(keys);
		}
	}
}

static int
an_message_cmp(const void *x, const void *y)
{
	const struct analyze_message	*a = x, *b = y;
	int				 d;

	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	if ((d = strcmp(a->file, b->file)) != 0)
		return d;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return strcmp(a->code, b->code);
}

void
analyze_config(const struct config *cfg, struct analyze_messages *msgs)
{
	struct an_ctx	 c;
	size_t		 i, first = msgs->n;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.msgs = msgs;
	c.workloads = xcalloc(cfg->nproxies + cfg->nworkload_entries + 1,
	    sizeof(*c.workloads));
	for (i = 0; i < cfg->nproxies; i++) {
		c.workloads[c.nworkloads].namespace =
		    cfg->proxies[i].workload_namespace != NULL ?
		    cfg->proxies[i].workload_namespace :
		    cfg->proxies[i].meta.namespace;
		c.workloads[c.nworkloads++].labels =
		    &cfg->proxies[i].workload_labels;
	}
	for (i = 0; i < cfg->nworkload_entries; i++) {
		c.workloads[c.nworkloads].namespace =
		    cfg->workload_entries[i].meta.namespace;
		c.workloads[c.nworkloads++].labels =
		    &cfg->workload_entries[i].spec.labels;
	}
	an_virtual_services(&c);
	an_mesh_hosts(&c);
	an_destination_rules(&c);
	an_dr_conflicts(&c);
	an_selectors(&c);
	an_jwt_keys(&c);
	free(c.workloads);
	if (msgs->n - first > 1)
		qsort(msgs->v + first, msgs->n - first, sizeof(*msgs->v),
		    an_message_cmp);
}

void
analyze_sort(struct analyze_messages *msgs)
{
	if (msgs->n > 1)
		qsort(msgs->v, msgs->n, sizeof(*msgs->v), an_message_cmp);
}

void
analyze_load_messages(const struct cfg_errors *errs,
    struct analyze_messages *msgs)
{
	const struct cfg_error	*e;
	struct analyze_message	*am;
	size_t			 i;

	for (i = 0; i < errs->n; i++) {
		e = &errs->v[i];
		if (e->notice && !e->warning)
			continue;
		msgs->v = xreallocarray(msgs->v, msgs->n + 1,
		    sizeof(*msgs->v));
		am = &msgs->v[msgs->n++];
		memset(am, 0, sizeof(*am));
		am->level = e->warning ? ANALYZE_WARNING : ANALYZE_ERROR;
		am->code = e->warning ? "IST0133" : "IST0106";
		am->name = e->warning ? "SchemaWarning" :
		    "SchemaValidationError";
		am->kind = e->kind != NULL ? xstrdup(e->kind) : NULL;
		am->file = xstrdup(e->file);
		am->line = e->line;
		am->col = e->col;
		xasprintf(&am->text, "Schema validation %s: %s",
		    e->warning ? "warning" : "error", e->message);
		if (!e->warning)
			msgs->nerrors++;
	}
}

char *
analyze_message_line(const struct analyze_message *m)
{
	char	*line, where[600];

	if (m->kind != NULL && m->resource != NULL)
		snprintf(where, sizeof(where), "%s %s/%s %s:%d", m->kind,
		    m->namespace, m->resource, m->file, m->line);
	else if (m->line > 0)
		snprintf(where, sizeof(where), "%s:%d:%d", m->file, m->line,
		    m->col);
	else
		snprintf(where, sizeof(where), "%s", m->file);
	xasprintf(&line, "%s [%s] (%s) %s", analyze_level_name(m->level),
	    m->code, where, m->text);
	return line;
}

void
analyze_messages_fini(struct analyze_messages *msgs)
{
	size_t	 i;

	for (i = 0; i < msgs->n; i++) {
		free(msgs->v[i].kind);
		free(msgs->v[i].namespace);
		free(msgs->v[i].resource);
		free(msgs->v[i].file);
		free(msgs->v[i].text);
	}
	free(msgs->v);
	memset(msgs, 0, sizeof(*msgs));
}
