/*
 * recipient_log - the per-message defer/ and bounce/ logs (see the header).
 *
 * Record syntax, one per line:
 *
 *   record = field *( TAB field ) LF
 *   field  = name "=" value            name one of the known names below
 *   value  = *( printable-but-not-% / "%" HEX HEX )
 *
 * Every byte below 0x21 except space, '%', TAB, DEL and 8-bit bytes are
 * written as %XX; the reader decodes exactly that and refuses the rest of
 * the record when a field is unknown, repeated, too long, or badly
 * escaped. A record needs address and action; the other fields default
 * to "" or 0.
 */
#include "recipient_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dstring.h"
#include "queue_dir.h"
#include "queue_id.h"
#include "xalloc.h"

enum field {
	FIELD_INDEX,
	FIELD_ADDRESS,
	FIELD_ORIGINAL,
	FIELD_ORCPT,
	FIELD_NOTIFY,
	FIELD_ACTION,
	FIELD_DSN,
	FIELD_RELAY,
	FIELD_DIAGNOSTIC,
	FIELD_REMOTE_MTA,
	FIELD_TIME,
	FIELD_REASON,
	FIELD_COUNT,
};

static const char *const field_names[FIELD_COUNT] = {
    "index", "address", "original",   "orcpt",      "notify", "action",
    "dsn",   "relay",   "diagnostic", "remote_mta", "time",   "reason",
};

static const char *
kind_directory(enum recipient_log_kind kind)
{
	return kind == RECIPIENT_LOG_BOUNCE ? QUEUE_BOUNCE_LOGS : QUEUE_DEFER_LOGS;
}

void
recipient_log_path(struct dstring *out, const char *queue_directory, enum recipient_log_kind kind,
                   const char *queue_id)
{
	queue_dir_path(out, queue_directory, kind_directory(kind), queue_id);
}

static bool
needs_escape(unsigned char byte)
{
	return byte < 0x20 || byte == '%' || byte >= 0x7f;
}

static void
append_value(struct dstring *out, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (value == NULL)
		return;
	for (p = (const unsigned char *)value; *p != 0; p++) {
		if (needs_escape(*p)) {
			dstring_append_char(out, '%');
			dstring_append_char(out, hex[*p >> 4]);
			dstring_append_char(out, hex[*p & 15]);
		} else {
			dstring_append_char(out, (char)*p);
		}
	}
}

static void
append_field(struct dstring *out, enum field field, const char *value, bool is_first)
{
	if (!is_first)
		dstring_append_char(out, '\t');
	dstring_append_str(out, field_names[field]);
	dstring_append_char(out, '=');
	append_value(out, value);
}

static void
format_entry(struct dstring *out, const struct recipient_log_entry *entry)
{
	char number[32];

	snprintf(number, sizeof(number), "%" PRIu32, entry->queue_index);
	append_field(out, FIELD_INDEX, number, true);
	append_field(out, FIELD_ADDRESS, entry->address, false);
	append_field(out, FIELD_ORIGINAL, entry->original, false);
	append_field(out, FIELD_ORCPT, entry->orcpt, false);
	snprintf(number, sizeof(number), "%u", entry->notify & 15);
	append_field(out, FIELD_NOTIFY, number, false);
	append_field(out, FIELD_ACTION, entry->action, false);
	append_field(out, FIELD_DSN, entry->dsn, false);
	append_field(out, FIELD_RELAY, entry->relay, false);
	append_field(out, FIELD_DIAGNOSTIC, entry->diagnostic, false);
	append_field(out, FIELD_REMOTE_MTA, entry->remote_mta, false);
	snprintf(number, sizeof(number), "%" PRId64, entry->time);
	append_field(out, FIELD_TIME, number, false);
	append_field(out, FIELD_REASON, entry->reason, false);
	dstring_append_char(out, '\n');
}

