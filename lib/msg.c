/* SPDX-License-Identifier: ISC */
/*
 * meshkit-ipc(7) messages: the reader and the writer.
 *
 * The reader is strict about form and lenient about content: a message
 * that breaks the form is refused whole with a reason naming the line,
 * while keys the reader does not know are left for the caller to ignore.
 * Choices the page leaves open:
 *  - "key:" and "key: " both give an empty value; "key:value" (no space)
 *    is refused, so that the separator is always exactly ": ".
 *  - Two empty lines in a row are refused (they would make an empty
 *    record); one empty line at the very end is tolerated, as is a last
 *    line without its LF (nngcat --data "$(printf ...)" strips it).
 *  - The version number is decimal without leading zeros; a message of
 *    another version is refused (msg->version still says which).
 *
 * Fields point into the caller's buffer; the arrays of struct msg grow
 * and are kept across parses, so parsing costs no allocation once warm.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "util.h"

static void	msg_add_field(struct msg *, const char *, size_t,
		    const char *, size_t, unsigned);
static int	msg_add_record(struct msg *, size_t);
static int	msg_read(struct msg *, const char *, size_t,
		    const struct msg_keys *, char *, size_t);
static unsigned	msg_key_find(const struct msg_keys *, unsigned,
		    const char *, size_t);
static int	msg_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static size_t	msg_token_len(const char *, size_t);
static int	msgw_reserve(struct msg_writer *, size_t);
static void	msgw_append(struct msg_writer *, const char *, size_t);
static void	msgw_sanitize(char *, size_t);

/* 1 for the bytes a key or a message type may hold: a-z, 0-9, '-'. */
static const unsigned char msg_keychar[256] = {
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1,
};

void
msg_init(struct msg *m)
{
	memset(m, 0, sizeof(*m));
}

void
msg_fini(struct msg *m)
{
	free(m->records);
	free(m->fields);
	free(m->keyids);
	memset(m, 0, sizeof(*m));
}

static int
msg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Length of the run of key characters at the start of p. */
static size_t
msg_token_len(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && msg_keychar[(unsigned char)p[i]]; i++)
		;
	return i;
}

static void
msg_add_field(struct msg *m, const char *k, size_t kn, const char *v,
    size_t vn, unsigned id)
{
	struct msg_field	*f;

	if (m->nfields == m->capfields) {
		size_t	 cap = m->capfields == 0 ? 64 : m->capfields * 2;

		m->fields = xreallocarray(m->fields, cap, sizeof(*m->fields));
		m->keyids = xreallocarray(m->keyids, cap, 1);
		m->capfields = cap;
	}
	m->keyids[m->nfields] = (unsigned char)id;
	f = &m->fields[m->nfields++];
	f->key.p = k;
	f->key.n = kn;
	f->value.p = v;
	f->value.n = vn;
}

static int
msg_add_record(struct msg *m, size_t first)
{
	struct msg_block	*b;

	if (m->nrecords == MSG_MAX_RECORDS)
		return -1;
	if (m->nrecords == m->caprecords) {
		size_t	 cap = m->caprecords == 0 ? 16 : m->caprecords * 2;

		m->records = xreallocarray(m->records, cap,
		    sizeof(*m->records));
		m->caprecords = cap;
	}
	b = &m->records[m->nrecords++];
	b->first = first;
	b->count = 0;
	return 0;
}

/*
 * A refused message leaves no fields behind, so that a caller that
 * ignores the result cannot act on half of it.
 */
int
msg_parse(struct msg *m, const char *buf, size_t len, char *err,
    size_t errlen)
{
	return msg_parse_keyed(m, buf, len, NULL, err, errlen);
}

int
msg_parse_keyed(struct msg *m, const char *buf, size_t len,
    const struct msg_keys *keys, char *err, size_t errlen)
{
	m->keyed = NULL;
	if (msg_read(m, buf, len, keys, err, errlen) == 0) {
		m->keyed = keys;
		return 0;
	}
	m->type.p = NULL;
	m->type.n = 0;
	m->header.count = 0;
	m->nrecords = 0;
	m->nfields = 0;
	return -1;
}

