/* SPDX-License-Identifier: ISC */
/*
 * Raw-request smuggling cases run through http_head_end() and
 * http_parse_request() as proxy-d runs them: meshkit's own
 * (tests/data/desync/, written for meshkit) always, and in the
 * conformance stage the 159 cases of aws/http-desync-guardian (copied
 * into ../shared/testdata/http-desync-guardian/, see SOURCE.md there),
 * which are skipped when that directory is not there.
 *
 * Every Severe and Ambiguous case must be refused with a 4xx or 5xx,
 * except the few listed in acceptances[] below.  Every Acceptable and
 * Compliant case must be accepted, with its body framed as announced,
 * except the few listed in refusals[] below: those break a rule that
 * meshkit keeps on purpose, and each says why.
 *
 * The cases are YAML with double-quoted escapes ("\x01", "\r\n"); libyaml
 * decodes them, so "\x88" arrives as the UTF-8 encoding of U+0088 (two
 * bytes, both >= 0x80), which is what the upstream project's own loader
 * sees too.  A request is built as
 *
 *	method SP uri [SP version] CRLF
 *	Host: localhost CRLF		(only if the case has no Host)
 *	name ":" value CRLF		(for each header, bytes unchanged)
 *	CRLF
 *	body
 *
 * The cases leave Host out because they are about framing; without one
 * every HTTP/1.1 case would be refused for that alone.  The body is a
 * small chunked body when the case has a Transfer-Encoding header, else
 * Content-Length bytes when that is plain digits, else nothing.
 *
 * MESHKIT_DESYNC_VERBOSE=1 prints every case with the verdict.
 *
 * The conformance data is found at
 * $MESHKIT_SHARED/testdata/http-desync-guardian, or else at
 * ../shared/testdata/http-desync-guardian seen from the repository root
 * (the working directory of the tests) or one of its parents, or from
 * this file's own path.  meshkit's own cases are at
 * $MESHKIT_TOP/tests/data/desync, or tests/data/desync from the working
 * directory, or beside this file.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>
/*
 * libyaml's <yaml.h>, not lib/yaml.h which -Ilib finds first: every
 * system include directory is named "include", lib/ is not.
 */
#include <../include/yaml.h>

#include "http.h"

#define DATA_SUBDIR	"testdata/http-desync-guardian"
#define OWN_SUBDIR	"tests/data/desync"
#define MAX_BODY	(4 * 1000 * 1000)
#define MAXH		256

/* Cases meshkit refuses although the data calls them acceptable. */
struct refusal {
	const char	*file;
	const char	*name;
	const char	*why;
};

#define WS_COLON	"whitespace between a header name and the colon: " \
	"RFC 9112 5.1 says a server MUST reject it with 400"
#define NAME_CTL	"a control byte in a header name: not a token; a " \
	"peer that strips it sees a different header (the same shape as " \
	"the Ambiguous \\x01Transfer-Encoding cases)"
#define VALUE_CTL	"a control byte in a header value: invalid per RFC " \
	"9110 5.5, and proxy-d forwards values unchanged, so it would pass " \
	"the malformed field on to the backend"

