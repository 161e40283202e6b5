/*
 * test_network_list - Postfix-style host lists (mynetworks and friends):
 * networks, addresses, names, .domains, tables, negation, /file items,
 * configuration errors, and mynetworks_style on this host's interfaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "network_list.h"

static char directory[] = "/tmp/test_network_list.XXXXXX";
static char path_buffer[512];

static const char *
path(const char *name)
{
	snprintf(path_buffer, sizeof(path_buffer), "%s/%s", directory, name);
	return path_buffer;
}

static void
write_file(const char *name, const char *text)
{
	FILE *file = fopen(path(name), "w");

	if (file == NULL) {
		perror(name);
		exit(1);
	}
	fputs(text, file);
	fclose(file);
}

struct match_case {
	const char *list;
	bool parents;
	const char *hostname;
	const char *address;
	enum network_list_result expected;
};

#define M NETWORK_LIST_MATCH
#define N NETWORK_LIST_NO_MATCH
#define E NETWORK_LIST_ERROR

static void
test_matches(void)
{
	char list_text[1024];
	const struct match_case cases[] = {
	    {"127.0.0.0/8", false, NULL, "127.0.0.1", M},
	    {"127.0.0.0/8", false, NULL, "127.255.1.2", M},
	    {"127.0.0.0/8", false, NULL, "128.0.0.1", N},
	    {"127.0.0.1/32", false, NULL, "127.0.0.2", N},
	    {"192.0.2.0/25", false, NULL, "192.0.2.127", M},
	    {"192.0.2.0/25", false, NULL, "192.0.2.128", N},
	    {"0.0.0.0/0", false, NULL, "203.0.113.9", M},
	    {"192.0.2.7", false, NULL, "192.0.2.7", M},
	    {"192.0.2.7", false, NULL, "192.0.2.70", N},
	    {"[192.0.2.7]", false, NULL, "192.0.2.7", M},
	    {"192.0.2.0/24", false, NULL, "::ffff:192.0.2.9", M},
	    {"[2001:db8::]/32", false, NULL, "2001:db8:1::5", M},
	    {"[2001:db8::]/32", false, NULL, "2001:db9::5", N},
	    {"2001:db8::/32", false, NULL, "2001:DB8::1", M},
	    {"[::1]", false, NULL, "::1", M},
	    {"[::1]/128", false, NULL, "::2", N},
	    /* An IPv4 network never matches an IPv6 client and back. */
	    {"0.0.0.0/0", false, NULL, "2001:db8::1", N},
	    {"[::]/0", false, NULL, "192.0.2.1", M}, /* ::/0 covers mapped too */
	    {"host.example.com", false, "HOST.example.com", "192.0.2.1", M},
	    {"host.example.com", false, "host.example.com.", "192.0.2.1", M},
	    {"host.example.com", false, "a.host.example.com", "192.0.2.1", N},
	    {"host.example.com", true, "a.host.example.com", "192.0.2.1", M},
	    {"host.example.com", true, "xhost.example.com", "192.0.2.1", N},
	    {".example.com", false, "a.example.com", NULL, M},
	    {".example.com", false, "example.com", NULL, N},
	    {"unknown", false, "unknown", "192.0.2.1", N},
	    {"!192.0.2.5 192.0.2.0/24", false, NULL, "192.0.2.5", N},
	    {"!192.0.2.5 192.0.2.0/24", false, NULL, "192.0.2.6", M},
	    {"192.0.2.0/24, !192.0.2.5", false, NULL, "192.0.2.5", M},
	    {"!!192.0.2.5", false, NULL, "192.0.2.5", M},
	    {"", false, "host", "192.0.2.5", N},
	    {"inline:{ 192.0.2.9=ok }", false, NULL, "192.0.2.9", M},
	    {"inline:{ 192.0.2=ok }", false, NULL, "192.0.2.9", M},
	    {"inline:{ example.com=ok }", true, "mx.example.com", "192.0.2.9", M},
	    {"inline:{ .example.com=ok }", false, "mx.example.com", "192.0.2.9", M},
	    {"inline:{ example.com=ok }", false, "mx.example.org", "192.0.2.9", N},
	};
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct network_list *list;

		snprintf(list_text, sizeof(list_text), "%s", cases[i].list);
		list = network_list_open("mynetworks", list_text, cases[i].parents, &error);
		CHECK(list != NULL);
		if (list == NULL) {
			fprintf(stderr, "case %zu: %s\n", i, dstring_str(&error));
			continue;
		}
		if (network_list_match(list, cases[i].hostname, cases[i].address) !=
		    cases[i].expected)
			fprintf(stderr, "case %zu (%s vs %s %s) wrong\n", i, cases[i].list,
			        cases[i].hostname ? cases[i].hostname : "-",
			        cases[i].address ? cases[i].address : "-");
		CHECK_INT_EQ(network_list_match(list, cases[i].hostname, cases[i].address),
		             cases[i].expected);
		network_list_free(list);
	}
	dstring_fini(&error);
}

