/*
 * authz-d: answers proxy-d's authorization questions (meshkit-ipc(7)
 * "authz") from the RequestAuthentication and AuthorizationPolicy
 * resources of a config directory.
 *
 * Serving is route-d's: a few nng contexts keep several questions in
 * flight.  Decisions verify signatures (tens of microseconds each), so
 * they run under the read side of a rwlock, side by side; a reload and a
 * new key set take the write side to swap their pointer.  The JWKS of
 * every jwksUri is fetched by a thread of its own (jwks.c).  The main
 * thread only waits, in ppoll, for signals and for changes to the config
 * directory (inotify).
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "authz.h"
#include "authzd.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define AUTHZ_D_DEFAULT_CONFDIR	"/etc/meshkit"
#define AUTHZ_D_DEFAULT_REUSE	1000
#define AUTHZ_D_MAX_REUSE	86400000ULL
#define AUTHZ_D_WORKERS		4	/* requests in flight */
#define AUTHZ_D_KEEP_BUFFER	(256 * 1024) /* larger reply buffers freed */
#define AUTHZ_D_BADMSG_PER_SEC	5	/* malformed messages logged */
#define AUTHZ_D_WATCH_QUIET_MS	100	/* a change settles for this long */
#define AUTHZ_D_WATCH_RETRY_MS	1000	/* a lost watch is set up again */
#define AUTHZ_D_WATCH_MAX_MS	1000	/* a directory never quiet: reload */
#define AUTHZ_D_WATCH_EVENTS	(IN_CLOSE_WRITE | IN_MOVED_TO | \
	IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)

struct authz_d;

/* One request in flight: its context, its aio, its reply buffer. */
struct worker {
	struct authz_d		*rd;
	struct authz_scratch	*scratch;
	nng_ctx			 ctx;
	nng_aio			*aio;
	int			 sending;
	struct msg_writer	 out;
};

struct authz_d {
	const char		*confdir;
	char			*url;
	char			*ipc_path;	/* socket file, for ipc:// */
	const char		*pidfile;
	int			 pidfile_written;
	uint64_t		 reuse_ms;
	struct config		*config;
	uint64_t		 generation;
	uint64_t		 fingerprint;	/* of config's security kinds */
	const char		*root_namespace;
	int64_t			 fixed_now;	/* -t: the clock, 0: real */
	struct authz_stats	 stats;
	struct jwks_cache	 jwks;
	struct authz_scratch	*scratch;	/* filter mode */
	nng_socket		 sock;
	int			 sock_open;
	struct worker		 workers[AUTHZ_D_WORKERS];
	size_t			 nworkers;
	/* read by workers while deciding, written to swap */
	pthread_rwlock_t	 lock;
	pthread_mutex_t		 log_lock;	/* the bad message counters */
	struct msg_writer	 out;		/* filter mode */
	/* rate limit of "malformed message" logs */
	uint64_t		 badmsg_window;
	unsigned		 badmsg_logged;
	unsigned		 badmsg_dropped;
	/* the config directory's watch */
	int			 watch_fd;	/* inotify, -1 without */
	int			 watch_wd;	/* -1 while lost */
	uint64_t		 watch_due;	/* reload at this time, 0: none */
	uint64_t		 watch_first;	/* first change not yet read */
	uint64_t		 watch_retry;	/* set the lost watch up again */
};

static volatile sig_atomic_t	 sig_quit;
static volatile sig_atomic_t	 sig_reload;
static volatile sig_atomic_t	 sig_louder;
static volatile sig_atomic_t	 sig_quieter;

static _Noreturn void usage(void);
static int	parse_number(const char *, const char *, unsigned long long,
		    unsigned long long *);
