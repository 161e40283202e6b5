/*
 * alias_source - reading the aliases(5) text format (see alias_source.h).
 *
 * Two layers: alias_source_parse_entry turns one logical line into a
 * name and a value with Postfix's RFC 822 tokenizer rules (postalias
 * tokenizes the line, internalizes the name and externalizes the value);
 * struct alias_source joins physical lines into logical lines the way
 * Postfix's readllines() does and reports errors with file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias_source.h"
#include "dstring.h"
#include "log.h"
#include "stream.h"
#include "table.h"
#include "xalloc.h"

/* ---- Tokens ---------------------------------------------------------- */

enum token_kind {
	TOKEN_ATOM,     /* user, /var/log/file */
	TOKEN_QUOTED,   /* "a b" (text without quotes or escapes) */
	TOKEN_COMMENT,  /* (text), kept as written, parentheses included */
	TOKEN_LITERAL,  /* [1.2.3.4] (text without brackets) */
	TOKEN_OPERATOR, /* one character of OPERATOR_CHARACTERS */
};

/* RFC 822's specials, and | % ! as Postfix adds them for aliases. */
static const char OPERATOR_CHARACTERS[] = "|%!()<>@,;:\\\".[]";

struct token {
	enum token_kind kind;
	char symbol;
	struct dstring text;
};

static bool
is_token_blank(unsigned char byte)
{
	return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n';
}

static bool
is_operator(unsigned char byte)
{
	return byte != '\0' && strchr(OPERATOR_CHARACTERS, byte) != NULL;
}

static bool
is_ascii_control(unsigned char byte)
{
	return byte < 0x20 || byte == 0x7f;
}

/*
 * Collect bytes up to the first unescaped stop byte (or, for an atom,
 * blank or operator), undoing backslash escapes; blanks become spaces.
 */
static const char *
collect(const char *cursor, const char *end, int stop, struct dstring *text)
{
	while (cursor < end) {
		unsigned char byte = (unsigned char)*cursor;

		if (byte == '\\') {
			if (++cursor == end)
				break;
			byte = (unsigned char)*cursor;
		} else if (stop >= 0 ? byte == stop : is_token_blank(byte) || is_operator(byte)) {
			break;
		}
		dstring_append_char(text, is_token_blank(byte) ? ' ' : (char)byte);
		cursor++;
	}
	return cursor;
}

/* A comment is kept as written, escapes and nested parentheses included. */
static const char *
collect_comment(const char *cursor, const char *end, struct dstring *text)
{
	unsigned depth = 1;

	dstring_append_char(text, '(');
	while (cursor < end) {
		char byte = *cursor++;

		dstring_append_char(text, byte);
		if (byte == '(') {
			depth++;
		} else if (byte == ')') {
			if (--depth == 0)
				break;
		} else if (byte == '\\') {
			if (cursor == end)
				break;
			dstring_append_char(text, *cursor++);
		}
	}
	return cursor;
}

/* next_token: the token at *cursor; false at the end of the line. */
static bool
next_token(const char **cursor, const char *end, struct token *token)
{
	const char *at = *cursor;
	unsigned char byte;

	while (at < end && is_token_blank((unsigned char)*at))
		at++;
	if (at == end)
		return false;
	dstring_reset(&token->text);
	byte = (unsigned char)*at++;
	if (byte == '(') {
		token->kind = TOKEN_COMMENT;
		at = collect_comment(at, end, &token->text);
	} else if (byte == '[' || byte == '"') {
		token->kind = byte == '[' ? TOKEN_LITERAL : TOKEN_QUOTED;
		at = collect(at, end, byte == '[' ? ']' : '"', &token->text);
		if (at < end)
			at++; /* the closing bracket or quote */
	} else if (byte != '\\' && is_operator(byte)) {
		token->kind = TOKEN_OPERATOR;
		token->symbol = (char)byte;
	} else {
		token->kind = TOKEN_ATOM;
		at = collect(at - 1, end, -1, &token->text);
		/* An atom that holds what an atom may not is written quoted. */
		for (size_t i = 0; i < dstring_length(&token->text); i++) {
			unsigned char inside = (unsigned char)dstring_str(&token->text)[i];

			if (inside == ' ' || is_ascii_control(inside) || is_operator(inside)) {
				token->kind = TOKEN_QUOTED;
				break;
			}
		}
	}
	*cursor = at;
	return true;
}

