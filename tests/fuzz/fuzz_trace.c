/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for trace context headers: the input's lines are the
 * values of traceparent, tracestate, b3, x-b3-traceid, x-b3-spanid,
 * x-b3-parentspanid, x-b3-sampled and x-b3-flags, in that order.  A
 * context read is written back and read again to the same trace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_headers {
	struct str	 values[8];
	char		 out[8][600];
	int		 set[8];
};

static struct str	fuzz_get(const char *, void *);
static struct str	fuzz_get_out(const char *, void *);
static void		fuzz_set(const char *, const char *, void *);
static size_t		fuzz_index(const char *);

static size_t
fuzz_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < trace_nheaders; i++)
		if (strcmp(trace_headers[i], name) == 0)
			return i;
	abort();
}

static struct str
fuzz_get(const char *name, void *arg)
{
	return ((struct fuzz_headers *)arg)->values[fuzz_index(name)];
}

static struct str
fuzz_get_out(const char *name, void *arg)
{
	struct fuzz_headers	*h = arg;
	size_t			 i = fuzz_index(name);

	if (!h->set[i])
		return (struct str){ NULL, 0 };
	return (struct str){ h->out[i], strlen(h->out[i]) };
}

static void
fuzz_set(const char *name, const char *value, void *arg)
{
	struct fuzz_headers	*h = arg;
	size_t			 i = fuzz_index(name);

	if (value == NULL) {
		h->set[i] = 0;	/* removed */
		return;
	}
	if (strlen(value) >= sizeof(h->out[i]))
		abort();
	strcpy(h->out[i], value);
	h->set[i] = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_headers	 h;
	struct trace_context	 c, c2;
	const char		*p = (const char *)data, *end = p + size, *nl;
	size_t			 i;
	char			 span[17];

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 8 && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		h.values[i].p = p;
		h.values[i].n = (size_t)((nl != NULL ? nl : end) - p);
		if (h.values[i].n == 0)
			h.values[i].p = NULL;
		p = nl != NULL ? nl + 1 : end;
	}
	if (!trace_context_read(&c, fuzz_get, &h))
		return 0;
	if (strlen(c.trace_id) != 32 || strlen(c.span_id) != 16)
		abort();
	trace_random_hex(span, 8);
	memset(&h, 0, sizeof(h));
	trace_context_write(&c, span, fuzz_set, &h);
	if (!trace_context_read(&c2, fuzz_get_out, &h) ||
	    strcmp(c.trace_id, c2.trace_id) != 0 ||
	    strcmp(c2.span_id, span) != 0 ||
	    (c.sampled == 1) != (c2.sampled == 1))
		abort();
	return 0;
}
