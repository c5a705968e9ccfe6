/* SPDX-License-Identifier: ISC */
/*
 * The head writer of proxy-d: the request head sent upstream, the
 * response head sent to the client, and proxy-d's own answers, written
 * from plain inputs into memory the caller reserved (each *_need says
 * how much).  No session, no libevent, no allocation: these are pure
 * functions, and tests/unit/test_proxy_head.c calls them directly.
 */
#ifndef PROXY_D_HEAD_H
#define PROXY_D_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "route.h"
#include "util.h"

/*
 * A header operation of authz-d's decision or of a stage (trace
 * context, x-forwarded-client-cert): set a header (every received line
 * of that name goes, this one is written) or remove it.  In a list, the
 * last operation on a name is the one that counts: head_ops_finish()
 * marks it.
 */
struct head_op {
	int	 remove;
	int	 last;		/* no later operation of the list names it */
	char	*name;
	size_t	 namelen;
	char	*value;
	size_t	 valuelen;
};

/* A list of operations and the bytes its set lines take. */
struct head_ops {
	const struct head_op	*op;
	size_t			 n;
	size_t			 len;
};

/* Mark the last operation on each name; the bytes the set lines take. */
size_t	head_ops_finish(struct head_op *, size_t n);
/* Does the list set or remove this header? */
int	head_ops_names(const struct head_ops *, struct str name);
/* The set lines of the list ("name: value\r\n"). */
char	*head_ops_put(char *w, const struct head_ops *);

/* What makes a request head as it goes upstream. */
struct head_request {
	const struct http_request	*req;
	size_t				 headlen;	/* as received */
	const struct route_policy	*policy;	/* NULL: none */
	struct head_ops			 authz;		/* authz-d's */
	struct head_ops			 extra;		/* the stages' */
	const char			*client_ip;	/* x-forwarded-for */
	const char			*request_id;	/* "": the client's */
	unsigned			 attempt;	/* 0: none */
	int				 mirror;	/* a mirror's copy */
};

/*
 * The request head as it goes upstream: hop-by-hop headers dropped,
 * framing re-emitted, x-forwarded-for and x-request-id added, the
 * route's rewrites and header operations done, authz-d's and the
 * stages' header operations done.  A mirror's copy has "-shadow" added
 * to its host, as Envoy's has, and asks to close.
 */
/*
 * A body on a method that usually has none (GET, DELETE, OPTIONS,
 * TRACE) is forwarded, but asks the upstream to close after it: a
 * backend that ignores such bodies and reads one as a next request may
 * not process it (RFC 9112 9.6), and no other request follows it there.
 */
int	head_body_closes(const struct http_request *);

size_t	head_request_need(const struct head_request *);
char	*head_request_put(const struct head_request *, char *w);

/* What makes a response head as it goes to the client. */
struct head_response {
	const struct http_response	*resp;
	size_t				 headlen;	/* as received */
	int				 request_version; /* 10, 11 */
	const struct route_policy	*policy;	/* NULL: none */
	struct str			 cors_origin;	/* n 0: no CORS */
	int				 keep_alive;	/* 0: close after */
	int				 dechunk;	/* the body goes
							   unframed (1.0) */
};

/*
 * Does the message's Transfer-Encoding list codings other than chunked
 * (gzip, say), which are the body's and must reach the client with it?
 */
int	head_te_codings(const struct http_header *, size_t);

size_t	head_response_need(const struct head_response *);
char	*head_response_put(const struct head_response *, char *w);

/* proxy-d's own answer. */
struct head_local {
	int		 status;
	const char	*content_type;	/* NULL: none */
	size_t		 bodylen;
	const char	*flags;		/* x-meshkit-flags, NULL: none */
	struct str	 location;	/* n 0: none */
	struct str	 extra;		/* header lines, n 0: none */
	struct str	 request_id;	/* n 0: none */
	int		 close;		/* Connection: close */
};

size_t	head_local_need(const struct head_local *);
char	*head_local_put(const struct head_local *, char *w);

/*
 * A route's redirect: the request's URL with the parts the route names
 * replaced.  The bytes needed (NUL included), and the Location written
 * into buf when it fits (else nothing, and the caller asks again with
 * room).
 */
size_t	head_redirect(const struct http_request *, const struct route_policy *,
	    char *buf, size_t len);

/*
 * The answer to an allowed CORS preflight: its header lines, written
 * into buf with a NUL; their length, or 0 when they do not fit.
 */
size_t	head_cors_preflight(const struct route_policy *, struct str origin,
	    char *buf, size_t len);

/* Writes v in lower-case hex; returns the end. */
char	*head_put_hex(char *w, uint64_t v);

#endif
