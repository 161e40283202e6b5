/*
 * table_regexp - "regexp:/path": Postfix's POSIX regular expression
 * tables (regexp_table(5)), on the C library's regcomp/regexec.
 *
 * Syntax, as Postfix 3.7 (checked against its postmap): the pcre: syntax
 * (see table_pcre.c and table_rules.h), plus the old two-pattern form
 *   /pattern1/flags!/pattern2/flags result
 * which applies when pattern1 matches and pattern2 does not (each pattern
 * may carry its own "!"). Flags toggle from the default, extended syntax
 * and case-insensitive: i (REG_ICASE), x (REG_EXTENDED: off gives basic
 * syntax), m (REG_NEWLINE). Results take $1..$99 from pattern1, as pcre.
 *
 * Limits Postfix does not have, because regexec cannot be bounded while
 * it runs (the C library offers no match limit):
 * - back-references (\1 .. \9) are refused: with them the C library's
 *   matcher takes time exponential in the key (seconds for a 200-byte
 *   key); use pcre:, whose matching is bounded, for such patterns;
 * - so are repetition counts above 255 (POSIX's RE_DUP_MAX), patterns of
 *   more than TABLE_REGEXP_SIZE_MAX elements (atoms and "*+?" operators,
 *   with "{m,n}" and "+" written out as the C library does), groups
 *   repeated by "{m,n}" to more than TABLE_REGEXP_GROUP_SIZE_MAX, and
 *   repetitions nested more than TABLE_REGEXP_NESTING_MAX deep: the C
 *   library's time to compile and to match grows with the square of these
 *   sizes or worse (measured with glibc 2.36 on a 4 KiB key: 1,000
 *   elements take 0.1 s at worst, 8,000 a minute; 160 nested stars, 16 s).
 * Such a pattern is an error in the file, like one that does not compile.
 *
 * What it trusts: the C library's regex code, within the limits above.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_rules.h"
#include "xalloc.h"

/* The largest pattern, counted with {m,n} written out. */
#define TABLE_REGEXP_SIZE_MAX 1000
/* The largest group repeated with {m,n}, counted written out. */
#define TABLE_REGEXP_GROUP_SIZE_MAX 200
/* The largest count in {m,n}. */
#define TABLE_REGEXP_REPEAT_MAX 255
/* The deepest nesting of repetitions: "((a*)*)*" and "a***" are 3 deep. */
#define TABLE_REGEXP_NESTING_MAX 20

#define TOO_LARGE                                                                                  \
	"pattern too large for a regexp table (more than %d elements, repetitions "                \
	"written out): use pcre"

struct regexp_pattern {
	regex_t first;
	bool has_second;
	bool is_second_negated;
	regex_t second;
};

/*
 * The cost of a pattern as the C library sees it, measured while walking
 * it (see check_cost). Per open group: its size so far, and how deeply
 * repetition operators nest in it.
 */
enum { COST_STACK_MAX = 256 };

struct cost_walk {
	unsigned long sizes[COST_STACK_MAX];
	unsigned nestings[COST_STACK_MAX];
	unsigned depth;        /* the open groups */
	unsigned long last;    /* the size of the item just before, 0 for none */
	unsigned last_nesting; /* how deeply repetitions nest in that item */
	bool is_last_group;
};

/* An atom (a character, ".", a bracket expression): size 1. */
static void
walk_atom(struct cost_walk *walk)
{
	walk->sizes[walk->depth] += 1;
	walk->last = 1;
	walk->last_nesting = 0;
	walk->is_last_group = false;
}

/*
 * A repetition of the item before: "*", "?" (factor 1), "+" (factor 2:
 * the C library writes "x+" as "xx*"), or {m,n} (factor max(m, n)).
 * Returns -1 with a reason in error when a limit is passed.
 */
static int
walk_repeat(struct cost_walk *walk, unsigned long factor, bool is_interval, struct dstring *error)
{
	if (is_interval && walk->is_last_group &&
	    walk->last * factor > TABLE_REGEXP_GROUP_SIZE_MAX) {
		dstring_printf(error, "group repeated to more than %d elements",
		               TABLE_REGEXP_GROUP_SIZE_MAX);
		return -1;
	}
	if (++walk->last_nesting > TABLE_REGEXP_NESTING_MAX) {
		dstring_printf(error, "repetitions nested more than %d deep",
		               TABLE_REGEXP_NESTING_MAX);
		return -1;
	}
	if (walk->last_nesting > walk->nestings[walk->depth])
		walk->nestings[walk->depth] = walk->last_nesting;
	/* "*", "?" and "+" count 1; the item already counts once. */
	walk->sizes[walk->depth] += (is_interval ? 0 : 1) + walk->last * (factor - 1);
	walk->last *= factor;
	return 0;
}

