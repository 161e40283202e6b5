/*
 * smtpd_sasl - the AUTH command (RFC 4954) for the SMTP server, over
 * lib/sasl_server.h (Cyrus SASL or Dovecot behind it).
 *
 * Contract:
 * - AUTH is announced and accepted only with smtpd_sasl_auth_enable, and
 *   with smtpd_tls_auth_only (the default) only over TLS; the mechanism
 *   list follows smtpd_sasl_security_options, or
 *   smtpd_sasl_tls_security_options over TLS.
 * - AUTH needs EHLO first, is refused during a transaction and after a
 *   successful AUTH (503). "*" cancels the exchange (501 5.7.0).
 * - Every failure counts as an error against smtpd_hard_error_limit and
 *   is logged with the client's name and address in Postfix's form, for
 *   fail2ban: "warning: NAME[ADDR]: SASL PLAIN authentication failed: ...";
 *   "*" is "SASL PLAIN authentication aborted" and an unknown mechanism
 *   "failed: Invalid authentication mechanism", which fail2ban's postfix
 *   filter does not count against the client, as with Postfix.
 *   No password or client response is ever logged.
 * - Each response line is bounded by smtpd_sasl_response_limit and the
 *   exchange by SASL_STEPS_MAX round trips and smtpd_timeout per line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "sasl_server.h"
#include "smtpd_session.h"
#include "stream.h"
#include "xalloc.h"

/* Challenge/response round trips one AUTH may take. */
#define SASL_STEPS_MAX 10

static bool is_sasl_ready;

struct smtpd_sasl {
	struct sasl_server *server;
	bool is_tls; /* opened over TLS */
	struct dstring mechanisms;
};

void
smtpd_sasl_pre_jail(void)
{
	struct dstring error;

	if (!var_smtpd_sasl_auth_enable)
		return;
	dstring_init(&error, 2048);
	if (sasl_server_setup(var_smtpd_sasl_type, var_smtpd_sasl_path, var_cyrus_sasl_config_path,
	                      &error) < 0)
		log_warning("SASL authentication is not available: %s", dstring_str(&error));
	else
		is_sasl_ready = true;
	dstring_fini(&error);
}

void
smtpd_sasl_reset(struct smtpd_session *session)
{
	struct smtpd_sasl *sasl = session->sasl;

	if (sasl != NULL) {
		sasl_server_close(sasl->server);
		dstring_fini(&sasl->mechanisms);
		free(sasl);
		session->sasl = NULL;
	}
	free(session->sasl_method);
	free(session->sasl_username);
	session->sasl_method = NULL;
	session->sasl_username = NULL;
	smtpd_tls_info_update(session);
}

const char *
smtpd_sasl_mechanisms(struct smtpd_session *session)
{
	struct smtpd_sasl *sasl = session->sasl;
	struct dstring error;

	if (!is_sasl_ready || (var_smtpd_tls_auth_only && session->tls == NULL))
		return NULL;
	if (sasl == NULL) {
		struct sasl_server_settings settings = {
		    .service = var_smtpd_sasl_service,
		    .local_domain = var_smtpd_sasl_local_domain,
		    .client_address = session->address,
		    .server_address = "",
		    .is_tls = session->tls != NULL,
		};

		dstring_init(&error, 2048);
		struct sasl_server *server = sasl_server_open(&settings, &error);

		if (server == NULL) {
			log_warning("%s: SASL authentication is not available: %s",
			            session->namaddr, dstring_str(&error));
			dstring_fini(&error);
			return NULL;
		}
		dstring_fini(&error);
		sasl = xcalloc(1, sizeof(*sasl));
		sasl->server = server;
		sasl->is_tls = session->tls != NULL;
		dstring_init(&sasl->mechanisms, 4096);
		sasl_server_mechanisms(server,
		                       session->tls != NULL ? var_smtpd_sasl_tls_security_options
		                                            : var_smtpd_sasl_security_options,
		                       &sasl->mechanisms);
		session->sasl = sasl;
	}
	return dstring_length(&sasl->mechanisms) > 0 ? dstring_str(&sasl->mechanisms) : NULL;
}

/* auth_failed: log for fail2ban, reply, count the error. */
static void
auth_failed(struct smtpd_session *session, const char *mechanism, const char *reason,
            const char *reply)
{
	log_warning("%s: SASL %s authentication failed: %s", session->namaddr, mechanism, reason);
	smtpd_reply(session, "%s", reply);
	session->error_count++;
	smtpd_count(session, SMTPD_COUNT_AUTH, false);
}

/* read_response: one response line without CRLF; 0, 1 too long, -1 lost. */
static int
read_response(struct smtpd_session *session, struct dstring *line)
{
	enum stream_status status;

	dstring_reset(line);
	status = stream_gets(session->stream, line, (size_t)var_smtpd_sasl_response_limit);
	if (status == STREAM_PARTIAL && !stream_at_eof(session->stream)) {
		status = stream_skip_line(session->stream);
		if (status == STREAM_OK)
			return 1;
	}
	if (status != STREAM_OK) {
		smtpd_lost(session, status == STREAM_PARTIAL ? STREAM_EOF : status);
		return -1;
	}
	dstring_truncate(line, line->length - 1);
	if (line->length > 0 && line->data[line->length - 1] == '\r')
		dstring_truncate(line, line->length - 1);
	return 0;
}

