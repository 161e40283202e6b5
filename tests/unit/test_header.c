/*
 * test_header - header line classification, names and unfolding.
 */
#include <string.h>

#include "check.h"
#include "dstring.h"
#include "header.h"

static const struct {
	const char *line;
	bool is_first;
	enum header_line_kind kind;
	size_t name_length;
	size_t value_start;
} lines[] = {
    {"Subject: hello", true, HEADER_LINE_START, 7, 8},
    {"Subject:hello", true, HEADER_LINE_START, 7, 8},
    {"Subject : obsolete space", true, HEADER_LINE_START, 7, 9},
    {"X-8bit: caf\xc3\xa9", true, HEADER_LINE_START, 6, 7},
    {" folded", false, HEADER_LINE_CONTINUATION, 0, 0},
    {"\tfolded", false, HEADER_LINE_CONTINUATION, 0, 0},
    {" folded first", true, HEADER_LINE_OTHER, 0, 0},
    {"", false, HEADER_LINE_EMPTY, 0, 0},
    {"\r", false, HEADER_LINE_EMPTY, 0, 0},
    {"no colon here", false, HEADER_LINE_OTHER, 0, 0},
    {":empty name", false, HEADER_LINE_OTHER, 0, 0},
    {"Bad\x01name: x", false, HEADER_LINE_OTHER, 0, 0},
    {"From mbox line", true, HEADER_LINE_OTHER, 0, 0},
    {"Na\xc3\xa9me: 8-bit name", false, HEADER_LINE_OTHER, 0, 0},
};

int
main(void)
{
	struct dstring out;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t name_length, value_start;
		enum header_line_kind kind =
		    header_classify(lines[i].line, strlen(lines[i].line), lines[i].is_first,
		                    &name_length, &value_start);

		if (kind != lines[i].kind || name_length != lines[i].name_length ||
		    value_start != lines[i].value_start) {
			fprintf(stderr, "line %zu \"%s\": kind %d name %zu value %zu\n", i,
			        lines[i].line, kind, name_length, value_start);
			CHECK(0);
		} else {
			CHECK(1);
		}
	}
	/* A name of 257 characters is not a header name. */
	{
		char long_name[300];
		size_t name_length, value_start;

		memset(long_name, 'a', 257);
		memcpy(long_name + 257, ": x", 4);
		CHECK(header_classify(long_name, strlen(long_name), true, &name_length,
		                      &value_start) == HEADER_LINE_OTHER);
	}
	/* NUL bytes are data, and never read past length. */
	{
		size_t name_length, value_start;

		CHECK(header_classify("A\0: x", 5, true, &name_length, &value_start) ==
		      HEADER_LINE_OTHER);
		CHECK(header_classify("A: \0x", 5, true, &name_length, &value_start) ==
		      HEADER_LINE_START);
	}
	dstring_init(&out, 100);
	CHECK(header_unfold(" a\n b\r\n\tc  ", 11, &out) == 0);
	CHECK_STR_EQ(out.data, "a b\tc");
	dstring_reset(&out);
	dstring_fini(&out);
	dstring_init(&out, 3);
	CHECK(header_unfold("abcdef", 6, &out) < 0);
	dstring_fini(&out);

	CHECK(header_kind("FROM", 4) == HEADER_FROM);
	CHECK(header_kind("resent-bcc", 10) == HEADER_RESENT_BCC);
	CHECK(header_kind("Message-Id", 10) == HEADER_MESSAGE_ID);
	CHECK(header_kind("X-From", 6) == HEADER_OTHER);
	CHECK(header_is_sender_kind(HEADER_REPLY_TO));
	CHECK(!header_is_sender_kind(HEADER_TO));
	CHECK(header_is_recipient_kind(HEADER_BCC));
	CHECK(header_name_has_prefix("Resent-To", 9, "resent-"));
	return check_finish();
}
