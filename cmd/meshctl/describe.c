/* SPDX-License-Identifier: ISC */
/*
 * meshctl describe WORKLOAD [--root-namespace ns] [-o text|json]: each
 * listener of a workload's proxy with the mutual TLS it takes and the
 * policy that set it, and the authorization policies its inbound
 * requests are checked against, as istioctl experimental authz check
 * shows them (LISTENER, mTLS (MODE), AuthZ (RULES)).  From the config
 * directory: what is in force once the daemons have read it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "meshctl.h"
#include "mtls.h"
#include "util.h"

#define DESCRIBE_MAX_POLICIES	64

struct describe_authz {
	const struct authorization_policy *v[DESCRIBE_MAX_POLICIES];
	size_t		 n;
	size_t		 rules;
};

static const char *describe_action(enum authz_action);
static int	describe_applies(const struct authorization_policy *,
		    const char *, const struct proxy_config *);
static uint32_t	describe_port(const char *);

static const char *
describe_action(enum authz_action a)
{
	switch (a) {
	case AUTHZ_DENY:
		return "DENY";
	case AUTHZ_AUDIT:
		return "AUDIT";
	case AUTHZ_CUSTOM:
		return "CUSTOM";
	default:
		return "ALLOW";
	}
}

/* Istio's attachment: the root namespace or the workload's, a selector. */
static int
describe_applies(const struct authorization_policy *p, const char *root_ns,
    const struct proxy_config *pc)
{
	if (strcmp(p->meta.namespace, root_ns) != 0 &&
	    strcmp(p->meta.namespace, pc->workload_namespace) != 0)
		return 0;
	return !p->has_selector || labels_match(&p->selector,
	    &pc->workload_labels);
}

/* The port of "127.0.0.1:9080", "[::1]:9080"; 0 for unix: or none. */
static uint32_t
describe_port(const char *addr)
{
	const char	*colon;
	long		 p;

	if (addr == NULL || strncmp(addr, "unix:", 5) == 0 ||
	    (colon = strrchr(addr, ':')) == NULL)
		return 0;
	p = strtol(colon + 1, NULL, 10);
	return p > 0 && p <= 65535 ? (uint32_t)p : 0;
}

