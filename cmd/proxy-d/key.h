/* SPDX-License-Identifier: ISC */
/*
 * The keys under which proxy-d keeps route-d's answers (routing.c) and
 * authz-d's decisions (authz.c): pure functions of the request, so that
 * tests/unit/test_proxy_key.c can check that requests an answer may
 * differ on never share a key.  A key is a base (the listener and the
 * authority; the local application), then the request's value of each
 * field the daemon said its answer depended on, each after its length,
 * so that no value can end where another begins whatever it holds.
 */
#ifndef PROXY_D_KEY_H
#define PROXY_D_KEY_H

#include <stddef.h>

#include "http.h"

#define KEY_SEP		'\x1f'	/* before each field's value */

/*
 * Does a route-d answer whose vary line is this depend on nothing
 * finer than the base key (the listener, the authority and its port)?
 */
int	key_route_cacheable(const char *vary);

/*
 * The key of route-d's answer for req under fields (its vary words):
 * base, then for each of method, path, scheme (empty in origin form),
 * source (client_ip) and header:NAME (every field of it, after their
 * count) the value after its length.  Returns the length, 0 when a
 * field is unknown or the key does not fit in len: not kept then.
 */
size_t	key_route(const struct http_request *req, const char *client_ip,
	    const char *fields, const char *base, size_t baselen, char *buf,
	    size_t len);

/*
 * Who asks, as the authz question says it: the client's address, and
 * the TLS peer's identity and server name (NULL when there is none).
 * A question that carries principal or sni must key on the same values.
 */
struct key_peer {
	const char	*ip;
	const char	*principal;
	const char	*sni;
	const char	*destination;	/* "address:port" connected to */
};

/*
 * The key of authz-d's decision for req under fields (authority,
 * method, path, source-ip, remote, principal, sni, port, destination-ip,
 * header:NAME, query:NAME): base, a separator, then each value after its
 * length, a header as the number of its fields, then each one (one
 * "x: a,b" and two fields "x: a", "x: b" differ), a query parameter as
 * whether it is there, then its first value.  port and destination-ip
 * are the peer's destination's.  0 when a field is unknown, or needs a
 * destination the peer lacks, or the key does not fit.
 */
size_t	key_authz(const struct http_request *req, const struct key_peer *,
	    const char *fields, const char *base, size_t baselen, char *buf,
	    size_t len);

#endif
