/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of proxy-d's head writer (cmd/proxy-d/head.c, linked in by
 * the Makefile's TEST_OBJS_test_proxy_head): request heads as they go
 * upstream, response heads as they go to the client, proxy-d's own
 * answers, redirects and CORS preflights, each written whole into
 * exactly the room its *_need reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "head.h"
#include "http.h"

#define MAXH	64
#define GUARD	0x5a

static struct http_header	 hdrs[MAXH];
static struct http_header	 rhdrs[MAXH];
static struct http_limits	 lim;
static char			 out[65536];

static void	parse_req(const char *, struct http_request *);
static void	parse_resp(const char *, const char *, struct http_response *);
static const char *write_req(const struct head_request *);
static const char *write_resp(const struct head_response *);
static void	init_in(struct head_request *, const struct http_request *,
		    const char *);
static void	test_request_basic(void **);
static void	test_request_hop_by_hop(void **);
static void	test_request_framing(void **);
static void	test_request_policy(void **);
static void	test_request_ops(void **);
static void	test_request_mirror(void **);
static void	test_request_version10(void **);
static void	test_request_get_body(void **);
static void	test_response(void **);
static void	test_response_cors(void **);
static void	test_local(void **);
static void	test_redirect(void **);
static void	test_cors_preflight(void **);
static void	test_put_u64(void **);
static void	test_te_codings(void **);
static void	test_response_codings(void **);
static int	setup(void **);

static void
parse_req(const char *raw, struct http_request *req)
{
	struct http_error	 err = { 0, NULL };

	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	req->max_headers = MAXH;
	if (http_parse_request(raw, strlen(raw), &lim, req, &err) != 0)
		fail_msg("parse: %s", err.reason);
}

static void
parse_resp(const char *raw, const char *method, struct http_response *r)
{
	struct http_error	 err = { 0, NULL };

	memset(r, 0, sizeof(*r));
	r->headers = rhdrs;
	r->max_headers = MAXH;
	if (http_parse_response(raw, strlen(raw), &lim,
	    (struct str){ method, strlen(method) }, r, &err) != 0)
		fail_msg("parse response: %s", err.reason);
}

/*
 * Writes into out with a guard byte right after the room need reported:
 * a writer that goes past its need is caught.
 */
static const char *
write_req(const struct head_request *in)
{
	size_t	 need = head_request_need(in);
	char	*end;

	assert_true(need + 1 < sizeof(out));
	memset(out, GUARD, sizeof(out));
	end = head_request_put(in, out);
	assert_true((size_t)(end - out) <= need);
	assert_int_equal((unsigned char)out[need], GUARD);
	*end = '\0';
	return out;
}

static const char *
write_resp(const struct head_response *in)
{
	size_t	 need = head_response_need(in);
	char	*end;

	assert_true(need + 1 < sizeof(out));
	memset(out, GUARD, sizeof(out));
	end = head_response_put(in, out);
	assert_true((size_t)(end - out) <= need);
	assert_int_equal((unsigned char)out[need], GUARD);
	*end = '\0';
	return out;
}

static void
init_in(struct head_request *in, const struct http_request *req,
    const char *raw)
{
	memset(in, 0, sizeof(*in));
	in->req = req;
	in->headlen = strlen(raw);
	in->client_ip = "10.0.0.7";
	in->request_id = "";
}

static void
test_request_basic(void **state)
{
	static const char raw[] = "GET /a?b=1 HTTP/1.1\r\nHost: book\r\n"
	    "Accept: */*\r\nx-request-id: abc\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	parse_req(raw, &req);
	init_in(&in, &req, raw);
	assert_string_equal(write_req(&in), "GET /a?b=1 HTTP/1.1\r\n"
	    "Host: book\r\nAccept: */*\r\nx-request-id: abc\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n\r\n");

	/* an id made by proxy-d, an x-forwarded-for that grows */
	{
		static const char raw2[] = "GET / HTTP/1.1\r\nHost: b\r\n"
		    "X-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2"
		    "\r\n\r\n";

		parse_req(raw2, &req);
		init_in(&in, &req, raw2);
		in.request_id = "id-1";
		assert_string_equal(write_req(&in), "GET / HTTP/1.1\r\n"
		    "Host: b\r\nx-forwarded-for: 1.1.1.1, 2.2.2.2, 10.0.0.7"
		    "\r\nx-request-id: id-1\r\n\r\n");
	}
}

