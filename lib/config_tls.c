/* SPDX-License-Identifier: ISC */
/*
 * The TLS settings of the config, typed and checked as Istio checks them:
 * PeerAuthentication (what a workload accepts) and a DestinationRule's
 * trafficPolicy.tls (how a client connects); proxy-d acts on them
 * (lib/mtls.c decides which applies).  credentialName, a Kubernetes
 * secret, is the one field that warns: meshkit reads files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static int	 tls_peer_mode(struct config_loader *, const struct ynode *,
		    const char *, enum peer_mtls_mode *);
static void	 tls_peer_ports(struct config_loader *, const struct ynode *,
		    struct peer_authentication *);
static int	 tls_nonempty(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	 tls_check(struct config_loader *, const struct ynode *,
		    const char *, const struct client_tls *);

/* PeerAuthentication. */

/* {mode: M}, where what is "mtls" or "portLevelMtls[80]" */
static int
tls_peer_mode(struct config_loader *l, const struct ynode *n,
    const char *what, enum peer_mtls_mode *out)
{
	static const char *const modes[] = {
		"UNSET", "DISABLE", "PERMISSIVE", "STRICT", NULL
	};
	const struct ynode	*m;
	char			 w[64];
	int			 idx;

	if (config_keys(l, n, what, (const char *[]){ "mode", NULL }) == -1)
		return -1;
	m = yaml_get(n, "mode");
	if (config_is_null(m)) {
		*out = PEER_MTLS_UNSET;
		return 0;
	}
	snprintf(w, sizeof(w), "%s.mode", what);
	if (config_enum(l, m, w, modes, &idx) == -1)
		return -1;
	*out = (enum peer_mtls_mode)idx;
	return 0;
}

static void
tls_peer_ports(struct config_loader *l, const struct ynode *n,
    struct peer_authentication *pa)
{
	struct peer_port_mtls	*pp;
	size_t			 i;
	char			 what[48];

	if (config_expect_map(l, n, "portLevelMtls") == -1)
		return;
	if (n->n == 0) {
		config_error(l, n, "portLevelMtls, if given, must have at "
		    "least one port");
		return;
	}
	pa->ports = xcalloc(n->n, sizeof(*pa->ports));
	for (i = 0; i < n->n; i++) {
		pp = &pa->ports[pa->nports];
		if (config_u32(l, n->keys[i], "portLevelMtls port", 1, 65535,
		    &pp->port) == -1)
			continue;
		snprintf(what, sizeof(what), "portLevelMtls[%u]", pp->port);
		if (config_is_null(n->values[i])) {
			config_error(l, n->keys[i], "%s needs a mode", what);
			continue;
		}
		if (tls_peer_mode(l, n->values[i], what, &pp->mode) == -1)
			continue;
		pa->nports++;
	}
}

void
config_peer_authentication(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct peer_authentication *pa)
{
	const struct ynode	*k, *v, *ports = NULL;
	size_t			 i;

	for (i = 0; spec != NULL && i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_key_is(k, "portLevelMtls")) {
			/* {} is a mistake Istio names, not an absence */
			ports = config_is_null(v) ? NULL : v;
			continue;
		}
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector")) {
			/* has_selector: with labels (config.h) */
			config_security_selector(l, v, &pa->selector,
			    &pa->has_selector);
			pa->has_selector = pa->selector.n > 0;
		}
		else if (config_key_is(k, "mtls"))
			tls_peer_mode(l, v, "mtls", &pa->mode);
		else
			config_unknown_field(l, k, "PeerAuthentication spec");
	}
	if (ports == NULL)
		return;
	/* a port of the namespace or of the mesh means nothing */
	if (!pa->has_selector) {
		config_error(l, ports, "portLevelMtls requires a selector "
		    "with matchLabels: a namespace- or mesh-wide "
		    "PeerAuthentication cannot have port-level mTLS");
		return;
	}
	tls_peer_ports(l, ports, pa);
}

void
config_peer_authentication_fini(struct peer_authentication *pa)
{
	config_meta_fini(&pa->meta);
	config_labels_fini(&pa->selector);
	free(pa->ports);
	memset(pa, 0, sizeof(*pa));
}

/* DestinationRule trafficPolicy.tls. */

