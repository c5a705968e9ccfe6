/*
 * A downstream connection and the requests it carries: read and check
 * the head, find the destination, forward head and body to an upstream
 * connection, stream the response back, then the next request.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "match.h"
#include "proxy.h"
#include "util.h"

static void	client_readcb(struct bufferevent *, void *);
static void	client_writecb(struct bufferevent *, void *);
static void	client_eventcb(struct bufferevent *, short, void *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_wait_request(struct session *);
static void	session_read_head(struct session *);
static void	session_start_request(struct session *);
static void	session_forward(struct session *, struct pool *);
static void	session_proceed(struct session *);
static int	session_retry(struct session *, enum retry_outcome, int, int);
static void	session_try_failed(struct session *, enum retry_outcome, int,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static void	session_timer_rearm(struct session *);
static int	session_cors(struct session *);
static void	session_mirror(struct session *);
static size_t	request_head_need(const struct session *);
static char	*request_head_put(struct session *, char *, int);
static void	session_pump_request(struct session *);
static void	session_pump_response(struct session *);
static int	session_response_head(struct session *);
static void	session_response_done(struct session *);
static void	session_error(struct session *, int, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	session_respond(struct session *, int, const char *,
		    const char *, const char *, size_t, const char *,
		    const char *);
static void	session_redirect(struct session *, const struct route_policy *);
static int	header_op_names(const struct route_policy *, int,
		    struct str);
static char	*put_header_ops(char *, const struct route_policy *, int);
static size_t	header_ops_len(const struct route_policy *);
static void	session_close(struct session *);
static void	session_abort(struct session *, const char *);
static void	timer_set(struct session *, uint64_t);
static int	session_headers_fit(struct session *);
static char	*put_transfer_encoding(char *, const struct http_header *,
		    size_t);
static ssize_t	chunked_span(struct evbuffer *, struct http_chunked *, int *,
		    struct http_error *);
static size_t	connection_fields(const struct http_header *, size_t,
		    struct http_header *, size_t, const struct http_header **);

#define MAX_CONNECTION_FIELDS	8

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
 * How many bytes at the start of buf belong to the chunked body, looking
 * at all of buf whatever the number of its chains; -1 on bad framing.
 */
static ssize_t
chunked_span(struct evbuffer *buf, struct http_chunked *c, int *done,
    struct http_error *err)
{
	struct evbuffer_ptr	 pos;
	struct evbuffer_iovec	 vec[16];
	size_t			 total = 0;
	int			 nvec, i;
	ssize_t			 r;

	*done = 0;
	evbuffer_ptr_set(buf, &pos, 0, EVBUFFER_PTR_SET);
	for (;;) {
		nvec = evbuffer_peek(buf, -1, &pos, vec, 16);
		if (nvec <= 0)
			break;
		for (i = 0; i < nvec && i < 16; i++) {
			r = http_chunked_feed(c, vec[i].iov_base,
			    vec[i].iov_len, done, err);
			if (r < 0)
				return -1;
			total += (size_t)r;
			if (*done || (size_t)r < vec[i].iov_len)
				return (ssize_t)total;
		}
		/* with len -1, evbuffer_peek() stops at n_vec: 16 means
		   there may be more */
		if (nvec < 16 || evbuffer_ptr_set(buf, &pos, total,
		    EVBUFFER_PTR_SET) == -1)
			break;
	}
	return (ssize_t)total;
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

	memcpy(w, "Transfer-Encoding: ", 19);
	w += 19;
	for (i = 0; i < n; i++) {
		if (!util_str_caseeq(h[i].name, "transfer-encoding"))
			continue;
		if (!first) {
			*w++ = ',';
			*w++ = ' ';
		}
		memcpy(w, h[i].value.p, h[i].value.n);
		w += h[i].value.n;
		first = 0;
	}
	*w++ = '\r';
	*w++ = '\n';
	return w;
}

static void
timer_set(struct session *s, uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
	s->timer_at_ms = util_now_ms() + ms;
}

/*
 * The deadlines of a request being served (route timeout, per-try
 * timeout, a back-off or a fault's delay): the timer is moved only when
 * one of them comes before the time it is set for.
 */
static void
session_timer_rearm(struct session *s)
{
	uint64_t	 next = 0, now;

	if (s->deadline_ms != 0)
		next = s->deadline_ms;
	if (s->wait_kind != SESSION_WAIT_NONE && (next == 0 ||
	    s->wait_until_ms < next))
		next = s->wait_until_ms;
	if (s->try_deadline_ms != 0 && s->up != NULL && !s->resp_head_done &&
	    (next == 0 || s->try_deadline_ms < next))
		next = s->try_deadline_ms;
	if (next == 0)
		return;
	if (evtimer_pending(s->timer, NULL) && s->timer_at_ms <= next)
		return;
	now = util_now_ms();
	timer_set(s, next > now ? next - now : 0);
}

/* The header arrays follow the generation's limit. */
static int
session_headers_fit(struct session *s)
{
	size_t	 n = s->gen->limits.max_headers;

	if (s->maxheaders == n)
		return 0;
	free(s->headers);
	free(s->resp_headers);
	s->headers = xcalloc(n, sizeof(*s->headers));
	s->resp_headers = xcalloc(n, sizeof(*s->resp_headers));
	s->maxheaders = n;
	return 0;
}

void
session_accept(struct proxy *p, struct listener *l, int fd,
    struct sockaddr *sa, int salen)
{
	struct session			*s;
	const struct proxy_config	*pc = p->gen->pc;
	int				 one = 1;
	char				*colon;

	if (p->draining || (pc->max_connections > 0 &&
	    p->nsessions >= pc->max_connections)) {
		static uint64_t last;
		uint64_t now = util_now_ms();

		if (now - last > 1000) {
			log_warnx("%s: refusing a connection (%zu open)",
			    l->address, p->nsessions);
			last = now;
		}
		close(fd);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->proxy = p;
	s->listener = l;
	s->inbound = l->inbound;
	s->forward = l->forward;
	s->gen = generation_ref(p->gen);
	util_format_sockaddr(sa, s->client_addr, sizeof(s->client_addr));
	if (s->client_addr[0] == '[') {
		util_strlcpy(s->client_ip, s->client_addr + 1,
		    sizeof(s->client_ip));
		if ((colon = strrchr(s->client_ip, ']')) != NULL)
			*colon = '\0';
	} else {
		util_strlcpy(s->client_ip, s->client_addr,
		    sizeof(s->client_ip));
		if ((colon = strrchr(s->client_ip, ':')) != NULL)
			*colon = '\0';
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	s->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		close(fd);
		generation_unref(s->gen);
		free(s);
		return;
	}
	s->timer = evtimer_new(p->base, session_timer_cb, s);
	session_headers_fit(s);
	bufferevent_setcb(s->bev, client_readcb, client_writecb,
	    client_eventcb, s);
	/* reading pauses by itself when this much waits unforwarded */
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	    pc->buffer_bytes > pc->max_head_bytes ? pc->buffer_bytes :
	    pc->max_head_bytes + 1);
	bufferevent_setwatermark(s->bev, EV_WRITE, pc->buffer_bytes / 2, 0);
	/* bufferevents start with EV_WRITE on; we write with conn_flush() */
	bufferevent_disable(s->bev, EV_WRITE);
	bufferevent_enable(s->bev, EV_READ);
	TAILQ_INSERT_TAIL(&p->sessions, s, entry);
	p->nsessions++;
	session_wait_request(s);
}

