/* SPDX-License-Identifier: ISC */
/*
 * The upstream side of a request: the tries (connect or take a pooled
 * connection, send the head and the body, retry by the route's policy),
 * the response head checked and sent on, and the response body streamed
 * to the client.  Two stages: upstream (until the response head is
 * out) and response (until its body is).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

static enum stage_result upstream_start(struct session *);
static void	upstream_cancel(struct session *);
static enum stage_result response_start(struct session *);
static void	forward_try(struct session *, struct pool *);
static struct pool *next_candidate(struct session *);
static int	buffer_copy(struct evbuffer *, struct evbuffer *, size_t);
static ssize_t	chunked_reframe(struct evbuffer *, struct evbuffer *,
		    struct evbuffer *, struct http_chunked *, int *, int,
		    int *, struct http_error *);
static void	head_request_in(struct session *, struct head_request *,
		    int);
static int	response_head(struct session *);
static void	pump_response(struct session *);
static void	response_done(struct session *);
static int	forward_retry(struct session *, enum retry_outcome, int, int);
static void	forward_mirror(struct session *);

const struct stage stage_upstream = {
	.name = "upstream",
	.start = upstream_start,
	.cancel = upstream_cancel,
	.streams = 1,
};

const struct stage stage_response = {
	.name = "response",
	.start = response_start,
	.streams = 1,
};

/* The first try, after the route's mirrors have their copies. */
static enum stage_result
upstream_start(struct session *s)
{
	if (s->policy != NULL && s->policy->p.nmirrors > 0)
		forward_mirror(s);
	forward_try(s, s->cands[s->cand]);
	/* a body still to come streams from here: the client has a
	   deadline for it (one already here went in forward_try) */
	if (s->run.state == STAGE_RUNNING && !s->req_body_done)
		session_body_deadline(s, 1);
	return STAGE_WAIT;
}

static void
upstream_cancel(struct session *s)
{
	if (s->up != NULL) {
		upstream_abort(s->up);
		s->up = NULL;
	}
	if (s->wait_kind == SESSION_WAIT_BACKOFF)
		s->wait_kind = SESSION_WAIT_NONE;
}

/* The response head went to the client: its body follows. */
static enum stage_result
response_start(struct session *s)
{
	pump_response(s);
	return STAGE_WAIT;
}

#define REFRAME_RUNS	32

/*
 * Move the chunked body at the start of in to out, framed anew as
 * HAProxy does: its data in chunks with plain hex sizes and no
 * extensions, its trailers as they came after a last chunk of "0", so
 * that no two parsers can read a size differently.  The same bytes go to
 * copy too when it is not NULL (kept for a retry).  Returns the bytes
 * taken from in, or -1 on bad framing; *done at the body's end.
 * *trailer says the last chunk was written (kept across calls).  With
 * plain, only the data goes (for an HTTP/1.0 client, to the close).
 */
