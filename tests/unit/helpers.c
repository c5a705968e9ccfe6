/* SPDX-License-Identifier: ISC */
/*
 * The unit tests' shared helpers (helpers.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "helpers.h"
#include "util.h"

void
collect(const char *line, void *arg)
{
	char	**text = arg;
	char	 *n;

	xasprintf(&n, "%s%s\n", *text != NULL ? *text : "", line);
	free(*text);
	*text = n;
}

void
load(struct loaded *l, const char *yaml)
{
	memset(l, 0, sizeof(*l));
	l->cfg = config_load_buffer("m.yaml", yaml, strlen(yaml), &l->errs);
	cfg_errors_print(&l->errs, 1, collect, &l->text);
	if (l->text == NULL)
		l->text = xstrdup("");
}

void
done(struct loaded *l)
{
	config_free(l->cfg);
	cfg_errors_fini(&l->errs);
	free(l->text);
}

void
assert_has(const struct loaded *l, const char *want)
{
	if (strstr(l->text, want) == NULL)
		fail_msg("want \"%s\" in:\n%s", want, l->text);
}

void
assert_refused(const char *yaml, const char *want)
{
	struct loaded	 l;

	load(&l, yaml);
	if (l.cfg != NULL || l.errs.nerrors == 0 ||
	    strstr(l.text, want) == NULL)
		fail_msg("want \"%s\", got %s and:\n%s", want,
		    l.cfg != NULL ? "a config" : "NULL", l.text);
	done(&l);
}

struct config *
must_load(const char *yaml)
{
	struct cfg_errors	 errs;
	struct config		*cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_buffer("test.yaml", yaml, strlen(yaml), &errs);
	if (cfg == NULL && errs.n > 0)
		fail_msg("%d:%d: %s", errs.v[0].line, errs.v[0].col,
		    errs.v[0].message);
	cfg_errors_fini(&errs);
	assert_non_null(cfg);
	return cfg;
}

char *
tmpdir(const char *name)
{
	char	*d;

	xasprintf(&d, "/tmp/meshkit-test-%s.XXXXXX", name);
	assert_non_null(mkdtemp(d));
	return d;
}

void
rmtree(const char *path)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}
