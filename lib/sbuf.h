/* SPDX-License-Identifier: ISC */
/*
 * A growing byte buffer for text that meshkit writes out: Prometheus'
 * exposition, JSON (access logs, spans, the graph), DOT, HTML.  Bounded:
 * past its limit it stops growing and says so (overflow), so that a
 * hostile label or a huge scrape cannot take every byte of memory.
 */
#ifndef MESHKIT_SBUF_H
#define MESHKIT_SBUF_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct sbuf {
	char	*buf;		/* NUL-terminated when not NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 limit;		/* 0: SBUF_DEFAULT_LIMIT */
	int	 overflow;	/* something was not added */
};

#define SBUF_DEFAULT_LIMIT	(64 * 1024 * 1024)

void	sbuf_init(struct sbuf *, size_t limit);
void	sbuf_fini(struct sbuf *);
void	sbuf_reset(struct sbuf *);
/* Back to len bytes (what an overflowed write added goes), overflow off. */
void	sbuf_truncate(struct sbuf *, size_t len);
/*
 * The buffer (NUL-terminated, its length in *len), now the caller's to
 * free; the sbuf is left empty.  NULL when nothing was ever added.
 */
char	*sbuf_detach(struct sbuf *, size_t *len);
/* sbuf_add and sbuf_addc when the bytes do not fit the room there is. */
void	sbuf_add_grow(struct sbuf *, const char *, size_t);
void	sbuf_adds(struct sbuf *, const char *);
void	sbuf_addstr(struct sbuf *, struct str);

/*
 * The common case inline (writers call these per field): room already
 * and within the limit costs a copy, no call.
 */
static inline void
sbuf_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->overflow || n >= b->cap - b->len || b->len + n > b->limit) {
		sbuf_add_grow(b, p, n);
		return;
	}
	if (n > 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static inline void
sbuf_addc(struct sbuf *b, char c)
{
	if (b->overflow || b->len + 1 >= b->cap || b->len + 1 > b->limit) {
		sbuf_add_grow(b, &c, 1);
		return;
	}
	b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}
void	sbuf_printf(struct sbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	sbuf_u64(struct sbuf *, uint64_t);
/* A double as Prometheus and JSON read it: shortest exact, no exponent
 * for ordinary values; NaN and infinities as Prometheus writes them. */
void	sbuf_double(struct sbuf *, double);
/* s inside a JSON string (no quotes added); invalid UTF-8 as U+FFFD. */
void	sbuf_json_escape(struct sbuf *, const char *, size_t);
/* "s", quoted and escaped. */
void	sbuf_json_string(struct sbuf *, const char *, size_t);
/*
 * A Prometheus label value's escapes: \\, \", \n; a byte that is not
 * UTF-8 becomes U+FFFD.
 */
void	sbuf_prom_escape(struct sbuf *, const char *, size_t);
/* The length of s's first bytes up to max, not cutting a character. */
size_t	sbuf_utf8_cut(const char *, size_t n, size_t max);
/* HTML text and attribute values: & < > " '. */
void	sbuf_html_escape(struct sbuf *, const char *, size_t);

#endif
