/*
 * maildrop_file - reading and writing local submissions. The contract is
 * in maildrop_file.h, the format in docs/maildrop.md.
 *
 * The reader is a small state machine over records: it keeps the type of
 * the last record to enforce the order, counts recipients and content
 * bytes, and stops at the first problem with a reason for the log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maildrop_file.h"
#include "stream.h"

/* "recipient 2048\n" and the like: a name, a space, at most 7 digits. */
#define HEADER_LINE_MAX 40
/* Digits of a number record (uid, time, end). */
#define NUMBER_DIGITS_MAX 19

static const char *const record_names[MAILDROP_RECORD_TYPES] = {
    [MAILDROP_UID] = "uid",
    [MAILDROP_TIME] = "time",
    [MAILDROP_SENDER] = "sender",
    [MAILDROP_FULL_NAME] = "full-name",
    [MAILDROP_FLAGS] = "flags",
    [MAILDROP_ENVID] = "envid",
    [MAILDROP_RET] = "ret",
    [MAILDROP_NOTIFY] = "notify",
    [MAILDROP_RECIPIENT] = "recipient",
    [MAILDROP_DATA] = "data",
    [MAILDROP_END] = "end",
};

static const char *const known_flags[] = {MAILDROP_FLAG_EXTRACT, MAILDROP_FLAG_BODY_8BITMIME,
                                          MAILDROP_FLAG_BODY_7BIT};
static const char *const notify_words[] = {"SUCCESS", "FAILURE", "DELAY"};

const char *
maildrop_record_name(enum maildrop_record_type type)
{
	if ((int)type < 0 || type >= MAILDROP_RECORD_TYPES)
		return "unknown";
	return record_names[type];
}

/*
 * parse_number: a decimal number without sign or leading zeros, at most
 * NUMBER_DIGITS_MAX digits (so it fits a long long). -1 when malformed.
 */
static long long
parse_number(const char *text, size_t length)
{
	long long number = 0;

	if (length == 0 || length > NUMBER_DIGITS_MAX || (text[0] == '0' && length > 1))
		return -1;
	for (size_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		number = number * 10 + (text[i] - '0');
	}
	return number;
}

/* has_control: any byte below space, or DEL (8-bit bytes are allowed). */
static bool
has_control(const char *data, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)data[i];
		if (byte < 0x20 || byte == 0x7f)
			return true;
	}
	return false;
}

/*
 * word_list_check: data is words from vocabulary separated by separator,
 * none twice and none empty.
 */
static bool
word_list_check(const char *data, size_t length, char separator, const char *const *vocabulary,
                size_t vocabulary_size)
{
	bool seen[8] = {false};
	size_t start = 0;

	if (length == 0 || vocabulary_size > sizeof(seen) / sizeof(seen[0]))
		return false;
	while (start <= length) {
		const char *end = memchr(data + start, separator, length - start);
		size_t word_length = end ? (size_t)(end - (data + start)) : length - start;
		size_t i;

		for (i = 0; i < vocabulary_size; i++)
			if (strlen(vocabulary[i]) == word_length &&
			    memcmp(vocabulary[i], data + start, word_length) == 0)
				break;
		if (i == vocabulary_size || seen[i])
			return false;
		seen[i] = true;
		start += word_length + 1;
	}
	return true;
}

