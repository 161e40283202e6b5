/*
 * smtpd_data - the message content: DATA (RFC 5321 4.1.1.4, with exact
 * dot-unstuffing), BDAT (RFC 3030 CHUNKING), and the hand-off to cleanup
 * (lib/cleanup_client.h) as the bytes arrive.
 *
 * Contract:
 * - Only <CR><LF>.<CR><LF> ends DATA: the "." line must follow a line
 *   that ended in CRLF and itself end in CRLF. A bare LF, <LF>.<LF>,
 *   <LF>.<CR><LF>, <CR>.<CR> never end it (no SMTP smuggling: whatever
 *   follows stays part of this one message, or of its rejection).
 * - With smtpd_forbid_bare_newline = yes (the default) a bare LF in the
 *   content makes the whole transaction fail with
 *   "550 5.5.2 Error: bare <LF> received" after the real end of the data;
 *   the cleanup submission is abandoned at once, so nothing is queued.
 *   A bare CR is content like any other byte.
 * - message_size_limit: past it the content is read and dropped, and the
 *   answer after the end is 552 5.3.4.
 * - 250 is sent only when cleanup_client_finish says CLEANUP_OK (the
 *   queue file is on stable storage); a cleanup that is down, slow or
 *   failing gives 451 4.3.0, a permanent cleanup verdict a 5xx with
 *   cleanup's reason.
 *
 * What it trusts: nothing in the content; every read is bounded by the
 * stream's timeout and by the sizes here.
 */
#include <limits.h>
#include <string.h>

#include "cleanup_client.h"
#include "config.h"
#include "log.h"
#include "smtpd_session.h"
#include "stream.h"

/* How much content one read takes. */
#define DATA_PIECE 8192
#define BDAT_PIECE 65536

int
smtpd_cleanup_open(struct smtpd_session *session)
{
	struct dstring error;
	struct cleanup_envelope envelope;

	dstring_init(&error, 2048);
	session->cleanup =
	    cleanup_client_open(CLEANUP_CLIENT_SERVICE_PATH, var_smtpd_timeout * 1000, &error);
	if (session->cleanup == NULL) {
		log_warning("%s: cannot submit to the cleanup service: %s", session->namaddr,
		            dstring_str(&error));
		smtpd_reply(session, "451 4.3.0 Error: queue file write error");
		dstring_fini(&error);
		return -1;
	}
	dstring_fini(&error);
	memset(&envelope, 0, sizeof(envelope));
	envelope.flags = CLEANUP_FLAG_EARLY_QUEUE_ID;
	envelope.uid = -1;
	envelope.sender = dstring_str(&session->mail.sender);
	envelope.envid = dstring_str(&session->mail.envid);
	envelope.ret = dstring_str(&session->mail.ret);
	envelope.protocol = smtpd_protocol(session);
	envelope.helo = session->helo;
	envelope.client_name = session->name;
	envelope.client_address = session->address;
	envelope.sasl_method = session->sasl_method;
	envelope.sasl_username = session->sasl_username;
	envelope.tls_info = session->tls_info;
	/* Passed on so smtp can announce BODY=8BITMIME to the next server. */
	envelope.body = session->mail.body == SMTPD_BODY_8BITMIME ? "8BITMIME"
	                : session->mail.body == SMTPD_BODY_7BIT   ? "7BIT"
	                                                          : NULL;
	envelope.is_smtputf8 = session->mail.is_smtputf8;
	cleanup_client_envelope(session->cleanup, &envelope);
	return 0;
}

/* abandon: drop the submission; cleanup removes its temporary file. */
static void
abandon(struct smtpd_session *session)
{
	cleanup_client_close(session->cleanup);
	session->cleanup = NULL;
}

/*
 * finish: the verdict on a complete message, and the reply. The
 * transaction is over either way.
 */
