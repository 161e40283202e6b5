/*
 * test_alias_source - the aliases(5) reader: input text -> the entries
 * and errors it gives. The expected values were checked against
 * Postfix 3.7's postalias (postalias -s after building the same text).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias_source.h"
#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

/* The entries as "name=value@line" lines, for comparing in one string. */
static int
collect(const char *name, const char *value, unsigned line, void *context)
{
	dstring_append_printf(context, "%s=%s@%u\n", name, value, line);
	return 0;
}

struct case_entry {
	const char *input;
	const char *entries; /* "name=value@line\n" each */
	int errors;
	const char *first_error; /* a part of it, or NULL */
};

static const struct case_entry cases[] = {
    /* Every value kind, kept as written. */
    {"root: admin, \"|/usr/bin/foo arg\", /var/log/file\n",
     "root=admin, \"|/usr/bin/foo arg\", /var/log/file@1\n", 0, NULL},
    {"pipe: |/usr/bin/procmail -a x\n", "pipe=|/usr/bin/procmail -a x@1\n", 0, NULL},
    {"list: :include:/etc/mail/list\n", "list=:include:/etc/mail/list@1\n", 0, NULL},
    {"remote: someone@example.org\n", "remote=someone@example.org@1\n", 0, NULL},
    {"quoted: \"|cmd with spaces\"\n", "quoted=\"|cmd with spaces\"@1\n", 0, NULL},
    {"keyq: \"|cmd\" arg, \"/path with space\"\n", "keyq=\"|cmd\" arg, \"/path with space\"@1\n", 0,
     NULL},
    /* Names: folded, quoted, with spaces or comments, as Postfix keeps them. */
    {"Root: x\n", "root=x@1\n", 0, NULL},
    {"MiXeD: MiXeD@Example.COM\n", "mixed=MiXeD@Example.COM@1\n", 0, NULL},
    {"\"a b\": c\n", "a b=c@1\n", 0, NULL},
    {"\"Q\\\"uote\": v\n", "q\"uote=v@1\n", 0, NULL},
    {"\"multi word Key\" : y\n", "multi word key=y@1\n", 0, NULL},
    {"sp ace: x\n", "sp ace=x@1\n", 0, NULL},
    {"root (the boss): x\n", "root (the boss)=x@1\n", 0, NULL},
    {"\"a@b\": x\n", "a@b=x@1\n", 0, NULL},
    /* Values: Postfix's spacing and quoting. */
    {"x:y:z\n", "x=y:z@1\n", 0, NULL},
    {"trail: value   \n", "trail=value@1\n", 0, NULL},
    {"ok: a,b ,c,,d\n", "ok=a, b, c, , d@1\n", 0, NULL},
    {"esc: a\\ b, \\\"x, \"q\\\"x\"\n", "esc=\"a b\", \"\\\"x\", \"q\\\"x\"@1\n", 0, NULL},
    {"com: user (comment here), x(nested (c))y\n", "com=user (comment here), x (nested (c)) y@1\n",
     0, NULL},
    {"lit: [1.2.3.4], u@[ipv6:::1]\n", "lit=[1.2.3.4], u@[ipv6:::1]@1\n", 0, NULL},
    {"ops: a<b>c;d!e%f\n", "ops=a <b>c;d!e%f@1\n", 0, NULL},
    {"ctl: a\001b\n", "ctl=\"a\001b\"@1\n", 0, NULL},
    {"8bit: caf\303\251\n", "8bit=caf\303\251@1\n", 0, NULL},
    {"crlf: v1, v2\r\nnext: n\r\n", "crlf=v1, v2@1\nnext=n@2\n", 0, NULL},
    {"emptyv: \"\"\n", "emptyv=\"\"@1\n", 0, NULL},
    {"doubleq: \"\"\"\"\n", "doubleq=\"\" \"\"@1\n", 0, NULL},
    {"colons: a:b, :include:/x, c::d\n", "colons=a:b, :include:/x, c::d@1\n", 0, NULL},
    {"q: \"unbalanced\n", "q=\"unbalanced\"@1\n", 0, NULL},
    {"bs: a\\\n", "bs=a@1\n", 0, NULL},
    /* Logical lines: continuations, comments and blank lines inside. */
    {"owner-x:\t:include:/etc/list,\n\tuser@example.com,\n  other\n",
     "owner-x=:include:/etc/list, user@example.com, other@1\n", 0, NULL},
    {"multi: a,\n  b\n# c\n  c\n", "multi=a, b c@1\n", 0, NULL},
    {"a: \"x\n  y\", (c1\n  c2), [l\n m]\n", "a=\"x  y\", (c1  c2), [l m]@1\n", 0, NULL},
    {"b: x\n# note\n\n  , y\nc: z", "b=x, y@1\nc=z@5\n", 0, NULL},
    {"# only comments\n\n   \n\t# indented comment\n", "", 0, NULL},
    {"", "", 0, NULL},
    /* Errors name the first line of the logical line; good lines still count. */
    {"bad\n", "", 1, "test, line 1: need name:value pair (no ':'"},
    {"ok: 1\nbad\n  cont\nok2: 2\n", "ok=1@1\nok2=2@4\n", 1, "test, line 2: need name:value"},
    {"  lead: x\nok: y\n", "ok=y@2\n", 1, "test, line 1: a continuation line"},
    {"at@dom: x\n", "", 1, "name must be local"},
    {"per%cent: x\n", "", 1, "name must be local"},
    {"a,b: x\n", "", 1, "(',' in the name)"},
    {": nokey\n", "", 1, "(no name before ':')"},
    {"nov:\n", "", 1, "(no value after ':')"},
    {"nov:   \n  \n", "", 1, "(no value after ':')"},
    {"\"\": emptykey\n", "", 1, "empty name"},
    {"\\: x\n", "", 1, "(no ':' after the name)"},
    {"lone: \\\n", "", 1, "empty value"},
    {"\"abc: x\n", "", 1, "(no ':' after the name)"},
    {"(abc: x\n", "", 1, "(no ':' after the name)"},
    {"a: 1\nb\nc\nd: 4\n", "a=1@1\nd=4@4\n", 2, "test, line 2:"},
};

