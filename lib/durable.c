/*
 * durable - group commit over syncfs(2), or fsync per file and directory
 * where syncfs is missing (durable.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dstring.h"
#include "durable.h"
#include "xalloc.h"

struct durable {
	int directory_fd;
	bool has_syncfs;
	bool has_pending;
	int *files;
	size_t file_count, file_capacity;
	char **directories;
	size_t directory_count, directory_capacity;
	unsigned long sync_calls;
	unsigned long flushes;
};

struct durable *
durable_open(const char *directory, struct dstring *error)
{
	struct durable *durable;
	int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		dstring_printf(error, "open %s: %s", directory, strerror(errno));
		return NULL;
	}
	durable = xcalloc(1, sizeof(*durable));
	durable->directory_fd = fd;
	durable->has_syncfs = compat_has_syncfs();
	return durable;
}

static void
forget_pending(struct durable *durable)
{
	for (size_t i = 0; i < durable->directory_count; i++)
		free(durable->directories[i]);
	durable->directory_count = 0;
	durable->file_count = 0;
	durable->has_pending = false;
}

void
durable_close(struct durable *durable)
{
	if (durable == NULL)
		return;
	forget_pending(durable);
	free(durable->files);
	free(durable->directories);
	close(durable->directory_fd);
	free(durable);
}

void
durable_add_file(struct durable *durable, int fd)
{
	durable->has_pending = true;
	if (durable->has_syncfs)
		return;
	if (durable->file_count == durable->file_capacity) {
		durable->file_capacity = durable->file_capacity ? 2 * durable->file_capacity : 16;
		durable->files =
		    xreallocarray(durable->files, durable->file_capacity, sizeof(*durable->files));
	}
	durable->files[durable->file_count++] = fd;
}

void
durable_add_directory(struct durable *durable, const char *path)
{
	durable->has_pending = true;
	if (durable->has_syncfs)
		return;
	for (size_t i = 0; i < durable->directory_count; i++)
		if (strcmp(durable->directories[i], path) == 0)
			return;
	if (durable->directory_count == durable->directory_capacity) {
		durable->directory_capacity =
		    durable->directory_capacity ? 2 * durable->directory_capacity : 16;
		durable->directories =
		    xreallocarray(durable->directories, durable->directory_capacity,
		                  sizeof(*durable->directories));
	}
	durable->directories[durable->directory_count++] = xstrdup(path);
}

bool
durable_has_pending(const struct durable *durable)
{
	return durable->has_pending;
}

int
durable_flush(struct durable *durable, struct dstring *error)
{
	int status = 0;

	if (!durable->has_pending)
		return 0;
	durable->flushes++;
	if (durable->has_syncfs) {
		durable->sync_calls++;
		if (compat_syncfs(durable->directory_fd) < 0) {
			dstring_printf(error, "syncfs: %s", strerror(errno));
			status = -1;
		}
		forget_pending(durable);
		return status;
	}
	for (size_t i = 0; status == 0 && i < durable->file_count; i++) {
		durable->sync_calls++;
		if (fsync(durable->files[i]) < 0) {
			dstring_printf(error, "fsync: %s", strerror(errno));
			status = -1;
		}
	}
	for (size_t i = 0; status == 0 && i < durable->directory_count; i++) {
		int fd = open(durable->directories[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			dstring_printf(error, "open %s: %s", durable->directories[i],
			               strerror(errno));
			status = -1;
			break;
		}
		durable->sync_calls++;
		if (fsync(fd) < 0) {
			dstring_printf(error, "fsync %s: %s", durable->directories[i],
			               strerror(errno));
			status = -1;
		}
		close(fd);
	}
	forget_pending(durable);
	return status;
}

unsigned long
durable_sync_calls(const struct durable *durable)
{
	return durable->sync_calls;
}

unsigned long
durable_flushes(const struct durable *durable)
{
	return durable->flushes;
}
