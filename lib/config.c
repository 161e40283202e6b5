/*
 * config - main.cf reading and the settings it holds.
 *
 * The settings read from main.cf (and given with config_set) are kept as
 * written, in file order, with the place they came from. Expansion happens
 * only when a value is used, so a value may name a parameter defined later
 * in the file; a stack of the names being expanded catches loops.
 *
 * Trusts nothing in the file: every logical line is bounded, bytes that
 * cannot appear in a configuration are refused with the file and line, and
 * a bad line is reported and skipped so one run shows every problem.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "xalloc.h"

/* A file larger than this is not a configuration file. */
#define CONFIG_FILE_MAX (16 * 1024 * 1024)

struct setting {
	char *name;
	char *value;
	char *origin; /* "path, line N", or NULL */
};

static struct setting *settings;
static size_t setting_count, setting_capacity;
static char *computed_myhostname;
static char *computed_mydomain;
static char *instance_directory;
/* Strings owned by var_<name>, one slot per table entry. */
static char **applied_strings;

static void
free_settings(void)
{
	for (size_t i = 0; i < setting_count; i++) {
		free(settings[i].name);
		free(settings[i].value);
		free(settings[i].origin);
	}
	free(settings);
	settings = NULL;
	setting_count = setting_capacity = 0;
}

