/*
 * table_lmdb_write - building and updating lmdb: tables (hikyaku map),
 * always by writing a new file and renaming it over the table, under a
 * lock, so readers never see a half-written table (see table_lmdb.h and
 * table_lmdb.c for the layout and the readers' side).
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

/* Map sizes: where a writer starts growing from, and where it gives up. */
#define MAP_SIZE_MIN ((size_t)1 << 20)
#define MAP_SIZE_MAX (SIZE_MAX / 4 < ((uint64_t)1 << 36) ? SIZE_MAX / 4 : (size_t)1 << 36)
#define PAGE_SIZE_GUESS 4096
/* Arena chunks for the entries of a build. */
#define ARENA_CHUNK_SIZE ((size_t)4 << 20)

/*
 * Writing: what builds and updates share. A writer holds the lock, a
 * temporary file with the table's future contents, and an environment
 * open on that file.
 */

struct writer {
	char *table_path; /* /path.lmdb */
	char *temp_path;  /* /path.lmdb.tmp.XXXXXX */
	int lock_fd;
	int temp_fd;
	bool is_table_present;
	struct stat table_stat; /* of the table replaced, when present */
	MDB_env *env;
	size_t map_size;
};

static bool
is_lmdb_full(int status)
{
	return status == MDB_MAP_FULL;
}

/* The directory of path and the name in it, as new strings. */
static void
split_path(const char *path, char **directory, char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*directory = xstrdup(".");
		*base = xstrdup(path);
	} else {
		*directory = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
		*base = xstrdup(slash + 1);
	}
}

/*
 * A temporary file exists only while its writer holds the lock, so one
 * seen by the holder of the lock was left by a crash: remove it.
 */
static void
remove_stale_temporaries(const char *table_path)
{
	char *directory, *base;
	size_t prefix_length;
	DIR *listing;
	struct dirent *entry;
	int directory_fd;

	split_path(table_path, &directory, &base);
	prefix_length = strlen(base) + strlen(".tmp.");
	listing = opendir(directory);
	if (listing != NULL) {
		directory_fd = dirfd(listing);
		while ((entry = readdir(listing)) != NULL) {
			if (strncmp(entry->d_name, base, strlen(base)) == 0 &&
			    strncmp(entry->d_name + strlen(base), ".tmp.", 5) == 0 &&
			    strlen(entry->d_name) == prefix_length + 6) {
				if (unlinkat(directory_fd, entry->d_name, 0) == 0)
					log_warning("%s/%s: removed a temporary file left by "
					            "an interrupted update",
					            directory, entry->d_name);
			}
		}
		closedir(listing);
	}
	free(directory);
	free(base);
}

static int
sync_directory_of(const char *path, struct dstring *error)
{
	char *directory, *base;
	int fd, result = 0;

	split_path(path, &directory, &base);
	fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		dstring_printf(error, "sync directory %s: %s", directory, strerror(errno));
		result = -1;
	}
	if (fd >= 0)
		close(fd);
	free(directory);
	free(base);
	return result;
}

static void
writer_free(struct writer *writer)
{
	if (writer->env != NULL)
		mdb_env_close(writer->env);
	if (writer->temp_fd >= 0) {
		close(writer->temp_fd);
		unlink(writer->temp_path);
	}
	if (writer->lock_fd >= 0)
		close(writer->lock_fd); /* releases the flock */
	free(writer->table_path);
	free(writer->temp_path);
	free(writer);
}

/*
 * Take the table's lock, clean up after crashed writers, and create the
 * temporary file with the mode (and owner) the table will have.
 */
