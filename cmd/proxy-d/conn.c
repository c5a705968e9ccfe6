/* SPDX-License-Identifier: ISC */
/*
 * Where proxy-d's connections get their bufferevents: one place for the
 * client side, one for the upstream side (requests and mirrors), and the
 * transport each one takes.
 *
 * Inbound, an inbound listener takes what PeerAuthentication says for
 * its workload and port (lib/mtls.c): STRICT, TLS with a mesh
 * certificate only; PERMISSIVE, TLS or plain text, told apart by the
 * first byte (a TLS handshake record starts with 22, no HTTP method
 * does); DISABLE, plain text.  A PERMISSIVE connection whose first bytes
 * have not arrived waits for them before it becomes a session.
 *
 * Outbound, each endpoint's pool carries the TLS of the last route that
 * named it (route-d's answer): plain, mutual TLS in the mesh (a
 * DestinationRule's ISTIO_MUTUAL, or auto mTLS to an endpoint that runs
 * a meshkit proxy), or TLS origination (SIMPLE, MUTUAL).
 *
 * A TLS connection is a socket bufferevent that tlsio.c drives: one
 * read and one write system call a direction per request, as a plain
 * one.  A close without close_notify reads as an end of file (HTTP's
 * own framing tells a truncated message).
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"
#include "mtls.h"
#include "proxy.h"
#include "spiffe.h"
#include "tls.h"
#include "plainio.h"
#include "tlsio.h"
#include "util.h"

/* A PERMISSIVE connection waiting for its first bytes. */
struct conn_wait {
	struct proxy		*proxy;
	struct listener		*listener;
	evutil_socket_t		 fd;
	struct sockaddr_storage	 sa;
	int			 salen;
	struct event		*ev;
	TAILQ_ENTRY(conn_wait)	 entry;
};

static TAILQ_HEAD(, conn_wait)	 conn_waits =
    TAILQ_HEAD_INITIALIZER(conn_waits);
static size_t			 conn_nwaits;

static void	conn_wait_cb(evutil_socket_t, short, void *);
static int	conn_listener_alive(struct proxy *, struct listener *);
static int	conn_refusal_logged(void);

/* Refusals logged at most this often a second, then counted. */
#define CONN_LOG_PER_SEC	10

static int
conn_refusal_logged(void)
{
	static uint64_t	 window, logged;
	uint64_t	 now = util_now_ms() / 1000;

	if (now != window) {
		window = now;
		logged = 0;
	}
	return logged++ < CONN_LOG_PER_SEC;
}

/* What a listener takes, for its generation (listeners_apply). */
void
conn_listener_configure(struct listener *l, const struct generation *g,
    const char *forward)
{
	const char	*colon;
	uint32_t	 port = 0;

	l->mtls = PEER_MTLS_DISABLE;
	l->mtls_source[0] = '\0';
	if (!l->inbound)
		return;
	if (forward != NULL && (colon = strrchr(forward, ':')) != NULL &&
	    strncmp(forward, "unix:", 5) != 0)
		port = (uint32_t)strtoul(colon + 1, NULL, 10);
	{
		struct mtls_inbound in;

		mtls_inbound_mode(g->config, NULL, g->pc->workload_namespace,
		    &g->pc->workload_labels, port, &in);
		l->mtls = in.mode;
		util_strlcpy(l->mtls_source, in.source,
		    sizeof(l->mtls_source));
	}
	log_info("listener %s: mTLS %s (%s)", l->address,
	    mtls_mode_name(l->mtls), l->mtls_source);
}

static int
conn_listener_alive(struct proxy *p, struct listener *l)
{
	struct listener	*x;

	TAILQ_FOREACH(x, &p->listeners, entry)
		if (x == l)
			return 1;
	return 0;
}

/*
 * A new connection on listener l: a session now, or, for a PERMISSIVE
 * one whose first bytes are not here yet, once they are.
 */
