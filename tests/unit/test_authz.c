/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/authz.c and lib/authz_wire.c: decisions over configs
 * read from YAML, with the article's policies and tokens of the kinds
 * Istio's tests use (issuers, audiences, presenters, nested, namespaced,
 * list and space-delimited claims), made here with keys made here (RSA
 * for the article's issuer, P-256 for the others); in the conformance
 * stage the same tests again with Istio's own JWKS and tokens
 * (../shared/testdata/istio/jwt), skipped when those are not there.
 * Policy semantics in the style of Istio's own tests (DENY beats ALLOW,
 * empty against absent rules, not-fields, path templates, the root
 * namespace); the wire form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "authz.h"
#include "config.h"
#include "helpers.h"
#include "jwt.h"
#include "msg.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define JWT_SUBDIR	"testdata/istio/jwt/"
#define NOW	1795900000	/* 2026-11-28 */
#define OWN_EXP	4102444800	/* 2100-01-01: demo.jwt's expiry here */
#define CLAIMS_ARTICLE \
	"\"iss\":\"testing@secure.istio.io\"," \
	"\"sub\":\"testing@secure.istio.io\",\"iat\":1700000000"
#define CLAIMS_1 \
	"\"iss\":\"test-issuer-1@istio.io\",\"sub\":\"sub-1\"," \
	"\"iat\":1700000000,\"exp\":4102444800"
#define CLAIMS_2 \
	"\"iss\":\"test-issuer-2@istio.io\",\"sub\":\"sub-2\"," \
	"\"iat\":1700000000,\"exp\":4102444800"

/*
 * meshkit's own tokens, each named as the token of Istio's with the
 * claims the tests below need of it; key 0 is the article issuer's RSA
 * key, key 1 the P-256 key of the test issuers.
 */
static const struct own_token {
	const char	*name;
	int		 key;
	const char	*claims;
} own_tokens[] = {
	{ "demo.jwt", 0, "{" CLAIMS_ARTICLE ",\"exp\":4102444800,"
	    "\"foo\":\"bar\"}" },
	{ "role-customer.jwt", 0, "{" CLAIMS_ARTICLE ",\"exp\":4102444800,"
	    "\"role\":\"customer\"}" },
	{ "groups-scope.jwt", 0, "{" CLAIMS_ARTICLE ",\"exp\":4102444800,"
	    "\"groups\":[\"group1\",\"group2\"],"
	    "\"scope\":[\"scope1\",\"scope2\"]}" },
	{ "tests-common/TokenExpired.jwt", 1,
	    "{\"iss\":\"test-issuer-1@istio.io\",\"sub\":\"sub-1\","
	    "\"iat\":1700000000,\"exp\":1700000100,"
	    "\"groups\":[\"group-1\"]}" },
	{ "tests-common/TokenIssuer1.jwt", 1, "{" CLAIMS_1 ","
	    "\"groups\":[\"group-1\"]}" },
	{ "tests-common/TokenIssuer1WithAud.jwt", 1, "{" CLAIMS_1 ","
	    "\"aud\":\"foo\"}" },
	{ "tests-common/TokenIssuer1WithAudList.jwt", 1, "{" CLAIMS_1 ","
	    "\"aud\":[\"foo\",\"buzz\"]}" },
	{ "tests-common/TokenIssuer1WithAzp.jwt", 1, "{" CLAIMS_1 ","
	    "\"azp\":\"bar\"}" },
	{ "tests-common/TokenIssuer1WithCollisionResistantName.jwt", 1,
	    "{" CLAIMS_1 ",\"test-issuer-1@istio.io/simple\":\"valueC\","
	    "\"test-issuer-1@istio.io/nested\":{\"key1\":\"valueC\"}}" },
	{ "tests-common/TokenIssuer1WithNestedClaims1.jwt", 1, "{" CLAIMS_1
	    ",\"nested\":{\"key1\":[\"valueA\",\"valueB\"],"
	    "\"nested-2\":{\"key1\":[\"valueA\",\"valueB\"]}}}" },
	{ "tests-common/TokenIssuer1WithNestedClaims2.jwt", 1, "{" CLAIMS_1
	    ",\"nested\":{\"key2\":\"valueC\","
	    "\"nested-2\":{\"key2\":\"valueC\"}}}" },
	{ "tests-common/TokenIssuer2.jwt", 1, "{" CLAIMS_2 ","
	    "\"groups\":[\"group-2\"]}" },
	{ "tests-common/TokenIssuer2WithCustomScopeSpaceDelimitedScope.jwt",
	    1, "{" CLAIMS_2 ",\"custom_scope\":\"admin user\"}" },
	{ "tests-common/TokenIssuer2WithSpaceDelimitedPermission.jwt", 1,
	    "{" CLAIMS_2 ",\"permission\":\"read write\"}" },
	{ "tests-common/TokenIssuer2WithSpaceDelimitedScope.jwt", 1,
	    "{" CLAIMS_2 ",\"scope\":\"write read\"}" },
	{ "tests-common/TokenIssuer3.jwt", 1,
	    "{\"iss\":\"test-issuer-3@istio.io\",\"sub\":\"sub-1\","
	    "\"iat\":1700000000,\"exp\":4102444800,"
	    "\"groups\":[\"group-1\"]}" },
};