const char *
maildrop_value_check(enum maildrop_record_type type, const char *data, size_t length)
{
	long long number;

	switch (type) {
	case MAILDROP_UID:
		number = parse_number(data, length);
		if (number < 0 || number > (long long)UINT32_MAX - 1)
			return "bad user ID";
		return NULL;
	case MAILDROP_TIME:
		if (parse_number(data, length) < 0)
			return "bad time";
		return NULL;
	case MAILDROP_SENDER:
	case MAILDROP_FULL_NAME:
	case MAILDROP_RECIPIENT:
		if (length > MAILDROP_VALUE_MAX)
			return "value too long";
		if (memchr(data, '\0', length) != NULL || has_control(data, length))
			return "control character in value";
		if (type == MAILDROP_RECIPIENT && length == 0)
			return "empty recipient";
		return NULL;
	case MAILDROP_FLAGS:
		if (!word_list_check(data, length, ' ', known_flags,
		                     sizeof(known_flags) / sizeof(known_flags[0])))
			return "unknown flags";
		return NULL;
	case MAILDROP_ENVID:
		if (length == 0 || length > MAILDROP_ENVID_MAX)
			return "bad envid length";
		for (size_t i = 0; i < length; i++)
			if (data[i] < 0x21 || data[i] > 0x7e)
				return "bad character in envid";
		return NULL;
	case MAILDROP_RET:
		if ((length == 4 && memcmp(data, "FULL", 4) == 0) ||
		    (length == 4 && memcmp(data, "HDRS", 4) == 0))
			return NULL;
		return "ret is neither FULL nor HDRS";
	case MAILDROP_NOTIFY:
		if (length == 5 && memcmp(data, "NEVER", 5) == 0)
			return NULL;
		if (!word_list_check(data, length, ',', notify_words,
		                     sizeof(notify_words) / sizeof(notify_words[0])))
			return "bad notify list";
		return NULL;
	case MAILDROP_DATA:
	case MAILDROP_END:
	case MAILDROP_RECORD_TYPES:
		break;
	}
	return "not an envelope record";
}

void
maildrop_reader_init(struct maildrop_reader *reader, struct stream *stream, enum maildrop_kind kind,
                     long long size_limit)
{
	memset(reader, 0, sizeof(*reader));
	reader->stream = stream;
	reader->kind = kind;
	reader->size_limit = size_limit;
	reader->last_type = -1;
	/* The data read plus the reader's own slack; the header line fits. */
	dstring_init(&reader->value, MAILDROP_CHUNK_MAX + HEADER_LINE_MAX);
	dstring_init(&reader->error, 512);
}

void
maildrop_reader_fini(struct maildrop_reader *reader)
{
	dstring_fini(&reader->value);
	dstring_fini(&reader->error);
}

const char *
maildrop_reader_error(const struct maildrop_reader *reader)
{
	return dstring_str(&reader->error);
}

static enum maildrop_status
invalid(struct maildrop_reader *reader, const char *reason, const char *detail)
{
	dstring_printf(&reader->error, "%s%s%s", reason, detail ? ": " : "", detail ? detail : "");
	return MAILDROP_INVALID;
}

/* stream_failure: map a stream status that is not OK to ours. */
static enum maildrop_status
stream_failure(struct maildrop_reader *reader, enum stream_status status, const char *what)
{
	if (status == STREAM_EOF || status == STREAM_PARTIAL)
		return invalid(reader, "file ends early", what);
	dstring_printf(&reader->error, "read error in %s: %s", what,
	               status == STREAM_TIMEOUT ? "timeout" : strerror(errno));
	return MAILDROP_IO;
}

static enum maildrop_status
read_magic(struct maildrop_reader *reader)
{
	enum stream_status status;

	dstring_reset(&reader->value);
	status = stream_gets(reader->stream, &reader->value, HEADER_LINE_MAX);
	if (status == STREAM_TIMEOUT || status == STREAM_ERROR)
		return stream_failure(reader, status, "magic");
	if (status != STREAM_OK || strcmp(dstring_str(&reader->value), MAILDROP_MAGIC) != 0)
		return invalid(reader, "not a maildrop file", "bad magic line");
	reader->has_magic = true;
	return MAILDROP_OK;
}

/* parse_header: "NAME SP LENGTH LF" into a type and a length. */
static enum maildrop_status
parse_header(struct maildrop_reader *reader, enum maildrop_record_type *type, size_t *length)
{
	const char *line = dstring_str(&reader->value);
	size_t line_length = dstring_length(&reader->value);
	const char *space = memchr(line, ' ', line_length);
	long long number;
	int i;

	if (line_length < 4 || line[line_length - 1] != '\n' || space == NULL)
		return invalid(reader, "bad record header", NULL);
	for (i = 0; i < MAILDROP_RECORD_TYPES; i++)
		if (strlen(record_names[i]) == (size_t)(space - line) &&
		    memcmp(record_names[i], line, (size_t)(space - line)) == 0)
			break;
	if (i == MAILDROP_RECORD_TYPES)
		return invalid(reader, "unknown record type", NULL);
	number = parse_number(space + 1, (size_t)(line + line_length - 1 - (space + 1)));
	if (number < 0)
		return invalid(reader, "bad record length", record_names[i]);
	if (i == MAILDROP_DATA ? number < 1 || number > MAILDROP_CHUNK_MAX
	                       : number > MAILDROP_VALUE_MAX)
		return invalid(reader, "record length out of range", record_names[i]);
	*type = (enum maildrop_record_type)i;
	*length = (size_t)number;
	return MAILDROP_OK;
}

