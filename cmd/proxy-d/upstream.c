/* SPDX-License-Identifier: ISC */
/*
 * Upstream connections and the pool of idle ones per endpoint.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plainio.h"
#include "proxy.h"
#include "util.h"

/*
 * The most one read takes from a TLS connection's plaintext that is
 * surely short of what tlsio.c reads at once (its reads are larger):
 * a read of this much or more may have stopped at its room.  A plain
 * connection's reads stop at PLAINIO_READ.
 */
#define UPSTREAM_TLS_READ_MIN	4096

static void	upstream_readcb(struct bufferevent *, void *);
static int	upstream_unsure(const struct upstream *);
static void	upstream_writecb(struct bufferevent *, void *);
static void	upstream_eventcb(struct bufferevent *, short, void *);
static void	upstream_idle_eventcb(struct bufferevent *, short, void *);
static void	upstream_idle_readcb(struct bufferevent *, void *);
static void	upstream_free(struct upstream *);
static int	upstream_quiet(struct upstream *);

struct pool *
pool_get(struct proxy *p, const char *address)
{
	struct pool	*pool;
	size_t		 len = strlen(address);

	if ((pool = strmap_get(&p->pools, address, len)) != NULL)
		return pool;
	pool = xcalloc(1, sizeof(*pool));
	if (util_parse_sockaddr(address, &pool->addr, &pool->addrlen) == -1 ||
	    pool->addr.ss_family == AF_UNIX) {
		free(pool);
		return NULL;
	}
	util_strlcpy(pool->name, address, sizeof(pool->name));
	TAILQ_INIT(&pool->idle);
	strmap_put(&p->pools, address, len, pool);
	return pool;
}

/* Close pooled connections idle for longer than upstreamIdle. */
void
pools_sweep(struct proxy *p, uint64_t now)
{
	uint64_t	 limit = p->gen->pc->upstream_idle_timeout_ms;
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	while (strmap_next(&p->pools, &pos, &key, &value)) {
		struct pool	*pool = value;
		struct upstream	*u, *next;

		/* newest first in the list: the oldest are at its tail */
		while ((u = TAILQ_LAST(&pool->idle, upstream_list)) != NULL &&
		    now >= u->idle_since_ms + limit) {
			TAILQ_REMOVE(&pool->idle, u, entry);
			pool->nidle--;
			upstream_free(u);
		}
		/* shorter limits of a cluster (breaker-d's idleTimeout) */
		TAILQ_FOREACH_SAFE(u, &pool->idle, entry, next)
			if (u->idle_limit_ms > 0 &&
			    now >= u->idle_since_ms + u->idle_limit_ms) {
				TAILQ_REMOVE(&pool->idle, u, entry);
				pool->nidle--;
				upstream_free(u);
			}
	}
}

void
pools_free(struct proxy *p)
{
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	while (strmap_next(&p->pools, &pos, &key, &value)) {
		struct pool *pool = value;
		struct upstream *u;

		while ((u = TAILQ_FIRST(&pool->idle)) != NULL) {
			TAILQ_REMOVE(&pool->idle, u, entry);
			upstream_free(u);
		}
		free(pool->tls);
		free(pool);
	}
	strmap_fini(&p->pools);
}

/* Its idle connections go (they were made another way). */
void
pool_flush(struct pool *pool)
{
	struct upstream	*u;

	while ((u = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, u, entry);
		pool->nidle--;
		upstream_free(u);
	}
}

static void
upstream_free(struct upstream *u)
{
	conn_close(u->bev);
	bufferevent_free(u->bev);
	free(u->peer_id);
	free(u);
}

