/*
 * test_dstring - limits, formatting, trimming and ownership of dstring.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dstring.h"

/* Appends against a limit: what fits goes in, what does not changes nothing. */
struct append_case {
	size_t limit;
	const char *before; /* set first (must fit) */
	const char *append;
	size_t append_length;
	int expected_status;
	const char *expected; /* contents afterwards */
	bool expected_overflow;
};

static const struct append_case append_cases[] = {
	{10, "", "0123456789", 10, 0, "0123456789", false},
	{10, "", "0123456789a", 11, -1, "", true},
	{10, "abcde", "fghij", 5, 0, "abcdefghij", false},
	{10, "abcde", "fghijk", 6, -1, "abcde", true},
	{10, "0123456789", "", 0, 0, "0123456789", false},
	{10, "0123456789", "x", 1, -1, "0123456789", true},
	{0, "", "", 0, 0, "", false},
	{0, "", "x", 1, -1, "", true},
	/* Past the initial capacity, so the buffer must grow. */
	{200,
	 "",
	 "0123456789012345678901234567890123456789012345678901234567890123456789",
	 70,
	 0,
	 "0123456789012345678901234567890123456789012345678901234567890123456789",
	 false},
};

static void
test_append_limits(void)
{
	for (size_t i = 0; i < sizeof(append_cases) / sizeof(append_cases[0]); i++) {
		const struct append_case *test = &append_cases[i];
		struct dstring string;

		dstring_init(&string, test->limit);
		CHECK_INT_EQ(dstring_set(&string, test->before), 0);
		CHECK_INT_EQ(dstring_append(&string, test->append, test->append_length),
			     test->expected_status);
		CHECK_STR_EQ(dstring_str(&string), test->expected);
		CHECK_INT_EQ(dstring_length(&string), strlen(test->expected));
		CHECK_INT_EQ(string.has_overflowed, test->expected_overflow);
		dstring_fini(&string);
	}
}

static void
test_overflow_mark(void)
{
	struct dstring *string = dstring_new(5);

	CHECK_INT_EQ(dstring_append_str(string, "abc"), 0);
	CHECK_INT_EQ(dstring_append_char(string, 'd'), 0);
	CHECK_INT_EQ(dstring_append_char(string, 'e'), 0);
	CHECK(!string->has_overflowed);
	CHECK_INT_EQ(dstring_append_char(string, 'f'), -1);
	CHECK(string->has_overflowed);
	CHECK_STR_EQ(dstring_str(string), "abcde");
	/* The mark stays until reset, even after appends that fit. */
	dstring_truncate(string, 2);
	CHECK_STR_EQ(dstring_str(string), "ab");
	CHECK_INT_EQ(dstring_append_str(string, "x"), 0);
	CHECK(string->has_overflowed);
	dstring_reset(string);
	CHECK(!string->has_overflowed);
	CHECK_INT_EQ(dstring_length(string), 0);
	CHECK_STR_EQ(dstring_str(string), "");
	/* dstring_set over the limit: refused, mark set. */
	CHECK_INT_EQ(dstring_set(string, "123456"), -1);
	CHECK(string->has_overflowed);
	CHECK_INT_EQ(dstring_set(string, "12345"), 0);
	CHECK(!string->has_overflowed);
	dstring_free(string);
	dstring_free(NULL);
}

struct printf_case {
	size_t limit;
	const char *before;
	int number;
	const char *text;
	int expected_status;
	const char *expected;
};

static const struct printf_case printf_cases[] = {
	{100, "", 250, "ok", 0, "250 ok"},
	{100, "x:", 5, "", 0, "x:5 "},
	{6, "", 250, "ok", 0, "250 ok"},
	{5, "", 250, "ok", -1, ""},
	{8, "ab", 250, "ok", 0, "ab250 ok"},
	{8, "ab", 2500, "ok", -1, "ab"},
};

