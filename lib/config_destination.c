/* SPDX-License-Identifier: ISC */
/*
 * Istio's DestinationRule, typed, and the Kubernetes Service read as a
 * ServiceEntry with a workload selector.  As for the other kinds, the
 * rules are Istio's validation, each error at its node.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "util.h"
#include "yaml.h"

static int	dr_policy(struct config_loader *, const struct ynode *,
		    int, struct traffic_policy *);
static int	dr_lb(struct config_loader *, const struct ynode *,
		    struct traffic_policy *);
static int	dr_hash(struct config_loader *, const struct ynode *,
		    struct traffic_policy *);
static void	dr_policy_fini(struct traffic_policy *);
static int	dr_pool(struct config_loader *, const struct ynode *,
		    struct connection_pool *);
static int	dr_outlier(struct config_loader *, const struct ynode *,
		    struct outlier_detection *);
static int	dr_http2(struct config_loader *, const struct ynode *,
		    const struct ynode *, const struct ynode *);

static int
dr_pool(struct config_loader *l, const struct ynode *n,
    struct connection_pool *cp)
{
	const struct ynode	*k, *v, *g;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "connectionPool") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		g = n->values[i];
		if (config_is_null(g))
			continue;
		if (!config_key_is(k, "tcp") && !config_key_is(k, "http")) {
			config_unknown_field(l, k, "connectionPool");
			rc = -1;
			continue;
		}
		if (config_expect_map(l, g, "connectionPool") == -1) {
			rc = -1;
			continue;
		}
		for (j = 0; j < g->n; j++) {
			const struct ynode *f = g->keys[j];

			v = g->values[j];
			if (config_is_null(v))
				continue;
			if (config_key_is(k, "tcp")) {
				if (config_key_is(f, "maxConnections"))
					rc |= config_u32(l, v, "maxConnections",
					    1, INT32_MAX, &cp->max_connections);
				else if (config_key_is(f, "connectTimeout"))
					rc |= config_duration(l, v,
					    "connectTimeout",
					    &cp->connect_timeout_ms);
				else if (config_key_is(f, "idleTimeout"))
					rc |= config_duration(l, v,
					    "idleTimeout",
					    &cp->tcp_idle_timeout_ms);
				else if (config_key_is(f,
				    "maxConnectionDuration")) {
					if (config_duration(l, v,
					    "maxConnectionDuration",
					    &cp->max_connection_duration_ms) ==
					    -1)
						rc = -1;
					else
						config_ignored(l, f,
						    "connectionPool.tcp."
						    "maxConnectionDuration");
				} else if (config_key_is(f, "tcpKeepalive"))
					rc |= config_tcp_keepalive(l, f, v);
				else {
					config_unknown_field(l, f,
					    "connectionPool.tcp");
					rc = -1;
				}
				continue;
			}
			if (config_key_is(f, "http1MaxPendingRequests"))
				rc |= config_u32(l, v, "http1MaxPendingRequests",
				    1, INT32_MAX, &cp->http1_max_pending);
			else if (config_key_is(f, "http2MaxRequests")) {
				/* HTTP/2 upstreams: proxy-d speaks HTTP/1.1 */
				if (config_u32(l, v, "http2MaxRequests", 1,
				    INT32_MAX, &cp->http2_max_requests) == -1)
					rc = -1;
				else
					config_ignored(l, f, "connectionPool."
					    "http.http2MaxRequests");
			}
			else if (config_key_is(f, "maxRequestsPerConnection"))
				rc |= config_u32(l, v,
				    "maxRequestsPerConnection", 0, INT32_MAX,
				    &cp->max_requests_per_connection);
			else if (config_key_is(f, "maxRetries"))
				rc |= config_u32(l, v, "maxRetries", 0,
				    INT32_MAX, &cp->max_retries);
			else if (config_key_is(f, "idleTimeout"))
				rc |= config_duration(l, v, "idleTimeout",
				    &cp->http_idle_timeout_ms);
			else if (config_key_is(f, "h2UpgradePolicy") ||
			    config_key_is(f, "useClientProtocol") ||
			    config_key_is(f, "maxConcurrentStreams"))
				rc |= dr_http2(l, f, v, g);
			else {
				config_unknown_field(l, f,
				    "connectionPool.http");
				rc = -1;
			}
		}
	}
	return rc == 0 ? 0 : -1;
}

