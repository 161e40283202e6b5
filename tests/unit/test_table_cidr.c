/*
 * test_table_cidr - cidr: tables (lib/table_cidr.c on lib/table_rules.c):
 * rules x keys -> results checked against Postfix's postmap, errors in
 * files, keys that are not addresses, and hostile files.
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
 * "postmap -q KEY cidr:FILE" while this test was written (run with
 * HIKYAKU_TEST_POSTMAP=/usr/sbin/postmap to check again).
 */
static const struct rules_case postmap_verified[] = {
    /* First match wins; host bits; negation; keys that are not addresses. */
    {"192.168.1.1 OK1\n"
     "192.168.0.0/16 REJECT16\n"
     "10.0.0.1/8 bad host bits\n"
     "!10.0.0.0/8 NOT10\n",
     {{"192.168.1.1", FOUND, "OK1"},
      {"192.168.3.4", FOUND, "REJECT16"},
      {"10.1.1.1", MISSING, NULL},
      {"11.1.1.1", FOUND, "NOT10"},
      {"foo", MISSING, NULL},
      {"[192.168.1.1]", MISSING, NULL},
      {"::1", MISSING, NULL},
      {"192.168.001.1", MISSING, NULL},
      {"", MISSING, NULL},
      {"192.168.1.1 ", MISSING, NULL},
      {"192.168.1.1/32", MISSING, NULL}},
     {"line 3: non-null host address bits in \"10.0.0.1/8\", perhaps you should use "
      "\"10.0.0.0/8\" instead: skipping this rule"}},
    /* IPv6, brackets, if/endif, and the errors. */
    {"[::1]/128 V6LOOP\n"
     "[2001:db8::/32] DB8\n"
     "2001:DB8:0::/33 notreached\n"
     "if 172.16.0.0/12\n"
     "172.16.5.0/24 IN5\n"
     "!172.16.6.0/24 NOT6\n"
     "endif\n"
     "if !127.0.0.0/8\n"
     "1.2.3.4 ONE234\n"
     "endif\n"
     "127.0.0.1 LOCAL\n"
     "! 5.5.5.5 spacebang\n"
     "6.6.6.6\n"
     "7.7.7.7/ x\n"
     "7.7.7.7/33 x\n"
     "[7.7.7.7 x\n"
     "[8.8.8.8]x y\n"
     "8.8.8.0/24 \t  eight   with  spaces   \n"
     "::ffff:9.9.9.9 MAPPED\n"
     "9.9.9.9/32 NINE\n"
     "0.0.0.0/0 ANY4\n"
     "::/0 ANY6\n"
     "IF 1.1.1.1\n"
     "ENDIF\n"
     "endif\n",
     {{"::1", FOUND, "V6LOOP"},
      {"0:0::1", FOUND, "V6LOOP"},
      {"0000:0000:0000:0000:0000:0000:0000:0001", FOUND, "V6LOOP"},
      {"2001:db8:1::1", FOUND, "DB8"},
      {"2001:DB8:1::1", FOUND, "DB8"},
      {"172.16.5.1", FOUND, "IN5"},
      {"172.16.6.1", FOUND, "spacebang"},
      {"172.16.7.1", FOUND, "NOT6"},
      {"1.2.3.4", FOUND, "ONE234"},
      {"127.0.0.1", FOUND, "LOCAL"},
      {"5.5.5.5", FOUND, "ANY4"},
      {"8.8.8.8", FOUND, "spacebang"},
      {"::ffff:9.9.9.9", FOUND, "MAPPED"},
      {"::2", FOUND, "ANY6"},
      {"::1 ", MISSING, NULL},
      {" ::1", MISSING, NULL},
      {"1.2.3.4.5", MISSING, NULL},
      {"01.2.3.4", MISSING, NULL},
      {"fe80::1%eth0", MISSING, NULL},
      {"1:2:3:4:5:6:7:8:9", MISSING, NULL}},
     {"line 13: no lookup result: skipping this rule",
      "line 14: bad mask value in \"7.7.7.7/\": skipping this rule",
      "line 15: bad mask length in \"7.7.7.7/33\": skipping this rule",
      "line 16: missing ']' character after \"[7.7.7.7\": skipping this rule",
      "line 17: garbage after \"[8.8.8.8]\": skipping this rule",
      "line 25: ENDIF without IF: skipping this rule"}},
    /* "if" followed by a non-alphanumeric; values keep inner white space. */
    {"if!1.0.0.0/8\n"
     "2.2.2.2 A\n"
     "endif\n"
     "if[3.0.0.0/8]\n"
     "3.3.3.3 B\n"
     "endif\n"
     "ifx 4.4.4.4 C\n"
     "4.0.0.0/08 MASK08\n"
     "5.0.0.0/0008 MASK0008\n"
     "!!6.6.6.6 DOUBLENEG\n"
     "[7.7.7.7/32] BRACKETMASK\n"
     "[7.7.7.8]/32 BRACKETOUT\n"
     "[::ffff:7.7.7.9] v6b\n"
     "fe80::1%eth0 scoped\n"
     "[fe80::2] LINKLOCAL\n"
     "12.0.0.0/8\ttab\tseparated\n"
     "endif\t\n"
     "0.0.0.0/0 ANY\n",
     {{"2.2.2.2", FOUND, "A"},
      {"1.2.2.2", FOUND, "ANY"},
      {"3.3.3.3", FOUND, "B"},
      {"4.4.4.4", FOUND, "MASK08"},
      {"5.5.5.5", FOUND, "MASK0008"},
      {"6.6.6.6", FOUND, "DOUBLENEG"},
      {"7.7.7.7", FOUND, "BRACKETMASK"},
      {"7.7.7.8", FOUND, "BRACKETOUT"},
      {"fe80::2", FOUND, "LINKLOCAL"},
      {"FE80::2", FOUND, "LINKLOCAL"},
      {"fe80::1", MISSING, NULL},
      {"12.1.1.1", FOUND, "tab\tseparated"},
      {"::ffff:7.7.7.9", FOUND, "v6b"}},
     {"line 7: bad address pattern: \"ifx\": skipping this rule",
      "line 14: bad address pattern: \"fe80::1%eth0\": skipping this rule",
      "line 17: ENDIF without IF: skipping this rule"}},
    /* Mask edge cases; results are literal ($ is not special). */
    {"9.9.9.9 NINE\n"
     "zzz\n"
     "zz/8 x\n"
     "1.2.3.4/ab x\n"
     "[zz] y\n"
     "[1.2.3.0]/24 net\n"
     "1::/16 v6\n"
     "::ffff:0:0/96 mapped\n"
     "1.2.3.4/32/5 y\n"
     "1.2.3.4/-1 y\n"
     "::/129 y\n"
     "5.6.7.8 $1 $$ x\n",
     {{"::ffff:9.9.9.9", FOUND, "mapped"},
      {"9.9.9.9", FOUND, "NINE"},
      {"1.2.3.9", FOUND, "net"},
      {"1:ff::1", FOUND, "v6"},
      {"::ffff:1.1.1.1", FOUND, "mapped"},
      {"5.6.7.8", FOUND, "$1 $$ x"}},
     {"line 2: bad address pattern: \"zzz\": skipping this rule",
      "line 3: bad network value in \"zz/8\": skipping this rule",
      "line 4: bad mask value in \"1.2.3.4/ab\": skipping this rule",
      "line 5: bad address pattern: \"zz\": skipping this rule",
      "line 9: bad mask value in \"1.2.3.4/32/5\": skipping this rule",
      "line 10: bad mask value in \"1.2.3.4/-1\": skipping this rule"}},
    /* An unclosed "if" that fails ends the lookup. */
    {"if 9.0.0.0/8\n"
     "9.9.9.9 NINE\n"
     "0.0.0.0/0 ANY\n",
     {{"9.9.9.9", FOUND, "NINE"}, {"9.1.1.1", FOUND, "ANY"}, {"8.8.8.8", MISSING, NULL}},
     {"line 1: IF has no matching ENDIF"}},
    /* Nesting and the families: a rule answers only for its own family. */
    {"if 10.0.0.0/8\n"
     "if !10.1.0.0/16\n"
     "if 10.2.0.0/16\n"
     "10.2.3.0/24 deep\n"
     "endif\n"
     "10.0.0.0/8 ten-not-ten-one\n"
     "endif\n"
     "endif\n"
     "!::/0 not-v6\n"
     "!0.0.0.0/0 not-v4\n"
     "# comment\n"
     "2001:db8::/32\n"
     "  continued result\n",
     {{"10.2.3.4", FOUND, "deep"},
      {"10.2.4.4", FOUND, "ten-not-ten-one"},
      {"10.1.1.1", MISSING, NULL},
      {"11.1.1.1", MISSING, NULL},
      {"2001:db8::5", FOUND, "continued result"},
      {"2001:db9::5", MISSING, NULL}},
     {NULL}},
};

