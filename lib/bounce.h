/*
 * bounce - delivery status notifications (RFC 3464) to the sender:
 * non-delivery ("failed"), delay warnings ("delayed") and, for
 * NOTIFY=SUCCESS, delivery notices ("delivered"). docs/bounce.md.
 *
 * A notice is one new message, submitted through cleanup like any other
 * (lib/cleanup_client.h) with the null sender, From: MAILER-DAEMON@
 * $myhostname, as multipart/report; report-type=delivery-status:
 *
 *   1. text/plain: Postfix's "This is the mail system at host ..." text,
 *      one "<address>: reason" paragraph per recipient;
 *   2. message/delivery-status: Reporting-MTA, X-Postfix-Queue-ID,
 *      X-Postfix-Sender, Arrival-Date, Original-Envelope-Id; per recipient
 *      Final-Recipient, Original-Recipient (from ORCPT), Action, Status,
 *      Remote-MTA, Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until;
 *   3. the original: text/rfc822-headers (RET=HDRS, and the default) or
 *      message/rfc822 (RET=FULL, cut to bounce_size_limit bytes and then
 *      sent as headers only). Delivered notices send headers only.
 *
 * Who gets it (Postfix's rules):
 * - sender not null: the sender, with the null sender.
 * - null sender (this was a notice itself), failures only: a double
 *   bounce to $2bounce_notice_recipient, with envelope sender
 *   $double_bounce_sender; a double bounce that fails is dropped (mail
 *   from $double_bounce_sender is never bounced). Delay and success
 *   notices are never sent for null-sender mail.
 * - Recipients with NOTIFY=NEVER, or a NOTIFY mask without the bit for
 *   this kind (FAILURE, DELAY, SUCCESS; SUCCESS must be asked for), are
 *   left out; when none is left, no notice is sent and the call succeeds.
 * - notify_classes containing "bounce" (or "delay") also sends the
 *   postmaster ($bounce_notice_recipient, $delay_notice_recipient) a
 *   headers-only copy of failure (delay) notices, like Postfix.
 *
 * The caller (qmgr) passes the parsed queue file and the open descriptor
 * to read the original content from; nothing in them is trusted beyond
 * queue_file_read's checks (header lines are copied as they are, bounded).
 */
#ifndef HIKYAKU_BOUNCE_H
#define HIKYAKU_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_id.h"

struct dstring;
struct queue_message;
struct recipient_log_entry;

enum bounce_kind {
	BOUNCE_FAILED,  /* permanent failure or expiry: Action: failed */
	BOUNCE_DELAYED, /* delay_warning_time passed: Action: delayed */
	BOUNCE_SUCCESS, /* NOTIFY=SUCCESS: Action: delivered (or relayed) */
};

struct bounce_request {
	enum bounce_kind kind;
	/* The original message: its envelope and its open queue file. */
	const struct queue_message *message;
	int queue_fd;
	/* The recipients to report, and their outcome (RFC 3464 fields). */
	const struct recipient_log_entry *entries;
	size_t entry_count;
	/* Failure because the message expired (maximal_queue_lifetime). */
	bool is_expired;
	/* The cleanup socket: NULL for $queue_directory/public/cleanup. */
	const char *cleanup_path;
	/* Now, seconds since the epoch (0: the clock). For tests. */
	int64_t now;
};

struct bounce_result {
	/* The queue ID of the notice, "" when none was due. */
	char queue_id[QUEUE_ID_SIZE];
	/* Who it went to ("" when none), and whether it was a double bounce. */
	char recipient[256];
	bool is_double_bounce;
};

/*
 * bounce_notify: build the notice for request and submit it through
 * cleanup. Returns 0 when the notice is queued durably (cleanup said OK)
 * or none is due (result->queue_id ""); -1 with a reason in error when
 * it could not be queued (temporary: keep the recipients, try later).
 * Logs Postfix's "QUEUEID: sender non-delivery notification: NEWID"
 * (delay notification, delivery status notification) line.
 */
int bounce_notify(const struct bounce_request *request, struct bounce_result *result,
                  struct dstring *error);

/*
 * bounce_build: the notice's RFC 5322 text (header and body, LF line
 * ends) for request, addressed to recipient, appended to out; no I/O but
 * reading the original content from request->queue_fd. Returns 0, or -1
 * with a reason in error (the queue file could not be read). For tests.
 * boundary_seed makes the MIME boundary (any value; tests use a fixed one).
 */
int bounce_build(const struct bounce_request *request, const char *recipient,
                 uint64_t boundary_seed, struct dstring *out, struct dstring *error);

/*
 * bounce_is_due: whether request has any recipient that a notice of its
 * kind would report (NOTIFY rules above, null-sender rules), and to whom
 * it would go (recipient NULL: none). No I/O.
 */
bool bounce_is_due(const struct bounce_request *request, const char **recipient,
                   bool *is_double_bounce);

#endif
