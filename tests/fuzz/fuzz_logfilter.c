/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for access log filters (Telemetry's CEL subset): the
 * input is an expression; one that parses is evaluated over a record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logfilter.h"
#include "record.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logfilter	*f;
	struct record		 r;
	char			*expr, err[256];
	const char *const	*names;

	expr = xstrndup((const char *)data, size);
	err[0] = '\0';
	if ((f = logfilter_parse(expr, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			abort();
		free(expr);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.code = 200;
	r.path = STR_LIT("/a?b");
	r.upstream_host = STR_LIT("[::1]:80");
	r.downstream_remote = STR_LIT("1.2.3.4");
	logfilter_match(f, &r);
	logfilter_headers(f, 0, &names);
	logfilter_headers(f, 1, &names);
	logfilter_free(f);
	free(expr);
	return 0;
}
