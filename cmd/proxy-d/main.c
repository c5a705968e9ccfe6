/* SPDX-License-Identifier: ISC */
/*
 * proxy-d: flags, signals, config generations, listeners, drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "daemon.h"
#include "evmem.h"
#include "log.h"
#include "privdrop.h"
#include "proxy.h"
#include "util.h"

static void	usage(void) __attribute__((noreturn));
static struct generation *generation_new(const char *, const char *,
		    struct cfg_errors *);
static int	listeners_apply(struct proxy *, struct generation *);
static void	listener_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error(struct evconnlistener *, void *);
static void	listener_free(struct listener *);
static void	proxy_reload(struct proxy *);
static void	proxy_drain(struct proxy *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	drain_timeout(evutil_socket_t, short, void *);
static void	write_pidfile(const char *);
static void	print_error_line(const char *, void *);
static void	listener_resume(evutil_socket_t, short, void *);
static void	proxy_set_consult(struct proxy *, struct generation *);
static void	proxy_set_daemons(struct proxy *, struct generation *);
static void	sweep_cb(evutil_socket_t, short, void *);
static void	watch_start(struct proxy *);
static void	watch_cb(evutil_socket_t, short, void *);
static void	watch_settled(evutil_socket_t, short, void *);

static const char	*pidfile;

static void
usage(void)
{
	fprintf(stderr, "usage: proxy-d [-qtv] [-c dir] [-l logfile] "
	    "[-n name] [-p pidfile] [-u user]\n");
	exit(2);
}

struct generation *
generation_ref(struct generation *g)
{
	g->refs++;
	return g;
}

void
generation_unref(struct generation *g)
{
	if (g == NULL || --g->refs > 0)
		return;
	if (g->config != NULL)
		config_free(g->config);
	free(g);
}

/*
 * Build a generation from the config directory: all of it loads, and the
 * Proxy resource we serve exists, or nothing changes.
 */
static struct generation *
generation_new(const char *dir, const char *name, struct cfg_errors *errs)
{
	struct generation		*g;
	const struct proxy_config	*pc;

	g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	if ((g->config = config_load_dir(dir, errs)) == NULL) {
		free(g);
		return NULL;
	}
	if ((pc = config_find_proxy(g->config, name)) == NULL) {
		cfg_errors_add(errs, dir, 0, 0, 0, name != NULL ?
		    "no Proxy resource named %s" : "%s",
		    name != NULL ? name : "no single Proxy resource: "
		    "name one with -n");
		config_free(g->config);
		free(g);
		return NULL;
	}
	g->pc = pc;
	g->limits.max_line = pc->max_request_line;
	g->limits.max_headers = pc->max_headers;
	g->limits.max_head = pc->max_head_bytes;
	return g;
}

static void
print_error_line(const char *line, void *arg)
{
	log_warnx("%s", line);
}

static void
listener_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*l = arg;

	conn_accept(l->proxy, l, fd, sa, salen);
}

/* Out of descriptors: stop accepting for a moment rather than spin. */
static void
listener_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	if (l->lev != NULL)
		evconnlistener_enable(l->lev);
}

static void
listener_error(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { 0, 100000 };

	log_warn("accept on %s", l->address);
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		evconnlistener_disable(lev);
		event_base_once(l->proxy->base, -1, EV_TIMEOUT,
		    listener_resume, l, &tv);
	}
}

static void
listener_free(struct listener *l)
{
	if (l->lev != NULL)
		evconnlistener_free(l->lev);
	free(l->name);
	free(l->address);
	free(l);
}

/*
 * Make the open listeners match the generation: keep those whose address
 * and direction are unchanged (so a reload never closes a connection or
 * refuses one), open new ones, close the rest.  All or nothing: if a new
 * address cannot be bound, nothing changes.
 */
