/* SPDX-License-Identifier: ISC */
/*
 * meshctl [-c dir] [-o text|json] [-r dir] command [args]: flags, the table of
 * subcommands, and what they share.  Adding a subcommand is one line in
 * commands[] and one function.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "meshctl.h"

static const struct meshctl_command *meshctl_command(const char *);
static void	 meshctl_help(FILE *);

static const struct meshctl_command commands[] = {
	{ "validate", meshctl_validate, "[-c dir] [-o text|json] [--strict] "
	    "[file | dir ...]", "check config files without applying them" },
	{ "analyze", meshctl_analyze, "[-c dir] [-o text|json] [dir ...] "
	    "[-f file ...]", "check resources against each other, as "
	    "istioctl analyze" },
	{ "apply", meshctl_apply, "[-c dir] [--dry-run] -f file ...",
	    "add or replace resources in the config directory" },
	{ "delete", meshctl_delete, "[-c dir] [--dry-run] "
	    "[--ignore-not-found] -f file ...",
	    "remove resources meshctl apply wrote" },
	{ "get", meshctl_get, "[-c dir] [-o text|json] [-n namespace] "
	    "[kind]", "list the resources of the config directory" },
	{ "status", meshctl_status, "[-c dir] [-o text|json] [-s url] "
	    "[-b url] [-a url] [-t url] [-m url]", "ask each daemon whether it is up" },
	{ "route", meshctl_route, "explain --host host [--path path] "
	    "[--method method] [-H 'name: value'] ... [--workload name] "
	    "[--namespace ns] [-s url] [-c dir] [-o text|json]",
	    "ask route-d where a request goes, and why" },
	{ "breaker", meshctl_breaker, "[-o text|json] [-s url]",
	    "show breaker-d's endpoints: state, errors, ejections" },
	{ "authz", meshctl_authz, "check [--host host] [--path path] "
	    "[--method method] [-H 'name: value'] ... [--source addr:port] "
	    "[--port n] [--workload name] [-n namespace] [--label k=v] ... "
	    "[-s url] [-o text|json]",
	    "ask authz-d whether a request is allowed, and why" },
	{ "graph", meshctl_graph, "[-s url] [-w seconds] [-o text|json]",
	    "stats-d's service graph as Graphviz DOT" },
	{ "top", meshctl_top, "[-s url] [-w seconds] [-d seconds] "
	    "[-n count] [--once]",
	    "a live table of rate, success and latency per service" },
	{ "jwt", meshctl_jwt, "decode TOKEN | verify TOKEN --jwks file "
	    "[--issuer iss] [--audience aud] ...",
	    "show a JWT's claims, or verify it with a JWKS" },
	{ "describe", meshctl_describe, "WORKLOAD [-c dir] "
	    "[--root-namespace ns] [-o text|json]",
	    "show a workload's listeners: mTLS mode and the policy that set "
	    "it, authorization rules" },
	{ "tls", meshctl_tls, "cert WORKLOAD [-n namespace] [-s url] "
	    "[-o text|json] | bundle [-s url] | rotate-root [-s url]",
	    "show a workload's certificate, the trust bundle; rotate the "
	    "root" },
};

static const struct meshctl_command *
meshctl_command(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
meshctl_help(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: meshctl [-h] [-c dir] [-o text|json] [-r dir] "
	    "command [args]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\n  -c dir   config directory (default: $MESHKIT_CONFIG, "
	    "else route-d's,\n           else %s)\n"
	    "  -o fmt   output: text or json\n"
	    "  -r dir   the daemons' run directory (default: "
	    "$MESHKIT_RUNDIR, else\n           the demo this user "
	    "started, else %s)\n", MESHCTL_DEFAULT_CONFIG,
	    MESHCTL_DEFAULT_RUNDIR);
}

int
meshctl_usage(const char *name)
{
	const struct meshctl_command	*c = meshctl_command(name);

	if (c == NULL)
		meshctl_help(stderr);
	else
		fprintf(stderr, "usage: meshctl %s %s\n", c->name, c->usage);
	return MESHCTL_EXIT_USAGE;
}

int
meshctl_common_flag(struct meshctl *ctx, int ch, const char *arg)
{
	switch (ch) {
	case 'c':
		ctx->config_dir = arg;
		ctx->config_dir_set = 1;
		return 1;
	case 'r':
		ctx->rundir = arg;
		return 1;
	case 'o':
		if (strcmp(arg, "text") == 0)
			ctx->output = OUTPUT_TEXT;
		else if (strcmp(arg, "json") == 0)
			ctx->output = OUTPUT_JSON;
		else {
			fprintf(stderr, "meshctl: -o must be text or json, "
			    "not \"%s\"\n", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

void
meshctl_json_string(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

int
main(int argc, char *argv[])
{
	struct meshctl			 ctx;
	const struct meshctl_command	*c;
	int				 ch, rc;

	log_init("meshctl", 1, LOG_LEVEL_WARN);
	memset(&ctx, 0, sizeof(ctx));
	ctx.config_dir = MESHCTL_DEFAULT_CONFIG;
	ctx.output = OUTPUT_TEXT;
	/* "+": the command's own flags come after its name */
	while ((ch = getopt(argc, argv, "+c:ho:r:")) != -1) {
		if (ch == 'h') {
			meshctl_help(stdout);
			return MESHCTL_EXIT_OK;
		}
		rc = meshctl_common_flag(&ctx, ch, optarg);
		if (rc == -1)
			return MESHCTL_EXIT_USAGE;
		if (rc == 0) {
			meshctl_help(stderr);
			return MESHCTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		meshctl_help(stderr);
		return MESHCTL_EXIT_USAGE;
	}
	if ((c = meshctl_command(argv[0])) == NULL) {
		fprintf(stderr, "meshctl: unknown command \"%s\"\n", argv[0]);
		meshctl_help(stderr);
		return MESHCTL_EXIT_USAGE;
	}
	/* glibc: 0 starts getopt afresh for the command's argv */
	optind = 0;
	rc = c->run(&ctx, argc, argv);
	meshctl_mesh_fini(&ctx);
	return rc;
}
