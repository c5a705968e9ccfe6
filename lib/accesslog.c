/* SPDX-License-Identifier: ISC */
/*
 * Envoy's access log format language over meshkit's records
 * (accesslog.h).
 *
 * A format is parsed once into pieces: literal text, or a command
 * operator with its argument and length limit.  An operator gives a
 * string, a number, or nothing: nothing is "-" in a text line and null in
 * JSON, and a number is a JSON number when it is a value's only piece,
 * as Envoy's JSON formats write them.  Numbers come only from the
 * operators Envoy renders as numbers in typed JSON (durations, byte
 * counts, the response code, the attempt count, the gRPC status as a
 * NUMBER); a header's value is a string even when it holds digits.  An
 * operator meshkit cannot fill is refused when the format is read, never
 * printed as a silent "-".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "json.h"
#include "record.h"
#include "sbuf.h"
#include "util.h"

enum al_op {
	OP_LITERAL,
	OP_START_TIME,
	OP_REQUEST_DURATION,
	OP_RESPONSE_DURATION,
	OP_RESPONSE_TX_DURATION,
	OP_DURATION,
	OP_BYTES_RECEIVED,
	OP_BYTES_SENT,
	OP_REQUEST_HEADERS_BYTES,
	OP_RESPONSE_HEADERS_BYTES,
	OP_PROTOCOL,
	OP_RESPONSE_CODE,
	OP_RESPONSE_CODE_DETAILS,
	OP_RESPONSE_FLAGS,
	OP_CONNECTION_TERMINATION_DETAILS,
	OP_ROUTE_NAME,
	OP_UPSTREAM_HOST,
	OP_UPSTREAM_CLUSTER,
	OP_UPSTREAM_LOCAL_ADDRESS,
	OP_UPSTREAM_TRANSPORT_FAILURE_REASON,
	OP_UPSTREAM_REQUEST_ATTEMPT_COUNT,
	OP_DOWNSTREAM_REMOTE_ADDRESS,
	OP_DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT,
	OP_DOWNSTREAM_LOCAL_ADDRESS,
	OP_DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT,
	OP_DOWNSTREAM_PEER_URI_SAN,
	OP_DOWNSTREAM_LOCAL_URI_SAN,
	OP_UPSTREAM_PEER_URI_SAN,
	OP_REQUESTED_SERVER_NAME,
	OP_TRACE_ID,
	OP_HOSTNAME,
	OP_ENVIRONMENT,
	OP_GRPC_STATUS,
	OP_GRPC_STATUS_NUMBER,
	OP_REQ,
	OP_RESP,
};

/* How %GRPC_STATUS(X)% writes the status. */
enum al_grpc_form {
	GRPC_CAMEL,		/* CAMEL_STRING, the default: NotFound */
	GRPC_SNAKE,		/* SNAKE_STRING: NOT_FOUND */
	GRPC_NUMBER,		/* NUMBER: 5 */
};

/* Operators without an argument, by name. */
static const struct {
	const char	*name;
	enum al_op	 op;
} al_plain[] = {
	{ "START_TIME", OP_START_TIME },
	{ "REQUEST_DURATION", OP_REQUEST_DURATION },
	{ "RESPONSE_DURATION", OP_RESPONSE_DURATION },
	{ "RESPONSE_TX_DURATION", OP_RESPONSE_TX_DURATION },
	{ "DURATION", OP_DURATION },
	{ "BYTES_RECEIVED", OP_BYTES_RECEIVED },
	{ "BYTES_SENT", OP_BYTES_SENT },
	{ "REQUEST_HEADERS_BYTES", OP_REQUEST_HEADERS_BYTES },
	{ "RESPONSE_HEADERS_BYTES", OP_RESPONSE_HEADERS_BYTES },
	{ "PROTOCOL", OP_PROTOCOL },
	{ "RESPONSE_CODE", OP_RESPONSE_CODE },
	{ "RESPONSE_CODE_DETAILS", OP_RESPONSE_CODE_DETAILS },
	{ "RESPONSE_FLAGS", OP_RESPONSE_FLAGS },
	{ "CONNECTION_TERMINATION_DETAILS", OP_CONNECTION_TERMINATION_DETAILS },
	{ "ROUTE_NAME", OP_ROUTE_NAME },
	{ "UPSTREAM_HOST", OP_UPSTREAM_HOST },
	{ "UPSTREAM_CLUSTER", OP_UPSTREAM_CLUSTER },
	/* Envoy's without alt_stat_name, which meshkit's clusters lack */
	{ "UPSTREAM_CLUSTER_RAW", OP_UPSTREAM_CLUSTER },
	{ "UPSTREAM_LOCAL_ADDRESS", OP_UPSTREAM_LOCAL_ADDRESS },
	{ "UPSTREAM_TRANSPORT_FAILURE_REASON",
	    OP_UPSTREAM_TRANSPORT_FAILURE_REASON },
	{ "UPSTREAM_REQUEST_ATTEMPT_COUNT", OP_UPSTREAM_REQUEST_ATTEMPT_COUNT },
	{ "DOWNSTREAM_REMOTE_ADDRESS", OP_DOWNSTREAM_REMOTE_ADDRESS },
	{ "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
	    OP_DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT },
	{ "DOWNSTREAM_DIRECT_REMOTE_ADDRESS", OP_DOWNSTREAM_REMOTE_ADDRESS },
	{ "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
	    OP_DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT },
	{ "DOWNSTREAM_LOCAL_ADDRESS", OP_DOWNSTREAM_LOCAL_ADDRESS },
	{ "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
	    OP_DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT },
	{ "DOWNSTREAM_PEER_URI_SAN", OP_DOWNSTREAM_PEER_URI_SAN },
	{ "DOWNSTREAM_LOCAL_URI_SAN", OP_DOWNSTREAM_LOCAL_URI_SAN },
	{ "UPSTREAM_PEER_URI_SAN", OP_UPSTREAM_PEER_URI_SAN },
	{ "REQUESTED_SERVER_NAME", OP_REQUESTED_SERVER_NAME },
	{ "TRACE_ID", OP_TRACE_ID },
	{ "HOSTNAME", OP_HOSTNAME },
	{ "GRPC_STATUS", OP_GRPC_STATUS },
	{ "GRPC_STATUS_NUMBER", OP_GRPC_STATUS_NUMBER },
};