static int
listeners_apply(struct proxy *p, struct generation *g)
{
	TAILQ_HEAD(, listener)	 fresh = TAILQ_HEAD_INITIALIZER(fresh);
	struct listener		*l, *next, *old;
	const struct proxy_config *pc = g->pc;
	size_t			 i;

	for (i = 0; i < pc->nlisteners; i++) {
		const struct proxy_listener *pl = &pc->listeners[i];
		struct sockaddr_storage ss;
		socklen_t len;

		l = xcalloc(1, sizeof(*l));
		l->proxy = p;
		l->name = xstrdup(pl->name != NULL ? pl->name : pl->address);
		l->address = xstrdup(pl->address);
		l->inbound = pl->direction == LISTENER_INBOUND;
		if (l->inbound && pl->forward != NULL &&
		    (l->forward = pool_get(p, pl->forward)) == NULL) {
			log_warnx("listener %s: bad forward address %s",
			    l->name, pl->forward);
			listener_free(l);
			goto fail;
		}
		conn_listener_configure(l, g, pl->forward);
		TAILQ_FOREACH(old, &p->listeners, entry)
			if (old->lev != NULL && old->inbound == l->inbound &&
			    strcmp(old->address, l->address) == 0)
				break;
		if (old != NULL) {
			/* take over the open socket */
			l->lev = old->lev;
			old->lev = NULL;
			evconnlistener_set_cb(l->lev, listener_accept, l);
			evconnlistener_set_error_cb(l->lev, listener_error);
		} else {
			if (util_parse_sockaddr(l->address, &ss, &len) == -1) {
				log_warnx("listener %s: bad address %s",
				    l->name, l->address);
				listener_free(l);
				goto fail;
			}
			l->lev = evconnlistener_new_bind(p->base,
			    listener_accept, l, LEV_OPT_CLOSE_ON_FREE |
			    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
			    (struct sockaddr *)&ss, (int)len);
			if (l->lev == NULL) {
				log_warn("listen on %s", l->address);
				listener_free(l);
				goto fail;
			}
			evconnlistener_set_error_cb(l->lev, listener_error);
			log_info("listening on %s (%s)", l->address,
			    l->inbound ? "inbound" : "outbound");
		}
		TAILQ_INSERT_TAIL(&fresh, l, entry);
	}
	/* sessions keep pointing at nothing rather than a freed listener */
	{
		struct session *s;

		TAILQ_FOREACH(s, &p->sessions, entry)
			s->listener = NULL;
	}
	TAILQ_FOREACH_SAFE(l, &p->listeners, entry, next) {
		TAILQ_REMOVE(&p->listeners, l, entry);
		if (l->lev != NULL)
			log_info("closing listener %s", l->address);
		listener_free(l);
	}
	TAILQ_CONCAT(&p->listeners, &fresh, entry);
	return 0;

fail:
	/* hand taken-over sockets back */
	TAILQ_FOREACH_SAFE(l, &fresh, entry, next) {
		TAILQ_FOREACH(old, &p->listeners, entry)
			if (old->lev == NULL && old->inbound == l->inbound &&
			    strcmp(old->address, l->address) == 0) {
				old->lev = l->lev;
				l->lev = NULL;
				evconnlistener_set_cb(old->lev,
				    listener_accept, old);
			}
		TAILQ_REMOVE(&fresh, l, entry);
		listener_free(l);
	}
	return -1;
}

static void
proxy_set_consult(struct proxy *p, struct generation *g)
{
	const struct proxy_daemon *rd = &g->pc->route;

	if (p->consult != NULL &&
	    strcmp(consult_address(p->consult), rd->address) == 0) {
		consult_set_timeout(p->consult, rd->timeout_ms);
		return;
	}
	if (p->consult != NULL)
		consult_free(p->consult);
	p->consult = consult_new(p, rd->address, rd->timeout_ms);
}

/* The clients of the optional daemons follow the config too. */
static void
proxy_set_daemons(struct proxy *p, struct generation *g)
{
	authz_configure(p, g->pc);
	breaker_configure(p, g->pc);
	identity_configure(p, g->pc);
	observe_configure(p, g);
}

