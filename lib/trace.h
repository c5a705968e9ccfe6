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

/* Which B3 form the caller spoke: the one the request goes on in. */
#define TRACE_B3_NONE		0
#define TRACE_B3_MULTI		1	/* x-b3-traceid and the rest */
#define TRACE_B3_SINGLE		2	/* b3 */

/* The context of an incoming request, as its headers gave it. */
struct trace_context {
	char		 trace_id[33];	/* 32 hex digits, "" when none */
	char		 span_id[17];	/* the caller's span */
	char		 parent_id[17];	/* B3's parent, "" when none */
	int		 sampled;	/* 1, 0, or -1: no decision yet */
	int		 debug;		/* B3 flags: 1, or "d" */
	int		 b3;		/* TRACE_B3_* */
	int		 keep_state;	/* the tracestate received goes on */
};

/* Header names, lower case, that carry a context. */
extern const char *const trace_headers[];
extern const size_t trace_nheaders;
/* Whether a header name (any case) is one of them. */
int	trace_header_is(struct str);

/*
 * Reads the context from get(name, arg) as Envoy's Zipkin tracer does
 * with USE_B3_WITH_W3C_PROPAGATION: B3 first (the b3 header when there
 * is one, else the x-b3-* headers), then traceparent ("00-<32 hex>-<16
 * hex>-<2 hex>").  A B3 decision without ids ("b3: 0", "x-b3-sampled:
 * 1", "b3: d") holds for whichever context is continued or begun.
 * Returns 1 with ctx filled when a context was valid, 0 otherwise (ids
 * empty; an invalid header counts as none, as the W3C says).  The
 * tracestate received is kept (keep_state) only beside a valid
 * traceparent of the trace continued.  get() returns a str with p NULL
 * for a header not sent; a traceparent sent more than once is invalid
 * (W3C), and get() reports it so by returning an empty value.
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
 * (ctx->span_id its parent, "" for a new trace): traceparent, and B3 in
 * the caller's form, the b3 header for a caller that sent one, else the
 * x-b3-* headers (a new trace too: Istio's applications pass those on).
 * Every other context header is removed, so that none describes another
 * trace: set(name, NULL, arg) removes, set(name, value, arg) replaces.
 * tracestate is left as it came when ctx->keep_state, else removed.
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

/* What a span takes from the config rather than from its record. */
struct trace_span_config {
	uint32_t	 max_path_length;	/* of http.url's path; 0: 256 */
	const char	*mesh_id;		/* istio.mesh_id; NULL: unknown */
};
#define TRACE_DEFAULT_PATH_LENGTH	256	/* Envoy's max_path_tag_length */

/*
 * A span of a sampled record; NULL when r has no trace or is not one.
 * cfg NULL: the defaults.
 */
struct span *trace_span_new(const struct record *r,
	    const struct trace_span_config *cfg);
void	trace_span_free(struct span *);

/* A JSON array of Zipkin v2 spans. */
void	trace_zipkin_write(struct sbuf *, struct span *const *, size_t n);
/* An OTLP ExportTraceServiceRequest in JSON, spans grouped by service. */
void	trace_otlp_write(struct sbuf *, struct span *const *, size_t n);

#endif
