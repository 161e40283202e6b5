/*
 * smtpd_check_address - the restrictions about names and addresses: the
 * syntax of HELO names and envelope addresses, the relay decision,
 * unlisted recipients and senders, sender login ownership and the
 * client's host name.
 *
 * The relay decision. A recipient is "ours" when the domain after its
 * last '@' resolves (lib/resolve: the queue manager's own rules) to
 * LOCAL (mydestination, an address of this host) or RELAY
 * (relay_domains), or matches virtual_alias_domains. '%' and '!' are not
 * routing here, and source routes were stripped by the SMTP parser, so
 * "user%other@ourhost", "\"user@other\"@ourhost" and "other!user@ourhost"
 * stay at ourhost: they are local recipients, and the unlisted-recipient
 * check then refuses them. For relay_domains, a local part with '%', '!'
 * or '@' is refused unless allow_untrusted_routing = yes, as in Postfix:
 * the next hop might honour the routing even though we do not.
 *
 * Trust: addresses and names come from the client; tables and main.cf
 * are configuration.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "network_list.h"
#include "resolve.h"
#include "smtpd_check_internal.h"
#include "strlist.h"
#include "table_search.h"

const char *
check_domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

enum resolve_status
check_resolve_class(const char *address, enum resolve_class *address_class,
                    struct dstring *error)
{
	struct dstring domain;
	enum resolve_status status;

	/* The resolver wants the domain as the queue manager has it: lower case, no root dot. */
	dstring_init(&domain, DSTRING_NO_LIMIT);
	for (const char *p = check_domain_of(address); *p; p++)
		dstring_append_char(&domain, (char)tolower((unsigned char)*p));
	if (dstring_length(&domain) > 0 && domain.data[domain.length - 1] == '.')
		dstring_truncate(&domain, domain.length - 1);
	status = resolve_domain_class(check_config.resolve, dstring_str(&domain), address_class,
	                              error);
	dstring_fini(&domain);
	return status;
}

/*
 * valid_hostname: Postfix's rules: labels of letters, digits, '-' and
 * '_', 1-63 bytes, no '-' at either end, at most 255 bytes, not all
 * numeric. One trailing dot is allowed.
 */
static bool
valid_hostname(const char *name)
{
	size_t length = strlen(name);
	size_t label = 0;
	bool has_non_numeric = false;

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length == 0 || length > 255)
		return false;
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)name[i];

		if (byte == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(byte) && byte != '-' && byte != '_')
			return false;
		if (byte == '-' && label == 0)
			return false;
		if (!isdigit(byte))
			has_non_numeric = true;
		if (++label > 63)
			return false;
	}
	return label > 0 && name[length - 1] != '-' && has_non_numeric;
}

/* valid_address_literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
static bool
valid_address_literal(const char *name)
{
	char buffer[64];
	size_t length = strlen(name);
	unsigned char address[16];

	if (length < 3 || name[0] != '[' || name[length - 1] != ']' || length - 2 >= sizeof(buffer))
		return false;
	memcpy(buffer, name + 1, length - 2);
	buffer[length - 2] = '\0';
	if (strncasecmp(buffer, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buffer + 5, address) == 1;
	return inet_pton(AF_INET, buffer, address) == 1;
}

static bool
is_fqdn(const char *name)
{
	const char *dot = strchr(name, '.');

	/* "host." has a dot but only the root after it. */
	return valid_hostname(name) && dot != NULL && dot[1] != '\0';
}

static enum check_verdict
non_fqdn_address(struct check_state *state, const char *address, const char *reply_class)
{
	const char *domain;

	if (address == NULL || *address == '\0')
		return CHECK_DUNNO;
	domain = check_domain_of(address);
	if (*domain == '[' ? valid_address_literal(domain) : is_fqdn(domain))
		return CHECK_DUNNO;
	return check_reject(state, var_non_fqdn_reject_code, "5.5.2",
	                    "<%s>: %s rejected: need fully-qualified address", address,
	                    reply_class);
}

