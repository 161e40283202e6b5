/*
 * smtp_reply - the SMTP client's reader of server replies (RFC 5321
 * section 4.2): one reply is one or more lines "NNN-text" ending with a
 * line "NNN text" (or "NNN" alone), all with the same code.
 *
 * Contract:
 * - A reply is parsed line by line (smtp_reply_parse_line, the pure part
 *   the fuzz target drives) or read from a stream (smtp_reply_read).
 * - Limits: a line holds at most SMTP_REPLY_LINE_MAX bytes before its
 *   newline, a reply at most SMTP_REPLY_LINES_MAX lines; beyond either
 *   the reply is an error, so a server that sends 10,000 lines or an
 *   endless line costs a fixed amount of memory, then a clear reason.
 * - The code is three digits, the first 2-5 and the second 0-5; every
 *   line of one reply must carry the same code. Anything else is an
 *   error ("malformed reply").
 * - The text is kept printable: bytes outside 0x20-0x7e (tab too) become
 *   '?', so a reply can go into logs and bounce messages as is. A CR
 *   before the newline is dropped; a bare LF is accepted as a line end.
 * - The enhanced status code (RFC 3463) is taken from the first line
 *   when its text starts with "C.S.D " and C agrees with the code; else
 *   it is derived from the code's class ("4.0.0", "5.0.0", "2.0.0").
 *
 * What it trusts: nothing in the server's bytes.
 */
#ifndef HIKYAKU_SMTP_REPLY_H
#define HIKYAKU_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "dstring.h"

struct stream;

/* Longest reply line, newline excluded (RFC 5321 says 512 with CRLF). */
#define SMTP_REPLY_LINE_MAX 4096
/* Most lines in one reply (an EHLO reply has a couple of dozen). */
#define SMTP_REPLY_LINES_MAX 200

struct smtp_reply {
	int code;          /* 200 .. 599, 0 while incomplete */
	char dsn[12];      /* "5.1.1": from the reply or derived from the code */
	size_t line_count; /* lines parsed so far */
	bool is_complete;  /* the last line was seen */
	/* The lines' texts after "NNN-" / "NNN ", printable, each ending in '\n'. */
	struct dstring text;
};

enum smtp_reply_status {
	SMTP_REPLY_MORE,  /* a continuation line: more lines follow */
	SMTP_REPLY_DONE,  /* the last line: the reply is complete */
	SMTP_REPLY_ERROR, /* malformed or over a limit; error says why */
};

void smtp_reply_init(struct smtp_reply *reply);
void smtp_reply_fini(struct smtp_reply *reply);
/* smtp_reply_reset: empty, ready for the first line of the next reply. */
void smtp_reply_reset(struct smtp_reply *reply);

/*
 * smtp_reply_parse_line: add one line (without its newline; a trailing CR
 * is dropped here) to reply. Returns MORE, DONE, or ERROR with a reason
 * in error. After DONE or ERROR, reset before parsing another reply.
 */
enum smtp_reply_status smtp_reply_parse_line(struct smtp_reply *reply, const char *line,
                                             size_t length, struct dstring *error);

enum smtp_reply_read_status {
	SMTP_REPLY_READ_OK,
	SMTP_REPLY_READ_EOF,     /* the server closed the connection */
	SMTP_REPLY_READ_TIMEOUT, /* the stream's time limit passed */
	SMTP_REPLY_READ_IO,      /* an I/O error (errno in error's text) */
	SMTP_REPLY_READ_BAD,     /* malformed, or over a limit */
};

/*
 * smtp_reply_read: read one whole reply from stream into reply (reset
 * first), within the stream's time limits. On anything but OK, error
 * gets a short reason ("malformed reply: ...", "reply has more than 200
 * lines").
 */
enum smtp_reply_read_status smtp_reply_read(struct stream *stream, struct smtp_reply *reply,
                                            struct dstring *error);

/*
 * smtp_reply_format: the reply on one line for logs and DSNs: "550 5.1.1
 * <a@example>: Recipient address rejected", lines joined with spaces.
 * Appends to out.
 */
void smtp_reply_format(const struct smtp_reply *reply, struct dstring *out);

/*
 * smtp_reply_line: the text of line index (from 0) into out (replacing
 * its contents), without the newline. false when there is no such line.
 * For EHLO keywords.
 */
bool smtp_reply_line(const struct smtp_reply *reply, size_t index, struct dstring *out);

#endif
