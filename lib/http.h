/* SPDX-License-Identifier: ISC */
/*
 * A strict HTTP/1.1 message parser (RFC 9110/9112) for a proxy: it refuses
 * every shape that two HTTP implementations could read differently
 * (request smuggling), and enforces limits on line length, header count
 * and head size.  It works on complete heads held in one contiguous
 * buffer; http_head_end() finds where a head ends as bytes arrive.
 * Parsed strings point into the caller's buffer (nothing is copied).
 */
#ifndef MESHKIT_HTTP_H
#define MESHKIT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_chunked.h"
#include "util.h"

struct http_limits {
	size_t	max_line;	/* request or status line, and each header,
				   CRLF not counted */
	size_t	max_headers;	/* number of header fields */
	size_t	max_head;	/* whole head, terminating CRLFCRLF included */
};

#define HTTP_DEFAULT_MAX_LINE		8192
#define HTTP_DEFAULT_MAX_HEADERS	100
#define HTTP_DEFAULT_MAX_HEAD		65536
/*
 * The most header fields a Proxy's limits.maxHeaders may allow, and so
 * the most that route-d and authz-d read from one question: a header
 * that proxy-d forwards is one they see.
 */
#define HTTP_MAX_HEADERS_CEILING	10000

struct http_header {
	struct str	name;
	struct str	value;	/* leading and trailing OWS removed */
};

enum http_framing {
	HTTP_BODY_NONE,		/* no body at all */
	HTTP_BODY_LENGTH,	/* content_length bytes */
	HTTP_BODY_CHUNKED,	/* chunked transfer coding */
	HTTP_BODY_CLOSE,	/* until the connection closes (responses) */
};

enum http_target_form {
	HTTP_TARGET_ORIGIN,	/* /path?query */
	HTTP_TARGET_ABSOLUTE,	/* http://authority/path?query */
	HTTP_TARGET_AUTHORITY,	/* host:port (CONNECT only) */
	HTTP_TARGET_ASTERISK,	/* * (OPTIONS only) */
};

/*
 * Failure: the status code to answer with (400, 414, 417, 431, 501, 505
 * for requests; always 502 for responses) and a short reason for the log
 * and the body.  reason is a static string.  Whatever the status, the
 * caller closes the connection after answering: the parser may have
 * stopped in the middle of a message.
 */
struct http_error {
	int		 status;
	const char	*reason;
};

struct http_request {
	struct str		 method;
	struct str		 target;	/* as received */
	enum http_target_form	 form;
	struct str		 scheme;	/* absolute-form, else empty */
	/*
	 * The authority the request is for: from an absolute-form target
	 * if there is one (RFC 9112 3.2.2), else the Host header.
	 * Lowercase is not enforced; compare case-insensitively.
	 */
	struct str		 authority;
	struct str		 path;		/* path and query, "/" at least;
						   "*" for asterisk-form, empty
						   for authority-form */
	int			 version;	/* 10 or 11 */

	struct http_header	*headers;	/* caller's array ... */
	size_t			 max_headers;	/* ... of this many */
	size_t			 nheaders;

	enum http_framing	 framing;	/* NONE or LENGTH or CHUNKED */
	uint64_t		 content_length;
	int			 keep_alive;	/* by version and Connection */
	int			 expect_continue;
	int			 upgrade;	/* Connection: upgrade and an
						   Upgrade header present */
	int			 host_header;	/* index of Host, or -1 */
};

struct http_response {
	int			 version;	/* 10 or 11 */
	int			 status;
	struct str		 reason;

	struct http_header	*headers;
	size_t			 max_headers;
	size_t			 nheaders;

	enum http_framing	 framing;	/* depends on request method */
	uint64_t		 content_length;
	int			 keep_alive;
};

void	http_limits_default(struct http_limits *);

/*
 * Where does the head that starts at buf end?  Returns the head's length
 * (through the blank line) once it is complete, 0 while more bytes are
 * needed, or -1 with err set (431 when max_head is passed without an end
 * or a header line is longer than max_line, 414 for a longer start line,
 * 400 for a bare CR or a bare LF, which are never accepted; on a response
 * head, answer 502 whatever the status).  Empty lines before the start
 * line are skipped and counted in the length.  *scan is the caller's
 * opaque cursor: set it to 0 before the first call for a head and pass it
 * back unchanged, so that repeated calls on a growing buffer do not
 * rescan (it is not a byte offset).  The buffer may hold bytes past the
 * head; they are not looked at.
 */
ssize_t	http_head_end(const char *buf, size_t len, size_t *scan,
	    const struct http_limits *, struct http_error *err);

/*
 * Parse one complete request head (len as returned by http_head_end).
 * Returns 0 or -1 with err set.  req->headers and req->max_headers must
 * be set by the caller; max_headers should be limits->max_headers.  The
 * decisions on what is refused are listed at the top of http.c.
 */
int	http_parse_request(const char *buf, size_t len,
	    const struct http_limits *, struct http_request *req,
	    struct http_error *err);

/*
 * Parse one complete response head.  request_method is the method of the
 * request it answers (HEAD and CONNECT change the framing).  1xx
 * responses parse with framing NONE; the caller reads the next head.
 * Any fault (both Content-Length and Transfer-Encoding included) is -1
 * with err->status 502.
 */
int	http_parse_response(const char *buf, size_t len,
	    const struct http_limits *, struct str request_method,
	    struct http_response *resp, struct http_error *err);

/* Case-insensitive lookup of the first header with this name, or NULL. */
const struct http_header *http_header_find(const struct http_header *,
	    size_t nheaders, const char *name);

/* Does a comma-separated header value list contain token (any case)? */
int	http_value_has_token(struct str value, const char *token);

/*
 * Headers a proxy must not copy when forwarding: the hop-by-hop ones
 * (Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade, and every header that Connection names)
 * and Content-Length, because the proxy re-emits Transfer-Encoding and
 * Content-Length from the framing it parsed.  Host is never dropped,
 * even when Connection names it.  A Transfer-Encoding that lists codings
 * before chunked ("gzip, chunked") must be re-emitted with its value as
 * received: the chunks still carry gzip data.
 */
/*
 * A header that a route's or authz-d's header operations may not set,
 * add or remove: the message's framing and hop-by-hop fields, and Host
 * (a rewrite's business).  Touching them would let an answer smuggle a
 * second request past the application.
 */
int	http_header_reserved(struct str name);
/* A field value as it may be written on the wire (names: util_is_token). */
int	http_field_value_ok(struct str value);

int	http_is_hop_by_hop(const struct http_header *h,
	    const struct http_header *headers, size_t nheaders);

const char *http_status_text(int status);

#endif
