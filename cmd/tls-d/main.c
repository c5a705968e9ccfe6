/* SPDX-License-Identifier: ISC */
/*
 * tls-d: the mesh's certificate authority (meshkit-ipc(7) csr, bundle,
 * cert-info, rotate-root, status).  It signs the CSRs of proxy-d with a
 * self-signed root it keeps in its state directory, or with a plug-in CA
 * in Istio's cacerts layout, for the identity each proxy's Proxy resource
 * entitles it to; it publishes the trust bundle on a PUB socket whenever
 * the bundle changes (a root rotation, a root retired).
 *
 * Serving, signals, the watch and reloads are lib/daemon.c's; the CA
 * (lib/ca.c) is used under one mutex: signing a leaf costs tens of
 * microseconds, and proxies ask about once per half lifetime.  The main
 * thread's tick retires old roots and rotates a self-signed root near its
 * end.  The CA key never leaves this process but to its state directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "ca.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "privdrop.h"
#include "spiffe.h"
#include "util.h"

#define TLSD_WARN_PER_SEC	20	/* refusals logged, then counted */
#define TLSD_TICK_MAX_MS	60000	/* the clock is looked at this often */
#define TLSD_PEM_MAX		(4 * 1024 * 1024)

struct tls_d {
	struct daemon		 d;
	const char		*state_dir;
	const char		*cacerts_dir;
	char			*pub_url;
	char			*pub_ipc_path;
	nng_socket		 pub;
	int			 pub_open;
	struct ca		*ca;
	struct ca_stats		 stats;
	int64_t			 fixed_now;	/* -t: the clock, 0: real */
	pthread_mutex_t		 lock;		/* ca, stats, config */
	struct msg_writer	 event;
	/* rate limit of refusal logs */
	uint64_t		 warn_window;
	unsigned		 warn_logged;
	unsigned		 warn_dropped;
};

/* What tls-d decides from: Proxy (entitlement) and MeshConfig. */
static const char *const tlsd_kinds[] = { "Proxy", "MeshConfig" };

static _Noreturn void usage(void);
static int64_t	tlsd_now(const struct tls_d *);
static void	tlsd_env(struct tls_d *, struct ca_env *);
static void	tlsd_warn(void *, const char *, const char *);
static void	tlsd_publish(struct tls_d *);
static void	filter_one(void *, const char *, size_t, size_t,
		    struct msg_writer *);
static int	filter_pem(struct tls_d *, const char *, size_t);
static void	handle(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
static void	apply(struct daemon *, struct config *, uint64_t);
static void	reload_failed(struct daemon *);
static uint64_t	on_clock(struct daemon *);
static int	pub_open(struct tls_d *);
static int	ca_load(struct tls_d *, char *, size_t);
static int	state_dir_ready(const char *);
static void	pub_close(struct tls_d *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: tls-d [-fnqv] [-C cacerts] [-c dir] "
	    "[-d statedir] [-e url] [-l file]\n"
	    "             [-p pidfile] [-s url] [-t now] [-u user]\n");
	exit(2);
}

static int64_t
tlsd_now(const struct tls_d *td)
{
	return td->fixed_now != 0 ? td->fixed_now : (int64_t)time(NULL);
}

/* Under the lock: what a message is answered with. */
static void
tlsd_env(struct tls_d *td, struct ca_env *env)
{
	memset(env, 0, sizeof(*env));
	env->config = td->d.config;
	env->generation = td->d.generation;
	env->now = tlsd_now(td);
	env->trust_domain = config_trust_domain(td->d.config);
	env->lifetime_s = config_workload_cert_ttl(td->d.config);
	env->own_uid = getuid();
	env->jitter = util_random();
	env->warn = tlsd_warn;
	env->arg = td;
}

/* Under the lock.  A peer asking in a loop must not flood the log. */
static void
tlsd_warn(void *arg, const char *who, const char *what)
{
	struct tls_d	*td = arg;
	uint64_t	 now = util_now_ms() / 1000;

	if (now != td->warn_window) {
		if (td->warn_dropped > 0)
			log_warnx("%u more refusals not logged",
			    td->warn_dropped);
		td->warn_window = now;
		td->warn_logged = 0;
		td->warn_dropped = 0;
	}
	if (td->warn_logged++ < TLSD_WARN_PER_SEC)
		log_warnx("refused %s: %s", who, what);
	else
		td->warn_dropped++;
}

