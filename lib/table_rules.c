/*
 * table_rules - the ordered rule lists of pcre:, regexp: and cidr: tables.
 *
 * Reading: the whole file is read into memory (at most
 * TABLE_RULES_FILE_MAX bytes), cut into logical lines, and each line is
 * handed to the type's parser. "if"/"endif" pairing uses an explicit
 * stack, so the nesting depth never reaches the C stack.
 *
 * Lookup: one pass over the rule array; a failed "if" jumps to the index
 * past its "endif". Every rule is looked at at most once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_rules.h"
#include "xalloc.h"

/* How much of outside text a message quotes. */
#define QUOTE_MAX 100

bool
table_rules_is_space(int byte)
{
	return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\f' ||
	       byte == '\v';
}

static bool
is_alphanumeric(int byte)
{
	return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
	       (byte >= '0' && byte <= '9');
}

char *
table_rules_skip_space(char *text)
{
	while (table_rules_is_space((unsigned char)*text))
		text++;
	return text;
}

char *
table_rules_keyword(char *text, const char *keyword)
{
	size_t length = strlen(keyword);

	if (strncasecmp(text, keyword, length) != 0 || is_alphanumeric((unsigned char)text[length]))
		return NULL;
	return text + length;
}

void
table_rules_warn(const struct table_rules *rules, unsigned line_number, const char *format, ...)
{
	struct dstring message;
	va_list args;

	dstring_init(&message, LOG_LINE_MAX);
	va_start(args, format);
	dstring_append_vprintf(&message, format, args);
	va_end(args);
	log_warning("%s, line %u: %s", rules->origin, line_number, dstring_str(&message));
	dstring_fini(&message);
}

/* Log an error in the file and count it. */
static void __attribute__((format(printf, 3, 4)))
rules_error(struct table_rules *rules, unsigned line_number, const char *format, ...)
{
	struct dstring message;
	va_list args;

	dstring_init(&message, LOG_LINE_MAX);
	va_start(args, format);
	dstring_append_vprintf(&message, format, args);
	va_end(args);
	log_error("%s, line %u: %s", rules->origin, line_number, dstring_str(&message));
	dstring_fini(&message);
	rules->error_count++;
}

int
table_rules_take_delimited(char **cursor, char **pattern, bool *is_negated, struct dstring *error)
{
	char *text = *cursor;
	char delimiter;

	*is_negated = false;
	for (;; text++) {
		if (*text == '!')
			*is_negated = !*is_negated;
		else if (!table_rules_is_space((unsigned char)*text))
			break;
	}
	if (*text == '\0') {
		dstring_set(error, "no regexp");
		return -1;
	}
	delimiter = *text++;
	*pattern = text;
	for (; *text != '\0'; text++) {
		if (*text == '\\') {
			if (text[1] == '\0')
				break;
			text++;
		} else if (*text == delimiter) {
			break;
		}
	}
	if (*text == '\0') {
		if ((unsigned char)delimiter >= 0x20 && (unsigned char)delimiter < 0x7f)
			dstring_printf(error, "no closing regexp delimiter \"%c\"", delimiter);
		else
			dstring_printf(error, "no closing regexp delimiter \"\\x%02x\"",
			               (unsigned char)delimiter);
		return -1;
	}
	*text++ = '\0';
	*cursor = text;
	return 0;
}

/*
 * One reference in a result: "$$", "$name", "${name}" or "$(name)" at
 * text[0] == '$'. Sets *name and *name_length (name not terminated), and
 * returns the length of the whole reference; for "$$" *name is NULL.
 * Returns 0 with a reason in error when the reference is malformed.
 */
static size_t
scan_reference(const char *text, const char **name, size_t *name_length, struct dstring *error)
{
	if (text[1] == '$') {
		*name = NULL;
		*name_length = 0;
		return 2;
	}
	if (text[1] == '{' || text[1] == '(') {
		char open = text[1], close = open == '{' ? '}' : ')';
		size_t depth = 1, i;

		for (i = 2; depth > 0; i++) {
			if (text[i] == '\0') {
				dstring_printf(error, "truncated macro reference: \"%.*s\"",
				               QUOTE_MAX, text);
				return 0;
			}
			if (text[i] == open)
				depth++;
			else if (text[i] == close)
				depth--;
		}
		*name = text + 2;
		*name_length = i - 3;
		if (*name_length == 0) {
			dstring_printf(error, "empty macro name: \"%.*s\"", QUOTE_MAX, text);
			return 0;
		}
		return i;
	}
	{
		size_t i = 1;

		while (is_alphanumeric((unsigned char)text[i]) || text[i] == '_')
			i++;
		*name = text + 1;
		*name_length = i - 1;
		if (*name_length == 0) {
			dstring_printf(error, "empty macro name: \"%.*s\"", QUOTE_MAX, text);
			return 0;
		}
		return i;
	}
}

