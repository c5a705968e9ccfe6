/* SPDX-License-Identifier: ISC */
/*
 * meshctl route explain --host H [--path P] [--method M] [-H 'name: value']
 * ...: one meshkit-ipc(7) route question to the running route-d, asked as
 * the named workload would ask it, and the answer in words: the route
 * that matched and why, the service and subset, the endpoints in order.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "meshctl.h"
#include "msg.h"
#include "route.h"
#include "uri.h"
#include "util.h"
#include "yaml.h"

#define ROUTE_USAGE	"explain --host host [--path path] " \
	"[--method method] [-H 'name: value'] ... [--workload name] " \
	"[--namespace ns] [-s url] [-c dir] [-o text|json]"

struct explain {
	const char	*host;
	const char	*path;
	const char	*method;
	const char	*workload;
	const char	*namespace;
	const char	*url;
	char		**headers;
	size_t		  nheaders;
	char		 *normalized;	/* path, as proxy-d asks about it */
};

static int	 explain_request(struct meshctl *, const struct explain *,
		    struct msg_writer *);
static char	*explain_path(struct meshctl *, const char *);
static const char *status_word(enum route_status);
static void	 explain_text(const struct explain *, uint64_t,
		    const struct route_answer *);
static void	 explain_json(const struct explain *, const char *, uint64_t,
		    const struct route_answer *);
static void	 explain_policy(const struct route_policy *);
static int	 explain(struct meshctl *, int, char **);

static const char *
status_word(enum route_status s)
{
	switch (s) {
	case ROUTE_OK:
		return "ok";
	case ROUTE_NO_ROUTE:
		return "no-route";
	default:
		return "error";
	}
}

/*
 * The path as proxy-d asks about it: normalized once, as the mesh's
 * MeshConfig pathNormalization says (BASE without one).  NULL, said
 * why, when proxy-d would refuse it (400).
 */
