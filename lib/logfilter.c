/* SPDX-License-Identifier: ISC */
/*
 * A CEL subset for access log filters (logfilter.h): a recursive descent
 * parser to a typed tree, and its evaluation over a record.
 *
 * Types are known when the expression is read (each attribute has one),
 * so "response.code == 'x'" is refused then, not at the first request.
 * An attribute the record does not have reads as "" or 0.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfilter.h"
#include "record.h"
#include "util.h"

enum lf_type { T_BOOL, T_INT, T_STR };

enum lf_op {
	N_OR, N_AND, N_NOT,
	N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE,
	N_STARTS, N_ENDS, N_CONTAINS,
	N_IN,			/* a in [b, b->b, ...] */
	N_INT, N_STR, N_BOOL,
	N_ATTR,
};

enum lf_attr {
	A_RESPONSE_CODE, A_RESPONSE_CODE_DETAILS, A_RESPONSE_SIZE,
	A_RESPONSE_TOTAL_SIZE, A_RESPONSE_HEADER,
	A_REQUEST_METHOD, A_REQUEST_PATH, A_REQUEST_URL_PATH, A_REQUEST_HOST,
	A_REQUEST_SCHEME, A_REQUEST_PROTOCOL, A_REQUEST_ID,
	A_REQUEST_USERAGENT, A_REQUEST_REFERER, A_REQUEST_SIZE,
	A_REQUEST_TOTAL_SIZE, A_REQUEST_HEADER,
	A_SOURCE_ADDRESS, A_SOURCE_PORT, A_DESTINATION_ADDRESS,
	A_DESTINATION_PORT, A_UPSTREAM_ADDRESS, A_UPSTREAM_PORT,
	A_CONNECTION_MTLS, A_CONNECTION_SNI,
};

static const struct {
	const char	*name;
	enum lf_attr	 attr;
	enum lf_type	 type;
} lf_attrs[] = {
	{ "response.code", A_RESPONSE_CODE, T_INT },
	{ "response.code_details", A_RESPONSE_CODE_DETAILS, T_STR },
	{ "response.size", A_RESPONSE_SIZE, T_INT },
	{ "response.total_size", A_RESPONSE_TOTAL_SIZE, T_INT },
	{ "response.headers", A_RESPONSE_HEADER, T_STR },
	{ "request.method", A_REQUEST_METHOD, T_STR },
	{ "request.path", A_REQUEST_PATH, T_STR },
	{ "request.url_path", A_REQUEST_URL_PATH, T_STR },
	{ "request.host", A_REQUEST_HOST, T_STR },
	{ "request.scheme", A_REQUEST_SCHEME, T_STR },
	{ "request.protocol", A_REQUEST_PROTOCOL, T_STR },
	{ "request.id", A_REQUEST_ID, T_STR },
	{ "request.useragent", A_REQUEST_USERAGENT, T_STR },
	{ "request.referer", A_REQUEST_REFERER, T_STR },
	{ "request.size", A_REQUEST_SIZE, T_INT },
	{ "request.total_size", A_REQUEST_TOTAL_SIZE, T_INT },
	{ "request.headers", A_REQUEST_HEADER, T_STR },
	{ "source.address", A_SOURCE_ADDRESS, T_STR },
	{ "source.port", A_SOURCE_PORT, T_INT },
	{ "destination.address", A_DESTINATION_ADDRESS, T_STR },
	{ "destination.port", A_DESTINATION_PORT, T_INT },
	{ "upstream.address", A_UPSTREAM_ADDRESS, T_STR },
	{ "upstream.port", A_UPSTREAM_PORT, T_INT },
	{ "connection.mtls", A_CONNECTION_MTLS, T_BOOL },
	{ "connection.requested_server_name", A_CONNECTION_SNI, T_STR },
};

struct lf_node {
	enum lf_op	 op;
	enum lf_type	 type;
	struct lf_node	*a, *b;
	long long	 num;
	char		*str;		/* literal, or header name */
	size_t		 len;
	enum lf_attr	 attr;
};

