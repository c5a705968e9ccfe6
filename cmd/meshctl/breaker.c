/* SPDX-License-Identifier: ISC */
/*
 * meshctl breaker [-s url] [-o text|json]: breaker-d's view of every
 * endpoint it tracks (meshkit-ipc(7) breaker-state): its state, its
 * consecutive errors, its ejections and the time left of an ejection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meshctl.h"
#include "msg.h"
#include "util.h"

static void	 breaker_copy_str(char *, size_t, struct str);
static void	 breaker_print_text(const struct msg *);
static void	 breaker_print_json(const struct msg *, uint64_t);

char *
meshctl_breaker_address(struct meshctl *ctx)
{
	return meshctl_daemon_address(ctx, "breaker.sock");
}

static void
breaker_copy_str(char *dst, size_t len, struct str s)
{
	size_t	 n = s.p == NULL ? 0 : s.n < len - 1 ? s.n : len - 1;

	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void
breaker_print_text(const struct msg *m)
{
	char		 service[256], subset[64], endpoint[64], state[16];
	uint64_t	 port, c5, cg, ej, left;
	size_t		 i;

	if (m->nrecords == 0) {
		printf("no endpoints tracked yet\n");
		return;
	}
	printf("%-34s %-12s %5s %-22s %-9s %4s %4s %5s %9s\n", "SERVICE",
	    "SUBSET", "PORT", "ENDPOINT", "STATE", "5XX", "GW", "EJECT",
	    "LEFT");
	for (i = 0; i < m->nrecords; i++) {
		const struct msg_block *b = &m->records[i];

		breaker_copy_str(service, sizeof(service),
		    msg_get(m, b, "service"));
		breaker_copy_str(subset, sizeof(subset),
		    msg_get(m, b, "subset"));
		breaker_copy_str(endpoint, sizeof(endpoint),
		    msg_get(m, b, "endpoint"));
		breaker_copy_str(state, sizeof(state), msg_get(m, b, "state"));
		port = c5 = cg = ej = left = 0;
		msg_get_u64(m, b, "port", &port);
		msg_get_u64(m, b, "consecutive-5xx", &c5);
		msg_get_u64(m, b, "consecutive-gateway", &cg);
		msg_get_u64(m, b, "ejections", &ej);
		msg_get_u64(m, b, "ms-left", &left);
		printf("%-34s %-12s %5llu %-22s %-9s %4llu %4llu %5llu ",
		    service, subset[0] != '\0' ? subset : "-",
		    (unsigned long long)port, endpoint, state,
		    (unsigned long long)c5, (unsigned long long)cg,
		    (unsigned long long)ej);
		if (left > 0)
			printf("%8.1fs\n", (double)left / 1000.0);
		else
			printf("%9s\n", "-");
	}
}

static void
breaker_print_json(const struct msg *m, uint64_t generation)
{
	static const char *const strs[] = { "service", "subset", "endpoint",
	    "state" };
	static const char *const nums[] = { "port", "consecutive-5xx",
	    "consecutive-gateway", "ejections", "ms-left" };
	char		 buf[256];
	uint64_t	 v;
	size_t		 i, k;

	printf("{\"generation\": %llu, \"endpoints\": [",
	    (unsigned long long)generation);
	for (i = 0; i < m->nrecords; i++) {
		const struct msg_block *b = &m->records[i];

		printf("%s\n  {", i == 0 ? "" : ",");
		for (k = 0; k < nitems(strs); k++) {
			breaker_copy_str(buf, sizeof(buf), msg_get(m, b,
			    strs[k]));
			printf("%s\"%s\": ", k == 0 ? "" : ", ", strs[k]);
			meshctl_json_string(stdout, buf);
		}
		for (k = 0; k < nitems(nums); k++) {
			v = 0;
			msg_get_u64(m, b, nums[k], &v);
			printf(", \"%s\": %llu", nums[k],
			    (unsigned long long)v);
		}
		printf("}");
	}
	printf("\n]}\n");
}

int
meshctl_breaker(struct meshctl *ctx, int argc, char **argv)
{
	struct msg_writer	 w;
	struct msg		 m;
	char			*url = NULL, *reply = NULL, err[256];
	size_t			 len = 0;
	uint64_t		 generation = 0;
	int			 ch, rc;

	while ((ch = getopt(argc, argv, "c:ho:r:s:")) != -1) {
		if (ch == 'h') {
			printf("usage: meshctl breaker [-o text|json] "
			    "[-s url]\n");
			free(url);
			return MESHCTL_EXIT_OK;
		}
		if (ch == 's') {
			free(url);
			url = xstrdup(optarg);
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(url);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("breaker");
		}
	}
	if (optind != argc) {
		free(url);
		return meshctl_usage("breaker");
	}
	if (url == NULL)
		url = meshctl_breaker_address(ctx);
	msgw_init(&w);
	msgw_begin(&w, "breaker-state");
	rc = meshctl_ask(url, w.buf, w.len, &reply, &len, err, sizeof(err));
	msgw_fini(&w);
	if (rc == -1) {
		fprintf(stderr, "meshctl: breaker-d at %s: %s\n", url, err);
		free(url);
		return MESHCTL_EXIT_FAIL;
	}
	msg_init(&m);
	rc = MESHCTL_EXIT_OK;
	if (msg_parse(&m, reply, len, err, sizeof(err)) == -1) {
		fprintf(stderr, "meshctl: breaker-d at %s: bad reply: %s\n",
		    url, err);
		rc = MESHCTL_EXIT_FAIL;
	} else if (!msg_type_is(&m, "breaker-state-reply")) {
		breaker_copy_str(err, sizeof(err), msg_get(&m, &m.header,
		    "reason"));
		fprintf(stderr, "meshctl: breaker-d at %s: refused: %s\n",
		    url, err[0] != '\0' ? err : "unexpected reply");
		rc = MESHCTL_EXIT_FAIL;
	} else {
		msg_get_u64(&m, &m.header, "generation", &generation);
		if (ctx->output == OUTPUT_JSON)
			breaker_print_json(&m, generation);
		else
			breaker_print_text(&m);
	}
	msg_fini(&m);
	free(reply);
	free(url);
	return rc;
}
