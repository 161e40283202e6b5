/*
 * test_strlist - splitting Postfix-style list values, and brace groups.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dstring.h"
#include "strlist.h"

#define MAX_EXPECTED 6

struct split_case {
	const char *input;
	const char *separators;
	int expected_status;
	const char *expected[MAX_EXPECTED]; /* the items, then NULL */
	const char *expected_error;	    /* when expected_status is -1 */
};

static const struct split_case split_cases[] = {
	/* Separators: any run of commas and white space. */
	{"a, b,c", STRLIST_COMMA_SPACE, 0, {"a", "b", "c", NULL}, NULL},
	{"  a \t b\n c  ", STRLIST_COMMA_SPACE, 0, {"a", "b", "c", NULL}, NULL},
	{",,a,, ,b,,", STRLIST_COMMA_SPACE, 0, {"a", "b", NULL}, NULL},
	{"a\r\nb", STRLIST_COMMA_SPACE, 0, {"a", "b", NULL}, NULL},
	{"one", STRLIST_COMMA_SPACE, 0, {"one", NULL}, NULL},
	{"", STRLIST_COMMA_SPACE, 0, {NULL}, NULL},
	{"  , ,\t", STRLIST_COMMA_SPACE, 0, {NULL}, NULL},
	/* White space only: commas belong to the items. */
	{"a,b c", STRLIST_SPACE, 0, {"a,b", "c", NULL}, NULL},
	{"check_a, check_b", STRLIST_SPACE, 0, {"check_a,", "check_b", NULL}, NULL},
	/* Groups: a whole-group item loses its braces and inner white space. */
	{"{ a b }", STRLIST_COMMA_SPACE, 0, {"a b", NULL}, NULL},
	{"{a b}", STRLIST_COMMA_SPACE, 0, {"a b", NULL}, NULL},
	{"x, { a, b }, y", STRLIST_COMMA_SPACE, 0, {"x", "a, b", "y", NULL}, NULL},
	{"a {b c} d", STRLIST_SPACE, 0, {"a", "b c", "d", NULL}, NULL},
	{"{a},b", STRLIST_COMMA_SPACE, 0, {"a", "b", NULL}, NULL},
	{"{}", STRLIST_COMMA_SPACE, 0, {"", NULL}, NULL},
	{"{ }", STRLIST_COMMA_SPACE, 0, {"", NULL}, NULL},
	{"{ a { b } c }", STRLIST_COMMA_SPACE, 0, {"a { b } c", NULL}, NULL},
	{"{ {a} }", STRLIST_COMMA_SPACE, 0, {"{a}", NULL}, NULL},
	/* A group inside an item keeps it whole, braces and all. */
	{"inline:{ a=1, b=2 }", STRLIST_COMMA_SPACE, 0, {"inline:{ a=1, b=2 }", NULL}, NULL},
	{"hash:/x, inline:{ a=1, b=2 }, z", STRLIST_COMMA_SPACE, 0,
	 {"hash:/x", "inline:{ a=1, b=2 }", "z", NULL}, NULL},
	{"inline:{ {a b}=1, c=2 }", STRLIST_COMMA_SPACE, 0, {"inline:{ {a b}=1, c=2 }", NULL},
	 NULL},
	{"a{b}", STRLIST_COMMA_SPACE, 0, {"a{b}", NULL}, NULL},
	/* Unbalanced braces and text after a group: errors, with what came before. */
	{"{", STRLIST_COMMA_SPACE, -1, {NULL}, "missing '}'"},
	{"a, { b", STRLIST_COMMA_SPACE, -1, {"a", NULL}, "missing '}'"},
	{"inline:{ {a=1 }", STRLIST_COMMA_SPACE, -1, {NULL}, "missing '}'"},
	{"}", STRLIST_COMMA_SPACE, -1, {NULL}, "unexpected '}'"},
	{"a }", STRLIST_COMMA_SPACE, -1, {"a", NULL}, "unexpected '}'"},
	{"{a}}", STRLIST_COMMA_SPACE, -1, {NULL}, "unexpected '}'"},
	{"{a}b", STRLIST_COMMA_SPACE, -1, {NULL}, "text after '}'"},
	{"x {a}{b}", STRLIST_COMMA_SPACE, -1, {"x", NULL}, "text after '}'"},
};

