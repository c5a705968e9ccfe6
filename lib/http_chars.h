/* SPDX-License-Identifier: ISC */
/*
 * Inside the http modules: the character classes of RFC 9110 and
 * RFC 9112 that http.c (heads) and http_chunked.c (chunked bodies) test
 * bytes against.  One table, defined in http.c.  Not for other modules.
 */
#ifndef MESHKIT_HTTP_CHARS_H
#define MESHKIT_HTTP_CHARS_H

#include <stdint.h>

/* Character classes, one bit each. */
#define C_TCHAR		0x01	/* token: RFC 9110 5.6.2 */
#define C_FIELD		0x02	/* field value: HTAB SP VCHAR obs-text */
#define C_TARGET	0x04	/* request target: VCHAR obs-text */
#define C_HOST		0x08	/* reg-name: unreserved sub-delims '%' */
#define C_HEX		0x10
#define C_QDTEXT	0x20	/* inside a quoted-string */
#define C_SCHEME	0x40	/* ALPHA DIGIT '+' '-' '.' */
#define C_DIGIT		0x80

extern const uint8_t	 http_cclass[256];

#define IS(c, cls)	(http_cclass[(unsigned char)(c)] & (cls))
#define IS_WS(c)	((c) == ' ' || (c) == '\t')

#endif
