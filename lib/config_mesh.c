/* SPDX-License-Identifier: ISC */
/*
 * meshkit's MeshConfig (meshkit.io/v1alpha1): the mesh-wide settings of
 * Istio's MeshConfig that meshkit acts on: defaultHttpRetryPolicy (the
 * retry policy of every route without retries of its own, route-d),
 * pathNormalization (how proxy-d normalizes request paths, lib/uri.c),
 * the mesh's identity: trustDomain and workloadCertTtl (tls-d),
 * rootNamespace, where the mesh-wide PeerAuthentication,
 * RequestAuthentication and AuthorizationPolicy live (proxy-d, authz-d,
 * meshctl), and the telemetry fields of config_telemetry.c (stats-d,
 * proxy-d).
 * It is meshkit's own kind, so an unknown field is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "spiffe.h"
#include "util.h"
#include "yaml.h"

static void	config_path_normalization(struct config_loader *,
		    const struct ynode *, struct mesh_config *);

/* pathNormalization: {normalization: NAME}, Istio's field and names */
static void
config_path_normalization(struct config_loader *l, const struct ynode *n,
    struct mesh_config *mc)
{
	static const char *const names[] = { "DEFAULT", "NONE", "BASE",
	    "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES", NULL };
	const struct ynode	*k, *v;
	size_t			 i;
	int			 idx;

	if (config_expect_map(l, n, "pathNormalization") == -1)
		return;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (!config_key_is(k, "normalization")) {
			config_unknown_field(l, k, "pathNormalization");
			continue;
		}
		if (config_enum(l, v, "pathNormalization.normalization", names,
		    &idx) == 0 && uri_normalization_parse(names[idx],
		    &mc->path_normalization) == -1)
			config_error(l, v, "pathNormalization.normalization "
			    "%s is not known to lib/uri", names[idx]);
	}
}

void
config_mesh(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct mesh_config *mc)
{
	const struct ynode	*k, *v;
	char			 q[80];
	size_t			 i;
	int			 rc = 0, r;

	mc->enable_tracing = 1;
	mc->sampling_ppm = MESH_DEFAULT_SAMPLING_PPM;
	if (spec != NULL && !config_is_null(spec) &&
	    config_expect_map(l, spec, "MeshConfig spec") == -1)
		return;
	for (i = 0; spec != NULL && i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "defaultHttpRetryPolicy")) {
			mc->default_retries = xcalloc(1,
			    sizeof(*mc->default_retries));
			config_http_retries(l, v, "defaultHttpRetryPolicy",
			    mc->default_retries);
		} else if (config_key_is(k, "trustDomain")) {
			if (config_string(l, v, "trustDomain",
			    &mc->trust_domain) == -1)
				continue;
			if (!spiffe_trust_domain_ok((struct str){
			    mc->trust_domain, strlen(mc->trust_domain) })) {
				yaml_quote(q, sizeof(q), v->value, v->len);
				config_error(l, v, "trustDomain must be 1 to "
				    "255 of a-z, 0-9, '.', '-' and '_', got "
				    "%s", q);
			}
		} else if (config_key_is(k, "workloadCertTtl")) {
			if (config_duration(l, v, "workloadCertTtl",
			    &mc->workload_cert_ttl_ms) == -1)
				continue;
			if (mc->workload_cert_ttl_ms < CONFIG_MIN_CERT_TTL_MS ||
			    mc->workload_cert_ttl_ms > CONFIG_MAX_CERT_TTL_MS)
				config_error(l, v, "workloadCertTtl must be 2s "
				    "to 90 days (2160h)");
		} else if (config_key_is(k, "rootNamespace")) {
			if (config_string(l, v, "rootNamespace",
			    &mc->root_namespace) == -1)
				continue;
			if (!config_dns_name(mc->root_namespace, 63)) {
				yaml_quote(q, sizeof(q), v->value, v->len);
				config_error(l, v, "rootNamespace must be a "
				    "namespace name (RFC 1123: 1 to 63 of a-z, "
				    "0-9 and '-', not at either end), got %s",
				    q);
			}
		} else if (config_key_is(k, "pathNormalization"))
			config_path_normalization(l, v, mc);
		else if ((r = config_mesh_telemetry(l, k, v, mc)) == 0)
			config_unknown_field(l, k, "MeshConfig spec");
		else if (r == -1)
			rc = -1;
	}
	if (rc == 0 && spec != NULL)
		config_mesh_telemetry_check(l, spec, mc);
}

const char *
config_trust_domain(const struct config *cfg)
{
	if (cfg != NULL && cfg->mesh != NULL &&
	    cfg->mesh->trust_domain != NULL)
		return cfg->mesh->trust_domain;
	return CONFIG_DEFAULT_TRUST_DOMAIN;
}

uint64_t
config_workload_cert_ttl(const struct config *cfg)
{
	if (cfg != NULL && cfg->mesh != NULL &&
	    cfg->mesh->workload_cert_ttl_ms != 0)
		return cfg->mesh->workload_cert_ttl_ms / 1000;
	return CONFIG_DEFAULT_CERT_TTL_S;
}

const char *
config_root_namespace(const struct config *cfg)
{
	if (cfg != NULL && cfg->mesh != NULL &&
	    cfg->mesh->root_namespace != NULL)
		return cfg->mesh->root_namespace;
	return MESH_DEFAULT_ROOT_NAMESPACE;
}

void
config_mesh_free(struct mesh_config *mc)
{
	if (mc == NULL)
		return;
	config_meta_fini(&mc->meta);
	if (mc->default_retries != NULL) {
		free(mc->default_retries->retry_on);
		free(mc->default_retries);
	}
	free(mc->trust_domain);
	free(mc->root_namespace);
	config_mesh_telemetry_fini(mc);
	free(mc);
}
