/* SPDX-License-Identifier: ISC */
/*
 * Strict HTTP/1.1 parsing for a reverse proxy (RFC 9110, RFC 9112).
 *
 * A proxy is safe from request smuggling only when it never reads a
 * message differently from the servers in front of and behind it.  The
 * cheapest way to get there is to refuse every message whose framing or
 * syntax a lenient implementation could read another way, and to forward
 * only what was parsed.  The choices below all follow from that:
 *
 * - Lines end with CRLF only.  A bare LF (which RFC 9112 2.2 lets a
 *   recipient accept) and a bare CR anywhere in a head are refused with
 *   400: some servers split lines on LF alone, others do not, and that
 *   difference is a classic smuggling vector.
 * - Empty lines before the request line are skipped (RFC 9112 2.2 asks
 *   for that; some clients send a CRLF after a POST body).
 * - A request line is "method SP target SP version", single spaces.
 *   Trailing spaces after the version are tolerated because the three
 *   parts are still unambiguous; anything else after the version is 400.
 *   The target may hold any visible ASCII (real clients send unencoded
 *   "|{}^" characters) but '#', never SP, a control character or a byte
 *   >= 0x80: RFC 3986 has no raw non-ASCII byte and no fragment in a
 *   request target, and a raw byte that is not UTF-8 makes the path one
 *   thing to a regex engine and another to the application.  Clients
 *   percent-encode UTF-8; one that does not gets 400, as with Envoy.
 * - HTTP/1.0 and HTTP/1.1 are served; HTTP/1.2 and later 1.x are read as
 *   1.1 (RFC 9110 2.5); other major versions get 505, and anything that
 *   is not "HTTP/" DIGIT "." DIGIT gets 400 (HTTP/0.9 is not served).
 * - Header names are tokens only, the colon follows the name directly
 *   (RFC 9112 5.1 makes whitespace before the colon a MUST-reject), a
 *   line starting with SP or HTAB (obs-fold) is refused, and values may
 *   hold HTAB, SP, visible ASCII and obs-text only: NUL, DEL and the other
 *   control characters are refused rather than replaced.
 * - A token name that only differs from Content-Length or
 *   Transfer-Encoding by punctuation ("Transfer_Encoding") is refused:
 *   some gateways map '_' to '-'.
 * - Content-Length is 1*DIGIT after trimming OWS, at most INT64_MAX (a
 *   backend that reads it as a signed number must not see a negative
 *   length).  Any second Content-Length field is refused, even one with
 *   the same value, and so is a list ("42, 42"): normalising saves
 *   nothing for a well-behaved client and is one more code path.
 * - Transfer-Encoding: the codings of every field, as one list, must end
 *   with chunked, and chunked must appear exactly once; otherwise 400.
 *   Empty list elements are refused.  A coding may carry parameters
 *   (token, or token "=" token / quoted-string); they are checked and
 *   ignored.  An unknown coding before chunked gets 501: the framing is
 *   still clear, so the answer is unambiguous.  Transfer-Encoding with
 *   Content-Length, Transfer-Encoding in HTTP/1.0, and a body announced
 *   on HEAD or CONNECT (anything but "Content-Length: 0") are 400.  A
 *   properly framed body on GET (or DELETE, OPTIONS) passes: real APIs
 *   send them (a search query), and its framing is as clear as a POST's.
 * - Exactly one Host in HTTP/1.1 (at most one in 1.0), a non-empty
 *   uri-host with an optional port of at most 65535.  An absolute-form
 *   target's authority wins over it.
 *   Only http and https absolute-form targets are accepted, without
 *   userinfo, and not "http://host?query" (it cannot be given the "/"
 *   path without copying).
 * - Responses are read with the same rules; any fault in one is reported
 *   with status 502 since the caller answers the client with that.
 *
 * Nothing is allocated; each byte of a head is looked at once or twice,
 * through the character class table below.
 */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "http_chars.h"

/*
 * The classes are in http_chars.h, with which http_chunked.c reads this
 * table too.  The combinations that occur, named for the table only.
 */
#define __	0
#define WS	(C_FIELD | C_QDTEXT)
#define DQ	(C_FIELD | C_TARGET)
#define VC	(C_FIELD | C_TARGET | C_QDTEXT)
#define TV	(VC | C_TCHAR)
#define HV	(VC | C_HOST)
#define TH	(VC | C_TCHAR | C_HOST)
#define SC	(TH | C_SCHEME)
#define HX	(SC | C_HEX)
#define DG	(HX | C_DIGIT)
#define FR	(C_FIELD | C_QDTEXT | C_TCHAR)	/* '#': never in a target */
#define OB	(C_FIELD | C_QDTEXT)		/* obs-text: values only */

