/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of lib/config_tls.c: PeerAuthentication and a
 * DestinationRule's trafficPolicy.tls at every level, parsed into
 * config.h's structs and checked with Istio's rules; a mode asking for
 * TLS is a warning while meshkit does not speak it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "helpers.h"
#include "util.h"

static void	 test_peer_modes(void **);
static void	 test_peer_ports(void **);
static void	 test_peer_errors(void **);
static void	 test_dr_tls_levels(void **);
static void	 test_dr_tls_fields(void **);
static void	 test_dr_tls_errors(void **);

#define PA_HEAD \
	"apiVersion: security.istio.io/v1\n" \
	"kind: PeerAuthentication\n" \
	"metadata: {name: p, namespace: shop}\n" \
	"spec:\n"
#define DR_HEAD \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata: {name: r, namespace: shop}\n" \
	"spec:\n" \
	"  host: r.example\n"

static void
test_peer_modes(void **state)
{
	const struct peer_authentication *pa;
	struct loaded	 l;

	(void)state;
	load(&l, PA_HEAD "  mtls:\n    mode: STRICT\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->npeer_authentications, 1);
	pa = &l.cfg->peer_authentications[0];
	assert_string_equal(pa->meta.namespace, "shop");
	assert_int_equal(pa->mode, PEER_MTLS_STRICT);
	assert_false(pa->has_selector);
	/* enforced by proxy-d: no warning */
	assert_int_equal(l.errs.nwarnings, 0);
	/* still kept whole for whoever reads the tree */
	assert_int_equal(l.cfg->nresources, 1);
	assert_string_equal(l.cfg->resources[0].meta.kind,
	    "PeerAuthentication");
	done(&l);

	load(&l, PA_HEAD "  mtls: {mode: PERMISSIVE}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->peer_authentications[0].mode,
	    PEER_MTLS_PERMISSIVE);
	assert_int_equal(l.errs.nwarnings, 0);
	done(&l);

	/* plain text is what meshkit does: nothing to warn about */
	load(&l, PA_HEAD "  mtls: {mode: DISABLE}\n---\n"
	    "apiVersion: security.istio.io/v1beta1\n"
	    "kind: PeerAuthentication\nmetadata: {name: q}\nspec:\n"
	    "  mtls: {mode: UNSET}\n---\n"
	    "apiVersion: security.istio.io/v1\n"
	    "kind: PeerAuthentication\nmetadata: {name: e}\nspec: {}\n");
	assert_non_null(l.cfg);
	assert_int_equal(l.cfg->npeer_authentications, 3);
	assert_int_equal(l.cfg->peer_authentications[0].mode,
	    PEER_MTLS_DISABLE);
	assert_int_equal(l.cfg->peer_authentications[1].mode,
	    PEER_MTLS_UNSET);
	assert_int_equal(l.cfg->peer_authentications[2].mode,
	    PEER_MTLS_UNSET);
	assert_int_equal(l.errs.n, 0);
	done(&l);
}

static void
test_peer_ports(void **state)
{
	const struct peer_authentication *pa;
	struct loaded	 l;

	(void)state;
	load(&l, PA_HEAD "  selector:\n    matchLabels: {app: rating}\n"
	    "  mtls: {mode: STRICT}\n  portLevelMtls:\n"
	    "    8080: {mode: DISABLE}\n    \"9090\":\n      mode: STRICT\n");
	assert_non_null(l.cfg);
	pa = &l.cfg->peer_authentications[0];
	assert_true(pa->has_selector);
	assert_string_equal(labels_get(&pa->selector, "app"), "rating");
	assert_int_equal(pa->nports, 2);
	assert_int_equal(pa->ports[0].port, 8080);
	assert_int_equal(pa->ports[0].mode, PEER_MTLS_DISABLE);
	assert_int_equal(pa->ports[1].port, 9090);
	assert_int_equal(pa->ports[1].mode, PEER_MTLS_STRICT);
	assert_int_equal(l.errs.nwarnings, 0);
	done(&l);
}

static void
test_peer_errors(void **state)
{
	(void)state;
	assert_refused(PA_HEAD "  mtls:\n    mode: STRIKT\n",
	    "m.yaml:6:11: mtls.mode must be UNSET, DISABLE, PERMISSIVE or "
	    "STRICT, got \"STRIKT\"");
	assert_refused(PA_HEAD "  mtls: {mode: strict}\n", "mtls.mode");
	assert_refused(PA_HEAD "  mtls: {mod: STRICT}\n",
	    "m.yaml:5:10: unknown field mod in mtls");
	assert_refused(PA_HEAD "  mtls: {mode: STRICT}\n  peers: []\n",
	    "unknown field peers in PeerAuthentication spec");
	/* a port means nothing to a namespace or to the mesh */
	assert_refused(PA_HEAD "  portLevelMtls:\n    80: {mode: STRICT}\n",
	    "m.yaml:6:5: portLevelMtls requires a selector");
	assert_refused(PA_HEAD "  selector: {matchLabels: {}}\n"
	    "  portLevelMtls:\n    80: {mode: STRICT}\n",
	    "portLevelMtls requires a selector");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls: {}\n", "m.yaml:6:18: portLevelMtls, if given, "
	    "must have at least one port");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls:\n    0: {mode: STRICT}\n",
	    "portLevelMtls port must be 1..65535");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls:\n    70000: {mode: STRICT}\n",
	    "portLevelMtls port must be 1..65535");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls:\n    http: {mode: STRICT}\n",
	    "portLevelMtls port");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls:\n    80:\n",
	    "portLevelMtls[80] needs a mode");
	assert_refused(PA_HEAD "  selector: {matchLabels: {app: \"a*\"}}\n",
	    "no wildcard in a selector, got \"app=a*\"");
	assert_refused(PA_HEAD "  selector: {matchLabels: {\"\": a}}\n",
	    "selector.matchLabels: an empty label name");
	assert_refused(PA_HEAD "  selector: {labels: {app: a}}\n",
	    "unknown field labels in selector");
}

