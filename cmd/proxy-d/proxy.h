/* SPDX-License-Identifier: ISC */
/*
 * proxy-d: the data plane.  One event loop; nng's threads only hand
 * answers back to it through an eventfd.
 */
#ifndef PROXY_D_PROXY_H
#define PROXY_D_PROXY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/listener.h>

#include <openssl/ssl.h>

#include "authz_reply.h"
#include "config.h"
#include "head.h"
#include "http.h"
#include "retry.h"
#include "msg.h"
#include "route.h"
#include "stage.h"
#include "strmap.h"

#define PROXY_FLAG_LEN	16

/* The loop's priorities (main.c) */
#define PRIO_URGENT	0	/* idle upstream connections */
#define PRIO_IO		1	/* libevent's default for 3 */
#define PRIO_AFTER_IO	2	/* consult batches */
#define STR_NULL	((struct str){ NULL, 0 })

struct session;
struct upstream;
struct cluster;
struct authz_entry;

/* One config generation; requests in flight keep the one they began with. */
struct generation {
	int				 refs;
	uint64_t			 number;
	struct config			*config;
	const struct proxy_config	*pc;	/* into config */
	struct http_limits		 limits;
};

/* How connections to an endpoint speak (conn.c), from route-d's answer. */
enum conn_tls_kind {
	CONN_TLS_PLAIN,
	CONN_TLS_MESH,		/* mutual TLS with the mesh certificate */
	CONN_TLS_ORIGINATE,	/* a DestinationRule's SIMPLE or MUTUAL */
};

struct conn_tls {
	enum conn_tls_kind	 kind;
	int			 auto_mtls;	/* no rule: plain if no cert */
	struct route_tls	 route;
};

/* The connections kept open to one endpoint address. */
struct pool {
	char			 name[64];	/* "127.0.0.1:9080" */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	TAILQ_HEAD(upstream_list, upstream) idle;
	size_t			 nidle;
	size_t			 active;	/* in use by a request */
	uint64_t		 requests;
	struct conn_tls		*tls;		/* NULL: plain */
	/* the last outcome reported to breaker-d for this endpoint */
	const void		*rep_cluster;
	int			 rep_failed;
	uint64_t		 rep_ok_ms;
};

struct upstream {
	struct bufferevent	*bev;
	int			 direct;	/* conn_flush writes the fd */
	struct pool		*pool;
	struct session		*session;	/* NULL while idle */
	TAILQ_ENTRY(upstream)	 entry;		/* pool->idle */
	int			 connected;
	int			 reused;	/* served a request before */
	int			 read_deadline;	/* streamIdle on reading */
	int			 urgent;	/* idle at PRIO_URGENT */
	int			 unsure;	/* its last read may have
						   left bytes unread */
	size_t			 last_in;	/* input at its last read */
	uint64_t		 idle_since_ms;
	uint64_t		 requests;	/* served, this one included */
	uint64_t		 idle_limit_ms;	/* 0: the Proxy's upstreamIdle */
	char			 local[72];	/* its address, "" until asked */
	char			*peer_id;	/* mTLS: the server's SPIFFE ID */
};

struct listener {
	struct proxy		*proxy;
	struct evconnlistener	*lev;
	char			*name;
	char			*address;
	int			 inbound;
	struct pool		*forward;	/* inbound: the local app */
	enum peer_mtls_mode	 mtls;		/* PeerAuthentication's */
	char			 mtls_source[256];	/* who set it */
	TAILQ_ENTRY(listener)	 entry;
};

/*
 * What a route adds beyond where to go (rewrites, header operations,
 * redirect, direct response), shared by an answer and the requests that
 * use it, so an answer can go while its requests are still served.
 */
struct policy {
	int			 refs;
	struct route_policy	 p;
	uint64_t		 timeout_ms;	/* the route's; 0: none */
	struct retry_policy	 retry;		/* attempts 0: no retries */
	void			*origin_re[ROUTE_MAX_ORIGINS];	/* CORS */
};

