/*
 * The authorization decision of authz.h.  Authentication first
 * (authz_authn.c): a bad token ends the decision with 401.  Then the
 * AuthorizationPolicies that apply, in Istio's order: CUSTOM, DENY, ALLOW
 * (with no ALLOW policy everything is allowed; with some, only what one
 * of them matches), AUDIT noted in the reason only.
 *
 * Every field of the question a decision reads is named in the answer's
 * vary, so that proxy-d may reuse the answer for questions agreeing on
 * them; a decision that verified a token is never reused past its expiry.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "authz_impl.h"
#include "config.h"
#include "json.h"
#include "jwt.h"
#include "uri.h"
#include "util.h"

static void	 authz_vary_header(struct authz_ctx *, const char *, size_t);
static int	 authz_value_match(const char *, struct str, int);
static int	 authz_path_match(const char *, const char *);
static int	 authz_path_chars(const char *, size_t, const char *);
static int	 authz_values_match(const struct authz_values *, struct str,
		    int);
static int	 authz_ip_match(const struct authz_values *, struct str);
static int	 authz_host_match(const struct authz_values *, struct str);
static struct str authz_source_addr(struct str);
static struct str authz_namespace_of(struct str);
static int	 authz_field(struct authz_ctx *, const struct authz_values *,
		    const struct authz_values *, int);
static int	 authz_source_matches(struct authz_ctx *,
		    const struct authz_source *);
static int	 authz_operation_matches(struct authz_ctx *,
		    const struct authz_operation *);
static int	 authz_claim_matches(struct authz_ctx *,
		    const struct authz_condition *, const struct authz_values *);
static int	 authz_condition_matches(struct authz_ctx *,
		    const struct authz_condition *);
static int	 authz_rule_matches(struct authz_ctx *,
		    const struct authz_rule *);
static int	 authz_policy_matches(struct authz_ctx *,
		    const struct authorization_policy *, size_t *);
static void	 authz_finish(struct authz_ctx *);
static void	 authz_set_path(struct authz_ctx *, struct str);

void
authz_answer_reset(struct authz_answer *a, uint64_t id)
{
	a->id = id;
	a->has_id = 1;
	a->decision = AUTHZ_DECISION_ALLOW;
	a->status = 0;
	a->body[0] = '\0';
	a->principal[0] = '\0';
	a->nops = 0;
	a->pool_used = 0;
	a->reuse_ms = 0;
	a->vary[0] = '\0';
	a->reason[0] = '\0';
}

int
authz_answer_op(struct authz_answer *a, int remove, struct str name,
    struct str value)
{
	char	*p;

	if (a->nops == AUTHZ_MAX_HEADER_OPS ||
	    name.n + value.n + 2 > sizeof(a->pool) - a->pool_used)
		return -1;
	p = a->pool + a->pool_used;
	memcpy(p, name.p, name.n);
	p[name.n] = '\0';
	memcpy(p + name.n + 1, value.p, value.n);
	p[name.n + 1 + value.n] = '\0';
	a->ops[a->nops].remove = remove;
	a->ops[a->nops].name = p;
	a->ops[a->nops].value = p + name.n + 1;
	a->nops++;
	a->pool_used += name.n + value.n + 2;
	return 0;
}

/* The selector and namespace rules of Istio's policy attachment. */
int
authz_applies(const struct authz_ctx *c, const char *ns,
    const struct labels *selector, int has_selector)
{
	size_t	 i, j;

	if (strcmp(ns, c->root_ns) != 0 &&
	    !util_str_eq(c->src->namespace, ns))
		return 0;
	if (!has_selector)
		return 1;
	for (i = 0; i < selector->n; i++) {
		for (j = 0; j < c->src->nlabels; j++)
			if (util_str_eq(c->src->label_keys[j],
			    selector->keys[i]) &&
			    util_str_eq(c->src->label_values[j],
			    selector->values[i]))
				break;
		if (j == c->src->nlabels)
			return 0;
	}
	return 1;
}

static void
authz_vary_header(struct authz_ctx *c, const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < c->nvary_headers; i++)
		if (c->vary_headers[i].n == n &&
		    memcmp(c->vary_headers[i].p, name, n) == 0)
			return;
	if (c->nvary_headers == VARY_MAX_HEADERS) {
		c->vary_overflow = 1;
		return;
	}
	c->vary_headers[c->nvary_headers].p = name;
	c->vary_headers[c->nvary_headers].n = n;
	c->nvary_headers++;
}

