/* SPDX-License-Identifier: ISC */
/*
 * stats-d's web thread: one libevent loop for the HTTP port (/metrics,
 * the graph page at /, its data at /graph.json), the once-a-second
 * status questions to the other daemons (nng aios, their answers kept
 * for /metrics), and the span exports to Zipkin and OTLP collectors
 * (evhttp client requests, one in flight per collector).
 *
 * Everything it reads of stats-d's state it reads under sd->lock, and
 * the JSON of an export is written outside it.  The main thread talks
 * to this loop only through events made active (a reload, the stop),
 * which libevent's pthreads support makes safe.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "graph.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "sbuf.h"
#include "stats.h"
#include "statsd.h"
#include "trace.h"
#include "util.h"

#define WEB_MAX_HEADERS		8192
#define WEB_TIMEOUT_S		10
/*
 * Bytes of dynamic answers (/metrics, /graph.json) handed to libevent
 * and not yet written to their sockets.  Clients that ask and never
 * read would otherwise hold a copy each; past this, a scrape is 503.
 */
#define WEB_PENDING_MAX		(32 * 1024 * 1024)
/*
 * A /metrics answer is streamed, chunk by chunk: Istio's series (about
 * 39 KB each with ordinary labels, so 160 MB at the default maxSeries)
 * never sit whole in memory, and the lock is held for one chunk's
 * writing at a time.  The next chunk is written when the last one has
 * gone to the socket.
 */
#define WEB_CHUNK		(256 * 1024)

/* A /metrics answer under way. */
struct web_scrape {
	struct web		*web;
	struct evhttp_request	*req;
	struct evhttp_connection *conn;
	struct metrics_cursor	 cursor;
};

struct web_export {
	struct evhttp_connection *conn;
	char			*host;		/* conn's */
	uint32_t		 port;
	int			 busy;
	size_t			 nspans;	/* in the request in flight */
	struct stats_collector	*collector;
	struct web		*web;
};

struct web {
	struct statsd		*sd;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	char			*bound_address;
	uint64_t		 accept_warned_ms;
	size_t			 pending;	/* see WEB_PENDING_MAX */
	uint64_t		 busy;		/* scrapes refused for it */
	uint64_t		 refused;	/* answered 500: too big */
	uint64_t		 accept_failed;	/* since the last warning */
	struct event		*tick;		/* polls, expiry */
	struct event		*export;	/* span exports */
	struct event		*reconfigure;
	struct event		*stop;
	uint64_t		 export_ms;
	struct web_export	 exports[STATS_MAX_COLLECTORS];
	pthread_t		 thread;
	int			 running;
	struct sbuf		 out;
};

static void	*web_main(void *);
static int	web_bind(struct web *, const char *);
static void	web_accept_error(struct evconnlistener *, void *);
static void	web_accept_resume(evutil_socket_t, short, void *);

/* The one web of the process, for the listener's error callback. */
static struct web	*web_self;
static void	web_request(struct evhttp_request *, void *);
static int	web_busy(struct web *, struct evhttp_request *,
		    const char *);
static void	web_metrics(struct web *, struct evhttp_request *);
static void	web_scrape_chunk(struct web_scrape *, struct sbuf *);
static void	web_scrape_next(struct evhttp_connection *, void *);
static void	web_scrape_closed(struct evhttp_connection *, void *);
static void	web_scrape_free(struct web_scrape *);
static void	web_graph(struct web *, struct evhttp_request *);
static void	web_reply(struct web *, struct evhttp_request *, int,
		    const char *, const char *, size_t, int);
static void	web_reply_free(const void *, size_t, void *);
static void	web_on_tick(evutil_socket_t, short, void *);
static void	web_on_export(evutil_socket_t, short, void *);
static void	web_on_reconfigure(evutil_socket_t, short, void *);
static void	web_on_stop(evutil_socket_t, short, void *);
static void	web_export_done(struct evhttp_request *, void *);
static void	web_body_free(const void *, size_t, void *);
static void	web_export_one(struct web *, size_t);
static void	web_poll(struct statsd_daemon *);
static void	web_poll_cb(void *);
static int	web_poll_open(struct statsd_daemon *);
static const char *web_address(struct statsd *);
static void	web_schedule_export(struct web *);

