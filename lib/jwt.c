/* SPDX-License-Identifier: ISC */
/*
 * JWT and JWKS of jwt.h over OpenSSL 3: keys built from their JWK
 * parameters with EVP_PKEY_fromdata, signatures checked with
 * EVP_DigestVerify on the kept key.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "json.h"
#include "jwt.h"
#include "util.h"

static const char *const alg_names[] = {
	[JWT_ALG_NONE] = "none",
	[JWT_ALG_RS256] = "RS256", [JWT_ALG_RS384] = "RS384",
	[JWT_ALG_RS512] = "RS512", [JWT_ALG_PS256] = "PS256",
	[JWT_ALG_PS384] = "PS384", [JWT_ALG_PS512] = "PS512",
	[JWT_ALG_ES256] = "ES256", [JWT_ALG_ES384] = "ES384",
	[JWT_ALG_ES512] = "ES512", [JWT_ALG_EDDSA] = "EdDSA",
};

static void	 jwt_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static unsigned char *jwk_bytes(const struct json *, const char *, size_t *,
		    char *, size_t);
static int	 jwk_rsa(const struct json *, struct jwk *, char *, size_t);
static int	 jwk_ec(const struct json *, struct jwk *, char *, size_t);
static int	 jwk_okp(const struct json *, struct jwk *, char *, size_t);
static int	 jwt_key_fits(const struct jwk *, enum jwt_alg);
static int	 jwt_verify_key(const struct jwt *, const struct jwk *);
static const EVP_MD *jwt_md(enum jwt_alg);
static struct json *jwt_part(const char *, size_t, const char *, char *,
		    size_t);

static void
jwt_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
jwt_alg_name(enum jwt_alg alg)
{
	if ((size_t)alg < nitems(alg_names))
		return alg_names[alg];
	return "none";
}

enum jwt_alg
jwt_alg_parse(const char *s)
{
	size_t	 i;

	for (i = 1; i < nitems(alg_names); i++)
		if (strcmp(alg_names[i], s) == 0)
			return (enum jwt_alg)i;
	return JWT_ALG_NONE;
}

long
jwt_base64url_decode(const char *in, size_t len, unsigned char *out,
    int padded_ok)
{
	uint32_t	 acc = 0;
	size_t		 i, bits = 0;
	long		 n = 0;
	int		 v;

	if (padded_ok)
		while (len > 0 && in[len - 1] == '=')
			len--;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || (padded_ok && c == '+'))
			v = 62;
		else if (c == '_' || (padded_ok && c == '/'))
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the leftover bits of the last character must be zero */
	if (acc != 0)
		return -1;
	return n;
}

