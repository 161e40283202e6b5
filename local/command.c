/*
 * command - delivery to a command: "|command" in an alias, a .forward or
 * an :include: file, and mailbox_command (for example
 * /usr/lib/dovecot/deliver).
 *
 * Runs in local_run's child, already as the user (or default_privs). The
 * command gets the message on standard input ("From " line, Return-Path,
 * X-Original-To, Delivered-To, the message; no quoting), in Postfix's
 * environment (HOME, USER, LOGNAME, SHELL, SENDER, RECIPIENT, LOCAL,
 * DOMAIN, EXTENSION, ORIGINAL_RECIPIENT, CLIENT_*, SASL_*, PATH, and
 * export_environment), in command_execution_directory or the home
 * directory, in its own process group, for at most command_time_limit.
 *
 * As Postfix: a command with shell metacharacters runs as
 * "/bin/sh -c COMMAND" (local_command_shell when set), any other is split
 * into words and run directly with execve; nothing goes through system().
 * The exit status maps through sysexits.h: 0 delivered, EX_TEMPFAIL and
 * friends deferred, other codes bounced; a signal or the time limit is a
 * deferral. The first line of its output becomes part of the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "log.h"
#include "xalloc.h"

/* Postfix's SHELL_META: these make a command go through the shell. */
#define SHELL_METACHARACTERS "\"';&()|<>{}$*?[]!`~#\\\n"
/* Output of a command kept for the reason. */
#define OUTPUT_MAX 512

int
local_command_argv(const char *command, const char *shell, struct strlist *argv)
{
	if (strpbrk(command, SHELL_METACHARACTERS) != NULL) {
		if (shell != NULL && *shell != '\0') {
			if (strlist_split(argv, shell, STRLIST_SPACE, NULL) < 0 || argv->count == 0)
				return -1;
		} else {
			strlist_append(argv, "/bin/sh");
		}
		strlist_append(argv, "-c");
		strlist_append(argv, command);
		return 0;
	}
	if (strlist_split(argv, command, STRLIST_SPACE, NULL) < 0 || argv->count == 0)
		return -1;
	return 0;
}

static const struct {
	int code;
	const char *dsn;
	const char *text;
} sysexits[] = {
    {EX_USAGE, "5.3.0", "command line usage error"},
    {EX_DATAERR, "5.6.0", "data format error"},
    {EX_NOINPUT, "5.3.0", "cannot open input"},
    {EX_NOUSER, "5.1.1", "user unknown"},
    {EX_NOHOST, "5.1.2", "host name unknown"},
    {EX_UNAVAILABLE, "5.3.0", "service unavailable"},
    {EX_SOFTWARE, "5.3.0", "internal software error"},
    {EX_OSERR, "4.3.0", "system resource problem"},
    {EX_OSFILE, "5.3.0", "critical OS file missing"},
    {EX_CANTCREAT, "5.2.0", "can't create user output file"},
    {EX_IOERR, "5.3.0", "input/output error"},
    {EX_TEMPFAIL, "4.3.0", "temporary failure"},
    {EX_PROTOCOL, "5.5.0", "remote error in protocol"},
    {EX_NOPERM, "5.7.0", "permission denied"},
    {EX_CONFIG, "5.3.5", "local configuration error"},
};

void
local_exit_status(int status, const char *command, const char *output, struct local_result *result)
{
	const char *separator = *output ? ". Command output: " : "";

	if (WIFSIGNALED(status)) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0",
		                 "command \"%s\" killed by signal %d%s%s", command,
		                 WTERMSIG(status), separator, output);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 0) {
		local_result_set(result, LOCAL_SENT, "2.0.0", "delivered to command: %s", command);
		return;
	}
	for (size_t i = 0; i < sizeof(sysexits) / sizeof(sysexits[0]); i++) {
		if (sysexits[i].code != WEXITSTATUS(status))
			continue;
		local_result_set(result, sysexits[i].dsn[0] == '4' ? LOCAL_DEFERRED : LOCAL_BOUNCED,
		                 sysexits[i].dsn, "command \"%s\" failed: %s (status %d)%s%s",
		                 command, sysexits[i].text, WEXITSTATUS(status), separator, output);
		return;
	}
	local_result_set(result, LOCAL_BOUNCED, "5.3.0", "command \"%s\" died with status %d%s%s",
	                 command, WEXITSTATUS(status), separator, output);
}

