/*
 * header - RFC 5322 message header lines: classifying lines, field names,
 * unfolding.
 *
 * The message header arrives line by line (cleanup feeds each line, LF
 * removed). A line is one of: the start of a field ("Name: value", where
 * the name is 1..HEADER_NAME_MAX printable ASCII characters other than ':'
 * and obsolete white space before the colon is allowed, RFC 5322 4.5.2),
 * a continuation (it starts with a space or tab), the empty line that
 * ends the header, or something else, which also ends the header (the
 * header/body separator is missing; the caller decides what to do).
 *
 * What it trusts: nothing. It looks only at the bytes it is given and
 * never reads past length; NUL and 8-bit bytes are data.
 */
#ifndef HIKYAKU_HEADER_H
#define HIKYAKU_HEADER_H

#include <stdbool.h>
#include <stddef.h>

struct dstring;

#define HEADER_NAME_MAX 256

enum header_line_kind {
	HEADER_LINE_START,        /* "Name: value" */
	HEADER_LINE_CONTINUATION, /* " more value" */
	HEADER_LINE_EMPTY,        /* "" or "\r": the end of the header */
	HEADER_LINE_OTHER,        /* not a header line */
};

/*
 * header_classify: what line (length bytes, without its LF) is. For a
 * field start, *name_length is the length of the name and *value_start
 * the offset just after the colon. is_first says no field came before
 * (a continuation line then is HEADER_LINE_OTHER).
 */
enum header_line_kind header_classify(const char *line, size_t length, bool is_first,
                                      size_t *name_length, size_t *value_start);

/* header_name_equals: the field name (name, length) is word, ignoring case. */
bool header_name_equals(const char *name, size_t length, const char *word);

/* header_name_has_prefix: the field name starts with prefix, ignoring case. */
bool header_name_has_prefix(const char *name, size_t length, const char *prefix);

/*
 * header_unfold: append to out the value with every line break (LF or
 * CRLF) that is followed by white space removed (RFC 5322 2.2.3), and
 * leading and trailing white space dropped. Returns 0, or -1 when out's
 * limit is reached.
 */
int header_unfold(const char *value, size_t length, struct dstring *out);

/* Header fields cleanup treats specially (enum values, not names). */
enum header_kind {
	HEADER_OTHER,
	HEADER_FROM,
	HEADER_SENDER,
	HEADER_REPLY_TO,
	HEADER_TO,
	HEADER_CC,
	HEADER_BCC,
	HEADER_RESENT_FROM,
	HEADER_RESENT_SENDER,
	HEADER_RESENT_REPLY_TO,
	HEADER_RESENT_TO,
	HEADER_RESENT_CC,
	HEADER_RESENT_BCC,
	HEADER_RETURN_RECEIPT_TO,
	HEADER_ERRORS_TO,
	HEADER_DATE,
	HEADER_RESENT_DATE,
	HEADER_MESSAGE_ID,
	HEADER_RESENT_MESSAGE_ID,
	HEADER_RECEIVED,
	HEADER_RETURN_PATH,
	HEADER_DELIVERED_TO,
	HEADER_CONTENT_LENGTH,
};

/* header_kind: which of the above the field name is. */
enum header_kind header_kind(const char *name, size_t length);

/* header_is_sender_kind / header_is_recipient_kind: address headers. */
bool header_is_sender_kind(enum header_kind kind);
bool header_is_recipient_kind(enum header_kind kind);

#endif
