/*
 * hikyaku - the administrator's command, like Postfix's postfix(1) and
 * postconf(1) in one: `hikyaku [-c DIR] [-v] COMMAND [ARGS]`.
 *
 * It runs with the privileges of whoever calls it and is never set-id:
 * operations that need privilege belong to small programs of their own.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "paths.h"

struct command {
	const char *name;
	int (*run)(const char *directory, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"start", command_control, "check the configuration and start the mail system"},
	{"start-fg", command_control, "start the mail system in the foreground (systemd)"},
	{"stop", command_control, "stop the mail system"},
	{"abort", command_control, "stop the mail system at once"},
	{"reload", command_control, "re-read the configuration"},
	{"flush", command_control, "retry all deferred mail now"},
	{"status", command_control, "say whether the mail system runs"},
	{"set-permissions", command_control, "create the queue directories and accounts"},
	{"check", command_check, "validate main.cf and master.cf"},
	{"conf", command_conf, "show or edit parameters (like postconf)"},
	{"map", command_map, "build or query a lookup table (like postmap)"},
	{"alias", command_alias, "build or query an alias table (like postalias)"},
	{"queue", command_queue, "list or flush the mail queue (like postqueue)"},
	{"super", command_super, "delete, hold, release or requeue mail (like postsuper)"},
	{"cat", command_cat, "show a queued message (like postcat)"},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: hikyaku [-c CONFIG_DIR] [-v] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
}

int
main(int argc, char **argv)
{
	const char *directory = NULL;
	int option;

	if (argc > 0 && strcmp(basename(argv[0]), "newaliases") == 0) {
		log_open("newaliases", LOG_SINK_STDERR);
		return command_newaliases(argc, argv);
	}
	log_open("hikyaku", LOG_SINK_STDERR);
	/* '+': options after the command name belong to the command. */
	while ((option = getopt(argc, argv, "+c:vV")) != -1) {
		switch (option) {
		case 'c':
			directory = optarg;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		case 'V':
			printf("hikyaku %s\n", HIKYAKU_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(directory, argc - optind, argv + optind);
	log_error("unknown command: %s", argv[optind]);
	usage(stderr);
	return 2;
}
