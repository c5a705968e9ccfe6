/*
 * The wire form of the route messages of meshkit-ipc(7): the request's
 * source header and questions read, answers written and read back.
 * Strings read point into the message; answers own theirs.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "msg.h"
#include "route.h"
#include "route_impl.h"
#include "util.h"

static struct str route_cstr(const char *);
static int	route_read_endpoint(struct route_endpoint *, struct str,
		    char *, size_t);

static const char *const route_lb_names[] = {
	[ROUTE_LB_ROUND_ROBIN] = "round-robin",
	[ROUTE_LB_RANDOM] = "random",
	[ROUTE_LB_LEAST_REQUEST] = "least-request",
	[ROUTE_LB_ORDERED] = "ordered",
};

const char *
route_lb_name(enum route_lb lb)
{
	if ((size_t)lb >= nitems(route_lb_names))
		return "round-robin";
	return route_lb_names[lb];
}

static struct str
route_cstr(const char *s)
{
	struct str	 r = { s, strlen(s) };

	return r;
}

int
route_source_read(const struct msg *m, struct route_source *src)
{
	const struct msg_block	*b = &m->header;
	size_t			 i;
	int			 seen_wl = 0, seen_ns = 0;

	memset(src, 0, sizeof(*src));
	src->namespace = STR_LIT(CONFIG_DEFAULT_NAMESPACE);
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field *f = &m->fields[i];

		if (!seen_wl && util_str_eq(f->key, "workload")) {
			src->workload = f->value;
			seen_wl = 1;
		} else if (!seen_ns && util_str_eq(f->key, "namespace")) {
			if (f->value.n > 0)
				src->namespace = f->value;
			seen_ns = 1;
		} else if (util_str_eq(f->key, "label")) {
			const char *eq = memchr(f->value.p, '=', f->value.n);

			if (eq == NULL || eq == f->value.p)
				return -1;
			/* Extra labels are ignored: no decision reads them. */
			if (src->nlabels == nitems(src->label_keys))
				continue;
			src->label_keys[src->nlabels].p = f->value.p;
			src->label_keys[src->nlabels].n =
			    (size_t)(eq - f->value.p);
			src->label_values[src->nlabels].p = eq + 1;
			src->label_values[src->nlabels].n =
			    f->value.n - (size_t)(eq + 1 - f->value.p);
			src->nlabels++;
		}
	}
	return 0;
}

int
route_query_read(const struct msg *m, const struct msg_block *b,
    struct route_query *q, char *err, size_t errlen)
{
	enum {
		SEEN_ID = 1, SEEN_LISTENER = 2, SEEN_AUTHORITY = 4,
		SEEN_PORT = 8, SEEN_METHOD = 16, SEEN_PATH = 32,
		SEEN_SCHEME = 64, SEEN_SOURCE = 128,
	};
	unsigned	 seen = 0;
	size_t		 i;
	uint64_t	 v;

	q->id = 0;
	q->inbound = 0;
	q->authority.p = NULL;
	q->authority.n = 0;
	q->port = 0;
	q->method.p = q->path.p = q->source.p = NULL;
	q->method.n = q->path.n = q->source.n = 0;
	q->scheme = STR_LIT("http");
	q->nheaders = 0;

	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field	*f = &m->fields[i];
		struct str		 k = f->key, val = f->value;

