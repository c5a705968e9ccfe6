/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/breaker.c and lib/breaker_wire.c: ejection on
 * consecutive 5xx and gateway errors, the ejection time times the
 * ejections, probation, maxEjectionPercent, minHealthPercent and panic,
 * decay, the policy of a subset, a port and a rule, a reload keeping the
 * state of endpoints that remain, and the messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "breaker.h"
#include "config.h"
#include "helpers.h"
#include "msg.h"
#include "route.h"
#include "util.h"
#include "yaml.h"

#define SVC	"rating.default.svc.cluster.local"
#define EP1	"127.0.0.1:9081"
#define EP2	"127.0.0.1:9082"
#define EP3	"127.0.0.1:9083"
#define EP4	"127.0.0.1:9084"

static const char service_yaml[] =
    "apiVersion: networking.istio.io/v1\n"
    "kind: ServiceEntry\n"
    "metadata: {name: rating}\n"
    "spec:\n"
    "  hosts: [rating.default.svc.cluster.local]\n"
    "  ports: [{number: 8080, name: http, protocol: HTTP},"
    " {number: 9090, name: admin, protocol: HTTP}]\n"
    "  resolution: STATIC\n"
    "  endpoints:\n"
    "  - {address: 127.0.0.1, ports: {http: 9081, admin: 9081},"
    " labels: {version: v1}}\n"
    "  - {address: 127.0.0.1, ports: {http: 9082, admin: 9082},"
    " labels: {version: v2}}\n"
    "  - {address: 127.0.0.1, ports: {http: 9083, admin: 9083},"
    " labels: {version: v2}}\n"
    "  - {address: 127.0.0.1, ports: {http: 9084, admin: 9084},"
    " labels: {version: v3}}\n";

static struct config	*load_dr(const char *);
static size_t		 report(struct breaker *, const char *, const char *,
			    enum breaker_result, uint32_t);
static struct breaker_endpoint *ep(struct breaker *, const char *);
static void	test_consecutive_5xx(void **);
static void	test_gateway_errors(void **);
static void	test_multiplier_probation(void **);
static void	test_max_ejection_percent(void **);
static void	test_panic(void **);
static void	test_decay(void **);
static void	test_no_outlier_detection(void **);
static void	test_policy_selection(void **);
static void	test_policy_merged_rules(void **);
static void	test_reload_keeps_state(void **);
static void	test_admit_wire(void **);
static void	test_report_wire(void **);
static void	test_state_and_status(void **);
static void	test_filter_trace(void **);
static void	test_bounds(void **);
static void	test_client_side(void **);

/* The rating service and a DestinationRule with the given spec lines. */
static struct config *
load_dr(const char *spec)
{
	char		*yaml;
	struct config	*cfg;

	xasprintf(&yaml, "%s---\napiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: rating}\nspec:\n"
	    "  host: rating\n%s", service_yaml, spec);
	cfg = must_load(yaml);
	free(yaml);
	return cfg;
}

/* One result for address of (SVC, subset, 8080); returns the new events. */
static size_t
report(struct breaker *b, const char *subset, const char *address,
    enum breaker_result r, uint32_t status)
{
	struct breaker_cluster	*c;
	struct breaker_endpoint	*e;
	const struct breaker_event *ev;
	size_t			 before;

	before = breaker_events(b, &ev);
	c = breaker_cluster(b, "default", SVC, subset, 8080, 1);
	assert_non_null(c);
	e = breaker_endpoint(b, c, address, 1);
	assert_non_null(e);
	breaker_report(b, c, e, r, status);
	return breaker_events(b, &ev) - before;
}

static struct breaker_endpoint *
ep(struct breaker *b, const char *address)
{
	struct breaker_cluster	*c;

	c = breaker_cluster(b, "default", SVC, NULL, 8080, 0);
	assert_non_null(c);
	return breaker_endpoint(b, c, address, 0);
}

/* Learn the endpoints of (SVC, "", 8080), as an admit would. */
static void
learn(struct breaker *b, size_t n)
{
	static const char *const eps[] = { EP1, EP2, EP3, EP4 };
	struct breaker_cluster	*c;
	size_t			 i;

	c = breaker_cluster(b, "default", SVC, NULL, 8080, 1);
	for (i = 0; i < n; i++)
		assert_non_null(breaker_endpoint(b, c, eps[i], 1));
}

