/* SPDX-License-Identifier: ISC */
/*
 * JSON Web Tokens (RFC 7519) signed with JWS compact serialization (RFC
 * 7515), and JSON Web Key Sets (RFC 7517) to verify them.
 *
 * A JWKS is read once into OpenSSL keys; verifying a token then costs one
 * signature check.  The algorithm is decided by the key: its type (RSA, EC
 * and its curve, Ed25519) and its "alg" when it has one; the token's "alg"
 * must agree with them, and "none" and the HMAC algorithms are never
 * accepted, so a token cannot pick how it is checked.  Claims are checked
 * by jwt_check_claims: "exp" is required, "nbf" is honoured with
 * JWT_CLOCK_SKEW seconds of slack, "iss" and "aud" as asked.
 */
#ifndef MESHKIT_JWT_H
#define MESHKIT_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define JWT_MAX_BYTES		8192	/* a longer token is refused */
#define JWT_CLOCK_SKEW		60	/* seconds, for exp and nbf */
#define JWKS_MAX_BYTES		(1024 * 1024)
#define JWKS_MAX_KEYS		64
#define JWT_RSA_MIN_BITS	2048

enum jwt_alg {
	JWT_ALG_NONE,		/* not accepted, nor anything unknown */
	JWT_ALG_RS256,
	JWT_ALG_RS384,
	JWT_ALG_RS512,
	JWT_ALG_PS256,
	JWT_ALG_PS384,
	JWT_ALG_PS512,
	JWT_ALG_ES256,
	JWT_ALG_ES384,
	JWT_ALG_ES512,
	JWT_ALG_EDDSA,
};

enum jwk_type {
	JWK_RSA,
	JWK_EC,
	JWK_ED25519,
};

struct jwk {
	enum jwk_type	 type;
	char		*kid;		/* NULL: none */
	enum jwt_alg	 alg;		/* JWT_ALG_NONE: any of the type */
	int		 curve_bytes;	/* EC: 32, 48 or 66 */
	void		*pkey;		/* EVP_PKEY * */
};

struct jwks {
	struct jwk	*keys;
	size_t		 n;
	size_t		 skipped;	/* keys not for signatures, or unknown */
};

/*
 * Read a JWKS document ({"keys": [...]}).  Keys of unknown types, "oct"
 * keys and keys whose "use" is not "sig" are skipped; a malformed key of
 * a known type, or no usable key at all, is an error.  NULL with a reason
 * in err on failure.
 */
struct jwks	*jwks_parse(const char *buf, size_t len, char *err,
		    size_t errlen);
void		 jwks_free(struct jwks *);

/* A token taken apart, not yet verified. */
struct jwt {
	enum jwt_alg	 alg;
	char		 alg_name[16];
	const char	*kid;		/* into header */
	struct json	*header;
	struct json	*claims;
	const char	*iss;		/* into claims, NULL when absent */
	const char	*sub;
	const char	*azp;
	int		 has_exp;
	int		 has_nbf;
	double		 exp;
	double		 nbf;
	/* the signed part (header.payload) and the payload, into the token */
	const char	*signing_input;
	size_t		 signing_len;
	const char	*payload;
	size_t		 payload_len;
	unsigned char	*signature;
	size_t		 signature_len;
};

/*
 * Take the token apart: three base64url parts, a JSON header with a
 * known "alg" and without "crit", a JSON object of claims.  The token
 * must outlive the struct (signing_input and payload point into it).
 * Returns 0, or -1 with a reason in err; jwt_fini in both cases.
 */
int	jwt_parse(struct jwt *, const char *token, size_t len, char *err,
	    size_t errlen);
void	jwt_fini(struct jwt *);

/* The signature, with a key of keys fit for its algorithm.  0 or -1. */
int	jwt_verify(const struct jwt *, const struct jwks *keys, char *err,
	    size_t errlen);

/*
 * exp (required, not past now - skew), nbf (not after now + skew), iss
 * equal to issuer (NULL: not checked), and, when naudiences > 0, an "aud"
 * (a string or a list of strings) naming one of audiences.  0 or -1.
 */
int	jwt_check_claims(const struct jwt *, const char *issuer,
	    char *const *audiences, size_t naudiences, int64_t now, char *err,
	    size_t errlen);

/*
 * When naudiences > 0, an "aud" (a string or a list of strings) naming
 * one of audiences.  0 or -1.
 */
int	jwt_check_audience(const struct jwt *, char *const *audiences,
	    size_t naudiences, char *err, size_t errlen);

/* The name of an algorithm ("RS256"), and back (JWT_ALG_NONE: unknown). */
const char	*jwt_alg_name(enum jwt_alg);
enum jwt_alg	 jwt_alg_parse(const char *);

/*
 * base64url without padding (RFC 7515 2), padding tolerated when
 * padded_ok.  out must hold 3 * len / 4 + 3 bytes.  Returns the length
 * decoded, or -1 on a character outside the alphabet or a bad length.
 */
long	jwt_base64url_decode(const char *in, size_t len, unsigned char *out,
	    int padded_ok);

#endif