static void
test_cases(void)
{
	struct dstring got, first_error;

	dstring_init(&got, DSTRING_NO_LIMIT);
	dstring_init(&first_error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int errors;

		dstring_reset(&got);
		errors = alias_source_parse_text(cases[i].input, strlen(cases[i].input), "test", 0,
		                                 collect, &got, &first_error);
		CHECK_STR_EQ(dstring_str(&got), cases[i].entries);
		CHECK_INT_EQ(errors, cases[i].errors);
		if (cases[i].first_error != NULL &&
		    strstr(dstring_str(&first_error), cases[i].first_error) == NULL) {
			CHECK_STR_EQ(dstring_str(&first_error), cases[i].first_error);
		}
		if (cases[i].errors == 0)
			CHECK_STR_EQ(dstring_str(&first_error), "");
	}
	dstring_fini(&got);
	dstring_fini(&first_error);
}

/* NUL bytes, binary junk and lines past the limits. */
static void
test_hostile(void)
{
	struct dstring got, first_error;
	static const char with_nul[] = "a: b\0c\nok: d\n";
	char *big;
	size_t big_size = 2 * 1024 * 1024 + 10;
	int errors;

	dstring_init(&got, DSTRING_NO_LIMIT);
	dstring_init(&first_error, DSTRING_NO_LIMIT);

	errors = alias_source_parse_text(with_nul, sizeof(with_nul) - 1, "nul", 0, collect, &got,
	                                 &first_error);
	CHECK_INT_EQ(errors, 1);
	CHECK_STR_EQ(dstring_str(&first_error), "nul, line 1: NUL byte in line");
	CHECK_STR_EQ(dstring_str(&got), "ok=d@2\n");

	/* A 2 MiB line, then a good one. */
	big = malloc(big_size);
	memset(big, 'x', big_size);
	memcpy(big, "long: ", 6);
	memcpy(big + big_size - 10, "\nok: fine\n", 10);
	dstring_reset(&got);
	errors = alias_source_parse_text(big, big_size, "big", 0, collect, &got, &first_error);
	CHECK_INT_EQ(errors, 1);
	CHECK(strstr(dstring_str(&first_error), "big, line 1: line longer than") != NULL);
	CHECK_STR_EQ(dstring_str(&got), "ok=fine@2\n");

	/* A long line made of continuations. */
	for (size_t i = 6; i < big_size - 10; i += 100)
		big[i] = '\n', big[i + 1] = ' ';
	dstring_reset(&got);
	errors = alias_source_parse_text(big, big_size, "big", 0, collect, &got, &first_error);
	CHECK_INT_EQ(errors, 1);
	CHECK(strstr(dstring_str(&first_error), "big, line 1: line longer than") != NULL);

	/* A value that grows past TABLE_VALUE_MAX when written quoted. */
	{
		size_t count = (ALIAS_LINE_MAX - 10) / 2;
		size_t size = 3 + count * 2 + 1;
		char *text = malloc(size), *cursor = text;

		memcpy(cursor, "v: ", 3);
		cursor += 3;
		for (size_t i = 0; i < count; i++, cursor += 2)
			memcpy(cursor, "a,", 2);
		*cursor = '\n';
		dstring_reset(&got);
		errors =
		    alias_source_parse_text(text, size, "grow", 0, collect, &got, &first_error);
		CHECK_INT_EQ(errors, 1);
		CHECK(strstr(dstring_str(&first_error), "value longer than") != NULL);
		free(text);
	}

	/* A name over TABLE_KEY_MAX. */
	{
		size_t size = TABLE_KEY_MAX + 10;
		char *text = malloc(size);

		memset(text, 'n', size);
		memcpy(text + size - 4, ": x\n", 4);
		errors =
		    alias_source_parse_text(text, size, "name", 0, collect, &got, &first_error);
		CHECK_INT_EQ(errors, 1);
		CHECK_STR_EQ(dstring_str(&first_error),
		             "name, line 1: name longer than 4096 bytes");
		free(text);
	}

	/* Binary junk: no crash, every line accounted for. */
	srand(4);
	for (int round = 0; round < 200; round++) {
		size_t size = (size_t)(rand() % 4096);
		char *junk = malloc(size + 1);

		for (size_t i = 0; i < size; i++)
			junk[i] = (char)(rand() % 256);
		dstring_reset(&got);
		errors =
		    alias_source_parse_text(junk, size, "junk", 0, collect, &got, &first_error);
		CHECK(errors >= 0);
		free(junk);
	}

	/* Many bad lines: all counted, not all logged. */
	{
		struct dstring many;

		dstring_init(&many, DSTRING_NO_LIMIT);
		for (int i = 0; i < 1000; i++)
			dstring_append_str(&many, "no colon here\n");
		errors = alias_source_parse_text(dstring_str(&many), dstring_length(&many), "many",
		                                 0, collect, &got, &first_error);
		CHECK_INT_EQ(errors, 1000);
		dstring_fini(&many);
	}

	free(big);
	dstring_fini(&got);
	dstring_fini(&first_error);
}

