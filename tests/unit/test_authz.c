/*
 * Unit tests of lib/authz.c and lib/authz_wire.c: decisions over configs
 * read from YAML, with Istio's JWKS and tokens (testdata/istio/jwt) and
 * the article's policies; policy semantics in the style of Istio's own
 * tests (DENY beats ALLOW, empty against absent rules, not-fields, path
 * templates, the root namespace); the wire form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include "authz.h"
#include "config.h"
#include "jwt.h"
#include "msg.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define JWT_DIR	"../shared/testdata/istio/jwt/"
#define NOW	1795900000	/* 2026-11-28 */

static struct authz_answer	 ans;
static char			 jwks_istio[4096], jwks_common[4096];

static char	*slurp(const char *, char *, size_t);
static char	*token(const char *);
static struct config *load(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	 ask(const struct config *, const char *, const char *,
		    const char *, const char *);
static void	 expect(unsigned, const char *);
static int	 setup(void **);
static void	 b64url(const unsigned char *, size_t, char *);
static void	 b64url_str(const char *, char *);

static char *
slurp(const char *path, char *buf, size_t len)
{
	FILE	*f = fopen(path, "r");
	size_t	 n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

/* "Authorization: Bearer <the token of file>" */
static char *
token(const char *file)
{
	static char	 buf[4][8192];
	static int	 next;
	char		 path[256], tok[8000];
	char		*b = buf[next++ % 4];

	snprintf(path, sizeof(path), JWT_DIR "%s", file);
	snprintf(b, sizeof(buf[0]), "authorization: Bearer %s",
	    slurp(path, tok, sizeof(tok)));
	return b;
}

static struct config *
load(const char *fmt, ...)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*yaml;
	va_list			 ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&yaml, fmt, ap) > 0);
	va_end(ap);
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_buffer("test.yaml", yaml, strlen(yaml), &errs);
	if (cfg == NULL) {
		size_t i;

		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%d:%d: %s\n", errs.v[i].line,
			    errs.v[i].col, errs.v[i].message);
	}
	cfg_errors_fini(&errs);
	free(yaml);
	assert_non_null(cfg);
	return cfg;
}

/*
 * One question from workload app=book in namespace default (ns NULL),
 * or another namespace; headers separated by '\n'.
 */
static void
ask(const struct config *cfg, const char *ns, const char *method,
    const char *path, const char *headers)
{
	static char		 hbuf[16384];
	struct msg_source	 src;
	struct authz_request	 req;
	struct authz_env	 env;
	char			*p, *save = NULL, *c;

	memset(&src, 0, sizeof(src));
	src.namespace = ns != NULL ? (struct str){ ns, strlen(ns) } :
	    STR_LIT("default");
	src.label_keys[0] = STR_LIT("app");
	src.label_values[0] = STR_LIT("book");
	src.nlabels = 1;
	memset(&req, 0, sizeof(req));
	req.id = 7;
	req.authority = STR_LIT("book.default.svc.cluster.local:8080");
	req.port = 8080;
	req.method = (struct str){ method, strlen(method) };
	req.path = (struct str){ path, strlen(path) };
	req.source = STR_LIT("10.1.2.3:40000");
	util_strlcpy(hbuf, headers != NULL ? headers : "", sizeof(hbuf));
	for (p = strtok_r(hbuf, "\n", &save); p != NULL;
	    p = strtok_r(NULL, "\n", &save)) {
		c = strchr(p, ':');
		assert_non_null(c);
		req.header_names[req.nheaders] = (struct str){ p,
		    (size_t)(c - p) };
		c++;
		while (*c == ' ')
			c++;
		req.header_values[req.nheaders] = (struct str){ c, strlen(c) };
		req.nheaders++;
	}
	memset(&env, 0, sizeof(env));
	env.now = NOW;
	env.reuse_ms = 60000;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.id, 7);
}

