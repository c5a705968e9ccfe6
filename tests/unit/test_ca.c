/* SPDX-License-Identifier: ISC */
/*
 * lib/ca.c, ca_state.c, ca_wire.c: the mesh CA.  Roots in a temporary
 * state directory, CSRs made in memory, nothing on the network.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "config.h"
#include "helpers.h"
#include "msg.h"
#include "tls.h"
#include "util.h"

#define NOW	1800000000LL	/* 2027-01-15 */
#define DAY	(24 * 3600)

static const char proxies_yaml[] =
    "apiVersion: meshkit.io/v1alpha1\n"
    "kind: Proxy\n"
    "metadata: {name: book}\n"
    "spec:\n"
    "  workload: {name: book, serviceAccount: bookinfo-book}\n"
    "---\n"
    "apiVersion: meshkit.io/v1alpha1\n"
    "kind: Proxy\n"
    "metadata: {name: rating, namespace: shop}\n"
    "spec:\n"
    "  workload: {name: rating-v1, uid: 4242}\n";

/* DER of a CSR for key asking for the given SAN (config syntax). */
static size_t
csr_der(EVP_PKEY *key, const char *san, const EVP_MD *md,
    unsigned char *out, size_t outlen)
{
	X509_REQ			*req = X509_REQ_new();
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION			*ext;
	X509V3_CTX			 ctx;
	unsigned char			*der = NULL;
	int				 n;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (san != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
		    san);
		assert_non_null(ext);
		sk_X509_EXTENSION_push(exts, ext);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	}
	assert_true(X509_REQ_sign(req, key, md) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0 && (size_t)n <= outlen);
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return (size_t)n;
}

static int
verifies(X509 *leaf, X509 *const *roots, size_t nroots, X509 *const *chain,
    size_t nchain, int64_t now)
{
	X509_STORE	*store = X509_STORE_new();
	X509_STORE_CTX	*vctx = X509_STORE_CTX_new();
	STACK_OF(X509)	*sk = sk_X509_new_null();
	size_t		 i;
	int		 rc;

	for (i = 0; i < nroots; i++)
		X509_STORE_add_cert(store, roots[i]);
	for (i = 0; i < nchain; i++)
		sk_X509_push(sk, chain[i]);
	X509_STORE_CTX_init(vctx, store, leaf, sk);
	X509_STORE_CTX_set_time(vctx, 0, (time_t)now);
	rc = X509_verify_cert(vctx);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	sk_X509_free(sk);
	ERR_clear_error();
	return rc == 1;
}

