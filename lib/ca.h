/* SPDX-License-Identifier: ISC */
/*
 * tls-d's certificate authority: its roots and signing key (a self-signed
 * ECDSA P-256 root made in its state directory, or a plug-in CA in
 * Istio's cacerts layout), the checks on a certificate signing request,
 * the signing of short-lived SPIFFE certificates, root rotation with a
 * generation number, and the meshkit-ipc(7) messages tls-d answers
 * (csr, bundle, cert-info, rotate-root, status) and proxy-d reads.
 *
 * The CA key is kept in struct ca and written only to the state
 * directory (mode 0600 in a 0700 directory); no message carries it.
 */
#ifndef MESHKIT_CA_H
#define MESHKIT_CA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "msg.h"
#include "util.h"

struct config;
struct proxy_config;

#define CA_CSR_MAX_BYTES	8192	/* DER */
#define CA_MAX_ROOTS		8	/* in the bundle at once */
#define CA_MAX_CHAIN		8	/* intermediates */
#define CA_DEFAULT_LIFETIME_S	(24 * 3600)
#define CA_MIN_LIFETIME_S	2
#define CA_MAX_LIFETIME_S	(90 * 24 * 3600)
#define CA_ROOT_LIFETIME_S	(10LL * 365 * 24 * 3600)
/* a self-signed root with less than this part of its life left rotates */
#define CA_ROOT_ROTATE_PERCENT	20
/* clock skew allowed for: a leaf is valid from this long before now */
#define CA_BACKDATE_S		60
#define CA_DEFAULT_STATE_DIR	"/var/lib/meshkit/tls-d"

struct ca_root {
	unsigned	 number;	/* its root generation */
	X509		*cert;
	int64_t		 retire_at;	/* 0: in force; else leaves then */
};

struct ca {
	char		*state_dir;
	char		*cacerts_dir;	/* plug-in CA; NULL: self-signed */
	int		 readonly;	/* never writes the state directory */
	X509		*signer;	/* signs leaves: the root, or ca-cert */
	EVP_PKEY	*key;		/* signer's key */
	X509		*chain[CA_MAX_CHAIN];	/* signer's side first */
	size_t		 nchain;	/* 0 when a root signs */
	struct ca_root	 roots[CA_MAX_ROOTS];	/* newest first */
	size_t		 nroots;
	unsigned	 root_generation;	/* highest root number */
	uint64_t	 bundle_generation;
};

/*
 * Opens the CA of state_dir: with cacerts_dir, the plug-in CA of its
 * ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem (a root that
 * changed since the last run rotates as in ca_rotate); without, the
 * self-signed root kept in state_dir, made (ECDSA P-256, for ten years)
 * when there is none.  trust_domain names the organization of a new
 * root.  readonly: write nothing (a missing root is then an error).
 * NULL with the fault in err.
 */
struct ca	*ca_open(const char *state_dir, const char *cacerts_dir,
		    const char *trust_domain, int64_t now,
		    uint64_t max_lifetime_s, int readonly, char *err,
		    size_t errlen);
void		 ca_free(struct ca *);
/*
 * A new self-signed root (one more root generation) signs from now on;
 * the one before stays in the bundle until every leaf it signed has
 * expired (now + max_lifetime_s).  0, or -1 with err (a plug-in CA
 * rotates by changing its files, then ca_reload).
 */
int		 ca_rotate(struct ca *, const char *trust_domain, int64_t now,
		    uint64_t max_lifetime_s, char *err, size_t errlen);
/*
 * Plug-in CA: reads the files again; a new root rotates in.  Returns 1
 * when the bundle changed, 0 when not, -1 (err) when the files are bad
 * (the CA in force stays).  Self-signed: 0.
 */
int		 ca_reload(struct ca *, int64_t now, uint64_t max_lifetime_s,
		    char *err, size_t errlen);
/*
 * Time passing: retired roots leave the bundle; a self-signed root near
 * its end rotates.  1 when the bundle changed, 0 when not, -1 (err) when
 * writing the state failed.  *next gets when to call it again.
 */
int		 ca_advance(struct ca *, const char *trust_domain, int64_t now,
		    uint64_t max_lifetime_s, int64_t *next, char *err,
		    size_t errlen);

/*
 * A CSR's DER: well formed, no larger than CA_CSR_MAX_BYTES, signed by
 * its own key with SHA-256 or stronger, a key that is ECDSA P-256, P-384
 * or P-521, Ed25519, or RSA 2048..8192 bits.  The request, or NULL with
 * the fault in err.
 */
X509_REQ	*ca_csr_read(const unsigned char *der, size_t len, char *err,
		    size_t errlen);
/*
 * The identity the CSR asks for: its subjectAltName must hold exactly
 * one name, a URI, copied into uri.  0, or -1 with err.
 */
int		 ca_csr_identity(X509_REQ *, char *uri, size_t len, char *err,
		    size_t errlen);
/*
 * A leaf for the CSR's key: no subject, spiffe_id as its only (critical)
 * subjectAltName, serverAuth and clientAuth, valid from now - 60 s for
 * lifetime_s (not past the signer's end), a random 128-bit serial.
 */
X509		*ca_sign(struct ca *, X509_REQ *, const char *spiffe_id,
		    int64_t now, uint64_t lifetime_s, char *err,
		    size_t errlen);

/* An ASN1_TIME as seconds since the epoch; INT64_MIN when unreadable. */
int64_t		 ca_asn1_seconds(const ASN1_TIME *);
/* A certificate's serial in lower-case hex into buf; "" when none. */
void		 ca_serial_hex(X509 *, char *buf, size_t len);