/*
 * gRPC's status codes by number, as Envoy's GRPC_STATUS writes them:
 * CAMEL_STRING and SNAKE_STRING.  A number past them is written as one.
 */
static const char *const al_grpc_names[][2] = {
	{ "OK", "OK" },
	{ "Canceled", "CANCELLED" },
	{ "Unknown", "UNKNOWN" },
	{ "InvalidArgument", "INVALID_ARGUMENT" },
	{ "DeadlineExceeded", "DEADLINE_EXCEEDED" },
	{ "NotFound", "NOT_FOUND" },
	{ "AlreadyExists", "ALREADY_EXISTS" },
	{ "PermissionDenied", "PERMISSION_DENIED" },
	{ "ResourceExhausted", "RESOURCE_EXHAUSTED" },
	{ "FailedPrecondition", "FAILED_PRECONDITION" },
	{ "Aborted", "ABORTED" },
	{ "OutOfRange", "OUT_OF_RANGE" },
	{ "Unimplemented", "UNIMPLEMENTED" },
	{ "Internal", "INTERNAL" },
	{ "Unavailable", "UNAVAILABLE" },
	{ "DataLoss", "DATA_LOSS" },
	{ "Unauthenticated", "UNAUTHENTICATED" },
};

/* What a REQ or RESP header name is, found when the format is read. */
enum al_hdr {
	HDR_OTHER,		/* one the record carries, by name */
	HDR_METHOD,
	HDR_PATH,
	HDR_AUTHORITY,		/* :authority, host */
	HDR_SCHEME,
	HDR_ORIGINAL_PATH,
	HDR_STATUS,
	HDR_UPSTREAM_TIME,	/* x-envoy-upstream-service-time */
};

struct al_piece {
	enum al_op	 op;
	char		*text;		/* literal; header; time format; env */
	char		*alt;		/* REQ(X?Y): Y */
	size_t		 max;		/* :Z, 0: none */
	size_t		 len;		/* of a literal's text */
	enum al_hdr	 hdr[2];	/* of text, of alt */
	int		 no_query;	/* REQ_WITHOUT_QUERY: cut at '?' */
	enum al_grpc_form grpc;		/* GRPC_STATUS(X) */
};

struct al_template {
	struct al_piece	*pieces;
	size_t		 n;
};

struct accesslog_format {
	int			 json;
	struct al_template	 line;		/* text */
	char			**keys;		/* json */
	struct al_template	*values;
	size_t			 nkeys;
	const char		**headers[2];	/* REQ, RESP names */
	size_t			 nheaders[2];
	char			 hostname[256];
	size_t			 hostname_len;
};

/* A value an operator gives. */
struct al_value {
	int		 kind;		/* AL_NONE, AL_STR, AL_NUM */
	struct str	 s;
	uint64_t	 n;
	char		 buf[96];	/* when s is formatted here */
};

#define AL_NONE		0
#define AL_STR		1
#define AL_NUM		2

static int	al_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	al_parse(struct accesslog_format *, const char *,
		    struct al_template *, char *, size_t);
static int	al_operator(struct accesslog_format *, const char *, size_t,
		    struct al_piece *, char *, size_t);
static void	al_add_header(struct accesslog_format *, int, const char *);
static void	al_template_fini(struct al_template *);
static int	al_clean(const struct al_piece *, const struct record *);
static void	al_eval(const struct accesslog_format *,
		    const struct al_piece *, const struct record *,
		    struct al_value *);
static void	al_header(const struct record *, int, const char *,
		    enum al_hdr, struct al_value *);
static enum al_hdr al_hdr_kind(const char *, int);
static void	al_time(const char *, uint64_t, struct al_value *);
static void	al_str(struct al_value *, struct str);
static void	al_num(struct al_value *, uint64_t);
static void	al_ms(struct al_value *, uint64_t);
static void	al_grpc(const struct al_piece *, struct str,
		    struct al_value *);
static void	al_write_template(const struct accesslog_format *,
		    const struct al_template *, const struct record *,
		    struct sbuf *, int);
static struct accesslog_format *al_new(void);

