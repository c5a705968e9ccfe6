/* SPDX-License-Identifier: ISC */
/*
 * The user a daemon runs as, and its run directory (privdrop.h).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "util.h"

static struct {
	int	 set;		/* privdrop_setup ran */
	int	 pending;	/* root now, the user after privdrop_drop */
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
} who;

static void	privdrop_self(void);
static const char *privdrop_owner(uid_t, char *, size_t);

/* Without setup: the process's own user. */
static void
privdrop_self(void)
{
	struct passwd	*pw;

	if (who.set)
		return;
	who.uid = geteuid();
	who.gid = getegid();
	if ((pw = getpwuid(who.uid)) != NULL)
		util_strlcpy(who.name, pw->pw_name, sizeof(who.name));
	else
		snprintf(who.name, sizeof(who.name), "uid %u",
		    (unsigned)who.uid);
	who.set = 1;
}

int
privdrop_setup(const char *user)
{
	const char	*env = getenv("MESHKIT_USER");
	const char	*name = user;
	struct passwd	*pw;
	int		 named = 1;

	if (name == NULL || *name == '\0')
		name = env;
	if (name == NULL || *name == '\0') {
		name = PRIVDROP_DEFAULT_USER;
		named = 0;
	}
	memset(&who, 0, sizeof(who));
	if (!named && geteuid() != 0) {
		/* an ordinary user running a daemon by hand stays itself */
		privdrop_self();
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0)
			log_warn("user %s", name);
		else
			log_warnx("user %s does not exist: create it (make "
			    "install does, or systemd-sysusers with "
			    "meshkit's sysusers.d file), or name another "
			    "with -u or MESHKIT_USER; not starting as %s",
			    name, geteuid() == 0 ? "root" : "anyone else");
		return -1;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		log_warnx("cannot become user %s (uid %u) without root; "
		    "running as uid %u", name, (unsigned)pw->pw_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if (strlen(pw->pw_name) >= sizeof(who.name)) {
		log_warnx("user %s: name too long", name);
		return -1;
	}
	util_strlcpy(who.name, pw->pw_name, sizeof(who.name));
	who.uid = pw->pw_uid;
	who.gid = pw->pw_gid;
	who.set = 1;
	if (geteuid() == 0 && pw->pw_uid == 0)
		log_warnx("running as root, as asked (user %s): every "
		    "request this daemon reads runs with every privilege",
		    name);
	who.pending = geteuid() == 0 && pw->pw_uid != 0;
	return 0;
}

const char *
privdrop_user(void)
{
	privdrop_self();
	return who.name;
}

uid_t
privdrop_uid(void)
{
	privdrop_self();
	return who.uid;
}

gid_t
privdrop_gid(void)
{
	privdrop_self();
	return who.gid;
}

int
privdrop_pending(void)
{
	return who.pending;
}

static const char *
privdrop_owner(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

int
privdrop_check_dir(const char *dir, int create)
{
	struct stat	 sb;
	char		 owner[96];

	privdrop_self();
	if (lstat(dir, &sb) == -1) {
		if (errno != ENOENT) {
			log_warn("run directory %s", dir);
			return -1;
		}
		if (!create)
			return 0;
		if (mkdir(dir, 0750) == -1) {
			if (errno != EEXIST) {
				log_warn("mkdir %s", dir);
				return -1;
			}
			/* made meanwhile, by whom?  Look again. */
			return privdrop_check_dir(dir, 0);
		}
		if (who.pending && chown(dir, who.uid, who.gid) == -1) {
			log_warn("chown %s", dir);
			return -1;
		}
		return 0;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_warnx("run directory %s is not a directory%s; not "
		    "starting", dir, S_ISLNK(sb.st_mode) ?
		    " (a symbolic link)" : "");
		return -1;
	}
	if (sb.st_uid != who.uid) {
		log_warnx("run directory %s belongs to %s, not to %s (uid "
		    "%u), who runs this daemon: another user could have "
		    "planted sockets in it; not starting.  Remove it, or "
		    "chown it to %s", dir, privdrop_owner(sb.st_uid, owner,
		    sizeof(owner)), who.name, (unsigned)who.uid, who.name);
		return -1;
	}
	if ((sb.st_mode & S_IWOTH) ||
	    ((sb.st_mode & S_IWGRP) && sb.st_gid != who.gid)) {
		log_warnx("run directory %s (mode %04o) is writable by %s: "
		    "anyone there could plant sockets in it; not starting.  "
		    "chmod %s %s", dir, (unsigned)(sb.st_mode & 07777),
		    (sb.st_mode & S_IWOTH) ? "everyone" : "its group",
		    (sb.st_mode & S_IWOTH) ? "o-w" : "g-w", dir);
		return -1;
	}
	return 0;
}

int
privdrop_give(const char *path)
{
	if (!who.pending || path == NULL)
		return 0;
	if (chown(path, who.uid, who.gid) == -1) {
		log_warn("chown %s", path);
		return -1;
	}
	return 0;
}

int
privdrop_drop(void)
{
	if (!who.pending)
		return 0;
	if (setgroups(1, &who.gid) == -1 ||
	    setresgid(who.gid, who.gid, who.gid) == -1 ||
	    setresuid(who.uid, who.uid, who.uid) == -1) {
		log_warn("cannot become user %s", who.name);
		return -1;
	}
	/* a drop that can be undone is no drop */
	if (setuid(0) != -1 || geteuid() != who.uid || getuid() != who.uid ||
	    getegid() != who.gid) {
		log_warnx("still able to regain root after becoming %s",
		    who.name);
		return -1;
	}
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer inspects the process at exit, as its user now */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	who.pending = 0;
	log_info("running as user %s (uid %u, gid %u)", who.name,
	    (unsigned)who.uid, (unsigned)who.gid);
	return 0;
}

int
privdrop_daemon(const char *user, const char *rundir)
{
	if (privdrop_setup(user) == -1)
		return -1;
	if (rundir != NULL && privdrop_check_dir(rundir, 0) == -1)
		return -1;
	return privdrop_drop();
}
