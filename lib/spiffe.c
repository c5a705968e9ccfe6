/* SPDX-License-Identifier: ISC */
/*
 * SPIFFE IDs (spiffe.h).  The rules are the SPIFFE ID specification's:
 * a lower-case trust domain, path segments of letters, digits, '.', '-'
 * and '_', none of them empty, "." or "..".  Istio's IDs have exactly
 * four segments: ns, the namespace, sa, the service account.
 */
#include <stdio.h>
#include <string.h>

#include "spiffe.h"
#include "util.h"

static int	spiffe_segment_char(int);

int
spiffe_trust_domain_ok(struct str s)
{
	size_t	 i;

	if (s.n == 0 || s.n > 255)
		return 0;
	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int
spiffe_segment_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int
spiffe_segment_ok(struct str s)
{
	size_t	 i;

	if (s.n == 0 || s.n > 253 || util_str_eq(s, ".") ||
	    util_str_eq(s, ".."))
		return 0;
	for (i = 0; i < s.n; i++)
		if (!spiffe_segment_char((unsigned char)s.p[i]))
			return 0;
	return 1;
}

int
spiffe_id_format(char *buf, size_t len, const char *td, const char *ns,
    const char *sa, char *err, size_t errlen)
{
	struct str	 s;
	int		 n;

	s.p = td;
	s.n = strlen(td);
	if (!spiffe_trust_domain_ok(s)) {
		snprintf(err, errlen, "trust domain \"%.64s\" is not a SPIFFE "
		    "trust domain (a-z, 0-9, '.', '-', '_')", td);
		return -1;
	}
	s.p = ns;
	s.n = strlen(ns);
	if (!spiffe_segment_ok(s)) {
		snprintf(err, errlen, "namespace \"%.64s\" cannot be part of "
		    "a SPIFFE ID", ns);
		return -1;
	}
	s.p = sa;
	s.n = strlen(sa);
	if (!spiffe_segment_ok(s)) {
		snprintf(err, errlen, "service account \"%.64s\" cannot be "
		    "part of a SPIFFE ID", sa);
		return -1;
	}
	n = snprintf(buf, len, SPIFFE_SCHEME "%s/ns/%s/sa/%s", td, ns, sa);
	if (n < 0 || (size_t)n >= len || (size_t)n > SPIFFE_ID_MAX) {
		snprintf(err, errlen, "SPIFFE ID too long");
		return -1;
	}
	return 0;
}

int
spiffe_id_parse(struct str s, struct spiffe_id *id, char *err,
    size_t errlen)
{
	const char	*p, *end, *slash;
	struct str	 seg[5];
	size_t		 n = 0, plen = sizeof(SPIFFE_SCHEME) - 1;

	memset(id, 0, sizeof(*id));
	if (s.n > SPIFFE_ID_MAX) {
		snprintf(err, errlen, "SPIFFE ID longer than %d bytes",
		    SPIFFE_ID_MAX);
		return -1;
	}
	if (s.n < plen || memcmp(s.p, SPIFFE_SCHEME, plen) != 0) {
		snprintf(err, errlen, "not a spiffe:// URI");
		return -1;
	}
	p = s.p + plen;
	end = s.p + s.n;
	for (;;) {
		if (n == nitems(seg)) {
			n++;	/* one segment too many */
			break;
		}
		slash = memchr(p, '/', (size_t)(end - p));
		seg[n].p = p;
		seg[n++].n = (size_t)((slash != NULL ? slash : end) - p);
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (n != 5) {
		snprintf(err, errlen, "want spiffe://TRUST-DOMAIN/ns/NAMESPACE/"
		    "sa/SERVICE-ACCOUNT");
		return -1;
	}
	if (!spiffe_trust_domain_ok(seg[0])) {
		snprintf(err, errlen, "bad trust domain");
		return -1;
	}
	if (!util_str_eq(seg[1], "ns") || !util_str_eq(seg[3], "sa")) {
		snprintf(err, errlen, "want spiffe://TRUST-DOMAIN/ns/NAMESPACE/"
		    "sa/SERVICE-ACCOUNT");
		return -1;
	}
	if (!spiffe_segment_ok(seg[2]) || !spiffe_segment_ok(seg[4])) {
		snprintf(err, errlen, "bad namespace or service account");
		return -1;
	}
	id->trust_domain = seg[0];
	id->namespace = seg[2];
	id->service_account = seg[4];
	return 0;
}

const char *
spiffe_principal(const char *uri)
{
	size_t	 plen = sizeof(SPIFFE_SCHEME) - 1;

	if (strncmp(uri, SPIFFE_SCHEME, plen) != 0)
		return NULL;
	return uri + plen;
}
