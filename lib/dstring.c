/*
 * dstring - growable strings with explicit limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "xalloc.h"

enum { INITIAL_CAPACITY = 64 };

void
dstring_init(struct dstring *string, size_t limit)
{
	string->capacity = INITIAL_CAPACITY;
	string->data = xmalloc(string->capacity);
	string->data[0] = '\0';
	string->length = 0;
	string->limit = limit;
	string->has_overflowed = false;
}

void
dstring_fini(struct dstring *string)
{
	free(string->data);
	string->data = NULL;
	string->length = string->capacity = 0;
}

struct dstring *
dstring_new(size_t limit)
{
	struct dstring *string = xmalloc(sizeof(*string));

	dstring_init(string, limit);
	return string;
}

void
dstring_free(struct dstring *string)
{
	if (string == NULL)
		return;
	dstring_fini(string);
	free(string);
}

void
dstring_reset(struct dstring *string)
{
	string->length = 0;
	string->data[0] = '\0';
	string->has_overflowed = false;
}

void
dstring_truncate(struct dstring *string, size_t length)
{
	if (length < string->length) {
		string->length = length;
		string->data[length] = '\0';
	}
}

/* Make room for extra more bytes plus the terminating NUL. */
static int
reserve(struct dstring *string, size_t extra)
{
	size_t needed;

	if (extra > string->limit - string->length) {
		string->has_overflowed = true;
		return -1;
	}
	needed = string->length + extra + 1;
	if (needed > string->capacity) {
		size_t capacity = string->capacity;

		while (capacity < needed)
			capacity *= 2;
		string->data = xrealloc(string->data, capacity);
		string->capacity = capacity;
	}
	return 0;
}

int
dstring_append(struct dstring *string, const void *data, size_t length)
{
	if (length == 0)
		return 0;
	if (reserve(string, length) < 0)
		return -1;
	/* data may not point into string: growing would move it. */
	memcpy(string->data + string->length, data, length);
	string->length += length;
	string->data[string->length] = '\0';
	return 0;
}

int
dstring_append_str(struct dstring *string, const char *text)
{
	return dstring_append(string, text, strlen(text));
}

int
dstring_append_char(struct dstring *string, char byte)
{
	return dstring_append(string, &byte, 1);
}

int
dstring_append_vprintf(struct dstring *string, const char *format, va_list args)
{
	va_list copy;
	int needed;

	va_copy(copy, args);
	needed = vsnprintf(NULL, 0, format, copy);
	va_end(copy);
	if (needed < 0 || reserve(string, (size_t)needed) < 0)
		return -1;
	vsnprintf(string->data + string->length, (size_t)needed + 1, format, args);
	string->length += (size_t)needed;
	return 0;
}

int
dstring_append_printf(struct dstring *string, const char *format, ...)
{
	va_list args;
	int status;

	va_start(args, format);
	status = dstring_append_vprintf(string, format, args);
	va_end(args);
	return status;
}

int
dstring_set(struct dstring *string, const char *text)
{
	dstring_reset(string);
	return dstring_append_str(string, text);
}

int
dstring_printf(struct dstring *string, const char *format, ...)
{
	va_list args;
	int status;

	dstring_reset(string);
	va_start(args, format);
	status = dstring_append_vprintf(string, format, args);
	va_end(args);
	return status;
}

char *
dstring_steal(struct dstring *string)
{
	char *data = string->data;

	dstring_init(string, string->limit);
	return data;
}

static bool
is_space(char byte)
{
	return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n' || byte == '\f' ||
	       byte == '\v';
}

void
dstring_trim(struct dstring *string)
{
	size_t start = 0;
	size_t end = string->length;

	while (start < end && is_space(string->data[start]))
		start++;
	while (end > start && is_space(string->data[end - 1]))
		end--;
	memmove(string->data, string->data + start, end - start);
	string->length = end - start;
	string->data[string->length] = '\0';
}
