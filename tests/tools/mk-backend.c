/* SPDX-License-Identifier: ISC */
/*
 * mk-backend: a small, fast HTTP/1.1 upstream for end-to-end tests and the
 * benchmark.  One thread, libevent_core, raw events with read(2) and
 * writev(2); keep-alive and pipelining; request bodies (Content-Length or
 * chunked) are streamed through a checksum, never buffered.
 *
 *	mk-backend [-qv] [-n name] [-p pidfile] [-s status] -l addr:port ...
 *	mk-backend -S <file	print what an upload of file would answer
 *
 * Endpoints (any method; a request with a body always gets the upload
 * answer, whatever its path):
 *	/		200 "hello from mk-backend NAME\n"
 *	/bytes/N	200, Content-Length N, the pattern below
 *	/chunked/N	200, chunked, N bytes of the pattern in 16 KiB chunks
 *	/delay/MS	200 after MS milliseconds
 *	/delay-peak	200, "N\n": the most /delay requests waiting at once
 *	/status/CODE	CODE with "status CODE\n"
 *	/headers	200, the request head as received
 *	/close		200 with Connection: close, then close
 *	/hang		never answers
 *	/upload		200 "received N bytes sha=HEX\n", HEX the FNV-1a 64 of
 *			the body bytes (a cheap integrity check)
 *	anything else	as /
 * With -s STATUS every request gets STATUS, whatever its path (an upload
 * after its body is read): a failing endpoint for retry and outlier tests.
 * Every response carries "x-backend: NAME".  The body pattern repeats the
 * 64 bytes [0-9a-zA-Z] "." "\n", so byte i of a body is pattern[i % 64].
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "util.h"

#define IN_SIZE		(64 * 1024)	/* also the limit of a request head */
#define OUT_HIGH	(256 * 1024)	/* stop parsing above this */
#define WRITE_BUDGET	(1024 * 1024)	/* bytes per write callback */
#define PATTERN_PERIOD	64
#define PATTERN_MAX	(256 * 1024)	/* one writev's worth of body */
#define CHUNK_SIZE	(16 * 1024)
#define MAX_LISTENERS	16
#define ACCEPT_BATCH	32
#define MAX_DELAY_MS	(24ULL * 3600 * 1000)
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

enum state {
	ST_HEAD,		/* waiting for a request head */
	ST_BODY,		/* Content-Length body */
	ST_CHUNK_SIZE,		/* chunked body: size line */
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF,		/* the CRLF after a chunk's data */
	ST_TRAILER,		/* trailer lines up to the empty one */
	ST_DELAY,		/* answer waits for the timer */
	ST_HANG,		/* never answers */
	ST_DONE			/* answered with close: read nothing more */
};

enum kind {
	K_HELLO,
	K_BYTES,
	K_CHUNKED,
	K_DELAY,
	K_STATUS,
	K_HEADERS,
	K_CLOSE,
	K_HANG,
	K_UPLOAD,
	K_DELAY_PEAK
};

struct conn {
	LIST_ENTRY(conn)	 entry;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;
	int			 reading;	/* rev is added */
	int			 writing;	/* wev is added */
	int			 read_eof;
	int			 closing;	/* close once output drains */

	char			*in;
	size_t			 in_start;
	size_t			 in_end;

	char			*out;
	size_t			 out_off;
	size_t			 out_len;
	size_t			 out_cap;

	enum state		 state;

	/* The request being read. */
	int			 keepalive;
	int			 http10;
	int			 head_only;
	enum kind		 kind;
	uint64_t		 arg;
	uint64_t		 body_left;
	uint64_t		 body_count;
	uint64_t		 body_hash;
	char			 what[128];	/* "METHOD target", for -v */

	/* A streamed response body. */
	uint64_t		 stream_left;	/* of the current segment */
	uint64_t		 stream_pos;	/* offset in the pattern */
	uint64_t		 chunk_total;	/* not yet framed, chunked */
	int			 chunking;
	int			 chunk_sent;	/* a chunk precedes: CRLF due */
};

struct listener {
	int			 fd;
	struct event		*ev;
};

