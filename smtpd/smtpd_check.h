/*
 * smtpd_check - the SMTP server's access control: Postfix restriction lists.
 *
 * Contract: smtpd_check_init() runs once before the jail (chroot/privilege
 * drop). It parses every smtpd_*_restrictions list and
 * smtpd_restriction_classes, opens every lookup table they name (a table that
 * cannot be opened stays in its list as broken: a lookup that reaches it
 * answers "451 4.3.0 <name>: Temporary lookup failure", it never crashes
 * the server), and computes mynetworks. A configuration error (an unknown restriction name, a
 * restriction missing its table) makes it return -1 with a reason naming
 * the parameter and the bad word.
 *
 * The session logs result.log (with code 0 too: warn, discard,
 * reject_warning lines) with the queue ID or "NOQUEUE: " in front, and
 * fills protocol and the *_tempfail flags when it knows them.
 * docs/access.md lists the restrictions and their replies.
 *
 * smtpd_check() evaluates the restrictions due at one stage of the SMTP
 * dialogue, the way Postfix does: with smtpd_delay_reject = yes (the
 * default) the client, HELO and sender restrictions run at RCPT time; at
 * RCPT, for each recipient, smtpd_relay_restrictions, then
 * smtpd_recipient_restrictions, then the implicit reject_unlisted_recipient
 * (smtpd_reject_unlisted_recipient); the implicit reject_unlisted_sender
 * (smtpd_reject_unlisted_sender) follows the sender restrictions.
 *
 * Trust: everything in struct smtpd_check_client and the addresses comes
 * from the client (or the DNS) and is treated as hostile; the lookup tables
 * and main.cf are trusted configuration.
 */
#ifndef HIKYAKU_SMTPD_CHECK_H
#define HIKYAKU_SMTPD_CHECK_H

#include <stdbool.h>

#include "dstring.h"

struct smtpd_check_client {
	const char *name;          /* forward-confirmed client hostname, or "unknown" */
	const char *reverse_name;  /* PTR name, or "unknown" */
	const char *address;       /* "192.0.2.1", "2001:db8::1" */
	const char *helo;          /* NULL until HELO/EHLO */
	const char *sasl_username; /* NULL unless authenticated */
	const char *sasl_method;
	bool is_tls;
	/* Optional, added after the fixed names (zero/NULL when unknown): */
	const char *protocol;       /* "ESMTP", "SMTP" for the log's proto=; NULL: left out */
	bool name_tempfail;         /* name is "unknown" because of a DNS temporary error */
	bool reverse_name_tempfail; /* the same for reverse_name */
};

enum smtpd_check_stage {
	SMTPD_CHECK_CONNECT,
	SMTPD_CHECK_HELO,
	SMTPD_CHECK_MAIL,
	SMTPD_CHECK_RCPT,
	SMTPD_CHECK_DATA,
	SMTPD_CHECK_END_OF_DATA,
	SMTPD_CHECK_ETRN,
};

struct smtpd_check_result {
	int code;             /* 0: go on; else the SMTP reply code (4xx/5xx) */
	struct dstring reply; /* with code != 0: the text after the code, with
	                         enhanced status: "5.7.1 <x@y>: Relay access denied" */
	bool is_discard;      /* DISCARD action: accept but drop the message */
	struct dstring log;   /* what to log, e.g. "reject: RCPT from host[addr]:
	                         554 5.7.1 ...; from=<> to=<> proto=ESMTP helo=<>";
	                         may be set with code == 0 (warn_if_reject, WARN,
	                         DISCARD) */
};

/*
 * smtpd_check_init: before the jail, parse every restriction list and
 * smtpd_restriction_classes, open every table, build mynetworks. 0, or -1
 * with the reason in error.
 */
int smtpd_check_init(struct dstring *error);
/* smtpd_check_fini: release what smtpd_check_init made (for tests). */
void smtpd_check_fini(void);

void smtpd_check_result_init(struct smtpd_check_result *result);
void smtpd_check_result_fini(struct smtpd_check_result *result);
/* smtpd_check_result_reset: back to "go on", keeping the buffers. */
void smtpd_check_result_reset(struct smtpd_check_result *result);

/*
 * smtpd_check: evaluate the restrictions due at stage. sender and recipient
 * are in internal form ("" is the null sender), NULL when not known at this
 * stage. The result is code 0 to go on, or the reply to send.
 */
void smtpd_check(enum smtpd_check_stage stage,
    const struct smtpd_check_client *client, const char *sender,
    const char *recipient, struct smtpd_check_result *result);

/* smtpd_check_is_mynetworks: whether address is in mynetworks. */
bool smtpd_check_is_mynetworks(const char *address);

#endif
