/*
 * smtp_session - one SMTP conversation with one server (RFC 5321, 3207,
 * 4954, 2920, 1870, 6152, 3461, 6531), as Postfix's smtp(8) holds it:
 *
 *   greeting -> EHLO (HELO if refused) -> [STARTTLS -> EHLO] -> [AUTH]
 *   -> MAIL FROM -> RCPT TO ... -> DATA -> content -> "." -> QUIT
 *
 * Each stage has its own timeout (smtp_helo_timeout, smtp_mail_timeout,
 * smtp_rcpt_timeout, smtp_data_init_timeout, smtp_data_xfer_timeout,
 * smtp_data_done_timeout, smtp_quit_timeout). With PIPELINING, MAIL,
 * the RCPTs and DATA go in batches of SMTP_PIPELINE_BATCH commands, so
 * neither side can fill the other's buffers and stall.
 *
 * Outcomes: a failure before MAIL FROM (no greeting, a 4xx/5xx greeting,
 * EHLO and HELO refused, TLS required and missing, AUTH refused) leaves
 * the recipients pending and says TRY_NEXT, so the caller tries the next
 * server (the last reason then stands for all). From MAIL FROM on, every
 * recipient gets an outcome here: the server's reply with "(in reply to
 * X command)", or a lost connection or timeout (deferred). Recipients are
 * delivered only on 250 to the end of DATA; a server that answers before
 * the final "." has been sent is not believed (deferred).
 *
 * After a transaction that ended cleanly the session may be kept for the
 * process's next request to the same next hop (the connection cache near
 * the end of this file; docs/smtp.md, "Connection reuse").
 *
 * What it trusts: nothing the server sends (lib/smtp_reply bounds and
 * checks every reply; EHLO keywords are only compared, SIZE parsed with
 * bounds).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "server.h"
#include "smtp.h"
#include "stream.h"
#include "strlist.h"
#include "tls.h"
#include "xalloc.h"

/* Commands written before their replies are read, with PIPELINING. */
#define SMTP_PIPELINE_BATCH 100

enum smtp_feature {
	SMTP_FEATURE_PIPELINING = 1 << 0,
	SMTP_FEATURE_SIZE = 1 << 1,
	SMTP_FEATURE_8BITMIME = 1 << 2,
	SMTP_FEATURE_DSN = 1 << 3,
	SMTP_FEATURE_SMTPUTF8 = 1 << 4,
	SMTP_FEATURE_STARTTLS = 1 << 5,
	SMTP_FEATURE_AUTH = 1 << 6,
	SMTP_FEATURE_ESMTP = 1 << 7,
};

struct session {
	struct smtp_state *state;
	const struct smtp_target *target;
	struct stream *stream;
	struct tls_session *tls;
	struct smtp_reply reply;
	struct dstring error;      /* the last read's problem */
	struct dstring mechanisms; /* EHLO AUTH words */
	char server[400];          /* "host[addr]" */
	char relay[420];           /* "host[addr]:port" */
	unsigned features;
	long long size_limit;
	/* TRY_NEXT's reason and dsn, the caller's. */
	struct dstring *reason;
	char *dsn;
	/* For the connection cache. */
	struct smtp_target target_copy;
	int64_t opened_ms;
	unsigned use_count;
	char *key;
	bool is_broken; /* a failed TLS handshake: no more commands */
};

/* The TLS client context, made on first use and kept for the process. */
static struct tls_context *smtp_tls_context;
static bool smtp_tls_context_failed;

static void
set_timeout(struct session *session, int seconds)
{
	stream_set_timeout(session->stream, seconds > 0 ? seconds * 1000 : 0);
}

