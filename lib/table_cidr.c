/*
 * table_cidr - "cidr:/path": Postfix's CIDR tables (cidr_table(5)).
 *
 * Syntax, as Postfix 3.7 (checked against its postmap):
 *   network/prefix result     IPv4 ("192.168.0.0/16") or IPv6 ("2001:db8::/32")
 *   address result            the same as /32 or /128
 *   [address]/prefix, [address/prefix], [address]   the brackets are optional
 *   !pattern result           applies when the address is NOT in the network
 *   if pattern ... endif, if !pattern ... endif (nested)
 * The first rule that applies answers, with its result as written (no "$"
 * substitution). A pattern with bits set past its prefix ("10.0.0.1/8")
 * is an error ("non-null host address bits"), as are a bad address or
 * prefix and a missing result; the rule is then skipped (see
 * table_rules.h for a bad "if").
 *
 * Keys: an address written as inet_pton(3) reads it (IPv6 when it holds a
 * ":"): no brackets, no scope, no leading zeros in IPv4. Any other key,
 * a host name say, is TABLE_NOT_FOUND. A rule only applies to keys of its
 * own family, negated or not: "!10.0.0.0/8" does not answer for "::1",
 * and "::ffff:1.2.3.4" is an IPv6 key.
 *
 * Unlike Postfix, "endif" followed by other text still closes its "if"
 * (with an error logged), so the block keeps the shape the author meant.
 *
 * What it trusts: nothing in the file or the key; inet_pton parses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "table_rules.h"
#include "xalloc.h"

struct cidr_pattern {
	int family;          /* AF_INET or AF_INET6 */
	unsigned byte_count; /* 4 or 16 */
	unsigned char network[16];
	unsigned char mask[16];
};

/* A parsed key: what the rules are matched against. */
struct cidr_key {
	int family;
	unsigned char address[16];
};

/* The address family of text, as Postfix decides it. */
static int
family_of(const char *text)
{
	return strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
}

/*
 * Parse "[!...]address[/prefix]" (brackets allowed) into pattern. The text
 * is modified. Returns 0, or -1 with a reason in error.
 */
static int
parse_pattern(char *text, struct cidr_pattern *pattern, bool *is_negated, struct dstring *error)
{
	char *address, *mask_search, *slash;

	*is_negated = false;
	for (;; text++) {
		if (*text == '!')
			*is_negated = !*is_negated;
		else if (!table_rules_is_space((unsigned char)*text))
			break;
	}
	if (*text == '\0') {
		dstring_set(error, "no address pattern");
		return -1;
	}
	address = text;
	mask_search = text;
	if (*text == '[') {
		char *close = strchr(++address, ']');

		if (close == NULL) {
			dstring_printf(error, "missing ']' character after \"[%.100s\"", address);
			return -1;
		}
		*close = '\0';
		if (close[1] == '/') {
			/* "[address]/prefix": the prefix is outside. */
			mask_search = close + 1;
		} else if (close[1] != '\0') {
			dstring_printf(error, "garbage after \"[%.100s]\"", address);
			return -1;
		} else {
			mask_search = address;
		}
	}
	pattern->family = family_of(address);
	pattern->byte_count = pattern->family == AF_INET6 ? 16 : 4;
	if ((slash = strchr(mask_search, '/')) != NULL) {
		unsigned bit_count = pattern->byte_count * 8, prefix = 0;
		char *digits = slash + 1;

		*slash = '\0';
		if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits)) {
			dstring_printf(error, "bad mask value in \"%.100s/%.100s\"", address,
			               digits);
			return -1;
		}
		for (const char *digit = digits; *digit != '\0'; digit++) {
			prefix = prefix * 10 + (unsigned)(*digit - '0');
			if (prefix > bit_count) {
				dstring_printf(error, "bad mask length in \"%.100s/%.100s\"",
				               address, digits);
				return -1;
			}
		}
		if (inet_pton(pattern->family, address, pattern->network) != 1) {
			dstring_printf(error, "bad network value in \"%.100s/%.100s\"", address,
			               digits);
			return -1;
		}
		memset(pattern->mask, 0, sizeof(pattern->mask));
		for (unsigned bit = 0; bit < prefix; bit++)
			pattern->mask[bit / 8] |= (unsigned char)(0x80u >> (bit % 8));
		for (unsigned i = 0; i < pattern->byte_count; i++) {
			if ((pattern->network[i] & ~pattern->mask[i]) != 0) {
				unsigned char network[16];
				char suggestion[INET6_ADDRSTRLEN];

				for (unsigned j = 0; j < pattern->byte_count; j++)
					network[j] = pattern->network[j] & pattern->mask[j];
				if (inet_ntop(pattern->family, network, suggestion,
				              sizeof(suggestion)) == NULL)
					log_panic("inet_ntop: cannot print an address");
				dstring_printf(error,
				               "non-null host address bits in \"%.100s/%.100s\", "
				               "perhaps you should use \"%s/%u\" instead",
				               address, digits, suggestion, prefix);
				return -1;
			}
		}
	} else {
		if (inet_pton(pattern->family, address, pattern->network) != 1) {
			dstring_printf(error, "bad address pattern: \"%.100s\"", address);
			return -1;
		}
		memset(pattern->mask, 0xff, sizeof(pattern->mask));
	}
	return 0;
}