/* The group number a reference names, or 0 with a reason in error. */
static unsigned
reference_number(const char *name, size_t length, struct dstring *error)
{
	unsigned number = 0;

	for (size_t i = 0; i < length; i++) {
		if (name[i] < '0' || name[i] > '9') {
			dstring_printf(error, "non-numeric replacement index \"%.*s\"",
			               (int)(length < QUOTE_MAX ? length : QUOTE_MAX), name);
			return 0;
		}
		/* Saturate: anything above the maximum is out of range anyway. */
		if (number <= TABLE_RULES_GROUP_MAX)
			number = number * 10 + (unsigned)(name[i] - '0');
	}
	if (number < 1 || number > TABLE_RULES_GROUP_MAX) {
		dstring_printf(error, "out of range replacement index \"%.*s\"",
		               (int)(length < QUOTE_MAX ? length : QUOTE_MAX), name);
		return 0;
	}
	return number;
}

int
table_rules_check_result(const char *result, unsigned *max_group, struct dstring *error)
{
	*max_group = 0;
	for (const char *text = result; *text != '\0';) {
		const char *name;
		size_t name_length, length;
		unsigned number;

		if (*text != '$') {
			text++;
			continue;
		}
		if ((length = scan_reference(text, &name, &name_length, error)) == 0)
			return -1;
		text += length;
		if (name == NULL)
			continue;
		if ((number = reference_number(name, name_length, error)) == 0)
			return -1;
		if (number > *max_group)
			*max_group = number;
	}
	return 0;
}

/* Append to value, refusing to pass TABLE_VALUE_MAX as well as value's own limit. */
static int
append_bounded(struct dstring *value, const char *data, size_t length)
{
	if (length > TABLE_VALUE_MAX - dstring_length(value))
		return -1;
	return dstring_append(value, data, length);
}

/*
 * Expand result into value with the groups of key. The result was checked
 * when it was read, so every reference is well formed.
 */
static int
expand_result(const char *result, const char *key, const struct table_rules_groups *groups,
              struct dstring *value)
{
	struct dstring ignored;
	int status = 0;

	dstring_init(&ignored, 200);
	for (const char *text = result; *text != '\0' && status == 0;) {
		const char *name, *next = strchr(text, '$');
		size_t name_length, length;
		unsigned number;

		if (next == NULL)
			next = text + strlen(text);
		if (next > text) {
			status = append_bounded(value, text, (size_t)(next - text));
			text = next;
			continue;
		}
		length = scan_reference(text, &name, &name_length, &ignored);
		if (length == 0)
			log_panic("table_rules: unchecked result \"%s\"", result);
		text += length;
		if (name == NULL) {
			status = append_bounded(value, "$", 1);
			continue;
		}
		number = reference_number(name, name_length, &ignored);
		if (number == 0)
			log_panic("table_rules: unchecked result \"%s\"", result);
		if (groups->is_set[number] && groups->end[number] > groups->start[number])
			status = append_bounded(value, key + groups->start[number],
			                        groups->end[number] - groups->start[number]);
	}
	dstring_fini(&ignored);
	return status;
}

/* Rules, growing. */

static struct table_rules *
rules_new(const struct table_rules_syntax *syntax, const char *origin)
{
	struct table_rules *rules = xcalloc(1, sizeof(*rules));

	rules->syntax = syntax;
	rules->origin = xstrdup(origin);
	return rules;
}

static void
rules_append(struct table_rules *rules, const struct table_rule *rule)
{
	if (rules->count == rules->capacity) {
		rules->capacity = rules->capacity == 0 ? 16 : rules->capacity * 2;
		rules->rules = xreallocarray(rules->rules, rules->capacity, sizeof(*rules->rules));
	}
	rules->rules[rules->count++] = *rule;
}

static void
rule_free(const struct table_rules *rules, struct table_rule *rule)
{
	if (rule->pattern != NULL)
		rules->syntax->free_pattern(rule->pattern);
	free(rule->result);
	rule->pattern = NULL;
	rule->result = NULL;
}

void
table_rules_close(struct table_rules *rules)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->count; i++)
		rule_free(rules, &rules->rules[i]);
	free(rules->rules);
	free(rules->origin);
	if (rules->type_state != NULL)
		rules->syntax->free_state(rules->type_state);
	free(rules);
}

