/* SPDX-License-Identifier: ISC */
/*
 * The head writer: see head.h.  Every writer here writes exactly what
 * its *_need counted room for, with no printf: a number too long for a
 * guessed width cannot advance the write pointer past what was written.
 */
#include <string.h>
#include <strings.h>

#include "head.h"

#define MAX_CONNECTION_FIELDS	8

static size_t	connection_fields(const struct http_header *, size_t,
		    struct http_header *, size_t, const struct http_header **);
static char	*put_transfer_encoding(char *, const struct http_header *,
		    size_t);
static int	route_op_names(const struct route_policy *, int, struct str);
static char	*put_route_ops(char *, const struct route_policy *, int);
static size_t	route_ops_len(const struct route_policy *);

#define PUT(ptr, len)	do { memcpy(w, (ptr), (len)); w += (len); } while (0)
#define PUTS(lit)	PUT(lit, sizeof(lit) - 1)
#define PUTZ(str)	do { size_t n_ = strlen(str); PUT(str, n_); } while (0)

char *
head_put_hex(char *w, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char	 digits[16];
	size_t	 i = sizeof(digits);

	do {
		digits[--i] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	PUT(digits + i, sizeof(digits) - i);
	return w;
}

/*
 * The Connection fields of a message, gathered once, so that asking
 * whether each header is hop-by-hop does not rescan every header (which
 * made a head of n fields cost n * n).  Messages with more Connection
 * fields than fit keep the whole list.
 */
static size_t
connection_fields(const struct http_header *h, size_t n,
    struct http_header *buf, size_t max, const struct http_header **out)
{
	size_t	 i, k = 0;

	for (i = 0; i < n; i++) {
		if (!util_str_caseeq(h[i].name, "connection"))
			continue;
		if (k == max) {
			*out = h;
			return n;
		}
		buf[k++] = h[i];
	}
	*out = buf;
	return k;
}

/*
 * Transfer-Encoding is hop-by-hop, but the codings before chunked
 * ("gzip, chunked") belong to the message: pass the list on as received,
 * all its headers joined into one.  The caller reserved room for it (it
 * came in the head).
 */
static char *
put_transfer_encoding(char *w, const struct http_header *h, size_t n)
{
	size_t	 i;
	int	 first = 1;

	PUTS("Transfer-Encoding: ");
	for (i = 0; i < n; i++) {
		if (!util_str_caseeq(h[i].name, "transfer-encoding"))
			continue;
		if (!first)
			PUTS(", ");
		PUT(h[i].value.p, h[i].value.n);
		first = 0;
	}
	PUTS("\r\n");
	return w;
}

int
head_te_codings(const struct http_header *h, size_t n)
{
	size_t	 i, k, comma, start, end;

	for (i = 0; i < n; i++) {
		const struct str *v = &h[i].value;

		if (!util_str_caseeq(h[i].name, "transfer-encoding"))
			continue;
		for (k = 0; k < v->n; k = comma + 1) {
			for (comma = k; comma < v->n && v->p[comma] != ',';
			    comma++)
				;
			start = k;
			end = comma;
			while (start < end && (v->p[start] == ' ' ||
			    v->p[start] == '\t'))
				start++;
			while (end > start && (v->p[end - 1] == ' ' ||
			    v->p[end - 1] == '\t'))
				end--;
			if (end > start && !(end - start == 7 &&
			    strncasecmp(v->p + start, "chunked", 7) == 0))
				return 1;
		}
	}
	return 0;
}

size_t
head_ops_finish(struct head_op *ops, size_t n)
{
	size_t	 i, j, len = 0;

	for (i = 0; i < n; i++) {
		struct head_op *h = &ops[i];

		h->last = 1;
		for (j = i + 1; j < n; j++)
			if (h->namelen == ops[j].namelen &&
			    strncasecmp(h->name, ops[j].name, h->namelen) == 0)
				h->last = 0;
		if (!h->remove && h->last)
			len += h->namelen + h->valuelen + 4;
	}
	return len;
}

int
head_ops_names(const struct head_ops *l, struct str name)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (name.n == l->op[i].namelen &&
		    strncasecmp(name.p, l->op[i].name, name.n) == 0)
			return 1;
	return 0;
}

