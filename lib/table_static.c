/*
 * table_static - "static:value": every key has the same value, as in
 * Postfix. "static:{ value with spaces }" keeps the spaces inside braces.
 */
#include <stdlib.h>

#include "dstring.h"
#include "strlist.h"
#include "table.h"

static int
static_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	char *value = strlist_strip_group(name);

	if (value == NULL) {
		dstring_printf(error, "table static:%s: unbalanced braces", name);
		return -1;
	}
	table->state = value;
	return 0;
}

static enum table_result
static_lookup(struct table *table, const char *key, struct dstring *value)
{
	if (dstring_set(value, table->state) != 0)
		return TABLE_ERROR;
	return TABLE_FOUND;
}

static void
static_close(struct table *table)
{
	free(table->state);
}

const struct table_type table_type_static = {
	.name = "static",
	.open = static_open,
	.lookup = static_lookup,
	.close = static_close,
};
