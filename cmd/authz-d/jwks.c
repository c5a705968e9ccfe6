/* SPDX-License-Identifier: ISC */
/*
 * The key sets of every jwksUri the config names, fetched on a thread of
 * their own so that a slow or dead key server never holds a question
 * up: refreshed every refresh_ms, retried sooner after a failure (5 s,
 * doubling up to the refresh time), the last good set kept meanwhile.
 * Until a first fetch works, tokens of that issuer fail verification
 * (401), as Istio does without keys.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authzd.h"
#include "jwt.h"
#include "log.h"
#include "util.h"

static void	 jwks_add(struct jwks_cache *, const char *, uint64_t);
static int	 jwks_fetch_one(struct jwks_cache *, size_t);
static void	*jwks_thread(void *);

void
jwks_cache_init(struct jwks_cache *c, pthread_rwlock_t *lock,
    struct authz_stats *stats)
{
	memset(c, 0, sizeof(*c));
	c->lock = lock;
	c->stats = stats;
	c->refresh_ms = AUTHZ_D_REFRESH_MS;
	pthread_mutex_init(&c->wake_lock, NULL);
	pthread_cond_init(&c->wake, NULL);
}

const char *
jwks_cache_map(const struct jwks_cache *c, const char *uri)
{
	size_t	 i;

	for (i = 0; i < c->nmaps; i++)
		if (strcmp(c->maps[i].from, uri) == 0)
			return c->maps[i].to;
	return uri;
}

static void
jwks_add(struct jwks_cache *c, const char *uri, uint64_t timeout_ms)
{
	size_t	 i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].uri, uri) == 0) {
			c->v[i].in_config = 1;
			if (timeout_ms != 0)
				c->v[i].timeout_ms = timeout_ms;
			return;
		}
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(*c->v));
	c->v[c->n].uri = xstrdup(uri);
	c->v[c->n].url = xstrdup(jwks_cache_map(c, uri));
	c->v[c->n].timeout_ms = timeout_ms != 0 ? timeout_ms :
	    AUTHZ_D_FETCH_TIMEOUT;
	c->v[c->n].in_config = 1;
	c->v[c->n].retry_ms = AUTHZ_D_RETRY_MS;
	c->n++;
}

void
jwks_cache_sync(struct jwks_cache *c, const struct config *cfg)
{
	size_t	 i, j, k;

	for (i = 0; i < c->n; i++)
		c->v[i].in_config = 0;
	for (i = 0; cfg != NULL && i < cfg->nrequest_authentications; i++)
		for (j = 0; j < cfg->request_authentications[i].nrules; j++) {
			const struct jwt_rule *r =
			    &cfg->request_authentications[i].rules[j];

			if (r->jwks_uri != NULL)
				jwks_add(c, r->jwks_uri, r->timeout_ms);
		}
	/* sets no longer named go; the others keep their keys */
	for (i = 0, k = 0; i < c->n; i++) {
		if (c->v[i].in_config) {
			c->v[k++] = c->v[i];
			continue;
		}
		free(c->v[i].uri);
		free(c->v[i].url);
		jwks_free(c->v[i].keys);
	}
	c->n = k;
}

const struct jwks *
jwks_cache_lookup(void *arg, const char *uri)
{
	struct jwks_cache	*c = arg;
	size_t			 i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].uri, uri) == 0)
			return c->v[i].keys;
	return NULL;
}

/*
 * Fetch entry i without holding the lock; store under the write lock.
 * The entry is found again by its URI: a reload may have moved it.
 */
