/*
 * test_durable - group commit: one flush covers many files (syncfs), or
 * one fsync per file and directory (the POSIX fallback); nothing pending
 * means no system call.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "compat.h"
#include "dstring.h"
#include "durable.h"

int
main(void)
{
	char directory[] = "/tmp/test_durable.XXXXXX";
	struct dstring error, path;
	struct durable *durable;
	int fds[10];

	dstring_init(&error, 1000);
	dstring_init(&path, 1000);
	CHECK(mkdtemp(directory) != NULL);
	CHECK(durable_open("/nonexistent/dir", &error) == NULL);
	CHECK(strstr(error.data, "/nonexistent/dir") != NULL);
	durable = durable_open(directory, &error);
	CHECK(durable != NULL);
	CHECK(!durable_has_pending(durable));
	CHECK(durable_flush(durable, &error) == 0);
	CHECK_INT_EQ(durable_sync_calls(durable), 0);
	for (int i = 0; i < 10; i++) {
		dstring_printf(&path, "%s/f%d", directory, i);
		fds[i] = open(path.data, O_CREAT | O_WRONLY, 0600);
		CHECK(write(fds[i], "x", 1) == 1);
		durable_add_file(durable, fds[i]);
		durable_add_directory(durable, directory);
	}
	CHECK(durable_has_pending(durable));
	CHECK(durable_flush(durable, &error) == 0);
	CHECK(!durable_has_pending(durable));
	CHECK_INT_EQ(durable_flushes(durable), 1);
	if (compat_has_syncfs())
		CHECK_INT_EQ(durable_sync_calls(durable), 1);
	else
		CHECK_INT_EQ(durable_sync_calls(durable), 11); /* 10 files, 1 directory */
	for (int i = 0; i < 10; i++) {
		close(fds[i]);
		dstring_printf(&path, "%s/f%d", directory, i);
		unlink(path.data);
	}
	durable_close(durable);
	rmdir(directory);
	dstring_fini(&error);
	dstring_fini(&path);
	return check_finish();
}
