/* SPDX-License-Identifier: ISC */
/*
 * Outlier detection and connection-pool limits, as breaker-d decides
 * them: per cluster (service, subset, port) and per endpoint, the state
 * machine of Istio's outlierDetection (Envoy's consecutive 5xx and
 * gateway-error ejection, base ejection time times the ejections,
 * maxEjectionPercent, minHealthPercent as panic), fed with the outcome of
 * each try and asked for admission.  Plain functions over plain data with
 * a clock the caller sets: breaker-d, its filter mode and the unit tests
 * all drive the same code.  The wire form is meshkit-ipc(7) "admit",
 * "report", "breaker-event" and "breaker-state" (breaker_wire.c).
 */
#ifndef MESHKIT_BREAKER_H
#define MESHKIT_BREAKER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "msg.h"
#include "util.h"

#define BREAKER_SERVICE_MAX		256
#define BREAKER_SUBSET_MAX		64
#define BREAKER_ADDRESS_MAX		64
#define BREAKER_MAX_CLUSTERS		4096
#define BREAKER_MAX_ENDPOINTS		256	/* per cluster */
#define BREAKER_MAX_TOTAL_ENDPOINTS	65536

/* Istio's defaults for outlierDetection, and Envoy's cap. */
#define BREAKER_DEFAULT_5XX		5
#define BREAKER_DEFAULT_INTERVAL_MS	10000
#define BREAKER_DEFAULT_EJECTION_MS	30000
#define BREAKER_DEFAULT_MAX_EJECTION	10
#define BREAKER_MAX_EJECTION_MS		300000	/* Envoy max_ejection_time */

/* Which connectionPool fields are set, in breaker_limits.set. */
#define BREAKER_LIMIT_CONNECTIONS	0x01
#define BREAKER_LIMIT_PENDING		0x02
#define BREAKER_LIMIT_PER_CONNECTION	0x04
#define BREAKER_LIMIT_RETRIES		0x08
#define BREAKER_LIMIT_CONNECT_TIMEOUT	0x10
#define BREAKER_LIMIT_IDLE_TIMEOUT	0x20

/* connectionPool, for proxy-d to enforce. */
struct breaker_limits {
	unsigned	 set;
	uint32_t	 max_connections;
	uint32_t	 max_pending;
	uint32_t	 max_requests_per_connection;
	uint32_t	 max_retries;
	uint64_t	 connect_timeout_ms;
	uint64_t	 idle_timeout_ms;
};

/* outlierDetection with Istio's defaults filled in. */
struct breaker_outlier {
	int		 enabled;		/* outlierDetection applies */
	uint32_t	 consecutive_5xx;	/* 0: off */
	uint32_t	 consecutive_gateway;	/* 0: off */
	uint64_t	 interval_ms;
	uint64_t	 base_ejection_ms;
	uint32_t	 max_ejection_percent;
	uint32_t	 min_health_percent;
};

struct breaker_policy {
	struct breaker_limits	 limits;
	struct breaker_outlier	 outlier;
	char			 source[128];	/* "DestinationRule ns/name" */
};

enum breaker_result {
	BREAKER_RESULT_STATUS,		/* an HTTP status came back */
	BREAKER_RESULT_CONNECT_FAILURE,
	BREAKER_RESULT_RESET,
	BREAKER_RESULT_TIMEOUT,
};

enum breaker_state {
	BREAKER_HEALTHY,
	BREAKER_EJECTED,
	BREAKER_PROBATION,	/* back, until its first result */
};

struct breaker_cluster;

struct breaker_endpoint {
	char			 address[BREAKER_ADDRESS_MAX];
	enum breaker_state	 state;
	uint32_t		 consecutive_5xx;
	uint32_t		 consecutive_gateway;
	uint32_t		 ejections;	/* the multiplier; decays */
	uint64_t		 return_at;	/* ejected: when it returns */
	uint64_t		 decay_at;	/* next decay, 0: none */
	int			 seen;		/* in this reload's check */
};

