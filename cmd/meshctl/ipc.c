/* SPDX-License-Identifier: ISC */
/*
 * Talking to the daemons: where route-d listens, a question asked as a
 * workload's proxy-d would ask it, and one request with a reply, bounded
 * by a one-second timeout so that a hung daemon shows as an error
 * instead of hanging meshctl.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "config.h"
#include "meshctl.h"
#include "msg.h"
#include "util.h"
#include "yaml.h"

static void	 ipc_print_error(const char *, void *);

static void
ipc_print_error(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

/*
 * The route daemon (a command's -s comes first): when the config
 * directory was named (-c, $MESHKIT_CONFIG), or nothing names or finds a
 * mesh, its Proxy resource says where route-d is; otherwise, and when it
 * does not say, the run directory's socket.  A missing default
 * directory is normal (a host with no config yet); a broken one is
 * worth a warning.
 */
char *
meshctl_route_address(struct meshctl *ctx, int *failed)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	const struct proxy_config	*pc;
	char				*addr = NULL;
	int				 named;

	*failed = 0;
	memset(&errs, 0, sizeof(errs));
	named = meshctl_config_explicit(ctx);
	if (named || (meshctl_mesh_is_default(ctx) &&
	    access(meshctl_config_dir(ctx), F_OK) == 0)) {
		cfg = config_load_dir(meshctl_config_dir(ctx), &errs);
		if (cfg == NULL && named) {
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
		addr = meshctl_daemon_address(ctx, "route.sock");
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
		/* "Not supported" or "Invalid argument" alone says little */
		if (rv == NNG_ENOTSUP || rv == NNG_EINVAL || rv == NNG_EADDRINVAL)
			snprintf(err, errlen, "%s: a daemon's address is "
			    "nng's, ipc://PATH or tcp://HOST:PORT (its HTTP "
			    "port is not one)", nng_strerror(rv));
		else
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

void
meshctl_question_head(struct meshctl *ctx, struct msg_writer *w,
    const char *type, const char *workload, const char *namespace)
{
	struct cfg_errors		 errs;
	struct config			*cfg = NULL;
	const struct proxy_config	*pc = NULL;
	size_t				 i;

	if (workload != NULL && access(meshctl_config_dir(ctx), F_OK) == 0) {
		memset(&errs, 0, sizeof(errs));
		cfg = config_load_dir(ctx->config_dir, &errs);
		cfg_errors_fini(&errs);
		for (i = 0; cfg != NULL && i < cfg->nproxies; i++)
			if (strcmp(cfg->proxies[i].meta.name,
			    workload) == 0 ||
			    (cfg->proxies[i].workload_name != NULL &&
			    strcmp(cfg->proxies[i].workload_name,
			    workload) == 0))
				pc = &cfg->proxies[i];
	}
	msgw_begin(w, type);
	msgw_fieldf(w, "workload", "%s", workload != NULL ? workload :
	    "meshctl");
	if (namespace == NULL && pc != NULL)
		namespace = pc->workload_namespace;
	if (namespace != NULL)
		msgw_fieldf(w, "namespace", "%s", namespace);
	for (i = 0; pc != NULL && i < pc->workload_labels.n; i++)
		msgw_fieldf(w, "label", "%s=%s", pc->workload_labels.keys[i],
		    pc->workload_labels.values[i]);
	config_free(cfg);
}

int
meshctl_question_headers(struct msg_writer *w, char *const *headers,
    size_t nheaders)
{
	char	 name[128];
	size_t	 i, n;

	for (i = 0; i < nheaders; i++) {
		const char *h = headers[i], *colon = strchr(h, ':');

		n = colon == NULL ? 0 : (size_t)(colon - h);
		if (n == 0 || n >= sizeof(name)) {
			fprintf(stderr, "meshctl: -H \"%s\": want "
			    "'name: value'\n", h);
			return -1;
		}
		while (n > 0 && isspace((unsigned char)h[n - 1]))
			n--;
		memcpy(name, h, n);
		name[n] = '\0';
		for (n = 0; name[n] != '\0'; n++)
			name[n] = (char)tolower((unsigned char)name[n]);
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		msgw_fieldf(w, "header", "%s: %s", name, colon);
	}
	return 0;
}

int
meshctl_question_ask(const char *daemon, const char *url,
    const struct msg_writer *w, const char *reply_type, struct msg *m,
    char **reply)
{
	if (meshctl_request(daemon, url, w, reply_type, m, reply) == -1)
		return -1;
	if (m->nrecords < 1) {
		fprintf(stderr, "meshctl: %s at %s: unexpected reply\n",
		    daemon, url);
		return -1;
	}
	return 0;
}

int
meshctl_request(const char *daemon, const char *url,
    const struct msg_writer *w, const char *reply_type, struct msg *m,
    char **reply)
{
	char	 err[256];
	size_t	 len = 0;

	*reply = NULL;
	if (meshctl_ask(url, w->buf, w->len, reply, &len, err,
	    sizeof(err)) == -1)
		fprintf(stderr, "meshctl: %s at %s: %s\n", daemon, url, err);
	else if (msg_parse(m, *reply, len, err, sizeof(err)) == -1)
		fprintf(stderr, "meshctl: %s at %s: bad reply: %s\n", daemon,
		    url, err);
	else if (msg_type_is(m, "error")) {
		struct str r = msg_get(m, &m->header, "reason");

		fprintf(stderr, "meshctl: %s refused the question: %.*s\n",
		    daemon, (int)r.n, r.p != NULL ? r.p : "");
	} else if (!msg_type_is(m, reply_type))
		fprintf(stderr, "meshctl: %s at %s: unexpected reply\n",
		    daemon, url);
	else
		return 0;
	return -1;
}
