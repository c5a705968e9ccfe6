/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for lib/http.c.  The first four input bytes choose
 * the limits, the request method a response answers, and the split
 * points; the rest is the message.  Besides running the parsers under
 * ASan and UBSan it checks properties that must hold for any input:
 *
 * - http_head_end() fed the bytes in pieces finds the same end as when
 *   fed them at once (or both refuse);
 * - http_chunked_feed() in pieces claims the same bytes as at once;
 * - http_chunked_step() claims the same bytes as http_chunked_feed(),
 *   in parts whose data adds up to the chunk sizes, and what a proxy
 *   frames anew from them is itself a whole chunked body;
 * - what http_parse_request() accepts points into the buffer, holds only
 *   valid bytes and has consistent framing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MAXH	64
#define NCUTS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t	 next(uint32_t *);
static void	 cuts_make(uint32_t *, size_t, size_t *, size_t);
static ssize_t	 head_pieces(const char *, size_t, const size_t *, size_t,
		    const struct http_limits *, struct http_error *);
static ssize_t	 chunked_pieces(const char *, size_t, const size_t *,
		    size_t, const struct http_limits *, int *);
static ssize_t	 chunked_steps(const char *, size_t, const size_t *, size_t,
		    const struct http_limits *, int *, char **, size_t *);
static void	 check_str(struct str, const char *, size_t);
static void	 check_request(const struct http_request *, const char *,
		    size_t, const struct http_limits *);
static void	 check_chunked(const char *, size_t, uint32_t *,
		    const struct http_limits *);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ncuts ascending offsets in [0, len] */
static void
cuts_make(uint32_t *seed, size_t len, size_t *cuts, size_t ncuts)
{
	size_t	 i, j, t;

	for (i = 0; i < ncuts; i++)
		cuts[i] = len == 0 ? 0 : next(seed) % (len + 1);
	for (i = 1; i < ncuts; i++)
		for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			t = cuts[j];
			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
}

/* The buffer grows to each cut in turn, as a socket would fill it. */
static ssize_t
head_pieces(const char *buf, size_t len, const size_t *cuts, size_t ncuts,
    const struct http_limits *l, struct http_error *err)
{
	size_t	 scan = 0, i;
	ssize_t	 r;

	for (i = 0; i < ncuts; i++)
		if ((r = http_head_end(buf, cuts[i], &scan, l, err)) != 0)
			return r;
	return http_head_end(buf, len, &scan, l, err);
}

static ssize_t
chunked_pieces(const char *buf, size_t len, const size_t *cuts,
    size_t ncuts, const struct http_limits *l, int *done)
{
	struct http_chunked	 c;
	struct http_error	 err;
	size_t			 from = 0, to, i;
	ssize_t			 n, total = 0;

	http_chunked_init(&c, l);
	*done = 0;
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		n = http_chunked_feed(&c, buf + from, to - from, done, &err);
		if (n == -1) {
			CHECK(err.status >= 400 && err.status <= 599);
			return -1;
		}
		CHECK((size_t)n <= to - from);
		total += n;
		if (*done)
			return total;
		CHECK((size_t)n == to - from);
		from = to;
	}
	return total;
}

/*
 * The body fed to http_chunked_step in pieces, framed anew as proxy-d
 * does (data in plain-hex chunks, "0" then the trailers).  Returns what
 * was claimed, or -1; the new body in *out (malloc'd).
 */
static ssize_t
chunked_steps(const char *buf, size_t len, const size_t *cuts,
    size_t ncuts, const struct http_limits *l, int *done, char **out,
    size_t *outlen)
{
	struct http_chunked	 c;
	struct http_error	 err;
	enum http_chunked_part	 part;
	size_t			 from = 0, to, i, cap = 2 * len + 256, n = 0;
	ssize_t			 r, total = 0;
	char			*o = malloc(cap);
	int			 trailer = 0;

	http_chunked_init(&c, l);
	*done = 0;
	for (i = 0; i <= ncuts && !*done; i++) {
		to = i < ncuts ? cuts[i] : len;
		while (from < to && !*done) {
			r = http_chunked_step(&c, buf + from, to - from, &part,
			    done, &err);
			if (r == -1) {
				free(o);
				return -1;
			}
			CHECK((size_t)r <= to - from);
			if (r == 0)
				break;
			if (part == HTTP_CHUNKED_DATA)
				n += (size_t)snprintf(o + n, cap - n, "%zx\r\n",
				    (size_t)r);
			if (part == HTTP_CHUNKED_TRAILER && !trailer) {
				memcpy(o + n, "0\r\n", 3);
				n += 3;
				trailer = 1;
			}
			if (part != HTTP_CHUNKED_FRAMING) {
				memcpy(o + n, buf + from, (size_t)r);
				n += (size_t)r;
			}
			if (part == HTTP_CHUNKED_DATA) {
				memcpy(o + n, "\r\n", 2);
				n += 2;
			}
			CHECK(n < cap);
			from += (size_t)r;
			total += r;
		}
		if (from < to && !*done)
			break;
	}
	*out = o;
	*outlen = n;
	return total;
}

static void
check_str(struct str s, const char *buf, size_t len)
{
	if (s.n == 0)
		return;
	CHECK(s.p != NULL);
	if (s.n == 1 && s.p[0] == '/')
		return;		/* the "/" given to "http://host" */
	CHECK(s.p >= buf && s.p + s.n <= buf + len);
}