/* The first header named name (lower case) from index *from on. */
const struct str *
authz_header(struct authz_ctx *c, const char *name, size_t n, size_t *from)
{
	const struct authz_request	*r = c->req;
	size_t				 i;

	authz_vary_header(c, name, n);
	for (i = *from; i < r->nheaders; i++)
		if (r->header_names[i].n == n &&
		    memcmp(r->header_names[i].p, name, n) == 0) {
			*from = i + 1;
			return &r->header_values[i];
		}
	*from = r->nheaders;
	return NULL;
}

/* Istio's string forms: exact, "prefix*", "*suffix", "*" (present). */
static int
authz_value_match(const char *pat, struct str v, int caseless)
{
	size_t	 n = strlen(pat);

	if (n == 1 && pat[0] == '*')
		return v.n > 0;
	if (n > 0 && pat[n - 1] == '*') {
		n--;
		return v.n >= n && (caseless ? strncasecmp(v.p, pat, n) :
		    memcmp(v.p, pat, n)) == 0;
	}
	if (n > 0 && pat[0] == '*') {
		n--;
		return v.n >= n && (caseless ? strncasecmp(v.p + v.n - n,
		    pat + 1, n) : memcmp(v.p + v.n - n, pat + 1, n)) == 0;
	}
	return v.n == n && (caseless ? strncasecmp(v.p, pat, n) :
	    memcmp(v.p, pat, n)) == 0;
}

/*
 * Envoy's uri_template match, which Istio's path templates become: {*}
 * is one segment of path characters; {**} is any run of path characters
 * and '/', and only literal text may follow it, which the path must end
 * with.
 */
static int
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

static int
authz_values_match(const struct authz_values *vals, struct str v,
    int caseless)
{
	size_t	 i;

	for (i = 0; i < vals->n; i++)
		if (authz_value_match(vals->v[i], v, caseless))
			return 1;
	return 0;
}

/* "1.2.3.4:80", "[::1]:80" or a bare address: the address. */
static struct str
authz_source_addr(struct str s)
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

static int
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

/* Hosts match case-insensitively, with or without the request's port. */
static int
authz_host_match(const struct authz_values *vals, struct str host)
{
	const char	*c;
	struct str	 bare = host;

	if (authz_values_match(vals, host, 1))
		return 1;
	if (host.n > 0 && (c = memrchr(host.p, ':', host.n)) != NULL &&
	    memchr(c, ']', host.n - (size_t)(c - host.p)) == NULL) {
		bare.n = (size_t)(c - host.p);
		return authz_values_match(vals, bare, 1);
	}
	return 0;
}

/* "cluster.local/ns/NS/sa/SA" (or spiffe://...): NS. */
static struct str
authz_namespace_of(struct str principal)
{
	const char	*p = principal.p, *end, *ns, *slash;

	if (p == NULL)
		return (struct str){ NULL, 0 };
	end = p + principal.n;
	for (; p + 4 <= end; p++)
		if (memcmp(p, "/ns/", 4) == 0) {
			ns = p + 4;
			slash = memchr(ns, '/', (size_t)(end - ns));
			return (struct str){ ns, slash != NULL ?
			    (size_t)(slash - ns) : (size_t)(end - ns) };
		}
	return (struct str){ NULL, 0 };
}

/*
 * One field of a source or operation: which value of the request it
 * reads, then its values (one must match) and not-values (none may).
 */
enum {
	FIELD_PRINCIPAL, FIELD_REQUEST_PRINCIPAL, FIELD_NAMESPACE,
	FIELD_SOURCE_IP, FIELD_REMOTE_IP, FIELD_HOST, FIELD_PORT,
	FIELD_METHOD, FIELD_PATH,
};