static ssize_t
chunked_reframe(struct evbuffer *in, struct evbuffer *out,
    struct evbuffer *copy, struct http_chunked *c, int *trailer, int plain,
    int *done, struct http_error *err)
{
	struct evbuffer_ptr	 pos;
	struct evbuffer_iovec	 vec[16];
	enum http_chunked_part	 kind[REFRAME_RUNS], part;
	size_t			 len[REFRAME_RUNS], total = 0, off, n;
	char			 line[24], *w;
	int			 nvec, i, nruns = 0, k;
	ssize_t			 r;

	*done = 0;
	evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
	/* what the checker reads, as runs of one part each */
	while (!*done && nruns < REFRAME_RUNS) {
		nvec = evbuffer_peek(in, -1, &pos, vec, 16);
		if (nvec <= 0)
			break;
		for (i = 0; i < nvec && i < 16; i++) {
			off = 0;
			while (off < vec[i].iov_len && !*done &&
			    nruns < REFRAME_RUNS) {
				r = http_chunked_step(c,
				    (char *)vec[i].iov_base + off,
				    vec[i].iov_len - off, &part, done, err);
				if (r < 0)
					return -1;
				if (r == 0)
					break;
				if (nruns > 0 && kind[nruns - 1] == part)
					len[nruns - 1] += (size_t)r;
				else {
					kind[nruns] = part;
					len[nruns++] = (size_t)r;
				}
				off += (size_t)r;
				total += (size_t)r;
			}
			if (off < vec[i].iov_len)
				break;
		}
		/* with len -1, evbuffer_peek() stops at n_vec: 16 means
		   there may be more */
		if (i < nvec || nvec < 16 || evbuffer_ptr_set(in, &pos, total,
		    EVBUFFER_PTR_SET) == -1)
			break;
	}
	/* the runs, moved: data and trailers as they are, framing anew */
	for (k = 0; k < nruns; k++) {
		n = len[k];
		switch (kind[k]) {
		case HTTP_CHUNKED_FRAMING:
			evbuffer_drain(in, n);
			break;
		case HTTP_CHUNKED_DATA:
			if (plain) {
				evbuffer_remove_buffer(in, out, n);
				break;
			}
			w = head_put_hex(line, n);
			*w++ = '\r';
			*w++ = '\n';
			evbuffer_add(out, line, (size_t)(w - line));
			if (copy != NULL) {
				evbuffer_add(copy, line, (size_t)(w - line));
				buffer_copy(copy, in, n);
			}
			evbuffer_remove_buffer(in, out, n);
			evbuffer_add(out, "\r\n", 2);
			if (copy != NULL)
				evbuffer_add(copy, "\r\n", 2);
			break;
		case HTTP_CHUNKED_TRAILER:
			if (plain) {
				evbuffer_drain(in, n);
				break;
			}
			if (!*trailer) {
				evbuffer_add(out, "0\r\n", 3);
				if (copy != NULL)
					evbuffer_add(copy, "0\r\n", 3);
				*trailer = 1;
			}
			if (copy != NULL)
				buffer_copy(copy, in, n);
			evbuffer_remove_buffer(in, out, n);
			break;
		}
	}
	return (ssize_t)total;
}

/* The endpoint for the next try: one not tried yet, when there is one. */
static struct pool *
next_candidate(struct session *s)
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

/* The inputs of the head writer for this request and try. */
static void
head_request_in(struct session *s, struct head_request *in, int mirror)
{
	const struct authz_decision *d = s->authz;

	in->req = &s->req;
	in->headlen = s->headlen;
	in->policy = s->policy != NULL ? &s->policy->p : NULL;
	in->authz = (struct head_ops){ NULL, 0, 0 };
	if (d != NULL)
		in->authz = (struct head_ops){ d->headers, d->nheaders,
		    d->headers_len };
	in->extra = (struct head_ops){ NULL, 0, 0 };
	in->client_ip = s->client_ip;
	in->request_id = s->request_id;
	in->attempt = s->policy != NULL && s->policy->retry.attempts > 0 ?
	    s->tries : 0;
	in->mirror = mirror;
}

/*
 * One try: connect (or take a pooled connection), send the head, and
 * the body bytes already sent on an earlier try, then the rest as it
 * comes.
 */
