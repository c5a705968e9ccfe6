/* SPDX-License-Identifier: ISC */
/*
 * The TLS of a route-d answer (route.h, meshkit-ipc(7) route-reply):
 * the DestinationRule's trafficPolicy.tls for the destination's subset
 * and port, as Istio resolves it, or auto mTLS: each endpoint whose
 * labels say it runs a meshkit proxy is marked, and proxy-d originates
 * mutual TLS to those only.  For mutual TLS in the mesh the answer
 * carries the identities the destination is known to run as (the
 * ServiceEntry's subjectAltNames, its workloads' service accounts), so
 * that proxy-d checks the server is one of them.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mtls.h"
#include "route.h"
#include "spiffe.h"
#include "util.h"

static const char *const route_tls_modes[] = {
	[ROUTE_TLS_AUTO] = "auto",
	[ROUTE_TLS_DISABLE] = "disable",
	[ROUTE_TLS_SIMPLE] = "simple",
	[ROUTE_TLS_MUTUAL] = "mutual",
	[ROUTE_TLS_ISTIO_MUTUAL] = "istio-mutual",
};

static void	route_tls_add_san(struct route_tls *, const char *);
static void	route_tls_copy(char *, size_t, const char *);

const char *
route_tls_mode_name(enum route_tls_mode m)
{
	return (size_t)m < nitems(route_tls_modes) ? route_tls_modes[m] :
	    "auto";
}

void
route_tls_reset(struct route_tls *t)
{
	t->mode = ROUTE_TLS_AUTO;
	t->sni[0] = t->ca[0] = t->crl[0] = t->cert[0] = t->key[0] = '\0';
	t->insecure = 0;
	t->nsans = 0;
	t->rule_sans = 0;
}

static void
route_tls_add_san(struct route_tls *t, const char *san)
{
	size_t	 i;

	if (strlen(san) >= sizeof(t->sans[0]))
		return;
	for (i = 0; i < t->nsans; i++)
		if (strcmp(t->sans[i], san) == 0)
			return;
	if (t->nsans < ROUTE_MAX_SANS)
		util_strlcpy(t->sans[t->nsans++], san, sizeof(t->sans[0]));
}

static void
route_tls_copy(char *dst, size_t len, const char *src)
{
	util_strlcpy(dst, src != NULL ? src : "", len);
}

void
route_tls_identity(const struct config *cfg, struct route_answer *a,
    const char *ns, const char *service_account)
{
	char	 id[SPIFFE_ID_MAX + 1], err[128];

	if (service_account == NULL || *service_account == '\0' ||
	    spiffe_id_format(id, sizeof(id), config_trust_domain(cfg), ns,
	    service_account, err, sizeof(err)) == -1)
		return;
	route_tls_add_san(&a->tls, id);
}

void
route_tls_known(struct route_answer *a, char *const *sans, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		route_tls_add_san(&a->tls, sans[i]);
}

void
route_tls_decide(const struct config *cfg, const char *ns,
    struct route_answer *a)
{
	const struct destination_rule	*dr, *top;
	const struct dr_subset		*ss = NULL;
	const struct client_tls		*t;
	struct route_tls		*rt = &a->tls;
	size_t				 i;

	if (cfg == NULL || a->service[0] == '\0')
		return;
	dr = route_destination_rule(cfg, ns, a->service);
	if (dr == NULL)
		return;
	if (a->subset[0] != '\0')
		ss = route_dr_subset(cfg, ns, dr, a->subset);
	top = route_dr_policy_rule(cfg, ns, dr);
	t = mtls_client_tls(ss != NULL && ss->has_policy ? &ss->policy :
	    NULL, top != NULL ? &top->policy : NULL, a->port);
	if (t == NULL)
		return;
	switch (t->mode) {
	case CLIENT_TLS_SIMPLE:
		rt->mode = ROUTE_TLS_SIMPLE;
		break;
	case CLIENT_TLS_MUTUAL:
		rt->mode = ROUTE_TLS_MUTUAL;
		break;
	case CLIENT_TLS_ISTIO_MUTUAL:
		rt->mode = ROUTE_TLS_ISTIO_MUTUAL;
		break;
	default:
		rt->mode = ROUTE_TLS_DISABLE;
		rt->nsans = 0;
		return;
	}
	route_tls_copy(rt->sni, sizeof(rt->sni), t->sni);
	route_tls_copy(rt->ca, sizeof(rt->ca), t->ca_certificates);
	route_tls_copy(rt->crl, sizeof(rt->crl), t->ca_crl);
	route_tls_copy(rt->cert, sizeof(rt->cert), t->client_certificate);
	route_tls_copy(rt->key, sizeof(rt->key), t->private_key);
	rt->insecure = t->insecure_skip_verify;
	/* the rule's names replace the identities known of the service */
	if (t->nsubject_alt_names > 0 || rt->mode != ROUTE_TLS_ISTIO_MUTUAL)
		rt->nsans = 0;
	for (i = 0; i < t->nsubject_alt_names; i++)
		route_tls_add_san(rt, t->subject_alt_names[i]);
	rt->rule_sans = t->nsubject_alt_names > 0;
}

