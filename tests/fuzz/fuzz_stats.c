/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for stats-d's handling of what proxies and meshctl
 * send it: records messages (counted, logged, traced, drawn) and its
 * REP requests, with an access log and a collector configured.  Besides
 * "no crash, no leak", the metrics it writes stay bounded and every
 * reply is a readable message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "msg.h"
#include "sbuf.h"
#include "stats.h"
#include "trace.h"
#include "util.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_yaml[] =
    "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\nmetadata: {name: m}\n"
    "spec:\n  accessLogFile: /dev/null\n  accessLogEncoding: JSON\n"
    "  extensionProviders:\n  - name: z\n    zipkin: {service: h, port: 1}\n"
    "  defaultProviders: {tracing: [z]}\n  stats: {maxSeries: 50, "
    "maxEdges: 20, maxSpans: 30}\n"
    "---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\n"
    "metadata: {name: t, namespace: istio-system}\nspec:\n"
    "  accessLogging:\n  - filter: {expression: \"response.code >= 400 || "
    "request.headers['x'] == 'y'\"}\n";

static struct config	*cfg;
static struct stats	*st;
static struct msg	 m;
static struct msg_writer out;
static struct sbuf	 b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs;
	struct span		**spans;
	size_t			 i, n, off, len;
	char			 err[256];

	if (cfg == NULL) {
		memset(&errs, 0, sizeof(errs));
		cfg = config_load_buffer("fuzz.yaml", fuzz_yaml,
		    sizeof(fuzz_yaml) - 1, &errs);
		cfg_errors_fini(&errs);
		if (cfg == NULL)
			abort();
		st = stats_new();
		stats_set_config(st, cfg, 1);
		msgw_init(&out);
		sbuf_init(&b, 0);
	}
	/* a stream of messages, as proxies send them one after another */
	for (off = 0; off < size; off += len) {
		len = msg_stream_next((const char *)data + off, size - off);
		if (len == 0)
			break;
		stats_handle(st, (const char *)data + off, len, 1000 + off);
		stats_handle_request(st, 0, (const char *)data + off, len,
		    2000, &out);
		if (out.len > 0 && msg_parse(&m, out.buf, out.len, err,
		    sizeof(err)) == -1)
			abort();
	}
	for (i = 0; i < st->nsinks; i++)
		sbuf_reset(&st->sinks[i]->pending);
	for (i = 0; i < st->ncollectors; i++) {
		spans = stats_take_spans(st, st->collectors[i], &n);
		sbuf_reset(&b);
		trace_zipkin_write(&b, spans, n);
		trace_otlp_write(&b, spans, n);
		while (n > 0)
			trace_span_free(spans[--n]);
		free(spans);
	}
	if (metrics_nseries(&st->metrics) > 50)
		abort();
	sbuf_reset(&b);
	stats_write_metrics(st, &b);
	return 0;
}
