/*
 * test_table_pcre - pcre: tables (lib/table_pcre.c on lib/table_rules.c):
 * rules x keys -> results, Postfix's behaviour checked against its
 * postmap, the errors in files, and hostile files and keys.
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
 * "postmap -q KEY pcre:FILE" while this test was written (run with
 * HIKYAKU_TEST_POSTMAP=/usr/sbin/postmap to check again). The log
 * messages are ours; Postfix words them nearly the same.
 */
static const struct rules_case postmap_verified[] = {
    /* Substitution, case, empty results, negation. */
    {"/^(a)(b)?c$/ got $1-$2-end\n"
     "/^x(y)z$/ ${1}${1}$$ $(1)\n"
     "/^CASE$/ insensitive\n"
     "/^Sens$/i sensitive\n"
     "/^empty$/\n"
     "/^emptyval$/   \n"
     "!/@/ no-at\n"
     "/^foo@(.*)$/ domain=$1\n",
     {{"ac", FOUND, "got a--end"},
      {"abc", FOUND, "got a-b-end"},
      {"xyz", FOUND, "yy$ y"},
      {"case", FOUND, "insensitive"},
      {"CASE", FOUND, "insensitive"},
      {"sens", FOUND, "no-at"},
      {"Sens", FOUND, "sensitive"},
      {"empty", FOUND, ""},
      {"emptyval", FOUND, ""},
      {"bar@x", MISSING, NULL},
      {"foo@example.com", FOUND, "domain=example.com"},
      {"FOO@EXAMPLE.COM", FOUND, "domain=EXAMPLE.COM"},
      {"", FOUND, "no-at"}},
     {"line 5: no replacement text: using empty string",
      "line 6: no replacement text: using empty string"}},
    /* Comments, continuation lines, delimiters, and bad rules skipped. */
    {"#comment\n"
     "   # indented comment\n"
     "/^cont$/ first\n"
     "  second\n"
     "# comment inside\n"
     "\tthird\n"
     "|^pipe$| pipe-delim\n"
     "#^hash$# hash-delim\n"
     "!^bang$! bang-delim\n"
     "x^alpha$x alpha-delim\n"
     "/^a\\/b$/ escaped-slash\n"
     "/^dollar0$/ $0\n"
     "/^(d10)$/ $10\n"
     "/^(named)$/ ${name}\n"
     "/^(d1a)$/ $1a\n"
     "/^(trail)$/ end$\n"
     "/^(spc)$/ a $ b\n"
     "/^(unterm)$/ ${1\n"
     "/^(neg)$/ x\n"
     "!/^(neg2)$/ $1\n"
     "/^(bad[$/ badre\n"
     "/^flagz$/z badflag\n"
     "/^flags$/imsxAEUX flagsok\n"
     "/^(paren)$/ $(1)\n"
     "/^(nested)$/ ${1}}\n"
     "/^nr$/  \t lead space\n"
     "/^(x)$/ ${1}${2}\n",
     {{"cont", FOUND, "first  second\tthird"},
      {"pipe", FOUND, "pipe-delim"},
      {"#hash#", MISSING, NULL},
      {"bang", MISSING, NULL},
      {"alpha", MISSING, NULL},
      {"a/b", FOUND, "escaped-slash"},
      {"dollar0", MISSING, NULL},
      {"d10", MISSING, NULL},
      {"named", MISSING, NULL},
      {"d1a", MISSING, NULL},
      {"trail", MISSING, NULL},
      {"spc", MISSING, NULL},
      {"unterm", MISSING, NULL},
      {"neg", FOUND, "x"},
      {"neg2", MISSING, NULL},
      {"bad[", MISSING, NULL},
      {"flagz", MISSING, NULL},
      {"flags", FOUND, "flagsok"},
      {"paren", FOUND, "paren"},
      {"nested", FOUND, "nested}"},
      {"nr", FOUND, "lead space"},
      {"x", MISSING, NULL}},
     {"line 9: no closing regexp delimiter \"^\": skipping this rule",
      "line 10: unrecognized request: skipping this rule",
      "line 12: out of range replacement index \"0\": skipping this rule",
      "line 20: $number found in negative match replacement text: skipping this rule",
      "line 21: error in regex at offset 7: missing terminating ] for character class",
      "line 22: unknown regexp option \"z\": skipping this rule"}},
    /* The same file: the other messages. */
    {"/^(named)$/ ${name}\n"
     "/^(d1a)$/ $1a\n"
     "/^(trail)$/ end$\n"
     "/^(unterm)$/ ${1\n"
     "/^flags$/X flagsok\n"
     "/^(x)$/ ${1}${2}\n",
     {{"flags", FOUND, "flagsok"}, {"x", MISSING, NULL}},
     {"line 1: non-numeric replacement index \"name\": skipping this rule",
      "line 2: non-numeric replacement index \"1a\": skipping this rule",
      "line 3: empty macro name: \"$\": skipping this rule",
      "line 4: truncated macro reference: \"${1\": skipping this rule",
      "line 5: ignoring obsolete regexp option \"X\"",
      "line 6: out of range replacement index \"2\": skipping this rule"}},
    /* if/endif: nesting, negation, case, extra text, stray endif. */
    {"if /^a/\n"
     "if !/b$/\n"
     "/^a.*c$/ a-not-b-c\n"
     "/./ a-not-b\n"
     "endif\n"
     "/./ a-b\n"
     "endif\n"
     "IF/^z/\n"
     "/./ z\n"
     "ENDIF\n"
     "if /^y/ extra\n"
     "/./ y\n"
     "endif extra\n"
     "ENDIF\n"
     "endifx\n"
     "/^(q)(r)?s$/ [$2]\n"
     "/^t(\\d)$/ ${1}x\n"
     "! ! /^dn$/ double-neg\n"
     "/^ws x$/ ws-in-pattern\n",
     {{"abc", FOUND, "a-not-b-c"},
      {"ab", FOUND, "a-b"},
      {"axb", FOUND, "a-b"},
      {"ax", FOUND, "a-not-b"},
      {"zz", FOUND, "z"},
      {"yy", FOUND, "y"},
      {"qs", FOUND, "[]"},
      {"qrs", FOUND, "[r]"},
      {"t5", FOUND, "5x"},
      {"dn", FOUND, "double-neg"},
      {"ws x", FOUND, "ws-in-pattern"},
      {"other", MISSING, NULL}},
     {"line 11: ignoring extra text after IF statement: \"extra\"",
      "line 13: ignoring extra text after ENDIF", "line 14: ENDIF without IF: skipping this rule",
      "line 15: unrecognized request: skipping this rule"}},
    /* An "if" without "endif" reaches the end; when it fails, nothing after answers. */
    {"/^first$/ one\n"
     "if /^i/\n"
     "/^in$/ inside\n"
     "/./ after\n",
     {{"first", FOUND, "one"},
      {"in", FOUND, "inside"},
      {"ix", FOUND, "after"},
      {"x", MISSING, NULL}},
     {"line 2: IF has no matching ENDIF"}},
    /* The flags, each toggled from the default. */
    {"/^a.b$/s no-dotall\n"
     "/^a.b$/ dotall\n"
     "/^l1$/m multiline\n"
     "/^e$/E dollar-endonly\n"
     "/^f$/ dollar-newline\n"
     "/^g h i$/x extended\n"
     "/b/A anchored\n"
     "/^u(a+)/U ungreedy-$1\n"
     "/^v(a+)/ greedy-$1\n",
     {{"a\nb", FOUND, "dotall"},
      {"axb", FOUND, "no-dotall"},
      {"l0\nl1\nl2", FOUND, "multiline"},
      {"e\n", MISSING, NULL},
      {"e", FOUND, "dollar-endonly"},
      {"f\n", FOUND, "dollar-newline"},
      {"ghi", FOUND, "extended"},
      {"g h i", MISSING, NULL},
      {"ab", MISSING, NULL},
      {"ba", FOUND, "anchored"},
      {"uaaa", FOUND, "ungreedy-a"},
      {"vaaa", FOUND, "greedy-aaa"}},
     {NULL}},
    /* Trailing white space and CRs go; inner white space stays. */
    {"/^k$/   a  b \t \r\n"
     "/^crlf$/ x\r\n"
     "  y\r\n",
     {{"k", FOUND, "a  b"}, {"crlf", FOUND, "x\r  y"}},
     {NULL}},
};

