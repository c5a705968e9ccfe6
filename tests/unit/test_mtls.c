/* SPDX-License-Identifier: ISC */
/* lib/mtls.c: Istio's precedence of PeerAuthentication and DR tls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "helpers.h"
#include "msg.h"
#include "mtls.h"
#include "route.h"
#include "util.h"

#define PA(ns, name, rest) \
	"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n" \
	"metadata: {name: " name ", namespace: " ns "}\nspec:\n" rest "---\n"

static const char policies[] =
    PA("istio-system", "mesh", "  mtls: {mode: STRICT}\n")
    PA("shop", "ns", "  mtls: {mode: PERMISSIVE}\n")
    PA("shop", "rating", "  selector: {matchLabels: {app: rating}}\n"
	"  mtls: {mode: UNSET}\n"
	"  portLevelMtls:\n    9081: {mode: DISABLE}\n"
	"    9082: {mode: UNSET}\n")
    PA("default", "book", "  selector: {matchLabels: {app: book}}\n"
	"  mtls: {mode: DISABLE}\n");

static void
test_inbound(void **state)
{
	struct config		*cfg = must_load(policies);
	struct mtls_inbound	 in;
	struct labels		 l;
	char			*k[] = { "app" }, *v[] = { "rating" };

	(void)state;
	l.keys = k;
	l.values = v;
	l.n = 1;
	/* the mesh's STRICT for a namespace without policy */
	mtls_inbound_mode(cfg, NULL, "default", &l, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_STRICT);
	assert_string_equal(in.source,
	    "PeerAuthentication istio-system/mesh (mesh)");
	/* the namespace's PERMISSIVE beats it; the workload's UNSET keeps it */
	mtls_inbound_mode(cfg, NULL, "shop", &l, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_PERMISSIVE);
	assert_string_equal(in.source, "PeerAuthentication shop/ns "
	    "(namespace)");
	assert_non_null(in.workload);
	/* a port's own mode; an UNSET port inherits */
	mtls_inbound_mode(cfg, NULL, "shop", &l, 9081, &in);
	assert_int_equal(in.mode, PEER_MTLS_DISABLE);
	assert_string_equal(in.source, "PeerAuthentication shop/rating "
	    "(workload, port 9081)");
	mtls_inbound_mode(cfg, NULL, "shop", &l, 9082, &in);
	assert_int_equal(in.mode, PEER_MTLS_PERMISSIVE);
	/* another workload of the namespace: no workload policy */
	v[0] = "other";
	mtls_inbound_mode(cfg, NULL, "shop", &l, 9081, &in);
	assert_int_equal(in.mode, PEER_MTLS_PERMISSIVE);
	assert_null(in.workload);
	/* a workload policy in default */
	v[0] = "book";
	mtls_inbound_mode(cfg, NULL, "default", &l, 80, &in);
	assert_int_equal(in.mode, PEER_MTLS_DISABLE);
	/* another root namespace: no mesh policy, Istio's default */
	v[0] = "x";
	mtls_inbound_mode(cfg, "mesh-root", "default", &l, 80, &in);
	assert_int_equal(in.mode, PEER_MTLS_PERMISSIVE);
	assert_string_equal(in.source, "default: no PeerAuthentication");
	mtls_inbound_mode(NULL, NULL, "default", NULL, 0, &in);
	assert_int_equal(in.mode, PEER_MTLS_PERMISSIVE);
	assert_string_equal(mtls_mode_name(in.mode), "PERMISSIVE");
	config_free(cfg);
}

/*
 * MeshConfig rootNamespace moves the mesh level: a policy without
 * selector there is the mesh's, and istio-system is one namespace more.
 */
