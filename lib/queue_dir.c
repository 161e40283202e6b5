/*
 * queue_dir - queue directory names and paths (queue_dir.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dstring.h"
#include "queue_dir.h"
#include "queue_id.h"
#include "xalloc.h"

static const char *const hashed_queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE,     QUEUE_DEFERRED,    QUEUE_HOLD,
    QUEUE_CORRUPT,  QUEUE_DEFER_LOGS, QUEUE_BOUNCE_LOGS,
};
static const char *const flat_queues[] = {
    QUEUE_MAILDROP,
    QUEUE_TEMP,
    QUEUE_PUBLIC,
    QUEUE_PRIVATE,
};
static const char hash_characters[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

bool
queue_dir_is_hashed(const char *queue_name)
{
	for (size_t i = 0; i < sizeof(hashed_queues) / sizeof(hashed_queues[0]); i++)
		if (strcmp(queue_name, hashed_queues[i]) == 0)
			return true;
	return false;
}

void
queue_dir_subdirectory(struct dstring *out, const char *queue_directory, const char *queue_name,
                       const char *queue_id)
{
	dstring_reset(out);
	if (queue_directory != NULL && queue_directory[0] != '\0')
		dstring_append_printf(out, "%s/", queue_directory);
	dstring_append_str(out, queue_name);
	if (queue_dir_is_hashed(queue_name))
		dstring_append_printf(out, "/%c", queue_id_hash(queue_id));
}

void
queue_dir_path(struct dstring *out, const char *queue_directory, const char *queue_name,
               const char *queue_id)
{
	queue_dir_subdirectory(out, queue_directory, queue_name, queue_id);
	dstring_append_printf(out, "/%s", queue_id);
}

static int
make_directory(const char *path, struct dstring *error)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		dstring_printf(error, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
queue_dir_create(const char *queue_directory, struct dstring *error)
{
	struct dstring path;
	int status = 0;

	dstring_init(&path, DSTRING_NO_LIMIT);
	for (size_t i = 0; status == 0 && i < sizeof(flat_queues) / sizeof(flat_queues[0]); i++) {
		dstring_printf(&path, "%s/%s", queue_directory, flat_queues[i]);
		status = make_directory(path.data, error);
	}
	for (size_t i = 0; status == 0 && i < sizeof(hashed_queues) / sizeof(hashed_queues[0]);
	     i++) {
		dstring_printf(&path, "%s/%s", queue_directory, hashed_queues[i]);
		status = make_directory(path.data, error);
		for (size_t h = 0; status == 0 && h < 32; h++) {
			dstring_printf(&path, "%s/%s/%c", queue_directory, hashed_queues[i],
			               hash_characters[h]);
			status = make_directory(path.data, error);
		}
	}
	dstring_fini(&path);
	return status;
}

struct queue_dir_scan {
	struct dstring base;      /* queue_directory/queue_name */
	struct dstring directory; /* the directory being read */
	bool is_hashed;
	int next_hash; /* the next subdirectory to open; 32 when done */
	DIR *dir;
	char id[QUEUE_ID_SIZE];
};

struct queue_dir_scan *
queue_dir_scan_open(const char *queue_directory, const char *queue_name, struct dstring *error)
{
	struct queue_dir_scan *scan = xcalloc(1, sizeof(*scan));

	dstring_init(&scan->base, DSTRING_NO_LIMIT);
	dstring_init(&scan->directory, DSTRING_NO_LIMIT);
	if (queue_directory != NULL && queue_directory[0] != '\0')
		dstring_printf(&scan->base, "%s/%s", queue_directory, queue_name);
	else
		dstring_set(&scan->base, queue_name);
	scan->is_hashed = queue_dir_is_hashed(queue_name);
	if (!scan->is_hashed) {
		scan->dir = opendir(scan->base.data);
		if (scan->dir == NULL) {
			dstring_printf(error, "open directory %s: %s", scan->base.data,
			               strerror(errno));
			queue_dir_scan_close(scan);
			return NULL;
		}
		scan->next_hash = 32;
	}
	return scan;
}

const char *
queue_dir_scan_next(struct queue_dir_scan *scan)
{
	for (;;) {
		struct dirent *entry;

		if (scan->dir == NULL) {
			if (scan->next_hash >= 32)
				return NULL;
			dstring_printf(&scan->directory, "%s/%c", scan->base.data,
			               hash_characters[scan->next_hash++]);
			scan->dir = opendir(scan->directory.data);
			continue; /* a missing subdirectory holds nothing */
		}
		entry = readdir(scan->dir);
		if (entry == NULL) {
			closedir(scan->dir);
			scan->dir = NULL;
			continue;
		}
		if (!queue_id_is_valid(entry->d_name))
			continue;
		memcpy(scan->id, entry->d_name, strlen(entry->d_name) + 1); /* valid: short */
		return scan->id;
	}
}

void
queue_dir_scan_close(struct queue_dir_scan *scan)
{
	if (scan == NULL)
		return;
	if (scan->dir != NULL)
		closedir(scan->dir);
	dstring_fini(&scan->base);
	dstring_fini(&scan->directory);
	free(scan);
}