/* The base64url member name of a JWK, decoded. */
static unsigned char *
jwk_bytes(const struct json *k, const char *name, size_t *len, char *err,
    size_t errlen)
{
	const char	*s = json_get_string(k, name);
	unsigned char	*buf;
	long		 n;

	if (s == NULL) {
		jwt_err(err, errlen, "\"%s\" missing", name);
		return NULL;
	}
	buf = xmalloc(strlen(s) * 3 / 4 + 3);
	if ((n = jwt_base64url_decode(s, strlen(s), buf, 1)) <= 0) {
		free(buf);
		jwt_err(err, errlen, "\"%s\" is not base64url", name);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

static int
jwk_rsa(const struct json *k, struct jwk *key, char *err, size_t errlen)
{
	unsigned char	*n = NULL, *e = NULL;
	size_t		 nlen, elen;
	BIGNUM		*bn = NULL, *be = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	int		 rc = -1;

	if ((n = jwk_bytes(k, "n", &nlen, err, errlen)) == NULL ||
	    (e = jwk_bytes(k, "e", &elen, err, errlen)) == NULL)
		goto out;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	if (bn == NULL || be == NULL) {
		jwt_err(err, errlen, "RSA key: out of memory");
		goto out;
	}
	if (BN_num_bits(bn) < JWT_RSA_MIN_BITS || BN_num_bits(bn) > 16384) {
		jwt_err(err, errlen, "RSA key of %d bits (want %d to 16384)",
		    BN_num_bits(bn), JWT_RSA_MIN_BITS);
		goto out;
	}
	if (BN_num_bits(be) < 2 || BN_num_bits(be) > 64 || !BN_is_odd(be)) {
		jwt_err(err, errlen, "RSA key: bad exponent");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		jwt_err(err, errlen, "RSA key: OpenSSL refused it");
		goto out;
	}
	key->type = JWK_RSA;
	key->pkey = pkey;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return rc;
}

static int
jwk_ec(const struct json *k, struct jwk *key, char *err, size_t errlen)
{
	const char	*crv = json_get_string(k, "crv"), *group;
	unsigned char	*x = NULL, *y = NULL, point[1 + 2 * 66];
	size_t		 xlen, ylen, size;
	OSSL_PARAM	 params[3];
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	int		 rc = -1;

	if (crv == NULL) {
		jwt_err(err, errlen, "EC key: \"crv\" missing");
		return -1;
	}
	if (strcmp(crv, "P-256") == 0) {
		group = "prime256v1";
		size = 32;
	} else if (strcmp(crv, "P-384") == 0) {
		group = "secp384r1";
		size = 48;
	} else if (strcmp(crv, "P-521") == 0) {
		group = "secp521r1";
		size = 66;
	} else {
		jwt_err(err, errlen, "EC key: unknown curve");
		return -1;
	}
	if ((x = jwk_bytes(k, "x", &xlen, err, errlen)) == NULL ||
	    (y = jwk_bytes(k, "y", &ylen, err, errlen)) == NULL)
		goto out;
	if (xlen != size || ylen != size) {
		jwt_err(err, errlen, "EC key: coordinates of %s are %zu "
		    "bytes", crv, size);
		goto out;
	}
	point[0] = 0x04;
	memcpy(point + 1, x, size);
	memcpy(point + 1 + size, y, size);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size);
	params[2] = OSSL_PARAM_construct_end();
	/* the import checks that the point is on the curve */
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		jwt_err(err, errlen, "EC key: not a point of %s", crv);
		goto out;
	}
	key->type = JWK_EC;
	key->curve_bytes = (int)size;
	key->pkey = pkey;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	free(x);
	free(y);
	return rc;
}

static int
jwk_okp(const struct json *k, struct jwk *key, char *err, size_t errlen)
{
	const char	*crv = json_get_string(k, "crv");
	unsigned char	*x;
	size_t		 xlen;
	EVP_PKEY	*pkey;

	if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
		jwt_err(err, errlen, "OKP key: only Ed25519 is supported");
		return -1;
	}
	if ((x = jwk_bytes(k, "x", &xlen, err, errlen)) == NULL)
		return -1;
	if (xlen != 32 || (pkey = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_ED25519, NULL, x, xlen)) == NULL) {
		free(x);
		jwt_err(err, errlen, "OKP key: bad Ed25519 key");
		return -1;
	}
	free(x);
	key->type = JWK_ED25519;
	key->pkey = pkey;
	return 0;
}

