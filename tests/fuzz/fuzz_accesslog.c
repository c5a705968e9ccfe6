/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for access log formats: the input's first line is a
 * format (text, or a JSON object when it starts with '{'), the rest a
 * records message whose records are written with it.  A JSON line must
 * parse back as JSON; a text line is one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "json.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct msg	 m;
static struct sbuf	 out;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accesslog_format	*f;
	struct record_batch	 b;
	struct record		 r;
	struct json		*j;
	const char		*nl;
	char			*fmt, err[256];
	size_t			 i, rest;
	int			 json;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	fmt = xstrndup((const char *)data, (size_t)(nl - (const char *)data));
	if (strlen(fmt) != (size_t)(nl - (const char *)data)) {
		free(fmt);
		return 0;
	}
	json = fmt[0] == '{';
	f = json ? accesslog_json_parse(fmt, err, sizeof(err)) :
	    accesslog_text_new(fmt, err, sizeof(err));
	free(fmt);
	if (f == NULL)
		return 0;
	rest = size - (size_t)(nl + 1 - (const char *)data);
	if (msg_parse(&m, nl + 1, rest, err, sizeof(err)) == 0 &&
	    record_batch_read(&m, &b, err, sizeof(err)) == 0) {
		for (i = 0; i < m.nrecords; i++) {
			if (record_read(&m, &m.records[i], &b, &r, err,
			    sizeof(err)) == -1)
				continue;
			if (out.limit == 0)
				sbuf_init(&out, 0);
			sbuf_reset(&out);
			accesslog_write(f, &r, &out);
			if (out.len == 0 || out.buf[out.len - 1] != '\n' ||
			    memchr(out.buf, '\n', out.len - 1) != NULL)
				abort();
			if (json) {
				j = json_parse(out.buf, out.len - 1, err,
				    sizeof(err));
				if (j == NULL && strstr(err, "deep") == NULL &&
				    strstr(err, "many") == NULL)
					abort();
				json_free(j);
			}
		}
	}
	accesslog_format_free(f);
	return 0;
}
