/*
 * Istio's security kinds, typed: RequestAuthentication (who the caller
 * says it is, in a JWT) and AuthorizationPolicy (what it may do).  The
 * checks are Istio's validation plus what meshkit cannot do, each error
 * at its node; unknown keys are errors, so that a misspelt field never
 * turns a rule into a wider one.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "jwt.h"
#include "util.h"
#include "yaml.h"

static const char *const source_names[SOURCE_NFIELDS] = {
	"principals", "requestPrincipals", "namespaces", "ipBlocks",
	"remoteIpBlocks",
};
static const char *const not_source_names[SOURCE_NFIELDS] = {
	"notPrincipals", "notRequestPrincipals", "notNamespaces",
	"notIpBlocks", "notRemoteIpBlocks",
};
static const char *const operation_names[OPERATION_NFIELDS] = {
	"hosts", "ports", "methods", "paths",
};
static const char *const not_operation_names[OPERATION_NFIELDS] = {
	"notHosts", "notPorts", "notMethods", "notPaths",
};

static int	 sec_selector(struct config_loader *, const struct ynode *,
		    struct labels *, int *);
static int	 sec_value_fields(struct config_loader *, const struct ynode *,
		    const char *, const char *const *, const char *const *,
		    const int *, size_t, struct authz_values *,
		    struct authz_values *);
static int	 sec_jwt_rule(struct config_loader *, const struct ynode *,
		    struct jwt_rule *);
static int	 sec_header_locations(struct config_loader *,
		    const struct ynode *, struct jwt_rule *);
static int	 sec_claim_headers(struct config_loader *, const struct ynode *,
		    struct jwt_rule *);
static int	 sec_header_name(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	 sec_values(struct config_loader *, const struct ynode *,
		    const char *, int, struct authz_values *);
static int	 sec_value_ok(struct config_loader *, const struct ynode *,
		    const char *, const char *, int);
static int	 sec_path_ok(const char *);
static int	 sec_source(struct config_loader *, const struct ynode *,
		    struct authz_source *);
static int	 sec_operation(struct config_loader *, const struct ynode *,
		    struct authz_operation *);
static int	 sec_condition(struct config_loader *, const struct ynode *,
		    struct authz_condition *);
static int	 sec_condition_key(struct config_loader *, const struct ynode *,
		    struct authz_condition *);
static int	 sec_rule(struct config_loader *, const struct ynode *,
		    struct authz_rule *);
static void	 sec_values_fini(struct authz_values *);
static void	 sec_rule_fini(struct authz_rule *);
static void	 sec_jwt_rule_fini(struct jwt_rule *);

/*
 * "10.0.0.0/8", "10.1.2.3", "fd00::/8".  Host bits set under the mask
 * are an error, as Istio's validation (net.ParseCIDR) does not say but
 * Envoy would silently clear.
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
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			return -1;
	}
	b->bits = (unsigned)bits;
	for (i = b->bits; i < max; i++)
		if (b->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

static int
sec_selector(struct config_loader *l, const struct ynode *n,
    struct labels *out, int *has)
{
	const struct ynode	*ml;

	if (config_keys(l, n, "selector", (const char *[]){ "matchLabels",
	    NULL }) == -1)
		return -1;
	*has = 1;
	ml = yaml_get(n, "matchLabels");
	if (config_is_null(ml))
		return 0;
	return config_labels(l, ml, "selector.matchLabels", out);
}

/* An HTTP header name, kept in lower case. */
static int
sec_header_name(struct config_loader *l, const struct ynode *n,
    const char *what, char **out)
{
	char	*s = NULL, q[80];
	size_t	 len;

	if (config_string(l, n, what, &s) == -1)
		return -1;
	len = strlen(s);
	if (!util_is_token((struct str){ s, len }) || len > 127) {
		yaml_quote(q, sizeof(q), n->value, n->len);
		config_error(l, n, "%s must be an HTTP header name, got %s",
		    what, q);
		free(s);
		return -1;
	}
	config_lower(s);
	free(*out);
	*out = s;
	return 0;
}

static int
sec_header_locations(struct config_loader *l, const struct ynode *n,
    struct jwt_rule *r)
{
	size_t	 i;
	int	 rc = 0;

