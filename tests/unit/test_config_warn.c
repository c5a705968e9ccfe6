/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the config module's warnings: every field meshkit reads
 * and checks but does not act on is a warning at its position, tagged
 * with its resource's kind, and the load still succeeds; --strict
 * (cfg_errors_strict) makes them errors.  Fixtures are written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "helpers.h"
#include "util.h"

static void	 assert_warns(const char *, const char *);
static void	 test_mechanism(void **);
static void	 test_kind_filter(void **);
static void	 test_strict(void **);
static void	 assert_quiet(const char *);
static void	 test_dr_tunnel(void **);
static void	 test_dr_pool(void **);
static void	 test_dr_outlier(void **);
static void	 test_dr_balancer(void **);
static void	 test_vs_l4(void **);
static void	 test_vs_gateways(void **);
static void	 test_vs_http(void **);
static void	 test_vs_mirror(void **);
static void	 test_service_entry(void **);
static void	 test_workload(void **);
static void	 test_authz(void **);

#define VS_HEAD \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: VirtualService\n" \
	"metadata: {name: v}\n" \
	"spec:\n" \
	"  hosts: [v.example]\n"
#define SE_HEAD \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: ServiceEntry\n" \
	"metadata: {name: s}\n" \
	"spec:\n"
#define AP_HEAD \
	"apiVersion: security.istio.io/v1\n" \
	"kind: AuthorizationPolicy\n" \
	"metadata: {name: a}\n" \
	"spec:\n"
#define RA_HEAD \
	"apiVersion: security.istio.io/v1\n" \
	"kind: RequestAuthentication\n" \
	"metadata: {name: ra}\n" \
	"spec:\n" \
	"  jwtRules:\n" \
	"  - issuer: i\n" \
	"    jwksUri: https://i.example/jwks\n"
#define DR_HEAD \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata: {name: r}\n" \
	"spec:\n" \
	"  host: r.example\n"

/* yaml loads, with no error and the warning want among its messages */
static void
assert_warns(const char *yaml, const char *want)
{
	struct loaded	 l;

	load(&l, yaml);
	if (l.cfg == NULL || l.errs.nerrors != 0)
		fail_msg("want a load with warnings, got:\n%s", l.text);
	assert_true(l.errs.nwarnings > 0);
	assert_has(&l, want);
	done(&l);
}

/* yaml loads without any message: meshkit acts on all of it */
static void
assert_quiet(const char *yaml)
{
	struct loaded	 l;

	load(&l, yaml);
	if (l.cfg == NULL || l.errs.n != 0)
		fail_msg("want no message, got:\n%s", l.text);
	done(&l);
}

static void
test_mechanism(void **state)
{
	struct cfg_errors	 errs;
	char			*text = NULL;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	cfg_errors_add(&errs, "a.yaml", 3, 5, CFG_WARNING, "x is ignored");
	cfg_errors_add(&errs, "a.yaml", 4, 1, CFG_NOTICE, "skipping kind K");
	cfg_errors_add(&errs, "a.yaml", 9, 2, CFG_ERROR, "bad");
	assert_int_equal(errs.nerrors, 1);
	assert_int_equal(errs.nwarnings, 1);
	assert_true(errs.v[0].notice && errs.v[0].warning);
	assert_true(errs.v[1].notice && !errs.v[1].warning);
	cfg_errors_print(&errs, 1, collect, &text);
	assert_string_equal(text, "a.yaml:3:5: warning: x is ignored\n"
	    "a.yaml:4:1: notice: skipping kind K\n"
	    "a.yaml:9:2: bad\n");
	free(text);
	text = NULL;
	cfg_errors_print(&errs, 0, collect, &text);
	assert_string_equal(text, "a.yaml:9:2: bad\n");
	free(text);
	cfg_errors_fini(&errs);
}

