/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

static char	strmap_tomb_byte;
#define STRMAP_TOMB	(&strmap_tomb_byte)

static void	strmap_grow(struct strmap *);

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
strmap_fini(struct strmap *m)
{
	size_t	 i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL && m->slots[i].key != STRMAP_TOMB)
			free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/*
 * Eight bytes at a time, each word mixed in with a multiply and a shift
 * (splitmix64's constants), then a final mix so that linear probing
 * spreads.  Keys of a few hundred bytes (stats-d's label sets) cost a
 * few dozen multiplies, not one per byte.
 */
uint64_t
strmap_hash(const char *s, size_t n)
{
	uint64_t	 h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	w = 0;
	if (n > 0)
		memcpy(&w, s, n);
	h = (h ^ w) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static struct strmap_slot *
strmap_find(const struct strmap *m, const char *key, size_t n, uint64_t h)
{
	size_t	 i, mask;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != STRMAP_TOMB && s->hash == h && s->keylen == n &&
		    memcmp(s->key, key, n) == 0)
			return s;
	}
}

void *
strmap_get(const struct strmap *m, const char *key, size_t n)
{
	struct strmap_slot	*s;

	s = strmap_find(m, key, n, strmap_hash(key, n));
	return s != NULL ? s->value : NULL;
}

static void
strmap_grow(struct strmap *m)
{
	struct strmap_slot	*old = m->slots;
	size_t			 oldcap = m->cap, i;

	m->cap = oldcap == 0 ? 16 : (m->n * 2 >= oldcap / 2 ? oldcap * 2 :
	    oldcap);
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	m->used = m->n = 0;
	for (i = 0; i < oldcap; i++) {
		struct strmap_slot *s = &old[i];
		size_t j, mask = m->cap - 1;

		if (s->key == NULL || s->key == STRMAP_TOMB)
			continue;
		for (j = s->hash & mask; m->slots[j].key != NULL;
		    j = (j + 1) & mask)
			;
		m->slots[j] = *s;
		m->n++;
		m->used++;
	}
	free(old);
}

void *
strmap_put(struct strmap *m, const char *key, size_t n, void *value)
{
	uint64_t		 h = strmap_hash(key, n);
	struct strmap_slot	*s;
	size_t			 i, mask;
	void			*prev;

	if ((s = strmap_find(m, key, n, h)) != NULL) {
		prev = s->value;
		s->value = value;
		return prev;
	}
	if ((m->used + 1) * 4 > m->cap * 3)
		strmap_grow(m);
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].key != NULL &&
	    m->slots[i].key != STRMAP_TOMB; i = (i + 1) & mask)
		;
	s = &m->slots[i];
	if (s->key == NULL)
		m->used++;
	/* any bytes, NUL included; a NUL after them for C callers */
	s->key = xmalloc(n + 1);
	if (n > 0)
		memcpy(s->key, key, n);
	s->key[n] = '\0';
	s->keylen = n;
	s->hash = h;
	s->value = value;
	m->n++;
	return NULL;
}

void *
strmap_del(struct strmap *m, const char *key, size_t n)
{
	struct strmap_slot	*s;
	void			*prev;

	if ((s = strmap_find(m, key, n, strmap_hash(key, n))) == NULL)
		return NULL;
	prev = s->value;
	free(s->key);
	s->key = STRMAP_TOMB;
	s->value = NULL;
	m->n--;
	return prev;
}

int
strmap_next(const struct strmap *m, size_t *pos, const char **key,
    void **value)
{
	for (; *pos < m->cap; (*pos)++) {
		struct strmap_slot *s = &m->slots[*pos];

		if (s->key != NULL && s->key != STRMAP_TOMB) {
			*key = s->key;
			*value = s->value;
			(*pos)++;
			return 1;
		}
	}
	return 0;
}