static void
test_root_namespace(void **state)
{
	static const char yaml[] =
	    "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: mesh}\nspec: {rootNamespace: mesh-root}\n---\n"
	    PA("mesh-root", "mesh", "  mtls: {mode: STRICT}\n")
	    PA("istio-system", "old", "  mtls: {mode: DISABLE}\n");
	struct config		*cfg = must_load(yaml), *plain;
	struct mtls_inbound	 in;

	(void)state;
	assert_string_equal(config_root_namespace(cfg), "mesh-root");
	mtls_inbound_mode(cfg, NULL, "default", NULL, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_STRICT);
	assert_string_equal(in.source,
	    "PeerAuthentication mesh-root/mesh (mesh)");
	assert_non_null(in.mesh);
	/* istio-system's own workloads take its policy as their namespace's */
	mtls_inbound_mode(cfg, NULL, "istio-system", NULL, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_DISABLE);
	assert_string_equal(in.source,
	    "PeerAuthentication istio-system/old (namespace)");
	/* without the MeshConfig, the same policies: istio-system's rules */
	plain = must_load(yaml + strlen("apiVersion: meshkit.io/v1alpha1\nkind: "
	    "MeshConfig\nmetadata: {name: mesh}\nspec: {rootNamespace: "
	    "mesh-root}\n---\n"));
	assert_string_equal(config_root_namespace(plain), "istio-system");
	mtls_inbound_mode(plain, NULL, "default", NULL, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_DISABLE);
	assert_string_equal(in.source,
	    "PeerAuthentication istio-system/old (mesh)");
	/* a root namespace given by the caller wins (meshctl describe -R) */
	mtls_inbound_mode(plain, "mesh-root", "default", NULL, 8080, &in);
	assert_int_equal(in.mode, PEER_MTLS_STRICT);
	config_free(plain);
	config_free(cfg);
}

static const char rule[] =
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: r}\nspec:\n"
    "  host: rating\n"
    "  trafficPolicy:\n"
    "    tls: {mode: ISTIO_MUTUAL}\n"
    "    portLevelSettings:\n"
    "    - port: {number: 443}\n"
    "      tls: {mode: SIMPLE, sni: rating.example}\n"
    "  subsets:\n"
    "  - name: v1\n"
    "    labels: {version: v1}\n"
    "    trafficPolicy:\n"
    "      tls: {mode: DISABLE}\n"
    "  - name: v2\n"
    "    labels: {version: v2}\n"
    "  - name: v3\n"
    "    labels: {version: v3}\n"
    "    trafficPolicy:\n"
    "      portLevelSettings:\n"
    "      - port: {number: 8443}\n"
    "        tls: {mode: MUTUAL, clientCertificate: /c.pem, "
    "privateKey: /k.pem}\n";

static void
test_client(void **state)
{
	struct config		*cfg = must_load(rule);
	const struct destination_rule *dr = &cfg->destination_rules[0];
	const struct client_tls	*t;
	struct labels		 l;
	char			*k[] = { "security.istio.io/tlsMode" };
	char			*v[] = { "istio" };

	(void)state;
	t = mtls_rule_tls(dr, NULL, 8080);
	assert_int_equal(t->mode, CLIENT_TLS_ISTIO_MUTUAL);
	t = mtls_rule_tls(dr, NULL, 443);
	assert_int_equal(t->mode, CLIENT_TLS_SIMPLE);
	assert_string_equal(t->sni, "rating.example");
	t = mtls_rule_tls(dr, "v1", 443);
	assert_int_equal(t->mode, CLIENT_TLS_DISABLE);
	t = mtls_rule_tls(dr, "v2", 443);	/* no policy of its own */
	assert_int_equal(t->mode, CLIENT_TLS_SIMPLE);
	t = mtls_rule_tls(dr, "v3", 8443);
	assert_int_equal(t->mode, CLIENT_TLS_MUTUAL);
	t = mtls_rule_tls(dr, "v3", 80);	/* its policy has no tls */
	assert_int_equal(t->mode, CLIENT_TLS_ISTIO_MUTUAL);
	assert_null(mtls_rule_tls(NULL, NULL, 80));
	assert_string_equal(mtls_client_mode_name(t->mode), "ISTIO_MUTUAL");
	l.keys = k;
	l.values = v;
	l.n = 1;
	assert_true(mtls_endpoint_has_proxy(&l));
	v[0] = "disabled";
	assert_false(mtls_endpoint_has_proxy(&l));
	config_free(cfg);
}


