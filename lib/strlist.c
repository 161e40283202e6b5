/*
 * strlist - string lists and Postfix-style list splitting.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "strlist.h"
#include "xalloc.h"

void
strlist_init(struct strlist *list)
{
	list->items = NULL;
	list->count = 0;
	list->capacity = 0;
}

void
strlist_fini(struct strlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	strlist_init(list);
}

void
strlist_append_n(struct strlist *list, const char *item, size_t length)
{
	/* Keep one NULL slot so items can serve as an argv. */
	if (list->count + 2 > list->capacity) {
		list->capacity = list->capacity ? list->capacity * 2 : 8;
		list->items = xreallocarray(list->items, list->capacity, sizeof(*list->items));
	}
	list->items[list->count++] = xstrndup(item, length);
	list->items[list->count] = NULL;
}

void
strlist_append(struct strlist *list, const char *item)
{
	strlist_append_n(list, item, strlen(item));
}

static bool
is_separator(char byte, const char *separators)
{
	return byte != '\0' && strchr(separators, byte) != NULL;
}

static void
set_error(struct dstring *error, const char *reason)
{
	if (error != NULL)
		dstring_set(error, reason);
}

int
strlist_split(struct strlist *list, const char *text, const char *separators,
	      struct dstring *error)
{
	const char *cursor = text;

	for (;;) {
		const char *start;
		unsigned depth = 0;
		char *item;

		while (is_separator(*cursor, separators))
			cursor++;
		if (*cursor == '\0')
			return 0;
		start = cursor;
		for (; *cursor != '\0'; cursor++) {
			if (*cursor == '{') {
				depth++;
			} else if (*cursor == '}') {
				if (depth == 0) {
					set_error(error, "unexpected '}'");
					return -1;
				}
				depth--;
			} else if (depth == 0 && is_separator(*cursor, separators)) {
				break;
			}
		}
		if (depth > 0) {
			set_error(error, "missing '}'");
			return -1;
		}
		if (list->count >= STRLIST_MAX_ITEMS) {
			set_error(error, "too many list items");
			return -1;
		}
		item = xstrndup(start, (size_t)(cursor - start));
		if (*item == '{') {
			char *inside = strlist_strip_group(item);

			free(item);
			if (inside == NULL) {
				set_error(error, "text after '}'");
				return -1;
			}
			item = inside;
		}
		strlist_append(list, item);
		free(item);
	}
}

static bool
is_white(char byte)
{
	return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n';
}

char *
strlist_strip_group(const char *item)
{
	size_t length = strlen(item);
	unsigned depth = 0;
	size_t start, end;

	if (length == 0 || item[0] != '{')
		return xstrdup(item);
	/* The first '{' must close at the very end of the item. */
	for (size_t i = 0; i < length; i++) {
		if (item[i] == '{')
			depth++;
		else if (item[i] == '}' && depth > 0 && --depth == 0 && i != length - 1)
			return NULL;
	}
	if (depth != 0 || item[length - 1] != '}')
		return NULL;
	start = 1;
	end = length - 1;
	while (start < end && is_white(item[start]))
		start++;
	while (end > start && is_white(item[end - 1]))
		end--;
	return xstrndup(item + start, end - start);
}
