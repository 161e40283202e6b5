/*
 * test_recipient_log - the defer/ and bounce/ logs: append, read back,
 * hostile records, the last record wins, remove.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "queue_dir.h"
#include "recipient_log.h"

static const char *id = "1J0UUC7K0VLAEOGH";

static void
test_round_trip(const char *queue_directory)
{
	struct recipient_log_entry entries[2] = {
	    {.queue_index = 0,
	     .address = "bob@example.com",
	     .original = "Bob@Example.COM",
	     .orcpt = "rfc822;bob@example.com",
	     .notify = 6,
	     .action = "delayed",
	     .dsn = "4.4.1",
	     .reason = "connect to mx.example.com[192.0.2.1]:25: Connection refused",
	     .relay = "none",
	     .time = 1700000000},
	    {.queue_index = 1,
	     .address = "tab\there@example.com",
	     .action = "failed",
	     .dsn = "5.1.1",
	     .reason = "line\nbreak % 100\x01\xff end",
	     .relay = "mx.example.com[192.0.2.1]:25",
	     .diagnostic = "smtp; 550 5.1.1 no",
	     .remote_mta = "dns; mx.example.com",
	     .time = 1},
	};
	struct recipient_log log = {0};
	struct dstring error, path;
	const struct recipient_log_entry *found;

	dstring_init(&error, 1000);
	dstring_init(&path, 1000);
	CHECK_INT_EQ(recipient_log_append(queue_directory, RECIPIENT_LOG_DEFER, id, entries, 2,
	                                  true, &error),
	             0);
	recipient_log_path(&path, queue_directory, RECIPIENT_LOG_DEFER, id);
	CHECK(access(dstring_str(&path), F_OK) == 0);
	CHECK(strstr(dstring_str(&path), "/defer/L/1J0UUC7K0VLAEOGH") != NULL);
	CHECK_INT_EQ(recipient_log_read(queue_directory, RECIPIENT_LOG_DEFER, id, &log, &error), 0);
	CHECK_INT_EQ(log.count, 2);
	CHECK_INT_EQ(log.skipped, 0);
	if (log.count == 2) {
		CHECK_INT_EQ(log.entries[0].queue_index, 0);
		CHECK_STR_EQ(log.entries[0].address, "bob@example.com");
		CHECK_STR_EQ(log.entries[0].original, "Bob@Example.COM");
		CHECK_STR_EQ(log.entries[0].orcpt, "rfc822;bob@example.com");
		CHECK_INT_EQ(log.entries[0].notify, 6);
		CHECK_STR_EQ(log.entries[0].action, "delayed");
		CHECK_STR_EQ(log.entries[0].dsn, "4.4.1");
		CHECK_STR_EQ(log.entries[0].reason, entries[0].reason);
		CHECK_STR_EQ(log.entries[0].relay, "none");
		CHECK_STR_EQ(log.entries[0].diagnostic, "");
		CHECK_INT_EQ(log.entries[0].time, 1700000000);
		CHECK_STR_EQ(log.entries[1].address, "tab\there@example.com");
		CHECK_STR_EQ(log.entries[1].reason, entries[1].reason);
		CHECK_STR_EQ(log.entries[1].remote_mta, "dns; mx.example.com");
	}
	/* A retry appends; the last record for a recipient counts. */
	entries[0].reason = "second attempt";
	CHECK_INT_EQ(recipient_log_append(queue_directory, RECIPIENT_LOG_DEFER, id, entries, 1,
	                                  false, &error),
	             0);
	CHECK_INT_EQ(recipient_log_read(queue_directory, RECIPIENT_LOG_DEFER, id, &log, &error), 0);
	CHECK_INT_EQ(log.count, 3);
	found = recipient_log_find(&log, 0, NULL);
	CHECK(found != NULL && strcmp(found->reason, "second attempt") == 0);
	found = recipient_log_find(&log, UINT32_MAX, "tab\there@example.com");
	CHECK(found != NULL && found->queue_index == 1);
	CHECK(recipient_log_find(&log, 7, NULL) == NULL);
	CHECK(recipient_log_find(&log, UINT32_MAX, "nobody") == NULL);

	/* The bounce log is another file. */
	CHECK_INT_EQ(recipient_log_read(queue_directory, RECIPIENT_LOG_BOUNCE, id, &log, &error),
	             0);
	CHECK_INT_EQ(log.count, 0);

	CHECK_INT_EQ(recipient_log_remove(queue_directory, RECIPIENT_LOG_DEFER, id, &error), 0);
	CHECK(access(dstring_str(&path), F_OK) != 0);
	CHECK_INT_EQ(recipient_log_remove(queue_directory, RECIPIENT_LOG_DEFER, id, &error), 0);
	CHECK_INT_EQ(recipient_log_read(queue_directory, RECIPIENT_LOG_DEFER, id, &log, &error), 0);
	CHECK_INT_EQ(log.count, 0);

	/* Bad IDs never make paths. */
	CHECK_INT_EQ(recipient_log_append(queue_directory, RECIPIENT_LOG_DEFER, "../x", entries, 1,
	                                  false, &error),
	             -1);
	CHECK_INT_EQ(recipient_log_read(queue_directory, RECIPIENT_LOG_DEFER, "a/b", &log, &error),
	             -1);
	recipient_log_fini(&log);
	dstring_fini(&error);
	dstring_fini(&path);
}