char *
head_ops_put(char *w, const struct head_ops *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		const struct head_op *h = &l->op[i];

		if (h->remove || !h->last)
			continue;
		PUT(h->name, h->namelen);
		PUTS(": ");
		PUT(h->value, h->valuelen);
		PUTS("\r\n");
	}
	return w;
}

/*
 * Header operations of a route.  Does a set or remove on this side
 * (0 request, 1 response) name this header, so the original goes?
 */
static int
route_op_names(const struct route_policy *p, int response, struct str name)
{
	size_t	 i;

	for (i = 0; i < p->nheaders; i++) {
		enum route_header_op_kind k = p->headers[i].kind;

		if (response ? (k != ROUTE_RESPONSE_SET &&
		    k != ROUTE_RESPONSE_REMOVE) : (k != ROUTE_REQUEST_SET &&
		    k != ROUTE_REQUEST_REMOVE))
			continue;
		if (util_str_caseeq(name, p->headers[i].name))
			return 1;
	}
	return 0;
}

/* The set and add operations of one side, as header lines. */
static char *
put_route_ops(char *w, const struct route_policy *p, int response)
{
	size_t	 i;

	for (i = 0; i < p->nheaders; i++) {
		enum route_header_op_kind k = p->headers[i].kind;

		if (response ? (k != ROUTE_RESPONSE_SET &&
		    k != ROUTE_RESPONSE_ADD) : (k != ROUTE_REQUEST_SET &&
		    k != ROUTE_REQUEST_ADD))
			continue;
		PUTZ(p->headers[i].name);
		PUTS(": ");
		PUTZ(p->headers[i].value);
		PUTS("\r\n");
	}
	return w;
}

static size_t
route_ops_len(const struct route_policy *p)
{
	size_t	 i, n = 0;

	for (i = 0; i < p->nheaders; i++)
		n += strlen(p->headers[i].name) +
		    strlen(p->headers[i].value) + 4;
	return n;
}

int
head_body_closes(const struct http_request *req)
{
	if (req->framing == HTTP_BODY_NONE || (req->framing ==
	    HTTP_BODY_LENGTH && req->content_length == 0))
		return 0;
	return util_str_eq(req->method, "GET") ||
	    util_str_eq(req->method, "DELETE") ||
	    util_str_eq(req->method, "OPTIONS") ||
	    util_str_eq(req->method, "TRACE");
}

size_t
head_request_need(const struct head_request *in)
{
	const struct http_request *req = in->req;
	const struct route_policy *pol = in->policy;
	size_t	 i, xff = 0;

	for (i = 0; i < req->nheaders; i++)
		if (util_str_caseeq(req->headers[i].name, "x-forwarded-for"))
			xff += req->headers[i].value.n + 2;
	/*
	 * A header written "a:b" comes out as "a: b": a byte more each,
	 * two for the ", " joining Transfer-Encoding lines.  The fixed
	 * lines (request line, Host, x-forwarded-for's own address,
	 * x-request-id, the attempt count, Content-Length) fit in 512.
	 */
	return in->headlen + req->authority.n + req->path.n + xff +
	    2 * req->nheaders + 512 + strlen(in->client_ip) +
	    strlen(in->request_id) + (pol != NULL ? route_ops_len(pol) +
	    strlen(pol->rewrite_path) + strlen(pol->rewrite_authority) : 0) +
	    in->authz.len + in->extra.len;
}

