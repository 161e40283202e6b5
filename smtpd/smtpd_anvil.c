/*
 * smtpd_anvil - the per-client limits that the anvil daemon counts for
 * all smtpd processes (lib/anvil_client.h, docs/anvil.md), with Postfix's
 * replies and warnings:
 *
 *   smtpd_client_connection_count_limit, _connection_rate_limit
 *     at connect: 421 4.7.0 HOST Error: too many connections from ADDR
 *   smtpd_client_message_rate_limit (MAIL FROM)
 *     450 4.7.1 Error: too much mail from ADDR
 *   smtpd_client_recipient_rate_limit (RCPT TO)
 *     450 4.7.1 Error: too many recipients from ADDR
 *   smtpd_client_auth_rate_limit (AUTH)
 *     450 4.7.1 Error: too many AUTH commands from ADDR
 *
 * Contract: a client in smtpd_client_event_limit_exceptions (default
 * $mynetworks) is never limited and anvil never hears of it. When anvil
 * cannot be reached or refuses, the client is served (with a warning): a
 * broken anvil must not stop mail. One anvil connection per session,
 * opened at connect when any limit is set, so each later check costs one
 * request and reply on it, nothing when its limit is 0.
 *
 * What it trusts: anvil's replies are checked by lib/anvil_client.
 */
#include <stdlib.h>

#include "anvil_client.h"
#include "config.h"
#include "log.h"
#include "network_list.h"
#include "server.h"
#include "smtpd_session.h"

/* smtpd_client_event_limit_exceptions when set in main.cf, else mynetworks. */
static struct network_list *event_limit_exceptions;

void
smtpd_anvil_pre_jail(struct dstring *error)
{
	if (!config_is_set("smtpd_client_event_limit_exceptions"))
		return;
	event_limit_exceptions =
	    network_list_open("smtpd_client_event_limit_exceptions",
	                      var_smtpd_client_event_limit_exceptions, false, error);
	if (event_limit_exceptions == NULL)
		log_fatal("%s", dstring_str(error));
}

bool
smtpd_anvil_admit(struct smtpd_session *session)
{
	struct dstring error;
	int count = 0, rate = 0;
	bool is_admitted = true;

	session->anvil = NULL;
	if (var_smtpd_client_connection_count_limit <= 0 &&
	    var_smtpd_client_connection_rate_limit <= 0 &&
	    var_smtpd_client_message_rate_limit <= 0 &&
	    var_smtpd_client_recipient_rate_limit <= 0 && var_smtpd_client_auth_rate_limit <= 0)
		return true;
	if (smtpd_client_in_list(event_limit_exceptions, "smtpd_client_event_limit_exceptions",
	                         session))
		return true;
	dstring_init(&error, 1024);
	session->anvil =
	    anvil_client_open(ANVIL_CLIENT_SERVICE_PATH, var_smtpd_timeout * 1000, &error);
	if (session->anvil == NULL ||
	    anvil_client_connect(session->anvil, server_service_name(), session->address, &count,
	                         &rate, &error) < 0) {
		log_warning("%s: connection limits not enforced: anvil: %s", session->namaddr,
		            dstring_str(&error));
		anvil_client_close(session->anvil);
		session->anvil = NULL;
	} else if (var_smtpd_client_connection_count_limit > 0 &&
	           count > var_smtpd_client_connection_count_limit) {
		log_warning("Connection concurrency limit exceeded: %d from %s for service %s",
		            count, session->namaddr, server_service_name());
		is_admitted = false;
	} else if (var_smtpd_client_connection_rate_limit > 0 &&
	           rate > var_smtpd_client_connection_rate_limit) {
		log_warning("Connection rate limit exceeded: %d from %s for service %s", rate,
		            session->namaddr, server_service_name());
		is_admitted = false;
	}
	if (!is_admitted)
		smtpd_reply(session, "421 4.7.0 %s Error: too many connections from %s",
		            var_myhostname, session->address);
	dstring_fini(&error);
	return is_admitted;
}

/*
 * over_limit: count one event with request; true when its rate is over
 * limit. anvil failing: false, with a warning, and no more asking.
 */
static bool
over_limit(struct smtpd_session *session, long long limit,
           int (*request)(struct anvil_client *, const char *, const char *, int *,
                          struct dstring *),
           int *rate)
{
	struct dstring error;
	bool is_over = false;

	if (limit <= 0 || session->anvil == NULL)
		return false;
	dstring_init(&error, 1024);
	if (request(session->anvil, server_service_name(), session->address, rate, &error) < 0) {
		log_warning("%s: rate limits not enforced: anvil: %s", session->namaddr,
		            dstring_str(&error));
		/* Keep the connection: closing it would release the count. */
	} else {
		is_over = *rate > limit;
	}
	dstring_fini(&error);
	return is_over;
}

bool
smtpd_anvil_message(struct smtpd_session *session)
{
	int rate = 0;

	if (!over_limit(session, var_smtpd_client_message_rate_limit, anvil_client_message, &rate))
		return true;
	log_warning("Message delivery request rate limit exceeded: %d from %s for service %s", rate,
	            session->namaddr, server_service_name());
	smtpd_reply(session, "450 4.7.1 Error: too much mail from %s", session->address);
	return false;
}

bool
smtpd_anvil_recipient(struct smtpd_session *session)
{
	int rate = 0;

	if (!over_limit(session, var_smtpd_client_recipient_rate_limit, anvil_client_recipient,
	                &rate))
		return true;
	log_warning("Recipient address rate limit exceeded: %d from %s for service %s", rate,
	            session->namaddr, server_service_name());
	smtpd_reply(session, "450 4.7.1 Error: too many recipients from %s", session->address);
	return false;
}

bool
smtpd_anvil_auth(struct smtpd_session *session)
{
	int rate = 0;

	if (!over_limit(session, var_smtpd_client_auth_rate_limit, anvil_client_auth, &rate))
		return true;
	log_warning("AUTH command rate limit exceeded: %d from %s for service %s", rate,
	            session->namaddr, server_service_name());
	smtpd_reply(session, "450 4.7.1 Error: too many AUTH commands from %s", session->address);
	return false;
}

void
smtpd_anvil_end(struct smtpd_session *session)
{
	if (session->anvil == NULL)
		return;
	anvil_client_disconnect(session->anvil, server_service_name(), session->address);
	anvil_client_close(session->anvil);
	session->anvil = NULL;
}
