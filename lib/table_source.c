/*
 * table_source - the postmap text format, read one entry at a time.
 *
 * The reader keeps two buffers: the logical line being assembled, and the
 * physical line read after it. Whether a logical line is complete is only
 * known when the next line that is not a continuation (or the end of the
 * input) arrives, so that line waits in the second buffer for the next
 * call. Physical lines longer than the line limit are cut, the rest of
 * them skipped unread into memory, and the logical line marked too long.
 *
 * See table_source.h for the syntax and the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "stream.h"
#include "table_source.h"
#include "xalloc.h"

/* A physical line may end in "\r\n" on top of a whole logical line. */
#define PHYSICAL_LINE_MAX (TABLE_SOURCE_LINE_MAX + 2)
/* After this many bad lines, the rest are counted but not logged one by one. */
#define BAD_LINES_SHOWN 100

struct table_source {
	char *name;
	unsigned flags;
	/* Exactly one of the stream and the memory is the input. */
	struct stream *stream;
	bool owns_fd;
	const char *memory;
	size_t memory_size;
	size_t memory_offset;
	bool is_at_end;
	bool has_failed;
	unsigned long physical_line; /* physical lines read so far */
	struct dstring logical;      /* the logical line being assembled */
	unsigned long logical_line;
	bool is_logical_too_long;
	struct dstring pending; /* the physical line read ahead */
	bool has_pending;
	unsigned long pending_line;
	bool is_pending_too_long;
	bool has_reported_orphan;
	unsigned long bad_lines;
};

enum line_kind { LINE_BLANK, LINE_COMMENT, LINE_CONTINUATION, LINE_START };

/* Postfix's ISSPACE: what separates a key from its value. */
static bool
is_blank(char byte)
{
	return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n' || byte == '\v' ||
	       byte == '\f';
}

static struct table_source *
source_new(const char *name, unsigned flags)
{
	struct table_source *source = xcalloc(1, sizeof(*source));

	source->name = xstrdup(name);
	source->flags = flags;
	dstring_init(&source->logical, PHYSICAL_LINE_MAX + 16);
	dstring_init(&source->pending, PHYSICAL_LINE_MAX + 16);
	return source;
}

