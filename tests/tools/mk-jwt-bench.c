/* SPDX-License-Identifier: ISC */
/*
 * What verifying one token costs: the key set read once, then N rounds
 * of take-apart, signature check and claim check (the path of one
 * authz-d decision with a token), and N whole decisions through
 * authz_decide with the article's policies.
 *
 *   mk-jwt-bench -k jwks.json -t token-file [-n rounds] [-i issuer]
 *
 * Prints microseconds per verify and per decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "config.h"
#include "jwt.h"
#include "util.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	buf = xmalloc(JWKS_MAX_BYTES + 1);
	n = fread(buf, 1, JWKS_MAX_BYTES, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
main(int argc, char *argv[])
{
	const char		*jwks_path = NULL, *tok_path = NULL;
	const char		*issuer = "testing@secure.istio.io";
	char			*jwks_text, *tok, *yaml, hdr[9000], err[256];
	size_t			 jlen, tlen, i, n = 20000;
	struct jwks		*keys;
	struct jwt		 t;
	struct cfg_errors	 errs;
	struct config		*cfg;
	struct msg_source	 src;
	struct authz_request	 req;
	struct authz_env	 env;
	struct authz_answer	*a;
	uint64_t		 t0, t1;
	int			 ch;

	while ((ch = getopt(argc, argv, "i:k:n:t:")) != -1) {
		switch (ch) {
		case 'i': issuer = optarg; break;
		case 'k': jwks_path = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 't': tok_path = optarg; break;
		default:
			fprintf(stderr, "usage: mk-jwt-bench -k jwks -t token "
			    "[-n rounds] [-i issuer]\n");
			return 2;
		}
	}
	if (jwks_path == NULL || tok_path == NULL || n == 0) {
		fprintf(stderr, "usage: mk-jwt-bench -k jwks -t token "
		    "[-n rounds] [-i issuer]\n");
		return 2;
	}
	jwks_text = slurp(jwks_path, &jlen);
	tok = slurp(tok_path, &tlen);
	if ((keys = jwks_parse(jwks_text, jlen, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", jwks_path, err);
		return 1;
	}
	t0 = util_now_us();
	for (i = 0; i < n; i++) {
		if (jwt_parse(&t, tok, tlen, err, sizeof(err)) == -1 ||
		    jwt_verify(&t, keys, err, sizeof(err)) == -1 ||
		    jwt_check_claims(&t, issuer, NULL, 0, (int64_t)time(NULL),
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", tok_path, err);
			return 1;
		}
		jwt_fini(&t);
	}
	t1 = util_now_us();
	printf("verify    %8.2f us  (%zu rounds, parse + signature + "
	    "claims)\n", (double)(t1 - t0) / (double)n, n);

	/* the same through a whole decision: RequestAuthentication + ALLOW */
	xasprintf(&yaml, "apiVersion: security.istio.io/v1\n"
	    "kind: RequestAuthentication\nmetadata: {name: ra}\nspec:\n"
	    "  jwtRules:\n  - issuer: \"%s\"\n    jwks: '%s'\n---\n"
	    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: ap}\nspec:\n  rules:\n"
	    "  - from: [{source: {requestPrincipals: [\"*\"]}}]\n",
	    issuer, jwks_text);
	memset(&errs, 0, sizeof(errs));
	if ((cfg = config_load_buffer("bench.yaml", yaml, strlen(yaml),
	    &errs)) == NULL) {
		fprintf(stderr, "the bench config did not load\n");
		return 1;
	}
	memset(&src, 0, sizeof(src));
	src.namespace = STR_LIT("default");
	memset(&req, 0, sizeof(req));
	req.authority = STR_LIT("book:8080");
	req.method = STR_LIT("GET");
	req.path = STR_LIT("/books/1");
	req.source = STR_LIT("127.0.0.1:40000");
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	req.header_names[0] = STR_LIT("authorization");
	req.header_values[0] = (struct str){ hdr, strlen(hdr) };
	req.nheaders = 1;
	memset(&env, 0, sizeof(env));
	env.reuse_ms = 60000;
	a = xcalloc(1, sizeof(*a));
	t0 = util_now_us();
	for (i = 0; i < n; i++) {
		env.now = (int64_t)time(NULL);
		authz_decide(cfg, &env, &src, &req, a);
		if (a->decision != AUTHZ_DECISION_ALLOW) {
			fprintf(stderr, "decision: %s\n", a->reason);
			return 1;
		}
	}
	t1 = util_now_us();
	printf("decision  %8.2f us  (authz_decide, token verified each "
	    "time)\n", (double)(t1 - t0) / (double)n);
	free(a);
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(yaml);
	jwks_free(keys);
	free(jwks_text);
	free(tok);
	return 0;
}
