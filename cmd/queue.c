/*
 * hikyaku queue - list or flush the mail queue, like Postfix's postqueue(1).
 * Also what `sendmail -bp` and `mailq` run.
 *
 *   hikyaku queue [-p]    the listing in Postfix's mailq format
 *   hikyaku queue -j      one JSON object per message (postqueue -j)
 *   hikyaku queue -f      retry deferred mail now (hikyaku flush)
 *
 * The listing reads the queue directly (maildrop, hold, incoming, active,
 * deferred, in that order, like Postfix's showq) and each message's defer
 * log for the "(reason)" lines, so it needs read access to the queue: the
 * mail owner or root (Postfix goes through its showq daemon so that any
 * user may list; docs/queue_admin.md). A file that disappears while we
 * look (delivered, moved) is skipped; one that does not parse is shown
 * as such but never stops the listing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "maildrop_file.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "recipient_log.h"
#include "stream.h"
#include "xalloc.h"

/* Postfix's long-queue-ID layout (our IDs are 12-24 characters). */
#define HEADING_FORMAT "%-17s %8s %-19s %s\n"
#define SENDER_FORMAT "%-17s %8lld %19.19s %s\n"

static const char *const listed_queues[] = {QUEUE_MAILDROP, QUEUE_HOLD, QUEUE_INCOMING,
                                            QUEUE_ACTIVE, QUEUE_DEFERRED};

/* One message as both listings need it. */
struct listed {
	const char *queue_name;
	const char *queue_id;
	int64_t arrival; /* seconds */
	long long size;
	char *sender;
	char **recipients;
	size_t recipient_count;
};

static void
listed_fini(struct listed *message)
{
	free(message->sender);
	for (size_t i = 0; i < message->recipient_count; i++)
		free(message->recipients[i]);
	free(message->recipients);
	memset(message, 0, sizeof(*message));
}

static void
listed_add_recipient(struct listed *message, const char *address)
{
	message->recipients = xreallocarray(message->recipients, message->recipient_count + 1,
	                                    sizeof(*message->recipients));
	message->recipients[message->recipient_count++] = xstrdup(address);
}

/* Read a queue file's envelope: 0, -1 when gone (skip), -2 when it does not parse. */
static int
load_queue_file(const char *path, struct listed *message)
{
	struct queue_message envelope;
	struct dstring error;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int status = 0;

	if (fd < 0)
		return -1;
	dstring_init(&error, 1000);
	if (queue_file_read(fd, &envelope, &error) < 0) {
		status = -2;
	} else {
		message->arrival = envelope.arrival_microseconds / 1000000;
		message->size = envelope.content_size;
		message->sender = xstrdup(envelope.sender);
		/* Only recipients still to do are in the queue, as in Postfix. */
		for (size_t i = 0; i < envelope.recipient_count; i++)
			if (envelope.recipients[i].status == QUEUE_RECIPIENT_PENDING)
				listed_add_recipient(message, envelope.recipients[i].address);
		queue_message_fini(&envelope);
	}
	dstring_fini(&error);
	close(fd);
	return status;
}

/* The same for a maildrop file (not yet picked up). */
static int
load_maildrop_file(const char *path, struct listed *message)
{
	struct maildrop_reader reader;
	struct maildrop_record record;
	struct stream *stream;
	struct stat info;
	enum maildrop_status status;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &info) < 0) {
		close(fd);
		return -1;
	}
	message->arrival = info.st_mtime;
	message->size = info.st_size;
	stream = stream_open(fd);
	maildrop_reader_init(&reader, stream, MAILDROP_QUEUED, 0);
	while ((status = maildrop_read(&reader, &record)) == MAILDROP_OK) {
		if (record.type == MAILDROP_SENDER && message->sender == NULL)
			message->sender = xstrdup(record.data);
		else if (record.type == MAILDROP_RECIPIENT)
			listed_add_recipient(message, record.data);
		else if (record.type == MAILDROP_TIME)
			message->arrival = strtoll(record.data, NULL, 10);
		else if (record.type == MAILDROP_DATA)
			break; /* the envelope is all we show */
	}
	maildrop_reader_fini(&reader);
	stream_close(stream);
	if (message->sender == NULL)
		message->sender = xstrdup("");
	return 0;
}

