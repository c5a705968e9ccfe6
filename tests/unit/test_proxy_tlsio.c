/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of proxy-d's TLS transport (cmd/proxy-d/tlsio.c, linked in
 * by the Makefile's TEST_OBJS_test_proxy_tlsio): two ends with mesh
 * certificates over a Unix socket in a temporary directory, in one
 * event loop: the handshake and its events, data both ways, a large
 * transfer through read and write flow control (reading turned off and
 * on by hand and by the watermark, the kernel full), close_notify and a
 * close without it, a refused handshake, a TLS 1.2 renegotiation that
 * holds writes back, a refused connect, and a connection freed from
 * inside its own callbacks.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "ca.h"
#include "spiffe.h"
#include "tls.h"
#include "tlsio.h"
#include "util.h"

#define DAY		(24 * 3600)
#define BIG		(8 * 1024 * 1024)	/* the large transfer */
#define CHUNK		(48 * 1024)		/* added at once */
#define DEADLINE_S	20

struct ident {
	EVP_PKEY	*key;
	X509		*cert;
};

/* One end of a connection under test. */
struct end {
	struct bufferevent	*bev;
	const char		*name;
	int			 connected;	/* BEV_EVENT_CONNECTED */
	int			 eof;
	int			 error;
	int			 timeout;
	char			 reason[256];
	char			 peer[SPIFFE_ID_MAX + 1];
	size_t			 got;		/* bytes read */
	uint32_t		 sum;		/* of what was read */
	size_t			 sent;		/* bytes queued */
	size_t			 to_send;
	size_t			 got_at_eof;
	int			 pause;		/* reads off and on by hand */
	int			 free_on_read;	/* tlsio_close + free, inside */
	struct event		*resume;
	struct event_base	*base;
};

static struct ca	*mesh;
static char		*dir;
static struct ident	 server_id, client_id;
static SSL_CTX		*server_ctx, *client_ctx, *bare_ctx;
static SSL_CTX		*tls12_server_ctx, *tls12_client_ctx;

static char	*tmpdir(void);
static struct ident issue(const char *);
static SSL_CTX	*mesh_ctx(const struct ident *);
static int	 listen_unix(const char *, struct sockaddr_un *);
static void	 pair(struct event_base *, SSL_CTX *, SSL_CTX *, struct end *,
		    struct end *, int *);
static void	 end_free(struct end *);
static void	 readcb(struct bufferevent *, void *);
static void	 writecb(struct bufferevent *, void *);
static void	 eventcb(struct bufferevent *, short, void *);
static void	 resume_cb(evutil_socket_t, short, void *);
static void	 fill(struct end *);
static uint32_t	 pattern_sum(size_t, size_t, uint32_t);
static void	 run(struct event_base *, int (*)(void *), void *);
static int	 setup(void **);
static int	 teardown(void **);

