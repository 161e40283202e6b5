/*
 * table_texthash - the texthash: table type: a postmap-format text file
 * read whole into memory when the table is opened, with no index file
 * (Postfix's texthash:, handy for small tables that change often).
 *
 * Contract: the file is parsed by table_source, so its syntax is exactly
 * that of an lmdb: source. A file with any bad line does not open (every
 * bad line is logged with file and line): a table that silently lost an
 * entry could let through what the entry was meant to stop. Duplicate
 * keys are warned about and the first is kept, as postmap does. Entries
 * are kept sorted, so lookups are a binary search and iteration is in key
 * order. source_file() is the text file, so an edit makes table.c reopen
 * the table.
 *
 * What it trusts: nothing in the file; table_source bounds every line.
 */
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_source.h"
#include "xalloc.h"

struct texthash_entry {
	char *key; /* key, NUL, value, NUL in one allocation */
	const char *value;
	unsigned long line;
};

struct texthash {
	char *path;
	struct texthash_entry *entries;
	size_t count;
};

static void
texthash_free(struct texthash *texthash)
{
	for (size_t i = 0; i < texthash->count; i++)
		free(texthash->entries[i].key);
	free(texthash->entries);
	free(texthash->path);
	free(texthash);
}

static int
compare_entries(const void *left_pointer, const void *right_pointer)
{
	const struct texthash_entry *left = left_pointer, *right = right_pointer;
	int order = strcmp(left->key, right->key);

	if (order != 0)
		return order;
	return left->line < right->line ? -1 : left->line > right->line;
}

/* For lookups: after sort_entries each key is there once. */
static int
compare_keys(const void *left_pointer, const void *right_pointer)
{
	const struct texthash_entry *left = left_pointer, *right = right_pointer;

	return strcmp(left->key, right->key);
}

/* Sort the entries and drop all but the first of each key. */
static void
sort_entries(struct texthash *texthash)
{
	size_t kept = 0;

	if (texthash->count == 0)
		return;
	qsort(texthash->entries, texthash->count, sizeof(*texthash->entries), compare_entries);
	for (size_t i = 0; i < texthash->count; i++) {
		struct texthash_entry *entry = &texthash->entries[i];

		if (kept > 0 && strcmp(texthash->entries[kept - 1].key, entry->key) == 0) {
			log_warning("%s, line %lu: duplicate entry: \"%s\"", texthash->path,
			            entry->line, entry->key);
			free(entry->key);
			continue;
		}
		texthash->entries[kept++] = *entry;
	}
	texthash->count = kept;
}

static int
texthash_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	struct texthash *texthash;
	struct table_source *source;
	struct table_source_entry entry;
	size_t capacity = 0;
	int status;

	source =
	    table_source_open(name, (flags & TABLE_FOLD_CASE) ? TABLE_SOURCE_FOLD_CASE : 0, error);
	if (source == NULL)
		return -1;
	texthash = xcalloc(1, sizeof(*texthash));
	texthash->path = xstrdup(name);
	while ((status = table_source_next(source, &entry, error)) == 1) {
		struct texthash_entry *copy;

		if (texthash->count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			texthash->entries =
			    xreallocarray(texthash->entries, capacity, sizeof(*texthash->entries));
		}
		copy = &texthash->entries[texthash->count++];
		copy->key = xmalloc(entry.key_length + entry.value_length + 2);
		memcpy(copy->key, entry.key, entry.key_length + 1);
		memcpy(copy->key + entry.key_length + 1, entry.value, entry.value_length + 1);
		copy->value = copy->key + entry.key_length + 1;
		copy->line = entry.line;
	}
	if (status == 0 && table_source_bad_lines(source) > 0) {
		dstring_printf(error, "%s: %lu bad line%s", name, table_source_bad_lines(source),
		               table_source_bad_lines(source) == 1 ? "" : "s");
		status = -1;
	}
	table_source_close(source);
	if (status != 0) {
		texthash_free(texthash);
		return -1;
	}
	sort_entries(texthash);
	table->state = texthash;
	return 0;
}

static enum table_result
texthash_lookup(struct table *table, const char *key, struct dstring *value)
{
	struct texthash *texthash = table->state;
	struct texthash_entry wanted = {.key = (char *)key};
	const struct texthash_entry *found;

	if (texthash->count == 0)
		return TABLE_NOT_FOUND;
	found = bsearch(&wanted, texthash->entries, texthash->count, sizeof(*texthash->entries),
	                compare_keys);
	if (found == NULL)
		return TABLE_NOT_FOUND;
	if (dstring_append_str(value, found->value) != 0) {
		dstring_reset(value);
		dstring_printf(value, "%s: value of \"%s\" too long", texthash->path, key);
		return TABLE_ERROR;
	}
	return TABLE_FOUND;
}

static int
texthash_iterate(struct table *table,
                 int (*visit)(const char *key, const char *value, void *context), void *context,
                 struct dstring *error)
{
	struct texthash *texthash = table->state;

	for (size_t i = 0; i < texthash->count; i++)
		if (visit(texthash->entries[i].key, texthash->entries[i].value, context) != 0)
			break;
	return 0;
}

static void
texthash_close(struct table *table)
{
	if (table->state != NULL)
		texthash_free(table->state);
	table->state = NULL;
}

static const char *
texthash_source_file(struct table *table)
{
	struct texthash *texthash = table->state;

	return texthash->path;
}

const struct table_type table_type_texthash = {
    .name = "texthash",
    .open = texthash_open,
    .lookup = texthash_lookup,
    .iterate = texthash_iterate,
    .close = texthash_close,
    .source_file = texthash_source_file,
};
