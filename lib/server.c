/*
 * server - the daemon skeleton (see server.h for the contract).
 *
 * One process, one event loop. The loop watches the listening sockets,
 * the status channel (a pipe's write end: it reports an error once the
 * master, which holds the read end, is gone), and a self-pipe that turns
 * SIGTERM into an event. Everything the skeleton decides (retire, idle
 * out, stop) happens between clients, never inside a callback.
 *
 * Trust: the arguments come from the master (or a person running -S); the
 * configuration is checked by config_apply. Client bytes are the daemon's
 * business, except trigger requests, which are read here with a size and
 * time bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "paths.h"
#include "server.h"
#include "strlist.h"
#include "xalloc.h"

/* How long a trigger client may take to send its bytes. */
#define TRIGGER_READ_TIMEOUT_MS 5000
/* The most listening descriptors the master may pass. */
#define LISTEN_COUNT_MAX 64

static struct {
	const char *name;
	const char *service;
	const char *transport; /* -t: inet, unix, fifo */
	enum server_kind kind;
	const struct server_callbacks *callbacks;
	struct event_loop *loop;
	int listen_fds[LISTEN_COUNT_MAX];
	int listen_count;
	bool is_listening;
	bool has_status_channel;
	int wakeup_seconds;
	unsigned use_count;    /* clients (or triggers) served */
	unsigned client_count; /* MULTI: clients in progress */
	bool is_reported_busy;
	bool is_stopping; /* SIGTERM, master gone, or max_use reached */
	uint64_t idle_timer;
	bool has_idle_timer;
	int signal_pipe[2];
} server = {.listen_count = 1, .signal_pipe = {-1, -1}};

/*
 * Set by the SIGTERM handler, which also puts an inert descriptor in the
 * place of each listening socket: a SERVER_SINGLE process busy with its
 * client would otherwise keep the socket open, and the kernel would go on
 * queueing connections nobody will take after the master stopped.
 */
static volatile sig_atomic_t is_terminating;
static int inert_fd = -1;

const char *
server_service_name(void)
{
	return server.service != NULL ? server.service : server.name;
}

bool
server_has_waiting_clients(void)
{
	struct pollfd fds[LISTEN_COUNT_MAX];

	for (int i = 0; i < server.listen_count; i++)
		fds[i] = (struct pollfd){.fd = server.listen_fds[i], .events = POLLIN};
	return poll(fds, (nfds_t)server.listen_count, 0) > 0;
}

struct event_loop *
server_event_loop(void)
{
	return server.loop;
}

static void __attribute__((noreturn))
server_exit(void)
{
	if (server.callbacks->pre_exit != NULL)
		server.callbacks->pre_exit();
	exit(0);
}

/* Tell the master whether we are busy. A broken channel means it is gone. */
static void
report_status(char letter)
{
	char message[32];
	int length;

	if (!server.has_status_channel)
		return;
	server.is_reported_busy = letter == SERVER_STATUS_BUSY;
	length = snprintf(message, sizeof(message), "%ld %c\n", (long)getpid(), letter);
	if (write(SERVER_STATUS_FD, message, (size_t)length) != length) {
		log_debug("status channel: %m: the master is gone");
		server_exit();
	}
}

static void
stop_listening(void)
{
	if (!server.is_listening)
		return;
	for (int i = 0; i < server.listen_count; i++)
		event_unwatch(server.loop, server.listen_fds[i]);
	server.is_listening = false;
}

/* Stop taking clients; exit now if none is in progress. */
static void
begin_stop(const char *why)
{
	if (!server.is_stopping)
		log_debug("%s: exiting when clients are done", why);
	server.is_stopping = true;
	stop_listening();
	if (server.client_count == 0)
		server_exit();
}

static void
idle_timeout(void *context)
{
	(void)context;
	server.has_idle_timer = false;
	if (server.client_count == 0) {
		log_debug("idle timeout -- exiting");
		server_exit();
	}
}

static void
cancel_idle_timer(void)
{
	if (server.has_idle_timer)
		event_cancel_timer(server.loop, server.idle_timer);
	server.has_idle_timer = false;
}

/* Start the max_idle clock, unless this process is kept alive by wakeups. */
static void
start_idle_timer(void)
{
	cancel_idle_timer();
	if (server.kind == SERVER_TRIGGER && server.wakeup_seconds > 0)
		return;
	server.idle_timer = event_timer(server.loop, (int64_t)var_max_idle * 1000, idle_timeout, NULL);
	server.has_idle_timer = true;
}

