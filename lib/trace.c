/* SPDX-License-Identifier: ISC */
/*
 * Trace context and spans (trace.h).
 *
 * Context: B3 wins over W3C traceparent when a request has both, as
 * Envoy's Zipkin tracer (Istio's zipkin provider) does with
 * USE_B3_WITH_W3C_PROPAGATION; an invalid header is as good as none
 * (the request starts a new trace rather than fail).  B3's 64-bit trace
 * ids are kept as 16 digits in B3 headers and padded to 32 in
 * traceparent.
 *
 * Spans: Istio's shape of them.  The name is "host:port/" and a star, of the
 * destination service, the local endpoint "app.namespace" of the
 * reporting workload, and the tags those of Istio's proxies (http.method,
 * http.url, http.status_code, response_flags, upstream_cluster,
 * istio.canonical_service, ...), error=true for 5xx and no response.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "sbuf.h"
#include "trace.h"
#include "util.h"

#define TRACE_MAX_TAGS	28

const char *const trace_headers[] = {
	"traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
	"x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
};
const size_t trace_nheaders = nitems(trace_headers);

static int	trace_hex(struct str, size_t);

int
trace_header_is(struct str name)
{
	size_t	 i;

	for (i = 0; i < trace_nheaders; i++)
		if (util_str_caseeq(name, trace_headers[i]))
			return 1;
	return 0;
}
static int	trace_zero(const char *, size_t);
static void	trace_context_clear(struct trace_context *);
static void	trace_copy_id(char *, struct str, size_t);
static void	trace_span_add(struct sbuf *, const char *, struct str);
static void	trace_endpoint(struct sbuf *, const char *, uint32_t);

/* Exactly n lower-case hex digits. */
static int
trace_hex(struct str s, size_t n)
{
	size_t	 i;

	if (s.p == NULL || s.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') ||
		    (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return 0;
	return 1;
}

static int
trace_zero(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] != '0')
			return 0;
	return 1;
}

static void
trace_context_clear(struct trace_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sampled = -1;
}

/* A trace id of 16 or 32 digits into 32, padded left with zeros. */
static void
trace_copy_id(char *dst, struct str id, size_t width)
{
	size_t	 pad = width - id.n;

	memset(dst, '0', pad);
	memcpy(dst + pad, id.p, id.n);
	dst[width] = '\0';
}

int
trace_parse_traceparent(struct str v, struct trace_context *ctx)
{
	unsigned	 version, flags;
	char		 tmp[3];

	trace_context_clear(ctx);
	/* 00-<32>-<16>-<2>: 55 bytes; a later version may add "-..." */
	if (v.p == NULL || v.n < 55 || !trace_hex((struct str){ v.p, 2 }, 2) ||
	    v.p[2] != '-' || v.p[35] != '-' || v.p[52] != '-')
		return 0;
	memcpy(tmp, v.p, 2);
	tmp[2] = '\0';
	version = (unsigned)strtoul(tmp, NULL, 16);
	if (version == 0xff || (version == 0 && v.n != 55) ||
	    (version != 0 && v.n > 55 && v.p[55] != '-'))
		return 0;
	if (!trace_hex((struct str){ v.p + 3, 32 }, 32) ||
	    !trace_hex((struct str){ v.p + 36, 16 }, 16) ||
	    !trace_hex((struct str){ v.p + 53, 2 }, 2) ||
	    trace_zero(v.p + 3, 32) || trace_zero(v.p + 36, 16))
		return 0;
	memcpy(ctx->trace_id, v.p + 3, 32);
	ctx->trace_id[32] = '\0';
	memcpy(ctx->span_id, v.p + 36, 16);
	ctx->span_id[16] = '\0';
	memcpy(tmp, v.p + 53, 2);
	flags = (unsigned)strtoul(tmp, NULL, 16);
	ctx->sampled = (flags & 1) != 0;
	return 1;
}

