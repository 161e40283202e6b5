/*
 * fuzz_header - header line classification, unfolding and the address
 * list parser on arbitrary bytes, split into lines as cleanup does.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "dstring.h"
#include "header.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct dstring unfolded, error;
	bool is_first = true;

	log_open("fuzz", 0);
	dstring_init(&unfolded, 100000);
	dstring_init(&error, 1000);
	while (text < end) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));
		size_t length = newline ? (size_t)(newline - text) : (size_t)(end - text);
		size_t name_length, value_start;
		enum header_line_kind kind =
		    header_classify(text, length, is_first, &name_length, &value_start);

		if (kind == HEADER_LINE_START) {
			struct address_list list;

			(void)header_kind(text, name_length);
			dstring_reset(&unfolded);
			header_unfold(text + value_start, length - value_start, &unfolded);
			if (address_list_parse(text + value_start, length - value_start, 1000,
			                       &list, &error) == 0) {
				for (size_t i = 0; i < list.count; i++) {
					if (list.spans[i].end > length - value_start ||
					    list.spans[i].start > list.spans[i].end)
						__builtin_trap();
				}
			}
			address_list_fini(&list);
			is_first = false;
		} else if (kind == HEADER_LINE_EMPTY || kind == HEADER_LINE_OTHER) {
			is_first = true;
		}
		text += length + (newline != NULL);
	}
	dstring_fini(&unfolded);
	dstring_fini(&error);
	return 0;
}
