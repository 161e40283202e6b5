/*
 * smtpd_tls - STARTTLS (RFC 3207) and implicit TLS (smtpd_tls_wrappermode,
 * port 465) for the SMTP server, over lib/tls.h.
 *
 * Contract:
 * - The context is made before the jail from smtpd_tls_* (the key may be
 *   readable by root only). smtpd_tls_security_level = may offers
 *   STARTTLS; encrypt also refuses mail before it ("530 5.7.0 Must issue
 *   a STARTTLS command first"). With a broken certificate setup, "may"
 *   runs without STARTTLS (with a warning); encrypt and wrappermode stop.
 * - After the handshake nothing the client sent before it is read (lib/
 *   tls discards the buffered plaintext: no command injection) and the
 *   session starts over: HELO/EHLO, the transaction and any AUTH are
 *   forgotten, as RFC 3207 4.2 requires.
 * - The handshake is bounded by smtpd_starttls_timeout.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "smtpd_session.h"
#include "stream.h"
#include "tls.h"
#include "xalloc.h"

static struct tls_context *context;

static bool
level_is(const char *level)
{
	return strcasecmp(var_smtpd_tls_security_level, level) == 0;
}

void
smtpd_tls_pre_jail(void)
{
	struct tls_server_settings settings;
	struct dstring error, ticket_file;
	bool is_needed = var_smtpd_tls_wrappermode || level_is("encrypt");

	if (!is_needed && !level_is("may"))
		return;
	if (var_smtpd_tls_cert_file[0] == '\0' && var_smtpd_tls_chain_files[0] == '\0') {
		if (is_needed)
			log_fatal("smtpd_tls_security_level = %s or smtpd_tls_wrappermode needs "
			          "smtpd_tls_cert_file or smtpd_tls_chain_files",
			          var_smtpd_tls_security_level);
		log_warning("no server certificate (smtpd_tls_cert_file, smtpd_tls_chain_files): "
		            "STARTTLS is not offered");
		return;
	}
	dstring_init(&error, 4096);
	dstring_init(&ticket_file, 4096);
	memset(&settings, 0, sizeof(settings));
	settings.cert_file = var_smtpd_tls_cert_file;
	settings.key_file = var_smtpd_tls_key_file;
	settings.chain_files = var_smtpd_tls_chain_files;
	settings.protocols =
	    level_is("encrypt") ? var_smtpd_tls_mandatory_protocols : var_smtpd_tls_protocols;
	settings.ciphers =
	    level_is("encrypt") ? var_smtpd_tls_mandatory_ciphers : var_smtpd_tls_ciphers;
	settings.exclude_ciphers = var_smtpd_tls_exclude_ciphers;
	settings.loglevel = var_smtpd_tls_loglevel;
	settings.session_cache_timeout = var_smtpd_tls_session_cache_timeout;
	/* Ticket keys shared by every smtpd process, so clients resume anywhere. */
	dstring_printf(&ticket_file, "%s/smtpd_tls_ticket_keys", var_data_directory);
	if (access(var_data_directory, W_OK) == 0)
		settings.ticket_key_file = dstring_str(&ticket_file);
	context = tls_server_context_new(&settings, &error);
	if (context == NULL) {
		if (is_needed)
			log_fatal("TLS server setup: %s", dstring_str(&error));
		log_warning("TLS server setup: %s: STARTTLS is not offered", dstring_str(&error));
	}
	dstring_fini(&error);
	dstring_fini(&ticket_file);
}

bool
smtpd_tls_is_offered(const struct smtpd_session *session)
{
	return context != NULL && session->tls == NULL && !var_smtpd_tls_wrappermode;
}

bool
smtpd_tls_is_required(const struct smtpd_session *session)
{
	return session->tls == NULL && level_is("encrypt");
}

/*
 * append_comment_text: text (the backend's name for the user) made safe
 * inside a header comment, as Postfix does: printable ASCII only, no
 * backslash, no unbalanced parenthesis ('?' for each), opened ones closed.
 */
static void
append_comment_text(struct dstring *out, const char *text)
{
	int depth = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		char byte = (char)*p;

		if (*p < 0x20 || *p >= 0x7f || byte == '\\')
			byte = '?';
		else if (byte == '(')
			depth++;
		else if (byte == ')' && depth > 0)
			depth--;
		else if (byte == ')')
			byte = '?';
		dstring_append_char(out, byte);
	}
	for (; depth > 0; depth--)
		dstring_append_char(out, ')');
}

