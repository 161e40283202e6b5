/*
 * fuzz_main_cf - main.cf parsing, expansion and typed conversion on
 * arbitrary bytes. Any input must give error messages, never a crash, a
 * leak, undefined behaviour or unbounded recursion.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dstring.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_ready;
	struct dstring out, error;

	if (!is_ready) {
		log_open("fuzz", 0);
		is_ready = true;
	}
	config_init("/nonexistent");
	config_parse_text((const char *)data, size, "fuzz/main.cf");
	config_apply();
	dstring_init(&out, CONFIG_VALUE_MAX);
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < config_setting_count(); i++) {
		const char *value = config_lookup(config_setting_name(i));

		dstring_reset(&out);
		dstring_reset(&error);
		config_expand(value, &out, &error);
	}
	config_warn_unused(NULL);
	dstring_fini(&out);
	dstring_fini(&error);
	return 0;
}
