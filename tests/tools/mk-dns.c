/* SPDX-License-Identifier: ISC */
/*
 * mk-dns: a tiny DNS server for tests, UDP on loopback.  It answers A
 * and AAAA questions for the names of a zone file, one name a line:
 *
 *	NAME [ttl=SECONDS] ADDRESS...
 *
 * (IPv4 and IPv6 addresses mixed; '#' starts a comment).  A name it has
 * but without an address of the family asked: an empty answer (NODATA);
 * a name it lacks: NXDOMAIN.  SIGHUP reads the file again; SIGUSR1
 * toggles a mode that answers SERVFAIL to everything.  Every question is
 * logged on standard output ("query NAME A"), so tests can count them.
 * It exits on SIGTERM or SIGINT, or after -T seconds (default 600): a
 * test that forgets it does not leave it running.
 *
 *	mk-dns -l 127.0.0.1:PORT -f ZONE [-t default_ttl] [-T seconds]
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DNS_MAX_NAMES	256
#define DNS_MAX_ADDRS	16
#define DNS_TYPE_A	1
#define DNS_TYPE_AAAA	28
#define DNS_CLASS_IN	1

struct zone_name {
	char		 name[256];
	unsigned	 ttl;
	struct in_addr	 v4[DNS_MAX_ADDRS];
	size_t		 n4;
	struct in6_addr	 v6[DNS_MAX_ADDRS];
	size_t		 n6;
};

static struct zone_name	 zone[DNS_MAX_NAMES];
static size_t		 nzone;
static const char	*zone_file;
static unsigned		 default_ttl = 30;
static volatile sig_atomic_t sig_hup, sig_fail, sig_quit;

static void	 on_signal(int);
static int	 zone_read(void);
static const struct zone_name *zone_find(const char *);
static size_t	 answer(const unsigned char *, size_t, unsigned char *,
		    size_t, int);
static void	 usage(void);

static void
usage(void)
{
	fprintf(stderr, "usage: mk-dns -l 127.0.0.1:PORT -f zone "
	    "[-t ttl] [-T seconds]\n");
	exit(2);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGUSR1)
		sig_fail = !sig_fail;
	else
		sig_quit = 1;
}

/* The whole file, or nothing: a bad line keeps the zone as it was. */
static int
zone_read(void)
{
	static struct zone_name	 z[DNS_MAX_NAMES];
	FILE			*f;
	char			 line[1024], *p, *w, *save;
	size_t			 n = 0, lineno = 0, len;

	if ((f = fopen(zone_file, "r")) == NULL) {
		fprintf(stderr, "mk-dns: %s: %s\n", zone_file,
		    strerror(errno));
		return -1;
	}
	memset(z, 0, sizeof(z));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((w = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (n == DNS_MAX_NAMES || (len = strlen(w)) >= 255) {
			fprintf(stderr, "mk-dns: %s:%zu: too many names or "
			    "too long a name\n", zone_file, lineno);
			fclose(f);
			return -1;
		}
		if (len > 1 && w[len - 1] == '.')
			w[--len] = '\0';
		util_strlcpy(z[n].name, w, sizeof(z[n].name));
		z[n].ttl = default_ttl;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strncmp(w, "ttl=", 4) == 0)
				z[n].ttl = (unsigned)strtoul(w + 4, NULL, 10);
			else if (z[n].n4 < DNS_MAX_ADDRS &&
			    inet_pton(AF_INET, w, &z[n].v4[z[n].n4]) == 1)
				z[n].n4++;
			else if (z[n].n6 < DNS_MAX_ADDRS &&
			    inet_pton(AF_INET6, w, &z[n].v6[z[n].n6]) == 1)
				z[n].n6++;
			else {
				fprintf(stderr, "mk-dns: %s:%zu: bad word "
				    "\"%s\"\n", zone_file, lineno, w);
				fclose(f);
				return -1;
			}
		}
		n++;
	}
	fclose(f);
	memcpy(zone, z, sizeof(zone));
	nzone = n;
	printf("zone %zu names\n", n);
	fflush(stdout);
	return 0;
}

static const struct zone_name *
zone_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nzone; i++)
		if (strcasecmp(zone[i].name, name) == 0)
			return &zone[i];
	return NULL;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/*
 * The reply to the query q[0..n) in r (at most rlen), or 0 to send
 * nothing.  Only one question, not compressed, as resolvers send them;
 * the question goes back byte for byte (evdns varies the case of names
 * and checks it comes back the same).
 */
