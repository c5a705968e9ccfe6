/* SPDX-License-Identifier: ISC */
/*
 * Request path normalization with the semantics of Istio's
 * pathNormalization (Envoy's normalize_path, merge_slashes and
 * path_with_escaped_slashes_action), in one forward pass that may work
 * in place.
 *
 * Where this differs from Envoy, it is stricter: an escape that is not
 * "%" HEXDIG HEXDIG is refused rather than passed on, so that no two
 * readers can decode a path differently ("%%32%65" and friends), and a
 * '#' is refused as Envoy does by default.  Escapes of characters that
 * are not unreserved keep their spelling ("%2f" stays "%2f"), as Envoy
 * keeps it, since some servers care about the case of hex digits.
 */
#include <string.h>

#include "uri.h"
#include "util.h"

static int	uri_hex(int);
static int	uri_unreserved(int);
static size_t	uri_separator(const char *, size_t, size_t, int);
static size_t	uri_merge_slashes(char *, size_t);

static const struct {
	const char		*name;
	enum uri_normalization	 mode;
} uri_modes[] = {
	{ "DEFAULT", URI_NORMALIZE_BASE },
	{ "BASE", URI_NORMALIZE_BASE },
	{ "NONE", URI_NORMALIZE_NONE },
	{ "MERGE_SLASHES", URI_NORMALIZE_MERGE_SLASHES },
	{ "DECODE_AND_MERGE_SLASHES", URI_NORMALIZE_DECODE_AND_MERGE_SLASHES },
};

int
uri_normalization_parse(const char *name, enum uri_normalization *mode)
{
	size_t	 i;

	for (i = 0; i < nitems(uri_modes); i++)
		if (strcmp(uri_modes[i].name, name) == 0) {
			*mode = uri_modes[i].mode;
			return 0;
		}
	return -1;
}

const char *
uri_normalization_name(enum uri_normalization mode)
{
	size_t	 i;

	/* the first name of a mode is skipped when it is DEFAULT's */
	for (i = 1; i < nitems(uri_modes); i++)
		if (uri_modes[i].mode == mode)
			return uri_modes[i].name;
	return "BASE";
}

static int
uri_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 2.3: ALPHA DIGIT "-" "." "_" "~" */
static int
uri_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * The length of the segment separator at in[i], or 0: a slash, a
 * backslash (Envoy's BASE reads it as a slash), and with decode an
 * escaped slash or backslash.
 */
static size_t
uri_separator(const char *in, size_t plen, size_t i, int decode)
{
	if (in[i] == '/' || in[i] == '\\')
		return 1;
	if (decode && in[i] == '%' && plen - i >= 3 &&
	    ((in[i + 1] == '2' && (in[i + 2] == 'f' || in[i + 2] == 'F')) ||
	    (in[i + 1] == '5' && (in[i + 2] == 'c' || in[i + 2] == 'C'))))
		return 3;
	return 0;
}

/* Runs of slashes in p[0..n) made one, in place; the new length. */
static size_t
uri_merge_slashes(char *p, size_t n)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++)
		if (p[i] != '/' || o == 0 || p[o - 1] != '/')
			p[o++] = p[i];
	return o;
}

/*
 * In place, out == in: every step writes at most as many bytes as it
 * has read, and reads them before writing, so o <= i throughout and no
 * byte is overwritten before it is read.
 */
ssize_t
uri_normalize(const char *in, size_t n, enum uri_normalization mode,
    char *out, const char **why)
{
	const char	*q;
	size_t		 plen, i, o, seg, len, sep;
	int		 decode, hi, lo, ch, end;
	char		 a, b, c;

	if (n > 0 && memchr(in, '#', n) != NULL) {
		*why = "fragment in request target";
		return -1;
	}
	if (mode == URI_NORMALIZE_NONE) {
		if (out != in)
			memmove(out, in, n);
		return (ssize_t)n;
	}
	q = n > 0 ? memchr(in, '?', n) : NULL;
	plen = q != NULL ? (size_t)(q - in) : n;
	if (plen == 0 || in[0] != '/') {
		*why = "path does not start with /";
		return -1;
	}
	decode = mode == URI_NORMALIZE_DECODE_AND_MERGE_SLASHES;
	out[0] = '/';
	o = seg = i = 1;
	for (;;) {
		end = i == plen;
		sep = end ? 0 : uri_separator(in, plen, i, decode);
		if (end || sep > 0) {
			/* out[seg..o) is a whole segment, decoded */
			len = o - seg;
			if (len == 1 && out[seg] == '.')
				o = seg;
			else if (len == 2 && out[seg] == '.' &&
			    out[seg + 1] == '.') {
				/* up one: back to the slash before the last
				   segment, never above the root */
				o = seg;
				if (o > 1) {
					o--;
					while (out[o - 1] != '/')
						o--;
				}
			} else if (!end)
				out[o++] = '/';
			if (end)
				break;
			i += sep;
			seg = o;
			continue;
		}
		ch = (unsigned char)in[i];
		if (ch != '%') {
			out[o++] = (char)ch;
			i++;
			continue;
		}
		if (plen - i < 3 || (hi = uri_hex((unsigned char)in[i + 1])) <
		    0 || (lo = uri_hex((unsigned char)in[i + 2])) < 0) {
			*why = "invalid percent-encoding in path";
			return -1;
		}
		ch = hi * 16 + lo;
		if (ch == 0) {
			*why = "escaped NUL in path";
			return -1;
		}
		if (uri_unreserved(ch))
			out[o++] = (char)ch;
		else {
			a = in[i];
			b = in[i + 1];
			c = in[i + 2];
			out[o++] = a;
			out[o++] = b;
			out[o++] = c;
		}
		i += 3;
	}
	if (mode != URI_NORMALIZE_BASE)
		o = uri_merge_slashes(out, o);
	if (q != NULL) {
		memmove(out + o, in + plen, n - plen);
		o += n - plen;
	}
	return (ssize_t)o;
}
