/*
 * sasl_server - the dispatcher in front of the SASL backends: the choice
 * of backend, the security options, the list of offered mechanisms, base64
 * on the client side, and the bounds every exchange keeps (response size,
 * number of steps) whatever the backend.
 *
 * What it trusts: its caller's settings and option strings (from main.cf).
 * Nothing from the client: every response is decoded strictly and bounded.
 * The backend's challenges are bounded by the backend itself.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dstring.h"
#include "log.h"
#include "sasl_server.h"
#include "sasl_server_private.h"
#include "strlist.h"
#include "xalloc.h"

struct sasl_server {
	const struct sasl_server_backend *backend;
	void *state;
	/* The mechanisms offered by the last sasl_server_mechanisms, with a
	 * space before and after each ("" before the first call: all). */
	char *offered;
	bool has_offered;
	bool is_in_exchange;
	unsigned steps;
	char *username;
};

static const struct sasl_server_backend *sasl_server_chosen;

static const struct {
	const char *name;
	unsigned flag;
} sasl_security_names[] = {
    {"noanonymous", SASL_SECURITY_NOANONYMOUS}, {"noplaintext", SASL_SECURITY_NOPLAINTEXT},
    {"noactive", SASL_SECURITY_NOACTIVE},       {"nodictionary", SASL_SECURITY_NODICTIONARY},
    {"mutual_auth", SASL_SECURITY_MUTUAL_AUTH}, {"forward_secrecy", SASL_SECURITY_FORWARD_SECRECY},
};

int
sasl_server_security_flags(const char *options, unsigned *flags, struct dstring *error)
{
	struct strlist words;
	int result = 0;

	*flags = 0;
	strlist_init(&words);
	if (strlist_split(&words, options != NULL ? options : "", STRLIST_COMMA_SPACE, NULL) < 0) {
		if (error != NULL)
			dstring_set(error, "unbalanced braces in security options");
		strlist_fini(&words);
		return -1;
	}
	for (size_t i = 0; i < words.count; i++) {
		size_t j;

		for (j = 0; j < sizeof(sasl_security_names) / sizeof(sasl_security_names[0]); j++) {
			if (strcasecmp(words.items[i], sasl_security_names[j].name) == 0) {
				*flags |= sasl_security_names[j].flag;
				break;
			}
		}
		if (j == sizeof(sasl_security_names) / sizeof(sasl_security_names[0])) {
			if (error != NULL)
				dstring_append_printf(error, "%sunknown security option \"%s\"",
				                      result < 0 ? "; " : "", words.items[i]);
			result = -1;
		}
	}
	strlist_fini(&words);
	return result;
}

bool
sasl_server_mechanism_name_ok(const char *name, size_t length)
{
	if (length == 0 || length > SASL_SERVER_MECHANISM_MAX)
		return false;
	for (size_t i = 0; i < length; i++) {
		unsigned char character = (unsigned char)name[i];

		if (!(isupper(character) || isdigit(character) || character == '-' ||
		      character == '_'))
			return false;
	}
	return true;
}

int
sasl_server_setup(const char *type, const char *path, const char *config_path, struct dstring *error)
{
	const struct sasl_server_backend *backend;

	if (type != NULL && strcasecmp(type, "cyrus") == 0)
		backend = &sasl_server_cyrus_backend;
	else if (type != NULL && strcasecmp(type, "dovecot") == 0)
		backend = &sasl_server_dovecot_backend;
	else {
		dstring_printf(error, "unsupported SASL server type \"%s\" (cyrus, dovecot)",
		               type != NULL ? type : "");
		return -1;
	}
	if (sasl_server_chosen != NULL) {
		if (sasl_server_chosen == backend)
			return 0;
		dstring_set(error, "SASL server already initialized with another type");
		return -1;
	}
	if (backend->init(path, config_path, error) < 0)
		return -1;
	sasl_server_chosen = backend;
	return 0;
}

struct sasl_server *
sasl_server_open(const struct sasl_server_settings *settings, struct dstring *error)
{
	struct sasl_server *server;
	void *state;

	if (sasl_server_chosen == NULL) {
		dstring_set(error, "SASL server not initialized");
		return NULL;
	}
	state = sasl_server_chosen->open(settings, error);
	if (state == NULL)
		return NULL;
	server = xcalloc(1, sizeof(*server));
	server->backend = sasl_server_chosen;
	server->state = state;
	server->offered = xstrdup("");
	return server;
}

void
sasl_server_mechanisms(struct sasl_server *server, const char *security_options,
                       struct dstring *list)
{
	struct dstring error, padded;
	unsigned flags;

	dstring_init(&error, 1024);
	if (sasl_server_security_flags(security_options, &flags, &error) < 0)
		log_warning("SASL security options: %s (ignored)", dstring_str(&error));
	dstring_fini(&error);
	dstring_reset(list);
	server->backend->mechanisms(server->state, flags, list);
	dstring_init(&padded, DSTRING_NO_LIMIT);
	dstring_printf(&padded, " %s ", dstring_str(list));
	free(server->offered);
	server->offered = dstring_steal(&padded);
	dstring_fini(&padded);
	server->has_offered = true;
}

