/* SPDX-License-Identifier: ISC */
/*
 * proxy-d's identity (meshkit-ipc(7) csr, bundle-event): a key made in
 * memory, a CSR for the SPIFFE ID of its Proxy (namespace and service
 * account), the certificate tls-d signs, the trust bundle, and the
 * renewal at the time tls-d says (about half the lifetime, jittered).
 *
 * While tls-d is away the certificate in force stays until it expires;
 * the CSR is tried again with a growing back-off (a quarter of a second,
 * doubling to 30 s), and the log and the status file meshctl status
 * reads say so.  A new bundle (a root rotated in) goes into the context
 * at once, and a certificate signed by an older root is renewed soon
 * after, so that the old root can leave.
 *
 * The TLS contexts live here: two for mutual TLS in the mesh, with the
 * same certificate and bundle (see lib/tls.c): the accepting one keeps
 * the sessions it resumes, the connecting one the client sessions that
 * let pooled connections resume; and one per DestinationRule
 * origination setting (SIMPLE, MUTUAL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "log.h"
#include "msg.h"
#include "proxy.h"
#include "spiffe.h"
#include "tls.h"
#include "util.h"

#define IDENTITY_BACKOFF_MIN_MS		250
#define IDENTITY_BACKOFF_MAX_MS		30000
#define IDENTITY_ROTATE_SPREAD_MS	2000	/* renewals after a new root */
#define IDENTITY_SESSIONS		4096	/* client sessions kept */
#define IDENTITY_SERVER_SESSIONS	4096	/* and the server's */
#define IDENTITY_ORIGINATIONS		64	/* DestinationRule contexts */

struct identity {
	struct proxy		*proxy;
	struct ipc_req		*req;
	struct ipc_sub		*sub;
	struct event		*timer;
	SSL_CTX			*mesh;		/* accepting */
	SSL_CTX			*mesh_client;	/* connecting */
	struct tls_sessions	*sessions;
	int			 ready;		/* a certificate in mesh */
	int			 expired;
	EVP_PKEY		*key;		/* in force */
	X509			*cert;
	X509			*chain[CA_MAX_CHAIN];
	size_t			 nchain;
	X509			*roots[CA_MAX_ROOTS];
	size_t			 nroots;
	uint64_t		 bundle_generation;
	EVP_PKEY		*next_key;	/* of the CSR in flight */
	int			 inflight;
	uint64_t		 backoff_ms;
	int64_t			 not_after;
	int64_t			 renew_at;
	int64_t			 issued_at;
	char			 spiffe_id[SPIFFE_ID_MAX + 1];
	char			 error[256];	/* the last failure, "" none */
	struct ca_answer	 answer;
	struct strmap		 originations;	/* settings -> SSL_CTX */
	char			*status_path;
	uint64_t		 csrs;
	uint64_t		 renewals;
	uint64_t		 failures;
};

static void	identity_schedule(struct identity *, uint64_t);
static void	identity_timer_cb(evutil_socket_t, short, void *);
static void	identity_request(struct identity *);
static void	identity_failed(struct identity *, const char *);
static int	identity_read(void *, const struct msg *,
		    const struct msg_block *, uint64_t *, int *, char *,
		    size_t);
static void	identity_answer(void *, void *);
static void	identity_fail(void *, void *, const char *);
static void	identity_connected(void *, int);
static void	identity_bundle_event(void *, const struct msg *);
static int	identity_install(struct identity *);
static int	identity_set(struct identity *, EVP_PKEY *, X509 *,
		    X509 *const *, size_t, X509 *const *, size_t, char *,
		    size_t);
static int	identity_set_roots(struct identity *, X509 *const *, size_t,
		    uint64_t);
static int	identity_from_newest(const struct identity *);
static void	identity_status(struct identity *, const char *);
static void	identity_clear(struct identity *);
static int	identity_contexts(struct identity *);

static const struct ipc_req_ops identity_ops = {
	.daemon = "tls-d",
	.type = "csr",
	.reply = "csr-reply",
	.read = identity_read,
	.answer = identity_answer,
	.fail = identity_fail,
	.connected = identity_connected,
};

static void
identity_schedule(struct identity *id, uint64_t ms)
{
	struct timeval	 tv;

	tv = util_ms_timeval(ms);
	evtimer_add(id->timer, &tv);
}

