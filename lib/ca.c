/* SPDX-License-Identifier: ISC */
/*
 * The mesh CA (ca.h): its material, the checks on a CSR, the signing of
 * a leaf, root rotation.  OpenSSL 3 does the cryptography; this file
 * decides what is signed.
 *
 * Roots: struct ca keeps every root still in the bundle, newest first,
 * each with its number (the root generation) and, once replaced, the
 * time it leaves the bundle: when the last leaf it signed has expired.
 * The bundle generation counts the bundle's changes, so that a proxy can
 * tell an old bundle from a new one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "spiffe.h"
#include "util.h"

static void	 ca_ssl_error(char *, size_t, const char *);
static int	 ca_add_ext(X509 *, X509 *, int, const char *);
static int	 ca_set_serial(X509 *);
static int	 ca_set_validity(X509 *, int64_t, int64_t);
static const EVP_MD *ca_digest(EVP_PKEY *);
static X509	*ca_make_root(EVP_PKEY *, const char *, unsigned, int64_t);
static int	 ca_add_root(struct ca *, X509 *, char *, size_t);
static void	 ca_sort_roots(struct ca *);
static void	 ca_drop_root(struct ca *, size_t);
static int	 ca_self_signed(X509 *);
static int	 ca_plugin_read(const char *, int64_t, X509 **, EVP_PKEY **,
		    X509 **, size_t *, X509 **, size_t *, char *, size_t);
static int	 ca_plugin_merge(struct ca *, X509 *, EVP_PKEY *, X509 **,
		    size_t, X509 **, size_t, int64_t, uint64_t, char *,
		    size_t);
static int	 ca_key_ok(EVP_PKEY *, char *, size_t);

static void
ca_ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[160];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

int64_t
ca_asn1_seconds(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return INT64_MIN;
	return (int64_t)timegm(&tm);
}

void
ca_serial_hex(X509 *x, char *buf, size_t len)
{
	BIGNUM	*bn;
	char	*hex, *p;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		for (p = hex; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		util_strlcpy(buf, hex, len);
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

/* An extension in OpenSSL's config syntax, issuer's key id from iss. */
static int
ca_add_ext(X509 *x, X509 *iss, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* 128 random bits, positive and not zero (RFC 5280 4.1.2.2). */
static int
ca_set_serial(X509 *x)
{
	unsigned char	 b[16];
	BIGNUM		*bn;
	int		 rc = -1;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		b[0] &= 0x7f;
	} while (b[0] == 0 && b[1] == 0);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return -1;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rc = 0;
	BN_free(bn);
	return rc;
}

static int
ca_set_validity(X509 *x, int64_t nb, int64_t na)
{
	if (ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) == NULL)
		return -1;
	return 0;
}

/* Ed25519 signs without a separate digest. */
static const EVP_MD *
ca_digest(EVP_PKEY *key)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
		return NULL;
	if (EVP_PKEY_get_bits(key) > 384 &&
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)
		return EVP_sha512();
	if (EVP_PKEY_get_bits(key) > 256 &&
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)
		return EVP_sha384();
	return EVP_sha256();
}