static void	on_signal(int);
static void	signals_install(void);
static void	signals_block(void);
static void	print_error_line(const char *, void *);
static void	log_error_line(const char *, void *);
static struct config *load_config(const char *, int);
static int	check_config(const char *, int);
static int	filter(struct authz_d *);
static int	ipc_prepare(struct authz_d *);
static int	serve_open(struct authz_d *);
static void	serve(struct authz_d *);
static void	worker_cb(void *);
static void	serve_close(struct authz_d *);
static void	reload(struct authz_d *, int);
static uint64_t	hash_bytes(uint64_t, const void *, size_t);
static uint64_t	hash_node(uint64_t, const struct ynode *);
static uint64_t	config_fingerprint(const struct config *);
static void	authz_d_env(struct authz_d *, struct authz_env *);
static void	log_bad_message(struct authz_d *, const char *);
static void	watch_open(struct authz_d *);
static int	watch_add(struct authz_d *);
static int	watch_name_counts(const char *);
static void	watch_read(struct authz_d *);
static int	watch_timeout(struct authz_d *, struct timespec *);
static void	watch_close(struct authz_d *);
static int	pidfile_write(const char *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: authz-d [-fnqv] [-c dir] [-l file] "
	    "[-m uri=uri] ... [-p pidfile] [-R ms] [-r namespace]\n"
	    "               [-s url] [-T seconds] [-t now]\n");
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
 * in ppoll, ever takes them.
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
filter(struct authz_d *rd)
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
		{
			struct authz_env env;

			authz_d_env(rd, &env);
			authz_handle_message(rd->config, &env, &rd->stats,
			    rd->scratch, rd->generation, buf + off, n,
			    &rd->out);
		}
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
 * clear a socket file left by an authz-d that died.  A socket that still
 * answers belongs to a running daemon: refuse to take it over.
 */
