/* SPDX-License-Identifier: ISC */
/*
 * YAML into position-keeping trees, with libyaml's event API.  libyaml
 * itself has no limits, so every bound of yaml.h is enforced here, as the
 * events arrive, before anything grows.  Each node is attached to its
 * parent (or its document) the moment it is made, so that freeing the
 * documents frees everything on every error path; the one exception is a
 * map key waiting for its value, which its stack frame owns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * libyaml's header is also called yaml.h, and -Ilib makes <yaml.h> find
 * ours.  Every include directory is named "include", so going up and
 * back down into it skips lib/ and reaches libyaml's wherever it lives.
 */
#include <../include/yaml.h>

#include "util.h"
#include "yaml.h"

struct yaml_frame {
	struct ynode	*node;
	struct ynode	*key;		/* map: key waiting for its value */
};

struct yaml_builder {
	const char		*file;
	const char		*buf;
	size_t			 len;
	struct cfg_errors	*errs;
	struct ydoc		*docs;
	size_t			 ndocs;
	struct yaml_frame	 stack[YAML_MAX_DEPTH];
	size_t			 depth;
	size_t			 nnodes;
};

static void	 ynode_free(struct ynode *);
static void	 yaml_grow(struct ynode *);
static struct ynode *yaml_node_new(struct yaml_builder *, enum ynode_type,
		    const yaml_mark_t *);
static int	 yaml_attach(struct yaml_builder *, struct ynode *);
static int	 yaml_key_cmp(const void *, const void *);
static int	 yaml_check_keys(struct yaml_builder *, const struct ynode *);
static int	 yaml_event(struct yaml_builder *, const yaml_event_t *);
static void	 yaml_parser_error(struct yaml_builder *,
		    const yaml_parser_t *);
static void	 yaml_offset_position(const char *, size_t, size_t, int *,
		    int *);

void
cfg_errors_add(struct cfg_errors *errs, const char *file, int line, int col,
    int severity, const char *fmt, ...)
{
	struct cfg_error	*e;
	va_list			 ap;

	errs->v = xreallocarray(errs->v, errs->n + 1, sizeof(*errs->v));
	e = &errs->v[errs->n++];
	e->file = xstrdup(file != NULL ? file : "-");
	e->line = line;
	e->col = col;
	e->notice = severity != CFG_ERROR;
	e->warning = severity == CFG_WARNING;
	e->kind = NULL;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
		e->message = xstrdup("(out of memory formatting an error)");
	va_end(ap);
	if (!e->notice)
		errs->nerrors++;
	if (e->warning)
		errs->nwarnings++;
}

char *
cfg_error_line(const struct cfg_error *e)
{
	const char	*tag;
	char		*line;

	tag = e->warning ? "warning: " : e->notice ? "notice: " : "";
	/* line 0: the error is about the file as a whole */
	if (e->line > 0)
		xasprintf(&line, "%s:%d:%d: %s%s", e->file, e->line, e->col,
		    tag, e->message);
	else
		xasprintf(&line, "%s: %s%s", e->file, tag, e->message);
	return line;
}

void
cfg_errors_print(const struct cfg_errors *errs, int with_notices,
    void (*out)(const char *, void *), void *arg)
{
	char	*line;
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		if (errs->v[i].notice && !with_notices)
			continue;
		line = cfg_error_line(&errs->v[i]);
		out(line, arg);
		free(line);
	}
}

void
cfg_errors_print_warnings(const struct cfg_errors *errs,
    const char *const *kinds, size_t nkinds,
    void (*out)(const char *, void *), void *arg)
{
	const struct cfg_error	*e;
	char			*line;
	size_t			 i, k;

	for (i = 0; i < errs->n; i++) {
		e = &errs->v[i];
		if (!e->warning)
			continue;
		if (kinds != NULL) {
			for (k = 0; k < nkinds; k++)
				if (e->kind != NULL &&
				    strcmp(e->kind, kinds[k]) == 0)
					break;
			if (k == nkinds)
				continue;
		}
		line = cfg_error_line(e);
		out(line, arg);
		free(line);
	}
}

void
cfg_errors_strict(struct cfg_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		if (!errs->v[i].warning)
			continue;
		errs->v[i].warning = 0;
		errs->v[i].notice = 0;
		errs->nerrors++;
	}
	errs->nwarnings = 0;
}

void
cfg_errors_fini(struct cfg_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].message);
		free(errs->v[i].kind);
	}
	free(errs->v);
	memset(errs, 0, sizeof(errs[0]));
}

static void
ynode_free(struct ynode *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			ynode_free(n->keys[i]);
		ynode_free(n->values[i]);
	}
	free(n->keys);
	free(n->values);
	free(n->value);
	free(n);
}