static void
test_request_hop_by_hop(void **state)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: b\r\n"
	    "Connection: keep-alive, x-secret\r\nKeep-Alive: 5\r\n"
	    "x-secret: 1\r\nTE: trailers\r\nProxy-Authorization: Basic x"
	    "\r\nUpgrade: h2c\r\nx-keep: 2\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	parse_req(raw, &req);
	init_in(&in, &req, raw);
	assert_string_equal(write_req(&in), "GET / HTTP/1.1\r\nHost: b\r\n"
	    "x-keep: 2\r\nx-forwarded-for: 10.0.0.7\r\n\r\n");
}

static void
test_request_framing(void **state)
{
	static const char big[] = "POST / HTTP/1.1\r\nHost: b\r\n"
	    "Content-Length: 10000000000000\r\n\r\n";
	static const char max[] = "POST / HTTP/1.1\r\nHost: b\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n";
	static const char te[] = "POST / HTTP/1.1\r\nHost: b\r\n"
	    "Transfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	/* 10^13 and 2^63-1: the number whole, nothing after the head */
	parse_req(big, &req);
	init_in(&in, &req, big);
	assert_string_equal(write_req(&in), "POST / HTTP/1.1\r\nHost: b\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n"
	    "Content-Length: 10000000000000\r\n\r\n");
	parse_req(max, &req);
	init_in(&in, &req, max);
	assert_string_equal(write_req(&in), "POST / HTTP/1.1\r\nHost: b\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n");
	/* the codings before chunked are the message's: kept, joined */
	parse_req(te, &req);
	init_in(&in, &req, te);
	assert_string_equal(write_req(&in), "POST / HTTP/1.1\r\nHost: b\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n");
}

static void
test_request_policy(void **state)
{
	static const char raw[] = "GET http://Book:9080/old HTTP/1.1\r\n"
	    "Host: book:9080\r\nx-drop: 1\r\nx-set: old\r\n"
	    "x-envoy-attempt-count: 9\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;
	struct route_policy	 pol;

	memset(&pol, 0, sizeof(pol));
	strcpy(pol.rewrite_path, "/new");
	pol.headers[0] = (struct route_header_op){ ROUTE_REQUEST_REMOVE,
	    "x-drop", "" };
	pol.headers[1] = (struct route_header_op){ ROUTE_REQUEST_SET,
	    "x-set", "new" };
	pol.headers[2] = (struct route_header_op){ ROUTE_REQUEST_ADD,
	    "x-add", "a" };
	pol.headers[3] = (struct route_header_op){ ROUTE_RESPONSE_SET,
	    "x-resp", "r" };
	pol.nheaders = 4;
	parse_req(raw, &req);
	init_in(&in, &req, raw);
	in.policy = &pol;
	in.attempt = 2;
	/* absolute form: Host from the target; the attempt count is ours */
	assert_string_equal(write_req(&in), "GET /new HTTP/1.1\r\n"
	    "Host: Book:9080\r\nx-forwarded-for: 10.0.0.7\r\n"
	    "x-set: new\r\nx-add: a\r\nx-envoy-attempt-count: 2\r\n\r\n");

	strcpy(pol.rewrite_authority, "other:81");
	assert_string_equal(write_req(&in), "GET /new HTTP/1.1\r\n"
	    "Host: other:81\r\nx-forwarded-for: 10.0.0.7\r\n"
	    "x-set: new\r\nx-add: a\r\nx-envoy-attempt-count: 2\r\n\r\n");
}

static void
test_request_ops(void **state)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: b\r\n"
	    "x-user: mallory\r\nX-User: eve\r\ntraceparent: 00-old\r\n"
	    "x-auth: t\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;
	struct head_op		 authz[3] = {
		{ 0, 0, "x-user", 6, "alice", 5 },
		{ 1, 0, "x-auth", 6, "", 0 },
		{ 0, 0, "x-user", 6, "bob", 3 },
	};
	struct head_op		 extra[1] = {
		{ 0, 0, "traceparent", 11, "00-new", 6 },
	};
	size_t			 alen, xlen;

	alen = head_ops_finish(authz, 3);
	xlen = head_ops_finish(extra, 1);
	/* the last operation on a name counts: bob, not alice */
	assert_int_equal(authz[0].last, 0);
	assert_int_equal(authz[2].last, 1);
	assert_int_equal(alen, strlen("x-user: bob\r\n"));
	parse_req(raw, &req);
	init_in(&in, &req, raw);
	in.authz = (struct head_ops){ authz, 3, alen };
	in.extra = (struct head_ops){ extra, 1, xlen };
	assert_string_equal(write_req(&in), "GET / HTTP/1.1\r\nHost: b\r\n"
	    "x-forwarded-for: 10.0.0.7\r\nx-user: bob\r\n"
	    "traceparent: 00-new\r\n\r\n");
}

