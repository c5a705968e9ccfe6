/* SPDX-License-Identifier: ISC */
/*
 * meshkit's own configuration files load as the config module reads them
 * (lib/config*.c): the demo's mesh (etc/bookstore/), the walkthrough's
 * steps (etc/bookstore/walkthrough/, the article's meaning in meshkit's
 * words) and the test samples (tests/data/samples/).  Istio's and the
 * article's own files are test_config's conformance stage.
 *
 * Paths are from $MESHKIT_TOP, else the working directory (tests/run
 * runs from the repository's top).
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
#include "util.h"
#include "yaml.h"

static char	*top_path(const char *);
static void	 print_errors(const struct cfg_errors *);
static struct config *load_one(const char *, struct cfg_errors *);
static const struct resource *find_resource(const struct config *,
		    const char *, const char *);
static void	 test_bookstore(void **);
static void	 test_walkthrough(void **);
static void	 test_samples(void **);

static char *
top_path(const char *rel)
{
	const char	*top = getenv("MESHKIT_TOP");
	char		*p;

	xasprintf(&p, "%s/%s", top != NULL && *top != '\0' ? top : ".", rel);
	return p;
}

static void
print_errors(const struct cfg_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		print_error("%s:%d:%d: %s%s\n", errs->v[i].file,
		    errs->v[i].line, errs->v[i].col,
		    errs->v[i].notice ? "notice: " : "", errs->v[i].message);
}

/* path alone; NULL (errors printed) when it does not load */
static struct config *
load_one(const char *path, struct cfg_errors *errs)
{
	char		*p = (char *)path;
	struct config	*cfg;

	memset(errs, 0, sizeof(*errs));
	cfg = config_load_files(&p, 1, errs);
	if (cfg == NULL || errs->nerrors > 0)
		print_errors(errs);
	return cfg;
}

static const struct resource *
find_resource(const struct config *cfg, const char *kind, const char *name)
{
	size_t	 i;

	for (i = 0; i < cfg->nresources; i++)
		if (strcmp(cfg->resources[i].meta.kind, kind) == 0 &&
		    strcmp(cfg->resources[i].meta.name, name) == 0)
			return &cfg->resources[i];
	return NULL;
}

/* The demo's mesh: one directory, no error, not even a notice. */
static void
test_bookstore(void **state)
{
	struct cfg_errors		 errs;
	struct config			*cfg;
	const struct proxy_config	*book;
	const struct resource		*svc;
	char				*dir = top_path("etc/bookstore");

	(void)state;
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_dir(dir, &errs);
	if (cfg == NULL || errs.n > 0)
		print_errors(&errs);
	assert_non_null(cfg);
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg->nproxies, 3);
	assert_int_equal(cfg->nworkload_entries, 3);
	assert_int_equal(cfg->nservice_entries, 1);
	assert_string_equal(cfg->service_entries[0].hosts[0],
	    "book-service.default.svc.cluster.local");
	/* the rating Service selects both versions by app */
	assert_non_null(svc = find_resource(cfg, "Service", "rating"));
	assert_string_equal(labels_get(&svc->meta.labels, "app"),
	    "rating-service");
	assert_string_equal(yaml_get(yaml_get(svc->spec, "selector"),
	    "app")->value, "rating-service");
	assert_non_null(book = config_find_proxy(cfg, "book"));
	assert_string_equal(labels_get(&book->workload_labels,
	    "app.kubernetes.io/name"), "book-service");
	assert_string_equal(labels_get(&cfg->workload_entries[1].spec.labels,
	    "app.kubernetes.io/version"), "v1.0.0");
	assert_string_equal(labels_get(&cfg->workload_entries[2].spec.labels,
	    "app.kubernetes.io/version"), "v2.0.0");
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(dir);
}

/*
 * The walkthrough's steps, each alone; together they clash, as the
 * article's do: four files define VirtualService rating, two
 * DestinationRule rating.
 */
