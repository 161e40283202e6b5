/*
 * dns - lookups through glibc's resolver; the contract is in dns.h, the
 * reply parser in dns_parse.c.
 *
 * res_nquery only sends the question and collects the reply (retrying
 * over TCP when a UDP reply comes back truncated); every byte of the
 * reply is read by dns_parse_answer. What it trusts: /etc/resolv.conf
 * (the administrator's), nothing in a reply.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dstring.h"
#include "xalloc.h"

/* The largest DNS message (a TCP reply). */
#define DNS_REPLY_MAX 65535
/* PTR names tried for forward confirmation, as Postfix bounds it. */
#define DNS_PTR_NAMES_MAX 10

static struct __res_state resolver_state;
static bool is_resolver_ready;

static int
resolver_ready(struct dstring *error)
{
	if (is_resolver_ready)
		return 0;
	memset(&resolver_state, 0, sizeof resolver_state);
	if (res_ninit(&resolver_state) != 0) {
		dstring_set(error, "cannot initialize the resolver");
		return -1;
	}
	is_resolver_ready = true;
	return 0;
}

/* A name res_nquery can encode: 1..253 characters (a trailing dot
 * allowed), no empty label. Anything else cannot exist. */
static bool
is_query_name(const char *name)
{
	size_t length = strlen(name);

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length == 0 || length > 253 || name[0] == '.')
		return false;
	for (size_t i = 0; i + 1 < length; i++) {
		if (name[i] == '.' && name[i + 1] == '.')
			return false;
	}
	return true;
}

enum dns_status
dns_lookup(const char *name, int type, struct dns_answer *answer, struct dstring *error)
{
	unsigned char *reply;
	int length;
	enum dns_status status;

	answer->records = NULL;
	answer->count = 0;
	if (!is_query_name(name)) {
		dstring_printf(error, "Host not found (invalid name)");
		return DNS_NOTFOUND;
	}
	if (resolver_ready(error) < 0)
		return DNS_TEMPFAIL;
	reply = xmalloc(DNS_REPLY_MAX);
	length = res_nquery(&resolver_state, name, C_IN, type, reply, DNS_REPLY_MAX);
	if (length < 0) {
		/* The resolver keeps the reply it got for NXDOMAIN and the
		 * like, but its h_errno already says what we need. */
		switch (resolver_state.res_h_errno) {
		case HOST_NOT_FOUND:
			dstring_set(error, "Host not found");
			status = DNS_NOTFOUND;
			break;
		case NO_DATA:
			dstring_printf(error, "no %s record", dns_type_name(type));
			status = DNS_NOTFOUND;
			break;
		case NO_RECOVERY:
			dstring_set(error, "Host not found, try again (non-recoverable error)");
			status = DNS_TEMPFAIL;
			break;
		default: /* TRY_AGAIN: SERVFAIL, timeout, no server answers */
			dstring_set(error, "Host not found, try again");
			status = DNS_TEMPFAIL;
			break;
		}
		free(reply);
		return status;
	}
	if (length > DNS_REPLY_MAX)
		length = DNS_REPLY_MAX; /* glibc reports a longer reply's full size */
	status = dns_parse_answer(reply, (size_t)length, type, answer, error);
	free(reply);
	return status;
}

enum dns_status
dns_lookup_mx(const char *domain, struct dns_answer *answer, bool *is_null_mx,
              struct dstring *error)
{
	enum dns_status status;
	size_t kept = 0;

	*is_null_mx = false;
	status = dns_lookup(domain, DNS_TYPE_MX, answer, error);
	if (status != DNS_OK)
		return status;
	if (answer->count == 1 && answer->records[0].name[0] == '\0') {
		*is_null_mx = true;
		return DNS_OK;
	}
	/* A root exchange among real ones breaks RFC 7505: ignore it. */
	for (size_t i = 0; i < answer->count; i++) {
		if (answer->records[i].name[0] == '\0') {
			free(answer->records[i].name);
			free(answer->records[i].text);
			continue;
		}
		answer->records[kept++] = answer->records[i];
	}
	answer->count = kept;
	return DNS_OK;
}

int
dns_reverse_labels(const char *address, struct dstring *labels)
{
	unsigned char bytes[16];
	static const char hex[] = "0123456789abcdef";

	if (inet_pton(AF_INET6, address, bytes) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		dstring_reset(labels);
		if (memcmp(bytes, mapped, sizeof mapped) == 0) {
			dstring_printf(labels, "%u.%u.%u.%u", bytes[15], bytes[14], bytes[13],
			               bytes[12]);
			return 0;
		}
		for (int i = 15; i >= 0; i--) {
			dstring_append_printf(labels, "%s%c.%c", i == 15 ? "" : ".",
			                      hex[bytes[i] & 0xf], hex[bytes[i] >> 4]);
		}
		return 0;
	}
	if (inet_pton(AF_INET, address, bytes) == 1) {
		dstring_printf(labels, "%u.%u.%u.%u", bytes[3], bytes[2], bytes[1], bytes[0]);
		return 0;
	}
	return -1;
}