const uint8_t http_cclass[256] = {
	/* 0_ */ __, __, __, __, __, __, __, __, __, WS, __, __, __, __, __, __,
	/* 1_ */ __, __, __, __, __, __, __, __, __, __, __, __, __, __, __, __,
	/* 2_ */ WS, TH, DQ, FR, TH, TH, TH, TH, HV, HV, TH, SC, HV, SC, SC, VC,
	/* 3_ */ DG, DG, DG, DG, DG, DG, DG, DG, DG, DG, VC, HV, VC, HV, VC, VC,
	/* 4_ */ VC, HX, HX, HX, HX, HX, HX, SC, SC, SC, SC, SC, SC, SC, SC, SC,
	/* 5_ */ SC, SC, SC, SC, SC, SC, SC, SC, SC, SC, SC, VC, DQ, VC, TV, TH,
	/* 6_ */ TV, HX, HX, HX, HX, HX, HX, SC, SC, SC, SC, SC, SC, SC, SC, SC,
	/* 7_ */ SC, SC, SC, SC, SC, SC, SC, SC, SC, SC, SC, VC, TV, VC, TH, __,
	/* 8_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* 9_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* a_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* b_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* c_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* d_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* e_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	/* f_ */ OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
};

#undef __
#undef WS
#undef DQ
#undef VC
#undef TV
#undef HV
#undef TH
#undef SC
#undef HX
#undef DG
#undef FR
#undef OB

#define ONES		UINT64_C(0x0101010101010101)
#define HIGHS		UINT64_C(0x8080808080808080)

/*
 * http_head_end() keeps its state in the caller's size_t: the offset to
 * resume at in the low half, the offset where the current line started
 * in the high half, and in the top bit whether the start line is done.
 * Heads are therefore limited to what fits in the line field (2 GiB on
 * 64-bit hosts), far beyond any sane max_head.
 */
#define SCAN_HALF	(sizeof(size_t) * CHAR_BIT / 2)
#define SCAN_POS_MASK	(((size_t)1 << SCAN_HALF) - 1)
#define SCAN_LINE_MASK	(((size_t)1 << (SCAN_HALF - 1)) - 1)
#define SCAN_STARTED	((size_t)1 << (sizeof(size_t) * CHAR_BIT - 1))

/* The framing and connection facts gathered from a head's fields. */
struct fields {
	int		 status_bad;	/* 400 for requests, 502 responses */
	int		 status_big;	/* 431 for requests, 502 responses */
	size_t		 ncl;
	uint64_t	 cl;
	size_t		 nte;
	int		 te_chunked;	/* chunked seen (always last) */
	int		 te_unknown;
	int		 conn_close;
	int		 conn_keep_alive;
	int		 conn_upgrade;
	int		 upgrade;
	size_t		 nhost;
	int		 host_index;
	int		 expect_continue;
	int		 expect_other;
};

enum field_kind {
	FIELD_OTHER,
	FIELD_HOST,
	FIELD_EXPECT,
	FIELD_UPGRADE,
	FIELD_CONNECTION,
	FIELD_CONTENT_LENGTH,
	FIELD_TRANSFER_ENCODING,
	/* hop-by-hop, nothing for the parser to do */
	FIELD_TE,
	FIELD_TRAILER,
	FIELD_KEEP_ALIVE,
	FIELD_PROXY_CONNECTION,
	FIELD_SUSPICIOUS,
};

static int	 fail(struct http_error *, int, const char *);
static size_t	 skip_plain(const char *, size_t, size_t, unsigned);
static size_t	 skip_target(const char *, size_t, size_t);
static int	 caseeq(const char *, size_t, const char *);
static int	 str_caseeq_n(struct str, const char *, size_t);
static int	 list_has_token(struct str, const char *, size_t);
static int	 parse_version(const char *, size_t *, int *);
static int	 parse_content_length(struct str, uint64_t *);
static int	 parse_codings(struct str, struct fields *,
		    struct http_error *);
static size_t	 skip_quoted(struct str, size_t);
static int	 valid_authority(struct str, int);
static int	 looks_like_framing(const char *, size_t);
static inline enum field_kind field_name(const char *, size_t)
		    __attribute__((always_inline));
static enum field_kind field_kind(const char *, size_t);
static int	 parse_fields(const char *, size_t, size_t, size_t,
		    struct http_header *, size_t, size_t *, struct fields *,
		    struct http_error *);
static int	 parse_target(struct http_request *, struct http_error *);
static void	 fields_init(struct fields *, int, int);

static const char	 slash[] = "/";

void
http_limits_default(struct http_limits *limits)
{
	limits->max_line = HTTP_DEFAULT_MAX_LINE;
	limits->max_headers = HTTP_DEFAULT_MAX_HEADERS;
	limits->max_head = HTTP_DEFAULT_MAX_HEAD;
}

static int
fail(struct http_error *err, int status, const char *reason)
{
	if (err != NULL) {
		err->status = status;
		err->reason = reason;
	}
	return -1;
}

