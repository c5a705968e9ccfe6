/* SPDX-License-Identifier: ISC */
/*
 * Path normalization of request targets, as Istio's MeshConfig
 * pathNormalization asks of its proxies: one normalized path that
 * routing, authorization and the application all see.
 */
#ifndef MESHKIT_URI_H
#define MESHKIT_URI_H

#include <stddef.h>
#include <sys/types.h>

/* Istio's ProxyPathNormalization.NormalizationType (DEFAULT is BASE). */
enum uri_normalization {
	URI_NORMALIZE_BASE,		/* the default */
	URI_NORMALIZE_NONE,
	URI_NORMALIZE_MERGE_SLASHES,
	URI_NORMALIZE_DECODE_AND_MERGE_SLASHES,
};

/*
 * The mode named name (Istio's spelling, DEFAULT for BASE): 0, or -1
 * when there is no such mode.
 */
int	uri_normalization_parse(const char *name, enum uri_normalization *);
const char *uri_normalization_name(enum uri_normalization);

/*
 * Normalizes the path of an origin-form target, in[0..n) = path
 * [ "?" query ], into out; the query is kept as received.  BASE:
 * percent-encoded unreserved characters (RFC 3986 2.3) decoded, other
 * escapes kept as written, a backslash read as a slash, dot segments
 * removed (RFC 3986 5.2.4; ".." at the root stays at the root).
 * MERGE_SLASHES: then runs of slashes made one.
 * DECODE_AND_MERGE_SLASHES: %2F and %5C (any case) decoded to slashes
 * first.  NONE: copied as it is.
 *
 * The result is never longer than the input, so out may be in itself
 * (normalized in place).  Returns its length, or -1 with why set (a
 * static string) when the path cannot be normalized: it does not start
 * with a slash, has an escape that is not "%" HEXDIG HEXDIG, an escaped
 * NUL, or a '#'.  Such a request is refused with 400.
 */
ssize_t	uri_normalize(const char *in, size_t n, enum uri_normalization,
	    char *out, const char **why);

#endif
