/* SPDX-License-Identifier: ISC */
/*
 * Inside the authz module: what authz.c (policies, the decision),
 * authz_authn.c (tokens: where they are, their verification, what they
 * add to the request) and authz_match.c (how a value matches a field)
 * share.  Not for other modules.
 */
#ifndef MESHKIT_AUTHZ_IMPL_H
#define MESHKIT_AUTHZ_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "authz.h"
#include "config.h"
#include "json.h"
#include "jwt.h"
#include "util.h"

#define VARY_AUTHORITY		0x01
#define VARY_PORT		0x02
#define VARY_METHOD		0x04
#define VARY_PATH		0x08
#define VARY_SOURCE_IP		0x10
#define VARY_REMOTE		0x20
#define VARY_PRINCIPAL		0x40
#define VARY_SNI		0x80
#define VARY_DESTINATION_IP	0x100
#define VARY_MAX_HEADERS	16

#define AUTHZ_MAX_RULES		64	/* jwtRules that apply to a workload */
#define AUTHZ_MAX_TOKENS	8	/* different tokens in one request */
#define AUTHZ_MAX_PLACES	64	/* (rule, token) places found */

/* One token of the request, taken apart when first needed. */
struct authz_token {
	struct str		 text;
	int			 state;		/* 0 not yet, 1 read, -1 bad */
	struct jwt		 jwt;
};

/* A verified token, as the policies see it. */
struct authz_identity {
	int			 present;
	const struct jwt	*token;
	const struct jwt_rule	*rule;
	double			 exp;		/* the earliest of those taken */
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
	unsigned char			 vary_query[VARY_MAX_HEADERS];
	size_t				 nvary_headers;
	int				 vary_overflow;
	struct authz_identity		 id;
	struct authz_token		 tokens[AUTHZ_MAX_TOKENS];
	size_t				 ntokens;
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
/*
 * The decision read query parameter name: "query:NAME" goes into the
 * answer's vary (the whole path when NAME cannot be a word of it).
 */
void	authz_vary_query(struct authz_ctx *, const char *);
/* A claim by its path of names, or NULL. */
const struct json *authz_claim(const struct json *, char **, size_t);

/* authz_authn.c: 0, or -1 when the answer is a 401 or 403 (set). */
int	authz_authenticate(struct authz_ctx *);

/* authz_match.c */
int	authz_value_match(const char *, struct str, int caseless);
int	authz_values_match(const struct authz_values *, struct str, int);
int	authz_path_match(const char *, const char *);
int	authz_ip_match(const struct authz_values *, struct str);
struct str authz_addr_host(struct str);
uint32_t authz_addr_port(struct str);
int	authz_principal_match(const char *, struct str);
int	authz_namespace_values_match(const struct authz_values *, struct str);
int	authz_service_account_values_match(const struct authz_values *,
	    struct str);
int	authz_request_principal_values_match(const struct authz_values *,
	    const struct jwt *);
int	authz_header_values_match(const struct authz_values *,
	    const struct authz_request *, const char *name);
int	authz_claim_values_match(const struct json *, int words,
	    const struct authz_values *);

#endif
