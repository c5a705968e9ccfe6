/* SPDX-License-Identifier: ISC */
/*
 * The nng clients of the daemons, one machinery for all of them.
 *
 * REQ (route-d, authz-d, breaker-d's admit): the questions of one
 * event-loop turn travel in one message; several messages may be in
 * flight at once, each on its own nng context.  nng completes them on
 * its own threads: those threads only queue the finished slot and poke
 * an eventfd, and the event loop does the rest, so no bufferevent is
 * ever touched off the loop's thread.
 *
 * PUSH (breaker-d's reports): records of one loop turn in one message,
 * sent without blocking after the turn's I/O; dropped and counted when
 * the daemon is away.
 *
 * SUB (breaker-d's events): messages queued by nng's thread, handed to
 * the loop through an eventfd like answers.
 *
 * Every dial is non-blocking: a daemon that accepts but does not answer
 * would otherwise hold the event loop for nng's whole handshake
 * timeout.  nng connects, and reconnects when a daemon comes back, in
 * the background.
 *
 * But nng 1.5's dialer gives up for good when the connection it made
 * is closed before its handshake header is sent: the write fails with
 * EPIPE, which nng reads as "closed", and its connect callback then
 * takes no further action (src/core/dialer.c, dialer_connect_cb).  A
 * daemon killed just as the proxy redials does it: the connect lands
 * in the dying listener's backlog.  While a link is down, a watchdog
 * reads the dialer's statistics each second.  A dialer at work bumps
 * one of them on every attempt, at least every IPC_STUCK_MS (nng's
 * 10 s handshake timeout plus its 500 ms redial cap; longer over TCP,
 * IPC_STUCK_TCP_MS); only one whose counters stood still that long is
 * closed and replaced.  A dialer nng is still working with is never
 * closed: that races nng's threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "log.h"
#include "msg.h"
#include "proxy.h"
#include "util.h"

#define IPC_SLOTS		16	/* messages in flight */
#define IPC_MAX_QUEUED		MSG_MAX_RECORDS
#define IPC_PUSH_MAX_BATCH	256
#define IPC_SUB_MAX_QUEUED	1024
#define IPC_WATCH_MS		1000	/* the watchdog's period, while down */
#define IPC_STUCK_MS		11000	/* a dialer this still has given up */
/*
 * Over TCP a connect may take as long as the kernel's SYN retries
 * (127 s with Linux's default tcp_syn_retries of 6) without a counter
 * moving: a dialer still waiting on one is left alone.
 */
#define IPC_STUCK_TCP_MS	150000

enum slot_phase {
	SLOT_IDLE,
	SLOT_FINISH,	/* its answers being handed out: not to be taken */
	SLOT_SEND,
	SLOT_RECV,
};

struct ipc_slot {
	struct ipc_req		*req;
	int			 index;
	nng_ctx			 ctx;
	nng_aio			*aio;
	enum slot_phase		 phase;
	int			 result;
	nng_msg			*reply;
	void			**items;
	size_t			 nitems;
	size_t			 capitems;
	unsigned char		*answered;
};

/* What the three kinds share: the socket and the hand-off. */
struct ipc_link {
	struct proxy		*proxy;
	const char		*daemon;
	char			*address;
	nng_socket		 sock;
	nng_dialer		 dialer;
	int			 redial;	/* the dialer closed, a new one due */
	struct event		*watch_ev;	/* while down */
	uint64_t		 attempts;	/* the dialer's, last seen */
	uint64_t		 still_since_ms;
	uint64_t		 stuck_ms;	/* IPC_STUCK_MS, or _TCP_ */
	atomic_int		 npipes;
	int			 was_connected;
	int			 efd;
	struct event		*efd_ev;
	pthread_mutex_t		 lock;
	void			(*connected)(void *, int);
	void			*arg;
};

struct ipc_req {
	struct ipc_link		 link;
	const struct ipc_req_ops *ops;
	void			*arg;
	uint64_t		 timeout_ms;
	size_t			 max_batch;
	uint64_t		 grace_until_ms;	/* first connect */
	struct ipc_slot		 slots[IPC_SLOTS];