static void
finish(struct smtpd_session *session, bool has_bare_lf, bool is_too_big, const char *stage)
{
	struct cleanup_result result;
	const char *queue_id;

	if (has_bare_lf) {
		abandon(session);
		log_info("NOQUEUE: reject: %s from %s: %d 5.5.2 Error: bare <LF> received; "
		         "from=<%s> proto=%s helo=<%s>",
		         stage, session->namaddr, var_smtpd_forbid_bare_newline_reject_code,
		         dstring_str(&session->mail.sender), smtpd_protocol(session),
		         session->helo != NULL ? session->helo : "");
		smtpd_reply(session, "%d 5.5.2 Error: bare <LF> received",
		            var_smtpd_forbid_bare_newline_reject_code);
		session->error_count++;
		goto done;
	}
	if (is_too_big) {
		abandon(session);
		log_info("NOQUEUE: reject: %s from %s: 552 5.3.4 Error: message file too big; "
		         "from=<%s> proto=%s",
		         stage, session->namaddr, dstring_str(&session->mail.sender),
		         smtpd_protocol(session));
		smtpd_reply(session, "552 5.3.4 Error: message file too big");
		session->error_count++;
		goto done;
	}
	if (!smtpd_run_check(session, SMTPD_CHECK_END_OF_DATA, "END-OF-MESSAGE", NULL)) {
		abandon(session);
		goto done;
	}
	if (session->is_discard) {
		abandon(session);
		log_info("NOQUEUE: discard: %s from %s: from=<%s> proto=%s", stage,
		         session->namaddr, dstring_str(&session->mail.sender),
		         smtpd_protocol(session));
		smtpd_reply(session, "250 2.0.0 Ok: discarded");
		goto done;
	}
	if (session->cleanup == NULL) {
		/* Cannot happen: every path that abandons the submission replies above. */
		log_warning("%s: %s without a cleanup submission", session->namaddr, stage);
		smtpd_reply(session, "451 4.3.0 Error: queue file write error");
		goto done;
	}
	/*
	 * "ID: client=" before cleanup can queue the message, so it comes
	 * before the queue manager's "ID: from=" in the log, as in Postfix's.
	 */
	queue_id = cleanup_client_queue_id(session->cleanup);
	if (queue_id != NULL && queue_id[0] != '\0') {
		if (session->sasl_username != NULL)
			log_info("%s: client=%s, sasl_method=%s, sasl_username=%s", queue_id,
			         session->namaddr, session->sasl_method, session->sasl_username);
		else
			log_info("%s: client=%s", queue_id, session->namaddr);
	}
	cleanup_client_finish(session->cleanup, &result);
	switch (result.status) {
	case CLEANUP_OK:
		smtpd_reply(session, "250 2.0.0 Ok: queued as %s", result.queue_id);
		break;
	case CLEANUP_TEMPFAIL:
		log_warning("%s: queue file write error: %s", session->namaddr, result.reason);
		smtpd_reply(session, "451 4.3.0 Error: queue file write error");
		break;
	case CLEANUP_PERMFAIL:
		log_info("NOQUEUE: reject: %s from %s: %s; from=<%s> proto=%s", stage,
		         session->namaddr, result.reason, dstring_str(&session->mail.sender),
		         smtpd_protocol(session));
		smtpd_reply(
		    session, "%s %s", strncmp(result.reason, "5.3.4", 5) == 0 ? "552" : "554",
		    result.reason[0] == '5' ? result.reason : "5.3.0 Error: message rejected");
		session->error_count++;
		break;
	}
done:
	smtpd_reset_transaction(session);
}

/* bare_lf_in: whether bytes hold a LF not preceded by CR (*cr: the byte before). */
static bool
bare_lf_in(const char *bytes, size_t length, bool *cr)
{
	bool found = false;

	for (size_t i = 0; i < length; i++) {
		if (bytes[i] == '\n' && !*cr)
			found = true;
		*cr = bytes[i] == '\r';
	}
	return found;
}

