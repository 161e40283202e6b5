/*
 * test_log - the file sink: line form, one write per line under
 * concurrency, control characters neutralised, long lines cut, the exit
 * status of log_fatal, and maillog_file replacing syslog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static char directory[] = "/tmp/test_log.XXXXXX";
static int syslog_calls;

/* This program's syslog(3), in place of libc's: it counts the lines sent. */
void
syslog(int priority, const char *format, ...)
{
	(void)priority;
	(void)format;
	syslog_calls++;
}
static char path[256];

static char *
read_log(size_t *length)
{
	FILE *file = fopen(path, "r");
	char *text = calloc(1, 8 << 20);

	*length = file ? fread(text, 1, (8 << 20) - 1, file) : 0;
	if (file)
		fclose(file);
	return text;
}

static void
test_line_form(void)
{
	size_t length;
	char *text, expected[128];

	log_open("smtpd", 0);
	CHECK_INT_EQ(log_set_file(path), 0);
	log_info("connect from localhost[127.0.0.1]");
	log_warning("helo %s", "evil\r\nhikyaku/smtpd[1]: forged");
	log_error("disk %d%% full", 99);
	text = read_log(&length);
	snprintf(expected, sizeof(expected), " hikyaku/smtpd[%ld]: connect from localhost[127.0.0.1]\n",
		 (long)getpid());
	CHECK(strstr(text, expected) != NULL);
	/* A client cannot start a new line of its own. */
	CHECK(strstr(text, "warning: helo evil??hikyaku/smtpd[1]: forged\n") != NULL);
	CHECK(strstr(text, "error: disk 99% full\n") != NULL);
	/* The syslog form: "Mon dd hh:mm:ss host ident[pid]: ". */
	CHECK(text[3] == ' ' && text[6] == ' ' && text[9] == ':' && text[12] == ':');
	CHECK_INT_EQ(log_error_count(), 2);
	free(text);
}

static void
test_long_line(void)
{
	char *big = malloc(20000);
	size_t length;
	char *text, *line;

	truncate(path, 0);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	log_info("%s", big);
	text = read_log(&length);
	line = strstr(text, ": xxx");
	CHECK(line != NULL);
	CHECK(length < LOG_LINE_MAX + 300);
	CHECK(strstr(text, "...\n") != NULL);
	CHECK(text[length - 1] == '\n');
	free(text);
	free(big);
}

/* Many processes logging at once never interleave within a line. */
static void
test_concurrent_lines(void)
{
	enum { WRITERS = 8, LINES = 500 };
	size_t length, lines = 0;
	char *text;

	truncate(path, 0);
	for (int writer = 0; writer < WRITERS; writer++) {
		pid_t pid = fork();

		if (pid == 0) {
			char payload[2001];

			memset(payload, 'a' + writer, 2000);
			payload[2000] = '\0';
			log_open("writer", 0);
			log_set_file(path);
			for (int i = 0; i < LINES; i++)
				log_info("%d %s end", writer, payload);
			_exit(0);
		}
	}
	for (int writer = 0; writer < WRITERS; writer++)
		wait(NULL);
	text = read_log(&length);
	for (char *line = text; *line; lines++) {
		char *end = strchr(line, '\n');
		char *body = strstr(line, "]: ");
		int writer;
		bool is_whole = end != NULL && body != NULL && body < end;

		if (is_whole && sscanf(body + 3, "%d", &writer) == 1 && writer >= 0 &&
		    writer < WRITERS) {
			char *payload = strchr(body + 3, ' ') + 1;

			for (int i = 0; i < 2000 && is_whole; i++)
				is_whole = payload[i] == 'a' + writer;
			is_whole = is_whole && strncmp(payload + 2000, " end\n", 5) == 0;
		} else {
			is_whole = false;
		}
		if (!is_whole) {
			CHECK(is_whole);
			break;
		}
		line = end + 1;
	}
	CHECK_INT_EQ(lines, WRITERS * LINES);
	free(text);
}

static void
test_fatal_status(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		log_set_fatal_status(75);
		log_fatal("cannot continue");
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT_EQ(WEXITSTATUS(status), 75);
	pid = fork();
	if (pid == 0) {
		log_open("test_log", 0);
		log_set_file("/dev/null");
		log_panic("impossible state");
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(log_set_file("/nonexistent/dir/log") == -1);
}

/* maillog_file replaces syslog (postconf(5)); without it, syslog. */
static void
test_syslog_or_file(void)
{
	log_open("test_log", LOG_SINK_SYSLOG);
	CHECK_INT_EQ(log_set_file(NULL), 0);
	syslog_calls = 0;
	log_info("to syslog");
	CHECK_INT_EQ(syslog_calls, 1);
	CHECK_INT_EQ(log_set_file(path), 0);
	log_info("to the file only");
	CHECK_INT_EQ(syslog_calls, 1);
	CHECK_INT_EQ(log_set_file(NULL), 0);
}

int
main(void)
{
	if (mkdtemp(directory) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/maillog", directory);
	test_line_form();
	test_long_line();
	test_concurrent_lines();
	test_fatal_status();
	test_syslog_or_file();
	unlink(path);
	rmdir(directory);
	return check_finish();
}
