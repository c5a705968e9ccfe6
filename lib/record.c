/* SPDX-License-Identifier: ISC */
/*
 * meshkit-ipc(7) "records": the reader and the writer of the per-request
 * record.
 *
 * The reader runs once per record in stats-d, so a field's key is found
 * in one table that says where its value goes (offsetof into struct
 * record) and how to read it: by its position in the writer's order when
 * the message was parsed with record_keys (msg_parse_keyed), else by a
 * hash; no allocation, no copy.  Required fields are three; everything
 * else is optional and unknown when absent.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "util.h"

enum record_kind {
	KIND_STR,		/* struct str at off */
	KIND_U64,		/* uint64_t at off, has |= bit */
	KIND_U32,		/* uint32_t at off, max, has |= bit */
	KIND_HEX,		/* struct str at off: lower-case hex, lens */
	KIND_REPORTER,
	KIND_SAMPLED,
	KIND_REQUEST_HEADER,
	KIND_RESPONSE_HEADER,
};

#define REQ_REPORTER	0x1
#define REQ_START	0x2
#define REQ_DURATION	0x4
#define REQ_ALL		(REQ_REPORTER | REQ_START | REQ_DURATION)

struct record_field {
	const char	*key;
	enum record_kind kind;
	size_t		 off;
	unsigned	 bit;		/* RECORD_HAS_*, or REQ_* if required */
	uint32_t	 max;		/* KIND_U32 */
	int		 required;
};

#define F_STR(k, m)	{ k, KIND_STR, offsetof(struct record, m), 0, 0, 0 }
#define F_U64(k, m, b)	{ k, KIND_U64, offsetof(struct record, m), b, 0, 0 }
#define F_REQ(k, m, b)	{ k, KIND_U64, offsetof(struct record, m), b, 0, 1 }
#define F_U32(k, m, b, x) \
	{ k, KIND_U32, offsetof(struct record, m), b, x, 0 }
#define F_HEX(k, m)	{ k, KIND_HEX, offsetof(struct record, m), 0, 0, 0 }

/* Sorted by key (strcmp order), for the reader; record_field_find hashes. */
static const struct record_field record_fields[] = {
	F_U32("attempts", attempts, RECORD_HAS_ATTEMPTS, 1000000),
	F_STR("authority", authority),
	F_U32("code", code, RECORD_HAS_CODE, 599),
	F_STR("destination-app", destination.app),
	F_STR("destination-namespace", destination.namespace),
	F_STR("destination-principal", destination.principal),
	F_STR("destination-version", destination.version),
	F_STR("destination-workload", destination.workload),
	F_STR("details", details),
	F_STR("downstream-local", downstream_local),
	F_STR("downstream-remote", downstream_remote),
	F_REQ("duration-us", duration_us, REQ_DURATION),
	F_STR("flags", flags),
	F_STR("grpc-status", grpc_status),
	F_STR("method", method),
	F_STR("original-path", original_path),
	F_HEX("parent-span-id", parent_span_id),
	F_STR("path", path),
	F_U32("port", port, RECORD_HAS_PORT, 65535),
	F_STR("protocol", protocol),
	{ "reporter", KIND_REPORTER, 0, REQ_REPORTER, 0, 1 },
	F_U64("request-bytes", request_bytes, RECORD_HAS_REQUEST_BYTES),
	F_U64("request-duration-us", request_duration_us,
	    RECORD_HAS_REQUEST_DURATION),
	F_U64("request-head-bytes", request_head_bytes,
	    RECORD_HAS_REQUEST_HEAD),
	{ "request-header", KIND_REQUEST_HEADER, 0, 0, 0, 0 },
	F_STR("request-protocol", request_protocol),
	F_U64("response-bytes", response_bytes, RECORD_HAS_RESPONSE_BYTES),
	F_U64("response-head-bytes", response_head_bytes,
	    RECORD_HAS_RESPONSE_HEAD),
	{ "response-header", KIND_RESPONSE_HEADER, 0, 0, 0, 0 },
	F_U64("response-start-us", response_start_us,
	    RECORD_HAS_RESPONSE_START),
	F_STR("route-name", route_name),
	{ "sampled", KIND_SAMPLED, 0, 0, 0, 0 },
	F_STR("security", security),
	F_STR("service", service),
	F_STR("service-name", service_name),
	F_STR("service-namespace", service_namespace),
	F_STR("sni", sni),
	F_STR("source-app", source.app),
	F_STR("source-namespace", source.namespace),
	F_STR("source-principal", source.principal),
	F_STR("source-version", source.version),
	F_STR("source-workload", source.workload),
	F_HEX("span-id", span_id),
	F_REQ("start-us", start_us, REQ_START),
	F_HEX("trace-id", trace_id),
	F_STR("upstream-cluster", upstream_cluster),
	F_STR("upstream-failure", upstream_failure),
	F_STR("upstream-host", upstream_host),
	F_STR("upstream-local", upstream_local),
	F_U64("upstream-us", upstream_us, RECORD_HAS_UPSTREAM),
};

