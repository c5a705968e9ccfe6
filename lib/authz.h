/* SPDX-License-Identifier: ISC */
/*
 * Authorization decisions, as Istio's RequestAuthentication and
 * AuthorizationPolicy make them: who the caller is (a JWT, verified),
 * then whether it may ask (CUSTOM, DENY, ALLOW policies, in that order;
 * AUDIT only noted).  Plain functions over plain data: authz-d, its
 * filter mode, meshctl and the unit tests all call these.  The wire
 * form is meshkit-ipc(7) "authz".
 */
#ifndef MESHKIT_AUTHZ_H
#define MESHKIT_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "jwt.h"
#include "msg.h"
#include "util.h"

/* every header proxy-d may forward: what authz-d cannot see must not pass */
#define AUTHZ_MAX_HEADERS	HTTP_MAX_HEADERS_CEILING
#define AUTHZ_MAX_HEADER_OPS	32
#define AUTHZ_BODY_401		"Jwt verification fails"
#define AUTHZ_BODY_403		"RBAC: access denied"
/* Envoy's jwt_authn answers an audience it does not allow with 403 */
#define AUTHZ_BODY_AUDIENCE	"Audiences in Jwt are not allowed"

/* One question; strings point into the request message. */
struct authz_request {
	uint64_t	 id;
	struct str	 authority;
	struct str	 destination;	/* address:port connected to */
	uint32_t	 port;		/* destination port, 0: unknown */
	struct str	 method;
	struct str	 path;		/* path and query as received */
	struct str	 source;	/* address:port of the peer */
	struct str	 remote;	/* address; empty: the source's */
	struct str	 principal;	/* peer's SPIFFE URI, may be empty */
	struct str	 sni;
	struct str	 header_names[AUTHZ_MAX_HEADERS];	/* lower */
	struct str	 header_values[AUTHZ_MAX_HEADERS];
	size_t		 nheaders;
};

enum authz_decision {
	AUTHZ_DECISION_ALLOW,
	AUTHZ_DECISION_DENY,
	AUTHZ_DECISION_ERROR,
};

/* A header operation; name and value point into the answer's pool. */
struct authz_header_op {
	int		 remove;	/* else set */
	const char	*name;
	const char	*value;		/* "" for a remove */
};

#define AUTHZ_POOL_BYTES	(JWT_MAX_BYTES + 4096)

/* One answer; owns its strings (fixed buffers). */
struct authz_answer {
	uint64_t		 id;
	int			 has_id;
	enum authz_decision	 decision;
	unsigned		 status;	/* 401, 403 with deny */
	char			 body[64];
	char			 principal[512];	/* iss/sub */
	struct authz_header_op	 ops[AUTHZ_MAX_HEADER_OPS];
	size_t			 nops;
	char			 pool[AUTHZ_POOL_BYTES];
	size_t			 pool_used;
	uint64_t		 reuse_ms;
	char			 vary[512];
	char			 reason[512];
	/* what istio.io/dry-run policies would have decided, or empty */
	char			 dry_run[384];
};

/* Where the keys of a jwksUri are: authz-d's fetched, cached sets. */
struct authz_keys {
	const struct jwks	*(*lookup)(void *arg, const char *uri);
	void			*arg;
};

/* What a decision needs beyond the config and the question. */
struct authz_env {
	int64_t			 now;		/* seconds since the epoch */
	uint64_t		 reuse_ms;	/* cap of every reuse time */
	/* NULL: MeshConfig's rootNamespace (config_root_namespace) */
	const char		*root_namespace;
	struct authz_keys	 keys;		/* lookup NULL: none */
	/* told each answer with a dry-run result (may be NULL) */
	void			(*dry_run_log)(void *arg,
				    const struct msg_source *,
				    const struct authz_request *,
				    const struct authz_answer *);
	void			*arg;
};

/* Counters reported in a status-reply; the daemon adds its own. */
struct authz_stats {
	uint64_t	 start_ms;
	uint64_t	 messages;
	uint64_t	 bad_messages;
	uint64_t	 queries;
	uint64_t	 allowed;
	uint64_t	 denied_401;
	uint64_t	 denied_403;
	uint64_t	 errors;
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	uint64_t	 jwks_fetches;
	uint64_t	 jwks_failures;
};

/*
 * What one caller reuses from message to message so that a message costs
 * no malloc: one per thread.  last_error is the reason of the last
 * "error" reply it wrote, for the daemon's log.
 */
struct authz_scratch {
	struct msg		 msg;
	struct authz_request	 req;
	struct authz_answer	 answer;
	char			 last_error[256];
};

struct authz_scratch *authz_scratch_new(void);
void	authz_scratch_free(struct authz_scratch *);

void	authz_decide(const struct config *, const struct authz_env *,
	    const struct msg_source *, const struct authz_request *,
	    struct authz_answer *);
void	authz_answer_reset(struct authz_answer *, uint64_t id);
/* Adds a header operation; -1 when the answer has no room left. */
int	authz_answer_op(struct authz_answer *, int remove, struct str name,
	    struct str value);

/* Wire form (meshkit-ipc(7) "authz"), in authz_wire.c. */
int	authz_request_read(const struct msg *, const struct msg_block *,
	    struct authz_request *, char *err, size_t errlen);
void	authz_answer_write(struct msg_writer *, const struct authz_answer *);
int	authz_answer_read(const struct msg *, const struct msg_block *,
	    struct authz_answer *, char *err, size_t errlen);
const char *authz_decision_name(enum authz_decision);

/*
 * A whole request message in, a whole reply out, as authz-d does with
 * each message it gets (and with each of its filter mode).  Malformed
 * requests get an "error" reply; out is reset first.  stats may be NULL;
 * scratch may be NULL (one is made for the call);
 * the counters are updated with atomic adds, so threads may share them.
 */
void	authz_handle_message(const struct config *, const struct authz_env *,
	    struct authz_stats *, struct authz_scratch *, uint64_t generation,
	    const char *buf, size_t len, struct msg_writer *out);

/*
 * A question's destination, "address:port" ("[v6]:port"): its port, 0
 * when it has none; whether the address is an IPv4 or IPv6 address.
 */
uint32_t authz_destination_port(struct str);
int	authz_destination_ok(struct str);

#endif