#define SESSION_MAX_CANDIDATES	16	/* endpoints a retry may move to */
#define PROXY_MAX_INTERIM	16	/* 1xx answers forwarded per request */

enum session_wait {
	SESSION_WAIT_NONE,
	SESSION_WAIT_DELAY,	/* a fault's delay */
	SESSION_WAIT_BACKOFF,	/* between tries */
};

/* A fire-and-forget copy of a request (a route's mirror). */
struct mirror {
	struct proxy		*proxy;
	struct bufferevent	*bev;
	TAILQ_ENTRY(mirror)	 entry;
};

/* A cached (or one-shot) answer of route-d for one key. */
enum route_entry_state {
	ROUTE_ENTRY_PENDING,	/* no answer yet */
	ROUTE_ENTRY_VALID,
};

struct route_entry {
	char			*key;		/* NULL: not in the cache */
	char			*fallback_key;	/* one-shot: where to keep it */
	enum route_entry_state	 state;
	int			 inflight;	/* a query is out for it */
	uint64_t		 expires_ms;
	uint64_t		 last_used_ms;
	enum route_status	 status;
	char			 reason[160];
	enum route_lb		 lb;
	struct pool		**pools;
	int64_t			*weights;
	int64_t			*current;	/* smooth weighted RR */
	size_t			 npools;
	size_t			 next;		/* plain round robin */
	int			 uniform;	/* all weights equal */
	int			 fresh;		/* not picked from yet */
	int			 no_reuse;	/* route-d said: ask each time */
	char			 service[256];	/* the cluster, for breaker-d */
	char			 subset[64];
	uint32_t		 port;
	struct policy		*policy;	/* NULL: nothing beyond routing */
	/*
	 * A vary node, at a (listener, authority) key, holds no answer: it
	 * says which more fields of a request route-d's answers for that
	 * authority depend on; the answers live at keys that add the
	 * request's values of those fields.
	 */
	char			*vary_fields;
	TAILQ_HEAD(, session)	 waiters;
};

enum cluster_use {
	CLUSTER_HELD,		/* known, not asked to go yet */
	CLUSTER_QUEUED,		/* waiting for one of its connections */
	CLUSTER_ADMITTED,	/* counted in its requests in flight */
};

enum session_state {
	SESSION_READ_HEAD,
	SESSION_WAIT,		/* a stage holds the request back */
	SESSION_FORWARD,
	SESSION_CLOSING,	/* flushing output, then free */
};

struct session {
	struct proxy		*proxy;
	struct bufferevent	*bev;
	int			 direct;	/* conn_flush writes the fd */
	char			*peer_identity;	/* TLS peer (SPIFFE); NULL */
	char			*peer_sni;	/* its server name; NULL */
	char			*xfcc;		/* the peer's XFCC element */
	char			*xfcc_all;	/* and what came, a request's */
	struct generation	*gen;
	struct listener		*listener;	/* NULL after a reload freed it */
	int			 inbound;
	struct pool		*forward;
	char			 client_ip[64];
	char			 client_addr[72];
	char			 local_addr[72];	/* "" until asked */
	enum session_state	 state;
	int			 keep_alive;
	int			 eof;		/* the client half-closed */
	int			 body_deadline;	/* its read side has one */
	int			 out_full;	/* answers unread: reading stops */
	int			 refs;
	int			 dead;
	struct event		*timer;
	uint64_t		 requests;
	TAILQ_ENTRY(session)	 entry;		/* proxy->sessions */

	/* the request being read or served */
	char			*head;		/* copy of the request head */
	size_t			 headcap;
	size_t			 headlen;
	size_t			 scan;
	int			 head_started;
	int			 head_timer;	/* timer armed for the head */
	uint64_t		 head_since_ms;
	uint64_t		 idle_since_ms;
	struct http_header	*headers;
	size_t			 maxheaders;
	struct http_request	 req;
	uint64_t		 body_left;
	struct http_chunked	 req_chunked;
	int			 req_trailer;	/* its last chunk is out */
	int			 req_body_done;
	char			 request_id[40];	/* made here */
	struct str		 request_id_in;	/* sent by the client */

