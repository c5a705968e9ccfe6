/* SPDX-License-Identifier: ISC */
/*
 * Mirrors: a copy of a request sent to another endpoint, its answer read
 * and thrown away.  Nothing waits on a mirror and nothing it does reaches
 * the client; a mirror that cannot connect, or dawdles, just goes.
 */
#include <stdlib.h>
#include <string.h>

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
	conn_close(m->bev);
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
	int		 direct;

	if (p->nmirrors >= MIRROR_MAX) {
		p->mirrors_skipped++;
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->proxy = p;
	if ((m->bev = conn_upstream(p, pool, NULL, &direct)) == NULL) {
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
}

void
mirrors_free(struct proxy *p)
{
	struct mirror	*m;

	while ((m = TAILQ_FIRST(&p->mirrors)) != NULL)
		mirror_free(m);
}
