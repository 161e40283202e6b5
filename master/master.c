/*
 * master - the hikyaku supervisor (docs/master.md).
 *
 *   master [-c CONFIG_DIR] [-t] [-v] [-w]
 *
 * -t: check the configuration as the master would (commands exist, types
 * supported, no two services on one address) and exit. -w: go to the
 * background and exit 0 once the master listens on every socket, or 1
 * with the reason on standard error; without -w the master stays in the
 * foreground (`hikyaku start-fg`, systemd, containers).
 *
 * One master per queue: the pid file $queue_directory/pid/master.pid is
 * also a lock (fcntl), held for the master's life, so a master killed
 * with -9 leaves a stale file that the next start simply takes over.
 *
 * Signals: SIGHUP reloads, SIGTERM stops gracefully (children finish their
 * clients; the stragglers are killed after MASTER_STOP_GRACE_SECONDS),
 * SIGINT aborts (children are killed at once).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "master.h"
#include "paths.h"

/* How long a stop waits for children to finish before killing them. */
#define MASTER_STOP_GRACE_SECONDS 10
/* How long `master -w` waits for the background master to be ready. */
#define MASTER_READY_TIMEOUT_SECONDS 120

struct event_loop *master_loop;
struct master_settings *master_settings;
struct service *master_retired_services;
bool master_is_root;
bool master_is_stopping;
int master_verbose;

static int signal_pipe[2] = {-1, -1};
static int lock_fd = -1;

static void
handle_signal(int signal_number)
{
	int saved_errno = errno;
	char byte = (char)signal_number;

	if (write(signal_pipe[1], &byte, 1) < 0) {
		/* Full pipe: enough wakeups are pending. */
	}
	errno = saved_errno;
}

/* Started as root, children need an unprivileged mail_owner. */
static int
check_mail_owner(const struct master_settings *settings)
{
	struct passwd *owner;

	if (!master_is_root)
		return 0;
	owner = getpwnam(settings->mail_owner);
	if (owner == NULL) {
		log_error("mail_owner %s: no such user (run \"hikyaku set-permissions\")",
			  settings->mail_owner);
		return -1;
	}
	if (owner->pw_uid == 0) {
		log_error("mail_owner %s has user ID 0: refusing to run services as root",
			  settings->mail_owner);
		return -1;
	}
	return 0;
}

/*
 * Take the lock on the pid file and write our pid into it. Another
 * master holding it: say which, and exit.
 */
static void
take_lock(const char *path)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char text[32];
	int length;

	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock_fd < 0)
		log_fatal("open %s: %m", path);
	if (fcntl(lock_fd, F_SETLK, &lock) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			log_fatal("lock %s: %m", path);
		lock.l_type = F_WRLCK;
		if (fcntl(lock_fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK)
			log_fatal("the %s mail system is already running (master pid %ld)",
				  var_mail_name, (long)lock.l_pid);
		log_fatal("the %s mail system is already running (%s is locked)", var_mail_name,
			  path);
	}
	length = snprintf(text, sizeof(text), "%10ld\n", (long)getpid());
	if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, text, (size_t)length, 0) != length)
		log_fatal("write %s: %m", path);
}

/*
 * -w: fork; the parent waits until the child reports that it listens,
 * then exits 0 (or 1 when the child died first). Returns, in the child,
 * the descriptor on which to report readiness.
 */
static int
go_background(void)
{
	int ready[2];
	pid_t pid;

	if (pipe(ready) < 0)
		log_fatal("pipe: %m");
	compat_set_cloexec(ready[0], true);
	compat_set_cloexec(ready[1], true);
	pid = fork();
	if (pid < 0)
		log_fatal("fork: %m");
	if (pid > 0) {
		struct pollfd wait = {.fd = ready[0], .events = POLLIN};
		char byte = 0;

		close(ready[1]);
		if (poll(&wait, 1, MASTER_READY_TIMEOUT_SECONDS * 1000) <= 0) {
			fprintf(stderr, "hikyaku/master: error: the master did not become ready "
					"within %d seconds\n",
				MASTER_READY_TIMEOUT_SECONDS);
			_exit(1);
		}
		if (read(ready[0], &byte, 1) == 1 && byte == 'R')
			_exit(0);
		waitpid(pid, NULL, 0);
		_exit(1);
	}
	close(ready[0]);
	if (setsid() < 0)
		log_fatal("setsid: %m");
	return ready[1];
}

/* Standard input, output and error to /dev/null: nobody waits on them. */
static void
detach_stdio(void)
{
	int null_fd = open("/dev/null", O_RDWR);

	if (null_fd < 0)
		log_fatal("open /dev/null: %m");
	for (int fd = 0; fd <= 2; fd++)
		if (null_fd != fd)
			dup2(null_fd, fd);
	if (null_fd > 2)
		close(null_fd);
}

void
master_stopped(void)
{
	log_info("stopped");
	exit(0);
}

static void
stop_grace_over(void *context)
{
	(void)context;
	log_warning("children still running after %d seconds: killing them",
		    MASTER_STOP_GRACE_SECONDS);
	master_signal_children(SIGKILL);
}

/* SIGTERM: stop accepting, let children finish their clients, then exit. */
static void
stop(void)
{
	if (master_is_stopping)
		return;
	log_info("terminating on signal %d", SIGTERM);
	master_is_stopping = true;
	for (struct service *service = master_settings->services; service != NULL;
	     service = service->next) {
		master_wakeup_stop(service);
		master_listen_close(service);
	}
	master_signal_children(SIGTERM);
	if (master_child_count() == 0)
		master_stopped();
	event_timer(master_loop, MASTER_STOP_GRACE_SECONDS * 1000, stop_grace_over, NULL);
}

