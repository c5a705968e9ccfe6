/* SPDX-License-Identifier: ISC */
/*
 * meshctl apply -f FILE and meshctl delete -f FILE, like kubectl's: each
 * resource, by kind, namespace and name, gets a file of its own in the
 * config directory (kind.namespace.name.yaml, written atomically), which
 * the daemons notice by themselves.  All or nothing: the directory as it
 * would be afterwards is loaded and checked before anything is written,
 * and the operator's own files are never edited nor removed.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "meshctl.h"
#include "util.h"
#include "yaml.h"

enum apply_state {
	STATE_CREATED,
	STATE_CONFIGURED,
	STATE_UNCHANGED,
};

static const char *const state_words[] = { "created", "configured",
	"unchanged" };

/* The config directory as found. */
struct dir_file {
	char	*path;
	int	 managed;	/* written by meshctl apply */
	int	 replaced;	/* by this apply, or removed by this delete */
};

struct dir_scan {
	struct dir_file	*v;
	size_t		 n;
};

static void	 print_line(const char *, void *);
static int	 same_resource(const struct resource_meta *,
		    const struct meshctl_resource *);
static const struct resource_meta *config_defines(const struct config *,
		    const struct meshctl_resource *);
static int	 dir_scan(const char *, struct dir_scan *, struct cfg_errors *);
static void	 dir_scan_free(struct dir_scan *);
static struct dir_file *dir_find(struct dir_scan *, const char *);
static void	 check_hand_written(struct dir_scan *, struct resource_set *,
		    struct cfg_errors *);
static int	 read_file(const char *, char **, size_t *);
static int	 check_result(struct dir_scan *, struct resource_set *,
		    int, const char *);
static int	 write_files(const char *, struct resource_set *);
static int	 sync_dir(const char *);
static int	 parse_flags(struct meshctl *, const char *, int, char **,
		    char ***, size_t *, int *, int *);

