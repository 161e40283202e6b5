/*
 * hikyaku conf - show and edit main.cf and master.cf, like postconf.
 *
 *   hikyaku conf [-c DIR] [-d | -n] [-h] [-x] [name ...]
 *   hikyaku conf [-c DIR] -e name=value ...   (also "name = value")
 *   hikyaku conf [-c DIR] -X name ...         remove entries
 *   hikyaku conf [-c DIR] -# name ...         comment entries out
 *   hikyaku conf [-c DIR] -M [-f] [service[/type] ...]
 *
 * Output has Postfix's form, "name = value" sorted by name, so scripts and
 * administrators' habits carry over.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "config_edit.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "master_cf.h"
#include "strlist.h"
#include "xalloc.h"

struct conf_options {
	bool show_defaults;
	bool show_set_only;
	bool hide_names;
	bool expand;
	bool fold;
};

static int
compare_strings(const void *left, const void *right)
{
	return strcmp(*(char *const *)left, *(char *const *)right);
}

static int
print_parameter(const char *name, const char *value, const struct conf_options *options)
{
	const struct config_param *param = config_param_find(name);
	struct dstring expanded, error;
	int status = 0;

	dstring_init(&expanded, CONFIG_VALUE_MAX);
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (value == NULL)
		value = "";
	/* RAW values are expanded by the code that uses them, as postconf -x does. */
	if (options->expand && !(param != NULL && param->type == CONFIG_RAW)) {
		if (config_expand(value, &expanded, &error) != 0) {
			log_error("%s: %s", name, dstring_str(&error));
			status = 1;
		}
		value = dstring_str(&expanded);
	}
	if (options->hide_names)
		printf("%s\n", value);
	else if (*value == '\0')
		printf("%s =\n", name);
	else
		printf("%s = %s\n", name, value);
	dstring_fini(&expanded);
	dstring_fini(&error);
	return status;
}

/* All known parameters, plus names set in main.cf that we do not know. */
static void
collect_names(struct strlist *names, const struct conf_options *options)
{
	if (!options->show_set_only)
		for (size_t i = 0; i < config_param_count(); i++)
			strlist_append(names, config_param_at(i)->name);
	if (!options->show_defaults)
		for (size_t i = 0; i < config_setting_count(); i++) {
			const char *name = config_setting_name(i);

			if (options->show_set_only || config_param_find(name) == NULL)
				strlist_append(names, name);
		}
	qsort(names->items, names->count, sizeof(*names->items), compare_strings);
}

static int
show_parameters(const char *directory, const struct conf_options *options, int count,
		char **requested)
{
	struct strlist names;
	int status = 0;

	/* Defaults must not see main.cf: mydomain's default follows myhostname's. */
	if (options->show_defaults) {
		config_init(directory);
	} else if (instance_load(directory, false) != 0) {
		return 1;
	}
	strlist_init(&names);
	if (count > 0) {
		for (int i = 0; i < count; i++)
			strlist_append(&names, requested[i]);
	} else {
		collect_names(&names, options);
	}
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.items[i];
		const struct config_param *param = config_param_find(name);
		const char *value;

		if (options->show_defaults) {
			value = param ? config_lookup(name) : NULL;
		} else if (options->show_set_only && !config_is_set(name)) {
			continue;
		} else {
			value = config_lookup(name);
		}
		if (value == NULL && !config_is_set(name)) {
			log_warning("unknown parameter: %s", name);
			status = 1;
			continue;
		}
		status |= print_parameter(name, value, options);
	}
	strlist_fini(&names);
	return status;
}

/* "name=value" or "name = value" into an edit. */
static int
split_assignment(const char *argument, struct config_edit *edit, struct strlist *storage)
{
	const char *equals = strchr(argument, '=');
	struct dstring part;

	if (equals == NULL) {
		log_error("-e %s: expected name=value", argument);
		return -1;
	}
	dstring_init(&part, DSTRING_NO_LIMIT);
	dstring_append(&part, argument, (size_t)(equals - argument));
	dstring_trim(&part);
	strlist_append(storage, dstring_str(&part));
	dstring_set(&part, equals + 1);
	dstring_trim(&part);
	strlist_append(storage, dstring_str(&part));
	dstring_fini(&part);
	edit->name = storage->items[storage->count - 2];
	edit->value = storage->items[storage->count - 1];
	return 0;
}

