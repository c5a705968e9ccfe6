/* SPDX-License-Identifier: ISC */
/*
 * Retry conditions as Envoy defines them for x-envoy-retry-on (which is
 * what Istio's retryOn becomes):
 *	5xx		a 5xx response, or no response at all (connect
 *			failure, reset, per-try timeout)
 *	gateway-error	502, 503, 504, or no response at all
 *	reset		no response at all
 *	connect-failure	the connection could not be made
 *	retriable-4xx	409
 *	retriable-status-codes and bare codes: those statuses
 *	cancelled, deadline-exceeded, resource-exhausted, unavailable:
 *			the response's grpc-status (1, 4, 8, 14)
 *	refused-stream	an HTTP/2 REFUSED_STREAM: never over HTTP/1
 *	internal	the response's grpc-status 13
 *	reset-before-request
 *			no response, and no byte of the request sent: here
 *			a connection that could not be made
 *	envoy-ratelimited, retriable-headers, http3-post-connect-failure:
 *			accepted, never met (nothing here produces them)
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "util.h"

static const struct {
	const char	*name;
	uint32_t	 bit;
} conditions[] = {
	{ "5xx",			RETRY_ON_5XX },
	{ "gateway-error",		RETRY_ON_GATEWAY_ERROR },
	{ "reset",			RETRY_ON_RESET },
	{ "connect-failure",		RETRY_ON_CONNECT_FAILURE },
	{ "retriable-4xx",		RETRY_ON_RETRIABLE_4XX },
	{ "refused-stream",		RETRY_ON_REFUSED_STREAM },
	{ "retriable-status-codes",	RETRY_ON_STATUS_CODES },
	{ "cancelled",			RETRY_ON_CANCELLED },
	{ "deadline-exceeded",		RETRY_ON_DEADLINE_EXCEEDED },
	{ "resource-exhausted",		RETRY_ON_RESOURCE_EXHAUSTED },
	{ "unavailable",		RETRY_ON_UNAVAILABLE },
	{ "internal",			RETRY_ON_INTERNAL },
	{ "reset-before-request",	RETRY_ON_RESET_BEFORE_REQUEST },
	{ "envoy-ratelimited",		RETRY_ON_INERT },
	{ "retriable-headers",		RETRY_ON_INERT },
	{ "http3-post-connect-failure",	RETRY_ON_INERT },
};

static int
is_status_code(const char *w, size_t n)
{
	return n == 3 && w[0] >= '1' && w[0] <= '5' && w[1] >= '0' &&
	    w[1] <= '9' && w[2] >= '0' && w[2] <= '9';
}

static ssize_t
condition_index(const char *w, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++)
		if (strlen(conditions[i].name) == n &&
		    strncmp(conditions[i].name, w, n) == 0)
			return (ssize_t)i;
	return -1;
}

int
retry_condition_known(const char *w, size_t n)
{
	return condition_index(w, n) >= 0 || is_status_code(w, n);
}

int
retry_on_parse(const char *s, struct retry_policy *p, char *err,
    size_t errlen)
{
	const char	*w = s, *end;
	size_t		 n;
	ssize_t		 c;

	p->on = 0;
	p->ncodes = 0;
	while (*w != '\0') {
		while (*w == ' ' || *w == '\t')
			w++;
		end = w + strcspn(w, ",");
		n = (size_t)(end - w);
		while (n > 0 && (w[n - 1] == ' ' || w[n - 1] == '\t'))
			n--;
		if (n == 0) {
			if (*end == '\0' && end == s)
				break;
			snprintf(err, errlen, "retryOn: empty condition");
			return -1;
		}
		if ((c = condition_index(w, n)) >= 0)
			p->on |= conditions[c].bit;
		else if (is_status_code(w, n)) {
			if (p->ncodes == RETRY_MAX_CODES) {
				snprintf(err, errlen,
				    "retryOn: more than %d status codes",
				    RETRY_MAX_CODES);
				return -1;
			}
			p->codes[p->ncodes++] = (uint16_t)((w[0] - '0') * 100 +
			    (w[1] - '0') * 10 + (w[2] - '0'));
			p->on |= RETRY_ON_STATUS_CODES;
		} else {
			snprintf(err, errlen, "retryOn: unknown condition "
			    "\"%.*s\"", (int)(n > 64 ? 64 : n), w);
			return -1;
		}
		w = *end == ',' ? end + 1 : end;
		if (*end == ',' && *w == '\0') {
			snprintf(err, errlen, "retryOn: empty condition");
			return -1;
		}
	}
	return 0;
}

int
retry_wanted(const struct retry_policy *p, enum retry_outcome o, int status,
    int grpc)
{
	size_t	 i;

	switch (o) {
	case RETRY_OUTCOME_CONNECT_FAILURE:
		return (p->on & (RETRY_ON_5XX | RETRY_ON_GATEWAY_ERROR |
		    RETRY_ON_RESET | RETRY_ON_CONNECT_FAILURE |
		    RETRY_ON_RESET_BEFORE_REQUEST)) != 0;
	case RETRY_OUTCOME_RESET:
	case RETRY_OUTCOME_TIMEOUT:
		return (p->on & (RETRY_ON_5XX | RETRY_ON_GATEWAY_ERROR |
		    RETRY_ON_RESET)) != 0;
	case RETRY_OUTCOME_RESPONSE:
		break;
	}
	if ((p->on & RETRY_ON_5XX) && status >= 500 && status <= 599)
		return 1;
	if ((p->on & RETRY_ON_GATEWAY_ERROR) &&
	    (status == 502 || status == 503 || status == 504))
		return 1;
	if ((p->on & RETRY_ON_RETRIABLE_4XX) && status == 409)
		return 1;
	if (p->on & RETRY_ON_STATUS_CODES)
		for (i = 0; i < p->ncodes; i++)
			if (p->codes[i] == status)
				return 1;
	switch (grpc) {
	case 1:
		return (p->on & RETRY_ON_CANCELLED) != 0;
	case 4:
		return (p->on & RETRY_ON_DEADLINE_EXCEEDED) != 0;
	case 8:
		return (p->on & RETRY_ON_RESOURCE_EXHAUSTED) != 0;
	case 13:
		return (p->on & RETRY_ON_INTERNAL) != 0;
	case 14:
		return (p->on & RETRY_ON_UNAVAILABLE) != 0;
	default:
		return 0;
	}
}

uint64_t
retry_backoff_ms(unsigned n, uint64_t base_ms, uint64_t max_ms, uint64_t r)
{
	uint64_t	 span;

	if (n == 0)
		return 0;
	if (n > 16)
		n = 16;
	span = ((1ULL << n) - 1) * base_ms;
	if (span > max_ms)
		span = max_ms;
	return r % (span + 1);
}