/* Is address (text) IPv4, or an IPv4-mapped IPv6 address? */
static bool
is_ipv4(const char *address)
{
	unsigned char bytes[16];

	if (inet_pton(AF_INET, address, bytes) == 1)
		return true;
	return inet_pton(AF_INET6, address, bytes) == 1 &&
	       memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
}

int
dns_reverse_query_name(const char *address, struct dstring *name)
{
	if (dns_reverse_labels(address, name) < 0)
		return -1;
	dstring_append_str(name, is_ipv4(address) ? ".in-addr.arpa" : ".ip6.arpa");
	return 0;
}

enum dns_status
dns_reverse_name(const char *address, struct dstring *name, struct dstring *error)
{
	struct dstring query;
	struct dns_answer answer;
	enum dns_status status;

	dstring_init(&query, DSTRING_NO_LIMIT);
	if (dns_reverse_query_name(address, &query) < 0) {
		dstring_fini(&query);
		dstring_printf(error, "not an address");
		return DNS_NOTFOUND;
	}
	status = dns_lookup(dstring_str(&query), DNS_TYPE_PTR, &answer, error);
	if (status == DNS_OK)
		dstring_set(name, answer.records[0].name);
	dns_answer_fini(&answer);
	dstring_fini(&query);
	return status;
}

/* Binary form of address as AF_INET (mapped addresses too) or AF_INET6. */
static int
address_bytes(const char *address, unsigned char bytes[16], size_t *length)
{
	unsigned char v6[16];

	if (inet_pton(AF_INET, address, bytes) == 1) {
		*length = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, address, v6) != 1)
		return -1;
	if (memcmp(v6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memcpy(bytes, v6 + 12, 4);
		*length = 4;
	} else {
		memcpy(bytes, v6, 16);
		*length = 16;
	}
	return 0;
}

/* Does host have an A/AAAA record equal to bytes? DNS_OK when it does. */
static enum dns_status
host_has_address(const char *host, const unsigned char *bytes, size_t length, struct dstring *error)
{
	struct dns_answer answer;
	enum dns_status status;
	int family = length == 4 ? AF_INET : AF_INET6;

	status = dns_lookup(host, length == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA, &answer, error);
	if (status != DNS_OK)
		return status;
	status = DNS_NOTFOUND;
	for (size_t i = 0; i < answer.count; i++) {
		unsigned char found[16];

		if (inet_pton(family, answer.records[i].address, found) == 1 &&
		    memcmp(found, bytes, length) == 0) {
			status = DNS_OK;
			break;
		}
	}
	if (status != DNS_OK)
		dstring_printf(error, "%s does not resolve to the address", host);
	dns_answer_fini(&answer);
	return status;
}

enum dns_status
dns_forward_confirmed(const char *address, struct dstring *name, struct dstring *error)
{
	struct dstring query;
	struct dns_answer answer;
	unsigned char bytes[16];
	size_t length;
	enum dns_status status;
	bool has_tempfail = false;

	dstring_reset(name);
	dstring_init(&query, DSTRING_NO_LIMIT);
	if (address_bytes(address, bytes, &length) < 0 ||
	    dns_reverse_query_name(address, &query) < 0) {
		dstring_fini(&query);
		dstring_printf(error, "not an address");
		return DNS_NOTFOUND;
	}
	status = dns_lookup(dstring_str(&query), DNS_TYPE_PTR, &answer, error);
	dstring_fini(&query);
	if (status != DNS_OK)
		return status;
	dstring_set(name, answer.records[0].name);
	status = DNS_NOTFOUND;
	for (size_t i = 0; i < answer.count && i < DNS_PTR_NAMES_MAX; i++) {
		const char *host = answer.records[i].name;
		enum dns_status forward;

		/* An escaped byte or the root is never a host name. */
		if (host[0] == '\0' || strchr(host, '\\') != NULL)
			continue;
		forward = host_has_address(host, bytes, length, error);
		if (forward == DNS_OK) {
			dstring_set(name, host);
			status = DNS_OK;
			break;
		}
		if (forward == DNS_TEMPFAIL)
			has_tempfail = true;
	}
	dns_answer_fini(&answer);
	if (status == DNS_OK) {
		dstring_reset(error);
		return DNS_OK;
	}
	if (has_tempfail)
		return DNS_TEMPFAIL;
	dstring_printf(error, "hostname %s does not resolve to address %s", dstring_str(name),
	               address);
	return DNS_NOTFOUND;
}
