/*
 * test_table_lmdb - lmdb: tables: building, reading through table.h,
 * updating, the stored form (with and without the trailing NUL, including
 * tables written the way Postfix writes them), the atomic replacement and
 * what a missing table gives.
 */
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_lmdb.h"

static char directory[] = "/tmp/test_table_lmdb.XXXXXX";

/* A path in the test directory (a static buffer, one at a time). */
static const char *
path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", directory, name);
	return path;
}

struct pair {
	const char *key;
	const char *value;
};

/* Build table name from pairs; the commit's return value. */
static int
build(const char *name, unsigned flags, const struct pair *pairs, size_t count)
{
	struct dstring error;
	struct table_lmdb_build *builder;
	int result;

	dstring_init(&error, DSTRING_NO_LIMIT);
	builder = table_lmdb_build_begin(path_of(name), name, flags, 0644, &error);
	CHECK(builder != NULL);
	if (builder == NULL)
		return -1;
	for (size_t i = 0; i < count; i++)
		CHECK_INT_EQ(table_lmdb_build_add(builder, pairs[i].key, strlen(pairs[i].key),
		                                  pairs[i].value, strlen(pairs[i].value), i + 1,
		                                  &error),
		             0);
	result = table_lmdb_build_commit(builder, &error);
	if (result != 0)
		fprintf(stderr, "build %s: %s\n", name, dstring_str(&error));
	dstring_fini(&error);
	return result;
}

static struct table *
open_table(const char *type, const char *name)
{
	struct dstring spec, error;
	struct table *table;

	dstring_init(&spec, DSTRING_NO_LIMIT);
	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_printf(&spec, "%s:%s", type, path_of(name));
	table = table_open(dstring_str(&spec), TABLE_FOLD_CASE, &error);
	if (table == NULL)
		fprintf(stderr, "open %s: %s\n", dstring_str(&spec), dstring_str(&error));
	dstring_fini(&spec);
	dstring_fini(&error);
	return table;
}

/* The value of key, "" when not found, "ERROR" on an error. */
static const char *
lookup(struct table *table, const char *key)
{
	const char *value;

	switch (table_lookup(table, key, &value)) {
	case TABLE_FOUND:
		return value;
	case TABLE_NOT_FOUND:
		return "";
	default:
		return "ERROR";
	}
}

static int
collect(const char *key, const char *value, void *context)
{
	dstring_append_printf(context, "%s=%s;", key, value);
	return 0;
}

static void
expect_listing(struct table *table, const char *expected)
{
	struct dstring out, error;

	dstring_init(&out, DSTRING_NO_LIMIT);
	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(table_iterate(table, collect, &out, &error), 0);
	CHECK_STR_EQ(dstring_str(&out), expected);
	dstring_fini(&out);
	dstring_fini(&error);
}

/* The raw stored size of key (with its NUL or not) in name.lmdb, or 0. */
static size_t
stored_key_size(const char *name, const char *key)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val data, value;
	size_t size = 0;
	char file[600];

	snprintf(file, sizeof(file), "%s.lmdb", path_of(name));
	mdb_env_create(&env);
	if (mdb_env_open(env, file, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		mdb_dbi_open(txn, NULL, 0, &dbi);
		for (int with_nul = 1; with_nul >= 0 && size == 0; with_nul--) {
			data.mv_data = (void *)key;
			data.mv_size = strlen(key) + (size_t)with_nul;
			if (mdb_get(txn, dbi, &data, &value) == 0)
				size = data.mv_size;
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return size;
}

/* Write name.lmdb the way Postfix's postmap does (or without the NULs). */
static void
write_like_postfix(const char *name, const struct pair *pairs, size_t count, bool with_nul)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, value;
	char file[600];

	snprintf(file, sizeof(file), "%s.lmdb", path_of(name));
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_open(env, file, MDB_NOSUBDIR | MDB_NOLOCK, 0644) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
	for (size_t i = 0; i < count; i++) {
		key.mv_data = (void *)pairs[i].key;
		key.mv_size = strlen(pairs[i].key) + with_nul;
		value.mv_data = (void *)pairs[i].value;
		value.mv_size = strlen(pairs[i].value) + with_nul;
		CHECK(mdb_put(txn, dbi, &key, &value, 0) == 0);
	}
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static void
test_build_and_lookup(void)
{
	static const struct pair pairs[] = {
	    {"zebra", "last"},      {"alpha", "first"},        {"mid", "middle value"},
	    {"alpha", "duplicate"}, {"user@example.com", "x"},
	};
	struct table *table;

	CHECK_INT_EQ(build("basic", 0, pairs, 5), 0);
	table = open_table("lmdb", "basic");
	CHECK(table != NULL);
	if (table == NULL)
		return;
	CHECK_STR_EQ(lookup(table, "alpha"), "first"); /* the first duplicate wins */
	CHECK_STR_EQ(lookup(table, "ALPHA"), "first"); /* folded by table.c */
	CHECK_STR_EQ(lookup(table, "mid"), "middle value");
	CHECK_STR_EQ(lookup(table, "user@example.com"), "x");
	CHECK_STR_EQ(lookup(table, "nothing"), "");
	CHECK_STR_EQ(lookup(table, ""), "");
	expect_listing(table, "alpha=first;mid=middle value;user@example.com=x;zebra=last;");
	table_close(table);
	CHECK_INT_EQ(stored_key_size("basic", "alpha"), 6); /* with the NUL */

	/* hash: and btree: are the same type. */
	table = open_table("hash", "basic");
	CHECK(table != NULL);
	if (table != NULL)
		CHECK_STR_EQ(lookup(table, "zebra"), "last");
	table_close(table);

	/* REPLACE keeps the last duplicate; WITHOUT_NUL stores bare bytes. */
	CHECK_INT_EQ(build("replace", TABLE_LMDB_REPLACE | TABLE_LMDB_WITHOUT_NUL, pairs, 5), 0);
	CHECK_INT_EQ(stored_key_size("replace", "alpha"), 5);
	table = open_table("lmdb", "replace");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, "alpha"), "duplicate");
		expect_listing(table,
		               "alpha=duplicate;mid=middle value;user@example.com=x;zebra=last;");
	}
	table_close(table);

	/* An empty table is a table. */
	CHECK_INT_EQ(build("empty", 0, NULL, 0), 0);
	table = open_table("lmdb", "empty");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, "a"), "");
		expect_listing(table, "");
	}
	table_close(table);
}

