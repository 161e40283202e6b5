/*
 * smtp - the SMTP delivery agent: relays mail to other mail servers, by
 * MX or through a relay host, as Postfix's smtp(8) does (docs/smtp.md).
 *
 * A SERVER_SINGLE daemon (master.cf: "smtp unix - - n - - smtp" and
 * "relay unix - - n - - smtp"). One connection is one delivery request
 * from the queue manager (lib/delivery.h). For it, smtp:
 *   1. reads the request strictly, opens the queue file read-write and
 *      checks the request against it; anything wrong defers the request;
 *   2. locks each recipient's status byte (a recipient already done is
 *      reported delivered and not sent again);
 *   3. finds the servers of the next hop and talks to them in turn
 *      (smtp_session.c) until every recipient has an outcome or no server
 *      is left;
 *   4. marks the delivered recipients done, makes the marks durable with
 *      one fdatasync, and only then logs and sends the results.
 * A recipient is delivered only when the server answered 2xx to its RCPT
 * TO and 250 to the end of DATA. A crash before 4 sends the message again
 * later (at least once, never lost).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "cleanup_client.h"
#include "config.h"
#include "delivery.h"
#include "dstring.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "recipient_log.h"
#include "server.h"
#include "smtp.h"
#include "stream.h"
#include "strlist.h"
#include "table.h"
#include "xalloc.h"

static void settle_va(struct smtp_state *state, size_t index, enum delivery_action action,
                      const char *dsn, const char *relay, const char *format, va_list args)
    __attribute__((format(printf, 6, 0)));

static void
settle_va(struct smtp_state *state, size_t index, enum delivery_action action, const char *dsn,
          const char *relay, const char *format, va_list args)
{
	struct smtp_result *result = &state->results[index];
	struct dstring reason;

	if (result->is_settled)
		return;
	dstring_init(&reason, DELIVERY_REASON_MAX);
	dstring_append_vprintf(&reason, format, args);
	if (reason.has_overflowed && dstring_length(&reason) == 0)
		dstring_set(&reason, "(reason too long)");
	result->is_settled = true;
	result->action = action;
	/* The class must agree with the action (delivery.h); fix a server's odd code. */
	if (dsn == NULL || !delivery_dsn_is_valid(dsn) ||
	    dsn[0] != (action == DELIVERY_DELIVERED  ? '2'
	               : action == DELIVERY_DEFERRED ? '4'
	                                             : '5'))
		dsn = action == DELIVERY_DELIVERED  ? "2.0.0"
		      : action == DELIVERY_DEFERRED ? "4.0.0"
		                                    : "5.0.0";
	memcpy(result->dsn, dsn, strlen(dsn) + 1);
	free(result->reason);
	result->reason = dstring_steal(&reason);
	free(result->relay);
	result->relay = xstrdup(relay != NULL ? relay : "none");
	dstring_fini(&reason);
	state->pending--;
}

void
smtp_settle(struct smtp_state *state, size_t index, enum delivery_action action, const char *dsn,
            const char *relay, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	settle_va(state, index, action, dsn, relay, format, args);
	va_end(args);
}

void
smtp_settle_pending(struct smtp_state *state, enum delivery_action action, const char *dsn,
                    const char *relay, const char *format, ...)
{
	for (size_t i = 0; i < state->request->recipient_count; i++) {
		va_list args;

		if (state->results[i].is_settled)
			continue;
		va_start(args, format);
		settle_va(state, i, action, dsn, relay, format, args);
		va_end(args);
	}
}

static bool
is_queue_name(const char *name)
{
	return strcmp(name, QUEUE_ACTIVE) == 0 || strcmp(name, QUEUE_DEFERRED) == 0 ||
	       strcmp(name, QUEUE_INCOMING) == 0 || strcmp(name, QUEUE_HOLD) == 0;
}

