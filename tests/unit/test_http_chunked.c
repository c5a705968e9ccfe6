/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/http_chunked.c: valid bodies cut at every split point,
 * hostile framing, the limits on size lines and trailers, and a 16 GiB
 * chunk taken in big steps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "http.h"

static struct http_limits	lim;

static ssize_t	 chunked_all(const char *, size_t, const size_t *, size_t,
		    const struct http_limits *, int *, struct http_error *);
static int	 setup(void **);
static void	 test_chunked_every_split(void **);
static void	 test_chunked_hostile(void **);
static void	 test_chunked_limits(void **);
static void	 test_chunked_big(void **);
static size_t	 reframe(const char *, size_t, size_t, char *, size_t, int *);
static void	 test_chunked_step(void **);

/*
 * Feed body to a fresh checker in pieces cut at the given offsets.
 * Returns the total the checker claimed, or -1.
 */
static ssize_t
chunked_all(const char *body, size_t len, const size_t *cuts, size_t ncuts,
    const struct http_limits *l, int *done, struct http_error *err)
{
	struct http_chunked	 c;
	size_t			 from = 0, to, k;
	ssize_t			 n, total = 0;

	http_chunked_init(&c, l);
	*done = 0;
	for (k = 0; k <= ncuts; k++) {
		to = k < ncuts ? cuts[k] : len;
		if (to < from)
			to = from;
		n = http_chunked_feed(&c, body + from, to - from, done, err);
		if (n == -1)
			return -1;
		total += n;
		if (*done)
			return total;
		if ((size_t)n != to - from)
			fail_msg("short count without done");
		from = to;
	}
	return total;
}

static int
setup(void **state)
{
	http_limits_default(&lim);
	return 0;
}

/* ---- chunked bodies ---- */

static void
test_chunked_every_split(void **state)
{
	static const char *const bodies[] = {
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
		"005\r\nhello\r\n00\r\n\r\n",
		"5;name\r\nhello\r\n0;a=b;c=\"q \\\" ;\"\r\n\r\n",
		"5 ; ext = val ;x\r\nhello\r\n0\r\n\r\n",
		"3\r\n\r\n\r\r\n0\r\nTrailer-One: v\r\nT2:\r\n\r\n",
		"1\r\n0\r\n0\r\nX: a\tb\x80\r\n\r\n",
	};
	const char	 tail[] = "GET / HTTP/1.1\r\n";
	char		 buf[256];
	struct http_error err;
	size_t		 i, len, a, b, cuts[2];
	ssize_t		 n;
	int		 done;

	for (i = 0; i < nitems(bodies); i++) {
		len = strlen(bodies[i]);
		memcpy(buf, bodies[i], len);
		memcpy(buf + len, tail, sizeof(tail) - 1);
		/* whole, then every single split, then every pair */
		n = chunked_all(buf, len + sizeof(tail) - 1, NULL, 0, &lim,
		    &done, &err);
		if (n != (ssize_t)len || !done)
			fail_msg("body %zu whole: got %zd (%s)", i, n,
			    n < 0 ? err.reason : "");
		for (a = 0; a <= len; a++) {
			cuts[0] = a;
			n = chunked_all(buf, len + sizeof(tail) - 1, cuts, 1,
			    &lim, &done, &err);
			if (n != (ssize_t)len || !done)
				fail_msg("body %zu split %zu: got %zd", i, a,
				    n);
			for (b = a; b <= len; b++) {
				cuts[1] = b;
				n = chunked_all(buf, len, cuts, 2, &lim, &done,
				    &err);
				if (n != (ssize_t)len || !done)
					fail_msg("body %zu splits %zu,%zu: "
					    "got %zd", i, a, b, n);
			}
		}
		/* one byte at a time: never done before the last byte */
		{
			struct http_chunked	 c;
			size_t			 k;

			http_chunked_init(&c, &lim);
			for (k = 0; k < len; k++) {
				assert_int_equal(http_chunked_feed(&c, buf + k,
				    1, &done, &err), 1);
				assert_int_equal(done, k == len - 1);
			}
			/* after the end, nothing more belongs to it */
			assert_int_equal(http_chunked_feed(&c, tail, 3, &done,
			    &err), 0);
			assert_int_equal(done, 1);
		}
	}
}