static void
test_files_and_tables(void)
{
	struct dstring error;
	struct network_list *list;
	char text[2048];

	dstring_init(&error, DSTRING_NO_LIMIT);
	write_file("networks", "# our networks\n192.0.2.0/24\n  # indented comment 10.0.0.0/8\n"
	                       "!198.51.100.7, 198.51.100.0/24\n");
	write_file("clients.cidr", "203.0.113.0/24 OK\n");
	{
		char networks[512];

		snprintf(networks, sizeof(networks), "%s", path("networks"));
		snprintf(text, sizeof(text), "%s cidr:%s", networks, path("clients.cidr"));
	}
	list = network_list_open("mynetworks", text, false, &error);
	CHECK(list != NULL);
	if (list != NULL) {
		CHECK_INT_EQ(network_list_match(list, NULL, "192.0.2.1"), M);
		CHECK_INT_EQ(network_list_match(list, NULL, "10.1.1.1"), N);
		CHECK_INT_EQ(network_list_match(list, NULL, "198.51.100.7"), N);
		CHECK_INT_EQ(network_list_match(list, NULL, "198.51.100.8"), M);
		CHECK_INT_EQ(network_list_match(list, NULL, "203.0.113.200"), M);
		CHECK_INT_EQ(network_list_match(list, NULL, "203.0.114.1"), N);
		network_list_free(list);
	}
	/* A table that cannot be opened is a configuration error now. */
	snprintf(text, sizeof(text), "192.0.2.0/24 lmdb:%s", path("missing"));
	list = network_list_open("mynetworks", text, false, &error);
	CHECK(list == NULL);
	CHECK(strstr(dstring_str(&error), "mynetworks") != NULL);
	dstring_fini(&error);
}

static void
test_errors(void)
{
	static const struct {
		const char *text;
		const char *part;
	} cases[] = {
	    {"192.0.2.0/33", "192.0.2.0/33"},
	    {"192.0.2.1/24", "192.0.2.1/24"},
	    {"[2001:db8::1]/32", "2001:db8::1"},
	    {"192.0.2.0/x", "192.0.2.0/x"},
	    {"300.1.2.3", "300.1.2.3"},
	    {"nosuchtype:/x", "nosuchtype"},
	    {"/nonexistent/file/list", "/nonexistent/file/list"},
	    {"!", "empty"},
	    {"{ unbalanced", "mynetworks"},
	};
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct network_list *list;

		dstring_reset(&error);
		list = network_list_open("mynetworks", cases[i].text, false, &error);
		CHECK(list == NULL);
		network_list_free(list);
		CHECK(strstr(dstring_str(&error), cases[i].part) != NULL);
		if (strstr(dstring_str(&error), cases[i].part) == NULL)
			fprintf(stderr, "error for %s: %s\n", cases[i].text, dstring_str(&error));
	}
	dstring_fini(&error);
}

static void
test_styles(void)
{
	struct dstring networks, error;
	struct network_list *list;

	dstring_init(&networks, DSTRING_NO_LIMIT);
	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(network_list_mynetworks("host", &networks, &error), 0);
	CHECK(strstr(dstring_str(&networks), "127.0.0.1/32") != NULL);
	list = network_list_open("mynetworks", dstring_str(&networks), false, &error);
	CHECK(list != NULL);
	CHECK_INT_EQ(network_list_match(list, NULL, "127.0.0.1"), M);
	CHECK_INT_EQ(network_list_match(list, NULL, "127.0.0.2"), N);
	network_list_free(list);

	dstring_reset(&networks);
	CHECK_INT_EQ(network_list_mynetworks("subnet", &networks, &error), 0);
	CHECK(strstr(dstring_str(&networks), "127.0.0.0/8") != NULL);
	list = network_list_open("mynetworks", dstring_str(&networks), false, &error);
	CHECK(list != NULL);
	CHECK_INT_EQ(network_list_match(list, NULL, "127.0.0.2"), M);
	network_list_free(list);

	dstring_reset(&networks);
	CHECK_INT_EQ(network_list_mynetworks("CLASS", &networks, &error), 0);
	CHECK(strstr(dstring_str(&networks), "127.0.0.0/8") != NULL);

	CHECK_INT_EQ(network_list_mynetworks("galaxy", &networks, &error), -1);
	CHECK(strstr(dstring_str(&error), "galaxy") != NULL);
	dstring_fini(&networks);
	dstring_fini(&error);
}

int
main(void)
{
	if (mkdtemp(directory) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_matches();
	test_files_and_tables();
	test_errors();
	test_styles();
	{
		const char *names[] = {"networks", "clients.cidr"};

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			unlink(path(names[i]));
		rmdir(directory);
	}
	return check_finish();
}
