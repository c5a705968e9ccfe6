/* SPDX-License-Identifier: ISC */
/*
 * A daemon's chores around its decisions (daemon.h): its flags, signals,
 * REP socket and workers, ipc:// socket files, pid file, config
 * directory's watch and reloads, and its main loop.
 *
 * Serving: a few nng contexts, each with its aio, keep several requests
 * in flight, so that nng receives the next message while the last reply
 * is being sent; a plain rep0 socket handles one request at a time and
 * every proxy waits for the thread hops of every other one (measured on
 * route-d with 4 clients asking 32 questions a message: 9.8k against 5.6k
 * messages a second).  The main thread only waits, in ppoll, for signals
 * and for changes to the config directory (inotify), and for what the
 * daemon's wake_fd and tick ask: the handlers set flags, and the main
 * thread does the work, a reload building the new config outside the
 * daemon's lock and swapping it in.
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "privdrop.h"
#include "util.h"
#include "yaml.h"

#define DAEMON_WATCH_QUIET_MS	100	/* a change settles for this long */
#define DAEMON_WATCH_RETRY_MS	1000	/* a lost watch is set up again */
#define DAEMON_WATCH_MAX_MS	1000	/* a directory never quiet: reload */
#define DAEMON_WATCH_EVENTS	(IN_CLOSE_WRITE | IN_MOVED_TO | \
	IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)
#define DAEMON_KEEP_BUFFER	(256 * 1024) /* larger reply buffers freed */
#define DAEMON_BADMSG_PER_SEC	5	/* malformed messages logged */

static volatile sig_atomic_t	 sig_quit;
static volatile sig_atomic_t	 sig_reload;
static volatile sig_atomic_t	 sig_louder;
static volatile sig_atomic_t	 sig_quieter;
static const int		 daemon_sigs[] = { SIGHUP, SIGINT, SIGTERM,
				    SIGUSR1, SIGUSR2 };

static uint64_t	daemon_hash_bytes(uint64_t, const void *, size_t);
static uint64_t	daemon_hash_node(uint64_t, const struct ynode *);
static int	daemon_watch_add(struct daemon_watch *);
static int	daemon_watch_name_counts(const char *);
static void	daemon_on_signal(int);
static void	daemon_print_error_line(const char *, void *);
static void	daemon_log_error_line(const char *, void *);
static void	daemon_worker_cb(void *);

int
daemon_ipc_prepare(const char *url, char **pathp)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	char			*dir, *slash, *path;
	int			 fd, rv;

	*pathp = NULL;
	if (strncmp(url, "ipc://", 6) != 0)
		return 0;
	path = xstrdup(url + 6);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", url);
		free(path);
		return -1;
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		/* the run directory: ours, or we do not start */
		if (privdrop_check_dir(dir, 1) == -1) {
			free(dir);
			free(path);
			return -1;
		}
	}
	free(dir);
	if (lstat(path, &sb) == -1) {
		*pathp = path;
		return 0;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx("%s exists and is not a socket", path);
		free(path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		free(path);
		return -1;
	}
	rv = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rv == 0) {
		log_warnx("%s is served by another process; not starting",
		    url);
		free(path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warn("%s", path);
		free(path);
		return -1;
	}
	log_info("removing stale socket %s", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		free(path);
		return -1;
	}
	*pathp = path;
	return 0;
}

int
daemon_pidfile_write(const char *path)
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

/* FNV-1a, 64 bits: to tell a change, not to resist an adversary. */
static uint64_t
daemon_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
daemon_hash_node(uint64_t h, const struct ynode *n)
{
	size_t	 i;

	if (n == NULL)
		return daemon_hash_bytes(h, "N", 1);
	h = daemon_hash_bytes(h, &n->type, sizeof(n->type));
	h = daemon_hash_bytes(h, &n->n, sizeof(n->n));
	if (n->type == YNODE_SCALAR) {
		h = daemon_hash_bytes(h, &n->plain, sizeof(n->plain));
		h = daemon_hash_bytes(h, &n->len, sizeof(n->len));
		return daemon_hash_bytes(h, n->value, n->len);
	}
	for (i = 0; i < n->n; i++) {
		if (n->type == YNODE_MAP)
			h = daemon_hash_node(h, n->keys[i]);
		h = daemon_hash_node(h, n->values[i]);
	}
	return h;
}