struct breaker_cluster {
	char			 service[BREAKER_SERVICE_MAX];
	char			 subset[BREAKER_SUBSET_MAX];
	uint32_t		 port;
	char			 namespace[128];	/* of the last asker */
	struct breaker_policy	 policy;
	uint64_t		 policy_generation;
	struct breaker_endpoint	*endpoints;
	size_t			 nendpoints;
	size_t			 capendpoints;
	size_t			 nejected;
};

enum breaker_event_kind {
	BREAKER_EVENT_EJECT,
	BREAKER_EVENT_RETURN,
};

/* A state change, kept until the caller takes it. */
struct breaker_event {
	enum breaker_event_kind	 kind;
	char			 service[BREAKER_SERVICE_MAX];
	char			 subset[BREAKER_SUBSET_MAX];
	uint32_t		 port;
	char			 endpoint[BREAKER_ADDRESS_MAX];
	uint64_t		 ejection_ms;	/* eject */
	uint32_t		 ejections;
	uint64_t		 time_ms;	/* the breaker's clock */
	char			 reason[160];
};

/* Counters of a status-reply. */
struct breaker_stats {
	uint64_t	 start_ms;
	uint64_t	 messages;	/* requests and reports */
	uint64_t	 bad_messages;
	uint64_t	 admits;	/* admit records */
	uint64_t	 admit_errors;
	uint64_t	 panics;	/* admit answers in panic */
	uint64_t	 reports;	/* report messages */
	uint64_t	 results;	/* report records */
	uint64_t	 bad_results;
	uint64_t	 ejections;
	uint64_t	 returns;
	uint64_t	 overflows;	/* ejections refused: too many */
	uint64_t	 dropped;	/* not tracked: past the bounds */
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	char		 last_error[256];
};

struct breaker;

struct breaker	*breaker_new(void);
void		 breaker_free(struct breaker *);
struct breaker_stats *breaker_stats(struct breaker *);

/*
 * The clock, in milliseconds on any monotonic clock.  It never goes
 * back: an earlier time leaves it where it is.  Setting it does not act
 * on what falls due: breaker_tick does.
 */
void		 breaker_set_clock(struct breaker *, uint64_t now_ms);
uint64_t	 breaker_clock(const struct breaker *);
/*
 * Returns the endpoints whose ejection time is up (a return event each)
 * and decays the ejection counts of healthy ones, at the clock.
 */
void		 breaker_tick(struct breaker *);
/* When breaker_tick has work next; 0 for none. */
uint64_t	 breaker_next_due(const struct breaker *);
/*
 * Run the clock forward to now_ms, acting on everything due on the way
 * at its own time (filter mode: returns happen as the trace passes them).
 */
void		 breaker_advance(struct breaker *, uint64_t now_ms);

/*
 * A new config (NULL: none) and its generation.  Policies are worked out
 * again; an endpoint the config no longer gives its cluster is forgotten,
 * and one it still gives keeps its state.  cfg must outlive its use.
 */
void		 breaker_set_config(struct breaker *, const struct config *,
		    uint64_t generation);
uint64_t	 breaker_generation(const struct breaker *);

/*
 * The policy for (service, subset, port): the subset's connectionPool and
 * outlierDetection where its trafficPolicy sets them, else the
 * DestinationRule's portLevelSettings for port, else the rule's own.
 */
void		 breaker_policy_find(const struct config *, const char *ns,
		    const char *service, const char *subset, uint32_t port,
		    struct breaker_policy *);

/*
 * The cluster for (service, subset (NULL or ""), port), made when create
 * is set; NULL past BREAKER_MAX_CLUSTERS or when absent.
 */
struct breaker_cluster *breaker_cluster(struct breaker *, const char *ns,
		    const char *service, const char *subset, uint32_t port,
		    int create);
