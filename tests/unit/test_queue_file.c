/*
 * test_queue_file - the queue file: round trip, marking done in place,
 * and refusing every truncated or altered file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "queue_file.h"

static const char content[] = "From: a@example.com\nSubject: x\n\nbody\n\0nul\n";

static int
temp_file(void)
{
	char path[] = "/tmp/test_queue_file.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

static int
write_sample(int fd)
{
	struct queue_file_writer *writer = queue_file_writer_open(fd, "0123456789ABC", 42);

	if (writer == NULL)
		return -1;
	if (queue_file_put_sender(writer, "a@example.com") < 0 ||
	    queue_file_put_attribute(writer, "envid", "E1") < 0 ||
	    queue_file_put_attribute(writer, "client_address", "192.0.2.1") < 0 ||
	    queue_file_put_recipient(writer, "b@example.com", "B@Example.com",
	                             "rfc822;B@Example.com", 3) < 0 ||
	    queue_file_put_recipient(writer, "c@example.com", NULL, NULL, 0) < 0 ||
	    queue_file_put_content(writer, content, 20) < 0 ||
	    queue_file_put_content(writer, content + 20, sizeof(content) - 1 - 20) < 0) {
		queue_file_writer_abandon(writer);
		return -1;
	}
	return queue_file_writer_finish(writer, 32);
}

static void
test_round_trip(void)
{
	int fd = temp_file();
	struct queue_message message;
	struct dstring error;
	char buffer[sizeof(content)];

	dstring_init(&error, 1000);
	CHECK(write_sample(fd) == 0);
	CHECK(queue_file_read(fd, &message, &error) == 0);
	CHECK_STR_EQ(error.data, "");
	CHECK_STR_EQ(message.queue_id, "0123456789ABC");
	CHECK_INT_EQ(message.arrival_microseconds, 42);
	CHECK_STR_EQ(message.sender, "a@example.com");
	CHECK_INT_EQ(message.attribute_count, 2);
	CHECK_STR_EQ(queue_message_attribute(&message, "envid"), "E1");
	CHECK_STR_EQ(queue_message_attribute(&message, "client_address"), "192.0.2.1");
	CHECK(queue_message_attribute(&message, "ret") == NULL);
	CHECK_INT_EQ(message.recipient_count, 2);
	CHECK_STR_EQ(message.recipients[0].address, "b@example.com");
	CHECK_STR_EQ(message.recipients[0].original, "B@Example.com");
	CHECK_STR_EQ(message.recipients[0].orcpt, "rfc822;B@Example.com");
	CHECK_INT_EQ(message.recipients[0].notify, 3);
	CHECK_INT_EQ(message.recipients[0].status, QUEUE_RECIPIENT_PENDING);
	CHECK_STR_EQ(message.recipients[1].original, "c@example.com");
	CHECK_STR_EQ(message.recipients[1].orcpt, "");
	CHECK_INT_EQ(message.content_size, sizeof(content) - 1);
	CHECK_INT_EQ(message.header_size, 32);
	CHECK(pread(fd, buffer, sizeof(content) - 1, message.content_offset) ==
	      (ssize_t)sizeof(content) - 1);
	CHECK(memcmp(buffer, content, sizeof(content) - 1) == 0);

	/* Mark the second recipient done in place; the size does not change. */
	off_t size = lseek(fd, 0, SEEK_END);
	CHECK(queue_file_mark_done(fd, &message.recipients[1], QUEUE_RECIPIENT_DONE) == 0);
	CHECK(lseek(fd, 0, SEEK_END) == size);
	queue_message_fini(&message);
	CHECK(queue_file_read(fd, &message, &error) == 0);
	CHECK_INT_EQ(message.recipients[0].status, QUEUE_RECIPIENT_PENDING);
	CHECK_INT_EQ(message.recipients[1].status, QUEUE_RECIPIENT_DONE);
	CHECK(queue_file_mark_done(fd, &message.recipients[1], 'x') < 0);
	queue_message_fini(&message);
	close(fd);
	dstring_fini(&error);
}

/* Every prefix of a good file is refused: incomplete files are recognisable. */
static void
test_truncation_and_damage(void)
{
	int fd = temp_file(), copy;
	struct queue_message message;
	struct dstring error;
	char *bytes;
	off_t size;
	size_t refused = 0, flips_accepted = 0;

	dstring_init(&error, 1000);
	CHECK(write_sample(fd) == 0);
	size = lseek(fd, 0, SEEK_END);
	bytes = malloc((size_t)size);
	CHECK(pread(fd, bytes, (size_t)size, 0) == size);
	for (off_t cut = 0; cut < size; cut++) {
		copy = temp_file();
		CHECK(write(copy, bytes, (size_t)cut) == cut);
		if (queue_file_read(copy, &message, &error) < 0)
			refused++;
		close(copy);
	}
	CHECK_INT_EQ(refused, size);
	/* Trailing garbage is refused too. */
	copy = temp_file();
	CHECK(write(copy, bytes, (size_t)size) == size);
	CHECK(write(copy, "E", 1) == 1);
	CHECK(queue_file_read(copy, &message, &error) < 0);
	CHECK(strstr(error.data, "after the end") != NULL || strstr(error.data, "truncated"));
	close(copy);
	/* Flipping any one byte outside the content never crashes the reader. */
	for (off_t at = 0; at < size; at++) {
		copy = temp_file();
		bytes[at] ^= 0x5a;
		CHECK(write(copy, bytes, (size_t)size) == size);
		bytes[at] ^= 0x5a;
		if (queue_file_read(copy, &message, &error) == 0) {
			flips_accepted++;
			queue_message_fini(&message);
		}
		close(copy);
	}
	CHECK(flips_accepted < (size_t)size);
	free(bytes);
	close(fd);
	dstring_fini(&error);
}

static void
test_writer_order(void)
{
	int fd = temp_file();
	struct queue_file_writer *writer = queue_file_writer_open(fd, "0123456789ABC", 1);

	/* No recipient before the sender; no content before a recipient. */
	CHECK(queue_file_put_recipient(writer, "a", NULL, NULL, 0) < 0);
	CHECK(queue_file_put_sender(writer, "") == 0);
	CHECK(queue_file_put_content(writer, "x", 1) < 0);
	CHECK(queue_file_put_attribute(writer, "Bad", "x") < 0);
	queue_file_writer_abandon(writer);
	close(fd);
}

int
main(void)
{
	test_round_trip();
	test_truncation_and_damage();
	test_writer_order();
	return check_finish();
}