/* 0: allowed; 401, 403: denied so; and the reason holds why */
static void
expect(unsigned status, const char *why)
{
	if (status == 0) {
		if (ans.decision != AUTHZ_DECISION_ALLOW)
			fail_msg("want allow, got %u: %s", ans.status,
			    ans.reason);
	} else {
		if (ans.decision != AUTHZ_DECISION_DENY ||
		    ans.status != status)
			fail_msg("want %u, got %s %u: %s", status,
			    authz_decision_name(ans.decision), ans.status,
			    ans.reason);
		assert_string_equal(ans.body, status == 401 ?
		    "Jwt verification fails" : "RBAC: access denied");
	}
	if (why != NULL && strstr(ans.reason, why) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", ans.reason, why);
}

static int
setup(void **state)
{
	slurp(JWT_DIR "jwks.json", jwks_istio, sizeof(jwks_istio));
	slurp(JWT_DIR "tests-common/jwks.json", jwks_common,
	    sizeof(jwks_common));
	return 0;
}

#define RA_ARTICLE \
	"apiVersion: security.istio.io/v1beta1\n" \
	"kind: RequestAuthentication\n" \
	"metadata: {name: bookjwt, namespace: default}\n" \
	"spec:\n" \
	"  selector: {matchLabels: {app: book}}\n" \
	"  jwtRules:\n" \
	"  - issuer: testing@secure.istio.io\n" \
	"    jwks: '%s'\n"

#define AP_ARTICLE \
	"---\n" \
	"apiVersion: security.istio.io/v1beta1\n" \
	"kind: AuthorizationPolicy\n" \
	"metadata: {name: require-jwt, namespace: default}\n" \
	"spec:\n" \
	"  selector: {matchLabels: {app: book}}\n" \
	"  action: ALLOW\n" \
	"  rules:\n" \
	"  - from:\n" \
	"    - source:\n" \
	"        requestPrincipals: [\"testing@secure.istio.io/testing@secure.istio.io\"]\n" \
	"    when:\n" \
	"    - key: request.auth.claims[role]\n" \
	"      values: [\"customer\"]\n"

/* The article's Authentication section, step by step. */
static void
test_article(void **state)
{
	struct config	*cfg = load(RA_ARTICLE, jwks_istio);
	char		 tampered[8192];

	ask(cfg, NULL, "GET", "/books/1", token("demo.jwt"));
	expect(0, NULL);
	assert_string_equal(ans.principal,
	    "testing@secure.istio.io/testing@secure.istio.io");
	/* the token is not forwarded (forwardOriginalToken: false) */
	assert_int_equal(ans.nops, 1);
	assert_true(ans.ops[0].remove);
	assert_string_equal(ans.ops[0].name, "authorization");
	assert_non_null(strstr(ans.vary, "header:authorization"));
	/* a tampered token: one character of the payload changed */
	util_strlcpy(tampered, token("demo.jwt"), sizeof(tampered));
	tampered[strchr(tampered + 30, '.') - tampered + 5] ^= 0x01;
	ask(cfg, NULL, "GET", "/books/1", tampered);
	expect(401, "bad signature");
	/* no token: no identity, but allowed */
	ask(cfg, NULL, "GET", "/books/1", NULL);
	expect(0, NULL);
	assert_string_equal(ans.principal, "");
	/* another workload: the RequestAuthentication does not apply */
	ask(cfg, "other", "GET", "/", tampered);
	expect(0, NULL);
	config_free(cfg);

	cfg = load(RA_ARTICLE AP_ARTICLE, jwks_istio);
	ask(cfg, NULL, "GET", "/books/1", token("demo.jwt"));
	expect(403, "none of 1 ALLOW");
	ask(cfg, NULL, "GET", "/books/1", token("role-customer.jwt"));
	expect(0, "default/require-jwt rules[0]");
	ask(cfg, NULL, "GET", "/books/1", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/books/1", tampered);
	expect(401, NULL);
	/* the token as access_token, the other default place */
	{
		char	 path[8192];

		snprintf(path, sizeof(path), "/books?access_token=%s",
		    token("role-customer.jwt") + 22);
		ask(cfg, NULL, "GET", path, NULL);
		expect(0, NULL);
		assert_int_equal(ans.nops, 0);	/* nothing to remove */
	}
	config_free(cfg);
}

#define RA_COMMON \
	"apiVersion: security.istio.io/v1\n" \
	"kind: RequestAuthentication\n" \
	"metadata: {name: common, namespace: default}\n" \
	"spec:\n" \
	"  jwtRules:\n" \
	"  - issuer: test-issuer-1@istio.io\n" \
	"    jwks: '%s'\n" \
	"    %s\n" \
	"  - issuer: test-issuer-2@istio.io\n" \
	"    jwks: '%s'\n" \
	"    %s\n"

#define AP_WHEN \
	"---\n" \
	"apiVersion: security.istio.io/v1\n" \
	"kind: AuthorizationPolicy\n" \
	"metadata: {name: when, namespace: default}\n" \
	"spec:\n" \
	"  rules:\n" \
	"  - when:\n" \
	"    - key: %s\n" \
	"      values: [%s]\n"

static void
when_case(const char *key, const char *values, const char *file,
    unsigned want, const char *extra2)
{
	struct config	*cfg = load(RA_COMMON AP_WHEN, jwks_common,
	    "forwardOriginalToken: true", jwks_common, extra2, key, values);

	ask(cfg, NULL, "GET", "/", token(file));
	expect(want, NULL);
	config_free(cfg);
}

/* Istio's tests-common tokens, each with the decision it should get. */
static void
test_istio_claims(void **state)
{
	struct config	*cfg;

	/* audiences of the rule: single and list */
	cfg = load(RA_COMMON, jwks_common, "audiences: [foo]", jwks_common,
	    "audiences: [bar]");
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer1WithAud.jwt"));
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/",
	    token("tests-common/TokenIssuer1WithAudList.jwt"));
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer1.jwt"));
	expect(401, "Audiences");
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer2.jwt"));
	expect(401, "Audiences");
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenExpired.jwt"));
	expect(401, "expired");
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer3.jwt"));
	expect(401, "issuer is not configured");
	config_free(cfg);

	when_case("request.auth.audiences", "buzz",
	    "tests-common/TokenIssuer1WithAudList.jwt", 0, "");
	when_case("request.auth.audiences", "buzz",
	    "tests-common/TokenIssuer1WithAud.jwt", 403, "");
	when_case("request.auth.presenter", "bar",
	    "tests-common/TokenIssuer1WithAzp.jwt", 0, "");
	when_case("request.auth.presenter", "bar",
	    "tests-common/TokenIssuer1.jwt", 403, "");
	when_case("request.auth.principal", "\"test-issuer-2@istio.io/sub-2\"",
	    "tests-common/TokenIssuer2.jwt", 0, "");
	when_case("request.auth.principal", "\"*/sub-2\"",
	    "tests-common/TokenIssuer1.jwt", 403, "");
	/* nested claims */
	when_case("request.auth.claims[nested][key1]", "valueA",
	    "tests-common/TokenIssuer1WithNestedClaims1.jwt", 0, "");
	when_case("request.auth.claims[nested][key1]", "valueA",
	    "tests-common/TokenIssuer1WithNestedClaims2.jwt", 403, "");
	when_case("request.auth.claims[nested][nested-2][key2]", "valueC",
	    "tests-common/TokenIssuer1WithNestedClaims2.jwt", 0, "");
	when_case("request.auth.claims[nested][nested-2][key1]", "valueB",
	    "tests-common/TokenIssuer1WithNestedClaims1.jwt", 0, "");
	when_case("request.auth.claims[test-issuer-1@istio.io/simple]",
	    "valueC",
	    "tests-common/TokenIssuer1WithCollisionResistantName.jwt", 0, "");
	when_case("request.auth.claims[test-issuer-1@istio.io/nested][key1]",
	    "valueC",
	    "tests-common/TokenIssuer1WithCollisionResistantName.jwt", 0, "");
	/* array claims */
	when_case("request.auth.claims[groups]", "group-1",
	    "tests-common/TokenIssuer1.jwt", 0, "");
	when_case("request.auth.claims[groups]", "group-1",
	    "tests-common/TokenIssuer2.jwt", 403, "");
	/* space-delimited scope and permission, and a custom one */
	when_case("request.auth.claims[scope]", "read",
	    "tests-common/TokenIssuer2WithSpaceDelimitedScope.jwt", 0, "");
	when_case("request.auth.claims[scope]", "\"write read\"",
	    "tests-common/TokenIssuer2WithSpaceDelimitedScope.jwt", 403, "");
	when_case("request.auth.claims[permission]", "write",
	    "tests-common/TokenIssuer2WithSpaceDelimitedPermission.jwt", 0,
	    "");
	when_case("request.auth.claims[custom_scope]", "user",
	    "tests-common/TokenIssuer2WithCustomScopeSpaceDelimitedScope.jwt",
	    403, "");
	when_case("request.auth.claims[custom_scope]", "user",
	    "tests-common/TokenIssuer2WithCustomScopeSpaceDelimitedScope.jwt",
	    0, "spaceDelimitedClaims: [custom_scope]");
	/* groups-scope.jwt: scope as a list */
	cfg = load(RA_ARTICLE AP_WHEN, jwks_istio,
	    "request.auth.claims[scope]", "scope2");
	ask(cfg, "default", "GET", "/", token("groups-scope.jwt"));
	expect(0, NULL);
	config_free(cfg);
}

#define AP \
	"---\n" \
	"apiVersion: security.istio.io/v1\n" \
	"kind: AuthorizationPolicy\n" \
	"metadata: {name: %s, namespace: %s}\n" \
	"spec:\n" \
	"%s\n"

static void
test_semantics(void **state)
{
	struct config	*cfg;

	/* no policy: allowed */
	cfg = load(AP, "x", "default", "  selector: {matchLabels: {app: "
	    "other}}\n  action: DENY\n  rules: [{}]");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "no ALLOW policy");
	config_free(cfg);
	/* spec: {} denies all; rules: [{}] allows all */
	cfg = load(AP, "deny-all", "default", "  {}");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);
	config_free(cfg);
	cfg = load(AP, "allow-all", "default", "  rules: [{}]");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "default/allow-all rules[0]");
	config_free(cfg);
	/* DENY without rules matches nothing */
	cfg = load(AP, "d", "default", "  action: DENY");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, NULL);
	config_free(cfg);
	/* DENY beats ALLOW */
	cfg = load(AP AP, "allow-all", "default", "  rules: [{}]",
	    "deny-admin", "default", "  action: DENY\n  rules:\n"
	    "  - to: [{operation: {paths: [\"/admin*\"]}}]");
	ask(cfg, NULL, "GET", "/admin/x", NULL);
	expect(403, "DENY policy default/deny-admin");
	ask(cfg, NULL, "GET", "/books", NULL);
	expect(0, NULL);
	/* normalized before matching: no way around the DENY */
	ask(cfg, NULL, "GET", "/books/../admin", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/%61dmin?x=1", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/./admin", NULL);
	expect(403, NULL);
	config_free(cfg);
	/* the root namespace applies everywhere; another does not */
	cfg = load(AP AP, "mesh", "istio-system", "  action: DENY\n  rules:\n"
	    "  - to: [{operation: {methods: [DELETE]}}]", "there", "other",
	    "  action: DENY\n  rules: [{}]");
	ask(cfg, NULL, "DELETE", "/", NULL);
	expect(403, "istio-system/mesh");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, NULL);
	ask(cfg, "other", "GET", "/", NULL);
	expect(403, "other/there");
	config_free(cfg);
	/* operation fields, not-forms and path templates */
	cfg = load(AP, "ops", "default", "  rules:\n"
	    "  - to:\n    - operation:\n"
	    "        methods: [GET, HEAD]\n"
	    "        paths: [\"/books/{*}/reviews\", \"/api/{**}\", \"*.css\"]\n"
	    "        notPaths: [\"/api/private/{**}\"]\n"
	    "        hosts: [\"BOOK.default.svc.cluster.local\"]\n"
	    "        ports: [\"8080\"]\n");
	ask(cfg, NULL, "GET", "/books/1/reviews", NULL);
	expect(0, NULL);
	assert_non_null(strstr(ans.vary, "method"));
	assert_non_null(strstr(ans.vary, "path"));
	assert_non_null(strstr(ans.vary, "authority"));
	assert_non_null(strstr(ans.vary, "port"));
	ask(cfg, NULL, "GET", "/books/1/2/reviews", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/books//reviews", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "HEAD", "/api/a/b/c", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/api/private/x", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/static/site.css", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "POST", "/books/1/reviews", NULL);
	expect(403, NULL);
	config_free(cfg);
	/* Istio wants {**} last among operators only: literals may follow */
	cfg = load(AP, "tail", "default", "  rules:\n"
	    "  - to:\n    - operation:\n"
	    "        paths: [\"/{**}/path/template\", \"/all/{**}\"]\n");
	ask(cfg, NULL, "GET", "/a/b/path/template", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/x/path/template", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/path/template", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/a/path/templates", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/a\"b/path/template", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/all/", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/all/x/y", NULL);
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/allx", NULL);
	expect(403, NULL);
	config_free(cfg);
	/* sources: ipBlocks, remoteIpBlocks, principals absent */
	cfg = load(AP, "src", "default", "  rules:\n"
	    "  - from:\n    - source:\n"
	    "        ipBlocks: [\"10.1.0.0/16\"]\n"
	    "        notRemoteIpBlocks: [\"10.1.2.3\"]\n"
	    "  - from:\n    - source: {principals: [\"*\"]}\n"
	    "  - from:\n    - source: {notRequestPrincipals: [\"*\"]}\n"
	    "    when:\n    - key: request.headers[x-user]\n"
	    "      values: [\"alice\", \"bob*\"]\n"
	    "    - key: source.ip\n      notValues: [\"10.9.0.0/16\"]\n");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);	/* remote is the source: refused */
	assert_non_null(strstr(ans.vary, "source-ip"));
	ask(cfg, NULL, "GET", "/", "x-user: bobby");
	expect(0, "rules[2]");
	assert_non_null(strstr(ans.vary, "header:x-user"));
	ask(cfg, NULL, "GET", "/", "x-user: carol");
	expect(403, NULL);
	config_free(cfg);
}

