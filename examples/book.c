/* SPDX-License-Identifier: ISC */
/*
 * book: the book service of the bookstore demo (the InfoQ article
 * "Implementing Microservicilities with Istio").  A small HTTP/1.1 server
 * on libevent bufferevents with keep-alive; each book's rating comes from
 * the rating service, asked through the proxy-d beside this workload
 * (its outbound listener) over a small pool of keep-alive connections.
 *
 *	book [-q] -l addr:port -r addr:port [-s service]
 *
 *	GET /book/{id}	200 {"bookId":ID,"name":"Book ID","rating":N}, N from
 *			GET /rate/{id} with "Host: service" (default
 *			rating) sent to -r; 503 with a JSON error when the
 *			rating service fails, as the article's book service
 *			fails with it; the request's x-request-id and
 *			end-user headers go on to the rating call, as
 *			bookinfo's productpage passes them on, and so do
 *			its trace context headers (W3C traceparent and
 *			tracestate, B3's b3 and x-b3-*), so the call is
 *			part of the request's trace
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "http.h"
#include "log.h"
#include "util.h"

#define IN_HIGH		(128 * 1024)	/* stop reading a client above this */
#define OUT_HIGH	(256 * 1024)	/* stop answering until it drains */
#define IDLE_SECONDS	300
#define CALL_SECONDS	10		/* one call to the rating service */
#define POOL_IDLE_SECONDS 30		/* proxy-d keeps them longer */
#define POOL_MAX_IDLE	8
#define MAX_BODY	4096		/* of a rating answer */
#define MAX_ID_DIGITS	18
#define REQUEST_ID_MAX	128
#define TRACE_HEADERS_MAX 1024	/* the trace context passed on */

struct upstream;

struct client {
	LIST_ENTRY(client)	 entry;
	struct bufferevent	*bev;
	size_t			 scan;		/* http_head_end's cursor */
	uint64_t		 skip;		/* request body bytes to drop */
	int			 closing;	/* close once output drains */

	/* The request waiting for its rating, if any. */
	struct upstream		*call;
	uint64_t		 book;
	int			 keep_alive;
	int			 head;
	int			 tries;
	char			 request_id[REQUEST_ID_MAX];
	char			 end_user[REQUEST_ID_MAX];
	char			 trace[TRACE_HEADERS_MAX];	/* lines */
	size_t			 tracelen;
};

/* A connection to the proxy-d, asking for one rating at a time. */
struct upstream {
	LIST_ENTRY(upstream)	 entry;		/* in the idle pool or busy */
	struct bufferevent	*bev;
	struct client		*client;	/* the one asking, if any */
	int			 pooled;	/* in the idle pool */
	int			 reused;	/* served a call before */
	size_t			 scan;
	size_t			 head_len;	/* 0 until the head is parsed */
	int			 status;
	enum http_framing	 framing;
	uint64_t		 body_len;
	int			 keep_alive;
};

static void	usage(void) __attribute__((noreturn));
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	accept_error_cb(struct evconnlistener *, void *);
static void	accept_resume_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	client_free(struct client *);
static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);
static void	client_process(struct client *);
static int	client_request(struct client *, const struct http_request *);
static void	client_rated(struct client *, int, const char *);
static void	respond(struct client *, int, const char *, int, int);
static int	call_start(struct client *);
static void	trace_headers(struct client *, const struct http_request *);
static void	call_failed(struct upstream *, const char *);
static struct upstream *upstream_get(void);
static void	upstream_put(struct upstream *);
static void	upstream_free(struct upstream *);
static void	upstream_read_cb(struct bufferevent *, void *);
static void	upstream_event_cb(struct bufferevent *, short, void *);
static int	upstream_parse(struct upstream *, int);
static int	parse_id(struct str, uint64_t *);
static int	rate_from_json(const char *, size_t);

static struct event_base	*base;
static struct evconnlistener	*listener;
static struct event		*accept_resume;
static LIST_HEAD(, client)	 clients = LIST_HEAD_INITIALIZER(clients);
static LIST_HEAD(, upstream)	 idle = LIST_HEAD_INITIALIZER(idle);
static LIST_HEAD(, upstream)	 busy = LIST_HEAD_INITIALIZER(busy);
static size_t			 nidle;
static struct http_limits	 limits;
static struct sockaddr_storage	 rating_addr;
static socklen_t		 rating_addrlen;
static const char		*rating_host = "rating";