/* check_order: whether type may follow the records seen so far. */
static enum maildrop_status
check_order(struct maildrop_reader *reader, enum maildrop_record_type type)
{
	const char *name = record_names[type];
	bool may_repeat = type == MAILDROP_RECIPIENT || type == MAILDROP_DATA;

	if (reader->kind == MAILDROP_SUBMISSION && (type == MAILDROP_UID || type == MAILDROP_TIME))
		return invalid(reader, "record not allowed in a submission", name);
	if (reader->kind == MAILDROP_QUEUED) {
		if (reader->last_type == -1 && type != MAILDROP_UID)
			return invalid(reader, "first record is not uid", name);
		if (reader->last_type == MAILDROP_UID && type != MAILDROP_TIME)
			return invalid(reader, "second record is not time", name);
	}
	if ((int)type < reader->last_type || ((int)type == reader->last_type && !may_repeat))
		return invalid(reader, "record out of order or repeated", name);
	if (type > MAILDROP_SENDER && reader->last_type < MAILDROP_SENDER)
		return invalid(reader, "missing sender record", name);
	if (type == MAILDROP_RECIPIENT && reader->recipients >= MAILDROP_RECIPIENTS_MAX)
		return invalid(reader, "too many recipients", NULL);
	return MAILDROP_OK;
}

/* read_value: exactly length bytes and the LF after them into value. */
static enum maildrop_status
read_value(struct maildrop_reader *reader, enum maildrop_record_type type, size_t length)
{
	char buffer[4096];
	size_t done = 0;
	enum stream_status status;
	char newline;

	dstring_reset(&reader->value);
	while (done < length) {
		size_t piece = length - done < sizeof(buffer) ? length - done : sizeof(buffer);
		status = stream_read_exact(reader->stream, buffer, piece);
		if (status != STREAM_OK)
			return stream_failure(reader, status, record_names[type]);
		if (dstring_append(&reader->value, buffer, piece) < 0)
			return invalid(reader, "record too long", NULL);
		done += piece;
	}
	status = stream_read_exact(reader->stream, &newline, 1);
	if (status != STREAM_OK)
		return stream_failure(reader, status, record_names[type]);
	if (newline != '\n')
		return invalid(reader, "record does not end in a newline", record_names[type]);
	return MAILDROP_OK;
}

/* check_end_of_input: nothing may follow the end record. */
static enum maildrop_status
check_end_of_input(struct maildrop_reader *reader)
{
	char byte;
	size_t length_read = 0;
	enum stream_status status = stream_read(reader->stream, &byte, 1, &length_read);

	if (status == STREAM_EOF)
		return MAILDROP_DONE;
	if (status == STREAM_OK)
		return invalid(reader, "data after the end record", NULL);
	return stream_failure(reader, status, "end of file");
}