static void
test_chunked_hostile(void **state)
{
	static const char *const bad[] = {
		"\r\n",				/* empty size */
		";x\r\n",
		"g\r\n",
		"5x\r\nhello\r\n0\r\n\r\n",
		" 5\r\nhello\r\n0\r\n\r\n",
		"5 \r\nhello\r\n0\r\n\r\n",
		"-5\r\n",
		"+5\r\n",
		"0x5\r\nhello\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"5\r\rhello\r\n",
		"5\r\nhelloX\r\n0\r\n\r\n",	/* no CRLF after data */
		"5\r\nhello\n0\r\n\r\n",
		"5\r\nhello\r0\r\n\r\n",
		"5\r\nhello0\r\n\r\n",
		"8000000000000000\r\n",		/* past INT64_MAX */
		"10000000000000000\r\n",	/* past UINT64_MAX */
		"ffffffffffffffffffff\r\n",
		"5;\r\nhello\r\n0\r\n\r\n",
		"5;=x\r\nhello\r\n0\r\n\r\n",
		"5;a=\r\nhello\r\n0\r\n\r\n",
		"5;a b\r\nhello\r\n0\r\n\r\n",
		"5;a=b c\r\nhello\r\n0\r\n\r\n",
		"5;a \r\nhello\r\n0\r\n\r\n",
		"5;a=\"x\r\nhello\r\n0\r\n\r\n",
		"5;a=\"x\"y\r\nhello\r\n0\r\n\r\n",
		"5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n",
		"5;a\x01\r\nhello\r\n0\r\n\r\n",
		"0\r\n X: y\r\n\r\n",		/* obs-fold in trailers */
		"0\r\nX y: z\r\n\r\n",
		"0\r\nX : z\r\n\r\n",
		"0\r\n: z\r\n\r\n",
		"0\r\nX: \x01\r\n\r\n",
		"0\r\nX: a\rb\r\n\r\n",
		"0\r\nX: y\n\r\n",
		"0\r\nX: y\r\n\n",
		"0\r\nnocolon\r\n\r\n",
		"0\r\n\rX",
	};
	struct http_error	 err;
	size_t			 i;
	ssize_t			 n;
	int			 done;

	for (i = 0; i < nitems(bad); i++) {
		err.status = 0;
		n = chunked_all(bad[i], strlen(bad[i]), NULL, 0, &lim, &done,
		    &err);
		if (n != -1 || err.status != 400)
			fail_msg("accepted bad[%zu] (%zd, status %d)", i, n,
			    err.status);
	}
	/* NUL inside a size line */
	assert_int_equal(chunked_all("5\0\r\nhello\r\n0\r\n\r\n", 15, NULL, 0,
	    &lim, &done, &err), -1);
	/* the largest size is accepted and counted down */
	{
		struct http_chunked	 c;

		http_chunked_init(&c, &lim);
		assert_int_equal(http_chunked_feed(&c, "7fffffffffffffff\r\n",
		    18, &done, &err), 18);
		assert_true(c.remaining == INT64_MAX);
	}
	/* a failed checker stays failed */
	{
		struct http_chunked	 c;

		http_chunked_init(&c, &lim);
		assert_int_equal(http_chunked_feed(&c, "x", 1, &done, &err),
		    -1);
		assert_int_equal(http_chunked_feed(&c, "0\r\n\r\n", 5, &done,
		    &err), -1);
	}
}

static void
test_chunked_limits(void **state)
{
	struct http_limits	 l = { 16, 2, 40 }, wide = { 16, 10, 40 };
	struct http_error	 err;
	const char		*a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char			 buf[256];
	int			 done;

#define CHECK(lim_, want, fmt, ...) do {				\
	snprintf(buf, sizeof(buf), fmt, __VA_ARGS__);			\
	assert_int_equal(chunked_all(buf, strlen(buf), NULL, 0, &lim_,	\
	    &done, &err), (want) ? (ssize_t)strlen(buf) : -1);		\
} while (0)

	/* size line: exactly max_line (16) bytes pass, 17 fail with 400 */
	CHECK(l, 1, "5;%.14s\r\nhello\r\n0\r\n\r\n", a);
	CHECK(l, 0, "5;%.15s\r\nhello\r\n0\r\n\r\n", a);
	assert_int_equal(err.status, 400);
	/* leading zeros count against the line too */
	CHECK(l, 1, "000000000000000%s\r\nhello\r\n0\r\n\r\n", "5");
	CHECK(l, 0, "0000000000000000%s\r\nhello\r\n0\r\n\r\n", "5");

	/* two trailers pass, three do not */
	CHECK(l, 1, "0\r\nA: 1\r\nB: %s\r\n\r\n", "2");
	CHECK(l, 0, "0\r\nA: 1\r\nB: 2\r\nC: %s\r\n\r\n", "3");
	assert_int_equal(err.status, 431);
	/* a trailer line of max_line bytes, then one more */
	CHECK(l, 1, "0\r\nA: %.13s\r\n\r\n", a);
	CHECK(l, 0, "0\r\nA: %.14s\r\n\r\n", a);
	assert_int_equal(err.status, 431);
	/* the trailer section, final CRLF included, at most max_head (40) */
	CHECK(wide, 1, "0\r\nA: %.13s\r\nB: %.11s\r\nC:\r\n\r\n", a, a);
	CHECK(wide, 0, "0\r\nA: %.13s\r\nB: %.12s\r\nC:\r\n\r\n", a, a);
	assert_int_equal(err.status, 431);
