/* SPDX-License-Identifier: ISC */
/*
 * breaker-d: outlier detection and connection-pool limits for proxy-d
 * (meshkit-ipc(7)), from the DestinationRules of a config directory.
 *
 * Three sockets: a REP socket answers admit, breaker-state and status
 * requests (lib/daemon.c's workers, as in route-d and authz-d); a
 * PULL socket takes the outcome reports proxy-d pushes after its tries;
 * a PUB socket sends a breaker-event for every ejection and return.  The
 * decisions (lib/breaker.c) run under one mutex on nng's threads.  The
 * main thread waits in ppoll for signals, for changes to the config
 * directory, for the next ejection to end, and for an eventfd the nng
 * threads write when an ejection makes that time earlier.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pubsub0/pub.h>

#include "breaker.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "util.h"


/* Beside the daemon's REP socket: reports in, events out. */
enum { SOCK_PULL, SOCK_PUB, NSOCKS };

struct breaker_d {
	struct daemon		 d;
	char			*urls[NSOCKS];
	char			*ipc_paths[NSOCKS];
	nng_socket		 socks[NSOCKS];
	int			 open[NSOCKS];
	struct breaker		*breaker;
	nng_aio			*pull_aio;
	/* held around every use of breaker, config and what follows */
	pthread_mutex_t		 lock;
	struct msg_writer	 events;
	uint64_t		 waiting_for;	/* main thread's next due */
};

static const char *const breaker_kinds[] = { "DestinationRule",
    "ServiceEntry", "WorkloadEntry", "Service" };

static _Noreturn void usage(void);
static void	filter_one(void *, const char *, size_t, size_t,
		    struct msg_writer *);
static int	sockets_open(struct breaker_d *);
static void	sockets_close(struct breaker_d *);
static void	handle(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
static void	pull_cb(void *);
static void	after_decisions(struct breaker_d *, int);
static void	log_event(const struct breaker_event *);
static void	apply(struct daemon *, struct config *, uint64_t);
static void	reload_failed(struct daemon *);
static uint64_t	on_clock(struct daemon *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: breaker-d [-fnqv] [-c dir] [-e url] "
	    "[-l file] [-p pidfile] [-R ms] [-r url] [-s url]\n"
	    "                 [-u user]\n");
	exit(2);
}

/*
 * -f: a trace on stdin (report and admit messages, in order), its state
 * changes and admit replies on stdout; the clock is the trace's time-ms.
 */
static void
filter_one(void *arg, const char *buf, size_t len, size_t off,
    struct msg_writer *out)
{
	struct breaker_d	*bd = arg;
	char			 err[256];

	if (breaker_filter_message(bd->breaker, bd->d.reuse_ms, buf, len,
	    out, err, sizeof(err)) == -1)
		log_warnx("malformed message at byte %zu: %s", off, err);
}