/* After one client (or trigger) is done: retire, stop, or wait for more. */
static void
after_use(void)
{
	if (server.use_count >= (unsigned)var_max_use) {
		begin_stop("max_use reached");
		return;
	}
	if (server.is_stopping) {
		begin_stop("stopping");
		return;
	}
	if (server.client_count == 0)
		start_idle_timer();
}

void
server_client_done(int fd)
{
	event_unwatch(server.loop, fd);
	close(fd);
	if (server.client_count == 0)
		log_panic("server_client_done: no client in progress (fd %d)", fd);
	server.client_count--;
	if (server.is_reported_busy && server.client_count < SERVER_MULTI_BUSY_CLIENTS)
		report_status(SERVER_STATUS_AVAILABLE);
	if (server.client_count == 0 && server.is_stopping)
		server_exit();
	if (server.client_count == 0)
		start_idle_timer();
}

/*
 * Read one trigger request: up to SERVER_TRIGGER_MAX bytes, until the
 * client closes, within TRIGGER_READ_TIMEOUT_MS.
 */
static size_t
read_trigger(int fd, char *buffer, size_t size)
{
	int64_t deadline = event_now_ms() + TRIGGER_READ_TIMEOUT_MS;
	size_t length = 0;

	while (length < size) {
		struct pollfd wait = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - event_now_ms();
		ssize_t count;

		if (left <= 0) {
			log_warning("trigger request: timeout after %zu bytes", length);
			break;
		}
		if (poll(&wait, 1, (int)left) < 0 && errno != EINTR)
			break;
		count = read(fd, buffer + length, size - length);
		if (count == 0)
			break;
		if (count < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_warning("trigger request: read: %m");
			break;
		}
		length += (size_t)count;
	}
	return length;
}

static void
serve_trigger(int listen_fd)
{
	char buffer[SERVER_TRIGGER_MAX];
	struct stat info;
	size_t length;
	int fd;

	if (fstat(listen_fd, &info) == 0 && S_ISFIFO(info.st_mode)) {
		/* A fifo is the request itself: take what is there now. */
		ssize_t count = read(listen_fd, buffer, sizeof(buffer));

		if (count <= 0)
			return;
		length = (size_t)count;
		report_status(SERVER_STATUS_BUSY);
	} else {
		fd = compat_accept(listen_fd, true);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				log_warning("accept: %m");
			return;
		}
		report_status(SERVER_STATUS_BUSY);
		length = read_trigger(fd, buffer, sizeof(buffer));
		close(fd);
	}
	cancel_idle_timer();
	if (length > 0)
		server.callbacks->trigger(buffer, length);
	server.use_count++;
	report_status(SERVER_STATUS_AVAILABLE);
	after_use();
}

static void
accept_ready(int listen_fd, unsigned events, void *context)
{
	int fd;

	(void)events;
	(void)context;
	if (server.is_stopping || is_terminating)
		return;
	if (server.kind == SERVER_TRIGGER) {
		serve_trigger(listen_fd);
		return;
	}
	/* Several processes wait on one socket: another may win the race. */
	fd = compat_accept(listen_fd, server.kind == SERVER_MULTI);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
			log_warning("accept: %m");
		return;
	}
	cancel_idle_timer();
	server.use_count++;
	if (server.kind == SERVER_SINGLE) {
		report_status(SERVER_STATUS_BUSY);
		server.callbacks->serve(fd);
		close(fd);
		report_status(SERVER_STATUS_AVAILABLE);
		after_use();
		return;
	}
	server.client_count++;
	if (!server.is_reported_busy && server.client_count >= SERVER_MULTI_BUSY_CLIENTS)
		report_status(SERVER_STATUS_BUSY);
	if (server.use_count >= (unsigned)var_max_use) {
		/* Serve this last client, take no more. */
		server.is_stopping = true;
		stop_listening();
	}
	server.callbacks->serve(fd);
}

static void
master_gone(int fd, unsigned events, void *context)
{
	(void)events;
	(void)context;
	event_unwatch(server.loop, fd);
	server.has_status_channel = false;
	begin_stop("master is gone");
}

static void
handle_sigterm(int signal_number)
{
	int saved_errno = errno;
	char byte = (char)signal_number;

	is_terminating = 1;
	/* dup2 keeps the descriptor numbers taken: nothing can reuse them. */
	for (int i = 0; i < server.listen_count && inert_fd >= 0; i++)
		dup2(inert_fd, server.listen_fds[i]);

	if (write(server.signal_pipe[1], &byte, 1) < 0) {
		/* The pipe is full: a wakeup is already pending. */
	}
	errno = saved_errno;
}

static void
signal_ready(int fd, unsigned events, void *context)
{
	char bytes[64];

	(void)events;
	(void)context;
	while (read(fd, bytes, sizeof(bytes)) > 0)
		continue;
	begin_stop("terminating on signal");
}

