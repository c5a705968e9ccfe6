/* SPDX-License-Identifier: ISC */
/*
 * meshkit's configuration: Istio resources in their own envelope
 * (apiVersion, kind, metadata, spec), multi-document YAML files, read from
 * a directory.  A loaded config is immutable; a reload builds a new one
 * beside it and the program swaps a pointer.
 *
 * Kinds typed here: ServiceEntry, WorkloadEntry, VirtualService,
 * DestinationRule (networking.istio.io v1alpha3, v1beta1, v1),
 * RequestAuthentication, AuthorizationPolicy and PeerAuthentication
 * (security.istio.io v1beta1, v1), Telemetry (telemetry.istio.io
 * v1alpha1, v1), the
 * Kubernetes Service (v1, as a ServiceEntry) and meshkit's own Proxy
 * and MeshConfig (meshkit.io/v1alpha1).
 * Other Istio kinds are kept as generic resources (their tree) for the
 * daemons that own them; kinds meshkit cannot act on at all (Deployment,
 * Gateway, ...) are skipped with a notice.
 */
#ifndef MESHKIT_CONFIG_H
#define MESHKIT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "uri.h"
#include "yaml.h"

struct jwks;

#define CONFIG_DEFAULT_NAMESPACE	"default"

struct labels {
	char		**keys;
	char		**values;
	size_t		  n;
};

/* Where a resource came from, for messages. */
struct config_origin {
	const char	*file;		/* points into config->files */
	int		 line;
	int		 col;
};

struct resource_meta {
	char			*kind;
	char			*api_version;
	char			*name;
	char			*namespace;	/* "default" when absent */
	struct labels		 labels;
	struct config_origin	 origin;
};

/* ServiceEntry.ports[] */
struct service_port {
	uint32_t	 number;
	char		*name;
	char		*protocol;	/* HTTP, TCP, ... uppercase; may be NULL */
	uint32_t	 target_port;	/* 0 when absent */
	char		*target_port_name; /* Service targetPort: http */
};

/* A named port map entry of an endpoint: ports: {http: 8080} */
struct port_map {
	char		**names;
	uint32_t	 *numbers;
	size_t		  n;
};

enum resolution {
	RESOLUTION_NONE,
	RESOLUTION_STATIC,
	RESOLUTION_DNS,
	RESOLUTION_DNS_ROUND_ROBIN,
};

/* WorkloadEntry.spec, also used for ServiceEntry.endpoints[] */
struct workload {
	char		*address;
	struct port_map	 ports;
	struct labels	 labels;
	uint32_t	 weight;	/* 0 when absent */
	char		*network;
	char		*locality;
	char		*service_account;
};

struct service_entry {
	struct resource_meta	 meta;
	char			**hosts;
	size_t			  nhosts;
	char			**addresses;
	size_t			  naddresses;
	struct service_port	 *ports;
	size_t			  nports;
	enum resolution		  resolution;
	int			  mesh_internal;	/* location */
	struct workload		 *endpoints;
	size_t			  nendpoints;
	struct labels		  selector;	/* workloadSelector.labels */
	int			  has_selector;
	char			**export_to;
	size_t			  nexport_to;
	char			**subject_alt_names;	/* its workloads' ids */
	size_t			  nsubject_alt_names;
};

struct workload_entry {
	struct resource_meta	 meta;
	struct workload		 spec;
};

enum proxy_listener_direction {
	LISTENER_INBOUND,	/* the mesh calls the local app through it */
	LISTENER_OUTBOUND,	/* the local app calls the mesh through it */
};

struct proxy_listener {
	char				*name;
	enum proxy_listener_direction	 direction;
	char				*address;	/* "127.0.0.1:8080" */
	char				*forward;	/* inbound: local app */
};

enum failure_policy {
	FAILURE_OPEN,		/* go on without the daemon */
	FAILURE_CLOSED,		/* refuse what needs it */
	FAILURE_STALE,		/* last answers, then refuse the rest */
};

struct proxy_daemon {
	char		*address;	/* nng URL, e.g. ipc:///run/meshkit/route.sock */
	uint64_t	 timeout_ms;	/* one consult, default 1000 */
	int		 cache;		/* honour answers' reuse time */
	enum failure_policy failure;
	int		 enabled;	/* authz, breaker: asked at all */
	int		 failure_status; /* authz: 403 or 503 when it fails */
	char		*reports;	/* breaker: its PUSH (report) address */
	char		*events;	/* breaker, tls: its PUB address */
};

