/*
 * testagent - a delivery agent for the queue manager's tests, speaking
 * lib/delivery.h like local and smtp do. Installed nowhere.
 *
 * master.cf: `testagent unix - n n - - testagent CONTROL RECORD`
 *
 * For each recipient the first line of CONTROL whose first word is a
 * substring of the address decides (no match, or no file: deliver):
 *   WORD deliver      append "QUEUEID ADDRESS" to RECORD, mark done, fsync, "delivered"
 *   WORD defer        "deferred" 4.2.0
 *   WORD bounce       "bounced" 5.1.1
 *   WORD site         "deferred" 4.4.1, and the end frame reports a destination failure
 *   WORD crash        exit at once, before any result for the request
 *   WORD sleep        sleep 1 s, then deliver
 * Each delivery is one write(2) to RECORD (O_APPEND), so concurrent agents
 * never mix lines, and a test counts duplicates with sort | uniq -d.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "dstring.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "server.h"
#include "stream.h"

static const char *control_path = "";
static const char *record_path = "";

static void
agent_pre_jail(int argc, char **argv)
{
	if (argc != 2)
		log_fatal("usage: testagent CONTROL RECORD");
	control_path = argv[0];
	record_path = argv[1];
}

/* The action word for address (into action, at most size bytes). */
static void
decide(const char *address, char *action, size_t size)
{
	FILE *control = fopen(control_path, "r");
	char line[512];

	snprintf(action, size, "deliver");
	if (control == NULL)
		return;
	while (fgets(line, sizeof(line), control) != NULL) {
		char word[256], verb[64];

		if (sscanf(line, "%255s %63s", word, verb) == 2 && strstr(address, word) != NULL) {
			snprintf(action, size, "%s", verb);
			break;
		}
	}
	fclose(control);
}

static void
agent_serve(int fd)
{
	struct stream *stream = stream_open(fd);
	struct delivery_request request;
	struct queue_message message;
	struct dstring error, path, line;
	bool is_site_failure = false;
	int queue_fd = -1;

	stream_set_timeout(stream, 10000);
	dstring_init(&error, 1024);
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&line, DSTRING_NO_LIMIT);
	memset(&message, 0, sizeof(message));
	if (delivery_request_receive(stream, &request, &error) != 0) {
		log_warning("%s", error.data);
		goto out;
	}
	queue_dir_path(&path, NULL, request.queue_name, request.queue_id);
	queue_fd = open(path.data, O_RDWR | O_CLOEXEC);
	if (queue_fd < 0 || queue_file_read(queue_fd, &message, &error) != 0 ||
	    delivery_request_match(&request, &message, &error) != 0) {
		log_warning("%s: %s: %s", request.queue_id, path.data,
			    error.length ? error.data : strerror(errno));
		/* Answer nothing: qmgr defers the lot. */
		goto out;
	}
	for (size_t i = 0; i < request.recipient_count; i++) {
		const struct delivery_recipient *recipient = &request.recipients[i];
		const struct queue_recipient *record = &message.recipients[recipient->queue_index];
		struct delivery_result result = {(uint32_t)i, DELIVERY_DELIVERED, "2.0.0",
						 "delivered to the test record", "testagent"};
		char action[64];

		int lock = delivery_recipient_lock(queue_fd, recipient);

		if (lock < 0) {
			result.action = DELIVERY_DEFERRED;
			result.dsn = "4.3.0";
			result.reason = "cannot lock the recipient";
			delivery_result_send(stream, &result);
			continue;
		}
		if (record->status == QUEUE_RECIPIENT_DONE || lock == 1) {
			result.reason = "already delivered";
			delivery_result_send(stream, &result);
			continue;
		}
		decide(recipient->address, action, sizeof(action));
		if (strcmp(action, "crash") == 0)
			_exit(1);
		if (strcmp(action, "sleep") == 0)
			sleep(1);
		if (strcmp(action, "defer") == 0) {
			result.action = DELIVERY_DEFERRED;
			result.dsn = "4.2.0";
			result.reason = "test deferral";
		} else if (strcmp(action, "site") == 0) {
			result.action = DELIVERY_DEFERRED;
			result.dsn = "4.4.1";
			result.reason = "test destination down";
			is_site_failure = true;
		} else if (strcmp(action, "bounce") == 0) {
			result.action = DELIVERY_BOUNCED;
			result.dsn = "5.1.1";
			result.reason = "test bounce";
		} else {
			int record_fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

			dstring_printf(&line, "%s %s\n", request.queue_id, recipient->address);
			if (record_fd < 0 || write(record_fd, line.data, line.length) !=
						 (ssize_t)line.length) {
				result.action = DELIVERY_DEFERRED;
				result.dsn = "4.3.0";
				result.reason = "cannot write the test record";
			} else if (queue_file_mark_done(queue_fd, record, QUEUE_RECIPIENT_DONE) != 0 ||
				   fdatasync(queue_fd) != 0) {
				result.action = DELIVERY_DEFERRED;
				result.dsn = "4.3.0";
				result.reason = "cannot mark the recipient done";
			}
			if (record_fd >= 0)
				close(record_fd);
		}
		delivery_log_result(&request, &result, 0);
		delivery_result_send(stream, &result);
	}
	delivery_end_send_status(stream, is_site_failure);
out:
	if (queue_fd >= 0)
		close(queue_fd);
	queue_message_fini(&message);
	delivery_request_fini(&request);
	dstring_fini(&error);
	dstring_fini(&path);
	dstring_fini(&line);
	stream_flush(stream);
	stream_free(stream);
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = agent_pre_jail,
	    .serve = agent_serve,
	};

	return server_main(argc, argv, "testagent", SERVER_SINGLE, &callbacks);
}
