/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/http.c: every request-smuggling shape it must refuse,
 * every limit at and one past its value, target forms, keep-alive and
 * response framing.  The chunked checker's are in test_http_chunked.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "http.h"

#define MAXH	256

static struct http_header	hdrs[MAXH];
static struct http_limits	lim;

static const char	*show(const char *, size_t);
static int	 req_parse(const char *, size_t, const struct http_limits *,
		    struct http_request *, struct http_error *);
static void	 reject_lim(const char *, size_t, const struct http_limits *,
		    int, int);
static void	 accept_lim(const char *, size_t, const struct http_limits *,
		    struct http_request *, int);
static int	 resp_parse(const char *, const char *, struct http_response *,
		    struct http_error *);
static char	*repeat(char *, char, size_t);
static double	 now(void);
static int	 setup(void **);
static void	 test_basic_get(void **);
static void	 test_method(void **);
static void	 test_target_chars(void **);
static void	 test_target_bytes_anywhere(void **);
static void	 test_target_forms(void **);
static void	 test_version(void **);
static void	 test_cl_te_together(void **);
static void	 test_content_length(void **);
static void	 test_transfer_encoding(void **);
static void	 test_line_syntax(void **);
static void	 test_header_values(void **);
static void	 test_header_names(void **);
static void	 test_host(void **);
static void	 test_keep_alive(void **);
static void	 test_expect_upgrade(void **);
static void	 test_limit_line(void **);
static void	 test_limit_head(void **);
static void	 test_limit_headers(void **);
static void	 test_head_end_incremental(void **);
static void	 test_head_end_slowloris(void **);
static void	 test_response_framing(void **);
static void	 test_response_errors(void **);
static void	 test_helpers(void **);

#define REJECT(raw, st)	 reject_lim(raw, sizeof(raw) - 1, &lim, st, __LINE__)
#define ACCEPT(raw, r)	 accept_lim(raw, sizeof(raw) - 1, &lim, r, __LINE__)
#define STREQ(s, lit)	 do {						\
	assert_int_equal((s).n, strlen(lit));				\
	assert_memory_equal((s).p, lit, strlen(lit));			\
} while (0)

