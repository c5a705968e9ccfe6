/* SPDX-License-Identifier: ISC */
/*
 * Reading typed values out of YAML nodes for the config module, each
 * failure reported at the node with what was expected and what was
 * found; and the label helpers.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static int	 config_label(const char *, size_t);
static int	 config_decimal(const struct ynode *, uint64_t, uint64_t *);
static int	 config_numeric(const struct ynode *);
static int	 config_range(struct config_loader *, const struct ynode *,
		    const char *, uint64_t, uint64_t, uint64_t *);
static void	 config_message(struct config_loader *, const struct ynode *,
		    int, const char *, va_list);

/* One RFC 1123 label of len bytes, letters in either case. */
static int
config_label(const char *p, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			return 0;
	return 1;
}

/*
 * Istio's checks of a domain name: labels of RFC 1123, the last not all
 * digits, at most 255 bytes, a trailing dot allowed.  With wildcard, the
 * first label may be "*", or start with "*" or "*-" (Istio's wildcard
 * prefix: "*.example.com", "*foo.example.com").
 */
int
config_domain_name(const char *s, int wildcard)
{
	const char	*p = s, *dot, *last = NULL;
	size_t		 n, len;

	n = strlen(s);
	if (n == 0 || n > 255)
		return 0;
	if (wildcard && s[0] == '*') {
		p = s + 1;
		if (*p == '-')
			p++;
		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (len == 0 && p != s + 1)
			return 0;	/* "*-" */
		if (len > 0 && !config_label(p, len))
			return 0;
		if (dot == NULL)
			return 1;
		p = dot + 1;
	}
	for (;;) {
		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		/* a trailing dot: "istio.io." */
		if (len == 0 && dot == NULL && last != NULL)
			break;
		if (!config_label(p, len))
			return 0;
		last = p;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	/* the top-level label cannot be all digits */
	return strspn(last, "0123456789") != strcspn(last, ".");
}

int
config_ip_address(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* An error or a warning (severity as cfg_errors_add's) at n. */
static void
config_message(struct config_loader *l, const struct ynode *n,
    int severity, const char *fmt, va_list ap)
{
	char	*msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	cfg_errors_add(l->errs, l->file, n != NULL ? n->line : 0,
	    n != NULL ? n->col : 0, severity, "%s",
	    msg != NULL ? msg : "(out of memory)");
	free(msg);
}

void
config_error(struct config_loader *l, const struct ynode *n,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	config_message(l, n, CFG_ERROR, fmt, ap);
	va_end(ap);
}

/* tagged with the resource's kind: a daemon logs its own kinds' */
void
config_warn(struct config_loader *l, const struct ynode *n,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	config_message(l, n, CFG_WARNING, fmt, ap);
	va_end(ap);
	if (l->kind != NULL)
		l->errs->v[l->errs->n - 1].kind = xstrdup(l->kind);
}

void
config_ignored(struct config_loader *l, const struct ynode *key,
    const char *what)
{
	config_warn(l, key, "%s%s%s is not supported by meshkit and is "
	    "ignored", l->kind != NULL ? l->kind : "",
	    l->kind != NULL ? " " : "", what);
}

void
config_unknown_field(struct config_loader *l, const struct ynode *key,
    const char *where)
{
	char	 q[80];

	yaml_quote(q, sizeof(q), key->value, key->len);
	/* plain names read better unquoted; odd ones need the quotes */
	if (strlen(key->value) == key->len &&
	    strspn(key->value, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == key->len &&
	    key->len > 0 && key->len < 64)
		config_error(l, key, "unknown field %s in %s", key->value,
		    where);
	else
		config_error(l, key, "unknown field %s in %s", q, where);
}

int
config_key_is(const struct ynode *key, const char *name)
{
	size_t	 n = strlen(name);

	return key->len == n && memcmp(key->value, name, n) == 0;
}

int
config_is_null(const struct ynode *n)
{
	if (n == NULL)
		return 1;
	if (n->type != YNODE_SCALAR || !n->plain)
		return 0;
	return n->len == 0 || strcmp(n->value, "~") == 0 ||
	    strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	    strcmp(n->value, "NULL") == 0;
}

void
config_describe(const struct ynode *n, char *out, size_t outlen)
{
	if (n->type == YNODE_MAP)
		util_strlcpy(out, "a map", outlen);
	else if (n->type == YNODE_SEQ)
		util_strlcpy(out, "a list", outlen);
	else
		yaml_quote(out, outlen, n->value, n->len);
}

int
config_expect_map(struct config_loader *l, const struct ynode *n,
    const char *what)
{
	char	 got[80];

	if (n->type == YNODE_MAP)
		return 0;
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a map, got %s", what, got);
	return -1;
}

int
config_string(struct config_loader *l, const struct ynode *n,
    const char *what, char **out)
{
	char	 got[80];

	if (n->type != YNODE_SCALAR) {
		config_describe(n, got, sizeof(got));
		config_error(l, n, "%s must be a string, got %s", what, got);
		return -1;
	}
	if (strlen(n->value) != n->len) {
		config_error(l, n, "%s must not contain a NUL byte", what);
		return -1;
	}
	free(*out);
	*out = xstrdup(n->value);
	return 0;
}

/*
 * Decimal only: YAML 1.1 reads 0x50 and 010 differently from YAML 1.2,
 * and a config should not depend on which one the reader follows.  A
 * quoted number is accepted, as Istio's JSON reader does.
 */
static int
config_decimal(const struct ynode *n, uint64_t max, uint64_t *out)
{
	const char	*p;
	uint64_t	 v = 0;

	if (n->type != YNODE_SCALAR || n->len == 0 ||
	    strlen(n->value) != n->len)
		return -1;
	p = n->value;
	if (p[0] == '0' && p[1] != '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -2;
	*out = v;
	return 0;
}

/* Looks like a number, so "got" needs no quotes: "got -1". */
static int
config_numeric(const struct ynode *n)
{
	const char	*p;

	if (n->type != YNODE_SCALAR || n->len == 0 || n->len > 30)
		return 0;
	p = n->value + (n->value[0] == '-' || n->value[0] == '+');
	if (*p == '\0')
		return 0;
	return strspn(p, "0123456789") == strlen(p) && strlen(p) ==
	    n->len - (size_t)(p - n->value);
}

static int
config_range(struct config_loader *l, const struct ynode *n,
    const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	char	 got[80];
	int	 rc;

	rc = config_decimal(n, max, out);
	if (rc == 0 && *out >= min)
		return 0;
	if (config_numeric(n))
		config_error(l, n, "%s must be %llu..%llu, got %s", what,
		    (unsigned long long)min, (unsigned long long)max,
		    n->value);
	else {
		config_describe(n, got, sizeof(got));
		config_error(l, n, "%s must be a number %llu..%llu, got %s",
		    what, (unsigned long long)min, (unsigned long long)max,
		    got);
	}
	return -1;
}

/* A bare number 0..100 (Istio's percentages), as parts per million. */
int
config_percent(struct config_loader *l, const struct ynode *n, const char *what,
    uint32_t *ppm)
{
	char	*end, got[80];
	double	 d;

	if (n->type == YNODE_SCALAR && n->len > 0) {
		d = strtod(n->value, &end);
		if (*end == '\0' && isfinite(d) && d >= 0 && d <= 100) {
			*ppm = (uint32_t)(d * 10000 + 0.5);
			return 0;
		}
	}
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a number 0..100, got %s", what, got);
	return -1;
}

int
config_u32(struct config_loader *l, const struct ynode *n, const char *what,
    uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t	 v;

	if (config_range(l, n, what, min, max, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
config_size(struct config_loader *l, const struct ynode *n, const char *what,
    size_t min, size_t max, size_t *out)
{
	uint64_t	 v;

	if (config_range(l, n, what, min, max, &v) == -1)
		return -1;
	*out = (size_t)v;
	return 0;
}

int
config_bool(struct config_loader *l, const struct ynode *n, const char *what,
    int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	char	 got[80];
	size_t	 i;

	if (n->type == YNODE_SCALAR) {
		for (i = 0; yes[i] != NULL; i++)
			if (strcmp(n->value, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
		for (i = 0; no[i] != NULL; i++)
			if (strcmp(n->value, no[i]) == 0) {
				*out = 0;
				return 0;
			}
	}
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be true or false, got %s", what, got);
	return -1;
}

int
config_duration(struct config_loader *l, const struct ynode *n,
    const char *what, uint64_t *out)
{
	char		 got[80];
	uint64_t	 ms;

	if (n->type == YNODE_SCALAR && strlen(n->value) == n->len &&
	    util_parse_duration_ms(n->value, &ms) == 0 && ms > 0) {
		*out = ms;
		return 0;
	}
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a positive duration such as 1s, 250ms "
	    "or 1m, got %s", what, got);
	return -1;
}

int
config_duration_zero(struct config_loader *l, const struct ynode *n,
    const char *what, uint64_t *out)
{
	char		 got[80];
	uint64_t	 ms;

	if (n->type == YNODE_SCALAR && strlen(n->value) == n->len &&
	    util_parse_duration_ms(n->value, &ms) == 0) {
		*out = ms;
		return 0;
	}
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a duration such as 0s, 1s, 250ms or "
	    "1m, got %s", what, got);
	return -1;
}

int
config_enum(struct config_loader *l, const struct ynode *n, const char *what,
    const char *const *names, int *out)
{
	char	 got[80], want[256];
	size_t	 i, o = 0;

	if (n->type == YNODE_SCALAR)
		for (i = 0; names[i] != NULL; i++)
			if (config_key_is(n, names[i])) {
				*out = (int)i;
				return 0;
			}
	want[0] = '\0';
	for (i = 0; names[i] != NULL && o < sizeof(want); i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s",
		    i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ",
		    names[i]);
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be %s, got %s", what, want, got);
	return -1;
}

int
config_string_list(struct config_loader *l, const struct ynode *n,
    const char *what, char ***out, size_t *nout)
{
	char	**v, got[80];
	size_t	  i, k = 0;
	int	  rc = 0;

	if (n->type != YNODE_SEQ) {
		config_describe(n, got, sizeof(got));
		config_error(l, n, "%s must be a list of strings, got %s", what,
		    got);
		return -1;
	}
	v = xcalloc(n->n, sizeof(*v));
	for (i = 0; i < n->n; i++) {
		if (config_string(l, n->values[i], what, &v[k]) == -1)
			rc = -1;
		else
			k++;
	}
	if (rc == -1) {
		config_strings_free(v, k);
		return -1;
	}
	config_strings_free(*out, *nout);
	*out = v;
	*nout = k;
	return 0;
}

int
config_labels(struct config_loader *l, const struct ynode *n,
    const char *what, struct labels *out)
{
	struct labels	 lb;
	size_t		 i;
	int		 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	memset(&lb, 0, sizeof(lb));
	lb.keys = xcalloc(n->n, sizeof(*lb.keys));
	lb.values = xcalloc(n->n, sizeof(*lb.values));
	for (i = 0; i < n->n; i++) {
		char *k = NULL, *v = NULL;

		if (config_string(l, n->keys[i], "a label name", &k) == -1) {
			rc = -1;
			continue;
		}
		/* "version:" with nothing after it: an empty value */
		if (config_is_null(n->values[i]))
			v = xstrdup("");
		else if (config_string(l, n->values[i], "a label value",
		    &v) == -1) {
			free(k);
			rc = -1;
			continue;
		}
		lb.keys[lb.n] = k;
		lb.values[lb.n] = v;
		lb.n++;
	}
	if (rc == -1) {
		config_labels_fini(&lb);
		return -1;
	}
	config_labels_fini(out);
	*out = lb;
	return 0;
}

void
config_labels_fini(struct labels *lb)
{
	size_t	 i;

	for (i = 0; i < lb->n; i++) {
		free(lb->keys[i]);
		free(lb->values[i]);
	}
	free(lb->keys);
	free(lb->values);
	memset(lb, 0, sizeof(*lb));
}

void
config_strings_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
labels_match(const struct labels *selector, const struct labels *labels)
{
	const char	*v;
	size_t		 i;

	if (selector == NULL)
		return 1;
	for (i = 0; i < selector->n; i++) {
		if (labels == NULL)
			return 0;
		v = labels_get(labels, selector->keys[i]);
		if (v == NULL || strcmp(v, selector->values[i]) != 0)
			return 0;
	}
	return 1;
}

const char *
labels_get(const struct labels *lb, const char *key)
{
	size_t	 i;

	if (lb == NULL)
		return NULL;
	for (i = 0; i < lb->n; i++)
		if (strcmp(lb->keys[i], key) == 0)
			return lb->values[i];
	return NULL;
}

void
config_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
config_seq(struct config_loader *l, const struct ynode *n, const char *what)
{
	char	 got[80];

	if (n->type == YNODE_SEQ)
		return 0;
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a list, got %s", what, got);
	return -1;
}

/* A map whose keys must all be among names (for kept, unread trees). */
int
config_keys(struct config_loader *l, const struct ynode *n, const char *what,
    const char *const *names)
{
	size_t	 i, j;
	int	 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		for (j = 0; names[j] != NULL; j++)
			if (config_key_is(n->keys[i], names[j]))
				break;
		if (names[j] == NULL) {
			config_unknown_field(l, n->keys[i], what);
			rc = -1;
		}
	}
	return rc;
}
