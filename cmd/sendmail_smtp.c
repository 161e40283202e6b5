/*
 * sendmail_smtp - sendmail -bs: an RFC 5321 server conversation on
 * standard input and output, for programs that submit by speaking SMTP to
 * a pipe. Each message is handed to postdrop like any other submission,
 * and its 250 comes only after postdrop made it durable.
 *
 * Commands: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (VRFY, HELP and
 * the rest are answered 502). EHLO offers PIPELINING, SIZE and 8BITMIME:
 * replies are flushed only when no more input is waiting.
 *
 * The peer is the calling user's own process, not the network, so lines
 * may end in LF or CRLF and "." alone on a line ends DATA either way;
 * smuggling does not apply to mail a user submits as themself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "maildrop_file.h"
#include "sendmail.h"
#include "stream.h"
#include "xalloc.h"

#define COMMAND_LINE_MAX 2048 /* more than RFC 5321's 512 */
#define DATA_PIECE 4096
#define RECIPIENTS_MAX 1000     /* smtpd_recipient_limit's default */
#define ERRORS_MAX 20           /* then 421 and hang up */
#define TIMEOUT_MS (300 * 1000) /* a silent peer for five minutes */

struct session {
	struct stream *input, *output;
	const struct sendmail_settings *settings;
	bool has_sender;
	struct sendmail_envelope envelope;
	char *sender;
	int errors;
};

static void
reply(struct session *session, const char *text)
{
	stream_puts(session->output, text);
	stream_puts(session->output, "\r\n");
}

static void
reset_transaction(struct session *session)
{
	strlist_fini(&session->envelope.recipients);
	strlist_init(&session->envelope.recipients);
	free(session->sender);
	session->sender = NULL;
	session->has_sender = false;
	session->envelope.body = NULL;
}

/*
 * parse_path: "FROM:<addr> PARAMS" after the verb: the address between
 * the brackets in *address (new string) and the parameters' start.
 * Returns -1 on bad syntax.
 */
static int
parse_path(const char *arguments, const char *keyword, char **address, const char **parameters)
{
	size_t keyword_length = strlen(keyword);
	const char *start, *end;

	if (strncasecmp(arguments, keyword, keyword_length) != 0)
		return -1;
	start = arguments + keyword_length;
	while (*start == ' ')
		start++;
	if (*start != '<' || (end = strchr(start, '>')) == NULL)
		return -1;
	*address = xstrndup(start + 1, (size_t)(end - start - 1));
	*parameters = end + 1;
	while (**parameters == ' ')
		(*parameters)++;
	return 0;
}

