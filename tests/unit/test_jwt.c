/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/jwt.c and lib/json.c: keys made here with OpenSSL
 * (RSA, P-256, Ed25519), JWKS written from them, tokens signed with
 * them; hostile tokens refused; Istio's real JWKS and tokens verified.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "json.h"
#include "jwt.h"
#include "util.h"

#define NOW	1800000000	/* 2027-01-15: the clock of these tests */

static EVP_PKEY	*rsa_key, *ec_key, *ed_key;
static char	 jwks_buf[8192];

static void	b64url(const unsigned char *, size_t, char *);
static void	b64url_str(const char *, char *);
static void	key_b64(EVP_PKEY *, const char *, int, char *);
static char	*sign(EVP_PKEY *, const char *, const char *, const char *);
static int	check(const char *, const char *, const char *);
static int	setup(void **);
static int	teardown(void **);

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t	 i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static void
b64url_str(const char *s, char *out)
{
	b64url((const unsigned char *)s, strlen(s), out);
}

/* A big number parameter of the key, base64url. */
static void
key_b64(EVP_PKEY *k, const char *param, int width, char *out)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	int		 n;

	assert_true(EVP_PKEY_get_bn_param(k, param, &bn));
	/*
	 * An EC coordinate is its curve's full width (RFC 7518 6.2.1.2):
	 * one in 128 random keys has a leading zero byte that BN_bn2bin
	 * would drop, and jwks_parse rightly refuses the shorter value.
	 */
	n = width > 0 ? BN_bn2binpad(bn, buf, width) : BN_bn2bin(bn, buf);
	assert_true(n > 0);
	b64url(buf, (size_t)n, out);
	BN_free(bn);
}

/* header.payload signed with k as alg says (RS, PS, ES, EdDSA, HS). */
static char *
sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
	char		 h[2048], p[8192], *tok, sig64[2048];
	unsigned char	 sig[1024], raw[132];
	size_t		 siglen = sizeof(sig), hl;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;
	const EVP_MD	*md = strstr(alg, "384") ? EVP_sha384() :
			    strstr(alg, "512") ? EVP_sha512() : EVP_sha256();

	b64url_str(header, h);
	b64url_str(payload, p);
	xasprintf(&tok, "%s.%s", h, p);
	if (strcmp(alg, "EdDSA") == 0)
		md = NULL;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, k), 1);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (unsigned char *)tok, strlen(tok)), 1);
	EVP_MD_CTX_free(ctx);
	if (alg[0] == 'E' && alg[1] == 'S') {
		/* DER to JOSE r || s */
		const unsigned char *d = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)siglen);

		memset(raw, 0, sizeof(raw));
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 64);
		siglen = 64;
	}
	b64url(sig, siglen, sig64);
	hl = strlen(tok);
	tok = xreallocarray(tok, hl + strlen(sig64) + 2, 1);
	snprintf(tok + hl, strlen(sig64) + 2, ".%s", sig64);
	return tok;
}

static int
setup(void **state)
{
	char		 n[700], e[16], x[64], y[64], ed[64];
	unsigned char	 raw[32];
	size_t		 rawlen = sizeof(raw);
	EVP_PKEY_CTX	*ctx;

	rsa_key = EVP_RSA_gen(2048);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY_keygen_init(ctx);
	EVP_PKEY_CTX_set_group_name(ctx, "P-256");
	EVP_PKEY_keygen(ctx, &ec_key);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);
	EVP_PKEY_keygen_init(ctx);
	EVP_PKEY_keygen(ctx, &ed_key);
	EVP_PKEY_CTX_free(ctx);
	key_b64(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0, n);
	key_b64(rsa_key, OSSL_PKEY_PARAM_RSA_E, 0, e);
	key_b64(ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32, x);
	key_b64(ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32, y);
	EVP_PKEY_get_raw_public_key(ed_key, raw, &rawlen);
	b64url(raw, rawlen, ed);
	snprintf(jwks_buf, sizeof(jwks_buf), "{\"keys\": ["
	    "{\"kty\": \"RSA\", \"kid\": \"r1\", \"n\": \"%s\", \"e\": \"%s\"},"
	    "{\"kty\": \"EC\", \"kid\": \"e1\", \"crv\": \"P-256\", "
	    "\"x\": \"%s\", \"y\": \"%s\", \"use\": \"sig\"},"
	    "{\"kty\": \"OKP\", \"kid\": \"d1\", \"crv\": \"Ed25519\", "
	    "\"x\": \"%s\"},"
	    "{\"kty\": \"oct\", \"kid\": \"h1\", \"k\": \"c2VjcmV0\"}]}",
	    n, e, x, y, ed);
	return 0;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ed_key);
	return 0;
}