/* Under the lock: the bundle to every subscriber. */
static void
tlsd_publish(struct tls_d *td)
{
	nng_msg	*m;

	log_info("bundle generation %llu: %zu roots, root generation %u",
	    (unsigned long long)td->ca->bundle_generation, td->ca->nroots,
	    td->ca->root_generation);
	if (!td->pub_open)
		return;
	msgw_reset(&td->event);
	msgw_begin(&td->event, "bundle-event");
	ca_bundle_write(td->ca, config_trust_domain(td->d.config),
	    &td->event);
	if (td->event.overflow || nng_msg_alloc(&m, 0) != 0)
		return;
	if (nng_msg_append(m, td->event.buf, td->event.len) != 0 ||
	    nng_sendmsg(td->pub, m, NNG_FLAG_NONBLOCK) != 0)
		nng_msg_free(m);
}

/* -f: messages on stdin, from the operator (no peer to check). */
static void
filter_one(void *arg, const char *buf, size_t len, size_t off,
    struct msg_writer *out)
{
	struct tls_d	*td = arg;
	struct ca_env	 env;
	char		 err[256];

	tlsd_env(td, &env);
	env.peer.trusted = 1;
	if (ca_handle_message(td->ca, &env, &td->stats, buf, len, out, err,
	    sizeof(err)) == -1)
		log_warnx("malformed message at byte %zu: %s", off, err);
}

/*
 * -f with PEM CSRs on stdin: each signed for the SPIFFE ID it asks for,
 * in the mesh's trust domain, the certificate and its chain in PEM on
 * stdout.  Whoever runs it reads the CA key anyway.
 */