/*
 * Skip 8 bytes at a time while none of them is below low or DEL: field
 * values and targets are long runs of such bytes, and the class table
 * then decides about the byte that stopped the run.  Exact as a yes/no
 * test per word ("haszero" trick); never reads past len.
 */
static size_t
skip_plain(const char *buf, size_t i, size_t len, unsigned low)
{
	uint64_t	 x, del;

	while (len - i >= 8) {
		memcpy(&x, buf + i, 8);
		del = x ^ (ONES * 0x7f);
		if ((((x - ONES * low) & ~x) | ((del - ONES) & ~del)) & HIGHS)
			break;
		i += 8;
	}
	return i;
}

/*
 * skip_plain() for a request target: also stops at a byte >= 0x80 and
 * at '#', which the class table refuses there.
 */
static size_t
skip_target(const char *buf, size_t i, size_t len)
{
	uint64_t	 x, del, hash;

	while (len - i >= 8) {
		memcpy(&x, buf + i, 8);
		del = x ^ (ONES * 0x7f);
		hash = x ^ (ONES * '#');
		if ((((x - ONES * 0x21) & ~x) | ((del - ONES) & ~del) |
		    ((hash - ONES) & ~hash) | x) & HIGHS)
			break;
		i += 8;
	}
	return i;
}

/* ASCII-only and locale-proof; lit must be lowercase. */
static int
caseeq(const char *p, size_t n, const char *lit)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		if (lit[i] == '\0')
			return 0;
		c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lit[i])
			return 0;
	}
	return lit[i] == '\0';
}

/* Compare with n bytes that need not be lowercase nor NUL-terminated. */
static int
str_caseeq_n(struct str s, const char *p, size_t n)
{
	size_t		 i;
	unsigned char	 a, b;

	if (s.n != n)
		return 0;
	for (i = 0; i < n; i++) {
		a = (unsigned char)s.p[i];
		b = (unsigned char)p[i];
		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return 0;
	}
	return 1;
}

/*
 * Does the comma-separated list hold this token?  Parameters after ';'
 * and OWS around elements are ignored; a quoted comma does not split.
 */
static int
list_has_token(struct str v, const char *tok, size_t toklen)
{
	size_t		 i = 0, start, end;
	struct str	 elem;

	while (i < v.n) {
		while (i < v.n && (IS_WS(v.p[i]) || v.p[i] == ','))
			i++;
		start = i;
		while (i < v.n && v.p[i] != ',' && v.p[i] != ';' &&
		    !IS_WS(v.p[i]))
			i++;
		end = i;
		/* skip the rest of the element, parameters included */
		while (i < v.n && v.p[i] != ',') {
			if (v.p[i] == '"') {
				if ((i = skip_quoted(v, i)) == 0)
					return 0;
			} else
				i++;
		}
		elem.p = v.p + start;
		elem.n = end - start;
		if (elem.n > 0 && str_caseeq_n(elem, tok, toklen))
			return 1;
	}
	return 0;
}

/* Index just past the quoted-string opening at i, or 0 if unterminated. */
static size_t
skip_quoted(struct str v, size_t i)
{
	for (i++; i < v.n; i++) {
		if (v.p[i] == '\\')
			i++;
		else if (v.p[i] == '"')
			return i + 1;
	}
	return 0;
}

/*
 * "HTTP/" DIGIT "." DIGIT at buf + *i; the buffer is known to end in LF,
 * which stops every comparison.  Returns -1 when the shape is wrong,
 * else stores major * 10 + minor and advances *i.
 */
static int
parse_version(const char *buf, size_t *i, int *version)
{
	const char	*p = buf + *i;

	if (p[0] != 'H' || p[1] != 'T' || p[2] != 'T' || p[3] != 'P' ||
	    p[4] != '/' || !IS(p[5], C_DIGIT) || p[6] != '.' ||
	    !IS(p[7], C_DIGIT))
		return -1;
	*version = (p[5] - '0') * 10 + (p[7] - '0');
	*i += 8;
	return 0;
}