/* The cluster's endpoint, learned when create is set; NULL past bounds. */
struct breaker_endpoint *breaker_endpoint(struct breaker *,
		    struct breaker_cluster *, const char *address, int create);
/* One try's outcome; status is the HTTP status for RESULT_STATUS. */
void		 breaker_report(struct breaker *, struct breaker_cluster *,
		    struct breaker_endpoint *, enum breaker_result,
		    uint32_t status);
/* Below minHealthPercent: ejections are ignored. */
int		 breaker_panic(const struct breaker_cluster *);
/* Milliseconds until an ejected endpoint returns; 0 otherwise. */
uint64_t	 breaker_ms_left(const struct breaker *,
		    const struct breaker_endpoint *);

/* The events since the last breaker_events_clear, oldest first. */
size_t		 breaker_events(const struct breaker *,
		    const struct breaker_event **);
void		 breaker_events_clear(struct breaker *);

/* Every cluster, for breaker-state. */
size_t		 breaker_nclusters(const struct breaker *);
struct breaker_cluster *breaker_cluster_at(struct breaker *, size_t);

const char	*breaker_state_name(enum breaker_state);

/*
 * Wire form (meshkit-ipc(7)), breaker_wire.c.
 *
 * A request (admit, breaker-state, status) in, its reply out: what
 * breaker-d does with each message of its REP socket.  reuse_ms is the
 * admit answers' reuse time.  out is reset first.
 */
void		 breaker_handle_request(struct breaker *, uint64_t reuse_ms,
		    const char *buf, size_t len, struct msg_writer *out);
/*
 * A report message: its results applied, the clock left alone unless
 * use_time is set (filter mode: each record's time-ms advances it).
 * Returns 0, or -1 with the reason in err when the message or a record
 * was bad (the good records of it still count).
 */
int		 breaker_handle_report(struct breaker *, int use_time,
		    const char *buf, size_t len, char *err, size_t errlen);
/*
 * Filter mode: one message of a trace (report or admit, the clock set by
 * their time-ms); the events it caused and, for an admit, its reply
 * written to out in order (another type: an error message).  out is
 * reset first.  Returns 0, or -1 with the reason in err for a bad message
 * or record.
 */
int		 breaker_filter_message(struct breaker *, uint64_t reuse_ms,
		    const char *buf, size_t len, struct msg_writer *out,
		    char *err, size_t errlen);
/* One breaker-event message per event. */
void		 breaker_event_write(struct msg_writer *,
		    const struct breaker_event *);
/* "connect-failure" etc. or a status 100..599; 0, or -1 if neither. */
int		 breaker_result_read(struct str, enum breaker_result *,
		    uint32_t *status);

/*
 * The asking side (proxy-d), in breaker_wire.c too: an admit-reply
 * record read, report records and events read and written.
 */
struct breaker_answer {
	uint64_t		 id;
	int			 has_id;
	int			 error;		/* status: error */
	char			 ejected[BREAKER_MAX_ENDPOINTS]
				    [BREAKER_ADDRESS_MAX];
	uint64_t		 ejected_ms[BREAKER_MAX_ENDPOINTS];
	size_t			 nejected;
	int			 panic;
	int			 outlier;
	struct breaker_limits	 limits;
	uint64_t		 reuse_ms;
	char			 reason[256];
};

/*
 * One record of an admit-reply.  Unknown fields and unknown limits keys
 * are skipped; a bad value makes the answer unreadable (-1, err).
 */
int		 breaker_answer_read(const struct msg *,
		    const struct msg_block *, struct breaker_answer *,
		    char *err, size_t errlen);
/* One report record (after msgw_begin(w, "report") and its header). */
void		 breaker_result_write(struct msg_writer *, const char *service,
		    const char *subset, uint32_t port, const char *endpoint,
		    enum breaker_result, uint32_t status, uint64_t time_ms);
/* A breaker-event message's record; 0, or -1 with err. */
int		 breaker_event_read(const struct msg *, struct breaker_event *,
		    char *err, size_t errlen);

#endif
