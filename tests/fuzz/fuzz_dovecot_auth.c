/*
 * fuzz_dovecot_auth - the Dovecot auth protocol parsers of
 * lib/sasl_server_dovecot.c on arbitrary server output: each line goes
 * through the reply parser and the MECH parser, and what they extract
 * through the checks the backend applies (base64 of CONT data, the user
 * name). Never a crash, an out-of-bounds read or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "dstring.h"
#include "log.h"
#include "sasl_server_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *cursor = (const char *)data, *end = cursor + size;
	struct sasl_dovecot_reply reply;
	struct dstring error, name, decoded;
	unsigned flags;

	log_open("fuzz", 0);
	sasl_dovecot_reply_init(&reply);
	dstring_init(&error, 1024);
	dstring_init(&name, SASL_SERVER_MECHANISM_MAX + 1);
	dstring_init(&decoded, SASL_SERVER_DATA_MAX);
	/* Lines as the backend reads them: at most SASL_DOVECOT_LINE_MAX. */
	while (cursor < end) {
		const char *newline = memchr(cursor, '\n', (size_t)(end - cursor));
		size_t length =
		    newline != NULL ? (size_t)(newline - cursor) : (size_t)(end - cursor);

		if (length > SASL_DOVECOT_LINE_MAX)
			length = SASL_DOVECOT_LINE_MAX;
		dstring_reset(&error);
		if (sasl_dovecot_parse_reply(cursor, length, &reply, &error) == 0 &&
		    reply.kind == SASL_DOVECOT_REPLY_CONT) {
			dstring_reset(&decoded);
			(void)base64_decode(&decoded, dstring_str(reply.data),
			                    dstring_length(reply.data));
		}
		(void)sasl_dovecot_parse_mech(cursor, length, &name, &flags);
		dstring_reset(&decoded);
		(void)sasl_dovecot_unescape(&decoded, cursor, length);
		cursor += length;
		if (cursor < end && *cursor == '\n')
			cursor++;
	}
	sasl_dovecot_reply_fini(&reply);
	dstring_fini(&error);
	dstring_fini(&name);
	dstring_fini(&decoded);
	return 0;
}