/* meshkit.io/v1alpha1 Proxy: what one proxy-d serves and how. */
struct proxy_config {
	struct resource_meta	 meta;
	/* the workload it serves */
	char			*workload_name;
	char			*workload_namespace;
	struct labels		 workload_labels;
	char			*service_account;	/* "default" */
	int64_t			 uid;		/* its proxy-d's, -1: any */
	struct proxy_listener	*listeners;
	size_t			 nlisteners;
	struct proxy_daemon	 route;
	struct proxy_daemon	 authz;		/* inbound: may the caller ask */
	struct proxy_daemon	 breaker;	/* outbound: may it go */
	struct proxy_daemon	 tls;		/* its certificate */
	struct proxy_daemon	 stats;		/* records pushed to stats-d */
	/* limits */
	size_t			 max_request_line;
	size_t			 max_headers;
	size_t			 max_head_bytes;
	size_t			 max_connections;	/* downstream, 0 = none */
	size_t			 buffer_bytes;		/* per direction */
	size_t			 retry_buffer_bytes;	/* body kept to retry */
	/* timeouts, milliseconds */
	uint64_t		 connect_timeout_ms;
	uint64_t		 request_head_timeout_ms;
	uint64_t		 idle_timeout_ms;	/* downstream keep-alive */
	uint64_t		 upstream_idle_timeout_ms; /* pooled conns */
	uint64_t		 stream_idle_timeout_ms; /* no bytes mid-request */
	uint64_t		 drain_timeout_ms;
	size_t			 pool_max_idle;		/* per endpoint */
};

/*
 * A string match of a VirtualService (exact, prefix or regex).  A regex
 * is compiled once at load (PCRE2, anchored at both ends as RE2's full
 * match is) and matched with match_string_test of lib/match.h.
 */
enum string_match_kind {
	MATCH_ANY,		/* absent, or {} under headers: present */
	MATCH_EXACT,
	MATCH_PREFIX,
	MATCH_REGEX,
};

struct string_match {
	enum string_match_kind	 kind;
	char			*value;
	void			*regex;		/* pcre2_code *, MATCH_REGEX */
};

/* headers / withoutHeaders / queryParams entries */
struct named_match {
	char			*name;		/* lower case for headers */
	struct string_match	 match;
};

/* VirtualService http[].match[] */
struct http_match {
	char			*name;
	struct string_match	 uri;
	struct string_match	 scheme;
	struct string_match	 method;
	struct string_match	 authority;
	struct named_match	*headers;
	size_t			 nheaders;
	struct named_match	*without_headers;
	size_t			 nwithout_headers;
	struct named_match	*query_params;
	size_t			 nquery_params;
	uint32_t		 port;		/* 0: any */
	struct labels		 source_labels;
	char			*source_namespace;
	int			 ignore_uri_case;
	char			**gateways;
	size_t			  ngateways;
};

struct header_operations {
	struct labels		 set;		/* name -> value */
	struct labels		 add;
	char			**remove;
	size_t			  nremove;
};

struct headers_policy {
	struct header_operations request;
	struct header_operations response;
};

/* Parts per million: Istio's percentages are doubles 0..100. */
#define PERCENT_MILLION		1000000u

/* route[] and mirror: where a request goes. */
struct http_destination {
	char			*host;
	char			*subset;
	uint32_t		 port;		/* 0: the request's */
	uint32_t		 weight;	/* 0..100 */
	int			 has_weight;
	struct headers_policy	 headers;
	uint32_t		 mirror_ppm;	/* mirrors[] only */
};

struct http_redirect {
	char			*uri;
	char			*authority;
	char			*scheme;
	uint32_t		 port;
	int			 derive_port;	/* FROM_REQUEST_PORT */
	uint32_t		 code;		/* default 301 */
};

struct http_rewrite {
	char			*uri;
	char			*authority;
	void			*regex;		/* uriRegexRewrite.match */
	char			*regex_source;
	char			*regex_rewrite;
};

struct http_retries {
	uint32_t		 attempts;	/* absent: 0, no retries */
	uint64_t		 per_try_timeout_ms;
	char			*retry_on;
	int			 retry_remote_localities;
};