		/* Dispatch on the first byte: this runs per field per query. */
		switch (k.n > 0 ? k.p[0] : 0) {
		case 'a':
			if ((seen & SEEN_AUTHORITY) ||
			    !util_str_eq(k, "authority"))
				break;
			seen |= SEEN_AUTHORITY;
			q->authority = val;
			break;
		case 'h':
			if (!util_str_eq(k, "header"))
				break;
			{
				const char *c = memchr(val.p, ':', val.n);
				size_t	 nn;

				if (c == NULL || c == val.p) {
					snprintf(err, errlen, "header: want "
					    "\"name: value\"");
					return -1;
				}
				if (q->nheaders == ROUTE_MAX_HEADERS) {
					snprintf(err, errlen, "more than %d "
					    "headers", ROUTE_MAX_HEADERS);
					return -1;
				}
				nn = (size_t)(c - val.p);
				q->header_names[q->nheaders].p = val.p;
				q->header_names[q->nheaders].n = nn;
				c++;
				if (c < val.p + val.n && *c == ' ')
					c++;
				q->header_values[q->nheaders].p = c;
				q->header_values[q->nheaders].n =
				    val.n - (size_t)(c - val.p);
				q->nheaders++;
			}
			break;
		case 'i':
			if ((seen & SEEN_ID) || !util_str_eq(k, "id"))
				break;
			seen |= SEEN_ID;
			if (msg_str_u64(val, &q->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
			break;
		case 'l':
			if ((seen & SEEN_LISTENER) ||
			    !util_str_eq(k, "listener"))
				break;
			seen |= SEEN_LISTENER;
			if (util_str_eq(val, "inbound"))
				q->inbound = 1;
			else if (!util_str_eq(val, "outbound")) {
				snprintf(err, errlen, "listener: want "
				    "inbound or outbound");
				return -1;
			}
			break;
		case 'm':
			if ((seen & SEEN_METHOD) || !util_str_eq(k, "method"))
				break;
			seen |= SEEN_METHOD;
			q->method = val;
			break;
		case 'p':
			if (!(seen & SEEN_PATH) && util_str_eq(k, "path")) {
				seen |= SEEN_PATH;
				q->path = val;
			} else if (!(seen & SEEN_PORT) &&
			    util_str_eq(k, "port")) {
				seen |= SEEN_PORT;
				if (msg_str_u64(val, &v) == -1 || v == 0 ||
				    v > 65535) {
					snprintf(err, errlen, "port: want "
					    "1..65535");
					return -1;
				}
				q->port = (uint32_t)v;
			}
			break;
		case 's':
			if (!(seen & SEEN_SCHEME) && util_str_eq(k, "scheme")) {
				seen |= SEEN_SCHEME;
				if (!util_str_eq(val, "http") &&
				    !util_str_eq(val, "https")) {
					snprintf(err, errlen, "scheme: want "
					    "http or https");
					return -1;
				}
				q->scheme = val;
			} else if (!(seen & SEEN_SOURCE) &&
			    util_str_eq(k, "source")) {
				seen |= SEEN_SOURCE;
				q->source = val;
			}
			break;
		}
	}
	if (!(seen & SEEN_ID)) {
		snprintf(err, errlen, "id: missing");
		return -1;
	}
	if (q->authority.n == 0) {
		snprintf(err, errlen, "authority: missing");
		return -1;
	}
	return 0;
}

void
route_answer_write(struct msg_writer *w, const struct route_answer *a)
{
	size_t	 i;

	if (a->has_id)
		msgw_field_u64(w, "id", a->id);
	if (a->status == ROUTE_NO_ROUTE)
		msgw_field(w, "status", STR_LIT("no-route"));
	else if (a->status == ROUTE_ERROR)
		msgw_field(w, "status", STR_LIT("error"));
	/* No printf here: this runs for every answer of every reply. */
	if (a->service[0] != '\0')
		msgw_field(w, "service", route_cstr(a->service));
	if (a->subset[0] != '\0')
		msgw_field(w, "subset", route_cstr(a->subset));
	for (i = 0; i < a->nendpoints; i++) {
		const struct route_endpoint *e = &a->endpoints[i];
		char	 buf[sizeof(e->address) + 32];
		size_t	 n;

		n = strnlen(e->address, sizeof(e->address));
		memcpy(buf, e->address, n);
		if (e->weight > 1) {
			memcpy(buf + n, " weight=", 8);
			n += 8;
			n += route_format_u64(buf + n, e->weight);
		}
		msgw_field(w, "endpoint", (struct str){ buf, n });
	}
	if (a->status == ROUTE_OK)
		msgw_field(w, "lb", route_cstr(route_lb_name(a->lb)));
	/*
	 * A no-route answer may be reused too: a client calling an unknown
	 * host in a loop would otherwise cost a consult per request.
	 */
	if (a->reuse_ms > 0 && a->status != ROUTE_ERROR) {
		msgw_field_u64(w, "reuse", a->reuse_ms);
		if (a->vary[0] != '\0')
			msgw_field(w, "vary", route_cstr(a->vary));
	}
	if (a->timeout_ms > 0)
		msgw_field_u64(w, "timeout", a->timeout_ms);
	if (a->reason[0] != '\0')
		msgw_field(w, "reason", route_cstr(a->reason));
}

/* "ADDR:PORT [weight=N] ..."; unknown words are left for later versions. */
static int
route_read_endpoint(struct route_endpoint *e, struct str v, char *err,
    size_t errlen)
{
	const char		*sp, *p, *end = v.p + v.n;
	struct str		 a;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	uint64_t		 wv;

	sp = memchr(v.p, ' ', v.n);
	a.p = v.p;
	a.n = sp != NULL ? (size_t)(sp - v.p) : v.n;
	if (route_copy(e->address, sizeof(e->address), a) == -1 ||
	    util_parse_sockaddr(e->address, &ss, &sl) == -1 ||
	    ss.ss_family == AF_UNIX) {
		snprintf(err, errlen, "endpoint: want a numeric ADDR:PORT");
		return -1;
	}
	e->weight = 1;
	for (p = sp; p != NULL && p < end;) {
		const char *w, *we;

		while (p < end && *p == ' ')
			p++;
		w = p;
		we = memchr(w, ' ', (size_t)(end - w));
		if (we == NULL)
			we = end;
		p = we;
		if ((size_t)(we - w) > 7 && memcmp(w, "weight=", 7) == 0) {
			struct str n = { w + 7, (size_t)(we - w) - 7 };

			if (msg_str_u64(n, &wv) == -1 || wv == 0 ||
			    wv > UINT32_MAX) {
				snprintf(err, errlen, "endpoint: bad weight");
				return -1;
			}
			e->weight = (uint32_t)wv;
		}
	}
	return 0;
}

int
route_answer_read(const struct msg *m, const struct msg_block *b,
    struct route_answer *a, char *err, size_t errlen)
{
	enum {
		SEEN_STATUS = 1, SEEN_SERVICE = 2, SEEN_SUBSET = 4,
		SEEN_LB = 8, SEEN_REUSE = 16, SEEN_VARY = 32,
		SEEN_TIMEOUT = 64, SEEN_REASON = 128, SEEN_ID = 256,
	};
	unsigned	 seen = 0;
	size_t		 i;

