/* lib/mtls.c: Istio's precedence of PeerAuthentication and DR tls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "mtls.h"
#include "util.h"

static struct config *
load(const char *yaml)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*cfg;

	cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
	cfg_errors_fini(&errs);
	assert_non_null(cfg);
	return cfg;
}

#define PA(ns, name, rest) \
	"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n" \
	"metadata: {name: " name ", namespace: " ns "}\nspec:\n" rest "---\n"

static const char policies[] =
    PA("istio-system", "mesh", "  mtls: {mode: STRICT}\n")
    PA("shop", "ns", "  mtls: {mode: PERMISSIVE}\n")
    PA("shop", "rating", "  selector: {matchLabels: {app: rating}}\n"
	"  mtls: {mode: UNSET}\n"
	"  portLevelMtls:\n    9081: {mode: DISABLE}\n    9082: {mode: UNSET}\n")
    PA("default", "book", "  selector: {matchLabels: {app: book}}\n"
	"  mtls: {mode: DISABLE}\n");

static void
test_inbound(void **state)
{
	struct config		*cfg = load(policies);
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
	struct config		*cfg = load(rule);
	const struct destination_rule *dr = &cfg->destination_rules[0];
	const struct client_tls	*t;
	struct labels		 l;
	char			*k[] = { "security.istio.io/tlsMode" };
	char			*v[] = { "istio" };

	(void)state;
	t = mtls_client_tls(dr, NULL, 8080);
	assert_int_equal(t->mode, CLIENT_TLS_ISTIO_MUTUAL);
	t = mtls_client_tls(dr, NULL, 443);
	assert_int_equal(t->mode, CLIENT_TLS_SIMPLE);
	assert_string_equal(t->sni, "rating.example");
	t = mtls_client_tls(dr, "v1", 443);
	assert_int_equal(t->mode, CLIENT_TLS_DISABLE);
	t = mtls_client_tls(dr, "v2", 443);	/* no policy of its own */
	assert_int_equal(t->mode, CLIENT_TLS_SIMPLE);
	t = mtls_client_tls(dr, "v3", 8443);
	assert_int_equal(t->mode, CLIENT_TLS_MUTUAL);
	t = mtls_client_tls(dr, "v3", 80);	/* its policy has no tls */
	assert_int_equal(t->mode, CLIENT_TLS_ISTIO_MUTUAL);
	assert_null(mtls_client_tls(NULL, NULL, 80));
	assert_string_equal(mtls_client_mode_name(t->mode), "ISTIO_MUTUAL");
	l.keys = k;
	l.values = v;
	l.n = 1;
	assert_true(mtls_endpoint_has_proxy(&l));
	v[0] = "disabled";
	assert_false(mtls_endpoint_has_proxy(&l));
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbound),
		cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
