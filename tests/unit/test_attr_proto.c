/*
 * test_attr_proto - the IPC codec: round trips, and a strict reader that
 * refuses missing, unknown, out-of-order, mistyped and trailing attributes.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr_proto.h"
#include "check.h"
#include "stream.h"

static void
payload_of(struct attr_writer *writer, const unsigned char **payload, size_t *length)
{
	size_t frame_length;
	const unsigned char *frame = attr_writer_frame(writer, &frame_length);

	*payload = frame + ATTR_FRAME_HEADER;
	*length = frame_length - ATTR_FRAME_HEADER;
}

static void
test_round_trip(void)
{
	struct attr_writer writer;
	struct attr_reader reader;
	const unsigned char *payload;
	size_t length, data_length;
	const char *text;
	const void *data;
	int64_t number;

	attr_writer_init(&writer);
	attr_put_string(&writer, "sender", "a@example.com");
	attr_put_int(&writer, "flags", -5);
	attr_put_data(&writer, "data", "x\0y", 3);
	attr_put_string(&writer, "empty", "");
	payload_of(&writer, &payload, &length);

	attr_reader_init(&reader, payload, length);
	CHECK(attr_get_string(&reader, "sender", &text) == 0);
	CHECK_STR_EQ(text, "a@example.com");
	CHECK(attr_get_int(&reader, "flags", &number) == 0);
	CHECK_INT_EQ(number, -5);
	CHECK(attr_get_data(&reader, "data", &data, &data_length) == 0);
	CHECK_INT_EQ(data_length, 3);
	CHECK(memcmp(data, "x\0y", 3) == 0);
	CHECK(attr_get_string(&reader, "empty", &text) == 0);
	CHECK_STR_EQ(text, "");
	CHECK(attr_reader_end(&reader) == 0);

	/* Out of order: asking for flags first fails, and the failure sticks. */
	attr_reader_init(&reader, payload, length);
	CHECK(attr_get_int(&reader, "flags", &number) < 0);
	CHECK(attr_get_string(&reader, "sender", &text) < 0);
	CHECK_STR_EQ(text, "");
	CHECK(attr_reader_end(&reader) < 0);
	CHECK(strstr(attr_reader_error(&reader), "expected attribute flags") != NULL);

	/* Wrong type. */
	attr_reader_init(&reader, payload, length);
	CHECK(attr_get_int(&reader, "sender", &number) < 0);

	/* Trailing attribute. */
	attr_reader_init(&reader, payload, length);
	attr_get_string(&reader, "sender", &text);
	attr_get_int(&reader, "flags", &number);
	CHECK(attr_reader_end(&reader) < 0);
	CHECK(strstr(attr_reader_error(&reader), "unexpected attribute data") != NULL);

	/* Missing attribute. */
	attr_reader_init(&reader, payload, length);
	attr_get_string(&reader, "sender", &text);
	attr_get_int(&reader, "flags", &number);
	attr_get_data(&reader, "data", &data, &data_length);
	attr_get_string(&reader, "empty", &text);
	CHECK(attr_get_string(&reader, "more", &text) < 0);
	CHECK(strstr(attr_reader_error(&reader), "missing attribute more") != NULL);

	/* Every truncation of the payload fails somewhere. */
	for (size_t cut = 0; cut < length; cut++) {
		attr_reader_init(&reader, payload, cut);
		attr_get_string(&reader, "sender", &text);
		attr_get_int(&reader, "flags", &number);
		attr_get_data(&reader, "data", &data, &data_length);
		attr_get_string(&reader, "empty", &text);
		CHECK(attr_reader_end(&reader) < 0);
	}
	attr_writer_fini(&writer);
}

