/* SPDX-License-Identifier: ISC */
/*
 * TLS on a socket bufferevent (tlsio.h).
 *
 * The bufferevent's two events are re-assigned to the callbacks here;
 * libevent's socket code goes on adding and deleting them (enable,
 * disable, watermarks, timeouts, the output's callback) as for a plain
 * connection, and frees them with the bufferevent.  Their callback
 * argument stays the bufferevent (libevent's finalizer takes it from
 * there); the TLS state is found by the socket's descriptor.
 *
 * OpenSSL reads and writes through a BIO of ours over two buffers that
 * all connections share, which is safe because a connection's turn
 * (one recv and the decryption of all of it; the encryption of the
 * output and one send) always leaves both empty before anything else
 * runs: what the kernel does not take is kept in the connection's own
 * pending buffer, allocated only then.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "tlsio.h"

#define TLSIO_RECORD	16384	/* the plaintext of a full record */
#define TLSIO_RECORDS	4	/* records sealed for one send */
#define TLSIO_SENDS	4	/* sends a flush makes at most */
#define TLSIO_SEALED	(TLSIO_RECORD + 256)	/* a record, sealed */
#define TLSIO_BUFFER	(TLSIO_RECORDS * TLSIO_SEALED)
#define TLSIO_IOVECS	16	/* pieces of what waits, a send */

enum tlsio_state {
	TLSIO_CONNECTING,	/* the TCP connect */
	TLSIO_HANDSHAKE,
	TLSIO_OPEN,
	TLSIO_FAILED,
};

struct tlsio {
	struct bufferevent	*bev;
	SSL			*ssl;
	evutil_socket_t		 fd;
	enum tlsio_state	 state;
	int			 accepting;
	struct evbuffer		*pending;	/* sealed, not yet sent */
	unsigned long		 ssl_error;	/* OpenSSL's reason */
	int			 sys_error;	/* errno's */
	int			 peer_closed;	/* during the handshake */
	int			 write_blocked;	/* SSL_write waits for a read
						   (a TLS 1.2 renegotiation) */
	short			 report;	/* a failure to report */
	int			 busy;		/* in callbacks of ours */
	int			 dead;		/* tlsio_close came */
};

/* Ciphertext read, being decrypted: one connection's, for one turn. */
static unsigned char	 tlsio_in[TLSIO_BUFFER];
static size_t		 tlsio_in_off, tlsio_in_len;
static struct tlsio	*tlsio_in_for;
/* Ciphertext OpenSSL made, sent at the end of the same turn. */
static unsigned char	 tlsio_out[TLSIO_BUFFER];
static size_t		 tlsio_out_len;
static BIO_METHOD	*tlsio_method;
/* The TLS state of each socket that has one, by descriptor. */
static struct tlsio	**tlsio_map;
static size_t		 tlsio_nmap;

static struct tlsio *tlsio_get(struct bufferevent *);
static struct tlsio *tlsio_find(struct bufferevent *, evutil_socket_t);
static struct tlsio *tlsio_new(struct bufferevent *, SSL *, int);
static void	tlsio_free(struct tlsio *);
static void	tlsio_enter(struct tlsio *);
static void	tlsio_leave(struct tlsio *);
static void	tlsio_readcb(evutil_socket_t, short, void *);
static void	tlsio_writecb(evutil_socket_t, short, void *);
static void	tlsio_connected(struct tlsio *);
static void	tlsio_read(struct tlsio *);
static int	tlsio_decrypt(struct tlsio *, int *);
static int	tlsio_handshake(struct tlsio *);
static int	tlsio_push(struct tlsio *, int *);
static int	tlsio_send(struct tlsio *);
static int	tlsio_send_pending(struct tlsio *);
static size_t	tlsio_pending(const struct tlsio *);
static void	tlsio_ssl_failed(struct tlsio *);
static void	tlsio_fail(struct tlsio *, short);
static void	tlsio_report(struct tlsio *);
static void	tlsio_arm_write(struct tlsio *);
static int	tlsio_bio_create(BIO *);
static int	tlsio_bio_read(BIO *, char *, int);
static int	tlsio_bio_write(BIO *, const char *, int);
static long	tlsio_bio_ctrl(BIO *, int, long, void *);