	/* its stages (stage.c), and what its record says */
	struct stage_run	 run;
	uint64_t		 start_ms;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	int			 status;	/* sent to the client */
	char			 service[256];	/* kept for request_done */
	char			 subset[64];
	uint32_t		 service_port;
	char			 trace_id[33];	/* the hooks' */
	char			 span_id[17];
	char			 parent_span_id[17];
	struct head_op		 extra_op[EXTRA_OPS_MAX];
	/* observe.c's: times (util_now_us), the trace, its header values */
	uint64_t		 start_us;
	uint64_t		 up_sent_us;	/* the last try's head went */
	uint64_t		 resp_head_us;	/* its response head came */
	uint64_t		 req_done_us;	/* the request's last byte came */
	char			 up_local[72];	/* the last try's local address */
	char			 up_failure[160]; /* why its connection failed */
	char			 up_principal[256]; /* mTLS: the server's ID */
	size_t			 resp_head_bytes; /* of the head sent back */
	int			 up_mtls;	/* the last try's: mutual TLS */
	int			 trace_started;
	int			 trace_sampled;
	int			 trace_b3;	/* TRACE_B3_*: the caller's */
	int			 trace_debug;
	int			 trace_state;	/* its tracestate goes on */
	int			 trace_in;	/* it came with context headers */
	char			 trace_values[256]; /* the headers' sent up */

	/* route */
	struct route_entry	*waiting;	/* on its waiters list */
	TAILQ_ENTRY(session)	 wait_entry;
	struct route_entry	*oneshot;	/* answer for this request only */
	struct policy		*policy;	/* of the route in use, or NULL */
	struct pool		*cands[SESSION_MAX_CANDIDATES];
	size_t			 ncands;
	size_t			 cand;		/* the one in use */
	uint32_t		 tried;		/* bit per candidate */
	unsigned		 tries;		/* made, counting the first */
	uint64_t		 deadline_ms;	/* route timeout; 0: none */
	uint64_t		 try_deadline_ms;	/* per-try; 0: none */
	uint64_t		 wait_until_ms;
	enum session_wait	 wait_kind;
	uint64_t		 wait_since_ms;	/* SESSION_WAIT from */
	uint64_t		 timer_at_ms;	/* when the timer fires */
	struct evbuffer		*replay;	/* body bytes sent, for a retry */
	int			 replay_lost;	/* over the cap: no retry */
	struct str		 cors_origin;	/* allowed: answer with CORS */

	/* upstream */
	struct upstream		*up;
	int			 retried;
	int			 resp_head_done;
	int			 interim;	/* 1xx answers so far */
	size_t			 resp_scan;
	struct http_response	 resp;
	struct http_header	*resp_headers;
	uint64_t		 resp_left;
	struct http_chunked	 resp_chunked;
	int			 resp_trailer;
	int			 dechunk;	/* to a 1.0 client: unframed */
	int			 resp_started;	/* bytes sent to the client */
	char			 flags[PROXY_FLAG_LEN];
	/* Envoy's %RESPONSE_CODE_DETAILS% of a local answer; "" none */
	char			 details[256];

	/* authz-d (authz.c) */
	struct authz_entry	*authz_waiting;	/* on its waiters list */
	TAILQ_ENTRY(session)	 authz_wait_entry;
	struct authz_decision	*authz;		/* allowed: header operations */

	/* breaker-d's cluster (breaker.c), from the route to cluster_done */
	struct cluster		*cluster;
	enum cluster_use	 cluster_use;
	uint32_t		 cluster_retries;	/* retries it counts */
	TAILQ_ENTRY(session)	 cluster_entry;		/* its queue */
};

/*
 * What authz-d decided for a request, shared by a cached answer and the
 * requests that use it.  Header operations apply in order to the request
 * forwarded to the app: the last operation on a name wins.
 */
struct authz_decision {
	int			 refs;
	int			 allow;
	int			 status;	/* deny: 401 or 403 */
	char			*body;		/* deny */
	size_t			 bodylen;
	char			*principal;
	char			*reason;
	struct head_op		*headers;
	size_t			 nheaders;
	size_t			 headers_len;	/* the set lines' bytes */
};

