/* SPDX-License-Identifier: ISC */
/*
 * The stages of a request in proxy-d.
 *
 * Once a request head is read and checked (session.c), the request goes
 * through an ordered list of stages, driven by stage.c alone:
 *
 *	authz	 inbound: may the caller ask?  authz-d, or its cached answer
 *	route	 where it goes: route-d (outbound), the local app (inbound);
 *		 the candidate endpoints, breaker-d's ejections left out
 *	fault	 the route's fault: a delay, then maybe an abort
 *	direct	 answered from the route: direct response, redirect, CORS
 *		 preflight
 *	cluster	 breaker-d's connection-pool limits: admitted, queued, 503
 *	upstream the tries: connect, head and body out, retries, until the
 *		 response head is in and sent on
 *	response the response body to the client, to its end
 *
 * Each stage is a struct stage: start, cancel, and whether the request
 * body streams while it waits.
 *
 *   start(s)   the request reached the stage.  Returns STAGE_NEXT (done,
 *              go on), STAGE_WAIT (it started something: it calls
 *              stage_done(s, result) when that ends), or STAGE_STOP (it
 *              answered the request or closed the session itself, with
 *              session_respond / session_error / session_abort).  A
 *              stage may call stage_done from inside its own start (a
 *              cached answer served at once): the driver takes that as
 *              the result.
 *   cancel(s)  the request is over, however it ended (answered, failed,
 *              the client gone, a deadline): called once for every stage
 *              the request started, the last started first, so each lets
 *              go of what it holds for the request (its place on a
 *              waiters list, a count in flight, a connection).  Must
 *              cope with a request the stage has finished with.
 *   stage_done(s, r)  a waiting stage finished: STAGE_NEXT runs the next
 *              stage; STAGE_STOP says the stage ended the request.
 *
 * Any stage, or the session, ends a request through stage_end(s) (done
 * for them by session_respond, session_error, session_close,
 * session_abort and session_free_now).  stage_end cancels the started
 * stages and hands the request's record to the request_done hook.
 *
 * While a stage that holds the request back waits (streams 0), the
 * session is in SESSION_WAIT (session_hold): its client is not read (an
 * upload waits in the kernel, and the loop stays free to send the
 * question), and the wait ends by streamIdle if nothing of the stage's
 * own ends it first.  While upstream and response wait, the body flows
 * (SESSION_FORWARD).
 *
 * A new stage: a struct stage in its own file, one line in the list of
 * stage.c (stage_list), its fields in struct session.  Nothing else
 * changes; tests/unit/test_proxy_stage.c runs the driver over stages of
 * its own.
 *
 * Hooks for the stages to come:
 *
 *  - Transport (tls-d, mTLS).  Every client connection gets its
 *    bufferevent in conn_client() and every upstream connection (mirrors
 *    too) in conn_upstream(), both in conn.c; that is where a TLS
 *    transport wraps or replaces the plain socket bufferevent (an
 *    OpenSSL bufferevent, or a filter over the socket one for a
 *    PERMISSIVE port that tells TLS from plaintext by the first bytes;
 *    session_rebind() moves a session to a new bufferevent).  A
 *    connection whose bytes do not go straight to its socket sets
 *    conn.direct to 0, and conn_flush() then leaves the writing to the
 *    bufferevent.  The peer's identity (a SPIFFE URI) goes in
 *    s->peer_identity (owned by the session, freed with it): the authz
 *    question and x-forwarded-client-cert read it from there.
 *  - Observability (stats-d).  p->hooks.upstream_head(s, extra) runs
 *    before each upstream request head is written: it may add header
 *    operations (trace context) to extra, in storage it owns for the
 *    request (s->trace, say).  p->hooks.request_done(p, s, record) runs
 *    once per request at its end, with struct request_record: times,
 *    bytes each way, status and flags, route, cluster and endpoint,
 *    identities, trace ids.  Both are NULL when unused and cost nothing
 *    then.
 */
#ifndef PROXY_D_STAGE_H
#define PROXY_D_STAGE_H

#include <stddef.h>
#include <stdint.h>