static void
test_dr_tls_levels(void **state)
{
	const struct destination_rule *dr;
	struct loaded	 l;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n"
	    "    portLevelSettings:\n    - port: {number: 443}\n"
	    "      tls: {mode: SIMPLE, sni: r.example}\n"
	    "  subsets:\n  - name: v1\n    labels: {version: v1}\n"
	    "    trafficPolicy:\n      tls: {mode: DISABLE}\n");
	assert_non_null(l.cfg);
	dr = &l.cfg->destination_rules[0];
	assert_non_null(dr->policy.tls);
	assert_int_equal(dr->policy.tls->mode, CLIENT_TLS_ISTIO_MUTUAL);
	assert_int_equal(dr->policy.tls->origin.line, 7);
	assert_int_equal(dr->policy.tls->origin.col, 5);
	assert_int_equal(dr->policy.nports, 1);
	assert_non_null(dr->policy.ports[0].policy.tls);
	assert_int_equal(dr->policy.ports[0].policy.tls->mode,
	    CLIENT_TLS_SIMPLE);
	assert_string_equal(dr->policy.ports[0].policy.tls->sni,
	    "r.example");
	assert_non_null(dr->subsets[0].policy.tls);
	assert_int_equal(dr->subsets[0].policy.tls->mode, CLIENT_TLS_DISABLE);
	/* every mode is carried out by proxy-d: no warning */
	assert_int_equal(l.errs.nwarnings, 0);
	done(&l);
}

