/* SPDX-License-Identifier: ISC */
/*
 * The access log filter of Istio's Telemetry (accessLogging[].filter
 * .expression): a subset of CEL over Envoy's request attributes, checked
 * when the config is read and evaluated per record.
 *
 * It has && || ! ( ), == != < <= > >=, in over a list of integer or
 * string literals ("response.code in [500, 503]"), integer, string and
 * bool literals, the methods startsWith, endsWith and contains, and the
 * attributes response.code, response.code_details, response.size,
 * response.total_size, response.headers['name'], request.method,
 * request.path, request.url_path, request.host, request.scheme,
 * request.protocol, request.id, request.useragent, request.referer,
 * request.size, request.total_size, request.headers['name'],
 * source.address, source.port, destination.address, destination.port,
 * upstream.address, upstream.port, connection.mtls and
 * connection.requested_server_name.  An expression with anything else
 * is refused with the reason, never logged past silently.
 */
#ifndef MESHKIT_LOGFILTER_H
#define MESHKIT_LOGFILTER_H

#include <stddef.h>

#include "record.h"

#define LOGFILTER_MAX_LEN	4096
#define LOGFILTER_MAX_DEPTH	32
#define LOGFILTER_MAX_LIST	64	/* values of an in's list */

struct logfilter;

/* The expression's tree, or NULL with the reason in err. */
struct logfilter *logfilter_parse(const char *, char *err, size_t errlen);
void	logfilter_free(struct logfilter *);
/* 1: the record is logged. */
int	logfilter_match(const struct logfilter *, const struct record *);
/* The headers it reads (response 0: request's), lower case. */
unsigned logfilter_fields(const struct logfilter *);
size_t	logfilter_headers(const struct logfilter *, int response,
	    const char *const **names);

#endif