/* The address in force: -H, else MeshConfig's stats.address, else 15090. */
static const char *
web_address(struct statsd *sd)
{
	const struct config	*cfg = sd->d.config;

	if (sd->http_flag != NULL)
		return sd->http_flag;
	if (cfg != NULL && cfg->mesh != NULL && cfg->mesh->stats.address !=
	    NULL)
		return cfg->mesh->stats.address;
	return STATSD_DEFAULT_HTTP;
}

static int
web_bind(struct web *w, const char *address)
{
	struct evhttp_bound_socket	*b;
	char				 host[256];
	int				 port;

	if (strcmp(address, "none") == 0) {
		if (w->bound != NULL)
			evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
		free(w->bound_address);
		w->bound_address = xstrdup("none");
		return 0;
	}
	if (util_split_hostport(address, strlen(address), host, sizeof(host),
	    &port, -1) == -1 || port < 1 || port > 65535) {
		log_warnx("HTTP address %s: want host:port", address);
		return -1;
	}
	if ((b = evhttp_bind_socket_with_handle(w->http, host,
	    (uint16_t)port)) == NULL) {
		log_warn("HTTP: cannot listen on %s", address);
		return -1;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(b),
	    web_accept_error);
	if (w->bound != NULL)
		evhttp_del_accept_socket(w->http, w->bound);
	w->bound = b;
	free(w->bound_address);
	w->bound_address = xstrdup(address);
	return 0;
}

/*
 * accept(2) failed.  Out of descriptors (clients holding connections
 * open), libevent would call accept again at once, forever: a spinning
 * thread and a warning per turn.  The listener rests 100 ms instead,
 * and the warning comes once a second at most, with the count.
 */
static void
web_accept_error(struct evconnlistener *lev, void *arg)
{
	struct web	*w = web_self;	/* arg is libevent's evhttp */
	int		 err = EVUTIL_SOCKET_ERROR();
	uint64_t	 now = util_now_ms();

	w->accept_failed++;
	if (now - w->accept_warned_ms >= 1000) {
		log_warnx("HTTP %s: accept: %s (%llu times)", w->bound_address,
		    strerror(err), (unsigned long long)w->accept_failed);
		w->accept_warned_ms = now;
		w->accept_failed = 0;
	}
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		evconnlistener_disable(lev);
		event_base_once(w->base, -1, EV_TIMEOUT, web_accept_resume, w,
		    &(struct timeval){ 0, 100000 });
	}
}

static void
web_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct web	*w = arg;

	if (w->bound != NULL)
		evconnlistener_enable(evhttp_bound_socket_get_listener(
		    w->bound));
}

