/*
 * hikyaku cat - show a queue file readably, like Postfix's postcat(1).
 *
 *   hikyaku cat [-q] [-e] [-h] [-b] ID|FILE...
 *
 * An argument with a '/' is a file name; otherwise it is a queue ID looked
 * up in incoming, active, deferred, hold and corrupt (-q is accepted for
 * postcat habits and changes nothing). With no option everything is shown
 * in postcat's sections:
 *
 *   *** ENVELOPE RECORDS deferred/A/ID ***
 *   message_size: ...
 *   message_arrival_time: Mon Nov 23 21:15:03 2023
 *   ...
 *   *** MESSAGE CONTENTS deferred/A/ID ***
 *   (the header, the empty line, the body)
 *   *** HEADER EXTRACTED deferred/A/ID ***
 *   *** MESSAGE FILE END deferred/A/ID ***
 *
 * -e shows the envelope section, -h the header, -b the body, in any
 * combination. With -h or -b alone the content is printed bare (no
 * section lines), so `hikyaku cat -h ID | grep Subject:` does what one
 * expects. A file that does not parse is reported with the reader's
 * reason (exit 1); the content is never interpreted, only copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "queue_id.h"

enum {
	SHOW_ENVELOPE = 1 << 0,
	SHOW_HEADER = 1 << 1,
	SHOW_BODY = 1 << 2,
};

static const char *const searched_queues[] = {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED,
                                              QUEUE_HOLD, QUEUE_CORRUPT};

static void
print_time(const char *name, int64_t seconds)
{
	time_t when = (time_t)seconds;
	struct tm tm;
	char text[64];

	localtime_r(&when, &tm);
	strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &tm);
	printf("%s: %s\n", name, text);
}

/* Copy length content bytes from offset to standard output. */
static int
copy_content(int fd, int64_t offset, int64_t length)
{
	char buffer[65536];

	while (length > 0) {
		size_t want = length < (int64_t)sizeof(buffer) ? (size_t)length : sizeof(buffer);
		ssize_t n = pread(fd, buffer, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (fwrite(buffer, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		offset += n;
		length -= n;
	}
	return 0;
}

static int
show(const char *path, const char *label, unsigned what)
{
	struct queue_message message;
	struct dstring error;
	bool has_sections = (what & SHOW_ENVELOPE) || what == (SHOW_HEADER | SHOW_BODY);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int status = 0;

	if (fd < 0) {
		log_error("open %s: %m", path);
		return 1;
	}
	dstring_init(&error, 1024);
	if (queue_file_read(fd, &message, &error) < 0) {
		log_error("%s: %s", label, dstring_str(&error));
		dstring_fini(&error);
		close(fd);
		return 1;
	}
	if (what & SHOW_ENVELOPE) {
		printf("*** ENVELOPE RECORDS %s ***\n", label);
		printf("message_size: %lld %lld %zu\n", (long long)message.content_size,
		       (long long)message.header_size, message.recipient_count);
		print_time("message_arrival_time", message.arrival_microseconds / 1000000);
		printf("queue_id: %s\n", message.queue_id);
		printf("sender: %s\n", message.sender);
		for (size_t i = 0; i < message.attribute_count; i++)
			printf("named_attribute: %s=%s\n", message.attributes[i].name,
			       message.attributes[i].value);
		for (size_t i = 0; i < message.recipient_count; i++) {
			const struct queue_recipient *recipient = &message.recipients[i];
			if (recipient->orcpt[0] != '\0')
				printf("dsn_orig_rcpt: %s\n", recipient->orcpt);
			if (recipient->notify != 0)
				printf("dsn_notify_flags: %u\n", recipient->notify);
			if (recipient->original[0] != '\0')
				printf("original_recipient: %s\n", recipient->original);
			printf("%s: %s\n",
			       recipient->status == QUEUE_RECIPIENT_DONE ? "done_recipient"
			                                                 : "recipient",
			       recipient->address);
		}
	}
	if (what & (SHOW_HEADER | SHOW_BODY)) {
		if (has_sections)
			printf("*** MESSAGE CONTENTS %s ***\n", label);
		fflush(stdout);
		if ((what & SHOW_HEADER) &&
		    copy_content(fd, message.content_offset,
		                 (what & SHOW_BODY) ? message.content_size : message.header_size) <
		        0)
			status = 1;
		else if (!(what & SHOW_HEADER) &&
		         copy_content(fd, message.content_offset + message.header_size,
		                      message.content_size - message.header_size) < 0)
			status = 1;
		if (status != 0)
			log_error("%s: read error", label);
	}
	if (has_sections) {
		if (what & SHOW_HEADER)
			printf("*** HEADER EXTRACTED %s ***\n", label);
		printf("*** MESSAGE FILE END %s ***\n", label);
	}
	queue_message_fini(&message);
	dstring_fini(&error);
	close(fd);
	if (fflush(stdout) != 0) {
		log_error("output write error: %m");
		status = 1;
	}
	return status;
}

/* Find a queue ID: its path and "queue/H/ID" label; 0, or -1 not found. */
static int
find_queue_file(const char *id, struct dstring *path, struct dstring *label)
{
	for (size_t q = 0; q < sizeof(searched_queues) / sizeof(searched_queues[0]); q++) {
		queue_dir_path(path, var_queue_directory, searched_queues[q], id);
		if (access(dstring_str(path), F_OK) == 0) {
			queue_dir_path(label, NULL, searched_queues[q], id);
			return 0;
		}
	}
	return -1;
}

int
command_cat(const char *directory, int argc, char **argv)
{
	struct dstring path, label;
	unsigned what = 0;
	int option, status = 0;

	optind = 1;
	while ((option = getopt(argc, argv, "qehb")) != -1) {
		switch (option) {
		case 'q':
			break;
		case 'e':
			what |= SHOW_ENVELOPE;
			break;
		case 'h':
			what |= SHOW_HEADER;
			break;
		case 'b':
			what |= SHOW_BODY;
			break;
		default:
			fprintf(stderr,
			        "usage: hikyaku [-c DIR] cat [-q] [-e] [-h] [-b] ID|FILE...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: hikyaku [-c DIR] cat [-q] [-e] [-h] [-b] ID|FILE...\n");
		return 2;
	}
	if (what == 0)
		what = SHOW_ENVELOPE | SHOW_HEADER | SHOW_BODY;
	directory = instance_directory(directory);
	if (instance_load(directory, false) != 0) {
		log_error("configuration in %s has errors", directory);
		return 1;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&label, DSTRING_NO_LIMIT);
	for (int i = optind; i < argc; i++) {
		if (strchr(argv[i], '/') != NULL) {
			status |= show(argv[i], argv[i], what);
		} else if (!queue_id_is_valid(argv[i])) {
			log_error("invalid queue ID: \"%s\"", argv[i]);
			status = 1;
		} else if (find_queue_file(argv[i], &path, &label) < 0) {
			log_error("%s: no such message in the queue", argv[i]);
			status = 1;
		} else {
			status |= show(dstring_str(&path), dstring_str(&label), what);
		}
	}
	dstring_fini(&path);
	dstring_fini(&label);
	return status;
}
