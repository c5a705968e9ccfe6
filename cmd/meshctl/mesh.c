/*
 * Which mesh meshctl talks to, found as kubectl finds its cluster: the
 * run directory (where the daemons' sockets are) and the configuration
 * directory (what apply and delete change, what get lists).  Every
 * command asks here, so the rules are in one place; meshctl(8) says
 * them under MESH DISCOVERY.
 *
 * The run directory: -r, else $MESHKIT_RUNDIR, else the mesh the current
 * user last started with scripts/demo (the symbolic link
 * /tmp/meshkit-UID/current, when its route-d socket is there), else
 * /run/meshkit.  The configuration directory: -c, else $MESHKIT_CONFIG,
 * else the one route-d in that run directory says it reads, else
 * /etc/meshkit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"

static char	*mesh_current_link(void);
static char	*mesh_from_link(void);
static char	*mesh_ask_config(const char *rundir);
static int	 mesh_is_socket(const char *dir, const char *name);

static int
mesh_is_socket(const char *dir, const char *name)
{
	struct stat	 st;
	char		*path;
	int		 rc;

	xasprintf(&path, "%s/%s", dir, name);
	rc = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
	free(path);
	return rc;
}

static char *
mesh_current_link(void)
{
	char	*path;

	xasprintf(&path, "%s/meshkit-%u/current", MESHCTL_CURRENT_DIR,
	    (unsigned)getuid());
	return path;
}

/*
 * The run directory the link names, or NULL.  It is followed only when
 * it cannot have been planted by another user: its directory is the
 * user's own and writable by nobody else, the link is the user's, and
 * it names a directory with route-d's socket in it (a mesh that was
 * stopped, or died, leaves nothing to find).
 */
static char *
mesh_from_link(void)
{
	struct stat	 st;
	char		*link, *dir, target[PATH_MAX];
	ssize_t		 n;
	uid_t		 uid = getuid();

	link = mesh_current_link();
	dir = xstrdup(link);
	*strrchr(dir, '/') = '\0';
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != uid || (st.st_mode & 022) != 0 ||
	    lstat(link, &st) == -1 || !S_ISLNK(st.st_mode) ||
	    st.st_uid != uid ||
	    (n = readlink(link, target, sizeof(target) - 1)) <= 0) {
		free(dir);
		free(link);
		return NULL;
	}
	target[n] = '\0';
	free(dir);
	free(link);
	if (target[0] != '/' || !mesh_is_socket(target, "route.sock"))
		return NULL;
	return xstrdup(target);
}

/* route-d's config directory, from its status-reply; NULL when not. */
static char *
mesh_ask_config(const char *rundir)
{
	struct msg_writer	 w;
	struct msg		 m;
	struct str		 s;
	char			*url, *reply = NULL, *dir = NULL, err[256];
	size_t			 len = 0;

	if (!mesh_is_socket(rundir, "route.sock"))
		return NULL;
	xasprintf(&url, "ipc://%s/route.sock", rundir);
	msgw_init(&w);
	msgw_begin(&w, "status");
	if (meshctl_ask(url, w.buf, w.len, &reply, &len, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "meshctl: route-d at %s: %s\n", url, err);
		goto out;
	}
	msg_init(&m);
	if (msg_parse(&m, reply, len, err, sizeof(err)) == 0 &&
	    msg_type_is(&m, "status-reply")) {
		s = msg_get(&m, &m.header, "config");
		if (s.p != NULL && s.n > 1 && s.p[0] == '/')
			dir = xstrndup(s.p, s.n);
	}
	msg_fini(&m);
 out:
	free(reply);
	msgw_fini(&w);
	free(url);
	return dir;
}

const char *
meshctl_rundir(struct meshctl *ctx)
{
	const char	*env = getenv("MESHKIT_RUNDIR");
	char		*found;

	if (ctx->rundir_from != NULL)
		return ctx->rundir;
	if (ctx->rundir != NULL)
		ctx->rundir_from = "-r";
	else if (env != NULL && *env != '\0') {
		ctx->rundir = env;
		ctx->rundir_from = "MESHKIT_RUNDIR";
	} else if ((found = mesh_from_link()) != NULL) {
		ctx->rundir = ctx->rundir_buf = found;
		ctx->rundir_from = "current";
	} else {
		ctx->rundir = MESHCTL_DEFAULT_RUNDIR;
		ctx->rundir_from = "default";
	}
	/* so that every default address (util_rundir) agrees */
	if (setenv("MESHKIT_RUNDIR", ctx->rundir, 1) == -1)
		fatal("setenv");
	return ctx->rundir;
}

const char *
meshctl_config_dir(struct meshctl *ctx)
{
	const char	*env = getenv("MESHKIT_CONFIG");
	char		*found;

	if (ctx->config_from != NULL)
		return ctx->config_dir;
	if (ctx->config_dir_set)
		ctx->config_from = "-c";
	else if (env != NULL && *env != '\0') {
		ctx->config_dir = env;
		ctx->config_from = "MESHKIT_CONFIG";
	} else if ((found = mesh_ask_config(meshctl_rundir(ctx))) != NULL) {
		ctx->config_dir = ctx->config_buf = found;
		ctx->config_from = "route-d";
	} else {
		ctx->config_dir = MESHCTL_DEFAULT_CONFIG;
		ctx->config_from = "default";
	}
	return ctx->config_dir;
}

int
meshctl_config_explicit(struct meshctl *ctx)
{
	meshctl_config_dir(ctx);
	return strcmp(ctx->config_from, "-c") == 0 ||
	    strcmp(ctx->config_from, "MESHKIT_CONFIG") == 0;
}

char *
meshctl_daemon_address(struct meshctl *ctx, const char *socket)
{
	char	*addr;

	xasprintf(&addr, "ipc://%s/%s", meshctl_rundir(ctx), socket);
	return addr;
}

void
meshctl_mesh_describe(struct meshctl *ctx, FILE *f, int json)
{
	const char	*how;
	char		*link = NULL;

	meshctl_config_dir(ctx);
	if (strcmp(ctx->rundir_from, "current") == 0) {
		link = mesh_current_link();
		how = link;
	} else if (strcmp(ctx->rundir_from, "default") == 0)
		how = "the default";
	else
		how = ctx->rundir_from;
	if (json) {
		fprintf(f, "{\"rundir\": ");
		meshctl_json_string(f, ctx->rundir);
		fprintf(f, ", \"rundir_from\": ");
		meshctl_json_string(f, how);
		fprintf(f, ", \"config\": ");
		meshctl_json_string(f, ctx->config_dir);
		fprintf(f, ", \"config_from\": ");
		meshctl_json_string(f, strcmp(ctx->config_from, "default") ==
		    0 ? "the default" : ctx->config_from);
		fprintf(f, "}");
	} else {
		fprintf(f, "sockets   %s (%s)\n", ctx->rundir, how);
		fprintf(f, "config    %s (%s)\n", ctx->config_dir,
		    strcmp(ctx->config_from, "default") == 0 ?
		    "the default" : ctx->config_from);
	}
	free(link);
}

void
meshctl_mesh_fini(struct meshctl *ctx)
{
	free(ctx->rundir_buf);
	free(ctx->config_buf);
	ctx->rundir_buf = ctx->config_buf = NULL;
}
