/*
 * cleanup - the cleanup daemon: receives a message from pickup or smtpd
 * over the cleanup protocol (docs/protocol.md), writes the queue file
 * (docs/queue.md), and answers only after the file is durable.
 *
 * A SERVER_MULTI daemon: one process serves many clients on the event
 * loop, which is what lets their queue files share flushes (group commit,
 * cleanup_commit.c). Each client is a small state machine fed by
 * non-blocking reads: bytes go into a buffer, and each complete
 * attribute frame (attr_proto.h) is handled at once. A client that sends
 * nothing for $ipc_timeout is dropped, and its file removed.
 *
 * What it trusts: nothing from the client. Frames are bounded
 * (ATTR_FRAME_MAX), the reader is strict, the content is bounded by
 * message_size_limit and parsed by cleanup_message.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr_proto.h"
#include "cleanup.h"
#include "cleanup_client.h"
#include "config.h"
#include "durable.h"
#include "event.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "server.h"
#include "xalloc.h"

struct durable *cleanup_durable;

enum { READ_CHUNK = 65536 };

/* Clients connected now (the group commit asks whether any is still writing). */
static unsigned long clients_connected;

unsigned long
cleanup_clients_connected(void)
{
	return clients_connected;
}

static void client_event(int fd, unsigned events, void *context);

static void
state_free(struct cleanup_state *state)
{
	if (state->has_timer)
		event_cancel_timer(server_event_loop(), state->timer);
	cleanup_commit_forget(state);
	cleanup_message_discard(state);
	cleanup_state_free_message(state);
	dstring_fini(&state->input);
	dstring_fini(&state->output);
	free(state->sender);
	free(state->full_name);
	for (size_t i = 0; i < state->attribute_count; i++) {
		free(state->attributes[i].name);
		free(state->attributes[i].value);
	}
	for (size_t i = 0; i < state->recipient_count; i++) {
		free(state->recipients[i].address);
		free(state->recipients[i].original);
		free(state->recipients[i].orcpt);
	}
	free(state->recipients);
	free(state->error_reason);
	free(state);
	clients_connected--;
}

static void
client_done(struct cleanup_state *state)
{
	int fd = state->fd;

	state_free(state);
	server_client_done(fd);
}

void
cleanup_fail(struct cleanup_state *state, int status, const char *format, ...)
{
	va_list args;
	struct dstring reason;

	if (state->error_status != 0)
		return; /* the first error is the one reported */
	dstring_init(&reason, 1000);
	va_start(args, format);
	dstring_append_vprintf(&reason, format, args);
	va_end(args);
	state->error_status = status;
	state->error_reason = dstring_steal(&reason);
	dstring_fini(&reason);
	/* Nothing of a failed message stays on disk. */
	cleanup_message_discard(state);
}

/*
 * A queued message whose client went away before it could be told: the
 * client still has its copy (pickup's maildrop file, the SMTP client's
 * message) and will send it again, so this one goes, and a crash of a
 * client with many messages in flight does not queue them all twice. The
 * queue manager may have moved it on already: then it stays (a
 * duplicate, never a loss).
 */
static void
remove_unacknowledged(struct cleanup_state *state)
{
	struct dstring path;

	dstring_init(&path, DSTRING_NO_LIMIT);
	queue_dir_path(&path, var_queue_directory, QUEUE_INCOMING, state->queue_id);
	if (unlink(path.data) == 0)
		log_info("%s: removed: the client did not get the reply", state->queue_id);
	dstring_fini(&path);
}

/* Try to send what is in state->output; close when all is sent. */
static void
send_output(struct cleanup_state *state)
{
	while (state->output.length > 0) {
		ssize_t n = send(state->fd, state->output.data, state->output.length,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_watch(server_event_loop(), state->fd, EVENT_WRITE, client_event,
			            state);
			return;
		}
		if (n < 0) {
			log_info("%s: client went away before the reply: %m",
			         state->queue_id[0] ? state->queue_id : "NOQUEUE");
			if (state->error_status == 0)
				remove_unacknowledged(state);
			client_done(state);
			return;
		}
		memmove(state->output.data, state->output.data + n,
		        state->output.length - (size_t)n);
		dstring_truncate(&state->output, state->output.length - (size_t)n);
	}
	client_done(state);
}

