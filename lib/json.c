/* SPDX-License-Identifier: ISC */
/*
 * The JSON reader of json.h: recursive descent over the bytes, bounded in
 * depth and node count, every string checked as UTF-8.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

struct json_parser {
	const unsigned char	*p;
	const unsigned char	*start;
	const unsigned char	*end;
	size_t			 nodes;
	char			*err;
	size_t			 errlen;
	int			 failed;
};

static int	 json_fail(struct json_parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 json_space(struct json_parser *);
static struct json *json_value(struct json_parser *, int);
static struct json *json_node(struct json_parser *, enum json_type);
static int	 json_string(struct json_parser *, char **, size_t *);
static int	 json_number(struct json_parser *, struct json *);
static int	 json_literal(struct json_parser *, const char *);
static size_t	 json_put_utf8(char *, uint32_t);
static int	 json_hex4(const unsigned char *, uint32_t *);

static int
json_fail(struct json_parser *jp, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[160];

	if (jp->failed)
		return -1;
	jp->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(jp->err, jp->errlen, "%s at byte %zu", msg,
	    (size_t)(jp->p - jp->start));
	return -1;
}

static void
json_space(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static struct json *
json_node(struct json_parser *jp, enum json_type type)
{
	struct json	*j;

	if (++jp->nodes > JSON_MAX_NODES) {
		json_fail(jp, "more than %d values", JSON_MAX_NODES);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->type = type;
	return j;
}

static int
json_hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= (uint32_t)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= (uint32_t)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= (uint32_t)(p[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
json_put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote.  The unescaped string is never longer. */
static int
json_string(struct json_parser *jp, char **out, size_t *outlen)
{
	const unsigned char	*s = ++jp->p;
	char			*buf, *o;
	uint32_t		 cp, lo;
	int			 n;

	while (jp->p < jp->end && *jp->p != '"') {
		if (*jp->p == '\\' && jp->p + 1 < jp->end)
			jp->p++;
		jp->p++;
	}
	if (jp->p >= jp->end) {
		jp->p = s;
		return json_fail(jp, "unterminated string");
	}
	buf = o = xmalloc((size_t)(jp->p - s) + 1);
	jp->p = s;
	while (*jp->p != '"') {
		if (*jp->p < 0x20) {
			free(buf);
			return json_fail(jp, "control character in string");
		}
		if (*jp->p != '\\') {
			if ((n = (int)util_utf8_len(jp->p,
			    (size_t)(jp->end - jp->p))) == 0) {
				free(buf);
				return json_fail(jp, "invalid UTF-8");
			}
			memcpy(o, jp->p, (size_t)n);
			o += n;
			jp->p += n;
			continue;
		}
		jp->p++;
		switch (*jp->p) {
		case '"': case '\\': case '/':
			*o++ = (char)*jp->p++;
			continue;
		case 'b': *o++ = '\b'; jp->p++; continue;
		case 'f': *o++ = '\f'; jp->p++; continue;
		case 'n': *o++ = '\n'; jp->p++; continue;
		case 'r': *o++ = '\r'; jp->p++; continue;
		case 't': *o++ = '\t'; jp->p++; continue;
		case 'u':
			break;
		default:
			free(buf);
			return json_fail(jp, "bad escape in string");
		}
		if (jp->end - jp->p < 5 || json_hex4(jp->p + 1, &cp) == -1) {
			free(buf);
			return json_fail(jp, "bad \\u escape");
		}
		jp->p += 5;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (jp->end - jp->p < 6 || jp->p[0] != '\\' ||
			    jp->p[1] != 'u' || json_hex4(jp->p + 2, &lo) == -1 ||
			    lo < 0xdc00 || lo > 0xdfff) {
				free(buf);
				return json_fail(jp, "lone surrogate");
			}
			jp->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			free(buf);
			return json_fail(jp, "lone surrogate");
		}
		if (cp == 0) {
			free(buf);
			return json_fail(jp, "NUL in string");
		}
		/* an escape is 6 or 12 bytes, its UTF-8 at most 4 */
		o += json_put_utf8(o, cp);
	}
	jp->p++;
	*o = '\0';
	*out = buf;
	*outlen = (size_t)(o - buf);
	return 0;
}