static bool
sasl_server_is_offered(const struct sasl_server *server, const char *mechanism)
{
	char needle[SASL_SERVER_MECHANISM_MAX + 3];
	size_t length = strlen(mechanism);

	if (!server->has_offered)
		return true; /* the backend refuses what it does not have */
	memcpy(needle + 1, mechanism, length);
	needle[0] = ' ';
	needle[length + 1] = ' ';
	needle[length + 2] = '\0';
	return strstr(server->offered, needle) != NULL;
}

/* Decode a client response into decoded (an initial "=" is empty).
 * CONTINUE means it decoded; BAD_INPUT means it did not. */
static enum sasl_server_status
sasl_server_decode(const char *text, bool is_initial, struct dstring *decoded)
{
	size_t length = strlen(text);

	if (is_initial && strcmp(text, "=") == 0)
		return SASL_SERVER_CONTINUE;
	if (length / 4 * 3 > SASL_SERVER_DATA_MAX)
		return SASL_SERVER_BAD_INPUT;
	if (base64_decode(decoded, text, length) < 0)
		return SASL_SERVER_BAD_INPUT;
	return SASL_SERVER_CONTINUE;
}

/* Common ending of start and step: encode, remember the user, count. */
static enum sasl_server_status
sasl_server_finish(struct sasl_server *server, enum sasl_server_status status, struct dstring *raw,
                   struct dstring *username, struct dstring *output)
{
	dstring_reset(output);
	switch (status) {
	case SASL_SERVER_CONTINUE:
		if (++server->steps > SASL_SERVER_STEP_MAX) {
			dstring_set(output, "too many SASL steps");
			status = SASL_SERVER_FAIL;
			break;
		}
		if (base64_encode(output, dstring_str(raw), dstring_length(raw)) < 0) {
			dstring_set(output, "SASL challenge too long");
			status = SASL_SERVER_TEMPFAIL;
		}
		break;
	case SASL_SERVER_DONE:
		free(server->username);
		server->username = xstrdup(dstring_str(username));
		break;
	default:
		dstring_append(output, dstring_str(raw), dstring_length(raw));
		break;
	}
	server->is_in_exchange = status == SASL_SERVER_CONTINUE;
	return status;
}

enum sasl_server_status
sasl_server_begin(struct sasl_server *server, const char *mechanism, const char *initial_response,
                  struct dstring *output)
{
	char name[SASL_SERVER_MECHANISM_MAX + 1];
	size_t length = strlen(mechanism);
	struct dstring decoded, raw, username;
	enum sasl_server_status status;

	dstring_reset(output);
	server->is_in_exchange = false;
	server->steps = 0;
	if (length > SASL_SERVER_MECHANISM_MAX) {
		dstring_set(output, "mechanism name too long");
		return SASL_SERVER_BAD_MECHANISM;
	}
	for (size_t i = 0; i <= length; i++)
		name[i] = (char)toupper((unsigned char)mechanism[i]);
	if (!sasl_server_mechanism_name_ok(name, length) || !sasl_server_is_offered(server, name)) {
		dstring_set(output, "mechanism not offered");
		return SASL_SERVER_BAD_MECHANISM;
	}
	dstring_init(&decoded, SASL_SERVER_DATA_MAX);
	if (initial_response != NULL &&
	    sasl_server_decode(initial_response, true, &decoded) != SASL_SERVER_CONTINUE) {
		dstring_fini(&decoded);
		dstring_set(output, "malformed base64 in initial response");
		return SASL_SERVER_BAD_INPUT;
	}
	dstring_init(&raw, SASL_SERVER_DATA_MAX);
	dstring_init(&username, 1024);
	status = server->backend->start(server->state, name,
	                                initial_response != NULL ? dstring_str(&decoded) : NULL,
	                                dstring_length(&decoded), &raw, &username);
	status = sasl_server_finish(server, status, &raw, &username, output);
	dstring_fini(&decoded);
	dstring_fini(&raw);
	dstring_fini(&username);
	return status;
}

enum sasl_server_status
sasl_server_continue(struct sasl_server *server, const char *response, struct dstring *output)
{
	struct dstring decoded, raw, username;
	enum sasl_server_status status;

	dstring_reset(output);
	if (!server->is_in_exchange) {
		dstring_set(output, "no SASL exchange in progress");
		return SASL_SERVER_BAD_INPUT;
	}
	dstring_init(&decoded, SASL_SERVER_DATA_MAX);
	if (sasl_server_decode(response, false, &decoded) != SASL_SERVER_CONTINUE) {
		dstring_fini(&decoded);
		server->is_in_exchange = false;
		dstring_set(output, "malformed base64 in response");
		return SASL_SERVER_BAD_INPUT;
	}
	dstring_init(&raw, SASL_SERVER_DATA_MAX);
	dstring_init(&username, 1024);
	status = server->backend->step(server->state, dstring_str(&decoded),
	                               dstring_length(&decoded), &raw, &username);
	status = sasl_server_finish(server, status, &raw, &username, output);
	dstring_fini(&decoded);
	dstring_fini(&raw);
	dstring_fini(&username);
	return status;
}

const char *
sasl_server_username(const struct sasl_server *server)
{
	return server->username;
}

void
sasl_server_close(struct sasl_server *server)
{
	if (server == NULL)
		return;
	server->backend->close(server->state);
	free(server->offered);
	free(server->username);
	free(server);
}