static const struct record_field *record_field_find(struct str);
static int	record_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	record_hex_ok(struct str, const struct record_field *);
static int	record_header_read(struct str, struct record_header *);
static void	record_peer_default(struct record_peer *,
		    const struct record_peer *);
static void	record_str_field(struct msg_writer *, const char *,
		    struct str);
static struct str record_header_get(const struct record_header *, size_t,
		    const char *);

static int
record_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * The keys in an open-addressed table, made once: a record's thirty-odd
 * fields cost a hash of three bytes and the length, and one compare.
 */
#define RECORD_FIELD_SLOTS	256	/* five times the fields */
#define RECORD_FIELD_HASH(p, n)	((((unsigned)(n) * 31u) ^		\
	((unsigned char)(p)[0] * 7u) ^ ((unsigned char)(p)[(n) - 1] * 3u) ^ \
	((unsigned char)(p)[(n) / 2] * 11u)) & (RECORD_FIELD_SLOTS - 1))
static unsigned char	 record_field_slot[RECORD_FIELD_SLOTS];
static unsigned char	 record_field_len[nitems(record_fields)];
static pthread_once_t	 record_field_once = PTHREAD_ONCE_INIT;
/* The bytes of a hex id; of a header name (a lower-case token). */
static unsigned char	 record_hexchar[256];
static unsigned char	 record_namechar[256];

/*
 * The keys in record_write's order, and the field each is: found once by
 * writing a record with every field, so the order cannot drift from the
 * writer's.
 */
static const char	*record_order_key[nitems(record_fields)];
static unsigned char	 record_order_len[nitems(record_fields)];
static unsigned char	 record_order_field[nitems(record_fields)];
static struct msg_keys	 record_order = {
	record_order_key, record_order_len, 0
};
_Static_assert(nitems(record_fields) < MSG_KEY_NONE,
    "a field's place in the order fits msg_keys");

static void
record_order_init(void)
{
	static const char	 hex[] = "0123456789abcdef";
	struct record		 full;
	struct msg_writer	 w;
	struct msg		 m;
	const struct record_field *rf;
	unsigned char		 seen[nitems(record_fields)] = { 0 };
	size_t			 i, j;

	memset(&full, 0, sizeof(full));
	for (i = 0; i < nitems(record_fields); i++)
		if (record_fields[i].kind == KIND_STR ||
		    record_fields[i].kind == KIND_HEX)
			*(struct str *)((char *)&full + record_fields[i].off) =
			    (struct str){ hex, 16 };
	full.has = ~0u;
	full.code = 200;
	full.request_headers[0].name = full.request_headers[0].value =
	    STR_LIT("x");
	full.response_headers[0] = full.request_headers[0];
	full.nrequest_headers = full.nresponse_headers = 1;
	msgw_init(&w);
	msgw_begin(&w, "records");
	record_write(&w, &full);
	msg_init(&m);
	if (msg_parse(&m, w.buf, w.len, NULL, 0) == 0 && m.nrecords == 1)
		for (j = m.records[0].first; j < m.records[0].first +
		    m.records[0].count; j++) {
			if ((rf = record_field_find(m.fields[j].key)) == NULL ||
			    seen[rf - record_fields]++ > 0)
				continue;
			i = record_order.n++;
			record_order_key[i] = rf->key;
			record_order_len[i] = record_field_len[rf -
			    record_fields];
			record_order_field[i] = (unsigned char)(rf -
			    record_fields);
		}
	msg_fini(&m);
	msgw_fini(&w);
}

