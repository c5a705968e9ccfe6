/* SPDX-License-Identifier: ISC */
/*
 * RequestAuthentication, typed: the JWT rules of a workload, with the
 * checks of Istio's ValidateRequestAuthentication and of its CRD
 * schema, each error at its node; and what the two security kinds
 * share: the workload selector and the istio.io/dry-run annotation.
 * Unknown keys are errors, so that a misspelt field never turns a rule
 * into a wider one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "jwt.h"
#include "util.h"
#include "yaml.h"

#define DRY_RUN_ANNOTATION	"istio.io/dry-run"

static int	 authn_header_name(struct config_loader *, const struct ynode *,
		    const char *, int, char **);
static int	 authn_header_locations(struct config_loader *,
		    const struct ynode *, struct jwt_rule *);
static int	 authn_claim_headers(struct config_loader *,
		    const struct ynode *, struct jwt_rule *);
static int	 authn_nonempty(struct config_loader *, const struct ynode *,
		    const char *, char **, size_t);
static int	 authn_jwks_uri(struct config_loader *, const struct ynode *,
		    const char *);
static int	 authn_jwt_rule(struct config_loader *, const struct ynode *,
		    struct jwt_rule *);
static void	 authn_jwt_rule_fini(struct jwt_rule *);

/*
 * selector: {matchLabels: {...}}.  As Istio's validateWorkloadSelector:
 * no empty label name, no '*' in a name or a value.
 */
int
config_security_selector(struct config_loader *l, const struct ynode *n,
    struct labels *out, int *has)
{
	const struct ynode	*ml;
	size_t			 i;
	int			 rc;

	if (config_keys(l, n, "selector", (const char *[]){ "matchLabels",
	    NULL }) == -1)
		return -1;
	*has = 1;
	ml = yaml_get(n, "matchLabels");
	if (config_is_null(ml))
		return 0;
	if ((rc = config_labels(l, ml, "selector.matchLabels", out)) == -1)
		return -1;
	for (i = 0; i < out->n; i++) {
		if (out->keys[i][0] == '\0') {
			config_error(l, ml->keys[i], "selector.matchLabels: an "
			    "empty label name");
			rc = -1;
		}
		if (strchr(out->keys[i], '*') != NULL ||
		    strchr(out->values[i], '*') != NULL) {
			config_error(l, ml->keys[i], "selector.matchLabels: "
			    "no wildcard in a selector, got \"%.60s=%.60s\"",
			    out->keys[i], out->values[i]);
			rc = -1;
		}
	}
	return rc;
}

/*
 * metadata.annotations["istio.io/dry-run"]: 1 true, 0 false or absent,
 * -1 an error reported (a value strconv.ParseBool refuses, or the
 * annotation where Istio does not allow it).
 */
int
config_security_dry_run(struct config_loader *l, const struct ynode *root,
    int allowed, const char *why)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	const struct ynode	*md, *an, *v;
	size_t			 i;
	char			 q[80];

	md = yaml_get(root, "metadata");
	if (md == NULL || md->type != YNODE_MAP ||
	    (an = yaml_get(md, "annotations")) == NULL ||
	    an->type != YNODE_MAP ||
	    (v = yaml_get(an, DRY_RUN_ANNOTATION)) == NULL)
		return 0;
	if (!allowed) {
		config_error(l, v, "annotation " DRY_RUN_ANNOTATION " %s",
		    why);
		return -1;
	}
	if (v->type == YNODE_SCALAR && strlen(v->value) == v->len) {
		for (i = 0; i < nitems(yes); i++)
			if (strcmp(v->value, yes[i]) == 0)
				return 1;
		for (i = 0; i < nitems(no); i++)
			if (strcmp(v->value, no[i]) == 0)
				return 0;
	}
	config_describe(v, q, sizeof(q));
	config_error(l, v, "annotation " DRY_RUN_ANNOTATION " must be \"true\" "
	    "or \"false\", got %s", q);
	return -1;
}

/*
 * An HTTP header name, kept in lower case.  strict: Istio's
 * ValidateStrictHTTPHeaderName, letters, digits, '-' and '_' only.
 */
