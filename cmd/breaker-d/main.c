/*
 * breaker-d: outlier detection and connection-pool limits for proxy-d
 * (meshkit-ipc(7)), from the DestinationRules of a config directory.
 *
 * Three sockets: a REP socket answers admit, breaker-state and status
 * requests (a few nng contexts keep several in flight, as in route-d); a
 * PULL socket takes the outcome reports proxy-d pushes after its tries;
 * a PUB socket sends a breaker-event for every ejection and return.  The
 * decisions (lib/breaker.c) run under one mutex on nng's threads.  The
 * main thread waits in ppoll for signals, for changes to the config
 * directory, for the next ejection to end, and for an eventfd the nng
 * threads write when an ejection makes that time earlier.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "breaker.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "util.h"

#define BREAKER_D_DEFAULT_CONFDIR	"/etc/meshkit"
#define BREAKER_D_DEFAULT_REUSE		1000
#define BREAKER_D_MAX_REUSE		86400000ULL
#define BREAKER_D_WORKERS		4	/* requests in flight */
#define BREAKER_D_KEEP_BUFFER		(256 * 1024)
#define BREAKER_D_BADMSG_PER_SEC	5	/* malformed messages logged */

struct breaker_d;

/* One request in flight: its context, its aio, its reply buffer. */
struct worker {
	struct breaker_d	*bd;
	nng_ctx			 ctx;
	nng_aio			*aio;
	int			 sending;
	struct msg_writer	 out;
};

enum { SOCK_REP, SOCK_PULL, SOCK_PUB, NSOCKS };

struct breaker_d {
	const char		*confdir;
	char			*urls[NSOCKS];
	char			*ipc_paths[NSOCKS];
	nng_socket		 socks[NSOCKS];
	int			 open[NSOCKS];
	const char		*pidfile;
	int			 pidfile_written;
	uint64_t		 reuse_ms;
	struct config		*config;
	uint64_t		 generation;
	uint64_t		 fingerprint;
	struct breaker		*breaker;
	struct worker		 workers[BREAKER_D_WORKERS];
	size_t			 nworkers;
	nng_aio			*pull_aio;
	/* held around every use of breaker, config and what follows */
	pthread_mutex_t		 lock;
	struct msg_writer	 events;
	uint64_t		 waiting_for;	/* main thread's next due */
	int			 wake_fd;	/* eventfd */
	uint64_t		 badmsg_window;
	unsigned		 badmsg_logged;
	unsigned		 badmsg_dropped;
	struct daemon_watch	 watch;
};

static const char *const breaker_kinds[] = { "DestinationRule",
    "ServiceEntry", "WorkloadEntry", "Service" };

static volatile sig_atomic_t	 sig_quit;
static volatile sig_atomic_t	 sig_reload;
static volatile sig_atomic_t	 sig_louder;
static volatile sig_atomic_t	 sig_quieter;

static _Noreturn void usage(void);
static void	on_signal(int);
static void	signals_install(void);
static void	signals_block(void);
static void	print_error_line(const char *, void *);
static void	log_error_line(const char *, void *);
static struct config *load_config(const char *, int);
static int	check_config(const char *, int);
static int	filter(struct breaker_d *);
static int	serve_open(struct breaker_d *);
static int	listen_on(struct breaker_d *, int);
static void	serve(struct breaker_d *);
static void	serve_close(struct breaker_d *);
static void	worker_cb(void *);
static void	pull_cb(void *);
static void	after_decisions(struct breaker_d *, int);
static void	log_event(const struct breaker_event *);
static void	log_bad_message(struct breaker_d *, const char *);
static void	reload(struct breaker_d *, int);
static void	on_clock(struct breaker_d *);
static void	parse_reuse(const char *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: breaker-d [-fnqv] [-c dir] [-e url] "
	    "[-l file] [-p pidfile] [-R ms] [-r url] [-s url]\n");
	exit(2);
}

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		sig_reload = 1;
		break;
	case SIGUSR1:
		sig_louder = 1;
		break;
	case SIGUSR2:
		sig_quieter = 1;
		break;
	default:
		sig_quit = 1;
	}
}

static void
signals_install(void)
{
	struct sigaction	 sa;
	const int		 sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1,
				    SIGUSR2 };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (i = 0; i < nitems(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
}

/* Blocked before nng starts its threads: only ppoll takes them. */
static void
signals_block(void)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
}

