/*
 * test_stream - the buffered stream, over real socketpairs and pipes.
 *
 * Peers are the other end of a socketpair: pre-filled, closed, silent, or
 * a forked child writing one byte at a time. SIGPIPE keeps its default
 * action, so a write to a closed peer that raised it would kill the test.
 * alarm() bounds the whole run; each timing check has only a lower bound
 * and a generous upper one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "stream.h"

#define LINE_LIMIT 1000

static void
make_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(2);
	}
}

static void
write_all(int fd, const void *data, size_t size)
{
	const char *cursor = data;

	while (size > 0) {
		ssize_t written = write(fd, cursor, size);

		if (written <= 0) {
			perror("write");
			exit(2);
		}
		cursor += written;
		size -= (size_t)written;
	}
}

static void
write_text(int fd, const char *text)
{
	write_all(fd, text, strlen(text));
}

static int64_t
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Read from a raw descriptor until EOF, into text. */
static void
read_to_eof(int fd, struct dstring *text)
{
	char buffer[4096];
	ssize_t length;

	while ((length = read(fd, buffer, sizeof(buffer))) > 0)
		dstring_append(text, buffer, (size_t)length);
}

static int
wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Expect one stream_gets result: status and the exact bytes appended. */
static void
expect_gets(struct stream *stream, size_t max_length, enum stream_status expected_status,
	    const char *expected, size_t expected_length, int line)
{
	struct dstring text;
	enum stream_status status;

	dstring_init(&text, LINE_LIMIT);
	status = stream_gets(stream, &text, max_length);
	if (status != expected_status || dstring_length(&text) != expected_length ||
	    memcmp(dstring_str(&text), expected, expected_length) != 0) {
		check_failed++;
		fprintf(stderr, "%s:%d: stream_gets gave status %d, %zu bytes \"%s\"; expected %d, %zu bytes \"%s\"\n",
			__FILE__, line, (int)status, dstring_length(&text), dstring_str(&text),
			(int)expected_status, expected_length, expected);
	} else {
		check_passed++;
	}
	dstring_fini(&text);
}

#define EXPECT_GETS(stream, max, status, text)                                                     \
	expect_gets(stream, max, status, text, sizeof(text) - 1, __LINE__)

/* A table of inputs, all sent before reading, and the lines that come out. */
struct gets_case {
	const char *name;
	const char *input;
	size_t input_length;
	bool close_peer;
	size_t max_length;
	struct {
		enum stream_status status;
		const char *text;
		size_t length;
	} lines[6];
	size_t line_count;
};

#define BYTES(text) text, sizeof(text) - 1

static const struct gets_case gets_cases[] = {
	{"crlf and bare lf", BYTES("HELO a\r\nMAIL FROM:<>\nQUIT\r\n"), true, 100,
	 {{STREAM_OK, BYTES("HELO a\r\n")},
	  {STREAM_OK, BYTES("MAIL FROM:<>\n")},
	  {STREAM_OK, BYTES("QUIT\r\n")},
	  {STREAM_EOF, BYTES("")}},
	 4},
	{"nul and cr kept", BYTES("a\0b\rc\r\n\0\n"), true, 100,
	 {{STREAM_OK, BYTES("a\0b\rc\r\n")}, {STREAM_OK, BYTES("\0\n")}, {STREAM_EOF, BYTES("")}},
	 3},
	{"line exactly max_length", BYTES("1234567\n"), true, 8,
	 {{STREAM_OK, BYTES("1234567\n")}, {STREAM_EOF, BYTES("")}},
	 2},
	{"one byte over max_length", BYTES("12345678\n"), true, 8,
	 {{STREAM_PARTIAL, BYTES("12345678")}, {STREAM_OK, BYTES("\n")}, {STREAM_EOF, BYTES("")}},
	 3},
	{"much longer than max_length", BYTES("aaaaaaaaaaaaaaaaaaaa\r\nnext\n"), true, 8,
	 {{STREAM_PARTIAL, BYTES("aaaaaaaa")},
	  {STREAM_PARTIAL, BYTES("aaaaaaaa")},
	  {STREAM_OK, BYTES("aaaa\r\n")},
	  {STREAM_OK, BYTES("next\n")},
	  {STREAM_EOF, BYTES("")}},
	 5},
	{"eof mid-line", BYTES("done\nhalf"), true, 100,
	 {{STREAM_OK, BYTES("done\n")},
	  {STREAM_PARTIAL, BYTES("half")},
	  {STREAM_EOF, BYTES("")},
	  {STREAM_EOF, BYTES("")}},
	 4},
	{"eof at start", BYTES(""), true, 100, {{STREAM_EOF, BYTES("")}, {STREAM_EOF, BYTES("")}}, 2},
	{"max_length one", BYTES("ab\n"), true, 1,
	 {{STREAM_PARTIAL, BYTES("a")}, {STREAM_PARTIAL, BYTES("b")}, {STREAM_OK, BYTES("\n")}},
	 3},
	{"empty lines", BYTES("\n\r\n\n"), false, 100,
	 {{STREAM_OK, BYTES("\n")}, {STREAM_OK, BYTES("\r\n")}, {STREAM_OK, BYTES("\n")}},
	 3},
};

