/*
 * alias_source - the aliases(5) text format, read the way postalias(1)
 * reads it, so an /etc/aliases that Postfix accepts gives the same table.
 *
 * The format:
 *   name: value, value, ...
 * Lines whose first non-blank character is '#' are comments; empty and
 * blank lines are ignored; a line that starts with white space continues
 * the logical line before it (comments and blank lines in between do not
 * end it). A logical line is split into RFC 822 tokens (atoms, "quoted
 * strings", (comments), [literals], and the operators | % ! and
 * RFC 822's specials), as Postfix does:
 * - the name is the tokens before the first ':' operator, without
 *   quotes, lowercased (ASCII): `"Mail Admin": x` has the name
 *   "mail admin";
 * - the value is the tokens after it written back in quoted form, with
 *   the spacing Postfix uses: `a,b` becomes "a, b", `"|cmd arg"` and
 *   `|/usr/bin/prog arg` stay as written, `a\ b` becomes "\"a b\"".
 *   /file, |command, user@domain, :include:/path and plain names are
 *   all kept as the local delivery agent will parse them again.
 *
 * What Postfix only warns about is an error here, named by file and the
 * first line of the logical line: no ':' (or nothing before or after
 * it), a ',' in the name, a name that is not local ('@' or '%'), an empty
 * name, a NUL byte, a continuation line with nothing to continue, a
 * logical line over ALIAS_LINE_MAX bytes, a name over TABLE_KEY_MAX or a
 * value over TABLE_VALUE_MAX bytes. Reading goes on after an error so
 * that one run shows every bad line; the caller must not build a table
 * from input that had errors.
 *
 * Duplicate names are not this module's business: the table builder
 * decides (Postfix warns and keeps the first).
 *
 * What it trusts: nothing in the text; every loop is bounded by the input
 * length and each logical line by ALIAS_LINE_MAX.
 */
#ifndef HIKYAKU_ALIAS_SOURCE_H
#define HIKYAKU_ALIAS_SOURCE_H

#include <stddef.h>

struct dstring;
struct stream;

enum alias_source_flags {
	ALIAS_SOURCE_KEEP_CASE = 1 << 0, /* do not lowercase names (postalias -f) */
};

/* The longest logical line (continuations joined), in bytes. */
#define ALIAS_LINE_MAX (1024 * 1024)
/* At most this many errors are logged for one source; all are counted. */
#define ALIAS_ERRORS_LOGGED 50

/*
 * Called for each entry, in file order: name (folded) and value as
 * described above, and the number of the line where the entry starts.
 * Return 0 to go on; anything else stops reading and is returned by the
 * reading function.
 */
typedef int (*alias_source_visit)(const char *name, const char *value, unsigned line,
                                  void *context);

/*
 * alias_source_parse_entry: parse one logical line (length bytes, may
 * hold NUL bytes, which are an error) into name and value; flags as
 * enum alias_source_flags. Returns 0, or -1 with the reason, without file
 * and line, in error. name and value should have limits of at least
 * TABLE_KEY_MAX and TABLE_VALUE_MAX.
 */
int alias_source_parse_entry(const char *line, size_t length, unsigned flags, struct dstring *name,
                             struct dstring *value, struct dstring *error);

/*
 * A reader of one source: physical lines in, entries out. The parse and
 * read functions below drive it; it is public for code that gets lines
 * from elsewhere.
 */
struct alias_source;

/*
 * alias_source_new: a reader whose messages name path (a file name, or
 * "stdin"); flags as enum alias_source_flags. visit is called for each
 * entry; context is passed on.
 */
struct alias_source *alias_source_new(const char *path, unsigned flags, alias_source_visit visit,
                                      void *context);
void alias_source_free(struct alias_source *source);

/*
 * alias_source_add_line: one physical line of length bytes, without its
 * newline (a trailing CR is kept: it counts as white space). A reader
 * that meets a physical line too long to hold may pass its first
 * ALIAS_LINE_MAX + 1 bytes: the line is then an error. Returns 0, or the
 * visitor's non-zero result.
 */
int alias_source_add_line(struct alias_source *source, const char *line, size_t length);

/* alias_source_finish: the input ended. Returns as alias_source_add_line. */
int alias_source_finish(struct alias_source *source);

/* alias_source_error_count: the number of errors found so far. */
unsigned alias_source_error_count(const struct alias_source *source);

/* alias_source_first_error: "path, line N: reason" of the first error, or "". */
const char *alias_source_first_error(const struct alias_source *source);

/*
 * alias_source_parse_text: read size bytes of text (which may hold NUL
 * bytes) as an aliases file named path, with flags as enum
 * alias_source_flags. Returns the number of errors
 * (each logged, up to ALIAS_ERRORS_LOGGED, with file and line), or -1
 * when visit stopped the reading. When first_error is not NULL it gets
 * the first error's message.
 */
int alias_source_parse_text(const char *text, size_t size, const char *path, unsigned flags,
                            alias_source_visit visit, void *context, struct dstring *first_error);

/*
 * alias_source_read_stream: the same for everything read from stream.
 * Returns as alias_source_parse_text, or -2 when reading failed (the
 * reason logged).
 */
int alias_source_read_stream(struct stream *stream, const char *path, unsigned flags,
                             alias_source_visit visit, void *context, struct dstring *first_error);

/*
 * alias_source_read_file: the same for the file at path. Returns as
 * alias_source_read_stream; a file that cannot be opened is -2.
 */
int alias_source_read_file(const char *path, unsigned flags, alias_source_visit visit,
                           void *context, struct dstring *first_error);

#endif