static void
proxy_reload(struct proxy *p)
{
	struct cfg_errors	 errs = { 0 };
	struct generation	*g;

	/* this reading covers any change the watch was settling on */
	if (p->watch_timer != NULL)
		evtimer_del(p->watch_timer);
	log_info("reloading %s", p->config_dir);
	if ((g = generation_new(p->config_dir, p->name, &errs)) == NULL) {
		cfg_errors_print(&errs, 0, print_error_line, NULL);
		log_warnx("reload refused: generation %llu stays in force",
		    (unsigned long long)p->gen->number);
		cfg_errors_fini(&errs);
		return;
	}
	cfg_errors_fini(&errs);
	if (!p->draining && listeners_apply(p, g) == -1) {
		log_warnx("reload refused: generation %llu stays in force",
		    (unsigned long long)p->gen->number);
		generation_unref(g);
		return;
	}
	g->number = p->gen->number + 1;
	generation_unref(p->gen);
	p->gen = g;
	proxy_set_consult(p, g);
	proxy_set_daemons(p, g);
	log_info("generation %llu in force", (unsigned long long)g->number);
}

void
proxy_maybe_exit(struct proxy *p)
{
	if (p->draining && p->nsessions == 0)
		event_base_loopexit(p->base, NULL);
}

static void
drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	log_warnx("drain timeout: %zu connections still open, exiting",
	    p->nsessions);
	event_base_loopexit(p->base, NULL);
}

/* Stop accepting, let requests in flight finish, then exit. */
static void
proxy_drain(struct proxy *p)
{
	struct listener	*l, *next;
	struct session	*s, *snext;
	struct timeval	 tv;
	uint64_t	 ms = p->gen->pc->drain_timeout_ms;

	if (p->draining)
		return;
	p->draining = 1;
	log_info("draining %zu connections", p->nsessions);
	TAILQ_FOREACH_SAFE(l, &p->listeners, entry, next) {
		TAILQ_REMOVE(&p->listeners, l, entry);
		listener_free(l);
	}
	TAILQ_FOREACH(s, &p->sessions, entry)
		s->listener = NULL;
	TAILQ_FOREACH_SAFE(s, &p->sessions, entry, snext)
		session_drain(s);
	tv = util_ms_timeval(ms);
	p->drain_timer = evtimer_new(p->base, drain_timeout, p);
	evtimer_add(p->drain_timer, &tv);
	proxy_maybe_exit(p);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct proxy	*p = arg;

	switch (sig) {
	case SIGHUP:
		proxy_reload(p);
		break;
	case SIGTERM:
	case SIGINT:
		proxy_drain(p);
		break;
	case SIGUSR1:
		log_setlevel(log_getlevel() + 1);
		log_info("log level %d", log_getlevel());
		break;
	case SIGUSR2:
		log_setlevel(log_getlevel() - 1);
		log_info("log level %d", log_getlevel());
		break;
	}
}

/*
 * Once a second: close pooled connections idle too long, and drop route
 * answers nobody used for a while, so the cache stays small.
 */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;
	size_t		 pos = 0;
	const char	*key;
	void		*value;
	uint64_t	 now = util_now_ms();

	pools_sweep(p, now);
	authz_sweep(p, now);
	breaker_sweep(p, now);
	observe_sweep(p, now);
	while (strmap_next(&p->routes, &pos, &key, &value)) {
		struct route_entry *e = value;

		if (e->inflight || !TAILQ_EMPTY(&e->waiters) ||
		    e->state != ROUTE_ENTRY_VALID)
			continue;
		if (now > e->expires_ms + 60000 &&
		    now > e->last_used_ms + 60000)
			routing_forget(p, e);
	}
}

/*
 * The config directory is re-read when a file in it changes (meshctl
 * apply, an editor, a Kubernetes ConfigMap swapping its ..data link) as
 * on SIGHUP: a burst of changes settles for 100 ms first.
 */
