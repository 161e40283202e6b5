/*
 * network_list - match an SMTP client (host name and address) against a
 * Postfix-style host list, as in mynetworks, smtpd_client_event_limit_exceptions
 * or smtpd_forbid_bare_newline_exclusions.
 *
 * A list is items separated by commas and/or white space; the first item
 * that matches decides:
 *   192.0.2.0/24, [2001:db8::]/32   a network (CIDR; brackets optional)
 *   192.0.2.1, [::1]                 one address
 *   host.example.com                 a host name (case-insensitive)
 *   .example.com                     any name below example.com; with
 *                                    parent style (the list's parameter is in
 *                                    parent_domain_matches_subdomains)
 *                                    "example.com" matches subdomains too
 *   type:name                        a table: the name (and parents), then
 *                                    the address, are looked up; found matches
 *   /path/file                       the items in the file (one level deep)
 *   !item                            a match of item means "no match"
 * An IPv4-mapped IPv6 client (::ffff:192.0.2.1) is matched as IPv4.
 *
 * Errors: a malformed network, an unreadable file or an unknown table type
 * are configuration errors at open time. A table that cannot be read at
 * lookup time gives NETWORK_LIST_ERROR (the caller defers), never "no
 * match".
 *
 * network_list_mynetworks computes Postfix's default mynetworks from the
 * interfaces: "host" (each address /32 or /128), "subnet" (each address's
 * subnet) or "class" (the IPv4 class A/B/C network; IPv6 as subnet).
 *
 * Trusts: the list text (configuration); not the client's name or address.
 */
#ifndef HIKYAKU_NETWORK_LIST_H
#define HIKYAKU_NETWORK_LIST_H

#include <stdbool.h>

#include "dstring.h"

struct network_list;

enum network_list_result {
	NETWORK_LIST_NO_MATCH,
	NETWORK_LIST_MATCH,
	NETWORK_LIST_ERROR, /* a table could not be read: defer */
};

/*
 * network_list_open: parse text (the value of parameter, already
 * expanded). Returns NULL with a reason naming parameter and the bad item
 * in error.
 */
struct network_list *network_list_open(const char *parameter, const char *text,
                                       bool parent_matches_subdomains, struct dstring *error);
void network_list_free(struct network_list *list);

/*
 * network_list_match: whether the client with hostname (NULL or "unknown":
 * names are not matched) and address (NULL: addresses are not matched) is
 * in the list.
 */
enum network_list_result network_list_match(struct network_list *list, const char *hostname,
                                            const char *address);

/*
 * network_list_mynetworks: append the networks of this host's interfaces
 * in style ("host", "subnet", "class") to out, separated by spaces
 * (IPv6 in brackets: "[::1]/128"). -1 with a reason for an unknown style
 * or when the interfaces cannot be listed.
 */
int network_list_mynetworks(const char *style, struct dstring *out, struct dstring *error);

#endif