static void
test_hostile(void)
{
	struct attr_reader reader;
	const char *text;
	size_t frame_length;
	/* name with an upper-case letter */
	static const unsigned char bad_name[] = {'s', 1, 'A', 0, 0, 0, 1, 0};
	/* string without its NUL */
	static const unsigned char no_nul[] = {'s', 1, 'a', 0, 0, 0, 1, 'x'};
	/* string with an inner NUL */
	static const unsigned char inner_nul[] = {'s', 1, 'a', 0, 0, 0, 3, 'x', 0, 0};
	/* value length past the payload */
	static const unsigned char too_long[] = {'s', 1, 'a', 0xff, 0xff, 0xff, 0xff, 0};
	/* integer of 4 bytes */
	static const unsigned char short_int[] = {'i', 1, 'a', 0, 0, 0, 4, 0, 0, 0, 1};
	static const unsigned char huge_frame[] = {0x7f, 0xff, 0xff, 0xff};
	static const unsigned char small_frame[] = {0, 0, 0, 2, 'a'};
	int64_t number;

	attr_reader_init(&reader, bad_name, sizeof(bad_name));
	CHECK(attr_get_string(&reader, "a", &text) < 0);
	attr_reader_init(&reader, no_nul, sizeof(no_nul));
	CHECK(attr_get_string(&reader, "a", &text) < 0);
	attr_reader_init(&reader, inner_nul, sizeof(inner_nul));
	CHECK(attr_get_string(&reader, "a", &text) < 0);
	attr_reader_init(&reader, too_long, sizeof(too_long));
	CHECK(attr_get_string(&reader, "a", &text) < 0);
	attr_reader_init(&reader, short_int, sizeof(short_int));
	CHECK(attr_get_int(&reader, "a", &number) < 0);
	CHECK(attr_frame_check(huge_frame, sizeof(huge_frame), &frame_length) ==
	      ATTR_FRAME_INVALID);
	CHECK(attr_frame_check(small_frame, sizeof(small_frame), &frame_length) ==
	      ATTR_FRAME_INCOMPLETE);
	CHECK(attr_frame_check(small_frame, 3, &frame_length) == ATTR_FRAME_INCOMPLETE);
}

static void
test_stream(void)
{
	int pair[2];
	struct stream *left, *right;
	struct attr_writer writer;
	struct attr_reader reader;
	struct dstring payload, error;
	const char *text;
	static char big[200000];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
	left = stream_open(pair[0]);
	right = stream_open(pair[1]);
	stream_set_timeout(left, 5000);
	stream_set_timeout(right, 5000);
	memset(big, 'b', sizeof(big) - 1);
	attr_writer_init(&writer);
	if (fork() == 0) {
		stream_free(right);
		attr_put_string(&writer, "request", "hello");
		attr_send(left, &writer);
		attr_writer_reset(&writer);
		attr_put_string(&writer, "big", big);
		attr_send(left, &writer);
		_exit(stream_close(left) == STREAM_OK ? 0 : 1);
	}
	stream_free(left);
	close(pair[0]);
	dstring_init(&payload, ATTR_FRAME_MAX);
	dstring_init(&error, 200);
	CHECK(attr_receive(right, &payload, &error) == 0);
	attr_reader_init(&reader, payload.data, payload.length);
	attr_get_string(&reader, "request", &text);
	CHECK(attr_reader_end(&reader) == 0);
	CHECK_STR_EQ(text, "hello");
	CHECK(attr_receive(right, &payload, &error) == 0);
	attr_reader_init(&reader, payload.data, payload.length);
	attr_get_string(&reader, "big", &text);
	CHECK(attr_reader_end(&reader) == 0);
	CHECK_INT_EQ(strlen(text), sizeof(big) - 1);
	CHECK(attr_receive(right, &payload, &error) < 0);
	CHECK(strstr(error.data, "end of input") != NULL);
	stream_close(right);
	{
		int status;

		wait(&status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	attr_writer_fini(&writer);
	dstring_fini(&payload);
	dstring_fini(&error);
}

int
main(void)
{
	test_round_trip();
	test_hostile();
	test_stream();
	return check_finish();
}