struct http_fault {
	uint64_t		 delay_ms;	/* 0: no delay */
	uint32_t		 delay_ppm;
	uint32_t		 abort_status;	/* 0: no abort */
	uint32_t		 abort_ppm;
};

struct cors_policy {
	struct string_match	*allow_origins;
	size_t			 nallow_origins;
	char			**allow_methods;
	size_t			  nallow_methods;
	char			**allow_headers;
	size_t			  nallow_headers;
	char			**expose_headers;
	size_t			  nexpose_headers;
	uint64_t		 max_age_ms;
	int			 allow_credentials;	/* -1 unset */
};

struct http_route {
	char			*name;
	struct http_match	*matches;	/* ORed; none: all */
	size_t			 nmatches;
	struct http_destination	*routes;
	size_t			 nroutes;
	struct http_redirect	*redirect;
	uint32_t		 direct_status;	/* 0: none */
	char			*direct_body;
	struct http_rewrite	*rewrite;
	uint64_t		 timeout_ms;
	struct http_retries	*retries;
	struct http_fault	 fault;
	struct http_destination	*mirrors;	/* mirror and mirrors[] */
	size_t			 nmirrors;
	struct cors_policy	*cors;
	struct headers_policy	 headers;
};

struct virtual_service {
	struct resource_meta	 meta;
	char			**hosts;
	size_t			  nhosts;
	char			**gateways;
	size_t			  ngateways;
	char			**export_to;
	size_t			  nexport_to;
	struct http_route	*http;
	size_t			 nhttp;
};

enum lb_simple {
	LB_UNSET,
	LB_ROUND_ROBIN,
	LB_LEAST_REQUEST,
	LB_RANDOM,
	LB_PASSTHROUGH,
};

enum lb_hash {
	HASH_NONE,
	HASH_HEADER,
	HASH_COOKIE,
	HASH_SOURCE_IP,
	HASH_QUERY,
};

/*
 * TLS, parsed whole and checked against Istio's rules at load, for tls-d
 * and proxy-d to act on.  Until they do, every mode that asks for TLS is
 * a warning ("... is not supported by meshkit and is ignored").
 */
enum client_tls_mode {
	CLIENT_TLS_DISABLE,		/* plain text (absent mode too) */
	CLIENT_TLS_SIMPLE,		/* TLS, the upstream's cert checked */
	CLIENT_TLS_MUTUAL,		/* TLS with the given client cert */
	CLIENT_TLS_ISTIO_MUTUAL,	/* mTLS with the mesh's certs */
};

/*
 * DestinationRule trafficPolicy.tls, at every level (the rule's, a
 * portLevelSettings entry's, a subset's): Istio's ClientTLSSettings.
 * Strings are NULL when absent (never ""); the checks done at load:
 * MUTUAL without credentialName has clientCertificate and privateKey;
 * SIMPLE or MUTUAL with credentialName has none of clientCertificate,
 * privateKey, caCertificates, caCrl; insecureSkipVerify with SIMPLE has
 * none of caCertificates, credentialName, subjectAltNames, with MUTUAL
 * none of caCertificates, subjectAltNames; a "configmap://ns/name"
 * credentialName names the rule's own namespace.
 */
struct client_tls {
	enum client_tls_mode	 mode;
	char			*client_certificate;	/* file paths */
	char			*private_key;
	char			*ca_certificates;
	char			*ca_crl;
	char			*credential_name;	/* a secret's name */
	char			**subject_alt_names;	/* any of them */
	size_t			  nsubject_alt_names;
	char			*sni;
	int			 insecure_skip_verify;
	struct config_origin	 origin;		/* its "tls:" key */
};

