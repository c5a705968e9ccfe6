/* SPDX-License-Identifier: ISC */
/*
 * Cache keys of proxy-d (key.h).  Every value goes in after its length:
 * a header value may hold commas and anything a separator could be, and
 * two requests a daemon may decide differently must never make the same
 * key.  A header goes in whole, every field of it in order, whatever
 * the daemon does with repeats (route-d reads the first, authz-d all of
 * them): a key finer than the answer needs costs a question, a coarser
 * one serves a wrong answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "key.h"
#include "util.h"

static int	key_put(char *, size_t, size_t *, const char *, size_t, int);
static int	key_header(char *, size_t, size_t *,
		    const struct http_request *, const char *, size_t);
static int	key_query(char *, size_t, size_t *,
		    const struct http_request *, const char *, size_t);

/*
 * Appends v (n bytes, lower-cased if lower) after its length, "n:".
 * -1 when it does not fit.
 */
static int
key_put(char *buf, size_t len, size_t *at, const char *v, size_t n,
    int lower)
{
	char	 num[24];
	int	 k;
	size_t	 i;

	k = snprintf(num, sizeof(num), "%zu:", n);
	if (k < 0 || (size_t)k + n > len - *at)
		return -1;
	memcpy(buf + *at, num, (size_t)k);
	*at += (size_t)k;
	for (i = 0; i < n; i++)
		buf[*at + i] = lower ? (char)tolower((unsigned char)v[i]) :
		    v[i];
	*at += n;
	return 0;
}

/*
 * The header named name[0..nn): how many fields it has, "count#", then
 * each value after its length.  None ("0#") differs from one empty
 * ("1#0:"), and one "a,b" ("1#3:a,b") from "a" and "b" ("2#1:a1:b").
 */
static int
key_header(char *buf, size_t len, size_t *at, const struct http_request *req,
    const char *name, size_t nn)
{
	const struct http_header	*h;
	char				 num[24];
	size_t				 i, count = 0;
	int				 k;

	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name.n == nn &&
		    strncasecmp(req->headers[i].name.p, name, nn) == 0)
			count++;
	k = snprintf(num, sizeof(num), "%zu#", count);
	if (k < 0 || (size_t)k > len - *at)
		return -1;
	memcpy(buf + *at, num, (size_t)k);
	*at += (size_t)k;
	for (i = 0; i < req->nheaders && count > 0; i++) {
		h = &req->headers[i];
		if (h->name.n != nn || strncasecmp(h->name.p, name, nn) != 0)
			continue;
		if (key_put(buf, len, at, h->value.p, h->value.n, 0) == -1)
			return -1;
		count--;
	}
	return 0;
}

/*
 * The scheme is not in the base: an absolute-form https:// request and
 * an origin-form one share an authority, so an answer that looked at
 * the scheme is keyed on it like any other field.
 */
int
key_route_cacheable(const char *vary)
{
	char		 buf[256], *word, *save = NULL;

	if (vary == NULL || *vary == '\0')
		return 1;
	util_strlcpy(buf, vary, sizeof(buf));
	for (word = strtok_r(buf, " ,", &save); word != NULL;
	    word = strtok_r(NULL, " ,", &save)) {
		if (strcmp(word, "authority") != 0 &&
		    strcmp(word, "listener") != 0 &&
		    strcmp(word, "port") != 0)
			return 0;
	}
	return 1;
}

size_t
key_route(const struct http_request *req, const char *client_ip,
    const char *fields, const char *base, size_t baselen, char *buf,
    size_t len)
{
	char		 copy[256], *word, *save = NULL;
	size_t		 n = baselen;
	struct str	 v;

	if (baselen > len || strlen(fields) >= sizeof(copy))
		return 0;
	memcpy(buf, base, baselen);
	util_strlcpy(copy, fields, sizeof(copy));
	for (word = strtok_r(copy, " ,", &save); word != NULL;
	    word = strtok_r(NULL, " ,", &save)) {
		if (strcmp(word, "authority") == 0 ||
		    strcmp(word, "listener") == 0 ||
		    strcmp(word, "port") == 0)
			continue;	/* in the base */
		if (n == len)
			return 0;
		buf[n++] = KEY_SEP;
		if (strncmp(word, "header:", 7) == 0) {
			if (key_header(buf, len, &n, req, word + 7,
			    strlen(word + 7)) == -1)
				return 0;
			continue;
		}
		if (strcmp(word, "method") == 0)
			v = req->method;
		else if (strcmp(word, "path") == 0)
			v = req->path;
		else if (strcmp(word, "scheme") == 0)
			v = req->scheme;
		else if (strcmp(word, "source") == 0)
			v = (struct str){ client_ip, strlen(client_ip) };
		else
			return 0;
		if (key_put(buf, len, &n, v.p, v.n, 0) == -1)
			return 0;
	}
	return n;
}