static struct authz_answer	 ans;
static const char		*peer;	/* the next questions' principal */
static char			 jwks_istio[4096], jwks_common[4096];
static char			 own_jwks[2][4096];
static char			*own_signed[nitems(own_tokens)];
static EVP_PKEY			*own_keys[2];
static int			 conformance;	/* Istio's tokens */
static uint64_t			 demo_exp;	/* demo.jwt's exp */

static char	*slurp(const char *, char *, size_t);
static void	 shared_path(char *, size_t, const char *);
static int	 tokens_ready(void);
static const char *token_raw(const char *);
static char	*token(const char *);
static char	*own_sign(int, const char *);
static void	 tamper(const char *, char *, size_t);
static int	 use_own(void **);
static int	 use_istio(void **);
static int	 teardown(void **);
static struct config *loadf(const char *, ...)
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

/* The conformance data's file name, from $MESHKIT_SHARED or ../shared */
static void
shared_path(char *path, size_t len, const char *name)
{
	const char	*env = getenv("MESHKIT_SHARED");

	snprintf(path, len, "%s/" JWT_SUBDIR "%s",
	    env != NULL && *env != '\0' ? env : "../shared", name);
}

/*
 * Readies jwks_istio, jwks_common and demo_exp for the tokens of this
 * run; skips the test (call it first) when they are Istio's and not
 * there.
 */
static int
tokens_ready(void)
{
	char	 path[4096];

	if (!conformance) {
		util_strlcpy(jwks_istio, own_jwks[0], sizeof(jwks_istio));
		util_strlcpy(jwks_common, own_jwks[1], sizeof(jwks_common));
		demo_exp = OWN_EXP;
		return 0;
	}
	shared_path(path, sizeof(path), "jwks.json");
	if (access(path, R_OK) == -1)
		skip();
	slurp(path, jwks_istio, sizeof(jwks_istio));
	shared_path(path, sizeof(path), "tests-common/jwks.json");
	slurp(path, jwks_common, sizeof(jwks_common));
	demo_exp = 4685989700ULL;
	return 0;
}

/* The token named file, as this run has it. */
static const char *
token_raw(const char *file)
{
	static char	 buf[4][8000];
	static int	 next;
	char		 path[4096];
	char		*b = buf[next++ % 4];
	size_t		 i;

	if (conformance) {
		shared_path(path, sizeof(path), file);
		return slurp(path, b, sizeof(buf[0]));
	}
	for (i = 0; i < nitems(own_tokens); i++)
		if (strcmp(own_tokens[i].name, file) == 0)
			return own_signed[i];
	fail_msg("no token %s made here", file);
	return NULL;
}

