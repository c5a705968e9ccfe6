/* SPDX-License-Identifier: ISC */
/*
 * tls-d's messages (meshkit-ipc(7) csr, bundle, cert-info, rotate-root,
 * status) and their readers for proxy-d and meshctl (ca.h).
 *
 * Entitlement: a proxy gets the identity of its Proxy resource, and only
 * that one.  When the resource names a uid, the message must have come
 * over an ipc:// socket from a process of that uid; the daemon reads the
 * peer's credentials from nng and passes them in struct ca_env.
 *
 * The last certificate issued to each workload is kept in
 * STATE/issued/NAMESPACE/WORKLOAD (the csr-reply record, as a message),
 * so that meshctl tls cert can show it, across restarts of tls-d too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ca.h"
#include "config.h"
#include "msg.h"
#include "route.h"
#include "spiffe.h"
#include "util.h"

#define CA_PROGRAM		"tls-d"
#define CA_ISSUED_MAX		(64 * 1024)
#define CA_DER_MAX		(64 * 1024)	/* a certificate we read */

/* The asking proxy, from a request's header. */
struct ca_who {
	struct str	 workload;
	struct str	 namespace;
	struct str	 proxy;
	char		 text[200];	/* for logs */
};

static void	ca_error_reply(struct msg_writer *, const char *);
static void	ca_status_reply(struct ca *, const struct ca_env *,
		    const struct ca_stats *, struct msg_writer *);
static void	ca_who_read(const struct msg *, const struct ca_env *,
		    struct ca_who *);
static void	ca_write_cert_field(struct msg_writer *, const char *,
		    X509 *);
static void	ca_refuse(struct ca_env *, struct ca_stats *,
		    const struct ca_who *, struct msg_writer *,
		    enum ca_status, const char *);
static void	ca_answer_csr(struct ca *, struct ca_env *,
		    struct ca_stats *, const struct ca_who *,
		    const struct msg *, const struct msg_block *,
		    struct msg_writer *);
static int	ca_issued_path(const struct ca *, struct str, struct str,
		    char *, size_t);
static void	ca_record_issued(struct ca *, struct ca_env *,
		    const struct ca_who *, const char *, size_t);
static void	ca_cert_info(struct ca *, struct ca_env *,
		    const struct ca_who *, struct msg_writer *);
static void	ca_rotate_reply(struct ca *, struct ca_env *,
		    struct ca_stats *, struct msg_writer *);
static X509	*ca_der_field(struct str, char *, size_t);
static int	ca_i64_field(struct str, int64_t *);

static void
ca_error_reply(struct msg_writer *out, const char *reason)
{
	msgw_reset(out);
	msgw_begin(out, "error");
	msgw_fieldf(out, "reason", "%s", reason);
	msgw_fieldf(out, "versions", "%d", MSG_VERSION);
}

static void
ca_status_reply(struct ca *ca, const struct ca_env *env,
    const struct ca_stats *st, struct msg_writer *out)
{
	int64_t	 na;

	msgw_begin(out, "status-reply");
	msgw_field(out, "program", STR_LIT(CA_PROGRAM));
	msgw_field(out, "version", STR_LIT(MESHKIT_VERSION));
	msgw_field_u64(out, "pid", (uint64_t)getpid());
	msgw_field_u64(out, "generation", env->generation);
	msgw_field_u64(out, "uptime-ms", util_now_ms() - st->start_ms);
	msgw_field(out, "ca", ca->cacerts_dir != NULL ? STR_LIT("plug-in") :
	    STR_LIT("self-signed"));
	msgw_fieldf(out, "trust-domain", "%s", env->trust_domain);
	msgw_field_u64(out, "root-generation", ca->root_generation);
	msgw_field_u64(out, "bundle-generation", ca->bundle_generation);
	msgw_field_u64(out, "roots", ca->nroots);
	if (ca->signer != NULL && (na = ca_asn1_seconds(
	    X509_get0_notAfter(ca->signer))) != INT64_MIN)
		msgw_fieldf(out, "ca-not-after", "%lld", (long long)na);
	msgw_field_u64(out, "messages", st->messages);
	msgw_field_u64(out, "bad-messages", st->bad_messages);
	msgw_field_u64(out, "csrs", st->csrs);
	msgw_field_u64(out, "issued", st->issued);
	msgw_field_u64(out, "refused", st->refused);
	msgw_field_u64(out, "errors", st->errors);
	msgw_field_u64(out, "rotations", st->rotations);
	msgw_field_u64(out, "reloads", st->reloads);
	msgw_field_u64(out, "reload-failures", st->reload_failures);
}