static void
test_walkthrough(void **state)
{
	static const char *const steps[] = {
		"authorization-policy-jwt.yml",
		"authorization-policy-rating.yml",
		"destination-rule-circuit-breaker.yml",
		"destination-rule-v1-v2.yml",
		"peer-authentication-strict.yml",
		"request-authentication-jwt.yml",
		"virtual-service-retry.yml",
		"virtual-service-v1-v2-75-25.yml",
		"virtual-service-v1.yml",
		"virtual-service-v2.yml",
	};
	struct cfg_errors	 errs;
	struct config		*cfg;
	char			*dir = top_path("etc/bookstore/walkthrough");
	char			**paths, *p;
	size_t			 n, i;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_dir_files(dir, &paths, &n, &errs), 0);
	assert_int_equal(n, nitems(steps));
	for (i = 0; i < n; i++) {
		xasprintf(&p, "%s/%s", dir, steps[i]);
		assert_string_equal(paths[i], p);
		free(p);
		cfg = load_one(paths[i], &errs);
		assert_non_null(cfg);
		assert_int_equal(errs.n, 0);
		assert_int_equal(cfg->nresources, 1);
		config_free(cfg);
		cfg_errors_fini(&errs);
	}
	config_paths_free(paths, n);
	cfg = config_load_dir(dir, &errs);
	assert_null(cfg);
	assert_int_equal(errs.nerrors, 4);
	assert_non_null(strstr(errs.v[0].message,
	    "duplicate DestinationRule default/rating (first at "));
	assert_non_null(strstr(errs.v[3].message,
	    "duplicate VirtualService default/rating (first at "));
	cfg_errors_fini(&errs);
	free(dir);
}

/* The samples, each alone: they load, and say what they were written to. */
static void
test_samples(void **state)
{
	struct cfg_errors	 errs;
	struct config		*cfg;
	const struct service_entry *se;
	char			*dir = top_path("tests/data/samples");
	char			**paths, *p;
	size_t			 n, i, notices = 0;

	(void)state;
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_dir_files(dir, &paths, &n, &errs), 0);
	assert_true(n >= 11);
	for (i = 0; i < n; i++) {
		cfg = load_one(paths[i], &errs);
		assert_non_null(cfg);
		assert_int_equal(errs.nerrors, 0);
		notices += errs.n;
		config_free(cfg);
		cfg_errors_fini(&errs);
	}
	config_paths_free(paths, n);
	/* the Gateway and the Deployment */
	assert_int_equal(notices, 2);

	xasprintf(&p, "%s/gateway.yaml", dir);
	assert_non_null(cfg = load_one(p, &errs));
	assert_int_equal(errs.n, 1);
	assert_true(errs.v[0].notice);
	assert_string_equal(errs.v[0].message,
	    "skipping kind Gateway: not used by meshkit");
	assert_int_equal(errs.v[0].line, 4);
	assert_int_equal(cfg->nresources, 0);
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(p);

	xasprintf(&p, "%s/egress-payments.yaml", dir);
	assert_non_null(cfg = load_one(p, &errs));
	assert_int_equal(cfg->nservice_entries, 1);
	se = &cfg->service_entries[0];
	assert_string_equal(se->meta.namespace, "shop");
	assert_int_equal(se->resolution, RESOLUTION_DNS);
	assert_int_equal(se->nports, 2);
	assert_int_equal(se->ports[1].number, 443);
	assert_string_equal(se->ports[1].protocol, "HTTPS");
	assert_non_null(find_resource(cfg, "VirtualService", "payments"));
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(p);

	/* a List's items are resources like any other */
	xasprintf(&p, "%s/list.yaml", dir);
	assert_non_null(cfg = load_one(p, &errs));
	assert_int_equal(errs.n, 0);
	assert_non_null(find_resource(cfg, "DestinationRule", "frontend"));
	assert_non_null(find_resource(cfg, "Service", "cart"));
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(p);

	xasprintf(&p, "%s/shop-services.yaml", dir);
	assert_non_null(cfg = load_one(p, &errs));
	assert_int_equal(cfg->nservice_entries, 2);
	assert_int_equal(cfg->nworkload_entries, 2);
	assert_string_equal(labels_get(&cfg->workload_entries[1].spec.labels,
	    "version"), "v2");
	assert_int_equal(cfg->service_entries[1].nendpoints, 1);
	config_free(cfg);
	cfg_errors_fini(&errs);
	free(p);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bookstore),
		cmocka_unit_test(test_walkthrough),
		cmocka_unit_test(test_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