static void
record_field_init(void)
{
	const char	*s;
	size_t		 i, j, n;

	memset(record_field_slot, 0xff, sizeof(record_field_slot));
	for (s = "0123456789abcdef"; *s != '\0'; s++)
		record_hexchar[(unsigned char)*s] = 1;
	/* RFC 9110 5.6.2 tchar, less the upper case meshkit-ipc(7) forbids */
	for (s = "0123456789abcdefghijklmnopqrstuvwxyz!#$%&'*+-.^_`|~";
	    *s != '\0'; s++)
		record_namechar[(unsigned char)*s] = 1;
	for (i = 0; i < nitems(record_fields); i++) {
		n = strlen(record_fields[i].key);
		record_field_len[i] = (unsigned char)n;
		j = RECORD_FIELD_HASH(record_fields[i].key, n);
		while (record_field_slot[j] != 0xff)
			j = (j + 1) & (RECORD_FIELD_SLOTS - 1);
		record_field_slot[j] = (unsigned char)i;
	}
	record_order_init();
}

const struct msg_keys *
record_keys(void)
{
	pthread_once(&record_field_once, record_field_init);
	return &record_order;
}

/* The tables must be made: record_read does it once per record. */
static const struct record_field *
record_field_find(struct str key)
{
	size_t	 j;
	unsigned char i;

	if (key.n == 0 || key.n > 64)
		return NULL;
	j = RECORD_FIELD_HASH(key.p, key.n);
	while ((i = record_field_slot[j]) != 0xff) {
		if (record_field_len[i] == key.n &&
		    util_short_eq(record_fields[i].key, key.p, key.n))
			return &record_fields[i];
		j = (j + 1) & (RECORD_FIELD_SLOTS - 1);
	}
	return NULL;
}

/* A trace id is 32 digits (or 16, B3's 64-bit ids), a span id 16. */
static int
record_hex_ok(struct str v, const struct record_field *f)
{
	size_t	 i;

	if (f->off == offsetof(struct record, trace_id)) {
		if (v.n != 32 && v.n != 16)
			return 0;
	} else if (v.n != 16)
		return 0;
	for (i = 0; i < v.n; i++)
		if (!record_hexchar[(unsigned char)v.p[i]])
			return 0;
	return 1;
}

/* "name: value" or "name:value"; the name a lower-case token. */
static int
record_header_read(struct str v, struct record_header *h)
{
	const char	*colon;
	size_t		 i;

	if ((colon = memchr(v.p, ':', v.n)) == NULL || colon == v.p)
		return -1;
	h->name.p = v.p;
	h->name.n = (size_t)(colon - v.p);
	for (i = 0; i < h->name.n; i++)
		if (!record_namechar[(unsigned char)h->name.p[i]])
			return -1;
	h->value.p = colon + 1;
	h->value.n = v.n - h->name.n - 1;
	if (h->value.n > 0 && h->value.p[0] == ' ') {
		h->value.p++;
		h->value.n--;
	}
	return 0;
}

