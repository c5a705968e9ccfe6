/* SPDX-License-Identifier: ISC */
/*
 * authz-d's parts: main.c serves questions and reloads the config;
 * jwks.c keeps the key sets of every jwksUri, fetched in the background;
 * fetch.c gets one URL.
 */
#ifndef AUTHZD_H
#define AUTHZD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "authz.h"
#include "config.h"
#include "jwt.h"

#define AUTHZ_D_REFRESH_MS	(20 * 60 * 1000)	/* Istio's default */
#define AUTHZ_D_RETRY_MS	(5 * 1000)	/* first retries, doubling */
#define AUTHZ_D_FETCH_TIMEOUT	(5 * 1000)

/* -m FROM=TO: fetch TO whenever a jwksUri says FROM */
struct uri_map {
	char		*from;
	char		*to;
};

/* The key set of one jwksUri, as last fetched. */
struct jwks_entry {
	char		*uri;		/* as the config writes it */
	char		*url;		/* fetched: after the -m maps */
	uint64_t	 timeout_ms;
	struct jwks	*keys;		/* NULL until a fetch worked */
	uint64_t	 due_ms;	/* next fetch */
	uint64_t	 retry_ms;	/* next retry delay after a failure */
	int		 in_config;
};

struct jwks_cache {
	/*
	 * The entries and their keys change only under the daemon's
	 * write lock; readers (decisions) hold its read lock.
	 */
	pthread_rwlock_t	*lock;
	struct jwks_entry	*v;
	size_t			 n;
	struct uri_map		*maps;
	size_t			 nmaps;
	uint64_t		 refresh_ms;
	struct authz_stats	*stats;
	/* the fetcher thread */
	pthread_t		 thread;
	int			 running;
	pthread_mutex_t		 wake_lock;
	pthread_cond_t		 wake;
	int			 kick;
	int			 quit;
};

/* jwks.c */
void	jwks_cache_init(struct jwks_cache *, pthread_rwlock_t *,
	    struct authz_stats *);
/* Under the write lock: the jwksUris of cfg become the entries. */
void	jwks_cache_sync(struct jwks_cache *, const struct config *);
/* Fetch every entry now, in the calling thread (filter mode). */
void	jwks_cache_fetch_all(struct jwks_cache *);
int	jwks_cache_start(struct jwks_cache *);
void	jwks_cache_kick(struct jwks_cache *);
void	jwks_cache_stop(struct jwks_cache *);
void	jwks_cache_fini(struct jwks_cache *);
/* authz_keys.lookup: under the read lock */
const struct jwks *jwks_cache_lookup(void *, const char *);
const char *jwks_cache_map(const struct jwks_cache *, const char *);

/* fetch.c */
int	fetch_url(const char *, uint64_t timeout_ms, char **, size_t *,
	    char *err, size_t errlen);
void	fetch_cleanup(void);

#endif