static struct writer *
writer_begin(const char *name, mode_t new_mode, struct dstring *error)
{
	struct writer *writer = xcalloc(1, sizeof(*writer));
	struct dstring path;
	int status;

	writer->lock_fd = writer->temp_fd = -1;
	writer->table_path = table_lmdb_file_path(name);
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s.lock", writer->table_path);
	writer->lock_fd = open(dstring_str(&path), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (writer->lock_fd < 0) {
		dstring_printf(error, "open %s: %s", dstring_str(&path), strerror(errno));
		goto failed;
	}
	while ((status = flock(writer->lock_fd, LOCK_EX)) != 0 && errno == EINTR)
		continue;
	if (status != 0) {
		dstring_printf(error, "lock %s: %s", dstring_str(&path), strerror(errno));
		goto failed;
	}
	remove_stale_temporaries(writer->table_path);
	if (stat(writer->table_path, &writer->table_stat) == 0)
		writer->is_table_present = true;
	else if (errno != ENOENT) {
		dstring_printf(error, "stat %s: %s", writer->table_path, strerror(errno));
		goto failed;
	}
	dstring_printf(&path, "%s.tmp.XXXXXX", writer->table_path);
	writer->temp_path = dstring_steal(&path);
	writer->temp_fd = mkostemp(writer->temp_path, O_CLOEXEC);
	if (writer->temp_fd < 0) {
		dstring_printf(error, "create %s: %s", writer->temp_path, strerror(errno));
		goto failed;
	}
	if (writer->is_table_present) {
		/* The new file takes the place of the old in every respect. */
		if (geteuid() == 0 && fchown(writer->temp_fd, writer->table_stat.st_uid,
		                             writer->table_stat.st_gid) != 0) {
			dstring_printf(error, "chown %s: %s", writer->temp_path, strerror(errno));
			goto failed;
		}
		new_mode = writer->table_stat.st_mode & 07777;
	}
	if (fchmod(writer->temp_fd, new_mode) != 0) {
		dstring_printf(error, "chmod %s: %s", writer->temp_path, strerror(errno));
		goto failed;
	}
	dstring_fini(&path);
	return writer;

failed:
	dstring_fini(&path);
	writer_free(writer);
	return NULL;
}

/* Open the environment on the temporary file with the current map size. */
static int
writer_open_env(struct writer *writer, struct dstring *error)
{
	int status = mdb_env_create(&writer->env);

	if (status == 0)
		status = mdb_env_set_mapsize(writer->env, writer->map_size);
	/* No lock file (we hold our own lock) and no sync until we say so. */
	if (status == 0)
		status =
		    mdb_env_open(writer->env, writer->temp_path,
		                 MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC | MDB_NOMETASYNC, 0600);
	if (status != 0) {
		dstring_printf(error, "open %s: %s", writer->temp_path, mdb_strerror(status));
		return -1;
	}
	return 0;
}

/* After MDB_MAP_FULL: a larger map, or -1 when the bound is reached. */
static int
writer_grow(struct writer *writer, struct dstring *error)
{
	int status;

	if (writer->map_size >= MAP_SIZE_MAX) {
		dstring_printf(error, "%s: table larger than %zu bytes", writer->table_path,
		               (size_t)MAP_SIZE_MAX);
		return -1;
	}
	writer->map_size =
	    writer->map_size > MAP_SIZE_MAX / 2 ? MAP_SIZE_MAX : writer->map_size * 2;
	status = mdb_env_set_mapsize(writer->env, writer->map_size);
	if (status != 0) {
		dstring_printf(error, "%s: %s", writer->temp_path, mdb_strerror(status));
		return -1;
	}
	return 0;
}

/* Flush the new file and put it in place of the table. Frees writer. */
static int
writer_commit(struct writer *writer, struct dstring *error)
{
	int result = -1;

	mdb_env_close(writer->env);
	writer->env = NULL;
	if (fsync(writer->temp_fd) != 0)
		dstring_printf(error, "sync %s: %s", writer->temp_path, strerror(errno));
	else if (rename(writer->temp_path, writer->table_path) != 0)
		dstring_printf(error, "rename %s to %s: %s", writer->temp_path, writer->table_path,
		               strerror(errno));
	else {
		close(writer->temp_fd);
		writer->temp_fd = -1;
		result = sync_directory_of(writer->table_path, error);
	}
	writer_free(writer);
	return result;
}

/* Room an entry takes in a page, roughly, for the first map size. */
static size_t
entry_room(size_t key_length, size_t value_length)
{
	size_t node = 8 + key_length + 1 + value_length + 1 + 2;

	if (node > PAGE_SIZE_GUESS / 2 - 16)
		return 8 + key_length + 1 + 8 + 2 +
		       (value_length + 1 + 16 + PAGE_SIZE_GUESS - 1) / PAGE_SIZE_GUESS *
		           PAGE_SIZE_GUESS;
	return node;
}

static void
fill_value(MDB_val *data, const char *text, size_t length, bool is_with_nul)
{
	data->mv_data = (void *)text;
	data->mv_size = is_with_nul ? length + 1 : length;
}

/*
 * Building.
 */

struct build_entry {
	const char *key; /* NUL-terminated, in the arena */
	const char *value;
	uint32_t key_length;
	uint32_t value_length;
	unsigned long line;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	char data[];
};

struct table_lmdb_build {
	struct writer *writer;
	char *label;
	unsigned flags;
	struct build_entry *entries;
	size_t count;
	size_t capacity;
	struct arena_chunk *chunks;
	size_t room;    /* the sum of entry_room() */
	bool is_sorted; /* entries arrived in key order, without duplicates */
};

static char *
arena_copy(struct table_lmdb_build *build, const char *data, size_t length)
{
	struct arena_chunk *chunk = build->chunks;
	char *copy;

	if (chunk == NULL || chunk->size - chunk->used < length + 1) {
		size_t size = length + 1 > ARENA_CHUNK_SIZE ? length + 1 : ARENA_CHUNK_SIZE;

		chunk = xmalloc(sizeof(*chunk) + size);
		chunk->size = size;
		chunk->used = 0;
		chunk->next = build->chunks;
		build->chunks = chunk;
	}
	copy = chunk->data + chunk->used;
	memcpy(copy, data, length);
	copy[length] = '\0';
	chunk->used += length + 1;
	return copy;
}

static void
build_free(struct table_lmdb_build *build)
{
	struct arena_chunk *chunk, *next;

	for (chunk = build->chunks; chunk != NULL; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	if (build->writer != NULL)
		writer_free(build->writer);
	free(build->entries);
	free(build->label);
	free(build);
}

struct table_lmdb_build *
table_lmdb_build_begin(const char *name, const char *label, unsigned flags, mode_t new_mode,
                       struct dstring *error)
{
	struct table_lmdb_build *build;
	struct writer *writer = writer_begin(name, new_mode, error);

	if (writer == NULL)
		return NULL;
	build = xcalloc(1, sizeof(*build));
	build->writer = writer;
	build->label = xstrdup(label);
	build->flags = flags;
	build->is_sorted = true;
	return build;
}

int
table_lmdb_build_add(struct table_lmdb_build *build, const char *key, size_t key_length,
                     const char *value, size_t value_length, unsigned long line,
                     struct dstring *error)
{
	struct build_entry *entry;

	if (key_length == 0 || key_length > TABLE_LMDB_KEY_MAX) {
		dstring_printf(error, "key of %zu bytes: an lmdb key has 1 to %d bytes", key_length,
		               TABLE_LMDB_KEY_MAX);
		return -1;
	}
	if (value_length > TABLE_VALUE_MAX) {
		dstring_printf(error, "value longer than %d bytes", TABLE_VALUE_MAX);
		return -1;
	}
	if (build->count == build->capacity) {
		build->capacity = build->capacity ? build->capacity * 2 : 1024;
		build->entries =
		    xreallocarray(build->entries, build->capacity, sizeof(*build->entries));
	}
	entry = &build->entries[build->count];
	entry->key = arena_copy(build, key, key_length);
	entry->value = arena_copy(build, value, value_length);
	entry->key_length = (uint32_t)key_length;
	entry->value_length = (uint32_t)value_length;
	entry->line = line;
	if (build->count > 0 && strcmp(build->entries[build->count - 1].key, entry->key) >= 0)
		build->is_sorted = false;
	build->count++;
	build->room += entry_room(key_length, value_length);
	return 0;
}

/* Key order as LMDB sees it (bytes, shorter first), then input order. */
static int
compare_entries(const void *left_pointer, const void *right_pointer)
{
	const struct build_entry *left = left_pointer, *right = right_pointer;
	int order = strcmp(left->key, right->key);

	if (order != 0)
		return order;
	return left->line < right->line ? -1 : left->line > right->line;
}

/* Sort, and keep one entry per key: the first, or with REPLACE the last. */
static void
build_sort(struct table_lmdb_build *build)
{
	size_t kept = 0;

	if (build->is_sorted)
		return;
	qsort(build->entries, build->count, sizeof(*build->entries), compare_entries);
	for (size_t i = 0; i < build->count; i++) {
		struct build_entry *entry = &build->entries[i];

		if (kept > 0 && strcmp(build->entries[kept - 1].key, entry->key) == 0) {
			if (!(build->flags & (TABLE_LMDB_QUIET | TABLE_LMDB_REPLACE)))
				log_warning("%s, line %lu: duplicate entry: \"%s\"", build->label,
				            entry->line, entry->key);
			if (build->flags & TABLE_LMDB_REPLACE)
				build->entries[kept - 1] = *entry;
			continue;
		}
		build->entries[kept++] = *entry;
	}
	build->count = kept;
}

/* Write every entry in one appending transaction. */
static int
build_write(struct table_lmdb_build *build)
{
	bool is_with_nul = !(build->flags & TABLE_LMDB_WITHOUT_NUL);
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_cursor *cursor;
	MDB_val key, value;
	int status;

	status = mdb_txn_begin(build->writer->env, NULL, 0, &txn);
	if (status == 0)
		status = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (status == 0)
		status = mdb_cursor_open(txn, dbi, &cursor);
	if (status != 0) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		return status;
	}
	for (size_t i = 0; i < build->count && status == 0; i++) {
		const struct build_entry *entry = &build->entries[i];

		fill_value(&key, entry->key, entry->key_length, is_with_nul);
		fill_value(&value, entry->value, entry->value_length, is_with_nul);
		status = mdb_cursor_put(cursor, &key, &value, MDB_APPEND);
	}
	mdb_cursor_close(cursor);
	if (status != 0) {
		mdb_txn_abort(txn);
		return status;
	}
	return mdb_txn_commit(txn);
}

int
table_lmdb_build_commit(struct table_lmdb_build *build, struct dstring *error)
{
	struct writer *writer = build->writer;
	int status;

	build_sort(build);
	writer->map_size = MAP_SIZE_MIN + build->room + build->room / 4;
	if (writer->map_size > MAP_SIZE_MAX)
		writer->map_size = MAP_SIZE_MAX;
	if (writer_open_env(writer, error) != 0) {
		build_free(build);
		return -1;
	}
	while (is_lmdb_full(status = build_write(build)))
		if (writer_grow(writer, error) != 0) {
			build_free(build);
			return -1;
		}
	if (status != 0) {
		dstring_printf(error, "write %s: %s", writer->temp_path, mdb_strerror(status));
		build_free(build);
		return -1;
	}
	build->writer = NULL;
	build_free(build);
	return writer_commit(writer, error);
}

void
table_lmdb_build_abort(struct table_lmdb_build *build)
{
	if (build != NULL)
		build_free(build);
}

/*
 * Updating.
 */

struct update_operation {
	char *key;
	char *value; /* NULL: delete */
	unsigned long line;
};

struct table_lmdb_update {
	struct writer *writer;
	char *label;
	unsigned flags;
	bool is_with_nul;
	struct update_operation *operations;
	size_t count;
	size_t capacity;
	size_t room;
};

/* Copy the table into the temporary file, compacted, and learn its form. */
static int
copy_table(struct table_lmdb_update *update, struct dstring *error)
{
	struct writer *writer = update->writer;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cursor;
	MDB_val key, value;
	int status = mdb_env_create(&env);

	if (status == 0)
		status = mdb_env_open(env, writer->table_path,
		                      MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0);
	if (status == 0 && !(update->flags & (TABLE_LMDB_WITHOUT_NUL | TABLE_LMDB_WITH_NUL)) &&
	    (status = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
		/* Without -n or -N, new entries take the form of the old ones. */
		if (mdb_dbi_open(txn, NULL, 0, &dbi) == 0 &&
		    mdb_cursor_open(txn, dbi, &cursor) == 0) {
			if (mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0)
				update->is_with_nul = key.mv_size > 0 && ((const char *)key.mv_data)[key.mv_size - 1] == '\0';
			mdb_cursor_close(cursor);
		}
		mdb_txn_abort(txn);
	}
	if (status == 0)
		status = mdb_env_copyfd2(env, writer->temp_fd, MDB_CP_COMPACT);
	mdb_env_close(env);
	if (status != 0) {
		dstring_printf(error, "copy %s: %s", writer->table_path, mdb_strerror(status));
		return -1;
	}
	return 0;
}

struct table_lmdb_update *
table_lmdb_update_begin(const char *name, const char *label, unsigned flags, bool is_missing_ok,
                        mode_t new_mode, struct dstring *error)
{
	struct table_lmdb_update *update;
	struct writer *writer = writer_begin(name, new_mode, error);

	if (writer == NULL)
		return NULL;
	update = xcalloc(1, sizeof(*update));
	update->writer = writer;
	update->label = xstrdup(label);
	update->flags = flags;
	update->is_with_nul = !(flags & TABLE_LMDB_WITHOUT_NUL);
	if (writer->is_table_present) {
		if (copy_table(update, error) != 0) {
			table_lmdb_update_abort(update);
			return NULL;
		}
	} else if (!is_missing_ok) {
		dstring_printf(error, "open %s: %s", writer->table_path, strerror(ENOENT));
		table_lmdb_update_abort(update);
		return NULL;
	}
	return update;
}

static struct update_operation *
queue_operation(struct table_lmdb_update *update)
{
	if (update->count == update->capacity) {
		update->capacity = update->capacity ? update->capacity * 2 : 64;
		update->operations = xreallocarray(update->operations, update->capacity,
		                                   sizeof(*update->operations));
	}
	return &update->operations[update->count++];
}

void
table_lmdb_update_delete(struct table_lmdb_update *update, const char *key)
{
	struct update_operation *operation = queue_operation(update);

	operation->key = xstrdup(key);
	operation->value = NULL;
	operation->line = 0;
}

int
table_lmdb_update_put(struct table_lmdb_update *update, const char *key, const char *value,
                      unsigned long line, struct dstring *error)
{
	struct update_operation *operation;
	size_t key_length = strlen(key), value_length = strlen(value);

	if (key_length == 0 || key_length > TABLE_LMDB_KEY_MAX) {
		dstring_printf(error, "key of %zu bytes: an lmdb key has 1 to %d bytes", key_length,
		               TABLE_LMDB_KEY_MAX);
		return -1;
	}
	if (value_length > TABLE_VALUE_MAX) {
		dstring_printf(error, "value longer than %d bytes", TABLE_VALUE_MAX);
		return -1;
	}
	operation = queue_operation(update);
	operation->key = xstrdup(key);
	operation->value = xstrdup(value);
	operation->line = line;
	update->room += 2 * entry_room(key_length, value_length);
	return 0;
}

/* Delete key in both forms; 1 when either was there, 0 if not, else status. */
static int
delete_both_forms(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
	size_t length = strlen(key);
	bool is_found = false;
	MDB_val data;
	int status;

	for (int is_with_nul = 0; is_with_nul < 2; is_with_nul++) {
		fill_value(&data, key, length, is_with_nul);
		if (data.mv_size == 0 || data.mv_size > TABLE_LMDB_KEY_MAX + 1)
			continue;
		status = mdb_del(txn, dbi, &data, NULL);
		if (status == 0)
			is_found = true;
		else if (status != MDB_NOTFOUND)
			return status;
	}
	return is_found ? 1 : 0;
}

/* Whether key exists in either form: 1, 0, or an LMDB status. */
static int
exists_in_either_form(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
	size_t length = strlen(key);
	MDB_val data, value;
	int status;

	for (int is_with_nul = 0; is_with_nul < 2; is_with_nul++) {
		fill_value(&data, key, length, is_with_nul);
		if (data.mv_size == 0 || data.mv_size > TABLE_LMDB_KEY_MAX + 1)
			continue;
		status = mdb_get(txn, dbi, &data, &value);
		if (status == 0)
			return 1;
		if (status != MDB_NOTFOUND)
			return status;
	}
	return 0;
}

/*
 * Apply every queued operation in one transaction. The outcome of each
 * insertion is noted in outcomes (for warnings after success).
 */
static int
update_write(struct table_lmdb_update *update, struct table_lmdb_update_result *result,
             bool *is_kept)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, value;
	int status;

	memset(result, 0, sizeof(*result));
	status = mdb_txn_begin(update->writer->env, NULL, 0, &txn);
	if (status != 0)
		return status;
	status = mdb_dbi_open(txn, NULL, 0, &dbi);
	for (size_t i = 0; i < update->count && status == 0; i++) {
		const struct update_operation *operation = &update->operations[i];
		int found;

		is_kept[i] = false;
		if (operation->value == NULL) {
			found = delete_both_forms(txn, dbi, operation->key);
			if (found == 1)
				result->deleted++;
			else if (found == 0)
				result->not_found++;
			else
				status = found;
			continue;
		}
		found = exists_in_either_form(txn, dbi, operation->key);
		if (found == 1 && !(update->flags & TABLE_LMDB_REPLACE)) {
			result->kept++;
			is_kept[i] = true;
			continue;
		}
		if (found == 1)
			found = delete_both_forms(txn, dbi, operation->key);
		if (found < 0 || found > 1) {
			status = found;
			continue;
		}
		if (found == 1)
			result->replaced++;
		else
			result->added++;
		fill_value(&key, operation->key, strlen(operation->key), update->is_with_nul);
		fill_value(&value, operation->value, strlen(operation->value), update->is_with_nul);
		status = mdb_put(txn, dbi, &key, &value, 0);
	}
	if (status != 0) {
		mdb_txn_abort(txn);
		return status;
	}
	return mdb_txn_commit(txn);
}

int
table_lmdb_update_commit(struct table_lmdb_update *update, struct table_lmdb_update_result *result,
                         struct dstring *error)
{
	struct writer *writer = update->writer;
	bool *is_kept = xcalloc(update->count + 1, sizeof(*is_kept));
	struct stat copy;
	int status;

	if (fstat(writer->temp_fd, &copy) != 0) {
		dstring_printf(error, "stat %s: %s", writer->temp_path, strerror(errno));
		goto failed;
	}
	writer->map_size = MAP_SIZE_MIN + (size_t)copy.st_size * 2 + update->room;
	if (writer->map_size > MAP_SIZE_MAX)
		writer->map_size = MAP_SIZE_MAX;
	if (writer_open_env(writer, error) != 0)
		goto failed;
	while (is_lmdb_full(status = update_write(update, result, is_kept)))
		if (writer_grow(writer, error) != 0)
			goto failed;
	if (status != 0) {
		dstring_printf(error, "update %s: %s", writer->temp_path, mdb_strerror(status));
		goto failed;
	}
	if (!(update->flags & TABLE_LMDB_QUIET))
		for (size_t i = 0; i < update->count; i++)
			if (is_kept[i])
				log_warning("%s, line %lu: duplicate entry: \"%s\"", update->label,
				            update->operations[i].line, update->operations[i].key);
	free(is_kept);
	if (result->deleted + result->added + result->replaced == 0 && writer->is_table_present) {
		/* Nothing changed: leave the table (and its inode) alone. */
		table_lmdb_update_abort(update);
		return 0;
	}
	update->writer = NULL;
	table_lmdb_update_abort(update);
	return writer_commit(writer, error);

failed:
	free(is_kept);
	table_lmdb_update_abort(update);
	return -1;
}

void
table_lmdb_update_abort(struct table_lmdb_update *update)
{
	if (update == NULL)
		return;
	if (update->writer != NULL)
		writer_free(update->writer);
	for (size_t i = 0; i < update->count; i++) {
		free(update->operations[i].key);
		free(update->operations[i].value);
	}
	free(update->operations);
	free(update->label);
	free(update);
}