static int
ipc_prepare(struct authz_d *rd)
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
serve_open(struct authz_d *rd)
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
	for (rd->nworkers = 0; rd->nworkers < AUTHZ_D_WORKERS;
	    rd->nworkers++) {
		struct worker *w = &rd->workers[rd->nworkers];

		w->rd = rd;
		msgw_init(&w->out);
		w->scratch = authz_scratch_new();
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
serve_close(struct authz_d *rd)
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
		authz_scratch_free(rd->workers[i].scratch);
	}
	rd->nworkers = 0;
	if (rd->ipc_path != NULL && unlink(rd->ipc_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", rd->ipc_path);
	if (rd->pidfile_written && unlink(rd->pidfile) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", rd->pidfile);
}

/* FNV-1a, 64 bits: to tell a change, not to resist an adversary. */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
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
hash_node(uint64_t h, const struct ynode *n)
{
	size_t	 i;

	if (n == NULL)
		return hash_bytes(h, "N", 1);
	h = hash_bytes(h, &n->type, sizeof(n->type));
	h = hash_bytes(h, &n->n, sizeof(n->n));
	if (n->type == YNODE_SCALAR) {
		h = hash_bytes(h, &n->plain, sizeof(n->plain));
		h = hash_bytes(h, &n->len, sizeof(n->len));
		return hash_bytes(h, n->value, n->len);
	}
	for (i = 0; i < n->n; i++) {
		if (n->type == YNODE_MAP)
			h = hash_node(h, n->keys[i]);
		h = hash_node(h, n->values[i]);
	}
	return h;
}

/*
 * The documents authz-d decides from (and Lists, which may hold them),
 * as parsed: a change elsewhere in the directory (a Proxy resource, a
 * VirtualService, a comment) leaves it as it was.
 */
static uint64_t
config_fingerprint(const struct config *cfg)
{
	static const char *const kinds[] = { "RequestAuthentication",
	    "AuthorizationPolicy", "List" };
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
			for (k = 0; k < nitems(kinds); k++)
				if (strcmp(kind->value, kinds[k]) == 0)
					break;
			if (k < nitems(kinds))
				h = hash_node(h, root);
		}
	return h;
}

/*
 * A bad config on reload leaves the running one, and its generation.  A
 * reload the watcher started makes a new generation only when authz-d's
 * own resources changed; SIGHUP always does.
 */
static void
reload(struct authz_d *rd, int watched)
{
	uint64_t		 fingerprint;
	struct config		*cfg, *old;

	log_info("reloading %s", rd->confdir);
	if ((cfg = load_config(rd->confdir, log_getlevel() >=
	    LOG_LEVEL_DEBUG)) == NULL) {
		__atomic_fetch_add(&rd->stats.reload_failures, 1,
		    __ATOMIC_RELAXED);
		log_warnx("reload failed; generation %llu stays in force",
		    (unsigned long long)rd->generation);
		return;
	}
	fingerprint = config_fingerprint(cfg);
	if (watched && fingerprint == rd->fingerprint) {
		config_free(cfg);
		log_info("none of authz-d's resources changed; generation "
		    "%llu stays", (unsigned long long)rd->generation);
		return;
	}
	pthread_rwlock_wrlock(&rd->lock);
	old = rd->config;
	rd->config = cfg;
	rd->fingerprint = fingerprint;
	rd->generation++;
	jwks_cache_sync(&rd->jwks, cfg);
	__atomic_fetch_add(&rd->stats.reloads, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&rd->lock);
	/* no decision can still be reading it: they hold the read lock */
	config_free(old);
	jwks_cache_kick(&rd->jwks);
	log_info("generation %llu: %zu RequestAuthentications, %zu "
	    "AuthorizationPolicies", (unsigned long long)rd->generation,
	    cfg->nrequest_authentications, cfg->nauthorization_policies);
}

/* The clock and the key sets of one decision. */
static void
authz_d_env(struct authz_d *rd, struct authz_env *env)
{
	memset(env, 0, sizeof(*env));
	env->now = rd->fixed_now != 0 ? rd->fixed_now : (int64_t)time(NULL);
	env->reuse_ms = rd->reuse_ms;
	env->root_namespace = rd->root_namespace;
	env->keys.lookup = jwks_cache_lookup;
	env->keys.arg = &rd->jwks;
}

/* A peer sending garbage in a loop must not flood the log. */
static void
log_bad_message(struct authz_d *rd, const char *why)
{
	uint64_t		 now = util_now_ms() / 1000;

	pthread_mutex_lock(&rd->log_lock);
	if (now != rd->badmsg_window) {
		if (rd->badmsg_dropped > 0)
			log_warnx("%u more malformed messages not logged",
			    rd->badmsg_dropped);
		rd->badmsg_window = now;
		rd->badmsg_logged = 0;
		rd->badmsg_dropped = 0;
	}
	if (rd->badmsg_logged++ < AUTHZ_D_BADMSG_PER_SEC)
		log_warnx("malformed message: %s", why);
	else
		rd->badmsg_dropped++;
	pthread_mutex_unlock(&rd->log_lock);
}

/*
 * Runs on an nng thread when a receive or a send of w ends.  A message
 * nng could not deliver is dropped: the peer's REQ gives up on it.
 */
static void
worker_cb(void *arg)
{
	struct worker		*w = arg;
	struct authz_d		*rd = w->rd;
	struct authz_env	 env;
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
		if (w->out.cap > AUTHZ_D_KEEP_BUFFER) {
			msgw_fini(&w->out);
			msgw_init(&w->out);
		w->scratch = authz_scratch_new();
		}
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	m = nng_aio_get_msg(w->aio);
	authz_d_env(rd, &env);
	w->scratch->last_error[0] = '\0';
	pthread_rwlock_rdlock(&rd->lock);
	authz_handle_message(rd->config, &env, &rd->stats, w->scratch,
	    rd->generation, nng_msg_body(m), nng_msg_len(m), &w->out);
	pthread_rwlock_unlock(&rd->lock);
	bad = w->scratch->last_error[0] != '\0';
	if (bad)
		log_bad_message(rd, w->scratch->last_error);
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
 * The config directory, watched with inotify so that a change to it (an
 * editor saving a file, meshctl apply renaming one in, a Kubernetes
 * ConfigMap volume swapping its ..data symlink) reloads like SIGHUP.
 * Without inotify (a file system that has none, a limit reached),
 * SIGHUP still works: say so and go on.
 */
static void
watch_open(struct authz_d *rd)
{
	rd->watch_wd = -1;
	if ((rd->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify; %s is reloaded on SIGHUP only",
		    rd->confdir);
		return;
	}
	if (watch_add(rd) == -1)
		log_warn("watch %s; retrying every %d ms", rd->confdir,
		    AUTHZ_D_WATCH_RETRY_MS);
}

static int
watch_add(struct authz_d *rd)
{
	rd->watch_wd = inotify_add_watch(rd->watch_fd, rd->confdir,
	    AUTHZ_D_WATCH_EVENTS);
	if (rd->watch_wd == -1) {
		rd->watch_retry = util_now_ms() + AUTHZ_D_WATCH_RETRY_MS;
		return -1;
	}
	rd->watch_retry = 0;
	return 0;
}

/*
 * Only what config_load_dir reads counts, and a ConfigMap's ..data: its
 * files are symlinks through it, and an update renames a new ..data in.
 * Other dotfiles (editors' swap files, meshctl's temporary files) do not.
 */
static int
watch_name_counts(const char *name)
{
	size_t	 len = strlen(name);

	if (strcmp(name, "..data") == 0)
		return 1;
	if (name[0] == '.')
		return 0;
	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

/* Reads every pending event; a relevant one (re)starts the quiet time. */
static void
watch_read(struct authz_d *rd)
{
	char				 buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	char				*p;
	int				 changed = 0;

	for (;;) {
		if ((n = read(rd->watch_fd, buf, sizeof(buf))) == -1) {
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
				changed = 1;	/* events lost: look */
				continue;
			}
			if (ev->wd != rd->watch_wd)
				continue;	/* a watch given up before */
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED)) {
				if ((ev->mask & IN_IGNORED) == 0)
					inotify_rm_watch(rd->watch_fd,
					    rd->watch_wd);
				log_warnx("%s was removed or moved; watching "
				    "for it again", rd->confdir);
				rd->watch_wd = -1;
				rd->watch_retry = util_now_ms() +
				    AUTHZ_D_WATCH_RETRY_MS;
				continue;
			}
			if (ev->len > 0 && watch_name_counts(ev->name)) {
				log_debug("%s/%s changed", rd->confdir,
				    ev->name);
				changed = 1;
			}
		}
	}
	if (changed) {
		uint64_t now = util_now_ms();

		/* a file written without pause must not hold reloads off */
		if (rd->watch_due == 0)
			rd->watch_first = now;
		rd->watch_due = now + AUTHZ_D_WATCH_QUIET_MS;
		if (rd->watch_due > rd->watch_first + AUTHZ_D_WATCH_MAX_MS)
			rd->watch_due = rd->watch_first +
			    AUTHZ_D_WATCH_MAX_MS;
	}
}