struct table_source *
table_source_open(const char *path, unsigned flags, struct dstring *error)
{
	struct table_source *source;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		dstring_printf(error, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	source = source_new(path, flags);
	source->stream = stream_open(fd);
	source->owns_fd = true;
	return source;
}

struct table_source *
table_source_open_fd(int fd, const char *name, unsigned flags)
{
	struct table_source *source = source_new(name, flags);

	source->stream = stream_open(fd);
	return source;
}

struct table_source *
table_source_open_memory(const void *data, size_t size, const char *name, unsigned flags)
{
	struct table_source *source = source_new(name, flags);

	source->memory = data;
	source->memory_size = size;
	return source;
}

void
table_source_close(struct table_source *source)
{
	if (source == NULL)
		return;
	if (source->stream != NULL) {
		if (source->owns_fd)
			(void)stream_close(source->stream);
		else
			stream_free(source->stream);
	}
	dstring_fini(&source->logical);
	dstring_fini(&source->pending);
	free(source->name);
	free(source);
}

unsigned long
table_source_bad_lines(const struct table_source *source)
{
	return source->bad_lines;
}

const char *
table_source_name(const struct table_source *source)
{
	return source->name;
}

static void
report_bad_line(struct table_source *source, unsigned long line, const char *reason)
{
	source->bad_lines++;
	if (source->bad_lines <= BAD_LINES_SHOWN)
		log_error("%s, line %lu: %s", source->name, line, reason);
	else if (source->bad_lines == BAD_LINES_SHOWN + 1)
		log_error("%s: more than %d bad lines; the rest are not shown", source->name,
		          BAD_LINES_SHOWN);
}

/* Read the next physical line from memory into line. */
static int
read_memory_line(struct table_source *source, struct dstring *line, bool *is_too_long)
{
	const char *start = source->memory + source->memory_offset;
	size_t left = source->memory_size - source->memory_offset;
	const char *newline;
	size_t length;

	if (left == 0)
		return 0;
	newline = memchr(start, '\n', left);
	length = newline != NULL ? (size_t)(newline - start) : left;
	source->memory_offset += newline != NULL ? length + 1 : length;
	if (length > PHYSICAL_LINE_MAX) {
		length = PHYSICAL_LINE_MAX;
		*is_too_long = true;
	}
	dstring_append(line, start, length);
	return 1;
}

/* Read the next physical line from the stream into line. */
static int
read_stream_line(struct table_source *source, struct dstring *line, bool *is_too_long,
                 struct dstring *error)
{
	switch (stream_gets(source->stream, line, PHYSICAL_LINE_MAX)) {
	case STREAM_OK:
		dstring_truncate(line, dstring_length(line) - 1);
		return 1;
	case STREAM_PARTIAL:
		if (stream_at_eof(source->stream))
			return 1;
		/* The line is longer than any good line: skip the rest unread. */
		*is_too_long = true;
		switch (stream_skip_line(source->stream)) {
		case STREAM_OK:
		case STREAM_EOF:
			return 1;
		default:
			break;
		}
		break;
	case STREAM_EOF:
		return 0;
	default:
		break;
	}
	dstring_printf(error, "read %s: %s", source->name,
	               strerror(stream_error_code(source->stream)
	                            ? stream_error_code(source->stream)
	                            : errno));
	return -1;
}

/*
 * Read the next physical line into line, without its "\n" or "\r\n".
 * Returns 1, 0 at the end of the input, or -1 (reason in error).
 */
static int
read_physical_line(struct table_source *source, struct dstring *line, bool *is_too_long,
                   struct dstring *error)
{
	int result;

	dstring_reset(line);
	*is_too_long = false;
	if (source->has_failed) {
		dstring_printf(error, "read %s: the input already failed", source->name);
		return -1;
	}
	if (source->is_at_end)
		return 0;
	if (source->stream != NULL)
		result = read_stream_line(source, line, is_too_long, error);
	else
		result = read_memory_line(source, line, is_too_long);
	if (result < 0)
		source->has_failed = true;
	else if (result == 0)
		source->is_at_end = true;
	else {
		source->physical_line++;
		if (dstring_length(line) > 0 && dstring_str(line)[dstring_length(line) - 1] == '\r')
			dstring_truncate(line, dstring_length(line) - 1);
	}
	return result;
}

static enum line_kind
classify(const struct dstring *line)
{
	const char *data = dstring_str(line);
	size_t length = dstring_length(line), i = 0;

	while (i < length && is_blank(data[i]))
		i++;
	if (i == length)
		return LINE_BLANK;
	if (data[i] == '#')
		return LINE_COMMENT;
	return i > 0 ? LINE_CONTINUATION : LINE_START;
}

/*
 * Split the complete logical line into key and value. Returns true with
 * entry filled, or false after reporting why the line is bad.
 */
static bool
parse_logical_line(struct table_source *source, struct table_source_entry *entry)
{
	char *data = source->logical.data;
	size_t length = dstring_length(&source->logical);
	size_t key_end = 0, value_start;

	if (source->is_logical_too_long) {
		report_bad_line(source, source->logical_line, "line too long");
		return false;
	}
	if (memchr(data, '\0', length) != NULL) {
		report_bad_line(source, source->logical_line, "NUL byte in line");
		return false;
	}
	while (length > 0 && is_blank(data[length - 1]))
		length--;
	while (key_end < length && !is_blank(data[key_end]))
		key_end++;
	if (key_end == length) {
		report_bad_line(source, source->logical_line,
		                "expected format: key whitespace value");
		return false;
	}
	value_start = key_end;
	while (is_blank(data[value_start]))
		value_start++;
	if (key_end > TABLE_KEY_MAX) {
		report_bad_line(source, source->logical_line, "key too long");
		return false;
	}
	if (length - value_start > TABLE_VALUE_MAX) {
		report_bad_line(source, source->logical_line, "value too long");
		return false;
	}
	dstring_truncate(&source->logical, length);
	data[key_end] = '\0';
	if (source->flags & TABLE_SOURCE_FOLD_CASE)
		for (size_t i = 0; i < key_end; i++)
			if (data[i] >= 'A' && data[i] <= 'Z')
				data[i] = (char)(data[i] - 'A' + 'a');
	entry->key = data;
	entry->key_length = key_end;
	entry->value = data + value_start;
	entry->value_length = length - value_start;
	entry->line = source->logical_line;
	return true;
}

/* Read ahead to the first line of the next logical line; 0 at the end. */
static int
find_start_line(struct table_source *source, struct dstring *error)
{
	bool is_too_long;
	int result;

	for (;;) {
		result = read_physical_line(source, &source->pending, &is_too_long, error);
		if (result <= 0)
			return result;
		switch (classify(&source->pending)) {
		case LINE_BLANK:
		case LINE_COMMENT:
			continue;
		case LINE_CONTINUATION:
			/* Only possible before the first logical line. */
			if (!source->has_reported_orphan)
				report_bad_line(source, source->physical_line,
				                "logical line must not start with white space");
			source->has_reported_orphan = true;
			continue;
		case LINE_START:
			break;
		}
		source->has_pending = true;
		source->pending_line = source->physical_line;
		source->is_pending_too_long = is_too_long;
		return 1;
	}
}

int
table_source_next(struct table_source *source, struct table_source_entry *entry,
                  struct dstring *error)
{
	struct dstring swap;
	bool is_too_long;
	int result;

	for (;;) {
		if (!source->has_pending) {
			result = find_start_line(source, error);
			if (result <= 0)
				return result;
		}
		/* The line read ahead starts the logical line. */
		swap = source->logical;
		source->logical = source->pending;
		source->pending = swap;
		source->logical_line = source->pending_line;
		source->is_logical_too_long = source->is_pending_too_long;
		source->has_pending = false;
		for (;;) {
			result = read_physical_line(source, &source->pending, &is_too_long, error);
			if (result < 0)
				return -1;
			if (result == 0)
				break;
			switch (classify(&source->pending)) {
			case LINE_BLANK:
			case LINE_COMMENT:
				continue;
			case LINE_CONTINUATION:
				if (source->is_logical_too_long)
					continue;
				if (is_too_long || dstring_length(&source->logical) +
				                           dstring_length(&source->pending) >
				                       TABLE_SOURCE_LINE_MAX)
					source->is_logical_too_long = true;
				else
					dstring_append(&source->logical,
					               dstring_str(&source->pending),
					               dstring_length(&source->pending));
				continue;
			case LINE_START:
				source->has_pending = true;
				source->pending_line = source->physical_line;
				source->is_pending_too_long = is_too_long;
				break;
			}
			break;
		}
		if (parse_logical_line(source, entry))
			return 1;
	}
}
