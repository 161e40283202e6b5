/*
 * test_table_search - the lookup orders: for each input, the exact keys
 * tried (full "F" or partial "P"), with a recording fake; then the same
 * searches over real tables (inline:, pcre:, a table list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_search.h"

/* A fake table: records the keys, answers `answer_key` or fails at `error_key`. */
struct recorder {
	struct dstring keys;
	const char *answer_key;
	const char *error_key;
};

static enum table_result
record(void *context, const char *key, bool is_partial, const char **value)
{
	struct recorder *recorder = context;

	dstring_append_printf(&recorder->keys, "%s%s/%c",
	                      dstring_length(&recorder->keys) ? " " : "", key,
	                      is_partial ? 'P' : 'F');
	if (recorder->error_key != NULL && strcmp(key, recorder->error_key) == 0) {
		*value = "cannot read";
		return TABLE_ERROR;
	}
	if (recorder->answer_key != NULL && strcmp(key, recorder->answer_key) == 0) {
		*value = "answer";
		return TABLE_FOUND;
	}
	*value = NULL;
	return TABLE_NOT_FOUND;
}

enum search_kind { DOMAIN, ADDRESS, ACCESS, NETWORK, CLIENT };

struct order_case {
	enum search_kind kind;
	const char *input; /* CLIENT: "hostname address" */
	const char *delimiters;
	bool is_local;    /* ADDRESS; for DOMAIN, ACCESS, CLIENT: parent style */
	const char *keys; /* every key tried, in order */
};

static const struct order_case orders[] = {
    /* Domains: transport(5), access(5). */
    {DOMAIN, "sub.example.com", NULL, true, "sub.example.com/F example.com/P com/P"},
    {DOMAIN, "sub.example.com", NULL, false, "sub.example.com/F .example.com/P .com/P"},
    {DOMAIN, "localhost", NULL, false, "localhost/F"},
    {DOMAIN, "1.2.3.4", NULL, true, "1.2.3.4/F"},
    {DOMAIN, "[1.2.3.4]", NULL, true, "[1.2.3.4]/F"},
    {DOMAIN, "2001:db8::1", NULL, true, "2001:db8::1/F"},
    {DOMAIN, "example.com.", NULL, true, "example.com./F com./P"},
    {DOMAIN, "example.com.", NULL, false, "example.com./F .com./P ./P"},
    {DOMAIN, ".example.com", NULL, true, ".example.com/F com/P"},
    {DOMAIN, "", NULL, true, ""},
    /* Addresses: virtual(5), aliases. */
    {ADDRESS, "user+ext@example.com", "+", false,
     "user+ext@example.com/F user@example.com/P @example.com/P"},
    {ADDRESS, "user+ext@example.com", "+", true,
     "user+ext@example.com/F user@example.com/P user+ext/P user/P @example.com/P"},
    {ADDRESS, "user+ext@example.com", NULL, true,
     "user+ext@example.com/F user+ext/P @example.com/P"},
    {ADDRESS, "user@example.com", "+", true, "user@example.com/F user/P @example.com/P"},
    {ADDRESS, "user+ext", "+", false, "user+ext/F user/P"},
    {ADDRESS, "user", "+", true, "user/F"},
    {ADDRESS, "a+b-c@d", "-+", false, "a+b-c@d/F a@d/P @d/P"},
    {ADDRESS, "a-b+c@d", "-+", false, "a-b+c@d/F a@d/P @d/P"},
    {ADDRESS, "+ext@d", "+", false, "+ext@d/F @d/P"},
    {ADDRESS, "user+@d", "+", false, "user+@d/F user@d/P @d/P"},
    {ADDRESS, "owner-list@d", "-", false, "owner-list@d/F @d/P"},
    {ADDRESS, "list-request@d", "-", false, "list-request@d/F @d/P"},
    {ADDRESS, "owner+x@d", "+", false, "owner+x@d/F owner@d/P @d/P"},
    {ADDRESS, "mailer-daemon@d", "-", false, "mailer-daemon@d/F @d/P"},
    {ADDRESS, "Postmaster@d", "+", false, "Postmaster@d/F @d/P"},
    {ADDRESS, "double-bounce@d", "-", false, "double-bounce@d/F @d/P"},
    {ADDRESS, "john doe@example.com", NULL, true,
     "\"john doe\"@example.com/F john doe@example.com/F \"john doe\"/P john doe/P "
     "@example.com/P"},
    {ADDRESS, "a..b+x@d", "+", false, "\"a..b+x\"@d/F a..b+x@d/F \"a..b\"@d/P a..b@d/P @d/P"},
    {ADDRESS, "q\"x@d", NULL, false, "\"q\\\"x\"@d/F q\"x@d/F @d/P"},
    {ADDRESS, "@d", NULL, false, "\"\"@d/F @d/F @d/P"},
    /* Sender and recipient access: access(5). */
    {ACCESS, "user+ext@sub.example.com", "+", false,
     "user+ext@sub.example.com/F user@sub.example.com/P sub.example.com/P .example.com/P "
     ".com/P user+ext@/P user@/P"},
    {ACCESS, "user@example.com", "+", true, "user@example.com/F example.com/P com/P user@/P"},
    {ACCESS, "user@[1.2.3.4]", NULL, true, "user@[1.2.3.4]/F [1.2.3.4]/P user@/P"},
    /* Client addresses: access(5). */
    {NETWORK, "1.2.3.4", NULL, false, "1.2.3.4/F 1.2.3/P 1.2/P 1/P"},
    {NETWORK, "1:2:3::4", NULL, false, "1:2:3::4/F 1:2:3:/P 1:2:3/P 1:2/P 1/P"},
    {NETWORK, "2001:db8::1", NULL, false, "2001:db8::1/F 2001:db8:/P 2001:db8/P 2001/P"},
    {NETWORK, "::ffff:192.0.2.1", NULL, false, "192.0.2.1/F 192.0.2/P 192.0/P 192/P"},
    {NETWORK, "::1", NULL, false, "::1/F :/P"},
    {CLIENT, "mail.example.com 192.0.2.1", NULL, true,
     "mail.example.com/F example.com/P com/P 192.0.2.1/F 192.0.2/P 192.0/P 192/P"},
    {CLIENT, "mail.example.com 192.0.2.1", NULL, false,
     "mail.example.com/F .example.com/P .com/P 192.0.2.1/F 192.0.2/P 192.0/P 192/P"},
    {CLIENT, "unknown 2001:db8::1", NULL, true,
     "unknown/F 2001:db8::1/F 2001:db8:/P 2001:db8/P 2001/P"},
};