static void
test_dr_tls_fields(void **state)
{
	const struct client_tls	*t;
	struct loaded		 l;

	(void)state;
	load(&l, DR_HEAD "  trafficPolicy:\n    tls:\n      mode: MUTUAL\n"
	    "      clientCertificate: /etc/certs/client.pem\n"
	    "      privateKey: /etc/certs/key.pem\n"
	    "      caCertificates: /etc/certs/ca.pem\n"
	    "      caCrl: /etc/certs/crl.pem\n"
	    "      subjectAltNames: [spiffe://cluster.local/ns/shop/sa/r, "
	    "r.example]\n      sni: r.example\n");
	assert_non_null(l.cfg);
	t = l.cfg->destination_rules[0].policy.tls;
	assert_non_null(t);
	assert_int_equal(t->mode, CLIENT_TLS_MUTUAL);
	assert_string_equal(t->client_certificate, "/etc/certs/client.pem");
	assert_string_equal(t->private_key, "/etc/certs/key.pem");
	assert_string_equal(t->ca_certificates, "/etc/certs/ca.pem");
	assert_string_equal(t->ca_crl, "/etc/certs/crl.pem");
	assert_int_equal(t->nsubject_alt_names, 2);
	assert_string_equal(t->subject_alt_names[1], "r.example");
	assert_string_equal(t->sni, "r.example");
	assert_false(t->insecure_skip_verify);
	assert_null(t->credential_name);
	done(&l);

	/* a credential of the rule's own namespace holds the certs */
	load(&l, DR_HEAD "  trafficPolicy:\n    tls:\n      mode: MUTUAL\n"
	    "      credentialName: configmap://shop/client-certs\n");
	assert_non_null(l.cfg);
	assert_string_equal(l.cfg->destination_rules[0].policy.tls->
	    credential_name, "configmap://shop/client-certs");
	/* ... a Kubernetes object meshkit does not read: it says so */
	assert_int_equal(l.errs.nwarnings, 1);
	assert_has(&l, "trafficPolicy.tls.credentialName is not supported "
	    "by meshkit and is ignored");
	done(&l);
	load(&l, DR_HEAD "  trafficPolicy:\n    tls:\n      mode: SIMPLE\n"
	    "      insecureSkipVerify: true\n      sni: \"\"\n");
	assert_non_null(l.cfg);
	t = l.cfg->destination_rules[0].policy.tls;
	assert_true(t->insecure_skip_verify);
	assert_null(t->sni);	/* "" is Istio's absent */
	done(&l);
}

static void
test_dr_tls_errors(void **state)
{
	(void)state;
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: MUTUL}\n",
	    "m.yaml:7:17: trafficPolicy.tls.mode must be DISABLE, SIMPLE, "
	    "MUTUAL or ISTIO_MUTUAL, got \"MUTUL\"");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "sniff: x}\n", "unknown field sniff in trafficPolicy.tls");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: SIMPLE\n",
	    "trafficPolicy.tls must be a map");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: MUTUAL}\n",
	    "mode MUTUAL needs clientCertificate");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: MUTUAL, "
	    "clientCertificate: /c.pem}\n", "mode MUTUAL needs privateKey");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "credentialName: s, caCertificates: /ca.pem}\n",
	    "with credentialName, clientCertificate, privateKey, "
	    "caCertificates and caCrl must not be given");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "insecureSkipVerify: true, caCertificates: /ca.pem}\n",
	    "insecureSkipVerify cannot go with caCertificates, "
	    "credentialName or subjectAltNames");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: MUTUAL, "
	    "insecureSkipVerify: true, credentialName: s, "
	    "subjectAltNames: [a]}\n",
	    "insecureSkipVerify cannot go with caCertificates or "
	    "subjectAltNames");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "credentialName: \"configmap://other/c\"}\n",
	    "the namespace must be the rule's own, shop");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "credentialName: \"configmap://c\"}\n",
	    "want configmap://NAMESPACE/NAME");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "subjectAltNames: [a, \"\"]}\n", "a name must not be empty");
	assert_refused(DR_HEAD "  trafficPolicy:\n    tls: {mode: SIMPLE, "
	    "insecureSkipVerify: maybe}\n", "insecureSkipVerify");
	/* in a subset too */
	assert_refused(DR_HEAD "  subsets:\n  - name: v1\n    trafficPolicy:\n"
	    "      tls: {mode: MUTUAL}\n", "m.yaml:9:12: "
	    "trafficPolicy.tls: mode MUTUAL needs clientCertificate");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_modes),
		cmocka_unit_test(test_peer_ports),
		cmocka_unit_test(test_peer_errors),
		cmocka_unit_test(test_dr_tls_levels),
		cmocka_unit_test(test_dr_tls_fields),
		cmocka_unit_test(test_dr_tls_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
