/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/stats.c: stats-d's work on records. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "msg.h"
#include "sbuf.h"
#include "stats.h"
#include "trace.h"
#include "util.h"
#include "yaml.h"

static struct config *load(const char *);
static int	handle(struct stats *, const char *, uint64_t);
static void	test_records(void **);
static void	test_logs_and_workloads(void **);
static void	test_spans(void **);
static void	test_requests(void **);
static void	test_daemon_metrics(void **);
static void	test_proxies(void **);
static void	test_proxy_many_counters(void **);
static void	test_proxy_evict(void **);
static void	test_certs(void **);
static void	test_bad(void **);

#define BATCH(wl, ns, extra) "meshkit/1 records\nworkload: " wl \
	"\nnamespace: " ns "\nlabel: app=" wl "\n" extra

#define REC(code) "\nreporter: source\nstart-us: 1460751420310123\n" \
	"duration-us: 2000\ncode: " code "\nmethod: GET\npath: /x\n" \
	"service: s.default.svc.cluster.local\ndestination-workload: s-v1\n" \
	"trace-id: 4bf92f3577b34da6a3ce929d0e0e4736\n" \
	"span-id: 00f067aa0ba902b7\nsampled: 1\n"

static struct config *
load(const char *yaml)
{
	struct cfg_errors	 errs;
	struct config		*cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
	if (cfg == NULL)
		fail_msg("config refused: %s", errs.v[0].message);
	cfg_errors_fini(&errs);
	return cfg;
}

static int
handle(struct stats *st, const char *text, uint64_t now)
{
	return stats_handle(st, text, strlen(text), now);
}

static void
test_records(void **state)
{
	struct stats	*st = stats_new();
	struct sbuf	 b;

	stats_set_config(st, NULL, 1);
	assert_int_equal(handle(st, BATCH("a", "default", "") REC("200")
	    REC("200") REC("503"), 1000), 0);
	assert_int_equal(st->c.records, 3);
	assert_int_equal(metrics_nseries(&st->metrics), 2);
	sbuf_init(&b, 0);
	stats_write_metrics(st, &b);
	assert_non_null(strstr(b.buf, "istio_requests_total{response_code="
	    "\"200\",reporter=\"source\",source_workload=\"a\""));
	assert_non_null(strstr(b.buf, "\nmeshkit_stats_records_total 3\n"));
	assert_non_null(strstr(b.buf, "\nistio_build{component=\"proxy\","
	    "tag=\"meshkit\"} 1\n"));
	/* no access log, no collector: nothing queued */
	assert_int_equal(st->nsinks, 0);
	assert_int_equal(st->ncollectors, 0);
	sbuf_fini(&b);
	stats_free(st);
}

static void
test_logs_and_workloads(void **state)
{
	struct config	*cfg;
	struct stats	*st = stats_new();

	cfg = load("apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: m}\nspec:\n  accessLogFile: /var/log/a.log\n"
	    "---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\n"
	    "metadata: {name: quiet, namespace: shop}\nspec:\n"
	    "  accessLogging:\n  - disabled: true\n");
	stats_set_config(st, cfg, 2);
	handle(st, BATCH("a", "default", "") REC("200") REC("404"), 1000);
	assert_int_equal(st->nsinks, 1);
	assert_string_equal(st->sinks[0]->path, "/var/log/a.log");
	assert_int_equal(st->sinks[0]->lines, 2);
	assert_non_null(strstr(st->sinks[0]->pending.buf,
	    "\"GET /x HTTP/1.1\" 404 "));
	/* the shop namespace's Telemetry turns its logs off */
	handle(st, BATCH("b", "shop", "") REC("200"), 1000);
	assert_int_equal(st->sinks[0]->lines, 2);
	assert_int_equal(st->c.records, 3);
	/* a reload resolves again; the sink stays */
	stats_set_config(st, NULL, 3);
	handle(st, BATCH("a", "default", "") REC("200"), 1000);
	assert_int_equal(st->sinks[0]->lines, 2);
	stats_free(st);
	config_free(cfg);
}

