/* SPDX-License-Identifier: ISC */
/*
 * Authentication for the decision of authz.c, as Istio has Envoy's
 * jwt_authn filter do it (pilot's convertToEnvoyJwtConfig, Envoy's
 * extractor, verifier and authenticator):
 *
 * - Every jwtRule of the RequestAuthentications that apply is a
 *   provider P, in the order of their issuers.  The request passes when
 *   it satisfies OR(P1, ..., Pn, AND(OR(P1, missing), ..., OR(Pn,
 *   missing))): some provider accepts every token at its places, or
 *   every provider either finds no token at its places or accepts them
 *   all, a token of its issuer being accepted by any rule of that
 *   issuer (several rules of one issuer are alternatives).
 * - A provider accepts a token whose "iss" is its issuer, in time, of
 *   an audience it allows (else 403: "Audiences in Jwt are not
 *   allowed"), and signed by one of its keys.  Every token found must
 *   pass: one good token does not carry a bad one.
 * - The headers of outputPayloadToHeader and outputClaimToHeaders are
 *   removed from every request first, so only a verified token sets
 *   them; a CORS preflight skips the tokens altogether.
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

/* A token at one place of one rule. */
struct place {
	unsigned char		 token;		/* into ctx->tokens */
	unsigned char		 is_header;
	const char		*header;	/* lower case, when is_header */
};

enum verdict {
	VERDICT_UNKNOWN,
	VERDICT_OK,
	VERDICT_401,
	VERDICT_403,
};

struct authn {
	struct authz_ctx	*c;
	const struct jwt_rule	*rules[AUTHZ_MAX_RULES];
	size_t			 nrules;
	size_t			 first[AUTHZ_MAX_RULES];
	size_t			 count[AUTHZ_MAX_RULES];
	struct place		 places[AUTHZ_MAX_PLACES];
	size_t			 nplaces;
	unsigned char		 verdict[AUTHZ_MAX_TOKENS][AUTHZ_MAX_RULES];
	char			 why[AUTHZ_MAX_TOKENS][200];
	size_t			 why_rule[AUTHZ_MAX_TOKENS];
	char			 arena[JWT_MAX_BYTES];
	size_t			 arena_used;
	int			 overflow;
};

static int	 authn_rules(struct authn *);
static int	 authn_strip(struct authn *);
static int	 authn_preflight(struct authz_ctx *);
static void	 authn_place(struct authn *, struct str, int, const char *);
static void	 authn_extract(struct authn *, const struct jwt_rule *);
static int	 authn_query_param(struct authn *, struct str, const char *,
		    struct str *);
static int	 authn_hex(int);
static int	 authn_cookie(struct str, const char *, struct str *);
static struct str authn_after_prefix(struct str, const char *);
static enum verdict authn_verify(struct authn *, size_t, size_t);
static enum verdict authn_check(struct authn *, size_t, size_t, char *,
		    size_t);
static int	 authn_all_ok(struct authn *, size_t);
static int	 authn_fail(struct authn *, size_t, size_t);
static void	 authn_accept(struct authn *, const struct place *, size_t);
static void	 authn_claim_header(struct authz_ctx *, const struct jwt *,
		    const struct jwt_claim_header *);

/* Every rule that applies, stably in the order of their issuers. */
static int
authn_rules(struct authn *an)
{
	const struct config			*cfg = an->c->cfg;
	const struct request_authentication	*ra;
	const struct jwt_rule			*r;
	size_t					 i, j, k;

	for (i = 0; i < cfg->nrequest_authentications; i++) {
		ra = &cfg->request_authentications[i];
		if (!authz_applies(an->c, ra->meta.namespace, &ra->selector,
		    ra->has_selector))
			continue;
		for (j = 0; j < ra->nrules; j++) {
			if (an->nrules == AUTHZ_MAX_RULES)
				return -1;
			r = &ra->rules[j];
			for (k = an->nrules; k > 0 &&
			    strcmp(an->rules[k - 1]->issuer, r->issuer) > 0;
			    k--)
				an->rules[k] = an->rules[k - 1];
			an->rules[k] = r;
			an->nrules++;
		}
	}
	return 0;
}