static size_t
answer(const unsigned char *q, size_t n, unsigned char *r, size_t rlen,
    int servfail)
{
	char			 name[256];
	size_t			 i = 12, o = 0, qend, k, count;
	unsigned		 qtype, qclass, rcode = 0;
	const struct zone_name	*z;

	if (n < 12 || n > 512 || (q[2] & 0x80) != 0 ||
	    ((unsigned)q[4] << 8 | q[5]) != 1)
		return 0;
	while (i < n && q[i] != 0) {
		size_t l = q[i];

		if ((l & 0xc0) != 0 || i + 1 + l >= n || o + l + 1 >=
		    sizeof(name))
			return 0;
		if (o > 0)
			name[o++] = '.';
		memcpy(name + o, q + i + 1, l);
		o += l;
		i += 1 + l;
	}
	name[o] = '\0';
	if (i + 5 > n)
		return 0;
	qtype = (unsigned)q[i + 1] << 8 | q[i + 2];
	qclass = (unsigned)q[i + 3] << 8 | q[i + 4];
	qend = i + 5;
	if (qend > rlen)
		return 0;
	printf("query %s %s\n", name, qtype == DNS_TYPE_A ? "A" :
	    qtype == DNS_TYPE_AAAA ? "AAAA" : "other");
	fflush(stdout);

	memcpy(r, q, qend);
	z = zone_find(name);
	count = 0;
	if (servfail)
		rcode = 2;
	else if (z == NULL)
		rcode = 3;
	else if (qclass == DNS_CLASS_IN && qtype == DNS_TYPE_A)
		count = z->n4;
	else if (qclass == DNS_CLASS_IN && qtype == DNS_TYPE_AAAA)
		count = z->n6;
	o = qend;
	for (k = 0; k < count; k++) {
		size_t dlen = qtype == DNS_TYPE_A ? 4 : 16;

		if (o + 12 + dlen > rlen)
			break;
		put16(r + o, 0xc00c);		/* the question's name */
		put16(r + o + 2, qtype);
		put16(r + o + 4, DNS_CLASS_IN);
		put16(r + o + 6, z->ttl >> 16);
		put16(r + o + 8, z->ttl & 0xffff);
		put16(r + o + 10, (unsigned)dlen);
		memcpy(r + o + 12, qtype == DNS_TYPE_A ? (const void *)&z->v4[k] :
		    (const void *)&z->v6[k], dlen);
		o += 12 + dlen;
	}
	/* QR, the opcode and RD kept, AA; RA; the rcode */
	r[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04);
	r[3] = (unsigned char)(0x80 | rcode);
	put16(r + 4, 1);
	put16(r + 6, (unsigned)k);
	put16(r + 8, 0);
	put16(r + 10, 0);
	return o;
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct sockaddr_storage	 ss, from;
	socklen_t		 sl, fl;
	struct pollfd		 pfd;
	unsigned char		 q[1024], r[1024];
	const char		*listen_at = NULL;
	time_t			 deadline;
	long			 lifetime = 600;
	ssize_t			 n;
	size_t			 rn;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "f:l:T:t:")) != -1) {
		switch (ch) {
		case 'f':
			zone_file = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'T':
			lifetime = strtol(optarg, NULL, 10);
			break;
		case 't':
			default_ttl = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (listen_at == NULL || zone_file == NULL || optind != argc ||
	    lifetime <= 0)
		usage();
	if (util_parse_sockaddr(listen_at, &ss, &sl) == -1 ||
	    ss.ss_family == AF_UNIX) {
		fprintf(stderr, "mk-dns: %s: want a numeric ADDR:PORT\n",
		    listen_at);
		return 2;
	}
	if (zone_read() == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		fprintf(stderr, "mk-dns: %s: %s\n", listen_at,
		    strerror(errno));
		return 1;
	}
	printf("listening on %s\n", listen_at);
	fflush(stdout);
	deadline = time(NULL) + lifetime;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!sig_quit && time(NULL) < deadline) {
		if (sig_hup) {
			sig_hup = 0;
			zone_read();
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fl = sizeof(from);
		if ((n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &fl)) <= 0)
			continue;
		if ((rn = answer(q, (size_t)n, r, 512, sig_fail)) > 0)
			sendto(fd, r, rn, 0, (struct sockaddr *)&from, fl);
	}
	close(fd);
	return 0;
}
