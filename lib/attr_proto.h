/*
 * attr_proto - the one IPC codec: messages of typed, named attributes
 * (Postfix attr_print/attr_scan with ATTR_FLAG_STRICT; OpenSMTPD's
 * m_add_* / m_get_* ... m_end). Never raw C structs.
 *
 * Wire format (docs/protocol.md):
 *
 *   frame     = length:4 (big-endian, payload bytes) payload
 *   payload   = attribute*        (at most ATTR_COUNT_MAX)
 *   attribute = type:1 name_length:1 name value_length:4 value
 *   type      = 's' string: value ends in one NUL, holds no other NUL
 *             | 'i' integer: value is 8 bytes, big-endian two's complement
 *             | 'd' data: any bytes
 *   name      = 1..ATTR_NAME_MAX bytes of [a-z0-9_]
 *
 * A frame is at most ATTR_FRAME_MAX bytes, a string or data value at most
 * ATTR_VALUE_MAX.
 *
 * The reader is strict: the caller asks for each attribute by type and
 * name, in order, and ends with attr_reader_end(); a missing, misnamed,
 * mistyped, malformed or trailing attribute is an error. The first error
 * sticks: later calls fail too and give harmless values ("" / 0), so a
 * caller may read a whole message and check once, at attr_reader_end().
 *
 * What it trusts: nothing in a frame. Every length is checked against the
 * frame and the limits before it is used.
 */
#ifndef HIKYAKU_ATTR_PROTO_H
#define HIKYAKU_ATTR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dstring.h"

struct stream;

#define ATTR_NAME_MAX 64
#define ATTR_VALUE_MAX (256 * 1024)
#define ATTR_COUNT_MAX 64
#define ATTR_FRAME_MAX (ATTR_VALUE_MAX + 64 * 1024)
/* Bytes of the length prefix before each payload. */
#define ATTR_FRAME_HEADER 4

/* Building a frame. */
struct attr_writer {
	struct dstring frame; /* length prefix + payload */
	unsigned count;
};

void attr_writer_init(struct attr_writer *writer);
void attr_writer_fini(struct attr_writer *writer);
/* attr_writer_reset: start a new, empty frame. */
void attr_writer_reset(struct attr_writer *writer);

/*
 * Adding attributes. A name outside the grammar, a value over the
 * limits, a string with a NUL or too many attributes is a bug in the
 * caller and panics: the writer's input is ours, not the peer's.
 */
void attr_put_string(struct attr_writer *writer, const char *name, const char *value);
void attr_put_int(struct attr_writer *writer, const char *name, int64_t value);
void attr_put_data(struct attr_writer *writer, const char *name, const void *data, size_t length);

/*
 * attr_writer_frame: the finished frame (length prefix filled in), ready
 * to send; *length gets its size. The writer keeps it until reset.
 */
const void *attr_writer_frame(struct attr_writer *writer, size_t *length);

/* attr_send: write the frame to stream (buffered; flush separately). */
int attr_send(struct stream *stream, struct attr_writer *writer);

/* Reading a frame. */
struct attr_reader {
	const unsigned char *payload;
	size_t length;
	size_t offset;
	unsigned count;
	bool has_failed;
	char error[160];
};

/* attr_reader_init: read the payload (without the length prefix). */
void attr_reader_init(struct attr_reader *reader, const void *payload, size_t length);

/*
 * attr_get_string: the next attribute must be string name; *value points
 * into the payload (NUL-terminated) and stays valid while it does.
 */
int attr_get_string(struct attr_reader *reader, const char *name, const char **value);
int attr_get_int(struct attr_reader *reader, const char *name, int64_t *value);
int attr_get_data(struct attr_reader *reader, const char *name, const void **data, size_t *length);

/*
 * attr_peek_name: the name of the next attribute without consuming it,
 * copied into name (ATTR_NAME_MAX + 1 bytes); -1 at the end or on error.
 */
int attr_peek_name(struct attr_reader *reader, char *name);

/* attr_reader_end: 0 when every attribute was read and nothing failed. */
int attr_reader_end(struct attr_reader *reader);

/* attr_reader_error: why the reader failed ("" when it did not). */
const char *attr_reader_error(const struct attr_reader *reader);

enum attr_frame_status {
	ATTR_FRAME_COMPLETE,   /* a whole frame is in the buffer */
	ATTR_FRAME_INCOMPLETE, /* more bytes needed */
	ATTR_FRAME_INVALID,    /* the length prefix is over ATTR_FRAME_MAX */
};

/*
 * attr_frame_check: for incremental (event loop) readers: does buffer
 * (length bytes) start with a complete frame? On COMPLETE, *frame_length
 * is the bytes the whole frame takes (prefix included); the payload
 * starts ATTR_FRAME_HEADER bytes in.
 */
enum attr_frame_status attr_frame_check(const void *buffer, size_t length, size_t *frame_length);

/*
 * attr_receive: blocking read of one frame from stream into payload
 * (reset first; its limit must allow ATTR_FRAME_MAX). Returns 0, or -1
 * with a reason in error: end of input, timeout, I/O error, a bad length.
 */
int attr_receive(struct stream *stream, struct dstring *payload, struct dstring *error);

#endif
