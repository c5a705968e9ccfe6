/*
 * route-d: answers proxy-d's route questions (meshkit-ipc(7)) from the
 * ServiceEntry and WorkloadEntry resources of a config directory.
 *
 * Serving: a few nng contexts, each with its aio, keep several requests
 * in flight, so that nng receives the next message while the last reply
 * is being sent; a plain rep0 socket handles one request at a time and
 * every proxy waits for the thread hops of every other one (measured with
 * 4 clients asking 32 questions a message: 9.8k against 5.6k messages a
 * second, and 61 against 107 us of CPU a message with 1 client).  Decisions
 * take about a microsecond a question, so one mutex around them (and
 * around the config pointer and round-robin counters they use) costs
 * nothing measurable.  The main thread only waits for signals: the
 * handlers set flags, and the main thread does the work, a reload
 * building the new config outside the lock and swapping it in.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "route.h"
#include "util.h"

#define ROUTE_D_DEFAULT_CONFDIR	"/etc/meshkit"
#define ROUTE_D_DEFAULT_REUSE	1000
#define ROUTE_D_MAX_REUSE	86400000ULL
#define ROUTE_D_WORKERS		4	/* requests in flight */
#define ROUTE_D_KEEP_BUFFER	(256 * 1024) /* larger reply buffers freed */
#define ROUTE_D_BADMSG_PER_SEC	5	/* malformed messages logged */

struct route_d;

/* One request in flight: its context, its aio, its reply buffer. */
struct worker {
	struct route_d		*rd;
	nng_ctx			 ctx;
	nng_aio			*aio;
	int			 sending;
	struct msg_writer	 out;
};

struct route_d {
	const char		*confdir;
	char			*url;
	char			*ipc_path;	/* socket file, for ipc:// */
	const char		*pidfile;
	int			 pidfile_written;
	uint64_t		 reuse_ms;
	struct config		*config;
	uint64_t		 generation;
	struct route_state	*state;
	nng_socket		 sock;
	int			 sock_open;
	struct worker		 workers[ROUTE_D_WORKERS];
	size_t			 nworkers;
	/* held by workers while deciding, by the main thread to swap */
	pthread_mutex_t		 lock;
	struct msg_writer	 out;		/* filter mode */
	/* rate limit of "malformed message" logs */
	uint64_t		 badmsg_window;
	unsigned		 badmsg_logged;
	unsigned		 badmsg_dropped;
};

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
static int	filter(struct route_d *);
static int	ipc_prepare(struct route_d *);
static int	serve_open(struct route_d *);
static void	serve(struct route_d *);
static void	worker_cb(void *);
static void	serve_close(struct route_d *);
static void	reload(struct route_d *);
static void	log_bad_message(struct route_d *);
static int	pidfile_write(const char *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: route-d [-fnqv] [-c dir] [-l file] "
	    "[-p pidfile] [-R ms] [-s url]\n");
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

/*
 * nng's threads inherit the mask of the thread that starts them: with
 * the signals blocked before nng starts, only the main thread, waiting
 * in sigsuspend, ever takes them.
 */
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

/* The config of dir, or NULL with every error logged. */
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

/* Messages on stdin, one reply each on stdout, as meshkit-ipc(7) says. */
static int
filter(struct route_d *rd)
{
	char		*buf = NULL;
	size_t		 len = 0, cap = 0, off, n, i;
	ssize_t		 r;

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
	for (off = 0; off < len; off += n) {
		n = msg_stream_next(buf + off, len - off);
		/* blank lines between messages are not a message */
		for (i = 0; i < n && (buf[off + i] == '\n' ||
		    buf[off + i] == ' ' || buf[off + i] == '\t'); i++)
			;
		if (i == n)
			continue;
		route_handle_message(rd->config, rd->state, rd->generation,
		    rd->reuse_ms, buf + off, n, &rd->out);
		if (fwrite(rd->out.buf, 1, rd->out.len, stdout) !=
		    rd->out.len)
			break;
	}
	free(buf);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return 1;
	}
	return 0;
}

/*
 * For ipc:// URLs: make the socket's directory when it is missing, and
 * clear a socket file left by a route-d that died.  A socket that still
 * answers belongs to a running daemon: refuse to take it over.
 */
static int
ipc_prepare(struct route_d *rd)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	char			*dir, *slash;
	int			 fd, rv;

	if (strncmp(rd->url, "ipc://", 6) != 0)
		return 0;
	rd->ipc_path = xstrdup(rd->url + 6);
	if (strlen(rd->ipc_path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", rd->url);
		return -1;
	}
	dir = xstrdup(rd->ipc_path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			free(dir);
			return -1;
		}
	}
	free(dir);

	if (lstat(rd->ipc_path, &sb) == -1)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx("%s exists and is not a socket", rd->ipc_path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, rd->ipc_path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	rv = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rv == 0) {
		log_warnx("%s is served by another process; not starting",
		    rd->url);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warn("%s", rd->ipc_path);
		return -1;
	}
	log_info("removing stale socket %s", rd->ipc_path);
	if (unlink(rd->ipc_path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", rd->ipc_path);
		return -1;
	}
	return 0;
}

