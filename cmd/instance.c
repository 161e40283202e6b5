/*
 * instance - locating and loading an instance's configuration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "paths.h"

const char *
instance_directory(const char *option_directory)
{
	const char *from_environment = getenv("MAIL_CONFIG");

	if (option_directory != NULL && *option_directory != '\0')
		return option_directory;
	if (from_environment != NULL && *from_environment != '\0')
		return from_environment;
	return HIKYAKU_CONFIG_DIR;
}

char *
instance_path(const char *directory, const char *name)
{
	struct dstring path;
	char *result;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s", directory, name);
	result = dstring_steal(&path);
	dstring_fini(&path);
	return result;
}

int
instance_load(const char *directory, bool require_file)
{
	char *main_cf = instance_path(directory, "main.cf");
	struct stat info;
	int problems = 0;

	config_init(directory);
	if (require_file || stat(main_cf, &info) == 0 || errno != ENOENT)
		problems += config_read_file(main_cf);
	problems += config_apply();
	free(main_cf);
	return problems;
}
