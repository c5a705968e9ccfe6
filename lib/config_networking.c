/*
 * Istio's traffic management kinds, typed: VirtualService and
 * DestinationRule, and the Kubernetes Service read as a ServiceEntry
 * with a workload selector.  The rules are Istio's validation (unknown
 * fields, weights, durations, percentages, one of exact/prefix/regex),
 * each error at its node.  Regexes are compiled here, once per load.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "match.h"
#include "util.h"
#include "yaml.h"

static int	nw_seq(struct config_loader *, const struct ynode *,
		    const char *);
static int	nw_string_match(struct config_loader *, const struct ynode *,
		    const char *, int, int, struct string_match *);
static int	nw_named(struct config_loader *, const struct ynode *,
		    const char *, int, struct named_match **, size_t *);
static int	nw_percent(struct config_loader *, const struct ynode *,
		    const char *, uint32_t *);
static int	nw_match(struct config_loader *, const struct ynode *,
		    struct http_match *);
static int	nw_header_ops(struct config_loader *, const struct ynode *,
		    const char *, struct header_operations *);
static int	nw_headers(struct config_loader *, const struct ynode *,
		    struct headers_policy *);
static int	nw_destination(struct config_loader *, const struct ynode *,
		    const char *, struct http_destination *);
static int	nw_route_dest(struct config_loader *, const struct ynode *,
		    struct http_destination *);
static int	nw_redirect(struct config_loader *, const struct ynode *,
		    struct http_redirect *);
static int	nw_rewrite(struct config_loader *, const struct ynode *,
		    struct http_rewrite *);
static int	nw_retries(struct config_loader *, const struct ynode *,
		    struct http_retries *);
static int	nw_fault(struct config_loader *, const struct ynode *,
		    struct http_fault *);
static int	nw_cors(struct config_loader *, const struct ynode *,
		    struct cors_policy *);
static int	nw_http(struct config_loader *, const struct ynode *,
		    struct http_route *);
static int	nw_policy(struct config_loader *, const struct ynode *,
		    int, struct traffic_policy *);
static int	nw_lb(struct config_loader *, const struct ynode *,
		    struct traffic_policy *);
static int	nw_hash(struct config_loader *, const struct ynode *,
		    struct traffic_policy *);
static int	nw_keys(struct config_loader *, const struct ynode *,
		    const char *, const char *const *);
static void	nw_lower(char *);
static void	nw_header_ops_fini(struct header_operations *);
static void	nw_destination_fini(struct http_destination *);
static void	nw_match_fini(struct http_match *);
static void	nw_http_fini(struct http_route *);
static void	nw_policy_fini(struct traffic_policy *);

static const char *const retry_on_words[] = {
	"5xx", "gateway-error", "reset", "connect-failure", "envoy-ratelimited",
	"retriable-4xx", "refused-stream", "retriable-status-codes",
	"retriable-headers", "cancelled", "deadline-exceeded", "internal",
	"resource-exhausted", "unavailable", "http3-post-connect-failure",
	NULL
};

static void
nw_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
nw_seq(struct config_loader *l, const struct ynode *n, const char *what)
{
	char	 got[80];

	if (n->type == YNODE_SEQ)
		return 0;
	config_describe(n, got, sizeof(got));
	config_error(l, n, "%s must be a list, got %s", what, got);
	return -1;
}

/* A map whose keys must all be among names (for kept, unread trees). */
static int
nw_keys(struct config_loader *l, const struct ynode *n, const char *what,
    const char *const *names)
{
	size_t	 i, j;
	int	 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		for (j = 0; names[j] != NULL; j++)
			if (config_key_is(n->keys[i], names[j]))
				break;
		if (names[j] == NULL) {
			config_unknown_field(l, n->keys[i], what);
			rc = -1;
		}
	}
	return rc;
}

/* {exact|prefix|regex: s}; {} means "present" where empty_ok. */
static int
nw_string_match(struct config_loader *l, const struct ynode *n,
    const char *what, int empty_ok, int caseless, struct string_match *m)
{
	char	 err[200];
	size_t	 i;
	int	 rc = 0, kinds = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i], *v = n->values[i];
		enum string_match_kind kind;

		if (config_key_is(k, "exact"))
			kind = MATCH_EXACT;
		else if (config_key_is(k, "prefix"))
			kind = MATCH_PREFIX;
		else if (config_key_is(k, "regex"))
			kind = MATCH_REGEX;
		else {
			config_unknown_field(l, k, what);
			rc = -1;
			continue;
		}
		if (config_is_null(v))
			continue;
		if (kinds++ > 0) {
			config_error(l, k, "%s takes one of exact, prefix and "
			    "regex", what);
			rc = -1;
			continue;
		}
		if (config_string(l, v, what, &m->value) == -1) {
			rc = -1;
			continue;
		}
		m->kind = kind;
		if (kind == MATCH_REGEX) {
			m->regex = match_regex_compile(m->value, caseless,
			    err, sizeof(err));
			if (m->regex == NULL) {
				config_error(l, v, "%s: bad regex: %s", what,
				    err);
				rc = -1;
			}
		}
	}
	if (rc == 0 && kinds == 0 && !empty_ok) {
		config_error(l, n, "%s needs one of exact, prefix and regex",
		    what);
		rc = -1;
	}
	return rc;
}

static int
nw_named(struct config_loader *l, const struct ynode *n, const char *what,
    int lower, struct named_match **out, size_t *nout)
{
	size_t	 i;
	int	 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	*out = xcalloc(n->n, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		struct named_match *nm = &(*out)[*nout];

		if (config_string(l, n->keys[i], what, &nm->name) == -1) {
			rc = -1;
			continue;
		}
		(*nout)++;
		if (nm->name[0] == '\0') {
			config_error(l, n->keys[i], "%s: empty name", what);
			rc = -1;
		}
		if (lower)
			nw_lower(nm->name);
		if (!config_is_null(n->values[i]) && nw_string_match(l,
		    n->values[i], what, 1, 0, &nm->match) == -1)
			rc = -1;
	}
	return rc;
}

