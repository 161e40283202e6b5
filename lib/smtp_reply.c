/*
 * smtp_reply - server replies for the SMTP client (lib/smtp_reply.h has
 * the contract). Every byte of a reply is checked here before the client
 * looks at it; the limits keep a hostile server to bounded memory.
 */
#include <errno.h>
#include <string.h>

#include "delivery.h"
#include "smtp_reply.h"
#include "stream.h"

/* Room for every line's text and its newline. */
#define SMTP_REPLY_TEXT_LIMIT ((SMTP_REPLY_LINE_MAX + 1) * SMTP_REPLY_LINES_MAX)

void
smtp_reply_init(struct smtp_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	dstring_init(&reply->text, SMTP_REPLY_TEXT_LIMIT);
}

void
smtp_reply_fini(struct smtp_reply *reply)
{
	dstring_fini(&reply->text);
}

void
smtp_reply_reset(struct smtp_reply *reply)
{
	reply->code = 0;
	reply->dsn[0] = '\0';
	reply->line_count = 0;
	reply->is_complete = false;
	dstring_reset(&reply->text);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * take_enhanced_code: when text (printable) starts with "C.S.D" followed
 * by a space or its end, and C is the reply's class, copy it to dsn.
 */
static void
take_enhanced_code(struct smtp_reply *reply, const char *text, size_t length)
{
	size_t end = 0;

	while (end < length && end < sizeof(reply->dsn) - 1 && text[end] != ' ')
		end++;
	if (end == 0 || (end < length && text[end] != ' ') || end >= sizeof(reply->dsn))
		return;
	if (text[0] != (char)('0' + reply->code / 100))
		return;
	memcpy(reply->dsn, text, end);
	reply->dsn[end] = '\0';
	if (!delivery_dsn_is_valid(reply->dsn))
		reply->dsn[0] = '\0';
}

enum smtp_reply_status
smtp_reply_parse_line(struct smtp_reply *reply, const char *line, size_t length,
                      struct dstring *error)
{
	int code;
	bool is_last;
	size_t text_start;

	if (reply->is_complete) {
		dstring_set(error, "reply already complete");
		return SMTP_REPLY_ERROR;
	}
	if (length > 0 && line[length - 1] == '\r')
		length--;
	if (length > SMTP_REPLY_LINE_MAX) {
		dstring_printf(error, "reply line longer than %d bytes", SMTP_REPLY_LINE_MAX);
		return SMTP_REPLY_ERROR;
	}
	if (reply->line_count >= SMTP_REPLY_LINES_MAX) {
		dstring_printf(error, "reply has more than %d lines", SMTP_REPLY_LINES_MAX);
		return SMTP_REPLY_ERROR;
	}
	if (length < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
	    line[0] < '2' || line[0] > '5' || line[1] > '5' ||
	    (length > 3 && line[3] != ' ' && line[3] != '-')) {
		struct dstring shown;

		dstring_init(&shown, 128);
		for (size_t i = 0; i < length && i < 60; i++)
			dstring_append_char(&shown,
			                    line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?');
		dstring_printf(error, "malformed reply: \"%s\"", dstring_str(&shown));
		dstring_fini(&shown);
		return SMTP_REPLY_ERROR;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (reply->line_count > 0 && code != reply->code) {
		dstring_printf(error, "malformed reply: code %d in a reply that began with %d",
		               code, reply->code);
		return SMTP_REPLY_ERROR;
	}
	reply->code = code;
	is_last = length == 3 || line[3] == ' ';
	text_start = length > 3 ? 4 : 3;
	{
		size_t before = dstring_length(&reply->text);

		for (size_t i = text_start; i < length; i++) {
			char c = line[i];

			dstring_append_char(&reply->text, c >= 0x20 && c < 0x7f ? c : '?');
		}
		dstring_append_char(&reply->text, '\n');
		if (reply->text.has_overflowed) {
			dstring_set(error, "reply too long");
			return SMTP_REPLY_ERROR;
		}
		if (reply->line_count == 0)
			take_enhanced_code(reply, reply->text.data + before,
			                   dstring_length(&reply->text) - before - 1);
	}
	reply->line_count++;
	if (!is_last)
		return SMTP_REPLY_MORE;
	reply->is_complete = true;
	if (reply->dsn[0] == '\0') {
		reply->dsn[0] = (char)('0' + code / 100);
		memcpy(reply->dsn + 1, ".0.0", 5);
	}
	return SMTP_REPLY_DONE;
}

enum smtp_reply_read_status
smtp_reply_read(struct stream *stream, struct smtp_reply *reply, struct dstring *error)
{
	struct dstring line;
	enum smtp_reply_read_status result = SMTP_REPLY_READ_BAD;

	/* One line plus its CR LF, and the partial read that shows it is too long. */
	dstring_init(&line, 2 * SMTP_REPLY_LINE_MAX + 8);
	smtp_reply_reset(reply);
	/* Bounded: each pass adds a line, and parse_line stops at the line limit. */
	for (;;) {
		enum stream_status status;
		enum smtp_reply_status parsed;
		size_t length;

		dstring_reset(&line);
		status = stream_gets(stream, &line, SMTP_REPLY_LINE_MAX + 3);
		if (status == STREAM_EOF || (status == STREAM_PARTIAL && stream_at_eof(stream))) {
			dstring_set(error, "lost connection");
			result = SMTP_REPLY_READ_EOF;
			break;
		}
		if (status == STREAM_TIMEOUT) {
			dstring_set(error, "timed out");
			result = SMTP_REPLY_READ_TIMEOUT;
			break;
		}
		if (status == STREAM_ERROR) {
			dstring_printf(error, "read error: %s", strerror(errno));
			result = SMTP_REPLY_READ_IO;
			break;
		}
		if (status == STREAM_PARTIAL) {
			dstring_printf(error, "reply line longer than %d bytes",
			               SMTP_REPLY_LINE_MAX);
			result = SMTP_REPLY_READ_BAD;
			break;
		}
		length = dstring_length(&line);
		if (length > 0 && line.data[length - 1] == '\n')
			length--;
		parsed = smtp_reply_parse_line(reply, line.data, length, error);
		if (parsed == SMTP_REPLY_DONE) {
			result = SMTP_REPLY_READ_OK;
			break;
		}
		if (parsed == SMTP_REPLY_ERROR) {
			result = SMTP_REPLY_READ_BAD;
			break;
		}
	}
	dstring_fini(&line);
	return result;
}

void
smtp_reply_format(const struct smtp_reply *reply, struct dstring *out)
{
	const char *text = dstring_str(&reply->text);
	size_t length = dstring_length(&reply->text);

	dstring_append_printf(out, "%d", reply->code);
	for (size_t i = 0; i < length; i++) {
		if (i == 0)
			dstring_append_char(out, ' ');
		if (text[i] == '\n') {
			if (i + 1 < length)
				dstring_append_char(out, ' ');
		} else {
			dstring_append_char(out, text[i]);
		}
	}
	/* "250" with no text: nothing follows the code. */
	if (length > 0 && out->length > 0 && out->data[out->length - 1] == ' ')
		dstring_truncate(out, out->length - 1);
}

bool
smtp_reply_line(const struct smtp_reply *reply, size_t index, struct dstring *out)
{
	const char *text = dstring_str(&reply->text);
	const char *end = text + dstring_length(&reply->text);

	dstring_reset(out);
	for (size_t i = 0; i < index; i++) {
		const char *newline = memchr(text, '\n', (size_t)(end - text));

		if (newline == NULL)
			return false;
		text = newline + 1;
	}
	if (text >= end)
		return false;
	{
		const char *newline = memchr(text, '\n', (size_t)(end - text));

		dstring_append(out, text,
		               newline != NULL ? (size_t)(newline - text) : (size_t)(end - text));
	}
	return true;
}