enum maildrop_status
maildrop_read(struct maildrop_reader *reader, struct maildrop_record *record)
{
	enum maildrop_record_type type;
	enum maildrop_status result;
	enum stream_status status;
	const char *reason;
	size_t length;

	if (dstring_length(&reader->error) > 0)
		return MAILDROP_INVALID; /* callers stop at the first problem */
	if (reader->has_ended)
		return check_end_of_input(reader);
	if (!reader->has_magic && (result = read_magic(reader)) != MAILDROP_OK)
		return result;
	dstring_reset(&reader->value);
	status = stream_gets(reader->stream, &reader->value, HEADER_LINE_MAX);
	if (status == STREAM_EOF)
		return invalid(reader, "file ends early", "no end record");
	if (status == STREAM_TIMEOUT || status == STREAM_ERROR)
		return stream_failure(reader, status, "record header");
	if (status == STREAM_PARTIAL)
		return invalid(reader, "bad record header", NULL);
	if ((result = parse_header(reader, &type, &length)) != MAILDROP_OK ||
	    (result = check_order(reader, type)) != MAILDROP_OK ||
	    (result = read_value(reader, type, length)) != MAILDROP_OK)
		return result;

	record->type = type;
	record->data = dstring_str(&reader->value);
	record->length = dstring_length(&reader->value);
	if (type == MAILDROP_DATA) {
		reader->data_size += (long long)length;
		if (reader->size_limit > 0 && reader->data_size > reader->size_limit) {
			dstring_printf(&reader->error, "message larger than %lld bytes",
			               reader->size_limit);
			return MAILDROP_TOO_BIG;
		}
	} else if (type == MAILDROP_END) {
		if (parse_number(record->data, record->length) != reader->data_size)
			return invalid(reader, "end record does not match the content size", NULL);
		reader->has_ended = true;
	} else if ((reason = maildrop_value_check(type, record->data, record->length)) != NULL) {
		return invalid(reader, reason, record_names[type]);
	}
	if (type == MAILDROP_RECIPIENT)
		reader->recipients++;
	reader->last_type = (int)type;
	return MAILDROP_OK;
}

void
maildrop_writer_init(struct maildrop_writer *writer, struct stream *stream)
{
	writer->stream = stream;
	writer->data_size = 0;
	dstring_init(&writer->chunk, MAILDROP_CHUNK_MAX);
}

void
maildrop_writer_fini(struct maildrop_writer *writer)
{
	dstring_fini(&writer->chunk);
}

int
maildrop_write_magic(struct maildrop_writer *writer)
{
	return stream_puts(writer->stream, MAILDROP_MAGIC) == STREAM_OK ? 0 : -1;
}

static int
write_record(struct maildrop_writer *writer, enum maildrop_record_type type, const char *data,
             size_t length)
{
	if (stream_printf(writer->stream, "%s %zu\n", record_names[type], length) != STREAM_OK ||
	    stream_write(writer->stream, data, length) != STREAM_OK ||
	    stream_puts(writer->stream, "\n") != STREAM_OK)
		return -1;
	return 0;
}

int
maildrop_write_value(struct maildrop_writer *writer, enum maildrop_record_type type,
                     const char *data, size_t length)
{
	if (maildrop_value_check(type, data, length) != NULL) {
		errno = EINVAL;
		return -1;
	}
	return write_record(writer, type, data, length);
}

int
maildrop_write_number(struct maildrop_writer *writer, enum maildrop_record_type type,
                      long long number)
{
	char text[32];
	int length = snprintf(text, sizeof(text), "%lld", number);

	return maildrop_write_value(writer, type, text, (size_t)length);
}

/* flush_chunk: write the collected content as one data record. */
static int
flush_chunk(struct maildrop_writer *writer)
{
	int result = 0;

	if (dstring_length(&writer->chunk) > 0)
		result = write_record(writer, MAILDROP_DATA, dstring_str(&writer->chunk),
		                      dstring_length(&writer->chunk));
	dstring_reset(&writer->chunk);
	return result;
}

int
maildrop_write_content(struct maildrop_writer *writer, const void *data, size_t length)
{
	const char *bytes = data;

	while (length > 0) {
		size_t room = MAILDROP_CHUNK_MAX - dstring_length(&writer->chunk);
		size_t piece = length < room ? length : room;

		dstring_append(&writer->chunk, bytes, piece);
		writer->data_size += (long long)piece;
		bytes += piece;
		length -= piece;
		if (dstring_length(&writer->chunk) == MAILDROP_CHUNK_MAX && flush_chunk(writer) < 0)
			return -1;
	}
	return 0;
}

int
maildrop_write_end(struct maildrop_writer *writer)
{
	char text[32];
	int length;

	if (flush_chunk(writer) < 0)
		return -1;
	length = snprintf(text, sizeof(text), "%lld", writer->data_size);
	return write_record(writer, MAILDROP_END, text, (size_t)length);
}
