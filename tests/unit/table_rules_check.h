/*
 * table_rules_check.h - what the pcre:, regexp: and cidr: unit tests share:
 * write a table file, open it with a type's own functions, check what was
 * logged and what each key gives.
 *
 * A case is the file's text, keys with their expected outcome, and text
 * the log must hold after the open ("line 3: no lookup result" is looked
 * for as "PATH, line 3: no lookup result"). For TABLE_ERROR the expected
 * value is a part of the reason.
 *
 * Cases in a test's postmap-verified table were checked against Postfix's
 * own postmap (3.7.11) while they were written; set HIKYAKU_TEST_POSTMAP
 * to postmap's path (for example /usr/sbin/postmap) to check them again:
 * each key is then also looked up with "postmap -q KEY TYPE:FILE".
 */
#ifndef HIKYAKU_TABLE_RULES_CHECK_H
#define HIKYAKU_TABLE_RULES_CHECK_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

#define RULES_KEYS_MAX 32
#define RULES_LOGGED_MAX 8

struct rules_key {
	const char *key;
	enum table_result result;
	const char *value; /* FOUND: the value; ERROR: part of the reason */
};

struct rules_case {
	const char *text;
	struct rules_key keys[RULES_KEYS_MAX]; /* until key is NULL */
	const char *logged[RULES_LOGGED_MAX];  /* until NULL */
};

static char rules_directory[] = "/tmp/hikyaku-table-test-XXXXXX";
static char rules_path[sizeof(rules_directory) + 32];
static char rules_log_path[sizeof(rules_directory) + 32];

/* Make the directory for table files and the log, and log there. */
static inline void
rules_setup(void)
{
	if (mkdtemp(rules_directory) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(rules_path, sizeof(rules_path), "%s/table", rules_directory);
	snprintf(rules_log_path, sizeof(rules_log_path), "%s/log", rules_directory);
	log_open("test", 0);
}

static inline void
rules_cleanup(void)
{
	log_set_file(NULL);
	unlink(rules_path);
	unlink(rules_log_path);
	rmdir(rules_directory);
}

/* Write length bytes of text to the table file. */
static inline void
rules_write(const char *text, size_t length)
{
	int fd = open(rules_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, length) != (ssize_t)length) {
		perror(rules_path);
		exit(2);
	}
	close(fd);
}

/* Start a fresh log file. */
static inline void
rules_log_reset(void)
{
	log_set_file(NULL);
	unlink(rules_log_path);
	log_set_file(rules_log_path);
}

/* Whether the log holds text. */
static inline bool
rules_log_has(const char *text)
{
	static char content[1 << 20];
	ssize_t length;
	int fd = open(rules_log_path, O_RDONLY);

	if (fd < 0)
		return false;
	length = read(fd, content, sizeof(content) - 1);
	close(fd);
	if (length < 0)
		return false;
	content[length] = '\0';
	return strstr(content, text) != NULL;
}

/* Check one logged message: "PATH, " + text. */
static inline void
rules_check_logged(const char *text)
{
	char expected[512];

	snprintf(expected, sizeof(expected), "%s, %s", rules_path, text);
	if (!rules_log_has(expected))
		fprintf(stderr, "not logged: \"%s\"\n", expected);
	CHECK(rules_log_has(expected));
}

/* Open the table file with type's own open(); NULL with the reason printed. */
static inline struct table *
rules_open(const struct table_type *type, const char *name)
{
	struct table *table = calloc(1, sizeof(*table));
	struct dstring error;

	dstring_init(&error, 1000);
	table->type = type;
	table->name = (char *)name;
	if (type->open(table, name, 0, &error) != 0) {
		fprintf(stderr, "open %s: %s\n", name, dstring_str(&error));
		free(table);
		table = NULL;
	}
	dstring_fini(&error);
	return table;
}

static inline void
rules_close(struct table *table)
{
	table->type->close(table);
	free(table);
}

