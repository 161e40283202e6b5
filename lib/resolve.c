/*
 * resolve - recipient → (transport, next hop, address); the rules are in
 * resolve.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "resolve.h"
#include "strlist.h"
#include "table.h"
#include "table_search.h"
#include "xalloc.h"

/* An address of this host, in network form. */
struct host_address {
	int family;
	unsigned char bytes[16];
};

/* One item of a domain list: a name or a table. */
struct domain_item {
	char *name;                /* lower case; ".example.com" matches subdomains */
	struct table_list *table;  /* for type:name items */
};

struct domain_list {
	struct domain_item *items;
	size_t count;
	bool parent_matches_subdomains;
};

struct resolve {
	char *myhostname;
	struct domain_list mydestination;
	struct domain_list relay_domains;
	struct host_address *addresses;
	size_t address_count;
	bool has_all_interfaces;
	struct table_list *transport_maps; /* NULL when empty */
	bool transport_parent_style;
	char *relayhost;
	struct table_list *sender_relayhost_maps; /* NULL when empty */
	char *default_transport;
	char *local_transport;
	char *relay_transport;
	char *recipient_delimiter;
};

static const char *
or_empty(const char *text)
{
	return text != NULL ? text : "";
}

void
resolve_settings_from_config(struct resolve_settings *settings)
{
	settings->myhostname = var_myhostname;
	settings->mydestination = var_mydestination;
	settings->relay_domains = var_relay_domains;
	settings->inet_interfaces = var_inet_interfaces;
	settings->proxy_interfaces = var_proxy_interfaces;
	settings->transport_maps = var_transport_maps;
	settings->relayhost = var_relayhost;
	/* Only qmgr resolves with a sender: it sets this itself (smtpd opens no such table). */
	settings->sender_dependent_relayhost_maps = NULL;
	settings->default_transport = var_default_transport;
	settings->local_transport = var_local_transport;
	settings->relay_transport = var_relay_transport;
	settings->recipient_delimiter = var_recipient_delimiter;
	settings->parent_domain_matches_subdomains = var_parent_domain_matches_subdomains;
}

void
resolve_result_init(struct resolve_result *result)
{
	result->address_class = RESOLVE_CLASS_DEFAULT;
	dstring_init(&result->transport, RESOLVE_NAME_MAX + 1);
	dstring_init(&result->next_hop, RESOLVE_NAME_MAX + 1);
	dstring_init(&result->address, DSTRING_NO_LIMIT);
}

void
resolve_result_fini(struct resolve_result *result)
{
	dstring_fini(&result->transport);
	dstring_fini(&result->next_hop);
	dstring_fini(&result->address);
}

static char *
lower_copy(const char *text)
{
	char *copy = xstrdup(text);

	for (char *p = copy; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static void
domain_list_open(struct domain_list *list, const char *text, bool parent_matches_subdomains)
{
	struct strlist items;

	strlist_init(&items);
	strlist_split(&items, or_empty(text), STRLIST_COMMA_SPACE, NULL);
	list->items = xcalloc(items.count ? items.count : 1, sizeof(*list->items));
	list->count = 0;
	list->parent_matches_subdomains = parent_matches_subdomains;
	for (size_t i = 0; i < items.count; i++) {
		struct domain_item *item = &list->items[list->count++];

		if (strchr(items.items[i], ':') != NULL && items.items[i][0] != '[')
			item->table = table_list_open(items.items[i], TABLE_FOLD_CASE);
		else
			item->name = lower_copy(items.items[i]);
	}
	strlist_fini(&items);
}

static void
domain_list_close(struct domain_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		if (list->items[i].table != NULL)
			table_list_close(list->items[i].table);
	}
	free(list->items);
}

/* Does name (lower case) equal pattern, or is it below pattern as allowed? */
static bool
domain_name_matches(const char *name, const char *pattern, bool parent_matches_subdomains)
{
	size_t name_length = strlen(name), pattern_length;

	if (pattern[0] == '.') {
		pattern_length = strlen(pattern);
		return name_length > pattern_length &&
		       strcmp(name + name_length - pattern_length, pattern) == 0;
	}
	if (strcmp(name, pattern) == 0)
		return true;
	pattern_length = strlen(pattern);
	return parent_matches_subdomains && name_length > pattern_length + 1 &&
	       name[name_length - pattern_length - 1] == '.' &&
	       strcmp(name + name_length - pattern_length, pattern) == 0;
}

/* 1 matches, 0 does not, -1 a table error (reason in error). */
static int
domain_list_match(struct domain_list *list, const char *domain, struct dstring *error,
		  const char *what)
{
	for (size_t i = 0; i < list->count; i++) {
		struct domain_item *item = &list->items[i];
		struct table_search search;
		enum table_result found;
		const char *value;

		if (item->name != NULL) {
			if (domain_name_matches(domain, item->name,
						list->parent_matches_subdomains))
				return 1;
			continue;
		}
		table_search_use_list(&search, item->table);
		found = table_search_domain(&search, domain, list->parent_matches_subdomains,
					    &value);
		if (found == TABLE_ERROR)
			dstring_printf(error, "4.3.0 %s lookup of %s: %s", what, domain, value);
		table_search_fini(&search);
		if (found == TABLE_ERROR)
			return -1;
		if (found == TABLE_FOUND)
			return 1;
	}
	return 0;
}

static int
parse_host_address(const char *text, struct host_address *address)
{
	memset(address, 0, sizeof(*address));
	if (inet_pton(AF_INET, text, address->bytes) == 1) {
		address->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, address->bytes) == 1) {
		address->family = AF_INET6;
		return 0;
	}
	return -1;
}