/* ---- The relay decision -------------------------------------------------- */

enum destination {
	DESTINATION_OURS,
	DESTINATION_FOREIGN,
	DESTINATION_TEMPFAIL,
};

static bool
in_virtual_alias_domains(const char *domain, bool *is_error)
{
	enum network_list_result match;

	*is_error = false;
	if (check_config.virtual_alias_domains == NULL || *domain == '\0')
		return false;
	match = network_list_match(check_config.virtual_alias_domains, domain, NULL);
	*is_error = match == NETWORK_LIST_ERROR;
	return match == NETWORK_LIST_MATCH;
}

static enum destination
destination_of(const char *recipient, enum resolve_class *address_class)
{
	struct dstring error;
	const char *domain = check_domain_of(recipient);
	enum resolve_status status;
	bool is_error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	status = check_resolve_class(recipient, address_class, &error);
	if (status != RESOLVE_OK) {
		log_warning("relay check for <%s>: %s", recipient, dstring_str(&error));
		dstring_fini(&error);
		return DESTINATION_TEMPFAIL;
	}
	dstring_fini(&error);
	if (*address_class == RESOLVE_CLASS_LOCAL)
		return DESTINATION_OURS;
	if (*address_class == RESOLVE_CLASS_RELAY) {
		const char *at = strrchr(recipient, '@');
		size_t local_length = at != NULL ? (size_t)(at - recipient) : strlen(recipient);

		/* Routing in the local part is for the next hop to misread: refuse it. */
		if (!var_allow_untrusted_routing &&
		    (memchr(recipient, '%', local_length) != NULL ||
		     memchr(recipient, '!', local_length) != NULL ||
		     memchr(recipient, '@', local_length) != NULL))
			return DESTINATION_FOREIGN;
		return DESTINATION_OURS;
	}
	if (in_virtual_alias_domains(domain, &is_error))
		return DESTINATION_OURS;
	return is_error ? DESTINATION_TEMPFAIL : DESTINATION_FOREIGN;
}

static enum check_verdict
unauth_destination(struct check_state *state, int code, const char *dsn, bool permits)
{
	enum resolve_class address_class;

	if (state->recipient == NULL)
		return CHECK_DUNNO;
	switch (destination_of(state->recipient, &address_class)) {
	case DESTINATION_OURS:
		return permits ? CHECK_PERMIT : CHECK_DUNNO;
	case DESTINATION_TEMPFAIL:
		return check_dict_retry(state, state->recipient);
	case DESTINATION_FOREIGN:
		break;
	}
	if (permits)
		return CHECK_DUNNO;
	return check_reject(state, code, dsn, "<%s>: Relay access denied", state->recipient);
}

/* ---- Unlisted recipients and senders ------------------------------------- */

/* search_address: the alias-style search of address in tables. */
static enum table_result
search_address(struct table_list *tables, const char *address, bool is_local_domain,
               const char **value)
{
	struct table_search search;
	struct table_search_address_options options;
	enum table_result result;

	table_search_address_options_from_config(&options);
	options.is_local_domain = is_local_domain;
	table_search_use_list(&search, tables);
	result = table_search_address(&search, address, &options, value);
	table_search_fini(&search);
	return result;
}

