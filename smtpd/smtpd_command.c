/*
 * smtpd_command - parsers of SMTP command lines, paths, ESMTP parameters
 * and xtext (smtpd_command.h). Pure functions, fuzzed by
 * tests/fuzz/fuzz_smtpd_command.c and fuzz_smtpd_address.c.
 *
 * The grammar is RFC 5321's, with the leniency Postfix shows real clients
 * by default: spaces after "FROM:"/"TO:", a path without angle brackets,
 * unqualified addresses, dots anywhere in a local part. What is never
 * accepted: control characters and NUL, an unterminated quote or bracket,
 * text after the path's closing '>', an empty local part, an address
 * longer than SMTPD_ADDRESS_MAX.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "cleanup_client.h"
#include "smtpd_command.h"

static bool
is_space(char byte)
{
	return byte == ' ' || byte == '\t';
}

static bool
is_ascii_control(unsigned char byte)
{
	return byte < 0x20 || byte == 0x7f;
}

/* RFC 5322 atext, plus 8-bit bytes (RFC 6531 SMTPUTF8). */
static bool
is_atext(unsigned char byte)
{
	if (byte >= 0x80)
		return true;
	if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
	    (byte >= '0' && byte <= '9'))
		return true;
	return byte != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", byte) != NULL;
}

