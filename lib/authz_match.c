/* SPDX-License-Identifier: ISC */
/*
 * How one value of an AuthorizationPolicy matches one field of a
 * request, as the Envoy matchers Istio generates for it do
 * (pilot/pkg/security/authz/model: generator.go and matcher/): the
 * string forms, paths and their templates, address blocks, the
 * peer's SPIFFE identity, request principals split into issuer and
 * subject, repeated headers joined, and JWT claims.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "authz_impl.h"
#include "config.h"
#include "json.h"
#include "util.h"

#define SPIFFE_PREFIX	"spiffe://"

static int	 match_prefix(struct str, const char *, size_t, int);
static int	 match_suffix(struct str, const char *, size_t, int);
static const struct str *header_next(const struct authz_request *,
		    const char *, size_t, size_t *);
static int	 joined_cmp(const struct authz_request *, const char *,
		    size_t, size_t, const char *, size_t);
static size_t	 joined_len(const struct authz_request *, const char *,
		    size_t, int *);
static int	 namespace_match(const char *, struct str);
static int	 service_account_match(const char *, struct str);
static int	 request_principal_match(const char *, struct str,
		    const struct str *);
static int	 authz_path_chars(const char *, size_t, const char *);

static int
match_prefix(struct str v, const char *p, size_t n, int caseless)
{
	return v.n >= n && (caseless ? strncasecmp(v.p, p, n) :
	    memcmp(v.p, p, n)) == 0;
}

static int
match_suffix(struct str v, const char *p, size_t n, int caseless)
{
	return v.n >= n && (caseless ? strncasecmp(v.p + v.n - n, p, n) :
	    memcmp(v.p + v.n - n, p, n)) == 0;
}

/*
 * Istio's StringMatcher: "*" any non-empty value (a regex ".+"),
 * "prefix*", "*suffix", else exact.
 */
int
authz_value_match(const char *pat, struct str v, int caseless)
{
	size_t	 n = strlen(pat);

	if (n == 1 && pat[0] == '*')
		return v.n > 0;
	if (n > 0 && pat[n - 1] == '*')
		return match_prefix(v, pat, n - 1, caseless);
	if (n > 0 && pat[0] == '*')
		return match_suffix(v, pat + 1, n - 1, caseless);
	return v.n == n && (caseless ? strncasecmp(v.p, pat, n) :
	    memcmp(v.p, pat, n)) == 0;
}

int
authz_values_match(const struct authz_values *vals, struct str v,
    int caseless)
{
	size_t	 i;

	for (i = 0; i < vals->n; i++)
		if (authz_value_match(vals->v[i], v, caseless))
			return 1;
	return 0;
}

/*
 * Envoy's uri_template match, which Istio's path templates become: {*}
 * is one segment of path characters; {**} is any run of path characters
 * and '/', and only literal text may follow it, which the path must end
 * with.
 */
int
authz_path_match(const char *pat, const char *path)
{
	static const char pchars[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()+,;:@=";
	const char	*p = pat, *s = path, *pe, *se;
	size_t		 pn, sn, tn, rn;

	if (strchr(pat, '{') == NULL) {
		struct str v = { path, strlen(path) };

		return authz_value_match(pat, v, 0);
	}
	for (;;) {
		if (*p != '/' || *s != '/')
			return *p == *s;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		pn = pe != NULL ? (size_t)(pe - p) : strlen(p);
		sn = se != NULL ? (size_t)(se - s) : strlen(s);
		if (pn == 4 && memcmp(p, "{**}", 4) == 0) {
			/* the path ends with the literal tail */
			tn = strlen(p + 4);
			rn = strlen(s);
			if (rn < tn || memcmp(s + rn - tn, p + 4, tn) != 0)
				return 0;
			return authz_path_chars(s, rn - tn, pchars);
		}
		if (pn == 3 && memcmp(p, "{*}", 3) == 0) {
			if (sn == 0 || strspn(s, pchars) < sn)
				return 0;
		} else if (pn != sn || memcmp(p, s, pn) != 0)
			return 0;
		p += pn;
		s += sn;
		if (*p == '\0' || *s == '\0')
			return *p == *s;
	}
}

/* s[0..n) holds only path characters and '/'. */
static int
authz_path_chars(const char *s, size_t n, const char *pchars)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] != '/' && strchr(pchars, s[i]) == NULL)
			return 0;
	return 1;
}