static void
test_split(void)
{
	for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *test = &split_cases[i];
		struct strlist list;
		struct dstring error;
		size_t expected_count = 0;
		int status;

		while (test->expected[expected_count] != NULL)
			expected_count++;
		strlist_init(&list);
		dstring_init(&error, 200);
		status = strlist_split(&list, test->input, test->separators, &error);
		if (status != test->expected_status)
			fprintf(stderr, "case \"%s\"\n", test->input);
		CHECK_INT_EQ(status, test->expected_status);
		CHECK_INT_EQ(list.count, expected_count);
		for (size_t j = 0; j < list.count && j < expected_count; j++)
			CHECK_STR_EQ(list.items[j], test->expected[j]);
		if (list.count > 0)
			CHECK(list.items[list.count] == NULL);
		if (test->expected_error != NULL)
			CHECK_STR_EQ(dstring_str(&error), test->expected_error);
		else
			CHECK_STR_EQ(dstring_str(&error), "");
		/* The same without an error string. */
		strlist_fini(&list);
		CHECK_INT_EQ(strlist_split(&list, test->input, test->separators, NULL),
			     test->expected_status);
		strlist_fini(&list);
		dstring_fini(&error);
	}
}

/* strlist_split appends: two values make one list. */
static void
test_split_appends(void)
{
	struct strlist list;

	strlist_init(&list);
	strlist_append(&list, "first");
	CHECK_INT_EQ(strlist_split(&list, "a b", STRLIST_SPACE, NULL), 0);
	CHECK_INT_EQ(strlist_split(&list, "c", STRLIST_SPACE, NULL), 0);
	CHECK_INT_EQ(list.count, 4);
	CHECK_STR_EQ(list.items[0], "first");
	CHECK_STR_EQ(list.items[3], "c");
	strlist_append_n(&list, "abcdef", 3);
	CHECK_STR_EQ(list.items[4], "abc");
	CHECK(list.items[5] == NULL);
	strlist_fini(&list);
	CHECK_INT_EQ(list.count, 0);
	CHECK(list.items == NULL);
}

static void
test_too_many_items(void)
{
	struct strlist list;
	struct dstring text, error;

	dstring_init(&text, DSTRING_NO_LIMIT);
	for (int i = 0; i < STRLIST_MAX_ITEMS; i++)
		dstring_append_str(&text, "a,");
	strlist_init(&list);
	dstring_init(&error, 200);
	CHECK_INT_EQ(strlist_split(&list, dstring_str(&text), STRLIST_COMMA_SPACE, &error), 0);
	CHECK_INT_EQ(list.count, STRLIST_MAX_ITEMS);
	strlist_fini(&list);
	dstring_append_str(&text, "one-too-many");
	CHECK_INT_EQ(strlist_split(&list, dstring_str(&text), STRLIST_COMMA_SPACE, &error), -1);
	CHECK_STR_EQ(dstring_str(&error), "too many list items");
	CHECK_INT_EQ(list.count, STRLIST_MAX_ITEMS);
	strlist_fini(&list);
	dstring_fini(&error);
	dstring_fini(&text);
}

struct strip_case {
	const char *input;
	const char *expected; /* NULL: unbalanced */
};

static const struct strip_case strip_cases[] = {
	{"", ""},
	{"abc", "abc"},
	{"a{b}", "a{b}"},
	{"x}", "x}"},
	{" {a} ", " {a} "},
	{"{abc}", "abc"},
	{"{ a b }", "a b"},
	{"{\t\r\n a \n}", "a"},
	{"{}", ""},
	{"{ }", ""},
	{"{ {x} }", "{x}"},
	{"{{a}{b}}", "{a}{b}"},
	{"{a}b", NULL},
	{"{a", NULL},
	{"{", NULL},
	{"{a}}", NULL},
	{"{{a}", NULL},
	{"{a} {b}", NULL},
};

static void
test_strip_group(void)
{
	for (size_t i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
		char *inside = strlist_strip_group(strip_cases[i].input);

		CHECK_STR_EQ(inside, strip_cases[i].expected);
		free(inside);
	}
}

int
main(void)
{
	test_split();
	test_split_appends();
	test_too_many_items();
	test_strip_group();
	return check_finish();
}
