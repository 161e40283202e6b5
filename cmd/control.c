/*
 * hikyaku start|start-fg|stop|abort|reload|flush|status|set-permissions -
 * control an instance through its master process (docs/master.md).
 *
 * The master holds a lock on $queue_directory/pid/master.pid for its
 * whole life; the lock, not the file's contents, says whether it runs and
 * with which pid, so a stale file left by `kill -9` is harmless.
 *
 * Before starting or reloading, the configuration is checked twice: main.cf
 * here, then everything the master itself needs by `master -t` (unknown
 * commands, unsupported types, two services on one address), each problem
 * named with its file and line. A broken configuration is never started,
 * and a running master is never told to reload one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "master_cf.h"
#include "permissions.h"
#include "xalloc.h"

/* How long stop and abort wait for the master to be gone. */
#define STOP_WAIT_SECONDS 30
#define ABORT_WAIT_SECONDS 5
/* The trigger that asks the queue manager to retry deferred mail now:
 * flush the dead-destination cache, scan deferred, scan incoming
 * (Postfix's QMGR_REQ_FLUSH_DEAD, _SCAN_DEFERRED, _SCAN_INCOMING). */
#define FLUSH_TRIGGER "FDI"

static char *
pid_file_path(void)
{
	struct dstring path;
	char *result;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s/master.pid", var_queue_directory, var_process_id_directory);
	result = dstring_steal(&path);
	dstring_fini(&path);
	return result;
}

/* The pid of the master holding the lock, else 0. */
static pid_t
running_master(void)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char *path = pid_file_path();
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	free(path);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &lock) < 0 || lock.l_type == F_UNLCK)
		lock.l_pid = 0;
	close(fd);
	return lock.l_pid;
}