static void
test_request_mirror(void **state)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: rating:9080\r\n\r\n";
	static const char raw6[] = "GET / HTTP/1.1\r\nHost: [::1]:9080\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	parse_req(raw, &req);
	init_in(&in, &req, raw);
	in.mirror = 1;
	in.attempt = 3;		/* never on a mirror */
	assert_string_equal(write_req(&in), "GET / HTTP/1.1\r\n"
	    "Connection: close\r\nHost: rating-shadow:9080\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n\r\n");
	parse_req(raw6, &req);
	init_in(&in, &req, raw6);
	in.mirror = 1;
	assert_string_equal(write_req(&in), "GET / HTTP/1.1\r\n"
	    "Connection: close\r\nHost: [::1]-shadow:9080\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n\r\n");
}

static void
test_request_get_body(void **state)
{
	static const char get[] = "GET /_search HTTP/1.1\r\nHost: b\r\n"
	    "Content-Length: 2\r\n\r\n";
	static const char get0[] = "GET / HTTP/1.1\r\nHost: b\r\n"
	    "Content-Length: 0\r\n\r\n";
	static const char del[] = "DELETE /x HTTP/1.0\r\nHost: b\r\n"
	    "Content-Length: 1\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	/* forwarded, asking the upstream to close after it */
	parse_req(get, &req);
	assert_int_equal(head_body_closes(&req), 1);
	init_in(&in, &req, get);
	assert_string_equal(write_req(&in), "GET /_search HTTP/1.1\r\n"
	    "Connection: close\r\nHost: b\r\nx-forwarded-for: 10.0.0.7\r\n"
	    "Content-Length: 2\r\n\r\n");
	parse_req(del, &req);
	init_in(&in, &req, del);
	assert_string_equal(write_req(&in), "DELETE /x HTTP/1.0\r\n"
	    "Connection: close\r\nHost: b\r\nx-forwarded-for: 10.0.0.7\r\n"
	    "Content-Length: 1\r\n\r\n");
	/* an empty body is no body */
	parse_req(get0, &req);
	assert_int_equal(head_body_closes(&req), 0);
}

static void
test_request_version10(void **state)
{
	static const char raw[] = "GET / HTTP/1.0\r\nHost: b\r\n\r\n";
	struct http_request	 req;
	struct head_request	 in;

	parse_req(raw, &req);
	init_in(&in, &req, raw);
	assert_string_equal(write_req(&in), "GET / HTTP/1.0\r\n"
	    "Connection: keep-alive\r\nHost: b\r\n"
	    "x-forwarded-for: 10.0.0.7\r\n\r\n");
}

static void
test_response(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Connection: x-hop\r\nx-hop: 1\r\nServer: s\r\n\r\n";
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "\r\n";
	static const char chunked[] = "HTTP/1.1 201 Created\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	static const char big[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 10000000000000\r\n\r\n";
	struct http_response	 r;
	struct head_response	 in;
	struct route_policy	 pol;

	parse_resp(ok, "GET", &r);
	memset(&in, 0, sizeof(in));
	in.resp = &r;
	in.headlen = strlen(ok);
	in.request_version = 11;
	in.keep_alive = 1;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Server: s\r\nContent-Length: 5\r\n\r\n");
	in.keep_alive = 0;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Server: s\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
	in.keep_alive = 1;
	in.request_version = 10;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Server: s\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
	    "\r\n");

	/* HEAD: the length is information, passed as it came */
	parse_resp(head, "HEAD", &r);
	in.resp = &r;
	in.headlen = strlen(head);
	in.request_version = 11;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5\r\n\r\n");

	parse_resp(chunked, "POST", &r);
	in.resp = &r;
	in.headlen = strlen(chunked);
	memset(&pol, 0, sizeof(pol));
	pol.headers[0] = (struct route_header_op){ ROUTE_RESPONSE_SET,
	    "x-resp", "r" };
	pol.headers[1] = (struct route_header_op){ ROUTE_REQUEST_SET,
	    "x-req", "q" };
	pol.nheaders = 2;
	in.policy = &pol;
	assert_string_equal(write_resp(&in), "HTTP/1.1 201 Created\r\n"
	    "x-resp: r\r\nTransfer-Encoding: chunked\r\n\r\n");
	in.policy = NULL;

	parse_resp(big, "GET", &r);
	in.resp = &r;
	in.headlen = strlen(big);
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 10000000000000\r\n\r\n");
}

