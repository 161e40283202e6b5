/*
 * attr_proto - typed, named attributes in length-prefixed frames; see
 * attr_proto.h for the format and docs/protocol.md for its use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attr_proto.h"
#include "log.h"
#include "stream.h"

static void
put_u32(unsigned char *out, uint32_t value)
{
	out[0] = (unsigned char)(value >> 24);
	out[1] = (unsigned char)(value >> 16);
	out[2] = (unsigned char)(value >> 8);
	out[3] = (unsigned char)value;
}

static uint32_t
get_u32(const unsigned char *in)
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 |
	       (uint32_t)in[3];
}

static bool
is_valid_name(const char *name, size_t length)
{
	if (length == 0 || length > ATTR_NAME_MAX)
		return false;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

void
attr_writer_init(struct attr_writer *writer)
{
	dstring_init(&writer->frame, DSTRING_NO_LIMIT);
	attr_writer_reset(writer);
}

void
attr_writer_fini(struct attr_writer *writer)
{
	dstring_fini(&writer->frame);
}

void
attr_writer_reset(struct attr_writer *writer)
{
	static const unsigned char zero[ATTR_FRAME_HEADER];

	dstring_reset(&writer->frame);
	dstring_append(&writer->frame, zero, sizeof(zero));
	writer->count = 0;
}

static void
put_attribute(struct attr_writer *writer, char type, const char *name, const void *value,
              size_t value_length, const void *suffix, size_t suffix_length)
{
	size_t name_length = strlen(name);
	unsigned char head[2], length[4];

	if (!is_valid_name(name, name_length))
		log_panic("attr_put: bad attribute name \"%s\"", name);
	if (value_length + suffix_length > ATTR_VALUE_MAX)
		log_panic("attr_put: value of %s is %zu bytes, over %d", name, value_length,
		          ATTR_VALUE_MAX);
	if (writer->count >= ATTR_COUNT_MAX)
		log_panic("attr_put: more than %d attributes (at %s)", ATTR_COUNT_MAX, name);
	if (writer->frame.length - ATTR_FRAME_HEADER + 6 + name_length + value_length +
	        suffix_length >
	    ATTR_FRAME_MAX)
		log_panic("attr_put: frame over %d bytes (at %s)", ATTR_FRAME_MAX, name);
	head[0] = (unsigned char)type;
	head[1] = (unsigned char)name_length;
	put_u32(length, (uint32_t)(value_length + suffix_length));
	dstring_append(&writer->frame, head, 2);
	dstring_append(&writer->frame, name, name_length);
	dstring_append(&writer->frame, length, 4);
	dstring_append(&writer->frame, value, value_length);
	if (suffix_length > 0)
		dstring_append(&writer->frame, suffix, suffix_length);
	writer->count++;
}

void
attr_put_string(struct attr_writer *writer, const char *name, const char *value)
{
	put_attribute(writer, 's', name, value, strlen(value), "", 1);
}

void
attr_put_int(struct attr_writer *writer, const char *name, int64_t value)
{
	unsigned char bytes[8];
	uint64_t bits = (uint64_t)value;

	for (int i = 7; i >= 0; i--) {
		bytes[i] = (unsigned char)bits;
		bits >>= 8;
	}
	put_attribute(writer, 'i', name, bytes, 8, NULL, 0);
}

void
attr_put_data(struct attr_writer *writer, const char *name, const void *data, size_t length)
{
	put_attribute(writer, 'd', name, data, length, NULL, 0);
}

const void *
attr_writer_frame(struct attr_writer *writer, size_t *length)
{
	put_u32((unsigned char *)writer->frame.data,
	        (uint32_t)(writer->frame.length - ATTR_FRAME_HEADER));
	*length = writer->frame.length;
	return writer->frame.data;
}

int
attr_send(struct stream *stream, struct attr_writer *writer)
{
	size_t length;
	const void *frame = attr_writer_frame(writer, &length);

	return stream_write(stream, frame, length) == STREAM_OK ? 0 : -1;
}

void
attr_reader_init(struct attr_reader *reader, const void *payload, size_t length)
{
	reader->payload = payload;
	reader->length = length;
	reader->offset = 0;
	reader->count = 0;
	reader->has_failed = false;
	reader->error[0] = '\0';
}

static int reader_fail(struct attr_reader *reader, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int
reader_fail(struct attr_reader *reader, const char *format, ...)
{
	va_list args;

	if (!reader->has_failed) {
		va_start(args, format);
		vsnprintf(reader->error, sizeof(reader->error), format, args);
		va_end(args);
		reader->has_failed = true;
	}
	return -1;
}

/*
 * next_attribute: parse the attribute at the reader's offset without
 * consuming it. Fills the type, name and value; returns the offset after
 * it, or 0 on a malformed attribute (the reader then has failed).
 */
static size_t
next_attribute(struct attr_reader *reader, char *type, const char **name, size_t *name_length,
               const unsigned char **value, size_t *value_length)
{
	const unsigned char *p = reader->payload + reader->offset;
	size_t left = reader->length - reader->offset;
	size_t length;

	if (left < 2) {
		reader_fail(reader, left == 0 ? "missing attribute" : "truncated attribute");
		return 0;
	}
	*type = (char)p[0];
	*name_length = p[1];
	if (left < 2 + *name_length + 4) {
		reader_fail(reader, "truncated attribute");
		return 0;
	}
	*name = (const char *)p + 2;
	if (!is_valid_name(*name, *name_length)) {
		reader_fail(reader, "malformed attribute name");
		return 0;
	}
	length = get_u32(p + 2 + *name_length);
	if (length > ATTR_VALUE_MAX || length > left - 2 - *name_length - 4) {
		reader_fail(reader, "attribute %.*s: value length %zu out of bounds",
		            (int)*name_length, *name, length);
		return 0;
	}
	*value = p + 2 + *name_length + 4;
	*value_length = length;
	return reader->offset + 2 + *name_length + 4 + length;
}

