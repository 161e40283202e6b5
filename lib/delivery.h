/*
 * delivery - the protocol between the queue manager and every delivery
 * agent (local, smtp, ...): one delivery request, one result per
 * recipient, an end frame. docs/protocol.md, "The delivery protocol", has
 * the frames; this header is the contract.
 *
 * One request per connection. qmgr connects to
 * $queue_directory/private/TRANSPORT (the master.cf service named by the
 * transport) and sends, with lib/attr_proto:
 *
 *   request frame     request="deliver", version=1, queue_name, queue_id,
 *                     transport, next_hop, sender, envid, ret,
 *                     arrival_time, active_time, size, flags,
 *                     recipient_count
 *   recipient frames  request="recipient", queue_index, offset, address,
 *                     original, orcpt, notify          (recipient_count times)
 *   end frame         request="end"
 *
 * The agent answers, for each recipient of the request, exactly once and
 * in any order:
 *
 *   result frame      reply="result", recipient, action, dsn, reason, relay
 *
 * and finally
 *
 *   end frame         reply="end", destination_failed
 *
 * then both sides close. destination_failed (1 or 0) says whether the
 * destination itself failed (connection refused, every MX down: a "site"
 * failure, not one recipient's problem such as a full mailbox); qmgr then
 * lowers the destination's concurrency and, after a whole cohort of such
 * failures, defers its other recipients without trying (docs/qmgr.md). A recipient the agent did not answer before the
 * end frame, or before the connection broke or timed out, is deferred by
 * qmgr ("4.3.0 delivery agent did not report a result" style reasons).
 *
 * The agent's promises (the never-lose-mail contract):
 * - It opens the queue file itself (queue_name/H/queue_id relative to the
 *   queue directory, read-write), reads it with queue_file_read and checks
 *   the request against it with delivery_request_match.
 * - A recipient whose status byte is already QUEUE_RECIPIENT_DONE is not
 *   delivered again: it is reported "delivered" with no new delivery.
 * - For each recipient it delivered it marks the recipient done in place
 *   (queue_file_mark_done) and makes the mark durable (fsync/fdatasync of
 *   the queue file; several marks may share one flush) BEFORE it sends
 *   that recipient's "delivered" result. So a qmgr crash after a
 *   delivery never repeats it, and a result qmgr receives is final.
 * - It does not mark deferred or bounced recipients: qmgr records those
 *   (defer/ and bounce/ logs, then marks bounced recipients done).
 * - It logs the Postfix-form line for each result ("QUEUEID: to=<...>,
 *   relay=..., delay=..., delays=a/b/c/d, dsn=X.Y.Z, status=sent (...)"),
 *   with delivery_log_result; qmgr logs from=, the pseudo transports'
 *   results, expiry and "removed".
 *
 * qmgr's promises: queue_index and offset name the recipient's R record in
 * that very file (queue_message.recipients[queue_index] and its
 * status_offset), so the agent can mark it; no recipient appears twice in
 * a request; nothing else delivers the message's recipients while the
 * request is open (the message is in active/ and owned by this qmgr).
 *
 * What each side trusts: nothing in the other's frames. Every frame is
 * read strictly (attr_proto), every string is bounded by the limits below,
 * the counts by DELIVERY_RECIPIENTS_MAX, an action's status code must
 * agree with it (2.x.x delivered, 4.x.x deferred, 5.x.x bounced), and a
 * result for an unknown or already-answered recipient is a protocol error.
 *
 * Both sides are provided: encoding/decoding from memory (for qmgr, which
 * runs the agents' connections on its event loop) and blocking calls over
 * struct stream, whose timeouts bound every wait (for agents and tests).
 */
#ifndef HIKYAKU_DELIVERY_H
#define HIKYAKU_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_id.h"

struct attr_reader;
struct dstring;
struct queue_message;
struct stream;

#define DELIVERY_PROTOCOL_VERSION 1
/* The service socket of a transport: DELIVERY_SERVICE_DIRECTORY "/" name. */
#define DELIVERY_SERVICE_DIRECTORY "private"
/* Most recipients in one request (qmgr splits larger groups). */
#define DELIVERY_RECIPIENTS_MAX 10000
/* Longest address (sender, recipient, original, orcpt). */
#define DELIVERY_ADDRESS_MAX 4096
/* Longest transport or queue name, next hop, envid, ret, relay. */
#define DELIVERY_NAME_MAX 1024
/* Longest reason text; a longer one is cut by the sender, refused by the reader. */
#define DELIVERY_REASON_MAX 2000