static void
ca_who_read(const struct msg *m, const struct ca_env *env,
    struct ca_who *who)
{
	char	 peer[32] = "";

	memset(who, 0, sizeof(*who));
	who->workload = msg_get(m, &m->header, "workload");
	who->namespace = msg_get(m, &m->header, "namespace");
	who->proxy = msg_get(m, &m->header, "proxy");
	if (who->workload.p == NULL)
		who->workload = STR_LIT("");
	if (who->namespace.p == NULL || who->namespace.n == 0)
		who->namespace = STR_LIT(CONFIG_DEFAULT_NAMESPACE);
	if (who->proxy.p == NULL)
		who->proxy = STR_LIT("");
	if (env->peer.known)
		snprintf(peer, sizeof(peer), ", uid %u",
		    (unsigned)env->peer.uid);
	snprintf(who->text, sizeof(who->text), "workload %.*s namespace "
	    "%.*s%s%.*s%s", (int)(who->workload.n > 64 ? 64 :
	    who->workload.n), who->workload.p, (int)(who->namespace.n > 64 ?
	    64 : who->namespace.n), who->namespace.p, who->proxy.n > 0 ?
	    " proxy " : "", (int)(who->proxy.n > 64 ? 64 : who->proxy.n),
	    who->proxy.p, peer);
}

int
ca_entitled(const struct config *cfg, const char *trust_domain,
    struct str proxy, struct str workload, struct str namespace,
    const struct ca_peer *peer, char *id, size_t idlen, char *err,
    size_t errlen)
{
	const struct proxy_config	*pc, *found = NULL;
	size_t				 i;

	if (workload.n == 0 && proxy.n == 0) {
		snprintf(err, errlen, "header: workload: missing");
		return -1;
	}
	for (i = 0; cfg != NULL && i < cfg->nproxies; i++) {
		pc = &cfg->proxies[i];
		if (proxy.n > 0 && !util_str_eq(proxy, pc->meta.name))
			continue;
		if (workload.n > 0 && !util_str_eq(workload,
		    pc->workload_name))
			continue;
		if (!util_str_eq(namespace, pc->workload_namespace))
			continue;
		/* two Proxy resources for one workload must agree */
		if (found != NULL && (strcmp(found->service_account,
		    pc->service_account) != 0 || found->uid != pc->uid)) {
			snprintf(err, errlen, "Proxy resources %s and %s give "
			    "workload %s different identities; name the "
			    "proxy", found->meta.name, pc->meta.name,
			    pc->workload_name);
			return -1;
		}
		found = pc;
	}
	if (found == NULL) {
		snprintf(err, errlen, "no Proxy resource for %s%.*s%s%.*s in "
		    "namespace %.*s", proxy.n > 0 ? "proxy " : "",
		    (int)(proxy.n > 64 ? 64 : proxy.n), proxy.p,
		    proxy.n > 0 && workload.n > 0 ? ", workload " :
		    workload.n > 0 ? "workload " : "",
		    (int)(workload.n > 64 ? 64 : workload.n), workload.p,
		    (int)(namespace.n > 64 ? 64 : namespace.n), namespace.p);
		return -1;
	}
	if (found->uid != -1 && !peer->trusted && (!peer->known ||
	    (int64_t)peer->uid != found->uid)) {
		if (peer->known)
			snprintf(err, errlen, "Proxy %s runs as uid %lld; the "
			    "peer is uid %u", found->meta.name,
			    (long long)found->uid, (unsigned)peer->uid);
		else
			snprintf(err, errlen, "Proxy %s runs as uid %lld; the "
			    "peer's uid is unknown (not an ipc:// socket)",
			    found->meta.name, (long long)found->uid);
		return -1;
	}
	return spiffe_id_format(id, idlen, trust_domain,
	    found->workload_namespace, found->service_account, err, errlen);
}