/* Parse the counts of {m,n} (or \{m,n\}) at *cursor, past the brace. */
static unsigned long
interval_factor(const char **cursor, struct dstring *error)
{
	unsigned long counts[2] = {0, 0}, factor;
	unsigned which = 0;
	bool has_upper = false;
	const char *text = *cursor;

	for (; *text != '\0'; text++) {
		if (*text >= '0' && *text <= '9') {
			/* Saturate: past the maximum is an error anyway. */
			if (counts[which] <= TABLE_REGEXP_REPEAT_MAX)
				counts[which] = counts[which] * 10 + (unsigned long)(*text - '0');
			has_upper = has_upper || which == 1;
		} else if (*text == ',' && which == 0) {
			which = 1;
		} else {
			break;
		}
	}
	if (*text == '\\')
		text++;
	if (*text == '}')
		text++;
	*cursor = text;
	if (counts[0] > TABLE_REGEXP_REPEAT_MAX || counts[1] > TABLE_REGEXP_REPEAT_MAX) {
		dstring_printf(error, "repetition count above %d", TABLE_REGEXP_REPEAT_MAX);
		return 0;
	}
	factor = counts[0] > counts[1] ? counts[0] : counts[1];
	if (which == 1 && !has_upper)
		factor = counts[0] + 1; /* {m,}: m copies and a star */
	return factor == 0 ? 1 : factor;
}

/* Skip a bracket expression at text ("[" ...): no escapes inside. */
static const char *
skip_bracket(const char *text)
{
	text++;
	if (*text == '^')
		text++;
	if (*text == ']')
		text++;
	while (*text != '\0' && *text != ']') {
		if (*text == '[' && (text[1] == ':' || text[1] == '=' || text[1] == '.')) {
			char kind = text[1];
			const char *end = text + 2;

			while (*end != '\0' && !(end[0] == kind && end[1] == ']'))
				end++;
			text = *end != '\0' ? end + 2 : end;
		} else {
			text++;
		}
	}
	return *text == ']' ? text + 1 : text;
}

/*
 * Check what the C library cannot compile and match in bounded time (see
 * the file comment): returns 0, or -1 with a reason in error. The walk
 * follows POSIX syntax, basic (with GNU's \+ \? \|) or extended, closely
 * enough to bound the size: an atom counts 1, a group the sum of its
 * inside, and repetitions multiply the item before them (walk_repeat).
 */
static int
check_cost(const char *pattern, bool is_extended, struct dstring *error)
{
	struct cost_walk walk;
	const char *text = pattern;

	memset(&walk, 0, sizeof(walk));
	while (*text != '\0') {
		bool is_escaped = text[0] == '\\' && text[1] != '\0';
		char byte = is_escaped ? text[1] : text[0];
		/* In basic syntax the operators are the escaped forms (but "*"). */
		bool is_operator = is_escaped != is_extended;

		if (!is_escaped && byte == '[') {
			text = skip_bracket(text);
			walk_atom(&walk);
			continue;
		}
		text += is_escaped ? 2 : 1;
		if (is_escaped && byte >= '1' && byte <= '9') {
			dstring_printf(error,
			               "back-reference \"\\%c\" is not supported in regexp "
			               "tables (use pcre)",
			               byte);
			return -1;
		}
		if (is_operator && byte == '(') {
			if (walk.depth + 1 >= COST_STACK_MAX) {
				dstring_printf(error, "groups nested more than %d deep",
				               COST_STACK_MAX - 1);
				return -1;
			}
			walk.depth++;
			walk.sizes[walk.depth] = 0;
			walk.nestings[walk.depth] = 0;
			walk.last = 0;
			walk.last_nesting = 0;
			walk.is_last_group = false;
		} else if (is_operator && byte == ')' && walk.depth > 0) {
			walk.last = walk.sizes[walk.depth];
			walk.last_nesting = walk.nestings[walk.depth];
			walk.depth--;
			walk.sizes[walk.depth] += walk.last;
			if (walk.last_nesting > walk.nestings[walk.depth])
				walk.nestings[walk.depth] = walk.last_nesting;
			walk.is_last_group = true;
		} else if (is_operator && byte == '{' &&
		           (!is_extended || (*text >= '0' && *text <= '9') || *text == ',')) {
			unsigned long factor = interval_factor(&text, error);

			if (factor == 0 || walk_repeat(&walk, factor, true, error) < 0)
				return -1;
		} else if ((byte == '*' && !is_escaped) ||
		           (is_operator && (byte == '+' || byte == '?'))) {
			if (walk_repeat(&walk, byte == '+' ? 2 : 1, false, error) < 0)
				return -1;
		} else if (is_operator && byte == '|') {
			walk.last = 0;
			walk.last_nesting = 0;
			walk.is_last_group = false;
		} else {
			walk_atom(&walk);
		}
		if (walk.sizes[walk.depth] > TABLE_REGEXP_SIZE_MAX) {
			dstring_printf(error, TOO_LARGE, TABLE_REGEXP_SIZE_MAX);
			return -1;
		}
	}
	/* Groups left open count toward the whole. */
	for (unsigned level = walk.depth; level > 0; level--)
		walk.sizes[level - 1] += walk.sizes[level];
	if (walk.sizes[0] > TABLE_REGEXP_SIZE_MAX) {
		dstring_printf(error, TOO_LARGE, TABLE_REGEXP_SIZE_MAX);
		return -1;
	}
	return 0;
}

