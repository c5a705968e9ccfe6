/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for breaker-d's readers: the input as one request
 * (admit, breaker-state, status), as one report, as an admit-reply and an
 * event as proxy-d reads them, and as a stream of report and admit
 * messages in filter mode, against a small config with
 * outlierDetection and connectionPool.  Besides "no crash, no leak", every
 * reply must be a message the reader takes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "config.h"
#include "msg.h"
#include "util.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_yaml[] =
    "apiVersion: networking.istio.io/v1\n"
    "kind: ServiceEntry\n"
    "metadata: {name: rating}\n"
    "spec:\n"
    "  hosts: [rating]\n"
    "  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
    "  resolution: STATIC\n"
    "  endpoints:\n"
    "  - {address: 127.0.0.1, ports: {http: 9081}, labels: {version: v1}}\n"
    "  - {address: 127.0.0.1, ports: {http: 9082}, labels: {version: v2}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\n"
    "kind: DestinationRule\n"
    "metadata: {name: rating}\n"
    "spec:\n"
    "  host: rating\n"
    "  subsets:\n"
    "  - {name: v1, labels: {version: v1}}\n"
    "  - name: v2\n"
    "    labels: {version: v2}\n"
    "    trafficPolicy:\n"
    "      outlierDetection: {consecutiveGatewayErrors: 2,"
    " minHealthPercent: 50}\n"
    "  trafficPolicy:\n"
    "    connectionPool:\n"
    "      tcp: {maxConnections: 3}\n"
    "      http: {http1MaxPendingRequests: 1, maxRetries: 0}\n"
    "    outlierDetection: {consecutive5xxErrors: 1, interval: 1s,"
    " baseEjectionTime: 3m, maxEjectionPercent: 100}\n";

static struct config		*cfg;
static struct msg_writer	 out;
static struct msg		 check;

static struct breaker_answer	 answer;
static struct breaker_event	 event;

/* What breaker-d wrote, proxy-d's readers must take. */
static void
fuzz_check_reply(void)
{
	char	 err[200];
	size_t	 off, n, i;

	if (out.len == 0)
		return;
	for (off = 0; off < out.len; off += n) {
		n = msg_stream_next(out.buf + off, out.len - off);
		if (msg_parse(&check, out.buf + off, n, err, sizeof(err)) ==
		    -1)
			abort();	/* we wrote what we cannot read */
		if (msg_type_is(&check, "admit-reply"))
			for (i = 0; i < check.nrecords; i++)
				if (breaker_answer_read(&check,
				    &check.records[i], &answer, err,
				    sizeof(err)) == -1)
					abort();
		if (msg_type_is(&check, "breaker-event") &&
		    breaker_event_read(&check, &event, err, sizeof(err)) == -1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct breaker		*b;
	const char		*buf = (const char *)data;
	char			 err[256];
	size_t			 off, n;

	if (cfg == NULL) {
		cfg = config_load_buffer("fuzz.yaml", fuzz_yaml,
		    sizeof(fuzz_yaml) - 1, &errs);
		cfg_errors_fini(&errs);
		if (cfg == NULL)
			abort();
		msgw_init(&out);
		msg_init(&check);
	}
	b = breaker_new();
	breaker_set_config(b, cfg, 1);
	breaker_set_clock(b, 1000);

	breaker_handle_request(b, 1000, buf, size, &out);
	fuzz_check_reply();
	/* the input as an answer or an event, as proxy-d reads them */
	if (msg_parse(&check, buf, size, err, sizeof(err)) == 0) {
		for (off = 0; off < check.nrecords; off++)
			breaker_answer_read(&check, &check.records[off],
			    &answer, err, sizeof(err));
		breaker_event_read(&check, &event, err, sizeof(err));
	}
	breaker_handle_report(b, 0, buf, size, err, sizeof(err));
	breaker_events_clear(b);
	breaker_handle_request(b, 1000, "meshkit/1 breaker-state\n", 24,
	    &out);
	fuzz_check_reply();

	for (off = 0; off < size; off += n) {
		n = msg_stream_next(buf + off, size - off);
		breaker_filter_message(b, 500, buf + off, n, &out, err,
		    sizeof(err));
		fuzz_check_reply();
	}
	/* a reload over whatever the input taught it */
	breaker_set_config(b, cfg, 2);
	breaker_advance(b, UINT64_MAX / 2);
	breaker_free(b);
	return 0;
}
