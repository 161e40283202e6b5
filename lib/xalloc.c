/*
 * xalloc - allocation that ends the process on exhaustion.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

static void
out_of_memory(size_t size)
{
	log_fatal("out of memory allocating %zu bytes", size);
}

void *
xmalloc(size_t size)
{
	void *ptr = malloc(size ? size : 1);

	if (ptr == NULL)
		out_of_memory(size);
	return ptr;
}

void *
xcalloc(size_t count, size_t size)
{
	void *ptr = calloc(count ? count : 1, size ? size : 1);

	if (ptr == NULL)
		out_of_memory(count * size);
	return ptr;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *grown = realloc(ptr, size ? size : 1);

	if (grown == NULL)
		out_of_memory(size);
	return grown;
}

void *
xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		log_panic("xreallocarray: %zu * %zu overflows", count, size);
	return xrealloc(ptr, count * size);
}

char *
xstrdup(const char *text)
{
	return xmemdup(text, strlen(text) + 1);
}

char *
xstrndup(const char *text, size_t length)
{
	const char *end = memchr(text, '\0', length);
	size_t copied = end ? (size_t)(end - text) : length;
	char *copy = xmalloc(copied + 1);

	memcpy(copy, text, copied);
	copy[copied] = '\0';
	return copy;
}

void *
xmemdup(const void *data, size_t length)
{
	void *copy = xmalloc(length);

	memcpy(copy, data, length);
	return copy;
}

char *
xpath_join(const char *directory, const char *name)
{
	size_t directory_length = strlen(directory), name_length = strlen(name);
	char *path = xmalloc(directory_length + name_length + 2);

	memcpy(path, directory, directory_length);
	path[directory_length] = '/';
	memcpy(path + directory_length + 1, name, name_length + 1);
	return path;
}
