/* SPDX-License-Identifier: ISC */
/*
 * meshctl authz check: one meshkit-ipc(7) authz question to the running
 * authz-d, asked as the named workload's proxy-d would ask it, and the
 * decision in words.  meshctl jwt decode|verify: a token taken apart,
 * and verified against a JWKS file, without any daemon.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "config.h"
#include "json.h"
#include "jwt.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"
#include "yaml.h"

#define AUTHZ_USAGE	"check [--host host] [--path path] [--method method] " \
	"[-H 'name: value'] ... [--source addr:port] [--port n] " \
	"[--workload name] [-n namespace] [--label k=v] ... [-s url] " \
	"[-o text|json]"
#define JWT_USAGE	"decode TOKEN | verify TOKEN --jwks file " \
	"[--issuer iss] [--audience aud] ..."

struct check {
	const char	*host;
	const char	*path;
	const char	*method;
	const char	*source;
	const char	*workload;
	const char	*namespace;
	const char	*url;
	unsigned	 port;
	char		**headers;
	size_t		  nheaders;
	char		**labels;
	size_t		  nlabels;
};

static int	 check_request(struct meshctl *, const struct check *,
		    struct msg_writer *);
static int	 check(struct meshctl *, int, char **);
static void	 check_print(struct meshctl *, const char *, uint64_t,
		    const struct authz_answer *);
static char	*token_arg(const char *);
static void	 json_print(const struct json *, int);
static int	 jwt_decode_cmd(struct meshctl *, int, char **);
static int	 jwt_verify_cmd(struct meshctl *, int, char **);

/*
 * The question as the workload's proxy-d would send it: its namespace
 * and labels come from its Proxy resource when the directory has one
 * (policies select workloads by label), then from -n and --label.
 */
static int
check_request(struct meshctl *ctx, const struct check *c,
    struct msg_writer *w)
{
	size_t	 i;

	meshctl_question_head(ctx, w, "authz", c->workload, c->namespace);
	for (i = 0; i < c->nlabels; i++) {
		if (strchr(c->labels[i], '=') == NULL) {
			fprintf(stderr, "meshctl: --label %s: want key=value\n",
			    c->labels[i]);
			return -1;
		}
		msgw_fieldf(w, "label", "%s", c->labels[i]);
	}
	msgw_record(w);
	msgw_field_u64(w, "id", 1);
	if (c->host != NULL)
		msgw_fieldf(w, "authority", "%s", c->host);
	if (c->port != 0)
		msgw_field_u64(w, "port", c->port);
	msgw_fieldf(w, "method", "%s", c->method);
	msgw_fieldf(w, "path", "%s", c->path);
	if (c->source != NULL)
		msgw_fieldf(w, "source", "%s", c->source);
	return meshctl_question_headers(w, c->headers, c->nheaders);
}

static void
check_print(struct meshctl *ctx, const char *url, uint64_t generation,
    const struct authz_answer *a)
{
	size_t	 i;

	if (ctx->output == OUTPUT_JSON) {
		printf("{\"address\": ");
		meshctl_json_string(stdout, url);
		printf(", \"generation\": %llu, \"decision\": \"%s\", "
		    "\"status\": %u, \"body\": ", (unsigned long long)generation,
		    authz_decision_name(a->decision), a->status);
		meshctl_json_string(stdout, a->body);
		printf(", \"principal\": ");
		meshctl_json_string(stdout, a->principal);
		printf(", \"reason\": ");
		meshctl_json_string(stdout, a->reason);
		printf(", \"dry_run\": ");
		meshctl_json_string(stdout, a->dry_run);
		printf(", \"reuse_ms\": %llu, \"vary\": ",
		    (unsigned long long)a->reuse_ms);
		meshctl_json_string(stdout, a->vary);
		printf(",\n \"headers\": [");
		for (i = 0; i < a->nops; i++) {
			printf("%s{\"op\": \"%s\", \"name\": ", i == 0 ? "" :
			    ", ", a->ops[i].remove ? "remove" : "set");
			meshctl_json_string(stdout, a->ops[i].name);
			printf(", \"value\": ");
			meshctl_json_string(stdout, a->ops[i].value);
			printf("}");
		}
		printf("]}\n");
		return;
	}
	printf("generation: %llu\n", (unsigned long long)generation);
	printf("decision:   %s\n", authz_decision_name(a->decision));
	if (a->decision == AUTHZ_DECISION_DENY)
		printf("status:     %u %s\n", a->status, a->body);
	if (a->principal[0] != '\0')
		printf("principal:  %s\n", a->principal);
	printf("why:        %s\n", a->reason[0] != '\0' ? a->reason : "-");
	if (a->dry_run[0] != '\0')
		printf("dry-run:    %s\n", a->dry_run);
	for (i = 0; i < a->nops; i++)
		printf("header:     %s %s%s%s\n", a->ops[i].remove ? "remove" :
		    "set", a->ops[i].name, a->ops[i].remove ? "" : ": ",
		    a->ops[i].value);
	printf("reuse:      %llu ms, for questions agreeing on: %s\n",
	    (unsigned long long)a->reuse_ms, a->vary[0] != '\0' ? a->vary :
	    "-");
}