/* "Authorization: Bearer <the token of file>" */
static char *
token(const char *file)
{
	static char	 buf[4][8192];
	static int	 next;
	char		*b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "authorization: Bearer %s",
	    token_raw(file));
	return b;
}

/* claims signed with own key k: RS256 (key 0) or ES256 (key 1) */
static char *
own_sign(int k, const char *claims)
{
	char		 h[256], p[4096], input[8192], sig64[1024], *tok;
	unsigned char	 sig[1024], raw[64];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();

	b64url_str(k == 0 ? "{\"alg\":\"RS256\",\"typ\":\"JWT\","
	    "\"kid\":\"meshkit-article\"}" : "{\"alg\":\"ES256\","
	    "\"kid\":\"meshkit-common\"}", h);
	b64url_str(claims, p);
	snprintf(input, sizeof(input), "%s.%s", h, p);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    own_keys[k]), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	if (k == 1) {
		/* JWS wants r || s, OpenSSL gives DER */
		const unsigned char	*d = sig;
		ECDSA_SIG		*es = d2i_ECDSA_SIG(NULL, &d,
					    (long)siglen);

		assert_non_null(es);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 64);
		siglen = 64;
	}
	b64url(sig, siglen, sig64);
	xasprintf(&tok, "%s.%s", input, sig64);
	return tok;
}

/*
 * line ("authorization: Bearer H.P.S") with the first letter of the
 * payload's "sub" changed: still a readable token of the same issuer,
 * whose signature no longer matches.
 */
static void
tamper(const char *line, char *out, size_t len)
{
	char		 b64[8192], *dot1, *dot2, *sub;
	unsigned char	 json[6144];
	size_t		 n, i;
	int		 jn;

	util_strlcpy(out, line, len);
	assert_non_null(dot1 = strchr(out, '.'));
	assert_non_null(dot2 = strchr(dot1 + 1, '.'));
	n = (size_t)(dot2 - dot1 - 1);
	assert_true(n + 4 < sizeof(b64) && n / 4 * 3 + 3 < sizeof(json));
	for (i = 0; i < n; i++)
		b64[i] = dot1[1 + i] == '-' ? '+' : dot1[1 + i] == '_' ? '/' :
		    dot1[1 + i];
	while (i % 4 != 0)
		b64[i++] = '=';
	b64[i] = '\0';
	jn = EVP_DecodeBlock(json, (unsigned char *)b64, (int)i);
	assert_true(jn > 0);
	while (jn > 0 && json[jn - 1] == '\0')	/* the padding's zeros */
		jn--;
	json[jn] = '\0';
	assert_non_null(sub = strstr((char *)json, "\"sub\":\""));
	sub[7] = sub[7] == 'X' ? 'Y' : 'X';
	b64url((unsigned char *)json, (size_t)jn, b64);
	assert_true(strlen(out) + strlen(b64) < len);
	memmove(dot1 + 1 + strlen(b64), dot2, strlen(dot2) + 1);
	memcpy(dot1 + 1, b64, strlen(b64));
}

static int
use_own(void **state)
{
	conformance = 0;
	return 0;
}

static int
use_istio(void **state)
{
	conformance = 1;
	return 0;
}

static struct config *
loadf(const char *fmt, ...)
{
	struct config		*cfg;
	char			*yaml;
	va_list			 ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&yaml, fmt, ap) > 0);
	va_end(ap);
	cfg = must_load(yaml);
	free(yaml);
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
	if (peer != NULL)
		req.principal = (struct str){ peer, strlen(peer) };
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
		    "Jwt verification fails" : strstr(ans.reason,
		    "Audiences in Jwt") != NULL ?
		    "Audiences in Jwt are not allowed" :
		    "RBAC: access denied");
	}
	if (why != NULL && strstr(ans.reason, why) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", ans.reason, why);
}