void
smtpd_tls_info_update(struct smtpd_session *session)
{
	struct dstring text;

	/* Well within cleanup's CLEANUP_CLIENT_STRING_MAX, whatever the user name. */
	dstring_init(&text, 2048);
	if (var_smtpd_tls_received_header && session->tls != NULL) {
		int cipher_bits, algorithm_bits = 0;
		size_t mark;

		cipher_bits = tls_session_cipher_bits(session->tls, &algorithm_bits);
		dstring_printf(&text, "(using %s with cipher %s (%d/%d bits)",
		               tls_session_protocol(session->tls), tls_session_cipher(session->tls),
		               cipher_bits, algorithm_bits);
		/* Postfix folds before the key exchange: "\n\t key-exchange ...". */
		dstring_append_str(&text, "\n\t ");
		mark = dstring_length(&text);
		tls_session_describe(session->tls, &text);
		if (dstring_length(&text) == mark)
			dstring_truncate(&text, mark - 3);
		/* No client certificate is ever asked for (smtpd_tls_ask_ccert). */
		dstring_append_str(&text, ")\n\t(No client certificate requested)");
	}
	if (var_smtpd_sasl_authenticated_header && session->sasl_username != NULL) {
		if (dstring_length(&text) > 0)
			dstring_append_str(&text, "\n\t");
		dstring_append_str(&text, "(Authenticated sender: ");
		append_comment_text(&text, session->sasl_username);
		dstring_append_str(&text, ")");
	}
	free(session->tls_info);
	session->tls_info = dstring_length(&text) > 0 ? dstring_steal(&text) : NULL;
	dstring_fini(&text);
}

/* handshake: run it within smtpd_starttls_timeout; 0, or -1 (logged). */
static int
handshake(struct smtpd_session *session)
{
	struct dstring error;
	int cipher_bits, algorithm_bits = 0;

	struct timespec deadline;

	/*
	 * A timeout bounds each wait; the deadline bounds the whole handshake,
	 * so a client that trickles bytes cannot stretch it.
	 */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += var_smtpd_starttls_timeout;
	dstring_init(&error, 4096);
	stream_set_timeout(session->stream, var_smtpd_starttls_timeout * 1000);
	stream_set_deadline(session->stream, &deadline);
	session->tls = tls_server_start(context, session->stream, &error);
	stream_set_deadline(session->stream, NULL);
	stream_set_timeout(session->stream, var_smtpd_timeout * 1000);
	if (session->tls == NULL) {
		log_info("SSL_accept error from %s: %s", session->namaddr, dstring_str(&error));
		log_info("lost connection after %s from %s", session->where, session->namaddr);
		dstring_fini(&error);
		session->is_done = true;
		return -1;
	}
	smtpd_tls_info_update(session);
	/* Postfix's line, which log analysers read. */
	cipher_bits = tls_session_cipher_bits(session->tls, &algorithm_bits);
	dstring_printf(&error,
	               "Anonymous TLS connection established from %s: %s with cipher %s "
	               "(%d/%d bits)",
	               session->namaddr, tls_session_protocol(session->tls),
	               tls_session_cipher(session->tls), cipher_bits, algorithm_bits);
	size_t mark = dstring_length(&error);
	dstring_append_char(&error, ' ');
	tls_session_describe(session->tls, &error);
	if (dstring_length(&error) == mark + 1)
		dstring_truncate(&error, mark);
	if (tls_session_resumed(session->tls))
		dstring_append_str(&error, " (resumed)");
	log_info("%s", dstring_str(&error));
	dstring_fini(&error);
	return 0;
}

int
smtpd_tls_wrapper(struct smtpd_session *session)
{
	if (context == NULL) {
		log_warning("%s: smtpd_tls_wrappermode without a TLS setup: dropping the client",
		            session->namaddr);
		return -1;
	}
	return handshake(session);
}

void
smtpd_starttls_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	if (command->arguments_length > 0) {
		smtpd_reply(session, "501 5.5.4 Syntax: STARTTLS");
	} else if (session->tls != NULL) {
		smtpd_reply(session, "554 5.5.1 Error: TLS already active");
	} else if (context == NULL || var_smtpd_tls_wrappermode) {
		smtpd_reply(session, "502 5.5.1 Error: command not implemented");
	} else if (session->has_mail) {
		smtpd_reply(session, "503 5.5.1 Error: MAIL transaction in progress");
	} else {
		smtpd_reply(session, "220 2.0.0 Ready to start TLS");
		if (stream_flush(session->stream) != 0) {
			smtpd_count(session, SMTPD_COUNT_STARTTLS, false);
			smtpd_lost(session, STREAM_ERROR);
			return;
		}
		if (handshake(session) < 0) {
			smtpd_count(session, SMTPD_COUNT_STARTTLS, false);
			return;
		}
		smtpd_count(session, SMTPD_COUNT_STARTTLS, true);
		/* RFC 3207 4.2: forget everything learned before TLS. */
		smtpd_reset_transaction(session);
		smtpd_sasl_reset(session);
		free(session->helo);
		session->helo = NULL;
		session->is_esmtp = false;
		return;
	}
	smtpd_count(session, SMTPD_COUNT_STARTTLS, false);
	session->error_count++;
}

void
smtpd_tls_end(struct smtpd_session *session)
{
	if (session->tls == NULL)
		return;
	stream_flush(session->stream);
	tls_session_end(session->tls, session->stream);
	session->tls = NULL;
}
