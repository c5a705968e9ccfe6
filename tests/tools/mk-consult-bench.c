/* SPDX-License-Identifier: ISC */
/*
 * The consult path on its own: how many route questions per second a
 * route-d answers, and the CPU each costs, for several batch sizes; and
 * what a cached answer costs proxy-d (a lookup in its answer cache).
 *
 *   mk-consult-bench -s URL [-P route-d-pid] [-d seconds] [-w inflight]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "msg.h"
#include "strmap.h"
#include "util.h"

static uint64_t
proc_cpu_ns(int pid)
{
	char		 path[64], buf[256];
	FILE		*f;
	uint64_t	 total = 0;
	char		 cmd[128];

	/* sum over threads: /proc/PID/task/ * /schedstat, first field */
	snprintf(cmd, sizeof(cmd), "cat /proc/%d/task/*/schedstat 2>/dev/null",
	    pid);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL)
		total += strtoull(buf, NULL, 10);
	pclose(f);
	(void)path;
	return total;
}

static uint64_t
self_cpu_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct worker {
	nng_socket	 sock;
	const char	*body;
	size_t		 len;
	uint64_t	 until_us;
	uint64_t	 messages;
	int		 errors;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	nng_ctx		 ctx;
	nng_aio		*aio;
	nng_msg		*m;

	if (nng_ctx_open(&ctx, w->sock) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0) {
		w->errors++;
		return NULL;
	}
	nng_aio_set_timeout(aio, 2000);
	while (util_now_us() < w->until_us) {
		nng_msg_alloc(&m, 0);
		nng_msg_append(m, w->body, w->len);
		nng_aio_set_msg(aio, m);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			nng_msg_free(m);
			w->errors++;
			break;
		}
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			w->errors++;
			break;
		}
		nng_msg_free(nng_aio_get_msg(aio));
		w->messages++;
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return NULL;
}

int
main(int argc, char *argv[])
{
	const char		*url = NULL, *host = "backend.bench";
	int			 ch, pid = 0, inflight = 4;
	double			 seconds = 1;
	int			 batches[] = { 1, 8, 32, 128 };
	size_t			 b;
	nng_socket		 sock;

	while ((ch = getopt(argc, argv, "d:H:P:s:w:")) != -1) {
		switch (ch) {
		case 'd':
			seconds = atof(optarg);
			break;
		case 'H':
			host = optarg;
			break;
		case 'P':
			pid = atoi(optarg);
			break;
		case 's':
			url = optarg;
			break;
		case 'w':
			inflight = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: mk-consult-bench -s url "
			    "[-d seconds] [-H host] [-P pid] [-w inflight]\n");
			return 2;
		}
	}
	if (url == NULL || inflight < 1 || inflight > 64)
		return 2;
	if (nng_req0_open(&sock) != 0 || nng_dial(sock, url, NULL, 0) != 0) {
		fprintf(stderr, "consult: cannot reach %s\n", url);
		return 1;
	}
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);

	for (b = 0; b < nitems(batches); b++) {
		struct msg_writer	 mw;
		struct worker		 w[64];
		pthread_t		 th[64];
		uint64_t		 t0, t1, c0, c1, r0 = 0, r1 = 0, msgs = 0;
		int			 i, errors = 0;
		double			 q;

		msgw_init(&mw);
		msgw_begin(&mw, "route");
		msgw_field(&mw, "workload", STR_LIT("bench"));
		for (i = 0; i < batches[b]; i++) {
			msgw_record(&mw);
			msgw_field_u64(&mw, "id", (uint64_t)i);
			msgw_field(&mw, "authority", (struct str){ host,
			    strlen(host) });
			msgw_field(&mw, "method", STR_LIT("GET"));
			msgw_field(&mw, "path", STR_LIT("/"));
		}
		t0 = util_now_us();
		c0 = self_cpu_ns();
		if (pid > 0)
			r0 = proc_cpu_ns(pid);
		for (i = 0; i < inflight; i++) {
			w[i] = (struct worker){ sock, mw.buf, mw.len,
			    t0 + (uint64_t)(seconds * 1e6), 0, 0 };
			pthread_create(&th[i], NULL, worker_run, &w[i]);
		}
		for (i = 0; i < inflight; i++) {
			pthread_join(th[i], NULL);
			msgs += w[i].messages;
			errors += w[i].errors;
		}
		t1 = util_now_us();
		c1 = self_cpu_ns();
		if (pid > 0)
			r1 = proc_cpu_ns(pid);
		q = (double)msgs * batches[b];
		printf("consult: uncached batch=%d inflight=%d consults_per_s=%.0f "
		    "cpu_us_per_consult=%.2f client_us=%.2f route_d_us=%.2f "
		    "errors=%d\n", batches[b], inflight,
		    q / ((double)(t1 - t0) / 1e6),
		    q > 0 ? ((double)(c1 - c0) + (double)(r1 - r0)) / 1e3 / q : 0,
		    q > 0 ? (double)(c1 - c0) / 1e3 / q : 0,
		    q > 0 ? (double)(r1 - r0) / 1e3 / q : 0, errors);
		msgw_fini(&mw);
	}
	nng_close(sock);

	/* cached: what proxy-d does per request when it has the answer */
	{
		struct strmap	 m;
		char		 key[64];
		int		 i, n = 1000;
		uint64_t	 c0, c1, lookups = 5000000, hits = 0;
		void		*v;

		strmap_init(&m);
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "o|service-%d.bench:80", i);
			strmap_put(&m, key, strlen(key), &m);
		}
		c0 = self_cpu_ns();
		for (uint64_t j = 0; j < lookups; j++) {
			int k = (int)(j % (uint64_t)n);
			int len = snprintf(key, sizeof(key),
			    "o|service-%d.bench:80", k);

			v = strmap_get(&m, key, (size_t)len);
			hits += v != NULL;
		}
		c1 = self_cpu_ns();
		printf("consult: cached consults_per_s=%.0f cpu_us_per_consult=%.3f "
		    "hits=%llu\n", (double)lookups / ((double)(c1 - c0) / 1e9),
		    (double)(c1 - c0) / 1e3 / (double)lookups,
		    (unsigned long long)hits);
		strmap_fini(&m);
	}
	return 0;
}