static void
ca_write_cert_field(struct msg_writer *out, const char *key, X509 *x)
{
	unsigned char	*der = NULL;
	char		*b64;
	int		 n;

	if ((n = i2d_X509(x, &der)) <= 0) {
		ERR_clear_error();
		return;
	}
	b64 = xmalloc(ca_base64_len((size_t)n));
	ca_base64_encode(der, (size_t)n, b64);
	msgw_field(out, key, (struct str){ b64, strlen(b64) });
	free(b64);
	OPENSSL_free(der);
}

void
ca_bundle_write(struct ca *ca, const char *trust_domain,
    struct msg_writer *out)
{
	size_t	 i;

	msgw_field_u64(out, "bundle-generation", ca->bundle_generation);
	msgw_fieldf(out, "trust-domain", "%s", trust_domain);
	for (i = 0; i < ca->nroots; i++)
		ca_write_cert_field(out, "root", ca->roots[i].cert);
}

int64_t
ca_renew_at(int64_t issued, int64_t na, uint64_t jitter)
{
	int64_t	 life = na > issued ? na - issued : 0;

	return issued + life / 2 +
	    (int64_t)(jitter % (uint64_t)(life / 10 + 1));
}

static void
ca_refuse(struct ca_env *env, struct ca_stats *st, const struct ca_who *who,
    struct msg_writer *out, enum ca_status status, const char *reason)
{
	msgw_field(out, "status", status == CA_STATUS_ERROR ?
	    STR_LIT("error") : STR_LIT("refused"));
	msgw_fieldf(out, "reason", "%s", reason);
	if (status == CA_STATUS_ERROR)
		st->errors++;
	else
		st->refused++;
	if (env->warn != NULL)
		env->warn(env->arg, who->text, reason);
}

static void
ca_answer_csr(struct ca *ca, struct ca_env *env, struct ca_stats *st,
    const struct ca_who *who, const struct msg *m,
    const struct msg_block *b, struct msg_writer *out)
{
	unsigned char	 der[CA_CSR_MAX_BYTES];
	char		 entitled[SPIFFE_ID_MAX + 1], asked[SPIFFE_ID_MAX + 1];
	char		 reason[SPIFFE_ID_MAX * 2 + 128], serial[80];
	X509_REQ	*req = NULL;
	X509		*x = NULL;
	struct str	 csr;
	size_t		 i, start;
	int64_t		 nb, na;
	long		 n;

	st->csrs++;
	csr = msg_get(m, b, "csr");
	if (csr.p == NULL) {
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED,
		    "csr: missing");
		return;
	}
	if (csr.n > ca_base64_len(CA_CSR_MAX_BYTES)) {
		snprintf(reason, sizeof(reason), "CSR larger than %d bytes",
		    CA_CSR_MAX_BYTES);
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED, reason);
		return;
	}
	if ((n = ca_base64_decode(csr.p, csr.n, der, sizeof(der))) < 0) {
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED,
		    "csr: not base64 (RFC 4648, padded, one line)");
		return;
	}
	if (ca_entitled(env->config, env->trust_domain, who->proxy,
	    who->workload, who->namespace, &env->peer, entitled,
	    sizeof(entitled), reason, sizeof(reason)) == -1) {
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED, reason);
		return;
	}
	if ((req = ca_csr_read(der, (size_t)n, reason, sizeof(reason))) ==
	    NULL || ca_csr_identity(req, asked, sizeof(asked), reason,
	    sizeof(reason)) == -1) {
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED, reason);
		goto done;
	}
	if (strcmp(asked, entitled) != 0) {
		snprintf(reason, sizeof(reason), "CSR asks for %.512s; this "
		    "proxy is entitled to %.512s only", asked, entitled);
		ca_refuse(env, st, who, out, CA_STATUS_REFUSED, reason);
		goto done;
	}
	if ((x = ca_sign(ca, req, entitled, env->now, env->lifetime_s,
	    reason, sizeof(reason))) == NULL) {
		ca_refuse(env, st, who, out, CA_STATUS_ERROR, reason);
		goto done;
	}
	st->issued++;
	start = out->len;
	nb = ca_asn1_seconds(X509_get0_notBefore(x));
	na = ca_asn1_seconds(X509_get0_notAfter(x));
	ca_serial_hex(x, serial, sizeof(serial));
	msgw_field(out, "status", STR_LIT("ok"));
	msgw_fieldf(out, "spiffe-id", "%s", entitled);
	ca_write_cert_field(out, "cert", x);
	for (i = 0; i < ca->nchain; i++)
		ca_write_cert_field(out, "chain", ca->chain[i]);
	for (i = 0; i < ca->nroots; i++)
		ca_write_cert_field(out, "root", ca->roots[i].cert);
	msgw_fieldf(out, "serial", "%s", serial);
	msgw_fieldf(out, "not-before", "%lld", (long long)nb);
	msgw_fieldf(out, "not-after", "%lld", (long long)na);
	msgw_fieldf(out, "renew-at", "%lld", (long long)ca_renew_at(env->now,
	    na, env->jitter));
	if (env->record && !out->overflow)
		ca_record_issued(ca, env, who, out->buf + start,
		    out->len - start);