/* {value: 0..100}, a double, as parts per million. */
static int
nw_percent(struct config_loader *l, const struct ynode *n, const char *what,
    uint32_t *ppm)
{
	const struct ynode	*v;
	char			*end, got[80];
	double			 d;
	size_t			 i;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++)
		if (!config_key_is(n->keys[i], "value")) {
			config_unknown_field(l, n->keys[i], what);
			return -1;
		}
	v = yaml_get(n, "value");
	if (config_is_null(v)) {
		*ppm = 0;
		return 0;
	}
	if (v->type == YNODE_SCALAR && v->len > 0) {
		d = strtod(v->value, &end);
		if (*end == '\0' && isfinite(d) && d >= 0 && d <= 100) {
			*ppm = (uint32_t)(d * 10000 + 0.5);
			return 0;
		}
	}
	config_describe(v, got, sizeof(got));
	config_error(l, v, "%s must be a number 0..100, got %s", what, got);
	return -1;
}

static int
nw_match(struct config_loader *l, const struct ynode *n, struct http_match *m)
{
	const struct ynode	*k, *v, *uri = NULL;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "HTTPMatchRequest") == -1)
		return -1;
	/* ignoreUriCase compiles the uri regex caseless: read it first */
	v = yaml_get(n, "ignoreUriCase");
	if (!config_is_null(v))
		rc |= config_bool(l, v, "ignoreUriCase", &m->ignore_uri_case);
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "uri"))
			uri = v;
		else if (config_key_is(k, "scheme"))
			rc |= nw_string_match(l, v, "scheme", 0, 0, &m->scheme);
		else if (config_key_is(k, "method"))
			rc |= nw_string_match(l, v, "method", 0, 0, &m->method);
		else if (config_key_is(k, "authority"))
			rc |= nw_string_match(l, v, "authority", 0, 0,
			    &m->authority);
		else if (config_key_is(k, "headers"))
			rc |= nw_named(l, v, "headers", 1, &m->headers,
			    &m->nheaders);
		else if (config_key_is(k, "withoutHeaders"))
			rc |= nw_named(l, v, "withoutHeaders", 1,
			    &m->without_headers, &m->nwithout_headers);
		else if (config_key_is(k, "queryParams"))
			rc |= nw_named(l, v, "queryParams", 0,
			    &m->query_params, &m->nquery_params);
		else if (config_key_is(k, "port"))
			rc |= config_u32(l, v, "port", 1, 65535, &m->port);
		else if (config_key_is(k, "sourceLabels"))
			rc |= config_labels(l, v, "sourceLabels",
			    &m->source_labels);
		else if (config_key_is(k, "sourceNamespace"))
			rc |= config_string(l, v, "sourceNamespace",
			    &m->source_namespace);
		else if (config_key_is(k, "name"))
			rc |= config_string(l, v, "match name", &m->name);
		else if (config_key_is(k, "gateways"))
			rc |= config_string_list(l, v, "gateways",
			    &m->gateways, &m->ngateways);
		else if (config_key_is(k, "ignoreUriCase"))
			;
		else if (config_key_is(k, "statPrefix"))
			;	/* Envoy stats naming: nothing to do here */
		else {
			config_unknown_field(l, k, "HTTPMatchRequest");
			rc = -1;
		}
	}
	if (uri != NULL)
		rc |= nw_string_match(l, uri, "uri", 0, m->ignore_uri_case,
		    &m->uri);
	for (i = 0; i < m->nheaders; i++)
		/* Istio reserves the pseudo-headers' names for the fields */
		if (strcmp(m->headers[i].name, "uri") == 0 ||
		    strcmp(m->headers[i].name, "scheme") == 0 ||
		    strcmp(m->headers[i].name, "method") == 0 ||
		    strcmp(m->headers[i].name, "authority") == 0) {
			config_error(l, yaml_get(n, "headers"), "header name "
			    "%s is reserved: use the match field",
			    m->headers[i].name);
			rc = -1;
		}
	return rc == 0 ? 0 : -1;
}

static int
nw_header_ops(struct config_loader *l, const struct ynode *n,
    const char *what, struct header_operations *o)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "set"))
			rc |= config_labels(l, v, "headers set", &o->set);
		else if (config_key_is(k, "add"))
			rc |= config_labels(l, v, "headers add", &o->add);
		else if (config_key_is(k, "remove"))
			rc |= config_string_list(l, v, "headers remove",
			    &o->remove, &o->nremove);
		else {
			config_unknown_field(l, k, what);
			rc = -1;
		}
	}
	/* a header is one line of token name and visible value */
	for (i = 0; i < o->set.n + o->add.n; i++) {
		struct labels *lb = i < o->set.n ? &o->set : &o->add;
		size_t j = i < o->set.n ? i : i - o->set.n;

		nw_lower(lb->keys[j]);
		if (lb->keys[j][0] == '\0' || strpbrk(lb->keys[j],
		    " \t\r\n:") != NULL || strpbrk(lb->values[j], "\r\n") !=
		    NULL) {
			config_error(l, n, "%s: header %.60s: a name must be "
			    "a token and a value one line", what, lb->keys[j]);
			rc = -1;
		}
	}
	for (i = 0; i < o->nremove; i++)
		nw_lower(o->remove[i]);
	return rc == 0 ? 0 : -1;
}

