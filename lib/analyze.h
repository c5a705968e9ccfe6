/* SPDX-License-Identifier: ISC */
/*
 * meshctl analyze's checks across resources, after istioctl analyze:
 * a loaded config in, messages out, each with Istio's code and wording
 * where Istio has the check (IST0101 ReferencedResourceNotFound, ...),
 * and a code of meshkit's own (MK...) where it has none.
 */
#ifndef MESHKIT_ANALYZE_H
#define MESHKIT_ANALYZE_H

#include <stddef.h>

struct cfg_errors;
struct config;

enum analyze_level {
	ANALYZE_ERROR,
	ANALYZE_WARNING,
	ANALYZE_INFO,
};

struct analyze_message {
	enum analyze_level	 level;
	const char		*code;		/* "IST0101", static */
	const char		*name;		/* its name, static */
	char			*kind;		/* the resource, NULL: a file */
	char			*namespace;
	char			*resource;	/* its name */
	char			*file;
	int			 line;		/* 0: the file as a whole */
	int			 col;
	char			*text;
};

struct analyze_messages {
	struct analyze_message	*v;
	size_t			 n;
	size_t			 nerrors;	/* level ANALYZE_ERROR */
};

/*
 * Every check across cfg's resources; messages are appended to msgs,
 * errors first, then by file and line.
 */
void	analyze_config(const struct config *, struct analyze_messages *);
/*
 * A load's errors and warnings as istioctl reports schema problems:
 * IST0106 SchemaValidationError, IST0133 SchemaWarning.
 */
void	analyze_load_messages(const struct cfg_errors *,
	    struct analyze_messages *);
/* Errors first, then warnings, each by file and line. */
void	analyze_sort(struct analyze_messages *);
/* "Error", "Warning", "Info" */
const char *analyze_level_name(enum analyze_level);
/*
 * One message as istioctl prints it (free it):
 * Error [IST0101] (VirtualService default/shop vs.yaml:12) Referenced ...
 */
char	*analyze_message_line(const struct analyze_message *);
void	analyze_messages_fini(struct analyze_messages *);

#endif
