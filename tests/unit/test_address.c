/*
 * test_address - finding addresses in header address lists, and the
 * internal and external forms of an address.
 */
#include <string.h>

#include "address.h"
#include "check.h"
#include "dstring.h"

static const struct {
	const char *text;
	const char *expected; /* addresses joined by '|', spans in [] */
} lists[] = {
    {"a@example.com", "[a@example.com]a@example.com"},
    {"John Doe <john@example.com>", "[john@example.com]john@example.com"},
    {"\"Doe, John\" <john@example.com>, b", "[john@example.com]john@example.com|[b]b"},
    {"user (comment)", "[user]user"},
    {"(c) user@x (c2)", "[user@x]user@x"},
    {"\"john doe\"@example.com", "[\"john doe\"@example.com]john doe@example.com"},
    {"undisclosed-recipients:;", ""},
    {"friends: a@x, b@y;, c@z", "[a@x]a@x|[b@y]b@y|[c@z]c@z"},
    {"<@route1,@route2:user@dom>", "[user@dom]user@dom"},
    {"a@[192.0.2.1]", "[a@[192.0.2.1]]a@[192.0.2.1]"},
    {"", ""},
    {" , ,", ""},
    {"<>", ""},
    {"caf\xc3\xa9@example.com", "[caf\xc3\xa9@example.com]caf\xc3\xa9@example.com"},
    {"Name <a@x\n\t>", "[a@x]a@x"},
    {"\"quoted \\\" quote\"@x", "[\"quoted \\\" quote\"@x]quoted \" quote@x"},
};

static const char *const bad_lists[] = {
    "\"unterminated",
    "(unterminated comment",
    "a@[unterminated",
    "((nested) x",
};

int
main(void)
{
	struct dstring error, out;
	struct address_list list;

	dstring_init(&error, 1000);
	dstring_init(&out, 10000);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *text = lists[i].text;

		dstring_reset(&out);
		CHECK(address_list_parse(text, strlen(text), 1000, &list, &error) == 0);
		for (size_t j = 0; j < list.count; j++) {
			if (j > 0)
				dstring_append_char(&out, '|');
			dstring_append_printf(&out, "[%.*s]%s",
			                      (int)(list.spans[j].end - list.spans[j].start),
			                      text + list.spans[j].start, list.spans[j].address);
		}
		if (strcmp(out.data, lists[i].expected) != 0)
			fprintf(stderr, "list %zu: \"%s\"\n", i, text);
		CHECK_STR_EQ(out.data, lists[i].expected);
		address_list_fini(&list);
	}
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		CHECK(address_list_parse(bad_lists[i], strlen(bad_lists[i]), 1000, &list, &error) <
		      0);
		address_list_fini(&list);
	}
	/* The token limit. */
	CHECK(address_list_parse("a,b,c,d", 7, 5, &list, &error) < 0);
	CHECK(strstr(error.data, "more than 5") != NULL);
	address_list_fini(&list);

	dstring_reset(&out);
	address_externalize("john doe@example.com", &out);
	CHECK_STR_EQ(out.data, "\"john doe\"@example.com");
	dstring_reset(&out);
	address_externalize("john.doe@example.com", &out);
	CHECK_STR_EQ(out.data, "john.doe@example.com");
	dstring_reset(&out);
	address_externalize("a.@x", &out);
	CHECK_STR_EQ(out.data, "\"a.\"@x");
	dstring_reset(&out);
	address_externalize("q\"b@x", &out);
	CHECK_STR_EQ(out.data, "\"q\\\"b\"@x");
	dstring_reset(&out);
	CHECK(address_internalize("\"john doe\"@example.com", 22, &out) == 0);
	CHECK_STR_EQ(out.data, "john doe@example.com");
	dstring_reset(&out);
	CHECK(address_internalize("\"open@x", 7, &out) < 0);
	CHECK(address_local_needs_quoting("a b", 3));
	CHECK(!address_local_needs_quoting("a.b+c", 5));
	CHECK(address_local_needs_quoting("", 0));
	CHECK_STR_EQ(address_domain("a@b@c"), "c");
	CHECK(address_domain("user") == NULL);
	dstring_reset(&out);
	address_phrase("John Doe", &out);
	CHECK_STR_EQ(out.data, "John Doe");
	dstring_reset(&out);
	address_phrase("Doe, John", &out);
	CHECK_STR_EQ(out.data, "\"Doe, John\"");
	dstring_fini(&error);
	dstring_fini(&out);
	return check_finish();
}