struct jwks *
jwks_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct json		*doc;
	const struct json	*keys, *k;
	struct jwks		*set;
	const char		*kty, *use, *alg, *kid;
	char			 why[160];
	size_t			 i;
	int			 rc;

	if (len > JWKS_MAX_BYTES) {
		jwt_err(err, errlen, "JWKS larger than %d bytes",
		    JWKS_MAX_BYTES);
		return NULL;
	}
	if ((doc = json_parse(buf, len, why, sizeof(why))) == NULL) {
		jwt_err(err, errlen, "JWKS: %s", why);
		return NULL;
	}
	keys = json_get(doc, "keys");
	if (keys == NULL || keys->type != JSON_ARRAY) {
		json_free(doc);
		jwt_err(err, errlen, "JWKS: want an object with a \"keys\" "
		    "list");
		return NULL;
	}
	set = xcalloc(1, sizeof(*set));
	for (i = 0; i < keys->n; i++) {
		struct jwk key;

		k = keys->values[i];
		memset(&key, 0, sizeof(key));
		if (k->type != JSON_OBJECT ||
		    (kty = json_get_string(k, "kty")) == NULL) {
			jwt_err(err, errlen, "JWKS key %zu: want an object "
			    "with \"kty\"", i + 1);
			goto bad;
		}
		use = json_get_string(k, "use");
		alg = json_get_string(k, "alg");
		if ((use != NULL && strcmp(use, "sig") != 0) ||
		    (alg != NULL && jwt_alg_parse(alg) == JWT_ALG_NONE)) {
			set->skipped++;
			continue;
		}
		if (strcmp(kty, "RSA") == 0)
			rc = jwk_rsa(k, &key, why, sizeof(why));
		else if (strcmp(kty, "EC") == 0)
			rc = jwk_ec(k, &key, why, sizeof(why));
		else if (strcmp(kty, "OKP") == 0)
			rc = jwk_okp(k, &key, why, sizeof(why));
		else {
			set->skipped++;		/* "oct" and the like */
			continue;
		}
		if (rc == -1) {
			jwt_err(err, errlen, "JWKS key %zu: %s", i + 1, why);
			goto bad;
		}
		key.alg = alg != NULL ? jwt_alg_parse(alg) : JWT_ALG_NONE;
		if (key.alg != JWT_ALG_NONE && !jwt_key_fits(&key, key.alg)) {
			EVP_PKEY_free(key.pkey);
			jwt_err(err, errlen, "JWKS key %zu: alg %s does not "
			    "fit its key type", i + 1, alg);
			goto bad;
		}
		if ((kid = json_get_string(k, "kid")) != NULL)
			key.kid = xstrdup(kid);
		if (set->n == JWKS_MAX_KEYS) {
			EVP_PKEY_free(key.pkey);
			free(key.kid);
			jwt_err(err, errlen, "JWKS: more than %d keys",
			    JWKS_MAX_KEYS);
			goto bad;
		}
		set->keys = xreallocarray(set->keys, set->n + 1,
		    sizeof(*set->keys));
		set->keys[set->n++] = key;
	}
	json_free(doc);
	if (set->n == 0) {
		jwt_err(err, errlen, "JWKS: no key usable for signatures");
		jwks_free(set);
		return NULL;
	}
	return set;
bad:
	json_free(doc);
	jwks_free(set);
	return NULL;
}

void
jwks_free(struct jwks *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		EVP_PKEY_free(set->keys[i].pkey);
		free(set->keys[i].kid);
	}
	free(set->keys);
	free(set);
}

/* One part of the token, decoded and read as a JSON object. */
static struct json *
jwt_part(const char *s, size_t len, const char *what, char *err,
    size_t errlen)
{
	unsigned char	 buf[JWT_MAX_BYTES];
	char		 why[160];
	struct json	*j;
	long		 n;

	if ((n = jwt_base64url_decode(s, len, buf, 0)) < 0) {
		jwt_err(err, errlen, "%s is not base64url", what);
		return NULL;
	}
	if ((j = json_parse((const char *)buf, (size_t)n, why,
	    sizeof(why))) == NULL) {
		jwt_err(err, errlen, "%s: %s", what, why);
		return NULL;
	}
	if (j->type != JSON_OBJECT) {
		json_free(j);
		jwt_err(err, errlen, "%s is not a JSON object", what);
		return NULL;
	}
	return j;
}