static int
parse_content_length(struct str v, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;
	unsigned	 d;

	if (v.n == 0)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (!IS(v.p[i], C_DIGIT))
			return -1;
		d = (unsigned)(v.p[i] - '0');
		if (n > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/*
 * One Transfer-Encoding field value: 1#( token *( OWS ";" OWS
 * [ token [ BWS "=" BWS ( token / quoted-string ) ] ] ) ).  Empty
 * parameters are tolerated (senders write "chunked;"), empty codings are
 * not.  Codings accumulate over all fields; chunked must come last.
 */
static int
parse_codings(struct str v, struct fields *f, struct http_error *err)
{
	size_t		 i = 0, start;
	struct str	 coding;

	for (;;) {
		while (i < v.n && IS_WS(v.p[i]))
			i++;
		start = i;
		while (i < v.n && IS(v.p[i], C_TCHAR))
			i++;
		if (i == start)
			return fail(err, f->status_bad,
			    "invalid Transfer-Encoding");
		coding.p = v.p + start;
		coding.n = i - start;
		if (caseeq(coding.p, coding.n, "chunked")) {
			if (f->te_chunked)
				return fail(err, f->status_bad,
				    "chunked applied more than once");
			f->te_chunked = 1;
		} else if (f->te_chunked)
			return fail(err, f->status_bad,
			    "chunked is not the final transfer coding");
		else if (!caseeq(coding.p, coding.n, "gzip") &&
		    !caseeq(coding.p, coding.n, "x-gzip") &&
		    !caseeq(coding.p, coding.n, "deflate") &&
		    !caseeq(coding.p, coding.n, "compress") &&
		    !caseeq(coding.p, coding.n, "x-compress") &&
		    !caseeq(coding.p, coding.n, "identity"))
			f->te_unknown = 1;
		for (;;) {
			while (i < v.n && IS_WS(v.p[i]))
				i++;
			if (i == v.n || v.p[i] != ';')
				break;
			i++;
			while (i < v.n && IS_WS(v.p[i]))
				i++;
			if (i == v.n || v.p[i] == ';' || v.p[i] == ',')
				continue;
			start = i;
			while (i < v.n && IS(v.p[i], C_TCHAR))
				i++;
			if (i == start)
				return fail(err, f->status_bad,
				    "invalid Transfer-Encoding parameter");
			while (i < v.n && IS_WS(v.p[i]))
				i++;
			if (i == v.n || v.p[i] != '=')
				continue;
			i++;
			while (i < v.n && IS_WS(v.p[i]))
				i++;
			if (i < v.n && v.p[i] == '"') {
				if ((i = skip_quoted(v, i)) == 0)
					return fail(err, f->status_bad,
					    "invalid Transfer-Encoding "
					    "parameter");
				continue;
			}
			start = i;
			while (i < v.n && IS(v.p[i], C_TCHAR))
				i++;
			if (i == start)
				return fail(err, f->status_bad,
				    "invalid Transfer-Encoding parameter");
		}
		if (i == v.n)
			return 0;
		if (v.p[i] != ',')
			return fail(err, f->status_bad,
			    "invalid Transfer-Encoding");
		i++;
	}
}

/*
 * uri-host [ ":" port ] (RFC 9110 4.2.3 / 7.2), port 0..65535 and never
 * empty after a colon.  IP literals are checked for their alphabet only;
 * what matters here is that no delimiter or control byte gets through.
 */
static int
valid_authority(struct str a, int need_port)
{
	size_t		 i = 0, start;
	unsigned long	 port;
	int		 colons = 0;

	if (a.n == 0)
		return 0;
	if (a.p[0] == '[') {
		for (i = 1; i < a.n && a.p[i] != ']'; i++) {
			if (a.p[i] == ':')
				colons++;
			else if (!IS(a.p[i], C_HEX) && a.p[i] != '.')
				return 0;
		}
		if (i == a.n || colons < 2)
			return 0;
		i++;
	} else {
		for (; i < a.n && a.p[i] != ':'; i++) {
			if (!IS(a.p[i], C_HOST))
				return 0;
			if (a.p[i] == '%' && (i + 2 >= a.n ||
			    !IS(a.p[i + 1], C_HEX) || !IS(a.p[i + 2], C_HEX)))
				return 0;
		}
		if (i == 0)
			return 0;
	}
	if (i == a.n)
		return !need_port;
	if (a.p[i] != ':')
		return 0;
	start = ++i;
	port = 0;
	for (; i < a.n; i++) {
		if (!IS(a.p[i], C_DIGIT) || i - start >= 5)
			return 0;
		port = port * 10 + (unsigned long)(a.p[i] - '0');
	}
	return i > start && port <= 65535;
}

/*
 * Is this token name Content-Length or Transfer-Encoding in disguise
 * ("Transfer_Encoding", "content--length")?  Letters are compared, all
 * other bytes skipped.
 */
static int
looks_like_framing(const char *p, size_t n)
{
	static const char	 cl[] = "contentlength";
	static const char	 te[] = "transferencoding";
	size_t			 i, a = 0, b = 0;
	unsigned char		 c;
	int			 cl_ok = 1, te_ok = 1;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c < 'a' || c > 'z')
			continue;
		if (cl_ok && (a >= sizeof(cl) - 1 || cl[a++] != c))
			cl_ok = 0;
		if (te_ok && (b >= sizeof(te) - 1 || te[b++] != c))
			te_ok = 0;
		if (!cl_ok && !te_ok)
			return 0;
	}
	return (cl_ok && a == sizeof(cl) - 1) || (te_ok && b == sizeof(te) - 1);
}