struct traffic_policy {
	enum lb_simple		 simple;
	enum lb_hash		 hash;
	char			*hash_key;	/* header (lower case), cookie,
						   query parameter */
	uint64_t		 cookie_ttl_ms;
	int			 maglev;	/* else ring hash */
	uint64_t		 ring_size;	/* ring hash minimum */
	uint64_t		 maglev_size;	/* a prime */
	/*
	 * Acted on by breaker-d later: read and checked, and kept as their
	 * trees too.  0 means unset in every number.
	 */
	const struct ynode	*connection_pool;
	const struct ynode	*outlier_detection;
	struct connection_pool {
		uint32_t	 max_connections;
		uint64_t	 connect_timeout_ms;
		uint64_t	 tcp_idle_timeout_ms;
		uint64_t	 max_connection_duration_ms;
		uint32_t	 http1_max_pending;
		uint32_t	 http2_max_requests;
		uint32_t	 max_requests_per_connection;
		uint32_t	 max_retries;
		uint64_t	 http_idle_timeout_ms;
	}			 pool;
	struct outlier_detection {
		uint32_t	 consecutive_5xx;
		uint32_t	 consecutive_gateway;
		uint32_t	 consecutive_local_origin;
		uint64_t	 interval_ms;
		uint64_t	 base_ejection_ms;
		uint32_t	 max_ejection_percent;
		uint32_t	 min_health_percent;
		int		 split_external_local;
	}			 outlier;
	struct client_tls	*tls;		/* NULL: not set here */
	struct port_policy	*ports;		/* portLevelSettings */
	size_t			 nports;
};

struct port_policy {
	uint32_t		 port;
	struct traffic_policy	 policy;
};

struct dr_subset {
	char			*name;
	struct labels		 labels;
	struct traffic_policy	 policy;
	int			 has_policy;
};

struct destination_rule {
	struct resource_meta	 meta;
	char			*host;
	struct dr_subset	*subsets;
	size_t			 nsubsets;
	struct traffic_policy	 policy;
	int			 has_policy;
	char			**export_to;
	size_t			  nexport_to;
};

/* MeshConfig extensionProviders[]: where telemetry goes. */
enum provider_kind {
	PROVIDER_ZIPKIN,
	PROVIDER_OPENTELEMETRY,		/* OTLP/HTTP, JSON */
	PROVIDER_FILE_ACCESS_LOG,	/* envoyFileAccessLog */
	PROVIDER_PROMETHEUS,
	PROVIDER_OTHER,			/* for someone else: ext authz */
};

struct extension_provider {
	char			*name;
	enum provider_kind	 kind;
	char			*service;	/* collector host */
	uint32_t		 port;
	char			*path;		/* URL path, or the log file */
	uint64_t		 timeout_ms;	/* export, 0: default */
	struct labels		 headers;	/* sent with each export */
	uint32_t		 max_tag_length; /* 0: none */
	char			*log_text;	/* logFormat.text */
	struct labels		 log_labels;	/* logFormat.labels: JSON */
};

#define ACCESS_LOG_TEXT		0
#define ACCESS_LOG_JSON		1

/* Where stats-d serves and how much it keeps (meshkit's own). */
struct stats_settings {
	char			*address;	/* HTTP: host:port, NULL: none */
	uint32_t		 max_series;	/* 0: default */
	uint32_t		 max_edges;	/* 0: default */
	uint32_t		 max_spans;	/* queued for export, 0: default */
	uint64_t		 export_interval_ms; /* 0: default */
};

/* PeerAuthentication mtls.mode (and each portLevelMtls entry's) */
enum peer_mtls_mode {
	PEER_MTLS_UNSET,	/* absent too: inherit the parent's */
	PEER_MTLS_DISABLE,	/* plain text only */
	PEER_MTLS_PERMISSIVE,	/* plain text or mTLS */
	PEER_MTLS_STRICT,	/* mTLS only */
};

struct peer_port_mtls {
	uint32_t		 port;		/* the workload's port */
	enum peer_mtls_mode	 mode;
};

/*
 * security.istio.io PeerAuthentication, checked as Istio checks it:
 * the modes above, portLevelMtls only with a selector that has labels,
 * at least one entry, ports 1..65535; selector keys not empty and no
 * '*' in keys or values.  Istio's precedence, for tls-d: a workload's
 * policy (with selector) over its namespace's (no selector) over the
 * mesh's (no selector, in the root namespace: config_root_namespace); UNSET
 * inherits from the next one out; a port's entry overrides the
 * policy's mode for that port.
 */
struct peer_authentication {
	struct resource_meta	 meta;
	struct labels		 selector;	/* selector.matchLabels */
	int			 has_selector;	/* with labels */
	enum peer_mtls_mode	 mode;		/* mtls.mode */
	struct peer_port_mtls	*ports;		/* portLevelMtls */
	size_t			 nports;
};