/* Between requests: nothing in flight, wait for the next head. */
static void
session_wait_request(struct session *s)
{
	struct proxy	*p = s->proxy;

	s->state = SESSION_READ_HEAD;
	s->scan = 0;
	s->head_started = 0;
	s->headlen = 0;
	s->up = NULL;
	s->retried = 0;
	s->ncands = 0;
	s->cand = 0;
	s->tried = 0;
	s->tries = 0;
	s->deadline_ms = 0;
	s->try_deadline_ms = 0;
	s->wait_kind = SESSION_WAIT_NONE;
	s->delayed = 0;
	s->replay_lost = 0;
	s->cors_origin = (struct str){ NULL, 0 };
	if (s->replay != NULL) {
		evbuffer_free(s->replay);
		s->replay = NULL;
	}
	s->resp_head_done = 0;
	s->resp_scan = 0;
	s->resp_started = 0;
	s->req_body_done = 0;
	s->flags[0] = '\0';
	s->request_id[0] = '\0';
	s->request_id_in = (struct str){ NULL, 0 };
	policy_unref(s->policy);
	s->policy = NULL;
	authz_decision_unref(s->authz);	/* authz */
	s->authz = NULL;
	if (s->gen != p->gen) {
		generation_unref(s->gen);
		s->gen = generation_ref(p->gen);
		session_headers_fit(s);
	}
	/*
	 * Timers are lazy: the one timer is armed only if it is not, and
	 * when it fires it checks the deadline of the state it finds, so a
	 * request that arrives whole costs no timer operation at all.
	 */
	if (s->eof && evbuffer_get_length(bufferevent_get_input(s->bev)) == 0) {
		session_close(s);	/* the client said all it had */
		return;
	}
	s->idle_since_ms = util_now_ms();
	s->head_timer = 0;
	if (!evtimer_pending(s->timer, NULL))
		timer_set(s, s->gen->pc->idle_timeout_ms);
	bufferevent_enable(s->bev, EV_READ);
	/*
	 * A pipelined request already here is read from the loop, not
	 * from this call: answers given here (a 404, a fault's abort)
	 * would otherwise recurse once per buffered request, and callers
	 * walking a list of waiters would meet it half-changed.
	 */
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		bufferevent_trigger(s->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void
client_readcb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	switch (s->state) {
	case SESSION_READ_HEAD:
		session_read_head(s);
		break;
	case SESSION_FORWARD:
		if (!s->req_body_done)
			session_pump_request(s);
		else
			bufferevent_disable(s->bev, EV_READ);
		break;
	case SESSION_WAIT_ROUTE:
		break;	/* the watermark stops reading soon enough */
	case SESSION_CLOSING:
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	}
}

static void
session_read_head(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	const struct http_limits *lim = &s->gen->limits;
	struct http_error	 err = { 0, NULL };
	size_t			 len = evbuffer_get_length(in), n;
	unsigned char		*data;
	ssize_t			 end;

	if (len == 0)
		return;
	if (!s->head_started) {
		s->head_started = 1;
		s->head_since_ms = util_now_ms();
	}
	n = len < lim->max_head ? len : lim->max_head;
	if ((data = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
		session_abort(s, "out of memory");
		return;
	}
	end = http_head_end((const char *)data, n, &s->scan, lim, &err);
	if (end == 0) {
		if (s->eof) {
			/* the rest of this head will never come */
			session_close(s);
			return;
		}
		/* a head in pieces: from now on its deadline counts */
		if (!s->head_timer) {
			s->head_timer = 1;
			timer_set(s, s->gen->pc->request_head_timeout_ms);
		}
		return;
	}
	if (end < 0) {
		session_error(s, err.status, "DPE", "%s", err.reason);
		return;
	}
	if ((size_t)end > s->headcap) {
		free(s->head);
		s->headcap = (size_t)end < 4096 ? 4096 : (size_t)end;
		s->head = xmalloc(s->headcap);
	}
	memcpy(s->head, data, (size_t)end);
	s->headlen = (size_t)end;
	evbuffer_drain(in, (size_t)end);

	memset(&s->req, 0, sizeof(s->req));
	s->req.headers = s->headers;
	s->req.max_headers = s->maxheaders;
	if (http_parse_request(s->head, s->headlen, lim, &s->req, &err) == -1) {
		s->req.method.n = 0;
		session_error(s, err.status, "DPE", "%s", err.reason);
		return;
	}
	/*
	 * One path for routing, authz-d and the application: normalized
	 * once, here, in place in the head (it only shrinks), as the
	 * MeshConfig's pathNormalization says (lib/uri.c).
	 */
	if ((s->req.form == HTTP_TARGET_ORIGIN ||
	    s->req.form == HTTP_TARGET_ABSOLUTE) &&
	    !(s->req.path.n == 1 && s->req.path.p[0] == '/')) {
		const struct mesh_config *mc = s->gen->config->mesh;
		char		*path = s->head + (s->req.path.p - s->head);
		const char	*why;
		ssize_t		 plen;

		if ((plen = uri_normalize(path, s->req.path.n, mc != NULL ?
		    mc->path_normalization : URI_NORMALIZE_BASE, path,
		    &why)) == -1) {
			session_error(s, 400, "DPE", "%s", why);
			return;
		}
		s->req.path.n = (size_t)plen;
	}
	session_start_request(s);
}

static void
session_start_request(struct session *s)
{
	struct proxy		*p = s->proxy;
	const struct http_request *req = &s->req;
	const struct http_header *h;

	p->requests++;
	s->requests++;
	s->keep_alive = req->keep_alive && !p->draining;
	s->state = SESSION_FORWARD;
	switch (req->framing) {
	case HTTP_BODY_LENGTH:
		s->body_left = req->content_length;
		s->req_body_done = s->body_left == 0;
		break;
	case HTTP_BODY_CHUNKED:
		http_chunked_init(&s->req_chunked, &s->gen->limits);
		s->req_body_done = 0;
		break;
	default:
		s->req_body_done = 1;
		break;
	}
	if ((h = http_header_find(req->headers, req->nheaders,
	    "x-request-id")) == NULL) {
		util_uuid(s->request_id);
		s->request_id_in = (struct str){ NULL, 0 };
	} else {
		s->request_id[0] = '\0';
		s->request_id_in = h->value;
	}

	if (util_str_eq(req->method, "CONNECT")) {
		session_error(s, 501, "DPE", "CONNECT is not supported");
		return;
	}
	if (s->inbound) {
		if (s->forward == NULL) {
			session_error(s, 503, "NR",
			    "no local application for this listener");
			return;
		}
		/* >>> authz: may the caller ask?  (authz.c) */
		if (authz_enabled(s)) {
			authz_request(p, s);
			return;
		}
		/* <<< authz */
		session_forward(s, s->forward);
		return;
	}
	if (req->authority.n == 0) {
		session_error(s, 400, "DPE", "no Host header or absolute URI");
		return;
	}
	routing_request(p, s);
}

/* route-d's answer for this request is in; go. */
void
session_route_ready(struct session *s, struct route_entry *e)
{
	struct pool	*pool;

	s->state = SESSION_FORWARD;
	switch (e->status) {
	case ROUTE_NO_ROUTE:
		session_error(s, 404, "NR", "no route: %s", e->reason[0] ?
		    e->reason : "no service for this host");
		return;
	case ROUTE_ERROR:
		session_error(s, 503, "RDU", "route-d could not decide: %s",
		    e->reason);
		return;
	case ROUTE_OK:
		break;
	}
	policy_unref(s->policy);
	s->policy = policy_ref(e->policy);
	/*
	 * The endpoint for the first try, and the others a retry may move
	 * to, in the answer's order after it: kept here, since the answer
	 * may go while the request waits out a delay or a back-off.
	 */
	s->ncands = 0;
	s->cand = 0;
	s->tried = 0;
	cluster_attach(s, cluster_for(s->proxy, e));	/* breaker */
	if ((pool = cluster_pick(s->proxy, s->cluster, e)) != NULL) {
		size_t i, at = 0;

		for (i = 0; i < e->npools; i++)
			if (e->pools[i] == pool)
				at = i;
		s->cands[s->ncands++] = pool;
		for (i = 1; i < e->npools &&
		    s->ncands < SESSION_MAX_CANDIDATES; i++)
			if (!cluster_skip(s->cluster,	/* breaker */
			    e->pools[(at + i) % e->npools]))
				s->cands[s->ncands++] =
				    e->pools[(at + i) % e->npools];
	}
	session_proceed(s);
}

/* One in ppm (parts per million) of requests. */
static int
sampled(uint32_t ppm)
{
	return ppm >= 1000000 || (ppm > 0 && util_random() % 1000000 < ppm);
}

/*
 * The route is known: a fault's delay and abort, as Istio's fault filter
 * does them (before anything else, never retried), then a direct
 * response or redirect, a CORS preflight, mirrors, and the first try.
 */
static void
session_proceed(struct session *s)
{
	const struct route_policy *pol = s->policy != NULL ? &s->policy->p :
				    NULL;

	if (pol != NULL && !s->delayed && pol->fault_delay_ms > 0 &&
	    sampled(pol->fault_delay_ppm)) {
		s->delayed = 1;
		s->proxy->faults++;
		s->wait_kind = SESSION_WAIT_DELAY;
		s->wait_until_ms = util_now_ms() + pol->fault_delay_ms;
		session_timer_rearm(s);
		return;
	}
	if (pol != NULL && pol->fault_abort_status != 0 &&
	    sampled(pol->fault_abort_ppm)) {
		static const char body[] = "fault filter abort";

		s->proxy->faults++;
		util_strlcpy(s->flags, "FI", sizeof(s->flags));
		session_respond(s, (int)pol->fault_abort_status, "FI",
		    "text/plain", body, sizeof(body) - 1, NULL, NULL);
		return;
	}
	if (pol != NULL && pol->direct_status != 0) {
		session_respond(s, (int)pol->direct_status, NULL,
		    "text/plain", pol->direct_body, strlen(pol->direct_body),
		    NULL, NULL);
		return;
	}
	if (pol != NULL && pol->redirect_code != 0) {
		session_redirect(s, pol);
		return;
	}
	if (pol != NULL && pol->cors && session_cors(s))
		return;		/* a preflight, answered here */
	if (s->ncands == 0) {
		session_error(s, 503, "UH", "no healthy upstream for %.*s",
		    (int)s->req.authority.n, s->req.authority.p);
		return;
	}
	if (pol != NULL && pol->nmirrors > 0)
		session_mirror(s);
	/* >>> breaker: the cluster's connection-pool limits */
	switch (cluster_admit(s->cluster, s)) {
	case -1:
		session_error(s, 503, "UO", "%.*s: upstream connection pool "
		    "full", (int)s->req.authority.n, s->req.authority.p);
		return;
	case 0:
		s->state = SESSION_WAIT_ROUTE;	/* session_cluster_ready */
		/* the route timeout counts the wait, as Envoy's does */
		if (pol != NULL && s->policy->timeout_ms > 0 &&
		    s->req_body_done && s->deadline_ms == 0) {
			s->deadline_ms = util_now_ms() + s->policy->timeout_ms;
			session_timer_rearm(s);
		}
		return;
	}
	/* <<< breaker */
	session_forward(s, s->cands[0]);
}

/* >>> breaker: a queued request may use its cluster now (breaker.c) */
void
session_cluster_ready(struct session *s)
{
	s->state = SESSION_FORWARD;
	session_forward(s, s->cands[0]);
}
/* <<< breaker */

/* >>> authz: authz-d's decision (authz.c) */
void
session_authz_ready(struct session *s, struct authz_decision *d)
{
	s->state = SESSION_FORWARD;
	if (!d->allow) {
		util_strlcpy(s->flags, "UAEX", sizeof(s->flags));
		log_info("%s: %d UAEX %.*s %.*s%.*s: authz-d denied%s%s",
		    s->client_addr, d->status, (int)s->req.method.n,
		    s->req.method.p, (int)s->req.authority.n,
		    s->req.authority.p, (int)s->req.path.n, s->req.path.p,
		    d->reason[0] != '\0' ? ": " : "", d->reason);
		session_respond(s, d->status, "UAEX", "text/plain", d->body,
		    d->bodylen, NULL, NULL);
		return;
	}
	authz_decision_unref(s->authz);
	s->authz = authz_decision_ref(d);
	session_forward(s, s->forward);
}

void
session_authz_failed(struct session *s, const char *reason)
{
	s->state = SESSION_FORWARD;
	session_error(s, s->gen->pc->authz.failure_status, "ADU", "%s",
	    reason);
}
/* <<< authz */

/* The endpoint for the next try: one not tried yet, when there is one. */
static struct pool *
session_next_candidate(struct session *s)
{
	size_t	 i, c;

	for (i = 1; i <= s->ncands; i++) {
		c = (s->cand + i) % s->ncands;
		if (!(s->tried & (1u << c))) {
			s->cand = c;
			return s->cands[c];
		}
	}
	/* all tried: go round again */
	s->tried = 0;
	s->cand = (s->cand + 1) % s->ncands;
	return s->cands[s->cand];
}

void
session_route_failed(struct session *s, int status, const char *flags,
    const char *reason)
{
	s->state = SESSION_FORWARD;
	session_error(s, status, flags, "%s", reason);
}

/*
 * Append the first n bytes of src to dst, leaving src as it is, piece by
 * piece (no pullup: src is not made contiguous).  0, or -1 when memory
 * ran out.
 */
static int
buffer_copy(struct evbuffer *dst, struct evbuffer *src, size_t n)
{
	struct evbuffer_iovec	 v[16];
	struct evbuffer_ptr	 at;
	size_t			 len;
	int			 i, k;

	evbuffer_ptr_set(src, &at, 0, EVBUFFER_PTR_SET);
	while (n > 0) {
		if ((k = evbuffer_peek(src, (ev_ssize_t)n, &at, v, 16)) <= 0)
			return -1;
		for (i = 0; i < k && i < 16 && n > 0; i++) {
			/* the last piece may reach past n */
			len = v[i].iov_len < n ? v[i].iov_len : n;
			if (evbuffer_add(dst, v[i].iov_base, len) == -1)
				return -1;
			n -= len;
			evbuffer_ptr_set(src, &at, len, EVBUFFER_PTR_ADD);
		}
	}
	return 0;
}

/*
 * The request head as it goes upstream: hop-by-hop headers dropped,
 * framing re-emitted, x-forwarded-for and x-request-id added, the
 * route's rewrites and header operations done.  A mirror's copy has
 * "-shadow" added to its host, as Envoy's has, and asks to close.
 */
static size_t
request_head_need(const struct session *s)
{
	const struct http_request *req = &s->req;
	size_t	 i, xff = 0;

	for (i = 0; i < req->nheaders; i++)
		if (util_str_caseeq(req->headers[i].name, "x-forwarded-for"))
			xff += req->headers[i].value.n + 2;
	/* a header written "a:b" comes out as "a: b": a byte more each */
	return s->headlen + req->authority.n + req->path.n + xff +
	    2 * req->nheaders + 512 + (s->policy != NULL ?
	    header_ops_len(&s->policy->p) + strlen(s->policy->p.rewrite_path) +
	    strlen(s->policy->p.rewrite_authority) : 0) +
	    (s->authz != NULL ? authz_headers_len(s->authz) : 0); /* authz */
}

static char *
request_head_put(struct session *s, char *w, int mirror)
{
	const struct http_request *req = &s->req;
	size_t			 i;
	int			 absolute = req->form == HTTP_TARGET_ABSOLUTE;
	const struct route_policy *pol = s->policy != NULL ? &s->policy->p :
				    NULL;
	struct str		 path = req->path, host = req->authority;
	int			 new_host = absolute || mirror;
	int			 attempts = s->policy != NULL &&
				    s->policy->retry.attempts > 0 && !mirror;
	struct http_header	 connbuf[MAX_CONNECTION_FIELDS];
	const struct http_header *conn;
	size_t			 nconn;

	if (pol != NULL && pol->rewrite_path[0] != '\0')
		path = (struct str){ pol->rewrite_path,
		    strlen(pol->rewrite_path) };
	if (pol != NULL && pol->rewrite_authority[0] != '\0') {
		host = (struct str){ pol->rewrite_authority,
		    strlen(pol->rewrite_authority) };
		new_host = 1;
	}
#define PUT(ptr, len)	do { memcpy(w, (ptr), (len)); w += (len); } while (0)
#define PUTS(lit)	PUT(lit, sizeof(lit) - 1)
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
		PUTS(" HTTP/1.0\r\nConnection: keep-alive\r\n");
	else
		PUTS(" HTTP/1.1\r\n");
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
		    (pol != NULL && header_op_names(pol, 0, h->name)) ||
		    (s->authz != NULL && authz_removes(s->authz, h->name)))
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
	PUT(s->client_ip, strlen(s->client_ip));
	PUTS("\r\n");
	if (pol != NULL)
		w = put_header_ops(w, pol, 0);
	if (s->authz != NULL)		/* authz */
		w = authz_put_headers(w, s->authz);
	if (s->request_id[0] != '\0') {
		PUTS("x-request-id: ");
		PUT(s->request_id, strlen(s->request_id));
		PUTS("\r\n");
	}
	if (attempts)
		w += snprintf(w, 48, "x-envoy-attempt-count: %u\r\n",
		    s->tries);
	if (req->framing == HTTP_BODY_LENGTH)
		w += snprintf(w, 32, "Content-Length: %llu\r\n",
		    (unsigned long long)req->content_length);
	else if (req->framing == HTTP_BODY_CHUNKED)
		w = put_transfer_encoding(w, req->headers, req->nheaders);
	PUTS("\r\n");
#undef PUT
#undef PUTS
	return w;
}

/*
 * One try: connect (or take a pooled connection), send the head, and
 * the body bytes already sent on an earlier try, then the rest as it
 * comes.
 */
static void
session_forward(struct session *s, struct pool *pool)
{
	struct proxy		*p = s->proxy;
	const struct http_request *req = &s->req;
	const struct policy	*pol = s->policy;
	struct evbuffer		*out;
	struct evbuffer_iovec	 iov;
	char			*w;
	size_t			 need;
	uint64_t		 now;

	s->tries++;
	if (s->ncands > 0)
		s->tried |= 1u << s->cand;
	if (pol != NULL && (pol->timeout_ms > 0 ||
	    pol->retry.per_try_ms > 0)) {
		now = util_now_ms();
		/* the route timeout runs from the end of the request */
		if (s->tries == 1 && pol->timeout_ms > 0 && s->req_body_done &&
		    s->deadline_ms == 0)
			s->deadline_ms = now + pol->timeout_ms;
		s->try_deadline_ms = pol->retry.per_try_ms > 0 ?
		    now + pol->retry.per_try_ms : 0;
	}
	/* a body that may have to go again is kept as it goes */
	if (s->tries == 1 && pol != NULL && pol->retry.attempts > 0 &&
	    !s->req_body_done) {
		/* too long to keep: retried only until its body begins */
		if (req->framing != HTTP_BODY_LENGTH ||
		    req->content_length <= s->gen->pc->retry_buffer_bytes)
			s->replay = evbuffer_new();
	}
	if ((s->up = upstream_acquire(p, pool, s, s->retried)) == NULL) {
		session_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE, 503, "UF",
		    "cannot connect to %s", pool->name);
		return;
	}
	need = request_head_need(s);
	out = bufferevent_get_output(s->up->bev);
	if (evbuffer_reserve_space(out, (ev_ssize_t)need, &iov, 1) < 1 ||
	    iov.iov_len < need) {
		session_error(s, 503, "UF", "out of memory");
		return;
	}
	w = request_head_put(s, iov.iov_base, 0);
	iov.iov_len = (size_t)(w - (char *)iov.iov_base);
	evbuffer_commit_space(out, &iov, 1);
	/* a copy: the kept bytes may be needed for one more try */
	if (s->replay != NULL &&
	    buffer_copy(out, s->replay, evbuffer_get_length(s->replay)) == -1) {
		session_error(s, 503, "UF", "out of memory");
		return;
	}
	session_timer_rearm(s);
	if (!s->req_body_done)
		session_pump_request(s);
	else if (s->up->connected)
		conn_flush(s->up->bev);
}