/* Where we differ from Postfix on purpose (see lib/table_rules.h, table_pcre.c). */
static const struct rules_case deliberate[] = {
    /* A bad "if" is not skipped (its block would apply to every key): it fails. */
    {"/^before$/ early\n"
     "if /^w(/\n"
     "/./ w-inner\n"
     "endif\n"
     "/./ after\n",
     {{"before", FOUND, "early"},
      {"w", FAILED, "line 2: bad IF: error in regex at offset 3: missing closing parenthesis"},
      {"other", FAILED, "bad IF"}},
     {"line 2: error in regex at offset 3: missing closing parenthesis: lookups that reach "
      "this IF will fail"}},
    {"if\n/./ x\nendif\n/./ y\n",
     {{"k", FAILED, "line 1: bad IF: no regexp"}},
     {"line 1: no regexp: lookups that reach this IF will fail"}},
    {"if /x/q\n/./ x\nendif\n", {{"x", FAILED, "unknown regexp option \"q\""}}, {NULL}},
    /* Catastrophic backtracking hits the match limit: an error, not "no match". */
    {"/(a+)+$/ bad\n"
     "/^a/ fine\n",
     {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", FAILED, "line 1: match limit exceeded"},
      {"aaaa", FOUND, "bad"},
      {"b", MISSING, NULL}},
     {NULL}},
    /* A "(*UTF)" pattern does not match a key that is not UTF-8 (as dict_pcre.c). */
    {"/(*UTF)^.$/ one-character\n"
     "/./ other\n",
     {{"\xc3\xa9", FOUND, "one-character"}, {"\xc3", FOUND, "other"}, {"\xff", FOUND, "other"}},
     {NULL}},
    /* Unusual but valid: 99 groups, $99. */
    {"/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)(u)(v)(w)(x)(y)(z)"
     "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)(u)(v)(w)(x)(y)(z)"
     "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)(u)(v)(w)(x)(y)(z)"
     "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(T)(U)$/ "
     "$1$26$99 ${098}\n"
     "/^(x)$/ $100\n",
     {{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
       "abcdefghijklmnopqrsTU",
       FOUND, "azU T"},
      {"x", MISSING, NULL}},
     {"line 2: out of range replacement index \"100\": skipping this rule"}},
};

