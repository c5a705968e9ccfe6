/* SPDX-License-Identifier: ISC */
/*
 * The wire form of the route messages of meshkit-ipc(7): the request's
 * source header and questions read, answers written and read back.
 * Strings read point into the message; answers own theirs.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "msg.h"
#include "route.h"
#include "route_impl.h"
#include "util.h"

static struct str route_cstr(const char *);
static int	route_clean(const char *);
static void	route_put(struct msg_writer *, const char *, const char *);
static size_t	route_format_ppm(char *, uint32_t);
static int	route_read_ppm(struct str, uint32_t *);
static int	route_word(struct str *, struct str *);
static void	route_policy_write(struct msg_writer *,
		    const struct route_policy *);
static int	route_policy_read(struct str, struct str,
		    struct route_policy *, char *, size_t);

static const char *const route_header_keys[] = {
	[ROUTE_REQUEST_SET] = "request-header-set",
	[ROUTE_REQUEST_ADD] = "request-header-add",
	[ROUTE_REQUEST_REMOVE] = "request-header-remove",
	[ROUTE_RESPONSE_SET] = "response-header-set",
	[ROUTE_RESPONSE_ADD] = "response-header-add",
	[ROUTE_RESPONSE_REMOVE] = "response-header-remove",
};
static const char *const route_origin_kinds[] = {
	"any", "exact", "prefix", "regex"
};
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

/* A value must be one line: a field that is not is left out. */
static int
route_clean(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

static void
route_put(struct msg_writer *w, const char *key, const char *v)
{
	if (v[0] != '\0' && route_clean(v))
		msgw_field(w, key, route_cstr(v));
}

/* Parts per million as a percentage: 125000 -> "12.5". */
static size_t
route_format_ppm(char *buf, uint32_t ppm)
{
	size_t	 n = route_format_u64(buf, ppm / 10000);
	uint32_t frac = ppm % 10000, div = 1000;

	if (frac != 0) {
		buf[n++] = '.';
		while (frac != 0) {
			buf[n++] = (char)('0' + frac / div);
			frac %= div;
			div /= 10;
		}
	}
	buf[n] = '\0';
	return n;
}

static int
route_read_ppm(struct str v, uint32_t *ppm)
{
	uint64_t	 whole = 0, frac = 0, div = 10000;
	size_t		 i = 0;

	if (v.n == 0)
		return -1;
	for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		if ((whole = whole * 10 + (uint64_t)(v.p[i] - '0')) > 100)
			return -1;
	if (i < v.n && v.p[i] == '.')
		for (i++; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
			if (div > 1) {
				div /= 10;
				frac += (uint64_t)(v.p[i] - '0') * div;
			}
	if (i != v.n || whole * 10000 + frac > 1000000)
		return -1;
	*ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}

/* The next space-separated word of *rest; 0 at the end. */
static int
route_word(struct str *rest, struct str *word)
{
	while (rest->n > 0 && rest->p[0] == ' ') {
		rest->p++;
		rest->n--;
	}
	if (rest->n == 0)
		return 0;
	word->p = rest->p;
	for (word->n = 0; word->n < rest->n && rest->p[word->n] != ' ';
	    word->n++)
		;
	rest->p += word->n;
	rest->n -= word->n;
	return 1;
}

static void
route_policy_write(struct msg_writer *w, const struct route_policy *p)
{
	char	 buf[1200], pct[16];
	size_t	 i, o, n;

	if (p->redirect_code != 0) {
		o = (size_t)snprintf(buf, sizeof(buf), "%u", p->redirect_code);
		if (p->redirect_uri[0] != '\0' && o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    " uri=%s", p->redirect_uri);
		if (p->redirect_authority[0] != '\0' && o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    " authority=%s", p->redirect_authority);
		if (p->redirect_scheme[0] != '\0' && o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    " scheme=%s", p->redirect_scheme);
		if (p->redirect_port != 0 && o < sizeof(buf))
			snprintf(buf + o, sizeof(buf) - o, " port=%u",
			    p->redirect_port);
		route_put(w, "redirect", buf);
	}
	if (p->direct_status != 0) {
		/* the body on one line: \n, \r and \\ escaped */
		o = (size_t)snprintf(buf, sizeof(buf), "%u", p->direct_status);
		if (p->direct_body[0] != '\0')
			buf[o++] = ' ';
		for (i = 0; p->direct_body[i] != '\0' && o + 3 < sizeof(buf);
		    i++) {
			char c = p->direct_body[i];

			if (c == '\n' || c == '\r' || c == '\\') {
				buf[o++] = '\\';
				c = c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
			}
			buf[o++] = c;
		}
		buf[o] = '\0';
		msgw_field(w, "direct-response", (struct str){ buf, o });
	}
	route_put(w, "rewrite-path", p->rewrite_path);
	route_put(w, "rewrite-authority", p->rewrite_authority);
	route_put(w, "route-name", p->route_name);
	for (i = 0; i < p->nheaders; i++) {
		const struct route_header_op *h = &p->headers[i];

		if (h->kind == ROUTE_REQUEST_REMOVE ||
		    h->kind == ROUTE_RESPONSE_REMOVE)
			snprintf(buf, sizeof(buf), "%s", h->name);
		else
			snprintf(buf, sizeof(buf), "%s: %s", h->name,
			    h->value);
		route_put(w, route_header_keys[h->kind], buf);
	}
	if (p->retry_attempts == 0 && (p->retries_set ||
	    p->retry_on[0] != '\0'))
		msgw_field(w, "retries", STR_LIT("attempts=0"));
	else if (p->retries_set || p->retry_attempts != 0) {
		/* by hand: every answer that forwards has this line */
		memcpy(buf, "attempts=", 9);
		o = 9 + route_format_u64(buf + 9, p->retry_attempts);
		memcpy(buf + o, " per-try-timeout=", 17);
		o += 17;
		o += route_format_u64(buf + o, p->retry_per_try_ms);
		if (p->retry_on[0] != '\0') {
			memcpy(buf + o, " retry-on=", 10);
			o += 10;
			n = strnlen(p->retry_on, sizeof(p->retry_on) - 1);
			memcpy(buf + o, p->retry_on, n);
			o += n;
		}
		buf[o] = '\0';
		route_put(w, "retries", buf);
	}
	if (p->fault_delay_ms != 0) {
		route_format_ppm(pct, p->fault_delay_ppm);
		snprintf(buf, sizeof(buf), "%llu percent=%s",
		    (unsigned long long)p->fault_delay_ms, pct);
		route_put(w, "fault-delay", buf);
	}
	if (p->fault_abort_status != 0) {
		route_format_ppm(pct, p->fault_abort_ppm);
		snprintf(buf, sizeof(buf), "%u percent=%s",
		    p->fault_abort_status, pct);
		route_put(w, "fault-abort", buf);
	}
	for (i = 0; i < p->nmirrors; i++) {
		route_format_ppm(pct, p->mirrors[i].ppm);
		snprintf(buf, sizeof(buf), "%s percent=%s service=%s",
		    p->mirrors[i].address, pct, p->mirrors[i].service);
		route_put(w, "mirror", buf);
	}
	if (!p->cors)
		return;
	for (i = 0; i < p->norigins; i++) {
		n = (size_t)p->origins[i].kind < nitems(route_origin_kinds) ?
		    (size_t)p->origins[i].kind : 1;
		snprintf(buf, sizeof(buf), "%s %s", route_origin_kinds[n],
		    p->origins[i].value);
		route_put(w, "cors-allow-origin", buf);
	}
	route_put(w, "cors-allow-methods", p->cors_methods);
	route_put(w, "cors-allow-headers", p->cors_allow_headers);
	route_put(w, "cors-expose-headers", p->cors_expose_headers);
	if (p->cors_max_age_ms != 0)
		msgw_field_u64(w, "cors-max-age", p->cors_max_age_ms);
	if (p->cors_credentials != -1)
		msgw_field(w, "cors-allow-credentials", p->cors_credentials ?
		    STR_LIT("true") : STR_LIT("false"));
	if (p->norigins == 0 && p->cors_methods[0] == '\0' &&
	    p->cors_allow_headers[0] == '\0' &&
	    p->cors_expose_headers[0] == '\0' && p->cors_max_age_ms == 0 &&
	    p->cors_credentials == -1)
		msgw_field(w, "cors", STR_LIT("on"));
}

#define ROUTE_COPY(dst, v) do {						\
	if (route_copy((dst), sizeof(dst), (v)) == -1) {		\
		snprintf(err, errlen, "%.*s: too long", (int)k.n, k.p);	\
		return -1;						\
	}								\
} while (0)

/* One policy field: 1 if k was one, 0 if not, -1 if it was bad. */
static int
route_policy_read(struct str k, struct str v, struct route_policy *p,
    char *err, size_t errlen)
{
	struct str	 rest = v, word, val;
	uint64_t	 u;
	size_t		 i;
	const char	*eq;

	for (i = 0; i < nitems(route_header_keys); i++) {
		struct route_header_op	*h;
		const char		*c;
		struct str		 name, value;

		if (!util_str_eq(k, route_header_keys[i]))
			continue;
		if (p->nheaders == ROUTE_MAX_HEADER_OPS)
			return 1;
		h = &p->headers[p->nheaders];
		h->kind = (enum route_header_op_kind)i;
		h->value[0] = '\0';
		if (i == ROUTE_REQUEST_REMOVE || i == ROUTE_RESPONSE_REMOVE) {
			ROUTE_COPY(h->name, v);
		} else {
			if ((c = memchr(v.p, ':', v.n)) == NULL || c == v.p) {
				snprintf(err, errlen, "%s: want \"name: "
				    "value\"", route_header_keys[i]);
				return -1;
			}
			ROUTE_COPY(h->name, ((struct str){ v.p,
			    (size_t)(c - v.p) }));
			c++;
			if (c < v.p + v.n && *c == ' ')
				c++;
			ROUTE_COPY(h->value, ((struct str){ c,
			    v.n - (size_t)(c - v.p) }));
		}
		name = (struct str){ h->name, strlen(h->name) };
		value = (struct str){ h->value, strlen(h->value) };
		if (!util_is_token(name) || !http_field_value_ok(value) ||
		    http_header_reserved(name)) {
			snprintf(err, errlen, "%s: %s may not be written",
			    route_header_keys[i], h->name);
			return -1;
		}
		p->nheaders++;
		return 1;
	}
	if (util_str_eq(k, "redirect")) {
		if (!route_word(&rest, &word) || msg_str_u64(word, &u) == -1 ||
		    u < 300 || u > 399) {
			snprintf(err, errlen, "redirect: want a 3xx code");
			return -1;
		}
		p->redirect_code = (uint32_t)u;
		while (route_word(&rest, &word)) {
			if ((eq = memchr(word.p, '=', word.n)) == NULL)
				continue;
			val.p = eq + 1;
			val.n = word.n - (size_t)(val.p - word.p);
			word.n = (size_t)(eq - word.p);
			if (util_str_eq(word, "uri"))
				ROUTE_COPY(p->redirect_uri, val);
			else if (util_str_eq(word, "authority"))
				ROUTE_COPY(p->redirect_authority, val);
			else if (util_str_eq(word, "scheme"))
				ROUTE_COPY(p->redirect_scheme, val);
			else if (util_str_eq(word, "port") &&
			    msg_str_u64(val, &u) == 0 && u <= 65535)
				p->redirect_port = (uint32_t)u;
		}
		return 1;
	}
	if (util_str_eq(k, "direct-response")) {
		size_t o = 0;

		if (!route_word(&rest, &word) || msg_str_u64(word, &u) == -1 ||
		    u < 200 || u > 599) {
			snprintf(err, errlen, "direct-response: want a status");
			return -1;
		}
		p->direct_status = (uint32_t)u;
		if (rest.n > 0 && rest.p[0] == ' ') {
			rest.p++;
			rest.n--;
		}
		for (i = 0; i < rest.n && o + 1 < sizeof(p->direct_body);
		    i++) {
			char c = rest.p[i];

			if (c == '\\' && i + 1 < rest.n) {
				c = rest.p[++i];
				c = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
			}
			p->direct_body[o++] = c;
		}
		p->direct_body[o] = '\0';
		return 1;
	}
	if (util_str_eq(k, "rewrite-path")) {
		ROUTE_COPY(p->rewrite_path, v);
		return 1;
	}
	if (util_str_eq(k, "rewrite-authority")) {
		ROUTE_COPY(p->rewrite_authority, v);
		return 1;
	}
	if (util_str_eq(k, "route-name")) {
		ROUTE_COPY(p->route_name, v);
		return 1;
	}
	if (util_str_eq(k, "retries")) {
		p->retries_set = 1;
		while (route_word(&rest, &word)) {
			if ((eq = memchr(word.p, '=', word.n)) == NULL)
				continue;
			val.p = eq + 1;
			val.n = word.n - (size_t)(val.p - word.p);
			word.n = (size_t)(eq - word.p);
			/* bounded, so that no answer makes a request
			   retry for ever or a deadline wrap */
			if (util_str_eq(word, "attempts") &&
			    msg_str_u64(val, &u) == 0)
				p->retry_attempts = (uint32_t)(u >
				    ROUTE_MAX_ATTEMPTS ? ROUTE_MAX_ATTEMPTS : u);
			else if (util_str_eq(word, "per-try-timeout") &&
			    msg_str_u64(val, &u) == 0)
				p->retry_per_try_ms = u > ROUTE_MAX_MS ?
				    ROUTE_MAX_MS : u;
			else if (util_str_eq(word, "retry-on"))
				ROUTE_COPY(p->retry_on, val);
		}
		return 1;
	}
	if (util_str_eq(k, "fault-delay") || util_str_eq(k, "fault-abort")) {
		int delay = util_str_eq(k, "fault-delay");
		uint32_t ppm = PERCENT_MILLION;

		if (!route_word(&rest, &word) || msg_str_u64(word, &u) == -1 ||
		    (delay ? u == 0 : (u < 200 || u > 599))) {
			snprintf(err, errlen, "%.*s: want %s", (int)k.n, k.p,
			    delay ? "milliseconds" : "a status");
			return -1;
		}
		while (route_word(&rest, &word))
			if (word.n > 8 && memcmp(word.p, "percent=", 8) == 0 &&
			    route_read_ppm((struct str){ word.p + 8,
			    word.n - 8 }, &ppm) == -1) {
				snprintf(err, errlen, "%.*s: bad percent",
				    (int)k.n, k.p);
				return -1;
			}
		if (delay) {
			p->fault_delay_ms = u > ROUTE_MAX_MS ? ROUTE_MAX_MS : u;
			p->fault_delay_ppm = ppm;
		} else {
			p->fault_abort_status = (uint32_t)u;
			p->fault_abort_ppm = ppm;
		}
		return 1;
	}
	if (util_str_eq(k, "mirror")) {
		struct route_mirror	*m;

		if (p->nmirrors == ROUTE_MAX_MIRRORS)
			return 1;
		m = &p->mirrors[p->nmirrors];
		if (!route_word(&rest, &word)) {
			snprintf(err, errlen, "mirror: want ADDR:PORT");
			return -1;
		}
		ROUTE_COPY(m->address, word);
		m->ppm = PERCENT_MILLION;
		m->service[0] = '\0';
		while (route_word(&rest, &word)) {
			if (word.n > 8 && memcmp(word.p, "percent=", 8) == 0 &&
			    route_read_ppm((struct str){ word.p + 8,
			    word.n - 8 }, &m->ppm) == -1) {
				snprintf(err, errlen, "mirror: bad percent");
				return -1;
			}
			if (word.n > 8 && memcmp(word.p, "service=", 8) == 0)
				ROUTE_COPY(m->service, ((struct str){
				    word.p + 8, word.n - 8 }));
		}
		p->nmirrors++;
		return 1;
	}
	if (k.n < 5 || memcmp(k.p, "cors", 4) != 0)
		return 0;
	if (util_str_eq(k, "cors"))
		p->cors = 1;
	else if (util_str_eq(k, "cors-allow-origin")) {
		p->cors = 1;
		if (p->norigins == ROUTE_MAX_ORIGINS)
			return 1;
		if (!route_word(&rest, &word))
			return 1;
		for (i = 1; i < nitems(route_origin_kinds); i++)
			if (util_str_eq(word, route_origin_kinds[i]))
				break;
		if (i == nitems(route_origin_kinds))
			return 1;	/* a later kind: not for us */
		p->origins[p->norigins].kind = (int)i;
		if (rest.n > 0 && rest.p[0] == ' ') {
			rest.p++;
			rest.n--;
		}
		ROUTE_COPY(p->origins[p->norigins].value, rest);
		p->norigins++;
	} else if (util_str_eq(k, "cors-allow-methods")) {
		p->cors = 1;
		ROUTE_COPY(p->cors_methods, v);
	} else if (util_str_eq(k, "cors-allow-headers")) {
		p->cors = 1;
		ROUTE_COPY(p->cors_allow_headers, v);
	} else if (util_str_eq(k, "cors-expose-headers")) {
		p->cors = 1;
		ROUTE_COPY(p->cors_expose_headers, v);
	} else if (util_str_eq(k, "cors-max-age")) {
		p->cors = 1;
		if (msg_str_u64(v, &p->cors_max_age_ms) == -1) {
			snprintf(err, errlen, "cors-max-age: not a number");
			return -1;
		}
	} else if (util_str_eq(k, "cors-allow-credentials")) {
		p->cors = 1;
		p->cors_credentials = util_str_eq(v, "true");
	} else
		return 0;
	return 1;
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
	if (a->port != 0 && a->service[0] != '\0')
		msgw_field_u64(w, "port", a->port);
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
		if (e->mtls) {
			memcpy(buf + n, " mtls", 5);
			n += 5;
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
	if (a->status == ROUTE_OK) {
		route_policy_write(w, &a->policy);
		route_tls_write(w, &a->tls);
	}
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
	e->mtls = 0;
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
		} else if (we - w == 4 && memcmp(w, "mtls", 4) == 0)
			e->mtls = 1;
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
		SEEN_PORT = 512,
	};
	unsigned	 seen = 0;
	size_t		 i;
	int		 rc;

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
		} else if (!(seen & SEEN_PORT) && util_str_eq(k, "port")) {
			uint64_t port;

			seen |= SEEN_PORT;
			if (msg_str_u64(v, &port) == -1 || port > 65535) {
				snprintf(err, errlen, "port: want 0..65535");
				return -1;
			}
			a->port = (uint32_t)port;
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
			if (a->timeout_ms > ROUTE_MAX_MS)
				a->timeout_ms = ROUTE_MAX_MS;
		} else if (k.n >= 3 && k.p[0] == 't' &&
		    (rc = route_tls_read(k, v, &a->tls, err, errlen)) != 0) {
			if (rc == -1)
				return -1;
		} else if (k.n > 5 && (k.p[0] == 'r' || k.p[0] == 'd' ||
		    k.p[0] == 'f' || k.p[0] == 'm' || k.p[0] == 'c') &&
		    route_policy_read(k, v, &a->policy, err, errlen) == -1) {
			return -1;
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