/* Is keys' i-th key at p, followed by its colon, within avail bytes? */
static inline int
msg_key_at(const struct msg_keys *ks, size_t i, const char *p, size_t avail)
{
	size_t	 n = ks->lens[i];

	return n < avail && p[n] == ':' && util_short_eq(ks->keys[i], p, n);
}

/*
 * Which of keys is at p (avail bytes to the end of its line): the guess
 * first, then each in turn.  MSG_KEY_NONE when none is.
 */
static unsigned
msg_key_find(const struct msg_keys *ks, unsigned guess, const char *p,
    size_t avail)
{
	size_t	 i;

	if (guess < ks->n && msg_key_at(ks, guess, p, avail))
		return guess;
	for (i = 0; i < ks->n; i++)
		if (msg_key_at(ks, i, p, avail))
			return (unsigned)i;
	return MSG_KEY_NONE;
}

static int
msg_read(struct msg *m, const char *buf, size_t len,
    const struct msg_keys *keys, char *err, size_t errlen)
{
	const char		*p, *end, *eol, *nl;
	struct msg_block	*cur;
	size_t			 n, tn, line;
	unsigned		 id, prev = MSG_KEY_NONE;
	int			 version, prev_empty;

	m->version = 0;
	m->type.p = NULL;
	m->type.n = 0;
	m->header.first = m->header.count = 0;
	m->nrecords = 0;
	m->nfields = 0;

	if (buf == NULL || len == 0)
		return msg_fail(err, errlen, "empty message");
	if (len > MSG_MAX_BYTES)
		return msg_fail(err, errlen, "message of %zu bytes, more "
		    "than %d", len, MSG_MAX_BYTES);
	/* memchr runs wide; one pass each beats a test per byte below. */
	if ((p = memchr(buf, '\0', len)) != NULL)
		return msg_fail(err, errlen, "NUL byte at offset %zu",
		    (size_t)(p - buf));
	if ((p = memchr(buf, '\r', len)) != NULL)
		return msg_fail(err, errlen, "CR byte at offset %zu",
		    (size_t)(p - buf));

	end = buf + len;
	nl = memchr(buf, '\n', len);
	eol = nl != NULL ? nl : end;
	n = (size_t)(eol - buf);
	if (n < 8 || memcmp(buf, "meshkit/", 8) != 0)
		return msg_fail(err, errlen, "line 1: does not start with "
		    "\"meshkit/\"");
	p = buf + 8;
	if (p == eol || *p < '1' || *p > '9')
		return msg_fail(err, errlen, "line 1: bad version");
	version = 0;
	while (p < eol && *p >= '0' && *p <= '9') {
		if (version > 99999)
			return msg_fail(err, errlen, "line 1: bad version");
		version = version * 10 + (*p++ - '0');
	}
	m->version = version;
	if (p == eol || *p != ' ')
		return msg_fail(err, errlen, "line 1: want \"meshkit/N TYPE\"");
	p++;
	tn = msg_token_len(p, (size_t)(eol - p));
	if (tn == 0 || tn > MSG_MAX_KEY || p + tn != eol)
		return msg_fail(err, errlen, "line 1: bad message type");
	if (version != MSG_VERSION)
		return msg_fail(err, errlen, "version %d not spoken", version);
	m->type.p = p;
	m->type.n = tn;

	cur = &m->header;
	line = 1;
	prev_empty = 0;
	for (p = nl != NULL ? nl + 1 : end; p < end; p = eol + 1) {
		const char	*colon, *v;
		size_t		 kn;

		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		eol = nl != NULL ? nl : end;
		if (p == eol) {
			if (prev_empty)
				return msg_fail(err, errlen, "line %zu: two "
				    "empty lines in a row", line);
			prev_empty = 1;
			continue;
		}
		if (prev_empty) {
			if (msg_add_record(m, m->nfields) == -1)
				return msg_fail(err, errlen, "more than %d "
				    "records", MSG_MAX_RECORDS);
			/* The array may have moved: take the pointer anew. */
			cur = &m->records[m->nrecords - 1];
			prev_empty = 0;
			prev = MSG_KEY_NONE;
		}
		id = MSG_KEY_NONE;
		if (keys != NULL && cur != &m->header &&
		    (id = msg_key_find(keys, m->keyafter[prev], p,
		    (size_t)(eol - p))) != MSG_KEY_NONE) {
			/* one of the writer's keys, all key bytes */
			kn = keys->lens[id];
			colon = p + kn;
			m->keyafter[prev] = (unsigned char)id;
			prev = id;
		} else if (nl != NULL) {
			/* the LF ends the run: no bound to test per byte */
			for (colon = p; msg_keychar[(unsigned char)*colon];
			    colon++)
				;
			kn = (size_t)(colon - p);
		} else {
			kn = msg_token_len(p, (size_t)(eol - p));
			colon = p + kn;
		}
		if (colon == eol || *colon != ':') {
			if (memchr(p, ':', (size_t)(eol - p)) == NULL)
				return msg_fail(err, errlen, "line %zu: no "
				    "colon", line);
			return msg_fail(err, errlen, "line %zu: bad key",
			    line);
		}
		if (kn == 0 || kn > MSG_MAX_KEY)
			return msg_fail(err, errlen, "line %zu: bad key", line);
		v = colon + 1;
		if (v < eol) {
			if (*v != ' ')
				return msg_fail(err, errlen, "line %zu: want "
				    "\": \" after the key", line);
			v++;
		}
		msg_add_field(m, p, kn, v, (size_t)(eol - v), id);
		cur->count++;
		if (nl == NULL)
			break;
	}
	return 0;
}

