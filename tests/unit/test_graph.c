/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/graph.c: the live service graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "graph.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "util.h"

static struct str s(const char *);
static void	book_to_rating(struct record *, const char *, uint32_t);
static void	client_to_book(struct record *);
static const struct graph_snapshot_edge *edge(const struct graph_snapshot *,
		    const char *, const char *);
static const struct graph_snapshot_node *node(const struct graph_snapshot *,
		    const char *);
static void	test_edges(void **);
static void	test_window(void **);
static void	test_bounds(void **);
static void	test_msg(void **);
static void	test_dot_and_table(void **);
static void	test_history_json(void **);

#define NOW	1000000500ULL		/* ms, any clock; mid-second */

static struct str
s(const char *p)
{
	return p == NULL ? (struct str){ NULL, 0 } : (struct str){ p,
	    strlen(p) };
}

static void
book_to_rating(struct record *r, const char *version, uint32_t code)
{
	static char	 wl[32];

	memset(r, 0, sizeof(*r));
	r->reporter = RECORD_SOURCE;
	r->duration_us = 2000;
	r->code = code;
	r->service = s("rating.default.svc.cluster.local");
	r->source.workload = s("book-v1");
	r->source.namespace = s("default");
	r->source.app = s("book");
	r->source.version = s("v1");
	snprintf(wl, sizeof(wl), "rating-%s", version);
	r->destination.workload = s(wl);
	r->destination.namespace = s("default");
	r->destination.app = s("rating");
	r->destination.version = s(version);
	r->security = s("mutual_tls");
}

static void
client_to_book(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->reporter = RECORD_DESTINATION;
	r->duration_us = 20000;
	r->code = 200;
	r->service = s("book.default.svc.cluster.local");
	r->destination.workload = s("book-v1");
	r->destination.namespace = s("default");
	r->destination.app = s("book");
	r->destination.version = s("v1");
}

static const struct graph_snapshot_edge *
edge(const struct graph_snapshot *snap, const char *from, const char *to)
{
	size_t	 i;

	for (i = 0; i < snap->nedges; i++)
		if (strcmp(snap->edges[i].from, from) == 0 &&
		    strcmp(snap->edges[i].to, to) == 0)
			return &snap->edges[i];
	fail_msg("no edge %s -> %s", from, to);
	return NULL;
}

static const struct graph_snapshot_node *
node(const struct graph_snapshot *snap, const char *id)
{
	size_t	 i;

	for (i = 0; i < snap->nnodes; i++)
		if (strcmp(snap->nodes[i].id, id) == 0)
			return &snap->nodes[i];
	fail_msg("no node %s", id);
	return NULL;
}

static void
test_edges(void **state)
{
	struct graph			*g = graph_new(0);
	struct graph_snapshot		 snap;
	const struct graph_snapshot_edge *e;
	struct record			 r;
	int				 i;

	for (i = 0; i < 30; i++) {
		client_to_book(&r);
		graph_add(g, &r, NOW - 5000 + (uint64_t)i * 100);
		book_to_rating(&r, i % 4 == 0 ? "v2" : "v1",
		    i % 4 == 0 ? 503 : 200);
		graph_add(g, &r, NOW - 5000 + (uint64_t)i * 100);
		/* the same call reported by rating's proxy: not again */
		r.reporter = RECORD_DESTINATION;
		graph_add(g, &r, NOW - 5000 + (uint64_t)i * 100);
	}
	graph_snapshot_take(g, NOW, 10000, 0, &snap);
	assert_int_equal(snap.nnodes, 6);
	assert_string_equal(node(&snap, "unknown")->kind, "unknown");
	assert_string_equal(node(&snap, "default/book-v1")->app, "book");
	assert_string_equal(node(&snap, "default/rating-v2")->version, "v2");
	assert_string_equal(node(&snap, "rating.default.svc.cluster.local")->
	    kind, "service");
	assert_string_equal(node(&snap, "rating.default.svc.cluster.local")->
	    name, "rating");
	assert_int_equal(snap.nedges, 5);
	e = edge(&snap, "unknown", "book.default.svc.cluster.local");
	assert_int_equal(e->stats.requests, 30);
	assert_false(e->mtls);
	e = edge(&snap, "default/book-v1", "rating.default.svc.cluster.local");
	assert_int_equal(e->stats.requests, 30);
	assert_int_equal(e->stats.errors, 8);
	assert_true(fabs(e->stats.error_rate - 8.0 / 30) < 1e-9);
	assert_true(e->mtls);
	/* 30 requests in a 10 s window, its last second half gone */
	assert_true(fabs(e->stats.rate - 30 / 9.5) < 0.01);
	/* 2 ms each: p99 inside (1, 5] */
	assert_true(e->stats.p99 > 1 && e->stats.p99 <= 5);
	e = edge(&snap, "rating.default.svc.cluster.local", "default/rating-v2");
	assert_int_equal(e->stats.requests, 8);
	assert_int_equal(e->stats.errors, 8);
	e = edge(&snap, "rating.default.svc.cluster.local", "default/rating-v1");
	assert_int_equal(e->stats.errors, 0);
	assert_true(e->stats.error_rate == 0);
	/* a service's numbers are those of the edges into it */
	assert_int_equal(snap.nservices, 2);
	graph_snapshot_fini(&snap);
	graph_free(g);
}