static X509 *
ca_make_root(EVP_PKEY *key, const char *trust_domain, unsigned number,
    int64_t now)
{
	X509		*x;
	X509_NAME	*name;
	char		 cn[64];

	if ((x = X509_new()) == NULL)
		return NULL;
	snprintf(cn, sizeof(cn), "meshkit root CA %u", number);
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 || ca_set_serial(x) == -1 ||
	    ca_set_validity(x, now - 3600, now + CA_ROOT_LIFETIME_S) == -1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)trust_domain, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    ca_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ==
	    -1 ||
	    ca_add_ext(x, x, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature") == -1 ||
	    ca_add_ext(x, x, NID_subject_key_identifier, "hash") == -1 ||
	    ca_add_ext(x, x, NID_authority_key_identifier, "keyid:always") ==
	    -1 || X509_sign(x, key, ca_digest(key)) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
ca_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

static void
ca_sort_roots(struct ca *ca)
{
	struct ca_root	 t;
	size_t		 i, j;

	for (i = 1; i < ca->nroots; i++)
		for (j = i; j > 0 && ca->roots[j - 1].number <
		    ca->roots[j].number; j--) {
			t = ca->roots[j];
			ca->roots[j] = ca->roots[j - 1];
			ca->roots[j - 1] = t;
		}
}

static void
ca_drop_root(struct ca *ca, size_t i)
{
	X509_free(ca->roots[i].cert);
	memmove(&ca->roots[i], &ca->roots[i + 1],
	    (ca->nroots - i - 1) * sizeof(ca->roots[0]));
	ca->nroots--;
}

/*
 * A root in force, numbered next; the bundle is full only when every
 * root in it is in force or the last retired one cannot go.
 */
static int
ca_add_root(struct ca *ca, X509 *x, char *err, size_t errlen)
{
	size_t	 i, oldest;

	if (ca->nroots == CA_MAX_ROOTS) {
		oldest = CA_MAX_ROOTS;
		for (i = 0; i < ca->nroots; i++)
			if (ca->roots[i].retire_at != 0 && (oldest ==
			    CA_MAX_ROOTS || ca->roots[i].retire_at <
			    ca->roots[oldest].retire_at))
				oldest = i;
		if (oldest == CA_MAX_ROOTS) {
			snprintf(err, errlen, "more than %d roots in force",
			    CA_MAX_ROOTS);
			return -1;
		}
		ca_drop_root(ca, oldest);
	}
	X509_up_ref(x);
	ca->roots[ca->nroots].cert = x;
	ca->roots[ca->nroots].number = ++ca->root_generation;
	ca->roots[ca->nroots].retire_at = 0;
	ca->nroots++;
	ca_sort_roots(ca);
	return 0;
}

/* A CA key worth signing with. */
static int
ca_key_ok(EVP_PKEY *key, char *err, size_t errlen)
{
	int	 id = EVP_PKEY_get_base_id(key);

	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) < 2048) {
		snprintf(err, errlen, "CA key: RSA of %d bits, want 2048 or "
		    "more", EVP_PKEY_get_bits(key));
		return -1;
	}
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC &&
	    id != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "CA key: want RSA, ECDSA or Ed25519");
		return -1;
	}
	return 0;
}

/*
 * Istio's cacerts: ca-cert.pem signs, ca-key.pem is its key, root-cert.pem
 * the roots, cert-chain.pem the path from ca-cert.pem to a root (roots and
 * ca-cert.pem itself are left out of the chain proxies get).  ca-cert.pem
 * must verify to a root through the chain, now.
 */
static int
ca_plugin_read(const char *dir, int64_t now, X509 **signer, EVP_PKEY **key,
    X509 **chain, size_t *nchain, X509 **roots, size_t *nroots, char *err,
    size_t errlen)
{
	X509		*all[CA_MAX_CHAIN + 2], *tmp[1];
	X509_STORE	*store = NULL;
	X509_STORE_CTX	*vctx = NULL;
	STACK_OF(X509)	*untrusted = NULL;
	char		 path[4096], e[256];
	int		 n, i, rc = -1;
	size_t		 j;

	*signer = NULL;
	*key = NULL;
	*nchain = *nroots = 0;
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	if (ca_read_certs(path, tmp, 1, err, errlen) < 1)
		return -1;
	*signer = tmp[0];
	snprintf(path, sizeof(path), "%s/ca-key.pem", dir);
	if ((*key = ca_read_key(path, err, errlen)) == NULL)
		goto done;
	if (ca_key_ok(*key, err, errlen) == -1)
		goto done;
	if (X509_check_private_key(*signer, *key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s/ca-key.pem is not the key of "
		    "ca-cert.pem", dir);
		goto done;
	}
	if (X509_check_ca(*signer) == 0) {
		snprintf(err, errlen, "%s/ca-cert.pem is not a CA "
		    "certificate", dir);
		goto done;
	}
	snprintf(path, sizeof(path), "%s/root-cert.pem", dir);
	if ((n = ca_read_certs(path, roots, CA_MAX_ROOTS, err, errlen)) < 1)
		goto done;
	*nroots = (size_t)n;
	for (j = 0; j < *nroots; j++)
		if (!ca_self_signed(roots[j])) {
			snprintf(err, errlen, "%s/root-cert.pem: certificate "
			    "%zu is not self-signed", dir, j + 1);
			goto done;
		}
	snprintf(path, sizeof(path), "%s/cert-chain.pem", dir);
	n = ca_read_certs(path, all, nitems(all), e, sizeof(e));
	if (n == -1 && access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s", e);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (X509_cmp(all[i], *signer) == 0 ||
		    ca_self_signed(all[i]) || *nchain == CA_MAX_CHAIN - 1) {
			X509_free(all[i]);
			continue;
		}
		chain[(*nchain)++] = all[i];
	}
	/* a leaf's chain: the signer unless it is a root, then the rest */
	if (!ca_self_signed(*signer)) {
		memmove(&chain[1], &chain[0], *nchain * sizeof(chain[0]));
		X509_up_ref(*signer);
		chain[0] = *signer;
		(*nchain)++;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (vctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (j = 0; j < *nroots; j++)
		X509_STORE_add_cert(store, roots[j]);
	for (j = 0; j < *nchain; j++)
		sk_X509_push(untrusted, chain[j]);
	if (X509_STORE_CTX_init(vctx, store, *signer, untrusted) != 1) {
		ca_ssl_error(err, errlen, "verify");
		goto done;
	}
	X509_STORE_CTX_set_time(vctx, 0, (time_t)now);
	if (X509_verify_cert(vctx) != 1) {
		snprintf(err, errlen, "%s/ca-cert.pem does not verify to "
		    "root-cert.pem through cert-chain.pem: %s", dir,
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(vctx)));
		ERR_clear_error();
		goto done;
	}
	rc = 0;
done:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	if (rc == -1) {
		X509_free(*signer);
		*signer = NULL;
		EVP_PKEY_free(*key);
		*key = NULL;
		for (j = 0; j < *nchain; j++)
			X509_free(chain[j]);
		for (j = 0; j < *nroots; j++)
			X509_free(roots[j]);
		*nchain = *nroots = 0;
	}
	return rc;
}