static void
usage(void)
{
	fprintf(stderr, "usage: book [-q] -l addr:port -r addr:port "
	    "[-s service]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct event		*sigint, *sigterm;
	struct client		*c;
	struct upstream		*u;
	const char		*addr = NULL, *raddr = NULL;
	int			 ch, quiet = 0;

	while ((ch = getopt(argc, argv, "l:qr:s:")) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			raddr = optarg;
			break;
		case 's':
			rating_host = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || addr == NULL || raddr == NULL)
		usage();
	log_init("book", 1, quiet ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
	signal(SIGPIPE, SIG_IGN);
	http_limits_default(&limits);
	if (strpbrk(rating_host, " \t\r\n") != NULL || *rating_host == '\0')
		fatalx("-s %s: not a host name", rating_host);

	if (util_parse_sockaddr(raddr, &rating_addr, &rating_addrlen) == -1)
		fatalx("-r %s: not a numeric address:port", raddr);
	if (util_parse_sockaddr(addr, &ss, &sl) == -1)
		fatalx("-l %s: not a numeric address:port", addr);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	listener = evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (struct sockaddr *)&ss, (int)sl);
	if (listener == NULL)
		fatal("listen on %s", addr);
	evconnlistener_set_error_cb(listener, accept_error_cb);
	accept_resume = evtimer_new(base, accept_resume_cb, NULL);
	sigint = evsignal_new(base, SIGINT, signal_cb, NULL);
	sigterm = evsignal_new(base, SIGTERM, signal_cb, NULL);
	if (accept_resume == NULL || sigint == NULL || sigterm == NULL ||
	    evsignal_add(sigint, NULL) == -1 ||
	    evsignal_add(sigterm, NULL) == -1)
		fatalx("cannot set up events");
	log_info("book listening on %s, asking %s through %s", addr,
	    rating_host, raddr);

	event_base_dispatch(base);

	while ((c = LIST_FIRST(&clients)) != NULL)
		client_free(c);
	while ((u = LIST_FIRST(&idle)) != NULL)
		upstream_free(u);
	evconnlistener_free(listener);
	event_free(accept_resume);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct timeval	 tv = { IDLE_SECONDS, 0 };
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("bufferevent_socket_new failed");
		evutil_closesocket(fd);
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&clients, c, entry);
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, IN_HIGH);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Out of descriptors: pause accepting for a moment rather than spin. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	 tv = { 0, 100 * 1000 };

	log_warn("accept");
	evconnlistener_disable(listener);
	evtimer_add(accept_resume, &tv);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(listener);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

static void
client_free(struct client *c)
{
	/* Its answer would arrive mid-stream: that connection goes too. */
	if (c->call != NULL)
		upstream_free(c->call);
	LIST_REMOVE(c, entry);
	bufferevent_free(c->bev);
	free(c);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	client_process(arg);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	if (c->closing) {
		client_free(c);
		return;
	}
	client_process(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	client_free(arg);
}

/*
 * Answer the complete requests in the input, in order; stop at one that
 * waits for the rating service (client_rated carries on).
 */
static void
client_process(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct http_header	 headers[HTTP_DEFAULT_MAX_HEADERS];
	struct http_request	 req;
	struct http_error	 err;
	const char		*p;
	char			 body[128];
	size_t			 len, n;
	ssize_t			 end;
	int			 waiting;

	while (!c->closing && c->call == NULL) {
		if (c->skip > 0) {
			n = evbuffer_get_length(in);
			n = n < c->skip ? n : (size_t)c->skip;
			evbuffer_drain(in, n);
			c->skip -= n;
			if (c->skip > 0)
				return;
		}
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    OUT_HIGH)
			return;
		if ((len = evbuffer_get_length(in)) == 0)
			return;
		if (len > limits.max_head)
			len = limits.max_head;
		p = (const char *)evbuffer_pullup(in, (ssize_t)len);
		end = http_head_end(p, len, &c->scan, &limits, &err);
		if (end == 0)
			return;
		memset(&req, 0, sizeof(req));
		req.headers = headers;
		req.max_headers = nitems(headers);
		if (end < 0 || http_parse_request(p, (size_t)end, &limits,
		    &req, &err) == -1) {
			log_info("bad request: %s", err.reason);
			snprintf(body, sizeof(body), "{\"error\":\"%s\"}",
			    err.reason);
			respond(c, err.status, body, 0, 0);
			return;
		}
		c->scan = 0;
		if (req.framing == HTTP_BODY_CHUNKED) {
			respond(c, 411, "{\"error\":\"chunked request "
			    "bodies are not served here\"}", 0, 0);
			return;
		}
		if (req.framing == HTTP_BODY_LENGTH)
			c->skip = req.content_length;
		waiting = client_request(c, &req);
		evbuffer_drain(in, (size_t)end);
		if (waiting)
			return;
	}
}