static void	 usage(void) __attribute__((noreturn));
static int	 sum_stdin(void);
static void	 listener_open(const char *);
static void	 accept_cb(evutil_socket_t, short, void *);
static void	 accept_resume_cb(evutil_socket_t, short, void *);
static void	 signal_cb(evutil_socket_t, short, void *);
static void	 conn_new(int);
static void	 conn_free(struct conn *);
static void	 read_cb(evutil_socket_t, short, void *);
static void	 write_cb(evutil_socket_t, short, void *);
static void	 timer_cb(evutil_socket_t, short, void *);
static void	 conn_drive(struct conn *);
static int	 conn_parse(struct conn *);
static int	 conn_head(struct conn *);
static void	 conn_body(struct conn *);
static int	 conn_chunk_line(struct conn *, int);
static void	 conn_request_done(struct conn *);
static int	 conn_flush(struct conn *);
static int	 conn_busy(const struct conn *);
static void	 conn_set_read(struct conn *, int);
static void	 conn_set_write(struct conn *, int);
static void	 respond(struct conn *);
static void	 respond_simple(struct conn *, int, const char *, size_t,
		    int);
static void	 respond_head(struct conn *, int, uint64_t);
static void	 respond_error(struct conn *, int);
static void	 out_reserve(struct conn *, size_t);
static void	 out_add(struct conn *, const void *, size_t);
static void	 out_str(struct conn *, const char *);
static void	 out_u64(struct conn *, uint64_t, int);
static const char *reason(int);
static int	 parse_u64(const char *, size_t, uint64_t *);
static int	 has_token(const char *, size_t, const char *);
static uint64_t	 fnv1a(uint64_t, const unsigned char *, size_t);
static int	 path_arg(const char *, size_t, const char *, uint64_t *);
static void	 classify(struct conn *, const char *, size_t);

static struct event_base	*base;
static struct listener		 listeners[MAX_LISTENERS];
static size_t			 nlisteners;
static struct event		*accept_resume;
static LIST_HEAD(, conn)	 conns = LIST_HEAD_INITIALIZER(conns);
static const char		*name = "backend";
static int			 verbose;
static unsigned long		 fixed_status;	/* -s: every answer */
static uint64_t			 delaying, delay_peak;	/* /delay at once */
static char			 pattern[PATTERN_MAX + PATTERN_PERIOD];
static char			*hello_response;	/* GET / keep-alive */
static size_t			 hello_response_len;
static char			 hello_body[256];
static size_t			 hello_body_len;