static void
test_printf(void)
{
	for (size_t i = 0; i < sizeof(printf_cases) / sizeof(printf_cases[0]); i++) {
		const struct printf_case *test = &printf_cases[i];
		struct dstring string;

		dstring_init(&string, test->limit);
		dstring_set(&string, test->before);
		CHECK_INT_EQ(dstring_append_printf(&string, "%d %s", test->number, test->text),
			     test->expected_status);
		CHECK_STR_EQ(dstring_str(&string), test->expected);
		CHECK_INT_EQ(dstring_length(&string), strlen(test->expected));
		CHECK_INT_EQ(string.has_overflowed, test->expected_status < 0);
		dstring_fini(&string);
	}

	/* dstring_printf replaces; a long result grows the buffer. */
	{
		struct dstring string;
		char *expected = malloc(1001);

		memset(expected, 'z', 1000);
		expected[1000] = '\0';
		dstring_init(&string, DSTRING_NO_LIMIT);
		dstring_set(&string, "old");
		CHECK_INT_EQ(dstring_printf(&string, "%s", expected), 0);
		CHECK_STR_EQ(dstring_str(&string), expected);
		CHECK_INT_EQ(dstring_printf(&string, "%s-%s", "a", "b"), 0);
		CHECK_STR_EQ(dstring_str(&string), "a-b");
		/* A NUL byte through %c is kept and counted. */
		CHECK_INT_EQ(dstring_printf(&string, "a%cb", '\0'), 0);
		CHECK_INT_EQ(dstring_length(&string), 3);
		CHECK(memcmp(dstring_str(&string), "a\0b", 4) == 0);
		dstring_fini(&string);
		free(expected);
	}
}

struct trim_case {
	const char *input;
	const char *expected;
};

static const struct trim_case trim_cases[] = {
	{"", ""},
	{"   ", ""},
	{"a", "a"},
	{"  a  ", "a"},
	{"\t\r\n a b \f\v", "a b"},
	{"a  b", "a  b"},
	{" \x01 ", "\x01"},
};

static void
test_trim(void)
{
	for (size_t i = 0; i < sizeof(trim_cases) / sizeof(trim_cases[0]); i++) {
		struct dstring string;

		dstring_init(&string, 100);
		dstring_set(&string, trim_cases[i].input);
		dstring_trim(&string);
		CHECK_STR_EQ(dstring_str(&string), trim_cases[i].expected);
		CHECK_INT_EQ(dstring_length(&string), strlen(trim_cases[i].expected));
		dstring_fini(&string);
	}
}

static void
test_nul_bytes(void)
{
	struct dstring string;

	dstring_init(&string, 10);
	CHECK_INT_EQ(dstring_append(&string, "a\0b\0", 4), 0);
	CHECK_INT_EQ(dstring_append_char(&string, '\0'), 0);
	CHECK_INT_EQ(dstring_length(&string), 5);
	CHECK(memcmp(dstring_str(&string), "a\0b\0\0", 6) == 0);
	dstring_truncate(&string, 3);
	CHECK_INT_EQ(dstring_length(&string), 3);
	CHECK(memcmp(dstring_str(&string), "a\0b", 4) == 0);
	/* Truncating to a longer length changes nothing. */
	dstring_truncate(&string, 8);
	CHECK_INT_EQ(dstring_length(&string), 3);
	dstring_truncate(&string, 0);
	CHECK_INT_EQ(dstring_length(&string), 0);
	CHECK_STR_EQ(dstring_str(&string), "");
	dstring_fini(&string);
}

static void
test_steal(void)
{
	struct dstring string;
	char *stolen;

	dstring_init(&string, 20);
	dstring_set(&string, "taken away");
	dstring_append_str(&string, " and this is too long");
	CHECK(string.has_overflowed);
	stolen = dstring_steal(&string);
	CHECK_STR_EQ(stolen, "taken away");
	/* The string is empty, usable, keeps its limit, and lost the mark. */
	CHECK_INT_EQ(dstring_length(&string), 0);
	CHECK_STR_EQ(dstring_str(&string), "");
	CHECK(!string.has_overflowed);
	CHECK_INT_EQ(string.limit, 20);
	CHECK_INT_EQ(dstring_append_str(&string, "again"), 0);
	CHECK_STR_EQ(dstring_str(&string), "again");
	CHECK(dstring_str(&string) != stolen);
	free(stolen);
	dstring_fini(&string);
}

/* Many small appends across several growths keep every byte. */
static void
test_growth(void)
{
	struct dstring string;
	bool is_intact = true;
	int failures = 0;

	dstring_init(&string, 100000);
	for (int i = 0; i < 100000; i++)
		if (dstring_append_char(&string, (char)(i % 251)) != 0)
			failures++;
	CHECK_INT_EQ(failures, 0);
	CHECK_INT_EQ(dstring_length(&string), 100000);
	CHECK_INT_EQ(dstring_append_char(&string, 'x'), -1);
	for (size_t i = 0; i < dstring_length(&string); i++)
		if ((unsigned char)dstring_str(&string)[i] != i % 251)
			is_intact = false;
	CHECK(is_intact);
	CHECK_INT_EQ(dstring_str(&string)[100000], '\0');
	dstring_fini(&string);
}

int
main(void)
{
	test_append_limits();
	test_overflow_mark();
	test_printf();
	test_trim();
	test_nul_bytes();
	test_steal();
	test_growth();
	return check_finish();
}