/* The keys of the default JSON format, one per default operator. */
static const char *const al_default_json[][2] = {
	{ "start_time", "%START_TIME%" },
	{ "method", "%REQ(:METHOD)%" },
	{ "path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%" },
	{ "protocol", "%PROTOCOL%" },
	{ "response_code", "%RESPONSE_CODE%" },
	{ "response_flags", "%RESPONSE_FLAGS%" },
	{ "bytes_received", "%BYTES_RECEIVED%" },
	{ "bytes_sent", "%BYTES_SENT%" },
	{ "duration", "%DURATION%" },
	{ "upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%" },
	{ "x_forwarded_for", "%REQ(X-FORWARDED-FOR)%" },
	{ "user_agent", "%REQ(USER-AGENT)%" },
	{ "request_id", "%REQ(X-REQUEST-ID)%" },
	{ "authority", "%REQ(:AUTHORITY)%" },
	{ "upstream_host", "%UPSTREAM_HOST%" },
};

static int
al_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static struct accesslog_format *
al_new(void)
{
	struct accesslog_format	*f = xcalloc(1, sizeof(*f));

	if (gethostname(f->hostname, sizeof(f->hostname) - 1) == -1)
		f->hostname[0] = '\0';
	f->hostname_len = strlen(f->hostname);
	return f;
}

static void
al_add_header(struct accesslog_format *f, int response, const char *name)
{
	size_t	 i;

	if (al_hdr_kind(name, response) != HDR_OTHER)
		return;
	for (i = 0; i < f->nheaders[response]; i++)
		if (strcmp(f->headers[response][i], name) == 0)
			return;
	f->headers[response] = xreallocarray(f->headers[response],
	    f->nheaders[response] + 1, sizeof(*f->headers[response]));
	f->headers[response][f->nheaders[response]++] = name;
}

/* One %...% operator, name at op[0..n). */
static int
al_operator(struct accesslog_format *f, const char *op, size_t n,
    struct al_piece *p, char *err, size_t errlen)
{
	const char	*open, *close, *arg, *q;
	size_t		 namelen, arglen, i;
	char		 name[64];
	unsigned long	 max;
	char		*end;

	memset(p, 0, sizeof(*p));
	open = memchr(op, '(', n);
	namelen = open != NULL ? (size_t)(open - op) : n;
	if (namelen == 0 || namelen >= sizeof(name))
		return al_fail(err, errlen, "bad command operator %%%.*s%%",
		    (int)(n < 80 ? n : 80), op);
	memcpy(name, op, namelen);
	name[namelen] = '\0';
	arg = NULL;
	arglen = 0;
	if (open != NULL) {
		/* the argument ends at the last ')': :Z may follow */
		for (close = op + n - 1; close > open && *close != ')'; close--)
			;
		if (close == open)
			return al_fail(err, errlen, "%%%s%%: no ')'", name);
		arg = open + 1;
		arglen = (size_t)(close - arg);
		if (close + 1 < op + n) {
			if (close[1] != ':' || close + 2 >= op + n)
				return al_fail(err, errlen, "%%%.*s%%: "
				    "want :LENGTH after ')'", (int)(n < 80 ? n :
				    80), op);
			errno = 0;
			max = strtoul(close + 2, &end, 10);
			if (end != op + n || max == 0 || max > 65536 ||
			    close[2] < '0' || close[2] > '9')
				return al_fail(err, errlen, "%%%s%%: bad "
				    "length \"%.*s\"", name,
				    (int)(op + n - close - 2), close + 2);
			p->max = max;
		}
	}
	if (strcmp(name, "REQ") == 0 || strcmp(name, "RESP") == 0 ||
	    strcmp(name, "REQ_WITHOUT_QUERY") == 0) {
		p->op = name[2] == 'Q' ? OP_REQ : OP_RESP;
		p->no_query = name[3] == '_';
		if (arg == NULL || arglen == 0)
			return al_fail(err, errlen, "%%%s%% needs a header: "
			    "%%%s(NAME)%%", name, name);
		if ((q = memchr(arg, '?', arglen)) != NULL) {
			p->text = xstrndup(arg, (size_t)(q - arg));
			p->alt = xstrndup(q + 1, arglen - (size_t)(q - arg) -
			    1);
		} else
			p->text = xstrndup(arg, arglen);
		for (i = 0; p->text[i] != '\0'; i++)
			if (p->text[i] >= 'A' && p->text[i] <= 'Z')
				p->text[i] += 'a' - 'A';
		if (p->alt != NULL)
			for (i = 0; p->alt[i] != '\0'; i++)
				if (p->alt[i] >= 'A' && p->alt[i] <= 'Z')
					p->alt[i] += 'a' - 'A';
		if (p->text[0] == '\0' || (p->alt != NULL &&
		    p->alt[0] == '\0'))
			return al_fail(err, errlen, "%%%s(%.*s)%%: empty "
			    "header name", name, (int)arglen, arg);
		if ((p->text[0] == ':' && al_hdr_kind(p->text,
		    p->op == OP_RESP) == HDR_OTHER) || (p->alt != NULL &&
		    p->alt[0] == ':' && al_hdr_kind(p->alt, p->op == OP_RESP) ==
		    HDR_OTHER))
			return al_fail(err, errlen, "%%%s(%.*s)%%: unknown "
			    "pseudo-header", name, (int)arglen, arg);
		al_add_header(f, p->op == OP_RESP, p->text);
		p->hdr[0] = al_hdr_kind(p->text, p->op == OP_RESP);
		if (p->alt != NULL) {
			al_add_header(f, p->op == OP_RESP, p->alt);
			p->hdr[1] = al_hdr_kind(p->alt, p->op == OP_RESP);
		}
		return 0;
	}
	if (strcmp(name, "ENVIRONMENT") == 0) {
		if (arg == NULL || arglen == 0)
			return al_fail(err, errlen, "%%ENVIRONMENT%% needs a "
			    "name: %%ENVIRONMENT(NAME)%%");
		p->op = OP_ENVIRONMENT;
		p->text = xstrndup(arg, arglen);
		return 0;
	}
	for (i = 0; i < nitems(al_plain); i++)
		if (strcmp(al_plain[i].name, name) == 0)
			break;
	if (i == nitems(al_plain)) {
		if (strcmp(name, "TRAILER") == 0)
			return al_fail(err, errlen, "%%TRAILER%%: meshkit's "
			    "records carry no trailers");
		return al_fail(err, errlen, "unknown command operator "
		    "%%%s%%", name);
	}
	p->op = al_plain[i].op;
	if (arg != NULL && p->op == OP_GRPC_STATUS) {
		if (arglen == 12 && memcmp(arg, "CAMEL_STRING", 12) == 0)
			p->grpc = GRPC_CAMEL;
		else if (arglen == 12 && memcmp(arg, "SNAKE_STRING", 12) == 0)
			p->grpc = GRPC_SNAKE;
		else if (arglen == 6 && memcmp(arg, "NUMBER", 6) == 0)
			p->grpc = GRPC_NUMBER;
		else
			return al_fail(err, errlen, "%%GRPC_STATUS(%.*s)%%: "
			    "want CAMEL_STRING, SNAKE_STRING or NUMBER",
			    (int)(arglen < 80 ? arglen : 80), arg);
	} else if (arg != NULL) {
		if (p->op != OP_START_TIME)
			return al_fail(err, errlen, "%%%s%% takes no "
			    "argument", name);
		p->text = xstrndup(arg, arglen);
	}
	return 0;
}

