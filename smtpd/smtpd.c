/*
 * smtpd - the SMTP server (docs/smtpd.md): receives mail from the
 * Internet (port 25) and from users' mail programs (587 with STARTTLS and
 * AUTH, 465 with implicit TLS), as Postfix's smtpd(8).
 *
 * A SERVER_SINGLE daemon: one process per connection at a time, reused
 * for max_use connections, as Postfix runs it. This file holds the
 * service callbacks and the SMTP dialogue up to DATA: the greeting,
 * HELO/EHLO, MAIL, RCPT, RSET, NOOP, QUIT, VRFY, ETRN, the error limits
 * and the session logging. DATA/BDAT and the hand-off to cleanup live in
 * smtpd_data.c, STARTTLS in smtpd_tls.c, AUTH in smtpd_sasl.c, the
 * restriction lists in smtpd_check.c, the parsers in smtpd_command.c.
 *
 * What it trusts: main.cf and the master. Nothing the client sends: every
 * line is bounded by line_length_limit, every wait by smtpd_timeout, every
 * error counted against smtpd_hard_error_limit.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "config.h"
#include "log.h"
#include "network_list.h"
#include "server.h"
#include "smtpd_session.h"
#include "stream.h"
#include "strlist.h"
#include "xalloc.h"

/* The names of enum smtpd_counter in the "disconnect" line, Postfix's. */
static const char *const counter_names[SMTPD_COUNTERS] = {
    "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
    "bdat", "rset", "noop",     "vrfy", "etrn", "quit", "unknown",
};

static bool is_check_ready;
/* smtpd_forbid_bare_newline_exclusions when set in main.cf, else mynetworks. */
static struct network_list *bare_newline_exclusions;
/* smtpd_sasl_exceptions_networks: clients AUTH is not announced to; NULL: none. */
static struct network_list *sasl_exceptions;

/* ---- replies and counters ---- */

void
smtpd_reply(struct smtpd_session *session, const char *format, ...)
{
	struct dstring text;
	va_list args;

	dstring_init(&text, 4096);
	va_start(args, format);
	dstring_append_vprintf(&text, format, args);
	va_end(args);
	if (text.data[0] == '4' || text.data[0] == '5') {
		/* Postfix's tarpit: slow down a client that makes many errors. */
		if (session->error_count >= var_smtpd_soft_error_limit &&
		    var_smtpd_error_sleep_time > 0) {
			stream_flush(session->stream);
			sleep((unsigned)var_smtpd_error_sleep_time);
		}
	}
	if (log_verbose_level() > 0)
		log_debug("> %s: %s", session->namaddr, text.data);
	stream_write(session->stream, text.data, text.length);
	stream_write(session->stream, "\r\n", 2);
	/* An error is sent at once: a pipelining client learns it early. */
	if (text.data[0] == '4' || text.data[0] == '5')
		stream_flush(session->stream);
	dstring_fini(&text);
}

void
smtpd_count(struct smtpd_session *session, enum smtpd_counter kind, bool is_ok)
{
	session->counts[kind][1]++;
	if (is_ok)
		session->counts[kind][0]++;
}

const char *
smtpd_protocol(const struct smtpd_session *session)
{
	if (!session->is_esmtp)
		return "SMTP";
	if (session->tls != NULL)
		return session->sasl_username != NULL ? "ESMTPSA" : "ESMTPS";
	return session->sasl_username != NULL ? "ESMTPA" : "ESMTP";
}

void
smtpd_fill_check_client(struct smtpd_session *session)
{
	session->check_client.name = session->name;
	session->check_client.reverse_name = session->reverse_name;
	session->check_client.address = session->address;
	session->check_client.helo = session->helo;
	session->check_client.sasl_username = session->sasl_username;
	session->check_client.sasl_method = session->sasl_method;
	session->check_client.is_tls = session->tls != NULL;
	session->check_client.protocol = smtpd_protocol(session);
	session->check_client.name_tempfail = session->name_tempfail;
	session->check_client.reverse_name_tempfail = session->reverse_name_tempfail;
}