char *
head_request_put(const struct head_request *in, char *w)
{
	const struct http_request *req = in->req;
	const struct route_policy *pol = in->policy;
	size_t			 i;
	struct str		 path = req->path, host = req->authority;
	int			 new_host, mirror = in->mirror;
	int			 attempts = in->attempt > 0 && !mirror;
	struct http_header	 connbuf[MAX_CONNECTION_FIELDS];
	const struct http_header *conn;
	size_t			 nconn;

	new_host = req->form == HTTP_TARGET_ABSOLUTE || mirror;
	if (pol != NULL && pol->rewrite_path[0] != '\0')
		path = (struct str){ pol->rewrite_path,
		    strlen(pol->rewrite_path) };
	if (pol != NULL && pol->rewrite_authority[0] != '\0') {
		host = (struct str){ pol->rewrite_authority,
		    strlen(pol->rewrite_authority) };
		new_host = 1;
	}
	PUT(req->method.p, req->method.n);
	PUTS(" ");
	PUT(path.p, path.n);
	/*
	 * An HTTP/1.0 client cannot take a chunked response; asking the
	 * upstream in 1.0 too means it never sends one (RFC 9112 7.1).
	 */
	if (mirror)
		PUTS(" HTTP/1.1\r\nConnection: close\r\n");
	else if (req->version == 10)
		PUTS(" HTTP/1.0\r\n");
	else
		PUTS(" HTTP/1.1\r\n");
	if (!mirror && head_body_closes(req))
		PUTS("Connection: close\r\n");
	else if (!mirror && req->version == 10)
		PUTS("Connection: keep-alive\r\n");
	if (new_host) {
		PUTS("Host: ");
		if (mirror) {
			/* "-shadow" goes on the host name, before a port */
			size_t hn = host.n;
			const char *b = memchr(host.p, ']', host.n);

			for (i = b != NULL ? (size_t)(b - host.p) : 0;
			    i < host.n; i++)
				if (host.p[i] == ':') {
					hn = i;
					break;
				}
			PUT(host.p, hn);
			PUTS("-shadow");
			PUT(host.p + hn, host.n - hn);
		} else
			PUT(host.p, host.n);
		PUTS("\r\n");
	}
	nconn = connection_fields(req->headers, req->nheaders, connbuf,
	    MAX_CONNECTION_FIELDS, &conn);
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		/* Proxy-Authorization is for a proxy, and proxy-d checks
		   none: it must not reach the service.  Content-Length is
		   hop-by-hop to the parser: re-emitted from the framing. */
		if (http_is_hop_by_hop(h, conn, nconn) ||
		    util_str_caseeq(h->name, "proxy-authorization") ||
		    util_str_caseeq(h->name, "x-forwarded-for") ||
		    (attempts && util_str_caseeq(h->name,
		    "x-envoy-attempt-count")) ||
		    (new_host && (int)i == req->host_header) ||
		    (pol != NULL && route_op_names(pol, 0, h->name)) ||
		    (in->authz.n > 0 && head_ops_names(&in->authz, h->name)) ||
		    (in->extra.n > 0 && head_ops_names(&in->extra, h->name)))
			continue;
		PUT(h->name.p, h->name.n);
		PUTS(": ");
		PUT(h->value.p, h->value.n);
		PUTS("\r\n");
	}
	PUTS("x-forwarded-for: ");
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (!util_str_caseeq(h->name, "x-forwarded-for") ||
		    h->value.n == 0)
			continue;
		PUT(h->value.p, h->value.n);
		PUTS(", ");
	}
	PUTZ(in->client_ip);
	PUTS("\r\n");
	if (pol != NULL)
		w = put_route_ops(w, pol, 0);
	w = head_ops_put(w, &in->authz);
	w = head_ops_put(w, &in->extra);
	if (in->request_id[0] != '\0') {
		PUTS("x-request-id: ");
		PUTZ(in->request_id);
		PUTS("\r\n");
	}
	if (attempts) {
		PUTS("x-envoy-attempt-count: ");
		w = util_put_u64(w, in->attempt);
		PUTS("\r\n");
	}
	if (req->framing == HTTP_BODY_LENGTH) {
		PUTS("Content-Length: ");
		w = util_put_u64(w, req->content_length);
		PUTS("\r\n");
	} else if (req->framing == HTTP_BODY_CHUNKED)
		w = put_transfer_encoding(w, req->headers, req->nheaders);
	PUTS("\r\n");
	return w;
}

size_t
head_response_need(const struct head_response *in)
{
	const struct route_policy *pol = in->policy;

	/* the fixed lines (status line, framing, Connection) fit in 128,
	   the CORS ones in 128 beside the origin and the exposed list */
	return in->headlen + 2 * in->resp->nheaders + 128 +
	    (pol != NULL ? route_ops_len(pol) : 0) +
	    (in->cors_origin.n > 0 ? in->cors_origin.n + 128 +
	    strlen(pol->cors_expose_headers) : 0);
}