int
trace_parse_b3(struct str v, struct trace_context *ctx)
{
	const char	*p, *end, *dash;
	struct str	 part[4];
	size_t		 n = 0;

	trace_context_clear(ctx);
	if (v.p == NULL || v.n == 0)
		return 0;
	for (p = v.p, end = v.p + v.n; n < 4; n++) {
		dash = memchr(p, '-', (size_t)(end - p));
		part[n].p = p;
		part[n].n = (size_t)((dash != NULL ? dash : end) - p);
		if (dash == NULL) {
			n++;
			break;
		}
		p = dash + 1;
		if (n == 3)
			return 0;	/* a fifth part */
	}
	if (n == 1) {
		/* only a decision: "0", "1" or "d" */
		if (util_str_eq(part[0], "0"))
			ctx->sampled = 0;
		else if (util_str_eq(part[0], "1"))
			ctx->sampled = 1;
		else if (util_str_eq(part[0], "d"))
			ctx->sampled = ctx->debug = 1;
		else
			return 0;
		ctx->b3 = TRACE_B3_SINGLE;
		return 0;	/* a decision, but no context */
	}
	if ((!trace_hex(part[0], 32) && !trace_hex(part[0], 16)) ||
	    !trace_hex(part[1], 16) || trace_zero(part[0].p, part[0].n) ||
	    trace_zero(part[1].p, 16))
		return 0;
	if (n >= 3) {
		if (util_str_eq(part[2], "1"))
			ctx->sampled = 1;
		else if (util_str_eq(part[2], "0"))
			ctx->sampled = 0;
		else if (util_str_eq(part[2], "d"))
			ctx->sampled = ctx->debug = 1;
		else
			return 0;
	}
	if (n == 4) {
		if (!trace_hex(part[3], 16))
			return 0;
		memcpy(ctx->parent_id, part[3].p, 16);
		ctx->parent_id[16] = '\0';
	}
	trace_copy_id(ctx->trace_id, part[0], 32);
	memcpy(ctx->span_id, part[1].p, 16);
	ctx->span_id[16] = '\0';
	ctx->b3 = TRACE_B3_SINGLE;
	return 1;
}

int
trace_parse_b3_multi(struct str trace_id, struct str span_id,
    struct str parent_id, struct str sampled, struct str flags,
    struct trace_context *ctx)
{
	int	 decision = -1, debug = 0;

	trace_context_clear(ctx);
	if (flags.p != NULL && util_str_eq(flags, "1"))
		debug = 1;
	if (sampled.p != NULL) {
		if (util_str_eq(sampled, "1") || util_str_caseeq(sampled,
		    "true"))
			decision = 1;
		else if (util_str_eq(sampled, "0") ||
		    util_str_caseeq(sampled, "false"))
			decision = 0;
	}
	if (debug)
		decision = 1;
	if (trace_id.p == NULL || span_id.p == NULL ||
	    (!trace_hex(trace_id, 32) && !trace_hex(trace_id, 16)) ||
	    !trace_hex(span_id, 16) || trace_zero(trace_id.p, trace_id.n) ||
	    trace_zero(span_id.p, 16) || (parent_id.p != NULL &&
	    !trace_hex(parent_id, 16))) {
		/* a decision alone still counts */
		ctx->sampled = decision;
		ctx->debug = debug;
		ctx->b3 = decision != -1 ? TRACE_B3_MULTI : TRACE_B3_NONE;
		return 0;
	}
	trace_copy_id(ctx->trace_id, trace_id, 32);
	memcpy(ctx->span_id, span_id.p, 16);
	ctx->span_id[16] = '\0';
	if (parent_id.p != NULL) {
		memcpy(ctx->parent_id, parent_id.p, 16);
		ctx->parent_id[16] = '\0';
	}
	ctx->sampled = decision;
	ctx->debug = debug;
	ctx->b3 = TRACE_B3_MULTI;
	return 1;
}

int
trace_context_read(struct trace_context *ctx,
    struct str (*get)(const char *, void *), void *arg)
{
	struct trace_context	 b3, w3c;
	struct str		 single;
	int			 has_b3, has_w3c, form;