int
record_batch_read(const struct msg *m, struct record_batch *b, char *err,
    size_t errlen)
{
	const struct msg_field	*f;
	struct str		 v, k, val;
	const char		*sep;
	size_t			 i;
	uint64_t		 n;

	memset(b, 0, sizeof(*b));
	for (i = m->header.first; i < m->header.first + m->header.count;
	    i++) {
		f = &m->fields[i];
		v = f->value;
		if (util_str_eq(f->key, "workload")) {
			if (b->self.workload.p == NULL && v.n > 0)
				b->self.workload = v;
		} else if (util_str_eq(f->key, "namespace")) {
			if (b->self.namespace.p == NULL && v.n > 0)
				b->self.namespace = v;
		} else if (util_str_eq(f->key, "principal")) {
			if (b->self.principal.p == NULL && v.n > 0)
				b->self.principal = v;
		} else if (util_str_eq(f->key, "pid")) {
			if (msg_str_u64(v, &b->pid) == -1)
				return record_fail(err, errlen, "bad pid "
				    "\"%.*s\"", (int)(v.n < 32 ? v.n : 32),
				    v.p);
		} else if (util_str_eq(f->key, "label")) {
			if ((sep = memchr(v.p, '=', v.n)) == NULL ||
			    sep == v.p)
				return record_fail(err, errlen, "bad label "
				    "\"%.*s\"", (int)(v.n < 64 ? v.n : 64),
				    v.p);
			k = (struct str){ v.p, (size_t)(sep - v.p) };
			val = (struct str){ sep + 1, v.n - k.n - 1 };
			if (val.n == 0)
				continue;
			/* the first of each pair wins */
			if (util_str_eq(k, "app") || util_str_eq(k,
			    "app.kubernetes.io/name")) {
				if (b->self.app.p == NULL ||
				    util_str_eq(k, "app"))
					b->self.app = val;
			} else if (util_str_eq(k, "version") ||
			    util_str_eq(k, "app.kubernetes.io/version")) {
				if (b->self.version.p == NULL ||
				    util_str_eq(k, "version"))
					b->self.version = val;
			}
		} else if (util_str_eq(f->key, "counter")) {
			if ((sep = memchr(v.p, ' ', v.n)) == NULL ||
			    sep == v.p || sep - v.p > MSG_MAX_KEY ||
			    msg_str_u64((struct str){ sep + 1,
			    v.n - (size_t)(sep - v.p) - 1 }, &n) == -1)
				return record_fail(err, errlen, "bad counter "
				    "\"%.*s\"", (int)(v.n < 80 ? v.n : 80),
				    v.p);
			k = (struct str){ v.p, (size_t)(sep - v.p) };
			for (size_t j = 0; j < k.n; j++)
				if (!((k.p[j] >= 'a' && k.p[j] <= 'z') ||
				    (k.p[j] >= '0' && k.p[j] <= '9') ||
				    k.p[j] == '-'))
					return record_fail(err, errlen,
					    "bad counter name \"%.*s\"",
					    (int)k.n, k.p);
			if (b->ncounters < RECORD_MAX_COUNTERS) {
				b->counters[b->ncounters].name = k;
				b->counters[b->ncounters++].value = n;
			}
		}
	}
	return 0;
}

static void
record_peer_default(struct record_peer *p, const struct record_peer *self)
{
	if (p->workload.p == NULL)
		p->workload = self->workload;
	if (p->namespace.p == NULL)
		p->namespace = self->namespace;
	if (p->app.p == NULL)
		p->app = self->app;
	if (p->version.p == NULL)
		p->version = self->version;
	if (p->principal.p == NULL)
		p->principal = self->principal;
}

/* The header arrays (1 KiB) are read only up to their counts. */
void
record_clear(struct record *r)
{
	memset(r, 0, offsetof(struct record, request_headers));
	r->nrequest_headers = 0;
	r->nresponse_headers = 0;
}

