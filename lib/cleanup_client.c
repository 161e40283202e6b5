/*
 * cleanup_client - the client side of the cleanup protocol
 * (cleanup_client.h, docs/protocol.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr_proto.h"
#include "cleanup_client.h"
#include "dstring.h"
#include "stream.h"
#include "xalloc.h"

/* Content is sent in frames of this many bytes. */
enum { CONTENT_CHUNK = 65536 };

enum client_state {
	STATE_ENVELOPE, /* expecting cleanup_client_envelope */
	STATE_RECIPIENTS /* envelope sent; recipients or content next */,
	STATE_SENT, /* end sent (cleanup_client_send_end); verdict next */
	STATE_FAILED,
	STATE_DONE,
};

struct cleanup_client {
	struct stream *stream;
	enum client_state state;
	struct attr_writer writer;
	struct dstring content; /* buffered content, under CONTENT_CHUNK */
	long long content_size;
	enum cleanup_status failure; /* when STATE_FAILED */
	char *reason;
	char *queue_id;
	bool expects_early_queue_id; /* CLEANUP_FLAG_EARLY_QUEUE_ID sent */
	char *early_queue_id;        /* read, or NULL */
};

static int
client_fail(struct cleanup_client *client, enum cleanup_status status, const char *reason)
{
	if (client->state != STATE_FAILED) {
		client->state = STATE_FAILED;
		client->failure = status;
		free(client->reason);
		client->reason = xstrdup(reason);
	}
	return -1;
}

static int
client_io_fail(struct cleanup_client *client, const char *what)
{
	char reason[256];
	int code = stream_error_code(client->stream);

	snprintf(reason, sizeof(reason), "4.3.0 cleanup service: %s: %s", what,
	         code ? strerror(code) : "connection closed or timed out");
	return client_fail(client, CLEANUP_TEMPFAIL, reason);
}

struct cleanup_client *
cleanup_client_open(const char *socket_path, int timeout_ms, struct dstring *error)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct cleanup_client *client;
	int fd;

	if (strlen(socket_path) >= sizeof(address.sun_path)) {
		dstring_printf(error, "connect %s: path too long", socket_path);
		return NULL;
	}
	memcpy(address.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dstring_printf(error, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		dstring_printf(error, "connect %s: %s", socket_path, strerror(errno));
		close(fd);
		return NULL;
	}
	client = xcalloc(1, sizeof(*client));
	client->stream = stream_open(fd);
	if (timeout_ms > 0)
		stream_set_timeout(client->stream, timeout_ms);
	attr_writer_init(&client->writer);
	dstring_init(&client->content, DSTRING_NO_LIMIT);
	client->state = STATE_ENVELOPE;
	return client;
}

static const char *
or_empty(const char *text)
{
	return text != NULL ? text : "";
}

static bool
is_too_long(const char *text)
{
	return text != NULL && strlen(text) > CLEANUP_CLIENT_STRING_MAX;
}

int
cleanup_client_envelope(struct cleanup_client *client, const struct cleanup_envelope *envelope)
{
	const char *strings[] = {
	    envelope->sender,        envelope->full_name,      envelope->envid,
	    envelope->ret,           envelope->protocol,       envelope->helo,
	    envelope->client_name,   envelope->client_address, envelope->sasl_method,
	    envelope->sasl_username, envelope->tls_info,       envelope->body,
	};
	struct attr_writer *writer = &client->writer;

	if (client->state == STATE_FAILED)
		return -1;
	if (client->state != STATE_ENVELOPE)
		return client_fail(client, CLEANUP_TEMPFAIL,
		                   "4.3.0 cleanup client: envelope sent twice");
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (is_too_long(strings[i]))
			return client_fail(client, CLEANUP_PERMFAIL,
			                   i == 0 ? "5.1.7 sender address too long"
			                          : "5.5.4 envelope attribute too long");
	attr_writer_reset(writer);
	attr_put_string(writer, "request", "envelope");
	attr_put_int(writer, "version", 1);
	attr_put_int(writer, "flags", envelope->flags);
	attr_put_string(writer, "sender", or_empty(envelope->sender));
	attr_put_string(writer, "full_name", or_empty(envelope->full_name));
	attr_put_int(writer, "uid", envelope->uid);
	attr_put_int(writer, "arrival_time", envelope->arrival_time);
	attr_put_string(writer, "envid", or_empty(envelope->envid));
	attr_put_string(writer, "ret", or_empty(envelope->ret));
	attr_put_string(writer, "protocol", or_empty(envelope->protocol));
	attr_put_string(writer, "helo", or_empty(envelope->helo));
	attr_put_string(writer, "client_name", or_empty(envelope->client_name));
	attr_put_string(writer, "client_address", or_empty(envelope->client_address));
	attr_put_string(writer, "sasl_method", or_empty(envelope->sasl_method));
	attr_put_string(writer, "sasl_username", or_empty(envelope->sasl_username));
	attr_put_string(writer, "tls_info", or_empty(envelope->tls_info));
	attr_put_string(writer, "body", or_empty(envelope->body));
	attr_put_int(writer, "smtputf8", envelope->is_smtputf8 ? 1 : 0);
	if (attr_send(client->stream, writer) < 0)
		return client_io_fail(client, "send envelope");
	client->expects_early_queue_id = (envelope->flags & CLEANUP_FLAG_EARLY_QUEUE_ID) != 0;
	client->state = STATE_RECIPIENTS;
	return 0;
}

