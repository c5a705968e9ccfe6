/* SPDX-License-Identifier: ISC */
/*
 * What telemetry applies to one workload: Istio's Telemetry resources
 * (the workload's own by selector, else its namespace's, else the root
 * namespace's) over MeshConfig's defaults (defaultProviders,
 * accessLogFile, enableTracing, defaultConfig.tracing).  stats-d asks it
 * for the reporting workload of each batch of records; proxy-d for its
 * own workload's sampling.  The result points into the config.
 */
#ifndef MESHKIT_TELEMETRY_H
#define MESHKIT_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "logfilter.h"

#define TELEMETRY_MAX_TARGETS	8

/* One access log to write a record to. */
struct telemetry_log_target {
	const char		*provider;
	const char		*path;		/* file, /dev/stdout, syslog:.. */
	int			 json;
	const char		*format;	/* text, or a JSON object */
	const struct labels	*labels;	/* JSON keys, or NULL */
	const struct logfilter	*filter;	/* NULL: every record */
	enum telemetry_mode	 mode;
};

/* One collector to export spans to. */
struct telemetry_trace_target {
	const char		*provider;
	enum provider_kind	 kind;		/* zipkin, opentelemetry */
	const char		*host;
	uint32_t		 port;
	const char		*path;
	uint64_t		 timeout_ms;
	const struct labels	*headers;
	uint32_t		 max_tag_length;
};

struct telemetry_effective {
	struct telemetry_log_target	 logs[TELEMETRY_MAX_TARGETS];
	size_t				 nlogs;
	int				 tracing;	/* propagate, sample */
	uint32_t			 sampling_ppm;
	int				 spans[2];	/* report: client, server */
	struct telemetry_trace_target	 traces[TELEMETRY_MAX_TARGETS];
	size_t				 ntraces;
	unsigned			 metrics_off[2]; /* client, server */
	/* why something named is not used: for a warning */
	char				 problem[256];
};

/*
 * The telemetry of workload (namespace ns, labels) under cfg (NULL or
 * without a MeshConfig: Istio's defaults, no access log, no collector).
 */
void	telemetry_resolve(const struct config *cfg, const char *ns,
	    const struct labels *labels, struct telemetry_effective *);
unsigned telemetry_log_reads(const struct telemetry_effective *,
	    void (*)(void *, int response, const char *name), void *);
/* The Telemetry resource that applies first, for messages; or NULL. */
const struct telemetry *telemetry_find(const struct config *, const char *ns,
	    const struct labels *, int section);

#define TELEMETRY_LOGGING	0
#define TELEMETRY_TRACING	1
#define TELEMETRY_METRICS	2

#endif