/* fail_next: a failure before the transaction: reason for TRY_NEXT. */
static enum smtp_session_outcome fail_next(struct session *session, const char *dsn,
                                           const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static enum smtp_session_outcome
fail_next(struct session *session, const char *dsn, const char *format, ...)
{
	va_list args;

	dstring_reset(session->reason);
	va_start(args, format);
	dstring_append_vprintf(session->reason, format, args);
	va_end(args);
	memcpy(session->dsn, dsn, strlen(dsn) + 1);
	return SMTP_SESSION_TRY_NEXT;
}

/*
 * read_reply: one reply within seconds. -1 with the Postfix-form reason
 * for a lost connection, timeout or malformed reply in session->error:
 * "lost connection with host[addr] while sending RCPT TO".
 */
static int
read_reply(struct session *session, int seconds, const char *stage)
{
	struct dstring problem;
	enum smtp_reply_read_status status;

	set_timeout(session, seconds);
	dstring_init(&problem, 512);
	status = smtp_reply_read(session->stream, &session->reply, &problem);
	dstring_reset(&session->error);
	switch (status) {
	case SMTP_REPLY_READ_OK:
		dstring_fini(&problem);
		return 0;
	case SMTP_REPLY_READ_EOF:
		dstring_printf(&session->error, "lost connection with %s while %s", session->server,
		               stage);
		break;
	case SMTP_REPLY_READ_TIMEOUT:
		dstring_printf(&session->error, "conversation with %s timed out while %s",
		               session->server, stage);
		break;
	case SMTP_REPLY_READ_IO:
		dstring_printf(&session->error, "lost connection with %s while %s: %s",
		               session->server, stage, dstring_str(&problem));
		break;
	case SMTP_REPLY_READ_BAD:
		dstring_printf(&session->error, "%s sent a bad reply while %s: %s", session->server,
		               stage, dstring_str(&problem));
		break;
	}
	dstring_fini(&problem);
	return -1;
}

/* said: "host X said: 550 5.1.1 text (in reply to RCPT TO command)". */
static void
said(struct session *session, struct dstring *out, const char *command)
{
	dstring_reset(out);
	dstring_printf(out, "host %s said: ", session->server);
	smtp_reply_format(&session->reply, out);
	dstring_append_printf(out, " (in reply to %s command)", command);
}

/* reply_action: a reply's class as an outcome (anything but 5xx defers). */
static enum delivery_action
reply_action(const struct smtp_reply *reply)
{
	return reply->code >= 500 ? DELIVERY_BOUNCED : DELIVERY_DEFERRED;
}

/* reply_dsn: the reply's DSN, with the class forced to 4 for a non-5xx failure. */
static const char *
reply_dsn(const struct smtp_reply *reply, char buffer[12])
{
	memcpy(buffer, reply->dsn, sizeof(reply->dsn));
	if (reply->code < 400 || reply->code >= 600)
		memcpy(buffer, "4.5.0", 6);
	return buffer;
}

/* parse_ehlo: the features of an EHLO reply (its lines after the first). */
static void
parse_ehlo(struct session *session)
{
	struct dstring line;

	session->features = SMTP_FEATURE_ESMTP;
	session->size_limit = 0;
	dstring_reset(&session->mechanisms);
	dstring_init(&line, SMTP_REPLY_LINE_MAX + 1);
	for (size_t i = 1; smtp_reply_line(&session->reply, i, &line); i++) {
		const char *text = dstring_str(&line);
		size_t word = strcspn(text, " =");

		if (word == 10 && strncasecmp(text, "PIPELINING", 10) == 0)
			session->features |= SMTP_FEATURE_PIPELINING;
		else if (word == 4 && strncasecmp(text, "SIZE", 4) == 0) {
			session->features |= SMTP_FEATURE_SIZE;
			if (text[4] == ' ') {
				char *end;
				long long value = strtoll(text + 5, &end, 10);

				if (value > 0 && value < (1LL << 50))
					session->size_limit = value;
			}
		} else if (word == 8 && strncasecmp(text, "8BITMIME", 8) == 0)
			session->features |= SMTP_FEATURE_8BITMIME;
		else if (word == 3 && strncasecmp(text, "DSN", 3) == 0)
			session->features |= SMTP_FEATURE_DSN;
		else if (word == 8 && strncasecmp(text, "SMTPUTF8", 8) == 0)
			session->features |= SMTP_FEATURE_SMTPUTF8;
		else if (word == 8 && strncasecmp(text, "STARTTLS", 8) == 0)
			session->features |= SMTP_FEATURE_STARTTLS;
		else if (word == 4 && strncasecmp(text, "AUTH", 4) == 0 && text[4] != '\0') {
			session->features |= SMTP_FEATURE_AUTH;
			if (dstring_length(&session->mechanisms) > 0)
				dstring_append_char(&session->mechanisms, ' ');
			dstring_append_str(&session->mechanisms, text + 5);
		}
	}
	dstring_fini(&line);
}

/* hello: EHLO, or HELO when EHLO is refused. -1 with TRY_NEXT set up. */
static int
hello(struct session *session)
{
	stream_printf(session->stream, "EHLO %s\r\n", var_smtp_helo_name);
	if (read_reply(session, var_smtp_helo_timeout, "performing the EHLO handshake") < 0) {
		fail_next(session, "4.4.2", "%s", dstring_str(&session->error));
		return -1;
	}
	if (session->reply.code / 100 == 2) {
		parse_ehlo(session);
		return 0;
	}
	if (session->reply.code / 100 != 5 || session->tls != NULL) {
		struct dstring text;
		char dsn[12];

		dstring_init(&text, DELIVERY_REASON_MAX);
		said(session, &text, "EHLO");
		fail_next(session, reply_dsn(&session->reply, dsn), "%s", dstring_str(&text));
		dstring_fini(&text);
		return -1;
	}
	session->features = 0;
	stream_printf(session->stream, "HELO %s\r\n", var_smtp_helo_name);
	if (read_reply(session, var_smtp_helo_timeout, "performing the HELO handshake") < 0) {
		fail_next(session, "4.4.2", "%s", dstring_str(&session->error));
		return -1;
	}
	if (session->reply.code / 100 != 2) {
		struct dstring text;
		char dsn[12];

		dstring_init(&text, DELIVERY_REASON_MAX);
		said(session, &text, "HELO");
		fail_next(session, reply_dsn(&session->reply, dsn), "%s", dstring_str(&text));
		dstring_fini(&text);
		return -1;
	}
	return 0;
}

/* tls_context: the process's client context, from the smtp_tls_* settings. */
static struct tls_context *
tls_context(struct dstring *error)
{
	struct tls_client_settings settings;

	if (smtp_tls_context != NULL || smtp_tls_context_failed)
		return smtp_tls_context;
	memset(&settings, 0, sizeof(settings));
	settings.CAfile = *var_smtp_tls_CAfile != '\0' ? var_smtp_tls_CAfile : NULL;
	settings.CApath = *var_smtp_tls_CApath != '\0' ? var_smtp_tls_CApath : NULL;
	settings.protocols = var_smtp_tls_mandatory_protocols;
	settings.ciphers = var_smtp_tls_mandatory_ciphers;
	settings.exclude_ciphers = var_smtp_tls_exclude_ciphers;
	settings.cert_file = *var_smtp_tls_cert_file != '\0' ? var_smtp_tls_cert_file : NULL;
	settings.key_file = *var_smtp_tls_key_file != '\0' ? var_smtp_tls_key_file : NULL;
	settings.loglevel = var_smtp_tls_loglevel;
	smtp_tls_context = tls_client_context_new(&settings, error);
	if (smtp_tls_context == NULL)
		smtp_tls_context_failed = true;
	return smtp_tls_context;
}

/* start_tls: STARTTLS and the handshake, then EHLO again. -1 with TRY_NEXT set up. */
static int
start_tls(struct session *session)
{
	struct smtp_state *state = session->state;
	struct dstring error;
	struct tls_context *context;
	enum tls_verify verify =
	    state->tls_level >= SMTP_TLS_VERIFY ? TLS_VERIFY_CHAIN_AND_NAME : TLS_VERIFY_NONE;
	struct strlist names;
	const char **match_names = NULL;
	const char *servername;
	int status = -1;

	dstring_init(&error, DELIVERY_REASON_MAX);
	strlist_init(&names);
	context = tls_context(&error);
	if (context == NULL) {
		log_warning("TLS client context: %s", dstring_str(&error));
		fail_next(session, "4.7.5", "cannot start TLS: %s", dstring_str(&error));
		goto done;
	}
	stream_puts(session->stream, "STARTTLS\r\n");
	if (read_reply(session, var_smtp_starttls_timeout, "sending STARTTLS") < 0) {
		fail_next(session, "4.4.2", "%s", dstring_str(&session->error));
		goto done;
	}
	if (session->reply.code != 220) {
		struct dstring text;

		dstring_init(&text, DELIVERY_REASON_MAX);
		smtp_reply_format(&session->reply, &text);
		fail_next(session, "4.7.5", "TLS is required, but host %s refused to start TLS: %s",
		          session->server, dstring_str(&text));
		dstring_fini(&text);
		goto done;
	}
	/*
	 * The names the certificate must carry: the policy's match=, else
	 * smtp_tls_verify_cert_match (verify) or smtp_tls_secure_cert_match
	 * (secure), whose words hostname, nexthop and dot-nexthop (any
	 * subdomain: OpenSSL's leading-dot form) stand for those names.
	 */
	{
		struct strlist words;

		strlist_init(&words);
		if (state->tls_match != NULL)
			strlist_split(&words, state->tls_match, ":", NULL);
		else
			strlist_split(&words,
			              state->tls_level == SMTP_TLS_SECURE
			                  ? var_smtp_tls_secure_cert_match
			                  : var_smtp_tls_verify_cert_match,
			              ", \t:", NULL);
		for (size_t i = 0; i < words.count; i++) {
			const char *word = words.items[i];

			if (strcasecmp(word, "hostname") == 0) {
				strlist_append(&names, session->target->host);
			} else if (strcasecmp(word, "nexthop") == 0) {
				strlist_append(&names, state->nexthop_host);
			} else if (strcasecmp(word, "dot-nexthop") == 0) {
				struct dstring dotted;

				dstring_init(&dotted, DSTRING_NO_LIMIT);
				dstring_printf(&dotted, ".%s", state->nexthop_host);
				strlist_append(&names, dstring_str(&dotted));
				dstring_fini(&dotted);
			} else {
				strlist_append(&names, word);
			}
		}
		strlist_fini(&words);
	}
	match_names = xcalloc(names.count + 1, sizeof(*match_names));
	for (size_t i = 0; i < names.count; i++)
		match_names[i] = names.items[i];
	servername = *var_smtp_tls_servername == '\0'                       ? NULL
	             : strcasecmp(var_smtp_tls_servername, "hostname") == 0 ? session->target->host
	             : strcasecmp(var_smtp_tls_servername, "nexthop") == 0
	                 ? state->nexthop_host
	                 : var_smtp_tls_servername;
	set_timeout(session, var_smtp_starttls_timeout);
	session->tls =
	    tls_client_start(context, session->stream, servername, verify, match_names, &error);
	if (session->tls == NULL) {
		/* The bytes on the wire are undefined now: no QUIT in clear. */
		session->is_broken = true;
		if (state->tls_level == SMTP_TLS_MAY) {
			state->is_tls_failed = true;
			fail_next(session, "4.7.5", "TLS handshake with %s failed: %s",
			          session->server, dstring_str(&error));
		} else {
			fail_next(session, "4.7.5",
			          "TLS is required, but our TLS engine failed with %s: %s",
			          session->server, dstring_str(&error));
		}
		goto done;
	}
	{
		int algorithm_bits = 0;
		int bits = tls_session_cipher_bits(session->tls, &algorithm_bits);

		log_info("%s TLS connection established to %s: %s with cipher %s (%d/%d bits)",
		         tls_session_peer_verified(session->tls)  ? "Verified"
		         : tls_session_peer_trusted(session->tls) ? "Trusted"
		                                                  : "Untrusted",
		         session->relay, tls_session_protocol(session->tls),
		         tls_session_cipher(session->tls), bits, algorithm_bits);
	}
	status = hello(session);
done:
	free(match_names);
	strlist_fini(&names);
	dstring_fini(&error);
	return status;
}

/* authenticate: AUTH when enabled, offered, and the maps have credentials. */
static int
authenticate(struct session *session)
{
	struct dstring user, password, error;
	int found, status = 0;

	if (!var_smtp_sasl_auth_enable || !(session->features & SMTP_FEATURE_AUTH))
		return 0;
	dstring_init(&user, 4096);
	dstring_init(&password, 4096);
	dstring_init(&error, DELIVERY_REASON_MAX);
	found = smtp_auth_lookup(session->state, session->target->host, &user, &password, &error);
	if (found < 0) {
		fail_next(session, "4.3.0", "%s", dstring_str(&error));
		status = -1;
	} else if (found > 0) {
		int result =
		    smtp_auth_exchange(session->stream, &session->reply, session->server,
		                       dstring_str(&session->mechanisms), dstring_str(&user),
		                       dstring_str(&password), session->tls != NULL, &error);

		if (result != 0) {
			char dsn[12] = "4.7.0";

			/* smtp_sasl_auth_soft_bounce: a refused login defers, it never bounces. */
			if (result > 0 && session->reply.dsn[0] != '\0') {
				memcpy(dsn, session->reply.dsn, sizeof(session->reply.dsn));
				if (var_smtp_sasl_auth_soft_bounce || dsn[0] != '5')
					dsn[0] = '4';
			}
			fail_next(session, dsn, "%s", dstring_str(&error));
			status = -1;
		}
	}
	dstring_fini(&user);
	dstring_fini(&password);
	dstring_fini(&error);
	return status;
}

/* put_xtext: RFC 3461 xtext of text. */
static void
put_xtext(struct dstring *out, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			dstring_append_printf(out, "+%02X", *p);
		else
			dstring_append_char(out, (char)*p);
	}
}

