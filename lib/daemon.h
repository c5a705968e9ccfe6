/* SPDX-License-Identifier: ISC */
/*
 * What a meshkit daemon (route-d, authz-d, breaker-d) does around its
 * decisions: its flags' common parts, its signals, a REP socket served by
 * a few nng contexts (so that several requests are in flight), the ipc://
 * socket left by a dead predecessor, its pid file, its config directory
 * watched with inotify and reloaded, and the main thread's loop.  The
 * daemon gives its decisions as callbacks in struct daemon.
 */
#ifndef MESHKIT_DAEMON_H
#define MESHKIT_DAEMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nng/nng.h>

#include "config.h"
#include "msg.h"

/*
 * For an ipc:// url: makes the socket's directory if missing (or refuses
 * one that is not the daemon's user's alone, privdrop_check_dir) and removes
 * a socket file no process answers on any more; refuses (-1, logged) one
 * that still answers.  *path gets the socket's path (free it), NULL for
 * other URLs.  Returns 0 or -1.
 */
int	daemon_ipc_prepare(const char *url, char **path);
/* Writes getpid() to path; 0, or -1 (logged). */
int	daemon_pidfile_write(const char *path);
/*
 * A hash of the documents of the given kinds (and Lists, which may hold
 * them), as parsed: equal before and after a reload when none of them
 * changed.
 */
uint64_t daemon_config_fingerprint(const struct config *,
	    const char *const *kinds, size_t nkinds);

/*
 * The config directory's watch: a change to a file config_load_dir
 * reads, settled for 100 ms (at most a second from the first), is due a
 * reload.  Without inotify it logs so and SIGHUP still works.
 */
struct daemon_watch {
	const char	*dir;
	int		 fd;		/* inotify, -1 without */
	int		 wd;		/* -1 while lost */
	uint64_t	 due;		/* reload at this time, 0: none */
	uint64_t	 first;		/* first change not yet read */
	uint64_t	 retry;		/* set the lost watch up again */
};

void	daemon_watch_open(struct daemon_watch *, const char *dir);
/* Reads the pending events (call when fd is readable). */
void	daemon_watch_read(struct daemon_watch *);
/*
 * Does the due work of the watch; returns 1 when a reload is due now.
 * *next gets when to call it again (0: only when fd is readable).
 */
int	daemon_watch_poll(struct daemon_watch *, uint64_t *next);
void	daemon_watch_close(struct daemon_watch *);

#define DAEMON_WORKERS		4	/* requests in flight */

struct daemon;

/* One request in flight: its context, its aio, its reply buffer. */
struct daemon_worker {
	struct daemon		*daemon;
	void			*data;		/* from worker_new */
	nng_ctx			 ctx;
	nng_aio			*aio;
	nng_pipe		 pipe;		/* the request's, in handle */
	int			 sending;
	struct msg_writer	 out;
};