	/* the message being gathered */
	struct msg_writer	 writer;
	size_t			 mark;		/* the last question's start */
	void			**pending;
	size_t			 npending;
	size_t			 cappending;
	struct event		*flush_ev;
	struct event		*unsent_ev;	/* the pending ones' deadline */

	/* finished slots, handed over from nng's threads (link.lock) */
	int			 done[IPC_SLOTS];
	size_t			 ndone;

	struct msg		 reply;
	uint64_t		 sent;
	uint64_t		 questions;
};

struct ipc_push {
	struct ipc_link		 link;
	const char		*type;
	/* more header fields of each message (stats-d's counters) */
	void			(*header)(struct msg_writer *, void *);
	void			*header_arg;
	uint64_t		 delay_ms;	/* 0: flush each loop turn */
	int			 timer_set;
	struct msg_writer	 writer;
	size_t			 nrecords;
	struct event		*flush_ev;
	uint64_t		 sent;
	uint64_t		 dropped;
};

struct ipc_sub {
	struct ipc_link		 link;
	nng_aio			*aio;
	void			(*handler)(void *, const struct msg *);
	/* received, handed over from nng's thread (link.lock) */
	nng_msg			*queue[IPC_SUB_MAX_QUEUED];
	size_t			 nqueue;
	uint64_t		 dropped;
	struct msg		 msg;
};

static int	link_open(struct ipc_link *, struct proxy *, const char *,
		    const char *, event_callback_fn, void *);
static void	link_dial(struct ipc_link *);
static void	link_close(struct ipc_link *);
static void	link_poke(struct ipc_link *);
static void	link_watch_arm(struct ipc_link *);
static void	link_watch_cb(evutil_socket_t, short, void *);
static int	link_attempts(nng_dialer, uint64_t *);
static nng_msg	*ipc_msg(const struct msg_writer *);
static void	link_check(struct ipc_link *);
static void	pipe_cb(nng_pipe, nng_pipe_ev, void *);
static void	req_slot_cb(void *);
static void	req_slot_post(struct ipc_slot *);
static void	req_done_cb(evutil_socket_t, short, void *);
static void	req_flush_cb(evutil_socket_t, short, void *);
static void	req_flush(struct ipc_req *);
static void	req_unsent_cb(evutil_socket_t, short, void *);
static void	req_slot_finish(struct ipc_req *, struct ipc_slot *);
static void	push_flush_cb(evutil_socket_t, short, void *);
static void	push_flush(struct ipc_push *);
static void	push_done_cb(evutil_socket_t, short, void *);
static void	sub_recv_cb(void *);
static void	sub_done_cb(evutil_socket_t, short, void *);

/*
 * The socket is made by the caller (its protocol differs); here the
 * eventfd, its event, and the pipe notifications.
 */
static int
link_open(struct ipc_link *l, struct proxy *p, const char *daemon,
    const char *address, event_callback_fn cb, void *arg)
{
	l->proxy = p;
	l->daemon = daemon;
	l->address = xstrdup(address);
	l->stuck_ms = strncmp(address, "ipc://", 6) == 0 ? IPC_STUCK_MS :
	    IPC_STUCK_TCP_MS;
	atomic_init(&l->npipes, 0);
	pthread_mutex_init(&l->lock, NULL);
	if ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	l->efd_ev = event_new(p->base, l->efd, EV_READ | EV_PERSIST, cb, arg);
	event_add(l->efd_ev, NULL);
	l->watch_ev = event_new(p->base, -1, EV_PERSIST, link_watch_cb, l);
	nng_socket_set_ms(l->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(l->sock, NNG_OPT_RECONNMAXT, 500);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, l);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, pipe_cb, l);
	return 0;
}

static void
link_dial(struct ipc_link *l)
{
	int	 rv;

	if ((rv = nng_dial(l->sock, l->address, &l->dialer,
	    NNG_FLAG_NONBLOCK)) != 0) {
		/* a redial that failed is tried again by the watchdog */
		if (!l->redial)
			log_warnx("%s address %s: %s", l->daemon, l->address,
			    nng_strerror(rv));
		return;
	}
	l->redial = 0;
	l->attempts = 0;
	l->still_since_ms = util_now_ms();
	if (atomic_load(&l->npipes) == 0)
		link_watch_arm(l);
}

