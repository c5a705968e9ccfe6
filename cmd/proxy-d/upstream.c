/*
 * Upstream connections and the pool of idle ones per endpoint.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

static void	upstream_readcb(struct bufferevent *, void *);
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
	free(u);
}

/*
 * Has a pooled connection said nothing since its last answer?  Bytes
 * that came after an answer (a 204 with a body, say) belong to no
 * request: read as the next one's answer they would be handed to
 * another client.  The idle read callback catches those that came
 * while the loop slept; these are the ones that came since, still in
 * the kernel.
 */
static int
upstream_quiet(struct upstream *u)
{
	char	 c;

	if (evbuffer_get_length(bufferevent_get_input(u->bev)) != 0)
		return 0;
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
	const struct proxy_config *pc = s->gen->pc;
	struct timeval		 tv;

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
	 * A new connection: the write timeout bounds the connect, the read
	 * timeout is the stream idle timeout (set for good once connected).
	 * A pooled one keeps what it has: no timer work per request.
	 */
	if (!u->connected) {
		struct timeval rtv;
		uint64_t ct = cluster_connect_timeout(s->cluster,
		    pc->connect_timeout_ms);

		tv.tv_sec = (time_t)(ct / 1000);
		tv.tv_usec = (suseconds_t)(ct % 1000) * 1000;
		rtv.tv_sec = (time_t)(pc->stream_idle_timeout_ms / 1000);
		rtv.tv_usec = (suseconds_t)(pc->stream_idle_timeout_ms % 1000) *
		    1000;
		bufferevent_set_timeouts(u->bev, &rtv, &tv);
	}
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
	bufferevent_setcb(u->bev, upstream_idle_readcb, NULL,
	    upstream_idle_eventcb, u);
	bufferevent_setwatermark(u->bev, EV_WRITE, 0, 0);
	bufferevent_disable(u->bev, EV_WRITE);
	bufferevent_enable(u->bev, EV_READ);
	TAILQ_INSERT_HEAD(&pool->idle, u, entry);
	pool->nidle++;
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
		const struct proxy_config *pc = u->session->gen->pc;
		struct timeval tv;
		char why[256];

		/* TLS: a server the route does not allow is a failure */
		if (conn_upstream_connected(u, why, sizeof(why)) == -1) {
			struct session *s = u->session;

			cluster_report(s->proxy, s->cluster, u->pool,
			    "connect-failure");
			forward_try_failed(s, RETRY_OUTCOME_CONNECT_FAILURE,
			    503, "UF", "%s", why);
			return;
		}
		/* connected: from now on only the stream idle timeout */
		u->connected = 1;
		tv.tv_sec = (time_t)(pc->stream_idle_timeout_ms / 1000);
		tv.tv_usec = (suseconds_t)(pc->stream_idle_timeout_ms % 1000) *
		    1000;
		bufferevent_set_timeouts(bev, &tv, &tv);
		return;
	}
	forward_event(u->session, what);
}

/* A session lets go of its upstream without a clean end: close it. */
void
upstream_abort(struct upstream *u)
{
	u->pool->active--;
	upstream_free(u);
}
