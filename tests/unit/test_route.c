/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/route.c: decisions over hand-built configs and whole
 * messages in and out.  The wire form is tested in test_route_wire.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "msg.h"
#include "route.h"
#include "util.h"

/* Storage of the config under test; rebuilt by each test. */
static struct config		 cfg;
static struct service_entry	 ses[8];
static struct workload_entry	 wes[8];
static struct service_port	 ports[8][4];
static struct workload		 eps[8][4];
static char			*hosts[8][4];
static struct route_answer	 ans;

static struct service_entry *se_add(const char *, const char *, const char *);
static void	se_host(struct service_entry *, const char *);
static void	se_port(struct service_entry *, uint32_t, const char *,
		    uint32_t);
static struct workload *se_endpoint(struct service_entry *, const char *,
		    uint32_t);
static void	labels_set(struct labels *, const char *, const char *);
static struct workload_entry *we_add(const char *, const char *,
		    const char *, const char *);
static void	ask(struct route_state *, const char *, const char *,
		    uint32_t);
static void	assert_endpoints(const char *);
static int	reset(void **);
static const char *handle(struct route_state *, const char *,
		    struct msg_writer *);
static void	test_exact_host(void **);
static void	test_short_names(void **);
static void	test_wildcards(void **);
static void	test_ports(void **);
static void	test_target_ports(void **);
static void	test_selector(void **);
static void	test_round_robin(void **);
static void	test_weights(void **);
static void	test_skipped_endpoints(void **);
static void	test_no_route(void **);
static void	test_export_to(void **);
static void	test_handle_route(void **);
static void	test_handle_status(void **);
static void	test_handle_garbage(void **);
static void	test_handle_overflow(void **);
static struct config *yaml_config(const char *);
static void	test_yaml_bookstore(void **);
static void	test_yaml_selector(void **);

static int
reset(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(ses, 0, sizeof(ses));
	memset(wes, 0, sizeof(wes));
	memset(ports, 0, sizeof(ports));
	memset(eps, 0, sizeof(eps));
	memset(hosts, 0, sizeof(hosts));
	cfg.service_entries = ses;
	cfg.workload_entries = wes;
	return 0;
}

static struct service_entry *
se_add(const char *ns, const char *name, const char *host)
{
	struct service_entry	*se = &ses[cfg.nservice_entries];

	se->meta.kind = "ServiceEntry";
	se->meta.name = (char *)name;
	se->meta.namespace = (char *)ns;
	se->hosts = hosts[cfg.nservice_entries];
	se->ports = ports[cfg.nservice_entries];
	se->endpoints = eps[cfg.nservice_entries];
	se->resolution = RESOLUTION_STATIC;
	cfg.nservice_entries++;
	se_host(se, host);
	return se;
}

static void
se_host(struct service_entry *se, const char *host)
{
	se->hosts[se->nhosts++] = (char *)host;
}

static void
se_port(struct service_entry *se, uint32_t number, const char *name,
    uint32_t target)
{
	struct service_port	*p = &se->ports[se->nports++];

	p->number = number;
	p->name = (char *)name;
	p->protocol = "HTTP";
	p->target_port = target;
}

static struct workload *
se_endpoint(struct service_entry *se, const char *address, uint32_t weight)
{
	struct workload	*w = &se->endpoints[se->nendpoints++];

	w->address = (char *)address;
	w->weight = weight;
	return w;
}

/* One label, or one named port when key names a port map. */
static void
labels_set(struct labels *l, const char *key, const char *value)
{
	l->keys = xreallocarray(l->keys, l->n + 1, sizeof(char *));
	l->values = xreallocarray(l->values, l->n + 1, sizeof(char *));
	l->keys[l->n] = (char *)key;
	l->values[l->n] = (char *)value;
	l->n++;
}

static struct workload_entry *
we_add(const char *ns, const char *name, const char *address,
    const char *app)
{
	struct workload_entry	*we = &wes[cfg.nworkload_entries++];

	we->meta.kind = "WorkloadEntry";
	we->meta.name = (char *)name;
	we->meta.namespace = (char *)ns;
	we->spec.address = (char *)address;
	labels_set(&we->spec.labels, "app", app);
	return we;
}

