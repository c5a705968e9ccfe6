/* SPDX-License-Identifier: ISC */
/*
 * Access log lines from per-request records, in Envoy's format language:
 * a format string of literal text and command operators (%START_TIME%,
 * %REQ(USER-AGENT)%, %RESPONSE_CODE%, ...), as Istio's MeshConfig
 * accessLogFormat and the Telemetry providers take it, written as a text
 * line or as a JSON object whose values are such format strings.
 */
#ifndef MESHKIT_ACCESSLOG_H
#define MESHKIT_ACCESSLOG_H

#include <stddef.h>

#include "record.h"
#include "sbuf.h"

/* Envoy's default format, the one used when none is given. */
#define ACCESSLOG_DEFAULT_FORMAT \
	"[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% " \
	"%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% " \
	"%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% " \
	"\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" " \
	"\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n"

/*
 * Istio's default JSON format (EnvoyJSONLogFormatIstio), what an
 * envoyFileAccessLog provider writes with logFormat.labels empty.
 */
#define ACCESSLOG_ISTIO_JSON_FORMAT \
	"{\"start_time\": \"%START_TIME%\", " \
	"\"route_name\": \"%ROUTE_NAME%\", " \
	"\"method\": \"%REQ(:METHOD)%\", " \
	"\"path\": \"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\", " \
	"\"protocol\": \"%PROTOCOL%\", " \
	"\"response_code\": \"%RESPONSE_CODE%\", " \
	"\"response_flags\": \"%RESPONSE_FLAGS%\", " \
	"\"response_code_details\": \"%RESPONSE_CODE_DETAILS%\", " \
	"\"connection_termination_details\": " \
	    "\"%CONNECTION_TERMINATION_DETAILS%\", " \
	"\"bytes_received\": \"%BYTES_RECEIVED%\", " \
	"\"bytes_sent\": \"%BYTES_SENT%\", " \
	"\"duration\": \"%DURATION%\", " \
	"\"upstream_service_time\": " \
	    "\"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%\", " \
	"\"x_forwarded_for\": \"%REQ(X-FORWARDED-FOR)%\", " \
	"\"user_agent\": \"%REQ(USER-AGENT)%\", " \
	"\"request_id\": \"%REQ(X-REQUEST-ID)%\", " \
	"\"authority\": \"%REQ(:AUTHORITY)%\", " \
	"\"upstream_host\": \"%UPSTREAM_HOST%\", " \
	"\"upstream_cluster\": \"%UPSTREAM_CLUSTER_RAW%\", " \
	"\"upstream_local_address\": \"%UPSTREAM_LOCAL_ADDRESS%\", " \
	"\"downstream_local_address\": \"%DOWNSTREAM_LOCAL_ADDRESS%\", " \
	"\"downstream_remote_address\": \"%DOWNSTREAM_REMOTE_ADDRESS%\", " \
	"\"requested_server_name\": \"%REQUESTED_SERVER_NAME%\", " \
	"\"upstream_transport_failure_reason\": " \
	    "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\"}"

#define ACCESSLOG_MAX_FORMAT	8192	/* bytes of a format */
/*
 * The headers a record carries for the formats and filters (record.h),
 * the request's beside x-request-id, which goes with every record.
 */
#define ACCESSLOG_MAX_REQUEST_HEADERS	(RECORD_MAX_HEADERS - 1)
#define ACCESSLOG_MAX_RESPONSE_HEADERS	RECORD_MAX_HEADERS
/* Does a header a log reads take one of those places (not x-request-id)? */
#define ACCESSLOG_HEADER_TAKES(response, name)				\
	((response) || strcmp((name), "x-request-id") != 0)
#define ACCESSLOG_MAX_KEYS	64	/* keys of a JSON format */

struct accesslog_format;

/*
 * A text format string (NULL or "": Envoy's default; a line without a
 * final newline gets one).  NULL with the reason in err, naming the
 * operator that is wrong.
 */
struct accesslog_format *accesslog_text_new(const char *format, char *err,
	    size_t errlen);
/*
 * A JSON format: keys[i] -> format string values[i], n of them (0: the
 * default keys, one per operator of Envoy's default format).
 */
struct accesslog_format *accesslog_json_new(char *const *keys,
	    char *const *values, size_t n, char *err, size_t errlen);
/*
 * A JSON format written as Istio's accessLogFormat takes it with
 * accessLogEncoding JSON: a JSON object of format strings.
 */
struct accesslog_format *accesslog_json_parse(const char *object,
	    char *err, size_t errlen);
void	accesslog_format_free(struct accesslog_format *);

/* The log line of r (ending in a newline), appended to out. */
void	accesslog_write(const struct accesslog_format *,
	    const struct record *r, struct sbuf *out);

/*
 * The headers the format reads with %REQ(...)% (response 0) or
 * %RESP(...)% (1), lower case, pseudo-headers and those a record
 * carries in its own fields left out: what proxy-d must put in the
 * record.  Returns how many; *names points into the format.
 */
unsigned accesslog_fields(const struct accesslog_format *);
size_t	accesslog_headers(const struct accesslog_format *, int response,
	    const char *const **names);
/*
 * Do nrequest request headers (x-request-id not counted) and nresponse
 * response headers fit in a record?  0, or -1 with the reason in err,
 * naming first_lost[0], [1] (the first that does not fit; may be NULL).
 */
int	accesslog_headers_check(size_t nrequest, size_t nresponse,
	    const char *first_lost[2], char *err, size_t errlen);
/* The same for the headers one format reads. */
int	accesslog_format_check(const struct accesslog_format *, char *err,
	    size_t errlen);

#endif