static enum table_rules_parse
cidr_parse(struct table_rules *rules, char *line, struct table_rule *rule, struct dstring *error)
{
	struct cidr_pattern *pattern = xcalloc(1, sizeof(*pattern));
	char *text, *end;

	if ((text = table_rules_keyword(line, "if")) != NULL) {
		rule->op = TABLE_RULE_IF;
		if (parse_pattern(text, pattern, &rule->is_negated, error) < 0) {
			free(pattern);
			rule->is_broken = true;
		} else {
			rule->pattern = pattern;
		}
		return TABLE_RULES_PARSED;
	}
	if ((text = table_rules_keyword(line, "endif")) != NULL) {
		free(pattern);
		rule->op = TABLE_RULE_ENDIF;
		if (*table_rules_skip_space(text) != '\0')
			table_rules_warn(rules, rule->line_number,
			                 "garbage after ENDIF: ignoring the garbage");
		return TABLE_RULES_PARSED;
	}
	rule->op = TABLE_RULE_MATCH;
	/* "!" and white space, the pattern up to white space, then the result. */
	text = line;
	while (*text == '!' || table_rules_is_space((unsigned char)*text))
		text++;
	end = text;
	while (*end != '\0' && !table_rules_is_space((unsigned char)*end))
		end++;
	text = table_rules_skip_space(end);
	if (*end != '\0')
		*end = '\0';
	if (parse_pattern(line, pattern, &rule->is_negated, error) < 0) {
		free(pattern);
		return TABLE_RULES_SKIPPED;
	}
	if (*text == '\0') {
		free(pattern);
		dstring_set(error, "no lookup result");
		return TABLE_RULES_SKIPPED;
	}
	rule->pattern = pattern;
	rule->result = xstrdup(text);
	return TABLE_RULES_PARSED;
}

static enum table_rules_match
cidr_match(const struct table_rule *rule, const char *key, size_t key_length, void *context,
           struct table_rules_groups *groups, struct dstring *error)
{
	const struct cidr_pattern *pattern = rule->pattern;
	const struct cidr_key *address = context;
	bool is_inside = true;

	/* A rule answers only for keys of its own family, negated or not. */
	if (pattern->family != address->family)
		return TABLE_RULES_NO_MATCH;
	for (unsigned i = 0; i < pattern->byte_count; i++) {
		if ((address->address[i] & pattern->mask[i]) != pattern->network[i]) {
			is_inside = false;
			break;
		}
	}
	return is_inside != rule->is_negated ? TABLE_RULES_MATCHED : TABLE_RULES_NO_MATCH;
}

static void
cidr_free_pattern(void *pattern)
{
	free(pattern);
}

static const struct table_rules_syntax cidr_syntax = {
    .name = "cidr",
    .has_substitution = false,
    .parse = cidr_parse,
    .match = cidr_match,
    .free_pattern = cidr_free_pattern,
    .free_state = NULL,
};

static int
cidr_open(struct table *table, const char *name, unsigned flags, struct dstring *error)
{
	return table_rules_open(&cidr_syntax, table, name, error);
}

static enum table_result
cidr_lookup(struct table *table, const char *key, struct dstring *value)
{
	struct cidr_key address;

	dstring_reset(value);
	if (strlen(key) > TABLE_KEY_MAX)
		return TABLE_NOT_FOUND;
	address.family = family_of(key);
	if (inet_pton(address.family, key, address.address) != 1)
		return TABLE_NOT_FOUND;
	return table_rules_lookup(table->state, key, &address, value);
}

const struct table_type table_type_cidr = {
	.is_pattern = true,
    .name = "cidr",
    .open = cidr_open,
    .lookup = cidr_lookup,
    .iterate = NULL,
    .close = table_rules_close_table,
    .source_file = table_rules_source_file,
};