static int
stop_at_second(const char *name, const char *value, unsigned line, void *context)
{
	int *count = context;

	(void)name;
	(void)value;
	(void)line;
	return ++*count == 2 ? 7 : 0;
}

/* The visitor can stop the reading; one entry parses alone. */
static void
test_visitor_and_entry(void)
{
	const char text[] = "a: 1\nb: 2\nc: 3\n";
	struct dstring name, value, error;
	int count = 0;

	CHECK_INT_EQ(
	    alias_source_parse_text(text, sizeof(text) - 1, "t", 0, stop_at_second, &count, NULL),
	    -1);
	CHECK_INT_EQ(count, 2);

	dstring_init(&name, TABLE_KEY_MAX);
	dstring_init(&value, TABLE_VALUE_MAX);
	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(
	    alias_source_parse_entry("Post.Master : root , admin", 26, 0, &name, &value, &error),
	    0);
	CHECK_STR_EQ(dstring_str(&name), "post.master");
	CHECK_STR_EQ(dstring_str(&value), "root, admin");
	CHECK_INT_EQ(alias_source_parse_entry("Keep.Case: x", 12, ALIAS_SOURCE_KEEP_CASE, &name,
	                                      &value, &error),
	             0);
	CHECK_STR_EQ(dstring_str(&name), "Keep.Case");
	CHECK_INT_EQ(alias_source_parse_entry("no colon", 8, 0, &name, &value, &error), -1);
	CHECK(strstr(dstring_str(&error), "need name:value pair") != NULL);
	dstring_fini(&name);
	dstring_fini(&value);
	dstring_fini(&error);
}

/* A file read through the stream reader gives what the text reader gives. */
static void
test_file(void)
{
	char path[] = "/tmp/test_alias_source.XXXXXX";
	const char text[] = "root: admin\n  , other\n\nbad line\nlast: \"|x y\"";
	struct dstring got, first_error;
	int fd = mkstemp(path);
	int errors;

	CHECK(fd >= 0);
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	dstring_init(&got, DSTRING_NO_LIMIT);
	dstring_init(&first_error, DSTRING_NO_LIMIT);
	errors = alias_source_read_file(path, 0, collect, &got, &first_error);
	CHECK_INT_EQ(errors, 1);
	CHECK_STR_EQ(dstring_str(&got), "root=admin, other@1\nlast=\"|x y\"@5\n");
	CHECK(strstr(dstring_str(&first_error), ", line 4: need name:value pair") != NULL);

	/* An overlong physical line read through the stream. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	{
		char chunk[1024];

		memset(chunk, 'x', sizeof(chunk));
		for (int i = 0; i < 3 * 1024; i++)
			CHECK(write(fd, chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk));
	}
	CHECK(write(fd, "\nafter: ok\n", 11) == 11);
	close(fd);
	dstring_reset(&got);
	errors = alias_source_read_file(path, 0, collect, &got, &first_error);
	CHECK_INT_EQ(errors, 1);
	CHECK(strstr(dstring_str(&first_error), ", line 1: line longer than") != NULL);
	CHECK_STR_EQ(dstring_str(&got), "after=ok@2\n");

	unlink(path);
	CHECK_INT_EQ(alias_source_read_file(path, 0, collect, &got, &first_error), -2);
	CHECK(strstr(dstring_str(&first_error), "No such file") != NULL);
	dstring_fini(&got);
	dstring_fini(&first_error);
}

int
main(void)
{
	log_open("test_alias_source", 0);
	test_cases();
	test_hostile();
	test_visitor_and_entry();
	test_file();
	return check_finish();
}