/*
 * Has a pooled connection said nothing since its last answer?  Bytes
 * that came after an answer (a 204 with a body, say) belong to no
 * request: read as the next one's answer they would be handed to
 * another client.  Those that came with the answer's last read are in
 * the input (upstream_release closes it then); those that come later
 * wake its idle read callback, which closes it, and an idle connection
 * runs at PRIO_URGENT, so that the callback runs before any request
 * of the same poll can take the connection.  What the loop cannot know
 * without a system call is bytes still in the kernel behind a read
 * that stopped at its read size (an answer that ends on it,
 * stray bytes behind: t_hostile's aligned cases): for those alone, one
 * recv(MSG_PEEK).  (Every reuse cost that recv before: one system call
 * in eight of a proxied request.)  Bytes that arrive in the very loop
 * turn that took the connection back, before the next poll, are seen
 * by no proxy that learns of them by polling; like bytes that come
 * after the next request left, they read as its answer.
 */
static int
upstream_quiet(struct upstream *u)
{
	char	 c;

	if (evbuffer_get_length(bufferevent_get_input(u->bev)) != 0)
		return 0;
	if (u->urgent) {
		if (bufferevent_priority_set(u->bev, PRIO_IO) == -1)
			return 0;	/* its callback is due: let it go */
		u->urgent = 0;
		if (!u->unsure)
			return 1;
	}
	return recv(bufferevent_getfd(u->bev), &c, 1,
	    MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN;
}

/*
 * An upstream connection for session s: an idle one from the pool when
 * there is one (unless fresh is set), else a new connect.
 */
struct upstream *
upstream_acquire(struct proxy *p, struct pool *pool, struct session *s,
    int fresh)
{
	struct upstream		*u;

	u = NULL;
	while (!fresh && (u = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, u, entry);
		pool->nidle--;
		if (upstream_quiet(u))
			break;
		/* it spoke or closed since its last answer */
		upstream_free(u);
	}
	if (u != NULL)
		u->reused = 1;
	else {
		u = xcalloc(1, sizeof(*u));
		u->pool = pool;
		if ((u->bev = conn_upstream(p, pool, s, &u->direct)) == NULL) {
			free(u);
			return NULL;
		}
	}
	u->session = s;
	u->requests++;
	pool->active++;
	pool->requests++;
	bufferevent_setcb(u->bev, upstream_readcb, upstream_writecb,
	    upstream_eventcb, u);
	/*
	 * A new connection: its connect and read deadlines.  A pooled one
	 * keeps what it has (no timer work per request without a body);
	 * one for a request whose body is still to come has no read
	 * deadline until it is sent (forward_pump_request).
	 */
	if (!u->connected || u->read_deadline != s->req_body_done)
		upstream_deadlines(u);
	/* a new connection needs the write event to learn it connected */
	bufferevent_enable(u->bev, u->connected ? EV_READ : EV_READ | EV_WRITE);
	return u;
}

/*
 * The request is over.  A connection whose exchange ended cleanly goes
 * back to the pool; any other is closed.
 */
void
upstream_release(struct proxy *p, struct upstream *u, int reusable)
{
	struct pool			*pool = u->pool;
	const struct proxy_config	*pc;

	pool->active--;
	pc = u->session != NULL ? u->session->gen->pc : p->gen->pc;
	/* breaker-d's idleTimeout for the cluster, if it gave one */
	u->idle_limit_ms = u->session != NULL ? cluster_idle_timeout(
	    u->session->cluster, 0) : 0;
	u->session = NULL;
	if (!reusable || p->draining || pool->nidle >= pc->pool_max_idle ||
	    evbuffer_get_length(bufferevent_get_input(u->bev)) != 0) {
		upstream_free(u);
		return;
	}
	/* pools_sweep() closes it once idle for upstreamIdle */
	u->idle_since_ms = util_now_ms();
	/* upstream_quiet: its callbacks before any request's */
	u->urgent = bufferevent_priority_set(u->bev, PRIO_URGENT) == 0;
	u->unsure = upstream_unsure(u);
	bufferevent_setcb(u->bev, upstream_idle_readcb, NULL,
	    upstream_idle_eventcb, u);
	bufferevent_setwatermark(u->bev, EV_WRITE, 0, 0);
	bufferevent_disable(u->bev, EV_WRITE);
	bufferevent_enable(u->bev, EV_READ);
	TAILQ_INSERT_HEAD(&pool->idle, u, entry);
	pool->nidle++;
}

/*
 * Whether the last read may have stopped at its room, so that more may
 * wait in the kernel: it took the most a read takes, or filled the
 * input to its high watermark.
 */
static int
upstream_unsure(const struct upstream *u)
{
	size_t	 low, high;

	bufferevent_getwatermark(u->bev, EV_READ, &low, &high);
	if (high != 0 && u->last_in >= high)
		return 1;
	return u->last_in >= (conn_ssl(u->bev) != NULL ?
	    UPSTREAM_TLS_READ_MIN : PLAINIO_READ);
}

/* An idle connection that speaks or closes is of no more use. */
static void
upstream_idle_readcb(struct bufferevent *bev, void *arg)
{
	struct upstream	*u = arg;

	TAILQ_REMOVE(&u->pool->idle, u, entry);
	u->pool->nidle--;
	upstream_free(u);
}

static void
upstream_idle_eventcb(struct bufferevent *bev, short what, void *arg)
{
	upstream_idle_readcb(bev, arg);
}

static void
upstream_readcb(struct bufferevent *bev, void *arg)
{
	struct upstream	*u = arg;

	/* this read, with what little the last left (a partial head) */
	u->last_in = evbuffer_get_length(bufferevent_get_input(bev));
	forward_read(u->session);
}

static void
upstream_writecb(struct bufferevent *bev, void *arg)
{
	struct upstream	*u = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	forward_write(u->session);
}

static void
upstream_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream	*u = arg;

	if (what & BEV_EVENT_CONNECTED) {
		char why[256];

		/* TLS: a server the route does not allow is a failure */
		if (conn_upstream_connected(u, why, sizeof(why)) == -1) {
			struct session *s = u->session;

			cluster_report(s->proxy, s->cluster, u->pool,
			    "connect-failure");
			session_up_failure(s, "connection_failure", why);
			forward_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE,
			    503, "UF", "%s", why);
			return;
		}
		/* a plain connection's reads are plainio's from now on */
		if (conn_ssl(bev) == NULL)
			plainio_attach(bev);
		/* connected: from now on streamIdle, not the connect's */
		u->connected = 1;
		upstream_deadlines(u);
		return;
	}
	forward_event(u->session, what);
}