static void
usage(void)
{
	fprintf(stderr, "usage: mk-backend [-qv] [-n name] [-p pidfile] [-s status] "
	    "-l addr:port [-l addr:port ...]\n"
	    "       mk-backend -S <file\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char		*addrs[MAX_LISTENERS];
	const char		*pidfile = NULL;
	size_t			 naddrs = 0, i;
	struct event		*sigint, *sigterm;
	struct event_config	*cfg;
	struct conn		*c;
	int			 ch, quiet = 0;
	char			*lists[MAX_LISTENERS], *tok, *save;
	size_t			 nlists = 0;

	while ((ch = getopt(argc, argv, "l:n:p:qs:Sv")) != -1) {
		switch (ch) {
		case 'l':
			/* Repeatable, and a comma-separated list also works. */
			if (nlists == MAX_LISTENERS)
				fatalx("too many listeners");
			lists[nlists] = xstrdup(optarg);
			for (tok = strtok_r(lists[nlists++], ",", &save);
			    tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				if (naddrs == MAX_LISTENERS)
					fatalx("too many listeners");
				addrs[naddrs++] = tok;
			}
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			fixed_status = strtoul(optarg, NULL, 10);
			if (fixed_status < 200 || fixed_status > 999)
				fatalx("-s: a status 200 to 999");
			break;
		case 'S':
			return sum_stdin();
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || naddrs == 0)
		usage();
	log_init("mk-backend", 1, verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.\n"[i % PATTERN_PERIOD];
	hello_body_len = (size_t)snprintf(hello_body, sizeof(hello_body),
	    "hello from mk-backend %s\n", name);
	if (hello_body_len >= sizeof(hello_body))
		fatalx("name too long");
	hello_response_len = (size_t)xasprintf(&hello_response,
	    "HTTP/1.1 200 OK\r\nx-backend: %s\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
	    name, hello_body_len, hello_body);

	if ((cfg = event_config_new()) == NULL)
		fatalx("event_config_new");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	if ((base = event_base_new_with_config(cfg)) == NULL)
		fatalx("event_base_new");
	event_config_free(cfg);

	for (i = 0; i < naddrs; i++)
		listener_open(addrs[i]);
	accept_resume = evtimer_new(base, accept_resume_cb, NULL);
	sigint = evsignal_new(base, SIGINT, signal_cb, NULL);
	sigterm = evsignal_new(base, SIGTERM, signal_cb, NULL);
	if (accept_resume == NULL || sigint == NULL || sigterm == NULL ||
	    evsignal_add(sigint, NULL) == -1 ||
	    evsignal_add(sigterm, NULL) == -1)
		fatalx("cannot set up events");

	if (pidfile != NULL) {
		FILE	*f;

		if ((f = fopen(pidfile, "w")) == NULL)
			fatal("%s", pidfile);
		fprintf(f, "%ld\n", (long)getpid());
		if (fclose(f) != 0)
			fatal("%s", pidfile);
	}
	if (!quiet) {
		for (i = 0; i < nlisteners; i++) {
			struct sockaddr_storage	 ss;
			socklen_t		 sl = sizeof(ss);
			char			 buf[128];

			if (getsockname(listeners[i].fd,
			    (struct sockaddr *)&ss, &sl) == 0)
				printf("mk-backend %s listening on %s\n", name,
				    util_format_sockaddr((struct sockaddr *)&ss,
				    buf, sizeof(buf)));
		}
		fflush(stdout);
	}

	event_base_dispatch(base);

	while ((c = LIST_FIRST(&conns)) != NULL)
		conn_free(c);
	for (i = 0; i < nlisteners; i++) {
		event_free(listeners[i].ev);
		close(listeners[i].fd);
	}
	event_free(accept_resume);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	free(hello_response);
	for (i = 0; i < nlists; i++)
		free(lists[i]);
	if (pidfile != NULL)
		unlink(pidfile);
	return 0;
}

/* The answer an upload of stdin would get, so tests can compare. */
static int
sum_stdin(void)
{
	static unsigned char	 buf[IN_SIZE];
	uint64_t		 h = FNV_OFFSET, n = 0;
	ssize_t			 r;

	while ((r = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			perror("mk-backend: stdin");
			return 1;
		}
		h = fnv1a(h, buf, (size_t)r);
		n += (uint64_t)r;
	}
	printf("received %" PRIu64 " bytes sha=%016" PRIx64 "\n", n, h);
	return 0;
}

static void
listener_open(const char *addr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct listener		*l;
	int			 fd, one = 1;

	if (util_parse_sockaddr(addr, &ss, &sl) == -1)
		fatalx("%s: not a numeric address:port", addr);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	else
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		fatal("bind %s", addr);
	if (listen(fd, 1024) == -1)
		fatal("listen %s", addr);
	l = &listeners[nlisteners++];
	l->fd = fd;
	l->ev = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1)
		fatalx("event_add listener");
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { 0, 100 * 1000 };
	size_t		 i;
	int		 s, n;

	for (n = 0; n < ACCEPT_BATCH; n++) {
		s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: pause, don't spin. */
				log_warn("accept");
				for (i = 0; i < nlisteners; i++)
					event_del(listeners[i].ev);
				evtimer_add(accept_resume, &tv);
			}
			return;
		}
		conn_new(s);
	}
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	for (i = 0; i < nlisteners; i++)
		event_add(listeners[i].ev, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

static void
conn_new(int fd)
{
	struct conn	*c;
	int		 one = 1;

	/* We gather each batch of answers ourselves: no Nagle delays. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->in = xmalloc(IN_SIZE);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, write_cb, c);
	if (c->rev == NULL || c->wev == NULL)
		fatalx("event_new");
	c->state = ST_HEAD;
	LIST_INSERT_HEAD(&conns, c, entry);
	conn_set_read(c, 1);
}

static void
conn_free(struct conn *c)
{
	LIST_REMOVE(c, entry);
	if (c->state == ST_DELAY)
		delaying--;
	if (c->timer != NULL)
		event_free(c->timer);
	event_free(c->wev);
	event_free(c->rev);
	close(c->fd);
	free(c->out);
	free(c->in);
	free(c);
}

static void
conn_set_read(struct conn *c, int on)
{
	if (on == c->reading)
		return;
	if (on)
		event_add(c->rev, NULL);
	else
		event_del(c->rev);
	c->reading = on;
}

static void
conn_set_write(struct conn *c, int on)
{
	if (on == c->writing)
		return;
	if (on)
		event_add(c->wev, NULL);
	else
		event_del(c->wev);
	c->writing = on;
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
	else if (c->in_start > 0 && IN_SIZE - c->in_end < IN_SIZE / 4) {
		/* Keep reads large: move a partial line or head down. */
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	if (c->in_end == IN_SIZE) {
		conn_set_read(c, 0);
		return;
	}
	n = read(fd, c->in + c->in_end, IN_SIZE - c->in_end);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_free(c);
		return;
	}
	if (n == 0) {
		c->read_eof = 1;
		conn_set_read(c, 0);
		/* A client that went away wants nothing more from us. */
		if (c->state == ST_HANG || c->state == ST_BODY ||
		    c->state == ST_CHUNK_SIZE || c->state == ST_CHUNK_DATA ||
		    c->state == ST_CHUNK_CRLF || c->state == ST_TRAILER) {
			conn_free(c);
			return;
		}
	}
	c->in_end += (size_t)n;
	conn_drive(c);
}

static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_drive(arg);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	char		 body[64];
	int		 n;

	n = snprintf(body, sizeof(body), "delayed %" PRIu64 " ms\n", c->arg);
	delaying--;
	c->state = ST_HEAD;
	respond_simple(c, 200, body, (size_t)n, 0);
	conn_drive(c);
}

