/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		fatal("calloc");
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("reallocarray: overflow");
	if ((p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size)) == NULL)
		fatal("realloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("asprintf");
	return n;
}

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	 len = strlen(src);

	if (size > 0) {
		size_t n = len >= size ? size - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
util_is_token(struct str s)
{
	size_t	 i;

	if (s.n == 0)
		return 0;
	/* RFC 9110 5.6.2 */
	for (i = 0; i < s.n; i++)
		if (s.p[i] == '\0' || (!isalnum((unsigned char)s.p[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s.p[i]) == NULL))
			return 0;
	return 1;
}

uint64_t
util_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
util_now_ms(void)
{
	return util_now_us() / 1000;
}

int
util_parse_duration_ms(const char *s, uint64_t *ms)
{
	double		 total = 0;
	int		 any = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		char	*end;
		double	 v, mult;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (errno != 0 || end == s || v < 0)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			mult = 1;
			s += 2;
		} else if (strncmp(s, "us", 2) == 0) {
			mult = 0.001;
			s += 2;
		} else if (strncmp(s, "ns", 2) == 0) {
			mult = 0.000001;
			s += 2;
		} else if (*s == 's') {
			mult = 1000;
			s++;
		} else if (*s == 'm') {
			mult = 60000;
			s++;
		} else if (*s == 'h') {
			mult = 3600000;
			s++;
		} else if (*s == '\0' && !any) {
			mult = 1000;	/* a bare number is seconds */
		} else
			return -1;
		total += v * mult;
		any = 1;
	}
	if (total > 1e15)
		return -1;
	*ms = (uint64_t)(total + 0.5);
	if (*ms == 0 && total > 0)
		*ms = 1;
	return 0;
}

int
util_split_hostport(const char *s, size_t len, char *host, size_t hostlen,
    int *port, int default_port)
{
	const char	*h, *p = NULL;
	size_t		 hl;
	long		 v;

	if (len == 0)
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		if ((size_t)(close - s) + 1 < len) {
			if (close[1] != ':')
				return -1;
			p = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', len);

		if (colon != NULL && memchr(colon + 1, ':',
		    len - (size_t)(colon + 1 - s)) != NULL)
			return -1;	/* bare IPv6 needs brackets */
		h = s;
		hl = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL)
			p = colon + 1;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (p == NULL) {
		if (default_port < 0)
			return -1;
		*port = default_port;
		return 0;
	}
	if (p >= s + len)
		return -1;
	v = 0;
	for (; p < s + len; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (int)v;
	return 0;
}

int
util_parse_sockaddr(const char *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	char			 host[INET6_ADDRSTRLEN + 1];
	int			 port;
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(s, "unix:", 5) == 0) {
		if (strlen(s + 5) == 0 || strlen(s + 5) >= sizeof(sun->sun_path))
			return -1;
		sun->sun_family = AF_UNIX;
		util_strlcpy(sun->sun_path, s + 5, sizeof(sun->sun_path));
		*len = sizeof(*sun);
		return 0;
	}
	if (util_split_hostport(s, strlen(s), host, sizeof(host), &port,
	    -1) == -1)
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

const char *
util_format_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	}
	case AF_UNIX:
		snprintf(buf, len, "unix:%s",
		    ((const struct sockaddr_un *)(const void *)sa)->sun_path);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

static uint64_t	random_state[2];

uint64_t
util_random(void)
{
	uint64_t	 s1, s0;

	if (random_state[0] == 0 && random_state[1] == 0) {
		if (getrandom(random_state, sizeof(random_state), 0) !=
		    sizeof(random_state))
			random_state[0] = (uint64_t)time(NULL) | 1;
		random_state[1] |= 1;
	}
	/* xorshift128+ */
	s1 = random_state[0];
	s0 = random_state[1];
	random_state[0] = s0;
	s1 ^= s1 << 23;
	random_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return random_state[1] + s0;
}

/* Each byte as two lower-case hex digits. */
static const char util_hex_pairs[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

char *
util_put_hex(char *w, const void *bytes, size_t n)
{
	const unsigned char	*b = bytes;
	size_t			 i;

	for (i = 0; i < n; i++, w += 2)
		memcpy(w, util_hex_pairs + 2 * b[i], 2);
	return w;
}

void
util_uuid(char buf[37])
{
	uint64_t	 r[2];
	unsigned char	 b[16];
	char		*w = buf;

	r[0] = util_random();
	r[1] = util_random();
	memcpy(b, r, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	w = util_put_hex(w, b, 4);
	*w++ = '-';
	w = util_put_hex(w, b + 4, 2);
	*w++ = '-';
	w = util_put_hex(w, b + 6, 2);
	*w++ = '-';
	w = util_put_hex(w, b + 8, 2);
	*w++ = '-';
	w = util_put_hex(w, b + 10, 6);
	*w = '\0';
}

const char *
util_rundir(void)
{
	const char	*d = getenv("MESHKIT_RUNDIR");

	return d != NULL && *d != '\0' ? d : "/run/meshkit";
}

char *
util_read_file(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %zu "
		    "bytes", path, max);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (n < (size_t)sb.st_size) {
		r = read(fd, buf + n, (size_t)sb.st_size - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)sb.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Two digits a step from a table of the hundred pairs: a record has a
 * dozen numbers, one of them sixteen digits long, for every request.
 */
static const char util_digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

char *
util_put_u64(char *w, uint64_t v)
{
	char	*end, *q;
	size_t	 n = 1;
	uint64_t t;

	for (t = v; t >= 100; t /= 100)
		n += 2;
	if (t >= 10)
		n++;
	end = q = w + n;
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		q -= 2;
		memcpy(q, util_digit_pairs + 2 * d, 2);
	}
	if (v >= 10)
		memcpy(q - 2, util_digit_pairs + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return end;
}

size_t
util_utf8_len(const unsigned char *p, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

struct timeval
util_ms_timeval(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}
