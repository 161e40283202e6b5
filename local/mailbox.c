/*
 * mailbox - delivery to an mbox file: the user's mailbox in
 * mail_spool_directory (/var/mail/user), a home_mailbox file, or a
 * /file destination of an alias or .forward.
 *
 * Runs in the child made by local_run. The steps, as Postfix's
 * local/mailbox.c:
 *   1. lock: a dot-lock file "PATH.lock" (O_EXCL; one older than
 *      stale_lock_time is removed) and an fcntl write lock, as
 *      mailbox_delivery_lock says, each tried deliver_lock_attempts times
 *      deliver_lock_delay apart;
 *   2. open the file for appending without following a symbolic link; it
 *      must be a regular file with one link, owned by the user when
 *      local runs as root (strict_mailbox_ownership); a new spool
 *      mailbox is given to the user;
 *   3. append "From ..." + Return-Path/X-Original-To/Delivered-To + the
 *      message with ">From " quoting + an empty line, then fsync;
 *   4. on any error, truncate the file back to its size before 3, so a
 *      failed delivery leaves no partial message behind.
 * In the spool, steps 1-2 run as root (the spool belongs to root or the
 * mail group) and 3-4 as the user, by changing the effective identity.
 * Every failure is a deferral: a full disk, a quota, an unwritable or
 * suspicious mailbox is something an administrator fixes, not a reason to
 * return the mail.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "log.h"

/* dsn_for: the enhanced status for a write error. */
static const char *
dsn_for(int error)
{
	return error == EDQUOT || error == EFBIG ? "4.2.2" : error == ENOSPC ? "4.3.1" : "4.2.0";
}

/* dot_lock: create path.lock; 0, or -1 with errno (EEXIST: held by another). */
static int
dot_lock(const char *lock_path)
{
	struct stat info;
	int fd;

	for (int attempt = 0; attempt < var_deliver_lock_attempts; attempt++) {
		fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		if (lstat(lock_path, &info) == 0 &&
		    time(NULL) - info.st_mtime > var_stale_lock_time) {
			log_warning("%s: removing stale lock file", lock_path);
			unlink(lock_path);
			continue;
		}
		if (attempt + 1 < var_deliver_lock_attempts)
			sleep((unsigned)var_deliver_lock_delay);
	}
	errno = EEXIST;
	return -1;
}

