/* SPDX-License-Identifier: ISC */
/*
 * libevent's memory in proxy-d, with its large I/O blocks kept for reuse:
 * see evmem.c.  evmem_init goes before any other libevent call.
 */
#ifndef MESHKIT_PROXY_EVMEM_H
#define MESHKIT_PROXY_EVMEM_H

#include <stddef.h>

#define EVMEM_MIN_CLASS		11	/* 2 KiB: glibc caches the smaller */
#define EVMEM_MAX_CLASS		16	/* 64 KiB */
#define EVMEM_MAX_KEPT		(256 * 1024)	/* bytes held, at most */

void	 evmem_init(void);
void	*evmem_malloc(size_t);
void	 evmem_free(void *);
/* Bytes held for reuse now; all of them freed. */
size_t	 evmem_kept(void);
void	 evmem_purge(void);

#endif
