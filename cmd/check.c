/*
 * hikyaku check - validate main.cf and master.cf and name every problem.
 *
 * Every problem is printed with its file and line; the exit status is 1
 * when there is an error. Warnings (an unused parameter, an entry that
 * overrides an earlier one) are printed but do not fail the check, as with
 * `postfix check`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "master_cf.h"
#include "strlist.h"
#include "xalloc.h"

/*
 * The names master.cf uses: -o values may refer to $name parameters that
 * exist only for them (Postfix's "mua_client_restrictions" habit), and a
 * -o may itself name a parameter.
 */
static void
collect_master_references(const struct master_cf *table, struct strlist *used)
{
	for (size_t i = 0; i < table->count; i++) {
		const struct master_cf_entry *entry = &table->entries[i];

		for (size_t j = 0; j < entry->override_count; j++) {
			strlist_append(used, entry->overrides[j].name);
			strlist_append(used, entry->overrides[j].value);
		}
	}
}

/* An -o override must name a parameter and carry a good value. */
static int
check_overrides(const struct master_cf *table)
{
	struct dstring error;
	int problems = 0;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < table->count; i++) {
		const struct master_cf_entry *entry = &table->entries[i];

		for (size_t j = 0; j < entry->override_count; j++) {
			const struct master_cf_override *override = &entry->overrides[j];
			const struct config_param *param = config_param_find(override->name);

			if (param == NULL) {
				log_warning("%s, line %u: -o %s: unknown parameter", entry->origin_path,
					    entry->origin_line, override->name);
				continue;
			}
			dstring_reset(&error);
			if (config_check_value(param, override->value, &error) != 0) {
				log_error("%s, line %u: -o %s: %s", entry->origin_path,
					  entry->origin_line, override->name, dstring_str(&error));
				problems++;
			}
		}
	}
	dstring_fini(&error);
	return problems;
}

/* Every service's program must exist in $daemon_directory. */
static int
check_commands(const struct master_cf *table)
{
	int problems = 0;

	for (size_t i = 0; i < table->count; i++) {
		const struct master_cf_entry *entry = &table->entries[i];
		char *program = instance_path(var_daemon_directory, entry->command);

		if (access(program, X_OK) != 0) {
			log_error("%s, line %u: service %s: %s: %s", entry->origin_path,
				  entry->origin_line, entry->service, program, strerror(errno));
			problems++;
		}
		free(program);
	}
	return problems;
}

int
command_check(const char *directory, int argc, char **argv)
{
	char *master_path;
	struct master_cf table;
	struct strlist used;
	int problems;

	if (argc > 1) {
		fprintf(stderr, "usage: hikyaku [-c DIR] check\n");
		return 2;
	}
	directory = instance_directory(directory);
	problems = instance_load(directory, true);
	master_path = instance_path(directory, "master.cf");
	master_cf_init(&table);
	problems += master_cf_read(master_path, &table);
	strlist_init(&used);
	collect_master_references(&table, &used);
	config_warn_unused((const char *const *)used.items);
	/* An -o override is applied on top of main.cf: it must convert too. */
	problems += check_overrides(&table);
	problems += check_commands(&table);
	strlist_fini(&used);
	master_cf_fini(&table);
	free(master_path);
	if (problems > 0) {
		log_error("%d problem%s found in %s", problems, problems == 1 ? "" : "s", directory);
		return 1;
	}
	return 0;
}