/*
 * How long ppoll may wait: until the quiet time of a change ends, or the
 * next try at a lost watch; NULL-like (-1) for ever.  Does the due work.
 */
static int
watch_timeout(struct authz_d *rd, struct timespec *ts)
{
	uint64_t	 now = util_now_ms(), next = 0;

	if (rd->watch_fd == -1)
		return -1;
	if (rd->watch_wd == -1 && rd->watch_retry != 0 &&
	    rd->watch_retry <= now) {
		if (watch_add(rd) == 0) {
			log_info("watching %s again", rd->confdir);
			rd->watch_due = now;	/* it may hold anything */
		}
	}
	if (rd->watch_due != 0 && rd->watch_due <= now) {
		rd->watch_due = 0;
		log_info("%s changed", rd->confdir);
		reload(rd, 1);
		now = util_now_ms();
	}
	if (rd->watch_due != 0)
		next = rd->watch_due;
	if (rd->watch_wd == -1 && rd->watch_retry != 0 &&
	    (next == 0 || rd->watch_retry < next))
		next = rd->watch_retry;
	if (next == 0)
		return -1;
	next = next > now ? next - now : 0;
	ts->tv_sec = (time_t)(next / 1000);
	ts->tv_nsec = (long)(next % 1000) * 1000000L;
	return 0;
}

static void
watch_close(struct authz_d *rd)
{
	if (rd->watch_fd != -1)
		close(rd->watch_fd);
	rd->watch_fd = -1;
	rd->watch_wd = -1;
}

/*
 * Signals stay blocked in the main thread but inside ppoll, which
 * unblocks them atomically with the wait, so a flag cannot be set between
 * the look at it and the wait.
 */
static void
serve(struct authz_d *rd)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
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
	watch_open(rd);
	while (!sig_quit) {
		if (sig_reload) {
			sig_reload = 0;
			/* this reload reads every change seen so far */
			if (rd->watch_fd != -1)
				watch_read(rd);
			rd->watch_due = 0;
			reload(rd, 0);
		} else if (sig_louder || sig_quieter) {
			log_setlevel(log_getlevel() + (sig_louder ? 1 : 0) -
			    (sig_quieter ? 1 : 0));
			sig_louder = sig_quieter = 0;
			log_info("log level %s", log_getlevel() ==
			    LOG_LEVEL_DEBUG ? "debug" : "info");
		} else {
			pfd.fd = rd->watch_fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (ppoll(&pfd, rd->watch_fd == -1 ? 0 : 1,
			    watch_timeout(rd, &ts) == -1 ? NULL : &ts,
			    &waitmask) == -1 && errno != EINTR)
				fatal("ppoll");
			if (pfd.revents & POLLIN)
				watch_read(rd);
			(void)watch_timeout(rd, &ts);
		}
	}
	watch_close(rd);
	pthread_mutex_lock(&rd->log_lock);
	if (rd->badmsg_dropped > 0)
		log_warnx("%u more malformed messages not logged",
		    rd->badmsg_dropped);
	pthread_mutex_unlock(&rd->log_lock);
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

