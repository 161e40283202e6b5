/*
 * address - address lists and address forms (address.h).
 *
 * address_list_parse works in two steps: a tokenizer that turns the text
 * into atoms, quoted strings, domain literals, comments and specials,
 * remembering each token's byte range; then a pass over the tokens that
 * splits them into list elements at top-level ',' and ';' (':' after a
 * group name starts a group) and takes from each element its angle
 * address (the tokens in <>, minus an obsolete route) or, without one,
 * all its tokens but comments.
 */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dstring.h"
#include "xalloc.h"

enum token_type {
	TOKEN_ATOM,
	TOKEN_QUOTED,  /* "..." */
	TOKEN_LITERAL, /* [...] */
	TOKEN_COMMENT, /* (...) */
	TOKEN_SPECIAL, /* one of <>@,;:. and other specials */
};

struct token {
	enum token_type type;
	char special;
	size_t start, end;
};

static bool
is_special(unsigned char c)
{
	return strchr("()<>@,;:\\\".[]", c) != NULL && c != '\0';
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
tokenize(const char *text, size_t length, size_t limit, struct token **tokens, size_t *count,
         struct dstring *error)
{
	size_t i = 0, capacity = 0;

	*tokens = NULL;
	*count = 0;
	while (i < length) {
		unsigned char c = (unsigned char)text[i];
		struct token token = {.start = i};

		if (is_space(c)) {
			i++;
			continue;
		}
		if (*count >= limit) {
			dstring_printf(error, "more than %zu address tokens", limit);
			return -1;
		}
		if (c == '"') {
			token.type = TOKEN_QUOTED;
			for (i++; i < length && text[i] != '"'; i++)
				if (text[i] == '\\' && i + 1 < length)
					i++;
			if (i >= length) {
				dstring_set(error, "unterminated quoted string");
				return -1;
			}
			i++;
		} else if (c == '(') {
			int depth = 1;

			token.type = TOKEN_COMMENT;
			for (i++; i < length && depth > 0; i++) {
				if (text[i] == '\\' && i + 1 < length)
					i++;
				else if (text[i] == '(')
					depth++;
				else if (text[i] == ')')
					depth--;
			}
			if (depth > 0) {
				dstring_set(error, "unterminated comment");
				return -1;
			}
		} else if (c == '[') {
			token.type = TOKEN_LITERAL;
			for (i++; i < length && text[i] != ']'; i++)
				if (text[i] == '\\' && i + 1 < length)
					i++;
			if (i >= length) {
				dstring_set(error, "unterminated domain literal");
				return -1;
			}
			i++;
		} else if (is_special(c)) {
			token.type = TOKEN_SPECIAL;
			token.special = (char)c;
			i++;
		} else {
			token.type = TOKEN_ATOM;
			while (i < length && !is_space((unsigned char)text[i]) &&
			       !is_special((unsigned char)text[i]))
				i++;
		}
		token.end = i;
		if (*count == capacity) {
			capacity = capacity ? 2 * capacity : 16;
			*tokens = xreallocarray(*tokens, capacity, sizeof(**tokens));
		}
		(*tokens)[(*count)++] = token;
	}
	return 0;
}

/* Append the internal form of tokens [first, last) (no comments) to out. */
static void
internal_form(const char *text, const struct token *tokens, size_t first, size_t last,
              struct dstring *out)
{
	for (size_t i = first; i < last; i++) {
		const struct token *token = &tokens[i];

		if (token->type == TOKEN_COMMENT)
			continue;
		if (token->type == TOKEN_QUOTED) {
			for (size_t j = token->start + 1; j + 1 < token->end; j++) {
				if (text[j] == '\\' && j + 2 < token->end)
					j++;
				dstring_append_char(out, text[j]);
			}
		} else {
			dstring_append(out, text + token->start, token->end - token->start);
		}
	}
}

static void
add_span(const char *text, const struct token *tokens, size_t first, size_t last,
         struct address_list *list)
{
	struct dstring address;
	struct address_span *span;

	/* Trim comments at either end: they are not part of the address. */
	while (first < last && tokens[first].type == TOKEN_COMMENT)
		first++;
	while (last > first && tokens[last - 1].type == TOKEN_COMMENT)
		last--;
	if (first >= last)
		return;
	dstring_init(&address, DSTRING_NO_LIMIT);
	internal_form(text, tokens, first, last, &address);
	if (address.length == 0) {
		dstring_fini(&address);
		return;
	}
	list->spans = xreallocarray(list->spans, list->count + 1, sizeof(*list->spans));
	span = &list->spans[list->count++];
	span->start = tokens[first].start;
	span->end = tokens[last - 1].end;
	span->address = dstring_steal(&address);
	dstring_fini(&address);
}

/* One list element, tokens [first, last): its angle address or itself. */
static void
parse_element(const char *text, const struct token *tokens, size_t first, size_t last,
              struct address_list *list)
{
	size_t open = last, close = last;

	for (size_t i = first; i < last; i++) {
		if (tokens[i].type == TOKEN_SPECIAL && tokens[i].special == '<' && open == last)
			open = i;
		else if (tokens[i].type == TOKEN_SPECIAL && tokens[i].special == '>' &&
		         open != last) {
			close = i;
			break;
		}
	}
	if (open != last) {
		size_t start = open + 1;

		/* Obsolete route "@a,@b:": skip through the last ':' before '>'. */
		for (size_t i = start; i < close; i++)
			if (tokens[i].type == TOKEN_SPECIAL && tokens[i].special == ':' &&
			    tokens[start].type == TOKEN_SPECIAL && tokens[start].special == '@')
				start = i + 1;
		add_span(text, tokens, start, close, list);
		return;
	}
	add_span(text, tokens, first, last, list);
}

int
address_list_parse(const char *text, size_t length, size_t token_limit, struct address_list *list,
                   struct dstring *error)
{
	struct token *tokens;
	size_t count, first = 0;
	int angle_depth = 0;

	list->spans = NULL;
	list->count = 0;
	if (tokenize(text, length, token_limit, &tokens, &count, error) < 0) {
		free(tokens);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		char special = tokens[i].type == TOKEN_SPECIAL ? tokens[i].special : 0;

		if (special == '<')
			angle_depth++;
		else if (special == '>' && angle_depth > 0)
			angle_depth--;
		if (angle_depth > 0)
			continue;
		if (special == ',' || special == ';') {
			parse_element(text, tokens, first, i, list);
			first = i + 1;
		} else if (special == ':') {
			/* A group name ends here: what came before is not an address. */
			first = i + 1;
		}
	}
	parse_element(text, tokens, first, count, list);
	free(tokens);
	return 0;
}

void
address_list_fini(struct address_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->spans[i].address);
	free(list->spans);
	list->spans = NULL;
	list->count = 0;
}