static struct tlsio *
tlsio_get(struct bufferevent *bev)
{
	struct tlsio	*t;

	if (bev == NULL || event_get_callback(&bev->ev_read) != tlsio_readcb)
		return NULL;
	t = tlsio_find(bev, event_get_fd(&bev->ev_read));
	return t != NULL && !t->dead ? t : NULL;
}

static struct tlsio *
tlsio_find(struct bufferevent *bev, evutil_socket_t fd)
{
	struct tlsio	*t;

	if (fd < 0 || (size_t)fd >= tlsio_nmap || (t = tlsio_map[fd]) ==
	    NULL || t->bev != bev)
		return NULL;
	return t;
}

static struct tlsio *
tlsio_new(struct bufferevent *bev, SSL *ssl, int accepting)
{
	struct event_base	*base = bufferevent_get_base(bev);
	evutil_socket_t		 fd = bufferevent_getfd(bev);
	struct tlsio		*t, **map;
	BIO			*bio;
	size_t			 n;

	if (tlsio_method == NULL) {
		if ((tlsio_method = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK, "meshkit tlsio")) == NULL ||
		    BIO_meth_set_create(tlsio_method, tlsio_bio_create) != 1 ||
		    BIO_meth_set_read(tlsio_method, tlsio_bio_read) != 1 ||
		    BIO_meth_set_write(tlsio_method, tlsio_bio_write) != 1 ||
		    BIO_meth_set_ctrl(tlsio_method, tlsio_bio_ctrl) != 1) {
			BIO_meth_free(tlsio_method);
			tlsio_method = NULL;
			goto fail;
		}
	}
	if (fd < 0)
		goto fail;
	if ((size_t)fd >= tlsio_nmap) {
		for (n = tlsio_nmap > 0 ? tlsio_nmap : 64; n <= (size_t)fd;
		    n *= 2)
			;
		if ((map = reallocarray(tlsio_map, n, sizeof(*map))) == NULL)
			goto fail;
		memset(map + tlsio_nmap, 0, (n - tlsio_nmap) * sizeof(*map));
		tlsio_map = map;
		tlsio_nmap = n;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto fail;
	if ((bio = BIO_new(tlsio_method)) == NULL) {
		free(t);
		goto fail;
	}
	BIO_set_data(bio, t);
	SSL_set_bio(ssl, bio, bio);
	t->bev = bev;
	t->ssl = ssl;
	t->fd = fd;
	t->accepting = accepting;
	t->state = accepting ? TLSIO_HANDSHAKE : TLSIO_CONNECTING;
	if (accepting)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	/* a new bufferevent: its events are not added yet */
	event_del(&bev->ev_read);
	event_del(&bev->ev_write);
	event_assign(&bev->ev_read, base, fd, EV_READ | EV_PERSIST |
	    EV_FINALIZE, tlsio_readcb, bev);
	event_assign(&bev->ev_write, base, fd, EV_WRITE | EV_PERSIST |
	    EV_FINALIZE, tlsio_writecb, bev);
	tlsio_map[fd] = t;
	return t;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

int
tlsio_accept(struct bufferevent *bev, SSL *ssl)
{
	return tlsio_new(bev, ssl, 1) != NULL ? 0 : -1;
}

int
tlsio_connect(struct bufferevent *bev, SSL *ssl, const struct sockaddr *sa,
    socklen_t salen)
{
	struct tlsio	*t;

	if ((t = tlsio_new(bev, ssl, 0)) == NULL)
		return -1;
	if (connect(t->fd, sa, salen) == -1 && errno != EINPROGRESS) {
		/* said from the loop, once the callbacks are set */
		t->sys_error = errno;
		t->state = TLSIO_FAILED;
		t->report = BEV_EVENT_ERROR;
		event_active(&bev->ev_write, EV_WRITE, 1);
	}
	return 0;
}

SSL *
tlsio_ssl(struct bufferevent *bev)
{
	struct tlsio	*t = tlsio_get(bev);

	return t != NULL ? t->ssl : NULL;
}

/*
 * The events stop (a bufferevent that another holds a reference to
 * outlives this; they do nothing if they come again), and the TLS state
 * goes.
 */
static void
tlsio_free(struct tlsio *t)
{
	event_del(&t->bev->ev_read);
	event_del(&t->bev->ev_write);
	if (tlsio_map[t->fd] == t)
		tlsio_map[t->fd] = NULL;
	SSL_free(t->ssl);	/* and the BIO */
	if (t->pending != NULL)
		evbuffer_free(t->pending);
	free(t);
}

/*
 * Around a callback of ours: the user's callbacks it calls may free the
 * bufferevent (kept by the reference until we are done) and close the
 * TLS (freed here, last).
 */
static void
tlsio_enter(struct tlsio *t)
{
	bufferevent_incref(t->bev);
	t->busy++;
}

static void
tlsio_leave(struct tlsio *t)
{
	struct bufferevent	*bev = t->bev;

	if (--t->busy == 0 && t->dead)
		tlsio_free(t);
	bufferevent_decref(bev);
}

static void
tlsio_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent	*bev = arg;
	struct tlsio		*t;

	if ((t = tlsio_find(bev, fd)) == NULL) {
		event_del(&bev->ev_read);	/* its TLS is gone */
		return;
	}
	tlsio_enter(t);
	if (t->dead)
		;
	else if (what == EV_TIMEOUT) {
		bufferevent_disable(t->bev, EV_READ);
		bufferevent_trigger_event(t->bev, BEV_EVENT_READING |
		    BEV_EVENT_TIMEOUT, 0);
	} else if (t->state == TLSIO_CONNECTING)
		tlsio_connected(t);
	else if (t->state == TLSIO_FAILED) {
		event_del(&t->bev->ev_read);
		tlsio_report(t);
	} else
		tlsio_read(t);
	tlsio_leave(t);
}

