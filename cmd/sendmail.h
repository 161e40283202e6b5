/*
 * sendmail - the parts of the sendmail-compatible command shared by its
 * files: the envelope a user's options make, handing a message to
 * postdrop (sendmail_submit.c), and the -bs SMTP conversation
 * (sendmail_smtp.c). sendmail.c holds main and the option parsing.
 *
 * sendmail runs with the caller's privileges only; everything it checks
 * is checked again by postdrop, which trusts nothing it says.
 */
#ifndef HIKYAKU_SENDMAIL_H
#define HIKYAKU_SENDMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strlist.h"

struct sendmail_envelope {
	const char *sender;    /* "" for the null sender */
	const char *full_name; /* NULL: none */
	bool is_extract;       /* -t: recipients from the header too */
	const char *envid;     /* DSN -V, or NULL */
	const char *ret;       /* DSN -R: "FULL"/"HDRS", or NULL */
	const char *notify;    /* DSN -N: "NEVER" or "SUCCESS,FAILURE,DELAY" subset */
	const char *body;      /* -B: "7BIT" or "8BITMIME", or NULL */
	struct strlist recipients;
};

/* What the content loops need to know about the instance. */
struct sendmail_settings {
	const char *config_directory;
	long long size_limit; /* message_size_limit; 0: none */
	bool is_verbose;
};

struct sendmail_submission;

/*
 * sendmail_submission_start: run $command_directory/postdrop and send it
 * the envelope. Returns NULL (with the reason on standard error) when
 * postdrop cannot be started.
 */
struct sendmail_submission *sendmail_submission_start(const struct sendmail_settings *settings,
                                                      const struct sendmail_envelope *envelope);

/* sendmail_submission_write: more content. -1 once postdrop is gone. */
int sendmail_submission_write(struct sendmail_submission *submission, const void *data,
                              size_t length);

/*
 * sendmail_submission_finish: end the content and wait for postdrop.
 * Returns 0 only when the message is durably in maildrop/; otherwise a
 * sysexits.h status (EX_DATAERR: refused, too big; EX_TEMPFAIL: try again).
 */
int sendmail_submission_finish(struct sendmail_submission *submission);

/* sendmail_submission_abort: stop postdrop; nothing is queued. */
void sendmail_submission_abort(struct sendmail_submission *submission);

/*
 * sendmail_parse_address: the address in text ("user@host", "<user@host>",
 * "Name <user@host>"), without angle brackets or surrounding white space,
 * in a new string; NULL when text is not one address.
 */
char *sendmail_parse_address(const char *text);

/* sendmail_smtp: run -bs on standard input and output; the exit status. */
int sendmail_smtp(const struct sendmail_settings *settings);

#endif