static int
json_number(struct json_parser *jp, struct json *j)
{
	const unsigned char	*s = jp->p;
	char			*end;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p >= jp->end)
		return json_fail(jp, "bad number");
	if (*jp->p == '0')
		jp->p++;
	else if (*jp->p >= '1' && *jp->p <= '9')
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	else
		return json_fail(jp, "bad number");
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return json_fail(jp, "bad number");
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return json_fail(jp, "bad number");
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (jp->p - s > 64)
		return json_fail(jp, "number too long");
	j->len = (size_t)(jp->p - s);
	j->string = xstrndup((const char *)s, j->len);
	j->number = strtod(j->string, &end);
	return 0;
}

static int
json_literal(struct json_parser *jp, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return json_fail(jp, "unexpected character");
	jp->p += n;
	return 0;
}

static struct json *
json_value(struct json_parser *jp, int depth)
{
	struct json	*j = NULL, *v;
	char		*key;
	size_t		 keylen, i;

	json_space(jp);
	if (jp->p >= jp->end) {
		json_fail(jp, "unexpected end");
		return NULL;
	}
	if (depth > JSON_MAX_DEPTH) {
		json_fail(jp, "nested deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	switch (*jp->p) {
	case '{':
	case '[': {
		int	 obj = *jp->p == '{';

		if ((j = json_node(jp, obj ? JSON_OBJECT : JSON_ARRAY)) ==
		    NULL)
			return NULL;
		jp->p++;
		json_space(jp);
		if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
			jp->p++;
			return j;
		}
		for (;;) {
			key = NULL;
			if (obj) {
				json_space(jp);
				if (jp->p >= jp->end || *jp->p != '"') {
					json_fail(jp, "want a key");
					goto bad;
				}
				if (json_string(jp, &key, &keylen) == -1)
					goto bad;
				for (i = 0; i < j->n; i++)
					if (strcmp(j->keys[i], key) == 0) {
						free(key);
						json_fail(jp, "duplicate key");
						goto bad;
					}
				json_space(jp);
				if (jp->p >= jp->end || *jp->p != ':') {
					free(key);
					json_fail(jp, "want ':'");
					goto bad;
				}
				jp->p++;
			}
			if ((v = json_value(jp, depth + 1)) == NULL) {
				free(key);
				goto bad;
			}
			j->values = xreallocarray(j->values, j->n + 1,
			    sizeof(*j->values));
			if (obj)
				j->keys = xreallocarray(j->keys, j->n + 1,
				    sizeof(*j->keys));
			j->values[j->n] = v;
			if (obj)
				j->keys[j->n] = key;
			j->n++;
			json_space(jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
				continue;
			}
			if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
				jp->p++;
				return j;
			}
			json_fail(jp, "want ',' or '%c'", obj ? '}' : ']');
			goto bad;
		}
	}
	case '"':
		if ((j = json_node(jp, JSON_STRING)) == NULL)
			return NULL;
		if (json_string(jp, &j->string, &j->len) == -1)
			goto bad;
		return j;
	case 't':
	case 'f':
		if ((j = json_node(jp, JSON_BOOL)) == NULL)
			return NULL;
		j->boolean = *jp->p == 't';
		if (json_literal(jp, j->boolean ? "true" : "false") == -1)
			goto bad;
		return j;
	case 'n':
		if ((j = json_node(jp, JSON_NULL)) == NULL)
			return NULL;
		if (json_literal(jp, "null") == -1)
			goto bad;
		return j;
	default:
		if ((j = json_node(jp, JSON_NUMBER)) == NULL)
			return NULL;
		if (json_number(jp, j) == -1)
			goto bad;
		return j;
	}
bad:
	json_free(j);
	return NULL;
}

struct json *
json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct json_parser	 jp;
	struct json		*j;

	memset(&jp, 0, sizeof(jp));
	jp.p = jp.start = (const unsigned char *)buf;
	jp.end = jp.p + len;
	jp.err = err;
	jp.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if ((j = json_value(&jp, 1)) == NULL)
		return NULL;
	json_space(&jp);
	if (jp.p != jp.end) {
		json_fail(&jp, "data after the value");
		json_free(j);
		return NULL;
	}
	return j;
}

void
json_free(struct json *j)
{
	size_t	 i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		json_free(j->values[i]);
		if (j->keys != NULL)
			free(j->keys[i]);
	}
	free(j->values);
	free(j->keys);
	free(j->string);
	free(j);
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t	 i;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->values[i];
	return NULL;
}

const char *
json_get_string(const struct json *obj, const char *key)
{
	const struct json	*v = json_get(obj, key);

	return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}