static int
serve_open(struct route_d *rd)
{
	nng_listener	 l;
	int		 rv;

	if (ipc_prepare(rd) == -1)
		return -1;
	if ((rv = nng_rep0_open(&rd->sock)) != 0) {
		log_warnx("nng_rep0_open: %s", nng_strerror(rv));
		return -1;
	}
	rd->sock_open = 1;
	if ((rv = nng_socket_set_size(rd->sock, NNG_OPT_RECVMAXSZ,
	    MSG_MAX_BYTES)) != 0) {
		log_warnx("nng socket options: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_listener_create(&l, rd->sock, rd->url)) != 0) {
		log_warnx("%s: %s", rd->url, nng_strerror(rv));
		return -1;
	}
	if (rd->ipc_path != NULL && (rv = nng_listener_set_int(l,
	    NNG_OPT_IPC_PERMISSIONS, 0660)) != 0) {
		log_warnx("%s: permissions: %s", rd->url, nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("listen on %s: %s", rd->url, nng_strerror(rv));
		return -1;
	}
	for (rd->nworkers = 0; rd->nworkers < ROUTE_D_WORKERS;
	    rd->nworkers++) {
		struct worker *w = &rd->workers[rd->nworkers];

		w->rd = rd;
		msgw_init(&w->out);
		if ((rv = nng_ctx_open(&w->ctx, rd->sock)) != 0) {
			log_warnx("nng_ctx_open: %s", nng_strerror(rv));
			return -1;
		}
		if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) != 0) {
			nng_ctx_close(w->ctx);
			log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
			return -1;
		}
	}
	return 0;
}