static void
link_watch_arm(struct ipc_link *l)
{
	struct timeval	 tv = util_ms_timeval(IPC_WATCH_MS);

	event_add(l->watch_ev, &tv);
}

/* The sum of the dialer's counters: one moves on every attempt. */
static int
link_attempts(nng_dialer d, uint64_t *sum)
{
	static const char *const names[] = {
		"connect", "refused", "disconnect", "canceled", "other",
		"timeout", "proto", "auth", "oom", "reject",
	};
	nng_stat	*all, *ds, *st;
	size_t		 i;

	if (nng_stats_get(&all) != 0)
		return -1;
	/*
	 * By hand: 1.5's nng_stat_find_dialer returns the first dialer,
	 * whatever its id (its search recurses without the id).
	 */
	for (ds = nng_stat_child(all); ds != NULL; ds = nng_stat_next(ds)) {
		if (nng_stat_type(ds) != NNG_STAT_SCOPE ||
		    strcmp(nng_stat_name(ds), "dialer") != 0)
			continue;
		if ((st = nng_stat_find(ds, "id")) != NULL &&
		    nng_stat_value(st) == (uint64_t)nng_dialer_id(d))
			break;
	}
	if (ds == NULL) {
		nng_stats_free(all);
		return -1;
	}
	*sum = 0;
	for (i = 0; i < nitems(names); i++)
		if ((st = nng_stat_find(ds, names[i])) != NULL)
			*sum += nng_stat_value(st);
	nng_stats_free(all);
	return 0;
}

/* On the loop, each IPC_WATCH_MS while the link is down. */
static void
link_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_link	*l = arg;
	uint64_t	 now = util_now_ms(), attempts;

	if (l->redial) {
		link_dial(l);
		return;
	}
	if (atomic_load(&l->npipes) > 0) {
		event_del(l->watch_ev);
		return;
	}
	if (link_attempts(l->dialer, &attempts) == -1)
		return;		/* nng without statistics: nothing to tell */
	if (attempts != l->attempts) {
		l->attempts = attempts;
		l->still_since_ms = now;
		return;
	}
	if (now - l->still_since_ms < l->stuck_ms)
		return;
	log_warnx("%s at %s: nng's dialer stopped redialling (after %llu "
	    "attempts); dialling anew", l->daemon, l->address,
	    (unsigned long long)attempts);
	nng_dialer_close(l->dialer);
	l->redial = 1;
	link_dial(l);
}

static void
link_close(struct ipc_link *l)
{
	event_free(l->watch_ev);
	event_free(l->efd_ev);
	close(l->efd);
	pthread_mutex_destroy(&l->lock);
	free(l->address);
}

/* On an nng thread, or the loop's. */
static void
link_poke(struct ipc_link *l)
{
	uint64_t	 one = 1;

	if (write(l->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		return;
}

/* On an nng thread. */
static void
pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct ipc_link	*l = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&l->npipes, 1);
	else
		atomic_fetch_sub(&l->npipes, 1);
	/* let the loop log the change */
	link_poke(l);
}

