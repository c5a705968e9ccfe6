/* SPDX-License-Identifier: ISC */
/*
 * Which mutual TLS a connection gets, decided from the config as Istio
 * decides it: on the inbound side the PeerAuthentication in force for a
 * workload and port (mesh, namespace and workload levels, portLevelMtls),
 * on the outbound side a DestinationRule's trafficPolicy.tls at the
 * subset and port of a route, or auto mTLS to an endpoint that runs a
 * meshkit proxy.
 */
#ifndef MESHKIT_MTLS_H
#define MESHKIT_MTLS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* An endpoint with this label and value runs a meshkit proxy (Istio's). */
#define MTLS_LABEL			"security.istio.io/tlsMode"
#define MTLS_LABEL_ISTIO		"istio"

struct mtls_inbound {
	enum peer_mtls_mode	 mode;		/* never UNSET */
	/* "PeerAuthentication NS/NAME (LEVEL[, port N])" or the default */
	char			 source[256];
	/* the policies of each level, NULL when none: for meshctl */
	const struct peer_authentication *mesh;
	const struct peer_authentication *namespace;
	const struct peer_authentication *workload;
};

/*
 * The mode of inbound connections to the workload of namespace ns with
 * labels, on its port (the application's; 0: the policies' own modes
 * only).  A workload's policy (a selector matching its labels, in its
 * namespace) beats its namespace's (no selector), which beats the mesh's
 * (no selector, in root_ns; NULL: MeshConfig's rootNamespace, see
 * config_root_namespace); of several at one level
 * the first in the config (Istio: the oldest).  UNSET inherits from the
 * level out; no policy at all is PERMISSIVE, as in Istio.
 */
void	mtls_inbound_mode(const struct config *, const char *root_ns,
	    const char *ns, const struct labels *, uint32_t port,
	    struct mtls_inbound *);
const char *mtls_mode_name(enum peer_mtls_mode);

/*
 * A DestinationRule's tls for a port (0: none), from the subset's policy
 * (NULL: no subset, or one without) and the rule's top-level policy
 * (NULL: none): the subset's portLevelSettings entry, the subset's, the
 * rule's portLevelSettings entry, the rule's; NULL when none sets it.
 */
const struct client_tls *mtls_client_tls(const struct traffic_policy *subset,
	    const struct traffic_policy *top, uint32_t port);
/* The same for one rule and a subset's name. */
const struct client_tls *mtls_rule_tls(const struct destination_rule *,
	    const char *subset, uint32_t port);
const char *mtls_client_mode_name(enum client_tls_mode);
/* Does the endpoint say it runs a meshkit proxy (auto mTLS)? */
int	mtls_endpoint_has_proxy(const struct labels *);

#endif