static void
forward_try(struct session *s, struct pool *pool)
{
	struct proxy		*p = s->proxy;
	const struct http_request *req = &s->req;
	const struct policy	*pol = s->policy;
	struct evbuffer		*out;
	struct evbuffer_iovec	 iov;
	struct head_request	 in;
	char			*w;
	size_t			 need;
	uint64_t		 now;

	s->tries++;
	if (s->ncands > 0)
		s->tried |= 1u << s->cand;
	/*
	 * The route timeout and the per-try timeout run from the end of the
	 * request, as Envoy's do: before it, a slow upload is the client's
	 * time, not the endpoint's (forward_pump_request starts them then).
	 */
	s->try_deadline_ms = 0;
	if (pol != NULL && s->req_body_done && (pol->timeout_ms > 0 ||
	    pol->retry.per_try_ms > 0)) {
		now = util_now_ms();
		if (s->tries == 1 && pol->timeout_ms > 0 && s->deadline_ms == 0)
			s->deadline_ms = now + pol->timeout_ms;
		if (pol->retry.per_try_ms > 0)
			s->try_deadline_ms = now + pol->retry.per_try_ms;
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
		forward_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE, 503, "UF",
		    "cannot connect to %s", pool->name);
		return;
	}
	head_request_in(s, &in, 0);
	{
		/* x-forwarded-client-cert, and the stages' own header
		   operations (trace context) */
		struct extra_ops x = { s->extra_op, 0 };

		conn_xfcc(s, &x);
		if (p->hooks.upstream_head != NULL)
			p->hooks.upstream_head(s, &x);
		in.extra = (struct head_ops){ s->extra_op, x.n,
		    head_ops_finish(s->extra_op, x.n) };
	}
	need = head_request_need(&in);
	out = bufferevent_get_output(s->up->bev);
	if (evbuffer_reserve_space(out, (ev_ssize_t)need, &iov, 1) < 1 ||
	    iov.iov_len < need) {
		session_error(s, 503, "UF", "out of memory");
		return;
	}
	w = head_request_put(&in, iov.iov_base);
	iov.iov_len = (size_t)(w - (char *)iov.iov_base);
	evbuffer_commit_space(out, &iov, 1);
	if (p->hooks.request_done != NULL)
		s->up_sent_us = util_now_us();
	/* a copy: the kept bytes may be needed for one more try */
	if (s->replay != NULL &&
	    buffer_copy(out, s->replay, evbuffer_get_length(s->replay)) == -1) {
		session_error(s, 503, "UF", "out of memory");
		return;
	}
	session_timer_rearm(s);
	if (!s->req_body_done)
		forward_pump_request(s);
	else if (s->up->connected)
		conn_flush(s->up->bev, s->up->direct);
}