/* Time to ask, or to see whether the certificate has expired. */
static void
identity_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct identity	*id = arg;
	int64_t		 now = (int64_t)time(NULL);

	if (id->ready && !id->expired && now >= id->not_after) {
		id->expired = 1;
		id->ready = 0;
		log_warnx("tls: the certificate of %s expired at %lld; no "
		    "mutual TLS until tls-d signs a new one", id->spiffe_id,
		    (long long)id->not_after);
		identity_status(id, "expired");
	}
	identity_request(id);
}

static void
identity_request(struct identity *id)
{
	const struct proxy_config	*pc = id->proxy->gen->pc;
	const struct config		*cfg = id->proxy->gen->config;
	struct msg_writer		*w;
	char				 want[SPIFFE_ID_MAX + 1], err[256];
	char				*csr;

	if (id->inflight)
		return;
	if (spiffe_id_format(want, sizeof(want), config_trust_domain(cfg),
	    pc->workload_namespace, pc->service_account, err,
	    sizeof(err)) == -1) {
		identity_failed(id, err);
		return;
	}
	EVP_PKEY_free(id->next_key);
	if ((id->next_key = tls_key_new()) == NULL ||
	    (csr = tls_csr_base64(id->next_key, want, err, sizeof(err))) ==
	    NULL) {
		ERR_clear_error();
		identity_failed(id, "cannot make a key and a CSR");
		return;
	}
	if ((w = ipc_req_begin(id->req, pc)) == NULL) {
		free(csr);
		identity_failed(id, "tls-d is not reachable");
		return;
	}
	msgw_fieldf(w, "csr", "%s", csr);
	free(csr);
	ipc_req_end(id->req, id);
	id->inflight = 1;
	id->csrs++;
	log_debug("tls: asked tls-d for %s", want);
}

/* The CSR failed: keep what we have, try again later. */
static void
identity_failed(struct identity *id, const char *why)
{
	char	 until[64] = "";

	id->inflight = 0;
	id->failures++;
	util_strlcpy(id->error, why, sizeof(id->error));
	id->backoff_ms = id->backoff_ms == 0 ? IDENTITY_BACKOFF_MIN_MS :
	    id->backoff_ms * 2;
	if (id->backoff_ms > IDENTITY_BACKOFF_MAX_MS)
		id->backoff_ms = IDENTITY_BACKOFF_MAX_MS;
	if (id->ready)
		snprintf(until, sizeof(until), "; keeping the certificate "
		    "valid until %lld", (long long)id->not_after);
	/* the first failure of a run is worth a warning, the rest less */
	if (id->failures == 1 || id->backoff_ms == IDENTITY_BACKOFF_MAX_MS)
		log_warnx("tls: no certificate from tls-d: %s%s; retrying in "
		    "%llu ms", why, until, (unsigned long long)id->backoff_ms);
	else
		log_info("tls: no certificate from tls-d: %s%s; retrying in "
		    "%llu ms", why, until, (unsigned long long)id->backoff_ms);
	identity_status(id, id->ready ? "retrying" : id->expired ?
	    "expired" : "none");
	identity_schedule(id, id->backoff_ms - id->backoff_ms / 5 +
	    util_random() % (id->backoff_ms / 5 + 1));
}

static int
identity_read(void *arg, const struct msg *m, const struct msg_block *b,
    uint64_t *rid, int *has_id, char *err, size_t errlen)
{
	struct identity	*id = arg;

	if (ca_answer_read(m, b, &id->answer, err, errlen) == -1)
		return -1;
	*rid = id->answer.id;
	*has_id = id->answer.has_id;
	return 0;
}

static void
identity_fail(void *arg, void *item, const char *reason)
{
	identity_failed(arg, reason);
}

static void
identity_answer(void *arg, void *item)
{
	struct identity	*id = arg;
	char		 why[300];

	id->inflight = 0;
	if (id->answer.status != CA_STATUS_OK) {
		snprintf(why, sizeof(why), "tls-d %s: %s",
		    id->answer.status == CA_STATUS_REFUSED ? "refused" :
		    "failed", id->answer.reason);
		ca_answer_fini(&id->answer);
		identity_failed(id, why);
		return;
	}
	if (identity_install(id) == -1) {
		ca_answer_fini(&id->answer);
		return;
	}
	ca_answer_fini(&id->answer);
}

