/* SPDX-License-Identifier: ISC */
/*
 * lib/tls.c: mutual TLS between proxies, over in-memory BIO pairs (no
 * network): identities, refusals, resumption, XFCC, PERMISSIVE's sniff,
 * and DestinationRule origination's name checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "helpers.h"
#include "spiffe.h"
#include "tls.h"
#include "util.h"

#define DAY	(24 * 3600)

struct ident {
	EVP_PKEY	*key;
	X509		*cert;
};

static struct ca	*mesh, *foreign;
static char		*mesh_dir, *foreign_dir;

/* A leaf from ca for id, through a CSR as proxy-d makes it. */
static struct ident
issue(struct ca *ca, const char *id, int64_t now, uint64_t life)
{
	unsigned char	 der[4096];
	struct ident	 i;
	X509_REQ	*req;
	char		 err[256], *b64;
	long		 n;

	i.key = tls_key_new();
	assert_non_null(i.key);
	b64 = tls_csr_base64(i.key, id, err, sizeof(err));
	assert_non_null(b64);
	n = ca_base64_decode(b64, strlen(b64), der, sizeof(der));
	assert_true(n > 0);
	req = ca_csr_read(der, (size_t)n, err, sizeof(err));
	assert_non_null(req);
	i.cert = ca_sign(ca, req, id, now, life, err, sizeof(err));
	assert_non_null(i.cert);
	X509_REQ_free(req);
	free(b64);
	return i;
}

/* A leaf with a DNS name only: a certificate, but not a SPIFFE one. */
static struct ident
issue_dns(struct ca *ca, const char *dns)
{
	struct ident	 i;
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	char		 san[256];

	i.key = tls_key_new();
	i.cert = X509_new();
	X509_set_version(i.cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(i.cert), 5);
	X509_gmtime_adj(X509_getm_notBefore(i.cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(i.cert), 3600);
	X509_set_issuer_name(i.cert, X509_get_subject_name(ca->signer));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(i.cert), "CN",
	    MBSTRING_UTF8, (const unsigned char *)dns, -1, -1, 0);
	X509_set_pubkey(i.cert, i.key);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca->signer, i.cert, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", dns);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
	X509_add_ext(i.cert, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(i.cert, ca->key, EVP_sha256()) > 0);
	return i;
}

static void
ident_free(struct ident *i)
{
	EVP_PKEY_free(i->key);
	X509_free(i->cert);
}

static SSL_CTX *
mesh_ctx(struct ident *i)
{
	SSL_CTX	*ctx;
	char	 err[256];

	ctx = tls_mesh_ctx_new(err, sizeof(err));
	assert_non_null(ctx);
	if (i != NULL)
		assert_int_equal(tls_mesh_set_identity(ctx, i->key, i->cert,
		    NULL, 0, &mesh->signer, 1, err, sizeof(err)), 0);
	return ctx;
}

/*
 * Handshake c (connect) and s (accept) over a BIO pair, then one byte
 * from server to client, so that the client reads its ticket.  0 when
 * both ends finished and the byte arrived.
 */