static bool
is_ascii(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		if (*p >= 0x80)
			return false;
	return true;
}

/* command_mail / command_rcpt: the commands with their ESMTP parameters. */
static void
command_mail(struct session *session, struct dstring *out, bool needs_utf8)
{
	const struct delivery_request *request = session->state->request;

	dstring_printf(out, "MAIL FROM:<%s>", request->sender);
	/*
	 * BODY=8BITMIME when the message was declared so (the queue file's
	 * "body" attribute: MAIL FROM BODY= at smtpd, sendmail -B) and the
	 * server offers 8BITMIME. To a server without 8BITMIME the content
	 * goes as is, unconverted, as Postfix does with its default
	 * disable_mime_output_conversion; an undeclared body is sent without
	 * BODY=, as received.
	 */
	{
		const char *body =
		    queue_message_attribute(&session->state->message, QUEUE_ATTR_BODY);

		if (body != NULL && strcasecmp(body, "8BITMIME") == 0 &&
		    (session->features & SMTP_FEATURE_8BITMIME))
			dstring_append_str(out, " BODY=8BITMIME");
	}
	if (session->features & SMTP_FEATURE_SIZE)
		dstring_append_printf(out, " SIZE=%" PRId64, session->state->message.content_size);
	if (session->features & SMTP_FEATURE_DSN) {
		if (*request->ret != '\0')
			dstring_append_printf(out, " RET=%s", request->ret);
		if (*request->envid != '\0') {
			dstring_append_str(out, " ENVID=");
			put_xtext(out, request->envid);
		}
	}
	/*
	 * SMTPUTF8 when an envelope address needs it, or when the client
	 * asked for it and the server offers it (a server without it gets the
	 * ASCII envelope without the keyword, as Postfix does).
	 */
	if (needs_utf8 ||
	    ((session->features & SMTP_FEATURE_SMTPUTF8) &&
	     queue_message_attribute(&session->state->message, QUEUE_ATTR_SMTPUTF8) != NULL))
		dstring_append_str(out, " SMTPUTF8");
	dstring_append_str(out, "\r\n");
}