static void
test_postfix_tables(void)
{
	static const struct pair pairs[] = {{"key1", "Value1"}, {"utf8\xc3\x9c", "wert"}};
	struct table *table;

	for (int with_nul = 0; with_nul < 2; with_nul++) {
		const char *name = with_nul ? "postfix-nul" : "postfix-bare";

		write_like_postfix(name, pairs, 2, with_nul);
		table = open_table("lmdb", name);
		CHECK(table != NULL);
		if (table == NULL)
			continue;
		CHECK_STR_EQ(lookup(table, "key1"), "Value1");
		CHECK_STR_EQ(lookup(table, "KEY1"), "Value1");
		CHECK_STR_EQ(lookup(table, "utf8\xc3\x9c"), "wert");
		CHECK_STR_EQ(lookup(table, "key"), "");
		expect_listing(table, "key1=Value1;utf8\xc3\x9c=wert;");
		table_close(table);
	}
}

static void
test_missing_and_broken(void)
{
	struct dstring error;
	struct table *table;
	FILE *file;

	dstring_init(&error, DSTRING_NO_LIMIT);
	table = table_open("lmdb:/nonexistent/table", TABLE_FOLD_CASE, &error);
	CHECK(table == NULL);
	CHECK_STR_EQ(dstring_str(&error),
	             "open /nonexistent/table.lmdb: No such file or directory");

	/* A file that is not an LMDB environment. */
	file = fopen(path_of("junk.lmdb"), "w");
	fputs("this is not a database\n", file);
	fclose(file);
	dstring_reset(&error);
	table = open_table("lmdb", "junk");
	CHECK(table == NULL);
	table_close(table);

	/* The source exists but the table was never built: still an error. */
	file = fopen(path_of("unbuilt"), "w");
	fputs("a b\n", file);
	fclose(file);
	table = open_table("lmdb", "unbuilt");
	CHECK(table == NULL);
	dstring_fini(&error);
}

static void
test_key_limits(void)
{
	struct dstring error;
	struct table_lmdb_build *builder;
	char key[TABLE_LMDB_KEY_MAX + 2];
	struct table *table;

	dstring_init(&error, DSTRING_NO_LIMIT);
	memset(key, 'k', sizeof(key));
	key[TABLE_LMDB_KEY_MAX] = '\0';
	builder = table_lmdb_build_begin(path_of("limits"), "limits", 0, 0644, &error);
	CHECK(builder != NULL);
	if (builder == NULL)
		return;
	CHECK_INT_EQ(table_lmdb_build_add(builder, key, TABLE_LMDB_KEY_MAX, "v", 1, 1, &error), 0);
	CHECK_INT_EQ(table_lmdb_build_add(builder, key, TABLE_LMDB_KEY_MAX + 1, "v", 1, 2, &error),
	             -1);
	CHECK(strstr(dstring_str(&error), "lmdb key") != NULL);
	CHECK_INT_EQ(table_lmdb_build_commit(builder, &error), 0);
	table = open_table("lmdb", "limits");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, key), "v");
		key[TABLE_LMDB_KEY_MAX] = 'k';
		key[TABLE_LMDB_KEY_MAX + 1] = '\0';
		CHECK_STR_EQ(lookup(table, key), ""); /* too long for LMDB: not there */
	}
	table_close(table);
	dstring_fini(&error);
}

