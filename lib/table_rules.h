/*
 * table_rules - the ordered rule lists behind Postfix's pattern tables:
 * pcre:, regexp: and cidr: (table_pcre.c, table_regexp.c, table_cidr.c).
 *
 * The three share one file syntax and one evaluation, which live here:
 * - Logical lines, as Postfix's readllines(): "#" comment lines and blank
 *   lines are ignored, a line that starts with white space continues the
 *   logical line before it (joined as is, without the newline), and a
 *   message names the first physical line of the logical line.
 * - "if PATTERN" ... "endif" blocks, nested, and "!" negation.
 * - The first rule that matches answers; an "if" that does not match skips
 *   to its "endif" (an "if" without "endif" reaches the end of the file).
 * - Result text with "$1", "${1}", "$(1)" and "$$", checked when the file
 *   is read and expanded when a rule matches (a group that did not take
 *   part in the match gives the empty string).
 * Each type parses its own patterns and matches them (struct
 * table_rules_syntax).
 *
 * Errors in the file are logged as "PATH, line N: reason" and, as Postfix
 * does, the bad rule is skipped while the rest of the table works. One
 * exception, for safety: an "if" whose pattern is bad keeps its place in
 * the structure, and a lookup that reaches it is TABLE_ERROR (the block
 * must neither apply to every key, as Postfix's skipped "if" does, nor
 * silently apply to none). Only a file that cannot be read fails to open.
 *
 * What it trusts: nothing in the file or the key. Logical lines are at
 * most TABLE_RULES_LINE_MAX bytes, files TABLE_RULES_FILE_MAX, "if"
 * nesting TABLE_RULES_NESTING_MAX deep; evaluation is a loop, never
 * recursion, and each rule is tried at most once per lookup. It trusts the
 * type's callbacks to bound their own matching cost.
 */
#ifndef HIKYAKU_TABLE_RULES_H
#define HIKYAKU_TABLE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

struct dstring;

/* The longest logical line (rule) accepted; a longer one is an error. */
#define TABLE_RULES_LINE_MAX 65536
/* The largest file read into memory. */
#define TABLE_RULES_FILE_MAX (64 * 1024 * 1024)
/* Deeper "if" nesting is an error (the "if" is then broken, see above). */
#define TABLE_RULES_NESTING_MAX 1000
/* The largest n in "$n". */
#define TABLE_RULES_GROUP_MAX 99

enum table_rule_op {
	TABLE_RULE_MATCH, /* pattern and result */
	TABLE_RULE_IF,    /* pattern; the rules up to block_end apply when it matches */
	TABLE_RULE_ENDIF,
};

struct table_rule {
	enum table_rule_op op;
	unsigned line_number;
	bool is_negated;    /* "!pattern": the rule applies when the pattern does not match */
	bool is_broken;     /* an IF whose pattern is bad: lookups reaching it fail */
	size_t block_end;   /* IF: the index just past its ENDIF (or the rule count) */
	void *pattern;      /* the type's compiled pattern; NULL when broken */
	char *result;       /* MATCH: the result text as written */
	unsigned max_group; /* MATCH: the largest n of "$n" in result; 0 for none */
};

/* Where each group of a match lies in the key; start == end for empty. */
struct table_rules_groups {
	size_t start[TABLE_RULES_GROUP_MAX + 1];
	size_t end[TABLE_RULES_GROUP_MAX + 1];
	bool is_set[TABLE_RULES_GROUP_MAX + 1];
};

enum table_rules_match {
	TABLE_RULES_NO_MATCH,
	TABLE_RULES_MATCHED,
	TABLE_RULES_MATCH_ERROR, /* the reason is in error */
};

enum table_rules_parse {
	TABLE_RULES_PARSED,  /* rule is filled in */
	TABLE_RULES_SKIPPED, /* a bad rule: the reason is in error */
};

struct table_rules;

/* One table type's part: parsing one rule, and matching one pattern. */
struct table_rules_syntax {
	const char *name; /* "pcre", "regexp", "cidr" */
	/* Whether results hold "$n" and "$$" (pcre, regexp) or are literal (cidr). */
	bool has_substitution;
	/*
	 * parse: turn one logical line (non-empty, no leading or trailing
	 * white space, no NUL; the parser may modify it) into rule, whose
	 * op, line_number and the rest are zero except line_number. An IF
	 * with a bad pattern is TABLE_RULES_PARSED with is_broken set and
	 * the reason in error. Warnings that do not skip the rule are
	 * logged with table_rules_warn.
	 */
	enum table_rules_parse (*parse)(struct table_rules *rules, char *line,
	                                struct table_rule *rule, struct dstring *error);
	/*
	 * match: whether key (key_length bytes) satisfies rule (MATCH or IF,
	 * negation included). For a MATCH rule with max_group > 0 that
	 * matches, fill groups 1..max_group. context is what the type gave
	 * table_rules_lookup. TABLE_RULES_NO_MATCH with text in error is
	 * logged as a warning (the pattern could not look at this key).
	 */
	enum table_rules_match (*match)(const struct table_rule *rule, const char *key,
	                                size_t key_length, void *context,
	                                struct table_rules_groups *groups, struct dstring *error);
	/* free_pattern: release rule->pattern (not NULL). */
	void (*free_pattern)(void *pattern);
	/* free_state: release rules->type_state (not NULL); NULL when unused. */
	void (*free_state)(void *state);
};