#define RA_OPTS \
	"apiVersion: security.istio.io/v1\n" \
	"kind: RequestAuthentication\n" \
	"metadata: {name: opts, namespace: istio-system}\n" \
	"spec:\n" \
	"  jwtRules:\n" \
	"  - issuer: test-issuer-1@istio.io\n" \
	"    jwks: '%s'\n" \
	"    fromHeaders: [{name: X-Jwt}, {name: x-auth, prefix: \"Token \"}]\n" \
	"    fromCookies: [session]\n" \
	"    forwardOriginalToken: true\n" \
	"    outputPayloadToHeader: x-payload\n" \
	"    outputClaimToHeaders:\n" \
	"    - {header: x-sub, claim: sub}\n" \
	"    - {header: x-nested, claim: nested.key2}\n"

static void
test_token_places(void **state)
{
	struct config	*cfg = load(RA_OPTS, jwks_common);
	char		 h[8192], tok[8000];

	slurp(JWT_DIR "tests-common/TokenIssuer1WithNestedClaims2.jwt", tok,
	    sizeof(tok));
	snprintf(h, sizeof(h), "x-jwt: %s", tok);
	ask(cfg, NULL, "GET", "/", h);
	expect(0, NULL);
	assert_string_equal(ans.principal, "test-issuer-1@istio.io/sub-1");
	assert_int_equal(ans.nops, 3);
	assert_string_equal(ans.ops[0].name, "x-payload");
	assert_memory_equal(ans.ops[0].value, strchr(tok, '.') + 1,
	    strlen(ans.ops[0].value));
	assert_string_equal(ans.ops[1].name, "x-sub");
	assert_string_equal(ans.ops[1].value, "sub-1");
	assert_string_equal(ans.ops[2].value, "valueC");
	/* the reuse time never passes the token's expiry */
	assert_true(ans.reuse_ms <= 60000);
	snprintf(h, sizeof(h), "x-auth: Token %s", tok);
	ask(cfg, NULL, "GET", "/", h);
	assert_string_equal(ans.principal, "test-issuer-1@istio.io/sub-1");
	snprintf(h, sizeof(h), "cookie: a=b; session=%s; c=d", tok);
	ask(cfg, NULL, "GET", "/", h);
	assert_string_equal(ans.principal, "test-issuer-1@istio.io/sub-1");
	/* Authorization is not a place of this rule: ignored */
	ask(cfg, NULL, "GET", "/", token("demo.jwt"));
	expect(0, NULL);
	assert_string_equal(ans.principal, "");
	/* a bad token at a place of the rule: 401 */
	ask(cfg, NULL, "GET", "/", "x-jwt: garbage");
	expect(401, "unreadable");
	config_free(cfg);
}

