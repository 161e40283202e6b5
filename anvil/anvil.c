/*
 * anvil - the connection count and rate server (and the message,
 * recipient and AUTH rates). smtpd runs a process per
 * connection, so the counts behind smtpd_client_connection_count_limit
 * and smtpd_client_connection_rate_limit live here, in one process
 * (Postfix's anvil(8)).
 *
 * A SERVER_MULTI daemon: each smtpd keeps one connection open during its
 * session and sends requests over it (attr_proto frames; docs/anvil.md):
 *
 *   request=connect    service address  ->  status count rate
 *   request=disconnect service address  ->  status count rate
 *   request=message    service address  ->  status 0 rate   (also
 *   request=recipient, request=auth: the rates of those events, counted
 *   only for a client this connection holds a connect for)
 *
 * Each connection remembers what it counted (at most ANVIL_HOLDS_MAX
 * connects not yet disconnected); when it closes, for any reason, those
 * are released, so an smtpd that is killed leaks nothing. A disconnect
 * for something the connection did not count is refused.
 *
 * What it trusts: nothing from its clients (private/anvil is reachable by
 * the mail owner only, but a broken smtpd must not take anvil down). A
 * request frame is at most ANVIL_REQUEST_MAX bytes, read by the strict
 * codec; a bad request gets status 1 and the connection stays; a frame
 * over the limit, or a client that does not read its replies, is dropped.
 * Memory is bounded by anvil_table's entry limit and these per-connection
 * limits.
 *
 * Like Postfix's anvil it ignores max_use and max_idle: its counters are
 * its state, and a restart would forget the rates.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "anvil_client.h"
#include "anvil_table.h"
#include "attr_proto.h"
#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

/* The largest request frame, length prefix included. */
#define ANVIL_REQUEST_MAX 1024
/* Replies waiting for a client that does not read. */
#define ANVIL_OUTPUT_MAX 65536
/* Connects one client connection may hold at once. */
#define ANVIL_HOLDS_MAX 16

struct anvil_connection {
	int fd;
	struct dstring input;
	struct dstring output;
	struct anvil_entry *holds[ANVIL_HOLDS_MAX];
	size_t hold_count;
	bool is_writing;
};

static struct anvil_table *anvil_table;

/* The request names of enum anvil_event, also their words in the statistics. */
static const char *const event_names[ANVIL_EVENTS] = {"message", "recipient", "auth"};

static void connection_event(int fd, unsigned events, void *context);

static void
connection_done(struct anvil_connection *connection)
{
	int64_t now = event_now_ms();
	int fd = connection->fd;

	for (size_t i = 0; i < connection->hold_count; i++) {
		unsigned count, rate;

		anvil_table_disconnect(anvil_table, connection->holds[i], now, &count, &rate);
	}
	dstring_fini(&connection->input);
	dstring_fini(&connection->output);
	free(connection);
	server_client_done(fd);
}

/* Send what is queued. Returns -1 when the connection was closed. */
static int
send_output(struct anvil_connection *connection)
{
	while (dstring_length(&connection->output) > 0) {
		ssize_t sent =
		    send(connection->fd, connection->output.data,
		         dstring_length(&connection->output), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!connection->is_writing) {
				event_watch(server_event_loop(), connection->fd,
				            EVENT_READ | EVENT_WRITE, connection_event, connection);
				connection->is_writing = true;
			}
			return 0;
		}
		if (sent <= 0) {
			connection_done(connection);
			return -1;
		}
		memmove(connection->output.data, connection->output.data + sent,
		        dstring_length(&connection->output) - (size_t)sent);
		dstring_truncate(&connection->output,
		                 dstring_length(&connection->output) - (size_t)sent);
	}
	if (connection->is_writing) {
		event_watch(server_event_loop(), connection->fd, EVENT_READ, connection_event,
		            connection);
		connection->is_writing = false;
	}
	return 0;
}

static void
queue_reply(struct anvil_connection *connection, int status, unsigned count, unsigned rate)
{
	struct attr_writer writer;
	const void *frame;
	size_t length;

	attr_writer_init(&writer);
	attr_put_int(&writer, "status", status);
	attr_put_int(&writer, "count", count);
	attr_put_int(&writer, "rate", rate);
	frame = attr_writer_frame(&writer, &length);
	/* Over the limit: the client is not reading; send_output's caller
	 * sees the overflow and drops it. */
	dstring_append(&connection->output, frame, length);
	attr_writer_fini(&writer);
}

/* Service names and addresses: 1..ANVIL_STRING_MAX printable characters. */
static bool
is_valid_string(const char *text)
{
	size_t length = strlen(text);

	if (length == 0 || length > ANVIL_STRING_MAX)
		return false;
	for (; *text != '\0'; text++) {
		if ((unsigned char)*text <= ' ' || (unsigned char)*text >= 0x7f)
			return false;
	}
	return true;
}

