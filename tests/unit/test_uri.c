/* SPDX-License-Identifier: ISC */
/* lib/uri.c: path normalization as Istio's pathNormalization does it */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uri.h"
#include "util.h"

#define B	URI_NORMALIZE_BASE
#define N	URI_NORMALIZE_NONE
#define M	URI_NORMALIZE_MERGE_SLASHES
#define D	URI_NORMALIZE_DECODE_AND_MERGE_SLASHES

struct ucase {
	enum uri_normalization	 mode;
	const char		*in;
	const char		*out;	/* NULL: refused */
};

/* Normalizes c->in both into another buffer and in place. */
static void
check(const struct ucase *c)
{
	char		 out[512], inplace[512];
	const char	*why = NULL;
	ssize_t		 n, m;
	size_t		 len = strlen(c->in);

	n = uri_normalize(c->in, len, c->mode, out, &why);
	memcpy(inplace, c->in, len);
	m = uri_normalize(inplace, len, c->mode, inplace, &why);
	if (c->out == NULL) {
		if (n != -1 || m != -1)
			fail_msg("%s \"%s\": accepted as \"%.*s\"",
			    uri_normalization_name(c->mode), c->in,
			    (int)(n < 0 ? 0 : n), out);
		assert_non_null(why);
		return;
	}
	if (n < 0)
		fail_msg("%s \"%s\": refused (%s)",
		    uri_normalization_name(c->mode), c->in, why);
	if ((size_t)n != strlen(c->out) || memcmp(out, c->out, (size_t)n))
		fail_msg("%s \"%s\": got \"%.*s\", want \"%s\"",
		    uri_normalization_name(c->mode), c->in, (int)n, out,
		    c->out);
	if (m != n || memcmp(inplace, out, (size_t)n) != 0)
		fail_msg("%s \"%s\": in place \"%.*s\", apart \"%.*s\"",
		    uri_normalization_name(c->mode), c->in, (int)m, inplace,
		    (int)n, out);
	assert_true((size_t)n <= len);
}

/*
 * The cases of Istio's normalization docs and integration tests, per
 * mode, written as meshkit reads them.
 */