/*
 * The HTTP/2 settings of connectionPool.http.  Asking for what proxy-d
 * does anyway (HTTP/1.1 upstreams) is fine; asking for HTTP/2 warns.
 */
static int
dr_http2(struct config_loader *l, const struct ynode *k,
    const struct ynode *v, const struct ynode *http)
{
	static const char *const policies[] = { "DEFAULT",
	    "DO_NOT_UPGRADE", "UPGRADE", NULL };
	uint32_t	 n;
	int		 idx, b;

	if (config_key_is(k, "h2UpgradePolicy")) {
		if (config_enum(l, v, "h2UpgradePolicy", policies, &idx) ==
		    -1)
			return -1;
		if (idx == 2 && !config_is_null(yaml_get(http,
		    "useClientProtocol")) && config_key_is(yaml_get(http,
		    "useClientProtocol"), "true")) {
			config_error(l, v, "useClientProtocol must not be true "
			    "when h2UpgradePolicy is UPGRADE");
			return -1;
		}
		if (idx == 2)
			config_ignored(l, k, "connectionPool.http."
			    "h2UpgradePolicy UPGRADE");
		return 0;
	}
	if (config_key_is(k, "useClientProtocol")) {
		if (config_bool(l, v, "useClientProtocol", &b) == -1)
			return -1;
		if (b)
			config_ignored(l, k, "connectionPool.http."
			    "useClientProtocol");
		return 0;
	}
	if (config_u32(l, v, "maxConcurrentStreams", 0, INT32_MAX, &n) == -1)
		return -1;
	config_ignored(l, k, "connectionPool.http.maxConcurrentStreams");
	return 0;
}

static int
dr_outlier(struct config_loader *l, const struct ynode *n,
    struct outlier_detection *od)
{
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0;