struct table_rules {
	const struct table_rules_syntax *syntax;
	char *origin; /* the file name, or "pcre:{...}" for inline rules, for messages */
	struct table_rule *rules;
	size_t count;
	size_t capacity;
	unsigned error_count; /* errors logged while reading */
	bool is_inline;       /* from "{ ... }", not a file */
	void *type_state;     /* the type's own, per table */
};

/*
 * table_rules_open_file: read the rules in path. Returns NULL with a reason
 * in error ("open PATH: No such file or directory") only when the file
 * cannot be read; errors in rules are logged and those rules skipped.
 */
struct table_rules *table_rules_open_file(const struct table_rules_syntax *syntax, const char *path,
                                          struct dstring *error);

/*
 * table_rules_open_inline: the rules of Postfix 3.7's inline form, name
 * being "{ { rule-1 }, { rule-2 } ... }" (each rule one line; "line N"
 * in messages is the Nth rule). NULL with a reason in error when the
 * braces are malformed.
 */
struct table_rules *table_rules_open_inline(const struct table_rules_syntax *syntax,
                                            const char *name, struct dstring *error);

/* table_rules_open_text: the rules in text (length bytes), named origin. Never fails. */
struct table_rules *table_rules_open_text(const struct table_rules_syntax *syntax,
                                          const char *origin, const char *text, size_t length);

/* table_rules_close: free the rules and the type's state; NULL is allowed. */
void table_rules_close(struct table_rules *rules);

/*
 * table_rules_lookup: apply the rules to key, in order. TABLE_FOUND with
 * the expanded result in value; TABLE_NOT_FOUND; or TABLE_ERROR with the
 * reason in value (also logged), when a pattern could not be matched (a
 * match limit), a broken "if" was reached, or the result grew past
 * TABLE_VALUE_MAX or value's limit.
 */
enum table_result table_rules_lookup(struct table_rules *rules, const char *key, void *context,
                                     struct dstring *value);

/*
 * table_rules_open: the common open() of the three types: name is a file,
 * or an inline "{ ... }" list. Fills table->state.
 */
int table_rules_open(const struct table_rules_syntax *syntax, struct table *table, const char *name,
                     struct dstring *error);

/* table_rules_source_file: the file behind the table, NULL for inline rules. */
const char *table_rules_source_file(struct table *table);

/* table_rules_close_table: the common close(). */
void table_rules_close_table(struct table *table);

/* Helpers for the types' parse functions. */

/* table_rules_warn: log "ORIGIN, line N: message" as a warning. */
void table_rules_warn(const struct table_rules *rules, unsigned line_number, const char *format,
                      ...) __attribute__((format(printf, 3, 4)));

/*
 * table_rules_keyword: when text starts with keyword (case-insensitive)
 * followed by a character that is not a letter or digit, the text after
 * the keyword; else NULL. As Postfix: "if/x/" and "IF /x/" are both "if".
 */
char *table_rules_keyword(char *text, const char *keyword);

/*
 * The statements both pattern types share. table_rules_parse_endif: when
 * line is "ENDIF", make rule an ENDIF (warning about extra text) and
 * return true. table_rules_end_if: warn about extra text after an IF's
 * pattern (text is what follows it). table_rules_is_unknown_keyword: a
 * line starting with a letter or digit is neither a pattern nor a known
 * statement: true with "unrecognized request" in error.
 */
bool table_rules_parse_endif(const struct table_rules *rules, char *line,
                             struct table_rule *rule);
void table_rules_end_if(const struct table_rules *rules, unsigned line_number, char *text);
bool table_rules_is_unknown_keyword(const char *line, struct dstring *error);

/* table_rules_is_space: Postfix's ISSPACE, independent of the locale. */
bool table_rules_is_space(int byte);

/* table_rules_skip_space: text past any white space. */
char *table_rules_skip_space(char *text);

/*
 * table_rules_take_delimited: parse "[!...] DELIM pattern DELIM" at
 * *cursor: any "!" and white space toggle *is_negated, the next byte is
 * the delimiter, and a backslash escapes the byte after it (it stays in
 * the pattern). On success the pattern is NUL-terminated in place,
 * *pattern points to it, *cursor just past the closing delimiter, and 0
 * is returned; else -1 with a reason in error.
 */
int table_rules_take_delimited(char **cursor, char **pattern, bool *is_negated,
                               struct dstring *error);

/*
 * table_rules_check_result: check the "$n" references of a result, as
 * Postfix's mac_parse: "$$" is "$", "$name", "${name}" and "$(name)" are
 * references, and each must be a number 1..TABLE_RULES_GROUP_MAX. Sets
 * *max_group (0 when there is none). -1 with a reason in error when the
 * result is malformed.
 */
int table_rules_check_result(const char *result, unsigned *max_group, struct dstring *error);

#endif