/* Request flags (none defined yet; a reader refuses unknown bits). */
enum delivery_flags {
	/* The message was deferred before (this is a retry). */
	DELIVERY_FLAG_RETRY = 1 << 0,
};
#define DELIVERY_FLAGS_KNOWN (DELIVERY_FLAG_RETRY)

/* One recipient of a request. Strings are never NULL ("" when empty). */
struct delivery_recipient {
	uint32_t queue_index; /* position among the queue file's R records, from 0 */
	int64_t offset;       /* that record's status byte (queue_recipient.status_offset) */
	const char *address;  /* the recipient as in the queue file */
	const char *original; /* the recipient as first given (orig_to) */
	const char *orcpt;    /* DSN ORCPT ("rfc822;user@example.com") or "" */
	unsigned notify;      /* DSN NOTIFY mask (enum cleanup_notify), 0 not given */
};

/*
 * A delivery request. Strings are never NULL. When filled by
 * delivery_request_receive/_decode they point into storage owned by the
 * request: free it with delivery_request_fini.
 */
struct delivery_request {
	const char *queue_name; /* "active" */
	char queue_id[QUEUE_ID_SIZE];
	const char *transport;    /* the master.cf service name: "local", "smtp" */
	const char *next_hop;     /* "example.com", "[relay.example]:25", "" for none */
	const char *sender;       /* envelope sender, "" for <> */
	const char *envid;        /* DSN ENVID or "" */
	const char *ret;          /* DSN RET: "", "FULL", "HDRS" */
	int64_t arrival_time;     /* microseconds since the epoch (queue file T) */
	int64_t active_time;      /* microseconds: when qmgr took the message into active/ */
	int64_t size;             /* content bytes */
	unsigned flags;           /* enum delivery_flags */
	struct delivery_recipient *recipients;
	size_t recipient_count;   /* 1 .. DELIVERY_RECIPIENTS_MAX */
	/* Filled by the receiver: when the request arrived (microseconds). */
	int64_t received_time;
	/* Private: storage of a received request. */
	void *storage;
};

enum delivery_action {
	DELIVERY_DELIVERED, /* done and marked durably by the agent (2.x.x) */
	DELIVERY_DEFERRED,  /* temporary failure: retry later (4.x.x) */
	DELIVERY_BOUNCED,   /* permanent failure: return to sender (5.x.x) */
};

/* One result. Strings are never NULL; in a decoded result they point into the frame. */
struct delivery_result {
	uint32_t recipient; /* position in the request's recipients, from 0 */
	enum delivery_action action;
	const char *dsn;    /* enhanced status code "X.Y.Z", class agrees with action */
	const char *reason; /* human text: "delivered to mailbox", "Connection refused" */
	const char *relay;  /* "local", "mx.example.com[192.0.2.1]:25", "none" */
};

/* delivery_action_name: "delivered", "deferred", "bounced". */
const char *delivery_action_name(enum delivery_action action);
/* delivery_action_log_status: Postfix's status= word: "sent", "deferred", "bounced". */
const char *delivery_action_log_status(enum delivery_action action);
/* delivery_dsn_is_valid: text is "C.S.D" with C 2/4/5 and 1-3 digit S and D. */
bool delivery_dsn_is_valid(const char *text);

/*
 * --- qmgr's side ---
 *
 * delivery_request_encode: append the request's frames (request,
 * recipients, end) to out. Strings over the limits are a bug in the
 * caller (panic).
 */
void delivery_request_encode(struct dstring *out, const struct delivery_request *request);
/* delivery_request_send: encode and write to stream, then flush. 0 or -1. */
int delivery_request_send(struct stream *stream, const struct delivery_request *request);

enum delivery_reply_kind {
	DELIVERY_REPLY_RESULT,
	DELIVERY_REPLY_END,
};

/*
 * delivery_reply_decode: parse one reply frame's payload (without its
 * length prefix). On DELIVERY_REPLY_END, result->action is
 * DELIVERY_DEFERRED when the agent reported a destination failure, else
 * DELIVERY_DELIVERED (other fields empty). On a result, *result is filled (strings point into
 * payload) and checked against recipient_count: the position must be
 * below it. (Whether it was answered before is the caller's to track:
 * delivery_reply_tracker below.) Returns 0, or -1 with a reason in error.
 */
