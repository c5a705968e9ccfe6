/* SPDX-License-Identifier: ISC */
/*
 * One log API for every meshkit program.  In the foreground messages go to
 * stderr; otherwise to syslog, or to a file when log_init_file() was used.
 */
#ifndef MESHKIT_LOG_H
#define MESHKIT_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_WARN	0
#define LOG_LEVEL_INFO	1
#define LOG_LEVEL_DEBUG	2

void	log_init(const char *progname, int foreground, int level);
int	log_init_file(const char *path);
void	log_setlevel(int level);
int	log_getlevel(void);
void	log_procname(const char *name);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_vmsg(int level, int with_errno, const char *, va_list);
_Noreturn void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