static int
nw_headers(struct config_loader *l, const struct ynode *n,
    struct headers_policy *h)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "headers") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "request"))
			rc |= nw_header_ops(l, v, "headers request",
			    &h->request);
		else if (config_key_is(k, "response"))
			rc |= nw_header_ops(l, v, "headers response",
			    &h->response);
		else {
			config_unknown_field(l, k, "headers");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

/* Destination: host, subset, port.number. */
static int
nw_destination(struct config_loader *l, const struct ynode *n,
    const char *what, struct http_destination *d)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, what) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "host"))
			rc |= config_string(l, v, "destination host",
			    &d->host);
		else if (config_key_is(k, "subset"))
			rc |= config_string(l, v, "destination subset",
			    &d->subset);
		else if (config_key_is(k, "port")) {
			if (config_expect_map(l, v, "destination port") ==
			    -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				if (config_key_is(v->keys[j], "number"))
					rc |= config_u32(l, v->values[j],
					    "port number", 1, 65535, &d->port);
				else {
					config_unknown_field(l, v->keys[j],
					    "destination port");
					rc = -1;
				}
			}
		} else {
			config_unknown_field(l, k, what);
			rc = -1;
		}
	}
	if (rc == 0 && (d->host == NULL || d->host[0] == '\0')) {
		config_error(l, n, "%s: host is required", what);
		rc = -1;
	}
	if (d->host != NULL)
		nw_lower(d->host);
	return rc == 0 ? 0 : -1;
}

/* route[]: destination, weight, headers. */
static int
nw_route_dest(struct config_loader *l, const struct ynode *n,
    struct http_destination *d)
{
	const struct ynode	*k, *v, *dest = NULL;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "HTTPRouteDestination") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "destination"))
			dest = v;
		else if (config_key_is(k, "weight")) {
			if (config_u32(l, v, "weight", 0, 100,
			    &d->weight) == -1)
				rc = -1;
			else
				d->has_weight = 1;
		} else if (config_key_is(k, "headers"))
			rc |= nw_headers(l, v, &d->headers);
		else {
			config_unknown_field(l, k, "HTTPRouteDestination");
			rc = -1;
		}
	}
	if (dest == NULL) {
		if (rc == 0)
			config_error(l, n, "destination is required");
		return -1;
	}
	rc |= nw_destination(l, dest, "destination", d);
	return rc == 0 ? 0 : -1;
}