void
smtpd_log_reject(struct smtpd_session *session, const char *stage, const char *reply,
                 const char *recipient)
{
	struct dstring line;

	dstring_init(&line, 8192);
	dstring_printf(&line, "NOQUEUE: reject: %s from %s: %s;", stage, session->namaddr, reply);
	if (session->has_mail)
		dstring_append_printf(&line, " from=<%s>", dstring_str(&session->mail.sender));
	if (recipient != NULL)
		dstring_append_printf(&line, " to=<%s>", recipient);
	dstring_append_printf(&line, " proto=%s", smtpd_protocol(session));
	if (session->helo != NULL)
		dstring_append_printf(&line, " helo=<%s>", session->helo);
	log_info("%s", dstring_str(&line));
	dstring_fini(&line);
}

void
smtpd_reset_transaction(struct smtpd_session *session)
{
	smtpd_mail_arguments_fini(&session->mail);
	smtpd_mail_arguments_init(&session->mail);
	session->has_mail = false;
	session->recipient_count = 0;
	session->recipient_overshoot = 0;
	session->had_rcpt_reject = false;
	session->is_discard = false;
	cleanup_client_close(session->cleanup);
	session->cleanup = NULL;
	session->is_bdat = false;
	session->has_bdat_error = false;
	session->bdat_size = 0;
	session->bdat_bare_lf = false;
	session->bdat_cr_pending = false;
}