	if (config_seq(l, n, "fromHeaders") == -1)
		return -1;
	r->from_headers = xcalloc(n->n, sizeof(*r->from_headers));
	for (i = 0; i < n->n; i++) {
		const struct ynode *e = n->values[i], *v;
		struct jwt_header_location *h =
		    &r->from_headers[r->nfrom_headers++];

		if (config_keys(l, e, "fromHeaders[]", (const char *[]){
		    "name", "prefix", NULL }) == -1) {
			rc = -1;
			continue;
		}
		if (config_is_null(v = yaml_get(e, "name"))) {
			config_error(l, e, "fromHeaders[].name is required");
			rc = -1;
		} else if (sec_header_name(l, v, "fromHeaders[].name",
		    &h->name) == -1)
			rc = -1;
		if (!config_is_null(v = yaml_get(e, "prefix")) &&
		    config_string(l, v, "fromHeaders[].prefix",
		    &h->prefix) == -1)
			rc = -1;
	}
	return rc;
}

static int
sec_claim_headers(struct config_loader *l, const struct ynode *n,
    struct jwt_rule *r)
{
	size_t	 i;
	int	 rc = 0;

	if (config_seq(l, n, "outputClaimToHeaders") == -1)
		return -1;
	r->output_claim_to_headers = xcalloc(n->n,
	    sizeof(*r->output_claim_to_headers));
	for (i = 0; i < n->n; i++) {
		const struct ynode *e = n->values[i], *v;
		struct jwt_claim_header *h =
		    &r->output_claim_to_headers[r->noutput_claim_to_headers++];

		if (config_keys(l, e, "outputClaimToHeaders[]",
		    (const char *[]){ "header", "claim", NULL }) == -1) {
			rc = -1;
			continue;
		}
		if (config_is_null(v = yaml_get(e, "header"))) {
			config_error(l, e, "outputClaimToHeaders[].header is "
			    "required");
			rc = -1;
		} else if (sec_header_name(l, v,
		    "outputClaimToHeaders[].header", &h->header) == -1)
			rc = -1;
		if (config_is_null(v = yaml_get(e, "claim"))) {
			config_error(l, e, "outputClaimToHeaders[].claim is "
			    "required");
			rc = -1;
		} else if (config_string(l, v, "outputClaimToHeaders[].claim",
		    &h->claim) == -1)
			rc = -1;
	}
	return rc;
}

static int
sec_jwt_rule(struct config_loader *l, const struct ynode *n,
    struct jwt_rule *r)
{
	const struct ynode	*k, *v, *uri = NULL, *jwks = NULL;
	size_t			 i;
	int			 rc = 0;
	char			 err[200];