static int
al_parse(struct accesslog_format *f, const char *fmt, struct al_template *t,
    char *err, size_t errlen)
{
	const char	*p = fmt, *pct, *end;
	struct al_piece	 piece;
	size_t		 n;

	if (strlen(fmt) > ACCESSLOG_MAX_FORMAT)
		return al_fail(err, errlen, "format longer than %d bytes",
		    ACCESSLOG_MAX_FORMAT);
	memset(t, 0, sizeof(*t));
	while (*p != '\0') {
		if ((pct = strchr(p, '%')) == NULL)
			pct = p + strlen(p);
		if (pct > p || pct[1] == '%') {
			/* literal text; "%%" is one '%' */
			n = pct > p ? (size_t)(pct - p) : 1;
			memset(&piece, 0, sizeof(piece));
			piece.op = OP_LITERAL;
			piece.text = xstrndup(p, n);
			piece.len = n;
			t->pieces = xreallocarray(t->pieces, t->n + 1,
			    sizeof(*t->pieces));
			t->pieces[t->n++] = piece;
			p = pct > p ? pct : pct + 2;
			continue;
		}
		/*
		 * An operator: up to the next '%' outside its parentheses,
		 * START_TIME's strftime format having '%' of its own.
		 */
		{
			int depth = 0;

			for (end = pct + 1; *end != '\0'; end++) {
				if (*end == '(')
					depth++;
				else if (*end == ')' && depth > 0)
					depth--;
				else if (*end == '%' && depth == 0)
					break;
			}
		}
		if (*end != '%')
			return al_fail(err, errlen, "'%%' at byte %zu starts "
			    "no command operator (write %%%% for a '%%')",
			    (size_t)(pct - fmt));
		if (al_operator(f, pct + 1, (size_t)(end - pct - 1), &piece,
		    err, errlen) == -1) {
			free(piece.text);
			free(piece.alt);
			return -1;
		}
		t->pieces = xreallocarray(t->pieces, t->n + 1,
		    sizeof(*t->pieces));
		t->pieces[t->n++] = piece;
		p = end + 1;
	}
	return 0;
}

static void
al_template_fini(struct al_template *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->pieces[i].text);
		free(t->pieces[i].alt);
	}
	free(t->pieces);
	memset(t, 0, sizeof(*t));
}

struct accesslog_format *
accesslog_text_new(const char *format, char *err, size_t errlen)
{
	struct accesslog_format	*f = al_new();
	char			*fmt;
	size_t			 n;

	if (format == NULL || format[0] == '\0')
		format = ACCESSLOG_DEFAULT_FORMAT;
	n = strlen(format);
	/* a line ends in a newline, as Istio adds one */
	if (n == 0 || format[n - 1] != '\n')
		xasprintf(&fmt, "%s\n", format);
	else
		fmt = xstrdup(format);
	if (al_parse(f, fmt, &f->line, err, errlen) == -1) {
		free(fmt);
		accesslog_format_free(f);
		return NULL;
	}
	free(fmt);
	return f;
}

