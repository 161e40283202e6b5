/*
 * fuzz_smtpd_command - the SMTP server's command parsers (smtpd/
 * smtpd_command.h): each input line is split into a verb and arguments
 * and given to the MAIL, RCPT or BDAT parser, and to the xtext decoder.
 * Invariants: a refusal is a whole SMTP reply ("5xx ..."), an accepted
 * address is within SMTPD_ADDRESS_MAX and holds no control character.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "smtpd_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_address(const struct dstring *address)
{
	if (address->length > SMTPD_ADDRESS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < address->length; i++)
		if ((unsigned char)address->data[i] < 0x20 || address->data[i] == 0x7f)
			__builtin_trap();
}

static void
check_reply(const struct dstring *reply)
{
	if (reply->length < 4 || (reply->data[0] != '4' && reply->data[0] != '5') ||
	    reply->data[3] != ' ')
		__builtin_trap();
	for (size_t i = 0; i < reply->length; i++)
		if ((unsigned char)reply->data[i] < 0x20)
			__builtin_trap();
}

static void
parse_line(const char *line, size_t length)
{
	struct smtpd_command_line command;
	struct dstring reply, xtext;

	dstring_init(&reply, 4096);
	dstring_init(&xtext, 100000);
	smtpd_command_split(line, length, &command);
	if (command.verb != line || command.arguments + command.arguments_length > line + length)
		__builtin_trap();
	if (smtpd_command_is(&command, "MAIL")) {
		struct smtpd_mail_arguments mail;

		smtpd_mail_arguments_init(&mail);
		if (smtpd_mail_parse(command.arguments, command.arguments_length, &mail, &reply) <
		    0)
			check_reply(&reply);
		else
			check_address(&mail.sender);
		smtpd_mail_arguments_fini(&mail);
	} else if (smtpd_command_is(&command, "RCPT")) {
		struct smtpd_rcpt_arguments rcpt;

		smtpd_rcpt_arguments_init(&rcpt);
		if (smtpd_rcpt_parse(command.arguments, command.arguments_length, &rcpt, &reply) <
		    0)
			check_reply(&reply);
		else if (rcpt.recipient.length == 0)
			__builtin_trap();
		else
			check_address(&rcpt.recipient);
		smtpd_rcpt_arguments_fini(&rcpt);
	} else if (smtpd_command_is(&command, "BDAT")) {
		long long chunk;
		bool is_last;

		if (smtpd_bdat_parse(command.arguments, command.arguments_length, &chunk,
		                     &is_last) == 0 &&
		    chunk < 0)
			__builtin_trap();
	}
	if (smtpd_xtext_decode(line, length, &xtext) == 0)
		for (size_t i = 0; i < xtext.length; i++)
			if ((unsigned char)xtext.data[i] < 0x20)
				__builtin_trap();
	dstring_fini(&reply);
	dstring_fini(&xtext);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;

	log_open("fuzz", 0);
	/* Bounded: at most one parse per input line. */
	while (text < end) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));
		size_t length = newline != NULL ? (size_t)(newline - text) : (size_t)(end - text);

		if (length > 0 && text[length - 1] == '\r')
			parse_line(text, length - 1);
		else
			parse_line(text, length);
		text += length + 1;
	}
	return 0;
}
