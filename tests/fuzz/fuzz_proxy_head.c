/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for proxy-d's head writer (cmd/proxy-d/head.c, linked
 * in by the Makefile's FUZZ_SRCS_fuzz_proxy_head).  The first three input
 * bytes choose the writer's options (attempt count, request id, mirror,
 * keep-alive) and where the request ends and the response begins; the
 * rest is a request head and a response head.  Whatever the parser
 * accepts, the writer must:
 *
 * - write within the room its *_need reported (the buffer is exactly
 *   that long: ASan sees one byte more);
 * - write a head that parses again, with the same method, status and
 *   framing, and the same Content-Length, to the last digit (a length
 *   written wrong is a desync between proxy-d and the next hop).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"
#include "http.h"

#define MAXH	128

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_request(const char *, size_t, uint8_t);
static void	check_response(const char *, size_t, const char *, size_t,
		    uint8_t);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static struct http_limits	 lim;

static void
check_request(const char *raw, size_t len, uint8_t opt)
{
	struct http_header	 hdrs[MAXH], again_hdrs[MAXH + 8];
	struct http_request	 req, again;
	struct http_limits	 wide;
	struct http_error	 err;
	struct head_request	 in;
	size_t			 need;
	char			*out, *end;

	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = MAXH;
	if (http_parse_request(raw, len, &lim, &req, &err) != 0)
		return;
	memset(&in, 0, sizeof(in));
	in.req = &req;
	in.headlen = len;
	in.client_ip = (opt & 1) ? "10.1.2.3" : "2001:db8::1";
	in.request_id = (opt & 2) ? "" : "f00d-id";
	in.attempt = (opt >> 2) & 3;
	/* a mirror's copy is made for a routed request: it has a host
	   (head_request_put's memchr on an empty host is undefined) */
	in.mirror = ((opt >> 4) & 1) && req.authority.n > 0;
	need = head_request_need(&in);
	out = malloc(need);
	CHECK(out != NULL);
	end = head_request_put(&in, out);
	CHECK(end >= out && (size_t)(end - out) <= need);

	wide = lim;
	wide.max_head = need + 4;
	wide.max_headers = MAXH + 8;
	memset(&again, 0, sizeof(again));
	again.headers = again_hdrs;
	again.max_headers = MAXH + 8;
	CHECK(http_parse_request(out, (size_t)(end - out), &wide, &again,
	    &err) == 0);
	CHECK(again.method.n == req.method.n &&
	    memcmp(again.method.p, req.method.p, req.method.n) == 0);
	CHECK(again.framing == req.framing);
	if (req.framing == HTTP_BODY_LENGTH)
		CHECK(again.content_length == req.content_length);
	free(out);
}

static void
check_response(const char *raw, size_t len, const char *method,
    size_t mlen, uint8_t opt)
{
	struct http_header	 hdrs[MAXH], again_hdrs[MAXH + 8];
	struct http_response	 resp, again;
	struct http_limits	 wide;
	struct http_error	 err;
	struct head_response	 in;
	struct str		 m = { method, mlen };
	size_t			 need;
	char			*out, *end;

	memset(&resp, 0, sizeof(resp));
	resp.headers = hdrs;
	resp.max_headers = MAXH;
	if (http_parse_response(raw, len, &lim, m, &resp, &err) != 0)
		return;
	memset(&in, 0, sizeof(in));
	in.resp = &resp;
	in.headlen = len;
	in.request_version = (opt & 0x20) ? 10 : 11;
	in.keep_alive = (opt >> 6) & 1;
	need = head_response_need(&in);
	out = malloc(need);
	CHECK(out != NULL);
	end = head_response_put(&in, out);
	CHECK(end >= out && (size_t)(end - out) <= need);

	wide = lim;
	wide.max_head = need + 4;
	wide.max_headers = MAXH + 8;
	memset(&again, 0, sizeof(again));
	again.headers = again_hdrs;
	again.max_headers = MAXH + 8;
	CHECK(http_parse_response(out, (size_t)(end - out), &wide, m, &again,
	    &err) == 0);
	CHECK(again.status == resp.status);
	CHECK(again.framing == resp.framing);
	if (resp.framing == HTTP_BODY_LENGTH)
		CHECK(again.content_length == resp.content_length);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header	 hdrs[MAXH];
	struct http_request	 req;
	struct http_error	 err;
	const char		*method = "GET";
	size_t			 split, mlen = 3;
	uint8_t			 opt;
	char			*buf, *resp;

	if (size < 3)
		return 0;
	http_limits_default(&lim);
	lim.max_headers = MAXH;
	opt = data[0];
	split = ((size_t)data[1] << 8 | data[2]);
	data += 3;
	size -= 3;
	if (split > size)
		split = size;
	/* each part a copy of its own size: a read past its end is seen */
	if ((buf = malloc(split + 1)) == NULL)
		return 0;
	memcpy(buf, data, split);
	check_request(buf, split, opt);
	/* the response answers the request's method, when it parses */
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = MAXH;
	if (http_parse_request(buf, split, &lim, &req, &err) == 0) {
		method = req.method.p;
		mlen = req.method.n;
	}
	if ((resp = malloc(size - split + 1)) != NULL) {
		memcpy(resp, data + split, size - split);
		check_response(resp, size - split, method, mlen, opt);
		free(resp);
	}
	free(buf);
	return 0;
}
