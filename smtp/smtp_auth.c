/*
 * smtp_auth - SMTP AUTH for the smtp client (docs/smtp.md, "SASL").
 *
 * The credentials come from smtp_sasl_password_maps, value "user:password",
 * looked up (as Postfix does) by:
 *   - with smtp_sender_dependent_authentication: the sender, then
 *     "@domain" of the sender;
 *   - the next hop as qmgr gave it ("[smtp.isp.example]:587",
 *     "example.com"), then the server's host name ("smtp.isp.example").
 * No entry: the mail goes without AUTH. A table that cannot be read
 * defers. The exchange itself goes through lib/sasl_client (Cyrus).
 *
 * What it trusts: the table (the administrator's), nothing from the
 * server: 334 challenges are base64-decoded within the reply limits.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "config.h"
#include "log.h"
#include "sasl_client.h"
#include "smtp.h"
#include "stream.h"
#include "table.h"

void
smtp_auth_setup(void)
{
	struct dstring error;

	dstring_init(&error, 1024);
	if (sasl_client_setup(&error) < 0)
		log_warning("%s", dstring_str(&error));
	dstring_fini(&error);
}

int
smtp_auth_lookup(struct smtp_state *state, const char *server_host, struct dstring *user,
                 struct dstring *password, struct dstring *error)
{
	const char *keys[4];
	size_t key_count = 0;
	const char *sender = state->request->sender;
	const char *value = NULL;
	const char *at = strrchr(sender, '@');
	const char *colon;
	enum table_result found = TABLE_NOT_FOUND;

	if (state->password_maps == NULL)
		state->password_maps =
		    table_list_open(var_smtp_sasl_password_maps, TABLE_FOLD_CASE);
	if (var_smtp_sender_dependent_authentication && *sender != '\0') {
		keys[key_count++] = sender;
		if (at != NULL)
			keys[key_count++] = at;
	}
	keys[key_count++] = state->request->next_hop;
	keys[key_count++] = server_host;
	for (size_t i = 0; i < key_count && found == TABLE_NOT_FOUND; i++) {
		if (*keys[i] == '\0')
			continue;
		found = i > 0 && keys[i] == at
		            ? table_list_lookup_partial(state->password_maps, keys[i], &value)
		            : table_list_lookup(state->password_maps, keys[i], &value);
	}
	if (found == TABLE_ERROR) {
		dstring_printf(error, "smtp_sasl_password_maps: %s", value);
		return -1;
	}
	if (found == TABLE_NOT_FOUND)
		return 0;
	colon = strchr(value, ':');
	dstring_reset(user);
	dstring_reset(password);
	if (colon == NULL) {
		dstring_set(user, value);
	} else {
		dstring_append(user, value, (size_t)(colon - value));
		dstring_set(password, colon + 1);
	}
	return 1;
}

int
smtp_auth_exchange(struct stream *stream, struct smtp_reply *reply, const char *server,
                   const char *server_mechanisms, const char *user, const char *password,
                   bool is_tls, struct dstring *reason)
{
	struct sasl_client *client;
	struct dstring response, encoded, error, challenge, line;
	const char *mechanism = NULL;
	bool has_response = false;
	int status = -1;

	dstring_init(&response, 65536);
	dstring_init(&encoded, 2 * 65536);
	dstring_init(&error, 1024);
	dstring_init(&challenge, 65536);
	dstring_init(&line, SMTP_REPLY_LINE_MAX + 1);
	client = sasl_client_open(
	    server, user, password,
	    is_tls ? var_smtp_sasl_tls_security_options : var_smtp_sasl_security_options, &error);
	if (client == NULL ||
	    sasl_client_begin(client, server_mechanisms, var_smtp_sasl_mechanism_filter, &mechanism,
	                      &response, &has_response, &error) < 0) {
		dstring_printf(reason,
		               "SASL authentication failed; cannot authenticate to server %s: %s",
		               server, dstring_str(&error));
		goto done;
	}
	stream_printf(stream, "AUTH %s", mechanism);
	if (has_response) {
		dstring_reset(&encoded);
		base64_encode(&encoded, dstring_str(&response), dstring_length(&response));
		stream_printf(stream, " %s",
		              dstring_length(&encoded) > 0 ? dstring_str(&encoded) : "=");
	}
	stream_puts(stream, "\r\n");
	/* Each round is one challenge; a server that never ends is cut at 20. */
	for (int round = 0;; round++) {
		enum smtp_reply_read_status got = smtp_reply_read(stream, reply, &error);

		if (got != SMTP_REPLY_READ_OK) {
			dstring_printf(reason, "%s with %s while authenticating",
			               got == SMTP_REPLY_READ_TIMEOUT ? "conversation timed out"
			                                              : dstring_str(&error),
			               server);
			goto done;
		}
		if (reply->code == 235) {
			status = 0;
			goto done;
		}
		if (reply->code != 334 || round >= 20) {
			dstring_reset(&line);
			smtp_reply_format(reply, &line);
			dstring_printf(reason, "SASL authentication failed; server %s said: %s",
			               server, dstring_str(&line));
			status = 1;
			goto done;
		}
		smtp_reply_line(reply, 0, &line);
		dstring_reset(&challenge);
		if (base64_decode(&challenge, dstring_str(&line), dstring_length(&line)) < 0) {
			dstring_printf(reason,
			               "SASL authentication failed; malformed challenge from %s",
			               server);
			stream_puts(stream, "*\r\n");
			stream_flush(stream);
			goto done;
		}
		if (sasl_client_continue(client, dstring_str(&challenge),
		                         dstring_length(&challenge), &response, &error) < 0) {
			dstring_printf(
			    reason,
			    "SASL authentication failed; cannot authenticate to server %s: %s",
			    server, dstring_str(&error));
			stream_puts(stream, "*\r\n");
			stream_flush(stream);
			goto done;
		}
		dstring_reset(&encoded);
		base64_encode(&encoded, dstring_str(&response), dstring_length(&response));
		stream_printf(stream, "%s\r\n", dstring_str(&encoded));
	}
done:
	sasl_client_close(client);
	dstring_fini(&response);
	dstring_fini(&encoded);
	dstring_fini(&error);
	dstring_fini(&challenge);
	dstring_fini(&line);
	return status;
}