/*
 * The first value of query parameter name[0..nn), as received: "0#"
 * when there is none, else "1#" and the value after its length.
 */
static int
key_query(char *buf, size_t len, size_t *at, const struct http_request *req,
    const char *name, size_t nn)
{
	const char	*q, *end, *p, *amp, *eq;

	if (len - *at < 2)
		return -1;
	if (req->path.p != NULL &&
	    (q = memchr(req->path.p, '?', req->path.n)) != NULL) {
		end = req->path.p + req->path.n;
		if ((p = memchr(q, '#', (size_t)(end - q))) != NULL)
			end = p;
		for (p = q + 1; p < end; p = amp + 1) {
			if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
				amp = end;
			eq = memchr(p, '=', (size_t)(amp - p));
			if ((size_t)((eq != NULL ? eq : amp) - p) == nn &&
			    memcmp(p, name, nn) == 0) {
				buf[(*at)++] = '1';
				buf[(*at)++] = '#';
				p = eq != NULL ? eq + 1 : amp;
				return key_put(buf, len, at, p,
				    (size_t)(amp - p), 0);
			}
			if (amp == end)
				break;
		}
	}
	buf[(*at)++] = '0';
	buf[(*at)++] = '#';
	return 0;
}

size_t
key_authz(const struct http_request *req, const struct key_peer *peer,
    const char *fields, const char *base, size_t baselen, char *buf,
    size_t len)
{
	const char	*p = fields;
	size_t		 n = baselen, wl;
	struct str	 v;
	int		 lower;

	if (baselen + 1 > len)
		return 0;
	memcpy(buf, base, baselen);
	buf[n++] = '\x1d';	/* an entry, not the node at the base */
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if ((wl = strcspn(p, " ,")) == 0)
			break;
		if (n == len)
			return 0;
		buf[n++] = KEY_SEP;
		if (wl > 7 && memcmp(p, "header:", 7) == 0) {
			if (key_header(buf, len, &n, req, p + 7, wl - 7) == -1)
				return 0;
			p += wl;
			continue;
		}
		if (wl > 6 && memcmp(p, "query:", 6) == 0) {
			if (key_query(buf, len, &n, req, p + 6, wl - 6) == -1)
				return 0;
			p += wl;
			continue;
		}
		lower = 0;
#define IS_WORD(lit)	(wl == sizeof(lit) - 1 && memcmp(p, lit, wl) == 0)
		if (IS_WORD("authority")) {
			v = req->authority;
			lower = 1;
		} else if (IS_WORD("method"))
			v = req->method;
		else if (IS_WORD("path"))
			v = req->path;
		else if (IS_WORD("source-ip") || IS_WORD("remote"))
			/* remote is not sent: authz-d takes the source's */
			v = (struct str){ peer->ip, strlen(peer->ip) };
		else if (IS_WORD("principal"))
			v = (struct str){ peer->principal != NULL ?
			    peer->principal : "", peer->principal != NULL ?
			    strlen(peer->principal) : 0 };
		else if (IS_WORD("sni"))
			v = (struct str){ peer->sni != NULL ? peer->sni : "",
			    peer->sni != NULL ? strlen(peer->sni) : 0 };
		else if (IS_WORD("port") || IS_WORD("destination-ip")) {
			/* the destination, "address:port" */
			const char *colon = peer->destination != NULL ?
			    strrchr(peer->destination, ':') : NULL;

			if (colon == NULL)
				return 0;
			v = IS_WORD("port") ? (struct str){ colon + 1,
			    strlen(colon + 1) } : (struct str){
			    peer->destination,
			    (size_t)(colon - peer->destination) };
		} else
			return 0;
#undef IS_WORD
		if (key_put(buf, len, &n, v.p, v.n, lower) == -1)
			return 0;
		p += wl;
	}
	return n;
}
