/* SPDX-License-Identifier: ISC */
/*
 * AuthorizationPolicy, typed: what a caller may do.  The checks are
 * those of Istio's ValidateAuthorizationPolicy (and of the dry-run
 * annotation's check in its metadata validation), plus what meshkit
 * cannot do, each error at its node; unknown keys are errors, so that a
 * misspelt field never turns a rule into a wider one.  meshkit(5) lists
 * them.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static const char *const source_names[SOURCE_NFIELDS] = {
	"principals", "requestPrincipals", "namespaces", "ipBlocks",
	"remoteIpBlocks", "serviceAccounts",
};
static const char *const not_source_names[SOURCE_NFIELDS] = {
	"notPrincipals", "notRequestPrincipals", "notNamespaces",
	"notIpBlocks", "notRemoteIpBlocks", "notServiceAccounts",
};
static const char *const operation_names[OPERATION_NFIELDS] = {
	"hosts", "ports", "methods", "paths",
};
static const char *const not_operation_names[OPERATION_NFIELDS] = {
	"notHosts", "notPorts", "notMethods", "notPaths",
};

/* What sec_values checks in each value of a field. */
enum sec_kind {
	SEC_PLAIN,		/* exact, "prefix*", "*suffix", "*" */
	SEC_PATH,		/* the same, or a path template */
	SEC_ADDRESS,		/* an address or CIDR block */
	SEC_PORT,		/* 0..65535 */
	SEC_SERVICE_ACCOUNT,	/* "sa" or "ns/sa", no wildcard */
};

/* The policy being read: what the checks of a rule depend on. */
struct sec_policy {
	const char		*ns;		/* metadata.namespace */
	int			 custom;	/* action CUSTOM */
};

static int	 sec_values(struct config_loader *, const struct ynode *,
		    const char *, enum sec_kind, const struct sec_policy *,
		    struct authz_values *);
static int	 sec_value_ok(struct config_loader *, const struct ynode *,
		    const char *, const char *, int);
static int	 sec_path_template_ok(const char *, char *, size_t);
static int	 sec_service_account(struct config_loader *,
		    const struct ynode *, const char *, const char *, char **);
static size_t	 sec_bracketed(const char *, size_t);
static int	 sec_value_fields(struct config_loader *, const struct ynode *,
		    const char *, const char *const *, const char *const *,
		    const enum sec_kind *, size_t, const struct sec_policy *,
		    struct authz_values *, struct authz_values *);
static int	 sec_source(struct config_loader *, const struct ynode *,
		    const struct sec_policy *, struct authz_source *);
static int	 sec_operation(struct config_loader *, const struct ynode *,
		    const struct sec_policy *, struct authz_operation *);
static int	 sec_condition(struct config_loader *, const struct ynode *,
		    const struct sec_policy *, struct authz_condition *);
static int	 sec_condition_key(struct config_loader *, const struct ynode *,
		    const struct sec_policy *, struct authz_condition *);
static int	 sec_rule(struct config_loader *, const struct ynode *,
		    const struct sec_policy *, struct authz_rule *);
static void	 sec_values_fini(struct authz_values *);
static void	 sec_rule_fini(struct authz_rule *);

/*
 * "10.0.0.0/8", "10.1.2.3", "fd00::/8".  Bits set under the mask are
 * cleared, as Envoy's CidrRange does with what Istio's validation
 * (netip.ParsePrefix) accepts: "10.1.2.3/8" is 10.0.0.0/8.
 */
int
config_ip_block(const char *s, struct ip_block *b)
{
	char		 addr[64];
	const char	*slash = strchr(s, '/');
	size_t		 n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long	 bits;
	char		*end;
	unsigned	 i, max;

	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(b, 0, sizeof(*b));
	if (inet_pton(AF_INET, addr, b->addr) == 1) {
		b->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, b->addr) == 1) {
		b->family = AF_INET6;
		max = 128;
	} else
		return -1;
	bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			return -1;
	}
	b->bits = (unsigned)bits;
	for (i = b->bits; i < max; i++)
		b->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

