/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of proxy-d's libevent memory (cmd/proxy-d/evmem.c, linked
 * in by the Makefile's TEST_OBJS_test_proxy_evmem): blocks of the sizes
 * libevent's I/O chains take come back for the next one, within their
 * bounds; anything else, and any other thread, goes to malloc and free;
 * and libevent's own evbuffers go through it.  Under ASan too, whose
 * malloc_usable_size is the size asked for.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "evmem.h"
#include "util.h"

static void	test_reuse(void **);
static void	test_bounds(void **);
static void	test_resize(void **);
static void	test_other_thread(void **);
static void	test_libevent(void **);
static void	*thread_main(void *);

static void
drain(void)
{
	evmem_purge();
	assert_int_equal(evmem_kept(), 0);
}

static void
test_reuse(void **state)
{
	char	*a, *b;

	drain();
	a = evmem_malloc(32768);
	assert_non_null(a);
	memset(a, 'x', 32768);
	evmem_free(a);
	assert_int_equal(evmem_kept(), 32768);
	b = evmem_malloc(32768);
	assert_ptr_equal(a, b);
	assert_int_equal(evmem_kept(), 0);
	evmem_free(b);
	/* other sizes are not kept (usable sizes far from 2^k) */
	a = evmem_malloc(40000);
	evmem_free(a);
	a = evmem_malloc(1024);
	evmem_free(a);
	a = evmem_malloc(131072);
	evmem_free(a);
	assert_int_equal(evmem_kept(), 32768);
	evmem_free(NULL);
	drain();
}

static void
test_bounds(void **state)
{
	void	*v[12];
	size_t	 i;

	drain();
	/* eight of a size at most */
	for (i = 0; i < 12; i++)
		v[i] = evmem_malloc(2048);
	for (i = 0; i < 12; i++)
		evmem_free(v[i]);
	assert_int_equal(evmem_kept(), 8 * 2048);
	drain();
	/* and EVMEM_MAX_KEPT bytes in all */
	for (i = 0; i < 6; i++)
		v[i] = evmem_malloc(65536);
	for (i = 0; i < 6; i++)
		evmem_free(v[i]);
	assert_int_equal(evmem_kept(), EVMEM_MAX_KEPT);
	drain();
}

/* A block libevent grew with realloc is kept like any other. */
static void
test_resize(void **state)
{
	char	*p;

	drain();
	p = evmem_malloc(100);
	assert_non_null(p = realloc(p, 8192));
	evmem_free(p);
	assert_int_equal(evmem_kept(), 8192);
	assert_ptr_equal(evmem_malloc(8192), p);
	evmem_free(p);
	drain();
}

static void *
thread_main(void *arg)
{
	void	*p = evmem_malloc(32768);

	evmem_free(p);
	*(size_t *)arg = evmem_kept();
	return NULL;
}

static void
test_other_thread(void **state)
{
	pthread_t	 t;
	size_t		 kept = 1;

	drain();
	assert_int_equal(pthread_create(&t, NULL, thread_main, &kept), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(kept, 0);
}

/* A read's reservation of 16 KiB, drained: its chain is kept. */
static void
test_libevent(void **state)
{
	struct evbuffer		*b;
	struct evbuffer_iovec	 v[2];
	size_t			 kept;
	int			 n;

	drain();
	assert_non_null(b = evbuffer_new());
	n = evbuffer_reserve_space(b, 16384, v, 2);
	assert_true(n >= 1);
	memset(v[0].iov_base, 'z', 100);
	v[0].iov_len = 100;
	assert_int_equal(evbuffer_commit_space(b, v, 1), 0);
	assert_int_equal(evbuffer_drain(b, 100), 0);
	kept = evmem_kept();
	assert_true(kept >= 16384);
	/* the next reservation takes it back */
	n = evbuffer_reserve_space(b, 16384, v, 2);
	assert_true(n >= 1);
	assert_true(evmem_kept() < kept);
	evbuffer_free(b);
	drain();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_other_thread),
		cmocka_unit_test(test_libevent),
	};

	evmem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
