/*
 * cleanup_client - hand one message to the cleanup daemon (pickup now,
 * smtpd later) and learn whether it was queued.
 *
 * A submission is one connection to the cleanup service socket
 * (normally $queue_directory/public/cleanup; a chrooted daemon passes the
 * path relative to the jail). The calls come in this order:
 *
 *   client = cleanup_client_open(path, timeout_ms, error)
 *   cleanup_client_envelope(client, &envelope)
 *   cleanup_client_recipient(client, ...)          zero or more times
 *   cleanup_client_write(client, bytes, length)     zero or more times
 *   cleanup_client_finish(client, &result)          the verdict
 *   cleanup_client_close(client)
 *
 * The content is the message as RFC 5322 text, header then body, with
 * lines ending in LF or CRLF (cleanup stores LF), in pieces of any size.
 * With no recipients and CLEANUP_FLAG_EXTRACT_RECIPIENTS unset, cleanup
 * refuses the message (permanent error).
 *
 * Contract:
 * - CLEANUP_OK comes only after the queue file and its directory entry are
 *   on stable storage: the caller may then delete its own copy (the
 *   maildrop file) or answer 250. Anything else means nothing was queued.
 * - Every call is bounded by timeout_ms (per operation). A call that fails
 *   (connection refused, timeout, broken connection) makes the submission
 *   a temporary failure: later calls do nothing and cleanup_client_finish
 *   reports CLEANUP_TEMPFAIL with the reason.
 * - Envelope strings must not hold NUL bytes and are at most
 *   CLEANUP_CLIENT_STRING_MAX bytes (a longer one fails the submission
 *   with CLEANUP_PERMFAIL, "5.1.7 ..."/"5.1.3 ..." style reason).
 * - The protocol on the wire is documented in docs/protocol.md.
 */
#ifndef HIKYAKU_CLEANUP_CLIENT_H
#define HIKYAKU_CLEANUP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dstring;
struct cleanup_client;

/* The service socket, relative to $queue_directory. */
#define CLEANUP_CLIENT_SERVICE_PATH "public/cleanup"

/* Longest envelope string (address, attribute) accepted. */
#define CLEANUP_CLIENT_STRING_MAX 4096

/* Submission flags (struct cleanup_envelope.flags). */
enum cleanup_flags {
	/*
	 * Local submission (sendmail/pickup): add From: from the sender and
	 * full_name when missing, and a Received: "by HOST (hikyaku, from
	 * userid UID) id QUEUEID; DATE" header.
	 */
	CLEANUP_FLAG_LOCAL = 1 << 0,
	/*
	 * sendmail -t: take the recipients from To:, Cc: and Bcc: (or from
	 * Resent-To:, Resent-Cc:, Resent-Bcc: when any Resent- header is
	 * present), in addition to those given with
	 * cleanup_client_recipient. Implies CLEANUP_FLAG_REMOVE_BCC.
	 */
	CLEANUP_FLAG_EXTRACT_RECIPIENTS = 1 << 1,
	/* Remove Bcc: (and Resent-Bcc:) headers from the stored message. */
	CLEANUP_FLAG_REMOVE_BCC = 1 << 2,
	/*
	 * Answer the envelope at once with the new message's queue ID
	 * (cleanup_client_queue_id), so that smtpd logs "ID: client=..."
	 * before the queue manager can log "ID: from=..." (the order
	 * Postfix's logs have and pflogsumm relies on).
	 */
	CLEANUP_FLAG_EARLY_QUEUE_ID = 1 << 3,
};

/* DSN NOTIFY (RFC 3461) for cleanup_client_recipient; 0 = not given. */
enum cleanup_notify {
	CLEANUP_NOTIFY_SUCCESS = 1 << 0,
	CLEANUP_NOTIFY_FAILURE = 1 << 1,
	CLEANUP_NOTIFY_DELAY = 1 << 2,
	CLEANUP_NOTIFY_NEVER = 1 << 3,
};

/*
 * The envelope. NULL strings mean "not known" and are sent as "". sender
 * "" is the null sender (<>). Addresses are in internal (unquoted) form,
 * as user@domain or an unqualified user.
 */
struct cleanup_envelope {
	unsigned flags;             /* enum cleanup_flags */
	const char *sender;         /* MAIL FROM / -f / the user's login */
	const char *full_name;      /* -F, or the user's gecos: for From: */
	long long uid;              /* submitting user (local), or -1 */
	long long arrival_time;     /* seconds since the epoch; 0: now */
	const char *envid;          /* DSN ENVID, xtext-decoded */
	const char *ret;            /* DSN RET: "", "FULL" or "HDRS" */
	const char *protocol;       /* "ESMTP", "SMTP", "sendmail", ... */
	const char *helo;           /* HELO/EHLO name (smtpd) */
	const char *client_name;    /* reverse name of the SMTP client */
	const char *client_address; /* its IP address */
	const char *sasl_method;    /* AUTH mechanism used, if any */
	const char *sasl_username;  /* authenticated user, if any */
	/*
	 * smtpd over TLS: "using TLSv1.3 with cipher X (256/256 bits)", for
	 * the Received: header only (not kept in the queue file).
	 */
	const char *tls_info;
	/*
	 * The declared body type: "7BIT", "8BITMIME" (MAIL FROM BODY=,
	 * sendmail -B) or NULL/"" (not declared). Kept in the queue file so
	 * smtp can send BODY=8BITMIME on.
	 */
	const char *body;
	bool is_smtputf8; /* MAIL FROM SMTPUTF8 (RFC 6531) */
};