void
conn_accept(struct proxy *p, struct listener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen)
{
	const struct proxy_config	*pc = p->gen->pc;
	struct conn_wait		*w;
	struct timeval			 tv;
	unsigned char			 b;
	ssize_t				 n;

	if (!l->inbound || l->mtls != PEER_MTLS_PERMISSIVE ||
	    identity_mesh(p) == NULL) {
		session_accept(p, l, fd, sa, salen);
		return;
	}
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		session_accept(p, l, fd, sa, salen);
		return;
	}
	if (p->draining || (pc->max_connections > 0 &&
	    conn_nwaits + p->nsessions >= pc->max_connections)) {
		close(fd);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->proxy = p;
	w->listener = l;
	w->fd = fd;
	memcpy(&w->sa, sa, (size_t)salen < sizeof(w->sa) ? (size_t)salen :
	    sizeof(w->sa));
	w->salen = salen;
	evutil_make_socket_nonblocking(fd);
	w->ev = event_new(p->base, fd, EV_READ, conn_wait_cb, w);
	/* as long as a request head may take */
	tv = util_ms_timeval(pc->request_head_timeout_ms);
	event_add(w->ev, &tv);
	TAILQ_INSERT_TAIL(&conn_waits, w, entry);
	conn_nwaits++;
}

static void
conn_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn_wait	*w = arg;

	TAILQ_REMOVE(&conn_waits, w, entry);
	conn_nwaits--;
	event_free(w->ev);
	/* a reload may have closed its listener meanwhile */
	if ((what & EV_TIMEOUT) || !conn_listener_alive(w->proxy,
	    w->listener) || w->proxy->draining)
		close(w->fd);
	else
		session_accept(w->proxy, w->listener, w->fd,
		    (struct sockaddr *)&w->sa, w->salen);
	free(w);
}

