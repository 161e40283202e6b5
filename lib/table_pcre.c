/*
 * table_pcre - "pcre:/path": Postfix's PCRE tables (pcre_table(5)), on
 * PCRE2.
 *
 * Syntax, as Postfix 3.7 with PCRE2 (checked against its postmap):
 *   /pattern/flags result     the first matching rule answers
 *   !/pattern/flags result    applies when the pattern does not match
 *   if /pattern/flags ... endif, if !/pattern/flags ... endif (nested)
 * The delimiter is any byte that is not a letter or digit (after "!",
 * which toggles, and white space); a backslash escapes the delimiter and
 * stays in the pattern. Flags toggle from the default, which is
 * case-insensitive with DOTALL: i (caseless), m (multiline), s (dotall),
 * x (extended), A (anchored), E (dollar_endonly), U (ungreedy); X is
 * accepted and ignored with a warning, as PCRE2 has no EXTRA. Results
 * take $1..$99, ${n}, $(n) and $$; a group that did not take part gives
 * the empty string; a missing result is the empty string (with a
 * warning). Keys are matched byte-wise (no UTF mode) and as given: pattern
 * tables are not case-folded.
 *
 * Errors: a rule that does not compile, has an unknown flag, a bad or
 * out-of-range "$n", or "$n" in a negated rule is logged and skipped (see
 * table_rules.h for a bad "if"). Matching is bounded: a key that makes a
 * pattern pass PCRE2's match or heap limit is TABLE_ERROR with a log line
 * (Postfix would take it as "no match"), so a hostile key costs at most
 * TABLE_PCRE_MATCH_LIMIT steps per rule. A key that is not UTF-8 given to
 * a "(*UTF)" pattern does not match it (with a warning), as in Postfix.
 *
 * What it trusts: PCRE2 to honour its limits. Keys and files are outside
 * input.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_rules.h"
#include "xalloc.h"

/* Backtracking steps one pattern may take on one key. */
#define TABLE_PCRE_MATCH_LIMIT 1000000
/* Heap memory (KiB) one match may use for backtracking. */
#define TABLE_PCRE_HEAP_LIMIT (32 * 1024)

/* The per-table matching resources. */
struct pcre_state {
	pcre2_match_context *match_context;
	pcre2_match_data *match_data;
};

/* The PCRE2 error message for code. */
static void
pcre_error_text(int code, struct dstring *error)
{
	PCRE2_UCHAR message[256];

	if (pcre2_get_error_message(code, message, sizeof(message)) < 0)
		dstring_printf(error, "unexpected pcre2 error code %d", code);
	else
		dstring_append_str(error, (const char *)message);
}

/*
 * Parse "[!]/pattern/flags" at *cursor and compile it. Returns the code,
 * or NULL with a reason in error.
 */
static pcre2_code *
take_pattern(struct table_rules *rules, unsigned line_number, char **cursor, bool *is_negated,
             struct dstring *error)
{
	uint32_t options = PCRE2_CASELESS | PCRE2_DOTALL;
	char *pattern, *text;
	pcre2_code *code;
	PCRE2_SIZE offset;
	int code_error;

	if (table_rules_take_delimited(cursor, &pattern, is_negated, error) < 0)
		return NULL;
	for (text = *cursor; *text != '\0' && !table_rules_is_space((unsigned char)*text); text++) {
		switch (*text) {
		case 'i':
			options ^= PCRE2_CASELESS;
			break;
		case 'm':
			options ^= PCRE2_MULTILINE;
			break;
		case 's':
			options ^= PCRE2_DOTALL;
			break;
		case 'x':
			options ^= PCRE2_EXTENDED;
			break;
		case 'A':
			options ^= PCRE2_ANCHORED;
			break;
		case 'E':
			options ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			options ^= PCRE2_UNGREEDY;
			break;
		case 'X':
			table_rules_warn(rules, line_number,
			                 "ignoring obsolete regexp option \"X\"");
			break;
		default:
			if ((unsigned char)*text >= 0x20 && (unsigned char)*text < 0x7f)
				dstring_printf(error, "unknown regexp option \"%c\"", *text);
			else
				dstring_printf(error, "unknown regexp option \"\\x%02x\"",
				               (unsigned char)*text);
			return NULL;
		}
	}
	*cursor = text;
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code_error,
	                     &offset, NULL);
	if (code == NULL) {
		dstring_printf(error, "error in regex at offset %zu: ", (size_t)offset);
		pcre_error_text(code_error, error);
	}
	return code;
}