size_t
msg_stream_next(const char *buf, size_t len)
{
	const char	*p;

	if (len == 0)
		return 0;
	p = memmem(buf, len, "\nmeshkit/", 9);
	return p != NULL ? (size_t)(p - buf) + 1 : len;
}

int
msg_type_is(const struct msg *m, const char *type)
{
	return m->type.p != NULL && util_str_eq(m->type, type);
}

struct str
msg_get(const struct msg *m, const struct msg_block *b, const char *key)
{
	struct str	 none = { NULL, 0 };
	size_t		 i, kn = strlen(key);

	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field *f = &m->fields[i];

		if (f->key.n == kn && memcmp(f->key.p, key, kn) == 0)
			return f->value;
	}
	return none;
}

int
msg_get_u64(const struct msg *m, const struct msg_block *b,
    const char *key, uint64_t *out)
{
	return msg_str_u64(msg_get(m, b, key), out);
}

int
msg_str_u64(struct str s, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (s.p == NULL || s.n == 0 || s.n > 20)
		return -1;
	/* nineteen digits cannot overflow; only the twentieth is tested */
	for (i = 0; i < s.n && i < 19; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	if (i < s.n) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

void
msgw_init(struct msg_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void
msgw_fini(struct msg_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void
msgw_reset(struct msg_writer *w)
{
	w->len = 0;
	w->overflow = 0;
	if (w->buf != NULL)
		w->buf[0] = '\0';
}

/*
 * Room for n more bytes and a NUL (kept so that tests and logs can use
 * the buffer as a string).  Past MSG_MAX_BYTES the writer stops: the
 * message could not be read by anyone, so it is marked and dropped.
 */
static int
msgw_reserve(struct msg_writer *w, size_t n)
{
	size_t	 cap;

	if (w->overflow)
		return -1;
	if (n > MSG_MAX_BYTES || w->len + n > MSG_MAX_BYTES) {
		w->overflow = 1;
		return -1;
	}
	if (w->len + n + 1 <= w->cap)
		return 0;
	cap = w->cap == 0 ? 4096 : w->cap;
	while (cap < w->len + n + 1)
		cap *= 2;
	w->buf = xreallocarray(w->buf, cap, 1);
	w->cap = cap;
	return 0;
}

static void
msgw_append(struct msg_writer *w, const char *p, size_t n)
{
	if (msgw_reserve(w, n) == -1)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void
msgw_begin(struct msg_writer *w, const char *type)
{
	char	 line[16 + MSG_MAX_KEY];
	int	 n;

	n = snprintf(line, sizeof(line), "meshkit/%d %s\n", MSG_VERSION, type);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		w->overflow = 1;	/* a type no reader would take */
		return;
	}
	msgw_append(w, line, (size_t)n);
}

void
msgw_record(struct msg_writer *w)
{
	msgw_append(w, "\n", 1);
}

/*
 * NUL, LF and CR to spaces.  All three are below 14, and values almost
 * never hold one: test 8 bytes at a time for any byte below 14 and look
 * closer only then (a per-byte loop was a fifth of route-d's time).
 */
#define MSGW_HAS_LOW(x)	(((x) - 0x0101010101010101ULL * 14) & ~(x) & \
	0x8080808080808080ULL)
/* The bytes that would forge a field. */
#define MSGW_FORBIDDEN(c)	((c) == '\n' || (c) == '\r' || (c) == '\0')

static void
msgw_sanitize(char *v, size_t n)
{
	uint64_t	 x;
	size_t		 i = 0, j;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, v + i, 8);
		if (!MSGW_HAS_LOW(x))
			continue;
		for (j = i; j < i + 8; j++)
			if (MSGW_FORBIDDEN(v[j]))
				v[j] = ' ';
	}
	for (; i < n; i++)
		if (MSGW_FORBIDDEN(v[i]))
			v[i] = ' ';
}

void
msgw_field(struct msg_writer *w, const char *key, struct str value)
{
	size_t	 kn = strlen(key);
	char	*v;

	if (value.p == NULL)
		value.n = 0;
	if (msgw_reserve(w, kn + 2 + value.n + 1) == -1)
		return;
	memcpy(w->buf + w->len, key, kn);
	w->len += kn;
	w->buf[w->len++] = ':';
	w->buf[w->len++] = ' ';
	v = w->buf + w->len;
	if (value.n > 0)
		memcpy(v, value.p, value.n);
	msgw_sanitize(v, value.n);
	w->len += value.n;
	w->buf[w->len++] = '\n';
	w->buf[w->len] = '\0';
}

char *
msgw_space(struct msg_writer *w, size_t n)
{
	size_t	 cap;

	if (w->overflow)
		return NULL;
	if (n > MSG_MAX_BYTES) {
		w->overflow = 1;
		return NULL;
	}
	if (w->len + n + 1 > w->cap) {
		cap = w->cap == 0 ? 4096 : w->cap;
		while (cap < w->len + n + 1)
			cap *= 2;
		w->buf = xreallocarray(w->buf, cap, 1);
		w->cap = cap;
	}
	return w->buf + w->len;
}

void
msgw_commit(struct msg_writer *w, const char *end)
{
	size_t	 len = (size_t)(end - w->buf);

	if (len > MSG_MAX_BYTES) {
		w->overflow = 1;
		return;
	}
	w->len = len;
	w->buf[len] = '\0';
}

/*
 * Eight bytes at a time, copied and tested at once, the tail in one
 * overlapping step; only a word that holds a byte below 14 (where CR,
 * LF and NUL are) is looked at byte by byte.
 */
char *
msgw_put_value(char *dst, struct str value)
{
	const char	*s = value.p;
	size_t		 n = value.n, i;
	uint64_t	 x;

	if (n < 8) {
		for (i = 0; i < n; i++) {
			char c = s[i];

			dst[i] = MSGW_FORBIDDEN(c) ? ' ' : c;
		}
		return dst + n;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		memcpy(dst + i, &x, 8);
		if (MSGW_HAS_LOW(x))
			msgw_sanitize(dst + i, 8);
	}
	if (i < n) {
		/* bytes written again from the source, tested again */
		memcpy(&x, s + n - 8, 8);
		memcpy(dst + n - 8, &x, 8);
		if (MSGW_HAS_LOW(x))
			msgw_sanitize(dst + n - 8, 8);
	}
	return dst + n;
}

void
msgw_fieldf(struct msg_writer *w, const char *key, const char *fmt, ...)
{
	char		 small[512], *big = NULL;
	va_list		 ap;
	int		 n;
	struct str	 s;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	s.p = small;
	s.n = (size_t)n;
	if ((size_t)n >= sizeof(small)) {
		if ((size_t)n > MSG_MAX_BYTES) {
			w->overflow = 1;
			return;
		}
		big = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		s.p = big;
	}
	msgw_field(w, key, s);
	free(big);
}

void
msgw_field_header(struct msg_writer *w, const char *key, struct str name,
    struct str value)
{
	size_t	 kn = strlen(key), i;
	char	*v, c;

	if (name.p == NULL)
		name.n = 0;
	if (value.p == NULL)
		value.n = 0;
	if (msgw_reserve(w, kn + 2 + name.n + 2 + value.n + 1) == -1)
		return;
	memcpy(w->buf + w->len, key, kn);
	w->len += kn;
	w->buf[w->len++] = ':';
	w->buf[w->len++] = ' ';
	v = w->buf + w->len;
	for (i = 0; i < name.n; i++) {
		c = name.p[i];
		v[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	v[name.n] = ':';
	v[name.n + 1] = ' ';
	if (value.n > 0)
		memcpy(v + name.n + 2, value.p, value.n);
	msgw_sanitize(v, name.n + 2 + value.n);
	w->len += name.n + 2 + value.n;
	w->buf[w->len++] = '\n';
	w->buf[w->len] = '\0';
}

void
msgw_field_u64(struct msg_writer *w, const char *key, uint64_t v)
{
	char		 digits[20];
	struct str	 s;

	s.p = digits;
	s.n = (size_t)(util_put_u64(digits, v) - digits);
	msgw_field(w, key, s);
}

int
msg_source_read(const struct msg *m, struct msg_source *src)
{
	const struct msg_block	*b = &m->header;
	size_t			 i;
	int			 seen_wl = 0, seen_ns = 0;

	memset(src, 0, sizeof(*src));
	src->namespace = STR_LIT(MSG_DEFAULT_NAMESPACE);
	for (i = b->first; i < b->first + b->count; i++) {
		const struct msg_field *f = &m->fields[i];

		if (!seen_wl && util_str_eq(f->key, "workload")) {
			src->workload = f->value;
			seen_wl = 1;
		} else if (!seen_ns && util_str_eq(f->key, "namespace")) {
			if (f->value.n > 0)
				src->namespace = f->value;
			seen_ns = 1;
		} else if (util_str_eq(f->key, "label")) {
			const char *eq = memchr(f->value.p, '=', f->value.n);

			if (eq == NULL || eq == f->value.p)
				return -1;
			/* Extra labels are ignored: no decision reads them. */
			if (src->nlabels == MSG_MAX_LABELS)
				continue;
			src->label_keys[src->nlabels].p = f->value.p;
			src->label_keys[src->nlabels].n =
			    (size_t)(eq - f->value.p);
			src->label_values[src->nlabels].p = eq + 1;
			src->label_values[src->nlabels].n =
			    f->value.n - (size_t)(eq + 1 - f->value.p);
			src->nlabels++;
		}
	}
	return 0;
}

void
msgw_source(struct msg_writer *w, const char *type, const char *workload,
    const char *namespace, char *const *keys, char *const *values,
    size_t nlabels)
{
	size_t	 i;

	msgw_reset(w);
	msgw_begin(w, type);
	msgw_field(w, "workload", (struct str){ workload, strlen(workload) });
	msgw_field(w, "namespace", (struct str){ namespace,
	    strlen(namespace) });
	for (i = 0; i < nlabels; i++)
		msgw_fieldf(w, "label", "%s=%s", keys[i], values[i]);
}