int
jwt_parse(struct jwt *t, const char *tok, size_t len, char *err,
    size_t errlen)
{
	const char		*d1, *d2, *alg;
	const struct json	*v;
	long			 n;

	memset(t, 0, sizeof(*t));
	if (len > JWT_MAX_BYTES) {
		jwt_err(err, errlen, "token longer than %d bytes",
		    JWT_MAX_BYTES);
		return -1;
	}
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) !=
	    NULL) {
		jwt_err(err, errlen, "not three dot-separated parts");
		return -1;
	}
	if ((t->header = jwt_part(tok, (size_t)(d1 - tok), "header", err,
	    errlen)) == NULL)
		return -1;
	if ((alg = json_get_string(t->header, "alg")) == NULL) {
		jwt_err(err, errlen, "header: \"alg\" missing");
		return -1;
	}
	snprintf(t->alg_name, sizeof(t->alg_name), "%s", alg);
	if ((t->alg = jwt_alg_parse(alg)) == JWT_ALG_NONE) {
		jwt_err(err, errlen, "algorithm \"%.16s\" not accepted", alg);
		return -1;
	}
	/* no extension meshkit knows may be marked critical */
	if (json_get(t->header, "crit") != NULL) {
		jwt_err(err, errlen, "header: \"crit\" not supported");
		return -1;
	}
	if ((v = json_get(t->header, "kid")) != NULL) {
		if (v->type != JSON_STRING) {
			jwt_err(err, errlen, "header: \"kid\" not a string");
			return -1;
		}
		t->kid = v->string;
	}
	t->payload = d1 + 1;
	t->payload_len = (size_t)(d2 - d1 - 1);
	if ((t->claims = jwt_part(t->payload, t->payload_len, "payload", err,
	    errlen)) == NULL)
		return -1;
	t->signing_input = tok;
	t->signing_len = (size_t)(d2 - tok);
	t->signature = xmalloc((len - (size_t)(d2 + 1 - tok)) * 3 / 4 + 3);
	if ((n = jwt_base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok),
	    t->signature, 0)) <= 0) {
		jwt_err(err, errlen, "signature missing or not base64url");
		return -1;
	}
	t->signature_len = (size_t)n;
	/* the registered claims, each of its type when present */
	if ((v = json_get(t->claims, "iss")) != NULL) {
		if (v->type != JSON_STRING) {
			jwt_err(err, errlen, "\"iss\" not a string");
			return -1;
		}
		t->iss = v->string;
	}
	if ((v = json_get(t->claims, "sub")) != NULL) {
		if (v->type != JSON_STRING) {
			jwt_err(err, errlen, "\"sub\" not a string");
			return -1;
		}
		t->sub = v->string;
	}
	t->azp = json_get_string(t->claims, "azp");
	if ((v = json_get(t->claims, "exp")) != NULL) {
		if (v->type != JSON_NUMBER || !isfinite(v->number)) {
			jwt_err(err, errlen, "\"exp\" not a number");
			return -1;
		}
		t->has_exp = 1;
		t->exp = v->number;
	}
	if ((v = json_get(t->claims, "nbf")) != NULL) {
		if (v->type != JSON_NUMBER || !isfinite(v->number)) {
			jwt_err(err, errlen, "\"nbf\" not a number");
			return -1;
		}
		t->has_nbf = 1;
		t->nbf = v->number;
	}
	return 0;
}

void
jwt_fini(struct jwt *t)
{
	json_free(t->header);
	json_free(t->claims);
	free(t->signature);
	memset(t, 0, sizeof(*t));
}

static const EVP_MD *
jwt_md(enum jwt_alg alg)
{
	switch (alg) {
	case JWT_ALG_RS256: case JWT_ALG_PS256: case JWT_ALG_ES256:
		return EVP_sha256();
	case JWT_ALG_RS384: case JWT_ALG_PS384: case JWT_ALG_ES384:
		return EVP_sha384();
	case JWT_ALG_RS512: case JWT_ALG_PS512: case JWT_ALG_ES512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* The key's type (and curve) and its alg decide; the token must agree. */
static int
jwt_key_fits(const struct jwk *k, enum jwt_alg alg)
{
	if (k->alg != JWT_ALG_NONE && k->alg != alg)
		return 0;
	switch (k->type) {
	case JWK_RSA:
		return alg >= JWT_ALG_RS256 && alg <= JWT_ALG_PS512;
	case JWK_EC:
		return (alg == JWT_ALG_ES256 && k->curve_bytes == 32) ||
		    (alg == JWT_ALG_ES384 && k->curve_bytes == 48) ||
		    (alg == JWT_ALG_ES512 && k->curve_bytes == 66);
	case JWK_ED25519:
		return alg == JWT_ALG_EDDSA;
	}
	return 0;
}

static int
jwt_verify_key(const struct jwt *t, const struct jwk *k)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx = NULL;
	ECDSA_SIG	*es = NULL;
	BIGNUM		*r, *s;
	unsigned char	*der = NULL;
	const unsigned char *sig = t->signature;
	size_t		 siglen = t->signature_len;
	int		 n, ok = 0;

	if (k->type == JWK_EC) {
		/* JOSE's r || s, each the curve's size, into DER */
		if (siglen != 2 * (size_t)k->curve_bytes)
			return 0;
		r = BN_bin2bn(sig, k->curve_bytes, NULL);
		s = BN_bin2bn(sig + k->curve_bytes, k->curve_bytes, NULL);
		if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL ||
		    !ECDSA_SIG_set0(es, r, s)) {
			BN_free(r);
			BN_free(s);
			ECDSA_SIG_free(es);
			return 0;
		}
		if ((n = i2d_ECDSA_SIG(es, &der)) <= 0) {
			ECDSA_SIG_free(es);
			return 0;
		}
		ECDSA_SIG_free(es);
		sig = der;
		siglen = (size_t)n;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		OPENSSL_free(der);
		return 0;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, jwt_md(t->alg), NULL,
	    (EVP_PKEY *)k->pkey) == 1) {
		if (t->alg >= JWT_ALG_PS256 && t->alg <= JWT_ALG_PS512 &&
		    (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0))
			goto out;
		ok = EVP_DigestVerify(ctx, sig, siglen,
		    (const unsigned char *)t->signing_input,
		    t->signing_len) == 1;
	}
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