/* cleanup_reply: send the verdict and finish with the client. */
void
cleanup_reply(struct cleanup_state *state)
{
	struct attr_writer writer;
	const void *frame;
	size_t length;
	const char *id = state->queue_id[0] ? state->queue_id : "NOQUEUE";

	attr_writer_init(&writer);
	if (state->error_status == 0) {
		attr_put_int(&writer, "status", 0);
		attr_put_string(&writer, "queue_id", state->queue_id);
		attr_put_string(&writer, "reason", "");
		log_info("%s: message-id=%s", id, state->message_id ? state->message_id : "");
	} else {
		attr_put_int(&writer, "status", state->error_status);
		attr_put_string(&writer, "queue_id", "");
		attr_put_string(&writer, "reason", state->error_reason);
		log_info("%s: %s: %s", id, state->error_status == 5 ? "reject" : "defer",
		         state->error_reason);
	}
	frame = attr_writer_frame(&writer, &length);
	dstring_append(&state->output, frame, length);
	attr_writer_fini(&writer);
	state->phase = PHASE_REPLIED;
	if (state->has_timer) {
		event_cancel_timer(server_event_loop(), state->timer);
		state->has_timer = false;
	}
	event_unwatch(server_event_loop(), state->fd);
	send_output(state);
}

static void
add_attribute(struct cleanup_state *state, const char *name, const char *value)
{
	state->attributes[state->attribute_count].name = xstrdup(name);
	state->attributes[state->attribute_count].value = xstrdup(value);
	state->attribute_count++;
}

/*
 * send_early_queue_id: with CLEANUP_FLAG_EARLY_QUEUE_ID, the frame that
 * gives the client the queue ID right after the envelope ("" when the
 * message has failed already). A new connection's socket buffer always
 * takes these few bytes: a client for which it does not is dropped.
 */
static int
send_early_queue_id(struct cleanup_state *state)
{
	struct attr_writer writer;
	const void *frame;
	size_t length;
	ssize_t sent;

	attr_writer_init(&writer);
	attr_put_string(&writer, "queue_id", state->error_status == 0 ? state->queue_id : "");
	frame = attr_writer_frame(&writer, &length);
	sent = send(state->fd, frame, length, MSG_DONTWAIT | MSG_NOSIGNAL);
	attr_writer_fini(&writer);
	if (sent != (ssize_t)length) {
		log_info("%s: cannot send the queue ID to the client",
		         state->queue_id[0] ? state->queue_id : "NOQUEUE");
		return -1;
	}
	return 0;
}

static int
handle_envelope(struct cleanup_state *state, struct attr_reader *reader)
{
	int64_t version, flags, uid, arrival;
	const char *sender, *full_name, *values[10];
	int64_t smtputf8;
	/*
	 * tls_info is kept for the Received: header only, not in the queue
	 * file; body is the declared body type (BODY=, sendmail -B), checked
	 * below because smtp passes it on to the next server.
	 */
	static const char *const names[10] = {
	    "envid",          "ret",         "protocol",      "helo",     "client_name",
	    "client_address", "sasl_method", "sasl_username", "tls_info", "body",
	};
	struct dstring rewritten;

	attr_get_int(reader, "version", &version);
	attr_get_int(reader, "flags", &flags);
	attr_get_string(reader, "sender", &sender);
	attr_get_string(reader, "full_name", &full_name);
	attr_get_int(reader, "uid", &uid);
	attr_get_int(reader, "arrival_time", &arrival);
	for (int i = 0; i < 10; i++)
		attr_get_string(reader, names[i], &values[i]);
	attr_get_int(reader, "smtputf8", &smtputf8);
	if (attr_reader_end(reader) < 0)
		return -1;
	if (version != 1) {
		cleanup_fail(state, 4, "4.3.0 unsupported cleanup protocol version");
		return 0;
	}
	state->flags = (unsigned)flags & (CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_EXTRACT_RECIPIENTS |
	                                  CLEANUP_FLAG_REMOVE_BCC | CLEANUP_FLAG_EARLY_QUEUE_ID);
	state->uid = uid;
	state->full_name = xstrdup(full_name);
	if (cleanup_message_begin(state) < 0)
		return 0;
	state->arrival_microseconds = arrival > 0 && arrival < 100000000000LL
	                                  ? arrival * 1000000
	                                  : queue_id_time(state->queue_id);
	dstring_init(&rewritten, DSTRING_NO_LIMIT);
	if (cleanup_rewrite(sender, CLEANUP_ENVELOPE_SENDER, true, &rewritten) < 0)
		cleanup_fail(state, 4, "%s", rewritten.data);
	state->sender = xstrdup(state->error_status == 0 ? rewritten.data : sender);
	dstring_fini(&rewritten);
	if (full_name[0] != '\0')
		add_attribute(state, "full_name", full_name);
	if (uid >= 0) {
		char text[32];

		snprintf(text, sizeof(text), "%lld", (long long)uid);
		add_attribute(state, "uid", text);
	}
	for (int i = 0; i < 9; i++)
		add_attribute(state, names[i], values[i]);
	/* Only the two RFC 6152 words; anything else is dropped, not stored. */
	if (strcasecmp(values[9], "8BITMIME") == 0)
		add_attribute(state, QUEUE_ATTR_BODY, "8BITMIME");
	else if (strcasecmp(values[9], "7BIT") == 0)
		add_attribute(state, QUEUE_ATTR_BODY, "7BIT");
	if (smtputf8 != 0)
		add_attribute(state, QUEUE_ATTR_SMTPUTF8, "yes");
	if ((state->flags & CLEANUP_FLAG_EARLY_QUEUE_ID) && send_early_queue_id(state) < 0)
		return -1;
	return 0;
}