static struct setting *
find_setting(const char *name)
{
	for (size_t i = 0; i < setting_count; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/*
 * Postfix's rule: the host name as gethostname(2) gives it; a name without
 * a dot gets ".localdomain", so mydomain always has something to derive.
 */
static void
compute_myhostname(void)
{
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	free(computed_myhostname);
	if (strchr(host, '.') != NULL) {
		computed_myhostname = xstrdup(host);
	} else {
		size_t length = strlen(host) + sizeof(".localdomain");

		computed_myhostname = xmalloc(length);
		snprintf(computed_myhostname, length, "%s.localdomain", host);
	}
}

void
config_init(const char *config_directory)
{
	free_settings();
	compute_myhostname();
	/* The instance's directory is config_directory's default, not a setting. */
	free(instance_directory);
	instance_directory = config_directory ? xstrdup(config_directory) : NULL;
}

void
config_set(const char *name, const char *value, const char *origin)
{
	struct setting *setting = find_setting(name);

	if (setting == NULL) {
		if (setting_count == setting_capacity) {
			setting_capacity = setting_capacity ? setting_capacity * 2 : 32;
			settings = xreallocarray(settings, setting_capacity, sizeof(*settings));
		}
		setting = &settings[setting_count++];
		setting->name = xstrdup(name);
	} else {
		free(setting->value);
		free(setting->origin);
	}
	setting->value = xstrdup(value);
	setting->origin = origin ? xstrdup(origin) : NULL;
}

bool
config_is_set(const char *name)
{
	return find_setting(name) != NULL;
}

const char *
config_origin(const char *name)
{
	struct setting *setting = find_setting(name);

	return setting ? setting->origin : NULL;
}

size_t
config_setting_count(void)
{
	return setting_count;
}

const char *
config_setting_name(size_t index)
{
	return index < setting_count ? settings[index].name : NULL;
}

static const char *
computed_default(const char *name)
{
	if (strcmp(name, "config_directory") == 0)
		return instance_directory;
	if (strcmp(name, "myhostname") == 0) {
		if (computed_myhostname == NULL)
			compute_myhostname();
		return computed_myhostname;
	}
	if (strcmp(name, "mydomain") == 0) {
		/* Derived from myhostname as the administrator set it. */
		struct dstring domain, error;

		dstring_init(&domain, CONFIG_VALUE_MAX);
		dstring_init(&error, DSTRING_NO_LIMIT);
		if (config_expand("$mydomain", &domain, &error) != 0)
			dstring_set(&domain, "localdomain");
		free(computed_mydomain);
		computed_mydomain = dstring_steal(&domain);
		dstring_fini(&domain);
		dstring_fini(&error);
		return computed_mydomain;
	}
	return NULL;
}

const char *
config_lookup(const char *name)
{
	struct setting *setting = find_setting(name);
	const struct config_param *param;

	if (setting != NULL)
		return setting->value;
	param = config_param_find(name);
	if (param == NULL)
		return NULL;
	if (param->default_value == NULL || strcmp(name, "config_directory") == 0) {
		const char *computed = computed_default(name);

		return computed ? computed : param->default_value;
	}
	return param->default_value;
}

static void
report(const char *name, const char *reason)
{
	const char *origin = config_origin(name);

	if (origin != NULL)
		log_error("%s: %s", origin, reason);
	else if (config_is_set(name))
		log_error("%s", reason);
	else
		log_error("compiled-in default of %s: %s", name, reason);
}

int
config_apply(void)
{
	size_t count = config_param_count();
	struct dstring value, error;
	int problems = 0;

	if (applied_strings == NULL)
		applied_strings = xcalloc(count, sizeof(*applied_strings));
	dstring_init(&value, CONFIG_VALUE_MAX);
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < count; i++) {
		const struct config_param *param = config_param_at(i);
		const char *raw = config_lookup(param->name);

		dstring_reset(&value);
		dstring_reset(&error);
		if (raw == NULL)
			raw = "";
		if (param->type == CONFIG_RAW) {
			dstring_set(&value, raw);
		} else if (config_expand(raw, &value, &error) != 0) {
			report(param->name, dstring_str(&error));
			problems++;
			continue;
		}
		if (config_convert(param, dstring_str(&value), &error) != 0) {
			report(param->name, dstring_str(&error));
			problems++;
			continue;
		}
		if (param->type == CONFIG_STRING || param->type == CONFIG_RAW) {
			free(applied_strings[i]);
			applied_strings[i] = dstring_steal(&value);
			*(const char **)param->variable = applied_strings[i];
		}
	}
	dstring_fini(&value);
	dstring_fini(&error);
	return problems;
}

/* ---- Reading main.cf ---- */

static bool
is_name_char(char byte)
{
	return isalnum((unsigned char)byte) || byte == '_';
}

static int
read_whole_file(const char *path, struct dstring *content)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buffer[65536];
	ssize_t got;

	if (fd < 0) {
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((got = read(fd, buffer, sizeof(buffer))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			log_error("read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (dstring_append(content, buffer, (size_t)got) != 0) {
			log_error("%s: file is larger than %d bytes", path, CONFIG_FILE_MAX);
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static bool
is_blank(char byte)
{
	return byte == ' ' || byte == '\t';
}

/* A control character other than tab does not belong in a main.cf line. */
static int
check_characters(const char *line, size_t length, const char *path, unsigned number)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)line[i];

		if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
			log_error("%s, line %u: bad character 0x%02x in column %zu", path, number,
				  byte, i + 1);
			return -1;
		}
	}
	return 0;
}

static bool
is_parameter_name(const char *name, size_t length)
{
	if (length == 0)
		return false;
	for (size_t i = 0; i < length; i++)
		if (!is_name_char(name[i]) && name[i] != '-' && name[i] != '.')
			return false;
	return true;
}

/* One logical line: "name = value". */
static int
parse_entry(const char *line, size_t length, const char *path, unsigned number)
{
	const char *equals = memchr(line, '=', length);
	const char *name_end, *value, *value_end;
	char origin[64 + PATH_MAX];
	char *name, *text;
	struct setting *earlier;

	if (equals == NULL) {
		log_error("%s, line %u: missing '=' after parameter name \"%.*s\"", path, number,
			  (int)(length > 80 ? 80 : length), line);
		return -1;
	}
	name_end = equals;
	while (name_end > line && is_blank(name_end[-1]))
		name_end--;
	if (!is_parameter_name(line, (size_t)(name_end - line))) {
		log_error("%s, line %u: bad parameter name \"%.*s\"", path, number,
			  (int)(name_end - line > 80 ? 80 : name_end - line), line);
		return -1;
	}
	value = equals + 1;
	value_end = line + length;
	while (value < value_end && is_blank(*value))
		value++;
	while (value_end > value && is_blank(value_end[-1]))
		value_end--;
	if (setting_count >= CONFIG_ENTRIES_MAX) {
		log_error("%s, line %u: more than %d parameters", path, number, CONFIG_ENTRIES_MAX);
		return -1;
	}
	name = xstrndup(line, (size_t)(name_end - line));
	text = xstrndup(value, (size_t)(value_end - value));
	earlier = find_setting(name);
	if (earlier != NULL && earlier->origin != NULL)
		log_warning("%s, line %u: overriding earlier entry (%s): %s = %s", path, number,
			    earlier->origin, name, earlier->value);
	snprintf(origin, sizeof(origin), "%s, line %u", path, number);
	config_set(name, text, origin);
	free(name);
	free(text);
	return 0;
}

int
config_parse_text(const char *content, size_t size, const char *path)
{
	struct dstring logical;
	unsigned line_number = 0, logical_start = 0;
	bool has_logical = false, is_broken = false;
	int problems = 0;
	size_t position = 0;

	dstring_init(&logical, CONFIG_LINE_MAX);
	while (position < size) {
		const char *line = content + position;
		const char *newline = memchr(line, '\n', size - position);
		size_t length = newline ? (size_t)(newline - line) : size - position;
		size_t first = 0;

		position += length + (newline ? 1 : 0);
		line_number++;
		if (length > 0 && line[length - 1] == '\r')
			length--;
		while (first < length && is_blank(line[first]))
			first++;
		if (first == length || line[first] == '#')
			continue;
		if (check_characters(line, length, path, line_number) != 0) {
			problems++;
			/* The rest of this entry is suspect; skip it whole. */
			if (first == 0) {
				if (has_logical && !is_broken)
					problems += parse_entry(dstring_str(&logical),
								dstring_length(&logical), path,
								logical_start) != 0;
				has_logical = false;
			}
			is_broken = true;
			continue;
		}
		if (first > 0) {
			if (!has_logical) {
				if (!is_broken) {
					log_error("%s, line %u: continuation line without an entry "
						  "before it",
						  path, line_number);
					problems++;
				}
				continue;
			}
			if (!is_broken &&
			    (dstring_append_char(&logical, ' ') != 0 ||
			     dstring_append(&logical, line + first, length - first) != 0)) {
				log_error("%s, line %u: entry is longer than %d bytes", path,
					  logical_start, CONFIG_LINE_MAX);
				problems++;
				is_broken = true;
			}
			continue;
		}
		if (has_logical && !is_broken)
			problems += parse_entry(dstring_str(&logical), dstring_length(&logical),
						path, logical_start) != 0;
		dstring_reset(&logical);
		has_logical = true;
		is_broken = false;
		logical_start = line_number;
		if (dstring_append(&logical, line, length) != 0) {
			log_error("%s, line %u: entry is longer than %d bytes", path, line_number,
				  CONFIG_LINE_MAX);
			problems++;
			is_broken = true;
		}
	}
	if (has_logical && !is_broken)
		problems += parse_entry(dstring_str(&logical), dstring_length(&logical), path,
					logical_start) != 0;
	dstring_fini(&logical);
	return problems;
}

int
config_read_file(const char *path)
{
	struct dstring content;
	int problems;

	dstring_init(&content, CONFIG_FILE_MAX);
	if (read_whole_file(path, &content) != 0) {
		dstring_fini(&content);
		return 1;
	}
	problems = config_parse_text(dstring_str(&content), dstring_length(&content), path);
	dstring_fini(&content);
	return problems;
}

int
config_read(const char *config_directory)
{
	struct dstring path;
	int problems;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/main.cf", config_directory);
	problems = config_read_file(dstring_str(&path));
	dstring_fini(&path);
	return problems;
}

/* ---- Unused parameters ---- */

/* Note every $name, ${name...} and $(name...) in text as used. */
static void
collect_references(const char *text, struct dstring *used)
{
	for (const char *cursor = text; (cursor = strchr(cursor, '$')) != NULL;) {
		const char *start = cursor + 1;
		const char *end;

		if (*start == '$') {
			cursor = start + 1;
			continue;
		}
		if (*start == '{' || *start == '(')
			start++;
		for (end = start; is_name_char(*end); end++)
			;
		if (end > start) {
			dstring_append_char(used, ' ');
			dstring_append(used, start, (size_t)(end - start));
			dstring_append_char(used, ' ');
		}
		cursor = end > cursor + 1 ? end : cursor + 1;
	}
}

static bool
is_referenced(const struct dstring *used, const char *name)
{
	size_t length = strlen(name);

	for (const char *found = dstring_str(used); (found = strstr(found, name)) != NULL;
	     found++)
		if (found[-1] == ' ' && found[length] == ' ')
			return true;
	return false;
}

int
config_warn_unused(const char *const *extra_used)
{
	struct dstring used;
	int warnings = 0;

	dstring_init(&used, DSTRING_NO_LIMIT);
	dstring_append_char(&used, ' ');
	for (size_t i = 0; i < setting_count; i++)
		collect_references(settings[i].value, &used);
	for (size_t i = 0; extra_used != NULL && extra_used[i] != NULL; i++) {
		collect_references(extra_used[i], &used);
		dstring_append_printf(&used, " %s ", extra_used[i]);
	}
	for (size_t i = 0; i < setting_count; i++) {
		const struct setting *setting = &settings[i];

		if (config_param_find(setting->name) != NULL ||
		    is_referenced(&used, setting->name) || setting->origin == NULL)
			continue;
		log_warning("%s: unused parameter: %s=%s", setting->origin, setting->name,
			    setting->value);
		warnings++;
	}
	dstring_fini(&used);
	return warnings;
}