struct logfilter {
	struct lf_node	*root;
	const char	**headers[2];
	size_t		 nheaders[2];
};

struct lf_parser {
	const char		*p;
	const char		*start;
	char			*err;
	size_t			 errlen;
	int			 depth;
	struct logfilter	*f;
};

struct lf_value {
	enum lf_type	 type;
	long long	 num;
	struct str	 s;
};

static int	lf_fail(struct lf_parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	lf_space(struct lf_parser *);
static int	lf_accept(struct lf_parser *, const char *);
static struct lf_node *lf_new(enum lf_op, enum lf_type, struct lf_node *,
		    struct lf_node *);
static void	lf_free(struct lf_node *);
static struct lf_node *lf_or(struct lf_parser *);
static struct lf_node *lf_and(struct lf_parser *);
static struct lf_node *lf_not(struct lf_parser *);
static struct lf_node *lf_cmp(struct lf_parser *);
static struct lf_node *lf_in(struct lf_parser *, struct lf_node *);
static const char *lf_type_name(enum lf_type);
static struct lf_node *lf_value(struct lf_parser *);
static struct lf_node *lf_primary(struct lf_parser *);
static struct lf_node *lf_string(struct lf_parser *);
static struct lf_node *lf_attribute(struct lf_parser *);
static void	lf_add_header(struct logfilter *, int, const char *);
static void	lf_eval(const struct lf_node *, const struct record *,
		    struct lf_value *);

static int
lf_fail(struct lf_parser *ps, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[200];

	if (ps->err[0] != '\0')
		return -1;	/* the first error says it */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s at offset %zu", why,
	    (size_t)(ps->p - ps->start));
	return -1;
}

static void
lf_space(struct lf_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	    *ps->p == '\r')
		ps->p++;
}

static int
lf_accept(struct lf_parser *ps, const char *tok)
{
	size_t	 n = strlen(tok);

	lf_space(ps);
	if (strncmp(ps->p, tok, n) != 0)
		return 0;
	/* "<" is not "<=", "=" alone is no operator */
	if ((strcmp(tok, "<") == 0 || strcmp(tok, ">") == 0) &&
	    ps->p[1] == '=')
		return 0;
	ps->p += n;
	return 1;
}

static struct lf_node *
lf_new(enum lf_op op, enum lf_type type, struct lf_node *a, struct lf_node *b)
{
	struct lf_node	*n = xcalloc(1, sizeof(*n));

	n->op = op;
	n->type = type;
	n->a = a;
	n->b = b;
	return n;
}

static void
lf_free(struct lf_node *n)
{
	if (n == NULL)
		return;
	lf_free(n->a);
	lf_free(n->b);
	free(n->str);
	free(n);
}

static struct lf_node *
lf_or(struct lf_parser *ps)
{
	struct lf_node	*l, *r;

	if (++ps->depth > LOGFILTER_MAX_DEPTH) {
		lf_fail(ps, "nested too deep");
		return NULL;
	}
	if ((l = lf_and(ps)) == NULL)
		return NULL;
	while (lf_accept(ps, "||")) {
		if ((r = lf_and(ps)) == NULL) {
			lf_free(l);
			return NULL;
		}
		l = lf_new(N_OR, T_BOOL, l, r);
	}
	ps->depth--;
	return l;
}

static struct lf_node *
lf_and(struct lf_parser *ps)
{
	struct lf_node	*l, *r;

	if ((l = lf_not(ps)) == NULL)
		return NULL;
	while (lf_accept(ps, "&&")) {
		if ((r = lf_not(ps)) == NULL) {
			lf_free(l);
			return NULL;
		}
		l = lf_new(N_AND, T_BOOL, l, r);
	}
	return l;
}