static void
print_line(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

/* config.c's rule for duplicates: Proxies by name alone. */
static int
same_resource(const struct resource_meta *m, const struct meshctl_resource *r)
{
	return strcmp(m->kind, r->kind) == 0 && strcmp(m->name, r->name) == 0 &&
	    (strcmp(m->kind, "Proxy") == 0 ||
	    strcmp(m->namespace, r->namespace) == 0);
}

static const struct resource_meta *
config_defines(const struct config *cfg, const struct meshctl_resource *r)
{
	size_t	 i;

	for (i = 0; i < cfg->nservice_entries; i++)
		if (same_resource(&cfg->service_entries[i].meta, r))
			return &cfg->service_entries[i].meta;
	for (i = 0; i < cfg->nworkload_entries; i++)
		if (same_resource(&cfg->workload_entries[i].meta, r))
			return &cfg->workload_entries[i].meta;
	for (i = 0; i < cfg->nproxies; i++)
		if (same_resource(&cfg->proxies[i].meta, r))
			return &cfg->proxies[i].meta;
	for (i = 0; i < cfg->nresources; i++)
		if (same_resource(&cfg->resources[i].meta, r))
			return &cfg->resources[i].meta;
	return NULL;
}

static int
dir_scan(const char *dir, struct dir_scan *ds, struct cfg_errors *errs)
{
	char	**paths;
	size_t	  n, i;

	memset(ds, 0, sizeof(*ds));
	if (config_dir_files(dir, &paths, &n, errs) == -1)
		return -1;
	ds->v = xcalloc(n == 0 ? 1 : n, sizeof(*ds->v));
	for (i = 0; i < n; i++) {
		ds->v[i].path = paths[i];
		ds->v[i].managed = meshctl_is_managed(paths[i]);
	}
	ds->n = n;
	free(paths);
	return 0;
}

static void
dir_scan_free(struct dir_scan *ds)
{
	size_t	 i;

	for (i = 0; i < ds->n; i++)
		free(ds->v[i].path);
	free(ds->v);
}

static struct dir_file *
dir_find(struct dir_scan *ds, const char *path)
{
	size_t	 i;

	for (i = 0; i < ds->n; i++)
		if (strcmp(ds->v[i].path, path) == 0)
			return &ds->v[i];
	return NULL;
}

/*
 * A resource the operator wrote by hand stays the operator's: apply and
 * delete refuse it, naming the file and line.  A file that does not load
 * is left for check_result to report.
 */
static void
check_hand_written(struct dir_scan *ds, struct resource_set *set,
    struct cfg_errors *errs)
{
	const struct resource_meta	*m;
	struct cfg_errors		 quiet;
	struct config			*cfg;
	size_t				 i, j;

	for (i = 0; i < ds->n; i++) {
		if (ds->v[i].managed)
			continue;
		memset(&quiet, 0, sizeof(quiet));
		cfg = config_load_files(&ds->v[i].path, 1, &quiet);
		cfg_errors_fini(&quiet);
		if (cfg == NULL)
			continue;
		for (j = 0; j < set->n; j++) {
			if (set->v[j].skipped ||
			    (m = config_defines(cfg, &set->v[j])) == NULL)
				continue;
			cfg_errors_add(errs, set->v[j].source,
			    set->v[j].line, set->v[j].col, 0, "%s %s/%s is "
			    "defined in %s:%d, a file meshctl did not write; "
			    "change it there", set->v[j].kind,
			    set->v[j].namespace, set->v[j].name,
			    m->origin.file, m->origin.line);
		}
		config_free(cfg);
	}
}

static int
read_file(const char *path, char **buf, size_t *len)
{
	struct cfg_errors	 quiet;
	int			 rv;

	memset(&quiet, 0, sizeof(quiet));
	rv = meshctl_read_input(path, buf, len, &quiet);
	cfg_errors_fini(&quiet);
	return rv;
}

/*
 * Loads the directory as it would be: the files kept, and the new ones
 * from memory (memfd files, read through /proc/self/fd).  Errors in a
 * new file are told at its resource in the input.  0 when it loads.
 */
static int
check_result(struct dir_scan *ds, struct resource_set *set, int adding,
    const char *dir)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			**paths, **fdpath;
	int			 *fds;
	size_t			  n = 0, i, j;
	int			  rv = 0;

	paths = xcalloc(ds->n + set->n + 1, sizeof(*paths));
	fds = xcalloc(set->n + 1, sizeof(*fds));
	fdpath = xcalloc(set->n + 1, sizeof(*fdpath));
	for (i = 0; i < ds->n; i++)
		if (!ds->v[i].replaced)
			paths[n++] = ds->v[i].path;
	for (j = 0; j < set->n; j++)
		fds[j] = -1;
	for (j = 0; adding && j < set->n; j++) {
		if (set->v[j].skipped)
			continue;
		if ((fds[j] = memfd_create(set->v[j].file, MFD_CLOEXEC)) ==
		    -1 || write(fds[j], set->v[j].text, set->v[j].len) !=
		    (ssize_t)set->v[j].len) {
			fprintf(stderr, "meshctl: memfd: %s\n",
			    strerror(errno));
			rv = -1;
			goto out;
		}
		xasprintf(&fdpath[j], "/proc/self/fd/%d", fds[j]);
		paths[n++] = fdpath[j];
	}
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_files(paths, n, &errs);
	for (i = 0; i < errs.n; i++) {
		const struct cfg_error *e = &errs.v[i];

		if (e->notice)
			continue;
		for (j = 0; adding && j < set->n; j++)
			if (fdpath[j] != NULL && strcmp(e->file,
			    fdpath[j]) == 0)
				break;
		if (adding && j < set->n)
			fprintf(stderr, "%s:%d:%d: %s (in %s/%s as it would "
			    "be written, line %d)\n", set->v[j].source,
			    set->v[j].line, set->v[j].col, e->message, dir,
			    set->v[j].file, e->line);
		else
			fprintf(stderr, "%s:%d:%d: %s\n", e->file, e->line,
			    e->col, e->message);
	}
	if (cfg == NULL) {
		fprintf(stderr, "meshctl: %s would not load; nothing %s\n",
		    dir, adding ? "written" : "removed");
		rv = -1;
	}
	config_free(cfg);
	cfg_errors_fini(&errs);
out:
	for (j = 0; adding && j < set->n; j++) {
		if (fds[j] != -1)
			close(fds[j]);
		free(fdpath[j]);
	}
	free(fdpath);
	free(fds);
	free(paths);
	return rv;
}