/* On the loop: read the eventfd, log a change of connection. */
static void
link_check(struct ipc_link *l)
{
	uint64_t	 count;
	int		 connected;

	if (read(l->efd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		log_warn("eventfd");
	connected = atomic_load(&l->npipes) > 0;
	if (connected == l->was_connected)
		return;
	if (connected) {
		event_del(l->watch_ev);
		log_info("%s at %s connected", l->daemon, l->address);
	} else {
		l->still_since_ms = util_now_ms();
		link_watch_arm(l);
		log_warnx("%s at %s disconnected", l->daemon, l->address);
	}
	l->was_connected = connected;
	if (l->connected != NULL)
		l->connected(l->arg, connected);
}

/* --- REQ ------------------------------------------------------------ */

struct ipc_req *
ipc_req_new(struct proxy *p, const struct ipc_req_ops *ops, void *arg,
    const char *address, uint64_t timeout_ms, size_t max_batch)
{
	struct ipc_req	*c;
	int		 rv, i;

	c = xcalloc(1, sizeof(*c));
	c->ops = ops;
	c->arg = arg;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	c->max_batch = max_batch > 0 ? max_batch : 256;
	msgw_init(&c->writer);
	msg_init(&c->reply);
	if ((rv = nng_req0_open(&c->link.sock)) != 0)
		fatalx("nng_req0_open: %s", nng_strerror(rv));
	link_open(&c->link, p, ops->daemon, address, req_done_cb, c);
	c->link.connected = ops->connected;
	c->link.arg = arg;
	c->flush_ev = event_new(p->base, -1, 0, req_flush_cb, c);
	event_priority_set(c->flush_ev, PRIO_AFTER_IO);
	c->unsent_ev = evtimer_new(p->base, req_unsent_cb, c);
	/*
	 * nng 1.5's resend timer is kept in a sorted list per request,
	 * quadratic under load; we bound every request with the aio
	 * timeout instead.
	 */
	nng_socket_set_ms(c->link.sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_size(c->link.sock, NNG_OPT_RECVMAXSZ,
	    MSG_MAX_BYTES * 4);
	for (i = 0; i < IPC_SLOTS; i++) {
		struct ipc_slot *s = &c->slots[i];

		s->req = c;
		s->index = i;
		if ((rv = nng_ctx_open(&s->ctx, c->link.sock)) != 0)
			fatalx("nng_ctx_open: %s", nng_strerror(rv));
		if ((rv = nng_aio_alloc(&s->aio, req_slot_cb, s)) != 0)
			fatalx("nng_aio_alloc: %s", nng_strerror(rv));
	}
	link_dial(&c->link);
	/*
	 * Until the first connection had its chance, questions wait for it
	 * (bounded by the timeout) instead of failing at once.
	 */
	c->grace_until_ms = util_now_ms() + c->timeout_ms;
	return c;
}

const char *
ipc_req_address(const struct ipc_req *c)
{
	return c->link.address;
}

int
ipc_req_connected(const struct ipc_req *c)
{
	return atomic_load(&c->link.npipes) > 0;
}

void
ipc_req_set_timeout(struct ipc_req *c, uint64_t timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
}

/*
 * Start a question: a record with its id in the message of this loop
 * turn, the header first if it is the turn's first question.  NULL when
 * the daemon is away (past the first connection's grace) or too much is
 * queued: the caller takes its failure path.
 */
struct msg_writer *
ipc_req_begin(struct ipc_req *c, const struct proxy_config *pc)
{
	struct msg_writer	*w = &c->writer;

	if (c->npending >= IPC_MAX_QUEUED)
		return NULL;
	if (atomic_load(&c->link.npipes) == 0) {
		if (c->grace_until_ms == 0 || util_now_ms() > c->grace_until_ms)
			return NULL;
	} else
		c->grace_until_ms = 0;
	if (c->npending == 0)
		ipc_header(w, c->ops->type, pc);
	c->mark = w->len;
	msgw_record(w);
	msgw_field_u64(w, "id", c->npending);
	return w;
}

/*
 * The question begun last is written: item waits for its answer.  -1
 * when it did not fit in a message: it is taken back, the others of
 * the message go on, and the caller refuses that one request.
 */
int
ipc_req_end(struct ipc_req *c, void *item)
{
	struct msg_writer	*w = &c->writer;

	if (w->overflow) {
		w->len = c->mark;
		w->overflow = 0;
		return -1;
	}
	if (c->npending == c->cappending) {
		c->cappending = c->cappending ? c->cappending * 2 : 64;
		c->pending = xreallocarray(c->pending, c->cappending,
		    sizeof(*c->pending));
	}
	c->pending[c->npending++] = item;
	c->questions++;
	/* a message half full goes now: the next question has room */
	if (c->npending >= c->max_batch || w->len >= MSG_MAX_BYTES / 2)
		req_flush(c);
	else
		event_active(c->flush_ev, EV_TIMEOUT, 0);
	return 0;
}

/* The header every message of proxy-d carries: who asks. */
void
ipc_header(struct msg_writer *w, const char *type,
    const struct proxy_config *pc)
{
	msgw_source(w, type, pc->workload_name, pc->workload_namespace,
	    pc->workload_labels.keys, pc->workload_labels.values,
	    pc->workload_labels.n);
}

static void
req_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	req_flush(arg);
}

static void
req_flush(struct ipc_req *c)
{
	struct ipc_slot	*s = NULL;
	void		**tmp;
	size_t		 i, tmpcap;
	nng_msg		*m;
	char		 reason[80];

	if (c->npending == 0)
		return;
	for (i = 0; i < IPC_SLOTS; i++)
		if (c->slots[i].phase == SLOT_IDLE) {
			s = &c->slots[i];
			break;
		}
	if (s == NULL) {
		/* sent when a slot comes back, or failed at the deadline */
		if (!evtimer_pending(c->unsent_ev, NULL)) {
			struct timeval tv;

			tv = util_ms_timeval(c->timeout_ms);
			evtimer_add(c->unsent_ev, &tv);
		}
		return;
	}
	if ((m = ipc_msg(&c->writer)) == NULL) {
		size_t n = c->npending;

		c->npending = 0;
		snprintf(reason, sizeof(reason), "%s question too large",
		    c->ops->daemon);
		for (i = 0; i < n; i++)
			c->ops->fail(c->arg, c->pending[i], reason);
		return;
	}
	if (evtimer_pending(c->unsent_ev, NULL))
		evtimer_del(c->unsent_ev);
	/* the gathered questions become the slot's; swap the arrays */
	tmp = s->items;
	tmpcap = s->capitems;
	s->items = c->pending;
	s->capitems = c->cappending;
	s->nitems = c->npending;
	c->pending = tmp;
	c->cappending = tmpcap;
	c->npending = 0;
	s->answered = xreallocarray(s->answered, s->capitems, 1);
	memset(s->answered, 0, s->nitems);

	s->phase = SLOT_SEND;
	s->reply = NULL;
	c->sent++;
	nng_aio_set_msg(s->aio, m);
	nng_aio_set_timeout(s->aio, (nng_duration)c->timeout_ms);
	nng_ctx_send(s->ctx, s->aio);
}

/*
 * Questions that found no free slot for a whole timeout: the daemon
 * holds every message in flight.  They fail as a sent one would.
 */
static void
req_unsent_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_req	*c = arg;
	void		**items;
	size_t		 i, n;
	char		 reason[80];

	req_flush(c);
	if ((n = c->npending) == 0)
		return;
	/* the failures may ask again: into a list of their own */
	items = c->pending;
	c->pending = NULL;
	c->cappending = 0;
	c->npending = 0;
	snprintf(reason, sizeof(reason), "%s unavailable (question not sent "
	    "in time)", c->ops->daemon);
	for (i = 0; i < n; i++)
		c->ops->fail(c->arg, items[i], reason);
	free(items);
}

/* On an nng thread. */
static void
req_slot_cb(void *arg)
{
	struct ipc_slot	*s = arg;
	int		 rv = nng_aio_result(s->aio);

	if (s->phase == SLOT_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			s->result = rv;
			req_slot_post(s);
			return;
		}
		s->phase = SLOT_RECV;
		nng_aio_set_timeout(s->aio, (nng_duration)s->req->timeout_ms);
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	s->result = rv;
	s->reply = rv == 0 ? nng_aio_get_msg(s->aio) : NULL;
	req_slot_post(s);
}

/* On an nng thread. */
static void
req_slot_post(struct ipc_slot *s)
{
	struct ipc_req	*c = s->req;

	pthread_mutex_lock(&c->link.lock);
	c->done[c->ndone++] = s->index;
	pthread_mutex_unlock(&c->link.lock);
	link_poke(&c->link);
}

static void
req_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_req	*c = arg;
	int		 done[IPC_SLOTS];
	size_t		 n, i;

	link_check(&c->link);
	pthread_mutex_lock(&c->link.lock);
	n = c->ndone;
	memcpy(done, c->done, n * sizeof(done[0]));
	c->ndone = 0;
	pthread_mutex_unlock(&c->link.lock);
	for (i = 0; i < n; i++)
		req_slot_finish(c, &c->slots[done[i]]);
	req_flush(c);
}

