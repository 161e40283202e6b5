/*
 * maildrop_file - the format of a local submission: what `sendmail` hands
 * to `postdrop` on a pipe, and what `postdrop` leaves in maildrop/ for
 * `pickup`. docs/maildrop.md is the full description; in short:
 *
 *   file   = magic *record
 *   magic  = "hikyaku-maildrop 1" LF
 *   record = NAME SP LENGTH LF DATA LF     ; DATA is exactly LENGTH bytes
 *
 * Records come in a fixed order: uid, time (both written by postdrop
 * only), sender, full-name, flags, envid, ret, notify, recipient...,
 * data..., end. sender and end are required; the others at most once,
 * except recipient and data, which repeat. The end record holds the total
 * number of data bytes, so a file cut short anywhere is recognisably
 * incomplete, and nothing may follow it.
 *
 * What it trusts: nothing. The reader accepts exactly this grammar with
 * explicit limits on every size and count, and names the first problem;
 * it is what postdrop runs on a user's input and pickup on a file a user
 * may have tampered with. The writer refuses values the reader would
 * refuse, so a file we write always reads back.
 */
#ifndef HIKYAKU_MAILDROP_FILE_H
#define HIKYAKU_MAILDROP_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "dstring.h"

struct stream;

#define MAILDROP_MAGIC "hikyaku-maildrop 1\n"
/* The longest envelope value (an address, a full name, an ENVID). */
#define MAILDROP_VALUE_MAX 2048
/* The largest data record; writers cut the content into such chunks. */
#define MAILDROP_CHUNK_MAX 65536
/* The most recipients one submission may name. */
#define MAILDROP_RECIPIENTS_MAX 100000
/* The longest DSN ENVID (RFC 3461, section 4.4). */
#define MAILDROP_ENVID_MAX 100

/* Record types, in the order they must appear. */
enum maildrop_record_type {
	MAILDROP_UID,       /* decimal uid of the submitting user */
	MAILDROP_TIME,      /* decimal seconds since the epoch */
	MAILDROP_SENDER,    /* envelope sender; empty for the null sender <> */
	MAILDROP_FULL_NAME, /* the sender's full name, for a missing From: */
	MAILDROP_FLAGS,     /* space-separated words, see MAILDROP_FLAG_* */
	MAILDROP_ENVID,     /* DSN ENVID (sendmail -V) */
	MAILDROP_RET,       /* DSN RET: FULL or HDRS (sendmail -R) */
	MAILDROP_NOTIFY,    /* DSN NOTIFY for all recipients (sendmail -N) */
	MAILDROP_RECIPIENT, /* one envelope recipient */
	MAILDROP_DATA,      /* 1 .. MAILDROP_CHUNK_MAX bytes of content */
	MAILDROP_END,       /* decimal total of data bytes; the last record */
	MAILDROP_RECORD_TYPES
};

/*
 * Names in $queue_directory/maildrop: postdrop writes "tmp.PID.RANDOM",
 * then renames it to a queue ID (lib/queue_id.h: the arrival time and the
 * file's inode). pickup takes files named by valid queue IDs only.
 */
#define MAILDROP_TEMPORARY_PREFIX "tmp."

/* The flags word for sendmail -t: recipients come from To/Cc/Bcc. */
#define MAILDROP_FLAG_EXTRACT "extract-recipients"
/* The flags words for sendmail -B 8BITMIME and -B 7BIT: the body type. */
#define MAILDROP_FLAG_BODY_8BITMIME "body-8bitmime"
#define MAILDROP_FLAG_BODY_7BIT "body-7bit"

/*
 * Which records a stream holds: a submission (sendmail to postdrop) has no
 * uid and time, which only postdrop may write; a maildrop file (postdrop
 * to pickup) must start with them.
 */
enum maildrop_kind {
	MAILDROP_SUBMISSION,
	MAILDROP_QUEUED,
};

enum maildrop_status {
	MAILDROP_OK,      /* a record was read */
	MAILDROP_DONE,    /* the end record was read and the input ended after it */
	MAILDROP_INVALID, /* the input breaks the format; see maildrop_reader_error */
	MAILDROP_TOO_BIG, /* the content passed the size limit */
	MAILDROP_IO,      /* the stream failed or timed out (errno says why) */
};

struct maildrop_record {
	enum maildrop_record_type type;
	const char *data; /* NUL-terminated; data records may hold NUL too */
	size_t length;
};

struct maildrop_reader {
	struct stream *stream;
	enum maildrop_kind kind;
	long long size_limit; /* content bytes; 0: no limit */
	bool has_magic;       /* the magic line was read */
	bool has_ended;       /* the end record was read */
	int last_type;        /* the type of the last record, -1 before any */
	size_t recipients;
	long long data_size;
	struct dstring value; /* the current record's data */
	struct dstring error; /* the first problem, for log lines */
};

/*
 * maildrop_reader_init: read records of the given kind from stream (the
 * caller keeps owning it). size_limit bounds the content (0: none).
 */
void maildrop_reader_init(struct maildrop_reader *reader, struct stream *stream,
                          enum maildrop_kind kind, long long size_limit);
void maildrop_reader_fini(struct maildrop_reader *reader);

/*
 * maildrop_read: the next record into *record (valid until the next call).
 * MAILDROP_DONE comes once, after the end record, when the input has
 * ended; every other status than MAILDROP_OK means the input is not a
 * complete, valid submission and must not be used.
 */
enum maildrop_status maildrop_read(struct maildrop_reader *reader, struct maildrop_record *record);

/* maildrop_reader_error: what was wrong (empty after MAILDROP_OK/DONE). */
const char *maildrop_reader_error(const struct maildrop_reader *reader);

/* maildrop_record_name: the on-disk name of a record type ("recipient"). */
const char *maildrop_record_name(enum maildrop_record_type type);

/*
 * maildrop_value_check: whether data may be the value of an envelope
 * record of this type (not data or end). Returns NULL when it may, or a
 * short reason ("contains a newline").
 */
const char *maildrop_value_check(enum maildrop_record_type type, const char *data, size_t length);

/*
 * The writer: envelope records, then content in any pieces (cut into data
 * records of MAILDROP_CHUNK_MAX bytes), then the end record. Each returns
 * 0, or -1 when a value is refused (maildrop_value_check) or the stream
 * failed; the stream's own error says which.
 */
struct maildrop_writer {
	struct stream *stream;
	struct dstring chunk; /* content not yet written as a record */
	long long data_size;
};

void maildrop_writer_init(struct maildrop_writer *writer, struct stream *stream);
void maildrop_writer_fini(struct maildrop_writer *writer);
int maildrop_write_magic(struct maildrop_writer *writer);
int maildrop_write_value(struct maildrop_writer *writer, enum maildrop_record_type type,
                         const char *data, size_t length);
int maildrop_write_number(struct maildrop_writer *writer, enum maildrop_record_type type,
                          long long number);
int maildrop_write_content(struct maildrop_writer *writer, const void *data, size_t length);
/* maildrop_write_end: the last data record and the end record (not flushed). */
int maildrop_write_end(struct maildrop_writer *writer);

#endif
