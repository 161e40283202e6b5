/*
 * smtpd_session - the state of one SMTP session and the functions the
 * smtpd files share (smtpd.c the dialogue, smtpd_data.c DATA/BDAT and the
 * cleanup glue, smtpd_tls.c STARTTLS, smtpd_sasl.c AUTH).
 *
 * One process serves one connection (SERVER_SINGLE, as Postfix's smtpd),
 * so a session lives on the stack of smtpd_serve and nothing is shared.
 * Everything in it that came from the client is hostile: bounded by the
 * stream's line limit and the dstring limits, logged through log.h (which
 * masks control characters).
 */
#ifndef HIKYAKU_SMTPD_SESSION_H
#define HIKYAKU_SMTPD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "dstring.h"
#include "smtpd_check.h"
#include "smtpd_command.h"

struct stream;
struct anvil_client;
struct cleanup_client;
struct network_list;
struct tls_session;

/* Commands counted for the "disconnect from ..." log line. */
enum smtpd_counter {
	SMTPD_COUNT_HELO,
	SMTPD_COUNT_EHLO,
	SMTPD_COUNT_STARTTLS,
	SMTPD_COUNT_AUTH,
	SMTPD_COUNT_MAIL,
	SMTPD_COUNT_RCPT,
	SMTPD_COUNT_DATA,
	SMTPD_COUNT_BDAT,
	SMTPD_COUNT_RSET,
	SMTPD_COUNT_NOOP,
	SMTPD_COUNT_VRFY,
	SMTPD_COUNT_ETRN,
	SMTPD_COUNT_QUIT,
	SMTPD_COUNT_UNKNOWN,
	SMTPD_COUNTERS,
};

struct smtpd_session {
	struct stream *stream;

	/* The client. */
	char *address;      /* "192.0.2.1" */
	char *name;         /* forward-confirmed name, or "unknown" */
	char *reverse_name; /* PTR name, or "unknown" */
	bool name_tempfail; /* "unknown" because a lookup failed for now */
	bool reverse_name_tempfail;
	char *namaddr;               /* "name[address]" for the logs */
	bool is_bare_newline_exempt; /* smtpd_forbid_bare_newline_exclusions */

	/* HELO/EHLO. */
	char *helo;
	bool is_esmtp;

	/* TLS. */
	struct tls_session *tls;
	/*
	 * The comment lines smtpd adds to the Received: header (cleanup's
	 * tls_info attribute), joined by "\n\t": "(using TLSv1.3 with cipher
	 * ...)" with smtpd_tls_received_header, "(Authenticated sender: U)"
	 * with smtpd_sasl_authenticated_header; NULL when there are none.
	 * smtpd_tls_info_update makes it.
	 */
	char *tls_info;

	/* SASL. */
	char *sasl_method, *sasl_username;
	void *sasl; /* smtpd_sasl.c's per-session state */

	/* The mail transaction. */
	bool has_mail;
	struct smtpd_mail_arguments mail;
	size_t recipient_count;     /* accepted */
	size_t recipient_overshoot; /* refused for the recipient limit */
	bool had_rcpt_reject;       /* some RCPT was refused */
	struct cleanup_client *cleanup;
	bool is_discard; /* a DISCARD action: accept and drop */
	/* BDAT in progress. */
	bool is_bdat;
	bool has_bdat_error;  /* a BDAT failed: the rest until LAST is read and dropped */
	long long bdat_size;  /* content bytes of this BDAT transaction so far */
	bool bdat_bare_lf;    /* a bare LF seen in the BDAT chunks */
	bool bdat_cr_pending; /* the last chunk ended in CR */

	/* Counters and limits. */
	int counts[SMTPD_COUNTERS][2]; /* [0] accepted, [1] given */
	int error_count;
	int junk_count;
	const char *where; /* the last command, for "lost connection after X" */
	bool is_done;      /* QUIT, a 421, or the connection broke */

	/* anvil's counts (smtpd_anvil.c); NULL when no limit applies. */
	struct anvil_client *anvil;

	/* Access control. */
	struct smtpd_check_client check_client;
	struct smtpd_check_result check_result;
};

/* smtpd.c */
/*
 * smtpd_reply: send one reply line (the text already has its code),
 * sleeping smtpd_error_sleep_time first once the soft error limit is
 * reached, as Postfix does, when the reply is an error.
 */
