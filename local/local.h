/*
 * local.h - what the files of the local delivery agent share (not a
 * library interface: docs/local.md describes the behaviour).
 *
 * One delivery request names a queue file and some of its recipients.
 * For each recipient local runs Postfix's local(8) order: alias_maps,
 * then ~/.forward, then the mailbox (mailbox_command, Maildir, mbox).
 * Aliases and .forward files expand into more destinations: addresses
 * (delivered recursively, or forwarded through cleanup when not local),
 * |commands, /files and :include: files. Every destination that writes
 * something ends in a leaf delivery, run in a child process that takes
 * the identity of the user it writes for (local_run.c) when local runs
 * as root; the child reports one result back through a pipe.
 *
 * What it trusts: the queue file's envelope as checked by
 * lib/queue_file.c; nothing in the message, the aliases' values, the
 * users' .forward files or the commands' output.
 */
#ifndef HIKYAKU_LOCAL_H
#define HIKYAKU_LOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dstring.h"
#include "queue_file.h"
#include "strlist.h"

/* How deep aliases, .forward and :include: may nest (Postfix: 100). */
#define LOCAL_DEPTH_MAX 100
/* Destinations one recipient may expand to, in all. */
#define LOCAL_EXPANSION_MAX 1000
/* The longest .forward or :include: file read. */
#define LOCAL_INCLUDE_SIZE_MAX (1024 * 1024)
/* Delivered-To: headers remembered from one message. */
#define LOCAL_DELIVERED_MAX 1000
/* Bytes of a reason (command output included). */
#define LOCAL_REASON_MAX 1024

enum local_status {
	LOCAL_SENT,
	LOCAL_DEFERRED,
	LOCAL_BOUNCED,
};

/* The outcome of one delivery: status, enhanced status code, text. */
struct local_result {
	enum local_status status;
	char dsn[16];
	char text[LOCAL_REASON_MAX];
};

void local_result_set(struct local_result *result, enum local_status status, const char *dsn,
                      const char *format, ...) __attribute__((format(printf, 4, 5)));

/* Whose rights a delivery runs with. */
struct local_identity {
	uid_t uid;
	gid_t gid;
	char *name;
	char *home;
	char *shell;
};

/* default_privs, looked up at start (as root); ourselves otherwise. */
extern struct local_identity local_default_privileges;

/* local_identity_lookup: fill identity from the password file; -1 if none. */
int local_identity_lookup(const char *name, struct local_identity *identity);
int local_identity_lookup_uid(uid_t uid, struct local_identity *identity);
void local_identity_copy(struct local_identity *to, const struct local_identity *from);
void local_identity_fini(struct local_identity *identity);

/* The message of one request, read from the queue file. */
struct delivery_request;
struct local_message {
	const struct delivery_request *request;
	int fd; /* the queue file, read-write */
	struct queue_message envelope;
	struct strlist delivered_to; /* Delivered-To: values, lowercased */
	time_t started;              /* when this delivery began */
};

/* Which kind of expansion a destination came from (allow_mail_to_*). */
enum local_origin {
	LOCAL_FROM_RECIPIENT,
	LOCAL_FROM_ALIAS,
	LOCAL_FROM_FORWARD,
	LOCAL_FROM_INCLUDE,
};

/*
 * One recipient's delivery: the top-level recipient and everything its
 * expansion meets (Postfix's DELIVER_ATTR plus its duplicate filter).
 */
struct local_recipient_state {
	struct local_message *message;
	const struct queue_recipient *recipient; /* from the queue file */
	uint32_t request_index;                  /* its place in the request */
	struct strlist seen;                     /* "alias NAME", "mailbox USER", ... */
	struct strlist forward;                  /* non-local addresses to resubmit */
	char *forward_sender;                    /* their envelope sender */
	unsigned expansions;
	bool has_sent, has_deferred, has_bounced;
	struct local_result first_problem; /* the first deferral, else bounce */
	char first_sent[LOCAL_REASON_MAX]; /* the first delivery's text */
	unsigned leaves;                   /* results recorded (and logged) */
};