static struct lf_node *
lf_not(struct lf_parser *ps)
{
	struct lf_node	*n;

	if (lf_accept(ps, "!")) {
		if (++ps->depth > LOGFILTER_MAX_DEPTH) {
			lf_fail(ps, "nested too deep");
			return NULL;
		}
		if ((n = lf_not(ps)) == NULL)
			return NULL;
		ps->depth--;
		if (n->type != T_BOOL) {
			lf_fail(ps, "'!' wants a bool");
			lf_free(n);
			return NULL;
		}
		return lf_new(N_NOT, T_BOOL, n, NULL);
	}
	if ((n = lf_cmp(ps)) == NULL)
		return NULL;
	if (n->type != T_BOOL) {
		lf_fail(ps, "a condition must be a bool, not a %s",
		    n->type == T_INT ? "number" : "string");
		lf_free(n);
		return NULL;
	}
	return n;
}

static const char *
lf_type_name(enum lf_type t)
{
	return t == T_INT ? "number" : t == T_STR ? "string" : "bool";
}

/*
 * CEL's "a in [x, y, ...]" over a list of literals of a's type, the list
 * chained through each literal's b.  The "in" is read.
 */
static struct lf_node *
lf_in(struct lf_parser *ps, struct lf_node *l)
{
	struct lf_node	*n, *e, **tail;
	const char	*at;
	size_t		 count = 0;

	n = lf_new(N_IN, T_BOOL, l, NULL);
	tail = &n->b;
	if (!lf_accept(ps, "[")) {
		lf_fail(ps, "in wants a list: [a, b, ...]");
		lf_free(n);
		return NULL;
	}
	if (lf_accept(ps, "]"))
		return n;
	do {
		lf_space(ps);
		if (++count > LOGFILTER_MAX_LIST) {
			lf_fail(ps, "a list of more than %d values",
			    LOGFILTER_MAX_LIST);
			lf_free(n);
			return NULL;
		}
		at = ps->p;
		if ((e = lf_primary(ps)) == NULL) {
			lf_free(n);
			return NULL;
		}
		if (e->op != N_INT && e->op != N_STR) {
			ps->p = at;	/* the error at the value */
			lf_fail(ps, "a list of in holds numbers or strings "
			    "written out");
			lf_free(e);
			lf_free(n);
			return NULL;
		}
		if (e->type != l->type) {
			ps->p = at;
			lf_fail(ps, "in looks for a %s in a list with a %s",
			    lf_type_name(l->type), lf_type_name(e->type));
			lf_free(e);
			lf_free(n);
			return NULL;
		}
		*tail = e;
		tail = &e->b;
	} while (lf_accept(ps, ","));
	if (!lf_accept(ps, "]")) {
		lf_fail(ps, "',' or ']' expected in a list");
		lf_free(n);
		return NULL;
	}
	return n;
}

static struct lf_node *
lf_cmp(struct lf_parser *ps)
{
	static const struct {
		const char	*tok;
		enum lf_op	 op;
	} ops[] = {
		{ "==", N_EQ }, { "!=", N_NE }, { "<=", N_LE }, { ">=", N_GE },
		{ "<", N_LT }, { ">", N_GT },
	};
	struct lf_node	*l, *r;
	size_t		 i;

	if ((l = lf_value(ps)) == NULL)
		return NULL;
	lf_space(ps);
	if (strncmp(ps->p, "in", 2) == 0 && !isalnum((unsigned char)ps->p[2]) &&
	    ps->p[2] != '_') {
		ps->p += 2;
		if (l->type == T_BOOL) {
			lf_fail(ps, "in looks for a number or a string");
			lf_free(l);
			return NULL;
		}
		return lf_in(ps, l);
	}
	for (i = 0; i < nitems(ops); i++)
		if (lf_accept(ps, ops[i].tok))
			break;
	if (i == nitems(ops))
		return l;
	if ((r = lf_value(ps)) == NULL) {
		lf_free(l);
		return NULL;
	}
	if (l->type != r->type) {
		lf_fail(ps, "%s compares a %s with a %s", ops[i].tok,
		    l->type == T_INT ? "number" : l->type == T_STR ? "string" :
		    "bool", r->type == T_INT ? "number" : r->type == T_STR ?
		    "string" : "bool");
		lf_free(l);
		lf_free(r);
		return NULL;
	}
	if (l->type == T_BOOL && ops[i].op != N_EQ && ops[i].op != N_NE) {
		lf_fail(ps, "bools are compared with == and != only");
		lf_free(l);
		lf_free(r);
		return NULL;
	}
	return lf_new(ops[i].op, T_BOOL, l, r);
}