	/* the b3 header, when sent, is the caller's B3: x-b3-* not read */
	single = get("b3", arg);
	if (single.p != NULL) {
		has_b3 = trace_parse_b3(single, &b3);
		form = TRACE_B3_SINGLE;
	} else {
		has_b3 = trace_parse_b3_multi(get("x-b3-traceid", arg),
		    get("x-b3-spanid", arg), get("x-b3-parentspanid", arg),
		    get("x-b3-sampled", arg), get("x-b3-flags", arg), &b3);
		form = TRACE_B3_MULTI;
	}
	has_w3c = trace_parse_traceparent(get("traceparent", arg), &w3c);
	if (has_b3)
		*ctx = b3;
	else if (has_w3c) {
		*ctx = w3c;
		/* a B3 decision alone overrides traceparent's flag */
		if (b3.sampled != -1) {
			ctx->sampled = b3.sampled;
			ctx->debug = b3.debug;
		}
	} else {
		trace_context_clear(ctx);
		ctx->sampled = b3.sampled;
		ctx->debug = b3.debug;
	}
	ctx->b3 = single.p != NULL || b3.b3 != TRACE_B3_NONE ? form :
	    TRACE_B3_NONE;
	/* tracestate belongs to the traceparent it came with (W3C 4.3) */
	ctx->keep_state = has_w3c && strcmp(ctx->trace_id, w3c.trace_id) == 0;
	return has_b3 || has_w3c;
}

void
trace_random_hex(char *out, size_t nbytes)
{
	uint64_t	 r;
	size_t		 i, k;

	do {
		for (i = 0; i < nbytes; i += k) {
			r = util_random();
			k = nbytes - i < 8 ? nbytes - i : 8;
			util_put_hex(out + 2 * i, &r, k);
		}
		out[2 * nbytes] = '\0';
	} while (trace_zero(out, 2 * nbytes));
}

int
trace_sample(uint32_t ppm)
{
	if (ppm >= 1000000u)
		return 1;
	if (ppm == 0)
		return 0;
	return util_random() % 1000000u < ppm;
}

void
trace_context_write(const struct trace_context *ctx, const char *span_id,
    void (*set)(const char *, const char *, void *), void *arg)
{
	char		 value[80];
	const char	*tid, *decision;
	int		 sampled = ctx->sampled == 1 || ctx->debug;
	int		 parent = ctx->span_id[0] != '\0';

	/* 00-<trace>-<span>-<flags>, without printf: once per request */
	if (strlen(ctx->trace_id) == 32 && strlen(span_id) == 16) {
		memcpy(value, "00-", 3);
		memcpy(value + 3, ctx->trace_id, 32);
		value[35] = '-';
		memcpy(value + 36, span_id, 16);
		memcpy(value + 52, sampled ? "-01" : "-00", 4);
	} else
		snprintf(value, sizeof(value), "00-%s-%s-%s", ctx->trace_id,
		    span_id, sampled ? "01" : "00");
	set("traceparent", value, arg);
	if (!ctx->keep_state)
		set("tracestate", NULL, arg);
	/* a 64-bit trace stays 64-bit for B3 peers */
	tid = trace_zero(ctx->trace_id, 16) ? ctx->trace_id + 16 :
	    ctx->trace_id;
	decision = ctx->debug ? "d" : sampled ? "1" : "0";
	if (ctx->b3 == TRACE_B3_SINGLE) {
		snprintf(value, sizeof(value), "%s-%s-%s%s%s", tid, span_id,
		    decision, parent ? "-" : "", parent ? ctx->span_id : "");
		set("b3", value, arg);
		set("x-b3-traceid", NULL, arg);
		set("x-b3-spanid", NULL, arg);
		set("x-b3-parentspanid", NULL, arg);
		set("x-b3-sampled", NULL, arg);
		set("x-b3-flags", NULL, arg);
		return;
	}
	set("b3", NULL, arg);
	set("x-b3-traceid", tid, arg);
	set("x-b3-spanid", span_id, arg);
	set("x-b3-parentspanid", parent ? ctx->span_id : NULL, arg);
	/* debug implies sampled: B3 sends x-b3-flags alone then */
	set("x-b3-sampled", ctx->debug ? NULL : decision, arg);
	set("x-b3-flags", ctx->debug ? "1" : NULL, arg);
}

/* Span strings are packed in one buffer: add one, NUL-terminated. */
static void
trace_span_add(struct sbuf *b, const char *prefix, struct str v)
{
	if (prefix != NULL)
		sbuf_adds(b, prefix);
	if (v.p != NULL)
		sbuf_add(b, v.p, v.n);
	sbuf_addc(b, '\0');
}