/*
 * Parse "[!]/pattern/flags" at *cursor: the pattern is NUL-terminated in
 * place, *options are the regcomp flags. The flags end at white space or
 * at the "!" of a second pattern. Returns 0, or -1 with a reason in error.
 */
static int
take_pattern(char **cursor, char **pattern, bool *is_negated, int *options, struct dstring *error)
{
	char *text;

	*options = REG_EXTENDED | REG_ICASE;
	if (table_rules_take_delimited(cursor, pattern, is_negated, error) < 0)
		return -1;
	for (text = *cursor;
	     *text != '\0' && *text != '!' && !table_rules_is_space((unsigned char)*text); text++) {
		switch (*text) {
		case 'i':
			*options ^= REG_ICASE;
			break;
		case 'm':
			*options ^= REG_NEWLINE;
			break;
		case 'x':
			*options ^= REG_EXTENDED;
			break;
		default:
			if ((unsigned char)*text >= 0x20 && (unsigned char)*text < 0x7f)
				dstring_printf(error, "unknown regexp option \"%c\"", *text);
			else
				dstring_printf(error, "unknown regexp option \"\\x%02x\"",
				               (unsigned char)*text);
			return -1;
		}
	}
	*cursor = text;
	return 0;
}

/*
 * Compile pattern into expression (REG_NOSUB added when wants_groups is
 * false). Returns 0, or -1 with a reason in error.
 */
static int
compile(const char *pattern, int options, bool wants_groups, regex_t *expression,
        struct dstring *error)
{
	int status;

	if (check_cost(pattern, (options & REG_EXTENDED) != 0, error) < 0)
		return -1;
	if (!wants_groups)
		options |= REG_NOSUB;
	if ((status = regcomp(expression, pattern, options)) != 0) {
		char message[256];

		regerror(status, expression, message, sizeof(message));
		dstring_set(error, message);
		/* A failed regcomp has freed what it took; no regfree. */
		return -1;
	}
	return 0;
}

static void
regexp_free_pattern(void *opaque)
{
	struct regexp_pattern *pattern = opaque;

	regfree(&pattern->first);
	if (pattern->has_second)
		regfree(&pattern->second);
	free(pattern);
}

