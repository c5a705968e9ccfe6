/* SPDX-License-Identifier: ISC */
/*
 * The one place that drives a request through its stages (stage.h).
 */
#include <string.h>

#include "proxy.h"

static const struct stage *const stages[] = {
	&stage_authz,
	&stage_route,
	&stage_fault,
	&stage_direct,
	&stage_cluster,
	&stage_upstream,
	&stage_response,
};

const struct pipeline stage_list = { stages, nitems(stages) };

static void	stage_run(struct session *);
static void	stage_record(struct session *);

/* A request head is in: its stages, from the first. */
void
stage_begin(struct session *s)
{
	struct stage_run	*r = &s->run;

	r->pipeline = s->proxy->pipeline;
	r->at = 0;
	r->started = 0;
	r->state = STAGE_RUNNING;
	s->state = SESSION_FORWARD;
	stage_run(s);
}

static void
stage_run(struct session *s)
{
	struct stage_run	*r = &s->run;
	const struct stage	*st;
	enum stage_result	 res;

	while (r->at < r->pipeline->n) {
		st = r->pipeline->stage[r->at];
		r->started = r->at + 1;
		r->state = STAGE_RUNNING;
		res = st->start(s);
		if (r->state == STAGE_IDLE)
			return;		/* the request ended in there */
		if (r->state == STAGE_DONE_EARLY)
			res = r->early;
		if (res == STAGE_STOP)
			return;
		if (res == STAGE_WAIT) {
			r->state = STAGE_WAITING;
			/* a stage that holds the request back stops the
			   client's input until it is done */
			if (st->streams)
				s->state = SESSION_FORWARD;
			else {
				s->state = SESSION_WAIT;
				session_hold(s);
			}
			return;
		}
		s->state = SESSION_FORWARD;
		r->at++;
	}
	/* every stage is done: the response went out whole */
	stage_end(s);
	session_complete(s);
}

/* The waiting stage is done. */
void
stage_done(struct session *s, enum stage_result res)
{
	struct stage_run	*r = &s->run;

	switch (r->state) {
	case STAGE_RUNNING:
		/* from inside its start: the start's result */
		r->state = STAGE_DONE_EARLY;
		r->early = res;
		return;
	case STAGE_WAITING:
		break;
	case STAGE_IDLE:
	case STAGE_DONE_EARLY:
		return;		/* nothing waits: a late or double done */
	}
	if (res != STAGE_NEXT)
		return;
	s->state = SESSION_FORWARD;
	r->at++;
	stage_run(s);
}

/*
 * The request is over, however: every stage it started lets go of what
 * it holds, the last first; then the record.
 */
void
stage_end(struct session *s)
{
	struct stage_run	*r = &s->run;
	const struct stage	*st;

	if (r->state == STAGE_IDLE) {
		if (r->unstaged) {
			r->unstaged = 0;
			if (s->proxy->hooks.request_done != NULL)
				stage_record(s);
		}
		return;
	}
	r->state = STAGE_IDLE;
	while (r->started > 0) {
		st = r->pipeline->stage[--r->started];
		if (st->cancel != NULL)
			st->cancel(s);
	}
	if (s->proxy->hooks.request_done != NULL)
		stage_record(s);
}

/*
 * A request proxy-d answers before its stages begin (a head it cannot
 * parse, CONNECT, a head that never ends): its answer's stage_end
 * records it, as Envoy logs a codec error's 400.
 */
void
stage_unstaged(struct session *s)
{
	if (s->run.state == STAGE_IDLE)
		s->run.unstaged = 1;
}

int
stage_waiting(const struct session *s)
{
	return s->run.state == STAGE_WAITING;
}

const char *
stage_name(const struct session *s)
{
	const struct stage_run *r = &s->run;

	if (r->state == STAGE_IDLE || r->pipeline == NULL ||
	    r->at >= r->pipeline->n)
		return "none";
	return r->pipeline->stage[r->at]->name;
}

static void
stage_record(struct session *s)
{
	struct request_record	 rec;
	const struct http_request *req = &s->req;

	memset(&rec, 0, sizeof(rec));
	rec.start_ms = s->start_ms;
	rec.end_ms = util_now_ms();
	rec.bytes_in = s->bytes_in;
	rec.bytes_out = s->bytes_out;
	rec.status = s->status;
	rec.flags = s->flags;
	rec.inbound = s->inbound;
	rec.method = req->method.p;
	rec.method_len = req->method.n;
	rec.authority = req->authority.p;
	rec.authority_len = req->authority.n;
	rec.path = req->path.p;
	rec.path_len = req->path.n;
	rec.service = s->service;
	rec.subset = s->subset;
	rec.port = s->service_port;
	rec.endpoint = s->ncands > 0 ? s->cands[s->cand]->name : "";
	rec.tries = s->tries;
	rec.client = s->client_addr;
	rec.peer_identity = s->peer_identity != NULL ? s->peer_identity : "";
	rec.principal = s->authz != NULL ? s->authz->principal : "";
	if (s->request_id[0] != '\0') {
		rec.request_id = s->request_id;
		rec.request_id_len = strlen(s->request_id);
	} else {
		rec.request_id = s->request_id_in.p;
		rec.request_id_len = s->request_id_in.n;
	}
	rec.trace_id = s->trace_id;
	rec.span_id = s->span_id;
	rec.parent_span_id = s->parent_span_id;
	s->proxy->hooks.request_done(s->proxy, s, &rec);
}

int
extra_ops_add(struct extra_ops *x, const char *name, size_t namelen,
    const char *value, size_t valuelen, int remove)
{
	struct head_op	*op;

	if (x->n >= EXTRA_OPS_MAX)
		return -1;
	op = &x->op[x->n++];
	op->remove = remove;
	op->name = (char *)name;
	op->namelen = namelen;
	op->value = (char *)value;
	op->valuelen = valuelen;
	return 0;
}