static void
tlsio_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent	*bev = arg;
	struct tlsio		*t;
	int			 sealed = 0;

	if ((t = tlsio_find(bev, fd)) == NULL) {
		event_del(&bev->ev_write);	/* its TLS is gone */
		return;
	}
	tlsio_enter(t);
	if (t->dead)
		goto out;
	if (what == EV_TIMEOUT) {
		bufferevent_disable(bev, EV_WRITE);
		bufferevent_trigger_event(bev, BEV_EVENT_WRITING |
		    BEV_EVENT_TIMEOUT, 0);
		goto out;
	}
	switch (t->state) {
	case TLSIO_CONNECTING:
		tlsio_connected(t);
		break;
	case TLSIO_HANDSHAKE:
		if (tlsio_send(t) == -1)
			tlsio_fail(t, BEV_EVENT_ERROR);
		else if (tlsio_pending(t) == 0)
			event_del(&bev->ev_write);
		break;
	case TLSIO_OPEN:
		if (tlsio_push(t, &sealed) == -1) {
			tlsio_fail(t, BEV_EVENT_WRITING | BEV_EVENT_ERROR);
			break;
		}
		if (tlsio_pending(t) > 0)
			break;		/* the kernel is full: wait */
		if (t->write_blocked) {
			event_del(&bev->ev_write);	/* a read unblocks it */
			break;
		}
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			event_del(&bev->ev_write);
		/* as a socket bufferevent: the user may add more */
		bufferevent_trigger(bev, EV_WRITE, 0);
		break;
	case TLSIO_FAILED:
		event_del(&bev->ev_write);
		tlsio_report(t);
		break;
	}
out:
	tlsio_leave(t);
}

