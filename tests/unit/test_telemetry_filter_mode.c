/* SPDX-License-Identifier: ISC */
/*
 * stats-d's filter mode (-f) with access logs: records on stdin, log
 * lines on stdout, and a malformed record said on stderr, by its place,
 * while the others are still written.  It runs the program itself
 * ($MESHKIT_BIN/stats-d, bin/ by default): the filter mode is glue in
 * cmd/stats-d, with no library call of its own to test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "util.h"

static char	*slurp(const char *);
static void	 put(const char *, const char *);
static void	 test_bad_record(void **);

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open", path);
	buf = xcalloc(1, 65536);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
put(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		fail_msg("%s: cannot create", path);
	fputs(text, f);
	fclose(f);
}

static void
test_bad_record(void **state)
{
	const char	*bin = getenv("MESHKIT_BIN");
	char		*dir, *cmd, *path, *out, *err;
	int		 rc;

	if (bin == NULL)
		bin = "bin";
	xasprintf(&path, "%s/stats-d", bin);
	if (access(path, X_OK) == -1) {
		free(path);
		skip();
	}
	dir = tmpdir("filter-mode");
	xasprintf(&cmd, "%s/mesh.yaml", dir);
	put(cmd, "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata:\n  name: mesh\nspec:\n"
	    "  accessLogFile: /dev/stdout\n");
	free(cmd);
	/* the second record has no duration-us */
	xasprintf(&cmd, "%s/in", dir);
	put(cmd, "meshkit/1 records\nworkload: book-v1\nnamespace: default\n"
	    "\nreporter: source\nstart-us: 1764000000000001\n"
	    "duration-us: 3000\ncode: 200\nmethod: GET\npath: /a\n"
	    "\nreporter: source\nstart-us: 1764000000000002\n"
	    "code: 200\nmethod: GET\npath: /b\n"
	    "\nreporter: source\nstart-us: 1764000000000003\n"
	    "duration-us: 3000\ncode: 200\nmethod: GET\npath: /c\n");
	free(cmd);
	xasprintf(&cmd, "'%s' -f -o log -c '%s' <'%s/in' >'%s/out' "
	    "2>'%s/err'", path, dir, dir, dir, dir);
	rc = system(cmd);
	free(cmd);
	assert_int_equal(rc, 0);
	xasprintf(&cmd, "%s/out", dir);
	out = slurp(cmd);
	free(cmd);
	xasprintf(&cmd, "%s/err", dir);
	err = slurp(cmd);
	free(cmd);
	/* the others are written */
	assert_non_null(strstr(out, "\"GET /a HTTP/1.1\" 200"));
	assert_non_null(strstr(out, "\"GET /c HTTP/1.1\" 200"));
	assert_null(strstr(out, "/b"));
	/* the bad one is named, with why */
	if (strstr(err, "message at byte 0: record 2 (near byte 160) "
	    "skipped: missing duration-us") == NULL)
		fail_msg("stderr: \"%s\"", err);
	free(out);
	free(err);
	free(path);
	rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
