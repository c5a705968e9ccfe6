/* SPDX-License-Identifier: ISC */
/*
 * meshkit's own kind, Proxy (meshkit.io/v1alpha1): what one proxy-d
 * serves and how.  etc/meshkit/proxy.yaml shows every field with its
 * default; config_proxy_defaults is the same list in code.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "http.h"
#include "spiffe.h"
#include "util.h"
#include "yaml.h"

/* In the order of enum failure_policy. */
static const char *const failure_policies[] = {
	"open", "closed", "stale", NULL
};
static const char *const directions[] = { "inbound", "outbound", NULL };
/* nng's transports, so a typo fails here and not at proxy-d's dial */
static const char *const nng_schemes[] = {
	"ipc://", "tcp://", "tcp4://", "tcp6://", "tls+tcp://", "tls+tcp4://",
	"tls+tcp6://", "inproc://", "ws://", "ws4://", "ws6://", "wss://",
	"wss4://", "wss6://", NULL
};

static int	 proxy_workload(struct config_loader *, const struct ynode *,
		    struct proxy_config *);
static int	 proxy_sockaddr(struct config_loader *, const struct ynode *,
		    const char *, char **);
static int	 proxy_listener(struct config_loader *, const struct ynode *,
		    struct proxy_listener *);
static int	 proxy_listeners(struct config_loader *, const struct ynode *,
		    struct proxy_config *);
static int	 proxy_nng_url(struct config_loader *, const struct ynode *,
		    const char *, const char *, char **);
static int	 proxy_daemon(struct config_loader *, const struct ynode *,
		    const char *, struct proxy_daemon *);
static int	 proxy_daemons(struct config_loader *, const struct ynode *,
		    struct proxy_config *);
static int	 proxy_limits(struct config_loader *, const struct ynode *,
		    struct proxy_config *);
static int	 proxy_timeouts(struct config_loader *, const struct ynode *,
		    struct proxy_config *);

void
config_proxy_defaults(struct proxy_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->workload_namespace = xstrdup(CONFIG_DEFAULT_NAMESPACE);
	xasprintf(&pc->route.address, "ipc://%s/route.sock", util_rundir());
	pc->route.timeout_ms = 1000;
	pc->route.cache = 1;
	pc->route.failure = FAILURE_STALE;
	xasprintf(&pc->authz.address, "ipc://%s/authz.sock", util_rundir());
	pc->authz.timeout_ms = 1000;
	pc->authz.cache = 1;
	pc->authz.failure = FAILURE_CLOSED;
	pc->authz.failure_status = 403;
	xasprintf(&pc->breaker.address, "ipc://%s/breaker.sock",
	    util_rundir());
	xasprintf(&pc->breaker.reports, "ipc://%s/breaker-report.sock",
	    util_rundir());
	xasprintf(&pc->breaker.events, "ipc://%s/breaker-events.sock",
	    util_rundir());
	pc->breaker.timeout_ms = 100;
	pc->breaker.cache = 1;
	pc->breaker.failure = FAILURE_OPEN;
	xasprintf(&pc->stats.address, "ipc://%s/stats-records.sock",
	    util_rundir());
	pc->stats.failure = FAILURE_OPEN;
	xasprintf(&pc->tls.address, "ipc://%s/tls.sock", util_rundir());
	xasprintf(&pc->tls.events, "ipc://%s/tls-events.sock",
	    util_rundir());
	pc->tls.timeout_ms = 1000;
	pc->tls.failure = FAILURE_STALE;
	pc->service_account = xstrdup("default");
	pc->uid = -1;
	pc->max_request_line = 8192;
	pc->max_headers = 100;
	pc->max_head_bytes = 65536;
	pc->max_connections = 10000;
	pc->buffer_bytes = 262144;
	pc->retry_buffer_bytes = 1024 * 1024;
	pc->pool_max_idle = 64;
	pc->connect_timeout_ms = 10 * 1000;
	pc->request_head_timeout_ms = 10 * 1000;
	pc->idle_timeout_ms = 300 * 1000;
	pc->upstream_idle_timeout_ms = 60 * 1000;
	pc->stream_idle_timeout_ms = 300 * 1000;
	pc->drain_timeout_ms = 30 * 1000;
}