struct accesslog_format *
accesslog_json_new(char *const *keys, char *const *values, size_t n,
    char *err, size_t errlen)
{
	struct accesslog_format	*f;
	size_t			 i;
	char			 why[256];

	if (n == 0) {
		char	*k[nitems(al_default_json)], *v[nitems(al_default_json)];

		for (i = 0; i < nitems(al_default_json); i++) {
			k[i] = (char *)al_default_json[i][0];
			v[i] = (char *)al_default_json[i][1];
		}
		return accesslog_json_new(k, v, i, err, errlen);
	}
	if (n > ACCESSLOG_MAX_KEYS) {
		al_fail(err, errlen, "more than %d keys", ACCESSLOG_MAX_KEYS);
		return NULL;
	}
	f = al_new();
	f->json = 1;
	f->keys = xcalloc(n, sizeof(*f->keys));
	f->values = xcalloc(n, sizeof(*f->values));
	for (i = 0; i < n; i++) {
		f->keys[i] = xstrdup(keys[i]);
		f->nkeys++;
		if (al_parse(f, values[i], &f->values[i], why,
		    sizeof(why)) == -1) {
			al_fail(err, errlen, "\"%s\": %s", keys[i], why);
			accesslog_format_free(f);
			return NULL;
		}
	}
	return f;
}

struct accesslog_format *
accesslog_json_parse(const char *object, char *err, size_t errlen)
{
	struct accesslog_format	*f;
	struct json		*j;
	char			**values;
	size_t			 i;

	if (object == NULL || object[0] == '\0')
		return accesslog_json_new(NULL, NULL, 0, err, errlen);
	if (strlen(object) > ACCESSLOG_MAX_FORMAT) {
		al_fail(err, errlen, "format longer than %d bytes",
		    ACCESSLOG_MAX_FORMAT);
		return NULL;
	}
	if ((j = json_parse(object, strlen(object), err, errlen)) == NULL)
		return NULL;
	if (j->type != JSON_OBJECT || j->n == 0) {
		al_fail(err, errlen, "a JSON format is an object of "
		    "\"key\": \"format\" members");
		json_free(j);
		return NULL;
	}
	values = xcalloc(j->n, sizeof(*values));
	for (i = 0; i < j->n; i++) {
		if (j->values[i]->type != JSON_STRING) {
			al_fail(err, errlen, "\"%s\": want a format string",
			    j->keys[i]);
			free(values);
			json_free(j);
			return NULL;
		}
		values[i] = j->values[i]->string;
	}
	f = accesslog_json_new(j->keys, values, j->n, err, errlen);
	free(values);
	json_free(j);
	return f;
}

void
accesslog_format_free(struct accesslog_format *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	al_template_fini(&f->line);
	for (i = 0; i < f->nkeys; i++) {
		free(f->keys[i]);
		al_template_fini(&f->values[i]);
	}
	free(f->keys);
	free(f->values);
	free(f->headers[0]);
	free(f->headers[1]);
	free(f);
}

/* The optional record fields (RECORD_F_*) one template prints. */
static unsigned
al_template_fields(const struct al_template *t)
{
	unsigned	 m = 0;
	size_t		 i;

	for (i = 0; i < t->n; i++) {
		const struct al_piece *p = &t->pieces[i];

		switch (p->op) {
		case OP_RESPONSE_CODE_DETAILS:
			m |= RECORD_F_DETAILS;
			break;
		case OP_ROUTE_NAME:
			m |= RECORD_F_ROUTE;
			break;
		case OP_UPSTREAM_LOCAL_ADDRESS:
			m |= RECORD_F_UPSTREAM_LOCAL;
			break;
		case OP_UPSTREAM_TRANSPORT_FAILURE_REASON:
			m |= RECORD_F_UPSTREAM_FAILURE;
			break;
		case OP_REQUEST_DURATION:
			m |= RECORD_F_REQUEST_DURATION;
			break;
		case OP_REQUESTED_SERVER_NAME:
			m |= RECORD_F_SNI;
			break;
		case OP_PROTOCOL:
			m |= RECORD_F_PROTOCOL;
			break;
		case OP_REQ:
			if (p->hdr[0] == HDR_ORIGINAL_PATH ||
			    (p->alt != NULL && p->hdr[1] == HDR_ORIGINAL_PATH))
				m |= RECORD_F_ORIGINAL_PATH;
			break;
		default:
			break;
		}
	}
	return m;
}

/*
 * What a proxy must put in its records for this format (RECORD_F_*):
 * asked once per configuration, so that a record carries no field no
 * log prints.
 */
unsigned
accesslog_fields(const struct accesslog_format *f)
{
	unsigned	 m;
	size_t		 i;

	if (!f->json)
		return al_template_fields(&f->line);
	for (m = 0, i = 0; i < f->nkeys; i++)
		m |= al_template_fields(&f->values[i]);
	return m;
}

size_t
accesslog_headers(const struct accesslog_format *f, int response,
    const char *const **names)
{
	*names = f->headers[response ? 1 : 0];
	return f->nheaders[response ? 1 : 0];
}

int
accesslog_headers_check(size_t nrequest, size_t nresponse,
    const char *first_lost[2], char *err, size_t errlen)
{
	if (nrequest > ACCESSLOG_MAX_REQUEST_HEADERS)
		return al_fail(err, errlen, "%zu request headers are read "
		    "(%%REQ%% or a filter), a record carries %d beside "
		    "x-request-id: %s and those after it print \"-\"",
		    nrequest, ACCESSLOG_MAX_REQUEST_HEADERS,
		    first_lost[0] != NULL ? first_lost[0] : "the rest");
	if (nresponse > ACCESSLOG_MAX_RESPONSE_HEADERS)
		return al_fail(err, errlen, "%zu response headers are read "
		    "(%%RESP%% or a filter), a record carries %d: %s and "
		    "those after it print \"-\"", nresponse,
		    ACCESSLOG_MAX_RESPONSE_HEADERS, first_lost[1] != NULL ?
		    first_lost[1] : "the rest");
	return 0;
}