void
yaml_docs_free(struct ydoc *docs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		ynode_free(docs[i].root);
	free(docs);
}

struct ynode *
yaml_get(const struct ynode *map, const char *key)
{
	size_t	 i, klen;

	if (map == NULL || map->type != YNODE_MAP)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < map->n; i++)
		if (map->keys[i]->len == klen &&
		    memcmp(map->keys[i]->value, key, klen) == 0)
			return map->values[i];
	return NULL;
}

/*
 * ynode has no capacity field: arrays double whenever n reaches a power
 * of two, which gives the same amortized cost.
 */
static void
yaml_grow(struct ynode *n)
{
	size_t	 cap;

	if (n->n == 0)
		cap = 4;
	else if (n->n >= 4 && (n->n & (n->n - 1)) == 0)
		cap = n->n * 2;
	else
		return;
	n->values = xreallocarray(n->values, cap, sizeof(*n->values));
	if (n->type == YNODE_MAP)
		n->keys = xreallocarray(n->keys, cap, sizeof(*n->keys));
}

static struct ynode *
yaml_node_new(struct yaml_builder *b, enum ynode_type type,
    const yaml_mark_t *mark)
{
	struct ynode	*n;

	if (b->nnodes >= YAML_MAX_NODES) {
		cfg_errors_add(b->errs, b->file, (int)mark->line + 1,
		    (int)mark->column + 1, 0,
		    "more than %d YAML nodes", YAML_MAX_NODES);
		return NULL;
	}
	b->nnodes++;
	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	return n;
}