int
authz_ip_match(const struct authz_values *vals, struct str addr)
{
	char		 buf[64];
	unsigned char	 a[16];
	int		 family;
	size_t		 i;
	unsigned	 b;

	if (addr.n == 0 || addr.n >= sizeof(buf))
		return 0;
	memcpy(buf, addr.p, addr.n);
	buf[addr.n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		family = AF_INET6;
	else
		return 0;
	for (i = 0; i < vals->n; i++) {
		const struct ip_block *blk = &vals->blocks[i];

		if (blk->family != family)
			continue;
		for (b = 0; b < blk->bits; b++)
			if ((a[b / 8] ^ blk->addr[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == blk->bits)
			return 1;
	}
	return 0;
}

/* "1.2.3.4:80", "[::1]:80" or a bare address: the address. */
struct str
authz_addr_host(struct str s)
{
	const char	*c;

	if (s.n > 0 && s.p[0] == '[') {
		c = memchr(s.p, ']', s.n);
		if (c != NULL)
			return (struct str){ s.p + 1, (size_t)(c - s.p - 1) };
		return s;
	}
	c = memchr(s.p != NULL ? s.p : "", ':', s.n);
	/* one colon: address:port; more: a bare IPv6 address */
	if (c != NULL && memchr(c + 1, ':', s.n - (size_t)(c + 1 - s.p)) ==
	    NULL)
		return (struct str){ s.p, (size_t)(c - s.p) };
	return s;
}

/* "1.2.3.4:80", "[::1]:80": the port, 0 when there is none. */
uint32_t
authz_addr_port(struct str s)
{
	const char	*p, *end = s.p + s.n;
	uint32_t	 port = 0;

	if (s.n == 0)
		return 0;
	if (s.p[0] == '[') {
		if ((p = memchr(s.p, ']', s.n)) == NULL)
			return 0;
		p++;
	} else if ((p = memchr(s.p, ':', s.n)) == NULL ||
	    memchr(p + 1, ':', (size_t)(end - p - 1)) != NULL)
		return 0;
	if (p >= end || *p != ':' || end - p < 2 || end - p > 6)
		return 0;
	for (p++; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		port = port * 10 + (uint32_t)(*p - '0');
	}
	return port <= 65535 ? port : 0;
}

/*
 * principals and source.principal: Istio's StringMatcherWithPrefix with
 * "spiffe://": the value names the identity without its scheme, "*" is
 * any identity, "*suffix" one that ends so, "prefix*" one that starts
 * with spiffe://prefix.  principal is the peer's URI; one written
 * without the scheme is taken as if it had it.
 */
int
authz_principal_match(const char *pat, struct str principal)
{
	size_t	 n = strlen(pat), pl = sizeof(SPIFFE_PREFIX) - 1;

	if (principal.n == 0)
		return 0;
	if (match_prefix(principal, SPIFFE_PREFIX, pl, 0)) {
		if (n == 1 && pat[0] == '*')
			return 1;
		if (n > 0 && pat[0] == '*')
			return match_suffix(principal, pat + 1, n - 1, 0);
		principal.p += pl;
		principal.n -= pl;
		return authz_value_match(pat, principal, 0);
	}
	return authz_value_match(pat, principal, 0);
}

/*
 * namespaces and source.namespace: Istio's regex ".*\/ns/V/.*" over the
 * peer's URI, '*' in V any text: some "/ns/" is followed by a run
 * matching V, then a '/'.
 */
static int
namespace_match(const char *pat, struct str p)
{
	size_t	 i, j;
	struct str run;

	for (i = 0; i + 4 <= p.n; i++) {
		if (memcmp(p.p + i, "/ns/", 4) != 0)
			continue;
		for (j = i + 4; j < p.n; j++) {
			if (p.p[j] != '/')
				continue;
			run = (struct str){ p.p + i + 4, j - i - 4 };
			/* '*' alone: ".*", so an empty run matches too */
			if (strcmp(pat, "*") == 0 ||
			    authz_value_match(pat, run, 0))
				return 1;
		}
	}
	return 0;
}

int
authz_namespace_values_match(const struct authz_values *vals,
    struct str principal)
{
	size_t	 i;

	for (i = 0; principal.n > 0 && i < vals->n; i++)
		if (namespace_match(vals->v[i], principal))
			return 1;
	return 0;
}

/*
 * serviceAccounts and source.serviceAccount, "ns/sa": Istio's regex
 * "spiffe://.+/ns/NS/(.+/|)sa/SA(/.+)?" over the peer's URI.
 */
static int
service_account_match(const char *nssa, struct str p)
{
	const char	*slash = strchr(nssa, '/');
	char		 nspart[400];
	size_t		 nn, sl, i, k, pl = sizeof(SPIFFE_PREFIX) - 1;
	const char	*sa;
	int		 n;

	if (slash == NULL)
		return 0;
	/* an identity written without its scheme is taken as if it had it */
	if (!match_prefix(p, SPIFFE_PREFIX, pl, 0))
		pl = 0;
	n = snprintf(nspart, sizeof(nspart), "/ns/%.*s/",
	    (int)(slash - nssa), nssa);
	if (n < 0 || (size_t)n >= sizeof(nspart))
		return 0;
	nn = (size_t)n;
	sa = slash + 1;
	sl = strlen(sa);
	for (i = pl + 1; i + nn <= p.n; i++) {
		const char *after;
		size_t left;

		if (memcmp(p.p + i, nspart, nn) != 0)
			continue;
		after = p.p + i + nn;
		left = p.n - i - nn;
		for (k = 0; k + 3 + sl <= left; k++) {
			size_t rest = left - k - 3 - sl;

			if (memcmp(after + k, "sa/", 3) != 0 ||
			    memcmp(after + k + 3, sa, sl) != 0)
				continue;
			if (k != 0 && (k < 2 || after[k - 1] != '/'))
				continue;
			if (rest == 0 || (rest >= 2 &&
			    after[k + 3 + sl] == '/'))
				return 1;
		}
	}
	return 0;
}

int
authz_service_account_values_match(const struct authz_values *vals,
    struct str principal)
{
	size_t	 i;

	for (i = 0; principal.n > 0 && i < vals->n; i++)
		if (service_account_match(vals->v[i], principal))
			return 1;
	return 0;
}

/*
 * requestPrincipals and request.auth.principal: Istio splits the value
 * at its last '/' into issuer and subject and matches each claim on its
 * own ("*" is any non-empty one); a token without a subject matches
 * nothing.
 */
static int
request_principal_match(const char *v, struct str iss, const struct str *sub)
{
	const char	*slash = strrchr(v, '/');
	size_t		 n = strlen(v);
	struct str	 vi, vs;

	if (sub == NULL || sub->n == 0 || iss.n == 0)
		return 0;
	if (strcmp(v, "*") == 0)
		return 1;
	vi = (struct str){ v, slash != NULL ? (size_t)(slash - v) : n };
	vs = slash != NULL ? (struct str){ slash + 1, n - vi.n - 1 } :
	    (struct str){ "", 0 };
	if (v[0] == '*') {
		if (slash == NULL)
			return match_suffix(*sub, v + 1, n - 1, 0);
		if (!(vi.n == 1 || match_suffix(iss, vi.p + 1, vi.n - 1, 0)))
			return 0;
		return sub->n == vs.n && memcmp(sub->p, vs.p, vs.n) == 0;
	}
	if (n > 0 && v[n - 1] == '*') {
		if (slash == NULL)
			return match_prefix(iss, v, n - 1, 0);
		if (!(iss.n == vi.n && memcmp(iss.p, vi.p, vi.n) == 0))
			return 0;
		return vs.n == 1 || match_prefix(*sub, vs.p, vs.n - 1, 0);
	}
	return iss.n == vi.n && memcmp(iss.p, vi.p, vi.n) == 0 &&
	    sub->n == vs.n && memcmp(sub->p, vs.p, vs.n) == 0;
}

int
authz_request_principal_values_match(const struct authz_values *vals,
    const struct jwt *t)
{
	struct str	 iss, sub;
	size_t		 i;

	if (t == NULL || t->iss == NULL)
		return 0;
	iss = (struct str){ t->iss, strlen(t->iss) };
	if (t->sub != NULL)
		sub = (struct str){ t->sub, strlen(t->sub) };
	for (i = 0; i < vals->n; i++)
		if (request_principal_match(vals->v[i], iss, t->sub != NULL ?
		    &sub : NULL))
			return 1;
	return 0;
}

/* The next value of header name (lower case) from index *i on. */
static const struct str *
header_next(const struct authz_request *r, const char *name, size_t n,
    size_t *i)
{
	for (; *i < r->nheaders; (*i)++)
		if (r->header_names[*i].n == n &&
		    memcmp(r->header_names[*i].p, name, n) == 0)
			return &r->header_values[(*i)++];
	return NULL;
}

/* The length of the values joined with ','; 0 with none (*any 0). */
static size_t
joined_len(const struct authz_request *r, const char *name, size_t n,
    int *any)
{
	const struct str	*v;
	size_t			 i = 0, len = 0;

	*any = 0;
	while ((v = header_next(r, name, n, &i)) != NULL) {
		len += v->n + (*any ? 1 : 0);
		*any = 1;
	}
	return len;
}

/* Compare pat with the joined values from offset off: 0 when equal. */
static int
joined_cmp(const struct authz_request *r, const char *name, size_t n,
    size_t off, const char *pat, size_t plen)
{
	const struct str	*v;
	size_t			 i = 0, pos = 0, k;
	int			 first = 1;

	while (plen > 0 && (v = header_next(r, name, n, &i)) != NULL) {
		if (!first) {
			if (pos >= off) {
				if (*pat != ',')
					return 1;
				pat++;
				plen--;
			}
			pos++;
		}
		first = 0;
		for (k = off > pos ? off - pos : 0; k < v->n && plen > 0;
		    k++) {
			if (v->p[k] != *pat)
				return 1;
			pat++;
			plen--;
		}
		pos += v->n;
	}
	return plen != 0;
}

/*
 * request.headers[name]: Envoy matches the values of a repeated header
 * joined with ',' (HeaderUtility::getAllOfHeaderAsString); "*" is the
 * header present, even empty.
 */
int
authz_header_values_match(const struct authz_values *vals,
    const struct authz_request *r, const char *name)
{
	size_t		 i, len, plen, n = strlen(name);
	const char	*pat;
	int		 any;

	len = joined_len(r, name, n, &any);
	if (!any)
		return 0;
	for (i = 0; i < vals->n; i++) {
		pat = vals->v[i];
		plen = strlen(pat);
		if (plen == 1 && pat[0] == '*')
			return 1;
		if (plen > 0 && pat[plen - 1] == '*') {
			if (len >= plen - 1 && joined_cmp(r, name, n, 0, pat,
			    plen - 1) == 0)
				return 1;
		} else if (plen > 0 && pat[0] == '*') {
			if (len >= plen - 1 && joined_cmp(r, name, n,
			    len - plen + 1, pat + 1, plen - 1) == 0)
				return 1;
		} else if (len == plen && joined_cmp(r, name, n, 0, pat,
		    plen) == 0)
			return 1;
	}
	return 0;
}

/*
 * A claim matches when it is a string that matches or a list holding a
 * string that does: Istio's matcher is a string matcher or a list one,
 * so a number or a boolean matches nothing.  words: the claim is one of
 * the space-delimited ones, whose string Envoy splits into a list.
 */
int
authz_claim_values_match(const struct json *j, int words,
    const struct authz_values *vals)
{
	size_t	 i;

	if (j == NULL)
		return 0;
	if (j->type == JSON_STRING && words) {
		const char *p = j->string, *e;

		while (*p != '\0') {
			while (*p == ' ')
				p++;
			e = p;
			while (*e != '\0' && *e != ' ')
				e++;
			if (e > p && authz_values_match(vals,
			    (struct str){ p, (size_t)(e - p) }, 0))
				return 1;
			p = e;
		}
		return 0;
	}
	if (j->type == JSON_STRING)
		return authz_values_match(vals, (struct str){ j->string,
		    j->len }, 0);
	if (j->type != JSON_ARRAY)
		return 0;
	for (i = 0; i < j->n; i++)
		if (j->values[i]->type == JSON_STRING &&
		    authz_values_match(vals, (struct str){ j->values[i]->string,
		    j->values[i]->len }, 0))
			return 1;
	return 0;
}

uint32_t
authz_destination_port(struct str s)
{
	return authz_addr_port(s);
}

int
authz_destination_ok(struct str s)
{
	struct str	 host = authz_addr_host(s);
	char		 buf[64];
	unsigned char	 a[16];

	if (host.n == 0 || host.n >= sizeof(buf))
		return 0;
	memcpy(buf, host.p, host.n);
	buf[host.n] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ||
	    inet_pton(AF_INET6, buf, a) == 1;
}