void
smtpd_auth_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	char mechanism[64];
	const char *initial = NULL, *space;
	size_t mechanism_length;
	struct dstring output, line;
	enum sasl_server_status status;
	struct smtpd_sasl *sasl;

	/* As Postfix, every AUTH command counts against the rate limit. */
	if (!smtpd_anvil_auth(session))
		goto refused;
	if (smtpd_sasl_mechanisms(session) == NULL) {
		smtpd_reply(session, "503 5.5.1 Error: authentication not enabled");
		goto refused;
	}
	if (!session->is_esmtp) {
		smtpd_reply(session, "503 5.5.1 Error: send EHLO first");
		goto refused;
	}
	if (session->sasl_username != NULL) {
		smtpd_reply(session, "503 5.5.1 Error: already authenticated");
		goto refused;
	}
	if (session->has_mail) {
		smtpd_reply(session, "503 5.5.1 Error: MAIL transaction in progress");
		goto refused;
	}
	space = memchr(command->arguments, ' ', command->arguments_length);
	mechanism_length =
	    space != NULL ? (size_t)(space - command->arguments) : command->arguments_length;
	if (mechanism_length == 0 || mechanism_length >= sizeof(mechanism) ||
	    !smtpd_is_printable(command->arguments, command->arguments_length)) {
		smtpd_reply(session, "501 5.5.4 Syntax: AUTH mechanism");
		goto refused;
	}
	for (size_t i = 0; i < mechanism_length; i++)
		mechanism[i] = (char)toupper((unsigned char)command->arguments[i]);
	mechanism[mechanism_length] = '\0';
	if (space != NULL) {
		initial = space + 1;
		while (*initial == ' ')
			initial++;
	}
	sasl = session->sasl;
	dstring_init(&output, (size_t)var_smtpd_sasl_response_limit * 2);
	dstring_init(&line, (size_t)var_smtpd_sasl_response_limit * 2 + 16);
	status = sasl_server_begin(sasl->server, mechanism, initial, &output);
	for (int step = 0; status == SASL_SERVER_CONTINUE; step++) {
		int read_status;

		if (step >= SASL_STEPS_MAX) {
			auth_failed(session, mechanism, "too many round trips",
			            "535 5.7.8 Error: authentication failed: too many round trips");
			goto done;
		}
		smtpd_reply(session, "334 %s", dstring_str(&output));
		read_status = read_response(session, &line);
		if (read_status < 0) {
			smtpd_count(session, SMTPD_COUNT_AUTH, false);
			goto done;
		}
		if (read_status > 0) {
			auth_failed(session, mechanism, "response too long",
			            "500 5.5.6 Authentication Exchange line is too long");
			goto done;
		}
		if (strcmp(line.data, "*") == 0) {
			/* Postfix's words: fail2ban does not count an abort. */
			log_warning("%s: SASL %s authentication aborted", session->namaddr,
			            mechanism);
			smtpd_reply(session, "501 5.7.0 Authentication aborted");
			session->error_count++;
			smtpd_count(session, SMTPD_COUNT_AUTH, false);
			goto done;
		}
		status = sasl_server_continue(sasl->server, line.data, &output);
	}
	switch (status) {
	case SASL_SERVER_DONE:
		session->sasl_method = xstrdup(mechanism);
		session->sasl_username = xstrdup(sasl_server_username(sasl->server) != NULL
		                                     ? sasl_server_username(sasl->server)
		                                     : "");
		smtpd_tls_info_update(session);
		smtpd_count(session, SMTPD_COUNT_AUTH, true);
		smtpd_reply(session, "235 2.7.0 Authentication successful");
		break;
	case SASL_SERVER_FAIL:
		auth_failed(session, mechanism,
		            dstring_length(&output) > 0 ? dstring_str(&output)
		                                        : "authentication failure",
		            "535 5.7.8 Error: authentication failed: authentication failure");
		break;
	case SASL_SERVER_TEMPFAIL:
		log_warning("%s: SASL %s authentication aborted: %s", session->namaddr, mechanism,
		            dstring_length(&output) > 0 ? dstring_str(&output)
		                                        : "backend unavailable");
		smtpd_reply(session, "454 4.7.0 Temporary authentication failure");
		session->error_count++;
		smtpd_count(session, SMTPD_COUNT_AUTH, false);
		break;
	case SASL_SERVER_BAD_INPUT:
		auth_failed(session, mechanism, "malformed response",
		            "501 5.5.2 Cannot decode response");
		break;
	case SASL_SERVER_BAD_MECHANISM:
		/* Postfix's (and Cyrus's) words, which fail2ban does not count. */
		auth_failed(session, mechanism, "Invalid authentication mechanism",
		            "504 5.5.4 Unrecognized authentication type");
		break;
	case SASL_SERVER_CONTINUE:
		break;
	}
done:
	dstring_fini(&output);
	dstring_fini(&line);
	return;
refused:
	smtpd_count(session, SMTPD_COUNT_AUTH, false);
	session->error_count++;
}
