/*
 * test_config - main.cf syntax, expansion, typed values and bad input.
 *
 * Problems are logged to a file that each case reads back, so the tests
 * assert the messages an administrator would see, file and line included.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dstring.h"
#include "log.h"

static char work_directory[] = "/tmp/test_config.XXXXXX";
static char log_path[256];
static char main_cf[256];

static void
write_file(const char *path, const char *content, size_t length)
{
	FILE *file = fopen(path, "wb");

	if (file == NULL || fwrite(content, 1, length, file) != length || fclose(file) != 0) {
		perror(path);
		exit(2);
	}
}

static void
write_main_cf(const char *content)
{
	write_file(main_cf, content, strlen(content));
}

/* The log written since the last call. */
static char *
take_log(void)
{
	static char text[65536];
	FILE *file = fopen(log_path, "r");
	size_t length = file ? fread(text, 1, sizeof(text) - 1, file) : 0;

	if (file)
		fclose(file);
	text[length] = '\0';
	truncate(log_path, 0);
	return text;
}

static bool
log_has(const char *log, const char *expected)
{
	if (strstr(log, expected) != NULL)
		return true;
	fprintf(stderr, "log lacks \"%s\"; log is:\n%s", expected, log);
	return false;
}

/* Read text as main.cf in a fresh configuration; returns the problem count. */
static int
load(const char *text)
{
	config_init(work_directory);
	write_main_cf(text);
	return config_read_file(main_cf);
}

static const char *
expanded(const char *text)
{
	static struct dstring out, error;

	if (out.data == NULL) {
		dstring_init(&out, CONFIG_VALUE_MAX);
		dstring_init(&error, DSTRING_NO_LIMIT);
	}
	dstring_reset(&out);
	dstring_reset(&error);
	if (config_expand(text, &out, &error) != 0)
		return dstring_str(&error);
	return dstring_str(&out);
}

static void
test_table_is_sorted(void)
{
	for (size_t i = 1; i < config_param_count(); i++)
		CHECK(strcmp(config_param_at(i - 1)->name, config_param_at(i)->name) < 0);
	CHECK(config_param_find("myhostname") != NULL);
	CHECK(config_param_find("no_such_parameter") == NULL);
}

static void
test_syntax(void)
{
	CHECK_INT_EQ(load("# comment\n"
			  "myorigin = example.com\n"
			  "\n"
			  "mydestination = a,\n"
			  "   b,\n"
			  "# a comment inside an entry does not end it\n"
			  "\tc\n"
			  "mynetworks=127.0.0.0/8   \n"
			  "  # indented comment\n"
			  "inet_interfaces =\n"
			  "relay_domains = x # not a comment\r\n"),
		     0);
	CHECK_STR_EQ(config_lookup("myorigin"), "example.com");
	CHECK_STR_EQ(config_lookup("mydestination"), "a, b, c");
	CHECK_STR_EQ(config_lookup("mynetworks"), "127.0.0.0/8");
	CHECK_STR_EQ(config_lookup("inet_interfaces"), "");
	CHECK_STR_EQ(config_lookup("relay_domains"), "x # not a comment");
	{
		char expected[300];

		snprintf(expected, sizeof(expected), "%s, line 4", main_cf);
		CHECK_STR_EQ(config_origin("mydestination"), expected);
	}
	take_log();

	/* The later entry wins, with a warning naming both places. */
	CHECK_INT_EQ(load("myorigin = one\nmyorigin = two\n"), 0);
	CHECK_STR_EQ(config_lookup("myorigin"), "two");
	CHECK(log_has(take_log(), "main.cf, line 2: overriding earlier entry"));

	CHECK_INT_EQ(load("this line has no equals sign\nmyorigin = ok\n"), 1);
	CHECK(log_has(take_log(), "main.cf, line 1: missing '='"));
	CHECK_STR_EQ(config_lookup("myorigin"), "ok");

	CHECK_INT_EQ(load("  leading = white space\n"), 1);
	CHECK(log_has(take_log(), "main.cf, line 1: continuation line without an entry"));

	CHECK_INT_EQ(load("bad name! = 1\n"), 1);
	CHECK(log_has(take_log(), "main.cf, line 1: bad parameter name"));

	CHECK_INT_EQ(load("= value\n"), 1);
	CHECK(log_has(take_log(), "line 1: bad parameter name"));
}