void
config_proxy_fini(struct proxy_config *pc)
{
	size_t	 i;

	config_meta_fini(&pc->meta);
	free(pc->workload_name);
	free(pc->workload_namespace);
	config_labels_fini(&pc->workload_labels);
	for (i = 0; i < pc->nlisteners; i++) {
		free(pc->listeners[i].name);
		free(pc->listeners[i].address);
		free(pc->listeners[i].forward);
	}
	free(pc->listeners);
	free(pc->route.address);
	free(pc->authz.address);
	free(pc->breaker.address);
	free(pc->breaker.reports);
	free(pc->breaker.events);
	free(pc->stats.address);
	free(pc->tls.address);
	free(pc->tls.events);
	free(pc->service_account);
	memset(pc, 0, sizeof(*pc));
}

static int
proxy_workload(struct config_loader *l, const struct ynode *n,
    struct proxy_config *pc)
{
	const struct ynode	*k, *v;
	size_t			 i;
	uint32_t		 uid;
	int			 rc = 0;

	if (config_expect_map(l, n, "workload") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "name"))
			rc |= config_string(l, v, "workload.name",
			    &pc->workload_name);
		else if (config_key_is(k, "namespace"))
			rc |= config_string(l, v, "workload.namespace",
			    &pc->workload_namespace);
		else if (config_key_is(k, "labels"))
			rc |= config_labels(l, v, "workload.labels",
			    &pc->workload_labels);
		else if (config_key_is(k, "serviceAccount")) {
			if (config_string(l, v, "workload.serviceAccount",
			    &pc->service_account) == -1)
				rc = -1;
			else if (!spiffe_segment_ok((struct str){
			    pc->service_account,
			    strlen(pc->service_account) })) {
				config_error(l, v, "workload.serviceAccount "
				    "must be letters, digits, '.', '-' and "
				    "'_' (it is part of a SPIFFE ID)");
				rc = -1;
			}
		} else if (config_key_is(k, "uid")) {
			if (config_u32(l, v, "workload.uid", 0,
			    UINT32_MAX - 1, &uid) == -1)
				rc = -1;
			else
				pc->uid = uid;
		} else {
			config_unknown_field(l, k, "Proxy workload");
			rc = -1;
		}
	}
	return rc;
}

/* Numeric only: proxy-d binds and connects without asking DNS. */
static int
proxy_sockaddr(struct config_loader *l, const struct ynode *n,
    const char *what, char **out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			*s = NULL, q[80];

	if (config_string(l, n, what, &s) == -1)
		return -1;
	if (util_parse_sockaddr(s, &ss, &len) == -1) {
		yaml_quote(q, sizeof(q), n->value, n->len);
		config_error(l, n, "%s must be a numeric address and port "
		    "such as 127.0.0.1:15001, [::1]:15001 or unix:/path, "
		    "got %s", what, q);
		free(s);
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

static int
proxy_listener(struct config_loader *l, const struct ynode *n,
    struct proxy_listener *ls)
{
	const struct ynode	*k, *v, *forward = NULL;
	size_t			 i;
	int			 rc = 0, dir = -1, has_address = 0;
	int			 has_direction = 0;

	if (config_expect_map(l, n, "a listener") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "name"))
			rc |= config_string(l, v, "listener name", &ls->name);
		else if (config_key_is(k, "direction")) {
			rc |= config_enum(l, v, "listener direction",
			    directions, &dir);
			has_direction = 1;
		}
		else if (config_key_is(k, "address")) {
			rc |= proxy_sockaddr(l, v, "listener address",
			    &ls->address);
			has_address = 1;
		} else if (config_key_is(k, "forward")) {
			rc |= proxy_sockaddr(l, v, "listener forward",
			    &ls->forward);
			forward = v;
		} else {
			config_unknown_field(l, k, "Proxy listener");
			rc = -1;
		}
	}
	if (!has_direction)
		config_error(l, n, "listener direction is required: inbound "
		    "or outbound");
	if (!has_address) {
		config_error(l, n, "listener address is required");
		rc = -1;
	}
	if (dir == -1)
		return -1;
	ls->direction = dir == 0 ? LISTENER_INBOUND : LISTENER_OUTBOUND;
	if (ls->direction == LISTENER_INBOUND && forward == NULL) {
		config_error(l, n, "an inbound listener needs forward: the "
		    "local app's address");
		rc = -1;
	}
	if (ls->direction == LISTENER_OUTBOUND && forward != NULL) {
		config_error(l, forward, "forward is only for inbound "
		    "listeners: outbound requests go where route-d says");
		rc = -1;
	}
	if (ls->name == NULL)
		ls->name = xstrdup(directions[dir]);
	return rc;
}

