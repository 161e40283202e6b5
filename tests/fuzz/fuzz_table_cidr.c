/*
 * fuzz_table_cidr - cidr: tables (lib/table_cidr.c, lib/table_rules.c) on
 * arbitrary bytes: the file, the inline form, a few address keys, and one
 * more key per line after the last "\n\x01" in the input.
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
	    "1.2.3.4",
	    "10.0.0.1",
	    "192.168.255.255",
	    "::1",
	    "2001:db8::1",
	    "::ffff:1.2.3.4",
	    "0.0.0.0",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "example.com",
	};

	fuzz_table_rules(&table_type_cidr, data, size, keys, sizeof(keys) / sizeof(keys[0]));
	return 0;
}