static void
handle_request(struct anvil_connection *connection, const void *payload, size_t length)
{
	struct attr_reader reader;
	const char *request = "", *service = "", *address = "";
	unsigned count = 0, rate = 0;
	int64_t now = event_now_ms();

	attr_reader_init(&reader, payload, length);
	attr_get_string(&reader, "request", &request);
	attr_get_string(&reader, "service", &service);
	attr_get_string(&reader, "address", &address);
	if (attr_reader_end(&reader) < 0) {
		log_warning("bad request from client: %s", attr_reader_error(&reader));
		queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
		return;
	}
	if (!is_valid_string(service) || !is_valid_string(address)) {
		log_warning("bad request from client: malformed service or address");
		queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
		return;
	}
	if (strcmp(request, "connect") == 0) {
		struct anvil_entry *entry;

		if (connection->hold_count >= ANVIL_HOLDS_MAX) {
			log_warning("client holds %d connections already: %s:%s not counted",
			            ANVIL_HOLDS_MAX, service, address);
			queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
			return;
		}
		entry = anvil_table_connect(anvil_table, service, address, now, &count, &rate);
		if (entry == NULL) {
			log_warning("table full (%d clients connected): %s:%s not counted",
			            ANVIL_ENTRIES_MAX, service, address);
			queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
			return;
		}
		connection->holds[connection->hold_count++] = entry;
		log_debug("connect %s:%s count=%u rate=%u", service, address, count, rate);
		queue_reply(connection, ANVIL_STATUS_OK, count, rate);
		return;
	}
	for (int kind = 0; kind < ANVIL_EVENTS; kind++) {
		if (strcmp(request, event_names[kind]) != 0)
			continue;
		/* Counted for a client this connection holds, so never a
		 * new entry: the table stays bounded by the connections. */
		for (size_t i = 0; i < connection->hold_count; i++) {
			struct anvil_entry *entry = connection->holds[i];

			if (!anvil_table_matches(entry, service, address))
				continue;
			anvil_table_event(anvil_table, entry, (enum anvil_event)kind, now, &rate);
			log_debug("%s %s:%s rate=%u", request, service, address, rate);
			queue_reply(connection, ANVIL_STATUS_OK, 0, rate);
			return;
		}
		log_warning("%s %s:%s: not connected", request, service, address);
		queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
		return;
	}
	if (strcmp(request, "disconnect") == 0) {
		for (size_t i = 0; i < connection->hold_count; i++) {
			struct anvil_entry *entry = connection->holds[i];

			if (!anvil_table_matches(entry, service, address))
				continue;
			connection->holds[i] = connection->holds[--connection->hold_count];
			anvil_table_disconnect(anvil_table, entry, now, &count, &rate);
			log_debug("disconnect %s:%s count=%u", service, address, count);
			queue_reply(connection, ANVIL_STATUS_OK, count, rate);
			return;
		}
		log_warning("disconnect %s:%s: not connected", service, address);
		queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
		return;
	}
	log_warning("bad request from client: unknown request \"%.40s\"", request);
	queue_reply(connection, ANVIL_STATUS_FAIL, 0, 0);
}

/* Handle every complete frame in the input. Returns -1 to drop the client. */
static int
handle_input(struct anvil_connection *connection)
{
	size_t offset = 0;

	/* Bounded: each pass consumes one frame of the bounded buffer. */
	for (;;) {
		const unsigned char *start = (const unsigned char *)connection->input.data + offset;
		size_t available = dstring_length(&connection->input) - offset, frame_length;
		enum attr_frame_status status;

		if (available >= ATTR_FRAME_HEADER) {
			uint32_t payload_length = (uint32_t)start[0] << 24 |
			                          (uint32_t)start[1] << 16 |
			                          (uint32_t)start[2] << 8 | start[3];

			if (payload_length > ANVIL_REQUEST_MAX - ATTR_FRAME_HEADER) {
				log_warning("request of %u bytes from client: dropped",
				            (unsigned)payload_length);
				return -1;
			}
		}
		status = attr_frame_check(start, available, &frame_length);
		if (status == ATTR_FRAME_INVALID)
			return -1;
		if (status == ATTR_FRAME_INCOMPLETE)
			break;
		handle_request(connection, start + ATTR_FRAME_HEADER,
		               frame_length - ATTR_FRAME_HEADER);
		offset += frame_length;
	}
	if (offset > 0) {
		size_t rest = dstring_length(&connection->input) - offset;

		memmove(connection->input.data, connection->input.data + offset, rest);
		dstring_truncate(&connection->input, rest);
	}
	if (connection->output.has_overflowed) {
		log_warning("client does not read its replies: dropped");
		return -1;
	}
	return 0;
}

