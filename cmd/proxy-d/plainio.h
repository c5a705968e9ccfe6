/* SPDX-License-Identifier: ISC */
/*
 * Reading a plain socket bufferevent without libevent's ioctl(FIONREAD).
 *
 * libevent 2.1 asks the kernel how many bytes are readable before every
 * read of a socket bufferevent, then reads at most 4 KB: a system call
 * and the socket's lock more a read, two of them a proxied request.
 * plainio_attach takes over the bufferevent's read event (as tlsio.h
 * does for TLS) with a callback that reads straight into the input, up
 * to 16 KB or what the read high watermark leaves room for, and keeps
 * libevent's contract: the read callback past the low watermark,
 * BEV_EVENT_READING with EOF, ERROR (errno kept) or TIMEOUT, reading
 * off after either.  Everything else (writing, watermarks, timeouts,
 * enable and disable, freeing) stays libevent's; rate limits and
 * bufferevent_set_max_single_read are not honoured (proxy-d sets none).
 *
 * Only for a connected socket: a connect that fails is libevent's to
 * report, from its write event, so an upstream connection is attached
 * at BEV_EVENT_CONNECTED.
 */
#ifndef PLAINIO_H
#define PLAINIO_H

#define PLAINIO_READ	16384	/* at most, a read */

struct bufferevent;

void	plainio_attach(struct bufferevent *);

#endif /* PLAINIO_H */
