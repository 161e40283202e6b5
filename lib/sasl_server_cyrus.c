/*
 * sasl_server_cyrus - the SASL backend that uses the Cyrus SASL library
 * (libsasl2): its plugins (PLAIN, LOGIN, CRAM-MD5, ...), its password
 * checks (auxprop/sasldb, saslauthd) and its configuration file
 * $cyrus_sasl_config_path/<smtpd_sasl_path>.conf (default smtpd.conf).
 *
 * What it trusts: libsasl2 and its plugins (system libraries run in our
 * process). Not the client: responses come here already bounded and
 * decoded. Cyrus log messages at its "pass" and "trace" levels (which can
 * hold passwords) are dropped.
 */
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "dstring.h"
#include "log.h"
#include "sasl_server_private.h"
#include "xalloc.h"

static bool cyrus_is_initialized;
static char *cyrus_config_path;
static sasl_callback_t cyrus_callbacks[3];

/* Cyrus log messages: by level, never the password-bearing ones. */
static int
cyrus_log(void *context, int level, const char *message)
{
	(void)context;
	if (message == NULL)
		return SASL_OK;
	switch (level) {
	case SASL_LOG_ERR:
		log_warning("SASL: %s", message);
		break;
	case SASL_LOG_FAIL:
	case SASL_LOG_WARN:
		log_info("SASL: %s", message);
		break;
	case SASL_LOG_NOTE:
	case SASL_LOG_DEBUG:
		log_debug("SASL: %s", message);
		break;
	default: /* SASL_LOG_TRACE, SASL_LOG_PASS: may carry secrets */
		break;
	}
	return SASL_OK;
}

static int
cyrus_get_config_path(void *context, const char **path)
{
	(void)context;
	*path = cyrus_config_path;
	return SASL_OK;
}

static int
cyrus_init(const char *path, const char *config_path, struct dstring *error)
{
	size_t count = 0;
	int result;

	cyrus_callbacks[count].id = SASL_CB_LOG;
	cyrus_callbacks[count].proc = (int (*)(void))(void (*)(void))cyrus_log;
	cyrus_callbacks[count++].context = NULL;
	if (config_path != NULL && *config_path != '\0') {
		cyrus_config_path = xstrdup(config_path);
		cyrus_callbacks[count].id = SASL_CB_GETCONFPATH;
		cyrus_callbacks[count].proc = (int (*)(void))(void (*)(void))cyrus_get_config_path;
		cyrus_callbacks[count++].context = NULL;
	}
	cyrus_callbacks[count].id = SASL_CB_LIST_END;
	cyrus_callbacks[count].proc = NULL;
	cyrus_callbacks[count].context = NULL;
	/* The application name picks the configuration file: <name>.conf. */
	result = sasl_server_init(cyrus_callbacks, path != NULL && *path != '\0' ? path : "smtpd");
	if (result != SASL_OK) {
		dstring_printf(error, "Cyrus SASL initialization failed: %s",
		               sasl_errstring(result, NULL, NULL));
		return -1;
	}
	cyrus_is_initialized = true;
	return 0;
}

static void *
cyrus_open(const struct sasl_server_settings *settings, struct dstring *error)
{
	sasl_conn_t *connection = NULL;
	const char *realm = settings->local_domain;
	int result;

	if (!cyrus_is_initialized) {
		dstring_set(error, "Cyrus SASL backend not initialized");
		return NULL;
	}
	/* No server name: Cyrus uses this host's, as saslpasswd2 does, so
	 * its default realm matches the one users were created in. */
	result = sasl_server_new(
	    settings->service != NULL && *settings->service != '\0' ? settings->service : "smtp",
	    NULL, realm != NULL && *realm != '\0' ? realm : NULL, NULL, NULL, NULL, 0, &connection);
	if (result != SASL_OK) {
		dstring_printf(error, "Cyrus SASL: cannot create a session: %s",
		               sasl_errstring(result, NULL, NULL));
		if (connection != NULL)
			sasl_dispose(&connection);
		return NULL;
	}
	return connection;
}