static int
sync_dir(const char *dir)
{
	int	 fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == -1 && errno != EINVAL) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Every changed file to a temporary file of dir first (a dotfile, which
 * neither the daemons nor their watchers read), synced; then all renamed
 * into place one after the other, so the daemons, waiting for the
 * directory to settle, see the whole change in one reload.
 */
static int
write_files(const char *dir, struct resource_set *set)
{
	char	**tmp;
	size_t	  i;
	int	  fd, rv = 0;

	tmp = xcalloc(set->n + 1, sizeof(*tmp));
	for (i = 0; i < set->n; i++) {
		struct meshctl_resource *r = &set->v[i];

		if (r->skipped || r->state == STATE_UNCHANGED)
			continue;
		xasprintf(&tmp[i], "%s/.meshctl-apply.XXXXXX", dir);
		if ((fd = mkstemp(tmp[i])) == -1) {
			fprintf(stderr, "meshctl: %s: %s\n", dir,
			    strerror(errno));
			free(tmp[i]);
			tmp[i] = NULL;
			rv = -1;
			break;
		}
		if (write(fd, r->text, r->len) != (ssize_t)r->len ||
		    fchmod(fd, 0644) == -1 || fsync(fd) == -1) {
			fprintf(stderr, "meshctl: %s: %s\n", tmp[i],
			    strerror(errno));
			rv = -1;
		}
		if (close(fd) == -1)
			rv = -1;
		if (rv == -1)
			break;
	}
	for (i = 0; i < set->n; i++) {
		if (tmp[i] == NULL)
			continue;
		if (rv == 0 && rename(tmp[i], set->v[i].path) == -1) {
			fprintf(stderr, "meshctl: %s: %s\n", set->v[i].path,
			    strerror(errno));
			rv = -1;
		}
		if (rv == -1)
			unlink(tmp[i]);
		free(tmp[i]);
	}
	free(tmp);
	if (rv == 0 && sync_dir(dir) == -1) {
		fprintf(stderr, "meshctl: fsync %s: %s\n", dir,
		    strerror(errno));
		rv = -1;
	}
	return rv;
}

/* -f FILE (repeatable), -c, -o, --dry-run, --ignore-not-found */
static int
parse_flags(struct meshctl *ctx, const char *cmd, int argc, char **argv,
    char ***files, size_t *nfiles, int *dry_run, int *ignore_not_found)
{
	static const struct option longopts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "ignore-not-found", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, rc;

	while ((ch = getopt_long(argc, argv, "c:f:ho:r:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			printf("usage: meshctl %s [-c dir] [--dry-run] %s"
			    "-f file ...\n", cmd, ignore_not_found != NULL ?
			    "[--ignore-not-found] " : "");
			return MESHCTL_EXIT_OK;
		case 'f':
			*files = xreallocarray(*files, *nfiles + 1,
			    sizeof(**files));
			(*files)[(*nfiles)++] = optarg;
			continue;
		case 'D':
			*dry_run = 1;
			continue;
		case 'I':
			if (ignore_not_found == NULL)
				return meshctl_usage(cmd);
			*ignore_not_found = 1;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1)
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage(cmd);
	}
	if (optind != argc || *nfiles == 0)
		return meshctl_usage(cmd);
	return -1;
}