/* 0 when tok verifies with the test JWKS and passes the claim checks. */
static int
check(const char *tok, const char *iss, const char *aud)
{
	struct jwks	*keys;
	struct jwt	 t;
	char		 err[256];
	char		*auds[1] = { (char *)aud };
	int		 rc;

	keys = jwks_parse(jwks_buf, strlen(jwks_buf), err, sizeof(err));
	assert_non_null(keys);
	rc = jwt_parse(&t, tok, strlen(tok), err, sizeof(err));
	if (rc == 0)
		rc = jwt_verify(&t, keys, err, sizeof(err));
	if (rc == 0)
		rc = jwt_check_claims(&t, iss, auds, aud != NULL, NOW, err,
		    sizeof(err));
	jwt_fini(&t);
	jwks_free(keys);
	return rc;
}

#define CLAIMS	"{\"iss\":\"me\",\"sub\":\"u\",\"aud\":[\"a\",\"b\"]," \
		"\"exp\":1900000000}"

static void
test_algorithms(void **state)
{
	static const char *rs[] = { "RS256", "RS384", "RS512", "PS256",
	    "PS384", "PS512" };
	char	 h[128], *tok;
	size_t	 i;

	for (i = 0; i < nitems(rs); i++) {
		snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"r1\"}",
		    rs[i]);
		tok = sign(rsa_key, rs[i], h, CLAIMS);
		assert_int_equal(check(tok, "me", "b"), 0);
		free(tok);
	}
	tok = sign(ec_key, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    CLAIMS);
	assert_int_equal(check(tok, "me", NULL), 0);
	free(tok);
	/* no kid: every key of the right type is tried */
	tok = sign(ed_key, "EdDSA", "{\"alg\":\"EdDSA\"}", CLAIMS);
	assert_int_equal(check(tok, "me", "a"), 0);
	free(tok);
}

static void
test_hostile(void **state)
{
	char		 h[256], p[256], *tok, *t2, sig[128], n[700];

	unsigned char	 mac[64], *pub = NULL;
	unsigned int	 maclen;
	int		 publen;

	/* alg none, no signature */
	b64url_str("{\"alg\":\"none\"}", h);
	b64url_str(CLAIMS, p);
	xasprintf(&tok, "%s.%s.", h, p);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* HS256 with the RSA public key (DER and n) as the secret */
	publen = i2d_PUBKEY(rsa_key, &pub);
	b64url_str("{\"alg\":\"HS256\",\"kid\":\"r1\"}", h);
	xasprintf(&tok, "%s.%s", h, p);
	HMAC(EVP_sha256(), pub, publen, (unsigned char *)tok, strlen(tok),
	    mac, &maclen);
	b64url(mac, maclen, sig);
	xasprintf(&t2, "%s.%s", tok, sig);
	assert_int_equal(check(t2, "me", NULL), -1);
	free(t2);
	free(tok);
	OPENSSL_free(pub);
	key_b64(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0, n);
	/* the RS256 token's alg rewritten to HS256: the key decides */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"HS256\",\"kid\":\"r1\"}",
	    CLAIMS);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* an RSA signature claimed as ES256 for the EC key */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    CLAIMS);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* unknown kid */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\",\"kid\":\"zz\"}",
	    CLAIMS);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* a key made here but not in the JWKS */
	{
		EVP_PKEY *other = EVP_RSA_gen(2048);

		tok = sign(other, "RS256", "{\"alg\":\"RS256\",\"kid\":"
		    "\"r1\"}", CLAIMS);
		assert_int_equal(check(tok, "me", NULL), -1);
		free(tok);
		EVP_PKEY_free(other);
	}
	/* expired, not yet valid, no exp, wrong iss, wrong aud */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\"}",
	    "{\"iss\":\"me\",\"exp\":1700000000}");
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\"}",
	    "{\"iss\":\"me\",\"exp\":1900000000,\"nbf\":1800000100}");
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* nbf within the skew is fine */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\"}",
	    "{\"iss\":\"me\",\"exp\":1900000000,\"nbf\":1800000030}");
	assert_int_equal(check(tok, "me", NULL), 0);
	free(tok);
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\"}",
	    "{\"iss\":\"me\"}");
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\"}", CLAIMS);
	assert_int_equal(check(tok, "you", NULL), -1);
	assert_int_equal(check(tok, "me", "c"), -1);
	/* a flipped bit of the payload */
	tok[strchr(tok, '.') - tok + 3] ^= 1;
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* malformed base64, JSON, parts */
	assert_int_equal(check("a.b", "me", NULL), -1);
	assert_int_equal(check("!!!.e30.AAAA", "me", NULL), -1);
	b64url_str("{\"alg\":\"RS256\"", h);
	xasprintf(&tok, "%s.e30.AAAA", h);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	assert_int_equal(check("e30.e30.AAAA.AAAA", "me", NULL), -1);
	/* "crit" is refused */
	tok = sign(rsa_key, "RS256", "{\"alg\":\"RS256\",\"crit\":[\"x\"]}",
	    CLAIMS);
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
	/* oversized */
	tok = xmalloc(JWT_MAX_BYTES + 100);
	memset(tok, 'A', JWT_MAX_BYTES + 99);
	tok[10] = '.';
	tok[20] = '.';
	tok[JWT_MAX_BYTES + 99] = '\0';
	assert_int_equal(check(tok, "me", NULL), -1);
	free(tok);
}

