/* SPDX-License-Identifier: ISC */
/*
 * route-d: answers proxy-d's route questions (meshkit-ipc(7)) from the
 * ServiceEntry and WorkloadEntry resources of a config directory.
 *
 * Serving, signals, the watch and reloads are lib/daemon.c's.  Decisions
 * take about a microsecond a question, so one mutex around them (and
 * around the config pointer and round-robin counters they use) costs
 * nothing measurable (61 against 107 us of CPU a message with 1 client
 * once several requests are in flight).  A resolver thread of its own
 * (resolver.c) resolves the names of resolution DNS.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "resolver.h"
#include "route.h"
#include "route_dns.h"
#include "util.h"

#define ROUTE_D_DEFAULT_RESOLV	"/etc/resolv.conf"
#define ROUTE_D_FILTER_DNS_MS	5000	/* filter mode: first answers */

struct route_d {
	struct daemon		 d;
	struct route_state	*state;
	const char		*resolv_conf;
	struct route_dns	*dns;		/* names resolved, under lock */
	struct resolver		*resolver;	/* NULL: none running */
	/* held by workers while deciding, by the main thread to swap */
	pthread_mutex_t		 lock;
};

/*
 * The documents route-d decides from: a change elsewhere in the
 * directory (a Proxy resource, an AuthorizationPolicy, a comment) leaves
 * their fingerprint as it was.
 */
static const char *const route_kinds[] = { "ServiceEntry", "WorkloadEntry",
    "VirtualService", "DestinationRule", "Service", "MeshConfig" };

static _Noreturn void usage(void);
static void	filter_one(void *, const char *, size_t, size_t,
		    struct msg_writer *);
static void	handle(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
static void	apply(struct daemon *, struct config *, uint64_t);
static void	reload_failed(struct daemon *);
static void	resolver_update(struct route_d *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: route-d [-fnqv] [-c dir] [-l file] "
	    "[-p pidfile] [-R ms] [-r resolv.conf] [-s url]\n"
	    "               [-u user]\n");
	exit(2);
}

/* -f: messages on stdin, one reply each on stdout. */
static void
filter_one(void *arg, const char *buf, size_t len, size_t off,
    struct msg_writer *out)
{
	struct route_d	*rd = arg;

	route_handle_message(rd->d.config, rd->state, rd->d.generation,
	    rd->d.reuse_ms, buf, len, out);
}

/* On an nng thread: one request. */
static void
handle(struct daemon_worker *w, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct route_d		*rd = w->daemon->arg;
	struct route_stats	*stats = route_state_stats(rd->state);
	uint64_t		 bad;

	pthread_mutex_lock(&rd->lock);
	bad = stats->bad_messages;
	route_handle_message(rd->d.config, rd->state, rd->d.generation,
	    rd->d.reuse_ms, buf, len, out);
	if (stats->bad_messages != bad)
		daemon_log_bad_message(&rd->d, stats->last_error);
	pthread_mutex_unlock(&rd->lock);
}

static void
reload_failed(struct daemon *d)
{
	struct route_d	*rd = d->arg;

	pthread_mutex_lock(&rd->lock);
	route_state_stats(rd->state)->reload_failures++;
	pthread_mutex_unlock(&rd->lock);
}

static void
apply(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct route_d	*rd = d->arg;
	struct config	*old;

	pthread_mutex_lock(&rd->lock);
	old = daemon_swap(d, cfg, fingerprint);
	route_state_stats(rd->state)->reloads++;
	pthread_mutex_unlock(&rd->lock);
	/* no decision can still be reading it: they run under the lock */
	config_free(old);
	resolver_update(rd);
	log_info("generation %llu: %zu services, %zu workloads",
	    (unsigned long long)d->generation, cfg->nservice_entries,
	    cfg->nworkload_entries);
}