static void
cyrus_mechanisms(void *state, unsigned security_flags, struct dstring *list)
{
	sasl_conn_t *connection = state;
	sasl_security_properties_t properties;
	const char *mechanisms;
	unsigned length;
	int count;

	memset(&properties, 0, sizeof(properties));
	/* SMTP has no SASL security layer: ask for none. */
	properties.min_ssf = 0;
	properties.max_ssf = 0;
	properties.maxbufsize = 0;
	if (security_flags & SASL_SECURITY_NOANONYMOUS)
		properties.security_flags |= SASL_SEC_NOANONYMOUS;
	if (security_flags & SASL_SECURITY_NOPLAINTEXT)
		properties.security_flags |= SASL_SEC_NOPLAINTEXT;
	if (security_flags & SASL_SECURITY_NOACTIVE)
		properties.security_flags |= SASL_SEC_NOACTIVE;
	if (security_flags & SASL_SECURITY_NODICTIONARY)
		properties.security_flags |= SASL_SEC_NODICTIONARY;
	if (security_flags & SASL_SECURITY_MUTUAL_AUTH)
		properties.security_flags |= SASL_SEC_MUTUAL_AUTH;
	if (security_flags & SASL_SECURITY_FORWARD_SECRECY)
		properties.security_flags |= SASL_SEC_FORWARD_SECRECY;
	if (sasl_setprop(connection, SASL_SEC_PROPS, &properties) != SASL_OK) {
		log_warning("Cyrus SASL: cannot set the security properties");
		return;
	}
	if (sasl_listmech(connection, NULL, "", " ", "", &mechanisms, &length, &count) != SASL_OK)
		return; /* no mechanism left: an empty list, so no AUTH */
	for (unsigned i = 0; i < length; i++) {
		char character = mechanisms[i];

		if (character >= 'a' && character <= 'z')
			character = (char)(character - 'a' + 'A');
		dstring_append_char(list, character);
	}
}

static enum sasl_server_status
cyrus_result(sasl_conn_t *connection, int result, const char *challenge, unsigned length,
             struct dstring *output, struct dstring *username)
{
	const void *name = NULL;

	switch (result) {
	case SASL_CONTINUE:
		if (dstring_append(output, challenge, length) < 0) {
			dstring_set(output, "Cyrus SASL challenge too long");
			return SASL_SERVER_TEMPFAIL;
		}
		return SASL_SERVER_CONTINUE;
	case SASL_OK:
		if (sasl_getprop(connection, SASL_USERNAME, &name) != SASL_OK || name == NULL ||
		    dstring_set(username, name) < 0) {
			dstring_set(output, "Cyrus SASL: no usable user name");
			return SASL_SERVER_TEMPFAIL;
		}
		for (const char *cursor = name; *cursor != '\0'; cursor++) {
			if ((unsigned char)*cursor < 0x20 || *cursor == 0x7f) {
				dstring_set(output, "Cyrus SASL: control byte in user name");
				return SASL_SERVER_FAIL;
			}
		}
		return SASL_SERVER_DONE;
	case SASL_NOMECH:
		dstring_set(output, sasl_errstring(result, NULL, NULL));
		return SASL_SERVER_BAD_MECHANISM;
	case SASL_BADPROT:
		dstring_set(output, sasl_errstring(result, NULL, NULL));
		return SASL_SERVER_BAD_INPUT;
	case SASL_TRYAGAIN:
	case SASL_UNAVAIL:
	case SASL_NOMEM:
		dstring_set(output, sasl_errstring(result, NULL, NULL));
		return SASL_SERVER_TEMPFAIL;
	default:
		dstring_set(output, sasl_errstring(result, NULL, NULL));
		return SASL_SERVER_FAIL;
	}
}

static enum sasl_server_status
cyrus_start(void *state, const char *mechanism, const char *response, size_t length,
            struct dstring *output, struct dstring *username)
{
	sasl_conn_t *connection = state;
	const char *challenge = NULL;
	unsigned challenge_length = 0;
	int result;

	if (length > SASL_SERVER_DATA_MAX)
		return SASL_SERVER_BAD_INPUT;
	result = sasl_server_start(connection, mechanism, response, (unsigned)length, &challenge,
	                            &challenge_length);
	return cyrus_result(connection, result, challenge, challenge_length, output, username);
}

static enum sasl_server_status
cyrus_step(void *state, const char *response, size_t length, struct dstring *output,
           struct dstring *username)
{
	sasl_conn_t *connection = state;
	const char *challenge = NULL;
	unsigned challenge_length = 0;
	int result;

	if (length > SASL_SERVER_DATA_MAX)
		return SASL_SERVER_BAD_INPUT;
	result = sasl_server_step(connection, response, (unsigned)length, &challenge,
	                           &challenge_length);
	return cyrus_result(connection, result, challenge, challenge_length, output, username);
}

static void
cyrus_close(void *state)
{
	sasl_conn_t *connection = state;

	sasl_dispose(&connection);
}

const struct sasl_server_backend sasl_server_cyrus_backend = {
    .type = "cyrus",
    .init = cyrus_init,
    .open = cyrus_open,
    .mechanisms = cyrus_mechanisms,
    .start = cyrus_start,
    .step = cyrus_step,
    .close = cyrus_close,
};
