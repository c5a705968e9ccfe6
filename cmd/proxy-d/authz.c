/* SPDX-License-Identifier: ISC */
/*
 * Asking authz-d whether the caller of an inbound request may ask, and
 * the decisions proxy-d keeps: a cache keyed by the local app and the
 * request fields authz-d said its decision depends on (like routing.c's
 * vary cache), never kept past the reuse time it gave.  authz-d away,
 * slow or confused: the request fails closed (ADU).
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "key.h"
#include "proxy.h"
#include "util.h"

#define AUTHZ_KEY_MAX		4096
#define AUTHZ_VARY_MAX		512
#define AUTHZ_CACHE_MAX		65536
#define AUTHZ_MAX_BATCH		256
#define AUTHZ_NODE_IDLE_MS	60000

struct authz {
	struct proxy		*proxy;
	struct ipc_req		*req;
	struct authz_reply	 reply;		/* the one read last */
};

/*
 * At a base key (the local app), a node: the union of the fields
 * authz-d's decisions there depend on.  At base + those fields' values,
 * an entry: a decision, or a question in flight with the requests that
 * wait for it.  An entry not in the cache (key NULL) serves the one
 * request that asked.
 */
struct authz_entry {
	char			*key;
	size_t			 baselen;
	int			 node;
	char			*fields;	/* node: union; entry: at ask */
	int			 inflight;
	struct authz_decision	*decision;
	uint64_t		 expires_ms;
	uint64_t		 last_used_ms;
	TAILQ_HEAD(, session)	 waiters;
};

static int	authz_read(void *, const struct msg *,
		    const struct msg_block *, uint64_t *, int *, char *,
		    size_t);
static void	authz_answer(void *, void *);
static void	authz_fail(void *, void *, const char *);
static void	entry_fail(struct proxy *, struct authz_entry *,
		    const char *);
static void	authz_serve(struct proxy *, struct session *,
		    struct authz_decision *);
static struct authz_entry *entry_new(const char *, size_t, size_t);
static void	entry_free(struct authz_entry *);
static size_t	authz_base(const struct session *, char *, size_t);
static struct key_peer authz_peer(struct session *, char *, size_t);
static size_t	authz_destination(struct session *, char *, size_t);
static int	fields_has(const char *, const char *, size_t);
static int	fields_within(struct str, const char *);
static struct authz_entry *node_merge(struct proxy *, const char *,
		    size_t, struct str);
static struct authz_decision *decision_new(const struct authz_reply *);
static int	authz_ask(struct proxy *, struct authz_entry *,
		    struct session *);
static void	authz_request(struct proxy *, struct session *);
static void	authz_details(struct session *,
		    const struct authz_decision *);
static void	authz_decided(struct session *, struct authz_decision *);
static enum stage_result authz_start(struct session *);
static void	authz_cancel(struct session *);

const struct stage stage_authz = {
	.name = "authz",
	.start = authz_start,
	.cancel = authz_cancel,
};

static const struct ipc_req_ops authz_ops = {
	.daemon = "authz-d",
	.type = "authz",
	.reply = "authz-reply",
	.read = authz_read,
	.answer = authz_answer,
	.fail = authz_fail,
};

int
authz_enabled(const struct session *s)
{
	return s->inbound && s->gen->pc->authz.enabled;
}

/* The client follows the config: made when first needed, remade when
   its address changes. */
void
authz_configure(struct proxy *p, const struct proxy_config *pc)
{
	const struct proxy_daemon *d = &pc->authz;

	if (!d->enabled)
		return;		/* kept for requests of older generations */
	if (p->authz != NULL &&
	    strcmp(ipc_req_address(p->authz->req), d->address) == 0) {
		ipc_req_set_timeout(p->authz->req, d->timeout_ms);
		return;
	}
	if (p->authz != NULL) {
		ipc_req_free(p->authz->req);
		free(p->authz);
	}
	p->authz = xcalloc(1, sizeof(*p->authz));
	p->authz->proxy = p;
	p->authz->req = ipc_req_new(p, &authz_ops, p->authz, d->address,
	    d->timeout_ms, AUTHZ_MAX_BATCH);
}