/*
 * The deadlines of a connection in use: its write side always (the
 * connect, then streamIdle for taking what is sent); its read side only
 * once the whole request is sent.  While the client's body streams the
 * endpoint owes no answer: a silence then is the client's, which its own
 * read deadline catches (session.c), and must not be taken for the
 * endpoint's (a 504 UT reported to breaker-d would eject a healthy
 * endpoint for a client that stalls its upload).  Each call restarts the
 * clocks: at the request's end, the endpoint's silence counts from there.
 */
void
upstream_deadlines(struct upstream *u)
{
	const struct session		*s = u->session;
	const struct proxy_config	*pc = s->gen->pc;
	struct timeval			 rtv, wtv;

	rtv = util_ms_timeval(pc->stream_idle_timeout_ms);
	wtv = util_ms_timeval(u->connected ? pc->stream_idle_timeout_ms :
	    cluster_connect_timeout(s->cluster, pc->connect_timeout_ms));
	/* (an answer begun early, while the body still comes, is owed
	   from its head on) */
	u->read_deadline = s->req_body_done || s->resp_head_done;
	bufferevent_set_timeouts(u->bev, u->read_deadline ? &rtv : NULL, &wtv);
}

/* A session lets go of its upstream without a clean end: close it. */
void
upstream_abort(struct upstream *u)
{
	u->pool->active--;
	upstream_free(u);
}
