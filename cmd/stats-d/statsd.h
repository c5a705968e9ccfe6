/* SPDX-License-Identifier: ISC */
/*
 * stats-d's parts: main.c (flags, the daemon skeleton, the records
 * socket, the REP answers), web.c (the HTTP thread: /metrics, the graph
 * page, the polls of the other daemons, the exports to collectors) and
 * logs.c (the access log files).  The work itself is lib/stats.c.
 */
#ifndef MESHKIT_STATSD_H
#define MESHKIT_STATSD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "daemon.h"
#include "msg.h"
#include "stats.h"

#define STATSD_DEFAULT_HTTP	"127.0.0.1:15090"
#define STATSD_MAX_DAEMONS	8
#define STATSD_POLL_MS		1000	/* the other daemons' status */
#define STATSD_POLL_TIMEOUT_MS	500
/* failed polls in a row before a daemon's socket is made anew */
#define STATSD_POLL_REDIAL	3
#define STATSD_EXPORT_MS	1000	/* default export interval */
#define STATSD_EXPORT_TIMEOUT_MS 5000
#define STATSD_HISTORY		60	/* seconds of the page's panels */
/*
 * A batch of 256 records is about 1 ms of work, in one of nng's threads.
 * The kernel tends to run it on the CPU of the proxy-d that sent it (the
 * wake-up is affine), and does not move a proxy-d that ran a moment ago
 * to the other CPU (it is cache-hot): the proxy waited out the batch
 * while the other CPU idled (a fifth of a 2-CPU machine under load).
 * Giving the CPU up every 16 records lets a waiting proxy-d in.
 */
#define STATSD_YIELD_EVERY	16

struct web;
struct logs;

/* A daemon whose status stats-d publishes. */
struct statsd_daemon {
	char		*name;		/* "route-d" */
	char		*url;
	int		 given;		/* by -d: always asked */
	nng_socket	 sock;
	int		 open;
	nng_ctx		 ctx;
	nng_aio		*aio;
	int		 busy;
	int		 up;
	int		 failures;	/* polls failed in a row */
	char		*reply;		/* the last status-reply */
	size_t		 reply_len;
	struct statsd	*sd;
};

struct statsd {
	struct daemon		 d;
	pthread_mutex_t		 lock;		/* stats, config, daemons */
	struct stats		*stats;
	char			*records_url;	/* PULL */
	char			*records_path;
	nng_socket		 pull;
	int			 pull_open;
	nng_aio			*pull_aio;
	char			*http_flag;	/* -H */
	char			*http_address;	/* in force */
	struct statsd_daemon	 daemons[STATSD_MAX_DAEMONS];
	size_t			 ndaemons;
	struct web		*web;
	struct logs		*logs;
	uint64_t		 started_ms;
	int			 reopen_logs;	/* SIGHUP: set under lock */
};

/* web.c: its thread; 0, or -1 logged. */
int	web_start(struct statsd *);
void	web_stop(struct statsd *);
/* After a reload: the address may have moved, the export interval too. */
void	web_reconfigure(struct statsd *);

/*
 * logs.c: the access log files.  logs_flush, under sd->lock, takes what
 * the sinks hold; logs_write, by one thread at a time and without the
 * lock, writes it out.  logs_reopen (any thread) has the next write
 * open every file afresh, for logrotate.
 */
struct logs *logs_new(void);
void	logs_free(struct logs *);
void	logs_flush(struct logs *, struct stats *);
void	logs_write(struct logs *);
void	logs_reopen(struct logs *);

/* The graph page, from page.html. */
extern const char	statsd_page[];

#endif
