/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for lib/uri.c.  Each input is normalized in every
 * mode, apart and in place, and the result checked:
 *
 * - in place and apart agree, and the result is never longer;
 * - the query comes out as it went in;
 * - a normalized path starts with '/', holds no '\', no "." or ".."
 *   segment, no escape of an unreserved character and only well-formed
 *   escapes; merged modes hold no "//", DECODE_AND_MERGE_SLASHES no
 *   escaped slash or backslash;
 * - normalizing the result again, in its mode or in BASE, changes
 *   nothing (what proxy-d forwards, authz-d reads the same).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	hexdig(int);
static void	check_path(const char *, size_t, enum uri_normalization);
static void	check_mode(const char *, size_t, enum uri_normalization);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static int
hexdig(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static void
check_path(const char *p, size_t n, enum uri_normalization mode)
{
	size_t	 i, start;
	int	 v;

	CHECK(n > 0 && p[0] == '/');
	for (i = 0; i < n; i++) {
		CHECK(p[i] != '\\' && p[i] != '#');
		if (p[i] == '%') {
			CHECK(i + 2 < n && hexdig(p[i + 1]) &&
			    hexdig(p[i + 2]));
			v = (int)strtol((char []){ p[i + 1], p[i + 2], '\0' },
			    NULL, 16);
			CHECK(v != 0);
			CHECK(!((v >= 'a' && v <= 'z') || (v >= 'A' &&
			    v <= 'Z') || (v >= '0' && v <= '9') || v == '-' ||
			    v == '.' || v == '_' || v == '~'));
			if (mode == URI_NORMALIZE_DECODE_AND_MERGE_SLASHES)
				CHECK(v != '/' && v != '\\');
		}
		if (mode != URI_NORMALIZE_BASE && i > 0)
			CHECK(!(p[i] == '/' && p[i - 1] == '/'));
	}
	for (start = 1; start <= n; start = i + 1) {
		for (i = start; i < n && p[i] != '/'; i++)
			;
		CHECK(!(i - start == 1 && p[start] == '.'));
		CHECK(!(i - start == 2 && p[start] == '.' &&
		    p[start + 1] == '.'));
	}
}

static void
check_mode(const char *in, size_t n, enum uri_normalization mode)
{
	char		*out, *inplace, *again;
	const char	*why = NULL, *qin, *qout;
	ssize_t		 r, r2, r3;
	size_t		 plen;

	out = malloc(n + 1);
	inplace = malloc(n + 1);
	again = malloc(n + 1);
	memcpy(inplace, in, n);
	r = uri_normalize(in, n, mode, out, &why);
	r2 = uri_normalize(inplace, n, mode, inplace, &why);
	CHECK(r == r2);
	if (r < 0) {
		CHECK(why != NULL);
		goto done;
	}
	CHECK((size_t)r <= n);
	CHECK(memcmp(out, inplace, (size_t)r) == 0);
	if (mode == URI_NORMALIZE_NONE) {
		CHECK((size_t)r == n && memcmp(out, in, n) == 0);
		goto done;
	}
	qin = memchr(in, '?', n);
	qout = memchr(out, '?', (size_t)r);
	CHECK((qin == NULL) == (qout == NULL));
	if (qin != NULL) {
		CHECK((size_t)(in + n - qin) == (size_t)(out + r - qout));
		CHECK(memcmp(qin, qout, (size_t)(in + n - qin)) == 0);
	}
	plen = qout != NULL ? (size_t)(qout - out) : (size_t)r;
	check_path(out, plen, mode);
	r2 = uri_normalize(out, (size_t)r, mode, again, &why);
	CHECK(r2 == r && memcmp(again, out, (size_t)r) == 0);
	r3 = uri_normalize(out, (size_t)r, URI_NORMALIZE_BASE, again, &why);
	CHECK(r3 == r && memcmp(again, out, (size_t)r) == 0);
done:
	free(out);
	free(inplace);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;

	check_mode(in, size, URI_NORMALIZE_BASE);
	check_mode(in, size, URI_NORMALIZE_NONE);
	check_mode(in, size, URI_NORMALIZE_MERGE_SLASHES);
	check_mode(in, size, URI_NORMALIZE_DECODE_AND_MERGE_SLASHES);
	return 0;
}