static const struct refusal refusals[] = {
	{ "acceptable.yaml",
	    "No TE/CL headers, some others are non-compliant", WS_COLON },
	{ "acceptable.yaml", "TE and some others are non-compliant",
	    WS_COLON },
	{ "acceptable.yaml", "CL and some others are non-compliant",
	    WS_COLON },
	{ "acceptable.yaml",
	    "A non-essential header with a non-printable character (x01)",
	    NAME_CTL },
	{ "acceptable.yaml", "Non-RFC, but OK HTTP/0.9",
	    "HTTP/0.9 has no header section; proxy-d speaks 1.0 and 1.1 "
	    "only (505)" },
	{ "acceptable.yaml", "Empty version, which means HTTP/0.9",
	    "a request line without a version is HTTP/0.9 to some servers "
	    "and a broken 1.x line to others (400)" },
	{ "bad-header-characters.yaml", "Some-Header\\x01", NAME_CTL },
	{ "bad-header-characters.yaml", "\\x01Some-Header", NAME_CTL },
	{ "bad-header-characters.yaml", "Some-Header: \\x01value", VALUE_CTL },
	{ "bad-header-characters.yaml", "Some-Header: value\\x01", VALUE_CTL },
	{ "uri-specific-test-cases.yaml", "[space] in URI",
	    "an unencoded space in the target: servers split such a line "
	    "at different spaces, and proxy-d forwards the target unchanged "
	    "(RFC 9112 3.2 allows answering 400)" },
	{ "rfc-compliant.yaml", "Compliant URL",
	    "a '#' in the target: RFC 9112 3.2 has no fragment in a request "
	    "target, and a peer that cuts the path there authorizes one path "
	    "and serves another (Envoy refuses it with 400 too)" },
	{ "rfc-compliant.yaml", "International in URI",
	    "raw bytes >= 0x80 in the target: RFC 3986 has none; a regex or "
	    "normalizer and the application would read them differently, "
	    "so clients must percent-encode them (Envoy refuses them too)" },
	{ "rfc-compliant.yaml", "Empty URI",
	    "\"GET  HTTP/1.1\" has no target on the wire; a server that "
	    "splits on runs of whitespace reads the version as the target "
	    "and the request as HTTP/0.9" },
};

/*
 * Ambiguous cases meshkit accepts on purpose (issue 9): a properly
 * framed body on GET.  Real APIs send them (a search query); the danger
 * is a backend that ignores the body and reads it as a next request, so
 * proxy-d forwards such a request with "Connection: close" and never
 * reuses its connection: a backend may not process anything after it
 * (RFC 9112 9.6), and no other client's request follows it there.
 */
#define GET_BODY	"a framed body on GET: forwarded, on a connection " \
	"that closes after it (proxy-d's head writer, head_body_closes)"

static const struct refusal acceptances[] = {
	{ "ambiguous.yaml", "Get with a body and Content-Length", GET_BODY },
	{ "ambiguous.yaml", "Get with a body and Transfer-Encoding",
	    GET_BODY },
	{ "real-life-test-cases.yaml", "Has a CL in GET", GET_BODY },
	{ "real-life-test-cases.yaml", "Has a TE in GET", GET_BODY },
};

struct buf {
	char	*p;
	size_t	 n;
	size_t	 cap;
};

struct tally {
	size_t	 cases;
	size_t	 failed;
	size_t	 by_tier[4];	/* Severe Ambiguous Acceptable Compliant */
	size_t	 refused_on_purpose;
};

static const char *const tiers[] = {
	"Severe", "Ambiguous", "Acceptable", "Compliant",
};

/* meshkit's own cases */
static const char *const own_files[] = {
	"compliant.yaml",
	"framing.yaml",
	"request-line.yaml",
};

/* the conformance corpus */
static const char *const files[] = {
	"acceptable.yaml",
	"ambiguous.yaml",
	"bad-header-characters.yaml",
	"edge-cases.yaml",
	"more-compliant-tests.yaml",
	"real-life-test-cases.yaml",
	"rfc-compliant.yaml",
	"severe.yaml",
	"single-case.yaml",
	"uri-specific-test-cases.yaml",
};

static char		 datadir[PATH_MAX];	/* conformance, "" if none */
static char		 owndir[PATH_MAX];
static size_t		 refusals_seen[nitems(refusals)];
static size_t		 acceptances_seen[nitems(acceptances)];
static struct http_header hdrs[MAXH];

static int	 try_dir(const char *, const char *);
static int	 find_datadir(void);
static int	 find_owndir(void);
static size_t	 count_yaml(const char *);
static void	 buf_add(struct buf *, const void *, size_t);
static void	 buf_str(struct buf *, const char *);
static yaml_node_t *map_get(yaml_document_t *, yaml_node_t *, const char *);
static int	 scalar(yaml_document_t *, yaml_node_t *, const char *,
		    struct str *);
static int	 str_is(struct str, const char *);
static const char *show(struct str);
static const struct refusal *refusal_for(const char *, struct str);
static int	 body_length(struct str, uint64_t *);
static void	 run_case(const char *, const char *, yaml_document_t *,
		    yaml_node_t *, struct tally *);