static int
nw_redirect(struct config_loader *l, const struct ynode *n,
    struct http_redirect *r)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "redirect") == -1)
		return -1;
	r->code = 301;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "uri"))
			rc |= config_string(l, v, "redirect uri", &r->uri);
		else if (config_key_is(k, "authority"))
			rc |= config_string(l, v, "redirect authority",
			    &r->authority);
		else if (config_key_is(k, "scheme"))
			rc |= config_string(l, v, "redirect scheme",
			    &r->scheme);
		else if (config_key_is(k, "port"))
			rc |= config_u32(l, v, "redirect port", 1, 65535,
			    &r->port);
		else if (config_key_is(k, "derivePort")) {
			static const char *const dp[] = {
				"FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT",
				NULL
			};
			int	 idx;

			if (config_enum(l, v, "derivePort", dp, &idx) == -1)
				rc = -1;
			else
				r->derive_port = idx;
		} else if (config_key_is(k, "redirectCode")) {
			if (config_u32(l, v, "redirectCode", 300, 399,
			    &r->code) == -1)
				rc = -1;
		} else {
			config_unknown_field(l, k, "redirect");
			rc = -1;
		}
	}
	if (rc == 0 && r->port != 0 && r->derive_port) {
		config_error(l, n, "redirect: port and derivePort cannot both "
		    "be set");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_rewrite(struct config_loader *l, const struct ynode *n,
    struct http_rewrite *r)
{
	const struct ynode	*k, *v, *rr;
	char			 err[200];
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "rewrite") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "uri"))
			rc |= config_string(l, v, "rewrite uri", &r->uri);
		else if (config_key_is(k, "authority"))
			rc |= config_string(l, v, "rewrite authority",
			    &r->authority);
		else if (config_key_is(k, "uriRegexRewrite")) {
			rr = v;
			if (config_expect_map(l, rr, "uriRegexRewrite") ==
			    -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < rr->n; j++) {
				if (config_key_is(rr->keys[j], "match"))
					rc |= config_string(l, rr->values[j],
					    "uriRegexRewrite match",
					    &r->regex_source);
				else if (config_key_is(rr->keys[j],
				    "rewrite"))
					rc |= config_string(l, rr->values[j],
					    "uriRegexRewrite rewrite",
					    &r->regex_rewrite);
				else {
					config_unknown_field(l, rr->keys[j],
					    "uriRegexRewrite");
					rc = -1;
				}
			}
			if (rc == 0 && (r->regex_source == NULL ||
			    r->regex_rewrite == NULL)) {
				config_error(l, rr, "uriRegexRewrite needs "
				    "match and rewrite");
				rc = -1;
			} else if (rc == 0 && (r->regex = match_regex_search_compile(
			    r->regex_source, err, sizeof(err))) == NULL) {
				config_error(l, yaml_get(rr, "match"),
				    "uriRegexRewrite: bad regex: %s", err);
				rc = -1;
			}
		} else {
			config_unknown_field(l, k, "rewrite");
			rc = -1;
		}
	}
	if (rc == 0 && r->uri != NULL && r->regex_source != NULL) {
		config_error(l, n, "rewrite: uri and uriRegexRewrite cannot "
		    "both be set");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_retries(struct config_loader *l, const struct ynode *n,
    struct http_retries *r)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "retries") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "attempts"))
			rc |= config_u32(l, v, "attempts", 0, 1000,
			    &r->attempts);
		else if (config_key_is(k, "perTryTimeout"))
			rc |= config_duration(l, v, "perTryTimeout",
			    &r->per_try_timeout_ms);
		else if (config_key_is(k, "retryOn")) {
			char	*word, *save = NULL, *copy;
			size_t	 w;

			if (config_string(l, v, "retryOn", &r->retry_on) == -1) {
				rc = -1;
				continue;
			}
			copy = xstrdup(r->retry_on);
			for (word = strtok_r(copy, ",", &save); word != NULL;
			    word = strtok_r(NULL, ",", &save)) {
				while (*word == ' ')
					word++;
				for (w = 0; retry_on_words[w] != NULL; w++)
					if (strcmp(word, retry_on_words[w]) ==
					    0)
						break;
				/* a status code is a retry condition too */
				if (retry_on_words[w] == NULL && !(strlen(word)
				    == 3 && isdigit((unsigned char)word[0]) &&
				    isdigit((unsigned char)word[1]) &&
				    isdigit((unsigned char)word[2]))) {
					config_error(l, v, "retryOn: unknown "
					    "condition \"%.40s\"", word);
					rc = -1;
				}
			}
			free(copy);
		} else if (config_key_is(k, "retryRemoteLocalities"))
			rc |= config_bool(l, v, "retryRemoteLocalities",
			    &r->retry_remote_localities);
		else {
			config_unknown_field(l, k, "retries");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_fault(struct config_loader *l, const struct ynode *n, struct http_fault *f)
{
	const struct ynode	*k, *v, *fk, *fv;
	size_t			 i, j;
	int			 rc = 0, has_pct;

	if (config_expect_map(l, n, "fault") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (!config_key_is(k, "delay") && !config_key_is(k, "abort")) {
			config_unknown_field(l, k, "fault");
			rc = -1;
			continue;
		}
		if (config_expect_map(l, v, "fault") == -1) {
			rc = -1;
			continue;
		}
		has_pct = 0;
		for (j = 0; j < v->n; j++) {
			fk = v->keys[j];
			fv = v->values[j];
			if (config_is_null(fv))
				continue;
			if (config_key_is(fk, "percentage")) {
				has_pct = 1;
				rc |= nw_percent(l, fv, "percentage",
				    config_key_is(k, "delay") ? &f->delay_ppm :
				    &f->abort_ppm);
			} else if (config_key_is(fk, "percent")) {
				uint32_t p;

				/* the deprecated integer form */
				has_pct = 1;
				if (config_u32(l, fv, "percent", 0, 100,
				    &p) == -1)
					rc = -1;
				else if (config_key_is(k, "delay"))
					f->delay_ppm = p * 10000;
				else
					f->abort_ppm = p * 10000;
			} else if (config_key_is(k, "delay") &&
			    config_key_is(fk, "fixedDelay"))
				rc |= config_duration(l, fv, "fixedDelay",
				    &f->delay_ms);
			else if (config_key_is(k, "abort") &&
			    config_key_is(fk, "httpStatus"))
				rc |= config_u32(l, fv, "httpStatus", 200,
				    599, &f->abort_status);
			else if (config_key_is(k, "abort") &&
			    (config_key_is(fk, "grpcStatus") ||
			    config_key_is(fk, "http2Error")))
				;	/* HTTP/1.1 only: nothing to abort with */
			else {
				config_unknown_field(l, fk,
				    config_key_is(k, "delay") ? "fault delay" :
				    "fault abort");
				rc = -1;
			}
		}
		/* Istio: no percentage means every request */
		if (!has_pct && config_key_is(k, "delay"))
			f->delay_ppm = PERCENT_MILLION;
		else if (!has_pct)
			f->abort_ppm = PERCENT_MILLION;
		if (rc == 0 && config_key_is(k, "delay") && f->delay_ms == 0) {
			config_error(l, v, "fault delay: fixedDelay is "
			    "required");
			rc = -1;
		}
		if (rc == 0 && config_key_is(k, "abort") &&
		    f->abort_status == 0 && yaml_get(v, "grpcStatus") == NULL &&
		    yaml_get(v, "http2Error") == NULL) {
			config_error(l, v, "fault abort: httpStatus is "
			    "required");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_cors(struct config_loader *l, const struct ynode *n, struct cors_policy *c)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "corsPolicy") == -1)
		return -1;
	c->allow_credentials = -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "allowOrigins")) {
			if (nw_seq(l, v, "allowOrigins") == -1) {
				rc = -1;
				continue;
			}
			c->allow_origins = xcalloc(v->n,
			    sizeof(*c->allow_origins));
			for (j = 0; j < v->n; j++)
				rc |= nw_string_match(l, v->values[j],
				    "allowOrigins", 0, 0,
				    &c->allow_origins[c->nallow_origins++]);
		} else if (config_key_is(k, "allowOrigin")) {
			/* deprecated: exact origins */
			char	**o = NULL;
			size_t	  no = 0;

			if (config_string_list(l, v, "allowOrigin", &o,
			    &no) == -1) {
				rc = -1;
				continue;
			}
			c->allow_origins = xreallocarray(c->allow_origins,
			    c->nallow_origins + no, sizeof(*c->allow_origins));
			for (j = 0; j < no; j++) {
				struct string_match *sm =
				    &c->allow_origins[c->nallow_origins++];

				memset(sm, 0, sizeof(*sm));
				sm->kind = MATCH_EXACT;
				sm->value = o[j];
			}
			free(o);
		}
		else if (config_key_is(k, "allowMethods"))
			rc |= config_string_list(l, v, "allowMethods",
			    &c->allow_methods, &c->nallow_methods);
		else if (config_key_is(k, "allowHeaders"))
			rc |= config_string_list(l, v, "allowHeaders",
			    &c->allow_headers, &c->nallow_headers);
		else if (config_key_is(k, "exposeHeaders"))
			rc |= config_string_list(l, v, "exposeHeaders",
			    &c->expose_headers, &c->nexpose_headers);
		else if (config_key_is(k, "maxAge"))
			rc |= config_duration(l, v, "maxAge", &c->max_age_ms);
		else if (config_key_is(k, "allowCredentials"))
			rc |= config_bool(l, v, "allowCredentials",
			    &c->allow_credentials);
		else if (config_key_is(k, "unmatchedPreflights"))
			;
		else {
			config_unknown_field(l, k, "corsPolicy");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_http(struct config_loader *l, const struct ynode *n, struct http_route *h)
{
	const struct ynode	*k, *v, *rt = NULL;
	size_t			 i, j;
	int			 rc = 0;
	uint32_t		 sum = 0;

	if (config_expect_map(l, n, "HTTPRoute") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "name"))
			rc |= config_string(l, v, "route name", &h->name);
		else if (config_key_is(k, "match")) {
			if (nw_seq(l, v, "match") == -1) {
				rc = -1;
				continue;
			}
			h->matches = xcalloc(v->n, sizeof(*h->matches));
			for (j = 0; j < v->n; j++)
				rc |= nw_match(l, v->values[j],
				    &h->matches[h->nmatches++]);
		} else if (config_key_is(k, "route")) {
			if (nw_seq(l, v, "route") == -1) {
				rc = -1;
				continue;
			}
			rt = v;
			h->routes = xcalloc(v->n, sizeof(*h->routes));
			for (j = 0; j < v->n; j++)
				rc |= nw_route_dest(l, v->values[j],
				    &h->routes[h->nroutes++]);
		} else if (config_key_is(k, "redirect")) {
			h->redirect = xcalloc(1, sizeof(*h->redirect));
			rc |= nw_redirect(l, v, h->redirect);
		} else if (config_key_is(k, "directResponse")) {
			const struct ynode *b;

			if (nw_keys(l, v, "directResponse", (const char *[]){
			    "status", "body", NULL }) == -1) {
				rc = -1;
				continue;
			}
			if (config_is_null(yaml_get(v, "status"))) {
				config_error(l, v, "directResponse: status is "
				    "required");
				rc = -1;
			} else
				rc |= config_u32(l, yaml_get(v, "status"),
				    "directResponse status", 200, 599,
				    &h->direct_status);
			b = yaml_get(v, "body");
			if (!config_is_null(b)) {
				if (nw_keys(l, b, "directResponse body",
				    (const char *[]){ "string", "bytes",
				    NULL }) == -1)
					rc = -1;
				else if (!config_is_null(yaml_get(b,
				    "string")))
					rc |= config_string(l, yaml_get(b,
					    "string"), "body string",
					    &h->direct_body);
				else if (!config_is_null(yaml_get(b,
				    "bytes")))
					rc |= config_string(l, yaml_get(b,
					    "bytes"), "body bytes",
					    &h->direct_body);
			}
		} else if (config_key_is(k, "rewrite")) {
			h->rewrite = xcalloc(1, sizeof(*h->rewrite));
			rc |= nw_rewrite(l, v, h->rewrite);
		} else if (config_key_is(k, "timeout"))
			rc |= config_duration(l, v, "timeout", &h->timeout_ms);
		else if (config_key_is(k, "retries")) {
			h->retries = xcalloc(1, sizeof(*h->retries));
			rc |= nw_retries(l, v, h->retries);
		} else if (config_key_is(k, "fault"))
			rc |= nw_fault(l, v, &h->fault);
		else if (config_key_is(k, "mirror")) {
			h->mirrors = xreallocarray(h->mirrors, h->nmirrors + 1,
			    sizeof(*h->mirrors));
			memset(&h->mirrors[h->nmirrors], 0,
			    sizeof(*h->mirrors));
			h->mirrors[h->nmirrors].mirror_ppm = PERCENT_MILLION;
			rc |= nw_destination(l, v, "mirror",
			    &h->mirrors[h->nmirrors++]);
		} else if (config_key_is(k, "mirrors")) {
			if (nw_seq(l, v, "mirrors") == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				const struct ynode *mp = v->values[j];
				struct http_destination *d;

				h->mirrors = xreallocarray(h->mirrors,
				    h->nmirrors + 1, sizeof(*h->mirrors));
				d = &h->mirrors[h->nmirrors++];
				memset(d, 0, sizeof(*d));
				d->mirror_ppm = PERCENT_MILLION;
				if (nw_keys(l, mp, "mirrors", (const char *[]){
				    "destination", "percentage", NULL }) ==
				    -1) {
					rc = -1;
					continue;
				}
				if (config_is_null(yaml_get(mp,
				    "destination"))) {
					config_error(l, mp, "mirrors: "
					    "destination is required");
					rc = -1;
					continue;
				}
				rc |= nw_destination(l, yaml_get(mp,
				    "destination"), "mirror destination", d);
				if (!config_is_null(yaml_get(mp,
				    "percentage")))
					rc |= nw_percent(l, yaml_get(mp,
					    "percentage"), "mirror percentage",
					    &d->mirror_ppm);
			}
		} else if (config_key_is(k, "mirrorPercentage") ||
		    config_key_is(k, "mirrorPercent") ||
		    config_key_is(k, "mirror_percent"))
			;	/* applied to mirror below */
		else if (config_key_is(k, "corsPolicy")) {
			h->cors = xcalloc(1, sizeof(*h->cors));
			rc |= nw_cors(l, v, h->cors);
		} else if (config_key_is(k, "headers"))
			rc |= nw_headers(l, v, &h->headers);
		else if (config_key_is(k, "delegate")) {
			config_error(l, k, "delegate is not supported by "
			    "meshkit");
			rc = -1;
		} else {
			config_unknown_field(l, k, "HTTPRoute");
			rc = -1;
		}
	}
	v = yaml_get(n, "mirrorPercentage");
	if (!config_is_null(v) && h->nmirrors > 0 &&
	    yaml_get(n, "mirror") != NULL)
		rc |= nw_percent(l, v, "mirrorPercentage",
		    &h->mirrors[0].mirror_ppm);
	if (rc != 0)
		return -1;
	if (h->nroutes > 0 && (h->redirect != NULL || h->direct_status != 0)) {
		config_error(l, n, "HTTPRoute: route cannot be set with "
		    "redirect or directResponse");
		return -1;
	}
	if (h->redirect != NULL && h->direct_status != 0) {
		config_error(l, n, "HTTPRoute: redirect and directResponse "
		    "cannot both be set");
		return -1;
	}
	if (h->nroutes == 0 && h->redirect == NULL && h->direct_status == 0) {
		config_error(l, n, "HTTPRoute needs route, redirect or "
		    "directResponse");
		return -1;
	}
	if (h->rewrite != NULL && h->redirect != NULL) {
		config_error(l, n, "HTTPRoute: rewrite cannot be set with "
		    "redirect");
		return -1;
	}
	/* Istio: with one destination the weight may be left out */
	if (h->nroutes > 1 || (h->nroutes == 1 && h->routes[0].has_weight &&
	    h->routes[0].weight != 100 && h->routes[0].weight != 0)) {
		for (i = 0; i < h->nroutes; i++)
			sum += h->routes[i].weight;
		if (sum != 100) {
			config_error(l, rt, "route weights must sum to 100, "
			    "got %u", sum);
			return -1;
		}
	}
	if (h->nroutes == 1)
		h->routes[0].weight = 100;
	return 0;
}