static int
proxy_listeners(struct config_loader *l, const struct ynode *n,
    struct proxy_config *pc)
{
	size_t	 i, j;
	int	 rc = 0;

	if (n->type != YNODE_SEQ) {
		config_error(l, n, "listeners must be a list");
		return -1;
	}
	pc->listeners = xcalloc(n->n, sizeof(*pc->listeners));
	for (i = 0; i < n->n; i++) {
		struct proxy_listener *ls = &pc->listeners[pc->nlisteners++];

		if (proxy_listener(l, n->values[i], ls) == -1) {
			rc = -1;
			continue;
		}
		for (j = 0; j + 1 < pc->nlisteners; j++) {
			const struct proxy_listener *o = &pc->listeners[j];

			if (o->name != NULL && strcmp(o->name, ls->name) == 0)
				config_error(l, n->values[i], "duplicate "
				    "listener name %s (give each listener its "
				    "own name)", ls->name);
			if (o->address != NULL && ls->address != NULL &&
			    strcmp(o->address, ls->address) == 0)
				config_error(l, n->values[i], "duplicate "
				    "listener address %s", ls->address);
		}
	}
	return rc;
}

/* An nng URL, so a typo fails here and not at proxy-d's dial. */
static int
proxy_nng_url(struct config_loader *l, const struct ynode *v,
    const char *what, const char *name, char **out)
{
	char	 q[80];
	size_t	 j;

	if (config_string(l, v, what, out) == -1)
		return -1;
	for (j = 0; nng_schemes[j] != NULL; j++)
		if (strncmp(*out, nng_schemes[j], strlen(nng_schemes[j])) ==
		    0 && (*out)[strlen(nng_schemes[j])] != '\0')
			return 0;
	yaml_quote(q, sizeof(q), v->value, v->len);
	config_error(l, v, "%s must be an nng URL such as ipc:///run/meshkit/"
	    "%s.sock or tcp://10.0.0.1:7000, got %s", what, name, q);
	return -1;
}

/*
 * One daemons.NAME section.  Each daemon has its own failure policy:
 * route-d's is chosen, authz-d always fails closed (with a chosen
 * status), breaker-d always fails open, and without tls-d proxy-d keeps
 * the certificate it has (stale) until it expires.
 */
