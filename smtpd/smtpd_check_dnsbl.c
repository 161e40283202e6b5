/*
 * smtpd_check_dnsbl - the restrictions that ask the DNS: reject_rbl_client
 * and reject_rhsbl_* (DNS block lists), reject_unknown_sender_domain,
 * reject_unknown_recipient_domain and reject_unknown_helo_hostname.
 *
 * DNSBL: the client address reversed ("4.3.2.1.bl.example", 32 nibbles
 * for IPv6) or a domain ("example.com.bl.example") is looked up as A
 * records. "bl.example=127.0.0.2" lists only that answer; each octet of
 * the filter may also be "[2..11]" or "[2;4;6]" as in Postfix. The reply
 * is default_rbl_reply with $rbl_code, $rbl_class, $rbl_what,
 * $rbl_domain, $rbl_reason (the TXT record) and ${name?text},
 * ${name:text}, or the template rbl_reply_maps gives for the DNSBL
 * domain. A DNS temporary failure lets the client pass: a block
 * list that cannot answer must not stop mail (Postfix does the same).
 *
 * Unknown domains: MX, then A, then AAAA. A domain with records passes; a
 * null MX (RFC 7505) is refused; a domain with none is refused with
 * unknown_address_reject_code (unknown_hostname_reject_code for HELO); a
 * temporary DNS failure is deferred by *_tempfail_action (default
 * defer_if_permit). Our own domains (mydestination, relay_domains) and
 * address literals are never looked up.
 *
 * Trust: DNS answers are outside input: TXT text goes into the reply
 * only after every byte outside printable ASCII became '_', cut at
 * RBL_REASON_MAX bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dns.h"
#include "log.h"
#include "resolve.h"
#include "smtpd_check_internal.h"

#define RBL_REASON_MAX 200
#define RBL_EXPAND_DEPTH 5

/* ---- default_rbl_reply --------------------------------------------------- */

struct rbl_variable {
	const char *name;
	const char *value; /* NULL or "": unset for ${name?...} */
};

static const char *
rbl_lookup(const struct rbl_variable *variables, size_t count, const char *name, size_t length)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(variables[i].name) == length &&
		    strncmp(variables[i].name, name, length) == 0)
			return variables[i].value ? variables[i].value : "";
	return "";
}

/* rbl_expand: Postfix's $name, ${name}, ${name?text}, ${name:text}, $$. */
static void
rbl_expand(const char *text, size_t length, const struct rbl_variable *variables, size_t count,
           struct dstring *out, unsigned depth)
{
	size_t i = 0;

	while (i < length) {
		if (text[i] != '$' || i + 1 >= length) {
			dstring_append_char(out, text[i++]);
			continue;
		}
		i++;
		if (text[i] == '$') {
			dstring_append_char(out, '$');
			i++;
		} else if (text[i] == '{') {
			size_t start = ++i, name_end, close, nesting = 1;
			const char *value;

			while (i < length && (text[i] == '_' || (text[i] >= 'a' && text[i] <= 'z')))
				i++;
			name_end = i;
			for (close = i; close < length; close++) {
				if (text[close] == '{')
					nesting++;
				else if (text[close] == '}' && --nesting == 0)
					break;
			}
			if (close >= length)
				return; /* unbalanced: stop (config error, logged at init) */
			value = rbl_lookup(variables, count, text + start, name_end - start);
			if (name_end < close && (text[name_end] == '?' || text[name_end] == ':')) {
				bool is_set = *value != '\0';

				if ((text[name_end] == '?') == is_set && depth < RBL_EXPAND_DEPTH)
					rbl_expand(text + name_end + 1, close - name_end - 1, variables,
					           count, out, depth + 1);
			} else {
				dstring_append_str(out, value);
			}
			i = close + 1;
		} else {
			size_t start = i;

			while (i < length && (text[i] == '_' || (text[i] >= 'a' && text[i] <= 'z')))
				i++;
			dstring_append_str(out, rbl_lookup(variables, count, text + start, i - start));
		}
	}
}

/* ---- DNSBL queries -------------------------------------------------------- */

/* octet_matches: "2", "[2..11]" or "[2;4;6]" against value. */
static bool
octet_matches(const char *pattern, size_t length, unsigned value)
{
	char buffer[64];
	char *cursor, *item;

	if (length == 0 || length >= sizeof(buffer))
		return false;
	memcpy(buffer, pattern, length);
	buffer[length] = '\0';
	if (buffer[0] != '[')
		return strtoul(buffer, NULL, 10) == value && strspn(buffer, "0123456789") == length;
	if (buffer[length - 1] != ']')
		return false;
	buffer[length - 1] = '\0';
	cursor = buffer + 1;
	while ((item = strsep(&cursor, ";")) != NULL) {
		char *range = strstr(item, "..");
		unsigned long low = strtoul(item, NULL, 10);
		unsigned long high = range ? strtoul(range + 2, NULL, 10) : low;

		if (value >= low && value <= high)
			return true;
	}
	return false;
}

