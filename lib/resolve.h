/*
 * resolve - where a recipient goes: (transport, next hop, address), the
 * decision Postfix's trivial-rewrite makes for the queue manager, and
 * which smtpd's relay check and the smtp client share.
 *
 * The rules (docs/qmgr.md, "Resolving recipients"):
 *   1. The address class. The domain is the part after the last '@'
 *      (lower-cased, a trailing dot dropped); no '@' or an empty domain is
 *      local. LOCAL when the domain is in $mydestination (names compared
 *      without case, ".example.com" entries match subdomains, type:name
 *      entries are tables looked up with the domain), or an address
 *      literal of this host ([127.0.0.1], [IPv6:::1], any loopback
 *      address, an address in $inet_interfaces or $proxy_interfaces, or
 *      with inet_interfaces = all any address of an interface). RELAY when
 *      the domain matches $relay_domains (subdomains too, per
 *      parent_domain_matches_subdomains). DEFAULT otherwise.
 *   2. The class gives the defaults: LOCAL $local_transport
 *      ("local:$myhostname": transport "local", next hop $myhostname);
 *      RELAY $relay_transport and DEFAULT $default_transport, with next
 *      hop the relayhost when set, else the transport's own next hop when
 *      it has one ("smtp:[gw]"), else the recipient domain. The relayhost
 *      is $relayhost, unless sender_dependent_relayhost_maps (searched
 *      with the envelope sender, then "@domain", "<>" for the null
 *      sender; "DUNNO" is no result) gives one for the sender
 *      (resolve_address_sender only).
 *   3. transport_maps (transport(5)) override them: keys "user+ext@domain",
 *      "user@domain" (recipient_delimiter), then the domain and its parents
 *      (".example.com", or "example.com" when transport_maps is listed in
 *      parent_domain_matches_subdomains), then "*". Pattern tables see the
 *      full address only. A value is "transport:nexthop"; an empty
 *      transport or next hop keeps the default ("smtp:", ":[gw]:25"),
 *      "transport" alone is "transport:".
 *   4. Pseudo transports: "error:5.1.1 text" (bounce with that text),
 *      "retry:4.3.2 text" (defer), "discard:text" (drop as delivered) are
 *      reported as transports "error", "retry", "discard" with the text as
 *      next hop; the queue manager carries them out itself.
 *
 * A table that cannot be read is RESOLVE_TEMPFAIL (the caller defers),
 * never "not found". Bad values (a transport name that is not a plain
 * service name, a next hop with control characters or over
 * RESOLVE_NAME_MAX) are RESOLVE_TEMPFAIL too, with a reason naming the
 * table: a configuration mistake defers mail, it never bounces it.
 */
#ifndef HIKYAKU_RESOLVE_H
#define HIKYAKU_RESOLVE_H

#include <stdbool.h>

#include "dstring.h"

/* Longest transport name and next hop (the delivery protocol's limit). */
#define RESOLVE_NAME_MAX 1024

/* The settings the resolver uses; NULL fields count as "". */
struct resolve_settings {
	const char *myhostname;
	const char *mydestination;
	const char *relay_domains;
	const char *inet_interfaces;
	const char *proxy_interfaces;
	const char *transport_maps;
	const char *relayhost;
	const char *sender_dependent_relayhost_maps;
	const char *default_transport;
	const char *local_transport;
	const char *relay_transport;
	const char *recipient_delimiter;
	const char *parent_domain_matches_subdomains;
};

/*
 * resolve_settings_from_config: the main.cf values (after config_apply),
 * except sender_dependent_relayhost_maps, left NULL: a caller that
 * resolves with a sender (qmgr) sets it.
 */
void resolve_settings_from_config(struct resolve_settings *settings);

enum resolve_class {
	RESOLVE_CLASS_LOCAL,   /* mydestination or an address of this host */
	RESOLVE_CLASS_RELAY,   /* relay_domains */
	RESOLVE_CLASS_DEFAULT, /* everything else */
};

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_TEMPFAIL, /* a table error or a bad value: defer, reason in error */
};

/* What resolve_address decides. */
struct resolve_result {
	enum resolve_class address_class;
	struct dstring transport; /* "local", "smtp", "error", ... */
	struct dstring next_hop;  /* "example.com", "[relay.example]:25", or a pseudo transport's text */
	struct dstring address;   /* the recipient to deliver to (as given) */
};

void resolve_result_init(struct resolve_result *result);
void resolve_result_fini(struct resolve_result *result);

struct resolve;

/*
 * resolve_open: a resolver over settings (strings are copied; tables are
 * opened now, and a table that cannot be opened makes every lookup that
 * reaches it RESOLVE_TEMPFAIL, retried each time).
 */
struct resolve *resolve_open(const struct resolve_settings *settings);
void resolve_close(struct resolve *resolve);

/* resolve_address: decide for address (internal form). */
enum resolve_status resolve_address(struct resolve *resolve, const char *address,
				    struct resolve_result *result, struct dstring *error);

/*
 * resolve_address_sender: the same for mail from sender (internal form,
 * "" the null sender; NULL: no sender, as resolve_address), which
 * sender_dependent_relayhost_maps may send through another relayhost.
 */
enum resolve_status resolve_address_sender(struct resolve *resolve, const char *address,
					   const char *sender, struct resolve_result *result,
					   struct dstring *error);

/*
 * resolve_domain_class: the class of a domain alone (for smtpd's relay
 * check): RESOLVE_OK with *address_class, or RESOLVE_TEMPFAIL.
 */
enum resolve_status resolve_domain_class(struct resolve *resolve, const char *domain,
					 enum resolve_class *address_class, struct dstring *error);

enum resolve_pseudo {
	RESOLVE_PSEUDO_NONE,    /* a real delivery agent */
	RESOLVE_PSEUDO_ERROR,   /* "error": bounce with the next hop's text */
	RESOLVE_PSEUDO_RETRY,   /* "retry": defer with the next hop's text */
	RESOLVE_PSEUDO_DISCARD, /* "discard": report delivered, deliver nothing */
};

/* resolve_pseudo_transport: which pseudo transport a transport name is. */
enum resolve_pseudo resolve_pseudo_transport(const char *transport);

#endif
