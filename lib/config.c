/* SPDX-License-Identifier: ISC */
/*
 * Loading a config: files, the Kubernetes envelope of every document,
 * which kinds are kept, and the whole-config checks
 * (duplicates).  The typed kinds live in config_istio.c and
 * config_proxy.c, the readers of typed values in config_value.c.
 *
 * A load never stops at the first error: every document is read and every
 * error reported, so that one run of "meshctl validate" shows them all.
 * The config is thrown away at the end if any error was reported.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

enum kind_action {
	KIND_SKIP,
	KIND_GENERIC,
	KIND_SERVICE_ENTRY,
	KIND_WORKLOAD_ENTRY,
	KIND_PROXY,
	KIND_VIRTUAL_SERVICE,	/* typed, and kept generic too */
	KIND_DESTINATION_RULE,
	KIND_KUBE_SERVICE,
	KIND_MESH_CONFIG,
	KIND_REQUEST_AUTHENTICATION,
	KIND_AUTHORIZATION_POLICY,
	KIND_TELEMETRY,
	KIND_PEER_AUTHENTICATION,
};

struct kind_info {
	const char		*kind;
	const char *const	*versions;
	enum kind_action	 action;
	/*
	 * Another API group may use the same kind name (Gateway in the
	 * Kubernetes Gateway API, Service in Knative): only when strict is
	 * a foreign group an error rather than another kind to skip.
	 */
	int			 strict;
};

static const char *const networking_versions[] = {
	"networking.istio.io/v1alpha3", "networking.istio.io/v1beta1",
	"networking.istio.io/v1", NULL
};
static const char *const networking_alpha_versions[] = {
	"networking.istio.io/v1alpha3", NULL
};
static const char *const networking_beta_versions[] = {
	"networking.istio.io/v1beta1", NULL
};
static const char *const security_versions[] = {
	"security.istio.io/v1beta1", "security.istio.io/v1", NULL
};
static const char *const telemetry_versions[] = {
	"telemetry.istio.io/v1alpha1", "telemetry.istio.io/v1", NULL
};
static const char *const extensions_versions[] = {
	"extensions.istio.io/v1alpha1", NULL
};
static const char *const install_versions[] = {
	"install.istio.io/v1alpha1", NULL
};
static const char *const meshkit_versions[] = {
	"meshkit.io/v1alpha1", NULL
};
static const char *const core_versions[] = { "v1", NULL };

static const struct kind_info kinds[] = {
	{ "ServiceEntry", networking_versions, KIND_SERVICE_ENTRY, 1 },
	{ "WorkloadEntry", networking_versions, KIND_WORKLOAD_ENTRY, 1 },
	{ "VirtualService", networking_versions, KIND_VIRTUAL_SERVICE, 1 },
	{ "DestinationRule", networking_versions, KIND_DESTINATION_RULE, 1 },
	{ "PeerAuthentication", security_versions,
	    KIND_PEER_AUTHENTICATION, 1 },
	{ "RequestAuthentication", security_versions,
	    KIND_REQUEST_AUTHENTICATION, 1 },
	{ "AuthorizationPolicy", security_versions,
	    KIND_AUTHORIZATION_POLICY, 1 },
	{ "Proxy", meshkit_versions, KIND_PROXY, 0 },
	{ "MeshConfig", meshkit_versions, KIND_MESH_CONFIG, 0 },
	/* route-d treats a Kubernetes Service like a ServiceEntry */
	{ "Service", core_versions, KIND_KUBE_SERVICE, 0 },
	{ "Gateway", networking_versions, KIND_SKIP, 0 },
	{ "Sidecar", networking_versions, KIND_SKIP, 1 },
	{ "WorkloadGroup", networking_versions, KIND_SKIP, 1 },
	{ "EnvoyFilter", networking_alpha_versions, KIND_SKIP, 1 },
	{ "ProxyConfig", networking_beta_versions, KIND_SKIP, 0 },
	{ "Telemetry", telemetry_versions, KIND_TELEMETRY, 1 },
	{ "WasmPlugin", extensions_versions, KIND_SKIP, 1 },
	{ "IstioOperator", install_versions, KIND_SKIP, 1 },
};

