/* SPDX-License-Identifier: ISC */
/*
 * stats-d's access log files (statsd.h).
 *
 * A sink's lines move, under stats-d's lock, into this module's buffer
 * for the same path, and are written without the lock, so a slow disk
 * holds up only the records thread (and, through nng's queue, the
 * proxies' batches, which they drop and count: never a request).  A
 * write error is counted in the sink and logged once a minute.
 * "syslog[:facility]" sends each line to syslog(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "sbuf.h"
#include "stats.h"
#include "statsd.h"
#include "util.h"

#define LOGS_MAX	STATS_MAX_SINKS
#define LOGS_WARN_MS	60000

struct logs_file {
	char		*path;
	int		 fd;		/* -1: closed, or syslog */
	int		 facility;	/* syslog: LOG_*, else -1 */
	struct sbuf	 out;
	uint64_t	 errors;	/* since the last flush */
	uint64_t	 warned_ms;
};

struct logs {
	struct logs_file	 files[LOGS_MAX];
	size_t			 nfiles;
	atomic_int		 reopen;
};

static struct logs_file *logs_file(struct logs *, const char *);
static void	logs_open(struct logs_file *);
static void	logs_syslog(struct logs_file *);

struct logs *
logs_new(void)
{
	struct logs	*l = xcalloc(1, sizeof(*l));

	atomic_init(&l->reopen, 0);
	return l;
}

void
logs_free(struct logs *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nfiles; i++) {
		if (l->files[i].fd > STDERR_FILENO)
			close(l->files[i].fd);
		free(l->files[i].path);
		sbuf_fini(&l->files[i].out);
	}
	free(l);
}

static struct logs_file *
logs_file(struct logs *l, const char *path)
{
	struct logs_file	*f;
	size_t			 i;

	for (i = 0; i < l->nfiles; i++)
		if (strcmp(l->files[i].path, path) == 0)
			return &l->files[i];
	if (l->nfiles == LOGS_MAX)
		return NULL;
	f = &l->files[l->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->fd = -1;
	f->facility = -1;
	sbuf_init(&f->out, STATS_SINK_BUFFER);
	return f;
}

static void
logs_open(struct logs_file *f)
{
	static const struct {
		const char	*name;
		int		 facility;
	} facilities[] = {
		{ "user", LOG_USER }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t	 i;

	if (f->fd > STDERR_FILENO)
		close(f->fd);
	f->fd = -1;
	if (strcmp(f->path, "syslog") == 0) {
		f->facility = LOG_USER;
		return;
	}
	if (strncmp(f->path, "syslog:", 7) == 0) {
		f->facility = LOG_USER;
		for (i = 0; i < nitems(facilities); i++)
			if (strcmp(f->path + 7, facilities[i].name) == 0)
				f->facility = facilities[i].facility;
		return;
	}
	/* the standard streams are shared, never reopened */
	if (strcmp(f->path, "/dev/stdout") == 0 || strcmp(f->path, "-") == 0) {
		f->fd = STDOUT_FILENO;
		return;
	}
	if (strcmp(f->path, "/dev/stderr") == 0) {
		f->fd = STDERR_FILENO;
		return;
	}
	if ((f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		log_warn("access log %s", f->path);
}

/* One syslog message per line. */
static void
logs_syslog(struct logs_file *f)
{
	char	*p = f->out.buf, *nl;

	while (p < f->out.buf + f->out.len) {
		if ((nl = memchr(p, '\n', (size_t)(f->out.buf + f->out.len -
		    p))) == NULL)
			nl = f->out.buf + f->out.len;
		syslog(f->facility | LOG_INFO, "%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

void
logs_flush(struct logs *l, struct stats *st)
{
	struct stats_sink	*s;
	struct logs_file	*f;
	size_t			 i, before;

	for (i = 0; i < st->nsinks; i++) {
		s = st->sinks[i];
		if ((f = logs_file(l, s->path)) == NULL) {
			/* more files than sinks can be: it cannot happen */
			s->dropped += s->lines > 0 ? 1 : 0;
			sbuf_reset(&s->pending);
			continue;
		}
		s->errors += f->errors;
		f->errors = 0;
		if (s->pending.len == 0)
			continue;
		before = f->out.len;
		sbuf_add(&f->out, s->pending.buf, s->pending.len);
		if (f->out.overflow) {
			sbuf_truncate(&f->out, before);
			s->dropped++;
		}
		sbuf_reset(&s->pending);
	}
}

void
logs_write(struct logs *l)
{
	struct logs_file	*f;
	size_t			 i, off;
	ssize_t			 n;
	int			 reopen;
	uint64_t		 now;

	reopen = atomic_exchange(&l->reopen, 0);
	for (i = 0; i < l->nfiles; i++) {
		f = &l->files[i];
		if (reopen || (f->fd == -1 && f->facility == -1))
			logs_open(f);
		if (f->out.len == 0)
			continue;
		if (f->facility != -1) {
			logs_syslog(f);
			sbuf_reset(&f->out);
			continue;
		}
		for (off = 0; f->fd != -1 && off < f->out.len; off += (size_t)n)
			if ((n = write(f->fd, f->out.buf + off,
			    f->out.len - off)) <= 0) {
				if (n == -1 && errno == EINTR) {
					n = 0;
					continue;
				}
				break;
			}
		if (f->fd == -1 || off < f->out.len) {
			f->errors++;
			now = util_now_ms();
			if (f->warned_ms == 0 || now > f->warned_ms +
			    LOGS_WARN_MS) {
				f->warned_ms = now;
				log_warn("access log %s", f->path);
			}
			/* an unwritable file is tried again next time */
			if (f->fd > STDERR_FILENO) {
				close(f->fd);
				f->fd = -1;
			}
		}
		sbuf_reset(&f->out);
	}
}

void
logs_reopen(struct logs *l)
{
	atomic_store(&l->reopen, 1);
}