/* a daemon logs the warnings about its own kinds, and only those */
static void
test_kind_filter(void **state)
{
	static const char *const route_kinds[] = { "DestinationRule" };
	static const char *const authz_kinds[] = { "AuthorizationPolicy" };
	struct loaded	 l;
	char		*text = NULL;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    tunnel: {protocol: CONNECT, "
	    "targetHost: h, targetPort: 80}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.nwarnings, 1);
	assert_string_equal(l.errs.v[0].kind, "DestinationRule");
	cfg_errors_print_warnings(&l.errs, route_kinds, 1, collect, &text);
	assert_non_null(text);
	assert_string_equal(text, "m.yaml:7:5: warning: DestinationRule "
	    "trafficPolicy.tunnel is not supported by meshkit and is "
	    "ignored\n");
	free(text);
	text = NULL;
	cfg_errors_print_warnings(&l.errs, authz_kinds, 1, collect, &text);
	assert_null(text);
	cfg_errors_print_warnings(&l.errs, NULL, 0, collect, &text);
	assert_non_null(text);
	free(text);
	done(&l);
}

static void
test_strict(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    proxyProtocol: "
	    "{version: V1}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.nerrors, 0);
	assert_int_equal(l.errs.nwarnings, 1);
	cfg_errors_strict(&l.errs);
	assert_int_equal(l.errs.nerrors, 1);
	assert_int_equal(l.errs.nwarnings, 0);
	assert_false(l.errs.v[0].notice);
	done(&l);
}

static void
test_dr_tunnel(void **state)
{
	(void)state;
	assert_warns(DR_HEAD "  trafficPolicy:\n    tunnel: {protocol: "
	    "CONNECT, targetHost: h, targetPort: 80}\n",
	    "m.yaml:7:5: warning: DestinationRule trafficPolicy.tunnel is "
	    "not supported by meshkit and is ignored");
	assert_warns(DR_HEAD "  trafficPolicy:\n    proxyProtocol: "
	    "{version: V2}\n", "m.yaml:7:5: warning: DestinationRule "
	    "trafficPolicy.proxyProtocol is not supported");
	/* in a subset's policy and a port's too */
	assert_warns(DR_HEAD "  subsets:\n  - name: v1\n    labels: {v: "
	    "\"1\"}\n    trafficPolicy:\n      portLevelSettings:\n      - "
	    "port: {number: 80}\n        proxyProtocol: {version: V1}\n",
	    "m.yaml:12:9: warning: DestinationRule "
	    "trafficPolicy.proxyProtocol");
}

static void
test_dr_pool(void **state)
{
	(void)state;
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {h2UpgradePolicy: UPGRADE}\n",
	    "m.yaml:8:14: warning: DestinationRule connectionPool.http."
	    "h2UpgradePolicy UPGRADE is not supported by meshkit and is "
	    "ignored");
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {useClientProtocol: true}\n",
	    "connectionPool.http.useClientProtocol is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {maxConcurrentStreams: 100}\n",
	    "connectionPool.http.maxConcurrentStreams is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {http2MaxRequests: 100}\n",
	    "connectionPool.http.http2MaxRequests is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      tcp: {maxConnectionDuration: 1h}\n",
	    "connectionPool.tcp.maxConnectionDuration is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      tcp:\n        tcpKeepalive: {probes: 3, time: 7200s, "
	    "interval: 75s}\n", "m.yaml:9:9: warning: DestinationRule "
	    "connectionPool.tcp.tcpKeepalive is not supported");
	assert_warns(DR_HEAD "  workloadSelector: {matchLabels: {app: a}}\n"
	    "  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n",
	    "m.yaml:6:3: warning: DestinationRule workloadSelector is not "
	    "supported by meshkit and is ignored");
	/* what proxy-d does anyway says nothing */
	assert_quiet(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {h2UpgradePolicy: DO_NOT_UPGRADE, "
	    "useClientProtocol: false, http1MaxPendingRequests: 10}\n"
	    "      tcp: {maxConnections: 10}\n");
	/* values are checked all the same */
	assert_refused(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {h2UpgradePolicy: UPGRADE, useClientProtocol: "
	    "true}\n", "useClientProtocol must not be true when "
	    "h2UpgradePolicy is UPGRADE");
	assert_refused(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      http: {h2UpgradePolicy: SOMETIMES}\n",
	    "h2UpgradePolicy must be");
	assert_refused(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      tcp:\n        tcpKeepalive: {probes: 3, tyme: 1s}\n",
	    "unknown field tyme in tcpKeepalive");
	assert_refused(DR_HEAD "  trafficPolicy:\n    connectionPool:\n"
	    "      tcp:\n        tcpKeepalive: {interval: soon}\n",
	    "tcpKeepalive interval must be a positive duration");
}

static void
test_dr_outlier(void **state)
{
	(void)state;
	assert_warns(DR_HEAD "  trafficPolicy:\n    outlierDetection:\n"
	    "      splitExternalLocalOriginErrors: true\n"
	    "      consecutiveLocalOriginFailures: 3\n",
	    "m.yaml:8:7: warning: DestinationRule outlierDetection."
	    "splitExternalLocalOriginErrors is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    outlierDetection:\n"
	    "      splitExternalLocalOriginErrors: true\n"
	    "      consecutiveLocalOriginFailures: 3\n",
	    "m.yaml:9:7: warning: DestinationRule outlierDetection."
	    "consecutiveLocalOriginFailures is not supported");
	assert_quiet(DR_HEAD "  trafficPolicy:\n    outlierDetection:\n"
	    "      splitExternalLocalOriginErrors: false\n"
	    "      consecutive5xxErrors: 3\n");
	/* Istio: local-origin failures count apart only when split */
	assert_refused(DR_HEAD "  trafficPolicy:\n    outlierDetection:\n"
	    "      consecutiveLocalOriginFailures: 3\n",
	    "consecutiveLocalOriginFailures needs "
	    "splitExternalLocalOriginErrors: true");
}

static void
test_dr_balancer(void **state)
{
	struct loaded	 l;

	(void)state;
	assert_warns(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      simple: ROUND_ROBIN\n      localityLbSetting:\n"
	    "        enabled: true\n        failover:\n"
	    "        - {from: us-east, to: eu-west}\n"
	    "    outlierDetection: {consecutive5xxErrors: 1}\n",
	    "m.yaml:9:7: warning: DestinationRule trafficPolicy."
	    "loadBalancer.localityLbSetting is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting:\n        distribute:\n"
	    "        - from: us-west/zone1/*\n"
	    "          to: {\"us-west/zone1/*\": 80, "
	    "\"us-west/zone2/*\": 20}\n",
	    "localityLbSetting is not supported");
	assert_quiet(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting: {enabled: false}\n");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting:\n        distribute:\n"
	    "        - from: us-west/zone1/*\n"
	    "          to: {\"us-west/zone1/*\": 80, "
	    "\"us-west/zone2/*\": 10}\n",
	    "distribute to: weights must sum to 100, got 90");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting:\n        failover:\n"
	    "        - {from: us-east, to: us-east}\n",
	    "from and to must be two different regions");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting:\n        distribute:\n"
	    "        - {from: \"a/*/c\", to: {a: 100}}\n",
	    "'*' only at the end");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      localityLbSetting:\n"
	    "        failover: [{from: a, to: b}]\n"
	    "        distribute: [{from: a, to: {b: 100}}]\n",
	    "distribute and failover cannot both be given");
	/* warmup, old and new */
	assert_warns(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      simple: LEAST_REQUEST\n      warmupDurationSecs: 60s\n",
	    "m.yaml:9:7: warning: DestinationRule trafficPolicy."
	    "loadBalancer.warmupDurationSecs is not supported");
	assert_warns(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      simple: LEAST_REQUEST\n      warmup: {duration: 60s, "
	    "minimumPercent: 10, aggression: 1.5}\n",
	    "loadBalancer.warmup is not supported");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      warmup: {minimumPercent: 10}\n",
	    "warmup: duration is required");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      warmup: {duration: 1s, aggression: 0}\n",
	    "warmup aggression must be a number greater than 0");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      warmup: {duration: 1s}\n      warmupDurationSecs: 1s\n",
	    "only one of warmupDurationSecs or warmup can be set");
	/* httpCookie: the name is acted on; ttl and path make no cookie */
	load(&l, DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      consistentHash:\n        httpCookie:\n"
	    "          name: user\n          ttl: 0s\n          path: /\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.nerrors, 0);
	assert_int_equal(l.errs.nwarnings, 2);
	assert_has(&l, "m.yaml:11:11: warning: DestinationRule httpCookie.ttl "
	    "(no cookie is made) is not supported by meshkit and is "
	    "ignored");
	assert_has(&l, "m.yaml:12:11: warning: DestinationRule "
	    "httpCookie.path");
	assert_string_equal(l.cfg->destination_rules[0].policy.hash_key,
	    "user");
	done(&l);
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      consistentHash:\n        httpCookie: {ttl: 0s}\n",
	    "name required for HttpCookie");
	assert_refused(DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	    "      consistentHash:\n        httpCookie: {name: u, ttl: "
	    "later}\n", "httpCookie ttl must be a duration");
}