uint64_t
daemon_config_fingerprint(const struct config *cfg, const char *const *kinds,
    size_t nkinds)
{
	const struct ynode	*root, *kind;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 f, d, k;

	for (f = 0; f < cfg->nfiles; f++)
		for (d = 0; d < cfg->ndocs[f]; d++) {
			root = cfg->docs[f][d].root;
			if (root == NULL || root->type != YNODE_MAP ||
			    (kind = yaml_get(root, "kind")) == NULL ||
			    kind->type != YNODE_SCALAR)
				continue;
			for (k = 0; k < nkinds; k++)
				if (strcmp(kind->value, kinds[k]) == 0)
					break;
			if (k < nkinds || strcmp(kind->value, "List") == 0)
				h = daemon_hash_node(h, root);
		}
	return h;
}

void
daemon_watch_open(struct daemon_watch *w, const char *dir)
{
	memset(w, 0, sizeof(*w));
	w->dir = dir;
	w->wd = -1;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify; %s is reloaded on SIGHUP only", dir);
		return;
	}
	if (daemon_watch_add(w) == -1)
		log_warn("watch %s; retrying every %d ms", dir,
		    DAEMON_WATCH_RETRY_MS);
}

static int
daemon_watch_add(struct daemon_watch *w)
{
	w->wd = inotify_add_watch(w->fd, w->dir, DAEMON_WATCH_EVENTS);
	if (w->wd == -1) {
		w->retry = util_now_ms() + DAEMON_WATCH_RETRY_MS;
		return -1;
	}
	w->retry = 0;
	return 0;
}

/*
 * Only what config_load_dir reads counts, and a ConfigMap's ..data: its
 * files are symlinks through it.  Other dotfiles do not.
 */
static int
daemon_watch_name_counts(const char *name)
{
	size_t	 len = strlen(name);

	if (strcmp(name, "..data") == 0)
		return 1;
	if (name[0] == '.')
		return 0;
	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

void
daemon_watch_read(struct daemon_watch *w)
{
	char				 buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	char				*p;
	int				 changed = 0;

	if (w->fd == -1)
		return;
	for (;;) {
		if ((n = read(w->fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("inotify read");
			break;
		}
		if (n == 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				changed = 1;
				continue;
			}
			if (ev->wd != w->wd)
				continue;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED)) {
				if ((ev->mask & IN_IGNORED) == 0)
					inotify_rm_watch(w->fd, w->wd);
				log_warnx("%s was removed or moved; watching "
				    "for it again", w->dir);
				w->wd = -1;
				w->retry = util_now_ms() +
				    DAEMON_WATCH_RETRY_MS;
				continue;
			}
			if (ev->len > 0 && daemon_watch_name_counts(ev->name)) {
				log_debug("%s/%s changed", w->dir, ev->name);
				changed = 1;
			}
		}
	}
	if (changed) {
		uint64_t now = util_now_ms();

		if (w->due == 0)
			w->first = now;
		w->due = now + DAEMON_WATCH_QUIET_MS;
		if (w->due > w->first + DAEMON_WATCH_MAX_MS)
			w->due = w->first + DAEMON_WATCH_MAX_MS;
	}
}

int
daemon_watch_poll(struct daemon_watch *w, uint64_t *next)
{
	uint64_t	 now = util_now_ms();
	int		 reload = 0;

	*next = 0;
	if (w->fd == -1)
		return 0;
	if (w->wd == -1 && w->retry != 0 && w->retry <= now &&
	    daemon_watch_add(w) == 0) {
		log_info("watching %s again", w->dir);
		w->due = now;	/* it may hold anything */
	}
	if (w->due != 0 && w->due <= now) {
		w->due = 0;
		log_info("%s changed", w->dir);
		reload = 1;
	}
	if (w->due != 0)
		*next = w->due;
	if (w->wd == -1 && w->retry != 0 && (*next == 0 || w->retry < *next))
		*next = w->retry;
	return reload;
}