static void
test_jwks_errors(void **state)
{
	static const char *bad[] = {
		"", "[]", "{\"keys\": {}}", "{\"keys\": []}",
		"{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\"}]}",
		"{\"keys\": [{\"kty\": \"RSA\", \"n\": \"AQAB\", \"e\": \"AQAB\"}]}",
		"{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AA\", \"y\": \"AA\"}]}",
		"{\"keys\": [{\"kty\": \"RSA\", \"n\": \"!!\", \"e\": \"AQAB\"}]}",
		"{\"keys\": [{\"kty\": \"RSA\"}]}",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		assert_null(jwks_parse(bad[i], strlen(bad[i]), err,
		    sizeof(err)));
		assert_true(err[0] != '\0');
	}
}

static void
test_json(void **state)
{
	static const char *bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "{\"a\":1,\"a\":2}", "01",
		"\"\\u0000\"", "\"\\ud800\"", "\"\xc0\xaf\"", "tru", "1 2",
		"\"a\nb\"", "{\"a\" 1}", "-", "1.", "1e",
	};
	char		 err[128], deep[100];
	struct json	*j;
	size_t		 i;

	for (i = 0; i < nitems(bad); i++) {
		j = json_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		assert_null(j);
		assert_true(err[0] != '\0');
	}
	memset(deep, '[', sizeof(deep));
	assert_null(json_parse(deep, sizeof(deep), err, sizeof(err)));
	{
		const char *ok = "{\"a\": [1, -2.5e3, true, null, "
		    "\"x\\u00e9\\ud83d\\ude00\"]}";

		j = json_parse(ok, strlen(ok), err, sizeof(err));
	}
	assert_non_null(j);
	assert_int_equal(json_get(j, "a")->n, 5);
	assert_true(json_get(j, "a")->values[1]->number == -2500.0);
	assert_string_equal(json_get(j, "a")->values[4]->string,
	    "x\xc3\xa9\xf0\x9f\x98\x80");
	json_free(j);
}

/*
 * Istio's own JWKS and tokens: they verify; the expired one does not.
 * The conformance stage: skipped without ../shared/testdata (or
 * $MESHKIT_SHARED).
 */
static void
test_istio_tokens(void **state)
{
	static const struct {
		const char	*jwks;
		const char	*token;
		const char	*iss;
		int		 ok;
	} cases[] = {
		{ "jwks.json", "demo.jwt", "testing@secure.istio.io", 0 },
		{ "jwks.json", "role-customer.jwt", "testing@secure.istio.io",
		    0 },
		{ "jwks.json", "groups-scope.jwt", "testing@secure.istio.io",
		    0 },
		{ "tests-common/jwks.json", "tests-common/TokenIssuer1.jwt",
		    "test-issuer-1@istio.io", 0 },
		{ "tests-common/jwks.json", "tests-common/TokenExpired.jwt",
		    "test-issuer-1@istio.io", -1 },
		/* a token of the other JWKS: no key with its kid */
		{ "jwks.json", "tests-common/TokenIssuer1.jwt",
		    "test-issuer-1@istio.io", -1 },
	};
	const char	*env = getenv("MESHKIT_SHARED");
	char		 path[4096], dir[4000], buf[65536], tok[8192];
	char		 err[256];
	size_t		 i, n;
	FILE		*f;
	struct jwks	*keys;
	struct jwt	 t;
	int		 rc;

	snprintf(dir, sizeof(dir), "%s/testdata/istio/jwt",
	    env != NULL && *env != '\0' ? env : "../shared");
	if (access(dir, R_OK) == -1)
		skip();
	for (i = 0; i < nitems(cases); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].jwks);
		assert_non_null(f = fopen(path, "r"));
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_non_null(keys = jwks_parse(buf, n, err, sizeof(err)));
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].token);
		assert_non_null(f = fopen(path, "r"));
		n = fread(tok, 1, sizeof(tok) - 1, f);
		fclose(f);
		while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == ' '))
			n--;
		rc = jwt_parse(&t, tok, n, err, sizeof(err));
		if (rc == 0)
			rc = jwt_verify(&t, keys, err, sizeof(err));
		if (rc == 0)
			rc = jwt_check_claims(&t, cases[i].iss, NULL, 0,
			    1795900000, err, sizeof(err));	/* 2026-11-28 */
		assert_int_equal(rc, cases[i].ok);
		jwt_fini(&t);
		jwks_free(keys);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_jwks_errors),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_istio_tokens),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
