/*
 * test_delivery - the delivery protocol codec: round trips in memory and
 * over a socket, strict refusal of every malformed frame, mutated frames,
 * and matching a request against a real queue file.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr_proto.h"
#include "check.h"
#include "delivery.h"
#include "dstring.h"
#include "queue_file.h"
#include "stream.h"

static struct delivery_recipient sample_recipients[] = {
    {0, 120, "joe@example.com", "Joe@Example.com", "rfc822;joe@example.com", 3},
    {2, 180, "ann@example.com", "", "", 0},
    {5, 260, "bob@example.net", "bob", "", 8},
};

static void
sample_request(struct delivery_request *request)
{
	memset(request, 0, sizeof(*request));
	request->queue_name = "active";
	snprintf(request->queue_id, sizeof(request->queue_id), "%s", "1J0UUC7K0VLAEOGH");
	request->transport = "local";
	request->next_hop = "mail.example.org";
	request->sender = "sender@example.org";
	request->envid = "ENV-1";
	request->ret = "HDRS";
	request->arrival_time = 1700000000123456LL;
	request->active_time = 1700000001000000LL;
	request->size = 4096;
	request->flags = DELIVERY_FLAG_RETRY;
	request->recipients = sample_recipients;
	request->recipient_count = 3;
}

/* Feed the frames in buffer to a fresh request; the decoder's last status. */
static int
decode_all(const struct dstring *buffer, struct delivery_request *request, struct dstring *error)
{
	size_t offset = 0, frame_length;
	int status = 0;

	delivery_request_init(request);
	while (offset < buffer->length) {
		if (attr_frame_check(buffer->data + offset, buffer->length - offset,
				     &frame_length) != ATTR_FRAME_COMPLETE)
			return -2;
		status = delivery_request_decode_frame(request, buffer->data + offset + 4,
						       frame_length - 4, error);
		offset += frame_length;
		if (status != 0)
			break;
	}
	if (status == 1 && offset != buffer->length)
		return -3; /* frames after the end */
	return status;
}

static void
check_same_request(const struct delivery_request *got, const struct delivery_request *want)
{
	CHECK_STR_EQ(got->queue_name, want->queue_name);
	CHECK_STR_EQ(got->queue_id, want->queue_id);
	CHECK_STR_EQ(got->transport, want->transport);
	CHECK_STR_EQ(got->next_hop, want->next_hop);
	CHECK_STR_EQ(got->sender, want->sender);
	CHECK_STR_EQ(got->envid, want->envid);
	CHECK_STR_EQ(got->ret, want->ret);
	CHECK_INT_EQ(got->arrival_time, want->arrival_time);
	CHECK_INT_EQ(got->active_time, want->active_time);
	CHECK_INT_EQ(got->size, want->size);
	CHECK_INT_EQ(got->flags, want->flags);
	CHECK_INT_EQ(got->recipient_count, want->recipient_count);
	for (size_t i = 0; i < want->recipient_count && i < got->recipient_count; i++) {
		CHECK_INT_EQ(got->recipients[i].queue_index, want->recipients[i].queue_index);
		CHECK_INT_EQ(got->recipients[i].offset, want->recipients[i].offset);
		CHECK_STR_EQ(got->recipients[i].address, want->recipients[i].address);
		CHECK_STR_EQ(got->recipients[i].original, want->recipients[i].original);
		CHECK_STR_EQ(got->recipients[i].orcpt, want->recipients[i].orcpt);
		CHECK_INT_EQ(got->recipients[i].notify, want->recipients[i].notify);
	}
	CHECK(got->received_time > 0);
}