void smtpd_reply(struct smtpd_session *session, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* smtpd_count: count one command of kind; is_ok: it succeeded. */
void smtpd_count(struct smtpd_session *session, enum smtpd_counter kind, bool is_ok);
/* smtpd_protocol: "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA". */
const char *smtpd_protocol(const struct smtpd_session *session);
/* smtpd_reset_transaction: forget MAIL, RCPT and any open cleanup submission. */
void smtpd_reset_transaction(struct smtpd_session *session);
/* smtpd_log_reject: "NOQUEUE: reject: STAGE from ...: REPLY; from=<> to=<> proto= helo=<>". */
void smtpd_log_reject(struct smtpd_session *session, const char *stage, const char *reply,
                      const char *recipient);
/* smtpd_fill_check_client: refresh check_client from the session. */
void smtpd_fill_check_client(struct smtpd_session *session);
/*
 * smtpd_run_check: smtpd_check at stage; true when the command may go
 * on, else the reply was sent, logged and counted as an error.
 */
bool smtpd_run_check(struct smtpd_session *session, enum smtpd_check_stage stage,
                     const char *stage_name, const char *recipient);
/* smtpd_bare_newline_refused: smtpd_forbid_bare_newline refuses a bare LF from this client. */
bool smtpd_bare_newline_refused(const struct smtpd_session *session);
/* smtpd_lost: log "lost connection/timeout after X" and mark the session done. */
void smtpd_lost(struct smtpd_session *session, int status);
/*
 * smtpd_client_in_list: the client matches list; when parameter is not
 * set in main.cf (list NULL), whether it is in mynetworks, the default.
 */
bool smtpd_client_in_list(struct network_list *list, const char *parameter,
                          const struct smtpd_session *session);

/* smtpd_anvil.c: the limits anvil counts; each false after its reply. */
/* smtpd_anvil_pre_jail: open smtpd_client_event_limit_exceptions (fatal on error). */
void smtpd_anvil_pre_jail(struct dstring *error);
/* smtpd_anvil_admit: the connection count and rate limits (421). */
bool smtpd_anvil_admit(struct smtpd_session *session);
/* smtpd_anvil_message: smtpd_client_message_rate_limit at MAIL (450). */
bool smtpd_anvil_message(struct smtpd_session *session);
/* smtpd_anvil_recipient: smtpd_client_recipient_rate_limit at RCPT (450). */
bool smtpd_anvil_recipient(struct smtpd_session *session);
/* smtpd_anvil_auth: smtpd_client_auth_rate_limit at AUTH (450). */
bool smtpd_anvil_auth(struct smtpd_session *session);
/* smtpd_anvil_end: release the connection's count. */
void smtpd_anvil_end(struct smtpd_session *session);

/* smtpd_data.c */
/* smtpd_cleanup_open: open the submission at the first accepted RCPT; 0 or -1 (replied). */
int smtpd_cleanup_open(struct smtpd_session *session);
void smtpd_data_command(struct smtpd_session *session, const struct smtpd_command_line *command);
void smtpd_bdat_command(struct smtpd_session *session, const struct smtpd_command_line *command);

/* smtpd_tls.c */
/* smtpd_tls_pre_jail: make the TLS context when TLS is configured. */
void smtpd_tls_pre_jail(void);
/* smtpd_tls_is_offered: STARTTLS may be announced now. */
bool smtpd_tls_is_offered(const struct smtpd_session *session);
/* smtpd_tls_is_required: smtpd_tls_security_level = encrypt and no TLS yet. */
bool smtpd_tls_is_required(const struct smtpd_session *session);
/* smtpd_tls_wrapper: smtpd_tls_wrappermode: the handshake before the greeting; 0 or -1. */
int smtpd_tls_wrapper(struct smtpd_session *session);
void smtpd_starttls_command(struct smtpd_session *session,
                            const struct smtpd_command_line *command);
void smtpd_tls_end(struct smtpd_session *session);
/*
 * smtpd_tls_info_update: remake tls_info from the TLS session and the
 * authentication, per this service's smtpd_tls_received_header and
 * smtpd_sasl_authenticated_header (after STARTTLS, AUTH and its reset).
 */
void smtpd_tls_info_update(struct smtpd_session *session);

/* smtpd_sasl.c */
void smtpd_sasl_pre_jail(void);
/* smtpd_sasl_mechanisms: the AUTH mechanisms to announce now, or NULL. */
const char *smtpd_sasl_mechanisms(struct smtpd_session *session);
void smtpd_auth_command(struct smtpd_session *session, const struct smtpd_command_line *command);
/* smtpd_sasl_reset: forget the authentication (after STARTTLS, at the end). */
void smtpd_sasl_reset(struct smtpd_session *session);

#endif
