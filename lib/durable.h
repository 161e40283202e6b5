/*
 * durable - group commit: make many queue files and their directory
 * entries durable with as few flushes as the system allows.
 *
 * A caller registers what must reach stable storage (files it wrote,
 * directories whose entries it changed) and then calls durable_flush.
 * With syncfs(2) (Linux, compat_has_syncfs) one call of syncfs on the
 * queue file system covers everything registered, however many files:
 * that is what lets one flush acknowledge a whole batch of messages.
 * Without it (the BSDs, HIKYAKU_POSIX_FALLBACK) each registered file and
 * each distinct directory is fsync'ed, which is still correct.
 *
 * Contract: when durable_flush returns 0, every file and directory entry
 * registered before the call is on stable storage. Registered files must
 * stay open until the flush. On -1 nothing is promised: the caller must
 * treat every registered item as not durable (temporary error).
 * durable_flush with nothing registered makes no system call.
 */
#ifndef HIKYAKU_DURABLE_H
#define HIKYAKU_DURABLE_H

#include <stdbool.h>

struct dstring;
struct durable;

/*
 * durable_open: group commits for the file system that holds directory
 * (the queue directory). NULL with a reason in error when it cannot be
 * opened.
 */
struct durable *durable_open(const char *directory, struct dstring *error);
void durable_close(struct durable *durable);

/* durable_add_file: fd's data must be durable at the next flush. */
void durable_add_file(struct durable *durable, int fd);
/* durable_add_directory: entries of the directory at path must be durable. */
void durable_add_directory(struct durable *durable, const char *path);

/* durable_flush: make everything registered durable; 0 or -1 (error set). */
int durable_flush(struct durable *durable, struct dstring *error);

/* durable_has_pending: whether anything is registered since the last flush. */
bool durable_has_pending(const struct durable *durable);

/* durable_sync_calls: syncfs/fsync system calls made so far (for statistics). */
unsigned long durable_sync_calls(const struct durable *durable);
/* durable_flushes: durable_flush calls that did a flush. */
unsigned long durable_flushes(const struct durable *durable);

#endif