/*
 * meshkit.io/v1alpha1 MeshConfig: mesh-wide settings, after Istio's
 * MeshConfig.  At most one in a config.
 */
struct mesh_config {
	struct resource_meta	 meta;
	struct http_retries	*default_retries;	/* NULL: built in */
	/* access logs: the "envoy" provider */
	char			*access_log_file;	/* NULL: none */
	int			 access_log_encoding;	/* ACCESS_LOG_* */
	char			*access_log_format;	/* NULL: Envoy's */
	/* tracing */
	int			 enable_tracing;	/* default 1 */
	uint32_t		 sampling_ppm;		/* default 1% */
	char			*zipkin_address;	/* host:port */
	char			*zipkin_host;		/* of it */
	uint32_t		 zipkin_port;
	struct extension_provider *providers;
	size_t			 nproviders;
	char			**default_tracing;	/* provider names */
	size_t			  ndefault_tracing;
	char			**default_access_logging;
	size_t			  ndefault_access_logging;
	char			**default_metrics;
	size_t			  ndefault_metrics;
	/* where mesh-wide policies and Telemetry live (Istio's); NULL:
	   istio-system (config_root_namespace) */
	char			*root_namespace;
	struct stats_settings	 stats;
	char			*trust_domain;		/* NULL: default */
	uint64_t		 workload_cert_ttl_ms;	/* 0: default */
	/* pathNormalization.normalization, read by proxy-d; BASE if unset */
	enum uri_normalization	 path_normalization;
};

/* Istio's default: 1% of requests traced when nothing says otherwise. */
#define MESH_DEFAULT_SAMPLING_PPM	10000u
#define MESH_DEFAULT_ROOT_NAMESPACE	"istio-system"

enum telemetry_mode {
	TELEMETRY_CLIENT_AND_SERVER,
	TELEMETRY_CLIENT,	/* reporter source: outbound */
	TELEMETRY_SERVER,	/* reporter destination: inbound */
};

/* Telemetry accessLogging[] */
struct telemetry_logging {
	char			**providers;
	size_t			  nproviders;
	int			  disabled;	/* -1: not given */
	char			 *filter;	/* CEL, checked at load */
	void			 *filter_expr;	/* parsed: logfilter.h */
	enum telemetry_mode	  mode;
};

/* Telemetry tracing[] */
struct telemetry_tracing {
	char			**providers;
	size_t			  nproviders;
	int			  has_sampling;
	uint32_t		  sampling_ppm;
	int			  disable_span_reporting; /* -1: not given */
	enum telemetry_mode	  mode;
};

/* Telemetry metrics[].overrides[] */
struct telemetry_override {
	unsigned		 metrics;	/* METRICS_* of metrics.h */
	enum telemetry_mode	 mode;
	int			 disabled;	/* -1: not given */
};

/* Telemetry metrics[] */
struct telemetry_metrics {
	char			**providers;
	size_t			  nproviders;
	struct telemetry_override *overrides;
	size_t			  noverrides;
};

/* telemetry.istio.io Telemetry */
struct telemetry {
	struct resource_meta	 meta;
	struct labels		 selector;
	int			 has_selector;
	int			 applies_to_none; /* targetRef: not ours */
	struct telemetry_logging *logging;
	size_t			 nlogging;
	int			 has_logging;
	struct telemetry_tracing *tracing;
	size_t			 ntracing;
	int			 has_tracing;
	struct telemetry_metrics *metrics;
	size_t			 nmetrics;
	int			 has_metrics;
};
#define CONFIG_DEFAULT_TRUST_DOMAIN	"cluster.local"
#define CONFIG_DEFAULT_CERT_TTL_S	(24 * 3600)
#define CONFIG_MIN_CERT_TTL_MS		2000
#define CONFIG_MAX_CERT_TTL_MS		(90ULL * 24 * 3600 * 1000)

/* Istio's default retry policy, for routes without retries of their own. */
#define MESH_DEFAULT_RETRY_ATTEMPTS	2
#define MESH_DEFAULT_RETRY_ON \
	"connect-failure,refused-stream,unavailable,cancelled"
/* RequestAuthentication jwtRules[].fromHeaders[] */
struct jwt_header_location {
	char			*name;		/* lower case */
	char			*prefix;	/* may be NULL */
};

