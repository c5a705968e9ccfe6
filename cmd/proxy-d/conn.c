/*
 * Where proxy-d's connections get their bufferevents: one place for the
 * client side, one for the upstream side (requests and mirrors).  A
 * transport that is not plain TCP (tls-d's mTLS, see stage.h) wraps or
 * replaces the socket bufferevent here, and nowhere else.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"

/*
 * An accepted client connection.  *direct says whether conn_flush may
 * write the socket itself (plain TCP); a TLS transport sets it to 0.
 * NULL: the connection is refused (fd closed).
 */
struct bufferevent *
conn_client(struct proxy *p, struct session *s, evutil_socket_t fd,
    int *direct)
{
	struct bufferevent	*bev;
	int			 one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	/* TLS hook: an inbound listener in STRICT or PERMISSIVE mode
	   wraps or replaces this one */
	if ((bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return NULL;
	}
	*direct = 1;
	return bev;
}

/*
 * A new connection to pool's address, connecting; s is the session it
 * is for (NULL: a mirror).  NULL when no socket could be made.
 */
struct bufferevent *
conn_upstream(struct proxy *p, struct pool *pool, struct session *s,
    int *direct)
{
	struct bufferevent	*bev;
	evutil_socket_t		 fd;
	int			 one = 1;

	fd = socket(pool->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket");
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* TLS hook: a cluster whose DestinationRule says ISTIO_MUTUAL or
	   SIMPLE originates TLS here */
	if ((bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return NULL;
	}
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&pool->addr,
	    (int)pool->addrlen) == -1) {
		/* reported through the event callback as well */
		log_debug("connect %s: %s", pool->name, strerror(errno));
	}
	*direct = 1;
	return bev;
}

/*
 * Write what is queued at once, as HAProxy does, instead of waiting for
 * epoll to report the socket writable: that costs two epoll_ctl calls and
 * a loop turn per write.  Only what the kernel would not take waits for
 * the write event.  Errors are left for libevent's write path to report.
 * A connection whose bytes do not go straight to its socket (TLS) is
 * left to its bufferevent.
 */
void
conn_flush(struct bufferevent *bev, int direct)
{
	struct evbuffer	*out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0)
		return;
	if (!direct) {
		bufferevent_enable(bev, EV_WRITE);
		return;
	}
	/* a socket bufferevent keeps its output's start frozen but while
	   it writes itself; we write in its stead */
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(bev, EV_WRITE);
}
