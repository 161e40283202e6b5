/*
 * config_value - conversion of expanded values to their parameter's type.
 *
 * Booleans are yes or no; integers are decimal; times are a number with
 * an optional unit (s, m, h, d, w; a bare number takes the parameter's own
 * unit, as in Postfix); sizes are bytes with an optional k, m or g (powers
 * of 1024). Every number is checked for overflow and against the
 * parameter's bounds before it is stored.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "config.h"
#include "dstring.h"
#include "log.h"

static int
parse_number(const char *value, long long *number, const char **end)
{
	char *stop;

	if (!isdigit((unsigned char)value[0]) && !(value[0] == '-' && isdigit((unsigned char)value[1])))
		return -1;
	errno = 0;
	*number = strtoll(value, &stop, 10);
	if (errno == ERANGE)
		return -1;
	*end = stop;
	return 0;
}

static int
out_of_range(const struct config_param *param, long long number, struct dstring *error)
{
	if (number < param->min || number > param->max) {
		dstring_printf(error, "value %lld for %s is out of range (%lld..%lld)", number,
			       param->name, param->min, param->max);
		return -1;
	}
	return 0;
}

static long long
time_unit_seconds(char unit)
{
	switch (unit) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

static long long
size_unit_bytes(char unit)
{
	switch (tolower((unsigned char)unit)) {
	case 'k':
		return 1024;
	case 'm':
		return 1024 * 1024;
	case 'g':
		return 1024 * 1024 * 1024;
	default:
		return 0;
	}
}

int
config_convert(const struct config_param *param, const char *value, struct dstring *error)
{
	long long number, multiplier;
	const char *end;

	switch (param->type) {
	case CONFIG_STRING:
	case CONFIG_RAW:
		return 0;
	case CONFIG_BOOL:
		if (strcasecmp(value, "yes") == 0)
			*(bool *)param->variable = true;
		else if (strcasecmp(value, "no") == 0)
			*(bool *)param->variable = false;
		else {
			dstring_printf(error, "bad boolean value \"%s\" for %s (use yes or no)",
				       value, param->name);
			return -1;
		}
		return 0;
	case CONFIG_INT:
		if (parse_number(value, &number, &end) != 0 || *end != '\0') {
			dstring_printf(error, "bad integer value \"%s\" for %s", value,
				       param->name);
			return -1;
		}
		if (out_of_range(param, number, error) != 0)
			return -1;
		*(int *)param->variable = (int)number;
		return 0;
	case CONFIG_TIME:
		multiplier = 0;
		if (parse_number(value, &number, &end) == 0 && number >= 0) {
			if (*end == '\0')
				multiplier = time_unit_seconds(param->time_unit);
			else if (end[1] == '\0')
				multiplier = time_unit_seconds(*end);
		}
		if (multiplier == 0) {
			dstring_printf(error, "bad time value \"%s\" for %s (use a number and "
					      "one of the units s, m, h, d, w)",
				       value, param->name);
			return -1;
		}
		if (number > LLONG_MAX / multiplier) {
			dstring_printf(error, "time value \"%s\" for %s is too large", value,
				       param->name);
			return -1;
		}
		if (out_of_range(param, number * multiplier, error) != 0)
			return -1;
		*(int *)param->variable = (int)(number * multiplier);
		return 0;
	case CONFIG_SIZE:
		multiplier = 0;
		if (parse_number(value, &number, &end) == 0 && number >= 0) {
			if (*end == '\0')
				multiplier = 1;
			else if (end[1] == '\0')
				multiplier = size_unit_bytes(*end);
		}
		if (multiplier == 0) {
			dstring_printf(error, "bad size value \"%s\" for %s (use a number of "
					      "bytes, optionally with k, m or g)",
				       value, param->name);
			return -1;
		}
		if (number > LLONG_MAX / multiplier) {
			dstring_printf(error, "size value \"%s\" for %s is too large", value,
				       param->name);
			return -1;
		}
		if (out_of_range(param, number * multiplier, error) != 0)
			return -1;
		*(long long *)param->variable = number * multiplier;
		return 0;
	}
	log_panic("config_convert: unknown type %d for %s", (int)param->type, param->name);
}


int
config_check_value(const struct config_param *param, const char *value, struct dstring *error)
{
	struct config_param scratch = *param;
	union {
		const char *text;
		bool flag;
		int number;
		long long size;
	} storage;
	struct dstring expanded;
	int status = 0;

	scratch.variable = &storage;
	dstring_init(&expanded, CONFIG_VALUE_MAX);
	if (param->type == CONFIG_RAW)
		dstring_set(&expanded, value);
	else if (config_expand(value, &expanded, error) != 0)
		status = -1;
	if (status == 0)
		status = config_convert(&scratch, dstring_str(&expanded), error);
	dstring_fini(&expanded);
	return status;
}
