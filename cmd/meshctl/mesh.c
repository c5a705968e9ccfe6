/* SPDX-License-Identifier: ISC */
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
static int	 mesh_ask_config(const char *rundir, char **dir, char *err,
		    size_t errlen);
static int	 mesh_find_config(struct meshctl *, int strict);
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

/*
 * route-d's config directory, from the status-reply of the route-d in
 * rundir: 0 and *dir (free it); 1 when there is no route-d socket
 * there; 2 when route-d answered without saying; -1 when it did not
 * answer (err says why).
 */
static int
mesh_ask_config(const char *rundir, char **dir, char *err, size_t errlen)
{
	struct msg_writer	 w;
	struct msg		 m;
	struct str		 s;
	char			*url, *reply = NULL;
	size_t			 len = 0;
	int			 rc = 2;

	*dir = NULL;
	if (!mesh_is_socket(rundir, "route.sock"))
		return 1;
	xasprintf(&url, "ipc://%s/route.sock", rundir);
	msgw_init(&w);
	msgw_begin(&w, "status");
	if (meshctl_ask(url, w.buf, w.len, &reply, &len, err,
	    errlen) == -1)
		rc = -1;
	else {
		msg_init(&m);
		if (msg_parse(&m, reply, len, err, errlen) == 0 &&
		    msg_type_is(&m, "status-reply")) {
			s = msg_get(&m, &m.header, "config");
			if (s.p != NULL && s.n > 1 && s.p[0] == '/') {
				*dir = xstrndup(s.p, s.n);
				rc = 0;
			}
		}
		msg_fini(&m);
	}
	free(reply);
	msgw_fini(&w);
	free(url);
	return rc;
}

/*
 * Decides the config directory (see the top of the file); 0 when
 * decided.  A route-d whose socket is there but which does not answer
 * is a mesh whose directory cannot be known: strict, that ends meshctl
 * (applying to another directory would change the wrong mesh);
 * otherwise -1 and nothing is decided.
 */
static int
mesh_find_config(struct meshctl *ctx, int strict)
{
	const char	*env = getenv("MESHKIT_CONFIG");
	char		*found, err[256];
	int		 rc;

	if (ctx->config_from != NULL)
		return 0;
	if (ctx->config_dir_set) {
		ctx->config_from = "-c";
		return 0;
	}
	if (env != NULL && *env != '\0') {
		ctx->config_dir = env;
		ctx->config_from = "MESHKIT_CONFIG";
		return 0;
	}
	rc = mesh_ask_config(meshctl_rundir(ctx), &found, err, sizeof(err));
	if (rc == -1) {
		if (!strict)
			return -1;
		fprintf(stderr, "meshctl: route-d at %s/route.sock: %s: its "
		    "config directory is not known; name it with -c or "
		    "MESHKIT_CONFIG\n", ctx->rundir, err);
		exit(MESHCTL_EXIT_FAIL);
	}
	if (rc == 0) {
		ctx->config_dir = ctx->config_buf = found;
		ctx->config_from = "route-d";
		return 0;
	}
	if (rc == 2)
		fprintf(stderr, "meshctl: route-d at %s/route.sock does not "
		    "say its config directory; %s assumed\n", ctx->rundir,
		    MESHCTL_DEFAULT_CONFIG);
	ctx->config_dir = MESHCTL_DEFAULT_CONFIG;
	ctx->config_from = "default";
	return 0;
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
	mesh_find_config(ctx, 1);
	return ctx->config_dir;
}

int
meshctl_config_explicit(struct meshctl *ctx)
{
	const char	*env = getenv("MESHKIT_CONFIG");

	return ctx->config_dir_set || (env != NULL && *env != '\0');
}

int
meshctl_mesh_is_default(struct meshctl *ctx)
{
	return !meshctl_config_explicit(ctx) &&
	    strcmp(meshctl_rundir(ctx), MESHCTL_DEFAULT_RUNDIR) == 0 &&
	    strcmp(ctx->rundir_from, "default") == 0 &&
	    !mesh_is_socket(ctx->rundir, "route.sock");
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
	const char	*how, *config = "?", *config_from;
	char		*link = NULL;

	meshctl_rundir(ctx);
	if (mesh_find_config(ctx, 0) == 0) {
		config = ctx->config_dir;
		config_from = strcmp(ctx->config_from, "default") == 0 ?
		    "the default" : ctx->config_from;
	} else
		config_from = "route-d did not answer";
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
		meshctl_json_string(f, config);
		fprintf(f, ", \"config_from\": ");
		meshctl_json_string(f, config_from);
		fprintf(f, "}");
	} else {
		fprintf(f, "sockets   %s (%s)\n", ctx->rundir, how);
		fprintf(f, "config    %s (%s)\n", config, config_from);
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