void
config_virtual_service(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct virtual_service *vs)
{
	const struct ynode	*k, *v;
	size_t			 i, j;

	if (spec == NULL) {
		config_error(l, root, "spec with hosts is required in "
		    "VirtualService");
		return;
	}
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "hosts")) {
			if (config_string_list(l, v, "hosts", &vs->hosts,
			    &vs->nhosts) == 0)
				for (j = 0; j < vs->nhosts; j++) {
					nw_lower(vs->hosts[j]);
					if (vs->hosts[j][0] == '\0')
						config_error(l, v->values[j],
						    "a host must not be empty");
				}
		} else if (config_key_is(k, "gateways"))
			config_string_list(l, v, "gateways", &vs->gateways,
			    &vs->ngateways);
		else if (config_key_is(k, "exportTo"))
			config_string_list(l, v, "exportTo", &vs->export_to,
			    &vs->nexport_to);
		else if (config_key_is(k, "http")) {
			if (nw_seq(l, v, "http") == -1)
				continue;
			vs->http = xcalloc(v->n, sizeof(*vs->http));
			for (j = 0; j < v->n; j++)
				nw_http(l, v->values[j],
				    &vs->http[vs->nhttp++]);
		} else if (config_key_is(k, "tcp") || config_key_is(k, "tls"))
			nw_seq(l, v, config_key_is(k, "tcp") ? "tcp" : "tls");
		else
			config_unknown_field(l, k, "VirtualService spec");
	}
	if (vs->nhosts == 0)
		config_error(l, spec, "hosts is required in VirtualService "
		    "spec");
}