/* The TCP connect is over (an event came): start the handshake. */
static void
tlsio_connected(struct tlsio *t)
{
	int		 e = 0;
	socklen_t	 len = sizeof(e);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e == EINPROGRESS || e == EINTR)
		return;
	if (e != 0) {
		t->sys_error = e;
		tlsio_fail(t, BEV_EVENT_ERROR);
		return;
	}
	t->state = TLSIO_HANDSHAKE;
	if (tlsio_handshake(t) == -1) {
		(void)tlsio_send(t);	/* the alert, if any */
		tlsio_fail(t, BEV_EVENT_ERROR);
		return;
	}
	if (tlsio_send(t) == -1) {
		tlsio_fail(t, BEV_EVENT_ERROR);
		return;
	}
	/* the answer comes by the read event; write only what is left */
	if (tlsio_pending(t) == 0)
		event_del(&t->bev->ev_write);
}

/*
 * The socket is readable: one recv, all of it through OpenSSL, then the
 * user hears of it: the handshake done, the data, the end.
 */
static void
tlsio_read(struct tlsio *t)
{
	struct bufferevent	*bev = t->bev;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 room = sizeof(tlsio_in), len, low, high;
	ssize_t			 n;
	int			 connected = 0, got = 0, eof = 0, sent;

	bufferevent_getwatermark(bev, EV_READ, &low, &high);
	if (high > 0) {
		if ((len = evbuffer_get_length(in)) >= high) {
			/* libevent suspends reading at the mark; make sure */
			bufferevent_setwatermark(bev, EV_READ, low, high);
			return;
		}
		if (high - len < room)
			room = high - len;
	}
	n = recv(t->fd, tlsio_in, room, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		t->sys_error = errno;
		tlsio_fail(t, t->state == TLSIO_OPEN ? BEV_EVENT_READING |
		    BEV_EVENT_ERROR : BEV_EVENT_ERROR);
		return;
	}
	if (n == 0) {
		if (t->state == TLSIO_HANDSHAKE) {
			/* a client that leaves is no TLS failure of ours */
			t->peer_closed = 1;
			tlsio_fail(t, t->accepting ? BEV_EVENT_READING |
			    BEV_EVENT_EOF : BEV_EVENT_ERROR);
			return;
		}
		bufferevent_disable(bev, EV_READ);
		bufferevent_trigger_event(bev, BEV_EVENT_READING |
		    BEV_EVENT_EOF, 0);
		return;
	}
	tlsio_in_for = t;
	tlsio_in_off = 0;
	tlsio_in_len = (size_t)n;
	if (t->state == TLSIO_HANDSHAKE)
		connected = tlsio_handshake(t);
	if (connected >= 0 && t->state == TLSIO_OPEN)
		got = tlsio_decrypt(t, &eof);
	tlsio_in_for = NULL;
	tlsio_in_off = tlsio_in_len = 0;
	/* handshake flights, tickets, alerts, key updates */
	sent = tlsio_send(t);
	if (connected < 0) {
		tlsio_fail(t, BEV_EVENT_ERROR);
		return;
	}
	if (got < 0) {
		tlsio_fail(t, BEV_EVENT_READING | BEV_EVENT_ERROR);
		return;
	}
	if (sent == -1) {
		tlsio_fail(t, BEV_EVENT_WRITING | BEV_EVENT_ERROR);
		return;
	}
	if (tlsio_pending(t) > 0)
		tlsio_arm_write(t);
	if (connected > 0) {
		bufferevent_trigger_event(bev, BEV_EVENT_CONNECTED, 0);
		if (t->dead)
			return;
		/* what was queued before the handshake, as after a connect */
		if ((bufferevent_get_enabled(bev) & EV_WRITE) &&
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			tlsio_flush(bev);
		if (t->dead)
			return;
	}
	if (t->write_blocked) {
		/* what waited for the peer's handshake goes, from the write
		   callback when the user asked for it (it hears of it) */
		t->write_blocked = 0;
		if (bufferevent_get_enabled(bev) & EV_WRITE)
			event_active(&bev->ev_write, EV_WRITE, 1);
		else if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			tlsio_flush(bev);
	}
	if (got > 0) {
		bufferevent_trigger(bev, EV_READ, 0);
		if (t->dead)
			return;
	}
	if (eof) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_trigger_event(bev, BEV_EVENT_READING |
		    BEV_EVENT_EOF, 0);
	}
}

