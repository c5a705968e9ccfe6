/*
 * Inside the authz module: what authz.c (policies, the decision) and
 * authz_authn.c (tokens: where they are, their verification, what they
 * add to the request) share.  Not for other modules.
 */
#ifndef MESHKIT_AUTHZ_IMPL_H
#define MESHKIT_AUTHZ_IMPL_H

#include <stddef.h>

#include "authz.h"
#include "config.h"
#include "json.h"
#include "jwt.h"
#include "util.h"

#define VARY_AUTHORITY	0x01
#define VARY_PORT	0x02
#define VARY_METHOD	0x04
#define VARY_PATH	0x08
#define VARY_SOURCE_IP	0x10
#define VARY_REMOTE	0x20
#define VARY_PRINCIPAL	0x40
#define VARY_SNI	0x80
#define VARY_MAX_HEADERS 16

/* A verified token, as the policies see it. */
struct authz_identity {
	int			 present;
	struct jwt		 token;
	const struct jwt_rule	*rule;
	char			 principal[512];
};

/* One decision in progress. */
struct authz_ctx {
	const struct config		*cfg;
	const struct authz_env		*env;
	const struct msg_source	*src;
	const struct authz_request	*req;
	struct authz_answer		*a;
	unsigned			 vary;
	struct str			 vary_headers[VARY_MAX_HEADERS];
	size_t				 nvary_headers;
	int				 vary_overflow;
	struct authz_identity		 id;
	const char			*path;	/* normalized, no query */
	char				 pathbuf[2048];
	char				*pathheap;	/* a longer one */
	const char			*root_ns;
};

/* Whether a policy of namespace ns with this selector applies. */
int	authz_applies(const struct authz_ctx *, const char *ns,
	    const struct labels *, int);
/*
 * The first header named name (lower case) from index *from on; the
 * name goes into the answer's vary.
 */
const struct str *authz_header(struct authz_ctx *, const char *, size_t,
	    size_t *);
/* A claim by its path of names, or NULL. */
const struct json *authz_claim(const struct json *, char **, size_t);

/* authz_authn.c: 0, or -1 when the answer is a 401 (reason set). */
int	authz_authenticate(struct authz_ctx *);

#endif