/* Move request body bytes from the client to the upstream. */
void
forward_pump_request(struct session *s)
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
		if (s->body_left == 0) {
			s->req_body_done = 1;
			if (s->proxy->hooks.request_done != NULL)
				s->req_done_us = util_now_us();
		}
	} else {
		int		 done;
		ssize_t		 r;

		/* moved here, framed anew (and kept for a retry) */
		r = chunked_reframe(in, out, s->replay, &s->req_chunked,
		    &s->req_trailer, 0, &done, &err);
		if (r < 0) {
			session_error(s, err.status ? err.status : 400, "DPE",
			    "bad chunked request body: %s", err.reason);
			return;
		}
		s->bytes_in += (size_t)r;
		if (r > 0 && s->replay == NULL)
			s->replay_lost = 1;
		else if (s->replay != NULL && evbuffer_get_length(s->replay) >
		    s->gen->pc->retry_buffer_bytes) {
			evbuffer_free(s->replay);
			s->replay = NULL;
			s->replay_lost = 1;
		}
		if (done) {
			s->req_body_done = 1;
			if (s->proxy->hooks.request_done != NULL)
				s->req_done_us = util_now_us();
		}
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
	if (n > 0) {
		evbuffer_remove_buffer(in, out, n);
		s->bytes_in += n;
	}
	if (s->up->connected)
		conn_flush(s->up->bev, s->up->direct);
	if (s->req_body_done) {
		const struct policy *pol = s->policy;

		/* the request is all out: the route's and the try's
		   deadlines run from here, and the endpoint owes an answer */
		if (pol != NULL && ((pol->timeout_ms > 0 &&
		    s->deadline_ms == 0) || pol->retry.per_try_ms > 0)) {
			uint64_t now = util_now_ms();

			if (pol->timeout_ms > 0 && s->deadline_ms == 0)
				s->deadline_ms = now + pol->timeout_ms;
			if (pol->retry.per_try_ms > 0)
				s->try_deadline_ms = now +
				    pol->retry.per_try_ms;
			session_timer_rearm(s);
		}
		if (!s->up->read_deadline)
			upstream_deadlines(s->up);
		if (s->body_deadline)
			session_body_deadline(s, 0);
		/* what follows is the next request: it waits its turn */
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (s->eof && evbuffer_get_length(in) == 0) {
		/* the client's doing (Envoy's DC): not the endpoint's */
		session_error(s, 400, "DC", "the client closed its side "
		    "before the end of the request body");
		return;
	}
	if (s->eof)
		;	/* nothing more to read: the rest is in the input */
	else if (evbuffer_get_length(out) >= s->gen->pc->buffer_bytes) {
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_setwatermark(s->up->bev, EV_WRITE,
		    s->gen->pc->buffer_bytes / 2, 0);
	} else
		bufferevent_enable(s->bev, EV_READ);
}

/* The upstream drained its output: room for more request body. */
void
forward_write(struct session *s)
{
	if (s == NULL || s->state != SESSION_FORWARD || s->req_body_done)
		return;
	if (!s->eof)
		bufferevent_enable(s->bev, EV_READ);
	forward_pump_request(s);
}

void
forward_read(struct session *s)
{
	if (s == NULL || s->state != SESSION_FORWARD)
		return;
	if (!s->resp_head_done) {
		int r;

		while ((r = response_head(s)) == 1)
			;
		if (r < 0)
			return;
		if (r == 0) {
			conn_flush(s->bev, s->direct);	/* a 100 Continue */
			return;
		}
		/* the final head is out: the response stage has the body */
		stage_done(s, STAGE_NEXT);
		return;
	}
	pump_response(s);
}

/*
 * Read and forward one response head.  Returns 1 after an interim (1xx)
 * head, 2 after the final head, 0 when more bytes are needed, -1 when the
 * session is gone to an error.
 */
static int
response_head(struct session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->up->bev);
	struct evbuffer		*out = bufferevent_get_output(s->bev);
	const struct http_limits *lim = &s->gen->limits;
	struct http_response	*resp = &s->resp;
	struct http_error	 err = { 0, NULL };
	struct evbuffer_iovec	 iov;
	struct head_response	 hr;
	size_t			 len = evbuffer_get_length(in), n, need;
	unsigned char		*data;
	ssize_t			 end;
	char			*w;

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
		forward_try_failed(s, RETRY_OUTCOME_RESET, 502, "UPE",
		    "invalid response head from %s: %s", s->up->pool->name,
		    err.reason);
		return -1;
	}
	memset(resp, 0, sizeof(*resp));
	resp->headers = s->resp_headers;
	resp->max_headers = s->maxheaders;
	if (http_parse_response((const char *)data, (size_t)end, lim,
	    s->req.method, resp, &err) == -1) {
		forward_try_failed(s, RETRY_OUTCOME_RESET, 502, "UPE",
		    "invalid response from %s: %s", s->up->pool->name,
		    err.reason);
		return -1;
	}
	if (resp->status == 101) {
		session_error(s, 502, "UPE", "%s switched protocols unasked",
		    s->up->pool->name);
		return -1;
	}
	if (resp->status < 200) {
		/* a few interim answers go on, an endless stream does not */
		if (++s->interim > PROXY_MAX_INTERIM) {
			session_error(s, 502, "UPE", "%s sent more than %d "
			    "interim responses", s->up->pool->name,
			    PROXY_MAX_INTERIM);
			return -1;
		}
		/* an HTTP/1.0 client knows none (RFC 9110 15.2) */
		if (s->req.version == 10) {
			evbuffer_drain(in, (size_t)end);
			s->resp_scan = 0;
			return 1;
		}
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
		if (forward_retry(s, RETRY_OUTCOME_RESPONSE, resp->status,
		    grpc))
			return -1;
	}
	if (resp->framing == HTTP_BODY_CLOSE)
		s->keep_alive = 0;
	s->dechunk = 0;
	if (resp->status >= 200 && s->req.version == 10 &&
	    (resp->framing == HTTP_BODY_CHUNKED ||
	    resp->framing == HTTP_BODY_CLOSE)) {
		/*
		 * An HTTP/1.0 client takes no transfer coding (RFC 9112
		 * 6.1): chunks go to it unframed, to the close; a coding of
		 * the body (gzip) has no way to reach it.
		 */
		if (head_te_codings(resp->headers, resp->nheaders)) {
			session_error(s, 502, "UPE", "%s sent a transfer "
			    "coding an HTTP/1.0 client cannot take",
			    s->up->pool->name);
			return -1;
		}
		if (resp->framing == HTTP_BODY_CHUNKED) {
			s->dechunk = 1;
			s->keep_alive = 0;
		}
	}

	hr.resp = resp;
	hr.headlen = (size_t)end;
	hr.request_version = s->req.version;
	hr.policy = s->policy != NULL ? &s->policy->p : NULL;
	hr.cors_origin = s->cors_origin;
	hr.keep_alive = s->keep_alive;
	hr.dechunk = s->dechunk;
	need = head_response_need(&hr);
	if (evbuffer_reserve_space(out, (ev_ssize_t)need, &iov, 1) < 1 ||
	    iov.iov_len < need) {
		session_abort(s, "out of memory");
		return -1;
	}
	w = head_response_put(&hr, iov.iov_base);
	iov.iov_len = (size_t)(w - (char *)iov.iov_base);
	s->bytes_out += iov.iov_len;
	s->resp_head_bytes = iov.iov_len;
	evbuffer_commit_space(out, &iov, 1);
	evbuffer_drain(in, (size_t)end);
	s->resp_scan = 0;
	if (resp->status < 200)
		return 1;	/* 100 Continue and friends: the real one follows */

	s->resp_head_done = 1;
	s->resp_started = 1;
	if (s->proxy->hooks.request_done != NULL) {
		s->resp_head_us = util_now_us();
		/* an earlier try's failure is not this answer's */
		s->details[0] = s->up_failure[0] = '\0';
		/* the server's identity (conn_upstream_connected), for the
		   record's destination principal as Envoy's peer metadata */
		s->up_principal[0] = '\0';
		if (s->up->peer_id != NULL &&
		    strlen(s->up->peer_id) < sizeof(s->up_principal))
			util_strlcpy(s->up_principal, s->up->peer_id,
			    sizeof(s->up_principal));
	}
	s->status = resp->status;
	s->try_deadline_ms = 0;
	if (!s->up->read_deadline)
		upstream_deadlines(s->up);	/* an early answer */
	switch (resp->framing) {
	case HTTP_BODY_LENGTH:
		s->resp_left = resp->content_length;
		break;
	case HTTP_BODY_CHUNKED:
		http_chunked_init(&s->resp_chunked, lim);
		s->resp_trailer = 0;
		break;
	default:
		break;
	}
	return 2;
}

