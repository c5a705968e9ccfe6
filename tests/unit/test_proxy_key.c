/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of proxy-d's cache keys (cmd/proxy-d/key.c, linked in by
 * the Makefile's TEST_OBJS_test_proxy_key): two requests a daemon's
 * answer may tell apart never make the same key, and the same request
 * always makes the same one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "key.h"
#include "util.h"

#define MAXH	32
#define KEYMAX	4096

struct req {
	struct http_header	 hdrs[MAXH];
	struct http_request	 r;
	char			 raw[2048];
};

static void	parse(struct req *, const char *, const char *);
static size_t	akey(const struct req *, const char *, char *);
static size_t	rkey(const struct req *, const char *, char *);
static int	same(const char *, size_t, const char *, size_t);
static void	test_authz_repeated_headers(void **);
static void	test_authz_injective(void **);
static void	test_authz_peer(void **);
static void	test_authz_query(void **);
static void	test_route_scheme(void **);
static void	test_route_headers(void **);
static void	test_limits(void **);

static const struct key_peer	 peer = { "10.0.0.1", NULL, NULL,
				    "10.9.9.9:8000" };

/* "GET target HTTP/1.1", Host, then the header lines (LF-separated) */
static void
parse(struct req *q, const char *target, const char *headers)
{
	struct http_limits	 lim;
	struct http_error	 err;
	size_t			 n = 0;
	const char		*h = headers, *nl;

	http_limits_default(&lim);
	n += (size_t)snprintf(q->raw, sizeof(q->raw),
	    "GET %s HTTP/1.1\r\nHost: svc\r\n", target);
	while (h != NULL && *h != '\0') {
		nl = strchr(h, '\n');
		n += (size_t)snprintf(q->raw + n, sizeof(q->raw) - n,
		    "%.*s\r\n", (int)(nl != NULL ? nl - h : (int)strlen(h)),
		    h);
		h = nl != NULL ? nl + 1 : NULL;
	}
	n += (size_t)snprintf(q->raw + n, sizeof(q->raw) - n, "\r\n");
	memset(&q->r, 0, sizeof(q->r));
	q->r.headers = q->hdrs;
	q->r.max_headers = MAXH;
	if (http_parse_request(q->raw, n, &lim, &q->r, &err) != 0)
		fail_msg("%s: %s", q->raw, err.reason);
}

static size_t
akey(const struct req *q, const char *fields, char *buf)
{
	return key_authz(&q->r, &peer, fields, "app:80", 6, buf, KEYMAX);
}

static size_t
rkey(const struct req *q, const char *fields, char *buf)
{
	return key_route(&q->r, "10.0.0.1", fields, "o|svc", 5, buf, KEYMAX);
}

static int
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* Issue 9, item 2: "x-a: evil,x" once is not "x-a: evil" and "x-a: x". */
static void
test_authz_repeated_headers(void **state)
{
	static const char *const reqs[] = {
		"x-a: evil,x", "x-a: evil\nx-a: x", "x-a: evil", "x-a: x",
		"x-a:", "", "x-a: evil,x\nx-a:", "x-a:\nx-a: evil,x",
		"x-a: 1:a\nx-a: b", "x-a: 1:a1:b", "x-a: x\nx-a: evil",
	};
	struct req	 a, b;
	char		 ka[KEYMAX], kb[KEYMAX];
	size_t		 i, j, na, nb;

	(void)state;
	for (i = 0; i < nitems(reqs); i++)
		for (j = 0; j < nitems(reqs); j++) {
			parse(&a, "/", reqs[i]);
			parse(&b, "/", reqs[j]);
			na = akey(&a, "header:x-a", ka);
			nb = akey(&b, "header:x-a", kb);
			assert_true(na > 0 && nb > 0);
			if (same(ka, na, kb, nb) != (i == j))
				fail_msg("\"%s\" and \"%s\": keys %s", reqs[i],
				    reqs[j], i == j ? "differ" : "are equal");
		}
	/* other headers and the name's case do not matter */
	parse(&a, "/", "X-A: v\nother: 1");
	parse(&b, "/", "x-a: v");
	na = akey(&a, "header:x-a", ka);
	nb = akey(&b, "header:x-a", kb);
	assert_true(same(ka, na, kb, nb));
}

/*
 * Random lists of values over an alphabet of the separators a key could
 * use: equal keys exactly when the lists are equal, under several
 * fields at once.
 */