static void
connection_event(int fd, unsigned events, void *context)
{
	struct anvil_connection *connection = context;
	char buffer[ANVIL_REQUEST_MAX];

	(void)fd;
	if ((events & EVENT_WRITE) && send_output(connection) < 0)
		return;
	if (!(events & EVENT_READ))
		return;
	for (;;) {
		ssize_t received = recv(connection->fd, buffer, sizeof buffer, MSG_DONTWAIT);

		if (received < 0 && errno == EINTR)
			continue;
		if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (received <= 0) {
			/* The smtpd is gone, or closed: release what it held. */
			connection_done(connection);
			return;
		}
		/* The input never holds more than one partial frame
		 * (handle_input drops longer ones), so this fits. */
		if (dstring_append(&connection->input, buffer, (size_t)received) < 0 ||
		    handle_input(connection) < 0) {
			connection_done(connection);
			return;
		}
		if (send_output(connection) < 0)
			return;
	}
}

static void
anvil_serve(int fd)
{
	struct anvil_connection *connection = xcalloc(1, sizeof *connection);

	connection->fd = fd;
	dstring_init(&connection->input, 2 * ANVIL_REQUEST_MAX);
	dstring_init(&connection->output, ANVIL_OUTPUT_MAX);
	event_watch(server_event_loop(), fd, EVENT_READ, connection_event, connection);
}

static void
format_time(char *text, size_t size, int64_t seconds)
{
	time_t when = (time_t)seconds;
	struct tm local;

	if (localtime_r(&when, &local) == NULL ||
	    strftime(text, size, "%b %e %H:%M:%S", &local) == 0)
		snprintf(text, size, "?");
}

/* Postfix's periodic lines, so log analyzers that know them keep working. */
static void
log_statistics(void)
{
	const struct anvil_statistics *statistics = anvil_table_statistics(anvil_table);
	char when[64];

	if (statistics->max_rate > 0) {
		format_time(when, sizeof when, statistics->max_rate_time);
		log_info("statistics: max connection rate %u/%ds for (%s) at %s",
		         statistics->max_rate, var_anvil_rate_time_unit, statistics->max_rate_key,
		         when);
	}
	if (statistics->max_count > 0) {
		format_time(when, sizeof when, statistics->max_count_time);
		log_info("statistics: max connection count %u for (%s) at %s",
		         statistics->max_count, statistics->max_count_key, when);
	}
	for (int kind = 0; kind < ANVIL_EVENTS; kind++) {
		if (statistics->max_event_rate[kind] == 0)
			continue;
		format_time(when, sizeof when, statistics->max_event_time[kind]);
		log_info("statistics: max %s rate %u/%ds for (%s) at %s", event_names[kind],
		         statistics->max_event_rate[kind], var_anvil_rate_time_unit,
		         statistics->max_event_key[kind], when);
	}
	if (statistics->max_entries > 0) {
		format_time(when, sizeof when, statistics->max_entries_time);
		log_info("statistics: max cache size %zu at %s", statistics->max_entries, when);
	}
	anvil_table_reset_statistics(anvil_table);
}

static void
status_timer(void *context)
{
	(void)context;
	log_statistics();
	event_timer(server_event_loop(), (int64_t)var_anvil_status_update_time * 1000, status_timer,
	            NULL);
}

static void
expire_timer(void *context)
{
	(void)context;
	anvil_table_expire(anvil_table, event_now_ms());
	event_timer(server_event_loop(), (int64_t)var_anvil_rate_time_unit * 1000, expire_timer,
	            NULL);
}

static void
anvil_pre_jail(int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		log_fatal("unexpected command-line argument: %s", argv[0]);
	/* The counters are the state: never retire for use or idleness. */
	var_max_use = INT_MAX;
	var_max_idle = INT_MAX;
}

static void
anvil_post_jail(void)
{
	anvil_table = anvil_table_new((int64_t)var_anvil_rate_time_unit * 1000);
	event_timer(server_event_loop(), (int64_t)var_anvil_status_update_time * 1000, status_timer,
	            NULL);
	event_timer(server_event_loop(), (int64_t)var_anvil_rate_time_unit * 1000, expire_timer,
	            NULL);
}

static void
anvil_pre_exit(void)
{
	log_statistics();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = anvil_pre_jail,
	    .post_jail = anvil_post_jail,
	    .serve = anvil_serve,
	    .pre_exit = anvil_pre_exit,
	};

	return server_main(argc, argv, "anvil", SERVER_MULTI, &callbacks);
}
