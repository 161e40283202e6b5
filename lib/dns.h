/*
 * dns - DNS lookups through the system resolver (glibc's res_nquery), with
 * our own bounded parser for the answers.
 *
 * The resolver sends the query and collects the reply; everything in the
 * reply is then read by dns_parse_answer, which trusts nothing in it:
 * names are decompressed with a bound on pointer jumps (no loops), on
 * label lengths (63) and on the total name length (255); every count and
 * every record's rdata length is checked against the message. A reply
 * that is malformed or truncated is DNS_TEMPFAIL with a reason, never a
 * crash and never DNS_NOTFOUND (a broken answer must defer mail, not
 * bounce it). At most DNS_RECORDS_MAX records are kept.
 *
 * The three outcomes:
 *   DNS_OK        records of the type asked for (answer->count > 0);
 *   DNS_NOTFOUND  the name does not exist (NXDOMAIN) or has no record of
 *                 that type (NODATA);
 *   DNS_TEMPFAIL  SERVFAIL, timeout, no server, malformed or truncated
 *                 answer: try again later.
 *
 * Names come back in text form without the trailing dot, as the server
 * spelled them (case kept); a byte that is not a printable character, and
 * a '.' or '\' inside a label, comes back escaped as in a zone file
 * ("\032", "\."), so a hostile name never carries control characters;
 * callers that need a host name check it (an escape is never valid in
 * one). A null MX's exchange is "" (the root).
 *
 * The module keeps one resolver state per process (res_ninit once, on
 * first use; daemons are retired by max_use/max_idle, which picks up a
 * changed /etc/resolv.conf). Not thread-safe: hikyaku daemons are
 * single-threaded. Lookups block (the resolver's own timeouts and
 * retries from resolv.conf bound them).
 */
#ifndef HIKYAKU_DNS_H
#define HIKYAKU_DNS_H

#include <stdbool.h>
#include <stddef.h>

struct dstring;

/* Record types (the values on the wire). */
#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28

/* The most records one answer keeps; further ones are ignored. */
#define DNS_RECORDS_MAX 100
/* The longest joined TXT text kept (longer records are cut here). */
#define DNS_TEXT_MAX 4096
/* Room for a name in text form: 255 bytes on the wire, each byte at most
 * 4 characters once escaped, and the NUL. */
#define DNS_NAME_MAX 1024

enum dns_status {
	DNS_OK,
	DNS_NOTFOUND, /* NXDOMAIN, or no records of that type */
	DNS_TEMPFAIL, /* SERVFAIL, timeout, malformed or truncated answer */
};

struct dns_record {
	int type;            /* DNS_TYPE_* */
	unsigned ttl;        /* seconds */
	unsigned preference; /* MX only */
	char *name;          /* MX exchange, PTR/CNAME target; NULL otherwise */
	char *text;          /* TXT: the character-strings joined; NULL otherwise */
	char address[46];    /* A/AAAA in text form; "" otherwise */
};

struct dns_answer {
	struct dns_record *records;
	size_t count;
};

/*
 * dns_lookup: records of type (DNS_TYPE_A, _AAAA, _MX, _TXT, _PTR) for
 * name. On DNS_OK, answer holds count > 0 records of that type (CNAMEs
 * the server followed are skipped); on other results it is empty. error
 * gets a reason for DNS_TEMPFAIL and DNS_NOTFOUND ("Host not found",
 * "malformed answer: ..."). MX records come sorted by preference, equal
 * preferences in random order. The caller frees with dns_answer_fini.
 */
enum dns_status dns_lookup(const char *name, int type, struct dns_answer *answer,
                           struct dstring *error);

void dns_answer_fini(struct dns_answer *answer);

/*
 * dns_lookup_mx: the MX records of domain, sorted as dns_lookup does.
 * DNS_NOTFOUND when the domain has no MX (the caller falls back to its
 * A/AAAA records) or does not exist (error tells which). *is_null_mx is
 * set when the domain publishes a null MX (RFC 7505: a single record
 * with exchange "."): the domain accepts no mail; the status is DNS_OK.
 */
enum dns_status dns_lookup_mx(const char *domain, struct dns_answer *answer, bool *is_null_mx,
                              struct dstring *error);

/*
 * dns_reverse_name: the PTR name of address (IPv4 or IPv6 text form),
 * into name (the first PTR record). DNS_NOTFOUND when there is none.
 * Not verified: see dns_forward_confirmed.
 */
enum dns_status dns_reverse_name(const char *address, struct dstring *name, struct dstring *error);

/*
 * dns_forward_confirmed: the PTR name of address whose own A/AAAA
 * records include address (Postfix's "client name", as opposed to the
 * unverified "reverse client name"). Each PTR name is tried in turn.
 * DNS_OK with name set; DNS_NOTFOUND when there is no PTR or no PTR
 * name maps back (name gets the first PTR name, if any, for logging);
 * DNS_TEMPFAIL when a lookup failed temporarily.
 */
enum dns_status dns_forward_confirmed(const char *address, struct dstring *name,
                                      struct dstring *error);

/*
 * dns_reverse_labels: address (IPv4 or IPv6 text form) as reversed
 * labels without a suffix: "4.3.2.1" for 1.2.3.4, 32 nibbles for IPv6.
 * For DNSBL queries: labels + "." + rbl_domain. Returns -1 (name
 * untouched) for text that is not an address.
 */
int dns_reverse_labels(const char *address, struct dstring *labels);

/* dns_reverse_query_name: the in-addr.arpa / ip6.arpa name of address;
 * -1 for text that is not an address. */
int dns_reverse_query_name(const char *address, struct dstring *name);

/*
 * dns_parse_answer: the pure parser. msg (length bytes) is a whole reply
 * as received; the records of type in its answer section go into answer
 * (MX sorted, A/AAAA as text). Returns DNS_OK, DNS_NOTFOUND (NXDOMAIN
 * rcode or no such records) or DNS_TEMPFAIL (other rcodes, the TC bit,
 * anything malformed) with a reason in error. The fuzz target drives it.
 */
enum dns_status dns_parse_answer(const unsigned char *msg, size_t length, int type,
                                 struct dns_answer *answer, struct dstring *error);

/* dns_type_name: "MX", "A", ... for logs; "?" for other types. */
const char *dns_type_name(int type);

#endif