static void
test_expansion(void)
{
	load("a = alpha\n"
	     "b = [$a]\n"
	     "c = ${a}-$(a)\n"
	     "empty =\n"
	     "d = ${a?set}/${empty?set}/${a:unset}/${empty:unset}\n"
	     "e = ${a?{when set}:{when not}}|${empty?{when set}:{when not}}\n"
	     "f = $$a and $$\n"
	     "g = $later\n"
	     "later = defined after use\n"
	     "h = ${a?$b}\n"
	     "i = $undefined_name.\n"
	     "j = ${a?{x}}|${empty:{ spaced value }}\n");
	CHECK_STR_EQ(expanded("$b"), "[alpha]");
	CHECK_STR_EQ(expanded("$c"), "alpha-alpha");
	CHECK_STR_EQ(expanded("$d"), "set///unset");
	CHECK_STR_EQ(expanded("$e"), "when set|when not");
	CHECK_STR_EQ(expanded("$f"), "$a and $");
	CHECK_STR_EQ(expanded("$g"), "defined after use");
	CHECK_STR_EQ(expanded("$h"), "[alpha]");
	CHECK_STR_EQ(expanded("$i"), ".");
	CHECK_STR_EQ(expanded("$j"), "x|spaced value");
	/* Defaults expand through main.cf values. */
	CHECK_STR_EQ(expanded("$myorigin"), expanded("$myhostname"));

	load("x = $y\ny = ${x}\n");
	CHECK_STR_EQ(expanded("$x"), "parameter x: loop in expansion: $x -> $y -> $x");
	/* mydomain's default comes from myhostname: naming it there is a loop. */
	load("myhostname = mail.$mydomain\n");
	CHECK_STR_EQ(expanded("$myorigin"),
		     "parameter myhostname: loop in expansion: $myhostname -> $mydomain -> $myhostname");
	load("self = ${self?yes}\n");
	CHECK(strstr(expanded("$self"), "loop in expansion") != NULL);

	CHECK(strstr(expanded("${a"), "missing '}'") != NULL);
	CHECK(strstr(expanded("$(a"), "missing ')'") != NULL);
	CHECK(strstr(expanded("cost 5$"), "'$' at the end") != NULL);
	CHECK(strstr(expanded("$-"), "'$' followed by '-'") != NULL);
	CHECK(strstr(expanded("${}"), "bad or missing parameter name") != NULL);
	CHECK(strstr(expanded("${a!x}"), "unexpected '!'") != NULL);
	CHECK(strstr(expanded("${a?{x}y}"), "expected ':'") != NULL);

	/* A chain deeper than the limit is an error, not a stack overflow. */
	{
		struct dstring text;

		dstring_init(&text, DSTRING_NO_LIMIT);
		for (int i = 0; i < 300; i++)
			dstring_append_printf(&text, "p%d = $p%d\n", i, i + 1);
		load(dstring_str(&text));
		CHECK(strstr(expanded("$p0"), "nested deeper than") != NULL);
		dstring_fini(&text);
	}
	/* Doubling at each level would need 2^40 bytes: the value limit stops it. */
	{
		struct dstring text;

		dstring_init(&text, DSTRING_NO_LIMIT);
		dstring_append_str(&text, "q40 = x\n");
		for (int i = 39; i >= 0; i--)
			dstring_append_printf(&text, "q%d = $q%d$q%d\n", i, i + 1, i + 1);
		load(dstring_str(&text));
		CHECK(strstr(expanded("$q0"), "longer than") != NULL);
		dstring_fini(&text);
	}
}

