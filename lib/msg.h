/* SPDX-License-Identifier: ISC */
/*
 * The text messages of meshkit-ipc(7): a "meshkit/1 TYPE" line, a header
 * block, then records, blocks of "key: value" lines separated by one empty
 * line.  The reader does not copy: fields point into the caller's buffer,
 * which must outlive the struct msg.
 */
#ifndef MESHKIT_MSG_H
#define MESHKIT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MSG_VERSION		1
#define MSG_MAX_BYTES		(1024 * 1024)
#define MSG_MAX_RECORDS		4096
#define MSG_MAX_KEY		64

/* What the daemons' status replies say they are. */
#ifndef MESHKIT_VERSION
#define MESHKIT_VERSION		"0.1"
#endif

struct msg_field {
	struct str	key;
	struct str	value;
};

/* A block: fields[first .. first + count - 1] of the message. */
struct msg_block {
	size_t		first;
	size_t		count;
};

/*
 * The keys a writer puts in records (at most 254, each 1 to MSG_MAX_KEY
 * key bytes): msg_parse_keyed tries the one that followed the previous
 * key last time, then the others, before it reads a key byte by byte,
 * and says which it found.
 */
#define MSG_KEY_NONE		0xff
struct msg_keys {
	const char *const	*keys;
	const unsigned char	*lens;
	size_t			 n;
};

struct msg {
	int			 version;
	struct str		 type;
	struct msg_block	 header;
	struct msg_block	*records;
	size_t			 nrecords;
	size_t			 caprecords;
	struct msg_field	*fields;
	size_t			 nfields;
	size_t			 capfields;
	/*
	 * Parsed with msg_parse_keyed: these keys, and for each field the
	 * position of its key among them, or MSG_KEY_NONE (a header
	 * field, a key not there).  NULL after msg_parse.
	 */
	const struct msg_keys	*keyed;
	unsigned char		*keyids;
	/*
	 * msg_parse_keyed's guess of the key that follows each (that
	 * starts a record, for MSG_KEY_NONE), learned from what it read.
	 */
	unsigned char		 keyafter[MSG_KEY_NONE + 1];
};

void	msg_init(struct msg *);
void	msg_fini(struct msg *);
/*
 * Read one whole message.  Returns 0, or -1 with a reason in err.  The
 * msg may be reused for another parse without msg_fini in between.
 */
int	msg_parse(struct msg *, const char *buf, size_t len, char *err,
	    size_t errlen);
/*
 * The same, for messages whose records a known writer wrote: the same
 * result and errors, and m->keyids.
 */
int	msg_parse_keyed(struct msg *, const char *buf, size_t len,
	    const struct msg_keys *, char *err, size_t errlen);
/*
 * In a byte stream, the length of the first message of buf: up to the
 * next line that starts with "meshkit/", or all of buf.
 */
size_t	msg_stream_next(const char *buf, size_t len);

int	msg_type_is(const struct msg *, const char *type);
/* First value of key in the block, or a NULL str (p == NULL). */
struct str msg_get(const struct msg *, const struct msg_block *,
	    const char *key);
/* Decimal value of key; returns 0 and stores it, or -1 (absent/bad). */
int	msg_get_u64(const struct msg *, const struct msg_block *,
	    const char *key, uint64_t *);
/* The same for a value already in hand: digits only, no sign or space. */
int	msg_str_u64(struct str, uint64_t *);

/* A growing output buffer for writing messages. */
struct msg_writer {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 overflow;	/* past MSG_MAX_BYTES: the message is dropped */
};

void	msgw_init(struct msg_writer *);
void	msgw_fini(struct msg_writer *);
void	msgw_reset(struct msg_writer *);
/* Starts a message: the "meshkit/1 TYPE" line. */
void	msgw_begin(struct msg_writer *, const char *type);
/* Starts a new record (the empty line before it). */
void	msgw_record(struct msg_writer *);
/*
 * One field.  CR, LF and NUL in the value are replaced by a space so that
 * no value can forge a field.
 */
void	msgw_field(struct msg_writer *, const char *key, struct str value);
void	msgw_fieldf(struct msg_writer *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	msgw_field_u64(struct msg_writer *, const char *key, uint64_t);
/*
 * For a writer of many fields at once (lib/record.c): room for n more
 * bytes at the end (NULL once the message overflowed), filled by the
 * caller and closed with msgw_commit at the end of what it wrote, which
 * marks the message overflowed past MSG_MAX_BYTES.  msgw_put_value
 * copies a value with CR, LF and NUL as spaces, and says where it ends.
 */
char	*msgw_space(struct msg_writer *, size_t n);
void	 msgw_commit(struct msg_writer *, const char *end);
char	*msgw_put_value(char *dst, struct str value);
/*
 * A "key: name: value" field for an HTTP header, the name in lower case
 * as meshkit-ipc(7) wants it; any length (a header proxy-d forwards is
 * one the daemon sees).
 */
void	msgw_field_header(struct msg_writer *, const char *key,
	    struct str name, struct str value);

/*
 * Who asks: the header block every question and report carries (the
 * asking workload's name, namespace and labels), so one set of daemons
 * can serve many proxies.  Strings point into the message.
 */
#define MSG_MAX_LABELS		32
#define MSG_DEFAULT_NAMESPACE	"default"

struct msg_source {
	struct str	 workload;
	struct str	 namespace;	/* MSG_DEFAULT_NAMESPACE if absent */
	struct str	 label_keys[MSG_MAX_LABELS];
	struct str	 label_values[MSG_MAX_LABELS];
	size_t		 nlabels;	/* labels past the limit are ignored */
};

/* The header of m; -1 for a label that is not key=value. */
int	msg_source_read(const struct msg *m, struct msg_source *);
/*
 * Start a message of this type with the header of the asking workload:
 * resets the writer.
 */
void	msgw_source(struct msg_writer *, const char *type,
	    const char *workload, const char *namespace, char *const *keys,
	    char *const *values, size_t nlabels);

#endif