static void
test_consecutive_5xx(void **state)
{
	struct config		*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 3, "
	    "maxEjectionPercent: 100}\n");
	struct breaker		*b = breaker_new();
	const struct breaker_event *ev;

	breaker_set_config(b, cfg, 1);
	breaker_set_clock(b, 1000);
	learn(b, 2);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503), 0);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(ep(b, EP2)->consecutive_5xx, 2);
	/* a success resets the count */
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 404), 0);
	assert_int_equal(ep(b, EP2)->consecutive_5xx, 0);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 500), 0);
	/* local-origin failures count as 5xx */
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_RESET, 0), 0);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_TIMEOUT, 0), 1);
	assert_int_equal(breaker_events(b, &ev), 1);
	assert_int_equal(ev[0].kind, BREAKER_EVENT_EJECT);
	assert_string_equal(ev[0].endpoint, EP2);
	assert_int_equal(ev[0].ejection_ms, BREAKER_DEFAULT_EJECTION_MS);
	assert_int_equal(ev[0].ejections, 1);
	assert_non_null(strstr(ev[0].reason, "3 consecutive 5xx"));
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);
	assert_int_equal(breaker_ms_left(b, ep(b, EP2)), 30000);
	assert_int_equal(ep(b, EP1)->state, BREAKER_HEALTHY);
	assert_int_equal(breaker_next_due(b), 31000);
	/* late results of tries in flight do not eject it twice */
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503), 0);
	assert_int_equal(breaker_stats(b)->ejections, 1);
	breaker_advance(b, 30999);
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);
	breaker_advance(b, 31000);
	assert_int_equal(ep(b, EP2)->state, BREAKER_PROBATION);
	assert_int_equal(breaker_events(b, &ev), 2);
	assert_int_equal(ev[1].kind, BREAKER_EVENT_RETURN);
	assert_int_equal(ev[1].time_ms, 31000);
	breaker_free(b);
	config_free(cfg);
}

static void
test_gateway_errors(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 0, "
	    "consecutiveGatewayErrors: 3, maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();

	breaker_set_config(b, cfg, 1);
	learn(b, 2);
	/* 500 is a 5xx but not a gateway error; 5xx detection is off */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(ep(b, EP1)->consecutive_5xx, 4);
	assert_int_equal(ep(b, EP1)->consecutive_gateway, 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 502), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 504), 0);
	/* a non-gateway 5xx breaks the run */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(ep(b, EP1)->consecutive_gateway, 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503), 0);
	assert_int_equal(report(b, NULL, EP1,
	    BREAKER_RESULT_CONNECT_FAILURE, 0), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 502), 1);
	assert_int_equal(ep(b, EP1)->state, BREAKER_EJECTED);
	breaker_free(b);
	config_free(cfg);
}

static void
test_multiplier_probation(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 2, interval: 1h, "
	    "baseEjectionTime: 10s, maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();
	const struct breaker_event *ev;
	size_t		 n;

	breaker_set_config(b, cfg, 1);
	learn(b, 2);
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503), 1);
	assert_int_equal(breaker_ms_left(b, ep(b, EP1)), 10000);
	breaker_advance(b, 10000);
	assert_int_equal(ep(b, EP1)->state, BREAKER_PROBATION);
	/* on probation one failure is enough, and the time doubles */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 1);
	n = breaker_events(b, &ev);
	assert_int_equal(ev[n - 1].ejection_ms, 20000);
	assert_int_equal(ev[n - 1].ejections, 2);
	assert_non_null(strstr(ev[n - 1].reason, "probation"));
	breaker_advance(b, 30000);
	assert_int_equal(ep(b, EP1)->state, BREAKER_PROBATION);
	/* a success ends probation; the count stays */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 200), 0);
	assert_int_equal(ep(b, EP1)->state, BREAKER_HEALTHY);
	assert_int_equal(ep(b, EP1)->ejections, 2);
	/* healthy again: it takes two failures, then 3 x 10 s */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 0);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500), 1);
	assert_int_equal(breaker_ms_left(b, ep(b, EP1)), 30000);
	breaker_free(b);
	config_free(cfg);
}

static void
test_max_ejection_percent(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1}\n");
	struct config	*cfg50 = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, "
	    "maxEjectionPercent: 50}\n");
	struct breaker	*b = breaker_new();

	/* the default 10%: the first of 3 may go (0% < 10%), not the next */
	breaker_set_config(b, cfg, 1);
	learn(b, 3);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503), 1);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503), 0);
	assert_int_equal(ep(b, EP2)->state, BREAKER_HEALTHY);
	assert_int_equal(breaker_stats(b)->overflows, 1);
	breaker_free(b);

	b = breaker_new();
	breaker_set_config(b, cfg50, 1);
	learn(b, 4);
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503), 1);
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503), 1);
	assert_int_equal(report(b, NULL, EP3, BREAKER_RESULT_STATUS, 503), 0);
	assert_int_equal(ep(b, EP3)->state, BREAKER_HEALTHY);
	/* once one returns, the next failure of EP3 ejects it */
	breaker_advance(b, BREAKER_DEFAULT_EJECTION_MS);
	assert_int_equal(report(b, NULL, EP3, BREAKER_RESULT_STATUS, 503), 1);
	breaker_free(b);
	config_free(cfg);
	config_free(cfg50);
}

