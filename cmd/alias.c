/*
 * hikyaku alias - build and query alias tables, like postalias(1); and
 * newaliases, which rebuilds every table named in alias_database.
 *
 *   hikyaku [-c DIR] alias [-Nfinoprsvw] [-c DIR] [-d key] [-q key] [type:]file ...
 *   newaliases [-C DIR] [-v] [sendmail options, ignored]
 *
 * Building reads FILE in the aliases(5) format (lib/alias_source.h) and
 * replaces the table FILE.lmdb as a whole (lib/table_lmdb.h): readers see
 * the old table or the new one, never half of one. Any bad line leaves
 * the table as it was; every bad line is reported with file and line.
 * Duplicate names: Postfix's rule, a warning and the first one wins (-r:
 * the last one, -w: no warning).
 *
 * The table type is lmdb; hash: and btree: mean lmdb: as everywhere in
 * hikyaku, and a name without a type gets default_database_type. -q and
 * -s read any table type.
 *
 * Exit status: 0 done (for -q and -d: found); 1 not found (-q, -d);
 * 2 bad input, usage or a table that cannot be read or written.
 * newaliases: 0 done, 1 a table could not be built, 64 usage (sendmail's
 * EX_USAGE).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias_source.h"
#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "stream.h"
#include "strlist.h"
#include "table.h"
#include "table_lmdb.h"
#include "xalloc.h"

#define ALIAS_EXIT_OK 0
#define ALIAS_EXIT_NOT_FOUND 1
#define ALIAS_EXIT_ERROR 2
#define NEWALIASES_EXIT_FAILED 1
#define NEWALIASES_EXIT_USAGE 64

struct alias_options {
	unsigned lmdb_flags;    /* TABLE_LMDB_WITHOUT_NUL, _REPLACE, _QUIET */
	unsigned table_flags;   /* TABLE_FOLD_CASE unless -f */
	unsigned source_flags;  /* ALIAS_SOURCE_KEEP_CASE with -f */
	bool keeps_source_mode; /* the table is no more readable than its source (not -p) */
};

/* A table argument, "type:name" or "name", with the type resolved. */
struct table_argument {
	char *type;
	char *name;
	char *spec; /* "type:name" */
};

static int
parse_table_argument(const char *argument, struct table_argument *table)
{
	struct dstring error;
	int status = 0;

	memset(table, 0, sizeof(*table));
	dstring_init(&error, DSTRING_NO_LIMIT);
	/* A ':' before any '/' starts a type, as postalias reads its arguments. */
	if (strchr(argument, ':') != NULL &&
	    (strchr(argument, '/') == NULL || strchr(argument, ':') < strchr(argument, '/'))) {
		if (table_split_spec(argument, &table->type, &table->name, &error) != 0) {
			log_error("%s", dstring_str(&error));
			status = -1;
		}
	} else if (*argument == '\0') {
		log_error("empty table name");
		status = -1;
	} else {
		table->type = xstrdup(var_default_database_type);
		table->name = xstrdup(argument);
	}
	if (status == 0) {
		dstring_printf(&error, "%s:%s", table->type, table->name);
		table->spec = dstring_steal(&error);
	}
	dstring_fini(&error);
	return status;
}

static void
free_table_argument(struct table_argument *table)
{
	free(table->type);
	free(table->name);
	free(table->spec);
}

/* Only lmdb tables (and hash:, btree:, which mean lmdb) can be written. */
static bool
is_writable_type(const struct table_argument *table)
{
	if (table_find_type(table->type) == &table_type_lmdb)
		return true;
	log_error("%s: cannot build or change a table of type \"%s\" "
	          "(lmdb, hash and btree can be)",
	          table->spec, table->type);
	return false;
}

/*
 * The mode of a new table: as postalias does, no more readable than its
 * source (group and other lose what the source does not grant them).
 */
static mode_t
new_table_mode(const char *source, const struct alias_options *options)
{
	struct stat info;

	if (!options->keeps_source_mode || source == NULL || stat(source, &info) != 0 ||
	    !S_ISREG(info.st_mode))
		return 0644;
	return 0644 & ~(022 | (~info.st_mode & 077));
}

/* ---- Building ---------------------------------------------------------- */

struct build_context {
	struct table_lmdb_build *build;
	const char *source;
	unsigned errors;
	struct dstring error;
};

