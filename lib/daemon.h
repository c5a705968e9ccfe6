/*
 * What a meshkit daemon does around its decisions: take over an ipc://
 * socket left by a dead predecessor, write its pid file, tell whether a
 * reload changed the resources it reads, and watch its config directory
 * with inotify.  breaker-d uses these; route-d has its own copies, from
 * which they were taken.
 */
#ifndef MESHKIT_DAEMON_H
#define MESHKIT_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

/*
 * For an ipc:// url: makes the socket's directory if missing and removes
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

#endif