/*
 * An answer (or a failure) for every question of the slot.  A record
 * without an id answers every question the others did not (a stand-in
 * with one fixed reply serves all).
 */
static void
req_slot_finish(struct ipc_req *c, struct ipc_slot *s)
{
	const struct ipc_req_ops *ops = c->ops;
	char			 err[160], reason[200];
	size_t			 i, r;
	ssize_t			 fallback = -1;
	uint64_t		 id;
	int			 has_id;
	const char		*failure = NULL;

	/*
	 * The answers' callbacks may ask new questions and flush them: the
	 * slot is not free for that until its own items are all served.
	 */
	s->phase = SLOT_FINISH;
	if (s->result != 0) {
		snprintf(reason, sizeof(reason), "%s unavailable (%s)",
		    ops->daemon, s->result == NNG_ETIMEDOUT ? "timed out" :
		    nng_strerror(s->result));
		failure = reason;
		goto fail;
	}
	if (msg_parse(&c->reply, nng_msg_body(s->reply), nng_msg_len(s->reply),
	    err, sizeof(err)) == -1) {
		snprintf(reason, sizeof(reason), "%s sent a bad reply: %s",
		    ops->daemon, err);
		log_warnx("%s", reason);
		failure = reason;
		goto fail;
	}
	if (!msg_type_is(&c->reply, ops->reply)) {
		struct str why = msg_get(&c->reply, &c->reply.header, "reason");

		snprintf(reason, sizeof(reason), "%s refused: %.*s",
		    ops->daemon, why.p != NULL ? (int)why.n : 7,
		    why.p != NULL ? why.p : "no reason");
		log_warnx("%s", reason);
		failure = reason;
		goto fail;
	}
	for (r = 0; r < c->reply.nrecords; r++) {
		if (ops->read(c->arg, &c->reply, &c->reply.records[r], &id,
		    &has_id, err, sizeof(err)) == -1) {
			log_warnx("%s answer %zu: %s", ops->daemon, r, err);
			continue;
		}
		if (!has_id) {
			if (fallback == -1)
				fallback = (ssize_t)r;
			continue;
		}
		if (id >= s->nitems || s->answered[id])
			continue;
		s->answered[id] = 1;
		ops->answer(c->arg, s->items[id]);
	}
	snprintf(reason, sizeof(reason), "%s gave no answer to the question",
	    ops->daemon);
	for (i = 0; i < s->nitems; i++) {
		if (s->answered[i])
			continue;
		if (fallback >= 0 && ops->read(c->arg, &c->reply,
		    &c->reply.records[fallback], &id, &has_id, err,
		    sizeof(err)) == 0)
			ops->answer(c->arg, s->items[i]);
		else
			ops->fail(c->arg, s->items[i], reason);
	}
	nng_msg_free(s->reply);
	s->reply = NULL;
	s->nitems = 0;
	s->phase = SLOT_IDLE;
	return;

fail:
	if (s->reply != NULL)
		nng_msg_free(s->reply);
	s->reply = NULL;
	for (i = 0; i < s->nitems; i++)
		ops->fail(c->arg, s->items[i], failure);
	s->nitems = 0;
	s->phase = SLOT_IDLE;
}