/* base64url of s, unpadded */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (; *out != '\0'; out++)
		if (*out == '+')
			*out = '-';
		else if (*out == '/')
			*out = '_';
		else if (*out == '=')
			*out = '\0';
}

static void
b64url_str(const char *s, char *out)
{
	b64url((const unsigned char *)s, strlen(s), out);
}

/* Tokens made to fool a verifier: each gets 401, none crashes. */
static void
test_hostile_tokens(void **state)
{
	struct config	*cfg = load(RA_ARTICLE AP_ARTICLE, jwks_istio);
	struct jwks	*keys;
	char		 demo[8000], h[256], hdr[12000], sig[128], err[128];
	char		*payload, *big;
	unsigned char	 mac[64], *der = NULL;
	unsigned int	 maclen;
	int		 derlen;

	slurp(JWT_DIR "role-customer.jwt", demo, sizeof(demo));
	payload = strchr(demo, '.') + 1;
	*strchr(payload, '.') = '\0';
	/* alg none, with and without a signature part */
	b64url_str("{\"alg\":\"none\"}", h);
	snprintf(hdr, sizeof(hdr), "authorization: Bearer %s.%s.", h, payload);
	ask(cfg, NULL, "GET", "/", hdr);
	expect(401, "not accepted");
	/* HS256 with the RSA public key as the HMAC secret */
	keys = jwks_parse(jwks_istio, strlen(jwks_istio), err, sizeof(err));
	assert_non_null(keys);
	derlen = i2d_PUBKEY(keys->keys[0].pkey, &der);
	b64url_str("{\"alg\":\"HS256\",\"kid\":"
	    "\"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ\"}", h);
	snprintf(hdr, sizeof(hdr), "%s.%s", h, payload);
	HMAC(EVP_sha256(), der, derlen, (unsigned char *)hdr, strlen(hdr),
	    mac, &maclen);
	b64url(mac, maclen, sig);
	snprintf(hdr + strlen(hdr), sizeof(hdr) - strlen(hdr), ".%s", sig);
	memmove(hdr + 22, hdr, strlen(hdr) + 1);
	memcpy(hdr, "authorization: Bearer ", 22);
	ask(cfg, NULL, "GET", "/", hdr);
	expect(401, "not accepted");
	OPENSSL_free(der);
	jwks_free(keys);
	/* the real header with an unknown kid: no key */
	b64url_str("{\"alg\":\"RS256\",\"kid\":\"x\"}", h);
	snprintf(hdr, sizeof(hdr), "authorization: Bearer %s.%s.%s", h,
	    payload, "AAAA");
	ask(cfg, NULL, "GET", "/", hdr);
	expect(401, "no RS256 key");
	/* malformed: bad base64, not JSON, two parts */
	ask(cfg, NULL, "GET", "/", "authorization: Bearer a!b.c.d");
	expect(401, NULL);
	ask(cfg, NULL, "GET", "/", "authorization: Bearer YWJj.YWJj.YWJj");
	expect(401, NULL);
	ask(cfg, NULL, "GET", "/", "authorization: Bearer YWJj.YWJj");
	expect(401, NULL);
	/* oversized */
	big = xmalloc(JWT_MAX_BYTES + 200);
	memcpy(big, "authorization: Bearer ", 22);
	memset(big + 22, 'A', JWT_MAX_BYTES + 100);
	big[40] = big[60] = '.';
	big[22 + JWT_MAX_BYTES + 100] = '\0';
	ask(cfg, NULL, "GET", "/", big);
	expect(401, "longer than");
	free(big);
	config_free(cfg);
}

