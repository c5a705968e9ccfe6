/*
 * Authentication for the decision of authz.c: the RequestAuthentications
 * that apply to the workload give the places a token may be (headers
 * with their prefix, query parameters, cookies, or Istio's defaults); a
 * token found is verified against the rule of its issuer, and what a
 * verified token adds to the forwarded request is written into the
 * answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "authz_impl.h"
#include "config.h"
#include "json.h"
#include "jwt.h"
#include "util.h"

static int	 authz_find_token(struct authz_ctx *, const struct jwt_rule *,
		    struct str *, int *, struct str *);
static int	 authz_query_param(struct str, const char *, struct str *);
static int	 authz_cookie(struct str, const char *, struct str *);
static void	 authz_outputs(struct authz_ctx *, const struct jwt *,
		    const struct jwt_rule *, int, struct str);
static int	 authz_header_value_ok(const char *, size_t);

/* The value of query parameter name in path, undecoded. */
static int
authz_query_param(struct str path, const char *name, struct str *out)
{
	const char	*q, *end, *p, *amp, *eq;
	size_t		 n = strlen(name);

	if (path.p == NULL || (q = memchr(path.p, '?', path.n)) == NULL)
		return 0;
	end = path.p + path.n;
	for (p = q + 1; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    memcmp(p, name, n) == 0) {
			out->p = eq + 1;
			out->n = (size_t)(amp - eq - 1);
			return out->n > 0;
		}
		if (amp == end)
			break;
	}
	return 0;
}

static int
authz_cookie(struct str header, const char *name, struct str *out)
{
	const char	*p = header.p, *end = header.p + header.n, *semi, *eq;
	size_t		 n = strlen(name);

	while (p < end) {
		while (p < end && (*p == ' ' || *p == ';'))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    memcmp(p, name, n) == 0) {
			out->p = eq + 1;
			out->n = (size_t)(semi - eq - 1);
			while (out->n > 0 && out->p[out->n - 1] == ' ')
				out->n--;
			return out->n > 0;
		}
		p = semi;
	}
	return 0;
}

/*
 * The first token at one of the rule's places: *header is its header's
 * name (lower case) when it came from one, else empty.  The defaults
 * (Authorization: Bearer, then access_token) hold when the rule names
 * no place at all.
 */
static int
authz_find_token(struct authz_ctx *c, const struct jwt_rule *r,
    struct str *token, int *is_header, struct str *header)
{
	const struct str	*h;
	size_t			 i, from, plen;
	const char		*prefix, *name;
	int			 defaults = r->nfrom_headers == 0 &&
				    r->nfrom_params == 0 &&
				    r->nfrom_cookies == 0;
	size_t			 nh = defaults ? 1 : r->nfrom_headers;

	for (i = 0; i < nh; i++) {
		name = defaults ? "authorization" : r->from_headers[i].name;
		prefix = defaults ? "Bearer " : r->from_headers[i].prefix;
		plen = prefix != NULL ? strlen(prefix) : 0;
		from = 0;
		while ((h = authz_header(c, name, strlen(name), &from)) !=
		    NULL) {
			struct str v = *h;

			if (plen > 0) {
				/* the scheme of Authorization is caseless */
				if (v.n < plen || strncasecmp(v.p, prefix,
				    plen) != 0)
					continue;
				v.p += plen;
				v.n -= plen;
			}
			while (v.n > 0 && (*v.p == ' ' || *v.p == '\t')) {
				v.p++;
				v.n--;
			}
			while (v.n > 0 && (v.p[v.n - 1] == ' ' ||
			    v.p[v.n - 1] == '\t'))
				v.n--;
			if (v.n == 0)
				continue;
			*token = v;
			*is_header = 1;
			header->p = name;
			header->n = strlen(name);
			return 1;
		}
	}
	for (i = 0; i < (defaults ? 1 : r->nfrom_params); i++) {
		c->vary |= VARY_PATH;
		if (authz_query_param(c->req->path, defaults ? "access_token" :
		    r->from_params[i], token)) {
			*is_header = 0;
			return 1;
		}
	}
	for (i = 0; i < r->nfrom_cookies; i++) {
		from = 0;
		while ((h = authz_header(c, "cookie", 6, &from)) != NULL)
			if (authz_cookie(*h, r->from_cookies[i], token)) {
				*is_header = 0;
				return 1;
			}
	}
	return 0;
}

/* A claim becomes a header only if it is a valid field value. */
static int
authz_header_value_ok(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return 0;
	return 1;
}