/* Remove every output header of every rule; -1 when out of room. */
static int
authn_strip(struct authn *an)
{
	struct authz_answer	*a = an->c->a;
	const struct jwt_rule	*r;
	const char		*name;
	size_t			 i, j, k;

	for (i = 0; i < an->nrules; i++) {
		r = an->rules[i];
		for (j = 0; j <= r->noutput_claim_to_headers; j++) {
			name = j == 0 ? r->output_payload_to_header :
			    r->output_claim_to_headers[j - 1].header;
			if (name == NULL)
				continue;
			for (k = 0; k < a->nops; k++)
				if (strcmp(a->ops[k].name, name) == 0)
					break;
			if (k < a->nops)
				continue;
			if (authz_answer_op(a, 1, (struct str){ name,
			    strlen(name) }, STR_LIT("")) == -1)
				return -1;
		}
	}
	return 0;
}

/*
 * Envoy's isCorsPreflightRequest: OPTIONS with a non-empty Origin and
 * Access-Control-Request-Method; Istio sets bypass_cors_preflight.
 */
static int
authn_preflight(struct authz_ctx *c)
{
	const struct str	*h;
	size_t			 from;

	c->vary |= VARY_METHOD;
	if (!util_str_eq(c->req->method, "OPTIONS"))
		return 0;
	from = 0;
	if ((h = authz_header(c, "origin", 6, &from)) == NULL || h->n == 0)
		return 0;
	from = 0;
	h = authz_header(c, "access-control-request-method", 29, &from);
	return h != NULL && h->n > 0;
}

/* A token found at a place of the rule being read. */
static void
authn_place(struct authn *an, struct str tok, int is_header,
    const char *header)
{
	struct authz_ctx	*c = an->c;
	size_t			 t;

	for (t = 0; t < c->ntokens; t++)
		if (c->tokens[t].text.n == tok.n &&
		    memcmp(c->tokens[t].text.p, tok.p, tok.n) == 0)
			break;
	if (t == c->ntokens) {
		if (c->ntokens == AUTHZ_MAX_TOKENS) {
			an->overflow = 1;
			return;
		}
		memset(&c->tokens[t], 0, sizeof(c->tokens[t]));
		c->tokens[t].text = tok;
		c->ntokens++;
	}
	if (an->nplaces == AUTHZ_MAX_PLACES) {
		an->overflow = 1;
		return;
	}
	an->places[an->nplaces].token = (unsigned char)t;
	an->places[an->nplaces].is_header = (unsigned char)is_header;
	an->places[an->nplaces].header = header;
	an->nplaces++;
}

/*
 * Envoy's extractJWT: after the prefix, from the first character of
 * the base64url alphabet or a dot to the end; the whole value when
 * there is none.
 */
static struct str
authn_after_prefix(struct str v, const char *prefix)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_.";
	size_t		 plen = strlen(prefix), i;
	const char	*at;

	if (plen == 0)
		return v;
	at = memmem(v.p, v.n, prefix, plen);
	if (at == NULL)
		return (struct str){ NULL, 0 };
	for (i = (size_t)(at - v.p) + plen; i < v.n; i++)
		if (strchr(alphabet, v.p[i]) != NULL && v.p[i] != '\0')
			return (struct str){ v.p + i, v.n - i };
	return v;
}

static int
authn_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The first value of query parameter name, percent escapes decoded as
 * Envoy's parseAndDecodeQueryString does; "name" alone is an empty
 * value.  0 when absent.
 */
static int
authn_query_param(struct authn *an, struct str path, const char *name,
    struct str *out)
{
	const char	*q, *end, *p, *amp, *eq, *vend;
	size_t		 n = strlen(name), i, o;
	char		*dst;
	int		 hi, lo;

	if (path.p == NULL || (q = memchr(path.p, '?', path.n)) == NULL)
		return 0;
	end = path.p + path.n;
	if ((p = memchr(q, '#', (size_t)(end - q))) != NULL)
		end = p;
	for (p = q + 1; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		vend = eq != NULL ? eq : amp;
		if ((size_t)(vend - p) == n && memcmp(p, name, n) == 0) {
			out->p = eq != NULL ? eq + 1 : amp;
			out->n = (size_t)(amp - out->p);
			if (memchr(out->p, '%', out->n) == NULL ||
			    out->n > sizeof(an->arena) - an->arena_used)
				return 1;
			dst = an->arena + an->arena_used;
			for (i = 0, o = 0; i < out->n; i++) {
				if (out->p[i] == '%' && i + 2 < out->n &&
				    (hi = authn_hex(out->p[i + 1])) >= 0 &&
				    (lo = authn_hex(out->p[i + 2])) >= 0) {
					dst[o++] = (char)(hi * 16 + lo);
					i += 2;
				} else
					dst[o++] = out->p[i];
			}
			out->p = dst;
			out->n = o;
			an->arena_used += o;
			return 1;
		}
		if (amp == end)
			break;
	}
	return 0;
}