done:
	X509_free(x);
	X509_REQ_free(req);
}

/* STATE/issued/NS/WORKLOAD, for names that are safe as file names. */
static int
ca_issued_path(const struct ca *ca, struct str workload, struct str ns,
    char *path, size_t len)
{
	if (!spiffe_segment_ok(workload) || !spiffe_segment_ok(ns) ||
	    workload.p[0] == '.' || ns.p[0] == '.')
		return -1;
	if ((size_t)snprintf(path, len, "%s/issued/%.*s/%.*s",
	    ca->state_dir, (int)ns.n, ns.p, (int)workload.n, workload.p) >=
	    len)
		return -1;
	return 0;
}

static void
ca_record_issued(struct ca *ca, struct ca_env *env, const struct ca_who *who,
    const char *fields, size_t n)
{
	struct msg_writer	 w;
	char			 path[4096], err[256], *slash, *data;
	struct str		 wl = who->workload;

	if (wl.n == 0)
		wl = who->proxy;
	if (ca_issued_path(ca, wl, who->namespace, path, sizeof(path)) ==
	    -1) {
		if (env->warn != NULL)
			env->warn(env->arg, who->text, "not recorded for "
			    "meshctl: names unfit for a file name");
		return;
	}
	/* issued/ and issued/NS/ */
	slash = strrchr(path, '/');
	*slash = '\0';
	*strrchr(path, '/') = '\0';
	(void)mkdir(path, 0700);
	path[strlen(path)] = '/';
	(void)mkdir(path, 0700);
	*slash = '/';
	msgw_init(&w);
	msgw_begin(&w, "tls-d-issued");
	msgw_field(&w, "workload", wl);
	msgw_field(&w, "namespace", who->namespace);
	msgw_field(&w, "proxy", who->proxy);
	msgw_fieldf(&w, "issued-at", "%lld", (long long)env->now);
	msgw_record(&w);
	if (w.overflow) {
		msgw_fini(&w);
		return;
	}
	/* the header, then the csr-reply record's fields as written */
	data = xmalloc(w.len + n);
	memcpy(data, w.buf, w.len);
	memcpy(data + w.len, fields, n);
	if (ca_write_file(path, data, w.len + n, 0600, err, sizeof(err)) ==
	    -1 && env->warn != NULL)
		env->warn(env->arg, who->text, err);
	free(data);
	msgw_fini(&w);
}