	if (config_expect_map(l, n, "jwtRules[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "issuer"))
			rc |= config_string(l, v, "issuer", &r->issuer);
		else if (config_key_is(k, "audiences"))
			rc |= config_string_list(l, v, "audiences",
			    &r->audiences, &r->naudiences);
		else if (config_key_is(k, "jwksUri")) {
			uri = v;
			rc |= config_string(l, v, "jwksUri", &r->jwks_uri);
		} else if (config_key_is(k, "jwks")) {
			jwks = v;
			rc |= config_string(l, v, "jwks", &r->jwks);
		} else if (config_key_is(k, "fromHeaders"))
			rc |= sec_header_locations(l, v, r);
		else if (config_key_is(k, "fromParams"))
			rc |= config_string_list(l, v, "fromParams",
			    &r->from_params, &r->nfrom_params);
		else if (config_key_is(k, "fromCookies"))
			rc |= config_string_list(l, v, "fromCookies",
			    &r->from_cookies, &r->nfrom_cookies);
		else if (config_key_is(k, "forwardOriginalToken"))
			rc |= config_bool(l, v, "forwardOriginalToken",
			    &r->forward_original_token);
		else if (config_key_is(k, "outputPayloadToHeader"))
			rc |= sec_header_name(l, v, "outputPayloadToHeader",
			    &r->output_payload_to_header);
		else if (config_key_is(k, "outputClaimToHeaders"))
			rc |= sec_claim_headers(l, v, r);
		else if (config_key_is(k, "spaceDelimitedClaims"))
			rc |= config_string_list(l, v, "spaceDelimitedClaims",
			    &r->space_delimited_claims,
			    &r->nspace_delimited_claims);
		else if (config_key_is(k, "timeout"))
			rc |= config_duration(l, v, "timeout",
			    &r->timeout_ms);
		else {
			config_unknown_field(l, k, "jwtRules[]");
			rc = -1;
		}
	}
	if (r->issuer == NULL || r->issuer[0] == '\0') {
		config_error(l, n, "jwtRules[].issuer is required");
		rc = -1;
	}
	if (uri != NULL && jwks != NULL) {
		config_error(l, uri, "jwtRules[]: give jwks or jwksUri, not "
		    "both");
		rc = -1;
	} else if (uri == NULL && jwks == NULL) {
		config_error(l, n, "jwtRules[]: jwks or jwksUri is required "
		    "(meshkit does no OpenID discovery)");
		rc = -1;
	}
	if (r->jwks_uri != NULL && strncmp(r->jwks_uri, "https://", 8) != 0 &&
	    strncmp(r->jwks_uri, "http://", 7) != 0 &&
	    strncmp(r->jwks_uri, "file://", 7) != 0) {
		config_error(l, uri, "jwksUri must be an https://, http:// or "
		    "file:// URL");
		rc = -1;
	}
	if (r->jwks != NULL && rc == 0) {
		if ((r->keys = jwks_parse(r->jwks, strlen(r->jwks), err,
		    sizeof(err))) == NULL) {
			config_error(l, jwks, "jwks: %s", err);
			rc = -1;
		}
	}
	for (i = 0; i < r->nfrom_params; i++)
		if (r->from_params[i][0] == '\0') {
			config_error(l, n, "fromParams: an empty name");
			rc = -1;
		}
	/* Istio refuses these empty too */
	for (i = 0; i < r->nfrom_cookies; i++)
		if (r->from_cookies[i][0] == '\0') {
			config_error(l, yaml_get(n, "fromCookies")->values[i],
			    "fromCookies: a cookie name must not be empty");
			rc = -1;
		}
	for (i = 0; i < r->naudiences; i++)
		if (r->audiences[i][0] == '\0') {
			config_error(l, yaml_get(n, "audiences")->values[i],
			    "audiences: an audience must not be empty");
			rc = -1;
		}
	for (i = 0; i < r->noutput_claim_to_headers; i++)
		if (r->output_claim_to_headers[i].claim != NULL &&
		    r->output_claim_to_headers[i].claim[0] == '\0') {
			config_error(l, yaml_get(n, "outputClaimToHeaders"),
			    "outputClaimToHeaders[]: a claim name must not be "
			    "empty");
			rc = -1;
		}
	return rc == 0 ? 0 : -1;
}

void
config_request_authentication(struct config_loader *l,
    const struct ynode *root, const struct ynode *spec,
    struct request_authentication *ra)
{
	const struct ynode	*k, *v;
	size_t			 i, j;

	if (spec == NULL)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector"))
			sec_selector(l, v, &ra->selector, &ra->has_selector);
		else if (config_key_is(k, "jwtRules")) {
			if (config_seq(l, v, "jwtRules") == -1)
				continue;
			ra->rules = xcalloc(v->n, sizeof(*ra->rules));
			for (j = 0; j < v->n; j++)
				sec_jwt_rule(l, v->values[j],
				    &ra->rules[ra->nrules++]);
		} else if (config_key_is(k, "targetRef") ||
		    config_key_is(k, "targetRefs"))
			config_error(l, k, "%s is not supported by meshkit; "
			    "use selector", k->value);
		else
			config_unknown_field(l, k, "RequestAuthentication");
	}
}

