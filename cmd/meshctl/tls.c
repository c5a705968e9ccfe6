/* SPDX-License-Identifier: ISC */
/*
 * meshctl tls: the mesh's certificates, from tls-d (meshkit-ipc(7)).
 *
 *	meshctl tls cert WORKLOAD [-n namespace] [-s url] [-o text|json]
 *	meshctl tls bundle [-s url]
 *	meshctl tls rotate-root [-s url]
 *
 * Which certificate a workload has: tls-d keeps the last one it issued
 * to each workload, with the time it told the proxy to renew, so that
 * the answer does not need proxy-d to be reachable; proxy-d takes every
 * certificate tls-d issues it, so the last issued is the one in use.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "config.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"

static char	*tls_address(struct meshctl *, const char *);
static char	*tls_flags(struct meshctl *, int, char **);
static void	 tls_time(char *, size_t, int64_t);
static void	 tls_span(char *, size_t, int64_t);
static void	 tls_name(char *, size_t, const X509_NAME *);
static int	 tls_cert(struct meshctl *, int, char **);
static int	 tls_bundle(struct meshctl *, int, char **);
static int	 tls_rotate(struct meshctl *, int, char **);

/* -s, else the socket of the mesh meshctl found (mesh.c) */
static char *
tls_address(struct meshctl *ctx, const char *url)
{
	if (url != NULL)
		return xstrdup(url);
	return meshctl_daemon_address(ctx, "tls.sock");
}

/* bundle's and rotate-root's flags: the address, NULL for usage */
static char *
tls_flags(struct meshctl *ctx, int argc, char **argv)
{
	const char	*url = NULL;
	int		 ch;

	optind = 0;
	while ((ch = getopt(argc, argv, "c:ho:r:s:")) != -1) {
		if (ch == 's')
			url = optarg;
		else if (ch == 'h' || meshctl_common_flag(ctx, ch, optarg) !=
		    1)
			return NULL;
	}
	if (optind != argc)
		return NULL;
	return tls_address(ctx, url);
}

static void
tls_time(char *buf, size_t len, int64_t t)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* 1d 2h 3m, or 45s */
static void
tls_span(char *buf, size_t len, int64_t s)
{
	int64_t	 a = s < 0 ? -s : s;

	if (a >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(a / 86400),
		    (long long)(a % 86400 / 3600));
	else if (a >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(a / 3600),
		    (long long)(a % 3600 / 60));
	else if (a >= 60)
		snprintf(buf, len, "%lldm %llds", (long long)(a / 60),
		    (long long)(a % 60));
	else
		snprintf(buf, len, "%llds", (long long)a);
}

static void
tls_name(char *buf, size_t len, const X509_NAME *name)
{
	BIO	*bio;
	char	*p;
	long	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0) {
		snprintf(buf, len, "%.*s", (int)n, p);
	}
	BIO_free(bio);
	ERR_clear_error();
}