/* The context of one destination inside the expansion. */
struct local_context {
	const char *address; /* the address being delivered now */
	const char *sender;  /* envelope sender for this branch (owner- alias) */
	enum local_origin origin;
	int depth;
	/* Whose rights commands and files run with (NULL: the recipient's). */
	const struct local_identity *privileges;
	/* The user whose .forward or mailbox this is, for the environment. */
	const struct local_identity *user;
	const char *extension; /* "+ext" without the delimiter, or "" */
	/* The expansion chain, to tell a self-reference from a duplicate. */
	const struct local_context *parent;
	const char *alias_name; /* the alias this context expands, or NULL */
};

/* deliver.c: the recursion. */
void local_deliver_recipient(struct local_recipient_state *state);
void local_deliver_address(struct local_recipient_state *state, const struct local_context *context,
                           const char *address);
/* local_deliver_value: every item of an alias or .forward value. */
void local_deliver_value(struct local_recipient_state *state, const struct local_context *context,
                         const char *value);
/* local_record: count a leaf's result for the recipient and log it. */
void local_record(struct local_recipient_state *state, const struct local_context *context,
                  const char *to, const struct local_result *result);

/* alias.c */
struct table_search;
void local_alias_open(void);
void local_alias_close(void);
enum local_alias_result { LOCAL_ALIAS_NONE, LOCAL_ALIAS_FOUND, LOCAL_ALIAS_ERROR };
/*
 * local_alias_lookup: the value of alias name (a localpart, lowercased)
 * in alias_maps; *owner gets the uid that owns the table file (0 when
 * unknown). The value stays valid until the next lookup.
 */
enum local_alias_result local_alias_lookup(const char *name, const char **value, uid_t *owner,
                                           struct dstring *error);
/*
 * local_alias_split: split an alias or .forward value into items, as
 * Postfix's tokenizer does: at commas and newlines outside quotes;
 * an item fully in double quotes is unquoted ("|cmd arg" -> |cmd arg);
 * '#' starts a comment when at the start of a line (.forward files).
 * Returns -1 with a reason for an unterminated quote.
 */
int local_alias_split(const char *value, struct strlist *items, struct dstring *error);

/* forward.c: ~/.forward and :include: files. */
enum local_read_result { LOCAL_READ_OK, LOCAL_READ_NONE, LOCAL_READ_ERROR };
/*
 * local_read_trusted_file: read path (at most LOCAL_INCLUDE_SIZE_MAX)
 * when it is a regular file owned by uid (any uid when require_uid is
 * false; then *owner says who) that is not group or world writable.
 * NONE when it does not exist; ERROR with a reason when it cannot be
 * trusted or read.
 */
enum local_read_result local_read_trusted_file(const char *path, bool require_uid, uid_t uid,
                                               uid_t *owner, struct dstring *content,
                                               struct dstring *error);
/* local_forward: look for the user's .forward; true when one was used. */
bool local_forward(struct local_recipient_state *state, const struct local_context *context);
void local_include(struct local_recipient_state *state, const struct local_context *context,
                   const char *path);
/* local_resubmit: hand collected non-local addresses to cleanup. */
void local_resubmit(struct local_recipient_state *state);

/* expand.c: $name expansion with the delivery's own variables. */
struct local_variable {
	const char *name;
	const char *value;
};
/*
 * local_expand: expand $name, ${name}, ${name?text}, ${name:text} and $$
 * in text with variables (count of them); unknown names are empty.
 * Returns -1 with a reason for a syntax error.
 */
int local_expand(const char *text, const struct local_variable *variables, size_t count,
                 struct dstring *out, struct dstring *error);

/* copy.c: writing the delivered copy of the message. */
enum local_copy_flags {
	LOCAL_COPY_FROM_LINE = 1 << 0,   /* "From sender date" first */
	LOCAL_COPY_QUOTE = 1 << 1,       /* ">From " quoting */
	LOCAL_COPY_BLANK_LINE = 1 << 2,  /* end with an empty line */
	LOCAL_COPY_RETURN_PATH = 1 << 3, /* Return-Path: <sender> */
	LOCAL_COPY_ORIGINAL = 1 << 4,    /* X-Original-To: */
	LOCAL_COPY_DELIVERED = 1 << 5,   /* Delivered-To: */
};
#define LOCAL_COPY_MBOX                                                                            \
	(LOCAL_COPY_FROM_LINE | LOCAL_COPY_QUOTE | LOCAL_COPY_BLANK_LINE |                         \
	 LOCAL_COPY_RETURN_PATH | LOCAL_COPY_ORIGINAL | LOCAL_COPY_DELIVERED)