static enum table_result
run(struct table_search *search, const struct order_case *order, const char **value)
{
	struct table_search_address_options options;
	char *copy, *space;
	enum table_result result = TABLE_NOT_FOUND;

	memset(&options, 0, sizeof(options));
	options.delimiters = order->delimiters;
	switch (order->kind) {
	case DOMAIN:
		return table_search_domain(search, order->input, order->is_local, value);
	case ADDRESS:
		options.is_local_domain = order->is_local;
		return table_search_address(search, order->input, &options, value);
	case ACCESS:
		return table_search_access_address(search, order->input, &options, order->is_local,
		                                   value);
	case NETWORK:
		return table_search_network(search, order->input, value);
	case CLIENT:
		copy = strdup(order->input);
		space = strchr(copy, ' ');
		*space = '\0';
		result = table_search_client(search, copy, space + 1, order->is_local, value);
		free(copy);
		return result;
	}
	return result;
}

static void
test_orders(void)
{
	struct recorder recorder = {.answer_key = NULL};
	struct table_search search;

	dstring_init(&recorder.keys, DSTRING_NO_LIMIT);
	table_search_init(&search, record, &recorder);
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		const char *value = "unchanged";

		dstring_reset(&recorder.keys);
		CHECK_INT_EQ(run(&search, &orders[i], &value), TABLE_NOT_FOUND);
		CHECK(value == NULL);
		if (strcmp(dstring_str(&recorder.keys), orders[i].keys) != 0)
			fprintf(stderr, "case %zu: %s\n", i, orders[i].input);
		CHECK_STR_EQ(dstring_str(&recorder.keys), orders[i].keys);
	}
	table_search_fini(&search);
	dstring_fini(&recorder.keys);
}