static int
proxy_daemon(struct config_loader *l, const struct ynode *n,
    const char *name, struct proxy_daemon *d)
{
	const struct ynode	*k, *v;
	char			 where[64];
	size_t			 i;
	int			 rc = 0, fp;
	uint32_t		 status;
	int			 authz = strcmp(name, "authz") == 0;
	int			 breaker = strcmp(name, "breaker") == 0;
	/* stats-d is pushed to, never asked: no timeout, no cache */
	int			 stats = strcmp(name, "stats") == 0;
	int			 tls = strcmp(name, "tls") == 0;

	snprintf(where, sizeof(where), "Proxy daemons.%s", name);
	if (config_expect_map(l, n, where) == -1)
		return -1;
	/* a section of its own turns an optional daemon on */
	d->enabled = 1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "address"))
			rc |= proxy_nng_url(l, v, "daemon address",
			    stats ? "stats-records" : name, &d->address);
		else if (breaker && config_key_is(k, "reports"))
			rc |= proxy_nng_url(l, v, "daemons.breaker.reports",
			    "breaker-report", &d->reports);
		else if (breaker && config_key_is(k, "events"))
			rc |= proxy_nng_url(l, v, "daemons.breaker.events",
			    "breaker-events", &d->events);
		else if (tls && config_key_is(k, "events"))
			rc |= proxy_nng_url(l, v, "daemons.tls.events",
			    "tls-events", &d->events);
		else if (!stats && config_key_is(k, "timeout"))
			rc |= config_duration(l, v, "timeout",
			    &d->timeout_ms);
		else if (!tls && !stats && config_key_is(k, "cache"))
			rc |= config_bool(l, v, "cache", &d->cache);
		else if ((authz || breaker || tls || stats) &&
		    config_key_is(k, "enabled"))
			rc |= config_bool(l, v, "enabled", &d->enabled);
		else if (authz && config_key_is(k, "failureStatus")) {
			if (config_u32(l, v, "failureStatus", 403, 503,
			    &status) == -1)
				rc = -1;
			else if (status != 403 && status != 503) {
				config_error(l, v, "failureStatus must be 403 "
				    "or 503, got %u", status);
				rc = -1;
			} else
				d->failure_status = (int)status;
		} else if (config_key_is(k, "failurePolicy")) {
			if (config_enum(l, v, "failurePolicy",
			    failure_policies, &fp) == -1)
				rc = -1;
			else if (authz && fp != FAILURE_CLOSED) {
				config_error(l, v, "authz-d fails closed: "
				    "failurePolicy must be closed");
				rc = -1;
			} else if (breaker && fp != FAILURE_OPEN) {
				config_error(l, v, "breaker-d fails open: "
				    "failurePolicy must be open");
				rc = -1;
			} else if (stats && fp != FAILURE_OPEN) {
				config_error(l, v, "stats-d fails open: "
				    "failurePolicy must be open");
				rc = -1;
			} else if (tls && fp != FAILURE_STALE) {
				config_error(l, v, "without tls-d proxy-d "
				    "keeps its certificate until it expires: "
				    "failurePolicy must be stale");
				rc = -1;
			} else
				d->failure = (enum failure_policy)fp;
		} else {
			config_unknown_field(l, k, where);
			rc = -1;
		}
	}
	return rc;
}

static int
proxy_daemons(struct config_loader *l, const struct ynode *n,
    struct proxy_config *pc)
{
	size_t	 i;
	int	 rc = 0;

	if (config_expect_map(l, n, "daemons") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		if (config_key_is(n->keys[i], "authz"))
			pc->authz.enabled = 1;
		else if (config_key_is(n->keys[i], "breaker"))
			pc->breaker.enabled = 1;
		else if (config_key_is(n->keys[i], "stats"))
			pc->stats.enabled = 1;
		else if (config_key_is(n->keys[i], "tls"))
			pc->tls.enabled = 1;
		if (config_is_null(n->values[i]))
			continue;
		if (config_key_is(n->keys[i], "route"))
			rc |= proxy_daemon(l, n->values[i], "route",
			    &pc->route);
		else if (config_key_is(n->keys[i], "authz"))
			rc |= proxy_daemon(l, n->values[i], "authz",
			    &pc->authz);
		else if (config_key_is(n->keys[i], "breaker"))
			rc |= proxy_daemon(l, n->values[i], "breaker",
			    &pc->breaker);
		else if (config_key_is(n->keys[i], "stats"))
			rc |= proxy_daemon(l, n->values[i], "stats",
			    &pc->stats);
		else if (config_key_is(n->keys[i], "tls"))
			rc |= proxy_daemon(l, n->values[i], "tls", &pc->tls);
		else {
			config_unknown_field(l, n->keys[i], "Proxy daemons");
			rc = -1;
		}
	}
	return rc;
}

