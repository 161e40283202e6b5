/*
 * xalloc - memory allocation that never returns NULL.
 *
 * Running out of memory is a resource problem a daemon cannot handle
 * locally: the allocator logs a fatal error and the process exits, and the
 * master starts a fresh one. Callers therefore never check for NULL.
 * Sizes are checked for overflow before they reach malloc.
 */
#ifndef HIKYAKU_XALLOC_H
#define HIKYAKU_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray: like xrealloc(ptr, count * size), refusing overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *text);
/* xstrndup: at most length bytes of text, always NUL-terminated. */
char *xstrndup(const char *text, size_t length);
void *xmemdup(const void *data, size_t length);
/* xpath_join: "directory/name", newly allocated. */
char *xpath_join(const char *directory, const char *name);

#endif