static void
test_panic(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, "
	    "maxEjectionPercent: 100, minHealthPercent: 60}\n");
	struct breaker	*b = breaker_new();
	struct msg_writer out;
	static const char admit[] = "meshkit/1 admit\n\nid: 4\n"
	    "service: " SVC "\nport: 8080\nendpoint: " EP1 "\n"
	    "endpoint: " EP2 "\nendpoint: " EP3 "\n";

	msgw_init(&out);
	breaker_set_config(b, cfg, 1);
	learn(b, 3);
	/* 2 of 3 healthy: 66% >= 60% */
	assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503), 1);
	assert_false(breaker_panic(breaker_cluster(b, "default", SVC, NULL,
	    8080, 0)));
	breaker_handle_request(b, 1000, admit, sizeof(admit) - 1, &out);
	assert_non_null(strstr(out.buf, "ejected: " EP1 " 30000\n"));
	assert_null(strstr(out.buf, "panic"));
	/* 1 of 3: panic, and no ejected lines */
	assert_int_equal(report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503), 1);
	assert_true(breaker_panic(breaker_cluster(b, "default", SVC, NULL,
	    8080, 0)));
	breaker_handle_request(b, 1000, admit, sizeof(admit) - 1, &out);
	assert_non_null(strstr(out.buf, "panic: yes\n"));
	assert_null(strstr(out.buf, "ejected:"));
	assert_int_equal(breaker_stats(b)->panics, 1);
	msgw_fini(&out);
	breaker_free(b);
	config_free(cfg);
}

static void
test_decay(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, interval: 5s, "
	    "baseEjectionTime: 1s, maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();

	breaker_set_config(b, cfg, 1);
	learn(b, 2);
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503);
	breaker_advance(b, 1000);
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503);	/* 2 s */
	assert_int_equal(ep(b, EP1)->ejections, 2);
	breaker_advance(b, 3000);
	assert_int_equal(ep(b, EP1)->state, BREAKER_PROBATION);
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 200);
	/* one less per interval without an ejection */
	breaker_advance(b, 7999);
	assert_int_equal(ep(b, EP1)->ejections, 2);
	breaker_advance(b, 8000);
	assert_int_equal(ep(b, EP1)->ejections, 1);
	breaker_advance(b, 13000);
	assert_int_equal(ep(b, EP1)->ejections, 0);
	assert_int_equal(breaker_next_due(b), 0);
	/* so the next ejection is the base time again */
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 503);
	assert_int_equal(breaker_ms_left(b, ep(b, EP1)), 1000);
	breaker_free(b);
	config_free(cfg);
}

static void
test_no_outlier_detection(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    connectionPool: {tcp: {maxConnections: 2}}\n");
	struct breaker	*b = breaker_new();
	int		 i;

	breaker_set_config(b, cfg, 1);
	learn(b, 2);
	for (i = 0; i < 20; i++)
		assert_int_equal(report(b, NULL, EP1, BREAKER_RESULT_STATUS,
		    503), 0);
	assert_int_equal(ep(b, EP1)->consecutive_5xx, 20);
	assert_int_equal(ep(b, EP1)->state, BREAKER_HEALTHY);
	breaker_free(b);
	config_free(cfg);
}

static void
test_policy_selection(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    connectionPool:\n"
	    "      tcp: {maxConnections: 3, connectTimeout: 250ms}\n"
	    "      http: {http1MaxPendingRequests: 1, maxRetries: 0, "
	    "idleTimeout: 2s}\n"
	    "    outlierDetection: {consecutive5xxErrors: 7}\n"
	    "    portLevelSettings:\n"
	    "    - port: {number: 9090}\n"
	    "      outlierDetection: {consecutive5xxErrors: 4}\n"
	    "  subsets:\n"
	    "  - name: v1\n"
	    "    labels: {version: v1}\n"
	    "  - name: v2\n"
	    "    labels: {version: v2}\n"
	    "    trafficPolicy:\n"
	    "      outlierDetection: {consecutiveGatewayErrors: 2, "
	    "baseEjectionTime: 1m}\n");
	struct breaker_policy	 p;

	breaker_policy_find(cfg, "default", SVC, NULL, 8080, &p);
	assert_true(p.outlier.enabled);
	assert_int_equal(p.outlier.consecutive_5xx, 7);
	assert_int_equal(p.outlier.consecutive_gateway, 0);
	assert_int_equal(p.outlier.interval_ms, 10000);
	assert_int_equal(p.outlier.base_ejection_ms, 30000);
	assert_int_equal(p.outlier.max_ejection_percent, 10);
	assert_int_equal(p.outlier.min_health_percent, 0);
	assert_int_equal(p.limits.set, BREAKER_LIMIT_CONNECTIONS |
	    BREAKER_LIMIT_PENDING | BREAKER_LIMIT_RETRIES |
	    BREAKER_LIMIT_CONNECT_TIMEOUT | BREAKER_LIMIT_IDLE_TIMEOUT);
	assert_int_equal(p.limits.max_connections, 3);
	assert_int_equal(p.limits.max_pending, 1);
	assert_int_equal(p.limits.max_retries, 0);
	assert_int_equal(p.limits.connect_timeout_ms, 250);
	assert_int_equal(p.limits.idle_timeout_ms, 2000);
	assert_non_null(strstr(p.source, "default/rating"));

	/* the port's settings replace the rule's: no connectionPool there */
	breaker_policy_find(cfg, "default", SVC, NULL, 9090, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 4);
	assert_int_equal(p.limits.set, 0);

	/* a subset without a policy: the rule's */
	breaker_policy_find(cfg, "default", SVC, "v1", 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 7);
	/* a subset with one: its outlierDetection, the rule's pool */
	breaker_policy_find(cfg, "default", SVC, "v2", 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 5);	/* Istio default */
	assert_int_equal(p.outlier.consecutive_gateway, 2);
	assert_int_equal(p.outlier.base_ejection_ms, 60000);
	assert_int_equal(p.limits.max_connections, 3);

	/* the rule's host is short; the names asked are any of its forms */
	breaker_policy_find(cfg, "default", "rating", NULL, 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 7);
	breaker_policy_find(cfg, "default", "rating.default", NULL, 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 7);
	/* another namespace's rating is another service */
	breaker_policy_find(cfg, "default", "rating.other.svc.cluster.local",
	    NULL, 8080, &p);
	assert_false(p.outlier.enabled);
	breaker_policy_find(cfg, "default", "book", NULL, 8080, &p);
	assert_false(p.outlier.enabled);
	assert_int_equal(p.limits.set, 0);
	config_free(cfg);
}

