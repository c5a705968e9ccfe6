/* SPDX-License-Identifier: ISC */
/* Unit tests of lib/msg.c: the meshkit-ipc(7) reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "util.h"

static int	parse(struct msg *, const char *);
static void	assert_str(struct str, const char *);
static void	assert_refused(const char *, size_t, const char *);
static void	test_minimal(void **);
static void	test_example(void **);
static void	test_empty_values(void **);
static void	test_blank_lines(void **);
static void	test_malformed(void **);
static void	test_version(void **);
static void	test_key_length(void **);
static void	test_limits(void **);
static void	test_reuse(void **);
static void	test_get_u64(void **);
static void	test_stream(void **);
static void	test_writer(void **);
static void	test_writer_sanitize(void **);
static void	test_writer_overflow(void **);
static void	test_writer_sanitize_positions(void **);
static void	test_put_value(void **);
static void	test_line_lengths(void **);
static void	test_source_read(void **);

static int
parse(struct msg *m, const char *s)
{
	char	 err[256];

	return msg_parse(m, s, strlen(s), err, sizeof(err));
}

static void
assert_str(struct str s, const char *want)
{
	assert_non_null(s.p);
	assert_int_equal(s.n, strlen(want));
	assert_memory_equal(s.p, want, s.n);
}

/* Refused, with a reason that says why. */
static void
assert_refused(const char *buf, size_t len, const char *reason)
{
	struct msg	 m;
	char		 err[256];

	msg_init(&m);
	err[0] = '\0';
	assert_int_equal(msg_parse(&m, buf, len, err, sizeof(err)), -1);
	if (strstr(err, reason) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", err, reason);
	msg_fini(&m);
}

static void
test_minimal(void **state)
{
	struct msg	 m;

	msg_init(&m);
	/* the last line may lack its LF (nngcat --data "$(printf ...)") */
	assert_int_equal(parse(&m, "meshkit/1 status"), 0);
	assert_int_equal(m.version, 1);
	assert_true(msg_type_is(&m, "status"));
	assert_false(msg_type_is(&m, "statu"));
	assert_int_equal(m.header.count, 0);
	assert_int_equal(m.nrecords, 0);

	assert_int_equal(parse(&m, "meshkit/1 status\n"), 0);
	assert_int_equal(m.nrecords, 0);
	msg_fini(&m);
}

static void
test_example(void **state)
{
	static const char ex[] =
	    "meshkit/1 route\n"
	    "workload: book-v1\n"
	    "namespace: default\n"
	    "label: app=book\n"
	    "label: version=v1\n"
	    "\n"
	    "id: 1\n"
	    "authority: rating:8080\n"
	    "method: GET\n"
	    "path: /rate/1\n"
	    "\n"
	    "id: 2\n"
	    "id: 3\n"
	    "authority: unknown.example\n";
	struct msg	 m;
	struct str	 s;
	size_t		 i, labels = 0;

	msg_init(&m);
	assert_int_equal(parse(&m, ex), 0);
	assert_true(msg_type_is(&m, "route"));
	assert_int_equal(m.header.count, 4);
	assert_str(msg_get(&m, &m.header, "workload"), "book-v1");
	for (i = m.header.first; i < m.header.first + m.header.count; i++)
		if (util_str_eq(m.fields[i].key, "label"))
			labels++;
	assert_int_equal(labels, 2);
	assert_str(msg_get(&m, &m.header, "label"), "app=book");
	assert_int_equal(m.nrecords, 2);
	assert_int_equal(m.records[0].count, 4);
	assert_str(msg_get(&m, &m.records[0], "path"), "/rate/1");
	/* the first occurrence counts */
	assert_str(msg_get(&m, &m.records[1], "id"), "2");
	/* blocks do not see each other's fields */
	s = msg_get(&m, &m.records[1], "path");
	assert_null(s.p);
	s = msg_get(&m, &m.header, "id");
	assert_null(s.p);
	msg_fini(&m);
}

static void
test_empty_values(void **state)
{
	struct msg	 m;

	msg_init(&m);
	assert_int_equal(parse(&m, "meshkit/1 x\na:\nb: \nc:  two\nd: a: b"),
	    0);
	assert_str(msg_get(&m, &m.header, "a"), "");
	assert_str(msg_get(&m, &m.header, "b"), "");
	/* exactly one space is the separator; the rest is value */
	assert_str(msg_get(&m, &m.header, "c"), " two");
	assert_str(msg_get(&m, &m.header, "d"), "a: b");
	msg_fini(&m);
}

static void
test_blank_lines(void **state)
{
	struct msg	 m;
	const char	*s;

	msg_init(&m);
	/* an empty header, then a record */
	assert_int_equal(parse(&m, "meshkit/1 route\n\nid: 1\n"), 0);
	assert_int_equal(m.header.count, 0);
	assert_int_equal(m.nrecords, 1);
	/* one empty line at the end is tolerated and makes no record */
	assert_int_equal(parse(&m, "meshkit/1 route\n\nid: 1\n\n"), 0);
	assert_int_equal(m.nrecords, 1);
	assert_int_equal(parse(&m, "meshkit/1 route\n\n"), 0);
	assert_int_equal(m.nrecords, 0);
	/* two in a row would be an empty record */
	s = "meshkit/1 route\n\nid: 1\n\n\nid: 2\n";
	assert_refused(s, strlen(s), "line 5: two empty lines");
	s = "meshkit/1 route\n\nid: 1\n\n\n";
	assert_refused(s, strlen(s), "two empty");
	s = "meshkit/1 route\n\n\n";
	assert_refused(s, strlen(s), "line 3: two");
	msg_fini(&m);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char	*in;
		const char	*reason;
	} cases[] = {
		{ "", "empty" },
		{ "hello\n", "meshkit/" },
		{ "meshkit", "meshkit/" },
		{ "MESHKIT/1 route", "meshkit/" },
		{ "meshkit/ route", "bad version" },
		{ "meshkit/x route", "bad version" },
		{ "meshkit/01 route", "bad version" },
		{ "meshkit/1", "want \"meshkit/N TYPE\"" },
		{ "meshkit/1\troute", "want \"meshkit/N TYPE\"" },
		{ "meshkit/1 ", "bad message type" },
		{ "meshkit/1  route", "bad message type" },
		{ "meshkit/1 Route", "bad message type" },
		{ "meshkit/1 route extra", "bad message type" },
		{ "meshkit/1 route\nno colon here\n", "line 2: no colon" },
		{ "meshkit/1 route\n\nid: 1\nnocolon", "line 4: no colon" },
		{ "meshkit/1 route\nKey: v\n", "line 2: bad key" },
		{ "meshkit/1 route\nke y: v\n", "bad key" },
		{ "meshkit/1 route\nk_y: v\n", "bad key" },
		{ "meshkit/1 route\n: v\n", "bad key" },
		{ "meshkit/1 route\n key: v\n", "bad key" },
		{ "meshkit/1 route\nkey:value\n", "want \": \"" },
		{ "meshkit/1 route\nkey:\tvalue\n", "want \": \"" },
		{ "meshkit/1 route\r\nkey: v\r\n", "CR byte" },
		{ "meshkit/1 route\nkey: v\rw\n", "CR byte at offset 22" },
	};
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		assert_refused(cases[i].in, strlen(cases[i].in),
		    cases[i].reason);
	assert_refused("meshkit/1 route\nkey: a\0b\n", 25, "NUL byte");
	assert_refused(NULL, 0, "empty");
}