static char *
tmpdir(void)
{
	char	*d = xstrdup("/tmp/meshkit-test-tlsio.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

/* A leaf from the mesh CA for id, through a CSR as proxy-d makes it. */
static struct ident
issue(const char *id)
{
	unsigned char	 der[4096];
	struct ident	 i;
	X509_REQ	*req;
	char		 err[256], *b64;
	long		 n;

	i.key = tls_key_new();
	assert_non_null(i.key);
	b64 = tls_csr_base64(i.key, id, err, sizeof(err));
	assert_non_null(b64);
	n = ca_base64_decode(b64, strlen(b64), der, sizeof(der));
	assert_true(n > 0);
	req = ca_csr_read(der, (size_t)n, err, sizeof(err));
	assert_non_null(req);
	i.cert = ca_sign(mesh, req, id, time(NULL), DAY, err, sizeof(err));
	assert_non_null(i.cert);
	X509_REQ_free(req);
	free(b64);
	return i;
}

/* The context of mutual TLS between proxies, with i's certificate. */
static SSL_CTX *
mesh_ctx(const struct ident *i)
{
	SSL_CTX	*ctx;
	char	 err[256];

	ctx = tls_mesh_ctx_new(err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(tls_mesh_set_identity(ctx, i->key, i->cert, NULL, 0,
	    &mesh->signer, 1, err, sizeof(err)), 0);
	return ctx;
}

static int
listen_unix(const char *name, struct sockaddr_un *sun)
{
	int	 fd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", dir, name);
	unlink(sun->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sun, sizeof(*sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/*
 * A connection from client (cctx) to server (sctx): the client's
 * connect, then the accept, each end a socket bufferevent taken over
 * by tlsio.  *lfd: the listening socket, closed by the caller.
 */
static void
pair(struct event_base *base, SSL_CTX *cctx, SSL_CTX *sctx, struct end *c,
    struct end *s, int *lfd)
{
	struct sockaddr_un	 sun;
	int			 cfd, sfd;
	SSL			*ssl;

	*lfd = listen_unix("sock", &sun);
	c->base = s->base = base;
	c->name = "client";
	s->name = "server";
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	c->bev = bufferevent_socket_new(base, cfd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(c->bev);
	assert_non_null(ssl = SSL_new(cctx));
	assert_int_equal(tlsio_connect(c->bev, ssl, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	bufferevent_setcb(c->bev, readcb, writecb, eventcb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	sfd = accept(*lfd, NULL, NULL);
	assert_true(sfd >= 0);
	evutil_make_socket_nonblocking(sfd);
	s->bev = bufferevent_socket_new(base, sfd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(s->bev);
	assert_non_null(ssl = SSL_new(sctx));
	assert_int_equal(tlsio_accept(s->bev, ssl), 0);
	bufferevent_setcb(s->bev, readcb, writecb, eventcb, s);
	/* as session_rebind: writes by flush, not by the write event */
	bufferevent_disable(s->bev, EV_WRITE);
	bufferevent_enable(s->bev, EV_READ);
	assert_non_null(tlsio_ssl(s->bev));
	assert_null(tlsio_ssl(NULL));
}

static void
end_free(struct end *e)
{
	if (e->resume != NULL)
		event_free(e->resume);
	if (e->bev != NULL) {
		tlsio_close(e->bev);
		bufferevent_free(e->bev);
		e->bev = NULL;
	}
}

static uint32_t
pattern_sum(size_t off, size_t n, uint32_t sum)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sum = sum * 31 + (uint8_t)((off + i) * 7 + ((off + i) >> 13));
	return sum;
}

/*
 * More of the pattern into the output, up to to_send, as the proxy
 * pumps a body: a chunk, a flush, until the kernel takes no more (the
 * flush then armed the write event: the write callback goes on).
 */
static void
fill(struct end *e)
{
	struct evbuffer	*out = bufferevent_get_output(e->bev);
	unsigned char	 buf[CHUNK];
	size_t		 n, i;

	while (e->sent < e->to_send && evbuffer_get_length(out) == 0) {
		n = e->to_send - e->sent < sizeof(buf) ? e->to_send - e->sent :
		    sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (uint8_t)((e->sent + i) * 7 +
			    ((e->sent + i) >> 13));
		assert_int_equal(evbuffer_add(out, buf, n), 0);
		e->sent += n;
		tlsio_flush(e->bev);
	}
}

static void
readcb(struct bufferevent *bev, void *arg)
{
	struct end	*e = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	unsigned char	*p;
	size_t		 n, i;
	struct timeval	 tv = { 0, 2000 };

	if (e->free_on_read) {
		tlsio_close(bev);
		bufferevent_free(bev);
		e->bev = NULL;
		return;
	}
	if (e->pause) {
		/* as forward.c: stop reading while the other side is full,
		   and take the input later; nothing may be left behind */
		bufferevent_disable(bev, EV_READ);
		if (e->resume == NULL)
			e->resume = evtimer_new(e->base, resume_cb, e);
		evtimer_add(e->resume, &tv);
		return;
	}
	while ((n = evbuffer_get_length(in)) > 0) {
		n = evbuffer_get_contiguous_space(in);
		p = evbuffer_pullup(in, (ev_ssize_t)n);
		for (i = 0; i < n; i++)
			e->sum = e->sum * 31 + p[i];
		e->got += n;
		evbuffer_drain(in, n);
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct end	*e = arg;

	e->pause = 0;
	readcb(e->bev, e);
	e->pause = 1;
	bufferevent_enable(e->bev, EV_READ);
}

static void
writecb(struct bufferevent *bev, void *arg)
{
	struct end	*e = arg;

	if (e->sent < e->to_send)
		fill(e);
	else if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
}

static void
eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct end	*e = arg;
	SSL		*ssl;

	if (what & BEV_EVENT_CONNECTED) {
		e->connected++;
		ssl = tlsio_ssl(bev);
		assert_non_null(ssl);
		if (tls_peer_spiffe_id(ssl, e->peer, sizeof(e->peer)) == -1)
			e->peer[0] = '\0';
		if (e->to_send > 0)
			fill(e);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		e->eof++;
		e->got_at_eof = e->got + evbuffer_get_length(
		    bufferevent_get_input(bev));
	} else if (what & BEV_EVENT_TIMEOUT)
		e->timeout++;
	else if (what & BEV_EVENT_ERROR) {
		e->error++;
		tlsio_reason(bev, e->reason, sizeof(e->reason));
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* The loop, until done(arg) or the deadline (a tick wakes it). */
static void
run(struct event_base *base, int (*done)(void *), void *arg)
{
	struct event	*tick;
	struct timeval	 tv = { 0, 100000 };
	time_t		 end = time(NULL) + DEADLINE_S;

	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	assert_non_null(tick);
	event_add(tick, &tv);
	while (!done(arg) && time(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	assert_true(done(arg));
}

static int
both_connected(void *arg)
{
	struct end	*e = arg;

	return e[0].connected && e[1].connected;
}

static int
server_got_all(void *arg)
{
	struct end	*e = arg;

	return e[1].got == e[0].to_send;
}

static int
client_got_all(void *arg)
{
	struct end	*e = arg;

	return e[0].got == e[1].to_send;
}

static int
server_eof(void *arg)
{
	struct end	*e = arg;

	return e[1].eof > 0 || e[1].error > 0;
}

static int
both_failed(void *arg)
{
	struct end	*e = arg;

	return (e[0].error || e[0].eof) && (e[1].error || e[1].eof);
}

static int
client_eof(void *arg)
{
	struct end	*e = arg;

	return e->eof > 0 || e->error > 0;
}

static int
client_failed(void *arg)
{
	struct end	*e = arg;

	return e->error > 0;
}

/* Handshake, identities, a message each way. */
static void
test_exchange(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	int			 lfd;

	memset(e, 0, sizeof(e));
	pair(base, client_ctx, server_ctx, &e[0], &e[1], &lfd);
	e[0].to_send = 300;
	run(base, both_connected, e);
	assert_int_equal(e[0].connected, 1);
	assert_int_equal(e[1].connected, 1);
	assert_string_equal(e[0].peer, "spiffe://cluster.local/ns/default/"
	    "sa/server");
	assert_string_equal(e[1].peer, "spiffe://cluster.local/ns/default/"
	    "sa/client");
	run(base, server_got_all, e);
	assert_int_equal(e[1].sum, pattern_sum(0, 300, 0));
	e[1].to_send = 5000;
	fill(&e[1]);
	run(base, client_got_all, e);
	assert_int_equal(e[0].sum, pattern_sum(0, 5000, 0));
	assert_int_equal(e[0].error + e[1].error, 0);
	end_free(&e[0]);
	end_free(&e[1]);
	close(lfd);
	event_base_free(base);
}

/*
 * 8 MB each way through flow control: the server reads with a high
 * watermark, turns reading off in its read callback and takes the
 * input a moment later (as the proxy does while an upstream is full);
 * the writers' kernels fill.  Every byte arrives, in order.
 */
static void
test_flow_control(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	int			 lfd;

	memset(e, 0, sizeof(e));
	pair(base, client_ctx, server_ctx, &e[0], &e[1], &lfd);
	bufferevent_setwatermark(e[1].bev, EV_READ, 0, 40000);
	bufferevent_setwatermark(e[0].bev, EV_WRITE, CHUNK / 2, 0);
	e[1].pause = 1;
	e[0].to_send = BIG;
	run(base, server_got_all, e);
	assert_int_equal(e[1].sum, pattern_sum(0, BIG, 0));
	/* and back, the client reading with a small watermark */
	e[1].pause = 0;
	bufferevent_setwatermark(e[0].bev, EV_READ, 0, 20000);
	bufferevent_setwatermark(e[1].bev, EV_WRITE, CHUNK / 2, 0);
	e[1].to_send = BIG;
	fill(&e[1]);
	run(base, client_got_all, e);
	assert_int_equal(e[0].sum, pattern_sum(0, BIG, 0));
	assert_int_equal(e[0].error + e[1].error, 0);
	end_free(&e[0]);
	end_free(&e[1]);
	close(lfd);
	event_base_free(base);
}

/*
 * The client's close: with close_notify (tlsio_close), the data before
 * it first, then the end of file; without one (the socket shut), an end
 * of file too.
 */
static void
test_close(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	int			 lfd, i;

	for (i = 0; i < 2; i++) {
		memset(e, 0, sizeof(e));
		pair(base, client_ctx, server_ctx, &e[0], &e[1], &lfd);
		run(base, both_connected, e);
		assert_int_equal(evbuffer_add(bufferevent_get_output(e[0].bev),
		    "last words", 10), 0);
		if (i == 0) {
			tlsio_flush(e[0].bev);
			tlsio_close(e[0].bev);
		} else {
			tlsio_flush(e[0].bev);
			shutdown(bufferevent_getfd(e[0].bev), SHUT_WR);
		}
		run(base, server_eof, e);
		assert_int_equal(e[1].error, 0);
		assert_int_equal(e[1].eof, 1);
		assert_int_equal(e[1].got_at_eof, 10);
		if (i == 0) {
			bufferevent_free(e[0].bev);
			e[0].bev = NULL;
		}
		end_free(&e[0]);
		end_free(&e[1]);
		close(lfd);
	}
	event_base_free(base);
}

/* A client without a mesh certificate: both ends fail, saying why. */
static void
test_refused(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	int			 lfd;

	memset(e, 0, sizeof(e));
	pair(base, bare_ctx, server_ctx, &e[0], &e[1], &lfd);
	e[0].to_send = 100;
	run(base, both_failed, e);
	assert_int_equal(e[1].connected, 0);
	assert_int_equal(e[1].error, 1);
	assert_int_equal(e[1].got, 0);
	assert_non_null(strstr(e[1].reason, "certificate"));
	end_free(&e[0]);
	end_free(&e[1]);
	close(lfd);
	event_base_free(base);
}

/*
 * TLS 1.2 origination to a server that asks for a renegotiation (as
 * some do to request a client certificate): the client's writes wait
 * for the new handshake, then go; no byte lost, no busy loop.
 */
static void
test_renegotiation(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	SSL			*ssl;
	int			 lfd;

	memset(e, 0, sizeof(e));
	pair(base, tls12_client_ctx, tls12_server_ctx, &e[0], &e[1], &lfd);
	run(base, both_connected, e);
	ssl = tlsio_ssl(e[1].bev);
	assert_int_equal(SSL_version(ssl), TLS1_2_VERSION);
	assert_int_equal(SSL_renegotiate(ssl), 1);
	(void)SSL_do_handshake(ssl);	/* the HelloRequest */
	ERR_clear_error();
	tlsio_flush(e[1].bev);
	e[0].to_send = 300000;
	fill(&e[0]);
	run(base, server_got_all, e);
	assert_int_equal(e[1].sum, pattern_sum(0, 300000, 0));
	assert_true(SSL_total_renegotiations(tlsio_ssl(e[0].bev)) >= 1);
	assert_int_equal(SSL_renegotiate_pending(ssl), 0);
	assert_int_equal(e[0].error + e[1].error, 0);
	end_free(&e[0]);
	end_free(&e[1]);
	close(lfd);
	event_base_free(base);
}

/* Nobody listens: an error event with the system's reason. */
static void
test_connect_refused(void **state)
{
	struct event_base	*base = event_base_new();
	struct sockaddr_un	 sun;
	struct end		 c;
	SSL			*ssl;
	int			 fd;

	memset(&c, 0, sizeof(c));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/nobody", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	c.bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(c.bev);
	assert_non_null(ssl = SSL_new(client_ctx));
	assert_int_equal(tlsio_connect(c.bev, ssl, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	bufferevent_setcb(c.bev, readcb, writecb, eventcb, &c);
	bufferevent_enable(c.bev, EV_READ | EV_WRITE);
	run(base, client_failed, &c);
	assert_int_equal(c.connected, 0);
	assert_string_equal(c.reason, strerror(ENOENT));
	end_free(&c);
	event_base_free(base);
}

/*
 * The server frees its connection (tlsio_close, bufferevent_free) from
 * inside its read callback, the proxy's way when a request ends one;
 * the client then sees the close_notify.  (ASan: nothing used after
 * it is freed, nothing leaked.)
 */
static void
test_free_inside(void **state)
{
	struct event_base	*base = event_base_new();
	struct end		 e[2];
	int			 lfd;

	memset(e, 0, sizeof(e));
	pair(base, client_ctx, server_ctx, &e[0], &e[1], &lfd);
	e[1].free_on_read = 1;
	e[0].to_send = 1000;
	run(base, client_eof, e);
	assert_null(e[1].bev);
	assert_int_equal(e[0].eof, 1);
	assert_int_equal(e[0].error, 0);
	end_free(&e[0]);
	close(lfd);
	event_base_free(base);
}

static int
setup(void **state)
{
	char	 err[256];

	dir = tmpdir();
	mesh = ca_open(dir, NULL, "cluster.local", time(NULL), DAY, 0, err,
	    sizeof(err));
	if (mesh == NULL)
		return -1;
	server_id = issue("spiffe://cluster.local/ns/default/sa/server");
	client_id = issue("spiffe://cluster.local/ns/default/sa/client");
	server_ctx = mesh_ctx(&server_id);
	client_ctx = mesh_ctx(&client_id);
	/* a client context that trusts the mesh but has no certificate */
	bare_ctx = tls_mesh_ctx_new(err, sizeof(err));
	if (bare_ctx == NULL)
		return -1;
	{
		X509_STORE	*store = X509_STORE_new();

		X509_STORE_add_cert(store, mesh->signer);
		SSL_CTX_set_cert_store(bare_ctx, store);
	}
	/* TLS 1.2, as an origination to a server outside the mesh */
	tls12_server_ctx = SSL_CTX_new(TLS_server_method());
	tls12_client_ctx = SSL_CTX_new(TLS_client_method());
	if (tls12_server_ctx == NULL || tls12_client_ctx == NULL ||
	    SSL_CTX_set_max_proto_version(tls12_server_ctx,
	    TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate(tls12_server_ctx, server_id.cert) != 1 ||
	    SSL_CTX_use_PrivateKey(tls12_server_ctx, server_id.key) != 1)
		return -1;
	SSL_CTX_set_verify(tls12_client_ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[4200];

	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(bare_ctx);
	SSL_CTX_free(tls12_server_ctx);
	SSL_CTX_free(tls12_client_ctx);
	EVP_PKEY_free(server_id.key);
	X509_free(server_id.cert);
	EVP_PKEY_free(client_id.key);
	X509_free(client_id.cert);
	ca_free(mesh);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	free(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_flow_control),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_renegotiation),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_free_inside),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