/* SIGINT: kill every child and exit now. */
static void
abort_now(void)
{
	log_info("terminating on signal %d: killing all processes", SIGINT);
	master_signal_children(SIGKILL);
	exit(0);
}

/*
 * SIGHUP: read the configuration again. A broken one changes nothing.
 * Services on the same address keep their sockets (no connection waiting
 * in the backlog is lost); their old processes finish their clients and
 * exit, and new processes start with the new configuration.
 */
static void
reload(void)
{
	struct master_settings *fresh, *old = master_settings;
	struct service **link, *service, *next;

	if (master_is_stopping)
		return;
	fresh = master_settings_load(old->config_directory);
	if (fresh == NULL || check_mail_owner(fresh) < 0) {
		log_warning("reload: the configuration in %s has errors: keeping the running one",
			    old->config_directory);
		master_settings_free(fresh);
		return;
	}
	if (log_set_file(var_maillog_file) < 0)
		log_warning("open maillog_file %s: %m", var_maillog_file);
	/* The master's own settings apply at once; wakeups and spawns use them. */
	master_settings = fresh;
	for (link = &fresh->services; (service = *link) != NULL;) {
		struct service *previous = master_find_service(old->services, service->key);

		if (previous != NULL && previous->listen_count > 0) {
			master_listen_take(service, previous);
		} else if (master_listen_open(service) < 0) {
			log_warning("reload: %s (%s) not started", service->label, service->origin);
			*link = service->next;
			master_service_free(service);
			continue;
		}
		link = &service->next;
	}
	for (service = old->services; service != NULL; service = next) {
		next = service->next;
		master_service_retire(service);
	}
	old->services = NULL;
	master_settings_free(old);
	for (service = fresh->services; service != NULL; service = service->next)
		master_service_start(service);
	log_info("reload -- version %s, configuration %s", HIKYAKU_VERSION,
		 fresh->config_directory);
}

static void
signal_ready(int fd, unsigned events, void *context)
{
	unsigned char signals[64];
	ssize_t count;

	(void)events;
	(void)context;
	count = read(fd, signals, sizeof(signals));
	for (ssize_t i = 0; i < count; i++) {
		switch (signals[i]) {
		case SIGCHLD:
			master_reap();
			break;
		case SIGHUP:
			reload();
			break;
		case SIGTERM:
			stop();
			break;
		case SIGINT:
			abort_now();
			break;
		default:
			break;
		}
	}
}

static void
setup_signals(void)
{
	static const int handled[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
	struct sigaction action;

	if (pipe(signal_pipe) < 0)
		log_fatal("pipe: %m");
	for (int i = 0; i < 2; i++) {
		compat_set_cloexec(signal_pipe[i], true);
		compat_set_nonblocking(signal_pipe[i], true);
	}
	memset(&action, 0, sizeof(action));
	sigemptyset(&action.sa_mask);
	action.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &action, NULL);
	action.sa_handler = handle_signal;
	action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &action, NULL);
	event_watch(master_loop, signal_pipe[0], EVENT_READ, signal_ready, NULL);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: master [-c CONFIG_DIR] [-t] [-v] [-w]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *directory = getenv("MAIL_CONFIG");
	bool is_test = false, is_background = false;
	struct dstring pid_path;
	int option, ready_fd = -1;

	log_open("master", LOG_SINK_STDERR | LOG_SINK_SYSLOG);
	while ((option = getopt(argc, argv, "c:tvw")) != -1) {
		switch (option) {
		case 'c':
			directory = optarg;
			break;
		case 't':
			is_test = true;
			break;
		case 'v':
			master_verbose++;
			break;
		case 'w':
			is_background = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (directory == NULL || *directory == '\0')
		directory = HIKYAKU_CONFIG_DIR;
	log_set_verbose(master_verbose);
	master_is_root = geteuid() == 0;
	master_settings = master_settings_load(directory);
	if (master_settings == NULL || check_mail_owner(master_settings) < 0)
		return 1;
	if (is_test)
		return 0;
	if (var_maillog_file[0] != '\0' && log_set_file(var_maillog_file) < 0)
		log_warning("open maillog_file %s: %m", var_maillog_file);
	dstring_init(&pid_path, DSTRING_NO_LIMIT);
	dstring_printf(&pid_path, "%s/%s/master.pid", master_settings->queue_directory,
		       var_process_id_directory);

	if (is_background)
		ready_fd = go_background();
	umask(022);
	if (chdir(master_settings->queue_directory) < 0)
		log_fatal("chdir %s: %m", master_settings->queue_directory);
	take_lock(dstring_str(&pid_path));
	dstring_fini(&pid_path);
	master_loop = event_loop_new();
	setup_signals();
	for (struct service *service = master_settings->services; service != NULL;
	     service = service->next)
		if (master_listen_open(service) < 0)
			log_fatal("cannot start: %s (%s) cannot listen", service->label,
				  service->origin);
	for (struct service *service = master_settings->services; service != NULL;
	     service = service->next)
		master_service_start(service);

	/* Ready: from now on log to syslog and maillog_file only. */
	log_open("master", LOG_SINK_SYSLOG);
	log_info("daemon started -- version %s, configuration %s", HIKYAKU_VERSION,
		 master_settings->config_directory);
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) != 1)
			log_fatal("report readiness: %m");
		close(ready_fd);
		detach_stdio();
	}
	event_loop_run(master_loop);
	log_panic("event loop ended");
}
