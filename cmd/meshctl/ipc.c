/*
 * Talking to the daemons: where route-d listens, and one request with a
 * reply, bounded by a one-second timeout so that a hung daemon shows as
 * an error instead of hanging meshctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "config.h"
#include "meshctl.h"
#include "util.h"
#include "yaml.h"

static void	 ipc_print_error(const char *, void *);

static void
ipc_print_error(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

/*
 * The route daemon: the -s of the command wins; else the Proxy resource of the config directory says where
 * route-d is; else the default socket.  A missing default directory is
 * normal (a host with no config yet); a broken one is worth a warning.
 */
char *
meshctl_route_address(struct meshctl *ctx, int *failed)
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
			cfg_errors_print(&errs, 0, ipc_print_error, NULL);
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

int
meshctl_ask(const char *url, const char *req, size_t reqlen, char **reply,
    size_t *replylen, char *err, size_t errlen)
{
	nng_socket	 s;
	char		*buf = NULL;
	size_t		 len = 0;
	int		 rv;

	if ((rv = nng_req0_open(&s)) != 0) {
		snprintf(err, errlen, "%s", nng_strerror(rv));
		return -1;
	}
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, MESHCTL_ASK_TIMEOUT_MS);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, MESHCTL_ASK_TIMEOUT_MS);
	/* one request, no retries: a resend would only hide a hang */
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 4 * 1024 * 1024);
	/*
	 * A synchronous dial waits for the peer's handshake, which a hung
	 * daemon never sends; so dial in the background and let the send
	 * and receive timeouts bound the whole exchange.  A missing ipc
	 * socket is told at once.
	 */
	if (strncmp(url, "ipc://", 6) == 0 && access(url + 6, F_OK) == -1) {
		snprintf(err, errlen, "no socket at %s", url + 6);
		nng_close(s);
		return -1;
	}
	if ((rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		snprintf(err, errlen, "%s", nng_strerror(rv));
		nng_close(s);
		return -1;
	}
	rv = nng_send(s, (void *)req, reqlen, 0);
	if (rv == 0)
		rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
	if (rv == NNG_ETIMEDOUT)
		snprintf(err, errlen, "no answer in %d ms",
		    MESHCTL_ASK_TIMEOUT_MS);
	else if (rv != 0)
		snprintf(err, errlen, "%s", nng_strerror(rv));
	else {
		/* a copy the caller frees with free(), NUL-terminated */
		*reply = xmalloc(len + 1);
		memcpy(*reply, buf, len);
		(*reply)[len] = '\0';
		*replylen = len;
		nng_free(buf, len);
	}
	nng_close(s);
	return rv == 0 ? 0 : -1;
}