static ino_t
inode_of(const char *name)
{
	struct stat info;

	if (stat(path_of(name), &info) != 0)
		return 0;
	return info.st_ino;
}

static void
test_atomic_replacement(void)
{
	static const struct pair first[] = {{"a", "1"}}, second[] = {{"a", "2"}};
	struct dstring error;
	struct table_lmdb_build *builder;
	struct table *table;
	struct stat info;
	ino_t before;
	FILE *file;

	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(build("atomic", 0, first, 1), 0);
	table = open_table("lmdb", "atomic");
	CHECK(table != NULL);
	if (table == NULL)
		return;
	before = inode_of("atomic.lmdb");
	CHECK(!table_is_stale(table));

	/* An aborted build changes nothing and leaves no file behind. */
	builder = table_lmdb_build_begin(path_of("atomic"), "atomic", 0, 0644, &error);
	CHECK(builder != NULL);
	table_lmdb_build_add(builder, "a", 1, "3", 1, 1, &error);
	table_lmdb_build_abort(builder);
	CHECK(inode_of("atomic.lmdb") == before);
	CHECK(!table_is_stale(table));

	/* A rebuild is a new file: the open table still reads the old one. */
	chmod(path_of("atomic.lmdb"), 0640);
	CHECK_INT_EQ(build("atomic", 0, second, 1), 0);
	CHECK(inode_of("atomic.lmdb") != before);
	CHECK(table_is_stale(table));
	CHECK_STR_EQ(lookup(table, "a"), "1");
	table_close(table);
	table = open_table("lmdb", "atomic");
	CHECK(table != NULL);
	if (table != NULL)
		CHECK_STR_EQ(lookup(table, "a"), "2");
	table_close(table);
	/* The new file kept the mode of the one it replaced. */
	CHECK(stat(path_of("atomic.lmdb"), &info) == 0 && (info.st_mode & 0777) == 0640);

	/* A temporary file left by a crash is removed by the next writer. */
	file = fopen(path_of("atomic.lmdb.tmp.AbCdEf"), "w");
	fclose(file);
	CHECK_INT_EQ(build("atomic", 0, first, 1), 0);
	CHECK(access(path_of("atomic.lmdb.tmp.AbCdEf"), F_OK) != 0);
	CHECK(access(path_of("atomic.lmdb.lock"), F_OK) == 0);
	dstring_fini(&error);
}