static int
parse_number(const char *flag, const char *arg, unsigned long long max,
    unsigned long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    *out > max) {
		fprintf(stderr, "authz-d: -%s %s: want 0..%llu\n", flag, arg,
		    max);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct authz_d	 rd;
	pthread_rwlockattr_t rwattr;
	const char	*logfile = NULL;
	int		 ch, verbose = 0, quiet = 0, filter_mode = 0;
	int		 check_only = 0, level, status = 0;
	unsigned long long v;
	char		*eq;

	memset(&rd, 0, sizeof(rd));
	rd.watch_fd = -1;
	rd.watch_wd = -1;
	rd.confdir = AUTHZ_D_DEFAULT_CONFDIR;
	rd.reuse_ms = AUTHZ_D_DEFAULT_REUSE;
	/* a reload must not wait for a pause in the questions */
	pthread_rwlockattr_init(&rwattr);
	pthread_rwlockattr_setkind_np(&rwattr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rd.lock, &rwattr);
	pthread_rwlockattr_destroy(&rwattr);
	pthread_mutex_init(&rd.log_lock, NULL);
	rd.stats.start_ms = util_now_ms();
	jwks_cache_init(&rd.jwks, &rd.lock, &rd.stats);
	while ((ch = getopt(argc, argv, "c:fl:m:np:qR:r:s:T:t:v")) != -1) {
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
		case 'm':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg || eq[1] == '\0') {
				fprintf(stderr, "authz-d: -m %s: want "
				    "uri=uri\n", optarg);
				exit(2);
			}
			rd.jwks.maps = xreallocarray(rd.jwks.maps,
			    rd.jwks.nmaps + 1, sizeof(*rd.jwks.maps));
			rd.jwks.maps[rd.jwks.nmaps].from = xstrndup(optarg,
			    (size_t)(eq - optarg));
			rd.jwks.maps[rd.jwks.nmaps].to = xstrdup(eq + 1);
			rd.jwks.nmaps++;
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
			if (parse_number("R", optarg, AUTHZ_D_MAX_REUSE,
			    &v) == -1)
				exit(2);
			rd.reuse_ms = v;
			break;
		case 'r':
			rd.root_namespace = optarg;
			break;
		case 's':
			free(rd.url);
			rd.url = xstrdup(optarg);
			break;
		case 'T':
			if (parse_number("T", optarg, 86400, &v) == -1 ||
			    v == 0) {
				fprintf(stderr, "authz-d: -T: want 1..86400 "
				    "seconds\n");
				exit(2);
			}
			rd.jwks.refresh_ms = v * 1000;
			break;
		case 't':
			if (parse_number("t", optarg, 1ULL << 40, &v) == -1)
				exit(2);
			rd.fixed_now = (int64_t)v;
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

	if (check_only) {
		jwks_cache_fini(&rd.jwks);
		free(rd.url);
		return check_config(rd.confdir, verbose > 0);
	}

	level = LOG_LEVEL_INFO + verbose - quiet;
	log_init("authz-d", 1, level < LOG_LEVEL_WARN ? LOG_LEVEL_WARN :
	    level > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : level);
	if (logfile != NULL && log_init_file(logfile) == -1) {
		fprintf(stderr, "authz-d: %s: %s\n", logfile, strerror(errno));
		exit(1);
	}

	if ((rd.config = load_config(rd.confdir, verbose > 0)) == NULL) {
		log_warnx("%s: configuration not loaded", rd.confdir);
		exit(1);
	}
	rd.generation = 1;
	rd.fingerprint = config_fingerprint(rd.config);
	jwks_cache_sync(&rd.jwks, rd.config);
	msgw_init(&rd.out);

	if (filter_mode) {
		/* a pipe has time: every key set first, then the answers */
		jwks_cache_fetch_all(&rd.jwks);
		rd.scratch = authz_scratch_new();
		status = filter(&rd);
		goto done;
	}

	if (rd.url == NULL)
		xasprintf(&rd.url, "ipc://%s/authz.sock", util_rundir());
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
	if (jwks_cache_start(&rd.jwks) == -1) {
		log_warnx("cannot start the JWKS fetcher");
		serve_close(&rd);
		status = 1;
		goto done;
	}
	log_info("listening on %s, generation 1: %zu RequestAuthentications, "
	    "%zu AuthorizationPolicies, %zu jwksUri, reuse %llu ms", rd.url,
	    rd.config->nrequest_authentications,
	    rd.config->nauthorization_policies, rd.jwks.n,
	    (unsigned long long)rd.reuse_ms);
	serve(&rd);
	log_info("exiting");
	serve_close(&rd);
	jwks_cache_stop(&rd.jwks);

done:
	msgw_fini(&rd.out);
	authz_scratch_free(rd.scratch);
	jwks_cache_fini(&rd.jwks);
	config_free(rd.config);
	pthread_rwlock_destroy(&rd.lock);
	pthread_mutex_destroy(&rd.log_lock);
	free(rd.ipc_path);
	free(rd.url);
	return status;
}