/*
 * All the ciphertext read goes through SSL_read into the input: 1 when
 * there was data, 0 when none, -1 on failure.  *eof: a close_notify.
 */
static int
tlsio_decrypt(struct tlsio *t, int *eof)
{
	struct evbuffer		*in = bufferevent_get_input(t->bev);
	struct evbuffer_iovec	 v;
	size_t			 want;
	int			 n, got = 0;

	evbuffer_unfreeze(in, 0);
	for (;;) {
		/* nothing left to decrypt: no call to find that out */
		if (tlsio_in_off == tlsio_in_len && SSL_pending(t->ssl) == 0 &&
		    !SSL_has_pending(t->ssl)) {
			n = 0;
			break;
		}
		/* room for the plaintext of what is left, a record at most */
		want = tlsio_in_len - tlsio_in_off + 1024;
		if (want > TLSIO_RECORD)
			want = TLSIO_RECORD;
		if (evbuffer_reserve_space(in, (ev_ssize_t)want, &v, 1) < 1) {
			t->sys_error = ENOMEM;
			got = -1;
			break;
		}
		if (v.iov_len > INT_MAX)
			v.iov_len = INT_MAX;
		if ((n = SSL_read(t->ssl, v.iov_base, (int)v.iov_len)) <= 0) {
			switch (SSL_get_error(t->ssl, n)) {
			case SSL_ERROR_WANT_READ:
			case SSL_ERROR_WANT_WRITE:
				ERR_clear_error();
				break;
			case SSL_ERROR_ZERO_RETURN:
				*eof = 1;
				break;
			default:
				tlsio_ssl_failed(t);
				got = -1;
				break;
			}
			break;
		}
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
		got = 1;
	}
	evbuffer_freeze(in, 0);
	return got;
}

/* A step of the handshake: 1 done, 0 more to come, -1 failed. */
static int
tlsio_handshake(struct tlsio *t)
{
	int	 r;

	if ((r = SSL_do_handshake(t->ssl)) == 1) {
		t->state = TLSIO_OPEN;
		return 1;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return 0;
	default:
		tlsio_ssl_failed(t);
		return -1;
	}
}

/*
 * Seal the output and send it, up to TLSIO_RECORDS records a send,
 * while the kernel takes it all.  *sealed: some was.  0, or -1.
 */
static int
tlsio_push(struct tlsio *t, int *sealed)
{
	struct evbuffer	*out = bufferevent_get_output(t->bev);
	unsigned char	*p;
	size_t		 len;
	int		 i, n, sends;

	if (tlsio_send(t) == -1)
		return -1;
	for (sends = 0; sends < TLSIO_SENDS && !t->write_blocked &&
	    tlsio_pending(t) == 0 &&
	    evbuffer_get_length(out) > 0; sends++) {
		/* a socket bufferevent keeps the output's start frozen */
		evbuffer_unfreeze(out, 1);
		for (i = 0; i < TLSIO_RECORDS &&
		    (len = evbuffer_get_length(out)) > 0; i++) {
			if (len > TLSIO_RECORD)
				len = TLSIO_RECORD;
			/* one record for it all: a record costs more than
			   the copy */
			if ((p = evbuffer_pullup(out, (ev_ssize_t)len)) ==
			    NULL) {
				evbuffer_freeze(out, 1);
				t->sys_error = ENOMEM;
				return -1;
			}
			if ((n = SSL_write(t->ssl, p, (int)len)) <= 0) {
				evbuffer_freeze(out, 1);
				switch (SSL_get_error(t->ssl, n)) {
				case SSL_ERROR_WANT_READ:
				case SSL_ERROR_WANT_WRITE:
					/* the peer's handshake first: the
					   read callback pushes again */
					ERR_clear_error();
					t->write_blocked = 1;
					return tlsio_send(t);
				default:
					tlsio_ssl_failed(t);
					tlsio_out_len = 0;
					return -1;
				}
			}
			evbuffer_drain(out, (size_t)n);
			*sealed = 1;
		}
		evbuffer_freeze(out, 1);
		if (tlsio_send(t) == -1)
			return -1;
	}
	return 0;
}

