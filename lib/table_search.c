/*
 * table_search - Postfix's lookup orders over a table or a table list
 * (see table_search.h for the orders and where they come from).
 *
 * Every search is a short, bounded series of keys built from the
 * caller's string: at most one key per '.' or ':' in it, or five for an
 * address (each maybe twice, quoted and as given). The first key that
 * answers, or the first error, ends the search.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "strlist.h"
#include "table_search.h"

void
table_search_init(struct table_search *search, table_search_lookup lookup, void *context)
{
	search->lookup = lookup;
	search->context = context;
	dstring_init(&search->key, DSTRING_NO_LIMIT);
	dstring_init(&search->extension, DSTRING_NO_LIMIT);
	dstring_init(&search->scratch, DSTRING_NO_LIMIT);
}

void
table_search_fini(struct table_search *search)
{
	dstring_fini(&search->key);
	dstring_fini(&search->extension);
	dstring_fini(&search->scratch);
}

bool
table_search_is_pattern_table(const struct table *table)
{
	return table->type->is_pattern;
}

static enum table_result
lookup_in_table(void *context, const char *key, bool is_partial, const char **value)
{
	struct table *table = context;

	if (is_partial && table_search_is_pattern_table(table)) {
		*value = NULL;
		return TABLE_NOT_FOUND;
	}
	return table_lookup(table, key, value);
}

static enum table_result
lookup_in_list(void *context, const char *key, bool is_partial, const char **value)
{
	if (is_partial)
		return table_list_lookup_partial(context, key, value);
	return table_list_lookup(context, key, value);
}

void
table_search_use_table(struct table_search *search, struct table *table)
{
	table_search_init(search, lookup_in_table, table);
}

void
table_search_use_list(struct table_search *search, struct table_list *list)
{
	table_search_init(search, lookup_in_list, list);
}

const char *
table_search_key(const struct table_search *search)
{
	return dstring_str(&search->key);
}

const char *
table_search_extension(const struct table_search *search)
{
	return dstring_str(&search->extension);
}

/* Look one key up; key may point into search->scratch. */
static enum table_result
try_key(struct table_search *search, const char *key, size_t length, bool is_partial,
        const char **value)
{
	*value = NULL;
	if (length == 0)
		return TABLE_NOT_FOUND;
	dstring_reset(&search->key);
	dstring_append(&search->key, key, length);
	return search->lookup(search->context, dstring_str(&search->key), is_partial, value);
}

/* ---- Domains ---------------------------------------------------------- */

static bool
is_address_literal(const char *name)
{
	struct in_addr ipv4;
	struct in6_addr ipv6;

	return name[0] == '[' || inet_pton(AF_INET, name, &ipv4) == 1 ||
	       inet_pton(AF_INET6, name, &ipv6) == 1;
}

/* The domain and its parents; the first key is partial when is_partial. */
static enum table_result
search_domain(struct table_search *search, const char *domain, bool parent_matches_subdomains,
              bool is_partial, const char **value)
{
	bool has_parents = !is_address_literal(domain);
	const char *name = domain;

	*value = NULL;
	while (*name != '\0') {
		enum table_result result = try_key(search, name, strlen(name), is_partial, value);
		const char *next;

		if (result != TABLE_NOT_FOUND || !has_parents)
			return result;
		/* "sub.example.com" -> ".example.com" or "example.com". */
		if ((next = strchr(name + 1, '.')) == NULL)
			break;
		name = parent_matches_subdomains ? next + 1 : next;
		is_partial = true;
	}
	return TABLE_NOT_FOUND;
}

enum table_result
table_search_domain(struct table_search *search, const char *domain, bool parent_matches_subdomains,
                    const char **value)
{
	dstring_reset(&search->extension);
	return search_domain(search, domain, parent_matches_subdomains, false, value);
}

bool
table_search_parent_style(const char *setting, const char *name)
{
	struct strlist items;
	bool is_listed = false;

	if (setting == NULL)
		return false;
	strlist_init(&items);
	if (strlist_split(&items, setting, STRLIST_COMMA_SPACE, NULL) == 0)
		for (size_t i = 0; i < items.count && !is_listed; i++)
			is_listed = strcasecmp(items.items[i], name) == 0;
	strlist_fini(&items);
	return is_listed;
}

/* ---- Addresses -------------------------------------------------------- */

void
table_search_address_options_from_config(struct table_search_address_options *options)
{
	memset(options, 0, sizeof(*options));
	options->delimiters = var_recipient_delimiter;
	options->split_owner_request = !var_owner_request_special;
	options->double_bounce = var_double_bounce_sender;
}

static bool
equals_ignoring_case(const char *text, size_t length, const char *word)
{
	return strlen(word) == length && strncasecmp(text, word, length) == 0;
}