/* Move request body bytes from the client to the upstream. */
static void
session_pump_request(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer		*out;
	size_t			 len = evbuffer_get_length(in), n = 0;
	struct http_error	 err = { 0, NULL };

	if (s->up == NULL || s->req_body_done)
		return;
	out = bufferevent_get_output(s->up->bev);
	if (s->req.framing == HTTP_BODY_LENGTH) {
		n = len < s->body_left ? len : (size_t)s->body_left;
		s->body_left -= n;
		if (s->body_left == 0)
			s->req_body_done = 1;
	} else {
		int		 done;
		ssize_t		 r;

		r = chunked_span(in, &s->req_chunked, &done, &err);
		if (r < 0) {
			session_error(s, err.status ? err.status : 400, "DPE",
			    "bad chunked request body: %s", err.reason);
			return;
		}
		n = (size_t)r;
		if (done)
			s->req_body_done = 1;
	}
	if (n > 0 && s->replay == NULL)
		s->replay_lost = 1;	/* body bytes gone, not kept */
	else if (n > 0) {
		/* kept for a retry, up to the cap */
		if (evbuffer_get_length(s->replay) + n >
		    s->gen->pc->retry_buffer_bytes) {
			evbuffer_free(s->replay);
			s->replay = NULL;
			s->replay_lost = 1;
		} else if (buffer_copy(s->replay, in, n) == -1) {
			evbuffer_free(s->replay);
			s->replay = NULL;
			s->replay_lost = 1;
		}
	}
	if (n > 0)
		evbuffer_remove_buffer(in, out, n);
	if (s->up->connected)
		conn_flush(s->up->bev);
	if (s->req_body_done) {
		/* the route timeout runs from the end of the request */
		if (s->policy != NULL && s->policy->timeout_ms > 0 &&
		    s->deadline_ms == 0) {
			s->deadline_ms = util_now_ms() + s->policy->timeout_ms;
			session_timer_rearm(s);
		}
		/* what follows is the next request: it waits its turn */
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (evbuffer_get_length(out) >= s->gen->pc->buffer_bytes) {
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_setwatermark(s->up->bev, EV_WRITE,
		    s->gen->pc->buffer_bytes / 2, 0);
	} else
		bufferevent_enable(s->bev, EV_READ);
}

/* The upstream drained its output: room for more request body. */
void
session_upstream_write(struct session *s)
{
	if (s == NULL || s->state != SESSION_FORWARD || s->req_body_done)
		return;
	bufferevent_enable(s->bev, EV_READ);
	session_pump_request(s);
}

void
session_upstream_read(struct session *s)
{
	if (s == NULL || s->state != SESSION_FORWARD)
		return;
	if (!s->resp_head_done) {
		int r;

		while ((r = session_response_head(s)) == 1)
			;
		if (r < 0)
			return;
		if (r == 0) {
			conn_flush(s->bev);	/* a 100 Continue, say */
			return;
		}
	}
	session_pump_response(s);
}

/*
 * Read and forward one response head.  Returns 1 after an interim (1xx)
 * head, 2 after the final head, 0 when more bytes are needed, -1 when the
 * session is gone to an error.
 */
static int
session_response_head(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->up->bev);
	struct evbuffer		*out = bufferevent_get_output(s->bev);
	const struct http_limits *lim = &s->gen->limits;
	struct http_response	*resp = &s->resp;
	struct http_error	 err = { 0, NULL };
	struct evbuffer_iovec	 iov;
	size_t			 len = evbuffer_get_length(in), n, i, need;
	unsigned char		*data;
	ssize_t			 end;
	char			*w, *start;
	struct http_header	 connbuf[MAX_CONNECTION_FIELDS];
	const struct http_header *conn;
	size_t			 nconn;

	if (len == 0)
		return 0;
	n = len < lim->max_head ? len : lim->max_head;
	if ((data = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
		session_abort(s, "out of memory");
		return -1;
	}
	end = http_head_end((const char *)data, n, &s->resp_scan, lim, &err);
	if (end == 0)
		return 0;
	if (end < 0) {
		session_try_failed(s, RETRY_OUTCOME_RESET, 502, "UPE",
		    "invalid response head from %s: %s", s->up->pool->name,
		    err.reason);
		return -1;
	}
	memset(resp, 0, sizeof(*resp));
	resp->headers = s->resp_headers;
	resp->max_headers = s->maxheaders;
	if (http_parse_response((const char *)data, (size_t)end, lim,
	    s->req.method, resp, &err) == -1) {
		session_try_failed(s, RETRY_OUTCOME_RESET, 502, "UPE",
		    "invalid response from %s: %s", s->up->pool->name,
		    err.reason);
		return -1;
	}
	if (resp->status == 101) {
		session_error(s, 502, "UPE", "%s switched protocols unasked",
		    s->up->pool->name);
		return -1;
	}
	if (resp->status >= 200 && s->cluster != NULL) { /* >>> breaker */
		char code[16];

		snprintf(code, sizeof(code), "%03d", resp->status);
		cluster_report(s->proxy, s->cluster, s->up->pool, code);
	}						/* <<< breaker */
	if (resp->status >= 200 && s->policy != NULL &&
	    s->policy->retry.attempts > 0) {
		const struct http_header *g = http_header_find(resp->headers,
		    resp->nheaders, "grpc-status");
		int grpc = -1;

		if (g != NULL && g->value.n > 0 && g->value.n < 4) {
			size_t k;

			grpc = 0;
			for (k = 0; k < g->value.n && grpc >= 0; k++)
				grpc = isdigit((unsigned char)g->value.p[k]) ?
				    grpc * 10 + (g->value.p[k] - '0') : -1;
		}
		if (session_retry(s, RETRY_OUTCOME_RESPONSE, resp->status,
		    grpc))
			return -1;
	}
	if (resp->framing == HTTP_BODY_CLOSE)
		s->keep_alive = 0;

	need = (size_t)end + 2 * resp->nheaders + 128 +
	    (s->policy != NULL ? header_ops_len(&s->policy->p) : 0) +
	    (s->cors_origin.n > 0 ? s->cors_origin.n + 128 +
	    strlen(s->policy->p.cors_expose_headers) : 0);
	if (evbuffer_reserve_space(out, (ev_ssize_t)need, &iov, 1) < 1 ||
	    iov.iov_len < need) {
		session_abort(s, "out of memory");
		return -1;
	}
	start = w = iov.iov_base;
	w += snprintf(w, 64, "HTTP/1.1 %03d ", resp->status);
	memcpy(w, resp->reason.p, resp->reason.n);
	w += resp->reason.n;
	*w++ = '\r';
	*w++ = '\n';
	nconn = connection_fields(resp->headers, resp->nheaders, connbuf,
	    MAX_CONNECTION_FIELDS, &conn);
	for (i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];

		/* Content-Length is re-emitted from the framing, except on
		   a bodiless answer (HEAD, 304), where it is information */
		if ((http_is_hop_by_hop(h, conn, nconn) &&
		    !(resp->framing == HTTP_BODY_NONE &&
		    util_str_caseeq(h->name, "content-length"))) ||
		    (s->policy != NULL && resp->status >= 200 &&
		    header_op_names(&s->policy->p, 1, h->name)) ||
		    (s->cors_origin.n > 0 && resp->status >= 200 &&
		    h->name.n >= 15 && strncasecmp(h->name.p,
		    "access-control-", 15) == 0))
			continue;
		memcpy(w, h->name.p, h->name.n);
		w += h->name.n;
		*w++ = ':';
		*w++ = ' ';
		memcpy(w, h->value.p, h->value.n);
		w += h->value.n;
		*w++ = '\r';
		*w++ = '\n';
	}
	if (resp->status >= 200) {
		if (s->policy != NULL)
			w = put_header_ops(w, &s->policy->p, 1);
		if (s->cors_origin.n > 0) {
			const struct route_policy *pol = &s->policy->p;

			w += sprintf(w, "access-control-allow-origin: %.*s\r\n",
			    (int)s->cors_origin.n, s->cors_origin.p);
			if (pol->cors_credentials == 1)
				w += sprintf(w, "access-control-allow-"
				    "credentials: true\r\n");
			if (pol->cors_expose_headers[0] != '\0')
				w += sprintf(w, "access-control-expose-"
				    "headers: %s\r\n", pol->cors_expose_headers);
		}
		if (resp->framing == HTTP_BODY_LENGTH)
			w += snprintf(w, 48, "Content-Length: %llu\r\n",
			    (unsigned long long)resp->content_length);
		else if (resp->framing == HTTP_BODY_CHUNKED)
			w = put_transfer_encoding(w, resp->headers,
			    resp->nheaders);
		if (!s->keep_alive)
			w += snprintf(w, 48, "Connection: close\r\n");
		else if (s->req.version == 10)
			w += snprintf(w, 48, "Connection: keep-alive\r\n");
	}
	*w++ = '\r';
	*w++ = '\n';
	iov.iov_len = (size_t)(w - start);
	evbuffer_commit_space(out, &iov, 1);
	evbuffer_drain(in, (size_t)end);
	s->resp_scan = 0;
	if (resp->status < 200)
		return 1;	/* 100 Continue and friends: the real one follows */

	s->resp_head_done = 1;
	s->resp_started = 1;
	s->try_deadline_ms = 0;
	switch (resp->framing) {
	case HTTP_BODY_LENGTH:
		s->resp_left = resp->content_length;
		break;
	case HTTP_BODY_CHUNKED:
		http_chunked_init(&s->resp_chunked, lim);
		break;
	default:
		break;
	}
	return 2;
}