/*
 * What OpenSSL made goes to the kernel, after what waits: one send when
 * nothing does.  What it does not take waits.  0, or -1 (sys_error).
 */
static int
tlsio_send(struct tlsio *t)
{
	ssize_t	 n;
	size_t	 len = tlsio_out_len;

	tlsio_out_len = 0;
	if (len > 0 && tlsio_pending(t) == 0) {
		n = send(t->fd, tlsio_out, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				t->sys_error = errno;
				return -1;
			}
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
		if (t->pending == NULL && (t->pending = evbuffer_new()) ==
		    NULL) {
			t->sys_error = ENOMEM;
			return -1;
		}
		if (evbuffer_add(t->pending, tlsio_out + n, len - (size_t)n) ==
		    -1) {
			t->sys_error = ENOMEM;
			return -1;
		}
		return 0;
	}
	if (len > 0 && evbuffer_add(t->pending, tlsio_out, len) == -1) {
		t->sys_error = ENOMEM;
		return -1;
	}
	return tlsio_send_pending(t);
}

/* What waits, as much as the kernel takes (no SIGPIPE: MSG_NOSIGNAL). */
static int
tlsio_send_pending(struct tlsio *t)
{
	struct evbuffer_iovec	 v[TLSIO_IOVECS];
	struct iovec		 iov[TLSIO_IOVECS];
	struct msghdr		 msg;
	ssize_t			 n;
	int			 i, nv;

	if (tlsio_pending(t) == 0)
		return 0;
	nv = evbuffer_peek(t->pending, -1, NULL, v, TLSIO_IOVECS);
	if (nv > TLSIO_IOVECS)
		nv = TLSIO_IOVECS;
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)nv;
	if ((n = sendmsg(t->fd, &msg, MSG_NOSIGNAL)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		t->sys_error = errno;
		return -1;
	}
	evbuffer_drain(t->pending, (size_t)n);
	return 0;
}

static size_t
tlsio_pending(const struct tlsio *t)
{
	return t->pending != NULL ? evbuffer_get_length(t->pending) : 0;
}

/* What the kernel did not take goes when it can, whatever the user's
   EV_WRITE says (a handshake flight, an alert). */
static void
tlsio_arm_write(struct tlsio *t)
{
	struct bufferevent	*bev = t->bev;
	struct timeval		 tv;

	if (event_pending(&bev->ev_write, EV_WRITE, NULL))
		return;
	if (bufferevent_get_enabled(bev) & EV_WRITE) {
		bufferevent_enable(bev, EV_WRITE);	/* with its timeout */
		return;
	}
	tv = bev->timeout_write;
	event_add(&bev->ev_write, evutil_timerisset(&tv) ? &tv : NULL);
}