/* The inline form "pcre:{ {rule}, {rule} }" (Postfix 3.7), checked with postmap too. */
static void
test_inline(void)
{
	struct table *table;
	struct dstring value, error;

	dstring_init(&value, TABLE_VALUE_MAX);
	dstring_init(&error, 1000);
	table = rules_open(&table_type_pcre, "{ {/^(a)bc$/ got $1 }, { /x/ y } , {if /q/},"
	                                     "{/./ q},{endif}}");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_INT_EQ(table->type->lookup(table, "abc", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "got a");
		CHECK_INT_EQ(table->type->lookup(table, "x", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "y");
		CHECK_INT_EQ(table->type->lookup(table, "q", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "q");
		CHECK_INT_EQ(table->type->lookup(table, "w", &value), TABLE_NOT_FOUND);
		CHECK(table->type->source_file(table) == NULL);
		rules_close(table);
	}
	/* postmap: "pcre map: no '{' at start of text in ..." */
	{
		struct table bare;

		memset(&bare, 0, sizeof(bare));
		CHECK_INT_EQ(table_type_pcre.open(&bare, "{ {/a/ b}, /x/ y }", 0, &error), -1);
		CHECK(strstr(dstring_str(&error), "no '{' at start of text in \"/x/ y") != NULL);
		CHECK_INT_EQ(table_type_pcre.open(&bare, "{ {/a/ b}", 0, &error), -1);
		CHECK_INT_EQ(table_type_pcre.open(&bare, "{ {/a/ b} { }", 0, &error), -1);
		CHECK_INT_EQ(table_type_pcre.open(&bare, "{}", 0, &error), 0);
		table_type_pcre.close(&bare);
	}
	dstring_fini(&value);
	dstring_fini(&error);
}

/* Open failures, source_file, iterate, and the path through table_open. */
static void
test_table_interface(void)
{
	struct table bare;
	struct dstring error;
	struct table *table;
	const char *value;
	char spec[sizeof(rules_path) + 8];

	dstring_init(&error, 1000);
	memset(&bare, 0, sizeof(bare));
	CHECK_INT_EQ(table_type_pcre.open(&bare, "/nonexistent/hikyaku/x.pcre", 0, &error), -1);
	CHECK_STR_EQ(dstring_str(&error),
	             "open /nonexistent/hikyaku/x.pcre: No such file or directory");
	dstring_reset(&error);
	CHECK_INT_EQ(table_type_pcre.open(&bare, rules_directory, 0, &error), -1);
	CHECK(strstr(dstring_str(&error), "Is a directory") != NULL);
	CHECK(table_type_pcre.iterate == NULL);

	{
		const char *text = "/^(.*)@example\\.com$/ local:$1\n";

		rules_write(text, strlen(text));
	}
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_STR_EQ(table->type->source_file(table), rules_path);
		rules_close(table);
	}
	snprintf(spec, sizeof(spec), "pcre:%s", rules_path);
	table = table_open(spec, 0, &error);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_INT_EQ(table_lookup(table, "joe@example.com", &value), TABLE_FOUND);
		CHECK_STR_EQ(value, "local:joe");
		CHECK_INT_EQ(table_lookup(table, "joe@example.org", &value), TABLE_NOT_FOUND);
		CHECK(!table_is_stale(table));
		table_close(table);
	}
	dstring_fini(&error);
}