static int
handshake(SSL *c, SSL *s)
{
	BIO	*bc, *bs;
	char	 byte;
	int	 i, rc, rs, done_c = 0, done_s = 0, e;

	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 50 && !(done_c && done_s); i++) {
		if (!done_c) {
			rc = SSL_do_handshake(c);
			if (rc == 1)
				done_c = 1;
			else if ((e = SSL_get_error(c, rc)) !=
			    SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				goto fail;
		}
		if (!done_s) {
			rs = SSL_do_handshake(s);
			if (rs == 1)
				done_s = 1;
			else if ((e = SSL_get_error(s, rs)) !=
			    SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				goto fail;
		}
	}
	if (!(done_c && done_s))
		goto fail;
	/* TLS 1.3: the server verifies the client's cert at its Finished */
	if (SSL_write(s, "x", 1) != 1)
		goto fail;
	if (SSL_read(c, &byte, 1) != 1 || byte != 'x')
		goto fail;
	if (SSL_write(c, "y", 1) != 1 || SSL_read(s, &byte, 1) != 1)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -1;
}

/* One connection from cctx to sctx; the two SSLs are given back. */
static int
connect_pair(SSL_CTX *cctx, SSL_CTX *sctx, SSL **cp, SSL **sp,
    struct tls_sessions *sessions, const char *key)
{
	*cp = SSL_new(cctx);
	*sp = SSL_new(sctx);
	if (sessions != NULL)
		assert_int_equal(tls_sessions_prepare(sessions, *cp, key), 0);
	return handshake(*cp, *sp);
}

/* Both ends close as proxy-d does, with close_notify (a server keeps a
   session only when the connection ended cleanly). */
static void
free_pair(SSL *c, SSL *s)
{
	(void)SSL_shutdown(c);
	(void)SSL_shutdown(s);
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
}

static int
setup(void **state)
{
	char	 err[256];

	mesh_dir = tmpdir("tls");
	foreign_dir = tmpdir("tls");
	mesh = ca_open(mesh_dir, NULL, "cluster.local", time(NULL), DAY, 0,
	    err, sizeof(err));
	foreign = ca_open(foreign_dir, NULL, "cluster.local", time(NULL),
	    DAY, 0, err, sizeof(err));
	return mesh != NULL && foreign != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	ca_free(mesh);
	ca_free(foreign);
	rmtree(mesh_dir);
	rmtree(foreign_dir);
	free(mesh_dir);
	free(foreign_dir);
	return 0;
}

static void
test_mutual(void **state)
{
	struct ident	 book, rating;
	SSL_CTX		*cctx, *sctx;
	SSL		*c, *s;
	char		 id[256];

	(void)state;
	book = issue(mesh, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	rating = issue(mesh, "spiffe://cluster.local/ns/default/sa/rating",
	    time(NULL), 3600);
	cctx = mesh_ctx(&book);
	sctx = mesh_ctx(&rating);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), 0);
	assert_int_equal(SSL_version(c), TLS1_3_VERSION);
	assert_int_equal(tls_peer_spiffe_id(s, id, sizeof(id)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/default/sa/book");
	assert_int_equal(tls_peer_spiffe_id(c, id, sizeof(id)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/default/sa/rating");
	free_pair(c, s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	ident_free(&book);
	ident_free(&rating);
}

/* STRICT's refusals: no cert, a foreign CA, expired, no SPIFFE SAN. */
static void
test_refused(void **state)
{
	struct ident	 rating, alien, old, dns;
	SSL_CTX		*sctx, *cctx;
	SSL		*c, *s;
	char		 err[256];

	(void)state;
	rating = issue(mesh, "spiffe://cluster.local/ns/default/sa/rating",
	    time(NULL), 3600);
	sctx = mesh_ctx(&rating);

	cctx = mesh_ctx(NULL);	/* no certificate */
	assert_int_equal(tls_mesh_set_identity(cctx, rating.key, rating.cert,
	    NULL, 0, &mesh->signer, 0, err, sizeof(err)), -1);
	{
		X509_STORE *st = X509_STORE_new();

		X509_STORE_add_cert(st, mesh->signer);
		SSL_CTX_set_cert_store(cctx, st);
	}
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	assert_int_equal(tls_peer_spiffe_id(s, err, sizeof(err)), -1);
	free_pair(c, s);
	SSL_CTX_free(cctx);

	alien = issue(foreign, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	cctx = SSL_CTX_new(TLS_method());
	SSL_CTX_use_cert_and_key(cctx, alien.cert, alien.key, NULL, 1);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	free_pair(c, s);
	SSL_CTX_free(cctx);

	old = issue(mesh, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL) - 7200, 3600);
	cctx = SSL_CTX_new(TLS_method());
	SSL_CTX_use_cert_and_key(cctx, old.cert, old.key, NULL, 1);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	assert_int_equal(SSL_get_verify_result(s),
	    X509_V_ERR_CERT_HAS_EXPIRED);
	free_pair(c, s);
	SSL_CTX_free(cctx);

	dns = issue_dns(mesh, "book.example");
	cctx = SSL_CTX_new(TLS_method());
	SSL_CTX_use_cert_and_key(cctx, dns.cert, dns.key, NULL, 1);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	assert_int_equal(SSL_get_verify_result(s),
	    X509_V_ERR_APPLICATION_VERIFICATION);
	free_pair(c, s);
	SSL_CTX_free(cctx);

	/* nor does a mesh client take such a server */
	cctx = mesh_ctx(&rating);
	SSL_CTX_free(sctx);
	sctx = SSL_CTX_new(TLS_method());
	SSL_CTX_use_cert_and_key(sctx, dns.cert, dns.key, NULL, 1);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	free_pair(c, s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);

	ident_free(&rating);
	ident_free(&alien);
	ident_free(&old);
	ident_free(&dns);
}

/* A pooled connection resumes, across a renewal of either end too. */
static void
test_resumption(void **state)
{
	struct ident		 book, rating, renewed;
	struct tls_sessions	*sessions = tls_sessions_new(2);
	SSL_CTX			*cctx, *sctx;
	SSL			*c, *s;
	char			 id[256], err[256];

	(void)state;
	book = issue(mesh, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	rating = issue(mesh, "spiffe://cluster.local/ns/default/sa/rating",
	    time(NULL), 3600);
	cctx = mesh_ctx(&book);
	sctx = mesh_ctx(&rating);
	/* the server keeps its sessions: a ticket only names one */
	tls_mesh_server_sessions(sctx, 16);
	assert_int_equal(tls_sessions_attach(cctx, sessions), 0);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, sessions,
	    "127.0.0.1:9081"), 0);
	assert_false(SSL_session_reused(c));
	free_pair(c, s);
	assert_int_equal(tls_sessions_count(sessions), 1);
	assert_true(SSL_CTX_sess_number(sctx) >= 1);

	assert_int_equal(connect_pair(cctx, sctx, &c, &s, sessions,
	    "127.0.0.1:9081"), 0);
	assert_true(SSL_session_reused(c));
	assert_true(SSL_session_reused(s));
	{
		const unsigned char	*tick;
		size_t			 len;

		/* stateful: the ticket the client holds is a name, not
		   the session sealed (which is well over 100 bytes) */
		SSL_SESSION_get0_ticket(SSL_get_session(c), &tick, &len);
		assert_true(len > 0 && len <= 64);
	}
	/* the resumed server still knows who the client is */
	assert_int_equal(tls_peer_spiffe_id(s, id, sizeof(id)), 0);
	assert_string_equal(id, "spiffe://cluster.local/ns/default/sa/book");
	free_pair(c, s);
	/* connections a pool opens at once all resume, from one session:
	   each its own copy (the first's new ticket must not spoil it for
	   the others), and the server lets a session resume again */
	{
		SSL	*cs[3], *ss[3];
		int	 k;

		for (k = 0; k < 3; k++) {
			cs[k] = SSL_new(cctx);
			ss[k] = SSL_new(sctx);
			assert_int_equal(tls_sessions_prepare(sessions, cs[k],
			    "127.0.0.1:9081"), 0);
		}
		for (k = 0; k < 3; k++) {
			assert_int_equal(handshake(cs[k], ss[k]), 0);
			assert_true(SSL_session_reused(cs[k]));
			assert_true(SSL_session_reused(ss[k]));
		}
		for (k = 0; k < 3; k++)
			free_pair(cs[k], ss[k]);
	}

	/* another endpoint has its own session */
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, sessions,
	    "127.0.0.1:9082"), 0);
	assert_false(SSL_session_reused(c));
	free_pair(c, s);
	assert_int_equal(tls_sessions_count(sessions), 2);

	/* the server renews: the same context, so tickets stay good */
	renewed = issue(mesh, "spiffe://cluster.local/ns/default/sa/rating",
	    time(NULL), 3600);
	assert_int_equal(tls_mesh_set_identity(sctx, renewed.key,
	    renewed.cert, NULL, 0, &mesh->signer, 1, err, sizeof(err)), 0);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, sessions,
	    "127.0.0.1:9081"), 0);
	assert_true(SSL_session_reused(c));
	free_pair(c, s);

	/* the server's sessions are bounded */
	for (int k = 0; k < 20; k++) {
		assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL),
		    0);
		free_pair(c, s);
	}
	assert_true(SSL_CTX_sess_number(sctx) <= 16);

	/* a third key evicts the least used */
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, sessions,
	    "127.0.0.1:9083"), 0);
	free_pair(c, s);
	assert_int_equal(tls_sessions_count(sessions), 2);
	tls_sessions_forget(sessions, "127.0.0.1:9081");
	tls_sessions_forget(sessions, "127.0.0.1:9083");
	assert_int_equal(tls_sessions_count(sessions), 0);

	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	tls_sessions_free(sessions);
	ident_free(&book);
	ident_free(&rating);
	ident_free(&renewed);
}

