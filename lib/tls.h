/* SPDX-License-Identifier: ISC */
/*
 * The TLS side of proxy-d, as plain functions over OpenSSL objects: its
 * key and CSR, the SSL_CTX of mutual TLS between proxies (TLS 1.3, the
 * mesh certificate, the trust bundle, a SPIFFE URI SAN required of the
 * peer, session tickets), the client session cache that lets a pooled
 * connection resume, telling TLS from plaintext by the first bytes
 * (PERMISSIVE), the x-forwarded-client-cert value as Envoy writes it,
 * and the SSL_CTX of a DestinationRule's SIMPLE and MUTUAL origination.
 */
#ifndef MESHKIT_TLS_H
#define MESHKIT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#define TLS_XFCC_MAX		4096

/* A new ECDSA P-256 key, in memory only; NULL on failure. */
EVP_PKEY	*tls_key_new(void);
/*
 * A CSR for key asking for spiffe_id (its only subjectAltName, no
 * subject), signed with SHA-256, as base64 DER (a NUL-terminated string
 * to free).  NULL with err.
 */
char		*tls_csr_base64(EVP_PKEY *key, const char *spiffe_id,
		    char *err, size_t errlen);

/*
 * The SSL_CTX of mutual TLS between proxies, for both ends (accept and
 * connect): TLS 1.3 only, a client certificate required, the peer's
 * certificate chained to the bundle and holding exactly one URI SAN, a
 * spiffe:// one; session tickets on.  It has no identity until
 * tls_mesh_set_identity.  NULL with err.
 */
SSL_CTX		*tls_mesh_ctx_new(char *err, size_t errlen);
/*
 * Makes ctx (from tls_mesh_ctx_new) an accepting one that keeps the
 * sessions it resumes in memory, at most max of them: a client's ticket
 * only names its session (TLS 1.3's stateful tickets), and a resumption
 * finds the peer's certificate as it was checked instead of decoding it
 * again from a ticket (OpenSSL 3.0's decoders: most of a resumption's
 * cost).  Its sessions are its own: connect with another context.
 */
void		 tls_mesh_server_sessions(SSL_CTX *, size_t max);
/*
 * Puts key, cert and its chain, and the trust bundle in force for new
 * connections (connections already up keep theirs; tickets stay valid).
 * 0, or -1 with err and the context unchanged.
 */
int		 tls_mesh_set_identity(SSL_CTX *, EVP_PKEY *key, X509 *cert,
		    X509 *const *chain, size_t nchain, X509 *const *roots,
		    size_t nroots, char *err, size_t errlen);
/*
 * A certificate's SPIFFE ID: its only URI SAN, when it starts with
 * spiffe://, into buf.  0, or -1 when it has none, several, or another.
 */
int		 tls_cert_spiffe_id(X509 *, char *buf, size_t len);
/* The verified peer's SPIFFE ID; 0, or -1 (no certificate, none). */
int		 tls_peer_spiffe_id(SSL *, char *buf, size_t len);

/* Is a connection's first data a TLS handshake (PERMISSIVE)? */
enum tls_sniff {
	TLS_SNIFF_MORE,		/* undecided: read more */
	TLS_SNIFF_TLS,		/* a TLS handshake record */
	TLS_SNIFF_PLAIN,	/* anything else */
};
enum tls_sniff	 tls_sniff(const unsigned char *, size_t);

/*
 * Envoy's x-forwarded-client-cert element for a peer:
 * By=<our URI>;Hash=<SHA-256 of the peer's DER, hex>;Subject="<its
 * subject>";URI=<its URI>, after prior (an incoming value, kept with a
 * comma, as APPEND_FORWARD does) when prior is not NULL.  0, or -1 when
 * it does not fit buf.
 */
int		 tls_xfcc(char *buf, size_t len, const char *prior,
		    const char *by_uri, X509 *peer, const char *peer_uri);

/*
 * Client sessions of pooled connections, one per key (an endpoint and
 * the context that made it), the newest kept, at most max; TLS 1.3
 * tickets arrive after the handshake, through the context's callback.
 */
struct tls_sessions;

struct tls_sessions *tls_sessions_new(size_t max);
void		 tls_sessions_free(struct tls_sessions *);
/* Lets ctx's client connections keep their sessions in s. */
int		 tls_sessions_attach(SSL_CTX *, struct tls_sessions *);
/*
 * Before SSL_connect: ssl resumes key's session when there is one, and
 * its next ticket is kept under key.  0, or -1.
 */
int		 tls_sessions_prepare(struct tls_sessions *, SSL *,
		    const char *key);
/* Forget key's session (a resumption the server refused, a rotation). */
void		 tls_sessions_forget(struct tls_sessions *, const char *key);
size_t		 tls_sessions_count(const struct tls_sessions *);

/*
 * A DestinationRule's trafficPolicy.tls, SIMPLE or MUTUAL, as proxy-d
 * originates it to a server outside the mesh.
 */
struct tls_origination {
	int		 mutual;		/* MUTUAL: present a cert */
	const char	*ca_certificates;	/* file; NULL: system roots */
	const char	*ca_crl;		/* file; NULL: none */
	const char	*client_certificate;	/* file, MUTUAL */
	const char	*private_key;		/* file, MUTUAL */
	int		 insecure_skip_verify;
};

/*
 * Its SSL_CTX: TLS 1.2 or 1.3, the server's chain verified against
 * ca_certificates (or the system's roots) and ca_crl's revocations
 * unless insecure_skip_verify, the client certificate of MUTUAL.  NULL
 * with err.
 */
SSL_CTX		*tls_origination_ctx_new(const struct tls_origination *,
		    char *err, size_t errlen);
/*
 * Before SSL_connect: the SNI to send, and the names the server's
 * certificate must match: one of sans (DNS or URI SANs) when given,
 * else the SNI as a host name (unless verify is 0).  0, or -1.
 */
int		 tls_origination_prepare(SSL *, const char *sni,
		    const char *const *sans, size_t nsans, int verify);
/*
 * After the handshake: for SANs that are URIs, which OpenSSL's host
 * check does not cover, whether the server has one of them.  1 or 0.
 */
int		 tls_peer_has_san(SSL *, const char *const *sans,
		    size_t nsans);

#endif
