/*
 * table_lmdb - the lmdb: table type (also hash: and btree:): reading.
 * Writing is table_lmdb_write.c.
 *
 * Layout: the table "lmdb:/path" is the file /path.lmdb, one LMDB
 * environment opened with MDB_NOSUBDIR, its unnamed database mapping keys
 * to values. hikyaku stores both with a trailing NUL unless told not to
 * (-n), as Postfix's postmap does; readers try the key with the NUL, then
 * without, and drop a trailing NUL from values, so tables made by either
 * program work in both.
 *
 * Readers open the file MDB_RDONLY | MDB_NOLOCK: they need no lock file
 * and no write access, so a daemon running as another user, inside a
 * chroot, reads a table root built. That is safe only because a file is
 * never changed once it has the table's name: writers build a new file
 * and rename it into place (see table_lmdb.h). A reader keeps one read
 * transaction for its whole life; table.c notices a rebuild through
 * source_file() (the inode changes) and opens the table again.
 *
 * What it trusts: the .lmdb file itself (LMDB does not check its pages; a
 * corrupt file can crash the reader, as with Postfix), which only the
 * table's owner can write. Keys and values from callers are bounded by
 * table.h's limits and LMDB's key limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_lmdb.h"
#include "xalloc.h"

/*
 * Reading.
 */

struct lmdb_reader {
	char *path; /* /path.lmdb */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	bool is_nul_first; /* try key + NUL before the bare key */
	struct dstring key;
	struct dstring value;
};

char *
table_lmdb_file_path(const char *name)
{
	struct dstring path;
	char *result;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s.lmdb", name);
	result = dstring_steal(&path);
	dstring_fini(&path);
	return result;
}

static void
reader_free(struct lmdb_reader *reader)
{
	if (reader->txn != NULL)
		mdb_txn_abort(reader->txn);
	if (reader->env != NULL)
		mdb_env_close(reader->env);
	dstring_fini(&reader->key);
	dstring_fini(&reader->value);
	free(reader->path);
	free(reader);
}

static int
lmdb_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	struct lmdb_reader *reader = xcalloc(1, sizeof(*reader));
	MDB_cursor *cursor;
	MDB_val key, value;
	int status;

	reader->path = table_lmdb_file_path(name);
	dstring_init(&reader->key, TABLE_KEY_MAX + 1);
	dstring_init(&reader->value, TABLE_VALUE_MAX);
	status = mdb_env_create(&reader->env);
	if (status == 0)
		status = mdb_env_open(reader->env, reader->path,
		                      MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0);
	if (status == 0)
		status = mdb_txn_begin(reader->env, NULL, MDB_RDONLY, &reader->txn);
	if (status == 0)
		status = mdb_dbi_open(reader->txn, NULL, 0, &reader->dbi);
	if (status != 0) {
		dstring_printf(error, "open %s: %s", reader->path, mdb_strerror(status));
		reader_free(reader);
		return -1;
	}
	/* Which form the table uses: its first key says (ours when empty). */
	reader->is_nul_first = true;
	if (mdb_cursor_open(reader->txn, reader->dbi, &cursor) == 0) {
		if (mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0)
			reader->is_nul_first =
			    key.mv_size > 0 && ((const char *)key.mv_data)[key.mv_size - 1] == '\0';
		mdb_cursor_close(cursor);
	}
	table->state = reader;
	return 0;
}

/* The length of a stored key or value without its trailing NUL. */
static size_t
without_nul(const MDB_val *data)
{
	if (data->mv_size > 0 && ((const char *)data->mv_data)[data->mv_size - 1] == '\0')
		return data->mv_size - 1;
	return data->mv_size;
}

static enum table_result
lmdb_lookup(struct table *table, const char *key, struct dstring *value)
{
	struct lmdb_reader *reader = table->state;
	size_t length = strlen(key);
	MDB_val stored_key, stored_value;
	int status = MDB_NOTFOUND;

	for (int attempt = 0; attempt < 2 && status == MDB_NOTFOUND; attempt++) {
		bool is_with_nul = (attempt == 0) == reader->is_nul_first;

		stored_key.mv_data = (void *)key;
		stored_key.mv_size = is_with_nul ? length + 1 : length;
		if (stored_key.mv_size == 0 || stored_key.mv_size > TABLE_LMDB_KEY_MAX + 1)
			continue; /* cannot be in the table */
		status = mdb_get(reader->txn, reader->dbi, &stored_key, &stored_value);
	}
	if (status == MDB_NOTFOUND)
		return TABLE_NOT_FOUND;
	if (status != 0) {
		dstring_printf(value, "%s: lookup: %s", reader->path, mdb_strerror(status));
		return TABLE_ERROR;
	}
	if (dstring_append(value, stored_value.mv_data, without_nul(&stored_value)) != 0) {
		dstring_reset(value);
		dstring_printf(value, "%s: value of \"%s\" too long", reader->path, key);
		return TABLE_ERROR;
	}
	return TABLE_FOUND;
}

static int
lmdb_iterate(struct table *table, int (*visit)(const char *key, const char *value, void *context),
             void *context, struct dstring *error)
{
	struct lmdb_reader *reader = table->state;
	MDB_cursor *cursor;
	MDB_val key, value;
	int status;

	status = mdb_cursor_open(reader->txn, reader->dbi, &cursor);
	if (status != 0) {
		dstring_printf(error, "%s: %s", reader->path, mdb_strerror(status));
		return -1;
	}
	for (status = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); status == 0;
	     status = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
		dstring_reset(&reader->key);
		dstring_reset(&reader->value);
		if (dstring_append(&reader->key, key.mv_data, without_nul(&key)) != 0 ||
		    dstring_append(&reader->value, value.mv_data, without_nul(&value)) != 0) {
			dstring_printf(error, "%s: entry too long", reader->path);
			mdb_cursor_close(cursor);
			return -1;
		}
		if (visit(dstring_str(&reader->key), dstring_str(&reader->value), context) != 0)
			break;
	}
	mdb_cursor_close(cursor);
	if (status != 0 && status != MDB_NOTFOUND) {
		dstring_printf(error, "%s: %s", reader->path, mdb_strerror(status));
		return -1;
	}
	return 0;
}

static void
lmdb_close(struct table *table)
{
	if (table->state != NULL)
		reader_free(table->state);
	table->state = NULL;
}

static const char *
lmdb_source_file(struct table *table)
{
	struct lmdb_reader *reader = table->state;

	return reader->path;
}

const struct table_type table_type_lmdb = {
    .name = "lmdb",
    .open = lmdb_open,
    .lookup = lmdb_lookup,
    .iterate = lmdb_iterate,
    .close = lmdb_close,
    .source_file = lmdb_source_file,
};
