/* SPDX-License-Identifier: ISC */
/*
 * authz-d: answers proxy-d's authorization questions (meshkit-ipc(7)
 * "authz") from the RequestAuthentication and AuthorizationPolicy
 * resources of a config directory.
 *
 * Serving, signals, the watch and reloads are lib/daemon.c's (a few nng
 * contexts keep several questions in flight).  Decisions verify
 * signatures (tens of microseconds each), so they run under the read side
 * of a rwlock, side by side; a reload and a new key set take the write
 * side to swap their pointer.  The JWKS of every jwksUri is fetched by a
 * thread of its own (jwks.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "authz.h"
#include "authzd.h"
#include "util.h"


struct authz_d {
	struct daemon		 d;
	const char		*root_namespace;
	int64_t			 fixed_now;	/* -t: the clock, 0: real */
	struct authz_stats	 stats;
	struct jwks_cache	 jwks;
	struct authz_scratch	*scratch;	/* filter mode */
	/* read by workers while deciding, written to swap */
	pthread_rwlock_t	 lock;
};

/*
 * The documents authz-d decides from: a change elsewhere in the
 * directory (a Proxy resource, a VirtualService, a comment) leaves their
 * fingerprint as it was.
 */
static const char *const authz_kinds[] = { "RequestAuthentication",
    "AuthorizationPolicy" };
/* read by no daemon yet: authz-d logs their warnings */
static const char *const authz_warn_kinds[] = { "PeerAuthentication" };

static _Noreturn void usage(void);
static void	authz_d_env(struct authz_d *, struct authz_env *);
static void	dry_run_log(void *, const struct msg_source *,
		    const struct authz_request *, const struct authz_answer *);
static void	filter_one(void *, const char *, size_t, size_t,
		    struct msg_writer *);
static void	handle(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
static void	*worker_new(struct daemon *);
static void	worker_free(void *);
static void	apply(struct daemon *, struct config *, uint64_t);
static void	reload_failed(struct daemon *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: authz-d [-fnqv] [-c dir] [-l file] "
	    "[-m uri=uri] ... [-p pidfile] [-R ms] [-r namespace]\n"
	    "               [-s url] [-T seconds] [-t now] [-u user]\n");
	exit(2);
}

/*
 * What istio.io/dry-run policies would have decided, one line a
 * request: the log is where Istio's shadow rules report too.
 */
static void
dry_run_log(void *arg, const struct msg_source *src,
    const struct authz_request *req, const struct authz_answer *a)
{
	char	 enforced[32];

	if (a->decision == AUTHZ_DECISION_DENY)
		snprintf(enforced, sizeof(enforced), "deny %u", a->status);
	else
		util_strlcpy(enforced, authz_decision_name(a->decision),
		    sizeof(enforced));
	log_info("dry-run: %.*s/%.*s %.*s %.*s: %s (enforced: %s)",
	    (int)src->namespace.n, src->namespace.p, (int)src->workload.n,
	    src->workload.p, (int)req->method.n, req->method.p,
	    (int)(req->path.n > 200 ? 200 : req->path.n), req->path.p,
	    a->dry_run, enforced);
}

/* The clock and the key sets of one decision. */
static void
authz_d_env(struct authz_d *ad, struct authz_env *env)
{
	memset(env, 0, sizeof(*env));
	env->now = ad->fixed_now != 0 ? ad->fixed_now : (int64_t)time(NULL);
	env->reuse_ms = ad->d.reuse_ms;
	env->root_namespace = ad->root_namespace;
	env->keys.lookup = jwks_cache_lookup;
	env->keys.arg = &ad->jwks;
	env->dry_run_log = dry_run_log;
	env->arg = ad;
}

/* -f: messages on stdin, one reply each on stdout. */
static void
filter_one(void *arg, const char *buf, size_t len, size_t off,
    struct msg_writer *out)
{
	struct authz_d		*ad = arg;
	struct authz_env	 env;

	authz_d_env(ad, &env);
	authz_handle_message(ad->d.config, &env, &ad->stats, ad->scratch,
	    ad->d.generation, buf, len, out);
}

/* On an nng thread: one request, with the worker's scratch. */
static void
handle(struct daemon_worker *w, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct authz_d		*ad = w->daemon->arg;
	struct authz_scratch	*scratch = w->data;
	struct authz_env	 env;

	authz_d_env(ad, &env);
	scratch->last_error[0] = '\0';
	pthread_rwlock_rdlock(&ad->lock);
	authz_handle_message(ad->d.config, &env, &ad->stats, scratch,
	    ad->d.generation, buf, len, out);
	pthread_rwlock_unlock(&ad->lock);
	if (scratch->last_error[0] != '\0')
		daemon_log_bad_message(&ad->d, scratch->last_error);
}

static void *
worker_new(struct daemon *d)
{
	return authz_scratch_new();
}

static void
worker_free(void *scratch)
{
	authz_scratch_free(scratch);
}

static void
reload_failed(struct daemon *d)
{
	struct authz_d	*ad = d->arg;

	__atomic_fetch_add(&ad->stats.reload_failures, 1, __ATOMIC_RELAXED);
}

