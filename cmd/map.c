/*
 * map - `hikyaku map`, Postfix's postmap(1): build lmdb: tables from their
 * text source, query, list, delete from and add to tables.
 *
 *   hikyaku [-c DIR] map [-finNoprsvw] [-c DIR] [-d key] [-q key] [type:]file...
 *
 * Without -q, -d, -s or -i each table is built from its source file. A
 * name without "type:" gets $default_database_type; hash: and btree: are
 * lmdb: here. Queries and listings work on every table type; building,
 * -d and -i on lmdb: only (the others have no index file).
 *
 * Exit status: 0 done (or found), 1 not found (-q, -d), 2 an error. Any
 * bad line in a source or in the input of -i is an error naming file and
 * line, and leaves the table as it was: hikyaku map writes a new file and
 * renames it into place, or changes nothing (see lib/table_lmdb.h). This
 * is stricter than postmap, which skips bad lines with a warning.
 *
 * As postmap does, a build run by root on a source file owned by another
 * user runs as that user (-o: stays root), and a new table gets the mode
 * of its source file (-p: 0644); a table that exists keeps its own.
 *
 * What it trusts: the command line (the administrator's); keys read from
 * standard input are bounded by TABLE_KEY_MAX, sources by table_source.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "stream.h"
#include "table.h"
#include "table_lmdb.h"
#include "table_source.h"
#include "xalloc.h"

enum map_status { MAP_OK = 0, MAP_NOT_FOUND = 1, MAP_ERROR = 2 };

enum map_mode { MODE_BUILD, MODE_QUERY, MODE_DUMP, MODE_DELETE, MODE_INSERT };

struct map_options {
	enum map_mode mode;
	const char *key;      /* of -q and -d; "-" means standard input */
	bool is_folding;      /* not -f */
	bool is_keeping_root; /* -o */
	bool is_default_mode; /* -p */
	unsigned write_flags; /* TABLE_LMDB_* */
};

/* Who we were before running as a table's owner. */
struct identity {
	bool is_changed;
	gid_t gid;
	gid_t *groups;
	int group_count;
};

/* The message that ends the command, logged as fatal after cleaning up. */
static struct dstring failure;
static bool has_failure;

/* fail: the command will end with this error (later ones are just logged). */
static void fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *format, ...)
{
	va_list args;

	if (has_failure) {
		struct dstring extra;

		dstring_init(&extra, LOG_LINE_MAX);
		va_start(args, format);
		dstring_append_vprintf(&extra, format, args);
		va_end(args);
		log_error("%s", dstring_str(&extra));
		dstring_fini(&extra);
		return;
	}
	dstring_init(&failure, LOG_LINE_MAX);
	va_start(args, format);
	dstring_append_vprintf(&failure, format, args);
	va_end(args);
	has_failure = true;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hikyaku map [-finNoprsvw] [-c DIR] [-d key] [-q key] "
	                "[type:]file...\n");
}

/* "type:name" for a command-line argument, with the default type. */
static char *
full_spec(const char *argument)
{
	const char *colon = strchr(argument, ':');
	struct dstring spec;
	bool has_type = colon != NULL && colon != argument;
	char *result;

	for (const char *cursor = argument; has_type && cursor < colon; cursor++)
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *cursor) == NULL)
			has_type = false;
	dstring_init(&spec, DSTRING_NO_LIMIT);
	if (has_type)
		dstring_set(&spec, argument);
	else
		dstring_printf(&spec, "%s:%s",
		               var_default_database_type != NULL && *var_default_database_type
		                   ? var_default_database_type
		                   : "lmdb",
		               argument);
	result = dstring_steal(&spec);
	dstring_fini(&spec);
	return result;
}

/* Split spec and check it names an lmdb table; the name, or NULL. */
static char *
lmdb_name(const char *spec, const char *what)
{
	struct dstring error;
	char *type, *name = NULL;
	const struct table_type *table_type;

	dstring_init(&error, DSTRING_NO_LIMIT);
	if (table_split_spec(spec, &type, &name, &error) != 0) {
		fail("%s", dstring_str(&error));
		dstring_fini(&error);
		return NULL;
	}
	table_type = table_find_type(type);
	if (table_type != &table_type_lmdb) {
		fail("%s: %s %s tables is not supported: only lmdb (hash, btree) tables "
		     "have an index file",
		     spec, what, type);
		free(name);
		name = NULL;
	}
	free(type);
	dstring_fini(&error);
	return name;
}

