/* SPDX-License-Identifier: ISC */
/*
 * Distributed tracing: the trace context a request carries (W3C
 * traceparent/tracestate, B3 in its multi-header and single-header
 * forms), the sampling decision, and spans made from records, written
 * as Zipkin v2 JSON (POST /api/v2/spans) or OTLP/HTTP JSON (/v1/traces).
 */
#ifndef MESHKIT_TRACE_H
#define MESHKIT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "sbuf.h"
#include "util.h"

#define TRACE_MAX_STATE		512	/* bytes of tracestate kept */

/* The context of an incoming request, as its headers gave it. */
struct trace_context {
	char		 trace_id[33];	/* 32 hex digits, "" when none */
	char		 span_id[17];	/* the caller's span */
	char		 parent_id[17];	/* B3's parent, "" when none */
	int		 sampled;	/* 1, 0, or -1: no decision yet */
	int		 debug;		/* B3 flags: 1, or "d" */
	int		 b3;		/* came as B3 (reply in B3 too) */
	char		 state[TRACE_MAX_STATE + 1];	/* tracestate */
};

/* Header names, lower case, that carry a context. */
extern const char *const trace_headers[];
extern const size_t trace_nheaders;
/* Whether a header name (any case) is one of them. */
int	trace_header_is(struct str);

/*
 * Reads traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), else the single
 * b3 header, else the x-b3-* headers, from get(name, arg).  Returns 1
 * with ctx filled when one was valid, 0 otherwise (ctx empty, sampled
 * -1; an invalid header counts as none, as the W3C says).
 */
int	trace_context_read(struct trace_context *ctx,
	    struct str (*get)(const char *name, void *arg), void *arg);
/* The individual readers, for tests. */
int	trace_parse_traceparent(struct str, struct trace_context *);
int	trace_parse_b3(struct str, struct trace_context *);
int	trace_parse_b3_multi(struct str trace_id, struct str span_id,
	    struct str parent_id, struct str sampled, struct str flags,
	    struct trace_context *);

/* n random bytes as 2n lower-case hex digits and a NUL; never all 0. */
void	trace_random_hex(char *out, size_t nbytes);
/*
 * The sampling decision for a request without one: ppm parts per
 * million of requests (PERCENT_MILLION of config.h: Istio's percentage
 * 0..100 with four decimals).
 */
int	trace_sample(uint32_t ppm);

/*
 * The headers to send upstream for a span span_id of ctx's trace
 * (ctx->span_id its parent): traceparent and tracestate always, the
 * x-b3-* headers too when the request came with B3.  Calls
 * set(name, value, arg) for each.
 */
void	trace_context_write(const struct trace_context *ctx,
	    const char *span_id, void (*set)(const char *, const char *,
	    void *), void *arg);

enum trace_kind {
	TRACE_SERVER,		/* reporter destination: the inbound side */
	TRACE_CLIENT,		/* reporter source: the outbound side */
};

/* A span kept until it is exported: its own copy of what it needs. */
struct span {
	char		 trace_id[33];
	char		 span_id[17];
	char		 parent_id[17];
	enum trace_kind	 kind;
	uint64_t	 start_us;
	uint64_t	 duration_us;
	uint32_t	 code;
	int		 error;
	const char	*name;		/* into strings */
	const char	*service;	/* local endpoint: app.namespace */
	const char	*remote;	/* address of the other end, or NULL */
	uint32_t	 remote_port;
	const char	**keys;		/* tags, into strings */
	const char	**values;
	size_t		 ntags;
	char		*strings;
	size_t		 size;		/* bytes held, for bounds */
};

/* A span of a sampled record; NULL when r has no trace or is not one. */
struct span *trace_span_new(const struct record *r);
void	trace_span_free(struct span *);

/* A JSON array of Zipkin v2 spans. */
void	trace_zipkin_write(struct sbuf *, struct span *const *, size_t n);
/* An OTLP ExportTraceServiceRequest in JSON, spans grouped by service. */
void	trace_otlp_write(struct sbuf *, struct span *const *, size_t n);

#endif