/* After a root rotation, a bundle of both roots takes either leaf. */
static void
test_rotation(void **state)
{
	struct ident	 book, rating;
	SSL_CTX		*cctx, *sctx;
	SSL		*c, *s;
	X509		*bundle[CA_MAX_ROOTS];
	char		*dir = tmpdir("tls"), err[256];
	struct ca	*ca;
	size_t		 i;

	(void)state;
	ca = ca_open(dir, NULL, "cluster.local", time(NULL), DAY, 0, err,
	    sizeof(err));
	book = issue(ca, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	assert_int_equal(ca_rotate(ca, "cluster.local", time(NULL), 3600, err,
	    sizeof(err)), 0);
	rating = issue(ca, "spiffe://cluster.local/ns/default/sa/rating",
	    time(NULL), 3600);
	for (i = 0; i < ca->nroots; i++)
		bundle[i] = ca->roots[i].cert;
	cctx = mesh_ctx(NULL);
	sctx = mesh_ctx(NULL);
	assert_int_equal(tls_mesh_set_identity(cctx, book.key, book.cert,
	    NULL, 0, bundle, ca->nroots, err, sizeof(err)), 0);
	assert_int_equal(tls_mesh_set_identity(sctx, rating.key, rating.cert,
	    NULL, 0, bundle, ca->nroots, err, sizeof(err)), 0);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), 0);
	free_pair(c, s);
	/* with the new root only, the old leaf is refused */
	assert_int_equal(tls_mesh_set_identity(sctx, rating.key, rating.cert,
	    NULL, 0, bundle, 1, err, sizeof(err)), 0);
	assert_int_equal(connect_pair(cctx, sctx, &c, &s, NULL, NULL), -1);
	free_pair(c, s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	ident_free(&book);
	ident_free(&rating);
	ca_free(ca);
	rmtree(dir);
	free(dir);
}