/* Move response body bytes from the upstream to the client. */
static void
pump_response(struct session *s)
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
		size_t before = evbuffer_get_length(out);
		ssize_t r = chunked_reframe(in, out, NULL, &s->resp_chunked,
		    &s->resp_trailer, s->dechunk, &done, &err);

		if (r < 0) {
			session_abort(s, "bad chunked response body");
			return;
		}
		s->bytes_out += evbuffer_get_length(out) - before;
		break;
	}
	case HTTP_BODY_CLOSE:
		n = len;
		break;
	}
	if (n > 0) {
		evbuffer_remove_buffer(in, out, n);
		s->bytes_out += n;
	}
	conn_flush(s->bev, s->direct);
	if (done) {
		response_done(s);
		return;
	}
	if (evbuffer_get_length(out) >= s->gen->pc->buffer_bytes)
		bufferevent_disable(s->up->bev, EV_READ);
}

/* The response is all out: the upstream connection back to its pool. */
static void
response_done(struct session *s)
{
	int		 reusable;

	/*
	 * A 204 that announced a body (which it may not have) is likely
	 * to send one after: bytes no request asked for, which the next
	 * request on the connection would take for its answer.
	 */
	reusable = s->resp.keep_alive && s->req_body_done &&
	    !head_body_closes(&s->req) &&
	    s->resp.framing != HTTP_BODY_CLOSE &&
	    !(s->resp.status == 204 && (s->resp.content_length > 0 ||
	    http_header_find(s->resp.headers, s->resp.nheaders,
	    "transfer-encoding") != NULL)) &&
	    evbuffer_get_length(bufferevent_get_output(s->up->bev)) == 0 &&
	    !cluster_conn_spent(s->cluster, s->up);	/* breaker */
	upstream_release(s->proxy, s->up, reusable);
	s->up = NULL;
	stage_done(s, STAGE_NEXT);
}

