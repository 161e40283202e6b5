/*
 * fuzz_smtp_reply - the SMTP client's reply parser on arbitrary bytes,
 * split into lines as smtp_reply_read does; every complete reply is
 * formatted and its lines walked, as the client does with EHLO replies.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct smtp_reply reply;
	struct dstring error, out, line;

	log_open("fuzz", 0);
	smtp_reply_init(&reply);
	dstring_init(&error, 1024);
	dstring_init(&out, 1 << 20);
	dstring_init(&line, SMTP_REPLY_LINE_MAX + 1);
	while (text < end) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));
		size_t length = newline ? (size_t)(newline - text) : (size_t)(end - text);
		enum smtp_reply_status status = smtp_reply_parse_line(&reply, text, length, &error);

		if (status == SMTP_REPLY_DONE) {
			dstring_reset(&out);
			smtp_reply_format(&reply, &out);
			for (size_t i = 0; smtp_reply_line(&reply, i, &line); i++)
				if (i > SMTP_REPLY_LINES_MAX)
					__builtin_trap();
			if (reply.code < 200 || reply.code > 559 || strlen(reply.dsn) < 5)
				__builtin_trap();
		}
		if (status != SMTP_REPLY_MORE)
			smtp_reply_reset(&reply);
		text += length + (newline != NULL);
	}
	smtp_reply_fini(&reply);
	dstring_fini(&error);
	dstring_fini(&out);
	dstring_fini(&line);
	return 0;
}