#undef CHECK
}

/* a 16 GiB chunk goes through in big steps: one call per buffer */
static void
test_chunked_big(void **state)
{
	struct http_chunked	 c;
	struct http_error	 err;
	static char		 data[1 << 20];
	uint64_t		 left = (uint64_t)16 << 30;
	struct timespec		 t0, t1;
	int			 done;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	http_chunked_init(&c, &lim);
	assert_int_equal(http_chunked_feed(&c, "400000000\r\n", 11, &done,
	    &err), 11);
	while (left > 0) {
		size_t n = left < sizeof(data) ? (size_t)left : sizeof(data);

		assert_int_equal(http_chunked_feed(&c, data, n, &done, &err),
		    (ssize_t)n);
		left -= n;
	}
	assert_int_equal(http_chunked_feed(&c, "\r\n0\r\n\r\nX", 8, &done,
	    &err), 7);
	assert_int_equal(done, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 < 2.0);
}

/*
 * A proxy's re-framing with http_chunked_step: the body fed in pieces of
 * at most step bytes, data runs that touch merged into one chunk, the
 * framing written anew.  Returns the length written to out, or 0.
 */
static size_t
reframe(const char *body, size_t len, size_t step, char *out, size_t cap,
    int *done)
{
	struct http_chunked	 c;
	struct http_error	 err;
	enum http_chunked_part	 part;
	char			 data[4096];
	size_t			 at = 0, n = 0, dlen = 0, piece;
	ssize_t			 r;
	int			 last = 0;

	http_chunked_init(&c, &lim);
	*done = 0;
	while (at < len && !*done) {
		piece = len - at < step ? len - at : step;
		r = http_chunked_step(&c, body + at, piece, &part, done, &err);
		if (r < 0)
			return 0;
		if (part == HTTP_CHUNKED_DATA) {
			memcpy(data + dlen, body + at, (size_t)r);
			dlen += (size_t)r;
		} else if (dlen > 0) {
			n += (size_t)snprintf(out + n, cap - n,
			    "%zx\r\n%.*s\r\n", dlen, (int)dlen, data);
			dlen = 0;
		}
		if (part == HTTP_CHUNKED_TRAILER) {
			if (!last)
				n += (size_t)snprintf(out + n, cap - n,
				    "0\r\n");
			last = 1;
			memcpy(out + n, body + at, (size_t)r);
			n += (size_t)r;
		}
		at += (size_t)r;
		if (r == 0)
			break;
	}
	out[n] = '\0';
	return n;
}

static void
test_chunked_step(void **state)
{
	static const char body[] = "0004;a=b;c=\"d\"\r\nWiki\r\n"
	    "000000005\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
	    "0;x=y\r\nx-t: 1\r\nx-u: 2\r\n\r\nNEXT";
	static const char want[] = "4\r\nWiki\r\n5\r\npedia\r\n"
	    "e\r\n in\r\n\r\nchunks.\r\n0\r\nx-t: 1\r\nx-u: 2\r\n\r\n";
	static const char empty[] = "000\r\n\r\n";
	char		 out[512];
	size_t		 step, n;
	int		 done;

	/* the same canonical body whatever the pieces; NEXT is not it */
	for (step = 1; step <= sizeof(body); step++) {
		n = reframe(body, sizeof(body) - 1, step, out, sizeof(out),
		    &done);
		assert_int_equal(done, 1);
		assert_int_equal(n, sizeof(want) - 1);
		assert_string_equal(out, want);
	}
	n = reframe(empty, sizeof(empty) - 1, 3, out, sizeof(out), &done);
	assert_int_equal(done, 1);
	assert_string_equal(out, "0\r\n\r\n");
	/* bad framing is still refused */
	assert_int_equal(reframe("4\r\nWikiXX", 10, 4, out, sizeof(out),
	    &done), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_every_split),
		cmocka_unit_test(test_chunked_hostile),
		cmocka_unit_test(test_chunked_limits),
		cmocka_unit_test(test_chunked_big),
		cmocka_unit_test(test_chunked_step),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