void
smtpd_lost(struct smtpd_session *session, int status)
{
	/* A write that timed out earlier is a sticky error with ETIMEDOUT. */
	if (status == STREAM_TIMEOUT || (stream_has_error(session->stream) &&
	                                 stream_error_code(session->stream) == ETIMEDOUT)) {
		smtpd_reply(session, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
		log_info("timeout after %s from %s", session->where, session->namaddr);
	} else {
		log_info("lost connection after %s from %s", session->where, session->namaddr);
	}
	session->is_done = true;
}

bool
smtpd_run_check(struct smtpd_session *session, enum smtpd_check_stage stage, const char *stage_name,
                const char *recipient)
{
	struct smtpd_check_result *result = &session->check_result;

	if (!is_check_ready)
		return true;
	smtpd_fill_check_client(session);
	smtpd_check_result_reset(result);
	smtpd_check(stage, &session->check_client,
	            session->has_mail ? dstring_str(&session->mail.sender) : NULL, recipient,
	            result);
	if (result->is_discard)
		session->is_discard = true;
	if (result->code == 0) {
		if (dstring_length(&result->log) > 0)
			log_info("NOQUEUE: %s", dstring_str(&result->log));
		return true;
	}
	if (dstring_length(&result->log) > 0) {
		log_info("NOQUEUE: %s", dstring_str(&result->log));
	} else {
		struct dstring reply;

		dstring_init(&reply, 4096);
		dstring_printf(&reply, "%d %s", result->code, dstring_str(&result->reply));
		smtpd_log_reject(session, stage_name, dstring_str(&reply), recipient);
		dstring_fini(&reply);
	}
	smtpd_reply(session, "%d %s", result->code, dstring_str(&result->reply));
	session->error_count++;
	return false;
}

/* ---- the commands ---- */

static void
set_string(char **slot, const char *value, size_t length)
{
	free(*slot);
	*slot = xstrndup(value, length);
}

/*
 * helo_name_length: the HELO name is the first word of the arguments (as
 * Postfix, more words are ignored); 0 when there is none or it holds a
 * control character or is longer than a domain name may be.
 */
static size_t
helo_name_length(const struct smtpd_command_line *command)
{
	size_t length = 0;

	while (length < command->arguments_length && command->arguments[length] != ' ' &&
	       command->arguments[length] != '\t')
		length++;
	if (length > 255 || !smtpd_is_printable(command->arguments, length))
		return 0;
	return length;
}

/* is_discarded_keyword: smtpd_discard_ehlo_keywords names keyword. */
static bool
is_discarded_keyword(const char *keyword)
{
	struct strlist list;
	bool found = false;

	if (var_smtpd_discard_ehlo_keywords[0] == '\0')
		return false;
	strlist_init(&list);
	strlist_split(&list, var_smtpd_discard_ehlo_keywords, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < list.count && !found; i++)
		found = strcasecmp(list.items[i], keyword) == 0;
	strlist_fini(&list);
	return found;
}

/*
 * is_sasl_exception: smtpd_sasl_exceptions_networks names the client, so
 * EHLO does not announce AUTH to it (as Postfix, the command itself still
 * works). A table that cannot be read: not announced either.
 */
static bool
is_sasl_exception(const struct smtpd_session *session)
{
	if (sasl_exceptions == NULL)
		return false;
	switch (network_list_match(sasl_exceptions, session->name, session->address)) {
	case NETWORK_LIST_NO_MATCH:
		return false;
	case NETWORK_LIST_ERROR:
		log_warning("%s: smtpd_sasl_exceptions_networks lookup error: not announcing AUTH",
		            session->namaddr);
		return true;
	case NETWORK_LIST_MATCH:
		break;
	}
	return true;
}

static void
helo_command(struct smtpd_session *session, const struct smtpd_command_line *command, bool is_ehlo)
{
	enum smtpd_counter kind = is_ehlo ? SMTPD_COUNT_EHLO : SMTPD_COUNT_HELO;
	size_t name_length = helo_name_length(command);

	if (name_length == 0) {
		smtpd_reply(session, "501 Syntax: %s hostname", is_ehlo ? "EHLO" : "HELO");
		smtpd_count(session, kind, false);
		session->error_count++;
		return;
	}
	/* A new HELO starts over (RFC 5321 4.1.4). */
	smtpd_reset_transaction(session);
	set_string(&session->helo, command->arguments, name_length);
	session->is_esmtp = is_ehlo;
	if (!smtpd_run_check(session, SMTPD_CHECK_HELO, "HELO", NULL)) {
		free(session->helo);
		session->helo = NULL;
		session->is_esmtp = false;
		smtpd_count(session, kind, false);
		return;
	}
	smtpd_count(session, kind, true);
	if (!is_ehlo) {
		smtpd_reply(session, "250 %s", var_myhostname);
		return;
	}

	struct strlist lines;
	const char *mechanisms;
	char text[64];

	strlist_init(&lines);
	strlist_append(&lines, "PIPELINING");
	if (var_message_size_limit > 0) {
		snprintf(text, sizeof(text), "SIZE %lld", var_message_size_limit);
		strlist_append(&lines, text);
	} else {
		strlist_append(&lines, "SIZE");
	}
	if (!var_disable_vrfy_command)
		strlist_append(&lines, "VRFY");
	strlist_append(&lines, "ETRN");
	if (smtpd_tls_is_offered(session))
		strlist_append(&lines, "STARTTLS");
	mechanisms = is_sasl_exception(session) ? NULL : smtpd_sasl_mechanisms(session);
	if (mechanisms != NULL) {
		struct dstring auth;

		dstring_init(&auth, DSTRING_NO_LIMIT);
		dstring_printf(&auth, "AUTH %s", mechanisms);
		strlist_append(&lines, dstring_str(&auth));
		if (var_broken_sasl_auth_clients) {
			dstring_printf(&auth, "AUTH=%s", mechanisms);
			strlist_append(&lines, dstring_str(&auth));
		}
		dstring_fini(&auth);
	}
	strlist_append(&lines, "ENHANCEDSTATUSCODES");
	strlist_append(&lines, "8BITMIME");
	strlist_append(&lines, "DSN");
	if (var_smtputf8_enable)
		strlist_append(&lines, "SMTPUTF8");
	strlist_append(&lines, "CHUNKING");

	/* Keep those not discarded; the first word is the keyword. */
	size_t kept = 0;
	for (size_t i = 0; i < lines.count; i++) {
		char keyword[32];
		size_t length = strcspn(lines.items[i], " =");

		if (length >= sizeof(keyword))
			length = sizeof(keyword) - 1;
		memcpy(keyword, lines.items[i], length);
		keyword[length] = '\0';
		if (is_discarded_keyword(keyword)) {
			free(lines.items[i]);
			continue;
		}
		lines.items[kept++] = lines.items[i];
	}
	lines.count = kept;
	if (lines.count == 0) {
		smtpd_reply(session, "250 %s", var_myhostname);
	} else {
		smtpd_reply(session, "250-%s", var_myhostname);
		for (size_t i = 0; i < lines.count; i++)
			smtpd_reply(session, "250%c%s", i + 1 == lines.count ? ' ' : '-',
			            lines.items[i]);
	}
	strlist_fini(&lines);
}

/* need_helo_and_tls: the checks before MAIL, RCPT, DATA, BDAT, VRFY, ETRN. */
static bool
need_helo_and_tls(struct smtpd_session *session, enum smtpd_counter kind)
{
	if (var_smtpd_helo_required && session->helo == NULL) {
		smtpd_reply(session, "503 5.5.1 Error: send HELO/EHLO first");
	} else if (smtpd_tls_is_required(session)) {
		smtpd_reply(session, "530 5.7.0 Must issue a STARTTLS command first");
	} else {
		return true;
	}
	smtpd_count(session, kind, false);
	session->error_count++;
	return false;
}

static void
mail_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	struct dstring reply;

	if (!need_helo_and_tls(session, SMTPD_COUNT_MAIL))
		return;
	if (session->has_mail) {
		smtpd_reply(session, "503 5.5.1 Error: nested MAIL command");
		goto refused;
	}
	dstring_init(&reply, 1024);
	smtpd_reset_transaction(session);
	if (smtpd_mail_parse(command->arguments, command->arguments_length, &session->mail,
	                     &reply) < 0) {
		smtpd_reply(session, "%s", dstring_str(&reply));
		dstring_fini(&reply);
		smtpd_reset_transaction(session);
		goto refused;
	}
	dstring_fini(&reply);
	if (session->mail.is_smtputf8 && !var_smtputf8_enable) {
		smtpd_reply(session, "555 5.5.4 Unsupported option: SMTPUTF8");
		smtpd_reset_transaction(session);
		goto refused;
	}
	if (!smtpd_anvil_message(session)) {
		smtpd_reset_transaction(session);
		goto refused;
	}
	if (var_message_size_limit > 0 && session->mail.size > var_message_size_limit) {
		/* A policy refusal, logged as Postfix's smtpd_check_size does
		 * (pflogsumm counts it among the rejects). */
		smtpd_log_reject(session, "MAIL", "552 5.3.4 Message size exceeds fixed limit", NULL);
		smtpd_reply(session, "552 5.3.4 Message size exceeds fixed limit");
		smtpd_reset_transaction(session);
		goto refused;
	}
	session->has_mail = true;
	if (!smtpd_run_check(session, SMTPD_CHECK_MAIL, "MAIL", NULL)) {
		smtpd_reset_transaction(session);
		smtpd_count(session, SMTPD_COUNT_MAIL, false);
		return;
	}
	smtpd_count(session, SMTPD_COUNT_MAIL, true);
	smtpd_reply(session, "250 2.1.0 Ok");
	return;
refused:
	smtpd_count(session, SMTPD_COUNT_MAIL, false);
	session->error_count++;
}

