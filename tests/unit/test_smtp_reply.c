/*
 * test_smtp_reply - the SMTP client's reply parser: single and multi-line
 * replies, enhanced status codes, malformed replies, the line and line
 * count limits, and reading from a real stream (a socketpair) including
 * a 10,000-line reply, an endless line, and a connection that ends
 * in the middle of a reply.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "smtp_reply.h"
#include "stream.h"

struct line_case {
	const char *lines[4]; /* NULL-terminated */
	enum smtp_reply_status last_status;
	int code;
	const char *dsn;
	const char *formatted; /* smtp_reply_format, or the error's start */
};

static const struct line_case line_cases[] = {
    {{"250 ok", NULL}, SMTP_REPLY_DONE, 250, "2.0.0", "250 ok"},
    {{"250", NULL}, SMTP_REPLY_DONE, 250, "2.0.0", "250"},
    {{"250 ok\r", NULL}, SMTP_REPLY_DONE, 250, "2.0.0", "250 ok"},
    {{"550 5.1.1 <a@b>: no such user", NULL},
     SMTP_REPLY_DONE,
     550,
     "5.1.1",
     "550 5.1.1 <a@b>: no such user"},
    /* A code of another class is not taken as the enhanced code. */
    {{"550 4.1.1 odd", NULL}, SMTP_REPLY_DONE, 550, "5.0.0", "550 4.1.1 odd"},
    {{"450 4.7.1234 too long detail", NULL},
     SMTP_REPLY_DONE,
     450,
     "4.0.0",
     "450 4.7.1234 too long detail"},
    {{"250-mx.example", "250-PIPELINING", "250 SIZE 1000", NULL},
     SMTP_REPLY_DONE,
     250,
     "2.0.0",
     "250 mx.example PIPELINING SIZE 1000"},
    {{"535-5.7.8 first", "535 5.7.8 second", NULL},
     SMTP_REPLY_DONE,
     535,
     "5.7.8",
     "535 5.7.8 first 5.7.8 second"},
    /* Control bytes become '?'. */
    {{"250 a\tb\001c\xff", NULL}, SMTP_REPLY_DONE, 250, "2.0.0", "250 a?b?c?"},
    {{"25", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"abc ok", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"650 no", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"160 no", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"270 no", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"250x", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply"},
    {{"250-a", "251 b", NULL}, SMTP_REPLY_ERROR, 0, "", "malformed reply: code 251"},
};

static void
test_lines(void)
{
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case *c = &line_cases[i];
		struct smtp_reply reply;
		struct dstring error, out;
		enum smtp_reply_status status = SMTP_REPLY_MORE;

		smtp_reply_init(&reply);
		dstring_init(&error, 1024);
		dstring_init(&out, 4096);
		for (size_t j = 0; c->lines[j] != NULL; j++) {
			status =
			    smtp_reply_parse_line(&reply, c->lines[j], strlen(c->lines[j]), &error);
			if (c->lines[j + 1] != NULL && c->last_status == SMTP_REPLY_DONE)
				CHECK_INT_EQ(status, SMTP_REPLY_MORE);
		}
		CHECK_INT_EQ(status, c->last_status);
		if (status == SMTP_REPLY_DONE) {
			CHECK_INT_EQ(reply.code, c->code);
			CHECK_STR_EQ(reply.dsn, c->dsn);
			smtp_reply_format(&reply, &out);
			CHECK_STR_EQ(dstring_str(&out), c->formatted);
		} else {
			CHECK(strncmp(dstring_str(&error), c->formatted, strlen(c->formatted)) ==
			      0);
		}
		smtp_reply_fini(&reply);
		dstring_fini(&error);
		dstring_fini(&out);
	}
}

static void
test_line_access(void)
{
	struct smtp_reply reply;
	struct dstring error, line;
	const char *lines[] = {"250-mx.example greets you", "250-AUTH PLAIN LOGIN", "250 8BITMIME"};

	smtp_reply_init(&reply);
	dstring_init(&error, 1024);
	dstring_init(&line, 1024);
	for (size_t i = 0; i < 3; i++)
		smtp_reply_parse_line(&reply, lines[i], strlen(lines[i]), &error);
	CHECK(smtp_reply_line(&reply, 0, &line));
	CHECK_STR_EQ(dstring_str(&line), "mx.example greets you");
	CHECK(smtp_reply_line(&reply, 1, &line));
	CHECK_STR_EQ(dstring_str(&line), "AUTH PLAIN LOGIN");
	CHECK(smtp_reply_line(&reply, 2, &line));
	CHECK_STR_EQ(dstring_str(&line), "8BITMIME");
	CHECK(!smtp_reply_line(&reply, 3, &line));
	/* A parsed reply takes no more lines until reset. */
	CHECK_INT_EQ(smtp_reply_parse_line(&reply, "250 x", 5, &error), SMTP_REPLY_ERROR);
	smtp_reply_reset(&reply);
	CHECK_INT_EQ(smtp_reply_parse_line(&reply, "221 bye", 7, &error), SMTP_REPLY_DONE);
	CHECK_INT_EQ(reply.code, 221);
	smtp_reply_fini(&reply);
	dstring_fini(&error);
	dstring_fini(&line);
}

static void
test_limits(void)
{
	struct smtp_reply reply;
	struct dstring error, line;
	enum smtp_reply_status status = SMTP_REPLY_MORE;
	size_t count = 0;

	smtp_reply_init(&reply);
	dstring_init(&error, 1024);
	dstring_init(&line, 2 * SMTP_REPLY_LINE_MAX);
	/* Line count: the 201st line is refused, however many follow. */
	while (status == SMTP_REPLY_MORE && count < 10000) {
		status = smtp_reply_parse_line(&reply, "250-x", 5, &error);
		count++;
	}
	CHECK_INT_EQ(status, SMTP_REPLY_ERROR);
	CHECK_INT_EQ(count, SMTP_REPLY_LINES_MAX + 1);
	CHECK_STR_EQ(dstring_str(&error), "reply has more than 200 lines");
	/* Line length: SMTP_REPLY_LINE_MAX is fine, one more is not. */
	smtp_reply_reset(&reply);
	dstring_set(&line, "250 ");
	while (dstring_length(&line) < SMTP_REPLY_LINE_MAX)
		dstring_append_char(&line, 'a');
	CHECK_INT_EQ(smtp_reply_parse_line(&reply, line.data, line.length, &error),
	             SMTP_REPLY_DONE);
	smtp_reply_reset(&reply);
	dstring_append_char(&line, 'a');
	CHECK_INT_EQ(smtp_reply_parse_line(&reply, line.data, line.length, &error),
	             SMTP_REPLY_ERROR);
	smtp_reply_fini(&reply);
	dstring_fini(&error);
	dstring_fini(&line);
}

/* A writer thread feeds one end of a socketpair; the reader parses the other. */
struct feed {
	int fd;
	const char *data;
	size_t size;
	size_t repeat; /* write data this many times */
	const char *tail;
};

static void *
feed_run(void *argument)
{
	struct feed *feed = argument;

	for (size_t i = 0; i < feed->repeat; i++)
		if (write(feed->fd, feed->data, feed->size) < 0)
			break;
	if (feed->tail != NULL && write(feed->fd, feed->tail, strlen(feed->tail)) < 0)
		feed->tail = NULL;
	shutdown(feed->fd, SHUT_WR);
	return NULL;
}

static enum smtp_reply_read_status
read_fed(const char *data, size_t repeat, const char *tail, struct smtp_reply *reply,
         struct dstring *error)
{
	int fds[2];
	pthread_t thread;
	struct feed feed;
	struct stream *stream;
	enum smtp_reply_read_status status;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		abort();
	feed = (struct feed){fds[1], data, strlen(data), repeat, tail};
	pthread_create(&thread, NULL, feed_run, &feed);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	status = smtp_reply_read(stream, reply, error);
	/* Drain so the writer never blocks, then join. */
	close(fds[0]);
	stream_free(stream);
	pthread_join(thread, NULL);
	close(fds[1]);
	return status;
}

static void
test_read(void)
{
	struct smtp_reply reply;
	struct dstring error;

	smtp_reply_init(&reply);
	dstring_init(&error, 1024);
	CHECK_INT_EQ(read_fed("250-a\r\n250 b\r\n", 1, NULL, &reply, &error), SMTP_REPLY_READ_OK);
	CHECK_INT_EQ(reply.line_count, 2);
	/* A bare LF ends a line too. */
	CHECK_INT_EQ(read_fed("220 hi\n", 1, NULL, &reply, &error), SMTP_REPLY_READ_OK);
	CHECK_INT_EQ(reply.code, 220);
	CHECK_INT_EQ(read_fed("250-line\r\n", 10000, "250 end\r\n", &reply, &error),
	             SMTP_REPLY_READ_BAD);
	CHECK_STR_EQ(dstring_str(&error), "reply has more than 200 lines");
	CHECK_INT_EQ(read_fed("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	                      2000, NULL, &reply, &error),
	             SMTP_REPLY_READ_BAD);
	CHECK_STR_EQ(dstring_str(&error), "reply line longer than 4096 bytes");
	CHECK_INT_EQ(read_fed("250-a\r\n250 b", 1, NULL, &reply, &error), SMTP_REPLY_READ_EOF);
	CHECK_INT_EQ(read_fed("", 1, NULL, &reply, &error), SMTP_REPLY_READ_EOF);
	smtp_reply_fini(&reply);
	dstring_fini(&error);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_lines();
	test_line_access();
	test_limits();
	test_read();
	return check_finish();
}