/* RequestAuthentication jwtRules[].outputClaimToHeaders[] */
struct jwt_claim_header {
	char			*header;	/* lower case */
	char			*claim;		/* "a.b" for nested claims */
};

struct jwt_rule {
	char			*issuer;
	char			**audiences;
	size_t			  naudiences;
	char			*jwks;		/* inline JWKS, as written */
	struct jwks		*keys;		/* it, read at load */
	char			*jwks_uri;
	uint64_t		 timeout_ms;	/* jwksUri fetch, 0: default */
	struct jwt_header_location *from_headers;
	size_t			 nfrom_headers;
	char			**from_params;
	size_t			  nfrom_params;
	char			**from_cookies;
	size_t			  nfrom_cookies;
	int			 forward_original_token;
	char			*output_payload_to_header; /* lower case */
	struct jwt_claim_header	*output_claim_to_headers;
	size_t			 noutput_claim_to_headers;
	char			**space_delimited_claims;
	size_t			  nspace_delimited_claims;
};

struct request_authentication {
	struct resource_meta	 meta;
	struct labels		 selector;	/* selector.matchLabels */
	int			 has_selector;
	struct jwt_rule		*rules;
	size_t			 nrules;
};

enum authz_action {
	AUTHZ_ALLOW,
	AUTHZ_DENY,
	AUTHZ_AUDIT,
	AUTHZ_CUSTOM,
};

/* An address range of ipBlocks, remoteIpBlocks, source.ip, remote.ip. */
struct ip_block {
	int			 family;	/* AF_INET, AF_INET6 */
	unsigned char		 addr[16];
	unsigned		 bits;
};

/* Values of one field: strings, and for address fields their ranges. */
struct authz_values {
	char			**v;
	size_t			  n;
	struct ip_block		 *blocks;	/* address fields only */
	int			  present;	/* the key was written */
};

enum authz_source_field {
	SOURCE_PRINCIPALS,
	SOURCE_REQUEST_PRINCIPALS,
	SOURCE_NAMESPACES,
	SOURCE_IP_BLOCKS,
	SOURCE_REMOTE_IP_BLOCKS,
	SOURCE_SERVICE_ACCOUNTS,	/* values "ns/sa", namespace filled in */
	SOURCE_NFIELDS,
};

enum authz_operation_field {
	OPERATION_HOSTS,
	OPERATION_PORTS,
	OPERATION_METHODS,
	OPERATION_PATHS,
	OPERATION_NFIELDS,
};

/* from[].source: each field and its not-form; all present ones must hold */
struct authz_source {
	struct authz_values	 values[SOURCE_NFIELDS];
	struct authz_values	 not_values[SOURCE_NFIELDS];
};

/* to[].operation */
struct authz_operation {
	struct authz_values	 values[OPERATION_NFIELDS];
	struct authz_values	 not_values[OPERATION_NFIELDS];
};

enum authz_key {
	KEY_REQUEST_HEADER,		/* request.headers[name] */
	KEY_SOURCE_IP,
	KEY_REMOTE_IP,
	KEY_SOURCE_NAMESPACE,
	KEY_SOURCE_PRINCIPAL,
	KEY_SOURCE_SERVICE_ACCOUNT,	/* values "ns/sa", as serviceAccounts */
	KEY_REQUEST_PRINCIPAL,		/* request.auth.principal */
	KEY_REQUEST_AUDIENCES,
	KEY_REQUEST_PRESENTER,
	KEY_REQUEST_CLAIM,		/* request.auth.claims[a][b] */
	KEY_DESTINATION_IP,
	KEY_DESTINATION_PORT,
	KEY_CONNECTION_SNI,
};

/* when[] */
struct authz_condition {
	char			*key;		/* as written, for reasons */
	enum authz_key		 kind;
	char			*header;	/* KEY_REQUEST_HEADER, lower */
	char			**claim;	/* KEY_REQUEST_CLAIM path */
	size_t			  nclaim;
	struct authz_values	 values;
	struct authz_values	 not_values;
};

struct authz_rule {
	struct authz_source	*from;		/* ORed; none: any */
	size_t			 nfrom;
	struct authz_operation	*to;		/* ORed; none: any */
	size_t			 nto;
	struct authz_condition	*when;		/* ANDed */
	size_t			 nwhen;
};

