/*
 * Reading breaker-d's admit-replies and breaker-events
 * (meshkit-ipc(7)).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "breaker_answer.h"

static int	next_word(struct str, size_t *, struct str *);
static int	read_ejected(struct str, struct breaker_ejection *, char *,
		    size_t);

static const struct {
	const char	*name;
	unsigned	 bit;
	size_t		 offset;
} limit_names[] = {
	{ "max-connections", BREAKER_MAX_CONNECTIONS,
	  offsetof(struct breaker_limits, max_connections) },
	{ "max-pending", BREAKER_MAX_PENDING,
	  offsetof(struct breaker_limits, max_pending) },
	{ "max-requests-per-connection", BREAKER_MAX_REQUESTS_PER_CONNECTION,
	  offsetof(struct breaker_limits, max_requests_per_connection) },
	{ "max-retries", BREAKER_MAX_RETRIES,
	  offsetof(struct breaker_limits, max_retries) },
	{ "connect-timeout", BREAKER_CONNECT_TIMEOUT,
	  offsetof(struct breaker_limits, connect_timeout_ms) },
	{ "idle-timeout", BREAKER_IDLE_TIMEOUT,
	  offsetof(struct breaker_limits, idle_timeout_ms) },
};

/* The next space-separated word of s from *pos; 0 at the end. */
static int
next_word(struct str s, size_t *pos, struct str *w)
{
	size_t	 i = *pos, start;

	while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
		i++;
	start = i;
	while (i < s.n && s.p[i] != ' ' && s.p[i] != '\t')
		i++;
	*pos = i;
	*w = (struct str){ s.p + start, i - start };
	return i > start;
}

int
breaker_limits_parse(struct str v, struct breaker_limits *l, char *err,
    size_t errlen)
{
	struct str	 w;
	size_t		 pos = 0, i;
	const char	*eq;
	uint64_t	 n;

	memset(l, 0, sizeof(*l));
	while (next_word(v, &pos, &w)) {
		if ((eq = memchr(w.p, '=', w.n)) == NULL) {
			snprintf(err, errlen, "limits: want name=number, "
			    "got \"%.*s\"", (int)(w.n > 40 ? 40 : w.n), w.p);
			return -1;
		}
		if (msg_str_u64((struct str){ eq + 1,
		    w.n - (size_t)(eq - w.p) - 1 }, &n) == -1) {
			snprintf(err, errlen, "limits: %.*s: not a number",
			    (int)(eq - w.p > 40 ? 40 : eq - w.p), w.p);
			return -1;
		}
		for (i = 0; i < nitems(limit_names); i++) {
			if (strlen(limit_names[i].name) !=
			    (size_t)(eq - w.p) || memcmp(limit_names[i].name,
			    w.p, (size_t)(eq - w.p)) != 0)
				continue;
			/* a later version's names are skipped */
			l->set |= limit_names[i].bit;
			*(uint64_t *)((char *)l + limit_names[i].offset) = n;
		}
	}
	return 0;
}

/* "address:port ms-left" */
static int
read_ejected(struct str v, struct breaker_ejection *e, char *err,
    size_t errlen)
{
	struct str	 w;
	size_t		 pos = 0;

	if (!next_word(v, &pos, &e->endpoint) || e->endpoint.n > 63 ||
	    memchr(e->endpoint.p, ':', e->endpoint.n) == NULL) {
		snprintf(err, errlen, "ejected: want \"address:port "
		    "ms-left\"");
		return -1;
	}
	e->ms_left = 0;
	if (next_word(v, &pos, &w) && msg_str_u64(w, &e->ms_left) == -1) {
		snprintf(err, errlen, "ejected: ms-left is not a number");
		return -1;
	}
	return 0;
}

int
breaker_answer_read(const struct msg *m, const struct msg_block *b,
    struct breaker_answer *a, char *err, size_t errlen)
{
	enum {
		SEEN_ID = 1, SEEN_LIMITS = 2, SEEN_REUSE = 4, SEEN_REASON = 8,
	};
	unsigned	 seen = 0;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	for (i = b->first; i < b->first + b->count; i++) {
		struct str	 k = m->fields[i].key, v = m->fields[i].value;

		if (util_str_eq(k, "ejected")) {
			if (a->nejected == BREAKER_MAX_EJECTED)
				continue;
			if (read_ejected(v, &a->ejected[a->nejected], err,
			    errlen) == -1)
				return -1;
			a->nejected++;
		} else if (!(seen & SEEN_ID) && util_str_eq(k, "id")) {
			seen |= SEEN_ID;
			if (msg_str_u64(v, &a->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
			a->has_id = 1;
		} else if (util_str_eq(k, "panic"))
			a->panic = util_str_eq(v, "yes");
		else if (util_str_eq(k, "outlier"))
			a->outlier = util_str_eq(v, "yes");
		else if (util_str_eq(k, "status"))
			a->error = util_str_eq(v, "error");
		else if (!(seen & SEEN_LIMITS) && util_str_eq(k, "limits")) {
			seen |= SEEN_LIMITS;
			if (breaker_limits_parse(v, &a->limits, err,
			    errlen) == -1)
				return -1;
		} else if (!(seen & SEEN_REUSE) && util_str_eq(k, "reuse")) {
			seen |= SEEN_REUSE;
			if (msg_str_u64(v, &a->reuse_ms) == -1) {
				snprintf(err, errlen, "reuse: not a number");
				return -1;
			}
			a->has_reuse = 1;
		} else if (!(seen & SEEN_REASON) && util_str_eq(k, "reason")) {
			seen |= SEEN_REASON;
			a->reason = v;
		}
	}
	return 0;
}

int
breaker_event_read(const struct msg *m, const struct msg_block *b,
    struct breaker_event *e, char *err, size_t errlen)
{
	struct str	 v;
	uint64_t	 port = 0;

	memset(e, 0, sizeof(*e));
	e->service = msg_get(m, b, "service");
	e->subset = msg_get(m, b, "subset");
	e->endpoint = msg_get(m, b, "endpoint");
	e->reason = msg_get(m, b, "reason");
	if (e->service.p == NULL || e->service.n == 0) {
		snprintf(err, errlen, "service: missing");
		return -1;
	}
	if (e->endpoint.p == NULL || e->endpoint.n == 0 ||
	    e->endpoint.n > 63) {
		snprintf(err, errlen, "endpoint: missing or too long");
		return -1;
	}
	if (e->subset.p == NULL)
		e->subset = (struct str){ "", 0 };
	if (e->reason.p == NULL)
		e->reason = (struct str){ "", 0 };
	if (msg_get(m, b, "port").p != NULL && (msg_get_u64(m, b, "port",
	    &port) == -1 || port > 65535)) {
		snprintf(err, errlen, "port: want 1..65535");
		return -1;
	}
	e->port = (uint32_t)port;
	v = msg_get(m, b, "event");
	if (util_str_eq(v, "eject"))
		e->eject = 1;
	else if (util_str_eq(v, "return"))
		e->eject = 0;
	else {
		snprintf(err, errlen, "event: want eject or return");
		return -1;
	}
	if (msg_get(m, b, "ejection-ms").p != NULL &&
	    msg_get_u64(m, b, "ejection-ms", &e->ejection_ms) == -1) {
		snprintf(err, errlen, "ejection-ms: not a number");
		return -1;
	}
	if (msg_get(m, b, "ejections").p != NULL &&
	    msg_get_u64(m, b, "ejections", &e->ejections) == -1) {
		snprintf(err, errlen, "ejections: not a number");
		return -1;
	}
	return 0;
}
