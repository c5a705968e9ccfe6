/* SPDX-License-Identifier: ISC */
/* lib/strmap.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "strmap.h"
#include "util.h"

static void
test_put_get_del(void **state)
{
	struct strmap	 m;
	int		 a = 1, b = 2;

	(void)state;
	strmap_init(&m);
	assert_null(strmap_get(&m, "x", 1));
	assert_null(strmap_del(&m, "x", 1));
	assert_null(strmap_put(&m, "key", 3, &a));
	assert_ptr_equal(strmap_get(&m, "key", 3), &a);
	/* the length counts, not a NUL */
	assert_null(strmap_get(&m, "ke", 2));
	assert_null(strmap_get(&m, "key\0", 4));
	assert_ptr_equal(strmap_put(&m, "key", 3, &b), &a);
	assert_ptr_equal(strmap_get(&m, "key", 3), &b);
	assert_int_equal(m.n, 1);
	assert_ptr_equal(strmap_del(&m, "key", 3), &b);
	assert_null(strmap_get(&m, "key", 3));
	assert_int_equal(m.n, 0);
	strmap_fini(&m);
}

/* Many keys, deletions between: tombstones must not lose entries. */
static void
test_grow_and_churn(void **state)
{
	struct strmap	 m;
	char		 key[32];
	static int	 values[20000];
	int		 i, round, len;

	(void)state;
	strmap_init(&m);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 20000; i++) {
			len = snprintf(key, sizeof(key), "k%d", i);
			strmap_put(&m, key, (size_t)len, &values[i]);
		}
		for (i = 0; i < 20000; i += 2) {
			len = snprintf(key, sizeof(key), "k%d", i);
			assert_ptr_equal(strmap_del(&m, key, (size_t)len),
			    &values[i]);
		}
		assert_int_equal(m.n, 10000);
		for (i = 0; i < 20000; i++) {
			len = snprintf(key, sizeof(key), "k%d", i);
			if (i % 2)
				assert_ptr_equal(strmap_get(&m, key,
				    (size_t)len), &values[i]);
			else
				assert_null(strmap_get(&m, key, (size_t)len));
		}
	}
	/* the table stays proportional to what it holds */
	assert_true(m.cap <= 65536);
	strmap_fini(&m);
}

static void
test_iterate(void **state)
{
	struct strmap	 m;
	size_t		 pos = 0, seen = 0;
	const char	*key;
	void		*value;
	int		 v[3];

	(void)state;
	strmap_init(&m);
	strmap_put(&m, "a", 1, &v[0]);
	strmap_put(&m, "b", 1, &v[1]);
	strmap_put(&m, "c", 1, &v[2]);
	strmap_del(&m, "b", 1);
	while (strmap_next(&m, &pos, &key, &value)) {
		assert_true(strcmp(key, "a") == 0 || strcmp(key, "c") == 0);
		seen++;
	}
	assert_int_equal(seen, 2);
	strmap_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_grow_and_churn),
		cmocka_unit_test(test_iterate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