enum check_verdict
check_unlisted(struct check_state *state, const char *address, bool is_sender)
{
	const char *reply_class = is_sender ? "Sender address" : "Recipient address";
	const char *dsn = is_sender ? "5.1.0" : "5.1.1";
	const char *domain;
	const char *value;
	enum resolve_class address_class;
	enum table_result result;
	struct dstring error;
	bool is_error;

	if (address == NULL || *address == '\0')
		return CHECK_DUNNO;
	domain = check_domain_of(address);
	if (check_config.virtual_alias_maps != NULL) {
		result = search_address(check_config.virtual_alias_maps, address, false, &value);
		if (result == TABLE_FOUND)
			return CHECK_DUNNO;
		if (result == TABLE_ERROR)
			return check_dict_retry(state, address);
	}
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (check_resolve_class(address, &address_class, &error) != RESOLVE_OK) {
		log_warning("recipient check for <%s>: %s", address, dstring_str(&error));
		dstring_fini(&error);
		return check_dict_retry(state, address);
	}
	dstring_fini(&error);
	if (address_class == RESOLVE_CLASS_LOCAL) {
		if (check_config.local_recipient_maps == NULL)
			return CHECK_DUNNO;
		result = search_address(check_config.local_recipient_maps, address, true, &value);
		if (result == TABLE_ERROR)
			return check_dict_retry(state, address);
		if (result == TABLE_NOT_FOUND)
			return check_reject(state, var_unknown_local_recipient_reject_code, dsn,
			                    "<%s>: %s rejected: User unknown in local recipient table",
			                    address, reply_class);
		return CHECK_DUNNO;
	}
	if (address_class == RESOLVE_CLASS_RELAY) {
		if (check_config.relay_recipient_maps == NULL)
			return CHECK_DUNNO;
		result = search_address(check_config.relay_recipient_maps, address, false, &value);
		if (result == TABLE_ERROR)
			return check_dict_retry(state, address);
		if (result == TABLE_NOT_FOUND)
			return check_reject(state, var_unknown_relay_recipient_reject_code, dsn,
			                    "<%s>: %s rejected: User unknown in relay recipient table",
			                    address, reply_class);
		return CHECK_DUNNO;
	}
	if (in_virtual_alias_domains(domain, &is_error))
		return check_reject(state, var_unknown_virtual_alias_reject_code, dsn,
		                    "<%s>: %s rejected: User unknown in virtual alias table", address,
		                    reply_class);
	if (is_error)
		return check_dict_retry(state, address);
	return CHECK_DUNNO;
}

/* ---- Sender login ownership ---------------------------------------------- */

static bool
is_owner(const char *owners, const char *login)
{
	struct strlist names;
	bool found = false;

	strlist_init(&names);
	if (strlist_split(&names, owners, STRLIST_COMMA_SPACE, NULL) == 0)
		for (size_t i = 0; i < names.count && !found; i++)
			found = strcasecmp(names.items[i], login) == 0;
	strlist_fini(&names);
	return found;
}

static enum check_verdict
sender_login(struct check_state *state, enum restriction_kind kind)
{
	const char *sender = state->sender;
	const char *login = state->client->sasl_username;
	const char *owners = NULL;
	enum resolve_class address_class = RESOLVE_CLASS_DEFAULT;
	enum table_result result;
	struct dstring error;
	bool check_authenticated = kind != RESTRICTION_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH;
	bool check_unauthenticated = kind != RESTRICTION_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH;

	if (sender == NULL || *sender == '\0' || check_config.sender_login_maps == NULL)
		return CHECK_DUNNO;
	if (login != NULL && *login == '\0')
		login = NULL;
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (check_resolve_class(sender, &address_class, &error) != RESOLVE_OK) {
		dstring_fini(&error);
		return check_dict_retry(state, sender);
	}
	dstring_fini(&error);
	result = search_address(check_config.sender_login_maps, sender,
	                        address_class == RESOLVE_CLASS_LOCAL, &owners);
	if (result == TABLE_ERROR)
		return check_dict_retry(state, sender);
	if (login != NULL && check_authenticated) {
		if (result == TABLE_NOT_FOUND && kind == RESTRICTION_REJECT_KNOWN_SENDER_LOGIN_MISMATCH)
			return CHECK_DUNNO;
		if (result == TABLE_NOT_FOUND || !is_owner(owners, login))
			return check_reject(state, 553, "5.7.1",
			                    "<%s>: Sender address rejected: not owned by user %s",
			                    sender, login);
	} else if (login == NULL && check_unauthenticated && result == TABLE_FOUND) {
		return check_reject(state, 553, "5.7.1",
		                    "<%s>: Sender address rejected: not logged in", sender);
	}
	return CHECK_DUNNO;
}

