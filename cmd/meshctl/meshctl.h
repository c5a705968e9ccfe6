/*
 * meshctl: the operator's tool.  One table of subcommands in main.c; each
 * subcommand is a function in its own file that parses its own flags.
 */
#ifndef MESHCTL_H
#define MESHCTL_H

#include <stdio.h>

#define MESHCTL_DEFAULT_CONFIG	"/etc/meshkit"

/* Exit status, as meshctl(8) documents it. */
#define MESHCTL_EXIT_OK		0
#define MESHCTL_EXIT_FAIL	1	/* errors found, daemon down */
#define MESHCTL_EXIT_USAGE	2

enum meshctl_output {
	OUTPUT_TEXT,
	OUTPUT_JSON,
};

/* What the global flags set; subcommands may set them too. */
struct meshctl {
	const char		*config_dir;
	int			 config_dir_set;	/* -c given */
	enum meshctl_output	 output;
};

struct meshctl_command {
	const char	*name;
	int		(*run)(struct meshctl *, int, char **);
	const char	*usage;		/* after "meshctl NAME" */
	const char	*summary;
};

/*
 * A flag every subcommand takes (-c, -o, -h).  Returns 1 when it was one,
 * 0 when it is not, -1 on a bad value (after saying so).
 */
int	meshctl_common_flag(struct meshctl *, int ch, const char *arg);
/* "usage: meshctl NAME ..." for one command on stderr; returns 2. */
int	meshctl_usage(const char *name);
/* s as a JSON string, quotes included. */
void	meshctl_json_string(FILE *, const char *);

int	meshctl_validate(struct meshctl *, int, char **);
int	meshctl_status(struct meshctl *, int, char **);

#endif