int
record_read(const struct msg *m, const struct msg_block *blk,
    const struct record_batch *b, struct record *r, char *err, size_t errlen)
{
	const struct msg_field	*f;
	const struct record_field *rf;
	const unsigned char	*ids;
	unsigned		 required = 0;
	uint64_t		 n;
	size_t			 i;
	char			*base = (char *)r;

	pthread_once(&record_field_once, record_field_init);
	ids = m->keyed == &record_order ? m->keyids : NULL;
	record_clear(r);
	for (i = blk->first; i < blk->first + blk->count; i++) {
		f = &m->fields[i];
		if (ids != NULL && ids[i] != MSG_KEY_NONE)
			rf = &record_fields[record_order_field[ids[i]]];
		else if ((rf = record_field_find(f->key)) == NULL)
			continue;	/* unknown keys are ignored */
		switch (rf->kind) {
		case KIND_STR:
			/* the first occurrence counts; empty is unknown */
			if (((struct str *)(base + rf->off))->p == NULL &&
			    f->value.n > 0)
				*(struct str *)(base + rf->off) = f->value;
			break;
		case KIND_HEX:
			if (!record_hex_ok(f->value, rf))
				return record_fail(err, errlen, "bad %s "
				    "\"%.*s\"", rf->key, (int)(f->value.n < 40 ?
				    f->value.n : 40), f->value.p);
			if (((struct str *)(base + rf->off))->p == NULL)
				*(struct str *)(base + rf->off) = f->value;
			break;
		case KIND_U64:
		case KIND_U32:
			if (rf->required ? (required & rf->bit) :
			    (r->has & rf->bit))
				break;
			if (msg_str_u64(f->value, &n) == -1 ||
			    (rf->kind == KIND_U32 && n > rf->max))
				return record_fail(err, errlen, "bad %s "
				    "\"%.*s\"", rf->key, (int)(f->value.n < 24 ?
				    f->value.n : 24), f->value.p);
			if (rf->kind == KIND_U64)
				*(uint64_t *)(base + rf->off) = n;
			else
				*(uint32_t *)(base + rf->off) = (uint32_t)n;
			if (rf->required)
				required |= rf->bit;
			else
				r->has |= rf->bit;
			break;
		case KIND_REPORTER:
			if (required & REQ_REPORTER)
				break;
			if (util_str_eq(f->value, "source"))
				r->reporter = RECORD_SOURCE;
			else if (util_str_eq(f->value, "destination"))
				r->reporter = RECORD_DESTINATION;
			else
				return record_fail(err, errlen, "bad reporter "
				    "\"%.*s\"", (int)(f->value.n < 24 ?
				    f->value.n : 24), f->value.p);
			required |= REQ_REPORTER;
			break;
		case KIND_SAMPLED:
			if (r->has & RECORD_HAS_SAMPLED)
				break;
			if (util_str_eq(f->value, "1"))
				r->sampled = 1;
			else if (util_str_eq(f->value, "0"))
				r->sampled = 0;
			else
				return record_fail(err, errlen, "bad sampled "
				    "\"%.*s\"", (int)(f->value.n < 24 ?
				    f->value.n : 24), f->value.p);
			r->has |= RECORD_HAS_SAMPLED;
			break;
		case KIND_REQUEST_HEADER:
			if (r->nrequest_headers == RECORD_MAX_HEADERS)
				break;
			if (record_header_read(f->value,
			    &r->request_headers[r->nrequest_headers]) == -1)
				return record_fail(err, errlen, "bad "
				    "request-header");
			r->nrequest_headers++;
			break;
		case KIND_RESPONSE_HEADER:
			if (r->nresponse_headers == RECORD_MAX_HEADERS)
				break;
			if (record_header_read(f->value,
			    &r->response_headers[r->nresponse_headers]) == -1)
				return record_fail(err, errlen, "bad "
				    "response-header");
			r->nresponse_headers++;
			break;
		}
	}
	if ((required & REQ_ALL) != REQ_ALL)
		return record_fail(err, errlen, "missing %s",
		    !(required & REQ_REPORTER) ? "reporter" :
		    !(required & REQ_START) ? "start-us" : "duration-us");
	if (r->code != 0 && r->code < 100)
		return record_fail(err, errlen, "bad code %u", r->code);
	if (r->parent_span_id.p != NULL && r->span_id.p == NULL)
		return record_fail(err, errlen, "parent-span-id without "
		    "span-id");
	if ((r->span_id.p != NULL) != (r->trace_id.p != NULL))
		return record_fail(err, errlen, "span-id and trace-id go "
		    "together");
	if (b != NULL)
		record_peer_default(r->reporter == RECORD_SOURCE ?
		    &r->source : &r->destination, &b->self);
	r->from_msg = 1;
	return 0;
}

static void
record_str_field(struct msg_writer *w, const char *key, struct str v)
{
	if (v.p != NULL && v.n > 0)
		msgw_field(w, key, v);
}

