/*
 * config - main.cf: reading, parameter expansion, and the typed variables
 * every program uses.
 *
 * Every parameter hikyaku knows is declared once, in config_params.def,
 * with its type, default and bounds. For a parameter `name` that file
 * yields a C variable `var_name` (const char *, bool, int or long long)
 * filled by config_apply().
 *
 * The syntax is Postfix's: `name = value`; lines whose first non-blank
 * character is '#' are comments; a line that starts with white space
 * continues the previous one. Values are stored as written and expanded
 * only when used ($name, ${name}, $(name), ${name?value}, ${name:value},
 * ${name?{value}:{value}}, $$), so the order of definitions does not
 * matter; an expansion that refers back to itself is an error, not a loop.
 *
 * Errors name the file and line: "/etc/hikyaku/main.cf, line 12: bad time
 * value "5x" for maximal_queue_lifetime".
 */
#ifndef HIKYAKU_CONFIG_H
#define HIKYAKU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct dstring;

enum config_type {
	CONFIG_STRING, /* expanded when applied */
	CONFIG_RAW,    /* kept as written: $ has meaning only at use time */
	CONFIG_BOOL,   /* yes | no */
	CONFIG_INT,    /* decimal integer within [min, max] */
	CONFIG_TIME,   /* number with unit s m h d w; seconds */
	CONFIG_SIZE,   /* bytes, optional suffix k m g (1024-based) */
};

/* The compiled-in description of one parameter. */
struct config_param {
	const char *name;
	enum config_type type;
	const char *default_value; /* NULL: computed at run time */
	long long min, max;	   /* bounds for INT, TIME, SIZE */
	char time_unit;		   /* unit of a bare number, for TIME */
	void *variable;		   /* the var_name it fills */
};

/* Declarations of var_name for every parameter. */
#define CONFIG_PARAM(type, name, default_value, min, max, unit) CONFIG_DECLARE_##type(name)
#define CONFIG_DECLARE_STRING(name) extern const char *var_##name;
#define CONFIG_DECLARE_RAW(name) extern const char *var_##name;
#define CONFIG_DECLARE_BOOL(name) extern bool var_##name;
#define CONFIG_DECLARE_INT(name) extern int var_##name;
#define CONFIG_DECLARE_TIME(name) extern int var_##name;
#define CONFIG_DECLARE_SIZE(name) extern long long var_##name;
#include "config_params.def"
#undef CONFIG_PARAM

/* Limits on what a configuration file may hold. */
#define CONFIG_LINE_MAX (256 * 1024) /* one logical line */
#define CONFIG_ENTRIES_MAX 10000     /* name = value entries in one file */
#define CONFIG_EXPAND_DEPTH 100	     /* nested $name expansions */
#define CONFIG_VALUE_MAX (1024 * 1024) /* one expanded value */

/* The table of all known parameters, sorted by name. */
size_t config_param_count(void);
const struct config_param *config_param_at(size_t index);
const struct config_param *config_param_find(const char *name);

/*
 * config_init: forget all settings; compute the run-time defaults
 * (myhostname, mydomain). The compiled-in default of config_directory is
 * replaced by config_directory when that is not NULL.
 */
void config_init(const char *config_directory);

/*
 * config_read: read DIR/main.cf. Each syntax problem is logged with file
 * and line. Returns the number of problems (0 when clean); a missing or
 * unreadable file counts as one.
 */
int config_read(const char *config_directory);

/* config_read_file: the same for any file in main.cf syntax. */
int config_read_file(const char *path);

/*
 * config_parse_text: the same for text already in memory (size bytes, may
 * hold NUL bytes); path names it in messages.
 */
int config_parse_text(const char *text, size_t size, const char *path);

/*
 * config_set: set name = value as if written at origin (for example
 * "master.cf, line 12" for a -o override, or NULL).
 */
void config_set(const char *name, const char *value, const char *origin);

/* config_lookup: the value as written, or the default, or NULL. */
const char *config_lookup(const char *name);
/* config_is_set: whether main.cf (or config_set) gave name a value. */
bool config_is_set(const char *name);
/* config_origin: "file, line N" where name was set, or NULL. */
const char *config_origin(const char *name);

/*
 * config_expand: expand text into out. Returns 0, or -1 with the reason in
 * error (a loop, a syntax error, a value over CONFIG_VALUE_MAX).
 */
int config_expand(const char *text, struct dstring *out, struct dstring *error);

/*
 * config_apply: expand and convert every known parameter into its var_name.
 * Each bad value is logged with the file and line that set it. Returns the
 * number of bad values (0 when all are good).
 */
int config_apply(void);

/*
 * config_convert: check value (already expanded) against param's type and
 * bounds. Returns 0, or -1 with a reason in error.
 */
int config_convert(const struct config_param *param, const char *value, struct dstring *error);

/*
 * config_check_value: whether value (as written, expanded here unless the
 * parameter is RAW) is good for param, without changing var_<name>: for
 * checking master.cf -o overrides. Returns 0, or -1 with a reason in error.
 */
int config_check_value(const struct config_param *param, const char *value,
		       struct dstring *error);

/* Iterate over the names set in main.cf or by config_set, in file order. */
size_t config_setting_count(void);
const char *config_setting_name(size_t index);

/*
 * config_warn_unused: warn (with file and line) about each name set in
 * main.cf that is neither a known parameter nor used by another value.
 * extra_used names more that count as used (master.cf -o references,
 * restriction classes); it may be NULL. Returns the number of warnings.
 */
int config_warn_unused(const char *const *extra_used);

#endif