/* The names meshkit knows, by length first: every header meets this. */
static inline enum field_kind
field_name(const char *p, size_t n)
{
	switch (n) {
	case 2:
		if (caseeq(p, n, "te"))
			return FIELD_TE;
		break;
	case 4:
		if (caseeq(p, n, "host"))
			return FIELD_HOST;
		break;
	case 6:
		if (caseeq(p, n, "expect"))
			return FIELD_EXPECT;
		break;
	case 7:
		if (caseeq(p, n, "upgrade"))
			return FIELD_UPGRADE;
		if (caseeq(p, n, "trailer"))
			return FIELD_TRAILER;
		break;
	case 10:
		if (caseeq(p, n, "connection"))
			return FIELD_CONNECTION;
		if (caseeq(p, n, "keep-alive"))
			return FIELD_KEEP_ALIVE;
		break;
	case 14:
		if (caseeq(p, n, "content-length"))
			return FIELD_CONTENT_LENGTH;
		break;
	case 16:
		if (caseeq(p, n, "proxy-connection"))
			return FIELD_PROXY_CONNECTION;
		break;
	case 17:
		if (caseeq(p, n, "transfer-encoding"))
			return FIELD_TRANSFER_ENCODING;
		break;
	}
	return FIELD_OTHER;
}

/* A known name, or one that would pass for a framing header. */
static enum field_kind
field_kind(const char *p, size_t n)
{
	enum field_kind	 k = field_name(p, n);

	if (k == FIELD_OTHER && n >= 13 && looks_like_framing(p, n))
		return FIELD_SUSPICIOUS;
	return k;
}

static void
fields_init(struct fields *f, int status_bad, int status_big)
{
	memset(f, 0, sizeof(*f));
	f->status_bad = status_bad;
	f->status_big = status_big;
	f->host_index = -1;
}

/*
 * The field lines from buf + i to the blank line that must end the
 * buffer exactly.  The caller has checked that buf ends with "\r\n\r\n"
 * (so every class scan stops in bounds: LF is in no class).
 */
static int
parse_fields(const char *buf, size_t len, size_t i, size_t max_line,
    struct http_header *hdrs, size_t max, size_t *nhdrs, struct fields *f,
    struct http_error *err)
{
	size_t			 line, name_end, vstart, vend, n = 0;
	struct http_header	*h;
	struct str		 value;

	for (;;) {
		line = i;
		if (buf[i] == '\r') {
			if (buf[i + 1] != '\n' || i + 2 != len)
				return fail(err, f->status_bad,
				    "malformed end of head");
			break;
		}
		if (IS_WS(buf[i]))
			return fail(err, f->status_bad,
			    "obsolete line folding");
		while (IS(buf[i], C_TCHAR))
			i++;
		name_end = i;
		if (buf[i] != ':') {
			if (IS_WS(buf[i]))
				return fail(err, f->status_bad,
				    "whitespace before colon in header");
			return fail(err, f->status_bad,
			    "invalid header name");
		}
		if (name_end == line)
			return fail(err, f->status_bad, "empty header name");
		i++;
		while (IS_WS(buf[i]))
			i++;
		vstart = i;
		i = skip_plain(buf, i, len, 0x20);
		while (IS(buf[i], C_FIELD))
			i++;
		if (buf[i] != '\r' || buf[i + 1] != '\n')
			return fail(err, f->status_bad,
			    "invalid character in header value");
		if (i - line > max_line)
			return fail(err, f->status_big, "header line too long");
		vend = i;
		while (vend > vstart && IS_WS(buf[vend - 1]))
			vend--;
		i += 2;

		if (n >= max)
			return fail(err, f->status_big, "too many headers");
		h = &hdrs[n++];
		h->name.p = buf + line;
		h->name.n = name_end - line;
		h->value.p = buf + vstart;
		h->value.n = vend - vstart;
		value = h->value;

		switch (field_kind(h->name.p, h->name.n)) {
		case FIELD_OTHER:
		case FIELD_TE:
		case FIELD_TRAILER:
		case FIELD_KEEP_ALIVE:
		case FIELD_PROXY_CONNECTION:
			break;
		case FIELD_SUSPICIOUS:
			return fail(err, f->status_bad,
			    "header name resembles a framing header");
		case FIELD_HOST:
			if (f->nhost++ == 0)
				f->host_index = (int)(n - 1);
			break;
		case FIELD_EXPECT:
			if (str_caseeq_n(value, "100-continue", 12))
				f->expect_continue = 1;
			else
				f->expect_other = 1;
			break;
		case FIELD_UPGRADE:
			f->upgrade = 1;
			break;
		case FIELD_CONNECTION:
			if (list_has_token(value, "close", 5))
				f->conn_close = 1;
			if (list_has_token(value, "keep-alive", 10))
				f->conn_keep_alive = 1;
			if (list_has_token(value, "upgrade", 7))
				f->conn_upgrade = 1;
			break;
		case FIELD_CONTENT_LENGTH:
			if (f->ncl++ > 0)
				return fail(err, f->status_bad,
				    "multiple Content-Length headers");
			if (parse_content_length(value, &f->cl) == -1)
				return fail(err, f->status_bad,
				    "invalid Content-Length");
			break;
		case FIELD_TRANSFER_ENCODING:
			f->nte++;
			if (parse_codings(value, f, err) == -1)
				return -1;
			break;
		}
	}
	*nhdrs = n;
	return 0;
}

