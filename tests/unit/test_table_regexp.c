/*
 * test_table_regexp - regexp: tables (lib/table_regexp.c on
 * lib/table_rules.c): rules x keys -> results checked against Postfix's
 * postmap, the two-pattern form, flags, and the limits we add (no
 * back-references, no huge repetitions) with hostile files and keys.
 * The syntax shared with pcre: is tested at length in test_table_pcre.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_rules_check.h"

#define FOUND TABLE_FOUND
#define MISSING TABLE_NOT_FOUND
#define FAILED TABLE_ERROR

/*
 * Every answer here was checked against Postfix 3.7.11's
 * "postmap -q KEY regexp:FILE" while this test was written (run with
 * HIKYAKU_TEST_POSTMAP=/usr/sbin/postmap to check again).
 */
static const struct rules_case postmap_verified[] = {
    {"/^(a)(b)?c$/ got $1-$2-end\n"
     "/^x(y)z$/ ${1}${1}$$ $(1)\n"
     "/^CASE$/ insensitive\n"
     "/^Sens$/i sensitive\n"
     "/^empty$/\n"
     "/^user@(.*)$/!/^user@local/ remote=$1\n"
     "/^user@(.*)$/ local=$1\n"
     "/^a+$/x basic-plus-literal\n"
     "/^b\\{2\\}$/x basic-interval\n"
     "/^c{2}$/ ere-interval\n"
     "!/@/!/^n/ not-at-not-n\n"
     "/^(bad[$/ badre\n"
     "/^z$/q badflag\n",
     {{"ac", FOUND, "got a--end"},
      {"abc", FOUND, "got a-b-end"},
      {"xyz", FOUND, "yy$ y"},
      {"CASE", FOUND, "insensitive"},
      {"case", FOUND, "insensitive"},
      {"Sens", FOUND, "sensitive"},
      {"sens", FOUND, "not-at-not-n"},
      {"empty", FOUND, ""},
      {"user@remote.example", FOUND, "remote=remote.example"},
      {"user@localhost", FOUND, "local=localhost"},
      {"a+", FOUND, "basic-plus-literal"},
      {"aaa", FOUND, "not-at-not-n"},
      {"bb", FOUND, "basic-interval"},
      {"cc", FOUND, "ere-interval"},
      {"nx", MISSING, NULL},
      {"z", FOUND, "not-at-not-n"},
      {"x@y", MISSING, NULL}},
     {"line 5: no replacement text: using empty string",
      "line 12: Unmatched [, [^, [:, [., or [=: skipping this rule",
      "line 13: unknown regexp option \"q\": skipping this rule"}},
    /* Where the flags of each pattern end, and what follows them. */
    {"/^ab$/ ! bang result\n"
     "/^br(1)$/ $1\n"
     "/^br(2)$/i! /x/ second-after-space\n"
     "/^br(3)$/!/x/i $1\n"
     "/^(q)(r)?s$/ [$2]\n"
     "/^a\\/b$/ esc\n"
     "/^w$/ !!/x/ double\n"
     "if /^i/\n"
     "/^in$/ in\n"
     "endif\n"
     "/^v$/!/x/!/y/ third\n",
     {{"ab", FOUND, "! bang result"},
      {"br1", FOUND, "1"},
      {"br2", FOUND, "second-after-space"},
      {"BR2", MISSING, NULL},
      {"br3", FOUND, "3"},
      {"qs", FOUND, "[]"},
      {"qrs", FOUND, "[r]"},
      {"a/b", FOUND, "esc"},
      {"w", FOUND, "!!/x/ double"},
      {"in", FOUND, "in"},
      {"ix", MISSING, NULL},
      {"v", FOUND, "!/y/ third"}},
     {NULL}},
    /* The m flag, newlines, the two-pattern form with flags on each. */
    {"/^b$/m multiline\n"
     "/^d$/ plain\n"
     "/^a+$/x basic\n"
     "/^c\\{2\\}$/x basic-interval\n"
     "/^(x)(y)?$/ [$1|$2]\n"
     "/^p(.*)$/!/^px/ p-not-px-$1\n"
     "/^q/!/Q$/i q-not-Q\n"
     "/^r/!/R$/ r-not-R-ci\n"
     "~^[[:alnum:]+/]{60,}$~ long-b64\n"
     "/^e\\.f$/ dot\n"
     "/^g(h|)$/ g[$1]\n"
     "/^CAP$/ upper\n"
     "!/^s/!/t$/ neither\n",
     {{"a\nb", FOUND, "multiline"},
      {"c\nd", FOUND, "neither"},
      {"d\n", FOUND, "neither"},
      {"d", FOUND, "plain"},
      {"a+", FOUND, "basic"},
      {"cc", FOUND, "basic-interval"},
      {"x", FOUND, "[x|]"},
      {"xy", FOUND, "[x|y]"},
      {"pa", FOUND, "p-not-px-a"},
      {"pxa", FOUND, "neither"},
      {"q1", FOUND, "q-not-Q"},
      {"q1q", FOUND, "q-not-Q"},
      {"q1Q", FOUND, "neither"},
      {"r1", FOUND, "r-not-R-ci"},
      {"r1r", FOUND, "neither"},
      {"s1", MISSING, NULL},
      {"st", MISSING, NULL},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", FOUND, "long-b64"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", FOUND, "neither"},
      {"e.f", FOUND, "dot"},
      {"exf", FOUND, "neither"},
      {"g", FOUND, "g[]"},
      {"gh", FOUND, "g[h]"},
      {"cap", FOUND, "upper"}},
     {NULL}},
    /* The same bad results as pcre. */
    {"/^(a)$/ $0\n"
     "/^(b)$/ $2\n"
     "!/^(c)$/ $1\n"
     "/^(d)$/ ${x}\n"
     "/^e$/ ok\n",
     {{"a", MISSING, NULL},
      {"b", MISSING, NULL},
      {"d", MISSING, NULL},
      {"e", FOUND, "ok"},
      {"x", MISSING, NULL}},
     {"line 1: out of range replacement index \"0\": skipping this rule",
      "line 2: out of range replacement index \"2\": skipping this rule",
      "line 3: $number found in negative match replacement text: skipping this rule",
      "line 4: non-numeric replacement index \"x\": skipping this rule"}},
};