static int
check(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'p' },
		{ "method", required_argument, NULL, 'm' },
		{ "header", required_argument, NULL, 'H' },
		{ "source", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'P' },
		{ "workload", required_argument, NULL, 'w' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct check		 c;
	struct msg_writer	 w;
	struct msg		 m;
	struct authz_answer	*a;
	char			*url, *reply = NULL, err[256], *end;
	uint64_t		 generation = 0;
	unsigned long		 port;
	int			 ch, rc;

	memset(&c, 0, sizeof(c));
	c.path = "/";
	c.method = "GET";
	while ((ch = getopt_long(argc, argv, "a:c:H:hL:m:n:o:P:p:r:S:s:w:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: meshctl authz %s\n", AUTHZ_USAGE);
			free(c.headers);
			free(c.labels);
			return MESHCTL_EXIT_OK;
		case 'a': c.host = optarg; continue;
		case 'p': c.path = optarg; continue;
		case 'm': c.method = optarg; continue;
		case 'S': c.source = optarg; continue;
		case 'w': c.workload = optarg; continue;
		case 'n': c.namespace = optarg; continue;
		case 's': c.url = optarg; continue;
		case 'P':
			port = strtoul(optarg, &end, 10);
			if (*end != '\0' || port == 0 || port > 65535) {
				fprintf(stderr, "meshctl: --port %s: want "
				    "1..65535\n", optarg);
				free(c.headers);
				free(c.labels);
				return MESHCTL_EXIT_USAGE;
			}
			c.port = (unsigned)port;
			continue;
		case 'H':
			c.headers = xreallocarray(c.headers, c.nheaders + 1,
			    sizeof(*c.headers));
			c.headers[c.nheaders++] = optarg;
			continue;
		case 'L':
			c.labels = xreallocarray(c.labels, c.nlabels + 1,
			    sizeof(*c.labels));
			c.labels[c.nlabels++] = optarg;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(c.headers);
			free(c.labels);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("authz");
		}
	}
	if (optind != argc) {
		free(c.headers);
		free(c.labels);
		return meshctl_usage("authz");
	}
	msgw_init(&w);
	if (check_request(ctx, &c, &w) == -1) {
		msgw_fini(&w);
		free(c.headers);
		free(c.labels);
		return MESHCTL_EXIT_USAGE;
	}
	if (c.url != NULL)
		url = xstrdup(c.url);
	else
		url = meshctl_daemon_address(ctx, "authz.sock");
	rc = MESHCTL_EXIT_FAIL;
	a = xcalloc(1, sizeof(*a));
	msg_init(&m);
	if (meshctl_question_ask("authz-d", url, &w, "authz-reply", &m,
	    &reply) == 0) {
		if (authz_answer_read(&m, &m.records[0], a, err,
		    sizeof(err)) == -1)
			fprintf(stderr, "meshctl: authz-d at %s: bad answer: "
			    "%s\n", url, err);
		else {
			msg_get_u64(&m, &m.header, "generation", &generation);
			check_print(ctx, url, generation, a);
			rc = a->decision == AUTHZ_DECISION_ALLOW ?
			    MESHCTL_EXIT_OK : MESHCTL_EXIT_FAIL;
		}
	}
	msg_fini(&m);
	free(reply);
	free(a);
	free(url);
	msgw_fini(&w);
	free(c.headers);
	free(c.labels);
	return rc;
}

int
meshctl_authz(struct meshctl *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		optind = 0;
		return check(ctx, argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: meshctl authz %s\n", AUTHZ_USAGE);
		return MESHCTL_EXIT_OK;
	}
	return meshctl_usage("authz");
}

/* The token itself, or "-" for standard input, or @file. */
static char *
token_arg(const char *arg)
{
	char	*buf = NULL, *p;
	size_t	 len = 0;
	FILE	*f;

	if (strcmp(arg, "-") != 0 && arg[0] != '@')
		return xstrdup(arg);
	f = strcmp(arg, "-") == 0 ? stdin : fopen(arg + 1, "r");
	if (f == NULL) {
		fprintf(stderr, "meshctl: %s: cannot open\n", arg + 1);
		return NULL;
	}
	buf = xmalloc(JWT_MAX_BYTES + 2);
	len = fread(buf, 1, JWT_MAX_BYTES + 1, f);
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	/* a token file ends with a newline, often */
	for (p = buf + len; p > buf && isspace((unsigned char)p[-1]); p--)
		p[-1] = '\0';
	return buf;
}