struct session;
struct proxy;
struct head_op;

enum stage_result {
	STAGE_NEXT,
	STAGE_WAIT,
	STAGE_STOP,
};

struct stage {
	const char		*name;
	enum stage_result	(*start)(struct session *);
	void			(*cancel)(struct session *);	/* or NULL */
	/* while it waits, the request body flows (SESSION_FORWARD);
	   0: it holds the request back (SESSION_WAIT) */
	int			 streams;
};

/* An ordered list of stages: stage_list, or a test's own. */
struct pipeline {
	const struct stage *const	*stage;
	size_t				 n;
};

extern const struct pipeline	 stage_list;
extern const struct stage	 stage_authz;		/* authz.c */
extern const struct stage	 stage_route;		/* routing.c */
extern const struct stage	 stage_fault;		/* stage.c */
extern const struct stage	 stage_direct;		/* stage.c */
extern const struct stage	 stage_cluster;		/* breaker.c */
extern const struct stage	 stage_upstream;	/* forward.c */
extern const struct stage	 stage_response;	/* forward.c */

enum stage_state {
	STAGE_IDLE,		/* no request in the stages */
	STAGE_RUNNING,		/* inside a start */
	STAGE_WAITING,		/* a start returned STAGE_WAIT */
	STAGE_DONE_EARLY,	/* stage_done came inside the start */
};

/* Per request, in struct session. */
struct stage_run {
	const struct pipeline	*pipeline;
	size_t			 at;		/* running or waiting */
	size_t			 started;	/* stages started: to cancel */
	enum stage_state	 state;
	enum stage_result	 early;		/* STAGE_DONE_EARLY's result */
	int			 unstaged;	/* answered before stage_begin:
						   recorded all the same */
};

/*
 * One record per request, handed to the request_done hook at its end.
 * Strings are the session's: copy what must outlive the call.
 */
struct request_record {
	uint64_t	 start_ms;	/* the head was in */
	uint64_t	 end_ms;
	uint64_t	 bytes_in;	/* from the client: head and body */
	uint64_t	 bytes_out;	/* to the client: head and body */
	int		 status;	/* sent to the client; 0: none */
	const char	*flags;		/* Envoy's response flags, "" none */
	int		 inbound;
	const char	*method;	/* the request's, NUL-less: see lens */
	size_t		 method_len;
	const char	*authority;
	size_t		 authority_len;
	const char	*path;
	size_t		 path_len;
	const char	*service;	/* the route's cluster, "" none */
	const char	*subset;
	uint32_t	 port;
	const char	*endpoint;	/* the last try's, "" none */
	unsigned	 tries;
	const char	*client;	/* address:port */
	const char	*peer_identity;	/* TLS peer (SPIFFE), "" none */
	const char	*principal;	/* authz-d's, "" none */
	const char	*request_id;
	size_t		 request_id_len;
	const char	*trace_id;	/* set by the stages' hooks, "" none */
	const char	*span_id;
	const char	*parent_span_id;
};

/* Where the stages to come plug in (see above); NULL when unused. */
struct extra_ops;
struct proxy_hooks {
	void	(*upstream_head)(struct session *, struct extra_ops *);
	void	(*request_done)(struct proxy *, const struct session *,
		    const struct request_record *);
};

/* Header operations a hook adds to one upstream request head. */
/* x-forwarded-client-cert, x-meshkit-source, the 8 trace headers */
#define EXTRA_OPS_MAX	12
struct extra_ops {
	struct head_op	*op;		/* EXTRA_OPS_MAX of them */
	size_t		 n;
};
/* Adds one; -1 when the list is full.  name and value must outlive
   the head's writing (the request, say). */
int	extra_ops_add(struct extra_ops *, const char *name, size_t namelen,
	    const char *value, size_t valuelen, int remove);

void	stage_begin(struct session *);
void	stage_done(struct session *, enum stage_result);
void	stage_end(struct session *);
void	stage_unstaged(struct session *);
int	stage_waiting(const struct session *);
const char *stage_name(const struct session *);

#endif