static void
apply(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct authz_d	*ad = d->arg;
	struct config	*old;

	pthread_rwlock_wrlock(&ad->lock);
	old = daemon_swap(d, cfg, fingerprint);
	jwks_cache_sync(&ad->jwks, cfg);
	__atomic_fetch_add(&ad->stats.reloads, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&ad->lock);
	/* no decision can still be reading it: they hold the read lock */
	config_free(old);
	jwks_cache_kick(&ad->jwks);
	log_info("generation %llu: %zu RequestAuthentications, %zu "
	    "AuthorizationPolicies", (unsigned long long)d->generation,
	    cfg->nrequest_authentications, cfg->nauthorization_policies);
}

int
main(int argc, char *argv[])
{
	struct authz_d	 ad;
	pthread_rwlockattr_t rwattr;
	struct daemon_flags flags;
	int		 ch, status = 0;
	unsigned long long v;
	char		*eq;

	memset(&ad, 0, sizeof(ad));
	memset(&flags, 0, sizeof(flags));
	daemon_init(&ad.d, "authz-d");
	ad.d.arg = &ad;
	ad.d.kinds = authz_kinds;
	ad.d.nkinds = nitems(authz_kinds);
	ad.d.warn_kinds = authz_warn_kinds;
	ad.d.nwarn_kinds = nitems(authz_warn_kinds);
	ad.d.handle = handle;
	ad.d.apply = apply;
	ad.d.reload_failed = reload_failed;
	ad.d.worker_new = worker_new;
	ad.d.worker_free = worker_free;
	/* a reload must not wait for a pause in the questions */
	pthread_rwlockattr_init(&rwattr);
	pthread_rwlockattr_setkind_np(&rwattr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ad.lock, &rwattr);
	pthread_rwlockattr_destroy(&rwattr);
	ad.stats.start_ms = util_now_ms();
	jwks_cache_init(&ad.jwks, &ad.lock, &ad.stats);
	while ((ch = getopt(argc, argv, "c:fl:m:np:qR:r:s:T:t:u:v")) != -1) {
		if (daemon_flag(&ad.d, &flags, ch, optarg))
			continue;
		switch (ch) {
		case 'm':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg || eq[1] == '\0') {
				fprintf(stderr, "authz-d: -m %s: want "
				    "uri=uri\n", optarg);
				exit(2);
			}
			ad.jwks.maps = xreallocarray(ad.jwks.maps,
			    ad.jwks.nmaps + 1, sizeof(*ad.jwks.maps));
			ad.jwks.maps[ad.jwks.nmaps].from = xstrndup(optarg,
			    (size_t)(eq - optarg));
			ad.jwks.maps[ad.jwks.nmaps].to = xstrdup(eq + 1);
			ad.jwks.nmaps++;
			break;
		case 'R':
			if (daemon_parse_number("authz-d", 'R', optarg,
			    DAEMON_MAX_REUSE, NULL, &v) == -1)
				exit(2);
			ad.d.reuse_ms = v;
			break;
		case 'r':
			ad.root_namespace = optarg;
			break;
		case 'T':
			if (daemon_parse_number("authz-d", 'T', optarg, 86400,
			    NULL, &v) == -1 || v == 0) {
				fprintf(stderr, "authz-d: -T: want 1..86400 "
				    "seconds\n");
				exit(2);
			}
			ad.jwks.refresh_ms = v * 1000;
			break;
		case 't':
			if (daemon_parse_number("authz-d", 't', optarg,
			    1ULL << 40, NULL, &v) == -1)
				exit(2);
			ad.fixed_now = (int64_t)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (flags.check) {
		jwks_cache_fini(&ad.jwks);
		status = daemon_check_config(ad.d.confdir,
		    flags.verbose > 0);
		daemon_fini(&ad.d);
		return status;
	}

	daemon_start(&ad.d, &flags);
	jwks_cache_sync(&ad.jwks, ad.d.config);

	if (flags.filter) {
		/* a pipe has time: every key set first, then the answers */
		jwks_cache_fetch_all(&ad.jwks);
		ad.scratch = authz_scratch_new();
		status = daemon_filter(filter_one, &ad);
		goto done;
	}

	if (ad.d.url == NULL)
		xasprintf(&ad.d.url, "ipc://%s/authz.sock", util_rundir());
	daemon_signals();
	if (daemon_open(&ad.d) == -1 || daemon_write_pidfile(&ad.d) == -1 ||
	    daemon_drop(&ad.d) == -1) {
		daemon_close(&ad.d);
		status = 1;
		goto done;
	}
	if (jwks_cache_start(&ad.jwks) == -1) {
		log_warnx("cannot start the JWKS fetcher");
		daemon_close(&ad.d);
		status = 1;
		goto done;
	}
	log_info("listening on %s, generation 1: %zu RequestAuthentications, "
	    "%zu AuthorizationPolicies, %zu jwksUri, reuse %llu ms", ad.d.url,
	    ad.d.config->nrequest_authentications,
	    ad.d.config->nauthorization_policies, ad.jwks.n,
	    (unsigned long long)ad.d.reuse_ms);
	daemon_serve(&ad.d);
	log_info("exiting");
	daemon_close(&ad.d);
	jwks_cache_stop(&ad.jwks);

done:
	authz_scratch_free(ad.scratch);
	jwks_cache_fini(&ad.jwks);
	daemon_fini(&ad.d);
	pthread_rwlock_destroy(&ad.lock);
	return status;
}
