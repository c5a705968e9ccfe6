/* SPDX-License-Identifier: ISC */
/*
 * Istio's VirtualService, typed.  The rules are Istio's validation
 * (unknown fields, weights, durations, percentages, one of
 * exact/prefix/regex), each error at its node.  Regexes are compiled
 * here, once per load.  DestinationRule and the Kubernetes Service are
 * in config_destination.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "http.h"
#include "match.h"
#include "retry.h"
#include "util.h"
#include "yaml.h"

static int	nw_percent(struct config_loader *, const struct ynode *,
		    const char *, uint32_t *);
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
static int	nw_retry_on(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	nw_fault(struct config_loader *, const struct ynode *,
		    struct http_fault *);
static int	nw_cors(struct config_loader *, const struct ynode *,
		    struct cors_policy *);
static int	nw_grpc_status(struct config_loader *, const struct ynode *);
static int	nw_mirror_percent(struct config_loader *, const struct ynode *,
		    struct http_route *);
static void	nw_gateways(struct config_loader *, const struct ynode *,
		    char *const *, size_t, const char *);
static int	nw_http(struct config_loader *, const struct ynode *,
		    struct http_route *);
static void	nw_header_ops_fini(struct header_operations *);
static void	nw_destination_fini(struct http_destination *);
static void	nw_http_fini(struct http_route *);

/* {value: 0..100}, a double, as parts per million. */
static int
nw_percent(struct config_loader *l, const struct ynode *n, const char *what,
    uint32_t *ppm)
{
	const struct ynode	*v;
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
	return config_percent(l, v, what, ppm);
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

		config_lower(lb->keys[j]);
		if (lb->keys[j][0] == '\0' || strpbrk(lb->keys[j],
		    " \t\r\n:") != NULL || strpbrk(lb->values[j], "\r\n") !=
		    NULL || !util_is_token((struct str){ lb->keys[j],
		    strlen(lb->keys[j]) })) {
			config_error(l, n, "%s: header %.60s: a name must be "
			    "a token and a value one line", what, lb->keys[j]);
			rc = -1;
		} else if (http_header_reserved((struct str){ lb->keys[j],
		    strlen(lb->keys[j]) })) {
			config_error(l, n, "%s: header %.60s is the message's "
			    "framing or hop-by-hop and may not be changed",
			    what, lb->keys[j]);
			rc = -1;
		}
	}
	for (i = 0; i < o->nremove; i++) {
		config_lower(o->remove[i]);
		if (http_header_reserved((struct str){ o->remove[i],
		    strlen(o->remove[i]) })) {
			config_error(l, n, "%s: header %.60s is the message's "
			    "framing or hop-by-hop and may not be removed",
			    what, o->remove[i]);
			rc = -1;
		}
	}
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
		config_lower(d->host);
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

/*
 * Envoy's retry conditions, comma-separated, as Istio's retryOn: known
 * words and bare HTTP status codes only.  Stored without spaces, so that
 * the answer's retries line stays one word.
 */
