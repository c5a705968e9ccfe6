/* SPDX-License-Identifier: ISC */
/*
 * TLS on a socket bufferevent, driven by proxy-d itself (conn.c's
 * transport for mutual TLS and origination).
 *
 * The connection keeps the socket bufferevent that a plain one has, with
 * all of its API (callbacks, watermarks, timeouts, enable and disable,
 * incref/decref); only its two events are taken over: their callbacks
 * read ciphertext from the socket, hand it to OpenSSL through a BIO of
 * ours, put the plaintext in the input, and write what OpenSSL makes.
 * Compared with libevent 2.1's OpenSSL bufferevent, a request costs one
 * read and one write system call a direction, and no epoll_ctl: that one
 * arms the write event for every write and reads each record with two
 * read(2)s, a header and a body.
 *
 *  - Reading: one recv a readable event, at most what the read high
 *    watermark leaves room for, into a buffer shared by all connections
 *    (one thread); OpenSSL decrypts all of it at once, so nothing
 *    readable ever waits inside OpenSSL or here while the socket is
 *    quiet: turning reading off and on, by the watermark or by hand,
 *    cannot stall a connection.  (That is what broke OpenSSL's own
 *    read-ahead under libevent's OpenSSL bufferevent.)
 *  - Writing: tlsio_flush encrypts the output, a record of up to 16 KB
 *    at a time, and sends the records with one send; what the kernel
 *    does not take waits here, and nothing more is encrypted until it
 *    is gone, so the output's watermarks still bound the memory.  The
 *    write event is armed only for what is left, as for a plain
 *    connection (conn_flush).
 *  - Events: BEV_EVENT_CONNECTED once the handshake is done (not the
 *    TCP connect); a failed handshake is BEV_EVENT_ERROR (the peer's
 *    close during an accepted one, BEV_EVENT_EOF); a close_notify, or a
 *    close without one (HTTP's own framing tells a truncated message),
 *    is BEV_EVENT_EOF, after the data before it.
 *
 * Not thread-safe: proxy-d's connections live in one event loop.
 */
#ifndef PROXY_D_TLSIO_H
#define PROXY_D_TLSIO_H

#include <sys/socket.h>

#include <stddef.h>

#include <event2/bufferevent.h>
#include <openssl/ssl.h>

/*
 * bev (a socket bufferevent on an accepted socket) speaks TLS as the
 * server with ssl, which it takes.  0, or -1 (ssl freed).
 */
int	 tlsio_accept(struct bufferevent *bev, SSL *ssl);
/*
 * bev (a socket bufferevent on a new socket) connects to sa and speaks
 * TLS as the client with ssl, which it takes.  The handshake starts
 * once the connect is done; enable EV_WRITE to learn that (as for
 * bufferevent_socket_connect).  0, or -1 (ssl freed).
 */
int	 tlsio_connect(struct bufferevent *bev, SSL *ssl,
	    const struct sockaddr *sa, socklen_t salen);
/* bev's SSL, or NULL when bev is not a TLS connection. */
SSL	*tlsio_ssl(struct bufferevent *bev);
/* Encrypt and send what the output holds, as far as the kernel takes. */
void	 tlsio_flush(struct bufferevent *bev);
/*
 * Right before bufferevent_free: say close_notify (as far as the kernel
 * takes it at once) and let the TLS state go.
 */
void	 tlsio_close(struct bufferevent *bev);
/* Why bev failed, in words (after BEV_EVENT_ERROR). */
void	 tlsio_reason(struct bufferevent *bev, char *buf, size_t len);

#endif