static char *
explain_path(struct meshctl *ctx, const char *path)
{
	enum uri_normalization	 how = URI_NORMALIZE_BASE;
	struct cfg_errors	 errs;
	struct config		*cfg;
	const char		*why;
	char			*out;
	ssize_t			 n;

	if (access(meshctl_config_dir(ctx), F_OK) == 0) {
		memset(&errs, 0, sizeof(errs));
		cfg = config_load_dir(ctx->config_dir, &errs);
		cfg_errors_fini(&errs);
		if (cfg != NULL && cfg->mesh != NULL)
			how = cfg->mesh->path_normalization;
		config_free(cfg);
	}
	out = xstrdup(path);
	if (path[0] != '/' || strcmp(path, "/") == 0)
		return out;
	if ((n = uri_normalize(out, strlen(out), how, out, &why)) == -1) {
		fprintf(stderr, "meshctl: --path %s: %s (proxy-d answers "
		    "400)\n", path, why);
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/*
 * The question as proxy-d would send it for the workload: its namespace
 * and labels come from its Proxy resource, when the directory has one
 * (sourceLabels matches depend on them).
 */
static int
explain_request(struct meshctl *ctx, const struct explain *e,
    struct msg_writer *w)
{
	meshctl_question_head(ctx, w, "route", e->workload, e->namespace);
	msgw_record(w);
	msgw_field_u64(w, "id", 1);
	msgw_fieldf(w, "authority", "%s", e->host);
	msgw_fieldf(w, "method", "%s", e->method);
	msgw_fieldf(w, "path", "%s", e->path);
	return meshctl_question_headers(w, e->headers, e->nheaders);
}

/* What the matched route does beyond where it goes, when anything. */
static void
explain_policy(const struct route_policy *p)
{
	size_t	 i;

	if (p->redirect_code != 0)
		printf("redirect:   %u to %s%s%s%s\n", p->redirect_code,
		    p->redirect_scheme[0] != '\0' ? p->redirect_scheme : "",
		    p->redirect_scheme[0] != '\0' ? "://" : "",
		    p->redirect_authority, p->redirect_uri);
	if (p->direct_status != 0)
		printf("direct:     %u (a direct response)\n",
		    p->direct_status);
	if (p->rewrite_path[0] != '\0' || p->rewrite_authority[0] != '\0')
		printf("rewrite:    path %s, authority %s\n",
		    p->rewrite_path[0] != '\0' ? p->rewrite_path : "as is",
		    p->rewrite_authority[0] != '\0' ? p->rewrite_authority :
		    "as is");
	if (p->retry_attempts != 0)
		printf("retries:    %u on %s\n", p->retry_attempts,
		    p->retry_on[0] != '\0' ? p->retry_on : "-");
	if (p->fault_delay_ms != 0 || p->fault_abort_status != 0)
		printf("fault:      delay %llu ms (%u ppm), abort %u (%u ppm)\n",
		    (unsigned long long)p->fault_delay_ms, p->fault_delay_ppm,
		    p->fault_abort_status, p->fault_abort_ppm);
	for (i = 0; i < p->nmirrors; i++)
		printf("mirror:     %s at %s (%u ppm)\n", p->mirrors[i].service,
		    p->mirrors[i].address, p->mirrors[i].ppm);
	if (p->nheaders > 0)
		printf("headers:    %zu operation%s\n", p->nheaders,
		    p->nheaders == 1 ? "" : "s");
}

static void
explain_text(const struct explain *e, uint64_t generation,
    const struct route_answer *a)
{
	size_t	 i;

	printf("request:    %s %s, host %s\n", e->method, e->path, e->host);
	printf("generation: %llu\n", (unsigned long long)generation);
	printf("status:     %s\n", status_word(a->status));
	if (a->reason[0] != '\0')
		printf("why:        %s\n", a->reason);
	if (a->status != ROUTE_OK)
		return;
	printf("service:    %s\n", a->service[0] != '\0' ? a->service : "-");
	printf("subset:     %s\n", a->subset[0] != '\0' ? a->subset : "-");
	if (a->port != 0)
		printf("port:       %u\n", a->port);
	printf("lb:         %s\n", route_lb_name(a->lb));
	printf("endpoints:  %zu, in the order proxy-d tries them\n",
	    a->nendpoints);
	for (i = 0; i < a->nendpoints; i++)
		printf("  %2zu. %-24s weight %u\n", i + 1,
		    a->endpoints[i].address, a->endpoints[i].weight);
	if (a->timeout_ms != 0)
		printf("timeout:    %llu ms\n",
		    (unsigned long long)a->timeout_ms);
	explain_policy(&a->policy);
	printf("reuse:      %llu ms, for questions agreeing on: %s\n",
	    (unsigned long long)a->reuse_ms, a->vary[0] != '\0' ? a->vary :
	    "authority listener");
}

static void
explain_json(const struct explain *e, const char *url, uint64_t generation,
    const struct route_answer *a)
{
	size_t	 i;

	printf("{\"address\": ");
	meshctl_json_string(stdout, url);
	printf(", \"request\": {\"host\": ");
	meshctl_json_string(stdout, e->host);
	printf(", \"method\": ");
	meshctl_json_string(stdout, e->method);
	printf(", \"path\": ");
	meshctl_json_string(stdout, e->path);
	printf("},\n \"generation\": %llu, \"status\": \"%s\", \"reason\": ",
	    (unsigned long long)generation, status_word(a->status));
	meshctl_json_string(stdout, a->reason);
	printf(", \"service\": ");
	meshctl_json_string(stdout, a->service);
	printf(", \"subset\": ");
	meshctl_json_string(stdout, a->subset);
	printf(", \"port\": %u, \"lb\": \"%s\", \"reuse_ms\": %llu, "
	    "\"timeout_ms\": %llu, \"vary\": ", a->port, route_lb_name(a->lb),
	    (unsigned long long)a->reuse_ms,
	    (unsigned long long)a->timeout_ms);
	meshctl_json_string(stdout, a->vary);
	printf(",\n \"endpoints\": [");
	for (i = 0; i < a->nendpoints; i++) {
		printf("%s{\"address\": ", i == 0 ? "" : ", ");
		meshctl_json_string(stdout, a->endpoints[i].address);
		printf(", \"weight\": %u}", a->endpoints[i].weight);
	}
	printf("]}\n");
}

static int
explain(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'p' },
		{ "method", required_argument, NULL, 'm' },
		{ "header", required_argument, NULL, 'H' },
		{ "workload", required_argument, NULL, 'w' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct explain		 e;
	struct msg_writer	 w;
	struct msg		 m;
	struct route_answer	*a;
	char			*url, *reply = NULL, err[256];
	uint64_t		 generation = 0;
	int			 ch, rc, failed;

	memset(&e, 0, sizeof(e));
	e.path = "/";
	e.method = "GET";
	while ((ch = getopt_long(argc, argv, "a:c:H:hm:n:o:p:r:s:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: meshctl route %s\n", ROUTE_USAGE);
			free(e.headers);
			return MESHCTL_EXIT_OK;
		case 'a':
			e.host = optarg;
			continue;
		case 'p':
			e.path = optarg;
			continue;
		case 'm':
			e.method = optarg;
			continue;
		case 'H':
			e.headers = xreallocarray(e.headers, e.nheaders + 1,
			    sizeof(*e.headers));
			e.headers[e.nheaders++] = optarg;
			continue;
		case 'w':
			e.workload = optarg;
			continue;
		case 'n':
			e.namespace = optarg;
			continue;
		case 's':
			e.url = optarg;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(e.headers);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("route");
		}
	}
	if (optind != argc || e.host == NULL || e.host[0] == '\0') {
		free(e.headers);
		return meshctl_usage("route");
	}
	if ((e.normalized = explain_path(ctx, e.path)) == NULL) {
		free(e.headers);
		return MESHCTL_EXIT_USAGE;
	}
	e.path = e.normalized;
	msgw_init(&w);
	if (explain_request(ctx, &e, &w) == -1) {
		msgw_fini(&w);
		free(e.headers);
		free(e.normalized);
		return MESHCTL_EXIT_USAGE;
	}
	if (e.url != NULL)
		url = xstrdup(e.url);
	else if ((url = meshctl_route_address(ctx, &failed)) != NULL &&
	    failed) {
		free(url);
		msgw_fini(&w);
		free(e.headers);
		free(e.normalized);
		return MESHCTL_EXIT_FAIL;
	}
	rc = MESHCTL_EXIT_FAIL;
	a = xcalloc(1, sizeof(*a));
	msg_init(&m);
	if (meshctl_question_ask("route-d", url, &w, "route-reply", &m,
	    &reply) == 0) {
		if (route_answer_read(&m, &m.records[0], a, err,
		    sizeof(err)) == -1)
			fprintf(stderr, "meshctl: route-d at %s: bad answer: "
			    "%s\n", url, err);
		else {
			msg_get_u64(&m, &m.header, "generation", &generation);
			if (ctx->output == OUTPUT_JSON)
				explain_json(&e, url, generation, a);
			else
				explain_text(&e, generation, a);
			rc = a->status == ROUTE_OK ? MESHCTL_EXIT_OK :
			    MESHCTL_EXIT_FAIL;
		}
	}
	msg_fini(&m);
	free(reply);
	free(a);
	free(url);
	msgw_fini(&w);
	free(e.headers);
	free(e.normalized);
	return rc;
}

int
meshctl_route(struct meshctl *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "explain") == 0) {
		optind = 0;
		return explain(ctx, argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: meshctl route %s\n", ROUTE_USAGE);
		return MESHCTL_EXIT_OK;
	}
	return meshctl_usage("route");
}
