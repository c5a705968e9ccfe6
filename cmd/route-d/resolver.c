/* SPDX-License-Identifier: ISC */
/*
 * route-d's DNS resolver (resolver.h).  Each name is asked for A and
 * AAAA records together, and asked again when the shortest TTL of its
 * answers runs out.  A family whose query fails keeps its last
 * addresses; NXDOMAIN and "no records" are answers (no addresses).
 *
 * The thread owns its event_base, the evdns base and the names; the main
 * thread reaches it only through the wanted list (under the lock) and a
 * pipe that wakes it.  The table of answers is shared with the deciding
 * nng threads under route-d's lock.
 */
#include <sys/queue.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "resolver.h"
#include "route_dns.h"
#include "util.h"

#define RESOLVER_FAMILY_MAX	(ROUTE_DNS_MAX_ADDRS / 2)

struct resolver;

/* One address family's part of a name's last answer. */
struct family {
	char		 addrs[RESOLVER_FAMILY_MAX][INET6_ADDRSTRLEN];
	size_t		 n;
	/* this round */
	struct evdns_request *req;
	int		 done;
	int		 failed;
	char		 error[64];
	int		 ttl;
};

struct name {
	TAILQ_ENTRY(name)	 entry;
	struct resolver		*r;
	char			*name;
	struct event		*timer;
	int			 pending;	/* queries (and a guard) */
	int			 dead;		/* no longer wanted */
	int			 tried;		/* a round has ended */
	int			 answered;	/* a round had an answer */
	struct family		 v4, v6;
};

struct resolver {
	struct event_base	*base;
	struct evdns_base	*dns;
	pthread_mutex_t		*lock;
	struct route_dns	*table;
	/* handed over by the main thread, under lock */
	char			**wanted;
	size_t			  nwanted;
	int			  changed;
	int			  quit;
	int			  wake[2];
	struct event		*wake_ev;
	pthread_t		  thread;
	int			  running;
	int			  untried;	/* names without a round yet */
	int			  dying;	/* let go, queries in flight */
	TAILQ_HEAD(, name)	  names;
};

static void	resolver_wake(evutil_socket_t, short, void *);
static void	resolver_take(struct resolver *);
static void	name_ask(evutil_socket_t, short, void *);
static void	name_answer(struct name *, struct family *, int, int, int,
		    void *);
static void	name_cb4(int, char, int, int, void *, void *);
static void	name_cb6(int, char, int, int, void *, void *);
static void	name_round_end(struct name *);
static void	name_free(struct name *);
static void	name_let_go(struct name *);
static void	*resolver_main(void *);
static const char *resolver_error(int);
static void	resolver_log(int, const char *);

static const char *
resolver_error(int result)
{
	switch (result) {
	case DNS_ERR_SERVERFAILED:
		return "server failed";
	case DNS_ERR_FORMAT:
		return "format error";
	case DNS_ERR_NOTIMPL:
		return "not implemented";
	case DNS_ERR_REFUSED:
		return "refused";
	case DNS_ERR_TRUNCATED:
		return "truncated";
	case DNS_ERR_TIMEOUT:
		return "timed out";
	case DNS_ERR_SHUTDOWN:
	case DNS_ERR_CANCEL:
		return "cancelled";
	default:
		return "unknown error";
	}
}