static void
rcpt_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	struct smtpd_rcpt_arguments rcpt;
	struct dstring reply;
	const char *recipient;

	if (!need_helo_and_tls(session, SMTPD_COUNT_RCPT))
		return;
	if (!session->has_mail) {
		smtpd_reply(session, "503 5.5.1 Error: need MAIL command");
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		session->error_count++;
		return;
	}
	if (session->is_bdat) {
		smtpd_reply(session, "503 5.5.1 Error: RCPT after BDAT");
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		session->error_count++;
		return;
	}
	if (session->recipient_count >= (size_t)var_smtpd_recipient_limit) {
		smtpd_reply(session, "452 4.5.3 Error: too many recipients");
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		/* Postfix: overshoot is tolerated for a while, then counts as errors. */
		if (++session->recipient_overshoot > (size_t)var_smtpd_recipient_overshoot_limit)
			session->error_count++;
		return;
	}
	smtpd_rcpt_arguments_init(&rcpt);
	dstring_init(&reply, 1024);
	if (smtpd_rcpt_parse(command->arguments, command->arguments_length, &rcpt, &reply) < 0) {
		smtpd_reply(session, "%s", dstring_str(&reply));
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		session->error_count++;
		session->had_rcpt_reject = true;
		goto done;
	}
	if (!smtpd_anvil_recipient(session)) {
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		session->error_count++;
		goto done;
	}
	recipient = dstring_str(&rcpt.recipient);
	if (!smtpd_run_check(session, SMTPD_CHECK_RCPT, "RCPT", recipient)) {
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		session->had_rcpt_reject = true;
		goto done;
	}
	if (session->cleanup == NULL && smtpd_cleanup_open(session) < 0) {
		smtpd_count(session, SMTPD_COUNT_RCPT, false);
		goto done;
	}
	cleanup_client_recipient(session->cleanup, recipient, recipient,
	                         dstring_length(&rcpt.orcpt) > 0 ? dstring_str(&rcpt.orcpt) : NULL,
	                         rcpt.notify);
	session->recipient_count++;
	smtpd_count(session, SMTPD_COUNT_RCPT, true);
	smtpd_reply(session, "250 2.1.5 Ok");