/* Sets form, scheme, authority and path from req->target. */
static int
parse_target(struct http_request *req, struct http_error *err)
{
	struct str	 t = req->target;
	size_t		 i;

	if (util_str_eq(req->method, "CONNECT")) {
		if (!valid_authority(t, 1))
			return fail(err, 400, "CONNECT needs host:port");
		req->form = HTTP_TARGET_AUTHORITY;
		req->authority = t;
		return 0;
	}
	if (t.p[0] == '/') {
		req->form = HTTP_TARGET_ORIGIN;
		req->path = t;
		return 0;
	}
	if (t.n == 1 && t.p[0] == '*') {
		if (!util_str_eq(req->method, "OPTIONS"))
			return fail(err, 400, "asterisk-form is for OPTIONS");
		req->form = HTTP_TARGET_ASTERISK;
		req->path = t;
		return 0;
	}
	for (i = 0; i < t.n && IS(t.p[i], C_SCHEME); i++)
		;
	if (i == 0 || t.n - i < 3 || memcmp(t.p + i, "://", 3) != 0)
		return fail(err, 400, "invalid request target");
	req->scheme.p = t.p;
	req->scheme.n = i;
	if (!caseeq(t.p, i, "http") && !caseeq(t.p, i, "https"))
		return fail(err, 400, "unsupported scheme in request target");
	i += 3;
	req->authority.p = t.p + i;
	while (i < t.n && t.p[i] != '/' && t.p[i] != '?')
		i++;
	req->authority.n = (size_t)(t.p + i - req->authority.p);
	if (!valid_authority(req->authority, 0))
		return fail(err, 400, "invalid authority in request target");
	if (i == t.n) {
		req->path.p = slash;
		req->path.n = 1;
	} else if (t.p[i] == '?') {
		return fail(err, 400, "request target has a query but no path");
	} else {
		req->path.p = t.p + i;
		req->path.n = t.n - i;
	}
	req->form = HTTP_TARGET_ABSOLUTE;
	return 0;
}

ssize_t
http_head_end(const char *buf, size_t len, size_t *scan,
    const struct http_limits *limits, struct http_error *err)
{
	const char	*lf, *cr;
	size_t		 i, line, end, stop, max_head, linelen;
	int		 started;

	max_head = limits->max_head < SCAN_LINE_MASK ? limits->max_head :
	    SCAN_LINE_MASK;
	i = *scan & SCAN_POS_MASK;
	line = (*scan >> SCAN_HALF) & SCAN_LINE_MASK;
	started = (*scan & SCAN_STARTED) != 0;
	if (i > len || line > i) {
		/* the buffer is not the one scanned before: start over */
		i = line = 0;
		started = 0;
	}

	/* line by line with memchr, which is many bytes per cycle */
	end = len < max_head ? len : max_head;
	while (i < end) {
		lf = memchr(buf + i, '\n', end - i);
		stop = lf != NULL ? (size_t)(lf - buf) : end;
		if ((cr = memchr(buf + i, '\r', stop - i)) != NULL &&
		    (size_t)(cr - buf) + 1 != stop)
			return fail(err, 400, "bare CR in head");
		if (lf == NULL) {
			/* a CR last in the buffer waits for its LF */
			if (cr != NULL && end == len)
				stop--;
			i = stop;
			break;
		}
		if (cr == NULL)
			return fail(err, 400, "bare LF in head");
		linelen = stop - 1 - line;
		if (linelen > limits->max_line)
			return fail(err, started ? 431 : 414,
			    started ? "header line too long" :
			    "request line too long");
		if (linelen == 0 && started)
			return (ssize_t)(stop + 1);
		if (linelen > 0)
			started = 1;
		i = line = stop + 1;
	}
	if (i - line > limits->max_line)
		return fail(err, started ? 431 : 414, started ?
		    "header line too long" : "request line too long");
	if (i >= max_head)
		return fail(err, 431, "head too large");
	*scan = i | (line << SCAN_HALF) | (started ? SCAN_STARTED : 0);
	return 0;
}

int
http_parse_request(const char *buf, size_t len,
    const struct http_limits *limits, struct http_request *req,
    struct http_error *err)
{
	struct fields	 f;
	size_t		 i = 0, line, max;
	int		 version;

