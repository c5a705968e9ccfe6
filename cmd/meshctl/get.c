/* SPDX-License-Identifier: ISC */
/*
 * meshctl get [KIND] [-n NAMESPACE]: the resources of the config
 * directory and where each is defined.  Each file is loaded on its own,
 * so that one broken file does not hide the others (it is reported, and
 * the exit status says so).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "meshctl.h"
#include "util.h"
#include "yaml.h"

struct get_item {
	char	*kind;
	char	*api_version;
	char	*namespace;
	char	*name;
	char	*file;
	int	 line;
	int	 managed;
};

struct kind_name {
	const char	*kind;
	const char	*plural;
	const char	*shortname;
};

static const struct kind_name kind_names[] = {
	{ "ServiceEntry", "serviceentries", "se" },
	{ "WorkloadEntry", "workloadentries", "we" },
	{ "VirtualService", "virtualservices", "vs" },
	{ "DestinationRule", "destinationrules", "dr" },
	{ "Service", "services", "svc" },
	{ "Proxy", "proxies", "px" },
	{ "MeshConfig", "meshconfigs", "mc" },
	{ "PeerAuthentication", "peerauthentications", "pa" },
	{ "RequestAuthentication", "requestauthentications", "ra" },
	{ "AuthorizationPolicy", "authorizationpolicies", "ap" },
};

static void	 get_print_error(const char *, void *);
static const char *get_kind(const char *);
static void	 get_add(struct get_item **, size_t *,
		    const struct resource_meta *, int);
static int	 get_cmp(const void *, const void *);

static void
get_print_error(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

/* The kind a KIND argument names (vs, VirtualServices, ...), or NULL. */
static const char *
get_kind(const char *arg)
{
	char	 q[128];
	size_t	 i, n;

	/* kubectl's kind.group form: the group is not needed */
	n = strcspn(arg, ".");
	if (n >= sizeof(q))
		return NULL;
	memcpy(q, arg, n);
	q[n] = '\0';
	for (i = 0; i < nitems(kind_names); i++)
		if (strcasecmp(q, kind_names[i].kind) == 0 ||
		    strcasecmp(q, kind_names[i].plural) == 0 ||
		    strcasecmp(q, kind_names[i].shortname) == 0)
			return kind_names[i].kind;
	return NULL;
}

static void
get_add(struct get_item **v, size_t *n, const struct resource_meta *m,
    int managed)
{
	struct get_item	*it;

	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	it = &(*v)[(*n)++];
	it->kind = xstrdup(m->kind);
	it->api_version = xstrdup(m->api_version != NULL ? m->api_version :
	    "");
	it->namespace = xstrdup(m->namespace);
	it->name = xstrdup(m->name);
	it->file = xstrdup(m->origin.file);
	it->line = m->origin.line;
	it->managed = managed;
}

static int
get_cmp(const void *a, const void *b)
{
	const struct get_item	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->kind, y->kind)) != 0)
		return c;
	if ((c = strcmp(x->namespace, y->namespace)) != 0)
		return c;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->file, y->file);
}

