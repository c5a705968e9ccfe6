/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for what proxy-d reads from authz-d (meshkit-ipc(7)
 * authz-reply; breaker-d's replies are lib/breaker's, fuzzed by
 * fuzz_breaker).  Besides "no crash", it checks that an accepted answer
 * can only ask for well-formed headers and that every refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz_reply.h"
#include "msg.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct msg		 m;
static int			 ready;
static struct authz_reply	 az;

static void
check_authz(const struct authz_reply *a)
{
	size_t	 i, j;

	if (a->nops > AUTHZ_REPLY_MAX_OPS)
		abort();
	for (i = 0; i < a->nops; i++) {
		const struct authz_reply_op *op = &a->ops[i];

		if (op->name.n == 0 || op->name.n > AUTHZ_REPLY_MAX_NAME)
			abort();
		for (j = 0; j < op->name.n; j++)
			if (op->name.p[j] == ':' || op->name.p[j] == ' ' ||
			    op->name.p[j] == '\r' || op->name.p[j] == '\n')
				abort();
		for (j = 0; j < op->value.n; j++)
			if (op->value.p[j] == '\r' || op->value.p[j] == '\n' ||
			    op->value.p[j] == '\0')
				abort();
	}
	if (a->decision == AUTHZ_REPLY_DENY &&
	    (a->status < 400 || a->status > 599))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 err[256];
	size_t	 i;

	if (!ready) {
		msg_init(&m);
		ready = 1;
	}
	if (msg_parse(&m, (const char *)data, size, err, sizeof(err)) == -1)
		return 0;
	for (i = 0; i < m.nrecords; i++) {
		const struct msg_block *b = &m.records[i];

		err[0] = '\0';
		if (authz_reply_read(&m, b, &az, err, sizeof(err)) == 0) {
			check_authz(&az);
			(void)authz_reply_vary_known(az.vary);
		} else if (err[0] == '\0')
			abort();
	}
	return 0;
}
