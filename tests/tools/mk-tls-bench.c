/* SPDX-License-Identifier: ISC */
/*
 * mk-tls-bench: how many mutual TLS handshakes a listener takes a second,
 * full and resumed.  Each connection does a TLS 1.3 handshake with the
 * given client certificate, sends one HTTP/1.1 request with
 * "Connection: close", reads the answer to its end and closes; the
 * resumed runs offer the session ticket of the connection before.
 *
 *	mk-tls-bench -a addr:port -c cert.pem -k key.pem -r root.pem
 *	    [-H host] [-n connections] [-s seconds]
 *
 * Prints "tls-bench: full N/s resumed N/s" (and how many were resumed).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util.h"

static _Noreturn void	usage(void);
static int		one(SSL_CTX *, const struct sockaddr_storage *,
			    socklen_t, const char *, SSL_SESSION **, int *);
static double		run(SSL_CTX *, const struct sockaddr_storage *,
			    socklen_t, const char *, int, unsigned, double,
			    unsigned *, unsigned *);

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: mk-tls-bench -a addr:port -c cert.pem -k "
	    "key.pem -r root.pem [-H host] [-n connections] [-s seconds]\n");
	exit(2);
}

/* One connection; 0, or -1.  *session: offered, then the new one. */
static int
one(SSL_CTX *ctx, const struct sockaddr_storage *ss, socklen_t sl,
    const char *host, SSL_SESSION **session, int *reused)
{
	char	 req[512], buf[16384];
	SSL	*ssl = NULL;
	int	 fd, n, one = 1, rc = -1, got = 0;

	if ((fd = socket(ss->ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, sl) == -1)
		goto done;
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		goto done;
	if (*session != NULL)
		SSL_set_session(ssl, *session);
	if (SSL_connect(ssl) != 1)
		goto done;
	*reused = SSL_session_reused(ssl);
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\n\r\n", host);
	if (SSL_write(ssl, req, n) != n)
		goto done;
	/* to the end: the ticket comes, and the answer, a 200 */
	while ((n = SSL_read(ssl, buf + (got > 0 ? 12 : 0),
	    sizeof(buf) - 12)) > 0)
		got += n;
	if (got >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) {
		SSL_SESSION	*s = SSL_get1_session(ssl);

		/* a copy: a close without close_notify spoils the original */
		SSL_SESSION_free(*session);
		*session = s != NULL ? SSL_SESSION_dup(s) : NULL;
		SSL_SESSION_free(s);
		rc = 0;
	}
done:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return rc;
}

/* n connections or secs seconds; the rate, failures in *failed. */
static double
run(SSL_CTX *ctx, const struct sockaddr_storage *ss, socklen_t sl,
    const char *host, int resume, unsigned n, double secs, unsigned *failed,
    unsigned *resumed)
{
	SSL_SESSION	*session = NULL, *none = NULL;
	uint64_t	 t0 = util_now_us(), t;
	unsigned	 i, done = 0;
	int		 reused = 0;

	*failed = *resumed = 0;
	/* the ticket to offer, outside the count */
	if (resume && one(ctx, ss, sl, host, &session, &reused) == -1)
		return 0;
	t0 = util_now_us();
	for (i = 0; i < n; i++) {
		if (resume) {
			if (one(ctx, ss, sl, host, &session, &reused) == -1)
				(*failed)++;
			else if (reused)
				(*resumed)++;
		} else {
			if (one(ctx, ss, sl, host, &none, &reused) == -1)
				(*failed)++;
			SSL_SESSION_free(none);
			none = NULL;
		}
		done++;
		if (secs > 0 && (util_now_us() - t0) / 1e6 >= secs)
			break;
	}
	t = util_now_us() - t0;
	SSL_SESSION_free(session);
	return t > 0 ? done / (t / 1e6) : 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	SSL_CTX			*ctx;
	const char		*addr = NULL, *cert = NULL, *key = NULL;
	const char		*root = NULL, *host = "backend.bench";
	unsigned		 n = 2000, ffail, rfail, rres, fres;
	double			 secs = 3, full, resumed;
	int			 ch;

	while ((ch = getopt(argc, argv, "a:c:H:k:n:r:s:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			root = optarg;
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || cert == NULL || key == NULL || root == NULL ||
	    n == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (util_parse_sockaddr(addr, &ss, &sl) == -1) {
		fprintf(stderr, "mk-tls-bench: %s: not an address\n", addr);
		return 2;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, root, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	/* the server's identity is a SPIFFE ID: the chain is what counts */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL);
	full = run(ctx, &ss, sl, host, 0, n, secs, &ffail, &fres);
	resumed = run(ctx, &ss, sl, host, 1, n, secs, &rfail, &rres);
	printf("tls-bench: full %.0f/s resumed %.0f/s (%u resumed, %u + %u "
	    "failed)\n", full, resumed, rres, ffail, rfail);
	SSL_CTX_free(ctx);
	return ffail + rfail > 0 || rres == 0 ? 1 : 0;
}