static void
test_update(void)
{
	static const struct pair pairs[] = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
	struct table_lmdb_update_result result;
	struct table_lmdb_update *update;
	struct dstring error;
	struct table *table;
	ino_t before;

	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(build("update", 0, pairs, 3), 0);

	/* Deletions and insertions, applied in order. */
	update = table_lmdb_update_begin(path_of("update"), "stdin", 0, false, 0644, &error);
	CHECK(update != NULL);
	if (update == NULL)
		return;
	table_lmdb_update_delete(update, "a");
	table_lmdb_update_delete(update, "nothing");
	CHECK_INT_EQ(table_lmdb_update_put(update, "b", "new", 1, &error), 0); /* kept */
	CHECK_INT_EQ(table_lmdb_update_put(update, "d", "4", 2, &error), 0);
	CHECK_INT_EQ(table_lmdb_update_commit(update, &result, &error), 0);
	CHECK_INT_EQ(result.deleted, 1);
	CHECK_INT_EQ(result.not_found, 1);
	CHECK_INT_EQ(result.kept, 1);
	CHECK_INT_EQ(result.added, 1);
	table = open_table("lmdb", "update");
	CHECK(table != NULL);
	if (table != NULL)
		expect_listing(table, "b=2;c=3;d=4;");
	table_close(table);

	/* REPLACE replaces. */
	update = table_lmdb_update_begin(path_of("update"), "stdin", TABLE_LMDB_REPLACE, false,
	                                 0644, &error);
	CHECK(update != NULL);
	if (update == NULL)
		return;
	table_lmdb_update_put(update, "b", "new", 1, &error);
	CHECK_INT_EQ(table_lmdb_update_commit(update, &result, &error), 0);
	CHECK_INT_EQ(result.replaced, 1);
	table = open_table("lmdb", "update");
	if (table != NULL)
		CHECK_STR_EQ(lookup(table, "b"), "new");
	table_close(table);

	/* Nothing changed: the file is left as it was. */
	before = inode_of("update.lmdb");
	update = table_lmdb_update_begin(path_of("update"), "stdin", 0, false, 0644, &error);
	CHECK(update != NULL);
	if (update == NULL)
		return;
	table_lmdb_update_delete(update, "nothing");
	CHECK_INT_EQ(table_lmdb_update_commit(update, &result, &error), 0);
	CHECK_INT_EQ(result.not_found, 1);
	CHECK(inode_of("update.lmdb") == before);

	/* A missing table: an error for deletions, a new table for insertions. */
	dstring_reset(&error);
	update = table_lmdb_update_begin(path_of("fresh"), "stdin", 0, false, 0644, &error);
	CHECK(update == NULL);
	CHECK(strstr(dstring_str(&error), "fresh.lmdb: No such file or directory") != NULL);
	update = table_lmdb_update_begin(path_of("fresh"), "stdin", 0, true, 0600, &error);
	CHECK(update != NULL);
	if (update == NULL)
		return;
	table_lmdb_update_put(update, "k", "v", 1, &error);
	CHECK_INT_EQ(table_lmdb_update_commit(update, &result, &error), 0);
	CHECK_INT_EQ(stored_key_size("fresh", "k"), 2);
	table = open_table("lmdb", "fresh");
	if (table != NULL)
		CHECK_STR_EQ(lookup(table, "k"), "v");
	table_close(table);

	/* New entries take the form of the old: a table built with -n stays bare. */
	CHECK_INT_EQ(build("bare", TABLE_LMDB_WITHOUT_NUL, pairs, 3), 0);
	update = table_lmdb_update_begin(path_of("bare"), "stdin", 0, false, 0644, &error);
	CHECK(update != NULL);
	if (update == NULL)
		return;
	table_lmdb_update_put(update, "z", "26", 1, &error);
	table_lmdb_update_delete(update, "a");
	CHECK_INT_EQ(table_lmdb_update_commit(update, &result, &error), 0);
	CHECK_INT_EQ(result.deleted, 1);
	CHECK_INT_EQ(stored_key_size("bare", "z"), 1);
	dstring_fini(&error);
}

static void
test_large(void)
{
	enum { COUNT = 200000 };
	struct dstring error, key, value;
	struct table_lmdb_build *builder;
	struct table *table;
	char *big = malloc(TABLE_VALUE_MAX + 1);
	unsigned long count = 0;

	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_init(&key, DSTRING_NO_LIMIT);
	dstring_init(&value, DSTRING_NO_LIMIT);
	builder = table_lmdb_build_begin(path_of("large"), "large", 0, 0644, &error);
	CHECK(builder != NULL);
	if (builder == NULL)
		return;
	/* Keys in a scrambled order, so the build must sort them. */
	for (unsigned long i = 0; i < COUNT; i++) {
		unsigned long n = (i * 7919) % COUNT;

		dstring_printf(&key, "user%lu@example.com", n);
		dstring_printf(&value, "value %lu", n);
		table_lmdb_build_add(builder, dstring_str(&key), dstring_length(&key),
		                     dstring_str(&value), dstring_length(&value), i + 1, &error);
	}
	memset(big, 'v', TABLE_VALUE_MAX);
	big[TABLE_VALUE_MAX] = '\0';
	CHECK_INT_EQ(
	    table_lmdb_build_add(builder, "big", 3, big, TABLE_VALUE_MAX, COUNT + 1, &error), 0);
	CHECK_INT_EQ(table_lmdb_build_commit(builder, &error), 0);
	table = open_table("lmdb", "large");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, "user0@example.com"), "value 0");
		CHECK_STR_EQ(lookup(table, "user199999@example.com"), "value 199999");
		CHECK_STR_EQ(lookup(table, "user200000@example.com"), "");
		CHECK_INT_EQ(strlen(lookup(table, "big")), TABLE_VALUE_MAX);
		table_iterate(table, collect, &error, &value); /* just runs */
		for (const char *cursor = dstring_str(&error); (cursor = strchr(cursor, ';'));
		     cursor++)
			count++;
		CHECK_INT_EQ(count, COUNT + 1);
	}
	table_close(table);
	free(big);
	dstring_fini(&error);
	dstring_fini(&key);
	dstring_fini(&value);
}

static void
remove_directory(void)
{
	check_remove_tree(directory);
}

int
main(void)
{
	log_open("test_table_lmdb", 0);
	if (mkdtemp(directory) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_build_and_lookup();
	test_postfix_tables();
	test_missing_and_broken();
	test_key_limits();
	test_atomic_replacement();
	test_update();
	test_large();
	remove_directory();
	return check_finish();
}