static int
authz_field(struct authz_ctx *c, const struct authz_values *yes,
    const struct authz_values *no, int field)
{
	const struct authz_request	*r = c->req;
	struct str			 v = { NULL, 0 };
	char				 port[12];
	int				 m;

	if (!yes->present && !no->present)
		return 1;
	switch (field) {
	case FIELD_PRINCIPAL:
	case FIELD_NAMESPACE:
		c->vary |= VARY_PRINCIPAL;
		v = field == FIELD_PRINCIPAL ? r->principal :
		    authz_namespace_of(r->principal);
		break;
	case FIELD_REQUEST_PRINCIPAL:
		if (c->id.present)
			v = (struct str){ c->id.principal,
			    strlen(c->id.principal) };
		break;
	case FIELD_SOURCE_IP:
	case FIELD_REMOTE_IP:
		c->vary |= VARY_SOURCE_IP;
		v = authz_source_addr(r->source);
		if (field == FIELD_REMOTE_IP) {
			c->vary |= VARY_REMOTE;
			if (r->remote.n > 0)
				v = r->remote;
		}
		if (yes->present && !authz_ip_match(yes, v))
			return 0;
		return !(no->present && authz_ip_match(no, v));
	case FIELD_HOST:
		c->vary |= VARY_AUTHORITY;
		if (yes->present && !authz_host_match(yes, r->authority))
			return 0;
		return !(no->present && authz_host_match(no, r->authority));
	case FIELD_PORT:
		c->vary |= VARY_PORT;
		if (r->port != 0) {
			snprintf(port, sizeof(port), "%u", r->port);
			v = (struct str){ port, strlen(port) };
		}
		break;
	case FIELD_METHOD:
		c->vary |= VARY_METHOD;
		v = r->method;
		break;
	case FIELD_PATH: {
		size_t i;

		c->vary |= VARY_PATH;
		m = 0;
		for (i = 0; yes->present && i < yes->n && !m; i++)
			m = authz_path_match(yes->v[i], c->path);
		if (yes->present && !m)
			return 0;
		for (i = 0; no->present && i < no->n; i++)
			if (authz_path_match(no->v[i], c->path))
				return 0;
		return 1;
	}
	}
	if (yes->present && (v.n == 0 || !authz_values_match(yes, v, 0)))
		return 0;
	return !(no->present && v.n > 0 && authz_values_match(no, v, 0));
}

static int
authz_source_matches(struct authz_ctx *c, const struct authz_source *s)
{
	static const int fields[SOURCE_NFIELDS] = {
		[SOURCE_PRINCIPALS] = FIELD_PRINCIPAL,
		[SOURCE_REQUEST_PRINCIPALS] = FIELD_REQUEST_PRINCIPAL,
		[SOURCE_NAMESPACES] = FIELD_NAMESPACE,
		[SOURCE_IP_BLOCKS] = FIELD_SOURCE_IP,
		[SOURCE_REMOTE_IP_BLOCKS] = FIELD_REMOTE_IP,
	};
	size_t	 f;

	for (f = 0; f < SOURCE_NFIELDS; f++)
		if (!authz_field(c, &s->values[f], &s->not_values[f],
		    fields[f]))
			return 0;
	return 1;
}

static int
authz_operation_matches(struct authz_ctx *c, const struct authz_operation *o)
{
	static const int fields[OPERATION_NFIELDS] = {
		[OPERATION_HOSTS] = FIELD_HOST,
		[OPERATION_PORTS] = FIELD_PORT,
		[OPERATION_METHODS] = FIELD_METHOD,
		[OPERATION_PATHS] = FIELD_PATH,
	};
	size_t	 f;

	for (f = 0; f < OPERATION_NFIELDS; f++)
		if (!authz_field(c, &o->values[f], &o->not_values[f],
		    fields[f]))
			return 0;
	return 1;
}

const struct json *
authz_claim(const struct json *claims, char **path, size_t n)
{
	const struct json	*j = claims;
	size_t			 i;

	for (i = 0; i < n && j != NULL; i++)
		j = json_get(j, path[i]);
	return j;
}

/*
 * A claim matches when it is a string that matches, a list holding one
 * that does, or (scope, permission and the rule's spaceDelimitedClaims)
 * a string whose space-separated words hold one.  Numbers and booleans
 * match as their JSON text.
 */