/*
 * The parse state of one file: the stack of open "if" rules (indices).
 */
struct parse_state {
	size_t *open_ifs;
	size_t depth;
	size_t capacity;
};

/* Parse one logical line (trimmed, non-empty, no NUL) and add its rule. */
static void
parse_line(struct table_rules *rules, struct parse_state *state, char *line, unsigned line_number)
{
	struct table_rule rule;
	struct dstring error;

	memset(&rule, 0, sizeof(rule));
	rule.line_number = line_number;
	dstring_init(&error, 1024);
	if (rules->syntax->parse(rules, line, &rule, &error) == TABLE_RULES_SKIPPED) {
		rules_error(rules, line_number, "%s: skipping this rule", dstring_str(&error));
		rule_free(rules, &rule);
		dstring_fini(&error);
		return;
	}
	switch (rule.op) {
	case TABLE_RULE_IF:
		if (state->depth >= TABLE_RULES_NESTING_MAX && !rule.is_broken) {
			rule.is_broken = true;
			dstring_printf(&error, "IF nested more than %d deep",
			               TABLE_RULES_NESTING_MAX);
		}
		if (rule.is_broken) {
			rules_error(rules, line_number, "%s: lookups that reach this IF will fail",
			            dstring_str(&error));
			if (rule.pattern != NULL) {
				rules->syntax->free_pattern(rule.pattern);
				rule.pattern = NULL;
			}
			/* The reason, for the lookups that fail here. */
			free(rule.result);
			rule.result = xstrdup(dstring_str(&error));
		}
		if (state->depth == state->capacity) {
			state->capacity = state->capacity == 0 ? 16 : state->capacity * 2;
			state->open_ifs = xreallocarray(state->open_ifs, state->capacity,
			                                sizeof(*state->open_ifs));
		}
		state->open_ifs[state->depth++] = rules->count;
		break;
	case TABLE_RULE_ENDIF:
		if (state->depth == 0) {
			rules_error(rules, line_number, "ENDIF without IF: skipping this rule");
			rule_free(rules, &rule);
			dstring_fini(&error);
			return;
		}
		/* The IF's block ends just past this ENDIF. */
		rules->rules[state->open_ifs[--state->depth]].block_end = rules->count + 1;
		break;
	case TABLE_RULE_MATCH:
		break;
	}
	rules_append(rules, &rule);
	dstring_fini(&error);
}

/*
 * A logical line as it is collected: its first line number, and whether
 * it has grown too long or holds a NUL byte (then it is only counted).
 */
struct logical_line {
	struct dstring text;
	unsigned line_number;
	bool is_open;
	bool is_too_long;
	bool has_nul;
	bool is_orphan; /* continuation text with nothing before it */
};

static void
finish_line(struct table_rules *rules, struct parse_state *state, struct logical_line *line)
{
	if (!line->is_open)
		return;
	line->is_open = false;
	if (line->is_orphan) {
		rules_error(rules, line->line_number,
		            "logical line must not start with white space: skipping it");
		return;
	}
	if (line->is_too_long) {
		rules_error(rules, line->line_number,
		            "rule longer than %d bytes: skipping this rule", TABLE_RULES_LINE_MAX);
		return;
	}
	if (line->has_nul) {
		rules_error(rules, line->line_number, "NUL byte in rule: skipping this rule");
		return;
	}
	/* Trailing white space is not part of the rule. */
	while (dstring_length(&line->text) > 0 &&
	       table_rules_is_space(
	           (unsigned char)dstring_str(&line->text)[dstring_length(&line->text) - 1]))
		dstring_truncate(&line->text, dstring_length(&line->text) - 1);
	if (dstring_length(&line->text) > 0)
		parse_line(rules, state, line->text.data, line->line_number);
}

static void
add_to_line(struct logical_line *line, const char *text, size_t length)
{
	if (line->is_too_long || line->is_orphan)
		return;
	if (memchr(text, '\0', length) != NULL)
		line->has_nul = true;
	if (dstring_append(&line->text, text, length) < 0)
		line->is_too_long = true;
}