/* A domain name byte: letters, digits, '-', '.', 8-bit (IDN in UTF-8). */
static bool
is_domain_byte(unsigned char byte)
{
	return byte >= 0x80 || (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
	       (byte >= '0' && byte <= '9') || byte == '-' || byte == '.';
}

void
smtpd_command_split(const char *line, size_t length, struct smtpd_command_line *out)
{
	size_t at = 0;

	while (at < length && !is_space(line[at]))
		at++;
	out->verb = line;
	out->verb_length = at;
	while (at < length && is_space(line[at]))
		at++;
	out->arguments = line + at;
	out->arguments_length = length - at;
	/* Trailing white space is not part of the arguments. */
	while (out->arguments_length > 0 && is_space(out->arguments[out->arguments_length - 1]))
		out->arguments_length--;
}

bool
smtpd_command_is(const struct smtpd_command_line *command, const char *name)
{
	size_t length = strlen(name);

	return command->verb_length == length && strncasecmp(command->verb, name, length) == 0;
}

bool
smtpd_is_printable(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		if (is_ascii_control((unsigned char)text[i]))
			return false;
	return true;
}

/*
 * parse_domain: a domain or an address literal at text[*at]; advances *at
 * and appends it to out (if not NULL). Stops at stop bytes (',' ':' or
 * the end). Returns -1 when there is no valid domain there.
 */
static int
parse_domain(const char *text, size_t length, size_t *at, struct dstring *out)
{
	size_t start = *at, i = *at;

	if (i < length && text[i] == '[') {
		/* Address literal: printable bytes other than [ ] \ @ up to ']'. */
		for (i++; i < length && text[i] != ']'; i++) {
			unsigned char byte = (unsigned char)text[i];

			/* No '@' either: the domain is what follows the last '@'. */
			if (is_ascii_control(byte) || byte == '[' || byte == '\\' || byte == ' ' ||
			    byte == '@' || byte >= 0x80)
				return -1;
		}
		if (i >= length || i == start + 1)
			return -1;
		i++;
	} else {
		bool previous_dot = true; /* no leading dot, no ".." */

		for (; i < length && is_domain_byte((unsigned char)text[i]); i++) {
			if (text[i] == '.' && previous_dot)
				return -1;
			previous_dot = text[i] == '.';
		}
		if (i == start)
			return -1;
		/* A trailing dot ("example.com.") is the root: tolerated. */
	}
	if (i - start > SMTPD_DOMAIN_MAX)
		return -1;
	if (out != NULL)
		dstring_append(out, text + start, i - start);
	*at = i;
	return 0;
}

/* parse_mailbox: Local-part [ "@" Domain ] filling all of text. */
static int
parse_mailbox(const char *text, size_t length, struct dstring *out)
{
	size_t at = 0, local_length = 0, local_start = out->length;

	if (length > 0 && text[0] == '"') {
		bool is_closed = false;

		for (at = 1; at < length; at++) {
			unsigned char byte = (unsigned char)text[at];

			if (byte == '"') {
				is_closed = true;
				at++;
				break;
			}
			if (byte == '\\') {
				if (++at >= length)
					return -1;
				byte = (unsigned char)text[at];
			}
			/* qtext and quoted pairs: printable, space, 8-bit. */
			if (is_ascii_control(byte))
				return -1;
			dstring_append_char(out, (char)byte);
			local_length++;
		}
		if (!is_closed)
			return -1;
	} else {
		for (; at < length && text[at] != '@'; at++) {
			unsigned char byte = (unsigned char)text[at];

			if (!is_atext(byte) && byte != '.')
				return -1;
			dstring_append_char(out, (char)byte);
			local_length++;
		}
	}
	/* An address over the output's limit is refused, not cut short. */
	if (local_length == 0 || out->has_overflowed)
		return -1;
	if (at == length) {
		/* An unqualified user, <postmaster>; a quoted '@' would turn
		 * into a domain in the internal form. */
		return memchr(out->data + local_start, '@', out->length - local_start) != NULL ? -1
		                                                                               : 0;
	}
	if (text[at] != '@')
		return -1;
	at++;
	dstring_append_char(out, '@');
	if (parse_domain(text, length, &at, out) < 0 || out->has_overflowed)
		return -1;
	return at == length ? 0 : -1;
}

/* parse_route_and_mailbox: [ A-d-l ":" ] Mailbox, or empty (null path). */
static int
parse_route_and_mailbox(const char *text, size_t length, struct dstring *out)
{
	size_t at = 0;

	if (length == 0)
		return 0;
	if (text[0] == '@') {
		/* Source route "@a,@b:": checked, then ignored (RFC 5321 C). */
		for (;;) {
			if (at >= length || text[at] != '@')
				return -1;
			at++;
			if (parse_domain(text, length, &at, NULL) < 0 || at >= length)
				return -1;
			if (text[at] == ':') {
				at++;
				break;
			}
			if (text[at] != ',')
				return -1;
			at++;
		}
		if (at == length)
			return -1;
	}
	return parse_mailbox(text + at, length - at, out);
}

/*
 * path_length: how many bytes of text the path takes: up to and
 * including the '>' that closes a leading '<' (quotes respected), or up
 * to the first space. Returns 0 when a '<' is not closed.
 */
static size_t
path_length(const char *text, size_t length)
{
	size_t at;

	if (length == 0 || text[0] != '<') {
		for (at = 0; at < length && !is_space(text[at]); at++)
			;
		return at;
	}
	bool is_quoted = false;

	for (at = 1; at < length; at++) {
		if (is_quoted && text[at] == '\\') {
			at++;
			continue;
		}
		if (text[at] == '"')
			is_quoted = !is_quoted;
		else if (text[at] == '>' && !is_quoted)
			return at + 1;
	}
	return 0;
}

int
smtpd_path_parse(const char *text, size_t length, struct dstring *out)
{
	size_t start = dstring_length(out);
	int status;

	if (length > 0 && text[0] == '<') {
		if (length < 2 || text[length - 1] != '>')
			return -1;
		text++;
		length -= 2;
	} else if (length == 0) {
		return -1;
	}
	status = parse_route_and_mailbox(text, length, out);
	if (status == 0 && (dstring_length(out) - start > SMTPD_ADDRESS_MAX || out->has_overflowed))
		status = -1;
	if (status < 0)
		dstring_truncate(out, start);
	return status;
}

static int
hex_value(char digit)
{
	if (digit >= '0' && digit <= '9')
		return digit - '0';
	if (digit >= 'A' && digit <= 'F')
		return digit - 'A' + 10;
	if (digit >= 'a' && digit <= 'f')
		return digit - 'a' + 10;
	return -1;
}

int
smtpd_xtext_decode(const char *text, size_t length, struct dstring *out)
{
	for (size_t at = 0; at < length; at++) {
		unsigned char byte = (unsigned char)text[at];

		if (byte == '+') {
			int high, low;

			if (at + 2 >= length)
				return -1;
			high = hex_value(text[at + 1]);
			low = hex_value(text[at + 2]);
			if (high < 0 || low < 0)
				return -1;
			byte = (unsigned char)(high * 16 + low);
			at += 2;
			if (is_ascii_control(byte))
				return -1;
		} else if (byte < 33 || byte > 126 || byte == '=') {
			return -1;
		}
		dstring_append_char(out, (char)byte);
	}
	return 0;
}

void
smtpd_mail_arguments_init(struct smtpd_mail_arguments *mail)
{
	memset(mail, 0, sizeof(*mail));
	dstring_init(&mail->sender, SMTPD_ADDRESS_MAX + 1);
	dstring_init(&mail->ret, 16);
	dstring_init(&mail->envid, 1024);
	dstring_init(&mail->auth, 1024);
	mail->size = -1;
}

void
smtpd_mail_arguments_fini(struct smtpd_mail_arguments *mail)
{
	dstring_fini(&mail->sender);
	dstring_fini(&mail->ret);
	dstring_fini(&mail->envid);
	dstring_fini(&mail->auth);
}

void
smtpd_rcpt_arguments_init(struct smtpd_rcpt_arguments *rcpt)
{
	memset(rcpt, 0, sizeof(*rcpt));
	dstring_init(&rcpt->recipient, SMTPD_ADDRESS_MAX + 1);
	dstring_init(&rcpt->orcpt, 2048);
}

void
smtpd_rcpt_arguments_fini(struct smtpd_rcpt_arguments *rcpt)
{
	dstring_fini(&rcpt->recipient);
	dstring_fini(&rcpt->orcpt);
}

/* One "KEYWORD[=value]" of the parameters after a path. */
struct parameter {
	const char *keyword, *value;
	size_t keyword_length, value_length;
	bool has_value;
};

/* next_parameter: the next one at text[*at]; false at the end. */
static bool
next_parameter(const char *text, size_t length, size_t *at, struct parameter *parameter)
{
	size_t i = *at, start;

	while (i < length && is_space(text[i]))
		i++;
	if (i >= length)
		return false;
	start = i;
	while (i < length && !is_space(text[i]))
		i++;
	*at = i;
	parameter->keyword = text + start;
	parameter->keyword_length = i - start;
	parameter->has_value = false;
	parameter->value = text + i;
	parameter->value_length = 0;
	for (size_t j = start; j < i; j++)
		if (text[j] == '=') {
			parameter->keyword_length = j - start;
			parameter->has_value = true;
			parameter->value = text + j + 1;
			parameter->value_length = i - j - 1;
			break;
		}
	return true;
}

static bool
keyword_is(const struct parameter *parameter, const char *name)
{
	return parameter->keyword_length == strlen(name) &&
	       strncasecmp(parameter->keyword, name, parameter->keyword_length) == 0;
}

static bool
value_is(const struct parameter *parameter, const char *name)
{
	return parameter->value_length == strlen(name) &&
	       strncasecmp(parameter->value, name, parameter->value_length) == 0;
}

static void
unsupported(const struct parameter *parameter, struct dstring *reply)
{
	size_t shown = (size_t)(parameter->value + parameter->value_length - parameter->keyword);

	dstring_set(reply, "555 5.5.4 Unsupported option: ");
	if (shown > 100)
		shown = 100;
	for (size_t i = 0; i < shown; i++) {
		unsigned char byte = (unsigned char)parameter->keyword[i];

		dstring_append_char(reply,
		                    is_ascii_control(byte) || byte >= 0x80 ? '?' : (char)byte);
	}
}

/*
 * leading_keyword: text starts with keyword ("FROM:"); *at is set past
 * it and the spaces after it.
 */
static bool
leading_keyword(const char *text, size_t length, const char *keyword, size_t *at)
{
	size_t keyword_length = strlen(keyword);

	if (length < keyword_length || strncasecmp(text, keyword, keyword_length) != 0)
		return false;
	*at = keyword_length;
	while (*at < length && is_space(text[*at]))
		(*at)++;
	return true;
}

/* parse_digits: a decimal number; LLONG_MAX when too large. */
static int
parse_digits(const char *text, size_t length, long long *value)
{
	long long result = 0;

	if (length == 0)
		return -1;
	for (size_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		if (result > (LLONG_MAX - 9) / 10)
			result = LLONG_MAX;
		else
			result = result * 10 + (text[i] - '0');
	}
	*value = result;
	return 0;
}

int
smtpd_mail_parse(const char *arguments, size_t length, struct smtpd_mail_arguments *mail,
                 struct dstring *reply)
{
	size_t at, path;
	struct parameter parameter;

	if (!leading_keyword(arguments, length, "FROM:", &at)) {
		dstring_set(reply, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return -1;
	}
	path = path_length(arguments + at, length - at);
	if (path == 0 || smtpd_path_parse(arguments + at, path, &mail->sender) < 0) {
		dstring_set(reply, "501 5.1.7 Bad sender address syntax");
		return -1;
	}
	at += path;
	if (at < length && !is_space(arguments[at])) {
		dstring_set(reply, "501 5.1.7 Bad sender address syntax");
		return -1;
	}
	while (next_parameter(arguments, length, &at, &parameter)) {
		if (keyword_is(&parameter, "SIZE") && parameter.has_value) {
			if (parse_digits(parameter.value, parameter.value_length, &mail->size) <
			    0) {
				dstring_set(reply, "501 5.5.4 Bad message size syntax");
				return -1;
			}
		} else if (keyword_is(&parameter, "BODY") && parameter.has_value) {
			if (value_is(&parameter, "7BIT"))
				mail->body = SMTPD_BODY_7BIT;
			else if (value_is(&parameter, "8BITMIME"))
				mail->body = SMTPD_BODY_8BITMIME;
			else {
				dstring_set(reply, "501 5.5.4 Unsupported BODY parameter value");
				return -1;
			}
		} else if (keyword_is(&parameter, "SMTPUTF8") && !parameter.has_value) {
			mail->is_smtputf8 = true;
		} else if (keyword_is(&parameter, "RET") && parameter.has_value) {
			if (dstring_length(&mail->ret) > 0) {
				dstring_set(reply, "501 5.5.4 Duplicate RET parameter");
				return -1;
			}
			if (value_is(&parameter, "FULL"))
				dstring_set(&mail->ret, "FULL");
			else if (value_is(&parameter, "HDRS"))
				dstring_set(&mail->ret, "HDRS");
			else {
				dstring_set(reply, "501 5.5.4 Bad RET parameter syntax");
				return -1;
			}
		} else if (keyword_is(&parameter, "ENVID") && parameter.has_value) {
			dstring_reset(&mail->envid);
			/* RFC 3461: at most 100 characters of printable ASCII. */
			if (parameter.value_length == 0 || parameter.value_length > 100 * 3 ||
			    smtpd_xtext_decode(parameter.value, parameter.value_length,
			                       &mail->envid) < 0 ||
			    dstring_length(&mail->envid) > 100) {
				dstring_set(reply, "501 5.5.4 Bad ENVID parameter syntax");
				return -1;
			}
		} else if (keyword_is(&parameter, "AUTH") && parameter.has_value) {
			dstring_reset(&mail->auth);
			if (parameter.value_length == 0 ||
			    smtpd_xtext_decode(parameter.value, parameter.value_length,
			                       &mail->auth) < 0 ||
			    mail->auth.has_overflowed) {
				dstring_set(reply, "501 5.5.4 Bad AUTH parameter syntax");
				return -1;
			}
			mail->has_auth = true;
		} else {
			unsupported(&parameter, reply);
			return -1;
		}
	}
	return 0;
}

/* parse_notify: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY. */
static int
parse_notify(const char *text, size_t length, unsigned *notify)
{
	size_t at = 0;
	unsigned mask = 0;

	while (at <= length) {
		size_t start = at;

		while (at < length && text[at] != ',')
			at++;
		struct parameter word = {.value = text + start, .value_length = at - start};

		if (value_is(&word, "NEVER"))
			mask |= CLEANUP_NOTIFY_NEVER;
		else if (value_is(&word, "SUCCESS"))
			mask |= CLEANUP_NOTIFY_SUCCESS;
		else if (value_is(&word, "FAILURE"))
			mask |= CLEANUP_NOTIFY_FAILURE;
		else if (value_is(&word, "DELAY"))
			mask |= CLEANUP_NOTIFY_DELAY;
		else
			return -1;
		at++; /* past the comma, or past the end to stop */
	}
	if ((mask & CLEANUP_NOTIFY_NEVER) && mask != CLEANUP_NOTIFY_NEVER)
		return -1;
	*notify = mask;
	return 0;
}

/* parse_orcpt: "addr-type;xtext" into "type;decoded". */
static int
parse_orcpt(const char *text, size_t length, struct dstring *out)
{
	size_t at = 0;

	while (at < length && text[at] != ';') {
		if (!is_atext((unsigned char)text[at]) || (unsigned char)text[at] >= 0x80)
			return -1;
		at++;
	}
	if (at == 0 || at + 1 >= length)
		return -1;
	dstring_reset(out);
	dstring_append(out, text, at + 1);
	if (smtpd_xtext_decode(text + at + 1, length - at - 1, out) < 0 || out->has_overflowed)
		return -1;
	return 0;
}

int
smtpd_rcpt_parse(const char *arguments, size_t length, struct smtpd_rcpt_arguments *rcpt,
                 struct dstring *reply)
{
	size_t at, path;
	struct parameter parameter;

	if (!leading_keyword(arguments, length, "TO:", &at)) {
		dstring_set(reply, "501 5.5.4 Syntax: RCPT TO:<address>");
		return -1;
	}
	path = path_length(arguments + at, length - at);
	if (path == 0 || smtpd_path_parse(arguments + at, path, &rcpt->recipient) < 0 ||
	    dstring_length(&rcpt->recipient) == 0 ||
	    (at + path < length && !is_space(arguments[at + path]))) {
		dstring_set(reply, "501 5.1.3 Bad recipient address syntax");
		return -1;
	}
	at += path;
	while (next_parameter(arguments, length, &at, &parameter)) {
		if (keyword_is(&parameter, "NOTIFY") && parameter.has_value) {
			if (parse_notify(parameter.value, parameter.value_length, &rcpt->notify) <
			    0) {
				dstring_set(reply, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
				return -1;
			}
		} else if (keyword_is(&parameter, "ORCPT") && parameter.has_value) {
			if (parse_orcpt(parameter.value, parameter.value_length, &rcpt->orcpt) <
			    0) {
				dstring_set(reply, "501 5.5.4 Error: Bad ORCPT parameter syntax");
				return -1;
			}
		} else {
			unsupported(&parameter, reply);
			return -1;
		}
	}
	return 0;
}

int
smtpd_bdat_parse(const char *arguments, size_t length, long long *size, bool *is_last)
{
	size_t at = 0;

	while (at < length && arguments[at] >= '0' && arguments[at] <= '9')
		at++;
	if (parse_digits(arguments, at, size) < 0)
		return -1;
	while (at < length && is_space(arguments[at]))
		at++;
	*is_last = false;
	if (at == length)
		return 0;
	if (length - at == 4 && strncasecmp(arguments + at, "LAST", 4) == 0) {
		*is_last = true;
		return 0;
	}
	return -1;
}