static void
ca_cert_info(struct ca *ca, struct ca_env *env, const struct ca_who *who,
    struct msg_writer *out)
{
	struct msg	 m;
	char		 path[4096], err[256], key[MSG_MAX_KEY + 1];
	char		*buf = NULL;
	size_t		 len, i;
	int		 ok = 0;

	msgw_record(out);
	msgw_field(out, "workload", who->workload);
	msgw_field(out, "namespace", who->namespace);
	msg_init(&m);
	if (ca_issued_path(ca, who->workload, who->namespace, path,
	    sizeof(path)) == 0 && (buf = util_read_file(path, CA_ISSUED_MAX,
	    &len, err, sizeof(err))) != NULL && msg_parse(&m, buf, len, err,
	    sizeof(err)) == 0 && msg_type_is(&m, "tls-d-issued") &&
	    m.nrecords == 1)
		ok = 1;
	if (!ok) {
		msgw_field(out, "status", STR_LIT("none"));
		msgw_fieldf(out, "reason", "tls-d has issued no certificate to "
		    "workload %.*s in namespace %.*s", (int)who->workload.n,
		    who->workload.p, (int)who->namespace.n,
		    who->namespace.p);
		goto done;
	}
	msgw_field(out, "proxy", msg_get(&m, &m.header, "proxy"));
	msgw_field(out, "issued-at", msg_get(&m, &m.header, "issued-at"));
	for (i = 0; i < m.records[0].count; i++) {
		const struct msg_field *f = &m.fields[m.records[0].first + i];

		/* the bundle as it is now, not as it was */
		if (util_str_eq(f->key, "root"))
			continue;
		memcpy(key, f->key.p, f->key.n);
		key[f->key.n] = '\0';
		msgw_field(out, key, f->value);
	}
	for (i = 0; i < ca->nroots; i++)
		ca_write_cert_field(out, "root", ca->roots[i].cert);
done:
	msg_fini(&m);
	free(buf);
}

static void
ca_rotate_reply(struct ca *ca, struct ca_env *env, struct ca_stats *st,
    struct msg_writer *out)
{
	char	 err[256];
	int	 allowed;

	allowed = env->peer.trusted || (env->peer.known &&
	    (env->peer.uid == 0 || env->peer.uid == env->own_uid));
	msgw_begin(out, "rotate-root-reply");
	if (!allowed) {
		snprintf(err, sizeof(err), "only tls-d's uid or root may "
		    "rotate, over an ipc:// socket");
	} else if (ca_rotate(ca, env->trust_domain, env->now,
	    env->lifetime_s, err, sizeof(err)) == 0) {
		st->rotations++;
		env->bundle_changed = 1;
		msgw_field(out, "status", STR_LIT("ok"));
		msgw_field_u64(out, "root-generation", ca->root_generation);
		msgw_field_u64(out, "bundle-generation",
		    ca->bundle_generation);
		return;
	}
	msgw_field(out, "status", STR_LIT("refused"));
	msgw_fieldf(out, "reason", "%s", err);
	msgw_field_u64(out, "root-generation", ca->root_generation);
	msgw_field_u64(out, "bundle-generation", ca->bundle_generation);
	if (env->warn != NULL)
		env->warn(env->arg, "rotate-root", err);
}