struct table_rules *
table_rules_open_text(const struct table_rules_syntax *syntax, const char *origin, const char *text,
                      size_t length)
{
	struct table_rules *rules = rules_new(syntax, origin);
	struct parse_state state = {NULL, 0, 0};
	struct logical_line line;
	unsigned line_number = 0;
	size_t position = 0;

	memset(&line, 0, sizeof(line));
	dstring_init(&line.text, TABLE_RULES_LINE_MAX);
	while (position < length) {
		const char *start = text + position;
		const char *newline = memchr(start, '\n', length - position);
		size_t physical_length = newline ? (size_t)(newline - start) : length - position;
		size_t first = 0;

		position += physical_length + (newline ? 1 : 0);
		if (line_number < UINT32_MAX)
			line_number++;
		while (first < physical_length && table_rules_is_space((unsigned char)start[first]))
			first++;
		/* Blank and comment lines are dropped, even inside a logical line. */
		if (first == physical_length || start[first] == '#')
			continue;
		if (first == 0) {
			/* Text at the left margin starts a new logical line. */
			finish_line(rules, &state, &line);
			dstring_reset(&line.text);
			line.line_number = line_number;
			line.is_open = true;
			line.is_too_long = line.has_nul = line.is_orphan = false;
		} else if (!line.is_open) {
			line.line_number = line_number;
			line.is_open = true;
			line.is_too_long = line.has_nul = false;
			line.is_orphan = true;
		}
		add_to_line(&line, start, physical_length);
	}
	finish_line(rules, &state, &line);
	while (state.depth > 0) {
		struct table_rule *open_if = &rules->rules[state.open_ifs[--state.depth]];

		rules_error(rules, open_if->line_number, "IF has no matching ENDIF");
		open_if->block_end = rules->count;
	}
	free(state.open_ifs);
	dstring_fini(&line.text);
	return rules;
}

struct table_rules *
table_rules_open_file(const struct table_rules_syntax *syntax, const char *path,
                      struct dstring *error)
{
	struct table_rules *rules;
	struct dstring content;
	char buffer[65536];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		dstring_printf(error, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	dstring_init(&content, TABLE_RULES_FILE_MAX);
	for (;;) {
		ssize_t count = read(fd, buffer, sizeof(buffer));

		if (count < 0 && errno == EINTR)
			continue;
		if (count < 0) {
			dstring_printf(error, "read %s: %s", path, strerror(errno));
			break;
		}
		if (count == 0) {
			close(fd);
			rules = table_rules_open_text(syntax, path, dstring_str(&content),
			                              dstring_length(&content));
			dstring_fini(&content);
			return rules;
		}
		if (dstring_append(&content, buffer, (size_t)count) < 0) {
			dstring_printf(error, "read %s: file larger than %d bytes", path,
			               TABLE_RULES_FILE_MAX);
			break;
		}
	}
	close(fd);
	dstring_fini(&content);
	return NULL;
}

struct table_rules *
table_rules_open_inline(const struct table_rules_syntax *syntax, const char *name,
                        struct dstring *error)
{
	struct table_rules *rules;
	struct dstring text, origin;
	const char *cursor, *end;
	size_t length = strlen(name);