/* Where we differ from Postfix on purpose (see lib/table_regexp.c). */
static const struct rules_case deliberate[] = {
    /* Back-references: refused (Postfix allows them, unbounded). */
    {"/(a|b)*c\\1/ backref\n"
     "/^[\\1]$/ bracket\n"
     "/^\\(x\\)\\1$/x basic-backref\n"
     "/^ok$/ ok\n",
     {{"bbcb", MISSING, NULL},
      {"1", FOUND, "bracket"},
      {"\\", FOUND, "bracket"},
      {"xx", MISSING, NULL},
      {"ok", FOUND, "ok"}},
     {"line 1: back-reference \"\\1\" is not supported in regexp tables (use pcre): "
      "skipping this rule",
      "line 3: back-reference \"\\1\" is not supported"}},
    /* Repetitions the C library would write out at great cost. */
    {"/^(a?){1,150}$/ nullable-group\n"
     "/a{256}/ too-many\n"
     "/(((a{1,100}){1,100}){1,100})/ nested\n"
     "/^((a|b|c|d|e|f|g|h)?){1,100}$/ wide-group\n"
     "/^(.{1,255}){1,20}$/ big\n"
     "/^.{998,}/ long-line\n"
     "/^(a?){1,100}$/ nullable-ok\n"
     "/^([0-9]{1,3}\\.){3}[0-9]{1,3}$/ dotted-quad\n"
     "/^\\(b\\)\\{1,255\\}$/x basic-group\n"
     "/^(a?){1,100}*{1,100}$/ repeated-twice\n"
     "/^a{200}{200}$/ atom-twice\n",
     {{"1.2.3.4", FOUND, "dotted-quad"}, {"aaa", FOUND, "nullable-ok"}, {"bbb", MISSING, NULL}},
     {"line 1: group repeated to more than 200 elements: skipping this rule",
      "line 2: repetition count above 255: skipping this rule",
      "line 3: group repeated to more than 200 elements: skipping this rule",
      "line 4: group repeated to more than 200 elements: skipping this rule",
      "line 5: group repeated to more than 200 elements: skipping this rule",
      "line 9: group repeated to more than 200 elements: skipping this rule",
      "line 10: group repeated to more than 200 elements: skipping this rule"}},
    {"/^a{200}{200}$/ atom-twice\n"
     "/^;++++++++++++++++++++++++++++++++++++z/ plus-doubles\n"
     "/^(a+)+(b+)+[a-z0-9-]+$/ plus-ok\n"
     "/^(a?){,150}$/ no-lower-bound\n"
     "/^(.ot-a+)**********************************************************************$/ "
     "stars\n"
     "/^((((((((((((((((((((((a)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*$/ nested\n"
     "/^((a*)*b?)*$/ nested-ok\n",
     {{"a", FOUND, "nested-ok"}, {"abc", FOUND, "plus-ok"}},
     {"line 1: pattern too large for a regexp table",
      "line 2: pattern too large for a regexp table",
      "line 4: group repeated to more than 200 elements",
      "line 5: repetitions nested more than 20 deep",
      "line 6: repetitions nested more than 20 deep"}},
    {"/^a{1,255}b{1,255}c{1,255}d{1,255}e{1,255}/ large\n"
     "/^.{998,}/ long-line\n",
     {{"abcde", MISSING, NULL}},
     {"line 1: pattern too large for a regexp table (more than 1000 elements, repetitions "
      "written out): use pcre: skipping this rule"}},
    /* A bad "if" fails the lookups that reach it. */
    {"if /(/\n/./ x\nendif\n", {{"a", FAILED, "line 1: bad IF: "}}, {NULL}},
    /* The catastrophic case for backtracking matchers is harmless here. */
    {"/(a+)+$/ bad\n"
     "/^a/ fine\n",
     {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", FOUND, "fine"}},
     {NULL}},
};

/* A pseudo-random byte generator, fixed so every run sees the same junk. */
static uint32_t
next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void
test_hostile(void)
{
	static const char *const pieces[] = {"/", "!", "if ", "endif", "\n", "(", ")",  "\\",
	                                     "{", "}", "[",   "]",     "*",  "?", "$1", "{1,200}"};
	struct dstring text, value;
	struct table *table;
	uint32_t seed = 7;
	double started = rules_now();
	char key[TABLE_KEY_MAX + 1];

	dstring_init(&text, 1024 * 1024);
	dstring_init(&value, TABLE_VALUE_MAX);
	memset(key, 'a', TABLE_KEY_MAX);
	key[TABLE_KEY_MAX] = '\0';
	for (int round = 0; round < 20; round++) {
		dstring_reset(&text);
		for (int i = 0; i < 4000; i++) {
			uint32_t choice = next_random(&seed);

			if (choice % 2 == 0)
				dstring_append_str(&text, pieces[(choice >> 4) % 16]);
			else
				dstring_append_char(&text, (char)(choice >> 12));
		}
		rules_write(dstring_str(&text), dstring_length(&text));
		rules_log_reset();
		table = rules_open(&table_type_regexp, rules_path);
		CHECK(table != NULL);
		if (table == NULL)
			continue;
		/* An error can only come from a bad "if": regexec has no limits to hit. */
		if (table->type->lookup(table, key, &value) == TABLE_ERROR)
			CHECK(strstr(dstring_str(&value), "bad IF") != NULL);
		if (table->type->lookup(table, "x@example.com", &value) == TABLE_ERROR)
			CHECK(strstr(dstring_str(&value), "bad IF") != NULL);
		rules_close(table);
	}
	/* Every pattern accepted above costs little, even on the longest key. */
	CHECK(rules_now() - started < 20.0);

	/* The accepted worst cases, timed: open and one lookup of a long key. */
	{
		static const char *const costly[] = {
		    "/^(a?){1,100}$/ x\n",
		    "/^((a?){1,10}){1,10}$/ x\n",
		    "/^((a|b)?(c|d)?(e|f)?){1,22}$/ x\n",
		    "/^.{1,248}.{1,248}.{1,248}.{1,248}$/ x\n",
		    "/^(a{1,10}){1,20}$/ x\n",
		    NULL, /* (a?) 499 times */
		};
		struct dstring optional;

		dstring_init(&optional, DSTRING_NO_LIMIT);
		dstring_append_str(&optional, "/");
		for (int i = 0; i < 499; i++)
			dstring_append_str(&optional, "(a?)");
		dstring_append_str(&optional, "b/ x\n");

		for (size_t i = 0; i < sizeof(costly) / sizeof(costly[0]); i++) {
			const char *rule = costly[i] ? costly[i] : dstring_str(&optional);

			started = rules_now();
			rules_write(rule, strlen(rule));
			rules_log_reset();
			table = rules_open(&table_type_regexp, rules_path);
			CHECK(table != NULL);
			if (table == NULL)
				continue;
			/* Accepted, so the time below is the matcher's. */
			if (rules_log_has("skipping"))
				fprintf(stderr, "refused: %.40s\n", rule);
			CHECK(!rules_log_has("skipping"));
			CHECK(table->type->lookup(table, key, &value) == TABLE_NOT_FOUND);
			rules_close(table);
			if (rules_now() - started > 2.0)
				fprintf(stderr, "%.40s took %.2f s\n", rule, rules_now() - started);
			CHECK(rules_now() - started < 2.0);
		}
		dstring_fini(&optional);
	}

	/* The interface: missing file, source_file, no iterate. */
	{
		struct table bare;
		struct dstring error;

		dstring_init(&error, 1000);
		memset(&bare, 0, sizeof(bare));
		CHECK_INT_EQ(table_type_regexp.open(&bare, "/nonexistent/x.regexp", 0, &error), -1);
		CHECK_STR_EQ(dstring_str(&error),
		             "open /nonexistent/x.regexp: No such file or directory");
		CHECK(table_type_regexp.iterate == NULL);
		rules_write("/x/ y\n", 6);
		table = rules_open(&table_type_regexp, rules_path);
		CHECK(table != NULL);
		if (table != NULL) {
			CHECK_STR_EQ(table->type->source_file(table), rules_path);
			rules_close(table);
		}
		table = rules_open(&table_type_regexp, "{ {/^(a)bc$/ got $1 }, { /x/ y } }");
		CHECK(table != NULL);
		if (table != NULL) {
			CHECK(table->type->source_file(table) == NULL);
			CHECK_INT_EQ(table->type->lookup(table, "abc", &value), TABLE_FOUND);
			CHECK_STR_EQ(dstring_str(&value), "got a");
			rules_close(table);
		}
		dstring_fini(&error);
	}
	dstring_fini(&text);
	dstring_fini(&value);
}

int
main(void)
{
	rules_setup();
	rules_run_cases(&table_type_regexp, postmap_verified,
	                sizeof(postmap_verified) / sizeof(postmap_verified[0]), "verified", true);
	rules_run_cases(&table_type_regexp, deliberate, sizeof(deliberate) / sizeof(deliberate[0]),
	                "deliberate", false);
	test_hostile();
	rules_cleanup();
	return check_finish();
}
