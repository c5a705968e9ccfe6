/* SPDX-License-Identifier: ISC */
/*
 * The chunked transfer coding (RFC 9112 7.1), checked as a body streams
 * through the proxy.  Split from http.h, which includes this header: the
 * limits and errors are those of the head parser.
 */
#ifndef MESHKIT_HTTP_CHUNKED_H
#define MESHKIT_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_limits;
struct http_error;

/*
 * Incremental checker of a chunked body, fed raw bytes as they arrive.
 * The bytes are passed on unchanged once checked; the checker says how
 * many of them belong to the body.  Chunk-size lines and trailers are
 * bounded by the limits given to http_chunked_init(): max_line per line,
 * max_head for the whole trailer section, max_headers trailer fields.
 * Chunk extensions are checked (token [= token / quoted-string]) and
 * sizes must be hex digits only, at most INT64_MAX.  Errors are 400, or
 * 431 for trailers over the limits; for a response body answer 502.
 */
struct http_chunked {
	int		 state;
	uint64_t	 remaining;	/* data bytes left in this chunk */
	size_t		 linelen;	/* bytes in the current line */
	size_t		 trailerlen;	/* bytes of trailers so far */
	size_t		 ntrailers;
	size_t		 max_line;
	size_t		 max_trailer;
	size_t		 max_trailers;
	int		 digits;
	int		 in_ext;
	int		 quoted;
	int		 after_cr;
};

void	http_chunked_init(struct http_chunked *, const struct http_limits *);

/*
 * Consume bytes of a chunked body.  Returns how many of the len bytes
 * belong to the body (the caller forwards exactly those), or -1 with err
 * set on malformed framing.  Sets *done when the last chunk and the
 * trailers are complete; the bytes after that belong to the next message.
 */
ssize_t	http_chunked_feed(struct http_chunked *, const char *buf, size_t len,
	    int *done, struct http_error *err);

/* What the bytes of one http_chunked_step are. */
enum http_chunked_part {
	HTTP_CHUNKED_FRAMING,	/* size lines, extensions, the CRLF after
				   data, the last chunk's line */
	HTTP_CHUNKED_DATA,	/* chunk data */
	HTTP_CHUNKED_TRAILER,	/* the trailer fields and the final CRLF */
};

/*
 * The same checking as http_chunked_feed, but one part at a time, so a
 * proxy can pass the data and the trailers on and write the framing
 * itself (canonical sizes, no extensions): consumes the longest run of
 * bytes at the start of buf that are all of one part, says which in
 * *part, and returns its length (0 only when len is 0 or the body is
 * done), or -1 with err set.
 */
ssize_t	http_chunked_step(struct http_chunked *, const char *buf, size_t len,
	    enum http_chunked_part *part, int *done, struct http_error *err);

#endif
