/* SPDX-License-Identifier: ISC */
/*
 * meshctl validate [--strict] [file | dir ...]: load the files as one
 * config, the way a daemon would, and report every error and warning as
 * file:line:col.  With no argument, the config directory.  --strict
 * makes the warnings (fields meshkit reads but does not act on) errors.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "meshctl.h"
#include "util.h"

static void	 validate_print(const char *, void *);
static void	 validate_json(const struct cfg_errors *, size_t);
static void	 validate_add_path(struct meshctl *, const char *, char ***,
		    size_t *, struct cfg_errors *);

static void
validate_print(const char *line, void *arg)
{
	fprintf(arg, "%s\n", line);
}

static void
validate_json(const struct cfg_errors *errs, size_t nfiles)
{
	const struct cfg_error	*e;
	size_t			 i;

	printf("{\"valid\": %s, \"files\": %zu, \"errors\": %zu, "
	    "\"warnings\": %zu, \"messages\": [",
	    errs->nerrors == 0 ? "true" : "false", nfiles, errs->nerrors,
	    errs->nwarnings);
	for (i = 0; i < errs->n; i++) {
		e = &errs->v[i];
		printf("%s\n  {\"file\": ", i == 0 ? "" : ",");
		meshctl_json_string(stdout, e->file);
		printf(", \"line\": %d, \"col\": %d, \"severity\": \"%s\", "
		    "\"message\": ", e->line, e->col,
		    e->warning ? "warning" : e->notice ? "notice" : "error");
		meshctl_json_string(stdout, e->message);
		printf("}");
	}
	printf("%s]}\n", errs->n > 0 ? "\n" : "");
}

/* A directory stands for its *.yaml and *.yml, as config_load_dir reads. */
static void
validate_add_path(struct meshctl *ctx, const char *path, char ***paths,
    size_t *n, struct cfg_errors *errs)
{
	struct stat	 st;
	char		**dir;
	size_t		  ndir, i;

	(void)ctx;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (config_dir_files(path, &dir, &ndir, errs) == -1)
			return;
		*paths = xreallocarray(*paths, *n + ndir, sizeof(**paths));
		for (i = 0; i < ndir; i++)
			(*paths)[(*n)++] = dir[i];
		free(dir);
		return;
	}
	*paths = xreallocarray(*paths, *n + 1, sizeof(**paths));
	(*paths)[(*n)++] = xstrdup(path);
}

int
meshctl_validate(struct meshctl *ctx, int argc, char **argv)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			**paths = NULL;
	size_t			  npaths = 0;
	int			  ch, i, rc, strict = 0;
	static const struct option longopts[] = {
		{ "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:ho:", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			printf("usage: meshctl validate [-c dir] "
			    "[-o text|json] [--strict] [file | dir ...]\n");
			return MESHCTL_EXIT_OK;
		}
		if (ch == 'S') {
			strict = 1;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1)
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("validate");
	}
	memset(&errs, 0, sizeof(errs));
	if (optind == argc)
		validate_add_path(ctx, meshctl_config_dir(ctx), &paths,
		    &npaths, &errs);
	for (i = optind; i < argc; i++)
		validate_add_path(ctx, argv[i], &paths, &npaths, &errs);
	cfg = config_load_files(paths, npaths, &errs);
	if (strict)
		cfg_errors_strict(&errs);
	if (ctx->output == OUTPUT_JSON)
		validate_json(&errs, npaths);
	else {
		cfg_errors_print(&errs, 1, validate_print, stderr);
		if (errs.nerrors == 0 && errs.nwarnings == 0)
			printf("%zu file%s valid\n", npaths,
			    npaths == 1 ? "" : "s");
		else if (errs.nerrors == 0)
			printf("%zu file%s valid, %zu warning%s\n", npaths,
			    npaths == 1 ? "" : "s", errs.nwarnings,
			    errs.nwarnings == 1 ? "" : "s");
		else
			fprintf(stderr, "%zu error%s%s\n", errs.nerrors,
			    errs.nerrors == 1 ? "" : "s",
			    strict ? " (--strict: warnings are errors)" : "");
	}
	rc = errs.nerrors == 0 ? MESHCTL_EXIT_OK : MESHCTL_EXIT_FAIL;
	config_free(cfg);
	config_paths_free(paths, npaths);
	cfg_errors_fini(&errs);
	return rc;
}
