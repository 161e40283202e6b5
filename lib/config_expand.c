/*
 * config_expand - $name expansion of parameter values.
 *
 * The forms are Postfix's: $name, ${name}, $(name), ${name?value} (value
 * when name is non-empty), ${name:value} (value when name is empty),
 * ${name?{value}:{value}}, and $$ for a '$'. An unknown name expands to
 * nothing. The names being expanded are kept on a stack, so a value that
 * leads back to itself is reported as a loop, with the chain of names,
 * instead of recursing until the stack overflows.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "dstring.h"

static bool
is_name_char(char byte)
{
	return isalnum((unsigned char)byte) || byte == '_';
}

struct expansion {
	const char *stack[CONFIG_EXPAND_DEPTH];
	unsigned depth;
	struct dstring *error;
};

static int expand_into(struct expansion *state, const char *text, size_t length,
		       struct dstring *out);

static int
append_checked(struct expansion *state, struct dstring *out, const char *data, size_t length)
{
	if (dstring_append(out, data, length) != 0) {
		dstring_printf(state->error, "expanded value is longer than %d bytes",
			       CONFIG_VALUE_MAX);
		return -1;
	}
	return 0;
}

static int expand_name(struct expansion *state, const char *name, struct dstring *out);

/*
 * mydomain's default is myhostname without its first label (Postfix's
 * rule), computed inside this expansion so that a myhostname that refers
 * to $mydomain is caught as a loop.
 */
static int
expand_derived_mydomain(struct expansion *state, struct dstring *out)
{
	struct dstring host;
	const char *dot;
	int status;

	dstring_init(&host, CONFIG_VALUE_MAX);
	state->stack[state->depth++] = "mydomain";
	status = expand_name(state, "myhostname", &host);
	state->depth--;
	if (status == 0) {
		dot = strchr(dstring_str(&host), '.');
		status = append_checked(state, out, dot && dot[1] ? dot + 1 : "localdomain",
					strlen(dot && dot[1] ? dot + 1 : "localdomain"));
	}
	dstring_fini(&host);
	return status;
}

/* Expand $name: its value, expanded in turn; an unknown name is empty. */
static int
expand_name(struct expansion *state, const char *name, struct dstring *out)
{
	const char *value;
	int status;

	for (unsigned i = 0; i < state->depth; i++) {
		if (strcmp(state->stack[i], name) == 0) {
			dstring_printf(state->error, "parameter %s: loop in expansion: ", name);
			for (unsigned j = i; j < state->depth; j++)
				dstring_append_printf(state->error, "$%s -> ", state->stack[j]);
			dstring_append_printf(state->error, "$%s", name);
			return -1;
		}
	}
	if (state->depth >= CONFIG_EXPAND_DEPTH) {
		dstring_printf(state->error, "parameter %s: expansion nested deeper than %d",
			       name, CONFIG_EXPAND_DEPTH);
		return -1;
	}
	if (strcmp(name, "mydomain") == 0 && !config_is_set(name))
		return expand_derived_mydomain(state, out);
	value = config_lookup(name);
	if (value == NULL)
		return 0;
	state->stack[state->depth++] = name;
	status = expand_into(state, value, strlen(value), out);
	state->depth--;
	return status;
}

/* Find the bracket that closes the one at text[0]; -1 when none. */
static long
matching_bracket(const char *text, size_t length)
{
	char open = text[0];
	char close = open == '{' ? '}' : ')';
	unsigned depth = 0;

	for (size_t i = 0; i < length; i++) {
		if (text[i] == open)
			depth++;
		else if (text[i] == close && --depth == 0)
			return (long)i;
	}
	return -1;
}

/* "{ text }" -> "text" (a group); anything else is returned as is. */
static void
strip_braces(const char **text, size_t *length)
{
	const char *start = *text;
	const char *end = *text + *length;

	if (*length >= 2 && start[0] == '{' && matching_bracket(start, *length) == (long)*length - 1) {
		start++;
		end--;
		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
	}
	*text = start;
	*length = (size_t)(end - start);
}

/* Whether $name has a non-empty value after expansion. */
static int
has_value(struct expansion *state, const char *name, bool *result)
{
	struct dstring value;
	int status;

	dstring_init(&value, CONFIG_VALUE_MAX);
	status = expand_name(state, name, &value);
	*result = dstring_length(&value) > 0;
	dstring_fini(&value);
	return status;
}

/*
 * The inside of ${...} or $(...): "name", "name?value", "name:value" or
 * "name?{value}:{value}".
 */