static void
test_spans(void **state)
{
	struct config	*cfg;
	struct stats	*st = stats_new();
	struct span	**v;
	size_t		 n, i;

	cfg = load("apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: m}\nspec:\n  extensionProviders:\n"
	    "  - name: z\n    zipkin: {service: 127.0.0.1, port: 9411}\n"
	    "  defaultProviders: {tracing: [z]}\n  stats: {maxSpans: 3}\n");
	stats_set_config(st, cfg, 1);
	handle(st, BATCH("a", "default", "") REC("200") REC("200") REC("200")
	    REC("200") REC("200"), 1000);
	assert_int_equal(st->ncollectors, 1);
	assert_string_equal(st->collectors[0]->path, "/api/v2/spans");
	/* three kept, two dropped and counted */
	assert_int_equal(st->collectors[0]->nspans, 3);
	assert_int_equal(st->collectors[0]->dropped, 2);
	v = stats_take_spans(st, st->collectors[0], &n);
	assert_int_equal(n, 3);
	assert_int_equal(st->queued_spans, 0);
	for (i = 0; i < n; i++)
		trace_span_free(v[i]);
	free(v);
	handle(st, BATCH("a", "default", "") REC("200"), 1000);
	assert_int_equal(st->collectors[0]->nspans, 1);
	stats_free(st);
	config_free(cfg);
}

static void
test_requests(void **state)
{
	struct stats		*st = stats_new();
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[256];
	const char		*q;

	stats_set_config(st, NULL, 4);
	handle(st, BATCH("a", "default", "") REC("200"), 5000);
	msgw_init(&w);
	msg_init(&m);
	q = "meshkit/1 status\n";
	assert_int_equal(stats_handle_request(st, 1000, q, strlen(q), 6000,
	    &w), 0);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "status-reply"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "program"),
	    "stats-d"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "generation"), "4"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "uptime-ms"), "5000"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "records"), "1"));
	q = "meshkit/1 stats-graph\nwindow-ms: 60000\n";
	assert_int_equal(stats_handle_request(st, 1000, q, strlen(q), 6000,
	    &w), 0);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "stats-graph-reply"));
	assert_int_equal(m.nrecords, 3 + 2 + 1);	/* nodes, edges, service */
	q = "meshkit/1 stats-graph\nwindow-ms: 61000\n";
	assert_int_equal(stats_handle_request(st, 1000, q, strlen(q), 6000,
	    &w), -1);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "error"));
	q = "meshkit/1 route\n\nid: 1\n";
	assert_int_equal(stats_handle_request(st, 1000, q, strlen(q), 6000,
	    &w), -1);
	assert_non_null(strstr(w.buf, "not route"));
	q = "nonsense";
	assert_int_equal(stats_handle_request(st, 1000, q, strlen(q), 6000,
	    &w), -1);
	assert_non_null(strstr(w.buf, "meshkit/1 error\n"));
	msg_fini(&m);
	msgw_fini(&w);
	stats_free(st);
}

static void
test_daemon_metrics(void **state)
{
	struct msg	 m;
	struct sbuf	 b;
	char		 err[256];
	const char	*reply = "meshkit/1 status-reply\nprogram: breaker-d\n"
	    "pid: 12\ngeneration: 3\nuptime-ms: 900\nmessages: 7\n"
	    "clusters: 2\nnew-thing: 5\nmessages: 8\n"
	    "gauges: new-thing\nversion: 0.1\nbusy-ms: 1500\n";

	msg_init(&m);
	sbuf_init(&b, 0);
	assert_int_equal(msg_parse(&m, reply, strlen(reply), err,
	    sizeof(err)), 0);
	stats_daemon_metrics(&b, "breaker-d", &m);
	assert_non_null(strstr(b.buf, "# TYPE meshkit_breaker_messages_total "
	    "counter\nmeshkit_breaker_messages_total 7\n"));
	assert_non_null(strstr(b.buf, "# TYPE meshkit_breaker_clusters gauge\n"
	    "meshkit_breaker_clusters 2\n"));
	assert_non_null(strstr(b.buf, "meshkit_breaker_new_thing 5\n"));
	/* milliseconds in seconds, Prometheus' base unit */
	assert_non_null(strstr(b.buf, "# TYPE meshkit_breaker_uptime_seconds "
	    "gauge\nmeshkit_breaker_uptime_seconds 0.9\n"));
	assert_non_null(strstr(b.buf, "# TYPE meshkit_breaker_busy_seconds_total "
	    "counter\nmeshkit_breaker_busy_seconds_total 1.5\n"));
	assert_null(strstr(b.buf, "_ms"));
	assert_null(strstr(b.buf, "_pid"));
	assert_null(strstr(b.buf, "_generation"));
	assert_null(strstr(b.buf, "version"));
	sbuf_fini(&b);
	msg_fini(&m);
}

