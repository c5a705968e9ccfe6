/* SPDX-License-Identifier: ISC */
/*
 * The matching half of a VirtualService: string matches (exact, prefix,
 * regex compiled here once per load) and HTTPMatchRequest, checked as
 * Istio checks them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "match.h"
#include "util.h"
#include "yaml.h"

static int	match_named(struct config_loader *, const struct ynode *,
		    const char *, int, struct named_match **, size_t *);
static void	match_named_free(struct named_match *, size_t);

/* {exact|prefix|regex: s}; {} means "present" where empty_ok. */
int
config_string_match(struct config_loader *l, const struct ynode *n,
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
match_named(struct config_loader *l, const struct ynode *n, const char *what,
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
			config_lower(nm->name);
		if (!config_is_null(n->values[i]) && config_string_match(l,
		    n->values[i], what, 1, 0, &nm->match) == -1)
			rc = -1;
	}
	return rc;
}

int
config_http_match(struct config_loader *l, const struct ynode *n, struct http_match *m)
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
			rc |= config_string_match(l, v, "scheme", 0, 0, &m->scheme);
		else if (config_key_is(k, "method"))
			rc |= config_string_match(l, v, "method", 0, 0, &m->method);
		else if (config_key_is(k, "authority"))
			rc |= config_string_match(l, v, "authority", 0, 0,
			    &m->authority);
		else if (config_key_is(k, "headers"))
			rc |= match_named(l, v, "headers", 1, &m->headers,
			    &m->nheaders);
		else if (config_key_is(k, "withoutHeaders"))
			rc |= match_named(l, v, "withoutHeaders", 1,
			    &m->without_headers, &m->nwithout_headers);
		else if (config_key_is(k, "queryParams"))
			rc |= match_named(l, v, "queryParams", 0,
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
		else if (config_key_is(k, "statPrefix")) {
			/* Envoy's stats naming: meshkit has no such stats */
			char *sp = NULL;

			if (config_string(l, v, "statPrefix", &sp) == -1)
				rc = -1;
			else
				config_ignored(l, k, "http match statPrefix");
			free(sp);
		}
		else {
			config_unknown_field(l, k, "HTTPMatchRequest");
			rc = -1;
		}
	}
	if (uri != NULL)
		rc |= config_string_match(l, uri, "uri", 0, m->ignore_uri_case,
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


static void
match_named_free(struct named_match *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		match_string_fini(&v[i].match);
	}
	free(v);
}

void
config_http_match_fini(struct http_match *m)
{
	free(m->name);
	match_string_fini(&m->uri);
	match_string_fini(&m->scheme);
	match_string_fini(&m->method);
	match_string_fini(&m->authority);
	match_named_free(m->headers, m->nheaders);
	match_named_free(m->without_headers, m->nwithout_headers);
	match_named_free(m->query_params, m->nquery_params);
	config_labels_fini(&m->source_labels);
	free(m->source_namespace);
	config_strings_free(m->gateways, m->ngateways);
}
