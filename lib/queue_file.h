/*
 * queue_file - the queue file format: writer, reader, and marking a
 * recipient done in place (docs/queue.md has the byte layout).
 *
 * A queue file is a sequence of records, each a type byte, a 4-byte
 * big-endian payload length and the payload, in this order:
 *
 *   V "hikyaku-queue-1"            format and version
 *   I queue ID
 *   T arrival time, decimal microseconds
 *   S sender ("" for the null sender)
 *   A "name" NUL "value"           zero or more envelope attributes
 *   R status notify address NUL original NUL orcpt    one or more
 *   C the message content (header, empty line, body; LF line ends)
 *   E "recipients content_size header_size" in decimal   the end marker
 *
 * The writer writes everything but the C length first and fills it in,
 * then appends E; the reader accepts a file only when E is present, is
 * the last record, ends exactly at the end of the file, and its counts
 * match. A file cut anywhere is therefore recognisably incomplete.
 *
 * Each R record begins with a one-byte status, '-' (not yet done) or 'D'
 * (done: delivered, or bounced and the bounce logged): queue_file_mark_done
 * rewrites that one byte with pwrite(2), so the file is never rewritten.
 *
 * The reader trusts nothing: every record is checked against the limits
 * below and the file size before it is used (fuzzed: fuzz_queue_file).
 */
#ifndef HIKYAKU_QUEUE_FILE_H
#define HIKYAKU_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_id.h"

struct dstring;

#define QUEUE_FILE_MAGIC "hikyaku-queue-1"
/* Longest envelope string: sender, address, attribute value. */
#define QUEUE_FILE_STRING_MAX 65536
#define QUEUE_FILE_ATTRIBUTES_MAX 64
#define QUEUE_FILE_RECIPIENTS_MAX 1000000
/* The content is at most 4 GiB - 1 (a 32-bit length). */
#define QUEUE_FILE_CONTENT_MAX 0xffffffffLL

#define QUEUE_RECIPIENT_PENDING '-'
#define QUEUE_RECIPIENT_DONE 'D'

/* Well-known attribute names (struct cleanup_envelope has their meaning). */
#define QUEUE_ATTR_ENVID "envid"
#define QUEUE_ATTR_RET "ret"
#define QUEUE_ATTR_FULL_NAME "full_name"
#define QUEUE_ATTR_UID "uid"
#define QUEUE_ATTR_PROTOCOL "protocol"
#define QUEUE_ATTR_HELO "helo"
#define QUEUE_ATTR_CLIENT_NAME "client_name"
#define QUEUE_ATTR_CLIENT_ADDRESS "client_address"
#define QUEUE_ATTR_SASL_METHOD "sasl_method"
#define QUEUE_ATTR_SASL_USERNAME "sasl_username"
/* The declared body type, "7BIT" or "8BITMIME" (MAIL FROM BODY=, sendmail -B). */
#define QUEUE_ATTR_BODY "body"
/* "yes" when the client asked for SMTPUTF8 (RFC 6531) in MAIL FROM. */
#define QUEUE_ATTR_SMTPUTF8 "smtputf8"

struct queue_file_writer;

/*
 * queue_file_writer_open: start writing a queue file on fd (empty, at
 * offset 0). Writes V, I and T. Returns NULL with errno on a write error.
 */
struct queue_file_writer *queue_file_writer_open(int fd, const char *queue_id,
                                                 int64_t arrival_microseconds);
/*
 * Envelope records, in format order: sender once, then attributes, then
 * recipients. Strings must not hold NUL (callers ensure it). Each returns
 * 0 or -1 with errno (EIO-style write errors, EINVAL for a bad value).
 */
int queue_file_put_sender(struct queue_file_writer *writer, const char *sender);
int queue_file_put_attribute(struct queue_file_writer *writer, const char *name, const char *value);
int queue_file_put_recipient(struct queue_file_writer *writer, const char *address,
                             const char *original, const char *orcpt, unsigned notify);
/* queue_file_put_content: append content bytes (starts C on first call). */
int queue_file_put_content(struct queue_file_writer *writer, const void *data, size_t length);
/* queue_file_content_size: content bytes written so far. */
int64_t queue_file_content_size(const struct queue_file_writer *writer);
/*
 * queue_file_writer_finish: fill in the C length, append E (header_size
 * is the number of content bytes up to and including the empty line
 * after the header), write out the buffer. Does not fsync. Returns 0 or
 * -1 with errno; frees the writer either way (fd stays open).
 */
int queue_file_writer_finish(struct queue_file_writer *writer, int64_t header_size);
/* queue_file_writer_abandon: free the writer, write nothing more. */
void queue_file_writer_abandon(struct queue_file_writer *writer);

struct queue_attribute {
	char *name;
	char *value;
};

struct queue_recipient {
	char *address;
	char *original;
	char *orcpt;
	unsigned notify; /* enum cleanup_notify bits */
	char status;     /* QUEUE_RECIPIENT_PENDING or _DONE */
	int64_t status_offset;
};

struct queue_message {
	char queue_id[QUEUE_ID_SIZE];
	int64_t arrival_microseconds;
	char *sender;
	struct queue_attribute *attributes;
	size_t attribute_count;
	struct queue_recipient *recipients;
	size_t recipient_count;
	int64_t content_offset; /* where the content starts in the file */
	int64_t content_size;
	int64_t header_size; /* content bytes of the header and empty line */
};

/*
 * queue_file_read: read and check the whole envelope of the queue file
 * on fd (the content is checked for size only, not read). Returns 0, or
 * -1 with a reason in error ("truncated", "record R at offset 812: bad
 * status") and message emptied. Free with queue_message_fini.
 */
int queue_file_read(int fd, struct queue_message *message, struct dstring *error);
void queue_message_fini(struct queue_message *message);

/* queue_message_attribute: the value of attribute name, or NULL. */
const char *queue_message_attribute(const struct queue_message *message, const char *name);

/*
 * queue_file_mark_done: set the status byte of recipient (read from this
 * file) to status in place. The caller makes it durable (fsync or a
 * durable flush). Returns 0 or -1 with errno.
 */
int queue_file_mark_done(int fd, const struct queue_recipient *recipient, char status);

#endif
