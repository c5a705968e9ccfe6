/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/accesslog.c: Envoy's format language over records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accesslog.h"
#include "json.h"
#include "record.h"
#include "sbuf.h"
#include "util.h"

static struct str s(const char *);
static void	example(struct record *);
static char	*line(const char *, int, const struct record *);
static void	test_default(void **);
static void	test_unknown_values(void **);
static void	test_operators(void **);
static void	test_start_time(void **);
static void	test_refused(void **);
static void	test_json(void **);
static void	test_headers(void **);
static void	test_injection(void **);
static void	test_istio_text(void **);
static void	test_istio_json(void **);
static void	test_grpc_status(void **);
static void	test_req_without_query(void **);
static void	test_json_types(void **);
static void	test_header_cap(void **);

/* Istio's EnvoyTextLogFormat (pilot/pkg/model/telemetry_logging.go). */
#define ISTIO_TEXT \
	"[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% " \
	"%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% " \
	"%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% " \
	"\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" " \
	"%BYTES_RECEIVED% %BYTES_SENT% " \
	"%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% " \
	"\"%REQ(X-FORWARDED-FOR)%\" " \
	"\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" " \
	"\"%UPSTREAM_HOST%\" " \
	"%UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% " \
	"%DOWNSTREAM_LOCAL_ADDRESS% " \
	"%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"

static struct str
s(const char *p)
{
	return (struct str){ p, strlen(p) };
}

