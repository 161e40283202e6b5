/*
 * table_unix - the system's users and groups as tables, as Postfix's
 * unix: type: "unix:passwd.byname" (for local_recipient_maps) and
 * "unix:group.byname".
 *
 * The value is the entry in the passwd(5) or group(5) line format, the
 * same text `postmap -q root unix:passwd.byname` prints:
 *   root:x:0:0:root:/root:/bin/bash
 *   mail:x:8:alice,bob
 * Lookups go through getpwnam(3)/getgrnam(3), so NSS sources (LDAP,
 * systemd-userdb) answer too. A name that is not there is TABLE_NOT_FOUND;
 * when the database itself cannot be read (the user root is missing too,
 * or the library reports an error other than "no such entry") the lookup
 * is TABLE_ERROR, so mail is deferred instead of bounced. Listing the
 * entries is not supported (as in Postfix).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "table.h"

enum unix_map {
	UNIX_PASSWD_BY_NAME,
	UNIX_GROUP_BY_NAME,
};

static const char *const unix_map_names[] = {
    [UNIX_PASSWD_BY_NAME] = "passwd.byname",
    [UNIX_GROUP_BY_NAME] = "group.byname",
};

/* The state pointer holds the map's index plus one (never NULL). */
static enum unix_map
unix_map_of(const struct table *table)
{
	return (enum unix_map)((uintptr_t)table->state - 1);
}

static int
unix_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	(void)flags;
	for (size_t i = 0; i < sizeof(unix_map_names) / sizeof(unix_map_names[0]); i++) {
		if (strcmp(name, unix_map_names[i]) == 0) {
			table->state = (void *)(uintptr_t)(i + 1);
			return 0;
		}
	}
	dstring_printf(error, "table unix:%s: unknown map (expected passwd.byname or group.byname)",
	               name);
	return -1;
}

/*
 * getpwnam and getgrnam return NULL both for "no such name" and for a
 * failure, and errno is not reliable for the first. A failure is what
 * leaves even uid 0 (or gid 0) unknown, as Postfix checks.
 */
static bool
database_is_readable(enum unix_map map)
{
	if (map == UNIX_PASSWD_BY_NAME)
		return getpwuid(0) != NULL;
	return getgrgid(0) != NULL;
}

static bool
is_not_found_errno(int code)
{
	return code == 0 || code == ENOENT || code == ESRCH || code == EBADF || code == EPERM;
}

static enum table_result
not_found_or_error(struct table *table, int code, struct dstring *value)
{
	enum unix_map map = unix_map_of(table);

	if (is_not_found_errno(code) && database_is_readable(map))
		return TABLE_NOT_FOUND;
	dstring_printf(value, "table unix:%s: cannot read the %s database%s%s", unix_map_names[map],
	               map == UNIX_PASSWD_BY_NAME ? "password" : "group", code != 0 ? ": " : "",
	               code != 0 ? strerror(code) : "");
	return TABLE_ERROR;
}

/* Some NSS modules leave fields NULL. */
static const char *
text(const char *field)
{
	return field != NULL ? field : "";
}

static enum table_result
unix_lookup(struct table *table, const char *key, struct dstring *value)
{
	int status = 0;

	errno = 0;
	if (unix_map_of(table) == UNIX_PASSWD_BY_NAME) {
		struct passwd *user = getpwnam(key);

		if (user == NULL)
			return not_found_or_error(table, errno, value);
		status =
		    dstring_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", text(user->pw_name),
		                   text(user->pw_passwd), (long)user->pw_uid, (long)user->pw_gid,
		                   text(user->pw_gecos), text(user->pw_dir), text(user->pw_shell));
	} else {
		struct group *group = getgrnam(key);

		if (group == NULL)
			return not_found_or_error(table, errno, value);
		status = dstring_printf(value, "%s:%s:%ld:", text(group->gr_name),
		                        text(group->gr_passwd), (long)group->gr_gid);
		for (char **member = group->gr_mem; status == 0 && *member != NULL; member++) {
			if (member != group->gr_mem)
				status = dstring_append_char(value, ',');
			if (status == 0)
				status = dstring_append_str(value, *member);
		}
	}
	if (status != 0) {
		dstring_reset(value);
		dstring_printf(value, "table %s: entry for \"%s\" is too long", table->spec, key);
		return TABLE_ERROR;
	}
	return TABLE_FOUND;
}

const struct table_type table_type_unix = {
    .name = "unix",
    .open = unix_open,
    .lookup = unix_lookup,
};