static void
test_reuse_expiry(void **state)
{
	struct config		*cfg = load(RA_ARTICLE, jwks_istio);
	struct msg_source	 src;
	struct authz_request	 req;
	struct authz_env	 env;
	char			 tok[8000];

	slurp(JWT_DIR "demo.jwt", tok, sizeof(tok));	/* exp 4685989700 */
	memset(&src, 0, sizeof(src));
	src.namespace = STR_LIT("default");
	src.label_keys[0] = STR_LIT("app");
	src.label_values[0] = STR_LIT("book");
	src.nlabels = 1;
	memset(&req, 0, sizeof(req));
	req.header_names[0] = STR_LIT("authorization");
	req.header_values[0] = (struct str){ NULL, 0 };
	{
		static char h[8100];

		snprintf(h, sizeof(h), "Bearer %s", tok);
		req.header_values[0] = (struct str){ h, strlen(h) };
	}
	req.nheaders = 1;
	memset(&env, 0, sizeof(env));
	env.reuse_ms = 60000;
	env.now = 4685989700 - 10;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.decision, AUTHZ_DECISION_ALLOW);
	assert_int_equal(ans.reuse_ms, 10000);
	/* past exp but within the skew: valid, not reusable */
	env.now = 4685989700 + 30;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.decision, AUTHZ_DECISION_ALLOW);
	assert_int_equal(ans.reuse_ms, 0);
	env.now = 4685989700 + 61;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.status, 401);
	config_free(cfg);
}

