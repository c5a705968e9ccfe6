/* SPDX-License-Identifier: ISC */
/*
 * What a route does before any upstream is asked: a fault's delay and
 * abort, as Istio's fault filter does them (first, never retried), then
 * a direct response, a redirect or a CORS preflight, answered here.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"
#include "proxy.h"
#include "util.h"

static enum stage_result fault_start(struct session *);
static enum stage_result fault_abort(struct session *);
static void	fault_cancel(struct session *);
static enum stage_result direct_start(struct session *);
static int	origin_allowed(const struct policy *, struct str);
static int	direct_cors(struct session *);
static void	direct_redirect(struct session *, const struct route_policy *);

const struct stage stage_fault = {
	.name = "fault",
	.start = fault_start,
	.cancel = fault_cancel,
};

const struct stage stage_direct = {
	.name = "direct",
	.start = direct_start,
};

/* One in ppm (parts per million) of requests. */
int
sampled(uint32_t ppm)
{
	return ppm >= 1000000 || (ppm > 0 && util_random() % 1000000 < ppm);
}

static enum stage_result
fault_start(struct session *s)
{
	const struct route_policy *pol = s->policy != NULL ? &s->policy->p :
				    NULL;

	if (pol != NULL && pol->fault_delay_ms > 0 &&
	    sampled(pol->fault_delay_ppm)) {
		s->proxy->faults++;
		s->wait_kind = SESSION_WAIT_DELAY;
		s->wait_until_ms = util_now_ms() + pol->fault_delay_ms;
		session_timer_rearm(s);
		return STAGE_WAIT;	/* fault_delay_over */
	}
	return fault_abort(s);
}

/* The session's timer: the delay is over. */
void
fault_delay_over(struct session *s)
{
	stage_done(s, fault_abort(s));
}

static enum stage_result
fault_abort(struct session *s)
{
	const struct route_policy *pol = s->policy != NULL ? &s->policy->p :
				    NULL;
	static const char body[] = "fault filter abort";

	if (pol == NULL || pol->fault_abort_status == 0 ||
	    !sampled(pol->fault_abort_ppm))
		return STAGE_NEXT;
	s->proxy->faults++;
	util_strlcpy(s->flags, "FI", sizeof(s->flags));
	util_strlcpy(s->details, "fault_filter_abort", sizeof(s->details));
	session_respond(s, (int)pol->fault_abort_status, "FI", "text/plain",
	    body, sizeof(body) - 1, STR_NULL, STR_NULL);
	return STAGE_STOP;
}

static void
fault_cancel(struct session *s)
{
	if (s->wait_kind == SESSION_WAIT_DELAY)
		s->wait_kind = SESSION_WAIT_NONE;
}

static enum stage_result
direct_start(struct session *s)
{
	const struct route_policy *pol = s->policy != NULL ? &s->policy->p :
				    NULL;

	if (pol == NULL)
		return STAGE_NEXT;
	if (pol->direct_status != 0) {
		util_strlcpy(s->details, "direct_response",
		    sizeof(s->details));
		session_respond(s, (int)pol->direct_status, NULL,
		    "text/plain", pol->direct_body, strlen(pol->direct_body),
		    STR_NULL, STR_NULL);
		return STAGE_STOP;
	}
	if (pol->redirect_code != 0) {
		direct_redirect(s, pol);
		return STAGE_STOP;
	}
	if (pol->cors && direct_cors(s))
		return STAGE_STOP;	/* a preflight, answered here */
	return STAGE_NEXT;
}

/*
 * CORS, as Envoy's filter does it for a route with a corsPolicy: a
 * request whose Origin is allowed gets the access-control headers on its
 * response; a preflight (OPTIONS with Access-Control-Request-Method)
 * from an allowed origin is answered here.  Other requests pass as they
 * are.
 */
static int
origin_allowed(const struct policy *pol, struct str origin)
{
	const struct route_policy *p = &pol->p;
	size_t	 i, n;

	for (i = 0; i < p->norigins; i++) {
		const char *v = p->origins[i].value;

		n = strlen(v);
		switch (p->origins[i].kind) {
		case MATCH_EXACT:
			if ((n == 1 && v[0] == '*') || (origin.n == n &&
			    memcmp(origin.p, v, n) == 0))
				return 1;
			break;
		case MATCH_PREFIX:
			if (origin.n >= n && memcmp(origin.p, v, n) == 0)
				return 1;
			break;
		case MATCH_REGEX:
			if (pol->origin_re[i] != NULL && match_regex(
			    pol->origin_re[i], origin.p, origin.n))
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Returns 1 when the request (a preflight) was answered here. */
static int
direct_cors(struct session *s)
{
	const struct http_request *req = &s->req;
	const struct http_header *o, *m;
	char		 extra[1024];
	size_t		 n;

	o = http_header_find(req->headers, req->nheaders, "origin");
	if (o == NULL || o->value.n == 0 || o->value.n > 256 ||
	    !origin_allowed(s->policy, o->value))
		return 0;
	m = http_header_find(req->headers, req->nheaders,
	    "access-control-request-method");
	if (!util_str_eq(req->method, "OPTIONS") || m == NULL) {
		s->cors_origin = o->value;
		return 0;
	}
	/* the field limits of route_policy keep all of it inside extra */
	n = head_cors_preflight(&s->policy->p, o->value, extra,
	    sizeof(extra));
	if (n == 0) {
		session_error(s, 500, "DPE", "CORS preflight answer too long");
		return 1;
	}
	util_strlcpy(s->details, "cors_response", sizeof(s->details));
	session_respond(s, 200, NULL, NULL, "", 0, STR_NULL,
	    (struct str){ extra, n });
	return 1;
}

/* A route's redirect: the Location, and the route's code. */
static void
direct_redirect(struct session *s, const struct route_policy *p)
{
	char	 small[1024], *buf = small;
	size_t	 n;

	n = head_redirect(&s->req, p, small, sizeof(small));
	if (n > sizeof(small)) {
		buf = xmalloc(n);
		(void)head_redirect(&s->req, p, buf, n);
	}
	util_strlcpy(s->details, "direct_response", sizeof(s->details));
	session_respond(s, (int)p->redirect_code, NULL, NULL, "", 0,
	    (struct str){ buf, n - 1 }, STR_NULL);
	if (buf != small)
		free(buf);
}
