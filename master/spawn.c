/*
 * spawn - the master's children: start them on demand, follow their
 * status messages, reap them, and throttle a service that cannot start.
 *
 * On demand (Postfix's rule): a service's listening sockets are watched
 * only while none of its processes is available and it is under its
 * process limit. A connection then starts one process, which counts as
 * available at once, so the sockets are not watched again until every
 * process has reported itself busy. Processes accept connections
 * themselves; the master never touches a client.
 *
 * Throttle: a process that ends abnormally (non-zero exit or a signal)
 * before it took a single client means the command cannot start (bad
 * configuration, missing library). The service is then not started again
 * for $service_throttle_time, with a warning, so a broken daemon never
 * becomes a fork storm.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "event.h"
#include "log.h"
#include "master.h"
#include "server.h"
#include "xalloc.h"

static struct child *children;

int
master_child_count(void)
{
	int count = 0;

	for (const struct child *child = children; child != NULL; child = child->next)
		count++;
	return count;
}

static bool
wants_children(const struct service *service)
{
	return !master_is_stopping && !service->is_retired && !service->is_throttled &&
	       service->available_processes == 0 && service->listen_count > 0 &&
	       (service->max_process == 0 || service->total_processes < service->max_process);
}

static void listen_ready(int fd, unsigned events, void *context);

void
master_update_listen(struct service *service)
{
	bool is_wanted = wants_children(service);

	if (is_wanted == service->is_listen_watched)
		return;
	for (int i = 0; i < service->listen_count; i++) {
		if (is_wanted)
			event_watch(master_loop, service->listen_fds[i], EVENT_READ, listen_ready,
				    service);
		else
			event_unwatch(master_loop, service->listen_fds[i]);
	}
	service->is_listen_watched = is_wanted;
}

static void
end_throttle(void *context)
{
	struct service *service = context;

	service->is_throttled = false;
	master_update_listen(service);
}

static void
throttle(struct service *service)
{
	if (service->is_throttled)
		return;
	log_warning("%s: bad command startup -- throttling", service->command_path);
	service->is_throttled = true;
	service->throttle_timer = event_timer(
	    master_loop, (int64_t)master_settings->throttle_seconds * 1000, end_throttle, service);
	master_update_listen(service);
}

/*
 * In the child: put the status channel on fd 3 and the listening sockets
 * on fd 4 and up, then run the command. The sources are first copied
 * above the targets, so no dup2 overwrites a descriptor still needed.
 */
static void __attribute__((noreturn))
exec_child(struct service *service)
{
	int base = SERVER_LISTEN_FD + service->listen_count;
	int status_copy, null_fd;
	int *listen_copies = xcalloc((size_t)service->listen_count + 1, sizeof(int));
	char **argv = xcalloc(service->arguments.count + 3, sizeof(char *));
	char count[16];
	sigset_t none;
	size_t argc = 0;

	for (int signal_number = 1; signal_number < NSIG; signal_number++)
		if (signal_number != SIGKILL && signal_number != SIGSTOP)
			signal(signal_number, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	compat_parent_death_signal(SIGTERM);

	status_copy = fcntl(service->status_pipe[1], F_DUPFD_CLOEXEC, base);
	for (int i = 0; i < service->listen_count; i++)
		listen_copies[i] = fcntl(service->listen_fds[i], F_DUPFD_CLOEXEC, base);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || status_copy < 0 || dup2(null_fd, 0) < 0 ||
	    dup2(status_copy, SERVER_STATUS_FD) < 0) {
		log_error("%s: set up descriptors: %m", service->label);
		_exit(1);
	}
	for (int i = 0; i < service->listen_count; i++) {
		if (listen_copies[i] < 0 || dup2(listen_copies[i], SERVER_LISTEN_FD + i) < 0) {
			log_error("%s: set up descriptors: %m", service->label);
			_exit(1);
		}
	}
	snprintf(count, sizeof(count), "%d", service->listen_count);
	argv[argc++] = service->arguments.items[0];
	argv[argc++] = "-s";
	argv[argc++] = count;
	for (size_t i = 1; i < service->arguments.count; i++)
		argv[argc++] = service->arguments.items[i];
	argv[argc] = NULL;
	execve(service->command_path, argv, master_settings->environment);
	log_error("execute %s: %m", service->command_path);
	_exit(1);
}

void
master_spawn(struct service *service)
{
	struct child *child;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		log_warning("fork: %m");
		throttle(service);
		return;
	}
	if (pid == 0)
		exec_child(service);
	child = xcalloc(1, sizeof(*child));
	child->pid = pid;
	child->service = service;
	child->is_available = true;
	child->next = children;
	children = child;
	service->total_processes++;
	service->available_processes++;
	service->has_been_used = true;
	log_info("service %s: process %s pid %ld started", service->label, service->command_path,
		 (long)pid);
	master_update_listen(service);
}

static void
listen_ready(int fd, unsigned events, void *context)
{
	(void)fd;
	(void)events;
	master_spawn(context);
}

static struct child *
find_child(pid_t pid)
{
	for (struct child *child = children; child != NULL; child = child->next)
		if (child->pid == pid)
			return child;
	return NULL;
}