struct daemon {
	/* the daemon's, set after daemon_init */
	const char		*name;		/* "route-d": in logs */
	const char		*confdir;
	const char *const	*kinds;		/* its resources (and List) */
	size_t			 nkinds;
	/*
	 * Kinds no daemon reads yet whose load warnings this one logs
	 * beside its own kinds' (authz-d: PeerAuthentication, until tls-d).
	 */
	const char *const	*warn_kinds;
	size_t			 nwarn_kinds;
	char			*url;		/* REP socket; daemon_fini frees */
	const char		*pidfile;
	const char		*user;		/* -u: whom to run as */
	uint64_t		 reuse_ms;
	void			*arg;		/* the daemon's own state */
	int			 wake_fd;	/* -1, or an eventfd: wakes the loop */
	/*
	 * Answers one request into out, on an nng thread; a malformed one
	 * goes to daemon_log_bad_message.
	 */
	void	(*handle)(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
	/*
	 * Swaps cfg in (its fingerprint given) under the daemon's lock:
	 * sets config, fingerprint, generation + 1, counts the reload, frees
	 * the old config, logs the new generation.
	 */
	void	(*apply)(struct daemon *, struct config *, uint64_t);
	void	(*reload_failed)(struct daemon *);	/* counts it */
	/* optional: a worker's own data, and its end */
	void	*(*worker_new)(struct daemon *);
	void	(*worker_free)(void *);
	/* optional: the main thread's turn; when it is due again, 0: never */
	uint64_t (*tick)(struct daemon *);

	/* the skeleton's */
	struct config		*config;
	uint64_t		 generation;
	uint64_t		 fingerprint;	/* of config's kinds */
	char			*ipc_path;	/* socket file, for ipc:// */
	int			 pidfile_written;
	nng_socket		 sock;
	int			 sock_open;
	struct daemon_worker	 workers[DAEMON_WORKERS];
	size_t			 nworkers;
	struct daemon_watch	 watch;
	/* rate limit of "malformed message" logs */
	pthread_mutex_t		 badmsg_lock;
	uint64_t		 badmsg_window;
	unsigned		 badmsg_logged;
	unsigned		 badmsg_dropped;
};

/* What the flags every daemon takes set beside struct daemon. */
struct daemon_flags {
	const char	*logfile;	/* -l */
	int		 verbose;	/* -v */
	int		 quiet;		/* -q */
	int		 filter;	/* -f */
	int		 check;		/* -n */
};

#define DAEMON_DEFAULT_CONFDIR	"/etc/meshkit"
#define DAEMON_DEFAULT_REUSE	1000	/* ms */
#define DAEMON_MAX_REUSE	86400000ULL

/* Zeroed, with the default config directory and reuse. */
void	daemon_init(struct daemon *, const char *name);
void	daemon_fini(struct daemon *);
/*
 * A flag's number, 0..max; otherwise "name: -F arg: want 0..max[ unit]"
 * on stderr and -1.
 */
int	daemon_parse_number(const char *name, int flag, const char *arg,
	    unsigned long long max, const char *unit,
	    unsigned long long *out);
/*
 * One of the flags every daemon takes: -c dir, -f, -l file, -n,
 * -p pidfile, -q, -s url, -u user, -v.  1 when ch was one of them, else 0.
 */
int	daemon_flag(struct daemon *, struct daemon_flags *, int ch,
	    const char *arg);
/*
 * The log at the level -v and -q ask for (to -l's file), then the first
 * config, generation 1; exits when either fails.
 */
void	daemon_start(struct daemon *, const struct daemon_flags *);
/*
 * dir's config, or NULL with every error logged (and the notices when
 * verbose).  The warnings stay in errs (cfg_errors_fini it): a daemon
 * logs them with daemon_log_warnings when the config becomes a
 * generation, so each is logged once per load, not once per look.
 */
struct config *daemon_load_config(const char *dir, int verbose,
	    struct cfg_errors *errs);
/* The warnings of errs about the daemon's own kinds, as log_warnx. */
void	daemon_log_warnings(const struct daemon *,
	    const struct cfg_errors *);
/*
 * -n: dir's errors and warnings, or "configuration OK", on stderr; the
 * exit status.
 */
int	daemon_check_config(const char *dir, int verbose);
/*
 * -f: the messages on stdin, each given to fn with its offset; what fn
 * writes to out goes to stdout.  The exit status.
 */
int	daemon_filter(void (*fn)(void *, const char *, size_t, size_t,
	    struct msg_writer *), void *arg);
/* The same for messages already read into buf. */
int	daemon_filter_buffer(void (*fn)(void *, const char *, size_t, size_t,
	    struct msg_writer *), void *arg, const char *buf, size_t len);
/* SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2 handled and blocked. */
void	daemon_signals(void);
/*
 * Once a daemon has left its loop to exit: if it has not exited within
 * seconds (a close that never returns), SIGALRM ends it with status 1
 * and a line on stderr.  daemon_serve arms it on its way out.
 */
void	daemon_stop_deadline(const char *name, unsigned seconds);
#define DAEMON_STOP_DEADLINE_S	5
/*
 * Listens on url with s (ipc:// sockets mode 0660 and the daemon's
 * user's, a stale one taken over); *ipc_path as daemon_ipc_prepare.  0,
 * or -1 logged.
 */
int	daemon_listen(nng_socket s, const char *url, char **ipc_path);
/*
 * Closes s if *open, then stops and frees *aio: closing the socket ends
 * the aio, stopping waits for its callback.  Either may be done already.
 */
void	daemon_sock_close(nng_socket s, int *open, nng_aio **aio);
/*
 * The REP socket and its workers; -1 logged (then daemon_close).  Decides
 * whom the daemon runs as first (privdrop.h): ipc:// sockets and a run
 * directory it makes are given to that user.
 */
int	daemon_open(struct daemon *);
/*
 * Once every socket is bound and the pid file written: becomes the user
 * (privdrop_drop), when started as root.  0, or -1 logged.
 */
int	daemon_drop(struct daemon *);
/* Writes the pid file if asked for: 0, or -1 logged. */
int	daemon_write_pidfile(struct daemon *);
/* Serves until SIGINT or SIGTERM: reloads, log levels, the watch. */
void	daemon_serve(struct daemon *);
/* Ends the workers and the socket, removes the socket and pid files. */
void	daemon_close(struct daemon *);
/*
 * For apply, under the daemon's lock: cfg in force as the next
 * generation.  Returns the config it replaces (free it).
 */
struct config *daemon_swap(struct daemon *, struct config *cfg,
	    uint64_t fingerprint);
/* SIGHUP's (watched 0) or the watch's (1) reload. */
void	daemon_reload(struct daemon *, int watched);
/* A peer sending garbage in a loop must not flood the log. */
void	daemon_log_bad_message(struct daemon *, const char *why);

#endif
