/*
 * test_table_unix - unix:passwd.byname and unix:group.byname give the
 * passwd(5)/group(5) line, as Postfix's `postmap -q root
 * unix:passwd.byname` prints it.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"

/* The line for name in a colon-separated file such as /etc/passwd, or "". */
static void
file_line(const char *path, const char *name, char *line, size_t size)
{
	FILE *file = fopen(path, "r");
	size_t name_length = strlen(name);

	line[0] = '\0';
	if (file == NULL)
		return;
	while (fgets(line, (int)size, file) != NULL) {
		if (strncmp(line, name, name_length) == 0 && line[name_length] == ':') {
			line[strcspn(line, "\n")] = '\0';
			fclose(file);
			return;
		}
	}
	line[0] = '\0';
	fclose(file);
}

static void
test_passwd(void)
{
	struct dstring error, expected;
	struct table *table;
	const char *value;
	struct passwd *root = getpwuid(0);
	char line[1024];

	dstring_init(&error, DSTRING_NO_LIMIT);
	dstring_init(&expected, DSTRING_NO_LIMIT);
	table = table_open("unix:passwd.byname", TABLE_FOLD_CASE, &error);
	CHECK(table != NULL);
	if (table == NULL || root == NULL)
		goto done;
	dstring_printf(&expected, "%s:%s:%ld:%ld:%s:%s:%s", root->pw_name, root->pw_passwd,
	               (long)root->pw_uid, (long)root->pw_gid, root->pw_gecos, root->pw_dir,
	               root->pw_shell);
	CHECK_INT_EQ(table_lookup(table, root->pw_name, &value), TABLE_FOUND);
	CHECK_STR_EQ(value, dstring_str(&expected));
	/* With a files source, that is the line in /etc/passwd itself. */
	file_line("/etc/passwd", root->pw_name, line, sizeof(line));
	if (line[0] != '\0')
		CHECK_STR_EQ(value, line);
	/* Folded by the table layer, as postmap -q ROOT finds root. */
	CHECK_INT_EQ(table_lookup(table, "ROOT", &value), TABLE_FOUND);
	CHECK_INT_EQ(table_lookup(table, "no-such-user-hikyaku", &value), TABLE_NOT_FOUND);
	CHECK(value == NULL);
	CHECK_INT_EQ(table_lookup(table, "", &value), TABLE_NOT_FOUND);
	CHECK_INT_EQ(table_iterate(table, NULL, NULL, &error), -1);
	table_close(table);

	/* Without folding, case matters. */
	table = table_open("unix:passwd.byname", 0, &error);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_INT_EQ(table_lookup(table, "ROOT", &value), TABLE_NOT_FOUND);
		table_close(table);
	}
done:
	dstring_fini(&error);
	dstring_fini(&expected);
}

static void
test_group(void)
{
	struct dstring error;
	struct table *table;
	const char *value;
	struct group *root = getgrgid(0);
	char line[4096];

	dstring_init(&error, DSTRING_NO_LIMIT);
	table = table_open("unix:group.byname", TABLE_FOLD_CASE, &error);
	CHECK(table != NULL);
	if (table != NULL && root != NULL) {
		CHECK_INT_EQ(table_lookup(table, root->gr_name, &value), TABLE_FOUND);
		CHECK(strncmp(value, "root:", 5) == 0 || value[0] != '\0');
		file_line("/etc/group", root->gr_name, line, sizeof(line));
		if (line[0] != '\0')
			CHECK_STR_EQ(value, line);
		CHECK_INT_EQ(table_lookup(table, "no-such-group-hikyaku", &value), TABLE_NOT_FOUND);
	}
	table_close(table);

	/* A group with members lists them with commas, as group(5). */
	setgrent();
	for (struct group *group = getgrent(); group != NULL; group = getgrent()) {
		if (group->gr_mem[0] == NULL || group->gr_mem[1] == NULL)
			continue;
		file_line("/etc/group", group->gr_name, line, sizeof(line));
		table = table_open("unix:group.byname", 0, &error);
		CHECK_INT_EQ(table_lookup(table, group->gr_name, &value), TABLE_FOUND);
		if (line[0] != '\0')
			CHECK_STR_EQ(value, line);
		table_close(table);
		break;
	}
	endgrent();
	dstring_fini(&error);
}

static void
test_bad_names(void)
{
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK(table_open("unix:passwd.byuid", 0, &error) == NULL);
	CHECK(strstr(dstring_str(&error), "unix:passwd.byuid") != NULL);
	CHECK(table_open("unix:", 0, &error) == NULL);
	dstring_fini(&error);
}

int
main(void)
{
	log_open("test_table_unix", 0);
	/* Link the type in even while table.c refers to it weakly. */
	CHECK(table_type_unix.lookup != NULL);
	test_passwd();
	test_group();
	test_bad_names();
	return check_finish();
}