static void
print_error_line(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

static void
log_error_line(const char *line, void *arg)
{
	log_warnx("%s", line);
}

static struct config *
load_config(const char *dir, int verbose)
{
	struct cfg_errors	 errs;
	struct config		*cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir(dir, &errs);
	cfg_errors_print(&errs, verbose, log_error_line, NULL);
	cfg_errors_fini(&errs);
	return cfg;
}

static int
check_config(const char *dir, int verbose)
{
	struct cfg_errors	 errs;
	struct config		*cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir(dir, &errs);
	cfg_errors_print(&errs, verbose, print_error_line, NULL);
	cfg_errors_fini(&errs);
	if (cfg == NULL)
		return 1;
	fprintf(stderr, "configuration OK\n");
	config_free(cfg);
	return 0;
}

/*
 * A trace on stdin (report and admit messages, in order), its state
 * changes and admit replies on stdout; the clock is the trace's time-ms.
 */
static int
filter(struct breaker_d *bd)
{
	struct msg_writer	 out;
	char			*buf = NULL, err[256];
	size_t			 len = 0, cap = 0, off, n, i;
	ssize_t			 r;
	int			 status = 0;

	for (;;) {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((r = read(STDIN_FILENO, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("stdin");
			free(buf);
			return 1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	msgw_init(&out);
	for (off = 0; off < len; off += n) {
		n = msg_stream_next(buf + off, len - off);
		for (i = 0; i < n && (buf[off + i] == '\n' ||
		    buf[off + i] == ' ' || buf[off + i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if (breaker_filter_message(bd->breaker, bd->reuse_ms,
		    buf + off, n, &out, err, sizeof(err)) == -1)
			log_warnx("malformed message at byte %zu: %s", off,
			    err);
		if (fwrite(out.buf, 1, out.len, stdout) != out.len) {
			status = 1;
			break;
		}
	}
	msgw_fini(&out);
	free(buf);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return 1;
	}
	return status;
}

static int
listen_on(struct breaker_d *bd, int which)
{
	nng_listener	 l;
	int		 rv;

	if (daemon_ipc_prepare(bd->urls[which], &bd->ipc_paths[which]) == -1)
		return -1;
	switch (which) {
	case SOCK_REP:
		rv = nng_rep0_open(&bd->socks[which]);
		break;
	case SOCK_PULL:
		rv = nng_pull0_open(&bd->socks[which]);
		break;
	default:
		rv = nng_pub0_open(&bd->socks[which]);
	}
	if (rv != 0) {
		log_warnx("nng socket: %s", nng_strerror(rv));
		free(bd->ipc_paths[which]);
		bd->ipc_paths[which] = NULL;
		return -1;
	}
	bd->open[which] = 1;
	if (which != SOCK_PUB && (rv = nng_socket_set_size(bd->socks[which],
	    NNG_OPT_RECVMAXSZ, MSG_MAX_BYTES)) != 0) {
		log_warnx("nng socket options: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_listener_create(&l, bd->socks[which],
	    bd->urls[which])) != 0) {
		log_warnx("%s: %s", bd->urls[which], nng_strerror(rv));
		return -1;
	}
	if (bd->ipc_paths[which] != NULL && (rv = nng_listener_set_int(l,
	    NNG_OPT_IPC_PERMISSIONS, 0660)) != 0) {
		log_warnx("%s: permissions: %s", bd->urls[which],
		    nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("listen on %s: %s", bd->urls[which],
		    nng_strerror(rv));
		/* someone else's address: leave its socket file */
		free(bd->ipc_paths[which]);
		bd->ipc_paths[which] = NULL;
		return -1;
	}
	return 0;
}

static int
serve_open(struct breaker_d *bd)
{
	int	 rv, i;

	for (i = 0; i < NSOCKS; i++)
		if (listen_on(bd, i) == -1)
			return -1;
	for (bd->nworkers = 0; bd->nworkers < BREAKER_D_WORKERS;
	    bd->nworkers++) {
		struct worker *w = &bd->workers[bd->nworkers];

		w->bd = bd;
		msgw_init(&w->out);
		if ((rv = nng_ctx_open(&w->ctx, bd->socks[SOCK_REP])) != 0) {
			msgw_fini(&w->out);
			log_warnx("nng_ctx_open: %s", nng_strerror(rv));
			return -1;
		}
		if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) != 0) {
			nng_ctx_close(w->ctx);
			msgw_fini(&w->out);
			log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
			return -1;
		}
	}
	if ((rv = nng_aio_alloc(&bd->pull_aio, pull_cb, bd)) != 0) {
		log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
serve_close(struct breaker_d *bd)
{
	size_t	 i;

	/* Closing the sockets ends every aio; stopping waits for them. */
	for (i = 0; i < NSOCKS; i++)
		if (bd->open[i])
			nng_close(bd->socks[i]);
	for (i = 0; i < bd->nworkers; i++) {
		nng_aio_stop(bd->workers[i].aio);
		nng_aio_free(bd->workers[i].aio);
		msgw_fini(&bd->workers[i].out);
	}
	bd->nworkers = 0;
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
	if (bd->pidfile_written && unlink(bd->pidfile) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", bd->pidfile);
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
		if (write(bd->wake_fd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_warn("eventfd");
	}
}

/* A peer sending garbage in a loop must not flood the log. */
static void
log_bad_message(struct breaker_d *bd, const char *why)
{
	uint64_t	 now = util_now_ms() / 1000;

	if (now != bd->badmsg_window) {
		if (bd->badmsg_dropped > 0)
			log_warnx("%u more malformed messages not logged",
			    bd->badmsg_dropped);
		bd->badmsg_window = now;
		bd->badmsg_logged = 0;
		bd->badmsg_dropped = 0;
	}
	if (bd->badmsg_logged++ < BREAKER_D_BADMSG_PER_SEC)
		log_warnx("malformed message: %s", why);
	else
		bd->badmsg_dropped++;
}

static void
worker_cb(void *arg)
{
	struct worker		*w = arg;
	struct breaker_d	*bd = w->bd;
	struct breaker_stats	*stats = breaker_stats(bd->breaker);
	nng_msg			*m;
	uint64_t		 bad;
	int			 rv;

	if ((rv = nng_aio_result(w->aio)) != 0) {
		if (w->sending && (m = nng_aio_get_msg(w->aio)) != NULL)
			nng_msg_free(m);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		log_warnx("%s: %s", w->sending ? "send" : "receive",
		    nng_strerror(rv));
		w->sending = 0;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (w->sending) {
		w->sending = 0;
		if (w->out.cap > BREAKER_D_KEEP_BUFFER) {
			msgw_fini(&w->out);
			msgw_init(&w->out);
		}
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	m = nng_aio_get_msg(w->aio);
	pthread_mutex_lock(&bd->lock);
	breaker_advance(bd->breaker, util_now_ms());
	bad = stats->bad_messages;
	breaker_handle_request(bd->breaker, bd->reuse_ms, nng_msg_body(m),
	    nng_msg_len(m), &w->out);
	if (stats->bad_messages != bad)
		log_bad_message(bd, stats->last_error);
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
	nng_msg_clear(m);
	if ((rv = nng_msg_append(m, w->out.buf, w->out.len)) != 0) {
		log_warnx("reply: %s", nng_strerror(rv));
		nng_msg_free(m);
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	nng_aio_set_msg(w->aio, m);
	w->sending = 1;
	nng_ctx_send(w->ctx, w->aio);
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
		log_bad_message(bd, err);
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
	nng_msg_free(m);
	nng_recv_aio(bd->socks[SOCK_PULL], bd->pull_aio);
}

/* The main thread's timer: ejections that end now. */
static void
on_clock(struct breaker_d *bd)
{
	pthread_mutex_lock(&bd->lock);
	breaker_advance(bd->breaker, util_now_ms());
	after_decisions(bd, 0);
	bd->waiting_for = breaker_next_due(bd->breaker);
	pthread_mutex_unlock(&bd->lock);
}

/*
 * A bad config leaves the running one.  A reload the watcher started
 * makes a new generation only when breaker-d's own resources changed.
 */
static void
reload(struct breaker_d *bd, int watched)
{
	struct breaker_stats	*stats = breaker_stats(bd->breaker);
	struct config		*cfg, *old;
	uint64_t		 fingerprint;

	log_info("reloading %s", bd->confdir);
	if ((cfg = load_config(bd->confdir, log_getlevel() >=
	    LOG_LEVEL_DEBUG)) == NULL) {
		pthread_mutex_lock(&bd->lock);
		stats->reload_failures++;
		pthread_mutex_unlock(&bd->lock);
		log_warnx("reload failed; generation %llu stays in force",
		    (unsigned long long)bd->generation);
		return;
	}
	fingerprint = daemon_config_fingerprint(cfg, breaker_kinds,
	    nitems(breaker_kinds));
	if (watched && fingerprint == bd->fingerprint) {
		config_free(cfg);
		log_info("none of breaker-d's resources changed; generation "
		    "%llu stays", (unsigned long long)bd->generation);
		return;
	}
	pthread_mutex_lock(&bd->lock);
	old = bd->config;
	bd->config = cfg;
	bd->fingerprint = fingerprint;
	bd->generation++;
	breaker_advance(bd->breaker, util_now_ms());
	breaker_set_config(bd->breaker, cfg, bd->generation);
	stats->reloads++;
	after_decisions(bd, 1);
	pthread_mutex_unlock(&bd->lock);
	config_free(old);
	log_info("generation %llu: %zu destination rules",
	    (unsigned long long)bd->generation, cfg->ndestination_rules);
}

static void
serve(struct breaker_d *bd)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	sigset_t	 waitmask;
	uint64_t	 next, due, now, count;
	size_t		 i;
	int		 timed;

	for (i = 0; i < bd->nworkers; i++)
		nng_ctx_recv(bd->workers[i].ctx, bd->workers[i].aio);
	nng_recv_aio(bd->socks[SOCK_PULL], bd->pull_aio);
	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGUSR2);
	daemon_watch_open(&bd->watch, bd->confdir);
	while (!sig_quit) {
		if (sig_reload) {
			sig_reload = 0;
			daemon_watch_read(&bd->watch);
			bd->watch.due = 0;
			reload(bd, 0);
			continue;
		}
		if (sig_louder || sig_quieter) {
			log_setlevel(log_getlevel() + (sig_louder ? 1 : 0) -
			    (sig_quieter ? 1 : 0));
			sig_louder = sig_quieter = 0;
			log_info("log level %s", log_getlevel() ==
			    LOG_LEVEL_DEBUG ? "debug" : "info");
			continue;
		}
		if (daemon_watch_poll(&bd->watch, &next))
			reload(bd, 1);
		on_clock(bd);
		pthread_mutex_lock(&bd->lock);
		due = bd->waiting_for;
		pthread_mutex_unlock(&bd->lock);
		if (due != 0 && (next == 0 || due < next))
			next = due;
		now = util_now_ms();
		timed = next != 0;
		if (timed) {
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000);
			ts.tv_nsec = (long)(next % 1000) * 1000000L;
		}
		pfd[0].fd = bd->wake_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = bd->watch.fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (ppoll(pfd, bd->watch.fd == -1 ? 1 : 2, timed ? &ts : NULL,
		    &waitmask) == -1 && errno != EINTR)
			fatal("ppoll");
		if ((pfd[0].revents & POLLIN) &&
		    read(bd->wake_fd, &count, sizeof(count)) == -1 &&
		    errno != EAGAIN)
			log_warn("eventfd");
		if (pfd[1].revents & POLLIN)
			daemon_watch_read(&bd->watch);
	}
	daemon_watch_close(&bd->watch);
	pthread_mutex_lock(&bd->lock);
	if (bd->badmsg_dropped > 0)
		log_warnx("%u more malformed messages not logged",
		    bd->badmsg_dropped);
	pthread_mutex_unlock(&bd->lock);
}

static uint64_t	 reuse_flag;

static void
parse_reuse(const char *arg)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    v > BREAKER_D_MAX_REUSE) {
		fprintf(stderr, "breaker-d: -R %s: want 0..86400000 "
		    "milliseconds\n", arg);
		exit(2);
	}
	reuse_flag = v;
}

int
main(int argc, char *argv[])
{
	struct breaker_d	 bd;
	const char		*logfile = NULL;
	int			 ch, verbose = 0, quiet = 0, filter_mode = 0;
	int			 check_only = 0, level, status = 0, i;

	memset(&bd, 0, sizeof(bd));
	bd.confdir = BREAKER_D_DEFAULT_CONFDIR;
	reuse_flag = BREAKER_D_DEFAULT_REUSE;
	bd.wake_fd = -1;
	bd.watch.fd = -1;
	while ((ch = getopt(argc, argv, "c:e:fl:np:qR:r:s:v")) != -1) {
		switch (ch) {
		case 'c':
			bd.confdir = optarg;
			break;
		case 'e':
			free(bd.urls[SOCK_PUB]);
			bd.urls[SOCK_PUB] = xstrdup(optarg);
			break;
		case 'f':
			filter_mode = 1;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'p':
			bd.pidfile = optarg;
			break;
		case 'q':
			quiet++;
			break;
		case 'R':
			parse_reuse(optarg);
			break;
		case 'r':
			free(bd.urls[SOCK_PULL]);
			bd.urls[SOCK_PULL] = xstrdup(optarg);
			break;
		case 's':
			free(bd.urls[SOCK_REP]);
			bd.urls[SOCK_REP] = xstrdup(optarg);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	bd.reuse_ms = reuse_flag;

	if (check_only) {
		status = check_config(bd.confdir, verbose > 0);
		for (i = 0; i < NSOCKS; i++)
			free(bd.urls[i]);
		return status;
	}

	level = LOG_LEVEL_INFO + verbose - quiet;
	log_init("breaker-d", 1, level < LOG_LEVEL_WARN ? LOG_LEVEL_WARN :
	    level > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : level);
	if (logfile != NULL && log_init_file(logfile) == -1) {
		fprintf(stderr, "breaker-d: %s: %s\n", logfile,
		    strerror(errno));
		exit(1);
	}
	if ((bd.config = load_config(bd.confdir, verbose > 0)) == NULL) {
		log_warnx("%s: configuration not loaded", bd.confdir);
		exit(1);
	}
	bd.generation = 1;
	bd.fingerprint = daemon_config_fingerprint(bd.config, breaker_kinds,
	    nitems(breaker_kinds));
	bd.breaker = breaker_new();
	breaker_set_config(bd.breaker, bd.config, bd.generation);
	pthread_mutex_init(&bd.lock, NULL);
	msgw_init(&bd.events);

	if (filter_mode) {
		status = filter(&bd);
		goto done;
	}

	if (bd.urls[SOCK_REP] == NULL)
		xasprintf(&bd.urls[SOCK_REP], "ipc://%s/breaker.sock",
		    util_rundir());
	if (bd.urls[SOCK_PULL] == NULL)
		xasprintf(&bd.urls[SOCK_PULL], "ipc://%s/breaker-report.sock",
		    util_rundir());
	if (bd.urls[SOCK_PUB] == NULL)
		xasprintf(&bd.urls[SOCK_PUB], "ipc://%s/breaker-events.sock",
		    util_rundir());
	if ((bd.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("eventfd");
		status = 1;
		goto done;
	}
	signals_install();
	signals_block();
	breaker_set_clock(bd.breaker, util_now_ms());
	if (serve_open(&bd) == -1) {
		serve_close(&bd);
		status = 1;
		goto done;
	}
	if (bd.pidfile != NULL) {
		if (daemon_pidfile_write(bd.pidfile) == -1) {
			serve_close(&bd);
			status = 1;
			goto done;
		}
		bd.pidfile_written = 1;
	}
	log_info("listening on %s, reports on %s, events on %s; generation "
	    "1: %zu destination rules, reuse %llu ms", bd.urls[SOCK_REP],
	    bd.urls[SOCK_PULL], bd.urls[SOCK_PUB],
	    bd.config->ndestination_rules, (unsigned long long)bd.reuse_ms);
	serve(&bd);
	log_info("exiting");
	serve_close(&bd);

done:
	if (bd.wake_fd != -1)
		close(bd.wake_fd);
	pthread_mutex_destroy(&bd.lock);
	msgw_fini(&bd.events);
	breaker_free(bd.breaker);
	config_free(bd.config);
	for (i = 0; i < NSOCKS; i++) {
		free(bd.ipc_paths[i]);
		free(bd.urls[i]);
	}
	return status;
}
