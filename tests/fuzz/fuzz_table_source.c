/*
 * fuzz_table_source - the postmap text format on arbitrary bytes.
 *
 * Beyond "never crash": every entry the parser accepts has a key without
 * blanks and a value without blanks at either end, both within their
 * limits, and written back as "key value" it parses again, alone and
 * without complaint, to the same entry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "table_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_blank(char byte)
{
	return strchr(" \t\r\n\v\f", byte) != NULL && byte != '\0';
}

static void
check_round_trip(const struct table_source_entry *entry, unsigned flags)
{
	struct dstring text, error;
	struct table_source *again;
	struct table_source_entry copy;

	dstring_init(&text, DSTRING_NO_LIMIT);
	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_append(&text, entry->key, entry->key_length);
	dstring_append_char(&text, ' ');
	dstring_append(&text, entry->value, entry->value_length);
	dstring_append_char(&text, '\n');
	again = table_source_open_memory(dstring_str(&text), dstring_length(&text), "again", flags);
	if (table_source_next(again, &copy, &error) != 1 || copy.key_length != entry->key_length ||
	    copy.value_length != entry->value_length ||
	    memcmp(copy.key, entry->key, entry->key_length) != 0 ||
	    memcmp(copy.value, entry->value, entry->value_length) != 0 ||
	    table_source_next(again, &copy, &error) != 0 || table_source_bad_lines(again) != 0)
		log_panic("entry \"%s\" does not read back the same", entry->key);
	table_source_close(again);
	dstring_fini(&text);
	dstring_fini(&error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_ready;
	struct dstring error;

	if (!is_ready) {
		log_open("fuzz", 0);
		is_ready = true;
	}
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (unsigned flags = 0; flags <= TABLE_SOURCE_FOLD_CASE; flags += TABLE_SOURCE_FOLD_CASE) {
		struct table_source *source = table_source_open_memory(data, size, "fuzz", flags);
		struct table_source_entry entry;
		unsigned long previous_line = 0;

		while (table_source_next(source, &entry, &error) == 1) {
			if (entry.key_length == 0 || entry.key_length > TABLE_KEY_MAX ||
			    entry.value_length == 0 || entry.value_length > TABLE_VALUE_MAX ||
			    strlen(entry.key) != entry.key_length ||
			    strlen(entry.value) != entry.value_length || is_blank(entry.value[0]) ||
			    is_blank(entry.value[entry.value_length - 1]) ||
			    entry.line <= previous_line)
				log_panic("bad entry at line %lu", entry.line);
			for (size_t i = 0; i < entry.key_length; i++)
				if (is_blank(entry.key[i]) ||
				    ((flags & TABLE_SOURCE_FOLD_CASE) && entry.key[i] >= 'A' &&
				     entry.key[i] <= 'Z'))
					log_panic("bad key at line %lu", entry.line);
			previous_line = entry.line;
			check_round_trip(&entry, flags);
		}
		table_source_close(source);
	}
	dstring_fini(&error);
	return 0;
}