/*
 * The plug-in material in force (ownership taken): roots no longer in
 * root-cert.pem retire once the leaves they signed have expired, new
 * ones join.  1 when the bundle changed, 0 when not, -1 when it cannot.
 */
static int
ca_plugin_merge(struct ca *ca, X509 *signer, EVP_PKEY *key, X509 **chain,
    size_t nchain, X509 **roots, size_t nroots, int64_t now,
    uint64_t max_lifetime_s, char *err, size_t errlen)
{
	size_t	 i, j;
	int	 changed = 0, rc = 0;

	X509_free(ca->signer);
	EVP_PKEY_free(ca->key);
	for (i = 0; i < ca->nchain; i++)
		X509_free(ca->chain[i]);
	ca->signer = signer;
	ca->key = key;
	memcpy(ca->chain, chain, nchain * sizeof(chain[0]));
	ca->nchain = nchain;
	for (i = 0; i < ca->nroots; i++) {
		for (j = 0; j < nroots; j++)
			if (X509_cmp(ca->roots[i].cert, roots[j]) == 0)
				break;
		if (j < nroots && ca->roots[i].retire_at != 0) {
			ca->roots[i].retire_at = 0;	/* back in force */
			changed = 1;
		} else if (j == nroots && ca->roots[i].retire_at == 0) {
			ca->roots[i].retire_at = now + (int64_t)max_lifetime_s +
			    CA_BACKDATE_S;
			changed = 1;
		}
	}
	for (j = 0; j < nroots; j++) {
		for (i = 0; i < ca->nroots; i++)
			if (X509_cmp(ca->roots[i].cert, roots[j]) == 0)
				break;
		if (i == ca->nroots && rc == 0) {
			if (ca_add_root(ca, roots[j], err, errlen) == -1)
				rc = -1;
			else
				changed = 1;
		}
		X509_free(roots[j]);
	}
	if (changed)
		ca->bundle_generation++;
	return rc == -1 ? -1 : changed;
}

