/*
 * anvil_client - the smtpd side of the anvil protocol (anvil_client.h;
 * wire format in docs/anvil.md). What it trusts: nothing in a reply; the
 * strict reader checks every attribute, and the numbers are clamped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "anvil_client.h"
#include "attr_proto.h"
#include "dstring.h"
#include "stream.h"
#include "xalloc.h"

struct anvil_client {
	struct stream *stream;
	struct attr_writer writer;
	struct dstring payload;
	bool is_broken;
};

struct anvil_client *
anvil_client_open(const char *socket_path, int timeout_ms, struct dstring *error)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct anvil_client *client;
	size_t length = strlen(socket_path);
	int fd;

	if (length >= sizeof address.sun_path) {
		dstring_printf(error, "connect %s: path too long", socket_path);
		return NULL;
	}
	memcpy(address.sun_path, socket_path, length + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dstring_printf(error, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
		dstring_printf(error, "connect %s: %s", socket_path, strerror(errno));
		close(fd);
		return NULL;
	}
	client = xcalloc(1, sizeof *client);
	client->stream = stream_open(fd);
	if (timeout_ms > 0)
		stream_set_timeout(client->stream, timeout_ms);
	attr_writer_init(&client->writer);
	dstring_init(&client->payload, ATTR_FRAME_MAX);
	return client;
}

static int
clamp(int64_t value)
{
	if (value < 0)
		return 0;
	return value > INT32_MAX ? INT32_MAX : (int)value;
}

/* One request and its reply. Returns 0, or -1 with a reason. */
static int
request(struct anvil_client *client, const char *name, const char *service, const char *address,
        int *count, int *rate, struct dstring *error)
{
	struct attr_reader reader;
	int64_t status = ANVIL_STATUS_FAIL, number = 0, per_unit = 0;

	if (client->is_broken) {
		dstring_set(error, "anvil connection already failed");
		return -1;
	}
	if (strlen(service) > ANVIL_STRING_MAX || strlen(address) > ANVIL_STRING_MAX) {
		dstring_set(error, "anvil request: service or address too long");
		return -1;
	}
	attr_writer_reset(&client->writer);
	attr_put_string(&client->writer, "request", name);
	attr_put_string(&client->writer, "service", service);
	attr_put_string(&client->writer, "address", address);
	if (attr_send(client->stream, &client->writer) < 0 ||
	    stream_flush(client->stream) != STREAM_OK) {
		int code = stream_error_code(client->stream);

		client->is_broken = true;
		dstring_printf(error, "anvil: send %s request: %s", name,
		               code != 0 ? strerror(code) : "connection closed or timed out");
		return -1;
	}
	if (attr_receive(client->stream, &client->payload, error) < 0) {
		client->is_broken = true;
		dstring_append_str(error, " (anvil reply)");
		return -1;
	}
	attr_reader_init(&reader, dstring_str(&client->payload), dstring_length(&client->payload));
	attr_get_int(&reader, "status", &status);
	attr_get_int(&reader, "count", &number);
	attr_get_int(&reader, "rate", &per_unit);
	if (attr_reader_end(&reader) < 0) {
		client->is_broken = true;
		dstring_printf(error, "anvil: malformed reply: %s", attr_reader_error(&reader));
		return -1;
	}
	if (status != ANVIL_STATUS_OK) {
		dstring_printf(error, "anvil refused the %s request", name);
		return -1;
	}
	if (count != NULL)
		*count = clamp(number);
	if (rate != NULL)
		*rate = clamp(per_unit);
	return 0;
}

int
anvil_client_connect(struct anvil_client *client, const char *service, const char *address,
                     int *count, int *rate, struct dstring *error)
{
	return request(client, "connect", service, address, count, rate, error);
}

int
anvil_client_message(struct anvil_client *client, const char *service, const char *address,
                     int *rate, struct dstring *error)
{
	return request(client, "message", service, address, NULL, rate, error);
}

int
anvil_client_recipient(struct anvil_client *client, const char *service, const char *address,
                       int *rate, struct dstring *error)
{
	return request(client, "recipient", service, address, NULL, rate, error);
}

int
anvil_client_auth(struct anvil_client *client, const char *service, const char *address, int *rate,
                  struct dstring *error)
{
	return request(client, "auth", service, address, NULL, rate, error);
}

int
anvil_client_disconnect(struct anvil_client *client, const char *service, const char *address)
{
	struct dstring error;
	int result;

	dstring_init(&error, 512);
	result = request(client, "disconnect", service, address, NULL, NULL, &error);
	dstring_fini(&error);
	return result;
}

void
anvil_client_close(struct anvil_client *client)
{
	if (client == NULL)
		return;
	stream_close(client->stream);
	attr_writer_fini(&client->writer);
	dstring_fini(&client->payload);
	free(client);
}