static void	 run_file(const char *, const char *, struct tally *);
static void	 test_own_file(void **);
static void	 test_own_totals(void **);
static void	 test_file(void **);
static void	 test_totals(void **);
static int	 setup(void **);

static int
try_dir(const char *base, const char *sub)
{
	char	 path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s/severe.yaml", base, sub) >=
	    (int)sizeof(path) || access(path, R_OK) != 0)
		return 0;
	snprintf(datadir, sizeof(datadir), "%s%s", base, sub);
	return 1;
}

static int
find_datadir(void)
{
	static const char *const ups[] = {
		"", "../", "../../", "../../../", "../../../../",
	};
	const char	*env = getenv("MESHKIT_SHARED");
	char		 self[PATH_MAX], *slash;
	size_t		 i;
	int		 k;

	if (env != NULL && *env != '\0')
		return try_dir(env, "/" DATA_SUBDIR);
	for (i = 0; i < nitems(ups); i++)
		if (try_dir(ups[i], "../shared/" DATA_SUBDIR) ||
		    try_dir(ups[i], "shared/" DATA_SUBDIR))
			return 1;
	/* <repo>/tests/unit/test_desync.c -> <repo>/../shared */
	snprintf(self, sizeof(self), "%s", __FILE__);
	for (k = 0; k < 3; k++) {
		if ((slash = strrchr(self, '/')) == NULL)
			return 0;
		*slash = '\0';
	}
	return try_dir(self, "/../shared/" DATA_SUBDIR);
}

static int
find_owndir(void)
{
	const char	*top = getenv("MESHKIT_TOP");
	char		 self[PATH_MAX], *slash;
	int		 k;

	if (top != NULL && *top != '\0')
		snprintf(owndir, sizeof(owndir), "%s/" OWN_SUBDIR, top);
	else
		snprintf(owndir, sizeof(owndir), OWN_SUBDIR);
	if (access(owndir, R_OK) == 0)
		return 1;
	/* <repo>/tests/unit/test_desync.c -> <repo>/tests/data/desync */
	snprintf(self, sizeof(self), "%s", __FILE__);
	for (k = 0; k < 2; k++) {
		if ((slash = strrchr(self, '/')) == NULL)
			return 0;
		*slash = '\0';
	}
	if (snprintf(owndir, sizeof(owndir), "%.*s/data/desync",
	    (int)(sizeof(owndir) - 16), self) >= (int)sizeof(owndir))
		return 0;
	return access(owndir, R_OK) == 0;
}

