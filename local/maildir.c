/*
 * maildir - delivery to a Maildir (home_mailbox = Maildir/, or a /path/
 * destination ending in '/'), run as the user in local_run's child.
 *
 * The Maildir protocol (cr.yp.to/proto/maildir.html), as Postfix and
 * Dovecot follow it:
 *   1. make DIR/tmp, DIR/new and DIR/cur when missing (mode 0700);
 *   2. create DIR/tmp/UNIQUE exclusively and write the message (with
 *      Return-Path, X-Original-To and Delivered-To; no From line, no
 *      quoting), then fsync it;
 *   3. link it to DIR/new/UNIQUE (rename where the file system has no
 *      links), remove the tmp name, and fsync DIR/new, so the entry is
 *      on stable storage before the delivery is reported.
 * A reader never sees a partial message: only complete files reach new/.
 * Any failure removes the tmp file and defers.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "log.h"

void
local_maildir_unique(struct dstring *out, const struct timespec *now, long pid,
                     unsigned long counter, const char *host)
{
	dstring_append_printf(out, "%lld.M%ldP%ldQ%lu.", (long long)now->tv_sec,
	                      now->tv_nsec / 1000, pid, counter);
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			dstring_append_str(out, "\\057");
		else if (*p == ':')
			dstring_append_str(out, "\\072");
		else if ((unsigned char)*p <= ' ' || *p == 0x7f)
			dstring_append_char(out, '_');
		else
			dstring_append_char(out, *p);
	}
}

/* make_directory: mkdir unless it exists as a directory. */
static int
make_directory(const char *path)
{
	struct stat info;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &info) == 0 && S_ISDIR(info.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return -1;
}

static const char *
dsn_for(int error)
{
	return error == EDQUOT || error == EFBIG ? "4.2.2" : error == ENOSPC ? "4.3.1" : "4.2.0";
}

void
local_maildir_deliver(void *argument, const struct local_identity *identity,
                      struct local_result *result)
{
	const struct local_maildir_request *request = argument;
	struct dstring tmp, new, directory;
	int fd = -1, error = 0;
	const char *step = "";

	dstring_init(&tmp, DSTRING_NO_LIMIT);
	dstring_init(&new, DSTRING_NO_LIMIT);
	dstring_init(&directory, DSTRING_NO_LIMIT);
	/* 1. The directories (the Maildir itself first). */
	dstring_printf(&directory, "%s", request->path);
	while (dstring_length(&directory) > 1 &&
	       directory.data[dstring_length(&directory) - 1] == '/')
		dstring_truncate(&directory, dstring_length(&directory) - 1);
	if (make_directory(dstring_str(&directory)) < 0) {
		error = errno;
		step = "create directory";
		dstring_set(&tmp, dstring_str(&directory));
		goto failed;
	}
	static const char *const subdirectories[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		dstring_printf(&tmp, "%s/%s", dstring_str(&directory), subdirectories[i]);
		if (make_directory(dstring_str(&tmp)) < 0) {
			error = errno;
			step = "create directory";
			goto failed;
		}
	}
	/* 2. The file in tmp/. */
	dstring_printf(&tmp, "%s/tmp/%s", dstring_str(&directory), request->unique);
	dstring_printf(&new, "%s/new/%s", dstring_str(&directory), request->unique);
	fd = open(dstring_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error = errno;
		step = "create maildir file";
		goto failed;
	}
	if (local_copy_write(request->copy, fd) < 0 || fsync(fd) < 0) {
		error = errno;
		step = "write maildir file";
		goto failed_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = errno;
		step = "write maildir file";
		goto failed_unlink;
	}
	fd = -1;
	/* 3. Into new/, durably. */
	if (link(dstring_str(&tmp), dstring_str(&new)) == 0) {
		unlink(dstring_str(&tmp));
	} else if (errno == EEXIST || rename(dstring_str(&tmp), dstring_str(&new)) < 0) {
		error = errno;
		step = "move maildir file to new/";
		goto failed_unlink;
	}
	dstring_printf(&tmp, "%s/new", dstring_str(&directory));
	fd = open(dstring_str(&tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		/* The file is in new/ but maybe not durably: say so, deliver again later. */
		error = errno;
		log_warning("fsync %s: %s", dstring_str(&tmp), strerror(error));
		unlink(dstring_str(&new));
		step = "sync directory";
		goto failed;
	}
	close(fd);
	fd = -1;
	local_result_set(result, LOCAL_SENT, "2.0.0", "delivered to maildir");
	goto done;
failed_unlink:
	unlink(dstring_str(&tmp));
failed:
	local_result_set(result, LOCAL_DEFERRED, dsn_for(error),
	                 "maildir delivery failed: %s %s: %s", step, dstring_str(&tmp),
	                 strerror(error));
done:
	if (fd >= 0)
		close(fd);
	dstring_fini(&tmp);
	dstring_fini(&new);
	dstring_fini(&directory);
	(void)identity;
}