done:
	dstring_fini(&reply);
	smtpd_rcpt_arguments_fini(&rcpt);
}

/* junk: NOOP, VRFY, ETRN, RSET past smtpd_junk_command_limit count as errors. */
static void
junk(struct smtpd_session *session)
{
	if (++session->junk_count > var_smtpd_junk_command_limit)
		session->error_count++;
}

static void
rset_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	junk(session);
	if (command->arguments_length > 0) {
		smtpd_reply(session, "501 5.5.4 Syntax: RSET");
		smtpd_count(session, SMTPD_COUNT_RSET, false);
		session->error_count++;
		return;
	}
	smtpd_reset_transaction(session);
	smtpd_count(session, SMTPD_COUNT_RSET, true);
	smtpd_reply(session, "250 2.0.0 Ok");
}

static void
noop_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	junk(session);
	smtpd_count(session, SMTPD_COUNT_NOOP, true);
	smtpd_reply(session, "250 2.0.0 Ok");
}

static void
quit_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	smtpd_count(session, SMTPD_COUNT_QUIT, true);
	smtpd_reply(session, "221 2.0.0 Bye");
	session->is_done = true;
}

static void
vrfy_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	struct dstring address;

	junk(session);
	if (var_disable_vrfy_command) {
		smtpd_reply(session, "502 5.5.1 VRFY command is disabled");
		smtpd_count(session, SMTPD_COUNT_VRFY, false);
		session->error_count++;
		return;
	}
	if (!need_helo_and_tls(session, SMTPD_COUNT_VRFY))
		return;
	dstring_init(&address, SMTPD_ADDRESS_MAX + 1);
	if (command->arguments_length == 0 ||
	    smtpd_path_parse(command->arguments, command->arguments_length, &address) < 0 ||
	    dstring_length(&address) == 0) {
		smtpd_reply(session, "501 5.5.4 Syntax: VRFY address");
		smtpd_count(session, SMTPD_COUNT_VRFY, false);
		session->error_count++;
	} else if (smtpd_run_check(session, SMTPD_CHECK_RCPT, "VRFY", dstring_str(&address))) {
		/* RFC 5321 3.5.3: 252, we accept and will try; no mailbox is disclosed. */
		smtpd_count(session, SMTPD_COUNT_VRFY, true);
		smtpd_reply(session, "252 2.0.0 %s", dstring_str(&address));
	} else {
		smtpd_count(session, SMTPD_COUNT_VRFY, false);
	}
	dstring_fini(&address);
}

static void
etrn_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	junk(session);
	if (!need_helo_and_tls(session, SMTPD_COUNT_ETRN))
		return;
	if (session->has_mail) {
		smtpd_reply(session, "503 5.5.1 Error: MAIL transaction in progress");
	} else if (command->arguments_length == 0 ||
	           !smtpd_is_printable(command->arguments, command->arguments_length)) {
		smtpd_reply(session, "500 5.5.4 Syntax: ETRN domain");
	} else if (!smtpd_run_check(session, SMTPD_CHECK_ETRN, "ETRN", NULL)) {
		smtpd_count(session, SMTPD_COUNT_ETRN, false);
		return;
	} else {
		/* No fast-flush service: the queue manager retries on its own schedule. */
		smtpd_reply(session, "458 4.3.0 Unable to queue messages for node %.*s",
		            (int)command->arguments_length, command->arguments);
		smtpd_count(session, SMTPD_COUNT_ETRN, false);
		return;
	}
	smtpd_count(session, SMTPD_COUNT_ETRN, false);
	session->error_count++;
}

static void
ehlo_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	helo_command(session, command, true);
}

static void
helo_only_command(struct smtpd_session *session, const struct smtpd_command_line *command)
{
	helo_command(session, command, false);
}

struct command_entry {
	const char *name;
	void (*handler)(struct smtpd_session *, const struct smtpd_command_line *);
};

static const struct command_entry commands[] = {
    {"EHLO", ehlo_command},
    {"HELO", helo_only_command},
    {"MAIL", mail_command},
    {"RCPT", rcpt_command},
    {"DATA", smtpd_data_command},
    {"BDAT", smtpd_bdat_command},
    {"RSET", rset_command},
    {"NOOP", noop_command},
    {"QUIT", quit_command},
    {"VRFY", vrfy_command},
    {"ETRN", etrn_command},
    {"AUTH", smtpd_auth_command},
    {"STARTTLS", smtpd_starttls_command},
};

