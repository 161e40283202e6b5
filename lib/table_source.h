/*
 * table_source - the text form of a lookup table, as postmap(1) reads it:
 * the source of lmdb: tables and the whole of texthash: tables.
 *
 * Syntax (Postfix's, checked against postmap 3.7):
 * - One entry per logical line: the key is the first run of non-blank
 *   bytes, the value is the rest with the blanks around it removed. A key
 *   without a value is an error ("expected format: key whitespace value").
 * - A line whose first non-blank byte is '#' is a comment; a line of only
 *   blanks is ignored. Neither ends a logical line.
 * - A line that starts with a blank continues the logical line before it;
 *   the newline goes, the continuation's blanks stay ("a b\n  c" gives the
 *   value "b  c"). Before any logical line such a line is an error.
 * - A CR before the LF is removed from every physical line.
 * - Keys are lowercased (ASCII only, as postmap does) unless the source is
 *   opened without TABLE_SOURCE_FOLD_CASE (postmap's -f).
 *
 * Contract: table_source_next hands out one good entry at a time, in file
 * order, and never more than TABLE_KEY_MAX key bytes or TABLE_VALUE_MAX
 * value bytes. A bad line (no value, a NUL byte, a key or value or line
 * over its limit, a continuation with nothing to continue) is logged with
 * log_error as "PATH, line N: reason", counted, and skipped, so one pass
 * reports every problem; the caller decides whether any bad line spoils
 * the whole table (hikyaku map and texthash say it does). Duplicate keys
 * are the caller's business.
 *
 * What it trusts: nothing in the bytes. The file is read through a stream,
 * one physical line at a time, so memory stays bounded by the line limit;
 * every loop is bounded by the input.
 */
#ifndef HIKYAKU_TABLE_SOURCE_H
#define HIKYAKU_TABLE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

struct dstring;
struct table_source;

/* The longest logical line: a whole key, a whole value and some blanks. */
#define TABLE_SOURCE_LINE_MAX (TABLE_KEY_MAX + TABLE_VALUE_MAX + 1024)

enum table_source_flags {
	TABLE_SOURCE_FOLD_CASE = 1 << 0, /* lowercase keys (ASCII) */
};

/* One entry. The strings stay valid until the next call on the source. */
struct table_source_entry {
	const char *key; /* NUL-terminated, never empty */
	size_t key_length;
	const char *value; /* NUL-terminated, never empty */
	size_t value_length;
	unsigned long line; /* the first physical line of the entry */
};

/*
 * table_source_open: read the file at path. Returns NULL with the reason
 * ("open PATH: No such file or directory") in error.
 */
struct table_source *table_source_open(const char *path, unsigned flags, struct dstring *error);

/*
 * table_source_open_fd: read descriptor fd (left open by close); name is
 * what messages call it, for example "stdin".
 */
struct table_source *table_source_open_fd(int fd, const char *name, unsigned flags);

/*
 * table_source_open_memory: read size bytes at data (not copied: they must
 * outlive the source).
 */
struct table_source *table_source_open_memory(const void *data, size_t size, const char *name,
                                              unsigned flags);

/*
 * table_source_next: the next good entry. Returns 1 with *entry filled,
 * 0 at the end of the input, or -1 when the input could not be read (the
 * reason in error; the source cannot be read further).
 */
int table_source_next(struct table_source *source, struct table_source_entry *entry,
                      struct dstring *error);

/* table_source_bad_lines: how many bad lines were logged and skipped so far. */
unsigned long table_source_bad_lines(const struct table_source *source);

/* table_source_name: the name messages use (the path, or the name given). */
const char *table_source_name(const struct table_source *source);

/* table_source_close: free the source (closes the file it opened itself). */
void table_source_close(struct table_source *source);

#endif
