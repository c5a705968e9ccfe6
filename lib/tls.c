/* SPDX-License-Identifier: ISC */
/*
 * proxy-d's TLS (tls.h) over OpenSSL 3.
 *
 * One SSL_CTX serves mutual TLS between proxies at both ends: the same
 * certificate is a client and a server certificate (serverAuth and
 * clientAuth), and the same bundle checks the peer either way.  A new
 * certificate goes into the context in force, so that the session ticket
 * keys stay and a pooled connection made before a renewal still resumes
 * after it.  Connections that are up keep what they started with: an
 * SSL copies the context's certificate when it is made.
 */
#include <arpa/inet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "spiffe.h"
#include "tls.h"
#include "util.h"

#define TLS_SESSION_KEY_MAX	256

struct tls_session_entry {
	char		*key;
	SSL_SESSION	*session;
	uint64_t	 used;		/* a clock of uses, for eviction */
};

struct tls_sessions {
	struct tls_session_entry *v;
	size_t			 n;
	size_t			 max;
	uint64_t		 clock;
};

static pthread_once_t	 tls_once = PTHREAD_ONCE_INIT;
static int		 tls_ssl_key_index = -1;	/* SSL: its key */
static int		 tls_ctx_sessions_index = -1;	/* SSL_CTX */

static void	 tls_ssl_error(char *, size_t, const char *);
static int	 tls_mesh_verify(int, X509_STORE_CTX *);
static void	 tls_indexes(void);
static void	 tls_key_free(void *, void *, CRYPTO_EX_DATA *, int, long,
		    void *);
static int	 tls_new_session(SSL *, SSL_SESSION *);
static struct tls_session_entry *tls_sessions_find(struct tls_sessions *,
		    const char *);
static int	 tls_is_ip(const char *);

static void
tls_ssl_error(char *err, size_t errlen, const char *what)
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

EVP_PKEY *
tls_key_new(void)
{
	return EVP_EC_gen("P-256");
}

char *
tls_csr_base64(EVP_PKEY *key, const char *spiffe_id, char *err,
    size_t errlen)
{
	X509_REQ			*req;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	X509_EXTENSION			*ext = NULL;
	X509V3_CTX			 ctx;
	unsigned char			*der = NULL;
	char				 san[SPIFFE_ID_MAX + 32], *b64 = NULL;
	int				 n;

	if ((req = X509_REQ_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(san, sizeof(san), "critical,URI:%s", spiffe_id);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    (ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    san)) == NULL || (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) == 0 ||
	    X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) == 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0) {
		tls_ssl_error(err, errlen, "CSR");
		goto done;
	}
	b64 = xmalloc(ca_base64_len((size_t)n));
	ca_base64_encode(der, (size_t)n, b64);
done:
	OPENSSL_free(der);
	sk_X509_EXTENSION_free(exts);
	X509_EXTENSION_free(ext);
	X509_REQ_free(req);
	return b64;
}

int
tls_cert_spiffe_id(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES		*names;
	const GENERAL_NAME	*gn;
	const unsigned char	*d;
	int			 i, n, uris = 0, rc = -1;

	buf[0] = '\0';
	if ((names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_URI)
			continue;
		if (uris++ > 0) {
			rc = -1;
			break;
		}
		n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		d = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		if (n <= 0 || (size_t)n >= len || memchr(d, '\0', (size_t)n) !=
		    NULL || (size_t)n < sizeof(SPIFFE_SCHEME) - 1 ||
		    memcmp(d, SPIFFE_SCHEME, sizeof(SPIFFE_SCHEME) - 1) != 0)
			break;
		memcpy(buf, d, (size_t)n);
		buf[n] = '\0';
		rc = 0;
	}
	GENERAL_NAMES_free(names);
	if (rc == -1)
		buf[0] = '\0';
	return rc;
}

int
tls_peer_spiffe_id(SSL *ssl, char *buf, size_t len)
{
	X509	*peer;

	buf[0] = '\0';
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	return tls_cert_spiffe_id(peer, buf, len);
}

