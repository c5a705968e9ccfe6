/* SPDX-License-Identifier: ISC */
/*
 * Fetching a JWKS: file://, http:// and https:// (OpenSSL, the system's
 * CA store, SNI and host name verification), one GET with
 * "Connection: close", bounded in time and size.  Runs on authz-d's
 * fetcher thread only, never on a thread that answers questions.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "authzd.h"
#include "jwt.h"
#include "util.h"

#define FETCH_MAX_HEAD	16384

static int	 fetch_connect(const char *, const char *, uint64_t, char *,
		    size_t);
static int	 fetch_io(int, SSL *, int, void *, size_t, uint64_t);
static int	 fetch_body(char *, size_t, char **, size_t *, char *, size_t);
static SSL_CTX	*fetch_tls(void);

static SSL_CTX	*tls_ctx;

static SSL_CTX *
fetch_tls(void)
{
	if (tls_ctx != NULL)
		return tls_ctx;
	if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(tls_ctx) != 1) {
		SSL_CTX_free(tls_ctx);
		tls_ctx = NULL;
	}
	return tls_ctx;
}

void
fetch_cleanup(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

static int
fetch_connect(const char *host, const char *port, uint64_t deadline,
    char *err, size_t errlen)
{
	struct addrinfo		 hints, *res, *ai;
	struct pollfd		 pfd;
	socklen_t		 sl;
	uint64_t		 now;
	int			 fd = -1, rv, soerr;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rv));
		return -1;
	}
	snprintf(err, errlen, "%s: no address", host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			now = util_now_ms();
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rv = poll(&pfd, 1, now < deadline ?
			    (int)(deadline - now) : 0);
			sl = sizeof(soerr);
			if (rv == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == 0 && soerr == 0)
				break;
			snprintf(err, errlen, "connect %s:%s: %s", host, port,
			    rv == 0 ? "timed out" : strerror(rv == 1 ?
			    soerr : errno));
		} else
			snprintf(err, errlen, "connect %s:%s: %s", host, port,
			    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* One read or write (plain or TLS) waiting at most until deadline. */
static int
fetch_io(int fd, SSL *ssl, int writing, void *buf, size_t len,
    uint64_t deadline)
{
	struct pollfd	 pfd;
	uint64_t	 now;
	ssize_t		 n;
	int		 e, want;

	for (;;) {
		want = writing ? POLLOUT : POLLIN;
		if (ssl != NULL) {
			n = writing ? SSL_write(ssl, buf, (int)len) :
			    SSL_read(ssl, buf, (int)len);
			if (n > 0)
				return (int)n;
			e = SSL_get_error(ssl, (int)n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_READ)
				want = POLLIN;
			else if (e == SSL_ERROR_WANT_WRITE)
				want = POLLOUT;
			else
				return -1;
		} else {
			n = writing ? write(fd, buf, len) : read(fd, buf, len);
			if (n >= 0)
				return (int)n;
			if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		now = util_now_ms();
		if (now >= deadline)
			return -2;
		pfd.fd = fd;
		pfd.events = (short)want;
		if (poll(&pfd, 1, (int)(deadline - now)) == 0)
			return -2;
	}
}

/* A whole response in buf: status 200, its body (chunked or not). */
static int
fetch_body(char *buf, size_t len, char **body, size_t *bodylen, char *err,
    size_t errlen)
{
	char		*end, *p, *line, *next, *o;
	size_t		 headlen, left;
	int		 chunked = 0, status;
	unsigned long	 sz;

	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
		snprintf(err, errlen, "response head incomplete");
		return -1;
	}
	headlen = (size_t)(end - buf) + 4;
	*end = '\0';
	if (sscanf(buf, "HTTP/1.%*1[01] %d", &status) != 1) {
		snprintf(err, errlen, "not an HTTP/1 response");
		return -1;
	}
	if (status != 200) {
		snprintf(err, errlen, "status %d", status);
		return -1;
	}
	for (line = strstr(buf, "\r\n"); line != NULL; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		if (strncasecmp(line, "transfer-encoding:", 18) == 0 &&
		    strcasestr(line + 18, "chunked") != NULL)
			chunked = 1;
	}
	p = buf + headlen;
	left = len - headlen;
	if (!chunked) {
		*body = p;
		*bodylen = left;
		return 0;
	}
	/* decoded in place: the data only moves towards the start */
	o = p;
	for (;;) {
		char *crlf = memmem(p, left, "\r\n", 2);

		if (crlf == NULL)
			goto bad;
		*crlf = '\0';
		sz = strtoul(p, NULL, 16);
		if (sz > left)
			goto bad;
		left -= (size_t)(crlf + 2 - p);
		p = crlf + 2;
		if (sz == 0)
			break;
		if (left < sz + 2)
			goto bad;
		memmove(o, p, sz);
		o += sz;
		p += sz + 2;
		left -= sz + 2;
	}
	*body = buf + headlen;
	*bodylen = (size_t)(o - (buf + headlen));
	return 0;
bad:
	snprintf(err, errlen, "bad chunked body");
	return -1;
}

