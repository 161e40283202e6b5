/*
 * test_smtp_client - the pure parts of the smtp delivery agent: next-hop
 * parsing, TLS level words, and the DATA encoding of a queue file's
 * content (CR LF, dot-stuffing, long lines broken with CR LF SPACE),
 * written to a real socketpair and compared byte for byte.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dstring.h"
#include "smtp.h"
#include "stream.h"

struct nexthop_case {
	const char *nexthop;
	int status;
	const char *host;
	unsigned port;
	bool is_bracketed;
};

static const struct nexthop_case nexthop_cases[] = {
    {"[smtp.isp.example]:587", 0, "smtp.isp.example", 587, true},
    {"[smtp.isp.example]", 0, "smtp.isp.example", 25, true},
    {"[192.0.2.1]:2525", 0, "192.0.2.1", 2525, true},
    {"[ipv6:2001:db8::1]:25", 0, "2001:db8::1", 25, true},
    {"example.com", 0, "example.com", 25, false},
    {"example.com:2525", 0, "example.com", 2525, false},
    {"example.com:smtp", 0, "example.com", 25, false},
    {"", 0, "recipient.example", 25, false},
    {"[unclosed:25", -1, NULL, 0, false},
    {"[host]x", -1, NULL, 0, false},
    {"[host]:0", -1, NULL, 0, false},
    {"[host]:65536", -1, NULL, 0, false},
    {"host:nosuchservice", -1, NULL, 0, false},
    {"bad host", -1, NULL, 0, false},
    {"bad/host", -1, NULL, 0, false},
    {"[]:25", -1, NULL, 0, false},
};

static void
test_nexthop(void)
{
	struct delivery_recipient recipient = {.address = "user@recipient.example"};
	struct delivery_request request = {.recipients = &recipient, .recipient_count = 1};

	for (size_t i = 0; i < sizeof(nexthop_cases) / sizeof(nexthop_cases[0]); i++) {
		const struct nexthop_case *c = &nexthop_cases[i];
		struct smtp_state state;
		struct dstring error;

		memset(&state, 0, sizeof(state));
		state.request = &request;
		dstring_init(&error, 1024);
		CHECK_INT_EQ(smtp_nexthop_parse(&state, c->nexthop, &error), c->status);
		if (c->status == 0) {
			CHECK_STR_EQ(state.nexthop_host, c->host);
			CHECK_INT_EQ(state.nexthop_port, c->port);
			CHECK_INT_EQ(state.is_bracketed, c->is_bracketed);
		} else {
			CHECK(dstring_length(&error) > 0);
		}
		free(state.nexthop_host);
		dstring_fini(&error);
	}
}

static void
test_tls_levels(void)
{
	CHECK_INT_EQ(smtp_tls_level_parse(""), SMTP_TLS_NONE);
	CHECK_INT_EQ(smtp_tls_level_parse("none"), SMTP_TLS_NONE);
	CHECK_INT_EQ(smtp_tls_level_parse("may"), SMTP_TLS_MAY);
	CHECK_INT_EQ(smtp_tls_level_parse("Encrypt"), SMTP_TLS_ENCRYPT);
	CHECK_INT_EQ(smtp_tls_level_parse("verify"), SMTP_TLS_VERIFY);
	CHECK_INT_EQ(smtp_tls_level_parse("secure"), SMTP_TLS_SECURE);
	CHECK_INT_EQ(smtp_tls_level_parse("bogus"), -1);
}

struct drain {
	int fd;
	struct dstring out;
};

static void *
drain_run(void *argument)
{
	struct drain *drain = argument;
	char buffer[4096];
	ssize_t n;

	while ((n = read(drain->fd, buffer, sizeof(buffer))) > 0)
		dstring_append(&drain->out, buffer, (size_t)n);
	return NULL;
}

/* encode: content as smtp_content_send writes it, with line_limit. */
static void
encode(const char *content, size_t length, int line_limit, struct dstring *out)
{
	char path[] = "/tmp/test_smtp_client.XXXXXX";
	int file = mkstemp(path);
	int fds[2];
	struct smtp_state state;
	struct stream *stream;
	struct drain drain;
	pthread_t thread;
	bool is_local_error = true;

	if (file < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		abort();
	unlink(path);
	/* Some bytes before the content: the offset must be honoured. */
	if (write(file, "HEADER", 6) != 6 || write(file, content, length) != (ssize_t)length)
		abort();
	memset(&state, 0, sizeof(state));
	state.fd = file;
	state.message.content_offset = 6;
	state.message.content_size = (int64_t)length;
	drain.fd = fds[1];
	dstring_init(&drain.out, DSTRING_NO_LIMIT);
	pthread_create(&thread, NULL, drain_run, &drain);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	CHECK_INT_EQ(smtp_content_send(&state, stream, line_limit, &is_local_error), 0);
	CHECK(!is_local_error);
	stream_close(stream);
	pthread_join(thread, NULL);
	close(fds[1]);
	close(file);
	dstring_reset(out);
	dstring_append(out, drain.out.data, drain.out.length);
	dstring_fini(&drain.out);
}

static void
test_content(void)
{
	struct dstring out, big, expected;

	dstring_init(&out, DSTRING_NO_LIMIT);
	encode("a\n.b\n..c\n.\nend\n", 15, 998, &out);
	CHECK_STR_EQ(dstring_str(&out), "a\r\n..b\r\n...c\r\n..\r\nend\r\n");
	/* No final newline: one is added. */
	encode("last", 4, 998, &out);
	CHECK_STR_EQ(dstring_str(&out), "last\r\n");
	encode("", 0, 998, &out);
	CHECK_STR_EQ(dstring_str(&out), "");
	/* A CR inside a line passes as is; bytes are not changed. */
	encode("x\ry\n\xff\n", 6, 998, &out);
	CHECK_STR_EQ(dstring_str(&out), "x\ry\r\n\xff\r\n");
	/* Long lines: broken every 10 bytes with CR LF SPACE. */
	encode("0123456789abcdefghijKLM\n", 24, 10, &out);
	CHECK_STR_EQ(dstring_str(&out), "0123456789\r\n abcdefghi\r\n jKLM\r\n");
	/* A line of exactly the limit is not broken. */
	encode("0123456789\n", 11, 10, &out);
	CHECK_STR_EQ(dstring_str(&out), "0123456789\r\n");
	/* 0: no limit. */
	encode("0123456789abcdef\n", 17, 0, &out);
	CHECK_STR_EQ(dstring_str(&out), "0123456789abcdef\r\n");
	/* Larger than the read block: the state carries across blocks. */
	dstring_init(&big, DSTRING_NO_LIMIT);
	dstring_init(&expected, DSTRING_NO_LIMIT);
	for (int i = 0; i < 30000; i++) {
		dstring_append_str(&big, ".dot line\n");
		dstring_append_str(&expected, "..dot line\r\n");
	}
	encode(big.data, big.length, 998, &out);
	CHECK_INT_EQ(out.length, expected.length);
	CHECK(out.length == expected.length && memcmp(out.data, expected.data, out.length) == 0);
	dstring_fini(&big);
	dstring_fini(&expected);
	dstring_fini(&out);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	config_init(NULL);
	test_nexthop();
	test_tls_levels();
	test_content();
	return check_finish();
}