/* A pseudo-random byte generator, fixed so every run sees the same junk. */
static uint32_t
next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* Look up a few keys: any outcome but a crash, a hang or a leak is fine. */
static void
poke(struct table *table)
{
	static const char *const keys[] = {
	    "",         "a",
	    "abc",      "x@example.com",
	    "\xff\xfe", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"};
	struct dstring value;

	dstring_init(&value, TABLE_VALUE_MAX);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		enum table_result result = table->type->lookup(table, keys[i], &value);

		CHECK(result == TABLE_FOUND || result == TABLE_NOT_FOUND || result == TABLE_ERROR);
	}
	dstring_fini(&value);
}

static void
test_hostile_files(void)
{
	struct dstring text, value;
	struct table *table;
	uint32_t seed = 4;
	double started;

	dstring_init(&text, 8 * 1024 * 1024);
	dstring_init(&value, TABLE_VALUE_MAX);

	/* Binary junk, NUL bytes included, with some of the syntax mixed in. */
	for (int round = 0; round < 20; round++) {
		static const char *const pieces[] = {"/",  "!", "if ", "endif", "\n", " ",    "$",
		                                     "${", "(", ")",   "\\",    "#",  "\n  ", "*+"};

		dstring_reset(&text);
		for (int i = 0; i < 4000; i++) {
			uint32_t choice = next_random(&seed);

			if (choice % 3 == 0)
				dstring_append_str(&text, pieces[(choice >> 4) % 14]);
			else
				dstring_append_char(&text, (char)(choice >> 12));
		}
		rules_write(dstring_str(&text), dstring_length(&text));
		rules_log_reset();
		table = rules_open(&table_type_pcre, rules_path);
		CHECK(table != NULL);
		if (table != NULL) {
			poke(table);
			rules_close(table);
		}
	}

	/* A NUL byte spoils its rule only. */
	rules_write("/a/ x\0y\n/b/ z\n", 14);
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: NUL byte in rule: skipping this rule");
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "b", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "z");
		rules_close(table);
	}

	/* A 1 MiB line, and 1 MiB of continuation lines: errors, the rest works. */
	dstring_reset(&text);
	dstring_append_str(&text, "/a/ ");
	for (int i = 0; i < 1024 * 1024; i++)
		dstring_append_char(&text, 'x');
	dstring_append_str(&text, "\n/b/ ok\n/c/ start\n");
	for (int i = 0; i < 16 * 1024; i++)
		dstring_append_str(
		    &text, " continued-line-of-text-64-bytes-long-xxxxxxxxxxxxxxxxxxxxxxxxx\n");
	dstring_append_str(&text, "/d/ after\n");
	rules_write(dstring_str(&text), dstring_length(&text));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: rule longer than 65536 bytes: skipping this rule");
		rules_check_logged("line 3: rule longer than 65536 bytes: skipping this rule");
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "b", &value), TABLE_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "c", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "d", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "after");
		rules_close(table);
	}

	/* 10,000 nested ifs: no recursion; past 1,000 deep they are errors. */
	dstring_reset(&text);
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "if /a/\n");
	dstring_append_str(&text, "/./ deep\n");
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "endif\n");
	dstring_append_str(&text, "/^b$/ outside\n");
	rules_write(dstring_str(&text), dstring_length(&text));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1001: IF nested more than 1000 deep: lookups that reach "
		                   "this IF will fail");
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_ERROR);
		CHECK(strstr(dstring_str(&value), "line 1001: bad IF") != NULL);
		CHECK_INT_EQ(table->type->lookup(table, "b", &value), TABLE_FOUND);
		CHECK_STR_EQ(dstring_str(&value), "outside");
		CHECK_INT_EQ(table->type->lookup(table, "c", &value), TABLE_NOT_FOUND);
		rules_close(table);
	}
	/* 10,000 lone endifs, and 10,000 unclosed ifs. */
	dstring_reset(&text);
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "endif\n");
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "if /x/\n");
	rules_write(dstring_str(&text), dstring_length(&text));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: ENDIF without IF: skipping this rule");
		CHECK_INT_EQ(table->type->lookup(table, "y", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "x", &value), TABLE_ERROR);
		rules_close(table);
	}

	/* Hostile patterns and keys: each lookup is bounded. */
	{
		static const char *const evil[] = {
		    "/(a+)+$/ x\n",      "/(a|aa)+$/ x\n",    "/^(\\w+\\s?)*$/ x\n",
		    "/(?:(a*)*)*b/ x\n", "/(.*a){25}!b/ x\n", "/^(a?){4000}a{4000}$/ x\n",
		};
		char key[TABLE_KEY_MAX + 2];

		for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
			enum table_result result;

			rules_write(evil[i], strlen(evil[i]));
			rules_log_reset();
			table = rules_open(&table_type_pcre, rules_path);
			CHECK(table != NULL);
			if (table == NULL)
				continue;
			memset(key, 'a', TABLE_KEY_MAX - 1);
			key[TABLE_KEY_MAX - 1] = '!';
			key[TABLE_KEY_MAX] = '\0';
			started = rules_now();
			result = table->type->lookup(table, key, &value);
			if (result != TABLE_NOT_FOUND)
				CHECK(strstr(dstring_str(&value), "limit") != NULL);
			CHECK(result != TABLE_FOUND);
			CHECK(rules_now() - started < 5.0);
			if (i == 0)
				CHECK_INT_EQ(result, TABLE_ERROR);
			/* Longer than TABLE_KEY_MAX: not looked at. */
			memset(key, 'a', TABLE_KEY_MAX + 1);
			key[TABLE_KEY_MAX + 1] = '\0';
			started = rules_now();
			CHECK_INT_EQ(table->type->lookup(table, key, &value), TABLE_NOT_FOUND);
			CHECK(rules_now() - started < 0.1);
			rules_close(table);
		}
	}

	/* A result that would grow past TABLE_VALUE_MAX. */
	dstring_reset(&text);
	dstring_append_str(&text, "/^(.*)$/ ");
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "$1");
	dstring_append_str(&text, "\n");
	rules_write(dstring_str(&text), dstring_length(&text));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		char key[1001];

		memset(key, 'k', 1000);
		key[1000] = '\0';
		CHECK_INT_EQ(table->type->lookup(table, key, &value), TABLE_ERROR);
		CHECK(strstr(dstring_str(&value), "line 1: result too long") != NULL);
		CHECK_INT_EQ(table->type->lookup(table, "k", &value), TABLE_FOUND);
		CHECK_INT_EQ(dstring_length(&value), 10000);
		rules_close(table);
	}

	/* An empty file, and one of blank lines and comments only. */
	rules_write("", 0);
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_NOT_FOUND);
		rules_close(table);
	}
	rules_write("\n\n  \n# x\n\t# y\n", strlen("\n\n  \n# x\n\t# y\n"));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_NOT_FOUND);
		rules_close(table);
	}
	/* Text that continues nothing is an error, then parsing goes on. */
	rules_write("  /a/ x\n\t/b/ y\n/c/ z\n", strlen("  /a/ x\n\t/b/ y\n/c/ z\n"));
	rules_log_reset();
	table = rules_open(&table_type_pcre, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: logical line must not start with white space");
		CHECK_INT_EQ(table->type->lookup(table, "a", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "b", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "c", &value), TABLE_FOUND);
		rules_close(table);
	}
	dstring_fini(&text);
	dstring_fini(&value);
}

int
main(void)
{
	rules_setup();
	rules_run_cases(&table_type_pcre, postmap_verified,
	                sizeof(postmap_verified) / sizeof(postmap_verified[0]), "verified", true);
	rules_run_cases(&table_type_pcre, deliberate, sizeof(deliberate) / sizeof(deliberate[0]),
	                "deliberate", false);
	test_inline();
	test_table_interface();
	test_hostile_files();
	rules_cleanup();
	return check_finish();
}