void
daemon_watch_close(struct daemon_watch *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	w->wd = -1;
}

void
daemon_init(struct daemon *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->confdir = DAEMON_DEFAULT_CONFDIR;
	d->reuse_ms = DAEMON_DEFAULT_REUSE;
	d->wake_fd = -1;
	d->watch.fd = -1;
	d->watch.wd = -1;
	pthread_mutex_init(&d->badmsg_lock, NULL);
}

void
daemon_fini(struct daemon *d)
{
	config_free(d->config);
	d->config = NULL;
	free(d->ipc_path);
	d->ipc_path = NULL;
	free(d->url);
	d->url = NULL;
	pthread_mutex_destroy(&d->badmsg_lock);
}

int
daemon_parse_number(const char *name, int flag, const char *arg,
    unsigned long long max, const char *unit, unsigned long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    *out > max) {
		fprintf(stderr, "%s: -%c %s: want 0..%llu%s%s\n", name, flag,
		    arg, max, unit != NULL ? " " : "", unit != NULL ? unit : "");
		return -1;
	}
	return 0;
}

int
daemon_flag(struct daemon *d, struct daemon_flags *f, int ch, const char *arg)
{
	switch (ch) {
	case 'c':
		d->confdir = arg;
		break;
	case 'f':
		f->filter = 1;
		break;
	case 'l':
		f->logfile = arg;
		break;
	case 'n':
		f->check = 1;
		break;
	case 'p':
		d->pidfile = arg;
		break;
	case 'q':
		f->quiet++;
		break;
	case 'u':
		d->user = arg;
		break;
	case 's':
		free(d->url);
		d->url = xstrdup(arg);
		break;
	case 'v':
		f->verbose++;
		break;
	default:
		return 0;
	}
	return 1;
}

void
daemon_start(struct daemon *d, const struct daemon_flags *f)
{
	struct cfg_errors	 errs;
	int			 level = LOG_LEVEL_INFO + f->verbose - f->quiet;

	log_init(d->name, 1, level < LOG_LEVEL_WARN ? LOG_LEVEL_WARN :
	    level > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : level);
	if (f->logfile != NULL && log_init_file(f->logfile) == -1) {
		fprintf(stderr, "%s: %s: %s\n", d->name, f->logfile,
		    strerror(errno));
		exit(1);
	}
	memset(&errs, 0, sizeof(errs));
	if ((d->config = daemon_load_config(d->confdir, f->verbose > 0,
	    &errs)) == NULL) {
		log_warnx("%s: configuration not loaded", d->confdir);
		exit(1);
	}
	daemon_log_warnings(d, &errs);
	cfg_errors_fini(&errs);
	d->generation = 1;
	d->fingerprint = daemon_config_fingerprint(d->config, d->kinds,
	    d->nkinds);
}

static void
daemon_print_error_line(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

static void
daemon_log_error_line(const char *line, void *arg)
{
	log_warnx("%s", line);
}

struct config *
daemon_load_config(const char *dir, int verbose, struct cfg_errors *errs)
{
	const struct cfg_error	*e;
	struct config		*cfg;
	char			*line;
	size_t			 i;

	cfg = config_load_dir(dir, errs);
	/* warnings wait for daemon_log_warnings: only a new generation's */
	for (i = 0; i < errs->n; i++) {
		e = &errs->v[i];
		if (e->warning || (e->notice && !verbose))
			continue;
		line = cfg_error_line(e);
		log_warnx("%s", line);
		free(line);
	}
	return cfg;
}

void
daemon_log_warnings(const struct daemon *d, const struct cfg_errors *errs)
{
	cfg_errors_print_warnings(errs, d->kinds, d->nkinds,
	    daemon_log_error_line, NULL);
	if (d->nwarn_kinds > 0)
		cfg_errors_print_warnings(errs, d->warn_kinds, d->nwarn_kinds,
		    daemon_log_error_line, NULL);
}

int
daemon_check_config(const char *dir, int verbose)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	const struct cfg_error	*e;
	char			*line;
	size_t			 i;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir(dir, &errs);
	for (i = 0; i < errs.n; i++) {
		e = &errs.v[i];
		if (e->notice && !e->warning && !verbose)
			continue;
		line = cfg_error_line(e);
		daemon_print_error_line(line, NULL);
		free(line);
	}
	cfg_errors_fini(&errs);
	if (cfg == NULL)
		return 1;
	fprintf(stderr, "configuration OK\n");
	config_free(cfg);
	return 0;
}