/* A primary, and a method call on a string. */
static struct lf_node *
lf_value(struct lf_parser *ps)
{
	static const struct {
		const char	*name;
		enum lf_op	 op;
	} methods[] = {
		{ "startsWith", N_STARTS }, { "endsWith", N_ENDS },
		{ "contains", N_CONTAINS },
	};
	struct lf_node	*n, *arg;
	size_t		 i, len;

	if ((n = lf_primary(ps)) == NULL)
		return NULL;
	lf_space(ps);
	while (*ps->p == '.') {
		ps->p++;
		for (i = 0; i < nitems(methods); i++) {
			len = strlen(methods[i].name);
			if (strncmp(ps->p, methods[i].name, len) == 0 &&
			    !isalnum((unsigned char)ps->p[len]) &&
			    ps->p[len] != '_')
				break;
		}
		if (i == nitems(methods)) {
			lf_fail(ps, "unknown method (startsWith, endsWith "
			    "and contains are known)");
			lf_free(n);
			return NULL;
		}
		ps->p += strlen(methods[i].name);
		if (n->type != T_STR) {
			lf_fail(ps, "%s is a method of strings",
			    methods[i].name);
			lf_free(n);
			return NULL;
		}
		arg = NULL;
		if (!lf_accept(ps, "(") || (arg = lf_value(ps)) == NULL ||
		    arg->type != T_STR || !lf_accept(ps, ")")) {
			lf_fail(ps, "%s takes one string", methods[i].name);
			lf_free(arg);
			lf_free(n);
			return NULL;
		}
		n = lf_new(methods[i].op, T_BOOL, n, arg);
		lf_space(ps);
	}
	return n;
}

/* '...' or "..." with \\ \' \" \n \t escapes. */
static struct lf_node *
lf_string(struct lf_parser *ps)
{
	char		 quote = *ps->p++, *buf;
	size_t		 len = 0;
	struct lf_node	*n;

	buf = xmalloc(strlen(ps->p) + 1);
	for (;;) {
		if (*ps->p == '\0') {
			free(buf);
			lf_fail(ps, "unterminated string");
			return NULL;
		}
		if (*ps->p == quote) {
			ps->p++;
			break;
		}
		if (*ps->p == '\\') {
			ps->p++;
			switch (*ps->p) {
			case '\\': case '\'': case '"':
				buf[len++] = *ps->p;
				break;
			case 'n':
				buf[len++] = '\n';
				break;
			case 't':
				buf[len++] = '\t';
				break;
			default:
				free(buf);
				lf_fail(ps, "unknown escape in a string");
				return NULL;
			}
			ps->p++;
			continue;
		}
		buf[len++] = *ps->p++;
	}
	buf[len] = '\0';
	n = lf_new(N_STR, T_STR, NULL, NULL);
	n->str = buf;
	n->len = len;
	return n;
}

static void
lf_add_header(struct logfilter *f, int response, const char *name)
{
	size_t	 i;

	for (i = 0; i < f->nheaders[response]; i++)
		if (strcmp(f->headers[response][i], name) == 0)
			return;
	f->headers[response] = xreallocarray(f->headers[response],
	    f->nheaders[response] + 1, sizeof(char *));
	f->headers[response][f->nheaders[response]++] = name;
}

