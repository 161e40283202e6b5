/*
 * test_local_alias - the pure parts of the local delivery agent: splitting
 * alias and .forward values into destinations, $name expansion with the
 * delivery's variables, command argument vectors (shell or not), the
 * mapping of exit statuses, and Maildir unique names.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "check.h"
#include "local.h"

/* split: the items of value joined with " | ", or "ERROR: reason". */
static char *
split(const char *value)
{
	struct strlist items;
	struct dstring out, error;

	strlist_init(&items);
	dstring_init(&out, DSTRING_NO_LIMIT);
	dstring_init(&error, 1000);
	if (local_alias_split(value, &items, &error) < 0) {
		dstring_printf(&out, "ERROR: %s", dstring_str(&error));
	} else {
		for (size_t i = 0; i < items.count; i++)
			dstring_append_printf(&out, "%s%s", i ? " | " : "", items.items[i]);
	}
	strlist_fini(&items);
	dstring_fini(&error);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static const struct {
	const char *value, *expected;
} splits[] = {
    {"joe", "joe"},
    {"joe, jane", "joe | jane"},
    {"joe,jane,,", "joe | jane"},
    {"  joe  ,\tjane  ", "joe | jane"},
    {"\"|/usr/bin/prog arg, more\"", "|/usr/bin/prog arg, more"},
    {"|/usr/bin/prog arg", "|/usr/bin/prog arg"},
    {"/var/log/mail.copy, \\joe", "/var/log/mail.copy | \\joe"},
    {":include:/etc/mail/list", ":include:/etc/mail/list"},
    {"\"a b\"@example.com, c", "\"a b\"@example.com | c"},
    {"\"/path with space\"", "/path with space"},
    {"\"say \\\"hi\\\"\"", "say \"hi\""},
    {"# a .forward\njoe\n  # indented comment\njane, bob\n", "joe | jane | bob"},
    {"joe # not a comment here", "joe # not a comment here"},
    {"\"unterminated", "ERROR: unterminated quoted string"},
    {"", ""},
};

static char *
expand(const char *text)
{
	static const struct local_variable variables[] = {
	    {"user", "joe"},        {"home", "/home/joe"},
	    {"extension", "lists"}, {"recipient_delimiter", "+"},
	    {"empty", ""},
	};
	struct dstring out, error;

	dstring_init(&out, DSTRING_NO_LIMIT);
	dstring_init(&error, 1000);
	if (local_expand(text, variables, 5, &out, &error) < 0)
		dstring_printf(&out, "ERROR: %s", dstring_str(&error));
	dstring_fini(&error);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static const struct {
	const char *text, *expected;
} expansions[] = {
    {"$home/.forward${recipient_delimiter}${extension}", "/home/joe/.forward+lists"},
    {"$home/.forward", "/home/joe/.forward"},
    {"${extension?x$user}", "xjoe"},
    {"${empty?x}", ""},
    {"${empty:fallback}", "fallback"},
    {"${user:fallback}", ""},
    {"$(user)-$unknown-", "joe--"},
    {"$$user", "$user"},
    {"${user", "ERROR: bad $ expression in \"${user\""},
    {"a$", "ERROR: bad $ expression in \"a$\""},
    {"${user?{nested}}", "{nested}"},
};

static char *
argv_of(const char *command, const char *shell)
{
	struct strlist argv;
	struct dstring out;

	strlist_init(&argv);
	dstring_init(&out, DSTRING_NO_LIMIT);
	if (local_command_argv(command, shell, &argv) < 0)
		dstring_set(&out, "ERROR");
	for (size_t i = 0; i < argv.count; i++)
		dstring_append_printf(&out, "%s[%s]", i ? " " : "", argv.items[i]);
	strlist_fini(&argv);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

int
main(void)
{
	struct local_result result;
	struct dstring name;
	struct timespec now = {.tv_sec = 1700000000, .tv_nsec = 123456789};
	char *got;

	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		got = split(splits[i].value);
		CHECK_STR_EQ(got, splits[i].expected);
		free(got);
	}
	for (size_t i = 0; i < sizeof(expansions) / sizeof(expansions[0]); i++) {
		got = expand(expansions[i].text);
		CHECK_STR_EQ(got, expansions[i].expected);
		free(got);
	}

	/* Shell metacharacters decide between /bin/sh -c and a plain argv. */
	got = argv_of("/usr/lib/dovecot/deliver -d joe", "");
	CHECK_STR_EQ(got, "[/usr/lib/dovecot/deliver] [-d] [joe]");
	free(got);
	got = argv_of("/usr/bin/procmail -a \"$EXTENSION\"", "");
	CHECK_STR_EQ(got, "[/bin/sh] [-c] [/usr/bin/procmail -a \"$EXTENSION\"]");
	free(got);
	got = argv_of("cat > /tmp/x", "/bin/bash");
	CHECK_STR_EQ(got, "[/bin/bash] [-c] [cat > /tmp/x]");
	free(got);
	got = argv_of("   ", "");
	CHECK_STR_EQ(got, "ERROR");
	free(got);

	/* Exit statuses: sysexits, others, signals. */
	local_exit_status(0, "cmd", "", &result);
	CHECK_INT_EQ(result.status, LOCAL_SENT);
	CHECK_STR_EQ(result.text, "delivered to command: cmd");
	local_exit_status(EX_TEMPFAIL << 8, "cmd", "try later", &result);
	CHECK_INT_EQ(result.status, LOCAL_DEFERRED);
	CHECK_STR_EQ(result.dsn, "4.3.0");
	CHECK_STR_EQ(
	    result.text,
	    "command \"cmd\" failed: temporary failure (status 75). Command output: try later");
	local_exit_status(EX_NOUSER << 8, "cmd", "", &result);
	CHECK_INT_EQ(result.status, LOCAL_BOUNCED);
	CHECK_STR_EQ(result.dsn, "5.1.1");
	local_exit_status(EX_OSERR << 8, "cmd", "", &result);
	CHECK_INT_EQ(result.status, LOCAL_DEFERRED);
	local_exit_status(1 << 8, "cmd", "", &result);
	CHECK_INT_EQ(result.status, LOCAL_BOUNCED);
	CHECK_STR_EQ(result.text, "command \"cmd\" died with status 1");
	local_exit_status(9, "cmd", "", &result); /* killed by SIGKILL */
	CHECK_INT_EQ(result.status, LOCAL_DEFERRED);
	CHECK_STR_EQ(result.text, "command \"cmd\" killed by signal 9");

	/* Maildir names: time, microseconds, pid, counter, host with / and : escaped. */
	dstring_init(&name, DSTRING_NO_LIMIT);
	local_maildir_unique(&name, &now, 4242, 7, "mail.example.org");
	CHECK_STR_EQ(dstring_str(&name), "1700000000.M123456P4242Q7.mail.example.org");
	dstring_reset(&name);
	local_maildir_unique(&name, &now, 1, 1, "odd/host:name x");
	CHECK_STR_EQ(dstring_str(&name), "1700000000.M123456P1Q1.odd\\057host\\072name_x");
	dstring_fini(&name);
	return check_finish();
}