static const char *
handle(const struct config *cfg, const char *in, struct msg_writer *out)
{
	struct authz_env	 env;
	struct authz_stats	 st;

	memset(&env, 0, sizeof(env));
	memset(&st, 0, sizeof(st));
	env.now = NOW;
	env.reuse_ms = 1000;
	authz_handle_message(cfg, &env, &st, NULL, 3, in, strlen(in), out);
	out->buf[out->len] = '\0';
	return out->buf;
}

static void
test_wire(void **state)
{
	struct config		*cfg = load(AP, "deny-post", "default",
	    "  action: DENY\n  rules: [{to: [{operation: {methods: [POST]}}]}]");
	struct msg_writer	 out;
	struct msg		 m;
	struct authz_answer	*a = xcalloc(1, sizeof(*a));
	char			 err[128];
	const char		*r;

	msgw_init(&out);
	msgw_record(&out);	/* room for the NUL handle() writes */
	r = handle(cfg, "meshkit/1 authz\nworkload: book\nlabel: app=book\n\n"
	    "id: 1\nauthority: book\nmethod: POST\npath: /x\n"
	    "source: 10.0.0.1:5\nheader: x-a: b\n\n"
	    "id: 2\nmethod: GET\npath: /\n\nid: 3\nport: 0\n\n"
	    "id: 4\nheader: X-Up: a\n", &out);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, r, strlen(r), err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "authz-reply"));
	assert_int_equal(m.nrecords, 4);
	assert_int_equal(authz_answer_read(&m, &m.records[0], a, err,
	    sizeof(err)), 0);
	assert_int_equal(a->decision, AUTHZ_DECISION_DENY);
	assert_int_equal(a->status, 403);
	assert_string_equal(a->body, "RBAC: access denied");
	assert_string_equal(a->vary, "method");
	assert_int_equal(a->reuse_ms, 1000);
	assert_int_equal(authz_answer_read(&m, &m.records[1], a, err,
	    sizeof(err)), 0);
	assert_int_equal(a->decision, AUTHZ_DECISION_ALLOW);
	assert_int_equal(a->id, 2);
	assert_int_equal(authz_answer_read(&m, &m.records[2], a, err,
	    sizeof(err)), 0);
	assert_int_equal(a->decision, AUTHZ_DECISION_ERROR);
	assert_non_null(strstr(a->reason, "port"));
	assert_int_equal(authz_answer_read(&m, &m.records[3], a, err,
	    sizeof(err)), 0);
	assert_int_equal(a->decision, AUTHZ_DECISION_ERROR);
	/* a record without id: the whole message is refused */
	r = handle(cfg, "meshkit/1 authz\n\nid: 1\n\nmethod: GET\n", &out);
	assert_int_equal(strncmp(r, "meshkit/1 error\n", 16), 0);
	r = handle(cfg, "garbage", &out);
	assert_int_equal(strncmp(r, "meshkit/1 error\n", 16), 0);
	r = handle(cfg, "meshkit/1 route\n\nid: 1\n", &out);
	assert_int_equal(strncmp(r, "meshkit/1 error\n", 16), 0);
	r = handle(cfg, "meshkit/1 status\n", &out);
	assert_non_null(strstr(r, "program: authz-d\n"));
	assert_non_null(strstr(r, "generation: 3\n"));
	assert_non_null(strstr(r, "denied-401: 0\n"));
	msg_fini(&m);
	msgw_fini(&out);
	free(a);
	config_free(cfg);
}