/* I/O functions that read one byte per call, counting calls. */
struct counting_context {
	unsigned reads;
	unsigned writes;
	bool must_say_again; /* answer the first read with EAGAIN/POLLOUT */
};

static ssize_t
one_byte_read(void *context, int fd, void *buffer, size_t size, short *wait_events)
{
	struct counting_context *counting = context;

	counting->reads++;
	if (counting->must_say_again) {
		counting->must_say_again = false;
		*wait_events = POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	*wait_events = POLLIN;
	return recv(fd, buffer, size > 0 ? 1 : 0, MSG_DONTWAIT);
}

static ssize_t
one_byte_write(void *context, int fd, const void *data, size_t size, short *wait_events)
{
	struct counting_context *counting = context;

	counting->writes++;
	*wait_events = POLLOUT;
	return send(fd, data, size > 0 ? 1 : 0, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
run_gets_case(const struct gets_case *test, const struct stream_ops *ops)
{
	int fds[2];
	struct stream *stream;

	make_pair(fds);
	write_all(fds[1], test->input, test->input_length);
	if (test->close_peer)
		close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	if (ops != NULL)
		stream_set_ops(stream, ops);
	for (size_t i = 0; i < test->line_count; i++) {
		expect_gets(stream, test->max_length, test->lines[i].status, test->lines[i].text,
			    test->lines[i].length, __LINE__);
	}
	if (!test->close_peer)
		close(fds[1]);
	CHECK_INT_EQ(stream_close(stream), STREAM_OK);
}

static void
test_gets_table(void)
{
	struct counting_context counting = {0};
	struct stream_ops one_byte = {one_byte_read, one_byte_write, &counting};

	for (size_t i = 0; i < sizeof(gets_cases) / sizeof(gets_cases[0]); i++) {
		fprintf(stderr, "case: %s\n", gets_cases[i].name);
		run_gets_case(&gets_cases[i], NULL);
		fprintf(stderr, "case: %s, one byte per read\n", gets_cases[i].name);
		run_gets_case(&gets_cases[i], &one_byte);
	}
	CHECK(counting.reads > 20);
}

/* A child that writes script one byte at a time, with pauses. */
static pid_t
start_slow_writer(int fd, const char *script, size_t length, unsigned pause_us)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		for (size_t i = 0; i < length; i++) {
			if (write(fd, script + i, 1) != 1)
				_exit(1);
			usleep(pause_us);
		}
		_exit(0);
	}
	return pid;
}

static void
test_slow_writer(void)
{
	static const char script[] = "EHLO client.example\r\nbare\nwith\0nul\r\nlong line here\r\nend";
	int fds[2];
	struct stream *stream;
	pid_t pid;

	make_pair(fds);
	pid = start_slow_writer(fds[1], script, sizeof(script) - 1, 200);
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 10000);
	EXPECT_GETS(stream, 100, STREAM_OK, "EHLO client.example\r\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "bare\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "with\0nul\r\n");
	EXPECT_GETS(stream, 5, STREAM_PARTIAL, "long ");
	EXPECT_GETS(stream, 100, STREAM_OK, "line here\r\n");
	EXPECT_GETS(stream, 100, STREAM_PARTIAL, "end");
	CHECK(stream_at_eof(stream));
	EXPECT_GETS(stream, 100, STREAM_EOF, "");
	CHECK_INT_EQ(wait_child(pid), 0);
	stream_close(stream);
}