/*
 * Istio's value forms: exact, "prefix*", "*suffix", "*"; in paths,
 * path templates too.  Istio takes a '*' elsewhere as a literal
 * character; meshkit refuses it as the slip it almost always is.
 */
static int
sec_value_ok(struct config_loader *l, const struct ynode *n,
    const char *what, const char *s, int path)
{
	size_t	 len = strlen(s);
	char	 q[80], why[120];

	if (len == 0) {
		config_error(l, n, "%s: empty value not allowed", what);
		return -1;
	}
	if (path && (strchr(s, '{') != NULL || strchr(s, '}') != NULL)) {
		if (sec_path_template_ok(s, why, sizeof(why)) == 0)
			return 0;
		yaml_quote(q, sizeof(q), s, len);
		config_error(l, n, "%s: invalid path %s: %s", what, q, why);
		return -1;
	}
	if (len > 1 && memchr(s + 1, '*', len - 2) != NULL) {
		yaml_quote(q, sizeof(q), s, len);
		config_error(l, n, "%s: '*' only at the start or the end, got "
		    "%s", what, q);
		return -1;
	}
	return 0;
}

/*
 * A path with '{' or '}': Istio's CheckValidPathTemplate (segments of
 * pchar literals, "{*}", "{**}" with no operator after it but literal
 * segments allowed, as in "/{**}/path/template", no other brace), and
 * meshkit's own: it starts with '/' (as Envoy's templates do).
 */