static void
test_validation(void **state)
{
	static const char *bad[] = {
		"  rules: [{from: [{source: {}}]}]",
		"  rules: [{to: [{operation: {paths: [\"/a*b\"]}}]}]",
		"  rules: [{to: [{operation: {paths: [\"/{**}/{*}\"]}}]}]",
		"  rules: [{to: [{operation: {paths: [\"/{**}/a*\"]}}]}]",
		"  rules: [{to: [{operation: {paths: [\"/a/{*}b\"]}}]}]",
		"  rules: [{to: [{operation: {ports: [\"http\"]}}]}]",
		"  rules: [{from: [{source: {ipBlocks: [\"300.0.0.0/8\"]}}]}]",
		"  rules: [{when: [{key: request.auth.claims[x]}]}]",
		"  rules: [{when: [{key: foo.bar, values: [a]}]}]",
		"  rules: [{frm: []}]",
		"  rules: [{from: []}]",
		"  action: CUSTOM",
		"  action: allow",
		"  provider: {name: x}",
		"  targetRef: {kind: Service, name: x}",
		"  rules: [{to: [{operation: {hosts: [a], hostz: [b]}}]}]",
	};
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*yaml;
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		xasprintf(&yaml, AP, "bad", "default", bad[i]);
		memset(&errs, 0, sizeof(errs));
		cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
		if (cfg != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(errs.nerrors > 0 && errs.v[0].line > 0);
		cfg_errors_fini(&errs);
		free(yaml);
	}
}