/* The value of cookie name in one Cookie header, quotes taken off. */
static int
authn_cookie(struct str header, const char *name, struct str *out)
{
	const char	*p = header.p, *end = header.p + header.n, *semi, *eq;
	size_t		 n = strlen(name);

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    memcmp(p, name, n) == 0) {
			out->p = eq + 1;
			out->n = (size_t)(semi - eq - 1);
			while (out->n > 0 && (out->p[out->n - 1] == ' ' ||
			    out->p[out->n - 1] == '\t'))
				out->n--;
			if (out->n >= 2 && out->p[0] == '"' &&
			    out->p[out->n - 1] == '"') {
				out->p++;
				out->n -= 2;
			}
			return 1;
		}
		p = semi;
	}
	return 0;
}

/*
 * The tokens at the places of rule r: every occurrence of each of its
 * headers, the first value of each parameter, each cookie; the
 * Authorization header with "Bearer " and the access_token parameter
 * when it names no place.
 */
static void
authn_extract(struct authn *an, const struct jwt_rule *r)
{
	struct authz_ctx	*c = an->c;
	const struct str	*h;
	struct str		 tok;
	size_t			 i, from;
	const char		*prefix, *name;
	int			 defaults = r->nfrom_headers == 0 &&
				    r->nfrom_params == 0 &&
				    r->nfrom_cookies == 0;
	size_t			 nh = defaults ? 1 : r->nfrom_headers;

	for (i = 0; i < nh; i++) {
		name = defaults ? "authorization" : r->from_headers[i].name;
		prefix = defaults ? "Bearer " : r->from_headers[i].prefix;
		from = 0;
		while ((h = authz_header(c, name, strlen(name), &from)) !=
		    NULL) {
			tok = authn_after_prefix(*h, prefix != NULL ? prefix :
			    "");
			if (tok.p != NULL)
				authn_place(an, tok, 1, name);
		}
	}
	for (i = 0; i < (defaults ? 1 : r->nfrom_params); i++) {
		name = defaults ? "access_token" : r->from_params[i];
		authz_vary_query(c, name);
		if (authn_query_param(an, c->req->path, name, &tok))
			authn_place(an, tok, 0, NULL);
	}
	for (i = 0; i < r->nfrom_cookies; i++) {
		from = 0;
		while ((h = authz_header(c, "cookie", 6, &from)) != NULL)
			if (authn_cookie(*h, r->from_cookies[i], &tok)) {
				authn_place(an, tok, 0, NULL);
				break;
			}
	}
}

/*
 * Token t against rule ri, in the order of Envoy's authenticator:
 * readable, its issuer, its time, its audience, then its signature.
 */
static enum verdict
authn_check(struct authn *an, size_t t, size_t ri, char *why, size_t whylen)
{
	struct authz_ctx	*c = an->c;
	struct authz_token	*tk = &c->tokens[t];
	const struct jwt_rule	*r = an->rules[ri];
	const struct jwks	*keys;
	char			 err[160];

	if (tk->state == 0) {
		tk->state = jwt_parse(&tk->jwt, tk->text.p, tk->text.n, err,
		    sizeof(err)) == 0 ? 1 : -1;
		if (tk->state == -1) {
			jwt_fini(&tk->jwt);
			snprintf(why, whylen, "token unreadable: %.150s", err);
			return VERDICT_401;
		}
	}
	if (tk->state == -1) {
		snprintf(why, whylen, "token unreadable");
		return VERDICT_401;
	}
	if (tk->jwt.iss == NULL || strcmp(tk->jwt.iss, r->issuer) != 0) {
		snprintf(why, whylen, "Jwt issuer is not configured: %.80s",
		    tk->jwt.iss != NULL ? tk->jwt.iss : "(no iss)");
		return VERDICT_401;
	}
	if (jwt_check_claims(&tk->jwt, NULL, NULL, 0, c->env->now, err,
	    sizeof(err)) == -1) {
		snprintf(why, whylen, "issuer %.80s: %.100s", r->issuer,
		    err);
		return VERDICT_401;
	}
	if (jwt_check_audience(&tk->jwt, r->audiences, r->naudiences, err,
	    sizeof(err)) == -1) {
		snprintf(why, whylen, "issuer %.80s: %.100s", r->issuer,
		    err);
		return VERDICT_403;
	}
	keys = r->keys;
	if (keys == NULL && r->jwks_uri != NULL && c->env->keys.lookup != NULL)
		keys = c->env->keys.lookup(c->env->keys.arg, r->jwks_uri);
	if (keys == NULL) {
		snprintf(why, whylen, "issuer %.80s: no keys (yet) from %.80s",
		    r->issuer, r->jwks_uri != NULL ? r->jwks_uri : "jwks");
		return VERDICT_401;
	}
	if (jwt_verify(&tk->jwt, keys, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "issuer %.80s: %.100s", r->issuer,
		    err);
		return VERDICT_401;
	}
	return VERDICT_OK;
}

