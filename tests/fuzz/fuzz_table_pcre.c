/*
 * fuzz_table_pcre - pcre: tables (lib/table_pcre.c, lib/table_rules.c) on
 * arbitrary bytes: the input is the table file, opened both as a file and
 * in the inline "{ ... }" form, then looked up with a few keys. After the
 * last "\n\x01" in the input, each line is one more key. Any input must
 * give log lines and answers, never a crash, a leak, undefined behaviour,
 * unbounded recursion or an unbounded match.
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

	fuzz_table_rules(&table_type_pcre, data, size, keys, sizeof(keys) / sizeof(keys[0]));
	return 0;
}
