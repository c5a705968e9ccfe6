/*
 * A daemon's chores around its decisions (daemon.h): its ipc:// socket
 * files, its pid file, and its config directory's watch.
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "util.h"
#include "yaml.h"

#define DAEMON_WATCH_QUIET_MS	100	/* a change settles for this long */
#define DAEMON_WATCH_RETRY_MS	1000	/* a lost watch is set up again */
#define DAEMON_WATCH_MAX_MS	1000	/* a directory never quiet: reload */
#define DAEMON_WATCH_EVENTS	(IN_CLOSE_WRITE | IN_MOVED_TO | \
	IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)

static uint64_t	daemon_hash_bytes(uint64_t, const void *, size_t);
static uint64_t	daemon_hash_node(uint64_t, const struct ynode *);
static int	daemon_watch_add(struct daemon_watch *);
static int	daemon_watch_name_counts(const char *);

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
		if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
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