/* add_environment: "NAME=value" with newlines made spaces. */
static void
add_environment(struct strlist *environment, const char *name, const char *value)
{
	struct dstring entry;

	dstring_init(&entry, DSTRING_NO_LIMIT);
	dstring_printf(&entry, "%s=", name);
	for (const char *p = value ? value : ""; *p != '\0'; p++)
		dstring_append_char(&entry, *p == '\n' || *p == '\r' ? ' ' : *p);
	strlist_append(environment, dstring_str(&entry));
	dstring_fini(&entry);
}

static void
build_environment(const struct local_command_request *request,
                  const struct local_identity *identity, struct strlist *environment)
{
	const struct local_recipient_state *state = request->state;
	const struct local_context *context = request->context;
	const struct queue_message *envelope = &state->message->envelope;
	const struct local_identity *user = context->user ? context->user : identity;
	const char *address = context->address;
	const char *at = strrchr(address, '@');
	struct strlist exported;
	char *local = at ? xstrndup(address, (size_t)(at - address)) : xstrdup(address);
	static const struct {
		const char *variable, *attribute;
	} client[] = {
	    {"CLIENT_HOSTNAME", QUEUE_ATTR_CLIENT_NAME},
	    {"CLIENT_ADDRESS", QUEUE_ATTR_CLIENT_ADDRESS},
	    {"CLIENT_HELO", QUEUE_ATTR_HELO},
	    {"CLIENT_PROTOCOL", QUEUE_ATTR_PROTOCOL},
	    {"SASL_METHOD", QUEUE_ATTR_SASL_METHOD},
	    {"SASL_USERNAME", QUEUE_ATTR_SASL_USERNAME},
	};

	strlist_init(&exported);
	strlist_split(&exported, var_export_environment, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < exported.count; i++) {
		const char *value = getenv(exported.items[i]);

		if (value != NULL)
			add_environment(environment, exported.items[i], value);
	}
	strlist_fini(&exported);
	add_environment(environment, "PATH", "/usr/bin:/bin");
	add_environment(environment, "HOME", user->home);
	add_environment(environment, "USER", user->name);
	add_environment(environment, "LOGNAME", user->name);
	add_environment(environment, "SHELL", user->shell);
	add_environment(environment, "SENDER", context->sender);
	add_environment(environment, "RECIPIENT", address);
	add_environment(environment, "LOCAL", local);
	add_environment(environment, "DOMAIN", at ? at + 1 : "");
	add_environment(environment, "EXTENSION", context->extension ? context->extension : "");
	add_environment(environment, "ORIGINAL_RECIPIENT", state->recipient->original);
	add_environment(environment, "ENVID",
	                queue_message_attribute(envelope, QUEUE_ATTR_ENVID)
	                    ? queue_message_attribute(envelope, QUEUE_ATTR_ENVID)
	                    : "");
	for (size_t i = 0; i < sizeof(client) / sizeof(client[0]); i++) {
		const char *value = queue_message_attribute(envelope, client[i].attribute);

		if (value != NULL)
			add_environment(environment, client[i].variable, value);
	}
	free(local);
}

