/*
 * hikyaku start|stop|abort|reload|flush|status - control a running
 * instance through its master process.
 *
 * The master's process ID is in $queue_directory/pid/master.pid, as with
 * Postfix. A command that needs a running master says plainly when there
 * is none. Starting checks the whole configuration first and refuses to
 * start on any error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "xalloc.h"

/* The master's PID when it runs, else 0. */
static pid_t
running_master(void)
{
	char *path = instance_path(var_queue_directory, "pid/master.pid");
	FILE *file = fopen(path, "r");
	long pid = 0;

	free(path);
	if (file == NULL)
		return 0;
	if (fscanf(file, "%ld", &pid) != 1 || pid <= 1 || pid > 0x7fffffff)
		pid = 0;
	fclose(file);
	if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		pid = 0;
	return (pid_t)pid;
}

static int
start_master(const char *directory)
{
	char *master = instance_path(var_daemon_directory, "master");
	char *arguments[] = {"master", "-c", (char *)directory, NULL};

	if (running_master() != 0) {
		log_error("the %s mail system is already running", var_mail_name);
		free(master);
		return 1;
	}
	if (access(master, X_OK) != 0) {
		log_error("cannot start: %s: %s", master, strerror(errno));
		free(master);
		return 1;
	}
	execv(master, arguments);
	log_error("cannot start: execute %s: %s", master, strerror(errno));
	free(master);
	return 1;
}

struct signal_command {
	const char *name;
	int signal_number;
};

static const struct signal_command signal_commands[] = {
	{"stop", SIGTERM},
	{"abort", SIGKILL},
	{"reload", SIGHUP},
	{"flush", SIGUSR1},
};

int
command_control(const char *directory, int argc, char **argv)
{
	const char *name = argv[0];
	pid_t master;
	int problems;

	if (argc > 1) {
		fprintf(stderr, "usage: hikyaku [-c DIR] %s\n", name);
		return 2;
	}
	directory = instance_directory(directory);
	problems = instance_load(directory, strcmp(name, "start") == 0);
	if (strcmp(name, "start") == 0) {
		if (problems > 0) {
			log_error("configuration in %s has errors: not starting", directory);
			return 1;
		}
		return start_master(directory);
	}
	master = running_master();
	if (strcmp(name, "status") == 0) {
		if (master == 0) {
			log_info("the %s mail system is not running", var_mail_name);
			return 1;
		}
		log_info("the %s mail system is running: PID: %ld", var_mail_name, (long)master);
		return 0;
	}
	for (size_t i = 0; i < sizeof(signal_commands) / sizeof(signal_commands[0]); i++) {
		if (strcmp(name, signal_commands[i].name) != 0)
			continue;
		if (master == 0) {
			log_error("the %s mail system is not running", var_mail_name);
			return 1;
		}
		if (kill(master, signal_commands[i].signal_number) != 0) {
			log_error("%s: signal master process %ld: %s", name, (long)master,
				  strerror(errno));
			return 1;
		}
		return 0;
	}
	log_panic("command_control: unknown command %s", name);
}