int
meshctl_apply(struct meshctl *ctx, int argc, char **argv)
{
	struct resource_set	 set;
	struct cfg_errors	 errs;
	struct dir_scan		 ds;
	struct dir_file		*df;
	struct config		*cfg;
	char			**files = NULL, *old, title[256];
	size_t			  nfiles = 0, i, j, oldlen;
	int			  rc, dry_run = 0;

	if ((rc = parse_flags(ctx, "apply", argc, argv, &files, &nfiles,
	    &dry_run, NULL)) != -1) {
		free(files);
		return rc;
	}
	memset(&set, 0, sizeof(set));
	memset(&errs, 0, sizeof(errs));
	memset(&ds, 0, sizeof(ds));
	rc = MESHCTL_EXIT_FAIL;

	/* 1. each file alone must load, as validate would say */
	for (i = 0; i < nfiles; i++) {
		size_t first = set.n;

		if (meshctl_resources_read(&set, files[i], &errs) == -1)
			continue;
		cfg = config_load_buffer(set.inputs[set.ninputs - 1].name,
		    set.inputs[set.ninputs - 1].buf,
		    set.inputs[set.ninputs - 1].len, &errs);
		for (j = first; cfg != NULL && j < set.n; j++)
			set.v[j].skipped = config_defines(cfg, &set.v[j]) ==
			    NULL;
		config_free(cfg);
	}
	/* the same resource twice, in two files */
	for (i = 0; i < set.n; i++)
		for (j = 0; j < i; j++)
			if (!set.v[i].skipped && strcmp(set.v[i].kind,
			    set.v[j].kind) == 0 && strcmp(set.v[i].name,
			    set.v[j].name) == 0 && strcmp(set.v[i].namespace,
			    set.v[j].namespace) == 0 && set.v[i].source !=
			    set.v[j].source)
				cfg_errors_add(&errs, set.v[i].source,
				    set.v[i].line, set.v[i].col, 0, "%s %s/%s "
				    "is also in %s:%d", set.v[i].kind,
				    set.v[i].namespace, set.v[i].name,
				    set.v[j].source, set.v[j].line);
	if (errs.nerrors > 0)
		goto fail;

	/* 2. where each goes, what is there now */
	if (dir_scan(meshctl_config_dir(ctx), &ds, &errs) == -1)
		goto fail;
	check_hand_written(&ds, &set, &errs);
	if (errs.nerrors > 0)
		goto fail;
	for (i = 0; i < set.n; i++) {
		struct meshctl_resource *r = &set.v[i];

		if (r->skipped)
			continue;
		r->file = meshctl_managed_name(r->kind, r->namespace,
		    r->name);
		xasprintf(&r->path, "%s%s%s", ctx->config_dir,
		    ctx->config_dir[strlen(ctx->config_dir) - 1] == '/' ?
		    "" : "/", r->file);
		r->text = meshctl_resource_yaml(r, &r->len);
		r->state = STATE_CREATED;
		if ((df = dir_find(&ds, r->path)) == NULL)
			continue;
		if (!df->managed) {
			cfg_errors_add(&errs, r->source, r->line, r->col, 0,
			    "%s is not a file meshctl wrote; rename it to "
			    "apply %s %s/%s", r->path, r->kind, r->namespace,
			    r->name);
			continue;
		}
		df->replaced = 1;
		r->state = STATE_CONFIGURED;
		if (read_file(r->path, &old, &oldlen) == 0) {
			if (oldlen == r->len && memcmp(old, r->text,
			    oldlen) == 0)
				r->state = STATE_UNCHANGED;
			free(old);
		}
	}
	if (errs.nerrors > 0)
		goto fail;

	/* 3. the whole directory as it would be, loaded before any write */
	cfg_errors_print(&errs, 1, print_line, NULL);
	if (check_result(&ds, &set, 1, ctx->config_dir) == -1)
		goto done;
	if (!dry_run && write_files(ctx->config_dir, &set) == -1)
		goto done;
	for (i = 0; i < set.n; i++) {
		meshctl_resource_title(title, sizeof(title), set.v[i].kind,
		    set.v[i].api_version, set.v[i].name, 0);
		/* a skipped kind was told as a notice above */
		if (!set.v[i].skipped)
			printf("%s %s%s\n", title,
			    state_words[set.v[i].state],
			    dry_run ? " (dry run)" : "");
	}
	rc = MESHCTL_EXIT_OK;
	goto done;
fail:
	cfg_errors_print(&errs, 1, print_line, NULL);
	fprintf(stderr, "meshctl: %zu error%s; nothing written\n",
	    errs.nerrors, errs.nerrors == 1 ? "" : "s");
done:
	dir_scan_free(&ds);
	cfg_errors_fini(&errs);
	meshctl_resources_free(&set);
	free(files);
	return rc;
}