/* The first answer ends the search; so does the first error. */
static void
test_answers_and_errors(void)
{
	struct recorder recorder = {.answer_key = "user@example.com"};
	struct table_search_address_options options = {.delimiters = "+", .is_local_domain = true};
	struct table_search search;
	const char *value;

	dstring_init(&recorder.keys, DSTRING_NO_LIMIT);
	table_search_init(&search, record, &recorder);

	CHECK_INT_EQ(table_search_address(&search, "user+ext@example.com", &options, &value),
	             TABLE_FOUND);
	CHECK_STR_EQ(value, "answer");
	CHECK_STR_EQ(table_search_key(&search), "user@example.com");
	CHECK_STR_EQ(table_search_extension(&search), "+ext");
	CHECK_STR_EQ(dstring_str(&recorder.keys), "user+ext@example.com/F user@example.com/P");

	/* A full match has no extension to report. */
	recorder.answer_key = "user+ext@example.com";
	CHECK_INT_EQ(table_search_address(&search, "user+ext@example.com", &options, &value),
	             TABLE_FOUND);
	CHECK_STR_EQ(table_search_extension(&search), "");

	/* The localpart without extension, for a local domain. */
	recorder.answer_key = "user-a";
	dstring_reset(&recorder.keys);
	CHECK_INT_EQ(table_search_address(&search, "user-a+b@example.com", &options, &value),
	             TABLE_FOUND);
	CHECK_STR_EQ(table_search_key(&search), "user-a");
	CHECK_STR_EQ(table_search_extension(&search), "+b");
	recorder.answer_key = "user";
	options.delimiters = "+-";
	CHECK_INT_EQ(table_search_address(&search, "user-a+b@example.com", &options, &value),
	             TABLE_FOUND);
	CHECK_STR_EQ(table_search_key(&search), "user");
	CHECK_STR_EQ(table_search_extension(&search), "-a+b");

	/* An error ends the search at once: no later key may answer. */
	recorder.answer_key = "@example.com";
	recorder.error_key = "user@example.com";
	dstring_reset(&recorder.keys);
	CHECK_INT_EQ(table_search_address(&search, "user+ext@example.com", &options, &value),
	             TABLE_ERROR);
	CHECK_STR_EQ(value, "cannot read");
	CHECK_STR_EQ(dstring_str(&recorder.keys), "user+ext@example.com/F user@example.com/P");

	recorder.error_key = ".example.com";
	recorder.answer_key = ".com";
	dstring_reset(&recorder.keys);
	CHECK_INT_EQ(table_search_domain(&search, "a.example.com", false, &value), TABLE_ERROR);
	CHECK_STR_EQ(dstring_str(&recorder.keys), "a.example.com/F .example.com/P");

	recorder.error_key = NULL;
	recorder.answer_key = "192.0.2";
	CHECK_INT_EQ(table_search_client(&search, NULL, "192.0.2.77", true, &value), TABLE_FOUND);
	CHECK_STR_EQ(table_search_key(&search), "192.0.2");

	table_search_fini(&search);
	dstring_fini(&recorder.keys);
}