/* A certificate from tls-d goes into the mesh context. */
static int
identity_install(struct identity *id)
{
	struct ca_answer	*a = &id->answer;
	char			 err[256], got[SPIFFE_ID_MAX + 1];
	int64_t			 now = (int64_t)time(NULL), delay;
	size_t			 i;

	if (tls_cert_spiffe_id(a->cert, got, sizeof(got)) == -1 ||
	    X509_check_private_key(a->cert, id->next_key) != 1) {
		ERR_clear_error();
		identity_failed(id, "tls-d's certificate is not for our key "
		    "and identity");
		return -1;
	}
	if (identity_set(id, id->next_key, a->cert, a->chain, a->nchain,
	    a->roots, a->nroots, err, sizeof(err)) == -1) {
		identity_failed(id, err);
		return -1;
	}
	identity_clear(id);
	id->key = id->next_key;
	id->next_key = NULL;
	id->cert = a->cert;
	a->cert = NULL;
	for (i = 0; i < a->nchain; i++)
		id->chain[i] = a->chain[i];
	id->nchain = a->nchain;
	a->nchain = 0;
	for (i = 0; i < a->nroots; i++)
		id->roots[i] = a->roots[i];
	id->nroots = a->nroots;
	a->nroots = 0;
	util_strlcpy(id->spiffe_id, got, sizeof(id->spiffe_id));
	id->not_after = a->not_after;
	id->renew_at = a->renew_at != 0 ? a->renew_at :
	    ca_renew_at(now, a->not_after, util_random());
	id->issued_at = now;
	id->ready = 1;
	id->expired = 0;
	id->backoff_ms = 0;
	id->failures = 0;
	id->error[0] = '\0';
	id->renewals++;
	delay = id->renew_at > now ? id->renew_at - now : 0;
	/* also wake at the end, in case renewals keep failing */
	if (id->not_after > now && id->not_after - now < delay)
		delay = id->not_after - now;
	log_info("tls: certificate %s valid until %lld, renewing in %lld s",
	    id->spiffe_id, (long long)id->not_after, (long long)delay);
	identity_status(id, "ok");
	identity_schedule(id, (uint64_t)delay * 1000);
	return 0;
}

/* Both mesh contexts take the certificate and bundle, or neither. */
static int
identity_set(struct identity *id, EVP_PKEY *key, X509 *cert,
    X509 *const *chain, size_t nchain, X509 *const *roots, size_t nroots,
    char *err, size_t errlen)
{
	if (tls_mesh_set_identity(id->mesh_client, key, cert, chain, nchain,
	    roots, nroots, err, errlen) == -1)
		return -1;
	if (tls_mesh_set_identity(id->mesh, key, cert, chain, nchain, roots,
	    nroots, err, errlen) == -1) {
		/* the connecting one back as it was (it took it before) */
		if (id->cert != NULL)
			(void)tls_mesh_set_identity(id->mesh_client, id->key,
			    id->cert, id->chain, id->nchain, id->roots,
			    id->nroots, err, errlen);
		return -1;
	}
	return 0;
}

static void
identity_clear(struct identity *id)
{
	size_t	 i;

	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	for (i = 0; i < id->nchain; i++)
		X509_free(id->chain[i]);
	for (i = 0; i < id->nroots; i++)
		X509_free(id->roots[i]);
	id->key = NULL;
	id->cert = NULL;
	id->nchain = id->nroots = 0;
}

/* Was the certificate signed under the newest root of the bundle? */
static int
identity_from_newest(const struct identity *id)
{
	X509	*top;

	if (id->cert == NULL || id->nroots == 0)
		return 1;
	top = id->nchain > 0 ? id->chain[id->nchain - 1] : id->cert;
	return X509_check_issued(id->roots[0], top) == X509_V_OK ||
	    X509_cmp(id->roots[0], top) == 0;
}

/* A bundle (ownership of the roots taken): in force at once. */
static int
identity_set_roots(struct identity *id, X509 *const *roots, size_t n,
    uint64_t generation)
{
	char	 err[256];
	size_t	 i;

	if (id->cert != NULL && identity_set(id, id->key, id->cert, id->chain,
	    id->nchain, roots, n, err, sizeof(err)) == -1) {
		log_warnx("tls: bundle generation %llu not taken: %s",
		    (unsigned long long)generation, err);
		return -1;
	}
	for (i = 0; i < id->nroots; i++)
		X509_free(id->roots[i]);
	for (i = 0; i < n; i++)
		id->roots[i] = roots[i];
	id->nroots = n;
	id->bundle_generation = generation;
	return 0;
}