int
meshctl_delete(struct meshctl *ctx, int argc, char **argv)
{
	struct resource_set	 set;
	struct cfg_errors	 errs;
	struct dir_scan		 ds;
	struct dir_file		*df;
	struct config		*cfg;
	char			**files = NULL, title[256];
	size_t			  nfiles = 0, i, j, missing = 0;
	int			  rc, dry_run = 0, ignore = 0, *found;

	if ((rc = parse_flags(ctx, "delete", argc, argv, &files, &nfiles,
	    &dry_run, &ignore)) != -1) {
		free(files);
		return rc;
	}
	memset(&set, 0, sizeof(set));
	memset(&errs, 0, sizeof(errs));
	memset(&ds, 0, sizeof(ds));
	found = NULL;
	rc = MESHCTL_EXIT_FAIL;

	/* only the names count: a file that no longer validates still
	 * says what to delete */
	for (i = 0; i < nfiles; i++) {
		struct cfg_errors quiet;
		size_t first = set.n;

		if (meshctl_resources_read(&set, files[i], &errs) == -1)
			continue;
		memset(&quiet, 0, sizeof(quiet));
		cfg = config_load_buffer(set.inputs[set.ninputs - 1].name,
		    set.inputs[set.ninputs - 1].buf,
		    set.inputs[set.ninputs - 1].len, &quiet);
		cfg_errors_fini(&quiet);
		for (j = first; cfg != NULL && j < set.n; j++)
			set.v[j].skipped = config_defines(cfg, &set.v[j]) ==
			    NULL;
		config_free(cfg);
	}
	if (errs.nerrors > 0)
		goto fail;
	if (dir_scan(meshctl_config_dir(ctx), &ds, &errs) == -1)
		goto fail;
	check_hand_written(&ds, &set, &errs);
	if (errs.nerrors > 0)
		goto fail;
	found = xcalloc(set.n + 1, sizeof(*found));
	for (i = 0; i < set.n; i++) {
		struct meshctl_resource *r = &set.v[i];

		if (r->skipped)
			continue;
		r->file = meshctl_managed_name(r->kind, r->namespace,
		    r->name);
		xasprintf(&r->path, "%s%s%s", ctx->config_dir,
		    ctx->config_dir[strlen(ctx->config_dir) - 1] == '/' ?
		    "" : "/", r->file);
		if ((df = dir_find(&ds, r->path)) != NULL && df->managed) {
			df->replaced = 1;
			found[i] = 1;
		}
	}
	if (check_result(&ds, &set, 0, ctx->config_dir) == -1)
		goto done;
	for (i = 0; i < set.n; i++) {
		meshctl_resource_title(title, sizeof(title), set.v[i].kind,
		    set.v[i].api_version, set.v[i].name, 1);
		if (set.v[i].skipped) {
			fprintf(stderr, "%s skipped: meshkit does not use "
			    "kind %s\n", title, set.v[i].kind);
			continue;
		}
		if (!found[i]) {
			if (!ignore) {
				fprintf(stderr, "meshctl: %s not found in "
				    "%s\n", title, ctx->config_dir);
				missing++;
			}
			continue;
		}
		if (!dry_run && unlink(set.v[i].path) == -1 &&
		    errno != ENOENT) {
			fprintf(stderr, "meshctl: %s: %s\n", set.v[i].path,
			    strerror(errno));
			goto done;
		}
		printf("%s deleted%s\n", title, dry_run ? " (dry run)" : "");
	}
	if (!dry_run && sync_dir(ctx->config_dir) == -1)
		fprintf(stderr, "meshctl: fsync %s: %s\n", ctx->config_dir,
		    strerror(errno));
	rc = missing > 0 ? MESHCTL_EXIT_FAIL : MESHCTL_EXIT_OK;
	goto done;
fail:
	cfg_errors_print(&errs, 1, print_line, NULL);
	fprintf(stderr, "meshctl: %zu error%s; nothing removed\n",
	    errs.nerrors, errs.nerrors == 1 ? "" : "s");
done:
	free(found);
	dir_scan_free(&ds);
	cfg_errors_fini(&errs);
	meshctl_resources_free(&set);
	free(files);
	return rc;
}