/* read_early_queue_id: the one-attribute frame cleanup sends after the envelope. */
static int
read_early_queue_id(struct cleanup_client *client)
{
	struct dstring payload, error;
	struct attr_reader reader;
	const char *queue_id;
	int status = 0;

	if (stream_flush(client->stream) != STREAM_OK)
		return client_io_fail(client, "send");
	dstring_init(&payload, ATTR_FRAME_MAX);
	dstring_init(&error, 512);
	if (attr_receive(client->stream, &payload, &error) < 0) {
		char text[600];

		snprintf(text, sizeof(text), "4.3.0 cleanup service: %s", error.data);
		status = client_fail(client, CLEANUP_TEMPFAIL, text);
	} else {
		attr_reader_init(&reader, payload.data, payload.length);
		attr_get_string(&reader, "queue_id", &queue_id);
		if (attr_reader_end(&reader) < 0) {
			char text[300];

			snprintf(text, sizeof(text), "4.3.0 cleanup service: bad reply: %s",
			         attr_reader_error(&reader));
			status = client_fail(client, CLEANUP_TEMPFAIL, text);
		} else {
			client->early_queue_id = xstrdup(queue_id);
		}
	}
	dstring_fini(&payload);
	dstring_fini(&error);
	return status;
}

const char *
cleanup_client_queue_id(struct cleanup_client *client)
{
	if (client->state == STATE_FAILED || !client->expects_early_queue_id)
		return NULL;
	if (client->early_queue_id == NULL && read_early_queue_id(client) < 0)
		return NULL;
	return client->early_queue_id;
}

int
cleanup_client_recipient(struct cleanup_client *client, const char *address, const char *original,
                         const char *orcpt, unsigned notify)
{
	struct attr_writer *writer = &client->writer;

	if (client->state == STATE_FAILED)
		return -1;
	if (client->state != STATE_RECIPIENTS || client->content_size > 0)
		return client_fail(client, CLEANUP_TEMPFAIL,
		                   "4.3.0 cleanup client: recipient out of order");
	if (is_too_long(address) || is_too_long(original) || is_too_long(orcpt))
		return client_fail(client, CLEANUP_PERMFAIL, "5.1.3 recipient address too long");
	attr_writer_reset(writer);
	attr_put_string(writer, "request", "recipient");
	attr_put_string(writer, "address", or_empty(address));
	attr_put_string(writer, "original", original != NULL ? original : or_empty(address));
	attr_put_string(writer, "orcpt", or_empty(orcpt));
	attr_put_int(writer, "notify", notify & 15);
	if (attr_send(client->stream, writer) < 0)
		return client_io_fail(client, "send recipient");
	return 0;
}

static int
send_content(struct cleanup_client *client)
{
	struct attr_writer *writer = &client->writer;

	if (client->content.length == 0)
		return 0;
	attr_writer_reset(writer);
	attr_put_string(writer, "request", "content");
	attr_put_data(writer, "data", client->content.data, client->content.length);
	dstring_reset(&client->content);
	if (attr_send(client->stream, writer) < 0)
		return client_io_fail(client, "send content");
	return 0;
}

