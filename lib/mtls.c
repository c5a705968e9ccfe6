/* SPDX-License-Identifier: ISC */
/*
 * Istio's precedence of mutual TLS settings (mtls.h).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mtls.h"
#include "util.h"

static const struct peer_authentication *mtls_find(const struct config *,
		    const char *, const struct labels *, int);

const char *
mtls_mode_name(enum peer_mtls_mode m)
{
	switch (m) {
	case PEER_MTLS_DISABLE:
		return "DISABLE";
	case PEER_MTLS_PERMISSIVE:
		return "PERMISSIVE";
	case PEER_MTLS_STRICT:
		return "STRICT";
	default:
		return "UNSET";
	}
}

const char *
mtls_client_mode_name(enum client_tls_mode m)
{
	switch (m) {
	case CLIENT_TLS_SIMPLE:
		return "SIMPLE";
	case CLIENT_TLS_MUTUAL:
		return "MUTUAL";
	case CLIENT_TLS_ISTIO_MUTUAL:
		return "ISTIO_MUTUAL";
	default:
		return "DISABLE";
	}
}

/* The first policy of namespace ns: with a selector matching labels, or
 * (selector 0) without one. */
static const struct peer_authentication *
mtls_find(const struct config *cfg, const char *ns,
    const struct labels *labels, int selector)
{
	const struct peer_authentication	*pa;
	size_t					 i;

	for (i = 0; cfg != NULL && i < cfg->npeer_authentications; i++) {
		pa = &cfg->peer_authentications[i];
		if (strcmp(pa->meta.namespace, ns) != 0)
			continue;
		if (!selector && !pa->has_selector)
			return pa;
		if (selector && pa->has_selector && labels != NULL &&
		    labels_match(&pa->selector, labels))
			return pa;
	}
	return NULL;
}

void
mtls_inbound_mode(const struct config *cfg, const char *root_ns,
    const char *ns, const struct labels *labels, uint32_t port,
    struct mtls_inbound *in)
{
	const struct peer_authentication	*levels[3];
	static const char *const		 names[3] = {
		"mesh", "namespace", "workload"
	};
	enum peer_mtls_mode			 m;
	size_t					 i, j;

	memset(in, 0, sizeof(*in));
	if (root_ns == NULL)
		root_ns = config_root_namespace(cfg);
	in->mesh = mtls_find(cfg, root_ns, NULL, 0);
	in->namespace = strcmp(ns, root_ns) != 0 ?
	    mtls_find(cfg, ns, NULL, 0) : NULL;
	in->workload = mtls_find(cfg, ns, labels, 1);
	levels[0] = in->mesh;
	levels[1] = in->namespace;
	levels[2] = in->workload;
	in->mode = PEER_MTLS_PERMISSIVE;
	snprintf(in->source, sizeof(in->source), "default: no "
	    "PeerAuthentication");
	for (i = 0; i < nitems(levels); i++) {
		if (levels[i] == NULL)
			continue;
		m = levels[i]->mode;
		for (j = 0; port != 0 && j < levels[i]->nports; j++)
			if (levels[i]->ports[j].port == port &&
			    levels[i]->ports[j].mode != PEER_MTLS_UNSET) {
				m = levels[i]->ports[j].mode;
				snprintf(in->source, sizeof(in->source),
				    "PeerAuthentication %s/%s (%s, port %u)",
				    levels[i]->meta.namespace,
				    levels[i]->meta.name, names[i], port);
				break;
			}
		if (m == PEER_MTLS_UNSET)
			continue;
		if (port == 0 || j == levels[i]->nports)
			snprintf(in->source, sizeof(in->source),
			    "PeerAuthentication %s/%s (%s)",
			    levels[i]->meta.namespace, levels[i]->meta.name,
			    names[i]);
		in->mode = m;
	}
}

const struct client_tls *
mtls_client_tls(const struct traffic_policy *subset,
    const struct traffic_policy *top, uint32_t port)
{
	const struct traffic_policy	*pols[2];
	size_t				 i, j;

	pols[0] = subset;
	pols[1] = top;
	for (i = 0; i < nitems(pols); i++) {
		if (pols[i] == NULL)
			continue;
		for (j = 0; port != 0 && j < pols[i]->nports; j++)
			if (pols[i]->ports[j].port == port &&
			    pols[i]->ports[j].policy.tls != NULL)
				return pols[i]->ports[j].policy.tls;
		if (pols[i]->tls != NULL)
			return pols[i]->tls;
	}
	return NULL;
}

const struct client_tls *
mtls_rule_tls(const struct destination_rule *dr, const char *subset,
    uint32_t port)
{
	const struct traffic_policy	*sp = NULL;
	size_t				 i;

	if (dr == NULL)
		return NULL;
	for (i = 0; subset != NULL && i < dr->nsubsets; i++)
		if (strcmp(dr->subsets[i].name, subset) == 0) {
			if (dr->subsets[i].has_policy)
				sp = &dr->subsets[i].policy;
			break;
		}
	return mtls_client_tls(sp, dr->has_policy ? &dr->policy : NULL,
	    port);
}

int
mtls_endpoint_has_proxy(const struct labels *l)
{
	const char	*v = labels_get(l, MTLS_LABEL);

	return v != NULL && strcmp(v, MTLS_LABEL_ISTIO) == 0;
}