static void
identity_bundle_event(void *arg, const struct msg *m)
{
	struct identity	*id = arg;
	struct ca_answer a;
	char		 err[128];

	if (!msg_type_is(m, "bundle-event"))
		return;
	ca_answer_init(&a);
	if (ca_bundle_read(m, &a, err, sizeof(err)) == -1) {
		log_warnx("tls: unreadable bundle-event: %s", err);
		ca_answer_fini(&a);
		return;
	}
	if (a.bundle_generation <= id->bundle_generation ||
	    identity_set_roots(id, a.roots, a.nroots,
	    a.bundle_generation) == -1) {
		ca_answer_fini(&a);
		return;
	}
	a.nroots = 0;		/* taken */
	ca_answer_fini(&a);
	log_info("tls: bundle generation %llu, %zu roots",
	    (unsigned long long)id->bundle_generation, id->nroots);
	/* signed by a root on its way out: renew soon, not all at once */
	if (id->ready && !identity_from_newest(id) && !id->inflight) {
		evtimer_del(id->timer);
		identity_schedule(id, util_random() %
		    IDENTITY_ROTATE_SPREAD_MS);
	}
}

/* tls-d is back: ask now if we wait for a certificate. */
static void
identity_connected(void *arg, int up)
{
	struct identity	*id = arg;

	if (up && !id->inflight && (!id->ready || id->error[0] != '\0')) {
		evtimer_del(id->timer);
		id->backoff_ms = 0;
		identity_schedule(id, 0);
	}
}

/*
 * The file meshctl status reads, in the run directory: what this proxy's
 * certificate is and whether renewing it works.
 */
static void
identity_status(struct identity *id, const char *state)
{
	const struct proxy_config	*pc = id->proxy->gen->pc;
	struct msg_writer		 w;
	char				 err[256];

	if (id->status_path == NULL)
		return;
	msgw_init(&w);
	msgw_begin(&w, "tls-status");
	msgw_fieldf(&w, "proxy", "%s", id->proxy->name);
	msgw_fieldf(&w, "workload", "%s", pc->workload_name);
	msgw_fieldf(&w, "namespace", "%s", pc->workload_namespace);
	msgw_field_u64(&w, "pid", (uint64_t)getpid());
	msgw_fieldf(&w, "state", "%s", state);
	if (id->cert != NULL) {
		msgw_fieldf(&w, "spiffe-id", "%s", id->spiffe_id);
		msgw_fieldf(&w, "not-after", "%lld", (long long)id->not_after);
		msgw_fieldf(&w, "renew-at", "%lld", (long long)id->renew_at);
		msgw_fieldf(&w, "issued-at", "%lld",
		    (long long)id->issued_at);
	}
	msgw_field_u64(&w, "bundle-generation", id->bundle_generation);
	msgw_fieldf(&w, "updated-at", "%lld", (long long)time(NULL));
	if (id->error[0] != '\0')
		msgw_fieldf(&w, "error", "%s", id->error);
	if (!w.overflow && ca_write_file(id->status_path, w.buf, w.len, 0644,
	    err, sizeof(err)) == -1)
		log_debug("tls: status file: %s", err);
	msgw_fini(&w);
}

/*
 * The mesh contexts, made when a generation first turns tls-d on: a proxy
 * without mTLS never initializes OpenSSL's TLS side (megabytes of RSS).
 */
static int
identity_contexts(struct identity *id)
{
	char	 err[256];

	if (id->mesh != NULL)
		return 0;
	if ((id->mesh = tls_mesh_ctx_new(err, sizeof(err))) == NULL ||
	    (id->mesh_client = tls_mesh_ctx_new(err, sizeof(err))) == NULL) {
		log_warnx("tls: %s", err);
		SSL_CTX_free(id->mesh);
		id->mesh = NULL;
		return -1;
	}
	tls_mesh_server_sessions(id->mesh, IDENTITY_SERVER_SESSIONS);
	if (tls_sessions_attach(id->mesh_client, id->sessions) == -1) {
		log_warnx("tls: session cache");
		SSL_CTX_free(id->mesh);
		SSL_CTX_free(id->mesh_client);
		id->mesh = id->mesh_client = NULL;
		return -1;
	}
	return 0;
}

/* The contexts and caches, with or without tls-d. */
void
identity_init(struct proxy *p)
{
	struct identity	*id;

	id = p->identity = xcalloc(1, sizeof(*id));
	id->proxy = p;
	id->sessions = tls_sessions_new(IDENTITY_SESSIONS);
	id->timer = evtimer_new(p->base, identity_timer_cb, id);
	strmap_init(&id->originations);
	ca_answer_init(&id->answer);
}