int
cleanup_client_write(struct cleanup_client *client, const void *data, size_t length)
{
	const char *bytes = data;

	if (client->state == STATE_FAILED)
		return -1;
	if (client->state != STATE_RECIPIENTS)
		return client_fail(client, CLEANUP_TEMPFAIL,
		                   "4.3.0 cleanup client: content before envelope");
	while (length > 0) {
		size_t room = CONTENT_CHUNK - client->content.length;
		size_t take = length < room ? length : room;

		dstring_append(&client->content, bytes, take);
		client->content_size += (long long)take;
		bytes += take;
		length -= take;
		if (client->content.length == CONTENT_CHUNK && send_content(client) < 0)
			return -1;
	}
	return 0;
}

int
cleanup_client_send_end(struct cleanup_client *client)
{
	struct attr_writer *writer = &client->writer;

	if (client->state == STATE_ENVELOPE)
		return client_fail(client, CLEANUP_TEMPFAIL, "4.3.0 cleanup client: no envelope");
	if (client->state != STATE_RECIPIENTS)
		return client->state == STATE_FAILED
		           ? -1
		           : client_fail(client, CLEANUP_TEMPFAIL,
		                         "4.3.0 cleanup client: end sent twice");
	if (send_content(client) < 0)
		return -1;
	attr_writer_reset(writer);
	attr_put_string(writer, "request", "end");
	attr_put_int(writer, "size", client->content_size);
	if (attr_send(client->stream, writer) < 0 || stream_flush(client->stream) != STREAM_OK)
		return client_io_fail(client, "send end");
	client->state = STATE_SENT;
	return 0;
}

int
cleanup_client_fd(const struct cleanup_client *client)
{
	return stream_fd(client->stream);
}

int
cleanup_client_finish(struct cleanup_client *client, struct cleanup_result *result)
{
	struct dstring payload, error;
	struct attr_reader reader;
	const char *queue_id, *reason;
	int64_t status;

	if (client->state == STATE_ENVELOPE || client->state == STATE_RECIPIENTS)
		cleanup_client_send_end(client);
	/* The early queue ID frame comes first, when it was asked for. */
	if (client->state == STATE_SENT && client->expects_early_queue_id &&
	    client->early_queue_id == NULL)
		read_early_queue_id(client);
	if (client->state == STATE_SENT) {
		dstring_init(&payload, ATTR_FRAME_MAX);
		dstring_init(&error, 512);
		if (attr_receive(client->stream, &payload, &error) < 0) {
			char text[600];

			snprintf(text, sizeof(text), "4.3.0 cleanup service: %s", error.data);
			client_fail(client, CLEANUP_TEMPFAIL, text);
		} else {
			attr_reader_init(&reader, payload.data, payload.length);
			attr_get_int(&reader, "status", &status);
			attr_get_string(&reader, "queue_id", &queue_id);
			attr_get_string(&reader, "reason", &reason);
			if (attr_reader_end(&reader) < 0) {
				char text[300];

				snprintf(text, sizeof(text), "4.3.0 cleanup service: bad reply: %s",
				         attr_reader_error(&reader));
				client_fail(client, CLEANUP_TEMPFAIL, text);
			} else if (status == 0 && queue_id[0] != '\0') {
				client->queue_id = xstrdup(queue_id);
				client->state = STATE_DONE;
			} else {
				client_fail(client,
				            status == 5 ? CLEANUP_PERMFAIL : CLEANUP_TEMPFAIL,
				            reason[0] != '\0' ? reason
				                              : "4.3.0 cleanup service: no reason");
			}
		}
		dstring_fini(&payload);
		dstring_fini(&error);
	}
	if (client->state == STATE_DONE) {
		result->status = CLEANUP_OK;
		result->queue_id = client->queue_id;
		result->reason = "";
		return 0;
	}
	result->status = client->failure;
	result->queue_id = "";
	result->reason = client->reason;
	return -1;
}

void
cleanup_client_close(struct cleanup_client *client)
{
	if (client == NULL)
		return;
	stream_close(client->stream);
	attr_writer_fini(&client->writer);
	dstring_fini(&client->content);
	free(client->reason);
	free(client->queue_id);
	free(client->early_queue_id);
	free(client);
}