static void
test_xfcc(void **state)
{
	struct ident	 book;
	char		 buf[TLS_XFCC_MAX], want[TLS_XFCC_MAX], hex[65];
	unsigned char	 md[32];
	unsigned int	 n, i;

	(void)state;
	book = issue(mesh, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	X509_digest(book.cert, EVP_sha256(), md, &n);
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(tls_xfcc(buf, sizeof(buf), NULL,
	    "spiffe://cluster.local/ns/default/sa/rating", book.cert,
	    "spiffe://cluster.local/ns/default/sa/book"), 0);
	snprintf(want, sizeof(want), "By=spiffe://cluster.local/ns/default/"
	    "sa/rating;Hash=%s;Subject=\"\";URI=spiffe://cluster.local/ns/"
	    "default/sa/book", hex);
	assert_string_equal(buf, want);
	assert_int_equal(tls_xfcc(buf, sizeof(buf), "By=a;URI=b",
	    "spiffe://cluster.local/ns/default/sa/rating", book.cert,
	    "spiffe://cluster.local/ns/default/sa/book"), 0);
	assert_int_equal(strncmp(buf, "By=a;URI=b,By=spiffe://", 23), 0);
	assert_int_equal(tls_xfcc(buf, 40, NULL, "spiffe://x/ns/a/sa/b",
	    book.cert, "spiffe://x/ns/a/sa/c"), -1);
	ident_free(&book);
}

static void
test_sniff(void **state)
{
	(void)state;
	assert_int_equal(tls_sniff((const unsigned char *)"", 0),
	    TLS_SNIFF_MORE);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16", 1),
	    TLS_SNIFF_MORE);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16\x03", 2),
	    TLS_SNIFF_MORE);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16\x03\x01", 3),
	    TLS_SNIFF_TLS);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16\x03\x03\x00",
	    4), TLS_SNIFF_TLS);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16\x04\x01", 3),
	    TLS_SNIFF_PLAIN);
	assert_int_equal(tls_sniff((const unsigned char *)"\x16\x02", 2),
	    TLS_SNIFF_PLAIN);
	assert_int_equal(tls_sniff((const unsigned char *)"G", 1),
	    TLS_SNIFF_PLAIN);
	assert_int_equal(tls_sniff((const unsigned char *)"GET / HTTP/1.1",
	    14), TLS_SNIFF_PLAIN);
	assert_int_equal(tls_sniff((const unsigned char *)"\x80\x2e\x01", 3),
	    TLS_SNIFF_PLAIN);	/* SSL 2 hellos are not taken */
}