	req->method = req->target = req->scheme = req->authority =
	    req->path = (struct str){ NULL, 0 };
	req->form = HTTP_TARGET_ORIGIN;
	req->version = 0;
	req->nheaders = 0;
	req->framing = HTTP_BODY_NONE;
	req->content_length = 0;
	req->keep_alive = 0;
	req->expect_continue = 0;
	req->upgrade = 0;
	req->host_header = -1;

	if (len > limits->max_head)
		return fail(err, 431, "head too large");
	if (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0)
		return fail(err, 400, "incomplete head");
	while (buf[i] == '\r' && buf[i + 1] == '\n' && i + 4 < len)
		i += 2;

	/* request-line = method SP request-target SP HTTP-version */
	line = i;
	while (IS(buf[i], C_TCHAR))
		i++;
	if (i == line || buf[i] != ' ')
		return fail(err, 400, "invalid method");
	req->method.p = buf + line;
	req->method.n = i - line;
	req->target.p = buf + ++i;
	i = skip_target(buf, i, len);
	while (IS(buf[i], C_TARGET))
		i++;
	req->target.n = (size_t)(buf + i - req->target.p);
	if (buf[i] == '\r')
		return fail(err, 400, "no HTTP version in request line");
	if ((unsigned char)buf[i] >= 0x80)
		return fail(err, 400, "raw non-ASCII byte in request target");
	if (buf[i] == '#')
		return fail(err, 400, "fragment in request target");
	if (buf[i] != ' ')
		return fail(err, 400, "invalid character in request target");
	if (req->target.n == 0)
		return fail(err, 400, "empty request target");
	i++;
	if (parse_version(buf, &i, &version) == -1)
		return fail(err, 400, "invalid HTTP version");
	while (buf[i] == ' ')
		i++;
	if (buf[i] != '\r' || buf[i + 1] != '\n')
		return fail(err, 400, "junk after HTTP version");
	if (i - line > limits->max_line)
		return fail(err, 414, "request line too long");
	if (version / 10 != 1)
		return fail(err, 505, "HTTP version not supported");
	req->version = version == 10 ? 10 : 11;
	i += 2;

	fields_init(&f, 400, 431);
	max = limits->max_headers < req->max_headers ? limits->max_headers :
	    req->max_headers;
	if (parse_fields(buf, len, i, limits->max_line, req->headers, max,
	    &req->nheaders, &f, err) == -1)
		return -1;

	if (parse_target(req, err) == -1)
		return -1;

	if (f.nhost > 1)
		return fail(err, 400, "multiple Host headers");
	if (f.nhost == 0 && req->version == 11)
		return fail(err, 400, "missing Host header");
	if (f.nhost == 1) {
		if (!valid_authority(req->headers[f.host_index].value, 0))
			return fail(err, 400, "invalid Host header");
		req->host_header = f.host_index;
		if (req->form != HTTP_TARGET_ABSOLUTE &&
		    req->form != HTTP_TARGET_AUTHORITY)
			req->authority = req->headers[f.host_index].value;
	}

	if (f.nte > 0) {
		if (f.ncl > 0)
			return fail(err, 400,
			    "both Transfer-Encoding and Content-Length");
		if (req->version == 10)
			return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
		if (!f.te_chunked)
			return fail(err, 400,
			    "final transfer coding is not chunked");
	}
	if ((f.nte > 0 || f.cl > 0) &&
	    (util_str_eq(req->method, "HEAD") ||
	    util_str_eq(req->method, "CONNECT")))
		return fail(err, 400, "body on a request that takes none");
	if (f.nte > 0) {
		if (f.te_unknown)
			return fail(err, 501, "unknown transfer coding");
		req->framing = HTTP_BODY_CHUNKED;
	} else if (f.ncl > 0) {
		req->framing = HTTP_BODY_LENGTH;
		req->content_length = f.cl;
	}

	if (req->version == 11) {
		if (f.expect_other)
			return fail(err, 417, "unsupported expectation");
		req->expect_continue = f.expect_continue;
		req->keep_alive = !f.conn_close;
	} else
		req->keep_alive = f.conn_keep_alive && !f.conn_close;
	req->upgrade = f.conn_upgrade && f.upgrade;
	return 0;
}

int
http_parse_response(const char *buf, size_t len,
    const struct http_limits *limits, struct str request_method,
    struct http_response *resp, struct http_error *err)
{
	struct fields	 f;
	size_t		 i = 0, max;
	int		 version, status;

	resp->version = 0;
	resp->status = 0;
	resp->reason = (struct str){ NULL, 0 };
	resp->nheaders = 0;
	resp->framing = HTTP_BODY_NONE;
	resp->content_length = 0;
	resp->keep_alive = 0;

	if (len > limits->max_head)
		return fail(err, 502, "response head too large");
	if (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0)
		return fail(err, 502, "incomplete response head");

