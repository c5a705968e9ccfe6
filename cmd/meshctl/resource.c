/* SPDX-License-Identifier: ISC */
/*
 * What apply, delete and get share: reading resource files (a path or
 * "-" for standard input), naming resources as kubectl does, the files
 * meshctl manages in a config directory, and writing a resource back out
 * as YAML.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "meshctl.h"
#include "util.h"
#include "yaml.h"

struct text {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void	 text_add(struct text *, const char *, size_t);
static void	 text_str(struct text *, const char *);
static void	 text_indent(struct text *, int);
static int	 emit_plain_ok(const struct ynode *);
static void	 emit_scalar(struct text *, const struct ynode *);
static void	 emit_value(struct text *, const struct ynode *, int);
static void	 emit_map(struct text *, const struct ynode *, int, int);
static void	 emit_seq(struct text *, const struct ynode *, int, int);
static char	*scalar_of(const struct ynode *, const char *);
static void	 resource_add(struct resource_set *, const char *,
		    const struct ynode *, struct cfg_errors *);

int
meshctl_read_input(const char *name, char **buf, size_t *len,
    struct cfg_errors *errs)
{
	char	*b = NULL;
	size_t	 n = 0, cap = 0;
	ssize_t	 r;
	int	 fd;

	if (strcmp(name, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
		cfg_errors_add(errs, name, 0, 0, 0, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - n < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			b = xreallocarray(b, cap, 1);
		}
		if ((r = read(fd, b + n, cap - n - 1)) == -1) {
			if (errno == EINTR)
				continue;
			cfg_errors_add(errs, name, 0, 0, 0, "cannot read: %s",
			    strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > YAML_MAX_BYTES) {
			cfg_errors_add(errs, name, 1, 1, 0, "file is larger "
			    "than %d bytes", YAML_MAX_BYTES);
			r = -1;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (r == -1) {
		free(b);
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static char *
scalar_of(const struct ynode *map, const char *key)
{
	const struct ynode	*v = map != NULL && map->type == YNODE_MAP ?
				    yaml_get(map, key) : NULL;

	if (v == NULL || v->type != YNODE_SCALAR || v->len == 0)
		return NULL;
	return xstrdup(v->value);
}

static void
resource_add(struct resource_set *set, const char *source,
    const struct ynode *root, struct cfg_errors *errs)
{
	struct meshctl_resource	*r;
	const struct ynode	*items, *meta;
	char			*kind;
	size_t			 i;

	if (root == NULL || (root->type == YNODE_SCALAR && root->plain &&
	    root->len == 0))
		return;
	kind = scalar_of(root, "kind");
	if (kind != NULL && strcmp(kind, "List") == 0) {
		free(kind);
		items = yaml_get(root, "items");
		if (items != NULL && items->type == YNODE_SEQ)
			for (i = 0; i < items->n; i++)
				resource_add(set, source, items->values[i],
				    errs);
		return;
	}
	meta = root->type == YNODE_MAP ? yaml_get(root, "metadata") : NULL;
	set->v = xreallocarray(set->v, set->n + 1, sizeof(*set->v));
	r = &set->v[set->n];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->api_version = scalar_of(root, "apiVersion");
	r->name = scalar_of(meta, "name");
	r->namespace = scalar_of(meta, "namespace");
	if (r->namespace == NULL)
		r->namespace = xstrdup(CONFIG_DEFAULT_NAMESPACE);
	r->source = source;
	r->line = root->line;
	r->col = root->col;
	r->root = root;
	if (r->kind == NULL || r->api_version == NULL || r->name == NULL ||
	    strchr(r->name, '/') != NULL || strchr(r->namespace, '/') !=
	    NULL || strchr(r->kind, '/') != NULL) {
		cfg_errors_add(errs, source, root->line, root->col, 0,
		    "a resource needs apiVersion, kind and metadata.name");
		meshctl_resource_fini(r);
		return;
	}
	set->n++;
}

int
meshctl_resources_read(struct resource_set *set, const char *name,
    struct cfg_errors *errs)
{
	struct resource_input	*in;
	size_t			 i, before = errs->nerrors;

	set->inputs = xreallocarray(set->inputs, set->ninputs + 1,
	    sizeof(*set->inputs));
	in = &set->inputs[set->ninputs];
	memset(in, 0, sizeof(*in));
	if (meshctl_read_input(name, &in->buf, &in->len, errs) == -1)
		return -1;
	in->name = xstrdup(strcmp(name, "-") == 0 ? "<stdin>" : name);
	set->ninputs++;
	if (yaml_parse(in->name, in->buf, in->len, &in->docs, &in->ndocs,
	    errs) == -1)
		return -1;
	for (i = 0; i < in->ndocs; i++)
		resource_add(set, in->name, in->docs[i].root, errs);
	return errs->nerrors > before ? -1 : 0;
}

void
meshctl_resource_fini(struct meshctl_resource *r)
{
	free(r->kind);
	free(r->api_version);
	free(r->name);
	free(r->namespace);
	free(r->text);
	free(r->file);
	free(r->path);
}

void
meshctl_resources_free(struct resource_set *set)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		meshctl_resource_fini(&set->v[i]);
	free(set->v);
	for (i = 0; i < set->ninputs; i++) {
		yaml_docs_free(set->inputs[i].docs, set->inputs[i].ndocs);
		free(set->inputs[i].buf);
		free(set->inputs[i].name);
	}
	free(set->inputs);
	memset(set, 0, sizeof(*set));
}

/* kubectl's name: virtualservice.networking.istio.io/rating */
void
meshctl_resource_title(char *buf, size_t len, const char *kind,
    const char *api_version, const char *name, int quoted)
{
	const char	*slash = strchr(api_version, '/');
	char		 k[128];
	size_t		 i;

	for (i = 0; kind[i] != '\0' && i < sizeof(k) - 1; i++)
		k[i] = (char)tolower((unsigned char)kind[i]);
	k[i] = '\0';
	snprintf(buf, len, quoted ? "%s%s%.*s \"%s\"" : "%s%s%.*s/%s", k,
	    slash != NULL ? "." : "",
	    slash != NULL ? (int)(slash - api_version) : 0, api_version, name);
}