/*
 * Run as the owner of path when root and path belongs to someone else,
 * as postmap does, so a user's table cannot make root write where it
 * should not. Returns 0, or -1 when the identity could not be changed.
 */
static int
become_owner_of(const char *path, const struct map_options *options, struct identity *saved)
{
	struct stat info;

	saved->is_changed = false;
	if (options->is_keeping_root || geteuid() != 0 || stat(path, &info) != 0)
		return 0;
	if (info.st_uid == 0 && info.st_gid == getegid())
		return 0;
	saved->gid = getegid();
	saved->group_count = getgroups(0, NULL);
	saved->groups =
	    xcalloc((size_t)(saved->group_count > 0 ? saved->group_count : 1), sizeof(gid_t));
	saved->group_count = getgroups(saved->group_count, saved->groups);
	if (saved->group_count < 0 || setgroups(1, &info.st_gid) != 0 ||
	    setegid(info.st_gid) != 0 || seteuid(info.st_uid) != 0) {
		fail("%s: cannot run as its owner (uid %ld): %s", path, (long)info.st_uid,
		     strerror(errno));
		free(saved->groups);
		return -1;
	}
	saved->is_changed = true;
	return 0;
}

static void
become_self_again(struct identity *saved)
{
	if (!saved->is_changed)
		return;
	if (seteuid(0) != 0 || setegid(saved->gid) != 0 ||
	    setgroups((size_t)saved->group_count, saved->groups) != 0)
		log_fatal("cannot return to the original identity: %s", strerror(errno));
	free(saved->groups);
	saved->is_changed = false;
}

/* The mode of a new table: its source's, or 0644 with -p or no source. */
static mode_t
new_table_mode(const char *source_path, const struct map_options *options)
{
	struct stat info;

	if (options->is_default_mode || stat(source_path, &info) != 0)
		return 0644;
	return info.st_mode & 0777;
}

static unsigned
source_flags(const struct map_options *options)
{
	return options->is_folding ? TABLE_SOURCE_FOLD_CASE : 0;
}

static unsigned
table_flags(const struct map_options *options)
{
	return options->is_folding ? TABLE_FOLD_CASE : 0;
}

/* Build lmdb table name from the file name. */
static enum map_status
build_table(const char *name, const struct map_options *options)
{
	struct dstring error;
	struct table_source *source;
	struct table_lmdb_build *build;
	struct table_source_entry entry;
	unsigned long bad_entries = 0;
	int status;

	dstring_init(&error, DSTRING_NO_LIMIT);
	source = table_source_open(name, source_flags(options), &error);
	if (source == NULL)
		goto failed;
	build = table_lmdb_build_begin(name, name, options->write_flags,
	                               new_table_mode(name, options), &error);
	if (build == NULL) {
		table_source_close(source);
		goto failed;
	}
	while ((status = table_source_next(source, &entry, &error)) == 1) {
		dstring_reset(&error);
		if (table_lmdb_build_add(build, entry.key, entry.key_length, entry.value,
		                         entry.value_length, entry.line, &error) != 0) {
			log_error("%s, line %lu: %s", name, entry.line, dstring_str(&error));
			bad_entries++;
		}
	}
	bad_entries += table_source_bad_lines(source);
	table_source_close(source);
	if (status < 0) {
		table_lmdb_build_abort(build);
		goto failed;
	}
	if (bad_entries > 0) {
		table_lmdb_build_abort(build);
		dstring_printf(&error, "%s: %lu bad line%s; %s.lmdb not changed", name, bad_entries,
		               bad_entries == 1 ? "" : "s", name);
		goto failed;
	}
	dstring_reset(&error);
	if (table_lmdb_build_commit(build, &error) != 0)
		goto failed;
	dstring_fini(&error);
	return MAP_OK;

failed:
	fail("%s", dstring_str(&error));
	dstring_fini(&error);
	return MAP_ERROR;
}

/* Open spec for reading, or log why not. */
static struct table *
open_for_reading(const char *spec, const struct map_options *options)
{
	struct dstring error;
	struct table *table;

	dstring_init(&error, DSTRING_NO_LIMIT);
	table = table_open(spec, table_flags(options), &error);
	if (table == NULL)
		fail("%s", dstring_str(&error));
	dstring_fini(&error);
	return table;
}

/*
 * Look key up in the tables in order, opening them as needed. Returns
 * MAP_OK with *value set, MAP_NOT_FOUND, or MAP_ERROR (logged).
 */
