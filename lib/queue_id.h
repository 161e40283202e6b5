/*
 * queue_id - names of queue files.
 *
 * A queue ID is the arrival time in microseconds since the epoch, 11
 * characters of base-32 ("0-9A-V", which sorts in ASCII order like the
 * numbers it encodes), followed by the queue file's inode number in the
 * same alphabet (1 to 13 characters). The inode makes the ID unique among
 * all queue files that exist at the same time on the queue file system
 * (a file keeps its inode when it moves between queue directories by
 * rename), and the time makes it unique over time and sortable by
 * arrival. IDs are safe as file names: upper-case letters and digits only.
 */
#ifndef HIKYAKU_QUEUE_ID_H
#define HIKYAKU_QUEUE_ID_H

#include <stdbool.h>
#include <stdint.h>

#define QUEUE_ID_TIME_LENGTH 11
#define QUEUE_ID_MAX (QUEUE_ID_TIME_LENGTH + 13)
/* A buffer for an ID with its NUL. */
#define QUEUE_ID_SIZE (QUEUE_ID_MAX + 1)

/* queue_id_make: the ID for a file created at microseconds with inode. */
void queue_id_make(char id[QUEUE_ID_SIZE], int64_t microseconds, uint64_t inode);

/* queue_id_is_valid: whether text is exactly a well-formed queue ID. */
bool queue_id_is_valid(const char *text);

/* queue_id_time: the arrival time of a valid ID, in microseconds. */
int64_t queue_id_time(const char *id);

/* queue_id_hash: the hashed subdirectory character of a valid ID. */
char queue_id_hash(const char *id);

#endif