/* Whether Postfix writes a space between token kinds previous and next. */
static bool
needs_space(const struct token *previous, const struct token *next)
{
	if (previous->kind == TOKEN_OPERATOR && previous->symbol == ',')
		return true;
	if (next->kind == TOKEN_OPERATOR && next->symbol == '<')
		return true;
	return previous->kind != TOKEN_OPERATOR && next->kind != TOKEN_OPERATOR;
}

static void
append_escaped(struct dstring *out, const struct dstring *text, const char *special)
{
	for (size_t i = 0; i < dstring_length(text); i++) {
		char byte = dstring_str(text)[i];

		if (strchr(special, byte) != NULL)
			dstring_append_char(out, '\\');
		dstring_append_char(out, byte);
	}
}

/* The token without quoting, as Postfix writes an alias name. */
static void
append_internal(struct dstring *out, const struct token *token)
{
	switch (token->kind) {
	case TOKEN_OPERATOR:
		dstring_append_char(out, token->symbol);
		break;
	case TOKEN_LITERAL:
		dstring_append_char(out, '[');
		dstring_append(out, dstring_str(&token->text), dstring_length(&token->text));
		dstring_append_char(out, ']');
		break;
	default:
		dstring_append(out, dstring_str(&token->text), dstring_length(&token->text));
		break;
	}
}

/* The token quoted again, as Postfix writes an alias value. */
static void
append_external(struct dstring *out, const struct token *token)
{
	switch (token->kind) {
	case TOKEN_QUOTED:
		dstring_append_char(out, '"');
		append_escaped(out, &token->text, "\"\\\r\n");
		dstring_append_char(out, '"');
		break;
	case TOKEN_LITERAL:
		dstring_append_char(out, '[');
		append_escaped(out, &token->text, "\\\r\n");
		dstring_append_char(out, ']');
		break;
	default:
		append_internal(out, token);
		break;
	}
}

static bool
is_operator_token(const struct token *token, char symbol)
{
	return token->kind == TOKEN_OPERATOR && token->symbol == symbol;
}

int
alias_source_parse_entry(const char *line, size_t length, unsigned flags, struct dstring *name,
                         struct dstring *value, struct dstring *error)
{
	const char *cursor = line, *end = line + length;
	struct token tokens[2], *token, *previous = NULL;
	size_t name_tokens = 0, value_tokens = 0, current = 0;
	bool in_value = false, has_comma = false, is_remote = false;
	int status = -1;

	dstring_reset(name);
	dstring_reset(value);
	if (memchr(line, '\0', length) != NULL) {
		dstring_set(error, "NUL byte in line");
		return -1;
	}
	dstring_init(&tokens[0].text, ALIAS_LINE_MAX);
	dstring_init(&tokens[1].text, ALIAS_LINE_MAX);
	/* Two token buffers: the current one and the one before it. */
	for (token = &tokens[current]; next_token(&cursor, end, token);
	     current ^= 1, token = &tokens[current]) {
		if (!in_value && is_operator_token(token, ':')) {
			in_value = true;
			previous = NULL;
			continue;
		}
		if (previous != NULL && needs_space(previous, token))
			dstring_append_char(in_value ? value : name, ' ');
		if (in_value) {
			append_external(value, token);
			value_tokens++;
		} else {
			append_internal(name, token);
			name_tokens++;
			has_comma |= is_operator_token(token, ',');
			is_remote |= is_operator_token(token, '@') || is_operator_token(token, '%');
		}
		previous = token;
	}
	if (!in_value)
		dstring_set(error, "need name:value pair (no ':' after the name)");
	else if (name_tokens == 0)
		dstring_set(error, "need name:value pair (no name before ':')");
	else if (value_tokens == 0)
		dstring_set(error, "need name:value pair (no value after ':')");
	else if (has_comma)
		dstring_set(error, "need name:value pair (',' in the name)");
	else if (is_remote)
		dstring_set(error, "name must be local (no '@' or '%')");
	else if (name->has_overflowed || dstring_length(name) > TABLE_KEY_MAX)
		dstring_printf(error, "name longer than %d bytes", TABLE_KEY_MAX);
	else if (dstring_length(name) == 0)
		dstring_set(error, "empty name");
	else if (value->has_overflowed || dstring_length(value) > TABLE_VALUE_MAX)
		dstring_printf(error, "value longer than %d bytes", TABLE_VALUE_MAX);
	else if (dstring_length(value) == 0)
		dstring_set(error, "empty value"); /* a lone backslash */
	else
		status = 0;
	if (status == 0 && !(flags & ALIAS_SOURCE_KEEP_CASE))
		for (size_t i = 0; i < dstring_length(name); i++)
			name->data[i] = (char)tolower((unsigned char)name->data[i]);
	dstring_fini(&tokens[0].text);
	dstring_fini(&tokens[1].text);
	return status;
}

