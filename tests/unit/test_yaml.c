/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/yaml.c: trees with positions, and hostile YAML refused
 * with a positioned error (and no leak: run under ASan/LSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "yaml.h"

struct parsed {
	struct cfg_errors	 errs;
	struct ydoc		*docs;
	size_t			 ndocs;
	int			 rc;
	char			*text;		/* every message, one a line */
};

static void	 collect(const char *, void *);
static void	 parse(struct parsed *, const char *, size_t);
static void	 parse_str(struct parsed *, const char *);
static void	 done(struct parsed *);
static void	 assert_refused(const char *, size_t, const char *);
static void	 assert_refused_str(const char *, const char *);
static void	 test_positions(void **);
static void	 test_multi_document(void **);
static void	 test_empty(void **);
static void	 test_scalars(void **);
static void	 test_tags(void **);
static void	 test_anchor(void **);
static void	 test_alias(void **);
static void	 test_billion_laughs(void **);
static void	 test_depth(void **);
static void	 test_nodes(void **);
static void	 test_size(void **);
static void	 test_duplicate_keys(void **);
static void	 test_big_map(void **);
static void	 test_complex_keys(void **);
static void	 test_tabs(void **);
static void	 test_syntax(void **);
static void	 test_utf8(void **);
static void	 test_errors_print(void **);

static void
collect(const char *line, void *arg)
{
	char	**text = arg;
	char	 *n;

	xasprintf(&n, "%s%s\n", *text != NULL ? *text : "", line);
	free(*text);
	*text = n;
}

static void
parse(struct parsed *p, const char *buf, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->rc = yaml_parse("t.yaml", buf, len, &p->docs, &p->ndocs, &p->errs);
	cfg_errors_print(&p->errs, 1, collect, &p->text);
	if (p->text == NULL)
		p->text = xstrdup("");
}

static void
parse_str(struct parsed *p, const char *s)
{
	parse(p, s, strlen(s));
}

static void
done(struct parsed *p)
{
	yaml_docs_free(p->docs, p->ndocs);
	cfg_errors_fini(&p->errs);
	free(p->text);
}

/* Refused, with exactly one error, and it is want. */
static void
assert_refused(const char *buf, size_t len, const char *want)
{
	struct parsed	 p;

	parse(&p, buf, len);
	if (p.rc != -1 || p.errs.nerrors != 1 || strstr(p.text, want) == NULL)
		fail_msg("want \"%s\", got rc %d and:\n%s", want, p.rc,
		    p.text);
	assert_null(p.docs);
	assert_int_equal(p.ndocs, 0);
	done(&p);
}

static void
assert_refused_str(const char *buf, const char *want)
{
	assert_refused(buf, strlen(buf), want);
}

static void
test_positions(void **state)
{
	struct parsed	 p;
	struct ynode	*root, *spec, *hosts, *port;

	(void)state;
	parse_str(&p,
	    "apiVersion: v1\n"
	    "spec:\n"
	    "  hosts:\n"
	    "  - a.example\n"
	    "  -   b.example\n"
	    "  port: {number: 80, name: \"http\"}\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ndocs, 1);
	root = p.docs[0].root;
	assert_int_equal(root->type, YNODE_MAP);
	assert_int_equal(root->line, 1);
	assert_int_equal(root->col, 1);
	assert_int_equal(root->n, 2);
	assert_int_equal(root->keys[0]->line, 1);
	assert_int_equal(root->values[0]->col, 13);
	spec = yaml_get(root, "spec");
	assert_non_null(spec);
	assert_int_equal(spec->line, 3);
	assert_int_equal(spec->col, 3);
	hosts = yaml_get(spec, "hosts");
	assert_int_equal(hosts->type, YNODE_SEQ);
	assert_int_equal(hosts->n, 2);
	assert_string_equal(hosts->values[1]->value, "b.example");
	assert_int_equal(hosts->values[1]->line, 5);
	assert_int_equal(hosts->values[1]->col, 7);
	port = yaml_get(spec, "port");
	assert_int_equal(port->type, YNODE_MAP);
	assert_int_equal(port->line, 6);
	assert_int_equal(port->col, 9);
	assert_string_equal(yaml_get(port, "number")->value, "80");
	assert_int_equal(yaml_get(port, "number")->col, 18);
	assert_true(yaml_get(port, "number")->plain);
	assert_false(yaml_get(port, "name")->plain);
	assert_null(yaml_get(port, "nope"));
	assert_null(yaml_get(hosts, "a.example"));
	assert_null(yaml_get(NULL, "x"));
	done(&p);
}

static void
test_multi_document(void **state)
{
	struct parsed	 p;

	(void)state;
	parse_str(&p, "a: 1\n---\nb: 2\n---\n# only a comment\n---\n- x\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ndocs, 4);
	assert_int_equal(p.docs[0].line, 1);
	assert_string_equal(yaml_get(p.docs[0].root, "a")->value, "1");
	assert_int_equal(p.docs[1].line, 2);
	assert_int_equal(p.docs[1].root->line, 3);
	/* a document with nothing in it is an empty scalar in libyaml */
	assert_int_equal(p.docs[2].root->type, YNODE_SCALAR);
	assert_int_equal(p.docs[2].root->len, 0);
	assert_int_equal(p.docs[3].root->type, YNODE_SEQ);
	done(&p);
}

static void
test_empty(void **state)
{
	struct parsed	 p;

	(void)state;
	parse(&p, "", 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ndocs, 0);
	done(&p);
	parse_str(&p, "# nothing\n\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ndocs, 0);
	done(&p);
	parse_str(&p, "---\n...\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.ndocs, 1);
	done(&p);
}

static void
test_scalars(void **state)
{
	struct parsed	 p;
	struct ynode	*r;

	(void)state;
	parse_str(&p, "a: \"x\\0y\"\nb: 'it''s'\nc: |\n  l1\n  l2\nd:\n");
	assert_int_equal(p.rc, 0);
	r = p.docs[0].root;
	assert_int_equal(yaml_get(r, "a")->len, 3);
	assert_memory_equal(yaml_get(r, "a")->value, "x\0y", 4);
	assert_string_equal(yaml_get(r, "b")->value, "it's");
	assert_string_equal(yaml_get(r, "c")->value, "l1\nl2\n");
	assert_false(yaml_get(r, "c")->plain);
	assert_int_equal(yaml_get(r, "d")->len, 0);
	assert_true(yaml_get(r, "d")->plain);
	done(&p);
}

static void
test_tags(void **state)
{
	struct parsed	 p;
	struct ynode	*r;

	(void)state;
	/* standard tags are ignored, custom ones are not resolved */
	parse_str(&p, "a: !!str 80\nb: !!map {c: 1}\nd: !custom x\n");
	assert_int_equal(p.rc, 0);
	r = p.docs[0].root;
	assert_string_equal(yaml_get(r, "a")->value, "80");
	assert_int_equal(yaml_get(r, "b")->type, YNODE_MAP);
	assert_string_equal(yaml_get(r, "d")->value, "x");
	done(&p);
}

static void
test_anchor(void **state)
{
	(void)state;
	assert_refused_str("a: 1\nb: &x 2\n",
	    "t.yaml:2:4: anchors and aliases are not allowed");
	assert_refused_str("a:\n  - &list [1]\n",
	    "t.yaml:2:5: anchors and aliases are not allowed");
	assert_refused_str("&top\nk: v\n",
	    "t.yaml:1:1: anchors and aliases are not allowed");
}

static void
test_alias(void **state)
{
	(void)state;
	/* an alias to nothing: refused before libyaml can complain */
	assert_refused_str("a: 1\nb:\n  c: *x\n",
	    "t.yaml:3:6: anchors and aliases are not allowed");
}

static void
test_billion_laughs(void **state)
{
	const char *doc =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";

	(void)state;
	assert_refused(doc, strlen(doc),
	    "t.yaml:1:4: anchors and aliases are not allowed");
}

static void
test_depth(void **state)
{
	struct parsed	 p;
	char		*buf;
	size_t		 i, o;

	(void)state;
	/* 1000 levels of flow lists */
	buf = xmalloc(2100);
	o = 0;
	for (i = 0; i < 1000; i++)
		buf[o++] = '[';
	for (i = 0; i < 1000; i++)
		buf[o++] = ']';
	buf[o++] = '\n';
	assert_refused(buf, o, "t.yaml:1:65: nesting deeper than 64 levels");
	/* exactly the limit is fine */
	o = 0;
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf[o++] = '[';
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf[o++] = ']';
	parse(&p, buf, o);
	assert_int_equal(p.rc, 0);
	done(&p);
	free(buf);

	/* 1000 levels of block maps */
	buf = xmalloc(1000 * 1000 + 4000);
	o = 0;
	for (i = 0; i < 1000; i++) {
		memset(buf + o, ' ', i);
		o += i;
		memcpy(buf + o, "k:\n", 3);
		o += 3;
	}
	memcpy(buf + o - 1, " 1\n", 3);
	o += 2;
	/* line 65 is the 65th map's key, indented 64 */
	assert_refused(buf, o, "t.yaml:65:65: nesting deeper than 64 levels");
	free(buf);
}

static void
test_nodes(void **state)
{
	char	*buf;
	size_t	 i, o = 0;

	(void)state;
	buf = xmalloc(2 * (YAML_MAX_NODES + 10) + 4);
	buf[o++] = '[';
	for (i = 0; i < YAML_MAX_NODES; i++) {
		buf[o++] = '0';
		buf[o++] = ',';
	}
	buf[o++] = '0';
	buf[o++] = ']';
	/* the list is one node, so the last "0" is number 200001 */
	assert_refused(buf, o, "more than 200000 YAML nodes");
	free(buf);
}

static void
test_size(void **state)
{
	char	*buf;
	size_t	 len = YAML_MAX_BYTES + 1;

	(void)state;
	buf = xmalloc(len);
	memset(buf, '#', len);
	assert_refused(buf, len, "t.yaml:1:1: file is larger than 4194304 bytes");
	free(buf);
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	assert_refused_str("a: 1\nb: 2\na: 3\n",
	    "t.yaml:3:1: duplicate key \"a\" (first at line 1 column 1)");
	assert_refused_str("m:\n  x: 1\n  y: 2\n  x: 3\n  x: 4\n",
	    "t.yaml:4:3: duplicate key \"x\" (first at line 2 column 3)");
	/* quoted and plain spellings are the same key */
	assert_refused_str("{\"k\": 1, k: 2}",
	    "t.yaml:1:10: duplicate key \"k\" (first at line 1 column 2)");
}

static void
test_big_map(void **state)
{
	struct parsed	 p;
	char		*buf;
	size_t		 i, o = 0, n = 60000;

	(void)state;
	/* sorted duplicate check: a big flat map is not quadratic */
	buf = xmalloc(n * 16 + 32);
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(buf + o, "k%zu: 1\n", i);
	parse(&p, buf, o);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.docs[0].root->n, n);
	assert_string_equal(yaml_get(p.docs[0].root, "k59999")->value, "1");
	done(&p);
	o += (size_t)sprintf(buf + o, "k17: 2\n");
	assert_refused(buf, o, "t.yaml:60001:1: duplicate key \"k17\" "
	    "(first at line 18 column 1)");
	free(buf);
}

static void
test_complex_keys(void **state)
{
	(void)state;
	assert_refused_str("? [a, b]\n: 1\n",
	    "t.yaml:1:3: map keys must be scalars, not a list");
	assert_refused_str("{{a: 1}: 2}",
	    "t.yaml:1:2: map keys must be scalars, not a map");
}

static void
test_tabs(void **state)
{
	(void)state;
	assert_refused_str("a:\n\tb: 1\n",
	    "t.yaml:2:1: tab character: YAML indents with spaces only");
}

static void
test_syntax(void **state)
{
	(void)state;
	assert_refused_str("a: [1, 2\nb: 3\n",
	    "t.yaml:2:2: did not find expected ',' or ']' while parsing a "
	    "flow sequence (line 1 column 4)");
	assert_refused_str("a:\n  b: 1\n c: 2\n",
	    "t.yaml:3:2: did not find expected key");
	assert_refused_str("a: \"open\n", "t.yaml:2:1: found unexpected end "
	    "of stream while scanning a quoted scalar (line 1 column 4)");
	assert_refused_str("- a\nb: c\n", "t.yaml:2:1: did not find expected "
	    "'-' indicator");
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_refused_str("a: 1\nb: x\xff\n",
	    "t.yaml:2:5: invalid leading UTF-8 octet (byte 0xff)");
	assert_refused_str("a: \x01\n", "t.yaml:1:4: control characters are "
	    "not allowed (byte 0x01)");
}

static void
test_errors_print(void **state)
{
	struct cfg_errors	 errs;
	char			*text = NULL;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	cfg_errors_add(&errs, "etc/mesh.yaml", 14, 7, 0,
	    "weight must be %s, got %d", "0..4294967295", -1);
	cfg_errors_add(&errs, "etc/mesh.yaml", 3, 7, 1, "skipping kind %s",
	    "Deployment");
	cfg_errors_add(&errs, "etc/x.yaml", 0, 0, 0, "cannot open");
	assert_int_equal(errs.n, 3);
	assert_int_equal(errs.nerrors, 2);
	cfg_errors_print(&errs, 1, collect, &text);
	assert_string_equal(text,
	    "etc/mesh.yaml:14:7: weight must be 0..4294967295, got -1\n"
	    "etc/mesh.yaml:3:7: notice: skipping kind Deployment\n"
	    "etc/x.yaml: cannot open\n");
	free(text);
	text = NULL;
	cfg_errors_print(&errs, 0, collect, &text);
	assert_null(strstr(text, "notice"));
	free(text);
	cfg_errors_fini(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_anchor),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_big_map),
		cmocka_unit_test(test_complex_keys),
		cmocka_unit_test(test_tabs),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_errors_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
