/*
 * cleanup_submit - a test driver for the cleanup protocol: submits the
 * message on standard input through lib/cleanup_client (the code pickup
 * and smtpd use) and prints the verdict.
 *
 *   cleanup_submit [-l] [-t] [-b] [-f sender] [-F full_name] [-u uid]
 *                  [-r recipient]... [-n notify] [-o orcpt] SOCKET
 *
 * -l local submission, -t extract recipients, -b remove Bcc. Prints
 * "OK QUEUEID" (exit 0), "TEMPFAIL reason" (75) or "PERMFAIL reason" (65).
 *
 *   cleanup_submit -d QUEUE_FILE
 *
 * prints a queue file's envelope and content, or the reader's error
 * (exit 1).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "dstring.h"
#include "log.h"
#include "queue_file.h"

static int
dump(const char *path)
{
	struct queue_message message;
	struct dstring error;
	char buffer[65536];
	int fd = open(path, O_RDONLY);
	int64_t left;

	dstring_init(&error, 1000);
	if (fd < 0 || queue_file_read(fd, &message, &error) < 0) {
		printf("error: %s\n", fd < 0 ? "cannot open" : error.data);
		dstring_fini(&error);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	printf("queue_id: %s\nsender: %s\n", message.queue_id, message.sender);
	for (size_t i = 0; i < message.attribute_count; i++)
		printf("attribute: %s=%s\n", message.attributes[i].name,
		       message.attributes[i].value);
	for (size_t i = 0; i < message.recipient_count; i++)
		printf("recipient: %c %s original=%s orcpt=%s notify=%u\n",
		       message.recipients[i].status, message.recipients[i].address,
		       message.recipients[i].original, message.recipients[i].orcpt,
		       message.recipients[i].notify);
	printf("header_size: %lld\ncontent_size: %lld\n--\n", (long long)message.header_size,
	       (long long)message.content_size);
	fflush(stdout);
	left = message.content_size;
	for (int64_t at = message.content_offset; left > 0;) {
		ssize_t n = pread(
		    fd, buffer, left < (int64_t)sizeof(buffer) ? (size_t)left : sizeof(buffer), at);

		if (n <= 0)
			break;
		if (write(1, buffer, (size_t)n) != n)
			break;
		at += n;
		left -= n;
	}
	queue_message_fini(&message);
	close(fd);
	dstring_fini(&error);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cleanup_envelope envelope = {.uid = -1, .sender = "", .protocol = "test"};
	const char *recipients[1000], *orcpt = NULL;
	size_t recipient_count = 0;
	unsigned notify = 0;
	struct cleanup_client *client;
	struct cleanup_result result;
	struct dstring error;
	char buffer[65536];
	ssize_t n;
	int option;

	log_open("cleanup_submit", LOG_SINK_STDERR);
	while ((option = getopt(argc, argv, "bd:f:F:ln:o:r:tu:")) != -1) {
		switch (option) {
		case 'b':
			envelope.flags |= CLEANUP_FLAG_REMOVE_BCC;
			break;
		case 'd':
			return dump(optarg);
		case 'f':
			envelope.sender = optarg;
			break;
		case 'F':
			envelope.full_name = optarg;
			break;
		case 'l':
			envelope.flags |= CLEANUP_FLAG_LOCAL;
			break;
		case 'n':
			notify = (unsigned)atoi(optarg);
			break;
		case 'o':
			orcpt = optarg;
			break;
		case 'r':
			if (recipient_count < 1000)
				recipients[recipient_count++] = optarg;
			break;
		case 't':
			envelope.flags |= CLEANUP_FLAG_EXTRACT_RECIPIENTS;
			break;
		case 'u':
			envelope.uid = atoll(optarg);
			break;
		default:
			fprintf(stderr, "usage: cleanup_submit [options] SOCKET\n");
			return 64;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: cleanup_submit [options] SOCKET\n");
		return 64;
	}
	dstring_init(&error, 1000);
	client = cleanup_client_open(argv[optind], 30000, &error);
	if (client == NULL) {
		printf("TEMPFAIL %s\n", error.data);
		dstring_fini(&error);
		return 75;
	}
	cleanup_client_envelope(client, &envelope);
	for (size_t i = 0; i < recipient_count; i++)
		cleanup_client_recipient(client, recipients[i], NULL, orcpt, notify);
	while ((n = read(0, buffer, sizeof(buffer))) > 0)
		cleanup_client_write(client, buffer, (size_t)n);
	cleanup_client_finish(client, &result);
	if (result.status == CLEANUP_OK)
		printf("OK %s\n", result.queue_id);
	else
		printf("%s %s\n", result.status == CLEANUP_PERMFAIL ? "PERMFAIL" : "TEMPFAIL",
		       result.reason);
	cleanup_client_close(client);
	dstring_fini(&error);
	return result.status == CLEANUP_OK ? 0 : result.status == CLEANUP_PERMFAIL ? 65 : 75;
}
