/*
 * delivery - the queue manager / delivery agent protocol (delivery.h,
 * docs/protocol.md "The delivery protocol").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "attr_proto.h"
#include "delivery.h"
#include "dstring.h"
#include "log.h"
#include "queue_file.h"
#include "stream.h"
#include "xalloc.h"

/* What a request being received still expects. */
enum receive_state {
	RECEIVE_REQUEST,
	RECEIVE_RECIPIENTS,
	RECEIVE_END,
	RECEIVE_DONE,
	RECEIVE_FAILED,
};

/* Storage of a received request: copies of every string. */
struct request_storage {
	enum receive_state state;
	char **strings;
	size_t string_count;
	size_t string_capacity;
	size_t recipients_expected;
};

const char *
delivery_action_name(enum delivery_action action)
{
	switch (action) {
	case DELIVERY_DELIVERED:
		return "delivered";
	case DELIVERY_DEFERRED:
		return "deferred";
	case DELIVERY_BOUNCED:
		return "bounced";
	}
	return "unknown";
}

const char *
delivery_action_log_status(enum delivery_action action)
{
	return action == DELIVERY_DELIVERED ? "sent" : delivery_action_name(action);
}

static int
action_from_name(const char *name, enum delivery_action *action)
{
	static const enum delivery_action all[] = {DELIVERY_DELIVERED, DELIVERY_DEFERRED,
						   DELIVERY_BOUNCED};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, delivery_action_name(all[i])) == 0) {
			*action = all[i];
			return 0;
		}
	}
	return -1;
}

static char
action_class(enum delivery_action action)
{
	return action == DELIVERY_DELIVERED ? '2' : action == DELIVERY_DEFERRED ? '4' : '5';
}