struct span *
trace_span_new(const struct record *r, const struct trace_span_config *cfg)
{
	struct span		*sp;
	struct sbuf		 b;
	struct str		 app, ns, wl, version, svc_name, svc_ns, v;
	const struct record_peer *self;
	size_t			 offs[2 + 2 * TRACE_MAX_TAGS + 1], n = 0, i;
	size_t			 nk = 0;
	char			 num[24];
	const char		*remote;
	struct str		 remote_s = { NULL, 0 }, path;
	char			 peer[64];
	int			 peer_port;
	uint32_t		 max_path;

	if (r->trace_id.p == NULL || r->span_id.p == NULL ||
	    !(r->has & RECORD_HAS_SAMPLED) || !r->sampled)
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	trace_copy_id(sp->trace_id, r->trace_id, 32);
	memcpy(sp->span_id, r->span_id.p, 16);
	if (r->parent_span_id.p != NULL)
		memcpy(sp->parent_id, r->parent_span_id.p, 16);
	sp->kind = r->reporter == RECORD_DESTINATION ? TRACE_SERVER :
	    TRACE_CLIENT;
	sp->start_us = r->start_us;
	sp->duration_us = r->duration_us != 0 ? r->duration_us : 1;
	sp->code = r->code;
	sp->error = record_is_error(r);

	self = r->reporter == RECORD_DESTINATION ? &r->destination :
	    &r->source;
	app = self->app.p != NULL ? self->app : self->workload;
	ns = self->namespace.p != NULL ? self->namespace :
	    STR_LIT("default");
	wl = self->workload;
	version = self->version;
	record_service_parts(r, &svc_name, &svc_ns);

	sbuf_init(&b, 0);
	/* the name: host:port, a slash and a star */
	offs[n++] = b.len;
	sbuf_addstr(&b, r->service.p != NULL ? r->service : r->authority);
	if (r->has & RECORD_HAS_PORT)
		sbuf_printf(&b, ":%u", r->port);
	sbuf_add(&b, "/*", 3);
	/* the local service: app.namespace */
	offs[n++] = b.len;
	if (app.p != NULL)
		sbuf_addstr(&b, app);
	else
		sbuf_adds(&b, "unknown");
	sbuf_addc(&b, '.');
	sbuf_addstr(&b, ns);
	sbuf_addc(&b, '\0');

#define TAG(k, v) do {							\
	if ((v).p != NULL && nk < TRACE_MAX_TAGS) {			\
		offs[n++] = b.len;					\
		trace_span_add(&b, NULL, STR_LIT(k));			\
		offs[n++] = b.len;					\
		trace_span_add(&b, NULL, (v));				\
		nk++;							\
	}								\
} while (0)
	TAG("component", STR_LIT("proxy"));
	TAG("http.method", r->method);
	if (r->path.p != NULL) {
		/* Envoy's: the path cut at max_path_tag_length */
		max_path = cfg != NULL && cfg->max_path_length != 0 ?
		    cfg->max_path_length : TRACE_DEFAULT_PATH_LENGTH;
		path = r->path;
		if (path.n > max_path)
			path.n = max_path;
		offs[n++] = b.len;
		trace_span_add(&b, NULL, STR_LIT("http.url"));
		offs[n++] = b.len;
		sbuf_adds(&b, "http://");
		sbuf_addstr(&b, r->authority);
		trace_span_add(&b, NULL, path);
		nk++;
	}
	TAG("http.protocol", r->protocol.p != NULL ? r->protocol :
	    STR_LIT("HTTP/1.1"));
	snprintf(num, sizeof(num), "%u", r->code);
	TAG("http.status_code", ((struct str){ num, strlen(num) }));
	TAG("response_flags", r->flags.p != NULL ? r->flags : STR_LIT("-"));
	/* bodies only, as Envoy's bytesReceived and bytesSent */
	snprintf(num, sizeof(num), "%llu", (unsigned long long)
	    r->request_bytes);
	TAG("request_size", ((struct str){ num, strlen(num) }));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)
	    r->response_bytes);
	TAG("response_size", ((struct str){ num, strlen(num) }));
	TAG("upstream_cluster", r->upstream_cluster);
	TAG("upstream_cluster.name", r->upstream_cluster);
	/* Istio's service tags, with the defaults Istio gives them */
	TAG("istio.canonical_service", app);
	TAG("istio.canonical_revision", version.p != NULL ? version :
	    STR_LIT("latest"));
	TAG("istio.namespace", ns);
	TAG("istio.mesh_id", cfg != NULL && cfg->mesh_id != NULL ?
	    ((struct str){ cfg->mesh_id, strlen(cfg->mesh_id) }) :
	    STR_LIT("unknown"));
	TAG("node_id", wl);
	v = record_request_header(r, "user-agent");
	TAG("user_agent", v.p != NULL ? v : STR_LIT("-"));
	/* x-envoy-downstream-service-cluster: never set by meshkit */
	TAG("downstream_cluster", STR_LIT("-"));
	TAG("guid:x-request-id", record_request_header(r, "x-request-id"));
	TAG("destination.service", r->service);
	TAG("destination.service.name", svc_name);
	TAG("meshkit.reporter", r->reporter == RECORD_SOURCE ?
	    STR_LIT("source") : STR_LIT("destination"));
	/* Envoy's: the downstream's direct remote IP, no port */
	if (r->downstream_remote.p != NULL && util_split_hostport(
	    r->downstream_remote.p, r->downstream_remote.n, peer,
	    sizeof(peer), &peer_port, -1) == 0)
		TAG("peer.address", ((struct str){ peer, strlen(peer) }));
	TAG("upstream_address", r->upstream_host);
	remote_s = sp->kind == TRACE_SERVER ? r->downstream_remote :
	    r->upstream_host;
	if (sp->error)
		TAG("error", STR_LIT("true"));
