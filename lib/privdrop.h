/* SPDX-License-Identifier: ISC */
/*
 * The user a daemon runs as, as the OpenBSD daemons do it: started as
 * root, a daemon binds what it must, gives the files it made before to
 * its user, then drops to that user for good (setgroups, setresgid,
 * setresuid) and checks it cannot come back.  The user is named by -u,
 * else by $MESHKIT_USER, else it is "meshkit"; when it does not exist a
 * daemon started as root refuses to start rather than keep root.  Naming
 * root itself (-u root) keeps root, with a warning.  Started as another
 * user, a daemon stays who it is (a user named explicitly must be that
 * one).
 *
 * The run directory, where the daemons' sockets live: one that exists
 * must belong to that user and be writable by nobody else (by its group
 * only when the group is the user's), or the daemon refuses to start: a
 * directory another local user made could hold sockets that answer in a
 * daemon's name.
 *
 * One user per process, so the state is the process's, as the log's is.
 */
#ifndef MESHKIT_PRIVDROP_H
#define MESHKIT_PRIVDROP_H

#include <sys/types.h>

#define PRIVDROP_DEFAULT_USER	"meshkit"

/*
 * Decides the user from user (-u, may be NULL), $MESHKIT_USER and the
 * default; 0, or -1 logged (no such user, or a switch that needs root).
 * Without it the process's own user is the one.
 */
int	privdrop_setup(const char *user);
/* The user's name, uid and gid (those of the process before setup). */
const char *privdrop_user(void);
uid_t	privdrop_uid(void);
gid_t	privdrop_gid(void);
/* Whether privdrop_drop will change the user: started as root. */
int	privdrop_pending(void);
/*
 * The run directory rule above for dir.  A missing dir is made (mode
 * 0750, the user's) when create is set, and is fine otherwise.  0, or -1
 * logged with what is wrong and what to do.
 */
int	privdrop_check_dir(const char *dir, int create);
/* A file made before the drop (an ipc socket) becomes the user's. */
int	privdrop_give(const char *path);
/* Becomes the user for good, if pending; 0, or -1 logged. */
int	privdrop_drop(void);
/*
 * proxy-d's one call, once its listeners are bound: setup with user,
 * the run directory's rule (if it exists), then the drop.  0 or -1.
 */
int	privdrop_daemon(const char *user, const char *rundir);

#endif
