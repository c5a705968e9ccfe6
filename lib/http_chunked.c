/* SPDX-License-Identifier: ISC */
/*
 * The chunked body checker: a byte-at-a-time state machine over
 * chunk-size lines, extensions and trailers, which lets chunk data through
 * in whole runs.  It refuses what http.c refuses in heads (bare CR or LF,
 * obs-fold, bytes outside the field classes) for the same reason: no
 * two implementations may read the body's end at different places.
 */

#include <stdint.h>
#include <string.h>

#include "http.h"
#include "http_chars.h"

enum chunked_state {
	CH_SIZE_START,		/* first hex digit of a chunk size */
	CH_SIZE,		/* more digits, BWS, ';' or CR */
	CH_SIZE_BWS,		/* BWS after the size: ';' must follow */
	CH_EXT_START,		/* after ';': BWS, then a name */
	CH_EXT_NAME,
	CH_EXT_NAME_BWS,	/* BWS after a name: '=' or ';' must follow */
	CH_EXT_VALUE_START,	/* after '=': BWS, then token or '"' */
	CH_EXT_TOKEN,
	CH_EXT_QUOTED,
	CH_EXT_QUOTED_PAIR,
	CH_EXT_VALUE_END,	/* after a closing quote */
	CH_EXT_VALUE_BWS,	/* BWS after a value: ';' must follow */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,		/* start of a trailer line or the last CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,
	CH_DONE,
	CH_FAILED,
};

static ssize_t	 chunked_fail(struct http_chunked *, struct http_error *,
		    int, const char *);

void
http_chunked_init(struct http_chunked *c, const struct http_limits *limits)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE_START;
	c->max_line = limits->max_line;
	c->max_trailer = limits->max_head;
	c->max_trailers = limits->max_headers;
}

static ssize_t
chunked_fail(struct http_chunked *c, struct http_error *err, int status,
    const char *reason)
{
	c->state = CH_FAILED;
	if (err != NULL) {
		err->status = status;
		err->reason = reason;
	}
	return -1;
}

/*
 * chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 7.1),
 * one byte at a time except for chunk data, which is taken in one step.
 * The size and extension states count their bytes in linelen.
 */
ssize_t
http_chunked_feed(struct http_chunked *c, const char *buf, size_t len,
    int *done, struct http_error *err)
{
	size_t		 i, n;
	unsigned char	 ch;
	unsigned	 d;

	*done = 0;
	if (c->state == CH_DONE) {
		*done = 1;
		return 0;
	}
	if (c->state == CH_FAILED)
		return chunked_fail(c, err, 400,
		    "chunked body already failed");

	for (i = 0; i < len; i++) {
		if (c->state == CH_DATA) {
			n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			c->remaining -= n;
			i += n - 1;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		ch = (unsigned char)buf[i];
		if (c->state <= CH_SIZE_LF) {
			if (ch != '\r' && ch != '\n' &&
			    ++c->linelen > c->max_line)
				return chunked_fail(c, err, 400,
				    "chunk size line too long");
		} else if (c->state >= CH_TRAILER) {
			if (++c->trailerlen > c->max_trailer)
				return chunked_fail(c, err, 431,
				    "trailers too large");
			if (ch != '\r' && c->state != CH_TRAILER_LF &&
			    c->state != CH_END_LF &&
			    ++c->linelen > c->max_line)
				return chunked_fail(c, err, 431,
				    "trailer line too long");
		}

		switch (c->state) {
		case CH_SIZE_START:
		case CH_SIZE:
			if (IS(ch, C_HEX)) {
				d = IS(ch, C_DIGIT) ? ch - '0' :
				    (ch | 0x20) - 'a' + 10;
				if (c->remaining > (uint64_t)INT64_MAX >> 4)
					return chunked_fail(c, err, 400,
					    "chunk size too large");
				c->remaining = c->remaining << 4 | d;
				c->digits++;
				c->state = CH_SIZE;
				break;
			}
			if (c->state == CH_SIZE_START)
				return chunked_fail(c, err, 400,
				    "invalid chunk size");
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == ';')
				c->state = CH_EXT_START;
			else if (IS_WS(ch))
				c->state = CH_SIZE_BWS;
			else
				return chunked_fail(c, err, 400,
				    "invalid chunk size");
			break;
		case CH_SIZE_BWS:
		case CH_EXT_VALUE_BWS:
			if (ch == ';')
				c->state = CH_EXT_START;
			else if (!IS_WS(ch))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_START:
			if (IS(ch, C_TCHAR))
				c->state = CH_EXT_NAME;
			else if (!IS_WS(ch))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_NAME:
		case CH_EXT_TOKEN:
			if (IS(ch, C_TCHAR))
				break;
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == ';')
				c->state = CH_EXT_START;
			else if (ch == '=' && c->state == CH_EXT_NAME)
				c->state = CH_EXT_VALUE_START;
			else if (IS_WS(ch))
				c->state = c->state == CH_EXT_NAME ?
				    CH_EXT_NAME_BWS : CH_EXT_VALUE_BWS;
			else
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_NAME_BWS:
			if (ch == '=')
				c->state = CH_EXT_VALUE_START;
			else if (ch == ';')
				c->state = CH_EXT_START;
			else if (!IS_WS(ch))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_VALUE_START:
			if (ch == '"')
				c->state = CH_EXT_QUOTED;
			else if (IS(ch, C_TCHAR))
				c->state = CH_EXT_TOKEN;
			else if (!IS_WS(ch))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_QUOTED:
			if (ch == '"')
				c->state = CH_EXT_VALUE_END;
			else if (ch == '\\')
				c->state = CH_EXT_QUOTED_PAIR;
			else if (!IS(ch, C_QDTEXT))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_EXT_QUOTED_PAIR:
			if (!IS(ch, C_FIELD))
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			c->state = CH_EXT_QUOTED;
			break;
		case CH_EXT_VALUE_END:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == ';')
				c->state = CH_EXT_START;
			else if (IS_WS(ch))
				c->state = CH_EXT_VALUE_BWS;
			else
				return chunked_fail(c, err, 400,
				    "invalid chunk extension");
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return chunked_fail(c, err, 400,
				    "bare CR in chunk size line");
			c->linelen = 0;
			c->digits = 0;
			if (c->remaining == 0)
				c->state = CH_TRAILER;
			else
				c->state = CH_DATA;
			break;
		case CH_DATA_CR:
			if (ch != '\r')
				return chunked_fail(c, err, 400,
				    "missing CRLF after chunk data");
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return chunked_fail(c, err, 400,
				    "missing CRLF after chunk data");
			c->state = CH_SIZE_START;
			break;
		case CH_TRAILER:
			if (ch == '\r') {
				c->state = CH_END_LF;
				break;
			}
			if (!IS(ch, C_TCHAR))
				return chunked_fail(c, err, 400,
				    "invalid trailer");
			if (++c->ntrailers > c->max_trailers)
				return chunked_fail(c, err, 431,
				    "too many trailers");
			c->state = CH_TRAILER_NAME;
			break;
		case CH_TRAILER_NAME:
			if (ch == ':')
				c->state = CH_TRAILER_VALUE;
			else if (!IS(ch, C_TCHAR))
				return chunked_fail(c, err, 400,
				    "invalid trailer name");
			break;
		case CH_TRAILER_VALUE:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (!IS(ch, C_FIELD))
				return chunked_fail(c, err, 400,
				    "invalid trailer value");
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return chunked_fail(c, err, 400,
				    "bare CR in trailer");
			c->linelen = 0;
			c->state = CH_TRAILER;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return chunked_fail(c, err, 400,
				    "bare CR at end of chunked body");
			c->state = CH_DONE;
			*done = 1;
			return (ssize_t)(i + 1);
		default:
			return chunked_fail(c, err, 400,
			    "chunked state is corrupt");
		}
	}
	return (ssize_t)len;
}

ssize_t
http_chunked_step(struct http_chunked *c, const char *buf, size_t len,
    enum http_chunked_part *part, int *done, struct http_error *err)
{
	size_t	 i;
	ssize_t	 r;

	*done = 0;
	if (c->state == CH_DATA) {
		*part = HTTP_CHUNKED_DATA;
		return http_chunked_feed(c, buf, len < c->remaining ? len :
		    (size_t)c->remaining, done, err);
	}
	if (c->state >= CH_TRAILER && c->state < CH_DONE) {
		/* nothing but the trailers and the final CRLF follows */
		*part = HTTP_CHUNKED_TRAILER;
		return http_chunked_feed(c, buf, len, done, err);
	}
	/* framing: a byte at a time, up to where data or trailers begin */
	*part = HTTP_CHUNKED_FRAMING;
	for (i = 0; i < len; i++) {
		if ((r = http_chunked_feed(c, buf + i, 1, done, err)) < 0)
			return -1;
		if (r == 0 || *done)
			return (ssize_t)(i + (size_t)r);
		if (c->state == CH_DATA || c->state == CH_TRAILER)
			return (ssize_t)(i + 1);
	}
	return (ssize_t)len;
}