	/* The whole name is one "{ ... }" group. */
	if (length < 2 || name[0] != '{' || name[length - 1] != '}') {
		dstring_printf(error, "%s:%.*s: no '{' ... '}' around the rules", syntax->name,
		               QUOTE_MAX, name);
		return NULL;
	}
	dstring_init(&text, TABLE_RULES_FILE_MAX);
	cursor = name + 1;
	end = name + length - 1;
	for (;;) {
		const char *start, *inside_end;
		size_t depth = 0;

		while (cursor < end &&
		       (*cursor == ',' || table_rules_is_space((unsigned char)*cursor)))
			cursor++;
		if (cursor == end)
			break;
		if (*cursor != '{') {
			dstring_printf(error, "%s:%.*s: no '{' at start of text in \"%.*s\"",
			               syntax->name, QUOTE_MAX, name, QUOTE_MAX, cursor);
			dstring_fini(&text);
			return NULL;
		}
		start = cursor;
		for (; cursor < end; cursor++) {
			if (*cursor == '{')
				depth++;
			else if (*cursor == '}' && --depth == 0)
				break;
		}
		if (cursor == end) {
			dstring_printf(error, "%s:%.*s: missing '}'", syntax->name, QUOTE_MAX,
			               name);
			dstring_fini(&text);
			return NULL;
		}
		/* The rule is the inside, without the white space next to the braces. */
		inside_end = cursor;
		start++;
		while (start < inside_end && table_rules_is_space((unsigned char)*start))
			start++;
		while (inside_end > start && table_rules_is_space((unsigned char)inside_end[-1]))
			inside_end--;
		cursor++;
		if (dstring_append(&text, start, (size_t)(inside_end - start)) < 0 ||
		    dstring_append_char(&text, '\n') < 0) {
			dstring_printf(error, "%s: inline rules too long", syntax->name);
			dstring_fini(&text);
			return NULL;
		}
	}
	dstring_init(&origin, DSTRING_NO_LIMIT);
	dstring_printf(&origin, "%s:%s", syntax->name, name);
	rules = table_rules_open_text(syntax, dstring_str(&origin), dstring_str(&text),
	                              dstring_length(&text));
	rules->is_inline = true;
	dstring_fini(&origin);
	dstring_fini(&text);
	return rules;
}

enum table_result
table_rules_lookup(struct table_rules *rules, const char *key, void *context, struct dstring *value)
{
	struct table_rules_groups groups;
	struct dstring error;
	size_t key_length = strlen(key);
	enum table_result result = TABLE_NOT_FOUND;

	dstring_reset(value);
	if (key_length > TABLE_KEY_MAX)
		return TABLE_NOT_FOUND;
	dstring_init(&error, 1024);
	for (size_t i = 0; i < rules->count;) {
		const struct table_rule *rule = &rules->rules[i];
		enum table_rules_match match;

		if (rule->op == TABLE_RULE_ENDIF) {
			i++;
			continue;
		}
		if (rule->is_broken) {
			dstring_printf(value, "%s, line %u: bad IF: %s", rules->origin,
			               rule->line_number, rule->result);
			result = TABLE_ERROR;
			break;
		}
		dstring_reset(&error);
		match = rules->syntax->match(rule, key, key_length, context, &groups, &error);
		if (match == TABLE_RULES_MATCH_ERROR) {
			dstring_printf(value, "%s, line %u: %s", rules->origin, rule->line_number,
			               dstring_str(&error));
			result = TABLE_ERROR;
			break;
		}
		/* A pattern that could not look at this key, taken as no match. */
		if (dstring_length(&error) > 0)
			log_warning("%s, line %u: %s", rules->origin, rule->line_number,
			            dstring_str(&error));
		if (rule->op == TABLE_RULE_IF) {
			i = match == TABLE_RULES_MATCHED ? i + 1 : rule->block_end;
			continue;
		}
		if (match == TABLE_RULES_NO_MATCH) {
			i++;
			continue;
		}
		if (!rules->syntax->has_substitution) {
			if (append_bounded(value, rule->result, strlen(rule->result)) == 0)
				result = TABLE_FOUND;
		} else if (expand_result(rule->result, key, &groups, value) == 0) {
			result = TABLE_FOUND;
		}
		if (result != TABLE_FOUND) {
			dstring_reset(value);
			dstring_printf(value, "%s, line %u: result too long", rules->origin,
			               rule->line_number);
			result = TABLE_ERROR;
		}
		break;
	}
	if (result == TABLE_ERROR)
		log_error("%s", dstring_str(value));
	dstring_fini(&error);
	return result;
}

int
table_rules_open(const struct table_rules_syntax *syntax, struct table *table, const char *name,
                 struct dstring *error)
{
	struct table_rules *rules;

	if (name[0] == '{')
		rules = table_rules_open_inline(syntax, name, error);
	else
		rules = table_rules_open_file(syntax, name, error);
	if (rules == NULL)
		return -1;
	table->state = rules;
	return 0;
}

const char *
table_rules_source_file(struct table *table)
{
	const struct table_rules *rules = table->state;

	if (rules == NULL || rules->is_inline)
		return NULL;
	return rules->origin;
}

void
table_rules_close_table(struct table *table)
{
	table_rules_close(table->state);
	table->state = NULL;
}

bool
table_rules_parse_endif(const struct table_rules *rules, char *line, struct table_rule *rule)
{
	char *text = table_rules_keyword(line, "endif");

	if (text == NULL)
		return false;
	rule->op = TABLE_RULE_ENDIF;
	if (*table_rules_skip_space(text) != '\0')
		table_rules_warn(rules, rule->line_number, "ignoring extra text after ENDIF");
	return true;
}

void
table_rules_end_if(const struct table_rules *rules, unsigned line_number, char *text)
{
	text = table_rules_skip_space(text);
	if (*text != '\0')
		table_rules_warn(rules, line_number,
		                 "ignoring extra text after IF statement: \"%.100s\"", text);
}

bool
table_rules_is_unknown_keyword(const char *line, struct dstring *error)
{
	if ((line[0] >= 'a' && line[0] <= 'z') || (line[0] >= 'A' && line[0] <= 'Z') ||
	    (line[0] >= '0' && line[0] <= '9')) {
		dstring_set(error, "unrecognized request");
		return true;
	}
	return false;
}