static void
add_host_address(struct resolve *resolve, const struct host_address *address)
{
	resolve->addresses = xreallocarray(resolve->addresses, resolve->address_count + 1,
					   sizeof(*resolve->addresses));
	resolve->addresses[resolve->address_count++] = *address;
}

static void
add_interface_addresses(struct resolve *resolve)
{
	struct ifaddrs *list, *entry;

	if (getifaddrs(&list) != 0)
		return;
	for (entry = list; entry != NULL; entry = entry->ifa_next) {
		struct host_address address;

		if (entry->ifa_addr == NULL)
			continue;
		memset(&address, 0, sizeof(address));
		if (entry->ifa_addr->sa_family == AF_INET) {
			address.family = AF_INET;
			memcpy(address.bytes,
			       &((const struct sockaddr_in *)(const void *)entry->ifa_addr)->sin_addr,
			       4);
		} else if (entry->ifa_addr->sa_family == AF_INET6) {
			address.family = AF_INET6;
			memcpy(address.bytes,
			       &((const struct sockaddr_in6 *)(const void *)entry->ifa_addr)
				    ->sin6_addr,
			       16);
		} else {
			continue;
		}
		add_host_address(resolve, &address);
	}
	freeifaddrs(list);
}

static void
add_interfaces(struct resolve *resolve, const char *text)
{
	struct strlist items;

	strlist_init(&items);
	strlist_split(&items, or_empty(text), STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < items.count; i++) {
		struct host_address address;
		char *item = items.items[i];
		size_t length = strlen(item);

		if (strcmp(item, "all") == 0) {
			resolve->has_all_interfaces = true;
			continue;
		}
		if (length > 2 && item[0] == '[' && item[length - 1] == ']') {
			item[length - 1] = 0;
			item++;
		}
		if (parse_host_address(item, &address) == 0)
			add_host_address(resolve, &address);
		/* Host names in inet_interfaces are not resolved here (docs/qmgr.md). */
	}
	strlist_fini(&items);
}

struct resolve *
resolve_open(const struct resolve_settings *settings)
{
	struct resolve *resolve = xcalloc(1, sizeof(*resolve));
	const char *parents = or_empty(settings->parent_domain_matches_subdomains);

	resolve->myhostname = lower_copy(or_empty(settings->myhostname));
	domain_list_open(&resolve->mydestination, settings->mydestination,
			 table_search_parent_style(parents, "mydestination"));
	domain_list_open(&resolve->relay_domains, settings->relay_domains,
			 table_search_parent_style(parents, "relay_domains"));
	add_interfaces(resolve, settings->inet_interfaces);
	add_interfaces(resolve, settings->proxy_interfaces);
	if (resolve->has_all_interfaces)
		add_interface_addresses(resolve);
	if (or_empty(settings->transport_maps)[0] != 0)
		resolve->transport_maps = table_list_open(settings->transport_maps, TABLE_FOLD_CASE);
	resolve->transport_parent_style = table_search_parent_style(parents, "transport_maps");
	resolve->relayhost = xstrdup(or_empty(settings->relayhost));
	if (or_empty(settings->sender_dependent_relayhost_maps)[0] != 0)
		resolve->sender_relayhost_maps =
		    table_list_open(settings->sender_dependent_relayhost_maps, TABLE_FOLD_CASE);
	resolve->default_transport = xstrdup(or_empty(settings->default_transport));
	resolve->local_transport = xstrdup(or_empty(settings->local_transport));
	resolve->relay_transport = xstrdup(or_empty(settings->relay_transport));
	resolve->recipient_delimiter = xstrdup(or_empty(settings->recipient_delimiter));
	return resolve;
}

