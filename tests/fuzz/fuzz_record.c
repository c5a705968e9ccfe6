/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the records message of meshkit-ipc(7): the batch
 * header and record readers.  What the reader accepts, the writer writes
 * back in a form the reader reads again to the same record.  Every input
 * is also parsed with record_keys (msg_parse_keyed, stats-d's way), which
 * must agree with the plain parse in everything, errors included.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "record.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_same_str(struct str, struct str);
static void	fuzz_same_peer(const struct record_peer *,
		    const struct record_peer *);
static void	fuzz_same(const struct record *, const struct record *);
static void	fuzz_identical(const struct record *,
		    const struct record *);

static struct msg		 m, m2, mk;
static struct msg_writer	 out;

static void
fuzz_same_str(struct str a, struct str b)
{
	if ((a.p == NULL) != (b.p == NULL) || a.n != b.n ||
	    (a.n > 0 && memcmp(a.p, b.p, a.n) != 0))
		abort();
}

static void
fuzz_same_peer(const struct record_peer *a, const struct record_peer *b)
{
	fuzz_same_str(a->workload, b->workload);
	fuzz_same_str(a->namespace, b->namespace);
	fuzz_same_str(a->app, b->app);
	fuzz_same_str(a->version, b->version);
	fuzz_same_str(a->principal, b->principal);
}

static void
fuzz_same(const struct record *a, const struct record *b)
{
	size_t	 i;

	if (a->reporter != b->reporter || a->has != b->has ||
	    a->start_us != b->start_us || a->duration_us != b->duration_us ||
	    a->code != b->code || a->port != b->port ||
	    a->response_bytes != b->response_bytes ||
	    a->sampled != b->sampled ||
	    a->nrequest_headers != b->nrequest_headers ||
	    a->nresponse_headers != b->nresponse_headers)
		abort();
	fuzz_same_str(a->flags, b->flags);
	fuzz_same_str(a->path, b->path);
	fuzz_same_str(a->service, b->service);
	fuzz_same_str(a->trace_id, b->trace_id);
	fuzz_same_str(a->parent_span_id, b->parent_span_id);
	fuzz_same_peer(&a->source, &b->source);
	fuzz_same_peer(&a->destination, &b->destination);
	for (i = 0; i < a->nrequest_headers; i++) {
		fuzz_same_str(a->request_headers[i].name,
		    b->request_headers[i].name);
		fuzz_same_str(a->request_headers[i].value,
		    b->request_headers[i].value);
	}
}

/* Two reads of the same bytes: every field the same, pointers too. */
static void
fuzz_identical(const struct record *a, const struct record *b)
{
	size_t	 i;

	/* record_clear zeroes the part before the headers, padding too */
	if (memcmp(a, b, offsetof(struct record, request_headers)) != 0 ||
	    a->nrequest_headers != b->nrequest_headers ||
	    a->nresponse_headers != b->nresponse_headers)
		abort();
	for (i = 0; i < a->nrequest_headers; i++)
		if (memcmp(&a->request_headers[i], &b->request_headers[i],
		    sizeof(a->request_headers[i])) != 0)
			abort();
	for (i = 0; i < a->nresponse_headers; i++)
		if (memcmp(&a->response_headers[i], &b->response_headers[i],
		    sizeof(a->response_headers[i])) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_batch	 b;
	struct record		 r, r2;
	struct str		 name, ns;
	char			 err[256];
	size_t			 i;

	char			 errk[256];
	int			 rc;

	err[0] = errk[0] = '\0';
	rc = msg_parse(&m, (const char *)data, size, err, sizeof(err));
	if (msg_parse_keyed(&mk, (const char *)data, size, record_keys(),
	    errk, sizeof(errk)) != rc || strcmp(err, errk) != 0)
		abort();
	if (rc == -1)
		return 0;
	if (mk.nfields != m.nfields || mk.nrecords != m.nrecords ||
	    memcmp(mk.fields, m.fields, m.nfields * sizeof(*m.fields)) != 0)
		abort();
	for (i = 0; i < m.nrecords; i++) {
		struct record	 rk;

		if (m.records[i].first != mk.records[i].first ||
		    m.records[i].count != mk.records[i].count)
			abort();
		err[0] = errk[0] = '\0';
		rc = record_read(&m, &m.records[i], NULL, &r, err,
		    sizeof(err));
		if (record_read(&mk, &mk.records[i], NULL, &rk, errk,
		    sizeof(errk)) != rc || strcmp(err, errk) != 0)
			abort();
		if (rc == 0)
			fuzz_identical(&r, &rk);
	}
	if (record_batch_read(&m, &b, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < m.nrecords; i++) {
		err[0] = '\0';
		if (record_read(&m, &m.records[i], NULL, &r, err,
		    sizeof(err)) == -1) {
			if (err[0] == '\0')
				abort();
			continue;
		}
		record_service_parts(&r, &name, &ns);
		msgw_reset(&out);
		msgw_begin(&out, "records");
		record_write(&out, &r);
		if (out.overflow)
			continue;
		if (msg_parse(&m2, out.buf, out.len, err, sizeof(err)) == -1 ||
		    m2.nrecords != 1 || record_read(&m2, &m2.records[0], NULL,
		    &r2, err, sizeof(err)) == -1)
			abort();
		fuzz_same(&r, &r2);
		/* and with the header's defaults */
		record_read(&m, &m.records[i], &b, &r, err, sizeof(err));
	}
	return 0;
}