static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true; /* RFC 6532 */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

bool
address_local_needs_quoting(const char *local, size_t length)
{
	bool was_dot = true;

	if (length == 0)
		return true;
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c == '.') {
			if (was_dot)
				return true;
			was_dot = true;
		} else if (is_atext(c)) {
			was_dot = false;
		} else {
			return true;
		}
	}
	return was_dot;
}

const char *
address_domain(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : NULL;
}

void
address_externalize(const char *address, struct dstring *out)
{
	const char *at = strrchr(address, '@');
	size_t local_length = at ? (size_t)(at - address) : strlen(address);

	if (local_length > 0 && address_local_needs_quoting(address, local_length)) {
		dstring_append_char(out, '"');
		for (size_t i = 0; i < local_length; i++) {
			if (address[i] == '"' || address[i] == '\\')
				dstring_append_char(out, '\\');
			dstring_append_char(out, address[i]);
		}
		dstring_append_char(out, '"');
	} else {
		dstring_append(out, address, local_length);
	}
	if (at != NULL)
		dstring_append_str(out, at);
}

int
address_internalize(const char *text, size_t length, struct dstring *out)
{
	bool is_quoted = false;
	size_t i;

	for (i = 0; i < length; i++) {
		char c = text[i];

		if (c == '\\' && i + 1 < length) {
			dstring_append_char(out, text[++i]);
		} else if (c == '"') {
			is_quoted = !is_quoted;
		} else if (c == '@' && !is_quoted) {
			/* The rest is the domain, taken as is. */
			dstring_append(out, text + i, length - i);
			return 0;
		} else {
			dstring_append_char(out, c);
		}
	}
	return is_quoted ? -1 : 0;
}

void
address_phrase(const char *name, struct dstring *out)
{
	bool needs_quotes = false;

	for (const char *p = name; *p != '\0'; p++)
		if (!is_atext((unsigned char)*p) && *p != ' ')
			needs_quotes = true;
	if (!needs_quotes) {
		dstring_append_str(out, name);
		return;
	}
	dstring_append_char(out, '"');
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			dstring_append_char(out, '\\');
		if (*p == '\r' || *p == '\n')
			continue;
		dstring_append_char(out, *p);
	}
	dstring_append_char(out, '"');
}