int
fetch_url(const char *url, uint64_t timeout_ms, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	char		 host[256], port[8], *req = NULL, *buf = NULL, *body;
	const char	*p, *slash, *path;
	size_t		 len = 0, cap, hl, bodylen, off;
	uint64_t	 deadline = util_now_ms() + timeout_ms;
	SSL		*ssl = NULL;
	int		 tls, fd = -1, n, rc = -1, reqlen;

	if (strncmp(url, "file://", 7) == 0)
		return (*out = util_read_file(url + 7, JWKS_MAX_BYTES, outlen,
		    err, errlen)) != NULL ? 0 : -1;
	if (strncmp(url, "https://", 8) == 0) {
		tls = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		tls = 0;
		p = url + 7;
	} else {
		snprintf(err, errlen, "%s: not file:, http: or https:", url);
		return -1;
	}
	slash = strchr(p, '/');
	hl = slash != NULL ? (size_t)(slash - p) : strlen(p);
	path = slash != NULL ? slash : "/";
	if (hl == 0 || hl >= sizeof(host) || memchr(p, '@', hl) != NULL) {
		snprintf(err, errlen, "%s: bad host", url);
		return -1;
	}
	memcpy(host, p, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", tls ? "443" : "80");
	if (host[0] == '[') {
		char *close = strchr(host, ']');

		if (close == NULL) {
			snprintf(err, errlen, "%s: bad host", url);
			return -1;
		}
		if (close[1] == ':')
			snprintf(port, sizeof(port), "%.5s", close + 2);
		*close = '\0';
		memmove(host, host + 1, strlen(host));
	} else if ((body = strrchr(host, ':')) != NULL) {
		snprintf(port, sizeof(port), "%.5s", body + 1);
		*body = '\0';
	}
	if ((fd = fetch_connect(host, port, deadline, err, errlen)) == -1)
		return -1;
	if (tls) {
		SSL_CTX *ctx = fetch_tls();

		if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(ssl, fd) != 1 ||
		    SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1) {
			snprintf(err, errlen, "%s: TLS setup failed", url);
			goto out;
		}
		for (;;) {
			int r = SSL_connect(ssl), e;
			struct pollfd pfd;
			uint64_t now;

			if (r == 1)
				break;
			e = SSL_get_error(ssl, r);
			now = util_now_ms();
			if ((e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) || now >= deadline) {
				long v = SSL_get_verify_result(ssl);

				snprintf(err, errlen, "%s: TLS handshake "
				    "failed%s%s", url, v != X509_V_OK ?
				    ": " : "", v != X509_V_OK ?
				    X509_verify_cert_error_string(v) : "");
				goto out;
			}
			pfd.fd = fd;
			pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT;
			poll(&pfd, 1, (int)(deadline - now));
		}
	}
	/* the Host header is the URL's authority as written */
	reqlen = xasprintf(&req, "GET %s HTTP/1.1\r\nHost: %.*s\r\n"
	    "Accept: application/json\r\nUser-Agent: meshkit-authz-d\r\n"
	    "Connection: close\r\n\r\n", path, (int)hl, p);
	for (off = 0; off < (size_t)reqlen; off += (size_t)n)
		if ((n = fetch_io(fd, ssl, 1, req + off, (size_t)reqlen - off,
		    deadline)) <= 0) {
			snprintf(err, errlen, "%s: %s", url, n == -2 ?
			    "timed out" : "write failed");
			goto out;
		}
	cap = 65536;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= JWKS_MAX_BYTES + FETCH_MAX_HEAD) {
				snprintf(err, errlen, "%s: response too "
				    "large", url);
				goto out;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		n = fetch_io(fd, ssl, 0, buf + len, cap - len, deadline);
		if (n == 0)
			break;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", url, n == -2 ?
			    "timed out" : "read failed");
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (fetch_body(buf, len, &body, &bodylen, err, errlen) == -1)
		goto out;
	*out = xmalloc(bodylen + 1);
	memcpy(*out, body, bodylen);
	(*out)[bodylen] = '\0';
	*outlen = bodylen;
	rc = 0;
out:
	free(req);
	free(buf);
	if (ssl != NULL)
		SSL_free(ssl);
	ERR_clear_error();
	if (fd != -1)
		close(fd);
	return rc;
}