/* Printable form of an address for the listing: quoted, controls as '?'. */
static void
printable_address(const char *address, const char *empty, struct dstring *out)
{
	dstring_reset(out);
	if (address[0] == '\0') {
		dstring_append_str(out, empty);
		return;
	}
	address_externalize(address, out);
	for (size_t i = 0; i < dstring_length(out); i++) {
		unsigned char c = (unsigned char)out->data[i];
		if (c < 0x20 || c == 0x7f)
			out->data[i] = '?';
	}
}

static void
json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f || *p >= 0x80)
			/* Like Postfix: non-ASCII and controls as \uXXXX of the byte. */
			fprintf(out, "\\u%04X", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
print_json(const struct listed *message, const struct recipient_log *log)
{
	fputs("{\"queue_name\": ", stdout);
	json_string(stdout, message->queue_name);
	fputs(", \"queue_id\": ", stdout);
	json_string(stdout, message->queue_id);
	printf(", \"arrival_time\": %lld, \"message_size\": %lld, \"forced_expire\": false, "
	       "\"sender\": ",
	       (long long)message->arrival, message->size);
	json_string(stdout, message->sender);
	fputs(", \"recipients\": [", stdout);
	for (size_t i = 0; i < message->recipient_count; i++) {
		const struct recipient_log_entry *entry =
		    recipient_log_find(log, UINT32_MAX, message->recipients[i]);
		fputs(i == 0 ? "{\"address\": " : ", {\"address\": ", stdout);
		json_string(stdout, message->recipients[i]);
		if (entry != NULL) {
			fputs(", \"delay_reason\": ", stdout);
			json_string(stdout, entry->reason);
		}
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

/*
 * Postfix's layout: recipients with a deferral reason first, grouped under
 * "(reason)" lines (repeated only when the reason changes), then the rest.
 */
static void
print_text(const struct listed *message, const struct recipient_log *log, struct dstring *buffer)
{
	char status = strcmp(message->queue_name, QUEUE_ACTIVE) == 0 ? '*'
	              : strcmp(message->queue_name, QUEUE_HOLD) == 0 ? '!'
	                                                             : ' ';
	char id[QUEUE_ID_SIZE + 2], date[32];
	const char *last_reason = NULL;
	time_t arrival = (time_t)message->arrival;
	struct tm tm;
	bool *shown = xcalloc(message->recipient_count + 1, sizeof(bool));

	snprintf(id, sizeof(id), "%s%c", message->queue_id, status);
	localtime_r(&arrival, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S", &tm);
	printable_address(message->sender, "MAILER-DAEMON", buffer);
	printf(SENDER_FORMAT, id, message->size, date, dstring_str(buffer));
	for (size_t i = 0; i < message->recipient_count; i++) {
		const struct recipient_log_entry *entry =
		    recipient_log_find(log, UINT32_MAX, message->recipients[i]);
		if (entry == NULL)
			continue;
		for (size_t j = 0; j < message->recipient_count; j++) {
			const struct recipient_log_entry *other;
			int padding;

			if (shown[j])
				continue;
			other = recipient_log_find(log, UINT32_MAX, message->recipients[j]);
			if (other == NULL || strcmp(other->reason, entry->reason) != 0)
				continue;
			if (last_reason == NULL || strcmp(last_reason, other->reason) != 0) {
				last_reason = other->reason;
				padding = 76 - (int)strlen(last_reason);
				printf("%*s(%s)\n", padding > 0 ? padding : 0, "", last_reason);
			}
			printable_address(message->recipients[j], "", buffer);
			printf(HEADING_FORMAT, "", "", "", dstring_str(buffer));
			shown[j] = true;
		}
	}
	for (size_t i = 0; i < message->recipient_count; i++) {
		if (shown[i])
			continue;
		printable_address(message->recipients[i], "", buffer);
		printf(HEADING_FORMAT, "", "", "", dstring_str(buffer));
	}
	printf("\n");
	free(shown);
}

static int
list_queue(bool is_json)
{
	struct dstring path, error, buffer;
	unsigned long long total = 0;
	unsigned long count = 0;
	int status = 0;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	dstring_init(&buffer, DSTRING_NO_LIMIT);
	for (size_t q = 0; q < sizeof(listed_queues) / sizeof(listed_queues[0]); q++) {
		struct queue_dir_scan *scan =
		    queue_dir_scan_open(var_queue_directory, listed_queues[q], &error);
		const char *id;

		if (scan == NULL) {
			log_error("%s", dstring_str(&error));
			status = 1;
			continue;
		}
		while ((id = queue_dir_scan_next(scan)) != NULL) {
			struct listed message = {.queue_name = listed_queues[q], .queue_id = id};
			struct recipient_log log = {0};
			int loaded;

			queue_dir_path(&path, var_queue_directory, listed_queues[q], id);
			loaded = strcmp(listed_queues[q], QUEUE_MAILDROP) == 0
			             ? load_maildrop_file(dstring_str(&path), &message)
			             : load_queue_file(dstring_str(&path), &message);
			if (loaded == -1)
				continue; /* gone while we looked */
			if (loaded == -2) {
				log_warning("%s: queue file does not parse", dstring_str(&path));
				listed_fini(&message);
				continue;
			}
			if (strcmp(listed_queues[q], QUEUE_MAILDROP) != 0 &&
			    recipient_log_read(var_queue_directory, RECIPIENT_LOG_DEFER, id, &log,
			                       &error) < 0)
				log_warning("%s", dstring_str(&error));
			if (is_json) {
				print_json(&message, &log);
			} else {
				if (count == 0)
					printf(HEADING_FORMAT, "----Queue ID-----", "--Size--",
					       "---Arrival Time----", "--Sender/Recipient------");
				print_text(&message, &log, &buffer);
			}
			total += (unsigned long long)message.size;
			count++;
			recipient_log_fini(&log);
			listed_fini(&message);
		}
		queue_dir_scan_close(scan);
	}
	if (!is_json) {
		if (count == 0)
			printf("Mail queue is empty\n");
		else
			printf("-- %llu Kbytes in %lu Request%s.\n", total / 1024, count,
			       count == 1 ? "" : "s");
	}
	dstring_fini(&path);
	dstring_fini(&error);
	dstring_fini(&buffer);
	if (fflush(stdout) != 0) {
		log_error("output write error: %m");
		return 1;
	}
	return status;
}

int
command_queue(const char *directory, int argc, char **argv)
{
	enum { LIST, JSON, FLUSH } mode = LIST;
	int option;

	optind = 1;
	while ((option = getopt(argc, argv, "fjp")) != -1) {
		switch (option) {
		case 'f':
			mode = FLUSH;
			break;
		case 'j':
			mode = JSON;
			break;
		case 'p':
			mode = LIST;
			break;
		default:
			fprintf(stderr, "usage: hikyaku [-c DIR] queue [-p | -j | -f]\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usage: hikyaku [-c DIR] queue [-p | -j | -f]\n");
		return 2;
	}
	if (mode == FLUSH) {
		char *flush_argv[] = {"flush", NULL};
		return command_control(directory, 1, flush_argv);
	}
	directory = instance_directory(directory);
	if (instance_load(directory, false) != 0) {
		log_error("configuration in %s has errors", directory);
		return 1;
	}
	return list_queue(mode == JSON);
}
