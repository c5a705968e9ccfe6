/*
 * meshkit's MeshConfig (meshkit.io/v1alpha1): the mesh-wide settings of
 * Istio's MeshConfig that meshkit acts on: defaultHttpRetryPolicy (the
 * retry policy of every route without retries of its own, route-d),
 * pathNormalization (how proxy-d normalizes request paths, lib/uri.c)
 * and the telemetry fields of config_telemetry.c (stats-d, proxy-d).
 * It is meshkit's own kind, so an unknown field is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
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
	config_mesh_telemetry_fini(mc);
	free(mc);
}
