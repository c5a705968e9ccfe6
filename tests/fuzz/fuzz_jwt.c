/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for tokens: taken apart, verified against Istio's
 * test JWKS (built in below, so that the target needs no file), claims
 * checked.  No input may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char jwks_text[] = "{ \"keys\":[ {\"e\":\"AQAB\",\"kid\":"
    "\"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ\",\"kty\":\"RSA\","
    "\"n\":\"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQ"
    "O1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6AB"
    "ZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6"
    "x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp"
    "6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ"
    "0BJ_EyxOGuHJrLsn00fnMQ"
    "\"}]}";
static struct jwks	*keys;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt	 t;
	char		 err[256], *auds[2] = { "a", "b" };

	if (keys == NULL && (keys = jwks_parse(jwks_text,
	    sizeof(jwks_text) - 1, err, sizeof(err))) == NULL)
		abort();
	if (jwt_parse(&t, (const char *)data, size, err, sizeof(err)) == 0) {
		(void)jwt_verify(&t, keys, err, sizeof(err));
		jwt_check_claims(&t, "testing@secure.istio.io", auds, 2,
		    1795900000, err, sizeof(err));
	}
	jwt_fini(&t);
	return 0;
}
