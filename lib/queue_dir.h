/*
 * queue_dir - the directories under $queue_directory and the paths of
 * queue files in them (docs/queue.md).
 *
 *   maildrop/          local submissions (postdrop writes, pickup reads)
 *   tmp/               cleanup's files being written (never final names)
 *   incoming/H/ID      complete, durable messages not yet seen by qmgr
 *   active/H/ID        messages qmgr is working on
 *   deferred/H/ID      messages waiting for a retry
 *   hold/H/ID          messages put on hold by the administrator
 *   corrupt/H/ID       files that failed to parse
 *   defer/H/ID, bounce/H/ID   per-message logs of deferred/bounced recipients
 *   public/, private/  service sockets
 *
 * H is one character of the queue ID (queue_id_hash, the lowest five bits
 * of its microseconds), so each queue is spread over 32 subdirectories.
 * A message moves between queues by rename(2) only, and keeps its ID.
 */
#ifndef HIKYAKU_QUEUE_DIR_H
#define HIKYAKU_QUEUE_DIR_H

#include <stdbool.h>

struct dstring;

#define QUEUE_MAILDROP "maildrop"
#define QUEUE_TEMP "tmp"
#define QUEUE_INCOMING "incoming"
#define QUEUE_ACTIVE "active"
#define QUEUE_DEFERRED "deferred"
#define QUEUE_HOLD "hold"
#define QUEUE_CORRUPT "corrupt"
#define QUEUE_DEFER_LOGS "defer"
#define QUEUE_BOUNCE_LOGS "bounce"
#define QUEUE_PUBLIC "public"
#define QUEUE_PRIVATE "private"

/* queue_dir_is_hashed: whether queue_name keeps files in H/ subdirectories. */
bool queue_dir_is_hashed(const char *queue_name);

/*
 * queue_dir_path: out = [queue_directory/]queue_name/H/queue_id (no H for
 * a flat queue). queue_directory NULL or "" gives a path relative to the
 * queue directory (for chrooted daemons).
 */
void queue_dir_path(struct dstring *out, const char *queue_directory, const char *queue_name,
                    const char *queue_id);

/* queue_dir_subdirectory: the directory queue_dir_path's file is in. */
void queue_dir_subdirectory(struct dstring *out, const char *queue_directory,
                            const char *queue_name, const char *queue_id);

/*
 * queue_dir_create: make every directory above that is missing (mode
 * 0700; public/ and maildrop/ are left to set-permissions). Returns 0, or
 * -1 with a reason in error.
 */
int queue_dir_create(const char *queue_directory, struct dstring *error);

/*
 * Scanning a queue: every valid queue ID in queue_name (all its
 * subdirectories), in no particular order. Names that are not queue IDs
 * are skipped.
 */
struct queue_dir_scan;

struct queue_dir_scan *queue_dir_scan_open(const char *queue_directory, const char *queue_name,
                                           struct dstring *error);
/* queue_dir_scan_next: the next ID, or NULL at the end. */
const char *queue_dir_scan_next(struct queue_dir_scan *scan);
void queue_dir_scan_close(struct queue_dir_scan *scan);

#endif