/* Move response body bytes from the upstream to the client. */
static void
session_pump_response(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->up->bev);
	struct evbuffer		*out = bufferevent_get_output(s->bev);
	size_t			 len = evbuffer_get_length(in), n = 0;
	int			 done = 0;
	struct http_error	 err = { 0, NULL };

	switch (s->resp.framing) {
	case HTTP_BODY_NONE:
		done = 1;
		break;
	case HTTP_BODY_LENGTH:
		n = len < s->resp_left ? len : (size_t)s->resp_left;
		s->resp_left -= n;
		done = s->resp_left == 0;
		break;
	case HTTP_BODY_CHUNKED: {
		ssize_t r = chunked_span(in, &s->resp_chunked, &done, &err);

		if (r < 0) {
			session_abort(s, "bad chunked response body");
			return;
		}
		n = (size_t)r;
		break;
	}
	case HTTP_BODY_CLOSE:
		n = len;
		break;
	}
	if (n > 0)
		evbuffer_remove_buffer(in, out, n);
	conn_flush(s->bev);
	if (done) {
		session_response_done(s);
		return;
	}
	if (evbuffer_get_length(out) >= s->gen->pc->buffer_bytes)
		bufferevent_disable(s->up->bev, EV_READ);
}

static void
session_response_done(struct session *s)
{
	struct proxy	*p = s->proxy;
	int		 reusable;

	reusable = s->resp.keep_alive && s->req_body_done &&
	    s->resp.framing != HTTP_BODY_CLOSE &&
	    evbuffer_get_length(bufferevent_get_output(s->up->bev)) == 0 &&
	    !cluster_conn_spent(s->cluster, s->up);	/* breaker */
	upstream_release(p, s->up, reusable);
	s->up = NULL;
	cluster_done(s->cluster, s);			/* breaker */
	if (!s->req_body_done)
		s->keep_alive = 0;
	if (!s->keep_alive || p->draining) {
		session_close(s);
		return;
	}
	session_wait_request(s);
}

