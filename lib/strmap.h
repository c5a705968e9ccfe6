/* SPDX-License-Identifier: ISC */
/*
 * A string-keyed hash map of pointers, open addressing with linear
 * probing.  Keys are copied; values are the caller's.  Lookups do not
 * allocate, so the per-request path can use it freely.
 */
#ifndef MESHKIT_STRMAP_H
#define MESHKIT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	char		*key;	/* NULL: empty; STRMAP_TOMB: deleted */
	size_t		 keylen;
	uint64_t	 hash;
	void		*value;
};

struct strmap {
	struct strmap_slot	*slots;
	size_t			 cap;	/* power of two */
	size_t			 n;	/* live entries */
	size_t			 used;	/* live + deleted */
};

void	 strmap_init(struct strmap *);
void	 strmap_fini(struct strmap *);
uint64_t strmap_hash(const char *, size_t);
void	*strmap_get(const struct strmap *, const char *, size_t);
/* Insert or replace; returns the previous value or NULL. */
void	*strmap_put(struct strmap *, const char *, size_t, void *);
void	*strmap_del(struct strmap *, const char *, size_t);
/* Iterate: *pos starts at 0; returns 0 at the end. */
int	 strmap_next(const struct strmap *, size_t *pos, const char **key,
	    void **value);

#endif
