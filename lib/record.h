/* SPDX-License-Identifier: ISC */
/*
 * The per-request record of meshkit-ipc(7) "records": what one proxy-d
 * saw of one request, for stats-d's metrics, access logs and spans.  The
 * writer is proxy-d's (record_write), the reader stats-d's (record_read);
 * neither copies: a read record's strings point into the message.
 */
#ifndef MESHKIT_RECORD_H
#define MESHKIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "util.h"

#define RECORD_MAX_HEADERS	16	/* request-header, response-header */
#define RECORD_MAX_COUNTERS	32	/* a header's counter lines read */

enum record_reporter {
	RECORD_SOURCE,		/* the caller's proxy, outbound */
	RECORD_DESTINATION,	/* the callee's proxy, inbound */
};

/* One side of a request: a workload.  A NULL p: unknown. */
struct record_peer {
	struct str	 workload;
	struct str	 namespace;
	struct str	 app;
	struct str	 version;
	struct str	 principal;
};

struct record_header {
	struct str	 name;		/* lower case */
	struct str	 value;
};

/* Which of the optional numbers a record has. */
#define RECORD_HAS_REQUEST_DURATION	0x001
#define RECORD_HAS_RESPONSE_START	0x002
#define RECORD_HAS_UPSTREAM		0x004
#define RECORD_HAS_REQUEST_BYTES	0x008
#define RECORD_HAS_RESPONSE_BYTES	0x010
#define RECORD_HAS_REQUEST_HEAD		0x020
#define RECORD_HAS_RESPONSE_HEAD	0x040
#define RECORD_HAS_PORT			0x080
#define RECORD_HAS_ATTEMPTS		0x100
#define RECORD_HAS_SAMPLED		0x200
#define RECORD_HAS_CODE			0x400

#define RECORD_MAX_HEADER_LINE	2048	/* "name: value" of a header */

/*
 * Fields a record carries only when a log format or filter reads them
 * (accesslog_fields, logfilter_fields): proxy-d leaves out the rest.
 */
#define RECORD_F_DETAILS		0x01	/* details */
#define RECORD_F_ROUTE			0x02	/* route-name */
#define RECORD_F_UPSTREAM_LOCAL		0x04	/* upstream-local */
#define RECORD_F_UPSTREAM_FAILURE	0x08	/* upstream-failure */
#define RECORD_F_REQUEST_DURATION	0x10	/* request-duration-us */
#define RECORD_F_SNI			0x20	/* sni */
#define RECORD_F_ORIGINAL_PATH		0x40	/* original-path */
#define RECORD_F_PROTOCOL		0x80	/* protocol */

struct record {
	enum record_reporter	 reporter;
	unsigned		 has;		/* RECORD_HAS_* */
	uint64_t		 start_us;	/* since the epoch */
	uint64_t		 duration_us;
	uint64_t		 request_duration_us;
	uint64_t		 response_start_us;
	uint64_t		 upstream_us;
	uint64_t		 request_bytes;	/* bodies */
	uint64_t		 response_bytes;
	uint64_t		 request_head_bytes;
	uint64_t		 response_head_bytes;
	uint32_t		 code;		/* 0: no response */
	uint32_t		 port;
	uint32_t		 attempts;
	int			 sampled;
	/*
	 * Read from a message (record_read): no string of it holds a CR,
	 * an LF or a NUL, which msg_parse refuses or ends a value at.
	 */
	int			 from_msg;
	struct str		 flags;		/* NULL or "-": none */
	struct str		 details;
	struct str		 grpc_status;
	struct str		 request_protocol;	/* http, grpc */
	struct str		 protocol;		/* HTTP/1.1 */
	struct str		 method;
	struct str		 path;
	struct str		 original_path;
	struct str		 authority;
	struct str		 service;
	struct str		 service_name;
	struct str		 service_namespace;
	struct str		 security;	/* mutual_tls, none, unknown */
	struct record_peer	 source;
	struct record_peer	 destination;
	struct str		 upstream_host;
	struct str		 upstream_cluster;
	struct str		 upstream_local;
	struct str		 downstream_local;
	struct str		 downstream_remote;
	struct str		 sni;
	struct str		 route_name;
	struct str		 upstream_failure;
	struct str		 trace_id;
	struct str		 span_id;
	struct str		 parent_span_id;
	struct record_header	 request_headers[RECORD_MAX_HEADERS];
	size_t			 nrequest_headers;
	struct record_header	 response_headers[RECORD_MAX_HEADERS];
	size_t			 nresponse_headers;
};

struct record_counter {
	struct str	 name;
	uint64_t	 value;
};

/* A records message's header: who reports. */
struct record_batch {
	struct record_peer	 self;		/* app, version from labels */
	uint64_t		 pid;		/* 0: not given */
	struct record_counter	 counters[RECORD_MAX_COUNTERS];
	size_t			 ncounters;
};

/* An empty record: every field unknown, no headers. */
void	record_clear(struct record *);
/*
 * The header of a parsed "records" message into b.  Returns 0, or -1
 * with the reason in err (a bad label, pid or counter).
 */
int	record_batch_read(const struct msg *, struct record_batch *b,
	    char *err, size_t errlen);
/*
 * The keys of a record in the order record_write writes them, for
 * msg_parse_keyed: record_read then finds each field without looking
 * its key up.
 */
const struct msg_keys *record_keys(void);
/*
 * One record of it into r, the reporter's own side completed from b.
 * Returns 0, or -1 with the reason in err.
 */
int	record_read(const struct msg *, const struct msg_block *,
	    const struct record_batch *b, struct record *r, char *err,
	    size_t errlen);

/*
 * proxy-d's side: a records message's first line and header (labels as
 * "key=value" strings, counters as given), then one record per call.
 * Fields that are unknown (NULL strings, bits not in has) are left out.
 */
void	record_batch_write(struct msg_writer *, const struct record_batch *,
	    const char *const *labels, size_t nlabels);
void	record_write(struct msg_writer *, const struct record *);

/* The value of a request or response header r carries, or a NULL str. */
struct str record_request_header(const struct record *, const char *name);
struct str record_response_header(const struct record *, const char *name);

/*
 * An address field ("ip:port", "[v6]:port", or without the port) split:
 * the host, brackets off, and the port in *port (0 when none; port may
 * be NULL).  A NULL value stays NULL.
 */
struct str record_addr_split(struct str, long long *port);
/*
 * The destination service's name and namespace, as Istio's labels have
 * them: the record's own, else from a name.namespace.svc[.domain] host;
 * else the name is the host as given and the namespace the destination
 * workload's (the reporter's own on the destination's side), from its
 * namespace or its SPIFFE identity; NULL when none is known.
 */
void	record_service_parts(const struct record *, struct str *name,
	    struct str *namespace);
/* Is the response an error in Istio's dashboards' sense (5xx, none)? */
int	record_is_error(const struct record *);
const char *record_reporter_name(enum record_reporter);

#endif