/* Ask for authority from a workload of namespace ns. */
static void
ask(struct route_state *st, const char *ns, const char *authority,
    uint32_t port)
{
	struct msg_source	 src;
	struct route_query	 q;

	memset(&src, 0, sizeof(src));
	memset(&q, 0, sizeof(q));
	src.workload = STR_LIT("book-v1");
	src.namespace.p = ns;
	src.namespace.n = strlen(ns);
	q.id = 42;
	q.authority.p = authority;
	q.authority.n = strlen(authority);
	q.port = port;
	route_decide(&cfg, st, &src, &q, 1000, &ans);
	assert_int_equal(ans.id, 42);
	assert_true(ans.has_id);
}

/* The answer's endpoints, space separated, in order. */
static void
assert_endpoints(const char *want)
{
	char	 got[1024];
	size_t	 i, n = 0;

	got[0] = '\0';
	for (i = 0; i < ans.nendpoints; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
		    i > 0 ? " " : "", ans.endpoints[i].address);
	assert_string_equal(got, want);
}

static void
test_exact_host(void **state)
{
	struct service_entry	*se;

	se = se_add("default", "rating", "rating.default.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se_endpoint(se, "127.0.0.1", 0);
	se = se_add("default", "book", "book.example.com");
	se_port(se, 80, "http", 9080);
	se_endpoint(se, "127.0.0.2", 0);

	ask(NULL, "default", "rating.default.svc.cluster.local:8080", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_string_equal(ans.service, "rating.default.svc.cluster.local");
	assert_int_equal(ans.port, 8080);
	assert_endpoints("127.0.0.1:8080");
	assert_int_equal(ans.lb, ROUTE_LB_ROUND_ROBIN);
	assert_int_equal(ans.reuse_ms, 1000);
	assert_string_equal(ans.vary, "authority listener port");
	assert_non_null(strstr(ans.reason, "ServiceEntry default/rating"));

	/* case, a trailing dot and the port are not part of the name */
	ask(NULL, "default", "BOOK.Example.COM.", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_string_equal(ans.service, "book.example.com");
	assert_int_equal(ans.port, 80);
	assert_endpoints("127.0.0.2:9080");

	/* exact means exact: no prefix or suffix matches */
	ask(NULL, "default", "ook.example.com", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	ask(NULL, "default", "xbook.example.com", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	ask(NULL, "default", "book.example.co", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
}

static void
test_short_names(void **state)
{
	struct service_entry	*se;

	se = se_add("default", "rating", "rating.default.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se_endpoint(se, "127.0.0.1", 0);
	se = se_add("shop", "rating", "rating.shop.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se_endpoint(se, "127.0.0.9", 0);

	ask(NULL, "default", "rating:8080", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_string_equal(ans.service, "rating.default.svc.cluster.local");
	assert_endpoints("127.0.0.1:8080");
	ask(NULL, "shop", "Rating:8080", 0);
	assert_string_equal(ans.service, "rating.shop.svc.cluster.local");
	assert_endpoints("127.0.0.9:8080");
	/* name.namespace reaches across namespaces */
	ask(NULL, "shop", "rating.default:8080", 0);
	assert_string_equal(ans.service, "rating.default.svc.cluster.local");
	ask(NULL, "default", "rating.shop.", 8080);
	assert_string_equal(ans.service, "rating.shop.svc.cluster.local");
	/* a short name in a namespace without the service */
	ask(NULL, "other", "rating:8080", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_string_equal(ans.reason, "no service for host rating port 8080");
	/* three labels are not a short name */
	ask(NULL, "default", "rating.default.svc:8080", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
}

static void
test_wildcards(void **state)
{
	struct service_entry	*se;

	se = se_add("default", "any", "*.example.com");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se = se_add("default", "api", "*.api.example.com");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.2", 0);
	se = se_add("default", "exact", "exact.api.example.com");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.3", 0);

	ask(NULL, "default", "x.api.example.com", 0);
	assert_string_equal(ans.service, "*.api.example.com");
	assert_endpoints("10.0.0.2:80");
	ask(NULL, "default", "Exact.api.example.com", 0);
	assert_string_equal(ans.service, "exact.api.example.com");
	ask(NULL, "default", "foo.example.com", 0);
	assert_string_equal(ans.service, "*.example.com");
	ask(NULL, "default", "a.b.c.example.com", 0);
	assert_string_equal(ans.service, "*.example.com");
	/* the wildcard wants a label of its own */
	ask(NULL, "default", "example.com", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	ask(NULL, "default", "xexample.com", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	ask(NULL, "default", "api.example.com", 0);
	assert_string_equal(ans.service, "*.example.com");

	/* a wildcard over a port the exact entry lacks */
	se_port(&ses[0], 8080, "http-alt", 0);
	ask(NULL, "default", "exact.api.example.com:8080", 0);
	assert_string_equal(ans.service, "*.example.com");
	assert_endpoints("10.0.0.1:8080");

	/* "*" takes anything, after everything more specific */
	se = se_add("default", "all", "*");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.4", 0);
	ask(NULL, "default", "elsewhere.org", 0);
	assert_string_equal(ans.service, "*");
	ask(NULL, "default", "foo.example.com", 0);
	assert_string_equal(ans.service, "*.example.com");
}

static void
test_ports(void **state)
{
	struct service_entry	*se;

	se = se_add("default", "web", "web.local");
	se_port(se, 80, "http", 0);
	se_port(se, 8080, "http-alt", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se = se_add("default", "one", "one.local");
	se_port(se, 9000, "http", 0);
	se_endpoint(se, "10.0.0.2", 0);
	se = se_add("default", "two", "two.local");
	se_port(se, 9000, "http", 0);
	se_port(se, 9001, "grpc", 0);
	se_endpoint(se, "10.0.0.3", 0);

	/* the authority's port wins over the port field */
	ask(NULL, "default", "web.local:8080", 80);
	assert_int_equal(ans.port, 8080);
	assert_endpoints("10.0.0.1:8080");
	ask(NULL, "default", "web.local", 8080);
	assert_int_equal(ans.port, 8080);
	/* neither: 80 when the service has it */
	ask(NULL, "default", "web.local", 0);
	assert_int_equal(ans.port, 80);
	assert_endpoints("10.0.0.1:80");
	/* else the only port */
	ask(NULL, "default", "one.local", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.port, 9000);
	/* a port the service lacks */
	ask(NULL, "default", "one.local:80", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_string_equal(ans.reason, "no service for host one.local "
	    "port 80");
	ask(NULL, "default", "web.local:9090", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	/* several ports, none 80, none asked for */
	ask(NULL, "default", "two.local", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_non_null(strstr(ans.reason, "several ports"));
	ask(NULL, "default", "two.local:9001", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	/* a bad authority is no route, not a crash */
	ask(NULL, "default", "web.local:0", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_non_null(strstr(ans.reason, "bad authority"));
	ask(NULL, "default", "web.local:99999", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	ask(NULL, "default", "[::1", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
}

static void
test_target_ports(void **state)
{
	struct service_entry	*se;
	struct workload		*w;

	se = se_add("default", "web", "web.local");
	se_port(se, 80, "http", 8080);
	se_port(se, 81, "admin", 0);
	w = se_endpoint(se, "10.0.0.1", 0);
	/* a named port of the endpoint wins over targetPort */
	w->ports.names = calloc(1, sizeof(char *));
	w->ports.numbers = calloc(1, sizeof(uint32_t));
	w->ports.names[0] = "http";
	w->ports.numbers[0] = 7070;
	w->ports.n = 1;
	se_endpoint(se, "10.0.0.2", 0);
	se_endpoint(se, "2001:db8::1", 0);

	ask(NULL, "default", "web.local", 0);
	assert_endpoints("10.0.0.1:7070 10.0.0.2:8080 [2001:db8::1]:8080");
	/* neither a named port nor targetPort: the service port */
	ask(NULL, "default", "web.local:81", 0);
	assert_endpoints("10.0.0.1:81 10.0.0.2:81 [2001:db8::1]:81");
	free(w->ports.names);
	free(w->ports.numbers);
}

static void
test_selector(void **state)
{
	struct service_entry	*se;
	struct workload_entry	*we;

	se = se_add("default", "rating", "rating.default.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se->has_selector = 1;
	labels_set(&se->selector, "app", "rating");
	we = we_add("default", "rating-v1", "127.0.0.1", "rating");
	labels_set(&we->spec.labels, "version", "v1");
	we->spec.ports.names = calloc(1, sizeof(char *));
	we->spec.ports.numbers = calloc(1, sizeof(uint32_t));
	we->spec.ports.names[0] = "http";
	we->spec.ports.numbers[0] = 9081;
	we->spec.ports.n = 1;
	we = we_add("default", "rating-v2", "127.0.0.2", "rating");
	labels_set(&we->spec.labels, "version", "v2");
	we->spec.weight = 3;
	we_add("default", "book", "127.0.0.3", "book");
	we_add("other", "rating-elsewhere", "127.0.0.4", "rating");

	ask(NULL, "default", "rating:8080", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	/* only the matching labels, only the service's namespace */
	assert_endpoints("127.0.0.1:9081 127.0.0.2:8080");
	assert_int_equal(ans.endpoints[0].weight, 1);
	assert_int_equal(ans.endpoints[1].weight, 3);

	/* a selector nothing matches: the service exists, has no endpoint */
	labels_set(&se->selector, "version", "v9");
	ask(NULL, "default", "rating:8080", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 0);
	assert_non_null(strstr(ans.reason, "0 endpoints"));
	free(se->selector.keys);
	free(se->selector.values);
	for (size_t i = 0; i < cfg.nworkload_entries; i++) {
		free(wes[i].spec.labels.keys);
		free(wes[i].spec.labels.values);
	}
	free(wes[0].spec.ports.names);
	free(wes[0].spec.ports.numbers);
}

static void
test_round_robin(void **state)
{
	struct route_state	*st = route_state_new();
	struct service_entry	*se;

	se = se_add("default", "rating", "rating.default.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se_endpoint(se, "127.0.0.1", 0);
	se_endpoint(se, "127.0.0.2", 0);
	se_endpoint(se, "127.0.0.3", 0);
	se = se_add("default", "two", "two.local");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se_endpoint(se, "10.0.0.2", 0);

	ask(st, "default", "rating:8080", 0);
	assert_endpoints("127.0.0.1:8080 127.0.0.2:8080 127.0.0.3:8080");
	ask(st, "default", "rating:8080", 0);
	assert_endpoints("127.0.0.2:8080 127.0.0.3:8080 127.0.0.1:8080");
	/* another service has a counter of its own */
	ask(st, "default", "two.local", 0);
	assert_endpoints("10.0.0.1:80 10.0.0.2:80");
	ask(st, "default", "two.local", 0);
	assert_endpoints("10.0.0.2:80 10.0.0.1:80");
	/* the same service asked by its other names shares it */
	ask(st, "default", "rating.default.svc.cluster.local:8080", 0);
	assert_endpoints("127.0.0.3:8080 127.0.0.1:8080 127.0.0.2:8080");
	ask(st, "default", "rating:8080", 0);
	assert_endpoints("127.0.0.1:8080 127.0.0.2:8080 127.0.0.3:8080");
	ask(st, "default", "two.local", 0);
	assert_endpoints("10.0.0.1:80 10.0.0.2:80");
	/* without state there is no rotation */
	ask(NULL, "default", "rating:8080", 0);
	assert_endpoints("127.0.0.1:8080 127.0.0.2:8080 127.0.0.3:8080");
	ask(NULL, "default", "rating:8080", 0);
	assert_endpoints("127.0.0.1:8080 127.0.0.2:8080 127.0.0.3:8080");
	route_state_free(st);
}

static void
test_weights(void **state)
{
	struct service_entry	*se;
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128];

	se = se_add("default", "web", "web.local");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se_endpoint(se, "10.0.0.2", 5);
	ask(NULL, "default", "web.local", 0);
	assert_int_equal(ans.endpoints[0].weight, 1);
	assert_int_equal(ans.endpoints[1].weight, 5);

	msgw_init(&w);
	msg_init(&m);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &ans);
	assert_non_null(strstr(w.buf, "\nendpoint: 10.0.0.1:80\n"
	    "endpoint: 10.0.0.2:80 weight=5\n"));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	memset(&ans, 0, sizeof(ans));
	assert_int_equal(route_answer_read(&m, &m.records[0], &ans, err,
	    sizeof(err)), 0);
	assert_int_equal(ans.endpoints[0].weight, 1);
	assert_int_equal(ans.endpoints[1].weight, 5);
	msg_fini(&m);
	msgw_fini(&w);

	/*
	 * Answers used once each must still split by weight: route-d puts
	 * each endpoint first as often as its weight says.
	 */
	{
		struct route_state	*st = route_state_new();
		int			 first1 = 0, i;

		for (i = 0; i < 600; i++) {
			ask(st, "default", "web.local", 0);
			if (strcmp(ans.endpoints[0].address, "10.0.0.1:80") == 0)
				first1++;
		}
		assert_int_equal(first1, 100);
		route_state_free(st);
	}
}

static void
test_skipped_endpoints(void **state)
{
	struct service_entry	*se;

	se = se_add("default", "web", "web.local");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "unix:///var/run/web.sock", 0);
	se_endpoint(se, "web-1.internal", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se_endpoint(se, "[::1]", 0);
	ask(NULL, "default", "web.local", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_endpoints("10.0.0.1:80 [::1]:80");
	assert_non_null(strstr(ans.reason, "unix sockets not supported"));
	assert_non_null(strstr(ans.reason, "2 endpoints"));

	/* DNS resolution of the host itself is not there yet: say so */
	se = se_add("default", "ext", "api.external.com");
	se_port(se, 443, "https", 0);
	se->resolution = RESOLUTION_DNS;
	ask(NULL, "default", "api.external.com:443", 0);
	assert_int_equal(ans.status, ROUTE_ERROR);
	assert_non_null(strstr(ans.reason, "DNS"));
	/* NONE without endpoints: a service without endpoints */
	se->resolution = RESOLUTION_NONE;
	ask(NULL, "default", "api.external.com:443", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_int_equal(ans.nendpoints, 0);
}

static void
test_no_route(void **state)
{
	struct msg_source	 src;
	struct route_query	 q;
	struct service_entry	*se;

	se = se_add("default", "web", "web.local");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.1", 0);
	ask(NULL, "default", "unknown.example", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_string_equal(ans.reason,
	    "no service for host unknown.example port 80");
	assert_int_equal(ans.nendpoints, 0);
	assert_string_equal(ans.service, "");

	/* inbound requests are proxy-d's own business */
	memset(&src, 0, sizeof(src));
	memset(&q, 0, sizeof(q));
	q.id = 7;
	q.inbound = 1;
	q.authority = STR_LIT("web.local");
	route_decide(&cfg, NULL, &src, &q, 0, &ans);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_non_null(strstr(ans.reason, "inbound"));
	/* no config at all, no source at all */
	q.inbound = 0;
	route_decide(NULL, NULL, NULL, &q, 0, &ans);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	assert_int_equal(ans.id, 7);
}

static void
test_export_to(void **state)
{
	struct service_entry	*se;
	char			*dot[] = { "." }, *shop[] = { "shop" };

	se = se_add("default", "private", "private.local");
	se_port(se, 80, "http", 0);
	se_endpoint(se, "10.0.0.1", 0);
	se->export_to = dot;
	se->nexport_to = 1;
	ask(NULL, "default", "private.local", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	ask(NULL, "shop", "private.local", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
	se->export_to = shop;
	ask(NULL, "shop", "private.local", 0);
	assert_int_equal(ans.status, ROUTE_OK);
	ask(NULL, "default", "private.local", 0);
	assert_int_equal(ans.status, ROUTE_NO_ROUTE);
}

static const char *
handle(struct route_state *st, const char *in, struct msg_writer *w)
{
	route_handle_message(&cfg, st, 3, 1000, in, strlen(in), w);
	assert_false(w->overflow);
	return w->buf;
}

static void
test_handle_route(void **state)
{
	struct route_state	*st = route_state_new();
	struct route_stats	*stats = route_state_stats(st);
	struct service_entry	*se;
	struct msg_writer	 w;

	se = se_add("default", "rating", "rating.default.svc.cluster.local");
	se_port(se, 8080, "http", 0);
	se_endpoint(se, "127.0.0.1", 0);
	se_endpoint(se, "127.0.0.2", 0);
	msgw_init(&w);
	/* the man page's example */
	assert_string_equal(handle(st, "meshkit/1 route\n"
	    "workload: book-v1\nnamespace: default\nlabel: app=book\n\n"
	    "id: 1\nauthority: rating:8080\nmethod: GET\npath: /rate/1\n\n"
	    "id: 2\nauthority: unknown.example\nmethod: GET\npath: /\n", &w),
	    "meshkit/1 route-reply\ngeneration: 3\n\n"
	    "id: 1\nservice: rating.default.svc.cluster.local\nport: 8080\n"
	    "endpoint: 127.0.0.1:8080\nendpoint: 127.0.0.2:8080\n"
	    "lb: round-robin\nreuse: 1000\nvary: authority listener port\n"
	    "route-name: default\n"
	    "retries: attempts=2 per-try-timeout=0 "
	    "retry-on=connect-failure,refused-stream,unavailable,cancelled\n"
	    "reason: ServiceEntry default/rating host "
	    "rating.default.svc.cluster.local port 8080: 2 endpoints\n\n"
	    "id: 2\nstatus: no-route\nreuse: 1000\n"
	    "vary: authority listener port\n"
	    "reason: no service for host unknown.example port 80\n");
	/* the next message's answer is rotated */
	assert_non_null(strstr(handle(st, "meshkit/1 route\n\nid: 5\n"
	    "authority: rating:8080\n", &w), "\nid: 5\n"
	    "service: rating.default.svc.cluster.local\nport: 8080\n"
	    "endpoint: 127.0.0.2:8080\nendpoint: 127.0.0.1:8080\n"));
	/* a question it cannot read, with an id: an error answer to it */
	assert_non_null(strstr(handle(st, "meshkit/1 route\n\nid: 6\n"
	    "authority: rating\nport: 70000\n\nid: 7\nauthority: rating\n"
	    "port: 8080\n", &w),
	    "\n\nid: 6\nstatus: error\nreason: port: want 1..65535\n\n"
	    "id: 7\nservice: "));
	/* without an id nobody could tell which question failed */
	assert_string_equal(handle(st, "meshkit/1 route\n\nid: 1\n"
	    "authority: a\n\nauthority: b\n", &w),
	    "meshkit/1 error\nreason: record 2: id: missing or not a decimal "
	    "number\nversions: 1\n");
	assert_string_equal(handle(st, "meshkit/1 route\nlabel: x\n\nid: 1\n"
	    "authority: a\n", &w), "meshkit/1 error\n"
	    "reason: header: label: want key=value\nversions: 1\n");
	/* no questions, no answers */
	assert_string_equal(handle(st, "meshkit/1 route\n", &w),
	    "meshkit/1 route-reply\ngeneration: 3\n");
	assert_int_equal(stats->messages, 6);
	assert_int_equal(stats->bad_messages, 2);
	assert_int_equal(stats->queries, 5);
	assert_int_equal(stats->answers_ok, 3);
	assert_int_equal(stats->answers_no_route, 1);
	assert_int_equal(stats->answers_error, 1);

	/* without state: the same answers, no counters, no rotation */
	assert_non_null(strstr(handle(NULL, "meshkit/1 route\n\nid: 5\n"
	    "authority: rating:8080\n", &w), "\nendpoint: 127.0.0.1:8080\n"
	    "endpoint: 127.0.0.2:8080\n"));
	msgw_fini(&w);
	route_state_free(st);
}

static void
test_handle_status(void **state)
{
	struct route_state	*st = route_state_new();
	struct msg_writer	 w;
	struct msg		 m;
	char			 err[128], pid[32];
	uint64_t		 v;

	msgw_init(&w);
	msg_init(&m);
	route_state_stats(st)->reloads = 2;
	handle(st, "meshkit/1 status\n", &w);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "status-reply"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "program"),
	    "route-d"));
	assert_true(util_str_eq(msg_get(&m, &m.header, "version"),
	    MESHKIT_VERSION));
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_true(util_str_eq(msg_get(&m, &m.header, "pid"), pid));
	assert_int_equal(msg_get_u64(&m, &m.header, "generation", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(msg_get_u64(&m, &m.header, "uptime-ms", &v), 0);
	assert_true(v < 10000);
	assert_int_equal(msg_get_u64(&m, &m.header, "messages", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(msg_get_u64(&m, &m.header, "reloads", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(msg_get_u64(&m, &m.header, "queries", &v), 0);
	msg_fini(&m);
	msgw_fini(&w);
	route_state_free(st);
}

static void
test_handle_garbage(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*reply;
	} cases[] = {
		{ "", 0, "meshkit/1 error\nreason: empty message\n"
		    "versions: 1\n" },
		{ "GET / HTTP/1.1\r\n\r\n", 18, "meshkit/1 error\n"
		    "reason: CR byte at offset 14\nversions: 1\n" },
		{ "hello", 5, "meshkit/1 error\nreason: line 1: does not "
		    "start with \"meshkit/\"\nversions: 1\n" },
		{ "meshkit/2 route\n\nid: 1\n", 23, "meshkit/1 error\n"
		    "reason: version 2 not spoken\nversions: 1\n" },
		{ "meshkit/1 fly\n", 14, "meshkit/1 error\n"
		    "reason: unknown message type \"fly\"\nversions: 1\n" },
		{ "meshkit/1 route-reply\n", 22, "meshkit/1 error\n"
		    "reason: unknown message type \"route-reply\"\n"
		    "versions: 1\n" },
		{ "meshkit/1 route\n\nid: 1\0\n", 24, "meshkit/1 error\n"
		    "reason: NUL byte at offset 22\nversions: 1\n" },
	};
	struct route_state	*st = route_state_new();
	struct msg_writer	 w;
	size_t			 i, j;
	char			 noise[4096];
	uint64_t		 x = 88172645463325252ULL;

	msgw_init(&w);
	for (i = 0; i < nitems(cases); i++) {
		route_handle_message(&cfg, st, 1, 0, cases[i].in,
		    cases[i].len, &w);
		assert_string_equal(w.buf, cases[i].reply);
	}
	assert_int_equal(route_state_stats(st)->bad_messages, nitems(cases));
	assert_string_equal(route_state_stats(st)->last_error,
	    "NUL byte at offset 22");
	/* random bytes: an error or a reply, never a crash */
	for (i = 0; i < 200; i++) {
		for (j = 0; j < sizeof(noise); j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			noise[j] = "meshkit/1 route\n:abc"[x % 20];
		}
		route_handle_message(&cfg, st, 1, 0, noise, (x >> 20) %
		    sizeof(noise), &w);
		assert_true(w.len > 0);
		assert_memory_equal(w.buf, "meshkit/1 ", 10);
	}
	msgw_fini(&w);
	route_state_free(st);
}

/* A reply that cannot fit is an error, not a truncated reply. */
static void
test_handle_overflow(void **state)
{
	struct route_state	*st = route_state_new();
	struct service_entry	*se;
	struct msg_writer	 w;
	struct workload		 many[ROUTE_MAX_ENDPOINTS + 1];
	char			 addrs[ROUTE_MAX_ENDPOINTS + 1][16];
	char			*in;
	size_t			 i, len;

	se = se_add("default", "big", "big.local");
	se_port(se, 80, "http", 0);
	memset(many, 0, sizeof(many));
	for (i = 0; i < nitems(many); i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "10.0.%zu.%zu", i / 250,
		    i % 250 + 1);
		many[i].address = addrs[i];
	}
	se->endpoints = many;
	se->nendpoints = nitems(many);
	ask(NULL, "default", "big.local", 0);
	/* capped, and the reason says so */
	assert_int_equal(ans.nendpoints, ROUTE_MAX_ENDPOINTS);
	assert_non_null(strstr(ans.reason, "more than 256 endpoints"));

	in = malloc(MSG_MAX_BYTES);
	assert_non_null(in);
	len = (size_t)sprintf(in, "meshkit/1 route\n");
	for (i = 0; i < MSG_MAX_RECORDS; i++)
		len += (size_t)sprintf(in + len, "\nid: %zu\nauthority: "
		    "big.local\n", i);
	msgw_init(&w);
	route_handle_message(&cfg, st, 1, 0, in, len, &w);
	assert_false(w.overflow);
	assert_non_null(strstr(w.buf, "meshkit/1 error\nreason: reply "
	    "larger than 1 MiB"));
	msgw_fini(&w);
	free(in);
	route_state_free(st);
}

static struct config *
yaml_config(const char *yaml)
{
	struct cfg_errors	 errs;
	struct config		*c;
	size_t			 i;

	memset(&errs, 0, sizeof(errs));
	c = config_load_buffer("test.yaml", yaml, strlen(yaml), &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line,
		    errs.v[i].col, errs.v[i].message);
	cfg_errors_fini(&errs);
	assert_non_null(c);
	return c;
}

/* The man page's example, from Istio-form YAML to the wire and back. */
static void
test_yaml_bookstore(void **state)
{
	static const char yaml[] =
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: ServiceEntry\n"
	    "metadata:\n"
	    "  name: rating\n"
	    "spec:\n"
	    "  hosts:\n"
	    "  - rating.default.svc.cluster.local\n"
	    "  ports:\n"
	    "  - number: 8080\n"
	    "    name: http\n"
	    "    protocol: HTTP\n"
	    "  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - address: 127.0.0.1\n"
	    "    ports:\n"
	    "      http: 9081\n"
	    "  - address: 127.0.0.1\n"
	    "    ports:\n"
	    "      http: 9082\n"
	    "    weight: 2\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: ServiceEntry\n"
	    "metadata:\n"
	    "  name: external\n"
	    "  namespace: shop\n"
	    "spec:\n"
	    "  hosts: [\"*.Example.com\"]\n"
	    "  ports: [{number: 80, name: http, targetPort: 8000}]\n"
	    "  resolution: STATIC\n"
	    "  endpoints: [{address: \"2001:db8::7\"}]\n";
	static const char request[] =
	    "meshkit/1 route\nworkload: book-v1\nnamespace: default\n"
	    "label: app=book\n\n"
	    "id: 1\nauthority: rating:8080\nmethod: GET\npath: /rate/1\n\n"
	    "id: 2\nauthority: unknown.example\n\n"
	    "id: 3\nauthority: www.example.COM\n";
	struct config		*c = yaml_config(yaml);
	struct route_state	*st = route_state_new();
	struct msg_writer	 w;
	struct msg		 m;
	struct route_answer	 a;
	char			 err[128];

	msgw_init(&w);
	msg_init(&m);
	route_handle_message(c, st, 1, 1000, request, sizeof(request) - 1,
	    &w);
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_true(msg_type_is(&m, "route-reply"));
	assert_int_equal(m.nrecords, 3);

	assert_int_equal(route_answer_read(&m, &m.records[0], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.id, 1);
	assert_int_equal(a.status, ROUTE_OK);
	assert_string_equal(a.service, "rating.default.svc.cluster.local");
	assert_int_equal(a.nendpoints, 2);
	assert_string_equal(a.endpoints[0].address, "127.0.0.1:9081");
	assert_string_equal(a.endpoints[1].address, "127.0.0.1:9082");
	assert_int_equal(a.endpoints[1].weight, 2);
	assert_int_equal(a.reuse_ms, 1000);

	assert_int_equal(route_answer_read(&m, &m.records[1], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.id, 2);
	assert_int_equal(a.status, ROUTE_NO_ROUTE);
	assert_string_equal(a.reason,
	    "no service for host unknown.example port 80");

	/* a wildcard host of another namespace, exported to all */
	assert_int_equal(route_answer_read(&m, &m.records[2], &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.status, ROUTE_OK);
	assert_string_equal(a.service, "*.Example.com");
	assert_int_equal(a.nendpoints, 1);
	assert_string_equal(a.endpoints[0].address, "[2001:db8::7]:8000");

	msg_fini(&m);
	msgw_fini(&w);
	route_state_free(st);
	config_free(c);
}

static void
test_yaml_selector(void **state)
{
	static const char yaml[] =
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: ServiceEntry\n"
	    "metadata: {name: rating, namespace: default}\n"
	    "spec:\n"
	    "  hosts: [rating.default.svc.cluster.local]\n"
	    "  ports: [{number: 8080, name: http}]\n"
	    "  resolution: STATIC\n"
	    "  workloadSelector:\n"
	    "    labels: {app: rating}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: rating-v1, namespace: default}\n"
	    "spec:\n"
	    "  address: 127.0.0.1\n"
	    "  ports: {http: 9081}\n"
	    "  labels: {app: rating, version: v1}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: rating-v2, namespace: default}\n"
	    "spec:\n"
	    "  address: 127.0.0.2\n"
	    "  ports: {http: 9082}\n"
	    "  weight: 3\n"
	    "  labels: {app: rating, version: v2}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: rating-x, namespace: other}\n"
	    "spec:\n"
	    "  address: 127.0.0.3\n"
	    "  labels: {app: rating}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1beta1\n"
	    "kind: WorkloadEntry\n"
	    "metadata: {name: book, namespace: default}\n"
	    "spec:\n"
	    "  address: 127.0.0.4\n"
	    "  labels: {app: book}\n";
	struct config		*c = yaml_config(yaml);
	struct route_state	*st = route_state_new();
	struct msg_source	 src;
	struct route_query	 q;

	memset(&src, 0, sizeof(src));
	memset(&q, 0, sizeof(q));
	src.namespace = STR_LIT("default");
	q.id = 1;
	q.authority = STR_LIT("rating:8080");
	route_decide(c, st, &src, &q, 0, &ans);
	assert_int_equal(ans.status, ROUTE_OK);
	assert_endpoints("127.0.0.1:9081 127.0.0.2:9082");
	assert_int_equal(ans.endpoints[1].weight, 3);
	route_decide(c, st, &src, &q, 0, &ans);
	assert_endpoints("127.0.0.2:9082 127.0.0.1:9081");
	route_state_free(st);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exact_host, reset),
		cmocka_unit_test_setup(test_short_names, reset),
		cmocka_unit_test_setup(test_wildcards, reset),
		cmocka_unit_test_setup(test_ports, reset),
		cmocka_unit_test_setup(test_target_ports, reset),
		cmocka_unit_test_setup(test_selector, reset),
		cmocka_unit_test_setup(test_round_robin, reset),
		cmocka_unit_test_setup(test_weights, reset),
		cmocka_unit_test_setup(test_skipped_endpoints, reset),
		cmocka_unit_test_setup(test_no_route, reset),
		cmocka_unit_test_setup(test_export_to, reset),
		cmocka_unit_test_setup(test_handle_route, reset),
		cmocka_unit_test_setup(test_handle_status, reset),
		cmocka_unit_test_setup(test_handle_garbage, reset),
		cmocka_unit_test_setup(test_handle_overflow, reset),
		cmocka_unit_test(test_yaml_bookstore),
		cmocka_unit_test(test_yaml_selector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
