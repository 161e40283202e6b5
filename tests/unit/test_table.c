/*
 * test_table - the table registry, "type:name" parsing, static and inline
 * tables, case folding, and the order and error rules of table lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

static struct dstring *error;

static void
test_specs(void)
{
	static const struct {
		const char *spec;
		const char *problem; /* NULL: opens */
	} cases[] = {
		{"static:OK", NULL},
		{"static:{ value with spaces }", NULL},
		{"static:{ unbalanced", "unbalanced braces"},
		{"inline:{ a=1, b=2 }", NULL},
		{"inline:{}", NULL},
		{"inline:a=1", "expected inline:{ key=value"},
		{"inline:{ a }", "\"a\" is not key=value"},
		{"inline:{ =1 }", "\"=1\" is not key=value"},
		{"inline:{ a = 1 }", "\"a\" is not key=value"},
		{"nosuch:/etc/x", "unsupported table type \"nosuch\""},
		{"/etc/aliases", "expected type:name"},
		{":name", "expected type:name"},
		{"static:", "missing name after type"},
		{"bad type:x", "bad type name"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct table *table;

		dstring_reset(error);
		table = table_open(cases[i].spec, 0, error);
		if (cases[i].problem == NULL) {
			CHECK(table != NULL);
			if (table == NULL)
				fprintf(stderr, "%s: %s\n", cases[i].spec, dstring_str(error));
		} else {
			CHECK(table == NULL);
			CHECK(strstr(dstring_str(error), cases[i].problem) != NULL);
			if (strstr(dstring_str(error), cases[i].problem) == NULL)
				fprintf(stderr, "%s: got \"%s\"\n", cases[i].spec, dstring_str(error));
		}
		table_close(table);
	}
	CHECK(table_find_type("lmdb") != NULL);
	CHECK(table_find_type("hash") == table_find_type("lmdb"));
	CHECK(table_find_type("btree") == table_find_type("lmdb"));
	CHECK(table_find_type("dbm") == NULL);
}

static void
test_static_and_inline(void)
{
	struct table *table;
	const char *value;

	table = table_open("static:{ relay via isp }", 0, error);
	CHECK_INT_EQ(table_lookup(table, "anything", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "relay via isp");
	CHECK(!table_is_stale(table));
	table_close(table);

	table = table_open("inline:{ Alpha=1, beta=2 ,{ gamma = three words }, alpha=dup }",
			   TABLE_FOLD_CASE, error);
	CHECK(table != NULL);
	if (table == NULL)
		return;
	CHECK_INT_EQ(table_lookup(table, "ALPHA", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "1");
	CHECK_INT_EQ(table_lookup(table, "beta", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "2");
	CHECK_INT_EQ(table_lookup(table, "Gamma", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "three words");
	CHECK_INT_EQ(table_lookup(table, "delta", &value), TABLE_NOT_FOUND);
	CHECK(value == NULL);
	table_close(table);

	/* Without folding, case matters. */
	table = table_open("inline:{ Alpha=1 }", 0, error);
	CHECK_INT_EQ(table_lookup(table, "alpha", &value), TABLE_NOT_FOUND);
	CHECK_INT_EQ(table_lookup(table, "Alpha", &value), TABLE_FOUND);
	/* A key over the limit is simply not there. */
	{
		struct dstring *long_key = dstring_new(DSTRING_NO_LIMIT);

		for (int i = 0; i <= TABLE_KEY_MAX; i++)
			dstring_append_char(long_key, 'A');
		CHECK_INT_EQ(table_lookup(table, dstring_str(long_key), &value), TABLE_NOT_FOUND);
		dstring_free(long_key);
	}
	table_close(table);
}

static void
test_lists(void)
{
	struct table_list *list;
	const char *value;

	list = table_list_open("inline:{ a=first }, inline:{ a=second, b=2 } static:fallback", 0);
	CHECK_INT_EQ(table_list_count(list), 3);
	CHECK_INT_EQ(table_list_lookup(list, "a", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "first");
	CHECK_INT_EQ(table_list_lookup(list, "b", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "2");
	CHECK_INT_EQ(table_list_lookup(list, "zzz", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "fallback");
	table_list_close(list);

	/* A table that cannot be opened answers with an error... */
	list = table_list_open("inline:{ a=1 }, nosuch:/x, inline:{ b=2 }", 0);
	CHECK_INT_EQ(table_list_lookup(list, "a", &value), TABLE_FOUND);
	/* ...and a later table never answers in its place. */
	CHECK_INT_EQ(table_list_lookup(list, "b", &value), TABLE_ERROR);
	CHECK(value != NULL && strstr(value, "unsupported table type") != NULL);
	table_list_close(list);

	list = table_list_open("inline:{ a=1 ", 0);
	CHECK_INT_EQ(table_list_lookup(list, "a", &value), TABLE_ERROR);
	CHECK(value != NULL && strstr(value, "missing '}'") != NULL);
	table_list_close(list);

	list = table_list_open("", 0);
	CHECK_INT_EQ(table_list_count(list), 0);
	CHECK_INT_EQ(table_list_lookup(list, "a", &value), TABLE_NOT_FOUND);
	table_list_close(list);
}

/* A texthash table notices that its file was rebuilt. */
static void
test_reopen(void)
{
	char directory[] = "/tmp/test_table.XXXXXX";
	char path[256], spec[300];
	struct table_list *list;
	const char *value;
	FILE *file;

	if (mkdtemp(directory) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/map", directory);
	snprintf(spec, sizeof(spec), "texthash:%s", path);
	file = fopen(path, "w");
	fputs("key old\n", file);
	fclose(file);
	list = table_list_open(spec, 0);
	CHECK_INT_EQ(table_list_lookup(list, "key", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "old");
	/* The rebuilt file must look different: wait out the one-second check. */
	sleep(1);
	file = fopen(path, "w");
	fputs("key new, longer\n", file);
	fclose(file);
	sleep(1);
	CHECK_INT_EQ(table_list_lookup(list, "key", &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "new, longer");
	/* A table that disappears is an error, not "not found". */
	unlink(path);
	sleep(1);
	CHECK_INT_EQ(table_list_lookup(list, "key", &value), TABLE_ERROR);
	table_list_close(list);
	rmdir(directory);
}

int
main(void)
{
	log_open("test_table", 0);
	error = dstring_new(DSTRING_NO_LIMIT);
	test_specs();
	test_static_and_inline();
	test_lists();
	test_reopen();
	dstring_free(error);
	return check_finish();
}