/* 2016-04-15T20:17:00.310Z, as Envoy's example. */
static void
example(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->reporter = RECORD_DESTINATION;
	r->start_us = 1460751420310123ULL;
	r->duration_us = 226400;
	r->has = RECORD_HAS_UPSTREAM | RECORD_HAS_REQUEST_BYTES |
	    RECORD_HAS_RESPONSE_BYTES | RECORD_HAS_RESPONSE_START;
	r->upstream_us = 100900;
	r->response_start_us = 200000;
	r->request_bytes = 154;
	r->response_bytes = 0;
	r->code = 204;
	r->method = s("POST");
	r->path = s("/api/v1/locations");
	r->protocol = s("HTTP/1.1");
	r->authority = s("locations");
	r->upstream_host = s("10.0.2.1:80");
	r->downstream_remote = s("10.0.35.28:51234");
	r->downstream_local = s("[::1]:15006");
	r->request_headers[0].name = s("x-forwarded-for");
	r->request_headers[0].value = s("10.0.35.28");
	r->request_headers[1].name = s("user-agent");
	r->request_headers[1].value = s("nsq2http");
	r->request_headers[2].name = s("x-request-id");
	r->request_headers[2].value = s("cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
	r->nrequest_headers = 3;
	r->source.principal = s("spiffe://cluster.local/ns/a/sa/b");
}

/* The line of r in format fmt (json 1: fmt is a JSON object). */
static char *
line(const char *fmt, int json, const struct record *r)
{
	struct accesslog_format	*f;
	struct sbuf		 b;
	char			 err[256];
	char			*out;

	f = json ? accesslog_json_parse(fmt, err, sizeof(err)) :
	    accesslog_text_new(fmt, err, sizeof(err));
	if (f == NULL)
		fail_msg("format refused: %s", err);
	sbuf_init(&b, 0);
	accesslog_write(f, r, &b);
	out = xstrdup(b.buf);
	sbuf_fini(&b);
	accesslog_format_free(f);
	return out;
}

static void
test_default(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	l = line(NULL, 0, &r);
	assert_string_equal(l, "[2016-04-15T20:17:00.310Z] \"POST "
	    "/api/v1/locations HTTP/1.1\" 204 - 154 0 226 100 \"10.0.35.28\" "
	    "\"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
	    "\"locations\" \"10.0.2.1:80\"\n");
	free(l);
	/* a rewritten path shows the original */
	r.original_path = s("/old");
	l = line("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:PATH)%", 0, &r);
	assert_string_equal(l, "/old /api/v1/locations\n");
	free(l);
}

static void
test_unknown_values(void **state)
{
	struct record	 r;
	char		*l;

	memset(&r, 0, sizeof(r));
	r.start_us = 0;
	l = line(NULL, 0, &r);
	/* no response: code 0, everything unknown a dash */
	assert_string_equal(l, "[1970-01-01T00:00:00.000Z] \"- - HTTP/1.1\" "
	    "0 - 0 0 0 - \"-\" \"-\" \"-\" \"-\" \"-\"\n");
	free(l);
}

static void
test_operators(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	r.flags = s("UF,URX");
	r.details = s("upstream_reset_before_response_started");
	r.upstream_cluster = s("outbound|80||locations");
	r.route_name = s("default");
	r.sni = s("locations.example");
	r.trace_id = s("4bf92f3577b34da6a3ce929d0e0e4736");
	r.has |= RECORD_HAS_ATTEMPTS;
	r.attempts = 2;
	l = line("%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER% "
	    "%ROUTE_NAME% %REQUESTED_SERVER_NAME% %TRACE_ID% "
	    "%UPSTREAM_REQUEST_ATTEMPT_COUNT% %RESPONSE_DURATION% "
	    "%RESPONSE_TX_DURATION% %REQUEST_DURATION% "
	    "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
	    "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_PEER_URI_SAN% "
	    "%REQ(USER-AGENT):3% %REQ(X-MISSING?USER-AGENT)% %RESP(:STATUS)% "
	    "100%% %UPSTREAM_TRANSPORT_FAILURE_REASON%", 0, &r);
	assert_string_equal(l, "UF,URX upstream_reset_before_response_started "
	    "outbound|80||locations default locations.example "
	    "4bf92f3577b34da6a3ce929d0e0e4736 2 200 26 - 10.0.35.28 ::1 "
	    "spiffe://cluster.local/ns/a/sa/b nsq nsq2http 204 100% -\n");
	free(l);
	setenv("MESHKIT_TEST_ENV", "from-env", 1);
	l = line("%ENVIRONMENT(MESHKIT_TEST_ENV)% %ENVIRONMENT(MESHKIT_NO)%",
	    0, &r);
	assert_string_equal(l, "from-env -\n");
	free(l);
}

static void
test_start_time(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	l = line("%START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%|%START_TIME(%s.%3f)%|"
	    "%START_TIME(%s.%6f)%|%START_TIME(%f)%", 0, &r);
	assert_string_equal(l, "2016/04/15T20:17:00+0000 1460751420|"
	    "1460751420.310|1460751420.310123|310123000\n");
	free(l);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"%NO_SUCH_THING%",
		"%REQ()%",
		"%REQ(:nope)%",
		"%REQ(x-a):0%",
		"%REQ(x-a):x%",
		"%REQ(x-a)x%",
		"%DURATION(x)%",
		"%TRAILER(grpc-status)%",
		"%GRPC_STATUS(camel_string)%",
		"%GRPC_STATUS(NUMBERS)%",
		"%GRPC_STATUS_NUMBER(NUMBER)%",
		"%CONNECTION_TERMINATION_DETAILS(x)%",
		"%REQ_WITHOUT_QUERY()%",
		"50% off",
		"%START_TIME(%s%",
		"%%%",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if (accesslog_text_new(bad[i], err, sizeof(err)) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_null(accesslog_json_parse("[1]", err, sizeof(err)));
	assert_null(accesslog_json_parse("{\"a\": 1}", err, sizeof(err)));
	assert_null(accesslog_json_parse("{\"a\": \"%NOPE%\"}", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "\"a\""));
}

static void
test_json(void **state)
{
	struct record	 r;
	struct json	*j;
	char		*l, err[256];

	example(&r);
	l = line(NULL, 1, &r);
	assert_non_null((j = json_parse(l, strlen(l) - 1, err,
	    sizeof(err))));
	/* numbers stay numbers, the unknown is null */
	assert_int_equal(json_get(j, "response_code")->type, JSON_NUMBER);
	assert_true(json_get(j, "response_code")->number == 204);
	assert_string_equal(json_get_string(j, "response_flags"), "-");
	assert_string_equal(json_get_string(j, "start_time"),
	    "2016-04-15T20:17:00.310Z");
	assert_string_equal(json_get_string(j, "user_agent"), "nsq2http");
	assert_string_equal(json_get_string(j, "upstream_service_time"),
	    "100");
	json_free(j);
	free(l);
	/* mixed values are strings; text escaped */
	r.method = s("G\"T");
	l = line("{\"line\": \"%REQ(:METHOD)% %RESPONSE_CODE%\", "
	    "\"code\": \"%RESPONSE_CODE%\", \"lit\": \"x\"}", 1, &r);
	assert_string_equal(l, "{\"line\":\"G\\\"T 204\",\"code\":204,"
	    "\"lit\":\"x\"}\n");
	free(l);
}

static void
test_headers(void **state)
{
	struct accesslog_format	*f;
	const char *const	*names;
	char			 err[256];

	f = accesslog_text_new(NULL, err, sizeof(err));
	assert_non_null(f);
	/* the default needs three request headers, no response one */
	assert_int_equal(accesslog_headers(f, 0, &names), 3);
	assert_string_equal(names[0], "x-forwarded-for");
	assert_string_equal(names[1], "user-agent");
	assert_string_equal(names[2], "x-request-id");
	assert_int_equal(accesslog_headers(f, 1, &names), 0);
	accesslog_format_free(f);
	f = accesslog_text_new("%RESP(Content-Type)% %REQ(A?B)% %REQ(a)%",
	    err, sizeof(err));
	assert_int_equal(accesslog_headers(f, 0, &names), 2);
	assert_string_equal(names[1], "b");
	assert_int_equal(accesslog_headers(f, 1, &names), 1);
	assert_string_equal(names[0], "content-type");
	accesslog_format_free(f);
}

/* The optional record fields a format makes proxy-d send. */
static void
test_fields(void **state)
{
	struct accesslog_format	*f;
	char			 k0[] = "a", k1[] = "b";
	char			 v0[] = "%ROUTE_NAME%";
	char			 v1[] = "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%";
	char *const		 keys[] = { k0, k1 };
	char *const		 values[] = { v0, v1 };
	char			 err[256];

	(void)state;
	/* Envoy's default: the protocol, the path before a rewrite */
	f = accesslog_text_new(NULL, err, sizeof(err));
	assert_int_equal(accesslog_fields(f), RECORD_F_PROTOCOL |
	    RECORD_F_ORIGINAL_PATH);
	accesslog_format_free(f);
	f = accesslog_text_new("%RESPONSE_CODE_DETAILS% "
	    "%UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_TRANSPORT_FAILURE_REASON% "
	    "%REQUEST_DURATION% %REQUESTED_SERVER_NAME% "
	    "%REQ(X-ENVOY-ORIGINAL-PATH)%\n", err, sizeof(err));
	assert_int_equal(accesslog_fields(f), RECORD_F_DETAILS |
	    RECORD_F_UPSTREAM_LOCAL | RECORD_F_UPSTREAM_FAILURE |
	    RECORD_F_REQUEST_DURATION | RECORD_F_SNI |
	    RECORD_F_ORIGINAL_PATH);
	accesslog_format_free(f);
	f = accesslog_json_new(keys, values, 2, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(accesslog_fields(f), RECORD_F_ROUTE |
	    RECORD_F_ORIGINAL_PATH);
	accesslog_format_free(f);
	f = accesslog_text_new("%REQ(:PATH)% %START_TIME%", err, sizeof(err));
	assert_int_equal(accesslog_fields(f), 0);
	accesslog_format_free(f);
}

static void
test_injection(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	r.request_headers[1].value = s("evil\n[fake] line\r");
	l = line(NULL, 0, &r);
	assert_null(strstr(l, "\n[fake]"));
	assert_non_null(strstr(l, "evil [fake] line "));
	assert_int_equal(strchr(l, '\n') - l, (long)strlen(l) - 1);
	free(l);
	/*
	 * A record read from a message has no CR or LF to look for; what
	 * the format or the environment brings still gets its look.
	 */
	example(&r);
	r.from_msg = 1;
	setenv("MK_TEST_EVIL", "env\n[fake] line", 1);
	l = line("%ENVIRONMENT(MK_TEST_EVIL)% %START_TIME(%Y%n%m)%\n", 0, &r);
	assert_null(strstr(l, "\n[fake]"));
	assert_non_null(strstr(l, "env [fake] line"));
	assert_int_equal(strchr(l, '\n') - l, (long)strlen(l) - 1);
	free(l);
	unsetenv("MK_TEST_EVIL");
}

/* A record with what Istio's default formats print beyond Envoy's. */
static void
istio_example(struct record *r)
{
	example(r);
	r->details = s("via_upstream");
	r->upstream_cluster = s("outbound|80||locations.default.svc");
	r->upstream_local = s("10.0.0.5:40512");
	r->sni = s("outbound_.80_._.locations");
	r->route_name = s("default");
}

/* Istio's own default text format, pasted into accessLogFormat. */
static void
test_istio_text(void **state)
{
	struct record	 r;
	char		*l;

	istio_example(&r);
	l = line(ISTIO_TEXT, 0, &r);
	assert_string_equal(l, "[2016-04-15T20:17:00.310Z] \"POST "
	    "/api/v1/locations HTTP/1.1\" 204 - via_upstream - \"-\" 154 0 "
	    "226 100 \"10.0.35.28\" \"nsq2http\" "
	    "\"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" "
	    "\"10.0.2.1:80\" outbound|80||locations.default.svc "
	    "10.0.0.5:40512 [::1]:15006 10.0.35.28:51234 "
	    "outbound_.80_._.locations default\n");
	free(l);
}

/* Istio's default JSON (its labels) parses, and renders typed. */
static void
test_istio_json(void **state)
{
	struct record	 r;
	struct json	*j;
	char		*l, err[256];

	istio_example(&r);
	l = line(ACCESSLOG_ISTIO_JSON_FORMAT, 1, &r);
	assert_non_null((j = json_parse(l, strlen(l) - 1, err,
	    sizeof(err))));
	assert_int_equal(j->n, 24);
	assert_string_equal(json_get_string(j, "upstream_cluster"),
	    "outbound|80||locations.default.svc");
	assert_int_equal(json_get(j, "connection_termination_details")->type,
	    JSON_NULL);
	assert_int_equal(json_get(j, "upstream_transport_failure_reason")->type,
	    JSON_NULL);
	assert_string_equal(json_get_string(j, "response_flags"), "-");
	assert_string_equal(json_get_string(j, "upstream_service_time"),
	    "100");
	assert_string_equal(json_get_string(j, "response_code_details"),
	    "via_upstream");
	assert_string_equal(json_get_string(j, "route_name"), "default");
	assert_int_equal(json_get(j, "duration")->type, JSON_NUMBER);
	assert_true(json_get(j, "duration")->number == 226);
	assert_int_equal(json_get(j, "bytes_received")->type, JSON_NUMBER);
	assert_int_equal(json_get(j, "response_code")->type, JSON_NUMBER);
	json_free(j);
	free(l);
}

static void
test_grpc_status(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	r.grpc_status = s("5");
	l = line("%GRPC_STATUS% %GRPC_STATUS(CAMEL_STRING)% "
	    "%GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS(NUMBER)% "
	    "%GRPC_STATUS_NUMBER%", 0, &r);
	assert_string_equal(l, "NotFound NotFound NOT_FOUND 5 5\n");
	free(l);
	r.grpc_status = s("0");
	l = line("%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)%", 0, &r);
	assert_string_equal(l, "OK OK\n");
	free(l);
	r.grpc_status = s("1");
	l = line("%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)%", 0, &r);
	assert_string_equal(l, "Canceled CANCELLED\n");
	free(l);
	/* past the known codes: the number */
	r.grpc_status = s("42");
	l = line("%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)%", 0, &r);
	assert_string_equal(l, "42 42\n");
	free(l);
	/* no gRPC status: unset, null in JSON; NUMBER a JSON number */
	r.grpc_status = (struct str){ NULL, 0 };
	l = line("%GRPC_STATUS% %GRPC_STATUS_NUMBER%", 0, &r);
	assert_string_equal(l, "- -\n");
	free(l);
	l = line("{\"g\": \"%GRPC_STATUS%\"}", 1, &r);
	assert_string_equal(l, "{\"g\":null}\n");
	free(l);
	r.grpc_status = s("14");
	l = line("{\"g\": \"%GRPC_STATUS%\", "
	    "\"n\": \"%GRPC_STATUS(NUMBER)%\"}", 1, &r);
	assert_string_equal(l, "{\"g\":\"Unavailable\",\"n\":14}\n");
	free(l);
}

static void
test_req_without_query(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	r.path = s("/api/v1/locations?token=secret&x=1");
	l = line("%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)% "
	    "%REQ_WITHOUT_QUERY(:PATH):8% %REQ(:PATH)% "
	    "%REQ_WITHOUT_QUERY(USER-AGENT)% %REQ_WITHOUT_QUERY(X-NONE)%",
	    0, &r);
	assert_string_equal(l, "/api/v1/locations /api/v1/ "
	    "/api/v1/locations?token=secret&x=1 nsq2http -\n");
	free(l);
	r.original_path = s("/old?q=1");
	l = line("%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%", 0, &r);
	assert_string_equal(l, "/old\n");
	free(l);
}

/* Typed JSON: numbers only from operators whose values are numbers. */
static void
test_json_types(void **state)
{
	struct record	 r;
	char		*l;

	example(&r);
	r.flags = s("-");
	r.has |= RECORD_HAS_ATTEMPTS | RECORD_HAS_REQUEST_DURATION;
	r.attempts = 1;
	r.request_duration_us = 5000;
	l = line("{\"flags\": \"%RESPONSE_FLAGS%\", "
	    "\"ust\": \"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%\", "
	    "\"status\": \"%RESP(:STATUS)%\", "
	    "\"code\": \"%RESPONSE_CODE%\", "
	    "\"dur\": \"%DURATION%\", "
	    "\"rdur\": \"%REQUEST_DURATION%\", "
	    "\"rx\": \"%BYTES_RECEIVED%\", "
	    "\"tries\": \"%UPSTREAM_REQUEST_ATTEMPT_COUNT%\", "
	    "\"xff\": \"%REQ(X-FORWARDED-FOR)%\", "
	    "\"none\": \"%REQ(X-NONE)%\", "
	    "\"mixed\": \"%DURATION%ms\"}", 1, &r);
	assert_string_equal(l, "{\"flags\":\"-\",\"ust\":\"100\","
	    "\"status\":\"204\",\"code\":204,\"dur\":226,\"rdur\":5,"
	    "\"rx\":154,\"tries\":1,\"xff\":\"10.0.35.28\","
	    "\"none\":null,\"mixed\":\"226ms\"}\n");
	free(l);
	/* the header itself, as the upstream sent it */
	r.response_headers[0].name = s("x-envoy-upstream-service-time");
	r.response_headers[0].value = s("7");
	r.nresponse_headers = 1;
	l = line("{\"ust\": \"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%\"}", 1,
	    &r);
	assert_string_equal(l, "{\"ust\":\"7\"}\n");
	free(l);
}

/* A format that reads more headers than a record carries is told. */
static void
test_header_cap(void **state)
{
	struct accesslog_format	*f;
	struct sbuf		 b;
	char			 err[256];
	size_t			 i;

	sbuf_init(&b, 0);
	/* x-request-id and 15 others fit */
	sbuf_adds(&b, "%REQ(X-REQUEST-ID)%");
	for (i = 0; i < ACCESSLOG_MAX_REQUEST_HEADERS; i++)
		sbuf_printf(&b, " %%REQ(X-H%zu)%%", i);
	f = accesslog_text_new(b.buf, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(accesslog_format_check(f, err, sizeof(err)), 0);
	accesslog_format_free(f);
	/* a 16th does not, and is named */
	sbuf_adds(&b, " %REQ(X-LATE)% %REQ(X-LATER)%");
	f = accesslog_text_new(b.buf, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(accesslog_format_check(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "17 request headers"));
	assert_non_null(strstr(err, "x-late and those after it"));
	accesslog_format_free(f);
	/* response headers: 16 fit, 17 do not */
	sbuf_reset(&b);
	sbuf_addc(&b, '{');
	for (i = 0; i <= ACCESSLOG_MAX_RESPONSE_HEADERS; i++)
		sbuf_printf(&b, "%s\"k%zu\": \"%%RESP(X-R%zu)%%\"",
		    i > 0 ? ", " : "", i, i);
	sbuf_addc(&b, '}');
	f = accesslog_json_parse(b.buf, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(accesslog_format_check(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "17 response headers"));
	assert_non_null(strstr(err, "x-r16"));
	accesslog_format_free(f);
	sbuf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_unknown_values),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_start_time),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_istio_text),
		cmocka_unit_test(test_istio_json),
		cmocka_unit_test(test_grpc_status),
		cmocka_unit_test(test_req_without_query),
		cmocka_unit_test(test_json_types),
		cmocka_unit_test(test_header_cap),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