static struct authz_entry *
entry_new(const char *key, size_t keylen, size_t baselen)
{
	struct authz_entry	*e;

	e = xcalloc(1, sizeof(*e));
	if (key != NULL)
		e->key = xstrndup(key, keylen);
	e->baselen = baselen;
	TAILQ_INIT(&e->waiters);
	return e;
}

static void
entry_free(struct authz_entry *e)
{
	authz_decision_unref(e->decision);
	free(e->key);
	free(e->fields);
	free(e);
}

static struct authz_decision *
decision_new(const struct authz_reply *r)
{
	struct authz_decision	*d;
	size_t			 i;

	d = xcalloc(1, sizeof(*d));
	d->allow = r->decision == AUTHZ_REPLY_ALLOW;
	d->status = r->status;
	d->body = xstrndup(r->body.p != NULL ? r->body.p : "", r->body.n);
	d->bodylen = r->body.n;
	d->principal = xstrndup(r->principal.p != NULL ? r->principal.p : "",
	    r->principal.n);
	d->reason = xstrndup(r->reason.p != NULL ? r->reason.p : "",
	    r->reason.n);
	if (r->nops > 0)
		d->headers = xcalloc(r->nops, sizeof(*d->headers));
	for (i = 0; i < r->nops; i++) {
		struct head_op *h = &d->headers[i];

		h->remove = r->ops[i].remove;
		h->name = xstrndup(r->ops[i].name.p, r->ops[i].name.n);
		h->namelen = r->ops[i].name.n;
		h->value = xstrndup(r->ops[i].value.p != NULL ?
		    r->ops[i].value.p : "", r->ops[i].value.n);
		h->valuelen = r->ops[i].value.n;
	}
	d->nheaders = r->nops;
	/* in order: the last operation on a name is the one that counts */
	d->headers_len = head_ops_finish(d->headers, d->nheaders);
	return d;
}

struct authz_decision *
authz_decision_ref(struct authz_decision *d)
{
	if (d != NULL)
		d->refs++;
	return d;
}

void
authz_decision_unref(struct authz_decision *d)
{
	size_t	 i;

	if (d == NULL || --d->refs > 0)
		return;
	for (i = 0; i < d->nheaders; i++) {
		free(d->headers[i].name);
		free(d->headers[i].value);
	}
	free(d->headers);
	free(d->body);
	free(d->principal);
	free(d->reason);
	free(d);
}

/*
 * Who asks, for the decision's key: what the question says of the peer
 * (a question that carries principal or sni keys on them here), and
 * where it connected to, written into dest.
 */
static struct key_peer
authz_peer(struct session *s, char *dest, size_t destlen)
{
	return (struct key_peer){ s->client_ip, s->peer_identity,
	    s->peer_sni, authz_destination(s, dest, destlen) > 0 ? dest :
	    NULL };
}

/*
 * The address the peer connected to, "address:port" (a listener on a
 * wildcard address is reached on one of the machine's): its length, 0
 * when the socket cannot say.  Asked of the socket once per connection,
 * not per request (a system call on every inbound request otherwise,
 * two on a miss).
 */
static size_t
authz_destination(struct session *s, char *buf, size_t len)
{
	const char	*a = session_local_addr(s);

	if (a[0] == '\0')
		return 0;
	return util_strlcpy(buf, a, len) < len ? strlen(buf) : 0;
}

/* The local app the request goes to: decisions are its own. */
static size_t
authz_base(const struct session *s, char *buf, size_t len)
{
	const char	*name = s->forward != NULL ? s->forward->name : "";
	size_t		 n = strlen(name);

	if (n + 1 > len)
		return 0;
	memcpy(buf, name, n);
	return n;
}

