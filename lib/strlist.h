/*
 * strlist - lists of strings, and splitting text into them the way
 * Postfix splits parameter values.
 *
 * Items are separated by any run of the given separator characters
 * (STRLIST_COMMA_SPACE for the usual "commas and/or white space").
 * A '{' starts a group that ends at its matching '}'; separators inside a
 * group do not split, so "inline:{ a=1, b=2 }" stays one item. An item that
 * is a whole group, "{ text with spaces }", loses its braces and the white
 * space just inside them. Unbalanced braces are an error.
 */
#ifndef HIKYAKU_STRLIST_H
#define HIKYAKU_STRLIST_H

#include <stddef.h>

struct dstring;

struct strlist {
	char **items;
	size_t count;
	size_t capacity;
};

#define STRLIST_COMMA_SPACE ", \t\r\n"
#define STRLIST_SPACE " \t\r\n"
/* More items than this in one value is an error, not an allocation. */
#define STRLIST_MAX_ITEMS 100000

void strlist_init(struct strlist *list);
void strlist_fini(struct strlist *list);
void strlist_append(struct strlist *list, const char *item);
void strlist_append_n(struct strlist *list, const char *item, size_t length);

/*
 * strlist_split: append the items of text to list. Returns 0, or -1 with a
 * reason in error (which may be NULL) for unbalanced braces or too many
 * items; on error the list holds the items found before the problem.
 */
int strlist_split(struct strlist *list, const char *text, const char *separators,
		  struct dstring *error);

/*
 * strlist_strip_group: if item is "{ ... }" return its inside without the
 * braces and surrounding white space (a new string), else a copy of item.
 * Returns NULL when the braces do not balance.
 */
char *strlist_strip_group(const char *item);

#endif