/* authn_check, each (token, rule) at most once. */
static enum verdict
authn_verify(struct authn *an, size_t t, size_t ri)
{
	enum verdict	 v = an->verdict[t][ri];

	if (v != VERDICT_UNKNOWN)
		return v;
	v = authn_check(an, t, ri, an->why[t], sizeof(an->why[t]));
	if (v != VERDICT_OK)
		an->why_rule[t] = ri;
	an->verdict[t][ri] = (unsigned char)v;
	return v;
}

/* Does rule ri find a token and accept every token it finds? */
static int
authn_all_ok(struct authn *an, size_t ri)
{
	size_t	 p;

	if (an->count[ri] == 0)
		return 0;
	for (p = an->first[ri]; p < an->first[ri] + an->count[ri]; p++)
		if (authn_verify(an, an->places[p].token, ri) != VERDICT_OK)
			return 0;
	return 1;
}

/* The answer for token t failing rule ri: -1, with the status set. */
static int
authn_fail(struct authn *an, size_t t, size_t ri)
{
	struct authz_answer	*a = an->c->a;
	enum verdict		 v = authn_verify(an, t, ri);

	if (an->why_rule[t] != ri)
		(void)authn_check(an, t, ri, an->why[t], sizeof(an->why[t]));
	a->decision = AUTHZ_DECISION_DENY;
	a->status = v == VERDICT_403 ? 403 : 401;
	util_strlcpy(a->body, v == VERDICT_403 ? AUTHZ_BODY_AUDIENCE :
	    AUTHZ_BODY_401, sizeof(a->body));
	snprintf(a->reason, sizeof(a->reason), "%s", an->why[t]);
	return -1;
}

/* A verified claim to a header, as Envoy's addJWTClaimToHeader. */
static void
authn_claim_header(struct authz_ctx *c, const struct jwt *t,
    const struct jwt_claim_header *ch)
{
	const struct json	*j;
	char			*path[16], buf[512], num[32], *s, *save = NULL;
	size_t			 n = 0, k;
	struct str		 v = { NULL, 0 };

	/* "a.b" names a nested claim */
	util_strlcpy(buf, ch->claim, sizeof(buf));
	for (s = strtok_r(buf, ".", &save); s != NULL && n < nitems(path);
	    s = strtok_r(NULL, ".", &save))
		path[n++] = s;
	if (n == 0 || (j = authz_claim(t->claims, path, n)) == NULL)
		return;
	if (j->type == JSON_STRING)
		v = (struct str){ j->string, j->len };
	else if (j->type == JSON_BOOL)
		v = j->boolean ? STR_LIT("true") : STR_LIT("false");
	else if (j->type == JSON_NUMBER) {
		/* a whole non-negative number as an integer, else %f */
		if (j->number >= 0 && j->number < 18446744073709551616.0 &&
		    j->number == (double)(unsigned long long)j->number)
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)j->number);
		else
			snprintf(num, sizeof(num), "%f", j->number);
		v = (struct str){ num, strlen(num) };
	}
	if (v.n == 0)
		return;
	for (k = 0; k < v.n; k++)
		if (((unsigned char)v.p[k] < 0x20 && v.p[k] != '\t') ||
		    v.p[k] == 0x7f)
			return;		/* not a field value */
	(void)authz_answer_op(c->a, 0, (struct str){ ch->header,
	    strlen(ch->header) }, v);
}