/* Returns 1 when the answer waits for the rating service, else 0. */
static int
client_request(struct client *c, const struct http_request *req)
{
	const struct http_header *h;
	struct str		 path = req->path;
	const char		*q;
	int			 head;

	if ((q = memchr(path.p, '?', path.n)) != NULL)
		path.n = (size_t)(q - path.p);
	head = util_str_eq(req->method, "HEAD");
	if (!head && !util_str_eq(req->method, "GET")) {
		respond(c, 405, "{\"error\":\"only GET is served\"}",
		    req->keep_alive, 0);
		return 0;
	}
	if (path.n <= 6 || memcmp(path.p, "/book/", 6) != 0 ||
	    parse_id((struct str){ path.p + 6, path.n - 6 }, &c->book) ==
	    -1) {
		respond(c, 404, "{\"error\":\"not found; try /book/1\"}",
		    req->keep_alive, head);
		return 0;
	}
	c->keep_alive = req->keep_alive;
	c->head = head;
	c->tries = 0;
	/* Passed on, so the mesh's logs tie the two calls together. */
	c->request_id[0] = '\0';
	h = http_header_find(req->headers, req->nheaders, "x-request-id");
	if (h != NULL && h->value.n < sizeof(c->request_id))
		snprintf(c->request_id, sizeof(c->request_id), "%.*s",
		    (int)h->value.n, h->value.p);
	/* as bookinfo's productpage does, for routes on the user */
	c->end_user[0] = '\0';
	h = http_header_find(req->headers, req->nheaders, "end-user");
	if (h != NULL && h->value.n < sizeof(c->end_user))
		snprintf(c->end_user, sizeof(c->end_user), "%.*s",
		    (int)h->value.n, h->value.p);
	trace_headers(c, req);
	if (call_start(c) == -1) {
		client_rated(c, -1, "cannot connect to the proxy");
		return 0;
	}
	return 1;
}

/*
 * The trace context of the request, as header lines for the rating call
 * (what an application in a mesh does for its proxies to tie the calls
 * of one request into one trace).  Those that do not fit are left out.
 */
static void
trace_headers(struct client *c, const struct http_request *req)
{
	static const char *const names[] = { "traceparent", "tracestate",
	    "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
	    "x-b3-sampled", "x-b3-flags" };
	const struct http_header	*h;
	size_t				 i, need;

	c->tracelen = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((h = http_header_find(req->headers, req->nheaders,
		    names[i])) == NULL)
			continue;
		need = strlen(names[i]) + 2 + h->value.n + 2;
		if (c->tracelen + need > sizeof(c->trace))
			continue;
		c->tracelen += (size_t)snprintf(c->trace + c->tracelen,
		    sizeof(c->trace) - c->tracelen, "%s: %.*s\r\n", names[i],
		    (int)h->value.n, h->value.p);
	}
}

/*
 * The rating service answered (rate >= 1) or failed (rate -1 and why).
 * Called with c->call already cleared.
 */
static void
client_rated(struct client *c, int rate, const char *why)
{
	char	 body[256];

	if (rate < 0) {
		log_info("book %" PRIu64 ": rating failed: %s", c->book, why);
		snprintf(body, sizeof(body), "{\"bookId\":%" PRIu64 ","
		    "\"error\":\"rating service failed: %s\"}", c->book, why);
		respond(c, 503, body, c->keep_alive, c->head);
		return;
	}
	snprintf(body, sizeof(body), "{\"bookId\":%" PRIu64 ","
	    "\"name\":\"Book %" PRIu64 "\",\"rating\":%d}", c->book, c->book,
	    rate);
	respond(c, 200, body, c->keep_alive, c->head);
}

/*
 * A JSON answer.  Without keep_alive the connection closes once it is
 * written, and nothing more is read.
 */