static int
add_entry(const char *name, const char *value, unsigned line, void *context)
{
	struct build_context *build = context;

	if (table_lmdb_build_add(build->build, name, strlen(name), value, strlen(value), line,
	                         &build->error) != 0) {
		log_error("%s, line %u: %s", build->source, line, dstring_str(&build->error));
		build->errors++;
	}
	return 0;
}

/* alias_build: rebuild table from its source file. Returns 0 or -1 (logged). */
static int
alias_build(const struct table_argument *table, const struct alias_options *options)
{
	struct build_context build;
	struct stat info;
	int errors;

	if (!is_writable_type(table))
		return -1;
	/* Look at the source before taking the table's lock. */
	if (stat(table->name, &info) != 0) {
		log_error("open %s: %s", table->name, strerror(errno));
		return -1;
	}
	memset(&build, 0, sizeof(build));
	build.source = table->name;
	dstring_init(&build.error, DSTRING_NO_LIMIT);
	build.build = table_lmdb_build_begin(table->name, table->name, options->lmdb_flags,
	                                     new_table_mode(table->name, options), &build.error);
	if (build.build == NULL) {
		log_error("%s", dstring_str(&build.error));
		dstring_fini(&build.error);
		return -1;
	}
	errors =
	    alias_source_read_file(table->name, options->source_flags, add_entry, &build, NULL);
	if (errors != 0 || build.errors != 0) {
		table_lmdb_build_abort(build.build);
		if (errors >= 0)
			log_error("%s: %u bad line%s: table %s not changed", table->name,
			          (unsigned)errors + build.errors,
			          (unsigned)errors + build.errors == 1 ? "" : "s", table->spec);
		dstring_fini(&build.error);
		return -1;
	}
	if (table_lmdb_build_commit(build.build, &build.error) != 0) {
		log_error("%s", dstring_str(&build.error));
		dstring_fini(&build.error);
		return -1;
	}
	log_debug("%s: table %s rebuilt", table->name, table->spec);
	dstring_fini(&build.error);
	return 0;
}

/* ---- Incremental changes (-i, -d) ------------------------------------- */

struct update_context {
	struct table_lmdb_update *update;
	const char *source;
	unsigned errors;
	struct dstring error;
};

static int
put_entry(const char *name, const char *value, unsigned line, void *context)
{
	struct update_context *update = context;

	if (table_lmdb_update_put(update->update, name, value, line, &update->error) != 0) {
		log_error("%s, line %u: %s", update->source, line, dstring_str(&update->error));
		update->errors++;
	}
	return 0;
}

/* -i: add the entries on standard input to table. */
static int
alias_insert(const struct table_argument *table, const struct alias_options *options)
{
	struct update_context update;
	struct table_lmdb_update_result result;
	struct stream *input;
	int errors;

	if (!is_writable_type(table))
		return ALIAS_EXIT_ERROR;
	memset(&update, 0, sizeof(update));
	update.source = "stdin";
	dstring_init(&update.error, DSTRING_NO_LIMIT);
	update.update = table_lmdb_update_begin(table->name, "stdin", options->lmdb_flags, true,
	                                        new_table_mode(NULL, options), &update.error);
	if (update.update == NULL) {
		log_error("%s", dstring_str(&update.error));
		dstring_fini(&update.error);
		return ALIAS_EXIT_ERROR;
	}
	input = stream_open(STDIN_FILENO);
	errors = alias_source_read_stream(input, "stdin", options->source_flags, put_entry, &update,
	                                  NULL);
	stream_free(input);
	if (errors != 0 || update.errors != 0) {
		table_lmdb_update_abort(update.update);
		log_error("stdin: bad input: table %s not changed", table->spec);
		dstring_fini(&update.error);
		return ALIAS_EXIT_ERROR;
	}
	if (table_lmdb_update_commit(update.update, &result, &update.error) != 0) {
		log_error("%s", dstring_str(&update.error));
		dstring_fini(&update.error);
		return ALIAS_EXIT_ERROR;
	}
	dstring_fini(&update.error);
	return ALIAS_EXIT_OK;
}

/*
 * Read keys, one a line, from standard input for "-q -" and "-d -".
 * Returns the keys in list, or -1 when the input could not be read.
 */