/* no_recipients: the reply to DATA/BDAT without an accepted RCPT. */
static void
no_recipients(struct smtpd_session *session)
{
	if (session->had_rcpt_reject)
		smtpd_reply(session, "554 5.5.1 Error: no valid recipients");
	else if (!session->has_mail)
		smtpd_reply(session, "503 5.5.1 Error: need MAIL command");
	else
		smtpd_reply(session, "503 5.5.1 Error: need RCPT command");
	session->error_count++;
}

void
smtpd_data_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	struct dstring piece;
	bool at_line_start = true, after_crlf = true, last_cr = false;
	bool has_bare_lf = false, is_too_big = false;
	bool refuses_bare_lf = smtpd_bare_newline_refused(session);
	long long size = 0;

	if (command->arguments_length > 0) {
		smtpd_reply(session, "501 5.5.4 Syntax: DATA");
		session->error_count++;
		smtpd_count(session, SMTPD_COUNT_DATA, false);
		return;
	}
	if (session->is_bdat) {
		smtpd_reply(session, "503 5.5.1 Error: DATA after BDAT");
		session->error_count++;
		smtpd_count(session, SMTPD_COUNT_DATA, false);
		return;
	}
	if (session->recipient_count == 0 || session->cleanup == NULL) {
		no_recipients(session);
		smtpd_count(session, SMTPD_COUNT_DATA, false);
		return;
	}
	if (!smtpd_run_check(session, SMTPD_CHECK_DATA, "DATA", NULL)) {
		smtpd_count(session, SMTPD_COUNT_DATA, false);
		return;
	}
	smtpd_reply(session, "354 End data with <CR><LF>.<CR><LF>");
	dstring_init(&piece, DATA_PIECE * 2);
	for (;;) {
		enum stream_status status;
		const char *bytes;
		size_t length;
		bool is_whole;

		dstring_reset(&piece);
		status = stream_gets(session->stream, &piece, DATA_PIECE);
		if (status != STREAM_OK &&
		    (status != STREAM_PARTIAL || stream_at_eof(session->stream))) {
			abandon(session);
			smtpd_reset_transaction(session);
			smtpd_count(session, SMTPD_COUNT_DATA, false);
			smtpd_lost(session, status == STREAM_PARTIAL ? STREAM_EOF : status);
			dstring_fini(&piece);
			return;
		}
		bytes = piece.data;
		length = piece.length;
		is_whole = status == STREAM_OK;
		if (at_line_start) {
			if (is_whole && after_crlf && length == 3 && memcmp(bytes, ".\r\n", 3) == 0)
				break;
			/* Dot-unstuffing (RFC 5321 4.5.2). */
			if (bytes[0] == '.') {
				bytes++;
				length--;
			}
		}
		if (is_whole) {
			bool ends_crlf =
			    piece.length >= 2 ? piece.data[piece.length - 2] == '\r' : last_cr;

			if (!ends_crlf)
				has_bare_lf = true;
			after_crlf = ends_crlf;
			at_line_start = true;
			last_cr = false;
		} else {
			at_line_start = false;
			last_cr = piece.length > 0 && piece.data[piece.length - 1] == '\r';
		}
		if (has_bare_lf && refuses_bare_lf) {
			/* Keep reading to the real end, but queue nothing. */
			if (session->cleanup != NULL)
				abandon(session);
			continue;
		}
		if (is_too_big)
			continue;
		size += (long long)length;
		if (var_message_size_limit > 0 && size > var_message_size_limit) {
			is_too_big = true;
			abandon(session);
			continue;
		}
		cleanup_client_write(session->cleanup, bytes, length);
	}
	dstring_fini(&piece);
	smtpd_count(session, SMTPD_COUNT_DATA, true);
	session->where = "END-OF-MESSAGE";
	finish(session, has_bare_lf && refuses_bare_lf, is_too_big, "END-OF-MESSAGE");
}