/* Real tables: folding by the table, pattern tables see full keys only. */
static void
test_real_tables(void)
{
	struct dstring error;
	struct table *table;
	struct table_list *list;
	struct table_search search;
	struct table_search_address_options options = {.delimiters = "+"};
	const char *value;
	char path[] = "/tmp/test_table_search.XXXXXX";
	char spec[64];
	FILE *file;
	int fd;

	dstring_init(&error, DSTRING_NO_LIMIT);
	table = table_open("inline:{ {User@Example.com = full}, {@example.com = catchall}, "
	                   "{.example.net = dotted}, {example.org = parent} }",
	                   TABLE_FOLD_CASE, &error);
	CHECK(table != NULL);
	if (table != NULL) {
		table_search_use_table(&search, table);
		CHECK_INT_EQ(table_search_address(&search, "USER+x@EXAMPLE.COM", &options, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "full");
		CHECK_STR_EQ(table_search_extension(&search), "+x");
		CHECK_INT_EQ(table_search_address(&search, "other@example.com", &options, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "catchall");
		CHECK_INT_EQ(table_search_address(&search, "other@example.edu", &options, &value),
		             TABLE_NOT_FOUND);
		CHECK_INT_EQ(table_search_domain(&search, "a.b.example.net", false, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "dotted");
		CHECK_INT_EQ(table_search_domain(&search, "example.net", false, &value),
		             TABLE_NOT_FOUND);
		CHECK_INT_EQ(table_search_domain(&search, "mx.example.org", true, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "parent");
		CHECK_INT_EQ(table_search_domain(&search, "mx.example.org", false, &value),
		             TABLE_NOT_FOUND);
		table_search_fini(&search);
		table_close(table);
	}

	/* pcre: the full key only, as Postfix's DICT_FLAG_FIXED rule. */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	file = fdopen(fd, "w");
	fputs("/^example\\.com$/ parent\n/^mail\\.example\\.com$/ host\n/^user@d$/ bare\n"
	      "/^@d$/ catchall\n/^full\\+x@d$/ full\n",
	      file);
	fclose(file);
	snprintf(spec, sizeof(spec), "pcre:%s", path);
	table = table_open(spec, 0, &error);
	if (table == NULL)
		fprintf(stderr, "%s\n", dstring_str(&error));
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK(table_search_is_pattern_table(table));
		table_search_use_table(&search, table);
		CHECK_INT_EQ(table_search_domain(&search, "sub.example.com", true, &value),
		             TABLE_NOT_FOUND);
		CHECK_INT_EQ(table_search_domain(&search, "mail.example.com", true, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "host");
		/* user@d and @d are partial keys here: the patterns never see them. */
		CHECK_INT_EQ(table_search_address(&search, "user+x@d", &options, &value),
		             TABLE_NOT_FOUND);
		CHECK_INT_EQ(table_search_address(&search, "full+x@d", &options, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "full");
		CHECK_INT_EQ(table_search_address(&search, "user@d", &options, &value),
		             TABLE_FOUND);
		CHECK_STR_EQ(value, "bare");
		table_search_fini(&search);
		table_close(table);
	}
	unlink(path);

	/* A list: the first table with the key answers. */
	list = table_list_open("inline:{ {a.example = first} }, inline:{ {example = second}, "
	                       "{a.example = shadowed} }",
	                       TABLE_FOLD_CASE);
	table_search_use_list(&search, list);
	CHECK_INT_EQ(table_search_domain(&search, "A.Example", true, &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "first");
	CHECK_INT_EQ(table_search_domain(&search, "b.example", true, &value), TABLE_FOUND);
	CHECK_STR_EQ(value, "second");
	table_search_fini(&search);
	table_list_close(list);

	/* A list with a table that cannot be opened: an error, never "not found". */
	list = table_list_open("lmdb:/nonexistent/hikyaku/table, inline:{ {x = y} }", 0);
	table_search_use_list(&search, list);
	CHECK_INT_EQ(table_search_domain(&search, "x", true, &value), TABLE_ERROR);
	table_search_fini(&search);
	table_list_close(list);

	dstring_fini(&error);
}

static void
test_parent_style(void)
{
	const char *setting = "debug_peer_list,fast_flush_domains, mynetworks "
	                      "smtpd_access_maps";

	CHECK(table_search_parent_style(setting, "smtpd_access_maps"));
	CHECK(table_search_parent_style(setting, "mynetworks"));
	CHECK(!table_search_parent_style(setting, "transport_maps"));
	CHECK(!table_search_parent_style("", "transport_maps"));
	CHECK(!table_search_parent_style(NULL, "transport_maps"));
}

int
main(void)
{
	log_open("test_table_search", 0);
	/* Link the types in even while table.c refers to them weakly. */
	CHECK(table_type_lmdb.lookup != NULL && table_type_pcre.lookup != NULL);
	test_orders();
	test_answers_and_errors();
	test_real_tables();
	test_parent_style();
	return check_finish();
}