	if (config_expect_map(l, n, "outlierDetection") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "consecutive5xxErrors") ||
		    config_key_is(k, "consecutiveErrors"))
			rc |= config_u32(l, v, "consecutive5xxErrors", 0,
			    INT32_MAX, &od->consecutive_5xx);
		else if (config_key_is(k, "consecutiveGatewayErrors"))
			rc |= config_u32(l, v, "consecutiveGatewayErrors", 0,
			    INT32_MAX, &od->consecutive_gateway);
		else if (config_key_is(k, "consecutiveLocalOriginFailures")) {
			if (config_u32(l, v, "consecutiveLocalOriginFailures",
			    0, INT32_MAX, &od->consecutive_local_origin) == -1)
				rc = -1;
			else if (od->consecutive_local_origin > 0)
				config_ignored(l, k, "outlierDetection."
				    "consecutiveLocalOriginFailures");
		} else if (config_key_is(k, "splitExternalLocalOriginErrors")) {
			if (config_bool(l, v, "splitExternalLocalOriginErrors",
			    &od->split_external_local) == -1)
				rc = -1;
			/* false is what breaker-d does: all count as 5xx */
			else if (od->split_external_local)
				config_ignored(l, k, "outlierDetection."
				    "splitExternalLocalOriginErrors");
		}
		else if (config_key_is(k, "interval"))
			rc |= config_duration(l, v, "interval",
			    &od->interval_ms);
		else if (config_key_is(k, "baseEjectionTime"))
			rc |= config_duration(l, v, "baseEjectionTime",
			    &od->base_ejection_ms);
		else if (config_key_is(k, "maxEjectionPercent"))
			rc |= config_u32(l, v, "maxEjectionPercent", 0, 100,
			    &od->max_ejection_percent);
		else if (config_key_is(k, "minHealthPercent"))
			rc |= config_u32(l, v, "minHealthPercent", 0, 100,
			    &od->min_health_percent);
		else {
			config_unknown_field(l, k, "outlierDetection");
			rc = -1;
		}
	}
	/* Istio: local-origin failures count apart only when split */
	if (rc == 0 && od->consecutive_local_origin > 0 &&
	    !od->split_external_local) {
		config_error(l, n, "outlierDetection: "
		    "consecutiveLocalOriginFailures needs "
		    "splitExternalLocalOriginErrors: true");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
dr_hash(struct config_loader *l, const struct ynode *n,
    struct traffic_policy *p)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0, ways = 0;

	if (config_expect_map(l, n, "consistentHash") == -1)
		return -1;
	p->ring_size = 1024;
	p->maglev_size = 65537;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "httpHeaderName")) {
			ways++;
			p->hash = HASH_HEADER;
			rc |= config_string(l, v, "httpHeaderName",
			    &p->hash_key);
			if (p->hash_key != NULL)
				config_lower(p->hash_key);
		} else if (config_key_is(k, "httpQueryParameterName")) {
			ways++;
			p->hash = HASH_QUERY;
			rc |= config_string(l, v, "httpQueryParameterName",
			    &p->hash_key);
		} else if (config_key_is(k, "useSourceIp")) {
			int	 b = 0;

			rc |= config_bool(l, v, "useSourceIp", &b);
			if (b) {
				ways++;
				p->hash = HASH_SOURCE_IP;
			}
		} else if (config_key_is(k, "httpCookie")) {
			ways++;
			p->hash = HASH_COOKIE;
			if (config_expect_map(l, v, "httpCookie") == -1) {
				rc = -1;
				continue;
			}
			for (j = 0; j < v->n; j++) {
				const struct ynode *ck = v->keys[j];
				char *path = NULL;

				if (config_is_null(v->values[j]))
					continue;
				if (config_key_is(ck, "name"))
					rc |= config_string(l, v->values[j],
					    "httpCookie name", &p->hash_key);
				/* 0s: a session cookie (Istio's example) */
				else if (config_key_is(ck, "ttl")) {
					if (config_duration_zero(l,
					    v->values[j], "httpCookie ttl",
					    &p->cookie_ttl_ms) == -1)
						rc = -1;
					else
						config_ignored(l, ck,
						    "httpCookie.ttl (no "
						    "cookie is made)");
				} else if (config_key_is(ck, "path")) {
					if (config_string(l, v->values[j],
					    "httpCookie path", &path) == -1)
						rc = -1;
					else
						config_ignored(l, ck,
						    "httpCookie.path (no "
						    "cookie is made)");
					free(path);
				} else {
					config_unknown_field(l, v->keys[j],
					    "httpCookie");
					rc = -1;
				}
			}
			if (rc == 0 && p->hash_key == NULL) {
				config_error(l, v, "name required for "
				    "HttpCookie");
				rc = -1;
			}
		} else if (config_key_is(k, "minimumRingSize")) {
			/* the deprecated spelling of ringHash's */
			uint32_t rs;

			if (config_u32(l, v, "minimumRingSize", 1, 1 << 23,
			    &rs) == -1)
				rc = -1;
			else
				p->ring_size = rs;
		}
		else if (config_key_is(k, "ringHash")) {
			uint32_t rs = 1024;

			p->maglev = 0;
			if (config_keys(l, v, "ringHash", (const char *[]){
			    "minimumRingSize", NULL }) == -1)
				rc = -1;
			else if (!config_is_null(yaml_get(v,
			    "minimumRingSize")) && config_u32(l, yaml_get(v,
			    "minimumRingSize"), "minimumRingSize", 1, 1 << 23,
			    &rs) == -1)
				rc = -1;
			p->ring_size = rs;
		} else if (config_key_is(k, "maglev")) {
			uint32_t ts = 65537;

			p->maglev = 1;
			if (config_keys(l, v, "maglev", (const char *[]){
			    "tableSize", NULL }) == -1)
				rc = -1;
			else if (!config_is_null(yaml_get(v, "tableSize")) &&
			    config_u32(l, yaml_get(v, "tableSize"),
			    "tableSize", 2, 5000011, &ts) == -1)
				rc = -1;
			else {
				uint32_t d;

				for (d = 2; (uint64_t)d * d <= ts; d++)
					if (ts % d == 0)
						break;
				if ((uint64_t)d * d <= ts) {
					config_error(l, yaml_get(v,
					    "tableSize"), "maglev tableSize "
					    "must be a prime, got %u", ts);
					rc = -1;
				}
			}
			p->maglev_size = ts;
		} else {
			config_unknown_field(l, k, "consistentHash");
			rc = -1;
		}
	}
	if (rc == 0 && ways != 1) {
		config_error(l, n, "consistentHash needs one of httpHeaderName, "
		    "httpCookie, useSourceIp and httpQueryParameterName");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
dr_lb(struct config_loader *l, const struct ynode *n,
    struct traffic_policy *p)
{
	static const char *const simple[] = {
		"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST", "RANDOM",
		"PASSTHROUGH", "LEAST_CONN", NULL
	};
	const struct ynode	*k, *v;
	size_t			 i;
	int			 rc = 0, idx, ways = 0;

	if (config_expect_map(l, n, "loadBalancer") == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "simple")) {
			ways++;
			if (config_enum(l, v, "loadBalancer simple", simple,
			    &idx) == -1)
				rc = -1;
			else
				/* LEAST_CONN is LEAST_REQUEST's old name */
				p->simple = idx == 5 ? LB_LEAST_REQUEST :
				    (enum lb_simple)idx;
		} else if (config_key_is(k, "consistentHash")) {
			ways++;
			rc |= dr_hash(l, v, p);
		} else if (config_key_is(k, "localityLbSetting"))
			rc |= config_locality_lb(l, k, v);
		else if (config_key_is(k, "warmupDurationSecs") ||
		    config_key_is(k, "warmup")) {
			/* no slow start yet */
			if (!config_is_null(yaml_get(n, "warmup")) &&
			    !config_is_null(yaml_get(n,
			    "warmupDurationSecs")) &&
			    config_key_is(k, "warmup")) {
				config_error(l, k, "only one of "
				    "warmupDurationSecs or warmup can be set");
				rc = -1;
			} else
				rc |= config_warmup(l, k, v);
		} else {
			config_unknown_field(l, k, "loadBalancer");
			rc = -1;
		}
	}
	if (rc == 0 && ways > 1) {
		config_error(l, n, "loadBalancer takes simple or "
		    "consistentHash, not both");
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

static int
dr_policy(struct config_loader *l, const struct ynode *n, int port_level,
    struct traffic_policy *p)
{
	const struct ynode	*k, *v;
	size_t			 i, j;
	int			 rc = 0;

	if (config_expect_map(l, n, "trafficPolicy") == -1)
		return -1;
	if (!config_is_null(yaml_get(n, "tunnel")) &&
	    !config_is_null(yaml_get(n, "proxyProtocol"))) {
		config_error(l, yaml_get(n, "proxyProtocol"), "tunnel and "
		    "proxyProtocol must not be set together");
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		k = n->keys[i];
		v = n->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "loadBalancer"))
			rc |= dr_lb(l, v, p);
		else if (config_key_is(k, "connectionPool")) {
			p->connection_pool = v;
			rc |= dr_pool(l, v, &p->pool);
		} else if (config_key_is(k, "outlierDetection")) {
			p->outlier_detection = v;
			rc |= dr_outlier(l, v, &p->outlier);
		} else if (config_key_is(k, "tls"))
			rc |= config_client_tls(l, k, v, "trafficPolicy.tls",
			    &p->tls);
		else if (port_level && config_key_is(k, "port")) {
			/* read by the caller */
		} else if (!port_level &&
		    config_key_is(k, "portLevelSettings")) {
			if (config_seq(l, v, "portLevelSettings") == -1) {
				rc = -1;
				continue;
			}
			p->ports = xcalloc(v->n, sizeof(*p->ports));
			for (j = 0; j < v->n; j++) {
				struct port_policy *pp = &p->ports[p->nports++];
				const struct ynode *pn;

				if (dr_policy(l, v->values[j], 1,
				    &pp->policy) == -1) {
					rc = -1;
					continue;
				}
				pn = yaml_get(yaml_get(v->values[j], "port"),
				    "number");
				if (config_is_null(pn)) {
					config_error(l, v->values[j],
					    "portLevelSettings: port.number is "
					    "required");
					rc = -1;
				} else
					rc |= config_u32(l, pn, "port number",
					    1, 65535, &pp->port);
			}
		} else if (config_key_is(k, "tunnel"))
			rc |= config_tunnel(l, k, v);
		else if (config_key_is(k, "proxyProtocol"))
			rc |= config_proxy_protocol(l, k, v);
		else {
			config_unknown_field(l, k, "trafficPolicy");
			rc = -1;
		}
	}
	return rc == 0 ? 0 : -1;
}