static struct lf_node *
lf_attribute(struct lf_parser *ps)
{
	const char	*start = ps->p;
	struct lf_node	*n, *key;
	size_t		 len, i;

	while (isalnum((unsigned char)*ps->p) || *ps->p == '_' ||
	    (*ps->p == '.' && (isalpha((unsigned char)ps->p[1]) ||
	    ps->p[1] == '_') && strncmp(ps->p + 1, "startsWith(", 11) != 0 &&
	    strncmp(ps->p + 1, "endsWith(", 9) != 0 &&
	    strncmp(ps->p + 1, "contains(", 9) != 0))
		ps->p++;
	len = (size_t)(ps->p - start);
	if (len == 4 && strncmp(start, "true", 4) == 0) {
		n = lf_new(N_BOOL, T_BOOL, NULL, NULL);
		n->num = 1;
		return n;
	}
	if (len == 5 && strncmp(start, "false", 5) == 0)
		return lf_new(N_BOOL, T_BOOL, NULL, NULL);
	for (i = 0; i < nitems(lf_attrs); i++)
		if (strlen(lf_attrs[i].name) == len &&
		    strncmp(lf_attrs[i].name, start, len) == 0)
			break;
	if (i == nitems(lf_attrs)) {
		ps->p = start;
		lf_fail(ps, "unknown attribute \"%.*s\"", (int)(len < 64 ?
		    len : 64), start);
		return NULL;
	}
	n = lf_new(N_ATTR, lf_attrs[i].type, NULL, NULL);
	n->attr = lf_attrs[i].attr;
	if (n->attr != A_REQUEST_HEADER && n->attr != A_RESPONSE_HEADER)
		return n;
	/* headers['name'] */
	lf_space(ps);
	if (*ps->p != '[') {
		lf_fail(ps, "%s needs ['name']", lf_attrs[i].name);
		lf_free(n);
		return NULL;
	}
	ps->p++;
	lf_space(ps);
	key = NULL;
	if ((*ps->p != '\'' && *ps->p != '"') ||
	    (key = lf_string(ps)) == NULL || !lf_accept(ps, "]")) {
		lf_fail(ps, "a header is named by a string: ['name']");
		lf_free(key);
		lf_free(n);
		return NULL;
	}
	for (i = 0; i < key->len; i++)
		key->str[i] = (char)tolower((unsigned char)key->str[i]);
	if (!util_is_token((struct str){ key->str, key->len })) {
		lf_fail(ps, "\"%s\" is not a header name", key->str);
		lf_free(key);
		lf_free(n);
		return NULL;
	}
	n->str = key->str;
	n->len = key->len;
	key->str = NULL;
	lf_free(key);
	lf_add_header(ps->f, n->attr == A_RESPONSE_HEADER, n->str);
	return n;
}

static struct lf_node *
lf_primary(struct lf_parser *ps)
{
	struct lf_node	*n;
	char		*end;
	long long	 v;

	lf_space(ps);
	if (*ps->p == '(') {
		ps->p++;
		if ((n = lf_or(ps)) == NULL)
			return NULL;
		if (!lf_accept(ps, ")")) {
			lf_fail(ps, "')' expected");
			lf_free(n);
			return NULL;
		}
		return n;
	}
	if (*ps->p == '\'' || *ps->p == '"')
		return lf_string(ps);
	if (isdigit((unsigned char)*ps->p) || (*ps->p == '-' &&
	    isdigit((unsigned char)ps->p[1]))) {
		errno = 0;
		v = strtoll(ps->p, &end, 10);
		if (errno != 0 || isalpha((unsigned char)*end) || *end == '.') {
			lf_fail(ps, "bad number");
			return NULL;
		}
		ps->p = end;
		n = lf_new(N_INT, T_INT, NULL, NULL);
		n->num = v;
		return n;
	}
	if (isalpha((unsigned char)*ps->p) || *ps->p == '_')
		return lf_attribute(ps);
	lf_fail(ps, *ps->p == '\0' ? "unexpected end" : "unexpected '%c'",
	    *ps->p);
	return NULL;
}