#undef TAG
	/* the remote endpoint, when its address is numeric */
	remote = NULL;
	if (remote_s.p != NULL) {
		char	 host[64];
		int	 port;

		if (util_split_hostport(remote_s.p, remote_s.n, host,
		    sizeof(host), &port, -1) == 0) {
			unsigned char	 a[16];

			if (inet_pton(AF_INET, host, a) == 1 ||
			    inet_pton(AF_INET6, host, a) == 1) {
				offs[n++] = b.len;
				trace_span_add(&b, NULL, (struct str){ host,
				    strlen(host) });
				remote = "";
				sp->remote_port = port > 0 ? (uint32_t)port : 0;
			}
		}
	}
	if (b.overflow) {
		sbuf_fini(&b);
		free(sp);
		return NULL;
	}
	sp->strings = b.buf;
	sp->size = sizeof(*sp) + b.cap + 2 * nk * sizeof(char *);
	sp->name = sp->strings + offs[0];
	sp->service = sp->strings + offs[1];
	sp->keys = xcalloc(nk != 0 ? nk : 1, sizeof(*sp->keys));
	sp->values = xcalloc(nk != 0 ? nk : 1, sizeof(*sp->values));
	for (i = 0; i < nk; i++) {
		sp->keys[i] = sp->strings + offs[2 + 2 * i];
		sp->values[i] = sp->strings + offs[3 + 2 * i];
	}
	sp->ntags = nk;
	if (remote != NULL)
		sp->remote = sp->strings + offs[2 + 2 * nk];
	return sp;
}

void
trace_span_free(struct span *sp)
{
	if (sp == NULL)
		return;
	free(sp->strings);
	free(sp->keys);
	free(sp->values);
	free(sp);
}

static void
trace_endpoint(struct sbuf *b, const char *address, uint32_t port)
{
	sbuf_adds(b, strchr(address, ':') != NULL ? "{\"ipv6\":" :
	    "{\"ipv4\":");
	sbuf_json_string(b, address, strlen(address));
	if (port != 0)
		sbuf_printf(b, ",\"port\":%u", port);
	sbuf_addc(b, '}');
}

