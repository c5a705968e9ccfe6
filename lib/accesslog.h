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

#define ACCESSLOG_MAX_FORMAT	8192	/* bytes of a format */
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
size_t	accesslog_headers(const struct accesslog_format *, int response,
	    const char *const **names);

#endif