/* A response body still being streamed holds back the next request. */
static int
conn_busy(const struct conn *c)
{
	return c->stream_left > 0 || c->chunking;
}

/*
 * Parse what we can, write what we can, and again while finishing a
 * streamed response unblocks pipelined requests.  May free c.
 */
static void
conn_drive(struct conn *c)
{
	int	 blocked, r;

	for (;;) {
		blocked = conn_parse(c);
		if ((r = conn_flush(c)) == -1) {
			conn_free(c);
			return;
		}
		/* Output drained: the requests it held back may go on. */
		if (r == 1 || !blocked || c->in_start == c->in_end)
			break;
	}
	if (r == 0 && (c->closing ||
	    (c->read_eof && c->state == ST_HEAD))) {
		conn_free(c);
		return;
	}
	if (c->read_eof || c->closing || c->state == ST_DONE)
		conn_set_read(c, 0);
	else
		conn_set_read(c, c->in_start > 0 || c->in_end < IN_SIZE);
}

/*
 * Returns 1 when stopped by output not yet written (a streamed body, or
 * too much queued), 0 when more input or a timer is needed.
 */
static int
conn_parse(struct conn *c)
{
	for (;;) {
		switch (c->state) {
		case ST_HEAD:
			if (conn_busy(c) || c->out_len - c->out_off > OUT_HIGH)
				return 1;
			if (conn_head(c) == 0)
				return 0;
			break;
		case ST_BODY:
		case ST_CHUNK_DATA:
			if (c->in_start == c->in_end)
				return 0;
			conn_body(c);
			break;
		case ST_CHUNK_SIZE:
		case ST_CHUNK_CRLF:
		case ST_TRAILER:
			if (conn_chunk_line(c, c->state) == 0)
				return 0;
			break;
		case ST_HANG:
			/* Drop input so reading goes on and sees the EOF. */
			c->in_start = c->in_end = 0;
			return 0;
		case ST_DELAY:
		case ST_DONE:
			return 0;
		}
	}
}

static void
conn_body(struct conn *c)
{
	size_t	 n = c->in_end - c->in_start;

	if (n > c->body_left)
		n = (size_t)c->body_left;
	c->body_hash = fnv1a(c->body_hash,
	    (unsigned char *)c->in + c->in_start, n);
	c->body_count += n;
	c->body_left -= n;
	c->in_start += n;
	if (c->body_left > 0)
		return;
	if (c->state == ST_CHUNK_DATA)
		c->state = ST_CHUNK_CRLF;
	else
		conn_request_done(c);
}

