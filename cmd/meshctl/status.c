/* SPDX-License-Identifier: ISC */
/*
 * meshctl status [-s url] [-b url] [-a url] [-t url] [-m url]: the
 * meshkit-ipc(7) "status" request to each daemon (route-d, breaker-d,
 * authz-d, tls-d, stats-d), one at a time, each bounded by a one-second
 * timeout so that a hung daemon shows as down instead of hanging meshctl;
 * the proxies' certificates; then where meshctl found the mesh.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
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
static void	 status_proxies(struct meshctl *, int);
static void	 status_span(char *, size_t, long long);

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
	printf("\n]");
	status_proxies(ctx, 1);
	printf(", \"mesh\": ");
	meshctl_mesh_describe(ctx, stdout, 1);
	printf("}\n");
}

static void
status_span(char *buf, size_t len, long long s)
{
	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

/*
 * The proxies' certificates, from the status files proxy-d keeps in the
 * run directory (tls-NAME.status): what each has and whether renewing
 * it works, also when tls-d is down.
 */
static void
status_proxies(struct meshctl *ctx, int json)
{
	DIR		*d;
	struct dirent	*de;
	struct msg	 m;
	char		 path[4096], err[128], *buf, left[32], renew[32];
	char		 name[128], state[32], id[256], why[256];
	size_t		 len, n = 0;
	uint64_t	 pid, na, ra;
	long long	 now = (long long)time(NULL);
	int		 alive;

	if ((d = opendir(meshctl_rundir(ctx))) == NULL) {
		if (json)
			printf(", \"proxies\": []");
		return;
	}
	msg_init(&m);
	if (json)
		printf(", \"proxies\": [");
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "tls-", 4) != 0 || len < 12 ||
		    strcmp(de->d_name + len - 7, ".status") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", meshctl_rundir(ctx),
		    de->d_name);
		if ((buf = util_read_file(path, 65536, &len, err,
		    sizeof(err))) == NULL)
			continue;
		if (msg_parse(&m, buf, len, err, sizeof(err)) == -1 ||
		    !msg_type_is(&m, "tls-status")) {
			free(buf);
			continue;
		}
		pid = na = ra = 0;
		msg_get_u64(&m, &m.header, "pid", &pid);
		msg_get_u64(&m, &m.header, "not-after", &na);
		msg_get_u64(&m, &m.header, "renew-at", &ra);
		status_copy(name, sizeof(name), msg_get(&m, &m.header,
		    "proxy"));
		status_copy(state, sizeof(state), msg_get(&m, &m.header,
		    "state"));
		status_copy(id, sizeof(id), msg_get(&m, &m.header,
		    "spiffe-id"));
		status_copy(why, sizeof(why), msg_get(&m, &m.header, "error"));
		free(buf);
		alive = pid > 0 && (kill((pid_t)pid, 0) == 0 ||
		    errno == EPERM);
		if (!alive)
			util_strlcpy(state, "not running", sizeof(state));
		status_span(left, sizeof(left), (long long)na - now);
		status_span(renew, sizeof(renew), (long long)ra - now);
		if (json) {
			printf("%s\n  {\"proxy\": ", n++ == 0 ? "" : ",");
			meshctl_json_string(stdout, name);
			printf(", \"state\": ");
			meshctl_json_string(stdout, state);
			printf(", \"spiffe_id\": ");
			meshctl_json_string(stdout, id);
			printf(", \"not_after\": %llu, \"renew_at\": %llu, "
			    "\"error\": ", (unsigned long long)na,
			    (unsigned long long)ra);
			meshctl_json_string(stdout, why);
			printf("}");
			continue;
		}
		if (na == 0)
			printf("proxy %-12s mTLS %-9s no certificate%s%s\n",
			    name, state, why[0] != '\0' ? ": " : "", why);
		else
			printf("proxy %-12s mTLS %-9s %s, %s %s, renewal %s "
			    "%s%s%s\n", name, state, id,
			    (long long)na > now ? "valid" : "EXPIRED", left,
			    (long long)ra > now ? "in" : "due since", renew,
			    why[0] != '\0' ? "; " : "", why);
	}
	closedir(d);
	msg_fini(&m);
	if (json)
		printf("\n]");
}

int
meshctl_status(struct meshctl *ctx, int argc, char **argv)
{
	struct daemon_status	 daemons[5];
	const char		*url = NULL, *breaker_url = NULL;
	const char		*authz_url = NULL, *tls_url = NULL;
	const char		*stats_url = NULL;
	size_t			 i, n = 0;
	int			 ch, rc, failed;

	while ((ch = getopt(argc, argv, "a:b:c:hm:o:r:s:t:")) != -1) {
		if (ch == 'h') {
			printf("usage: meshctl status [-c dir] [-o text|json] "
			    "[-s url] [-b url] [-a url] [-t url] [-m url]\n");
			return MESHCTL_EXIT_OK;
		}
		if (ch == 't') {
			tls_url = optarg;
			continue;
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
	daemons[n].name = "tls-d";
	if (tls_url != NULL)
		daemons[n].address = xstrdup(tls_url);
	else
		daemons[n].address = meshctl_daemon_address(ctx, "tls.sock");
	/* a mesh without mutual TLS runs no tls-d */
	daemons[n].required = tls_url != NULL ||
	    strncmp(daemons[n].address, "ipc://", 6) != 0 ||
	    access(daemons[n].address + 6, F_OK) == 0;
	n++;
	daemons[n].name = "stats-d";
	daemons[n].address = stats_url != NULL ? xstrdup(stats_url) :
	    meshctl_daemon_address(ctx, "stats.sock");
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
		status_proxies(ctx, 0);
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