/* Two DestinationRules for one host are one, merged as Istio does. */
static void
test_policy_merged_rules(void **state)
{
	struct config	*cfg = load_dr("  subsets:\n"
	    "  - name: v1\n    labels: {version: v1}\n"
	    "---\napiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: rating-more}\nspec:\n"
	    "  host: rating.default.svc.cluster.local\n"
	    "  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 9}\n"
	    "  subsets:\n"
	    "  - name: v2\n    labels: {version: v2}\n"
	    "    trafficPolicy:\n"
	    "      connectionPool: {tcp: {maxConnections: 4}}\n"
	    "  - name: v1\n    labels: {version: v3}\n"
	    "    trafficPolicy:\n"
	    "      outlierDetection: {consecutive5xxErrors: 1}\n");
	struct breaker_policy	 p;
	struct route_answer	*a = xcalloc(1, sizeof(*a));

	(void)state;
	/* the first rule has no policy: the second's applies */
	breaker_policy_find(cfg, "default", SVC, NULL, 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 9);
	/* a subset of the second rule, with its own pool */
	breaker_policy_find(cfg, "default", SVC, "v2", 8080, &p);
	assert_int_equal(p.limits.max_connections, 4);
	assert_int_equal(p.outlier.consecutive_5xx, 9);
	/* v1 is the first rule's: the second's v1 is ignored */
	breaker_policy_find(cfg, "default", SVC, "v1", 8080, &p);
	assert_int_equal(p.outlier.consecutive_5xx, 9);
	assert_int_equal(route_service_endpoints(cfg, NULL, "default", SVC,
	    "v2", 8080, a), 0);
	assert_int_equal(a->nendpoints, 2);
	assert_int_equal(route_service_endpoints(cfg, NULL, "default", SVC,
	    "v1", 8080, a), 0);
	assert_int_equal(a->nendpoints, 1);
	assert_string_equal(a->endpoints[0].address, "127.0.0.1:9081");
	free(a);
	config_free(cfg);
}

