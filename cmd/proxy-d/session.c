/* SPDX-License-Identifier: ISC */
/*
 * A client connection and the requests it carries, one after another:
 * read and check each head, hand the request to its stages (stage.c),
 * answer from here when proxy-d is the one answering, and keep every
 * wait bounded by a deadline.  The bytes of heads are written by
 * head.c; the upstream side is forward.c.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

static void	client_readcb(struct bufferevent *, void *);
static void	client_writecb(struct bufferevent *, void *);
static void	client_eventcb(struct bufferevent *, short, void *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_wait_request(struct session *);
static void	session_read_head(struct session *);
static void	session_start_request(struct session *);
static void	session_record_reset(struct session *);
static void	timer_set(struct session *, uint64_t);
static int	session_headers_fit(struct session *);

static void
timer_set(struct session *s, uint64_t ms)
{
	struct timeval	 tv;

	tv = util_ms_timeval(ms);
	evtimer_add(s->timer, &tv);
	s->timer_at_ms = util_now_ms() + ms;
}

/*
 * The deadlines of a request being served (route timeout, per-try
 * timeout, a back-off or a fault's delay): the timer is moved only when
 * one of them comes before the time it is set for.
 */
void
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
	if (s->state == SESSION_WAIT) {
		uint64_t held = s->wait_since_ms +
		    s->gen->pc->stream_idle_timeout_ms;

		if (next == 0 || held < next)
			next = held;
	}
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
	if ((s->bev = conn_client(p, s, fd, &s->direct)) == NULL) {
		generation_unref(s->gen);
		free(s);
		return;
	}
	s->timer = evtimer_new(p->base, session_timer_cb, s);
	session_headers_fit(s);
	session_rebind(s, s->bev, s->direct);
	TAILQ_INSERT_TAIL(&p->sessions, s, entry);
	p->nsessions++;
	session_wait_request(s);
}

/*
 * The session's connection is this bufferevent from now on (a transport
 * that wraps the accepted one calls it again): callbacks and watermarks.
 */
void
session_rebind(struct session *s, struct bufferevent *bev, int direct)
{
	const struct proxy_config *pc = s->gen->pc;
	struct timeval		 tv;

	s->bev = bev;
	s->direct = direct;
	/*
	 * A client that reads nothing of what is queued for it for
	 * streamIdle is gone: its upstream goes with it.  (Its other
	 * direction is bounded by the idle and head timers between
	 * requests, by the stages' deadlines while one holds the request,
	 * and by its own while its body streams: session_body_deadline.)
	 */
	tv = util_ms_timeval(pc->stream_idle_timeout_ms);
	bufferevent_set_timeouts(s->bev, s->body_deadline ? &tv : NULL, &tv);
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
}

/*
 * The client's read side while its request body streams upstream (on),
 * and no more once the body is all in (off).  Silent for streamIdle
 * while proxy-d reads it (a client held back because the upstream takes
 * nothing is not counted: libevent's read timeout runs only while
 * reading is on), the client is late: 408 SI in client_eventcb, the
 * upstream connection closed unpooled, nothing reported to breaker-d,
 * no retry.  Without this the endpoint, waiting for the rest of the
 * body, was the one found silent: 504 UT and a failure reported for it.
 */