void
ipc_req_free(struct ipc_req *c)
{
	size_t	 i, n;
	char	 reason[80];

	snprintf(reason, sizeof(reason), "%s connection closed",
	    c->ops->daemon);
	/* closing the socket completes every aio; then answer them here */
	nng_close(c->link.sock);
	for (i = 0; i < IPC_SLOTS; i++) {
		nng_aio_stop(c->slots[i].aio);
		nng_aio_free(c->slots[i].aio);
	}
	for (i = 0; i < IPC_SLOTS; i++) {
		struct ipc_slot *s = &c->slots[i];
		size_t j;

		if (s->reply != NULL)
			nng_msg_free(s->reply);
		if (s->phase != SLOT_IDLE)
			for (j = 0; j < s->nitems; j++)
				c->ops->fail(c->arg, s->items[j], reason);
		free(s->items);
		free(s->answered);
	}
	n = c->npending;
	c->npending = 0;
	for (i = 0; i < n; i++)
		c->ops->fail(c->arg, c->pending[i], reason);
	free(c->pending);
	event_free(c->flush_ev);
	event_free(c->unsent_ev);
	link_close(&c->link);
	msgw_fini(&c->writer);
	msg_fini(&c->reply);
	free(c);
}

/*
 * The writer's message as an nng message, allocated at its size and
 * copied once.  NULL when it overflowed or nng has no memory.
 */