static void
client_writecb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (s->state == SESSION_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			session_free_now(s);
		return;
	}
	if (s->state == SESSION_FORWARD && s->up != NULL &&
	    s->resp_head_done) {
		bufferevent_enable(s->up->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(s->up->bev)) > 0)
			session_pump_response(s);
	}
}

static void
client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);

		/*
		 * A client that half-closes after whole requests still gets
		 * its responses, pipelined ones included; the connection
		 * closes after the last.  Anything else ends here.
		 */
		if ((s->state == SESSION_FORWARD ||
		    s->state == SESSION_WAIT_ROUTE) && s->req_body_done) {
			s->eof = 1;
			if (evbuffer_get_length(in) == 0)
				s->keep_alive = 0;
			return;
		}
		if (s->state == SESSION_READ_HEAD &&
		    evbuffer_get_length(in) > 0) {
			s->eof = 1;
			session_read_head(s);
			return;
		}
		if (s->state == SESSION_READ_HEAD && s->head_started)
			log_debug("%s: closed in the middle of a request head",
			    s->client_addr);
	} else if (what & BEV_EVENT_ERROR)
		log_debug("%s: %s", s->client_addr,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (s->state == SESSION_FORWARD || s->state == SESSION_WAIT_ROUTE)
		log_info("%s: client went away mid-request (DC)",
		    s->client_addr);
	session_free_now(s);
}

