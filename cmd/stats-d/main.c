/* SPDX-License-Identifier: ISC */
/*
 * stats-d: what happened, from proxy-d's records (meshkit-ipc(7)
 * records): Istio's metrics for Prometheus, access logs, spans for
 * Zipkin and OTLP collectors, and the live service graph.
 *
 * Threads: the main thread is the daemon skeleton's (signals, reloads,
 * the config directory's watch); nng's threads take records from the
 * PULL socket and answer status and stats-graph on the REP socket; the
 * web thread (web.c) serves HTTP, asks the other daemons for their
 * status and exports spans.  One mutex guards lib/stats.c's state and
 * the config.  Access log lines are written by the records thread after
 * it lets go of the lock.
 */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>

#include "config.h"
#include "daemon.h"
#include "graph.h"
#include "log.h"
#include "msg.h"
#include "record.h"
#include "sbuf.h"
#include "stats.h"
#include "statsd.h"
#include "trace.h"
#include "util.h"

enum filter_output {
	OUT_METRICS,
	OUT_LOG,
	OUT_ZIPKIN,
	OUT_OTLP,
	OUT_GRAPH,
	OUT_DOT,
	OUT_JSON,
};

static const char *const statsd_kinds[] = { "MeshConfig", "Telemetry" };

static _Noreturn void usage(void);
static int	daemon_add(struct statsd *, const char *);
static void	daemons_default(struct statsd *);
static void	handle(struct daemon_worker *, const char *, size_t,
		    struct msg_writer *);
static void	pull_cb(void *);
static int	pull_open(struct statsd *);
static void	pull_close(struct statsd *);
static void	apply(struct daemon *, struct config *, uint64_t);
static void	reload_failed(struct daemon *);
static void	log_problem(struct statsd *);
static void	batch_policy(void);
static void	filter_one(void *, const char *, size_t, size_t,
		    struct msg_writer *);
static int	filter_run(struct statsd *, enum filter_output);
static void	filter_bad_records(struct statsd *, const char *, size_t,
		    size_t);

static enum filter_output	 filter_out = OUT_METRICS;

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: stats-d [-fnqv] [-c dir] [-d name=url] "
	    "[-H address] [-l file]\n\t[-o metrics|log|zipkin|otlp|graph|"
	    "dot|json] [-p pidfile] [-r url] [-s url] [-u user]\n");
	exit(2);
}

/* -d name=url: a daemon to publish the status of. */
static int
daemon_add(struct statsd *sd, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	size_t		 i;

	if (eq == NULL || eq == arg || eq[1] == '\0') {
		fprintf(stderr, "stats-d: -d %s: want name=url\n", arg);
		return -1;
	}
	for (i = 0; i < sd->ndaemons; i++)
		if (strncmp(sd->daemons[i].name, arg, (size_t)(eq - arg)) ==
		    0 && sd->daemons[i].name[eq - arg] == '\0') {
			free(sd->daemons[i].url);
			sd->daemons[i].url = xstrdup(eq + 1);
			return 0;
		}
	if (sd->ndaemons == STATSD_MAX_DAEMONS) {
		fprintf(stderr, "stats-d: at most %d -d\n", STATSD_MAX_DAEMONS);
		return -1;
	}
	sd->daemons[sd->ndaemons].name = xstrndup(arg, (size_t)(eq - arg));
	sd->daemons[sd->ndaemons].url = xstrdup(eq + 1);
	sd->daemons[sd->ndaemons].given = 1;
	sd->daemons[sd->ndaemons++].sd = sd;
	return 0;
}

/* Without -d: the daemons of the run directory, those that run. */
static void
daemons_default(struct statsd *sd)
{
	static const char *const names[][2] = {
		{ "route-d", "route.sock" }, { "breaker-d", "breaker.sock" },
		{ "authz-d", "authz.sock" }, { "tls-d", "tls.sock" },
	};
	size_t	 i;

	for (i = 0; i < nitems(names) && sd->ndaemons < STATSD_MAX_DAEMONS;
	    i++) {
		sd->daemons[sd->ndaemons].name = xstrdup(names[i][0]);
		xasprintf(&sd->daemons[sd->ndaemons].url, "ipc://%s/%s",
		    util_rundir(), names[i][1]);
		sd->daemons[sd->ndaemons++].sd = sd;
	}
}

/* On an nng thread: status or stats-graph. */
static void
handle(struct daemon_worker *w, const char *buf, size_t len,
    struct msg_writer *out)
{
	struct statsd	*sd = w->daemon->arg;

