/*
 * local - the local delivery agent: delivers mail for this host's users
 * to their mailboxes, through aliases, .forward files, commands and
 * files, as Postfix's local(8) does (docs/local.md).
 *
 * A SERVER_SINGLE daemon (master.cf: "local unix - n n - - local"; unpriv
 * n, so a system instance keeps root in order to become each recipient).
 * One connection is one delivery request from the queue manager
 * (lib/delivery.h). For it, local:
 *   1. reads the request strictly, opens the named queue file read-write
 *      and checks that the request names its records (delivery_request_
 *      match); anything wrong defers the whole request;
 *   2. delivers each recipient not already marked done (deliver.c), one
 *      Postfix-form log line per destination;
 *   3. marks the delivered recipients done in place and makes the marks
 *      durable with one fdatasync of the queue file;
 *   4. only then sends one result per recipient and the end frame.
 * A crash before 3 leaves the recipients pending: they are delivered
 * again (at least once, never lost); a crash after 3 never repeats them.
 * If the marks cannot be made durable the delivered recipients are
 * reported deferred, with the same consequence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "dstring.h"
#include "local.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "server.h"
#include "stream.h"
#include "xalloc.h"

static void
local_pre_jail(int argc, char **argv)
{
	if (local_is_root()) {
		if (local_identity_lookup(var_default_privs, &local_default_privileges) < 0)
			log_fatal("default_privs: unknown user \"%s\"", var_default_privs);
		if (local_default_privileges.uid == 0)
			log_fatal("default_privs: \"%s\" has uid 0; it must be an "
			          "unprivileged user",
			          var_default_privs);
	} else if (local_identity_lookup_uid(geteuid(), &local_default_privileges) < 0) {
		log_fatal("cannot find uid %ld in the password file", (long)geteuid());
	}
	local_alias_open();
}

static void
local_post_jail(void)
{
	umask(077);
}

static void
local_pre_exit(void)
{
	local_alias_close();
	local_identity_fini(&local_default_privileges);
}

/* is_queue_name: the queues a request may name (never a path). */
static bool
is_queue_name(const char *name)
{
	return strcmp(name, QUEUE_ACTIVE) == 0 || strcmp(name, QUEUE_DEFERRED) == 0 ||
	       strcmp(name, QUEUE_INCOMING) == 0 || strcmp(name, QUEUE_HOLD) == 0;
}

/* defer_all: every recipient of the request gets the same temporary failure. */
static void
fill_all(struct local_result *results, size_t count, const char *reason)
{
	for (size_t i = 0; i < count; i++)
		local_result_set(&results[i], LOCAL_DEFERRED, "4.3.0", "%s", reason);
}

static void
log_all(const struct delivery_request *request, const struct local_result *results)
{
	for (size_t i = 0; i < request->recipient_count; i++) {
		struct delivery_result result = {
		    .recipient = (uint32_t)i,
		    .action = DELIVERY_DEFERRED,
		    .dsn = results[i].dsn,
		    .reason = results[i].text,
		    .relay = "local",
		};
		delivery_log_result(request, &result, 0);
	}
}