int
accesslog_format_check(const struct accesslog_format *f, char *err,
    size_t errlen)
{
	const char	*lost[2] = { NULL, NULL };
	size_t		 n[2] = { 0, 0 }, i, r;

	for (r = 0; r < 2; r++)
		for (i = 0; i < f->nheaders[r]; i++) {
			if (!ACCESSLOG_HEADER_TAKES(r, f->headers[r][i]))
				continue;
			if (++n[r] == (r == 0 ? ACCESSLOG_MAX_REQUEST_HEADERS :
			    ACCESSLOG_MAX_RESPONSE_HEADERS) + 1)
				lost[r] = f->headers[r][i];
		}
	return accesslog_headers_check(n[0], n[1], lost, err, errlen);
}

static void
al_str(struct al_value *v, struct str s)
{
	if (s.p == NULL || s.n == 0) {
		v->kind = AL_NONE;
		return;
	}
	v->kind = AL_STR;
	v->s = s;
}

static void
al_num(struct al_value *v, uint64_t n)
{
	v->kind = AL_NUM;
	v->n = n;
}

/*
 * The record's gRPC status (its decimal code) as GRPC_STATUS(X) or
 * GRPC_STATUS_NUMBER writes it; none when the response had none.
 */
static void
al_grpc(const struct al_piece *p, struct str status, struct al_value *v)
{
	uint64_t	 code = 0;
	size_t		 i;

	v->kind = AL_NONE;
	if (status.p == NULL || status.n == 0 || status.n > 10)
		return;
	for (i = 0; i < status.n; i++) {
		if (status.p[i] < '0' || status.p[i] > '9') {
			/* not a code: as the record has it */
			al_str(v, status);
			return;
		}
		code = code * 10 + (uint64_t)(status.p[i] - '0');
	}
	if (p->op == OP_GRPC_STATUS_NUMBER || p->grpc == GRPC_NUMBER) {
		al_num(v, code);
		return;
	}
	if (code >= nitems(al_grpc_names)) {
		/* Envoy writes an unknown code as its number, a string */
		al_str(v, status);
		return;
	}
	al_str(v, (struct str){ al_grpc_names[code][p->grpc == GRPC_SNAKE],
	    strlen(al_grpc_names[code][p->grpc == GRPC_SNAKE]) });
}

/* Envoy's durations are whole milliseconds. */
static void
al_ms(struct al_value *v, uint64_t us)
{
	al_num(v, us / 1000);
}

/*
 * START_TIME: UTC, strftime's conversions plus Envoy's %s (seconds since
 * the epoch) and %f, %1f..%9f (fractional digits, 9 by default).
 */
static void
al_time(const char *fmt, uint64_t us, struct al_value *v)
{
	time_t		 secs = (time_t)(us / 1000000);
	struct tm	 tm;
	char		 spec[3] = "%", digits[10];
	size_t		 len = 0, n, nd;
	const char	*p;

	/* Envoy's default: the second's part made once a second */
	static _Thread_local time_t	 last = -1;
	static _Thread_local char	 prefix[32];
	static _Thread_local size_t	 prefix_len;
	unsigned			 ms;

	v->kind = AL_STR;
	if (fmt == NULL) {
		if (secs != last) {
			gmtime_r(&secs, &tm);
			prefix_len = strftime(prefix, sizeof(prefix),
			    "%Y-%m-%dT%H:%M:%S", &tm);
			last = secs;
		}
		ms = (unsigned)(us % 1000000 / 1000);
		memcpy(v->buf, prefix, prefix_len);
		n = prefix_len;
		v->buf[n++] = '.';
		v->buf[n++] = (char)('0' + ms / 100);
		v->buf[n++] = (char)('0' + ms / 10 % 10);
		v->buf[n++] = (char)('0' + ms % 10);
		v->buf[n++] = 'Z';
		v->buf[n] = '\0';
		v->s = (struct str){ v->buf, n };
		return;
	}
	gmtime_r(&secs, &tm);
	for (p = fmt; *p != '\0' && len < sizeof(v->buf) - 1; p++) {
		if (*p != '%' || p[1] == '\0') {
			v->buf[len++] = *p;
			continue;
		}
		p++;
		nd = 0;
		if (*p >= '1' && *p <= '9' && p[1] == 'f')
			nd = (size_t)(*p++ - '0');
		if (*p == 'f') {
			/* nanoseconds, of which we know the micro */
			snprintf(digits, sizeof(digits), "%06u000",
			    (unsigned)(us % 1000000));
			n = nd == 0 ? 9 : nd;
			if (n > sizeof(v->buf) - 1 - len)
				n = sizeof(v->buf) - 1 - len;
			memcpy(v->buf + len, digits, n);
			len += n;
			continue;
		}
		if (*p == 's') {
			len += (size_t)snprintf(v->buf + len,
			    sizeof(v->buf) - len, "%lld", (long long)secs);
			if (len > sizeof(v->buf) - 1)
				len = sizeof(v->buf) - 1;
			continue;
		}
		spec[1] = *p;
		n = strftime(v->buf + len, sizeof(v->buf) - len, spec, &tm);
		len += n;
	}
	v->buf[len] = '\0';
	v->s = (struct str){ v->buf, len };
}