static int
authn_header_name(struct config_loader *l, const struct ynode *n,
    const char *what, int strict, char **out)
{
	char	*s = NULL, q[80];
	size_t	 len, i;
	int	 ok;

	if (config_string(l, n, what, &s) == -1)
		return -1;
	len = strlen(s);
	ok = len > 0 && len <= 127 && util_is_token((struct str){ s, len });
	for (i = 0; ok && strict && i < len; i++)
		if (!(s[i] == '-' || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
			ok = 0;
	if (!ok) {
		yaml_quote(q, sizeof(q), n->value, n->len);
		config_error(l, n, "%s must be an HTTP header name%s, got %s",
		    what, strict ? " (letters, digits, '-', '_')" : "", q);
		free(s);
		return -1;
	}
	config_lower(s);
	free(*out);
	*out = s;
	return 0;
}

static int
authn_header_locations(struct config_loader *l, const struct ynode *n,
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
		} else if (authn_header_name(l, v, "fromHeaders[].name", 0,
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
authn_claim_headers(struct config_loader *l, const struct ynode *n,
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
		} else if (authn_header_name(l, v,
		    "outputClaimToHeaders[].header", 1, &h->header) == -1)
			rc = -1;
		if (config_is_null(v = yaml_get(e, "claim"))) {
			config_error(l, e, "outputClaimToHeaders[].claim is "
			    "required");
			rc = -1;
		} else if (config_string(l, v, "outputClaimToHeaders[].claim",
		    &h->claim) == -1)
			rc = -1;
		else if (h->claim[0] == '\0') {
			config_error(l, v, "outputClaimToHeaders[]: a claim name "
			    "must not be empty");
			rc = -1;
		}
	}
	return rc;
}

/* Every string of a list read from n must be non-empty: what says so. */
static int
authn_nonempty(struct config_loader *l, const struct ynode *n,
    const char *what, char **v, size_t count)
{
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < count; i++)
		if (v[i][0] == '\0') {
			config_error(l, n->values[i], "%s", what);
			rc = -1;
		}
	return rc;
}

/*
 * As Istio's ParseJwksURI: http:// or https://, a host, a numeric port
 * when one is given; file:// is meshkit's own, for keys on disk.
 */
static int
authn_jwks_uri(struct config_loader *l, const struct ynode *n,
    const char *uri)
{
	const char	*host, *end, *colon;
	size_t		 i;

	if (strncmp(uri, "file://", 7) == 0) {
		if (uri[7] == '/')
			return 0;
		config_error(l, n, "jwksUri: a file:// URL takes an absolute "
		    "path");
		return -1;
	}
	if (strncmp(uri, "https://", 8) == 0)
		host = uri + 8;
	else if (strncmp(uri, "http://", 7) == 0)
		host = uri + 7;
	else {
		config_error(l, n, "jwksUri must be an https://, http:// or "
		    "file:// URL");
		return -1;
	}
	end = host + strcspn(host, "/?#");
	if (end == host) {
		config_error(l, n, "jwksUri: no host");
		return -1;
	}
	colon = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) :
	    host;
	if (colon == NULL) {
		config_error(l, n, "jwksUri: an IPv6 address without ']'");
		return -1;
	}
	colon = memchr(colon, ':', (size_t)(end - colon));
	if (colon != NULL) {
		for (i = 1; colon + i < end; i++)
			if (colon[i] < '0' || colon[i] > '9')
				break;
		if (colon + i < end || i == 1 || i > 6) {
			config_error(l, n, "jwksUri: the port must be a "
			    "number");
			return -1;
		}
	}
	return 0;
}

static int
authn_jwt_rule(struct config_loader *l, const struct ynode *n,
    struct jwt_rule *r)
{
	const struct ynode	*k, *v, *uri = NULL, *jwks = NULL, *key;
	size_t			 i;
	int			 rc = 0;
	char			 err[200];