static int
read_keys(struct strlist *keys)
{
	struct stream *input = stream_open(STDIN_FILENO);
	struct dstring line;
	int status = 0;

	dstring_init(&line, TABLE_KEY_MAX + 2);
	for (;;) {
		enum stream_status read_status;
		size_t length;

		dstring_reset(&line);
		read_status = stream_gets(input, &line, TABLE_KEY_MAX + 1);
		if (read_status == STREAM_EOF)
			break;
		if (read_status != STREAM_OK && read_status != STREAM_PARTIAL) {
			log_error("read stdin: %s", strerror(errno));
			status = -1;
			break;
		}
		length = dstring_length(&line);
		if (read_status == STREAM_OK)
			length--;
		if (length > 0 && line.data[length - 1] == '\r')
			length--;
		if (read_status == STREAM_PARTIAL && length > TABLE_KEY_MAX) {
			log_warning("stdin: skipping a key longer than %d bytes", TABLE_KEY_MAX);
			if (stream_skip_line(input) != STREAM_OK)
				break;
			continue;
		}
		strlist_append_n(keys, dstring_str(&line), length);
	}
	dstring_fini(&line);
	stream_free(input);
	return status;
}

/* -d: delete key (or the keys on standard input) from each table. */
static int
alias_delete(const char *key, struct table_argument *tables, size_t count,
             const struct alias_options *options)
{
	struct strlist keys;
	struct dstring error;
	bool is_found = false, has_error = false;

	strlist_init(&keys);
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (strcmp(key, "-") == 0) {
		if (read_keys(&keys) != 0)
			has_error = true;
	} else {
		strlist_append(&keys, key);
	}
	/* Keys are stored folded: delete what -q finds. */
	for (size_t k = 0; k < keys.count && (options->table_flags & TABLE_FOLD_CASE); k++)
		for (char *cursor = keys.items[k]; *cursor; cursor++)
			*cursor = (char)tolower((unsigned char)*cursor);
	for (size_t i = 0; i < count && !has_error; i++) {
		struct table_lmdb_update *update;
		struct table_lmdb_update_result result;

		if (!is_writable_type(&tables[i])) {
			has_error = true;
			break;
		}
		dstring_reset(&error);
		update = table_lmdb_update_begin(tables[i].name, tables[i].name,
		                                 options->lmdb_flags, false, 0644, &error);
		if (update == NULL) {
			log_error("%s", dstring_str(&error));
			has_error = true;
			break;
		}
		for (size_t k = 0; k < keys.count; k++)
			table_lmdb_update_delete(update, keys.items[k]);
		if (table_lmdb_update_commit(update, &result, &error) != 0) {
			log_error("%s", dstring_str(&error));
			has_error = true;
			break;
		}
		is_found |= result.deleted > 0;
	}
	strlist_fini(&keys);
	dstring_fini(&error);
	if (has_error)
		return ALIAS_EXIT_ERROR;
	return is_found ? ALIAS_EXIT_OK : ALIAS_EXIT_NOT_FOUND;
}

/* ---- Reading (-q, -s) -------------------------------------------------- */

static struct table **
open_tables(struct table_argument *arguments, size_t count, unsigned flags)
{
	struct table **tables = xcalloc(count, sizeof(*tables));
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < count; i++) {
		dstring_reset(&error);
		tables[i] = table_open(arguments[i].spec, flags, &error);
		if (tables[i] == NULL) {
			log_error("%s", dstring_str(&error));
			for (size_t j = 0; j < i; j++)
				table_close(tables[j]);
			free(tables);
			tables = NULL;
			break;
		}
	}
	dstring_fini(&error);
	return tables;
}

static void
close_tables(struct table **tables, size_t count)
{
	for (size_t i = 0; i < count; i++)
		table_close(tables[i]);
	free(tables);
}

/*
 * Look key up in each table in turn; the first answer counts. Returns
 * the result; on TABLE_ERROR the reason is logged.
 */
static enum table_result
lookup_first(struct table **tables, size_t count, const char *key, const char **value)
{
	for (size_t i = 0; i < count; i++) {
		enum table_result result = table_lookup(tables[i], key, value);

		if (result == TABLE_ERROR)
			log_error("%s: lookup of \"%s\": %s", tables[i]->spec, key, *value);
		if (result != TABLE_NOT_FOUND)
			return result;
	}
	return TABLE_NOT_FOUND;
}