/*
 * Base64 (RFC 4648, padded, no line breaks).  Encoding writes a NUL;
 * out must hold ca_base64_len(n) bytes.  Decoding is strict (no
 * whitespace, padding required): the length, or -1.
 */
size_t		 ca_base64_len(size_t n);
void		 ca_base64_encode(const unsigned char *in, size_t n,
		    char *out);
long		 ca_base64_decode(const char *in, size_t n,
		    unsigned char *out, size_t outlen);

/*
 * The state directory (ca_state.c).  The state file lists the roots and
 * the generations, as a meshkit-ipc(7)-form message; the roots are
 * root-N.pem, the key of a self-signed one root-N-key.pem.
 */
int		 ca_state_load(struct ca *, char *err, size_t errlen);
int		 ca_state_save(struct ca *, char *err, size_t errlen);
/* Writes the file whole or not at all (temporary file and rename). */
int		 ca_write_file(const char *path, const void *, size_t,
		    int mode, char *err, size_t errlen);
/* PEM certificates of a file, at most max; -1 with err, else count. */
int		 ca_read_certs(const char *path, X509 **out, size_t max,
		    char *err, size_t errlen);
EVP_PKEY	*ca_read_key(const char *path, char *err, size_t errlen);
int		 ca_write_cert(const char *path, X509 *, char *err,
		    size_t errlen);
int		 ca_write_key(const char *path, EVP_PKEY *, char *err,
		    size_t errlen);

/* Who sent a message, as nng's IPC peer credentials tell. */
struct ca_peer {
	int		 known;		/* an ipc:// peer with credentials */
	uid_t		 uid;
	int		 trusted;	/* filter mode: the operator */
};

struct ca_stats {
	uint64_t	 start_ms;
	uint64_t	 messages;
	uint64_t	 bad_messages;
	uint64_t	 csrs;
	uint64_t	 issued;
	uint64_t	 refused;
	uint64_t	 errors;
	uint64_t	 rotations;
	uint64_t	 reloads;
	uint64_t	 reload_failures;
};

/* What one message is answered with (ca_wire.c). */
struct ca_env {
	const struct config	*config;
	uint64_t		 generation;	/* config's */
	int64_t			 now;		/* seconds since the epoch */
	const char		*trust_domain;
	uint64_t		 lifetime_s;
	struct ca_peer		 peer;
	uid_t			 own_uid;	/* tls-d's: may rotate */
	int			 record;	/* keep issued certs on disk */
	uint64_t		 jitter;	/* random, for renew-at */
	/* a refusal or a failure, for the log */
	void			(*warn)(void *, const char *who,
				    const char *what);
	void			*arg;
	/* set by a rotate-root: the bundle changed */
	int			 bundle_changed;
};

/*
 * The identity a proxy is entitled to: the Proxy resource named proxy
 * (or the ones of workload in namespace when proxy is empty) and its
 * service account, under the peer check of its uid.  0 with the SPIFFE
 * ID in id, or -1 with the reason in err.
 */
int		 ca_entitled(const struct config *, const char *trust_domain,
		    struct str proxy, struct str workload,
		    struct str namespace, const struct ca_peer *, char *id,
		    size_t idlen, char *err, size_t errlen);
/*
 * Answers one message (csr, bundle, cert-info, rotate-root, status) into
 * out.  Returns 0, or -1 when it was malformed (answered with error,
 * the reason in err).
 */
int		 ca_handle_message(struct ca *, struct ca_env *,
		    struct ca_stats *, const char *buf, size_t len,
		    struct msg_writer *out, char *err, size_t errlen);
/* The bundle's fields (bundle-reply, bundle-event) after msgw_begin. */
void		 ca_bundle_write(struct ca *, const char *trust_domain,
		    struct msg_writer *);
/*
 * renew-at for a leaf issued at issued (its notBefore is a minute
 * earlier, for clock skew) and valid until na: half of what is left,
 * plus up to a tenth more from jitter.
 */
int64_t		 ca_renew_at(int64_t issued, int64_t na, uint64_t jitter);

/*
 * What proxy-d and meshctl read: a csr-reply or cert-info-reply record,
 * a bundle-reply or bundle-event header.  Certificates are decoded and
 * owned by the struct (ca_answer_fini).
 */
enum ca_status {
	CA_STATUS_OK,
	CA_STATUS_REFUSED,
	CA_STATUS_ERROR,
	CA_STATUS_NONE,		/* cert-info: nothing issued */
};

struct ca_answer {
	uint64_t	 id;
	int		 has_id;
	enum ca_status	 status;
	char		 reason[256];
	char		 spiffe_id[256];
	X509		*cert;
	X509		*chain[CA_MAX_CHAIN];
	size_t		 nchain;
	X509		*roots[CA_MAX_ROOTS];
	size_t		 nroots;
	int64_t		 not_before;
	int64_t		 not_after;
	int64_t		 renew_at;
	int64_t		 issued_at;
	uint64_t	 bundle_generation;
	char		 trust_domain[256];
};

void		 ca_answer_init(struct ca_answer *);
void		 ca_answer_fini(struct ca_answer *);
/* A csr-reply or cert-info-reply record.  0, or -1 with err. */
int		 ca_answer_read(const struct msg *, const struct msg_block *,
		    struct ca_answer *, char *err, size_t errlen);
/* A bundle-reply or bundle-event: roots and generations.  0 or -1. */
int		 ca_bundle_read(const struct msg *, struct ca_answer *,
		    char *err, size_t errlen);

#endif