/* The chain checks of OpenSSL, and a SPIFFE ID on the peer itself. */
static int
tls_mesh_verify(int ok, X509_STORE_CTX *x)
{
	char	 id[SPIFFE_ID_MAX + 1];

	if (!ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return ok;
	if (tls_cert_spiffe_id(X509_STORE_CTX_get_current_cert(x), id,
	    sizeof(id)) == -1) {
		X509_STORE_CTX_set_error(x,
		    X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

SSL_CTX *
tls_mesh_ctx_new(char *err, size_t errlen)
{
	static const unsigned char	 sid[] = "meshkit-mtls";
	SSL_CTX				*ctx;

	pthread_once(&tls_once, tls_indexes);
	if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
		tls_ssl_error(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	/* AES-128-GCM first: as safe here, and cheaper per record */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1) {
		tls_ssl_error(err, errlen, "TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_mesh_verify);
	SSL_CTX_set_verify_depth(ctx, CA_MAX_CHAIN + 1);
	/*
	 * Stateless tickets: nothing stored on the server side, but OpenSSL
	 * resumes only when the server's cache mode is on.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_BOTH |
	    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

void
tls_mesh_server_sessions(SSL_CTX *ctx, size_t max)
{
	/* a session resumes as long as a stateless ticket would have */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, (long)max);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

int
tls_mesh_set_identity(SSL_CTX *ctx, EVP_PKEY *key, X509 *cert,
    X509 *const *chain, size_t nchain, X509 *const *roots, size_t nroots,
    char *err, size_t errlen)
{
	STACK_OF(X509)	*sk;
	X509_STORE	*store;
	size_t		 i;

	if (nroots == 0) {
		snprintf(err, errlen, "no root in the trust bundle");
		return -1;
	}
	if (X509_check_private_key(cert, key) != 1) {
		tls_ssl_error(err, errlen, "the key is not the certificate's");
		return -1;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		X509_STORE_free(store);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nroots; i++)
		if (X509_STORE_add_cert(store, roots[i]) != 1) {
			tls_ssl_error(err, errlen, "trust bundle");
			goto fail;
		}
	for (i = 0; i < nchain; i++)
		sk_X509_push(sk, chain[i]);
	if (SSL_CTX_use_cert_and_key(ctx, cert, key, sk, 1) != 1) {
		tls_ssl_error(err, errlen, "certificate");
		goto fail;
	}
	sk_X509_free(sk);
	SSL_CTX_set_cert_store(ctx, store);	/* frees the old one */
	return 0;
fail:
	sk_X509_free(sk);
	X509_STORE_free(store);
	return -1;
}

enum tls_sniff
tls_sniff(const unsigned char *b, size_t n)
{
	/*
	 * A handshake record: type 22, version 3.x (3.1 in a ClientHello of
	 * TLS 1.3 too).  No HTTP method starts with byte 22.
	 */
	if (n == 0)
		return TLS_SNIFF_MORE;
	if (b[0] != 0x16)
		return TLS_SNIFF_PLAIN;
	if (n < 3)
		return n >= 2 && b[1] != 0x03 ? TLS_SNIFF_PLAIN :
		    TLS_SNIFF_MORE;
	return b[1] == 0x03 && b[2] <= 0x04 ? TLS_SNIFF_TLS : TLS_SNIFF_PLAIN;
}

int
tls_xfcc(char *buf, size_t len, const char *prior, const char *by_uri,
    X509 *peer, const char *peer_uri)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	char		 hash[EVP_MAX_MD_SIZE * 2 + 1], subject[1024];
	char		 quoted[2048], *s;
	BIO		*bio;
	size_t		 q = 0;
	long		 n;
	int		 w;

	if (X509_digest(peer, EVP_sha256(), md, &mdlen) != 1) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(hash + 2 * i, 3, "%02x", md[i]);
	hash[2 * mdlen] = '\0';
	subject[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		if (X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0,
		    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(bio, &s)) >
		    0 && (size_t)n < sizeof(subject)) {
			memcpy(subject, s, (size_t)n);
			subject[n] = '\0';
		}
		BIO_free(bio);
	}
	ERR_clear_error();
	/* a quote or a backslash in the subject is escaped, as Envoy does */
	for (s = subject; *s != '\0' && q + 3 < sizeof(quoted); s++) {
		if (*s == '"' || *s == '\\')
			quoted[q++] = '\\';
		quoted[q++] = *s;
	}
	quoted[q] = '\0';
	w = snprintf(buf, len, "%s%sBy=%s;Hash=%s;Subject=\"%s\";URI=%s",
	    prior != NULL ? prior : "", prior != NULL && *prior != '\0' ?
	    "," : "", by_uri, hash, quoted, peer_uri);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

static void
tls_indexes(void)
{
	tls_ssl_key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_key_free);
	tls_ctx_sessions_index = SSL_CTX_get_ex_new_index(0, NULL, NULL,
	    NULL, NULL);
}

static void
tls_key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

struct tls_sessions *
tls_sessions_new(size_t max)
{
	struct tls_sessions	*s;

	pthread_once(&tls_once, tls_indexes);
	s = xcalloc(1, sizeof(*s));
	s->max = max > 0 ? max : 1;
	s->v = xcalloc(s->max, sizeof(*s->v));
	return s;
}

void
tls_sessions_free(struct tls_sessions *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		SSL_SESSION_free(s->v[i].session);
	}
	free(s->v);
	free(s);
}

size_t
tls_sessions_count(const struct tls_sessions *s)
{
	return s->n;
}

static struct tls_session_entry *
tls_sessions_find(struct tls_sessions *s, const char *key)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

int
tls_sessions_attach(SSL_CTX *ctx, struct tls_sessions *s)
{
	if (SSL_CTX_set_ex_data(ctx, tls_ctx_sessions_index, s) != 1)
		return -1;
	SSL_CTX_sess_set_new_cb(ctx, tls_new_session);
	return 0;
}

/* A ticket arrived for a client connection: keep a copy under its key. */
static int
tls_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_sessions		*s;
	struct tls_session_entry	*e;
	SSL_SESSION			*copy;
	const char			*key;
	size_t				 i, lru = 0;

	s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ctx_sessions_index);
	key = SSL_get_ex_data(ssl, tls_ssl_key_index);
	if (s == NULL || key == NULL || !SSL_SESSION_is_resumable(session))
		return 0;
	/*
	 * A copy: OpenSSL marks the connection's own session not resumable
	 * when the connection ends without a close_notify, as pooled
	 * connections often do.
	 */
	if ((copy = SSL_SESSION_dup(session)) == NULL)
		return 0;
	if ((e = tls_sessions_find(s, key)) == NULL) {
		if (s->n == s->max) {
			for (i = 1; i < s->n; i++)
				if (s->v[i].used < s->v[lru].used)
					lru = i;
			e = &s->v[lru];
			free(e->key);
			SSL_SESSION_free(e->session);
		} else
			e = &s->v[s->n++];
		e->key = xstrdup(key);
	} else
		SSL_SESSION_free(e->session);
	e->session = copy;
	e->used = ++s->clock;
	return 0;
}

int
tls_sessions_prepare(struct tls_sessions *s, SSL *ssl, const char *key)
{
	struct tls_session_entry	*e;
	SSL_SESSION			*copy;
	char				*k;

	if (strlen(key) >= TLS_SESSION_KEY_MAX)
		return -1;
	k = xstrdup(key);
	if (SSL_set_ex_data(ssl, tls_ssl_key_index, k) != 1) {
		free(k);
		return -1;
	}
	if ((e = tls_sessions_find(s, key)) != NULL) {
		e->used = ++s->clock;
		/*
		 * Each connection its own copy: when a resumed connection
		 * gets its new ticket, OpenSSL marks the session it resumed
		 * not resumable, which would spoil the kept one for the
		 * connections a pool opened meanwhile.
		 */
		if ((copy = SSL_SESSION_dup(e->session)) == NULL ||
		    SSL_set_session(ssl, copy) != 1) {
			ERR_clear_error();
			tls_sessions_forget(s, key);
		}
		SSL_SESSION_free(copy);
	}
	return 0;
}

void
tls_sessions_forget(struct tls_sessions *s, const char *key)
{
	struct tls_session_entry	*e;

	if ((e = tls_sessions_find(s, key)) == NULL)
		return;
	free(e->key);
	SSL_SESSION_free(e->session);
	*e = s->v[--s->n];
}

SSL_CTX *
tls_origination_ctx_new(const struct tls_origination *o, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_ssl_error(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_ssl_error(err, errlen, "TLS context");
		goto fail;
	}
	if (o->ca_certificates != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca_certificates,
		    NULL) != 1) {
			tls_ssl_error(err, errlen, o->ca_certificates);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_ssl_error(err, errlen, "the system's roots");
		goto fail;
	}
	if (o->ca_crl != NULL) {
		X509_STORE	*st = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP	*lu;

		if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_file())) ==
		    NULL || X509_load_crl_file(lu, o->ca_crl,
		    X509_FILETYPE_PEM) < 1) {
			tls_ssl_error(err, errlen, o->ca_crl);
			goto fail;
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	SSL_CTX_set_verify(ctx, o->insecure_skip_verify ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	if (o->mutual) {
		if (o->client_certificate == NULL || o->private_key == NULL) {
			snprintf(err, errlen, "MUTUAL needs clientCertificate "
			    "and privateKey");
			goto fail;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    o->client_certificate) != 1) {
			tls_ssl_error(err, errlen, o->client_certificate);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, o->private_key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			tls_ssl_error(err, errlen, o->private_key);
			goto fail;
		}
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int
tls_is_ip(const char *s)
{
	unsigned char	 buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

int
tls_origination_prepare(SSL *ssl, const char *sni, const char *const *sans,
    size_t nsans, int verify)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);

	if (sni != NULL && *sni != '\0' && !tls_is_ip(sni) &&
	    SSL_set_tlsext_host_name(ssl, sni) != 1)
		goto fail;
	/* with sans, tls_peer_has_san decides after the handshake */
	if (!verify || nsans > 0 || sni == NULL || *sni == '\0')
		return 0;
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (tls_is_ip(sni) ? X509_VERIFY_PARAM_set1_ip_asc(param, sni) != 1 :
	    X509_VERIFY_PARAM_set1_host(param, sni, 0) != 1)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -1;
}

int
tls_peer_has_san(SSL *ssl, const char *const *sans, size_t nsans)
{
	X509	*peer;
	char	 id[SPIFFE_ID_MAX + 1];
	size_t	 i;

	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return 0;
	for (i = 0; i < nsans; i++) {
		if (strchr(sans[i], ':') != NULL && strchr(sans[i], '/') !=
		    NULL) {
			/* a URI: the certificate's URI SAN, exactly */
			if (tls_cert_spiffe_id(peer, id, sizeof(id)) == 0 &&
			    strcmp(id, sans[i]) == 0)
				return 1;
			continue;
		}
		if (tls_is_ip(sans[i]) ? X509_check_ip_asc(peer, sans[i], 0) ==
		    1 : X509_check_host(peer, sans[i], 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
			return 1;
	}
	ERR_clear_error();
	return 0;
}
