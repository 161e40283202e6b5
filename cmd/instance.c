/*
 * instance - locating and loading an instance's configuration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "xalloc.h"
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
	return xpath_join(directory, name);
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