/*
 * Where the extension of localpart (length bytes) starts, as Postfix's
 * split_addr() decides; 0 when it has none.
 */
static size_t
extension_start(const char *localpart, size_t length,
                const struct table_search_address_options *options)
{
	const char *delimiters = options->delimiters;
	const char *double_bounce =
	    options->double_bounce ? options->double_bounce : "double-bounce";
	size_t start = 0;

	if (delimiters == NULL || *delimiters == '\0')
		return 0;
	if (equals_ignoring_case(localpart, length, "postmaster") ||
	    equals_ignoring_case(localpart, length, "mailer-daemon") ||
	    equals_ignoring_case(localpart, length, double_bounce))
		return 0;
	if (strchr(delimiters, '-') != NULL && !options->split_owner_request) {
		if (length >= 6 && strncasecmp(localpart, "owner-", 6) == 0)
			return 0;
		if (length > 8 && strncasecmp(localpart + length - 8, "-request", 8) == 0)
			return 0;
	}
	while (start < length && strchr(delimiters, localpart[start]) == NULL)
		start++;
	/* No split that would leave the localpart empty. */
	if (start == 0 || start == length)
		return 0;
	return start;
}

/* RFC 822 dot-string: atoms separated by single dots (8-bit allowed). */
static bool
is_dot_string(const char *text, size_t length)
{
	if (length == 0 || text[0] == '.' || text[length - 1] == '.')
		return false;
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)text[i];

		if (byte == '.' && i + 1 < length && text[i + 1] == '.')
			return false;
		if (byte == ' ' || byte < 0x20 || byte == 0x7f || strchr("()<>@,;:\\\"[]", byte))
			return false;
	}
	return true;
}

/*
 * The quoted form of key, whose localpart is local_length bytes long:
 * the localpart in quotes when it is not a dot-string, as Postfix's
 * quote_822_local() writes it.
 */
static void
quote_localpart(struct dstring *out, const char *key, size_t length, size_t local_length)
{
	dstring_reset(out);
	if (is_dot_string(key, local_length)) {
		dstring_append(out, key, length);
		return;
	}
	dstring_append_char(out, '"');
	for (size_t i = 0; i < local_length; i++) {
		if (key[i] == '"' || key[i] == '\\' || key[i] == '\r')
			dstring_append_char(out, '\\');
		dstring_append_char(out, key[i]);
	}
	dstring_append_char(out, '"');
	dstring_append(out, key + local_length, length - local_length);
}

/* Look up an address key in the forms options->quoting asks for. */
static enum table_result
try_address_key(struct table_search *search, const char *key, size_t length, size_t local_length,
                bool is_partial, const struct table_search_address_options *options,
                const char **value)
{
	struct dstring quoted;
	enum table_result result;

	if (options->quoting == TABLE_SEARCH_AS_GIVEN_ONLY)
		return try_key(search, key, length, is_partial, value);
	dstring_init(&quoted, DSTRING_NO_LIMIT);
	quote_localpart(&quoted, key, length, local_length);
	result = try_key(search, dstring_str(&quoted), dstring_length(&quoted), is_partial, value);
	if (result == TABLE_NOT_FOUND && options->quoting == TABLE_SEARCH_QUOTED_THEN_AS_GIVEN &&
	    (dstring_length(&quoted) != length || memcmp(dstring_str(&quoted), key, length) != 0))
		result = try_key(search, key, length, is_partial, value);
	dstring_fini(&quoted);
	return result;
}

/* An address cut into the pieces the searches need. */
struct address_parts {
	const char *address;
	size_t length;
	const char *at;      /* the last '@', or NULL */
	size_t local_length; /* bytes before it (or all) */
	size_t extension;    /* where the extension starts; 0: none */
};

static void
split_address(struct address_parts *parts, const char *address,
              const struct table_search_address_options *options)
{
	parts->address = address;
	parts->length = strlen(address);
	parts->at = strrchr(address, '@');
	parts->local_length = parts->at ? (size_t)(parts->at - address) : parts->length;
	parts->extension = extension_start(address, parts->local_length, options);
}

/*
 * The localpart without its extension, followed by tail_length bytes of
 * tail, in search->scratch.
 */
static void
build_bare(struct table_search *search, const struct address_parts *parts, const char *tail,
           size_t tail_length)
{
	dstring_reset(&search->scratch);
	dstring_append(&search->scratch, parts->address, parts->extension);
	dstring_append(&search->scratch, tail, tail_length);
}

static void
remember_extension(struct table_search *search, const struct address_parts *parts)
{
	dstring_reset(&search->extension);
	dstring_append(&search->extension, parts->address + parts->extension,
	               parts->local_length - parts->extension);
}