/* fcntl_lock: a write lock on the whole file, with retries. */
static int
fcntl_lock(int fd)
{
	struct flock lock;

	memset(&lock, 0, sizeof(lock));
	lock.l_type = F_WRLCK;
	lock.l_whence = SEEK_SET;
	for (int attempt = 0; attempt < var_deliver_lock_attempts; attempt++) {
		if (fcntl(fd, F_SETLK, &lock) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		if (attempt + 1 < var_deliver_lock_attempts)
			sleep((unsigned)var_deliver_lock_delay);
	}
	errno = EAGAIN;
	return -1;
}

/* set_effective: switch the effective identity inside the child. */
static int
set_effective(uid_t uid, gid_t gid)
{
	if (seteuid(0) < 0)
		return -1;
	if (setegid(gid) < 0)
		return -1;
	return seteuid(uid);
}

void
local_mbox_deliver(void *argument, const struct local_identity *identity,
                   struct local_result *result)
{
	const struct local_mbox_request *request = argument;
	const char *path = request->path;
	char lock_path[4096];
	bool use_dotlock = local_list_has(var_mailbox_delivery_lock, "dotlock");
	bool use_fcntl = local_list_has(var_mailbox_delivery_lock, "fcntl");
	bool has_dotlock = false, is_root = local_is_root();
	struct stat info;
	off_t original_size;
	struct rlimit limit;
	int fd = -1, error;

	if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >= (int)sizeof(lock_path)) {
		local_result_set(result, LOCAL_BOUNCED, "5.3.5", "mailbox path too long: %s", path);
		return;
	}
	/* In the spool, create and lock as root; elsewhere all as the user. */
	if (is_root && request->is_spool) {
		gid_t groups[1] = {identity->gid};

		if (setgroups(1, groups) < 0) {
			local_result_set(result, LOCAL_DEFERRED, "4.3.0", "setgroups: %s",
			                 strerror(errno));
			return;
		}
	}
	if (use_dotlock) {
		if (dot_lock(lock_path) == 0) {
			has_dotlock = true;
		} else if (errno == EEXIST) {
			local_result_set(result, LOCAL_DEFERRED, "4.2.0",
			                 "cannot update mailbox %s: lock file %s is held", path,
			                 lock_path);
			return;
		} else if (errno != EACCES && errno != EPERM && errno != EROFS) {
			local_result_set(result, LOCAL_DEFERRED, "4.2.0",
			                 "cannot create lock file %s: %s", lock_path,
			                 strerror(errno));
			return;
		}
		/* A directory we may not write: the fcntl lock has to do (as Postfix). */
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		error = errno;
		local_result_set(result, LOCAL_DEFERRED, dsn_for(error),
		                 "cannot open mailbox %s: %s", path,
		                 error == ELOOP ? "is a symbolic link" : strerror(error));
		goto unlock;
	}
	if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode) || info.st_nlink != 1) {
		local_result_set(result, LOCAL_DEFERRED, "4.2.0",
		                 "mailbox %s is not a regular file with one link", path);
		goto unlock;
	}
	if (is_root && request->is_spool && info.st_size == 0 && info.st_uid == 0 &&
	    identity->uid != 0 && fchown(fd, identity->uid, identity->gid) == 0)
		info.st_uid = identity->uid;
	if (is_root && var_strict_mailbox_ownership && info.st_uid != identity->uid) {
		local_result_set(result, LOCAL_DEFERRED, "4.2.0",
		                 "mailbox %s is owned by uid %ld, not by %s", path,
		                 (long)info.st_uid, identity->name);
		goto unlock;
	}
	if (use_fcntl && fcntl_lock(fd) < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.2.0", "cannot lock mailbox %s: %s",
		                 path, strerror(errno));
		goto unlock;
	}
	if (fstat(fd, &info) < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.2.0", "fstat %s: %s", path,
		                 strerror(errno));
		goto unlock;
	}
	original_size = info.st_size;
	if (var_mailbox_size_limit > 0) {
		if (original_size + request->copy->message->envelope.content_size >
		    var_mailbox_size_limit) {
			local_result_set(result, LOCAL_DEFERRED, "4.2.2",
			                 "cannot update mailbox %s: mailbox is full (%lld bytes, "
			                 "mailbox_size_limit %lld)",
			                 path, (long long)original_size, var_mailbox_size_limit);
			goto unlock;
		}
		limit.rlim_cur = limit.rlim_max = (rlim_t)var_mailbox_size_limit;
		setrlimit(RLIMIT_FSIZE, &limit);
	}
	if (is_root && request->is_spool && set_effective(identity->uid, identity->gid) < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0", "cannot change to user %s: %s",
		                 identity->name, strerror(errno));
		goto unlock;
	}
	if (local_copy_write(request->copy, fd) < 0 || fsync(fd) < 0) {
		error = errno;
		if (ftruncate(fd, original_size) < 0)
			log_warning("%s: cannot truncate back to %lld bytes: %s", path,
			            (long long)original_size, strerror(errno));
		else
			fsync(fd);
		local_result_set(result, LOCAL_DEFERRED, dsn_for(error),
		                 "cannot update mailbox %s: %s", path, strerror(error));
	} else {
		local_result_set(result, LOCAL_SENT, "2.0.0", "delivered to mailbox");
	}
	if (is_root && request->is_spool)
		set_effective(0, 0);
unlock:
	if (fd >= 0)
		close(fd);
	if (has_dotlock && unlink(lock_path) < 0)
		log_warning("remove %s: %s", lock_path, strerror(errno));
}