/* The kind of a (lower-case) header name, as al_header reads it. */
static enum al_hdr
al_hdr_kind(const char *name, int response)
{
	if (!response) {
		if (strcmp(name, ":method") == 0)
			return HDR_METHOD;
		if (strcmp(name, ":path") == 0)
			return HDR_PATH;
		if (strcmp(name, ":authority") == 0 ||
		    strcmp(name, "host") == 0)
			return HDR_AUTHORITY;
		if (strcmp(name, ":scheme") == 0)
			return HDR_SCHEME;
		if (strcmp(name, "x-envoy-original-path") == 0)
			return HDR_ORIGINAL_PATH;
	} else {
		if (strcmp(name, ":status") == 0)
			return HDR_STATUS;
		if (strcmp(name, "x-envoy-upstream-service-time") == 0)
			return HDR_UPSTREAM_TIME;
	}
	return HDR_OTHER;
}

static void
al_header(const struct record *r, int response, const char *name,
    enum al_hdr kind, struct al_value *v)
{
	struct str	 s = { NULL, 0 };

	switch (kind) {
	case HDR_METHOD:
		s = r->method;
		break;
	case HDR_PATH:
		s = r->path;
		break;
	case HDR_AUTHORITY:
		s = r->authority;
		break;
	case HDR_SCHEME:
		s = STR_LIT("http");
		break;
	case HDR_ORIGINAL_PATH:
		s = r->original_path;
		break;
	case HDR_STATUS:
		/* a header: a string, in typed JSON too */
		if (r->code == 0) {
			v->kind = AL_NONE;
			return;
		}
		s.n = (size_t)snprintf(v->buf, sizeof(v->buf), "%u",
		    (unsigned)r->code);
		s.p = v->buf;
		break;
	case HDR_UPSTREAM_TIME:
		s = record_response_header(r, name);
		/* Envoy sets it itself: the upstream's time, in ms */
		if (s.p == NULL) {
			if (!(r->has & RECORD_HAS_UPSTREAM)) {
				v->kind = AL_NONE;
				return;
			}
			s.n = (size_t)snprintf(v->buf, sizeof(v->buf), "%llu",
			    (unsigned long long)(r->upstream_us / 1000));
			s.p = v->buf;
		}
		break;
	case HDR_OTHER:
		s = response ? record_response_header(r, name) :
		    record_request_header(r, name);
		break;
	}
	al_str(v, s);
}

static void
al_eval(const struct accesslog_format *f, const struct al_piece *p,
    const struct record *r, struct al_value *v)
{
	const char	*env, *query;

	v->kind = AL_NONE;
	switch (p->op) {
	case OP_LITERAL:
		al_str(v, (struct str){ p->text, p->len });
		break;
	case OP_START_TIME:
		al_time(p->text, r->start_us, v);
		break;
	case OP_REQUEST_DURATION:
		if (r->has & RECORD_HAS_REQUEST_DURATION)
			al_ms(v, r->request_duration_us);
		break;
	case OP_RESPONSE_DURATION:
		if (r->has & RECORD_HAS_RESPONSE_START)
			al_ms(v, r->response_start_us);
		break;
	case OP_RESPONSE_TX_DURATION:
		if ((r->has & RECORD_HAS_RESPONSE_START) &&
		    r->duration_us >= r->response_start_us)
			al_ms(v, r->duration_us - r->response_start_us);
		break;
	case OP_DURATION:
		al_ms(v, r->duration_us);
		break;
	case OP_BYTES_RECEIVED:
		al_num(v, r->request_bytes);
		break;
	case OP_BYTES_SENT:
		al_num(v, r->response_bytes);
		break;
	case OP_REQUEST_HEADERS_BYTES:
		if (r->has & RECORD_HAS_REQUEST_HEAD)
			al_num(v, r->request_head_bytes);
		break;
	case OP_RESPONSE_HEADERS_BYTES:
		if (r->has & RECORD_HAS_RESPONSE_HEAD)
			al_num(v, r->response_head_bytes);
		break;
	case OP_PROTOCOL:
		al_str(v, r->protocol.p != NULL ? r->protocol :
		    STR_LIT("HTTP/1.1"));
		break;
	case OP_RESPONSE_CODE:
		al_num(v, r->code);
		break;
	case OP_RESPONSE_CODE_DETAILS:
		al_str(v, r->details);
		break;
	case OP_RESPONSE_FLAGS:
		/* Envoy's "-" for none is the value, a string in JSON too */
		al_str(v, r->flags.n > 0 ? r->flags : STR_LIT("-"));
		break;
	case OP_CONNECTION_TERMINATION_DETAILS:
		/* meshkit keeps no L4 termination reason: always unset */
		break;
	case OP_ROUTE_NAME:
		al_str(v, r->route_name);
		break;
	case OP_UPSTREAM_HOST:
		al_str(v, r->upstream_host);
		break;
	case OP_UPSTREAM_CLUSTER:
		al_str(v, r->upstream_cluster);
		break;
	case OP_UPSTREAM_LOCAL_ADDRESS:
		al_str(v, r->upstream_local);
		break;
	case OP_UPSTREAM_TRANSPORT_FAILURE_REASON:
		al_str(v, r->upstream_failure);
		break;
	case OP_UPSTREAM_REQUEST_ATTEMPT_COUNT:
		if (r->has & RECORD_HAS_ATTEMPTS)
			al_num(v, r->attempts);
		break;
	case OP_DOWNSTREAM_REMOTE_ADDRESS:
		al_str(v, r->downstream_remote);
		break;
	case OP_DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT:
		al_str(v, record_addr_split(r->downstream_remote, NULL));
		break;
	case OP_DOWNSTREAM_LOCAL_ADDRESS:
		al_str(v, r->downstream_local);
		break;
	case OP_DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT:
		al_str(v, record_addr_split(r->downstream_local, NULL));
		break;
	case OP_DOWNSTREAM_PEER_URI_SAN:
		/* the caller's identity, known to the inbound side */
		if (r->reporter == RECORD_DESTINATION)
			al_str(v, r->source.principal);
		break;
	case OP_DOWNSTREAM_LOCAL_URI_SAN:
		if (r->reporter == RECORD_DESTINATION)
			al_str(v, r->destination.principal);
		break;
	case OP_UPSTREAM_PEER_URI_SAN:
		if (r->reporter == RECORD_SOURCE)
			al_str(v, r->destination.principal);
		break;
	case OP_REQUESTED_SERVER_NAME:
		al_str(v, r->sni);
		break;
	case OP_TRACE_ID:
		al_str(v, r->trace_id);
		break;
	case OP_HOSTNAME:
		al_str(v, (struct str){ f->hostname, f->hostname_len });
		break;
	case OP_ENVIRONMENT:
		if ((env = getenv(p->text)) != NULL)
			al_str(v, (struct str){ env, strlen(env) });
		break;
	case OP_GRPC_STATUS:
	case OP_GRPC_STATUS_NUMBER:
		al_grpc(p, r->grpc_status, v);
		break;
	case OP_REQ:
	case OP_RESP:
		al_header(r, p->op == OP_RESP, p->text, p->hdr[0], v);
		if (v->kind == AL_NONE && p->alt != NULL)
			al_header(r, p->op == OP_RESP, p->alt, p->hdr[1], v);
		if (v->kind == AL_STR && p->no_query &&
		    (query = memchr(v->s.p, '?', v->s.n)) != NULL)
			al_str(v, (struct str){ v->s.p,
			    (size_t)(query - v->s.p) });
		break;
	}
	if (v->kind == AL_STR && p->max != 0 && v->s.n > p->max)
		v->s.n = p->max;
}