char *
head_response_put(const struct head_response *in, char *w)
{
	const struct http_response *resp = in->resp;
	const struct route_policy *pol = in->policy;
	struct http_header	 connbuf[MAX_CONNECTION_FIELDS];
	const struct http_header *conn;
	size_t			 nconn, i;
	int			 final = resp->status >= 200;

	PUTS("HTTP/1.1 ");
	*w++ = (char)('0' + resp->status / 100 % 10);
	*w++ = (char)('0' + resp->status / 10 % 10);
	*w++ = (char)('0' + resp->status % 10);
	PUTS(" ");
	PUT(resp->reason.p, resp->reason.n);
	PUTS("\r\n");
	nconn = connection_fields(resp->headers, resp->nheaders, connbuf,
	    MAX_CONNECTION_FIELDS, &conn);
	for (i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];

		/* Content-Length is re-emitted from the framing, except on
		   a bodiless answer (HEAD, 304), where it is information */
		if ((http_is_hop_by_hop(h, conn, nconn) &&
		    !(resp->framing == HTTP_BODY_NONE &&
		    util_str_caseeq(h->name, "content-length"))) ||
		    (pol != NULL && final &&
		    route_op_names(pol, 1, h->name)) ||
		    (in->cors_origin.n > 0 && final &&
		    h->name.n >= 15 && strncasecmp(h->name.p,
		    "access-control-", 15) == 0))
			continue;
		PUT(h->name.p, h->name.n);
		PUTS(": ");
		PUT(h->value.p, h->value.n);
		PUTS("\r\n");
	}
	if (final) {
		if (pol != NULL)
			w = put_route_ops(w, pol, 1);
		if (in->cors_origin.n > 0) {
			PUTS("access-control-allow-origin: ");
			PUT(in->cors_origin.p, in->cors_origin.n);
			PUTS("\r\n");
			if (pol->cors_credentials == 1)
				PUTS("access-control-allow-credentials: "
				    "true\r\n");
			if (pol->cors_expose_headers[0] != '\0') {
				PUTS("access-control-expose-headers: ");
				PUTZ(pol->cors_expose_headers);
				PUTS("\r\n");
			}
		}
		/* the codings of a body go with it, whatever the framing:
		   gzip alone (to the close) as gzip and chunked */
		if (resp->framing == HTTP_BODY_LENGTH) {
			PUTS("Content-Length: ");
			w = util_put_u64(w, resp->content_length);
			PUTS("\r\n");
		} else if ((resp->framing == HTTP_BODY_CHUNKED &&
		    !in->dechunk) || (resp->framing == HTTP_BODY_CLOSE &&
		    head_te_codings(resp->headers, resp->nheaders)))
			w = put_transfer_encoding(w, resp->headers,
			    resp->nheaders);
		if (!in->keep_alive)
			PUTS("Connection: close\r\n");
		else if (in->request_version == 10)
			PUTS("Connection: keep-alive\r\n");
	}
	PUTS("\r\n");
	return w;
}

size_t
head_local_need(const struct head_local *in)
{
	/* the fixed words and numbers of the lines fit in 256 */
	return 256 + (in->content_type != NULL ? strlen(in->content_type) :
	    0) + (in->flags != NULL ? strlen(in->flags) : 0) +
	    in->location.n + in->extra.n + in->request_id.n +
	    strlen(http_status_text(in->status));
}

char *
head_local_put(const struct head_local *in, char *w)
{
	PUTS("HTTP/1.1 ");
	w = util_put_u64(w, (uint64_t)(in->status % 1000));
	PUTS(" ");
	PUTZ(http_status_text(in->status));
	PUTS("\r\n");
	if (in->content_type != NULL) {
		PUTS("content-type: ");
		PUTZ(in->content_type);
		PUTS("\r\n");
	}
	PUTS("content-length: ");
	w = util_put_u64(w, in->bodylen);
	PUTS("\r\n");
	if (in->flags != NULL) {
		PUTS("x-meshkit-flags: ");
		PUTZ(in->flags);
		PUTS("\r\n");
	}
	if (in->location.n > 0) {
		PUTS("location: ");
		PUT(in->location.p, in->location.n);
		PUTS("\r\n");
	}
	if (in->extra.n > 0)
		PUT(in->extra.p, in->extra.n);
	if (in->request_id.n > 0) {
		PUTS("x-request-id: ");
		PUT(in->request_id.p, in->request_id.n);
		PUTS("\r\n");
	}
	if (in->close)
		PUTS("connection: close\r\n");
	PUTS("\r\n");
	return w;
}

