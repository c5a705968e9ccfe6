/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for JWKS documents: any input gives a key set (every
 * key an OpenSSL key of its type) or a reason, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jwt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks	*keys;
	char		 err[200];
	size_t		 i;

	err[0] = '\0';
	keys = jwks_parse((const char *)data, size, err, sizeof(err));
	if (keys == NULL && err[0] == '\0')
		abort();
	for (i = 0; keys != NULL && i < keys->n; i++)
		if (keys->keys[i].pkey == NULL)
			abort();
	jwks_free(keys);
	return 0;
}