static int
sec_path_template_ok(const char *s, char *why, size_t whylen)
{
	static const char pchar[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()+,;:@=";
	const char	*seg, *next, *end;
	size_t		 n;
	int		 any = 0, template = 0;

	if (strstr(s, "{*}") == NULL && strstr(s, "{**}") == NULL) {
		snprintf(why, whylen, "'{' or '}' outside {*} and {**}");
		return -1;
	}
	if (s[0] != '/') {
		snprintf(why, whylen, "a path template starts with '/'");
		return -1;
	}
	/* Istio splits what is left once the end slashes are trimmed */
	end = s + strlen(s);
	while (end > s + 1 && end[-1] == '/')
		end--;
	for (seg = s + 1; seg < end; seg = next + 1) {
		next = memchr(seg, '/', (size_t)(end - seg));
		if (next == NULL)
			next = end;
		n = (size_t)(next - seg);
		if (n == 3 && memcmp(seg, "{*}", 3) == 0) {
			template = 1;
			if (any) {
				snprintf(why, whylen, "{**} is not the last "
				    "operator");
				return -1;
			}
		} else if (n == 4 && memcmp(seg, "{**}", 4) == 0) {
			if (any) {
				snprintf(why, whylen, "{**} is not the last "
				    "operator");
				return -1;
			}
			any = 1;
			template = 1;
		} else if (memchr(seg, '{', n) != NULL ||
		    memchr(seg, '}', n) != NULL) {
			snprintf(why, whylen, "'{' or '}' beyond a supported "
			    "path template");
			return -1;
		} else if (n == 0 || strspn(seg, pchar) < n) {
			snprintf(why, whylen, "segment \"%.*s\" is not a valid "
			    "literal", (int)(n > 40 ? 40 : n), seg);
			return -1;
		}
		if (next == end)
			break;
	}
	if (!template) {
		snprintf(why, whylen, "no {*} or {**} segment");
		return -1;
	}
	return 0;
}

/*
 * Istio's CheckServiceAccount: "sa" or "ns/sa", neither empty, no '*',
 * at most 320 bytes; kept as "ns/sa", the policy's namespace filled in.
 */
static int
sec_service_account(struct config_loader *l, const struct ynode *n,
    const char *what, const char *ns, char **v)
{
	const char	*s = *v, *slash = strchr(s, '/');
	char		 q[80], *full;

	yaml_quote(q, sizeof(q), s, strlen(s));
	if (s[0] == '\0') {
		config_error(l, n, "%s: empty value not allowed", what);
		return -1;
	}
	if (strchr(s, '*') != NULL) {
		config_error(l, n, "%s: wildcard not allowed, got %s", what, q);
		return -1;
	}
	if (strlen(s) > 320) {
		config_error(l, n, "%s: at most 320 bytes", what);
		return -1;
	}
	if (slash != NULL && (slash == s || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)) {
		config_error(l, n, "%s: want \"serviceAccount\" or "
		    "\"namespace/serviceAccount\", got %s", what, q);
		return -1;
	}
	if (slash == NULL) {
		xasprintf(&full, "%s/%s", ns, s);
		free(*v);
		*v = full;
	}
	return 0;
}

/* A list of values of one field, each checked as kind says. */
static int
sec_values(struct config_loader *l, const struct ynode *n, const char *what,
    enum sec_kind kind, const struct sec_policy *p, struct authz_values *out)
{
	size_t	 i;
	int	 rc = 0;
	char	 q[80];

	if (config_string_list(l, n, what, &out->v, &out->n) == -1)
		return -1;
	out->present = 1;
	if (kind == SEC_ADDRESS)
		out->blocks = xcalloc(out->n + 1, sizeof(*out->blocks));
	if (kind == SEC_SERVICE_ACCOUNT && out->n > 16) {
		config_error(l, n, "%s: at most 16 values", what);
		rc = -1;
	}
	for (i = 0; i < out->n; i++) {
		const struct ynode *e = n->values[i];

		switch (kind) {
		case SEC_ADDRESS:
			if (config_ip_block(out->v[i], &out->blocks[i]) == -1) {
				yaml_quote(q, sizeof(q), e->value, e->len);
				config_error(l, e, "%s: want an address or "
				    "CIDR block, got %s", what, q);
				rc = -1;
			}
			break;
		case SEC_PORT: {
			char		*end;
			unsigned long	 port = strtoul(out->v[i], &end, 10);

			if (out->v[i][0] < '0' || out->v[i][0] > '9' ||
			    *end != '\0' || port > 65535 ||
			    strlen(out->v[i]) > 10) {
				yaml_quote(q, sizeof(q), e->value, e->len);
				config_error(l, e, "%s: want a port 0..65535, "
				    "got %s", what, q);
				rc = -1;
			}
			break;
		}
		case SEC_SERVICE_ACCOUNT:
			if (sec_service_account(l, e, what, p->ns,
			    &out->v[i]) == -1)
				rc = -1;
			break;
		case SEC_PLAIN:
		case SEC_PATH:
			if (sec_value_ok(l, e, what, out->v[i],
			    kind == SEC_PATH) == -1)
				rc = -1;
			break;
		}
	}
	return rc;
}

/*
 * A source's or an operation's fields: each field, or its not-form, a
 * list of values of kinds[f]; at least one is required.
 */
static int
sec_value_fields(struct config_loader *l, const struct ynode *n,
    const char *what, const char *const *names, const char *const *not_names,
    const enum sec_kind *kinds, size_t nfields, const struct sec_policy *p,
    struct authz_values *values, struct authz_values *not_values)
{
	const struct ynode	*k, *v;
	size_t			 i, f;
	int			 rc = 0, any = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		for (f = 0; f < nfields; f++)
			if (config_key_is(k, names[f]) ||
			    config_key_is(k, not_names[f]))
				break;
		if (f == nfields) {
			config_unknown_field(l, k, what);
			rc = -1;
			continue;
		}
		if (config_is_null(v))
			continue;
		rc |= sec_values(l, v, k->value, kinds[f], p,
		    config_key_is(k, not_names[f]) ? &not_values[f] :
		    &values[f]);
		any = 1;
	}
	if (!any && rc == 0) {
		config_error(l, n, "%s must not be empty", what);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
sec_source(struct config_loader *l, const struct ynode *n,
    const struct sec_policy *p, struct authz_source *s)
{
	static const enum sec_kind kinds[SOURCE_NFIELDS] = {
		[SOURCE_IP_BLOCKS] = SEC_ADDRESS,
		[SOURCE_REMOTE_IP_BLOCKS] = SEC_ADDRESS,
		[SOURCE_SERVICE_ACCOUNTS] = SEC_SERVICE_ACCOUNT,
	};
	/* what a CUSTOM policy's external authorizer is not told */
	static const int peer_fields[] = { SOURCE_PRINCIPALS,
	    SOURCE_NAMESPACES, SOURCE_SERVICE_ACCOUNTS,
	    SOURCE_REQUEST_PRINCIPALS };
	size_t	 i;
	int	 rc;

	rc = sec_value_fields(l, n, "from[].source", source_names,
	    not_source_names, kinds, SOURCE_NFIELDS, p, s->values,
	    s->not_values);
	if (rc == -1)
		return -1;
	if ((s->values[SOURCE_SERVICE_ACCOUNTS].present ||
	    s->not_values[SOURCE_SERVICE_ACCOUNTS].present) &&
	    (s->values[SOURCE_PRINCIPALS].present ||
	    s->not_values[SOURCE_PRINCIPALS].present ||
	    s->values[SOURCE_NAMESPACES].present ||
	    s->not_values[SOURCE_NAMESPACES].present)) {
		config_error(l, n, "from[].source: serviceAccounts cannot be "
		    "set with namespaces or principals");
		rc = -1;
	}
	for (i = 0; p->custom && i < nitems(peer_fields); i++)
		if (s->values[peer_fields[i]].present ||
		    s->not_values[peer_fields[i]].present) {
			config_error(l, n, "from[].source: %s is not supported "
			    "with action CUSTOM", source_names[peer_fields[i]]);
			rc = -1;
		}
	return rc;
}

static int
sec_operation(struct config_loader *l, const struct ynode *n,
    const struct sec_policy *p, struct authz_operation *o)
{
	static const enum sec_kind kinds[OPERATION_NFIELDS] = {
		[OPERATION_PORTS] = SEC_PORT, [OPERATION_PATHS] = SEC_PATH,
	};

	return sec_value_fields(l, n, "to[].operation", operation_names,
	    not_operation_names, kinds, OPERATION_NFIELDS, p, o->values,
	    o->not_values);
}

/* "prefix[name]", name not empty and without brackets: its length. */
static size_t
sec_bracketed(const char *key, size_t prefixlen)
{
	const char	*p = key + prefixlen, *close = strchr(p, ']');

	if (close == NULL || close == p || close[1] != '\0' ||
	    memchr(p, '[', (size_t)(close - p)) != NULL)
		return 0;
	return (size_t)(close - p);
}

static int
sec_condition_key(struct config_loader *l, const struct ynode *n,
    const struct sec_policy *pol, struct authz_condition *c)
{
	static const struct {
		const char	*name;
		enum authz_key	 kind;
	} plain[] = {
		{ "source.ip", KEY_SOURCE_IP },
		{ "remote.ip", KEY_REMOTE_IP },
		{ "source.namespace", KEY_SOURCE_NAMESPACE },
		{ "source.principal", KEY_SOURCE_PRINCIPAL },
		{ "source.serviceAccount", KEY_SOURCE_SERVICE_ACCOUNT },
		{ "request.auth.principal", KEY_REQUEST_PRINCIPAL },
		{ "request.auth.audiences", KEY_REQUEST_AUDIENCES },
		{ "request.auth.presenter", KEY_REQUEST_PRESENTER },
		{ "destination.ip", KEY_DESTINATION_IP },
		{ "destination.port", KEY_DESTINATION_PORT },
		{ "connection.sni", KEY_CONNECTION_SNI },
	};
	const char	*key = c->key, *p, *close;
	size_t		 i, len;
	char		 q[80];

	yaml_quote(q, sizeof(q), n->value, n->len);
	for (i = 0; i < nitems(plain); i++)
		if (strcmp(key, plain[i].name) == 0) {
			c->kind = plain[i].kind;
			break;
		}
	if (i == nitems(plain)) {
		if (strncmp(key, "request.headers[", 16) == 0) {
			if ((len = sec_bracketed(key, 16)) == 0) {
				config_error(l, n, "when[].key: want "
				    "request.headers[name], got %s", q);
				return -1;
			}
			c->kind = KEY_REQUEST_HEADER;
			c->header = xstrndup(key + 16, len);
			config_lower(c->header);
		} else if (strncmp(key, "request.auth.claims[", 20) == 0) {
			/* [a][b]: a nested claim; names may hold '/', '.' */
			c->kind = KEY_REQUEST_CLAIM;
			for (p = key + 19; *p == '['; p = close + 1) {
				close = strchr(p + 1, ']');
				if (close == NULL || close == p + 1 ||
				    memchr(p + 1, '[', (size_t)(close - p -
				    1)) != NULL || c->nclaim == 16)
					break;
				c->claim = xreallocarray(c->claim,
				    c->nclaim + 1, sizeof(*c->claim));
				c->claim[c->nclaim++] = xstrndup(p + 1,
				    (size_t)(close - p - 1));
			}
			if (*p != '\0' || c->nclaim == 0) {
				config_error(l, n, "when[].key: want "
				    "request.auth.claims[name] or "
				    "[name][nested]..., got %s", q);
				return -1;
			}
		} else if (strcmp(key, "destination.namespace") == 0) {
			config_error(l, n, "when[].key: attribute %s is "
			    "replaced by the metadata.namespace", q);
			return -1;
		} else if (strncmp(key, "destination.labels", 18) == 0) {
			config_error(l, n, "when[].key: attribute %s is "
			    "replaced by the workload selector", q);
			return -1;
		} else if (strcmp(key, "destination.name") == 0 ||
		    strcmp(key, "destination.user") == 0) {
			config_error(l, n, "when[].key: deprecated attribute "
			    "%s: only supported in v1alpha1", q);
			return -1;
		} else if (strncmp(key, "experimental.envoy.filters.", 27) ==
		    0 || strncmp(key, "request.experimental.inline.headers[",
		    36) == 0) {
			config_error(l, n, "when[].key %s is not supported by "
			    "meshkit", q);
			return -1;
		} else {
			config_error(l, n, "when[].key: unknown attribute %s",
			    q);
			return -1;
		}
	}
	if (pol->custom && (c->kind == KEY_SOURCE_NAMESPACE ||
	    c->kind == KEY_SOURCE_SERVICE_ACCOUNT ||
	    c->kind == KEY_SOURCE_PRINCIPAL ||
	    strncmp(key, "request.auth.", 13) == 0)) {
		config_error(l, n, "when[].key %s is not supported with action "
		    "CUSTOM", q);
		return -1;
	}
	return 0;
}

static int
sec_condition(struct config_loader *l, const struct ynode *n,
    const struct sec_policy *p, struct authz_condition *c)
{
	const struct ynode	*k, *v, *keynode = NULL;
	size_t			 i;
	int			 rc = 0;
	enum sec_kind		 kind = SEC_PLAIN;

	if (config_is_null(n)) {
		config_error(l, n, "when[] must not be null");
		return -1;
	}
	if (config_expect_map(l, n, "when[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_key_is(k, "key")) {
			keynode = v;
			if (!config_is_null(v))
				rc |= config_string(l, v, "when[].key",
				    &c->key);
		} else if (!config_key_is(k, "values") &&
		    !config_key_is(k, "notValues")) {
			config_unknown_field(l, k, "when[]");
			rc = -1;
		}
	}
	if (c->key == NULL || c->key[0] == '\0') {
		if (rc == 0)
			config_error(l, keynode != NULL ? keynode : n,
			    "when[].key must not be empty");
		return -1;
	}
	if (sec_condition_key(l, keynode, p, c) == -1)
		return -1;
	if (c->kind == KEY_SOURCE_IP || c->kind == KEY_REMOTE_IP ||
	    c->kind == KEY_DESTINATION_IP)
		kind = SEC_ADDRESS;
	else if (c->kind == KEY_DESTINATION_PORT)
		kind = SEC_PORT;
	else if (c->kind == KEY_SOURCE_SERVICE_ACCOUNT)
		kind = SEC_SERVICE_ACCOUNT;
	if (!config_is_null(v = yaml_get(n, "values")))
		rc |= sec_values(l, v, "when[].values", kind, p, &c->values);
	if (!config_is_null(v = yaml_get(n, "notValues")))
		rc |= sec_values(l, v, "when[].notValues", kind, p,
		    &c->not_values);
	if (rc == 0 && c->values.n == 0 && c->not_values.n == 0) {
		config_error(l, n, "when[]: at least one of values or "
		    "notValues must be set for key %s", c->key);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
sec_rule(struct config_loader *l, const struct ynode *n,
    const struct sec_policy *p, struct authz_rule *r)
{
	const struct ynode	*k, *v, *e, *inner;
	size_t			 i, j;
	int			 rc = 0;

	if (config_is_null(n)) {
		config_error(l, n, "rules[] must not be null (write {} for a "
		    "rule that matches every request)");
		return -1;
	}
	if (config_expect_map(l, n, "rules[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "from") || config_key_is(k, "to")) {
			int from = config_key_is(k, "from");

			if (config_seq(l, v, k->value) == -1) {
				rc = -1;
				continue;
			}
			if (v->n == 0) {
				config_error(l, v, "%s must not be empty",
				    k->value);
				rc = -1;
				continue;
			}
			if (from)
				r->from = xcalloc(v->n, sizeof(*r->from));
			else
				r->to = xcalloc(v->n, sizeof(*r->to));
			for (j = 0; j < v->n; j++) {
				e = v->values[j];
				if (config_is_null(e)) {
					config_error(l, e, "%s must not be "
					    "null", from ? "from[]" : "to[]");
					rc = -1;
					continue;
				}
				if (config_keys(l, e, from ? "from[]" : "to[]",
				    (const char *[]){ from ? "source" :
				    "operation", NULL }) == -1) {
					rc = -1;
					continue;
				}
				inner = yaml_get(e, from ? "source" :
				    "operation");
				if (config_is_null(inner)) {
					config_error(l, e, "%s is required",
					    from ? "from[].source" :
					    "to[].operation");
					rc = -1;
				} else if (from)
					rc |= sec_source(l, inner, p,
					    &r->from[r->nfrom]);
				else
					rc |= sec_operation(l, inner, p,
					    &r->to[r->nto]);
				if (from)
					r->nfrom++;
				else
					r->nto++;
			}
		} else if (config_key_is(k, "when")) {
			if (config_seq(l, v, "when") == -1) {
				rc = -1;
				continue;
			}
			r->when = xcalloc(v->n, sizeof(*r->when));
			for (j = 0; j < v->n; j++)
				rc |= sec_condition(l, v->values[j], p,
				    &r->when[r->nwhen++]);
		} else {
			config_unknown_field(l, k, "rules[]");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

void
config_authorization_policy(struct config_loader *l,
    const struct ynode *root, const struct ynode *spec,
    struct authorization_policy *ap)
{
	static const char *const actions[] = { "ALLOW", "DENY", "AUDIT",
	    "CUSTOM", NULL };
	const struct ynode	*k, *v, *provider = NULL, *name, *rules = NULL;
	struct sec_policy	 pol;
	size_t			 i, j;
	int			 action = AUTHZ_ALLOW, dry;

	ap->action = AUTHZ_ALLOW;
	/* the action first: what a rule may hold depends on it */
	if (spec != NULL && !config_is_null(v = yaml_get(spec, "action")) &&
	    config_enum(l, v, "action", actions, &action) == 0)
		ap->action = (enum authz_action)action;
	pol.ns = ap->meta.namespace != NULL ? ap->meta.namespace :
	    CONFIG_DEFAULT_NAMESPACE;
	pol.custom = ap->action == AUTHZ_CUSTOM;
	dry = config_security_dry_run(l, root, ap->action == AUTHZ_ALLOW ||
	    ap->action == AUTHZ_DENY, "is only for the actions ALLOW and "
	    "DENY");
	ap->dry_run = dry == 1;
	for (i = 0; spec != NULL && i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_key_is(k, "rules"))
			rules = v;
		if (config_is_null(v) || config_key_is(k, "action"))
			continue;
		if (config_key_is(k, "selector"))
			config_security_selector(l, v, &ap->selector,
			    &ap->has_selector);
		else if (config_key_is(k, "provider")) {
			provider = v;
			if (config_keys(l, v, "provider", (const char *[]){
			    "name", NULL }) == 0 &&
			    !config_is_null(name = yaml_get(v, "name")))
				config_string(l, name, "provider.name",
				    &ap->provider);
		} else if (config_key_is(k, "rules")) {
			if (config_seq(l, v, "rules") == -1)
				continue;
			ap->rules = xcalloc(v->n, sizeof(*ap->rules));
			for (j = 0; j < v->n; j++)
				sec_rule(l, v->values[j], &pol,
				    &ap->rules[ap->nrules++]);
		} else if (config_key_is(k, "targetRef") ||
		    config_key_is(k, "targetRefs"))
			config_error(l, k, "%s is not supported by meshkit; "
			    "use selector", k->value);
		else
			config_unknown_field(l, k, "AuthorizationPolicy");
	}
	/* rules: [] is no rules for Istio too (an empty repeated field) */
	if ((ap->action == AUTHZ_DENY || ap->action == AUTHZ_CUSTOM) &&
	    ap->nrules == 0 && (rules == NULL || config_is_null(rules) ||
	    rules->type == YNODE_SEQ))
		config_error(l, rules != NULL ? rules : (spec != NULL ? spec :
		    root), "%s action without rules is meaningless as it "
		    "will never be triggered; add an empty rule {} to "
		    "trigger it for every request", actions[ap->action]);
	if (ap->action == AUTHZ_CUSTOM && (ap->provider == NULL ||
	    ap->provider[0] == '\0'))
		config_error(l, provider != NULL ? provider : (spec != NULL ?
		    spec : root), "action CUSTOM needs provider.name, not "
		    "empty");
	else if (ap->action != AUTHZ_CUSTOM && provider != NULL)
		config_error(l, provider, "provider is only for action CUSTOM");
}

static void
sec_values_fini(struct authz_values *v)
{
	config_strings_free(v->v, v->n);
	free(v->blocks);
	memset(v, 0, sizeof(*v));
}

static void
sec_rule_fini(struct authz_rule *r)
{
	size_t	 i, f, j;

	for (i = 0; i < r->nfrom; i++)
		for (f = 0; f < SOURCE_NFIELDS; f++) {
			sec_values_fini(&r->from[i].values[f]);
			sec_values_fini(&r->from[i].not_values[f]);
		}
	free(r->from);
	for (i = 0; i < r->nto; i++)
		for (f = 0; f < OPERATION_NFIELDS; f++) {
			sec_values_fini(&r->to[i].values[f]);
			sec_values_fini(&r->to[i].not_values[f]);
		}
	free(r->to);
	for (i = 0; i < r->nwhen; i++) {
		struct authz_condition *c = &r->when[i];

		free(c->key);
		free(c->header);
		for (j = 0; j < c->nclaim; j++)
			free(c->claim[j]);
		free(c->claim);
		sec_values_fini(&c->values);
		sec_values_fini(&c->not_values);
	}
	free(r->when);
}

void
config_authorization_policy_fini(struct authorization_policy *ap)
{
	size_t	 i;

	config_meta_fini(&ap->meta);
	config_labels_fini(&ap->selector);
	free(ap->provider);
	for (i = 0; i < ap->nrules; i++)
		sec_rule_fini(&ap->rules[i]);
	free(ap->rules);
}