static void
test_reload_keeps_state(void **state)
{
	static const char dr[] = "---\napiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: rating}\nspec:\n"
	    "  host: rating\n  trafficPolicy:\n    outlierDetection: "
	    "{consecutive5xxErrors: 1, maxEjectionPercent: 100}\n";
	char			*y1, *y2, *cut;
	struct config		*c1, *c2, *c3;
	struct breaker		*b = breaker_new();
	struct breaker_cluster	*c;

	xasprintf(&y1, "%s%s", service_yaml, dr);
	/* the same service without its endpoint on 9083 */
	y2 = xstrdup(y1);
	cut = strstr(y2, "  - {address: 127.0.0.1, ports: {http: 9083");
	assert_non_null(cut);
	memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) +
	    1);
	assert_null(strstr(y2, "9083"));
	c1 = must_load(y1);
	c2 = must_load(y2);
	c3 = must_load(dr + 4);
	breaker_set_config(b, c1, 1);
	learn(b, 3);
	report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503);
	report(b, NULL, EP1, BREAKER_RESULT_STATUS, 500);
	report(b, NULL, EP3, BREAKER_RESULT_STATUS, 200);
	breaker_advance(b, 1000);
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);

	breaker_set_config(b, c2, 2);
	c = breaker_cluster(b, "default", SVC, NULL, 8080, 0);
	assert_non_null(c);
	assert_int_equal(c->nendpoints, 2);
	assert_null(ep(b, EP3));
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);
	assert_int_equal(breaker_ms_left(b, ep(b, EP2)), 29000);
	assert_int_equal(ep(b, EP1)->state, BREAKER_EJECTED);
	assert_int_equal(c->nejected, 2);
	assert_int_equal(breaker_generation(b), 2);

	/* outlierDetection removed: the ejected return at once */
	{
		char		*y4;
		struct config	*c4;
		const struct breaker_event *ev;
		size_t		 before = breaker_events(b, &ev), n;

		y4 = xstrdup(y1);
		cut = strstr(y4, "  trafficPolicy:");
		assert_non_null(cut);
		*cut = '\0';
		c4 = must_load(y4);
		breaker_set_config(b, c4, 4);
		n = breaker_events(b, &ev);
		/* EP1 and EP2; EP3 was pruned by generation 2 */
		assert_int_equal(n - before, 2);
		assert_int_equal(ev[n - 1].kind, BREAKER_EVENT_RETURN);
		assert_int_equal(ep(b, EP2)->state, BREAKER_HEALTHY);
		assert_int_equal(breaker_cluster(b, "default", SVC, NULL, 8080,
		    0)->nejected, 0);
		breaker_set_config(b, c2, 5);
		config_free(c4);
		free(y4);
	}

	/* the service gone: its cluster goes */
	breaker_set_config(b, c3, 3);
	assert_null(breaker_cluster(b, "default", SVC, NULL, 8080, 0));
	assert_int_equal(breaker_next_due(b), 0);
	breaker_free(b);
	config_free(c1);
	config_free(c2);
	config_free(c3);
	free(y1);
	free(y2);
}

static void
test_admit_wire(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    connectionPool: {tcp: {maxConnections: 1}, "
	    "http: {http1MaxPendingRequests: 1}}\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, "
	    "baseEjectionTime: 500ms, maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();
	struct msg_writer out;
	struct msg	 m;
	char		 err[128];
	static const char admit[] = "meshkit/1 admit\nworkload: book\n"
	    "namespace: default\nlabel: app=book\n\n"
	    "id: 1\nservice: rating\nport: 8080\nendpoint: " EP1 "\n"
	    "endpoint: " EP2 " weight=3\n\n"
	    "id: 2\nport: 8080\n\n"
	    "id: 3\nservice: rating\nendpoint: nowhere:80\n\n"
	    "id: 4\nservice: book\nendpoint: 10.0.0.1:80\n";
	static const char *const bad[] = {
		"meshkit/1 admit\n\nservice: rating\n",
		"meshkit/1 admit\nlabel: novalue\n\nid: 1\nservice: x\n",
		"meshkit/2 admit\n\nid: 1\n",
		"meshkit/1 frobnicate\n\nid: 1\n",
		"not a message",
	};
	size_t		 i;

	msgw_init(&out);
	msg_init(&m);
	breaker_set_config(b, cfg, 7);
	breaker_set_clock(b, 100);
	breaker_handle_request(b, 1000, admit, sizeof(admit) - 1, &out);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_true(msg_type_is(&m, "admit-reply"));
	assert_int_equal(m.nrecords, 4);
	assert_true(util_str_eq(msg_get(&m, &m.header, "generation"), "7"));
	assert_true(util_str_eq(msg_get(&m, &m.records[0], "limits"),
	    "max-connections=1 max-pending=1"));
	assert_true(util_str_eq(msg_get(&m, &m.records[0], "outlier"),
	    "yes"));
	assert_true(util_str_eq(msg_get(&m, &m.records[0], "reuse"), "1000"));
	assert_null(msg_get(&m, &m.records[0], "ejected").p);
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "status"),
	    "error"));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "reason"),
	    "service: missing"));
	assert_true(util_str_eq(msg_get(&m, &m.records[2], "status"),
	    "error"));
	/* no DestinationRule: no limits, no outlier */
	assert_null(msg_get(&m, &m.records[3], "limits").p);
	assert_null(msg_get(&m, &m.records[3], "outlier").p);

	/* the short name and the FQDN are one cluster only when asked so */
	report(b, NULL, EP2, BREAKER_RESULT_STATUS, 503);
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);
	breaker_handle_request(b, 1000, admit, sizeof(admit) - 1, &out);
	/* "rating" is its own cluster key: EP2 is not ejected there */
	assert_null(strstr(out.buf, "ejected:"));

	static const char fq[] = "meshkit/1 admit\n\nid: 9\nservice: " SVC
	    "\nport: 8080\nendpoint: " EP1 "\nendpoint: " EP2 "\n";
	breaker_set_clock(b, 300);
	breaker_handle_request(b, 1000, fq, sizeof(fq) - 1, &out);
	assert_non_null(strstr(out.buf, "ejected: " EP2 " 300\n"));
	/* reuse never outlives the ejection */
	assert_non_null(strstr(out.buf, "reuse: 300\n"));

	for (i = 0; i < nitems(bad); i++) {
		breaker_handle_request(b, 1000, bad[i], strlen(bad[i]), &out);
		assert_int_equal(msg_parse(&m, out.buf, out.len, err,
		    sizeof(err)), 0);
		if (!msg_type_is(&m, "error"))
			fail_msg("%s: answered %s", bad[i], out.buf);
		assert_non_null(msg_get(&m, &m.header, "reason").p);
	}
	msg_fini(&m);
	msgw_fini(&out);
	breaker_free(b);
	config_free(cfg);
}

