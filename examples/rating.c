/* SPDX-License-Identifier: ISC */
/*
 * rating: the rating service of the bookstore demo (the InfoQ article
 * "Implementing Microservicilities with Istio"), a small HTTP/1.1 server
 * on libevent bufferevents with keep-alive.
 *
 *	rating [-q] -l addr:port -v v1|v2
 *
 *	GET /rate/{id}		200 {"bookId":ID,"rate":N}; v1 always rates
 *				1, v2 gives each book a fixed rating 1..5
 *				(book 1 rates 3); logs "Request N"
 *	GET /rate/misbehave	later /rate/{id} answer 503 ...
 *	GET /rate/behave	... until this
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
#define MAX_ID_DIGITS	18

struct client {
	LIST_ENTRY(client)	 entry;
	struct bufferevent	*bev;
	size_t			 scan;		/* http_head_end's cursor */
	uint64_t		 skip;		/* request body bytes to drop */
	int			 closing;	/* close once output drains */
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
static void	client_request(struct client *, const struct http_request *);
static void	respond(struct client *, int, const char *, int, int);
static int	parse_id(struct str, uint64_t *);
static int	rate_of(uint64_t);
static uint64_t	mix(uint64_t);

static struct event_base	*base;
static struct evconnlistener	*listener;
static struct event		*accept_resume;
static LIST_HEAD(, client)	 clients = LIST_HEAD_INITIALIZER(clients);
static struct http_limits	 limits;
static int			 version;	/* 1 or 2 */
static int			 misbehaving;
static uint64_t			 requests;

static void
usage(void)
{
	fprintf(stderr, "usage: rating [-q] -l addr:port -v v1|v2\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct event		*sigint, *sigterm;
	struct client		*c;
	const char		*addr = NULL, *v = NULL;
	char			 name[32];
	int			 ch, quiet = 0;

	while ((ch = getopt(argc, argv, "l:qv:")) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			v = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || addr == NULL || v == NULL)
		usage();
	if (strcmp(v, "v1") == 0)
		version = 1;
	else if (strcmp(v, "v2") == 0)
		version = 2;
	else {
		fprintf(stderr, "rating: -v %s: want v1 or v2\n", v);
		usage();
	}
	snprintf(name, sizeof(name), "rating-%s", v);
	log_init(name, 1, quiet ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
	signal(SIGPIPE, SIG_IGN);
	http_limits_default(&limits);

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
	log_info("%s listening on %s", name, addr);

	event_base_dispatch(base);

	while ((c = LIST_FIRST(&clients)) != NULL)
		client_free(c);
	evconnlistener_free(listener);
	event_free(accept_resume);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	log_info("stopped after %" PRIu64 " rating requests", requests);
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
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
	bufferevent_set_timeouts(c->bev,
	    &(struct timeval){ IDLE_SECONDS, 0 },
	    &(struct timeval){ IDLE_SECONDS, 0 });
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
	/* Answers were held back while the output was full. */
	client_process(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	client_free(arg);
}

/* Answer every complete request in the input, in order. */
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

	while (!c->closing) {
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
		client_request(c, &req);
		evbuffer_drain(in, (size_t)end);
	}
}

static void
client_request(struct client *c, const struct http_request *req)
{
	struct str	 path = req->path;
	const char	*q;
	char		 body[128];
	uint64_t	 id;
	int		 head;

	if ((q = memchr(path.p, '?', path.n)) != NULL)
		path.n = (size_t)(q - path.p);
	head = util_str_eq(req->method, "HEAD");
	if (!head && !util_str_eq(req->method, "GET")) {
		respond(c, 405, "{\"error\":\"only GET is served\"}",
		    req->keep_alive, 0);
		return;
	}
	if (util_str_eq(path, "/rate/misbehave")) {
		misbehaving = 1;
		log_info("misbehaving: /rate/{id} answers 503 until "
		    "/rate/behave");
		respond(c, 200, "{\"misbehaving\":true}", req->keep_alive,
		    head);
		return;
	}
	if (util_str_eq(path, "/rate/behave")) {
		misbehaving = 0;
		log_info("behaving again");
		respond(c, 200, "{\"misbehaving\":false}", req->keep_alive,
		    head);
		return;
	}
	if (path.n > 6 && memcmp(path.p, "/rate/", 6) == 0 &&
	    parse_id((struct str){ path.p + 6, path.n - 6 }, &id) == 0) {
		log_info("Request %" PRIu64, ++requests);
		if (misbehaving) {
			snprintf(body, sizeof(body), "{\"bookId\":%" PRIu64
			    ",\"error\":\"rating service misbehaving\"}", id);
			respond(c, 503, body, req->keep_alive, head);
		} else {
			snprintf(body, sizeof(body), "{\"bookId\":%" PRIu64
			    ",\"rate\":%d}", id, rate_of(id));
			respond(c, 200, body, req->keep_alive, head);
		}
		return;
	}
	respond(c, 404, "{\"error\":\"not found; try /rate/1\"}",
	    req->keep_alive, head);
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

/*
 * v1 rates every book 1.  v2 rates each book 1..5, fixed per book and
 * scattered like a random pick, shifted so that book 1 rates 3 as in the
 * article.
 */
static int
rate_of(uint64_t id)
{
	if (version == 1)
		return 1;
	return (int)((mix(id) % 5 + 5 + 2 - mix(1) % 5) % 5) + 1;
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}
