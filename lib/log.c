/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_name = "meshkit";
static int		 log_foreground = 1;
static int		 log_level = LOG_LEVEL_INFO;
static FILE		*log_file;

void
log_init(const char *progname, int foreground, int level)
{
	log_name = progname;
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* Log to a file (appending, line buffered) instead of syslog or stderr. */
int
log_init_file(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "a")) == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	return 0;
}

void
log_setlevel(int level)
{
	if (level < LOG_LEVEL_WARN)
		level = LOG_LEVEL_WARN;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

void
log_procname(const char *name)
{
	log_name = name;
}

void
log_vmsg(int level, int with_errno, const char *fmt, va_list ap)
{
	char		 msg[2048];
	int		 saved = errno, prio;
	size_t		 n;
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_file != NULL || log_foreground) {
		FILE *f = log_file != NULL ? log_file : stderr;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, "%s.%03ld %s[%d]: %s\n", stamp, ts.tv_nsec / 1000000,
		    log_name, (int)getpid(), msg);
		fflush(f);
	} else {
		prio = level == LOG_LEVEL_WARN ? LOG_WARNING :
		    level == LOG_LEVEL_INFO ? LOG_INFO : LOG_DEBUG;
		syslog(prio, "%s", msg);
	}
	errno = saved;
}

#define LOG_BODY(level, with_errno) do {		\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vmsg(level, with_errno, fmt, ap);		\
	va_end(ap);					\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
	exit(1);
}