static int
proxy_limits(struct config_loader *l, const struct ynode *n,
    struct proxy_config *pc)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "limits") == -1)
		return -1;
	/* bounds: small enough to be a mistake, or big enough to be one */
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "maxRequestLine"))
			rc |= config_size(l, v, "maxRequestLine", 256,
			    1024 * 1024, &pc->max_request_line);
		else if (config_key_is(k, "maxHeaders"))
			rc |= config_size(l, v, "maxHeaders", 1,
			    HTTP_MAX_HEADERS_CEILING, &pc->max_headers);
		else if (config_key_is(k, "maxHeadBytes"))
			rc |= config_size(l, v, "maxHeadBytes", 1024,
			    16 * 1024 * 1024, &pc->max_head_bytes);
		else if (config_key_is(k, "maxConnections"))
			rc |= config_size(l, v, "maxConnections", 0,
			    10000000, &pc->max_connections);
		else if (config_key_is(k, "bufferBytes"))
			rc |= config_size(l, v, "bufferBytes", 4096,
			    1024 * 1024 * 1024, &pc->buffer_bytes);
		else if (config_key_is(k, "retryBufferBytes"))
			rc |= config_size(l, v, "retryBufferBytes", 0,
			    1024 * 1024 * 1024, &pc->retry_buffer_bytes);
		else if (config_key_is(k, "poolMaxIdle"))
			rc |= config_size(l, v, "poolMaxIdle", 0, 100000,
			    &pc->pool_max_idle);
		else {
			config_unknown_field(l, k, "Proxy limits");
			rc = -1;
		}
	}
	if (rc == 0 && pc->max_head_bytes < pc->max_request_line) {
		config_error(l, n, "maxHeadBytes (%zu) must be at least "
		    "maxRequestLine (%zu): the head includes the request line",
		    pc->max_head_bytes, pc->max_request_line);
		rc = -1;
	}
	return rc;
}

static int
proxy_timeouts(struct config_loader *l, const struct ynode *n,
    struct proxy_config *pc)
{
	static const struct {
		const char	*name;
		size_t		 offset;
	} fields[] = {
		{ "connect", offsetof(struct proxy_config,
		    connect_timeout_ms) },
		{ "requestHead", offsetof(struct proxy_config,
		    request_head_timeout_ms) },
		{ "idle", offsetof(struct proxy_config, idle_timeout_ms) },
		{ "upstreamIdle", offsetof(struct proxy_config,
		    upstream_idle_timeout_ms) },
		{ "streamIdle", offsetof(struct proxy_config,
		    stream_idle_timeout_ms) },
		{ "drain", offsetof(struct proxy_config, drain_timeout_ms) },
	};
	char	 what[64];
	size_t	 i, j;
	int	 rc = 0;

	if (config_expect_map(l, n, "timeouts") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		if (config_is_null(n->values[i]))
			continue;
		for (j = 0; j < nitems(fields); j++)
			if (config_key_is(n->keys[i], fields[j].name))
				break;
		if (j == nitems(fields)) {
			config_unknown_field(l, n->keys[i], "Proxy timeouts");
			rc = -1;
			continue;
		}
		snprintf(what, sizeof(what), "timeouts.%s", fields[j].name);
		rc |= config_duration(l, n->values[i], what,
		    (uint64_t *)((char *)pc + fields[j].offset));
	}
	return rc;
}

void
config_proxy(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct proxy_config *pc)
{
	struct resource_meta	 meta = pc->meta;
	const struct ynode	*k, *v;
	size_t			 i;

	(void)root;
	config_proxy_defaults(pc);
	pc->meta = meta;
	free(pc->workload_namespace);
	pc->workload_namespace = NULL;
	for (i = 0; spec != NULL && i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "workload"))
			proxy_workload(l, v, pc);
		else if (config_key_is(k, "listeners"))
			proxy_listeners(l, v, pc);
		else if (config_key_is(k, "daemons"))
			proxy_daemons(l, v, pc);
		else if (config_key_is(k, "limits"))
			proxy_limits(l, v, pc);
		else if (config_key_is(k, "timeouts"))
			proxy_timeouts(l, v, pc);
		else
			config_unknown_field(l, k, "Proxy spec");
	}
	if (pc->workload_name == NULL)
		pc->workload_name = xstrdup(pc->meta.name);
	if (pc->workload_namespace == NULL)
		pc->workload_namespace = xstrdup(pc->meta.namespace);
}
