/*
 * table_search - the orders in which Postfix looks up a domain, an
 * address or an SMTP client in a table, for the code that decides with
 * tables: access checks, transport, aliases, virtual aliases.
 *
 * Each search tries a series of keys and stops at the first answer:
 * TABLE_FOUND (the value), or TABLE_ERROR (a table could not be read:
 * the caller defers; a later key never answers in place of an error).
 * TABLE_NOT_FOUND means every key was tried.
 *
 * Full and partial keys. The first key of a search is the caller's
 * whole string; the keys derived from it (parent domains, the address
 * without its extension, the localpart, "@domain", shorter networks) are
 * partial. As in Postfix, pattern tables (pcre:, regexp:, cidr:) see only
 * the full key: a regular expression is written against what the client
 * sent, not against pieces of it. A search over one table skips them for
 * partial keys, and so does a search over a table list.
 *
 * Keys are given to the tables as built here; case folding is the
 * table's business (TABLE_FOLD_CASE). Empty keys are never looked up.
 *
 * Postfix's rules, with the manual page each comes from:
 * - domain (transport(5), access(5)): "sub.example.com", then its
 *   parents. When the table's name is in parent_domain_matches_subdomains
 *   the parents are "example.com", "com"; otherwise ".example.com",
 *   ".com". An IP address or an [address literal] has no parents.
 * - address (aliases(5), virtual(5)): "user+ext@domain",
 *   "user@domain", then, only when the domain is local, "user+ext" and
 *   "user", then "@domain". A localpart alone ("user+ext", as for
 *   aliases) tries "user+ext", then "user". The extension starts at the
 *   first character from recipient_delimiter (several characters may be
 *   given, Postfix 2.11+); postmaster, mailer-daemon and the double
 *   bounce sender are never split, nor owner-xxx and xxx-request when '-'
 *   is a delimiter (owner_request_special). The address is in internal
 *   (unquoted) form; each key is tried in quoted form ("\"a b\"@example.com")
 *   and then, when that differs, as given.
 * - access address (access(5), check_sender_access and friends):
 *   "user+ext@domain", "user@domain", the domain and its parents as
 *   above, "user+ext@", "user@".
 * - client (access(5), check_client_access): the host name and its
 *   parents as above, then the address and its networks: 1.2.3.4, 1.2.3,
 *   1.2, 1; for IPv6 the compressed form, cut at each ':' from the right
 *   (1:2:3::4, 1:2:3:, 1:2:3, 1:2, 1). An IPv4-mapped IPv6 address
 *   (::ffff:1.2.3.4) is searched as the IPv4 address, as Postfix's smtpd
 *   sees it.
 */
#ifndef HIKYAKU_TABLE_SEARCH_H
#define HIKYAKU_TABLE_SEARCH_H

#include <stdbool.h>

#include "dstring.h"
#include "table.h"

/*
 * Where keys are looked up: a function and its context. is_partial says
 * that the key was derived from the caller's string (see above).
 */
typedef enum table_result (*table_search_lookup)(void *context, const char *key, bool is_partial,
                                                 const char **value);

struct table_search {
	table_search_lookup lookup;
	void *context;
	struct dstring key;       /* the key being tried, then the one that answered */
	struct dstring extension; /* see table_search_extension */
	struct dstring scratch;   /* keys under construction */
};

/*
 * table_search_init: make search look keys up with lookup and context;
 * table_search_fini frees what it holds (not the table).
 */
void table_search_init(struct table_search *search, table_search_lookup lookup, void *context);
void table_search_fini(struct table_search *search);

/*
 * table_search_use_table: table_search_init for one table (a pattern
 * table sees full keys only). Pair with table_search_fini.
 */
void table_search_use_table(struct table_search *search, struct table *table);

/*
 * table_search_use_list: table_search_init for a table list (pair with
 * table_search_fini); pattern members see full keys only.
 */
void table_search_use_list(struct table_search *search, struct table_list *list);

/*
 * table_search_is_pattern_table: whether table matches patterns (pcre,
 * regexp, cidr) rather than fixed strings.
 */
bool table_search_is_pattern_table(const struct table *table);

/* table_search_key: the key that answered the last search (or was tried last). */
const char *table_search_key(const struct table_search *search);

/*
 * table_search_extension: after an address search that answered for a
 * key without the extension, the extension with its delimiter ("+ext");
 * otherwise "".
 */
const char *table_search_extension(const struct table_search *search);

/*
 * For every search: on TABLE_FOUND *value is the value, on TABLE_ERROR
 * the reason; either stays valid until the next lookup in the same
 * table. On TABLE_NOT_FOUND *value is NULL.
 */

/*
 * table_search_domain: domain, then its parent domains, "example.com"
 * style when parent_matches_subdomains, ".example.com" style otherwise.
 */
enum table_result table_search_domain(struct table_search *search, const char *domain,
                                      bool parent_matches_subdomains, const char **value);

/* How address keys are written when the localpart needs quoting. */
enum table_search_quoting {
	TABLE_SEARCH_QUOTED_THEN_AS_GIVEN, /* Postfix's default for lookups */
	TABLE_SEARCH_QUOTED_ONLY,
	TABLE_SEARCH_AS_GIVEN_ONLY,
};

/*
 * The settings of an address search. All-zero means: no recipient
 * delimiter, the domain is not local, Postfix's defaults for the rest.
 */
struct table_search_address_options {
	const char *delimiters;    /* recipient_delimiter; NULL or "": none */
	bool is_local_domain;      /* try the localpart alone too */
	bool split_owner_request;  /* owner_request_special = no */
	const char *double_bounce; /* double_bounce_sender; NULL: "double-bounce" */
	enum table_search_quoting quoting;
};

/*
 * table_search_address_options_from_config: recipient_delimiter,
 * owner_request_special and double_bounce_sender from the configuration
 * (config_apply must have run); is_local_domain false.
 */
void table_search_address_options_from_config(struct table_search_address_options *options);

/*
 * table_search_address: the alias / virtual order for address (internal
 * form; "user@domain" or a localpart alone).
 */
enum table_result table_search_address(struct table_search *search, const char *address,
                                       const struct table_search_address_options *options,
                                       const char **value);

/*
 * table_search_access_address: the access(5) order for a sender or
 * recipient address; domain parents as table_search_domain.
 */
enum table_result table_search_access_address(struct table_search *search, const char *address,
                                              const struct table_search_address_options *options,
                                              bool parent_matches_subdomains, const char **value);

/*
 * table_search_network: a printable IPv4 or IPv6 address, then its
 * shorter networks (access(5)).
 */
enum table_result table_search_network(struct table_search *search, const char *address,
                                       const char **value);

/*
 * table_search_client: the client's host name (NULL to skip it) and its
 * parents, then its address (NULL to skip it) and networks.
 */
enum table_result table_search_client(struct table_search *search, const char *hostname,
                                      const char *address, bool parent_matches_subdomains,
                                      const char **value);

/*
 * table_search_parent_style: whether name (a parameter such as
 * "smtpd_access_maps" or "transport_maps") is listed in the setting of
 * parent_domain_matches_subdomains (commas and/or white space).
 */
bool table_search_parent_style(const char *setting, const char *name);

#endif
