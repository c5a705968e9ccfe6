/* SPDX-License-Identifier: ISC */
/*
 * meshctl: the operator's tool.  One table of subcommands in main.c; each
 * subcommand is a function in its own file that parses its own flags.
 */
#ifndef MESHCTL_H
#define MESHCTL_H

#include <stddef.h>
#include <stdio.h>

struct cfg_errors;
struct msg;
struct msg_writer;
struct ydoc;
struct ynode;

#define MESHCTL_DEFAULT_CONFIG	"/etc/meshkit"
#define MESHCTL_DEFAULT_RUNDIR	"/run/meshkit"
/* scripts/demo links DIR/meshkit-UID/current to its run directory */
#define MESHCTL_CURRENT_DIR	"/tmp"

/* Exit status, as meshctl(8) documents it. */
#define MESHCTL_EXIT_OK		0
#define MESHCTL_EXIT_FAIL	1	/* errors found, daemon down */
#define MESHCTL_EXIT_USAGE	2

enum meshctl_output {
	OUTPUT_TEXT,
	OUTPUT_JSON,
};

/*
 * What the global flags set; subcommands may set them too.  Read the
 * mesh's directories with meshctl_rundir and meshctl_config_dir (mesh.c),
 * which find them when no flag gave them.
 */
struct meshctl {
	const char		*config_dir;
	int			 config_dir_set;	/* -c given */
	enum meshctl_output	 output;
	const char		*rundir;		/* -r, or found */
	/* mesh.c's: how each directory was decided, NULL until then */
	const char		*rundir_from;
	const char		*config_from;
	char			*rundir_buf;
	char			*config_buf;
};

struct meshctl_command {
	const char	*name;
	int		(*run)(struct meshctl *, int, char **);
	const char	*usage;		/* after "meshctl NAME" */
	const char	*summary;
};

/*
 * A flag every subcommand takes (-c, -o, -h).  Returns 1 when it was one,
 * 0 when it is not, -1 on a bad value (after saying so).
 */
int	meshctl_common_flag(struct meshctl *, int ch, const char *arg);
/* "usage: meshctl NAME ..." for one command on stderr; returns 2. */
int	meshctl_usage(const char *name);
/* s as a JSON string, quotes included. */
void	meshctl_json_string(FILE *, const char *);

/* The first line of every file meshctl apply writes. */
#define MESHCTL_MARK	"# written by meshctl apply; meshctl delete removes it:"

/* One resource of an apply or delete file. */
struct meshctl_resource {
	char			*kind;
	char			*api_version;
	char			*name;
	char			*namespace;	/* "default" when absent */
	const char		*source;	/* the input's name */
	int			 line;
	int			 col;
	const struct ynode	*root;		/* into its input's docs */
	char			*text;		/* as apply writes it */
	size_t			 len;
	char			*file;		/* its managed file's name */
	char			*path;		/* dir/file */
	int			 skipped;	/* a kind meshkit ignores */
	int			 state;
};

struct resource_input {
	char			*name;
	char			*buf;
	size_t			 len;
	struct ydoc		*docs;
	size_t			 ndocs;
};

struct resource_set {
	struct meshctl_resource	*v;
	size_t			 n;
	struct resource_input	*inputs;
	size_t			 ninputs;
};

/* resource.c */
int	meshctl_read_input(const char *name, char **buf, size_t *len,
	    struct cfg_errors *);
/* Adds the resources of file name ("-": stdin); 0, or -1 on errors. */
int	meshctl_resources_read(struct resource_set *, const char *name,
	    struct cfg_errors *);
void	meshctl_resources_free(struct resource_set *);
void	meshctl_resource_fini(struct meshctl_resource *);
/* "kind.group/name", or with quoted 'kind.group "name"' */
void	meshctl_resource_title(char *, size_t, const char *kind,
	    const char *api_version, const char *name, int quoted);
