/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the JSON reader: any input gives a tree or a
 * reason, never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json	*j;
	char		 err[160];

	err[0] = '\0';
	j = json_parse((const char *)data, size, err, sizeof(err));
	if (j == NULL && err[0] == '\0')
		abort();	/* a refusal always says why */
	json_free(j);
	return 0;
}
