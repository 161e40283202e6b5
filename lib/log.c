/*
 * log - syslog, maillog_file and stderr sinks behind one call shape.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_level {
	LEVEL_DEBUG,
	LEVEL_INFO,
	LEVEL_WARNING,
	LEVEL_ERROR,
	LEVEL_FATAL,
	LEVEL_PANIC,
};

static const char *const level_prefix[] = {
	[LEVEL_DEBUG] = "",	     [LEVEL_INFO] = "",
	[LEVEL_WARNING] = "warning: ", [LEVEL_ERROR] = "error: ",
	[LEVEL_FATAL] = "fatal: ",     [LEVEL_PANIC] = "panic: ",
};

static const int level_priority[] = {
	[LEVEL_DEBUG] = LOG_DEBUG,     [LEVEL_INFO] = LOG_INFO,
	[LEVEL_WARNING] = LOG_WARNING, [LEVEL_ERROR] = LOG_ERR,
	[LEVEL_FATAL] = LOG_CRIT,      [LEVEL_PANIC] = LOG_CRIT,
};

/* syslog keeps a pointer to its ident, so it lives here. */
static char log_ident[64] = "hikyaku";
static char stderr_name[64] = "hikyaku";
static unsigned log_sinks = LOG_SINK_STDERR;
static int log_file_fd = -1;
static bool log_file_owned;
static int verbose_level;
static int fatal_status = 1;
static unsigned error_count;
static bool inside_log;

void
log_open(const char *service, unsigned sinks)
{
	if (strcmp(service, "hikyaku") == 0 || strncmp(service, "hikyaku/", 8) == 0)
		snprintf(log_ident, sizeof(log_ident), "%s", service);
	else
		snprintf(log_ident, sizeof(log_ident), "hikyaku/%s", service);
	snprintf(stderr_name, sizeof(stderr_name), "%s", log_ident);
	log_sinks = sinks;
	if (sinks & LOG_SINK_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_set_file(const char *path)
{
	int fd = -1;
	bool owned = false;

	if (path != NULL && *path != '\0') {
		if (strcmp(path, "/dev/stdout") == 0) {
			fd = STDOUT_FILENO;
		} else if (strcmp(path, "/dev/stderr") == 0) {
			fd = STDERR_FILENO;
		} else {
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
			if (fd < 0)
				return -1;
			owned = true;
		}
	}
	if (log_file_owned)
		close(log_file_fd);
	log_file_fd = fd;
	log_file_owned = owned;
	return 0;
}

void
log_set_verbose(int level)
{
	verbose_level = level;
}

int
log_verbose_level(void)
{
	return verbose_level;
}

void
log_set_fatal_status(int status)
{
	fatal_status = status;
}

unsigned
log_error_count(void)
{
	return error_count;
}

/* Replace bytes that could break a log line or a terminal. */
static void
make_printable(char *text)
{
	for (unsigned char *cursor = (unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7f)
			*cursor = '?';
}

static void
write_fully(int fd, const char *data, size_t length)
{
	while (length > 0) {
		ssize_t written = write(fd, data, length);

		if (written < 0 && errno == EINTR)
			continue;
		if (written <= 0)
			return;
		data += written;
		length -= (size_t)written;
	}
}

static void
log_to_file(const char *message)
{
	char line[LOG_LINE_MAX + 256];
	char host[256];
	char stamp[32];
	struct timespec now;
	struct tm local;
	int length;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &local);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &local);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* Postfix's file logger writes the syslog form: pflogsumm reads it. */
	length = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", stamp, host, log_ident,
			  (long)getpid(), message);
	if (length < 0)
		return;
	if ((size_t)length >= sizeof(line)) {
		length = sizeof(line) - 1;
		line[length - 1] = '\n';
	}
	write_fully(log_file_fd, line, (size_t)length);
}

static void
log_to_stderr(const char *message)
{
	char line[LOG_LINE_MAX + 128];
	int length = snprintf(line, sizeof(line), "%s: %s\n", stderr_name, message);

	if (length < 0)
		return;
	if ((size_t)length >= sizeof(line)) {
		length = sizeof(line) - 1;
		line[length - 1] = '\n';
	}
	write_fully(STDERR_FILENO, line, (size_t)length);
}

static void log_dispatch(enum log_level level, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));

static void
log_dispatch(enum log_level level, const char *format, va_list args)
{
	char message[LOG_LINE_MAX];
	size_t prefix_length;
	int saved_errno = errno;
	int length;

	if (level == LEVEL_DEBUG && verbose_level <= 0)
		return;
	if (level >= LEVEL_WARNING && level <= LEVEL_ERROR)
		error_count++;
	/* A fault while logging must not recurse forever. */
	if (inside_log)
		return;
	inside_log = true;
	prefix_length = strlen(level_prefix[level]);
	memcpy(message, level_prefix[level], prefix_length);
	errno = saved_errno;
	length = vsnprintf(message + prefix_length, sizeof(message) - prefix_length, format, args);
	if (length >= 0 && (size_t)length >= sizeof(message) - prefix_length)
		memcpy(message + sizeof(message) - 4, "...", 4);
	make_printable(message);
	/* maillog_file replaces syslog (postconf(5)): not both. */
	if ((log_sinks & LOG_SINK_SYSLOG) && log_file_fd < 0)
		syslog(level_priority[level], "%s", message);
	if (log_file_fd >= 0)
		log_to_file(message);
	if ((log_sinks & LOG_SINK_STDERR) && log_file_fd != STDERR_FILENO)
		log_to_stderr(message);
	inside_log = false;
	errno = saved_errno;
}

#define LOG_FUNCTION(name, level)                                                                  \
	void name(const char *format, ...)                                                         \
	{                                                                                          \
		va_list args;                                                                      \
		va_start(args, format);                                                            \
		log_dispatch(level, format, args);                                                 \
		va_end(args);                                                                      \
	}

LOG_FUNCTION(log_debug, LEVEL_DEBUG)
LOG_FUNCTION(log_info, LEVEL_INFO)
LOG_FUNCTION(log_warning, LEVEL_WARNING)
LOG_FUNCTION(log_error, LEVEL_ERROR)

void
log_fatal(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	log_dispatch(LEVEL_FATAL, format, args);
	va_end(args);
	exit(fatal_status);
}

void
log_panic(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	log_dispatch(LEVEL_PANIC, format, args);
	va_end(args);
	abort();
}