static int
handle_recipient(struct cleanup_state *state, struct attr_reader *reader)
{
	const char *address, *original, *orcpt;
	int64_t notify;
	struct dstring rewritten;

	attr_get_string(reader, "address", &address);
	attr_get_string(reader, "original", &original);
	attr_get_string(reader, "orcpt", &orcpt);
	attr_get_int(reader, "notify", &notify);
	if (attr_reader_end(reader) < 0)
		return -1;
	if (state->error_status != 0)
		return 0;
	if (address[0] == '\0') {
		cleanup_fail(state, 5, "5.1.3 empty recipient address");
		return 0;
	}
	if (state->recipient_count >= CLEANUP_RECIPIENTS_MAX) {
		cleanup_fail(state, 5, "5.5.3 too many recipients");
		return 0;
	}
	dstring_init(&rewritten, DSTRING_NO_LIMIT);
	if (cleanup_rewrite(address, CLEANUP_ENVELOPE_RECIPIENT, true, &rewritten) < 0) {
		cleanup_fail(state, 4, "%s", rewritten.data);
	} else {
		if (state->recipient_count == state->recipient_capacity) {
			state->recipient_capacity =
			    state->recipient_capacity ? 2 * state->recipient_capacity : 8;
			state->recipients =
			    xreallocarray(state->recipients, state->recipient_capacity,
			                  sizeof(*state->recipients));
		}
		state->recipients[state->recipient_count].address = xstrdup(rewritten.data);
		state->recipients[state->recipient_count].original =
		    xstrdup(var_enable_original_recipient ? original : "");
		state->recipients[state->recipient_count].orcpt = xstrdup(orcpt);
		state->recipients[state->recipient_count].notify = (unsigned)notify & 15;
		state->recipient_count++;
	}
	dstring_fini(&rewritten);
	return 0;
}

/*
 * Handle one frame's payload. Returns 0 to go on reading, 1 after the
 * end of the message (state may be gone: touch it no more), -1 on a
 * protocol error (the caller drops the client).
 */
static int
handle_frame(struct cleanup_state *state, const char *payload, size_t length)
{
	struct attr_reader reader;
	const char *request;

	attr_reader_init(&reader, payload, length);
	if (attr_get_string(&reader, "request", &request) < 0)
		return -1;
	if (state->phase == PHASE_ENVELOPE) {
		if (strcmp(request, "envelope") != 0)
			return -1;
		state->phase = PHASE_RECIPIENTS;
		return handle_envelope(state, &reader);
	}
	if (strcmp(request, "recipient") == 0)
		return handle_recipient(state, &reader);
	if (strcmp(request, "content") == 0) {
		const void *data;
		size_t data_length;

		attr_get_data(&reader, "data", &data, &data_length);
		if (attr_reader_end(&reader) < 0)
			return -1;
		cleanup_message_content(state, data, data_length);
		return 0;
	}
	if (strcmp(request, "end") == 0) {
		int64_t size;

		attr_get_int(&reader, "size", &size);
		if (attr_reader_end(&reader) < 0)
			return -1;
		if (size != state->content_received)
			cleanup_fail(state, 4, "4.3.0 content size mismatch: lost data");
		cleanup_message_end(state);
		state->phase = PHASE_COMMIT;
		event_unwatch(server_event_loop(), state->fd);
		if (state->error_status != 0)
			cleanup_reply(state); /* may free state */
		else
			cleanup_commit_add(state);
		return 1;
	}
	return -1;
}