/*
 * One line of chunked framing: a size line, the CRLF after data, or a
 * trailer line.  Returns 0 when the line is not complete yet.
 */
static int
conn_chunk_line(struct conn *c, int st)
{
	char		*p = c->in + c->in_start, *nl, *e;
	size_t		 avail = c->in_end - c->in_start, len;
	uint64_t	 size = 0;
	int		 digits = 0, d;

	if ((nl = memchr(p, '\n', avail)) == NULL) {
		if (avail >= IN_SIZE / 2)
			respond_error(c, 400);
		return avail >= IN_SIZE / 2;
	}
	len = (size_t)(nl - p);
	c->in_start += len + 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (st == ST_CHUNK_CRLF) {
		if (len != 0) {
			respond_error(c, 400);
			return 1;
		}
		c->state = ST_CHUNK_SIZE;
		return 1;
	}
	if (st == ST_TRAILER) {
		if (len == 0)
			conn_request_done(c);
		return 1;
	}
	e = p + len;
	for (; p < e; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (*p | 0x20) - 'a' + 10;
		else
			break;
		if (size > (UINT64_MAX >> 4)) {
			respond_error(c, 400);
			return 1;
		}
		size = size << 4 | (uint64_t)d;
		digits++;
	}
	/* Only chunk extensions may follow the size. */
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (digits == 0 || (p < e && *p != ';')) {
		respond_error(c, 400);
		return 1;
	}
	if (size == 0)
		c->state = ST_TRAILER;
	else {
		c->state = ST_CHUNK_DATA;
		c->body_left = size;
	}
	return 1;
}

static void
conn_request_done(struct conn *c)
{
	c->state = ST_HEAD;
	respond(c);
}

/*
 * Parse one request head if it is all there.  Returns 0 when more bytes
 * are needed, 1 when the head was consumed (and answered or a body
 * started).
 */
static int
conn_head(struct conn *c)
{
	char		*p = c->in + c->in_start, *end, *line, *nl, *e;
	char		*method, *target, *colon, *v;
	size_t		 avail = c->in_end - c->in_start, len, mlen, tlen;
	uint64_t	 clen = 0;
	int		 have_clen = 0, chunked = 0, te = 0, conn_close = 0;
	int		 conn_keep = 0, expect = 0;

	/* Tolerate empty lines between requests (RFC 9112, 2.2). */
	while (avail > 0 && (*p == '\r' || *p == '\n')) {
		p++;
		avail--;
		c->in_start++;
	}
	if (avail == 0)
		return 0;
	end = p + avail;

	/* Request line. */
	if ((nl = memchr(p, '\n', avail)) == NULL)
		goto incomplete;
	e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	method = p;
	if ((v = memchr(p, ' ', (size_t)(e - p))) == NULL)
		goto bad;
	mlen = (size_t)(v - p);
	target = v + 1;
	if ((v = memchr(target, ' ', (size_t)(e - target))) == NULL)
		goto bad;
	tlen = (size_t)(v - target);
	v++;
	if (mlen == 0 || tlen == 0 || e - v != 8 || memcmp(v, "HTTP/1.", 7) ||
	    (v[7] != '0' && v[7] != '1'))
		goto bad;
	c->http10 = v[7] == '0';
	c->head_only = mlen == 4 && memcmp(method, "HEAD", 4) == 0;

	/* Header fields, up to the empty line. */
	for (line = nl + 1;; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			goto incomplete;
		e = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
		if (e == line)
			break;
		if ((colon = memchr(line, ':', (size_t)(e - line))) == NULL ||
		    colon == line)
			goto bad;
		len = (size_t)(colon - line);
		for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		switch (*line | 0x20) {
		case 'c':
			if (len == 14 && strncasecmp(line, "content-length",
			    14) == 0) {
				uint64_t n;

				if (parse_u64(v, (size_t)(e - v), &n) == -1 ||
				    (have_clen && n != clen))
					goto bad;
				clen = n;
				have_clen = 1;
			} else if (len == 10 && strncasecmp(line,
			    "connection", 10) == 0) {
				conn_close |= has_token(v, (size_t)(e - v),
				    "close");
				conn_keep |= has_token(v, (size_t)(e - v),
				    "keep-alive");
			}
			break;
		case 't':
			if (len == 17 && strncasecmp(line,
			    "transfer-encoding", 17) == 0) {
				/* Only "chunked", last, frames a body. */
				te = 1;
				chunked = e - v >= 7 &&
				    strncasecmp(e - 7, "chunked", 7) == 0 &&
				    (e - v == 7 || e[-8] == ' ' ||
				    e[-8] == ',');
			}
			break;
		case 'e':
			if (len == 6 && strncasecmp(line, "expect", 6) == 0)
				expect = has_token(v, (size_t)(e - v),
				    "100-continue");
			break;
		}
	}
	/* nl ends the head. */
	if (te && (!chunked || have_clen))
		goto bad;
	c->keepalive = c->http10 ? conn_keep && !conn_close : !conn_close;
	if (verbose)
		snprintf(c->what, sizeof(c->what), "%.*s %.*s", (int)mlen,
		    method, (int)tlen, target);

	if (chunked || clen > 0) {
		c->kind = K_UPLOAD;
		c->body_count = 0;
		c->body_hash = FNV_OFFSET;
		c->in_start += (size_t)(nl + 1 - p);
		if (expect && !c->http10)
			out_str(c, "HTTP/1.1 100 Continue\r\n\r\n");
		if (chunked)
			c->state = ST_CHUNK_SIZE;
		else {
			c->state = ST_BODY;
			c->body_left = clen;
		}
		return 1;
	}
	classify(c, target, tlen);
	if (c->kind == K_HEADERS)
		/* The head is still in the buffer: answer before consuming. */
		respond_simple(c, 200, p, (size_t)(nl + 1 - p), 0);
	else
		respond(c);
	c->in_start += (size_t)(nl + 1 - p);
	return 1;

incomplete:
	/* Short of a full buffer, compaction in read_cb makes room. */
	if (avail < IN_SIZE)
		return 0;
	respond_error(c, 431);
	return 1;
bad:
	respond_error(c, 400);
	return 1;
}

