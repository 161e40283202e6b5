/*
 * recipient_log - the per-message logs of deferred and bounced recipients
 * (Postfix's defer/ and bounce/ logfiles; docs/bounce.md).
 *
 *   $queue_directory/defer/H/ID    why recipients of message ID wait
 *   $queue_directory/bounce/H/ID   recipients of ID that failed for good
 *
 * A log is a text file, one record per line, each record a recipient's
 * outcome: tab-separated name=value fields, values %XX-escaped (so a
 * reason can hold any byte), for example
 *
 *   index=0 address=bob@example.com original=bob@example.com orcpt=
 *   notify=0 action=delayed dsn=4.4.1 relay=mx.example.com[192.0.2.1]:25
 *   time=1700000000 reason=connect to mx.example.com[192.0.2.1]:25:
 *   Connection refused
 *
 * (one line in the file). A batch of records is appended with one
 * write(2) on an O_APPEND descriptor, so writers never interleave within
 * a record. The reader trusts nothing: unknown or repeated fields, a bad
 * number, an over-long value, a line without its newline (a writer cut
 * short) are refused or skipped, and the counts are bounded
 * (RECIPIENT_LOG_RECORDS_MAX). Fuzzed: tests/fuzz/fuzz_recipient_log.c.
 *
 * Users: qmgr appends what it deferred (for mailq's "(reason)" lines and
 * for delay notices) and what bounced; it removes the defer log when it
 * takes a message for another attempt, and both logs when the message is
 * gone. `hikyaku queue` reads the defer log; bounce.c takes the entries.
 * When a recipient appears more than once, the last record counts.
 */
#ifndef HIKYAKU_RECIPIENT_LOG_H
#define HIKYAKU_RECIPIENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dstring;

/* Which log: the directory names are QUEUE_DEFER_LOGS and QUEUE_BOUNCE_LOGS. */
enum recipient_log_kind {
	RECIPIENT_LOG_DEFER,
	RECIPIENT_LOG_BOUNCE,
};

/* The most records a reader accepts from one log (later ones are refused). */
#define RECIPIENT_LOG_RECORDS_MAX 1000000
/* The longest field value (address, reason, ...), and record line. */
#define RECIPIENT_LOG_VALUE_MAX 8192
#define RECIPIENT_LOG_LINE_MAX 65536

/*
 * One recipient's outcome. Strings are never NULL when read back ("" when
 * empty); a writer may pass NULL for "". action is the RFC 3464 Action:
 * "failed", "delayed", "delivered", "relayed" or "expanded". dsn is the
 * enhanced status code ("5.1.1"), reason the human text (for an SMTP
 * reply, Postfix's "host mx.example[192.0.2.1] said: 550 5.1.1 <bob@...>:
 * user unknown (in reply to RCPT TO command)"), relay the next hop as in
 * the log's relay= ("mx.example[192.0.2.1]:25", "local", "none").
 * diagnostic and remote_mta are the DSN Diagnostic-Code and Remote-MTA
 * when the agent knows them exactly ("smtp; 550 5.1.1 user unknown",
 * "dns; mx.example"); empty, bounce.c derives them from reason and relay.
 */
struct recipient_log_entry {
	uint32_t queue_index; /* the recipient's R record in the queue file */
	const char *address;
	const char *original; /* as first given (orig_to), or "" */
	const char *orcpt;    /* DSN ORCPT ("rfc822;bob@example.com"), or "" */
	unsigned notify;      /* DSN NOTIFY mask (enum cleanup_notify) */
	const char *action;
	const char *dsn;
	const char *reason;
	const char *relay;
	const char *diagnostic;
	const char *remote_mta;
	int64_t time; /* of the attempt, seconds since the epoch */
};

/*
 * recipient_log_append: append count entries to the log of queue_id, as
 * one write(2), creating the file (mode 0600) and nothing else (the
 * directories exist: queue_dir_create). queue_directory NULL or "" means
 * a path relative to the current directory (chrooted daemons). With
 * is_durable, fsync the file before returning. Returns 0, or -1 with a
 * reason in error ("open defer/A/ID: No such file or directory").
 */
int recipient_log_append(const char *queue_directory, enum recipient_log_kind kind,
                         const char *queue_id, const struct recipient_log_entry *entries,
                         size_t count, bool is_durable, struct dstring *error);

/* The entries of one log, owned by this structure. */
struct recipient_log {
	struct recipient_log_entry *entries;
	size_t count;
	size_t capacity;
	size_t skipped; /* malformed records that were skipped */
	char *storage;  /* the strings */
};

/*
 * recipient_log_read: read the log of queue_id into log (entries in file
 * order, duplicates kept: see recipient_log_find). A missing log is an
 * empty log (returns 0). Malformed records are skipped and counted.
 * Returns 0, or -1 with a reason in error (cannot read the file).
 * Free with recipient_log_fini, even after an error.
 */
int recipient_log_read(const char *queue_directory, enum recipient_log_kind kind,
                       const char *queue_id, struct recipient_log *log, struct dstring *error);

/*
 * recipient_log_parse: the same from bytes in memory (the reader under
 * recipient_log_read; fuzzed). Never fails: malformed records are
 * skipped and counted in log->skipped. log must be zeroed or fini'd.
 */
void recipient_log_parse(const char *data, size_t length, struct recipient_log *log);

/*
 * recipient_log_find: the last entry for queue_index (when it is below
 * UINT32_MAX) or else for address, or NULL.
 */
const struct recipient_log_entry *recipient_log_find(const struct recipient_log *log,
                                                     uint32_t queue_index, const char *address);

void recipient_log_fini(struct recipient_log *log);

/*
 * recipient_log_remove: remove the log of queue_id. A missing log is not
 * an error. Returns 0, or -1 with a reason in error.
 */
int recipient_log_remove(const char *queue_directory, enum recipient_log_kind kind,
                         const char *queue_id, struct dstring *error);

/* recipient_log_path: out = the log's path (as recipient_log_append opens it). */
void recipient_log_path(struct dstring *out, const char *queue_directory,
                        enum recipient_log_kind kind, const char *queue_id);

#endif
