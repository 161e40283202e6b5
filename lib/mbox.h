/*
 * mbox - the pieces of the traditional UNIX mailbox format ("mboxo", as
 * Postfix's local(8) writes it) that do not touch the file system: the
 * "From " separator line and the quoting of body lines.
 *
 * A mailbox is a sequence of messages, each starting with a line
 *   From SENDER DATE
 * (SENDER the envelope sender, MAILER-DAEMON for the null sender; DATE
 * in asctime(3) form, "Mon Jan  2 15:04:05 2006"), then the message, then
 * one empty line. Every line of the message that begins with "From " is
 * written as ">From " so a reader never takes it for a separator; lines
 * already beginning with ">From " are left alone (mboxo, not mboxrd: the
 * format Postfix, mutt and Python's mailbox.mbox expect).
 *
 * The quoter works on a byte stream cut anywhere: it keeps the start of
 * a line that might become "From " until it knows. It trusts nothing in
 * the bytes; NUL and 8-bit bytes are data.
 */
#ifndef HIKYAKU_MBOX_H
#define HIKYAKU_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct dstring;

/* What the null sender is written as in the separator line. */
#define MBOX_NULL_SENDER "MAILER-DAEMON"

/*
 * mbox_from_line: append "From SENDER DATE\n" to out; sender "" is
 * MBOX_NULL_SENDER, when is shown in local time. White space or control
 * characters in sender would break the line: they are written as '_'.
 */
void mbox_from_line(struct dstring *out, const char *sender, time_t when);

struct mbox_quoter {
	bool is_line_start; /* the next byte starts a line */
	size_t held;        /* bytes of a possible "From " kept back */
	char hold[5];
	char last; /* the last byte given, '\n' before any */
};

/* mbox_quoter_init: a quoter at the start of a message. */
void mbox_quoter_init(struct mbox_quoter *quoter);

/*
 * mbox_quote: append length bytes of message text to out with ">" before
 * each line that begins with "From ". A few bytes at the end may be kept
 * back until the next call or mbox_quote_finish.
 */
void mbox_quote(struct mbox_quoter *quoter, const char *data, size_t length, struct dstring *out);

/* mbox_quote_finish: append the bytes kept back. */
void mbox_quote_finish(struct mbox_quoter *quoter, struct dstring *out);

/* mbox_ends_with_newline: whether the last byte given was a newline. */
bool mbox_ends_with_newline(const struct mbox_quoter *quoter);

#endif