/* The resolver follows the config: the names it has now. */
static void
resolver_update(struct route_d *rd)
{
	char	**names;
	size_t	  n;

	if (rd->resolver == NULL)
		return;
	names = route_dns_wanted(rd->d.config, &n);
	if (n > 0)
		log_info("resolving %zu name%s through DNS", n,
		    n == 1 ? "" : "s");
	resolver_want(rd->resolver, names, n);
}

int
main(int argc, char *argv[])
{
	struct route_d	 rd;
	struct daemon_flags flags;
	int		 ch, status = 0;
	unsigned long long reuse;

	memset(&rd, 0, sizeof(rd));
	memset(&flags, 0, sizeof(flags));
	daemon_init(&rd.d, "route-d");
	rd.d.arg = &rd;
	rd.d.kinds = route_kinds;
	rd.d.nkinds = nitems(route_kinds);
	rd.d.handle = handle;
	rd.d.apply = apply;
	rd.d.reload_failed = reload_failed;
	rd.resolv_conf = ROUTE_D_DEFAULT_RESOLV;
	while ((ch = getopt(argc, argv, "c:fl:np:qR:r:s:u:v")) != -1) {
		if (daemon_flag(&rd.d, &flags, ch, optarg))
			continue;
		switch (ch) {
		case 'R':
			if (daemon_parse_number("route-d", 'R', optarg,
			    DAEMON_MAX_REUSE, "milliseconds", &reuse) == -1)
				exit(2);
			rd.d.reuse_ms = reuse;
			break;
		case 'r':
			rd.resolv_conf = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (flags.check) {
		status = daemon_check_config(rd.d.confdir,
		    flags.verbose > 0);
		daemon_fini(&rd.d);
		return status;
	}

	daemon_start(&rd.d, &flags);
	rd.state = route_state_new();
	rd.dns = route_dns_new();
	route_state_set_dns(rd.state, rd.dns);
	pthread_mutex_init(&rd.lock, NULL);

	if (flags.filter) {
		char	**names;
		size_t	  n;

		/* names resolved once, before any question is answered */
		names = route_dns_wanted(rd.d.config, &n);
		if (n > 0 && (rd.resolver = resolver_new(rd.resolv_conf,
		    &rd.lock, rd.dns)) != NULL) {
			resolver_want(rd.resolver, names, n);
			resolver_run_once(rd.resolver, ROUTE_D_FILTER_DNS_MS);
			resolver_free(rd.resolver);
			rd.resolver = NULL;
		} else
			config_paths_free(names, n);
		status = daemon_filter(filter_one, &rd);
		goto done;
	}

	if (rd.d.url == NULL)
		xasprintf(&rd.d.url, "ipc://%s/route.sock", util_rundir());
	daemon_signals();
	if (daemon_open(&rd.d) == -1 || daemon_write_pidfile(&rd.d) == -1 ||
	    daemon_drop(&rd.d) == -1) {
		daemon_close(&rd.d);
		status = 1;
		goto done;
	}
	/* after daemon_signals: its thread must not take signals */
	if ((rd.resolver = resolver_new(rd.resolv_conf, &rd.lock,
	    rd.dns)) == NULL)
		log_warnx("no DNS resolver: names of resolution DNS stay "
		    "unresolved");
	else {
		resolver_update(&rd);
		if (resolver_start(rd.resolver) == -1) {
			resolver_free(rd.resolver);
			rd.resolver = NULL;
		}
	}
	log_info("listening on %s, generation 1: %zu services, %zu "
	    "workloads, reuse %llu ms", rd.d.url,
	    rd.d.config->nservice_entries, rd.d.config->nworkload_entries,
	    (unsigned long long)rd.d.reuse_ms);
	daemon_serve(&rd.d);
	log_info("exiting");
	daemon_close(&rd.d);
	resolver_free(rd.resolver);

done:
	pthread_mutex_destroy(&rd.lock);
	route_state_free(rd.state);
	route_dns_free(rd.dns);
	daemon_fini(&rd.d);
	return status;
}
