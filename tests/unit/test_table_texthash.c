/*
 * test_table_texthash - texthash: tables: the source read at open, case
 * folding, duplicates, key order, and a bad line or a missing file making
 * the open fail (never an empty table).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

static char path[] = "/tmp/test_table_texthash.XXXXXX";

static void
write_source(const char *text)
{
	FILE *file = fopen(path, "w");

	fputs(text, file);
	fclose(file);
}

/* Open path as texthash with the type's functions, as table_open would. */
static struct table *
open_texthash(unsigned flags, struct dstring *error)
{
	struct table *table = calloc(1, sizeof(*table));

	table->type = &table_type_texthash;
	table->flags = flags;
	if (table_type_texthash.open(table, path, flags, error) != 0) {
		free(table);
		return NULL;
	}
	return table;
}

static void
close_texthash(struct table *table)
{
	if (table == NULL)
		return;
	table_type_texthash.close(table);
	free(table);
}

static const char *
lookup(struct table *table, const char *key, struct dstring *value)
{
	dstring_reset(value);
	switch (table_type_texthash.lookup(table, key, value)) {
	case TABLE_FOUND:
		return dstring_str(value);
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

int
main(void)
{
	struct dstring error, value, listing;
	struct table *table;
	int fd;

	log_open("test_table_texthash", 0);
	fd = mkstemp(path);
	close(fd);
	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_init(&value, TABLE_VALUE_MAX);
	dstring_init(&listing, DSTRING_NO_LIMIT);

	write_source("# senders\nZed last\nAlpha first\n  continued\nalpha duplicate\nmid m\n");
	table = open_texthash(TABLE_FOLD_CASE, &error);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, "alpha", &value), "first  continued");
		CHECK_STR_EQ(lookup(table, "zed", &value), "last");
		CHECK_STR_EQ(lookup(table, "Zed", &value), ""); /* table.c folds the query */
		CHECK_STR_EQ(lookup(table, "nothing", &value), "");
		CHECK_INT_EQ(table_type_texthash.iterate(table, collect, &listing, &error), 0);
		CHECK_STR_EQ(dstring_str(&listing), "alpha=first  continued;mid=m;zed=last;");
		CHECK_STR_EQ(table_type_texthash.source_file(table), path);
	}
	close_texthash(table);

	/* Without folding, keys stay as written. */
	table = open_texthash(0, &error);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(lookup(table, "Zed", &value), "last");
		CHECK_STR_EQ(lookup(table, "alpha", &value), "duplicate");
	}
	close_texthash(table);

	/* An empty file is an empty table. */
	write_source("");
	table = open_texthash(TABLE_FOLD_CASE, &error);
	CHECK(table != NULL);
	if (table != NULL)
		CHECK_STR_EQ(lookup(table, "a", &value), "");
	close_texthash(table);

	/* A bad line: the table does not open. */
	write_source("a b\nlonely\nc d\n");
	dstring_reset(&error);
	table = open_texthash(TABLE_FOLD_CASE, &error);
	CHECK(table == NULL);
	CHECK(strstr(dstring_str(&error), ": 1 bad line") != NULL);
	close_texthash(table);

	/* Neither does a missing file. */
	unlink(path);
	dstring_reset(&error);
	table = open_texthash(TABLE_FOLD_CASE, &error);
	CHECK(table == NULL);
	CHECK(strstr(dstring_str(&error), "No such file or directory") != NULL);

	dstring_fini(&error);
	dstring_fini(&value);
	dstring_fini(&listing);
	return check_finish();
}
