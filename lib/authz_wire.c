/* SPDX-License-Identifier: ISC */
/*
 * The wire form of authz.h: meshkit-ipc(7) "authz" questions and
 * "authz-reply" answers, and a whole message in and out for authz-d.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "msg.h"
#include "util.h"

#define AUTHZ_PROGRAM	"authz-d"

static void	authz_error_reply(struct authz_scratch *, struct msg_writer *,
		    const char *);
static void	authz_status_reply(struct authz_stats *, uint64_t,
		    struct msg_writer *);
static void	authz_count(uint64_t *);

static const char *const decision_names[] = {
	[AUTHZ_DECISION_ALLOW] = "allow",
	[AUTHZ_DECISION_DENY] = "deny",
	[AUTHZ_DECISION_ERROR] = "error",
};

const char *
authz_decision_name(enum authz_decision d)
{
	return (size_t)d < nitems(decision_names) ? decision_names[d] :
	    "error";
}

struct authz_scratch *
authz_scratch_new(void)
{
	struct authz_scratch	*s = xcalloc(1, sizeof(*s));

	msg_init(&s->msg);
	return s;
}

void
authz_scratch_free(struct authz_scratch *s)
{
	if (s == NULL)
		return;
	msg_fini(&s->msg);
	free(s);
}

static void
authz_count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

int
authz_request_read(const struct msg *m, const struct msg_block *b,
    struct authz_request *q, char *err, size_t errlen)
{
	enum {
		SEEN_ID = 1, SEEN_AUTHORITY = 2, SEEN_PORT = 4,
		SEEN_METHOD = 8, SEEN_PATH = 16, SEEN_SOURCE = 32,
		SEEN_REMOTE = 64, SEEN_PRINCIPAL = 128, SEEN_SNI = 256,
		SEEN_DESTINATION = 512,
	};
	unsigned	 seen = 0;
	size_t		 i;
	uint64_t	 v;

	memset(q, 0, offsetof(struct authz_request, header_names));
	q->nheaders = 0;
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field	*f = &m->fields[i];
		struct str		 k = f->key, val = f->value;

		if (!(seen & SEEN_ID) && util_str_eq(k, "id")) {
			seen |= SEEN_ID;
			if (msg_str_u64(val, &q->id) == -1) {
				snprintf(err, errlen, "id: not a decimal "
				    "number");
				return -1;
			}
		} else if (util_str_eq(k, "header")) {
			const char	*c = memchr(val.p, ':', val.n);
			size_t		 j, nn;

			if (c == NULL || c == val.p) {
				snprintf(err, errlen, "header: want "
				    "\"name: value\"");
				return -1;
			}
			nn = (size_t)(c - val.p);
			for (j = 0; j < nn; j++)
				if (val.p[j] >= 'A' && val.p[j] <= 'Z')
					break;
			if (j < nn) {
				snprintf(err, errlen, "header: the name must "
				    "be in lower case");
				return -1;
			}
			if (q->nheaders == AUTHZ_MAX_HEADERS) {
				snprintf(err, errlen, "more than %d headers",
				    AUTHZ_MAX_HEADERS);
				return -1;
			}
			q->header_names[q->nheaders].p = val.p;
			q->header_names[q->nheaders].n = nn;
			c++;
			if (c < val.p + val.n && *c == ' ')
				c++;
			q->header_values[q->nheaders].p = c;
			q->header_values[q->nheaders].n =
			    val.n - (size_t)(c - val.p);
			q->nheaders++;
		} else if (!(seen & SEEN_AUTHORITY) &&
		    util_str_eq(k, "authority")) {
			seen |= SEEN_AUTHORITY;
			q->authority = val;
		} else if (!(seen & SEEN_PORT) && util_str_eq(k, "port")) {
			seen |= SEEN_PORT;
			if (msg_str_u64(val, &v) == -1 || v == 0 ||
			    v > 65535) {
				snprintf(err, errlen, "port: want 1..65535");
				return -1;
			}
			q->port = (uint32_t)v;
		} else if (!(seen & SEEN_METHOD) && util_str_eq(k, "method")) {
			seen |= SEEN_METHOD;
			q->method = val;
		} else if (!(seen & SEEN_PATH) && util_str_eq(k, "path")) {
			seen |= SEEN_PATH;
			q->path = val;
		} else if (!(seen & SEEN_SOURCE) && util_str_eq(k, "source")) {
			seen |= SEEN_SOURCE;
			q->source = val;
		} else if (!(seen & SEEN_REMOTE) && util_str_eq(k, "remote")) {
			seen |= SEEN_REMOTE;
			q->remote = val;
		} else if (!(seen & SEEN_PRINCIPAL) &&
		    util_str_eq(k, "principal")) {
			seen |= SEEN_PRINCIPAL;
			q->principal = val;
		} else if (!(seen & SEEN_SNI) && util_str_eq(k, "sni")) {
			seen |= SEEN_SNI;
			q->sni = val;
		} else if (!(seen & SEEN_DESTINATION) &&
		    util_str_eq(k, "destination")) {
			seen |= SEEN_DESTINATION;
			q->destination = val;
		}
	}
	if (!(seen & SEEN_ID)) {
		snprintf(err, errlen, "id: missing");
		return -1;
	}
	if (q->destination.n > 0 && (authz_destination_port(q->destination) ==
	    0 || !authz_destination_ok(q->destination))) {
		snprintf(err, errlen, "destination: want address:port");
		return -1;
	}
	if (q->path.n > 0 && q->path.p[0] != '/' && q->path.p[0] != '*') {
		snprintf(err, errlen, "path: must start with /");
		return -1;
	}
	return 0;
}

void
authz_answer_write(struct msg_writer *w, const struct authz_answer *a)
{
	size_t	 i;

	if (a->has_id)
		msgw_field_u64(w, "id", a->id);
	msgw_fieldf(w, "decision", "%s", authz_decision_name(a->decision));
	if (a->decision == AUTHZ_DECISION_DENY) {
		msgw_field_u64(w, "status", a->status);
		msgw_fieldf(w, "body", "%s", a->body);
	}
	if (a->principal[0] != '\0')
		msgw_fieldf(w, "principal", "%s", a->principal);
	for (i = 0; i < a->nops; i++) {
		if (a->ops[i].remove)
			msgw_fieldf(w, "request-header-remove", "%s",
			    a->ops[i].name);
		else
			msgw_fieldf(w, "request-header-set", "%s: %s",
			    a->ops[i].name, a->ops[i].value);
	}
	if (a->decision != AUTHZ_DECISION_ERROR) {
		msgw_field_u64(w, "reuse", a->reuse_ms);
		if (a->vary[0] != '\0')
			msgw_fieldf(w, "vary", "%s", a->vary);
	}
	if (a->dry_run[0] != '\0')
		msgw_fieldf(w, "dry-run", "%s", a->dry_run);
	if (a->reason[0] != '\0')
		msgw_fieldf(w, "reason", "%s", a->reason);
}

int
authz_answer_read(const struct msg *m, const struct msg_block *b,
    struct authz_answer *a, char *err, size_t errlen)
{
	size_t		 i, d;
	uint64_t	 v;
	int		 seen_decision = 0;

	authz_answer_reset(a, 0);
	a->has_id = 0;
	a->decision = AUTHZ_DECISION_ERROR;
	for (i = b->first; i < b->first + b->count; i++) {
		struct str k = m->fields[i].key, val = m->fields[i].value;

		if (util_str_eq(k, "id") && !a->has_id) {
			if (msg_str_u64(val, &a->id) == -1) {
				snprintf(err, errlen, "id: not a number");
				return -1;
			}
			a->has_id = 1;
		} else if (util_str_eq(k, "decision") && !seen_decision) {
			seen_decision = 1;
			for (d = 0; d < nitems(decision_names); d++)
				if (util_str_eq(val, decision_names[d]))
					break;
			if (d == nitems(decision_names)) {
				snprintf(err, errlen, "decision: unknown");
				return -1;
			}
			a->decision = (enum authz_decision)d;
		} else if (util_str_eq(k, "status")) {
			if (msg_str_u64(val, &v) == -1 || v < 100 || v > 599) {
				snprintf(err, errlen, "status: want 100..599");
				return -1;
			}
			a->status = (unsigned)v;
		} else if (util_str_eq(k, "body")) {
			snprintf(a->body, sizeof(a->body), "%.*s",
			    (int)(val.n < sizeof(a->body) ? val.n :
			    sizeof(a->body) - 1), val.p);
		} else if (util_str_eq(k, "principal")) {
			snprintf(a->principal, sizeof(a->principal), "%.*s",
			    (int)(val.n < sizeof(a->principal) ? val.n :
			    sizeof(a->principal) - 1), val.p);
		} else if (util_str_eq(k, "request-header-remove")) {
			if (authz_answer_op(a, 1, val, STR_LIT("")) == -1) {
				snprintf(err, errlen, "too many header "
				    "operations");
				return -1;
			}
		} else if (util_str_eq(k, "request-header-set")) {
			const char *c = memchr(val.p, ':', val.n);
			struct str name, value;

			if (c == NULL || c == val.p) {
				snprintf(err, errlen, "request-header-set: "
				    "want \"name: value\"");
				return -1;
			}
			name = (struct str){ val.p, (size_t)(c - val.p) };
			c++;
			if (c < val.p + val.n && *c == ' ')
				c++;
			value = (struct str){ c, val.n -
			    (size_t)(c - val.p) };
			if (authz_answer_op(a, 0, name, value) == -1) {
				snprintf(err, errlen, "too many header "
				    "operations");
				return -1;
			}
		} else if (util_str_eq(k, "reuse")) {
			if (msg_str_u64(val, &a->reuse_ms) == -1) {
				snprintf(err, errlen, "reuse: not a number");
				return -1;
			}
		} else if (util_str_eq(k, "vary")) {
			if (val.n >= sizeof(a->vary)) {
				snprintf(err, errlen, "vary: too long");
				return -1;
			}
			memcpy(a->vary, val.p, val.n);
			a->vary[val.n] = '\0';
		} else if (util_str_eq(k, "reason")) {
			snprintf(a->reason, sizeof(a->reason), "%.*s",
			    (int)(val.n < sizeof(a->reason) ? val.n :
			    sizeof(a->reason) - 1), val.p);
		} else if (util_str_eq(k, "dry-run")) {
			snprintf(a->dry_run, sizeof(a->dry_run), "%.*s",
			    (int)(val.n < sizeof(a->dry_run) ? val.n :
			    sizeof(a->dry_run) - 1), val.p);
		}
	}
	if (!seen_decision) {
		snprintf(err, errlen, "decision: missing");
		return -1;
	}
	if (a->decision == AUTHZ_DECISION_DENY && a->status == 0) {
		snprintf(err, errlen, "status: missing with deny");
		return -1;
	}
	return 0;
}

static void
authz_error_reply(struct authz_scratch *s, struct msg_writer *out,
    const char *reason)
{
	msgw_reset(out);
	msgw_begin(out, "error");
	msgw_fieldf(out, "reason", "%s", reason);
	msgw_fieldf(out, "versions", "%d", MSG_VERSION);
	util_strlcpy(s->last_error, reason, sizeof(s->last_error));
}

static void
authz_status_reply(struct authz_stats *st, uint64_t generation,
    struct msg_writer *out)
{
	msgw_begin(out, "status-reply");
	msgw_field(out, "program", STR_LIT(AUTHZ_PROGRAM));
	msgw_field(out, "version", STR_LIT(MESHKIT_VERSION));
	msgw_field_u64(out, "pid", (uint64_t)getpid());
	msgw_field_u64(out, "generation", generation);
	if (st == NULL)
		return;
#define C(name, field) msgw_field_u64(out, name, \
	__atomic_load_n(&st->field, __ATOMIC_RELAXED))
	msgw_field_u64(out, "uptime-ms", util_now_ms() - st->start_ms);
	C("messages", messages);
	C("bad-messages", bad_messages);
	C("queries", queries);
	C("allowed", allowed);
	C("denied-401", denied_401);
	C("denied-403", denied_403);
	C("answers-error", errors);
	C("reloads", reloads);
	C("reload-failures", reload_failures);
	C("jwks-fetches", jwks_fetches);
	C("jwks-failures", jwks_failures);
#undef C
}

void
authz_handle_message(const struct config *cfg, const struct authz_env *env,
    struct authz_stats *st, struct authz_scratch *scratch,
    uint64_t generation, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct authz_scratch	*s = scratch;
	struct msg_source	 src;
	struct msg		*m;
	char			 err[200], reason[256];
	size_t			 i;
	uint64_t		 id;
	int			 bad = 1;

	if (s == NULL)
		s = authz_scratch_new();
	m = &s->msg;
	msgw_reset(out);
	if (st != NULL)
		authz_count(&st->messages);
	if (msg_parse(m, buf, len, err, sizeof(err)) == -1)
		authz_error_reply(s, out, err);
	else if (msg_type_is(m, "status")) {
		authz_status_reply(st, generation, out);
		bad = 0;
	} else if (!msg_type_is(m, "authz")) {
		snprintf(err, sizeof(err), "unknown message type \"%.*s\"",
		    (int)(m->type.n > 64 ? 64 : m->type.n), m->type.p);
		authz_error_reply(s, out, err);
	} else if (msg_source_read(m, &src) == -1)
		authz_error_reply(s, out, "header: label: want key=value");
	else {
		bad = 0;
		for (i = 0; i < m->nrecords; i++)
			if (msg_get_u64(m, &m->records[i], "id", &id) == -1) {
				snprintf(reason, sizeof(reason), "record %zu: "
				    "id: missing or not a decimal number",
				    i + 1);
				authz_error_reply(s, out, reason);
				bad = 1;
				break;
			}
		if (!bad) {
			msgw_begin(out, "authz-reply");
			msgw_field_u64(out, "generation", generation);
			for (i = 0; i < m->nrecords && !out->overflow; i++) {
				struct authz_answer *a = &s->answer;

				if (authz_request_read(m, &m->records[i],
				    &s->req, err, sizeof(err)) == 0) {
					authz_decide(cfg, env, &src, &s->req,
					    a);
					if (a->dry_run[0] != '\0' &&
					    env->dry_run_log != NULL)
						env->dry_run_log(env->arg,
						    &src, &s->req, a);
				} else {
					msg_get_u64(m, &m->records[i], "id",
					    &id);
					authz_answer_reset(a, id);
					a->decision = AUTHZ_DECISION_ERROR;
					snprintf(a->reason, sizeof(a->reason),
					    "%s", err);
				}
				if (st != NULL) {
					authz_count(&st->queries);
					if (a->decision == AUTHZ_DECISION_ALLOW)
						authz_count(&st->allowed);
					else if (a->decision ==
					    AUTHZ_DECISION_ERROR)
						authz_count(&st->errors);
					else if (a->status == 401)
						authz_count(&st->denied_401);
					else
						authz_count(&st->denied_403);
				}
				msgw_record(out);
				authz_answer_write(out, a);
			}
			if (out->overflow) {
				authz_error_reply(s, out, "reply larger than "
				    "1 MiB: send fewer questions per message");
				bad = 1;
			}
		}
	}
	if (bad && st != NULL)
		authz_count(&st->bad_messages);
	if (scratch == NULL)
		authz_scratch_free(s);
}