/* libevent's own messages (evdns: "nameserver ... has failed") */
static void
resolver_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else if (severity == EVENT_LOG_MSG)
		log_info("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

struct resolver *
resolver_new(const char *conf, pthread_mutex_t *lock, struct route_dns *table)
{
	struct resolver	*r;
	int		 rv;

	r = xcalloc(1, sizeof(*r));
	r->lock = lock;
	r->table = table;
	r->wake[0] = r->wake[1] = -1;
	TAILQ_INIT(&r->names);
	event_set_log_callback(resolver_log);
	if ((r->base = event_base_new()) == NULL) {
		log_warnx("resolver: event_base_new failed");
		goto fail;
	}
	if ((r->dns = evdns_base_new(r->base, 0)) == NULL) {
		log_warnx("resolver: evdns_base_new failed");
		goto fail;
	}
	/*
	 * The file's nameservers, search list and options; evdns falls back
	 * to 127.0.0.1 when it names none or cannot be read.
	 */
	if ((rv = evdns_base_resolv_conf_parse(r->dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_SEARCH | DNS_OPTION_MISC, conf)) != 0)
		log_warnx("resolver: %s: %s; asking 127.0.0.1", conf,
		    rv == 1 || rv == 2 ? "cannot be read" : rv == 3 ?
		    "too large" : rv == 6 ? "names no nameserver" :
		    "not read whole");
	if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("resolver: pipe");
		goto fail;
	}
	if ((r->wake_ev = event_new(r->base, r->wake[0], EV_READ | EV_PERSIST,
	    resolver_wake, r)) == NULL || event_add(r->wake_ev, NULL) == -1) {
		log_warnx("resolver: event_new failed");
		goto fail;
	}
	return r;
fail:
	resolver_free(r);
	return NULL;
}

void
resolver_want(struct resolver *r, char **names, size_t n)
{
	char	  c = 'w';

	pthread_mutex_lock(r->lock);
	route_dns_want(r->table, names, n);
	config_paths_free(r->wanted, r->nwanted);
	r->wanted = names;
	r->nwanted = n;
	r->changed = 1;
	pthread_mutex_unlock(r->lock);
	if (write(r->wake[1], &c, 1) == -1 && errno != EAGAIN)
		log_warn("resolver: wake");
}

static void
resolver_wake(evutil_socket_t fd, short what, void *arg)
{
	struct resolver	*r = arg;
	char		 buf[64];
	int		 quit;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(r->lock);
	quit = r->quit;
	pthread_mutex_unlock(r->lock);
	if (quit) {
		event_base_loopbreak(r->base);
		return;
	}
	resolver_take(r);
}

/* The wanted list in force: new names asked now, old ones let go. */
static void
resolver_take(struct resolver *r)
{
	struct name	*nm, *next;
	char		**names;
	size_t		  n, i;

	pthread_mutex_lock(r->lock);
	if (!r->changed) {
		pthread_mutex_unlock(r->lock);
		return;
	}
	names = r->wanted;
	n = r->nwanted;
	r->wanted = NULL;
	r->nwanted = 0;
	r->changed = 0;
	pthread_mutex_unlock(r->lock);

	TAILQ_FOREACH_SAFE(nm, &r->names, entry, next) {
		for (i = 0; i < n; i++)
			if (names[i] != NULL && strcmp(names[i], nm->name) ==
			    0)
				break;
		if (i < n) {
			free(names[i]);		/* already asked for */
			names[i] = NULL;
			continue;
		}
		log_debug("resolver: %s no longer wanted", nm->name);
		TAILQ_REMOVE(&r->names, nm, entry);
		if (!nm->tried)
			r->untried--;
		name_let_go(nm);
	}
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		nm = xcalloc(1, sizeof(*nm));
		nm->r = r;
		nm->name = names[i];
		if ((nm->timer = evtimer_new(r->base, name_ask, nm)) == NULL)
			fatalx("resolver: evtimer_new");
		TAILQ_INSERT_TAIL(&r->names, nm, entry);
		r->untried++;
		event_active(nm->timer, EV_TIMEOUT, 0);
	}
	free(names);
}