void
tlsio_flush(struct bufferevent *bev)
{
	struct tlsio	*t = tlsio_get(bev);
	int		 sealed = 0;

	if (t == NULL)
		return;
	if (t->state == TLSIO_OPEN && tlsio_push(t, &sealed) == -1) {
		/* said from the loop, not under the caller's feet */
		t->state = TLSIO_FAILED;
		t->report = BEV_EVENT_WRITING | BEV_EVENT_ERROR;
		event_active(&bev->ev_write, EV_WRITE, 1);
		return;
	}
	/* the rest when the socket can take it, as conn_flush does (when
	   the peer's handshake holds writing, the read callback wakes the
	   write one) */
	if (tlsio_pending(t) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		bufferevent_enable(bev, EV_WRITE);
}

void
tlsio_close(struct bufferevent *bev)
{
	struct tlsio	*t = tlsio_get(bev);

	if (t == NULL)
		return;
	/* close_notify: the peer tells the end from a cut, and keeps its
	   session for resumption */
	if (t->state == TLSIO_OPEN &&
	    (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN) == 0) {
		(void)SSL_shutdown(t->ssl);
		(void)tlsio_send(t);
	}
	tlsio_out_len = 0;
	ERR_clear_error();
	t->dead = 1;
	if (t->busy == 0)
		tlsio_free(t);
}

/* OpenSSL failed: keep its reason, the last one of a library. */
static void
tlsio_ssl_failed(struct tlsio *t)
{
	unsigned long	 e;

	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_LIB(e) != 0)
			t->ssl_error = e;
	if (t->sys_error == 0)
		t->sys_error = errno;
}

static void
tlsio_fail(struct tlsio *t, short what)
{
	t->state = TLSIO_FAILED;
	t->report = what;
	tlsio_report(t);
}

/* A failure is said once; the events stay off after it. */
static void
tlsio_report(struct tlsio *t)
{
	short	 what = t->report;

	if (what == 0)
		return;
	t->report = 0;
	event_del(&t->bev->ev_read);
	event_del(&t->bev->ev_write);
	errno = t->sys_error;
	bufferevent_trigger_event(t->bev, what, 0);
}

void
tlsio_reason(struct bufferevent *bev, char *buf, size_t len)
{
	struct tlsio	*t = tlsio_get(bev);
	long		 v;

	if (t == NULL) {
		snprintf(buf, len, "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
		return;
	}
	if ((v = SSL_get_verify_result(t->ssl)) != X509_V_OK)
		snprintf(buf, len, "certificate: %s",
		    X509_verify_cert_error_string(v));
	else if (t->ssl_error != 0)
		ERR_error_string_n(t->ssl_error, buf, len);
	else if (t->peer_closed)
		snprintf(buf, len, "the peer closed the connection in the "
		    "TLS handshake");
	else if (t->accepting && t->sys_error == 0 &&
	    SSL_get0_peer_certificate(t->ssl) == NULL)
		snprintf(buf, len, "the client sent no certificate, or no "
		    "TLS");
	else
		snprintf(buf, len, "%s", t->sys_error != 0 ?
		    strerror(t->sys_error) : "TLS failed");
}

static int
tlsio_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int
tlsio_bio_read(BIO *b, char *buf, int len)
{
	struct tlsio	*t = BIO_get_data(b);
	size_t		 have;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (tlsio_in_for != t || (have = tlsio_in_len - tlsio_in_off) == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	if ((size_t)len > have)
		len = (int)have;
	memcpy(buf, tlsio_in + tlsio_in_off, (size_t)len);
	tlsio_in_off += (size_t)len;
	return len;
}

static int
tlsio_bio_write(BIO *b, const char *buf, int len)
{
	struct tlsio	*t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (tlsio_pending(t) == 0 &&
	    (size_t)len <= sizeof(tlsio_out) - tlsio_out_len) {
		memcpy(tlsio_out + tlsio_out_len, buf, (size_t)len);
		tlsio_out_len += (size_t)len;
		return len;
	}
	/* more than a turn's buffer: it waits in the connection's own */
	if (t->pending == NULL && (t->pending = evbuffer_new()) == NULL)
		return -1;
	if (tlsio_out_len > 0 && evbuffer_add(t->pending, tlsio_out,
	    tlsio_out_len) == -1)
		return -1;
	tlsio_out_len = 0;
	if (evbuffer_add(t->pending, buf, (size_t)len) == -1)
		return -1;
	return len;
}

static long
tlsio_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tlsio	*t = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return tlsio_in_for == t ? (long)(tlsio_in_len - tlsio_in_off) :
		    0;
	case BIO_CTRL_WPENDING:
		return (long)tlsio_pending(t);
	default:
		return 0;
	}
}