static int
nw_hash(struct config_loader *l, const struct ynode *n,
    struct traffic_policy *p)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0, ways = 0;

	if (config_expect_map(l, n, "consistentHash") == -1)
		return -1;
	p->ring_size = 1024;
	p->maglev_size = 65537;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "httpHeaderName")) {
			ways++;
			p->hash = HASH_HEADER;
			rc |= config_string(l, v, "httpHeaderName",
			    &p->hash_key);
			if (p->hash_key != NULL)
				nw_lower(p->hash_key);
		} else if (config_key_is(k, "httpQueryParameterName")) {
			ways++;
			p->hash = HASH_QUERY;
			rc |= config_string(l, v, "httpQueryParameterName",
			    &p->hash_key);
		} else if (config_key_is(k, "useSourceIp")) {
			int	 b = 0;

			rc |= config_bool(l, v, "useSourceIp", &b);
			if (b) {
				ways++;
				p->hash = HASH_SOURCE_IP;
			}
		} else if (config_key_is(k, "httpCookie")) {
			ways++;
			p->hash = HASH_COOKIE;
			if (config_expect_map(l, v, "httpCookie") == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				if (config_key_is(v->keys[j], "name"))
					rc |= config_string(l, v->values[j],
					    "httpCookie name", &p->hash_key);
				else if (config_key_is(v->keys[j], "ttl"))
					rc |= config_duration(l, v->values[j],
					    "httpCookie ttl",
					    &p->cookie_ttl_ms);
				else if (config_key_is(v->keys[j], "path"))
					;
				else {
					config_unknown_field(l, v->keys[j],
					    "httpCookie");
					rc = -1;
				}
			}
			if (rc == 0 && p->hash_key == NULL) {
				config_error(l, v, "httpCookie: name is "
				    "required");
				rc = -1;
			}
		} else if (config_key_is(k, "minimumRingSize")) {
			/* the deprecated spelling of ringHash's */
			uint32_t rs;

			if (config_u32(l, v, "minimumRingSize", 1, 1 << 23,
			    &rs) == -1)
				rc = -1;
			else
				p->ring_size = rs;
		}
		else if (config_key_is(k, "ringHash")) {
			uint32_t rs = 1024;

			p->maglev = 0;
			if (nw_keys(l, v, "ringHash", (const char *[]){
			    "minimumRingSize", NULL }) == -1)
				rc = -1;
			else if (!config_is_null(yaml_get(v,
			    "minimumRingSize")) && config_u32(l, yaml_get(v,
			    "minimumRingSize"), "minimumRingSize", 1, 1 << 23,
			    &rs) == -1)
				rc = -1;
			p->ring_size = rs;
		} else if (config_key_is(k, "maglev")) {
			uint32_t ts = 65537;

			p->maglev = 1;
			if (nw_keys(l, v, "maglev", (const char *[]){
			    "tableSize", NULL }) == -1)
				rc = -1;
			else if (!config_is_null(yaml_get(v, "tableSize")) &&
			    config_u32(l, yaml_get(v, "tableSize"),
			    "tableSize", 2, 5000011, &ts) == -1)
				rc = -1;
			else {
				uint32_t d;

				for (d = 2; (uint64_t)d * d <= ts; d++)
					if (ts % d == 0)
						break;
				if ((uint64_t)d * d <= ts) {
					config_error(l, yaml_get(v,
					    "tableSize"), "maglev tableSize "
					    "must be a prime, got %u", ts);
					rc = -1;
				}
			}
			p->maglev_size = ts;
		} else {
			config_unknown_field(l, k, "consistentHash");
			rc = -1;
		}
	}
	if (rc == 0 && ways != 1) {
		config_error(l, n, "consistentHash needs one of httpHeaderName, "
		    "httpCookie, useSourceIp and httpQueryParameterName");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_lb(struct config_loader *l, const struct ynode *n,
    struct traffic_policy *p)
{
	static const char *const simple[] = {
		"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST", "RANDOM",
		"PASSTHROUGH", "LEAST_CONN", NULL
	};
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0, idx, ways = 0;

	if (config_expect_map(l, n, "loadBalancer") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "simple")) {
			ways++;
			if (config_enum(l, v, "loadBalancer simple", simple,
			    &idx) == -1)
				rc = -1;
			else
				/* LEAST_CONN is LEAST_REQUEST's old name */
				p->simple = idx == 5 ? LB_LEAST_REQUEST :
				    (enum lb_simple)idx;
		} else if (config_key_is(k, "consistentHash")) {
			ways++;
			rc |= nw_hash(l, v, p);
		} else if (config_key_is(k, "localityLbSetting") ||
		    config_key_is(k, "warmupDurationSecs") ||
		    config_key_is(k, "warmup"))
			;	/* one locality here; no slow start yet */
		else {
			config_unknown_field(l, k, "loadBalancer");
			rc = -1;
		}
	}
	if (rc == 0 && ways > 1) {
		config_error(l, n, "loadBalancer takes simple or "
		    "consistentHash, not both");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
nw_policy(struct config_loader *l, const struct ynode *n, int port_level,
    struct traffic_policy *p)
{
	static const char *const pool_keys[] = { "tcp", "http", NULL };
	static const char *const outlier_keys[] = {
		"consecutiveErrors", "consecutiveGatewayErrors",
		"consecutive5xxErrors", "consecutiveLocalOriginFailures",
		"splitExternalLocalOriginErrors", "interval",
		"baseEjectionTime", "maxEjectionPercent", "minHealthPercent",
		NULL
	};
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "trafficPolicy") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "loadBalancer"))
			rc |= nw_lb(l, v, p);
		else if (config_key_is(k, "connectionPool")) {
			p->connection_pool = v;
			rc |= nw_keys(l, v, "connectionPool", pool_keys);
		} else if (config_key_is(k, "outlierDetection")) {
			p->outlier_detection = v;
			rc |= nw_keys(l, v, "outlierDetection", outlier_keys);
		} else if (config_key_is(k, "tls"))
			p->tls = v;
		else if (port_level && config_key_is(k, "port")) {
			/* read by the caller */
		} else if (!port_level &&
		    config_key_is(k, "portLevelSettings")) {
			if (nw_seq(l, v, "portLevelSettings") == -1) {
				rc = -1;
				continue;
			}
			p->ports = xcalloc(v->n, sizeof(*p->ports));
			for (j = 0; j < v->n; j++) {
				struct port_policy *pp = &p->ports[p->nports++];
				const struct ynode *pn;

				if (nw_policy(l, v->values[j], 1,
				    &pp->policy) == -1) {
					rc = -1;
					continue;
				}
				pn = yaml_get(yaml_get(v->values[j], "port"),
				    "number");
				if (config_is_null(pn)) {
					config_error(l, v->values[j],
					    "portLevelSettings: port.number is "
					    "required");
					rc = -1;
				} else
					rc |= config_u32(l, pn, "port number",
					    1, 65535, &pp->port);
			}
		} else if (config_key_is(k, "tunnel") ||
		    config_key_is(k, "proxyProtocol"))
			;
		else {
			config_unknown_field(l, k, "trafficPolicy");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

void
config_destination_rule(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct destination_rule *dr)
{
	const struct ynode	*k, *v;
	size_t			 i, j, m;

	if (spec == NULL) {
		config_error(l, root, "spec with host is required in "
		    "DestinationRule");
		return;
	}
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "host")) {
			if (config_string(l, v, "host", &dr->host) == 0)
				nw_lower(dr->host);
		} else if (config_key_is(k, "trafficPolicy"))
			dr->has_policy = nw_policy(l, v, 0, &dr->policy) == 0;
		else if (config_key_is(k, "exportTo"))
			config_string_list(l, v, "exportTo", &dr->export_to,
			    &dr->nexport_to);
		else if (config_key_is(k, "workloadSelector"))
			nw_keys(l, v, "workloadSelector",
			    (const char *[]){ "matchLabels", NULL });
		else if (config_key_is(k, "subsets")) {
			if (nw_seq(l, v, "subsets") == -1)
				continue;
			dr->subsets = xcalloc(v->n, sizeof(*dr->subsets));
			for (j = 0; j < v->n; j++) {
				const struct ynode *s = v->values[j];
				struct dr_subset *ss = &dr->subsets[dr->nsubsets];

				if (nw_keys(l, s, "subset", (const char *[]){
				    "name", "labels", "trafficPolicy", NULL })
				    == -1)
					continue;
				dr->nsubsets++;
				if (config_is_null(yaml_get(s, "name")))
					config_error(l, s, "subset name is "
					    "required");
				else
					config_string(l, yaml_get(s, "name"),
					    "subset name", &ss->name);
				if (!config_is_null(yaml_get(s, "labels")))
					config_labels(l, yaml_get(s, "labels"),
					    "subset labels", &ss->labels);
				if (!config_is_null(yaml_get(s,
				    "trafficPolicy")))
					ss->has_policy = nw_policy(l,
					    yaml_get(s, "trafficPolicy"), 0,
					    &ss->policy) == 0;
				for (m = 0; ss->name != NULL && m + 1 <
				    dr->nsubsets; m++)
					if (dr->subsets[m].name != NULL &&
					    strcmp(dr->subsets[m].name,
					    ss->name) == 0)
						config_error(l, s, "duplicate "
						    "subset name %s", ss->name);
			}
		} else
			config_unknown_field(l, k, "DestinationRule spec");
	}
	if (dr->host == NULL || dr->host[0] == '\0')
		config_error(l, spec, "host is required in DestinationRule "
		    "spec");
}