static int
authz_claim_matches(struct authz_ctx *c, const struct authz_condition *cond,
    const struct authz_values *vals)
{
	const struct json	*j;
	const char		*name = cond->claim[cond->nclaim - 1];
	size_t			 i, k;
	int			 words = 0;

	if (!c->id.present)
		return 0;
	j = authz_claim(c->id.token.claims, cond->claim, cond->nclaim);
	if (j == NULL)
		return 0;
	if (cond->nclaim == 1) {
		words = strcmp(name, "scope") == 0 ||
		    strcmp(name, "permission") == 0;
		for (k = 0; k < c->id.rule->nspace_delimited_claims; k++)
			if (strcmp(c->id.rule->space_delimited_claims[k],
			    name) == 0)
				words = 1;
	}
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
	if (j->type == JSON_STRING || j->type == JSON_NUMBER)
		return authz_values_match(vals, (struct str){ j->string,
		    j->len }, 0);
	if (j->type == JSON_BOOL)
		return authz_values_match(vals, j->boolean ?
		    STR_LIT("true") : STR_LIT("false"), 0);
	if (j->type != JSON_ARRAY)
		return 0;
	for (i = 0; i < j->n; i++)
		if (j->values[i]->type == JSON_STRING &&
		    authz_values_match(vals, (struct str){ j->values[i]->string,
		    j->values[i]->len }, 0))
			return 1;
	return 0;
}

static int
authz_condition_matches(struct authz_ctx *c, const struct authz_condition *w)
{
	const struct authz_request	*r = c->req;
	const struct str		*h;
	const struct json		*aud;
	struct str			 v = { NULL, 0 };
	size_t				 from, i;
	char				 port[12];
	int				 m;

	switch (w->kind) {
	case KEY_REQUEST_HEADER: {
		int any = 0, none = 1;

		from = 0;
		while ((h = authz_header(c, w->header, strlen(w->header),
		    &from)) != NULL) {
			if (w->values.present &&
			    authz_values_match(&w->values, *h, 0))
				any = 1;
			if (w->not_values.present &&
			    authz_values_match(&w->not_values, *h, 0))
				none = 0;
		}
		return (!w->values.present || any) && none;
	}
	case KEY_SOURCE_IP:
	case KEY_REMOTE_IP:
		c->vary |= VARY_SOURCE_IP;
		v = authz_source_addr(r->source);
		if (w->kind == KEY_REMOTE_IP) {
			c->vary |= VARY_REMOTE;
			if (r->remote.n > 0)
				v = r->remote;
		}
		if (w->values.present && !authz_ip_match(&w->values, v))
			return 0;
		return !(w->not_values.present &&
		    authz_ip_match(&w->not_values, v));
	case KEY_DESTINATION_IP:
		/* proxy-d does not say: only notValues can hold */
		return !w->values.present;
	case KEY_SOURCE_NAMESPACE:
		c->vary |= VARY_PRINCIPAL;
		v = authz_namespace_of(r->principal);
		break;
	case KEY_SOURCE_PRINCIPAL:
		c->vary |= VARY_PRINCIPAL;
		v = r->principal;
		break;
	case KEY_REQUEST_PRINCIPAL:
		if (c->id.present)
			v = (struct str){ c->id.principal,
			    strlen(c->id.principal) };
		break;
	case KEY_REQUEST_PRESENTER:
		if (c->id.present && c->id.token.azp != NULL)
			v = (struct str){ c->id.token.azp,
			    strlen(c->id.token.azp) };
		break;
	case KEY_REQUEST_AUDIENCES:
		if (!c->id.present)
			return !w->values.present;
		aud = json_get(c->id.token.claims, "aud");
		m = 0;
		for (i = 0; aud != NULL && i < (aud->type == JSON_ARRAY ?
		    aud->n : 1); i++) {
			const struct json *a1 = aud->type == JSON_ARRAY ?
			    aud->values[i] : aud;
			struct str s;

			if (a1->type != JSON_STRING)
				continue;
			s = (struct str){ a1->string, a1->len };
			if (w->not_values.present &&
			    authz_values_match(&w->not_values, s, 0))
				return 0;
			if (w->values.present &&
			    authz_values_match(&w->values, s, 0))
				m = 1;
		}
		return !w->values.present || m;
	case KEY_REQUEST_CLAIM:
		if (w->values.present && !authz_claim_matches(c, w,
		    &w->values))
			return 0;
		return !(w->not_values.present && authz_claim_matches(c, w,
		    &w->not_values));
	case KEY_DESTINATION_PORT:
		c->vary |= VARY_PORT;
		if (r->port != 0) {
			snprintf(port, sizeof(port), "%u", r->port);
			v = (struct str){ port, strlen(port) };
		}
		break;
	case KEY_CONNECTION_SNI:
		c->vary |= VARY_SNI;
		v = r->sni;
		break;
	}
	if (w->values.present && (v.n == 0 ||
	    !authz_values_match(&w->values, v, 0)))
		return 0;
	return !(w->not_values.present && v.n > 0 &&
	    authz_values_match(&w->not_values, v, 0));
}

