/*
 * header - RFC 5322 header lines (header.h).
 */
#include <string.h>
#include <strings.h>

#include "dstring.h"
#include "header.h"

static bool
is_name_character(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

enum header_line_kind
header_classify(const char *line, size_t length, bool is_first, size_t *name_length,
                size_t *value_start)
{
	size_t i = 0, name_end;

	*name_length = 0;
	*value_start = 0;
	if (length == 0 || (length == 1 && line[0] == '\r'))
		return HEADER_LINE_EMPTY;
	if (line[0] == ' ' || line[0] == '\t')
		return is_first ? HEADER_LINE_OTHER : HEADER_LINE_CONTINUATION;
	while (i < length && i <= HEADER_NAME_MAX && is_name_character((unsigned char)line[i]))
		i++;
	if (i == 0 || i > HEADER_NAME_MAX)
		return HEADER_LINE_OTHER;
	name_end = i;
	while (i < length && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= length || line[i] != ':')
		return HEADER_LINE_OTHER;
	*name_length = name_end;
	*value_start = i + 1;
	return HEADER_LINE_START;
}

bool
header_name_equals(const char *name, size_t length, const char *word)
{
	return strlen(word) == length && strncasecmp(name, word, length) == 0;
}

bool
header_name_has_prefix(const char *name, size_t length, const char *prefix)
{
	size_t prefix_length = strlen(prefix);

	return length >= prefix_length && strncasecmp(name, prefix, prefix_length) == 0;
}

int
header_unfold(const char *value, size_t length, struct dstring *out)
{
	size_t start = 0, end = length;

	while (start < end && (value[start] == ' ' || value[start] == '\t' ||
	                       value[start] == '\r' || value[start] == '\n'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t' ||
	                       value[end - 1] == '\r' || value[end - 1] == '\n'))
		end--;
	for (size_t i = start; i < end; i++) {
		if (value[i] == '\r' && i + 1 < end && value[i + 1] == '\n')
			continue;
		if (value[i] == '\n')
			continue;
		if (dstring_append_char(out, value[i]) < 0)
			return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	enum header_kind kind;
} known_headers[] = {
    {"From", HEADER_FROM},
    {"Sender", HEADER_SENDER},
    {"Reply-To", HEADER_REPLY_TO},
    {"To", HEADER_TO},
    {"Cc", HEADER_CC},
    {"Bcc", HEADER_BCC},
    {"Resent-From", HEADER_RESENT_FROM},
    {"Resent-Sender", HEADER_RESENT_SENDER},
    {"Resent-Reply-To", HEADER_RESENT_REPLY_TO},
    {"Resent-To", HEADER_RESENT_TO},
    {"Resent-Cc", HEADER_RESENT_CC},
    {"Resent-Bcc", HEADER_RESENT_BCC},
    {"Return-Receipt-To", HEADER_RETURN_RECEIPT_TO},
    {"Errors-To", HEADER_ERRORS_TO},
    {"Date", HEADER_DATE},
    {"Resent-Date", HEADER_RESENT_DATE},
    {"Message-ID", HEADER_MESSAGE_ID},
    {"Resent-Message-ID", HEADER_RESENT_MESSAGE_ID},
    {"Received", HEADER_RECEIVED},
    {"Return-Path", HEADER_RETURN_PATH},
    {"Delivered-To", HEADER_DELIVERED_TO},
    {"Content-Length", HEADER_CONTENT_LENGTH},
};

enum header_kind
header_kind(const char *name, size_t length)
{
	for (size_t i = 0; i < sizeof(known_headers) / sizeof(known_headers[0]); i++)
		if (header_name_equals(name, length, known_headers[i].name))
			return known_headers[i].kind;
	return HEADER_OTHER;
}

bool
header_is_sender_kind(enum header_kind kind)
{
	switch (kind) {
	case HEADER_FROM:
	case HEADER_SENDER:
	case HEADER_REPLY_TO:
	case HEADER_RESENT_FROM:
	case HEADER_RESENT_SENDER:
	case HEADER_RESENT_REPLY_TO:
	case HEADER_RETURN_RECEIPT_TO:
	case HEADER_ERRORS_TO:
		return true;
	default:
		return false;
	}
}

bool
header_is_recipient_kind(enum header_kind kind)
{
	switch (kind) {
	case HEADER_TO:
	case HEADER_CC:
	case HEADER_BCC:
	case HEADER_RESENT_TO:
	case HEADER_RESENT_CC:
	case HEADER_RESENT_BCC:
		return true;
	default:
		return false;
	}
}