static int
filter_pem(struct tls_d *td, const char *buf, size_t len)
{
	struct spiffe_id	 sid;
	unsigned char		*der = NULL;
	const char		*domain = config_trust_domain(td->d.config);
	char			 err[256], uri[SPIFFE_ID_MAX + 1];
	X509_REQ		*pem_req, *req;
	X509			*x;
	BIO			*in;
	size_t			 i, n = 0;
	int			 dlen, status = 0;

	if ((in = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return 1;
	while ((pem_req = PEM_read_bio_X509_REQ(in, NULL, NULL, NULL)) !=
	    NULL) {
		n++;
		der = NULL;
		req = NULL;
		x = NULL;
		if ((dlen = i2d_X509_REQ(pem_req, &der)) <= 0 ||
		    (req = ca_csr_read(der, (size_t)dlen, err,
		    sizeof(err))) == NULL ||
		    ca_csr_identity(req, uri, sizeof(uri), err,
		    sizeof(err)) == -1)
			goto bad;
		if (spiffe_id_parse((struct str){ uri, strlen(uri) }, &sid,
		    err, sizeof(err)) == -1)
			goto bad;
		if (!util_str_eq(sid.trust_domain, domain)) {
			snprintf(err, sizeof(err), "%.128s is not in trust "
			    "domain %.64s", uri, domain);
			goto bad;
		}
		if ((x = ca_sign(td->ca, req, uri, tlsd_now(td),
		    config_workload_cert_ttl(td->d.config), err,
		    sizeof(err))) == NULL)
			goto bad;
		PEM_write_X509(stdout, x);
		for (i = 0; i < td->ca->nchain; i++)
			PEM_write_X509(stdout, td->ca->chain[i]);
		log_info("CSR %zu: issued %s", n, uri);
		goto next;
bad:
		log_warnx("CSR %zu refused: %s", n, err);
		status = 1;
next:
		X509_free(x);
		X509_REQ_free(req);
		X509_REQ_free(pem_req);
		OPENSSL_free(der);
	}
	ERR_clear_error();
	BIO_free(in);
	if (n == 0) {
		log_warnx("no CSR on standard input");
		status = 1;
	}
	if (fflush(stdout) == EOF)
		status = 1;
	return status;
}

/* On an nng thread: one request, with its peer's uid when ipc://. */
static void
handle(struct daemon_worker *w, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct tls_d	*td = w->daemon->arg;
	struct ca_env	 env;
	uint64_t	 uid;
	char		 err[256];
	int		 rc;

	pthread_mutex_lock(&td->lock);
	tlsd_env(td, &env);
	if (nng_pipe_id(w->pipe) > 0 && nng_pipe_get_uint64(w->pipe,
	    NNG_OPT_IPC_PEER_UID, &uid) == 0) {
		env.peer.known = 1;
		env.peer.uid = (uid_t)uid;
	}
	env.record = 1;
	rc = ca_handle_message(td->ca, &env, &td->stats, buf, len, out, err,
	    sizeof(err));
	if (env.bundle_changed) {
		log_info("root rotated on request: root generation %u",
		    td->ca->root_generation);
		tlsd_publish(td);
	}
	pthread_mutex_unlock(&td->lock);
	if (rc == -1)
		daemon_log_bad_message(&td->d, err);
}

static void
reload_failed(struct daemon *d)
{
	struct tls_d	*td = d->arg;

	pthread_mutex_lock(&td->lock);
	td->stats.reload_failures++;
	pthread_mutex_unlock(&td->lock);
}

/* A new config; a plug-in CA's files are read again too. */
static void
apply(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct tls_d	*td = d->arg;
	struct config	*old;
	char		 err[256];
	int		 rc;

	pthread_mutex_lock(&td->lock);
	old = daemon_swap(d, cfg, fingerprint);
	td->stats.reloads++;
	rc = ca_reload(td->ca, tlsd_now(td), config_workload_cert_ttl(cfg),
	    err, sizeof(err));
	if (rc == -1)
		log_warnx("%s; the CA in force stays", err);
	else if (rc == 1) {
		td->stats.rotations++;
		tlsd_publish(td);
	}
	pthread_mutex_unlock(&td->lock);
	config_free(old);
	log_info("generation %llu: %zu Proxy resources, trust domain %s, "
	    "certificates for %llu s", (unsigned long long)d->generation,
	    cfg->nproxies, config_trust_domain(cfg),
	    (unsigned long long)config_workload_cert_ttl(cfg));
}

/* Roots that retire, a root near its end; when to look again. */
static uint64_t
on_clock(struct daemon *d)
{
	struct tls_d	*td = d->arg;
	int64_t		 now, next;
	uint64_t	 due, mono = util_now_ms();
	char		 err[256];
	int		 rc;

	pthread_mutex_lock(&td->lock);
	now = tlsd_now(td);
	rc = ca_advance(td->ca, config_trust_domain(td->d.config), now,
	    config_workload_cert_ttl(td->d.config), &next, err, sizeof(err));
	if (rc == -1)
		log_warnx("%s", err);
	else if (rc == 1)
		tlsd_publish(td);
	pthread_mutex_unlock(&td->lock);
	due = mono + TLSD_TICK_MAX_MS;
	if (next > now && (uint64_t)(next - now) * 1000 < TLSD_TICK_MAX_MS)
		due = mono + (uint64_t)(next - now) * 1000;
	else if (next != 0 && next <= now)
		due = mono + 1000;
	return due;
}

static int
pub_open(struct tls_d *td)
{
	int	 rv;

	if ((rv = nng_pub0_open(&td->pub)) != 0) {
		log_warnx("nng_pub0_open: %s", nng_strerror(rv));
		return -1;
	}
	td->pub_open = 1;
	return daemon_listen(td->pub, td->pub_url, &td->pub_ipc_path);
}

static void
pub_close(struct tls_d *td)
{
	if (td->pub_open)
		nng_close(td->pub);
	td->pub_open = 0;
	if (td->pub_ipc_path != NULL && unlink(td->pub_ipc_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", td->pub_ipc_path);
}

/*
 * Started as root, tls-d drops to its user before it reads or writes the
 * CA: the state directory must be that user's.  A missing one is made
 * and given to the user; one that exists must already be the user's
 * (a root-owned directory from an earlier run as root is refused with
 * what to do, rather than chowned blindly).
 */
static int
ca_load(struct tls_d *td, char *err, size_t errlen)
{
	if ((td->ca = ca_open(td->state_dir, td->cacerts_dir,
	    config_trust_domain(td->d.config), tlsd_now(td),
	    config_workload_cert_ttl(td->d.config), 0, err,
	    errlen)) == NULL) {
		log_warnx("CA: %s", err);
		return -1;
	}
	return 0;
}

static int
state_dir_ready(const char *dir)
{
	struct stat	 st;

	if (!privdrop_pending())
		return 0;
	if (mkdir(dir, 0700) == 0)
		return privdrop_give(dir);
	if (errno != EEXIST) {
		log_warn("%s", dir);
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != privdrop_uid()) {
		log_warnx("%s: belongs to uid %u, not to %s, whom tls-d runs "
		    "as: chown -R %s %s", dir, (unsigned)st.st_uid,
		    privdrop_user(), privdrop_user(), dir);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct tls_d		 td;
	struct daemon_flags	 flags;
	unsigned long long	 v;
	char			 err[256], *buf = NULL;
	size_t			 len = 0, cap = 0;
	ssize_t			 r;
	int			 ch, status = 0;

	memset(&td, 0, sizeof(td));
	memset(&flags, 0, sizeof(flags));
	daemon_init(&td.d, "tls-d");
	td.d.arg = &td;
	td.d.kinds = tlsd_kinds;
	td.d.nkinds = nitems(tlsd_kinds);
	td.d.handle = handle;
	td.d.apply = apply;
	td.d.reload_failed = reload_failed;
	td.d.tick = on_clock;
	td.state_dir = CA_DEFAULT_STATE_DIR;
	td.stats.start_ms = util_now_ms();
	pthread_mutex_init(&td.lock, NULL);
	msgw_init(&td.event);
	while ((ch = getopt(argc, argv, "C:c:d:e:fl:np:qs:t:u:v")) != -1) {
		if (daemon_flag(&td.d, &flags, ch, optarg))
			continue;
		switch (ch) {
		case 'C':
			td.cacerts_dir = optarg;
			break;
		case 'd':
			td.state_dir = optarg;
			break;
		case 'e':
			free(td.pub_url);
			td.pub_url = xstrdup(optarg);
			break;
		case 't':
			if (daemon_parse_number("tls-d", 't', optarg,
			    1ULL << 40, "seconds since the epoch", &v) == -1)
				exit(2);
			td.fixed_now = (int64_t)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (flags.check) {
		status = daemon_check_config(td.d.confdir,
		    flags.verbose > 0);
		goto done;
	}
	daemon_start(&td.d, &flags);
	if (flags.filter) {
		if (ca_load(&td, err, sizeof(err)) == -1) {
			status = 1;
			goto done;
		}
		for (;;) {
			if (cap - len < 65536) {
				cap = cap == 0 ? 65536 : cap * 2;
				if (cap > TLSD_PEM_MAX) {
					log_warnx("standard input larger than "
					    "%d bytes", TLSD_PEM_MAX);
					status = 1;
					goto done;
				}
				buf = xreallocarray(buf, cap, 1);
			}
			if ((r = read(STDIN_FILENO, buf + len, cap - len)) ==
			    -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		/* PEM CSRs, or messages as every daemon's filter takes */
		if (len >= 5 && memcmp(buf, "-----", 5) == 0) {
			status = filter_pem(&td, buf, len);
			goto done;
		}
		status = daemon_filter_buffer(filter_one, &td, buf, len);
		goto done;
	}

	if (td.d.url == NULL)
		xasprintf(&td.d.url, "ipc://%s/tls.sock", util_rundir());
	if (td.pub_url == NULL)
		xasprintf(&td.pub_url, "ipc://%s/tls-events.sock",
		    util_rundir());
	daemon_signals();
	/* bound as root if started so, then the user's for good */
	if (daemon_open(&td.d) == -1 || pub_open(&td) == -1 ||
	    daemon_write_pidfile(&td.d) == -1 ||
	    state_dir_ready(td.state_dir) == -1 || daemon_drop(&td.d) == -1 ||
	    ca_load(&td, err, sizeof(err)) == -1) {
		daemon_close(&td.d);
		pub_close(&td);
		status = 1;
		goto done;
	}
	log_info("listening on %s, bundle on %s; %s CA, root generation %u, "
	    "bundle generation %llu (%zu roots), trust domain %s, "
	    "certificates for %llu s", td.d.url, td.pub_url,
	    td.cacerts_dir != NULL ? "plug-in" : "self-signed",
	    td.ca->root_generation,
	    (unsigned long long)td.ca->bundle_generation, td.ca->nroots,
	    config_trust_domain(td.d.config),
	    (unsigned long long)config_workload_cert_ttl(td.d.config));
	daemon_serve(&td.d);
	log_info("exiting");
	daemon_close(&td.d);
	pub_close(&td);

done:
	free(buf);
	ca_free(td.ca);
	msgw_fini(&td.event);
	pthread_mutex_destroy(&td.lock);
	free(td.pub_ipc_path);
	free(td.pub_url);
	daemon_fini(&td.d);
	return status;
}