static enum map_status
lookup_in(char **specs, struct table **tables, int count, const char *key,
          const struct map_options *options, const char **value)
{
	for (int i = 0; i < count; i++) {
		if (tables[i] == NULL && (tables[i] = open_for_reading(specs[i], options)) == NULL)
			return MAP_ERROR;
		switch (table_lookup(tables[i], key, value)) {
		case TABLE_FOUND:
			return MAP_OK;
		case TABLE_NOT_FOUND:
			break;
		case TABLE_ERROR:
			fail("%s", *value);
			return MAP_ERROR;
		}
	}
	return MAP_NOT_FOUND;
}

static bool
output_failed(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fail("write standard output: %s", strerror(errno));
		return true;
	}
	return false;
}

/*
 * Read one line from standard input into line, without its newline (and
 * CR). Returns 1, 0 at the end, -1 on a read error (logged). A line longer
 * than any key is cut at TABLE_KEY_MAX + 1 bytes, so it never matches.
 */
static int
read_input_line(struct stream *input, struct dstring *line)
{
	enum stream_status status;

	dstring_reset(line);
	status = stream_gets(input, line, TABLE_KEY_MAX + 2);
	if (status == STREAM_EOF)
		return 0;
	if (status == STREAM_PARTIAL && !stream_at_eof(input)) {
		if (stream_skip_line(input) == STREAM_ERROR)
			status = STREAM_ERROR;
	} else if (status == STREAM_OK) {
		dstring_truncate(line, dstring_length(line) - 1);
		if (dstring_length(line) > 0 && dstring_str(line)[dstring_length(line) - 1] == '\r')
			dstring_truncate(line, dstring_length(line) - 1);
	}
	if (status != STREAM_OK && status != STREAM_PARTIAL) {
		fail("read standard input: %s", strerror(stream_error_code(input)));
		return -1;
	}
	return 1;
}

/* -q key, and -q - (keys from standard input, "key<TAB>value" out). */
static enum map_status
query(char **specs, int count, const struct map_options *options)
{
	struct table **tables = xcalloc((size_t)count, sizeof(*tables));
	enum map_status status, result = MAP_NOT_FOUND;
	const char *value;

	if (strcmp(options->key, "-") != 0) {
		result = lookup_in(specs, tables, count, options->key, options, &value);
		if (result == MAP_OK)
			printf("%s\n", value);
	} else {
		struct stream *input = stream_open(STDIN_FILENO);
		struct dstring key;
		int read_status;

		dstring_init(&key, TABLE_KEY_MAX + 16);
		while ((read_status = read_input_line(input, &key)) == 1) {
			status =
			    lookup_in(specs, tables, count, dstring_str(&key), options, &value);
			if (status == MAP_ERROR) {
				result = MAP_ERROR;
				break;
			}
			if (status == MAP_OK) {
				result = MAP_OK;
				fputs(dstring_str(&key), stdout);
				putchar('\t');
				fputs(value, stdout);
				putchar('\n');
			}
		}
		if (read_status < 0)
			result = MAP_ERROR;
		dstring_fini(&key);
		stream_free(input);
	}
	for (int i = 0; i < count; i++)
		table_close(tables[i]);
	free(tables);
	if (output_failed())
		return MAP_ERROR;
	return result;
}

static int
print_entry(const char *key, const char *value, void *context)
{
	fputs(key, stdout);
	putchar('\t');
	fputs(value, stdout);
	putchar('\n');
	return ferror(stdout) ? 1 : 0;
}

/* -s: every entry of every table, "key<TAB>value", in table order. */
static enum map_status
dump(char **specs, int count, const struct map_options *options)
{
	struct dstring error;
	enum map_status result = MAP_OK;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (int i = 0; i < count && result == MAP_OK; i++) {
		struct table *table = open_for_reading(specs[i], options);

		if (table == NULL) {
			result = MAP_ERROR;
			break;
		}
		if (table_iterate(table, print_entry, NULL, &error) != 0) {
			fail("%s", dstring_str(&error));
			result = MAP_ERROR;
		}
		table_close(table);
	}
	dstring_fini(&error);
	if (output_failed())
		return MAP_ERROR;
	return result;
}

static unsigned
update_flags(const struct map_options *options)
{
	return options->write_flags;
}