/*
 * A Kubernetes Service: its selector picks WorkloadEntries as a
 * ServiceEntry's workloadSelector would, under the name Kubernetes'
 * DNS gives it.
 */
void
config_kube_service(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct service_entry *se)
{
	static const char *const port_keys[] = {
		"port", "targetPort", "name", "protocol", "nodePort",
		"appProtocol", NULL
	};
	const struct ynode	*k, *v;
	size_t			 i, j;

	se->resolution = RESOLUTION_STATIC;
	se->mesh_internal = 1;
	se->hosts = xcalloc(1, sizeof(*se->hosts));
	xasprintf(&se->hosts[0], "%s.%s.svc.cluster.local", se->meta.name,
	    se->meta.namespace);
	se->nhosts = 1;
	if (spec == NULL)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector")) {
			if (config_labels(l, v, "selector", &se->selector) ==
			    0)
				se->has_selector = 1;
		} else if (config_key_is(k, "ports")) {
			if (nw_seq(l, v, "ports") == -1)
				continue;
			se->ports = xcalloc(v->n, sizeof(*se->ports));
			for (j = 0; j < v->n; j++) {
				const struct ynode *p = v->values[j], *tp;
				struct service_port *sp = &se->ports[se->nports];

				if (nw_keys(l, p, "Service port", port_keys) ==
				    -1)
					continue;
				if (config_is_null(yaml_get(p, "port"))) {
					config_error(l, p, "port is required");
					continue;
				}
				if (config_u32(l, yaml_get(p, "port"), "port",
				    1, 65535, &sp->number) == -1)
					continue;
				se->nports++;
				if (!config_is_null(yaml_get(p, "name")))
					config_string(l, yaml_get(p, "name"),
					    "port name", &sp->name);
				if (!config_is_null(yaml_get(p, "protocol")))
					config_string(l, yaml_get(p,
					    "protocol"), "protocol",
					    &sp->protocol);
				tp = yaml_get(p, "targetPort");
				if (config_is_null(tp))
					continue;
				/* a number, or the name of a pod's port */
				if (tp->type == YNODE_SCALAR && tp->len > 0 &&
				    isdigit((unsigned char)tp->value[0]))
					config_u32(l, tp, "targetPort", 1,
					    65535, &sp->target_port);
				else
					config_string(l, tp, "targetPort",
					    &sp->target_port_name);
			}
		}
		/* type, clusterIP, sessionAffinity ...: Kubernetes' own */
	}
}