static int
jwks_fetch_one(struct jwks_cache *c, size_t i)
{
	char		*uri, *url, *body = NULL, err[256];
	size_t		 len = 0, j;
	uint64_t	 timeout;
	struct jwks	*keys = NULL, *old = NULL;
	int		 ok;

	pthread_rwlock_rdlock(c->lock);
	if (i >= c->n) {
		pthread_rwlock_unlock(c->lock);
		return -1;
	}
	uri = xstrdup(c->v[i].uri);
	url = xstrdup(c->v[i].url);
	timeout = c->v[i].timeout_ms;
	pthread_rwlock_unlock(c->lock);

	__atomic_fetch_add(&c->stats->jwks_fetches, 1, __ATOMIC_RELAXED);
	ok = fetch_url(url, timeout, &body, &len, err, sizeof(err)) == 0;
	if (ok && (keys = jwks_parse(body, len, err, sizeof(err))) == NULL)
		ok = 0;
	free(body);
	if (!ok) {
		__atomic_fetch_add(&c->stats->jwks_failures, 1,
		    __ATOMIC_RELAXED);
		log_warnx("jwks %s: %s; %s", url, err,
		    "keeping the last good set, if any");
	} else
		log_info("jwks %s: %zu key%s", url, keys->n,
		    keys->n == 1 ? "" : "s");

	pthread_rwlock_wrlock(c->lock);
	for (j = 0; j < c->n; j++)
		if (strcmp(c->v[j].uri, uri) == 0)
			break;
	if (j < c->n) {
		struct jwks_entry *e = &c->v[j];

		if (ok) {
			old = e->keys;
			e->keys = keys;
			keys = NULL;
			e->retry_ms = AUTHZ_D_RETRY_MS;
			e->due_ms = util_now_ms() + c->refresh_ms;
		} else {
			e->due_ms = util_now_ms() + e->retry_ms;
			e->retry_ms = e->retry_ms * 2 > c->refresh_ms ?
			    c->refresh_ms : e->retry_ms * 2;
		}
	}
	pthread_rwlock_unlock(c->lock);
	/* no decision can hold the old set: they run under the read lock */
	jwks_free(old);
	jwks_free(keys);
	free(uri);
	free(url);
	return ok ? 0 : -1;
}

void
jwks_cache_fetch_all(struct jwks_cache *c)
{
	size_t	 i, n;

	pthread_rwlock_rdlock(c->lock);
	n = c->n;
	pthread_rwlock_unlock(c->lock);
	for (i = 0; i < n; i++)
		jwks_fetch_one(c, i);
}

static void *
jwks_thread(void *arg)
{
	struct jwks_cache	*c = arg;
	struct timespec		 ts;
	uint64_t		 now, next;
	size_t			 i, due;

	for (;;) {
		pthread_mutex_lock(&c->wake_lock);
		if (c->quit) {
			pthread_mutex_unlock(&c->wake_lock);
			break;
		}
		c->kick = 0;
		pthread_mutex_unlock(&c->wake_lock);

		/* every entry due, one at a time */
		for (;;) {
			now = util_now_ms();
			due = SIZE_MAX;
			pthread_rwlock_rdlock(c->lock);
			for (i = 0; i < c->n; i++)
				if (c->v[i].due_ms <= now) {
					due = i;
					break;
				}
			pthread_rwlock_unlock(c->lock);
			if (due == SIZE_MAX)
				break;
			jwks_fetch_one(c, due);
			pthread_mutex_lock(&c->wake_lock);
			i = (size_t)c->quit;
			pthread_mutex_unlock(&c->wake_lock);
			if (i)
				return NULL;
		}
		next = UINT64_MAX;
		pthread_rwlock_rdlock(c->lock);
		for (i = 0; i < c->n; i++)
			if (c->v[i].due_ms < next)
				next = c->v[i].due_ms;
		pthread_rwlock_unlock(c->lock);
		if (next == UINT64_MAX)
			next = util_now_ms() + c->refresh_ms;

		pthread_mutex_lock(&c->wake_lock);
		if (!c->kick && !c->quit) {
			now = util_now_ms();
			clock_gettime(CLOCK_REALTIME, &ts);
			next = next > now ? next - now : 0;
			ts.tv_sec += (time_t)(next / 1000);
			ts.tv_nsec += (long)(next % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&c->wake, &c->wake_lock, &ts);
		}
		pthread_mutex_unlock(&c->wake_lock);
	}
	return NULL;
}

int
jwks_cache_start(struct jwks_cache *c)
{
	if (pthread_create(&c->thread, NULL, jwks_thread, c) != 0)
		return -1;
	c->running = 1;
	return 0;
}

void
jwks_cache_kick(struct jwks_cache *c)
{
	pthread_mutex_lock(&c->wake_lock);
	c->kick = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->wake_lock);
}

void
jwks_cache_stop(struct jwks_cache *c)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->wake_lock);
	c->quit = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->wake_lock);
	/* a fetch in progress ends within its own timeout */
	pthread_join(c->thread, NULL);
	c->running = 0;
}

void
jwks_cache_fini(struct jwks_cache *c)
{
	size_t	 i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].uri);
		free(c->v[i].url);
		jwks_free(c->v[i].keys);
	}
	free(c->v);
	for (i = 0; i < c->nmaps; i++) {
		free(c->maps[i].from);
		free(c->maps[i].to);
	}
	free(c->maps);
	pthread_mutex_destroy(&c->wake_lock);
	pthread_cond_destroy(&c->wake);
	fetch_cleanup();
}