/* Is word (n bytes) one of the words of fields? */
static int
fields_has(const char *fields, const char *word, size_t n)
{
	const char	*p = fields;

	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, " ,");
		if (len == n && memcmp(p, word, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* Is every word of vary among fields? */
static int
fields_within(struct str vary, const char *fields)
{
	size_t	 i = 0, start;

	while (i < vary.n) {
		while (i < vary.n && (vary.p[i] == ' ' || vary.p[i] == ','))
			i++;
		start = i;
		while (i < vary.n && vary.p[i] != ' ' && vary.p[i] != ',')
			i++;
		if (i > start && !fields_has(fields, vary.p + start,
		    i - start))
			return 0;
	}
	return 1;
}

/* The node at a base, made or grown to hold the fields of vary too. */
static struct authz_entry *
node_merge(struct proxy *p, const char *base, size_t baselen, struct str vary)
{
	struct authz_entry	*node;
	char			 merged[AUTHZ_VARY_MAX];
	size_t			 i = 0, start, len;

	node = strmap_get(&p->authz_cache, base, baselen);
	if (node == NULL) {
		if (p->authz_cache.n >= AUTHZ_CACHE_MAX)
			return NULL;
		node = entry_new(base, baselen, baselen);
		node->node = 1;
		node->fields = xstrdup("");
		strmap_put(&p->authz_cache, base, baselen, node);
	}
	node->last_used_ms = util_now_ms();
	if (fields_within(vary, node->fields))
		return node;
	util_strlcpy(merged, node->fields, sizeof(merged));
	while (i < vary.n) {
		while (i < vary.n && (vary.p[i] == ' ' || vary.p[i] == ','))
			i++;
		start = i;
		while (i < vary.n && vary.p[i] != ' ' && vary.p[i] != ',')
			i++;
		if (i == start || fields_has(merged, vary.p + start,
		    i - start))
			continue;
		len = strlen(merged);
		if (len + 1 + (i - start) + 1 > sizeof(merged))
			return NULL;	/* too many to key on */
		if (len > 0)
			merged[len++] = ' ';
		memcpy(merged + len, vary.p + start, i - start);
		merged[len + i - start] = '\0';
	}
	free(node->fields);
	node->fields = xstrdup(merged);
	return node;
}

/*
 * Ask for entry e, s the first to wait for it.  -1: authz-d is away; -2:
 * the request is too large to ask about.
 */
static int
authz_ask(struct proxy *p, struct authz_entry *e, struct session *s)
{
	const struct http_request *req = &s->req;
	struct msg_writer	*w;
	char			 dest[72];
	size_t			 i, dl;

	if (p->authz == NULL ||
	    (w = ipc_req_begin(p->authz->req, s->gen->pc)) == NULL)
		return -1;
	msgw_field(w, "authority", req->authority);
	/* destination.ip and destination.port, and the port of older
	   authz-d programs */
	if ((dl = authz_destination(s, dest, sizeof(dest))) > 0) {
		msgw_field(w, "destination", (struct str){ dest, dl });
		msgw_fieldf(w, "port", "%s", strrchr(dest, ':') + 1);
	}
	msgw_field(w, "method", req->method);
	msgw_field(w, "path", req->path);
	msgw_field(w, "source", (struct str){ s->client_addr,
	    strlen(s->client_addr) });
	/* the peer's SPIFFE URI, from its mTLS certificate */
	if (s->peer_identity != NULL &&
	    strpbrk(s->peer_identity, "\r\n") == NULL)
		msgw_fieldf(w, "principal", "%s", s->peer_identity);
	if (s->peer_sni != NULL)
		msgw_fieldf(w, "sni", "%s", s->peer_sni);
	/* every one: authz-d reads as many as proxy-d may forward */
	for (i = 0; i < req->nheaders; i++)
		msgw_field_header(w, "header", req->headers[i].name,
		    req->headers[i].value);
	if (ipc_req_end(p->authz->req, e) == -1)
		return -2;
	e->inflight = 1;
	p->authz_questions++;
	return 0;
}

/* The stage: inbound requests ask authz-d, when it is enabled. */
static enum stage_result
authz_start(struct session *s)
{
	if (!authz_enabled(s))
		return STAGE_NEXT;
	authz_request(s->proxy, s);
	return STAGE_WAIT;
}

/* May the caller of this inbound request ask?  Answers now or parks. */
static void
authz_request(struct proxy *p, struct session *s)
{
	const struct proxy_daemon *ad = &s->gen->pc->authz;
	char			 base[256], key[AUTHZ_KEY_MAX];
	size_t			 baselen, keylen = 0;
	struct authz_entry	*node = NULL, *e = NULL;
	struct key_peer		 peer;
	char			 dest[72];
	uint64_t		 now = util_now_ms();

	baselen = authz_base(s, base, sizeof(base));
	if (ad->cache && baselen > 0 &&
	    (node = strmap_get(&p->authz_cache, base, baselen)) != NULL) {
		node->last_used_ms = now;
		peer = authz_peer(s, dest, sizeof(dest));
		keylen = key_authz(&s->req, &peer, node->fields, base,
		    baselen, key, sizeof(key));
		if (keylen > 0)
			e = strmap_get(&p->authz_cache, key, keylen);
	}
	if (e != NULL && e->decision != NULL && now < e->expires_ms) {
		p->authz_hits++;
		e->last_used_ms = now;
		authz_serve(p, s, e->decision);
		return;
	}
	if (e != NULL && e->inflight) {
		/* the same question is out: its answer serves this one */
		p->authz_coalesced++;
		s->authz_waiting = e;
		TAILQ_INSERT_TAIL(&e->waiters, s, authz_wait_entry);
		return;
	}
	if (e == NULL) {
		if (keylen > 0 && p->authz_cache.n < AUTHZ_CACHE_MAX) {
			e = entry_new(key, keylen, baselen);
			strmap_put(&p->authz_cache, key, keylen, e);
		} else
			e = entry_new(NULL, 0, baselen);
	}
	free(e->fields);
	e->fields = xstrdup(node != NULL ? node->fields : "");
	s->authz_waiting = e;
	TAILQ_INSERT_TAIL(&e->waiters, s, authz_wait_entry);
	switch (authz_ask(p, e, s)) {
	case -1:
		entry_fail(p, e, "authz-d unavailable (not connected)");
		break;
	case -2:
		/* this request alone: the entry goes, nobody else waits */
		authz_cancel(s);
		entry_fail(p, e, "");
		session_error(s, 431, "DPE", "request too large to ask "
		    "authz-d about (over %d bytes)", MSG_MAX_BYTES);
		break;
	}
}

static void
authz_cancel(struct session *s)
{
	if (s->authz_waiting == NULL)
		return;
	TAILQ_REMOVE(&s->authz_waiting->waiters, s, authz_wait_entry);
	s->authz_waiting = NULL;
}

static int
authz_read(void *arg, const struct msg *m, const struct msg_block *b,
    uint64_t *id, int *has_id, char *err, size_t errlen)
{
	struct authz	*a = arg;

	if (authz_reply_read(m, b, &a->reply, err, errlen) == -1)
		return -1;
	*id = a->reply.id;
	*has_id = a->reply.has_id;
	return 0;
}

/*
 * authz-d decided.  The waiters were asked under the fields known then;
 * if the decision depends on more, only the first is sure to be served
 * by it, and the others ask again under their own keys.
 */
static void
authz_answer(void *arg, void *item)
{
	struct authz		*a = arg;
	struct proxy		*p = a->proxy;
	struct authz_entry	*e = item, *node = NULL, *old;
	const struct authz_reply *r = &a->reply;
	TAILQ_HEAD(, session)	 waiters = TAILQ_HEAD_INITIALIZER(waiters);
	TAILQ_HEAD(, session)	 again = TAILQ_HEAD_INITIALIZER(again);
	struct authz_decision	*d;
	struct session		*s, *first;
	char			 key[AUTHZ_KEY_MAX], reason[300];
	size_t			 keylen = 0;
	int			 shared, keep = 0;

	e->inflight = 0;
	if (r->decision == AUTHZ_REPLY_ERROR) {
		snprintf(reason, sizeof(reason), "authz-d could not decide: "
		    "%.*s", r->reason.p != NULL ? (int)(r->reason.n > 200 ?
		    200 : r->reason.n) : 8, r->reason.p != NULL ? r->reason.p :
		    "no reason");
		entry_fail(p, e, reason);
		return;
	}
	d = authz_decision_ref(decision_new(r));
	if (r->decision == AUTHZ_REPLY_DENY)
		log_debug("authz-d denies (%d): %s", d->status, d->reason);
	/* take the waiters first: the cache must be right before any of
	   them goes on (and maybe asks again) */
	while ((s = TAILQ_FIRST(&e->waiters)) != NULL) {
		TAILQ_REMOVE(&e->waiters, s, authz_wait_entry);
		s->authz_waiting = NULL;
		TAILQ_INSERT_TAIL(&waiters, s, authz_wait_entry);
	}
	first = TAILQ_FIRST(&waiters);
	shared = e->fields != NULL && fields_within(r->vary, e->fields);
	if (e->key != NULL) {
		strmap_del(&p->authz_cache, e->key, strlen(e->key));
		free(e->key);
		e->key = NULL;
	}
	if (first != NULL && r->reuse_ms > 0 && first->gen->pc->authz.cache &&
	    authz_reply_vary_known(r->vary)) {
		char		 base[256];
		size_t		 baselen;
		char		 dest[72];
		struct key_peer	 peer = authz_peer(first, dest, sizeof(dest));

		baselen = authz_base(first, base, sizeof(base));
		if (baselen > 0 && (node = node_merge(p, base, baselen,
		    r->vary)) != NULL)
			keylen = key_authz(&first->req, &peer, node->fields,
			    base, baselen, key, sizeof(key));
	}
	if (keylen > 0) {
		old = strmap_get(&p->authz_cache, key, keylen);
		if (old == NULL || (!old->inflight &&
		    TAILQ_EMPTY(&old->waiters))) {
			if (old != NULL) {
				strmap_del(&p->authz_cache, key, keylen);
				entry_free(old);
			}
			e->key = xstrndup(key, keylen);
			authz_decision_unref(e->decision);
			e->decision = authz_decision_ref(d);
			e->expires_ms = util_now_ms() + r->reuse_ms;
			e->last_used_ms = util_now_ms();
			strmap_put(&p->authz_cache, e->key, keylen, e);
			keep = 1;
		}
	}
	while ((s = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, s, authz_wait_entry);
		if (s == first || shared)
			authz_serve(p, s, d);
		else
			TAILQ_INSERT_TAIL(&again, s, authz_wait_entry);
	}
	if (!keep)
		entry_free(e);
	authz_decision_unref(d);
	while ((s = TAILQ_FIRST(&again)) != NULL) {
		TAILQ_REMOVE(&again, s, authz_wait_entry);
		authz_request(p, s);
	}
}

static void
authz_fail(void *arg, void *item, const char *reason)
{
	struct authz	*a = arg;

	entry_fail(a->proxy, item, reason);
}

/* No decision: every waiter fails closed. */
static void
entry_fail(struct proxy *p, struct authz_entry *e, const char *reason)
{
	struct session		*s;
	TAILQ_HEAD(, session)	 waiters = TAILQ_HEAD_INITIALIZER(waiters);

	e->inflight = 0;
	while ((s = TAILQ_FIRST(&e->waiters)) != NULL) {
		TAILQ_REMOVE(&e->waiters, s, authz_wait_entry);
		s->authz_waiting = NULL;
		TAILQ_INSERT_TAIL(&waiters, s, authz_wait_entry);
	}
	if (e->key != NULL)
		strmap_del(&p->authz_cache, e->key, strlen(e->key));
	entry_free(e);
	while ((s = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, s, authz_wait_entry);
		p->authz_failures++;
		session_error(s, s->gen->pc->authz.failure_status, "ADU",
		    "%s", reason);
	}
}

/* A decision for one request: counted, then the session goes on. */
static void
authz_serve(struct proxy *p, struct session *s, struct authz_decision *d)
{
	if (d->allow)
		p->authz_allowed++;
	else
		p->authz_denied++;
	authz_decided(s, d);
}

/*
 * Envoy's %RESPONSE_CODE_DETAILS% of a denial: the JWT filter's
 * "jwt_authn_access_denied{<its message, spaces as _>}" for a 401, the
 * RBAC filter's for a 403 (which policy matched is authz-d's to say:
 * meshctl why).
 */
static void
authz_details(struct session *s, const struct authz_decision *d)
{
	static const char pre[] = "jwt_authn_access_denied{";
	size_t	 n = sizeof(pre) - 1, i;

	if (d->status != 401 || d->bodylen == 0) {
		util_strlcpy(s->details, "rbac_access_denied_matched_policy"
		    "[none]", sizeof(s->details));
		return;
	}
	memcpy(s->details, pre, n);
	for (i = 0; i < d->bodylen && n + 2 < sizeof(s->details); i++) {
		char c = d->body[i];

		if (c == '\n' || c == '\r')
			break;
		s->details[n++] = c == ' ' || c < 0x20 || c == 0x7f ? '_' : c;
	}
	s->details[n++] = '}';
	s->details[n] = '\0';
}

/* Denied: answered here with authz-d's status and body.  Allowed: on. */
static void
authz_decided(struct session *s, struct authz_decision *d)
{
	if (!d->allow) {
		util_strlcpy(s->flags, "UAEX", sizeof(s->flags));
		authz_details(s, d);
		log_info("%s: %d UAEX %.*s %.*s%.*s: authz-d denied%s%s",
		    s->client_addr, d->status, (int)s->req.method.n,
		    s->req.method.p, (int)s->req.authority.n,
		    s->req.authority.p, (int)s->req.path.n, s->req.path.p,
		    d->reason[0] != '\0' ? ": " : "", d->reason);
		session_respond(s, d->status, "UAEX", "text/plain", d->body,
		    d->bodylen, STR_NULL, STR_NULL);
		return;
	}
	authz_decision_unref(s->authz);
	s->authz = authz_decision_ref(d);
	stage_done(s, STAGE_NEXT);
}

/* Drop decisions past their time and nodes nobody used for a while. */
void
authz_sweep(struct proxy *p, uint64_t now)
{
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	while (strmap_next(&p->authz_cache, &pos, &key, &value)) {
		struct authz_entry *e = value;

		if (e->inflight || !TAILQ_EMPTY(&e->waiters))
			continue;
		if (e->node ? now > e->last_used_ms + AUTHZ_NODE_IDLE_MS :
		    now >= e->expires_ms) {
			strmap_del(&p->authz_cache, e->key, strlen(e->key));
			entry_free(e);
		}
	}
}

void
authz_fini(struct proxy *p)
{
	size_t		 pos = 0;
	const char	*key;
	void		*value;

	if (p->authz != NULL) {
		/* fails what is in flight: entries leave the cache */
		ipc_req_free(p->authz->req);
		free(p->authz);
		p->authz = NULL;
	}
	while (strmap_next(&p->authz_cache, &pos, &key, &value))
		entry_free(value);
	strmap_fini(&p->authz_cache);
}
