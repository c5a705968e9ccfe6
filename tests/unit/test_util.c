/* SPDX-License-Identifier: ISC */
/* lib/util.c and lib/log.c */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "log.h"
#include "util.h"

static void
test_duration(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
		uint64_t	 ms;
	} cases[] = {
		{ "1s", 1, 1000 }, { "100ms", 1, 100 }, { "1.5s", 1, 1500 },
		{ "2m", 1, 120000 }, { "1h", 1, 3600000 }, { "30", 1, 30000 },
		{ "1m30s", 1, 90000 }, { "500us", 1, 1 }, { "0s", 1, 0 },
		{ "", 0, 0 }, { "s", 0, 0 }, { "-1s", 0, 0 }, { "1x", 0, 0 },
		{ "1s 2s", 0, 0 }, { "10d", 0, 0 }, { "1e99s", 0, 0 },
		{ "3 0", 0, 0 },
	};
	size_t		 i;
	uint64_t	 ms;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		int rc = util_parse_duration_ms(cases[i].in, &ms);

		if ((rc == 0) != cases[i].ok)
			fail_msg("\"%s\": rc %d", cases[i].in, rc);
		if (rc == 0 && ms != cases[i].ms)
			fail_msg("\"%s\": %llu ms, want %llu", cases[i].in,
			    (unsigned long long)ms,
			    (unsigned long long)cases[i].ms);
	}
}