void
record_batch_write(struct msg_writer *w, const struct record_batch *b,
    const char *const *labels, size_t nlabels)
{
	size_t	 i;

	msgw_begin(w, "records");
	record_str_field(w, "workload", b->self.workload);
	record_str_field(w, "namespace", b->self.namespace);
	for (i = 0; i < nlabels; i++)
		msgw_field(w, "label", (struct str){ labels[i],
		    strlen(labels[i]) });
	record_str_field(w, "principal", b->self.principal);
	if (b->pid != 0)
		msgw_field_u64(w, "pid", b->pid);
	for (i = 0; i < b->ncounters; i++)
		msgw_fieldf(w, "counter", "%.*s %llu",
		    (int)b->counters[i].name.n, b->counters[i].name.p,
		    (unsigned long long)b->counters[i].value);
}

/*
 * One record written straight into the message: one reservation for
 * all its fields, keys of known length, no per-field calls.  This runs
 * for every request a proxy serves.
 */
#define RECORD_FIXED_BYTES	4096	/* keys, numbers, separators */

static inline char *
record_put_key(char *p, const char *key, size_t kn)
{
	memcpy(p, key, kn);
	p[kn] = ':';
	p[kn + 1] = ' ';
	return p + kn + 2;
}

static char *
record_put_u64(char *p, const char *key, size_t kn, uint64_t v)
{
	p = util_put_u64(record_put_key(p, key, kn), v);
	*p++ = '\n';
	return p;
}

static char *
record_put_str(char *p, const char *key, size_t kn, struct str v)
{
	if (v.p == NULL || v.n == 0)
		return p;
	p = record_put_key(p, key, kn);
	p = msgw_put_value(p, v);
	*p++ = '\n';
	return p;
}

/*
 * "key: name: value" lines, each at most RECORD_MAX_HEADER_LINE bytes
 * after the key: a longer value is cut there (the log's %REQ(X):Z%
 * still has its first bytes), a name that long goes.
 */
static char *
record_put_headers(char *p, const char *key, size_t kn,
    const struct record_header *h, size_t n)
{
	struct str	 v;
	size_t		 i;

	for (i = 0; i < n && i < RECORD_MAX_HEADERS; i++) {
		if (h[i].name.n + 2 >= RECORD_MAX_HEADER_LINE)
			continue;
		v = h[i].value;
		if (h[i].name.n + 2 + v.n > RECORD_MAX_HEADER_LINE)
			v.n = RECORD_MAX_HEADER_LINE - h[i].name.n - 2;
		p = record_put_key(p, key, kn);
		p = msgw_put_value(p, h[i].name);
		*p++ = ':';
		*p++ = ' ';
		p = msgw_put_value(p, v);
		*p++ = '\n';
	}
	return p;
}

static size_t
record_peer_bytes(const struct record_peer *p)
{
	return p->workload.n + p->namespace.n + p->app.n + p->version.n +
	    p->principal.n;
}

#define PUT_STR(k, v)	(p = record_put_str(p, k, sizeof(k) - 1, (v)))
#define PUT_U64(k, v)	(p = record_put_u64(p, k, sizeof(k) - 1, (v)))

