/* SPDX-License-Identifier: ISC */
/*
 * What several unit tests share (linked into every one, see the
 * Makefile): a config loaded from a string with its messages as text,
 * cfg_errors_print's collector, and a scratch directory.  Short names,
 * as cmocka's own assert_*: a test reads as what it checks.
 */
#ifndef MESHKIT_TEST_HELPERS_H
#define MESHKIT_TEST_HELPERS_H

#include "config.h"

/* yaml loaded as the file "m.yaml" */
struct loaded {
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*text;	/* every message, notices too */
};

/* cfg_errors_print's fn: appends line and '\n' to *(char **)arg. */
void	 collect(const char *line, void *arg);
/* l->text is "" when there is no message. */
void	 load(struct loaded *l, const char *yaml);
void	 done(struct loaded *l);
/* Fails unless want is among l's messages. */
void	 assert_has(const struct loaded *l, const char *want);
/* Fails unless yaml is refused, with want among its errors. */
void	 assert_refused(const char *yaml, const char *want);
/* yaml, which must load (else its first error is the failure). */
struct config *must_load(const char *yaml);
/* A new directory /tmp/meshkit-test-<name>.XXXXXX (free it). */
char	*tmpdir(const char *name);
/* rm -rf path */
void	 rmtree(const char *path);

#endif