static void
test_window(void **state)
{
	struct graph			*g = graph_new(0);
	struct graph_snapshot		 snap;
	const struct graph_snapshot_edge *e;
	struct record			 r;

	book_to_rating(&r, "v1", 200);
	graph_add(g, &r, NOW - 30000);		/* 30 s ago */
	graph_add(g, &r, NOW - 2000);
	graph_add(g, &r, NOW);
	graph_snapshot_take(g, NOW, 10000, 0, &snap);
	e = edge(&snap, "default/book-v1", "rating.default.svc.cluster.local");
	assert_int_equal(e->stats.requests, 2);
	assert_int_equal(e->total, 3);
	graph_snapshot_fini(&snap);
	graph_snapshot_take(g, NOW, 60000, 0, &snap);
	e = edge(&snap, "default/book-v1", "rating.default.svc.cluster.local");
	assert_int_equal(e->stats.requests, 3);
	graph_snapshot_fini(&snap);
	/* a minute later nothing is in the window, the edge remains */
	graph_snapshot_take(g, NOW + 70000, 10000, 0, &snap);
	e = edge(&snap, "default/book-v1", "rating.default.svc.cluster.local");
	assert_int_equal(e->stats.requests, 0);
	assert_true(isnan(e->stats.p99));
	graph_snapshot_fini(&snap);
	/* idle for an hour: gone, nodes too */
	graph_expire(g, NOW + GRAPH_IDLE_MS + 1000);
	graph_snapshot_take(g, NOW + GRAPH_IDLE_MS + 1000, 10000, 0, &snap);
	assert_int_equal(snap.nedges, 0);
	assert_int_equal(snap.nnodes, 0);
	graph_snapshot_fini(&snap);
	graph_free(g);
}

static void
test_bounds(void **state)
{
	struct graph		*g = graph_new(3);
	struct graph_snapshot	 snap;
	struct record		 r;
	char			 name[32];
	int			 i;

	for (i = 0; i < 10; i++) {
		client_to_book(&r);
		snprintf(name, sizeof(name), "svc-%d", i);
		r.service = s(name);
		graph_add(g, &r, NOW);
	}
	graph_snapshot_take(g, NOW, 10000, 0, &snap);
	/* two edges a record: 3 kept of 20 */
	assert_int_equal(snap.nedges, 3);
	assert_int_equal(g->dropped, 17);
	graph_snapshot_fini(&snap);
	/* no service, nothing to draw */
	memset(&r, 0, sizeof(r));
	graph_add(g, &r, NOW);
	assert_int_equal(g->dropped, 17);
	graph_free(g);
}