static void
test_hostport(void **state)
{
	char	 host[64];
	int	 port;

	(void)state;
	assert_int_equal(util_split_hostport("a.b:80", 6, host, sizeof(host),
	    &port, -1), 0);
	assert_string_equal(host, "a.b");
	assert_int_equal(port, 80);
	assert_int_equal(util_split_hostport("svc", 3, host, sizeof(host),
	    &port, 80), 0);
	assert_int_equal(port, 80);
	assert_int_equal(util_split_hostport("svc", 3, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("[::1]:8080", 10, host,
	    sizeof(host), &port, -1), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	/* refused: bare IPv6, port 0, port too big, junk, empty host */
	assert_int_equal(util_split_hostport("::1:80", 6, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("a:0", 3, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("a:65536", 7, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("a:8x", 4, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport(":80", 3, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("a:", 2, host, sizeof(host),
	    &port, -1), -1);
	assert_int_equal(util_split_hostport("[::1]x", 6, host, sizeof(host),
	    &port, -1), -1);
	/* a host longer than the buffer */
	assert_int_equal(util_split_hostport("abcdefgh:1", 10, host, 4,
	    &port, -1), -1);
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 buf[80];

	(void)state;
	assert_int_equal(util_parse_sockaddr("127.0.0.1:9", &ss, &len), 0);
	assert_string_equal(util_format_sockaddr((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "127.0.0.1:9");
	assert_int_equal(util_parse_sockaddr("[::1]:443", &ss, &len), 0);
	assert_string_equal(util_format_sockaddr((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[::1]:443");
	assert_int_equal(util_parse_sockaddr("unix:/tmp/s", &ss, &len), 0);
	assert_string_equal(util_format_sockaddr((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "unix:/tmp/s");
	/* names are not resolved here */
	assert_int_equal(util_parse_sockaddr("localhost:80", &ss, &len), -1);
	assert_int_equal(util_parse_sockaddr("1.2.3.4", &ss, &len), -1);
	assert_int_equal(util_parse_sockaddr("unix:", &ss, &len), -1);
}

/* Every length of number, and the edges of each, as printf writes them. */
static void
test_put_numbers(void **state)
{
	char		 got[32], want[32], *end;
	uint64_t	 p = 1, v;
	int		 d, k;
	unsigned char	 bytes[256];

	(void)state;
	for (d = 0; d < 20; d++) {
		for (k = -1; k <= 1; k++) {
			v = p + (uint64_t)k;
			if (d == 0 && k == -1)
				v = 0;
			memset(got, '#', sizeof(got));
			end = util_put_u64(got, v);
			snprintf(want, sizeof(want), "%llu",
			    (unsigned long long)v);
			assert_int_equal(end - got, (long)strlen(want));
			assert_memory_equal(got, want, strlen(want));
			assert_int_equal(*end, '#');
		}
		p *= 10;
	}
	end = util_put_u64(got, UINT64_MAX);
	*end = '\0';
	assert_string_equal(got, "18446744073709551615");
	for (v = 0; v < 1000; v++) {
		*util_put_u64(got, v * 7919) = '\0';
		snprintf(want, sizeof(want), "%llu",
		    (unsigned long long)(v * 7919));
		assert_string_equal(got, want);
	}
	for (k = 0; k < 256; k++)
		bytes[k] = (unsigned char)k;
	{
		char	 hex[513], two[3];

		*util_put_hex(hex, bytes, sizeof(bytes)) = '\0';
		assert_int_equal(strlen(hex), 512);
		for (k = 0; k < 256; k++) {
			snprintf(two, sizeof(two), "%02x", k);
			assert_memory_equal(hex + 2 * k, two, 2);
		}
	}
}

static void
test_uuid_random(void **state)
{
	char	 a[37], b[37];
	int	 i;

	(void)state;
	util_uuid(a);
	util_uuid(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');			/* version 4 */
	assert_non_null(strchr("89ab", a[19]));		/* RFC 4122 variant */
	assert_true(util_random() != util_random());
}

static void
test_strings(void **state)
{
	char	 buf[4];

	(void)state;
	assert_int_equal(util_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	assert_string_equal(buf, "abc");
	assert_true(util_str_eq(STR_LIT("Host"), "Host"));
	assert_false(util_str_eq(STR_LIT("Host"), "host"));
	assert_true(util_str_caseeq(STR_LIT("Host"), "hOST"));
	assert_false(util_str_caseeq(STR_LIT("Hos"), "host"));
	assert_true(util_is_token(STR_LIT("x-b3-traceid")));
	assert_true(util_is_token(STR_LIT("!#$%&'*+-.^_`|~")));
	assert_false(util_is_token(STR_LIT("")));
	assert_false(util_is_token(STR_LIT("a b")));
	assert_false(util_is_token(STR_LIT("a:")));
	assert_false(util_is_token(STR_LIT("a\0b")));
	assert_false(util_is_token(STR_LIT("\xc3\xa9")));
}

static void
test_log_file_and_level(void **state)
{
	char	 path[] = "/tmp/meshkit-test-log.XXXXXX";
	char	 line[512];
	FILE	*f;
	int	 fd, n = 0;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	log_init("test", 0, LOG_LEVEL_INFO);
	assert_int_equal(log_init_file(path), 0);
	log_info("shown %d", 1);
	log_debug("hidden");
	log_setlevel(LOG_LEVEL_DEBUG);
	log_debug("shown %d", 2);
	log_setlevel(99);
	assert_int_equal(log_getlevel(), LOG_LEVEL_DEBUG);
	log_setlevel(-5);
	assert_int_equal(log_getlevel(), LOG_LEVEL_WARN);
	log_info("hidden");
	log_warnx("shown %d", 3);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		assert_non_null(strstr(line, "shown"));
		assert_non_null(strstr(line, "test["));
		n++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(n, 3);
}

/* whole, bounded, regular files only: a FIFO is refused, not waited on */
static void
test_read_file(void **state)
{
	char	*dir = tmpdir("util"), *path, *buf, err[512];
	size_t	 len = 99;
	FILE	*f;

	(void)state;
	xasprintf(&path, "%s/f", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("twelve bytes", f);
	fclose(f);
	assert_non_null(buf = util_read_file(path, 12, &len, err,
	    sizeof(err)));
	assert_int_equal(len, 12);
	assert_string_equal(buf, "twelve bytes");
	free(buf);
	assert_null(util_read_file(path, 11, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file of at most 11 bytes"));
	assert_null(util_read_file(dir, 4096, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	free(path);
	xasprintf(&path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(util_read_file(path, 4096, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	free(path);
	xasprintf(&path, "%s/none", dir);
	assert_null(util_read_file(path, 4096, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(len, 12);
	free(path);
	rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_put_numbers),
		cmocka_unit_test(test_uuid_random),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_log_file_and_level),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