static void	 config_read_file(struct config_loader *, const char *);
static int	 config_slurp(struct config_loader *, const char *, char **,
		    size_t *);
static void	 config_add_buffer(struct config_loader *, const char *,
		    const char *, size_t);
static void	 config_document(struct config_loader *, const struct ynode *,
		    int);
static void	 config_list(struct config_loader *, const struct ynode *,
		    const struct ynode *, int);
static const struct kind_info *config_kind(const char *);
static int	 config_group_is_ours(const char *);
static int	 config_version_ok(const struct kind_info *, const char *);
static int	 config_meta(struct config_loader *, const struct ynode *,
		    const char *, const char *, struct resource_meta *);
static void	 config_check_duplicates(struct config_loader *);
static size_t	 config_file_index(const struct config *, const char *);
static int	 config_meta_cmp(const void *, const void *);
static struct config *config_finish(struct config_loader *, size_t);
static int	 config_path_cmp(const void *, const void *);
static void	 config_add_resource(struct config *,
		    const struct resource_meta *, const struct ynode *);

/* Kinds and the envelope. */

static const struct kind_info *
config_kind(const char *kind)
{
	size_t	 i;

	for (i = 0; i < nitems(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

/* An apiVersion in a group whose kinds meshkit knows all of. */
static int
config_group_is_ours(const char *api_version)
{
	const char	*slash = strchr(api_version, '/');
	size_t		 n;

	if (slash == NULL)
		return 0;
	n = (size_t)(slash - api_version);
	if (n == strlen("meshkit.io") &&
	    strncmp(api_version, "meshkit.io", n) == 0)
		return 1;
	return n >= strlen(".istio.io") && strncmp(slash - strlen(".istio.io"),
	    ".istio.io", strlen(".istio.io")) == 0;
}

static int
config_version_ok(const struct kind_info *k, const char *api_version)
{
	size_t	 i;

	for (i = 0; k->versions[i] != NULL; i++)
		if (strcmp(k->versions[i], api_version) == 0)
			return 1;
	return 0;
}

/* RFC 1123 names, as Kubernetes requires of names and namespaces. */
int
config_dns_name(const char *s, size_t max)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if ((c == '-' || (c == '.' && max > 63)) && i > 0 &&
		    i < n - 1)
			continue;
		return 0;
	}
	return 1;
}

static int
config_meta(struct config_loader *l, const struct ynode *root,
    const char *kind, const char *api_version, struct resource_meta *m)
{
	const struct ynode	*md, *n;
	int			 rc = 0;
	size_t			 i;

	m->kind = xstrdup(kind);
	m->api_version = xstrdup(api_version);
	m->origin.file = l->file;
	m->origin.line = root->line;
	m->origin.col = root->col;
	md = yaml_get(root, "metadata");
	if (config_is_null(md)) {
		config_error(l, root, "metadata.name is required");
		return -1;
	}
	if (config_expect_map(l, md, "metadata") == -1)
		return -1;
	/* other metadata (annotations, uid, ...) is Kubernetes' business */
	for (i = 0; i < md->n; i++) {
		n = md->values[i];
		if (config_key_is(md->keys[i], "name")) {
			if (config_is_null(n))
				continue;
			if (config_string(l, n, "metadata.name",
			    &m->name) == -1) {
				rc = -1;
				continue;
			}
			if (!config_dns_name(m->name, 253)) {
				char q[80];

				yaml_quote(q, sizeof(q), n->value, n->len);
				config_error(l, n, "metadata.name must be "
				    "lowercase letters, digits, '-' and '.', "
				    "at most 253, got %s", q);
				rc = -1;
			}
		} else if (config_key_is(md->keys[i], "namespace")) {
			if (config_is_null(n))
				continue;
			if (config_string(l, n, "metadata.namespace",
			    &m->namespace) == -1) {
				rc = -1;
				continue;
			}
			if (!config_dns_name(m->namespace, 63)) {
				char q[80];

				yaml_quote(q, sizeof(q), n->value, n->len);
				config_error(l, n, "metadata.namespace must be "
				    "lowercase letters, digits and '-', at "
				    "most 63, got %s", q);
				rc = -1;
			}
		} else if (config_key_is(md->keys[i], "labels")) {
			if (!config_is_null(n) && config_labels(l, n,
			    "metadata.labels", &m->labels) == -1)
				rc = -1;
		}
	}
	if (m->name == NULL && rc == 0) {
		config_error(l, md, "metadata.name is required");
		rc = -1;
	}
	if (m->namespace == NULL)
		m->namespace = xstrdup(CONFIG_DEFAULT_NAMESPACE);
	return rc;
}

void
config_meta_copy(struct resource_meta *to, const struct resource_meta *from)
{
	size_t	 i;

	to->kind = xstrdup(from->kind);
	to->api_version = xstrdup(from->api_version);
	to->name = xstrdup(from->name);
	to->namespace = xstrdup(from->namespace);
	to->origin = from->origin;
	to->labels.n = from->labels.n;
	to->labels.keys = xcalloc(from->labels.n + 1, sizeof(char *));
	to->labels.values = xcalloc(from->labels.n + 1, sizeof(char *));
	for (i = 0; i < from->labels.n; i++) {
		to->labels.keys[i] = xstrdup(from->labels.keys[i]);
		to->labels.values[i] = xstrdup(from->labels.values[i]);
	}
}

/* The generic form every kind but the typed-only ones has. */
static void
config_add_resource(struct config *cfg, const struct resource_meta *meta,
    const struct ynode *spec)
{
	cfg->resources = xreallocarray(cfg->resources, cfg->nresources + 1,
	    sizeof(*cfg->resources));
	cfg->resources[cfg->nresources].meta = *meta;
	cfg->resources[cfg->nresources].spec = (struct ynode *)spec;
	cfg->nresources++;
}

void
config_meta_fini(struct resource_meta *m)
{
	free(m->kind);
	free(m->api_version);
	free(m->name);
	free(m->namespace);
	config_labels_fini(&m->labels);
}

/* kubectl's "kind: List": a document holding resources under items. */
static void
config_list(struct config_loader *l, const struct ynode *root,
    const struct ynode *api, int in_list)
{
	const struct ynode	*items;
	size_t			 i;

	if (in_list) {
		config_error(l, root, "a List cannot hold another List");
		return;
	}
	if (!config_key_is(api, "v1")) {
		char q[80];

		yaml_quote(q, sizeof(q), api->value, api->len);
		config_error(l, api, "apiVersion %s is not valid for kind "
		    "List (want v1)", q);
		return;
	}
	for (i = 0; i < root->n; i++)
		if (!config_key_is(root->keys[i], "apiVersion") &&
		    !config_key_is(root->keys[i], "kind") &&
		    !config_key_is(root->keys[i], "metadata") &&
		    !config_key_is(root->keys[i], "items"))
			config_unknown_field(l, root->keys[i], "List");
	items = yaml_get(root, "items");
	if (config_is_null(items))
		return;
	if (items->type != YNODE_SEQ) {
		char got[80];

		config_describe(items, got, sizeof(got));
		config_error(l, items, "items must be a list, got %s", got);
		return;
	}
	for (i = 0; i < items->n; i++)
		config_document(l, items->values[i], 1);
}

static void
config_document(struct config_loader *l, const struct ynode *root,
    int in_list)
{
	struct config		*cfg = l->cfg;
	const struct kind_info	*k;
	const struct ynode	*api, *kind, *spec;
	struct resource_meta	 meta;
	char			*api_s = NULL, *kind_s = NULL, got[80];
	size_t			 i;
	int			 bad = 0;

	if (root == NULL || config_is_null(root))
		return;		/* an empty document, as between "---" */
	if (root->type != YNODE_MAP) {
		config_describe(root, got, sizeof(got));
		config_error(l, root, "a resource must be a map with "
		    "apiVersion, kind and metadata, got %s", got);
		return;
	}
	api = yaml_get(root, "apiVersion");
	kind = yaml_get(root, "kind");
	if (config_is_null(api)) {
		config_error(l, root, "apiVersion is required");
		bad = 1;
	} else if (config_string(l, api, "apiVersion", &api_s) == -1)
		bad = 1;
	if (config_is_null(kind)) {
		config_error(l, root, "kind is required");
		bad = 1;
	} else if (config_string(l, kind, "kind", &kind_s) == -1)
		bad = 1;
	if (bad)
		goto out;

	if (strcmp(kind_s, "List") == 0) {
		config_list(l, root, api, in_list);
		goto out;
	}
	k = config_kind(kind_s);
	if (k != NULL && !config_version_ok(k, api_s) &&
	    (k->strict || config_group_is_ours(api_s))) {
		char want[200];
		size_t o = 0;

		want[0] = '\0';
		for (i = 0; k->versions[i] != NULL && o < sizeof(want); i++)
			o += (size_t)snprintf(want + o, sizeof(want) - o,
			    "%s%s", i == 0 ? "" : ", ", k->versions[i]);
		yaml_quote(got, sizeof(got), api->value, api->len);
		config_error(l, api, "apiVersion %s is not valid for kind %s "
		    "(want %s)", got, kind_s, want);
		goto out;
	}
	if (k == NULL && config_group_is_ours(api_s)) {
		yaml_quote(got, sizeof(got), kind->value, kind->len);
		config_error(l, kind, "unknown kind %s in %s", got, api_s);
		goto out;
	}
	if (k == NULL || !config_version_ok(k, api_s) ||
	    k->action == KIND_SKIP) {
		/* a namesake from another group says which one it is */
		int foreign = k != NULL && !config_version_ok(k, api_s);

		yaml_quote(got, sizeof(got), kind->value, kind->len);
		cfg_errors_add(l->errs, l->file, kind->line, kind->col, 1,
		    "skipping kind %s%s%s%s: not used by meshkit",
		    strlen(kind_s) < 64 ? kind_s : got,
		    foreign ? " (" : "", foreign ? api_s : "",
		    foreign ? ")" : "");
		goto out;
	}

	for (i = 0; i < root->n; i++)
		if (!config_key_is(root->keys[i], "apiVersion") &&
		    !config_key_is(root->keys[i], "kind") &&
		    !config_key_is(root->keys[i], "metadata") &&
		    !config_key_is(root->keys[i], "spec") &&
		    !config_key_is(root->keys[i], "status"))
			config_unknown_field(l, root->keys[i], kind_s);
	spec = yaml_get(root, "spec");
	if (config_is_null(spec))
		spec = NULL;
	else if (config_expect_map(l, spec, "spec") == -1)
		goto out;

	memset(&meta, 0, sizeof(meta));
	l->kind = k->kind;
	if (config_meta(l, root, kind_s, api_s, &meta) == -1) {
		config_meta_fini(&meta);
		goto out;
	}
	l->namespace = meta.namespace;
	switch (k->action) {
	case KIND_SERVICE_ENTRY:
		cfg->service_entries = xreallocarray(cfg->service_entries,
		    cfg->nservice_entries + 1, sizeof(*cfg->service_entries));
		memset(&cfg->service_entries[cfg->nservice_entries], 0,
		    sizeof(*cfg->service_entries));
		cfg->service_entries[cfg->nservice_entries].meta = meta;
		config_service_entry(l, root, spec,
		    &cfg->service_entries[cfg->nservice_entries++]);
		break;
	case KIND_WORKLOAD_ENTRY:
		cfg->workload_entries = xreallocarray(cfg->workload_entries,
		    cfg->nworkload_entries + 1,
		    sizeof(*cfg->workload_entries));
		memset(&cfg->workload_entries[cfg->nworkload_entries], 0,
		    sizeof(*cfg->workload_entries));
		cfg->workload_entries[cfg->nworkload_entries].meta = meta;
		config_workload_entry(l, root, spec,
		    &cfg->workload_entries[cfg->nworkload_entries++]);
		break;
	case KIND_PROXY:
		cfg->proxies = xreallocarray(cfg->proxies, cfg->nproxies + 1,
		    sizeof(*cfg->proxies));
		memset(&cfg->proxies[cfg->nproxies], 0,
		    sizeof(*cfg->proxies));
		cfg->proxies[cfg->nproxies].meta = meta;
		config_proxy(l, root, spec, &cfg->proxies[cfg->nproxies++]);
		break;
	case KIND_VIRTUAL_SERVICE:
		cfg->virtual_services = xreallocarray(cfg->virtual_services,
		    cfg->nvirtual_services + 1,
		    sizeof(*cfg->virtual_services));
		memset(&cfg->virtual_services[cfg->nvirtual_services], 0,
		    sizeof(*cfg->virtual_services));
		config_meta_copy(
		    &cfg->virtual_services[cfg->nvirtual_services].meta, &meta);
		config_virtual_service(l, root, spec,
		    &cfg->virtual_services[cfg->nvirtual_services++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_DESTINATION_RULE:
		cfg->destination_rules = xreallocarray(cfg->destination_rules,
		    cfg->ndestination_rules + 1,
		    sizeof(*cfg->destination_rules));
		memset(&cfg->destination_rules[cfg->ndestination_rules], 0,
		    sizeof(*cfg->destination_rules));
		config_meta_copy(
		    &cfg->destination_rules[cfg->ndestination_rules].meta,
		    &meta);
		config_destination_rule(l, root, spec,
		    &cfg->destination_rules[cfg->ndestination_rules++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_KUBE_SERVICE:
		cfg->kube_services = xreallocarray(cfg->kube_services,
		    cfg->nkube_services + 1, sizeof(*cfg->kube_services));
		memset(&cfg->kube_services[cfg->nkube_services], 0,
		    sizeof(*cfg->kube_services));
		config_meta_copy(&cfg->kube_services[cfg->nkube_services].meta,
		    &meta);
		config_kube_service(l, root, spec,
		    &cfg->kube_services[cfg->nkube_services++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_MESH_CONFIG:
		if (cfg->mesh != NULL) {
			/* one mesh, one set of mesh-wide settings */
			config_error(l, root, "only one MeshConfig may be "
			    "given (first at %s:%d:%d)",
			    cfg->mesh->meta.origin.file,
			    cfg->mesh->meta.origin.line,
			    cfg->mesh->meta.origin.col);
			config_meta_fini(&meta);
			break;
		}
		cfg->mesh = xcalloc(1, sizeof(*cfg->mesh));
		config_meta_copy(&cfg->mesh->meta, &meta);
		config_mesh(l, root, spec, cfg->mesh);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_REQUEST_AUTHENTICATION:
		cfg->request_authentications = xreallocarray(
		    cfg->request_authentications,
		    cfg->nrequest_authentications + 1,
		    sizeof(*cfg->request_authentications));
		memset(&cfg->request_authentications[
		    cfg->nrequest_authentications], 0,
		    sizeof(*cfg->request_authentications));
		config_meta_copy(&cfg->request_authentications[
		    cfg->nrequest_authentications].meta, &meta);
		config_request_authentication(l, root, spec,
		    &cfg->request_authentications[
		    cfg->nrequest_authentications++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_AUTHORIZATION_POLICY:
		cfg->authorization_policies = xreallocarray(
		    cfg->authorization_policies,
		    cfg->nauthorization_policies + 1,
		    sizeof(*cfg->authorization_policies));
		memset(&cfg->authorization_policies[
		    cfg->nauthorization_policies], 0,
		    sizeof(*cfg->authorization_policies));
		config_meta_copy(&cfg->authorization_policies[
		    cfg->nauthorization_policies].meta, &meta);
		config_authorization_policy(l, root, spec,
		    &cfg->authorization_policies[
		    cfg->nauthorization_policies++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_TELEMETRY:
		cfg->telemetries = xreallocarray(cfg->telemetries,
		    cfg->ntelemetries + 1, sizeof(*cfg->telemetries));
		memset(&cfg->telemetries[cfg->ntelemetries], 0,
		    sizeof(*cfg->telemetries));
		config_meta_copy(&cfg->telemetries[cfg->ntelemetries].meta,
		    &meta);
		config_telemetry(l, root, spec,
		    &cfg->telemetries[cfg->ntelemetries++]);
		config_add_resource(cfg, &meta, spec);
		break;
	case KIND_PEER_AUTHENTICATION:
		cfg->peer_authentications = xreallocarray(
		    cfg->peer_authentications,
		    cfg->npeer_authentications + 1,
		    sizeof(*cfg->peer_authentications));
		memset(&cfg->peer_authentications[
		    cfg->npeer_authentications], 0,
		    sizeof(*cfg->peer_authentications));
		config_meta_copy(&cfg->peer_authentications[
		    cfg->npeer_authentications].meta, &meta);
		config_peer_authentication(l, root, spec,
		    &cfg->peer_authentications[
		    cfg->npeer_authentications++]);
		config_add_resource(cfg, &meta, spec);
		break;
	default:
		cfg->resources = xreallocarray(cfg->resources,
		    cfg->nresources + 1, sizeof(*cfg->resources));
		cfg->resources[cfg->nresources].meta = meta;
		cfg->resources[cfg->nresources].spec = (struct ynode *)spec;
		cfg->nresources++;
		break;
	}
out:
	l->kind = NULL;
	l->namespace = NULL;
	free(api_s);
	free(kind_s);
}

/* Duplicates: two resources of one kind, namespace and name. */

struct meta_ref {
	const struct resource_meta	*meta;
	size_t				 file;
};

static int
config_meta_cmp(const void *a, const void *b)
{
	const struct meta_ref	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->meta->kind, y->meta->kind)) != 0)
		return c;
	/* config_find_proxy looks Proxies up by name alone */
	if (strcmp(x->meta->kind, "Proxy") != 0 &&
	    (c = strcmp(x->meta->namespace, y->meta->namespace)) != 0)
		return c;
	if ((c = strcmp(x->meta->name, y->meta->name)) != 0)
		return c;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->meta->origin.line != y->meta->origin.line)
		return x->meta->origin.line < y->meta->origin.line ? -1 : 1;
	return (x->meta->origin.col > y->meta->origin.col) -
	    (x->meta->origin.col < y->meta->origin.col);
}

static size_t
config_file_index(const struct config *cfg, const char *file)
{
	size_t	 i;

	for (i = 0; i < cfg->nfiles; i++)
		if (cfg->files[i] == file)
			return i;
	return cfg->nfiles;
}

static void
config_check_duplicates(struct config_loader *l)
{
	const struct config	*cfg = l->cfg;
	struct meta_ref		*v, *first;
	size_t			 n, i, k = 0;

	n = cfg->nservice_entries + cfg->nworkload_entries + cfg->nproxies +
	    cfg->nresources;
	if (n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < cfg->nservice_entries; i++)
		v[k++].meta = &cfg->service_entries[i].meta;
	for (i = 0; i < cfg->nworkload_entries; i++)
		v[k++].meta = &cfg->workload_entries[i].meta;
	for (i = 0; i < cfg->nproxies; i++)
		v[k++].meta = &cfg->proxies[i].meta;
	for (i = 0; i < cfg->nresources; i++)
		v[k++].meta = &cfg->resources[i].meta;
	for (i = 0; i < n; i++)
		v[i].file = config_file_index(cfg, v[i].meta->origin.file);
	qsort(v, n, sizeof(*v), config_meta_cmp);
	first = &v[0];
	for (i = 1; i < n; i++) {
		const struct resource_meta *m = v[i].meta;

		if (strcmp(m->kind, first->meta->kind) != 0 ||
		    strcmp(m->name, first->meta->name) != 0 ||
		    (strcmp(m->kind, "Proxy") != 0 &&
		    strcmp(m->namespace, first->meta->namespace) != 0)) {
			first = &v[i];
			continue;
		}
		if (strcmp(m->kind, "Proxy") == 0)
			cfg_errors_add(l->errs, m->origin.file,
			    m->origin.line, m->origin.col, 0, "duplicate "
			    "Proxy name %s (first at %s:%d:%d)", m->name,
			    first->meta->origin.file,
			    first->meta->origin.line,
			    first->meta->origin.col);
		else
			cfg_errors_add(l->errs, m->origin.file,
			    m->origin.line, m->origin.col, 0, "duplicate "
			    "%s %s/%s (first at %s:%d:%d)", m->kind,
			    m->namespace, m->name, first->meta->origin.file,
			    first->meta->origin.line,
			    first->meta->origin.col);
	}
	free(v);
}

/* Files. */

static int
config_slurp(struct config_loader *l, const char *path, char **buf,
    size_t *len)
{
	struct stat	 st;
	char		*b;
	size_t		 n = 0, cap;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cfg_errors_add(l->errs, path, 0, 0, 0, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		cfg_errors_add(l->errs, path, 0, 0, 0, "cannot read: %s",
		    S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	/* read one byte past the limit to tell "at" from "over" it */
	cap = S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    st.st_size <= YAML_MAX_BYTES ? (size_t)st.st_size + 1 : 65536;
	b = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > YAML_MAX_BYTES)
				break;
			cap *= 2;
			if (cap > (size_t)YAML_MAX_BYTES + 1)
				cap = (size_t)YAML_MAX_BYTES + 1;
			b = xreallocarray(b, cap, 1);
		}
		r = read(fd, b + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cfg_errors_add(l->errs, path, 0, 0, 0,
			    "cannot read: %s", strerror(errno));
			close(fd);
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > YAML_MAX_BYTES) {
		cfg_errors_add(l->errs, path, 1, 1, 0,
		    "file is larger than %d bytes", YAML_MAX_BYTES);
		free(b);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Records file in the config and loads the documents of buf. */
static void
config_add_buffer(struct config_loader *l, const char *file, const char *buf,
    size_t len)
{
	struct config	*cfg = l->cfg;
	size_t		 i, k;

	k = cfg->nfiles;
	cfg->files = xreallocarray(cfg->files, k + 1, sizeof(*cfg->files));
	cfg->docs = xreallocarray(cfg->docs, k + 1, sizeof(*cfg->docs));
	cfg->ndocs = xreallocarray(cfg->ndocs, k + 1, sizeof(*cfg->ndocs));
	cfg->files[k] = xstrdup(file);
	cfg->docs[k] = NULL;
	cfg->ndocs[k] = 0;
	cfg->nfiles++;
	l->file = cfg->files[k];
	if (buf == NULL)
		return;
	if (yaml_parse(l->file, buf, len, &cfg->docs[k], &cfg->ndocs[k],
	    l->errs) == -1)
		return;
	for (i = 0; i < cfg->ndocs[k]; i++)
		config_document(l, cfg->docs[k][i].root, 0);
}

static void
config_read_file(struct config_loader *l, const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;

	if (config_slurp(l, path, &buf, &len) == -1) {
		config_add_buffer(l, path, NULL, 0);
		return;
	}
	config_add_buffer(l, path, buf, len);
	free(buf);
}

static struct config *
config_finish(struct config_loader *l, size_t nerrors_before)
{
	config_check_duplicates(l);
	if (l->errs->nerrors > nerrors_before) {
		config_free(l->cfg);
		return NULL;
	}
	return l->cfg;
}

static int
config_path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
config_dir_files(const char *dir, char ***paths, size_t *npaths,
    struct cfg_errors *errs)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**v = NULL, *path;
	size_t		  n = 0, len;

	*paths = NULL;
	*npaths = 0;
	if ((d = opendir(dir)) == NULL) {
		cfg_errors_add(errs, dir, 0, 0, 0, "cannot open directory: %s",
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* dotfiles: editors' swap files, a ConfigMap's ..data */
		if (de->d_name[0] == '.')
			continue;
		len = strlen(de->d_name);
		if (!(len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) &&
		    !(len > 4 && strcmp(de->d_name + len - 4, ".yml") == 0))
			continue;
		xasprintf(&path, "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		    de->d_name);
		/* stat, not lstat: ConfigMap files are symlinks */
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = path;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), config_path_cmp);
	*paths = v;
	*npaths = n;
	return 0;
}

void
config_paths_free(char **paths, size_t n)
{
	config_strings_free(paths, n);
}

struct config *
config_load_dir(const char *dir, struct cfg_errors *errs)
{
	struct config	*cfg;
	char		**paths;
	size_t		  n;

	if (config_dir_files(dir, &paths, &n, errs) == -1)
		return NULL;
	cfg = config_load_files(paths, n, errs);
	config_paths_free(paths, n);
	if (cfg != NULL)
		cfg->dir = xstrdup(dir);
	return cfg;
}

struct config *
config_load_files(char *const *paths, size_t n, struct cfg_errors *errs)
{
	struct config_loader	 l;
	size_t			 before = errs->nerrors, i;

	memset(&l, 0, sizeof(l));
	l.cfg = xcalloc(1, sizeof(*l.cfg));
	l.errs = errs;
	for (i = 0; i < n; i++)
		config_read_file(&l, paths[i]);
	return config_finish(&l, before);
}

struct config *
config_load_buffer(const char *file, const char *buf, size_t len,
    struct cfg_errors *errs)
{
	struct config_loader	 l;
	size_t			 before = errs->nerrors;

	memset(&l, 0, sizeof(l));
	l.cfg = xcalloc(1, sizeof(*l.cfg));
	l.errs = errs;
	config_add_buffer(&l, file, buf != NULL ? buf : "", len);
	return config_finish(&l, before);
}

void
config_free(struct config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nservice_entries; i++)
		config_service_entry_fini(&cfg->service_entries[i]);
	free(cfg->service_entries);
	for (i = 0; i < cfg->nworkload_entries; i++)
		config_workload_entry_fini(&cfg->workload_entries[i]);
	free(cfg->workload_entries);
	for (i = 0; i < cfg->nproxies; i++)
		config_proxy_fini(&cfg->proxies[i]);
	free(cfg->proxies);
	for (i = 0; i < cfg->nresources; i++)
		config_meta_fini(&cfg->resources[i].meta);
	free(cfg->resources);
	for (i = 0; i < cfg->nvirtual_services; i++)
		config_virtual_service_fini(&cfg->virtual_services[i]);
	free(cfg->virtual_services);
	for (i = 0; i < cfg->ndestination_rules; i++)
		config_destination_rule_fini(&cfg->destination_rules[i]);
	free(cfg->destination_rules);
	for (i = 0; i < cfg->nkube_services; i++)
		config_service_entry_fini(&cfg->kube_services[i]);
	free(cfg->kube_services);
	config_mesh_free(cfg->mesh);
	for (i = 0; i < cfg->nrequest_authentications; i++)
		config_request_authentication_fini(
		    &cfg->request_authentications[i]);
	free(cfg->request_authentications);
	for (i = 0; i < cfg->nauthorization_policies; i++)
		config_authorization_policy_fini(
		    &cfg->authorization_policies[i]);
	free(cfg->authorization_policies);
	for (i = 0; i < cfg->ntelemetries; i++)
		config_telemetry_fini(&cfg->telemetries[i]);
	free(cfg->telemetries);
	for (i = 0; i < cfg->npeer_authentications; i++)
		config_peer_authentication_fini(
		    &cfg->peer_authentications[i]);
	free(cfg->peer_authentications);
	for (i = 0; i < cfg->nfiles; i++) {
		yaml_docs_free(cfg->docs[i], cfg->ndocs[i]);
		free(cfg->files[i]);
	}
	free(cfg->docs);
	free(cfg->ndocs);
	free(cfg->files);
	free(cfg->dir);
	free(cfg);
}

const struct proxy_config *
config_find_proxy(const struct config *cfg, const char *name)
{
	size_t	 i;

	if (cfg == NULL)
		return NULL;
	if (name == NULL)
		return cfg->nproxies == 1 ? &cfg->proxies[0] : NULL;
	for (i = 0; i < cfg->nproxies; i++)
		if (strcmp(cfg->proxies[i].meta.name, name) == 0)
			return &cfg->proxies[i];
	return NULL;
}