static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	uint64_t	 now = util_now_ms(), since, limit;

	switch (s->state) {
	case SESSION_READ_HEAD:
		if (s->head_started) {
			since = s->head_since_ms;
			limit = s->gen->pc->request_head_timeout_ms;
		} else {
			since = s->idle_since_ms;
			limit = s->gen->pc->idle_timeout_ms;
		}
		if (now < since + limit) {
			timer_set(s, since + limit - now);
			return;
		}
		if (s->head_started) {
			session_error(s, 408, "DPE",
			    "request head not complete in time");
			return;
		}
		session_free_now(s);	/* idle keep-alive connection */
		return;
	case SESSION_CLOSING:
		session_free_now(s);
		return;
	case SESSION_WAIT_ROUTE:
	case SESSION_FORWARD:
		break;
	}
	if (s->deadline_ms != 0 && now >= s->deadline_ms) {
		s->proxy->timeouts++;
		if (s->up != NULL && !s->resp_head_done)	/* breaker */
			cluster_report(s->proxy, s->cluster, s->up->pool,
			    "timeout");
		session_error(s, 504, "UT", "upstream request timeout (%llu ms)",
		    (unsigned long long)(s->policy != NULL ?
		    s->policy->timeout_ms : 0));
		return;
	}
	if (s->wait_kind != SESSION_WAIT_NONE && now >= s->wait_until_ms) {
		enum session_wait w = s->wait_kind;

		s->wait_kind = SESSION_WAIT_NONE;
		if (w == SESSION_WAIT_DELAY)
			session_proceed(s);
		else
			session_forward(s, session_next_candidate(s));
		return;
	}
	if (s->try_deadline_ms != 0 && now >= s->try_deadline_ms &&
	    s->up != NULL && !s->resp_head_done) {
		s->proxy->timeouts++;
		/* breaker: the try's outcome */
		cluster_report(s->proxy, s->cluster, s->up->pool, "timeout");
		session_try_failed(s, RETRY_OUTCOME_TIMEOUT, 504, "UT",
		    "upstream %s: no response within the per-try timeout",
		    s->up->pool->name);
		return;
	}
	session_timer_rearm(s);
}

/*
 * Another try, if the route's retry policy calls for one after this
 * outcome, there are tries and time left, and the body can be sent
 * again.  Returns 1 when the request goes on that way (now, or after a
 * back-off), 0 when this outcome is the answer.
 */
static int
session_retry(struct session *s, enum retry_outcome o, int status, int grpc)
{
	const struct retry_policy *rp;
	uint64_t	 now, backoff;

	if (s->policy == NULL || s->resp_started || s->ncands == 0)
		return 0;
	rp = &s->policy->retry;
	if (s->tries > rp->attempts || !retry_wanted(rp, o, status, grpc))
		return 0;
	if (s->replay_lost)
		return 0;	/* body bytes went that cannot go again */
	now = util_now_ms();
	backoff = retry_backoff_ms(s->tries, RETRY_BACKOFF_BASE_MS,
	    RETRY_BACKOFF_MAX_MS, util_random());
	if (s->deadline_ms != 0 && now + backoff >= s->deadline_ms)
		return 0;
	if (!cluster_retry_ok(s->cluster, s))	/* breaker: max-retries */
		return 0;
	if (o == RETRY_OUTCOME_RESPONSE)
		log_debug("%s: %.*s%.*s: status %d, retry %u in %llu ms",
		    s->client_addr, (int)s->req.authority.n,
		    s->req.authority.p, (int)s->req.path.n, s->req.path.p,
		    status, s->tries, (unsigned long long)backoff);
	else
		log_debug("%s: %.*s%.*s: try failed, retry %u in %llu ms",
		    s->client_addr, (int)s->req.authority.n,
		    s->req.authority.p, (int)s->req.path.n, s->req.path.p,
		    s->tries, (unsigned long long)backoff);
	s->proxy->retries++;
	if (s->up != NULL) {
		/* what the failed try sent back is thrown away with it */
		upstream_abort(s->up);
		s->up = NULL;
	}
	s->try_deadline_ms = 0;
	s->resp_head_done = 0;
	s->resp_scan = 0;
	s->retried = 0;
	if (backoff == 0) {
		session_forward(s, session_next_candidate(s));
		return 1;
	}
	s->wait_kind = SESSION_WAIT_BACKOFF;
	s->wait_until_ms = now + backoff;
	session_timer_rearm(s);
	return 1;
}