char	*meshctl_managed_name(const char *kind, const char *namespace,
	    const char *name);
int	meshctl_is_managed(const char *path);
char	*meshctl_resource_yaml(const struct meshctl_resource *, size_t *);

/*
 * mesh.c: the mesh meshctl talks to (meshctl(8) MESH DISCOVERY).  The
 * run directory of the daemons' sockets: -r, $MESHKIT_RUNDIR, the
 * current user's demo, /run/meshkit; it is put in $MESHKIT_RUNDIR so
 * that every default address agrees.  The config directory: -c,
 * $MESHKIT_CONFIG, route-d's own (asked), /etc/meshkit.
 */
const char *meshctl_rundir(struct meshctl *);
const char *meshctl_config_dir(struct meshctl *);
/* 1 when -c or $MESHKIT_CONFIG names the config directory */
int	meshctl_config_explicit(struct meshctl *);
/*
 * 1 when nothing names or finds a mesh: no -c, $MESHKIT_CONFIG, -r,
 * $MESHKIT_RUNDIR or demo, and no route-d socket in /run/meshkit.
 */
int	meshctl_mesh_is_default(struct meshctl *);
/* "ipc://RUNDIR/socket"; free it */
char	*meshctl_daemon_address(struct meshctl *, const char *socket);
/* Where the mesh is and how that was decided, as text lines or JSON. */
void	meshctl_mesh_describe(struct meshctl *, FILE *, int json);
void	meshctl_mesh_fini(struct meshctl *);

/* ipc.c: the route daemon's address; ask one request of a daemon. */
char	*meshctl_route_address(struct meshctl *, int *failed);
int	meshctl_ask(const char *url, const char *req, size_t reqlen,
	    char **reply, size_t *replylen, char *err, size_t errlen);
#define MESHCTL_ASK_TIMEOUT_MS	1000
/*
 * A question's head as the workload's proxy-d would send it: its
 * namespace (unless given) and labels from its Proxy resource in the
 * config directory, when it has one.
 */
void	meshctl_question_head(struct meshctl *, struct msg_writer *,
	    const char *type, const char *workload, const char *namespace);
/* -H 'name: value' flags as header fields; -1 (said) on a bad one. */
int	meshctl_question_headers(struct msg_writer *, char *const *headers,
	    size_t nheaders);
/*
 * Asks daemon (its name, for messages) at url; m gets a reply of
 * reply_type, *reply its text (free it).  -1 when not (a refusal, a
 * reply of another type), said on stderr.
 */
int	meshctl_request(const char *daemon, const char *url,
	    const struct msg_writer *, const char *reply_type, struct msg *m,
	    char **reply);
/* meshctl_request, for a question: the reply has a record. */
int	meshctl_question_ask(const char *daemon, const char *url,
	    const struct msg_writer *, const char *reply_type, struct msg *m,
	    char **reply);

int	meshctl_validate(struct meshctl *, int, char **);
int	meshctl_analyze(struct meshctl *, int, char **);
int	meshctl_status(struct meshctl *, int, char **);
int	meshctl_apply(struct meshctl *, int, char **);
int	meshctl_delete(struct meshctl *, int, char **);
int	meshctl_get(struct meshctl *, int, char **);
int	meshctl_route(struct meshctl *, int, char **);
int	meshctl_breaker(struct meshctl *, int, char **);
/* breaker.c: breaker-d's default address, ipc://RUNDIR/breaker.sock */
char	*meshctl_breaker_address(struct meshctl *);
int	meshctl_authz(struct meshctl *, int, char **);
/* graph.c: stats-d's graph as DOT, and top; stats-d's default address */
int	meshctl_graph(struct meshctl *, int, char **);
int	meshctl_top(struct meshctl *, int, char **);
int	meshctl_jwt(struct meshctl *, int, char **);
int	meshctl_tls(struct meshctl *, int, char **);
int	meshctl_describe(struct meshctl *, int, char **);

#endif