/* ---- the session ---- */

/* client_identity: the peer's address and (smtpd_peername_lookup) its name. */
static void
client_identity(struct smtpd_session *session, int fd)
{
	struct sockaddr_storage peer;
	socklen_t length = sizeof(peer);
	char address[INET6_ADDRSTRLEN + 1] = "unknown", host[NI_MAXHOST];

	session->reverse_name = xstrdup("unknown");
	session->name = xstrdup("unknown");
	if (getpeername(fd, (struct sockaddr *)&peer, &length) < 0 ||
	    (peer.ss_family != AF_INET && peer.ss_family != AF_INET6)) {
		session->address = xstrdup(peer.ss_family == AF_UNIX ? "127.0.0.1" : "unknown");
		return;
	}
	if (getnameinfo((struct sockaddr *)&peer, length, address, sizeof(address), NULL, 0,
	                NI_NUMERICHOST) != 0)
		snprintf(address, sizeof(address), "unknown");
	/* An IPv4 client on an IPv6 socket: log it as IPv4, as Postfix does. */
	if (strncasecmp(address, "::ffff:", 7) == 0 && strchr(address + 7, '.') != NULL)
		memmove(address, address + 7, strlen(address + 7) + 1);
	session->address = xstrdup(address);
	if (!var_smtpd_peername_lookup)
		return;
	/*
	 * A lookup that failed for now leaves the name "unknown" but says so:
	 * reject_unknown_client_hostname then defers (450) instead of
	 * rejecting a client whose DNS is only slow.
	 */
	int status =
	    getnameinfo((struct sockaddr *)&peer, length, host, sizeof(host), NULL, 0, NI_NAMEREQD);

	if (status != 0) {
		session->reverse_name_tempfail = session->name_tempfail = status == EAI_AGAIN;
		return;
	}
	free(session->reverse_name);
	session->reverse_name = xstrdup(host);
	/* Forward-confirm: the name must resolve back to the address. */
	struct addrinfo hints, *results = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	status = getaddrinfo(host, NULL, &hints, &results);
	if (status != 0) {
		session->name_tempfail = status == EAI_AGAIN;
		return;
	}
	for (struct addrinfo *entry = results; entry != NULL; entry = entry->ai_next) {
		char forward[INET6_ADDRSTRLEN + 1];

		if (getnameinfo(entry->ai_addr, entry->ai_addrlen, forward, sizeof(forward), NULL,
		                0, NI_NUMERICHOST) != 0)
			continue;
		if (strncasecmp(forward, "::ffff:", 7) == 0 && strchr(forward + 7, '.') != NULL)
			memmove(forward, forward + 7, strlen(forward + 7) + 1);
		if (strcasecmp(forward, session->address) == 0) {
			free(session->name);
			session->name = xstrdup(host);
			break;
		}
	}
	freeaddrinfo(results);
}

static void
session_init(struct smtpd_session *session, int fd)
{
	struct dstring text;

	memset(session, 0, sizeof(*session));
	session->stream = stream_open(fd);
	stream_set_timeout(session->stream, var_smtpd_timeout * 1000);
	smtpd_mail_arguments_init(&session->mail);
	smtpd_check_result_init(&session->check_result);
	client_identity(session, fd);
	dstring_init(&text, 2048);
	dstring_printf(&text, "%s[%s]", session->name, session->address);
	session->namaddr = dstring_steal(&text);
	dstring_fini(&text);
	session->where = "CONNECT";
	session->is_bare_newline_exempt = smtpd_client_in_list(
	    bare_newline_exclusions, "smtpd_forbid_bare_newline_exclusions", session);
}