/* ---- Logical lines ---------------------------------------------------- */

struct alias_source {
	char *path;
	unsigned flags;
	alias_source_visit visit;
	void *context;
	unsigned line_number;   /* physical lines seen */
	unsigned logical_start; /* first line of the pending logical line; 0: none */
	bool is_orphan;         /* it started with white space */
	struct dstring logical;
	struct dstring name, value, reason;
	unsigned errors;
	struct dstring first_error;
};

struct alias_source *
alias_source_new(const char *path, unsigned flags, alias_source_visit visit, void *context)
{
	struct alias_source *source = xcalloc(1, sizeof(*source));

	source->path = xstrdup(path);
	source->flags = flags;
	source->visit = visit;
	source->context = context;
	dstring_init(&source->logical, ALIAS_LINE_MAX);
	dstring_init(&source->name, TABLE_KEY_MAX);
	dstring_init(&source->value, TABLE_VALUE_MAX);
	dstring_init(&source->reason, DSTRING_NO_LIMIT);
	dstring_init(&source->first_error, DSTRING_NO_LIMIT);
	return source;
}

void
alias_source_free(struct alias_source *source)
{
	if (source == NULL)
		return;
	dstring_fini(&source->logical);
	dstring_fini(&source->name);
	dstring_fini(&source->value);
	dstring_fini(&source->reason);
	dstring_fini(&source->first_error);
	free(source->path);
	free(source);
}

static void
report(struct alias_source *source, unsigned line, const char *reason)
{
	source->errors++;
	if (source->errors == 1)
		dstring_printf(&source->first_error, "%s, line %u: %s", source->path, line, reason);
	if (source->errors <= ALIAS_ERRORS_LOGGED)
		log_error("%s, line %u: %s", source->path, line, reason);
	else if (source->errors == ALIAS_ERRORS_LOGGED + 1)
		log_error("%s: more errors follow; not all are shown", source->path);
}

/* Hand the pending logical line on, or report what is wrong with it. */
static int
flush_logical(struct alias_source *source)
{
	unsigned start = source->logical_start;
	int status = 0;

	if (start == 0)
		return 0;
	if (source->logical.has_overflowed) {
		dstring_printf(&source->reason, "line longer than %d bytes", ALIAS_LINE_MAX);
		report(source, start, dstring_str(&source->reason));
	} else if (source->is_orphan) {
		report(source, start,
		       "a continuation line (starting with white space) "
		       "with no line before it to continue");
	} else if (alias_source_parse_entry(dstring_str(&source->logical),
	                                    dstring_length(&source->logical), source->flags,
	                                    &source->name, &source->value, &source->reason) != 0) {
		report(source, start, dstring_str(&source->reason));
	} else {
		status = source->visit(dstring_str(&source->name), dstring_str(&source->value),
		                       start, source->context);
	}
	source->logical_start = 0;
	source->is_orphan = false;
	dstring_reset(&source->logical);
	return status;
}

