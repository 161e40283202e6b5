/*
 * sasl_client - SMTP AUTH for the client through Cyrus SASL
 * (lib/sasl_client.h has the contract).
 *
 * Cyrus asks for the user name and the password through callbacks; each
 * attempt gets its own callback table whose context is this module's
 * state, so one process can hold attempts for different servers.
 */
#include <sasl/sasl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dstring.h"
#include "sasl_client.h"
#include "strlist.h"
#include "xalloc.h"

struct sasl_client {
	sasl_conn_t *connection;
	sasl_callback_t callbacks[4];
	char *user;
	sasl_secret_t *secret; /* the password in Cyrus's form */
	size_t secret_size;
};

static bool sasl_client_is_setup;

static const struct {
	const char *name;
	unsigned flag;
} sasl_client_security_names[] = {
    {"noanonymous", SASL_SEC_NOANONYMOUS}, {"noplaintext", SASL_SEC_NOPLAINTEXT},
    {"noactive", SASL_SEC_NOACTIVE},       {"nodictionary", SASL_SEC_NODICTIONARY},
    {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
};

int
sasl_client_setup(struct dstring *error)
{
	int status;

	if (sasl_client_is_setup)
		return 0;
	status = sasl_client_init(NULL);
	if (status != SASL_OK) {
		dstring_printf(error, "cannot initialise Cyrus SASL: %s",
		               sasl_errstring(status, NULL, NULL));
		return -1;
	}
	sasl_client_is_setup = true;
	return 0;
}

/* get_simple: SASL_CB_USER and SASL_CB_AUTHNAME both get the user name. */
static int
get_simple(void *context, int id, const char **result, unsigned *length)
{
	struct sasl_client *client = context;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_FAIL;
	*result = client->user;
	if (length != NULL)
		*length = (unsigned)strlen(client->user);
	return SASL_OK;
}

static int
get_secret(sasl_conn_t *connection, void *context, int id, sasl_secret_t **secret)
{
	struct sasl_client *client = context;

	if (id != SASL_CB_PASS)
		return SASL_FAIL;
	*secret = client->secret;
	return SASL_OK;
}

static int
security_flags(const char *options, unsigned *flags, struct dstring *error)
{
	struct strlist words;
	int status = 0;

	*flags = 0;
	strlist_init(&words);
	if (strlist_split(&words, options, ", \t", error) < 0) {
		strlist_fini(&words);
		return -1;
	}
	for (size_t i = 0; i < words.count; i++) {
		size_t j;

		for (j = 0;
		     j < sizeof(sasl_client_security_names) / sizeof(sasl_client_security_names[0]);
		     j++)
			if (strcasecmp(words.items[i], sasl_client_security_names[j].name) == 0) {
				*flags |= sasl_client_security_names[j].flag;
				break;
			}
		if (j ==
		    sizeof(sasl_client_security_names) / sizeof(sasl_client_security_names[0])) {
			dstring_printf(error, "unknown SASL security option \"%s\"",
			               words.items[i]);
			status = -1;
			break;
		}
	}
	strlist_fini(&words);
	return status;
}

struct sasl_client *
sasl_client_open(const char *server_name, const char *user, const char *password,
                 const char *security_options, struct dstring *error)
{
	struct sasl_client *client;
	sasl_security_properties_t properties;
	unsigned flags;
	size_t password_length = strlen(password);
	int status;

	if (security_flags(security_options, &flags, error) < 0)
		return NULL;
	if (sasl_client_setup(error) < 0)
		return NULL;
	client = xcalloc(1, sizeof(*client));
	client->user = xstrdup(user);
	client->secret_size = sizeof(sasl_secret_t) + password_length + 1;
	client->secret = xcalloc(1, client->secret_size);
	client->secret->len = password_length;
	memcpy(client->secret->data, password, password_length);
	client->callbacks[0] =
	    (sasl_callback_t){SASL_CB_USER, (int (*)(void))(void (*)(void))get_simple, client};
	client->callbacks[1] =
	    (sasl_callback_t){SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_simple, client};
	client->callbacks[2] =
	    (sasl_callback_t){SASL_CB_PASS, (int (*)(void))(void (*)(void))get_secret, client};
	client->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
	status = sasl_client_new("smtp", server_name, NULL, NULL, client->callbacks, 0,
	                         &client->connection);
	if (status != SASL_OK) {
		dstring_printf(error, "SASL client: %s", sasl_errstring(status, NULL, NULL));
		sasl_client_close(client);
		return NULL;
	}
	memset(&properties, 0, sizeof(properties));
	properties.min_ssf = 0;
	properties.max_ssf = 0;
	properties.maxbufsize = 0;
	properties.security_flags = flags;
	status = sasl_setprop(client->connection, SASL_SEC_PROPS, &properties);
	if (status != SASL_OK) {
		dstring_printf(error, "SASL security properties: %s",
		               sasl_errdetail(client->connection));
		sasl_client_close(client);
		return NULL;
	}
	return client;
}

/* filter_mechanisms: the server's mechanisms that filter allows, space-separated. */
static void
filter_mechanisms(const char *server_mechanisms, const char *filter, struct dstring *out)
{
	struct strlist offered, allowed;

	strlist_init(&offered);
	strlist_init(&allowed);
	strlist_split(&offered, server_mechanisms, " \t", NULL);
	if (filter != NULL)
		strlist_split(&allowed, filter, ", \t", NULL);
	for (size_t i = 0; i < offered.count; i++) {
		bool is_allowed = allowed.count == 0;

		for (size_t j = 0; j < allowed.count && !is_allowed; j++)
			is_allowed = strcasecmp(offered.items[i], allowed.items[j]) == 0;
		if (!is_allowed)
			continue;
		if (dstring_length(out) > 0)
			dstring_append_char(out, ' ');
		dstring_append_str(out, offered.items[i]);
	}
	strlist_fini(&offered);
	strlist_fini(&allowed);
}

int
sasl_client_begin(struct sasl_client *client, const char *server_mechanisms, const char *filter,
                  const char **mechanism, struct dstring *response, bool *has_response,
                  struct dstring *error)
{
	struct dstring mechanisms;
	const char *output = NULL;
	unsigned output_length = 0;
	int status;

	dstring_init(&mechanisms, DSTRING_NO_LIMIT);
	filter_mechanisms(server_mechanisms, filter, &mechanisms);
	if (dstring_length(&mechanisms) == 0) {
		dstring_printf(error, "no mechanism available: the server offers \"%s\"%s%s",
		               server_mechanisms,
		               filter != NULL && *filter != '\0' ? ", filter " : "",
		               filter != NULL ? filter : "");
		dstring_fini(&mechanisms);
		return -1;
	}
	status = sasl_client_start(client->connection, dstring_str(&mechanisms), NULL, &output,
	                           &output_length, mechanism);
	if (status != SASL_OK && status != SASL_CONTINUE) {
		dstring_printf(error, "cannot start SASL with mechanisms \"%s\": %s",
		               dstring_str(&mechanisms), sasl_errdetail(client->connection));
		dstring_fini(&mechanisms);
		return -1;
	}
	dstring_fini(&mechanisms);
	dstring_reset(response);
	*has_response = output != NULL;
	if (output != NULL)
		dstring_append(response, output, output_length);
	return 0;
}

int
sasl_client_continue(struct sasl_client *client, const char *challenge, size_t length,
                     struct dstring *response, struct dstring *error)
{
	const char *output = NULL;
	unsigned output_length = 0;
	int status;

	if (length > 65536) {
		dstring_set(error, "SASL challenge too long");
		return -1;
	}
	status = sasl_client_step(client->connection, challenge, (unsigned)length, NULL, &output,
	                          &output_length);
	if (status != SASL_OK && status != SASL_CONTINUE) {
		dstring_printf(error, "SASL step: %s", sasl_errdetail(client->connection));
		return -1;
	}
	dstring_reset(response);
	if (output != NULL)
		dstring_append(response, output, output_length);
	return 0;
}

void
sasl_client_close(struct sasl_client *client)
{
	if (client == NULL)
		return;
	if (client->connection != NULL)
		sasl_dispose(&client->connection);
	if (client->secret != NULL) {
		/* volatile: the compiler must not drop the erase of memory about to be freed. */
		volatile unsigned char *p = (volatile unsigned char *)client->secret;

		for (size_t i = 0; i < client->secret_size; i++)
			p[i] = 0;
		free(client->secret);
	}
	free(client->user);
	free(client);
}
