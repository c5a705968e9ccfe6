/*
 * Asking route-d.  The questions of one event-loop turn travel in one
 * message; several messages may be in flight at once, each on its own nng
 * context.  nng completes them on its own threads: those threads only
 * queue the finished slot and poke an eventfd, and the event loop does
 * the rest, so no bufferevent is ever touched off the loop's thread.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "log.h"
#include "msg.h"
#include "proxy.h"
#include "util.h"

#define CONSULT_SLOTS		16	/* messages in flight */
#define CONSULT_MAX_BATCH	256	/* questions per message, normally */
#define CONSULT_MAX_QUEUED	MSG_MAX_RECORDS

enum slot_phase {
	SLOT_IDLE,
	SLOT_SEND,
	SLOT_RECV,
};

struct consult_slot {
	struct consult		*consult;
	int			 index;
	nng_ctx			 ctx;
	nng_aio			*aio;
	enum slot_phase		 phase;
	int			 result;
	nng_msg			*reply;
	struct route_entry	**entries;
	size_t			 nentries;
	size_t			 capentries;
	unsigned char		*answered;
};

struct consult {
	struct proxy		*proxy;
	char			*address;
	uint64_t		 timeout_ms;
	nng_socket		 sock;
	int			 open;
	atomic_int		 npipes;
	int			 was_connected;
	uint64_t		 grace_until_ms;	/* first connect */
	struct consult_slot	 slots[CONSULT_SLOTS];

	/* the message being gathered */
	struct msg_writer	 writer;
	struct route_entry	**pending;
	size_t			 npending;
	size_t			 cappending;
	struct event		*flush_ev;

	/* finished slots, handed over from nng's threads */
	int			 efd;
	struct event		*done_ev;
	pthread_mutex_t		 lock;
	int			 done[CONSULT_SLOTS];
	size_t			 ndone;

	struct msg		 reply;
	struct route_answer	*answer;
	uint64_t		 sent;
	uint64_t		 questions;
};

static void	slot_cb(void *);
static void	slot_post(struct consult_slot *);
static void	done_cb(evutil_socket_t, short, void *);
static void	flush_cb(evutil_socket_t, short, void *);
static void	pipe_cb(nng_pipe, nng_pipe_ev, void *);
static void	consult_flush(struct consult *);
static void	slot_finish(struct consult *, struct consult_slot *);

struct consult *
consult_new(struct proxy *p, const char *address, uint64_t timeout_ms)
{
	struct consult	*c;
	int		 rv, i;

	c = xcalloc(1, sizeof(*c));
	c->proxy = p;
	c->address = xstrdup(address);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	atomic_init(&c->npipes, 0);
	pthread_mutex_init(&c->lock, NULL);
	msgw_init(&c->writer);
	msg_init(&c->reply);
	c->answer = xcalloc(1, sizeof(*c->answer));
	if ((c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	c->done_ev = event_new(p->base, c->efd, EV_READ | EV_PERSIST, done_cb,
	    c);
	event_add(c->done_ev, NULL);
	c->flush_ev = event_new(p->base, -1, 0, flush_cb, c);
	event_priority_set(c->flush_ev, 2);

	if ((rv = nng_req0_open(&c->sock)) != 0)
		fatalx("nng_req0_open: %s", nng_strerror(rv));
	c->open = 1;
	/*
	 * nng 1.5's resend timer is kept in a sorted list per request,
	 * quadratic under load; we bound every request with the aio
	 * timeout instead.
	 */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 500);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, MSG_MAX_BYTES * 4);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_cb, c);
	for (i = 0; i < CONSULT_SLOTS; i++) {
		struct consult_slot *s = &c->slots[i];

		s->consult = c;
		s->index = i;
		if ((rv = nng_ctx_open(&s->ctx, c->sock)) != 0)
			fatalx("nng_ctx_open: %s", nng_strerror(rv));
		if ((rv = nng_aio_alloc(&s->aio, slot_cb, s)) != 0)
			fatalx("nng_aio_alloc: %s", nng_strerror(rv));
	}
	/*
	 * Never a blocking dial: a route-d that accepts but does not answer
	 * would hold the event loop for nng's whole handshake timeout.
	 * nng connects (and reconnects) in the background; until the first
	 * connection had its chance, questions wait for it (bounded by the
	 * consult timeout) instead of failing at once.
	 */
	if ((rv = nng_dial(c->sock, address, NULL, NNG_FLAG_NONBLOCK)) != 0)
		log_warnx("route-d address %s: %s", address, nng_strerror(rv));
	c->grace_until_ms = util_now_ms() + c->timeout_ms;
	return c;
}

const char *
consult_address(const struct consult *c)
{
	return c->address;
}

int
consult_connected(const struct consult *c)
{
	return atomic_load(&c->npipes) > 0;
}

void
consult_set_timeout(struct consult *c, uint64_t timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
}