static int
path_arg(const char *path, size_t len, const char *prefix, uint64_t *n)
{
	size_t	 plen = strlen(prefix);

	if (len <= plen || memcmp(path, prefix, plen) != 0)
		return 0;
	return parse_u64(path + plen, len - plen, n) == 0;
}

static void
classify(struct conn *c, const char *target, size_t tlen)
{
	const char	*q, *s;
	size_t		 len;

	/* absolute-form: skip scheme and authority */
	if (tlen > 7 && (strncasecmp(target, "http://", 7) == 0 ||
	    strncasecmp(target, "https:/", 7) == 0)) {
		s = memchr(target + 8, '/', tlen - 8);
		if (s == NULL)
			s = target + tlen;
		tlen -= (size_t)(s - target);
		target = s;
	}
	if ((q = memchr(target, '?', tlen)) != NULL)
		tlen = (size_t)(q - target);
	len = tlen;
	c->kind = K_HELLO;
	c->arg = 0;
	if (fixed_status != 0) {
		c->kind = K_STATUS;
		c->arg = fixed_status;
		return;
	}
	if (len <= 1)
		return;
	if (path_arg(target, len, "/bytes/", &c->arg))
		c->kind = K_BYTES;
	else if (path_arg(target, len, "/chunked/", &c->arg))
		c->kind = K_CHUNKED;
	else if (path_arg(target, len, "/delay/", &c->arg))
		c->kind = c->arg <= MAX_DELAY_MS ? K_DELAY : K_HELLO;
	else if (path_arg(target, len, "/status/", &c->arg))
		c->kind = c->arg >= 200 && c->arg <= 999 ? K_STATUS :
		    K_HELLO;
	else if (len == 8 && memcmp(target, "/headers", 8) == 0)
		c->kind = K_HEADERS;
	else if (len == 11 && memcmp(target, "/delay-peak", 11) == 0)
		c->kind = K_DELAY_PEAK;
	else if (len == 6 && memcmp(target, "/close", 6) == 0)
		c->kind = K_CLOSE;
	else if (len == 5 && memcmp(target, "/hang", 5) == 0)
		c->kind = K_HANG;
	else if (len == 7 && memcmp(target, "/upload", 7) == 0) {
		c->kind = K_UPLOAD;
		c->body_count = 0;
		c->body_hash = FNV_OFFSET;
	}
}

