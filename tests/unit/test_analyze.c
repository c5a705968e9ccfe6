/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/analyze.c: each cross-resource problem, on files
 * written here, gives its message with Istio's code (or meshkit's own),
 * at the resource and line at fault; a consistent config gives none.
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

#include "analyze.h"
#include "config.h"
#include "util.h"

struct analyzed {
	struct cfg_errors	 errs;
	struct analyze_messages	 msgs;
	struct config		*cfg;
	char			*text;
};

static void	 run(struct analyzed *, const char *);
static void	 done(struct analyzed *);
static void	 assert_says(const struct analyzed *, const char *);
static void	 assert_silent(const char *);
static void	 test_clean(void **);
static void	 test_hosts(void **);
static void	 test_subsets(void **);
static void	 test_gateways(void **);
static void	 test_destination_rules(void **);
static void	 test_selectors(void **);
static void	 test_jwt_keys(void **);
static void	 test_load_messages(void **);

/* a service with two versions of workloads, and the rule naming them */
#define BASE \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: ServiceEntry\n" \
	"metadata: {name: shop}\n" \
	"spec:\n" \
	"  hosts: [shop.example.com]\n" \
	"  ports: [{number: 80, name: http, protocol: HTTP}]\n" \
	"  resolution: STATIC\n" \
	"  workloadSelector: {labels: {app: shop}}\n" \
	"---\n" \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: WorkloadEntry\n" \
	"metadata: {name: shop-1}\n" \
	"spec: {address: 10.0.0.1, labels: {app: shop, version: v1}}\n" \
	"---\n" \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: WorkloadEntry\n" \
	"metadata: {name: shop-2}\n" \
	"spec: {address: 10.0.0.2, labels: {app: shop, version: v2}}\n" \
	"---\n" \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata: {name: shop}\n" \
	"spec:\n" \
	"  host: shop.example.com\n" \
	"  subsets:\n" \
	"  - {name: v1, labels: {version: v1}}\n" \
	"  - {name: v2, labels: {version: v2}}\n" \
	"---\n"
/* what follows BASE starts on line 29 */
#define VS \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: VirtualService\n"

static void
run(struct analyzed *a, const char *yaml)
{
	size_t	 i;
	char	*line, *n;

	memset(a, 0, sizeof(*a));
	a->cfg = config_load_buffer("a.yaml", yaml, strlen(yaml), &a->errs);
	analyze_load_messages(&a->errs, &a->msgs);
	if (a->cfg != NULL)
		analyze_config(a->cfg, &a->msgs);
	analyze_sort(&a->msgs);
	a->text = xstrdup("");
	for (i = 0; i < a->msgs.n; i++) {
		line = analyze_message_line(&a->msgs.v[i]);
		xasprintf(&n, "%s%s\n", a->text, line);
		free(line);
		free(a->text);
		a->text = n;
	}
}

static void
done(struct analyzed *a)
{
	config_free(a->cfg);
	cfg_errors_fini(&a->errs);
	analyze_messages_fini(&a->msgs);
	free(a->text);
}

static void
assert_says(const struct analyzed *a, const char *want)
{
	if (strstr(a->text, want) == NULL)
		fail_msg("want \"%s\" in:\n%s", want, a->text);
}

static void
assert_silent(const char *yaml)
{
	struct analyzed	 a;

	run(&a, yaml);
	if (a.msgs.n != 0)
		fail_msg("want no message, got:\n%s", a.text);
	done(&a);
}

static void
test_clean(void **state)
{
	(void)state;
	assert_silent(BASE VS "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.example.com]\n  http:\n"
	    "  - route:\n"
	    "    - {destination: {host: shop.example.com, subset: v1}, "
	    "weight: 90}\n"
	    "    - {destination: {host: shop.example.com, subset: v2}, "
	    "weight: 10}\n");
}

static void
test_hosts(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE VS "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.example.com]\n  http:\n"
	    "  - route:\n    - destination: {host: gone.example.com}\n"
	    "    mirror: {host: nowhere.example.com}\n");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:36) Referenced host not found: \"gone.example.com\"");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:37) Referenced mirror host not found: "
	    "\"nowhere.example.com\"");
	assert_int_equal(a.msgs.nerrors, 2);
	assert_string_equal(a.msgs.v[0].code, "IST0101");
	assert_string_equal(a.msgs.v[0].name, "ReferencedResourceNotFound");
	done(&a);
	/* two VirtualServices routing one host for the same proxies */
	run(&a, BASE VS "metadata: {name: a}\n"
	    "spec:\n  hosts: [shop.example.com]\n  http:\n"
	    "  - route: [{destination: {host: shop.example.com}}]\n---\n"
	    VS "metadata: {name: b}\n"
	    "spec:\n  hosts: [shop.example.com]\n  http:\n"
	    "  - route: [{destination: {host: shop.example.com}}]\n");
	assert_says(&a, "Warning [IST0109] (VirtualService default/a "
	    "a.yaml:33) The VirtualServices default/a,default/b associated "
	    "with mesh gateway define the same host shop.example.com which "
	    "can lead to undefined behavior.");
	assert_says(&a, "Warning [IST0109] (VirtualService default/b");
	done(&a);
}