static void
respond(struct client *c, int status, const char *body, int keep_alive,
    int head)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n = strlen(body);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status, http_status_text(status),
	    n + 1, keep_alive ? "" : "Connection: close\r\n");
	if (!head) {
		evbuffer_add(out, body, n);
		evbuffer_add(out, "\n", 1);
	}
	if (!keep_alive) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
}

/* Send GET /rate/{id} for the client; -1 if no connection could be had. */
static int
call_start(struct client *c)
{
	struct upstream	*u;
	struct evbuffer	*out;

	if ((u = upstream_get()) == NULL)
		return -1;
	c->tries++;
	c->call = u;
	u->client = c;
	out = bufferevent_get_output(u->bev);
	evbuffer_add_printf(out, "GET /rate/%" PRIu64 " HTTP/1.1\r\n"
	    "Host: %s\r\nAccept: application/json\r\n", c->book, rating_host);
	if (c->request_id[0] != '\0')
		evbuffer_add_printf(out, "x-request-id: %s\r\n",
		    c->request_id);
	if (c->end_user[0] != '\0')
		evbuffer_add_printf(out, "end-user: %s\r\n", c->end_user);
	evbuffer_add(out, c->trace, c->tracelen);
	evbuffer_add(out, "\r\n", 2);
	return 0;
}

/*
 * The call on u failed.  A pooled connection the proxy closed before it
 * read the request fails with no answer at all: that one is tried once
 * more on a fresh connection.
 */
static void
call_failed(struct upstream *u, const char *why)
{
	struct client	*c = u->client;
	int		 again;

	again = u->reused && u->head_len == 0 &&
	    evbuffer_get_length(bufferevent_get_input(u->bev)) == 0 &&
	    c->tries < 2;
	c->call = NULL;
	upstream_free(u);
	if (again) {
		while ((u = LIST_FIRST(&idle)) != NULL)
			upstream_free(u);	/* as stale, most likely */
		if (call_start(c) == 0)
			return;
		why = "cannot connect to the proxy";
	}
	client_rated(c, -1, why);
	client_process(c);
}

static struct upstream *
upstream_get(void)
{
	struct timeval	 tv = { CALL_SECONDS, 0 };
	struct upstream	*u;

	if ((u = LIST_FIRST(&idle)) != NULL) {
		LIST_REMOVE(u, entry);
		nidle--;
		u->pooled = 0;
		u->reused = 1;
	} else {
		u = xcalloc(1, sizeof(*u));
		u->bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
		if (u->bev == NULL) {
			free(u);
			return NULL;
		}
		if (bufferevent_socket_connect(u->bev,
		    (struct sockaddr *)&rating_addr, (int)rating_addrlen) ==
		    -1) {
			log_warn("connect to the proxy");
			bufferevent_free(u->bev);
			free(u);
			return NULL;
		}
		bufferevent_setcb(u->bev, upstream_read_cb, NULL,
		    upstream_event_cb, u);
		bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	}
	LIST_INSERT_HEAD(&busy, u, entry);
	u->scan = 0;
	u->head_len = 0;
	bufferevent_set_timeouts(u->bev, &tv, &tv);
	return u;
}

/* Back to the idle pool after a complete answer, or closed. */
static void
upstream_put(struct upstream *u)
{
	struct timeval	 tv = { POOL_IDLE_SECONDS, 0 };

	if (u->client != NULL)
		u->client->call = NULL;
	u->client = NULL;
	if (!u->keep_alive || nidle >= POOL_MAX_IDLE ||
	    evbuffer_get_length(bufferevent_get_input(u->bev)) > 0) {
		upstream_free(u);
		return;
	}
	LIST_REMOVE(u, entry);
	LIST_INSERT_HEAD(&idle, u, entry);
	nidle++;
	u->pooled = 1;
	bufferevent_set_timeouts(u->bev, &tv, NULL);
}

static void
upstream_free(struct upstream *u)
{
	if (u->pooled)
		nidle--;
	if (u->client != NULL)
		u->client->call = NULL;
	LIST_REMOVE(u, entry);
	bufferevent_free(u->bev);
	free(u);
}

static void
upstream_read_cb(struct bufferevent *bev, void *arg)
{
	struct upstream	*u = arg;

	if (u->client == NULL) {
		/* Nothing is asked on an idle connection. */
		log_info("unexpected bytes from the proxy on an idle "
		    "connection");
		upstream_free(u);
		return;
	}
	upstream_parse(u, 0);
}