/* Answer the request just read, according to c->kind. */
static void
respond(struct conn *c)
{
	struct timeval	 tv;
	char		 body[128];
	int		 n;

	switch (c->kind) {
	case K_HELLO:
		if (c->keepalive && !c->http10 && !c->head_only) {
			out_add(c, hello_response, hello_response_len);
			if (verbose)
				log_info("%s %s -> 200", name, c->what);
		} else
			respond_simple(c, 200, hello_body, hello_body_len, 0);
		break;
	case K_BYTES:
		respond_head(c, 200, c->arg);
		if (!c->head_only) {
			c->stream_left = c->arg;
			c->stream_pos = 0;
		}
		break;
	case K_CHUNKED:
		if (c->http10) {
			/* No chunked coding for 1.0: length, then close. */
			c->keepalive = 0;
			respond_head(c, 200, c->arg);
			if (!c->head_only) {
				c->stream_left = c->arg;
				c->stream_pos = 0;
			}
			break;
		}
		respond_head(c, 200, UINT64_MAX);
		if (!c->head_only) {
			c->chunking = 1;
			c->chunk_sent = 0;
			c->chunk_total = c->arg;
			c->stream_pos = 0;
		}
		break;
	case K_DELAY:
		if (c->timer == NULL &&
		    (c->timer = evtimer_new(base, timer_cb, c)) == NULL)
			fatalx("evtimer_new");
		tv.tv_sec = (time_t)(c->arg / 1000);
		tv.tv_usec = (suseconds_t)(c->arg % 1000) * 1000;
		evtimer_add(c->timer, &tv);
		c->state = ST_DELAY;
		if (++delaying > delay_peak)
			delay_peak = delaying;
		break;
	case K_DELAY_PEAK:
		n = snprintf(body, sizeof(body), "%" PRIu64 "\n", delay_peak);
		respond_simple(c, 200, body, (size_t)n, 0);
		break;
	case K_STATUS:
		n = snprintf(body, sizeof(body), "status %" PRIu64 "\n",
		    c->arg);
		respond_simple(c, (int)c->arg, body, (size_t)n, 0);
		break;
	case K_HEADERS:
		break;		/* answered by conn_head */
	case K_CLOSE:
		respond_simple(c, 200, "closing\n", 8, 1);
		break;
	case K_HANG:
		c->state = ST_HANG;
		if (verbose)
			log_info("%s %s -> (hang)", name, c->what);
		break;
	case K_UPLOAD:
		n = snprintf(body, sizeof(body), "received %" PRIu64
		    " bytes sha=%016" PRIx64 "\n", c->body_count,
		    c->body_hash);
		respond_simple(c, fixed_status != 0 ? (int)fixed_status : 200,
		    body, (size_t)n, 0);
		break;
	}
}

static void
respond_error(struct conn *c, int status)
{
	char	 body[64];
	int	 n;

	snprintf(c->what, sizeof(c->what), "(bad request)");
	n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	c->head_only = 0;
	respond_simple(c, status, body, (size_t)n, 1);
}

/* A whole response with a body from memory; close after it if asked. */
static void
respond_simple(struct conn *c, int status, const char *body, size_t len,
    int close_after)
{
	int	 bodyless = status == 204 || status == 304;

	if (close_after)
		c->keepalive = 0;
	respond_head(c, status, bodyless ? UINT64_MAX - 1 : len);
	if (!c->head_only && !bodyless)
		out_add(c, body, len);
}

/*
 * The status line and header fields.  length UINT64_MAX means chunked,
 * UINT64_MAX - 1 no body at all.  Ends the connection's parsing when the
 * response closes it.
 */