static bool
filter_matches(const char *filter, const char *address)
{
	unsigned octets[4];
	const char *cursor = filter;

	if (sscanf(address, "%u.%u.%u.%u", &octets[0], &octets[1], &octets[2], &octets[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		const char *end = cursor;

		if (*end == '[')
			end = strchr(end, ']') ? strchr(end, ']') + 1 : end + strlen(end);
		else
			end += strcspn(end, ".");
		if (!octet_matches(cursor, (size_t)(end - cursor), octets[i]))
			return false;
		if (i < 3) {
			if (*end != '.')
				return false;
			cursor = end + 1;
		} else if (*end != '\0') {
			return false;
		}
	}
	return true;
}

/* clean_reason: DNS text made safe for a reply line. */
static void
clean_reason(const char *text, struct dstring *out)
{
	for (size_t i = 0; text[i] != '\0' && i < RBL_REASON_MAX; i++) {
		unsigned char byte = (unsigned char)text[i];

		dstring_append_char(out, byte >= 0x20 && byte < 0x7f ? (char)byte : '_');
	}
}

/*
 * dnsbl_query: whether query (already with the DNSBL domain) is listed
 * (matching filter when not NULL); the TXT reason goes to reason.
 */
static bool
dnsbl_query(const char *query, const char *filter, struct dstring *reason)
{
	struct dns_answer answer = {0};
	struct dstring error;
	enum dns_status status;
	bool is_listed = false;

	dstring_init(&error, DSTRING_NO_LIMIT);
	status = dns_lookup(query, DNS_TYPE_A, &answer, &error);
	if (status == DNS_TEMPFAIL)
		log_info("DNSBL lookup %s: %s (passed)", query, dstring_str(&error));
	for (size_t i = 0; status == DNS_OK && i < answer.count && !is_listed; i++)
		is_listed = filter == NULL || filter_matches(filter, answer.records[i].address);
	dns_answer_fini(&answer);
	if (is_listed) {
		memset(&answer, 0, sizeof(answer));
		if (dns_lookup(query, DNS_TYPE_TXT, &answer, &error) == DNS_OK &&
		    answer.records[0].text != NULL)
			clean_reason(answer.records[0].text, reason);
		dns_answer_fini(&answer);
	}
	dstring_fini(&error);
	return is_listed;
}

enum check_verdict
check_dnsbl(struct check_state *state, const struct restriction *restriction)
{
	const struct smtpd_check_client *client = state->client;
	struct dstring query, reason, reply, domain;
	const char *what = NULL, *rbl_class = "Client host";
	const char *equals = strchr(restriction->argument, '=');
	enum check_verdict verdict = CHECK_DUNNO;
	char code[8];

	dstring_init(&query, 1024);
	dstring_init(&reason, DSTRING_NO_LIMIT);
	dstring_init(&reply, DSTRING_NO_LIMIT);
	dstring_init(&domain, 1024);
	dstring_append(&domain, restriction->argument,
	               equals ? (size_t)(equals - restriction->argument)
	                      : strlen(restriction->argument));
	switch (restriction->kind) {
	case RESTRICTION_REJECT_RBL_CLIENT:
		what = client->address;
		if (what == NULL || dns_reverse_labels(what, &query) < 0)
			what = NULL;
		break;
	case RESTRICTION_REJECT_RHSBL_CLIENT:
		what = client->name;
		break;
	case RESTRICTION_REJECT_RHSBL_REVERSE_CLIENT:
		what = client->reverse_name;
		break;
	case RESTRICTION_REJECT_RHSBL_HELO:
		what = client->helo;
		rbl_class = "Helo command";
		break;
	case RESTRICTION_REJECT_RHSBL_SENDER:
		what = state->sender && *state->sender ? check_domain_of(state->sender) : NULL;
		rbl_class = "Sender address";
		break;
	case RESTRICTION_REJECT_RHSBL_RECIPIENT:
		what = state->recipient ? check_domain_of(state->recipient) : NULL;
		rbl_class = "Recipient address";
		break;
	default:
		break;
	}
	if (what != NULL && restriction->kind != RESTRICTION_REJECT_RBL_CLIENT) {
		/* A name: not "unknown", not an address literal. */
		if (*what == '\0' || *what == '[' || strcasecmp(what, "unknown") == 0)
			what = NULL;
		else
			dstring_set(&query, what);
	}
	if (what != NULL) {
		dstring_append_printf(&query, ".%s", dstring_str(&domain));
		if (!query.has_overflowed &&
		    dnsbl_query(dstring_str(&query), equals ? equals + 1 : NULL, &reason)) {
			const struct rbl_variable variables[] = {
			    {"rbl_code", code},
			    {"rbl_class", rbl_class},
			    {"rbl_what", what},
			    {"rbl_domain", dstring_str(&domain)},
			    {"rbl_reason", dstring_str(&reason)},
			    {"rbl_txt", dstring_str(&reason)},
			    {"client_address", client->address},
			    {"client_name", client->name},
			    {"reverse_client_name", client->reverse_name},
			    {"helo_name", client->helo},
			    {"sender", state->sender},
			    {"recipient", state->recipient},
			};
			const char *template = var_default_rbl_reply ? var_default_rbl_reply : "";
			const char *found;

			/* rbl_reply_maps: a template of the list's own, by its domain. */
			if (check_config.rbl_reply_maps != NULL) {
				switch (table_list_lookup(check_config.rbl_reply_maps,
				                          dstring_str(&domain), &found)) {
				case TABLE_FOUND:
					template = found;
					break;
				case TABLE_ERROR:
					log_warning("rbl_reply_maps: lookup of %s: %s",
					            dstring_str(&domain), found ? found : "error");
					break;
				case TABLE_NOT_FOUND:
					break;
				}
			}

			snprintf(code, sizeof(code), "%d", var_maps_rbl_reject_code);
			rbl_expand(template, strlen(template), variables,
			           sizeof(variables) / sizeof(variables[0]), &reply, 0);
			verdict = check_reject_text(state, dstring_str(&reply),
			                            var_maps_rbl_reject_code / 100 == 4 ? "4.7.1"
			                                                                : "5.7.1");
		}
	}
	dstring_fini(&query);
	dstring_fini(&reason);
	dstring_fini(&reply);
	dstring_fini(&domain);
	return verdict;
}

/* ---- Unknown domains and HELO names -------------------------------------- */

enum host_status {
	HOST_FOUND,
	HOST_NULL_MX,
	HOST_NOT_FOUND,
	HOST_TEMPFAIL,
};

/* host_lookup: MX, A, AAAA; the first that answers decides. */
static enum host_status
host_lookup(const char *name, bool want_mx)
{
	static const int types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	struct dns_answer answer = {0};
	struct dstring error;
	enum dns_status status;
	bool has_tempfail = false;

	dstring_init(&error, DSTRING_NO_LIMIT);
	if (want_mx) {
		bool is_null_mx = false;

		status = dns_lookup_mx(name, &answer, &is_null_mx, &error);
		dns_answer_fini(&answer);
		if (status == DNS_OK) {
			dstring_fini(&error);
			return is_null_mx ? HOST_NULL_MX : HOST_FOUND;
		}
		has_tempfail = status == DNS_TEMPFAIL;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&answer, 0, sizeof(answer));
		status = dns_lookup(name, types[i], &answer, &error);
		dns_answer_fini(&answer);
		if (status == DNS_OK) {
			dstring_fini(&error);
			return HOST_FOUND;
		}
		if (status == DNS_TEMPFAIL)
			has_tempfail = true;
	}
	dstring_fini(&error);
	return has_tempfail ? HOST_TEMPFAIL : HOST_NOT_FOUND;
}

enum check_verdict
check_unknown_domain(struct check_state *state, const char *address, bool is_sender)
{
	const char *reply_class = is_sender ? "Sender address" : "Recipient address";
	const char *dsn = is_sender ? "4.1.8" : "4.1.2";
	const char *domain;
	enum resolve_class address_class;
	struct dstring error;
	enum resolve_status status;

	if (address == NULL || *address == '\0' || strchr(address, '@') == NULL)
		return CHECK_DUNNO;
	domain = check_domain_of(address);
	if (*domain == '\0' || *domain == '[')
		return CHECK_DUNNO;
	dstring_init(&error, DSTRING_NO_LIMIT);
	status = check_resolve_class(address, &address_class, &error);
	dstring_fini(&error);
	if (status != RESOLVE_OK)
		return check_dict_retry(state, address);
	if (address_class != RESOLVE_CLASS_DEFAULT)
		return CHECK_DUNNO;
	switch (host_lookup(domain, true)) {
	case HOST_FOUND:
		return CHECK_DUNNO;
	case HOST_NULL_MX:
		return is_sender ? check_reject(state, 550, "5.7.27",
		                                "<%s>: %s rejected: Domain %s does not accept mail "
		                                "(nullMX)",
		                                address, reply_class, domain)
		                 : check_reject(state, 556, "5.1.10",
		                                "<%s>: %s rejected: Domain %s does not accept mail "
		                                "(nullMX)",
		                                address, reply_class, domain);
	case HOST_NOT_FOUND:
		return check_reject(state, var_unknown_address_reject_code, dsn,
		                    "<%s>: %s rejected: Domain not found", address, reply_class);
	case HOST_TEMPFAIL:
		break;
	}
	return check_tempfail(state, var_unknown_address_tempfail_action, dsn,
	                      "<%s>: %s rejected: Domain not found", address, reply_class);
}

enum check_verdict
check_unknown_helo(struct check_state *state)
{
	const char *helo = state->client->helo;

	if (helo == NULL || *helo == '\0' || *helo == '[')
		return CHECK_DUNNO;
	switch (host_lookup(helo, true)) {
	case HOST_FOUND:
	case HOST_NULL_MX:
		return CHECK_DUNNO;
	case HOST_NOT_FOUND:
		return check_reject(state, var_unknown_hostname_reject_code, "4.7.1",
		                    "<%s>: Helo command rejected: Host not found", helo);
	case HOST_TEMPFAIL:
		break;
	}
	return check_tempfail(state, var_unknown_helo_hostname_tempfail_action, "4.7.1",
	                      "<%s>: Helo command rejected: Host not found", helo);
}