void
config_destination_rule(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct destination_rule *dr)
{
	const struct ynode	*k, *v;
	size_t			 i, j, m;

	if (spec == NULL) {
		config_error(l, root, "spec with host is required in "
		    "DestinationRule");
		return;
	}
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "host")) {
			if (config_string(l, v, "host", &dr->host) == 0)
				config_lower(dr->host);
		} else if (config_key_is(k, "trafficPolicy"))
			dr->has_policy = dr_policy(l, v, 0, &dr->policy) == 0;
		else if (config_key_is(k, "exportTo"))
			config_string_list(l, v, "exportTo", &dr->export_to,
			    &dr->nexport_to);
		else if (config_key_is(k, "workloadSelector")) {
			/* the rule applies to every client workload */
			if (config_keys(l, v, "workloadSelector",
			    (const char *[]){ "matchLabels", NULL }) == 0)
				config_ignored(l, k, "workloadSelector");
		}
		else if (config_key_is(k, "subsets")) {
			if (config_seq(l, v, "subsets") == -1)
				continue;
			dr->subsets = xcalloc(v->n, sizeof(*dr->subsets));
			for (j = 0; j < v->n; j++) {
				const struct ynode *s = v->values[j];
				struct dr_subset *ss = &dr->subsets[dr->nsubsets];

				if (config_keys(l, s, "subset", (const char *[]){
				    "name", "labels", "trafficPolicy", NULL })
				    == -1)
					continue;
				dr->nsubsets++;
				if (config_is_null(yaml_get(s, "name")))
					config_error(l, s, "subset name is "
					    "required");
				else
					config_string(l, yaml_get(s, "name"),
					    "subset name", &ss->name);
				if (!config_is_null(yaml_get(s, "labels")))
					config_labels(l, yaml_get(s, "labels"),
					    "subset labels", &ss->labels);
				if (!config_is_null(yaml_get(s,
				    "trafficPolicy")))
					ss->has_policy = dr_policy(l,
					    yaml_get(s, "trafficPolicy"), 0,
					    &ss->policy) == 0;
				for (m = 0; ss->name != NULL && m + 1 <
				    dr->nsubsets; m++)
					if (dr->subsets[m].name != NULL &&
					    strcmp(dr->subsets[m].name,
					    ss->name) == 0)
						config_error(l, s, "duplicate "
						    "subset name %s", ss->name);
			}
		} else
			config_unknown_field(l, k, "DestinationRule spec");
	}
	if (dr->host == NULL || dr->host[0] == '\0')
		config_error(l, spec, "host is required in DestinationRule "
		    "spec");
}