static const char mesh[] =
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: rating}\nspec:\n"
    "  hosts: [rating]\n"
    "  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
    "  resolution: STATIC\n"
    "  subjectAltNames: [spiffe://cluster.local/ns/default/sa/rating]\n"
    "  workloadSelector: {labels: {app: rating}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
    "metadata: {name: r1}\nspec:\n"
    "  address: 127.0.0.1\n  ports: {http: 15081}\n"
    "  serviceAccount: rating-v1\n"
    "  labels: {app: rating, version: v1, "
    "security.istio.io/tlsMode: istio}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
    "metadata: {name: r2}\nspec:\n"
    "  address: 127.0.0.2\n  ports: {http: 9082}\n"
    "  labels: {app: rating, version: v2}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
    "metadata: {name: web}\nspec:\n"
    "  hosts: [web.example]\n"
    "  ports: [{number: 443, name: https, protocol: HTTP}]\n"
    "  resolution: STATIC\n"
    "  endpoints: [{address: 127.0.0.1, ports: {https: 8443}}]\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: web}\nspec:\n"
    "  host: web.example\n"
    "  trafficPolicy:\n"
    "    portLevelSettings:\n"
    "    - port: {number: 443}\n"
    "      tls: {mode: SIMPLE, sni: web.example, caCertificates: /ca.pem,"
    " subjectAltNames: [web.example]}\n";

static void
ask(const struct config *cfg, const char *authority, struct route_answer *a)
{
	struct msg_source	 src;
	struct route_query	 q;

	memset(&src, 0, sizeof(src));
	memset(&q, 0, sizeof(q));
	src.namespace = STR_LIT("default");
	q.authority.p = authority;
	q.authority.n = strlen(authority);
	route_decide(cfg, NULL, &src, &q, 0, a);
	assert_int_equal(a->status, ROUTE_OK);
}

/* route-d's answer: auto mTLS marks, known identities, a rule's tls. */
static void
test_route_tls(void **state)
{
	static struct route_answer	 a, b;
	struct config			*cfg = must_load(mesh);
	struct msg_writer		 w;
	struct msg			 m;
	char				 err[128];
	size_t				 i;
	int				 marked = 0;

	(void)state;
	ask(cfg, "rating:8080", &a);
	assert_int_equal(a.tls.mode, ROUTE_TLS_AUTO);
	assert_int_equal(a.nendpoints, 2);
	for (i = 0; i < a.nendpoints; i++)
		if (a.endpoints[i].mtls) {
			marked++;
			assert_string_equal(a.endpoints[i].address,
			    "127.0.0.1:15081");
		}
	assert_int_equal(marked, 1);
	assert_int_equal(a.tls.nsans, 2);
	assert_string_equal(a.tls.sans[0],
	    "spiffe://cluster.local/ns/default/sa/rating");
	assert_string_equal(a.tls.sans[1],
	    "spiffe://cluster.local/ns/default/sa/rating-v1");

	/* on the wire and back */
	msgw_init(&w);
	msg_init(&m);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &a);
	assert_non_null(strstr(w.buf, "endpoint: 127.0.0.1:15081 mtls\n"));
	assert_null(strstr(w.buf, "\ntls: "));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.tls.nsans, 2);
	for (i = 0; i < b.nendpoints; i++)
		assert_int_equal(b.endpoints[i].mtls,
		    strcmp(b.endpoints[i].address, "127.0.0.1:15081") == 0);

	ask(cfg, "web.example:443", &a);
	assert_int_equal(a.tls.mode, ROUTE_TLS_SIMPLE);
	assert_string_equal(a.tls.sni, "web.example");
	assert_string_equal(a.tls.ca, "/ca.pem");
	assert_int_equal(a.tls.nsans, 1);
	assert_string_equal(a.tls.sans[0], "web.example");
	msgw_reset(&w);
	msgw_begin(&w, "route-reply");
	msgw_record(&w);
	route_answer_write(&w, &a);
	assert_non_null(strstr(w.buf, "tls: simple\ntls-sni: web.example\n"
	    "tls-ca: /ca.pem\ntls-san: web.example\n"));
	assert_int_equal(msg_parse(&m, w.buf, w.len, err, sizeof(err)), 0);
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.tls.mode, ROUTE_TLS_SIMPLE);
	assert_string_equal(b.tls.ca, "/ca.pem");
	assert_string_equal(b.tls.sans[0], "web.example");
	/* a mode from a later version is refused, not guessed */
	{
		static const char q[] = "meshkit/1 route-reply\n\n"
		    "endpoint: 1.2.3.4:80\ntls: quantum\n";

		assert_int_equal(msg_parse(&m, q, sizeof(q) - 1, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(route_answer_read(&m, &m.records[0], &b, err,
	    sizeof(err)), -1);
	msg_fini(&m);
	msgw_fini(&w);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbound),
		cmocka_unit_test(test_root_namespace),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_route_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