int
daemon_filter(void (*fn)(void *, const char *, size_t, size_t,
    struct msg_writer *), void *arg)
{
	char			*buf = NULL;
	size_t			 len = 0, cap = 0;
	ssize_t			 r;
	int			 status;

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
	status = daemon_filter_buffer(fn, arg, buf, len);
	free(buf);
	return status;
}

int
daemon_filter_buffer(void (*fn)(void *, const char *, size_t, size_t,
    struct msg_writer *), void *arg, const char *buf, size_t len)
{
	struct msg_writer	 out;
	size_t			 off, n, i;
	int			 status = 0;

	msgw_init(&out);
	for (off = 0; off < len; off += n) {
		n = msg_stream_next(buf + off, len - off);
		/* blank lines between messages are not a message */
		for (i = 0; i < n && (buf[off + i] == '\n' ||
		    buf[off + i] == ' ' || buf[off + i] == '\t'); i++)
			;
		if (i == n)
			continue;
		msgw_reset(&out);
		fn(arg, buf + off, n, off, &out);
		/* nothing written: no buffer either (fwrite wants one) */
		if (out.len > 0 &&
		    fwrite(out.buf, 1, out.len, stdout) != out.len) {
			status = 1;
			break;
		}
	}
	msgw_fini(&out);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return 1;
	}
	return status;
}

static void
daemon_on_signal(int sig)
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

/*
 * nng's threads inherit the mask of the thread that starts them: with
 * the signals blocked before nng starts, only the main thread, waiting
 * in ppoll, ever takes them.
 */