/*
 * A Kubernetes Service: its selector picks WorkloadEntries as a
 * ServiceEntry's workloadSelector would, under the name Kubernetes'
 * DNS gives it.
 */
void
config_kube_service(struct config_loader *l, const struct ynode *root,
    const struct ynode *spec, struct service_entry *se)
{
	static const char *const port_keys[] = {
		"port", "targetPort", "name", "protocol", "nodePort",
		"appProtocol", NULL
	};
	const struct ynode	*k, *v;
	size_t			 i, j;

	se->resolution = RESOLUTION_STATIC;
	se->mesh_internal = 1;
	se->hosts = xcalloc(1, sizeof(*se->hosts));
	xasprintf(&se->hosts[0], "%s.%s.svc.cluster.local", se->meta.name,
	    se->meta.namespace);
	se->nhosts = 1;
	if (spec == NULL)
		return;
	for (i = 0; i < spec->n; i++) {
		k = spec->keys[i];
		v = spec->values[i];
		if (config_is_null(v))
			continue;
		if (config_key_is(k, "selector")) {
			if (config_labels(l, v, "selector", &se->selector) ==
			    0)
				se->has_selector = 1;
		} else if (config_key_is(k, "ports")) {
			if (config_seq(l, v, "ports") == -1)
				continue;
			se->ports = xcalloc(v->n, sizeof(*se->ports));
			for (j = 0; j < v->n; j++) {
				const struct ynode *p = v->values[j], *tp;
				struct service_port *sp = &se->ports[se->nports];

				if (config_keys(l, p, "Service port", port_keys) ==
				    -1)
					continue;
				if (config_is_null(yaml_get(p, "port"))) {
					config_error(l, p, "port is required");
					continue;
				}
				if (config_u32(l, yaml_get(p, "port"), "port",
				    1, 65535, &sp->number) == -1)
					continue;
				se->nports++;
				if (!config_is_null(yaml_get(p, "name")))
					config_string(l, yaml_get(p, "name"),
					    "port name", &sp->name);
				if (!config_is_null(yaml_get(p, "protocol")))
					config_string(l, yaml_get(p,
					    "protocol"), "protocol",
					    &sp->protocol);
				tp = yaml_get(p, "targetPort");
				if (config_is_null(tp))
					continue;
				/* a number, or the name of a pod's port */
				if (tp->type == YNODE_SCALAR && tp->len > 0 &&
				    isdigit((unsigned char)tp->value[0]))
					config_u32(l, tp, "targetPort", 1,
					    65535, &sp->target_port);
				else
					config_string(l, tp, "targetPort",
					    &sp->target_port_name);
			}
		}
		/* type, clusterIP, sessionAffinity ...: Kubernetes' own */
	}
}


static void
dr_policy_fini(struct traffic_policy *p)
{
	size_t	 i;

	free(p->hash_key);
	config_client_tls_free(p->tls);
	for (i = 0; i < p->nports; i++)
		dr_policy_fini(&p->ports[i].policy);
	free(p->ports);
}

void
config_destination_rule_fini(struct destination_rule *dr)
{
	size_t	 i;

	config_meta_fini(&dr->meta);
	free(dr->host);
	for (i = 0; i < dr->nsubsets; i++) {
		free(dr->subsets[i].name);
		config_labels_fini(&dr->subsets[i].labels);
		dr_policy_fini(&dr->subsets[i].policy);
	}
	free(dr->subsets);
	dr_policy_fini(&dr->policy);
	config_strings_free(dr->export_to, dr->nexport_to);
	memset(dr, 0, sizeof(*dr));
}