static void
handle_status(struct service *service, long pid, char letter)
{
	struct child *child = find_child((pid_t)pid);

	if (child == NULL || child->service != service)
		return; /* a message from a process already reaped */
	if (letter == SERVER_STATUS_BUSY) {
		child->use_count++;
		if (child->is_available) {
			child->is_available = false;
			service->available_processes--;
		}
		/* A limit of 1 is a singleton (pickup, qmgr): busy is normal. */
		if (service->available_processes == 0 && service->max_process > 1 &&
		    service->total_processes >= service->max_process && !service->has_warned_limit) {
			log_warning("service %s has reached its process limit %d: new clients may "
				    "experience noticeable delays",
				    service->label, service->max_process);
			service->has_warned_limit = true;
		}
	} else if (letter == SERVER_STATUS_AVAILABLE) {
		if (!child->is_available) {
			child->is_available = true;
			service->available_processes++;
		}
	} else {
		log_warning("service %s: bad status message from pid %ld", service->label, pid);
	}
	master_update_listen(service);
}

/* Read status lines "PID LETTER\n"; keep an incomplete last line. */
static void
status_ready(int fd, unsigned events, void *context)
{
	struct service *service = context;
	char buffer[4096 + sizeof(service->status_pending)];
	size_t length = service->status_pending_length;
	ssize_t count;
	char *line, *end;

	(void)events;
	memcpy(buffer, service->status_pending, length);
	count = read(fd, buffer + length, 4096);
	if (count <= 0)
		return;
	length += (size_t)count;
	line = buffer;
	while ((end = memchr(line, '\n', length - (size_t)(line - buffer))) != NULL) {
		long pid;
		char letter;

		*end = '\0';
		if (sscanf(line, "%ld %c", &pid, &letter) == 2)
			handle_status(service, pid, letter);
		line = end + 1;
	}
	length -= (size_t)(line - buffer);
	if (length >= sizeof(service->status_pending))
		length = 0; /* garbage: no message is that long */
	memmove(service->status_pending, line, length);
	service->status_pending_length = length;
}

void
master_service_start(struct service *service)
{
	if (pipe(service->status_pipe) < 0)
		log_fatal("pipe: %m");
	compat_set_cloexec(service->status_pipe[0], true);
	compat_set_cloexec(service->status_pipe[1], true);
	compat_set_nonblocking(service->status_pipe[0], true);
	event_watch(master_loop, service->status_pipe[0], EVENT_READ, status_ready, service);
	master_update_listen(service);
	master_wakeup_start(service);
}

/* Forget a service whose children are all gone. */
static void
destroy_service(struct service *service)
{
	struct service **link = &master_retired_services;

	while (*link != NULL && *link != service)
		link = &(*link)->next;
	if (*link == service)
		*link = service->next;
	if (service->is_throttled)
		event_cancel_timer(master_loop, service->throttle_timer);
	if (service->status_pipe[0] >= 0) {
		event_unwatch(master_loop, service->status_pipe[0]);
		close(service->status_pipe[0]);
		close(service->status_pipe[1]);
	}
	master_service_free(service);
}

void
master_service_retire(struct service *service)
{
	service->is_retired = true;
	master_wakeup_stop(service);
	master_listen_close(service);
	for (struct child *child = children; child != NULL; child = child->next) {
		if (child->service == service && !child->is_retiring) {
			child->is_retiring = true;
			kill(child->pid, SIGTERM);
		}
	}
	if (service->total_processes == 0) {
		service->next = NULL;
		destroy_service(service);
		return;
	}
	service->next = master_retired_services;
	master_retired_services = service;
}

void
master_signal_children(int signal_number)
{
	for (struct child *child = children; child != NULL; child = child->next) {
		if (signal_number == SIGTERM)
			child->is_retiring = true;
		kill(child->pid, signal_number);
	}
}

static void
log_exit(const struct child *child, int status)
{
	const char *path = child->service->command_path;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("service %s: process %s pid %ld exit status 0", child->service->label, path,
			 (long)child->pid);
	else if (WIFEXITED(status))
		log_warning("process %s pid %ld exit status %d", path, (long)child->pid,
			    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warning("process %s pid %ld killed by signal %d", path, (long)child->pid,
			    WTERMSIG(status));
}

void
master_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child **link = &children;
		struct child *child;
		struct service *service;
		bool is_normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;

		while (*link != NULL && (*link)->pid != pid)
			link = &(*link)->next;
		if ((child = *link) == NULL)
			continue;
		*link = child->next;
		service = child->service;
		log_exit(child, status);
		service->total_processes--;
		if (child->is_available)
			service->available_processes--;
		if (service->total_processes < service->max_process)
			service->has_warned_limit = false;
		if (!is_normal && child->use_count == 0 && !child->is_retiring &&
		    !service->is_retired && !master_is_stopping)
			throttle(service);
		free(child);
		if (service->is_retired && service->total_processes == 0)
			destroy_service(service);
		else
			master_update_listen(service);
	}
	if (master_is_stopping && children == NULL)
		master_stopped();
}