/* A try failed with no response: another, or this error is the answer. */
static void
session_try_failed(struct session *s, enum retry_outcome o, int status,
    const char *flags, const char *fmt, ...)
{
	char		 reason[512];
	va_list		 ap;

	if (session_retry(s, o, 0, -1))
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (s->tries > 1)
		session_error(s, status, flags, "%s (after %u tries)", reason,
		    s->tries);
	else
		session_error(s, status, flags, "%s", reason);
}

/*
 * CORS, as Envoy's filter does it for a route with a corsPolicy: a
 * request whose Origin is allowed gets the access-control headers on its
 * response; a preflight (OPTIONS with Access-Control-Request-Method)
 * from an allowed origin is answered here.  Other requests pass as they
 * are.
 */
static int
origin_allowed(const struct policy *pol, struct str origin)
{
	const struct route_policy *p = &pol->p;
	size_t	 i, n;

	for (i = 0; i < p->norigins; i++) {
		const char *v = p->origins[i].value;

		n = strlen(v);
		switch (p->origins[i].kind) {
		case MATCH_EXACT:
			if ((n == 1 && v[0] == '*') || (origin.n == n &&
			    memcmp(origin.p, v, n) == 0))
				return 1;
			break;
		case MATCH_PREFIX:
			if (origin.n >= n && memcmp(origin.p, v, n) == 0)
				return 1;
			break;
		case MATCH_REGEX:
			if (pol->origin_re[i] != NULL && match_regex(
			    pol->origin_re[i], origin.p, origin.n))
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Returns 1 when the request (a preflight) was answered here. */
static int
session_cors(struct session *s)
{
	const struct http_request *req = &s->req;
	const struct route_policy *p = &s->policy->p;
	const struct http_header *o, *m;
	char		 extra[1024];
	int		 n = 0;

	o = http_header_find(req->headers, req->nheaders, "origin");
	if (o == NULL || o->value.n == 0 || o->value.n > 256 ||
	    !origin_allowed(s->policy, o->value))
		return 0;
	m = http_header_find(req->headers, req->nheaders,
	    "access-control-request-method");
	if (!util_str_eq(req->method, "OPTIONS") || m == NULL) {
		s->cors_origin = o->value;
		return 0;
	}
	/* the field limits of route_policy keep all of it inside extra */
	n += snprintf(extra + n, sizeof(extra) - (size_t)n,
	    "access-control-allow-origin: %.*s\r\n", (int)o->value.n,
	    o->value.p);
	if (p->cors_methods[0] != '\0')
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "access-control-allow-methods: %s\r\n", p->cors_methods);
	if (p->cors_allow_headers[0] != '\0')
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "access-control-allow-headers: %s\r\n",
		    p->cors_allow_headers);
	if (p->cors_max_age_ms > 0)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "access-control-max-age: %llu\r\n",
		    (unsigned long long)(p->cors_max_age_ms / 1000));
	if (p->cors_credentials == 1)
		snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "access-control-allow-credentials: true\r\n");
	session_respond(s, 200, NULL, NULL, "", 0, NULL, extra);
	return 1;
}

/*
 * The route's mirrors: each sampled one gets a copy of the request,
 * when its body (if any) is all here already and not over 64 KiB.
 */
static void
session_mirror(struct session *s)
{
	const struct route_policy *p = &s->policy->p;
	struct proxy	*pr = s->proxy;
	struct evbuffer	*in = bufferevent_get_input(s->bev);
	size_t		 i, need, blen = 0;
	char		*buf, *w;

	if (s->req.framing == HTTP_BODY_CHUNKED ||
	    (s->req.framing == HTTP_BODY_LENGTH && (s->req.content_length >
	    64 * 1024 || evbuffer_get_length(in) < s->req.content_length))) {
		pr->mirrors_skipped++;
		return;
	}
	if (s->req.framing == HTTP_BODY_LENGTH)
		blen = (size_t)s->req.content_length;
	need = request_head_need(s);
	buf = NULL;
	for (i = 0; i < p->nmirrors; i++) {
		struct evbuffer	*copy;
		struct pool	*pool;

		if (!sampled(p->mirrors[i].ppm))
			continue;
		if ((pool = pool_get(pr, p->mirrors[i].address)) == NULL)
			continue;
		if (buf == NULL) {
			buf = xmalloc(need);
			w = request_head_put(s, buf, 1);
			need = (size_t)(w - buf);
		}
		copy = evbuffer_new();
		if (evbuffer_add(copy, buf, need) == 0 &&
		    buffer_copy(copy, in, blen) == 0)
			mirror_send(pr, pool, copy);
		else
			pr->mirrors_skipped++;
		evbuffer_free(copy);
	}
	free(buf);
}


void
session_upstream_event(struct session *s, short what)
{
	struct upstream	*u = s->up;
	struct pool	*pool = u->pool;
	const char	*why;

	if (what & BEV_EVENT_TIMEOUT) {
		if (!s->resp_head_done)		/* breaker: the outcome */
			cluster_report(s->proxy, s->cluster, pool,
			    u->connected ? "timeout" : "connect-failure");
		if (!u->connected) {
			session_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE, 503,
			    "UF", "connect to %s timed out", pool->name);
			return;
		}
		if (!s->resp_head_done) {
			session_try_failed(s, RETRY_OUTCOME_TIMEOUT, 504, "UT",
			    "upstream %s sent no response in time", pool->name);
			return;
		}
		session_abort(s, "upstream stalled mid-response");
		return;
	}
	if (!u->connected && (what & BEV_EVENT_ERROR)) {
		cluster_report(s->proxy, s->cluster, pool,	/* breaker */
		    "connect-failure");
		why = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
		session_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE, 503, "UF",
		    "connect to %s failed: %s", pool->name, why);
		return;
	}
	/* EOF or reset on an established connection */
	if (!s->resp_head_done) {
		if (u->reused && !s->retried && s->req.framing ==
		    HTTP_BODY_NONE && evbuffer_get_length(
		    bufferevent_get_input(u->bev)) == 0) {
			/* the pooled connection was closed under us: once
			   more on a new one */
			upstream_abort(u);
			s->up = NULL;
			s->retried = 1;
			s->tries--;	/* not a try of the route's retries */
			session_forward(s, pool);
			return;
		}
		/* breaker: the try's outcome */
		cluster_report(s->proxy, s->cluster, pool, "reset");
		session_try_failed(s, RETRY_OUTCOME_RESET, 503, "UC",
		    "upstream %s closed the connection before responding",
		    pool->name);
		return;
	}
	if (s->resp.framing == HTTP_BODY_CLOSE) {
		session_pump_response(s);
		if (s->up != NULL) {
			s->resp.keep_alive = 0;
			session_response_done(s);
		}
		return;
	}
	session_abort(s, "upstream closed mid-response");
}

/*
 * Header operations of a route.  Does a set or remove on this side
 * (0 request, 1 response) name this header, so the original goes?
 */
static int
header_op_names(const struct route_policy *p, int response, struct str name)
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
put_header_ops(char *w, const struct route_policy *p, int response)
{
	size_t	 i, n, v;

	for (i = 0; i < p->nheaders; i++) {
		enum route_header_op_kind k = p->headers[i].kind;

		if (response ? (k != ROUTE_RESPONSE_SET &&
		    k != ROUTE_RESPONSE_ADD) : (k != ROUTE_REQUEST_SET &&
		    k != ROUTE_REQUEST_ADD))
			continue;
		n = strlen(p->headers[i].name);
		v = strlen(p->headers[i].value);
		memcpy(w, p->headers[i].name, n);
		w += n;
		*w++ = ':';
		*w++ = ' ';
		memcpy(w, p->headers[i].value, v);
		w += v;
		*w++ = '\r';
		*w++ = '\n';
	}
	return w;
}

