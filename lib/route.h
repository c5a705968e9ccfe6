/* SPDX-License-Identifier: ISC */
/*
 * Routing decisions: where a request goes, from ServiceEntry,
 * WorkloadEntry, Kubernetes Service, VirtualService and DestinationRule.  Plain
 * functions over plain data; route-d, its filter mode, meshctl and the
 * unit tests all call these.  The wire form is meshkit-ipc(7) "route".
 */
#ifndef MESHKIT_ROUTE_H
#define MESHKIT_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "msg.h"
#include "util.h"

/* every header proxy-d may forward, so that a cached answer keyed on one
   was decided on it */
#define ROUTE_MAX_HEADERS	HTTP_MAX_HEADERS_CEILING
#define ROUTE_MAX_ENDPOINTS	256

/* One question; strings point into the request message. */
struct route_query {
	uint64_t	 id;
	int		 inbound;
	struct str	 authority;
	uint32_t	 port;		/* 0: from authority, else 80 */
	struct str	 method;
	struct str	 path;
	struct str	 scheme;
	struct str	 source;
	struct str	 header_names[ROUTE_MAX_HEADERS];
	struct str	 header_values[ROUTE_MAX_HEADERS];
	size_t		 nheaders;
};

enum route_status {
	ROUTE_OK,
	ROUTE_NO_ROUTE,
	ROUTE_ERROR,
};

enum route_lb {
	ROUTE_LB_ROUND_ROBIN,
	ROUTE_LB_RANDOM,
	ROUTE_LB_LEAST_REQUEST,
	ROUTE_LB_ORDERED,
};

struct route_endpoint {
	char		 address[64];	/* "1.2.3.4:80" or "[::1]:80" */
	uint32_t	 weight;
	int		 mtls;		/* runs a meshkit proxy: auto mTLS */
};

/* The TLS of a destination (route_tls.c): a DestinationRule's, or auto. */
enum route_tls_mode {
	ROUTE_TLS_AUTO,		/* no rule says: mTLS to mtls endpoints */
	ROUTE_TLS_DISABLE,
	ROUTE_TLS_SIMPLE,
	ROUTE_TLS_MUTUAL,
	ROUTE_TLS_ISTIO_MUTUAL,
};

#define ROUTE_MAX_SANS		8

struct route_tls {
	enum route_tls_mode	 mode;
	char		 sni[256];
	char		 ca[256];
	char		 crl[256];
	char		 cert[256];
	char		 key[256];
	int		 insecure;
	char		 sans[ROUTE_MAX_SANS][256];
	size_t		 nsans;
	int		 rule_sans;	/* sans are the rule's, not known ids */
};

#define ROUTE_MAX_HEADER_OPS	16
/* What a reader of an answer takes at most: a day for a timeout or a
   delay, a thousand retries (Istio's validation caps neither) */
#define ROUTE_MAX_MS		(24ULL * 3600 * 1000)
#define ROUTE_MAX_ATTEMPTS	1000
#define ROUTE_MAX_MIRRORS	4
#define ROUTE_MAX_ORIGINS	8

enum route_header_op_kind {
	ROUTE_REQUEST_SET,
	ROUTE_REQUEST_ADD,
	ROUTE_REQUEST_REMOVE,
	ROUTE_RESPONSE_SET,
	ROUTE_RESPONSE_ADD,
	ROUTE_RESPONSE_REMOVE,
};

struct route_header_op {
	enum route_header_op_kind kind;
	char		 name[64];
	char		 value[192];	/* empty for removes */
};

struct route_mirror {
	char		 address[64];	/* an endpoint of the mirror */
	uint32_t	 ppm;		/* of requests, parts per million */
	char		 service[128];
};

struct route_origin {
	int		 kind;		/* MATCH_EXACT, _PREFIX, _REGEX */
	char		 value[192];
};

/*
 * What a VirtualService route adds to an answer beyond where to go.
 * route-d fills and writes these; proxy-d carries them out
 * (meshkit-ipc(7), proxy-d(8)).
 */
struct route_policy {
	uint32_t	 redirect_code;		/* 0: no redirect */
	uint32_t	 redirect_port;
	char		 redirect_scheme[16];
	char		 redirect_authority[256];
	char		 redirect_uri[512];
	uint32_t	 direct_status;		/* 0: no direct response */
	char		 direct_body[1024];
	char		 rewrite_path[512];	/* the whole new path */
	char		 rewrite_authority[256];
	char		 route_name[64];	/* Envoy's %ROUTE_NAME%; "" none */
	int		 retries_set;		/* a retries line */
	uint32_t	 retry_attempts;	/* 0: no retries */
	uint64_t	 retry_per_try_ms;
	char		 retry_on[128];
	uint64_t	 fault_delay_ms;
	uint32_t	 fault_delay_ppm;
	uint32_t	 fault_abort_status;
	uint32_t	 fault_abort_ppm;
	struct route_mirror mirrors[ROUTE_MAX_MIRRORS];
	size_t		 nmirrors;
	struct route_header_op headers[ROUTE_MAX_HEADER_OPS];
	size_t		 nheaders;
	int		 cors;			/* a corsPolicy applies */
	struct route_origin origins[ROUTE_MAX_ORIGINS];
	size_t		 norigins;
	char		 cors_methods[128];
	char		 cors_allow_headers[256];
	char		 cors_expose_headers[256];
	uint64_t	 cors_max_age_ms;
	int		 cors_credentials;	/* -1 unset, 0, 1 */
};

