/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for authz-d's message handling: any input, as a
 * meshkit-ipc(7) message, over a config with a RequestAuthentication
 * (an inline JWKS) and policies of every action, gives a readable reply;
 * never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "config.h"
#include "msg.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char yaml[] =
"apiVersion: security.istio.io/v1\n"
"kind: RequestAuthentication\n"
"metadata: {name: ra, namespace: istio-system}\n"
"spec:\n"
"  jwtRules:\n"
"  - issuer: testing@secure.istio.io\n"
"    jwks: '{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}'\n"
"    fromHeaders: [{name: x-jwt}, {name: authorization, prefix: \"Bearer \"}]\n"
"    fromParams: [token]\n"
"    fromCookies: [session]\n"
"    outputPayloadToHeader: x-payload\n"
"    outputClaimToHeaders: [{header: x-sub, claim: sub}]\n"
"---\n"
"apiVersion: security.istio.io/v1\n"
"kind: AuthorizationPolicy\n"
"metadata: {name: deny, namespace: default}\n"
"spec:\n"
"  action: DENY\n"
"  rules:\n"
"  - from: [{source: {notIpBlocks: [\"10.0.0.0/8\", \"::1\"]}}]\n"
"    to: [{operation: {paths: [\"/admin/{**}\", \"/x/{*}/y\"], notHosts: [\"a*\"]}}]\n"
"---\n"
"apiVersion: security.istio.io/v1\n"
"kind: AuthorizationPolicy\n"
"metadata: {name: allow, namespace: default}\n"
"spec:\n"
"  rules:\n"
"  - from: [{source: {requestPrincipals: [\"*\"], notPrincipals: [\"x*\"]}}]\n"
"    when:\n"
"    - {key: \"request.auth.claims[a][b]\", values: [\"c\"]}\n"
"    - {key: \"request.headers[x-a]\", notValues: [\"*z\"]}\n"
"    - {key: remote.ip, values: [\"127.0.0.0/8\"]}\n"
"  - to: [{operation: {methods: [GET], ports: [\"80\"]}}]\n"
"---\n"
"apiVersion: security.istio.io/v1\n"
"kind: AuthorizationPolicy\n"
"metadata: {name: custom, namespace: default}\n"
"spec:\n"
"  action: CUSTOM\n"
"  provider: {name: ext}\n"
"  rules: [{when: [{key: connection.sni, values: [\"evil\"]}]}]\n"
"---\n"
"apiVersion: security.istio.io/v1\n"
"kind: RequestAuthentication\n"
"metadata: {name: two, namespace: default}\n"
"spec:\n"
"  jwtRules:\n"
"  - issuer: testing@secure.istio.io\n"
"    jwks: '{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}'\n"
"    audiences: [a]\n"
"  - issuer: other\n"
"    jwks: '{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}'\n"
"    fromHeaders: [{name: x-other}]\n"
"    fromParams: [token, t2]\n"
"---\n"
"apiVersion: security.istio.io/v1\n"
"kind: AuthorizationPolicy\n"
"metadata:\n"
"  name: peers\n"
"  namespace: default\n"
"  annotations: {istio.io/dry-run: \"true\"}\n"
"spec:\n"
"  action: DENY\n"
"  rules:\n"
"  - from: [{source: {namespaces: [\"a*\"], notPrincipals: [\"*/sa/b\"]}}]\n"
"  - from: [{source: {serviceAccounts: [x, \"y/z\"]}}]\n"
"    when:\n"
"    - {key: destination.ip, values: [\"10.0.0.0/8\"]}\n"
"    - {key: destination.port, notValues: [\"81\"]}\n"
"    - {key: source.serviceAccount, values: [q]}\n"
"    - {key: request.auth.audiences, values: [\"a*\"]}\n"
"    - {key: request.auth.presenter, notValues: [\"*\"]}\n"
"    - {key: request.auth.principal, values: [\"*/x\", \"i/*\"]}\n"
"  - to: [{operation: {hosts: [\"*.a:*\"], notPorts: [\"0\"]}}]\n";

static struct config		*cfg;
static struct authz_scratch	*scratch;
static struct msg_writer	 out;
static struct msg		 m;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct authz_env	 env;
	char			 err[256];

	if (cfg == NULL) {
		cfg = config_load_buffer("fuzz.yaml", yaml, sizeof(yaml) - 1,
		    &errs);
		cfg_errors_fini(&errs);
		if (cfg == NULL)
			abort();
		scratch = authz_scratch_new();
		msgw_init(&out);
		msg_init(&m);
	}
	memset(&env, 0, sizeof(env));
	env.now = 1795900000;
	env.reuse_ms = 1000;
	authz_handle_message(cfg, &env, NULL, scratch, 1, (const char *)data,
	    size, &out);
	if (out.overflow || msg_parse(&m, out.buf, out.len, err,
	    sizeof(err)) == -1)
		abort();
	return 0;
}
