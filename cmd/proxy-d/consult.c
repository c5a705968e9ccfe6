/* SPDX-License-Identifier: ISC */
/*
 * Asking route-d: its questions and answers over the REQ machinery of
 * ipc.c (batched per loop turn, many messages in flight).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "proxy.h"
#include "util.h"

#define CONSULT_MAX_BATCH	256	/* questions per message, normally */

struct consult {
	struct proxy		*proxy;
	struct ipc_req		*req;
	struct route_answer	*answer;
};

static int	consult_read(void *, const struct msg *,
		    const struct msg_block *, uint64_t *, int *, char *,
		    size_t);
static void	consult_answer(void *, void *);
static void	consult_fail(void *, void *, const char *);

static const struct ipc_req_ops consult_ops = {
	.daemon = "route-d",
	.type = "route",
	.reply = "route-reply",
	.read = consult_read,
	.answer = consult_answer,
	.fail = consult_fail,
};

struct consult *
consult_new(struct proxy *p, const char *address, uint64_t timeout_ms)
{
	struct consult	*c;

	c = xcalloc(1, sizeof(*c));
	c->proxy = p;
	c->answer = xcalloc(1, sizeof(*c->answer));
	c->req = ipc_req_new(p, &consult_ops, c, address, timeout_ms,
	    CONSULT_MAX_BATCH);
	return c;
}

const char *
consult_address(const struct consult *c)
{
	return ipc_req_address(c->req);
}

int
consult_connected(const struct consult *c)
{
	return ipc_req_connected(c->req);
}

void
consult_set_timeout(struct consult *c, uint64_t timeout_ms)
{
	ipc_req_set_timeout(c->req, timeout_ms);
}

/*
 * Queue a question for entry e, taken from the request of session s.
 * -1: route-d is away; -2: the request is too large to ask about.
 */
int
consult_enqueue(struct consult *c, struct route_entry *e,
    const struct session *s)
{
	const struct http_request *req = &s->req;
	struct msg_writer	*w;
	size_t			 i;

	if ((w = ipc_req_begin(c->req, s->gen->pc)) == NULL)
		return -1;
	msgw_field(w, "listener", s->inbound ? STR_LIT("inbound") :
	    STR_LIT("outbound"));
	msgw_field(w, "authority", req->authority);
	msgw_field(w, "method", req->method);
	msgw_field(w, "path", req->path);
	if (req->scheme.n > 0)
		msgw_field(w, "scheme", req->scheme);
	msgw_field(w, "source", (struct str){ s->client_addr,
	    strlen(s->client_addr) });
	/* every one (but Host): route-d reads as many as may be forwarded,
	   so an answer cached under a header's value was decided on it */
	for (i = 0; i < req->nheaders; i++)
		if ((int)i != req->host_header)
			msgw_field_header(w, "header", req->headers[i].name,
			    req->headers[i].value);
	if (ipc_req_end(c->req, e) == -1)
		return -2;
	return 0;
}

static int
consult_read(void *arg, const struct msg *m, const struct msg_block *b,
    uint64_t *id, int *has_id, char *err, size_t errlen)
{
	struct consult	*c = arg;

	if (route_answer_read(m, b, c->answer, err, errlen) == -1)
		return -1;
	*id = c->answer->id;
	*has_id = c->answer->has_id;
	return 0;
}

static void
consult_answer(void *arg, void *item)
{
	struct consult	*c = arg;

	routing_answer(c->proxy, item, c->answer);
}

static void
consult_fail(void *arg, void *item, const char *reason)
{
	struct consult	*c = arg;

	routing_failure(c->proxy, item, reason);
}

void
consult_free(struct consult *c)
{
	ipc_req_free(c->req);
	free(c->answer);
	free(c);
}