/* The client took what was queued: more of the response may come. */
void
forward_client_drained(struct session *s)
{
	if (s->state == SESSION_FORWARD && s->up != NULL &&
	    s->resp_head_done) {
		bufferevent_enable(s->up->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(s->up->bev)) > 0)
			pump_response(s);
	}
}

/* The session's timer: the back-off is over, the next try goes. */
void
forward_backoff_over(struct session *s)
{
	forward_try(s, next_candidate(s));
}

/*
 * Another try, if the route's retry policy calls for one after this
 * outcome, there are tries and time left, and the body can be sent
 * again.  Returns 1 when the request goes on that way (now, or after a
 * back-off), 0 when this outcome is the answer.
 */
static int
forward_retry(struct session *s, enum retry_outcome o, int status, int grpc)
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
		forward_try(s, next_candidate(s));
		return 1;
	}
	s->wait_kind = SESSION_WAIT_BACKOFF;
	s->wait_until_ms = now + backoff;
	session_timer_rearm(s);
	return 1;
}

/* A try failed with no response: another, or this error is the answer. */
void
forward_try_failed(struct session *s, enum retry_outcome o, int status,
    const char *flags, const char *fmt, ...)
{
	char		 reason[512];
	va_list		 ap;

	if (forward_retry(s, o, 0, -1))
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
 * The route's mirrors: each sampled one gets a copy of the request,
 * when its body (if any) is all here already and not over 64 KiB.
 */
static void
forward_mirror(struct session *s)
{
	const struct route_policy *p = &s->policy->p;
	struct proxy	*pr = s->proxy;
	struct evbuffer	*in = bufferevent_get_input(s->bev);
	struct head_request hin;
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
	head_request_in(s, &hin, 1);
	need = head_request_need(&hin);
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
			w = head_request_put(&hin, buf);
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
forward_event(struct session *s, short what)
{
	struct upstream	*u = s->up;
	struct pool	*pool = u->pool;
	const char	*why;

	if (what & BEV_EVENT_TIMEOUT) {
		if (!s->resp_head_done)		/* breaker: the outcome */
			cluster_report(s->proxy, s->cluster, pool,
			    u->connected ? "timeout" : "connect-failure");
		if (!u->connected) {
			session_up_failure(s, "connection_timeout", "");
			forward_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE,
			    503, "UF", "connect to %s timed out", pool->name);
			return;
		}
		if (!s->resp_head_done) {
			forward_try_failed(s, RETRY_OUTCOME_TIMEOUT, 504, "UT",
			    "upstream %s %s in time", pool->name,
			    (what & BEV_EVENT_WRITING) ? "took no more of the "
			    "request" : "sent no response");
			return;
		}
		session_abort(s, "upstream stalled mid-response");
		return;
	}
	if (!u->connected && (what & BEV_EVENT_ERROR)) {
		char	 reason[200], tf[220];
		int	 err = EVUTIL_SOCKET_ERROR();

		cluster_report(s->proxy, s->cluster, pool,	/* breaker */
		    "connect-failure");
		conn_upstream_error(u, reason, sizeof(reason));
		if (conn_ssl(u->bev) != NULL)
			snprintf(tf, sizeof(tf), "TLS_error:%s", reason);
		else
			snprintf(tf, sizeof(tf), "delayed_connect_error:_%d",
			    err);
		session_up_failure(s, "connection_failure", tf);
		why = reason;
		forward_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE, 503, "UF",
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
			forward_try(s, pool);
			return;
		}
		/* breaker: the try's outcome */
		cluster_report(s->proxy, s->cluster, pool, "reset");
		forward_try_failed(s, RETRY_OUTCOME_RESET, 503, "UC",
		    "upstream %s closed the connection before responding",
		    pool->name);
		return;
	}
	if (s->resp.framing == HTTP_BODY_CLOSE) {
		pump_response(s);
		if (s->up != NULL) {
			s->resp.keep_alive = 0;
			response_done(s);
		}
		return;
	}
	session_abort(s, "upstream closed mid-response");
}