static void
test_vs_l4(void **state)
{
	(void)state;
	assert_warns(VS_HEAD "  tcp:\n  - match: [{port: 27017}]\n"
	    "    route:\n    - destination: {host: mongo.example, port: "
	    "{number: 5555}}\n", "m.yaml:6:3: warning: VirtualService tcp "
	    "is not supported by meshkit and is ignored");
	assert_warns(VS_HEAD "  tls:\n  - match:\n    - sniHosts: "
	    "[v.example]\n      port: 443\n    route:\n"
	    "    - destination: {host: v.example}\n",
	    "m.yaml:6:3: warning: VirtualService tls is not supported");
	/* their contents are checked as Istio does */
	assert_refused(VS_HEAD "  tls:\n  - match: [{port: 443}]\n"
	    "    route: [{destination: {host: v.example}}]\n",
	    "a tls match needs at least one of sniHosts");
	assert_refused(VS_HEAD "  tls:\n  - match: [{sniHosts: "
	    "[other.example]}]\n    route: [{destination: {host: "
	    "v.example}}]\n", "SNI host \"other.example\" is not one of "
	    "the VirtualService's hosts");
	assert_refused(VS_HEAD "  tls:\n  - route: [{destination: {host: "
	    "v.example}}]\n", "tls route needs at least one match");
	assert_refused(VS_HEAD "  tcp:\n  - match: [{port: 1}]\n",
	    "tcp route: route is required");
	assert_refused(VS_HEAD "  tcp:\n  - match: [{destinationSubnets: "
	    "[10.0.0.0/33]}]\n    route: [{destination: {host: a}}]\n",
	    "is not an IP address or CIDR block");
	assert_refused(VS_HEAD "  tcp:\n  - route: [{destination: {host: "
	    "\"*\"}}]\n", "destination host must be a domain name");
	assert_refused(VS_HEAD "  tcp:\n  - route:\n    - {destination: "
	    "{host: a}, weight: 0}\n    - {destination: {host: b}, weight: "
	    "0}\n", "total destination weight is 0");
	assert_refused(VS_HEAD "  tcp:\n  - route: [{destination: {host: a, "
	    "subset: \"V_1\"}}]\n", "not a valid subset name");
	assert_refused(VS_HEAD "  tcp:\n  - match: [{prot: 1}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "unknown field prot in tcp route");
}

static void
test_vs_gateways(void **state)
{
	(void)state;
	assert_warns(VS_HEAD "  gateways: [shop-gateway]\n  http:\n"
	    "  - route: [{destination: {host: v.example}}]\n",
	    "m.yaml:6:13: warning: VirtualService bound only to gateways "
	    "(shop-gateway) is not supported by meshkit and is ignored");
	assert_warns(VS_HEAD "  gateways: [mesh, shop-gateway]\n  http:\n"
	    "  - route: [{destination: {host: v.example}}]\n",
	    "m.yaml:6:20: warning: VirtualService gateway shop-gateway is "
	    "not supported by meshkit and is ignored");
	assert_warns(VS_HEAD "  http:\n  - match: [{gateways: [gw]}]\n"
	    "    route: [{destination: {host: v.example}}]\n",
	    "warning: VirtualService http match bound only to gateways "
	    "(gw) is not supported");
	assert_warns(VS_HEAD "  http:\n  - match: [{statPrefix: s, uri: "
	    "{prefix: /}}]\n    route: [{destination: {host: v.example}}]\n",
	    "m.yaml:7:14: warning: VirtualService http match statPrefix is "
	    "not supported by meshkit and is ignored");
	assert_quiet(VS_HEAD "  gateways: [mesh]\n  http:\n"
	    "  - route: [{destination: {host: v.example}}]\n");
}

static void
test_vs_http(void **state)
{
	(void)state;
	assert_warns(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    retries: {attempts: 2, "
	    "retryRemoteLocalities: true}\n",
	    "warning: VirtualService retries.retryRemoteLocalities is not "
	    "supported by meshkit and is ignored");
	assert_quiet(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    retries: {attempts: 2, "
	    "retryRemoteLocalities: false}\n");
	assert_warns(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    corsPolicy:\n      allowOrigins: [{exact: "
	    "\"https://a.example\"}]\n      unmatchedPreflights: IGNORE\n",
	    "m.yaml:10:7: warning: VirtualService corsPolicy."
	    "unmatchedPreflights IGNORE is not supported");
	assert_quiet(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    corsPolicy:\n      allowOrigins: [{exact: "
	    "\"https://a.example\"}]\n      unmatchedPreflights: FORWARD\n");
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    corsPolicy:\n      unmatchedPreflights: "
	    "DROP\n", "unmatchedPreflights must be");
	assert_warns(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    fault:\n      abort:\n        grpcStatus: "
	    "UNAVAILABLE\n        percentage: {value: 10}\n",
	    "m.yaml:10:9: warning: VirtualService fault.abort.grpcStatus is "
	    "not supported by meshkit and is ignored");
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    fault:\n      abort: {grpcStatus: NOPE}\n",
	    "fault abort grpcStatus must be");
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    fault:\n      abort: {http2Error: "
	    "REFUSED_STREAM}\n", "fault abort: http2Error is not supported");
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    fault:\n      abort: {httpStatus: 503, "
	    "grpcStatus: UNAVAILABLE}\n",
	    "httpStatus and grpcStatus are one or the other");
}

static void
test_vs_mirror(void **state)
{
	struct loaded	 l;

	(void)state;
	load(&l, VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    mirror: {host: m.example}\n"
	    "    mirrorPercent: 0\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.errs.n, 0);
	assert_int_equal(l.cfg->virtual_services[0].http[0].nmirrors, 1);
	assert_int_equal(l.cfg->virtual_services[0].http[0].mirrors[0].
	    mirror_ppm, 0);
	done(&l);
	load(&l, VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    mirror: {host: m.example}\n"
	    "    mirror_percent: 25\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->virtual_services[0].http[0].mirrors[0].
	    mirror_ppm, 250000);
	done(&l);
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    mirror: {host: m.example}\n"
	    "    mirrorPercent: 101\n", "mirrorPercent must be 0..100");
	assert_refused(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    mirror: {host: m.example}\n"
	    "    mirrors: [{destination: {host: n.example}}]\n",
	    "HTTPRoute cannot have both mirror and mirrors");
	assert_warns(VS_HEAD "  http:\n  - route: [{destination: {host: "
	    "v.example}}]\n    mirrors: [{destination: {host: n.example}}]\n"
	    "    mirrorPercentage: {value: 5}\n",
	    "m.yaml:9:23: warning: VirtualService mirrorPercentage without "
	    "mirror is not supported by meshkit and is ignored");
}

static void
test_service_entry(void **state)
{
	(void)state;
	assert_warns(SE_HEAD "  hosts: [db.example]\n"
	    "  addresses: [10.1.0.0/16]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: STATIC\n  location: MESH_INTERNAL\n"
	    "  subjectAltNames: [spiffe://cluster.local/ns/a/sa/db]\n"
	    "  endpoints: [{address: 10.1.2.3}]\n",
	    "m.yaml:6:3: warning: ServiceEntry addresses is not supported");
	assert_warns(SE_HEAD "  hosts: [db.example]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: DNS\n  location: MESH_INTERNAL\n",
	    "m.yaml:8:3: warning: ServiceEntry location MESH_INTERNAL is not "
	    "supported");
	/* proxy-d checks a server's mTLS identity with them */
	assert_quiet(SE_HEAD "  hosts: [db.example]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: DNS\n  subjectAltNames: [db]\n");
	assert_quiet(SE_HEAD "  hosts: [db.example]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: DNS\n  location: MESH_EXTERNAL\n");
	/* Istio refuses these; meshkit did not */
	assert_refused(SE_HEAD "  hosts: [\"*\"]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: NONE\n", "m.yaml:5:11: host \"*\" is not allowed "
	    "in a ServiceEntry");
	assert_refused(SE_HEAD "  hosts: [db.example]\n"
	    "  addresses: [10.1.0.0/16]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: DNS\n", "CIDR addresses are allowed only with "
	    "resolution NONE or STATIC");
	assert_refused(SE_HEAD "  hosts: [db.example]\n"
	    "  addresses: [db.internal]\n  resolution: NONE\n",
	    "address \"db.internal\" is not an IP address or a CIDR block");
	assert_refused(SE_HEAD "  hosts: [\"db_1.example\"]\n"
	    "  resolution: NONE\n", "is not a domain name");
	/* wildcards Istio takes */
	assert_quiet(SE_HEAD "  hosts: [\"*.example.com\", \"*foo.example\"]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: NONE\n");
}

static void
test_workload(void **state)
{
	(void)state;
	assert_warns("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: we}\nspec:\n"
	    "  address: 10.0.0.1\n  network: net-2\n"
	    "  locality: us-east/a\n  serviceAccount: rating\n",
	    "m.yaml:6:3: warning: WorkloadEntry network is not supported by "
	    "meshkit and is ignored");
	assert_warns("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: we}\nspec:\n"
	    "  address: 10.0.0.1\n  locality: us-east/a\n",
	    "m.yaml:6:3: warning: WorkloadEntry locality is not supported");
	/* its mTLS identity: proxies check a server by it */
	assert_quiet("apiVersion: networking.istio.io/v1\n"
	    "kind: WorkloadEntry\nmetadata: {name: we}\nspec:\n"
	    "  address: 10.0.0.1\n  serviceAccount: rating\n");
	assert_warns(SE_HEAD "  hosts: [db.example]\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: STATIC\n"
	    "  endpoints: [{address: 10.0.0.1, network: n1}]\n",
	    "warning: ServiceEntry endpoints[].network is not supported");
}

static void
test_authz(void **state)
{
	(void)state;
	/* peers' identities come with mTLS: no warning */
	assert_quiet(AP_HEAD "  rules:\n  - from:\n    - source:\n"
	    "        principals: [cluster.local/ns/a/sa/b]\n");
	assert_quiet(AP_HEAD "  action: DENY\n  rules:\n  - from:\n"
	    "    - source:\n        notNamespaces: [prod]\n");
	assert_quiet(AP_HEAD "  rules:\n  - when:\n"
	    "    - key: source.namespace\n      values: [a]\n");
	assert_quiet(AP_HEAD "  rules:\n  - from:\n    - source:\n"
	    "        requestPrincipals: [\"*\"]\n");
	/* RequestAuthentication: empty names Istio refuses */
	assert_refused(RA_HEAD "    audiences: [a, \"\"]\n",
	    "m.yaml:8:20: audiences: an audience must not be empty");
	assert_refused(RA_HEAD "    fromCookies: [\"\"]\n",
	    "fromCookies: a cookie name must not be empty");
	assert_refused(RA_HEAD "    outputClaimToHeaders: [{header: x-a, "
	    "claim: \"\"}]\n", "a claim name must not be empty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanism),
		cmocka_unit_test(test_kind_filter),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_dr_tunnel),
		cmocka_unit_test(test_dr_pool),
		cmocka_unit_test(test_dr_outlier),
		cmocka_unit_test(test_dr_balancer),
		cmocka_unit_test(test_vs_l4),
		cmocka_unit_test(test_vs_gateways),
		cmocka_unit_test(test_vs_http),
		cmocka_unit_test(test_vs_mirror),
		cmocka_unit_test(test_service_entry),
		cmocka_unit_test(test_workload),
		cmocka_unit_test(test_authz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