static void
test_authz_injective(void **state)
{
	static const char alpha[] = "a,:#0123-";
	char		 ha[256], hb[256], ka[KEYMAX], kb[KEYMAX];
	char		 pa[32], pb[32];
	struct req	 a, b;
	uint32_t	 seed = 12345;
	size_t		 na, nb, round;

	(void)state;
#define NEXT()	(seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
	for (round = 0; round < 20000; round++) {
		char	*p;
		int	 k, nv, c;
		char	*bufs[2] = { ha, hb };
		char	*paths[2] = { pa, pb };

		for (k = 0; k < 2; k++) {
			p = bufs[k];
			nv = (int)(NEXT() % 3);
			*p = '\0';
			while (nv-- > 0) {
				p += sprintf(p, "x-a: ");
				for (c = (int)(NEXT() % 4); c > 0; c--)
					*p++ = alpha[NEXT() % (sizeof(alpha) -
					    1)];
				*p++ = '\n';
				*p = '\0';
			}
			sprintf(paths[k], "/%c", alpha[NEXT() % 3]);
		}
		if (NEXT() % 4 == 0) {
			strcpy(hb, ha);		/* equal ones too */
			strcpy(pb, pa);
		}
		parse(&a, pa, ha);
		parse(&b, pb, hb);
		na = akey(&a, "path header:x-a method", ka);
		nb = akey(&b, "path header:x-a method", kb);
		assert_true(na > 0 && nb > 0);
		if (same(ka, na, kb, nb) != (strcmp(ha, hb) == 0 &&
		    strcmp(pa, pb) == 0))
			fail_msg("%s[%s] and %s[%s]", pa, ha, pb, hb);
		na = rkey(&a, "path header:x-a", ka);
		nb = rkey(&b, "path header:x-a", kb);
		if (same(ka, na, kb, nb) != (strcmp(ha, hb) == 0 &&
		    strcmp(pa, pb) == 0))
			fail_msg("route: %s[%s] and %s[%s]", pa, ha, pb, hb);
	}
#undef NEXT
}

/* A question that names the peer keys on it. */
static void
test_authz_peer(void **state)
{
	struct key_peer	 alice = { "10.0.0.1", "cluster.local/ns/a/sa/a",
			    NULL, NULL };
	struct key_peer	 bob = { "10.0.0.1", "cluster.local/ns/b/sa/b",
			    NULL, NULL };
	struct key_peer	 other = { "10.0.0.2", NULL, NULL, NULL };
	struct req	 a;
	char		 ka[KEYMAX], kb[KEYMAX];
	size_t		 na, nb;

	(void)state;
	parse(&a, "/", "");
	na = key_authz(&a.r, &alice, "principal", "b", 1, ka, KEYMAX);
	nb = key_authz(&a.r, &bob, "principal", "b", 1, kb, KEYMAX);
	assert_false(same(ka, na, kb, nb));
	na = key_authz(&a.r, &peer, "source-ip", "b", 1, ka, KEYMAX);
	nb = key_authz(&a.r, &other, "source-ip", "b", 1, kb, KEYMAX);
	assert_false(same(ka, na, kb, nb));
	/* the authority without case */
	parse(&a, "/", "");
	na = akey(&a, "authority", ka);
	a.r.authority = STR_LIT("SVC");
	nb = akey(&a, "authority", kb);
	assert_true(same(ka, na, kb, nb));
	assert_int_equal(akey(&a, "bogus", ka), 0);
	/* destination.ip and destination.port: the address connected to */
	{
		struct key_peer	 d1 = { "10.0.0.1", NULL, NULL,
				    "10.9.9.9:8000" };
		struct key_peer	 d2 = { "10.0.0.1", NULL, NULL,
				    "10.9.9.9:8001" };
		struct key_peer	 d3 = { "10.0.0.1", NULL, NULL,
				    "10.9.9.8:8000" };

		na = key_authz(&a.r, &d1, "port", "b", 1, ka, KEYMAX);
		nb = key_authz(&a.r, &d2, "port", "b", 1, kb, KEYMAX);
		assert_false(same(ka, na, kb, nb));
		nb = key_authz(&a.r, &d3, "port", "b", 1, kb, KEYMAX);
		assert_true(na > 0 && same(ka, na, kb, nb));
		na = key_authz(&a.r, &d1, "destination-ip", "b", 1, ka,
		    KEYMAX);
		nb = key_authz(&a.r, &d3, "destination-ip", "b", 1, kb,
		    KEYMAX);
		assert_false(same(ka, na, kb, nb));
		/* no destination known: not kept */
		assert_int_equal(key_authz(&a.r, &other, "port", "b", 1, ka,
		    KEYMAX), 0);
	}
}

