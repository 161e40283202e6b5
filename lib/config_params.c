/*
 * config_params - the variables and the table made from config_params.def.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "paths.h"

#define CONFIG_DEFINE_STRING(name) const char *var_##name;
#define CONFIG_DEFINE_RAW(name) const char *var_##name;
#define CONFIG_DEFINE_BOOL(name) bool var_##name;
#define CONFIG_DEFINE_INT(name) int var_##name;
#define CONFIG_DEFINE_TIME(name) int var_##name;
#define CONFIG_DEFINE_SIZE(name) long long var_##name;
#define CONFIG_PARAM(type, name, default_value, min, max, unit) CONFIG_DEFINE_##type(name)
#include "config_params.def"
#undef CONFIG_PARAM

static const struct config_param param_table[] = {
#define CONFIG_PARAM(type, name, default_value, min, max, unit)                                    \
	{#name, CONFIG_##type, default_value, min, max, unit, &var_##name},
#include "config_params.def"
#undef CONFIG_PARAM
};

enum { PARAM_COUNT = sizeof(param_table) / sizeof(param_table[0]) };

size_t
config_param_count(void)
{
	return PARAM_COUNT;
}

const struct config_param *
config_param_at(size_t index)
{
	return index < PARAM_COUNT ? &param_table[index] : NULL;
}

static int
compare_name(const void *key, const void *entry)
{
	return strcmp(key, ((const struct config_param *)entry)->name);
}

/* The table is kept sorted; tests/unit/test_config.c checks that it is. */
const struct config_param *
config_param_find(const char *name)
{
	return bsearch(name, param_table, PARAM_COUNT, sizeof(param_table[0]), compare_name);
}