static void
test_defaults(void)
{
	load("");
	CHECK_INT_EQ(config_apply(), 0);
	CHECK(strchr(var_myhostname, '.') != NULL);
	CHECK_STR_EQ(var_myorigin, var_myhostname);
	CHECK_STR_EQ(var_mydomain, strchr(var_myhostname, '.') + 1);
	CHECK_STR_EQ(config_lookup("mydestination"), "$myhostname, localhost.$mydomain, localhost");
	CHECK_STR_EQ(var_inet_interfaces, "all");
	CHECK_STR_EQ(var_mynetworks_style, "host");
	CHECK_INT_EQ(var_maximal_queue_lifetime, 5 * 86400);
	CHECK_INT_EQ(var_message_size_limit, 10240000);
	CHECK_INT_EQ(var_default_process_limit, 100);
	/* RAW values keep their $ for later. */
	CHECK_STR_EQ(var_smtpd_banner, "$myhostname ESMTP $mail_name");
	CHECK_STR_EQ(var_config_directory, work_directory);

	load("myhostname = mail.example.com\n");
	CHECK_INT_EQ(config_apply(), 0);
	CHECK_STR_EQ(var_mydomain, "example.com");
	CHECK_STR_EQ(var_myorigin, "mail.example.com");
	/* STRING parameters are expanded when applied. */
	CHECK_STR_EQ(var_mydestination, "mail.example.com, localhost.example.com, localhost");
}

struct value_case {
	const char *line;
	int problems;
	const char *message; /* expected in the log when problems > 0 */
};

static void
test_typed_values(void)
{
	static const struct value_case cases[] = {
		{"smtputf8_enable = no", 0, NULL},
		{"smtputf8_enable = YES", 0, NULL},
		{"smtputf8_enable = maybe", 1,
		 "main.cf, line 1: bad boolean value \"maybe\" for smtputf8_enable"},
		{"default_process_limit = 50", 0, NULL},
		{"default_process_limit = 5x", 1, "bad integer value \"5x\""},
		{"default_process_limit = 0", 1, "value 0 for default_process_limit is out of range"},
		{"default_process_limit = 99999999999999999999", 1, "bad integer value"},
		{"default_process_limit =", 1, "bad integer value \"\""},
		{"maximal_queue_lifetime = 3", 0, NULL},
		{"maximal_queue_lifetime = 2h", 0, NULL},
		{"maximal_queue_lifetime = 90m", 0, NULL},
		{"maximal_queue_lifetime = 30s", 0, NULL},
		{"maximal_queue_lifetime = 1w", 0, NULL},
		{"maximal_queue_lifetime = 5x", 1,
		 "main.cf, line 1: bad time value \"5x\" for maximal_queue_lifetime"},
		{"maximal_queue_lifetime = 5dd", 1, "bad time value \"5dd\""},
		{"maximal_queue_lifetime = -1d", 1, "bad time value \"-1d\""},
		{"maximal_queue_lifetime = 9999999999999999w", 1, "too large"},
		{"maximal_queue_lifetime = 1000d", 1, "out of range"},
		{"message_size_limit = 1024", 0, NULL},
		{"message_size_limit = 50m", 0, NULL},
		{"message_size_limit = 10q", 1, "bad size value \"10q\""},
		{"message_size_limit = 5000g", 1, "value 5368709120000 for message_size_limit is out of range"},
		{"message_size_limit = 99999999999999999g", 1, "too large"},
		{"mynetworks_style = $undefined_is_empty", 0, NULL},
		{"myorigin = $loop\nloop = $myorigin", 1, "loop in expansion"},
	};
	static const long long expected_numbers[] = {
		[8] = 3 * 86400,    [9] = 7200,	       [10] = 5400,
		[11] = 30,	    [12] = 7 * 86400, [18] = 1024,
		[19] = 50LL << 20,
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		int problems;

		snprintf(text, sizeof(text), "%s\n", cases[i].line);
		CHECK_INT_EQ(load(text), 0);
		problems = config_apply();
		if (problems != cases[i].problems)
			fprintf(stderr, "case \"%s\": %d problems\n", cases[i].line, problems);
		CHECK_INT_EQ(problems, cases[i].problems);
		if (cases[i].message != NULL)
			CHECK(log_has(take_log(), cases[i].message));
		else
			take_log();
		if (i >= 8 && i <= 12)
			CHECK_INT_EQ(var_maximal_queue_lifetime, expected_numbers[i]);
		if (i == 18 || i == 19)
			CHECK_INT_EQ(var_message_size_limit, expected_numbers[i]);
	}
	load("smtputf8_enable = no\n");
	config_apply();
	CHECK(!var_smtputf8_enable);
}