static enum table_rules_parse
pcre_parse(struct table_rules *rules, char *line, struct table_rule *rule, struct dstring *error)
{
	unsigned line_number = rule->line_number;
	char *text;

	if ((text = table_rules_keyword(line, "if")) != NULL) {
		text = table_rules_skip_space(text);
		rule->op = TABLE_RULE_IF;
		rule->pattern = take_pattern(rules, line_number, &text, &rule->is_negated, error);
		if (rule->pattern == NULL) {
			rule->is_broken = true;
			return TABLE_RULES_PARSED;
		}
		table_rules_end_if(rules, line_number, text);
		return TABLE_RULES_PARSED;
	}
	if (table_rules_parse_endif(rules, line, rule))
		return TABLE_RULES_PARSED;
	if (table_rules_is_unknown_keyword(line, error))
		return TABLE_RULES_SKIPPED;

	rule->op = TABLE_RULE_MATCH;
	text = line;
	rule->pattern = take_pattern(rules, line_number, &text, &rule->is_negated, error);
	if (rule->pattern == NULL)
		return TABLE_RULES_SKIPPED;
	text = table_rules_skip_space(text);
	if (*text == '\0')
		table_rules_warn(rules, line_number, "no replacement text: using empty string");
	if (table_rules_check_result(text, &rule->max_group, error) < 0)
		return TABLE_RULES_SKIPPED;
	if (rule->max_group > 0) {
		uint32_t capture_count = 0;

		if (rule->is_negated) {
			dstring_set(error, "$number found in negative match replacement text");
			return TABLE_RULES_SKIPPED;
		}
		pcre2_pattern_info(rule->pattern, PCRE2_INFO_CAPTURECOUNT, &capture_count);
		if (rule->max_group > capture_count) {
			dstring_printf(error, "out of range replacement index \"%u\"",
			               rule->max_group);
			return TABLE_RULES_SKIPPED;
		}
	}
	rule->result = xstrdup(text);
	return TABLE_RULES_PARSED;
}

static enum table_rules_match
pcre_match(const struct table_rule *rule, const char *key, size_t key_length, void *context,
           struct table_rules_groups *groups, struct dstring *error)
{
	struct pcre_state *state = context;
	int status;
	bool is_match;

	status = pcre2_match(rule->pattern, (PCRE2_SPTR)key, key_length, 0, 0, state->match_data,
	                     state->match_context);
	if (status == PCRE2_ERROR_NOMATCH) {
		is_match = false;
	} else if (status <= PCRE2_ERROR_UTF8_ERR1 && status >= PCRE2_ERROR_UTF8_ERR21) {
		/* A "(*UTF)" pattern and a key that is not UTF-8: as Postfix, no match. */
		pcre_error_text(status, error);
		is_match = false;
	} else if (status < 0) {
		pcre_error_text(status, error);
		return TABLE_RULES_MATCH_ERROR;
	} else {
		is_match = true;
	}
	if (rule->is_negated)
		return is_match ? TABLE_RULES_NO_MATCH : TABLE_RULES_MATCHED;
	if (!is_match)
		return TABLE_RULES_NO_MATCH;
	if (rule->max_group > 0) {
		PCRE2_SIZE *vector = pcre2_get_ovector_pointer(state->match_data);
		uint32_t pairs = pcre2_get_ovector_count(state->match_data);
		/* status 0: the vector was too small, and all of it is filled in. */
		uint32_t filled = status == 0 ? pairs : (uint32_t)status;

		for (unsigned group = 1; group <= rule->max_group; group++) {
			groups->is_set[group] = group < filled &&
			                        vector[2 * group] != PCRE2_UNSET &&
			                        vector[2 * group + 1] != PCRE2_UNSET &&
			                        vector[2 * group] <= vector[2 * group + 1] &&
			                        vector[2 * group + 1] <= key_length;
			if (groups->is_set[group]) {
				groups->start[group] = vector[2 * group];
				groups->end[group] = vector[2 * group + 1];
			}
		}
	}
	return TABLE_RULES_MATCHED;
}

static void
pcre_free_pattern(void *pattern)
{
	pcre2_code_free(pattern);
}

static void
pcre_free_state(void *opaque)
{
	struct pcre_state *state = opaque;

	pcre2_match_data_free(state->match_data);
	pcre2_match_context_free(state->match_context);
	free(state);
}

static const struct table_rules_syntax pcre_syntax = {
    .name = "pcre",
    .has_substitution = true,
    .parse = pcre_parse,
    .match = pcre_match,
    .free_pattern = pcre_free_pattern,
    .free_state = pcre_free_state,
};

static int
pcre_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	struct table_rules *rules;
	struct pcre_state *state;

	if (table_rules_open(&pcre_syntax, table, name, error) < 0)
		return -1;
	rules = table->state;
	state = xcalloc(1, sizeof(*state));
	state->match_context = pcre2_match_context_create(NULL);
	state->match_data = pcre2_match_data_create(TABLE_RULES_GROUP_MAX + 1, NULL);
	if (state->match_context == NULL || state->match_data == NULL)
		log_fatal("pcre2: out of memory");
	pcre2_set_match_limit(state->match_context, TABLE_PCRE_MATCH_LIMIT);
	pcre2_set_heap_limit(state->match_context, TABLE_PCRE_HEAP_LIMIT);
	rules->type_state = state;
	return 0;
}

static enum table_result
pcre_lookup(struct table *table, const char *key, struct dstring *value)
{
	struct table_rules *rules = table->state;

	return table_rules_lookup(rules, key, rules->type_state, value);
}

const struct table_type table_type_pcre = {
	.is_pattern = true,
    .name = "pcre",
    .open = pcre_open,
    .lookup = pcre_lookup,
    .iterate = NULL,
    .close = table_rules_close_table,
    .source_file = table_rules_source_file,
};