/* open_message: steps 1 and 2. -1 when the whole request was deferred. */
static int
open_message(struct smtp_state *state)
{
	const struct delivery_request *request = state->request;
	struct dstring path, error;
	int status = -1;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	if (!is_queue_name(request->queue_name) || !queue_id_is_valid(request->queue_id)) {
		smtp_settle_pending(state, DELIVERY_DEFERRED, "4.3.0", NULL,
		                    "bad queue name or queue ID in request");
		goto done;
	}
	queue_dir_path(&path, NULL, request->queue_name, request->queue_id);
	state->fd = open(dstring_str(&path), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (state->fd < 0) {
		smtp_settle_pending(state, DELIVERY_DEFERRED, "4.3.0", NULL,
		                    "cannot open queue file %s: %s", dstring_str(&path),
		                    strerror(errno));
		goto done;
	}
	if (queue_file_read(state->fd, &state->message, &error) < 0 ||
	    delivery_request_match(request, &state->message, &error) < 0) {
		smtp_settle_pending(state, DELIVERY_DEFERRED, "4.3.0", NULL, "queue file %s: %s",
		                    dstring_str(&path), dstring_str(&error));
		goto done;
	}
	for (size_t i = 0; i < request->recipient_count; i++) {
		int lock = delivery_recipient_lock(state->fd, &request->recipients[i]);

		if (lock == 1) {
			state->results[i].is_skipped = true;
			smtp_settle(state, i, DELIVERY_DELIVERED, "2.0.0", NULL,
			            "already delivered");
		} else if (lock < 0) {
			state->results[i].is_skipped = true;
			smtp_settle(state, i, DELIVERY_DEFERRED, "4.3.0", NULL,
			            "cannot lock the queue file: %s", strerror(errno));
		}
	}
	status = 0;
done:
	dstring_fini(&path);
	dstring_fini(&error);
	return status;
}

/* load_tls_policy: smtp_tls_security_level, or smtp_tls_policy_maps for this next hop. */
static void
load_tls_policy(struct smtp_state *state, const char *nexthop)
{
	int level = smtp_tls_level_parse(var_smtp_tls_security_level);

	if (level < 0) {
		log_warning("unknown smtp_tls_security_level \"%s\": using \"encrypt\"",
		            var_smtp_tls_security_level);
		level = SMTP_TLS_ENCRYPT;
	}
	state->tls_level = level;
	if (*var_smtp_tls_policy_maps != '\0') {
		struct table_list *maps =
		    table_list_open(var_smtp_tls_policy_maps, TABLE_FOLD_CASE);
		const char *value = NULL;
		enum table_result found = table_list_lookup(maps, nexthop, &value);

		if (found == TABLE_NOT_FOUND && state->is_bracketed)
			found = table_list_lookup(maps, state->nexthop_host, &value);
		if (found == TABLE_ERROR) {
			/* Fail safe: an unreadable policy must not weaken TLS. */
			log_warning("smtp_tls_policy_maps: %s: using \"secure\"", value);
			state->tls_level = SMTP_TLS_SECURE;
		} else if (found == TABLE_FOUND) {
			struct strlist words;

			strlist_init(&words);
			strlist_split(&words, value, " \t,", NULL);
			for (size_t i = 0; i < words.count; i++) {
				if (i == 0) {
					level = smtp_tls_level_parse(words.items[0]);
					if (level < 0) {
						log_warning(
						    "smtp_tls_policy_maps: unknown level \"%s\" "
						    "for %s: using \"secure\"",
						    words.items[0], nexthop);
						level = SMTP_TLS_SECURE;
					}
					state->tls_level = level;
				} else if (strncmp(words.items[i], "match=", 6) == 0) {
					free(state->tls_match);
					state->tls_match = xstrdup(words.items[i] + 6);
				}
			}
			strlist_fini(&words);
		}
		table_list_close(maps);
	}
}

/*
 * cache_allowed: whether a session to nexthop may be kept for the next
 * request: smtp_connection_cache_on_demand (every destination: qmgr does
 * not tell the agent about backlog, so "on demand" is taken as always),
 * or nexthop listed in smtp_connection_cache_destinations.
 */
static bool
cache_allowed(const char *nexthop)
{
	struct strlist names;
	bool is_listed = false;

	if (var_smtp_connection_cache_on_demand)
		return true;
	strlist_init(&names);
	strlist_split(&names, var_smtp_connection_cache_destinations, ", \t", NULL);
	for (size_t i = 0; i < names.count && !is_listed; i++)
		is_listed = strcasecmp(names.items[i], nexthop) == 0;
	strlist_fini(&names);
	return is_listed;
}

/* deliver: step 3, for the recipients still pending. */
static void
deliver(struct smtp_state *state)
{
	const struct delivery_request *request = state->request;
	struct smtp_target *targets = NULL;
	struct dstring reason;
	enum delivery_action action = DELIVERY_DEFERRED;
	char dsn[12] = "4.4.1";
	char relay[400] = "";
	size_t count, sessions = 0;
	struct dstring key, *cache_key;

	dstring_init(&reason, DELIVERY_REASON_MAX);
	dstring_init(&key, DSTRING_NO_LIMIT);
	if (smtp_nexthop_parse(state, request->next_hop, &reason) < 0) {
		smtp_settle_pending(state, DELIVERY_DEFERRED, "4.3.5", NULL, "%s",
		                    dstring_str(&reason));
		goto done;
	}
	load_tls_policy(state, request->next_hop);
	/* The connection cache's key: what must be equal for a session to serve this request. */
	cache_key = cache_allowed(request->next_hop) ? &key : NULL;
	dstring_printf(&key, "%s\n%d\n%s\n%s", request->next_hop, state->tls_level,
	               state->tls_match != NULL ? state->tls_match : "",
	               var_smtp_sender_dependent_authentication ? request->sender : "");
	if (cache_key != NULL && smtp_session_reuse(state, dstring_str(&key), &reason, dsn))
		goto done;
	count = smtp_targets_find(state, &targets, &action, dsn, &reason);
	if (count == 0) {
		smtp_settle_pending(state, action, dsn, NULL, "%s", dstring_str(&reason));
		if (action == DELIVERY_DEFERRED)
			state->is_destination_failure = true;
		goto done;
	}
	for (size_t i = 0; i < count && state->pending > 0; i++) {
		struct dstring error;
		int fd;
		bool is_plain_retry = false;

		dstring_init(&error, DELIVERY_REASON_MAX);
		fd = smtp_connect(&targets[i], &error);
		if (fd < 0) {
			log_info("%s: %s", request->queue_id, dstring_str(&error));
			dstring_set(&reason, dstring_str(&error));
			memcpy(dsn, "4.4.1", 6);
			dstring_fini(&error);
			continue;
		}
		dstring_fini(&error);
		if (state->connected_time == 0)
			state->connected_time = delivery_now();
		sessions++;
		snprintf(relay, sizeof(relay), "%s[%s]:%u", targets[i].host, targets[i].address,
		         targets[i].port);
		if (smtp_session_run(state, &targets[i], fd,
		                     cache_key != NULL ? dstring_str(cache_key) : NULL, &reason,
		                     dsn) == SMTP_SESSION_DONE)
			break;
		/* "may": the TLS handshake failed; the same server once more, in clear (Postfix).
		 */
		if (state->is_tls_failed && !is_plain_retry) {
			int level = state->tls_level;

			log_info("%s: %s; trying again without TLS", request->queue_id,
			         dstring_str(&reason));
			state->is_tls_failed = false;
			state->tls_level = SMTP_TLS_NONE;
			is_plain_retry = true;
			dstring_init(&error, DELIVERY_REASON_MAX);
			fd = smtp_connect(&targets[i], &error);
			dstring_fini(&error);
			if (fd >= 0 && smtp_session_run(state, &targets[i], fd, NULL, &reason,
			                                dsn) == SMTP_SESSION_DONE) {
				state->tls_level = level;
				break;
			}
			state->tls_level = level;
		}
		state->is_tls_failed = false;
		if (var_smtp_mx_session_limit > 0 && sessions >= (size_t)var_smtp_mx_session_limit)
			break;
	}
	if (state->pending > 0) {
		/* No server finished the job: the last reason stands for all. */
		enum delivery_action last = dsn[0] == '5' ? DELIVERY_BOUNCED : DELIVERY_DEFERRED;

		smtp_settle_pending(state, last, dsn, sessions > 0 ? relay : NULL, "%s",
		                    dstring_str(&reason));
		if (sessions == 0)
			state->is_destination_failure = true;
	}
done:
	free(targets);
	dstring_fini(&reason);
	dstring_fini(&key);
}

/* mark_delivered: step 4. */
static void
mark_delivered(struct smtp_state *state)
{
	const struct delivery_request *request = state->request;
	bool is_marked = false;

	for (size_t i = 0; i < request->recipient_count; i++) {
		struct smtp_result *result = &state->results[i];
		const struct queue_recipient *recipient;

		if (result->action != DELIVERY_DELIVERED || result->is_skipped)
			continue;
		recipient = &state->message.recipients[request->recipients[i].queue_index];
		if (queue_file_mark_done(state->fd, recipient, QUEUE_RECIPIENT_DONE) < 0) {
			log_error("%s: cannot mark the queue file: %s", request->queue_id,
			          strerror(errno));
			result->action = DELIVERY_DEFERRED;
			memcpy(result->dsn, "4.3.0", 6);
		} else {
			is_marked = true;
		}
	}
	if (is_marked && fdatasync(state->fd) < 0) {
		log_error("%s: fdatasync of the queue file: %s", request->queue_id,
		          strerror(errno));
		for (size_t i = 0; i < request->recipient_count; i++)
			if (state->results[i].action == DELIVERY_DELIVERED &&
			    !state->results[i].is_skipped) {
				/* Sent, but the mark may be lost: it may go out twice, never lost.
				 */
				state->results[i].action = DELIVERY_DEFERRED;
				memcpy(state->results[i].dsn, "4.3.0", 6);
			}
	}
}

/*
 * send_relayed_notice: step 5, for the recipients delivered to a server
 * without DSN that asked for NOTIFY=SUCCESS: one "relayed" notice
 * (Action: relayed, Status: 2.0.0) to the sender, as Postfix sends. It
 * comes after the marks are durable, so a failure to queue it (logged)
 * loses the notice, never repeats the delivery.
 */
static void
send_relayed_notice(struct smtp_state *state)
{
	const struct delivery_request *request = state->request;
	struct recipient_log_entry *entries;
	struct dstring *texts;
	size_t count = 0;

	for (size_t i = 0; i < request->recipient_count; i++)
		if (state->results[i].action == DELIVERY_DELIVERED &&
		    state->results[i].is_relayed && !state->results[i].is_skipped &&
		    (request->recipients[i].notify & CLEANUP_NOTIFY_SUCCESS))
			count++;
	if (count == 0)
		return;
	entries = xcalloc(count, sizeof(*entries));
	texts = xcalloc(2 * count, sizeof(*texts));
	count = 0;
	for (size_t i = 0; i < request->recipient_count; i++) {
		const struct smtp_result *result = &state->results[i];
		const struct queue_recipient *recipient =
		    &state->message.recipients[request->recipients[i].queue_index];
		struct dstring *reason = &texts[2 * count], *diagnostic = &texts[2 * count + 1];

		if (result->action != DELIVERY_DELIVERED || !result->is_relayed ||
		    result->is_skipped || !(request->recipients[i].notify & CLEANUP_NOTIFY_SUCCESS))
			continue;
		dstring_init(reason, DELIVERY_REASON_MAX + 512);
		dstring_init(diagnostic, DELIVERY_REASON_MAX + 16);
		/* Postfix's words: "delivery via mx.example[192.0.2.1]:25: 250 2.0.0 Ok". */
		dstring_printf(reason, "delivery via %s: %s", result->relay, result->reason);
		dstring_printf(diagnostic, "smtp; %s", result->reason);
		entries[count] = (struct recipient_log_entry){
		    .queue_index = request->recipients[i].queue_index,
		    .address = recipient->address,
		    .original = recipient->original,
		    .orcpt = recipient->orcpt,
		    .notify = recipient->notify,
		    .action = "relayed",
		    .dsn = result->dsn,
		    .reason = dstring_str(reason),
		    .relay = result->relay,
		    .diagnostic = dstring_str(diagnostic),
		    .remote_mta = "",
		    .time = (int64_t)time(NULL),
		};
		count++;
	}
	{
		struct bounce_request notice = {
		    .kind = BOUNCE_SUCCESS,
		    .message = &state->message,
		    .queue_fd = state->fd,
		    .entries = entries,
		    .entry_count = count,
		    .cleanup_path = CLEANUP_CLIENT_SERVICE_PATH,
		};
		struct bounce_result outcome;
		struct dstring error;

		dstring_init(&error, 1024);
		if (bounce_notify(&notice, &outcome, &error) < 0)
			log_warning("%s: sender delivery status notification not sent: %s",
			            request->queue_id, dstring_str(&error));
		dstring_fini(&error);
	}
	for (size_t i = 0; i < 2 * count; i++)
		dstring_fini(&texts[i]);
	free(texts);
	free(entries);
}

static void
smtp_serve(int fd)
{
	struct stream *stream = stream_open(fd);
	struct delivery_request request;
	struct smtp_state state;
	struct dstring error;

	memset(&state, 0, sizeof(state));
	state.fd = -1;
	dstring_init(&error, 1024);
	stream_set_timeout(stream, var_ipc_timeout * 1000);
	if (delivery_request_receive(stream, &request, &error) < 0) {
		log_warning("bad delivery request: %s", dstring_str(&error));
		goto done;
	}
	state.request = &request;
	state.results = xcalloc(request.recipient_count, sizeof(*state.results));
	state.pending = request.recipient_count;
	if (open_message(&state) == 0 && state.pending > 0)
		deliver(&state);
	mark_delivered(&state);
	if (state.fd >= 0)
		send_relayed_notice(&state);
	for (size_t i = 0; i < request.recipient_count; i++) {
		struct smtp_result *result = &state.results[i];
		struct delivery_result reply = {
		    .recipient = (uint32_t)i,
		    .action = result->action,
		    .dsn = result->dsn,
		    .reason = result->reason != NULL ? result->reason : "",
		    .relay = result->relay != NULL ? result->relay : "none",
		};

		delivery_log_result(&request, &reply, state.connected_time);
	}
	for (size_t i = 0; i < request.recipient_count; i++) {
		struct smtp_result *result = &state.results[i];
		struct delivery_result reply = {
		    .recipient = (uint32_t)i,
		    .action = result->action,
		    .dsn = result->dsn,
		    .reason = result->reason != NULL ? result->reason : "",
		    .relay = result->relay != NULL ? result->relay : "none",
		};

		if (delivery_result_send(stream, &reply) < 0)
			break;
	}
	if (delivery_end_send_status(stream, state.is_destination_failure) < 0)
		log_warning("%s: cannot send the results: %s", request.queue_id,
		            strerror(stream_error_code(stream)));
done:
	if (state.fd >= 0)
		close(state.fd);
	queue_message_fini(&state.message);
	if (state.results != NULL)
		for (size_t i = 0; i < request.recipient_count; i++) {
			free(state.results[i].reason);
			free(state.results[i].relay);
		}
	free(state.results);
	free(state.nexthop_host);
	free(state.tls_match);
	if (state.password_maps != NULL)
		table_list_close(state.password_maps);
	delivery_request_fini(&request);
	stream_flush(stream);
	stream_free(stream);
	dstring_fini(&error);
}

static void
smtp_pre_exit(void)
{
	smtp_session_cache_close();
}

static void
smtp_pre_jail(int argc, char **argv)
{
	if (var_smtp_sasl_auth_enable)
		smtp_auth_setup();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = smtp_pre_jail,
	    .serve = smtp_serve,
	    .pre_exit = smtp_pre_exit,
	};

	return server_main(argc, argv, "smtp", SERVER_SINGLE, &callbacks);
}
