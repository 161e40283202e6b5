/*
 * table_list - several tables searched in order, as a parameter such as
 * "alias_maps = lmdb:/etc/aliases, pcre:/etc/hikyaku/aliases.pcre" names
 * them.
 *
 * A table that cannot be opened, or whose file was rebuilt, is opened
 * again at the next lookup (at most once a second), so a daemon recovers
 * by itself when the administrator fixes a table. Until then every lookup
 * that reaches it is TABLE_ERROR: mail is deferred, never let through.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstring.h"
#include "log.h"
#include "strlist.h"
#include "table.h"
#include "xalloc.h"

struct table_member {
	char *spec;
	struct table *table;	 /* NULL while it cannot be opened */
	struct dstring *problem; /* why it cannot be opened */
	time_t last_check;	 /* when it was last opened or checked */
};

struct table_list {
	unsigned flags;
	bool is_malformed; /* the list itself did not parse: never retried */
	size_t count;
	struct table_member *members;
};

static time_t
now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

static void
open_member(struct table_member *member, unsigned flags)
{
	dstring_reset(member->problem);
	member->table = table_open(member->spec, flags, member->problem);
	member->last_check = now_seconds();
	if (member->table == NULL)
		log_warning("%s", dstring_str(member->problem));
}

struct table_list *
table_list_open(const char *specs, unsigned flags)
{
	struct table_list *list = xcalloc(1, sizeof(*list));
	struct strlist items;
	struct dstring *split_error = dstring_new(DSTRING_NO_LIMIT);

	strlist_init(&items);
	list->flags = flags;
	if (strlist_split(&items, specs, STRLIST_COMMA_SPACE, split_error) != 0 ||
	    items.count > TABLE_LIST_MAX) {
		/* The whole list is unusable: one member that reports why. */
		list->count = 1;
		list->members = xcalloc(1, sizeof(*list->members));
		list->members[0].spec = xstrdup(specs);
		list->members[0].problem = dstring_new(DSTRING_NO_LIMIT);
		dstring_printf(list->members[0].problem, "table list \"%s\": %s", specs,
			       items.count > TABLE_LIST_MAX ? "too many tables"
							    : dstring_str(split_error));
		log_warning("%s", dstring_str(list->members[0].problem));
		list->is_malformed = true;
	} else {
		list->count = items.count;
		list->members = xcalloc(items.count ? items.count : 1, sizeof(*list->members));
		for (size_t i = 0; i < items.count; i++) {
			list->members[i].spec = xstrdup(items.items[i]);
			list->members[i].problem = dstring_new(DSTRING_NO_LIMIT);
			open_member(&list->members[i], flags);
		}
	}
	strlist_fini(&items);
	dstring_free(split_error);
	return list;
}

void
table_list_close(struct table_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		table_close(list->members[i].table);
		dstring_free(list->members[i].problem);
		free(list->members[i].spec);
	}
	free(list->members);
	free(list);
}

size_t
table_list_count(const struct table_list *list)
{
	return list->count;
}

/* Reopen a member that failed, or whose file changed, once a second at most. */
static void
refresh_member(struct table_member *member, unsigned flags)
{
	time_t now = now_seconds();

	if (now == member->last_check)
		return;
	member->last_check = now;
	if (member->table != NULL && !table_is_stale(member->table))
		return;
	if (member->table != NULL) {
		log_info("table %s has changed: reopening", member->spec);
		table_close(member->table);
	}
	open_member(member, flags);
}

static enum table_result
list_lookup(struct table_list *list, const char *key, bool is_partial, const char **value)
{
	*value = NULL;
	for (size_t i = 0; i < list->count; i++) {
		struct table_member *member = &list->members[i];
		enum table_result result;

		if (!list->is_malformed)
			refresh_member(member, list->flags);
		if (member->table == NULL) {
			*value = dstring_str(member->problem);
			return TABLE_ERROR;
		}
		if (is_partial && member->table->type->is_pattern)
			continue;
		result = table_lookup(member->table, key, value);
		if (result != TABLE_NOT_FOUND)
			return result;
	}
	return TABLE_NOT_FOUND;
}

enum table_result
table_list_lookup(struct table_list *list, const char *key, const char **value)
{
	return list_lookup(list, key, false, value);
}

enum table_result
table_list_lookup_partial(struct table_list *list, const char *key, const char **value)
{
	return list_lookup(list, key, true, value);
}