static void
upstream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream	*u = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (u->client == NULL) {
		upstream_free(u);	/* an idle one closed or timed out */
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* An answer framed by the close is complete now. */
		if (upstream_parse(u, 1) == 1)
			return;
		call_failed(u, "the proxy closed the connection");
	} else if (what & BEV_EVENT_TIMEOUT)
		call_failed(u, "no answer in time");
	else
		call_failed(u, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * Read the answer as far as it has come.  Returns 1 when it was complete
 * and handed to the client (u may be gone), 0 while more is needed.  At
 * eof, an answer that is not complete fails.
 */
static int
upstream_parse(struct upstream *u, int eof)
{
	struct evbuffer		*in = bufferevent_get_input(u->bev);
	struct http_header	 headers[HTTP_DEFAULT_MAX_HEADERS];
	struct http_response	 resp;
	struct http_error	 err;
	struct client		*c = u->client;
	const char		*p;
	char			 body[MAX_BODY + 1], why[64];
	size_t			 len, n;
	ssize_t			 end;
	int			 rate;

	len = evbuffer_get_length(in);
	if (u->head_len == 0) {
		n = len < limits.max_head ? len : limits.max_head;
		if (n == 0)
			return 0;
		p = (const char *)evbuffer_pullup(in, (ssize_t)n);
		end = http_head_end(p, n, &u->scan, &limits, &err);
		if (end == 0)
			return 0;
		memset(&resp, 0, sizeof(resp));
		resp.headers = headers;
		resp.max_headers = nitems(headers);
		if (end < 0 || http_parse_response(p, (size_t)end, &limits,
		    STR_LIT("GET"), &resp, &err) == -1) {
			u->keep_alive = 0;
			call_failed(u, "bad answer from the proxy");
			return 1;
		}
		if (resp.status < 200) {
			/* An interim answer: the real one follows. */
			evbuffer_drain(in, (size_t)end);
			u->scan = 0;
			return upstream_parse(u, eof);
		}
		if (resp.framing == HTTP_BODY_CHUNKED ||
		    (resp.framing == HTTP_BODY_LENGTH &&
		    resp.content_length > MAX_BODY)) {
			u->keep_alive = 0;
			call_failed(u, "answer framed in a way not read here");
			return 1;
		}
		u->head_len = (size_t)end;
		u->status = resp.status;
		u->framing = resp.framing;
		u->body_len = resp.framing == HTTP_BODY_LENGTH ?
		    resp.content_length : 0;
		u->keep_alive = resp.keep_alive &&
		    resp.framing != HTTP_BODY_CLOSE;
	}
	if (u->framing == HTTP_BODY_CLOSE) {
		if (len - u->head_len > MAX_BODY) {
			call_failed(u, "answer too long");
			return 1;
		}
		if (!eof)
			return 0;
		u->body_len = len - u->head_len;
	} else if (len < u->head_len + u->body_len)
		return 0;

	evbuffer_drain(in, u->head_len);
	n = evbuffer_remove(in, body, (size_t)u->body_len);
	body[n] = '\0';
	rate = u->status == 200 ? rate_from_json(body, n) : -1;
	snprintf(why, sizeof(why), "it answered %d", u->status);
	if (u->status == 200 && rate < 0)
		snprintf(why, sizeof(why), "no rate in its answer");
	u->head_len = 0;
	upstream_put(u);
	client_rated(c, rate, why);
	client_process(c);
	return 1;
}

/* A book id: decimal digits only, no sign, no leading zeros but "0". */
static int
parse_id(struct str s, uint64_t *id)
{
	size_t	 i;

	if (s.n == 0 || s.n > MAX_ID_DIGITS || (s.p[0] == '0' && s.n > 1))
		return -1;
	*id = 0;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		*id = *id * 10 + (uint64_t)(s.p[i] - '0');
	}
	return 0;
}

/* The "rate" member of the rating service's answer, or -1. */
static int
rate_from_json(const char *body, size_t len)
{
	const char	*p;
	char		*end;
	long		 rate;

	if (strlen(body) != len || (p = strstr(body, "\"rate\"")) == NULL)
		return -1;
	p += 6;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return -1;
	errno = 0;
	rate = strtol(p, &end, 10);
	if (end == p || errno != 0 || rate < 0 || rate > 1000)
		return -1;
	return (int)rate;
}