/* The timeout counts per operation: a trickle of bytes does not reset it. */
static void
test_trickle_is_bounded(void)
{
	static const char script[] = "abcdefghijklmnopqrst\n";
	int fds[2];
	struct stream *stream;
	struct dstring line;
	int64_t start;
	pid_t pid;

	make_pair(fds);
	pid = start_slow_writer(fds[1], script, sizeof(script) - 1, 50000);
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 300);
	dstring_init(&line, LINE_LIMIT);
	start = now_ms();
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_TIMEOUT);
	CHECK(now_ms() - start >= 250);
	CHECK(now_ms() - start < 5000);
	/* What arrived before the timeout is kept. */
	CHECK(dstring_length(&line) > 0 && dstring_length(&line) < sizeof(script) - 1);
	dstring_fini(&line);
	stream_close(stream);
	kill(pid, SIGKILL);
	wait_child(pid);
}

static void
test_read_timeout(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring line;
	int64_t start, elapsed;

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 200);
	dstring_init(&line, LINE_LIMIT);
	start = now_ms();
	errno = 0;
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_TIMEOUT);
	CHECK_INT_EQ(errno, ETIMEDOUT);
	elapsed = now_ms() - start;
	CHECK(elapsed >= 150);
	CHECK(elapsed < 5000);
	CHECK_INT_EQ(dstring_length(&line), 0);
	/* A read timeout is not sticky. */
	CHECK(!stream_has_error(stream));
	write_text(fds[1], "late\r\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "late\r\n");

	/* The same through skip_line, read and read_exact. */
	start = now_ms();
	CHECK_INT_EQ(stream_skip_line(stream), STREAM_TIMEOUT);
	CHECK(now_ms() - start >= 150);
	{
		char buffer[10];
		size_t length = 99;

		CHECK_INT_EQ(stream_read(stream, buffer, sizeof(buffer), &length), STREAM_TIMEOUT);
		CHECK_INT_EQ(length, 0);
		write_text(fds[1], "abc");
		CHECK_INT_EQ(stream_read_exact(stream, buffer, 5), STREAM_TIMEOUT);
	}
	/* stream_wait: nothing to read, but room to write. */
	CHECK_INT_EQ(stream_wait(stream, POLLIN), STREAM_TIMEOUT);
	CHECK_INT_EQ(stream_wait(stream, POLLOUT), STREAM_OK);
	dstring_fini(&line);
	close(fds[1]);
	stream_close(stream);
}

static void
set_deadline_in(struct stream *stream, int64_t milliseconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += milliseconds / 1000;
	deadline.tv_nsec += (milliseconds % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	} else if (deadline.tv_nsec < 0) {
		deadline.tv_sec--;
		deadline.tv_nsec += 1000000000;
	}
	stream_set_deadline(stream, &deadline);
}

static void
test_deadline(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring line;
	int64_t start, elapsed;

	make_pair(fds);
	stream = stream_open(fds[0]);
	dstring_init(&line, LINE_LIMIT);

	/* A deadline in the past: an immediate timeout, even with data waiting. */
	stream_set_timeout(stream, 10000);
	set_deadline_in(stream, -1000);
	write_text(fds[1], "ready\n");
	start = now_ms();
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_TIMEOUT);
	CHECK(now_ms() - start < 1000);

	/* The deadline is earlier than the timeout: the deadline wins. */
	stream_set_deadline(stream, NULL);
	EXPECT_GETS(stream, 100, STREAM_OK, "ready\n");
	set_deadline_in(stream, 200);
	start = now_ms();
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_TIMEOUT);
	elapsed = now_ms() - start;
	CHECK(elapsed >= 150);
	CHECK(elapsed < 5000);

	/* The timeout is earlier than the deadline: the timeout wins. */
	set_deadline_in(stream, 60000);
	stream_set_timeout(stream, 200);
	start = now_ms();
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_TIMEOUT);
	elapsed = now_ms() - start;
	CHECK(elapsed >= 150);
	CHECK(elapsed < 5000);

	/* Buffered input needs no waiting, whatever the deadline. */
	write_text(fds[1], "one\ntwo\n");
	stream_set_deadline(stream, NULL);
	EXPECT_GETS(stream, 100, STREAM_OK, "one\n");
	set_deadline_in(stream, -1000);
	EXPECT_GETS(stream, 100, STREAM_OK, "two\n");
	/* Writes honour the deadline too. */
	CHECK_INT_EQ(stream_puts(stream, "late\r\n"), STREAM_OK);
	CHECK_INT_EQ(stream_flush(stream), STREAM_TIMEOUT);
	CHECK(stream_has_error(stream));
	CHECK_INT_EQ(stream_error_code(stream), ETIMEDOUT);

	dstring_fini(&line);
	close(fds[1]);
	stream_close(stream);
}

