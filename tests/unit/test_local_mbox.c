/*
 * test_local_mbox - the mbox pieces local writes with (lib/mbox.h): the
 * "From " separator line and ">From " quoting, also when the input is
 * cut at every possible place.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dstring.h"
#include "mbox.h"

/* quote: text through a quoter in pieces of at most step bytes. */
static char *
quote(const char *text, size_t step)
{
	struct mbox_quoter quoter;
	struct dstring out;
	size_t length = strlen(text);

	dstring_init(&out, DSTRING_NO_LIMIT);
	mbox_quoter_init(&quoter);
	for (size_t at = 0; at < length; at += step)
		mbox_quote(&quoter, text + at, length - at < step ? length - at : step, &out);
	mbox_quote_finish(&quoter, &out);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static const struct {
	const char *input, *expected;
} cases[] = {
    {"", ""},
    {"From me\n", ">From me\n"},
    {"From", "From"},
    {"From\n", "From\n"},
    {"From \n", ">From \n"},
    {"Fro", "Fro"},
    {"Frob me\n", "Frob me\n"},
    {"from me\n", "from me\n"},
    {" From me\n", " From me\n"},
    {">From me\n", ">From me\n"},
    {"a From b\n", "a From b\n"},
    {"x\nFrom y\nFrom z\n", "x\n>From y\n>From z\n"},
    {"x\nFromFrom y\n", "x\nFromFrom y\n"},
    {"x\nFFrom y\n", "x\nFFrom y\n"},
    {"\nFrom \n\nFrom", "\n>From \n\nFrom"},
    {"Subject: x\n\nFrom the start\n>From quoted\nline\n",
     "Subject: x\n\n>From the start\n>From quoted\nline\n"},
    {"8-bit\nFrom \xff\xfe\n", "8-bit\n>From \xff\xfe\n"},
};

int
main(void)
{
	struct dstring line;
	struct mbox_quoter quoter;
	struct dstring out;
	time_t when = 1700000000;
	char expected_date[64];
	struct tm local;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t length = strlen(cases[i].input);

		for (size_t step = 1; step <= length + 1; step++) {
			char *got = quote(cases[i].input, step);

			if (strcmp(got, cases[i].expected) != 0)
				fprintf(stderr, "case %zu step %zu: \"%s\"\n", i, step, got);
			CHECK_STR_EQ(got, cases[i].expected);
			free(got);
		}
	}

	/* The separator line: asctime layout, MAILER-DAEMON for <>, no spaces in the sender. */
	localtime_r(&when, &local);
	strftime(expected_date, sizeof(expected_date), "%a %b %e %H:%M:%S %Y\n", &local);
	dstring_init(&line, 1000);
	mbox_from_line(&line, "user@example.org", when);
	CHECK(strncmp(dstring_str(&line), "From user@example.org ", 22) == 0);
	CHECK_STR_EQ(dstring_str(&line) + 22, expected_date);
	CHECK_INT_EQ(strlen(dstring_str(&line)), 22 + 24 + 1);
	dstring_reset(&line);
	mbox_from_line(&line, "", when);
	CHECK(strncmp(dstring_str(&line), "From MAILER-DAEMON ", 19) == 0);
	dstring_reset(&line);
	mbox_from_line(&line, "a b\tc\n@x", when);
	CHECK(strncmp(dstring_str(&line), "From a_b_c_@x ", 14) == 0);
	dstring_fini(&line);

	/* Whether the message ended in a newline decides the blank line. */
	dstring_init(&out, DSTRING_NO_LIMIT);
	mbox_quoter_init(&quoter);
	CHECK(mbox_ends_with_newline(&quoter));
	mbox_quote(&quoter, "no newline", 10, &out);
	CHECK(!mbox_ends_with_newline(&quoter));
	mbox_quote(&quoter, "\n", 1, &out);
	CHECK(mbox_ends_with_newline(&quoter));
	dstring_fini(&out);
	return check_finish();
}
