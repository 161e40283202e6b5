/*
 * local_run - leaf deliveries in a child process with the recipient's
 * identity, and the password file lookups that name those identities.
 *
 * Started by root, local keeps root only to become someone else: every
 * write to a mailbox, a file or a command's pipe happens in a child that
 * changed to the user first (setgid, setgroups, setuid), or, for the
 * mail spool, in a child that opens and locks the mailbox as root and
 * then drops to the user for the writing (mailbox.c). Commands and files
 * never run as root: the callers give default_privs instead.
 * Started by an ordinary user, nobody changes identity; the child still
 * isolates the delivery (a crash or a hung write costs one result).
 *
 * The child answers with one fixed-size record through a pipe; a child
 * that dies without it (a signal, an exit) is a deferral, never a loss.
 *
 * The user's supplementary groups are looked up in the parent
 * (getgrouplist), the child only sets them (setgroups): an initgroups()
 * in the child would load the group database's NSS modules (with
 * "group: files systemd", libnss_systemd, libcap and libm) into every
 * child afresh, about a quarter of a millisecond per delivery, where the
 * parent loads them once.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local.h"
#include "log.h"
#include "xalloc.h"

void
local_result_set(struct local_result *result, enum local_status status, const char *dsn,
                 const char *format, ...)
{
	va_list args;

	result->status = status;
	snprintf(result->dsn, sizeof(result->dsn), "%s", dsn);
	va_start(args, format);
	vsnprintf(result->text, sizeof(result->text), format, args);
	va_end(args);
}

static void
identity_from_passwd(const struct passwd *entry, struct local_identity *identity)
{
	identity->uid = entry->pw_uid;
	identity->gid = entry->pw_gid;
	identity->name = xstrdup(entry->pw_name);
	identity->home = xstrdup(entry->pw_dir ? entry->pw_dir : "/");
	identity->shell =
	    xstrdup(entry->pw_shell && *entry->pw_shell ? entry->pw_shell : "/bin/sh");
}

int
local_identity_lookup(const char *name, struct local_identity *identity)
{
	struct passwd *entry;

	memset(identity, 0, sizeof(*identity));
	errno = 0;
	entry = getpwnam(name);
	if (entry == NULL)
		return -1;
	identity_from_passwd(entry, identity);
	return 0;
}

int
local_identity_lookup_uid(uid_t uid, struct local_identity *identity)
{
	struct passwd *entry;

	memset(identity, 0, sizeof(*identity));
	entry = getpwuid(uid);
	if (entry == NULL)
		return -1;
	identity_from_passwd(entry, identity);
	return 0;
}

void
local_identity_copy(struct local_identity *to, const struct local_identity *from)
{
	to->uid = from->uid;
	to->gid = from->gid;
	to->name = xstrdup(from->name);
	to->home = xstrdup(from->home);
	to->shell = xstrdup(from->shell);
}

void
local_identity_fini(struct local_identity *identity)
{
	free(identity->name);
	free(identity->home);
	free(identity->shell);
	memset(identity, 0, sizeof(*identity));
}

bool
local_is_root(void)
{
	return geteuid() == 0;
}

/*
 * How many times getgrouplist is asked, each time with the larger buffer
 * it asked for (the group database may grow between two calls).
 */
#define GROUP_LIST_TRIES 4

int
local_groups_lookup(const struct local_identity *identity, gid_t **groups, size_t *count,
                    struct dstring *error)
{
	long limit = sysconf(_SC_NGROUPS_MAX);
	int capacity = 64;

	*groups = NULL;
	*count = 0;
	if (limit <= 0 || limit > 65536)
		limit = 65536;
	for (int try = 0; try < GROUP_LIST_TRIES; try++) {
		int found = capacity;

		*groups = xreallocarray(*groups, (size_t)capacity, sizeof(**groups));
		if (getgrouplist(identity->name, identity->gid, *groups, &found) >= 0) {
			*count = found > 0 ? (size_t)found : 0;
			return 0;
		}
		/* Too small: found now says how many there are. */
		if (found <= capacity || found > limit)
			break;
		capacity = found;
	}
	free(*groups);
	*groups = NULL;
	dstring_printf(error, "cannot list the groups of user %s", identity->name);
	return -1;
}

