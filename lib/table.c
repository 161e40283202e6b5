/*
 * table - the registry of table types, and what every lookup shares:
 * parsing "type:name", case folding, the key size limit, and noticing that
 * the file behind a table was rebuilt.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "xalloc.h"

struct type_name {
	const char *name;
	const struct table_type *type;
};

/* hash: and btree: are Postfix's Berkeley DB types; lmdb serves them here. */
static const struct type_name registry[] = {
	{"lmdb", &table_type_lmdb},	  {"hash", &table_type_lmdb},
	{"btree", &table_type_lmdb},	  {"texthash", &table_type_texthash},
	{"inline", &table_type_inline},	  {"static", &table_type_static},
	{"cidr", &table_type_cidr},	  {"pcre", &table_type_pcre},
	{"regexp", &table_type_regexp},	  {"unix", &table_type_unix},
};

const struct table_type *
table_find_type(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i].name, name) == 0 && registry[i].type != NULL)
			return registry[i].type;
	return NULL;
}

int
table_split_spec(const char *spec, char **type, char **name, struct dstring *error)
{
	const char *colon = strchr(spec, ':');

	*type = *name = NULL;
	if (colon == NULL || colon == spec) {
		dstring_printf(error, "table \"%s\": expected type:name", spec);
		return -1;
	}
	for (const char *cursor = spec; cursor < colon; cursor++) {
		if (!isalnum((unsigned char)*cursor) && *cursor != '_' && *cursor != '-') {
			dstring_printf(error, "table \"%s\": bad type name", spec);
			return -1;
		}
	}
	if (colon[1] == '\0') {
		dstring_printf(error, "table \"%s\": missing name after type", spec);
		return -1;
	}
	*type = xstrndup(spec, (size_t)(colon - spec));
	*name = xstrdup(colon + 1);
	return 0;
}

static void
remember_source(struct table *table)
{
	const char *path = table->type->source_file ? table->type->source_file(table) : NULL;

	table->has_source_identity = path != NULL && stat(path, &table->source_identity) == 0;
}

struct table *
table_open(const char *spec, unsigned flags, struct dstring *error)
{
	const struct table_type *type;
	struct table *table;
	char *type_name, *name;

	if (table_split_spec(spec, &type_name, &name, error) != 0)
		return NULL;
	type = table_find_type(type_name);
	if (type == NULL) {
		dstring_printf(error, "table \"%s\": unsupported table type \"%s\"", spec,
			       type_name);
		free(type_name);
		free(name);
		return NULL;
	}
	free(type_name);
	table = xcalloc(1, sizeof(*table));
	table->type = type;
	table->spec = xstrdup(spec);
	table->name = name;
	table->flags = flags;
	table->scratch = dstring_new(TABLE_VALUE_MAX);
	table->folded_key = dstring_new(TABLE_KEY_MAX);
	if (type->open(table, name, flags, error) != 0) {
		dstring_free(table->scratch);
		dstring_free(table->folded_key);
		free(table->spec);
		free(table->name);
		free(table);
		return NULL;
	}
	remember_source(table);
	return table;
}

void
table_close(struct table *table)
{
	if (table == NULL)
		return;
	if (table->type->close != NULL)
		table->type->close(table);
	dstring_free(table->scratch);
	dstring_free(table->folded_key);
	free(table->spec);
	free(table->name);
	free(table);
}

enum table_result
table_lookup(struct table *table, const char *key, const char **value)
{
	size_t length = strlen(key);
	enum table_result result;

	*value = NULL;
	if (length > TABLE_KEY_MAX)
		return TABLE_NOT_FOUND;
	/* Pattern tables match case themselves and must keep $1 as the client wrote it. */
	if ((table->flags & TABLE_FOLD_CASE) && !table->type->is_pattern) {
		dstring_reset(table->folded_key);
		for (size_t i = 0; i < length; i++)
			dstring_append_char(table->folded_key, (char)tolower((unsigned char)key[i]));
		key = dstring_str(table->folded_key);
	}
	dstring_reset(table->scratch);
	result = table->type->lookup(table, key, table->scratch);
	if (result != TABLE_NOT_FOUND)
		*value = dstring_str(table->scratch);
	if (result == TABLE_ERROR && dstring_length(table->scratch) == 0)
		dstring_printf(table->scratch, "%s: lookup error", table->spec);
	return result;
}

int
table_iterate(struct table *table,
	      int (*visit)(const char *key, const char *value, void *context), void *context,
	      struct dstring *error)
{
	if (table->type->iterate == NULL) {
		dstring_printf(error, "table %s: type %s cannot list its entries", table->spec,
			       table->type->name);
		return -1;
	}
	return table->type->iterate(table, visit, context, error);
}

bool
table_is_stale(const struct table *table)
{
	const char *path;
	struct stat now;

	if (table->type->source_file == NULL)
		return false;
	path = table->type->source_file((struct table *)table);
	if (path == NULL)
		return false;
	if (stat(path, &now) != 0)
		return true;
	if (!table->has_source_identity)
		return true;
	return now.st_dev != table->source_identity.st_dev ||
	       now.st_ino != table->source_identity.st_ino ||
	       now.st_size != table->source_identity.st_size ||
	       now.st_mtim.tv_sec != table->source_identity.st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != table->source_identity.st_mtim.tv_nsec;
}