/* nng clients of the daemons (ipc.c) */
struct ipc_req;
struct ipc_push;
struct ipc_sub;

struct ipc_req_ops {
	const char	*daemon;	/* "route-d", for logs and reasons */
	const char	*type;		/* of the question: "route" */
	const char	*reply;		/* of the answer: "route-reply" */
	/* read one record into the client's own answer; 0 or -1 (err) */
	int		(*read)(void *arg, const struct msg *,
			    const struct msg_block *, uint64_t *id,
			    int *has_id, char *err, size_t errlen);
	/* the answer read last is item's */
	void		(*answer)(void *arg, void *item);
	void		(*fail)(void *arg, void *item, const char *reason);
	/* optional: the daemon came (1) or went (0) */
	void		(*connected)(void *arg, int up);
};

struct consult;
struct authz;
struct breaker_link;
struct observe;

struct proxy {
	struct event_base	*base;
	struct generation	*gen;
	const char		*config_dir;
	const char		*name;
	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, session)	 sessions;
	size_t			 nsessions;
	struct strmap		 pools;
	struct strmap		 routes;	/* key -> struct route_entry */
	struct consult		*consult;
	int			 draining;
	struct event		*drain_timer;
	struct event		*sweep_timer;
	int			 watch_fd;	/* inotify on config_dir */
	struct event		*watch_ev;
	struct event		*watch_timer;
	const struct pipeline	*pipeline;	/* stage_list */
	struct proxy_hooks	 hooks;
	/* counters */
	uint64_t		 requests;
	uint64_t		 route_hits;
	uint64_t		 route_stale;
	uint64_t		 route_misses;
	uint64_t		 route_failures;
	uint64_t		 retries;
	uint64_t		 timeouts;
	uint64_t		 faults;
	uint64_t		 reports_folded;	/* successes not reported */
	TAILQ_HEAD(, mirror)	 mirrors;
	size_t			 nmirrors;
	uint64_t		 mirrors_sent;
	uint64_t		 mirrors_skipped;
	/* authz-d: asked, reused, coalesced, allowed, denied, failed */
	struct authz		*authz;
	struct strmap		 authz_cache;
	uint64_t		 authz_questions;
	uint64_t		 authz_hits;
	uint64_t		 authz_coalesced;
	uint64_t		 authz_allowed;
	uint64_t		 authz_denied;
	uint64_t		 authz_failures;
	/* stats-d (observe.c): records, trace context */
	struct observe		*observe;
	/* breaker-d */
	struct breaker_link	*breaker;
	struct strmap		 clusters;	/* service|subset|port */
	uint64_t		 breaker_questions;
	uint64_t		 breaker_failures;	/* failed open */
	uint64_t		 breaker_overflows;	/* 503 UO */
	uint64_t		 breaker_queued;
	uint64_t		 breaker_skipped;	/* ejected, passed over */
	uint64_t		 breaker_events;
	/* tls-d: the certificate; TLS connections (conn.c) */
	struct identity		*identity;
	uint64_t		 tls_accepted;		/* TLS clients */
	uint64_t		 tls_full;		/* full handshakes */
	uint64_t		 tls_resumed;		/* resumed ones */
	uint64_t		 tls_refused;		/* refused handshakes */
	uint64_t		 plaintext_accepted;	/* on mTLS listeners */
};

/* main.c */
void		 generation_unref(struct generation *);
struct generation *generation_ref(struct generation *);
void		 proxy_maybe_exit(struct proxy *);

/* session.c: the client connection and its requests */
void		 session_accept(struct proxy *, struct listener *, int fd,
		    struct sockaddr *, int);
void		 session_drain(struct session *);
void		 session_free_now(struct session *);
void		 session_complete(struct session *);
void		 session_hold(struct session *);
void		 session_respond(struct session *, int, const char *,
		    const char *, const char *, size_t, struct str,
		    struct str);
