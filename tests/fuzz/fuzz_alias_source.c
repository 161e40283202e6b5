/*
 * fuzz_alias_source - the aliases(5) reader on arbitrary bytes: whole
 * files through the line joiner, and the same bytes as one logical line.
 * Any input must give entries or error messages, never a crash, a leak or
 * undefined behaviour; every entry must respect the documented limits.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alias_source.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check_entry(const char *name, const char *value, unsigned line, void *context)
{
	(void)context;
	/* The promises a table builder relies on. */
	if (*name == '\0' || strlen(name) > TABLE_KEY_MAX || *value == '\0' ||
	    strlen(value) > TABLE_VALUE_MAX || line == 0)
		abort();
	for (const char *cursor = name; *cursor; cursor++)
		if (*cursor >= 'A' && *cursor <= 'Z')
			abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_ready;
	struct dstring name, value, error;

	if (!is_ready) {
		log_open("fuzz", 0);
		is_ready = true;
	}
	alias_source_parse_text((const char *)data, size, "fuzz/aliases", 0, check_entry, NULL,
	                        NULL);

	dstring_init(&name, TABLE_KEY_MAX);
	dstring_init(&value, TABLE_VALUE_MAX);
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (alias_source_parse_entry((const char *)data, size, ALIAS_SOURCE_KEEP_CASE, &name,
	                             &value, &error) == 0) {
		if (dstring_length(&name) == 0 || dstring_length(&value) == 0)
			abort();
	} else if (dstring_length(&error) == 0) {
		abort();
	}
	dstring_fini(&name);
	dstring_fini(&value);
	dstring_fini(&error);
	return 0;
}