void
identity_configure(struct proxy *p, const struct proxy_config *pc)
{
	struct identity		*id = p->identity;
	const struct proxy_daemon *d = &pc->tls;
	char			 err[256], want[SPIFFE_ID_MAX + 1];

	if (!d->enabled)
		return;		/* kept for connections of older generations */
	if (identity_contexts(id) == -1)
		return;
	if (id->req != NULL && strcmp(ipc_req_address(id->req),
	    d->address) == 0 && strcmp(ipc_sub_address(id->sub),
	    d->events) == 0) {
		ipc_req_set_timeout(id->req, d->timeout_ms);
		/* a new namespace or service account: ask for it */
		if (id->ready && !id->inflight && spiffe_id_format(want,
		    sizeof(want), config_trust_domain(p->gen->config),
		    pc->workload_namespace, pc->service_account, err,
		    sizeof(err)) == 0 && strcmp(want, id->spiffe_id) != 0) {
			evtimer_del(id->timer);
			identity_schedule(id, 0);
		}
		return;
	}
	if (id->req != NULL) {
		ipc_req_free(id->req);
		ipc_sub_free(id->sub);
		id->inflight = 0;
	}
	if (id->status_path == NULL)
		xasprintf(&id->status_path, "%s/tls-%s.status", util_rundir(),
		    p->name);
	id->req = ipc_req_new(p, &identity_ops, id, d->address, d->timeout_ms,
	    1);
	id->sub = ipc_sub_new(p, "tls-d bundle", d->events,
	    identity_bundle_event, id);
	evtimer_del(id->timer);
	identity_schedule(id, 0);
}

void
identity_fini(struct proxy *p)
{
	struct identity	*id = p->identity;
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	if (id == NULL)
		return;
	/* the question still out fails into us: free the client first */
	if (id->req != NULL) {
		ipc_req_free(id->req);
		ipc_sub_free(id->sub);
	}
	event_free(id->timer);
	while (strmap_next(&id->originations, &pos, &key, &value))
		SSL_CTX_free(value);
	strmap_fini(&id->originations);
	SSL_CTX_free(id->mesh);
	SSL_CTX_free(id->mesh_client);
	tls_sessions_free(id->sessions);
	identity_clear(id);
	EVP_PKEY_free(id->next_key);
	ca_answer_fini(&id->answer);
	if (id->status_path != NULL && unlink(id->status_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", id->status_path);
	free(id->status_path);
	if (id->csrs > 0)
		log_info("tls: %llu CSRs, %llu certificates",
		    (unsigned long long)id->csrs,
		    (unsigned long long)id->renewals);
	free(id);
	p->identity = NULL;
}

SSL_CTX *
identity_mesh(const struct proxy *p)
{
	return p->identity->ready ? p->identity->mesh : NULL;
}

SSL_CTX *
identity_mesh_client(const struct proxy *p)
{
	return p->identity->ready ? p->identity->mesh_client : NULL;
}

const char *
identity_spiffe_id(const struct proxy *p)
{
	return p->identity->ready ? p->identity->spiffe_id : NULL;
}

struct tls_sessions *
identity_sessions(const struct proxy *p)
{
	return p->identity->sessions;
}

/*
 * The context of a DestinationRule's SIMPLE or MUTUAL settings, made
 * once (its files read then) and kept.  NULL with err.
 */
SSL_CTX *
identity_origination(struct proxy *p, const struct tls_origination *o,
    char *err, size_t errlen)
{
	struct identity	*id = p->identity;
	SSL_CTX		*ctx;
	char		 key[2048];
	int		 n;

	n = snprintf(key, sizeof(key), "%d|%s|%s|%s|%s|%d", o->mutual,
	    o->ca_certificates != NULL ? o->ca_certificates : "",
	    o->ca_crl != NULL ? o->ca_crl : "",
	    o->client_certificate != NULL ? o->client_certificate : "",
	    o->private_key != NULL ? o->private_key : "",
	    o->insecure_skip_verify);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		snprintf(err, errlen, "file names too long");
		return NULL;
	}
	if ((ctx = strmap_get(&id->originations, key, (size_t)n)) != NULL)
		return ctx;
	if (id->originations.n >= IDENTITY_ORIGINATIONS) {
		snprintf(err, errlen, "more than %d TLS origination settings",
		    IDENTITY_ORIGINATIONS);
		return NULL;
	}
	if ((ctx = tls_origination_ctx_new(o, err, errlen)) == NULL)
		return NULL;
	tls_sessions_attach(ctx, id->sessions);
	strmap_put(&id->originations, key, (size_t)n, ctx);
	return ctx;
}

/* For the log at exit and the status. */
int
identity_enabled(const struct proxy *p)
{
	return p->identity != NULL && p->identity->req != NULL;
}