int
alias_source_add_line(struct alias_source *source, const char *line, size_t length)
{
	size_t first = 0;
	int status = 0;

	if (source->line_number < UINT_MAX)
		source->line_number++;
	/* Blank lines and comment lines are skipped; they end nothing. */
	while (first < length && isspace((unsigned char)line[first]))
		first++;
	if (first == length || line[first] == '#')
		return 0;
	if (first == 0) {
		status = flush_logical(source);
		source->logical_start = source->line_number;
	} else if (source->logical_start == 0) {
		source->logical_start = source->line_number;
		source->is_orphan = true;
	}
	if (!source->is_orphan)
		dstring_append(&source->logical, line, length);
	return status;
}

int
alias_source_finish(struct alias_source *source)
{
	return flush_logical(source);
}

unsigned
alias_source_error_count(const struct alias_source *source)
{
	return source->errors;
}

const char *
alias_source_first_error(const struct alias_source *source)
{
	return dstring_str(&source->first_error);
}

/* The common end of the readers: the result and the first error. */
static int
source_result(struct alias_source *source, int status, struct dstring *first_error)
{
	int result = status != 0 ? -1 : (int)(source->errors > INT_MAX ? INT_MAX : source->errors);

	if (first_error != NULL)
		dstring_set(first_error, alias_source_first_error(source));
	alias_source_free(source);
	return result;
}

int
alias_source_parse_text(const char *text, size_t size, const char *path, unsigned flags,
                        alias_source_visit visit, void *context, struct dstring *first_error)
{
	struct alias_source *source = alias_source_new(path, flags, visit, context);
	const char *cursor = text, *end = text + size;
	int status = 0;

	while (status == 0 && cursor < end) {
		const char *newline = memchr(cursor, '\n', (size_t)(end - cursor));
		const char *line_end = newline != NULL ? newline : end;

		status = alias_source_add_line(source, cursor, (size_t)(line_end - cursor));
		cursor = newline != NULL ? newline + 1 : end;
	}
	if (status == 0)
		status = alias_source_finish(source);
	return source_result(source, status, first_error);
}

int
alias_source_read_stream(struct stream *stream, const char *path, unsigned flags,
                         alias_source_visit visit, void *context, struct dstring *first_error)
{
	struct alias_source *source = alias_source_new(path, flags, visit, context);
	struct dstring line;
	int status = 0;

	/* Room for one byte past the limit: such a line is then an error. */
	dstring_init(&line, ALIAS_LINE_MAX + 2);
	while (status == 0) {
		enum stream_status read_status;
		size_t length;

		dstring_reset(&line);
		read_status = stream_gets(stream, &line, ALIAS_LINE_MAX + 1);
		if (read_status == STREAM_EOF)
			break;
		if (read_status != STREAM_OK && read_status != STREAM_PARTIAL) {
			log_error("read %s: %s", path,
			          read_status == STREAM_TIMEOUT ? "timeout" : strerror(errno));
			dstring_fini(&line);
			source_result(source, 0, first_error);
			return -2;
		}
		length = dstring_length(&line);
		if (read_status == STREAM_OK)
			length--; /* the newline */
		status = alias_source_add_line(source, dstring_str(&line), length);
		if (read_status == STREAM_PARTIAL && length > ALIAS_LINE_MAX) {
			/* The rest of an overlong line; counted as one line already. */
			enum stream_status skip_status = stream_skip_line(stream);

			if (skip_status == STREAM_EOF)
				break;
			if (skip_status != STREAM_OK) {
				log_error("read %s: %s", path, strerror(errno));
				dstring_fini(&line);
				source_result(source, 0, first_error);
				return -2;
			}
		}
	}
	dstring_fini(&line);
	if (status == 0)
		status = alias_source_finish(source);
	return source_result(source, status, first_error);
}

int
alias_source_read_file(const char *path, unsigned flags, alias_source_visit visit, void *context,
                       struct dstring *first_error)
{
	struct stream *stream;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int result;

	if (fd < 0) {
		log_error("open %s: %s", path, strerror(errno));
		if (first_error != NULL)
			dstring_printf(first_error, "open %s: %s", path, strerror(errno));
		return -2;
	}
	stream = stream_open(fd);
	result = alias_source_read_stream(stream, path, flags, visit, context, first_error);
	stream_close(stream);
	return result;
}
