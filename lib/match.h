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
 * Compiles pattern for an anchored full match; NULL with why in err.
 * caseless for ignoreUriCase.
 */
void	*match_regex_compile(const char *pattern, int caseless, char *err,
	    size_t errlen);
/* Unanchored, for uriRegexRewrite's search and replace. */
void	*match_regex_search_compile(const char *pattern, char *err,
	    size_t errlen);
void	 match_regex_free(void *);
/* 1 when the whole of s[0..n) matches; 0 otherwise or over budget. */
int	 match_regex(const void *, const char *s, size_t n);
/*
 * Replaces every match of re (from match_regex_search_compile) in s[0..n) by rewrite (\1 style groups
 * as RE2 writes them) into out.  0, or -1 when there is no match or it
 * does not fit.
 */
int	 match_regex_replace(const void *re, const char *s, size_t n,
	    const char *rewrite, char *out, size_t outlen);

/* A string_match against s[0..n); MATCH_ANY matches anything. */
int	 match_string(const struct string_match *, const char *s, size_t n,
	    int caseless);
void	 match_string_fini(struct string_match *);

#endif