static void
watch_start(struct proxy *p)
{
	uint32_t	 mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			    IN_DELETE | IN_CREATE | IN_ATTRIB;

	if ((p->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify: %s will be re-read on SIGHUP only",
		    p->config_dir);
		return;
	}
	if (inotify_add_watch(p->watch_fd, p->config_dir, mask) == -1) {
		log_warn("watch %s: re-read on SIGHUP only", p->config_dir);
		close(p->watch_fd);
		p->watch_fd = -1;
		return;
	}
	p->watch_ev = event_new(p->base, p->watch_fd, EV_READ | EV_PERSIST,
	    watch_cb, p);
	event_add(p->watch_ev, NULL);
	p->watch_timer = evtimer_new(p->base, watch_settled, p);
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;
	char		 buf[4096];
	struct timeval	 tv = { 0, 100000 };

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	evtimer_add(p->watch_timer, &tv);
}

static void
watch_settled(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	if (!p->draining)
		proxy_reload(p);
}

static void
write_pidfile(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		fatal("%s", path);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

int
main(int argc, char *argv[])
{
	struct proxy		 proxy, *p = &proxy;
	struct cfg_errors	 errs = { 0 };
	const char		*logfile = NULL, *user = NULL;
	int			 ch, level = LOG_LEVEL_INFO, check = 0;
	int			 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1,
				    SIGUSR2 };
	struct event		*sigev[nitems(sigs)];
	struct timeval		 sweep = { 1, 0 };
	size_t			 i;
	uint64_t		 reports_sent, reports_dropped;
	uint64_t		 records_sent, records_dropped;

	evmem_init();
	memset(p, 0, sizeof(*p));
	p->config_dir = "/etc/meshkit";
	p->pipeline = &stage_list;
	while ((ch = getopt(argc, argv, "c:l:n:p:qtu:v")) != -1) {
		switch (ch) {
		case 'c':
			p->config_dir = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'n':
			p->name = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'q':
			level--;
			break;
		case 't':
			check = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			level++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("proxy-d", 1, level);
	log_setlevel(level);
	if (logfile != NULL && log_init_file(logfile) == -1)
		fatal("%s", logfile);
	signal(SIGPIPE, SIG_IGN);
	{
		/* two descriptors a connection: take all the system allows */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	if ((p->gen = generation_new(p->config_dir, p->name, &errs)) == NULL) {
		cfg_errors_print(&errs, 0, print_error_line, NULL);
		cfg_errors_fini(&errs);
		fatalx("no usable configuration in %s", p->config_dir);
	}
	cfg_errors_fini(&errs);
	p->gen->number = 1;
	if (check) {
		printf("%s: configuration ok\n", p->config_dir);
		generation_unref(p->gen);
		return 0;
	}
	if (p->name == NULL)
		p->name = p->gen->pc->meta.name;

	if ((p->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* 0 urgent (idle upstream connections), 1 default (I/O), 2 after
	   I/O (consult batches) */
	event_base_priority_init(p->base, PRIO_AFTER_IO + 1);
	TAILQ_INIT(&p->listeners);
	TAILQ_INIT(&p->sessions);
	TAILQ_INIT(&p->mirrors);
	strmap_init(&p->pools);
	strmap_init(&p->routes);
	strmap_init(&p->authz_cache);
	strmap_init(&p->clusters);
	identity_init(p);

	if (listeners_apply(p, p->gen) == -1)
		fatalx("cannot open listeners");
	proxy_set_consult(p, p->gen);
	proxy_set_daemons(p, p->gen);
	for (i = 0; i < nitems(sigs); i++) {
		sigev[i] = evsignal_new(p->base, sigs[i], signal_cb, p);
		evsignal_add(sigev[i], NULL);
	}
	p->watch_fd = -1;
	watch_start(p);
	p->sweep_timer = event_new(p->base, -1, EV_PERSIST, sweep_cb, p);
	evtimer_add(p->sweep_timer, &sweep);
	if (pidfile != NULL)
		write_pidfile(pidfile);
	/* bound: now as the unprivileged user, in a run directory of ours */
	if (privdrop_daemon(user, util_rundir()) == -1)
		exit(1);
	log_info("proxy-d %s serving workload %s.%s, generation 1",
	    p->name, p->gen->pc->workload_name, p->gen->pc->workload_namespace);

	event_base_dispatch(p->base);

	log_info("exiting");
	daemon_stop_deadline("proxy-d", DAEMON_STOP_DEADLINE_S);
	if (pidfile != NULL)
		unlink(pidfile);
	for (i = 0; i < nitems(sigs); i++)
		event_free(sigev[i]);
	event_free(p->sweep_timer);
	if (p->watch_ev != NULL) {
		event_free(p->watch_ev);
		event_free(p->watch_timer);
		close(p->watch_fd);
	}
	if (p->drain_timer != NULL)
		event_free(p->drain_timer);
	while (!TAILQ_EMPTY(&p->sessions))
		session_free_now(TAILQ_FIRST(&p->sessions));
	{
		struct listener *l;

		while ((l = TAILQ_FIRST(&p->listeners)) != NULL) {
			TAILQ_REMOVE(&p->listeners, l, entry);
			listener_free(l);
		}
	}
	conn_fini(p);
	mirrors_free(p);
	breaker_reports(p, &reports_sent, &reports_dropped);
	observe_counters(p, &records_sent, &records_dropped);
	log_info("counters: records to stats-d sent %llu dropped %llu",
	    (unsigned long long)records_sent,
	    (unsigned long long)records_dropped);
	log_info("counters: requests %llu; retries %llu timeouts %llu "
	    "faults %llu mirrors %llu; route hits %llu misses %llu "
	    "stale %llu failures %llu; authz questions %llu hits %llu "
	    "coalesced %llu allowed %llu denied %llu failures %llu; breaker "
	    "questions %llu failures %llu overflows %llu queued %llu "
	    "skipped %llu events %llu reports %llu dropped %llu folded %llu",
	    (unsigned long long)p->requests,
	    (unsigned long long)p->retries,
	    (unsigned long long)p->timeouts,
	    (unsigned long long)p->faults,
	    (unsigned long long)p->mirrors_sent,
	    (unsigned long long)p->route_hits,
	    (unsigned long long)p->route_misses,
	    (unsigned long long)p->route_stale,
	    (unsigned long long)p->route_failures,
	    (unsigned long long)p->authz_questions,
	    (unsigned long long)p->authz_hits,
	    (unsigned long long)p->authz_coalesced,
	    (unsigned long long)p->authz_allowed,
	    (unsigned long long)p->authz_denied,
	    (unsigned long long)p->authz_failures,
	    (unsigned long long)p->breaker_questions,
	    (unsigned long long)p->breaker_failures,
	    (unsigned long long)p->breaker_overflows,
	    (unsigned long long)p->breaker_queued,
	    (unsigned long long)p->breaker_skipped,
	    (unsigned long long)p->breaker_events,
	    (unsigned long long)reports_sent,
	    (unsigned long long)reports_dropped,
	    (unsigned long long)p->reports_folded);
	/* the questions still out fail into the cache: free it after */
	if (p->consult != NULL)
		consult_free(p->consult);
	p->consult = NULL;
	routing_fini(p);
	authz_fini(p);
	breaker_fini(p);
	observe_fini(p);
	pools_free(p);
	if (p->tls_accepted > 0 || p->plaintext_accepted > 0)
		log_info("counters: TLS clients %llu (full handshakes %llu, "
		    "resumed %llu), refused %llu; plain text on mTLS "
		    "listeners %llu", (unsigned long long)p->tls_accepted,
		    (unsigned long long)p->tls_full,
		    (unsigned long long)p->tls_resumed,
		    (unsigned long long)p->tls_refused,
		    (unsigned long long)p->plaintext_accepted);
	identity_fini(p);
	generation_unref(p->gen);
	event_base_free(p->base);
	evmem_purge();
	return 0;
}
