/*
 * Inside the route module: what route.c (decisions, route-d's message
 * handling) and route_wire.c (reading and writing the route messages)
 * share.  Not for other modules.
 */
#ifndef MESHKIT_ROUTE_IMPL_H
#define MESHKIT_ROUTE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"
#include "util.h"

/* Empty the answer for a question (field by field: it is large). */
void	route_answer_reset(struct route_answer *, uint64_t id);
/* Decimal digits of v at buf (20 bytes at most); returns their count. */
size_t	route_format_u64(char *buf, uint64_t v);
/* s as a C string in dst; -1 if it does not fit. */
int	route_copy(char *dst, size_t dstlen, struct str s);

#endif
