/*
 * permissions - queue directory layout and accounts (see permissions.h).
 *
 * Nothing here follows a symbolic link: every directory is checked with
 * lstat, and one that is not a real directory is refused, so a hostile
 * link in the queue cannot make root chown or chmod something else.
 * Accounts are created with useradd/groupadd run by execve, never a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "permissions.h"

enum owner_kind {
	OWNER_ROOT,	    /* root:root (the user, in a private instance) */
	OWNER_MAIL,	    /* mail_owner:mail_owner's group */
	OWNER_MAIL_SETGID, /* mail_owner:setgid_group */
};

struct queue_entry {
	const char *name;
	enum owner_kind owner;
	mode_t mode;
};

/* The layout; docs/master.md shows the same table. */
static const struct queue_entry queue_layout[] = {
    {"maildrop", OWNER_MAIL_SETGID, 01730}, {"incoming", OWNER_MAIL, 0700},
    {"active", OWNER_MAIL, 0700},	    {"deferred", OWNER_MAIL, 0700},
    {"hold", OWNER_MAIL, 0700},		    {"corrupt", OWNER_MAIL, 0700},
    {"bounce", OWNER_MAIL, 0700},	    {"defer", OWNER_MAIL, 0700},
    {"pid", OWNER_ROOT, 0755},		    {"public", OWNER_MAIL_SETGID, 0710},
    {"private", OWNER_MAIL, 0700},	    {"tmp", OWNER_MAIL, 0700},
};

/* Files a chrooted daemon needs: name service, resolver, time zone. */
static const char *const chroot_files[] = {
    "/etc/localtime", "/etc/services",	"/etc/resolv.conf",
    "/etc/hosts",     "/etc/host.conf", "/etc/nsswitch.conf",
};