/* A token looked for in a query parameter: keyed on its first value. */
static void
test_authz_query(void **state)
{
	struct req	 a, b;
	char		 ka[KEYMAX], kb[KEYMAX];
	size_t		 na, nb;

	(void)state;
	parse(&a, "/x?token=abc&other=1", "");
	parse(&b, "/y?z=2&token=abc&token=zzz", "");
	na = akey(&a, "query:token", ka);
	nb = akey(&b, "query:token", kb);
	assert_true(na > 0 && same(ka, na, kb, nb));
	parse(&b, "/x?token=abd", "");
	nb = akey(&b, "query:token", kb);
	assert_false(same(ka, na, kb, nb));
	/* absent, empty, and a name it only starts */
	parse(&a, "/x", "");
	parse(&b, "/x?token=", "");
	na = akey(&a, "query:token", ka);
	nb = akey(&b, "query:token", kb);
	assert_false(same(ka, na, kb, nb));
	parse(&b, "/x?tokens=a", "");
	nb = akey(&b, "query:token", kb);
	assert_true(same(ka, na, kb, nb));
}

/* Issue 9, item 9: an answer that looked at the scheme is keyed on it. */
static void
test_route_scheme(void **state)
{
	struct req	 o, h, h2;
	char		 ko[KEYMAX], kh[KEYMAX], kh2[KEYMAX];
	size_t		 no, nh, nh2;

	(void)state;
	assert_true(key_route_cacheable(""));
	assert_true(key_route_cacheable("authority listener port"));
	assert_false(key_route_cacheable("authority listener port scheme"));
	assert_false(key_route_cacheable("path"));
	parse(&o, "/", "");
	parse(&h, "https://svc/", "");
	parse(&h2, "https://svc/", "");
	no = rkey(&o, "path scheme", ko);
	nh = rkey(&h, "path scheme", kh);
	nh2 = rkey(&h2, "path scheme", kh2);
	assert_true(no > 0 && nh > 0);
	assert_false(same(ko, no, kh, nh));
	assert_true(same(kh, nh, kh2, nh2));
	/* the base's own fields add nothing */
	no = rkey(&o, "authority listener port", ko);
	assert_int_equal(no, 5);
	assert_memory_equal(ko, "o|svc", 5);
}

static void
test_route_headers(void **state)
{
	struct req	 a, b;
	char		 ka[KEYMAX], kb[KEYMAX];
	size_t		 na, nb;

	(void)state;
	parse(&a, "/", "x-v: 1,2");
	parse(&b, "/", "x-v: 1\nx-v: 2");
	na = rkey(&a, "header:x-v", ka);
	nb = rkey(&b, "header:x-v", kb);
	assert_false(same(ka, na, kb, nb));
	parse(&a, "/", "x-v:");
	parse(&b, "/", "");
	na = rkey(&a, "header:x-v", ka);
	nb = rkey(&b, "header:x-v", kb);
	assert_false(same(ka, na, kb, nb));
	parse(&a, "/", "");
	assert_int_equal(rkey(&a, "cookie-jar", ka), 0);
}

/* A key that does not fit is 0 (not kept), never a cut one. */
static void
test_limits(void **state)
{
	struct req	 a;
	char		 k[KEYMAX], fields[400];
	size_t		 full, n;

	(void)state;
	parse(&a, "/a-long-path-of-some-length", "x-v: 123456789");
	full = rkey(&a, "path header:x-v", k);
	assert_true(full > 0);
	for (n = 0; n < full; n++)
		assert_int_equal(key_route(&a.r, "ip", "path header:x-v",
		    "o|svc", 5, k, n), 0);
	assert_int_equal(key_route(&a.r, "ip", "path header:x-v", "o|svc", 5,
	    k, full), full);
	full = akey(&a, "path header:x-v", k);
	for (n = 0; n < full; n++)
		assert_int_equal(key_authz(&a.r, &peer, "path header:x-v",
		    "app:80", 6, k, n), 0);
	/* more vary words than a key is made of: not kept */
	memset(fields, 'p', sizeof(fields) - 1);
	fields[sizeof(fields) - 1] = '\0';
	assert_int_equal(rkey(&a, fields, k), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authz_repeated_headers),
		cmocka_unit_test(test_authz_injective),
		cmocka_unit_test(test_authz_peer),
		cmocka_unit_test(test_authz_query),
		cmocka_unit_test(test_route_scheme),
		cmocka_unit_test(test_route_headers),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
