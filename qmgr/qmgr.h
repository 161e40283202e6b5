/*
 * qmgr - the queue manager's shared declarations (docs/qmgr.md).
 *
 *   qmgr.c          the daemon: triggers, queue scans, timers
 *   qmgr_message.c  a message in active/: loading, resolving, finishing
 *                   (removed, deferred with backoff, bounced, corrupt)
 *   qmgr_deliver.c  transports, destinations, concurrency, and the
 *                   delivery requests to the agents on the event loop
 *   qmgr_notice.c   the call sites of bounce notices and recipient logs
 */
#ifndef HIKYAKU_QMGR_H
#define HIKYAKU_QMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "delivery.h"
#include "queue_file.h"

struct event_loop;
struct resolve;

/* The final or temporary outcome of one recipient, kept until the message is done. */
struct qmgr_outcome {
	uint32_t index; /* in the queue file */
	enum delivery_action action;
	char *dsn;
	char *reason;
	char *relay;
};

/* A message in active/. */
struct qmgr_message {
	char queue_id[QUEUE_ID_SIZE];
	int fd; /* the queue file, read-write */
	struct queue_message envelope;
	int64_t active_time; /* microseconds */
	bool was_deferred;   /* came from deferred/ (a retry) */
	bool is_flushed;     /* taken after `hikyaku flush`: defer_transports is lifted */
	bool is_delay_warned; /* the delay notice went out (QMGR_DELAY_WARNED_MODE) */
	bool has_unsynced_marks;
	size_t unfinished;   /* recipients queued to destinations or in flight */
	size_t recipients;   /* pending recipients loaded (memory accounting) */
	struct qmgr_outcome *outcomes;
	size_t outcome_count;
	size_t outcome_capacity;
	struct qmgr_message *next;
	struct qmgr_message *prev;
	struct qmgr_message *hash_next; /* in the table of loaded IDs */
};

/*
 * The queue file's mode bit that records "the delay notice was sent"
 * (docs/qmgr.md, "Delay notices"): set with fchmod and flushed with the
 * file before it goes back to deferred/, so a restart never sends a
 * second one. Queue files are made 0600; nothing else uses this bit.
 */
#define QMGR_DELAY_WARNED_MODE S_IXGRP

/* qmgr.c */
extern struct event_loop *qmgr_loop;
extern struct resolve *qmgr_resolve;
/* qmgr_kick: something changed; run the scheduler soon (once). */
void qmgr_kick(void);

/* qmgr_message.c */
/* qmgr_message_take: load queue file QUEUE/H/ID (moved there already). */
void qmgr_message_take(const char *queue_name, const char *queue_id, bool was_deferred,
		       bool is_flushed);
/* qmgr_message_outcome: record a deferred or bounced recipient. */
void qmgr_message_outcome(struct qmgr_message *message, uint32_t index,
			  enum delivery_action action, const char *dsn, const char *reason,
			  const char *relay);
/* qmgr_message_log: the Postfix to= line for a recipient qmgr decided itself. */
void qmgr_message_log(const struct qmgr_message *message, uint32_t index,
		      enum delivery_action action, const char *dsn, const char *reason,
		      const char *relay);
/* qmgr_message_finished: count recipients off; finish the message at zero. */
void qmgr_message_finished(struct qmgr_message *message, size_t count);
/* qmgr_message_is_loaded: whether queue_id is in memory already. */
bool qmgr_message_is_loaded(const char *queue_id);
/* Limits: whether another message may be taken now. */
bool qmgr_message_has_room(void);
size_t qmgr_message_active_count(void);
/* qmgr_message_move: rename a queue file between queues; 0 or -1 (logged). */
int qmgr_message_move(const char *from_queue, const char *to_queue, const char *queue_id);
/* qmgr_message_corrupt: move a file that does not parse to corrupt/. */
void qmgr_message_corrupt(const char *queue_name, const char *queue_id, const char *reason);

/* qmgr_deliver.c */
void qmgr_deliver_init(void);
/* qmgr_deliver_add: queue recipient index of message for transport/next_hop. */
void qmgr_deliver_add(struct qmgr_message *message, uint32_t index, const char *transport,
		      const char *next_hop);
/* qmgr_deliver_run: start the requests the limits allow. */
void qmgr_deliver_run(void);
/* qmgr_deliver_forget_dead: "F": retry dead destinations now. */
void qmgr_deliver_forget_dead(void);
/* qmgr_deliver_collect: free idle destinations. */
void qmgr_deliver_collect(void);
size_t qmgr_deliver_in_flight(void);

/* qmgr_notice.c: the bounce and recipient-log call sites. */
/*
 * qmgr_notice_bounce: send the sender one non-delivery notice for the
 * bounced outcomes of message (count of them in list). 0 when the notice
 * is queued durably (or none is due), -1 to keep the recipients and try
 * again later.
 */
int qmgr_notice_bounce(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		       size_t count, bool is_expired);
/*
 * qmgr_notice_delay: send the sender one delay notice for the deferred
 * outcomes in list. 0 when it is queued durably or none is due (nobody
 * asked for it, the null sender), -1 to try again at the next attempt.
 */
int qmgr_notice_delay(struct qmgr_message *message, const struct qmgr_outcome *const *list,
		      size_t count);
/* qmgr_notice_defer_log: record deferred outcomes in defer/ for mailq. */
void qmgr_notice_defer_log(struct qmgr_message *message, const struct qmgr_outcome *const *list,
			   size_t count);
/* qmgr_notice_remove_logs: the message is gone: remove its defer/bounce logs. */
void qmgr_notice_remove_logs(const char *queue_id);

#endif
