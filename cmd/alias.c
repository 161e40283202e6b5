/* Placeholder until hikyaku alias is written: replaced whole by its author. */
#include "commands.h"
#include "log.h"

int
command_alias(const char *directory, int argc, char **argv)
{
	log_error("alias: not written yet");
	return 2;
}

int
command_newaliases(int argc, char **argv)
{
	log_error("newaliases: not written yet");
	return 2;
}
