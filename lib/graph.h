/* SPDX-License-Identifier: ISC */
/*
 * The live service graph, as Kiali draws its versioned app graph:
 * workloads and services as nodes, requests as edges (caller workload ->
 * service -> called workload), each edge with its rate, error rate and
 * latency over a recent window.  stats-d keeps it from records; a
 * snapshot of it travels as meshkit-ipc(7) stats-graph-reply and becomes
 * the page's JSON, meshctl graph's DOT and meshctl top's table.
 * Not thread-safe: the caller holds its lock.
 */
#ifndef MESHKIT_GRAPH_H
#define MESHKIT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "strmap.h"

#define GRAPH_SLOTS		60	/* seconds of history */
#define GRAPH_DEFAULT_WINDOW_MS	10000
#define GRAPH_MIN_WINDOW_MS	1000
#define GRAPH_MAX_WINDOW_MS	(GRAPH_SLOTS * 1000)
#define GRAPH_DEFAULT_MAX_EDGES	256
#define GRAPH_IDLE_MS		3600000	/* an edge idle this long goes */

/* One second of one edge. */
struct graph_slot {
	uint64_t	 second;
	uint32_t	 requests;
	uint32_t	 errors;
	uint32_t	 mtls;
	uint32_t	 buckets[METRICS_NBUCKETS + 1];
};

struct graph_node {
	char		*id;
	size_t		 idlen;
	char		*kind;		/* workload, service, unknown */
	char		*name;
	char		*namespace;
	char		*app;
	char		*version;
};

struct graph_edge {
	struct graph_node	*from;
	struct graph_node	*to;
	uint64_t		 total;
	uint64_t		 last_ms;
	struct graph_slot	 slots[GRAPH_SLOTS];
};

struct graph {
	struct strmap		 nodes;		/* id -> graph_node */
	struct strmap		 edges;		/* from \n to -> graph_edge */
	size_t			 max_edges;
	uint64_t		 dropped;	/* records past max_edges */
};

struct graph	*graph_new(size_t max_edges);
void		 graph_free(struct graph *);
void		 graph_set_max_edges(struct graph *, size_t);
/* One record at now_ms (stats-d's clock): the edges it makes. */
void		 graph_add(struct graph *, const struct record *,
		    uint64_t now_ms);
/* Forgets edges idle for GRAPH_IDLE_MS, and nodes left without one. */
void		 graph_expire(struct graph *, uint64_t now_ms);

/* What the window shows: one edge, one service. */
struct graph_stats {
	uint64_t	 requests;
	uint64_t	 errors;
	uint64_t	 mtls;
	double		 rate;		/* per second */
	double		 error_rate;	/* 0..1, NaN without requests */
	double		 p50, p90, p99;	/* ms, NaN without requests */
};

struct graph_snapshot_node {
	char		*id, *kind, *name, *namespace, *app, *version;
};

struct graph_snapshot_edge {
	char			*from, *to;
	struct graph_stats	 stats;
	int			 mtls;		/* every request in window */
	uint64_t		 total;
};

/* A service's panels: its window's numbers and a value per second. */
struct graph_snapshot_service {
	char			*name;		/* the service node's id */
	struct graph_stats	 stats;
	size_t			 nhistory;
	double			*rate;		/* oldest first */
	double			*error_rate;
	double			*p50, *p90, *p99;
};

struct graph_snapshot {
	uint64_t			 window_ms;
	uint64_t			 generation;
	struct graph_snapshot_node	*nodes;
	size_t				 nnodes;
	struct graph_snapshot_edge	*edges;
	size_t				 nedges;
	struct graph_snapshot_service	*services;
	size_t				 nservices;
};

/*
 * The graph over the window_ms before now_ms, with history seconds of
 * each service's panels (0: none).
 */
void	graph_snapshot_take(const struct graph *, uint64_t now_ms,
	    uint64_t window_ms, size_t history, struct graph_snapshot *);
void	graph_snapshot_fini(struct graph_snapshot *);
/* stats-graph-reply, and back (services computed from the edges). */
void	graph_snapshot_write_msg(const struct graph_snapshot *,
	    struct msg_writer *);
int	graph_snapshot_read_msg(const struct msg *, struct graph_snapshot *,
	    char *err, size_t errlen);
/* The page's JSON; meshctl graph's DOT; meshctl top's table. */
void	graph_snapshot_write_json(const struct graph_snapshot *,
	    struct sbuf *);
void	graph_snapshot_write_dot(const struct graph_snapshot *,
	    struct sbuf *);
void	graph_snapshot_write_table(const struct graph_snapshot *,
	    struct sbuf *);

#endif