static enum table_rules_parse
regexp_parse(struct table_rules *rules, char *line, struct table_rule *rule, struct dstring *error)
{
	unsigned line_number = rule->line_number;
	struct regexp_pattern *pattern;
	char *text, *first, *second = NULL;
	int first_options, second_options = 0;

	if ((text = table_rules_keyword(line, "if")) != NULL) {
		text = table_rules_skip_space(text);
		rule->op = TABLE_RULE_IF;
		pattern = xcalloc(1, sizeof(*pattern));
		if (take_pattern(&text, &first, &rule->is_negated, &first_options, error) < 0 ||
		    compile(first, first_options, false, &pattern->first, error) < 0) {
			free(pattern);
			rule->is_broken = true;
			return TABLE_RULES_PARSED;
		}
		rule->pattern = pattern;
		table_rules_end_if(rules, line_number, text);
		return TABLE_RULES_PARSED;
	}
	if (table_rules_parse_endif(rules, line, rule))
		return TABLE_RULES_PARSED;
	if (table_rules_is_unknown_keyword(line, error))
		return TABLE_RULES_SKIPPED;

	rule->op = TABLE_RULE_MATCH;
	text = line;
	pattern = xcalloc(1, sizeof(*pattern));
	if (take_pattern(&text, &first, &rule->is_negated, &first_options, error) < 0)
		goto skip;
	if (*text == '!') {
		if (take_pattern(&text, &second, &pattern->is_second_negated, &second_options,
		                 error) < 0)
			goto skip;
	}
	text = table_rules_skip_space(text);
	if (*text == '\0')
		table_rules_warn(rules, line_number, "no replacement text: using empty string");
	if (table_rules_check_result(text, &rule->max_group, error) < 0)
		goto skip;
	if (rule->max_group > 0 && rule->is_negated) {
		dstring_set(error, "$number found in negative match replacement text");
		goto skip;
	}
	if (compile(first, first_options, rule->max_group > 0, &pattern->first, error) < 0)
		goto skip;
	if (rule->max_group > pattern->first.re_nsub) {
		regfree(&pattern->first);
		dstring_printf(error, "out of range replacement index \"%u\"", rule->max_group);
		goto skip;
	}
	if (second != NULL) {
		if (compile(second, second_options, false, &pattern->second, error) < 0) {
			regfree(&pattern->first);
			goto skip;
		}
		pattern->has_second = true;
	}
	rule->pattern = pattern;
	rule->result = xstrdup(text);
	return TABLE_RULES_PARSED;

skip:
	free(pattern);
	return TABLE_RULES_SKIPPED;
}

/* Run one expression: 1 match, 0 no match, -1 error (reason in error). */
static int
run(const regex_t *expression, const char *key, size_t group_count, regmatch_t *groups,
    struct dstring *error)
{
	int status = regexec(expression, key, group_count, group_count > 0 ? groups : NULL, 0);
	char message[256];

	if (status == 0)
		return 1;
	if (status == REG_NOMATCH)
		return 0;
	regerror(status, expression, message, sizeof(message));
	dstring_set(error, message);
	return -1;
}

static enum table_rules_match
regexp_match(const struct table_rule *rule, const char *key, size_t key_length, void *context,
             struct table_rules_groups *groups, struct dstring *error)
{
	const struct regexp_pattern *pattern = rule->pattern;
	regmatch_t matches[TABLE_RULES_GROUP_MAX + 1];
	size_t group_count =
	    rule->op == TABLE_RULE_MATCH && rule->max_group > 0 && !rule->is_negated
	        ? rule->max_group + 1
	        : 0;
	int status;

	if ((status = run(&pattern->first, key, group_count, matches, error)) < 0)
		return TABLE_RULES_MATCH_ERROR;
	if ((status == 1) == rule->is_negated)
		return TABLE_RULES_NO_MATCH;
	if (pattern->has_second) {
		if ((status = run(&pattern->second, key, 0, NULL, error)) < 0)
			return TABLE_RULES_MATCH_ERROR;
		if ((status == 1) == pattern->is_second_negated)
			return TABLE_RULES_NO_MATCH;
	}
	for (size_t group = 1; group < group_count; group++) {
		groups->is_set[group] = matches[group].rm_so >= 0 &&
		                        matches[group].rm_eo >= matches[group].rm_so &&
		                        (size_t)matches[group].rm_eo <= key_length;
		if (groups->is_set[group]) {
			groups->start[group] = (size_t)matches[group].rm_so;
			groups->end[group] = (size_t)matches[group].rm_eo;
		}
	}
	return TABLE_RULES_MATCHED;
}

static const struct table_rules_syntax regexp_syntax = {
    .name = "regexp",
    .has_substitution = true,
    .parse = regexp_parse,
    .match = regexp_match,
    .free_pattern = regexp_free_pattern,
    .free_state = NULL,
};

static int
regexp_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	return table_rules_open(&regexp_syntax, table, name, error);
}

static enum table_result
regexp_lookup(struct table *table, const char *key, struct dstring *value)
{
	return table_rules_lookup(table->state, key, NULL, value);
}

const struct table_type table_type_regexp = {
	.is_pattern = true,
    .name = "regexp",
    .open = regexp_open,
    .lookup = regexp_lookup,
    .iterate = NULL,
    .close = table_rules_close_table,
    .source_file = table_rules_source_file,
};
