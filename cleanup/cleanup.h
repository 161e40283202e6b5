/*
 * cleanup - the daemon that turns a submission into a queue file
 * (docs/queue.md, docs/protocol.md). Shared declarations of its files:
 *
 *   cleanup.c          the service: clients on the event loop, the protocol
 *   cleanup_message.c  content: header fix-ups, limits, writing the file
 *   cleanup_rewrite.c  address rewriting: qualification, canonical, masquerade
 *   cleanup_commit.c   group commit, the rename into incoming/, qmgr trigger
 */
#ifndef HIKYAKU_CLEANUP_H
#define HIKYAKU_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dstring.h"
#include "queue_id.h"

struct queue_file_writer;

/* Most header fields in one message; more is a permanent error. */
#define CLEANUP_HEADER_COUNT_MAX 1000
/* Most recipients in one message. */
#define CLEANUP_RECIPIENTS_MAX 100000

struct cleanup_recipient {
	char *address;
	char *original;
	char *orcpt;
	unsigned notify;
};

/* One logical header field, folds included, without its final LF. */
struct cleanup_header {
	struct dstring text;
	size_t name_length;
	int kind; /* enum header_kind */
	bool is_removed;
};

enum cleanup_phase {
	PHASE_ENVELOPE,   /* waiting for the envelope frame */
	PHASE_RECIPIENTS, /* recipient or content frames */
	PHASE_COMMIT,     /* end received; waiting for the group commit */
	PHASE_REPLIED,    /* reply queued; closing when it is sent */
};

struct cleanup_state {
	int fd;
	enum cleanup_phase phase;
	struct dstring input;  /* received, not yet parsed */
	struct dstring output; /* reply not yet sent */
	uint64_t timer;
	bool has_timer;
	struct cleanup_state *next_commit; /* in the list waiting for the flush */

	/* Envelope. */
	unsigned flags;
	char *sender;
	char *full_name;
	int64_t uid;
	int64_t arrival_microseconds;
	struct {
		char *name, *value;
	} attributes[16];
	size_t attribute_count;
	struct cleanup_recipient *recipients;
	size_t recipient_count, recipient_capacity;

	/* Content. */
	int64_t content_received; /* bytes from the client */
	struct dstring line;      /* the line being assembled (header phase) */
	bool is_line_truncated;   /* the rest of this header line is dropped */
	bool is_in_header;
	bool is_body_line_start;
	bool has_pending_cr; /* a CR at the end of the last body chunk */
	struct cleanup_header *headers;
	size_t header_count, header_capacity;
	int64_t header_size;

	/* The queue file. */
	char queue_id[QUEUE_ID_SIZE];
	char *temp_path;
	int temp_fd;
	struct queue_file_writer *writer;
	char *message_id; /* for the log line */

	/* The verdict: 0 fine so far, 4 temporary, 5 permanent error. */
	int error_status;
	char *error_reason;
};

/* cleanup.c */
extern struct durable *cleanup_durable;
void cleanup_reply(struct cleanup_state *state);
void cleanup_fail(struct cleanup_state *state, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* cleanup_message.c */
int cleanup_message_begin(struct cleanup_state *state);
void cleanup_message_content(struct cleanup_state *state, const char *data, size_t length);
void cleanup_message_end(struct cleanup_state *state);
void cleanup_message_discard(struct cleanup_state *state);
void cleanup_state_free_message(struct cleanup_state *state);
void cleanup_remove_stale_temp_files(void);

/* cleanup_rewrite.c */
enum cleanup_address_class {
	CLEANUP_ENVELOPE_SENDER,
	CLEANUP_ENVELOPE_RECIPIENT,
	CLEANUP_HEADER_SENDER,
	CLEANUP_HEADER_RECIPIENT,
};
void cleanup_rewrite_init(void);
/*
 * cleanup_rewrite: rewrite address (internal form) of class into out.
 * qualify: append @$myorigin / .$mydomain. Returns 0, or -1 when a table
 * could not be read (a temporary error; the reason is in out).
 */
int cleanup_rewrite(const char *address, enum cleanup_address_class address_class, bool qualify,
                    struct dstring *out);

/* cleanup.c: how many clients are connected now. */
unsigned long cleanup_clients_connected(void);

/* cleanup_commit.c */
void cleanup_commit_add(struct cleanup_state *state);
void cleanup_commit_forget(struct cleanup_state *state);
void cleanup_commit_statistics(void);

#endif
