/* SPDX-License-Identifier: ISC */
/*
 * stats-d's work on records, without its I/O: each records message of
 * meshkit-ipc(7) counted into Istio's metrics and the service graph,
 * written as access log lines into per-log buffers, and turned into
 * spans queued per collector, all as the Telemetry of the reporting
 * workload says.  stats-d's threads hold one lock around these calls;
 * the filter mode and the tests call them directly.
 */
#ifndef MESHKIT_STATS_H
#define MESHKIT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "accesslog.h"
#include "config.h"
#include "graph.h"
#include "metrics.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "strmap.h"
#include "telemetry.h"
#include "trace.h"

#define STATS_MAX_SINKS		16
#define STATS_MAX_COLLECTORS	16
#define STATS_SINK_BUFFER	(1024 * 1024)	/* log bytes not yet written */
#define STATS_DEFAULT_MAX_SPANS	4096		/* queued for export */
#define STATS_MAX_PROXIES	1024
#define STATS_PROXY_IDLE_MS	600000		/* then it is retired */
/*
 * Heard from this recently: a proxy that runs (proxy-d sends its
 * counters every 2 s when it has no records to send).
 */
#define STATS_PROXY_LIVE_MS	10000
#define STATS_EVICT_WARN_MS	60000		/* between warnings */
#define STATS_CACHE_MAX		1024		/* workloads resolved */
#define STATS_PROGRAM		"stats-d"

/* An access log: where and how; its lines wait in pending. */
struct stats_sink {
	char			*key;
	char			*path;		/* file, /dev/stdout, syslog:.. */
	struct accesslog_format	*format;
	struct sbuf		 pending;
	uint64_t		 lines;
	uint64_t		 dropped;	/* pending was full */
	uint64_t		 errors;	/* written by the caller */
};

/* A collector: its spans wait in spans until the exporter takes them. */
struct stats_collector {
	char			*key;
	char			*provider;
	enum provider_kind	 kind;
	char			*host;
	uint32_t		 port;
	char			*path;
	uint64_t		 timeout_ms;
	struct labels		 headers;
	uint32_t		 max_tag_length; /* the provider's, 0: none */
	struct span		**spans;
	size_t			 nspans;
	uint64_t		 queued;
	uint64_t		 exported;
	uint64_t		 dropped;
	uint64_t		 failures;	/* exports that failed */
};

struct stats_counters {
	uint64_t	 messages;
	uint64_t	 bad_messages;
	uint64_t	 records;
	uint64_t	 bad_records;
	uint64_t	 log_lines;
	uint64_t	 log_filtered;	/* not logged: the filter said no */
	uint64_t	 spans;
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	uint64_t	 proxies_evicted;	/* past STATS_MAX_PROXIES */
	uint64_t	 scrapes_refused;	/* /metrics answered 500 */
};

struct stats {
	const struct config	*config;
	uint64_t		 generation;
	struct metrics		 metrics;
	struct graph		*graph;
	struct stats_sink	*sinks[STATS_MAX_SINKS];
	size_t			 nsinks;
	struct stats_collector	*collectors[STATS_MAX_COLLECTORS];
	size_t			 ncollectors;
	size_t			 max_spans;
	size_t			 queued_spans;
	struct strmap		 effective;	/* ns/workload -> resolved */
	struct strmap		 proxies;	/* ns/workload/pid -> proxy */
	struct strmap		 retired;	/* ns/workload -> counters */
	struct stats_counters	 c;
	struct msg		 msg;
	struct sbuf		 scratch;
	char			 last_error[256];
	char			 problem[256];	/* newest, for a warning */
	uint64_t		 evict_warned_ms;
	int			 new_problem;
	int			 fallback_log;
	int			 fallback_trace;
	/* records between sched_yield(2)s within one message; 0: never */
	unsigned		 yield_every;
};

struct stats	*stats_new(void);
void		 stats_free(struct stats *);
/*
 * The config in force (it must outlive its use): bounds, and what
 * applies to each workload, resolved again from now on.
 */
void		 stats_set_config(struct stats *, const struct config *,
		    uint64_t generation);
/*
 * One message from a proxy, at now_ms of a monotonic clock.  0, or -1
 * with last_error set (a message that breaks the form, or not records).
 */
int		 stats_handle(struct stats *, const char *, size_t,
		    uint64_t now_ms);
/*
 * stats-d's own metrics and Istio's, Prometheus' text format: the own
 * first, so that no amount of Istio's series can hide them.
 */
void		 stats_write_metrics(struct stats *, struct sbuf *);
/*
 * The own alone (meshkit_stats_*, the proxies' counters, istio_build):
 * the web thread writes Istio's series after them with a
 * metrics_cursor, a piece at a time.
 */
void		 stats_write_own(struct stats *, struct sbuf *);
/*
 * stats-d's counters, as the header of its status-reply; "proxies" are
 * those heard from in the STATS_PROXY_LIVE_MS before now_ms.
 */
void		 stats_write_status(const struct stats *, struct msg_writer *,
		    uint64_t now_ms);
/* The proxies' certificates, from their status files in rundir. */
void		 stats_cert_metrics(struct sbuf *, const char *rundir);
/*
 * A daemon's status-reply as metrics: each number of its header but pid
 * and generation, meshkit_<program>_<field>, a counter (_total) unless
 * its "gauges" field or the known gauges name it.
 */
void		 stats_daemon_metrics(struct sbuf *, const char *program,
		    const struct msg *);
/* Hands out a collector's queued spans (the caller frees them). */
struct span	**stats_take_spans(struct stats *, struct stats_collector *,
		    size_t *n);
/* Forgets idle proxies and graph edges. */
void		 stats_expire(struct stats *, uint64_t now_ms);
/*
 * A request to stats-d's REP socket: "status" (started_ms: when it
 * started) or "stats-graph"; anything else gets an "error".  out is
 * reset first.  Returns 0, or -1 when the request was refused (the
 * reason in last_error).
 */
int		 stats_handle_request(struct stats *, uint64_t started_ms,
		    const char *, size_t, uint64_t now_ms,
		    struct msg_writer *out);
/*
 * For the filter mode: what a workload gets when its Telemetry gives it
 * no access log (log 1: Envoy's default format, into a sink named
 * "-"), or no collector (trace: PROVIDER_ZIPKIN or
 * PROVIDER_OPENTELEMETRY, -1: none).
 */
void		 stats_set_fallback(struct stats *, int log, int trace);

#endif
