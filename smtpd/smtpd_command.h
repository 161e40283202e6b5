/*
 * smtpd_command - the SMTP server's parsers of client input: the command
 * line, RFC 5321 paths (MAIL FROM:<...>, RCPT TO:<...>), the ESMTP
 * parameters of MAIL and RCPT, and RFC 3461 xtext.
 *
 * Contract:
 * - Pure functions over (pointer, length): no I/O, no configuration read
 *   except what the caller passes, so the fuzz targets call them as is.
 * - A path is turned into the internal (unquoted) form the queue holds:
 *   "<\"john doe\"@example.com>" -> "john doe@example.com". A source route
 *   ("<@a,@b:user@dom>") is recognised and dropped (RFC 5321 C). '%' and
 *   '!' are ordinary local-part characters: they never make an address
 *   routed somewhere else (the domain after the last '@' decides).
 * - Every error comes back as a whole SMTP reply text, code and enhanced
 *   status included ("501 5.1.7 Bad sender address syntax"), so the
 *   caller only sends it.
 *
 * What it trusts: nothing in the input. Lengths are bounded by the
 * caller's line limit and by SMTPD_ADDRESS_MAX here.
 */
#ifndef HIKYAKU_SMTPD_COMMAND_H
#define HIKYAKU_SMTPD_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "dstring.h"

/*
 * The longest address (internal form) and domain accepted. RFC 5321 asks
 * for 256-byte paths, but real mail (VERP, SRS) has longer local parts, so
 * only an absurd length is refused.
 */
#define SMTPD_ADDRESS_MAX 512
#define SMTPD_DOMAIN_MAX 255

/* smtpd_command_split: the verb (up to the first space) and the rest. */
struct smtpd_command_line {
	const char *verb;
	size_t verb_length;
	const char *arguments; /* after the spaces that follow the verb */
	size_t arguments_length;
};
void smtpd_command_split(const char *line, size_t length, struct smtpd_command_line *out);

/* smtpd_command_is: the verb is name, case-insensitively. */
bool smtpd_command_is(const struct smtpd_command_line *command, const char *name);

/*
 * smtpd_path_parse: parse an RFC 5321 path ("<user@example.com>", "<>",
 * or without brackets as broken clients send) of length bytes into its
 * internal form, appended to out (empty for "<>"). Returns 0, or -1 when
 * the text is not a path. An address with no '@' is accepted (an
 * unqualified user such as <postmaster>).
 */
int smtpd_path_parse(const char *text, size_t length, struct dstring *out);

/*
 * smtpd_xtext_decode: RFC 3461 xtext ("a+2Bb" -> "a+b") appended to out.
 * Returns -1 on bad syntax or a decoded control character.
 */
int smtpd_xtext_decode(const char *text, size_t length, struct dstring *out);

enum smtpd_body_type {
	SMTPD_BODY_NONE,
	SMTPD_BODY_7BIT,
	SMTPD_BODY_8BITMIME,
};

struct smtpd_mail_arguments {
	struct dstring sender; /* internal form; "" is the null sender */
	long long size;        /* SIZE=, -1 when absent; LLONG_MAX when huge */
	enum smtpd_body_type body;
	bool is_smtputf8;
	struct dstring ret;   /* "FULL", "HDRS" or "" */
	struct dstring envid; /* decoded ENVID, or "" */
	struct dstring auth;  /* decoded AUTH= ("<>" allowed), or "" */
	bool has_auth;
};

struct smtpd_rcpt_arguments {
	struct dstring recipient; /* internal form */
	unsigned notify;          /* enum cleanup_notify mask, 0: absent */
	struct dstring orcpt;     /* "rfc822;user@example.com", decoded, or "" */
};

void smtpd_mail_arguments_init(struct smtpd_mail_arguments *mail);
void smtpd_mail_arguments_fini(struct smtpd_mail_arguments *mail);
void smtpd_rcpt_arguments_init(struct smtpd_rcpt_arguments *rcpt);
void smtpd_rcpt_arguments_fini(struct smtpd_rcpt_arguments *rcpt);

/*
 * smtpd_mail_parse: the arguments of MAIL ("FROM:<a@b> SIZE=10 ...").
 * Returns 0 (mail filled), or -1 with the SMTP reply to send in reply.
 */
int smtpd_mail_parse(const char *arguments, size_t length, struct smtpd_mail_arguments *mail,
                     struct dstring *reply);

/* smtpd_rcpt_parse: the arguments of RCPT ("TO:<a@b> NOTIFY=... ORCPT=..."). */
int smtpd_rcpt_parse(const char *arguments, size_t length, struct smtpd_rcpt_arguments *rcpt,
                     struct dstring *reply);

/*
 * smtpd_bdat_parse: "SIZE [LAST]". Returns 0 with *size and *is_last, or
 * -1 on bad syntax. A size past LLONG_MAX is reported as LLONG_MAX.
 */
int smtpd_bdat_parse(const char *arguments, size_t length, long long *size, bool *is_last);

/* smtpd_is_printable: every byte is printable ASCII or 8-bit (no controls). */
bool smtpd_is_printable(const char *text, size_t length);

#endif