int
meshctl_get(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg_errors	 errs;
	struct config		*cfg;
	struct get_item		*v = NULL;
	const char		*kind = NULL, *ns = NULL;
	char			**paths, where[4200];
	size_t			  npaths, n = 0, i, j, shown = 0;
	int			  ch, rc, managed, wk = 4, wn = 9, wname = 4;

	while ((ch = getopt_long(argc, argv, "Ac:hn:o:r:", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			printf("usage: meshctl get %s\n", "[-c dir] "
			    "[-o text|json] [-n namespace] [kind]");
			return MESHCTL_EXIT_OK;
		}
		if (ch == 'n') {
			ns = optarg;
			continue;
		}
		if (ch == 'A') {
			ns = NULL;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1)
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("get");
	}
	if (argc - optind > 1)
		return meshctl_usage("get");
	if (argc - optind == 1 && (kind = get_kind(argv[optind])) == NULL) {
		fprintf(stderr, "meshctl: unknown resource type \"%s\"\n",
		    argv[optind]);
		return MESHCTL_EXIT_FAIL;
	}
	memset(&errs, 0, sizeof(errs));
	if (config_dir_files(meshctl_config_dir(ctx), &paths, &npaths,
	    &errs) == -1) {
		cfg_errors_print(&errs, 0, get_print_error, NULL);
		cfg_errors_fini(&errs);
		return MESHCTL_EXIT_FAIL;
	}
	for (i = 0; i < npaths; i++) {
		if ((cfg = config_load_files(&paths[i], 1, &errs)) == NULL)
			continue;
		managed = meshctl_is_managed(paths[i]);
		for (j = 0; j < cfg->nservice_entries; j++)
			get_add(&v, &n, &cfg->service_entries[j].meta, managed);
		for (j = 0; j < cfg->nworkload_entries; j++)
			get_add(&v, &n, &cfg->workload_entries[j].meta,
			    managed);
		for (j = 0; j < cfg->nproxies; j++)
			get_add(&v, &n, &cfg->proxies[j].meta, managed);
		for (j = 0; j < cfg->nresources; j++)
			get_add(&v, &n, &cfg->resources[j].meta, managed);
		config_free(cfg);
	}
	config_paths_free(paths, npaths);
	cfg_errors_print(&errs, 0, get_print_error, NULL);
	if (n > 0)
		qsort(v, n, sizeof(*v), get_cmp);
	for (i = 0; i < n; i++) {
		if ((kind != NULL && strcmp(v[i].kind, kind) != 0) ||
		    (ns != NULL && strcmp(v[i].namespace, ns) != 0)) {
			v[i].line = -1;		/* filtered out */
			continue;
		}
		shown++;
		if ((int)strlen(v[i].kind) > wk)
			wk = (int)strlen(v[i].kind);
		if ((int)strlen(v[i].namespace) > wn)
			wn = (int)strlen(v[i].namespace);
		if ((int)strlen(v[i].name) > wname)
			wname = (int)strlen(v[i].name);
	}
	if (ctx->output == OUTPUT_JSON) {
		printf("{\"items\": [");
		for (i = 0, j = 0; i < n; i++) {
			if (v[i].line == -1)
				continue;
			printf("%s\n  {\"kind\": ", j++ == 0 ? "" : ",");
			meshctl_json_string(stdout, v[i].kind);
			printf(", \"apiVersion\": ");
			meshctl_json_string(stdout, v[i].api_version);
			printf(", \"namespace\": ");
			meshctl_json_string(stdout, v[i].namespace);
			printf(", \"name\": ");
			meshctl_json_string(stdout, v[i].name);
			printf(", \"file\": ");
			meshctl_json_string(stdout, v[i].file);
			printf(", \"line\": %d, \"managed\": %s}", v[i].line,
			    v[i].managed ? "true" : "false");
		}
		printf("%s]}\n", j > 0 ? "\n" : "");
	} else if (shown == 0)
		fprintf(stderr, "No resources found in %s%s%s.\n",
		    ctx->config_dir, ns != NULL ? " in namespace " : "",
		    ns != NULL ? ns : "");
	else {
		printf("%-*s  %-*s  %-*s  %s\n", wk, "KIND", wn, "NAMESPACE",
		    wname, "NAME", "FILE:LINE");
		for (i = 0; i < n; i++) {
			if (v[i].line == -1)
				continue;
			snprintf(where, sizeof(where), "%s:%d", v[i].file,
			    v[i].line);
			printf("%-*s  %-*s  %-*s  %s\n", wk, v[i].kind, wn,
			    v[i].namespace, wname, v[i].name, where);
		}
	}
	rc = errs.nerrors > 0 ? MESHCTL_EXIT_FAIL : MESHCTL_EXIT_OK;
	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].api_version);
		free(v[i].namespace);
		free(v[i].name);
		free(v[i].file);
	}
	free(v);
	cfg_errors_fini(&errs);
	return rc;
}