/* The PULL and PUB sockets, and the aio reports arrive on. */
static int
sockets_open(struct breaker_d *bd)
{
	int	 rv, i;

	for (i = 0; i < NSOCKS; i++) {
		rv = i == SOCK_PULL ? nng_pull0_open(&bd->socks[i]) :
		    nng_pub0_open(&bd->socks[i]);
		if (rv != 0) {
			log_warnx("nng socket: %s", nng_strerror(rv));
			return -1;
		}
		bd->open[i] = 1;
		if (i == SOCK_PULL && (rv = nng_socket_set_size(bd->socks[i],
		    NNG_OPT_RECVMAXSZ, MSG_MAX_BYTES)) != 0) {
			log_warnx("nng socket options: %s", nng_strerror(rv));
			return -1;
		}
		if (daemon_listen(bd->socks[i], bd->urls[i],
		    &bd->ipc_paths[i]) == -1)
			return -1;
	}
	if ((rv = nng_aio_alloc(&bd->pull_aio, pull_cb, bd)) != 0) {
		log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
sockets_close(struct breaker_d *bd)
{
	size_t	 i;

	/* Closing the sockets ends every aio; stopping waits for them. */
	for (i = 0; i < NSOCKS; i++)
		if (bd->open[i])
			nng_close(bd->socks[i]);
	if (bd->pull_aio != NULL) {
		nng_aio_stop(bd->pull_aio);
		nng_aio_free(bd->pull_aio);
		bd->pull_aio = NULL;
	}
	for (i = 0; i < NSOCKS; i++) {
		bd->open[i] = 0;
		if (bd->ipc_paths[i] != NULL && unlink(bd->ipc_paths[i]) ==
		    -1 && errno != ENOENT)
			log_warn("unlink %s", bd->ipc_paths[i]);
	}
}

static void
log_event(const struct breaker_event *ev)
{
	char	 where[BREAKER_SERVICE_MAX + BREAKER_SUBSET_MAX + 32];

	snprintf(where, sizeof(where), "%s%s%s%s", ev->service,
	    ev->subset[0] != '\0' ? " subset " : "", ev->subset,
	    ev->port != 0 ? "" : "");
	if (ev->port != 0)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		    " port %u", ev->port);
	if (ev->kind == BREAKER_EVENT_EJECT)
		log_info("ejected %s of %s for %llu ms (ejection %u): %s",
		    ev->endpoint, where, (unsigned long long)ev->ejection_ms,
		    ev->ejections, ev->reason);
	else
		log_info("returned %s of %s: %s", ev->endpoint, where,
		    ev->reason);
}

/*
 * Under the lock, after any decision: publish and log its state changes,
 * and wake the main thread if an ejection ends before what it waits for.
 */
static void
after_decisions(struct breaker_d *bd, int wake)
{
	const struct breaker_event	*ev;
	nng_msg				*m;
	uint64_t			 due, one = 1;
	size_t				 i, n;

	n = breaker_events(bd->breaker, &ev);
	for (i = 0; i < n; i++) {
		log_event(&ev[i]);
		msgw_reset(&bd->events);
		breaker_event_write(&bd->events, &ev[i]);
		if (bd->events.overflow || nng_msg_alloc(&m, 0) != 0)
			continue;
		if (nng_msg_append(m, bd->events.buf, bd->events.len) != 0 ||
		    nng_sendmsg(bd->socks[SOCK_PUB], m, NNG_FLAG_NONBLOCK) !=
		    0)
			nng_msg_free(m);
	}
	breaker_events_clear(bd->breaker);
	due = breaker_next_due(bd->breaker);
	if (wake && due != 0 && (bd->waiting_for == 0 ||
	    due < bd->waiting_for)) {
		bd->waiting_for = due;
		if (write(bd->d.wake_fd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_warn("eventfd");
	}
}

/* On an nng thread: an admit, breaker-state or status request. */
static void
handle(struct daemon_worker *w, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct breaker_d	*bd = w->daemon->arg;
	struct breaker_stats	*stats = breaker_stats(bd->breaker);
	uint64_t		 bad;

	pthread_mutex_lock(&bd->lock);
	breaker_advance(bd->breaker, util_now_ms());
	bad = stats->bad_messages;
	breaker_handle_request(bd->breaker, bd->d.reuse_ms, buf, len, out);
	if (stats->bad_messages != bad)
		daemon_log_bad_message(&bd->d, stats->last_error);
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
}

/* A report arrived on the PULL socket: applied, never answered. */
static void
pull_cb(void *arg)
{
	struct breaker_d	*bd = arg;
	nng_msg			*m;
	char			 err[256];
	int			 rv;

	if ((rv = nng_aio_result(bd->pull_aio)) != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		log_warnx("receive report: %s", nng_strerror(rv));
		nng_recv_aio(bd->socks[SOCK_PULL], bd->pull_aio);
		return;
	}
	m = nng_aio_get_msg(bd->pull_aio);
	pthread_mutex_lock(&bd->lock);
	breaker_advance(bd->breaker, util_now_ms());
	if (breaker_handle_report(bd->breaker, 0, nng_msg_body(m),
	    nng_msg_len(m), err, sizeof(err)) == -1)
		daemon_log_bad_message(&bd->d, err);
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
	nng_msg_free(m);
	nng_recv_aio(bd->socks[SOCK_PULL], bd->pull_aio);
}

/* The main thread's timer: ejections that end now; the next one's end. */
static uint64_t
on_clock(struct daemon *d)
{
	struct breaker_d	*bd = d->arg;
	uint64_t		 due;

	pthread_mutex_lock(&bd->lock);
	breaker_advance(bd->breaker, util_now_ms());
	after_decisions(bd, 0);
	due = bd->waiting_for = breaker_next_due(bd->breaker);
	pthread_mutex_unlock(&bd->lock);
	return due;
}

static void
reload_failed(struct daemon *d)
{
	struct breaker_d	*bd = d->arg;

	pthread_mutex_lock(&bd->lock);
	breaker_stats(bd->breaker)->reload_failures++;
	pthread_mutex_unlock(&bd->lock);
}

static void
apply(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct breaker_d	*bd = d->arg;
	struct config		*old;

	pthread_mutex_lock(&bd->lock);
	old = daemon_swap(d, cfg, fingerprint);
	breaker_advance(bd->breaker, util_now_ms());
	breaker_set_config(bd->breaker, cfg, d->generation);
	breaker_stats(bd->breaker)->reloads++;
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
	config_free(old);
	log_info("generation %llu: %zu destination rules",
	    (unsigned long long)d->generation, cfg->ndestination_rules);
}

int
main(int argc, char *argv[])
{
	struct breaker_d	 bd;
	struct daemon_flags	 flags;
	int			 ch, status = 0, i;
	unsigned long long	 reuse;

	memset(&bd, 0, sizeof(bd));
	memset(&flags, 0, sizeof(flags));
	daemon_init(&bd.d, "breaker-d");
	bd.d.arg = &bd;
	bd.d.kinds = breaker_kinds;
	bd.d.nkinds = nitems(breaker_kinds);
	bd.d.handle = handle;
	bd.d.apply = apply;
	bd.d.reload_failed = reload_failed;
	bd.d.tick = on_clock;
	while ((ch = getopt(argc, argv, "c:e:fl:np:qR:r:s:u:v")) != -1) {
		if (daemon_flag(&bd.d, &flags, ch, optarg))
			continue;
		switch (ch) {
		case 'e':
			free(bd.urls[SOCK_PUB]);
			bd.urls[SOCK_PUB] = xstrdup(optarg);
			break;
		case 'R':
			if (daemon_parse_number("breaker-d", 'R', optarg,
			    DAEMON_MAX_REUSE, "milliseconds", &reuse) == -1)
				exit(2);
			bd.d.reuse_ms = reuse;
			break;
		case 'r':
			free(bd.urls[SOCK_PULL]);
			bd.urls[SOCK_PULL] = xstrdup(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (flags.check) {
		status = daemon_check_config(bd.d.confdir,
		    flags.verbose > 0);
		for (i = 0; i < NSOCKS; i++)
			free(bd.urls[i]);
		daemon_fini(&bd.d);
		return status;
	}

	daemon_start(&bd.d, &flags);
	bd.breaker = breaker_new();
	breaker_set_config(bd.breaker, bd.d.config, bd.d.generation);
	pthread_mutex_init(&bd.lock, NULL);
	msgw_init(&bd.events);

	if (flags.filter) {
		status = daemon_filter(filter_one, &bd);
		goto done;
	}

	if (bd.d.url == NULL)
		xasprintf(&bd.d.url, "ipc://%s/breaker.sock", util_rundir());
	if (bd.urls[SOCK_PULL] == NULL)
		xasprintf(&bd.urls[SOCK_PULL], "ipc://%s/breaker-report.sock",
		    util_rundir());
	if (bd.urls[SOCK_PUB] == NULL)
		xasprintf(&bd.urls[SOCK_PUB], "ipc://%s/breaker-events.sock",
		    util_rundir());
	if ((bd.d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("eventfd");
		status = 1;
		goto done;
	}
	daemon_signals();
	breaker_set_clock(bd.breaker, util_now_ms());
	if (daemon_open(&bd.d) == -1 || sockets_open(&bd) == -1 ||
	    daemon_write_pidfile(&bd.d) == -1 || daemon_drop(&bd.d) == -1) {
		daemon_close(&bd.d);
		sockets_close(&bd);
		status = 1;
		goto done;
	}
	log_info("listening on %s, reports on %s, events on %s; generation "
	    "1: %zu destination rules, reuse %llu ms", bd.d.url,
	    bd.urls[SOCK_PULL], bd.urls[SOCK_PUB],
	    bd.d.config->ndestination_rules, (unsigned long long)bd.d.reuse_ms);
	nng_recv_aio(bd.socks[SOCK_PULL], bd.pull_aio);
	daemon_serve(&bd.d);
	log_info("exiting");
	daemon_close(&bd.d);
	sockets_close(&bd);

done:
	if (bd.d.wake_fd != -1)
		close(bd.d.wake_fd);
	pthread_mutex_destroy(&bd.lock);
	msgw_fini(&bd.events);
	breaker_free(bd.breaker);
	for (i = 0; i < NSOCKS; i++) {
		free(bd.ipc_paths[i]);
		free(bd.urls[i]);
	}
	daemon_fini(&bd.d);
	return status;
}
