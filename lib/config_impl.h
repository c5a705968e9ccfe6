/* SPDX-License-Identifier: ISC */
/*
 * Inside the config module: what config.c (loading, the envelope,
 * generic kinds), config_istio.c (ServiceEntry, WorkloadEntry) and
 * config_proxy.c (meshkit's Proxy) share.  Not for other modules.
 */
#ifndef MESHKIT_CONFIG_IMPL_H
#define MESHKIT_CONFIG_IMPL_H

#include <stdint.h>

#include "config.h"
#include "yaml.h"

/* One load in progress: where errors go and which file is being read. */
struct config_loader {
	struct config		*cfg;
	struct cfg_errors	*errs;
	const char		*file;
	const char		*kind;		/* the document's, static */
	const char		*namespace;	/* the resource's */
};

void	config_error(struct config_loader *, const struct ynode *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/*
 * A warning (CFG_WARNING) at n, tagged with the document's kind so that
 * each daemon logs those about its own kinds.
 */
void	config_warn(struct config_loader *, const struct ynode *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/*
 * The warning for a field meshkit reads and checks but does not act on:
 * "KIND what is not supported by meshkit and is ignored", at key.
 */
void	config_ignored(struct config_loader *, const struct ynode *key,
	    const char *what);
void	config_unknown_field(struct config_loader *, const struct ynode *key,
	    const char *where);
int	config_key_is(const struct ynode *key, const char *);
/* A plain empty scalar, "~" or "null": YAML's way of leaving a field out. */
int	config_is_null(const struct ynode *);
/* "a map", "a list", or the scalar quoted, for "got ..." in messages. */
void	config_describe(const struct ynode *, char *, size_t);
int	config_expect_map(struct config_loader *, const struct ynode *,
	    const char *what);

/*
 * Typed readers.  Each checks the node, stores on success (replacing and
 * freeing what *out held), and on failure reports a positioned error and
 * returns -1 leaving *out as it was.
 */
int	config_string(struct config_loader *, const struct ynode *,
	    const char *what, char **out);
int	config_u32(struct config_loader *, const struct ynode *,
	    const char *what, uint32_t min, uint32_t max, uint32_t *out);
/* A bare number 0..100 (Istio's percentages), as parts per million. */
int	config_percent(struct config_loader *, const struct ynode *,
	    const char *what, uint32_t *ppm);
int	config_size(struct config_loader *, const struct ynode *,
	    const char *what, size_t min, size_t max, size_t *out);
int	config_bool(struct config_loader *, const struct ynode *,
	    const char *what, int *out);
int	config_duration(struct config_loader *, const struct ynode *,
	    const char *what, uint64_t *out);
/* The same, 0 allowed ("0s": a session cookie's ttl). */
int	config_duration_zero(struct config_loader *, const struct ynode *,
	    const char *what, uint64_t *out);
int	config_string_list(struct config_loader *, const struct ynode *,
	    const char *what, char ***out, size_t *n);
int	config_labels(struct config_loader *, const struct ynode *,
	    const char *what, struct labels *);
/*
 * One of names[] (NULL-terminated), case-sensitive as Istio's enums are;
 * stores its index.
 */
int	config_enum(struct config_loader *, const struct ynode *,
	    const char *what, const char *const *names, int *out);

/* A list, or an error saying what it is. */
int	config_seq(struct config_loader *, const struct ynode *, const char *);
/* A map whose keys are all among names (NULL-terminated). */
int	config_keys(struct config_loader *, const struct ynode *,
	    const char *what, const char *const *names);
void	config_lower(char *);
/*
 * Istio's domain-name check: RFC 1123 labels, the top one not all
 * digits, at most 255 bytes; with wildcard, a first label "*" too.
 */
int	config_domain_name(const char *, int wildcard);
/* An IPv4 or IPv6 address. */
int	config_ip_address(const char *);

void	config_labels_fini(struct labels *);
void	config_meta_fini(struct resource_meta *);
void	config_strings_free(char **, size_t);

/* config_istio.c */
void	config_service_entry(struct config_loader *, const struct ynode *root,
	    const struct ynode *spec, struct service_entry *);
void	config_workload_entry(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct workload_entry *);
void	config_service_entry_fini(struct service_entry *);
void	config_workload_entry_fini(struct workload_entry *);

/* config_match.c */
/* {exact|prefix|regex: s}; {} means "present" where empty_ok. */
int	config_string_match(struct config_loader *, const struct ynode *,
	    const char *what, int empty_ok, int caseless,
	    struct string_match *);
int	config_http_match(struct config_loader *, const struct ynode *,
	    struct http_match *);
void	config_http_match_fini(struct http_match *);

/* config_networking.c, config_destination.c */
void	config_virtual_service(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct virtual_service *);
void	config_destination_rule(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct destination_rule *);
/* se->meta must be set: the host is NAME.NAMESPACE.svc.cluster.local */
void	config_kube_service(struct config_loader *, const struct ynode *root,
	    const struct ynode *spec, struct service_entry *);
void	config_virtual_service_fini(struct virtual_service *);
void	config_destination_rule_fini(struct destination_rule *);
void	config_meta_copy(struct resource_meta *, const struct resource_meta *);
/* A VirtualService route's retries, or MeshConfig's default policy. */
int	config_http_retries(struct config_loader *, const struct ynode *,
	    const char *what, struct http_retries *);

/* config_mesh.c */
void	config_mesh(struct config_loader *, const struct ynode *root,
	    const struct ynode *spec, struct mesh_config *);
void	config_mesh_free(struct mesh_config *);

/* config_authn.c */
/* selector: {matchLabels: ...}, as Istio's validateWorkloadSelector */
int	config_security_selector(struct config_loader *, const struct ynode *,
	    struct labels *, int *has);
/*
 * The istio.io/dry-run annotation of root's metadata: 1, 0 (false or
 * absent), or -1 with an error (a bad value, or not allowed: why says
 * where it is).
 */
int	config_security_dry_run(struct config_loader *, const struct ynode *root,
	    int allowed, const char *why);
void	config_request_authentication(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct request_authentication *);
void	config_request_authentication_fini(struct request_authentication *);

/* config_security.c */
void	config_authorization_policy(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct authorization_policy *);
void	config_authorization_policy_fini(struct authorization_policy *);

/* config_telemetry.c: MeshConfig's telemetry fields, and Telemetry */
int	config_mesh_telemetry(struct config_loader *, const struct ynode *key,
	    const struct ynode *value, struct mesh_config *);
/* After all of a MeshConfig: the format, the provider names. */
int	config_mesh_telemetry_check(struct config_loader *,
	    const struct ynode *spec, struct mesh_config *);
void	config_mesh_telemetry_fini(struct mesh_config *);
void	config_telemetry(struct config_loader *, const struct ynode *root,
	    const struct ynode *spec, struct telemetry *);
void	config_telemetry_fini(struct telemetry *);

/* config_tls.c */
void	config_peer_authentication(struct config_loader *,
	    const struct ynode *root, const struct ynode *spec,
	    struct peer_authentication *);
void	config_peer_authentication_fini(struct peer_authentication *);
/*
 * trafficPolicy.tls at key: value into a new *out (freeing what it held);
 * where says which level, for messages.  0 or -1 (errors reported).
 */
int	config_client_tls(struct config_loader *, const struct ynode *key,
	    const struct ynode *value, const char *where,
	    struct client_tls **out);
void	config_client_tls_free(struct client_tls *);

/*
 * config_ignored.c: fields meshkit checks but does not act on.  Each
 * checks the value at n as Istio does and, when it is valid, warns at
 * key; 0, or -1 with the errors reported.
 */
int	config_tunnel(struct config_loader *, const struct ynode *key,
	    const struct ynode *n);
int	config_proxy_protocol(struct config_loader *, const struct ynode *key,
	    const struct ynode *n);
int	config_locality_lb(struct config_loader *, const struct ynode *key,
	    const struct ynode *n);
/* warmup, or the older warmupDurationSecs (key tells which) */
int	config_warmup(struct config_loader *, const struct ynode *key,
	    const struct ynode *n);
int	config_tcp_keepalive(struct config_loader *, const struct ynode *key,
	    const struct ynode *n);
/* VirtualService tcp or tls (key tells which); SNI hosts against hosts */
int	config_l4_routes(struct config_loader *, const struct ynode *key,
	    const struct ynode *n, char *const *hosts, size_t nhosts);

/* RFC 1123: a name of at most max bytes (63: a label, as a namespace) */
int	config_dns_name(const char *, size_t max);

/* config_proxy.c */
void	config_proxy(struct config_loader *, const struct ynode *root,
	    const struct ynode *spec, struct proxy_config *);

#endif
