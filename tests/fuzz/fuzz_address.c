/*
 * fuzz_address - address lists, and the round trip between internal and
 * external forms: externalizing then internalizing gives the address back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dstring.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address_list list;
	struct dstring error, external, internal, phrase;
	char *text;

	log_open("fuzz", 0);
	dstring_init(&error, 1000);
	dstring_init(&external, DSTRING_NO_LIMIT);
	dstring_init(&internal, DSTRING_NO_LIMIT);
	dstring_init(&phrase, DSTRING_NO_LIMIT);
	if (address_list_parse((const char *)data, size, 10000, &list, &error) == 0) {
		for (size_t i = 0; i < list.count; i++) {
			if (list.spans[i].end > size || list.spans[i].start >= list.spans[i].end)
				__builtin_trap();
		}
	}
	address_list_fini(&list);
	/* Round trip of a NUL-free, '@'-free local part with a fixed domain. */
	text = strndup((const char *)data, size);
	if (text != NULL && strchr(text, '@') == NULL && text[0] != '\0') {
		dstring_set(&external, "");
		dstring_printf(&internal, "%s@example.com", text);
		address_externalize(internal.data, &external);
		dstring_reset(&internal);
		if (address_internalize(external.data, external.length, &internal) < 0 ||
		    strncmp(internal.data, text, strlen(text)) != 0)
			__builtin_trap();
		address_phrase(text, &phrase);
	}
	free(text);
	dstring_fini(&error);
	dstring_fini(&external);
	dstring_fini(&internal);
	dstring_fini(&phrase);
	return 0;
}