static void
test_version(void **state)
{
	struct msg	 m;
	char		 err[128];
	const char	*s = "meshkit/2 route\nwhatever\n";

	msg_init(&m);
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), -1);
	/* the caller can tell which version it got */
	assert_int_equal(m.version, 2);
	assert_string_equal(err, "version 2 not spoken");
	s = "meshkit/123456789 route\n";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad version"));
	msg_fini(&m);
}

static void
test_key_length(void **state)
{
	char		 buf[256];
	char		 key[MSG_MAX_KEY + 2];
	struct msg	 m;

	memset(key, 'k', MSG_MAX_KEY);
	key[MSG_MAX_KEY] = '\0';
	msg_init(&m);
	snprintf(buf, sizeof(buf), "meshkit/1 x\n%s: v\n", key);
	assert_int_equal(parse(&m, buf), 0);
	assert_str(msg_get(&m, &m.header, key), "v");
	key[MSG_MAX_KEY] = 'k';
	key[MSG_MAX_KEY + 1] = '\0';
	snprintf(buf, sizeof(buf), "meshkit/1 x\n%s: v\n", key);
	assert_refused(buf, strlen(buf), "bad key");
	/* the same bound holds for the message type */
	snprintf(buf, sizeof(buf), "meshkit/1 %s\n", key);
	assert_refused(buf, strlen(buf), "bad message type");
	msg_fini(&m);
}