	pthread_mutex_lock(&sd->lock);
	if (stats_handle_request(sd->stats, sd->started_ms, buf, len,
	    util_now_ms(), out) == -1)
		daemon_log_bad_message(&sd->d, sd->stats->last_error);
	pthread_mutex_unlock(&sd->lock);
}

/* A batch of records: counted, never answered. */
static void
pull_cb(void *arg)
{
	struct statsd	*sd = arg;
	nng_msg		*m;
	int		 rv;

	if ((rv = nng_aio_result(sd->pull_aio)) != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		log_warnx("receive records: %s", nng_strerror(rv));
		nng_recv_aio(sd->pull, sd->pull_aio);
		return;
	}
	m = nng_aio_get_msg(sd->pull_aio);
	pthread_mutex_lock(&sd->lock);
	if (stats_handle(sd->stats, nng_msg_body(m), nng_msg_len(m),
	    util_now_ms()) == -1)
		daemon_log_bad_message(&sd->d, sd->stats->last_error);
	if (sd->stats->new_problem)
		log_problem(sd);
	logs_flush(sd->logs, sd->stats);
	pthread_mutex_unlock(&sd->lock);
	nng_msg_free(m);
	logs_write(sd->logs);
	nng_recv_aio(sd->pull, sd->pull_aio);
}

static void
log_problem(struct statsd *sd)
{
	sd->stats->new_problem = 0;
	log_warnx("%s", sd->stats->problem);
}