void
route_tls_write(struct msg_writer *w, const struct route_tls *t)
{
	size_t	 i;
	int	 mesh = t->mode == ROUTE_TLS_AUTO ||
		    t->mode == ROUTE_TLS_ISTIO_MUTUAL;

	if (t->mode != ROUTE_TLS_AUTO)
		msgw_fieldf(w, "tls", "%s", route_tls_mode_name(t->mode));
	if (t->mode == ROUTE_TLS_DISABLE)
		return;
	if (t->sni[0] != '\0')
		msgw_fieldf(w, "tls-sni", "%s", t->sni);
	if (!mesh && t->ca[0] != '\0')
		msgw_fieldf(w, "tls-ca", "%s", t->ca);
	if (!mesh && t->crl[0] != '\0')
		msgw_fieldf(w, "tls-crl", "%s", t->crl);
	if (t->mode == ROUTE_TLS_MUTUAL && t->cert[0] != '\0')
		msgw_fieldf(w, "tls-cert", "%s", t->cert);
	if (t->mode == ROUTE_TLS_MUTUAL && t->key[0] != '\0')
		msgw_fieldf(w, "tls-key", "%s", t->key);
	if (!mesh && t->insecure)
		msgw_field(w, "tls-insecure", STR_LIT("yes"));
	for (i = 0; i < t->nsans; i++)
		msgw_fieldf(w, "tls-san", "%s", t->sans[i]);
}

int
route_tls_read(struct str k, struct str v, struct route_tls *t, char *err,
    size_t errlen)
{
	char	*dst = NULL;
	size_t	 len = 0, i;

	if (k.n < 3 || memcmp(k.p, "tls", 3) != 0)
		return 0;
	if (util_str_eq(k, "tls")) {
		for (i = 1; i < nitems(route_tls_modes); i++)
			if (util_str_eq(v, route_tls_modes[i])) {
				t->mode = (enum route_tls_mode)i;
				return 1;
			}
		snprintf(err, errlen, "tls: unknown mode");
		return -1;
	}
	if (util_str_eq(k, "tls-insecure")) {
		t->insecure = util_str_eq(v, "yes");
		return 1;
	}
	if (util_str_eq(k, "tls-san")) {
		if (t->nsans == ROUTE_MAX_SANS)
			return 1;
		dst = t->sans[t->nsans];
		len = sizeof(t->sans[0]);
	} else if (util_str_eq(k, "tls-sni")) {
		dst = t->sni;
		len = sizeof(t->sni);
	} else if (util_str_eq(k, "tls-ca")) {
		dst = t->ca;
		len = sizeof(t->ca);
	} else if (util_str_eq(k, "tls-crl")) {
		dst = t->crl;
		len = sizeof(t->crl);
	} else if (util_str_eq(k, "tls-cert")) {
		dst = t->cert;
		len = sizeof(t->cert);
	} else if (util_str_eq(k, "tls-key")) {
		dst = t->key;
		len = sizeof(t->key);
	} else
		return 0;
	if (v.n == 0 || v.n >= len || memchr(v.p, '\0', v.n) != NULL) {
		snprintf(err, errlen, "%.*s: empty or too long", (int)k.n,
		    k.p);
		return -1;
	}
	memcpy(dst, v.p, v.n);
	dst[v.n] = '\0';
	if (util_str_eq(k, "tls-san"))
		t->nsans++;
	return 1;
}