static int
expand_braced(struct expansion *state, const char *inside, size_t length, struct dstring *out)
{
	size_t name_length = 0;
	char name[256];
	const char *rest;
	size_t rest_length;
	bool is_set;

	while (name_length < length && is_name_char(inside[name_length]))
		name_length++;
	if (name_length == 0 || name_length >= sizeof(name)) {
		dstring_printf(state->error, "bad or missing parameter name in \"${%.*s}\"",
			       (int)(length > 80 ? 80 : length), inside);
		return -1;
	}
	memcpy(name, inside, name_length);
	name[name_length] = '\0';
	if (name_length == length)
		return expand_name(state, name, out);

	rest = inside + name_length + 1;
	rest_length = length - name_length - 1;
	if (has_value(state, name, &is_set) != 0)
		return -1;
	if (inside[name_length] == ':') {
		strip_braces(&rest, &rest_length);
		return is_set ? 0 : expand_into(state, rest, rest_length, out);
	}
	if (inside[name_length] != '?') {
		dstring_printf(state->error, "unexpected '%c' after parameter name %s",
			       inside[name_length], name);
		return -1;
	}
	/* ${name?{when set}:{when not set}} */
	if (rest_length > 0 && rest[0] == '{') {
		long close = matching_bracket(rest, rest_length);

		if (close < 0) {
			dstring_printf(state->error, "missing '}' in ${%s?...}", name);
			return -1;
		}
		if ((size_t)close + 1 < rest_length) {
			const char *when_set = rest;
			size_t when_set_length = (size_t)close + 1;
			const char *otherwise = rest + close + 1;
			size_t otherwise_length = rest_length - (size_t)close - 1;

			while (otherwise_length > 0 && isspace((unsigned char)*otherwise)) {
				otherwise++;
				otherwise_length--;
			}
			if (otherwise_length == 0 || otherwise[0] != ':') {
				dstring_printf(state->error,
					       "expected ':' after ${%s?{...} value", name);
				return -1;
			}
			otherwise++;
			otherwise_length--;
			while (otherwise_length > 0 && isspace((unsigned char)*otherwise)) {
				otherwise++;
				otherwise_length--;
			}
			strip_braces(&when_set, &when_set_length);
			strip_braces(&otherwise, &otherwise_length);
			if (is_set)
				return expand_into(state, when_set, when_set_length, out);
			return expand_into(state, otherwise, otherwise_length, out);
		}
	}
	strip_braces(&rest, &rest_length);
	return is_set ? expand_into(state, rest, rest_length, out) : 0;
}

static int
expand_into(struct expansion *state, const char *text, size_t length, struct dstring *out)
{
	size_t i = 0;

	while (i < length) {
		size_t plain = i;

		while (plain < length && text[plain] != '$')
			plain++;
		if (append_checked(state, out, text + i, plain - i) != 0)
			return -1;
		i = plain;
		if (i >= length)
			break;
		/* text[i] is '$' */
		if (i + 1 >= length) {
			dstring_set(state->error, "'$' at the end of a value (write $$ for a '$')");
			return -1;
		}
		if (text[i + 1] == '$') {
			if (append_checked(state, out, "$", 1) != 0)
				return -1;
			i += 2;
		} else if (text[i + 1] == '{' || text[i + 1] == '(') {
			long close = matching_bracket(text + i + 1, length - i - 1);

			if (close < 0) {
				dstring_printf(state->error, "missing '%c' after \"%.*s\"",
					       text[i + 1] == '{' ? '}' : ')',
					       (int)(length - i > 40 ? 40 : length - i), text + i);
				return -1;
			}
			if (expand_braced(state, text + i + 2, (size_t)close - 1, out) != 0)
				return -1;
			i += 2 + (size_t)close;
		} else if (is_name_char(text[i + 1])) {
			char name[256];
			size_t start = i + 1, end = start;

			while (end < length && is_name_char(text[end]))
				end++;
			if (end - start >= sizeof(name)) {
				dstring_set(state->error, "parameter name too long after '$'");
				return -1;
			}
			memcpy(name, text + start, end - start);
			name[end - start] = '\0';
			if (expand_name(state, name, out) != 0)
				return -1;
			i = end;
		} else {
			dstring_printf(state->error,
				       "'$' followed by '%c' (write $$ for a '$', or $name)",
				       text[i + 1]);
			return -1;
		}
	}
	return 0;
}

int
config_expand(const char *text, struct dstring *out, struct dstring *error)
{
	struct expansion state = {.depth = 0, .error = error};

	return expand_into(&state, text, strlen(text), out);
}