static void
write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	if (x != NULL)
		PEM_write_X509(f, x);
	if (key != NULL)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* DestinationRule SIMPLE and MUTUAL, against a server with a DNS name. */
static void
test_origination(void **state)
{
	struct tls_origination	 o;
	struct ident		 web, client;
	SSL_CTX			*cctx, *sctx;
	SSL			*c, *s;
	char			*dir = tmpdir("tls"), ca_file[512], cert[512];
	char			 key[512], err[256];
	const char		*sans[2];

	(void)state;
	web = issue_dns(foreign, "web.example");
	client = issue(mesh, "spiffe://cluster.local/ns/default/sa/book",
	    time(NULL), 3600);
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	write_pem(ca_file, foreign->signer, NULL);
	write_pem(cert, client.cert, NULL);
	write_pem(key, NULL, client.key);
	sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_cert_and_key(sctx, web.cert, web.key, NULL, 1);

	memset(&o, 0, sizeof(o));
	o.ca_certificates = ca_file;
	cctx = tls_origination_ctx_new(&o, err, sizeof(err));
	assert_non_null(cctx);
	/* the SNI names the server: verified */
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_origination_prepare(c, "web.example", NULL, 0,
	    1), 0);
	assert_int_equal(handshake(c, s), 0);
	assert_string_equal(SSL_get_servername(s, TLSEXT_NAMETYPE_host_name),
	    "web.example");
	free_pair(c, s);
	/* another name: refused */
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_origination_prepare(c, "other.example", NULL, 0,
	    1), 0);
	assert_int_equal(handshake(c, s), -1);
	free_pair(c, s);
	/* subjectAltNames decide when given */
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	sans[0] = "nope.example";
	sans[1] = "web.example";
	assert_int_equal(tls_origination_prepare(c, "other.example", sans, 2,
	    1), 0);
	assert_int_equal(handshake(c, s), 0);
	assert_true(tls_peer_has_san(c, sans, 2));
	assert_false(tls_peer_has_san(c, sans, 1));
	free_pair(c, s);
	SSL_CTX_free(cctx);

	/* the wrong CA: refused, unless insecureSkipVerify */
	write_pem(ca_file, mesh->signer, NULL);
	cctx = tls_origination_ctx_new(&o, err, sizeof(err));
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_origination_prepare(c, "web.example", NULL, 0,
	    1), 0);
	assert_int_equal(handshake(c, s), -1);
	free_pair(c, s);
	SSL_CTX_free(cctx);
	o.insecure_skip_verify = 1;
	cctx = tls_origination_ctx_new(&o, err, sizeof(err));
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(handshake(c, s), 0);
	free_pair(c, s);
	SSL_CTX_free(cctx);

	/* MUTUAL: the server asks and gets the client's certificate */
	o.insecure_skip_verify = 0;
	write_pem(ca_file, foreign->signer, NULL);
	o.mutual = 1;
	assert_null(tls_origination_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "clientCertificate"));
	o.client_certificate = cert;
	o.private_key = key;
	cctx = tls_origination_ctx_new(&o, err, sizeof(err));
	assert_non_null(cctx);
	{
		X509_STORE *st = X509_STORE_new();

		X509_STORE_add_cert(st, mesh->signer);
		SSL_CTX_set_cert_store(sctx, st);
		SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_origination_prepare(c, "web.example", NULL, 0,
	    1), 0);
	assert_int_equal(handshake(c, s), 0);
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(s), client.cert),
	    0);
	free_pair(c, s);
	SSL_CTX_free(cctx);
	/* a key file that is not the certificate's */
	write_pem(key, NULL, web.key);
	assert_null(tls_origination_ctx_new(&o, err, sizeof(err)));

	SSL_CTX_free(sctx);
	ident_free(&web);
	ident_free(&client);
	rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_xfcc),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_origination),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