struct ca *
ca_open(const char *state_dir, const char *cacerts_dir,
    const char *trust_domain, int64_t now, uint64_t max_lifetime_s,
    int readonly, char *err, size_t errlen)
{
	struct ca	*ca;
	X509		*signer, *chain[CA_MAX_CHAIN], *roots[CA_MAX_ROOTS];
	EVP_PKEY	*key;
	size_t		 nchain, nroots, i;
	int		 changed = 0, rc;

	ca = xcalloc(1, sizeof(*ca));
	ca->state_dir = xstrdup(state_dir);
	ca->cacerts_dir = cacerts_dir != NULL ? xstrdup(cacerts_dir) : NULL;
	ca->readonly = readonly;
	if (!readonly && mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
		goto fail;
	}
	if (ca_state_load(ca, err, errlen) == -1)
		goto fail;
	if (cacerts_dir != NULL) {
		if (ca_plugin_read(cacerts_dir, now, &signer, &key, chain,
		    &nchain, roots, &nroots, err, errlen) == -1)
			goto fail;
		if ((rc = ca_plugin_merge(ca, signer, key, chain, nchain,
		    roots, nroots, now, max_lifetime_s, err, errlen)) == -1)
			goto fail;
		changed = rc;
	} else {
		/* the self-signed root in force; its key is in the state */
		for (i = 0; i < ca->nroots; i++)
			if (ca->roots[i].retire_at == 0 && ca->key != NULL &&
			    X509_check_private_key(ca->roots[i].cert,
			    ca->key) == 1)
				break;
		ERR_clear_error();
		if (i < ca->nroots) {
			X509_up_ref(ca->roots[i].cert);
			ca->signer = ca->roots[i].cert;
		} else {
			if (readonly) {
				snprintf(err, errlen, "%s holds no root CA",
				    state_dir);
				goto fail;
			}
			if (ca_rotate(ca, trust_domain, now, max_lifetime_s,
			    err, errlen) == -1)
				goto fail;
			return ca;	/* saved */
		}
	}
	if (changed && !readonly && ca_state_save(ca, err, errlen) == -1)
		goto fail;
	return ca;
fail:
	ca_free(ca);
	return NULL;
}

void
ca_free(struct ca *ca)
{
	size_t	 i;

	if (ca == NULL)
		return;
	X509_free(ca->signer);
	EVP_PKEY_free(ca->key);
	for (i = 0; i < ca->nchain; i++)
		X509_free(ca->chain[i]);
	for (i = 0; i < ca->nroots; i++)
		X509_free(ca->roots[i].cert);
	free(ca->state_dir);
	free(ca->cacerts_dir);
	free(ca);
}

int
ca_rotate(struct ca *ca, const char *trust_domain, int64_t now,
    uint64_t max_lifetime_s, char *err, size_t errlen)
{
	EVP_PKEY	*key;
	X509		*root;
	size_t		 i;

	if (ca->cacerts_dir != NULL) {
		snprintf(err, errlen, "a plug-in CA rotates when its files "
		    "change (then SIGHUP)");
		return -1;
	}
	if (ca->readonly) {
		snprintf(err, errlen, "read-only state directory");
		return -1;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		ca_ssl_error(err, errlen, "root key");
		return -1;
	}
	if ((root = ca_make_root(key, trust_domain, ca->root_generation + 1,
	    now)) == NULL) {
		ca_ssl_error(err, errlen, "root certificate");
		EVP_PKEY_free(key);
		return -1;
	}
	/* retire first, so a full bundle makes room for the new root */
	for (i = 0; i < ca->nroots; i++)
		if (ca->roots[i].retire_at == 0)
			ca->roots[i].retire_at = now +
			    (int64_t)max_lifetime_s + CA_BACKDATE_S;
	if (ca_add_root(ca, root, err, errlen) == -1) {
		X509_free(root);
		EVP_PKEY_free(key);
		return -1;
	}
	X509_free(ca->signer);
	EVP_PKEY_free(ca->key);
	ca->signer = root;	/* the reference ca_add_root did not take */
	ca->key = key;
	ca->bundle_generation++;
	return ca_state_save(ca, err, errlen);
}

int
ca_reload(struct ca *ca, int64_t now, uint64_t max_lifetime_s, char *err,
    size_t errlen)
{
	X509		*signer, *chain[CA_MAX_CHAIN], *roots[CA_MAX_ROOTS];
	EVP_PKEY	*key;
	size_t		 nchain, nroots;
	int		 rc;

	if (ca->cacerts_dir == NULL)
		return 0;
	if (ca_plugin_read(ca->cacerts_dir, now, &signer, &key, chain,
	    &nchain, roots, &nroots, err, errlen) == -1)
		return -1;
	if ((rc = ca_plugin_merge(ca, signer, key, chain, nchain, roots,
	    nroots, now, max_lifetime_s, err, errlen)) == -1)
		return -1;
	if (rc == 1 && !ca->readonly && ca_state_save(ca, err, errlen) == -1)
		return -1;
	return rc;
}