static void
test_write_to_closed_peer(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring line;
	enum stream_status status;

	make_pair(fds);
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	CHECK_INT_EQ(stream_puts(stream, "250 ok\r\n"), STREAM_OK);
	CHECK(!stream_has_error(stream));
	errno = 0;
	status = stream_flush(stream);
	CHECK_INT_EQ(status, STREAM_ERROR);
	CHECK(errno == EPIPE || errno == ECONNRESET);
	CHECK(stream_has_error(stream));
	CHECK(stream_error_code(stream) == EPIPE || stream_error_code(stream) == ECONNRESET);
	/* Sticky: every later call fails the same way. */
	CHECK_INT_EQ(stream_puts(stream, "more\r\n"), STREAM_ERROR);
	CHECK_INT_EQ(stream_printf(stream, "%d\r\n", 42), STREAM_ERROR);
	CHECK_INT_EQ(stream_flush(stream), STREAM_ERROR);
	dstring_init(&line, LINE_LIMIT);
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_ERROR);
	dstring_fini(&line);
	CHECK_INT_EQ(stream_close(stream), STREAM_ERROR);

	/* Closing with pending output to a closed peer reports the failure too. */
	make_pair(fds);
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_puts(stream, "221 bye\r\n");
	CHECK_INT_EQ(stream_close(stream), STREAM_ERROR);
}

static void
test_write_timeout(void)
{
	int fds[2];
	int size = 4096;
	struct stream *stream;
	static char block[65536];
	enum stream_status status = STREAM_OK;
	int64_t start, elapsed;

	make_pair(fds);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	memset(block, 'x', sizeof(block));
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 200);
	start = now_ms();
	/* The peer never reads: sooner or later a write must time out. */
	for (int i = 0; i < 1000 && status == STREAM_OK; i++)
		status = stream_write(stream, block, sizeof(block));
	if (status == STREAM_OK)
		status = stream_flush(stream);
	elapsed = now_ms() - start;
	CHECK_INT_EQ(status, STREAM_TIMEOUT);
	CHECK_INT_EQ(errno, ETIMEDOUT);
	CHECK(elapsed >= 150);
	CHECK(elapsed < 10000);
	/* A write timeout is sticky: part of the output may be lost. */
	CHECK(stream_has_error(stream));
	CHECK_INT_EQ(stream_error_code(stream), ETIMEDOUT);
	CHECK_INT_EQ(stream_puts(stream, "x"), STREAM_ERROR);
	stream_free(stream);
	close(fds[0]);
	close(fds[1]);
}

