/*
 * notice_tool - a test driver for lib/bounce and lib/recipient_log: plays
 * the queue manager's side of those modules, so the command tests can
 * make notices and defer logs with the real code.
 *
 *   notice_tool -c CONFIG_DIR defer QUEUE_FILE INDEX DSN RELAY REASON
 *       append a "delayed" record for recipient INDEX of the queue file
 *       to its defer log ($queue_directory/defer/H/ID)
 *   notice_tool -c CONFIG_DIR build QUEUE_FILE KIND TO OUTCOME...
 *       print the notice bounce_build makes (no submission)
 *   notice_tool -c CONFIG_DIR send QUEUE_FILE KIND OUTCOME...
 *       bounce_notify through $queue_directory/public/cleanup; prints
 *       "OK NEWID TO" or "NONE", or "FAIL reason" (exit 1)
 *
 * KIND is failed, delayed, success or expired (failed, as by expiry).
 * OUTCOME is INDEX:DSN:RELAY:REASON (REASON may hold ':'; RELAY may not,
 * so give a relay with a port as HOST[ADDRESS] here).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "config.h"
#include "dstring.h"
#include "log.h"
#include "queue_file.h"
#include "recipient_log.h"
#include "xalloc.h"

static int
usage(void)
{
	fprintf(stderr, "usage: notice_tool -c DIR defer|build|send QUEUE_FILE ...\n");
	return 2;
}

static const char *
action_of(enum bounce_kind kind)
{
	return kind == BOUNCE_FAILED ? "failed" : kind == BOUNCE_DELAYED ? "delayed" : "delivered";
}

/* Fill entry from "INDEX:DSN:RELAY:REASON" for message. */
static int
parse_outcome(char *text, const struct queue_message *message, enum bounce_kind kind,
              struct recipient_log_entry *entry)
{
	char *dsn = strchr(text, ':'), *relay, *reason;
	unsigned long index;

	if (dsn == NULL || (relay = strchr(dsn + 1, ':')) == NULL ||
	    (reason = strchr(relay + 1, ':')) == NULL)
		return -1;
	*dsn++ = '\0';
	*relay++ = '\0';
	*reason++ = '\0';
	index = strtoul(text, NULL, 10);
	if (index >= message->recipient_count)
		return -1;
	*entry = (struct recipient_log_entry){
	    .queue_index = (uint32_t)index,
	    .address = message->recipients[index].address,
	    .original = message->recipients[index].original,
	    .orcpt = message->recipients[index].orcpt,
	    .notify = message->recipients[index].notify,
	    .action = action_of(kind),
	    .dsn = dsn,
	    .reason = reason,
	    .relay = relay,
	    .time = (int64_t)time(NULL),
	};
	return 0;
}

int
main(int argc, char **argv)
{
	struct queue_message message;
	struct dstring error;
	const char *directory = NULL, *mode;
	enum bounce_kind kind = BOUNCE_FAILED;
	bool is_expired = false;
	int fd, option, status = 0;

	log_open("notice_tool", LOG_SINK_STDERR);
	while ((option = getopt(argc, argv, "c:")) != -1) {
		if (option != 'c')
			return usage();
		directory = optarg;
	}
	if (directory == NULL || argc - optind < 3)
		return usage();
	config_init(directory);
	{
		struct dstring main_cf;
		dstring_init(&main_cf, DSTRING_NO_LIMIT);
		dstring_printf(&main_cf, "%s/main.cf", directory);
		if (config_read_file(dstring_str(&main_cf)) + config_apply() != 0)
			return 1;
		dstring_fini(&main_cf);
	}
	if (var_maillog_file != NULL && var_maillog_file[0] != '\0')
		log_set_file(var_maillog_file);
	mode = argv[optind];
	dstring_init(&error, 1024);
	fd = open(argv[optind + 1], O_RDONLY);
	if (fd < 0 || queue_file_read(fd, &message, &error) < 0) {
		printf("FAIL cannot read %s: %s\n", argv[optind + 1], dstring_str(&error));
		return 1;
	}
	if (strcmp(mode, "defer") == 0) {
		struct recipient_log_entry entry;
		unsigned long index;

		if (argc - optind != 6)
			return usage();
		index = strtoul(argv[optind + 2], NULL, 10);
		if (index >= message.recipient_count)
			return usage();
		entry = (struct recipient_log_entry){
		    .queue_index = (uint32_t)index,
		    .address = message.recipients[index].address,
		    .original = message.recipients[index].original,
		    .orcpt = message.recipients[index].orcpt,
		    .notify = message.recipients[index].notify,
		    .action = "delayed",
		    .dsn = argv[optind + 3],
		    .relay = argv[optind + 4],
		    .reason = argv[optind + 5],
		    .time = (int64_t)time(NULL),
		};
		if (recipient_log_append(var_queue_directory, RECIPIENT_LOG_DEFER, message.queue_id,
		                         &entry, 1, false, &error) < 0) {
			printf("FAIL %s\n", dstring_str(&error));
			return 1;
		}
		printf("OK\n");
	} else {
		const char *kind_name = argv[optind + 2];
		int first = optind + (strcmp(mode, "build") == 0 ? 4 : 3);
		struct recipient_log_entry *entries;
		struct bounce_request request = {0};
		size_t count = 0;

		if (strcmp(kind_name, "failed") == 0)
			kind = BOUNCE_FAILED;
		else if (strcmp(kind_name, "expired") == 0)
			kind = BOUNCE_FAILED, is_expired = true;
		else if (strcmp(kind_name, "delayed") == 0)
			kind = BOUNCE_DELAYED;
		else if (strcmp(kind_name, "success") == 0)
			kind = BOUNCE_SUCCESS;
		else
			return usage();
		if (first > argc)
			return usage();
		entries = xcalloc((size_t)(argc - first) + 1, sizeof(*entries));
		for (int i = first; i < argc; i++)
			if (parse_outcome(argv[i], &message, kind, &entries[count++]) < 0)
				return usage();
		request = (struct bounce_request){.kind = kind,
		                                  .message = &message,
		                                  .queue_fd = fd,
		                                  .entries = entries,
		                                  .entry_count = count,
		                                  .is_expired = is_expired};
		if (strcmp(mode, "build") == 0) {
			struct dstring out;
			dstring_init(&out, DSTRING_NO_LIMIT);
			if (bounce_build(&request, argv[optind + 3], 1, &out, &error) < 0) {
				printf("FAIL %s\n", dstring_str(&error));
				return 1;
			}
			fwrite(dstring_str(&out), 1, dstring_length(&out), stdout);
			dstring_fini(&out);
		} else if (strcmp(mode, "send") == 0) {
			struct bounce_result result;
			if (bounce_notify(&request, &result, &error) < 0) {
				printf("FAIL %s\n", dstring_str(&error));
				status = 1;
			} else if (result.queue_id[0] == '\0')
				printf("NONE\n");
			else
				printf("OK %s %s\n", result.queue_id, result.recipient);
		} else {
			return usage();
		}
		free(entries);
	}
	queue_message_fini(&message);
	close(fd);
	dstring_fini(&error);
	return status;
}
