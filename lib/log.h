/*
 * log - the one way every hikyaku program reports what happens.
 *
 * Five levels with one call shape: log_info, log_warning, log_error,
 * log_fatal (exits), log_panic (an impossible state: aborts). A line goes to
 * any of three sinks: syslog (facility mail, ident "hikyaku/<service>"),
 * or instead of it the file named by maillog_file (one write(2) per line
 * on an O_APPEND descriptor, so concurrent processes never interleave
 * within a line), as Postfix's maillog_file replaces syslog; and standard
 * error for commands run by a person.
 *
 * Log lines often carry outside input (a HELO name, an address); control
 * characters are replaced with '?' so no client can forge a line. The
 * logger never allocates memory: the allocator reports exhaustion through it.
 */
#ifndef HIKYAKU_LOG_H
#define HIKYAKU_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_sink {
	LOG_SINK_SYSLOG = 1 << 0,
	LOG_SINK_STDERR = 1 << 1,
};

/* The longest line written; longer messages are cut and end in "...". */
#define LOG_LINE_MAX 4096

/*
 * log_open: name the program ("smtpd" logs as "hikyaku/smtpd[pid]"; a
 * command run by a person passes "hikyaku" and LOG_SINK_STDERR) and choose
 * the sinks. Safe to call again, for example after fork.
 */
void log_open(const char *service, unsigned sinks);

/*
 * log_set_file: also write every line to path ("/dev/stdout" and
 * "/dev/stderr" mean the descriptors, for containers). NULL or "" stops
 * file logging. Returns 0, or -1 with errno when the file cannot be opened.
 */
int log_set_file(const char *path);

/* log_set_verbose: lines from log_debug are written when level > 0. */
void log_set_verbose(int level);
int log_verbose_level(void);

/* log_set_fatal_status: the exit status of log_fatal (default 1). */
void log_set_fatal_status(int status);

void log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *format, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *format, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* log_error_count: how many warnings and errors were logged so far. */
unsigned log_error_count(void);

#endif