static void
test_discard_input(void)
{
	int fds[2];
	struct stream *stream;

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	write_text(fds[1], "STARTTLS\r\nMAIL FROM:<evil>\r\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "STARTTLS\r\n");
	CHECK_INT_EQ(stream_pending(stream), 18);
	CHECK_INT_EQ(stream_discard_input(stream), 18);
	CHECK_INT_EQ(stream_pending(stream), 0);
	CHECK_INT_EQ(stream_discard_input(stream), 0);
	write_text(fds[1], "EHLO after\r\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "EHLO after\r\n");

	/* Changing the I/O functions drops buffered input as well. */
	{
		struct counting_context counting = {0};
		struct stream_ops ops = {one_byte_read, one_byte_write, &counting};

		write_text(fds[1], "one\r\ninjected\r\n");
		EXPECT_GETS(stream, 100, STREAM_OK, "one\r\n");
		CHECK_INT_EQ(stream_pending(stream), 10);
		stream_set_ops(stream, &ops);
		CHECK_INT_EQ(stream_pending(stream), 0);
		write_text(fds[1], "two\r\n");
		EXPECT_GETS(stream, 100, STREAM_OK, "two\r\n");
		CHECK_INT_EQ(counting.reads, 5);
		/* Writes go through them too, and back to the default. */
		CHECK_INT_EQ(stream_puts(stream, "abc"), STREAM_OK);
		CHECK_INT_EQ(stream_flush(stream), STREAM_OK);
		CHECK_INT_EQ(counting.writes, 3);
		stream_set_ops(stream, NULL);
		write_text(fds[1], "three\r\n");
		EXPECT_GETS(stream, 100, STREAM_OK, "three\r\n");
		CHECK_INT_EQ(counting.reads, 5);
	}
	close(fds[1]);
	stream_close(stream);
}

/* I/O functions that ask to wait for POLLOUT before a read, like TLS can. */
static void
test_ops_wait_events(void)
{
	int fds[2];
	struct stream *stream;
	struct counting_context counting = {.must_say_again = true};
	struct stream_ops ops = {one_byte_read, one_byte_write, &counting};

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	stream_set_ops(stream, &ops);
	write_text(fds[1], "hi\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "hi\n");
	CHECK_INT_EQ(counting.reads, 4);
	close(fds[1]);
	stream_close(stream);
}

static void
test_read_and_read_exact(void)
{
	int fds[2];
	struct stream *stream;
	char buffer[16];
	size_t length;

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	write_all(fds[1], "abc\0efgh", 8);
	CHECK_INT_EQ(stream_read_exact(stream, buffer, 5), STREAM_OK);
	CHECK(memcmp(buffer, "abc\0e", 5) == 0);
	CHECK_INT_EQ(stream_read(stream, buffer, 0, &length), STREAM_OK);
	CHECK_INT_EQ(length, 0);
	CHECK_INT_EQ(stream_read(stream, buffer, sizeof(buffer), &length), STREAM_OK);
	CHECK_INT_EQ(length, 3);
	CHECK(memcmp(buffer, "fgh", 3) == 0);
	write_text(fds[1], "12345");
	CHECK_INT_EQ(stream_read(stream, buffer, 2, &length), STREAM_OK);
	CHECK_INT_EQ(length, 2);
	CHECK_INT_EQ(stream_pending(stream), 3);
	close(fds[1]);
	CHECK_INT_EQ(stream_read_exact(stream, buffer, 5), STREAM_EOF);
	CHECK(stream_at_eof(stream));
	CHECK_INT_EQ(stream_read(stream, buffer, sizeof(buffer), &length), STREAM_EOF);
	CHECK_INT_EQ(length, 0);
	stream_close(stream);
}

static void
test_skip_line(void)
{
	int fds[2];
	struct stream *stream;
	static char garbage[40000];

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	memset(garbage, 'g', sizeof(garbage));
	/* Longer than the buffer, so skipping takes several reads. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			write_all(fds[1], garbage, sizeof(garbage));
			write_text(fds[1], "\r\nnext\r\ntail");
			_exit(0);
		}
		close(fds[1]);
		CHECK_INT_EQ(stream_skip_line(stream), STREAM_OK);
		EXPECT_GETS(stream, 100, STREAM_OK, "next\r\n");
		CHECK_INT_EQ(stream_skip_line(stream), STREAM_EOF);
		CHECK_INT_EQ(stream_skip_line(stream), STREAM_EOF);
		CHECK_INT_EQ(wait_child(pid), 0);
	}
	stream_close(stream);
}

/* A line longer than the caller's string may hold is an error, not lost data. */
static void
test_string_limit(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring line;

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	write_text(fds[1], "abcdefgh\n");
	dstring_init(&line, 4);
	errno = 0;
	CHECK_INT_EQ(stream_gets(stream, &line, 100), STREAM_ERROR);
	CHECK_INT_EQ(errno, ENOBUFS);
	CHECK_INT_EQ(stream_pending(stream), 9);
	CHECK(!stream_has_error(stream));
	CHECK_INT_EQ(stream_gets(stream, &line, 4), STREAM_PARTIAL);
	CHECK_STR_EQ(dstring_str(&line), "abcd");
	dstring_fini(&line);
	close(fds[1]);
	stream_close(stream);
}

static void
test_printf(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring received;
	static char filler[STREAM_BUFFER_SIZE];

	make_pair(fds);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	CHECK_INT_EQ(stream_printf(stream, "%d %s%c", 250, "2.0.0 Ok", '\n'), STREAM_OK);
	CHECK_INT_EQ(stream_puts(stream, "end\r\n"), STREAM_OK);
	/* Nearly fill the buffer, so the next printf does not fit in place. */
	memset(filler, 'f', sizeof(filler));
	CHECK_INT_EQ(stream_write(stream, filler, sizeof(filler) - 18 - 5), STREAM_OK);
	CHECK_INT_EQ(stream_printf(stream, "[%s]", "0123456789"), STREAM_OK);
	CHECK_INT_EQ(stream_close(stream), STREAM_OK);
	dstring_init(&received, DSTRING_NO_LIMIT);
	read_to_eof(fds[1], &received);
	CHECK_INT_EQ(dstring_length(&received), sizeof(filler) - 5 + 12);
	CHECK(memcmp(dstring_str(&received), "250 2.0.0 Ok\nend\r\nfff", 21) == 0);
	CHECK(memcmp(dstring_str(&received) + dstring_length(&received) - 14, "ff[0123456789]",
		     14) == 0);
	dstring_fini(&received);
	close(fds[1]);
}

/* 100 KB through one printf, written by a child and read line by line. */
static void
test_long_printf(void)
{
	enum { LONG_SIZE = 100 * 1024 };
	int fds[2];
	char *text = malloc(LONG_SIZE + 1);
	struct stream *stream;
	struct dstring line;
	pid_t pid;

	for (size_t i = 0; i < LONG_SIZE; i++)
		text[i] = (char)('a' + i % 26);
	text[LONG_SIZE] = '\0';
	make_pair(fds);
	pid = fork();
	if (pid == 0) {
		struct stream *writer;

		close(fds[0]);
		writer = stream_open(fds[1]);
		stream_set_timeout(writer, 10000);
		if (stream_printf(writer, "begin %s end\r\nsecond\r\n", text) != STREAM_OK)
			_exit(1);
		_exit(stream_close(writer) == STREAM_OK ? 0 : 2);
	}
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 10000);
	dstring_init(&line, 2 * LONG_SIZE);
	CHECK_INT_EQ(stream_gets(stream, &line, 2 * LONG_SIZE), STREAM_OK);
	CHECK_INT_EQ(dstring_length(&line), LONG_SIZE + 12);
	CHECK(strncmp(dstring_str(&line), "begin ", 6) == 0);
	CHECK(memcmp(dstring_str(&line) + 6, text, LONG_SIZE) == 0);
	CHECK_STR_EQ(dstring_str(&line) + 6 + LONG_SIZE, " end\r\n");
	EXPECT_GETS(stream, 100, STREAM_OK, "second\r\n");
	EXPECT_GETS(stream, 100, STREAM_EOF, "");
	CHECK_INT_EQ(wait_child(pid), 0);
	dstring_fini(&line);
	free(text);
	stream_close(stream);
}

/* Pending output goes out before a read waits: no deadlock on a reply. */
static void
test_flush_before_read(void)
{
	int fds[2];
	struct stream *stream;
	pid_t pid;

	make_pair(fds);
	pid = fork();
	if (pid == 0) {
		struct stream *echo;
		struct dstring line;

		close(fds[0]);
		echo = stream_open(fds[1]);
		stream_set_timeout(echo, 5000);
		dstring_init(&line, LINE_LIMIT);
		if (stream_gets(echo, &line, 100) != STREAM_OK)
			_exit(1);
		stream_printf(echo, "echo: %s", dstring_str(&line));
		_exit(stream_close(echo) == STREAM_OK ? 0 : 2);
	}
	close(fds[1]);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	CHECK_INT_EQ(stream_puts(stream, "ping\r\n"), STREAM_OK);
	EXPECT_GETS(stream, 100, STREAM_OK, "echo: ping\r\n");
	EXPECT_GETS(stream, 100, STREAM_EOF, "");
	CHECK_INT_EQ(wait_child(pid), 0);
	stream_close(stream);
}

/* Pipes, blocking and not: polled before each call, or tried at once. */
static void
test_pipes(void)
{
	for (int is_nonblocking = 0; is_nonblocking <= 1; is_nonblocking++) {
		int pipe_fds[2];
		struct stream *reader, *writer;
		struct dstring line, received;
		int64_t start;

		if (pipe(pipe_fds) < 0) {
			perror("pipe");
			exit(2);
		}
		if (is_nonblocking) {
			fcntl(pipe_fds[0], F_SETFL, fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
			fcntl(pipe_fds[1], F_SETFL, fcntl(pipe_fds[1], F_GETFL) | O_NONBLOCK);
		}
		reader = stream_open(pipe_fds[0]);
		writer = stream_open(pipe_fds[1]);
		stream_set_timeout(reader, 200);
		stream_set_timeout(writer, 200);
		dstring_init(&line, LINE_LIMIT);
		start = now_ms();
		CHECK_INT_EQ(stream_gets(reader, &line, 100), STREAM_TIMEOUT);
		CHECK(now_ms() - start >= 150);
		CHECK(now_ms() - start < 5000);
		CHECK_INT_EQ(stream_puts(writer, "through a pipe\n"), STREAM_OK);
		CHECK_INT_EQ(stream_flush(writer), STREAM_OK);
		CHECK_INT_EQ(stream_gets(reader, &line, 100), STREAM_OK);
		CHECK_STR_EQ(dstring_str(&line), "through a pipe\n");

		/* Nobody reads: the writer times out instead of blocking. */
		{
			static char block[STREAM_BUFFER_SIZE];
			enum stream_status status = STREAM_OK;

			memset(block, 'p', sizeof(block));
			start = now_ms();
			for (int i = 0; i < 100 && status == STREAM_OK; i++)
				status = stream_write(writer, block, sizeof(block));
			if (status == STREAM_OK)
				status = stream_flush(writer);
			CHECK_INT_EQ(status, STREAM_TIMEOUT);
			CHECK(now_ms() - start >= 150);
			CHECK(now_ms() - start < 10000);
		}
		stream_free(writer);
		close(pipe_fds[1]);
		dstring_init(&received, DSTRING_NO_LIMIT);
		stream_set_timeout(reader, 5000);
		for (;;) {
			char buffer[4096];
			size_t length;

			if (stream_read(reader, buffer, sizeof(buffer), &length) != STREAM_OK)
				break;
			dstring_append(&received, buffer, length);
		}
		CHECK(stream_at_eof(reader));
		CHECK(dstring_length(&received) > 0);
		CHECK_INT_EQ(stream_close(reader), STREAM_OK);
		dstring_fini(&received);
		dstring_fini(&line);
	}
}

static void
test_close_and_free(void)
{
	int fds[2];
	struct stream *stream;
	struct dstring received;

	make_pair(fds);
	stream = stream_open(fds[0]);
	CHECK_INT_EQ(stream_fd(stream), fds[0]);
	CHECK(!stream_at_eof(stream));
	stream_puts(stream, "unflushed\r\n");
	stream_free(stream);
	/* stream_free neither flushed nor closed. */
	CHECK(fcntl(fds[0], F_GETFD) >= 0);
	stream = stream_open(fds[0]);
	stream_puts(stream, "flushed\r\n");
	CHECK_INT_EQ(stream_close(stream), STREAM_OK);
	CHECK(fcntl(fds[0], F_GETFD) < 0);
	dstring_init(&received, LINE_LIMIT);
	read_to_eof(fds[1], &received);
	CHECK_STR_EQ(dstring_str(&received), "flushed\r\n");
	dstring_fini(&received);
	close(fds[1]);
	stream_free(NULL);
}

int
main(void)
{
	/* Every wait is bounded; this catches a bug that waits forever. */
	alarm(50);
	test_gets_table();
	test_slow_writer();
	test_trickle_is_bounded();
	test_read_timeout();
	test_deadline();
	test_write_to_closed_peer();
	test_write_timeout();
	test_discard_input();
	test_ops_wait_events();
	test_read_and_read_exact();
	test_skip_line();
	test_string_limit();
	test_printf();
	test_long_printf();
	test_flush_before_read();
	test_pipes();
	test_close_and_free();
	return check_finish();
}