	route_answer_reset(a, 0);
	a->has_id = 0;
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field	*f = &m->fields[i];
		struct str		 k = f->key, v = f->value;

		if (util_str_eq(k, "endpoint")) {
			/* They come in preference order: keep the first. */
			if (a->nendpoints == ROUTE_MAX_ENDPOINTS)
				continue;
			if (route_read_endpoint(&a->endpoints[a->nendpoints],
			    v, err, errlen) == -1)
				return -1;
			a->nendpoints++;
		} else if (!(seen & SEEN_ID) && util_str_eq(k, "id")) {
			seen |= SEEN_ID;
			if (msg_str_u64(v, &a->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
			a->has_id = 1;
		} else if (!(seen & SEEN_STATUS) && util_str_eq(k, "status")) {
			seen |= SEEN_STATUS;
			if (util_str_eq(v, "ok"))
				a->status = ROUTE_OK;
			else if (util_str_eq(v, "no-route"))
				a->status = ROUTE_NO_ROUTE;
			else if (util_str_eq(v, "error"))
				a->status = ROUTE_ERROR;
			else {
				snprintf(err, errlen, "status: unknown "
				    "\"%.*s\"", (int)(v.n > 32 ? 32 : v.n),
				    v.p);
				return -1;
			}
		} else if (!(seen & SEEN_SERVICE) &&
		    util_str_eq(k, "service")) {
			seen |= SEEN_SERVICE;
			if (route_copy(a->service, sizeof(a->service), v)) {
				snprintf(err, errlen, "service: too long");
				return -1;
			}
		} else if (!(seen & SEEN_SUBSET) && util_str_eq(k, "subset")) {
			seen |= SEEN_SUBSET;
			if (route_copy(a->subset, sizeof(a->subset), v)) {
				snprintf(err, errlen, "subset: too long");
				return -1;
			}
		} else if (!(seen & SEEN_LB) && util_str_eq(k, "lb")) {
			size_t	 l;

			seen |= SEEN_LB;
			/* An algorithm from a later version: the default. */
			for (l = 0; l < nitems(route_lb_names); l++)
				if (util_str_eq(v, route_lb_names[l]))
					a->lb = (enum route_lb)l;
		} else if (!(seen & SEEN_REUSE) && util_str_eq(k, "reuse")) {
			seen |= SEEN_REUSE;
			if (msg_str_u64(v, &a->reuse_ms) == -1) {
				snprintf(err, errlen, "reuse: not a number");
				return -1;
			}
		} else if (!(seen & SEEN_VARY) && util_str_eq(k, "vary")) {
			seen |= SEEN_VARY;
			if (route_copy(a->vary, sizeof(a->vary), v)) {
				snprintf(err, errlen, "vary: too long");
				return -1;
			}
		} else if (!(seen & SEEN_TIMEOUT) &&
		    util_str_eq(k, "timeout")) {
			seen |= SEEN_TIMEOUT;
			if (msg_str_u64(v, &a->timeout_ms) == -1) {
				snprintf(err, errlen, "timeout: not a number");
				return -1;
			}
		} else if (!(seen & SEEN_REASON) && util_str_eq(k, "reason")) {
			seen |= SEEN_REASON;
			/* Only for logs: a long one is cut, not refused. */
			snprintf(a->reason, sizeof(a->reason), "%.*s",
			    (int)(v.n > sizeof(a->reason) - 1 ?
			    sizeof(a->reason) - 1 : v.n), v.p);
		}
	}
	return 0;
}
