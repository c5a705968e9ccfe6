/* SPDX-License-Identifier: ISC */
/*
 * meshctl analyze [DIR ...] [-f FILE ...], like istioctl analyze: load
 * the files as one config and report what is wrong across resources,
 * with Istio's codes.  With neither, the config directory (-c), which is
 * the running mesh's.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "config.h"
#include "meshctl.h"
#include "util.h"

static void	 analyze_add_path(const char *, int, char ***, size_t *,
		    struct cfg_errors *);
static void	 analyze_json(const struct analyze_messages *);

/* A directory stands for its *.yaml and *.yml; -f names a file. */
static void
analyze_add_path(const char *path, int file, char ***paths, size_t *n,
    struct cfg_errors *errs)
{
	struct stat	 st;
	char		**dir;
	size_t		  ndir, i;

	if (!file || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		if (config_dir_files(path, &dir, &ndir, errs) == -1)
			return;
		*paths = xreallocarray(*paths, *n + ndir + 1,
		    sizeof(**paths));
		for (i = 0; i < ndir; i++)
			(*paths)[(*n)++] = dir[i];
		free(dir);
		return;
	}
	*paths = xreallocarray(*paths, *n + 1, sizeof(**paths));
	(*paths)[(*n)++] = xstrdup(path);
}

static void
analyze_json(const struct analyze_messages *msgs)
{
	const struct analyze_message	*m;
	size_t				 i, warnings = 0;

	for (i = 0; i < msgs->n; i++)
		warnings += msgs->v[i].level == ANALYZE_WARNING;
	printf("{\"errors\": %zu, \"warnings\": %zu, \"messages\": [",
	    msgs->nerrors, warnings);
	for (i = 0; i < msgs->n; i++) {
		m = &msgs->v[i];
		printf("%s\n  {\"code\": \"%s\", \"name\": \"%s\", "
		    "\"level\": \"%s\", ", i == 0 ? "" : ",", m->code, m->name,
		    analyze_level_name(m->level));
		if (m->kind != NULL && m->resource != NULL) {
			printf("\"origin\": {\"kind\": ");
			meshctl_json_string(stdout, m->kind);
			printf(", \"namespace\": ");
			meshctl_json_string(stdout, m->namespace);
			printf(", \"name\": ");
			meshctl_json_string(stdout, m->resource);
			printf("}, ");
		}
		printf("\"file\": ");
		meshctl_json_string(stdout, m->file);
		printf(", \"line\": %d, \"col\": %d, \"message\": ", m->line,
		    m->col);
		meshctl_json_string(stdout, m->text);
		printf("}");
	}
	printf("%s]}\n", msgs->n > 0 ? "\n" : "");
}

int
meshctl_analyze(struct meshctl *ctx, int argc, char **argv)
{
	struct cfg_errors	 errs;
	struct analyze_messages	 msgs;
	struct config		*cfg;
	char			**paths = NULL, **files = NULL, *line;
	size_t			  npaths = 0, nfiles = 0, i;
	int			  ch, rc, given = 0;
	const char		 *what = NULL;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:f:ho:", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			printf("usage: meshctl analyze [-c dir] "
			    "[-o text|json] [dir ...] [-f file ...]\n");
			free(files);
			return MESHCTL_EXIT_OK;
		}
		if (ch == 'f') {
			files = xreallocarray(files, nfiles + 1,
			    sizeof(*files));
			files[nfiles++] = optarg;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(files);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("analyze");
		}
	}
	memset(&errs, 0, sizeof(errs));
	memset(&msgs, 0, sizeof(msgs));
	for (i = (size_t)optind; i < (size_t)argc; i++, given++) {
		analyze_add_path(argv[i], 0, &paths, &npaths, &errs);
		what = argv[i];
	}
	for (i = 0; i < nfiles; i++, given++) {
		analyze_add_path(files[i], 1, &paths, &npaths, &errs);
		what = files[i];
	}
	/* nothing named: the running mesh's own directory (mesh.c) */
	if (given == 0) {
		what = meshctl_config_dir(ctx);
		analyze_add_path(what, 0, &paths, &npaths, &errs);
	}
	cfg = config_load_files(paths, npaths, &errs);
	analyze_load_messages(&errs, &msgs);
	if (cfg != NULL)
		analyze_config(cfg, &msgs);
	analyze_sort(&msgs);
	if (ctx->output == OUTPUT_JSON)
		analyze_json(&msgs);
	else if (msgs.n == 0)
		printf("No validation issues found when analyzing %s.\n",
		    given > 1 ? "the files given" : what);
	else
		for (i = 0; i < msgs.n; i++) {
			line = analyze_message_line(&msgs.v[i]);
			printf("%s\n", line);
			free(line);
		}
	if (cfg == NULL && ctx->output != OUTPUT_JSON)
		fprintf(stderr, "meshctl: the files do not load; fix the "
		    "errors above to check across resources\n");
	rc = msgs.nerrors > 0 ? MESHCTL_EXIT_FAIL : MESHCTL_EXIT_OK;
	config_free(cfg);
	config_paths_free(paths, npaths);
	cfg_errors_fini(&errs);
	analyze_messages_fini(&msgs);
	free(files);
	return rc;
}