int
meshctl_describe(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root-namespace", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg_errors		 errs;
	struct config			*cfg;
	const struct proxy_config	*pc = NULL;
	struct describe_authz		 az;
	struct mtls_inbound		 in;
	const char			*root_ns = NULL;
	const char			*name;
	char				 listener[128], mode[64], rules[96];
	size_t				 i;
	int				 ch;

	while ((ch = getopt_long(argc, argv, "c:ho:r:", longopts, NULL)) !=
	    -1) {
		if (ch == 'R')
			root_ns = optarg;
		else if (ch == 'h' || meshctl_common_flag(ctx, ch, optarg) !=
		    1)
			return meshctl_usage("describe");
	}
	if (optind + 1 != argc)
		return meshctl_usage("describe");
	name = argv[optind];
	memset(&errs, 0, sizeof(errs));
	if ((cfg = config_load_dir(meshctl_config_dir(ctx), &errs)) == NULL) {
		fprintf(stderr, "meshctl: %s has errors (meshctl validate "
		    "shows them)\n", meshctl_config_dir(ctx));
		cfg_errors_fini(&errs);
		return MESHCTL_EXIT_FAIL;
	}
	cfg_errors_fini(&errs);
	if (root_ns == NULL)
		root_ns = config_root_namespace(cfg);
	for (i = 0; i < cfg->nproxies; i++)
		if (strcmp(cfg->proxies[i].workload_name, name) == 0 ||
		    strcmp(cfg->proxies[i].meta.name, name) == 0) {
			pc = &cfg->proxies[i];
			if (strcmp(pc->workload_name, name) == 0)
				break;
		}
	if (pc == NULL) {
		fprintf(stderr, "meshctl: no Proxy resource for workload %s "
		    "in %s\n", name, meshctl_config_dir(ctx));
		config_free(cfg);
		return MESHCTL_EXIT_FAIL;
	}
	memset(&az, 0, sizeof(az));
	for (i = 0; i < cfg->nauthorization_policies &&
	    az.n < DESCRIBE_MAX_POLICIES; i++)
		if (describe_applies(&cfg->authorization_policies[i], root_ns,
		    pc)) {
			az.v[az.n++] = &cfg->authorization_policies[i];
			az.rules += cfg->authorization_policies[i].nrules;
		}
	if (az.n == 0)
		snprintf(rules, sizeof(rules), "no (none)");
	else if (!pc->authz.enabled)
		snprintf(rules, sizeof(rules), "no (%zu, authz-d not asked: "
		    "daemons.authz)", az.rules);
	else
		snprintf(rules, sizeof(rules), "yes (%zu)", az.rules);

	if (ctx->output == OUTPUT_JSON) {
		printf("{\"workload\": ");
		meshctl_json_string(stdout, pc->workload_name);
		printf(", \"namespace\": ");
		meshctl_json_string(stdout, pc->workload_namespace);
		printf(", \"proxy\": ");
		meshctl_json_string(stdout, pc->meta.name);
		printf(", \"listeners\": [");
	} else {
		printf("workload %s (namespace %s, Proxy %s)\n",
		    pc->workload_name, pc->workload_namespace, pc->meta.name);
		printf("%-44s %-18s %s\n", "LISTENER", "mTLS (MODE)",
		    "AuthZ (RULES)");
	}
	for (i = 0; i < pc->nlisteners; i++) {
		const struct proxy_listener *l = &pc->listeners[i];
		int inbound = l->direction == LISTENER_INBOUND;

		snprintf(listener, sizeof(listener), "%s %s%s%s", l->name,
		    l->address, inbound ? " to " : "", inbound ? l->forward :
		    "");
		if (inbound) {
			mtls_inbound_mode(cfg, root_ns, pc->workload_namespace,
			    &pc->workload_labels, describe_port(l->forward),
			    &in);
			snprintf(mode, sizeof(mode), "%s (%s)", in.mode ==
			    PEER_MTLS_DISABLE ? "no" : "yes",
			    mtls_mode_name(in.mode));
		} else
			snprintf(mode, sizeof(mode), "per destination");
		if (ctx->output == OUTPUT_JSON) {
			printf("%s\n  {\"name\": ", i == 0 ? "" : ",");
			meshctl_json_string(stdout, l->name);
			printf(", \"direction\": \"%s\", \"address\": ",
			    inbound ? "inbound" : "outbound");
			meshctl_json_string(stdout, l->address);
			if (inbound) {
				printf(", \"forward\": ");
				meshctl_json_string(stdout, l->forward);
				printf(", \"mtls\": \"%s\", \"mtls_source\": ",
				    mtls_mode_name(in.mode));
				meshctl_json_string(stdout, in.source);
				printf(", \"authz_rules\": %zu, "
				    "\"authz_enabled\": %s", az.rules,
				    pc->authz.enabled ? "true" : "false");
			}
			printf("}");
			continue;
		}
		printf("%-44s %-18s %s\n", listener, mode, inbound ? rules :
		    "no (outbound)");
		if (inbound)
			printf("  mTLS %s: %s\n", mtls_mode_name(in.mode),
			    in.source);
	}
	if (ctx->output == OUTPUT_JSON) {
		printf("\n], \"authorization_policies\": [");
		for (i = 0; i < az.n; i++) {
			printf("%s\n  {\"namespace\": ", i == 0 ? "" : ",");
			meshctl_json_string(stdout, az.v[i]->meta.namespace);
			printf(", \"name\": ");
			meshctl_json_string(stdout, az.v[i]->meta.name);
			printf(", \"action\": \"%s\", \"rules\": %zu}",
			    describe_action(az.v[i]->action),
			    az.v[i]->nrules);
		}
		printf("\n]}\n");
	} else
		for (i = 0; i < az.n; i++)
			printf("  AuthorizationPolicy %s/%s: %s, %zu rule%s\n",
			    az.v[i]->meta.namespace, az.v[i]->meta.name,
			    describe_action(az.v[i]->action),
			    az.v[i]->nrules, az.v[i]->nrules == 1 ? "" : "s");
	config_free(cfg);
	return MESHCTL_EXIT_OK;
}
