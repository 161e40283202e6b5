/*
 * alias - alias_maps lookups and the splitting of alias (and .forward)
 * values into destinations.
 *
 * The tables of alias_maps are opened here one by one rather than as a
 * table_list, because the answer's table matters: commands and files of
 * an alias run with the rights of the owner of that table's file
 * (default_privs when root owns it), as in Postfix. A table that cannot
 * be opened, or a lookup error, is an error for the caller (it defers);
 * a later table never answers in place of one that could not be read.
 * A table whose file was rebuilt is opened again.
 *
 * The value splitter accepts exactly what the aliases(5) text format and
 * .forward files hold: items separated by commas or newlines, each an
 * address, "|command", "/file", ":include:/file", possibly in double
 * quotes. What it trusts: nothing; the value is bounded by the table's
 * own limits.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "local.h"
#include "log.h"
#include "table.h"
#include "table_search.h"
#include "xalloc.h"

struct alias_table {
	char *spec;
	struct table *table; /* NULL while it cannot be opened */
};

static struct alias_table *alias_tables;
static size_t alias_table_count;
static struct dstring alias_problem;

void
local_alias_open(void)
{
	struct strlist specs;

	strlist_init(&specs);
	dstring_init(&alias_problem, 4096);
	if (strlist_split(&specs, var_alias_maps, STRLIST_COMMA_SPACE, &alias_problem) < 0)
		log_warning("alias_maps: %s", dstring_str(&alias_problem));
	alias_tables = xcalloc(specs.count + 1, sizeof(*alias_tables));
	for (size_t i = 0; i < specs.count && i < TABLE_LIST_MAX; i++) {
		alias_tables[alias_table_count].spec = xstrdup(specs.items[i]);
		dstring_reset(&alias_problem);
		alias_tables[alias_table_count].table =
		    table_open(specs.items[i], TABLE_FOLD_CASE, &alias_problem);
		if (alias_tables[alias_table_count].table == NULL)
			log_warning("alias_maps: %s", dstring_str(&alias_problem));
		alias_table_count++;
	}
	strlist_fini(&specs);
}

void
local_alias_close(void)
{
	for (size_t i = 0; i < alias_table_count; i++) {
		if (alias_tables[i].table != NULL)
			table_close(alias_tables[i].table);
		free(alias_tables[i].spec);
	}
	free(alias_tables);
	alias_tables = NULL;
	alias_table_count = 0;
	dstring_fini(&alias_problem);
}

/* table_owner: the uid that owns the table's file; 0 when none or unknown. */
static uid_t
table_owner(struct table *table)
{
	const char *file = table->type->source_file ? table->type->source_file(table) : NULL;
	struct stat info;

	if (file == NULL || stat(file, &info) < 0)
		return 0;
	return info.st_uid;
}

enum local_alias_result
local_alias_lookup(const char *name, const char **value, uid_t *owner, struct dstring *error)
{
	struct table_search_address_options options;

	table_search_address_options_from_config(&options);
	options.is_local_domain = true;
	*value = NULL;
	*owner = 0;
	for (size_t i = 0; i < alias_table_count; i++) {
		struct alias_table *member = &alias_tables[i];
		struct table_search search;
		enum table_result found;

		if (member->table != NULL && table_is_stale(member->table)) {
			table_close(member->table);
			member->table = NULL;
		}
		if (member->table == NULL) {
			dstring_reset(&alias_problem);
			member->table = table_open(member->spec, TABLE_FOLD_CASE, &alias_problem);
			if (member->table == NULL) {
				dstring_printf(error, "alias database unavailable: %s",
				               dstring_str(&alias_problem));
				return LOCAL_ALIAS_ERROR;
			}
		}
		table_search_use_table(&search, member->table);
		found = table_search_address(&search, name, &options, value);
		table_search_fini(&search);
		if (found == TABLE_ERROR) {
			dstring_printf(error, "alias database %s unavailable: %s", member->spec,
			               *value ? *value : "lookup error");
			*value = NULL;
			return LOCAL_ALIAS_ERROR;
		}
		if (found == TABLE_FOUND) {
			*owner = table_owner(member->table);
			return LOCAL_ALIAS_FOUND;
		}
	}
	return LOCAL_ALIAS_NONE;
}

/* add_item: item (length bytes) trimmed, unquoted when wholly quoted. */
static void
add_item(struct strlist *items, const char *item, size_t length)
{
	struct dstring text;

	while (length > 0 && (*item == ' ' || *item == '\t' || *item == '\r')) {
		item++;
		length--;
	}
	while (length > 0 &&
	       (item[length - 1] == ' ' || item[length - 1] == '\t' || item[length - 1] == '\r'))
		length--;
	if (length == 0)
		return;
	dstring_init(&text, DSTRING_NO_LIMIT);
	if (length >= 2 && item[0] == '"' && item[length - 1] == '"') {
		/* A wholly quoted item ("|cmd arg", "/path with space"): unquote it. */
		bool is_whole = true;

		for (size_t i = 1; i < length - 1; i++) {
			if (item[i] == '\\' && i + 1 < length - 1) {
				i++;
				continue;
			}
			if (item[i] == '"')
				is_whole = false;
		}
		if (is_whole) {
			for (size_t i = 1; i < length - 1; i++) {
				if (item[i] == '\\' && i + 1 < length - 1)
					i++;
				dstring_append_char(&text, item[i]);
			}
			strlist_append(items, dstring_str(&text));
			dstring_fini(&text);
			return;
		}
	}
	dstring_append(&text, item, length);
	strlist_append(items, dstring_str(&text));
	dstring_fini(&text);
}

int
local_alias_split(const char *value, struct strlist *items, struct dstring *error)
{
	const char *start = value;
	bool is_quoted = false, is_line_start = true, is_comment = false;
	size_t count = 0;

	for (const char *p = value;; p++) {
		if (is_comment) {
			if (*p == '\0')
				break;
			if (*p == '\n') {
				is_comment = false;
				is_line_start = true;
				start = p + 1;
			}
			continue;
		}
		if (*p == '\0') {
			if (is_quoted) {
				dstring_printf(error, "unterminated quoted string");
				return -1;
			}
			add_item(items, start, (size_t)(p - start));
			break;
		}
		if (is_quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				is_quoted = false;
			continue;
		}
		if (is_line_start && *p == '#') {
			is_comment = true;
			continue;
		}
		if (*p == ' ' || *p == '\t')
			continue; /* white space keeps a line "at its start" for comments */
		is_line_start = false;
		if (*p == '"') {
			is_quoted = true;
		} else if (*p == ',' || *p == '\n') {
			add_item(items, start, (size_t)(p - start));
			start = p + 1;
			is_line_start = *p == '\n';
			if (++count > LOCAL_EXPANSION_MAX) {
				dstring_printf(error, "more than %d destinations",
				               LOCAL_EXPANSION_MAX);
				return -1;
			}
		}
	}
	return 0;
}
