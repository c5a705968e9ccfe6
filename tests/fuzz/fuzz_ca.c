/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for tls-d's readers: the input as one request (csr,
 * bundle, cert-info, rotate-root, status) answered by a CA in a
 * temporary state directory, as a csr-reply or bundle-event as proxy-d
 * and meshctl read them, and as base64.  Besides "no crash, no leak",
 * every reply must be a message the readers take back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "config.h"
#include "msg.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_yaml[] =
    "apiVersion: meshkit.io/v1alpha1\n"
    "kind: Proxy\n"
    "metadata: {name: book}\n"
    "spec:\n"
    "  workload: {name: book, serviceAccount: bookinfo-book}\n"
    "---\n"
    "apiVersion: meshkit.io/v1alpha1\n"
    "kind: Proxy\n"
    "metadata: {name: rating}\n"
    "spec:\n"
    "  workload: {name: rating, uid: 1000}\n";

static struct config		*cfg;
static struct ca		*ca;
static struct msg_writer	 out;
static struct msg		 check;
static struct ca_answer		 answer;
static char			 dir[] = "/tmp/meshkit-fuzz-ca.XXXXXX";

static void
fuzz_cleanup(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return;
}

static void
fuzz_check_reply(void)
{
	char	 err[200];
	size_t	 i;

	if (msg_parse(&check, out.buf, out.len, err, sizeof(err)) == -1)
		abort();	/* we wrote what we cannot read */
	if (msg_type_is(&check, "csr-reply") ||
	    msg_type_is(&check, "cert-info-reply"))
		for (i = 0; i < check.nrecords; i++)
			if (ca_answer_read(&check, &check.records[i], &answer,
			    err, sizeof(err)) == -1)
				abort();
	if (msg_type_is(&check, "bundle-reply") &&
	    ca_bundle_read(&check, &answer, err, sizeof(err)) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct ca_stats		 st = { 0 };
	struct ca_env		 env;
	unsigned char		 bin[256];
	const char		*buf = (const char *)data;
	char			 err[256];
	size_t			 i;

	if (cfg == NULL) {
		cfg = config_load_buffer("fuzz.yaml", fuzz_yaml,
		    sizeof(fuzz_yaml) - 1, &errs);
		cfg_errors_fini(&errs);
		if (cfg == NULL || mkdtemp(dir) == NULL)
			abort();
		atexit(fuzz_cleanup);
		ca = ca_open(dir, NULL, "cluster.local", 1800000000, 3600, 0,
		    err, sizeof(err));
		if (ca == NULL)
			abort();
		/* a state directory nothing more is written to */
		ca->readonly = 1;
		msgw_init(&out);
		msg_init(&check);
		ca_answer_init(&answer);
	}
	memset(&env, 0, sizeof(env));
	env.config = cfg;
	env.generation = 1;
	env.now = 1800000000;
	env.trust_domain = "cluster.local";
	env.lifetime_s = 3600;
	env.peer.known = size > 0 && (data[0] & 1);
	env.peer.uid = 1000;
	env.own_uid = 0;
	env.jitter = size;

	ca_handle_message(ca, &env, &st, buf, size, &out, err, sizeof(err));
	fuzz_check_reply();
	/* the input as an answer or a bundle, as proxy-d reads them */
	if (msg_parse(&check, buf, size, err, sizeof(err)) == 0) {
		for (i = 0; i < check.nrecords; i++)
			ca_answer_read(&check, &check.records[i], &answer, err,
			    sizeof(err));
		ca_bundle_read(&check, &answer, err, sizeof(err));
	}
	ca_base64_decode(buf, size, bin, sizeof(bin));
	ca_answer_fini(&answer);
	return 0;
}