/* Hands n to its parent, or to the document as its root. */
static int
yaml_attach(struct yaml_builder *b, struct ynode *n)
{
	struct yaml_frame	*f;
	struct ynode		*p;

	if (b->depth == 0) {
		b->docs[b->ndocs - 1].root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	p = f->node;
	if (p->type == YNODE_SEQ) {
		yaml_grow(p);
		p->values[p->n++] = n;
		return 0;
	}
	if (f->key == NULL) {
		if (n->type != YNODE_SCALAR) {
			cfg_errors_add(b->errs, b->file, n->line, n->col, 0,
			    "map keys must be scalars, not a %s",
			    n->type == YNODE_MAP ? "map" : "list");
			ynode_free(n);
			return -1;
		}
		f->key = n;
		return 0;
	}
	yaml_grow(p);
	p->keys[p->n] = f->key;
	p->values[p->n] = n;
	p->n++;
	f->key = NULL;
	return 0;
}

static int
yaml_key_cmp(const void *a, const void *b)
{
	const struct ynode	*x = *(struct ynode *const *)a;
	const struct ynode	*y = *(struct ynode *const *)b;
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c;

	if ((c = memcmp(x->value, y->value, n)) != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/*
 * Duplicate keys are checked when the map closes: sorting keeps a huge
 * flat map O(n log n) where a check per insertion would be quadratic.
 */
static int
yaml_check_keys(struct yaml_builder *b, const struct ynode *map)
{
	struct ynode	**sorted, *dup = NULL, *first = NULL;
	size_t		  i;
	char		  q[80];

	if (map->n < 2)
		return 0;
	sorted = xreallocarray(NULL, map->n, sizeof(*sorted));
	memcpy(sorted, map->keys, map->n * sizeof(*sorted));
	/* equal keys end up adjacent, in the order they appear */
	qsort(sorted, map->n, sizeof(*sorted), yaml_key_cmp);
	for (i = 1; i < map->n; i++) {
		if (sorted[i]->len != sorted[i - 1]->len ||
		    memcmp(sorted[i]->value, sorted[i - 1]->value,
		    sorted[i]->len) != 0)
			continue;
		if (i >= 2 && sorted[i - 2]->len == sorted[i]->len &&
		    memcmp(sorted[i - 2]->value, sorted[i]->value,
		    sorted[i]->len) == 0)
			continue;	/* a third copy: report the second */
		/* report the repeat that comes first in the file */
		if (dup == NULL || sorted[i]->line < dup->line ||
		    (sorted[i]->line == dup->line &&
		    sorted[i]->col < dup->col)) {
			dup = sorted[i];
			first = sorted[i - 1];
		}
	}
	if (dup != NULL) {
		yaml_quote(q, sizeof(q), dup->value, dup->len);
		cfg_errors_add(b->errs, b->file, dup->line, dup->col, 0,
		    "duplicate key %s (first at line %d column %d)", q,
		    first->line, first->col);
	}
	free(sorted);
	return dup != NULL ? -1 : 0;
}

static int
yaml_event(struct yaml_builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t	*m = &ev->start_mark;
	const unsigned char	*anchor = NULL;
	struct ynode		*n;
	enum ynode_type		 type;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		b->docs = xreallocarray(b->docs, b->ndocs + 1,
		    sizeof(*b->docs));
		b->docs[b->ndocs].root = NULL;
		b->docs[b->ndocs].line = (int)m->line + 1;
		b->ndocs++;
		return 0;
	case YAML_ALIAS_EVENT:
		cfg_errors_add(b->errs, b->file, (int)m->line + 1,
		    (int)m->column + 1, 0,
		    "anchors and aliases are not allowed");
		return -1;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		type = YNODE_SCALAR;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		type = YNODE_SEQ;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		type = YNODE_MAP;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth == 0)
			return 0;	/* libyaml guarantees balance */
		b->depth--;
		if (ev->type == YAML_MAPPING_END_EVENT)
			return yaml_check_keys(b, b->stack[b->depth].node);
		return 0;
	default:
		return 0;
	}
	if (anchor != NULL) {
		cfg_errors_add(b->errs, b->file, (int)m->line + 1,
		    (int)m->column + 1, 0,
		    "anchors and aliases are not allowed");
		return -1;
	}
	if (type != YNODE_SCALAR && b->depth >= YAML_MAX_DEPTH) {
		cfg_errors_add(b->errs, b->file, (int)m->line + 1,
		    (int)m->column + 1, 0,
		    "nesting deeper than %d levels", YAML_MAX_DEPTH);
		return -1;
	}
	if ((n = yaml_node_new(b, type, m)) == NULL)
		return -1;
	if (type == YNODE_SCALAR) {
		n->len = ev->data.scalar.length;
		n->value = xstrndup((const char *)ev->data.scalar.value,
		    n->len);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	}
	if (yaml_attach(b, n) == -1)
		return -1;
	if (type != YNODE_SCALAR) {
		b->stack[b->depth].node = n;
		b->stack[b->depth].key = NULL;
		b->depth++;
	}
	return 0;
}

/* libyaml's reader errors carry a byte offset instead of a mark. */
static void
yaml_offset_position(const char *buf, size_t len, size_t off, int *line,
    int *col)
{
	size_t	 i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static void
yaml_parser_error(struct yaml_builder *b, const yaml_parser_t *p)
{
	const char	*problem = p->problem != NULL ? p->problem :
			    "syntax error";
	int		 line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		cfg_errors_add(b->errs, b->file, 0, 0, 0,
		    "out of memory parsing YAML");
		return;
	case YAML_READER_ERROR:
		yaml_offset_position(b->buf, b->len, p->problem_offset,
		    &line, &col);
		if (p->problem_value != -1)
			cfg_errors_add(b->errs, b->file, line, col, 0,
			    "%s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xff);
		else
			cfg_errors_add(b->errs, b->file, line, col, 0, "%s",
			    problem);
		return;
	default:
		break;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	/* libyaml's words for a tab do not say "tab" */
	if (p->problem_mark.index < b->len &&
	    b->buf[p->problem_mark.index] == '\t')
		cfg_errors_add(b->errs, b->file, line, col, 0,
		    "tab character: YAML indents with spaces only (%s)",
		    problem);
	else if (p->context != NULL)
		cfg_errors_add(b->errs, b->file, line, col, 0,
		    "%s %s (line %d column %d)", problem, p->context,
		    (int)p->context_mark.line + 1,
		    (int)p->context_mark.column + 1);
	else
		cfg_errors_add(b->errs, b->file, line, col, 0, "%s", problem);
}

void
yaml_quote(char *out, size_t outlen, const char *s, size_t len)
{
	size_t	 o = 0, i;

	out[o++] = '"';
	for (i = 0; i < len && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    c);
		else
			out[o++] = (char)c;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

int
yaml_parse(const char *file, const char *buf, size_t len,
    struct ydoc **docs, size_t *ndocs, struct cfg_errors *errs)
{
	struct yaml_builder	 b;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	int			 rc = 0, done = 0;
	size_t			 i;

	*docs = NULL;
	*ndocs = 0;
	if (len > YAML_MAX_BYTES) {
		cfg_errors_add(errs, file, 1, 1, 0,
		    "file is larger than %d bytes", YAML_MAX_BYTES);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	b.file = file;
	b.buf = buf;
	b.len = len;
	b.errs = errs;
	if (!yaml_parser_initialize(&parser)) {
		cfg_errors_add(errs, file, 0, 0, 0,
		    "out of memory parsing YAML");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			yaml_parser_error(&b, &parser);
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = yaml_event(&b, &ev);
		yaml_event_delete(&ev);
		if (rc == -1)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc == -1) {
		for (i = 0; i < b.depth; i++)
			ynode_free(b.stack[i].key);
		yaml_docs_free(b.docs, b.ndocs);
		return -1;
	}
	*docs = b.docs;
	*ndocs = b.ndocs;
	return 0;
}