struct logfilter *
logfilter_parse(const char *expr, char *err, size_t errlen)
{
	struct lf_parser	 ps;
	struct logfilter	*f;
	char			 dummy[1];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (strlen(expr) > LOGFILTER_MAX_LEN) {
		snprintf(err, errlen, "longer than %d bytes",
		    LOGFILTER_MAX_LEN);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	memset(&ps, 0, sizeof(ps));
	ps.p = ps.start = expr;
	ps.err = err;
	ps.errlen = errlen;
	ps.f = f;
	if ((f->root = lf_or(&ps)) != NULL) {
		lf_space(&ps);
		if (*ps.p != '\0') {
			lf_fail(&ps, "unexpected '%c'", *ps.p);
			logfilter_free(f);
			return NULL;
		}
		if (f->root->type != T_BOOL) {
			lf_fail(&ps, "the expression must be a bool");
			logfilter_free(f);
			return NULL;
		}
		return f;
	}
	if (err[0] == '\0')
		snprintf(err, errlen, "bad expression");
	logfilter_free(f);
	return NULL;
}

void
logfilter_free(struct logfilter *f)
{
	if (f == NULL)
		return;
	/* header names point into the tree: the arrays go first */
	free(f->headers[0]);
	free(f->headers[1]);
	lf_free(f->root);
	free(f);
}

/* The optional record fields (RECORD_F_*) a subtree reads. */
static unsigned
lf_fields(const struct lf_node *n)
{
	unsigned	 m = 0;

	for (; n != NULL; n = n->b) {
		if (n->a != NULL)
			m |= lf_fields(n->a);
		if (n->op != N_ATTR)
			continue;
		if (n->attr == A_RESPONSE_CODE_DETAILS)
			m |= RECORD_F_DETAILS;
		else if (n->attr == A_REQUEST_PROTOCOL)
			m |= RECORD_F_PROTOCOL;
		else if (n->attr == A_CONNECTION_SNI)
			m |= RECORD_F_SNI;
	}
	return m;
}

/* What a proxy must put in its records for this filter (RECORD_F_*). */
unsigned
logfilter_fields(const struct logfilter *f)
{
	return lf_fields(f->root);
}

size_t
logfilter_headers(const struct logfilter *f, int response,
    const char *const **names)
{
	*names = f->headers[response ? 1 : 0];
	return f->nheaders[response ? 1 : 0];
}

static void
lf_eval(const struct lf_node *n, const struct record *r, struct lf_value *v)
{
	struct lf_value	 a, b;
	const struct lf_node *e;
	struct str	 s;
	long long	 port;
	int		 c;

	memset(v, 0, sizeof(*v));
	v->type = n->type;
	switch (n->op) {
	case N_OR:
		lf_eval(n->a, r, &a);
		if (a.num) {
			v->num = 1;
			return;
		}
		lf_eval(n->b, r, &b);
		v->num = b.num;
		return;
	case N_AND:
		lf_eval(n->a, r, &a);
		if (!a.num)
			return;
		lf_eval(n->b, r, &b);
		v->num = b.num;
		return;
	case N_NOT:
		lf_eval(n->a, r, &a);
		v->num = !a.num;
		return;
	case N_INT:
	case N_BOOL:
		v->num = n->num;
		return;
	case N_STR:
		v->s = (struct str){ n->str, n->len };
		return;
	case N_STARTS:
	case N_ENDS:
	case N_CONTAINS:
		lf_eval(n->a, r, &a);
		lf_eval(n->b, r, &b);
		if (b.s.n > a.s.n)
			return;
		if (n->op == N_STARTS)
			v->num = memcmp(a.s.p, b.s.p, b.s.n) == 0;
		else if (n->op == N_ENDS)
			v->num = memcmp(a.s.p + a.s.n - b.s.n, b.s.p,
			    b.s.n) == 0;
		else
			v->num = b.s.n == 0 || memmem(a.s.p, a.s.n, b.s.p,
			    b.s.n) != NULL;
		return;
	case N_IN:
		lf_eval(n->a, r, &a);
		for (e = n->b; e != NULL && !v->num; e = e->b)
			v->num = a.type == T_STR ? a.s.n == e->len &&
			    memcmp(a.s.p, e->str, e->len) == 0 :
			    a.num == e->num;
		return;
	case N_EQ: case N_NE: case N_LT: case N_LE: case N_GT: case N_GE:
		lf_eval(n->a, r, &a);
		lf_eval(n->b, r, &b);
		if (a.type == T_STR) {
			c = memcmp(a.s.p, b.s.p, a.s.n < b.s.n ? a.s.n :
			    b.s.n);
			if (c == 0)
				c = a.s.n < b.s.n ? -1 : a.s.n > b.s.n;
		} else
			c = a.num < b.num ? -1 : a.num > b.num;
		v->num = n->op == N_EQ ? c == 0 : n->op == N_NE ? c != 0 :
		    n->op == N_LT ? c < 0 : n->op == N_LE ? c <= 0 :
		    n->op == N_GT ? c > 0 : c >= 0;
		return;
	case N_ATTR:
		break;
	}
	s = (struct str){ "", 0 };
	switch (n->attr) {
	case A_RESPONSE_CODE:
		v->num = r->code;
		return;
	case A_RESPONSE_CODE_DETAILS:
		s = r->details;
		break;
	case A_RESPONSE_SIZE:
		v->num = (long long)r->response_bytes;
		return;
	case A_RESPONSE_TOTAL_SIZE:
		v->num = (long long)(r->response_bytes +
		    r->response_head_bytes);
		return;
	case A_RESPONSE_HEADER:
		s = record_response_header(r, n->str);
		break;
	case A_REQUEST_METHOD:
		s = r->method;
		break;
	case A_REQUEST_PATH:
		s = r->path;
		break;
	case A_REQUEST_URL_PATH:
		s = r->path;
		if (s.p != NULL && memchr(s.p, '?', s.n) != NULL)
			s.n = (size_t)((const char *)memchr(s.p, '?', s.n) -
			    s.p);
		break;
	case A_REQUEST_HOST:
		s = r->authority;
		break;
	case A_REQUEST_SCHEME:
		s = STR_LIT("http");
		break;
	case A_REQUEST_PROTOCOL:
		s = r->protocol.p != NULL ? r->protocol : STR_LIT("HTTP/1.1");
		break;
	case A_REQUEST_ID:
		s = record_request_header(r, "x-request-id");
		break;
	case A_REQUEST_USERAGENT:
		s = record_request_header(r, "user-agent");
		break;
	case A_REQUEST_REFERER:
		s = record_request_header(r, "referer");
		break;
	case A_REQUEST_SIZE:
		v->num = (long long)r->request_bytes;
		return;
	case A_REQUEST_TOTAL_SIZE:
		v->num = (long long)(r->request_bytes + r->request_head_bytes);
		return;
	case A_REQUEST_HEADER:
		s = record_request_header(r, n->str);
		break;
	case A_SOURCE_ADDRESS:
		s = record_addr_split(r->downstream_remote, &port);
		break;
	case A_SOURCE_PORT:
		record_addr_split(r->downstream_remote, &v->num);
		return;
	case A_DESTINATION_ADDRESS:
		s = record_addr_split(r->downstream_local, &port);
		break;
	case A_DESTINATION_PORT:
		record_addr_split(r->downstream_local, &v->num);
		return;
	case A_UPSTREAM_ADDRESS:
		s = record_addr_split(r->upstream_host, &port);
		break;
	case A_UPSTREAM_PORT:
		record_addr_split(r->upstream_host, &v->num);
		return;
	case A_CONNECTION_MTLS:
		v->num = r->security.p != NULL &&
		    util_str_eq(r->security, "mutual_tls");
		return;
	case A_CONNECTION_SNI:
		s = r->sni;
		break;
	}
	if (s.p == NULL)
		s = (struct str){ "", 0 };
	v->s = s;
}

int
logfilter_match(const struct logfilter *f, const struct record *r)
{
	struct lf_value	 v;

	if (f == NULL)
		return 1;
	lf_eval(f->root, r, &v);
	return v.num != 0;
}
