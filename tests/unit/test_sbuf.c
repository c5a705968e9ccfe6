/* SPDX-License-Identifier: ISC */
/* lib/sbuf.c: handing the buffer over, and undoing an overflowed write */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "sbuf.h"

static void
test_detach(void **state)
{
	struct sbuf	 b;
	char		*p;
	size_t		 len = 99;

	(void)state;
	sbuf_init(&b, 0);
	assert_null(sbuf_detach(&b, &len));
	assert_int_equal(len, 0);

	sbuf_adds(&b, "{\"spans\":");
	sbuf_u64(&b, 42);
	sbuf_addc(&b, '}');
	p = sbuf_detach(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 12);
	assert_string_equal(p, "{\"spans\":42}");
	/* the sbuf is empty and usable; the caller owns p */
	assert_null(b.buf);
	assert_int_equal(b.len, 0);
	sbuf_adds(&b, "next");
	assert_string_equal(b.buf, "next");
	assert_ptr_not_equal(b.buf, p);
	free(p);
	sbuf_fini(&b);
	sbuf_fini(&b);			/* twice: nothing left to free */
}

static void
test_truncate(void **state)
{
	struct sbuf	 b;

	(void)state;
	sbuf_init(&b, 8);
	sbuf_adds(&b, "abc");
	sbuf_adds(&b, "defghijk");	/* past the limit */
	assert_true(b.overflow);
	sbuf_truncate(&b, 3);
	assert_false(b.overflow);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.buf, "abc");
	sbuf_truncate(&b, 10);		/* never longer than it is */
	assert_int_equal(b.len, 3);
	assert_string_equal(b.buf, "abc");
	sbuf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
