/*
 * local_notice - the "delivered" notice (RFC 3464, Action: delivered,
 * Status: 2.0.0) for local recipients whose sender asked for
 * NOTIFY=SUCCESS, sent once the delivery marks are durable.
 *
 * It comes after the marks, so a failure to queue it (logged) loses the
 * notice and never repeats the delivery; a recipient found already done
 * (a retry after a crash) gets none, so none is sent twice. lib/bounce
 * keeps only the entries whose NOTIFY asks for success and builds the
 * report; cleanup queues it from the null sender.
 */
#include <stdlib.h>
#include <time.h>

#include "bounce.h"
#include "cleanup_client.h"
#include "delivery.h"
#include "local.h"
#include "log.h"
#include "recipient_log.h"
#include "xalloc.h"

void
local_notify_delivered(const struct delivery_request *request,
                       const struct queue_message *envelope, int queue_fd,
                       const struct local_result *results, const bool *is_new)
{
	struct recipient_log_entry *entries = NULL;
	size_t count = 0;

	for (size_t i = 0; i < request->recipient_count; i++) {
		const struct queue_recipient *recipient =
		    &envelope->recipients[request->recipients[i].queue_index];

		if (!is_new[i] || results[i].status != LOCAL_SENT ||
		    !(recipient->notify & CLEANUP_NOTIFY_SUCCESS))
			continue;
		if (entries == NULL)
			entries = xcalloc(request->recipient_count, sizeof(*entries));
		entries[count++] = (struct recipient_log_entry){
		    .queue_index = request->recipients[i].queue_index,
		    .address = recipient->address,
		    .original = recipient->original,
		    .orcpt = recipient->orcpt,
		    .notify = recipient->notify,
		    .action = "delivered",
		    .dsn = results[i].dsn,
		    .reason = results[i].text,
		    .relay = "local",
		    .diagnostic = "",
		    .remote_mta = "",
		    .time = (int64_t)time(NULL),
		};
	}
	if (count == 0)
		return;
	{
		struct bounce_request notice = {
		    .kind = BOUNCE_SUCCESS,
		    .message = envelope,
		    .queue_fd = queue_fd,
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
	free(entries);
}