/* "user+ext@domain", then "user@domain". */
static enum table_result
search_full_and_bare(struct table_search *search, const struct address_parts *parts,
                     const struct table_search_address_options *options, const char **value)
{
	enum table_result result;
	size_t tail_length = parts->length - parts->local_length;

	result = try_address_key(search, parts->address, parts->length, parts->local_length, false,
	                         options, value);
	if (result != TABLE_NOT_FOUND || parts->extension == 0)
		return result;
	build_bare(search, parts, parts->address + parts->local_length, tail_length);
	result =
	    try_address_key(search, dstring_str(&search->scratch), dstring_length(&search->scratch),
	                    parts->extension, true, options, value);
	if (result == TABLE_FOUND)
		remember_extension(search, parts);
	return result;
}

/*
 * The localpart alone ("user+ext", "user"), or with a trailing '@'
 * ("user+ext@", "user@") when with_at.
 */
static enum table_result
search_localpart(struct table_search *search, const struct address_parts *parts, bool with_at,
                 const struct table_search_address_options *options, const char **value)
{
	enum table_result result;
	size_t length = parts->local_length + (with_at ? 1 : 0);

	dstring_reset(&search->scratch);
	dstring_append(&search->scratch, parts->address, length);
	result = try_address_key(search, dstring_str(&search->scratch), length, parts->local_length,
	                         true, options, value);
	if (result != TABLE_NOT_FOUND || parts->extension == 0)
		return result;
	build_bare(search, parts, "@", with_at ? 1 : 0);
	result =
	    try_address_key(search, dstring_str(&search->scratch), dstring_length(&search->scratch),
	                    parts->extension, true, options, value);
	if (result == TABLE_FOUND)
		remember_extension(search, parts);
	return result;
}

enum table_result
table_search_address(struct table_search *search, const char *address,
                     const struct table_search_address_options *options, const char **value)
{
	struct address_parts parts;
	enum table_result result;

	dstring_reset(&search->extension);
	split_address(&parts, address, options);
	result = search_full_and_bare(search, &parts, options, value);
	if (result != TABLE_NOT_FOUND || parts.at == NULL)
		return result;
	if (options->is_local_domain) {
		result = search_localpart(search, &parts, false, options, value);
		if (result != TABLE_NOT_FOUND)
			return result;
	}
	return try_key(search, parts.at, strlen(parts.at), true, value);
}

enum table_result
table_search_access_address(struct table_search *search, const char *address,
                            const struct table_search_address_options *options,
                            bool parent_matches_subdomains, const char **value)
{
	struct address_parts parts;
	enum table_result result;

	dstring_reset(&search->extension);
	split_address(&parts, address, options);
	result = search_full_and_bare(search, &parts, options, value);
	if (result != TABLE_NOT_FOUND || parts.at == NULL)
		return result;
	result = search_domain(search, parts.at + 1, parent_matches_subdomains, true, value);
	if (result != TABLE_NOT_FOUND)
		return result;
	return search_localpart(search, &parts, true, options, value);
}

/* ---- Clients ---------------------------------------------------------- */

enum table_result
table_search_network(struct table_search *search, const char *address, const char **value)
{
	static const char mapped_prefix[] = "::ffff:";
	struct in_addr ipv4;
	bool is_partial = false;
	char delimiter;
	enum table_result result;

	dstring_reset(&search->extension);
	*value = NULL;
	/* ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4. */
	if (strncasecmp(address, mapped_prefix, sizeof(mapped_prefix) - 1) == 0 &&
	    inet_pton(AF_INET, address + sizeof(mapped_prefix) - 1, &ipv4) == 1)
		address += sizeof(mapped_prefix) - 1;
	delimiter = strchr(address, ':') != NULL ? ':' : '.';
	dstring_set(&search->scratch, address);
	/* 1.2.3.4, 1.2.3, 1.2, 1: cut at the last delimiter each time. */
	for (;;) {
		char *cut;

		result = try_key(search, dstring_str(&search->scratch),
		                 dstring_length(&search->scratch), is_partial, value);
		if (result != TABLE_NOT_FOUND)
			return result;
		cut = strrchr(search->scratch.data, delimiter);
		if (cut == NULL)
			return TABLE_NOT_FOUND;
		dstring_truncate(&search->scratch, (size_t)(cut - search->scratch.data));
		is_partial = true;
	}
}

enum table_result
table_search_client(struct table_search *search, const char *hostname, const char *address,
                    bool parent_matches_subdomains, const char **value)
{
	enum table_result result = TABLE_NOT_FOUND;

	*value = NULL;
	dstring_reset(&search->extension);
	if (hostname != NULL) {
		result = search_domain(search, hostname, parent_matches_subdomains, false, value);
		if (result != TABLE_NOT_FOUND)
			return result;
	}
	if (address != NULL)
		result = table_search_network(search, address, value);
	return result;
}
