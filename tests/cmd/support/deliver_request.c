/*
 * deliver_request - a test driver for the delivery protocol (lib/delivery.h):
 * plays the queue manager for one request to a delivery agent and prints
 * its answers.
 *
 *   deliver_request [-q QUEUE_NAME] [-r INDEX]... SOCKET QUEUE_DIRECTORY QUEUE_ID
 *
 * Reads QUEUE_DIRECTORY/QUEUE_NAME/H/QUEUE_ID (QUEUE_NAME defaults to
 * incoming) for the envelope, sends a request for the recipients INDEX
 * (all pending ones when no -r is given) to the agent listening on SOCKET,
 * and prints one line per result, in recipient order:
 *   INDEX ACTION DSN REASON
 * Exit 0 when the agent answered every recipient and ended properly,
 * 1 otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr_proto.h"
#include "delivery.h"
#include "dstring.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "stream.h"
#include "xalloc.h"

static int
connect_to(const char *path)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(address.sun_path))
		return -1;
	memcpy(address.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		perror(path);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	const char *queue_name = QUEUE_INCOMING;
	unsigned indexes[1000];
	size_t index_count = 0;
	struct queue_message message;
	struct delivery_request request;
	struct delivery_recipient *recipients;
	struct dstring path, error, payload;
	struct stream *stream;
	char **answers;
	size_t answered = 0;
	int option, fd, status = 0;

	log_open("deliver_request", LOG_SINK_STDERR);
	while ((option = getopt(argc, argv, "q:r:")) != -1) {
		switch (option) {
		case 'q':
			queue_name = optarg;
			break;
		case 'r':
			if (index_count < 1000)
				indexes[index_count++] = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: deliver_request [-q queue] [-r index]... SOCKET "
			                "QUEUE_DIRECTORY QUEUE_ID\n");
			return 2;
		}
	}
	if (optind + 3 != argc) {
		fprintf(stderr, "usage: deliver_request [-q queue] [-r index]... SOCKET "
		                "QUEUE_DIRECTORY QUEUE_ID\n");
		return 2;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	dstring_init(&payload, ATTR_FRAME_MAX + 16);
	queue_dir_path(&path, argv[optind + 1], queue_name, argv[optind + 2]);
	fd = open(dstring_str(&path), O_RDONLY);
	if (fd < 0 || queue_file_read(fd, &message, &error) < 0) {
		fprintf(stderr, "%s: %s\n", dstring_str(&path),
		        fd < 0 ? "cannot open" : dstring_str(&error));
		return 1;
	}
	close(fd);
	if (index_count == 0)
		for (size_t i = 0; i < message.recipient_count && index_count < 1000; i++)
			if (message.recipients[i].status == QUEUE_RECIPIENT_PENDING)
				indexes[index_count++] = (unsigned)i;
	if (index_count == 0) {
		fprintf(stderr, "no pending recipients\n");
		return 1;
	}
	recipients = xcalloc(index_count, sizeof(*recipients));
	for (size_t i = 0; i < index_count; i++) {
		const struct queue_recipient *from = &message.recipients[indexes[i]];

		recipients[i].queue_index = indexes[i];
		recipients[i].offset = from->status_offset;
		recipients[i].address = from->address;
		recipients[i].original = from->original;
		recipients[i].orcpt = from->orcpt;
		recipients[i].notify = from->notify;
	}
	memset(&request, 0, sizeof(request));
	request.queue_name = queue_name;
	snprintf(request.queue_id, sizeof(request.queue_id), "%s", message.queue_id);
	request.transport = "local";
	request.next_hop = "";
	request.sender = message.sender;
	request.envid = queue_message_attribute(&message, QUEUE_ATTR_ENVID)
	                    ? queue_message_attribute(&message, QUEUE_ATTR_ENVID)
	                    : "";
	request.ret = queue_message_attribute(&message, QUEUE_ATTR_RET)
	                  ? queue_message_attribute(&message, QUEUE_ATTR_RET)
	                  : "";
	request.arrival_time = message.arrival_microseconds;
	request.active_time = delivery_now();
	request.size = message.content_size;
	request.recipients = recipients;
	request.recipient_count = index_count;
	fd = connect_to(argv[optind]);
	if (fd < 0)
		return 1;
	stream = stream_open(fd);
	stream_set_timeout(stream, 120000);
	if (delivery_request_send(stream, &request) < 0) {
		fprintf(stderr, "cannot send the request\n");
		return 1;
	}
	answers = xcalloc(index_count, sizeof(*answers));
	for (;;) {
		enum delivery_reply_kind kind;
		struct delivery_result result;
		struct dstring line;

		if (delivery_reply_receive(stream, &payload, index_count, &kind, &result, &error) <
		    0) {
			fprintf(stderr, "reply: %s\n", dstring_str(&error));
			status = 1;
			break;
		}
		if (kind == DELIVERY_REPLY_END)
			break;
		if (answers[result.recipient] != NULL) {
			fprintf(stderr, "recipient %u answered twice\n", result.recipient);
			status = 1;
			continue;
		}
		dstring_init(&line, DSTRING_NO_LIMIT);
		dstring_printf(&line, "%u %s %s %s", indexes[result.recipient],
		               delivery_action_name(result.action), result.dsn, result.reason);
		answers[result.recipient] = dstring_steal(&line);
		dstring_fini(&line);
		answered++;
	}
	for (size_t i = 0; i < index_count; i++) {
		if (answers[i] != NULL)
			printf("%s\n", answers[i]);
		free(answers[i]);
	}
	if (answered != index_count)
		status = 1;
	free(answers);
	free(recipients);
	stream_close(stream);
	queue_message_fini(&message);
	dstring_fini(&path);
	dstring_fini(&error);
	dstring_fini(&payload);
	return status;
}