	if (config_is_null(n)) {
		config_error(l, n, "jwtRules[] must not be null");
		return -1;
	}
	if (config_expect_map(l, n, "jwtRules[]") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "issuer"))
			rc |= config_string(l, v, "issuer", &r->issuer);
		else if (config_key_is(k, "audiences")) {
			if (config_string_list(l, v, "audiences",
			    &r->audiences, &r->naudiences) == -1 ||
			    authn_nonempty(l, v, "audiences: an audience must not be empty",
			    r->audiences,
			    r->naudiences) == -1)
				rc = -1;
		} else if (config_key_is(k, "jwksUri")) {
			uri = v;
			rc |= config_string(l, v, "jwksUri", &r->jwks_uri);
		} else if (config_key_is(k, "jwks")) {
			jwks = v;
			rc |= config_string(l, v, "jwks", &r->jwks);
		} else if (config_key_is(k, "fromHeaders"))
			rc |= authn_header_locations(l, v, r);
		else if (config_key_is(k, "fromParams")) {
			if (config_string_list(l, v, "fromParams",
			    &r->from_params, &r->nfrom_params) == -1 ||
			    authn_nonempty(l, v, "fromParams: a parameter name must not be "
			    "empty", r->from_params,
			    r->nfrom_params) == -1)
				rc = -1;
		} else if (config_key_is(k, "fromCookies")) {
			if (config_string_list(l, v, "fromCookies",
			    &r->from_cookies, &r->nfrom_cookies) == -1 ||
			    authn_nonempty(l, v, "fromCookies: a cookie name must not be "
			    "empty",
			    r->from_cookies, r->nfrom_cookies) == -1)
				rc = -1;
		} else if (config_key_is(k, "forwardOriginalToken"))
			rc |= config_bool(l, v, "forwardOriginalToken",
			    &r->forward_original_token);
		else if (config_key_is(k, "outputPayloadToHeader"))
			rc |= authn_header_name(l, v, "outputPayloadToHeader",
			    0, &r->output_payload_to_header);
		else if (config_key_is(k, "outputClaimToHeaders"))
			rc |= authn_claim_headers(l, v, r);
		else if (config_key_is(k, "spaceDelimitedClaims")) {
			if (config_string_list(l, v, "spaceDelimitedClaims",
			    &r->space_delimited_claims,
			    &r->nspace_delimited_claims) == -1 ||
			    authn_nonempty(l, v, "spaceDelimitedClaims: a claim name must "
			    "not be empty",
			    r->space_delimited_claims,
			    r->nspace_delimited_claims) == -1)
				rc = -1;
			else if (r->nspace_delimited_claims > 64) {
				config_error(l, v, "spaceDelimitedClaims: at "
				    "most 64");
				rc = -1;
			}
		} else if (config_key_is(k, "timeout"))
			rc |= config_duration(l, v, "timeout",
			    &r->timeout_ms);
		else {
			config_unknown_field(l, k, "jwtRules[]");
			rc = -1;
		}
	}
	if (r->issuer == NULL || r->issuer[0] == '\0') {
		key = yaml_get(n, "issuer");
		config_error(l, key != NULL ? key : n, "jwtRules[].issuer is "
		    "required");
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
	if (r->jwks_uri != NULL && authn_jwks_uri(l, uri, r->jwks_uri) == -1)
		rc = -1;
	if (r->jwks != NULL && rc == 0) {
		if ((r->keys = jwks_parse(r->jwks, strlen(r->jwks), err,
		    sizeof(err))) == NULL) {
			config_error(l, jwks, "jwks: %s", err);
			rc = -1;
		}
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

	config_security_dry_run(l, root, 0, "is only for AuthorizationPolicy "
	    "(ALLOW or DENY)");
	if (spec == NULL)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector"))
			config_security_selector(l, v, &ra->selector,
			    &ra->has_selector);
		else if (config_key_is(k, "jwtRules")) {
			if (config_seq(l, v, "jwtRules") == -1)
				continue;
			ra->rules = xcalloc(v->n, sizeof(*ra->rules));
			for (j = 0; j < v->n; j++)
				authn_jwt_rule(l, v->values[j],
				    &ra->rules[ra->nrules++]);
		} else if (config_key_is(k, "targetRef") ||
		    config_key_is(k, "targetRefs"))
			config_error(l, k, "%s is not supported by meshkit; "
			    "use selector", k->value);
		else
			config_unknown_field(l, k, "RequestAuthentication");
	}
}

static void
authn_jwt_rule_fini(struct jwt_rule *r)
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
		authn_jwt_rule_fini(&ra->rules[i]);
	free(ra->rules);
}