static void
test_request_round_trip(void)
{
	struct delivery_request want, got;
	struct dstring buffer, error;

	sample_request(&want);
	dstring_init(&buffer, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	delivery_request_encode(&buffer, &want);
	CHECK_INT_EQ(decode_all(&buffer, &got, &error), 1);
	check_same_request(&got, &want);
	delivery_request_fini(&got);

	/* Over a socket, blocking, with the stream functions. */
	{
		int pair[2];
		struct stream *qmgr_side, *agent_side;

		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
		qmgr_side = stream_open(pair[0]);
		agent_side = stream_open(pair[1]);
		stream_set_timeout(qmgr_side, 2000);
		stream_set_timeout(agent_side, 2000);
		CHECK_INT_EQ(delivery_request_send(qmgr_side, &want), 0);
		CHECK_INT_EQ(delivery_request_receive(agent_side, &got, &error), 0);
		check_same_request(&got, &want);

		/* The agent answers; qmgr reads the results and the end. */
		struct delivery_result results[] = {
		    {2, DELIVERY_BOUNCED, "5.1.1", "unknown user: \"bob\"", "local"},
		    {0, DELIVERY_DELIVERED, "2.0.0", "delivered to maildir", "local"},
		    {1, DELIVERY_DEFERRED, "4.2.2", "mailbox full\r\nline two", "local"},
		};
		for (size_t i = 0; i < 3; i++)
			CHECK_INT_EQ(delivery_result_send(agent_side, &results[i]), 0);
		CHECK_INT_EQ(delivery_end_send_status(agent_side, true), 0);
		delivery_request_fini(&got);

		struct dstring payload;
		enum delivery_reply_kind kind;
		struct delivery_result result;

		dstring_init(&payload, ATTR_FRAME_MAX + 1);
		for (size_t i = 0; i < 3; i++) {
			CHECK_INT_EQ(delivery_reply_receive(qmgr_side, &payload, 3, &kind, &result,
							    &error),
				     0);
			CHECK_INT_EQ(kind, DELIVERY_REPLY_RESULT);
			CHECK_INT_EQ(result.recipient, results[i].recipient);
			CHECK_INT_EQ(result.action, results[i].action);
			CHECK_STR_EQ(result.dsn, results[i].dsn);
			CHECK_STR_EQ(result.relay, "local");
		}
		CHECK_STR_EQ(result.reason, "mailbox full  line two");
		CHECK_INT_EQ(delivery_reply_receive(qmgr_side, &payload, 3, &kind, &result, &error),
			     0);
		CHECK_INT_EQ(kind, DELIVERY_REPLY_END);
		CHECK_INT_EQ(result.action, DELIVERY_DEFERRED);
		/* The agent hung up: an error, not a hang. */
		stream_close(agent_side);
		CHECK_INT_EQ(delivery_reply_receive(qmgr_side, &payload, 3, &kind, &result, &error),
			     -1);
		stream_close(qmgr_side);
		dstring_fini(&payload);
	}
	/* A request cut short: the agent sees an error, not a request. */
	{
		int pair[2];
		struct stream *agent_side;

		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
		CHECK(write(pair[0], buffer.data, buffer.length - 3) ==
		      (ssize_t)(buffer.length - 3));
		close(pair[0]);
		agent_side = stream_open(pair[1]);
		stream_set_timeout(agent_side, 2000);
		dstring_reset(&error);
		CHECK_INT_EQ(delivery_request_receive(agent_side, &got, &error), -1);
		CHECK(strstr(error.data, "delivery request:") != NULL);
		delivery_request_fini(&got);
		stream_close(agent_side);
	}
	dstring_fini(&buffer);
	dstring_fini(&error);
}

/* Frames built by hand for the strict reader. */
static void
put_header(struct attr_writer *writer, int64_t version, const char *queue_name,
	   const char *queue_id, int64_t flags, int64_t count)
{
	attr_put_string(writer, "request", "deliver");
	attr_put_int(writer, "version", version);
	attr_put_string(writer, "queue_name", queue_name);
	attr_put_string(writer, "queue_id", queue_id);
	attr_put_string(writer, "transport", "local");
	attr_put_string(writer, "next_hop", "");
	attr_put_string(writer, "sender", "");
	attr_put_string(writer, "envid", "");
	attr_put_string(writer, "ret", "");
	attr_put_int(writer, "arrival_time", 1);
	attr_put_int(writer, "active_time", 2);
	attr_put_int(writer, "size", 3);
	attr_put_int(writer, "flags", flags);
	attr_put_int(writer, "recipient_count", count);
}

static void
put_recipient(struct attr_writer *writer, int64_t index, int64_t offset, const char *address)
{
	attr_put_string(writer, "request", "recipient");
	attr_put_int(writer, "queue_index", index);
	attr_put_int(writer, "offset", offset);
	attr_put_string(writer, "address", address);
	attr_put_string(writer, "original", "");
	attr_put_string(writer, "orcpt", "");
	attr_put_int(writer, "notify", 0);
}

static void
append(struct dstring *buffer, struct attr_writer *writer)
{
	size_t length;
	const void *frame = attr_writer_frame(writer, &length);

	dstring_append(buffer, frame, length);
	attr_writer_reset(writer);
}

enum bad_request {
	BAD_VERSION,
	BAD_QUEUE_NAME,
	BAD_QUEUE_NAME_EMPTY,
	BAD_QUEUE_ID,
	BAD_FLAGS,
	BAD_COUNT_ZERO,
	BAD_COUNT_HUGE,
	BAD_RECIPIENT_FIRST,
	BAD_DUPLICATE,
	BAD_END_EARLY,
	BAD_EXTRA_ATTRIBUTE,
	BAD_MISSING_ATTRIBUTE,
	BAD_NEGATIVE_INDEX,
	BAD_ZERO_OFFSET,
	BAD_CONTROL_CHARACTER,
	BAD_FRAME_AFTER_END,
	BAD_UNKNOWN_REQUEST,
	BAD_COUNT,
};

static void
build_bad(enum bad_request which, struct dstring *buffer)
{
	struct attr_writer writer;
	const char *id = "1J0UUC7K0VLAEOGH";

	attr_writer_init(&writer);
	switch (which) {
	case BAD_VERSION:
		put_header(&writer, 2, "active", id, 0, 1);
		break;
	case BAD_QUEUE_NAME:
		put_header(&writer, 1, "../active", id, 0, 1);
		break;
	case BAD_QUEUE_NAME_EMPTY:
		put_header(&writer, 1, "", id, 0, 1);
		break;
	case BAD_QUEUE_ID:
		put_header(&writer, 1, "active", "1J0UUC7K0VLAEOG/", 0, 1);
		break;
	case BAD_FLAGS:
		put_header(&writer, 1, "active", id, 1 << 20, 1);
		break;
	case BAD_COUNT_ZERO:
		put_header(&writer, 1, "active", id, 0, 0);
		break;
	case BAD_COUNT_HUGE:
		put_header(&writer, 1, "active", id, 0, DELIVERY_RECIPIENTS_MAX + 1);
		break;
	case BAD_RECIPIENT_FIRST:
		put_recipient(&writer, 0, 10, "a@b");
		break;
	case BAD_UNKNOWN_REQUEST:
		attr_put_string(&writer, "request", "shutdown");
		break;
	default:
		put_header(&writer, 1, "active", id, 0, 2);
		break;
	}
	append(buffer, &writer);
	switch (which) {
	case BAD_DUPLICATE:
		put_recipient(&writer, 1, 10, "a@b");
		append(buffer, &writer);
		put_recipient(&writer, 1, 10, "a@b");
		append(buffer, &writer);
		break;
	case BAD_END_EARLY:
		put_recipient(&writer, 1, 10, "a@b");
		append(buffer, &writer);
		attr_put_string(&writer, "request", "end");
		append(buffer, &writer);
		break;
	case BAD_EXTRA_ATTRIBUTE:
		put_recipient(&writer, 1, 10, "a@b");
		attr_put_string(&writer, "surprise", "x");
		append(buffer, &writer);
		break;
	case BAD_MISSING_ATTRIBUTE:
		attr_put_string(&writer, "request", "recipient");
		attr_put_int(&writer, "queue_index", 0);
		attr_put_string(&writer, "address", "a@b");
		append(buffer, &writer);
		break;
	case BAD_NEGATIVE_INDEX:
		put_recipient(&writer, -1, 10, "a@b");
		append(buffer, &writer);
		break;
	case BAD_ZERO_OFFSET:
		put_recipient(&writer, 0, 0, "a@b");
		append(buffer, &writer);
		break;
	case BAD_CONTROL_CHARACTER:
		put_recipient(&writer, 0, 10, "a@b\r\nRCPT TO:<x>");
		append(buffer, &writer);
		break;
	case BAD_FRAME_AFTER_END:
		put_recipient(&writer, 0, 10, "a@b");
		append(buffer, &writer);
		put_recipient(&writer, 1, 11, "c@d");
		append(buffer, &writer);
		attr_put_string(&writer, "request", "end");
		append(buffer, &writer);
		attr_put_string(&writer, "request", "end");
		append(buffer, &writer);
		break;
	default:
		break;
	}
	attr_writer_fini(&writer);
}

static void
test_request_strict(void)
{
	for (int which = 0; which < BAD_COUNT; which++) {
		struct delivery_request request;
		struct dstring buffer, error;
		int status;

		dstring_init(&buffer, DSTRING_NO_LIMIT);
		dstring_init(&error, 1024);
		build_bad((enum bad_request)which, &buffer);
		status = decode_all(&buffer, &request, &error);
		if (which == BAD_FRAME_AFTER_END)
			CHECK_INT_EQ(status, -3);
		else
			CHECK_INT_EQ(status, -1);
		if (status == -1)
			CHECK(error.length > 0);
		if (status != -1 && status != -3)
			fprintf(stderr, "  bad request %d accepted\n", which);
		/* After a failure every later frame fails too. */
		if (status == -1)
			CHECK_INT_EQ(delivery_request_decode_frame(&request, "", 0, &error), -1);
		delivery_request_fini(&request);
		dstring_fini(&buffer);
		dstring_fini(&error);
	}
}

/* One reply frame from (reply, recipient, action, dsn, reason) + an extra. */
static int
decode_reply(const char *reply, int64_t recipient, const char *action, const char *dsn,
	     const char *reason, bool has_extra, enum delivery_reply_kind *kind)
{
	struct attr_writer writer;
	struct delivery_result result;
	struct dstring error;
	const unsigned char *frame;
	size_t length;
	int status;

	attr_writer_init(&writer);
	attr_put_string(&writer, "reply", reply);
	if (strcmp(reply, "end") == 0) {
		attr_put_int(&writer, "destination_failed", recipient);
	} else {
		attr_put_int(&writer, "recipient", recipient);
		attr_put_string(&writer, "action", action);
		attr_put_string(&writer, "dsn", dsn);
		attr_put_string(&writer, "reason", reason);
		attr_put_string(&writer, "relay", "local");
	}
	if (has_extra)
		attr_put_int(&writer, "extra", 1);
	frame = attr_writer_frame(&writer, &length);
	dstring_init(&error, 1024);
	status = delivery_reply_decode(frame + 4, length - 4, 3, kind, &result, &error);
	if (status != 0)
		CHECK(error.length > 0);
	dstring_fini(&error);
	attr_writer_fini(&writer);
	return status;
}

static void
test_reply_strict(void)
{
	enum delivery_reply_kind kind;
	char *long_reason = malloc(DELIVERY_REASON_MAX + 2);

	memset(long_reason, 'x', DELIVERY_REASON_MAX + 1);
	long_reason[DELIVERY_REASON_MAX + 1] = 0;
	CHECK_INT_EQ(decode_reply("result", 0, "delivered", "2.0.0", "ok", false, &kind), 0);
	CHECK_INT_EQ(kind, DELIVERY_REPLY_RESULT);
	CHECK_INT_EQ(decode_reply("result", 2, "bounced", "5.1.1", "no", false, &kind), 0);
	CHECK_INT_EQ(decode_reply("result", 1, "deferred", "4.4.1", "later", false, &kind), 0);
	CHECK_INT_EQ(decode_reply("end", 0, 0, 0, 0, false, &kind), 0);
	CHECK_INT_EQ(kind, DELIVERY_REPLY_END);
	CHECK_INT_EQ(decode_reply("end", 1, 0, 0, 0, false, &kind), 0);
	CHECK_INT_EQ(decode_reply("end", 2, 0, 0, 0, false, &kind), -1);
	/* Refused: */
	CHECK_INT_EQ(decode_reply("end", 0, 0, 0, 0, true, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "delivered", "2.0.0", "ok", true, &kind), -1);
	CHECK_INT_EQ(decode_reply("results", 0, "delivered", "2.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 3, "delivered", "2.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", -1, "delivered", "2.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "sent", "2.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "delivered", "5.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "deferred", "2.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "4.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.0.0.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.1000.0", "ok", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.1.1", "a\nb", false, &kind), -1);
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.1.1", long_reason, false, &kind), -1);
	long_reason[DELIVERY_REASON_MAX] = 0;
	CHECK_INT_EQ(decode_reply("result", 0, "bounced", "5.1.1", long_reason, false, &kind), 0);
	free(long_reason);
	/* An empty frame, and garbage. */
	{
		struct delivery_result result;
		struct dstring error;

		dstring_init(&error, 1024);
		CHECK_INT_EQ(delivery_reply_decode("", 0, 3, &kind, &result, &error), -1);
		CHECK_INT_EQ(delivery_reply_decode("\x01\x02\x03", 3, 3, &kind, &result, &error),
			     -1);
		dstring_fini(&error);
	}
	/* The sender cuts long reasons and blanks control characters. */
	{
		struct dstring out, error;
		struct delivery_result result = {1, DELIVERY_DEFERRED, "4.0.0", NULL, "x"};
		char *reason = malloc(10000);
		struct delivery_result decoded;

		memset(reason, 'r', 9999);
		reason[9999] = 0;
		reason[5] = '\n';
		result.reason = reason;
		dstring_init(&out, DSTRING_NO_LIMIT);
		dstring_init(&error, 1024);
		delivery_result_encode(&out, &result);
		CHECK_INT_EQ(delivery_reply_decode(out.data + 4, out.length - 4, 2, &kind, &decoded,
						   &error),
			     0);
		CHECK_INT_EQ(strlen(decoded.reason), DELIVERY_REASON_MAX);
		CHECK(decoded.reason[5] == ' ');
		dstring_fini(&out);
		dstring_fini(&error);
		free(reason);
	}
}

static void
test_dsn(void)
{
	static const struct {
		const char *text;
		bool is_valid;
	} cases[] = {
	    {"2.0.0", true},  {"4.4.1", true},    {"5.1.1", true},    {"5.999.999", true},
	    {"3.0.0", false}, {"5.0", false},     {"5..0", false},    {"5.0.", false},
	    {"", false},      {"5.1.1 ", false},  {"5.1000.1", false}, {"x.1.1", false},
	    {"5.a.1", false}, {"50.1.1", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (delivery_dsn_is_valid(cases[i].text) != cases[i].is_valid) {
			check_failed++;
			fprintf(stderr, "dsn \"%s\" misjudged\n", cases[i].text);
		} else {
			check_passed++;
		}
	}
	CHECK_STR_EQ(delivery_action_log_status(DELIVERY_DELIVERED), "sent");
	CHECK_STR_EQ(delivery_action_log_status(DELIVERY_BOUNCED), "bounced");
}

/* Mutated frames: every byte of a valid request flipped, never a crash. */
static void
test_mutations(void)
{
	struct delivery_request want, got;
	struct dstring buffer, mutated, error;
	unsigned accepted = 0;

	sample_request(&want);
	dstring_init(&buffer, DSTRING_NO_LIMIT);
	dstring_init(&mutated, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	delivery_request_encode(&buffer, &want);
	for (size_t i = 0; i < buffer.length; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			dstring_reset(&mutated);
			dstring_append(&mutated, buffer.data, buffer.length);
			mutated.data[i] ^= (char)(1 << bit);
			if (decode_all(&mutated, &got, &error) == 1)
				accepted++;
			delivery_request_fini(&got);
		}
	}
	/* Some flips land in values and stay valid; most must be refused. */
	CHECK(accepted < buffer.length);
	/* Every cut is incomplete or refused, never complete. */
	for (size_t cut = 0; cut < buffer.length; cut++) {
		dstring_reset(&mutated);
		dstring_append(&mutated, buffer.data, cut);
		CHECK(decode_all(&mutated, &got, &error) != 1);
		delivery_request_fini(&got);
	}
	dstring_fini(&buffer);
	dstring_fini(&mutated);
	dstring_fini(&error);
}

static void
test_match(void)
{
	char path[] = "/tmp/test_delivery.XXXXXX";
	int fd = mkstemp(path);
	struct queue_file_writer *writer;
	struct queue_message message;
	struct delivery_request request;
	struct delivery_recipient recipients[2];
	struct dstring error;
	const char *id = "1J0UUC7K0VLAEOGH";

	CHECK(fd >= 0);
	unlink(path);
	writer = queue_file_writer_open(fd, id, 1700000000000000LL);
	CHECK(writer != NULL);
	queue_file_put_sender(writer, "s@example.org");
	queue_file_put_recipient(writer, "a@example.com", "a@example.com", "", 0);
	queue_file_put_recipient(writer, "b@example.com", "b@example.com", "", 0);
	queue_file_put_content(writer, "Subject: x\n\nbody\n", 17);
	CHECK_INT_EQ(queue_file_writer_finish(writer, 12), 0);
	dstring_init(&error, 1024);
	CHECK_INT_EQ(queue_file_read(fd, &message, &error), 0);

	sample_request(&request);
	snprintf(request.queue_id, sizeof(request.queue_id), "%s", id);
	recipients[0] = (struct delivery_recipient){1, message.recipients[1].status_offset,
						    "b@example.com", "", "", 0};
	recipients[1] = (struct delivery_recipient){0, message.recipients[0].status_offset,
						    "a@example.com", "", "", 0};
	request.recipients = recipients;
	request.recipient_count = 2;
	CHECK_INT_EQ(delivery_request_match(&request, &message, &error), 0);
	recipients[1].offset++;
	CHECK_INT_EQ(delivery_request_match(&request, &message, &error), -1);
	recipients[1].offset--;
	recipients[1].address = "c@example.com";
	CHECK_INT_EQ(delivery_request_match(&request, &message, &error), -1);
	recipients[1].address = "a@example.com";
	recipients[1].queue_index = 2;
	CHECK_INT_EQ(delivery_request_match(&request, &message, &error), -1);
	recipients[1].queue_index = 0;
	snprintf(request.queue_id, sizeof(request.queue_id), "%s", "1J0UUC7K0VLAEOGI");
	CHECK_INT_EQ(delivery_request_match(&request, &message, &error), -1);
	queue_message_fini(&message);
	dstring_fini(&error);
	close(fd);
}

int
main(void)
{
	test_request_round_trip();
	test_request_strict();
	test_reply_strict();
	test_dsn();
	test_mutations();
	test_match();
	return check_finish();
}