static int
tls_cert(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg_errors	 errs;
	struct config		*cfg = NULL;
	const struct proxy_config *pc = NULL;
	struct msg_writer	 w;
	struct msg		 m;
	struct ca_answer	 a;
	const char		*url = NULL, *ns = NULL, *workload;
	char			*addr, *reply = NULL, err[256];
	char			 subject[512], issuer[512], serial[80];
	char			 nb[32], na[32], ra[32], ia[32], left[32];
	char			 wl[256], wns[256];
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;
	int			 ch, rc = MESHCTL_EXIT_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:hn:o:r:s:", longopts, NULL)) !=
	    -1) {
		if (ch == 'n')
			ns = optarg;
		else if (ch == 's')
			url = optarg;
		else if (ch == 'h' || meshctl_common_flag(ctx, ch, optarg) !=
		    1)
			return meshctl_usage("tls");
	}
	if (optind + 1 != argc)
		return meshctl_usage("tls");
	workload = argv[optind];
	/* a Proxy's name also finds its workload */
	memset(&errs, 0, sizeof(errs));
	if (access(meshctl_config_dir(ctx), F_OK) == 0 &&
	    (cfg = config_load_dir(meshctl_config_dir(ctx), &errs)) != NULL)
		for (i = 0; i < cfg->nproxies; i++)
			if (strcmp(cfg->proxies[i].workload_name, workload) ==
			    0 || strcmp(cfg->proxies[i].meta.name,
			    workload) == 0) {
				pc = &cfg->proxies[i];
				if (strcmp(pc->workload_name, workload) == 0)
					break;
			}
	cfg_errors_fini(&errs);
	msgw_init(&w);
	msgw_begin(&w, "cert-info");
	msgw_fieldf(&w, "workload", "%s", pc != NULL ? pc->workload_name :
	    workload);
	if (ns != NULL || pc != NULL)
		msgw_fieldf(&w, "namespace", "%s", ns != NULL ? ns :
		    pc->workload_namespace);
	if (pc != NULL)
		msgw_fieldf(&w, "proxy", "%s", pc->meta.name);
	config_free(cfg);
	msg_init(&m);
	ca_answer_init(&a);
	addr = tls_address(ctx, url);
	if (meshctl_question_ask("tls-d", addr, &w, "cert-info-reply", &m,
	    &reply) == -1)
		goto done;
	if (ca_answer_read(&m, &m.records[0], &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "meshctl: tls-d at %s: bad reply: %s\n", addr,
		    err);
		goto done;
	}
	if (a.status != CA_STATUS_OK) {
		fprintf(stderr, "meshctl: %s\n", a.reason[0] != '\0' ?
		    a.reason : "no certificate");
		goto done;
	}
	snprintf(wl, sizeof(wl), "%.*s", (int)msg_get(&m, &m.records[0],
	    "workload").n, msg_get(&m, &m.records[0], "workload").p);
	snprintf(wns, sizeof(wns), "%.*s", (int)msg_get(&m, &m.records[0],
	    "namespace").n, msg_get(&m, &m.records[0], "namespace").p);
	tls_name(subject, sizeof(subject), X509_get_subject_name(a.cert));
	tls_name(issuer, sizeof(issuer), X509_get_issuer_name(a.cert));
	ca_serial_hex(a.cert, serial, sizeof(serial));
	tls_time(nb, sizeof(nb), a.not_before);
	tls_time(na, sizeof(na), a.not_after);
	tls_time(ra, sizeof(ra), a.renew_at);
	tls_time(ia, sizeof(ia), a.issued_at);
	if (ctx->output == OUTPUT_JSON) {
		printf("{\"workload\": ");
		meshctl_json_string(stdout, wl);
		printf(", \"spiffe_id\": ");
		meshctl_json_string(stdout, a.spiffe_id);
		printf(", \"subject\": ");
		meshctl_json_string(stdout, subject);
		printf(", \"issuer\": ");
		meshctl_json_string(stdout, issuer);
		printf(", \"serial\": \"%s\", \"not_before\": \"%s\", "
		    "\"not_after\": \"%s\", \"renew_at\": \"%s\", "
		    "\"issued_at\": \"%s\", \"seconds_to_renewal\": %lld, "
		    "\"expired\": %s, \"pem\": ", serial, nb, na, ra, ia,
		    (long long)(a.renew_at - now),
		    now >= a.not_after ? "true" : "false");
	} else {
		printf("workload:    %s (namespace %s)\n", wl, wns);
		printf("SPIFFE ID:   %s\n", a.spiffe_id);
		printf("subject:     %s\n", subject[0] != '\0' ? subject :
		    "(empty: the identity is the SPIFFE ID)");
		printf("issuer:      %s\n", issuer);
		printf("serial:      %s\n", serial);
		tls_span(left, sizeof(left), a.not_after - now);
		printf("valid:       %s to %s (%s %s)\n", nb, na, left,
		    now < a.not_after ? "left" : "ago: EXPIRED");
		tls_span(left, sizeof(left), a.renew_at - now);
		printf("renewal:     %s (%s %s)\n", ra,
		    now < a.renew_at ? "in" : "due since", left);
		printf("issued:      %s\n", ia);
	}
	{
		BIO	*bio = BIO_new(BIO_s_mem());
		char	*pem;
		long	 n;

		if (bio != NULL && PEM_write_bio_X509(bio, a.cert) == 1 &&
		    (n = BIO_get_mem_data(bio, &pem)) > 0) {
			char *s = xstrndup(pem, (size_t)n);

			if (ctx->output == OUTPUT_JSON) {
				meshctl_json_string(stdout, s);
				printf("}\n");
			} else
				fputs(s, stdout);
			free(s);
		}
		BIO_free(bio);
	}
	rc = MESHCTL_EXIT_OK;