void
resolve_close(struct resolve *resolve)
{
	if (resolve == NULL)
		return;
	free(resolve->myhostname);
	domain_list_close(&resolve->mydestination);
	domain_list_close(&resolve->relay_domains);
	free(resolve->addresses);
	if (resolve->transport_maps != NULL)
		table_list_close(resolve->transport_maps);
	free(resolve->relayhost);
	if (resolve->sender_relayhost_maps != NULL)
		table_list_close(resolve->sender_relayhost_maps);
	free(resolve->default_transport);
	free(resolve->local_transport);
	free(resolve->relay_transport);
	free(resolve->recipient_delimiter);
	free(resolve);
}

static bool
is_loopback(const struct host_address *address)
{
	static const unsigned char loopback6[16] = {[15] = 1};

	if (address->family == AF_INET)
		return address->bytes[0] == 127;
	return memcmp(address->bytes, loopback6, 16) == 0;
}

/* Is domain "[1.2.3.4]" or "[IPv6:...]" naming this host? */
static bool
is_own_address_literal(const struct resolve *resolve, const char *domain)
{
	size_t length = strlen(domain);
	struct host_address address;
	char text[INET6_ADDRSTRLEN + 8];
	const char *inside;

	if (length < 3 || domain[0] != '[' || domain[length - 1] != ']' ||
	    length - 2 >= sizeof(text))
		return false;
	memcpy(text, domain + 1, length - 2);
	text[length - 2] = 0;
	inside = text;
	if (strncasecmp(inside, "ipv6:", 5) == 0)
		inside += 5;
	if (parse_host_address(inside, &address) != 0)
		return false;
	/* An IPv6 literal must say so; "[::1]" is not valid RFC 5321, but harmless. */
	if (is_loopback(&address))
		return true;
	for (size_t i = 0; i < resolve->address_count; i++)
		if (resolve->addresses[i].family == address.family &&
		    memcmp(resolve->addresses[i].bytes, address.bytes,
			   address.family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

enum resolve_status
resolve_domain_class(struct resolve *resolve, const char *domain,
		     enum resolve_class *address_class, struct dstring *error)
{
	int match;

	if (domain[0] == 0 || is_own_address_literal(resolve, domain)) {
		*address_class = RESOLVE_CLASS_LOCAL;
		return RESOLVE_OK;
	}
	match = domain_list_match(&resolve->mydestination, domain, error, "mydestination");
	if (match < 0)
		return RESOLVE_TEMPFAIL;
	if (match > 0) {
		*address_class = RESOLVE_CLASS_LOCAL;
		return RESOLVE_OK;
	}
	match = domain_list_match(&resolve->relay_domains, domain, error, "relay_domains");
	if (match < 0)
		return RESOLVE_TEMPFAIL;
	*address_class = match > 0 ? RESOLVE_CLASS_RELAY : RESOLVE_CLASS_DEFAULT;
	return RESOLVE_OK;
}

/* A transport name becomes a socket path: letters, digits, - _ . only. */
static bool
is_valid_transport(const char *name, size_t length)
{
	if (length == 0 || length > 100 || name[0] == '.')
		return false;
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

static bool
has_control(const char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			return true;
	return false;
}

/*
 * Split "transport:nexthop" (a value of a table or a *_transport
 * parameter) over the defaults in result; empty parts keep them.
 */
static enum resolve_status
apply_transport_value(struct resolve_result *result, const char *value, const char *origin,
		      struct dstring *error)
{
	const char *colon = strchr(value, ':');
	size_t transport_length = colon != NULL ? (size_t)(colon - value) : strlen(value);
	const char *next_hop = colon != NULL ? colon + 1 : "";

	while (transport_length > 0 && isspace((unsigned char)value[0])) {
		value++;
		transport_length--;
	}
	while (transport_length > 0 && isspace((unsigned char)value[transport_length - 1]))
		transport_length--;
	if (transport_length > 0 && !is_valid_transport(value, transport_length)) {
		dstring_printf(error, "4.3.5 %s: bad transport name in \"%.100s\"", origin, value);
		return RESOLVE_TEMPFAIL;
	}
	if (strlen(next_hop) > RESOLVE_NAME_MAX || has_control(next_hop)) {
		dstring_printf(error, "4.3.5 %s: bad next hop in \"%.100s\"", origin, value);
		return RESOLVE_TEMPFAIL;
	}
	if (transport_length > 0) {
		dstring_reset(&result->transport);
		dstring_append(&result->transport, value, transport_length);
	}
	while (*next_hop == ' ' || *next_hop == '\t')
		next_hop++;
	if (*next_hop != 0) {
		dstring_set(&result->next_hop, next_hop);
		dstring_trim(&result->next_hop);
	}
	return RESOLVE_OK;
}

/* Lookups of derived keys (domains, the address without extension). */
static enum table_result
lookup_partial(void *context, const char *key, bool is_partial, const char **value)
{
	return table_list_lookup_partial(context, key, value);
}

/* transport_maps in transport(5) order. */
static enum table_result
search_transport_maps(struct resolve *resolve, const char *address, const char *domain,
		      const char **value)
{
	struct table_list *maps = resolve->transport_maps;
	struct table_search search;
	enum table_result found;
	const char *at;

	if (address[0] != 0) {
		found = table_list_lookup(maps, address, value);
		if (found != TABLE_NOT_FOUND)
			return found;
	}
	/* user+ext@domain without its extension. */
	at = strrchr(address, '@');
	if (resolve->recipient_delimiter[0] != 0 && at != NULL) {
		size_t cut = strcspn(address, resolve->recipient_delimiter);

		if (cut > 0 && address + cut < at) {
			struct dstring key;

			dstring_init(&key, DSTRING_NO_LIMIT);
			dstring_append(&key, address, cut);
			dstring_append_str(&key, at);
			found = table_list_lookup_partial(maps, key.data, value);
			dstring_fini(&key);
			if (found != TABLE_NOT_FOUND)
				return found;
		}
	}
	if (domain[0] != 0) {
		table_search_init(&search, lookup_partial, maps);
		found = table_search_domain(&search, domain, resolve->transport_parent_style,
					    value);
		table_search_fini(&search);
		if (found != TABLE_NOT_FOUND)
			return found;
	}
	return table_list_lookup_partial(maps, "*", value);
}

/*
 * sender_dependent_relayhost_maps: the sender, then "@domain"; the null
 * sender as "<>" (Postfix's empty_address_relayhost_maps_lookup_key).
 * TABLE_FOUND with the relayhost in *value; "DUNNO" ends the search
 * without a result, as in Postfix.
 */
static enum table_result
search_sender_relayhost(struct resolve *resolve, const char *sender, const char **value)
{
	struct table_list *maps = resolve->sender_relayhost_maps;
	enum table_result found;
	const char *at;

	if (sender[0] == 0) {
		found = table_list_lookup(maps, "<>", value);
	} else {
		found = table_list_lookup(maps, sender, value);
		at = strrchr(sender, '@');
		if (found == TABLE_NOT_FOUND && at != NULL && at[1] != 0)
			found = table_list_lookup_partial(maps, at, value);
	}
	if (found == TABLE_FOUND && strcasecmp(*value, "DUNNO") == 0)
		found = TABLE_NOT_FOUND;
	return found;
}

/* The relayhost for this sender: *relayhost, or RESOLVE_TEMPFAIL. */
static enum resolve_status
sender_relayhost(struct resolve *resolve, const char *sender, const char **relayhost,
		 struct dstring *error)
{
	const char *value;

	*relayhost = resolve->relayhost;
	if (resolve->sender_relayhost_maps == NULL || sender == NULL)
		return RESOLVE_OK;
	switch (search_sender_relayhost(resolve, sender, &value)) {
	case TABLE_ERROR:
		dstring_printf(error, "4.3.0 sender_dependent_relayhost_maps lookup of %s: %s",
			       sender[0] ? sender : "<>", value);
		return RESOLVE_TEMPFAIL;
	case TABLE_FOUND:
		for (const char *p = value; *p; p++) {
			if ((unsigned char)*p < ' ' || *p == 0x7f) {
				dstring_printf(error,
					       "4.3.5 sender_dependent_relayhost_maps: bad value "
					       "for %s",
					       sender[0] ? sender : "<>");
				return RESOLVE_TEMPFAIL;
			}
		}
		if (value[0] != 0)
			*relayhost = value;
		return RESOLVE_OK;
	case TABLE_NOT_FOUND:
		break;
	}
	return RESOLVE_OK;
}

enum resolve_status
resolve_address(struct resolve *resolve, const char *address, struct resolve_result *result,
		struct dstring *error)
{
	return resolve_address_sender(resolve, address, NULL, result, error);
}

enum resolve_status
resolve_address_sender(struct resolve *resolve, const char *address, const char *sender,
		       struct resolve_result *result, struct dstring *error)
{
	const char *at = strrchr(address, '@');
	struct dstring domain;
	enum resolve_status status;
	const char *class_transport, *name, *relayhost;

	dstring_reset(&result->transport);
	dstring_reset(&result->next_hop);
	dstring_set(&result->address, address);
	dstring_init(&domain, DSTRING_NO_LIMIT);
	if (at != NULL) {
		for (const char *p = at + 1; *p; p++)
			dstring_append_char(&domain, (char)tolower((unsigned char)*p));
		if (domain.length > 0 && domain.data[domain.length - 1] == '.')
			dstring_truncate(&domain, domain.length - 1);
	}
	status = resolve_domain_class(resolve, domain.data, &result->address_class, error);
	if (status != RESOLVE_OK)
		goto out;

	/* The class's defaults. */
	switch (result->address_class) {
	case RESOLVE_CLASS_LOCAL:
		class_transport = resolve->local_transport;
		name = "local_transport";
		dstring_set(&result->next_hop, resolve->myhostname);
		break;
	case RESOLVE_CLASS_RELAY:
		class_transport = resolve->relay_transport;
		name = "relay_transport";
		dstring_set(&result->next_hop, domain.data);
		break;
	default:
		class_transport = resolve->default_transport;
		name = "default_transport";
		dstring_set(&result->next_hop, domain.data);
		break;
	}
	status = apply_transport_value(result, class_transport, name, error);
	if (status != RESOLVE_OK)
		goto out;
	if (result->transport.length == 0) {
		dstring_printf(error, "4.3.5 %s is empty", name);
		status = RESOLVE_TEMPFAIL;
		goto out;
	}
	if (result->address_class != RESOLVE_CLASS_LOCAL) {
		status = sender_relayhost(resolve, sender, &relayhost, error);
		if (status != RESOLVE_OK)
			goto out;
		if (relayhost[0] != 0)
			dstring_set(&result->next_hop, relayhost);
	}

	if (resolve->transport_maps != NULL) {
		const char *value;

		switch (search_transport_maps(resolve, address, domain.data, &value)) {
		case TABLE_ERROR:
			dstring_printf(error, "4.3.0 transport_maps lookup of %s: %s", address,
				       value);
			status = RESOLVE_TEMPFAIL;
			goto out;
		case TABLE_FOUND:
			status = apply_transport_value(result, value, "transport_maps", error);
			if (status != RESOLVE_OK)
				goto out;
			break;
		case TABLE_NOT_FOUND:
			break;
		}
	}
	if (result->transport.has_overflowed || result->next_hop.has_overflowed) {
		dstring_set(error, "4.3.5 transport or next hop too long");
		status = RESOLVE_TEMPFAIL;
	}
out:
	dstring_fini(&domain);
	return status;
}

enum resolve_pseudo
resolve_pseudo_transport(const char *transport)
{
	if (strcmp(transport, "error") == 0)
		return RESOLVE_PSEUDO_ERROR;
	if (strcmp(transport, "retry") == 0)
		return RESOLVE_PSEUDO_RETRY;
	if (strcmp(transport, "discard") == 0)
		return RESOLVE_PSEUDO_DISCARD;
	return RESOLVE_PSEUDO_NONE;
}