/* deliver_request: steps 1-3 above; results get one entry per recipient. */
static void
deliver_request(const struct delivery_request *request, struct local_result *results)
{
	struct local_message message;
	struct dstring path, error;
	bool is_marked = false, *is_new = xcalloc(request->recipient_count + 1, sizeof(bool));

	memset(&message, 0, sizeof(message));
	strlist_init(&message.delivered_to);
	message.request = request;
	message.fd = -1;
	message.started = time(NULL);
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	if (!is_queue_name(request->queue_name) || !queue_id_is_valid(request->queue_id)) {
		fill_all(results, request->recipient_count,
		         "bad queue name or queue ID in request");
		log_all(request, results);
		goto done;
	}
	queue_dir_path(&path, NULL, request->queue_name, request->queue_id);
	message.fd = open(dstring_str(&path), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (message.fd < 0) {
		dstring_printf(&error, "cannot open queue file %s: %s", dstring_str(&path),
		               strerror(errno));
		fill_all(results, request->recipient_count, dstring_str(&error));
		log_all(request, results);
		goto done;
	}
	if (queue_file_read(message.fd, &message.envelope, &error) < 0 ||
	    delivery_request_match(request, &message.envelope, &error) < 0) {
		struct dstring reason;

		dstring_init(&reason, 2048);
		dstring_printf(&reason, "queue file %s: %s", dstring_str(&path),
		               dstring_str(&error));
		fill_all(results, request->recipient_count, dstring_str(&reason));
		log_all(request, results);
		dstring_fini(&reason);
		goto done;
	}
	local_message_read_delivered(&message);
	for (size_t i = 0; i < request->recipient_count; i++) {
		const struct queue_recipient *recipient =
		    &message.envelope.recipients[request->recipients[i].queue_index];
		struct local_recipient_state state;

		if (recipient->status == QUEUE_RECIPIENT_DONE) {
			local_result_set(&results[i], LOCAL_SENT, "2.0.0", "already delivered");
			continue;
		}
		memset(&state, 0, sizeof(state));
		state.message = &message;
		state.recipient = recipient;
		state.request_index = (uint32_t)i;
		strlist_init(&state.seen);
		strlist_init(&state.forward);
		local_deliver_recipient(&state);
		if (state.leaves == 0) {
			struct local_context top = {.address = recipient->address};
			struct local_result nothing;

			local_result_set(&nothing, LOCAL_SENT, "2.0.0",
			                 "discarded: the expansion has no new destination");
			local_record(&state, &top, recipient->address, &nothing);
		}
		if (state.has_deferred || state.has_bounced)
			results[i] = state.first_problem;
		else
			local_result_set(&results[i], LOCAL_SENT, "2.0.0", "%s", state.first_sent);
		/* Step 3: the mark, made durable below before any result is sent. */
		if (results[i].status == LOCAL_SENT) {
			if (queue_file_mark_done(message.fd, recipient, QUEUE_RECIPIENT_DONE) < 0)
				local_result_set(&results[i], LOCAL_DEFERRED, "4.3.0",
				                 "delivered, but cannot mark the queue file: %s",
				                 strerror(errno));
			else
				is_marked = is_new[i] = true;
		}
		strlist_fini(&state.seen);
		strlist_fini(&state.forward);
		free(state.forward_sender);
	}
	if (is_marked && fdatasync(message.fd) < 0) {
		log_error("%s: fdatasync %s: %s", request->queue_id, dstring_str(&path),
		          strerror(errno));
		for (size_t i = 0; i < request->recipient_count; i++)
			if (results[i].status == LOCAL_SENT)
				local_result_set(&results[i], LOCAL_DEFERRED, "4.3.0",
				                 "delivered, but cannot sync the queue file");
	} else if (is_marked) {
		local_notify_delivered(request, &message.envelope, message.fd, results, is_new);
	}
done:
	free(is_new);
	if (message.fd >= 0)
		close(message.fd);
	queue_message_fini(&message.envelope);
	strlist_fini(&message.delivered_to);
	dstring_fini(&path);
	dstring_fini(&error);
}

static void
local_serve(int fd)
{
	struct stream *stream = stream_open(fd);
	struct delivery_request request;
	struct local_result *results = NULL;
	struct dstring error;

	dstring_init(&error, 1024);
	stream_set_timeout(stream, var_ipc_timeout * 1000);
	if (delivery_request_receive(stream, &request, &error) < 0) {
		log_warning("bad delivery request: %s", dstring_str(&error));
		goto done;
	}
	results = xcalloc(request.recipient_count, sizeof(*results));
	deliver_request(&request, results);
	for (size_t i = 0; i < request.recipient_count; i++) {
		struct delivery_result reply = {
		    .recipient = (uint32_t)i,
		    .action = results[i].status == LOCAL_SENT       ? DELIVERY_DELIVERED
		              : results[i].status == LOCAL_DEFERRED ? DELIVERY_DEFERRED
		                                                    : DELIVERY_BOUNCED,
		    .dsn = results[i].dsn,
		    .reason = results[i].text,
		    .relay = "local",
		};
		if (delivery_result_send(stream, &reply) < 0)
			break;
	}
	if (delivery_end_send(stream) < 0)
		log_warning("%s: cannot send the results: %s", request.queue_id,
		            strerror(stream_error_code(stream)));
done:
	free(results);
	delivery_request_fini(&request);
	stream_flush(stream);
	stream_free(stream);
	dstring_fini(&error);
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = local_pre_jail,
	    .post_jail = local_post_jail,
	    .serve = local_serve,
	    .pre_exit = local_pre_exit,
	};

	return server_main(argc, argv, "local", SERVER_SINGLE, &callbacks);
}
