/*
 * libFuzzer target for the YAML reader and the config layer above it:
 * any input must give a config or errors, never a crash, a leak or a
 * hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*cfg;

	cfg = config_load_buffer("fuzz.yaml", (const char *)data, size,
	    &errs);
	config_free(cfg);
	cfg_errors_fini(&errs);
	return 0;
}
