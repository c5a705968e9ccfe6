/* SPDX-License-Identifier: ISC */
/*
 * Istio's standard HTTP metrics from per-request records, in Prometheus'
 * text exposition format: istio_requests_total and the histograms
 * istio_request_duration_milliseconds, istio_request_bytes and
 * istio_response_bytes, with Istio's labels and default buckets.
 *
 * One series per label set holds all four.  Series are bounded: past the
 * cap a new label set is counted into one overflow series (every label
 * "overflow"), so no stream of records can grow memory without end.
 * Not thread-safe: the caller holds its lock.
 */
#ifndef MESHKIT_METRICS_H
#define MESHKIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "sbuf.h"
#include "strmap.h"

#define METRICS_NBUCKETS	19	/* finite bounds; +Inf is one more */
#define METRICS_DEFAULT_MAX_SERIES 4096
#define METRICS_MAX_VALUE	128	/* bytes of a label value kept */

/* Istio's default bucket bounds: milliseconds, and bytes alike. */
extern const double metrics_buckets[METRICS_NBUCKETS];

/* Which of the four metrics, for Telemetry's overrides. */
#define METRICS_REQUEST_COUNT		0x1
#define METRICS_REQUEST_DURATION	0x2
#define METRICS_REQUEST_SIZE		0x4
#define METRICS_RESPONSE_SIZE		0x8
#define METRICS_ALL			0xf

struct metrics_histogram {
	uint64_t	 counts[METRICS_NBUCKETS + 1];	/* per bucket */
	uint64_t	 count;
	double		 sum;
};

struct metrics_series {
	const char		*labels;	/* rendered: the map's key */
	size_t			 labels_len;
	int			 owned;		/* labels allocated */
	unsigned		 disabled;	/* METRICS_* not shown */
	uint64_t		 requests;
	struct metrics_histogram duration;
	struct metrics_histogram request_size;
	struct metrics_histogram response_size;
};

struct metrics {
	struct strmap		 series;	/* labels -> metrics_series */
	size_t			 max_series;
	struct metrics_series	*overflow;	/* NULL until needed */
	uint64_t		 overflowed;	/* records counted into it */
	uint64_t		 bad_security;	/* security: not Istio's: unknown */
	struct sbuf		 key;		/* scratch */
};

void	metrics_init(struct metrics *, size_t max_series);
void	metrics_fini(struct metrics *);
/* The cap may change on reload; series already kept stay. */
void	metrics_set_max_series(struct metrics *, size_t);
/*
 * Counts one record; disabled says which metrics the reporter's
 * Telemetry turns off for it.  Returns its series.
 */
struct metrics_series *metrics_add(struct metrics *, const struct record *,
	    unsigned disabled);
size_t	metrics_nseries(const struct metrics *);
/* The four families, every series, to b. */
void	metrics_write(const struct metrics *, struct sbuf *b);
/*
 * The same a piece at a time, for a scrape that must not hold it all
 * in memory: the series as they are when the cursor is made (under the
 * caller's lock), each piece written under the lock again.  Series live
 * as long as the metrics, so the pointers stay good; one made after the
 * cursor waits for the next scrape.  A series' lines of one family are
 * written in one piece, so a histogram's buckets, sum and count agree.
 */
struct metrics_cursor {
	const struct metrics_series **series;
	size_t			 n;
	size_t			 family;	/* 4: done */
	size_t			 next;		/* series of the family */
};

void	metrics_cursor_init(struct metrics_cursor *, const struct metrics *);
/* At least one line more, until b holds max bytes; 1 while any is left. */
int	metrics_cursor_write(struct metrics_cursor *, struct sbuf *b,
	    size_t max);
void	metrics_cursor_fini(struct metrics_cursor *);

/* Index of the bucket v falls in (METRICS_NBUCKETS: +Inf). */
size_t	metrics_bucket(double v);
void	metrics_histogram_add(struct metrics_histogram *, double v);
/*
 * The q quantile (0..1) of a histogram, interpolated inside its bucket
 * as Prometheus' histogram_quantile does; NaN when empty.
 */
double	metrics_quantile(const uint64_t counts[METRICS_NBUCKETS + 1],
	    double q);

/* Other metrics' lines: "# HELP", "# TYPE", and samples. */
void	metrics_family(struct sbuf *, const char *name, const char *type,
	    const char *help);
/* name{labels} value; labels may be NULL or "" */
void	metrics_sample(struct sbuf *, const char *name, const char *labels,
	    double value);
void	metrics_sample_u64(struct sbuf *, const char *name,
	    const char *labels, uint64_t value);

#endif
