/* SPDX-License-Identifier: ISC */
/* Small helpers every program uses. */
#ifndef MESHKIT_UTIL_H
#define MESHKIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

/* glibc's sys/queue.h lacks the _SAFE forms BSD has. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* A view of bytes owned by someone else; not NUL-terminated. */
struct str {
	const char	*p;
	size_t		 n;
};

#define STR_LIT(s)	((struct str){ (s), sizeof(s) - 1 })

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

size_t	 util_strlcpy(char *, const char *, size_t);

/*
 * s is lit (ASCII case aside for caseeq).  Inline: with a literal the
 * length is a constant, and a name of another length costs one compare,
 * as it does for most of the headers a proxy looks through.
 */
static inline int
util_str_eq(struct str s, const char *lit)
{
	size_t	 n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/*
 * Are a[0..n) and b[0..n) the same?  For short keys: eight bytes at a
 * time in fixed-size copies the compiler makes loads, not a call, and
 * the rest as the last eight (or four) bytes, overlapping what was
 * compared already, rather than byte by byte.
 */
static inline int
util_short_eq(const char *a, const char *b, size_t n)
{
	uint64_t	 x, y;
	uint32_t	 x4, y4;
	size_t		 i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		if (i == n)
			return 1;
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&x4, a, 4);
		memcpy(&y4, b, 4);
		if (x4 != y4)
			return 0;
		memcpy(&x4, a + n - 4, 4);
		memcpy(&y4, b + n - 4, 4);
		return x4 == y4;
	}
	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static inline int
util_str_caseeq(struct str s, const char *lit)
{
	size_t	 n = strlen(lit);

	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* v in decimal at w, without printf; where the digits end (20 at most). */
char	*util_put_u64(char *w, uint64_t v);
/* n bytes as 2n lower-case hex digits at w; where they end. */
char	*util_put_hex(char *w, const void *bytes, size_t n);
/* ms milliseconds as a timeval (libevent's timeouts). */
struct timeval util_ms_timeval(uint64_t ms);
/*
 * The length of the well-formed UTF-8 sequence at p (of n bytes): 1 to 4,
 * or 0 for a bad, overlong, surrogate or cut one.
 */
size_t	 util_utf8_len(const unsigned char *p, size_t n);
/* An RFC 9110 token (a header name, for one): 1 or 0. */
int	 util_is_token(struct str);

uint64_t util_now_ms(void);		/* monotonic */
uint64_t util_now_us(void);		/* monotonic */

/*
 * Istio durations: "1.5s", "100ms", "2m", "1h", "30us"; also a bare
 * number of seconds.  Returns 0 and stores milliseconds, or -1.
 */
int	 util_parse_duration_ms(const char *, uint64_t *);

/*
 * "1.2.3.4:80", "[::1]:80", "host:80".  With default_port >= 0 the port
 * may be left out.  Host is copied to host (hostlen bytes).  0 or -1.
 */
int	 util_split_hostport(const char *, size_t, char *host, size_t hostlen,
	    int *port, int default_port);

/*
 * Numeric address and port into a sockaddr (no DNS).  "unix:/path" gives
 * an AF_UNIX address.  Returns 0, or -1 when the string is not numeric.
 */
int	 util_parse_sockaddr(const char *, struct sockaddr_storage *,
	    socklen_t *);
/* Formats "1.2.3.4:80" / "[::1]:80" / "unix:/path" into buf. */
const char *util_format_sockaddr(const struct sockaddr *, char *, size_t);

/* Fast non-cryptographic randomness, seeded from getrandom(2). */
uint64_t util_random(void);
/* A version 4 UUID, 36 characters and a NUL into buf[37]. */
void	 util_uuid(char buf[37]);

/* Run directory for sockets: $MESHKIT_RUNDIR, else /run/meshkit. */
const char *util_rundir(void);
/*
 * A regular file of at most max bytes, whole and NUL-terminated (free
 * it), its length in *len; NULL with err ("path: why") otherwise.  A FIFO
 * is refused, not waited on.
 */
char	*util_read_file(const char *path, size_t max, size_t *len,
	    char *err, size_t errlen);

#endif
