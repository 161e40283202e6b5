/*
 * resubmit - forwarding to addresses that are not local (user@remote in
 * an alias or a .forward): like Postfix's local(8), local does not
 * deliver these itself but submits one new message to cleanup
 * ($queue_directory/public/cleanup) with all of one recipient's
 * forwarding addresses, the original envelope sender (or the owner-
 * alias), DSN ENVID and RET, and the content with a Delivered-To: header
 * for the recipient in front, so a message that comes back is seen as a
 * loop. The queue manager then routes the new message like any other.
 *
 * The forwarded addresses count as delivered only when cleanup answered
 * "queued" (the new queue file is durable); otherwise the recipient is
 * deferred and the forward is tried again with the next delivery.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "config.h"
#include "local.h"
#include "log.h"
#include "xalloc.h"

#define RESUBMIT_BLOCK 65536

void
local_resubmit(struct local_recipient_state *state)
{
	const struct local_message *message = state->message;
	const struct queue_message *envelope = &message->envelope;
	struct cleanup_envelope submission;
	struct cleanup_client *client;
	struct cleanup_result verdict;
	struct local_result result;
	struct local_context context = {.origin = LOCAL_FROM_FORWARD, .extension = ""};
	struct dstring error, header;
	char *block = NULL;
	int64_t at = envelope->content_offset, left = envelope->content_size;
	const char *ret = queue_message_attribute(envelope, QUEUE_ATTR_RET);

	if (state->forward.count == 0)
		return;
	dstring_init(&error, 1024);
	dstring_init(&header, DSTRING_NO_LIMIT);
	context.sender = state->forward_sender ? state->forward_sender : envelope->sender;
	client = cleanup_client_open(CLEANUP_CLIENT_SERVICE_PATH, var_ipc_timeout * 1000, &error);
	if (client == NULL) {
		local_result_set(&result, LOCAL_DEFERRED, "4.3.0", "cannot forward: %s",
		                 dstring_str(&error));
		goto report;
	}
	memset(&submission, 0, sizeof(submission));
	submission.sender = context.sender;
	submission.uid = -1;
	submission.envid = queue_message_attribute(envelope, QUEUE_ATTR_ENVID);
	submission.ret = ret ? ret : "";
	submission.protocol = "local";
	cleanup_client_envelope(client, &submission);
	for (size_t i = 0; i < state->forward.count; i++)
		cleanup_client_recipient(client, state->forward.items[i],
		                         state->recipient->original, NULL,
		                         state->recipient->notify);
	dstring_printf(&header, "Delivered-To: %s\n", state->recipient->address);
	cleanup_client_write(client, dstring_str(&header), dstring_length(&header));
	block = xmalloc(RESUBMIT_BLOCK);
	while (left > 0) {
		ssize_t n = pread(message->fd, block,
		                  left < RESUBMIT_BLOCK ? (size_t)left : RESUBMIT_BLOCK, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (cleanup_client_write(client, block, (size_t)n) < 0)
			break;
		at += n;
		left -= n;
	}
	if (left > 0) {
		local_result_set(&result, LOCAL_DEFERRED, "4.3.0",
		                 "cannot forward: queue file read error");
	} else if (cleanup_client_finish(client, &verdict) == 0) {
		local_result_set(&result, LOCAL_SENT, "2.0.0", "forwarded as %s", verdict.queue_id);
	} else if (verdict.status == CLEANUP_PERMFAIL) {
		local_result_set(&result, LOCAL_BOUNCED, "5.3.0", "cannot forward: %s",
		                 verdict.reason);
	} else {
		local_result_set(&result, LOCAL_DEFERRED, "4.3.0", "cannot forward: %s",
		                 verdict.reason);
	}
	cleanup_client_close(client);
report:
	for (size_t i = 0; i < state->forward.count; i++)
		local_record(state, &context, state->forward.items[i], &result);
	free(block);
	dstring_fini(&error);
	dstring_fini(&header);
}