struct local_copy {
	const struct local_message *message;
	const char *sender;
	const char *original;  /* for X-Original-To */
	const char *delivered; /* for Delivered-To */
	unsigned flags;
};
/*
 * local_copy_write: write the message to fd as flags say. Returns 0, or
 * -1 with errno (EIO when the queue file ends early).
 */
int local_copy_write(const struct local_copy *copy, int fd);
/* local_message_read_delivered: gather the Delivered-To: values. */
void local_message_read_delivered(struct local_message *message);

/* local_run.c: a leaf delivery in a child with the right identity. */
enum local_run_mode {
	LOCAL_RUN_AS_USER, /* setgid/setgroups/setuid to identity */
	LOCAL_RUN_AS_ROOT, /* stay root (the child drops rights itself) */
};
typedef void (*local_work)(void *argument, const struct local_identity *identity,
                           struct local_result *result);
/*
 * local_run: run work in a child process as identity (when local runs as
 * root; otherwise as itself) and wait for its result. A child that dies
 * without answering is a deferral.
 */
void local_run(local_work work, void *argument, const struct local_identity *identity,
               enum local_run_mode mode, struct local_result *result);
/*
 * local_groups_lookup: the supplementary groups of identity (its gid
 * among them), in a new array for local_become; -1 (and error) if the
 * group database cannot say.
 */
int local_groups_lookup(const struct local_identity *identity, gid_t **groups, size_t *count,
                        struct dstring *error);
/* local_become: the identity change itself (in a child); -1 on failure. */
int local_become(const struct local_identity *identity, const gid_t *groups, size_t count,
                 struct dstring *error);
/* local_is_root: whether local can change identity. */
bool local_is_root(void);

/* mailbox.c: delivery to an mbox file (spool, home or /file). */
struct local_mbox_request {
	const struct local_copy *copy;
	const char *path;
	bool is_spool; /* in mail_spool_directory: create and lock as root */
};
void local_mbox_deliver(void *argument, const struct local_identity *identity,
                        struct local_result *result);

/* maildir.c */
struct local_maildir_request {
	const struct local_copy *copy;
	const char *path;   /* the Maildir, ending in '/' */
	const char *unique; /* the file name */
};
void local_maildir_deliver(void *argument, const struct local_identity *identity,
                           struct local_result *result);
/*
 * local_maildir_unique: a file name unique across processes and
 * deliveries: SECONDS.MmicrosecondsPpidQcounter.HOST with '/' and ':'
 * in HOST written as \057 and \072 (the Maildir convention).
 */
void local_maildir_unique(struct dstring *out, const struct timespec *now, long pid,
                          unsigned long counter, const char *host);

/* command.c: delivery to a command (|cmd, mailbox_command). */
struct local_command_request {
	const struct local_copy *copy;
	const char *command;
	const struct local_recipient_state *state;
	const struct local_context *context;
};
void local_command_deliver(void *argument, const struct local_identity *identity,
                           struct local_result *result);
/*
 * local_command_argv: the argument vector for command: /bin/sh -c command
 * (or local_command_shell) when it holds shell metacharacters, otherwise
 * the words of command. Returns -1 when there are no words.
 */
int local_command_argv(const char *command, const char *shell, struct strlist *argv);
/* local_exit_status: map a command's wait status to a result. */
void local_exit_status(int status, const char *command, const char *output,
                       struct local_result *result);

/* mailbox destinations, chosen in deliver.c */
void local_mailbox(struct local_recipient_state *state, const struct local_context *context,
                   const struct local_identity *user);
void local_file(struct local_recipient_state *state, const struct local_context *context,
                const char *path);
void local_command(struct local_recipient_state *state, const struct local_context *context,
                   const char *command, bool is_mailbox_command);

/* is_local_domain: whether domain is one of mydestination's names. */
bool local_is_local_domain(const char *domain);
/* local_list_has: whether a parameter's list (allow_mail_to_*) has word. */
bool local_list_has(const char *list, const char *word);

/*
 * local_notify_delivered (local_notice.c): after the marks are durable,
 * one "delivered" notice for the recipients delivered by this request
 * (is_new) whose NOTIFY asks for success.
 */
void local_notify_delivered(const struct delivery_request *request,
                            const struct queue_message *envelope, int queue_fd,
                            const struct local_result *results, const bool *is_new);

#endif