/* find_program: an absolute path, or the first match in /usr/bin:/bin. */
static char *
find_program(const char *name)
{
	static const char *const path[] = {"/usr/local/bin", "/usr/bin", "/bin"};
	struct dstring candidate;

	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	dstring_init(&candidate, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		dstring_printf(&candidate, "%s/%s", path[i], name);
		if (access(dstring_str(&candidate), X_OK) == 0) {
			char *found = dstring_steal(&candidate);

			dstring_fini(&candidate);
			return found;
		}
	}
	dstring_fini(&candidate);
	return xstrdup(name);
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

void
local_command_deliver(void *argument, const struct local_identity *identity,
                      struct local_result *result)
{
	const struct local_command_request *request = argument;
	struct strlist argv, environment;
	int input[2] = {-1, -1}, output[2] = {-1, -1};
	char collected[OUTPUT_MAX + 1];
	size_t collected_length = 0;
	const char *directory = identity->home;
	struct timespec start;
	bool is_timeout = false;
	char *program, **arguments = NULL, **variables = NULL;
	pid_t pid, writer;
	int status = 0;

	strlist_init(&argv);
	strlist_init(&environment);
	if (local_command_argv(request->command, var_local_command_shell, &argv) < 0) {
		local_result_set(result, LOCAL_BOUNCED, "5.3.5", "empty command");
		goto done;
	}
	build_environment(request, identity, &environment);
	if (*var_command_execution_directory != '\0')
		directory = var_command_execution_directory;
	if (pipe2(input, O_CLOEXEC) < 0 || pipe2(output, O_CLOEXEC) < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0", "cannot create a pipe: %s",
		                 strerror(errno));
		goto done;
	}
	program = find_program(argv.items[0]);
	/* execve wants NULL-terminated vectors. */
	arguments = xcalloc(argv.count + 1, sizeof(*arguments));
	memcpy(arguments, argv.items, argv.count * sizeof(*arguments));
	variables = xcalloc(environment.count + 1, sizeof(*variables));
	memcpy(variables, environment.items, environment.count * sizeof(*variables));
	pid = fork();
	if (pid < 0) {
		local_result_set(result, LOCAL_DEFERRED, "4.3.0", "cannot fork: %s",
		                 strerror(errno));
		free(program);
		goto done;
	}
	if (pid == 0) {
		setsid();
		if (dup2(input[0], 0) < 0 || dup2(output[1], 1) < 0 || dup2(output[1], 2) < 0)
			_exit(EX_OSERR);
		if (chdir(directory) < 0 && chdir("/") < 0)
			_exit(EX_OSERR);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		execve(program, arguments, variables);
		fprintf(stderr, "execute %s: %s\n", program, strerror(errno));
		_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR);
	}
	free(program);
	close(input[0]);
	close(output[1]);
	input[0] = output[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	/*
	 * The message in, from a writer process of its own, so that a command
	 * that writes much output before it reads its input cannot block us,
	 * and the time limit below covers the writing too. EPIPE from a
	 * command that reads nothing is not an error.
	 */
	writer = fork();
	if (writer == 0) {
		close(output[0]);
		if (local_copy_write(request->copy, input[1]) < 0 && errno != EPIPE)
			log_warning("writing to command \"%s\": %s", request->command,
			            strerror(errno));
		_exit(0);
	}
	if (writer < 0)
		log_warning("cannot fork a writer for command \"%s\": %s", request->command,
		            strerror(errno));
	close(input[1]);
	input[1] = -1;
	/* Its output, until it closes it or the time limit passes. */
	for (;;) {
		struct pollfd watch = {.fd = output[0], .events = POLLIN};
		double left = var_command_time_limit - seconds_since(&start);
		char buffer[4096];
		ssize_t n;

		if (left <= 0) {
			is_timeout = true;
			break;
		}
		if (poll(&watch, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (watch.revents == 0)
			continue;
		n = read(output[0], buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (collected_length < OUTPUT_MAX) {
			size_t take = (size_t)n < OUTPUT_MAX - collected_length
			                  ? (size_t)n
			                  : OUTPUT_MAX - collected_length;
			memcpy(collected + collected_length, buffer, take);
			collected_length += take;
		}
	}
	if (is_timeout) {
		kill(-pid, SIGKILL);
		if (writer > 0)
			kill(writer, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* The command is gone: a writer still blocked on its pipe gets EPIPE. */
	while (writer > 0 && waitpid(writer, NULL, 0) < 0 && errno == EINTR)
		;
	/* Keep the first line of output, printable. */
	collected[collected_length] = '\0';
	for (size_t i = 0; i < collected_length; i++) {
		if (collected[i] == '\n') {
			collected[i] = '\0';
			break;
		}
		if ((unsigned char)collected[i] < ' ')
			collected[i] = ' ';
	}
	if (is_timeout)
		local_result_set(result, LOCAL_DEFERRED, "4.3.0",
		                 "command \"%s\" exceeded the time limit of %d seconds",
		                 request->command, var_command_time_limit);
	else
		local_exit_status(status, request->command, collected, result);
done:
	for (int i = 0; i < 2; i++) {
		if (input[i] >= 0)
			close(input[i]);
		if (output[i] >= 0)
			close(output[i]);
	}
	free(arguments);
	free(variables);
	strlist_fini(&argv);
	strlist_fini(&environment);
}