void		 session_error(struct session *, int, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void		 session_close(struct session *);
void		 session_up_failure(struct session *, const char *,
		    const char *);
const char	*session_local_addr(struct session *);
const char	*socket_local_addr(evutil_socket_t, char *, size_t);
void		 session_abort(struct session *, const char *);
void		 session_timer_rearm(struct session *);
void		 session_rebind(struct session *, struct bufferevent *,
		    int direct);
void		 session_body_deadline(struct session *, int);

/* direct.c: what the route answers or delays itself */
void		 fault_delay_over(struct session *);
int		 sampled(uint32_t ppm);

/* forward.c: the tries upstream and the response */
void		 forward_read(struct session *);
void		 forward_write(struct session *);
void		 forward_event(struct session *, short what);
void		 forward_backoff_over(struct session *);
void		 forward_pump_request(struct session *);
void		 forward_client_drained(struct session *);
void		 forward_try_failed(struct session *, enum retry_outcome, int,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

/* conn.c: where connections get their bufferevents, and their TLS */
void		 conn_listener_configure(struct listener *,
		    const struct generation *, const char *forward);
void		 conn_accept(struct proxy *, struct listener *,
		    evutil_socket_t, struct sockaddr *, int);
void		 conn_fini(struct proxy *);
struct bufferevent *conn_client(struct proxy *, struct session *,
		    evutil_socket_t, int *direct);
void		 conn_client_connected(struct session *);
void		 conn_client_failed(struct session *);
void		 conn_pool_route(struct pool *, const struct route_tls *,
		    int mtls);
struct bufferevent *conn_upstream(struct proxy *, struct pool *,
		    struct session *, int *direct);
int		 conn_upstream_connected(struct upstream *, char *, size_t);
void		 conn_upstream_error(struct upstream *, char *, size_t);
void		 conn_flush(struct bufferevent *, int direct);
void		 conn_close(struct bufferevent *);
SSL		*conn_ssl(struct bufferevent *);
void		 conn_xfcc(struct session *, struct extra_ops *);

/* identity.c: the certificate from tls-d, the TLS contexts */
struct tls_origination;
struct tls_sessions;
void		 identity_init(struct proxy *);
void		 identity_configure(struct proxy *,
		    const struct proxy_config *);
void		 identity_fini(struct proxy *);
int		 identity_enabled(const struct proxy *);
/* the mesh's TLS context to accept with, and to connect with */
SSL_CTX		*identity_mesh(const struct proxy *);
SSL_CTX		*identity_mesh_client(const struct proxy *);
const char	*identity_spiffe_id(const struct proxy *);
struct tls_sessions *identity_sessions(const struct proxy *);
SSL_CTX		*identity_origination(struct proxy *,
		    const struct tls_origination *, char *, size_t);

/* mirror.c */
void		 mirror_send(struct proxy *, struct pool *, struct evbuffer *);
void		 mirrors_free(struct proxy *);

/* upstream.c */
struct pool	*pool_get(struct proxy *, const char *address);
struct upstream	*upstream_acquire(struct proxy *, struct pool *,
		    struct session *, int fresh);
void		 upstream_release(struct proxy *, struct upstream *,
		    int reusable);
void		 upstream_abort(struct upstream *);
void		 upstream_deadlines(struct upstream *);
void		 pool_flush(struct pool *);
void		 pools_free(struct proxy *);
void		 pools_sweep(struct proxy *, uint64_t now);

/* routing.c: the answer cache and the consult queue in front of route-d */
void		 routing_cancel(struct session *);
struct pool	*routing_pick(struct route_entry *);
struct policy	*policy_ref(struct policy *);
void		 policy_unref(struct policy *);
void		 routing_done(struct proxy *, struct session *);
void		 routing_fini(struct proxy *);
void		 routing_forget(struct proxy *, struct route_entry *);

/* ipc.c */
struct ipc_req	*ipc_req_new(struct proxy *, const struct ipc_req_ops *,
		    void *arg, const char *address, uint64_t timeout_ms,
		    size_t max_batch);
void		 ipc_req_free(struct ipc_req *);
const char	*ipc_req_address(const struct ipc_req *);
int		 ipc_req_connected(const struct ipc_req *);
void		 ipc_req_set_timeout(struct ipc_req *, uint64_t);
struct msg_writer *ipc_req_begin(struct ipc_req *,
		    const struct proxy_config *);
int		 ipc_req_end(struct ipc_req *, void *item);
void		 ipc_header(struct msg_writer *, const char *type,
		    const struct proxy_config *);
struct ipc_push	*ipc_push_new(struct proxy *, const char *daemon,
		    const char *type, const char *address);
void		 ipc_push_free(struct ipc_push *);
const char	*ipc_push_address(const struct ipc_push *);
struct msg_writer *ipc_push_begin(struct ipc_push *,
		    const struct proxy_config *);
void		 ipc_push_end(struct ipc_push *);
void		 ipc_push_counters(const struct ipc_push *, uint64_t *sent,
		    uint64_t *dropped);
void		 ipc_push_set_header(struct ipc_push *,
		    void (*)(struct msg_writer *, void *), void *);
void		 ipc_push_empty(struct ipc_push *, const struct proxy_config *);
void		 ipc_push_set_delay(struct ipc_push *, uint64_t ms);
struct ipc_sub	*ipc_sub_new(struct proxy *, const char *daemon,
		    const char *address,
		    void (*)(void *, const struct msg *), void *arg);
void		 ipc_sub_free(struct ipc_sub *);
const char	*ipc_sub_address(const struct ipc_sub *);

/* authz.c: asking authz-d for inbound requests, and its answer cache */
int		 authz_enabled(const struct session *);
struct authz_decision *authz_decision_ref(struct authz_decision *);
void		 authz_decision_unref(struct authz_decision *);
void		 authz_configure(struct proxy *, const struct proxy_config *);
void		 authz_sweep(struct proxy *, uint64_t now);
void		 authz_fini(struct proxy *);

/* breaker.c: breaker-d's limits and ejections per cluster */
void		 breaker_configure(struct proxy *, const struct proxy_config *);
void		 breaker_fini(struct proxy *);
void		 breaker_sweep(struct proxy *, uint64_t now);
struct cluster	*cluster_for(struct proxy *, const struct route_entry *);
int		 cluster_skip(struct cluster *, struct pool *);
struct pool	*cluster_pick(struct proxy *, struct cluster *,
		    struct route_entry *);
void		 cluster_attach(struct session *, struct cluster *);
void		 cluster_done(struct cluster *, struct session *);
int		 cluster_conn_spent(const struct cluster *,
		    const struct upstream *);
int		 cluster_retry_ok(struct cluster *, struct session *);
void		 cluster_retry_done(struct cluster *, struct session *);
uint64_t	 cluster_connect_timeout(const struct cluster *, uint64_t);
uint64_t	 cluster_idle_timeout(const struct cluster *, uint64_t);
void		 breaker_reports(const struct proxy *, uint64_t *sent,
		    uint64_t *dropped);
void		 cluster_report(struct proxy *, struct cluster *,
		    struct pool *, const char *result);

/* observe.c: records to stats-d, trace context (the stage hooks) */
void		 observe_configure(struct proxy *, const struct generation *);
void		 observe_sweep(struct proxy *, uint64_t now);
void		 observe_counters(const struct proxy *, uint64_t *sent,
		    uint64_t *dropped);
void		 observe_fini(struct proxy *);

/* consult.c */
struct consult	*consult_new(struct proxy *, const char *address,
		    uint64_t timeout_ms);
void		 consult_free(struct consult *);
const char	*consult_address(const struct consult *);
int		 consult_enqueue(struct consult *, struct route_entry *,
		    const struct session *);
int		 consult_connected(const struct consult *);
void		 consult_set_timeout(struct consult *, uint64_t);
/* consult calls these from the event loop when an answer arrives */
void		 routing_answer(struct proxy *, struct route_entry *,
		    const struct route_answer *);
void		 routing_failure(struct proxy *, struct route_entry *,
		    const char *reason);

#endif