enum cleanup_status {
	CLEANUP_OK,       /* queued durably; queue_id names the file */
	CLEANUP_TEMPFAIL, /* not queued; try again later (4xx, EX_TEMPFAIL) */
	CLEANUP_PERMFAIL, /* not queued; never will be (5xx, bounce/EX_DATAERR) */
};

struct cleanup_result {
	enum cleanup_status status;
	/* CLEANUP_OK: the queue ID; otherwise "". Valid until close. */
	const char *queue_id;
	/*
	 * CLEANUP_OK: ""; otherwise the reason with an enhanced status code,
	 * for example "5.3.4 message size exceeds limit" or "4.3.0 queue file
	 * write error". Valid until close.
	 */
	const char *reason;
};

/*
 * cleanup_client_open: connect to the cleanup service at socket_path.
 * timeout_ms bounds each later call (0: no limit). Returns NULL with a
 * reason in error when the connection fails (a temporary problem: the
 * mail system is down or busy).
 */
struct cleanup_client *cleanup_client_open(const char *socket_path, int timeout_ms,
                                           struct dstring *error);

/* cleanup_client_envelope: send the envelope (once, first). */
int cleanup_client_envelope(struct cleanup_client *client, const struct cleanup_envelope *envelope);

/*
 * cleanup_client_queue_id: with CLEANUP_FLAG_EARLY_QUEUE_ID in the
 * envelope, the queue ID cleanup gave the message ("" when cleanup has
 * already failed it), waiting for it if need be; call it before
 * cleanup_client_finish. NULL when the submission has failed. Valid until
 * close. Nothing is queued until cleanup_client_finish says so.
 */
const char *cleanup_client_queue_id(struct cleanup_client *client);

/*
 * cleanup_client_recipient: add a recipient. original is the recipient
 * as first given before any rewriting (NULL: the same as address); orcpt
 * the DSN ORCPT value ("rfc822;user@example.com", NULL: none); notify a
 * mask of enum cleanup_notify (0: not given).
 */
int cleanup_client_recipient(struct cleanup_client *client, const char *address,
                             const char *original, const char *orcpt, unsigned notify);

/* cleanup_client_write: append length bytes of content. */
int cleanup_client_write(struct cleanup_client *client, const void *data, size_t length);

/*
 * cleanup_client_finish: end the content and wait for the verdict. Always
 * fills result (a failure of the connection is CLEANUP_TEMPFAIL). Returns
 * 0 when result->status is CLEANUP_OK, -1 otherwise.
 */
int cleanup_client_finish(struct cleanup_client *client, struct cleanup_result *result);

/*
 * Pipelined use, for a client that keeps several submissions in flight
 * (pickup): instead of waiting in cleanup_client_finish, call
 *
 *   cleanup_client_send_end(client)       the rest of the content and the
 *                                          end frame, sent; no waiting
 *   poll(cleanup_client_fd(client), POLLIN) until cleanup has answered
 *   cleanup_client_finish(client, &result) now only reads the verdict
 *
 * for each, so one process can start many submissions before the first
 * verdict comes back and cleanup can make them durable with shared
 * flushes. The contract above holds unchanged: only CLEANUP_OK from
 * cleanup_client_finish means the message is durable.
 */

/*
 * cleanup_client_send_end: end the submission without waiting for the
 * verdict. Returns 0 when it was sent; -1 when the submission has failed
 * (cleanup_client_finish then reports why at once, without any I/O).
 * After it, only cleanup_client_fd, _finish and _close may be called.
 */
int cleanup_client_send_end(struct cleanup_client *client);

/*
 * cleanup_client_fd: the connection's descriptor, to poll for the verdict
 * after cleanup_client_send_end (readable: the verdict, or the end of the
 * connection, is there and cleanup_client_finish will not wait for it).
 * The library owns it: do not read, write or close it.
 */
int cleanup_client_fd(const struct cleanup_client *client);

/*
 * The functions above return 0, or -1 once the submission has failed
 * (the reason then comes from cleanup_client_finish). A caller may go on
 * calling them; they do nothing after a failure.
 */

/* cleanup_client_close: close the connection and free everything. NULL ok. */
void cleanup_client_close(struct cleanup_client *client);

#endif