/* serviceentry.default.rating.yaml */
char *
meshctl_managed_name(const char *kind, const char *namespace,
    const char *name)
{
	char	*s, *p;

	xasprintf(&s, "%s.%s.%s.yaml", kind, namespace, name);
	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/*
 * A file meshctl wrote: it starts with MESHCTL_MARK.  Anything else in
 * the directory is the operator's own, never edited nor removed.
 */
int
meshctl_is_managed(const char *path)
{
	char	 buf[sizeof(MESHCTL_MARK)];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)sizeof(buf) - 1 &&
	    memcmp(buf, MESHCTL_MARK, sizeof(buf) - 1) == 0;
}

/* The writer of YAML, in block style, for one resource's tree. */

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->cap - t->len < n + 1) {
		while (t->cap - t->len < n + 1)
			t->cap = t->cap == 0 ? 1024 : t->cap * 2;
		t->p = xreallocarray(t->p, t->cap, 1);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void
text_indent(struct text *t, int n)
{
	while (n-- > 0)
		text_add(t, " ", 1);
}

/*
 * A scalar that was plain stays plain (80 stays a number, true a
 * boolean) when it reads back the same in block context; anything else
 * is written double-quoted.
 */
static int
emit_plain_ok(const struct ynode *n)
{
	const char	*s = n->value;
	size_t		 i;

	if (!n->plain || n->len == 0 || strlen(s) != n->len)
		return 0;
	if (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[n->len - 1]))
		return 0;
	if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]) != NULL)
		return 0;
	if (s[0] == '-' && (n->len == 1 || s[1] == ' '))
		return 0;
	if (s[n->len - 1] == ':')
		return 0;
	for (i = 0; i < n->len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] == ':' && s[i + 1] == ' ')
			return 0;
		if (s[i] == ' ' && s[i + 1] == '#')
			return 0;
	}
	return 1;
}

static void
emit_scalar(struct text *t, const struct ynode *n)
{
	char	 esc[8];
	size_t	 i;

	if (emit_plain_ok(n)) {
		text_add(t, n->value, n->len);
		return;
	}
	text_add(t, "\"", 1);
	for (i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)n->value[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			text_add(t, esc, 2);
		} else if (c == '\n')
			text_str(t, "\\n");
		else if (c == '\t')
			text_str(t, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			text_str(t, esc);
		} else
			text_add(t, (const char *)&c, 1);
	}
	text_add(t, "\"", 1);
}

/* After "key:" or "-": the rest of the line and what follows. */
static void
emit_value(struct text *t, const struct ynode *v, int indent)
{
	if (v->type == YNODE_SCALAR) {
		if (v->plain && v->len == 0) {
			text_str(t, "\n");	/* null, as it was */
			return;
		}
		text_str(t, " ");
		emit_scalar(t, v);
		text_str(t, "\n");
	} else if (v->n == 0)
		text_str(t, v->type == YNODE_MAP ? " {}\n" : " []\n");
	else if (v->type == YNODE_MAP) {
		text_str(t, "\n");
		emit_map(t, v, indent + 2, 0);
	} else {
		text_str(t, "\n");
		emit_seq(t, v, indent + 2, 0);
	}
}

/* inline: the first line goes on the current line (after "- "). */
static void
emit_map(struct text *t, const struct ynode *m, int indent, int inline_first)
{
	size_t	 i;

	for (i = 0; i < m->n; i++) {
		if (i > 0 || !inline_first)
			text_indent(t, indent);
		if (m->keys[i]->type == YNODE_SCALAR)
			emit_scalar(t, m->keys[i]);
		else
			text_str(t, "\"\"");	/* the loader refuses those */
		text_str(t, ":");
		emit_value(t, m->values[i], indent);
	}
}

static void
emit_seq(struct text *t, const struct ynode *s, int indent, int inline_first)
{
	const struct ynode	*v;
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		v = s->values[i];
		if (i > 0 || !inline_first)
			text_indent(t, indent);
		text_str(t, "-");
		if (v->type != YNODE_SCALAR && v->n > 0) {
			text_str(t, " ");
			if (v->type == YNODE_MAP)
				emit_map(t, v, indent + 2, 1);
			else
				emit_seq(t, v, indent + 2, 1);
		} else
			emit_value(t, v, indent);
	}
}

char *
meshctl_resource_yaml(const struct meshctl_resource *r, size_t *len)
{
	struct text	 t;

	memset(&t, 0, sizeof(t));
	text_str(&t, MESHCTL_MARK);
	text_str(&t, " ");
	text_str(&t, r->kind);
	text_str(&t, " ");
	text_str(&t, r->namespace);
	text_str(&t, "/");
	text_str(&t, r->name);
	text_str(&t, "\n");
	if (r->root->type == YNODE_MAP)
		emit_map(&t, r->root, 0, 0);
	*len = t.len;
	return t.p;
}