/* One answer; owns its strings (fixed buffers). */
struct route_answer {
	uint64_t		 id;
	int			 has_id;
	enum route_status	 status;
	char			 service[256];
	char			 subset[64];
	uint32_t		 port;
	struct route_endpoint	 endpoints[ROUTE_MAX_ENDPOINTS];
	size_t			 nendpoints;
	enum route_lb		 lb;
	uint64_t		 reuse_ms;
	char			 vary[256];	/* "authority listener" */
	uint64_t		 timeout_ms;
	char			 reason[256];
	struct route_policy	 policy;
	struct route_tls	 tls;
};

/* Mutable state of route-d across requests: round-robin counters. */
struct route_state;

struct route_state *route_state_new(void);
void	route_state_free(struct route_state *);
struct route_dns;
/*
 * The names resolved for ServiceEntries with resolution DNS (route_dns.h),
 * read by every decision with this state; NULL: none resolved.
 */
void	route_state_set_dns(struct route_state *, const struct route_dns *);

/*
 * Counters reported in a status-reply.  route_handle_message keeps the
 * message and answer counters; the daemon keeps the reload counters
 * itself through the pointer route_state_stats returns.
 */
struct route_stats {
	uint64_t	 start_ms;	/* util_now_ms() at route_state_new */
	uint64_t	 messages;	/* requests handled, good or bad */
	uint64_t	 bad_messages;	/* answered with "error" */
	uint64_t	 queries;
	uint64_t	 answers_ok;
	uint64_t	 answers_no_route;
	uint64_t	 answers_error;
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	char		 last_error[256]; /* reason of the last "error" */
};

struct route_stats *route_state_stats(struct route_state *);

/*
 * Decide one query against cfg.  Fills the answer (status, service,
 * endpoints rotated for round robin, reuse_ms as given, vary, reason).
 */
void	route_decide(const struct config *, struct route_state *,
	    const struct msg_source *, const struct route_query *,
	    uint64_t reuse_ms, struct route_answer *);

/*
 * Wire form (meshkit-ipc(7)), in route_wire.c.  The readers return 0,
 * or -1 with a reason in err.
 */
int	route_query_read(const struct msg *, const struct msg_block *,
	    struct route_query *, char *err, size_t errlen);
void	route_answer_write(struct msg_writer *, const struct route_answer *);
int	route_answer_read(const struct msg *, const struct msg_block *,
	    struct route_answer *, char *err, size_t errlen);

/*
 * A whole request message in, a whole reply out: what route-d does with
 * each message it receives, and with each message of its filter mode.
 * Malformed requests get an "error" reply.  out is reset first.  The
 * state (NULL: no rotation, no counters) holds scratch space reused by
 * every call: callers sharing one serialize their calls.
 */
void	route_handle_message(const struct config *, struct route_state *,
	    uint64_t generation, uint64_t reuse_ms, const char *buf,
	    size_t len, struct msg_writer *out);

const char *route_lb_name(enum route_lb);

/*
 * route_tls.c: after the endpoints are collected, the TLS of the answer
 * (the DestinationRule's for its service, subset and port, seen from
 * namespace ns); the identities a workload of the service runs as are
 * added as its endpoints are; the fields on the wire.
 */
void	route_tls_reset(struct route_tls *);
void	route_tls_decide(const struct config *, const char *ns,
	    struct route_answer *);
void	route_tls_identity(const struct config *, struct route_answer *,
	    const char *ns, const char *service_account);
void	route_tls_known(struct route_answer *, char *const *sans, size_t n);
void	route_tls_write(struct msg_writer *, const struct route_tls *);
/* A tls field: 1 when k is one (read, or -1 with err), 0 when not. */
int	route_tls_read(struct str k, struct str v, struct route_tls *,
	    char *err, size_t errlen);
const char *route_tls_mode_name(enum route_tls_mode);

/*
 * For breaker-d, which keeps state per destination: the DestinationRule
 * whose host names service best as a workload of ns sees the rules
 * (exportTo), or NULL; and the endpoints cfg gives service (a host as
 * route-d answers it) on port (0: route-d's default) in subset (NULL or
 * "": all), into a (addresses only).  route_service_endpoints returns 0,
 * or -1 when no service has the host and port, or the subset is in no
 * DestinationRule.
 */
const struct destination_rule *route_destination_rule(const struct config *,
	    const char *ns, const char *service);
/*
 * DestinationRules of one namespace for one host are one rule, merged as
 * Istio merges them: the subset name of any of them (the first in config
 * order wins), and the first of them with a top-level trafficPolicy.
 * dr is the rule route_destination_rule found; NULL when none.
 */
const struct dr_subset *route_dr_subset(const struct config *,
	    const char *ns, const struct destination_rule *dr,
	    const char *name);
const struct destination_rule *route_dr_policy_rule(const struct config *,
	    const char *ns, const struct destination_rule *dr);
/*
 * For meshctl analyze: the service (ServiceEntry or Kubernetes Service,
 * visible from ns, on any port) whose host best names host as a
 * workload of ns writes it, and that host in *service_host; NULL when no
 * service has it.
 */
const struct service_entry *route_service_of(const struct config *,
	    const char *ns, const char *host, const char **service_host);
/* st: for the names resolved through DNS (NULL: none) */
int	route_service_endpoints(const struct config *, struct route_state *,
	    const char *ns,
	    const char *service, const char *subset, uint32_t port,
	    struct route_answer *);

#endif