int
ca_advance(struct ca *ca, const char *trust_domain, int64_t now,
    uint64_t max_lifetime_s, int64_t *next, char *err, size_t errlen)
{
	int64_t	 nb, na, due;
	size_t	 i;
	int	 changed = 0;

	*next = 0;
	for (i = 0; i < ca->nroots; ) {
		if (ca->roots[i].retire_at != 0 &&
		    ca->roots[i].retire_at <= now) {
			ca_drop_root(ca, i);
			changed = 1;
			continue;
		}
		if (ca->roots[i].retire_at != 0 && (*next == 0 ||
		    ca->roots[i].retire_at < *next))
			*next = ca->roots[i].retire_at;
		i++;
	}
	if (changed)
		ca->bundle_generation++;
	if (ca->cacerts_dir == NULL && !ca->readonly && ca->signer != NULL) {
		nb = ca_asn1_seconds(X509_get0_notBefore(ca->signer));
		na = ca_asn1_seconds(X509_get0_notAfter(ca->signer));
		due = na - (na - nb) / 100 * CA_ROOT_ROTATE_PERCENT;
		if (nb != INT64_MIN && na != INT64_MIN && now >= due) {
			if (ca_rotate(ca, trust_domain, now, max_lifetime_s,
			    err, errlen) == -1)
				return -1;
			return 1;
		}
		if (nb != INT64_MIN && na != INT64_MIN && (*next == 0 ||
		    due < *next))
			*next = due;
	}
	if (changed && !ca->readonly && ca_state_save(ca, err, errlen) == -1)
		return -1;
	return changed;
}

X509_REQ *
ca_csr_read(const unsigned char *der, size_t len, char *err, size_t errlen)
{
	const unsigned char	*p = der;
	X509_REQ		*req;
	EVP_PKEY		*key;
	char			 group[64];
	int			 id, bits, mdnid = NID_undef, pknid = NID_undef;

	if (len > CA_CSR_MAX_BYTES) {
		snprintf(err, errlen, "CSR of %zu bytes: at most %d", len,
		    CA_CSR_MAX_BYTES);
		return NULL;
	}
	if (len == 0 || (req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "not a PKCS#10 CSR in DER");
		return NULL;
	}
	if (p != der + len) {
		snprintf(err, errlen, "bytes after the CSR");
		goto bad;
	}
	if ((key = X509_REQ_get0_pubkey(req)) == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "CSR's public key unreadable");
		goto bad;
	}
	id = EVP_PKEY_get_base_id(key);
	bits = EVP_PKEY_get_bits(key);
	if (id == EVP_PKEY_RSA) {
		if (bits < 2048 || bits > 8192) {
			snprintf(err, errlen, "RSA key of %d bits: want 2048 "
			    "to 8192", bits);
			goto bad;
		}
	} else if (id == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) !=
		    1) {
			ERR_clear_error();
			snprintf(err, errlen, "EC key on an unnamed curve");
			goto bad;
		}
		if (strcmp(group, "prime256v1") != 0 &&
		    strcmp(group, "secp384r1") != 0 &&
		    strcmp(group, "secp521r1") != 0) {
			snprintf(err, errlen, "EC key on curve %s: want P-256, "
			    "P-384 or P-521", group);
			goto bad;
		}
	} else if (id != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "key type %s: want ECDSA, Ed25519 or "
		    "RSA", OBJ_nid2sn(id));
		goto bad;
	}
	if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &mdnid,
	    &pknid) != 1 || (mdnid != NID_sha256 && mdnid != NID_sha384 &&
	    mdnid != NID_sha512 && !(mdnid == NID_undef &&
	    pknid == NID_ED25519))) {
		snprintf(err, errlen, "CSR signed with %s: want SHA-256 or "
		    "stronger", OBJ_nid2sn(X509_REQ_get_signature_nid(req)));
		goto bad;
	}
	if (X509_REQ_verify(req, key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "CSR's signature does not verify with "
		    "its own key");
		goto bad;
	}
	return req;
bad:
	X509_REQ_free(req);
	return NULL;
}