static void
test_report_wire(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 2, "
	    "maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();
	char		 err[200];
	static const char good[] = "meshkit/1 report\nworkload: book\n\n"
	    "service: " SVC "\nport: 8080\nendpoint: " EP1 "\nresult: 503\n"
	    "\nservice: " SVC "\nport: 8080\nendpoint: " EP1 "\n"
	    "result: connect-failure\ntime-ms: 5\n";
	static const struct {
		const char	*rec;
		const char	*reason;
	} bad[] = {
		{ "endpoint: " EP1 "\nresult: 500\n", "service: missing" },
		{ "service: s\nresult: 500\n", "endpoint: missing" },
		{ "service: s\nendpoint: " EP1 "\n", "result: missing" },
		{ "service: s\nendpoint: x:y\nresult: 500\n", "endpoint" },
		{ "service: s\nendpoint: " EP1 "\nresult: 600\n", "result" },
		{ "service: s\nendpoint: " EP1 "\nresult: 50\n", "result" },
		{ "service: s\nendpoint: " EP1 "\nresult: oops\n", "result" },
		{ "service: s\nendpoint: " EP1 "\nresult: 500\nport: 0\n",
		    "port" },
		{ "service: s\nendpoint: " EP1 "\nresult: 500\n"
		    "time-ms: -1\n", "time-ms" },
	};
	char		 buf[512];
	size_t		 i;

	breaker_set_config(b, cfg, 1);
	learn(b, 2);
	assert_int_equal(breaker_handle_report(b, 0, good, sizeof(good) - 1,
	    err, sizeof(err)), 0);
	assert_int_equal(ep(b, EP1)->state, BREAKER_EJECTED);
	assert_int_equal(breaker_stats(b)->results, 2);
	/* the daemon keeps its own clock: time-ms read, not used */
	assert_int_equal(breaker_clock(b), 0);
	for (i = 0; i < nitems(bad); i++) {
		snprintf(buf, sizeof(buf), "meshkit/1 report\n\n%s\n"
		    "service: " SVC "\nendpoint: " EP2 "\nresult: 200\n",
		    bad[i].rec);
		err[0] = '\0';
		assert_int_equal(breaker_handle_report(b, 0, buf, strlen(buf),
		    err, sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].rec, err,
			    bad[i].reason);
	}
	/* the good record after each bad one still counted */
	assert_non_null(breaker_endpoint(b, breaker_cluster(b, "default",
	    SVC, NULL, 0, 0), EP2, 0));
	assert_int_equal(breaker_stats(b)->bad_results, nitems(bad));
	assert_int_equal(breaker_handle_report(b, 0, "meshkit/1 admit\n", 16,
	    err, sizeof(err)), -1);
	assert_int_equal(breaker_handle_report(b, 0, "junk", 4, err,
	    sizeof(err)), -1);
	breaker_free(b);
	config_free(cfg);
}

static void
test_state_and_status(void **state)
{
	struct config	*cfg = load_dr("  subsets:\n  - name: v2\n"
	    "    labels: {version: v2}\n  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, "
	    "maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();
	struct msg_writer out;
	struct msg	 m;
	char		 err[128];
	static const char req[] = "meshkit/1 breaker-state\n";
	static const char st[] = "meshkit/1 status\n";

	msgw_init(&out);
	msg_init(&m);
	breaker_set_config(b, cfg, 1);
	breaker_set_clock(b, 50);
	report(b, "v2", EP2, BREAKER_RESULT_STATUS, 200);
	report(b, "v2", EP3, BREAKER_RESULT_STATUS, 502);
	breaker_handle_request(b, 1000, req, sizeof(req) - 1, &out);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_true(msg_type_is(&m, "breaker-state-reply"));
	assert_int_equal(m.nrecords, 2);
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "subset"), "v2"));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "port"), "8080"));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "endpoint"), EP3));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "state"),
	    "ejected"));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "ejections"),
	    "1"));
	assert_true(util_str_eq(msg_get(&m, &m.records[1], "ms-left"),
	    "30000"));
	assert_true(util_str_eq(msg_get(&m, &m.records[0], "state"),
	    "healthy"));
	breaker_handle_request(b, 1000, st, sizeof(st) - 1, &out);
	assert_int_equal(msg_parse(&m, out.buf, out.len, err, sizeof(err)),
	    0);
	assert_true(msg_type_is(&m, "status-reply"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "program"),
	    "breaker-d"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "ejections"), "1"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "ejected"), "1"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "endpoints"), "2"));
	msg_fini(&m);
	msgw_fini(&out);
	breaker_free(b);
	config_free(cfg);
}