/* bdat_read: read size bytes of a chunk, kept for cleanup or dropped; 0, or -1 when the connection
 * is gone. */
static int
bdat_read(struct smtpd_session *session, long long size, bool is_kept)
{
	char buffer[BDAT_PIECE];
	bool refuses_bare_lf = smtpd_bare_newline_refused(session);

	while (size > 0) {
		size_t want = size < (long long)sizeof(buffer) ? (size_t)size : sizeof(buffer);
		size_t got = 0;
		enum stream_status status = stream_read(session->stream, buffer, want, &got);

		if (status != STREAM_OK) {
			smtpd_lost(session, status);
			return -1;
		}
		size -= (long long)got;
		if (!is_kept)
			continue;
		if (bare_lf_in(buffer, got, &session->bdat_cr_pending))
			session->bdat_bare_lf = true;
		if (session->bdat_bare_lf && refuses_bare_lf) {
			if (session->cleanup != NULL)
				abandon(session);
			continue;
		}
		if (session->cleanup != NULL)
			cleanup_client_write(session->cleanup, buffer, got);
	}
	return 0;
}

void
smtpd_bdat_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	long long size;
	bool is_last, is_kept = true;

	if (smtpd_bdat_parse(command->arguments, command->arguments_length, &size, &is_last) < 0) {
		/* Without a valid size the chunk cannot be skipped: end here. */
		smtpd_reply(session, "501 5.5.4 Syntax: BDAT count [LAST]");
		smtpd_count(session, SMTPD_COUNT_BDAT, false);
		session->is_done = true;
		return;
	}
	if (var_message_size_limit > 0 && size > var_message_size_limit - session->bdat_size) {
		/* Too big to read and drop within reason: refuse and end. */
		smtpd_reply(session, "552 5.3.4 Error: message file too big");
		log_info("NOQUEUE: reject: BDAT from %s: 552 5.3.4 Error: message file too big; "
		         "proto=%s",
		         session->namaddr, smtpd_protocol(session));
		smtpd_count(session, SMTPD_COUNT_BDAT, false);
		smtpd_reset_transaction(session);
		session->is_done = true;
		return;
	}
	if (session->has_bdat_error) {
		is_kept = false;
		smtpd_reply(session, "503 5.5.1 Error: earlier BDAT failed");
		session->error_count++;
	} else if (session->recipient_count == 0 || session->cleanup == NULL) {
		is_kept = false;
		no_recipients(session);
	} else if (!session->is_bdat && !smtpd_run_check(session, SMTPD_CHECK_DATA, "BDAT", NULL)) {
		is_kept = false; /* already answered */
	}
	if (!is_kept) {
		/* The chunk is still read (after the answer, which the client
		 * reads only later), to stay in step with the client. */
		if (bdat_read(session, size, false) < 0)
			return;
		smtpd_count(session, SMTPD_COUNT_BDAT, false);
		if (is_last)
			smtpd_reset_transaction(session);
		else if (session->has_mail)
			session->has_bdat_error = true;
		return;
	}
	session->is_bdat = true;
	session->where = "BDAT";
	if (bdat_read(session, size, true) < 0) {
		smtpd_count(session, SMTPD_COUNT_BDAT, false);
		smtpd_reset_transaction(session);
		return;
	}
	/* Saturating: with no size limit, chunks may add up past any counter. */
	session->bdat_size =
	    size > LLONG_MAX - session->bdat_size ? LLONG_MAX : session->bdat_size + size;
	smtpd_count(session, SMTPD_COUNT_BDAT, true);
	if (!is_last) {
		smtpd_reply(session, "250 2.0.0 Ok: %lld bytes", size);
		return;
	}
	session->where = "END-OF-MESSAGE";
	finish(session, session->bdat_bare_lf && smtpd_bare_newline_refused(session), false,
	       "END-OF-MESSAGE");
}