void
session_body_deadline(struct session *s, int on)
{
	const struct proxy_config *pc = s->gen->pc;
	struct timeval		 tv;

	tv = util_ms_timeval(pc->stream_idle_timeout_ms);
	s->body_deadline = on;
	bufferevent_set_timeouts(s->bev, on ? &tv : NULL, &tv);
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
	/*
	 * The request and response are over: nothing of them may leak
	 * into what comes next (an error answered before the next head
	 * parses is for no method, not the last one's HEAD).
	 */
	memset(&s->req, 0, sizeof(s->req));
	memset(&s->resp, 0, sizeof(s->resp));
	s->interim = 0;
	s->up = NULL;
	s->retried = 0;
	s->ncands = 0;
	s->cand = 0;
	s->tried = 0;
	s->tries = 0;
	s->deadline_ms = 0;
	s->try_deadline_ms = 0;
	s->wait_kind = SESSION_WAIT_NONE;
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
	if (s->body_deadline)
		session_body_deadline(s, 0);
	s->flags[0] = '\0';
	s->details[0] = '\0';
	s->status = 0;
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
			forward_pump_request(s);
		else
			bufferevent_disable(s->bev, EV_READ);
		break;
	case SESSION_WAIT:
		/*
		 * A stage holds the request back (route-d, authz-d, a
		 * queue): what the client sends meanwhile waits in the
		 * kernel, not here, and the loop stays free to send the
		 * question.  Forwarding reads again.
		 */
		bufferevent_disable(s->bev, EV_READ);
		break;
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
	/*
	 * Answers the client has not read are over the watermark: no new
	 * request until they drain (client_writecb), so pipelined requests
	 * answered here cost bounded memory, not one answer each.
	 */
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) >=
	    s->gen->pc->buffer_bytes) {
		s->out_full = 1;
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
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
		memset(&s->req, 0, sizeof(s->req));
		s->headlen = 0;		/* the record counts no body */
		s->bytes_in = s->bytes_out = 0;
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
	s->bytes_in = s->headlen;
	s->bytes_out = 0;
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
	switch (req->framing) {
	case HTTP_BODY_LENGTH:
		s->body_left = req->content_length;
		s->req_body_done = s->body_left == 0;
		break;
	case HTTP_BODY_CHUNKED:
		http_chunked_init(&s->req_chunked, &s->gen->limits);
		s->req_trailer = 0;
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
	s->start_us = util_now_us();
	s->start_ms = s->start_us / 1000;
	if (p->hooks.request_done != NULL)
		session_record_reset(s);
	stage_begin(s);
}

/* What the request_done hook reads of a request, made new for one. */
static void
session_record_reset(struct session *s)
{
	s->service[0] = s->subset[0] = '\0';
	s->service_port = 0;
	s->trace_id[0] = s->span_id[0] = s->parent_span_id[0] = '\0';
	s->up_sent_us = s->resp_head_us = s->req_done_us = 0;
	s->up_local[0] = s->up_failure[0] = s->up_principal[0] = '\0';
	s->resp_head_bytes = 0;
	s->up_mtls = 0;
	s->trace_started = 0;
}

/*
 * A stage holds the request back (stage.c): the client is read no more
 * (client_readcb stops it), and the wait has a deadline.
 */
void
session_hold(struct session *s)
{
	s->wait_since_ms = util_now_ms();
	session_timer_rearm(s);
}

/* Every stage is done: the response went out whole.  Next request. */
void
session_complete(struct session *s)
{
	if (!s->req_body_done)
		s->keep_alive = 0;
	if (!s->keep_alive || s->proxy->draining) {
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
	if (s->out_full && s->state == SESSION_READ_HEAD) {
		/* below the watermark again: the next request */
		s->out_full = 0;
		if (!s->eof)
			bufferevent_enable(s->bev, EV_READ);
		bufferevent_trigger(s->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
		return;
	}
	forward_client_drained(s);
}

static void
client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* a TLS client's handshake: who it is (conn.c) */
		conn_client_connected(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);

		/*
		 * A client that half-closes after whole requests still gets
		 * its responses, pipelined ones included; the connection
		 * closes after the last.  A body still in the input counts
		 * as sent: it is forwarded when its turn comes, and found
		 * short then if it is.  Anything else ends here.
		 */
		if (s->state == SESSION_FORWARD || s->state == SESSION_WAIT) {
			s->eof = 1;
			if (!s->req_body_done && s->state == SESSION_FORWARD)
				forward_pump_request(s);	/* may end it */
			else if (s->req_body_done &&
			    evbuffer_get_length(in) == 0)
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
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		/* session_body_deadline: the client stalled its upload */
		if (s->state == SESSION_FORWARD && !s->req_body_done) {
			session_error(s, 408, "SI", "the client sent nothing "
			    "of its request body for streamIdle (%llu ms)",
			    (unsigned long long)
			    s->gen->pc->stream_idle_timeout_ms);
			return;
		}
		session_free_now(s);
		return;
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_info("%s: read nothing of its answer for streamIdle "
		    "(%llu ms): closing", s->client_addr, (unsigned long long)
		    s->gen->pc->stream_idle_timeout_ms);
		session_free_now(s);
		return;
	} else if (what & BEV_EVENT_ERROR) {
		log_debug("%s: %s", s->client_addr,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_client_failed(s);
	}
	if (s->state == SESSION_FORWARD || s->state == SESSION_WAIT) {
		/* its own doing: nothing is reported for the endpoint, and
		   the record says so */
		log_info("%s: client went away mid-request (DC)",
		    s->client_addr);
		util_strlcpy(s->flags, "DC", sizeof(s->flags));
		util_strlcpy(s->details, "downstream_remote_disconnect",
		    sizeof(s->details));
	}
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
			/* none of the last request's head is this one's */
			memset(&s->req, 0, sizeof(s->req));
			s->headlen = 0;
			s->bytes_in = s->bytes_out = 0;
			session_error(s, 408, "DPE",
			    "request head not complete in time");
			return;
		}
		session_free_now(s);	/* idle keep-alive connection */
		return;
	case SESSION_CLOSING:
		session_free_now(s);
		return;
	case SESSION_WAIT:
		/* no stage holds a request back longer than streamIdle */
		if (now >= s->wait_since_ms + s->gen->pc->stream_idle_timeout_ms) {
			session_error(s, 504, "UT", "no answer in the %s stage "
			    "within streamIdle (%llu ms)", stage_name(s),
			    (unsigned long long)
			    s->gen->pc->stream_idle_timeout_ms);
			return;
		}
		break;
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
			fault_delay_over(s);
		else
			forward_backoff_over(s);
		return;
	}
	if (s->try_deadline_ms != 0 && now >= s->try_deadline_ms &&
	    s->up != NULL && !s->resp_head_done) {
		s->proxy->timeouts++;
		/* breaker: the try's outcome */
		cluster_report(s->proxy, s->cluster, s->up->pool, "timeout");
		forward_try_failed(s, RETRY_OUTCOME_TIMEOUT, 504, "UT",
		    "upstream %s: no response within the per-try timeout",
		    s->up->pool->name);
		return;
	}
	session_timer_rearm(s);
}

/*
 * Answer the request from here: status, optional flags, body, a
 * Location for redirects, extra header lines.  The request ends here.
 */
void
session_respond(struct session *s, int status, const char *flags,
    const char *content_type, const char *body, size_t blen,
    struct str location, struct str extra)
{
	struct evbuffer		*out = bufferevent_get_output(s->bev);
	struct evbuffer_iovec	 iov;
	struct head_local	 hl;
	size_t			 need;
	int			 close_after;

	/* a request whose body was not read leaves the stream unusable */
	close_after = status == 400 || status == 408 || status == 413 ||
	    status == 414 || status == 431 || status == 501 || status == 505 ||
	    !s->req_body_done || !s->keep_alive || s->proxy->draining;
	hl.status = status;
	hl.content_type = content_type;
	hl.bodylen = blen;
	hl.flags = flags;
	hl.location = location;
	hl.extra = extra;
	/* the id the client sent, or the one proxy-d made for it */
	if (s->request_id[0] != '\0')
		hl.request_id = (struct str){ s->request_id,
		    strlen(s->request_id) };
	else
		hl.request_id = s->request_id_in;
	hl.close = close_after;
	if (util_str_eq(s->req.method, "HEAD"))
		blen = 0;
	s->status = status;
	need = head_local_need(&hl);
	if (evbuffer_reserve_space(out, (ev_ssize_t)need, &iov, 1) < 1 ||
	    iov.iov_len < need) {
		session_abort(s, "out of memory");
		return;
	}
	iov.iov_len = (size_t)(head_local_put(&hl, iov.iov_base) -
	    (char *)iov.iov_base);
	s->bytes_out += iov.iov_len + blen;
	s->resp_head_bytes = iov.iov_len;
	stage_end(s);
	evbuffer_commit_space(out, &iov, 1);
	if (blen > 0)
		evbuffer_add(out, body, blen);
	s->resp_started = 0;
	if (close_after) {
		session_close(s);
		return;
	}
	conn_flush(s->bev, s->direct);
	session_wait_request(s);
}

/*
 * Envoy's %RESPONSE_CODE_DETAILS% for an answer of proxy-d's own, by
 * its response flag: the names Envoy's connection manager, router and
 * HTTP/1 codec give the same ends.
 */
static const char *
session_error_details(const char *flags, int status)
{
	static const struct {
		const char	*flag;
		const char	*details;
	} map[] = {
		{ "NR", "route_not_found" },
		{ "UH", "no_healthy_upstream" },
		{ "UF", "upstream_reset_before_response_started"
		    "{connection_failure}" },
		{ "UO", "upstream_reset_before_response_started{overflow}" },
		{ "UPE", "upstream_reset_before_response_started"
		    "{protocol_error}" },
		{ "UT", "response_timeout" },
		{ "SI", "stream_idle_timeout" },
		{ "DC", "downstream_remote_disconnect" },
		{ "RDU", "route_d_unavailable" },
	};
	size_t	 i;

	if (strcmp(flags, "DPE") == 0)
		return status == 431 ? "http1.headers_too_large" :
		    status == 408 ? "request_header_timeout" :
		    "http1.codec_error";
	for (i = 0; i < nitems(map); i++)
		if (strcmp(flags, map[i].flag) == 0)
			return map[i].details;
	return "";
}

/*
 * Answer with an error of proxy-d's own: status, flags in
 * x-meshkit-flags, the reason in the body.  After a response has begun
 * there is nothing to say: the connection is cut.
 */
void
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
	if (s->run.state == STAGE_IDLE && !s->resp_started &&
	    s->proxy->hooks.request_done != NULL) {
		/* before its stages: its record starts with its head */
		session_record_reset(s);
		s->start_us = s->head_started ? s->head_since_ms * 1000 :
		    util_now_us();
		s->start_ms = s->start_us / 1000;
		stage_unstaged(s);
	}
	if (s->details[0] == '\0')
		util_strlcpy(s->details, session_error_details(flags, status),
		    sizeof(s->details));
	log_info("%s: %d %s %.*s %.*s%.*s: %s", s->client_addr, status, flags,
	    (int)s->req.method.n, s->req.method.p, (int)s->req.authority.n,
	    s->req.authority.p, (int)s->req.path.n, s->req.path.p, reason);
	blen = snprintf(body, sizeof(body), "meshkit: %s (%s)\n", reason,
	    flags);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)strlen(body);
	session_respond(s, status, flags, "text/plain", body, (size_t)blen,
	    STR_NULL, STR_NULL);
}