void
record_write(struct msg_writer *w, const struct record *r)
{
	const struct record_peer *src = &r->source, *dst = &r->destination;
	size_t	 bound, i;
	char	*p;

	bound = RECORD_FIXED_BYTES + r->flags.n + r->details.n +
	    r->grpc_status.n + r->request_protocol.n + r->protocol.n +
	    r->method.n + r->path.n + r->original_path.n + r->authority.n +
	    r->service.n + r->service_name.n + r->service_namespace.n +
	    r->security.n + record_peer_bytes(src) + record_peer_bytes(dst) +
	    r->upstream_host.n + r->upstream_cluster.n + r->upstream_local.n +
	    r->downstream_local.n + r->downstream_remote.n + r->sni.n +
	    r->route_name.n + r->upstream_failure.n + r->trace_id.n +
	    r->span_id.n + r->parent_span_id.n;
	for (i = 0; i < r->nrequest_headers && i < RECORD_MAX_HEADERS; i++)
		bound += 24 + r->request_headers[i].name.n +
		    r->request_headers[i].value.n;
	for (i = 0; i < r->nresponse_headers && i < RECORD_MAX_HEADERS; i++)
		bound += 24 + r->response_headers[i].name.n +
		    r->response_headers[i].value.n;
	if ((p = msgw_space(w, bound)) == NULL)
		return;
	*p++ = '\n';			/* the record starts */
	PUT_STR("reporter", r->reporter == RECORD_SOURCE ?
	    STR_LIT("source") : STR_LIT("destination"));
	PUT_U64("start-us", r->start_us);
	PUT_U64("duration-us", r->duration_us);
	if (r->has & RECORD_HAS_REQUEST_DURATION)
		PUT_U64("request-duration-us", r->request_duration_us);
	if (r->has & RECORD_HAS_RESPONSE_START)
		PUT_U64("response-start-us", r->response_start_us);
	if (r->has & RECORD_HAS_UPSTREAM)
		PUT_U64("upstream-us", r->upstream_us);
	if (r->has & RECORD_HAS_REQUEST_BYTES)
		PUT_U64("request-bytes", r->request_bytes);
	if (r->has & RECORD_HAS_RESPONSE_BYTES)
		PUT_U64("response-bytes", r->response_bytes);
	if (r->has & RECORD_HAS_REQUEST_HEAD)
		PUT_U64("request-head-bytes", r->request_head_bytes);
	if (r->has & RECORD_HAS_RESPONSE_HEAD)
		PUT_U64("response-head-bytes", r->response_head_bytes);
	if ((r->has & RECORD_HAS_CODE) || r->code != 0)
		PUT_U64("code", r->code);
	PUT_STR("flags", r->flags);
	PUT_STR("details", r->details);
	PUT_STR("grpc-status", r->grpc_status);
	PUT_STR("request-protocol", r->request_protocol);
	PUT_STR("protocol", r->protocol);
	PUT_STR("method", r->method);
	PUT_STR("path", r->path);
	PUT_STR("original-path", r->original_path);
	PUT_STR("authority", r->authority);
	PUT_STR("service", r->service);
	PUT_STR("service-name", r->service_name);
	PUT_STR("service-namespace", r->service_namespace);
	if (r->has & RECORD_HAS_PORT)
		PUT_U64("port", r->port);
	PUT_STR("security", r->security);
	PUT_STR("source-workload", src->workload);
	PUT_STR("source-namespace", src->namespace);
	PUT_STR("source-app", src->app);
	PUT_STR("source-version", src->version);
	PUT_STR("source-principal", src->principal);
	PUT_STR("destination-workload", dst->workload);
	PUT_STR("destination-namespace", dst->namespace);
	PUT_STR("destination-app", dst->app);
	PUT_STR("destination-version", dst->version);
	PUT_STR("destination-principal", dst->principal);
	PUT_STR("upstream-host", r->upstream_host);
	PUT_STR("upstream-cluster", r->upstream_cluster);
	PUT_STR("upstream-local", r->upstream_local);
	PUT_STR("downstream-local", r->downstream_local);
	PUT_STR("downstream-remote", r->downstream_remote);
	PUT_STR("sni", r->sni);
	PUT_STR("route-name", r->route_name);
	PUT_STR("upstream-failure", r->upstream_failure);
	if (r->has & RECORD_HAS_ATTEMPTS)
		PUT_U64("attempts", r->attempts);
	PUT_STR("trace-id", r->trace_id);
	PUT_STR("span-id", r->span_id);
	PUT_STR("parent-span-id", r->parent_span_id);
	if (r->has & RECORD_HAS_SAMPLED)
		PUT_STR("sampled", r->sampled ? STR_LIT("1") : STR_LIT("0"));
	p = record_put_headers(p, "request-header", 14, r->request_headers,
	    r->nrequest_headers);
	p = record_put_headers(p, "response-header", 15, r->response_headers,
	    r->nresponse_headers);
	msgw_commit(w, p);
}

#undef PUT_STR
#undef PUT_U64

static struct str
record_header_get(const struct record_header *h, size_t n, const char *name)
{
	struct str	 none = { NULL, 0 };
	size_t		 i, len = strlen(name);

	/* names read are lower case: the exact compare mostly decides */
	for (i = 0; i < n; i++)
		if (h[i].name.n == len && (memcmp(h[i].name.p, name,
		    len) == 0 || strncasecmp(h[i].name.p, name, len) == 0))
			return h[i].value;
	return none;
}