static void
test_msg(void **state)
{
	struct graph			*g = graph_new(0);
	struct graph_snapshot		 snap, back;
	struct msg_writer		 w;
	struct msg			 m;
	struct record			 r;
	char				 err[256];
	const char			*bad;
	const struct graph_snapshot_edge *e;

	book_to_rating(&r, "v2", 500);
	graph_add(g, &r, NOW);
	book_to_rating(&r, "v2", 200);
	graph_add(g, &r, NOW);
	graph_snapshot_take(g, NOW, 5000, 0, &snap);
	snap.generation = 7;
	msgw_init(&w);
	graph_snapshot_write_msg(&snap, &w);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(graph_snapshot_read_msg(&m, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.window_ms, 5000);
	assert_int_equal(back.generation, 7);
	assert_int_equal(back.nnodes, 3);
	assert_int_equal(back.nedges, 2);
	assert_int_equal(back.nservices, 1);
	e = edge(&back, "rating.default.svc.cluster.local",
	    "default/rating-v2");
	assert_int_equal(e->stats.requests, 2);
	assert_int_equal(e->stats.errors, 1);
	assert_true(fabs(e->stats.error_rate - 0.5) < 1e-9);
	assert_true(e->mtls);
	assert_true(fabs(back.services[0].stats.p99 -
	    snap.services[0].stats.p99) < 0.001);
	graph_snapshot_fini(&back);
	/* a bad edge is refused */
	bad = "meshkit/1 stats-graph-reply\n\nedge: a\nrequests: 1\n"
	    "errors: 0\nrate: 1\n";
	assert_int_equal(msg_parse(&m, bad, strlen(bad), err, sizeof(err)),
	    0);
	assert_int_equal(graph_snapshot_read_msg(&m, &back, err,
	    sizeof(err)), -1);
	msg_fini(&m);
	msgw_fini(&w);
	graph_snapshot_fini(&snap);
	graph_free(g);
}

static void
test_dot_and_table(void **state)
{
	struct graph		*g = graph_new(0);
	struct graph_snapshot	 snap;
	struct sbuf		 b;
	struct record		 r;

	book_to_rating(&r, "v1", 200);
	graph_add(g, &r, NOW);
	client_to_book(&r);
	r.destination.workload = s("we\"ird");
	graph_add(g, &r, NOW);
	graph_snapshot_take(g, NOW, 10000, 0, &snap);
	sbuf_init(&b, 0);
	graph_snapshot_write_dot(&snap, &b);
	assert_non_null(strstr(b.buf, "digraph mesh {"));
	assert_non_null(strstr(b.buf, "\"default/book-v1\" -> "
	    "\"rating.default.svc.cluster.local\" [label=\"mTLS "));
	assert_non_null(strstr(b.buf, "\"default/rating-v1\" [shape=box, "
	    "label=\"rating-v1\\nv1\"]"));
	assert_non_null(strstr(b.buf, "\"default/we\\\"ird\""));
	sbuf_reset(&b);
	graph_snapshot_write_table(&snap, &b);
	assert_non_null(strstr(b.buf, "SERVICE"));
	assert_non_null(strstr(b.buf, "rating.default.svc.cluster.local"));
	assert_non_null(strstr(b.buf, "100.00%"));
	sbuf_fini(&b);
	graph_snapshot_fini(&snap);
	graph_free(g);
}

static void
test_history_json(void **state)
{
	struct graph		*g = graph_new(0);
	struct graph_snapshot	 snap;
	struct sbuf		 b;
	struct record		 r;
	int			 i;

	book_to_rating(&r, "v1", 200);
	for (i = 0; i < 5; i++)
		graph_add(g, &r, NOW - 3000);	/* 3 s ago: 5 requests */
	graph_snapshot_take(g, NOW, 10000, 10, &snap);
	assert_int_equal(snap.services[0].nhistory, 10);
	/* oldest first: the last entry is the second before now */
	assert_true(snap.services[0].rate[7] == 5);
	assert_true(snap.services[0].rate[9] == 0);
	assert_true(isnan(snap.services[0].p99[9]));
	sbuf_init(&b, 0);
	graph_snapshot_write_json(&snap, &b);
	assert_non_null(strstr(b.buf, "\"history\":{\"rate\":[0.000,"));
	assert_non_null(strstr(b.buf, "\"errorRate\":[null,"));
	sbuf_fini(&b);
	graph_snapshot_fini(&snap);
	graph_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_msg),
		cmocka_unit_test(test_dot_and_table),
		cmocka_unit_test(test_history_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