/*
 * Why the last try's connection failed, for the record: Envoy's
 * %UPSTREAM_TRANSPORT_FAILURE_REASON% ("delayed_connect_error:_111",
 * "TLS_error:..." with spaces as underscores) and the reset reason its
 * %RESPONSE_CODE_DETAILS% names ("connection_failure", ...).
 */
void
session_up_failure(struct session *s, const char *reset, const char *why)
{
	size_t	 i, n = 0;

	if (s->proxy->hooks.request_done == NULL)
		return;
	for (i = 0; why[i] != '\0' && n + 1 < sizeof(s->up_failure); i++) {
		unsigned char c = (unsigned char)why[i];

		s->up_failure[n++] = c <= ' ' || c == 0x7f || c == '"' ||
		    c == '\\' ? '_' : (char)c;
	}
	s->up_failure[n] = '\0';
	snprintf(s->details, sizeof(s->details),
	    "upstream_reset_before_response_started{%.40s%s%.160s}", reset,
	    n > 0 ? "," : "", s->up_failure);
}

/*
 * "addr:port" (IPv6 in brackets) a socket is bound to, in buf; "" when
 * it has none (closed, or not an IP socket).
 */
const char *
socket_local_addr(evutil_socket_t fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	buf[0] = '\0';
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return buf;
	util_format_sockaddr((struct sockaddr *)&ss, buf, len);
	if (strrchr(buf, ':') == NULL)
		buf[0] = '\0';
	return buf;
}