void
daemon_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = daemon_on_signal;
	for (i = 0; i < nitems(daemon_sigs); i++)
		if (sigaction(daemon_sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	sigemptyset(&set);
	for (i = 0; i < nitems(daemon_sigs); i++)
		sigaddset(&set, daemon_sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
}

/*
 * nng 1.5's nng_close can wait for ever (nng issues #1543 and #1813;
 * seen here once: stats-d stopped while its web thread closed another
 * socket); systemctl stop would then wait out its whole TimeoutStopSec.
 * Only write(2) and _exit(2) run in the handler, so the line is made
 * when the deadline is armed.
 */
static char	deadline_line[192];
static size_t	deadline_len;

static void
daemon_on_deadline(int sig)
{
	ssize_t	 rv;

	(void)sig;
	rv = write(STDERR_FILENO, deadline_line, deadline_len);
	(void)rv;
	_exit(1);
}

void
daemon_stop_deadline(const char *name, unsigned seconds)
{
	struct sigaction	 sa;
	sigset_t		 set;

	snprintf(deadline_line, sizeof(deadline_line), "%s[%ld]: not "
	    "stopped %u s after leaving its loop (a socket close that does "
	    "not return); exiting now\n", name, (long)getpid(), seconds);
	deadline_len = strlen(deadline_line);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = daemon_on_deadline;
	if (sigaction(SIGALRM, &sa, NULL) == -1) {
		log_warn("sigaction SIGALRM");
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	alarm(seconds);
}

void
daemon_sock_close(nng_socket s, int *open, nng_aio **aio)
{
	if (*open)
		nng_close(s);
	*open = 0;
	if (*aio != NULL) {
		nng_aio_stop(*aio);
		nng_aio_free(*aio);
		*aio = NULL;
	}
}

int
daemon_listen(nng_socket s, const char *url, char **ipc_path)
{
	nng_listener	 l;
	int		 rv;

	if (daemon_ipc_prepare(url, ipc_path) == -1)
		return -1;
	if ((rv = nng_listener_create(&l, s, url)) != 0) {
		log_warnx("%s: %s", url, nng_strerror(rv));
		return -1;
	}
	if (*ipc_path != NULL && (rv = nng_listener_set_int(l,
	    NNG_OPT_IPC_PERMISSIONS, 0660)) != 0) {
		log_warnx("%s: permissions: %s", url, nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("listen on %s: %s", url, nng_strerror(rv));
		/* someone else's address: leave its socket file */
		free(*ipc_path);
		*ipc_path = NULL;
		return -1;
	}
	/* made as root: the proxies, running as the user, must connect */
	return privdrop_give(*ipc_path);
}

int
daemon_open(struct daemon *d)
{
	struct daemon_worker	*w;
	int			 rv;

	if (privdrop_setup(d->user) == -1)
		return -1;
	if ((rv = nng_rep0_open(&d->sock)) != 0) {
		log_warnx("nng_rep0_open: %s", nng_strerror(rv));
		return -1;
	}
	d->sock_open = 1;
	if ((rv = nng_socket_set_size(d->sock, NNG_OPT_RECVMAXSZ,
	    MSG_MAX_BYTES)) != 0) {
		log_warnx("nng socket options: %s", nng_strerror(rv));
		return -1;
	}
	if (daemon_listen(d->sock, d->url, &d->ipc_path) == -1)
		return -1;
	for (d->nworkers = 0; d->nworkers < DAEMON_WORKERS; d->nworkers++) {
		w = &d->workers[d->nworkers];
		w->daemon = d;
		msgw_init(&w->out);
		if ((rv = nng_ctx_open(&w->ctx, d->sock)) != 0) {
			msgw_fini(&w->out);
			log_warnx("nng_ctx_open: %s", nng_strerror(rv));
			return -1;
		}
		if ((rv = nng_aio_alloc(&w->aio, daemon_worker_cb, w)) != 0) {
			nng_ctx_close(w->ctx);
			msgw_fini(&w->out);
			log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
			return -1;
		}
		w->data = d->worker_new != NULL ? d->worker_new(d) : NULL;
	}
	return 0;
}

int
daemon_write_pidfile(struct daemon *d)
{
	if (d->pidfile == NULL)
		return 0;
	if (daemon_pidfile_write(d->pidfile) == -1)
		return -1;
	d->pidfile_written = 1;
	return 0;
}

int
daemon_drop(struct daemon *d)
{
	return privdrop_drop();
}

void
daemon_close(struct daemon *d)
{
	struct daemon_worker	*w;
	size_t			 i;

	/* Closing the socket ends every aio; stopping waits for them. */
	if (d->sock_open)
		nng_close(d->sock);
	d->sock_open = 0;
	for (i = 0; i < d->nworkers; i++) {
		w = &d->workers[i];
		nng_aio_stop(w->aio);
		nng_aio_free(w->aio);
		msgw_fini(&w->out);
		if (d->worker_free != NULL)
			d->worker_free(w->data);
	}
	d->nworkers = 0;
	if (d->ipc_path != NULL && unlink(d->ipc_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", d->ipc_path);
	if (d->pidfile_written && unlink(d->pidfile) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", d->pidfile);
	d->pidfile_written = 0;
}

void
daemon_log_bad_message(struct daemon *d, const char *why)
{
	uint64_t	 now = util_now_ms() / 1000;

	pthread_mutex_lock(&d->badmsg_lock);
	if (now != d->badmsg_window) {
		if (d->badmsg_dropped > 0)
			log_warnx("%u more malformed messages not logged",
			    d->badmsg_dropped);
		d->badmsg_window = now;
		d->badmsg_logged = 0;
		d->badmsg_dropped = 0;
	}
	if (d->badmsg_logged++ < DAEMON_BADMSG_PER_SEC)
		log_warnx("malformed message: %s", why);
	else
		d->badmsg_dropped++;
	pthread_mutex_unlock(&d->badmsg_lock);
}

/*
 * Runs on an nng thread when a receive or a send of w ends.  A message
 * nng could not deliver is dropped: the peer's REQ gives up on it.
 */
static void
daemon_worker_cb(void *arg)
{
	struct daemon_worker	*w = arg;
	nng_msg			*m;
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
		if (w->out.cap > DAEMON_KEEP_BUFFER) {
			msgw_fini(&w->out);
			msgw_init(&w->out);
		}
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	m = nng_aio_get_msg(w->aio);
	w->pipe = nng_msg_get_pipe(m);	/* who sent it: tls-d asks its uid */
	w->daemon->handle(w, nng_msg_body(m), nng_msg_len(m), &w->out);
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

struct config *
daemon_swap(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct config	*old = d->config;

	d->config = cfg;
	d->fingerprint = fingerprint;
	d->generation++;
	return old;
}

/*
 * A bad config on reload leaves the running one, and its generation.  A
 * reload the watcher started makes a new generation only when the
 * daemon's own resources changed; SIGHUP always does.
 */
void
daemon_reload(struct daemon *d, int watched)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	uint64_t		 fingerprint;

	log_info("reloading %s", d->confdir);
	memset(&errs, 0, sizeof(errs));
	if ((cfg = daemon_load_config(d->confdir, log_getlevel() >=
	    LOG_LEVEL_DEBUG, &errs)) == NULL) {
		cfg_errors_fini(&errs);
		d->reload_failed(d);
		log_warnx("reload failed; generation %llu stays in force",
		    (unsigned long long)d->generation);
		return;
	}
	fingerprint = daemon_config_fingerprint(cfg, d->kinds, d->nkinds);
	if (watched && fingerprint == d->fingerprint) {
		cfg_errors_fini(&errs);
		config_free(cfg);
		log_info("none of %s's resources changed; generation %llu "
		    "stays", d->name, (unsigned long long)d->generation);
		return;
	}
	daemon_log_warnings(d, &errs);
	cfg_errors_fini(&errs);
	d->apply(d, cfg, fingerprint);
}

/*
 * Signals stay blocked in the main thread but inside ppoll, which
 * unblocks them atomically with the wait, so a flag cannot be set between
 * the look at it and the wait.
 */
void
daemon_serve(struct daemon *d)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	sigset_t	 waitmask;
	uint64_t	 next, due, now, count;
	size_t		 i, npfd;
	int		 timed;

	for (i = 0; i < d->nworkers; i++)
		nng_ctx_recv(d->workers[i].ctx, d->workers[i].aio);
	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	for (i = 0; i < nitems(daemon_sigs); i++)
		sigdelset(&waitmask, daemon_sigs[i]);
	daemon_watch_open(&d->watch, d->confdir);
	while (!sig_quit) {
		if (sig_reload) {
			sig_reload = 0;
			/* this reload reads every change seen so far */
			daemon_watch_read(&d->watch);
			d->watch.due = 0;
			daemon_reload(d, 0);
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
		if (daemon_watch_poll(&d->watch, &next))
			daemon_reload(d, 1);
		if (d->tick != NULL && (due = d->tick(d)) != 0 &&
		    (next == 0 || due < next))
			next = due;
		if ((timed = next != 0)) {
			now = util_now_ms();
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000);
			ts.tv_nsec = (long)(next % 1000) * 1000000L;
		}
		npfd = 0;
		if (d->wake_fd != -1) {
			pfd[npfd].fd = d->wake_fd;
			pfd[npfd].events = POLLIN;
			pfd[npfd++].revents = 0;
		}
		if (d->watch.fd != -1) {
			pfd[npfd].fd = d->watch.fd;
			pfd[npfd].events = POLLIN;
			pfd[npfd++].revents = 0;
		}
		if (ppoll(pfd, npfd, timed ? &ts : NULL,
		    &waitmask) == -1 && errno != EINTR)
			fatal("ppoll");
		for (i = 0; i < npfd; i++) {
			if ((pfd[i].revents & POLLIN) == 0)
				continue;
			if (pfd[i].fd == d->watch.fd)
				daemon_watch_read(&d->watch);
			else if (read(d->wake_fd, &count, sizeof(count)) ==
			    -1 && errno != EAGAIN)
				log_warn("eventfd");
		}
	}
	daemon_stop_deadline(d->name, DAEMON_STOP_DEADLINE_S);
	daemon_watch_close(&d->watch);
	pthread_mutex_lock(&d->badmsg_lock);
	if (d->badmsg_dropped > 0)
		log_warnx("%u more malformed messages not logged",
		    d->badmsg_dropped);
	pthread_mutex_unlock(&d->badmsg_lock);
}
