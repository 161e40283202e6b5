/*
 * dstring - a growable byte string with an explicit size limit.
 *
 * Every dstring has a limit, fixed when it is made. An append that would
 * pass the limit appends nothing, marks the string as overflowed, and
 * returns -1: the caller decides what the overflow means (a 500 reply, a
 * rejected config line). The data is always NUL-terminated, and may also
 * hold NUL bytes (use dstring_length, not strlen, for such data).
 */
#ifndef HIKYAKU_DSTRING_H
#define HIKYAKU_DSTRING_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct dstring {
	char *data;
	size_t length;
	size_t capacity;
	size_t limit;
	bool has_overflowed;
};

/* A limit for strings whose size we produce ourselves, not outside input. */
#define DSTRING_NO_LIMIT ((size_t)-1 / 2)

struct dstring *dstring_new(size_t limit);
void dstring_free(struct dstring *string);

/* dstring_init / dstring_fini: the same, for a dstring on the stack. */
void dstring_init(struct dstring *string, size_t limit);
void dstring_fini(struct dstring *string);

/* dstring_reset: empty the string and clear the overflow mark. */
void dstring_reset(struct dstring *string);
/* dstring_truncate: keep the first length bytes (no-op when shorter). */
void dstring_truncate(struct dstring *string, size_t length);

int dstring_append(struct dstring *string, const void *data, size_t length);
int dstring_append_str(struct dstring *string, const char *text);
int dstring_append_char(struct dstring *string, char byte);
int dstring_append_printf(struct dstring *string, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
int dstring_append_vprintf(struct dstring *string, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));
/* dstring_set / dstring_printf: replace the contents. */
int dstring_set(struct dstring *string, const char *text);
int dstring_printf(struct dstring *string, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static inline const char *
dstring_str(const struct dstring *string)
{
	return string->data;
}

static inline size_t
dstring_length(const struct dstring *string)
{
	return string->length;
}

/* dstring_steal: hand the buffer to the caller (free() it) and reset. */
char *dstring_steal(struct dstring *string);

/* dstring_trim: remove leading and trailing white space in place. */
void dstring_trim(struct dstring *string);

#endif