static void
test_bad_files(void)
{
	char path[512];
	struct dstring big;

	/* Binary junk: every bad line named, nothing crashes. */
	{
		static const char junk[] = "myorigin = ok\n\x01\x02\x03\xff\n\0\0\0\nx\x7f = y\n"
					   "mydomain = still.read\n";

		config_init(work_directory);
		write_file(main_cf, junk, sizeof(junk) - 1);
		CHECK_INT_EQ(config_read_file(main_cf), 3);
		{
			char *log = take_log();

			CHECK(log_has(log, "main.cf, line 2: bad character 0x01 in column 1"));
			CHECK(log_has(log, "main.cf, line 3: bad character 0x00"));
			CHECK(log_has(log, "main.cf, line 4: bad character 0x7f in column 2"));
		}
		CHECK_STR_EQ(config_lookup("mydomain"), "still.read");
		CHECK_STR_EQ(config_lookup("myorigin"), "ok");
	}
	/* A 1 MiB line is refused, and the next entry is still read. */
	dstring_init(&big, DSTRING_NO_LIMIT);
	dstring_append_str(&big, "mynetworks = ");
	for (int i = 0; i < 1024 * 1024; i++)
		dstring_append_char(&big, 'a');
	dstring_append_str(&big, "\nmyorigin = after.big\n");
	CHECK_INT_EQ(load(dstring_str(&big)), 1);
	CHECK(log_has(take_log(), "main.cf, line 1: entry is longer than 262144 bytes"));
	CHECK_STR_EQ(config_lookup("myorigin"), "after.big");
	dstring_fini(&big);

	/* Missing and unreadable files. */
	config_init(work_directory);
	snprintf(path, sizeof(path), "%s/missing.cf", work_directory);
	CHECK_INT_EQ(config_read_file(path), 1);
	CHECK(log_has(take_log(), "missing.cf: No such file or directory"));
	snprintf(path, sizeof(path), "%s/a-directory", work_directory);
	mkdir(path, 0700);
	CHECK_INT_EQ(config_read_file(path), 1);
	CHECK(log_has(take_log(), "a-directory: Is a directory"));
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/unreadable.cf", work_directory);
		write_file(path, "a = b\n", 6);
		chmod(path, 0);
		CHECK_INT_EQ(config_read_file(path), 1);
		CHECK(log_has(take_log(), "unreadable.cf: Permission denied"));
	}
}

static void
test_unused_warnings(void)
{
	const char *extra[] = {"$from_master_cf", NULL};

	load("myorigin = $my_helper\n"
	     "my_helper = x\n"
	     "typo_parameter = 1\n"
	     "from_master_cf = 2\n");
	CHECK_INT_EQ(config_warn_unused(extra), 1);
	CHECK(log_has(take_log(), "main.cf, line 3: unused parameter: typo_parameter=1"));
}

int
main(void)
{
	if (mkdtemp(work_directory) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(log_path, sizeof(log_path), "%s/log", work_directory);
	snprintf(main_cf, sizeof(main_cf), "%s/main.cf", work_directory);
	log_open("test_config", 0);
	if (log_set_file(log_path) != 0) {
		perror(log_path);
		return 2;
	}
	test_table_is_sorted();
	test_syntax();
	test_expansion();
	test_defaults();
	test_typed_values();
	test_bad_files();
	test_unused_warnings();
	return check_finish();
}
