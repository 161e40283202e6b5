/*
 * qmgr_notice - where the queue manager hands outcomes to the bounce and
 * recipient-log modules (lib/bounce.h, lib/recipient_log.h).
 *
 * Built with QMGR_HAS_BOUNCE when those modules are part of the library
 * (qmgr/CMakeLists.txt checks); without them a bounce is only logged
 * ("not sent: no bounce support in this build") and counts as sent, so
 * the queue still drains.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstring.h"
#include "log.h"
#include "qmgr.h"
#include "queue_dir.h"
#include "xalloc.h"

#ifdef QMGR_HAS_BOUNCE
#include "bounce.h"
#include "recipient_log.h"

static struct recipient_log_entry *
make_entries(const struct qmgr_message *message, const struct qmgr_outcome *const *list,
	     size_t count, const char *action)
{
	struct recipient_log_entry *entries = xcalloc(count ? count : 1, sizeof(*entries));

	for (size_t i = 0; i < count; i++) {
		const struct queue_recipient *recipient =
		    &message->envelope.recipients[list[i]->index];

		entries[i] = (struct recipient_log_entry){
		    .queue_index = list[i]->index,
		    .address = recipient->address,
		    .original = recipient->original,
		    .orcpt = recipient->orcpt,
		    .notify = recipient->notify,
		    .action = action,
		    .dsn = list[i]->dsn,
		    .reason = list[i]->reason,
		    .relay = list[i]->relay,
		    .diagnostic = "",
		    .remote_mta = "",
		    .time = (int64_t)time(NULL),
		};
	}
	return entries;
}

/* One notice of kind for the outcomes in list; 0 queued (or none due), -1. */
static int
notify(struct qmgr_message *message, enum bounce_kind kind, const struct qmgr_outcome *const *list,
       size_t count, bool is_expired)
{
	struct recipient_log_entry *entries =
	    make_entries(message, list, count, kind == BOUNCE_FAILED ? "failed" : "delayed");
	struct bounce_request request = {
	    .kind = kind,
	    .message = &message->envelope,
	    .queue_fd = message->fd,
	    .entries = entries,
	    .entry_count = count,
	    .is_expired = is_expired,
	    .cleanup_path = "public/cleanup",
	};
	struct bounce_result result;
	struct dstring error;
	int status;

	dstring_init(&error, 1024);
	status = bounce_notify(&request, &result, &error);
	if (status != 0)
		log_warning("%s: sender %s notification not sent: %s: will retry",
			    message->queue_id, kind == BOUNCE_FAILED ? "non-delivery" : "delay",
			    error.data);
	dstring_fini(&error);
	free(entries);
	return status;
}

int
qmgr_notice_bounce(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		   size_t count, bool is_expired)
{
	return notify(message, BOUNCE_FAILED, list, count, is_expired);
}

int
qmgr_notice_delay(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		  size_t count)
{
	return notify(message, BOUNCE_DELAYED, list, count, false);
}

void
qmgr_notice_defer_log(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		      size_t count)
{
	struct recipient_log_entry *entries = make_entries(message, list, count, "delayed");
	struct dstring error;

	dstring_init(&error, 1024);
	if (recipient_log_append(NULL, RECIPIENT_LOG_DEFER, message->queue_id, entries, count,
				 false, &error) != 0)
		log_warning("%s: defer log: %s", message->queue_id, error.data);
	dstring_fini(&error);
	free(entries);
}

void
qmgr_notice_remove_logs(const char *queue_id)
{
	struct dstring error;

	dstring_init(&error, 1024);
	if (recipient_log_remove(NULL, RECIPIENT_LOG_DEFER, queue_id, &error) != 0 ||
	    recipient_log_remove(NULL, RECIPIENT_LOG_BOUNCE, queue_id, &error) != 0)
		log_warning("%s: remove recipient logs: %s", queue_id, error.data);
	dstring_fini(&error);
}

#else /* !QMGR_HAS_BOUNCE */

int
qmgr_notice_bounce(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		   size_t count, bool is_expired)
{
	(void)list;
	log_warning("%s: sender non-delivery notification for %zu recipient%s%s not sent: "
		    "no bounce support in this build",
		    message->queue_id, count, count == 1 ? "" : "s",
		    is_expired ? " (expired)" : "");
	return 0;
}

int
qmgr_notice_delay(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		  size_t count)
{
	(void)list;
	log_warning("%s: sender delay notification for %zu recipient%s not sent: "
		    "no bounce support in this build",
		    message->queue_id, count, count == 1 ? "" : "s");
	return 0;
}

void
qmgr_notice_defer_log(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		      size_t count)
{
	(void)message;
	(void)list;
	(void)count;
}

void
qmgr_notice_remove_logs(const char *queue_id)
{
	(void)queue_id;
}

#endif