static int
finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("write standard output: %s", strerror(errno));
		return ALIAS_EXIT_ERROR;
	}
	return status;
}

/* -q: print the value of key (or "key:\tvalue" for each key on stdin). */
static int
alias_query(const char *key, struct table_argument *arguments, size_t count,
            const struct alias_options *options)
{
	struct table **tables = open_tables(arguments, count, options->table_flags);
	bool is_found = false, has_error = false;
	const char *value;

	if (tables == NULL)
		return ALIAS_EXIT_ERROR;
	if (strcmp(key, "-") != 0) {
		switch (lookup_first(tables, count, key, &value)) {
		case TABLE_FOUND:
			printf("%s\n", value);
			is_found = true;
			break;
		case TABLE_ERROR:
			has_error = true;
			break;
		case TABLE_NOT_FOUND:
			break;
		}
	} else {
		struct strlist keys;

		strlist_init(&keys);
		has_error = read_keys(&keys) != 0;
		for (size_t i = 0; i < keys.count; i++) {
			switch (lookup_first(tables, count, keys.items[i], &value)) {
			case TABLE_FOUND:
				printf("%s:\t%s\n", keys.items[i], value);
				is_found = true;
				break;
			case TABLE_ERROR:
				has_error = true;
				break;
			case TABLE_NOT_FOUND:
				break;
			}
		}
		strlist_fini(&keys);
	}
	close_tables(tables, count);
	if (has_error)
		return finish_output(ALIAS_EXIT_ERROR);
	return finish_output(is_found ? ALIAS_EXIT_OK : ALIAS_EXIT_NOT_FOUND);
}

static int
print_entry(const char *key, const char *value, void *context)
{
	(void)context;
	printf("%s:\t%s\n", key, value);
	return 0;
}

/* -s: print every entry of each table. */
static int
alias_show(struct table_argument *arguments, size_t count, const struct alias_options *options)
{
	struct table **tables = open_tables(arguments, count, options->table_flags);
	struct dstring error;
	int status = ALIAS_EXIT_OK;

	if (tables == NULL)
		return ALIAS_EXIT_ERROR;
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < count && status == ALIAS_EXIT_OK; i++) {
		if (table_iterate(tables[i], print_entry, NULL, &error) < 0) {
			log_error("%s", dstring_str(&error));
			status = ALIAS_EXIT_ERROR;
		}
	}
	dstring_fini(&error);
	close_tables(tables, count);
	return finish_output(status);
}

/* ---- The commands ------------------------------------------------------ */

static void
alias_usage(void)
{
	log_error("usage: hikyaku [-c DIR] alias [-Nfinoprsvw] [-c DIR] [-d key] [-q key] "
	          "[type:]file ...");
}