static void
nw_header_ops_fini(struct header_operations *o)
{
	config_labels_fini(&o->set);
	config_labels_fini(&o->add);
	config_strings_free(o->remove, o->nremove);
}

static void
nw_destination_fini(struct http_destination *d)
{
	free(d->host);
	free(d->subset);
	nw_header_ops_fini(&d->headers.request);
	nw_header_ops_fini(&d->headers.response);
}

static void
nw_named_free(struct named_match *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		match_string_fini(&v[i].match);
	}
	free(v);
}

static void
nw_match_fini(struct http_match *m)
{
	free(m->name);
	match_string_fini(&m->uri);
	match_string_fini(&m->scheme);
	match_string_fini(&m->method);
	match_string_fini(&m->authority);
	nw_named_free(m->headers, m->nheaders);
	nw_named_free(m->without_headers, m->nwithout_headers);
	nw_named_free(m->query_params, m->nquery_params);
	config_labels_fini(&m->source_labels);
	free(m->source_namespace);
	config_strings_free(m->gateways, m->ngateways);
}

static void
nw_http_fini(struct http_route *h)
{
	size_t	 i;

	free(h->name);
	for (i = 0; i < h->nmatches; i++)
		nw_match_fini(&h->matches[i]);
	free(h->matches);
	for (i = 0; i < h->nroutes; i++)
		nw_destination_fini(&h->routes[i]);
	free(h->routes);
	if (h->redirect != NULL) {
		free(h->redirect->uri);
		free(h->redirect->authority);
		free(h->redirect->scheme);
		free(h->redirect);
	}
	free(h->direct_body);
	if (h->rewrite != NULL) {
		free(h->rewrite->uri);
		free(h->rewrite->authority);
		if (h->rewrite->regex != NULL)
			match_regex_free(h->rewrite->regex);
		free(h->rewrite->regex_source);
		free(h->rewrite->regex_rewrite);
		free(h->rewrite);
	}
	if (h->retries != NULL) {
		free(h->retries->retry_on);
		free(h->retries);
	}
	for (i = 0; i < h->nmirrors; i++)
		nw_destination_fini(&h->mirrors[i]);
	free(h->mirrors);
	if (h->cors != NULL) {
		for (i = 0; i < h->cors->nallow_origins; i++)
			match_string_fini(&h->cors->allow_origins[i]);
		free(h->cors->allow_origins);
		config_strings_free(h->cors->allow_methods,
		    h->cors->nallow_methods);
		config_strings_free(h->cors->allow_headers,
		    h->cors->nallow_headers);
		config_strings_free(h->cors->expose_headers,
		    h->cors->nexpose_headers);
		free(h->cors);
	}
	nw_header_ops_fini(&h->headers.request);
	nw_header_ops_fini(&h->headers.response);
}

void
config_virtual_service_fini(struct virtual_service *vs)
{
	size_t	 i;

	config_meta_fini(&vs->meta);
	config_strings_free(vs->hosts, vs->nhosts);
	config_strings_free(vs->gateways, vs->ngateways);
	config_strings_free(vs->export_to, vs->nexport_to);
	for (i = 0; i < vs->nhttp; i++)
		nw_http_fini(&vs->http[i]);
	free(vs->http);
	memset(vs, 0, sizeof(*vs));
}

static void
nw_policy_fini(struct traffic_policy *p)
{
	size_t	 i;

	free(p->hash_key);
	for (i = 0; i < p->nports; i++)
		nw_policy_fini(&p->ports[i].policy);
	free(p->ports);
}

void
config_destination_rule_fini(struct destination_rule *dr)
{
	size_t	 i;

	config_meta_fini(&dr->meta);
	free(dr->host);
	for (i = 0; i < dr->nsubsets; i++) {
		free(dr->subsets[i].name);
		config_labels_fini(&dr->subsets[i].labels);
		nw_policy_fini(&dr->subsets[i].policy);
	}
	free(dr->subsets);
	nw_policy_fini(&dr->policy);
	config_strings_free(dr->export_to, dr->nexport_to);
	memset(dr, 0, sizeof(*dr));
}