/*
 * The path the policies see: normalized as proxy-d's default does
 * (lib/uri.c, BASE), whatever its length; one that cannot be
 * normalized is matched as it came, never as "no path".
 */
static void
test_path_normalized(void **state)
{
	struct config	*cfg;
	char		*longpath;

	(void)state;
	cfg = load(AP, "deny-admin", "default", "  action: DENY\n  rules:\n"
	    "  - to: [{operation: {paths: [\"/admin*\", \"/x/secret\"]}}]");
	ask(cfg, NULL, "GET", "/public/../admin", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/public/%2e%2e/admin", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/admin/../public", NULL);
	expect(0, NULL);
	/* a backslash is a slash, as in Istio's BASE (issue 13, 3) */
	ask(cfg, NULL, "GET", "/x\\secret", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/x/y\\..\\secret?q", NULL);
	expect(403, NULL);
	/* not normalizable: matched as received, still denied */
	ask(cfg, NULL, "GET", "/admin%zz", NULL);
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/admin#frag", NULL);
	expect(403, NULL);
	/* longer than any buffer: still denied */
	assert_non_null(longpath = malloc(5000));
	memset(longpath, 'x', 4999);
	longpath[4999] = '\0';
	memcpy(longpath, "/admin/", 7);
	ask(cfg, NULL, "GET", longpath, NULL);
	expect(403, NULL);
	memcpy(longpath, "/a/../admin/", 12);
	ask(cfg, NULL, "GET", longpath, NULL);
	expect(403, NULL);
	memcpy(longpath, "/public/", 8);
	ask(cfg, NULL, "GET", longpath, NULL);
	expect(0, NULL);
	free(longpath);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_article),
		cmocka_unit_test(test_istio_claims),
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_token_places),
		cmocka_unit_test(test_hostile_tokens),
		cmocka_unit_test(test_reuse_expiry),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_path_normalized),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