/* What a verified token adds to the request forwarded. */
static void
authz_outputs(struct authz_ctx *c, const struct jwt *t,
    const struct jwt_rule *r, int is_header, struct str header)
{
	const struct json	*j;
	char			*path[16], buf[512];
	size_t			 i, n;

	/* an answer out of room keeps the operations that fitted */
	if (!r->forward_original_token && is_header)
		(void)authz_answer_op(c->a, 1, header, STR_LIT(""));
	if (r->output_payload_to_header != NULL)
		(void)authz_answer_op(c->a, 0, (struct str){
		    r->output_payload_to_header,
		    strlen(r->output_payload_to_header) },
		    (struct str){ t->payload, t->payload_len });
	for (i = 0; i < r->noutput_claim_to_headers; i++) {
		const struct jwt_claim_header *ch =
		    &r->output_claim_to_headers[i];
		char *s, *save = NULL;

		/* "a.b" names a nested claim */
		util_strlcpy(buf, ch->claim, sizeof(buf));
		for (n = 0, s = strtok_r(buf, ".", &save); s != NULL &&
		    n < nitems(path); s = strtok_r(NULL, ".", &save))
			path[n++] = s;
		j = json_get(t->claims, ch->claim);
		if (j == NULL && n > 1)
			j = authz_claim(t->claims, path, n);
		if (j == NULL)
			continue;
		if ((j->type == JSON_STRING || j->type == JSON_NUMBER) &&
		    authz_header_value_ok(j->string, j->len))
			(void)authz_answer_op(c->a, 0, (struct str){
			    ch->header, strlen(ch->header) },
			    (struct str){ j->string, j->len });
		else if (j->type == JSON_BOOL)
			(void)authz_answer_op(c->a, 0, (struct str){
			    ch->header, strlen(ch->header) }, j->boolean ?
			    STR_LIT("true") : STR_LIT("false"));
	}
}

/*
 * 0: go on (with or without an identity); -1: the answer is a 401.
 * Every token found at a place of a rule that applies is verified with
 * the rule of its issuer that looks at that place; none, a bad signature
 * or a claim check failing makes the request a 401, as Envoy's jwt_authn
 * filter does for Istio.  The first token gives the identity.
 */
#define AUTHZ_MAX_TOKENS	4

int
authz_authenticate(struct authz_ctx *c)
{
	const struct config			*cfg = c->cfg;
	const struct request_authentication	*ra;
	const struct jwt_rule			*rule;
	const struct jwks			*keys;
	struct {
		struct str	 tok;
		struct str	 header;
		int		 is_header;
	}					 found[AUTHZ_MAX_TOKENS];
	struct str				 tok, header, t2, h2;
	size_t					 i, j, k, nfound = 0;
	int					 is_header, ih2;
	char					 err[256];
	struct jwt				 extra, *t;

	for (i = 0; i < cfg->nrequest_authentications; i++) {
		ra = &cfg->request_authentications[i];
		if (!authz_applies(c, ra->meta.namespace, &ra->selector,
		    ra->has_selector))
			continue;
		for (j = 0; j < ra->nrules; j++) {
			if (!authz_find_token(c, &ra->rules[j], &tok,
			    &is_header, &header))
				continue;
			for (k = 0; k < nfound; k++)
				if (found[k].tok.p == tok.p)
					break;
			if (k < nfound)
				continue;
			if (nfound == AUTHZ_MAX_TOKENS) {
				snprintf(c->a->reason, sizeof(c->a->reason),
				    "more than %d tokens", AUTHZ_MAX_TOKENS);
				return -1;
			}
			found[nfound].tok = tok;
			found[nfound].header = header;
			found[nfound].is_header = is_header;
			nfound++;
		}
	}
	for (k = 0; k < nfound; k++) {
		t = k == 0 ? &c->id.token : &extra;
		if (jwt_parse(t, found[k].tok.p, found[k].tok.n, err,
		    sizeof(err)) == -1) {
			jwt_fini(t);
			snprintf(c->a->reason, sizeof(c->a->reason), "token "
			    "unreadable: %s", err);
			return -1;
		}
		rule = NULL;
		for (i = 0; i < cfg->nrequest_authentications && rule == NULL;
		    i++) {
			ra = &cfg->request_authentications[i];
			if (!authz_applies(c, ra->meta.namespace,
			    &ra->selector, ra->has_selector))
				continue;
			for (j = 0; j < ra->nrules; j++)
				if (t->iss != NULL && strcmp(ra->rules[j].issuer,
				    t->iss) == 0 && authz_find_token(c,
				    &ra->rules[j], &t2, &ih2, &h2) &&
				    t2.p == found[k].tok.p) {
					rule = &ra->rules[j];
					break;
				}
		}
		if (rule == NULL) {
			snprintf(c->a->reason, sizeof(c->a->reason),
			    "Jwt issuer is not configured: %.200s",
			    t->iss != NULL ? t->iss : "(no iss)");
			jwt_fini(t);
			return -1;
		}
		keys = rule->keys;
		if (keys == NULL && rule->jwks_uri != NULL &&
		    c->env->keys.lookup != NULL)
			keys = c->env->keys.lookup(c->env->keys.arg,
			    rule->jwks_uri);
		if (keys == NULL) {
			snprintf(c->a->reason, sizeof(c->a->reason),
			    "issuer %.200s: no keys (yet) from %.200s",
			    rule->issuer, rule->jwks_uri);
			jwt_fini(t);
			return -1;
		}
		if (jwt_verify(t, keys, err, sizeof(err)) == -1 ||
		    jwt_check_claims(t, rule->issuer, rule->audiences,
		    rule->naudiences, c->env->now, err, sizeof(err)) == -1) {
			snprintf(c->a->reason, sizeof(c->a->reason),
			    "issuer %.200s: %s", rule->issuer, err);
			jwt_fini(t);
			return -1;
		}
		if (k == 0) {
			c->id.present = 1;
			c->id.rule = rule;
			snprintf(c->id.principal, sizeof(c->id.principal),
			    "%s/%s", t->iss, t->sub != NULL ? t->sub : "");
		}
		authz_outputs(c, t, rule, found[k].is_header,
		    found[k].header);
		if (k > 0)
			jwt_fini(t);
	}
	return 0;
}