int
web_start(struct statsd *sd)
{
	struct web	*w;
	const char	*address;

	if (evthread_use_pthreads() == -1) {
		log_warnx("libevent: no thread support");
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->sd = sd;
	sd->web = w;
	web_self = w;
	sbuf_init(&w->out, 0);
	if ((w->base = event_base_new()) == NULL ||
	    (w->http = evhttp_new(w->base)) == NULL) {
		log_warnx("libevent: cannot set up");
		return -1;
	}
	w->dns = evdns_base_new(w->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (w->dns == NULL)
		w->dns = evdns_base_new(w->base, 0);
	evhttp_set_timeout(w->http, WEB_TIMEOUT_S);
	evhttp_set_max_headers_size(w->http, WEB_MAX_HEADERS);
	evhttp_set_max_body_size(w->http, 0);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(w->http, web_request, w);
	address = web_address(sd);
	if (web_bind(w, address) == -1)
		return -1;
	sd->http_address = xstrdup(address);
	w->tick = event_new(w->base, -1, EV_PERSIST, web_on_tick, w);
	w->export = event_new(w->base, -1, 0, web_on_export, w);
	w->reconfigure = event_new(w->base, -1, 0, web_on_reconfigure, w);
	w->stop = event_new(w->base, -1, 0, web_on_stop, w);
	if (w->tick == NULL || w->export == NULL || w->reconfigure == NULL ||
	    w->stop == NULL) {
		log_warnx("libevent: cannot make events");
		return -1;
	}
	event_add(w->tick, &(struct timeval){ STATSD_POLL_MS / 1000,
	    (STATSD_POLL_MS % 1000) * 1000 });
	web_schedule_export(w);
	if (pthread_create(&w->thread, NULL, web_main, w) != 0) {
		log_warnx("cannot start the web thread");
		return -1;
	}
	w->running = 1;
	return 0;
}

static void *
web_main(void *arg)
{
	struct web	*w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static void
web_on_stop(evutil_socket_t fd, short ev, void *arg)
{
	struct web	*w = arg;

	event_base_loopbreak(w->base);
}

void
web_stop(struct statsd *sd)
{
	struct web	*w = sd->web;
	size_t		 i;

	if (w == NULL)
		return;
	if (w->running) {
		event_active(w->stop, EV_READ, 0);
		pthread_join(w->thread, NULL);
	}
	for (i = 0; i < sd->ndaemons; i++)
		daemon_sock_close(sd->daemons[i].sock, &sd->daemons[i].open,
		    &sd->daemons[i].aio);
	for (i = 0; i < STATS_MAX_COLLECTORS; i++) {
		if (w->exports[i].conn != NULL)
			evhttp_connection_free(w->exports[i].conn);
		free(w->exports[i].host);
	}
	if (w->tick != NULL)
		event_free(w->tick);
	if (w->export != NULL)
		event_free(w->export);
	if (w->reconfigure != NULL)
		event_free(w->reconfigure);
	if (w->stop != NULL)
		event_free(w->stop);
	if (w->http != NULL)
		evhttp_free(w->http);
	if (w->dns != NULL)
		evdns_base_free(w->dns, 0);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w->bound_address);
	sbuf_fini(&w->out);
	free(w);
	sd->web = NULL;
	web_self = NULL;
}

void
web_reconfigure(struct statsd *sd)
{
	if (sd->web != NULL && sd->web->running)
		event_active(sd->web->reconfigure, EV_READ, 0);
}

/* In the web thread, after a reload: the address, the export interval. */
static void
web_on_reconfigure(evutil_socket_t fd, short ev, void *arg)
{
	struct web	*w = arg;
	char		*address;

	pthread_mutex_lock(&w->sd->lock);
	address = xstrdup(web_address(w->sd));
	pthread_mutex_unlock(&w->sd->lock);
	if (w->bound_address == NULL || strcmp(address, w->bound_address) !=
	    0) {
		if (web_bind(w, address) == 0) {
			log_info("HTTP now on %s", address);
			pthread_mutex_lock(&w->sd->lock);
			free(w->sd->http_address);
			w->sd->http_address = xstrdup(address);
			pthread_mutex_unlock(&w->sd->lock);
		} else
			log_warnx("HTTP stays on %s", w->bound_address);
	}
	free(address);
	web_schedule_export(w);
}

static void
web_schedule_export(struct web *w)
{
	const struct config	*cfg;
	uint64_t		 ms = STATSD_EXPORT_MS;

	pthread_mutex_lock(&w->sd->lock);
	cfg = w->sd->d.config;
	if (cfg != NULL && cfg->mesh != NULL &&
	    cfg->mesh->stats.export_interval_ms != 0)
		ms = cfg->mesh->stats.export_interval_ms;
	pthread_mutex_unlock(&w->sd->lock);
	w->export_ms = ms;
	event_del(w->export);
	event_add(w->export, &(struct timeval){ (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 });
}

/*
 * A static body is referenced, never copied; a dynamic one (copy) is
 * copied once and counted in w->pending until libevent has written it
 * or dropped it with its connection.
 */
static void
web_reply(struct web *w, struct evhttp_request *req, int code,
    const char *type, const char *body, size_t len, int copy)
{
	struct evbuffer	*b = evhttp_request_get_output_buffer(req);
	char		*dup;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	if (code == 503)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD && len > 0) {
		if (!copy)
			evbuffer_add_reference(b, body, len, NULL, NULL);
		else {
			dup = xmalloc(len);
			memcpy(dup, body, len);
			if (evbuffer_add_reference(b, dup, len, web_reply_free,
			    w) == -1)
				free(dup);
			else
				w->pending += len;
		}
	}
	evhttp_send_reply(req, code, code == 200 ? "OK" : code == 404 ?
	    "Not Found" : code == 503 ? "Service Unavailable" : code == 500 ?
	    "Internal Server Error" : "Bad Request", NULL);
}

/* On the web thread: written, or dropped with its connection. */
static void
web_reply_free(const void *data, size_t len, void *arg)
{
	struct web	*w = arg;

	w->pending -= len;
	free((void *)data);
}

/* Past WEB_PENDING_MAX of unwritten answers, a dynamic page is 503. */
static int
web_busy(struct web *w, struct evhttp_request *req, const char *path)
{
	static const char	 busy[] = "busy: earlier answers are still "
				    "unread\n";

	if (w->pending < WEB_PENDING_MAX)
		return 0;
	if (w->busy++ % 1000 == 0)
		log_warnx("HTTP: %zu bytes of answers unread; %s refused "
		    "(%llu so far)", w->pending, path,
		    (unsigned long long)w->busy);
	web_reply(w, req, 503, "text/plain", busy, sizeof(busy) - 1, 0);
	return 1;
}

static void
web_request(struct evhttp_request *req, void *arg)
{
	struct web		*w = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	static const char	 notfound[] = "not found: try /, /metrics or "
				    "/graph.json\n";

	if (path == NULL || path[0] == '\0')
		path = "/";
	if (strcmp(path, "/metrics") == 0) {
		if (!web_busy(w, req, path))
			web_metrics(w, req);
	} else if (strcmp(path, "/graph.json") == 0) {
		if (!web_busy(w, req, path))
			web_graph(w, req);
	} else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
		web_reply(w, req, 200, "text/html; charset=utf-8", statsd_page,
		    strlen(statsd_page), 0);
	else if (strcmp(path, "/healthz") == 0)
		web_reply(w, req, 200, "text/plain", "ok\n", 3, 0);
	else
		web_reply(w, req, 404, "text/plain", notfound,
		    sizeof(notfound) - 1, 0);
}

/*
 * stats-d's own metrics, the daemons' and the certificates' first, in
 * one chunk: they are never behind Istio's series, and when they alone
 * would pass the sbuf's bound the answer is a 500 (logged, counted),
 * never a 200 cut short.  Istio's series follow, WEB_CHUNK at a time.
 */
static void
web_metrics(struct web *w, struct evhttp_request *req)
{
	static const char	 type[] = "text/plain; version=0.0.4; "
				    "charset=utf-8";
	static const char	 toobig[] = "stats-d's own metrics do not fit "
				    "the output's bound; see its log\n";
	struct statsd		*sd = w->sd;
	struct statsd_daemon	*dm;
	struct web_scrape	*sc;
	struct sbuf		 head;
	struct msg		 m;
	char			 err[128], labels[128];
	size_t			 i;
	int			 any = 0;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		web_reply(w, req, 200, type, "", 0, 0);
		return;
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->web = w;
	sc->req = req;
	sbuf_init(&head, 0);
	msg_init(&m);
	pthread_mutex_lock(&sd->lock);
	stats_write_own(sd->stats, &head);
	for (i = 0; i < sd->ndaemons; i++) {
		dm = &sd->daemons[i];
		if (!dm->open)
			continue;
		if (!any)
			metrics_family(&head, "meshkit_daemon_up", "gauge",
			    "Whether a daemon answered its last status "
			    "question.");
		any = 1;
		snprintf(labels, sizeof(labels), "daemon=\"%s\"", dm->name);
		metrics_sample_u64(&head, "meshkit_daemon_up", labels,
		    (uint64_t)dm->up);
	}
	for (i = 0; i < sd->ndaemons; i++) {
		dm = &sd->daemons[i];
		if (!dm->up || dm->reply == NULL ||
		    msg_parse(&m, dm->reply, dm->reply_len, err,
		    sizeof(err)) == -1)
			continue;
		stats_daemon_metrics(&head, dm->name, &m);
	}
	metrics_cursor_init(&sc->cursor, &sd->stats->metrics);
	pthread_mutex_unlock(&sd->lock);
	msg_fini(&m);
	stats_cert_metrics(&head, util_rundir());
	if (head.overflow) {
		pthread_mutex_lock(&sd->lock);
		sd->stats->c.scrapes_refused++;
		pthread_mutex_unlock(&sd->lock);
		if (w->refused++ % 100 == 0)
			log_warnx("HTTP /metrics: stats-d's own metrics pass "
			    "%zu bytes; answered 500 (%llu times)", head.limit,
			    (unsigned long long)w->refused);
		sbuf_fini(&head);
		web_scrape_free(sc);
		web_reply(w, req, 500, "text/plain", toobig,
		    sizeof(toobig) - 1, 0);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	/* a client gone mid-answer: libevent says so here */
	sc->conn = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(sc->conn, web_scrape_closed, sc);
	evhttp_send_reply_start(req, 200, "OK");
	web_scrape_chunk(sc, &head);
}

/* b's bytes go out, handed over, not copied; then web_scrape_next. */
static void
web_scrape_chunk(struct web_scrape *sc, struct sbuf *b)
{
	struct evbuffer	*chunk;
	char		*data;
	size_t		 len;

	if ((chunk = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if ((data = sbuf_detach(b, &len)) != NULL) {
		if (evbuffer_add_reference(chunk, data, len, web_reply_free,
		    sc->web) == -1)
			fatalx("evbuffer_add_reference: out of memory");
		sc->web->pending += len;
	}
	sbuf_fini(b);
	evhttp_send_reply_chunk_with_cb(sc->req, chunk, web_scrape_next, sc);
	evbuffer_free(chunk);
}

/* The last chunk is written: the next one, or the end. */
static void
web_scrape_next(struct evhttp_connection *conn, void *arg)
{
	struct web_scrape	*sc = arg;
	struct web		*w = sc->web;
	struct sbuf		 b;
	int			 more;

	sbuf_init(&b, 0);
	pthread_mutex_lock(&w->sd->lock);
	/* more: b holds WEB_CHUNK bytes at least, so it is sent */
	more = metrics_cursor_write(&sc->cursor, &b, WEB_CHUNK);
	pthread_mutex_unlock(&w->sd->lock);
	if (b.overflow) {
		/*
		 * Cannot be: a chunk is WEB_CHUNK and one series' lines of
		 * one family, under 1 MB with every label value at its
		 * 128 bytes.  Were it so, the client must see a broken
		 * answer, not a short one: the connection goes without the
		 * last chunk, as libevent's own evhttp_send_done frees it
		 * from this callback.
		 */
		log_warnx("HTTP /metrics: a chunk passed %zu bytes; "
		    "connection closed", b.limit);
		sbuf_fini(&b);
		evhttp_connection_set_closecb(sc->conn, NULL, NULL);
		web_scrape_free(sc);
		evhttp_connection_free(conn);
		return;
	}
	/* a piece short of WEB_CHUNK is the last one */
	if (b.len > 0)
		web_scrape_chunk(sc, &b);
	else
		sbuf_fini(&b);
	if (more)
		return;
	evhttp_connection_set_closecb(sc->conn, NULL, NULL);
	evhttp_send_reply_end(sc->req);
	web_scrape_free(sc);
}

/*
 * The client went before the end.  libevent took the request off the
 * connection (an EOF or timeout while writing) and leaves it to us, or
 * is freeing both (evhttp_free at the stop).
 */
static void
web_scrape_closed(struct evhttp_connection *conn, void *arg)
{
	struct web_scrape	*sc = arg;

	if (evhttp_request_get_connection(sc->req) == NULL)
		evhttp_request_free(sc->req);
	web_scrape_free(sc);
}

static void
web_scrape_free(struct web_scrape *sc)
{
	metrics_cursor_fini(&sc->cursor);
	free(sc);
}

static void
web_graph(struct web *w, struct evhttp_request *req)
{
	struct graph_snapshot	 snap;
	struct evkeyvalq	 q;
	const char		*query, *v;
	uint64_t		 window = GRAPH_DEFAULT_WINDOW_MS;
	char			*end;
	unsigned long		 secs;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0 &&
	    (v = evhttp_find_header(&q, "window")) != NULL) {
		secs = strtoul(v, &end, 10);
		if (*end != '\0' || secs < 1 || secs > GRAPH_SLOTS) {
			evhttp_clear_headers(&q);
			web_reply(w, req, 400, "text/plain", "window: 1..60 "
			    "seconds\n", 19, 0);
			return;
		}
		window = secs * 1000;
	}
	evhttp_clear_headers(&q);
	sbuf_reset(&w->out);
	pthread_mutex_lock(&w->sd->lock);
	graph_snapshot_take(w->sd->stats->graph, util_now_ms(), window,
	    STATSD_HISTORY, &snap);
	snap.generation = w->sd->d.generation;
	pthread_mutex_unlock(&w->sd->lock);
	graph_snapshot_write_json(&snap, &w->out);
	graph_snapshot_fini(&snap);
	web_reply(w, req, 200, "application/json", w->out.buf, w->out.len, 1);
}

/* The daemons' status, expiry: once a second. */
static void
web_on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct web	*w = arg;
	struct statsd	*sd = w->sd;
	size_t		 i;

	pthread_mutex_lock(&sd->lock);
	stats_expire(sd->stats, util_now_ms());
	pthread_mutex_unlock(&sd->lock);
	for (i = 0; i < sd->ndaemons; i++)
		web_poll(&sd->daemons[i]);
}

static int
web_poll_open(struct statsd_daemon *dm)
{
	struct stat	 sb;
	int		 rv;

	/* a daemon of the run directory that was never started: skip */
	if (!dm->given && strncmp(dm->url, "ipc://", 6) == 0 &&
	    stat(dm->url + 6, &sb) == -1)
		return -1;
	if ((rv = nng_req0_open(&dm->sock)) != 0) {
		log_warnx("%s: nng socket: %s", dm->name, nng_strerror(rv));
		return -1;
	}
	nng_socket_set_ms(dm->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_size(dm->sock, NNG_OPT_RECVMAXSZ, MSG_MAX_BYTES);
	if ((rv = nng_dial(dm->sock, dm->url, NULL, NNG_FLAG_NONBLOCK)) != 0 ||
	    (rv = nng_ctx_open(&dm->ctx, dm->sock)) != 0 ||
	    (rv = nng_aio_alloc(&dm->aio, web_poll_cb, dm)) != 0) {
		log_warnx("%s at %s: %s", dm->name, dm->url, nng_strerror(rv));
		nng_close(dm->sock);
		return -1;
	}
	nng_aio_set_timeout(dm->aio, STATSD_POLL_TIMEOUT_MS);
	dm->open = 1;
	return 0;
}

static void
web_poll(struct statsd_daemon *dm)
{
	static const char	 q[] = "meshkit/1 status\n";
	nng_msg			*m;
	int			 redial;

	pthread_mutex_lock(&dm->sd->lock);
	if (dm->busy) {
		pthread_mutex_unlock(&dm->sd->lock);
		return;
	}
	/*
	 * Unanswered a few times in a row: a new socket, since nng 1.5's
	 * dialer can give up for good on a daemon that was restarted (see
	 * proxy-d's IPC_REDIAL_MS).  Nothing is in flight here.
	 */
	if ((redial = dm->open && dm->failures >= STATSD_POLL_REDIAL))
		dm->failures = 0;
	pthread_mutex_unlock(&dm->sd->lock);
	if (redial)
		daemon_sock_close(dm->sock, &dm->open, &dm->aio);
	if (!dm->open && web_poll_open(dm) == -1)
		return;
	pthread_mutex_lock(&dm->sd->lock);
	dm->busy = 1;
	pthread_mutex_unlock(&dm->sd->lock);
	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, q,
	    sizeof(q) - 1) != 0) {
		pthread_mutex_lock(&dm->sd->lock);
		dm->busy = 0;
		pthread_mutex_unlock(&dm->sd->lock);
		return;
	}
	nng_aio_set_msg(dm->aio, m);
	nng_ctx_send(dm->ctx, dm->aio);
}

/* On an nng thread: the question went (busy 1), the answer came (2). */
static void
web_poll_cb(void *arg)
{
	struct statsd_daemon	*dm = arg;
	nng_msg			*m;
	int			 rv;

	if ((rv = nng_aio_result(dm->aio)) != 0) {
		if (dm->busy == 1 && (m = nng_aio_get_msg(dm->aio)) != NULL)
			nng_msg_free(m);
		pthread_mutex_lock(&dm->sd->lock);
		dm->up = 0;
		dm->busy = 0;
		dm->failures++;
		pthread_mutex_unlock(&dm->sd->lock);
		return;
	}
	if (dm->busy == 1) {
		dm->busy = 2;
		nng_ctx_recv(dm->ctx, dm->aio);
		return;
	}
	m = nng_aio_get_msg(dm->aio);
	pthread_mutex_lock(&dm->sd->lock);
	free(dm->reply);
	dm->reply_len = nng_msg_len(m);
	dm->reply = xmalloc(dm->reply_len + 1);
	memcpy(dm->reply, nng_msg_body(m), dm->reply_len);
	dm->reply[dm->reply_len] = '\0';
	dm->up = 1;
	dm->busy = 0;
	dm->failures = 0;
	pthread_mutex_unlock(&dm->sd->lock);
	nng_msg_free(m);
}

/* Spans to collectors: each one's queue in one request. */
static void
web_on_export(evutil_socket_t fd, short ev, void *arg)
{
	struct web	*w = arg;
	size_t		 i, n;

	pthread_mutex_lock(&w->sd->lock);
	n = w->sd->stats->ncollectors;
	pthread_mutex_unlock(&w->sd->lock);
	for (i = 0; i < n; i++)
		web_export_one(w, i);
	event_add(w->export, &(struct timeval){ (time_t)(w->export_ms / 1000),
	    (suseconds_t)(w->export_ms % 1000) * 1000 });
}

static void
web_export_one(struct web *w, size_t i)
{
	struct web_export	*x = &w->exports[i];
	struct stats_collector	*c;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	struct span		**spans;
	struct sbuf		 body;
	char			 hostport[300], *json;
	size_t			 n, k, len;
	uint64_t		 timeout;

	if (x->busy)
		return;		/* the spans wait, up to stats.maxSpans */
	pthread_mutex_lock(&w->sd->lock);
	c = w->sd->stats->collectors[i];
	spans = stats_take_spans(w->sd->stats, c, &n);
	pthread_mutex_unlock(&w->sd->lock);
	if (n == 0 || strcmp(c->host, "-") == 0) {
		while (n > 0)
			trace_span_free(spans[--n]);
		free(spans);
		return;
	}
	sbuf_init(&body, 0);
	if (c->kind == PROVIDER_ZIPKIN)
		trace_zipkin_write(&body, spans, n);
	else
		trace_otlp_write(&body, spans, n);
	for (k = 0; k < n; k++)
		trace_span_free(spans[k]);
	free(spans);

	x->web = w;
	x->collector = c;
	if (x->conn == NULL || x->host == NULL || strcmp(x->host, c->host) !=
	    0 || x->port != c->port) {
		if (x->conn != NULL)
			evhttp_connection_free(x->conn);
		free(x->host);
		x->host = xstrdup(c->host);
		x->port = c->port;
		x->conn = evhttp_connection_base_new(w->base, w->dns, c->host,
		    (uint16_t)c->port);
	}
	if (x->conn == NULL || (req = evhttp_request_new(web_export_done,
	    x)) == NULL) {
		pthread_mutex_lock(&w->sd->lock);
		c->failures++;
		c->dropped += n;
		pthread_mutex_unlock(&w->sd->lock);
		sbuf_fini(&body);
		return;
	}
	timeout = c->timeout_ms != 0 ? c->timeout_ms :
	    STATSD_EXPORT_TIMEOUT_MS;
	evhttp_connection_set_timeout(x->conn, (int)((timeout + 999) / 1000));
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%u", c->host, c->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Content-Type", "application/json");
	for (k = 0; k < c->headers.n; k++)
		evhttp_add_header(h, c->headers.keys[k], c->headers.values[k]);
	/* the body is handed over, not copied: one export's JSON in memory */
	if ((json = sbuf_detach(&body, &len)) != NULL &&
	    evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    json, len, web_body_free, NULL) == -1)
		free(json);
	x->busy = 1;
	x->nspans = n;
	if (evhttp_make_request(x->conn, req, EVHTTP_REQ_POST, c->path) ==
	    -1) {
		x->busy = 0;
		pthread_mutex_lock(&w->sd->lock);
		c->failures++;
		c->dropped += n;
		pthread_mutex_unlock(&w->sd->lock);
	}
}

static void
web_body_free(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

static void
web_export_done(struct evhttp_request *req, void *arg)
{
	struct web_export	*x = arg;
	struct stats_collector	*c = x->collector;
	int			 code = req != NULL ?
				    evhttp_request_get_response_code(req) : 0;

	x->busy = 0;
	pthread_mutex_lock(&x->web->sd->lock);
	if (code >= 200 && code < 300)
		c->exported += x->nspans;
	else {
		if ((c->failures == 0 || c->failures % 60 == 0) && code == 0)
			log_warnx("export of %zu spans to %s (%s:%u%s): no "
			    "answer", x->nspans, c->provider, c->host, c->port,
			    c->path);
		else if (c->failures == 0 || c->failures % 60 == 0)
			log_warnx("export of %zu spans to %s (%s:%u%s): status "
			    "%d", x->nspans, c->provider, c->host, c->port,
			    c->path, code);
		c->failures++;
		c->dropped += x->nspans;
	}
	pthread_mutex_unlock(&x->web->sd->lock);
}
