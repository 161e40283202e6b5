/*
 * queue_file - the queue file writer and reader (queue_file.h,
 * docs/queue.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dstring.h"
#include "queue_file.h"
#include "xalloc.h"

enum {
	RECORD_HEADER = 5,
	WRITE_BUFFER = 65536,
};

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

/* Writer. */

struct queue_file_writer {
	int fd;
	int64_t offset;         /* file offset of buffer[0] */
	struct dstring buffer;  /* bytes not yet written */
	char state;             /* the last record type written */
	int64_t content_record; /* offset of the C record, or -1 */
	int64_t content_size;
	size_t recipient_count;
};

static int
writer_flush(struct queue_file_writer *writer)
{
	size_t done = 0;

	while (done < writer->buffer.length) {
		ssize_t n =
		    write(writer->fd, writer->buffer.data + done, writer->buffer.length - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	writer->offset += (int64_t)done;
	dstring_reset(&writer->buffer);
	return 0;
}

static int
writer_append(struct queue_file_writer *writer, const void *data, size_t length)
{
	if (writer->buffer.length + length > WRITE_BUFFER && writer_flush(writer) < 0)
		return -1;
	if (length >= WRITE_BUFFER) {
		size_t done = 0;

		while (done < length) {
			ssize_t n = write(writer->fd, (const char *)data + done, length - done);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			done += (size_t)n;
		}
		writer->offset += (int64_t)length;
		return 0;
	}
	dstring_append(&writer->buffer, data, length);
	return 0;
}

static int64_t
writer_position(const struct queue_file_writer *writer)
{
	return writer->offset + (int64_t)writer->buffer.length;
}

static int
writer_record(struct queue_file_writer *writer, char type, const void *payload, size_t length)
{
	unsigned char head[RECORD_HEADER];

	head[0] = (unsigned char)type;
	put_u32(head + 1, (uint32_t)length);
	if (writer_append(writer, head, sizeof(head)) < 0 ||
	    writer_append(writer, payload, length) < 0)
		return -1;
	writer->state = type;
	return 0;
}

static bool
is_attribute_name(const char *name)
{
	size_t length = strlen(name);

	if (length == 0 || length > 64)
		return false;
	for (size_t i = 0; i < length; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

struct queue_file_writer *
queue_file_writer_open(int fd, const char *queue_id, int64_t arrival_microseconds)
{
	struct queue_file_writer *writer = xcalloc(1, sizeof(*writer));
	char time[32];

	writer->fd = fd;
	writer->content_record = -1;
	dstring_init(&writer->buffer, DSTRING_NO_LIMIT);
	snprintf(time, sizeof(time), "%" PRId64, arrival_microseconds);
	if (writer_record(writer, 'V', QUEUE_FILE_MAGIC, strlen(QUEUE_FILE_MAGIC)) < 0 ||
	    writer_record(writer, 'I', queue_id, strlen(queue_id)) < 0 ||
	    writer_record(writer, 'T', time, strlen(time)) < 0) {
		queue_file_writer_abandon(writer);
		return NULL;
	}
	return writer;
}

int
queue_file_put_sender(struct queue_file_writer *writer, const char *sender)
{
	if (writer->state != 'T' || strlen(sender) > QUEUE_FILE_STRING_MAX) {
		errno = EINVAL;
		return -1;
	}
	return writer_record(writer, 'S', sender, strlen(sender));
}

int
queue_file_put_attribute(struct queue_file_writer *writer, const char *name, const char *value)
{
	struct dstring payload;
	int status;

	if ((writer->state != 'S' && writer->state != 'A') || !is_attribute_name(name) ||
	    strlen(value) > QUEUE_FILE_STRING_MAX) {
		errno = EINVAL;
		return -1;
	}
	dstring_init(&payload, DSTRING_NO_LIMIT);
	dstring_append_str(&payload, name);
	dstring_append_char(&payload, '\0');
	dstring_append_str(&payload, value);
	status = writer_record(writer, 'A', payload.data, payload.length);
	dstring_fini(&payload);
	return status;
}

int
queue_file_put_recipient(struct queue_file_writer *writer, const char *address,
                         const char *original, const char *orcpt, unsigned notify)
{
	struct dstring payload;
	int status;

	if (original == NULL)
		original = address;
	if (orcpt == NULL)
		orcpt = "";
	if ((writer->state != 'S' && writer->state != 'A' && writer->state != 'R') || notify > 15 ||
	    strlen(address) > QUEUE_FILE_STRING_MAX || strlen(original) > QUEUE_FILE_STRING_MAX ||
	    strlen(orcpt) > QUEUE_FILE_STRING_MAX ||
	    writer->recipient_count >= QUEUE_FILE_RECIPIENTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	dstring_init(&payload, DSTRING_NO_LIMIT);
	dstring_append_char(&payload, QUEUE_RECIPIENT_PENDING);
	dstring_append_char(&payload, "0123456789ABCDEF"[notify]);
	dstring_append_str(&payload, address);
	dstring_append_char(&payload, '\0');
	dstring_append_str(&payload, original);
	dstring_append_char(&payload, '\0');
	dstring_append_str(&payload, orcpt);
	status = writer_record(writer, 'R', payload.data, payload.length);
	dstring_fini(&payload);
	if (status == 0)
		writer->recipient_count++;
	return status;
}

int
queue_file_put_content(struct queue_file_writer *writer, const void *data, size_t length)
{
	if (writer->state != 'C') {
		if (writer->state != 'R') {
			errno = EINVAL;
			return -1;
		}
		writer->content_record = writer_position(writer);
		if (writer_record(writer, 'C', "", 0) < 0)
			return -1;
	}
	if ((int64_t)length > QUEUE_FILE_CONTENT_MAX - writer->content_size) {
		errno = EFBIG;
		return -1;
	}
	if (writer_append(writer, data, length) < 0)
		return -1;
	writer->content_size += (int64_t)length;
	return 0;
}

int64_t
queue_file_content_size(const struct queue_file_writer *writer)
{
	return writer->content_size;
}

int
queue_file_writer_finish(struct queue_file_writer *writer, int64_t header_size)
{
	unsigned char length[4];
	char end[96];
	int status = -1;

	if (writer->state != 'C' && queue_file_put_content(writer, "", 0) < 0)
		goto done;
	if (header_size < 0 || header_size > writer->content_size) {
		errno = EINVAL;
		goto done;
	}
	snprintf(end, sizeof(end), "%zu %" PRId64 " %" PRId64, writer->recipient_count,
	         writer->content_size, header_size);
	if (writer_record(writer, 'E', end, strlen(end)) < 0 || writer_flush(writer) < 0)
		goto done;
	put_u32(length, (uint32_t)writer->content_size);
	if (pwrite(writer->fd, length, 4, writer->content_record + 1) != 4) {
		if (errno == 0)
			errno = EIO;
		goto done;
	}
	status = 0;
done:
	queue_file_writer_abandon(writer);
	return status;
}

void
queue_file_writer_abandon(struct queue_file_writer *writer)
{
	if (writer == NULL)
		return;
	dstring_fini(&writer->buffer);
	free(writer);
}

/* Reader. */

struct reader {
	int fd;
	int64_t file_size;
	int64_t offset; /* of the next record */
	struct dstring *error;
};

static int read_fail(struct reader *reader, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int
read_fail(struct reader *reader, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	dstring_reset(reader->error);
	dstring_append_vprintf(reader->error, format, args);
	va_end(args);
	return -1;
}

static int
read_exact(struct reader *reader, int64_t offset, void *buffer, size_t length)
{
	size_t done = 0;

	while (done < length) {
		ssize_t n = pread(reader->fd, (char *)buffer + done, length - done,
		                  (off_t)(offset + (int64_t)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return read_fail(reader, "read at offset %" PRId64 ": %s", offset,
			                 strerror(errno));
		if (n == 0)
			return read_fail(reader, "truncated at offset %" PRId64,
			                 offset + (int64_t)done);
		done += (size_t)n;
	}
	return 0;
}

/*
 * read_record: the next record's type and length; its payload (when
 * max_length allows it) in payload. Advances past the record.
 */
static int
read_record(struct reader *reader, char *type, struct dstring *payload, size_t max_length,
            int64_t *payload_offset, uint32_t *length)
{
	unsigned char head[RECORD_HEADER];

	if (reader->offset + RECORD_HEADER > reader->file_size)
		return read_fail(reader, "truncated at offset %" PRId64 " (no end record)",
		                 reader->offset);
	if (read_exact(reader, reader->offset, head, sizeof(head)) < 0)
		return -1;
	*type = (char)head[0];
	*length = get_u32(head + 1);
	*payload_offset = reader->offset + RECORD_HEADER;
	if ((int64_t)*length > reader->file_size - *payload_offset)
		return read_fail(reader,
		                 "record %c at offset %" PRId64 ": length %" PRIu32
		                 " past the end of the file",
		                 *type > ' ' && *type < 127 ? *type : '?', reader->offset, *length);
	/* The content is never read here: only its length is checked. */
	if (payload != NULL && *type != 'C') {
		if (*length > max_length)
			return read_fail(
			    reader,
			    "record %c at offset %" PRId64 ": length %" PRIu32 " over the limit",
			    *type > ' ' && *type < 127 ? *type : '?', reader->offset, *length);
		dstring_reset(payload);
		if (dstring_append(payload, "", 0) < 0)
			return read_fail(reader, "out of room");
		/* Read in chunks so a lying length costs no allocation. */
		for (uint32_t done = 0; done < *length;) {
			char chunk[4096];
			uint32_t want = *length - done < sizeof(chunk) ? *length - done
			                                               : (uint32_t)sizeof(chunk);

			if (read_exact(reader, *payload_offset + done, chunk, want) < 0)
				return -1;
			dstring_append(payload, chunk, want);
			done += want;
		}
	}
	reader->offset = *payload_offset + *length;
	return 0;
}

static bool
parse_decimal(const char *text, size_t length, int64_t *value)
{
	int64_t result = 0;

	if (length == 0 || length > 18)
		return false;
	for (size_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		result = result * 10 + (text[i] - '0');
	}
	*value = result;
	return true;
}

static bool
has_nul(const struct dstring *payload)
{
	return memchr(payload->data, '\0', payload->length) != NULL;
}

void
queue_message_fini(struct queue_message *message)
{
	free(message->sender);
	for (size_t i = 0; i < message->attribute_count; i++) {
		free(message->attributes[i].name);
		free(message->attributes[i].value);
	}
	free(message->attributes);
	for (size_t i = 0; i < message->recipient_count; i++) {
		free(message->recipients[i].address);
		free(message->recipients[i].original);
		free(message->recipients[i].orcpt);
	}
	free(message->recipients);
	memset(message, 0, sizeof(*message));
}

static int
parse_recipient(struct reader *reader, const struct dstring *payload, int64_t offset,
                struct queue_recipient *recipient)
{
	const char *p = payload->data, *end = payload->data + payload->length;
	const char *first_nul, *second_nul;
	int notify;

	if (payload->length < 2)
		return read_fail(reader, "recipient at offset %" PRId64 ": too short", offset);
	if (p[0] != QUEUE_RECIPIENT_PENDING && p[0] != QUEUE_RECIPIENT_DONE)
		return read_fail(reader, "recipient at offset %" PRId64 ": bad status", offset);
	if (p[1] >= '0' && p[1] <= '9')
		notify = p[1] - '0';
	else if (p[1] >= 'A' && p[1] <= 'F')
		notify = p[1] - 'A' + 10;
	else
		return read_fail(reader, "recipient at offset %" PRId64 ": bad notify", offset);
	first_nul = memchr(p + 2, '\0', (size_t)(end - (p + 2)));
	second_nul =
	    first_nul ? memchr(first_nul + 1, '\0', (size_t)(end - (first_nul + 1))) : NULL;
	if (second_nul == NULL || memchr(second_nul + 1, '\0', (size_t)(end - (second_nul + 1))))
		return read_fail(reader, "recipient at offset %" PRId64 ": malformed", offset);
	recipient->status = p[0];
	recipient->notify = (unsigned)notify;
	recipient->status_offset = offset;
	recipient->address = xstrndup(p + 2, (size_t)(first_nul - (p + 2)));
	recipient->original = xstrndup(first_nul + 1, (size_t)(second_nul - (first_nul + 1)));
	recipient->orcpt = xstrndup(second_nul + 1, (size_t)(end - (second_nul + 1)));
	return 0;
}

int
queue_file_read(int fd, struct queue_message *message, struct dstring *error)
{
	struct reader reader = {.fd = fd, .error = error};
	struct dstring payload;
	struct stat st;
	char type;
	int64_t payload_offset, value;
	uint32_t length;
	size_t recipients_capacity = 0;
	int status = -1;

	memset(message, 0, sizeof(*message));
	dstring_init(&payload, QUEUE_FILE_STRING_MAX * 3 + 16);
	if (fstat(fd, &st) < 0) {
		read_fail(&reader, "fstat: %s", strerror(errno));
		goto done;
	}
	reader.file_size = st.st_size;

	if (read_record(&reader, &type, &payload, 64, &payload_offset, &length) < 0)
		goto done;
	if (type != 'V' || strcmp(payload.data, QUEUE_FILE_MAGIC) != 0 ||
	    payload.length != strlen(QUEUE_FILE_MAGIC)) {
		read_fail(&reader, "not a queue file (bad version record)");
		goto done;
	}
	if (read_record(&reader, &type, &payload, QUEUE_ID_MAX, &payload_offset, &length) < 0)
		goto done;
	if (type != 'I' || has_nul(&payload) || !queue_id_is_valid(payload.data)) {
		read_fail(&reader, "bad queue ID record");
		goto done;
	}
	memcpy(message->queue_id, payload.data, payload.length + 1);
	if (read_record(&reader, &type, &payload, 20, &payload_offset, &length) < 0)
		goto done;
	if (type != 'T' || !parse_decimal(payload.data, payload.length, &value)) {
		read_fail(&reader, "bad arrival time record");
		goto done;
	}
	message->arrival_microseconds = value;
	if (read_record(&reader, &type, &payload, QUEUE_FILE_STRING_MAX, &payload_offset, &length) <
	    0)
		goto done;
	if (type != 'S' || has_nul(&payload)) {
		read_fail(&reader, "bad sender record");
		goto done;
	}
	message->sender = xstrndup(payload.data, payload.length);

	for (;;) {
		if (read_record(&reader, &type, &payload, QUEUE_FILE_STRING_MAX * 3 + 2,
		                &payload_offset, &length) < 0)
			goto done;
		if (type == 'A') {
			const char *nul = memchr(payload.data, '\0', payload.length);
			size_t name_length = nul ? (size_t)(nul - payload.data) : 0;
			struct queue_attribute *attribute;

			if (message->recipient_count > 0 || nul == NULL ||
			    !is_attribute_name(payload.data) ||
			    payload.length - name_length - 1 > QUEUE_FILE_STRING_MAX ||
			    memchr(nul + 1, '\0', payload.length - name_length - 1) != NULL) {
				read_fail(&reader, "attribute at offset %" PRId64 ": malformed",
				          payload_offset - RECORD_HEADER);
				goto done;
			}
			if (message->attribute_count >= QUEUE_FILE_ATTRIBUTES_MAX) {
				read_fail(&reader, "too many attributes");
				goto done;
			}
			message->attributes =
			    xreallocarray(message->attributes, message->attribute_count + 1,
			                  sizeof(*message->attributes));
			attribute = &message->attributes[message->attribute_count++];
			attribute->name = xstrndup(payload.data, name_length);
			attribute->value = xstrndup(nul + 1, payload.length - name_length - 1);
		} else if (type == 'R') {
			if (message->recipient_count >= QUEUE_FILE_RECIPIENTS_MAX) {
				read_fail(&reader, "too many recipients");
				goto done;
			}
			if (message->recipient_count == recipients_capacity) {
				recipients_capacity =
				    recipients_capacity ? 2 * recipients_capacity : 8;
				message->recipients =
				    xreallocarray(message->recipients, recipients_capacity,
				                  sizeof(*message->recipients));
			}
			if (parse_recipient(&reader, &payload, payload_offset,
			                    &message->recipients[message->recipient_count]) < 0)
				goto done;
			message->recipient_count++;
		} else {
			break;
		}
	}
	if (type != 'C' || message->recipient_count == 0) {
		read_fail(&reader, message->recipient_count == 0 ? "no recipients"
		                                                 : "missing content record");
		goto done;
	}
	message->content_offset = payload_offset;
	message->content_size = length;
	if (read_record(&reader, &type, &payload, 64, &payload_offset, &length) < 0)
		goto done;
	{
		int64_t numbers[3];
		const char *p = payload.data, *end = payload.data + payload.length;

		if (type != 'E') {
			read_fail(&reader, "missing end record");
			goto done;
		}
		for (int i = 0; i < 3; i++) {
			const char *stop = memchr(p, ' ', (size_t)(end - p));

			if (i == 2)
				stop = stop ? NULL : end;
			if (stop == NULL || !parse_decimal(p, (size_t)(stop - p), &numbers[i])) {
				read_fail(&reader, "malformed end record");
				goto done;
			}
			p = stop + 1;
		}
		if (numbers[0] != (int64_t)message->recipient_count ||
		    numbers[1] != message->content_size || numbers[2] > numbers[1]) {
			read_fail(&reader, "end record does not match the file");
			goto done;
		}
		message->header_size = numbers[2];
	}
	if (reader.offset != reader.file_size) {
		read_fail(&reader, "bytes after the end record");
		goto done;
	}
	status = 0;
done:
	dstring_fini(&payload);
	if (status < 0)
		queue_message_fini(message);
	return status;
}

const char *
queue_message_attribute(const struct queue_message *message, const char *name)
{
	for (size_t i = 0; i < message->attribute_count; i++)
		if (strcmp(message->attributes[i].name, name) == 0)
			return message->attributes[i].value;
	return NULL;
}

int
queue_file_mark_done(int fd, const struct queue_recipient *recipient, char status)
{
	ssize_t n;

	if (status != QUEUE_RECIPIENT_DONE && status != QUEUE_RECIPIENT_PENDING) {
		errno = EINVAL;
		return -1;
	}
	do
		n = pwrite(fd, &status, 1, (off_t)recipient->status_offset);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