/* A round: A and AAAA asked together. */
static void
name_ask(evutil_socket_t fd, short what, void *arg)
{
	struct name	*nm = arg;

	if (nm->pending > 0)
		return;
	nm->v4.done = nm->v4.failed = nm->v4.ttl = 0;
	nm->v6.done = nm->v6.failed = nm->v6.ttl = 0;
	nm->v4.error[0] = nm->v6.error[0] = '\0';
	/* a guard: an answer given at once must not end the round early */
	nm->pending = 1;
	nm->pending++;
	if ((nm->v4.req = evdns_base_resolve_ipv4(nm->r->dns, nm->name, 0,
	    name_cb4, nm)) == NULL && !nm->v4.done) {
		nm->pending--;
		nm->v4.done = nm->v4.failed = 1;
		util_strlcpy(nm->v4.error, "cannot ask", sizeof(nm->v4.error));
	}
	nm->pending++;
	if ((nm->v6.req = evdns_base_resolve_ipv6(nm->r->dns, nm->name, 0,
	    name_cb6, nm)) == NULL && !nm->v6.done) {
		nm->pending--;
		nm->v6.done = nm->v6.failed = 1;
		util_strlcpy(nm->v6.error, "cannot ask", sizeof(nm->v6.error));
	}
	if (--nm->pending == 0)
		name_round_end(nm);
}

static void
name_answer(struct name *nm, struct family *f, int result, int count,
    int ttl, void *addresses)
{
	int	 i, af = f == &nm->v4 ? AF_INET : AF_INET6;

	f->req = NULL;
	f->done = 1;
	if (nm->dead)
		return;
	if (result == DNS_ERR_NONE || result == DNS_ERR_NOTEXIST ||
	    result == DNS_ERR_NODATA) {
		/* an answer, maybe without addresses */
		f->n = 0;
		for (i = 0; result == DNS_ERR_NONE && i < count &&
		    f->n < RESOLVER_FAMILY_MAX; i++) {
			const void *a = af == AF_INET ?
			    (const void *)((const uint32_t *)addresses + i) :
			    (const void *)((const struct in6_addr *)addresses +
			    i);

			if (inet_ntop(af, a, f->addrs[f->n],
			    sizeof(f->addrs[0])) != NULL)
				f->n++;
		}
		f->ttl = f->n > 0 ? ttl : RESOLVER_EMPTY_S;
		return;
	}
	f->failed = 1;
	util_strlcpy(f->error, resolver_error(result), sizeof(f->error));
}

static void
name_cb4(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	struct name	*nm = arg;

	name_answer(nm, &nm->v4, result, type == DNS_IPv4_A ? count : 0, ttl,
	    addresses);
	if (--nm->pending == 0)
		name_round_end(nm);
}

static void
name_cb6(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	struct name	*nm = arg;

	name_answer(nm, &nm->v6, result, type == DNS_IPv6_AAAA ? count : 0,
	    ttl, addresses);
	if (--nm->pending == 0)
		name_round_end(nm);
}