int
ca_handle_message(struct ca *ca, struct ca_env *env, struct ca_stats *st,
    const char *buf, size_t len, struct msg_writer *out, char *err,
    size_t errlen)
{
	struct msg	 m;
	struct ca_who	 who;
	uint64_t	 id;
	size_t		 i;
	int		 rc = -1;

	msgw_reset(out);
	st->messages++;
	msg_init(&m);
	if (msg_parse(&m, buf, len, err, errlen) == -1)
		goto bad;
	ca_who_read(&m, env, &who);
	if (msg_type_is(&m, "status"))
		ca_status_reply(ca, env, st, out);
	else if (msg_type_is(&m, "bundle")) {
		msgw_begin(out, "bundle-reply");
		ca_bundle_write(ca, env->trust_domain, out);
	} else if (msg_type_is(&m, "cert-info")) {
		msgw_begin(out, "cert-info-reply");
		msgw_field_u64(out, "generation", env->generation);
		ca_cert_info(ca, env, &who, out);
	} else if (msg_type_is(&m, "rotate-root"))
		ca_rotate_reply(ca, env, st, out);
	else if (msg_type_is(&m, "csr")) {
		for (i = 0; i < m.nrecords; i++)
			if (msg_get_u64(&m, &m.records[i], "id", &id) == -1) {
				snprintf(err, errlen, "record %zu: id: missing "
				    "or not a decimal number", i + 1);
				goto bad;
			}
		msgw_begin(out, "csr-reply");
		msgw_field_u64(out, "generation", env->generation);
		msgw_field_u64(out, "bundle-generation",
		    ca->bundle_generation);
		for (i = 0; i < m.nrecords && !out->overflow; i++) {
			msg_get_u64(&m, &m.records[i], "id", &id);
			msgw_record(out);
			msgw_field_u64(out, "id", id);
			ca_answer_csr(ca, env, st, &who, &m, &m.records[i],
			    out);
		}
	} else {
		snprintf(err, errlen, "unknown message type \"%.*s\"",
		    (int)(m.type.n > 64 ? 64 : m.type.n), m.type.p);
		goto bad;
	}
	if (out->overflow) {
		snprintf(err, errlen, "reply larger than 1 MiB: send fewer "
		    "CSRs per message");
		goto bad;
	}
	rc = 0;
	goto done;
bad:
	st->bad_messages++;
	ca_error_reply(out, err);
done:
	msg_fini(&m);
	return rc;
}

void
ca_answer_init(struct ca_answer *a)
{
	memset(a, 0, sizeof(*a));
}

void
ca_answer_fini(struct ca_answer *a)
{
	size_t	 i;

	X509_free(a->cert);
	for (i = 0; i < a->nchain; i++)
		X509_free(a->chain[i]);
	for (i = 0; i < a->nroots; i++)
		X509_free(a->roots[i]);
	memset(a, 0, sizeof(*a));
}

/* A base64 DER certificate; NULL with err. */
static X509 *
ca_der_field(struct str v, char *err, size_t errlen)
{
	const unsigned char	*p;
	unsigned char		*der;
	X509			*x = NULL;
	long			 n;

	if (v.n > ca_base64_len(CA_DER_MAX)) {
		snprintf(err, errlen, "certificate larger than %d bytes",
		    CA_DER_MAX);
		return NULL;
	}
	der = xmalloc(v.n / 4 * 3 + 1);
	if ((n = ca_base64_decode(v.p, v.n, der, v.n / 4 * 3 + 1)) <= 0) {
		snprintf(err, errlen, "certificate: not base64");
		goto done;
	}
	p = der;
	if ((x = d2i_X509(NULL, &p, n)) == NULL || p != der + n) {
		ERR_clear_error();
		X509_free(x);
		x = NULL;
		snprintf(err, errlen, "certificate: not an X.509 DER");
	}
done:
	free(der);
	return x;
}

static int
ca_i64_field(struct str v, int64_t *out)
{
	uint64_t	 u;

	if (msg_str_u64(v, &u) == -1 || u > INT64_MAX)
		return -1;
	*out = (int64_t)u;
	return 0;
}

int
ca_answer_read(const struct msg *m, const struct msg_block *b,
    struct ca_answer *a, char *err, size_t errlen)
{
	const struct msg_field	*f;
	char			 e[128];
	size_t			 i;
	int			 seen_status = 0;

