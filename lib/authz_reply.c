/* SPDX-License-Identifier: ISC */
/*
 * Reading authz-d's answers (meshkit-ipc(7) "authz-reply").  What an
 * answer asks proxy-d to write into a request must make a well-formed
 * header, whatever authz-d sent: names are tokens, values have no
 * control characters but tab.
 */
#include <stdio.h>
#include <string.h>

#include "authz_reply.h"
#include "http.h"

static int	header_op_read(struct str, int, struct authz_reply_op *,
		    char *, size_t);

/* "name: value" (set) or "name" (remove). */
static int
header_op_read(struct str v, int remove, struct authz_reply_op *op,
    char *err, size_t errlen)
{
	const char	*colon;

	op->remove = remove;
	op->value = (struct str){ "", 0 };
	if (remove)
		op->name = v;
	else {
		if ((colon = memchr(v.p, ':', v.n)) == NULL) {
			snprintf(err, errlen, "request-header-set: want "
			    "\"name: value\"");
			return -1;
		}
		op->name = (struct str){ v.p, (size_t)(colon - v.p) };
		op->value = (struct str){ colon + 1,
		    v.n - (size_t)(colon - v.p) - 1 };
		while (op->value.n > 0 && (op->value.p[0] == ' ' ||
		    op->value.p[0] == '\t')) {
			op->value.p++;
			op->value.n--;
		}
		while (op->value.n > 0 &&
		    (op->value.p[op->value.n - 1] == ' ' ||
		    op->value.p[op->value.n - 1] == '\t'))
			op->value.n--;
	}
	if (!util_is_token(op->name) || op->name.n > AUTHZ_REPLY_MAX_NAME) {
		snprintf(err, errlen, "%s: not a header name",
		    remove ? "request-header-remove" : "request-header-set");
		return -1;
	}
	if (http_header_reserved(op->name)) {
		snprintf(err, errlen, "%s: %.*s may not be changed",
		    remove ? "request-header-remove" : "request-header-set",
		    (int)op->name.n, op->name.p);
		return -1;
	}
	if (!http_field_value_ok(op->value) ||
	    op->value.n > AUTHZ_REPLY_MAX_VALUE) {
		snprintf(err, errlen, "request-header-set: not a header "
		    "value");
		return -1;
	}
	return 0;
}

int
authz_reply_read(const struct msg *m, const struct msg_block *b,
    struct authz_reply *a, char *err, size_t errlen)
{
	enum {
		SEEN_ID = 1, SEEN_DECISION = 2, SEEN_STATUS = 4,
		SEEN_BODY = 8, SEEN_PRINCIPAL = 16, SEEN_REUSE = 32,
		SEEN_VARY = 64, SEEN_REASON = 128,
	};
	unsigned	 seen = 0;
	size_t		 i;
	uint64_t	 u;

	memset(a, 0, sizeof(*a));
	for (i = b->first; i < b->first + b->count; i++) {
		struct str	 k = m->fields[i].key, v = m->fields[i].value;
		int		 remove;

		if ((remove = util_str_eq(k, "request-header-remove")) ||
		    util_str_eq(k, "request-header-set")) {
			if (a->nops == AUTHZ_REPLY_MAX_OPS) {
				snprintf(err, errlen, "more than %d header "
				    "operations", AUTHZ_REPLY_MAX_OPS);
				return -1;
			}
			if (header_op_read(v, remove, &a->ops[a->nops], err,
			    errlen) == -1)
				return -1;
			a->nops++;
		} else if (!(seen & SEEN_ID) && util_str_eq(k, "id")) {
			seen |= SEEN_ID;
			if (msg_str_u64(v, &a->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
			a->has_id = 1;
		} else if (!(seen & SEEN_DECISION) &&
		    util_str_eq(k, "decision")) {
			seen |= SEEN_DECISION;
			if (util_str_eq(v, "allow"))
				a->decision = AUTHZ_REPLY_ALLOW;
			else if (util_str_eq(v, "deny"))
				a->decision = AUTHZ_REPLY_DENY;
			else if (util_str_eq(v, "error"))
				a->decision = AUTHZ_REPLY_ERROR;
			else {
				snprintf(err, errlen, "decision: unknown "
				    "\"%.*s\"", (int)(v.n > 32 ? 32 : v.n),
				    v.p);
				return -1;
			}
		} else if (!(seen & SEEN_STATUS) && util_str_eq(k, "status")) {
			seen |= SEEN_STATUS;
			if (msg_str_u64(v, &u) == -1 || u < 400 || u > 599) {
				snprintf(err, errlen, "status: want an HTTP "
				    "error status (401, 403)");
				return -1;
			}
			a->status = (int)u;
		} else if (!(seen & SEEN_BODY) && util_str_eq(k, "body")) {
			seen |= SEEN_BODY;
			if (v.n > AUTHZ_REPLY_MAX_BODY) {
				snprintf(err, errlen, "body: longer than %d "
				    "bytes", AUTHZ_REPLY_MAX_BODY);
				return -1;
			}
			a->body = v;
		} else if (!(seen & SEEN_PRINCIPAL) &&
		    util_str_eq(k, "principal")) {
			seen |= SEEN_PRINCIPAL;
			a->principal = v;
		} else if (!(seen & SEEN_REUSE) && util_str_eq(k, "reuse")) {
			seen |= SEEN_REUSE;
			if (msg_str_u64(v, &a->reuse_ms) == -1) {
				snprintf(err, errlen, "reuse: not a number");
				return -1;
			}
		} else if (!(seen & SEEN_VARY) && util_str_eq(k, "vary")) {
			seen |= SEEN_VARY;
			a->vary = v;
		} else if (!(seen & SEEN_REASON) && util_str_eq(k, "reason")) {
			seen |= SEEN_REASON;
			a->reason = v;
		}
	}
	if (!(seen & SEEN_DECISION)) {
		snprintf(err, errlen, "decision: missing");
		return -1;
	}
	if (a->decision == AUTHZ_REPLY_DENY && a->status == 0)
		a->status = 403;
	return 0;
}

int
authz_reply_vary_known(struct str vary)
{
	static const char *const fields[] = {
		"authority", "port", "method", "path", "source-ip", "remote",
		"principal", "sni", "destination-ip",
	};
	size_t	 i = 0, j, start;

	while (i < vary.n) {
		struct str w;
		int known = 0;

		while (i < vary.n && (vary.p[i] == ' ' || vary.p[i] == ','))
			i++;
		start = i;
		while (i < vary.n && vary.p[i] != ' ' && vary.p[i] != ',')
			i++;
		if (i == start)
			break;
		w = (struct str){ vary.p + start, i - start };
		for (j = 0; j < nitems(fields); j++)
			if (util_str_eq(w, fields[j]))
				known = 1;
		if (w.n > 7 && memcmp(w.p, "header:", 7) == 0 &&
		    util_is_token((struct str){ w.p + 7, w.n - 7 }))
			known = 1;
		if (w.n > 6 && memcmp(w.p, "query:", 6) == 0)
			known = 1;
		if (!known)
			return 0;
	}
	return 1;
}
