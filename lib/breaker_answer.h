/*
 * breaker-d's messages as proxy-d reads them (meshkit-ipc(7)): the
 * records of an "admit-reply" and the one record of a "breaker-event".
 * The strings point into the message, which must outlive them.
 */
#ifndef MESHKIT_BREAKER_ANSWER_H
#define MESHKIT_BREAKER_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "util.h"

#define BREAKER_MAX_EJECTED	256

/* Which limits an answer sets (the limits: line names only those). */
enum {
	BREAKER_MAX_CONNECTIONS = 1,
	BREAKER_MAX_PENDING = 2,
	BREAKER_MAX_REQUESTS_PER_CONNECTION = 4,
	BREAKER_MAX_RETRIES = 8,
	BREAKER_CONNECT_TIMEOUT = 16,
	BREAKER_IDLE_TIMEOUT = 32,
};

struct breaker_limits {
	unsigned	 set;		/* BREAKER_* bits */
	uint64_t	 max_connections;
	uint64_t	 max_pending;
	uint64_t	 max_requests_per_connection;
	uint64_t	 max_retries;
	uint64_t	 connect_timeout_ms;
	uint64_t	 idle_timeout_ms;
};

struct breaker_ejection {
	struct str	 endpoint;	/* address:port */
	uint64_t	 ms_left;
};

struct breaker_answer {
	uint64_t		 id;
	int			 has_id;
	int			 error;		/* status: error */
	int			 panic;
	int			 outlier;
	struct breaker_limits	 limits;
	struct breaker_ejection	 ejected[BREAKER_MAX_EJECTED];
	size_t			 nejected;
	int			 has_reuse;
	uint64_t		 reuse_ms;
	struct str		 reason;
};

struct breaker_event {
	struct str	 service;
	struct str	 subset;
	uint32_t	 port;
	struct str	 endpoint;
	int		 eject;		/* 1 eject, 0 return */
	uint64_t	 ejection_ms;
	uint64_t	 ejections;
	struct str	 reason;
};

/*
 * Read one record of an admit-reply.  Returns 0, or -1 with a reason in
 * err.  Unknown keys, and unknown names in the limits: line, are
 * ignored; ejected endpoints past BREAKER_MAX_EJECTED are dropped.
 */
int	breaker_answer_read(const struct msg *, const struct msg_block *,
	    struct breaker_answer *, char *err, size_t errlen);
/* Read the record of a breaker-event.  Returns 0, or -1 with a reason. */
int	breaker_event_read(const struct msg *, const struct msg_block *,
	    struct breaker_event *, char *err, size_t errlen);
/* "max-connections=1 max-pending=2": the limits it names; 0 or -1. */
int	breaker_limits_parse(struct str, struct breaker_limits *, char *err,
	    size_t errlen);

#endif