static void
name_round_end(struct name *nm)
{
	struct resolver	*r = nm->r;
	const char	*addrs[ROUTE_DNS_MAX_ADDRS];
	char		 error[160], list[256];
	struct timeval	 tv;
	size_t		 n = 0, i, o = 0;
	int		 next;

	if (nm->dead) {
		r->dying--;
		name_free(nm);
		return;
	}
	if (!nm->tried) {
		nm->tried = 1;
		r->untried--;
	}
	if (nm->v4.failed && nm->v6.failed) {
		snprintf(error, sizeof(error), "%s", nm->v4.error);
		pthread_mutex_lock(r->lock);
		route_dns_update(r->table, nm->name, NULL, 0, error);
		pthread_mutex_unlock(r->lock);
		log_warnx("resolver: %s: %s; %s, asking again in %d s",
		    nm->name, error, nm->answered ? "keeping its last "
		    "addresses" : "not resolved yet", RESOLVER_RETRY_S);
		next = RESOLVER_RETRY_S;
	} else {
		/* a family that failed keeps what it had */
		for (i = 0; i < nm->v4.n; i++)
			addrs[n++] = nm->v4.addrs[i];
		for (i = 0; i < nm->v6.n; i++)
			addrs[n++] = nm->v6.addrs[i];
		next = RESOLVER_TTL_MAX_S;
		if (!nm->v4.failed && nm->v4.ttl < next)
			next = nm->v4.ttl;
		if (!nm->v6.failed && nm->v6.ttl < next)
			next = nm->v6.ttl;
		if (nm->v4.failed || nm->v6.failed)
			next = next < RESOLVER_RETRY_S ? next :
			    RESOLVER_RETRY_S;
		pthread_mutex_lock(r->lock);
		route_dns_update(r->table, nm->name, addrs, n, NULL);
		pthread_mutex_unlock(r->lock);
		nm->answered = 1;
		list[0] = '\0';
		for (i = 0; i < n && o < sizeof(list); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s%s", i > 0 ? " " : "", addrs[i]);
		log_debug("resolver: %s: %s, again in %d s", nm->name,
		    n > 0 ? list : "no address",
		    next < RESOLVER_TTL_MIN_S ? RESOLVER_TTL_MIN_S : next);
	}
	if (next < RESOLVER_TTL_MIN_S)
		next = RESOLVER_TTL_MIN_S;
	if (next > RESOLVER_TTL_MAX_S)
		next = RESOLVER_TTL_MAX_S;
	tv.tv_sec = next;
	tv.tv_usec = 0;
	evtimer_add(nm->timer, &tv);
}

/*
 * A name out of the list: freed now, or, with queries in flight, by the
 * last answer (a cancelled query is answered too).
 */
static void
name_let_go(struct name *nm)
{
	nm->dead = 1;
	event_del(nm->timer);
	if (nm->pending == 0) {
		name_free(nm);
		return;
	}
	nm->r->dying++;
	if (nm->v4.req != NULL)
		evdns_cancel_request(nm->r->dns, nm->v4.req);
	if (nm->v6.req != NULL)
		evdns_cancel_request(nm->r->dns, nm->v6.req);
}

static void
name_free(struct name *nm)
{
	if (nm->timer != NULL)
		event_free(nm->timer);
	free(nm->name);
	free(nm);
}

static void *
resolver_main(void *arg)
{
	struct resolver	*r = arg;

	event_base_dispatch(r->base);
	return NULL;
}

int
resolver_start(struct resolver *r)
{
	int	 rv;

	resolver_take(r);
	if ((rv = pthread_create(&r->thread, NULL, resolver_main, r)) != 0) {
		log_warnx("resolver: pthread_create: %s", strerror(rv));
		return -1;
	}
	r->running = 1;
	return 0;
}

static void
resolver_timeout(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

void
resolver_run_once(struct resolver *r, int timeout_ms)
{
	struct event	*t;
	struct timeval	 tv;
	int		 expired = 0;

	resolver_take(r);
	if ((t = evtimer_new(r->base, resolver_timeout, &expired)) == NULL)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(t, &tv);
	while (r->untried > 0 && !expired)
		event_base_loop(r->base, EVLOOP_ONCE);
	event_free(t);
}

void
resolver_free(struct resolver *r)
{
	struct name	*nm;
	char		 c = 'q';
	int		 i;

	if (r == NULL)
		return;
	if (r->running) {
		pthread_mutex_lock(r->lock);
		r->quit = 1;
		pthread_mutex_unlock(r->lock);
		if (write(r->wake[1], &c, 1) == -1)
			log_warn("resolver: wake");
		pthread_join(r->thread, NULL);
		r->running = 0;
	}
	/*
	 * Queries in flight are cancelled; evdns answers them from the loop,
	 * which runs until they all have, so none is left holding a name.
	 */
	while ((nm = TAILQ_FIRST(&r->names)) != NULL) {
		TAILQ_REMOVE(&r->names, nm, entry);
		name_let_go(nm);
	}
	for (i = 0; i < 100 && r->dying > 0; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
	if (r->dns != NULL)
		evdns_base_free(r->dns, 0);
	if (r->wake_ev != NULL)
		event_free(r->wake_ev);
	if (r->base != NULL)
		event_base_free(r->base);
	if (r->wake[0] != -1)
		close(r->wake[0]);
	if (r->wake[1] != -1)
		close(r->wake[1]);
	config_paths_free(r->wanted, r->nwanted);
	free(r);
}