/* At exit: the connections still waiting go. */
void
conn_fini(struct proxy *p)
{
	struct conn_wait	*w;

	while ((w = TAILQ_FIRST(&conn_waits)) != NULL) {
		TAILQ_REMOVE(&conn_waits, w, entry);
		event_free(w->ev);
		close(w->fd);
		free(w);
	}
	conn_nwaits = 0;
}

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
	enum peer_mtls_mode	 mode = s->listener != NULL ?
				    s->listener->mtls : PEER_MTLS_DISABLE;
	SSL_CTX			*ctx = identity_mesh(p);
	SSL			*ssl;
	unsigned char		 b[3];
	ssize_t			 n;
	int			 one = 1, tls = 0;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if (mode == PEER_MTLS_STRICT) {
		if (ctx == NULL) {
			if (conn_refusal_logged())
				log_warnx("%s: refused: STRICT mTLS and no "
				    "certificate from tls-d yet",
				    s->client_addr);
			p->tls_refused++;
			close(fd);
			return NULL;
		}
		tls = 1;
	} else if (mode == PEER_MTLS_PERMISSIVE && ctx != NULL) {
		n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
		tls = n > 0 && tls_sniff(b, (size_t)n) != TLS_SNIFF_PLAIN;
	}
	if (tls) {
		if ((ssl = SSL_new(ctx)) == NULL) {
			ERR_clear_error();
			close(fd);
			return NULL;
		}
		if ((bev = bufferevent_socket_new(p->base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			SSL_free(ssl);
			close(fd);
			return NULL;
		}
		if (tlsio_accept(bev, ssl) == -1) {
			bufferevent_free(bev);
			return NULL;
		}
		p->tls_accepted++;
		*direct = 0;
		return bev;
	}
	if (mode != PEER_MTLS_DISABLE && s->listener != NULL)
		p->plaintext_accepted++;
	if ((bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return NULL;
	}
	plainio_attach(bev);
	*direct = 1;
	return bev;
}

/* A client's TLS handshake is done: who the peer is. */
void
conn_client_connected(struct session *s)
{
	struct proxy	*p = s->proxy;
	SSL		*ssl = tlsio_ssl(s->bev);
	char		 id[SPIFFE_ID_MAX + 1];
	const char	*sni;

	if (ssl == NULL)
		return;
	if (SSL_session_reused(ssl))
		p->tls_resumed++;
	else
		p->tls_full++;
	if (tls_peer_spiffe_id(ssl, id, sizeof(id)) == 0) {
		free(s->peer_identity);
		s->peer_identity = xstrdup(id);
	}
	if ((sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) !=
	    NULL) {
		free(s->peer_sni);
		s->peer_sni = xstrdup(sni);
	}
}

/* A client connection failed: a TLS refusal is worth a line. */
void
conn_client_failed(struct session *s)
{
	char	 why[200];

	if (tlsio_ssl(s->bev) == NULL)
		return;
	if (s->peer_identity == NULL) {
		s->proxy->tls_refused++;
		tlsio_reason(s->bev, why, sizeof(why));
		if (conn_refusal_logged())
			log_info("%s: TLS handshake refused: %s",
			    s->client_addr, why);
	}
}

/*
 * The TLS of a route's endpoint, from route-d's answer: its pool keeps
 * the last; a change closes the idle connections made the old way.
 */
void
conn_pool_route(struct pool *pool, const struct route_tls *rt, int mtls)
{
	struct conn_tls	 t;

	memset(&t, 0, sizeof(t));
	switch (rt->mode) {
	case ROUTE_TLS_AUTO:
		t.kind = mtls ? CONN_TLS_MESH : CONN_TLS_PLAIN;
		t.auto_mtls = 1;
		break;
	case ROUTE_TLS_ISTIO_MUTUAL:
		t.kind = CONN_TLS_MESH;
		break;
	case ROUTE_TLS_SIMPLE:
	case ROUTE_TLS_MUTUAL:
		t.kind = CONN_TLS_ORIGINATE;
		break;
	default:
		t.kind = CONN_TLS_PLAIN;
		break;
	}
	if (t.kind != CONN_TLS_PLAIN)
		t.route = *rt;
	if (pool->tls != NULL && memcmp(pool->tls, &t, sizeof(t)) == 0)
		return;
	if (pool->tls == NULL && t.kind == CONN_TLS_PLAIN)
		return;
	if (pool->tls == NULL)
		pool->tls = xmalloc(sizeof(*pool->tls));
	*pool->tls = t;
	pool_flush(pool);
}

/*
 * A new connection to pool's address, connecting; s is the session it
 * is for (NULL: a mirror).  NULL when no socket could be made, or when
 * the TLS the route asks for cannot be had (why says so).
 */
struct bufferevent *
conn_upstream(struct proxy *p, struct pool *pool, struct session *s,
    int *direct)
{
	const struct conn_tls	*t = pool->tls;
	struct tls_origination	 o;
	struct bufferevent	*bev;
	const struct route_tls	*rt;
	SSL_CTX			*ctx = NULL;
	SSL			*ssl;
	char			 sni[256], key[320], err[256];
	const char		*sans[ROUTE_MAX_SANS];
	evutil_socket_t		 fd;
	size_t			 i;
	int			 one = 1, port;

	if (t != NULL && t->kind == CONN_TLS_MESH &&
	    (ctx = identity_mesh_client(p)) == NULL && !t->auto_mtls) {
		log_warnx("%s: ISTIO_MUTUAL and no certificate from tls-d",
		    pool->name);
		return NULL;
	}
	if (t != NULL && t->kind == CONN_TLS_ORIGINATE) {
		memset(&o, 0, sizeof(o));
		rt = &t->route;
		o.mutual = rt->mode == ROUTE_TLS_MUTUAL;
		o.ca_certificates = rt->ca[0] != '\0' ? rt->ca : NULL;
		o.ca_crl = rt->crl[0] != '\0' ? rt->crl : NULL;
		o.client_certificate = rt->cert[0] != '\0' ? rt->cert : NULL;
		o.private_key = rt->key[0] != '\0' ? rt->key : NULL;
		o.insecure_skip_verify = rt->insecure;
		if ((ctx = identity_origination(p, &o, err, sizeof(err))) ==
		    NULL) {
			if (conn_refusal_logged())
				log_warnx("%s: TLS origination: %s",
				    pool->name, err);
			return NULL;
		}
	}
	fd = socket(pool->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket");
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ctx == NULL) {
		if ((bev = bufferevent_socket_new(p->base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			close(fd);
			return NULL;
		}
		*direct = 1;
		if (bufferevent_socket_connect(bev, (struct sockaddr *)
		    &pool->addr, (int)pool->addrlen) == -1) {
			/* reported through the event callback as well */
			log_debug("connect %s: %s", pool->name,
			    strerror(errno));
		}
		return bev;
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		ERR_clear_error();
		close(fd);
		return NULL;
	}
	rt = &t->route;
	sni[0] = '\0';
	if (rt->sni[0] != '\0')
		util_strlcpy(sni, rt->sni, sizeof(sni));
	else if (t->kind == CONN_TLS_MESH && s != NULL && !s->inbound &&
	    s->service[0] != '\0')
		/* Istio's for mesh mTLS: the cluster's name, dots for bars */
		snprintf(sni, sizeof(sni), "outbound_.%u_.%.63s_.%.170s",
		    (unsigned)s->service_port, s->subset, s->service);
	else if (t->kind == CONN_TLS_ORIGINATE && s != NULL &&
	    s->req.authority.n > 0)
		/* Istio's auto SNI: the request's host */
		util_split_hostport(s->req.authority.p, s->req.authority.n,
		    sni, sizeof(sni), &port, 0);
	if (t->kind == CONN_TLS_ORIGINATE) {
		for (i = 0; i < rt->nsans; i++)
			sans[i] = rt->sans[i];
		if (tls_origination_prepare(ssl, sni, sans, rt->nsans,
		    !rt->insecure) == -1) {
			SSL_free(ssl);
			close(fd);
			return NULL;
		}
	} else if (sni[0] != '\0')
		SSL_set_tlsext_host_name(ssl, sni);
	/* a session is the context's: another CA must not resume */
	snprintf(key, sizeof(key), "%s|%s|%p", pool->name, sni, (void *)ctx);
	tls_sessions_prepare(identity_sessions(p), ssl, key);
	if ((bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	if (tlsio_connect(bev, ssl, (struct sockaddr *)&pool->addr,
	    (socklen_t)pool->addrlen) == -1) {
		bufferevent_free(bev);
		return NULL;
	}
	*direct = 0;
	return bev;
}

/*
 * An upstream connection is up.  For TLS: is the server one the route
 * allows?  0, or -1 with why.  A mesh server's SPIFFE ID is kept on the
 * connection ("" without one): its requests' records name it.
 */
int
conn_upstream_connected(struct upstream *u, char *why, size_t len)
{
	const struct conn_tls	*t = u->pool->tls;
	SSL			*ssl = tlsio_ssl(u->bev);
	const char		*sans[ROUTE_MAX_SANS];
	char			 id[SPIFFE_ID_MAX + 1];
	size_t			 i;

	if (ssl == NULL || t == NULL)
		return 0;
	if (t->kind == CONN_TLS_MESH && u->peer_id == NULL)
		u->peer_id = xstrdup(tls_peer_spiffe_id(ssl, id,
		    sizeof(id)) == 0 ? id : "");
	if (t->route.nsans == 0)
		return 0;
	for (i = 0; i < t->route.nsans; i++)
		sans[i] = t->route.sans[i];
	if (t->kind == CONN_TLS_ORIGINATE) {
		if (t->route.insecure || tls_peer_has_san(ssl, sans,
		    t->route.nsans))
			return 0;
		snprintf(why, len, "%s's certificate has none of the "
		    "subjectAltNames %s%s", u->pool->name, sans[0],
		    t->route.nsans > 1 ? " ..." : "");
		return -1;
	}
	for (i = 0; i < t->route.nsans; i++)
		if (u->peer_id[0] != '\0' && strcmp(u->peer_id, sans[i]) == 0)
			return 0;
	snprintf(why, len, "%s is %s, not an identity of the destination "
	    "(%s%s)", u->pool->name, u->peer_id[0] != '\0' ? u->peer_id :
	    "unknown", sans[0],
	    t->route.nsans > 1 ? " ..." : "");
	return -1;
}

/*
 * Right before a connection's bufferevent goes (bufferevent_free): a
 * TLS one says close_notify, so that the peer can tell the end from a
 * cut and keeps its session for resumption, and lets its TLS state go.
 * What the kernel will not take at once is not waited for.
 */
void
conn_close(struct bufferevent *bev)
{
	tlsio_close(bev);
}

/* A connection's TLS, NULL when it is plain text. */
SSL *
conn_ssl(struct bufferevent *bev)
{
	return tlsio_ssl(bev);
}

/* Why an upstream connection failed, TLS or not. */
void
conn_upstream_error(struct upstream *u, char *why, size_t len)
{
	if (tlsio_ssl(u->bev) != NULL)
		tlsio_reason(u->bev, why, len);
	else
		snprintf(why, len, "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * Write what is queued at once, as HAProxy does, instead of waiting for
 * epoll to report the socket writable: that costs two epoll_ctl calls and
 * a loop turn per write.  Only what the kernel would not take waits for
 * the write event.  Errors are left for libevent's write path to report.
 * A TLS connection seals and sends the same way (tlsio.c).
 */
void
conn_flush(struct bufferevent *bev, int direct)
{
	struct evbuffer	*out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0)
		return;
	if (!direct) {
		tlsio_flush(bev);
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

/*
 * x-forwarded-client-cert for the request going to the local app, as
 * Envoy writes it for a sidecar (APPEND_FORWARD): over mutual TLS, the
 * peer's element appended to what came; otherwise none, whatever came
 * (a plain-text client cannot vouch for anyone).  The peer's element is
 * made once a connection (a SHA-256 of its certificate); the value with
 * what came lives in the session until the next request.
 */
void
conn_xfcc(struct session *s, struct extra_ops *x)
{
	static const char	 name[] = "x-forwarded-client-cert";
	const struct http_request *req = &s->req;
	SSL			*ssl;
	X509			*peer;
	const char		*by, *value;
	char			 buf[TLS_XFCC_MAX];
	size_t			 i, plen = 0, own;

	free(s->xfcc_all);
	s->xfcc_all = NULL;
	if (s->xfcc == NULL && s->inbound && s->peer_identity != NULL &&
	    (ssl = tlsio_ssl(s->bev)) != NULL &&
	    (peer = SSL_get0_peer_certificate(ssl)) != NULL &&
	    (by = identity_spiffe_id(s->proxy)) != NULL &&
	    tls_xfcc(buf, sizeof(buf), NULL, by, peer,
	    s->peer_identity) == 0)
		s->xfcc = xstrdup(buf);
	if (s->xfcc == NULL || !s->inbound || s->peer_identity == NULL) {
		extra_ops_add(x, name, sizeof(name) - 1, "", 0, 1);
		return;
	}
	value = s->xfcc;
	own = strlen(s->xfcc);
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (h->name.n != sizeof(name) - 1 || strncasecmp(h->name.p,
		    name, sizeof(name) - 1) != 0 ||
		    plen + h->value.n + own + 2 > TLS_XFCC_MAX)
			continue;
		s->xfcc_all = xreallocarray(s->xfcc_all, plen + h->value.n +
		    own + 2, 1);
		memcpy(s->xfcc_all + plen, h->value.p, h->value.n);
		plen += h->value.n;
		s->xfcc_all[plen++] = ',';
	}
	if (s->xfcc_all != NULL) {
		memcpy(s->xfcc_all + plen, s->xfcc, own + 1);
		value = s->xfcc_all;
	}
	extra_ops_add(x, name, sizeof(name) - 1, value, strlen(value), 0);
}
