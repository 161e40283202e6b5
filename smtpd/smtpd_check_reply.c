/*
 * smtpd_check_reply - the replies and log lines of smtpd's access
 * control (see smtpd_check_internal.h).
 *
 * Replies follow Postfix's smtpd_check.c word for word, because
 * administrators and their log watchers (fail2ban, pflogsumm) match them:
 * "554 5.7.1 <x@example.net>: Relay access denied". The enhanced status
 * code's class digit always follows the reply code (a 450 never carries
 * 5.x.x), as Postfix's smtpd_check_reject makes sure. Log lines are
 * Postfix's too: "reject: RCPT from host[addr]: 554 5.7.1 ...; from=<s>
 * to=<r> proto=ESMTP helo=<h>" (the session adds the queue ID or
 * "NOQUEUE: " in front).
 *
 * Trust: the texts hold client data (addresses, HELO names), always
 * through "%s", never as a format.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtpd_check_internal.h"

/* ---- Replies and logs -------------------------------------------------- */

static const char *
stage_name(const struct check_state *state)
{
	switch (state->stage) {
	case SMTPD_CHECK_CONNECT:
		return "CONNECT";
	case SMTPD_CHECK_HELO:
		return state->client->protocol != NULL &&
		               strcasecmp(state->client->protocol, "SMTP") == 0
		           ? "HELO"
		           : "EHLO";
	case SMTPD_CHECK_MAIL:
		return "MAIL";
	case SMTPD_CHECK_RCPT:
		return "RCPT";
	case SMTPD_CHECK_DATA:
		return "DATA";
	case SMTPD_CHECK_END_OF_DATA:
		return "END-OF-MESSAGE";
	case SMTPD_CHECK_ETRN:
		return "ETRN";
	}
	return "UNKNOWN";
}

const char *
check_client_text(struct check_state *state)
{
	return dstring_str(&state->client_text);
}

void
check_log(struct check_state *state, const char *action, const char *text)
{
	struct dstring *log = &state->result->log;
	const struct smtpd_check_client *client = state->client;

	/* One line per call: a later event (the final reject) replaces a warning. */
	if (dstring_length(log) > 0)
		log_info("%s", dstring_str(log));
	dstring_printf(log, "%s: %s from %s: %s;", action, stage_name(state),
	               check_client_text(state), text);
	if (state->sender != NULL)
		dstring_append_printf(log, " from=<%s>", state->sender);
	if (state->recipient != NULL)
		dstring_append_printf(log, " to=<%s>", state->recipient);
	if (client->protocol != NULL)
		dstring_append_printf(log, " proto=%s", client->protocol);
	if (client->helo != NULL)
		dstring_append_printf(log, " helo=<%s>", client->helo);
}

/*
 * format_reply: "code dsn text" into out, the dsn's class digit made to
 * agree with the code (Postfix's smtpd_check_reject does the same).
 */
static void
format_reply(struct dstring *out, int code, const char *dsn, const char *text)
{
	char fixed[32];
	size_t length = strlen(dsn);

	if (length >= sizeof(fixed))
		length = sizeof(fixed) - 1;
	memcpy(fixed, dsn, length);
	fixed[length] = '\0';
	if ((fixed[0] == '4' || fixed[0] == '5') && (code / 100 == 4 || code / 100 == 5))
		fixed[0] = (char)('0' + code / 100);
	dstring_printf(out, "%s %s", fixed, text);
}

/* check_reject_reply: a finished reply (dsn first) with its code. */
enum check_verdict
check_reject_reply(struct check_state *state, int code, const char *reply)
{
	struct dstring line;

	dstring_init(&line, DSTRING_NO_LIMIT);
	dstring_printf(&line, "%d %s", code, reply);
	if (state->warn_if_reject) {
		check_log(state, "reject_warning", dstring_str(&line));
		dstring_fini(&line);
		return CHECK_DUNNO;
	}
	state->result->code = code;
	dstring_set(&state->result->reply, reply);
	check_log(state, "reject", dstring_str(&line));
	dstring_fini(&line);
	return CHECK_REJECT;
}

enum check_verdict
check_reject(struct check_state *state, int code, const char *dsn, const char *format, ...)
{
	struct dstring text, reply;
	va_list args;
	enum check_verdict verdict;

	dstring_init(&text, DSTRING_NO_LIMIT);
	dstring_init(&reply, DSTRING_NO_LIMIT);
	va_start(args, format);
	dstring_append_vprintf(&text, format, args);
	va_end(args);
	format_reply(&reply, code, dsn, dstring_str(&text));
	verdict = check_reject_reply(state, code, dstring_str(&reply));
	dstring_fini(&text);
	dstring_fini(&reply);
	return verdict;
}

/* is_dsn: whether text starts with an enhanced status code "4.7.1 ". */
static size_t
dsn_length(const char *text)
{
	size_t at = 0;

	if (text[0] != '2' && text[0] != '4' && text[0] != '5')
		return 0;
	if (text[1] != '.')
		return 0;
	at = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = strspn(text + at, "0123456789");

		if (digits == 0 || digits > 3)
			return 0;
		at += digits;
		if (part == 0) {
			if (text[at] != '.')
				return 0;
			at++;
		}
	}
	return text[at] == ' ' || text[at] == '\0' ? at : 0;
}

enum check_verdict
check_reject_text(struct check_state *state, const char *reply, const char *default_dsn)
{
	int code;
	size_t length;
	char dsn[32];

	if (!isdigit((unsigned char)reply[0]) || !isdigit((unsigned char)reply[1]) ||
	    !isdigit((unsigned char)reply[2]) || (reply[3] != ' ' && reply[3] != '\0') ||
	    (reply[0] != '4' && reply[0] != '5')) {
		log_warning("bad reply \"%s\": it must start with a 4xx or 5xx code", reply);
		return check_server_error(state);
	}
	code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');
	reply += 3;
	reply += strspn(reply, " ");
	length = dsn_length(reply);
	if (length > 0 && length < sizeof(dsn)) {
		memcpy(dsn, reply, length);
		dsn[length] = '\0';
		reply += length;
		reply += strspn(reply, " ");
	} else {
		snprintf(dsn, sizeof(dsn), "%s", default_dsn);
	}
	return check_reject(state, code, dsn, "%s", reply);
}

enum check_verdict
check_tempfail(struct check_state *state, const char *action, const char *dsn,
               const char *format, ...)
{
	struct dstring text;
	va_list args;

	dstring_init(&text, DSTRING_NO_LIMIT);
	va_start(args, format);
	dstring_append_vprintf(&text, format, args);
	va_end(args);
	/* reject_tempfail_action: defer, defer_if_permit (default) or reject-like. */
	if (action != NULL && strcasecmp(action, "defer") == 0) {
		enum check_verdict verdict = check_reject(state, 450, dsn, "%s", dstring_str(&text));

		dstring_fini(&text);
		return verdict;
	}
	if (!state->warn_if_reject && !state->has_defer_if_permit) {
		state->has_defer_if_permit = true;
		format_reply(&state->defer_if_permit, 450, dsn, dstring_str(&text));
	}
	dstring_fini(&text);
	return CHECK_DUNNO;
}

enum check_verdict
check_dict_retry(struct check_state *state, const char *reply_name)
{
	return check_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure", reply_name);
}

enum check_verdict
check_server_error(struct check_state *state)
{
	return check_reject(state, 451, "4.3.5", "Server configuration error");
}
