/*
 * master_cf_format - print master.cf entries the way "postconf -M" (and,
 * folded, "postconf -Mf") prints them, so administrators see familiar
 * output and the text parses back to the same entry.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dstring.h"
#include "master_cf.h"
#include "strlist.h"

/* The columns before the command, and the command itself. */
#define MASTER_CF_COLUMNS 8

/* "postconf -M" layout: where each column starts, and the folding. */
static const size_t column_goal[MASTER_CF_COLUMNS] = {0, 11, 17, 25, 33, 41, 49, 57};
#define FOLD_LINE_LIMIT 80
#define FOLD_INDENT "    "
#define FOLD_INDENT_LENGTH 4

/*
 * Braces keep an argument whole when the text is parsed again: white
 * space, an empty argument, a leading '{', and a leading '#' (which would
 * make a folded continuation line a comment).
 */
static bool
needs_braces(const char *argument)
{
	return argument[0] == '\0' || argument[0] == '{' || argument[0] == '#' ||
	       strpbrk(argument, " \t") != NULL;
}

static size_t
shown_length(const char *argument)
{
	return strlen(argument) + (needs_braces(argument) ? 2 : 0);
}

static void
append_argument(struct dstring *out, const char *argument)
{
	if (needs_braces(argument))
		dstring_append_printf(out, "{%s}", argument);
	else
		dstring_append_str(out, argument);
}

void
master_cf_format_entry(const struct master_cf_entry *entry, unsigned flags, struct dstring *out)
{
	const bool is_folding = (flags & MASTER_CF_FORMAT_FOLD) != 0;
	const size_t limit = FOLD_LINE_LIMIT;
	size_t line_start = dstring_length(out);
	size_t line_length;
	const char *column[MASTER_CF_COLUMNS];
	char wakeup[32], process_limit[32];
	bool is_option = true;

#define COLUMN_TEXT(bit, value) ((entry->default_columns & (bit)) ? "-" : (value) ? "y" : "n")
	snprintf(wakeup, sizeof(wakeup), "%u%s", entry->wakeup_seconds,
	         entry->wakeup_only_if_used ? "?" : "");
	snprintf(process_limit, sizeof(process_limit), "%d", entry->max_process);
	column[0] = entry->service;
	column[1] = master_cf_type_name(entry->type);
	column[2] = COLUMN_TEXT(MASTER_CF_COLUMN_PRIVATE, entry->is_private);
	column[3] = COLUMN_TEXT(MASTER_CF_COLUMN_UNPRIVILEGED, entry->is_unprivileged);
	column[4] = COLUMN_TEXT(MASTER_CF_COLUMN_CHROOT, entry->is_chroot);
	column[5] = (entry->default_columns & MASTER_CF_COLUMN_WAKEUP) ? "-" : wakeup;
	column[6] = entry->max_process == MASTER_CF_PROCESS_LIMIT_DEFAULT ? "-" : process_limit;
	column[7] = entry->command;
#undef COLUMN_TEXT

	/* The fixed columns at their places, at least one space apart. */
	for (size_t i = 0; i < MASTER_CF_COLUMNS; i++) {
		if (i > 0) {
			do {
				dstring_append_char(out, ' ');
			} while (dstring_length(out) - line_start < column_goal[i]);
		}
		dstring_append_str(out, column[i]);
	}
	line_length = dstring_length(out) - line_start;

	/*
	 * The arguments: "-o name=value" stays together and, when folding,
	 * on a line of its own; other arguments fill lines up to the limit.
	 */
	for (size_t i = 0; i < entry->args.count; i++) {
		const char *argument = entry->args.items[i];
		const char *value = NULL;
		size_t length = shown_length(argument);

		if (is_option) {
			if (argument[0] != '-' || argument[1] == '\0' ||
			    strcmp(argument, "--") == 0) {
				is_option = false;
			} else if (strcmp(argument, "-o") == 0 && i + 1 < entry->args.count) {
				value = entry->args.items[i + 1];
				length += 1 + shown_length(value);
				line_length = limit;
			}
		}
		if (line_length > FOLD_INDENT_LENGTH) {
			if (!is_folding || line_length + 1 + length < limit) {
				dstring_append_char(out, ' ');
				line_length++;
			} else {
				dstring_append_str(out, "\n" FOLD_INDENT);
				line_length = FOLD_INDENT_LENGTH;
			}
		}
		append_argument(out, argument);
		line_length += shown_length(argument);
		if (value != NULL) {
			dstring_append_char(out, ' ');
			append_argument(out, value);
			i++;
			line_length = limit;
		}
	}
}
