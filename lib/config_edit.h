/*
 * config_edit - change main.cf in place, as `hikyaku conf -e/-X/-#` does.
 *
 * Comments, blank lines and the order of entries are kept; only the lines
 * of the entries named change. The new file is written beside the old one,
 * flushed to disk and renamed over it, so a reader (a daemon being
 * reloaded) sees either the old file or the new one, never half of each.
 */
#ifndef HIKYAKU_CONFIG_EDIT_H
#define HIKYAKU_CONFIG_EDIT_H

#include <stddef.h>

enum config_edit_action {
	CONFIG_EDIT_SET,	/* name = value: replace the entry, or append it */
	CONFIG_EDIT_REMOVE,	/* delete the entry's lines */
	CONFIG_EDIT_COMMENT_OUT /* put '#' before each of the entry's lines */
};

struct config_edit {
	const char *name;
	const char *value; /* for CONFIG_EDIT_SET */
};

/*
 * config_edit_file: apply action to each named entry of path. Every
 * occurrence of a name is changed (a later duplicate would override the
 * new value otherwise). A missing file is created by CONFIG_EDIT_SET.
 * Returns 0, or -1 after logging why (bad name, newline in a value, I/O).
 */
int config_edit_file(const char *path, enum config_edit_action action,
		     const struct config_edit *edits, size_t count);

#endif