static int
get_attribute(struct attr_reader *reader, char want_type, const char *want_name,
              const unsigned char **value, size_t *value_length)
{
	char type;
	const char *name;
	size_t name_length, next;

	if (reader->has_failed)
		return -1;
	if (reader->count >= ATTR_COUNT_MAX)
		return reader_fail(reader, "more than %d attributes", ATTR_COUNT_MAX);
	if (reader->offset >= reader->length)
		return reader_fail(reader, "missing attribute %s", want_name);
	next = next_attribute(reader, &type, &name, &name_length, value, value_length);
	if (next == 0)
		return -1;
	if (name_length != strlen(want_name) || memcmp(name, want_name, name_length) != 0)
		return reader_fail(reader, "expected attribute %s, found %.*s", want_name,
		                   (int)name_length, name);
	if (type != want_type)
		return reader_fail(reader, "attribute %s: wrong type", want_name);
	reader->offset = next;
	reader->count++;
	return 0;
}

int
attr_get_string(struct attr_reader *reader, const char *name, const char **value)
{
	const unsigned char *bytes;
	size_t length;

	*value = "";
	if (get_attribute(reader, 's', name, &bytes, &length) < 0)
		return -1;
	if (length == 0 || bytes[length - 1] != '\0' || memchr(bytes, '\0', length - 1) != NULL)
		return reader_fail(reader, "attribute %s: malformed string", name);
	*value = (const char *)bytes;
	return 0;
}

int
attr_get_int(struct attr_reader *reader, const char *name, int64_t *value)
{
	const unsigned char *bytes;
	size_t length;
	uint64_t bits = 0;

	*value = 0;
	if (get_attribute(reader, 'i', name, &bytes, &length) < 0)
		return -1;
	if (length != 8)
		return reader_fail(reader, "attribute %s: malformed integer", name);
	for (int i = 0; i < 8; i++)
		bits = bits << 8 | bytes[i];
	*value = (int64_t)bits;
	return 0;
}

int
attr_get_data(struct attr_reader *reader, const char *name, const void **data, size_t *length)
{
	const unsigned char *bytes;

	*data = "";
	*length = 0;
	if (get_attribute(reader, 'd', name, &bytes, length) < 0) {
		*length = 0;
		return -1;
	}
	*data = bytes;
	return 0;
}

int
attr_peek_name(struct attr_reader *reader, char *name)
{
	char type;
	const char *found;
	size_t name_length;
	const unsigned char *value;
	size_t value_length;

	name[0] = '\0';
	if (reader->has_failed || reader->offset >= reader->length)
		return -1;
	if (next_attribute(reader, &type, &found, &name_length, &value, &value_length) == 0)
		return -1;
	memcpy(name, found, name_length);
	name[name_length] = '\0';
	return 0;
}

int
attr_reader_end(struct attr_reader *reader)
{
	if (reader->has_failed)
		return -1;
	if (reader->offset != reader->length) {
		char type;
		const char *name;
		size_t name_length, value_length;
		const unsigned char *value;

		if (next_attribute(reader, &type, &name, &name_length, &value, &value_length) != 0)
			return reader_fail(reader, "unexpected attribute %.*s", (int)name_length,
			                   name);
		return -1;
	}
	return 0;
}

const char *
attr_reader_error(const struct attr_reader *reader)
{
	return reader->error;
}

enum attr_frame_status
attr_frame_check(const void *buffer, size_t length, size_t *frame_length)
{
	uint32_t payload;

	if (length < ATTR_FRAME_HEADER)
		return ATTR_FRAME_INCOMPLETE;
	payload = get_u32(buffer);
	if (payload > ATTR_FRAME_MAX)
		return ATTR_FRAME_INVALID;
	if (length < ATTR_FRAME_HEADER + (size_t)payload)
		return ATTR_FRAME_INCOMPLETE;
	*frame_length = ATTR_FRAME_HEADER + (size_t)payload;
	return ATTR_FRAME_COMPLETE;
}

static const char *
stream_problem(enum stream_status status)
{
	switch (status) {
	case STREAM_EOF:
		return "unexpected end of input";
	case STREAM_TIMEOUT:
		return "timeout";
	default:
		return strerror(errno);
	}
}

int
attr_receive(struct stream *stream, struct dstring *payload, struct dstring *error)
{
	unsigned char head[ATTR_FRAME_HEADER];
	enum stream_status status;
	uint32_t length;

	dstring_reset(payload);
	status = stream_read_exact(stream, head, sizeof(head));
	if (status != STREAM_OK) {
		dstring_printf(error, "read attribute frame: %s", stream_problem(status));
		return -1;
	}
	length = get_u32(head);
	if (length > ATTR_FRAME_MAX) {
		dstring_printf(error, "read attribute frame: length %" PRIu32 " over %d", length,
		               ATTR_FRAME_MAX);
		return -1;
	}
	while (payload->length < length) {
		unsigned char chunk[8192];
		size_t want = length - payload->length;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		status = stream_read_exact(stream, chunk, want);
		if (status != STREAM_OK) {
			dstring_reset(payload);
			dstring_printf(error, "read attribute frame: %s", stream_problem(status));
			return -1;
		}
		if (dstring_append(payload, chunk, want) < 0) {
			dstring_reset(payload);
			dstring_printf(
			    error, "read attribute frame: %" PRIu32 " bytes is too large", length);
			return -1;
		}
	}
	return 0;
}
