/* SPDX-License-Identifier: ISC */
/*
 * YAML documents read with libyaml's event API into a small tree that
 * keeps line and column of every node.  Hostile input is refused with a
 * clear error: anchors and aliases, nesting deeper than YAML_MAX_DEPTH,
 * more than YAML_MAX_NODES nodes, input larger than YAML_MAX_BYTES.
 */
#ifndef MESHKIT_YAML_H
#define MESHKIT_YAML_H

#include <stddef.h>

#define YAML_MAX_BYTES	(4 * 1024 * 1024)
#define YAML_MAX_DEPTH	64
#define YAML_MAX_NODES	200000

enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ,
};

struct ynode {
	enum ynode_type	 type;
	int		 line;		/* 1-based */
	int		 col;		/* 1-based */
	/* scalar */
	char		*value;		/* NUL-terminated */
	size_t		 len;
	int		 plain;		/* unquoted: may be null/true/123 */
	/* map: keys[i] -> values[i]; seq: values[i] */
	struct ynode	**keys;
	struct ynode	**values;
	size_t		 n;
};

struct ydoc {
	struct ynode	*root;		/* NULL for an empty document */
	int		 line;		/* where the document starts */
};

/*
 * What cfg_errors_add's severity says of a message.  An error makes a
 * load fail.  A notice is information (a kind skipped as a whole).  A
 * warning is a field that was read and checked but that meshkit does
 * not act on: the load succeeds, meshctl validate prints it, --strict
 * makes it an error, and daemons log it when they load the config.
 */
#define CFG_ERROR	0
#define CFG_NOTICE	1
#define CFG_WARNING	2

/* One message, as "file:line:col: [notice: |warning: ]message". */
struct cfg_error {
	char		*file;
	int		 line;
	int		 col;
	char		*message;
	int		 notice;	/* not an error: a notice or warning */
	int		 warning;	/* a warning (notice is set too) */
	char		*kind;		/* the resource's kind, or NULL */
};

struct cfg_errors {
	struct cfg_error	*v;
	size_t			 n;
	size_t			 nerrors;	/* entries with notice == 0 */
	size_t			 nwarnings;	/* entries with warning */
};

/* severity: CFG_ERROR, CFG_NOTICE or CFG_WARNING */
void	cfg_errors_add(struct cfg_errors *, const char *file, int line,
	    int col, int severity, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/*
 * Errors always; notices and warnings too when with_notices.  Each line
 * is formatted as cfg_error_line does.
 */
void	cfg_errors_print(const struct cfg_errors *, int with_notices,
	    void (*out)(const char *line, void *), void *arg);
/* One message as a line (free it), without the newline. */
char	*cfg_error_line(const struct cfg_error *);
/* Only the warnings about one of kinds[] (all warnings when kinds NULL). */
void	cfg_errors_print_warnings(const struct cfg_errors *,
	    const char *const *kinds, size_t nkinds,
	    void (*out)(const char *line, void *), void *arg);
/* --strict: every warning becomes an error. */
void	cfg_errors_strict(struct cfg_errors *);
void	cfg_errors_fini(struct cfg_errors *);

/*
 * Parse every document of buf.  On success returns 0 and the documents
 * (free with yaml_docs_free).  On failure returns -1 and adds the error,
 * with file as its file name, to errs.
 */
int	yaml_parse(const char *file, const char *buf, size_t len,
	    struct ydoc **docs, size_t *ndocs, struct cfg_errors *errs);
void	yaml_docs_free(struct ydoc *, size_t);

/* Map lookup by key, or NULL. */
struct ynode *yaml_get(const struct ynode *map, const char *key);

/*
 * s[0..len) in double quotes for a message, control bytes escaped and cut
 * short with "..." to fit out (at least 16 bytes).
 */
void	yaml_quote(char *out, size_t outlen, const char *s, size_t len);

#endif