static void
protocol_error(struct cleanup_state *state, const char *reason)
{
	log_warning("%s: protocol error from client: %s",
	            state->queue_id[0] ? state->queue_id : "NOQUEUE", reason);
	client_done(state);
}

static void
client_timeout(void *context)
{
	struct cleanup_state *state = context;

	state->has_timer = false;
	log_warning("%s: timeout reading from the client",
	            state->queue_id[0] ? state->queue_id : "NOQUEUE");
	client_done(state);
}

static void
client_event(int fd, unsigned events, void *context)
{
	struct cleanup_state *state = context;
	size_t offset = 0;

	(void)fd;
	if (state->phase == PHASE_REPLIED) {
		send_output(state);
		return;
	}
	for (;;) {
		ssize_t n;

		/* Make room for one more chunk (the buffer holds less than a frame). */
		if (state->input.capacity < state->input.length + READ_CHUNK + 1) {
			static const char zeros[READ_CHUNK];
			size_t before = state->input.length;

			if (dstring_append(&state->input, zeros, READ_CHUNK) < 0)
				log_panic("cleanup: input buffer over its limit");
			dstring_truncate(&state->input, before);
		}
		n = recv(state->fd, state->input.data + state->input.length, READ_CHUNK,
		         MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n < 0)
				log_info("read from client: %m");
			log_info("%s: client went away before the end of the message",
			         state->queue_id[0] ? state->queue_id : "NOQUEUE");
			client_done(state);
			return;
		}
		state->input.length += (size_t)n;
		state->input.data[state->input.length] = '\0';
		/* Parse every complete frame. */
		for (;;) {
			size_t frame_length;
			enum attr_frame_status status =
			    attr_frame_check(state->input.data + offset,
			                     state->input.length - offset, &frame_length);

			if (status == ATTR_FRAME_INVALID) {
				protocol_error(state, "frame too large");
				return;
			}
			if (status == ATTR_FRAME_INCOMPLETE)
				break;
			int handled =
			    handle_frame(state, state->input.data + offset + ATTR_FRAME_HEADER,
			                 frame_length - ATTR_FRAME_HEADER);

			if (handled < 0) {
				protocol_error(state, "malformed or unexpected request");
				return;
			}
			if (handled > 0)
				return; /* bytes after the end frame are ignored */
			offset += frame_length;
		}
		if (offset > 0) {
			memmove(state->input.data, state->input.data + offset,
			        state->input.length - offset);
			dstring_truncate(&state->input, state->input.length - offset);
			offset = 0;
		}
	}
	if (state->has_timer)
		event_cancel_timer(server_event_loop(), state->timer);
	state->timer = event_timer(server_event_loop(), (int64_t)var_ipc_timeout * 1000,
	                           client_timeout, state);
	state->has_timer = true;
}

static void
cleanup_serve(int fd)
{
	struct cleanup_state *state = xcalloc(1, sizeof(*state));

	clients_connected++;
	state->fd = fd;
	state->temp_fd = -1;
	state->phase = PHASE_ENVELOPE;
	dstring_init(&state->input, ATTR_FRAME_MAX + READ_CHUNK + 16);
	dstring_init(&state->output, DSTRING_NO_LIMIT);
	state->timer = event_timer(server_event_loop(), (int64_t)var_ipc_timeout * 1000,
	                           client_timeout, state);
	state->has_timer = true;
	event_watch(server_event_loop(), fd, EVENT_READ, client_event, state);
	/* The client has usually sent its message already: read it now. */
	client_event(fd, EVENT_READ, state);
}

static void
cleanup_pre_jail(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cleanup_rewrite_init();
}

static void
cleanup_post_jail(void)
{
	struct dstring error;

	dstring_init(&error, 1000);
	if (queue_dir_create(var_queue_directory, &error) < 0)
		log_fatal("%s", error.data);
	cleanup_durable = durable_open(var_queue_directory, &error);
	if (cleanup_durable == NULL)
		log_fatal("%s", error.data);
	dstring_fini(&error);
	cleanup_remove_stale_temp_files();
}

static void
cleanup_pre_exit(void)
{
	if (cleanup_durable != NULL)
		cleanup_commit_statistics();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = cleanup_pre_jail,
	    .post_jail = cleanup_post_jail,
	    .serve = cleanup_serve,
	    .pre_exit = cleanup_pre_exit,
	};

	return server_main(argc, argv, "cleanup", SERVER_MULTI, &callbacks);
}