static void
wakeup_timer(void *context)
{
	(void)context;
	server.callbacks->wakeup();
	event_timer(server.loop, (int64_t)server.wakeup_seconds * 1000, wakeup_timer, NULL);
}

static void __attribute__((noreturn))
usage(const char *name)
{
	log_fatal("usage: %s -c CONFIG_DIR -n SERVICE -t TYPE [-u] [-r] [-s COUNT] "
		  "[-w SECONDS] [-v] [-o name=value] [-S PATH] [args]",
		  name);
}

/* Listen on the UNIX socket path (-S): a daemon without a master. */
static int
listen_standalone(const char *path)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct stat info;
	int fd;

	if (strlen(path) >= sizeof(address.sun_path))
		log_fatal("-S %s: path too long for a socket", path);
	memcpy(address.sun_path, path, strlen(path) + 1);
	if (lstat(path, &info) == 0 && S_ISSOCK(info.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		log_fatal("socket: %m");
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		log_fatal("bind %s: %m", path);
	if (listen(fd, 100) < 0)
		log_fatal("listen %s: %m", path);
	return fd;
}

/* Check the descriptors the master handed us. */
static void
take_master_descriptors(void)
{
	if (fcntl(SERVER_STATUS_FD, F_GETFD) < 0)
		log_fatal("status channel descriptor %d: %m (start this program from the master, "
			  "or use -S PATH)",
			  SERVER_STATUS_FD);
	compat_set_cloexec(SERVER_STATUS_FD, true);
	server.has_status_channel = true;
	for (int i = 0; i < server.listen_count; i++) {
		int fd = SERVER_LISTEN_FD + i;

		if (fcntl(fd, F_GETFD) < 0)
			log_fatal("listening descriptor %d: %m", fd);
		server.listen_fds[i] = fd;
	}
}

/*
 * The jail: chroot and identity change, only when root and told to. The
 * user is looked up before chroot, where the password file still exists.
 */
static void
enter_jail(bool is_unprivileged, bool is_chroot)
{
	struct passwd *owner = NULL;
	uid_t uid = 0;
	gid_t gid = 0;

	if (geteuid() == 0 && is_unprivileged) {
		owner = getpwnam(var_mail_owner);
		if (owner == NULL)
			log_fatal("mail_owner %s: no such user", var_mail_owner);
		if (owner->pw_uid == 0)
			log_fatal("mail_owner %s has user ID 0: refusing to run as root",
				  var_mail_owner);
		uid = owner->pw_uid;
		gid = owner->pw_gid;
	}
	if (geteuid() == 0 && is_chroot) {
		if (chroot(var_queue_directory) < 0)
			log_fatal("chroot %s: %m", var_queue_directory);
		if (chdir("/") < 0)
			log_fatal("chdir / in %s: %m", var_queue_directory);
	} else if (chdir(var_queue_directory) < 0) {
		log_fatal("chdir %s: %m", var_queue_directory);
	}
	if (owner != NULL) {
		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			log_fatal("change to user %s: %m", var_mail_owner);
		if (setuid(0) == 0)
			log_panic("could regain root after dropping to %s", var_mail_owner);
	}
}

/* Apply main.cf with the -o overrides on top; a bad value is fatal. */
static void
load_configuration(const char *config_directory, const struct strlist *overrides)
{
	char *path;
	struct stat info;
	int problems = 0;

	config_init(config_directory);
	path = xmalloc(strlen(config_directory) + sizeof("/main.cf"));
	memcpy(path, config_directory, strlen(config_directory));
	memcpy(path + strlen(config_directory), "/main.cf", sizeof("/main.cf"));
	if (stat(path, &info) == 0 || errno != ENOENT)
		problems += config_read_file(path);
	free(path);
	for (size_t i = 0; i < overrides->count; i++) {
		const char *item = overrides->items[i];
		const char *equals = strchr(item, '=');
		char *name;

		if (equals == NULL || equals == item)
			log_fatal("-o %s: expected name=value", item);
		name = xstrndup(item, (size_t)(equals - item));
		config_set(name, equals + 1, "-o option");
		free(name);
	}
	problems += config_apply();
	if (problems > 0)
		log_fatal("%d problem%s in the configuration of %s", problems, problems == 1 ? "" : "s",
			  config_directory);
}

/* Name the process in logs as Postfix does: "$syslog_name/NAME". */
static void
open_logging(const char *name, bool is_standalone)
{
	struct dstring ident;

	dstring_init(&ident, 200);
	dstring_printf(&ident, "%s/%s", var_syslog_name, name);
	log_open(dstring_str(&ident), LOG_SINK_SYSLOG | (is_standalone ? LOG_SINK_STDERR : 0));
	dstring_fini(&ident);
	if (var_maillog_file[0] != '\0' && log_set_file(var_maillog_file) < 0)
		log_warning("open maillog_file %s: %m", var_maillog_file);
}

int
server_main(int argc, char **argv, const char *name, enum server_kind kind,
	    const struct server_callbacks *callbacks)
{
	const char *config_directory = NULL, *standalone_path = NULL;
	bool is_unprivileged = false, is_chroot = false;
	struct strlist overrides;
	struct sigaction action;
	int option, verbose = 0;

	server.name = name;
	server.kind = kind;
	server.callbacks = callbacks;
	if ((kind == SERVER_TRIGGER) != (callbacks->trigger != NULL) ||
	    (kind != SERVER_TRIGGER && callbacks->serve == NULL))
		log_panic("server_main: callbacks do not match the server kind");
	log_open(name, LOG_SINK_STDERR | LOG_SINK_SYSLOG);
	strlist_init(&overrides);
	/* '+': stop at the first argument that is not an option. */
	while ((option = getopt(argc, argv, "+c:n:o:rs:S:t:uvw:")) != -1) {
		switch (option) {
		case 'c':
			config_directory = optarg;
			break;
		case 'n':
			server.service = optarg;
			break;
		case 'o':
			strlist_append(&overrides, optarg);
			break;
		case 'r':
			is_chroot = true;
			break;
		case 's':
			server.listen_count = atoi(optarg);
			if (server.listen_count < 1 || server.listen_count > LISTEN_COUNT_MAX)
				log_fatal("-s %s: bad listening socket count", optarg);
			break;
		case 'S':
			standalone_path = optarg;
			break;
		case 't':
			server.transport = optarg;
			break;
		case 'u':
			is_unprivileged = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			server.wakeup_seconds = atoi(optarg);
			if (server.wakeup_seconds < 0)
				log_fatal("-w %s: bad wakeup time", optarg);
			break;
		default:
			usage(name);
		}
	}
	if (config_directory == NULL) {
		const char *from_environment = getenv("MAIL_CONFIG");

		config_directory = from_environment != NULL && *from_environment != '\0'
				       ? from_environment
				       : HIKYAKU_CONFIG_DIR;
	}
	load_configuration(config_directory, &overrides);
	strlist_fini(&overrides);
	open_logging(name, standalone_path != NULL);
	log_set_verbose(verbose);

	server.loop = event_loop_new();
	if (standalone_path != NULL) {
		server.listen_fds[0] = listen_standalone(standalone_path);
		server.listen_count = 1;
	} else {
		take_master_descriptors();
	}
	for (int i = 0; i < server.listen_count; i++) {
		compat_set_cloexec(server.listen_fds[i], true);
		compat_set_nonblocking(server.listen_fds[i], true);
	}

	/* Opened before the jail, where /dev/null may not exist. */
	inert_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (callbacks->pre_jail != NULL)
		callbacks->pre_jail(argc - optind, argv + optind);
	enter_jail(is_unprivileged, is_chroot);
	/* Set after the identity change, which clears it. */
	if (server.has_status_channel)
		compat_parent_death_signal(SIGTERM);
	if (callbacks->post_jail != NULL)
		callbacks->post_jail();

	memset(&action, 0, sizeof(action));
	sigemptyset(&action.sa_mask);
	action.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &action, NULL);
	if (pipe(server.signal_pipe) < 0)
		log_fatal("pipe: %m");
	compat_set_cloexec(server.signal_pipe[0], true);
	compat_set_cloexec(server.signal_pipe[1], true);
	compat_set_nonblocking(server.signal_pipe[0], true);
	compat_set_nonblocking(server.signal_pipe[1], true);
	/* SA_RESTART: a client in progress is not disturbed by the signal. */
	action.sa_handler = handle_sigterm;
	action.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &action, NULL);
	event_watch(server.loop, server.signal_pipe[0], EVENT_READ, signal_ready, NULL);

	if (server.has_status_channel)
		event_watch(server.loop, SERVER_STATUS_FD, EVENT_READ, master_gone, NULL);
	for (int i = 0; i < server.listen_count; i++)
		event_watch(server.loop, server.listen_fds[i], EVENT_READ, accept_ready, NULL);
	server.is_listening = true;
	if (server.wakeup_seconds > 0 && callbacks->wakeup != NULL)
		event_timer(server.loop, (int64_t)server.wakeup_seconds * 1000, wakeup_timer, NULL);
	start_idle_timer();
	log_debug("%s: ready, service %s", name, server_service_name());
	event_loop_run(server.loop);
	server_exit();
}
