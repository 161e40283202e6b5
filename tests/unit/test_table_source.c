/*
 * test_table_source - the postmap text format: a table of inputs and the
 * entries (and bad-line counts) they must give, read both from memory and
 * from a file, plus hostile input: NUL bytes, lines of 2 MiB, binary junk.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table_source.h"

struct parse_case {
	const char *name;
	const char *input;
	size_t length; /* 0: strlen(input) */
	unsigned flags;
	const char *expected; /* "key=value@line;" per entry */
	unsigned long bad_lines;
};

#define FOLD TABLE_SOURCE_FOLD_CASE

static const struct parse_case cases[] = {
    {"empty", "", 0, FOLD, "", 0},
    {"only comments", "# one\n#two\n   # three\n", 0, FOLD, "", 0},
    {"only blank lines", "\n  \n\t\n\r\n", 0, FOLD, "", 0},
    {"one entry", "a b\n", 0, FOLD, "a=b@1;", 0},
    {"no final newline", "a b", 0, FOLD, "a=b@1;", 0},
    {"tab separates", "a\tb\n", 0, FOLD, "a=b@1;", 0},
    {"value keeps inner blanks", "a   b  c   \n", 0, FOLD, "a=b  c@1;", 0},
    {"hash inside a line is text", "a b # c\n", 0, FOLD, "a=b # c@1;", 0},
    {"keys folded", "MiXeD Value\n", 0, FOLD, "mixed=Value@1;", 0},
    {"keys kept with -f", "MiXeD Value\n", 0, 0, "MiXeD=Value@1;", 0},
    {"only ASCII folded", "\303\234BER x\n", 0, FOLD, "\303\234ber=x@1;", 0},
    {"continuation", "a b\n  c\n\td\n", 0, FOLD, "a=b  c\td@1;", 0},
    {"continuation after comment", "a b\n  # x\n#y\n  c\n", 0, FOLD, "a=b  c@1;", 0},
    {"continuation after blank line", "a b\n\n  c\n", 0, FOLD, "a=b  c@1;", 0},
    {"continuation gives the value", "a   \n  b\n", 0, FOLD, "a=b@1;", 0},
    {"line numbers", "#c\n\na b\n  x\nc d\n", 0, FOLD, "a=b  x@3;c=d@5;", 0},
    {"CRLF", "a b\r\nc d\r\n", 0, FOLD, "a=b@1;c=d@2;", 0},
    {"CRLF continuation", "a b\r\n  c\r\n", 0, FOLD, "a=b  c@1;", 0},
    {"key without value", "a\nb c\n", 0, FOLD, "b=c@2;", 1},
    {"key with only blanks", "a   \t\nb c\n", 0, FOLD, "b=c@2;", 1},
    {"leading blank first", "  a b\n  more\nc d\n", 0, FOLD, "c=d@3;", 1},
    {"NUL byte", "a\0b c\nd e\n", 10, FOLD, "d=e@2;", 1},
    {"NUL in continuation", "a b\n  \0\nd e\n", 12, FOLD, "d=e@3;", 1},
    {"duplicates are kept", "a 1\nA 2\n", 0, FOLD, "a=1@1;a=2@2;", 0},
    {"binary junk", "\x80\xff\x01 \x02\xfe\n", 0, FOLD, "\x80\xff\x01=\x02\xfe@1;", 0},
    {"lone CR", "\r", 0, FOLD, "", 0},
    {"several bad", "x\ny\nz\n", 0, FOLD, "", 3},
};

static void
append_entries(struct table_source *source, struct dstring *out, struct dstring *error)
{
	struct table_source_entry entry;

	while (table_source_next(source, &entry, error) == 1) {
		CHECK(entry.key_length > 0 && entry.value_length > 0);
		CHECK(strlen(entry.key) == entry.key_length);
		CHECK(strlen(entry.value) == entry.value_length);
		dstring_append_printf(out, "%s=%s@%lu;", entry.key, entry.value, entry.line);
	}
}

/* Write length bytes to a new temporary file; its path is in path. */
static void
write_file(char *path, const char *data, size_t length)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, data, length) == (ssize_t)length);
	close(fd);
}

static void
test_cases(void)
{
	struct dstring out, error;

	dstring_init(&out, DSTRING_NO_LIMIT);
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *test = &cases[i];
		size_t length = test->length ? test->length : strlen(test->input);
		char path[] = "/tmp/test_table_source.XXXXXX";
		struct table_source *source;

		/* From memory. */
		dstring_reset(&out);
		source = table_source_open_memory(test->input, length, test->name, test->flags);
		append_entries(source, &out, &error);
		if (strcmp(dstring_str(&out), test->expected) != 0)
			fprintf(stderr, "case \"%s\" (memory):\n", test->name);
		CHECK_STR_EQ(dstring_str(&out), test->expected);
		CHECK_INT_EQ(table_source_bad_lines(source), test->bad_lines);
		table_source_close(source);

		/* From a file, through the stream. */
		write_file(path, test->input, length);
		dstring_reset(&out);
		source = table_source_open(path, test->flags, &error);
		CHECK(source != NULL);
		if (source == NULL)
			continue;
		append_entries(source, &out, &error);
		if (strcmp(dstring_str(&out), test->expected) != 0)
			fprintf(stderr, "case \"%s\" (file):\n", test->name);
		CHECK_STR_EQ(dstring_str(&out), test->expected);
		CHECK_INT_EQ(table_source_bad_lines(source), test->bad_lines);
		table_source_close(source);
		unlink(path);
	}
	dstring_fini(&out);
	dstring_fini(&error);
}