/* -d: delete keys (one, or one per input line) from every table. */
static enum map_status
delete_keys(char **specs, int count, const struct map_options *options)
{
	struct strlist_keys {
		char **items;
		size_t count;
	} keys = {0};
	enum map_status result = MAP_NOT_FOUND;
	struct dstring error, line;
	size_t capacity = 0;

	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_init(&line, TABLE_KEY_MAX + 16);
	if (strcmp(options->key, "-") == 0) {
		struct stream *input = stream_open(STDIN_FILENO);
		int read_status;

		while ((read_status = read_input_line(input, &line)) == 1) {
			if (keys.count == capacity) {
				capacity = capacity ? capacity * 2 : 64;
				keys.items = xreallocarray(keys.items, capacity, sizeof(char *));
			}
			keys.items[keys.count++] = xstrdup(dstring_str(&line));
		}
		stream_free(input);
		if (read_status < 0)
			result = MAP_ERROR;
	} else {
		keys.items = xcalloc(1, sizeof(char *));
		keys.items[keys.count++] = xstrdup(options->key);
	}
	for (size_t k = 0; k < keys.count && options->is_folding; k++)
		for (char *cursor = keys.items[k]; *cursor; cursor++)
			if (*cursor >= 'A' && *cursor <= 'Z')
				*cursor = (char)(*cursor - 'A' + 'a');
	for (int i = 0; i < count && result != MAP_ERROR; i++) {
		char *name = lmdb_name(specs[i], "deleting from");
		struct table_lmdb_update *update;
		struct table_lmdb_update_result done;
		struct identity saved;

		if (name == NULL || become_owner_of(name, options, &saved) != 0) {
			free(name);
			result = MAP_ERROR;
			break;
		}
		dstring_reset(&error);
		update = table_lmdb_update_begin(name, "stdin", update_flags(options), false,
		                                 new_table_mode(name, options), &error);
		if (update != NULL) {
			for (size_t k = 0; k < keys.count; k++)
				table_lmdb_update_delete(update, keys.items[k]);
			if (table_lmdb_update_commit(update, &done, &error) == 0) {
				if (done.deleted > 0 && result == MAP_NOT_FOUND)
					result = MAP_OK;
			} else
				update = NULL;
		}
		if (update == NULL) {
			fail("%s", dstring_str(&error));
			result = MAP_ERROR;
		}
		become_self_again(&saved);
		free(name);
	}
	for (size_t k = 0; k < keys.count; k++)
		free(keys.items[k]);
	free(keys.items);
	dstring_fini(&line);
	dstring_fini(&error);
	return result;
}

struct input_entry {
	char *key;
	char *value;
	unsigned long line;
};

/* -i: add the entries on standard input (text format) to every table. */
static enum map_status
insert_entries(char **specs, int count, const struct map_options *options)
{
	struct table_source *source =
	    table_source_open_fd(STDIN_FILENO, "stdin", source_flags(options));
	struct table_source_entry entry;
	struct input_entry *entries = NULL;
	size_t entry_count = 0, capacity = 0;
	enum map_status result = MAP_OK;
	struct dstring error;
	int status;

	dstring_init(&error, DSTRING_NO_LIMIT);
	while ((status = table_source_next(source, &entry, &error)) == 1) {
		if (entry.key_length > TABLE_LMDB_KEY_MAX) {
			log_error("stdin, line %lu: key of %zu bytes: an lmdb key has at most %d",
			          entry.line, entry.key_length, TABLE_LMDB_KEY_MAX);
			result = MAP_ERROR;
			continue;
		}
		if (entry_count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			entries = xreallocarray(entries, capacity, sizeof(*entries));
		}
		entries[entry_count].key = xstrdup(entry.key);
		entries[entry_count].value = xstrdup(entry.value);
		entries[entry_count].line = entry.line;
		entry_count++;
	}
	if (status < 0) {
		fail("%s", dstring_str(&error));
		result = MAP_ERROR;
	} else if (table_source_bad_lines(source) > 0 || result == MAP_ERROR) {
		fail("stdin: bad input; no table changed");
		result = MAP_ERROR;
	}
	table_source_close(source);
	for (int i = 0; i < count && result == MAP_OK; i++) {
		char *name = lmdb_name(specs[i], "adding to");
		struct table_lmdb_update *update;
		struct table_lmdb_update_result done;
		struct identity saved;

		if (name == NULL || become_owner_of(name, options, &saved) != 0) {
			free(name);
			result = MAP_ERROR;
			break;
		}
		dstring_reset(&error);
		update = table_lmdb_update_begin(name, "stdin", update_flags(options), true,
		                                 new_table_mode(name, options), &error);
		for (size_t k = 0; update != NULL && k < entry_count; k++)
			if (table_lmdb_update_put(update, entries[k].key, entries[k].value,
			                          entries[k].line, &error) != 0) {
				table_lmdb_update_abort(update);
				update = NULL;
			}
		if (update == NULL || table_lmdb_update_commit(update, &done, &error) != 0) {
			fail("%s", dstring_str(&error));
			result = MAP_ERROR;
		}
		become_self_again(&saved);
		free(name);
	}
	for (size_t k = 0; k < entry_count; k++) {
		free(entries[k].key);
		free(entries[k].value);
	}
	free(entries);
	dstring_fini(&error);
	return result;
}

