/*
 * Mirrors: a copy of a request sent to another endpoint, its answer read
 * and thrown away.  Nothing waits on a mirror and nothing it does reaches
 * the client; a mirror that cannot connect, or dawdles, just goes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

#define MIRROR_MAX		1024	/* in flight at once */
#define MIRROR_TIMEOUT_S	10

static void
mirror_free(struct mirror *m)
{
	struct proxy	*p = m->proxy;

	TAILQ_REMOVE(&p->mirrors, m, entry);
	p->nmirrors--;
	bufferevent_free(m->bev);
	free(m);
}

static void
mirror_readcb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
mirror_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct mirror	*m = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	/* the answer is over (the request said Connection: close), or
	   the mirror failed or dawdled: either way it is done */
	mirror_free(m);
}

/* Send req (a whole request, head and body) to pool's address; takes it. */
void
mirror_send(struct proxy *p, struct pool *pool, struct evbuffer *req)
{
	struct mirror	*m;
	struct timeval	 tv = { MIRROR_TIMEOUT_S, 0 };
	evutil_socket_t	 fd;

	if (p->nmirrors >= MIRROR_MAX) {
		p->mirrors_skipped++;
		return;
	}
	fd = socket(pool->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		p->mirrors_skipped++;
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->proxy = p;
	if ((m->bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(m);
		p->mirrors_skipped++;
		return;
	}
	TAILQ_INSERT_TAIL(&p->mirrors, m, entry);
	p->nmirrors++;
	p->mirrors_sent++;
	bufferevent_setcb(m->bev, mirror_readcb, NULL, mirror_eventcb, m);
	bufferevent_set_timeouts(m->bev, &tv, &tv);
	evbuffer_add_buffer(bufferevent_get_output(m->bev), req);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(m->bev, (struct sockaddr *)&pool->addr,
	    (int)pool->addrlen) == -1)
		log_debug("mirror to %s: %s", pool->name, strerror(errno));
}

void
mirrors_free(struct proxy *p)
{
	struct mirror	*m;

	while ((m = TAILQ_FIRST(&p->mirrors)) != NULL)
		mirror_free(m);
}