/* printable form of raw bytes for failure messages */
static const char *
show(const char *p, size_t n)
{
	static char	 out[4096];
	size_t		 o = 0, i;

	for (i = 0; i < n && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* head_end then parse_request, as proxy-d does; -2 if incomplete */
static int
req_parse(const char *raw, size_t len, const struct http_limits *l,
    struct http_request *req, struct http_error *err)
{
	size_t	 scan = 0;
	ssize_t	 end;

	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	req->max_headers = MAXH;
	err->status = 0;
	err->reason = NULL;
	if ((end = http_head_end(raw, len, &scan, l, err)) == -1)
		return -1;
	if (end == 0)
		return -2;
	return http_parse_request(raw, (size_t)end, l, req, err);
}

static void
reject_lim(const char *raw, size_t len, const struct http_limits *l,
    int status, int line)
{
	struct http_request	 req;
	struct http_error	 err;
	int			 rc;

	rc = req_parse(raw, len, l, &req, &err);
	if (rc != -1 || err.status != status)
		fail_msg("line %d: want %d, got rc %d status %d (%s) for %s",
		    line, status, rc, err.status,
		    err.reason ? err.reason : "-", show(raw, len));
	assert_non_null(err.reason);
}

static void
accept_lim(const char *raw, size_t len, const struct http_limits *l,
    struct http_request *out, int line)
{
	struct http_request	 req;
	struct http_error	 err;
	int			 rc;

	rc = req_parse(raw, len, l, &req, &err);
	if (rc != 0)
		fail_msg("line %d: want accept, got rc %d status %d (%s) "
		    "for %s", line, rc, err.status,
		    err.reason ? err.reason : "-", show(raw, len));
	if (out != NULL)
		*out = req;
}

static int
resp_parse(const char *raw, const char *method, struct http_response *resp,
    struct http_error *err)
{
	size_t	 scan = 0;
	ssize_t	 end;

	memset(resp, 0, sizeof(*resp));
	resp->headers = hdrs;
	resp->max_headers = MAXH;
	err->status = 0;
	if ((end = http_head_end(raw, strlen(raw), &scan, &lim, err)) <= 0)
		return -2;
	return http_parse_response(raw, (size_t)end, &lim,
	    (struct str){ method, strlen(method) }, resp, err);
}

static char *
repeat(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	return dst + n;
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
setup(void **state)
{
	http_limits_default(&lim);
	return 0;
}

/* ---- the request line and a plain request ---- */

static void
test_basic_get(void **state)
{
	struct http_request	 r;

	ACCEPT("GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\n"
	    "X-Pad:   spaced value \t \r\nEmpty:\r\n\r\n", &r);
	STREQ(r.method, "GET");
	STREQ(r.target, "/a/b?c=d");
	STREQ(r.path, "/a/b?c=d");
	STREQ(r.authority, "example.com");
	assert_int_equal(r.scheme.n, 0);
	assert_int_equal(r.form, HTTP_TARGET_ORIGIN);
	assert_int_equal(r.version, 11);
	assert_int_equal(r.nheaders, 3);
	assert_int_equal(r.host_header, 0);
	STREQ(r.headers[1].name, "X-Pad");
	STREQ(r.headers[1].value, "spaced value");
	STREQ(r.headers[2].value, "");
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(r.keep_alive, 1);
	assert_int_equal(r.expect_continue, 0);
	assert_int_equal(r.upgrade, 0);

	/* an empty line before the request line is skipped (RFC 9112 2.2) */
	ACCEPT("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	STREQ(r.method, "GET");
	/* extension methods are tokens */
	ACCEPT("M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n", NULL);
	ACCEPT("PATCH /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n",
	    &r);
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 1);
}

static void
test_method(void **state)
{
	REJECT("bad_method\x01 / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET\x00 / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("\xc3\xa9T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_target_chars(void **state)
{
	struct http_request	 r;

	REJECT("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	ACCEPT("GET /%20%0D%0A HTTP/1.1\r\nHost: a\r\n\r\n", NULL);
	ACCEPT("GET /%D1%8F?q=|{}^` HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	STREQ(r.path, "/%D1%8F?q=|{}^`");
	/* raw non-ASCII (even valid UTF-8) and fragments are refused */
	REJECT("GET /\xd1\x8f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /admin/x\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a?q=\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET http://a/\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("OPTIONS \xff HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

/*
 * A byte >= 0x80 or a '#' at every offset of a long target: the word at
 * a time skip must stop for it wherever it falls.
 */
static void
test_target_bytes_anywhere(void **state)
{
	static const unsigned char bad[] = { 0x80, 0xa0, 0xc3, 0xff, '#' };
	char			 raw[256];
	struct http_request	 req;
	struct http_error	 err;
	size_t			 b, at, len;
	int			 rc;

	(void)state;
	for (b = 0; b < nitems(bad); b++)
		for (at = 1; at < 40; at++) {
			len = (size_t)snprintf(raw, sizeof(raw),
			    "GET /%.*s", (int)(at - 1),
			    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
			raw[len++] = (char)bad[b];
			len += (size_t)snprintf(raw + len, sizeof(raw) - len,
			    "0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n");
			rc = req_parse(raw, len, &lim, &req, &err);
			if (rc != -1 || err.status != 400)
				fail_msg("0x%02x at %zu: rc %d status %d",
				    bad[b], at, rc, err.status);
		}
}

static void
test_target_forms(void **state)
{
	struct http_request	 r;

	ACCEPT("GET http://example.com:8080/p?q HTTP/1.1\r\n"
	    "Host: other.example\r\n\r\n", &r);
	assert_int_equal(r.form, HTTP_TARGET_ABSOLUTE);
	STREQ(r.scheme, "http");
	STREQ(r.authority, "example.com:8080");
	STREQ(r.path, "/p?q");
	assert_int_equal(r.host_header, 0);

	ACCEPT("GET HTTPS://example.com HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	STREQ(r.scheme, "HTTPS");
	STREQ(r.authority, "example.com");
	STREQ(r.path, "/");
	ACCEPT("GET http://[::1]:80/ HTTP/1.0\r\n\r\n", &r);
	STREQ(r.authority, "[::1]:80");

	REJECT("GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	REJECT("GET http://user@example.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
	    400);
	REJECT("GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	REJECT("GET http://x?q HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	REJECT("GET http:/x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	/* absolute-form still needs a (valid) Host in HTTP/1.1 */
	REJECT("GET http://x/ HTTP/1.1\r\n\r\n", 400);
	REJECT("GET http://x/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400);

	ACCEPT("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	assert_int_equal(r.form, HTTP_TARGET_ASTERISK);
	STREQ(r.path, "*");
	REJECT("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);

	ACCEPT("CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n", &r);
	assert_int_equal(r.form, HTTP_TARGET_AUTHORITY);
	STREQ(r.authority, "example.com:443");
	assert_int_equal(r.path.n, 0);
	REJECT("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT http://a:1/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT a:1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
	    400);
}

static void
test_version(void **state)
{
	struct http_request	 r;

	ACCEPT("GET / HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.version, 10);
	assert_int_equal(r.authority.n, 0);
	assert_int_equal(r.host_header, -1);
	ACCEPT("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &r);
	assert_int_equal(r.version, 11);
	ACCEPT("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", &r);
	assert_int_equal(r.version, 11);

	REJECT("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	REJECT("PRI * HTTP/2.0\r\n\r\n", 505);
	REJECT("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
	REJECT("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
	REJECT("GET /\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / \r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\t\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/11.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/\xd9.1\r\nHost: a\r\n\r\n", 400);
}

/* ---- the smuggling shapes ---- */

static void
test_cl_te_together(void **state)
{
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
}

static void
test_content_length(void **state)
{
	struct http_request	 r;

	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  42 \r\n\r\n",
	    &r);
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 42);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 007\r\n\r\n",
	    &r);
	assert_int_equal(r.content_length, 7);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 0);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n", &r);
	assert_true(r.content_length == INT64_MAX);

	/* duplicates, same value or not, and lists */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
	    400);
	/* not plain digits */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\x01\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xd9\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\xa0\r\n\r\n",
	    400);
	/* overflow, and the signed limit */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 18446744073709551616\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 18446744073709551615\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 9223372036854775808\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 99999999999999999999999999\r\n\r\n", 400);
}

static void
test_transfer_encoding(void **state)
{
	struct http_request	 r;

	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: ChUnKeD\r\n"
	    "\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
	    "chunked\r\n\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	    "gzip;q=\"a,b\" ,\tchunked;x;y=z\r\n\r\n", NULL);

	/* final coding not chunked */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	    400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
	    "gzip\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: cow\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n"
	    "\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n"
	    "\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n"
	    "\r\n", 400);
	/* chunked twice */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,"
	    "chunked\r\n\r\n", 400);
	/* bad list syntax and bytes */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,"
	    "\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked"
	    "\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x01"
	    "\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0"
	    "chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x80"
	    "\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked "
	    "gzip\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;"
	    "=x\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;"
	    "a=\"x\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;"
	    "a=\r\n\r\n", 400);
	/* an unknown coding before chunked: framing is clear, so 501 */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: cow, chunked"
	    "\r\n\r\n", 501);
	/* no chunked in HTTP/1.0, no body on HEAD; a framed one on GET */
	REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	REJECT("HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r);
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 5);
	REJECT("HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r);
	assert_int_equal(r.content_length, 0);
	ACCEPT("DELETE / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
	    NULL);
}

static void
test_line_syntax(void **state)
{
	/* obs-fold */
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Content-Length: 5\r\n"
	    "\r\n", 400);
	/* bare LF as a line end, anywhere */
	REJECT("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\n\n", 400);
	/* bare CR */
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n\rX: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400);
	REJECT("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_header_values(void **state)
{
	struct http_request	 r;

	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00" "b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: \x1f\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: \x0b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: \x0c\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nX: \ta\tb\x80\xff\r\n\r\n", &r);
	STREQ(r.headers[1].value, "a\tb\x80\xff");
}

static void
test_header_names(void **state)
{
	struct http_request	 r;

	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\x01: z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n\x01X: z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n(X): z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\x88: z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nno-colon\r\n\r\n", 400);
	/* whitespace between name and colon (RFC 9112 5.1: MUST reject) */
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX : z\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\t: z\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
	    "\r\n", 400);
	/* framing headers in disguise */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
	    "\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer---Encoding: chunked\r\n"
	    "\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\ncontent.length: 5\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nMy_Custom_Header: x\r\n"
	    "X-Content-Length: 5\r\nContent-Lengths: 5\r\n"
	    "A!#$%&'*+-.^_`|~09: v\r\n\r\n", &r);
	assert_int_equal(r.nheaders, 5);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
}

static void
test_host(void **state)
{
	struct http_request	 r;

	REJECT("GET / HTTP/1.1\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a,b\x80\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.1\r\nHost: Example.COM:65535\r\n\r\n", &r);
	STREQ(r.authority, "Example.COM:65535");
	ACCEPT("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n", &r);
	STREQ(r.authority, "[2001:db8::1]:8080");
	ACCEPT("GET / HTTP/1.1\r\nX: 1\r\nHost: 10.0.0.1\r\n\r\n", &r);
	assert_int_equal(r.host_header, 1);
	ACCEPT("GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n", NULL);
}

static void
test_keep_alive(void **state)
{
	struct http_request	 r;

	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 1);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 0);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE"
	    "\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 0);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\n"
	    "Connection: close\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 0);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 1);
	ACCEPT("GET / HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 0);
	ACCEPT("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 1);
	ACCEPT("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &r);
	assert_int_equal(r.keep_alive, 0);
}

static void
test_expect_upgrade(void **state)
{
	struct http_request	 r;

	ACCEPT("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 3\r\n\r\n", &r);
	assert_int_equal(r.expect_continue, 1);
	REJECT("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417);
	ACCEPT("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &r);
	assert_int_equal(r.expect_continue, 0);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n", &r);
	assert_int_equal(r.upgrade, 1);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", &r);
	assert_int_equal(r.upgrade, 0);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", &r);
	assert_int_equal(r.upgrade, 0);
}

/* ---- limits ---- */

static void
test_limit_line(void **state)
{
	struct http_limits	 l = { 64, 10, 4096 };
	char			 buf[1024], *p;
	const char		*pre = "GET /", *post = " HTTP/1.1\r\n";

	/* request line of exactly max_line bytes, then one more */
	p = buf + sprintf(buf, "%s", pre);
	p = repeat(p, 'a', 64 - strlen(pre) - strlen(post) + 2);
	p += sprintf(p, "%sHost: a\r\n\r\n", post);
	accept_lim(buf, (size_t)(p - buf), &l, NULL, __LINE__);
	p = buf + sprintf(buf, "%s", pre);
	p = repeat(p, 'a', 64 - strlen(pre) - strlen(post) + 3);
	p += sprintf(p, "%sHost: a\r\n\r\n", post);
	reject_lim(buf, (size_t)(p - buf), &l, 414, __LINE__);
	/* the same, found before the line ends */
	reject_lim(buf, 65, &l, 414, __LINE__);

	/* a header line of exactly max_line bytes, then one more */
	p = buf + sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	p = repeat(p, 'v', 64 - 3);
	p += sprintf(p, "\r\n\r\n");
	accept_lim(buf, (size_t)(p - buf), &l, NULL, __LINE__);
	p = buf + sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	p = repeat(p, 'v', 64 - 2);
	p += sprintf(p, "\r\n\r\n");
	reject_lim(buf, (size_t)(p - buf), &l, 431, __LINE__);
	reject_lim(buf, 26 + 65, &l, 431, __LINE__);
}

static void
test_limit_head(void **state)
{
	struct http_limits	 l = { 8192, 100, 0 };
	struct http_request	 req;
	struct http_error	 err;
	char			 buf[512], *p;
	size_t			 len, scan = 0;

	p = buf + sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	p = repeat(p, 'v', 100);
	p += sprintf(p, "\r\n\r\n");
	len = (size_t)(p - buf);
	l.max_head = len;
	accept_lim(buf, len, &l, NULL, __LINE__);
	l.max_head = len - 1;
	reject_lim(buf, len, &l, 431, __LINE__);
	/* http_head_end refuses once max_head bytes hold no end */
	assert_int_equal(http_head_end(buf, len - 1, &scan, &l, &err), 0);
	assert_int_equal(http_head_end(buf, len, &scan, &l, &err), -1);
	assert_int_equal(err.status, 431);
	scan = 0;
	buf[len - 1] = 'x';
	assert_int_equal(http_head_end(buf, len, &scan, &l, &err), -1);
	buf[len - 1] = '\n';
	/* and the parser alone checks it too */
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = MAXH;
	assert_int_equal(http_parse_request(buf, len, &l, &req, &err), -1);
	assert_int_equal(err.status, 431);
}

static void
test_limit_headers(void **state)
{
	struct http_limits	 l = { 8192, 5, 65536 };
	struct http_request	 req;
	struct http_error	 err;
	const char		 five[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
	const char		 six[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";

	accept_lim(five, sizeof(five) - 1, &l, &req, __LINE__);
	assert_int_equal(req.nheaders, 5);
	reject_lim(six, sizeof(six) - 1, &l, 431, __LINE__);
	/* a caller's array smaller than the limit is a limit too */
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = 4;
	assert_int_equal(http_parse_request(five, sizeof(five) - 1, &l, &req,
	    &err), -1);
	assert_int_equal(err.status, 431);
}

/* ---- http_head_end as bytes trickle in ---- */

static void
test_head_end_incremental(void **state)
{
	const char	 raw[] = "\r\nPOST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5\r\n\r\nhelloGET";
	size_t		 headlen = sizeof(raw) - 1 - 8, n, cut, scan;
	struct http_error err;
	ssize_t		 r;

	/* one byte at a time */
	scan = 0;
	for (n = 1; n < headlen; n++)
		assert_int_equal(http_head_end(raw, n, &scan, &lim, &err), 0);
	assert_int_equal(http_head_end(raw, headlen, &scan, &lim, &err),
	    (ssize_t)headlen);
	/* two pieces, at every split, with the body after the head */
	for (cut = 0; cut <= headlen; cut++) {
		scan = 0;
		r = http_head_end(raw, cut, &scan, &lim, &err);
		if (cut < headlen)
			assert_int_equal(r, 0);
		r = http_head_end(raw, sizeof(raw) - 1, &scan, &lim, &err);
		assert_int_equal(r, (ssize_t)headlen);
	}
	/* a CR at the end of a read, then the wrong byte */
	scan = 0;
	assert_int_equal(http_head_end("GET / HTTP/1.1\r", 15, &scan, &lim,
	    &err), 0);
	assert_int_equal(http_head_end("GET / HTTP/1.1\rX", 16, &scan, &lim,
	    &err), -1);
	assert_int_equal(err.status, 400);
	/* a bare LF split from its line */
	scan = 0;
	assert_int_equal(http_head_end("GET / HTTP/1.1", 14, &scan, &lim,
	    &err), 0);
	assert_int_equal(http_head_end("GET / HTTP/1.1\n", 15, &scan, &lim,
	    &err), -1);
	assert_int_equal(err.status, 400);
}

/*
 * A slowloris head of 4 MB, one byte per call, must cost O(n): with a
 * rescan per call this would take hours, so a few seconds is a clear
 * verdict even under sanitizers.
 */
static void
test_head_end_slowloris(void **state)
{
	struct http_limits	 l = { 8192, 1000, 4 << 20 };
	struct http_error	 err;
	char			*buf, *p;
	size_t			 len, n, scan = 0;
	double			 t0;

	buf = malloc(l.max_head);
	assert_non_null(buf);
	p = buf + sprintf(buf, "GET / HTTP/1.1\r\n");
	while ((size_t)(p - buf) + 8192 < l.max_head - 4) {
		p += sprintf(p, "X: ");
		p = repeat(p, 'v', 8000);
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "\r\n");
	len = (size_t)(p - buf);
	t0 = now();
	for (n = 1; n < len; n++)
		if (http_head_end(buf, n, &scan, &l, &err) != 0)
			fail_msg("early end at %zu", n);
	assert_int_equal(http_head_end(buf, len, &scan, &l, &err),
	    (ssize_t)len);
	assert_true(now() - t0 < 5.0);
	free(buf);
}

/* ---- responses ---- */

static void
test_response_framing(void **state)
{
	struct http_response	 r;
	struct http_error	 err;

	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\nContent-Length: 12"
	    "\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.status, 200);
	STREQ(r.reason, "OK");
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 12);
	assert_int_equal(r.keep_alive, 1);

	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "gzip, chunked\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_CHUNKED);
	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "gzip\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_CLOSE);
	assert_int_equal(r.keep_alive, 0);
	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\n\r\n", "GET", &r,
	    &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_CLOSE);
	assert_int_equal(r.keep_alive, 0);

	/* no body whatever the headers say */
	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\nContent-Length: 12"
	    "\r\n\r\n", "HEAD", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(r.content_length, 12);
	assert_int_equal(r.keep_alive, 1);
	assert_int_equal(resp_parse("HTTP/1.1 204 No Content\r\n\r\n", "GET",
	    &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(r.keep_alive, 1);
	assert_int_equal(resp_parse("HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 99\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(resp_parse("HTTP/1.1 100 Continue\r\n\r\n", "PUT",
	    &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(resp_parse("HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n", "GET", &r,
	    &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(resp_parse("HTTP/1.1 200 Connection established\r\n"
	    "\r\n", "CONNECT", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_NONE);
	assert_int_equal(resp_parse("HTTP/1.1 407 Proxy Auth\r\n"
	    "Content-Length: 3\r\n\r\n", "CONNECT", &r, &err), 0);
	assert_int_equal(r.framing, HTTP_BODY_LENGTH);

	/* keep-alive by version */
	assert_int_equal(resp_parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
	    "\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.version, 10);
	assert_int_equal(r.keep_alive, 0);
	assert_int_equal(resp_parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
	    "Connection: keep-alive\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.keep_alive, 1);
	assert_int_equal(resp_parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Connection: close\r\n\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.keep_alive, 0);
	/* no reason phrase, with or without its SP */
	assert_int_equal(resp_parse("HTTP/1.1 200\r\nContent-Length: 0\r\n"
	    "\r\n", "GET", &r, &err), 0);
	assert_int_equal(r.reason.n, 0);
	assert_int_equal(resp_parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n"
	    "\r\n", "GET", &r, &err), 0);
}

static void
test_response_errors(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 3\r\n\r\n",
		"HTTP/1.1 204 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		    "Content-Length: 4\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		    "Content-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n"
		    "\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/1.1 600 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
	};
	struct http_response	 r;
	struct http_error	 err;
	size_t			 i;
	size_t			 scan;
	ssize_t			 end;

	for (i = 0; i < nitems(bad); i++) {
		memset(&r, 0, sizeof(r));
		r.headers = hdrs;
		r.max_headers = MAXH;
		scan = 0;
		err.status = 0;
		end = http_head_end(bad[i], strlen(bad[i]), &scan, &lim, &err);
		assert_true(end > 0);
		if (http_parse_response(bad[i], (size_t)end, &lim,
		    STR_LIT("GET"), &r, &err) != -1 || err.status != 502)
			fail_msg("accepted or wrong status %d: %s", err.status,
			    show(bad[i], strlen(bad[i])));
	}
	/* the NUL case, which strlen cuts short */
	memset(&r, 0, sizeof(r));
	r.headers = hdrs;
	r.max_headers = MAXH;
	assert_int_equal(http_parse_response("HTTP/1.1 200 OK\r\nX: \x00\r\n"
	    "\r\n", 25, &lim, STR_LIT("GET"), &r, &err), -1);
	assert_int_equal(err.status, 502);
}

/* ---- helpers ---- */

static void
test_helpers(void **state)
{
	struct http_request	 r;
	struct http_limits	 l;
	const struct http_header *h;

	http_limits_default(&l);
	assert_int_equal(l.max_line, HTTP_DEFAULT_MAX_LINE);
	assert_int_equal(l.max_headers, HTTP_DEFAULT_MAX_HEADERS);
	assert_int_equal(l.max_head, HTTP_DEFAULT_MAX_HEAD);

	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, "
	    "X-Drop ; p=\"a,b\", Host\r\nX-Drop: 1\r\nX-Keep: 2\r\n"
	    "Keep-Alive: 5\r\nTE: trailers\r\nProxy-Connection: x\r\n"
	    "Upgrade: h2c\r\nTrailer: x\r\n\r\n", &r);
	h = http_header_find(r.headers, r.nheaders, "x-KEEP");
	assert_non_null(h);
	STREQ(h->value, "2");
	assert_null(http_header_find(r.headers, r.nheaders, "x-kee"));
	assert_null(http_header_find(r.headers, r.nheaders, "x-keep2"));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "x-drop"), r.headers, r.nheaders));
	assert_false(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "x-keep"), r.headers, r.nheaders));
	/* Connection naming Host does not make Host droppable */
	assert_false(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "host"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "connection"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "keep-alive"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "te"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "proxy-connection"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "upgrade"), r.headers, r.nheaders));
	assert_true(http_is_hop_by_hop(http_header_find(r.headers,
	    r.nheaders, "trailer"), r.headers, r.nheaders));
	{
		struct http_header cl = { STR_LIT("Content-Length"),
		    STR_LIT("1") };
		struct http_header te = { STR_LIT("transfer-encoding"),
		    STR_LIT("chunked") };

		static const char *const near[] = { "tf", "trailex",
		    "upgradf", "connectioN2", "keep-alivf", "content-lengtg",
		    "proxy-connectiom", "transfer-encodinf", "t", "hosts" };
		struct http_header x = { STR_LIT("PROXY-Connection"),
		    STR_LIT("1") };
		size_t i;

		assert_true(http_is_hop_by_hop(&cl, NULL, 0));
		assert_true(http_is_hop_by_hop(&te, NULL, 0));
		assert_true(http_is_hop_by_hop(&x, NULL, 0));
		/* names of the same lengths, one letter off, go through */
		for (i = 0; i < nitems(near); i++) {
			x.name = (struct str){ near[i], strlen(near[i]) };
			assert_false(http_is_hop_by_hop(&x, NULL, 0));
		}
	}

	assert_true(http_value_has_token(STR_LIT("a, Close ,b"), "close"));
	assert_true(http_value_has_token(STR_LIT("close"), "close"));
	assert_true(http_value_has_token(STR_LIT("x;q=1, y ; q=2"), "y"));
	assert_false(http_value_has_token(STR_LIT("closed, xclose"),
	    "close"));
	assert_false(http_value_has_token(STR_LIT("x; p=\"close\""),
	    "close"));
	assert_false(http_value_has_token(STR_LIT(""), "close"));
	assert_false(http_value_has_token(STR_LIT("x;p=\"a, close"),
	    "close"));

	assert_string_equal(http_status_text(200), "OK");
	assert_string_equal(http_status_text(400), "Bad Request");
	assert_string_equal(http_status_text(414), "URI Too Long");
	assert_string_equal(http_status_text(431),
	    "Request Header Fields Too Large");
	assert_string_equal(http_status_text(505),
	    "HTTP Version Not Supported");
	assert_non_null(http_status_text(599));
	assert_non_null(http_status_text(-1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_get),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_target_chars),
		cmocka_unit_test(test_target_bytes_anywhere),
		cmocka_unit_test(test_target_forms),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_cl_te_together),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_transfer_encoding),
		cmocka_unit_test(test_line_syntax),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_expect_upgrade),
		cmocka_unit_test(test_limit_line),
		cmocka_unit_test(test_limit_head),
		cmocka_unit_test(test_limit_headers),
		cmocka_unit_test(test_head_end_incremental),
		cmocka_unit_test(test_head_end_slowloris),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_response_errors),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
