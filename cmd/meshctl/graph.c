/* SPDX-License-Identifier: ISC */
/*
 * meshctl graph and meshctl top: stats-d's service graph (meshkit-ipc(7)
 * stats-graph) drawn as Graphviz DOT, and a live table of rate, success
 * and latency per service, as linkerd viz stat shows it.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"
#include "meshctl.h"
#include "msg.h"
#include "sbuf.h"
#include "util.h"

static int	 graph_ask(const char *, uint64_t, struct graph_snapshot *);
static int	 graph_window(const char *, uint64_t *);

static int
graph_window(const char *arg, uint64_t *ms)
{
	char		*end;
	unsigned long	 s = strtoul(arg, &end, 10);

	if (*arg < '0' || *arg > '9' || *end != '\0' || s < 1 ||
	    s > GRAPH_SLOTS) {
		fprintf(stderr, "meshctl: the window is 1..%d seconds, not "
		    "\"%s\"\n", GRAPH_SLOTS, arg);
		return -1;
	}
	*ms = s * 1000;
	return 0;
}

/* One stats-graph question; 0, or -1 said on stderr. */
static int
graph_ask(const char *url, uint64_t window_ms, struct graph_snapshot *snap)
{
	struct msg_writer	 w;
	struct msg		 m;
	char			*reply = NULL, err[256];
	size_t			 len = 0;
	int			 rc = -1;

	msgw_init(&w);
	msgw_begin(&w, "stats-graph");
	msgw_field_u64(&w, "window-ms", window_ms);
	msg_init(&m);
	if (meshctl_ask(url, w.buf, w.len, &reply, &len, err,
	    sizeof(err)) == -1)
		fprintf(stderr, "meshctl: stats-d at %s: %s\n", url, err);
	else if (msg_parse(&m, reply, len, err, sizeof(err)) == -1)
		fprintf(stderr, "meshctl: stats-d: bad reply: %s\n", err);
	else if (msg_type_is(&m, "error")) {
		struct str r = msg_get(&m, &m.header, "reason");

		fprintf(stderr, "meshctl: stats-d refused: %.*s\n", (int)r.n,
		    r.p != NULL ? r.p : "");
	} else if (graph_snapshot_read_msg(&m, snap, err, sizeof(err)) == -1)
		fprintf(stderr, "meshctl: stats-d: %s\n", err);
	else
		rc = 0;
	msg_fini(&m);
	msgw_fini(&w);
	free(reply);
	return rc;
}

int
meshctl_graph(struct meshctl *ctx, int argc, char **argv)
{
	struct graph_snapshot	 snap;
	struct sbuf		 b;
	char			*url = NULL;
	uint64_t		 window = GRAPH_DEFAULT_WINDOW_MS;
	int			 ch, rc;

	while ((ch = getopt(argc, argv, "c:ho:s:w:")) != -1) {
		if (ch == 'h') {
			printf("usage: meshctl graph [-s url] [-w seconds] "
			    "[-o text|json]\n");
			return MESHCTL_EXIT_OK;
		}
		if (ch == 's') {
			free(url);
			url = xstrdup(optarg);
			continue;
		}
		if (ch == 'w') {
			if (graph_window(optarg, &window) == -1) {
				free(url);
				return MESHCTL_EXIT_USAGE;
			}
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(url);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("graph");
		}
	}
	if (optind != argc) {
		free(url);
		return meshctl_usage("graph");
	}
	if (url == NULL)
		url = meshctl_daemon_address(ctx, "stats.sock");
	rc = graph_ask(url, window, &snap);
	free(url);
	if (rc == -1)
		return MESHCTL_EXIT_FAIL;
	sbuf_init(&b, 0);
	if (ctx->output == OUTPUT_JSON) {
		graph_snapshot_write_json(&snap, &b);
		sbuf_addc(&b, '\n');
	} else
		graph_snapshot_write_dot(&snap, &b);
	fwrite(b.buf, 1, b.len, stdout);
	sbuf_fini(&b);
	graph_snapshot_fini(&snap);
	return fflush(stdout) == EOF ? MESHCTL_EXIT_FAIL : MESHCTL_EXIT_OK;
}

int
meshctl_top(struct meshctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	struct graph_snapshot	 snap;
	struct sbuf		 b;
	struct timespec		 ts;
	char			*url = NULL, *end;
	uint64_t		 window = GRAPH_DEFAULT_WINDOW_MS;
	unsigned long		 count = 0, interval = 2, i;
	int			 ch, rc, tty = isatty(STDOUT_FILENO);

	while ((ch = getopt_long(argc, argv, "1c:d:hn:o:s:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: meshctl top [-s url] [-w seconds] "
			    "[-d seconds] [-n count] [--once]\n");
			free(url);
			return MESHCTL_EXIT_OK;
		case 's':
			free(url);
			url = xstrdup(optarg);
			continue;
		case 'w':
			if (graph_window(optarg, &window) == -1) {
				free(url);
				return MESHCTL_EXIT_USAGE;
			}
			continue;
		case '1':
			count = 1;
			continue;
		case 'n':
		case 'd':
			i = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    i < 1 || i > 86400) {
				fprintf(stderr, "meshctl: -%c wants 1..86400, "
				    "not \"%s\"\n", ch, optarg);
				free(url);
				return MESHCTL_EXIT_USAGE;
			}
			if (ch == 'n')
				count = i;
			else
				interval = i;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1) {
			free(url);
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("top");
		}
	}
	if (optind != argc) {
		free(url);
		return meshctl_usage("top");
	}
	if (url == NULL)
		url = meshctl_daemon_address(ctx, "stats.sock");
	sbuf_init(&b, 0);
	rc = MESHCTL_EXIT_OK;
	for (i = 0; count == 0 || i < count; i++) {
		if (i > 0) {
			ts.tv_sec = (time_t)interval;
			ts.tv_nsec = 0;
			nanosleep(&ts, NULL);
		}
		if (graph_ask(url, window, &snap) == -1) {
			rc = MESHCTL_EXIT_FAIL;
			if (count == 1)
				break;
			continue;
		}
		sbuf_reset(&b);
		if (ctx->output == OUTPUT_JSON) {
			graph_snapshot_write_json(&snap, &b);
			sbuf_addc(&b, '\n');
		} else {
			/* live on a terminal: the table in place */
			if (tty && count != 1)
				sbuf_adds(&b, "\033[H\033[2J");
			else if (i > 0)
				sbuf_addc(&b, '\n');
			graph_snapshot_write_table(&snap, &b);
			if (snap.nservices == 0)
				sbuf_printf(&b, "(no requests in the last "
				    "%llu s)\n", (unsigned long long)(window /
				    1000));
		}
		fwrite(b.buf, 1, b.len, stdout);
		fflush(stdout);
		graph_snapshot_fini(&snap);
		rc = MESHCTL_EXIT_OK;
	}
	sbuf_fini(&b);
	free(url);
	return rc;
}
