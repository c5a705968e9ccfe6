/*
 * meshctl status [-s url]: the meshkit-ipc(7) "status" request to each
 * daemon, one at a time, each bounded by a one-second timeout so that a
 * hung daemon shows as down instead of hanging meshctl.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "config.h"
#include "log.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"

#define STATUS_TIMEOUT_MS	1000

struct daemon_status {
	const char	*name;
	char		*address;
	int		 up;
	char		 reason[256];
	uint64_t	 pid;
	uint64_t	 generation;
	uint64_t	 uptime_ms;
	char		 version[64];
};

static char	*status_route_address(struct meshctl *, int *);
static void	 status_print_error(const char *, void *);
static void	 status_ask(struct daemon_status *);
static void	 status_read_reply(struct daemon_status *, const char *,
		    size_t);
static void	 status_copy(char *, size_t, struct str);
static void	 status_text(const struct daemon_status *);
static void	 status_json(const struct daemon_status *, size_t);

static void
status_print_error(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/*
 * -s wins; else the Proxy resource of the config directory says where
 * route-d is; else the default socket.  A missing default directory is
 * normal (a host with no config yet); a broken one is worth a warning.
 */
static char *
status_route_address(struct meshctl *ctx, int *failed)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	const struct proxy_config	*pc;
	char				*addr = NULL;

	*failed = 0;
	memset(&errs, 0, sizeof(errs));
	if (ctx->config_dir_set || access(ctx->config_dir, F_OK) == 0) {
		cfg = config_load_dir(ctx->config_dir, &errs);
		if (cfg == NULL && ctx->config_dir_set) {
			cfg_errors_print(&errs, 0, status_print_error, NULL);
			*failed = 1;
		} else if (cfg == NULL)
			fprintf(stderr, "meshctl: %s has errors (see meshctl "
			    "validate); using the default address\n",
			    ctx->config_dir);
		pc = config_find_proxy(cfg, NULL);
		if (pc == NULL && cfg != NULL && cfg->nproxies > 0)
			pc = &cfg->proxies[0];
		if (pc != NULL && pc->route.address != NULL)
			addr = xstrdup(pc->route.address);
		config_free(cfg);
	}
	cfg_errors_fini(&errs);
	if (addr == NULL)
		xasprintf(&addr, "ipc://%s/route.sock", util_rundir());
	return addr;
}

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
		status_copy(d->version, sizeof(d->version),
		    msg_get(&m, &m.header, "version"));
	}
	msg_fini(&m);
}

static void
status_ask(struct daemon_status *d)
{
	struct msg_writer	 w;
	nng_socket		 s;
	char			*reply = NULL;
	size_t			 len = 0;
	int			 rv;

	if ((rv = nng_req0_open(&s)) != 0) {
		snprintf(d->reason, sizeof(d->reason), "%s", nng_strerror(rv));
		return;
	}
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, STATUS_TIMEOUT_MS);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, STATUS_TIMEOUT_MS);
	/* one request, no retries: a resend would only hide a hang */
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	/*
	 * A synchronous dial waits for the peer's handshake, which a hung
	 * daemon never sends; so dial in the background and let the send
	 * and receive timeouts bound the whole exchange.  A missing ipc
	 * socket is told at once.
	 */
	if (strncmp(d->address, "ipc://", 6) == 0 &&
	    access(d->address + 6, F_OK) == -1) {
		snprintf(d->reason, sizeof(d->reason), "no socket at %s",
		    d->address + 6);
		nng_close(s);
		return;
	}
	if ((rv = nng_dial(s, d->address, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		snprintf(d->reason, sizeof(d->reason), "%s", nng_strerror(rv));
		nng_close(s);
		return;
	}
	msgw_init(&w);
	msgw_begin(&w, "status");
	rv = nng_send(s, w.buf, w.len, 0);
	msgw_fini(&w);
	if (rv == 0)
		rv = nng_recv(s, &reply, &len, NNG_FLAG_ALLOC);
	if (rv == NNG_ETIMEDOUT)
		snprintf(d->reason, sizeof(d->reason), "no answer in %d ms",
		    STATUS_TIMEOUT_MS);
	else if (rv != 0)
		snprintf(d->reason, sizeof(d->reason), "%s", nng_strerror(rv));
	else {
		status_read_reply(d, reply, len);
		nng_free(reply, len);
	}
	nng_close(s);
}

static void
status_text(const struct daemon_status *d)
{
	if (d->up)
		printf("%-8s up  generation %llu  pid %llu\n", d->name,
		    (unsigned long long)d->generation,
		    (unsigned long long)d->pid);
	else
		printf("%-8s down (%s)\n", d->name, d->reason);
}

static void
status_json(const struct daemon_status *v, size_t n)
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
		} else {
			printf(", \"up\": false, \"reason\": ");
			meshctl_json_string(stdout, v[i].reason);
		}
		printf("}");
	}
	printf("\n]}\n");
}

int
meshctl_status(struct meshctl *ctx, int argc, char **argv)
{
	struct daemon_status	 daemons[1];
	const char		*url = NULL;
	size_t			 i, n = 0;
	int			 ch, rc, failed;

	while ((ch = getopt(argc, argv, "c:ho:s:")) != -1) {
		if (ch == 'h') {
			printf("usage: meshctl status [-c dir] [-o text|json] "
			    "[-s url]\n");
			return MESHCTL_EXIT_OK;
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
	if (url != NULL)
		daemons[n].address = xstrdup(url);
	else {
		daemons[n].address = status_route_address(ctx, &failed);
		if (failed) {
			free(daemons[n].address);
			return MESHCTL_EXIT_FAIL;
		}
	}
	n++;
	rc = MESHCTL_EXIT_OK;
	for (i = 0; i < n; i++) {
		status_ask(&daemons[i]);
		if (!daemons[i].up)
			rc = MESHCTL_EXIT_FAIL;
	}
	if (ctx->output == OUTPUT_JSON)
		status_json(daemons, n);
	else
		for (i = 0; i < n; i++)
			status_text(&daemons[i]);
	for (i = 0; i < n; i++)
		free(daemons[i].address);
	return rc;
}
