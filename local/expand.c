/*
 * expand - $name expansion of the local delivery agent's own variables
 * ($user, $home, $extension, $recipient_delimiter, ...), for forward_path,
 * luser_relay and command_execution_directory, in Postfix's forms:
 * $name, ${name}, $(name), ${name?text} (text when name is not empty),
 * ${name:text} (text when name is empty) and $$. text may itself hold
 * $name (one level deep); unknown names are empty.
 */
#include <ctype.h>
#include <string.h>

#include "local.h"

static const char *
variable_value(const struct local_variable *variables, size_t count, const char *name,
               size_t length)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(variables[i].name) == length &&
		    strncmp(variables[i].name, name, length) == 0)
			return variables[i].value ? variables[i].value : "";
	return "";
}

static int expand_text(const char *text, size_t length, const struct local_variable *variables,
                       size_t count, int depth, struct dstring *out, struct dstring *error);

static int
expand_text(const char *text, size_t length, const struct local_variable *variables, size_t count,
            int depth, struct dstring *out, struct dstring *error)
{
	for (size_t i = 0; i < length; i++) {
		size_t name_start, name_end, close;
		char open, closing;
		const char *value;

		if (text[i] != '$') {
			dstring_append_char(out, text[i]);
			continue;
		}
		if (i + 1 < length && text[i + 1] == '$') {
			dstring_append_char(out, '$');
			i++;
			continue;
		}
		if (i + 1 < length && (text[i + 1] == '{' || text[i + 1] == '(')) {
			open = text[i + 1];
			closing = open == '{' ? '}' : ')';
			name_start = i + 2;
			name_end = name_start;
			while (name_end < length &&
			       (isalnum((unsigned char)text[name_end]) || text[name_end] == '_'))
				name_end++;
			/* Find the matching close, allowing nesting in the text part. */
			close = name_end;
			for (int level = 0; close < length; close++) {
				if (text[close] == open)
					level++;
				else if (text[close] == closing && level-- == 0)
					break;
			}
			if (close >= length || name_end == name_start) {
				dstring_printf(error, "bad $ expression in \"%.*s\"", (int)length,
				               text);
				return -1;
			}
			value = variable_value(variables, count, text + name_start,
			                       name_end - name_start);
			if (name_end == close) {
				dstring_append_str(out, value);
			} else if (text[name_end] == '?' || text[name_end] == ':') {
				bool wants_value = text[name_end] == '?';

				if (depth > 5) {
					dstring_printf(error, "$ expressions nested too deeply");
					return -1;
				}
				if ((*value != '\0') == wants_value &&
				    expand_text(text + name_end + 1, close - name_end - 1,
				                variables, count, depth + 1, out, error) < 0)
					return -1;
			} else {
				dstring_printf(error, "bad $ expression in \"%.*s\"", (int)length,
				               text);
				return -1;
			}
			i = close;
			continue;
		}
		name_start = i + 1;
		name_end = name_start;
		while (name_end < length &&
		       (isalnum((unsigned char)text[name_end]) || text[name_end] == '_'))
			name_end++;
		if (name_end == name_start) {
			dstring_printf(error, "bad $ expression in \"%.*s\"", (int)length, text);
			return -1;
		}
		dstring_append_str(out, variable_value(variables, count, text + name_start,
		                                       name_end - name_start));
		i = name_end - 1;
	}
	return 0;
}

int
local_expand(const char *text, const struct local_variable *variables, size_t count,
             struct dstring *out, struct dstring *error)
{
	return expand_text(text, strlen(text), variables, count, 0, out, error);
}