static void
command_mail(struct session *session, const char *arguments)
{
	const char *parameters;
	char *address;

	if (session->has_sender) {
		reply(session, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (parse_path(arguments, "FROM:", &address, &parameters) < 0) {
		reply(session, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (maildrop_value_check(MAILDROP_SENDER, address, strlen(address)) != NULL) {
		free(address);
		reply(session, "501 5.1.7 Bad sender address syntax");
		return;
	}
	/* Parameters: SIZE is checked, BODY is kept (7BIT/8BITMIME), others refused. */
	while (*parameters != '\0') {
		size_t length = strcspn(parameters, " ");

		if (strncasecmp(parameters, "SIZE=", 5) == 0) {
			long long size = strtoll(parameters + 5, NULL, 10);
			if (session->settings->size_limit > 0 &&
			    size > session->settings->size_limit) {
				free(address);
				reply(session, "552 5.3.4 Message size exceeds fixed limit");
				return;
			}
		} else if (length == 13 && strncasecmp(parameters, "BODY=8BITMIME", 13) == 0) {
			session->envelope.body = "8BITMIME";
		} else if (length == 9 && strncasecmp(parameters, "BODY=7BIT", 9) == 0) {
			session->envelope.body = "7BIT";
		} else if (strncasecmp(parameters, "BODY=", 5) == 0) {
			free(address);
			reply(session, "501 5.5.4 Unsupported BODY parameter value");
			return;
		} else {
			free(address);
			reply(session, "555 5.5.4 Unsupported option");
			return;
		}
		parameters += length;
		while (*parameters == ' ')
			parameters++;
	}
	session->sender = address;
	session->has_sender = true;
	reply(session, "250 2.1.0 Ok");
}

static void
command_rcpt(struct session *session, const char *arguments)
{
	const char *parameters;
	char *address;

	if (!session->has_sender) {
		reply(session, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (parse_path(arguments, "TO:", &address, &parameters) < 0) {
		reply(session, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (*parameters != '\0') {
		reply(session, "555 5.5.4 Unsupported option");
	} else if (address[0] == '\0' ||
	           maildrop_value_check(MAILDROP_RECIPIENT, address, strlen(address)) != NULL) {
		reply(session, "501 5.1.3 Bad recipient address syntax");
	} else if (session->envelope.recipients.count >= RECIPIENTS_MAX) {
		reply(session, "452 4.5.3 Error: too many recipients");
	} else {
		strlist_append(&session->envelope.recipients, address);
		reply(session, "250 2.1.5 Ok");
	}
	free(address);
}

/*
 * receive_data: the message after 354, up to the "." line, unstuffed and
 * with LF line ends, into submission (NULL: read and discard). Returns 0
 * at the end of the data, EX_DATAERR when it passed the size limit (the
 * rest was read), or -1 when the input ended or failed.
 */
static int
receive_data(struct session *session, struct sendmail_submission *submission)
{
	struct dstring line;
	bool is_line_start = true, is_too_big = false;
	long long size = 0;
	int result = -1;

	dstring_init(&line, DATA_PIECE + 1);
	for (;;) {
		enum stream_status status;
		const char *data;
		size_t length;

		dstring_reset(&line);
		status = stream_gets(session->input, &line, DATA_PIECE);
		if (status != STREAM_OK && status != STREAM_PARTIAL)
			break;
		data = dstring_str(&line);
		length = dstring_length(&line);
		if (is_line_start && status == STREAM_OK &&
		    (strcmp(data, ".\r\n") == 0 || strcmp(data, ".\n") == 0)) {
			result = is_too_big ? EX_DATAERR : 0;
			break;
		}
		if (is_line_start && data[0] == '.') {
			data++;
			length--;
		}
		if (status == STREAM_OK && length >= 2 && data[length - 2] == '\r') {
			/* CRLF to LF: write the line without its CR, then the LF. */
			length -= 2;
			size += (long long)length + 1;
			if (submission != NULL && !is_too_big) {
				sendmail_submission_write(submission, data, length);
				sendmail_submission_write(submission, "\n", 1);
			}
		} else {
			size += (long long)length;
			if (submission != NULL && !is_too_big)
				sendmail_submission_write(submission, data, length);
		}
		if (session->settings->size_limit > 0 && size > session->settings->size_limit)
			is_too_big = true;
		is_line_start = status == STREAM_OK;
	}
	dstring_fini(&line);
	return result;
}

/* command_data: returns -1 when the session must end. */
static int
command_data(struct session *session)
{
	struct sendmail_submission *submission;
	int result;

	if (!session->has_sender) {
		reply(session, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (session->envelope.recipients.count == 0) {
		reply(session, "554 5.5.1 Error: no valid recipients");
		return 0;
	}
	session->envelope.sender = session->sender;
	submission = sendmail_submission_start(session->settings, &session->envelope);
	if (submission == NULL) {
		reply(session, "451 4.3.0 Error: queue file write error");
		reset_transaction(session);
		return 0;
	}
	reply(session, "354 End data with <CR><LF>.<CR><LF>");
	stream_flush(session->output);
	result = receive_data(session, submission);
	if (result != 0) {
		sendmail_submission_abort(submission);
		if (result < 0)
			return -1;
		reply(session, "552 5.3.4 Error: message file too big");
	} else if ((result = sendmail_submission_finish(submission)) == 0) {
		reply(session, "250 2.0.0 Ok: queued");
	} else if (result == EX_DATAERR) {
		reply(session, "554 5.3.0 Error: message refused");
	} else {
		reply(session, "451 4.3.0 Error: queue file write error");
	}
	reset_transaction(session);
	return 0;
}

/* dispatch: one command line (without its line end). -1 ends the session. */
static int
dispatch(struct session *session, char *line)
{
	char *arguments = line + strcspn(line, " ");

	if (*arguments == ' ')
		*arguments++ = '\0';
	if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0) {
		if (*arguments == '\0') {
			reply(session, "501 Syntax: HELO hostname");
			return 0;
		}
		reset_transaction(session);
		if (strcasecmp(line, "HELO") == 0) {
			stream_printf(session->output, "250 %s\r\n", var_myhostname);
			return 0;
		}
		stream_printf(session->output, "250-%s\r\n250-PIPELINING\r\n", var_myhostname);
		stream_printf(session->output, "250-SIZE %lld\r\n", session->settings->size_limit);
		reply(session, "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES");
	} else if (strcasecmp(line, "MAIL") == 0) {
		command_mail(session, arguments);
	} else if (strcasecmp(line, "RCPT") == 0) {
		command_rcpt(session, arguments);
	} else if (strcasecmp(line, "DATA") == 0) {
		if (*arguments != '\0') {
			reply(session, "501 5.5.4 Syntax: DATA");
			return 0;
		}
		return command_data(session);
	} else if (strcasecmp(line, "RSET") == 0) {
		reset_transaction(session);
		reply(session, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0) {
		reply(session, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "QUIT") == 0) {
		reply(session, "221 2.0.0 Bye");
		return -1;
	} else if (strcasecmp(line, "VRFY") == 0 || strcasecmp(line, "EXPN") == 0 ||
	           strcasecmp(line, "HELP") == 0 || strcasecmp(line, "STARTTLS") == 0 ||
	           strcasecmp(line, "AUTH") == 0 || strcasecmp(line, "BDAT") == 0) {
		reply(session, "502 5.5.1 Error: command not implemented");
		session->errors++;
	} else {
		reply(session, "500 5.5.2 Error: command not recognized");
		session->errors++;
	}
	return 0;
}

int
sendmail_smtp(const struct sendmail_settings *settings)
{
	struct session session;
	struct dstring line;

	memset(&session, 0, sizeof(session));
	session.settings = settings;
	session.input = stream_open(0);
	session.output = stream_open(1);
	stream_set_timeout(session.input, TIMEOUT_MS);
	stream_set_timeout(session.output, TIMEOUT_MS);
	strlist_init(&session.envelope.recipients);
	dstring_init(&line, COMMAND_LINE_MAX + 1);

	stream_printf(session.output, "220 %s ESMTP hikyaku\r\n", var_myhostname);
	/* Bounded: each turn consumes a line of input or ends the session. */
	for (;;) {
		enum stream_status status;
		size_t length;

		if (session.errors >= ERRORS_MAX) {
			reply(&session, "421 4.7.0 Error: too many errors");
			break;
		}
		/* Pipelining: answer in one write once the peer's batch is read. */
		if (stream_pending(session.input) == 0 && stream_flush(session.output) != STREAM_OK)
			break;
		dstring_reset(&line);
		status = stream_gets(session.input, &line, COMMAND_LINE_MAX);
		if (status == STREAM_PARTIAL && !stream_at_eof(session.input)) {
			stream_skip_line(session.input);
			reply(&session, "500 5.5.2 Error: line too long");
			session.errors++;
			continue;
		}
		if (status != STREAM_OK && status != STREAM_PARTIAL)
			break;
		length = dstring_length(&line);
		while (length > 0 &&
		       (line.data[length - 1] == '\n' || line.data[length - 1] == '\r'))
			length--;
		dstring_truncate(&line, length);
		if (memchr(line.data, '\0', length) != NULL) {
			reply(&session, "500 5.5.2 Error: NUL in command");
			session.errors++;
			continue;
		}
		if (dispatch(&session, line.data) < 0)
			break;
	}
	reset_transaction(&session);
	strlist_fini(&session.envelope.recipients);
	dstring_fini(&line);
	stream_free(session.input);
	stream_close(session.output);
	return 0;
}