struct authorization_policy {
	struct resource_meta	 meta;
	struct labels		 selector;
	int			 has_selector;
	enum authz_action	 action;
	int			 dry_run;	/* istio.io/dry-run: logged only */
	char			*provider;	/* CUSTOM: provider.name */
	struct authz_rule	*rules;
	size_t			 nrules;
};

/* Any other resource, kept as its parsed tree (spec). */
struct resource {
	struct resource_meta	 meta;
	struct ynode		*spec;		/* into config->docs */
};

struct config {
	char			*dir;		/* NULL when built from files */
	char			**files;	/* every file read, in order */
	size_t			  nfiles;
	struct ydoc		**docs;		/* per file */
	size_t			 *ndocs;

	struct service_entry	*service_entries;
	size_t			 nservice_entries;
	struct workload_entry	*workload_entries;
	size_t			 nworkload_entries;
	struct proxy_config	*proxies;
	size_t			 nproxies;
	struct resource		*resources;	/* other Istio kinds */
	size_t			 nresources;
	/*
	 * Typed forms of some of those resources (they stay in resources
	 * too, for whoever reads the trees): VirtualService,
	 * DestinationRule, and Kubernetes Services as ServiceEntries.
	 */
	struct virtual_service	*virtual_services;
	size_t			 nvirtual_services;
	struct destination_rule	*destination_rules;
	size_t			 ndestination_rules;
	struct service_entry	*kube_services;
	size_t			 nkube_services;
	struct mesh_config	*mesh;		/* NULL: none */
	struct request_authentication *request_authentications;
	size_t			 nrequest_authentications;
	struct authorization_policy *authorization_policies;
	size_t			 nauthorization_policies;
	struct telemetry	*telemetries;
	size_t			 ntelemetries;
	struct peer_authentication *peer_authentications;
	size_t			 npeer_authentications;
};

/*
 * Load every *.yaml and *.yml file of dir, in name order.  Returns the
 * config, or NULL when any file has an error (all errors are in errs; a
 * config is all or nothing).  Notices (skipped kinds) do not fail it.
 */
struct config	*config_load_dir(const char *dir, struct cfg_errors *errs);
/* The same for a list of files (meshctl validate). */
struct config	*config_load_files(char *const *paths, size_t n,
		    struct cfg_errors *errs);
/* The same for one buffer, named file in messages (tests, fuzzing). */
struct config	*config_load_buffer(const char *file, const char *buf,
		    size_t len, struct cfg_errors *errs);
void		 config_free(struct config *);

/*
 * The Proxy resource named name (any namespace), or the only one when
 * name is NULL and there is exactly one.  NULL otherwise.
 */
const struct proxy_config *config_find_proxy(const struct config *,
		    const char *name);
/*
 * Defaults of every Proxy field, for a proxy-d run without config.  The
 * strings it sets (route address, workload namespace) are allocated:
 * release them with config_proxy_fini.
 */
void		 config_proxy_defaults(struct proxy_config *);
/* Frees what a proxy_config holds (not the struct itself). */
void		 config_proxy_fini(struct proxy_config *);
/* MeshConfig's trustDomain, or the default: never NULL. */
const char	*config_trust_domain(const struct config *);
/* MeshConfig's workloadCertTtl or the default, in seconds. */
uint64_t	 config_workload_cert_ttl(const struct config *);
/*
 * MeshConfig's rootNamespace, or istio-system: the namespace whose
 * PeerAuthentication, RequestAuthentication and AuthorizationPolicy
 * without a selector apply to the whole mesh.  Never NULL.
 */
const char	*config_root_namespace(const struct config *);

/*
 * The paths config_load_dir reads for dir: its *.yaml and *.yml files,
 * dotfiles skipped, in name order.  Returns 0, or -1 with the error in
 * errs.  Free with config_paths_free.
 */
int		 config_dir_files(const char *dir, char ***paths, size_t *n,
		    struct cfg_errors *errs);
void		 config_paths_free(char **, size_t);

/*
 * "10.0.0.0/8", "fd00::/8" or a single address into b.  0, or -1 when
 * it is none of these or has host bits set under the mask.
 */
int		 config_ip_block(const char *, struct ip_block *);

int		 labels_match(const struct labels *selector,
		    const struct labels *labels);
const char	*labels_get(const struct labels *, const char *key);

#endif
