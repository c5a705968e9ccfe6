/* SPDX-License-Identifier: ISC */
/*
 * A plain socket bufferevent's reads without ioctl(FIONREAD): see
 * plainio.h.
 */
#include <sys/uio.h>

#include <errno.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "plainio.h"

static void	plainio_readcb(evutil_socket_t, short, void *);
static void	plainio_event(struct bufferevent *, short, int);

void
plainio_attach(struct bufferevent *bev)
{
	struct event	*ev = &bev->ev_read;
	evutil_socket_t	 fd = event_get_fd(ev);
	int		 pending, prio;

	if (fd < 0 || event_get_callback(ev) == plainio_readcb)
		return;
	pending = event_pending(ev, EV_READ, NULL);
	prio = event_get_priority(ev);
	event_del(ev);
	event_assign(ev, bufferevent_get_base(bev), fd, EV_READ | EV_PERSIST |
	    EV_FINALIZE, plainio_readcb, bev);
	event_priority_set(ev, prio);
	if (pending)
		event_add(ev, evutil_timerisset(&bev->timeout_read) ?
		    &bev->timeout_read : NULL);
}

/* Reading off, then the event callback; errno as the read left it. */
static void
plainio_event(struct bufferevent *bev, short what, int err)
{
	bufferevent_disable(bev, EV_READ);
	errno = err;
	bufferevent_trigger_event(bev, BEV_EVENT_READING | what, 0);
}

static void
plainio_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent	*bev = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	size_t			 low, high, len, room = PLAINIO_READ, left;
	ssize_t			 n;
	int			 nv, i, err;

	bufferevent_incref(bev);
	if (what == EV_TIMEOUT) {
		plainio_event(bev, BEV_EVENT_TIMEOUT, ETIMEDOUT);
		goto done;
	}
	bufferevent_getwatermark(bev, EV_READ, &low, &high);
	if (high > 0) {
		if ((len = evbuffer_get_length(in)) >= high) {
			/* libevent suspends reading at the mark */
			bufferevent_setwatermark(bev, EV_READ, low, high);
			goto done;
		}
		if (high - len < room)
			room = high - len;
	}
	evbuffer_unfreeze(in, 0);
	if ((nv = evbuffer_reserve_space(in, (ev_ssize_t)room, v, 2)) < 1) {
		evbuffer_freeze(in, 0);
		plainio_event(bev, BEV_EVENT_ERROR, ENOMEM);
		goto done;
	}
	for (i = 0, left = room; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	n = readv(fd, iov, nv);
	err = errno;
	if (n > 0) {
		for (i = 0, left = (size_t)n; i < nv && left > 0; i++) {
			if (v[i].iov_len > left)
				v[i].iov_len = left;
			left -= v[i].iov_len;
		}
		evbuffer_commit_space(in, v, i);
	}
	evbuffer_freeze(in, 0);
	if (n == -1) {
		if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
			plainio_event(bev, BEV_EVENT_ERROR, err);
		goto done;
	}
	if (n == 0) {
		plainio_event(bev, BEV_EVENT_EOF, 0);
		goto done;
	}
	bufferevent_trigger(bev, EV_READ, 0);
done:
	bufferevent_decref(bev);
}