static void
test_base64(void **state)
{
	unsigned char	 out[16];
	char		 enc[32];
	const char	*cases[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	size_t		 i;
	long		 n;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		ca_base64_encode((const unsigned char *)cases[i][0],
		    strlen(cases[i][0]), enc);
		assert_string_equal(enc, cases[i][1]);
		n = ca_base64_decode(enc, strlen(enc), out, sizeof(out));
		assert_int_equal(n, (long)strlen(cases[i][0]));
		assert_memory_equal(out, cases[i][0], (size_t)n);
	}
	assert_int_equal(ca_base64_decode("Zg=", 3, out, sizeof(out)), -1);
	assert_int_equal(ca_base64_decode("Zh==", 4, out, sizeof(out)), -1);
	assert_int_equal(ca_base64_decode("Z===", 4, out, sizeof(out)), -1);
	assert_int_equal(ca_base64_decode("Zg==Zg==", 8, out, sizeof(out)),
	    -1);
	assert_int_equal(ca_base64_decode("Zm 9", 4, out, sizeof(out)), -1);
	assert_int_equal(ca_base64_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(ca_base64_len(6), 9);
}

/* A new root: files and modes; a second open keeps it. */
static void
test_self_signed(void **state)
{
	struct stat	 sb;
	struct ca	*ca, *again;
	char		*dir = tmpdir("ca"), path[512], err[256];

	(void)state;
	rmdir(dir);	/* ca_open makes it, 0700 */
	ca = ca_open(dir, NULL, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	assert_non_null(ca);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/root-1-key.pem", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(ca->nroots, 1);
	assert_int_equal(ca->root_generation, 1);
	assert_int_equal(ca->bundle_generation, 1);
	assert_int_equal(EVP_PKEY_get_base_id(ca->key), EVP_PKEY_EC);
	assert_int_equal(X509_check_ca(ca->signer), 1);
	assert_true(verifies(ca->signer, &ca->signer, 1, NULL, 0, NOW));

	again = ca_open(dir, NULL, "cluster.local", NOW + 100, DAY, 0, err,
	    sizeof(err));
	assert_non_null(again);
	assert_int_equal(X509_cmp(again->signer, ca->signer), 0);
	assert_int_equal(again->bundle_generation, 1);
	ca_free(again);

	/* a key others can read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	again = ca_open(dir, NULL, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	assert_null(again);
	assert_non_null(strstr(err, "readable by others"));
	ca_free(ca);
	rmtree(dir);
	free(dir);
}

static void
test_csr_checks(void **state)
{
	unsigned char	 der[CA_CSR_MAX_BYTES + 64];
	char		 err[256], uri[512];
	EVP_PKEY	*p256 = EVP_EC_gen("P-256"), *p192, *rsa512, *rsa2048;
	X509_REQ	*req;
	size_t		 n;

	(void)state;
	p192 = EVP_EC_gen("prime192v1");
	rsa512 = EVP_RSA_gen(512);
	rsa2048 = EVP_RSA_gen(2048);
	assert_non_null(p192);
	assert_non_null(rsa512);

	n = csr_der(p256, "URI:spiffe://cluster.local/ns/default/sa/a",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	assert_non_null(req);
	assert_int_equal(ca_csr_identity(req, uri, sizeof(uri), err,
	    sizeof(err)), 0);
	assert_string_equal(uri, "spiffe://cluster.local/ns/default/sa/a");
	X509_REQ_free(req);

	n = csr_der(rsa2048, "URI:spiffe://cluster.local/ns/default/sa/a",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	assert_non_null(req);
	X509_REQ_free(req);

	/* weak keys, a weak digest */
	n = csr_der(rsa512, "URI:spiffe://x/ns/a/sa/b", EVP_sha256(), der,
	    sizeof(der));
	assert_null(ca_csr_read(der, n, err, sizeof(err)));
	assert_non_null(strstr(err, "RSA key of 512 bits"));
	n = csr_der(p192, "URI:spiffe://x/ns/a/sa/b", EVP_sha256(), der,
	    sizeof(der));
	assert_null(ca_csr_read(der, n, err, sizeof(err)));
	assert_non_null(strstr(err, "prime192v1"));
	n = csr_der(p256, "URI:spiffe://x/ns/a/sa/b", EVP_sha1(), der,
	    sizeof(der));
	assert_null(ca_csr_read(der, n, err, sizeof(err)));
	assert_non_null(strstr(err, "SHA-256"));

	/* a signature that does not verify */
	n = csr_der(p256, "URI:spiffe://x/ns/a/sa/b", EVP_sha256(), der,
	    sizeof(der));
	der[n - 5] ^= 0x55;
	assert_null(ca_csr_read(der, n, err, sizeof(err)));
	/* garbage, truncated, trailing bytes, oversized */
	assert_null(ca_csr_read((const unsigned char *)"hello", 5, err,
	    sizeof(err)));
	n = csr_der(p256, "URI:spiffe://x/ns/a/sa/b", EVP_sha256(), der,
	    sizeof(der));
	assert_null(ca_csr_read(der, n - 1, err, sizeof(err)));
	der[n] = 0;
	assert_null(ca_csr_read(der, n + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "after"));
	assert_null(ca_csr_read(der, CA_CSR_MAX_BYTES + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "at most"));

	/* names: none, two, a DNS name */
	n = csr_der(p256, NULL, EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	assert_non_null(req);
	assert_int_equal(ca_csr_identity(req, uri, sizeof(uri), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no identity"));
	X509_REQ_free(req);
	n = csr_der(p256, "URI:spiffe://x/ns/a/sa/b,URI:spiffe://x/ns/a/sa/c",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	assert_int_equal(ca_csr_identity(req, uri, sizeof(uri), err,
	    sizeof(err)), -1);
	X509_REQ_free(req);
	n = csr_der(p256, "DNS:book.default.svc", EVP_sha256(), der,
	    sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	assert_int_equal(ca_csr_identity(req, uri, sizeof(uri), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not a URI"));
	X509_REQ_free(req);

	EVP_PKEY_free(p256);
	EVP_PKEY_free(p192);
	EVP_PKEY_free(rsa512);
	EVP_PKEY_free(rsa2048);
}

/* A leaf: its fields, and that it verifies to the root. */
static void
test_sign(void **state)
{
	unsigned char	 der[4096];
	char		*dir = tmpdir("ca"), err[256], id[512], serial[80];
	struct ca	*ca;
	EVP_PKEY	*key = EVP_EC_gen("P-256");
	X509_REQ	*req;
	X509		*x;
	size_t		 n;
	int		 crit = -1;
	ASN1_OCTET_STRING *dummy;

	(void)state;
	ca = ca_open(dir, NULL, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	assert_non_null(ca);
	n = csr_der(key, "URI:spiffe://cluster.local/ns/default/sa/book",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	x = ca_sign(ca, req, "spiffe://cluster.local/ns/default/sa/book", NOW,
	    3600, err, sizeof(err));
	assert_non_null(x);
	assert_true(verifies(x, &ca->signer, 1, NULL, 0, NOW));
	assert_false(verifies(x, &ca->signer, 1, NULL, 0, NOW + 3601));
	assert_int_equal(ca_asn1_seconds(X509_get0_notBefore(x)),
	    NOW - CA_BACKDATE_S);
	assert_int_equal(ca_asn1_seconds(X509_get0_notAfter(x)), NOW + 3600);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	assert_int_equal(tls_cert_spiffe_id(x, id, sizeof(id)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/default/sa/book");
	dummy = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	GENERAL_NAMES_free((GENERAL_NAMES *)dummy);
	assert_int_equal(crit, 1);
	assert_int_equal(X509_check_ca(x), 0);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	ca_serial_hex(x, serial, sizeof(serial));
	assert_true(strlen(serial) >= 20);
	X509_free(x);
	/* the lifetime stops at the CA's end */
	x = ca_sign(ca, req, "spiffe://cluster.local/ns/default/sa/book",
	    NOW + CA_ROOT_LIFETIME_S - 100, 3600, err, sizeof(err));
	assert_non_null(x);
	assert_int_equal(ca_asn1_seconds(X509_get0_notAfter(x)),
	    ca_asn1_seconds(X509_get0_notAfter(ca->signer)));
	X509_free(x);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ca_free(ca);
	rmtree(dir);
	free(dir);
}

static int
count_files(const char *dir, const char *prefix)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Rotation: both roots in the bundle until the old one's leaves end. */
static void
test_rotate(void **state)
{
	unsigned char	 der[4096];
	char		*dir = tmpdir("ca"), err[256];
	struct ca	*ca, *again;
	EVP_PKEY	*key = EVP_EC_gen("P-256");
	X509_REQ	*req;
	X509		*old_leaf, *new_leaf, *old_root;
	X509		*bundle[CA_MAX_ROOTS];
	int64_t		 next;
	size_t		 n, i;

	(void)state;
	ca = ca_open(dir, NULL, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	n = csr_der(key, "URI:spiffe://cluster.local/ns/default/sa/a",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	old_leaf = ca_sign(ca, req, "spiffe://cluster.local/ns/default/sa/a",
	    NOW, 3600, err, sizeof(err));
	old_root = ca->signer;
	X509_up_ref(old_root);
	assert_int_equal(ca_rotate(ca, "cluster.local", NOW + 10, 3600, err,
	    sizeof(err)), 0);
	assert_int_equal(ca->root_generation, 2);
	assert_int_equal(ca->bundle_generation, 2);
	assert_int_equal(ca->nroots, 2);
	assert_int_equal(ca->roots[0].number, 2);	/* newest first */
	assert_int_equal(ca->roots[0].retire_at, 0);
	assert_int_equal(ca->roots[1].retire_at, NOW + 10 + 3600 +
	    CA_BACKDATE_S);
	assert_int_not_equal(X509_cmp(ca->signer, old_root), 0);
	new_leaf = ca_sign(ca, req, "spiffe://cluster.local/ns/default/sa/a",
	    NOW + 10, 3600, err, sizeof(err));
	for (i = 0; i < ca->nroots; i++)
		bundle[i] = ca->roots[i].cert;
	/* both leaves verify against the bundle of the overlap */
	assert_true(verifies(old_leaf, bundle, ca->nroots, NULL, 0, NOW + 20));
	assert_true(verifies(new_leaf, bundle, ca->nroots, NULL, 0, NOW + 20));
	assert_false(verifies(new_leaf, &old_root, 1, NULL, 0, NOW + 20));
	/* the old key is gone from the disk, its root not yet */
	assert_int_equal(count_files(dir, "root-1-key"), 0);
	assert_int_equal(count_files(dir, "root-1.pem"), 1);

	/* a restart in the overlap keeps both, and signs with the new */
	again = ca_open(dir, NULL, "cluster.local", NOW + 30, 3600, 0, err,
	    sizeof(err));
	assert_non_null(again);
	assert_int_equal(again->nroots, 2);
	assert_int_equal(X509_cmp(again->signer, ca->signer), 0);
	assert_int_equal(ca_advance(again, "cluster.local", NOW + 40, 3600,
	    &next, err, sizeof(err)), 0);
	assert_int_equal(next, NOW + 10 + 3600 + CA_BACKDATE_S);
	/* past it, the old root leaves */
	assert_int_equal(ca_advance(again, "cluster.local", next, 3600, &next,
	    err, sizeof(err)), 1);
	assert_int_equal(again->nroots, 1);
	assert_int_equal(again->bundle_generation, 3);
	assert_int_equal(count_files(dir, "root-1"), 0);
	ca_free(again);

	X509_free(old_root);
	X509_free(old_leaf);
	X509_free(new_leaf);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ca_free(ca);
	rmtree(dir);
	free(dir);
}

/* Writes PEM of x to dir/name (appending). */
static void
pem_append(const char *dir, const char *name, X509 *x, EVP_PKEY *key)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "a"));
	if (x != NULL)
		assert_int_equal(PEM_write_X509(f, x), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	fclose(f);
	if (key != NULL)
		chmod(path, 0600);
}

/* An intermediate signed by a root of its own, as the cacerts hold. */
static X509 *
make_intermediate(X509 *root, EVP_PKEY *root_key, EVP_PKEY *key)
{
	X509		*x = X509_new();
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 77);
	ASN1_TIME_set(X509_getm_notBefore(x), NOW - DAY);
	ASN1_TIME_set(X509_getm_notAfter(x), NOW + 365 * DAY);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)"intermediate", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(root));
	X509_set_pubkey(x, key);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, root, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
	    "critical,keyCertSign,cRLSign");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, root_key, EVP_sha256()) > 0);
	return x;
}

/* Istio's cacerts: an intermediate signs, its chain goes with leaves. */
static void
test_plugin(void **state)
{
	unsigned char	 der[4096];
	char		*rootdir = tmpdir("ca"), *cacerts = tmpdir("ca");
	char		*dir = tmpdir("ca"), err[256], path[512];
	struct ca	*root_ca, *ca, *other;
	EVP_PKEY	*ikey = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	X509		*inter, *leaf;
	X509_REQ	*req;
	uint64_t	 gen;
	size_t		 n;

	(void)state;
	root_ca = ca_open(rootdir, NULL, "example.org", NOW, DAY, 0, err,
	    sizeof(err));
	inter = make_intermediate(root_ca->signer, root_ca->key, ikey);
	pem_append(cacerts, "ca-cert.pem", inter, NULL);
	pem_append(cacerts, "ca-key.pem", NULL, ikey);
	pem_append(cacerts, "root-cert.pem", root_ca->signer, NULL);
	pem_append(cacerts, "cert-chain.pem", inter, NULL);
	pem_append(cacerts, "cert-chain.pem", root_ca->signer, NULL);

	ca = ca_open(dir, cacerts, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	assert_non_null(ca);
	assert_int_equal(ca->nchain, 1);
	assert_int_equal(X509_cmp(ca->chain[0], inter), 0);
	assert_int_equal(ca->nroots, 1);
	assert_int_equal(X509_cmp(ca->roots[0].cert, root_ca->signer), 0);
	n = csr_der(key, "URI:spiffe://cluster.local/ns/default/sa/a",
	    EVP_sha256(), der, sizeof(der));
	req = ca_csr_read(der, n, err, sizeof(err));
	leaf = ca_sign(ca, req, "spiffe://cluster.local/ns/default/sa/a", NOW,
	    3600, err, sizeof(err));
	if (leaf == NULL)
		fprintf(stderr, "ca_sign: %s\n", err);
	assert_non_null(leaf);
	assert_true(verifies(leaf, &root_ca->signer, 1, ca->chain, ca->nchain,
	    NOW));
	assert_false(verifies(leaf, &root_ca->signer, 1, NULL, 0, NOW));
	/* the CA key is nowhere in the state directory */
	assert_int_equal(count_files(dir, "root-1-key"), 0);
	assert_int_equal(ca_reload(ca, NOW, DAY, err, sizeof(err)), 0);

	/* a new root in the files rotates on reload */
	gen = ca->bundle_generation;
	other = ca_open(cacerts, NULL, "other", NOW, DAY, 0, err,
	    sizeof(err));
	snprintf(path, sizeof(path), "%s/root-cert.pem", cacerts);
	unlink(path);
	pem_append(cacerts, "root-cert.pem", other->signer, NULL);
	/* ... but ca-cert.pem does not verify to it: refused, kept */
	assert_int_equal(ca_reload(ca, NOW, DAY, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not verify"));
	assert_int_equal(ca->bundle_generation, gen);
	snprintf(path, sizeof(path), "%s/ca-cert.pem", cacerts);
	unlink(path);
	pem_append(cacerts, "ca-cert.pem", other->signer, NULL);
	snprintf(path, sizeof(path), "%s/ca-key.pem", cacerts);
	unlink(path);
	pem_append(cacerts, "ca-key.pem", NULL, other->key);
	snprintf(path, sizeof(path), "%s/cert-chain.pem", cacerts);
	unlink(path);
	assert_int_equal(ca_reload(ca, NOW + 5, DAY, err, sizeof(err)), 1);
	assert_int_equal(ca->bundle_generation, gen + 1);
	assert_int_equal(ca->nroots, 2);
	assert_int_equal(ca->nchain, 0);
	assert_int_equal(X509_cmp(ca->roots[0].cert, other->signer), 0);
	assert_int_equal(ca->roots[1].retire_at, NOW + 5 + DAY +
	    CA_BACKDATE_S);

	/* a key that is not ca-cert.pem's */
	snprintf(path, sizeof(path), "%s/ca-key.pem", cacerts);
	unlink(path);
	pem_append(cacerts, "ca-key.pem", NULL, key);
	assert_int_equal(ca_reload(ca, NOW + 5, DAY, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not the key"));

	ca_free(other);
	X509_free(leaf);
	X509_REQ_free(req);
	X509_free(inter);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(key);
	ca_free(ca);
	ca_free(root_ca);
	rmtree(rootdir);
	rmtree(cacerts);
	rmtree(dir);
	free(rootdir);
	free(cacerts);
	free(dir);
}

static void
test_entitled(void **state)
{
	struct config	*cfg = must_load(proxies_yaml);
	struct ca_peer	 peer = { 0 };
	char		 id[512], err[256];

	(void)state;
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("book"), STR_LIT("default"), &peer, id, sizeof(id), err,
	    sizeof(err)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/default/sa/"
	    "bookinfo-book");
	assert_int_equal(ca_entitled(cfg, "example.org", STR_LIT("book"),
	    STR_LIT("book"), STR_LIT("default"), &peer, id, sizeof(id), err,
	    sizeof(err)), 0);
	assert_string_equal(id, "spiffe://example.org/ns/default/sa/"
	    "bookinfo-book");
	/* the wrong namespace, an unknown workload */
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("book"), STR_LIT("shop"), &peer, id, sizeof(id), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no Proxy resource"));
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("nobody"), STR_LIT("default"), &peer, id, sizeof(id), err,
	    sizeof(err)), -1);
	/* a uid: only that peer */
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("rating-v1"), STR_LIT("shop"), &peer, id, sizeof(id), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "uid is unknown"));
	peer.known = 1;
	peer.uid = 1000;
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("rating-v1"), STR_LIT("shop"), &peer, id, sizeof(id), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "4242"));
	peer.uid = 4242;
	assert_int_equal(ca_entitled(cfg, "cluster.local", STR_LIT(""),
	    STR_LIT("rating-v1"), STR_LIT("shop"), &peer, id, sizeof(id), err,
	    sizeof(err)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/shop/sa/default");
	config_free(cfg);
}

/* The fields tls-d reads: MeshConfig's and the Proxy's, and their errors. */
static void
test_config_fields(void **state)
{
	static const char *const bad[][2] = {
		{ "kind: MeshConfig\nspec: {trustDomain: Cluster.Local}",
		    "trustDomain must be" },
		{ "kind: MeshConfig\nspec: {workloadCertTtl: 1s}",
		    "workloadCertTtl must be" },
		{ "kind: MeshConfig\nspec: {workloadCertTtl: 2200h}",
		    "workloadCertTtl must be" },
		{ "kind: Proxy\nspec: {workload: {serviceAccount: a/b}}",
		    "serviceAccount" },
		{ "kind: Proxy\nspec: {workload: {uid: -1}}", "uid" },
		{ "kind: Proxy\nspec: {workload: {uid: 4294967295}}", "uid" },
	};
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			 yaml[512];
	size_t			 i;

	(void)state;
	cfg = must_load("apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata: {name: p}\nspec: {}\n");
	assert_string_equal(config_trust_domain(cfg), "cluster.local");
	assert_int_equal(config_workload_cert_ttl(cfg), 24 * 3600);
	assert_string_equal(cfg->proxies[0].service_account, "default");
	assert_int_equal(cfg->proxies[0].uid, -1);
	config_free(cfg);
	assert_string_equal(config_trust_domain(NULL), "cluster.local");
	cfg = must_load("apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: m}\nspec: {trustDomain: example.org, "
	    "workloadCertTtl: 90m}\n");
	assert_string_equal(config_trust_domain(cfg), "example.org");
	assert_int_equal(config_workload_cert_ttl(cfg), 5400);
	config_free(cfg);
	for (i = 0; i < nitems(bad); i++) {
		snprintf(yaml, sizeof(yaml), "apiVersion: meshkit.io/v1alpha1\n"
		    "metadata: {name: x}\n%s\n", bad[i][0]);
		memset(&errs, 0, sizeof(errs));
		cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
		assert_null(cfg);
		assert_true(errs.n > 0);
		assert_non_null(strstr(errs.v[0].message, bad[i][1]));
		cfg_errors_fini(&errs);
	}
}

static void
warn_count(void *arg, const char *who, const char *what)
{
	(*(int *)arg)++;
}

/* The messages: a CSR answered, its reply read back; refusals. */
static void
test_messages(void **state)
{
	struct config		*cfg = must_load(proxies_yaml);
	struct msg_writer	 in, out;
	struct ca_stats		 st = { 0 };
	struct ca_env		 env;
	struct ca_answer	 a;
	struct msg		 m;
	struct ca		*ca;
	EVP_PKEY		*key = tls_key_new();
	char			*dir = tmpdir("ca"), err[256], *csr, *other;
	int			 warned = 0;

	(void)state;
	ca = ca_open(dir, NULL, "cluster.local", NOW, DAY, 0, err,
	    sizeof(err));
	memset(&env, 0, sizeof(env));
	env.config = cfg;
	env.generation = 7;
	env.now = NOW;
	env.trust_domain = "cluster.local";
	env.lifetime_s = 3600;
	env.record = 1;
	env.jitter = 99;
	env.warn = warn_count;
	env.arg = &warned;
	csr = tls_csr_base64(key, "spiffe://cluster.local/ns/default/sa/"
	    "bookinfo-book", err, sizeof(err));
	other = tls_csr_base64(key, "spiffe://cluster.local/ns/default/sa/"
	    "admin", err, sizeof(err));
	assert_non_null(csr);
	msgw_init(&in);
	msgw_init(&out);
	msg_init(&m);
	ca_answer_init(&a);

	msgw_begin(&in, "csr");
	msgw_field(&in, "workload", STR_LIT("book"));
	msgw_record(&in);
	msgw_field(&in, "id", STR_LIT("1"));
	msgw_fieldf(&in, "csr", "%s", csr);
	msgw_record(&in);
	msgw_field(&in, "id", STR_LIT("2"));
	msgw_fieldf(&in, "csr", "%s", other);
	msgw_record(&in);
	msgw_field(&in, "id", STR_LIT("3"));
	msgw_field(&in, "csr", STR_LIT("bm90IGEgY3Ny"));
	assert_int_equal(ca_handle_message(ca, &env, &st, in.buf, in.len,
	    &out, err, sizeof(err)), 0);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_true(msg_type_is(&m, "csr-reply"));
	assert_int_equal(m.nrecords, 3);
	assert_int_equal(ca_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, CA_STATUS_OK);
	assert_int_equal(a.id, 1);
	assert_string_equal(a.spiffe_id, "spiffe://cluster.local/ns/default/"
	    "sa/bookinfo-book");
	assert_int_equal(a.nroots, 1);
	assert_int_equal(a.not_after, NOW + 3600);
	assert_int_equal(a.renew_at, NOW + 3600 / 2 + 99 % 361);
	assert_true(verifies(a.cert, a.roots, a.nroots, NULL, 0, NOW));
	assert_int_equal(X509_check_private_key(a.cert, key), 1);
	assert_int_equal(ca_answer_read(&m, &m.records[1], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, CA_STATUS_REFUSED);
	assert_non_null(strstr(a.reason, "entitled to spiffe://cluster.local/"
	    "ns/default/sa/bookinfo-book only"));
	assert_null(a.cert);
	assert_int_equal(ca_answer_read(&m, &m.records[2], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, CA_STATUS_REFUSED);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.refused, 2);
	assert_int_equal(warned, 2);

	/* what was issued is kept for meshctl */
	msgw_reset(&in);
	msgw_begin(&in, "cert-info");
	msgw_field(&in, "workload", STR_LIT("book"));
	assert_int_equal(ca_handle_message(ca, &env, &st, in.buf, in.len,
	    &out, err, sizeof(err)), 0);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_true(msg_type_is(&m, "cert-info-reply"));
	assert_int_equal(ca_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, CA_STATUS_OK);
	assert_int_equal(a.issued_at, NOW);
	assert_int_equal(X509_check_private_key(a.cert, key), 1);
	msgw_reset(&in);
	msgw_begin(&in, "cert-info");
	msgw_field(&in, "workload", STR_LIT("../../etc"));
	assert_int_equal(ca_handle_message(ca, &env, &st, in.buf, in.len,
	    &out, err, sizeof(err)), 0);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_int_equal(ca_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, CA_STATUS_NONE);

	/* rotate-root: refused to a stranger, done for tls-d's uid */
	env.own_uid = 500;
	env.peer.known = 1;
	env.peer.uid = 501;
	assert_int_equal(ca_handle_message(ca, &env, &st,
	    "meshkit/1 rotate-root\n", 22, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "status: refused"));
	assert_int_equal(ca->root_generation, 1);
	env.peer.uid = 500;
	assert_int_equal(ca_handle_message(ca, &env, &st,
	    "meshkit/1 rotate-root\n", 22, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "status: ok"));
	assert_int_equal(ca->root_generation, 2);
	assert_true(env.bundle_changed);
	assert_int_equal(ca_handle_message(ca, &env, &st,
	    "meshkit/1 bundle\n", 17, &out, err, sizeof(err)), 0);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_int_equal(ca_bundle_read(&m, &a, err, sizeof(err)), 0);
	assert_int_equal(a.nroots, 2);
	assert_int_equal(a.bundle_generation, 2);
	assert_string_equal(a.trust_domain, "cluster.local");

	/* malformed: an error message, counted */
	assert_int_equal(ca_handle_message(ca, &env, &st, "garbage", 7, &out,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(out.buf, "meshkit/1 error"));
	assert_int_equal(ca_handle_message(ca, &env, &st,
	    "meshkit/1 csr\n\ncsr: x\n", 22, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "id"));
	assert_int_equal(st.bad_messages, 2);
	assert_int_equal(ca_handle_message(ca, &env, &st,
	    "meshkit/1 status\n", 17, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "program: tls-d"));
	assert_non_null(strstr(out.buf, "issued: 1"));

	ca_answer_fini(&a);
	msg_fini(&m);
	msgw_fini(&in);
	msgw_fini(&out);
	free(csr);
	free(other);
	EVP_PKEY_free(key);
	ca_free(ca);
	config_free(cfg);
	rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_self_signed),
		cmocka_unit_test(test_csr_checks),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_plugin),
		cmocka_unit_test(test_entitled),
		cmocka_unit_test(test_config_fields),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