	ca_answer_fini(a);
	for (i = b->first; i < b->first + b->count; i++) {
		f = &m->fields[i];
		if (util_str_eq(f->key, "id")) {
			if (a->has_id)
				continue;
			if (msg_str_u64(f->value, &a->id) == -1) {
				snprintf(err, errlen, "id: not a number");
				return -1;
			}
			a->has_id = 1;
		} else if (util_str_eq(f->key, "status") && !seen_status) {
			seen_status = 1;
			if (util_str_eq(f->value, "ok"))
				a->status = CA_STATUS_OK;
			else if (util_str_eq(f->value, "refused"))
				a->status = CA_STATUS_REFUSED;
			else if (util_str_eq(f->value, "error"))
				a->status = CA_STATUS_ERROR;
			else if (util_str_eq(f->value, "none"))
				a->status = CA_STATUS_NONE;
			else {
				snprintf(err, errlen, "status: unknown");
				return -1;
			}
		} else if (util_str_eq(f->key, "reason")) {
			snprintf(a->reason, sizeof(a->reason), "%.*s",
			    (int)f->value.n, f->value.p);
		} else if (util_str_eq(f->key, "spiffe-id")) {
			snprintf(a->spiffe_id, sizeof(a->spiffe_id), "%.*s",
			    (int)f->value.n, f->value.p);
		} else if (util_str_eq(f->key, "cert") && a->cert == NULL) {
			if ((a->cert = ca_der_field(f->value, e,
			    sizeof(e))) == NULL) {
				snprintf(err, errlen, "cert: %s", e);
				return -1;
			}
		} else if (util_str_eq(f->key, "chain") ||
		    util_str_eq(f->key, "root")) {
			int	 root = util_str_eq(f->key, "root");
			X509	*x;

			if ((root ? a->nroots == CA_MAX_ROOTS :
			    a->nchain == CA_MAX_CHAIN))
				continue;
			if ((x = ca_der_field(f->value, e, sizeof(e))) ==
			    NULL) {
				snprintf(err, errlen, "%s: %s", root ? "root" :
				    "chain", e);
				return -1;
			}
			if (root)
				a->roots[a->nroots++] = x;
			else
				a->chain[a->nchain++] = x;
		} else if (util_str_eq(f->key, "not-before") ||
		    util_str_eq(f->key, "not-after") ||
		    util_str_eq(f->key, "renew-at") ||
		    util_str_eq(f->key, "issued-at")) {
			int64_t *t = util_str_eq(f->key, "not-before") ?
			    &a->not_before : util_str_eq(f->key, "not-after") ?
			    &a->not_after : util_str_eq(f->key, "renew-at") ?
			    &a->renew_at : &a->issued_at;

			if (ca_i64_field(f->value, t) == -1) {
				snprintf(err, errlen, "%.*s: not a number",
				    (int)f->key.n, f->key.p);
				return -1;
			}
		}
	}
	if (!seen_status) {
		snprintf(err, errlen, "status: missing");
		return -1;
	}
	if (a->status == CA_STATUS_OK && (a->cert == NULL ||
	    a->nroots == 0 || a->not_after == 0)) {
		snprintf(err, errlen, "an ok answer without cert, root or "
		    "not-after");
		return -1;
	}
	return 0;
}

int
ca_bundle_read(const struct msg *m, struct ca_answer *a, char *err,
    size_t errlen)
{
	const struct msg_field	*f;
	struct str		 td;
	char			 e[128];
	size_t			 i;
	X509			*x;

	ca_answer_fini(a);
	if (msg_get_u64(m, &m->header, "bundle-generation",
	    &a->bundle_generation) == -1) {
		snprintf(err, errlen, "bundle-generation: missing");
		return -1;
	}
	td = msg_get(m, &m->header, "trust-domain");
	if (td.p != NULL)
		snprintf(a->trust_domain, sizeof(a->trust_domain), "%.*s",
		    (int)td.n, td.p);
	for (i = m->header.first; i < m->header.first + m->header.count;
	    i++) {
		f = &m->fields[i];
		if (!util_str_eq(f->key, "root") || a->nroots == CA_MAX_ROOTS)
			continue;
		if ((x = ca_der_field(f->value, e, sizeof(e))) == NULL) {
			snprintf(err, errlen, "root: %s", e);
			return -1;
		}
		a->roots[a->nroots++] = x;
	}
	if (a->nroots == 0) {
		snprintf(err, errlen, "a bundle without root");
		return -1;
	}
	return 0;
}