int
local_become(const struct local_identity *identity, const gid_t *groups, size_t count,
             struct dstring *error)
{
	if (!local_is_root())
		return 0;
	if (identity->uid == 0) {
		dstring_printf(error, "refusing to run as root");
		return -1;
	}
	if (setgid(identity->gid) < 0 || setgroups(count, groups) < 0 ||
	    setuid(identity->uid) < 0) {
		dstring_printf(error, "cannot change to user %s (uid %ld): %s", identity->name,
		               (long)identity->uid, strerror(errno));
		return -1;
	}
	/* Being able to go back would mean the change did not happen. */
	if (setuid(0) == 0) {
		dstring_printf(error, "cannot drop root privileges");
		return -1;
	}
	return 0;
}

/* write_all: the whole buffer to a pipe, across interrupts. */
static int
write_all(int fd, const void *data, size_t length)
{
	const char *at = data;

	while (length > 0) {
		ssize_t n = write(fd, at, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		at += n;
		length -= (size_t)n;
	}
	return 0;
}

void
local_run(local_work work, void *argument, const struct local_identity *identity,
          enum local_run_mode mode, struct local_result *result)
{
	int channel[2];
	pid_t pid;
	int status;
	ssize_t n;
	size_t got = 0;
	gid_t *groups = NULL;
	size_t group_count = 0;

	if (mode == LOCAL_RUN_AS_USER && local_is_root()) {
		struct dstring error;

		dstring_init(&error, 512);
		if (local_groups_lookup(identity, &groups, &group_count, &error) < 0) {
			local_result_set(result, LOCAL_DEFERRED, "4.3.0", "%s",
			                 dstring_str(&error));
			dstring_fini(&error);
			return;
		}
		dstring_fini(&error);
	}
	if (pipe2(channel, O_CLOEXEC) < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0", "cannot create a pipe: %s",
		                 strerror(errno));
		free(groups);
		return;
	}
	pid = fork();
	if (pid < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0", "cannot fork: %s",
		                 strerror(errno));
		close(channel[0]);
		close(channel[1]);
		free(groups);
		return;
	}
	if (pid == 0) {
		struct local_result answer;
		struct dstring error;

		close(channel[0]);
		signal(SIGPIPE, SIG_IGN);
		/* Past mailbox_size_limit a write fails with EFBIG, not a signal. */
		signal(SIGXFSZ, SIG_IGN);
		memset(&answer, 0, sizeof(answer));
		dstring_init(&error, 512);
		if (mode == LOCAL_RUN_AS_USER &&
		    local_become(identity, groups, group_count, &error) < 0)
			local_result_set(&answer, LOCAL_DEFERRED, "4.3.0", "%s",
			                 dstring_str(&error));
		else
			work(argument, identity, &answer);
		write_all(channel[1], &answer, sizeof(answer));
		_exit(0);
	}
	close(channel[1]);
	free(groups);
	while (got < sizeof(*result)) {
		n = read(channel[0], (char *)result + got, sizeof(*result) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(channel[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(*result)) {
		if (WIFSIGNALED(status))
			local_result_set(result, LOCAL_DEFERRED, "4.3.0",
			                 "delivery process killed by signal %d", WTERMSIG(status));
		else
			local_result_set(result, LOCAL_DEFERRED, "4.3.0",
			                 "delivery process ended without a result");
		return;
	}
	result->dsn[sizeof(result->dsn) - 1] = '\0';
	result->text[sizeof(result->text) - 1] = '\0';
	if (result->status != LOCAL_SENT && result->status != LOCAL_DEFERRED &&
	    result->status != LOCAL_BOUNCED)
		local_result_set(result, LOCAL_DEFERRED, "4.3.0",
		                 "bad result from delivery process");
}