static void
test_response_cors(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Access-Control-Allow-Origin: *\r\n\r\n";
	struct http_response	 r;
	struct head_response	 in;
	struct route_policy	 pol;

	memset(&pol, 0, sizeof(pol));
	pol.cors = 1;
	pol.cors_credentials = 1;
	strcpy(pol.cors_expose_headers, "x-a");
	parse_resp(ok, "GET", &r);
	memset(&in, 0, sizeof(in));
	in.resp = &r;
	in.headlen = strlen(ok);
	in.request_version = 11;
	in.keep_alive = 1;
	in.policy = &pol;
	in.cors_origin = STR_LIT("https://x.example");
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "access-control-allow-origin: https://x.example\r\n"
	    "access-control-allow-credentials: true\r\n"
	    "access-control-expose-headers: x-a\r\n"
	    "Content-Length: 0\r\n\r\n");
}

static void
test_local(void **state)
{
	struct head_local	 in;
	size_t			 need;
	char			*end;

	memset(&in, 0, sizeof(in));
	in.status = 503;
	in.content_type = "text/plain";
	in.bodylen = 12;
	in.flags = "UF";
	in.request_id = STR_LIT("r1");
	in.close = 1;
	need = head_local_need(&in);
	memset(out, GUARD, sizeof(out));
	end = head_local_put(&in, out);
	assert_true((size_t)(end - out) <= need);
	*end = '\0';
	assert_string_equal(out, "HTTP/1.1 503 Service Unavailable\r\n"
	    "content-type: text/plain\r\ncontent-length: 12\r\n"
	    "x-meshkit-flags: UF\r\nx-request-id: r1\r\n"
	    "connection: close\r\n\r\n");

	memset(&in, 0, sizeof(in));
	in.status = 301;
	in.location = STR_LIT("http://b/x");
	in.extra = STR_LIT("x-e: 1\r\n");
	end = head_local_put(&in, out);
	assert_true((size_t)(end - out) <= head_local_need(&in));
	*end = '\0';
	assert_string_equal(out, "HTTP/1.1 301 Moved Permanently\r\n"
	    "content-length: 0\r\nlocation: http://b/x\r\nx-e: 1\r\n\r\n");
}

static void
test_redirect(void **state)
{
	static const char raw[] = "GET /p?q HTTP/1.1\r\n"
	    "Host: book:9080\r\n\r\n";
	static const char raw6[] = "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n";
	struct http_request	 req;
	struct route_policy	 pol;
	char			 buf[256], small[8], *longuri;
	size_t			 n;

	memset(&pol, 0, sizeof(pol));
	pol.redirect_code = 301;
	parse_req(raw, &req);
	n = head_redirect(&req, &pol, buf, sizeof(buf));
	assert_string_equal(buf, "http://book:9080/p?q");
	assert_int_equal(n, strlen(buf) + 1);

	strcpy(pol.redirect_scheme, "https");
	strcpy(pol.redirect_authority, "new.example");
	pol.redirect_port = 8443;
	strcpy(pol.redirect_uri, "/moved");
	head_redirect(&req, &pol, buf, sizeof(buf));
	assert_string_equal(buf, "https://new.example:8443/moved");

	/* too small: nothing written, the room needed said */
	small[0] = 'x';
	n = head_redirect(&req, &pol, small, sizeof(small));
	assert_int_equal(n, strlen("https://new.example:8443/moved") + 1);
	assert_int_equal(small[0], 'x');

	/* an IPv6 host keeps its brackets */
	memset(&pol, 0, sizeof(pol));
	strcpy(pol.redirect_uri, "/v6");
	parse_req(raw6, &req);
	head_redirect(&req, &pol, buf, sizeof(buf));
	assert_string_equal(buf, "http://[::1]:80/v6");

	/* a path longer than any fixed buffer: the room is asked for */
	longuri = malloc(5000 + 64);
	memcpy(longuri, "GET /", 5);
	memset(longuri + 5, 'a', 5000);
	strcpy(longuri + 5005, " HTTP/1.1\r\nHost: b\r\n\r\n");
	lim.max_line = 8192;
	parse_req(longuri, &req);
	memset(&pol, 0, sizeof(pol));
	n = head_redirect(&req, &pol, buf, sizeof(buf));
	assert_int_equal(n, strlen("http://b/") + 5000 + 1);
	free(longuri);
}