static void
test_subsets(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE VS "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.example.com]\n  http:\n"
	    "  - route:\n"
	    "    - {destination: {host: shop.example.com, subset: v1}, "
	    "weight: 50}\n"
	    "    - {destination: {host: shop.example.com, subset: v3}, "
	    "weight: 50}\n"
	    "    mirrors:\n    - destination: {host: shop.example.com, "
	    "subset: v9}\n");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:37) Referenced host+subset in destinationrule not "
	    "found: \"shop.example.com+v3\"");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:39) Referenced mirror+subset in destinationrule not "
	    "found: \"shop.example.com+v9\"");
	assert_null(strstr(a.text, "+v1\""));
	done(&a);
}

static void
test_gateways(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE VS "metadata: {name: shop}\n"
	    "spec:\n  hosts: [shop.example.com]\n"
	    "  gateways: [mesh, shop-gateway, other/gw, there]\n  http:\n"
	    "  - match: [{gateways: [gone-gw]}]\n"
	    "    route: [{destination: {host: shop.example.com}}]\n---\n"
	    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: there}\nspec: {}\n---\n"
	    "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
	    "metadata: {name: gw, namespace: other}\nspec: {}\n");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:34) Referenced gateway not found: \"shop-gateway\"");
	assert_says(&a, "Error [IST0101] (VirtualService default/shop "
	    "a.yaml:36) Referenced gateway not found: \"gone-gw\"");
	/* "there" is a Gateway of the config; other/gw one of the k8s API */
	assert_null(strstr(a.text, "\"there\""));
	assert_null(strstr(a.text, "\"other/gw\""));
	assert_int_equal(a.msgs.nerrors, 2);
	done(&a);
}

static void
test_destination_rules(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: ghost}\n"
	    "spec: {host: ghost.example.com}\n---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: shop-again}\n"
	    "spec:\n  host: shop.example.com\n"
	    "  subsets: [{name: v1, labels: {version: v1}}, "
	    "{name: v7, labels: {version: v7}}]\n---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: shop-policy}\n"
	    "spec:\n  host: shop.example.com\n"
	    "  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: shop-policy-2}\n"
	    "spec:\n  host: shop.example.com\n"
	    "  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n");
	assert_says(&a, "Warning [IST0174] (DestinationRule default/ghost "
	    "a.yaml:32) The host ghost.example.com defined in the "
	    "DestinationRule does not match any services in the mesh.");
	assert_says(&a, "Error [IST0173] (DestinationRule "
	    "default/shop-again a.yaml:39) The Subset v7 defined in the "
	    "DestinationRule does not select any pods.");
	assert_says(&a, "Warning [MK0001] (DestinationRule "
	    "default/shop-again a.yaml:39) The DestinationRules "
	    "default/shop and default/shop-again both define subset v1 of "
	    "host shop.example.com: only the first one's applies.");
	assert_says(&a, "Warning [MK0001] (DestinationRule "
	    "default/shop-policy-2 a.yaml:53) The DestinationRules "
	    "default/shop-policy and default/shop-policy-2 define a "
	    "trafficPolicy for the same host shop.example.com");
	done(&a);
	/* a wildcard rule over a service it covers is known */
	assert_silent(BASE "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: all}\n"
	    "spec:\n  host: \"*.example.com\"\n"
	    "  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n");
}