static int
authz_rule_matches(struct authz_ctx *c, const struct authz_rule *r)
{
	size_t	 i;
	int	 m;

	if (r->nfrom > 0) {
		for (i = 0, m = 0; i < r->nfrom && !m; i++)
			m = authz_source_matches(c, &r->from[i]);
		if (!m)
			return 0;
	}
	if (r->nto > 0) {
		for (i = 0, m = 0; i < r->nto && !m; i++)
			m = authz_operation_matches(c, &r->to[i]);
		if (!m)
			return 0;
	}
	for (i = 0; i < r->nwhen; i++)
		if (!authz_condition_matches(c, &r->when[i]))
			return 0;
	return 1;
}

/* No rules: matches nothing (spec: {} denies all under ALLOW). */
static int
authz_policy_matches(struct authz_ctx *c,
    const struct authorization_policy *p, size_t *rule)
{
	size_t	 i;

	for (i = 0; i < p->nrules; i++)
		if (authz_rule_matches(c, &p->rules[i])) {
			*rule = i;
			return 1;
		}
	return 0;
}

/*
 * The path the policies match: its query cut, normalized as proxy-d's
 * default pathNormalization (BASE, lib/uri.c) does, which leaves a path
 * that proxy-d normalized in any mode as it is.  One that cannot be
 * normalized (a question from another asker, or proxy-d under NONE) is
 * matched as it came, as Istio matches under NONE: never "matches no
 * rule", which would let it past a DENY.  Any length: a long path must
 * not escape the policies either.
 */
static void
authz_set_path(struct authz_ctx *c, struct str path)
{
	const char	*q, *why;
	char		*buf = c->pathbuf;
	size_t		 n = path.p != NULL ? path.n : 0;
	ssize_t		 r;

	if (n > 0 && (q = memchr(path.p, '?', n)) != NULL)
		n = (size_t)(q - path.p);
	if (n == 0) {
		c->path = "/";
		return;
	}
	if (n >= sizeof(c->pathbuf))
		buf = c->pathheap = xmalloc(n + 1);
	if ((r = uri_normalize(path.p, n, URI_NORMALIZE_BASE, buf,
	    &why)) < 0) {
		memcpy(buf, path.p, n);
		r = (ssize_t)n;
	}
	buf[r] = '\0';
	c->path = buf;
}

static void
authz_finish(struct authz_ctx *c)
{
	struct authz_answer	*a = c->a;
	static const struct { unsigned bit; const char *name; } words[] = {
		{ VARY_AUTHORITY, "authority" }, { VARY_PORT, "port" },
		{ VARY_METHOD, "method" }, { VARY_PATH, "path" },
		{ VARY_SOURCE_IP, "source-ip" }, { VARY_REMOTE, "remote" },
		{ VARY_PRINCIPAL, "principal" }, { VARY_SNI, "sni" },
	};
	size_t			 i, o = 0;
	int			 n;
	double			 left;

	for (i = 0; i < nitems(words); i++)
		if (c->vary & words[i].bit) {
			n = snprintf(a->vary + o, sizeof(a->vary) - o, "%s%s",
			    o == 0 ? "" : " ", words[i].name);
			if (n < 0 || (size_t)n >= sizeof(a->vary) - o)
				c->vary_overflow = 1;
			else
				o += (size_t)n;
		}
	for (i = 0; i < c->nvary_headers && !c->vary_overflow; i++) {
		n = snprintf(a->vary + o, sizeof(a->vary) - o, "%sheader:%.*s",
		    o == 0 ? "" : " ", (int)c->vary_headers[i].n,
		    c->vary_headers[i].p);
		if (n < 0 || (size_t)n >= sizeof(a->vary) - o)
			c->vary_overflow = 1;
		else
			o += (size_t)n;
	}
	a->reuse_ms = c->env->reuse_ms;
	if (c->vary_overflow) {
		a->reuse_ms = 0;	/* cannot say what it depends on */
		a->vary[0] = '\0';
	}
	if (c->id.present) {
		/* never past the token's expiry (without the skew) */
		left = (c->id.token.exp - (double)c->env->now) * 1000.0;
		if (left <= 0)
			a->reuse_ms = 0;
		else if (left < (double)a->reuse_ms)
			a->reuse_ms = (uint64_t)left;
		snprintf(a->principal, sizeof(a->principal), "%s",
		    c->id.principal);
	}
	jwt_fini(&c->id.token);
	free(c->pathheap);
	c->pathheap = NULL;
}

