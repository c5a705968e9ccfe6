/* SPDX-License-Identifier: ISC */
/*
 * The growing text buffer of sbuf.h and the escapes of the formats
 * meshkit writes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "util.h"

static int	sbuf_reserve(struct sbuf *, size_t);

void
sbuf_init(struct sbuf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit != 0 ? limit : SBUF_DEFAULT_LIMIT;
}

void
sbuf_fini(struct sbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
}

void
sbuf_reset(struct sbuf *b)
{
	sbuf_truncate(b, 0);
}

void
sbuf_truncate(struct sbuf *b, size_t len)
{
	if (len < b->len)
		b->len = len;
	b->overflow = 0;
	if (b->buf != NULL)
		b->buf[b->len] = '\0';
}

char *
sbuf_detach(struct sbuf *b, size_t *len)
{
	char	*buf = b->buf;

	*len = b->len;
	b->buf = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
	return buf;
}

/* Room for n more bytes and the NUL; 0, or -1 (overflow set). */
static int
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t	 want, cap;

	if (b->overflow)
		return -1;
	if (n > b->limit || b->len > b->limit - n) {
		b->overflow = 1;
		return -1;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < want)
		cap *= 2;
	b->buf = xreallocarray(b->buf, cap, 1);
	b->cap = cap;
	return 0;
}

void
sbuf_add_grow(struct sbuf *b, const char *p, size_t n)
{
	if (sbuf_reserve(b, n) == -1)
		return;
	if (n > 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_addstr(struct sbuf *b, struct str s)
{
	if (s.p != NULL)
		sbuf_add(b, s.p, s.n);
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_reserve(b, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
sbuf_u64(struct sbuf *b, uint64_t v)
{
	char	 tmp[20];

	sbuf_add(b, tmp, (size_t)(util_put_u64(tmp, v) - tmp));
}

void
sbuf_double(struct sbuf *b, double v)
{
	char	 tmp[40];
	int	 prec;

	if (isnan(v)) {
		sbuf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		sbuf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		sbuf_adds(b, tmp);
		return;
	}
	/* the shortest that reads back the same */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	sbuf_adds(b, tmp);
}

void
sbuf_json_escape(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run, len;
	char			 esc[8];

	while (i < n) {
		/* the plain bytes, in one copy */
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run > i) {
			sbuf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		switch (p[i]) {
		case '"':
			sbuf_add(b, "\\\"", 2);
			break;
		case '\\':
			sbuf_add(b, "\\\\", 2);
			break;
		case '\n':
			sbuf_add(b, "\\n", 2);
			break;
		case '\r':
			sbuf_add(b, "\\r", 2);
			break;
		case '\t':
			sbuf_add(b, "\\t", 2);
			break;
		default:
			if (p[i] < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
				sbuf_add(b, esc, 6);
				break;
			}
			if ((len = util_utf8_len(p + i, n - i)) == 0) {
				sbuf_add(b, "\\ufffd", 6);
				break;
			}
			sbuf_add(b, s + i, len);
			i += len;
			continue;
		}
		i++;
	}
}

void
sbuf_json_string(struct sbuf *b, const char *s, size_t n)
{
	sbuf_addc(b, '"');
	sbuf_json_escape(b, s, n);
	sbuf_addc(b, '"');
}

void
sbuf_prom_escape(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, run, len;

	for (i = 0; i < n; ) {
		for (run = i; run < n && p[run] < 0x80 && p[run] != '\\' &&
		    p[run] != '"' && p[run] != '\n'; run++)
			;
		sbuf_add(b, s + i, run - i);
		if ((i = run) == n)
			break;
		if (p[i] >= 0x80) {
			/* the exposition is UTF-8: a bad byte is U+FFFD */
			if ((len = util_utf8_len(p + i, n - i)) == 0) {
				sbuf_add(b, "\xef\xbf\xbd", 3);
				i++;
			} else {
				sbuf_add(b, s + i, len);
				i += len;
			}
			continue;
		}
		sbuf_add(b, p[i] == '\\' ? "\\\\" : p[i] == '"' ? "\\\"" :
		    "\\n", 2);
		i++;
	}
}

size_t
sbuf_utf8_cut(const char *s, size_t n, size_t max)
{
	size_t	 i = 0, len;

	while (i < n) {
		len = util_utf8_len((const unsigned char *)s + i, n - i);
		if (len == 0)
			len = 1;
		if (i + len > max)
			break;
		i += len;
	}
	return i;
}

void
sbuf_html_escape(struct sbuf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&':
			sbuf_adds(b, "&amp;");
			break;
		case '<':
			sbuf_adds(b, "&lt;");
			break;
		case '>':
			sbuf_adds(b, "&gt;");
			break;
		case '"':
			sbuf_adds(b, "&quot;");
			break;
		case '\'':
			sbuf_adds(b, "&#39;");
			break;
		default:
			sbuf_addc(b, s[i]);
		}
}
