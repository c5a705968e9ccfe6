/* SPDX-License-Identifier: ISC */
/*
 * Retry policy of a route, as Envoy reads Istio's retryOn: which
 * outcomes of a try call for another, and how long to wait before it.
 * Plain functions; proxy-d carries them out, route-d and meshctl
 * validate with them, the unit tests pin them down.
 */
#ifndef MESHKIT_RETRY_H
#define MESHKIT_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define RETRY_ON_5XX			(1u << 0)
#define RETRY_ON_GATEWAY_ERROR		(1u << 1)
#define RETRY_ON_RESET			(1u << 2)
#define RETRY_ON_CONNECT_FAILURE	(1u << 3)
#define RETRY_ON_RETRIABLE_4XX		(1u << 4)
#define RETRY_ON_REFUSED_STREAM		(1u << 5)	/* HTTP/2 only */
#define RETRY_ON_STATUS_CODES		(1u << 6)
#define RETRY_ON_CANCELLED		(1u << 7)	/* grpc-status 1 */
#define RETRY_ON_DEADLINE_EXCEEDED	(1u << 8)	/* 4 */
#define RETRY_ON_RESOURCE_EXHAUSTED	(1u << 9)	/* 8 */
#define RETRY_ON_UNAVAILABLE		(1u << 10)	/* 14 */
#define RETRY_ON_INTERNAL		(1u << 11)	/* 13 */
#define RETRY_ON_RESET_BEFORE_REQUEST	(1u << 12)
/* Envoy's, accepted, never met here (no rate-limit filter, no header
   matchers, no HTTP/3) */
#define RETRY_ON_INERT			(1u << 13)

/* Istio's mesh-wide default conditions (its attempts: 2) */
#define RETRY_DEFAULT_ON	"connect-failure,refused-stream,unavailable,cancelled"

#define RETRY_MAX_CODES		16
#define RETRY_BACKOFF_BASE_MS	25
#define RETRY_BACKOFF_MAX_MS	250	/* Envoy: ten times the base */

struct retry_policy {
	uint32_t	 attempts;	/* retries after the first try */
	uint64_t	 per_try_ms;	/* 0: none */
	uint32_t	 on;		/* RETRY_ON_* */
	uint16_t	 codes[RETRY_MAX_CODES];
	size_t		 ncodes;
};

/* What became of one try. */
enum retry_outcome {
	RETRY_OUTCOME_CONNECT_FAILURE,	/* refused, unreachable, timed out */
	RETRY_OUTCOME_RESET,		/* closed before a response */
	RETRY_OUTCOME_TIMEOUT,		/* per-try timeout, no response */
	RETRY_OUTCOME_RESPONSE,		/* a final response head */
};

/*
 * Reads a comma-separated retryOn ("5xx,connect-failure,503"): Envoy's
 * condition names and bare status codes (which imply
 * retriable-status-codes).  0, or -1 with why in err.
 */
int	retry_on_parse(const char *, struct retry_policy *, char *err,
	    size_t errlen);

/*
 * Is w (n bytes) one retry condition: a word of Envoy's or a status code
 * 100..599?  route-d's validation and retry_on_parse share it.
 */
int	retry_condition_known(const char *w, size_t n);

/*
 * Does this outcome call for another try under p?  status is the
 * response's (RESPONSE only), grpc the value of its grpc-status header
 * (-1 without one).
 */
int	retry_wanted(const struct retry_policy *, enum retry_outcome,
	    int status, int grpc);

/*
 * The wait before retry number n (1 for the first retry): fully
 * jittered exponential back-off, random in [0, (2^n - 1) * base] and
 * never above max, from the random value r.
 */
uint64_t retry_backoff_ms(unsigned n, uint64_t base_ms, uint64_t max_ms,
	    uint64_t r);

#endif