static void
pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct consult	*c = arg;
	uint64_t	 one = 1;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&c->npipes, 1);
	else
		atomic_fetch_sub(&c->npipes, 1);
	/* let the loop log the change */
	if (write(c->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		return;
}

/* Queue a question for entry e, taken from the request of session s. */
int
consult_enqueue(struct consult *c, struct route_entry *e,
    const struct session *s)
{
	struct msg_writer	*w = &c->writer;
	const struct proxy_config *pc = s->gen->pc;
	const struct http_request *req = &s->req;
	char			 name[128];
	size_t			 i, j;

	if (c->npending >= CONSULT_MAX_QUEUED)
		return -1;
	if (atomic_load(&c->npipes) == 0) {
		if (c->grace_until_ms == 0 || util_now_ms() > c->grace_until_ms)
			return -1;
	} else
		c->grace_until_ms = 0;
	if (c->npending == 0) {
		msgw_reset(w);
		msgw_begin(w, "route");
		msgw_field(w, "workload", (struct str){ pc->workload_name,
		    strlen(pc->workload_name) });
		msgw_field(w, "namespace", (struct str){
		    pc->workload_namespace, strlen(pc->workload_namespace) });
		for (i = 0; i < pc->workload_labels.n; i++)
			msgw_fieldf(w, "label", "%s=%s",
			    pc->workload_labels.keys[i],
			    pc->workload_labels.values[i]);
	}
	msgw_record(w);
	msgw_field_u64(w, "id", c->npending);
	msgw_field(w, "listener", s->inbound ? STR_LIT("inbound") :
	    STR_LIT("outbound"));
	msgw_field(w, "authority", req->authority);
	msgw_field(w, "method", req->method);
	msgw_field(w, "path", req->path);
	if (req->scheme.n > 0)
		msgw_field(w, "scheme", req->scheme);
	msgw_field(w, "source", (struct str){ s->client_addr,
	    strlen(s->client_addr) });
	for (i = 0, j = 0; i < req->nheaders && j < ROUTE_MAX_HEADERS; i++) {
		const struct http_header *h = &req->headers[i];
		size_t k;

		if ((int)i == req->host_header || h->name.n >= sizeof(name))
			continue;
		j++;
		for (k = 0; k < h->name.n; k++)
			name[k] = (char)tolower((unsigned char)h->name.p[k]);
		msgw_fieldf(w, "header", "%.*s: %.*s", (int)h->name.n, name,
		    (int)h->value.n, h->value.p);
	}
	if (c->npending == c->cappending) {
		c->cappending = c->cappending ? c->cappending * 2 : 64;
		c->pending = xreallocarray(c->pending, c->cappending,
		    sizeof(*c->pending));
	}
	c->pending[c->npending++] = e;
	c->questions++;
	if (c->npending >= CONSULT_MAX_BATCH)
		consult_flush(c);
	else
		event_active(c->flush_ev, EV_TIMEOUT, 0);
	return 0;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	consult_flush(arg);
}

static void
consult_flush(struct consult *c)
{
	struct consult_slot	*s = NULL;
	struct route_entry	**tmp;
	size_t			 i, tmpcap;
	nng_msg			*m;
	int			 rv;

	if (c->npending == 0)
		return;
	for (i = 0; i < CONSULT_SLOTS; i++)
		if (c->slots[i].phase == SLOT_IDLE) {
			s = &c->slots[i];
			break;
		}
	if (s == NULL)
		return;		/* sent when a slot comes back */
	if (c->writer.overflow ||
	    (rv = nng_msg_alloc(&m, 0)) != 0 ||
	    nng_msg_append(m, c->writer.buf, c->writer.len) != 0) {
		size_t n = c->npending;

		c->npending = 0;
		for (i = 0; i < n; i++)
			routing_failure(c->proxy, c->pending[i],
			    "route-d question too large");
		return;
	}
	/* the gathered questions become the slot's; swap the arrays */
	tmp = s->entries;
	tmpcap = s->capentries;
	s->entries = c->pending;
	s->capentries = c->cappending;
	s->nentries = c->npending;
	c->pending = tmp;
	c->cappending = tmpcap;
	c->npending = 0;
	s->answered = xreallocarray(s->answered, s->capentries, 1);
	memset(s->answered, 0, s->nentries);

	s->phase = SLOT_SEND;
	s->reply = NULL;
	c->sent++;
	nng_aio_set_msg(s->aio, m);
	nng_aio_set_timeout(s->aio, (nng_duration)c->timeout_ms);
	nng_ctx_send(s->ctx, s->aio);
}

/* On an nng thread. */
static void
slot_cb(void *arg)
{
	struct consult_slot	*s = arg;
	int			 rv = nng_aio_result(s->aio);

	if (s->phase == SLOT_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			s->result = rv;
			slot_post(s);
			return;
		}
		s->phase = SLOT_RECV;
		nng_aio_set_timeout(s->aio,
		    (nng_duration)s->consult->timeout_ms);
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	s->result = rv;
	s->reply = rv == 0 ? nng_aio_get_msg(s->aio) : NULL;
	slot_post(s);
}

/* On an nng thread. */
static void
slot_post(struct consult_slot *s)
{
	struct consult	*c = s->consult;
	uint64_t	 one = 1;

	pthread_mutex_lock(&c->lock);
	c->done[c->ndone++] = s->index;
	pthread_mutex_unlock(&c->lock);
	if (write(c->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		return;
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct consult	*c = arg;
	uint64_t	 count;
	int		 done[CONSULT_SLOTS];
	size_t		 n, i;
	int		 connected;

	if (read(c->efd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		log_warn("eventfd");
	connected = atomic_load(&c->npipes) > 0;
	if (connected != c->was_connected) {
		if (connected)
			log_info("route-d at %s connected", c->address);
		else
			log_warnx("route-d at %s disconnected", c->address);
		c->was_connected = connected;
	}
	pthread_mutex_lock(&c->lock);
	n = c->ndone;
	memcpy(done, c->done, n * sizeof(done[0]));
	c->ndone = 0;
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < n; i++)
		slot_finish(c, &c->slots[done[i]]);
	consult_flush(c);
}

/* An answer (or a failure) for every question of the slot. */
static void
slot_finish(struct consult *c, struct consult_slot *s)
{
	struct route_answer	*a = c->answer;
	char			 err[160], reason[200];
	size_t			 i, r;
	ssize_t			 fallback = -1;
	const char		*failure = NULL;

	s->phase = SLOT_IDLE;
	if (s->result != 0) {
		snprintf(reason, sizeof(reason), "route-d unavailable (%s)",
		    s->result == NNG_ETIMEDOUT ? "timed out" :
		    nng_strerror(s->result));
		failure = reason;
		goto fail;
	}
	if (msg_parse(&c->reply, nng_msg_body(s->reply), nng_msg_len(s->reply),
	    err, sizeof(err)) == -1) {
		snprintf(reason, sizeof(reason), "route-d sent a bad reply: %s",
		    err);
		log_warnx("%s", reason);
		failure = reason;
		goto fail;
	}
	if (!msg_type_is(&c->reply, "route-reply")) {
		struct str why = msg_get(&c->reply, &c->reply.header, "reason");

		snprintf(reason, sizeof(reason), "route-d refused: %.*s",
		    why.p != NULL ? (int)why.n : 7,
		    why.p != NULL ? why.p : "no reason");
		log_warnx("%s", reason);
		failure = reason;
		goto fail;
	}
	for (r = 0; r < c->reply.nrecords; r++) {
		if (route_answer_read(&c->reply, &c->reply.records[r], a, err,
		    sizeof(err)) == -1) {
			log_warnx("route-d answer %zu: %s", r, err);
			continue;
		}
		if (!a->has_id) {
			if (fallback == -1)
				fallback = (ssize_t)r;
			continue;
		}
		if (a->id >= s->nentries || s->answered[a->id])
			continue;
		s->answered[a->id] = 1;
		routing_answer(c->proxy, s->entries[a->id], a);
	}
	for (i = 0; i < s->nentries; i++) {
		if (s->answered[i])
			continue;
		if (fallback >= 0 && route_answer_read(&c->reply,
		    &c->reply.records[fallback], a, err, sizeof(err)) == 0)
			routing_answer(c->proxy, s->entries[i], a);
		else
			routing_failure(c->proxy, s->entries[i],
			    "route-d gave no answer to the question");
	}
	nng_msg_free(s->reply);
	s->reply = NULL;
	s->nentries = 0;
	return;

fail:
	if (s->reply != NULL)
		nng_msg_free(s->reply);
	s->reply = NULL;
	for (i = 0; i < s->nentries; i++)
		routing_failure(c->proxy, s->entries[i], failure);
	s->nentries = 0;
}

void
consult_free(struct consult *c)
{
	size_t	 i, n;

	/* closing the socket completes every aio; then answer them here */
	nng_close(c->sock);
	for (i = 0; i < CONSULT_SLOTS; i++) {
		nng_aio_stop(c->slots[i].aio);
		nng_aio_free(c->slots[i].aio);
	}
	for (i = 0; i < CONSULT_SLOTS; i++) {
		struct consult_slot *s = &c->slots[i];
		size_t j;

		if (s->reply != NULL)
			nng_msg_free(s->reply);
		if (s->phase != SLOT_IDLE)
			for (j = 0; j < s->nentries; j++)
				routing_failure(c->proxy, s->entries[j],
				    "route-d connection closed");
		free(s->entries);
		free(s->answered);
	}
	n = c->npending;
	c->npending = 0;
	for (i = 0; i < n; i++)
		routing_failure(c->proxy, c->pending[i],
		    "route-d connection closed");
	free(c->pending);
	event_free(c->done_ev);
	event_free(c->flush_ev);
	close(c->efd);
	pthread_mutex_destroy(&c->lock);
	msgw_fini(&c->writer);
	msg_fini(&c->reply);
	free(c->answer);
	free(c->address);
	free(c);
}