static void
command_rcpt(struct session *session, struct dstring *out, size_t index)
{
	const struct delivery_recipient *recipient = &session->state->request->recipients[index];

	dstring_printf(out, "RCPT TO:<%s>", recipient->address);
	if (session->features & SMTP_FEATURE_DSN) {
		if (recipient->notify & CLEANUP_NOTIFY_NEVER) {
			dstring_append_str(out, " NOTIFY=NEVER");
		} else if (recipient->notify != 0) {
			const char *separator = " NOTIFY=";

			if (recipient->notify & CLEANUP_NOTIFY_SUCCESS) {
				dstring_append_printf(out, "%sSUCCESS", separator);
				separator = ",";
			}
			if (recipient->notify & CLEANUP_NOTIFY_FAILURE) {
				dstring_append_printf(out, "%sFAILURE", separator);
				separator = ",";
			}
			if (recipient->notify & CLEANUP_NOTIFY_DELAY)
				dstring_append_printf(out, "%sDELAY", separator);
		}
		if (strncasecmp(recipient->orcpt, "rfc822;", 7) == 0) {
			dstring_append_str(out, " ORCPT=rfc822;");
			put_xtext(out, recipient->orcpt + 7);
		}
	}
	dstring_append_str(out, "\r\n");
}

/* has_early_reply: the server sent something before our final ".". */
static bool
has_early_reply(struct session *session)
{
	struct pollfd watch = {.fd = stream_fd(session->stream), .events = POLLIN};
	char byte;

	if (stream_pending(session->stream) > 0)
		return true;
	/* Under TLS, bytes on the socket need not be a reply (a ticket): trust the buffer only. */
	if (session->tls != NULL)
		return false;
	return poll(&watch, 1, 0) == 1 && recv(watch.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

/* settle_accepted: an outcome for the recipients the server accepted. */
static void
settle_accepted(struct session *session, enum delivery_action action, const char *dsn,
                const char *reason)
{
	struct smtp_state *state = session->state;

	for (size_t i = 0; i < state->request->recipient_count; i++)
		if (state->results[i].is_accepted && !state->results[i].is_settled) {
			smtp_settle(state, i, action, dsn, session->relay, "%s", reason);
			/* NOTIFY was not passed on: the success notice is ours to send. */
			state->results[i].is_relayed =
			    action == DELIVERY_DELIVERED && !(session->features & SMTP_FEATURE_DSN);
		}
}

/*
 * send_data: the content and the final dot; outcomes for the accepted
 * recipients. -1 when the connection is no longer usable.
 */
static int
send_data(struct session *session)
{
	struct dstring text;
	bool is_local_error;
	char dsn[12];
	int status = -1;

	dstring_init(&text, DELIVERY_REASON_MAX);
	set_timeout(session, var_smtp_data_xfer_timeout);
	if (smtp_content_send(session->state, session->stream, var_smtp_line_length_limit,
	                      &is_local_error) < 0) {
		if (is_local_error)
			dstring_printf(&text, "cannot read the queue file: %s", strerror(errno));
		else
			dstring_printf(&text, "%s with %s while sending message body",
			               errno == ETIMEDOUT ? "conversation timed out"
			                                  : "lost connection",
			               session->server);
		settle_accepted(session, DELIVERY_DEFERRED, is_local_error ? "4.3.0" : "4.4.2",
		                dstring_str(&text));
		goto done;
	}
	if (has_early_reply(session)) {
		dstring_printf(&text, "host %s sent a reply before the end of the message data",
		               session->server);
		settle_accepted(session, DELIVERY_DEFERRED, "4.5.0", dstring_str(&text));
		goto done;
	}
	stream_puts(session->stream, ".\r\n");
	if (read_reply(session, var_smtp_data_done_timeout,
	               "sending end of data -- message may be sent more than once") < 0) {
		settle_accepted(session, DELIVERY_DEFERRED, "4.4.2", dstring_str(&session->error));
		goto done;
	}
	if (session->reply.code / 100 == 2) {
		smtp_reply_format(&session->reply, &text);
		settle_accepted(session, DELIVERY_DELIVERED, session->reply.dsn,
		                dstring_str(&text));
	} else {
		said(session, &text, "end of DATA");
		settle_accepted(session, reply_action(&session->reply),
		                reply_dsn(&session->reply, dsn), dstring_str(&text));
	}
	status = 0;
done:
	dstring_fini(&text);
	return status;
}

/*
 * transaction: MAIL, RCPTs, DATA, content. Every pending recipient has
 * an outcome afterwards. Returns -1 when the connection is unusable.
 */
static int
transaction(struct session *session)
{
	struct smtp_state *state = session->state;
	const struct delivery_request *request = state->request;
	size_t *order = xcalloc(request->recipient_count + 2, sizeof(*order));
	size_t command_count = 0, sent = 0, answered = 0, accepted = 0;
	size_t batch = (session->features & SMTP_FEATURE_PIPELINING) ? SMTP_PIPELINE_BATCH : 1;
	bool needs_utf8 = !is_ascii(request->sender), is_mail_ok = false, is_broken = false;
	struct dstring command, text;
	char dsn[12];

	dstring_init(&command, 2 * DELIVERY_ADDRESS_MAX + 1024);
	dstring_init(&text, DELIVERY_REASON_MAX);
	/* order: SIZE_MAX for MAIL, then the recipients' indexes, then SIZE_MAX - 1 for DATA. */
	order[command_count++] = SIZE_MAX;
	for (size_t i = 0; i < request->recipient_count; i++) {
		if (state->results[i].is_settled)
			continue;
		state->results[i].is_accepted = false;
		if (!is_ascii(request->recipients[i].address))
			needs_utf8 = true;
		order[command_count++] = i;
	}
	order[command_count++] = SIZE_MAX - 1;
	if (needs_utf8 && !(session->features & SMTP_FEATURE_SMTPUTF8)) {
		smtp_settle_pending(state, DELIVERY_BOUNCED, "5.6.7", session->relay,
		                    "SMTPUTF8 is required, but was not offered by host %s",
		                    session->server);
		goto done;
	}
	if (session->size_limit > 0 && state->message.content_size > session->size_limit) {
		smtp_settle_pending(state, DELIVERY_BOUNCED, "5.3.4", session->relay,
		                    "message size %" PRId64 " exceeds size limit %lld of server %s",
		                    state->message.content_size, session->size_limit,
		                    session->server);
		goto done;
	}
	/* Each pass writes up to batch commands, then reads their replies. */
	while (answered < command_count && !is_broken) {
		size_t end = sent + batch < command_count ? sent + batch : command_count;

		/* Stop sending once MAIL failed; the replies of what was sent are still read. */
		if (sent == answered && answered > 0 && !is_mail_ok)
			break;
		/* Without an accepted recipient, DATA is not sent (unless pipelined already). */
		if (sent == command_count - 1 && sent == answered && accepted == 0)
			break;
		set_timeout(session, var_smtp_rcpt_timeout);
		for (; sent < end; sent++) {
			if (order[sent] == SIZE_MAX)
				command_mail(session, &command, needs_utf8);
			else if (order[sent] == SIZE_MAX - 1)
				dstring_set(&command, "DATA\r\n");
			else
				command_rcpt(session, &command, order[sent]);
			stream_write(session->stream, dstring_str(&command),
			             dstring_length(&command));
		}
		for (; answered < sent; answered++) {
			size_t which = order[answered];
			const char *stage = which == SIZE_MAX       ? "sending MAIL FROM"
			                    : which == SIZE_MAX - 1 ? "sending DATA"
			                                            : "sending RCPT TO";
			int seconds = which == SIZE_MAX       ? var_smtp_mail_timeout
			              : which == SIZE_MAX - 1 ? var_smtp_data_init_timeout
			                                      : var_smtp_rcpt_timeout;

			if (read_reply(session, seconds, stage) < 0) {
				smtp_settle_pending(state, DELIVERY_DEFERRED, "4.4.2",
				                    session->relay, "%s",
				                    dstring_str(&session->error));
				is_broken = true;
				break;
			}
			if (which == SIZE_MAX) {
				is_mail_ok = session->reply.code / 100 == 2;
				if (!is_mail_ok) {
					said(session, &text, "MAIL FROM");
					smtp_settle_pending(state, reply_action(&session->reply),
					                    reply_dsn(&session->reply, dsn),
					                    session->relay, "%s",
					                    dstring_str(&text));
				}
			} else if (which == SIZE_MAX - 1) {
				if (session->reply.code == 354 && (accepted == 0 || !is_mail_ok)) {
					/* Pipelined DATA after all went wrong: end it empty. */
					stream_puts(session->stream, ".\r\n");
					if (read_reply(session, var_smtp_data_done_timeout,
					               "sending end of data") < 0)
						is_broken = true;
				} else if (session->reply.code == 354) {
					is_broken = send_data(session) < 0;
				} else if (accepted > 0 && is_mail_ok) {
					said(session, &text, "DATA");
					settle_accepted(session, reply_action(&session->reply),
					                reply_dsn(&session->reply, dsn),
					                dstring_str(&text));
				}
			} else if (is_mail_ok) {
				if (session->reply.code / 100 == 2) {
					state->results[which].is_accepted = true;
					accepted++;
				} else {
					said(session, &text, "RCPT TO");
					smtp_settle(state, which, reply_action(&session->reply),
					            reply_dsn(&session->reply, dsn), session->relay,
					            "%s", dstring_str(&text));
				}
			}
		}
	}
	/* Accepted but never sent (DATA not reached): try again later. */
	if (state->pending > 0)
		smtp_settle_pending(state, DELIVERY_DEFERRED, "4.4.2", session->relay, "%s",
		                    is_broken ? dstring_str(&session->error)
		                              : "delivery not completed");
done:
	free(order);
	dstring_fini(&command);
	dstring_fini(&text);
	return is_broken ? -1 : 0;
}

static void
quit(struct session *session)
{
	if (stream_has_error(session->stream))
		return;
	stream_puts(session->stream, "QUIT\r\n");
	(void)read_reply(session, var_smtp_quit_timeout < 10 ? var_smtp_quit_timeout : 10,
	                 "sending QUIT");
}

/* session_free: end a session: QUIT when polite (and the stream is sound), then close. */
static void
session_free(struct session *session, bool is_polite)
{
	if (is_polite)
		quit(session);
	if (session->tls != NULL)
		tls_session_end(session->tls, session->stream);
	stream_close(session->stream);
	smtp_reply_fini(&session->reply);
	dstring_fini(&session->error);
	dstring_fini(&session->mechanisms);
	free(session->key);
	free(session);
}

/*
 * The connection cache: one session kept after a finished transaction,
 * for the next request to the same next hop with the same TLS policy and
 * credentials (the key). A timer on the skeleton's event loop closes it
 * after smtp_connection_cache_time_limit idle seconds; it is never used
 * past smtp_connection_reuse_time_limit after it was opened; before each
 * reuse an RSET proves it alive (smtp_rset_timeout), else it is dropped
 * and a new connection made. The timer only runs between requests: a
 * SERVER_SINGLE daemon serves one request at a time on its event loop.
 */
static struct session *smtp_cached;
static uint64_t smtp_cache_timer;

static void
cache_drop(bool is_polite)
{
	if (smtp_cached == NULL)
		return;
	event_cancel_timer(server_event_loop(), smtp_cache_timer);
	session_free(smtp_cached, is_polite);
	smtp_cached = NULL;
}

static void
cache_expired(void *context)
{
	if (smtp_cached != NULL) {
		event_cancel_timer(server_event_loop(), smtp_cache_timer);
		/* A short QUIT: this runs in the idle loop, not for a request. */
		set_timeout(smtp_cached, 2);
		session_free(smtp_cached, true);
		smtp_cached = NULL;
	}
}

void
smtp_session_cache_close(void)
{
	cache_drop(true);
}

/* cache_put: keep session for key (taken), or end it when caching is off. */
static void
cache_put(struct session *session, const char *key)
{
	int64_t now = event_now_ms();

	cache_drop(true);
	if (key == NULL || var_smtp_connection_cache_time_limit <= 0 ||
	    now - session->opened_ms >= (int64_t)var_smtp_connection_reuse_time_limit * 1000) {
		session_free(session, true);
		return;
	}
	session->key = xstrdup(key);
	session->state = NULL;
	session->reason = NULL;
	session->dsn = NULL;
	session->use_count++;
	smtp_cached = session;
	smtp_cache_timer =
	    event_timer(server_event_loop(), (int64_t)var_smtp_connection_cache_time_limit * 1000,
	                cache_expired, NULL);
}

/* run_transaction: the transaction on an open session, then keep or end it. */
static void
run_transaction(struct session *session, const char *key)
{
	if (transaction(session) < 0)
		session_free(session, false);
	else
		cache_put(session, key);
}

bool
smtp_session_reuse(struct smtp_state *state, const char *key, struct dstring *reason, char dsn[12])
{
	struct session *session = smtp_cached;

	if (session == NULL)
		return false;
	if (strcmp(session->key, key) != 0 ||
	    event_now_ms() - session->opened_ms >=
	        (int64_t)var_smtp_connection_reuse_time_limit * 1000) {
		cache_drop(true);
		return false;
	}
	event_cancel_timer(server_event_loop(), smtp_cache_timer);
	smtp_cached = NULL;
	session->state = state;
	session->reason = reason;
	session->dsn = dsn;
	stream_puts(session->stream, "RSET\r\n");
	if (read_reply(session, var_smtp_rset_timeout, "sending RSET") < 0 ||
	    session->reply.code / 100 != 2) {
		log_info("%s: cached connection to %s no longer usable: %s",
		         state->request->queue_id, session->relay,
		         dstring_length(&session->error) > 0 ? dstring_str(&session->error)
		                                             : "RSET refused");
		session_free(session, false);
		return false;
	}
	log_debug("%s: reusing the connection to %s (use %u)", state->request->queue_id,
	          session->relay, session->use_count + 1);
	if (state->connected_time == 0)
		state->connected_time = delivery_now();
	run_transaction(session, key);
	return true;
}

enum smtp_session_outcome
smtp_session_run(struct smtp_state *state, const struct smtp_target *target, int fd,
                 const char *key, struct dstring *reason, char dsn[12])
{
	struct session *session = xcalloc(1, sizeof(*session));
	char reply_dsn_buffer[12];

	session->state = state;
	session->target_copy = *target;
	session->target = &session->target_copy;
	session->stream = stream_open(fd);
	session->reason = reason;
	session->dsn = dsn;
	session->opened_ms = event_now_ms();
	smtp_reply_init(&session->reply);
	dstring_init(&session->error, DELIVERY_REASON_MAX);
	dstring_init(&session->mechanisms, SMTP_REPLY_LINE_MAX + 1);
	snprintf(session->server, sizeof(session->server), "%s[%s]", target->host, target->address);
	snprintf(session->relay, sizeof(session->relay), "%s:%u", session->server, target->port);

	if (read_reply(session, var_smtp_helo_timeout, "receiving the initial server greeting") <
	    0) {
		fail_next(session, "4.4.2", "%s", dstring_str(&session->error));
		session_free(session, false);
		return SMTP_SESSION_TRY_NEXT;
	}
	if (session->reply.code / 100 != 2) {
		struct dstring text;

		dstring_init(&text, DELIVERY_REASON_MAX);
		smtp_reply_format(&session->reply, &text);
		fail_next(session, reply_dsn(&session->reply, reply_dsn_buffer),
		          "host %s refused to talk to me: %s", session->server, dstring_str(&text));
		dstring_fini(&text);
		session_free(session, true);
		return SMTP_SESSION_TRY_NEXT;
	}
	if (hello(session) < 0)
		goto try_next;
	if (state->tls_level >= SMTP_TLS_MAY && (session->features & SMTP_FEATURE_STARTTLS)) {
		if (start_tls(session) < 0) {
			if (state->tls_level >= SMTP_TLS_ENCRYPT || session->tls != NULL ||
			    state->is_tls_failed || stream_has_error(session->stream))
				goto try_next;
			/* may: a refused STARTTLS (no handshake) goes on in clear, as Postfix does.
			 */
			if (hello(session) < 0)
				goto try_next;
		}
	} else if (state->tls_level >= SMTP_TLS_ENCRYPT) {
		fail_next(session, "4.7.4", "TLS is required, but was not offered by host %s",
		          session->server);
		goto try_next;
	}
	if (authenticate(session) < 0)
		goto try_next;
	run_transaction(session, key);
	return SMTP_SESSION_DONE;
try_next:
	session_free(session, !session->is_broken);
	return SMTP_SESSION_TRY_NEXT;
}