static void
session_fini(struct smtpd_session *session)
{
	struct dstring line;
	int total = 0;

	smtpd_reset_transaction(session);
	smtpd_sasl_reset(session);
	smtpd_tls_end(session);
	dstring_init(&line, 4096);
	dstring_printf(&line, "disconnect from %s", session->namaddr);
	for (int i = 0; i < SMTPD_COUNTERS; i++) {
		if (session->counts[i][1] == 0)
			continue;
		total += session->counts[i][1];
		if (session->counts[i][0] == session->counts[i][1])
			dstring_append_printf(&line, " %s=%d", counter_names[i],
			                      session->counts[i][1]);
		else
			dstring_append_printf(&line, " %s=%d/%d", counter_names[i],
			                      session->counts[i][0], session->counts[i][1]);
	}
	dstring_append_printf(&line, " commands=%d", total);
	log_info("%s", dstring_str(&line));
	dstring_fini(&line);
	stream_flush(session->stream);
	stream_free(session->stream);
	smtpd_mail_arguments_fini(&session->mail);
	smtpd_check_result_fini(&session->check_result);
	free(session->name);
	free(session->reverse_name);
	free(session->namaddr);
	free(session->helo);
	free(session->tls_info);
}

/* bare_newline_refused: smtpd_forbid_bare_newline says refuse for this client. */
static bool
bare_newline_refused(const struct smtpd_session *session)
{
	return (strcasecmp(var_smtpd_forbid_bare_newline, "yes") == 0 ||
	        strcasecmp(var_smtpd_forbid_bare_newline, "reject") == 0) &&
	       !session->is_bare_newline_exempt;
}

bool
smtpd_bare_newline_refused(const struct smtpd_session *session)
{
	return bare_newline_refused(session);
}

/* greet: the 220 banner (smtpd_banner is expanded here, at use). */
static void
greet(struct smtpd_session *session)
{
	struct dstring banner, error;

	dstring_init(&banner, 4096);
	dstring_init(&error, 1024);
	if (config_expand(var_smtpd_banner, &banner, &error) < 0) {
		log_warning("smtpd_banner: %s", dstring_str(&error));
		dstring_printf(&banner, "%s ESMTP", var_myhostname);
	}
	smtpd_reply(session, "220 %s", dstring_str(&banner));
	dstring_fini(&banner);
	dstring_fini(&error);
}

/* read_command: one command line into line (without CRLF); 0, or -1 when done. */
static int
read_command(struct smtpd_session *session, struct dstring *line)
{
	enum stream_status status;

	for (;;) {
		dstring_reset(line);
		status = stream_gets(session->stream, line, (size_t)var_line_length_limit);
		if (status == STREAM_OK)
			break;
		if (status == STREAM_PARTIAL && !stream_at_eof(session->stream)) {
			/* Too long: drop the rest of it, then complain. */
			status = stream_skip_line(session->stream);
			if (status != STREAM_OK) {
				smtpd_lost(session, status);
				return -1;
			}
			smtpd_reply(session, "500 5.5.2 Error: line too long");
			smtpd_count(session, SMTPD_COUNT_UNKNOWN, false);
			session->error_count++;
			return 1;
		}
		if (status == STREAM_PARTIAL)
			status = STREAM_EOF;
		smtpd_lost(session, status);
		return -1;
	}
	dstring_truncate(line, line->length - 1);
	if (line->length > 0 && line->data[line->length - 1] == '\r') {
		dstring_truncate(line, line->length - 1);
	} else if (bare_newline_refused(session)) {
		smtpd_reply(session, "%d 5.5.2 Error: bare <LF> received",
		            var_smtpd_forbid_bare_newline_reject_code);
		log_info("bare <LF> received after %s from %s", session->where, session->namaddr);
		smtpd_reset_transaction(session);
		session->error_count++;
		dstring_set(line, "");
		return 1;
	}
	return 0;
}

