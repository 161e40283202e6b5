/*
 * smtp.h - the parts of the smtp delivery agent (docs/smtp.md):
 *   smtp.c          the service: one delivery request per connection
 *                   from qmgr, results, marks, log lines;
 *   smtp_connect.c  the next hop: "[host]:port" or a domain, the
 *                   addresses to try, connecting within the timeout;
 *   smtp_session.c  one SMTP conversation: greeting, EHLO, STARTTLS,
 *                   AUTH, one mail transaction, QUIT;
 *   smtp_content.c  the message from the queue file, CR LF and
 *                   dot-stuffed, long lines broken;
 *   smtp_auth.c     the password lookup and the AUTH exchange.
 *
 * The contract with qmgr is lib/delivery.h: a recipient is reported
 * delivered only after the server answered 250 to the end of DATA and
 * its mark in the queue file is durable.
 */
#ifndef HIKYAKU_SMTP_H
#define HIKYAKU_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "delivery.h"
#include "dstring.h"
#include "queue_file.h"
#include "smtp_reply.h"

struct stream;
struct tls_session;
struct table_list;

/* One recipient's outcome. */
struct smtp_result {
	bool is_settled;  /* an outcome was set: not touched again */
	bool is_accepted; /* RCPT TO got 2xx in the current transaction */
	bool is_skipped;  /* already done or locked out: not sent to the server */
	/*
	 * Delivered to a server that did not announce DSN: a NOTIFY=SUCCESS
	 * recipient gets a "relayed" notice from us (the server cannot send
	 * one), as Postfix does.
	 */
	bool is_relayed;
	enum delivery_action action;
	char dsn[12];
	char *reason;
	char *relay;
};

/* One delivery request being worked on. */
struct smtp_state {
	const struct delivery_request *request;
	struct queue_message message;
	int fd; /* the queue file */
	struct smtp_result *results;
	size_t pending; /* recipients without an outcome */
	bool is_destination_failure;
	int64_t connected_time;           /* when the first connection was up (microseconds) */
	struct table_list *password_maps; /* NULL when AUTH is off */
	/* The next hop: its host (no brackets), port, and whether MX applies. */
	char *nexthop_host;
	unsigned nexthop_port;
	bool is_bracketed;
	/* The TLS policy for this next hop. */
	int tls_level;
	char *tls_match; /* from smtp_tls_policy_maps "match=", or NULL */
	/* Set by a session at level "may" whose TLS handshake failed. */
	bool is_tls_failed;
};

/* TLS levels, weakest first. */
enum smtp_tls_level {
	SMTP_TLS_NONE,
	SMTP_TLS_MAY,
	SMTP_TLS_ENCRYPT,
	SMTP_TLS_VERIFY,
	SMTP_TLS_SECURE,
};

/* smtp_tls_level_parse: a level word; -1 for an unknown one. "" is none. */
int smtp_tls_level_parse(const char *word);

/*
 * smtp_settle: give recipient index its outcome (once: later calls for a
 * settled recipient do nothing). reason is printf-style.
 */
void smtp_settle(struct smtp_state *state, size_t index, enum delivery_action action,
                 const char *dsn, const char *relay, const char *format, ...)
    __attribute__((format(printf, 6, 7)));
/* smtp_settle_pending: the same outcome for every unsettled recipient. */
void smtp_settle_pending(struct smtp_state *state, enum delivery_action action, const char *dsn,
                         const char *relay, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* --- smtp_connect.c --- */

/* One address to try. */
struct smtp_target {
	char host[256];   /* the server's name: MX host, or the literal */
	char address[64]; /* text form */
	unsigned port;
	struct sockaddr_storage sockaddr;
	socklen_t sockaddr_length;
};

/*
 * smtp_nexthop_parse: "[host]:port", "[host]", "host:port", "host" into
 * state (an empty next hop means the first recipient's domain). -1 with
 * a reason for a malformed one.
 */
int smtp_nexthop_parse(struct smtp_state *state, const char *nexthop, struct dstring *error);

/*
 * smtp_targets_find: the addresses to try, in order, at most
 * smtp_mx_address_limit. Returns the count (> 0), or 0 with the outcome
 * in *action and dsn/reason (NOTFOUND bounces, TEMPFAIL defers).
 */
size_t smtp_targets_find(struct smtp_state *state, struct smtp_target **targets,
                         enum delivery_action *action, char dsn[12], struct dstring *reason);

/*
 * smtp_connect: a connected, non-blocking socket to target within
 * smtp_connect_timeout (bound to smtp_bind_address when set); -1 with a
 * reason "connect to host[addr]:port: Connection refused".
 */
int smtp_connect(const struct smtp_target *target, struct dstring *error);

/* --- smtp_session.c --- */

enum smtp_session_outcome {
	SMTP_SESSION_DONE,     /* every recipient has an outcome */
	SMTP_SESSION_TRY_NEXT, /* this server failed before the mail: try another */
};

/*
 * smtp_session_run: one conversation with target over fd (taken). Settles
 * recipients; on TRY_NEXT leaves them pending with the reason in reason
 * (and dsn) for when no other server is left. After a finished
 * transaction the connection is kept in the cache under key (NULL: not
 * kept) instead of being closed.
 */
enum smtp_session_outcome smtp_session_run(struct smtp_state *state,
                                           const struct smtp_target *target, int fd,
                                           const char *key, struct dstring *reason, char dsn[12]);

/*
 * smtp_session_reuse: when the cache holds a live connection for key,
 * run the transaction on it (every recipient gets an outcome) and return
 * true; else return false (a cached connection for another key, too old
 * or dead is closed) and the caller connects.
 */
bool smtp_session_reuse(struct smtp_state *state, const char *key, struct dstring *reason,
                        char dsn[12]);

/* smtp_session_cache_close: QUIT and close the cached connection, if any. */
void smtp_session_cache_close(void);

/* --- smtp_content.c --- */

/*
 * smtp_content_send: the message content to stream as SMTP DATA: LF made
 * CR LF, lines starting with "." doubled, lines over line_limit (0: none)
 * broken with CR LF SPACE; not the final "." (the caller's). 0, or -1 with errno
 * (queue file read error: EIO-style; stream error: the stream's) and
 * *is_local_error saying which side failed.
 */
int smtp_content_send(const struct smtp_state *state, struct stream *stream, int line_limit,
                      bool *is_local_error);

/* --- smtp_auth.c --- */

/*
 * smtp_auth_lookup: user and password for this server from
 * smtp_sasl_password_maps. 1 found, 0 none (no AUTH then), -1 table error.
 */
int smtp_auth_lookup(struct smtp_state *state, const char *server_host, struct dstring *user,
                     struct dstring *password, struct dstring *error);

/*
 * smtp_auth_exchange: AUTH with the first mechanism of server_mechanisms
 * that the filter and security options allow. Returns 0 on 235; 1 when
 * the server refused (reply holds its answer, reason the text); -1 on a
 * local or connection problem (reason).
 */
int smtp_auth_exchange(struct stream *stream, struct smtp_reply *reply, const char *server,
                       const char *server_mechanisms, const char *user, const char *password,
                       bool is_tls, struct dstring *reason);

/* smtp_auth_setup: called before the jail (Cyrus plugins). */
void smtp_auth_setup(void);

#endif