static int
nw_retry_on(struct config_loader *l, const struct ynode *v, const char *what,
    char **out)
{
	char	*s = NULL, *word, *save = NULL, *copy, *o;
	int	 rc = 0;

	if (config_string(l, v, what, &s) == -1)
		return -1;
	copy = xstrdup(s);
	o = s;
	for (word = strtok_r(copy, ",", &save); word != NULL;
	    word = strtok_r(NULL, ",", &save)) {
		size_t	 n;

		while (*word == ' ' || *word == '\t')
			word++;
		n = strlen(word);
		while (n > 0 && (word[n - 1] == ' ' || word[n - 1] == '\t'))
			word[--n] = '\0';
		if (n == 0)
			continue;	/* "a,,b": nothing between */
		/* the conditions proxy-d carries out (lib/retry.c) */
		if (!retry_condition_known(word, n)) {
			config_error(l, v, "%s: unknown condition \"%.40s\"",
			    what, word);
			rc = -1;
			continue;
		}
		if (o != s)
			*o++ = ',';
		memmove(o, word, n);
		o += n;
	}
	*o = '\0';
	free(copy);
	if (rc == 0 && *s == '\0') {
		config_error(l, v, "%s: no retry condition", what);
		rc = -1;
	}
	if (rc == -1) {
		free(s);
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

int
config_http_retries(struct config_loader *l, const struct ynode *n,
    const char *what, struct http_retries *r)
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
		if (config_key_is(k, "attempts"))
			rc |= config_u32(l, v, "attempts", 0, 1000,
			    &r->attempts);
		else if (config_key_is(k, "perTryTimeout"))
			rc |= config_duration(l, v, "perTryTimeout",
			    &r->per_try_timeout_ms);
		else if (config_key_is(k, "retryOn"))
			rc |= nw_retry_on(l, v, "retryOn", &r->retry_on);
		else if (config_key_is(k, "retryRemoteLocalities")) {
			rc |= config_bool(l, v, "retryRemoteLocalities",
			    &r->retry_remote_localities);
			/* false is what meshkit does: one locality */
			if (r->retry_remote_localities) {
				char w[80];

				snprintf(w, sizeof(w),
				    "%s.retryRemoteLocalities", what);
				config_ignored(l, k, w);
			}
		}
		else {
			config_unknown_field(l, k, what);
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
			    config_key_is(fk, "grpcStatus")) {
				/* HTTP/1.1 only: no gRPC status to send */
				if (nw_grpc_status(l, fv) == -1)
					rc = -1;
				else
					config_ignored(l, fk,
					    "fault.abort.grpcStatus");
			} else if (config_key_is(k, "abort") &&
			    config_key_is(fk, "http2Error")) {
				/* Istio refuses it too */
				config_error(l, fk, "fault abort: http2Error "
				    "is not supported");
				rc = -1;
			} else {
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
		    f->abort_status == 0 && config_is_null(yaml_get(v,
		    "grpcStatus"))) {
			config_error(l, v, "fault abort: httpStatus is "
			    "required");
			rc = -1;
		}
		if (rc == 0 && config_key_is(k, "abort") &&
		    f->abort_status != 0 && !config_is_null(yaml_get(v,
		    "grpcStatus"))) {
			config_error(l, v, "fault abort: httpStatus and "
			    "grpcStatus are one or the other");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

/* gRPC's status names, as Istio accepts them. */
static int
nw_grpc_status(struct config_loader *l, const struct ynode *n)
{
	static const char *const codes[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED", NULL
	};
	int	 idx;

	return config_enum(l, n, "fault abort grpcStatus", codes, &idx);
}

/*
 * The single mirror's share, as Istio reads it: mirrorPercentage, else
 * the deprecated mirrorPercent (an integer 0..100), else all; 0 mirrors
 * nothing.  Neither applies to mirrors[], whose entries have their own.
 */
static int
nw_mirror_percent(struct config_loader *l, const struct ynode *n,
    struct http_route *h)
{
	const struct ynode	*mirror, *pct, *old = NULL;
	uint32_t		 p, ppm = PERCENT_MILLION;
	int			 rc = 0;

	mirror = yaml_get(n, "mirror");
	if (!config_is_null(mirror) && !config_is_null(yaml_get(n,
	    "mirrors"))) {
		config_error(l, mirror, "HTTPRoute cannot have both mirror "
		    "and mirrors");
		return -1;
	}
	pct = yaml_get(n, "mirrorPercentage");
	if (!config_is_null(yaml_get(n, "mirrorPercent")))
		old = yaml_get(n, "mirrorPercent");
	else if (!config_is_null(yaml_get(n, "mirror_percent")))
		old = yaml_get(n, "mirror_percent");
	if (old != NULL && config_u32(l, old, "mirrorPercent", 0, 100,
	    &p) == -1)
		rc = -1;
	else if (old != NULL)
		ppm = p * 10000;
	if (!config_is_null(pct) && nw_percent(l, pct, "mirrorPercentage",
	    &ppm) == -1)
		rc = -1;
	if (rc == 0 && config_is_null(mirror) && (old != NULL ||
	    !config_is_null(pct)))
		config_warn(l, old != NULL ? old : pct, "VirtualService "
		    "%s without mirror is not supported by meshkit and is "
		    "ignored (mirrors[] entries take percentage)",
		    old != NULL ? "mirrorPercent" : "mirrorPercentage");
	/* the single mirror is the only one when mirror is given */
	if (rc == 0 && !config_is_null(mirror) && h->nmirrors == 1)
		h->mirrors[0].mirror_ppm = ppm;
	return rc;
}

/*
 * gateways: meshkit has no gateways, so only "mesh" (or no list at all)
 * means anything.  what names the field for the warnings.
 */
static void
nw_gateways(struct config_loader *l, const struct ynode *n,
    char *const *gateways, size_t ngateways, const char *what)
{
	size_t	 i;
	int	 mesh = 0;

	for (i = 0; i < ngateways; i++)
		if (strcmp(gateways[i], "mesh") == 0)
			mesh = 1;
	if (ngateways > 0 && !mesh) {
		config_warn(l, n, "%s bound only to gateways "
		    "(%s%s) is not supported by meshkit and is ignored: "
		    "add \"mesh\" to apply it to the proxies", what,
		    gateways[0], ngateways > 1 ? ", ..." : "");
		return;
	}
	for (i = 0; i < ngateways; i++)
		if (strcmp(gateways[i], "mesh") != 0)
			config_warn(l, n->type == YNODE_SEQ && i < n->n ?
			    n->values[i] : n, "%s gateway %s "
			    "is not supported by meshkit and is ignored", what,
			    gateways[i]);
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
			if (config_seq(l, v, "allowOrigins") == -1) {
				rc = -1;
				continue;
			}
			c->allow_origins = xcalloc(v->n,
			    sizeof(*c->allow_origins));
			for (j = 0; j < v->n; j++)
				rc |= config_string_match(l, v->values[j],
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
		else if (config_key_is(k, "unmatchedPreflights")) {
			static const char *const up[] = { "UNSPECIFIED",
			    "FORWARD", "IGNORE", NULL };
			int idx;

			/* proxy-d forwards them, as Istio's default does */
			if (config_enum(l, v, "unmatchedPreflights", up,
			    &idx) == -1)
				rc = -1;
			else if (idx == 2)
				config_ignored(l, k, "corsPolicy."
				    "unmatchedPreflights IGNORE");
		} else {
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
			if (config_seq(l, v, "match") == -1) {
				rc = -1;
				continue;
			}
			h->matches = xcalloc(v->n, sizeof(*h->matches));
			for (j = 0; j < v->n; j++) {
				struct http_match *m =
				    &h->matches[h->nmatches++];

				if (config_http_match(l, v->values[j], m) ==
				    -1) {
					rc = -1;
					continue;
				}
				if (m->ngateways > 0)
					nw_gateways(l, yaml_get(v->values[j],
					    "gateways"), m->gateways,
					    m->ngateways, "VirtualService http "
					    "match");
			}
		} else if (config_key_is(k, "route")) {
			if (config_seq(l, v, "route") == -1) {
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

			if (config_keys(l, v, "directResponse", (const char *[]){
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
				if (config_keys(l, b, "directResponse body",
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
			rc |= config_http_retries(l, v, "retries",
			    h->retries);
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
			if (config_seq(l, v, "mirrors") == -1) {
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
				if (config_keys(l, mp, "mirrors", (const char *[]){
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
	rc |= nw_mirror_percent(l, n, h);
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
					config_lower(vs->hosts[j]);
					if (vs->hosts[j][0] == '\0')
						config_error(l, v->values[j],
						    "a host must not be empty");
				}
		} else if (config_key_is(k, "gateways")) {
			if (config_string_list(l, v, "gateways", &vs->gateways,
			    &vs->ngateways) == 0)
				nw_gateways(l, v, vs->gateways, vs->ngateways,
				    "VirtualService");
		}
		else if (config_key_is(k, "exportTo"))
			config_string_list(l, v, "exportTo", &vs->export_to,
			    &vs->nexport_to);
		else if (config_key_is(k, "http")) {
			if (config_seq(l, v, "http") == -1)
				continue;
			vs->http = xcalloc(v->n, sizeof(*vs->http));
			for (j = 0; j < v->n; j++)
				nw_http(l, v->values[j],
				    &vs->http[vs->nhttp++]);
		} else if (config_key_is(k, "tcp") || config_key_is(k, "tls"))
			;	/* below, once the hosts are read */
		else
			config_unknown_field(l, k, "VirtualService spec");
	}
	for (i = 0; i < spec->n; i++)
		if ((config_key_is(spec->keys[i], "tcp") ||
		    config_key_is(spec->keys[i], "tls")) &&
		    !config_is_null(spec->values[i]))
			config_l4_routes(l, spec->keys[i], spec->values[i],
			    vs->hosts, vs->nhosts);
	if (vs->nhosts == 0)
		config_error(l, spec, "hosts is required in VirtualService "
		    "spec");
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
nw_http_fini(struct http_route *h)
{
	size_t	 i;

	free(h->name);
	for (i = 0; i < h->nmatches; i++)
		config_http_match_fini(&h->matches[i]);
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
