/* SPDX-License-Identifier: ISC */
/*
 * String matches of Istio's routing API: exact, prefix, and regex in
 * RE2's dialect, run by PCRE2 (the common subset: RE2 refuses
 * backreferences and lookaround, which PCRE2 would take; Istio's own
 * validation refuses them first, and so does match_regex_compile).
 */
#ifndef MESHKIT_MATCH_H
#define MESHKIT_MATCH_H

#include <stddef.h>

#include "config.h"

/* Budget of one regex match: a pattern cannot stall route-d. */
#define MATCH_REGEX_LIMIT	100000

/*
 * The outcome of a match.  MATCH_ERROR is neither: the engine gave up
 * (the budget ran out, the subject is not UTF-8, no memory).  Where a
 * match decides where a request goes or whether it may, an error must
 * fail the request, never read as "no match" (a route that answers 403
 * for /admin.* would be skipped by one bad byte).
 */
enum match_result {
	MATCH_ERROR = -1,
	MATCH_NO = 0,
	MATCH_YES = 1,
};

/*
 * Compiles pattern for an anchored full match; NULL with why in err.
 * caseless for ignoreUriCase.
 */
void	*match_regex_compile(const char *pattern, int caseless, char *err,
	    size_t errlen);
/* Unanchored, for uriRegexRewrite's search and replace. */
void	*match_regex_search_compile(const char *pattern, char *err,
	    size_t errlen);
void	 match_regex_free(void *);
/* Does the whole of s[0..n) match?  A NULL pattern matches nothing. */
enum match_result match_regex_test(const void *, const char *s, size_t n);
/*
 * 1 only when s[0..n) matches, errors counted as no match: for callers
 * to whom no match is the closed answer (a CORS origin not allowed).
 */
int	 match_regex(const void *, const char *s, size_t n);
/*
 * Replaces every match of re (from match_regex_search_compile) in
 * s[0..n) by rewrite (\1 style groups as RE2 writes them) into out.
 * MATCH_YES when it did, MATCH_NO when nothing matched, MATCH_ERROR
 * when the engine gave up or the result does not fit.
 */
enum match_result match_regex_replace(const void *re, const char *s,
	    size_t n, const char *rewrite, char *out, size_t outlen);

/* A string_match against s[0..n); MATCH_ANY matches anything. */
enum match_result match_string_test(const struct string_match *,
	    const char *s, size_t n, int caseless);
void	 match_string_fini(struct string_match *);

#endif