static size_t
header_ops_len(const struct route_policy *p)
{
	size_t	 i, n = 0;

	for (i = 0; i < p->nheaders; i++)
		n += strlen(p->headers[i].name) +
		    strlen(p->headers[i].value) + 4;
	return n;
}

/*
 * A route's redirect: the request's URL with the parts the route names
 * replaced, in a Location header.
 */
static void
session_redirect(struct session *s, const struct route_policy *p)
{
	const struct http_request *req = &s->req;
	char		 host[256], portbuf[16] = "", location[1400];
	struct str	 scheme, uri;
	int		 port = 0, v6;

	if (p->redirect_scheme[0] != '\0')
		scheme = (struct str){ p->redirect_scheme,
		    strlen(p->redirect_scheme) };
	else
		scheme = req->scheme.n > 0 ? req->scheme : STR_LIT("http");
	if (p->redirect_authority[0] != '\0')
		util_strlcpy(host, p->redirect_authority, sizeof(host));
	else if (util_split_hostport(req->authority.p, req->authority.n,
	    host, sizeof(host), &port, 0) == -1) {
		snprintf(host, sizeof(host), "%.*s", (int)req->authority.n,
		    req->authority.p);
		port = 0;
	}
	if (p->redirect_port != 0)
		port = (int)p->redirect_port;
	if (port != 0)
		snprintf(portbuf, sizeof(portbuf), ":%d", port);
	if (p->redirect_uri[0] != '\0')
		uri = (struct str){ p->redirect_uri, strlen(p->redirect_uri) };
	else
		uri = req->path;
	v6 = strchr(host, ':') != NULL && host[0] != '[';
	snprintf(location, sizeof(location), "%.*s://%s%s%s%s%.*s",
	    (int)scheme.n, scheme.p, v6 ? "[" : "", host, v6 ? "]" : "",
	    portbuf, (int)uri.n, uri.p);
	session_respond(s, (int)p->redirect_code, NULL, NULL, "", 0,
	    location, NULL);
}

/*
 * Answer the request from here: status, optional flags, body, and a
 * Location for redirects.  After a response has begun there is nothing
 * to say: the connection is cut.
 */
static void
session_respond(struct session *s, int status, const char *flags,
    const char *content_type, const char *body, size_t blen,
    const char *location, const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(s->bev);
	struct str	 rid;
	int		 close_after;

	/* the id the client sent, or the one proxy-d made for it */
	if (s->request_id[0] != '\0')
		rid = (struct str){ s->request_id, strlen(s->request_id) };
	else
		rid = s->request_id_in;
	if (s->up != NULL) {
		upstream_abort(s->up);
		s->up = NULL;
	}
	routing_cancel(s);
	authz_cancel(s);		/* authz */
	cluster_done(s->cluster, s);	/* breaker */
	/* a request whose body was not read leaves the stream unusable */
	close_after = status == 400 || status == 408 || status == 413 ||
	    status == 414 || status == 431 || status == 501 || status == 505 ||
	    !s->req_body_done || !s->keep_alive || s->proxy->draining;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    http_status_text(status));
	if (content_type != NULL)
		evbuffer_add_printf(out, "content-type: %s\r\n",
		    content_type);
	evbuffer_add_printf(out, "content-length: %zu\r\n", blen);
	if (flags != NULL)
		evbuffer_add_printf(out, "x-meshkit-flags: %s\r\n", flags);
	if (location != NULL)
		evbuffer_add_printf(out, "location: %s\r\n", location);
	if (extra != NULL)
		evbuffer_add(out, extra, strlen(extra));
	if (rid.n > 0)
		evbuffer_add_printf(out, "x-request-id: %.*s\r\n", (int)rid.n,
		    rid.p);
	evbuffer_add_printf(out, "%s\r\n", close_after ?
	    "connection: close\r\n" : "");
	if (blen > 0 && !util_str_eq(s->req.method, "HEAD"))
		evbuffer_add(out, body, blen);
	s->resp_started = 0;
	if (close_after) {
		session_close(s);
		return;
	}
	conn_flush(s->bev);
	session_wait_request(s);
}

/*
 * Answer with an error of proxy-d's own: status, flags in
 * x-meshkit-flags, the reason in the body.  After a response has begun
 * there is nothing to say: the connection is cut.
 */
static void
session_error(struct session *s, int status, const char *flags,
    const char *fmt, ...)
{
	char		 reason[512], body[640];
	va_list		 ap;
	int		 blen;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (s->resp_started) {
		session_abort(s, reason);
		return;
	}
	util_strlcpy(s->flags, flags, sizeof(s->flags));
	log_info("%s: %d %s %.*s %.*s%.*s: %s", s->client_addr, status, flags,
	    (int)s->req.method.n, s->req.method.p, (int)s->req.authority.n,
	    s->req.authority.p, (int)s->req.path.n, s->req.path.p, reason);
	blen = snprintf(body, sizeof(body), "meshkit: %s (%s)\n", reason,
	    flags);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)strlen(body);
	session_respond(s, status, flags, "text/plain", body, (size_t)blen,
	    NULL, NULL);
}

/* Flush what is queued for the client, then free: never right here. */
static void
session_close(struct session *s)
{
	s->state = SESSION_CLOSING;
	routing_cancel(s);
	authz_cancel(s);		/* authz */
	cluster_done(s->cluster, s);	/* breaker */
	if (s->up != NULL) {
		upstream_abort(s->up);
		s->up = NULL;
	}
	bufferevent_disable(s->bev, EV_READ);
	evtimer_del(s->timer);
	conn_flush(s->bev);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		event_active(s->timer, EV_TIMEOUT, 1);
	else
		timer_set(s, 5000);
}

/* Something broke after the response began: cut the connection. */
static void
session_abort(struct session *s, const char *why)
{
	log_info("%s: aborting %.*s %.*s%.*s: %s", s->client_addr,
	    (int)s->req.method.n, s->req.method.p, (int)s->req.authority.n,
	    s->req.authority.p, (int)s->req.path.n, s->req.path.p, why);
	s->state = SESSION_CLOSING;
	routing_cancel(s);
	authz_cancel(s);		/* authz */
	cluster_done(s->cluster, s);	/* breaker */
	if (s->up != NULL) {
		upstream_abort(s->up);
		s->up = NULL;
	}
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	evtimer_del(s->timer);
	evbuffer_drain(bufferevent_get_output(s->bev),
	    evbuffer_get_length(bufferevent_get_output(s->bev)));
	event_active(s->timer, EV_TIMEOUT, 1);
}

void
session_drain(struct session *s)
{
	s->keep_alive = 0;
	if (s->state == SESSION_READ_HEAD && !s->head_started &&
	    evbuffer_get_length(bufferevent_get_input(s->bev)) == 0)
		session_close(s);
}

void
session_free_now(struct session *s)
{
	struct proxy	*p = s->proxy;

	routing_cancel(s);
	authz_cancel(s);		/* authz */
	cluster_done(s->cluster, s);	/* breaker */
	if (s->up != NULL) {
		upstream_abort(s->up);
		s->up = NULL;
	}
	TAILQ_REMOVE(&p->sessions, s, entry);
	p->nsessions--;
	event_free(s->timer);
	bufferevent_free(s->bev);
	generation_unref(s->gen);
	policy_unref(s->policy);
	authz_decision_unref(s->authz);	/* authz */
	if (s->replay != NULL)
		evbuffer_free(s->replay);
	free(s->head);
	free(s->headers);
	free(s->resp_headers);
	free(s);
	proxy_maybe_exit(p);
}