/* Look key up and check the outcome; label names the case in messages. */
static inline void
rules_check_key(struct table *table, const struct rules_key *expected, const char *label)
{
	struct dstring value;
	enum table_result result;

	dstring_init(&value, TABLE_VALUE_MAX);
	result = table->type->lookup(table, expected->key, &value);
	if (result != expected->result ||
	    (result == TABLE_FOUND && strcmp(dstring_str(&value), expected->value) != 0) ||
	    (result == TABLE_ERROR && strstr(dstring_str(&value), expected->value) == NULL))
		fprintf(stderr, "%s: key \"%s\": result %d \"%s\", expected %d \"%s\"\n", label,
		        expected->key, (int)result, dstring_str(&value), (int)expected->result,
		        expected->value ? expected->value : "");
	CHECK_INT_EQ(result, expected->result);
	if (result == TABLE_FOUND && expected->result == TABLE_FOUND)
		CHECK_STR_EQ(dstring_str(&value), expected->value);
	if (result == TABLE_ERROR && expected->result == TABLE_ERROR)
		CHECK(strstr(dstring_str(&value), expected->value) != NULL);
	dstring_fini(&value);
}

/*
 * With HIKYAKU_TEST_POSTMAP set: check that postmap gives the same answer
 * for key in type:rules_path (exit 0 and the value, or exit 1).
 */
static inline void
rules_check_postmap(const char *type_name, const struct rules_key *expected, const char *label)
{
	const char *postmap = getenv("HIKYAKU_TEST_POSTMAP");
	char spec[sizeof(rules_path) + 16], output[8192];
	size_t length = 0;
	int pipe_fds[2], status;
	ssize_t count;
	pid_t child;

	if (postmap == NULL || *postmap == '\0')
		return;
	snprintf(spec, sizeof(spec), "%s:%s", type_name, rules_path);
	if (pipe(pipe_fds) != 0)
		exit(2);
	if ((child = fork()) == 0) {
		char *const arguments[] = {"postmap", "-q", (char *)expected->key, spec, NULL};
		int null_fd = open("/dev/null", O_WRONLY);

		dup2(pipe_fds[1], STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		close(pipe_fds[0]);
		execv(postmap, arguments);
		_exit(127);
	}
	close(pipe_fds[1]);
	while ((count = read(pipe_fds[0], output + length, sizeof(output) - 1 - length)) > 0)
		length += (size_t)count;
	close(pipe_fds[0]);
	output[length] = '\0';
	if (length > 0 && output[length - 1] == '\n')
		output[--length] = '\0';
	waitpid(child, &status, 0);
	if (expected->result == TABLE_FOUND) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    strcmp(output, expected->value) != 0)
			fprintf(stderr, "%s: postmap -q \"%s\" gives \"%s\" (status %d)\n", label,
			        expected->key, output, status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK_STR_EQ(output, expected->value);
	} else {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
			fprintf(stderr, "%s: postmap -q \"%s\" gives \"%s\" (status %d)\n", label,
			        expected->key, output, status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	}
}

/*
 * Run cases against type; with is_postmap_verified, also against postmap
 * when HIKYAKU_TEST_POSTMAP says where it is.
 */
static inline void
rules_run_cases(const struct table_type *type, const struct rules_case *cases, size_t count,
                const char *set_name, bool is_postmap_verified)
{
	for (size_t i = 0; i < count; i++) {
		const struct rules_case *test = &cases[i];
		struct table *table;
		char label[128];

		snprintf(label, sizeof(label), "%s case %zu", set_name, i);
		rules_write(test->text, strlen(test->text));
		rules_log_reset();
		table = rules_open(type, rules_path);
		CHECK(table != NULL);
		if (table == NULL) {
			fprintf(stderr, "%s: open failed\n", label);
			continue;
		}
		for (size_t j = 0; j < RULES_LOGGED_MAX && test->logged[j] != NULL; j++)
			rules_check_logged(test->logged[j]);
		for (size_t j = 0; j < RULES_KEYS_MAX && test->keys[j].key != NULL; j++) {
			rules_check_key(table, &test->keys[j], label);
			if (is_postmap_verified)
				rules_check_postmap(type->name, &test->keys[j], label);
		}
		rules_close(table);
	}
}

/* Seconds on the monotonic clock, to bound how long hostile input takes. */
static inline double
rules_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

#endif