static int
edit_parameters(const char *directory, enum config_edit_action action, int count, char **names)
{
	struct config_edit *edits = xcalloc((size_t)count, sizeof(*edits));
	char *main_cf = instance_path(directory, "main.cf");
	struct strlist storage;
	int status = 1;

	strlist_init(&storage);
	for (int i = 0; i < count; i++) {
		if (action == CONFIG_EDIT_SET) {
			if (split_assignment(names[i], &edits[i], &storage) != 0)
				goto out;
		} else {
			edits[i].name = names[i];
		}
	}
	if (count == 0) {
		log_error("no parameter names given");
		goto out;
	}
	status = config_edit_file(main_cf, action, edits, (size_t)count) == 0 ? 0 : 1;
out:
	strlist_fini(&storage);
	free(edits);
	free(main_cf);
	return status;
}

static bool
entry_is_requested(const struct master_cf_entry *entry, int count, char **requested)
{
	if (count == 0)
		return true;
	for (int i = 0; i < count; i++) {
		const char *slash = strchr(requested[i], '/');
		size_t service_length = slash ? (size_t)(slash - requested[i]) : strlen(requested[i]);

		if (strlen(entry->service) != service_length ||
		    strncmp(entry->service, requested[i], service_length) != 0)
			continue;
		if (slash == NULL || strcmp(slash + 1, master_cf_type_name(entry->type)) == 0)
			return true;
	}
	return false;
}

static int
show_master(const char *directory, const struct conf_options *options, int count,
	    char **requested)
{
	char *path = instance_path(directory, "master.cf");
	struct master_cf table;
	struct dstring line;
	int status;

	master_cf_init(&table);
	status = master_cf_read(path, &table) == 0 ? 0 : 1;
	dstring_init(&line, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < table.count; i++) {
		if (!entry_is_requested(&table.entries[i], count, requested))
			continue;
		dstring_reset(&line);
		master_cf_format_entry(&table.entries[i], options->fold ? MASTER_CF_FORMAT_FOLD : 0, &line);
		printf("%s\n", dstring_str(&line));
	}
	dstring_fini(&line);
	master_cf_fini(&table);
	free(path);
	return status;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hikyaku conf [-c DIR] [-d | -n] [-h] [-x] [name ...]\n"
			"       hikyaku conf [-c DIR] -e name=value ...\n"
			"       hikyaku conf [-c DIR] -X name ... | -# name ...\n"
			"       hikyaku conf [-c DIR] -M [-f] [service[/type] ...]\n");
}

int
command_conf(const char *directory, int argc, char **argv)
{
	struct conf_options options = {0};
	enum { SHOW, SET, REMOVE, COMMENT_OUT, MASTER } mode = SHOW;
	int option;

	optind = 1;
	while ((option = getopt(argc, argv, "c:dehMnxX#f")) != -1) {
		switch (option) {
		case 'c':
			directory = optarg;
			break;
		case 'd':
			options.show_defaults = true;
			break;
		case 'n':
			options.show_set_only = true;
			break;
		case 'h':
			options.hide_names = true;
			break;
		case 'x':
			options.expand = true;
			break;
		case 'f':
			options.fold = true;
			break;
		case 'e':
			mode = SET;
			break;
		case 'X':
			mode = REMOVE;
			break;
		case '#':
			mode = COMMENT_OUT;
			break;
		case 'M':
			mode = MASTER;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (options.show_defaults && options.show_set_only) {
		log_error("-d and -n cannot be used together");
		return 2;
	}
	directory = instance_directory(directory);
	argc -= optind;
	argv += optind;
	switch (mode) {
	case SET:
		return edit_parameters(directory, CONFIG_EDIT_SET, argc, argv);
	case REMOVE:
		return edit_parameters(directory, CONFIG_EDIT_REMOVE, argc, argv);
	case COMMENT_OUT:
		return edit_parameters(directory, CONFIG_EDIT_COMMENT_OUT, argc, argv);
	case MASTER:
		return show_master(directory, &options, argc, argv);
	case SHOW:
		break;
	}
	return show_parameters(directory, &options, argc, argv);
}