/* Istio's value forms: exact, "prefix*", "*suffix", "*". */
static int
sec_value_ok(struct config_loader *l, const struct ynode *n,
    const char *what, const char *s, int path)
{
	size_t	 len = strlen(s);
	char	 q[80];

	if (len == 0) {
		config_error(l, n, "%s: empty value", what);
		return -1;
	}
	if (path && strchr(s, '{') != NULL) {
		if (sec_path_ok(s) == 0)
			return 0;
		yaml_quote(q, sizeof(q), s, len);
		config_error(l, n, "%s: bad path template %s ({*} and {**} "
		    "each a whole segment, no operator after {**}, literal "
		    "segments of path characters)", what, q);
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
 * A path template, as Istio checks it: segments "{*}" (one segment),
 * "{**}" (any number of them) or literal text of RFC 3986's path
 * characters; no operator after "{**}", which literal segments may
 * follow ("/{**}/path/template").
 */
static int
sec_path_ok(const char *s)
{
	static const char pchars[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()+,;:@=";
	const char	*seg, *next;
	size_t		 n;
	int		 any = 0;

	if (s[0] != '/')
		return -1;
	for (seg = s + 1; ; seg = next + 1) {
		next = strchr(seg, '/');
		n = next != NULL ? (size_t)(next - seg) : strlen(seg);
		/* a trailing '/' ends the template, as Istio trims it */
		if (n == 0 && next == NULL && seg != s + 1)
			break;
		if ((n == 3 && memcmp(seg, "{*}", 3) == 0) ||
		    (n == 4 && memcmp(seg, "{**}", 4) == 0)) {
			if (any)
				return -1;
			any = n == 4;
		} else if (n == 0 || strspn(seg, pchars) < n)
			return -1;
		if (next == NULL)
			break;
	}
	return 0;
}

/*
 * A list of values of one field.  kind: 0 plain, 1 path, 2 address
 * block, 3 port, 4 principal-like (exact/prefix/suffix/presence).
 */
static int
sec_values(struct config_loader *l, const struct ynode *n, const char *what,
    int kind, struct authz_values *out)
{
	size_t	 i;
	int	 rc = 0;
	char	 q[80];

	if (config_string_list(l, n, what, &out->v, &out->n) == -1)
		return -1;
	out->present = 1;
	if (kind == 2)
		out->blocks = xcalloc(out->n + 1, sizeof(*out->blocks));
	for (i = 0; i < out->n; i++) {
		const struct ynode *e = n->values[i];

		if (kind == 2) {
			if (config_ip_block(out->v[i], &out->blocks[i]) == -1) {
				yaml_quote(q, sizeof(q), e->value, e->len);
				config_error(l, e, "%s: want an address or "
				    "CIDR block, got %s", what, q);
				rc = -1;
			}
		} else if (kind == 3) {
			char		*end;
			unsigned long	 p = strtoul(out->v[i], &end, 10);

			if (out->v[i][0] < '0' || out->v[i][0] > '9' ||
			    *end != '\0' || p > 65535) {
				yaml_quote(q, sizeof(q), e->value, e->len);
				config_error(l, e, "%s: want a port 0..65535, "
				    "got %s", what, q);
				rc = -1;
			}
		} else if (sec_value_ok(l, e, what, out->v[i], kind == 1) ==
		    -1)
			rc = -1;
	}
	return rc;
}

/*
 * A source's or an operation's fields: each field, or its not-form, a
 * list of values of sec_values's kinds[f]; at least one is required.
 */
static int
sec_value_fields(struct config_loader *l, const struct ynode *n,
    const char *what, const char *const *names, const char *const *not_names,
    const int *kinds, size_t nfields, struct authz_values *values,
    struct authz_values *not_values)
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
			if (names == source_names &&
			    (config_key_is(k, "serviceAccounts") ||
			    config_key_is(k, "notServiceAccounts")))
				config_error(l, k, "%s is not supported by "
				    "meshkit; use principals", k->value);
			else
				config_unknown_field(l, k, what);
			rc = -1;
			continue;
		}
		if (config_is_null(v))
			continue;
		rc |= sec_values(l, v, k->value, kinds[f],
		    config_key_is(k, not_names[f]) ? &not_values[f] :
		    &values[f]);
		any = 1;
		/* a peer's identity comes with mTLS, which meshkit lacks */
		if (names == source_names && (f == SOURCE_PRINCIPALS ||
		    f == SOURCE_NAMESPACES))
			config_warn(l, k, "AuthorizationPolicy source.%s is not "
			    "supported by meshkit and is ignored: without mTLS "
			    "no request has a peer %s, so it %s matches",
			    k->value, f == SOURCE_PRINCIPALS ? "principal" :
			    "namespace", config_key_is(k, not_names[f]) ?
			    "always" : "never");
	}
	if (!any && rc == 0) {
		config_error(l, n, "%s must not be empty", what);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
sec_source(struct config_loader *l, const struct ynode *n,
    struct authz_source *s)
{
	static const int kinds[SOURCE_NFIELDS] = {
		[SOURCE_IP_BLOCKS] = 2, [SOURCE_REMOTE_IP_BLOCKS] = 2,
	};

	return sec_value_fields(l, n, "from[].source", source_names,
	    not_source_names, kinds, SOURCE_NFIELDS, s->values,
	    s->not_values);
}

static int
sec_operation(struct config_loader *l, const struct ynode *n,
    struct authz_operation *o)
{
	static const int kinds[OPERATION_NFIELDS] = {
		[OPERATION_PORTS] = 3, [OPERATION_PATHS] = 1,
	};

	return sec_value_fields(l, n, "to[].operation", operation_names,
	    not_operation_names, kinds, OPERATION_NFIELDS, o->values,
	    o->not_values);
}

static int
sec_condition_key(struct config_loader *l, const struct ynode *n,
    struct authz_condition *c)
{
	static const struct {
		const char	*name;
		enum authz_key	 kind;
	} plain[] = {
		{ "source.ip", KEY_SOURCE_IP },
		{ "remote.ip", KEY_REMOTE_IP },
		{ "source.namespace", KEY_SOURCE_NAMESPACE },
		{ "source.principal", KEY_SOURCE_PRINCIPAL },
		{ "request.auth.principal", KEY_REQUEST_PRINCIPAL },
		{ "request.auth.audiences", KEY_REQUEST_AUDIENCES },
		{ "request.auth.presenter", KEY_REQUEST_PRESENTER },
		{ "destination.ip", KEY_DESTINATION_IP },
		{ "destination.port", KEY_DESTINATION_PORT },
		{ "connection.sni", KEY_CONNECTION_SNI },
	};
	const char	*key = c->key, *p, *close;
	size_t		 i;
	char		 q[80];

	for (i = 0; i < nitems(plain); i++)
		if (strcmp(key, plain[i].name) == 0) {
			c->kind = plain[i].kind;
			if (c->kind == KEY_SOURCE_PRINCIPAL ||
			    c->kind == KEY_SOURCE_NAMESPACE)
				config_warn(l, n, "AuthorizationPolicy when "
				    "key %s is not supported by meshkit and is "
				    "ignored: without mTLS no request has it, so "
				    "it never matches", key);
			return 0;
		}
	yaml_quote(q, sizeof(q), n->value, n->len);
	if (strncmp(key, "request.headers[", 16) == 0) {
		p = key + 16;
		close = strchr(p, ']');
		if (close == NULL || close[1] != '\0' || close == p) {
			config_error(l, n, "when[].key: want "
			    "request.headers[name], got %s", q);
			return -1;
		}
		c->kind = KEY_REQUEST_HEADER;
		c->header = xstrndup(p, (size_t)(close - p));
		config_lower(c->header);
		return 0;
	}
	if (strncmp(key, "request.auth.claims[", 20) == 0) {
		/* [a][b][c]: a nested claim; the names may hold '/' or '.' */
		c->kind = KEY_REQUEST_CLAIM;
		for (p = key + 19; *p == '['; p = close + 1) {
			close = strchr(p + 1, ']');
			if (close == NULL || close == p + 1 ||
			    memchr(p + 1, '[', (size_t)(close - p - 1)) !=
			    NULL || c->nclaim == 16)
				break;
			c->claim = xreallocarray(c->claim, c->nclaim + 1,
			    sizeof(*c->claim));
			c->claim[c->nclaim++] = xstrndup(p + 1,
			    (size_t)(close - p - 1));
		}
		if (*p != '\0' || c->nclaim == 0) {
			config_error(l, n, "when[].key: want "
			    "request.auth.claims[name] or [name][nested]..., "
			    "got %s", q);
			return -1;
		}
		return 0;
	}
	if (strncmp(key, "experimental.envoy.filters.", 27) == 0)
		config_error(l, n, "when[].key %s is not supported by meshkit",
		    q);
	else
		config_error(l, n, "when[].key: unknown key %s", q);
	return -1;
}

static int
sec_condition(struct config_loader *l, const struct ynode *n,
    struct authz_condition *c)
{
	const struct ynode	*k, *v, *keynode = NULL;
	size_t			 i;
	int			 rc = 0, kind = 0;

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
	if (c->key == NULL) {
		if (rc == 0)
			config_error(l, n, "when[].key is required");
		return -1;
	}
	if (sec_condition_key(l, keynode, c) == -1)
		return -1;
	if (c->kind == KEY_SOURCE_IP || c->kind == KEY_REMOTE_IP ||
	    c->kind == KEY_DESTINATION_IP)
		kind = 2;
	else if (c->kind == KEY_DESTINATION_PORT)
		kind = 3;
	if (!config_is_null(v = yaml_get(n, "values")))
		rc |= sec_values(l, v, "when[].values", kind, &c->values);
	if (!config_is_null(v = yaml_get(n, "notValues")))
		rc |= sec_values(l, v, "when[].notValues", kind,
		    &c->not_values);
	if (rc == 0 && c->values.n == 0 && c->not_values.n == 0) {
		config_error(l, n, "when[]: values or notValues is required "
		    "for %s", c->key);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
sec_rule(struct config_loader *l, const struct ynode *n, struct authz_rule *r)
{
	const struct ynode	*k, *v, *e, *inner;
	size_t			 i, j;
	int			 rc = 0;

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
					rc |= sec_source(l, inner,
					    &r->from[r->nfrom]);
				else
					rc |= sec_operation(l, inner,
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
				rc |= sec_condition(l, v->values[j],
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
	const struct ynode	*k, *v, *provider = NULL, *name;
	size_t			 i, j;
	int			 action = AUTHZ_ALLOW;

	ap->action = AUTHZ_ALLOW;
	if (spec == NULL)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector"))
			sec_selector(l, v, &ap->selector, &ap->has_selector);
		else if (config_key_is(k, "action")) {
			if (config_enum(l, v, "action", actions, &action) == 0)
				ap->action = (enum authz_action)action;
		} else if (config_key_is(k, "provider")) {
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
				sec_rule(l, v->values[j],
				    &ap->rules[ap->nrules++]);
		} else if (config_key_is(k, "targetRef") ||
		    config_key_is(k, "targetRefs"))
			config_error(l, k, "%s is not supported by meshkit; "
			    "use selector", k->value);
		else
			config_unknown_field(l, k, "AuthorizationPolicy");
	}
	if (ap->action == AUTHZ_CUSTOM && ap->provider == NULL)
		config_error(l, provider != NULL ? provider : spec,
		    "action CUSTOM needs provider.name");
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

static void
sec_jwt_rule_fini(struct jwt_rule *r)
{
	size_t	 i;

	free(r->issuer);
	config_strings_free(r->audiences, r->naudiences);
	free(r->jwks);
	jwks_free(r->keys);
	free(r->jwks_uri);
	for (i = 0; i < r->nfrom_headers; i++) {
		free(r->from_headers[i].name);
		free(r->from_headers[i].prefix);
	}
	free(r->from_headers);
	config_strings_free(r->from_params, r->nfrom_params);
	config_strings_free(r->from_cookies, r->nfrom_cookies);
	free(r->output_payload_to_header);
	for (i = 0; i < r->noutput_claim_to_headers; i++) {
		free(r->output_claim_to_headers[i].header);
		free(r->output_claim_to_headers[i].claim);
	}
	free(r->output_claim_to_headers);
	config_strings_free(r->space_delimited_claims,
	    r->nspace_delimited_claims);
}

void
config_request_authentication_fini(struct request_authentication *ra)
{
	size_t	 i;

	config_meta_fini(&ra->meta);
	config_labels_fini(&ra->selector);
	for (i = 0; i < ra->nrules; i++)
		sec_jwt_rule_fini(&ra->rules[i]);
	free(ra->rules);
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
