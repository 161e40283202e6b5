/*
 * fuzz_table_regexp - regexp: tables (lib/table_regexp.c,
 * lib/table_rules.c) on arbitrary bytes, as fuzz_table_pcre: the file, the
 * inline form, a few keys, and one more key per line after the last
 * "\n\x01". Besides crashes, a slow input here means a pattern the cost
 * check in table_regexp.c lets through although the C library takes long.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_table_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
	    "",
	    "a",
	    "abc",
	    "user+ext@example.com",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
	    "\xff\xfe",
	    "Subject: make money fast",
	};

	fuzz_table_rules(&table_type_regexp, data, size, keys, sizeof(keys) / sizeof(keys[0]));
	return 0;
}