/* How many *.yaml files dir holds. */
static size_t
count_yaml(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n, count = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0)
			count++;
	}
	closedir(d);
	return count;
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(doc, pair->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    memcmp(k->data.scalar.value, key, strlen(key)) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static int
scalar(yaml_document_t *doc, yaml_node_t *map, const char *key,
    struct str *out)
{
	yaml_node_t	*n = map_get(doc, map, key);

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return -1;
	out->p = (const char *)n->data.scalar.value;
	out->n = n->data.scalar.length;
	return 0;
}

static int
str_is(struct str s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* printable form for messages; one static buffer */
static const char *
show(struct str s)
{
	static char	 out[1024];
	size_t		 o = 0, i;
	unsigned char	 c;

	for (i = 0; i < s.n && o + 5 < sizeof(out); i++) {
		c = (unsigned char)s.p[i];
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static const struct refusal *
acceptance_for(const char *file, struct str name)
{
	size_t	 i;

	for (i = 0; i < nitems(acceptances); i++)
		if (strcmp(acceptances[i].file, file) == 0 &&
		    str_is(name, acceptances[i].name)) {
			acceptances_seen[i]++;
			return &acceptances[i];
		}
	return NULL;
}

static const struct refusal *
refusal_for(const char *file, struct str name)
{
	size_t	 i;

	for (i = 0; i < nitems(refusals); i++)
		if (strcmp(refusals[i].file, file) == 0 &&
		    str_is(name, refusals[i].name)) {
			refusals_seen[i]++;
			return &refusals[i];
		}
	return NULL;
}

/* Content-Length as plain digits with OWS, small enough to send. */
static int
body_length(struct str v, uint64_t *n)
{
	size_t	 i = 0, end = v.n;

	while (i < end && (v.p[i] == ' ' || v.p[i] == '\t'))
		i++;
	while (end > i && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
		end--;
	if (i == end || end - i > 9)
		return -1;
	for (*n = 0; i < end; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		*n = *n * 10 + (uint64_t)(v.p[i] - '0');
	}
	return *n <= MAX_BODY ? 0 : -1;
}

static void
run_case(const char *dir, const char *file, yaml_document_t *doc,
    yaml_node_t *c, struct tally *t)
{
	static const char	 chunked_body[] = "5\r\nhello\r\n0\r\n\r\n";
	struct str		 name = { "", 0 }, method = name, uri = name;
	struct str		 version = name, tier = name, hn = name;
	struct str		 hv = name;
	yaml_node_t		*headers, *expected, *h;
	yaml_node_item_t	*item;
	const struct refusal	*why = NULL;
	struct buf		 b = { NULL, 0, 0 };
	struct http_request	 req;
	struct http_error	 err = { 0, NULL };
	struct http_chunked	 ch;
	struct http_limits	 lim;
	size_t			 scan = 0, rest, i;
	ssize_t			 end, n;
	uint64_t		 cl = 0;
	int			 have_host = 0, te = 0, have_cl = 0, refuse;
	int			 ti = -1, done, rc;
	char			 what[256];

	if (scalar(doc, c, "name", &name) == -1 ||
	    scalar(doc, c, "method", &method) == -1 ||
	    scalar(doc, c, "uri", &uri) == -1 ||
	    scalar(doc, c, "version", &version) == -1 ||
	    (expected = map_get(doc, c, "expected")) == NULL ||
	    scalar(doc, expected, "tier", &tier) == -1) {
		fail_msg("%s: case %zu lacks name, method, uri, version or "
		    "expected.tier", file, t->cases + 1);
		return;
	}
	for (i = 0; i < nitems(tiers); i++)
		if (str_is(tier, tiers[i]))
			ti = (int)i;
	if (ti == -1) {
		fail_msg("%s: %s: unknown tier %s", file, show(name),
		    show(tier));
		return;
	}
	t->cases++;
	t->by_tier[ti]++;

	refuse = ti <= 1;
	if (!refuse && dir == datadir &&
	    (why = refusal_for(file, name)) != NULL)
		refuse = 1;
	else if (ti == 1 && (why = acceptance_for(file, name)) != NULL)
		refuse = 0;

	/* the request line */
	buf_add(&b, method.p, method.n);
	buf_str(&b, " ");
	buf_add(&b, uri.p, uri.n);
	if (version.n > 0) {
		buf_str(&b, " ");
		buf_add(&b, version.p, version.n);
	}
	buf_str(&b, "\r\n");

	/* "headers:" with nothing after it is a null scalar */
	headers = map_get(doc, c, "headers");
	if (headers != NULL && headers->type == YAML_SEQUENCE_NODE) {
		for (item = headers->data.sequence.items.start;
		    item < headers->data.sequence.items.top; item++) {
			h = yaml_document_get_node(doc, *item);
			if (scalar(doc, h, "name", &hn) == -1 ||
			    scalar(doc, h, "value", &hv) == -1) {
				fail_msg("%s: %s: header without name or "
				    "value", file, show(name));
				return;
			}
			if (hn.n == 4 && strncasecmp(hn.p, "host", 4) == 0)
				have_host = 1;
			if (hn.n == 17 &&
			    strncasecmp(hn.p, "transfer-encoding", 17) == 0)
				te = 1;
			if (hn.n == 14 &&
			    strncasecmp(hn.p, "content-length", 14) == 0 &&
			    body_length(hv, &cl) == 0)
				have_cl = 1;
		}
	}
	if (!have_host)
		buf_str(&b, "Host: localhost\r\n");
	if (headers != NULL && headers->type == YAML_SEQUENCE_NODE) {
		for (item = headers->data.sequence.items.start;
		    item < headers->data.sequence.items.top; item++) {
			h = yaml_document_get_node(doc, *item);
			scalar(doc, h, "name", &hn);
			scalar(doc, h, "value", &hv);
			buf_add(&b, hn.p, hn.n);
			buf_str(&b, ":");
			buf_add(&b, hv.p, hv.n);
			buf_str(&b, "\r\n");
		}
	}
	buf_str(&b, "\r\n");
	if (te)
		buf_str(&b, chunked_body);
	else if (have_cl)
		for (i = 0; i < cl; i++)
			buf_str(&b, "x");

	http_limits_default(&lim);
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.max_headers = MAXH;
	end = http_head_end(b.p, b.n, &scan, &lim, &err);
	if (end > 0)
		rc = http_parse_request(b.p, (size_t)end, &lim, &req, &err);
	else
		rc = end == 0 ? -2 : -1;

	what[0] = '\0';
	if (rc == -2)
		snprintf(what, sizeof(what), "head never ends");
	else if (refuse && rc == 0)
		snprintf(what, sizeof(what), "accepted, want refused%s%s",
		    why ? " on purpose: " : "", why ? why->why : "");
	else if (refuse && (err.status < 400 || err.status > 599))
		snprintf(what, sizeof(what), "refused with status %d",
		    err.status);
	else if (!refuse && rc != 0)
		snprintf(what, sizeof(what), "refused (%d %s), want accepted",
		    err.status, err.reason);
	else if (!refuse) {
		/* the body must be framed exactly as it was sent */
		rest = b.n - (size_t)end;
		if (req.framing == HTTP_BODY_CHUNKED) {
			http_chunked_init(&ch, &lim);
			n = http_chunked_feed(&ch, b.p + end, rest, &done,
			    &err);
			if (n != (ssize_t)rest || !done)
				snprintf(what, sizeof(what), "chunked body "
				    "not read whole (%zd of %zu)", n, rest);
		} else if (req.framing == HTTP_BODY_LENGTH) {
			if (req.content_length != rest)
				snprintf(what, sizeof(what), "length %ju, "
				    "sent %zu", (uintmax_t)req.content_length,
				    rest);
		} else if (rest != 0)
			snprintf(what, sizeof(what), "no body framing, but "
			    "%zu body bytes sent", rest);
	}
	if (what[0] != '\0') {
		t->failed++;
		print_error("FAIL %s/%s: \"%s\" [%s]: %s\n", dir, file,
		    show(name), tiers[ti], what);
		print_error("     request: %s\n",
		    show((struct str){ b.p, b.n < 600 ? b.n : 600 }));
	} else if (why != NULL && refuse)
		t->refused_on_purpose++;
	if (getenv("MESHKIT_DESYNC_VERBOSE") != NULL)
		print_message("%s: \"%s\" [%s]: %d %s\n", file, show(name),
		    tiers[ti], rc == 0 ? 200 : err.status,
		    rc == 0 ? "accepted" : err.reason);
	free(b.p);
}

static void
run_file(const char *dir, const char *file, struct tally *t)
{
	char			 path[PATH_MAX + 64];
	FILE			*fp;
	yaml_parser_t		 parser;
	yaml_document_t		 doc;
	yaml_node_t		*root;
	yaml_node_item_t	*item;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_file(&parser, fp);
	if (yaml_parser_load(&parser, &doc) != 1)
		fail_msg("%s:%zu: YAML error: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "?");
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_SEQUENCE_NODE)
		fail_msg("%s: not a list of cases", path);
	for (item = root->data.sequence.items.start;
	    item < root->data.sequence.items.top; item++)
		run_case(dir, file, &doc, yaml_document_get_node(&doc, *item),
		    t);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(fp);
}

/* One file of meshkit's own cases. */
static void
test_own_file(void **state)
{
	const char	*file = *state;
	struct tally	 t;

	memset(&t, 0, sizeof(t));
	run_file(owndir, file, &t);
	print_message("%s: %zu cases, %zu as expected, %zu failed\n", file,
	    t.cases, t.cases - t.failed, t.failed);
	if (t.failed > 0)
		fail_msg("%zu of %zu cases of %s failed", t.failed, t.cases,
		    file);
}

/* Every tier has cases, and every file of the directory is listed. */
static void
test_own_totals(void **state)
{
	struct tally	 t;
	size_t		 i;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < nitems(own_files); i++)
		run_file(owndir, own_files[i], &t);
	print_message("meshkit's own: %zu cases: %zu Severe, %zu Ambiguous, "
	    "%zu Acceptable, %zu Compliant\n", t.cases, t.by_tier[0],
	    t.by_tier[1], t.by_tier[2], t.by_tier[3]);
	assert_true(t.by_tier[0] >= 20);
	assert_true(t.by_tier[1] >= 5);
	assert_true(t.by_tier[2] + t.by_tier[3] >= 10);
	assert_int_equal(count_yaml(owndir), nitems(own_files));
	assert_int_equal(t.failed, 0);
}

/* One file of the conformance corpus; skipped without it. */
static void
test_file(void **state)
{
	const char	*file = *state;
	struct tally	 t;

	if (datadir[0] == '\0')
		skip();
	memset(&t, 0, sizeof(t));
	run_file(datadir, file, &t);
	print_message("%s: %zu cases, %zu as expected (%zu of them "
	    "refused on purpose), %zu failed\n", file, t.cases,
	    t.cases - t.failed, t.refused_on_purpose, t.failed);
	if (t.failed > 0)
		fail_msg("%zu of %zu cases of %s failed", t.failed, t.cases,
		    file);
}

/* The data is whole, and every listed refusal still names a case. */
static void
test_totals(void **state)
{
	struct tally	 t;
	size_t		 i;

	if (datadir[0] == '\0')
		skip();
	memset(&t, 0, sizeof(t));
	memset(refusals_seen, 0, sizeof(refusals_seen));
	memset(acceptances_seen, 0, sizeof(acceptances_seen));
	for (i = 0; i < nitems(files); i++)
		run_file(datadir, files[i], &t);
	assert_int_equal(t.cases, 159);
	assert_int_equal(t.by_tier[0], 58);
	assert_int_equal(t.by_tier[1], 58);
	assert_int_equal(t.by_tier[2], 15);
	assert_int_equal(t.by_tier[3], 28);
	for (i = 0; i < nitems(refusals); i++)
		if (refusals_seen[i] != 1)
			fail_msg("refusal \"%s\" in %s matches %zu cases",
			    refusals[i].name, refusals[i].file,
			    refusals_seen[i]);
	for (i = 0; i < nitems(acceptances); i++)
		if (acceptances_seen[i] != 1)
			fail_msg("acceptance \"%s\" in %s matches %zu cases",
			    acceptances[i].name, acceptances[i].file,
			    acceptances_seen[i]);
	print_message("all files: %zu cases, %zu as expected, %zu of the "
	    "43 Acceptable/Compliant refused on purpose\n", t.cases,
	    t.cases - t.failed, t.refused_on_purpose);

	/* a YAML file added to the data must be added to files[] */
	assert_int_equal(count_yaml(datadir), nitems(files));
	assert_int_equal(t.failed, 0);
}

static int
setup(void **state)
{
	if (!find_owndir()) {
		print_error("tests/data/desync not found: run from the "
		    "repository root, or set MESHKIT_TOP\n");
		return -1;
	}
	if (!find_datadir()) {
		datadir[0] = '\0';
		print_message("http-desync-guardian data not found (set "
		    "MESHKIT_SHARED, or put shared/ beside the repository): "
		    "its cases are skipped\n");
	}
	return 0;
}

#define OWN_TEST(f) {							\
	.name = "own " f, .test_func = test_own_file,			\
	.initial_state = (void *)f					\
}
#define FILE_TEST(f) {							\
	.name = f, .test_func = test_file, .initial_state = (void *)f	\
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		OWN_TEST("compliant.yaml"),
		OWN_TEST("framing.yaml"),
		OWN_TEST("request-line.yaml"),
		cmocka_unit_test(test_own_totals),
		FILE_TEST("acceptable.yaml"),
		FILE_TEST("ambiguous.yaml"),
		FILE_TEST("bad-header-characters.yaml"),
		FILE_TEST("edge-cases.yaml"),
		FILE_TEST("more-compliant-tests.yaml"),
		FILE_TEST("real-life-test-cases.yaml"),
		FILE_TEST("rfc-compliant.yaml"),
		FILE_TEST("severe.yaml"),
		FILE_TEST("single-case.yaml"),
		FILE_TEST("uri-specific-test-cases.yaml"),
		cmocka_unit_test(test_totals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
