/*
 * table_inline - "inline:{ key=value, { key = value with spaces } }", a
 * small table written in main.cf itself, as in Postfix.
 *
 * Entries are separated by commas or white space; an entry in braces may
 * hold spaces around '=' and in the value. An entry without '=' is an
 * error. The first of two equal keys wins. Lookups are a linear scan:
 * inline tables are a handful of entries by nature.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "strlist.h"
#include "table.h"
#include "xalloc.h"

struct inline_table {
	struct strlist keys;
	struct strlist values;
};

static char *
trimmed(const char *start, const char *end)
{
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	return xstrndup(start, (size_t)(end - start));
}

static void
inline_free(struct inline_table *state)
{
	strlist_fini(&state->keys);
	strlist_fini(&state->values);
	free(state);
}

static int
inline_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	struct inline_table *state = xcalloc(1, sizeof(*state));
	struct strlist items;
	char *inside = NULL;

	strlist_init(&items);
	if (name[0] != '{' || (inside = strlist_strip_group(name)) == NULL) {
		dstring_printf(error, "table inline:%s: expected inline:{ key=value, ... }", name);
		goto fail;
	}
	if (strlist_split(&items, inside, STRLIST_COMMA_SPACE, error) != 0)
		goto fail;
	for (size_t i = 0; i < items.count; i++) {
		const char *item = items.items[i];
		const char *equals = strchr(item, '=');
		char *key, *value;

		if (equals == NULL || equals == item) {
			dstring_printf(error, "table inline:%s: \"%s\" is not key=value", name, item);
			goto fail;
		}
		key = trimmed(item, equals);
		value = trimmed(equals + 1, item + strlen(item));
		if (*key == '\0' || strlen(key) > TABLE_KEY_MAX || strlen(value) > TABLE_VALUE_MAX) {
			dstring_printf(error, "table inline:%s: bad entry \"%s\"", name, item);
			free(key);
			free(value);
			goto fail;
		}
		if (flags & TABLE_FOLD_CASE)
			for (char *cursor = key; *cursor; cursor++)
				*cursor = (char)tolower((unsigned char)*cursor);
		strlist_append(&state->keys, key);
		strlist_append(&state->values, value);
		free(key);
		free(value);
	}
	free(inside);
	strlist_fini(&items);
	table->state = state;
	return 0;
fail:
	free(inside);
	strlist_fini(&items);
	inline_free(state);
	return -1;
}

static enum table_result
inline_lookup(struct table *table, const char *key, struct dstring *value)
{
	struct inline_table *state = table->state;

	for (size_t i = 0; i < state->keys.count; i++)
		if (strcmp(state->keys.items[i], key) == 0)
			return dstring_set(value, state->values.items[i]) == 0 ? TABLE_FOUND
									     : TABLE_ERROR;
	return TABLE_NOT_FOUND;
}

static int
inline_iterate(struct table *table,
	       int (*visit)(const char *key, const char *value, void *context), void *context,
	       struct dstring *error)
{
	struct inline_table *state = table->state;

	for (size_t i = 0; i < state->keys.count; i++) {
		int status = visit(state->keys.items[i], state->values.items[i], context);

		if (status != 0)
			return status;
	}
	return 0;
}

static void
inline_close(struct table *table)
{
	inline_free(table->state);
}

const struct table_type table_type_inline = {
	.name = "inline",
	.open = inline_open,
	.lookup = inline_lookup,
	.iterate = inline_iterate,
	.close = inline_close,
};