static void
serve_close(struct route_d *rd)
{
	size_t	 i;

	/* Closing the socket ends every aio; stopping waits for them. */
	if (rd->sock_open)
		nng_close(rd->sock);
	rd->sock_open = 0;
	for (i = 0; i < rd->nworkers; i++) {
		nng_aio_stop(rd->workers[i].aio);
		nng_aio_free(rd->workers[i].aio);
		msgw_fini(&rd->workers[i].out);
	}
	rd->nworkers = 0;
	if (rd->ipc_path != NULL && unlink(rd->ipc_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", rd->ipc_path);
	if (rd->pidfile_written && unlink(rd->pidfile) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", rd->pidfile);
}

/* A bad config on reload leaves the running one, and its generation. */
static void
reload(struct route_d *rd)
{
	struct route_stats	*stats = route_state_stats(rd->state);
	struct config		*cfg, *old;

	log_info("reloading %s", rd->confdir);
	if ((cfg = load_config(rd->confdir, log_getlevel() >=
	    LOG_LEVEL_DEBUG)) == NULL) {
		pthread_mutex_lock(&rd->lock);
		stats->reload_failures++;
		pthread_mutex_unlock(&rd->lock);
		log_warnx("reload failed; generation %llu stays in force",
		    (unsigned long long)rd->generation);
		return;
	}
	pthread_mutex_lock(&rd->lock);
	old = rd->config;
	rd->config = cfg;
	rd->generation++;
	stats->reloads++;
	pthread_mutex_unlock(&rd->lock);
	/* no decision can still be reading it: they run under the lock */
	config_free(old);
	log_info("generation %llu: %zu services, %zu workloads",
	    (unsigned long long)rd->generation, cfg->nservice_entries,
	    cfg->nworkload_entries);
}

/* A peer sending garbage in a loop must not flood the log. */
static void
log_bad_message(struct route_d *rd)
{
	struct route_stats	*stats = route_state_stats(rd->state);
	uint64_t		 now = util_now_ms() / 1000;

	if (now != rd->badmsg_window) {
		if (rd->badmsg_dropped > 0)
			log_warnx("%u more malformed messages not logged",
			    rd->badmsg_dropped);
		rd->badmsg_window = now;
		rd->badmsg_logged = 0;
		rd->badmsg_dropped = 0;
	}
	if (rd->badmsg_logged++ < ROUTE_D_BADMSG_PER_SEC)
		log_warnx("malformed message: %s", stats->last_error);
	else
		rd->badmsg_dropped++;
}

/*
 * Runs on an nng thread when a receive or a send of w ends.  A message
 * nng could not deliver is dropped: the peer's REQ gives up on it.
 */
static void
worker_cb(void *arg)
{
	struct worker		*w = arg;
	struct route_d		*rd = w->rd;
	struct route_stats	*stats = route_state_stats(rd->state);
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
		/* one huge reply must not keep its buffer for ever */
		if (w->out.cap > ROUTE_D_KEEP_BUFFER) {
			msgw_fini(&w->out);
			msgw_init(&w->out);
		}
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	m = nng_aio_get_msg(w->aio);
	pthread_mutex_lock(&rd->lock);
	bad = stats->bad_messages;
	route_handle_message(rd->config, rd->state, rd->generation,
	    rd->reuse_ms, nng_msg_body(m), nng_msg_len(m), &w->out);
	if (stats->bad_messages != bad)
		log_bad_message(rd);
	pthread_mutex_unlock(&rd->lock);
	/* The request's nng_msg carries the reply: one less alloc. */
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

/*
 * Signals stay blocked in the main thread but inside sigsuspend, so a
 * flag cannot be set between the look at it and the wait.
 */
static void
serve(struct route_d *rd)
{
	sigset_t	 waitmask;
	size_t		 i;

	for (i = 0; i < rd->nworkers; i++)
		nng_ctx_recv(rd->workers[i].ctx, rd->workers[i].aio);
	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGUSR2);
	while (!sig_quit) {
		if (sig_reload) {
			sig_reload = 0;
			reload(rd);
		} else if (sig_louder || sig_quieter) {
			log_setlevel(log_getlevel() + (sig_louder ? 1 : 0) -
			    (sig_quieter ? 1 : 0));
			sig_louder = sig_quieter = 0;
			log_info("log level %s", log_getlevel() ==
			    LOG_LEVEL_DEBUG ? "debug" : "info");
		} else
			sigsuspend(&waitmask);
	}
	pthread_mutex_lock(&rd->lock);
	if (rd->badmsg_dropped > 0)
		log_warnx("%u more malformed messages not logged",
		    rd->badmsg_dropped);
	pthread_mutex_unlock(&rd->lock);
}

static int
pidfile_write(const char *path)
{
	char	 buf[32];
	int	 fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct route_d	 rd;
	const char	*logfile = NULL, *errstr;
	int		 ch, verbose = 0, quiet = 0, filter_mode = 0;
	int		 check_only = 0, level, status = 0;
	unsigned long long reuse;
	char		*end;

	memset(&rd, 0, sizeof(rd));
	rd.confdir = ROUTE_D_DEFAULT_CONFDIR;
	rd.reuse_ms = ROUTE_D_DEFAULT_REUSE;
	while ((ch = getopt(argc, argv, "c:fl:np:qR:s:v")) != -1) {
		switch (ch) {
		case 'c':
			rd.confdir = optarg;
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
			rd.pidfile = optarg;
			break;
		case 'q':
			quiet++;
			break;
		case 'R':
			errno = 0;
			reuse = strtoull(optarg, &end, 10);
			errstr = NULL;
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || reuse > ROUTE_D_MAX_REUSE)
				errstr = "want 0..86400000 milliseconds";
			if (errstr != NULL) {
				fprintf(stderr, "route-d: -R %s: %s\n", optarg,
				    errstr);
				exit(2);
			}
			rd.reuse_ms = reuse;
			break;
		case 's':
			rd.url = xstrdup(optarg);
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

	if (check_only)
		return check_config(rd.confdir, verbose > 0);

	level = LOG_LEVEL_INFO + verbose - quiet;
	log_init("route-d", 1, level < LOG_LEVEL_WARN ? LOG_LEVEL_WARN :
	    level > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : level);
	if (logfile != NULL && log_init_file(logfile) == -1) {
		fprintf(stderr, "route-d: %s: %s\n", logfile, strerror(errno));
		exit(1);
	}

	if ((rd.config = load_config(rd.confdir, verbose > 0)) == NULL) {
		log_warnx("%s: configuration not loaded", rd.confdir);
		exit(1);
	}
	rd.generation = 1;
	rd.state = route_state_new();
	pthread_mutex_init(&rd.lock, NULL);
	msgw_init(&rd.out);

	if (filter_mode) {
		status = filter(&rd);
		goto done;
	}

	if (rd.url == NULL)
		xasprintf(&rd.url, "ipc://%s/route.sock", util_rundir());
	signals_install();
	signals_block();
	if (serve_open(&rd) == -1) {
		/* the address may be someone else's: leave its socket file */
		free(rd.ipc_path);
		rd.ipc_path = NULL;
		serve_close(&rd);
		status = 1;
		goto done;
	}
	if (rd.pidfile != NULL) {
		if (pidfile_write(rd.pidfile) == -1) {
			serve_close(&rd);
			status = 1;
			goto done;
		}
		rd.pidfile_written = 1;
	}
	log_info("listening on %s, generation 1: %zu services, %zu "
	    "workloads, reuse %llu ms", rd.url,
	    rd.config->nservice_entries, rd.config->nworkload_entries,
	    (unsigned long long)rd.reuse_ms);
	serve(&rd);
	log_info("exiting");
	serve_close(&rd);

done:
	pthread_mutex_destroy(&rd.lock);
	msgw_fini(&rd.out);
	route_state_free(rd.state);
	config_free(rd.config);
	free(rd.ipc_path);
	free(rd.url);
	return status;
}
