/* SPDX-License-Identifier: ISC */
/*
 * A small strict JSON reader (RFC 8259) for what meshkit reads from
 * outside: JWT headers and claims, JWKS documents.  Hostile input is
 * refused with a reason: nesting deeper than JSON_MAX_DEPTH, more than
 * JSON_MAX_NODES values, invalid UTF-8, a NUL in a string (\u0000), a
 * duplicate key in an object, anything after the value.
 */
#ifndef MESHKIT_JSON_H
#define MESHKIT_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH	32
#define JSON_MAX_NODES	20000

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type	 type;
	int		 boolean;
	double		 number;
	/* string: NUL-terminated, no NUL inside; number: its text */
	char		*string;
	size_t		 len;
	/* object: keys[i] -> values[i]; array: values[i] */
	char		**keys;
	struct json	**values;
	size_t		 n;
};

/*
 * Parse buf[0..len) as one JSON value.  Returns the tree (free with
 * json_free), or NULL with a reason in err.
 */
struct json	*json_parse(const char *buf, size_t len, char *err,
		    size_t errlen);
void		 json_free(struct json *);

/* The member key of an object, or NULL (also when obj is no object). */
const struct json *json_get(const struct json *obj, const char *key);
/* The string member key, or NULL when absent or of another type. */
const char	*json_get_string(const struct json *obj, const char *key);

#endif