/*
 * Is the piece's value known to hold no CR or LF without a look: a
 * string of a record read from a message, not a time, the host name or
 * the environment (whose format or value may hold anything).
 */
static int
al_clean(const struct al_piece *p, const struct record *r)
{
	return r->from_msg && p->op != OP_START_TIME && p->op != OP_HOSTNAME &&
	    p->op != OP_ENVIRONMENT && p->op != OP_LITERAL;
}

static void
al_write_template(const struct accesslog_format *f,
    const struct al_template *t, const struct record *r, struct sbuf *out,
    int json)
{
	struct al_value	 v;
	size_t		 i;

	if (json && t->n == 1 && t->pieces[0].op != OP_LITERAL) {
		/* a value of one operator keeps its type */
		al_eval(f, &t->pieces[0], r, &v);
		if (v.kind == AL_NONE)
			sbuf_adds(out, "null");
		else if (v.kind == AL_NUM)
			sbuf_u64(out, v.n);
		else
			sbuf_json_string(out, v.s.p, v.s.n);
		return;
	}
	if (json)
		sbuf_addc(out, '"');
	for (i = 0; i < t->n; i++) {
		if (!json && t->pieces[i].op == OP_LITERAL) {
			/* never empty, never cut: as it was written */
			sbuf_add(out, t->pieces[i].text, t->pieces[i].len);
			continue;
		}
		al_eval(f, &t->pieces[i], r, &v);
		if (v.kind == AL_NUM)
			sbuf_u64(out, v.n);
		else if (v.kind == AL_NONE)
			sbuf_addc(out, '-');
		else if (json)
			sbuf_json_escape(out, v.s.p, v.s.n);
		else if (t->pieces[i].op == OP_LITERAL)
			sbuf_add(out, v.s.p, v.s.n);
		else {
			/* a value must not forge a line of its own */
			size_t j, from = out->len;

			sbuf_add(out, v.s.p, v.s.n);
			if (al_clean(&t->pieces[i], r) ||
			    (memchr(v.s.p, '\n', v.s.n) == NULL &&
			    memchr(v.s.p, '\r', v.s.n) == NULL))
				continue;
			for (j = from; j < out->len; j++)
				if (out->buf[j] == '\n' || out->buf[j] == '\r')
					out->buf[j] = ' ';
		}
	}
	if (json)
		sbuf_addc(out, '"');
}

void
accesslog_write(const struct accesslog_format *f, const struct record *r,
    struct sbuf *out)
{
	size_t	 i;

	if (!f->json) {
		al_write_template(f, &f->line, r, out, 0);
		return;
	}
	sbuf_addc(out, '{');
	for (i = 0; i < f->nkeys; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		sbuf_json_string(out, f->keys[i], strlen(f->keys[i]));
		sbuf_addc(out, ':');
		al_write_template(f, &f->values[i], r, out, 1);
	}
	sbuf_add(out, "}\n", 2);
}