static void
test_selectors(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE "apiVersion: security.istio.io/v1\n"
	    "kind: AuthorizationPolicy\nmetadata: {name: nobody}\n"
	    "spec:\n  selector: {matchLabels: {version: v1, app: gone}}\n"
	    "  rules: [{to: [{operation: {methods: [GET]}}]}]\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: AuthorizationPolicy\nmetadata: {name: empty-ns, "
	    "namespace: empty}\nspec: {}\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: PeerAuthentication\nmetadata: {name: pa}\n"
	    "spec:\n  selector: {matchLabels: {app: nope}}\n"
	    "  mtls: {mode: DISABLE}\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: RequestAuthentication\nmetadata: {name: ra}\n"
	    "spec:\n  selector: {matchLabels: {app: shop}}\n"
	    "  jwtRules: [{issuer: i, jwksUri: \"https://i.example/k\"}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: lonely}\nspec:\n"
	    "  hosts: [lonely.example.com]\n  resolution: STATIC\n"
	    "  workloadSelector: {labels: {app: lonely}}\n---\n"
	    "apiVersion: meshkit.io/v1alpha1\nkind: Proxy\n"
	    "metadata: {name: px, namespace: tools}\n"
	    "spec: {workload: {labels: {app: cli}}}\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: AuthorizationPolicy\nmetadata: {name: cli, "
	    "namespace: tools}\nspec:\n  selector: {matchLabels: {app: "
	    "cli}}\n");
	assert_says(&a, "Warning [IST0127] (AuthorizationPolicy "
	    "default/nobody a.yaml:33) No matching workloads for this "
	    "resource with the following labels: app=gone,version=v1");
	assert_says(&a, "Warning [IST0127] (AuthorizationPolicy "
	    "empty/empty-ns a.yaml:36) No matching workloads for this "
	    "resource with the following labels: \n");
	assert_says(&a, "Warning [IST0127] (PeerAuthentication default/pa "
	    "a.yaml:45) No matching workloads for this resource with the "
	    "following labels: app=nope");
	assert_says(&a, "Warning [IST0127] (ServiceEntry default/lonely "
	    "a.yaml:55) No matching workloads for this resource with the "
	    "following labels: app=lonely");
	/* WorkloadEntries and Proxies' workloads are workloads */
	assert_null(strstr(a.text, "default/ra"));
	assert_null(strstr(a.text, "tools/cli"));
	assert_int_equal(a.msgs.nerrors, 0);
	done(&a);
	/* in the root namespace (MeshConfig rootNamespace), a policy
	   without selector is the whole mesh's: no warning */
	run(&a, BASE "apiVersion: meshkit.io/v1alpha1\nkind: MeshConfig\n"
	    "metadata: {name: m}\nspec: {rootNamespace: empty}\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: AuthorizationPolicy\nmetadata: {name: empty-ns, "
	    "namespace: empty}\nspec: {}\n");
	assert_null(strstr(a.text, "empty/empty-ns"));
	assert_int_equal(a.msgs.nerrors, 0);
	done(&a);
}

static void
test_jwt_keys(void **state)
{
	struct analyzed	 a;
	char		 path[] = "/tmp/meshkit-analyze-XXXXXX", *yaml;
	int		 fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "{\"keys\": []}", 12), 12);
	close(fd);
	xasprintf(&yaml, BASE "apiVersion: security.istio.io/v1\n"
	    "kind: RequestAuthentication\nmetadata: {name: ra}\nspec:\n"
	    "  jwtRules:\n"
	    "  - {issuer: a, jwksUri: \"file:///nonexistent/meshkit.jwks\"}\n"
	    "  - {issuer: b, jwksUri: \"file://%s\"}\n", path);
	run(&a, yaml);
	assert_says(&a, "Error [IST0101] (RequestAuthentication default/ra "
	    "a.yaml:34) Referenced jwksUri file not found: "
	    "\"/nonexistent/meshkit.jwks\"");
	assert_says(&a, "Error [MK0002] (RequestAuthentication default/ra "
	    "a.yaml:35) The JWT rule for issuer b has no usable key");
	done(&a);
	unlink(path);
	free(yaml);
}

static void
test_load_messages(void **state)
{
	struct analyzed	 a;

	(void)state;
	run(&a, BASE "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: t}\n"
	    "spec:\n  host: shop.example.com\n"
	    "  trafficPolicy: {tunnel: {targetHost: p.example, "
	    "targetPort: 3128}}\n");
	assert_says(&a, "Warning [IST0133] (a.yaml:34:19) Schema validation "
	    "warning: DestinationRule trafficPolicy.tunnel is not "
	    "supported by meshkit and is ignored");
	assert_int_equal(a.msgs.nerrors, 0);
	done(&a);
	run(&a, BASE "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\nmetadata: {name: t}\n"
	    "spec: {host: shop.example.com, subsets: [{nam: x}]}\n");
	assert_null(a.cfg);
	assert_says(&a, "Error [IST0106] (a.yaml:32:");
	assert_says(&a, "Schema validation error: unknown field nam");
	assert_int_equal(a.msgs.nerrors, 1);
	done(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_subsets),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_destination_rules),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_jwt_keys),
		cmocka_unit_test(test_load_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