static bool
is_digits(const char *text, size_t length)
{
	if (length < 1 || length > 3)
		return false;
	for (size_t i = 0; i < length; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

bool
delivery_dsn_is_valid(const char *text)
{
	const char *dot1, *dot2;

	if ((text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
		return false;
	dot1 = text + 1;
	dot2 = strchr(dot1 + 1, '.');
	if (dot2 == NULL || !is_digits(dot1 + 1, (size_t)(dot2 - dot1 - 1)))
		return false;
	return is_digits(dot2 + 1, strlen(dot2 + 1));
}

static void
check_length(const char *what, const char *value, size_t limit)
{
	if (strlen(value) > limit)
		log_panic("delivery request: %s is %zu bytes, over %zu", what, strlen(value),
			  limit);
}

static void
append_frame(struct dstring *out, struct attr_writer *writer)
{
	size_t length;
	const void *frame = attr_writer_frame(writer, &length);

	dstring_append(out, frame, length);
	attr_writer_reset(writer);
}

void
delivery_request_encode(struct dstring *out, const struct delivery_request *request)
{
	struct attr_writer writer;

	if (request->recipient_count < 1 || request->recipient_count > DELIVERY_RECIPIENTS_MAX)
		log_panic("delivery request: %zu recipients", request->recipient_count);
	check_length("queue name", request->queue_name, DELIVERY_NAME_MAX);
	check_length("transport", request->transport, DELIVERY_NAME_MAX);
	check_length("next hop", request->next_hop, DELIVERY_NAME_MAX);
	check_length("sender", request->sender, DELIVERY_ADDRESS_MAX);
	check_length("envid", request->envid, DELIVERY_NAME_MAX);
	check_length("ret", request->ret, DELIVERY_NAME_MAX);
	attr_writer_init(&writer);
	attr_put_string(&writer, "request", "deliver");
	attr_put_int(&writer, "version", DELIVERY_PROTOCOL_VERSION);
	attr_put_string(&writer, "queue_name", request->queue_name);
	attr_put_string(&writer, "queue_id", request->queue_id);
	attr_put_string(&writer, "transport", request->transport);
	attr_put_string(&writer, "next_hop", request->next_hop);
	attr_put_string(&writer, "sender", request->sender);
	attr_put_string(&writer, "envid", request->envid);
	attr_put_string(&writer, "ret", request->ret);
	attr_put_int(&writer, "arrival_time", request->arrival_time);
	attr_put_int(&writer, "active_time", request->active_time);
	attr_put_int(&writer, "size", request->size);
	attr_put_int(&writer, "flags", request->flags);
	attr_put_int(&writer, "recipient_count", (int64_t)request->recipient_count);
	append_frame(out, &writer);
	for (size_t i = 0; i < request->recipient_count; i++) {
		const struct delivery_recipient *recipient = &request->recipients[i];

		check_length("address", recipient->address, DELIVERY_ADDRESS_MAX);
		check_length("original", recipient->original, DELIVERY_ADDRESS_MAX);
		check_length("orcpt", recipient->orcpt, DELIVERY_ADDRESS_MAX);
		attr_put_string(&writer, "request", "recipient");
		attr_put_int(&writer, "queue_index", recipient->queue_index);
		attr_put_int(&writer, "offset", recipient->offset);
		attr_put_string(&writer, "address", recipient->address);
		attr_put_string(&writer, "original", recipient->original);
		attr_put_string(&writer, "orcpt", recipient->orcpt);
		attr_put_int(&writer, "notify", recipient->notify);
		append_frame(out, &writer);
	}
	attr_put_string(&writer, "request", "end");
	append_frame(out, &writer);
	attr_writer_fini(&writer);
}

int
delivery_request_send(struct stream *stream, const struct delivery_request *request)
{
	struct dstring out;
	int status = 0;

	dstring_init(&out, DSTRING_NO_LIMIT);
	delivery_request_encode(&out, request);
	if (stream_write(stream, out.data, out.length) != STREAM_OK ||
	    stream_flush(stream) != STREAM_OK)
		status = -1;
	dstring_fini(&out);
	return status;
}

/* Strings of a frame: bounded, and without control characters. */
static int
get_bounded(struct attr_reader *reader, const char *name, size_t limit, const char **value,
	    struct dstring *error)
{
	if (attr_get_string(reader, name, value) != 0) {
		dstring_printf(error, "%s", attr_reader_error(reader));
		return -1;
	}
	if (strlen(*value) > limit) {
		dstring_printf(error, "%s: %zu bytes, over %zu", name, strlen(*value), limit);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)*value; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			dstring_printf(error, "%s: control character", name);
			return -1;
		}
	}
	return 0;
}

static int
get_int(struct attr_reader *reader, const char *name, int64_t *value, struct dstring *error)
{
	if (attr_get_int(reader, name, value) != 0) {
		dstring_printf(error, "%s", attr_reader_error(reader));
		return -1;
	}
	return 0;
}

static int
reader_end(struct attr_reader *reader, struct dstring *error)
{
	if (attr_reader_end(reader) != 0) {
		dstring_printf(error, "%s", attr_reader_error(reader));
		return -1;
	}
	return 0;
}

int
delivery_reply_decode(const void *payload, size_t length, size_t recipient_count,
		      enum delivery_reply_kind *kind, struct delivery_result *result,
		      struct dstring *error)
{
	struct attr_reader reader;
	const char *reply, *action;
	int64_t position;

	memset(result, 0, sizeof(*result));
	result->dsn = result->reason = result->relay = "";
	attr_reader_init(&reader, payload, length);
	if (get_bounded(&reader, "reply", 16, &reply, error) != 0)
		return -1;
	if (strcmp(reply, "end") == 0) {
		int64_t failed;

		*kind = DELIVERY_REPLY_END;
		if (get_int(&reader, "destination_failed", &failed, error) != 0 ||
		    reader_end(&reader, error) != 0)
			return -1;
		if (failed != 0 && failed != 1) {
			dstring_printf(error, "bad destination_failed %" PRId64, failed);
			return -1;
		}
		result->action = failed ? DELIVERY_DEFERRED : DELIVERY_DELIVERED;
		return 0;
	}
	if (strcmp(reply, "result") != 0) {
		dstring_printf(error, "unknown reply \"%s\"", reply);
		return -1;
	}
	*kind = DELIVERY_REPLY_RESULT;
	if (get_int(&reader, "recipient", &position, error) != 0 ||
	    get_bounded(&reader, "action", 16, &action, error) != 0 ||
	    get_bounded(&reader, "dsn", 16, &result->dsn, error) != 0 ||
	    get_bounded(&reader, "reason", DELIVERY_REASON_MAX, &result->reason, error) != 0 ||
	    get_bounded(&reader, "relay", DELIVERY_NAME_MAX, &result->relay, error) != 0 ||
	    reader_end(&reader, error) != 0)
		return -1;
	if (position < 0 || (uint64_t)position >= recipient_count) {
		dstring_printf(error, "result for recipient %" PRId64 " of %zu", position,
			       recipient_count);
		return -1;
	}
	result->recipient = (uint32_t)position;
	if (action_from_name(action, &result->action) != 0) {
		dstring_printf(error, "unknown action \"%s\"", action);
		return -1;
	}
	if (!delivery_dsn_is_valid(result->dsn) ||
	    result->dsn[0] != action_class(result->action)) {
		dstring_printf(error, "status \"%s\" does not fit action %s", result->dsn,
			       action);
		return -1;
	}
	return 0;
}

int
delivery_reply_receive(struct stream *stream, struct dstring *payload, size_t recipient_count,
		       enum delivery_reply_kind *kind, struct delivery_result *result,
		       struct dstring *error)
{
	if (attr_receive(stream, payload, error) != 0)
		return -1;
	return delivery_reply_decode(payload->data, payload->length, recipient_count, kind,
				     result, error);
}

/* Agent side: receiving the request. */

void
delivery_request_init(struct delivery_request *request)
{
	struct request_storage *storage;

	memset(request, 0, sizeof(*request));
	request->queue_name = request->transport = request->next_hop = "";
	request->sender = request->envid = request->ret = "";
	storage = xcalloc(1, sizeof(*storage));
	storage->state = RECEIVE_REQUEST;
	request->storage = storage;
}

void
delivery_request_fini(struct delivery_request *request)
{
	struct request_storage *storage = request->storage;

	if (storage != NULL) {
		for (size_t i = 0; i < storage->string_count; i++)
			free(storage->strings[i]);
		free(storage->strings);
		free(storage);
		free(request->recipients);
	}
	memset(request, 0, sizeof(*request));
}

static const char *
keep(struct request_storage *storage, const char *text)
{
	if (storage->string_count == storage->string_capacity) {
		storage->string_capacity = storage->string_capacity ? 2 * storage->string_capacity
								    : 16;
		storage->strings = xreallocarray(storage->strings, storage->string_capacity,
						 sizeof(char *));
	}
	storage->strings[storage->string_count] = xstrdup(text);
	return storage->strings[storage->string_count++];
}

static int
decode_header(struct delivery_request *request, struct attr_reader *reader,
	      struct dstring *error)
{
	struct request_storage *storage = request->storage;
	const char *queue_name, *queue_id, *transport, *next_hop, *sender, *envid, *ret;
	int64_t version, arrival, active, size, flags, count;

	if (get_int(reader, "version", &version, error) != 0)
		return -1;
	if (version != DELIVERY_PROTOCOL_VERSION) {
		dstring_printf(error, "unsupported protocol version %" PRId64, version);
		return -1;
	}
	if (get_bounded(reader, "queue_name", DELIVERY_NAME_MAX, &queue_name, error) != 0 ||
	    get_bounded(reader, "queue_id", QUEUE_ID_MAX, &queue_id, error) != 0 ||
	    get_bounded(reader, "transport", DELIVERY_NAME_MAX, &transport, error) != 0 ||
	    get_bounded(reader, "next_hop", DELIVERY_NAME_MAX, &next_hop, error) != 0 ||
	    get_bounded(reader, "sender", DELIVERY_ADDRESS_MAX, &sender, error) != 0 ||
	    get_bounded(reader, "envid", DELIVERY_NAME_MAX, &envid, error) != 0 ||
	    get_bounded(reader, "ret", DELIVERY_NAME_MAX, &ret, error) != 0 ||
	    get_int(reader, "arrival_time", &arrival, error) != 0 ||
	    get_int(reader, "active_time", &active, error) != 0 ||
	    get_int(reader, "size", &size, error) != 0 ||
	    get_int(reader, "flags", &flags, error) != 0 ||
	    get_int(reader, "recipient_count", &count, error) != 0 ||
	    reader_end(reader, error) != 0)
		return -1;
	/* The queue name becomes a path: only a plain queue name will do. */
	if (queue_name[0] == 0 || strspn(queue_name, "abcdefghijklmnopqrstuvwxyz") !=
				      strlen(queue_name)) {
		dstring_printf(error, "bad queue name \"%s\"", queue_name);
		return -1;
	}
	if (!queue_id_is_valid(queue_id)) {
		dstring_printf(error, "bad queue ID \"%s\"", queue_id);
		return -1;
	}
	if (transport[0] == 0) {
		dstring_set(error, "empty transport");
		return -1;
	}
	if (arrival < 0 || active < 0 || size < 0 || size > QUEUE_FILE_CONTENT_MAX) {
		dstring_set(error, "bad time or size");
		return -1;
	}
	if (flags < 0 || (flags & ~(int64_t)DELIVERY_FLAGS_KNOWN) != 0) {
		dstring_printf(error, "unknown flags %#" PRIx64, (uint64_t)flags);
		return -1;
	}
	if (count < 1 || count > DELIVERY_RECIPIENTS_MAX) {
		dstring_printf(error, "bad recipient count %" PRId64, count);
		return -1;
	}
	request->queue_name = keep(storage, queue_name);
	memcpy(request->queue_id, queue_id, strlen(queue_id) + 1);
	request->transport = keep(storage, transport);
	request->next_hop = keep(storage, next_hop);
	request->sender = keep(storage, sender);
	request->envid = keep(storage, envid);
	request->ret = keep(storage, ret);
	request->arrival_time = arrival;
	request->active_time = active;
	request->size = size;
	request->flags = (unsigned)flags;
	request->recipients = xcalloc((size_t)count, sizeof(*request->recipients));
	storage->recipients_expected = (size_t)count;
	storage->state = RECEIVE_RECIPIENTS;
	return 0;
}

static int
decode_recipient(struct delivery_request *request, struct attr_reader *reader,
		 struct dstring *error)
{
	struct request_storage *storage = request->storage;
	struct delivery_recipient *recipient;
	const char *address, *original, *orcpt;
	int64_t queue_index, offset, notify;

	if (get_int(reader, "queue_index", &queue_index, error) != 0 ||
	    get_int(reader, "offset", &offset, error) != 0 ||
	    get_bounded(reader, "address", DELIVERY_ADDRESS_MAX, &address, error) != 0 ||
	    get_bounded(reader, "original", DELIVERY_ADDRESS_MAX, &original, error) != 0 ||
	    get_bounded(reader, "orcpt", DELIVERY_ADDRESS_MAX, &orcpt, error) != 0 ||
	    get_int(reader, "notify", &notify, error) != 0 || reader_end(reader, error) != 0)
		return -1;
	if (queue_index < 0 || queue_index >= QUEUE_FILE_RECIPIENTS_MAX || offset <= 0 ||
	    notify < 0 || notify > 15) {
		dstring_set(error, "bad recipient index, offset or notify");
		return -1;
	}
	for (size_t i = 0; i < request->recipient_count; i++) {
		if (request->recipients[i].queue_index == (uint32_t)queue_index) {
			dstring_printf(error, "recipient %" PRId64 " appears twice", queue_index);
			return -1;
		}
	}
	recipient = &request->recipients[request->recipient_count++];
	recipient->queue_index = (uint32_t)queue_index;
	recipient->offset = offset;
	recipient->address = keep(storage, address);
	recipient->original = keep(storage, original);
	recipient->orcpt = keep(storage, orcpt);
	recipient->notify = (unsigned)notify;
	if (request->recipient_count == storage->recipients_expected)
		storage->state = RECEIVE_END;
	return 0;
}

int
delivery_request_decode_frame(struct delivery_request *request, const void *payload,
			      size_t length, struct dstring *error)
{
	struct request_storage *storage = request->storage;
	struct attr_reader reader;
	const char *kind;
	const char *expected;
	int status = -1;

	if (storage == NULL)
		log_panic("delivery_request_decode_frame: request not initialized");
	switch (storage->state) {
	case RECEIVE_REQUEST:
		expected = "deliver";
		break;
	case RECEIVE_RECIPIENTS:
		expected = "recipient";
		break;
	case RECEIVE_END:
		expected = "end";
		break;
	default:
		dstring_set(error, "frame after the end of the request");
		storage->state = RECEIVE_FAILED;
		return -1;
	}
	attr_reader_init(&reader, payload, length);
	if (get_bounded(&reader, "request", 16, &kind, error) != 0)
		goto out;
	if (strcmp(kind, expected) != 0) {
		dstring_printf(error, "got request \"%s\", expected \"%s\"", kind, expected);
		goto out;
	}
	switch (storage->state) {
	case RECEIVE_REQUEST:
		status = decode_header(request, &reader, error);
		break;
	case RECEIVE_RECIPIENTS:
		status = decode_recipient(request, &reader, error);
		break;
	default:
		status = reader_end(&reader, error);
		if (status == 0) {
			storage->state = RECEIVE_DONE;
			request->received_time = delivery_now();
			return 1;
		}
		break;
	}
out:
	if (status != 0)
		storage->state = RECEIVE_FAILED;
	return status;
}

int
delivery_request_receive(struct stream *stream, struct delivery_request *request,
			 struct dstring *error)
{
	struct dstring payload;
	struct dstring why;
	int status = -1;

	delivery_request_init(request);
	dstring_init(&payload, ATTR_FRAME_MAX + 1);
	dstring_init(&why, 512);
	/* The request frame, recipient_count frames, the end frame: bounded. */
	for (size_t frames = 0; frames < DELIVERY_RECIPIENTS_MAX + 2; frames++) {
		if (attr_receive(stream, &payload, &why) != 0) {
			status = -1;
			break;
		}
		status = delivery_request_decode_frame(request, payload.data, payload.length, &why);
		if (status != 0)
			break;
	}
	if (status == 0) {
		dstring_set(&why, "too many frames");
		status = -1;
	}
	if (status < 0)
		dstring_printf(error, "delivery request: %s", dstring_str(&why));
	dstring_fini(&why);
	dstring_fini(&payload);
	return status < 0 ? -1 : 0;
}

int
delivery_request_match(const struct delivery_request *request,
		       const struct queue_message *message, struct dstring *error)
{
	if (strcmp(request->queue_id, message->queue_id) != 0) {
		dstring_printf(error, "queue file has ID %s, not %s", message->queue_id,
			       request->queue_id);
		return -1;
	}
	for (size_t i = 0; i < request->recipient_count; i++) {
		const struct delivery_recipient *recipient = &request->recipients[i];
		const struct queue_recipient *record;

		if (recipient->queue_index >= message->recipient_count) {
			dstring_printf(error, "recipient index %" PRIu32 " past %zu recipients",
				       recipient->queue_index, message->recipient_count);
			return -1;
		}
		record = &message->recipients[recipient->queue_index];
		if (record->status_offset != recipient->offset ||
		    strcmp(record->address, recipient->address) != 0) {
			dstring_printf(error, "recipient %" PRIu32 " <%s> does not match the queue file",
				       recipient->queue_index, recipient->address);
			return -1;
		}
	}
	return 0;
}

int
delivery_recipient_lock(int fd, const struct delivery_recipient *recipient)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
			     .l_start = (off_t)recipient->offset, .l_len = 1};
	char status;

	while (fcntl(fd, F_SETLKW, &lock) != 0)
		if (errno != EINTR)
			return -1;
	if (pread(fd, &status, 1, (off_t)recipient->offset) != 1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return status == QUEUE_RECIPIENT_DONE ? 1 : 0;
}

void
delivery_result_encode(struct dstring *out, const struct delivery_result *result)
{
	struct attr_writer writer;
	char reason[DELIVERY_REASON_MAX + 1];

	if (!delivery_dsn_is_valid(result->dsn) || result->dsn[0] != action_class(result->action))
		log_panic("delivery result: status \"%s\" for action %s", result->dsn,
			  delivery_action_name(result->action));
	snprintf(reason, sizeof(reason), "%s", result->reason);
	/* The reader refuses control characters: make them harmless here. */
	for (char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	check_length("relay", result->relay, DELIVERY_NAME_MAX);
	attr_writer_init(&writer);
	attr_put_string(&writer, "reply", "result");
	attr_put_int(&writer, "recipient", result->recipient);
	attr_put_string(&writer, "action", delivery_action_name(result->action));
	attr_put_string(&writer, "dsn", result->dsn);
	attr_put_string(&writer, "reason", reason);
	attr_put_string(&writer, "relay", result->relay);
	append_frame(out, &writer);
	attr_writer_fini(&writer);
}

void
delivery_end_encode(struct dstring *out, bool is_destination_failure)
{
	struct attr_writer writer;

	attr_writer_init(&writer);
	attr_put_string(&writer, "reply", "end");
	attr_put_int(&writer, "destination_failed", is_destination_failure ? 1 : 0);
	append_frame(out, &writer);
	attr_writer_fini(&writer);
}

static int
send_bytes(struct stream *stream, struct dstring *out, bool flush)
{
	int status = 0;

	if (stream_write(stream, out->data, out->length) != STREAM_OK ||
	    (flush && stream_flush(stream) != STREAM_OK))
		status = -1;
	dstring_fini(out);
	return status;
}

int
delivery_result_send(struct stream *stream, const struct delivery_result *result)
{
	struct dstring out;

	dstring_init(&out, DSTRING_NO_LIMIT);
	delivery_result_encode(&out, result);
	return send_bytes(stream, &out, false);
}

int
delivery_end_send_status(struct stream *stream, bool is_destination_failure)
{
	struct dstring out;

	dstring_init(&out, DSTRING_NO_LIMIT);
	delivery_end_encode(&out, is_destination_failure);
	return send_bytes(stream, &out, true);
}

int
delivery_end_send(struct stream *stream)
{
	return delivery_end_send_status(stream, false);
}

int64_t
delivery_now(void)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (int64_t)now.tv_sec * 1000000 + now.tv_usec;
}

/* Seconds as Postfix prints delays: "0.12", "1.5", "3", never negative. */
static void
format_delay(char *out, size_t size, int64_t microseconds)
{
	if (microseconds < 0)
		microseconds = 0;
	if (microseconds >= 10000000)
		snprintf(out, size, "%" PRId64, (microseconds + 500000) / 1000000);
	else if (microseconds >= 100000)
		snprintf(out, size, "%.1f", (double)microseconds / 1e6);
	else if (microseconds >= 10000)
		snprintf(out, size, "%.2f", (double)microseconds / 1e6);
	else
		snprintf(out, size, "%s", microseconds > 0 ? "0.01" : "0");
}

void
delivery_log_result(const struct delivery_request *request, const struct delivery_result *result,
		    int64_t connected_time)
{
	const struct delivery_recipient *recipient;
	int64_t now = delivery_now();
	int64_t active = request->active_time, received = request->received_time;
	int64_t connected = connected_time > 0 ? connected_time : received;
	char total[32], a[32], b[32], c[32], d[32];

	if (result->recipient >= request->recipient_count)
		log_panic("delivery_log_result: recipient %" PRIu32 " of %zu", result->recipient,
			  request->recipient_count);
	recipient = &request->recipients[result->recipient];
	if (active < request->arrival_time)
		active = request->arrival_time;
	if (received < active)
		received = active;
	if (connected < received)
		connected = received;
	format_delay(total, sizeof(total), now - request->arrival_time);
	format_delay(a, sizeof(a), active - request->arrival_time);
	format_delay(b, sizeof(b), received - active);
	format_delay(c, sizeof(c), connected - received);
	format_delay(d, sizeof(d), now - connected);
	if (recipient->original[0] != 0 && strcmp(recipient->original, recipient->address) != 0)
		log_info("%s: to=<%s>, orig_to=<%s>, relay=%s, delay=%s, delays=%s/%s/%s/%s, "
			 "dsn=%s, status=%s (%s)",
			 request->queue_id, recipient->address, recipient->original,
			 result->relay, total, a, b, c, d, result->dsn,
			 delivery_action_log_status(result->action), result->reason);
	else
		log_info("%s: to=<%s>, relay=%s, delay=%s, delays=%s/%s/%s/%s, dsn=%s, "
			 "status=%s (%s)",
			 request->queue_id, recipient->address, result->relay, total, a, b, c,
			 d, result->dsn, delivery_action_log_status(result->action),
			 result->reason);
}
