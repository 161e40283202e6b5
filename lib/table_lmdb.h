/*
 * table_lmdb - writing lmdb: tables (hikyaku map). Reading is the table
 * type table_type_lmdb, through table.h.
 *
 * The table "lmdb:/path" is the single file /path.lmdb, an LMDB
 * environment without a subdirectory. Keys and values are stored with a
 * trailing NUL by default, as Postfix's postmap stores them, so either
 * program reads the other's tables; readers accept both forms.
 *
 * Contract for writers: a file, once renamed to /path.lmdb, is never
 * modified. Every change (a build, deletions, insertions) writes a new
 * file /path.lmdb.tmp.XXXXXX beside it, flushes it and renames it over the
 * table, then flushes the directory: a reader sees the old table or the
 * new one, whole, and a crash leaves the old one. Writers hold an
 * exclusive flock on /path.lmdb.lock from before they read the table
 * until after the rename, so concurrent read-modify-write runs serialize
 * instead of losing each other's changes. Temporary files left by a crash
 * are removed by the next writer.
 *
 * A new table gets the mode of the existing table it replaces (and its
 * owner, when running as root), else the mode given by the caller.
 */
#ifndef HIKYAKU_TABLE_LMDB_H
#define HIKYAKU_TABLE_LMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dstring;

/* LMDB's own limit on a key, less the trailing NUL. */
#define TABLE_LMDB_KEY_MAX 510

enum table_lmdb_write_flags {
	TABLE_LMDB_WITHOUT_NUL = 1 << 0, /* store keys and values without the NUL (-n) */
	TABLE_LMDB_REPLACE = 1 << 1,     /* a duplicate key replaces the entry (-r) */
	TABLE_LMDB_QUIET = 1 << 2,       /* keep the first entry without a warning (-w) */
	/*
	 * Store with the NUL (-N). Without -n or -N a build stores the NUL
	 * and an update follows the form of the entries already there.
	 */
	TABLE_LMDB_WITH_NUL = 1 << 3,
};

/*
 * Building a whole table from entries. Entries are kept in memory, sorted
 * and written in one append-only transaction at commit.
 */
struct table_lmdb_build;

/* table_lmdb_file_path: the file of table name ("/path" -> "/path.lmdb"), new string. */
char *table_lmdb_file_path(const char *name);

/*
 * table_lmdb_build_begin: start building lmdb table name (the path
 * without ".lmdb"), waiting for the table's lock. label names the source
 * in duplicate warnings. new_mode is the mode of the file when there is no
 * table yet. Returns NULL with a reason in error.
 */
struct table_lmdb_build *table_lmdb_build_begin(const char *name, const char *label, unsigned flags,
                                                mode_t new_mode, struct dstring *error);

/*
 * table_lmdb_build_add: add one entry (copied). A key over
 * TABLE_LMDB_KEY_MAX is refused with -1 and a reason in error.
 */
int table_lmdb_build_add(struct table_lmdb_build *build, const char *key, size_t key_length,
                         const char *value, size_t value_length, unsigned long line,
                         struct dstring *error);

/*
 * table_lmdb_build_commit: write the table and put it in place; duplicate
 * keys are warned about (unless QUIET) and the first (or, with REPLACE,
 * the last) is kept. Returns 0, or -1 with a reason in error and the old
 * table untouched. Frees build and releases the lock either way.
 */
int table_lmdb_build_commit(struct table_lmdb_build *build, struct dstring *error);

/* table_lmdb_build_abort: give up; the table on disk is unchanged. */
void table_lmdb_build_abort(struct table_lmdb_build *build);

/*
 * Changing a table: deletions and insertions are queued, then applied
 * together to a copy of the table, which replaces it.
 */
struct table_lmdb_update;

/* What a commit did, for the exit status and messages. */
struct table_lmdb_update_result {
	unsigned long deleted;   /* queued deletions that found their key */
	unsigned long not_found; /* queued deletions that did not */
	unsigned long added;     /* insertions of new keys */
	unsigned long replaced;  /* insertions over existing keys (REPLACE) */
	unsigned long kept;      /* insertions refused: the key existed */
};

/*
 * table_lmdb_update_begin: start changing table name, waiting for its
 * lock. When the table does not exist, is_missing_ok says whether to start
 * from an empty one (hikyaku map -i) or fail (-d). label names the input
 * in duplicate warnings.
 */
struct table_lmdb_update *table_lmdb_update_begin(const char *name, const char *label,
                                                  unsigned flags, bool is_missing_ok,
                                                  mode_t new_mode, struct dstring *error);

/* table_lmdb_update_delete: queue the deletion of key (both NUL forms). */
void table_lmdb_update_delete(struct table_lmdb_update *update, const char *key);

/*
 * table_lmdb_update_put: queue key = value from input line line. Returns
 * -1 with a reason in error for a key over TABLE_LMDB_KEY_MAX.
 */
int table_lmdb_update_put(struct table_lmdb_update *update, const char *key, const char *value,
                          unsigned long line, struct dstring *error);

/*
 * table_lmdb_update_commit: apply the queue in order and put the new table
 * in place; when nothing changed, the table is left alone. Returns 0 with
 * result filled, or -1 with a reason in error and the table untouched.
 * Frees update and releases the lock either way.
 */
int table_lmdb_update_commit(struct table_lmdb_update *update,
                             struct table_lmdb_update_result *result, struct dstring *error);

/* table_lmdb_update_abort: give up; the table on disk is unchanged. */
void table_lmdb_update_abort(struct table_lmdb_update *update);

#endif
