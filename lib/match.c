/* SPDX-License-Identifier: ISC */
/*
 * Istio's string matches.  Regexes are compiled once, when the config is
 * loaded, and matched with a budget: RE2 runs in linear time and PCRE2
 * backtracks, so a hostile pattern must hit a limit rather than stall
 * the daemon.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "match.h"

static int	match_rewrite_to_pcre(const char *, char *, size_t);
static void	*match_regex_compile_opts(const char *, int, int, char *,
		    size_t);

void *
match_regex_compile(const char *pattern, int caseless, char *err,
    size_t errlen)
{
	return match_regex_compile_opts(pattern, caseless, 1, err, errlen);
}

void *
match_regex_search_compile(const char *pattern, char *err, size_t errlen)
{
	return match_regex_compile_opts(pattern, 0, 0, err, errlen);
}

static void *
match_regex_compile_opts(const char *pattern, int caseless, int anchored,
    char *err, size_t errlen)
{
	pcre2_code	*re;
	int		 code;
	PCRE2_SIZE	 off;
	uint32_t	 opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
	const char	*p;

	/* RE2 has no backreferences or lookaround: refuse them as Istio does */
	for (p = pattern; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9') {
			snprintf(err, errlen, "backreferences are not RE2 "
			    "syntax");
			return NULL;
		}
		if (p[0] == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (p[0] == '(' && p[1] == '?' && (p[2] == '=' ||
		    p[2] == '!' || (p[2] == '<' && (p[3] == '=' ||
		    p[3] == '!')))) {
			snprintf(err, errlen, "lookaround is not RE2 syntax");
			return NULL;
		}
	}
	if (caseless)
		opts |= PCRE2_CASELESS;
	if (anchored)
		opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts,
	    &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR	 msg[160];

		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s at offset %zu", (char *)msg,
		    (size_t)off);
		return NULL;
	}
	return re;
}

void
match_regex_free(void *re)
{
	pcre2_code_free(re);
}

static pcre2_match_context *
match_context(void)
{
	pcre2_match_context	*mc;

	if ((mc = pcre2_match_context_create(NULL)) != NULL) {
		pcre2_set_match_limit(mc, MATCH_REGEX_LIMIT);
		pcre2_set_depth_limit(mc, MATCH_REGEX_LIMIT / 10);
	}
	return mc;
}

enum match_result
match_regex_test(const void *re, const char *s, size_t n)
{
	pcre2_match_data	*md;
	pcre2_match_context	*mc;
	int			 rc;

	if (re == NULL)
		return MATCH_NO;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	mc = match_context();
	if (md == NULL || mc == NULL)
		rc = PCRE2_ERROR_NOMEMORY;
	else
		rc = pcre2_match(re, (PCRE2_SPTR)(s != NULL ? s : ""), n, 0,
		    0, md, mc);
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	if (rc >= 0)
		return MATCH_YES;
	return rc == PCRE2_ERROR_NOMATCH ? MATCH_NO : MATCH_ERROR;
}

int
match_regex(const void *re, const char *s, size_t n)
{
	return match_regex_test(re, s, n) == MATCH_YES;
}

/* RE2 writes groups \1; PCRE2's substitute wants $1, and $ literal as $$. */
static int
match_rewrite_to_pcre(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;

	for (; *in != '\0'; in++) {
		if (o + 3 >= outlen)
			return -1;
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '9') {
			out[o++] = '$';
			out[o++] = *++in;
		} else if (in[0] == '\\' && in[1] == '\\') {
			out[o++] = '\\';
			in++;
		} else if (in[0] == '$') {
			out[o++] = '$';
			out[o++] = '$';
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	return 0;
}

enum match_result
match_regex_replace(const void *re, const char *s, size_t n,
    const char *rewrite, char *out, size_t outlen)
{
	pcre2_match_context	*mc;
	char			 repl[1024];
	PCRE2_SIZE		 len = outlen;
	int			 rc;

	if (re == NULL)
		return MATCH_NO;
	if (outlen == 0 ||
	    match_rewrite_to_pcre(rewrite, repl, sizeof(repl)) == -1)
		return MATCH_ERROR;
	if ((mc = match_context()) == NULL)
		return MATCH_ERROR;
	/* RE2's GlobalReplace, as Envoy's regex_rewrite does */
	rc = pcre2_substitute(re, (PCRE2_SPTR)(s != NULL ? s : ""), n, 0,
	    PCRE2_SUBSTITUTE_GLOBAL,
	    NULL, mc, (PCRE2_SPTR)repl, PCRE2_ZERO_TERMINATED,
	    (PCRE2_UCHAR *)out, &len);
	pcre2_match_context_free(mc);
	if (rc > 0)
		return MATCH_YES;
	return rc == 0 ? MATCH_NO : MATCH_ERROR;
}

enum match_result
match_string_test(const struct string_match *m, const char *s, size_t n,
    int caseless)
{
	size_t	 vn;

	switch (m->kind) {
	case MATCH_ANY:
		return MATCH_YES;
	case MATCH_EXACT:
		vn = strlen(m->value);
		return vn == n && (n == 0 || (caseless ?
		    strncasecmp(m->value, s, n) : memcmp(m->value, s, n)) ==
		    0) ? MATCH_YES : MATCH_NO;
	case MATCH_PREFIX:
		vn = strlen(m->value);
		return vn <= n && (vn == 0 || (caseless ?
		    strncasecmp(m->value, s, vn) :
		    memcmp(m->value, s, vn)) == 0) ? MATCH_YES : MATCH_NO;
	case MATCH_REGEX:
		return match_regex_test(m->regex, s, n);
	}
	return MATCH_ERROR;
}

void
match_string_fini(struct string_match *m)
{
	free(m->value);
	if (m->regex != NULL)
		match_regex_free(m->regex);
	memset(m, 0, sizeof(*m));
}
