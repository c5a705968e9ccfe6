/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for meshkit-ipc(7) messages: the reader, the route
 * question and answer readers, and route-d's whole message handling over
 * a small built-in config.  Besides "no crash", it checks that what the
 * reader accepts, the writer writes back in a form the reader accepts
 * again with the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "msg.h"
#include "route.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_config(void);
static void	fuzz_round_trip(const struct msg *);

static struct config		 cfg;
static struct service_entry	 ses[3];
static struct workload_entry	 wes[2];
static struct route_state	*state;
static struct msg_writer	 out, again;
static struct msg		 m, m2;
static struct route_answer	 answer;
static struct route_query	 query;

static char	*se0_hosts[] = { "rating.default.svc.cluster.local",
		    "rating.example.com" };
static char	*se1_hosts[] = { "*.example.com", "*" };
static char	*se2_hosts[] = { "book.default.svc.cluster.local" };
static struct service_port se0_ports[] = {
	{ 8080, "http", "HTTP", 0 },
	{ 80, "http-alt", "HTTP", 9090 },
};
static struct service_port se1_ports[] = { { 80, "http", "HTTP", 0 } };
static struct service_port se2_ports[] = {
	{ 9000, "http", "HTTP", 0 },
	{ 9001, "grpc", "GRPC", 0 },
};
static char	*port_names[] = { "http" };
static uint32_t	 port_numbers[] = { 7070 };
static struct workload se0_endpoints[] = {
	{ .address = "127.0.0.1" },
	{ .address = "::1", .weight = 3,
	  .ports = { port_names, port_numbers, 1 } },
	{ .address = "unix:///tmp/x.sock" },
	{ .address = "rating-1.internal" },
	{ .address = "[2001:db8::2]" },
};
static char	*sel_keys[] = { "app" };
static char	*sel_values[] = { "book" };
static char	*we_keys[] = { "app", "version" };
static char	*we_values[] = { "book", "v1" };
static char	*export_dot[] = { "." };

static void
fuzz_config(void)
{
	ses[0].meta.name = "rating";
	ses[0].meta.namespace = "default";
	ses[0].hosts = se0_hosts;
	ses[0].nhosts = nitems(se0_hosts);
	ses[0].ports = se0_ports;
	ses[0].nports = nitems(se0_ports);
	ses[0].endpoints = se0_endpoints;
	ses[0].nendpoints = nitems(se0_endpoints);
	ses[0].resolution = RESOLUTION_STATIC;

	ses[1].meta.name = "wild";
	ses[1].meta.namespace = "default";
	ses[1].hosts = se1_hosts;
	ses[1].nhosts = nitems(se1_hosts);
	ses[1].ports = se1_ports;
	ses[1].nports = nitems(se1_ports);
	ses[1].resolution = RESOLUTION_DNS;

	ses[2].meta.name = "book";
	ses[2].meta.namespace = "default";
	ses[2].hosts = se2_hosts;
	ses[2].nhosts = nitems(se2_hosts);
	ses[2].ports = se2_ports;
	ses[2].nports = nitems(se2_ports);
	ses[2].has_selector = 1;
	ses[2].selector = (struct labels){ sel_keys, sel_values, 1 };
	ses[2].export_to = export_dot;
	ses[2].nexport_to = 1;

	wes[0].meta.name = "book-1";
	wes[0].meta.namespace = "default";
	wes[0].spec.address = "10.0.0.1";
	wes[0].spec.labels = (struct labels){ we_keys, we_values, 2 };
	wes[1].meta.name = "book-2";
	wes[1].meta.namespace = "other";
	wes[1].spec.address = "10.0.0.2";
	wes[1].spec.labels = (struct labels){ we_keys, we_values, 2 };

	cfg.service_entries = ses;
	cfg.nservice_entries = nitems(ses);
	cfg.workload_entries = wes;
	cfg.nworkload_entries = nitems(wes);
	state = route_state_new();
	msgw_init(&out);
	msgw_init(&again);
	msg_init(&m);
	msg_init(&m2);
}

/* Written back field by field, the message reads the same. */
static void
fuzz_round_trip(const struct msg *p)
{
	char	 type[MSG_MAX_KEY + 1], key[MSG_MAX_KEY + 1], err[256];
	size_t	 i, j, r;

	memcpy(type, p->type.p, p->type.n);
	type[p->type.n] = '\0';
	msgw_reset(&again);
	msgw_begin(&again, type);
	for (r = 0; r <= p->nrecords; r++) {
		const struct msg_block *b = r == 0 ? &p->header :
		    &p->records[r - 1];

		if (r > 0)
			msgw_record(&again);
		for (i = b->first; i < b->first + b->count; i++) {
			memcpy(key, p->fields[i].key.p, p->fields[i].key.n);
			key[p->fields[i].key.n] = '\0';
			msgw_field(&again, key, p->fields[i].value);
		}
	}
	if (again.overflow)
		return;		/* "key:" grew to "key: " past the limit */
	if (msg_parse(&m2, again.buf, again.len, err, sizeof(err)) == -1)
		abort();
	if (m2.nrecords != p->nrecords || m2.nfields != p->nfields ||
	    m2.header.count != p->header.count)
		abort();
	for (j = 0; j < p->nfields; j++)
		if (m2.fields[j].key.n != p->fields[j].key.n ||
		    m2.fields[j].value.n != p->fields[j].value.n ||
		    memcmp(m2.fields[j].value.p, p->fields[j].value.p,
		    p->fields[j].value.n) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data;
	char			 err[256];
	struct msg_source	 src;
	size_t			 i, off, n;

	if (state == NULL)
		fuzz_config();

	if (msg_parse(&m, buf, size, err, sizeof(err)) == 0) {
		fuzz_round_trip(&m);
		msg_source_read(&m, &src);
		for (i = 0; i < m.nrecords; i++) {
			if (route_query_read(&m, &m.records[i], &query, err,
			    sizeof(err)) == 0)
				route_decide(&cfg, state, &src, &query, 500,
				    &answer);
			route_answer_read(&m, &m.records[i], &answer, err,
			    sizeof(err));
		}
	} else if (err[0] == '\0')
		abort();	/* a refusal always says why */

	/* as route-d's filter mode cuts its input */
	for (off = 0; off < size; off += n) {
		n = msg_stream_next(buf + off, size - off);
		if (n == 0 || n > size - off)
			abort();
		route_handle_message(&cfg, state, 1, 1000, buf + off, n, &out);
		/* every reply is a readable message */
		if (out.overflow || msg_parse(&m2, out.buf, out.len, err,
		    sizeof(err)) == -1)
			abort();
	}
	return 0;
}