/* Where we differ from Postfix on purpose (see lib/table_cidr.c, table_rules.h). */
static const struct rules_case deliberate[] = {
    /* A bad "if" fails the lookups that reach it (Postfix skips it). */
    {"1.1.1.1 early\n"
     "if 3.3.3.3 extra\n"
     "3.3.3.3 inner\n"
     "endif\n"
     "0.0.0.0/0 after\n",
     {{"1.1.1.1", FOUND, "early"},
      {"3.3.3.3", FAILED, "line 2: bad IF: bad address pattern: \"3.3.3.3 extra\""},
      {"4.4.4.4", FAILED, "bad IF"},
      {"::1", FAILED, "bad IF"},
      {"not-an-address", MISSING, NULL}},
     {"line 2: bad address pattern: \"3.3.3.3 extra\": lookups that reach this IF will fail"}},
    /* "endif" with text after it still closes its "if". */
    {"if 3.0.0.0/8\n"
     "3.3.3.3 inner\n"
     "endif # the end\n"
     "0.0.0.0/0 after\n",
     {{"3.3.3.3", FOUND, "inner"}, {"4.4.4.4", FOUND, "after"}},
     {"line 3: garbage after ENDIF: ignoring the garbage"}},
    /* A prefix too long to be a number is a bad length (Postfix's atoi wraps). */
    {"1.2.3.4/4294967304 x\n"
     "1.2.3.4/000000000000000000000000032 thirty-two\n",
     {{"1.2.3.4", FOUND, "thirty-two"}},
     {"line 1: bad mask length in \"1.2.3.4/4294967304\": skipping this rule"}},
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
	static const char *const pieces[] = {"1.2.3.4", "/", "!",  "if ", "endif",     "\n", " ",
	                                     "[",       "]", "::", "ff",  "0.0.0.0/0", "24", ":"};
	static const char *const keys[] = {"1.2.3.4", "::1", "255.255.255.255", "x", ""};
	struct dstring text, value;
	struct table *table;
	uint32_t seed = 11;

	dstring_init(&text, 4 * 1024 * 1024);
	dstring_init(&value, TABLE_VALUE_MAX);
	for (int round = 0; round < 30; round++) {
		dstring_reset(&text);
		for (int i = 0; i < 4000; i++) {
			uint32_t choice = next_random(&seed);

			if (choice % 2 == 0)
				dstring_append_str(&text, pieces[(choice >> 4) % 14]);
			else
				dstring_append_char(&text, (char)(choice >> 12));
		}
		rules_write(dstring_str(&text), dstring_length(&text));
		rules_log_reset();
		table = rules_open(&table_type_cidr, rules_path);
		CHECK(table != NULL);
		if (table == NULL)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (table->type->lookup(table, keys[i], &value) == TABLE_ERROR)
				CHECK(strstr(dstring_str(&value), "bad IF") != NULL);
		rules_close(table);
	}

	/* NUL bytes, a 1 MiB line, 10,000 nested ifs. */
	rules_write("1.1.1.1 a\0b\n2.2.2.2 two\n", 24);
	rules_log_reset();
	table = rules_open(&table_type_cidr, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: NUL byte in rule: skipping this rule");
		CHECK_INT_EQ(table->type->lookup(table, "1.1.1.1", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "2.2.2.2", &value), TABLE_FOUND);
		rules_close(table);
	}
	dstring_reset(&text);
	dstring_append_str(&text, "1.1.1.1 ");
	for (int i = 0; i < 1024 * 1024; i++)
		dstring_append_char(&text, 'v');
	dstring_append_str(&text, "\n2.2.2.2 two\n");
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "if 3.0.0.0/8\n");
	dstring_append_str(&text, "3.3.3.3 deep\n");
	for (int i = 0; i < 10000; i++)
		dstring_append_str(&text, "endif\n");
	rules_write(dstring_str(&text), dstring_length(&text));
	rules_log_reset();
	table = rules_open(&table_type_cidr, rules_path);
	CHECK(table != NULL);
	if (table != NULL) {
		rules_check_logged("line 1: rule longer than 65536 bytes: skipping this rule");
		rules_check_logged("line 1003: IF nested more than 1000 deep");
		CHECK_INT_EQ(table->type->lookup(table, "1.1.1.1", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "2.2.2.2", &value), TABLE_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "4.4.4.4", &value), TABLE_NOT_FOUND);
		CHECK_INT_EQ(table->type->lookup(table, "3.3.3.3", &value), TABLE_ERROR);
		rules_close(table);
	}

	/* The interface: missing file, source_file, no iterate, inline rules. */
	{
		struct table bare;
		struct dstring error;
		char long_key[TABLE_KEY_MAX + 10];

		dstring_init(&error, 1000);
		memset(&bare, 0, sizeof(bare));
		CHECK_INT_EQ(table_type_cidr.open(&bare, "/nonexistent/x.cidr", 0, &error), -1);
		CHECK_STR_EQ(dstring_str(&error),
		             "open /nonexistent/x.cidr: No such file or directory");
		CHECK(table_type_cidr.iterate == NULL);
		rules_write("0.0.0.0/0 any\n", 14);
		table = rules_open(&table_type_cidr, rules_path);
		CHECK(table != NULL);
		if (table != NULL) {
			CHECK_STR_EQ(table->type->source_file(table), rules_path);
			memset(long_key, '1', sizeof(long_key) - 1);
			long_key[sizeof(long_key) - 1] = '\0';
			CHECK_INT_EQ(table->type->lookup(table, long_key, &value), TABLE_NOT_FOUND);
			rules_close(table);
		}
		/* postmap -q 10.1.2.3 'cidr:{ {10.0.0.0/8 ten}, {0.0.0.0/0 any} }' */
		table = rules_open(&table_type_cidr, "{ {10.0.0.0/8 ten}, {0.0.0.0/0 any} }");
		CHECK(table != NULL);
		if (table != NULL) {
			CHECK(table->type->source_file(table) == NULL);
			CHECK_INT_EQ(table->type->lookup(table, "10.1.2.3", &value), TABLE_FOUND);
			CHECK_STR_EQ(dstring_str(&value), "ten");
			CHECK_INT_EQ(table->type->lookup(table, "11.1.2.3", &value), TABLE_FOUND);
			CHECK_STR_EQ(dstring_str(&value), "any");
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
	rules_run_cases(&table_type_cidr, postmap_verified,
	                sizeof(postmap_verified) / sizeof(postmap_verified[0]), "verified", true);
	rules_run_cases(&table_type_cidr, deliberate, sizeof(deliberate) / sizeof(deliberate[0]),
	                "deliberate", false);
	test_hostile();
	rules_cleanup();
	return check_finish();
}