static void
test_filter_trace(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, interval: 1h, "
	    "baseEjectionTime: 2s, maxEjectionPercent: 100}\n");
	struct breaker	*b = breaker_new();
	struct msg_writer out;
	char		 err[128];
	static const char r1[] = "meshkit/1 report\n\nservice: " SVC "\n"
	    "port: 8080\nendpoint: " EP1 "\nresult: 503\ntime-ms: 1000\n";
	static const char r2[] = "meshkit/1 report\n\nservice: " SVC "\n"
	    "port: 8080\nendpoint: " EP1 "\nresult: reset\ntime-ms: 3500\n";
	static const char a1[] = "meshkit/1 admit\ntime-ms: 5000\n\nid: 1\n"
	    "service: " SVC "\nport: 8080\nendpoint: " EP1 "\n";

	msgw_init(&out);
	breaker_set_config(b, cfg, 1);
	assert_int_equal(breaker_filter_message(b, 1000, r1, sizeof(r1) - 1,
	    &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "meshkit/1 breaker-event\n\n"));
	assert_non_null(strstr(out.buf, "event: eject\nejection-ms: 2000\n"));
	assert_non_null(strstr(out.buf, "time-ms: 1000\n"));
	/* the clock passes 3000 on the way to 3500: return, then eject */
	assert_int_equal(breaker_filter_message(b, 1000, r2, sizeof(r2) - 1,
	    &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "event: return\n"));
	assert_non_null(strstr(out.buf, "time-ms: 3000\n"));
	assert_true(strstr(out.buf, "event: return") <
	    strstr(out.buf, "event: eject"));
	assert_non_null(strstr(out.buf, "ejection-ms: 4000\n"));
	assert_int_equal(breaker_filter_message(b, 1000, a1, sizeof(a1) - 1,
	    &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "ejected: " EP1 " 2500\n"));
	assert_int_equal(breaker_filter_message(b, 1000, "garbage", 7, &out,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(out.buf, "meshkit/1 error\n"));
	msgw_fini(&out);
	breaker_free(b);
	config_free(cfg);
}

static void
test_bounds(void **state)
{
	struct breaker		*b = breaker_new();
	struct breaker_cluster	*c;
	char			 addr[64], longname[300];
	size_t			 i;

	breaker_set_config(b, NULL, 1);
	c = breaker_cluster(b, "default", SVC, NULL, 8080, 1);
	for (i = 0; i < 300; i++) {
		snprintf(addr, sizeof(addr), "10.0.%zu.%zu:80", i / 256,
		    i % 256);
		if (i < BREAKER_MAX_ENDPOINTS)
			assert_non_null(breaker_endpoint(b, c, addr, 1));
		else
			assert_null(breaker_endpoint(b, c, addr, 1));
	}
	assert_int_equal(c->nendpoints, BREAKER_MAX_ENDPOINTS);
	assert_int_equal(breaker_stats(b)->dropped, 300 - 256);
	/* without a config: counted, never ejected */
	for (i = 0; i < 10; i++)
		breaker_report(b, c, &c->endpoints[0],
		    BREAKER_RESULT_TIMEOUT, 0);
	assert_int_equal(c->endpoints[0].state, BREAKER_HEALTHY);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_null(breaker_cluster(b, "default", longname, NULL, 80, 1));
	breaker_free(b);
}