/*
 * The address the client connected to, asked of the socket once: the
 * listener's may be a wildcard, or gone after a reload.
 */
const char *
session_local_addr(struct session *s)
{
	if (s->local_addr[0] == '\0')
		socket_local_addr(bufferevent_getfd(s->bev), s->local_addr,
		    sizeof(s->local_addr));
	return s->local_addr;
}

/* Flush what is queued for the client, then free: never right here. */
void
session_close(struct session *s)
{
	s->state = SESSION_CLOSING;
	stage_end(s);
	bufferevent_disable(s->bev, EV_READ);
	evtimer_del(s->timer);
	conn_flush(s->bev, s->direct);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		event_active(s->timer, EV_TIMEOUT, 1);
	else
		timer_set(s, 5000);
}

/* Something broke after the response began: cut the connection. */
void
session_abort(struct session *s, const char *why)
{
	log_info("%s: aborting %.*s %.*s%.*s: %s", s->client_addr,
	    (int)s->req.method.n, s->req.method.p, (int)s->req.authority.n,
	    s->req.authority.p, (int)s->req.path.n, s->req.path.p, why);
	s->state = SESSION_CLOSING;
	stage_end(s);
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

	stage_end(s);
	TAILQ_REMOVE(&p->sessions, s, entry);
	p->nsessions--;
	event_free(s->timer);
	conn_close(s->bev);
	bufferevent_free(s->bev);
	generation_unref(s->gen);
	policy_unref(s->policy);
	authz_decision_unref(s->authz);	/* authz */
	if (s->replay != NULL)
		evbuffer_free(s->replay);
	free(s->head);
	free(s->headers);
	free(s->resp_headers);
	free(s->peer_identity);
	free(s->peer_sni);
	free(s->xfcc);
	free(s->xfcc_all);
	free(s);
	proxy_maybe_exit(p);
}