static void
test_proxies(void **state)
{
	struct stats		*st = stats_new();
	struct sbuf		 b;
	struct msg_writer	 w;

	stats_set_config(st, NULL, 1);
	/* two instances of one workload: summed */
	handle(st, BATCH("a", "default", "pid: 1\ncounter: records-dropped 3"
	    "\n"), 1000);
	handle(st, BATCH("a", "default", "pid: 2\ncounter: records-dropped 4"
	    "\n"), 1000);
	/* a newer count replaces the instance's older one */
	handle(st, BATCH("a", "default", "pid: 1\ncounter: records-dropped 5"
	    "\n"), 1000);
	sbuf_init(&b, 0);
	stats_write_metrics(st, &b);
	assert_non_null(strstr(b.buf, "meshkit_proxy_records_dropped_total{"
	    "workload=\"a\",namespace=\"default\"} 9\n"));
	msgw_init(&w);
	msgw_begin(&w, "status-reply");
	stats_write_status(st, &w, 1000);
	assert_non_null(strstr(w.buf, "proxy-records-dropped: 9\n"));
	assert_non_null(strstr(w.buf, "proxies: 2\n"));
	/* idle instances retire; their counts stay in the workload's */
	stats_expire(st, 1000 + STATS_PROXY_IDLE_MS + 1);
	assert_int_equal(st->proxies.n, 0);
	sbuf_reset(&b);
	stats_write_metrics(st, &b);
	assert_non_null(strstr(b.buf, "meshkit_proxy_records_dropped_total{"
	    "workload=\"a\",namespace=\"default\"} 9\n"));
	msgw_fini(&w);
	sbuf_fini(&b);
	stats_free(st);
}

/*
 * More counters than the first 16 samples the writer had room for: each
 * one an integer, on every scrape (a sample past them once read its
 * "milliseconds" flag from uninitialized memory).
 */
static void
test_proxy_many_counters(void **state)
{
	struct stats	*st = stats_new();
	struct sbuf	 b, msg;
	char		 want[160];
	int		 i, scrape;

	/* memory from malloc is never zero by chance: glibc fills it */
	mallopt(M_PERTURB, 0x5a);
	stats_set_config(st, NULL, 1);
	sbuf_init(&msg, 0);
	sbuf_adds(&msg, BATCH("app", "default", "pid: 7\n"));
	for (i = 0; i < 32; i++)
		sbuf_printf(&msg, "counter: c%02d-ms 12377\n", i);
	assert_int_equal(handle(st, msg.buf, 1000), 0);
	sbuf_init(&b, 0);
	for (scrape = 0; scrape < 3; scrape++) {
		sbuf_reset(&b);
		stats_write_metrics(st, &b);
		for (i = 0; i < 32; i++) {
			snprintf(want, sizeof(want), "\nmeshkit_proxy_c%02d_ms_"
			    "total{workload=\"app\",namespace=\"default\"} "
			    "12377\n", i);
			if (strstr(b.buf, want) == NULL)
				fail_msg("scrape %d: no %s", scrape + 1,
				    want + 1);
		}
	}
	sbuf_fini(&b);
	sbuf_fini(&msg);
	stats_free(st);
	mallopt(M_PERTURB, 0);
}

/*
 * Past STATS_MAX_PROXIES the proxy heard from longest ago makes room,
 * its counts kept, the eviction counted and said; the status counts
 * only the proxies heard from lately.
 */
static void
test_proxy_evict(void **state)
{
	struct stats		*st = stats_new();
	struct sbuf		 b;
	struct msg_writer	 w;
	char			 text[256];
	int			 i;

	stats_set_config(st, NULL, 1);
	for (i = 1; i <= STATS_MAX_PROXIES; i++) {
		snprintf(text, sizeof(text), BATCH("a", "default", "pid: %d\n"
		    "counter: records-dropped 1\n"), i);
		assert_int_equal(handle(st, text, 1000 + (uint64_t)i), 0);
	}
	assert_int_equal(st->proxies.n, STATS_MAX_PROXIES);
	assert_int_equal(st->c.proxies_evicted, 0);
	/* pid 1 ended long ago; pid 2 still speaks */
	handle(st, BATCH("a", "default", "pid: 2\ncounter: records-dropped "
	    "1\n"), 50000);
	st->new_problem = 0;
	handle(st, BATCH("b", "default", "pid: 9999\ncounter: "
	    "records-dropped 5\n"), 50000);
	assert_int_equal(st->proxies.n, STATS_MAX_PROXIES);
	assert_int_equal(st->c.proxies_evicted, 1);
	assert_null(strmap_get(&st->proxies, "default/a/1", 11));
	assert_non_null(strmap_get(&st->proxies, "default/a/2", 11));
	assert_non_null(strmap_get(&st->proxies, "default/b/9999", 14));
	assert_true(st->new_problem);
	assert_non_null(strstr(st->problem, "more than 1024 proxies: "
	    "default/a/1"));
	sbuf_init(&b, 0);
	stats_write_metrics(st, &b);
	/* pid 1's count stays in its workload's */
	assert_non_null(strstr(b.buf, "meshkit_proxy_records_dropped_total{"
	    "workload=\"a\",namespace=\"default\"} 1024\n"));
	assert_non_null(strstr(b.buf, "meshkit_proxy_records_dropped_total{"
	    "workload=\"b\",namespace=\"default\"} 5\n"));
	assert_non_null(strstr(b.buf, "\nmeshkit_stats_proxies_evicted_total "
	    "1\n"));
	/* a second eviction soon after: counted, not said again */
	st->new_problem = 0;
	handle(st, BATCH("b", "default", "pid: 10000\ncounter: "
	    "records-dropped 1\n"), 51000);
	assert_int_equal(st->c.proxies_evicted, 2);
	assert_false(st->new_problem);
	/* heard from in the last STATS_PROXY_LIVE_MS: pids 2, 9999, 10000 */
	msgw_init(&w);
	msgw_begin(&w, "status-reply");
	stats_write_status(st, &w, 51000);
	assert_non_null(strstr(w.buf, "\nproxies: 3\n"));
	msgw_fini(&w);
	sbuf_fini(&b);
	stats_free(st);
}

