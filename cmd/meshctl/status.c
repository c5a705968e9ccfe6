/*
 * meshctl status [-s url] [-b url] [-a url] [-m url]: the meshkit-ipc(7)
 * "status" request to each daemon (route-d, breaker-d, authz-d, stats-d),
 * one at a time, each bounded by a one-second timeout so that a hung
 * daemon shows as down instead of hanging meshctl; then where meshctl
 * found the mesh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"

struct daemon_status {
	const char	*name;
	char		*address;
	int		 up;
	int		 required;	/* down makes the exit status 1 */
	char		 reason[256];
	uint64_t	 pid;
	uint64_t	 generation;
	uint64_t	 uptime_ms;
	char		 version[64];
	/* stats-d: what it counted, and what the proxies could not send */
	int		 has_records;
	uint64_t	 records;
	uint64_t	 proxies;
	uint64_t	 proxy_dropped;
};

static void	 status_ask(struct daemon_status *);
static void	 status_read_reply(struct daemon_status *, const char *,
		    size_t);
static void	 status_copy(char *, size_t, struct str);
static void	 status_text(const struct daemon_status *);
static void	 status_json(struct meshctl *, const struct daemon_status *,
		    size_t);

static void
status_copy(char *dst, size_t len, struct str s)
{
	size_t	 n = s.n < len - 1 ? s.n : len - 1;

	if (s.p == NULL)
		n = 0;
	else
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void
status_read_reply(struct daemon_status *d, const char *buf, size_t len)
{
	struct msg	 m;
	char		 err[128];

	msg_init(&m);
	if (msg_parse(&m, buf, len, err, sizeof(err)) == -1) {
		snprintf(d->reason, sizeof(d->reason), "bad reply: %s", err);
	} else if (msg_type_is(&m, "error")) {
		char reason[200];

		status_copy(reason, sizeof(reason), msg_get(&m, &m.header,
		    "reason"));
		snprintf(d->reason, sizeof(d->reason), "refused: %s", reason);
	} else if (!msg_type_is(&m, "status-reply")) {
		snprintf(d->reason, sizeof(d->reason), "unexpected reply");
	} else {
		d->up = 1;
		msg_get_u64(&m, &m.header, "pid", &d->pid);
		msg_get_u64(&m, &m.header, "generation", &d->generation);
		msg_get_u64(&m, &m.header, "uptime-ms", &d->uptime_ms);
		d->has_records = msg_get_u64(&m, &m.header, "records",
		    &d->records) == 0 && msg_get_u64(&m, &m.header,
		    "proxy-records-dropped", &d->proxy_dropped) == 0;
		msg_get_u64(&m, &m.header, "proxies", &d->proxies);
		status_copy(d->version, sizeof(d->version),
		    msg_get(&m, &m.header, "version"));
	}
	msg_fini(&m);
}

static void
status_ask(struct daemon_status *d)
{
	struct msg_writer	 w;
	char			*reply = NULL;
	size_t			 len = 0;

	msgw_init(&w);
	msgw_begin(&w, "status");
	if (meshctl_ask(d->address, w.buf, w.len, &reply, &len, d->reason,
	    sizeof(d->reason)) == 0) {
		status_read_reply(d, reply, len);
		free(reply);
	}
	msgw_fini(&w);
}

static void
status_text(const struct daemon_status *d)
{
	if (d->up && d->has_records)
		printf("%-9s up  generation %llu  pid %llu  records %llu  "
		    "proxies %llu  dropped by proxies %llu\n", d->name,
		    (unsigned long long)d->generation,
		    (unsigned long long)d->pid,
		    (unsigned long long)d->records,
		    (unsigned long long)d->proxies,
		    (unsigned long long)d->proxy_dropped);
	else if (d->up)
		printf("%-9s up  generation %llu  pid %llu\n", d->name,
		    (unsigned long long)d->generation,
		    (unsigned long long)d->pid);
	else
		printf("%-9s down (%s)\n", d->name, d->reason);
}

static void
status_json(struct meshctl *ctx, const struct daemon_status *v, size_t n)
{
	size_t	 i;

	printf("{\"daemons\": [");
	for (i = 0; i < n; i++) {
		printf("%s\n  {\"name\": ", i == 0 ? "" : ",");
		meshctl_json_string(stdout, v[i].name);
		printf(", \"address\": ");
		meshctl_json_string(stdout, v[i].address);
		if (v[i].up) {
			printf(", \"up\": true, \"generation\": %llu, "
			    "\"pid\": %llu, \"uptime_ms\": %llu, "
			    "\"version\": ",
			    (unsigned long long)v[i].generation,
			    (unsigned long long)v[i].pid,
			    (unsigned long long)v[i].uptime_ms);
			meshctl_json_string(stdout, v[i].version);
			if (v[i].has_records)
				printf(", \"records\": %llu, \"proxies\": %llu, "
				    "\"proxy_records_dropped\": %llu",
				    (unsigned long long)v[i].records,
				    (unsigned long long)v[i].proxies,
				    (unsigned long long)v[i].proxy_dropped);
		} else {
			printf(", \"up\": false, \"reason\": ");
			meshctl_json_string(stdout, v[i].reason);
		}
		printf("}");
	}
	printf("\n], \"mesh\": ");
	meshctl_mesh_describe(ctx, stdout, 1);
	printf("}\n");
}

int
meshctl_status(struct meshctl *ctx, int argc, char **argv)
{
	struct daemon_status	 daemons[4];
	const char		*url = NULL, *breaker_url = NULL;
	const char		*authz_url = NULL, *stats_url = NULL;
	size_t			 i, n = 0;
	int			 ch, rc, failed;

	while ((ch = getopt(argc, argv, "a:b:c:hm:o:r:s:")) != -1) {
		if (ch == 'h') {
			printf("usage: meshctl status [-c dir] [-o text|json] "
			    "[-s url] [-b url] [-a url] [-m url]\n");
			return MESHCTL_EXIT_OK;
		}
		if (ch == 'm') {
			stats_url = optarg;
			continue;
		}
		if (ch == 'a') {
			authz_url = optarg;
			continue;
		}
		if (ch == 'b') {
			breaker_url = optarg;
			continue;
		}
		if (ch == 's') {
			url = optarg;
			continue;
		}
		if ((rc = meshctl_common_flag(ctx, ch, optarg)) != 1)
			return rc == -1 ? MESHCTL_EXIT_USAGE :
			    meshctl_usage("status");
	}
	if (optind != argc)
		return meshctl_usage("status");
	memset(daemons, 0, sizeof(daemons));
	daemons[n].name = "route-d";
	daemons[n].required = 1;
	if (url != NULL)
		daemons[n].address = xstrdup(url);
	else {
		daemons[n].address = meshctl_route_address(ctx, &failed);
		if (failed) {
			free(daemons[n].address);
			return MESHCTL_EXIT_FAIL;
		}
	}
	n++;
	daemons[n].name = "breaker-d";
	daemons[n].address = breaker_url != NULL ? xstrdup(breaker_url) :
	    meshctl_breaker_address(ctx);
	/*
	 * proxy-d does without breaker-d (it fails open): one that was
	 * never started here is shown, not failed on.
	 */
	daemons[n].required = breaker_url != NULL ||
	    strncmp(daemons[n].address, "ipc://", 6) != 0 ||
	    access(daemons[n].address + 6, F_OK) == 0;
	n++;
	daemons[n].name = "authz-d";
	if (authz_url != NULL)
		daemons[n].address = xstrdup(authz_url);
	else
		daemons[n].address = meshctl_daemon_address(ctx,
		    "authz.sock");
	/* a mesh without security policies runs no authz-d */
	daemons[n].required = authz_url != NULL ||
	    strncmp(daemons[n].address, "ipc://", 6) != 0 ||
	    access(daemons[n].address + 6, F_OK) == 0;
	n++;
	daemons[n].name = "stats-d";
	daemons[n].address = stats_url != NULL ? xstrdup(stats_url) :
	    meshctl_stats_address();
	/* proxy-d does without stats-d (it drops and counts its records) */
	daemons[n].required = stats_url != NULL ||
	    strncmp(daemons[n].address, "ipc://", 6) != 0 ||
	    access(daemons[n].address + 6, F_OK) == 0;
	n++;
	rc = MESHCTL_EXIT_OK;
	for (i = 0; i < n; i++) {
		status_ask(&daemons[i]);
		if (!daemons[i].up && daemons[i].required)
			rc = MESHCTL_EXIT_FAIL;
	}
	if (ctx->output == OUTPUT_JSON)
		status_json(ctx, daemons, n);
	else {
		for (i = 0; i < n; i++)
			status_text(&daemons[i]);
		meshctl_mesh_describe(ctx, stdout, 0);
	}
	if (!daemons[0].up && url == NULL && meshctl_mesh_is_default(ctx))
		fprintf(stderr, "meshctl: no mesh found: start one (make "
		    "demo, scripts/demo start), or say where its sockets "
		    "are with -r or MESHKIT_RUNDIR (meshctl(8), MESH "
		    "DISCOVERY)\n");
	for (i = 0; i < n; i++)
		free(daemons[i].address);
	return rc;
}