size_t
head_redirect(const struct http_request *req, const struct route_policy *p,
    char *buf, size_t len)
{
	char		 host[256], portbuf[16], *w, *end;
	struct str	 scheme, uri;
	uint32_t	 port = 0;
	int		 v6, rport;
	size_t		 need, hn;

	if (p->redirect_scheme[0] != '\0')
		scheme = (struct str){ p->redirect_scheme,
		    strlen(p->redirect_scheme) };
	else
		scheme = req->scheme.n > 0 ? req->scheme : STR_LIT("http");
	if (p->redirect_authority[0] != '\0')
		util_strlcpy(host, p->redirect_authority, sizeof(host));
	else if (util_split_hostport(req->authority.p, req->authority.n,
	    host, sizeof(host), &rport, 0) == 0)
		port = rport > 0 ? (uint32_t)rport : 0;
	else {
		/* not host[:port]: the authority as it came, if it fits */
		hn = req->authority.n < sizeof(host) - 1 ? req->authority.n :
		    sizeof(host) - 1;
		memcpy(host, req->authority.p, hn);
		host[hn] = '\0';
	}
	if (p->redirect_port != 0)
		port = p->redirect_port;
	end = portbuf;
	if (port != 0) {
		*end++ = ':';
		end = util_put_u64(end, port);
	}
	if (p->redirect_uri[0] != '\0')
		uri = (struct str){ p->redirect_uri, strlen(p->redirect_uri) };
	else
		uri = req->path;
	v6 = strchr(host, ':') != NULL && host[0] != '[';
	need = scheme.n + 3 + strlen(host) + (v6 ? 2 : 0) +
	    (size_t)(end - portbuf) + uri.n + 1;
	if (need > len)
		return need;
	w = buf;
	PUT(scheme.p, scheme.n);
	PUTS("://");
	if (v6)
		PUTS("[");
	PUTZ(host);
	if (v6)
		PUTS("]");
	PUT(portbuf, (size_t)(end - portbuf));
	PUT(uri.p, uri.n);
	*w = '\0';
	return need;
}

size_t
head_cors_preflight(const struct route_policy *p, struct str origin,
    char *buf, size_t len)
{
	char	*w;
	size_t	 need;

	need = 29 + origin.n + 2 + 1;
	if (p->cors_methods[0] != '\0')
		need += 30 + strlen(p->cors_methods) + 2;
	if (p->cors_allow_headers[0] != '\0')
		need += 30 + strlen(p->cors_allow_headers) + 2;
	if (p->cors_max_age_ms > 0)
		need += 24 + 20 + 2;
	if (p->cors_credentials == 1)
		need += 40;
	if (need > len)
		return 0;
	w = buf;
	PUTS("access-control-allow-origin: ");
	PUT(origin.p, origin.n);
	PUTS("\r\n");
	if (p->cors_methods[0] != '\0') {
		PUTS("access-control-allow-methods: ");
		PUTZ(p->cors_methods);
		PUTS("\r\n");
	}
	if (p->cors_allow_headers[0] != '\0') {
		PUTS("access-control-allow-headers: ");
		PUTZ(p->cors_allow_headers);
		PUTS("\r\n");
	}
	if (p->cors_max_age_ms > 0) {
		PUTS("access-control-max-age: ");
		w = util_put_u64(w, p->cors_max_age_ms / 1000);
		PUTS("\r\n");
	}
	if (p->cors_credentials == 1)
		PUTS("access-control-allow-credentials: true\r\n");
	*w = '\0';
	return (size_t)(w - buf);
}