/* What proxy-d reads and writes, round trip through breaker-d's side. */
static void
test_client_side(void **state)
{
	struct config	*cfg = load_dr("  trafficPolicy:\n"
	    "    connectionPool: {tcp: {maxConnections: 4, connectTimeout: 1s},"
	    " http: {maxRetries: 0, idleTimeout: 90s}}\n"
	    "    outlierDetection: {consecutive5xxErrors: 1, "
	    "maxEjectionPercent: 100}\n");
	struct breaker		*b = breaker_new();
	struct breaker_answer	*a = malloc(sizeof(*a));
	struct breaker_event	 ev;
	const struct breaker_event *evs;
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];
	static const char admit[] = "meshkit/1 admit\n\nid: 5\nservice: "
	    SVC "\nport: 8080\nendpoint: " EP1 "\nendpoint: " EP2 "\n";
	static const char *const bad[] = {
		"ejected: " EP1 "\n", "ejected: nowhere 5\n",
		"ejected: " EP1 " x\n", "limits: max-connections\n",
		"limits: max-pending=-1\n", "reuse: soon\n", "id: one\n",
	};
	char			 buf[256];
	size_t			 i;

	assert_non_null(a);
	msgw_init(&w);
	msg_init(&m);
	breaker_set_config(b, cfg, 1);
	breaker_set_clock(b, 10);
	/* proxy-d's report: two results in one message */
	msgw_begin(&w, "report");
	msgw_field(&w, "workload", STR_LIT("book"));
	breaker_result_write(&w, SVC, NULL, 8080, EP1, BREAKER_RESULT_STATUS,
	    200, 0);
	breaker_result_write(&w, SVC, "", 8080, EP2,
	    BREAKER_RESULT_CONNECT_FAILURE, 0, 12345);
	assert_int_equal(breaker_handle_report(b, 0, w.buf, w.len, err,
	    sizeof(err)), 0);
	assert_int_equal(breaker_stats(b)->results, 2);
	assert_int_equal(ep(b, EP2)->state, BREAKER_EJECTED);
	/* the event it caused, read back */
	assert_int_equal(breaker_events(b, &evs), 1);
	msgw_reset(&w);
	breaker_event_write(&w, &evs[0]);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(breaker_event_read(&m, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.service, SVC);
	assert_string_equal(ev.endpoint, EP2);
	assert_int_equal(ev.port, 8080);
	assert_int_equal(ev.kind, BREAKER_EVENT_EJECT);
	assert_int_equal(ev.ejection_ms, 30000);
	assert_int_equal(ev.ejections, 1);
	assert_string_equal(ev.reason, evs[0].reason);
	/* the admit answer, read back */
	breaker_handle_request(b, 1000, admit, sizeof(admit) - 1, &w);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(breaker_answer_read(&m, &m.records[0], a, err,
	    sizeof(err)), 0);
	assert_true(a->has_id);
	assert_int_equal(a->id, 5);
	assert_false(a->error);
	assert_int_equal(a->nejected, 1);
	assert_string_equal(a->ejected[0], EP2);
	assert_int_equal(a->ejected_ms[0], 30000);
	assert_true(a->outlier);
	assert_false(a->panic);
	assert_int_equal(a->limits.set, BREAKER_LIMIT_CONNECTIONS |
	    BREAKER_LIMIT_RETRIES | BREAKER_LIMIT_CONNECT_TIMEOUT |
	    BREAKER_LIMIT_IDLE_TIMEOUT);
	assert_int_equal(a->limits.max_connections, 4);
	assert_int_equal(a->limits.max_retries, 0);
	assert_int_equal(a->limits.connect_timeout_ms, 1000);
	assert_int_equal(a->limits.idle_timeout_ms, 90000);
	assert_int_equal(a->reuse_ms, 1000);
	assert_non_null(strstr(a->reason, "1 of 2"));
	/* unknown limits keys are a later version's: skipped */
	snprintf(buf, sizeof(buf), "meshkit/1 admit-reply\n\nid: 1\n"
	    "limits: max-pending=2 warp-factor=9\nfuture: x\n");
	assert_int_equal(msg_parse(&m, buf, strlen(buf), err, sizeof(err)),
	    0);
	assert_int_equal(breaker_answer_read(&m, &m.records[0], a, err,
	    sizeof(err)), 0);
	assert_int_equal(a->limits.set, BREAKER_LIMIT_PENDING);
	for (i = 0; i < nitems(bad); i++) {
		snprintf(buf, sizeof(buf), "meshkit/1 admit-reply\n\n%s",
		    bad[i]);
		assert_int_equal(msg_parse(&m, buf, strlen(buf), err,
		    sizeof(err)), 0);
		if (breaker_answer_read(&m, &m.records[0], a, err,
		    sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
	}
	snprintf(buf, sizeof(buf), "meshkit/1 breaker-event\n\nservice: s\n"
	    "endpoint: " EP1 "\nevent: explode\n");
	assert_int_equal(msg_parse(&m, buf, strlen(buf), err, sizeof(err)),
	    0);
	assert_int_equal(breaker_event_read(&m, &ev, err, sizeof(err)), -1);
	msg_fini(&m);
	msgw_fini(&w);
	free(a);
	breaker_free(b);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consecutive_5xx),
		cmocka_unit_test(test_gateway_errors),
		cmocka_unit_test(test_multiplier_probation),
		cmocka_unit_test(test_max_ejection_percent),
		cmocka_unit_test(test_panic),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_no_outlier_detection),
		cmocka_unit_test(test_policy_selection),
		cmocka_unit_test(test_policy_merged_rules),
		cmocka_unit_test(test_reload_keeps_state),
		cmocka_unit_test(test_admit_wire),
		cmocka_unit_test(test_report_wire),
		cmocka_unit_test(test_state_and_status),
		cmocka_unit_test(test_filter_trace),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_client_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