static nng_msg *
ipc_msg(const struct msg_writer *w)
{
	nng_msg	*m;

	if (w->overflow || nng_msg_alloc(&m, w->len) != 0)
		return NULL;
	if (w->len > 0)
		memcpy(nng_msg_body(m), w->buf, w->len);
	return m;
}

/* --- PUSH ----------------------------------------------------------- */

struct ipc_push *
ipc_push_new(struct proxy *p, const char *daemon, const char *type,
    const char *address)
{
	struct ipc_push	*c;
	int		 rv;

	c = xcalloc(1, sizeof(*c));
	c->type = type;
	msgw_init(&c->writer);
	if ((rv = nng_push0_open(&c->link.sock)) != 0)
		fatalx("nng_push0_open: %s", nng_strerror(rv));
	link_open(&c->link, p, daemon, address, push_done_cb, c);
	/* a few messages may wait in nng for a slow reader; more drop */
	nng_socket_set_int(c->link.sock, NNG_OPT_SENDBUF, 64);
	c->flush_ev = event_new(p->base, -1, 0, push_flush_cb, c);
	event_priority_set(c->flush_ev, PRIO_AFTER_IO);
	link_dial(&c->link);
	return c;
}

const char *
ipc_push_address(const struct ipc_push *c)
{
	return c->link.address;
}

void
ipc_push_counters(const struct ipc_push *c, uint64_t *sent,
    uint64_t *dropped)
{
	*sent = c->sent;
	*dropped = c->dropped;
}

/*
 * The message of this loop turn, for one more record (the caller starts
 * it with msgw_record).  NULL when the daemon is away: the record is
 * dropped and counted.
 */
struct msg_writer *
ipc_push_begin(struct ipc_push *c, const struct proxy_config *pc)
{
	if (atomic_load(&c->link.npipes) == 0) {
		c->dropped++;
		return NULL;
	}
	if (c->nrecords == 0) {
		ipc_header(&c->writer, c->type, pc);
		if (c->header != NULL)
			c->header(&c->writer, c->header_arg);
	}
	return &c->writer;
}

void
ipc_push_set_header(struct ipc_push *c, void (*fn)(struct msg_writer *,
    void *), void *arg)
{
	c->header = fn;
	c->header_arg = arg;
}

/* A message of the header alone (counters), when nothing else goes. */
void
ipc_push_empty(struct ipc_push *c, const struct proxy_config *pc)
{
	nng_msg	*m;

	if (c->nrecords > 0 || atomic_load(&c->link.npipes) == 0)
		return;
	ipc_header(&c->writer, c->type, pc);
	if (c->header != NULL)
		c->header(&c->writer, c->header_arg);
	if ((m = ipc_msg(&c->writer)) == NULL)
		return;
	if (nng_sendmsg(c->link.sock, m, NNG_FLAG_NONBLOCK) != 0)
		nng_msg_free(m);
}

void
ipc_push_end(struct ipc_push *c)
{
	struct timeval	 tv;

	/* full, or half the most a message may be (long paths) */
	if (++c->nrecords >= IPC_PUSH_MAX_BATCH ||
	    c->writer.len >= MSG_MAX_BYTES / 2)
		push_flush(c);
	else if (c->delay_ms == 0)
		event_active(c->flush_ev, EV_TIMEOUT, 0);
	else if (!c->timer_set) {
		tv = util_ms_timeval(c->delay_ms);
		evtimer_add(c->flush_ev, &tv);
		c->timer_set = 1;
	}
}

/*
 * Records of several loop turns in one message: a message costs tens of
 * microseconds of CPU however small it is, so a busy proxy sends a few
 * full ones a second rather than one per turn.
 */
void
ipc_push_set_delay(struct ipc_push *c, uint64_t ms)
{
	c->delay_ms = ms;
}