int
jwt_verify(const struct jwt *t, const struct jwks *keys, char *err,
    size_t errlen)
{
	size_t	 i, tried = 0;

	if (keys == NULL || keys->n == 0) {
		jwt_err(err, errlen, "no keys to verify with");
		return -1;
	}
	if (t->alg == JWT_ALG_NONE || t->signature == NULL) {
		jwt_err(err, errlen, "algorithm not accepted");
		return -1;
	}
	for (i = 0; i < keys->n; i++) {
		const struct jwk *k = &keys->keys[i];

		if (t->kid != NULL && (k->kid == NULL ||
		    strcmp(k->kid, t->kid) != 0))
			continue;
		if (!jwt_key_fits(k, t->alg))
			continue;
		tried++;
		if (jwt_verify_key(t, k))
			return 0;
	}
	if (tried == 0)
		jwt_err(err, errlen, "no %s key%s%s%s", jwt_alg_name(t->alg),
		    t->kid != NULL ? " with kid \"" : "",
		    t->kid != NULL ? t->kid : "", t->kid != NULL ? "\"" : "");
	else
		jwt_err(err, errlen, "bad signature");
	return -1;
}

int
jwt_check_claims(const struct jwt *t, const char *issuer,
    char *const *audiences, size_t naudiences, int64_t now, char *err,
    size_t errlen)
{
	if (!t->has_exp) {
		jwt_err(err, errlen, "\"exp\" missing");
		return -1;
	}
	if (t->exp + JWT_CLOCK_SKEW < (double)now) {
		jwt_err(err, errlen, "Jwt is expired");
		return -1;
	}
	if (t->has_nbf && t->nbf - JWT_CLOCK_SKEW > (double)now) {
		jwt_err(err, errlen, "Jwt not yet valid");
		return -1;
	}
	if (issuer != NULL && (t->iss == NULL || strcmp(t->iss, issuer) != 0)) {
		jwt_err(err, errlen, "issuer is not %s", issuer);
		return -1;
	}
	return jwt_check_audience(t, audiences, naudiences, err, errlen);
}

int
jwt_check_audience(const struct jwt *t, char *const *audiences,
    size_t naudiences, char *err, size_t errlen)
{
	const struct json	*aud;
	size_t			 i, j;

	if (naudiences == 0)
		return 0;
	aud = json_get(t->claims, "aud");
	for (i = 0; aud != NULL && i < naudiences; i++) {
		if (aud->type == JSON_STRING &&
		    strcmp(aud->string, audiences[i]) == 0)
			return 0;
		if (aud->type != JSON_ARRAY)
			continue;
		for (j = 0; j < aud->n; j++)
			if (aud->values[j]->type == JSON_STRING &&
			    strcmp(aud->values[j]->string, audiences[i]) == 0)
				return 0;
	}
	jwt_err(err, errlen, "Audiences in Jwt are not allowed");
	return -1;
}