/* Run an account tool; true when it succeeded. */
static bool
run_tool(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		log_error("fork: %m");
		return false;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		log_error("execute %s: %m", argv[0]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int
create_accounts(void)
{
	if (getgrnam(var_setgid_group) == NULL) {
		char *argv[] = {"/usr/sbin/groupadd", "--system", (char *)var_setgid_group, NULL};

		log_info("creating group %s", var_setgid_group);
		/* Another run may have created it meanwhile: look again. */
		if (!run_tool(argv) && getgrnam(var_setgid_group) == NULL) {
			log_error("cannot create group %s", var_setgid_group);
			return -1;
		}
	}
	if (getpwnam(var_mail_owner) == NULL) {
		char *argv[] = {"/usr/sbin/useradd", "--system",	 "--user-group",
				"--no-create-home",  "--home-dir",	 "/nonexistent",
				"--shell",	     "/usr/sbin/nologin", (char *)var_mail_owner,
				NULL};

		log_info("creating user %s", var_mail_owner);
		if (!run_tool(argv) && getpwnam(var_mail_owner) == NULL) {
			log_error("cannot create user %s", var_mail_owner);
			return -1;
		}
	}
	return 0;
}

/* The owners to use; false (logged) when an account is missing or bad. */
static bool
find_owners(uid_t *mail_uid, gid_t *mail_gid, gid_t *setgid_gid)
{
	struct passwd *owner;
	struct group *group;

	if (geteuid() != 0) {
		*mail_uid = geteuid();
		*mail_gid = *setgid_gid = getegid();
		return true;
	}
	owner = getpwnam(var_mail_owner);
	if (owner == NULL) {
		log_error("mail_owner %s: no such user (run \"hikyaku set-permissions\")",
			  var_mail_owner);
		return false;
	}
	if (owner->pw_uid == 0) {
		log_error("mail_owner %s has user ID 0: refusing", var_mail_owner);
		return false;
	}
	*mail_uid = owner->pw_uid;
	*mail_gid = owner->pw_gid;
	group = getgrnam(var_setgid_group);
	if (group == NULL) {
		log_error("setgid_group %s: no such group (run \"hikyaku set-permissions\")",
			  var_setgid_group);
		return false;
	}
	if (group->gr_gid == owner->pw_gid) {
		log_error("setgid_group %s is the group of mail_owner %s: refusing",
			  var_setgid_group, var_mail_owner);
		return false;
	}
	*setgid_gid = group->gr_gid;
	return true;
}

/* Make path a directory with exactly this owner and mode. */
static int
ensure_directory(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat info;

	if (lstat(path, &info) < 0) {
		if (errno != ENOENT || mkdir(path, 0700) < 0) {
			log_error("create %s: %m", path);
			return -1;
		}
		if (lstat(path, &info) < 0) {
			log_error("%s: %m", path);
			return -1;
		}
	}
	if (!S_ISDIR(info.st_mode)) {
		log_error("%s is not a directory: refusing to use it", path);
		return -1;
	}
	if ((info.st_uid != uid || info.st_gid != gid) && lchown(path, uid, gid) < 0) {
		log_error("chown %s: %m", path);
		return -1;
	}
	if ((info.st_mode & 07777) != mode && chmod(path, mode) < 0) {
		log_error("chmod %s: %m", path);
		return -1;
	}
	return 0;
}

/*
 * The queue directory: created when missing, else it must be owned by
 * root (by us, in a private instance) and writable by nobody else, since
 * daemons chroot into it and trust what is in it.
 */
static int
check_queue_directory(const char *path)
{
	struct stat info;

	if (lstat(path, &info) < 0) {
		if (errno != ENOENT || mkdir(path, 0755) < 0) {
			log_error("create queue_directory %s: %m", path);
			return -1;
		}
		return 0;
	}
	if (!S_ISDIR(info.st_mode)) {
		log_error("queue_directory %s is not a directory", path);
		return -1;
	}
	if (info.st_uid != geteuid()) {
		log_error("queue_directory %s is owned by user ID %ld, not %s: refusing to use "
			  "it",
			  path, (long)info.st_uid, geteuid() == 0 ? "root" : "you");
		return -1;
	}
	if (info.st_mode & 022) {
		log_error("queue_directory %s is writable by group or others (mode %04o): "
			  "refusing to use it",
			  path, (unsigned)(info.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Copy one file into the chroot, replacing the old copy atomically. */
static int
copy_file(const char *source, const char *target)
{
	struct dstring temporary;
	char buffer[8192];
	int in, out, status = 0;
	ssize_t count;

	in = open(source, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : -1;
	dstring_init(&temporary, DSTRING_NO_LIMIT);
	dstring_printf(&temporary, "%s.tmp", target);
	out = open(dstring_str(&temporary), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		   0644);
	if (out < 0)
		status = -1;
	for (int rounds = 0; status == 0 && rounds < 100000; rounds++) {
		count = read(in, buffer, sizeof(buffer));
		if (count == 0)
			break;
		if (count < 0 || write(out, buffer, (size_t)count) != count)
			status = -1;
	}
	if (out >= 0 && (fchmod(out, 0644) < 0 || close(out) < 0))
		status = -1;
	if (status == 0 && rename(dstring_str(&temporary), target) < 0)
		status = -1;
	if (status < 0) {
		log_error("copy %s to %s: %m", source, target);
		unlink(dstring_str(&temporary));
	}
	close(in);
	dstring_fini(&temporary);
	return status;
}

static int
copy_chroot(const char *queue)
{
	char *etc = instance_path(queue, "etc");
	int status = ensure_directory(etc, 0, 0, 0755);

	for (size_t i = 0; status == 0 && i < sizeof(chroot_files) / sizeof(chroot_files[0]); i++) {
		char *target = instance_path(etc, chroot_files[i] + 5);

		status = copy_file(chroot_files[i], target);
		free(target);
	}
	free(etc);
	return status;
}

/*
 * postdrop is the one set-group-ID program: it may write into maildrop/
 * only through $setgid_group. It must be a root-owned regular file, never
 * a link someone could point elsewhere.
 */
static int
make_postdrop_setgid(gid_t setgid_gid)
{
	char *path = instance_path(var_command_directory, "postdrop");
	struct stat info;
	int status = 0;

	if (lstat(path, &info) != 0) {
		if (errno != ENOENT) {
			log_error("lstat %s: %s", path, strerror(errno));
			status = -1;
		}
	} else if (!S_ISREG(info.st_mode) || info.st_uid != 0 || (info.st_mode & 022) != 0) {
		log_error("%s: not a root-owned regular file that only root can write: "
			  "not making it set-group-ID",
			  path);
		status = -1;
	} else if (chown(path, 0, setgid_gid) != 0 || chmod(path, 02755) != 0) {
		log_error("set-group-ID %s: %s", path, strerror(errno));
		status = -1;
	}
	free(path);
	return status;
}

int
permissions_prepare(bool create, bool copy_chroot_files)
{
	uid_t mail_uid, root_uid = geteuid();
	gid_t mail_gid, setgid_gid, root_gid = getegid();
	const char *queue = var_queue_directory;
	int problems = 0;

	if (queue[0] != '/') {
		log_error("queue_directory %s is not an absolute path", queue);
		return -1;
	}
	if (create && geteuid() == 0 && create_accounts() < 0)
		return -1;
	if (!find_owners(&mail_uid, &mail_gid, &setgid_gid))
		return -1;
	if (check_queue_directory(queue) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(queue_layout) / sizeof(queue_layout[0]); i++) {
		const struct queue_entry *entry = &queue_layout[i];
		char *path = instance_path(queue, entry->name);
		uid_t uid = entry->owner == OWNER_ROOT ? root_uid : mail_uid;
		gid_t gid = entry->owner == OWNER_ROOT	       ? root_gid
			    : entry->owner == OWNER_MAIL_SETGID ? setgid_gid
								: mail_gid;

		if (ensure_directory(path, uid, gid, entry->mode) < 0)
			problems++;
		free(path);
	}
	if (var_data_directory[0] == '/' &&
	    ensure_directory(var_data_directory, mail_uid, mail_gid, 0700) < 0)
		problems++;
	if (copy_chroot_files && geteuid() == 0 && copy_chroot(queue) < 0)
		problems++;
	if (create && geteuid() == 0 && make_postdrop_setgid(setgid_gid) < 0)
		problems++;
	return problems > 0 ? -1 : 0;
}