static void
test_cors_preflight(void **state)
{
	struct route_policy	 pol;
	char			 buf[1024];
	size_t			 n;

	memset(&pol, 0, sizeof(pol));
	strcpy(pol.cors_methods, "GET, POST");
	strcpy(pol.cors_allow_headers, "x-a");
	pol.cors_max_age_ms = 86400000;
	pol.cors_credentials = 1;
	n = head_cors_preflight(&pol, STR_LIT("https://o"), buf, sizeof(buf));
	assert_string_equal(buf, "access-control-allow-origin: https://o\r\n"
	    "access-control-allow-methods: GET, POST\r\n"
	    "access-control-allow-headers: x-a\r\n"
	    "access-control-max-age: 86400\r\n"
	    "access-control-allow-credentials: true\r\n");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(head_cors_preflight(&pol, STR_LIT("https://o"), buf,
	    10), 0);
}

static void
test_put_u64(void **state)
{
	char	 buf[32], *e;

	e = util_put_u64(buf, 0);
	*e = '\0';
	assert_string_equal(buf, "0");
	e = util_put_u64(buf, UINT64_MAX);
	*e = '\0';
	assert_string_equal(buf, "18446744073709551615");
	e = head_put_hex(buf, 0);
	*e = '\0';
	assert_string_equal(buf, "0");
	e = head_put_hex(buf, 0x4e);
	*e = '\0';
	assert_string_equal(buf, "4e");
	e = head_put_hex(buf, UINT64_MAX);
	*e = '\0';
	assert_string_equal(buf, "ffffffffffffffff");
}

static void
test_te_codings(void **state)
{
	struct http_header	 h[3] = {
		{ STR_LIT("Transfer-Encoding"), STR_LIT("chunked") },
		{ STR_LIT("x"), STR_LIT("gzip") },
		{ STR_LIT("transfer-encoding"), STR_LIT(" Chunked ,chunked") },
	};

	assert_int_equal(head_te_codings(h, 3), 0);
	h[2].value = STR_LIT("gzip, chunked");
	assert_int_equal(head_te_codings(h, 3), 1);
	h[0].value = STR_LIT("gzip");
	assert_int_equal(head_te_codings(h, 1), 1);
	assert_int_equal(head_te_codings(h + 1, 1), 0);
}

static void
test_response_codings(void **state)
{
	static const char gz[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n";
	static const char ch[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n";
	struct http_response	 r;
	struct head_response	 in;

	/* framed by the close, the coding still goes with the body */
	parse_resp(gz, "GET", &r);
	memset(&in, 0, sizeof(in));
	in.resp = &r;
	in.headlen = strlen(gz);
	in.request_version = 11;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n");
	/* unframed for a 1.0 client: no Transfer-Encoding at all */
	parse_resp(ch, "GET", &r);
	in.resp = &r;
	in.headlen = strlen(ch);
	in.dechunk = 1;
	assert_string_equal(write_resp(&in), "HTTP/1.1 200 OK\r\n"
	    "Connection: close\r\n\r\n");
}

static int
setup(void **state)
{
	http_limits_default(&lim);
	lim.max_headers = MAXH;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_request_basic, setup),
		cmocka_unit_test_setup(test_request_hop_by_hop, setup),
		cmocka_unit_test_setup(test_request_framing, setup),
		cmocka_unit_test_setup(test_request_policy, setup),
		cmocka_unit_test_setup(test_request_ops, setup),
		cmocka_unit_test_setup(test_request_mirror, setup),
		cmocka_unit_test_setup(test_request_version10, setup),
		cmocka_unit_test_setup(test_request_get_body, setup),
		cmocka_unit_test_setup(test_response, setup),
		cmocka_unit_test_setup(test_response_cors, setup),
		cmocka_unit_test_setup(test_local, setup),
		cmocka_unit_test_setup(test_redirect, setup),
		cmocka_unit_test_setup(test_cors_preflight, setup),
		cmocka_unit_test_setup(test_put_u64, setup),
		cmocka_unit_test_setup(test_te_codings, setup),
		cmocka_unit_test_setup(test_response_codings, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