/* Two keys, their JWKS, and every own token signed once. */
static int
setup(void **state)
{
	BIGNUM		*bn[2] = { NULL, NULL };
	unsigned char	 buf[600];
	char		 a[800], b[100];
	EVP_PKEY_CTX	*ctx;
	size_t		 i;
	int		 n;

	own_keys[0] = EVP_RSA_gen(2048);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY_keygen_init(ctx);
	EVP_PKEY_CTX_set_group_name(ctx, "P-256");
	EVP_PKEY_keygen(ctx, &own_keys[1]);
	EVP_PKEY_CTX_free(ctx);
	if (own_keys[0] == NULL || own_keys[1] == NULL)
		return -1;
	EVP_PKEY_get_bn_param(own_keys[0], OSSL_PKEY_PARAM_RSA_N, &bn[0]);
	n = BN_bn2bin(bn[0], buf);
	b64url(buf, (size_t)n, a);
	snprintf(own_jwks[0], sizeof(own_jwks[0]), "{\"keys\":[{\"kty\":"
	    "\"RSA\",\"kid\":\"meshkit-article\",\"alg\":\"RS256\","
	    "\"n\":\"%s\",\"e\":\"AQAB\"}]}", a);
	BN_free(bn[0]);
	bn[0] = NULL;
	EVP_PKEY_get_bn_param(own_keys[1], OSSL_PKEY_PARAM_EC_PUB_X, &bn[0]);
	EVP_PKEY_get_bn_param(own_keys[1], OSSL_PKEY_PARAM_EC_PUB_Y, &bn[1]);
	BN_bn2binpad(bn[0], buf, 32);
	b64url(buf, 32, a);
	BN_bn2binpad(bn[1], buf, 32);
	b64url(buf, 32, b);
	snprintf(own_jwks[1], sizeof(own_jwks[1]), "{\"keys\":[{\"kty\":"
	    "\"EC\",\"kid\":\"meshkit-common\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", a, b);
	BN_free(bn[0]);
	BN_free(bn[1]);
	for (i = 0; i < nitems(own_tokens); i++)
		own_signed[i] = own_sign(own_tokens[i].key,
		    own_tokens[i].claims);
	return 0;
}

static int
teardown(void **state)
{
	size_t	 i;

	for (i = 0; i < nitems(own_tokens); i++)
		free(own_signed[i]);
	EVP_PKEY_free(own_keys[0]);
	EVP_PKEY_free(own_keys[1]);
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
	struct config	*cfg;
	char		 tampered[8192];

	tokens_ready();
	cfg = loadf(RA_ARTICLE, jwks_istio);
	ask(cfg, NULL, "GET", "/books/1", token("demo.jwt"));
	expect(0, NULL);
	assert_string_equal(ans.principal,
	    "testing@secure.istio.io/testing@secure.istio.io");
	/* the token is not forwarded (forwardOriginalToken: false) */
	assert_int_equal(ans.nops, 1);
	assert_true(ans.ops[0].remove);
	assert_string_equal(ans.ops[0].name, "authorization");
	assert_non_null(strstr(ans.vary, "header:authorization"));
	/* a tampered token: its subject changed, its signature kept */
	tamper(token("demo.jwt"), tampered, sizeof(tampered));
	ask(cfg, NULL, "GET", "/books/1", tampered);
	expect(401, NULL);
	/*
	 * one of the signature changed, to another base64url character
	 * (a flipped bit may leave the alphabet: unreadable, not a bad
	 * signature)
	 */
	util_strlcpy(tampered, token("demo.jwt"), sizeof(tampered));
	{
		char	*c = strrchr(tampered, '.') + 5;

		*c = *c == 'A' ? 'B' : 'A';
	}
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

	cfg = loadf(RA_ARTICLE AP_ARTICLE, jwks_istio);
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
	struct config	*cfg = loadf(RA_COMMON AP_WHEN, jwks_common,
	    "forwardOriginalToken: true", jwks_common, extra2, key, values);

	ask(cfg, NULL, "GET", "/", token(file));
	expect(want, NULL);
	config_free(cfg);
}