done:
	ca_answer_fini(&a);
	msg_fini(&m);
	msgw_fini(&w);
	free(reply);
	free(addr);
	return rc;
}

/* The trust bundle, PEM: for openssl verify -CAfile. */
static int
tls_bundle(struct meshctl *ctx, int argc, char **argv)
{
	struct msg_writer	 w;
	struct msg		 m;
	struct ca_answer	 a;
	char			*addr, *reply = NULL, rerr[256];
	size_t			 i;
	int			 rc = MESHCTL_EXIT_FAIL;

	if ((addr = tls_flags(ctx, argc, argv)) == NULL)
		return meshctl_usage("tls");
	msgw_init(&w);
	msgw_begin(&w, "bundle");
	msg_init(&m);
	ca_answer_init(&a);
	if (meshctl_request("tls-d", addr, &w, "bundle-reply", &m,
	    &reply) == -1)
		goto done;
	if (ca_bundle_read(&m, &a, rerr, sizeof(rerr)) == -1) {
		fprintf(stderr, "meshctl: tls-d at %s: bad reply: %s\n", addr,
		    rerr);
		goto done;
	}
	fprintf(stderr, "bundle generation %llu, trust domain %s, %zu "
	    "root%s\n", (unsigned long long)a.bundle_generation,
	    a.trust_domain, a.nroots, a.nroots == 1 ? "" : "s");
	for (i = 0; i < a.nroots; i++)
		PEM_write_X509(stdout, a.roots[i]);
	rc = MESHCTL_EXIT_OK;
done:
	ca_answer_fini(&a);
	msg_fini(&m);
	msgw_fini(&w);
	free(reply);
	free(addr);
	return rc;
}

static int
tls_rotate(struct meshctl *ctx, int argc, char **argv)
{
	struct msg_writer	 w;
	struct msg		 m;
	struct str		 status, reason;
	char			*addr, *reply = NULL;
	uint64_t		 root = 0, bundle = 0;
	int			 rc = MESHCTL_EXIT_FAIL;

	if ((addr = tls_flags(ctx, argc, argv)) == NULL)
		return meshctl_usage("tls");
	msgw_init(&w);
	msgw_begin(&w, "rotate-root");
	msg_init(&m);
	if (meshctl_request("tls-d", addr, &w, "rotate-root-reply", &m,
	    &reply) == -1)
		goto done;
	status = msg_get(&m, &m.header, "status");
	reason = msg_get(&m, &m.header, "reason");
	msg_get_u64(&m, &m.header, "root-generation", &root);
	msg_get_u64(&m, &m.header, "bundle-generation", &bundle);
	if (!util_str_eq(status, "ok")) {
		fprintf(stderr, "meshctl: tls-d refused: %.*s\n",
		    (int)reason.n, reason.p != NULL ? reason.p : "");
		goto done;
	}
	printf("root generation %llu signs from now on; bundle generation "
	    "%llu holds the old root until its certificates expire\n",
	    (unsigned long long)root, (unsigned long long)bundle);
	rc = MESHCTL_EXIT_OK;
done:
	msg_fini(&m);
	msgw_fini(&w);
	free(reply);
	free(addr);
	return rc;
}

int
meshctl_tls(struct meshctl *ctx, int argc, char **argv)
{
	if (argc < 2)
		return meshctl_usage("tls");
	if (strcmp(argv[1], "cert") == 0)
		return tls_cert(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "bundle") == 0)
		return tls_bundle(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "rotate-root") == 0)
		return tls_rotate(ctx, argc - 1, argv + 1);
	return meshctl_usage("tls");
}
