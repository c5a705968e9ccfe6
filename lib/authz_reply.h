/* SPDX-License-Identifier: ISC */
/*
 * authz-d's answers as proxy-d reads them: the records of a
 * meshkit-ipc(7) "authz-reply".  The strings point into the message,
 * which must outlive the answer.
 */
#ifndef MESHKIT_AUTHZ_REPLY_H
#define MESHKIT_AUTHZ_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "util.h"

#define AUTHZ_REPLY_MAX_OPS	32
#define AUTHZ_REPLY_MAX_NAME	127
#define AUTHZ_REPLY_MAX_VALUE	8192
#define AUTHZ_REPLY_MAX_BODY		4096

enum authz_reply_decision {
	AUTHZ_REPLY_ALLOW,
	AUTHZ_REPLY_DENY,
	AUTHZ_REPLY_ERROR,
};

/* request-header-set (value given) or request-header-remove */
struct authz_reply_op {
	int		 remove;
	struct str	 name;
	struct str	 value;
};

struct authz_reply {
	uint64_t		 id;
	int			 has_id;
	enum authz_reply_decision	 decision;
	int			 status;	/* deny: 401 or 403 */
	struct str		 body;
	struct str		 principal;
	struct str		 reason;
	struct str		 vary;
	uint64_t		 reuse_ms;	/* 0: this request only */
	struct authz_reply_op	 ops[AUTHZ_REPLY_MAX_OPS];
	size_t			 nops;
};

/*
 * Read one record of an authz-reply.  Returns 0, or -1 with a reason in
 * err: no decision, an unknown one, a status that is not an HTTP error,
 * a header operation that would not be a well-formed header, too many
 * of them.  Unknown keys are ignored.
 */
int	authz_reply_read(const struct msg *, const struct msg_block *,
	    struct authz_reply *, char *err, size_t errlen);

/*
 * Is every word of vary (space or comma separated) a request field
 * proxy-d can key a decision on (authority, port, method, path,
 * source-ip, remote, principal, sni, destination-ip, header:NAME,
 * query:NAME)?
 */
int	authz_reply_vary_known(struct str vary);

#endif