void
authz_decide(const struct config *cfg, const struct authz_env *env,
    const struct msg_source *src, const struct authz_request *req,
    struct authz_answer *a)
{
	struct authz_ctx			 c;
	const struct authorization_policy	*p;
	const struct authorization_policy	*audit = NULL;
	size_t					 i, rule = 0, audit_rule = 0;
	int					 pass, nallow = 0;
	static const enum authz_action order[] = { AUTHZ_CUSTOM,
	    AUTHZ_DENY, AUTHZ_ALLOW };

	authz_answer_reset(a, req->id);
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.env = env;
	c.src = src;
	c.req = req;
	c.a = a;
	c.root_ns = env->root_namespace != NULL ? env->root_namespace :
	    AUTHZ_ROOT_NAMESPACE;
	authz_set_path(&c, req->path);

	if (authz_authenticate(&c) == -1) {
		a->decision = AUTHZ_DECISION_DENY;
		a->status = 401;
		util_strlcpy(a->body, AUTHZ_BODY_401, sizeof(a->body));
		a->nops = 0;
		a->pool_used = 0;
		c.id.present = 0;
		authz_finish(&c);
		return;
	}
	for (pass = 0; pass < (int)nitems(order); pass++) {
		for (i = 0; i < cfg->nauthorization_policies; i++) {
			p = &cfg->authorization_policies[i];
			if (p->action != order[pass] || !authz_applies(&c,
			    p->meta.namespace, &p->selector, p->has_selector))
				continue;
			if (p->action == AUTHZ_ALLOW)
				nallow++;
			if (!authz_policy_matches(&c, p, &rule))
				continue;
			if (p->action == AUTHZ_ALLOW) {
				snprintf(a->reason, sizeof(a->reason),
				    "allowed by ALLOW policy %s/%s rules[%zu]",
				    p->meta.namespace, p->meta.name, rule);
				goto allow;
			}
			a->decision = AUTHZ_DECISION_DENY;
			a->status = 403;
			util_strlcpy(a->body, AUTHZ_BODY_403, sizeof(a->body));
			if (p->action == AUTHZ_CUSTOM)
				snprintf(a->reason, sizeof(a->reason),
				    "denied: CUSTOM policy %s/%s rules[%zu] "
				    "matched and meshkit has no provider %s",
				    p->meta.namespace, p->meta.name, rule,
				    p->provider);
			else
				snprintf(a->reason, sizeof(a->reason),
				    "denied by DENY policy %s/%s rules[%zu]",
				    p->meta.namespace, p->meta.name, rule);
			goto out;
		}
		if (order[pass] == AUTHZ_ALLOW && nallow > 0) {
			a->decision = AUTHZ_DECISION_DENY;
			a->status = 403;
			util_strlcpy(a->body, AUTHZ_BODY_403, sizeof(a->body));
			snprintf(a->reason, sizeof(a->reason), "denied: none "
			    "of %d ALLOW polic%s matched", nallow,
			    nallow == 1 ? "y" : "ies");
			goto out;
		}
	}
	snprintf(a->reason, sizeof(a->reason), "allowed: no ALLOW policy "
	    "for the workload, no DENY policy matched");
allow:
	a->decision = AUTHZ_DECISION_ALLOW;
	for (i = 0; i < cfg->nauthorization_policies && audit == NULL; i++) {
		p = &cfg->authorization_policies[i];
		if (p->action == AUTHZ_AUDIT && authz_applies(&c,
		    p->meta.namespace, &p->selector, p->has_selector) &&
		    authz_policy_matches(&c, p, &audit_rule))
			audit = p;
	}
	if (audit != NULL) {
		size_t o = strlen(a->reason);

		snprintf(a->reason + o, sizeof(a->reason) - o, "; audited by "
		    "%s/%s rules[%zu]", audit->meta.namespace,
		    audit->meta.name, audit_rule);
	}
out:
	if (a->decision == AUTHZ_DECISION_DENY) {
		/* nothing to forward: the request goes no further */
		a->nops = 0;
		a->pool_used = 0;
	}
	if (c.id.present && a->reason[0] != '\0') {
		size_t o = strlen(a->reason);

		snprintf(a->reason + o, sizeof(a->reason) - o, "; principal "
		    "%s", c.id.principal);
	}
	authz_finish(&c);
}