/* input -> records accepted, records skipped */
static const struct {
	const char *input;
	size_t count, skipped;
} parse_cases[] = {
    {"", 0, 0},
    {"\n\n", 0, 0},
    {"address=a\taction=failed\n", 1, 0},
    {"address=a\taction=failed", 0, 1},                     /* no newline: cut short */
    {"address=a\n", 0, 1},                                  /* no action */
    {"action=failed\n", 0, 1},                              /* no address */
    {"address=a\taction=failed\taddress=b\n", 0, 1},        /* repeated */
    {"address=a\taction=failed\tcolour=red\n", 0, 1},       /* unknown */
    {"address=a\taction=failed\tnoequals\n", 0, 1},         /* no = */
    {"address=a%4\taction=failed\n", 0, 1},                 /* short escape */
    {"address=a%zz\taction=failed\n", 0, 1},                /* bad escape */
    {"address=a%00\taction=failed\n", 0, 1},                /* NUL */
    {"address=a\x01\taction=failed\n", 0, 1},               /* raw control */
    {"address=a\taction=failed\tindex=4294967295\n", 0, 1}, /* index too big */
    {"address=a\taction=failed\tindex=-1\n", 0, 1},
    {"address=a\taction=failed\tnotify=16\n", 0, 1},
    {"address=a\taction=failed\ttime=99999999999999999999\n", 0, 1},
    {"address=a\taction=failed\n\tbad\naddress=b\taction=delayed\n", 2, 1},
    {"address=\taction=\n", 1, 0},
};

static void
test_parse(void)
{
	struct recipient_log log = {0};
	struct dstring big;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		recipient_log_parse(parse_cases[i].input, strlen(parse_cases[i].input), &log);
		if (log.count != parse_cases[i].count || log.skipped != parse_cases[i].skipped)
			fprintf(stderr, "case %zu: \"%s\"\n", i, parse_cases[i].input);
		CHECK_INT_EQ(log.count, parse_cases[i].count);
		CHECK_INT_EQ(log.skipped, parse_cases[i].skipped);
	}
	recipient_log_parse("address=a%41b\taction=failed\tindex=3\n", 36, &log);
	CHECK(log.count == 1 && strcmp(log.entries[0].address, "aAb") == 0 &&
	      log.entries[0].queue_index == 3 && strcmp(log.entries[0].reason, "") == 0);
	/* An over-long value is refused, not truncated. */
	dstring_init(&big, DSTRING_NO_LIMIT);
	dstring_append_str(&big, "action=failed\taddress=");
	for (int i = 0; i < RECIPIENT_LOG_VALUE_MAX + 1; i++)
		dstring_append_char(&big, 'x');
	dstring_append_char(&big, '\n');
	recipient_log_parse(dstring_str(&big), dstring_length(&big), &log);
	CHECK_INT_EQ(log.count, 0);
	CHECK_INT_EQ(log.skipped, 1);
	dstring_fini(&big);
	recipient_log_fini(&log);
}

int
main(void)
{
	char template[] = "/tmp/test_recipient_log.XXXXXX";
	char *directory = mkdtemp(template);
	struct dstring error;

	dstring_init(&error, 1000);
	CHECK(directory != NULL);
	CHECK_INT_EQ(queue_dir_create(directory, &error), 0);
	test_round_trip(directory);
	test_parse();
	check_remove_tree(directory);
	dstring_fini(&error);
	return check_finish();
}
