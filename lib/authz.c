/* SPDX-License-Identifier: ISC */
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
#include <stddef.h>
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

static void	 authz_vary_header(struct authz_ctx *, const char *, size_t,
		    int);
static uint32_t	 authz_dest_port(struct authz_ctx *);
static struct str authz_peer(struct authz_ctx *);
static int	 authz_field(struct authz_ctx *, const struct authz_values *,
		    const struct authz_values *, int);
static int	 authz_source_matches(struct authz_ctx *,
		    const struct authz_source *);
static int	 authz_operation_matches(struct authz_ctx *,
		    const struct authz_operation *);
static int	 authz_claim_words(struct authz_ctx *,
		    const struct authz_condition *);
static int	 authz_condition_matches(struct authz_ctx *,
		    const struct authz_condition *);
static int	 authz_rule_matches(struct authz_ctx *,
		    const struct authz_rule *);
static int	 authz_policy_matches(struct authz_ctx *,
		    const struct authorization_policy *, size_t *);
static void	 authz_dry_run(struct authz_ctx *, enum authz_action);
static void	 authz_finish(struct authz_ctx *);
static void	 authz_deny(struct authz_answer *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
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
	a->dry_run[0] = '\0';
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
authz_vary_header(struct authz_ctx *c, const char *name, size_t n,
    int query)
{
	size_t	 i;

	for (i = 0; i < c->nvary_headers; i++)
		if (c->vary_headers[i].n == n && c->vary_query[i] == query &&
		    memcmp(c->vary_headers[i].p, name, n) == 0)
			return;
	if (c->nvary_headers == VARY_MAX_HEADERS) {
		c->vary_overflow = 1;
		return;
	}
	c->vary_headers[c->nvary_headers].p = name;
	c->vary_headers[c->nvary_headers].n = n;
	c->vary_query[c->nvary_headers] = (unsigned char)query;
	c->nvary_headers++;
}

void
authz_vary_query(struct authz_ctx *c, const char *name)
{
	size_t	 n = strlen(name);

	if (n == 0 || n > 127 || strpbrk(name, " ,\t&=#") != NULL)
		c->vary |= VARY_PATH;
	else
		authz_vary_header(c, name, n, 1);
}

/* The first header named name (lower case) from index *from on. */
const struct str *
authz_header(struct authz_ctx *c, const char *name, size_t n, size_t *from)
{
	const struct authz_request	*r = c->req;
	size_t				 i;

	authz_vary_header(c, name, n, 0);
	for (i = *from; i < r->nheaders; i++)
		if (r->header_names[i].n == n &&
		    memcmp(r->header_names[i].p, name, n) == 0) {
			*from = i + 1;
			return &r->header_values[i];
		}
	*from = r->nheaders;
	return NULL;
}

/*
 * The destination port: the port of the address the peer connected to
 * when proxy-d says it, else the question's port.
 */
static uint32_t
authz_dest_port(struct authz_ctx *c)
{
	uint32_t	 port = 0;

	c->vary |= VARY_PORT;
	if (c->req->destination.n > 0)
		port = authz_addr_port(c->req->destination);
	return port != 0 ? port : c->req->port;
}

/* The peer's SPIFFE URI, when its certificate named one. */
static struct str
authz_peer(struct authz_ctx *c)
{
	c->vary |= VARY_PRINCIPAL;
	return c->req->principal;
}

/*
 * One field of a source or operation: which value of the request it
 * reads, then its values (one must match) and not-values (none may).
 */
enum {
	FIELD_PRINCIPAL, FIELD_REQUEST_PRINCIPAL, FIELD_NAMESPACE,
	FIELD_SOURCE_IP, FIELD_REMOTE_IP, FIELD_SERVICE_ACCOUNT,
	FIELD_HOST, FIELD_PORT, FIELD_METHOD, FIELD_PATH,
};

static int
authz_field(struct authz_ctx *c, const struct authz_values *yes,
    const struct authz_values *no, int field)
{
	const struct authz_request	*r = c->req;
	const struct authz_values	*vals[2] = { yes, no };
	struct str			 v = { NULL, 0 };
	char				 port[12];
	size_t				 i, k;
	int				 m[2] = { 0, 0 };

	if (!yes->present && !no->present)
		return 1;
	switch (field) {
	case FIELD_PRINCIPAL:
		v = authz_peer(c);
		for (k = 0; k < 2; k++)
			for (i = 0; vals[k]->present && i < vals[k]->n &&
			    !m[k]; i++)
				m[k] = authz_principal_match(vals[k]->v[i], v);
		break;
	case FIELD_NAMESPACE:
		v = authz_peer(c);
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_namespace_values_match(vals[k], v);
		break;
	case FIELD_SERVICE_ACCOUNT:
		v = authz_peer(c);
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_service_account_values_match(vals[k], v);
		break;
	case FIELD_REQUEST_PRINCIPAL:
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present && c->id.present &&
			    authz_request_principal_values_match(vals[k],
			    c->id.token);
		break;
	case FIELD_SOURCE_IP:
	case FIELD_REMOTE_IP:
		c->vary |= VARY_SOURCE_IP;
		v = authz_addr_host(r->source);
		if (field == FIELD_REMOTE_IP) {
			c->vary |= VARY_REMOTE;
			if (r->remote.n > 0)
				v = r->remote;
		}
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present && authz_ip_match(vals[k], v);
		break;
	case FIELD_HOST:
		/* the whole authority, port included, in any case */
		c->vary |= VARY_AUTHORITY;
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_values_match(vals[k], r->authority, 1);
		break;
	case FIELD_PORT:
		snprintf(port, sizeof(port), "%u", authz_dest_port(c));
		v = (struct str){ port, strcmp(port, "0") != 0 ?
		    strlen(port) : 0 };
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present && v.n > 0 &&
			    authz_values_match(vals[k], v, 0);
		break;
	case FIELD_METHOD:
		c->vary |= VARY_METHOD;
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_values_match(vals[k], r->method, 0);
		break;
	case FIELD_PATH:
		c->vary |= VARY_PATH;
		for (k = 0; k < 2; k++)
			for (i = 0; vals[k]->present && i < vals[k]->n &&
			    !m[k]; i++)
				m[k] = authz_path_match(vals[k]->v[i],
				    c->path);
		break;
	}
	return (!yes->present || m[0]) && !(no->present && m[1]);
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
		[SOURCE_SERVICE_ACCOUNTS] = FIELD_SERVICE_ACCOUNT,
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
 * Is the claim one whose string Envoy splits at spaces into a list:
 * scope and permission, and the rule's spaceDelimitedClaims?
 */
static int
authz_claim_words(struct authz_ctx *c, const struct authz_condition *cond)
{
	const char	*name = cond->claim[cond->nclaim - 1];
	size_t		 k;

	if (cond->nclaim != 1)
		return 0;
	if (strcmp(name, "scope") == 0 || strcmp(name, "permission") == 0)
		return 1;
	for (k = 0; k < c->id.rule->nspace_delimited_claims; k++)
		if (strcmp(c->id.rule->space_delimited_claims[k], name) == 0)
			return 1;
	return 0;
}

static int
authz_condition_matches(struct authz_ctx *c, const struct authz_condition *w)
{
	const struct authz_request	*r = c->req;
	const struct authz_values	*vals[2] = { &w->values,
					    &w->not_values };

	const struct json		*j;
	struct str			 v = { NULL, 0 };
	size_t				 from, k;
	int				 m[2] = { 0, 0 }, words;

	switch (w->kind) {
	/* a key that is a source's or operation's field reads as it */
	case KEY_SOURCE_IP:
		return authz_field(c, vals[0], vals[1], FIELD_SOURCE_IP);
	case KEY_REMOTE_IP:
		return authz_field(c, vals[0], vals[1], FIELD_REMOTE_IP);
	case KEY_SOURCE_NAMESPACE:
		return authz_field(c, vals[0], vals[1], FIELD_NAMESPACE);
	case KEY_SOURCE_PRINCIPAL:
		return authz_field(c, vals[0], vals[1], FIELD_PRINCIPAL);
	case KEY_SOURCE_SERVICE_ACCOUNT:
		return authz_field(c, vals[0], vals[1],
		    FIELD_SERVICE_ACCOUNT);
	case KEY_REQUEST_PRINCIPAL:
		return authz_field(c, vals[0], vals[1],
		    FIELD_REQUEST_PRINCIPAL);
	case KEY_DESTINATION_PORT:
		return authz_field(c, vals[0], vals[1], FIELD_PORT);
	case KEY_REQUEST_HEADER:
		/* a repeated header is matched once, its values joined */
		from = 0;
		(void)authz_header(c, w->header, strlen(w->header), &from);
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_header_values_match(vals[k], r, w->header);
		break;
	case KEY_DESTINATION_IP:
		c->vary |= VARY_DESTINATION_IP;
		v = authz_addr_host(r->destination);
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present && authz_ip_match(vals[k], v);
		break;
	case KEY_REQUEST_PRESENTER:
	case KEY_REQUEST_AUDIENCES:
	case KEY_REQUEST_CLAIM:
		if (!c->id.present)
			break;
		words = 0;
		if (w->kind == KEY_REQUEST_CLAIM) {
			j = authz_claim(c->id.token->claims, w->claim,
			    w->nclaim);
			words = authz_claim_words(c, w);
		} else
			j = json_get(c->id.token->claims, w->kind ==
			    KEY_REQUEST_AUDIENCES ? "aud" : "azp");
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_claim_values_match(j, words, vals[k]);
		break;
	case KEY_CONNECTION_SNI:
		c->vary |= VARY_SNI;
		for (k = 0; k < 2; k++)
			m[k] = vals[k]->present &&
			    authz_values_match(vals[k], r->sni, 0);
		break;
	}
	return (!w->values.present || m[0]) &&
	    !(w->not_values.present && m[1]);
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
 * The istio.io/dry-run policies of one action, as Istio's shadow rules
 * of that action's RBAC filter: evaluated, what they would decide noted
 * in the answer's dry-run, nothing enforced.
 */
static void
authz_dry_run(struct authz_ctx *c, enum authz_action action)
{
	const struct authorization_policy	*p, *hit = NULL;
	struct authz_answer			*a = c->a;
	size_t					 i, rule = 0, o, n = 0;

	for (i = 0; i < c->cfg->nauthorization_policies && hit == NULL;
	    i++) {
		p = &c->cfg->authorization_policies[i];
		if (!p->dry_run || p->action != action ||
		    !authz_applies(c, p->meta.namespace, &p->selector,
		    p->has_selector))
			continue;
		n++;
		if (authz_policy_matches(c, p, &rule))
			hit = p;
	}
	if (n == 0)
		return;
	o = strlen(a->dry_run);
	if (hit != NULL)
		snprintf(a->dry_run + o, sizeof(a->dry_run) - o, "%swould %s "
		    "by %s policy %s/%s rules[%zu]", o > 0 ? "; " : "",
		    action == AUTHZ_DENY ? "deny" : "allow",
		    action == AUTHZ_DENY ? "DENY" : "ALLOW",
		    hit->meta.namespace, hit->meta.name, rule);
	else if (action == AUTHZ_ALLOW)
		snprintf(a->dry_run + o, sizeof(a->dry_run) - o, "%swould "
		    "deny: none of %zu dry-run ALLOW polic%s matched",
		    o > 0 ? "; " : "", n, n == 1 ? "y" : "ies");
	else
		snprintf(a->dry_run + o, sizeof(a->dry_run) - o, "%swould "
		    "allow: none of %zu dry-run DENY polic%s matched",
		    o > 0 ? "; " : "", n, n == 1 ? "y" : "ies");
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
		{ VARY_DESTINATION_IP, "destination-ip" },
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
		n = snprintf(a->vary + o, sizeof(a->vary) - o, "%s%s:%.*s",
		    o == 0 ? "" : " ", c->vary_query[i] ? "query" : "header",
		    (int)c->vary_headers[i].n, c->vary_headers[i].p);
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
	/* every request a dry-run policy saw is logged, so none reused */
	if (a->dry_run[0] != '\0')
		a->reuse_ms = 0;
	if (c->id.present) {
		/* never past a token's expiry (without the skew) */
		left = (c->id.exp - (double)c->env->now) * 1000.0;
		if (left <= 0)
			a->reuse_ms = 0;
		else if (left < (double)a->reuse_ms)
			a->reuse_ms = (uint64_t)left;
		snprintf(a->principal, sizeof(a->principal), "%s",
		    c->id.principal);
	}
	for (i = 0; i < c->ntokens; i++)
		if (c->tokens[i].state == 1)
			jwt_fini(&c->tokens[i].jwt);
	c->ntokens = 0;
	free(c->pathheap);
	c->pathheap = NULL;
}

/* A 403 from a policy, with its reason. */
static void
authz_deny(struct authz_answer *a, const char *fmt, ...)
{
	va_list	 ap;

	a->decision = AUTHZ_DECISION_DENY;
	a->status = 403;
	util_strlcpy(a->body, AUTHZ_BODY_403, sizeof(a->body));
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
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
	memset(&c, 0, offsetof(struct authz_ctx, tokens));
	c.ntokens = 0;
	c.pathheap = NULL;
	c.cfg = cfg;
	c.env = env;
	c.src = src;
	c.req = req;
	c.a = a;
	c.root_ns = env->root_namespace != NULL ? env->root_namespace :
	    config_root_namespace(cfg);
	authz_set_path(&c, req->path);

	if (authz_authenticate(&c) == -1) {
		/* the answer says why; nothing goes on to the app */
		a->nops = 0;
		a->pool_used = 0;
		c.id.present = 0;
		authz_finish(&c);
		return;
	}
	for (pass = 0; pass < (int)nitems(order); pass++) {
		if (order[pass] != AUTHZ_CUSTOM)
			authz_dry_run(&c, order[pass]);
		for (i = 0; i < cfg->nauthorization_policies; i++) {
			p = &cfg->authorization_policies[i];
			if (p->action != order[pass] || p->dry_run ||
			    !authz_applies(&c, p->meta.namespace, &p->selector,
			    p->has_selector))
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
			if (p->action == AUTHZ_CUSTOM)
				authz_deny(a, "denied: CUSTOM policy %s/%s "
				    "rules[%zu] matched and meshkit has no "
				    "provider %s", p->meta.namespace,
				    p->meta.name, rule, p->provider);
			else
				authz_deny(a, "denied by DENY policy %s/%s "
				    "rules[%zu]", p->meta.namespace,
				    p->meta.name, rule);
			goto out;
		}
		if (order[pass] == AUTHZ_ALLOW && nallow > 0) {
			authz_deny(a, "denied: none of %d ALLOW polic%s "
			    "matched", nallow, nallow == 1 ? "y" : "ies");
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