static void
check_request(const struct http_request *r, const char *buf, size_t len,
    const struct http_limits *l)
{
	size_t	 i, j;

	CHECK(r->version == 10 || r->version == 11);
	CHECK(r->nheaders <= l->max_headers && r->nheaders <= MAXH);
	CHECK(r->method.n > 0 && r->target.n > 0);
	check_str(r->method, buf, len);
	check_str(r->target, buf, len);
	check_str(r->scheme, buf, len);
	check_str(r->authority, buf, len);
	check_str(r->path, buf, len);
	for (i = 0; i < r->target.n; i++)
		CHECK((unsigned char)r->target.p[i] > 0x20 &&
		    (unsigned char)r->target.p[i] < 0x7f &&
		    r->target.p[i] != '#');
	for (i = 0; i < r->nheaders; i++) {
		check_str(r->headers[i].name, buf, len);
		check_str(r->headers[i].value, buf, len);
		CHECK(r->headers[i].name.n > 0);
		for (j = 0; j < r->headers[i].value.n; j++) {
			unsigned char c = (unsigned char)
			    r->headers[i].value.p[j];

			CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
	}
	if (r->version == 11)
		CHECK(r->host_header >= 0);
	switch (r->framing) {
	case HTTP_BODY_NONE:
		CHECK(http_header_find(r->headers, r->nheaders,
		    "content-length") == NULL);
		CHECK(http_header_find(r->headers, r->nheaders,
		    "transfer-encoding") == NULL);
		break;
	case HTTP_BODY_LENGTH:
		CHECK(r->content_length <= INT64_MAX);
		CHECK(http_header_find(r->headers, r->nheaders,
		    "transfer-encoding") == NULL);
		break;
	case HTTP_BODY_CHUNKED:
		CHECK(r->version == 11);
		CHECK(http_header_find(r->headers, r->nheaders,
		    "content-length") == NULL);
		break;
	default:
		CHECK(0);
	}
	if (r->form == HTTP_TARGET_ORIGIN)
		CHECK(r->path.n > 0 && r->path.p[0] == '/');
}

/* the same bytes, split two ways, must be judged the same */
static void
check_chunked(const char *buf, size_t len, uint32_t *seed,
    const struct http_limits *l)
{
	size_t	 cuts[NCUTS];
	ssize_t	 whole, pieces;
	int	 done_whole, done_pieces;

	whole = chunked_pieces(buf, len, NULL, 0, l, &done_whole);
	cuts_make(seed, len, cuts, NCUTS);
	pieces = chunked_pieces(buf, len, cuts, NCUTS, l, &done_pieces);
	CHECK(whole == pieces);
	CHECK(whole == -1 || done_whole == done_pieces);
	{
		char	*re;
		size_t	 relen;
		ssize_t	 steps, again;
		int	 done_steps, done_again;

		steps = chunked_steps(buf, len, cuts, NCUTS, l, &done_steps,
		    &re, &relen);
		CHECK(steps == whole);
		if (steps == -1)
			return;
		CHECK(done_steps == done_whole);
		/* the new framing is a body of its own, read whole */
		if (done_steps) {
			again = chunked_pieces(re, relen, NULL, 0, l,
			    &done_again);
			CHECK(again == (ssize_t)relen && done_again);
		}
		free(re);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_header	 hdrs[MAXH];
	static const char *const	 methods[] = {
		"GET", "HEAD", "CONNECT", "POST",
	};
	struct http_limits	 l;
	struct http_request	 req;
	struct http_response	 resp;
	struct http_error	 err, err2;
	const char		*buf;
	size_t			 len, cuts[NCUTS];
	ssize_t			 whole, pieces;
	uint32_t		 seed;

	if (size < 4)
		return 0;
	seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
	    (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	seed |= 1;
	buf = (const char *)data + 4;
	len = size - 4;

	http_limits_default(&l);
	if (data[0] & 1) {
		/* small limits, so that inputs reach them */
		l.max_line = 8 + data[1] % 64;
		l.max_headers = data[2] % 8;
		l.max_head = 16 + data[3] % 200;
	}

	/* the head end, at once and in pieces */
	whole = http_head_end(buf, len, &(size_t){ 0 }, &l, &err);
	cuts_make(&seed, len, cuts, NCUTS);
	pieces = head_pieces(buf, len, cuts, NCUTS, &l, &err2);
	CHECK(whole == pieces || (whole == -1 && pieces == -1));
	if (whole == -1)
		CHECK(err.status >= 400 && err.status <= 599 &&
		    err.reason != NULL);
	CHECK(whole <= (ssize_t)len && (whole <= 0 ||
	    (size_t)whole <= l.max_head));

	if (whole > 0) {
		memset(&req, 0, sizeof(req));
		req.headers = hdrs;
		req.max_headers = MAXH;
		if (http_parse_request(buf, (size_t)whole, &l, &req,
		    &err) == 0) {
			check_request(&req, buf, (size_t)whole, &l);
			if (req.framing == HTTP_BODY_CHUNKED)
				check_chunked(buf + whole, len - (size_t)whole,
				    &seed, &l);
		} else
			CHECK(err.status >= 400 && err.status <= 599);

		memset(&resp, 0, sizeof(resp));
		resp.headers = hdrs;
		resp.max_headers = MAXH;
		if (http_parse_response(buf, (size_t)whole, &l,
		    (struct str){ methods[data[1] & 3],
		    strlen(methods[data[1] & 3]) }, &resp, &err) == 0) {
			CHECK(resp.status >= 100 && resp.status <= 599);
			CHECK(resp.nheaders <= l.max_headers);
			if (resp.framing == HTTP_BODY_CHUNKED)
				check_chunked(buf + whole, len - (size_t)whole,
				    &seed, &l);
		} else
			CHECK(err.status == 502);
	}

	/* the parsers must also survive buffers that skipped head_end */
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = MAXH;
	if (http_parse_request(buf, len, &l, &req, &err) == 0)
		check_request(&req, buf, len, &l);

	/* and the whole input as a chunked body */
	check_chunked(buf, len, &seed, &l);
	return 0;
}