void
trace_zipkin_write(struct sbuf *b, struct span *const *spans, size_t n)
{
	const struct span	*sp;
	size_t			 i, t;

	sbuf_addc(b, '[');
	for (i = 0; i < n; i++) {
		sp = spans[i];
		if (i > 0)
			sbuf_addc(b, ',');
		sbuf_printf(b, "{\"traceId\":\"%s\",\"id\":\"%s\",",
		    sp->trace_id, sp->span_id);
		if (sp->parent_id[0] != '\0')
			sbuf_printf(b, "\"parentId\":\"%s\",", sp->parent_id);
		sbuf_adds(b, "\"name\":");
		sbuf_json_string(b, sp->name, strlen(sp->name));
		sbuf_printf(b, ",\"kind\":\"%s\",\"timestamp\":%llu,"
		    "\"duration\":%llu,\"localEndpoint\":{\"serviceName\":",
		    sp->kind == TRACE_SERVER ? "SERVER" : "CLIENT",
		    (unsigned long long)sp->start_us,
		    (unsigned long long)sp->duration_us);
		sbuf_json_string(b, sp->service, strlen(sp->service));
		sbuf_addc(b, '}');
		if (sp->remote != NULL) {
			sbuf_adds(b, ",\"remoteEndpoint\":");
			trace_endpoint(b, sp->remote, sp->remote_port);
		}
		sbuf_adds(b, ",\"tags\":{");
		for (t = 0; t < sp->ntags; t++) {
			if (t > 0)
				sbuf_addc(b, ',');
			sbuf_json_string(b, sp->keys[t], strlen(sp->keys[t]));
			sbuf_addc(b, ':');
			sbuf_json_string(b, sp->values[t],
			    strlen(sp->values[t]));
		}
		sbuf_add(b, "}}", 2);
	}
	sbuf_addc(b, ']');
}

void
trace_otlp_write(struct sbuf *b, struct span *const *spans, size_t n)
{
	const struct span	*sp;
	size_t			 i, j, t;
	int			 first_group = 1, first_span;

	sbuf_adds(b, "{\"resourceSpans\":[");
	for (i = 0; i < n; i++) {
		/* one resource per service, at its first span */
		for (j = 0; j < i; j++)
			if (strcmp(spans[j]->service, spans[i]->service) == 0)
				break;
		if (j < i)
			continue;
		if (!first_group)
			sbuf_addc(b, ',');
		first_group = 0;
		sbuf_adds(b, "{\"resource\":{\"attributes\":[{\"key\":"
		    "\"service.name\",\"value\":{\"stringValue\":");
		sbuf_json_string(b, spans[i]->service,
		    strlen(spans[i]->service));
		sbuf_adds(b, "}}]},\"scopeSpans\":[{\"scope\":{\"name\":"
		    "\"meshkit\"},\"spans\":[");
		first_span = 1;
		for (j = i; j < n; j++) {
			sp = spans[j];
			if (strcmp(sp->service, spans[i]->service) != 0)
				continue;
			if (!first_span)
				sbuf_addc(b, ',');
			first_span = 0;
			sbuf_printf(b, "{\"traceId\":\"%s\",\"spanId\":"
			    "\"%s\",", sp->trace_id, sp->span_id);
			if (sp->parent_id[0] != '\0')
				sbuf_printf(b, "\"parentSpanId\":\"%s\",",
				    sp->parent_id);
			sbuf_adds(b, "\"name\":");
			sbuf_json_string(b, sp->name, strlen(sp->name));
			/* SPAN_KIND_SERVER 2, SPAN_KIND_CLIENT 3 */
			sbuf_printf(b, ",\"kind\":%d,\"startTimeUnixNano\":"
			    "\"%llu000\",\"endTimeUnixNano\":\"%llu000\","
			    "\"attributes\":[", sp->kind == TRACE_SERVER ?
			    2 : 3, (unsigned long long)sp->start_us,
			    (unsigned long long)(sp->start_us +
			    sp->duration_us));
			for (t = 0; t < sp->ntags; t++) {
				if (t > 0)
					sbuf_addc(b, ',');
				sbuf_adds(b, "{\"key\":");
				sbuf_json_string(b, sp->keys[t],
				    strlen(sp->keys[t]));
				if (strcmp(sp->keys[t], "http.status_code") ==
				    0)
					sbuf_printf(b, ",\"value\":{\"intValue\":"
					    "\"%s\"}}", sp->values[t]);
				else {
					sbuf_adds(b, ",\"value\":"
					    "{\"stringValue\":");
					sbuf_json_string(b, sp->values[t],
					    strlen(sp->values[t]));
					sbuf_add(b, "}}", 2);
				}
			}
			/* STATUS_CODE_ERROR 2, else unset */
			sbuf_printf(b, "],\"status\":{\"code\":%d}}",
			    sp->error ? 2 : 0);
		}
		sbuf_add(b, "]}]}", 4);
	}
	sbuf_add(b, "]}", 2);
}