int delivery_reply_decode(const void *payload, size_t length, size_t recipient_count,
			  enum delivery_reply_kind *kind, struct delivery_result *result,
			  struct dstring *error);
/*
 * delivery_reply_receive: blocking read of one reply frame into payload
 * (whose limit must allow ATTR_FRAME_MAX), then delivery_reply_decode.
 */
int delivery_reply_receive(struct stream *stream, struct dstring *payload,
			   size_t recipient_count, enum delivery_reply_kind *kind,
			   struct delivery_result *result, struct dstring *error);

/*
 * --- the agent's side ---
 *
 * delivery_request_receive: blocking read of a whole request (request,
 * recipients, end frames) from stream, strictly. Fills request (free with
 * delivery_request_fini, also after a failure). Returns 0, or -1 with a
 * reason in error (timeout, end of input, a bad frame, a limit).
 */
int delivery_request_receive(struct stream *stream, struct delivery_request *request,
			     struct dstring *error);
/*
 * Incremental form of the same (the agent or a test feeds frames one by
 * one): delivery_request_init, then delivery_request_decode_frame for each
 * frame's payload until it returns 1 (the end frame was read). Returns 0
 * for "more frames", 1 for complete, -1 with error.
 */
void delivery_request_init(struct delivery_request *request);
int delivery_request_decode_frame(struct delivery_request *request, const void *payload,
				  size_t length, struct dstring *error);
void delivery_request_fini(struct delivery_request *request);

/*
 * delivery_request_match: check that every recipient of request names the
 * same R record in message (the queue file the agent opened): queue_index
 * in range, the same status offset and address. Returns 0, or -1 with a
 * reason (the agent then defers the request: the file is not the one qmgr
 * meant).
 */
int delivery_request_match(const struct delivery_request *request,
			   const struct queue_message *message, struct dstring *error);

/*
 * delivery_recipient_lock: before delivering recipient, lock its status
 * byte in the queue file open on fd (an fcntl write lock on that one byte,
 * waiting for another process that holds it) and read the byte again.
 * Returns 1 when the recipient is already done (report "delivered",
 * deliver nothing), 0 when it is pending and now locked by this process
 * (the lock ends when the process closes fd), -1 with errno on an error
 * (defer). This is what keeps an agent of a restarted qmgr from delivering
 * a recipient that an agent of the killed one is still delivering:
 * without it a qmgr crash could repeat every delivery in flight, with it
 * only one cut between the delivery and its mark.
 */
int delivery_recipient_lock(int fd, const struct delivery_recipient *recipient);

/*
 * delivery_result_send: write one result frame (buffered: the end frame's
 * send flushes; call stream_flush to push a result out early). A reason
 * longer than DELIVERY_REASON_MAX is cut. 0 or -1.
 */
int delivery_result_send(struct stream *stream, const struct delivery_result *result);
/* delivery_end_send: write the end frame (no destination failure) and flush. 0 or -1. */
int delivery_end_send(struct stream *stream);
/*
 * delivery_end_send_status: the same, saying whether the destination
 * itself failed (see the top of this file).
 */
int delivery_end_send_status(struct stream *stream, bool is_destination_failure);
/* delivery_result_encode / delivery_end_encode: the same into memory. */
void delivery_result_encode(struct dstring *out, const struct delivery_result *result);
void delivery_end_encode(struct dstring *out, bool is_destination_failure);

/*
 * delivery_log_result: log the Postfix-form delivery line for one
 * recipient of request:
 *   QUEUEID: to=<address>, orig_to=<original>, relay=RELAY, delay=D,
 *       delays=a/b/c/d, dsn=X.Y.Z, status=sent (reason)
 * (orig_to only when it differs). delays: a = arrival to active_time,
 * b = active_time to received_time, c = received_time to connected_time
 * (connection set-up; pass 0 when there is none), d = from then to now;
 * seconds with up to 2 decimals, as Postfix prints them.
 */
void delivery_log_result(const struct delivery_request *request,
			 const struct delivery_result *result, int64_t connected_time);

/* delivery_now: the wall clock in microseconds since the epoch. */
int64_t delivery_now(void);

#endif