/* ---- The dispatcher ------------------------------------------------------ */

static bool
is_unknown(const char *name)
{
	return name == NULL || *name == '\0' || strcasecmp(name, "unknown") == 0;
}

enum check_verdict
check_address_restriction(struct check_state *state, const struct restriction *restriction)
{
	const struct smtpd_check_client *client = state->client;
	const char *helo = client->helo;

	switch (restriction->kind) {
	case RESTRICTION_PERMIT_AUTH_DESTINATION:
		return unauth_destination(state, 0, NULL, true);
	case RESTRICTION_REJECT_UNAUTH_DESTINATION:
		return unauth_destination(state, var_relay_domains_reject_code, "5.7.1", false);
	case RESTRICTION_DEFER_UNAUTH_DESTINATION:
		return unauth_destination(state, 450, "4.7.1", false);
	case RESTRICTION_REJECT_UNLISTED_RECIPIENT:
		return check_unlisted(state, state->recipient, false);
	case RESTRICTION_REJECT_UNLISTED_SENDER:
		return check_unlisted(state, state->sender, true);
	case RESTRICTION_REJECT_INVALID_HELO_HOSTNAME:
		if (helo == NULL || (*helo == '[' ? valid_address_literal(helo) : valid_hostname(helo)))
			return CHECK_DUNNO;
		return check_reject(state, var_invalid_hostname_reject_code, "5.5.2",
		                    "<%s>: Helo command rejected: Invalid name", helo);
	case RESTRICTION_REJECT_NON_FQDN_HELO_HOSTNAME:
		if (helo == NULL || (*helo == '[' ? valid_address_literal(helo) : is_fqdn(helo)))
			return CHECK_DUNNO;
		return check_reject(state, var_non_fqdn_reject_code, "5.5.2",
		                    "<%s>: Helo command rejected: need fully-qualified hostname",
		                    helo);
	case RESTRICTION_REJECT_UNKNOWN_HELO_HOSTNAME:
		return check_unknown_helo(state);
	case RESTRICTION_REJECT_NON_FQDN_SENDER:
		return non_fqdn_address(state, state->sender, "Sender address");
	case RESTRICTION_REJECT_NON_FQDN_RECIPIENT:
		return non_fqdn_address(state, state->recipient, "Recipient address");
	case RESTRICTION_REJECT_UNKNOWN_SENDER_DOMAIN:
		return check_unknown_domain(state, state->sender, true);
	case RESTRICTION_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
		return check_unknown_domain(state, state->recipient, false);
	case RESTRICTION_REJECT_UNKNOWN_CLIENT_HOSTNAME:
		if (!is_unknown(client->name))
			return CHECK_DUNNO;
		return check_reject(state, client->name_tempfail ? 450 : var_unknown_client_reject_code,
		                    "4.7.25", "Client host rejected: cannot find your hostname, [%s]",
		                    client->address ? client->address : "unknown");
	case RESTRICTION_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME:
		if (!is_unknown(client->reverse_name))
			return CHECK_DUNNO;
		return check_reject(
		    state, client->reverse_name_tempfail ? 450 : var_unknown_client_reject_code,
		    "4.7.25", "Client host rejected: cannot find your reverse hostname, [%s]",
		    client->address ? client->address : "unknown");
	case RESTRICTION_REJECT_SENDER_LOGIN_MISMATCH:
	case RESTRICTION_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH:
	case RESTRICTION_REJECT_KNOWN_SENDER_LOGIN_MISMATCH:
	case RESTRICTION_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH:
		return sender_login(state, restriction->kind);
	default:
		log_warning("restriction %s: not handled", restriction->name);
		return check_server_error(state);
	}
}