/* Count good entries and bad lines of text, from a file (the stream path). */
static unsigned long
count_file(const char *text, size_t length, unsigned long *bad_lines, size_t *value_length)
{
	char path[] = "/tmp/test_table_source.XXXXXX";
	struct dstring error;
	struct table_source *source;
	struct table_source_entry entry;
	unsigned long good = 0;

	dstring_init(&error, DSTRING_NO_LIMIT);
	write_file(path, text, length);
	source = table_source_open(path, FOLD, &error);
	*value_length = 0;
	while (source != NULL && table_source_next(source, &entry, &error) == 1) {
		good++;
		if (entry.value_length > *value_length)
			*value_length = entry.value_length;
	}
	*bad_lines = source ? table_source_bad_lines(source) : 999;
	table_source_close(source);
	unlink(path);
	dstring_fini(&error);
	return good;
}

static void
test_limits(void)
{
	size_t size = 3 * 1024 * 1024, value_length;
	char *text = malloc(size);
	unsigned long bad_lines;
	size_t at;

	/* A key of exactly TABLE_KEY_MAX bytes is good; one more is not. */
	memset(text, 'k', TABLE_KEY_MAX);
	memcpy(text + TABLE_KEY_MAX, " v\n", 3);
	CHECK_INT_EQ(count_file(text, TABLE_KEY_MAX + 3, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 0);
	memset(text, 'k', TABLE_KEY_MAX + 1);
	memcpy(text + TABLE_KEY_MAX + 1, " v\nb c\n", 7);
	CHECK_INT_EQ(count_file(text, TABLE_KEY_MAX + 8, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 1);

	/* A value of exactly TABLE_VALUE_MAX bytes is good; one more is not. */
	memcpy(text, "k ", 2);
	memset(text + 2, 'v', TABLE_VALUE_MAX);
	text[2 + TABLE_VALUE_MAX] = '\n';
	CHECK_INT_EQ(count_file(text, TABLE_VALUE_MAX + 3, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(value_length, TABLE_VALUE_MAX);
	memset(text + 2, 'v', TABLE_VALUE_MAX + 1);
	memcpy(text + 3 + TABLE_VALUE_MAX, "\nb c\n", 5);
	CHECK_INT_EQ(count_file(text, TABLE_VALUE_MAX + 8, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 1);

	/* A 2 MiB line is skipped whole; the next line is read. */
	memcpy(text, "k ", 2);
	memset(text + 2, 'x', 2 * 1024 * 1024);
	at = 2 + 2 * 1024 * 1024;
	memcpy(text + at, "\nb c\n", 5);
	CHECK_INT_EQ(count_file(text, at + 5, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 1);

	/* So is a logical line that grows past the limit by continuations. */
	at = 0;
	memcpy(text, "k v\n", 4);
	at = 4;
	for (int i = 0; i < 3; i++) {
		text[at++] = ' ';
		memset(text + at, 'y', 600 * 1024);
		at += 600 * 1024;
		text[at++] = '\n';
	}
	memcpy(text + at, "b c\n", 4);
	CHECK_INT_EQ(count_file(text, at + 4, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 1);

	/* A 2 MiB line as the last line, without a newline. */
	memcpy(text, "b c\n", 4);
	memset(text + 4, 'z', 2 * 1024 * 1024);
	CHECK_INT_EQ(count_file(text, 4 + 2 * 1024 * 1024, &bad_lines, &value_length), 1);
	CHECK_INT_EQ(bad_lines, 1);

	/* Binary junk: anything, but never a crash, and bounded entries. */
	srand(7);
	for (size_t i = 0; i < size; i++)
		text[i] = (char)(rand() % 7 == 0 ? '\n' : rand() % 256);
	count_file(text, size, &bad_lines, &value_length);
	CHECK(value_length <= TABLE_VALUE_MAX);
	free(text);
}

static void
test_errors(void)
{
	struct dstring error;
	struct table_source *source;
	struct table_source_entry entry;
	int fd;

	dstring_init(&error, DSTRING_NO_LIMIT);
	source = table_source_open("/nonexistent/table", FOLD, &error);
	CHECK(source == NULL);
	CHECK_STR_EQ(dstring_str(&error), "open /nonexistent/table: No such file or directory");

	/* A directory cannot be read: an error, not an empty table. */
	dstring_reset(&error);
	source = table_source_open("/", FOLD, &error);
	CHECK(source != NULL);
	CHECK_INT_EQ(table_source_next(source, &entry, &error), -1);
	CHECK(strstr(dstring_str(&error), "read /") != NULL);
	table_source_close(source);

	/* A descriptor stays open after close. */
	fd = open("/dev/null", O_RDONLY);
	source = table_source_open_fd(fd, "stdin", FOLD);
	CHECK_STR_EQ(table_source_name(source), "stdin");
	CHECK_INT_EQ(table_source_next(source, &entry, &error), 0);
	CHECK_INT_EQ(table_source_next(source, &entry, &error), 0);
	table_source_close(source);
	CHECK(close(fd) == 0);
	dstring_fini(&error);
}

int
main(void)
{
	log_open("test_table_source", 0);
	test_cases();
	test_limits();
	test_errors();
	return check_finish();
}