static enum map_status
build_all(char **specs, int count, const struct map_options *options)
{
	for (int i = 0; i < count; i++) {
		char *name = lmdb_name(specs[i], "building");
		struct identity saved;
		enum map_status status;

		if (name == NULL || become_owner_of(name, options, &saved) != 0) {
			free(name);
			return MAP_ERROR;
		}
		status = build_table(name, options);
		become_self_again(&saved);
		free(name);
		if (status != MAP_OK)
			return status;
	}
	return MAP_OK;
}

static int
set_mode(struct map_options *options, enum map_mode mode, const char *key)
{
	if (options->mode != MODE_BUILD && (options->mode != mode || mode != MODE_INSERT)) {
		log_error("map: specify only one of -q, -d, -s and -i");
		return -1;
	}
	options->mode = mode;
	options->key = key;
	return 0;
}

int
command_map(const char *directory, int argc, char **argv)
{
	struct map_options options = {.mode = MODE_BUILD, .is_folding = true};
	enum map_status status = MAP_OK;
	char **specs;
	int option, count;

	optind = 1;
	while ((option = getopt(argc, argv, "c:d:finNopq:rsvwbhmuUF")) != -1) {
		switch (option) {
		case 'c':
			directory = optarg;
			break;
		case 'd':
			if (set_mode(&options, MODE_DELETE, optarg) != 0)
				return MAP_ERROR;
			break;
		case 'f':
			options.is_folding = false;
			break;
		case 'i':
			if (set_mode(&options, MODE_INSERT, NULL) != 0)
				return MAP_ERROR;
			break;
		case 'n':
			options.write_flags =
			    (options.write_flags & ~TABLE_LMDB_WITH_NUL) | TABLE_LMDB_WITHOUT_NUL;
			break;
		case 'N':
			options.write_flags =
			    (options.write_flags & ~TABLE_LMDB_WITHOUT_NUL) | TABLE_LMDB_WITH_NUL;
			break;
		case 'o':
			options.is_keeping_root = true;
			break;
		case 'p':
			options.is_default_mode = true;
			break;
		case 'q':
			if (set_mode(&options, MODE_QUERY, optarg) != 0)
				return MAP_ERROR;
			break;
		case 'r':
			options.write_flags =
			    (options.write_flags & ~TABLE_LMDB_QUIET) | TABLE_LMDB_REPLACE;
			break;
		case 's':
			if (set_mode(&options, MODE_DUMP, NULL) != 0)
				return MAP_ERROR;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		case 'w':
			options.write_flags =
			    (options.write_flags & ~TABLE_LMDB_REPLACE) | TABLE_LMDB_QUIET;
			break;
		case '?':
			usage();
			return MAP_ERROR;
		default:
			log_error("map: option -%c (message input) is not supported", option);
			return MAP_ERROR;
		}
	}
	if (optind >= argc) {
		usage();
		return MAP_ERROR;
	}
	directory = instance_directory(directory);
	(void)instance_load(directory, false);
	count = argc - optind;
	specs = xcalloc((size_t)count, sizeof(*specs));
	for (int i = 0; i < count; i++)
		specs[i] = full_spec(argv[optind + i]);
	switch (options.mode) {
	case MODE_BUILD:
		status = build_all(specs, count, &options);
		break;
	case MODE_QUERY:
		status = query(specs, count, &options);
		break;
	case MODE_DUMP:
		status = dump(specs, count, &options);
		break;
	case MODE_DELETE:
		status = delete_keys(specs, count, &options);
		break;
	case MODE_INSERT:
		status = insert_entries(specs, count, &options);
		break;
	}
	for (int i = 0; i < count; i++)
		free(specs[i]);
	free(specs);
	if (has_failure) {
		/* Everything is freed; the message outlives it in failure. */
		log_set_fatal_status(MAP_ERROR);
		log_fatal("%s", dstring_str(&failure));
	}
	return status;
}