static int
pull_open(struct statsd *sd)
{
	int	 rv;

	if ((rv = nng_pull0_open(&sd->pull)) != 0) {
		log_warnx("nng socket: %s", nng_strerror(rv));
		return -1;
	}
	sd->pull_open = 1;
	if ((rv = nng_socket_set_size(sd->pull, NNG_OPT_RECVMAXSZ,
	    MSG_MAX_BYTES)) != 0) {
		log_warnx("nng socket options: %s", nng_strerror(rv));
		return -1;
	}
	if (daemon_listen(sd->pull, sd->records_url, &sd->records_path) == -1)
		return -1;
	if ((rv = nng_aio_alloc(&sd->pull_aio, pull_cb, sd)) != 0) {
		log_warnx("nng_aio_alloc: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
pull_close(struct statsd *sd)
{
	daemon_sock_close(sd->pull, &sd->pull_open, &sd->pull_aio);
	if (sd->records_path != NULL && unlink(sd->records_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", sd->records_path);
}

static void
reload_failed(struct daemon *d)
{
	struct statsd	*sd = d->arg;

	pthread_mutex_lock(&sd->lock);
	sd->stats->c.reload_failures++;
	pthread_mutex_unlock(&sd->lock);
	/* SIGHUP also means: log files were rotated */
	logs_reopen(sd->logs);
}

static void
apply(struct daemon *d, struct config *cfg, uint64_t fingerprint)
{
	struct statsd	*sd = d->arg;
	struct config	*old;

	pthread_mutex_lock(&sd->lock);
	old = daemon_swap(d, cfg, fingerprint);
	stats_set_config(sd->stats, cfg, d->generation);
	sd->stats->c.reloads++;
	pthread_mutex_unlock(&sd->lock);
	config_free(old);
	logs_reopen(sd->logs);
	web_reconfigure(sd);
	log_info("generation %llu: %zu Telemetry resources%s",
	    (unsigned long long)d->generation, cfg->ntelemetries,
	    cfg->mesh != NULL ? ", a MeshConfig" : "");
}

/*
 * -f: the records of the message just handled that were skipped as
 * malformed, each named by its place on stdin and its reason; the
 * others were counted and logged as usual.
 */
static void
filter_bad_records(struct statsd *sd, const char *buf, size_t len,
    size_t off)
{
	const struct msg	*m = &sd->stats->msg;
	struct record_batch	 b;
	struct record		 r;
	struct str		 first;
	char			 err[200];
	size_t			 i, at;

	if (record_batch_read(m, &b, err, sizeof(err)) == -1)
		return;		/* the message was refused, and said so */
	for (i = 0; i < m->nrecords; i++) {
		if (record_read(m, &m->records[i], &b, &r, err,
		    sizeof(err)) == 0)
			continue;
		at = off;
		if (m->records[i].count > 0) {
			first = m->fields[m->records[i].first].value;
			if (first.p >= buf && first.p <= buf + len)
				at = off + (size_t)(first.p - buf);
		}
		log_warnx("message at byte %zu: record %zu (near byte %zu) "
		    "skipped: %s", off, i + 1, at, err);
	}
}

/* -f: each message on stdin. */
static void
filter_one(void *arg, const char *buf, size_t len, size_t off,
    struct msg_writer *out)
{
	struct statsd		*sd = arg;
	struct stats_sink	*s;
	uint64_t		 bad = sd->stats->c.bad_records;
	size_t			 i;

	if (stats_handle(sd->stats, buf, len, util_now_ms()) == -1)
		log_warnx("message at byte %zu: %s", off, sd->stats->last_error);
	else if (sd->stats->c.bad_records != bad)
		filter_bad_records(sd, buf, len, off);
	if (sd->stats->new_problem)
		log_problem(sd);
	if (filter_out != OUT_LOG)
		return;
	for (i = 0; i < sd->stats->nsinks; i++) {
		s = sd->stats->sinks[i];
		if (s->pending.len > 0 && fwrite(s->pending.buf, 1,
		    s->pending.len, stdout) != s->pending.len)
			log_warn("stdout");
		sbuf_reset(&s->pending);
	}
	(void)out;
}

static int
filter_run(struct statsd *sd, enum filter_output o)
{
	struct graph_snapshot	 snap;
	struct msg_writer	 w;
	struct sbuf		 b;
	struct span		**spans;
	size_t			 i, n;
	int			 status;

	stats_set_fallback(sd->stats, o == OUT_LOG, o == OUT_ZIPKIN ?
	    PROVIDER_ZIPKIN : o == OUT_OTLP ? PROVIDER_OPENTELEMETRY : -1);
	filter_out = o;
	if ((status = daemon_filter(filter_one, sd)) != 0)
		return status;
	sbuf_init(&b, 0);
	switch (o) {
	case OUT_METRICS:
		stats_write_metrics(sd->stats, &b);
		break;
	case OUT_LOG:
		break;
	case OUT_ZIPKIN:
	case OUT_OTLP:
		for (i = 0; i < sd->stats->ncollectors; i++) {
			if ((int)sd->stats->collectors[i]->kind !=
			    (o == OUT_ZIPKIN ? PROVIDER_ZIPKIN :
			    PROVIDER_OPENTELEMETRY))
				continue;
			spans = stats_take_spans(sd->stats,
			    sd->stats->collectors[i], &n);
			if (o == OUT_ZIPKIN)
				trace_zipkin_write(&b, spans, n);
			else
				trace_otlp_write(&b, spans, n);
			sbuf_addc(&b, '\n');
			while (n > 0)
				trace_span_free(spans[--n]);
			free(spans);
		}
		break;
	case OUT_GRAPH:
	case OUT_DOT:
	case OUT_JSON:
		graph_snapshot_take(sd->stats->graph, util_now_ms(),
		    GRAPH_MAX_WINDOW_MS, o == OUT_JSON ? STATSD_HISTORY : 0,
		    &snap);
		snap.generation = sd->d.generation;
		if (o == OUT_GRAPH) {
			msgw_init(&w);
			graph_snapshot_write_msg(&snap, &w);
			sbuf_add(&b, w.buf, w.len);
			msgw_fini(&w);
		} else if (o == OUT_DOT)
			graph_snapshot_write_dot(&snap, &b);
		else {
			graph_snapshot_write_json(&snap, &b);
			sbuf_addc(&b, '\n');
		}
		graph_snapshot_fini(&snap);
		break;
	}
	if (b.len > 0 && fwrite(b.buf, 1, b.len, stdout) != b.len)
		status = 1;
	sbuf_fini(&b);
	if (fflush(stdout) == EOF)
		status = 1;
	return status;
}

/*
 * SCHED_BATCH (sched(7)) for this thread and every thread made after it
 * (nng's, the web thread): a batch of records that arrives does not
 * preempt the proxy-d that sent it, which STATSD_YIELD_EVERY alone left
 * to chance; the daemon keeps its full share of the CPU, as SCHED_IDLE
 * did not.  Under the bench's load (5 s runs), proxy-d dropped records
 * in 3 runs of 24 with the yield alone, and in 1 of 32 with SCHED_BATCH
 * too.
 */
static void
batch_policy(void)
{
	struct sched_param	 sp = { .sched_priority = 0 };

	if (sched_setscheduler(0, SCHED_BATCH, &sp) == -1)
		log_warn("sched_setscheduler SCHED_BATCH");
}

int
main(int argc, char *argv[])
{
	struct statsd		 sd;
	struct daemon_flags	 flags;
	enum filter_output	 o = OUT_METRICS;
	int			 ch, status = 0;
	size_t			 i;

	/*
	 * One arena: nng's threads must not each grow one (RSS).  A batch
	 * of records under 256 KiB (150 KiB for 256 plain requests) stays
	 * in it once freed, for the next one: mapped afresh each time, it
	 * cost about 37 page faults a batch and a munmap; now about 4.
	 * Larger blocks (span exports, big batches) are mapped and given
	 * back, and at most 512 KiB free at the heap's top is kept.  Peak
	 * RSS in the bench's observed row: 7.4 MB (7.2 MB before; 7.1 and
	 * 7.8 MB with every block kept in the heap).
	 */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 512 * 1024);
	memset(&sd, 0, sizeof(sd));
	memset(&flags, 0, sizeof(flags));
	daemon_init(&sd.d, "stats-d");
	sd.d.arg = &sd;
	sd.d.kinds = statsd_kinds;
	sd.d.nkinds = nitems(statsd_kinds);
	sd.d.handle = handle;
	sd.d.apply = apply;
	sd.d.reload_failed = reload_failed;
	while ((ch = getopt(argc, argv, "c:d:fH:l:no:p:qr:s:u:v")) != -1) {
		if (daemon_flag(&sd.d, &flags, ch, optarg))
			continue;
		switch (ch) {
		case 'd':
			if (daemon_add(&sd, optarg) == -1)
				exit(2);
			break;
		case 'H':
			free(sd.http_flag);
			sd.http_flag = xstrdup(optarg);
			break;
		case 'o':
			if (strcmp(optarg, "metrics") == 0)
				o = OUT_METRICS;
			else if (strcmp(optarg, "log") == 0)
				o = OUT_LOG;
			else if (strcmp(optarg, "zipkin") == 0)
				o = OUT_ZIPKIN;
			else if (strcmp(optarg, "otlp") == 0)
				o = OUT_OTLP;
			else if (strcmp(optarg, "graph") == 0)
				o = OUT_GRAPH;
			else if (strcmp(optarg, "dot") == 0)
				o = OUT_DOT;
			else if (strcmp(optarg, "json") == 0)
				o = OUT_JSON;
			else
				usage();
			break;
		case 'r':
			free(sd.records_url);
			sd.records_url = xstrdup(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (flags.check) {
		status = daemon_check_config(sd.d.confdir, flags.verbose > 0);
		goto out;
	}
	daemon_start(&sd.d, &flags);
	pthread_mutex_init(&sd.lock, NULL);
	sd.stats = stats_new();
	stats_set_config(sd.stats, sd.d.config, sd.d.generation);
	sd.logs = logs_new();
	sd.started_ms = util_now_ms();

	if (flags.filter) {
		status = filter_run(&sd, o);
		goto done;
	}
	sd.stats->yield_every = STATSD_YIELD_EVERY;
	batch_policy();
	if (sd.ndaemons == 0)
		daemons_default(&sd);
	if (sd.d.url == NULL)
		xasprintf(&sd.d.url, "ipc://%s/stats.sock", util_rundir());
	if (sd.records_url == NULL)
		xasprintf(&sd.records_url, "ipc://%s/stats-records.sock",
		    util_rundir());
	daemon_signals();
	if (daemon_open(&sd.d) == -1 || pull_open(&sd) == -1 ||
	    web_start(&sd) == -1 || daemon_write_pidfile(&sd.d) == -1 ||
	    daemon_drop(&sd.d) == -1) {
		daemon_close(&sd.d);
		web_stop(&sd);
		pull_close(&sd);
		status = 1;
		goto done;
	}
	log_info("listening on %s, records on %s, HTTP on %s; generation 1",
	    sd.d.url, sd.records_url, sd.http_address != NULL ?
	    sd.http_address : "none");
	nng_recv_aio(sd.pull, sd.pull_aio);
	daemon_serve(&sd.d);
	log_info("exiting");
	/*
	 * One socket closed at a time, all from this thread: the web
	 * thread is joined before the records socket is closed (nng 1.5
	 * has hung with two closes at once; daemon_serve armed a deadline).
	 */
	daemon_close(&sd.d);
	web_stop(&sd);
	pull_close(&sd);
	/* what the last batch left */
	pthread_mutex_lock(&sd.lock);
	logs_flush(sd.logs, sd.stats);
	pthread_mutex_unlock(&sd.lock);
	logs_write(sd.logs);

done:
	logs_free(sd.logs);
	stats_free(sd.stats);
	pthread_mutex_destroy(&sd.lock);
out:
	for (i = 0; i < sd.ndaemons; i++) {
		free(sd.daemons[i].name);
		free(sd.daemons[i].url);
		free(sd.daemons[i].reply);
	}
	free(sd.records_url);
	free(sd.records_path);
	free(sd.http_flag);
	free(sd.http_address);
	daemon_fini(&sd.d);
	return status;
}
