/*
 * instance - which hikyaku instance a command works on, and loading its
 * configuration.
 *
 * The instance is the configuration directory: `-c DIR`, else the
 * environment variable MAIL_CONFIG (Postfix's way), else the compiled-in
 * directory.
 */
#ifndef HIKYAKU_INSTANCE_H
#define HIKYAKU_INSTANCE_H

#include <stdbool.h>

/* instance_directory: the configuration directory chosen (never NULL). */
const char *instance_directory(const char *option_directory);

/*
 * instance_load: read DIR/main.cf and apply it. Problems are logged with
 * file and line; returns their number. When require_file is false a
 * missing main.cf is not a problem (compiled-in defaults apply).
 */
int instance_load(const char *directory, bool require_file);

/* instance_path: DIR/name in a new string the caller frees. */
char *instance_path(const char *directory, const char *name);

#endif