static void
serve_commands(struct smtpd_session *session)
{
	struct dstring line;

	dstring_init(&line, (size_t)var_line_length_limit * 2 + 16);
	while (!session->is_done) {
		struct smtpd_command_line command;
		int status;
		size_t i;

		if (session->error_count >= var_smtpd_hard_error_limit) {
			smtpd_reply(session, "421 4.7.0 %s Error: too many errors", var_myhostname);
			log_info("too many errors after %s from %s", session->where,
			         session->namaddr);
			break;
		}
		status = read_command(session, &line);
		if (status < 0)
			break;
		if (status > 0 || line.length == 0) {
			if (status == 0) {
				smtpd_reply(session, "500 5.5.2 Error: bad syntax");
				smtpd_count(session, SMTPD_COUNT_UNKNOWN, false);
				session->error_count++;
			}
			continue;
		}
		/* Verbose logging never shows an AUTH initial response. */
		if (log_verbose_level() > 0)
			log_debug("< %s: %.*s", session->namaddr,
			          strncasecmp(line.data, "AUTH ", 5) == 0
			              ? (int)(5 + strcspn(line.data + 5, " "))
			              : (int)line.length,
			          line.data);
		if (memchr(line.data, '\0', line.length) != NULL) {
			smtpd_reply(session, "500 5.5.2 Error: bad syntax");
			smtpd_count(session, SMTPD_COUNT_UNKNOWN, false);
			session->error_count++;
			continue;
		}
		smtpd_command_split(line.data, line.length, &command);
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (smtpd_command_is(&command, commands[i].name))
				break;
		if (i == sizeof(commands) / sizeof(commands[0])) {
			smtpd_reply(session, "502 5.5.2 Error: command not recognized");
			smtpd_count(session, SMTPD_COUNT_UNKNOWN, false);
			session->error_count++;
			session->where = "UNKNOWN";
			continue;
		}
		/*
		 * smtpd_forbid_unauth_pipelining: a client that sends more
		 * before our reply when PIPELINING was not announced to it,
		 * or after HELO/EHLO (which must end a group, RFC 2920), is
		 * a spambot or a smuggling attempt (Postfix 3.9).
		 */
		if (var_smtpd_forbid_unauth_pipelining && stream_pending(session->stream) > 0 &&
		    (!session->is_esmtp || smtpd_command_is(&command, "EHLO") ||
		     smtpd_command_is(&command, "HELO")) &&
		    !smtpd_command_is(&command, "QUIT")) {
			log_info("improper command pipelining after %s from %s: %.100s",
			         commands[i].name, session->namaddr, line.data);
			smtpd_reply(session, "554 5.5.0 Error: SMTP protocol synchronization");
			smtpd_count(session, SMTPD_COUNT_UNKNOWN, false);
			break;
		}
		session->where = commands[i].name;
		commands[i].handler(session, &command);
	}
	dstring_fini(&line);
}

bool
smtpd_client_in_list(struct network_list *list, const char *parameter,
                     const struct smtpd_session *session)
{
	if (!config_is_set(parameter))
		return is_check_ready && smtpd_check_is_mynetworks(session->address);
	return list != NULL &&
	       network_list_match(list, session->name, session->address) == NETWORK_LIST_MATCH;
}

static void
smtpd_serve(int fd)
{
	struct smtpd_session session;

	session_init(&session, fd);
	log_info("connect from %s", session.namaddr);
	if (!smtpd_anvil_admit(&session)) {
		/* Refused: nothing more. */
	} else if (!var_smtpd_tls_wrappermode || smtpd_tls_wrapper(&session) == 0) {
		/* A client refused at CONNECT (smtpd_delay_reject = no) gets that
		 * reply instead of the greeting, and the session ends. */
		if (smtpd_run_check(&session, SMTPD_CHECK_CONNECT, "CONNECT", NULL)) {
			greet(&session);
			serve_commands(&session);
		}
	}
	session_fini(&session);
	smtpd_anvil_end(&session);
	free(session.address);
}

static void
smtpd_pre_jail(int argc, char **argv)
{
	struct dstring error;

	dstring_init(&error, 4096);
	if (smtpd_check_init(&error) < 0)
		log_fatal("%s", dstring_str(&error));
	is_check_ready = true;
	if (config_is_set("smtpd_forbid_bare_newline_exclusions")) {
		bare_newline_exclusions =
		    network_list_open("smtpd_forbid_bare_newline_exclusions",
		                      var_smtpd_forbid_bare_newline_exclusions, false, &error);
		if (bare_newline_exclusions == NULL)
			log_fatal("%s", dstring_str(&error));
	}
	smtpd_anvil_pre_jail(&error);
	if (var_smtpd_sasl_auth_enable && var_smtpd_sasl_exceptions_networks[0] != '\0') {
		sasl_exceptions =
		    network_list_open("smtpd_sasl_exceptions_networks",
		                      var_smtpd_sasl_exceptions_networks, false, &error);
		if (sasl_exceptions == NULL)
			log_fatal("%s", dstring_str(&error));
	}
	dstring_fini(&error);
	smtpd_tls_pre_jail();
	smtpd_sasl_pre_jail();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = smtpd_pre_jail,
	    .serve = smtpd_serve,
	};

	return server_main(argc, argv, "smtpd", SERVER_SINGLE, &callbacks);
}