int
command_alias(const char *directory, int argc, char **argv)
{
	struct alias_options options = {.table_flags = TABLE_FOLD_CASE, .keeps_source_mode = true};
	const char *query = NULL, *delete_key = NULL;
	bool is_show = false, is_incremental = false;
	struct table_argument *tables;
	size_t count;
	int option, status = ALIAS_EXIT_OK;

	optind = 0;
	while ((option = getopt(argc, argv, "Nc:d:finopq:rsvw")) != -1) {
		switch (option) {
		case 'N':
			options.lmdb_flags &= ~(unsigned)TABLE_LMDB_WITHOUT_NUL;
			break;
		case 'n':
			options.lmdb_flags |= TABLE_LMDB_WITHOUT_NUL;
			break;
		case 'c':
			directory = optarg;
			break;
		case 'f':
			options.table_flags &= ~(unsigned)TABLE_FOLD_CASE;
			options.source_flags |= ALIAS_SOURCE_KEEP_CASE;
			break;
		case 'i':
			is_incremental = true;
			break;
		case 'o':
			/* We never change identity: nothing to turn off. */
			break;
		case 'p':
			options.keeps_source_mode = false;
			break;
		case 'r':
			options.lmdb_flags |= TABLE_LMDB_REPLACE;
			options.lmdb_flags &= ~(unsigned)TABLE_LMDB_QUIET;
			break;
		case 'w':
			options.lmdb_flags |= TABLE_LMDB_QUIET;
			options.lmdb_flags &= ~(unsigned)TABLE_LMDB_REPLACE;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		case 'd':
		case 'q':
		case 's':
			if (query != NULL || delete_key != NULL || is_show) {
				log_error("specify only one of -s -q or -d");
				return ALIAS_EXIT_ERROR;
			}
			if (option == 'd')
				delete_key = optarg;
			else if (option == 'q')
				query = optarg;
			else
				is_show = true;
			break;
		default:
			alias_usage();
			return ALIAS_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		alias_usage();
		return ALIAS_EXIT_ERROR;
	}
	if (is_incremental && (query != NULL || delete_key != NULL || is_show)) {
		log_error("-i cannot be combined with -q, -d or -s");
		return ALIAS_EXIT_ERROR;
	}
	if (is_incremental && argc - optind != 1) {
		log_error("-i adds standard input to one table");
		return ALIAS_EXIT_ERROR;
	}
	directory = instance_directory(directory);
	if (instance_load(directory, false) != 0) {
		log_error("%s: configuration errors", directory);
		return ALIAS_EXIT_ERROR;
	}
	count = (size_t)(argc - optind);
	tables = xcalloc(count, sizeof(*tables));
	for (size_t i = 0; i < count; i++)
		if (parse_table_argument(argv[optind + (int)i], &tables[i]) != 0)
			status = ALIAS_EXIT_ERROR;
	if (status != ALIAS_EXIT_OK) {
		/* nothing more */
	} else if (query != NULL) {
		status = alias_query(query, tables, count, &options);
	} else if (delete_key != NULL) {
		status = alias_delete(delete_key, tables, count, &options);
	} else if (is_show) {
		status = alias_show(tables, count, &options);
	} else if (is_incremental) {
		status = alias_insert(&tables[0], &options);
	} else {
		for (size_t i = 0; i < count; i++)
			if (alias_build(&tables[i], &options) != 0)
				status = ALIAS_EXIT_ERROR;
	}
	for (size_t i = 0; i < count; i++)
		free_table_argument(&tables[i]);
	free(tables);
	return status;
}

/*
 * newaliases takes sendmail's options (it is sendmail -bi): -C DIR names
 * the configuration, -v is verbose, the others are accepted and ignored.
 * This is sendmail's option string as Postfix's sendmail reads it.
 */
#define SENDMAIL_OPTIONS "+:A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx"

int
command_newaliases(int argc, char **argv)
{
	struct alias_options options = {.table_flags = TABLE_FOLD_CASE, .keeps_source_mode = true};
	const char *option_directory = NULL, *directory;
	struct strlist names;
	struct dstring error;
	int option, status = 0;

	optind = 0;
	opterr = 0;
	while ((option = getopt(argc, argv, SENDMAIL_OPTIONS)) != -1) {
		switch (option) {
		case 'C':
			option_directory = optarg;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		case '?':
			log_error("usage: newaliases [-C config_dir] [-v]: unknown option -%c",
			          optopt);
			return NEWALIASES_EXIT_USAGE;
		case ':':
			log_error("usage: newaliases: option -%c needs a value", optopt);
			return NEWALIASES_EXIT_USAGE;
		default:
			log_debug("ignoring option -%c", option);
			break;
		}
	}
	opterr = 1;
	if (optind < argc) {
		log_error("usage: newaliases [-C config_dir] [-v]: unexpected argument \"%s\"",
		          argv[optind]);
		return NEWALIASES_EXIT_USAGE;
	}
	directory = instance_directory(option_directory);
	if (instance_load(directory, false) != 0) {
		log_error("%s: configuration errors: no alias table rebuilt", directory);
		return NEWALIASES_EXIT_FAILED;
	}
	strlist_init(&names);
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (strlist_split(&names, var_alias_database, STRLIST_COMMA_SPACE, &error) != 0) {
		log_error("alias_database: %s", dstring_str(&error));
		status = NEWALIASES_EXIT_FAILED;
	} else if (names.count == 0) {
		log_info("alias_database is empty: no alias table to build");
	}
	/* A table that fails does not keep the others from being rebuilt. */
	for (size_t i = 0; i < names.count; i++) {
		struct table_argument table;

		if (parse_table_argument(names.items[i], &table) != 0) {
			status = NEWALIASES_EXIT_FAILED;
			continue;
		}
		if (alias_build(&table, &options) != 0)
			status = NEWALIASES_EXIT_FAILED;
		free_table_argument(&table);
	}
	strlist_fini(&names);
	dstring_fini(&error);
	return status;
}