/* The token at place p, accepted by rule ri: what it adds. */
static void
authn_accept(struct authn *an, const struct place *p, size_t ri)
{
	struct authz_ctx	*c = an->c;
	const struct jwt_rule	*r = an->rules[ri];
	const struct jwt	*t = &c->tokens[p->token].jwt;
	size_t			 i;

	if (!c->id.present) {
		c->id.present = 1;
		c->id.token = t;
		c->id.rule = r;
		c->id.exp = t->exp;
		snprintf(c->id.principal, sizeof(c->id.principal), "%s/%s",
		    t->iss, t->sub != NULL ? t->sub : "");
	} else if (t->exp < c->id.exp)
		c->id.exp = t->exp;
	/* an answer out of room keeps the operations that fitted */
	if (!r->forward_original_token && p->is_header)
		(void)authz_answer_op(c->a, 1, (struct str){ p->header,
		    strlen(p->header) }, STR_LIT(""));
	if (r->output_payload_to_header != NULL)
		(void)authz_answer_op(c->a, 0, (struct str){
		    r->output_payload_to_header,
		    strlen(r->output_payload_to_header) },
		    (struct str){ t->payload, t->payload_len });
	for (i = 0; i < r->noutput_claim_to_headers; i++)
		authn_claim_header(c, t, &r->output_claim_to_headers[i]);
}

int
authz_authenticate(struct authz_ctx *c)
{
	struct authn	 authn, *an = &authn;
	size_t		 i, j, p, t;
	const char	*iss;
	int		 rc = 0;

	/* on the stack, and only what is read before written is zeroed:
	   most requests of most workloads have no rule or no token */
	an->c = c;
	an->nrules = 0;
	an->nplaces = 0;
	an->arena_used = 0;
	an->overflow = 0;
	if (authn_rules(an) == -1 || authn_strip(an) == -1) {
		c->a->decision = AUTHZ_DECISION_ERROR;
		snprintf(c->a->reason, sizeof(c->a->reason), "more jwtRules "
		    "or output headers than one answer can hold (%d rules, "
		    "%d header operations)", AUTHZ_MAX_RULES,
		    AUTHZ_MAX_HEADER_OPS);
		rc = -1;
		goto out;
	}
	if (an->nrules == 0 || authn_preflight(c))
		goto out;
	for (i = 0; i < an->nrules; i++) {
		an->first[i] = an->nplaces;
		authn_extract(an, an->rules[i]);
		an->count[i] = an->nplaces - an->first[i];
	}
	if (an->overflow) {
		c->a->decision = AUTHZ_DECISION_DENY;
		c->a->status = 401;
		util_strlcpy(c->a->body, AUTHZ_BODY_401, sizeof(c->a->body));
		snprintf(c->a->reason, sizeof(c->a->reason), "more than %d "
		    "tokens in the request", AUTHZ_MAX_TOKENS);
		rc = -1;
		goto out;
	}
	if (an->nplaces == 0)
		goto out;
	memset(an->verdict, 0, sizeof(an->verdict));
	memset(an->why_rule, 0xff, sizeof(an->why_rule));
	/* one provider that finds tokens and accepts them all */
	for (i = 0; i < an->nrules; i++)
		if (authn_all_ok(an, i)) {
			for (p = an->first[i]; p < an->first[i] +
			    an->count[i]; p++)
				authn_accept(an, &an->places[p], i);
			goto out;
		}
	/* else each provider: no token, or every token accepted */
	for (i = 0; i < an->nrules; i++) {
		for (p = an->first[i]; p < an->first[i] + an->count[i]; p++) {
			t = an->places[p].token;
			if (authn_verify(an, t, i) == VERDICT_OK)
				continue;
			/* allow_missing: a token of this rule's issuer ... */
			if (c->tokens[t].state != 1 ||
			    (iss = c->tokens[t].jwt.iss) == NULL ||
			    strcmp(iss, an->rules[i]->issuer) != 0) {
				rc = authn_fail(an, t, i);
				goto out;
			}
			/* ... that some rule of that issuer accepts */
			for (j = 0; j < an->nrules; j++)
				if (strcmp(an->rules[j]->issuer, iss) == 0 &&
				    authn_verify(an, t, j) == VERDICT_OK)
					break;
			if (j == an->nrules) {
				rc = authn_fail(an, t, i);
				goto out;
			}
		}
	}
	for (i = 0; i < an->nrules; i++)
		for (p = an->first[i]; p < an->first[i] + an->count[i]; p++) {
			t = an->places[p].token;
			for (j = 0; j < an->nrules; j++)
				if (strcmp(an->rules[j]->issuer,
				    an->rules[i]->issuer) == 0 &&
				    an->verdict[t][j] == VERDICT_OK)
					break;
			authn_accept(an, &an->places[p], j);
		}
out:
	return rc;
}