int
ca_csr_identity(X509_REQ *req, char *uri, size_t len, char *err,
    size_t errlen)
{
	STACK_OF(X509_EXTENSION)	*exts;
	GENERAL_NAMES			*names = NULL;
	const GENERAL_NAME		*gn;
	const unsigned char		*d;
	int				 n, i, rc = -1, found = 0;

	uri[0] = '\0';
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "CSR asks for no identity: want a URI "
		    "subjectAltName spiffe://...");
		return -1;
	}
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);

		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) !=
		    NID_subject_alt_name)
			continue;
		if (found++ > 0 || (names = X509V3_EXT_d2i(ext)) == NULL) {
			snprintf(err, errlen, "CSR's subjectAltName is "
			    "unreadable or repeated");
			goto done;
		}
	}
	if (names == NULL) {
		snprintf(err, errlen, "CSR asks for no identity: want a URI "
		    "subjectAltName spiffe://...");
		goto done;
	}
	if ((n = sk_GENERAL_NAME_num(names)) != 1) {
		snprintf(err, errlen, "CSR asks for %d names: want one, the "
		    "SPIFFE URI", n);
		goto done;
	}
	gn = sk_GENERAL_NAME_value(names, 0);
	if (gn->type != GEN_URI) {
		snprintf(err, errlen, "CSR asks for a name that is not a URI: "
		    "want the SPIFFE URI only");
		goto done;
	}
	n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	d = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	if (n <= 0 || (size_t)n >= len || memchr(d, '\0', (size_t)n) !=
	    NULL) {
		snprintf(err, errlen, "CSR's URI is empty, too long or holds "
		    "a NUL");
		goto done;
	}
	memcpy(uri, d, (size_t)n);
	uri[n] = '\0';
	rc = 0;
done:
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}

X509 *
ca_sign(struct ca *ca, X509_REQ *req, const char *spiffe_id, int64_t now,
    uint64_t lifetime_s, char *err, size_t errlen)
{
	X509		*x;
	EVP_PKEY	*key;
	char		 san[SPIFFE_ID_MAX + 32];
	int64_t		 nb, na, ca_na, ca_nb;
	int		 rsa;

	if (ca->signer == NULL || ca->key == NULL) {
		snprintf(err, errlen, "no CA key");
		return NULL;
	}
	if ((key = X509_REQ_get0_pubkey(req)) == NULL) {
		ca_ssl_error(err, errlen, "CSR key");
		return NULL;
	}
	rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	ca_nb = ca_asn1_seconds(X509_get0_notBefore(ca->signer));
	ca_na = ca_asn1_seconds(X509_get0_notAfter(ca->signer));
	nb = now - CA_BACKDATE_S;
	na = now + (int64_t)lifetime_s;
	if (ca_nb != INT64_MIN && nb < ca_nb)
		nb = ca_nb;
	if (ca_na != INT64_MIN && na > ca_na)
		na = ca_na;
	if (na <= now) {
		snprintf(err, errlen, "the CA certificate has expired");
		return NULL;
	}
	snprintf(san, sizeof(san), "critical,URI:%s", spiffe_id);
	if ((x = X509_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (X509_set_version(x, 2) != 1 || ca_set_serial(x) == -1 ||
	    ca_set_validity(x, nb, na) == -1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->signer)) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    ca_add_ext(x, ca->signer, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    ca_add_ext(x, ca->signer, NID_key_usage, rsa ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature") == -1 ||
	    ca_add_ext(x, ca->signer, NID_ext_key_usage,
	    "serverAuth,clientAuth") == -1 ||
	    (X509_get0_subject_key_id(ca->signer) != NULL &&
	    ca_add_ext(x, ca->signer, NID_authority_key_identifier,
	    "keyid") == -1) ||
	    ca_add_ext(x, ca->signer, NID_subject_alt_name, san) == -1 ||
	    X509_sign(x, ca->key, ca_digest(ca->key)) == 0) {
		ca_ssl_error(err, errlen, "signing");
		X509_free(x);
		return NULL;
	}
	return x;
}

size_t
ca_base64_len(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

void
ca_base64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i;
	uint32_t		 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

long
ca_base64_decode(const char *in, size_t n, unsigned char *out,
    size_t outlen)
{
	size_t		 i, o = 0, pad = 0;
	uint32_t	 v = 0;
	int		 c, d, k;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			d = c - 'A';
		else if (c >= 'a' && c <= 'z')
			d = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			d = c - '0' + 52;
		else if (c == '+')
			d = 62;
		else if (c == '/')
			d = 63;
		else if (c == '=' && i + 2 >= n && (i + 1 == n ||
		    in[i + 1] == '=')) {
			d = 0;
			pad++;
		} else
			return -1;
		if (pad > 0 && c != '=')
			return -1;
		v = v << 6 | (uint32_t)d;
		if (i % 4 == 3) {
			for (k = 2; k >= (int)pad; k--) {
				if (o == outlen)
					return -1;
				out[o++] = (unsigned char)(v >> (8 * k));
			}
			/* the bits padding hides must be zero */
			if ((pad == 1 && (v & 0xff) != 0) ||
			    (pad == 2 && (v & 0xffff) != 0))
				return -1;
			v = 0;
		}
	}
	return (long)o;
}
