/* SPDX-License-Identifier: ISC */
/*
 * libevent's memory in proxy-d.  A read into a connection's empty input
 * takes a new evbuffer chain of 16 KiB and its header, which libevent
 * rounds up to a 32 KiB block, and frees it once the bytes are passed
 * on: two such blocks come and go for every request.  glibc's per-thread
 * cache takes nothing that large, and its bins cost some hundreds of
 * instructions a pair, so blocks of a power-of-two size from 2 to 64 KiB
 * (the chain sizes libevent asks for) are kept on a short stack per size
 * for the next one, 256 KiB in all at most.  Smaller blocks, which
 * glibc's cache serves well, are left to it.
 *
 * A freed block's class is told by malloc_usable_size: a block asked
 * for at 2^k bytes has 2^k and a few more.  proxy-d's libevent runs on
 * one thread; a block allocated or freed on any other goes straight to
 * malloc and free.
 */
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include <event2/event.h>

#include "evmem.h"

#define EVMEM_CLASSES	(EVMEM_MAX_CLASS - EVMEM_MIN_CLASS + 1)
#define EVMEM_DEPTH	8	/* blocks kept per size, at most */
#define EVMEM_SLACK	64	/* usable bytes past 2^k glibc may give */

static pthread_t	 evmem_thread;
static int		 evmem_on;
static void		*evmem_stack[EVMEM_CLASSES][EVMEM_DEPTH];
static size_t		 evmem_depth[EVMEM_CLASSES];
static size_t		 evmem_bytes;

static int
evmem_mine(void)
{
	return evmem_on && pthread_equal(pthread_self(), evmem_thread);
}

void *
evmem_malloc(size_t size)
{
	int	 k;

	/* a power of two in the classes, and one kept: that one */
	if (size >= ((size_t)1 << EVMEM_MIN_CLASS) &&
	    size <= ((size_t)1 << EVMEM_MAX_CLASS) &&
	    (size & (size - 1)) == 0) {
		k = __builtin_ctzl(size) - EVMEM_MIN_CLASS;
		/* the thread first: the stacks are only its to look at */
		if (evmem_mine() && evmem_depth[k] > 0) {
			evmem_bytes -= size;
			return evmem_stack[k][--evmem_depth[k]];
		}
	}
	return malloc(size);
}

void
evmem_free(void *p)
{
	size_t	 usable, size;
	int	 k;

	if (p == NULL)
		return;
	usable = malloc_usable_size(p);
	if (usable >= ((size_t)1 << EVMEM_MIN_CLASS) &&
	    usable < ((size_t)1 << EVMEM_MAX_CLASS) + EVMEM_SLACK) {
		k = 63 - __builtin_clzl(usable);
		size = (size_t)1 << k;
		k -= EVMEM_MIN_CLASS;
		if (usable - size < EVMEM_SLACK && k < EVMEM_CLASSES &&
		    evmem_mine() && evmem_depth[k] < EVMEM_DEPTH &&
		    evmem_bytes + size <= EVMEM_MAX_KEPT) {
			evmem_stack[k][evmem_depth[k]++] = p;
			evmem_bytes += size;
			return;
		}
	}
	free(p);
}

size_t
evmem_kept(void)
{
	return evmem_bytes;
}

void
evmem_purge(void)
{
	size_t	 k;

	for (k = 0; k < EVMEM_CLASSES; k++)
		while (evmem_depth[k] > 0)
			free(evmem_stack[k][--evmem_depth[k]]);
	evmem_bytes = 0;
}

void
evmem_init(void)
{
	evmem_thread = pthread_self();
	evmem_on = 1;
	/* every block is malloc's own: libevent's reallocs need nothing more */
	event_set_mem_functions(evmem_malloc, realloc, evmem_free);
}
