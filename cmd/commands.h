/*
 * commands - the subcommands of `hikyaku`, one function each.
 *
 * Each takes the configuration directory chosen by -c (or NULL) and the
 * arguments after the subcommand name (argv[0] is that name), and returns
 * the process exit status.
 */
#ifndef HIKYAKU_COMMANDS_H
#define HIKYAKU_COMMANDS_H

int command_conf(const char *directory, int argc, char **argv);
int command_check(const char *directory, int argc, char **argv);
/* start, start-fg, stop, abort, reload, flush, status, set-permissions */
int command_control(const char *directory, int argc, char **argv);
int command_map(const char *directory, int argc, char **argv);
int command_alias(const char *directory, int argc, char **argv);
/* queue (postqueue), super (postsuper), cat (postcat): docs/queue_admin.md */
int command_queue(const char *directory, int argc, char **argv);
int command_super(const char *directory, int argc, char **argv);
int command_cat(const char *directory, int argc, char **argv);
/* newaliases: hikyaku run under that name; argv[0] is "newaliases". */
int command_newaliases(int argc, char **argv);

#endif