static void
json_print(const struct json *j, int indent)
{
	size_t	 i;

	switch (j->type) {
	case JSON_NULL:
		printf("null");
		break;
	case JSON_BOOL:
		printf("%s", j->boolean ? "true" : "false");
		break;
	case JSON_NUMBER:
		printf("%s", j->string);
		break;
	case JSON_STRING:
		meshctl_json_string(stdout, j->string);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		printf("%c", j->type == JSON_ARRAY ? '[' : '{');
		for (i = 0; i < j->n; i++) {
			printf("%s\n%*s", i == 0 ? "" : ",", indent + 2, "");
			if (j->type == JSON_OBJECT) {
				meshctl_json_string(stdout, j->keys[i]);
				printf(": ");
			}
			json_print(j->values[i], indent + 2);
		}
		if (j->n > 0)
			printf("\n%*s", indent, "");
		printf("%c", j->type == JSON_ARRAY ? ']' : '}');
		break;
	}
}

static int
jwt_decode_cmd(struct meshctl *ctx, int argc, char **argv)
{
	struct jwt	 t;
	char		*tok, err[256];
	time_t		 exp;
	int		 rc;

	if (argc != 2)
		return meshctl_usage("jwt");
	if ((tok = token_arg(argv[1])) == NULL)
		return MESHCTL_EXIT_FAIL;
	rc = jwt_parse(&t, tok, strlen(tok), err, sizeof(err));
	if (rc == -1 && (t.header == NULL || t.claims == NULL)) {
		fprintf(stderr, "meshctl: token unreadable: %s\n", err);
		jwt_fini(&t);
		free(tok);
		return MESHCTL_EXIT_FAIL;
	}
	if (ctx->output == OUTPUT_JSON) {
		printf("{\"verified\": false, \"header\": ");
		json_print(t.header, 0);
		printf(",\n \"claims\": ");
		json_print(t.claims, 0);
		printf("}\n");
	} else {
		printf("# UNVERIFIED: decoded only; nothing here is "
		    "trustworthy until meshctl jwt verify says so\n");
		printf("header: ");
		json_print(t.header, 0);
		printf("\nclaims: ");
		json_print(t.claims, 0);
		printf("\n");
		if (t.has_exp) {
			exp = (time_t)t.exp;
			printf("# exp %s", ctime(&exp));
			if (t.exp < (double)time(NULL))
				printf("# EXPIRED\n");
		}
		if (rc == -1)
			printf("# %s\n", err);
	}
	jwt_fini(&t);
	free(tok);
	return rc == 0 ? MESHCTL_EXIT_OK : MESHCTL_EXIT_FAIL;
}

static int
jwt_verify_cmd(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jwks", required_argument, NULL, 'j' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "audience", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*jwks_file = NULL, *issuer = NULL;
	char		**auds = NULL, *tok = NULL, *buf = NULL, err[256];
	size_t		 nauds = 0, len = 0;
	struct cfg_errors errs;
	struct jwks	*keys = NULL;
	struct jwt	 t;
	int		 ch, rc = MESHCTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "a:hi:j:o:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j': jwks_file = optarg; continue;
		case 'i': issuer = optarg; continue;
		case 'a':
			auds = xreallocarray(auds, nauds + 1, sizeof(*auds));
			auds[nauds++] = optarg;
			continue;
		case 'h':
			printf("usage: meshctl jwt %s\n", JWT_USAGE);
			free(auds);
			return MESHCTL_EXIT_OK;
		}
		if (meshctl_common_flag(ctx, ch, optarg) != 1) {
			free(auds);
			return meshctl_usage("jwt");
		}
	}
	if (optind != argc - 1 || jwks_file == NULL) {
		free(auds);
		return meshctl_usage("jwt");
	}
	memset(&errs, 0, sizeof(errs));
	memset(&t, 0, sizeof(t));
	if (meshctl_read_input(jwks_file, &buf, &len, &errs) == -1) {
		fprintf(stderr, "meshctl: %s: cannot read\n", jwks_file);
		goto out;
	}
	if ((keys = jwks_parse(buf, len, err, sizeof(err))) == NULL) {
		fprintf(stderr, "meshctl: %s: %s\n", jwks_file, err);
		goto out;
	}
	if ((tok = token_arg(argv[optind])) == NULL)
		goto out;
	if (jwt_parse(&t, tok, strlen(tok), err, sizeof(err)) == -1 ||
	    jwt_verify(&t, keys, err, sizeof(err)) == -1 ||
	    jwt_check_claims(&t, issuer, auds, nauds, (int64_t)time(NULL),
	    err, sizeof(err)) == -1) {
		printf("invalid: %s\n", err);
		goto out;
	}
	printf("valid: %s %s/%s\n", jwt_alg_name(t.alg), t.iss != NULL ?
	    t.iss : "", t.sub != NULL ? t.sub : "");
	rc = MESHCTL_EXIT_OK;
out:
	cfg_errors_fini(&errs);
	jwt_fini(&t);
	jwks_free(keys);
	free(buf);
	free(tok);
	free(auds);
	return rc;
}

int
meshctl_jwt(struct meshctl *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "decode") == 0)
		return jwt_decode_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		optind = 0;
		return jwt_verify_cmd(ctx, argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: meshctl jwt %s\n", JWT_USAGE);
		return MESHCTL_EXIT_OK;
	}
	return meshctl_usage("jwt");
}