static void
respond_head(struct conn *c, int status, uint64_t length)
{
	out_str(c, "HTTP/1.1 ");
	out_u64(c, (uint64_t)status, 0);
	out_str(c, " ");
	out_str(c, reason(status));
	out_str(c, "\r\nx-backend: ");
	out_str(c, name);
	out_str(c, "\r\nContent-Type: text/plain\r\n");
	if (length == UINT64_MAX)
		out_str(c, "Transfer-Encoding: chunked\r\n");
	else if (length != UINT64_MAX - 1) {
		out_str(c, "Content-Length: ");
		out_u64(c, length, 0);
		out_str(c, "\r\n");
	}
	if (!c->keepalive) {
		out_str(c, "Connection: close\r\n");
		c->closing = 1;
		c->state = ST_DONE;
	} else if (c->http10)
		out_str(c, "Connection: keep-alive\r\n");
	out_str(c, "\r\n");
	if (verbose)
		log_info("%s %s -> %d", name, c->what, status);
}

static void
out_reserve(struct conn *c, size_t n)
{
	size_t	 cap;

	if (c->out_cap - c->out_len >= n)
		return;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_cap - c->out_len >= n)
			return;
	}
	cap = c->out_cap == 0 ? 4096 : c->out_cap;
	while (cap - c->out_len < n)
		cap *= 2;
	c->out = xreallocarray(c->out, 1, cap);
	c->out_cap = cap;
}

static void
out_add(struct conn *c, const void *p, size_t n)
{
	out_reserve(c, n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void
out_str(struct conn *c, const char *s)
{
	out_add(c, s, strlen(s));
}

static void
out_u64(struct conn *c, uint64_t v, int hex)
{
	char	 buf[24];
	int	 n;

	n = snprintf(buf, sizeof(buf), hex ? "%" PRIx64 : "%" PRIu64, v);
	out_add(c, buf, (size_t)n);
}

/*
 * Write pending output and streamed body.  Returns 0 when everything is
 * written, 1 when some is left (the write event is armed), -1 on error.
 */
static int
conn_flush(struct conn *c)
{
	struct iovec	 iov[2];
	size_t		 budget = WRITE_BUDGET, pending, seg, w;
	ssize_t		 n;
	int		 iovcnt;

	for (;;) {
		pending = c->out_len - c->out_off;
		if (pending == 0 && c->stream_left == 0 && c->chunking) {
			/* Frame the next chunk, or the last one. */
			if (c->chunk_sent)
				out_str(c, "\r\n");
			if (c->chunk_total > 0) {
				seg = c->chunk_total > CHUNK_SIZE ?
				    CHUNK_SIZE : (size_t)c->chunk_total;
				out_u64(c, seg, 1);
				out_str(c, "\r\n");
				c->stream_left = seg;
				c->chunk_total -= seg;
				c->chunk_sent = 1;
			} else {
				out_str(c, "0\r\n\r\n");
				c->chunking = 0;
			}
			pending = c->out_len - c->out_off;
		}
		if (pending == 0 && c->stream_left == 0) {
			c->out_off = c->out_len = 0;
			conn_set_write(c, 0);
			return 0;
		}
		if (budget == 0)
			break;
		iovcnt = 0;
		if (pending > 0) {
			iov[iovcnt].iov_base = c->out + c->out_off;
			iov[iovcnt++].iov_len = pending;
		}
		if (c->stream_left > 0) {
			seg = c->stream_left > PATTERN_MAX ? PATTERN_MAX :
			    (size_t)c->stream_left;
			iov[iovcnt].iov_base = pattern +
			    c->stream_pos % PATTERN_PERIOD;
			iov[iovcnt++].iov_len = seg;
		}
		n = iovcnt == 1 ? write(c->fd, iov[0].iov_base,
		    iov[0].iov_len) : writev(c->fd, iov, iovcnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		w = (size_t)n;
		budget = w >= budget ? 0 : budget - w;
		seg = w < pending ? w : pending;
		c->out_off += seg;
		w -= seg;
		c->stream_left -= w;
		c->stream_pos += w;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
	}
	conn_set_write(c, 1);
	return 1;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Whether a comma-separated list holds token (case-insensitive). */
static int
has_token(const char *s, size_t n, const char *token)
{
	size_t	 tl = strlen(token), i = 0, j;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		for (j = i; j < n && s[j] != ','; j++)
			;
		while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\t'))
			j--;
		if (j - i == tl && strncasecmp(s + i, token, tl) == 0)
			return 1;
		while (i < n && s[i] != ',')
			i++;
	}
	return 0;
}

static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}