static void
push_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_push	*c = arg;

	c->timer_set = 0;
	push_flush(c);
}

static void
push_flush(struct ipc_push *c)
{
	nng_msg	*m;
	size_t	 n = c->nrecords;

	if (c->timer_set) {
		evtimer_del(c->flush_ev);
		c->timer_set = 0;
	}
	if (n == 0)
		return;
	c->nrecords = 0;
	if ((m = ipc_msg(&c->writer)) == NULL) {
		c->dropped += n;
		return;
	}
	if (nng_sendmsg(c->link.sock, m, NNG_FLAG_NONBLOCK) != 0) {
		nng_msg_free(m);
		c->dropped += n;
		return;
	}
	c->sent += n;
}

static void
push_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_push	*c = arg;

	link_check(&c->link);
}

void
ipc_push_free(struct ipc_push *c)
{
	push_flush(c);
	nng_close(c->link.sock);
	event_free(c->flush_ev);
	link_close(&c->link);
	msgw_fini(&c->writer);
	free(c);
}

/* --- SUB ------------------------------------------------------------ */

struct ipc_sub *
ipc_sub_new(struct proxy *p, const char *daemon, const char *address,
    void (*handler)(void *, const struct msg *), void *arg)
{
	struct ipc_sub	*c;
	int		 rv;

	c = xcalloc(1, sizeof(*c));
	c->handler = handler;
	msg_init(&c->msg);
	if ((rv = nng_sub0_open(&c->link.sock)) != 0)
		fatalx("nng_sub0_open: %s", nng_strerror(rv));
	link_open(&c->link, p, daemon, address, sub_done_cb, c);
	c->link.arg = arg;
	nng_socket_set(c->link.sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	nng_socket_set_size(c->link.sock, NNG_OPT_RECVMAXSZ, MSG_MAX_BYTES);
	if ((rv = nng_aio_alloc(&c->aio, sub_recv_cb, c)) != 0)
		fatalx("nng_aio_alloc: %s", nng_strerror(rv));
	link_dial(&c->link);
	nng_recv_aio(c->link.sock, c->aio);
	return c;
}

const char *
ipc_sub_address(const struct ipc_sub *c)
{
	return c->link.address;
}

/* On an nng thread: queue the message, wait for the next. */
static void
sub_recv_cb(void *arg)
{
	struct ipc_sub	*c = arg;
	int		 rv = nng_aio_result(c->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv == 0) {
		nng_msg *m = nng_aio_get_msg(c->aio);

		pthread_mutex_lock(&c->link.lock);
		if (c->nqueue < IPC_SUB_MAX_QUEUED) {
			c->queue[c->nqueue++] = m;
			m = NULL;
		} else
			c->dropped++;
		pthread_mutex_unlock(&c->link.lock);
		if (m != NULL)
			nng_msg_free(m);
		link_poke(&c->link);
	}
	nng_recv_aio(c->link.sock, c->aio);
}

static void
sub_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_sub	*c = arg;
	nng_msg		*q[IPC_SUB_MAX_QUEUED];
	size_t		 n, i;
	char		 err[160];

	link_check(&c->link);
	pthread_mutex_lock(&c->link.lock);
	n = c->nqueue;
	memcpy(q, c->queue, n * sizeof(q[0]));
	c->nqueue = 0;
	pthread_mutex_unlock(&c->link.lock);
	for (i = 0; i < n; i++) {
		if (msg_parse(&c->msg, nng_msg_body(q[i]), nng_msg_len(q[i]),
		    err, sizeof(err)) == -1)
			log_warnx("%s sent a bad message: %s", c->link.daemon,
			    err);
		else
			c->handler(c->link.arg, &c->msg);
		nng_msg_free(q[i]);
	}
}

void
ipc_sub_free(struct ipc_sub *c)
{
	size_t	 i;

	nng_close(c->link.sock);
	nng_aio_stop(c->aio);
	nng_aio_free(c->aio);
	for (i = 0; i < c->nqueue; i++)
		nng_msg_free(c->queue[i]);
	link_close(&c->link);
	msg_fini(&c->msg);
	free(c);
}
