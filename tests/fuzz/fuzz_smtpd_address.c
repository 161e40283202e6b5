/*
 * fuzz_smtpd_address - the SMTP server's path parser (smtpd_path_parse):
 * RFC 5321 paths with quoted local parts and source routes. Invariants:
 * an accepted address is within SMTPD_ADDRESS_MAX, holds no control
 * character, and survives a round trip through the external (quoted)
 * form: externalized and parsed again it is the same address.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "dstring.h"
#include "log.h"
#include "smtpd_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dstring address, external, again;

	log_open("fuzz", 0);
	dstring_init(&address, 100000);
	dstring_init(&external, DSTRING_NO_LIMIT);
	dstring_init(&again, 100000);
	if (smtpd_path_parse((const char *)data, size, &address) == 0) {
		bool is_ascii = true;

		if (address.length > SMTPD_ADDRESS_MAX)
			__builtin_trap();
		for (size_t i = 0; i < address.length; i++) {
			unsigned char byte = (unsigned char)address.data[i];

			if (byte < 0x20 || byte == 0x7f)
				__builtin_trap();
			if (byte >= 0x80)
				is_ascii = false;
		}
		/* The round trip, for a qualified ASCII address whose domain is a name. */
		const char *domain = address_domain(address.data);

		if (is_ascii && domain != NULL && domain[0] != '\0' && domain[0] != '[') {
			dstring_append_char(&external, '<');
			address_externalize(address.data, &external);
			dstring_append_char(&external, '>');
			if (smtpd_path_parse(external.data, external.length, &again) < 0 ||
			    strcmp(again.data, address.data) != 0) {
				fprintf(stderr, "round trip: [%s] -> %s -> [%s]\n", address.data,
				        external.data, again.data);
				__builtin_trap();
			}
		}
	}
	dstring_fini(&address);
	dstring_fini(&external);
	dstring_fini(&again);
	return 0;
}