/* The proxies' certificate status files become three gauges each. */
static void
test_certs(void **state)
{
	char		 dir[] = "/tmp/test_stats.XXXXXX", path[128];
	struct sbuf	 b;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tls-book.status", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "meshkit/1 tls-status\nproxy: book\nworkload: book-service\n"
	    "namespace: default\npid: %d\nstate: ok\nspiffe-id: "
	    "spiffe://cluster.local/ns/default/sa/book\nnot-after: "
	    "1900000000\nrenew-at: 1800000000\n", (int)getpid());
	fclose(f);
	/* a proxy that is gone: pid 0 */
	snprintf(path, sizeof(path), "%s/tls-old.status", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "meshkit/1 tls-status\nproxy: old\nworkload: w\n"
	    "namespace: \"q\nstate: ok\npid: 0\n");
	fclose(f);
	/* not a status file */
	snprintf(path, sizeof(path), "%s/tls-x.status", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "garbage\n");
	fclose(f);
	sbuf_init(&b, 0);
	stats_cert_metrics(&b, dir);
	assert_non_null(b.buf);
	assert_non_null(strstr(b.buf, "meshkit_proxy_cert_expiry_timestamp_"
	    "seconds{proxy=\"book\",workload=\"book-service\",namespace="
	    "\"default\",spiffe_id=\"spiffe://cluster.local/ns/default/sa/"
	    "book\"} 1900000000\n"));
	assert_non_null(strstr(b.buf, "meshkit_proxy_cert_renewal_timestamp_"
	    "seconds{proxy=\"book\""));
	assert_non_null(strstr(b.buf, "sa/book\",state=\"ok\"} 1\n"));
	assert_non_null(strstr(b.buf, "sa/book\",state=\"expired\"} 0\n"));
	/* escaped, and "not running" for the proxy that is gone */
	assert_non_null(strstr(b.buf, "proxy=\"old\",workload=\"w\","
	    "namespace=\"\\\"q\",spiffe_id=\"\",state=\"not running\"} 1\n"));
	assert_null(strstr(b.buf, "proxy=\"x\""));
	assert_null(strstr(b.buf, "expiry_timestamp_seconds{proxy=\"old\""));
	sbuf_fini(&b);
	/* an empty run directory: nothing */
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	sbuf_init(&b, 0);
	stats_cert_metrics(&b, dir);
	assert_int_equal(b.len, 0);
	sbuf_fini(&b);
	(void)state;
}

static void
test_bad(void **state)
{
	struct stats	*st = stats_new();

	stats_set_config(st, NULL, 1);
	assert_int_equal(handle(st, "garbage", 1), -1);
	assert_int_equal(handle(st, "meshkit/1 route\n\nid: 1\n", 1), -1);
	assert_non_null(strstr(st->last_error, "route"));
	assert_int_equal(handle(st, "meshkit/1 records\ncounter: x\n", 1), -1);
	assert_int_equal(st->c.bad_messages, 3);
	assert_int_equal(handle(st, BATCH("a", "default", "") REC("200")
	    "\nreporter: x\nstart-us: 1\nduration-us: 1\n", 1), 0);
	assert_int_equal(st->c.records, 1);
	assert_int_equal(st->c.bad_records, 1);
	assert_non_null(strstr(st->last_error, "record 2"));
	stats_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_logs_and_workloads),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_daemon_metrics),
		cmocka_unit_test(test_proxies),
		cmocka_unit_test(test_proxy_many_counters),
		cmocka_unit_test(test_proxy_evict),
		cmocka_unit_test(test_certs),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