int
recipient_log_append(const char *queue_directory, enum recipient_log_kind kind,
                     const char *queue_id, const struct recipient_log_entry *entries, size_t count,
                     bool is_durable, struct dstring *error)
{
	struct dstring path, text;
	size_t i, done;
	int fd, result = -1;

	if (!queue_id_is_valid(queue_id)) {
		dstring_printf(error, "bad queue ID \"%s\"", queue_id);
		return -1;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&text, DSTRING_NO_LIMIT);
	recipient_log_path(&path, queue_directory, kind, queue_id);
	for (i = 0; i < count; i++)
		format_entry(&text, &entries[i]);
	fd = open(dstring_str(&path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		dstring_printf(error, "open %s: %s", dstring_str(&path), strerror(errno));
		goto out;
	}
	/* One write: O_APPEND keeps concurrent batches whole. */
	for (done = 0; done < dstring_length(&text);) {
		ssize_t n = write(fd, dstring_str(&text) + done, dstring_length(&text) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			dstring_printf(error, "write %s: %s", dstring_str(&path),
			               n < 0 ? strerror(errno) : "short write");
			close(fd);
			goto out;
		}
		done += (size_t)n;
	}
	if (is_durable && fsync(fd) < 0) {
		dstring_printf(error, "fsync %s: %s", dstring_str(&path), strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		dstring_printf(error, "close %s: %s", dstring_str(&path), strerror(errno));
		goto out;
	}
	result = 0;
out:
	dstring_fini(&path);
	dstring_fini(&text);
	return result;
}

int
recipient_log_remove(const char *queue_directory, enum recipient_log_kind kind,
                     const char *queue_id, struct dstring *error)
{
	struct dstring path;
	int result = 0;

	if (!queue_id_is_valid(queue_id)) {
		dstring_printf(error, "bad queue ID \"%s\"", queue_id);
		return -1;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	recipient_log_path(&path, queue_directory, kind, queue_id);
	if (unlink(dstring_str(&path)) < 0 && errno != ENOENT) {
		dstring_printf(error, "remove %s: %s", dstring_str(&path), strerror(errno));
		result = -1;
	}
	dstring_fini(&path);
	return result;
}

/*
 * Parsing. Decoded values of all records are kept in one growing buffer
 * (offsets while parsing, turned into pointers at the end, because the
 * buffer moves as it grows).
 */
struct parsed {
	uint32_t queue_index;
	unsigned notify;
	int64_t time;
	size_t offsets[FIELD_COUNT]; /* into the storage; SIZE_MAX = absent */
};

static int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* decode: value bytes to storage with a NUL; -1 when malformed or too long. */
static int
decode(const char *value, size_t length, struct dstring *storage)
{
	size_t i;

	if (length > RECIPIENT_LOG_VALUE_MAX * 3)
		return -1;
	for (i = 0; i < length; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == '%') {
			int high, low;
			if (length - i < 3)
				return -1;
			high = hex_digit((unsigned char)value[i + 1]);
			low = hex_digit((unsigned char)value[i + 2]);
			if (high < 0 || low < 0 || (high == 0 && low == 0))
				return -1;
			c = (unsigned char)(high * 16 + low);
			i += 2;
		} else if (needs_escape(c)) {
			return -1;
		}
		dstring_append_char(storage, (char)c);
	}
	return dstring_append_char(storage, '\0');
}

/* parse_number: a decimal number of at most max; -1 when not. */
static int
parse_number(const char *text, int64_t max, int64_t *out)
{
	int64_t value = 0;

	if (*text == 0 || strlen(text) > 19)
		return -1;
	for (; *text != 0; text++) {
		if (*text < '0' || *text > '9')
			return -1;
		if (value > (max - (*text - '0')) / 10)
			return -1;
		value = value * 10 + (*text - '0');
	}
	*out = value;
	return 0;
}

static int
parse_record(const char *line, size_t length, struct dstring *storage, struct parsed *record)
{
	size_t start = 0, i;
	int64_t number;

	for (i = 0; i < FIELD_COUNT; i++)
		record->offsets[i] = SIZE_MAX;
	record->queue_index = UINT32_MAX;
	record->notify = 0;
	record->time = 0;
	while (start <= length) {
		const char *field = line + start, *tab, *equals;
		size_t field_length, name_length;
		int f;

		tab = memchr(field, '\t', length - start);
		field_length = tab != NULL ? (size_t)(tab - field) : length - start;
		equals = memchr(field, '=', field_length);
		if (equals == NULL)
			return -1;
		name_length = (size_t)(equals - field);
		for (f = 0; f < FIELD_COUNT; f++)
			if (strlen(field_names[f]) == name_length &&
			    memcmp(field_names[f], field, name_length) == 0)
				break;
		if (f == FIELD_COUNT || record->offsets[f] != SIZE_MAX)
			return -1;
		record->offsets[f] = dstring_length(storage);
		if (decode(equals + 1, field_length - name_length - 1, storage) < 0)
			return -1;
		if (dstring_length(storage) - record->offsets[f] - 1 > RECIPIENT_LOG_VALUE_MAX)
			return -1;
		start += field_length + 1;
		if (tab == NULL)
			break;
	}
	if (record->offsets[FIELD_ADDRESS] == SIZE_MAX || record->offsets[FIELD_ACTION] == SIZE_MAX)
		return -1;
	if (record->offsets[FIELD_INDEX] != SIZE_MAX) {
		if (parse_number(dstring_str(storage) + record->offsets[FIELD_INDEX],
		                 UINT32_MAX - 1, &number) < 0)
			return -1;
		record->queue_index = (uint32_t)number;
	}
	if (record->offsets[FIELD_NOTIFY] != SIZE_MAX) {
		if (parse_number(dstring_str(storage) + record->offsets[FIELD_NOTIFY], 15,
		                 &number) < 0)
			return -1;
		record->notify = (unsigned)number;
	}
	if (record->offsets[FIELD_TIME] != SIZE_MAX) {
		if (parse_number(dstring_str(storage) + record->offsets[FIELD_TIME], INT64_MAX,
		                 &number) < 0)
			return -1;
		record->time = number;
	}
	return 0;
}

static const char *
field_value(const char *base, const struct parsed *record, enum field field)
{
	/* Offset 0 of the storage always holds an empty string (see parse). */
	return base + (record->offsets[field] == SIZE_MAX ? 0 : record->offsets[field]);
}

void
recipient_log_parse(const char *data, size_t length, struct recipient_log *log)
{
	struct dstring storage;
	struct parsed *records = NULL;
	size_t record_count = 0, record_capacity = 0, position = 0, i;

	recipient_log_fini(log);
	dstring_init(&storage, DSTRING_NO_LIMIT);
	dstring_append_char(&storage, '\0');
	while (position < length) {
		const char *line = data + position;
		const char *newline = memchr(line, '\n', length - position);
		size_t line_length, mark = dstring_length(&storage);

		if (newline == NULL) {
			/* A record cut short by a crashed writer. */
			log->skipped++;
			break;
		}
		line_length = (size_t)(newline - line);
		position += line_length + 1;
		if (line_length == 0)
			continue;
		if (line_length > RECIPIENT_LOG_LINE_MAX ||
		    record_count >= RECIPIENT_LOG_RECORDS_MAX) {
			log->skipped++;
			continue;
		}
		if (record_count == record_capacity) {
			record_capacity = record_capacity ? record_capacity * 2 : 8;
			records = xreallocarray(records, record_capacity, sizeof(*records));
		}
		if (parse_record(line, line_length, &storage, &records[record_count]) < 0) {
			dstring_truncate(&storage, mark);
			log->skipped++;
			continue;
		}
		record_count++;
	}
	log->storage = dstring_steal(&storage);
	log->entries = xcalloc(record_count ? record_count : 1, sizeof(*log->entries));
	log->count = record_count;
	log->capacity = record_count;
	for (i = 0; i < record_count; i++) {
		struct recipient_log_entry *entry = &log->entries[i];
		const struct parsed *record = &records[i];

		entry->queue_index = record->queue_index;
		entry->notify = record->notify;
		entry->time = record->time;
		entry->address = field_value(log->storage, record, FIELD_ADDRESS);
		entry->original = field_value(log->storage, record, FIELD_ORIGINAL);
		entry->orcpt = field_value(log->storage, record, FIELD_ORCPT);
		entry->action = field_value(log->storage, record, FIELD_ACTION);
		entry->dsn = field_value(log->storage, record, FIELD_DSN);
		entry->reason = field_value(log->storage, record, FIELD_REASON);
		entry->relay = field_value(log->storage, record, FIELD_RELAY);
		entry->diagnostic = field_value(log->storage, record, FIELD_DIAGNOSTIC);
		entry->remote_mta = field_value(log->storage, record, FIELD_REMOTE_MTA);
	}
	free(records);
	dstring_fini(&storage);
}

int
recipient_log_read(const char *queue_directory, enum recipient_log_kind kind, const char *queue_id,
                   struct recipient_log *log, struct dstring *error)
{
	struct dstring path, data;
	char buffer[65536];
	int fd, result = -1;

	recipient_log_fini(log);
	if (!queue_id_is_valid(queue_id)) {
		dstring_printf(error, "bad queue ID \"%s\"", queue_id);
		return -1;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	/* A bound on what one log may hold: far above any real log. */
	dstring_init(&data, (size_t)1 << 30);
	recipient_log_path(&path, queue_directory, kind, queue_id);
	fd = open(dstring_str(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			recipient_log_parse("", 0, log);
			result = 0;
		} else {
			dstring_printf(error, "open %s: %s", dstring_str(&path), strerror(errno));
		}
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dstring_printf(error, "read %s: %s", dstring_str(&path), strerror(errno));
			close(fd);
			goto out;
		}
		if (n == 0)
			break;
		if (dstring_append(&data, buffer, (size_t)n) < 0) {
			dstring_printf(error, "read %s: file too large", dstring_str(&path));
			close(fd);
			goto out;
		}
	}
	close(fd);
	recipient_log_parse(dstring_str(&data), dstring_length(&data), log);
	result = 0;
out:
	dstring_fini(&path);
	dstring_fini(&data);
	return result;
}

const struct recipient_log_entry *
recipient_log_find(const struct recipient_log *log, uint32_t queue_index, const char *address)
{
	size_t i;

	for (i = log->count; i > 0; i--) {
		const struct recipient_log_entry *entry = &log->entries[i - 1];
		if (queue_index != UINT32_MAX) {
			if (entry->queue_index == queue_index)
				return entry;
		} else if (address != NULL && strcmp(entry->address, address) == 0) {
			return entry;
		}
	}
	return NULL;
}

void
recipient_log_fini(struct recipient_log *log)
{
	free(log->entries);
	free(log->storage);
	memset(log, 0, sizeof(*log));
}
