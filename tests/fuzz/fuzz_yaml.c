/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the YAML reader and the config layer above it,
 * and meshctl analyze's checks on what loads: any input must give a
 * config or errors, never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "config.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct analyze_messages	 msgs = { 0 };
	struct config		*cfg;

	cfg = config_load_buffer("fuzz.yaml", (const char *)data, size,
	    &errs);
	analyze_load_messages(&errs, &msgs);
	if (cfg != NULL)
		analyze_config(cfg, &msgs);
	analyze_messages_fini(&msgs);
	config_free(cfg);
	cfg_errors_fini(&errs);
	return 0;
}