	/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
	if (parse_version(buf, &i, &version) == -1 || version / 10 != 1)
		return fail(err, 502, "invalid response version");
	if (buf[i] != ' ' || !IS(buf[i + 1], C_DIGIT) ||
	    !IS(buf[i + 2], C_DIGIT) || !IS(buf[i + 3], C_DIGIT))
		return fail(err, 502, "invalid status code");
	status = (buf[i + 1] - '0') * 100 + (buf[i + 2] - '0') * 10 +
	    (buf[i + 3] - '0');
	if (status < 100 || status > 599)
		return fail(err, 502, "invalid status code");
	i += 4;
	/* a missing SP before an empty reason is common and harmless */
	if (buf[i] == ' ')
		i++;
	else if (buf[i] != '\r')
		return fail(err, 502, "invalid status code");
	resp->reason.p = buf + i;
	while (IS(buf[i], C_FIELD))
		i++;
	resp->reason.n = (size_t)(buf + i - resp->reason.p);
	if (buf[i] != '\r' || buf[i + 1] != '\n')
		return fail(err, 502, "invalid status line");
	if (i > limits->max_line)
		return fail(err, 502, "status line too long");
	resp->version = version == 10 ? 10 : 11;
	resp->status = status;
	i += 2;

	fields_init(&f, 502, 502);
	max = limits->max_headers < resp->max_headers ?
	    limits->max_headers : resp->max_headers;
	if (parse_fields(buf, len, i, limits->max_line, resp->headers, max,
	    &resp->nheaders, &f, err) == -1)
		return -1;

	if (f.nte > 0 && f.ncl > 0)
		return fail(err, 502,
		    "both Transfer-Encoding and Content-Length in response");
	if (f.nte > 0 && resp->version == 10)
		return fail(err, 502, "Transfer-Encoding in HTTP/1.0 response");
	resp->content_length = f.cl;

	if (resp->version == 11)
		resp->keep_alive = !f.conn_close;
	else
		resp->keep_alive = f.conn_keep_alive && !f.conn_close;

	/* RFC 9112 6.3, in its order */
	if (util_str_eq(request_method, "HEAD") || status < 200 ||
	    status == 204 || status == 304)
		resp->framing = HTTP_BODY_NONE;
	else if (util_str_eq(request_method, "CONNECT") && status < 300)
		resp->framing = HTTP_BODY_NONE;
	else if (f.nte > 0 && f.te_chunked)
		resp->framing = HTTP_BODY_CHUNKED;
	else if (f.nte > 0)
		resp->framing = HTTP_BODY_CLOSE;
	else if (f.ncl > 0)
		resp->framing = HTTP_BODY_LENGTH;
	else
		resp->framing = HTTP_BODY_CLOSE;
	if (resp->framing == HTTP_BODY_CLOSE)
		resp->keep_alive = 0;
	return 0;
}

const struct http_header *
http_header_find(const struct http_header *headers, size_t nheaders,
    const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < nheaders; i++)
		if (str_caseeq_n(headers[i].name, name, n))
			return &headers[i];
	return NULL;
}

int
http_value_has_token(struct str value, const char *token)
{
	return list_has_token(value, token, strlen(token));
}

int
http_is_hop_by_hop(const struct http_header *h,
    const struct http_header *headers, size_t nheaders)
{
	size_t	 i;

	switch (field_name(h->name.p, h->name.n)) {
	case FIELD_HOST:
		/* a client must not be able to make the proxy drop the Host */
		return 0;
	case FIELD_CONNECTION:
	case FIELD_KEEP_ALIVE:
	case FIELD_PROXY_CONNECTION:
	case FIELD_TE:
	case FIELD_TRAILER:
	case FIELD_TRANSFER_ENCODING:
	case FIELD_UPGRADE:
	case FIELD_CONTENT_LENGTH:
		return 1;
	default:
		break;
	}
	for (i = 0; i < nheaders; i++)
		if (caseeq(headers[i].name.p, headers[i].name.n,
		    "connection") &&
		    list_has_token(headers[i].value, h->name.p, h->name.n))
			return 1;
	return 0;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	if (status >= 100 && status < 200)
		return "Informational";
	if (status >= 200 && status < 300)
		return "Success";
	if (status >= 300 && status < 400)
		return "Redirection";
	if (status >= 400 && status < 500)
		return "Client Error";
	return "Server Error";
}

int
http_header_reserved(struct str name)
{
	static const char *const reserved[] = {
		"content-length", "transfer-encoding", "connection",
		"keep-alive", "proxy-connection", "te", "trailer", "upgrade",
		"host",
	};
	size_t	 i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (util_str_caseeq(name, reserved[i]))
			return 1;
	return 0;
}

int
http_field_value_ok(struct str value)
{
	size_t	 i;

	for (i = 0; i < value.n; i++)
		if (!IS(value.p[i], C_FIELD))
			return 0;
	return 1;
}
