/* SPDX-License-Identifier: ISC */
/*
 * SPIFFE identities as Istio writes them:
 * spiffe://<trust domain>/ns/<namespace>/sa/<service account>, and the
 * principal AuthorizationPolicy matches, the same without "spiffe://".
 */
#ifndef MESHKIT_SPIFFE_H
#define MESHKIT_SPIFFE_H

#include <stddef.h>

#include "util.h"

#define SPIFFE_SCHEME		"spiffe://"
#define SPIFFE_ID_MAX		2048	/* the SPIFFE spec's limit */
#define SPIFFE_DEFAULT_TRUST_DOMAIN "cluster.local"

struct spiffe_id {
	struct str	 trust_domain;
	struct str	 namespace;
	struct str	 service_account;
};

/*
 * A trust domain as SPIFFE allows it: 1 to 255 of a-z, 0-9, '.', '-',
 * '_'.  1 or 0.
 */
int	spiffe_trust_domain_ok(struct str);
/* A path segment: 1 to 253 of A-Z, a-z, 0-9, '.', '-', '_', not . or .. */
int	spiffe_segment_ok(struct str);
/*
 * spiffe://td/ns/NS/sa/SA into buf.  0, or -1 (err set) when a part is
 * not allowed or it does not fit.
 */
int	spiffe_id_format(char *buf, size_t len, const char *trust_domain,
	    const char *namespace, const char *service_account, char *err,
	    size_t errlen);
/*
 * Reads an Istio SPIFFE ID (views into s).  0, or -1 with the fault in
 * err.
 */
int	spiffe_id_parse(struct str s, struct spiffe_id *, char *err,
	    size_t errlen);
/* The principal of an ID: what follows "spiffe://", or NULL. */
const char *spiffe_principal(const char *uri);

#endif