struct str
record_request_header(const struct record *r, const char *name)
{
	return record_header_get(r->request_headers, r->nrequest_headers,
	    name);
}

struct str
record_response_header(const struct record *r, const char *name)
{
	return record_header_get(r->response_headers, r->nresponse_headers,
	    name);
}

struct str
record_addr_split(struct str s, long long *port)
{
	const char	*end = s.p + s.n, *close, *colon, *d;
	long long	 n = 0;
	struct str	 host = s;

	if (port != NULL)
		*port = 0;
	if (s.p == NULL || s.n == 0)
		return s;
	if (s.p[0] == '[') {
		if ((close = memchr(s.p, ']', s.n)) == NULL)
			return s;
		host = (struct str){ s.p + 1, (size_t)(close - s.p - 1) };
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memrchr(s.p, ':', s.n);
		/* a bare IPv6 address has no port */
		if (colon != NULL && memchr(s.p, ':',
		    (size_t)(colon - s.p)) != NULL)
			colon = NULL;
		if (colon != NULL)
			host = (struct str){ s.p, (size_t)(colon - s.p) };
	}
	if (colon != NULL && port != NULL) {
		for (d = colon + 1; d < end && *d >= '0' && *d <= '9' &&
		    n < 65536; d++)
			n = n * 10 + (*d - '0');
		*port = n;
	}
	return host;
}

/*
 * As Istio's stats plugin (istio/proxy, istio_stats.cc) fills
 * destination_service_name and destination_service_namespace: the name
 * is the service's short name for a Kubernetes name.ns.svc[.domain]
 * host, else the host as the request gave it (a ServiceEntry's name is
 * its whole hostname; an address is not cut at its first dot); the
 * namespace is the destination's: the peer's for the source's record,
 * its own for the destination's, which record_read leaves in
 * r->destination either way, else the one in its SPIFFE identity.
 */
void
record_service_parts(const struct record *r, struct str *name,
    struct str *namespace)
{
	const char	*dot, *dot2, *end, *ns;
	struct str	 host, principal;
	size_t		 rest;

	*name = r->service_name;
	*namespace = r->service_namespace;
	if (r->service.p != NULL && r->service.n > 0 && (name->p == NULL ||
	    namespace->p == NULL)) {
		host = record_addr_split(r->service, NULL);
		end = host.p + host.n;
		dot = memchr(host.p, '.', host.n);
		dot2 = dot != NULL ? memchr(dot + 1, '.', (size_t)(end - dot -
		    1)) : NULL;
		rest = dot2 != NULL ? (size_t)(end - dot2) : 0;
		/* name.namespace.svc[.cluster.local], neither label empty */
		if (dot2 != NULL && dot > host.p && dot2 > dot + 1 &&
		    ((rest == 4 && memcmp(dot2, ".svc", 4) == 0) ||
		    (rest > 5 && memcmp(dot2, ".svc.", 5) == 0))) {
			if (name->p == NULL)
				*name = (struct str){ host.p,
				    (size_t)(dot - host.p) };
			if (namespace->p == NULL)
				*namespace = (struct str){ dot + 1,
				    (size_t)(dot2 - dot - 1) };
		} else if (name->p == NULL)
			*name = r->service;
	}
	if (namespace->p != NULL)
		return;
	if (r->destination.namespace.p != NULL &&
	    r->destination.namespace.n > 0) {
		*namespace = r->destination.namespace;
		return;
	}
	/* spiffe://trust-domain/ns/NAMESPACE/sa/ACCOUNT */
	principal = r->destination.principal;
	if (principal.p == NULL || (ns = memmem(principal.p, principal.n,
	    "/ns/", 4)) == NULL)
		return;
	ns += 4;
	end = principal.p + principal.n;
	dot = memchr(ns, '/', (size_t)(end - ns));
	if ((dot != NULL ? dot : end) > ns)
		*namespace = (struct str){ ns, (size_t)((dot != NULL ? dot :
		    end) - ns) };
}

int
record_is_error(const struct record *r)
{
	return r->code == 0 || r->code >= 500;
}

const char *
record_reporter_name(enum record_reporter rep)
{
	return rep == RECORD_SOURCE ? "source" : "destination";
}