static void
test_limits(void **state)
{
	struct msg	 m;
	char		*buf, err[128];
	size_t		 len, i;

	/* MSG_MAX_RECORDS records pass, one more is refused */
	buf = malloc(16 + (MSG_MAX_RECORDS + 1) * 8);
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "meshkit/1 route\n");
	for (i = 0; i < MSG_MAX_RECORDS; i++)
		len += (size_t)sprintf(buf + len, "\nid: %zu\n", i % 10);
	msg_init(&m);
	assert_int_equal(msg_parse(&m, buf, len, err, sizeof(err)), 0);
	assert_int_equal(m.nrecords, MSG_MAX_RECORDS);
	assert_str(msg_get(&m, &m.records[MSG_MAX_RECORDS - 1], "id"), "5");
	len += (size_t)sprintf(buf + len, "\nid: 1\n");
	assert_int_equal(msg_parse(&m, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 4096 records");
	free(buf);

	/* MSG_MAX_BYTES exactly passes, one more byte is refused */
	buf = malloc(MSG_MAX_BYTES + 1);
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "meshkit/1 x\nk: ");
	memset(buf + len, 'v', MSG_MAX_BYTES - len);
	assert_int_equal(msg_parse(&m, buf, MSG_MAX_BYTES, err, sizeof(err)),
	    0);
	assert_int_equal(msg_get(&m, &m.header, "k").n, MSG_MAX_BYTES - len);
	buf[MSG_MAX_BYTES] = 'v';
	assert_int_equal(msg_parse(&m, buf, MSG_MAX_BYTES + 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 1048576"));
	free(buf);
	msg_fini(&m);
}

static void
test_reuse(void **state)
{
	struct msg	 m;
	char		 big[8192];
	size_t		 len, i;

	msg_init(&m);
	len = (size_t)sprintf(big, "meshkit/1 route\n");
	for (i = 0; i < 200; i++)
		len += (size_t)sprintf(big + len, "\nid: %zu\nk: v\n", i);
	assert_int_equal(parse(&m, big), 0);
	assert_int_equal(m.nrecords, 200);
	assert_int_equal(m.nfields, 400);
	/* a later, smaller message leaves nothing of the first behind */
	assert_int_equal(parse(&m, "meshkit/1 status\na: b\n"), 0);
	assert_true(msg_type_is(&m, "status"));
	assert_int_equal(m.nrecords, 0);
	assert_int_equal(m.nfields, 1);
	/* and a failed parse leaves an empty message, not half of one */
	assert_int_equal(parse(&m, "meshkit/1 route\na: b\n\nid: 1\nbad\n"),
	    -1);
	assert_null(m.type.p);
	assert_int_equal(m.header.count, 0);
	assert_int_equal(m.nrecords, 0);
	assert_int_equal(m.nfields, 0);
	msg_fini(&m);
}

static void
test_get_u64(void **state)
{
	struct msg	 m;
	uint64_t	 v = 7;
	const char	*s = "meshkit/1 x\na: 123\nb: \nc: 12a\n"
	    "d: 18446744073709551615\ne: 18446744073709551616\nf: -1\n"
	    "g:  1\nh: 007\n";

	msg_init(&m);
	assert_int_equal(parse(&m, s), 0);
	assert_int_equal(msg_get_u64(&m, &m.header, "a", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(msg_get_u64(&m, &m.header, "b", &v), -1);
	assert_int_equal(msg_get_u64(&m, &m.header, "c", &v), -1);
	assert_int_equal(msg_get_u64(&m, &m.header, "d", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(msg_get_u64(&m, &m.header, "e", &v), -1);
	assert_int_equal(msg_get_u64(&m, &m.header, "f", &v), -1);
	assert_int_equal(msg_get_u64(&m, &m.header, "g", &v), -1);
	assert_int_equal(msg_get_u64(&m, &m.header, "h", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(msg_get_u64(&m, &m.header, "absent", &v), -1);
	msg_fini(&m);
}

static void
test_stream(void **state)
{
	static const char s[] =
	    "meshkit/1 route\n\nid: 1\nauthority: meshkit/2\n"
	    "meshkit/1 status\n\n"
	    "meshkit/1 route\nworkload: w";
	const char	*p = s;
	size_t		 len = sizeof(s) - 1, n;
	struct msg	 m;
	char		 err[128];

	msg_init(&m);
	n = msg_stream_next(p, len);
	/* "meshkit/" inside a value does not start a message */
	assert_int_equal(n, strlen("meshkit/1 route\n\nid: 1\n"
	    "authority: meshkit/2\n"));
	assert_int_equal(msg_parse(&m, p, n, err, sizeof(err)), 0);
	assert_int_equal(m.nrecords, 1);
	p += n;
	len -= n;
	n = msg_stream_next(p, len);
	assert_int_equal(n, strlen("meshkit/1 status\n\n"));
	assert_int_equal(msg_parse(&m, p, n, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "status"));
	p += n;
	len -= n;
	n = msg_stream_next(p, len);
	assert_int_equal(n, len);
	assert_int_equal(msg_parse(&m, p, n, err, sizeof(err)), 0);
	assert_str(msg_get(&m, &m.header, "workload"), "w");
	assert_int_equal(msg_stream_next(p, 0), 0);
	/* garbage before a message is a message of its own, refused */
	assert_int_equal(msg_stream_next("junk\nmeshkit/1 x\n", 17), 5);
	msg_fini(&m);
}

static void
test_writer(void **state)
{
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];

	msgw_init(&w);
	msgw_begin(&w, "route-reply");
	msgw_field_u64(&w, "generation", 3);
	msgw_record(&w);
	msgw_field_u64(&w, "id", 0);
	msgw_field(&w, "service", STR_LIT("rating.default.svc.cluster.local"));
	msgw_fieldf(&w, "endpoint", "%s:%d", "127.0.0.1", 9081);
	msgw_field(&w, "reason", STR_LIT(""));
	msgw_record(&w);
	msgw_field_u64(&w, "id", UINT64_MAX);
	assert_false(w.overflow);
	assert_string_equal(w.buf, "meshkit/1 route-reply\ngeneration: 3\n\n"
	    "id: 0\nservice: rating.default.svc.cluster.local\n"
	    "endpoint: 127.0.0.1:9081\nreason: \n\n"
	    "id: 18446744073709551615\n");

	msg_init(&m);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "route-reply"));
	assert_int_equal(m.nrecords, 2);
	assert_str(msg_get(&m, &m.records[0], "endpoint"), "127.0.0.1:9081");
	assert_str(msg_get(&m, &m.records[0], "reason"), "");

	/* a header field: the name lower case, any length, CR/LF blanked */
	{
		char	 name[600];

		memset(name, 'N', sizeof(name));
		msgw_reset(&w);
		msgw_begin(&w, "authz");
		msgw_field_header(&w, "header", STR_LIT("X-Api-Key"),
		    STR_LIT("Ab\r\nc"));
		msgw_field_header(&w, "header", (struct str){ name,
		    sizeof(name) }, STR_LIT(""));
		assert_false(w.overflow);
		assert_memory_equal(w.buf, "meshkit/1 authz\nheader: "
		    "x-api-key: Ab  c\nheader: nnn", 42);
		assert_int_equal(w.len, 16 + 25 + 8 + sizeof(name) + 3);
		assert_string_equal(w.buf + w.len - 3, ": \n");
	}

	/* reset keeps the buffer, starts over */
	msgw_reset(&w);
	assert_int_equal(w.len, 0);
	msgw_begin(&w, "status");
	assert_string_equal(w.buf, "meshkit/1 status\n");
	/* a long formatted value takes the slow path */
	msgw_fieldf(&w, "long", "%0900d", 1);
	assert_int_equal(w.len, strlen("meshkit/1 status\nlong: ") + 901);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(msg_get(&m, &m.header, "long").n, 900);
	msg_fini(&m);
	msgw_fini(&w);
}

static void
test_writer_sanitize(void **state)
{
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];
	struct str		 v = { "a\nb\rc\0d\n\nstatus: ok", 19 };

	msgw_init(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	msgw_field(&w, "reason", v);
	msgw_fieldf(&w, "path", "/x\r\nid: 9");
	assert_string_equal(w.buf, "meshkit/1 route-reply\n\n"
	    "reason: a b c d  status: ok\npath: /x  id: 9\n");
	msg_init(&m);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	/* no value forged a field or a record */
	assert_int_equal(m.nrecords, 1);
	assert_int_equal(m.records[0].count, 2);
	assert_null(msg_get(&m, &m.records[0], "status").p);
	assert_null(msg_get(&m, &m.records[0], "id").p);
	msg_fini(&m);
	msgw_fini(&w);
}

/*
 * The sanitizer looks at 8 bytes at a time: every forbidden byte at every
 * offset, among bytes just above and far above them, must still go.
 */
static void
test_writer_sanitize_positions(void **state)
{
	static const char bad[] = { '\n', '\r', '\0' };
	struct msg_writer	 w;
	char			 v[37], want[64];
	size_t			 pos, b, i, start;

	msgw_init(&w);
	for (b = 0; b < nitems(bad); b++) {
		for (pos = 0; pos < sizeof(v); pos++) {
			for (i = 0; i < sizeof(v); i++)
				v[i] = (char)(i % 3 == 0 ? 0xff :
				    i % 3 == 1 ? 0x0e : 'a');
			v[pos] = bad[b];
			msgw_reset(&w);
			msgw_field(&w, "k", (struct str){ v, sizeof(v) });
			start = 3;
			assert_int_equal(w.len, start + sizeof(v) + 1);
			memcpy(want, v, sizeof(v));
			want[pos] = ' ';
			assert_memory_equal(w.buf + start, want, sizeof(v));
		}
	}
	/* bytes below 14 other than the three are left alone */
	msgw_reset(&w);
	msgw_field(&w, "k", (struct str){ "\t\x01\x0b\x0c\x0d\x0a\x00x", 8 });
	assert_memory_equal(w.buf, "k: \t\x01\x0b\x0c  \x20x\n", 12);
	msgw_fini(&w);
}

/*
 * Values of every length to 80, of bytes next to LF's (0x0b, 0x8a,
 * 0x09), with and without the last line's LF, are read whole.
 */
static void
test_line_lengths(void **state)
{
	static const char fill[] = { 'a', 0x0b, (char)0x8a, 0x09, (char)0xff };
	struct msg	 m;
	char		 buf[256], err[256];
	size_t		 len, n, i, f;
	int		 lf;

	msg_init(&m);
	for (f = 0; f < nitems(fill); f++) {
		for (len = 0; len < 80; len++) {
			for (lf = 0; lf < 2; lf++) {
				n = (size_t)snprintf(buf, sizeof(buf),
				    "meshkit/1 t\nk: ");
				for (i = 0; i < len; i++)
					buf[n++] = i % 7 == 3 ? 'x' : fill[f];
				memcpy(buf + n, "\nz: 1", 5);
				n += 5;
				if (lf)
					buf[n++] = '\n';
				assert_int_equal(msg_parse(&m, buf, n, err,
				    sizeof(err)), 0);
				assert_int_equal(m.header.count, 2);
				assert_int_equal(msg_get(&m, &m.header,
				    "k").n, len);
				assert_str(msg_get(&m, &m.header, "z"), "1");
			}
		}
	}
	msg_fini(&m);
}

/*
 * msgw_put_value copies and tests 8 bytes at a time, the tail in an
 * overlapping step: every length, every forbidden byte at every offset,
 * and two of them in the overlap, come out as the value with spaces.
 */
static void
test_put_value(void **state)
{
	static const char bad[] = { '\n', '\r', '\0' };
	char	 v[41], want[41], out[48];
	size_t	 len, pos, b, i;

	for (len = 0; len <= sizeof(v); len++) {
		for (i = 0; i < len; i++)
			v[i] = (char)(i % 3 == 0 ? 0xff : i % 3 == 1 ? 0x0e :
			    'a' + (char)(i % 26));
		memset(out, '#', sizeof(out));
		assert_ptr_equal(msgw_put_value(out, (struct str){ v, len }),
		    out + len);
		assert_memory_equal(out, v, len);
		assert_int_equal(out[len], '#');
		for (b = 0; b < nitems(bad); b++) {
			for (pos = 0; pos < len; pos++) {
				memcpy(want, v, len);
				v[pos] = bad[b];
				want[pos] = ' ';
				if (len > 8 && pos + 1 < len) {
					/* the byte after is bad too */
					v[pos + 1] = bad[(b + 1) % 3];
					want[pos + 1] = ' ';
				}
				memset(out, '#', sizeof(out));
				msgw_put_value(out, (struct str){ v, len });
				assert_memory_equal(out, want, len);
				assert_int_equal(out[len], '#');
				for (i = 0; i < len; i++)
					v[i] = (char)(i % 3 == 0 ? 0xff :
					    i % 3 == 1 ? 0x0e :
					    'a' + (char)(i % 26));
			}
		}
	}
}

static void
test_writer_overflow(void **state)
{
	struct msg_writer	 w;
	char			*big;
	size_t			 i, last = 0;

	big = malloc(100000);
	assert_non_null(big);
	memset(big, 'x', 100000);
	msgw_init(&w);
	msgw_begin(&w, "route-reply");
	for (i = 0; i < 20 && !w.overflow; i++) {
		last = w.len;
		msgw_field(&w, "reason", (struct str){ big, 100000 });
	}
	assert_true(w.overflow);
	/* it stopped before the limit and writes nothing more */
	assert_true(w.len <= MSG_MAX_BYTES);
	assert_int_equal(w.len, last);
	msgw_field_u64(&w, "id", 1);
	msgw_record(&w);
	assert_int_equal(w.len, last);
	msgw_reset(&w);
	assert_false(w.overflow);
	msgw_begin(&w, "error");
	assert_string_equal(w.buf, "meshkit/1 error\n");
	/* one value larger than the limit by itself */
	msgw_reset(&w);
	msgw_fieldf(&w, "huge", "%*s", MSG_MAX_BYTES + 1, "");
	assert_true(w.overflow);
	msgw_fini(&w);
	free(big);
}

static void
test_source_read(void **state)
{
	struct msg		 m;
	struct msg_source	 src;
	char			 err[128];
	const char		*s;

	msg_init(&m);
	s = "meshkit/1 route\nworkload: book-v1\nnamespace: shop\n"
	    "label: app=book\nlabel: version=v1\nlabel: empty=\n";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), 0);
	assert_int_equal(msg_source_read(&m, &src), 0);
	assert_true(util_str_eq(src.workload, "book-v1"));
	assert_true(util_str_eq(src.namespace, "shop"));
	assert_int_equal(src.nlabels, 3);
	assert_true(util_str_eq(src.label_keys[1], "version"));
	assert_true(util_str_eq(src.label_values[1], "v1"));
	assert_int_equal(src.label_values[2].n, 0);

	s = "meshkit/1 route\n";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), 0);
	assert_int_equal(msg_source_read(&m, &src), 0);
	assert_true(util_str_eq(src.namespace, "default"));
	assert_null(src.workload.p);

	{
		struct msg_writer	 w;
		char			*keys[] = { "app", "version" };
		char			*values[] = { "book", "v=1" };

		msgw_init(&w);
		msgw_source(&w, "authz", "book-v1", "shop", keys, values, 2);
		assert_int_equal(msg_parse(&m, w.buf, w.len, err,
		    sizeof(err)), 0);
		assert_true(msg_type_is(&m, "authz"));
		assert_int_equal(msg_source_read(&m, &src), 0);
		assert_true(util_str_eq(src.workload, "book-v1"));
		assert_true(util_str_eq(src.namespace, "shop"));
		assert_int_equal(src.nlabels, 2);
		assert_true(util_str_eq(src.label_values[1], "v=1"));
		msgw_fini(&w);
	}

	s = "meshkit/1 route\nlabel: novalue\n";
	assert_int_equal(msg_parse(&m, s, strlen(s), err, sizeof(err)), 0);
	assert_int_equal(msg_source_read(&m, &src), -1);
	msg_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_key_length),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_get_u64),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_sanitize),
		cmocka_unit_test(test_writer_sanitize_positions),
		cmocka_unit_test(test_put_value),
		cmocka_unit_test(test_line_lengths),
		cmocka_unit_test(test_writer_overflow),
		cmocka_unit_test(test_source_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