/* Run DIR/master with arguments and wait; its exit status, or -1. */
static int
run_master(const char *directory, const char *option)
{
	char *master = instance_path(var_daemon_directory, "master");
	char *arguments[] = {"master", "-c", (char *)directory, (char *)option, NULL};
	int status = -1;
	pid_t pid;

	if (access(master, X_OK) != 0) {
		log_error("%s: %s", master, strerror(errno));
		free(master);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		execv(master, arguments);
		log_error("execute %s: %m", master);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = -1;
	free(master);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
start(const char *directory, bool is_foreground)
{
	char *master = instance_path(var_daemon_directory, "master");
	char *arguments[] = {"master", "-c", (char *)directory, is_foreground ? NULL : "-w", NULL};
	pid_t pid = running_master();

	if (pid != 0) {
		log_error("the %s mail system is already running (master pid %ld)", var_mail_name,
			  (long)pid);
		free(master);
		return 1;
	}
	if (run_master(directory, "-t") != 0 || permissions_prepare(false, true) < 0) {
		log_error("not starting the %s mail system", var_mail_name);
		free(master);
		return 1;
	}
	log_info("starting the %s mail system", var_mail_name);
	fflush(NULL);
	execv(master, arguments);
	log_error("cannot start: execute %s: %m", master);
	free(master);
	return 1;
}

/* Wait until no master holds the lock, for at most seconds. */
static bool
wait_for_exit(int seconds)
{
	struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};

	for (int i = 0; i < seconds * 10; i++) {
		if (running_master() == 0)
			return true;
		nanosleep(&pause, NULL);
	}
	return running_master() == 0;
}

static int
stop(pid_t master, bool is_abort)
{
	log_info("%s the %s mail system", is_abort ? "aborting" : "stopping", var_mail_name);
	if (kill(master, is_abort ? SIGINT : SIGTERM) != 0) {
		log_error("signal master process %ld: %m", (long)master);
		return 1;
	}
	if (wait_for_exit(is_abort ? ABORT_WAIT_SECONDS : STOP_WAIT_SECONDS))
		return 0;
	if (is_abort) {
		/* The master itself is stuck: its children notice it is gone. */
		log_warning("master pid %ld did not exit: killing it", (long)master);
		kill(master, SIGKILL);
		if (wait_for_exit(ABORT_WAIT_SECONDS))
			return 0;
	}
	log_error("master pid %ld did not stop within %d seconds", (long)master,
		  is_abort ? 2 * ABORT_WAIT_SECONDS : STOP_WAIT_SECONDS);
	return 1;
}

static int
reload(const char *directory, pid_t master)
{
	if (run_master(directory, "-t") != 0) {
		log_error("configuration in %s has errors: not reloading; the running "
			  "configuration stays",
			  directory);
		return 1;
	}
	log_info("refreshing the %s mail system", var_mail_name);
	if (kill(master, SIGHUP) != 0) {
		log_error("signal master process %ld: %m", (long)master);
		return 1;
	}
	return 0;
}

/* The socket of the queue manager: the master.cf entry running qmgr. */
static char *
queue_manager_socket(const char *directory)
{
	char *master_path = instance_path(directory, "master.cf");
	struct master_cf table;
	char *socket_path = NULL;

	master_cf_init(&table);
	master_cf_read(master_path, &table);
	for (size_t i = 0; i < table.count && socket_path == NULL; i++) {
		const struct master_cf_entry *entry = &table.entries[i];
		struct dstring path;

		if (strcmp(entry->command, "qmgr") != 0 ||
		    (entry->type != MASTER_CF_UNIX && entry->type != MASTER_CF_FIFO))
			continue;
		dstring_init(&path, DSTRING_NO_LIMIT);
		dstring_printf(&path, "%s/%s/%s", var_queue_directory,
			       entry->is_private ? "private" : "public", entry->service);
		socket_path = dstring_steal(&path);
		dstring_fini(&path);
	}
	master_cf_fini(&table);
	free(master_path);
	return socket_path;
}

static int
flush(const char *directory)
{
	char *path = queue_manager_socket(directory);
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	int fd, status = 1;

	if (path == NULL) {
		log_error("flush: no queue manager (command qmgr) in %s/master.cf", directory);
		return 1;
	}
	if (strlen(path) >= sizeof(address.sun_path)) {
		log_error("flush: socket path %s is too long", path);
		free(path);
		return 1;
	}
	memcpy(address.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		log_error("flush: cannot reach the queue manager at %s: %m", path);
	} else if (write(fd, FLUSH_TRIGGER, strlen(FLUSH_TRIGGER)) < 0) {
		log_error("flush: write to %s: %m", path);
	} else {
		status = 0;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return status;
}

static int
set_permissions(void)
{
	if (permissions_prepare(true, true) < 0) {
		log_error("set-permissions: problems remain in %s", var_queue_directory);
		return 1;
	}
	return 0;
}

int
command_control(const char *directory, int argc, char **argv)
{
	const char *name = argv[0];
	bool is_start = strcmp(name, "start") == 0 || strcmp(name, "start-fg") == 0;
	pid_t master;

	if (argc > 1) {
		fprintf(stderr, "usage: hikyaku [-c DIR] %s\n", name);
		return 2;
	}
	directory = instance_directory(directory);
	if (instance_load(directory, is_start || strcmp(name, "reload") == 0) > 0) {
		log_error("configuration in %s has errors: not %s", directory,
			  is_start ? "starting" : "continuing");
		return 1;
	}
	if (is_start)
		return start(directory, strcmp(name, "start-fg") == 0);
	if (strcmp(name, "set-permissions") == 0)
		return set_permissions();
	master = running_master();
	if (strcmp(name, "status") == 0) {
		if (master == 0) {
			log_info("the %s mail system is not running", var_mail_name);
			return 1;
		}
		log_info("the %s mail system is running: PID: %ld", var_mail_name, (long)master);
		return 0;
	}
	if (master == 0) {
		log_error("the %s mail system is not running", var_mail_name);
		return 1;
	}
	if (strcmp(name, "stop") == 0 || strcmp(name, "abort") == 0)
		return stop(master, strcmp(name, "abort") == 0);
	if (strcmp(name, "reload") == 0)
		return reload(directory, master);
	if (strcmp(name, "flush") == 0)
		return flush(directory);
	log_panic("command_control: unknown command %s", name);
}