/* The tests-common tokens, each with the decision it should get. */
static void
test_istio_claims(void **state)
{
	struct config	*cfg;

	tokens_ready();
	/* audiences of the rule: single and list */
	cfg = loadf(RA_COMMON, jwks_common, "audiences: [foo]", jwks_common,
	    "audiences: [bar]");
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer1WithAud.jwt"));
	expect(0, NULL);
	ask(cfg, NULL, "GET", "/",
	    token("tests-common/TokenIssuer1WithAudList.jwt"));
	expect(0, NULL);
	/* Envoy: an audience not allowed is a 403 */
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer1.jwt"));
	expect(403, "Audiences");
	assert_string_equal(ans.body, "Audiences in Jwt are not allowed");
	/* ... but the issuer-1 rule, first, looks at the same place and
	   does not know issuer 2: Envoy's allow_missing answers 401 */
	ask(cfg, NULL, "GET", "/", token("tests-common/TokenIssuer2.jwt"));
	expect(401, "issuer is not configured");
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
	cfg = loadf(RA_ARTICLE AP_WHEN, jwks_istio,
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
	cfg = loadf(AP, "x", "default", "  selector: {matchLabels: {app: "
	    "other}}\n  action: DENY\n  rules: [{}]");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "no ALLOW policy");
	config_free(cfg);
	/* spec: {} denies all; rules: [{}] allows all */
	cfg = loadf(AP, "deny-all", "default", "  {}");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);
	config_free(cfg);
	cfg = loadf(AP, "allow-all", "default", "  rules: [{}]");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "default/allow-all rules[0]");
	config_free(cfg);
	/* DENY beats ALLOW */
	cfg = loadf(AP AP, "allow-all", "default", "  rules: [{}]",
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
	cfg = loadf(AP AP, "mesh", "istio-system", "  action: DENY\n  rules:\n"
	    "  - to: [{operation: {methods: [DELETE]}}]", "there", "other",
	    "  action: DENY\n  rules: [{}]");
	ask(cfg, NULL, "DELETE", "/", NULL);
	expect(403, "istio-system/mesh");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, NULL);
	ask(cfg, "other", "GET", "/", NULL);
	expect(403, "other/there");
	config_free(cfg);
	/* MeshConfig rootNamespace: that namespace's policies are the
	   mesh's, and istio-system's only its own */
	cfg = loadf("apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: m}\nspec: {rootNamespace: mesh-root}\n" AP AP,
	    "mesh", "mesh-root", "  action: DENY\n  rules:\n"
	    "  - to: [{operation: {methods: [DELETE]}}]", "old",
	    "istio-system", "  action: DENY\n  rules: [{}]");
	ask(cfg, NULL, "DELETE", "/", NULL);
	expect(403, "mesh-root/mesh");
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, NULL);
	ask(cfg, "istio-system", "GET", "/", NULL);
	expect(403, "istio-system/old");
	config_free(cfg);
	/* operation fields, not-forms and path templates */
	cfg = loadf(AP, "ops", "default", "  rules:\n"
	    "  - to:\n    - operation:\n"
	    "        methods: [GET, HEAD]\n"
	    "        paths: [\"/books/{*}/reviews\", \"/api/{**}\", \"*.css\"]\n"
	    "        notPaths: [\"/api/private/{**}\"]\n"
	    "        hosts: [\"BOOK.default.svc.cluster.local\",\n"
	    "          \"BOOK.default.svc.cluster.local:*\"]\n"
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
	cfg = loadf(AP, "tail", "default", "  rules:\n"
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
	cfg = loadf(AP, "src", "default", "  rules:\n"
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
	struct config	*cfg;
	char		 h[8192], tok[8000];

	tokens_ready();
	cfg = loadf(RA_OPTS, jwks_common);
	util_strlcpy(tok, token_raw("tests-common/"
	    "TokenIssuer1WithNestedClaims2.jwt"), sizeof(tok));
	snprintf(h, sizeof(h), "x-jwt: %s", tok);
	ask(cfg, NULL, "GET", "/", h);
	expect(0, NULL);
	assert_string_equal(ans.principal, "test-issuer-1@istio.io/sub-1");
	/* the output headers first removed, then set from the token */
	assert_int_equal(ans.nops, 6);
	assert_true(ans.ops[0].remove && ans.ops[1].remove &&
	    ans.ops[2].remove);
	assert_string_equal(ans.ops[0].name, "x-payload");
	assert_string_equal(ans.ops[3].name, "x-payload");
	assert_memory_equal(ans.ops[3].value, strchr(tok, '.') + 1,
	    strlen(ans.ops[3].value));
	assert_string_equal(ans.ops[4].name, "x-sub");
	assert_string_equal(ans.ops[4].value, "sub-1");
	assert_string_equal(ans.ops[5].value, "valueC");
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
	struct config	*cfg;
	struct jwks	*keys;
	char		 demo[8000], h[256], hdr[12000], sig[128], err[128];
	char		*payload, *big;
	unsigned char	 mac[64], *der = NULL;
	unsigned int	 maclen;
	int		 derlen;

	tokens_ready();
	cfg = loadf(RA_ARTICLE AP_ARTICLE, jwks_istio);
	util_strlcpy(demo, token_raw("role-customer.jwt"), sizeof(demo));
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
	snprintf(err, sizeof(err), "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
	    keys->keys[0].kid);
	b64url_str(err, h);
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
	struct config		*cfg;
	struct msg_source	 src;
	struct authz_request	 req;
	struct authz_env	 env;
	char			 tok[8000];

	tokens_ready();
	cfg = loadf(RA_ARTICLE, jwks_istio);
	util_strlcpy(tok, token_raw("demo.jwt"), sizeof(tok));
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
	env.now = demo_exp - 10;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.decision, AUTHZ_DECISION_ALLOW);
	assert_int_equal(ans.reuse_ms, 10000);
	/* past exp but within the skew: valid, not reusable */
	env.now = demo_exp + 30;
	authz_decide(cfg, &env, &src, &req, &ans);
	assert_int_equal(ans.decision, AUTHZ_DECISION_ALLOW);
	assert_int_equal(ans.reuse_ms, 0);
	env.now = demo_exp + 61;
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
	struct config		*cfg = loadf(AP, "deny-post", "default",
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
		/* Istio's ValidateAuthorizationPolicy refuses these too */
		"  action: DENY",
		"  action: DENY\n  rules: []",
		"  action: CUSTOM\n  provider: {name: x}",
		"  action: CUSTOM\n  provider: {name: x}\n  rules: [{from: "
		    "[{source: {principals: [a]}}]}]",
		"  action: CUSTOM\n  provider: {name: x}\n  rules: [{when: "
		    "[{key: request.auth.claims[a], values: [b]}]}]",
		"  selector: {matchLabels: {app: \"*\"}}\n  rules: [{}]",
		"  rules: [{from: [{source: {serviceAccounts: [a], "
		    "principals: [b]}}]}]",
		"  rules: [{from: [{source: {serviceAccounts: [\"a/b/c\"]}}]}]",
		"  rules: [{when: [{key: destination.labels[app], values: "
		    "[a]}]}]",
		"  rules: [{when: [{key: \"request.headers[]\", values: [a]}]}]",
		"  rules: [null]",
		"  rules: [{to: [{operation: {paths: [\"/a/{*}}\"]}}]}]",
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
	cfg = loadf(AP, "deny-admin", "default", "  action: DENY\n  rules:\n"
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

/*
 * The peer's identity as Istio's generated matchers read it: principals
 * with spiffe:// before the value, namespaces as ".*\/ns/NS/.*",
 * serviceAccounts as spiffe://.+/ns/NS/(.+/|)sa/SA(/.+)?; and a repeated
 * header joined with ','.
 */
static void
test_istio_matchers(void **state)
{
	struct config	*cfg;
	size_t		 i;
	static const struct {
		const char	*peer;
		unsigned	 want;
	} sa[] = {
		{ "spiffe://cluster.local/ns/default/sa/bar", 0 },
		{ "spiffe://td/ns/default/x/y/sa/bar", 0 },
		{ "spiffe://td/ns/default/sa/bar/extra", 0 },
		{ "cluster.local/ns/default/sa/bar", 0 },
		{ "spiffe://td/ns/default/sa/bar-2", 403 },
		{ "spiffe://td/ns/default/sa/bar/", 403 },
		{ "spiffe://td/ns/default/xsa/bar", 403 },
		{ "spiffe:///ns/default/sa/bar", 403 },
		{ "spiffe://td/ns/other/sa/bar", 403 },
		{ "", 403 },
	};

	cfg = loadf(AP, "sa", "default", "  rules:\n"
	    "  - from: [{source: {serviceAccounts: [bar]}}]");
	for (i = 0; i < nitems(sa); i++) {
		peer = sa[i].peer;
		ask(cfg, NULL, "GET", "/", NULL);
		if ((ans.decision == AUTHZ_DECISION_ALLOW) != (sa[i].want == 0))
			fail_msg("serviceAccounts [bar], peer \"%s\": %s",
			    sa[i].peer, ans.reason);
	}
	config_free(cfg);
	cfg = loadf(AP, "p", "default", "  rules:\n"
	    "  - from: [{source: {principals: [\"td/ns/a/sa/b\"]}}]\n"
	    "  - from: [{source: {principals: [\"*/sa/c\"]}}]\n"
	    "  - from: [{source: {namespaces: [\"team-*\"]}}]");
	peer = "spiffe://td/ns/a/sa/b";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "rules[0]");
	assert_non_null(strstr(ans.vary, "principal"));
	peer = "spiffe://td/ns/a/sa/bb";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);
	peer = "spiffe://x/ns/y/sa/c";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "rules[1]");
	peer = "spiffe://td/ns/team-red/sa/z";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "rules[2]");
	peer = "spiffe://td/ns/team-/sa/z";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(0, "rules[2]");
	peer = "spiffe://td/ns/teams/sa/z";
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);
	peer = NULL;
	ask(cfg, NULL, "GET", "/", NULL);
	expect(403, NULL);
	config_free(cfg);
	/* a header's values joined: "*,b" across two fields, "a,*" too */
	cfg = loadf(AP, "h", "default", "  rules:\n"
	    "  - when: [{key: \"request.headers[x]\", values: [\"*a,b\"]}]\n"
	    "  - when: [{key: \"request.headers[y]\", values: [\"1,2,3\"]}]");
	ask(cfg, NULL, "GET", "/", "x: za\nx: b");
	expect(0, "rules[0]");
	ask(cfg, NULL, "GET", "/", "x: za,b");
	expect(0, "rules[0]");
	ask(cfg, NULL, "GET", "/", "x: za\nx: bb");
	expect(403, NULL);
	ask(cfg, NULL, "GET", "/", "y: 1\nx: q\ny: 2,3");
	expect(0, "rules[1]");
	ask(cfg, NULL, "GET", "/", "y: 1\ny: 2\ny: 3\ny: ");
	expect(403, NULL);
	config_free(cfg);
}

/* The token tests run on tokens made here, then on Istio's. */
#define OWN(f)		{ .name = #f " (own)", .test_func = f,		\
			    .setup_func = use_own }
#define ISTIO(f)	{ .name = #f " (istio)", .test_func = f,	\
			    .setup_func = use_istio }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		OWN(test_article),
		OWN(test_istio_claims),
		OWN(test_token_places),
		OWN(test_hostile_tokens),
		OWN(test_reuse_expiry),
		ISTIO(test_article),
		ISTIO(test_istio_claims),
		ISTIO(test_token_places),
		ISTIO(test_hostile_tokens),
		ISTIO(test_reuse_expiry),
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_istio_matchers),
		cmocka_unit_test(test_path_normalized),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