static void
test_istio_modes(void **state)
{
	static const struct ucase cases[] = {
		{ N, "/", "/" }, { N, "/app/../admin", "/app/../admin" },
		{ N, "/app//", "/app//" }, { N, "/app/%2f", "/app/%2f" },
		{ N, "/app/%2E./admin", "/app/%2E./admin" },
		{ N, "/app\\admin", "/app\\admin" },
		{ N, "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc",
		    "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc" },
		{ N, "/a%zz", "/a%zz" },

		{ B, "/", "/" }, { B, "/app/", "/app/" },
		{ B, "/app/../admin", "/admin" }, { B, "/app", "/app" },
		{ B, "/app//", "/app//" }, { B, "/app/%2f", "/app/%2f" },
		{ B, "/app%2f/", "/app%2f/" },
		{ B, "/xyz%30..//abc", "/xyz0..//abc" },
		{ B, "/app/%2E./admin", "/admin" },
		{ B, "/app\\admin", "/app/admin" },
		{ B, "/app/\\/\\/\\admin", "/app//////admin" },
		{ B, "/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc" },
		{ B, "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc",
		    "/%5Capp%2f%5c%2F..%2fadmin%5c/abc" },
		{ B, "/app//../admin", "/app/admin" },
		{ B, "/app//../../admin", "/admin" },
		{ B, "\\da", NULL },

		{ M, "/app//", "/app/" }, { M, "/app/../admin", "/admin" },
		{ M, "/app/%2f", "/app/%2f" },
		{ M, "/xyz%30..//abc", "/xyz0../abc" },
		{ M, "/app/\\/\\/\\admin", "/app/admin" },
		{ M, "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc",
		    "/%5Capp%2f%5c%2F..%2fadmin%5c/abc" },
		{ M, "/app//../admin", "/app/admin" },
		{ M, "/app//../../admin", "/admin" },
		{ M, "//a//b//", "/a/b/" },

		{ D, "/app//", "/app/" }, { D, "/app/%2f", "/app/" },
		{ D, "/app%2f/", "/app/" },
		{ D, "/%2Fapp%5cadmin%5Cabc", "/app/admin/abc" },
		{ D, "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc",
		    "/app/admin/abc" },
		{ D, "/%c0%2e%c0%2e/admin", "/%c0.%c0./admin" },
		{ D, "/%c0%2fadmin", "/%c0/admin" },
		{ D, "/admin%00", NULL },
		/* left alone: no decoding of decoded escapes, no ";" games */
		{ D, "/%252e%252e/admin", "/%252e%252e/admin" },
		{ D, "/%c0%ae%c0%ae/admin", "/%c0%ae%c0%ae/admin" },
		{ D, "/.../admin", "/.../admin" },
		{ D, "/..;/admin", "/..;/admin" },
		{ D, "/admin;a=b/xyz", "/admin;a=b/xyz" },
		{ D, "/ADMIN", "/ADMIN" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		check(&cases[i]);
}

/* The cases and the edges of RFC 3986 5.2.4. */
static void
test_dot_segments(void **state)
{
	static const struct ucase cases[] = {
		{ B, "/admin/../public", "/public" },
		{ B, "/admin/%2e%2e/public", "/public" },
		{ B, "/admin/%2E%2e/public", "/public" },
		{ B, "/public/../admin", "/admin" },
		{ B, "/a/b/../c", "/a/c" }, { B, "/a/./b/", "/a/b/" },
		{ B, "/..", "/" }, { B, "/../..", "/" }, { B, "/../a", "/a" },
		{ B, "/a/..", "/" }, { B, "/a/b/..", "/a/" },
		{ B, "/a/.", "/a/" }, { B, "/.", "/" }, { B, "/./", "/" },
		{ B, "/a/.b", "/a/.b" }, { B, "/a/..b", "/a/..b" },
		{ B, "/a/b../c", "/a/b../c" },
		{ B, "/%7euser", "/~user" }, { B, "/%41%2D%5F", "/A-_" },
		{ B, "/a%20b", "/a%20b" }, { B, "/a%2fb", "/a%2fb" },
		{ B, "/a%ff", "/a%ff" },
		/* the query is kept as it came */
		{ B, "/a/../b?x=/../%2e&y=%zz", "/b?x=/../%2e&y=%zz" },
		{ M, "/a//b?c//d", "/a/b?c//d" },
		{ D, "/a%2fb?c%2fd", "/a/b?c%2fd" },
		{ B, "/?", "/?" }, { B, "/a?", "/a?" },
		/* refused */
		{ B, "/a%zz", NULL }, { B, "/a%2", NULL }, { B, "/a%", NULL },
		{ B, "/a%%32%65", NULL }, { B, "/a#b", NULL },
		{ N, "/a#b", NULL }, { B, "", NULL }, { B, "a/b", NULL },
		{ B, "?x", NULL }, { B, "*", NULL },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		check(&cases[i]);
}

/* Every escape %01..%ff under DECODE_AND_MERGE_SLASHES, as Istio's. */
static void
test_every_escape(void **state)
{
	char		 in[16], want[16];
	struct ucase	 c;
	int		 i;

	(void)state;
	for (i = 1; i <= 0xff; i++) {
		snprintf(in, sizeof(in), "/admin%%%02x", i);
		if ((i >= '0' && i <= '9') || (i >= 'a' && i <= 'z') ||
		    (i >= 'A' && i <= 'Z') || i == '-' || i == '.' ||
		    i == '_' || i == '~')
			snprintf(want, sizeof(want), "/admin%c", i);
		else if (i == '/' || i == '\\')
			snprintf(want, sizeof(want), "/admin/");
		else
			snprintf(want, sizeof(want), "%s", in);
		c = (struct ucase){ D, in, want };
		check(&c);
	}
}

/* Normalizing a normalized path changes nothing; BASE on all three. */
static void
test_idempotent(void **state)
{
	static const char *paths[] = {
		"/a/../b/./c//d/", "/%2e%2E/x%2fy%5c\\z", "/a%7E/%41/..",
		"/x//..//y?q=/../", "/%c0%2e%c0%2e/admin",
	};
	static const enum uri_normalization modes[] = { B, M, D };
	char		 once[128], twice[128], base[128];
	const char	*why;
	ssize_t		 n1, n2, n3;
	size_t		 i, j;

	(void)state;
	for (i = 0; i < nitems(paths); i++)
		for (j = 0; j < nitems(modes); j++) {
			n1 = uri_normalize(paths[i], strlen(paths[i]),
			    modes[j], once, &why);
			assert_true(n1 > 0);
			n2 = uri_normalize(once, (size_t)n1, modes[j], twice,
			    &why);
			n3 = uri_normalize(once, (size_t)n1, B, base, &why);
			assert_int_equal(n1, n2);
			assert_memory_equal(once, twice, (size_t)n1);
			assert_int_equal(n1, n3);
			assert_memory_equal(once, base, (size_t)n1);
		}
}

static void
test_names(void **state)
{
	enum uri_normalization	 m;
	static const char *names[] = { "BASE", "NONE", "MERGE_SLASHES",
	    "DECODE_AND_MERGE_SLASHES" };
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		assert_int_equal(uri_normalization_parse(names[i], &m), 0);
		assert_string_equal(uri_normalization_name(m), names[i]);
	}
	assert_int_equal(uri_normalization_parse("DEFAULT", &m), 0);
	assert_int_equal(m, URI_NORMALIZE_BASE);
	assert_int_equal(uri_normalization_parse("base", &m), -1);
	assert_int_equal(uri_normalization_parse("", &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_istio_modes),
		cmocka_unit_test(test_dot_segments),
		cmocka_unit_test(test_every_escape),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