/* A string field that must say something when given. */
static int
tls_nonempty(struct config_loader *l, const struct ynode *n,
    const char *what, char **out)
{
	if (config_string(l, n, what, out) == -1)
		return -1;
	if ((*out)[0] == '\0') {
		/* "" is Istio's "absent": keep it so */
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* Istio's rules across fields, each error at the tls map. */
static int
tls_check(struct config_loader *l, const struct ynode *n, const char *where,
    const struct client_tls *t)
{
	const char	*cm = "configmap://", *slash;
	int		 rc = 0;

	if (t->credential_name != NULL &&
	    strncmp(t->credential_name, cm, strlen(cm)) == 0) {
		const char *rest = t->credential_name + strlen(cm);

		slash = strchr(rest, '/');
		if (slash == NULL || slash == rest || slash[1] == '\0') {
			config_error(l, n, "%s: credentialName %s: want "
			    "configmap://NAMESPACE/NAME", where,
			    t->credential_name);
			rc = -1;
		} else if (l->namespace == NULL ||
		    strlen(l->namespace) != (size_t)(slash - rest) ||
		    strncmp(rest, l->namespace, (size_t)(slash - rest)) != 0) {
			config_error(l, n, "%s: credentialName %s: the "
			    "namespace must be the rule's own, %s", where,
			    t->credential_name,
			    l->namespace != NULL ? l->namespace : "");
			rc = -1;
		}
	}
	if (t->insecure_skip_verify && t->mode == CLIENT_TLS_SIMPLE &&
	    (t->ca_certificates != NULL || t->credential_name != NULL ||
	    t->nsubject_alt_names > 0)) {
		config_error(l, n, "%s: insecureSkipVerify cannot go with "
		    "caCertificates, credentialName or subjectAltNames",
		    where);
		rc = -1;
	}
	if (t->insecure_skip_verify && t->mode == CLIENT_TLS_MUTUAL &&
	    (t->ca_certificates != NULL || t->nsubject_alt_names > 0)) {
		config_error(l, n, "%s: insecureSkipVerify cannot go with "
		    "caCertificates or subjectAltNames", where);
		rc = -1;
	}
	if ((t->mode == CLIENT_TLS_SIMPLE || t->mode == CLIENT_TLS_MUTUAL) &&
	    t->credential_name != NULL) {
		if (t->client_certificate != NULL || t->private_key != NULL ||
		    t->ca_certificates != NULL || t->ca_crl != NULL) {
			config_error(l, n, "%s: with credentialName, "
			    "clientCertificate, privateKey, caCertificates "
			    "and caCrl must not be given (the secret holds "
			    "them)", where);
			rc = -1;
		}
		return rc;
	}
	if (t->mode == CLIENT_TLS_MUTUAL) {
		if (t->client_certificate == NULL) {
			config_error(l, n, "%s: mode MUTUAL needs "
			    "clientCertificate (or credentialName)", where);
			rc = -1;
		}
		if (t->private_key == NULL) {
			config_error(l, n, "%s: mode MUTUAL needs privateKey "
			    "(or credentialName)", where);
			rc = -1;
		}
	}
	return rc;
}

int
config_client_tls(struct config_loader *l, const struct ynode *key,
    const struct ynode *n, const char *where, struct client_tls **out)
{
	static const char *const modes[] = {
		"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL
	};
	struct client_tls	*t;
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0, idx;
	char			 w[96];

	if (config_expect_map(l, n, where) == -1)
		return -1;
	t = xcalloc(1, sizeof(*t));
	t->origin.file = l->file;
	t->origin.line = key->line;
	t->origin.col = key->col;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		snprintf(w, sizeof(w), "%s.%s", where, k->value);
		if (config_key_is(k, "mode")) {
			if (config_enum(l, v, w, modes, &idx) == -1)
				rc = -1;
			else
				t->mode = (enum client_tls_mode)idx;
		} else if (config_key_is(k, "clientCertificate"))
			rc |= tls_nonempty(l, v, w, &t->client_certificate);
		else if (config_key_is(k, "privateKey"))
			rc |= tls_nonempty(l, v, w, &t->private_key);
		else if (config_key_is(k, "caCertificates"))
			rc |= tls_nonempty(l, v, w, &t->ca_certificates);
		else if (config_key_is(k, "caCrl"))
			rc |= tls_nonempty(l, v, w, &t->ca_crl);
		else if (config_key_is(k, "credentialName"))
			rc |= tls_nonempty(l, v, w, &t->credential_name);
		else if (config_key_is(k, "sni"))
			rc |= tls_nonempty(l, v, w, &t->sni);
		else if (config_key_is(k, "insecureSkipVerify"))
			rc |= config_bool(l, v, w, &t->insecure_skip_verify);
		else if (config_key_is(k, "subjectAltNames")) {
			if (config_string_list(l, v, w, &t->subject_alt_names,
			    &t->nsubject_alt_names) == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < t->nsubject_alt_names; j++)
				if (t->subject_alt_names[j][0] == '\0') {
					config_error(l, v->values[j], "%s: "
					    "a name must not be empty", w);
					rc = -1;
				}
		} else {
			config_unknown_field(l, k, where);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = tls_check(l, n, where, t);
	if (rc != 0) {
		config_client_tls_free(t);
		return -1;
	}
	/* a Kubernetes secret: meshkit reads files */
	if (t->credential_name != NULL)
		config_warn(l, key, "%s %s.credentialName is not supported by "
		    "meshkit and is ignored: give clientCertificate, "
		    "privateKey and caCertificates as files",
		    l->kind != NULL ? l->kind : "DestinationRule", where);
	config_client_tls_free(*out);
	*out = t;
	return 0;
}

void
config_client_tls_free(struct client_tls *t)
{
	if (t == NULL)
		return;
	free(t->client_certificate);
	free(t->private_key);
	free(t->ca_certificates);
	free(t->ca_crl);
	free(t->credential_name);
	config_strings_free(t->subject_alt_names, t->nsubject_alt_names);
	free(t->sni);
	free(t);
}
