/*
 * network_list - match an SMTP client against a Postfix-style host list.
 * See network_list.h for the syntax and the contract.
 *
 * A list is parsed once into items; a match walks them in order. Networks
 * are kept as 16-byte addresses (IPv4 as IPv4-mapped IPv6, prefix + 96) so
 * one comparison serves both families.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "network_list.h"
#include "strlist.h"
#include "table.h"
#include "table_search.h"
#include "xalloc.h"

/* Nested /file items and items in all are bounded. */
#define NETWORK_LIST_FILE_DEPTH 1
#define NETWORK_LIST_FILE_MAX (1024 * 1024)

enum network_item_kind {
	NETWORK_ITEM_NETWORK,
	NETWORK_ITEM_HOSTNAME, /* exact name */
	NETWORK_ITEM_DOMAIN,   /* ".example.com": names below it */
	NETWORK_ITEM_TABLE,
};

struct network_item {
	enum network_item_kind kind;
	bool is_negated;
	unsigned char network[16]; /* NETWORK: the masked address */
	unsigned prefix;           /* NETWORK: bits, over the 128-bit form */
	char *name;                /* HOSTNAME, DOMAIN (without the dot) */
	struct table *table;       /* TABLE */
};

struct network_list {
	struct network_item *items;
	size_t count;
	size_t capacity;
	bool parent_matches_subdomains;
};

/* parse_address: text to the 16-byte form; false when not an address. */
static bool
parse_address(const char *text, unsigned char address[16], bool *is_ipv4)
{
	static const char mapped_prefix[] = "::ffff:";
	struct in_addr ipv4;

	if (strncasecmp(text, mapped_prefix, sizeof(mapped_prefix) - 1) == 0 &&
	    inet_pton(AF_INET, text + sizeof(mapped_prefix) - 1, &ipv4) == 1)
		text += sizeof(mapped_prefix) - 1;
	if (inet_pton(AF_INET, text, &ipv4) == 1) {
		memset(address, 0, 10);
		address[10] = address[11] = 0xff;
		memcpy(address + 12, &ipv4, 4);
		*is_ipv4 = true;
		return true;
	}
	if (inet_pton(AF_INET6, text, address) == 1) {
		*is_ipv4 = false;
		return true;
	}
	return false;
}

static void
mask_address(unsigned char address[16], unsigned prefix)
{
	for (unsigned bit = 0; bit < 128; bit++)
		if (bit >= prefix)
			address[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
}

static bool
network_contains(const struct network_item *item, const unsigned char address[16])
{
	unsigned char masked[16];

	memcpy(masked, address, 16);
	mask_address(masked, item->prefix);
	return memcmp(masked, item->network, 16) == 0;
}

/*
 * parse_network: "1.2.3.0/24", "[2001:db8::]/32", "1.2.3.4", "[::1]".
 * 0 when it is one, 1 when text is not address-like at all, -1 when it
 * looks like a network but is malformed (bits set beyond the prefix, as
 * Postfix refuses them too).
 */
static int
parse_network(const char *text, struct network_item *item)
{
	char buffer[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t length = slash != NULL ? (size_t)(slash - text) : strlen(text);
	bool is_ipv4;
	unsigned long prefix;
	unsigned char masked[16];

	if (length > 1 && text[0] == '[' && text[length - 1] == ']') {
		text++;
		length -= 2;
	} else if (strchr(text, ':') == NULL && strspn(text, "0123456789.") != length) {
		return 1;
	}
	if (length == 0 || length >= sizeof(buffer))
		return slash != NULL ? -1 : 1;
	memcpy(buffer, text, length);
	buffer[length] = '\0';
	if (!parse_address(buffer, item->network, &is_ipv4))
		return -1;
	if (slash == NULL) {
		item->prefix = 128;
	} else {
		char *end;
		unsigned long limit = is_ipv4 ? 32 : 128;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > limit)
			return -1;
		item->prefix = (unsigned)prefix + (is_ipv4 ? 96 : 0);
	}
	memcpy(masked, item->network, 16);
	mask_address(masked, item->prefix);
	if (memcmp(masked, item->network, 16) != 0)
		return -1;
	item->kind = NETWORK_ITEM_NETWORK;
	return 0;
}

static struct network_item *
add_item(struct network_list *list)
{
	if (list->count == list->capacity) {
		list->capacity = list->capacity ? list->capacity * 2 : 8;
		list->items = xreallocarray(list->items, list->capacity, sizeof(*list->items));
	}
	memset(&list->items[list->count], 0, sizeof(list->items[0]));
	return &list->items[list->count++];
}

static int parse_text(struct network_list *list, const char *parameter, const char *text,
                      unsigned depth, struct dstring *error);

/* parse_file: the items of a /file item; '#' starts a comment line. */
static int
parse_file(struct network_list *list, const char *parameter, const char *path, unsigned depth,
           struct dstring *error)
{
	struct dstring text;
	char buffer[4096];
	int fd;
	int status = 0;
	bool at_line_start = true, in_comment = false;

	if (depth >= NETWORK_LIST_FILE_DEPTH) {
		dstring_printf(error, "%s: file %s names another file", parameter, path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dstring_printf(error, "%s: cannot open %s: %m", parameter, path);
		return -1;
	}
	dstring_init(&text, NETWORK_LIST_FILE_MAX);
	for (;;) {
		ssize_t got = read(fd, buffer, sizeof(buffer));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got < 0)
				status = -1;
			break;
		}
		/* Comment lines become blank; everything else is list text. */
		for (ssize_t i = 0; i < got && status == 0; i++) {
			char byte = buffer[i];

			if (at_line_start && byte == '#')
				in_comment = true;
			if (byte == '\n') {
				in_comment = false;
				at_line_start = true;
			} else if (byte != ' ' && byte != '\t') {
				at_line_start = false;
			}
			if (!in_comment && dstring_append_char(&text, byte == '\0' ? ' ' : byte) < 0)
				status = -1;
		}
		if (status < 0)
			break;
	}
	close(fd);
	if (status < 0)
		dstring_printf(error, "%s: cannot read %s (error or over %d bytes)", parameter,
		               path, NETWORK_LIST_FILE_MAX);
	else
		status = parse_text(list, parameter, dstring_str(&text), depth + 1, error);
	dstring_fini(&text);
	return status;
}

static int
parse_item(struct network_list *list, const char *parameter, const char *word, unsigned depth,
           struct dstring *error)
{
	struct network_item *item;
	bool is_negated = false;
	int network_status;

	while (*word == '!') {
		is_negated = !is_negated;
		word++;
	}
	if (*word == '\0') {
		dstring_printf(error, "%s: empty item after \"!\"", parameter);
		return -1;
	}
	if (*word == '/')
		return is_negated ? (dstring_printf(error, "%s: \"!%s\": a file cannot be negated",
		                                    parameter, word),
		                     -1)
		                  : parse_file(list, parameter, word, depth, error);
	item = add_item(list);
	item->is_negated = is_negated;
	network_status = parse_network(word, item);
	if (network_status == 0)
		return 0;
	/* "type:name" (an IPv6 address may also start with a letter: tried first). */
	if (network_status < 0 && isalpha((unsigned char)word[0]) && strchr(word, ':') != NULL)
		network_status = 1;
	if (network_status < 0) {
		list->count--;
		dstring_printf(error, "%s: bad network or address \"%s\"", parameter, word);
		return -1;
	}
	if (strchr(word, ':') != NULL) {
		struct dstring reason;

		dstring_init(&reason, DSTRING_NO_LIMIT);
		item->kind = NETWORK_ITEM_TABLE;
		item->table = table_open(word, TABLE_FOLD_CASE, &reason);
		if (item->table == NULL) {
			list->count--;
			dstring_printf(error, "%s: %s", parameter, dstring_str(&reason));
			dstring_fini(&reason);
			return -1;
		}
		dstring_fini(&reason);
		return 0;
	}
	if (*word == '.') {
		item->kind = NETWORK_ITEM_DOMAIN;
		word++;
	} else {
		item->kind = NETWORK_ITEM_HOSTNAME;
	}
	if (*word == '\0') {
		list->count--;
		dstring_printf(error, "%s: bad item \".\"", parameter);
		return -1;
	}
	item->name = xstrdup(word);
	return 0;
}

static int
parse_text(struct network_list *list, const char *parameter, const char *text, unsigned depth,
           struct dstring *error)
{
	struct strlist words;
	int status = 0;

	strlist_init(&words);
	if (strlist_split(&words, text, STRLIST_COMMA_SPACE, error) < 0) {
		struct dstring reason;

		dstring_init(&reason, DSTRING_NO_LIMIT);
		dstring_printf(&reason, "%s: %s", parameter, dstring_str(error));
		dstring_set(error, dstring_str(&reason));
		dstring_fini(&reason);
		status = -1;
	}
	for (size_t i = 0; status == 0 && i < words.count; i++)
		status = parse_item(list, parameter, words.items[i], depth, error);
	strlist_fini(&words);
	return status;
}

struct network_list *
network_list_open(const char *parameter, const char *text, bool parent_matches_subdomains,
                  struct dstring *error)
{
	struct network_list *list = xcalloc(1, sizeof(*list));

	list->parent_matches_subdomains = parent_matches_subdomains;
	if (parse_text(list, parameter, text, 0, error) < 0) {
		network_list_free(list);
		return NULL;
	}
	return list;
}

void
network_list_free(struct network_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		if (list->items[i].table != NULL)
			table_close(list->items[i].table);
	}
	free(list->items);
	free(list);
}

/* name_matches: hostname against a HOSTNAME or DOMAIN item. */
static bool
name_matches(const struct network_list *list, const struct network_item *item,
             const char *hostname)
{
	size_t name_length = strlen(hostname);
	size_t item_length = strlen(item->name);

	if (name_length > 0 && hostname[name_length - 1] == '.')
		name_length--;
	/* ".example.com" matches names below example.com, not example.com. */
	if (name_length == item_length && strncasecmp(hostname, item->name, item_length) == 0)
		return item->kind == NETWORK_ITEM_HOSTNAME;
	if (item->kind == NETWORK_ITEM_DOMAIN ||
	    (item->kind == NETWORK_ITEM_HOSTNAME && list->parent_matches_subdomains)) {
		return name_length > item_length && hostname[name_length - item_length - 1] == '.' &&
		       strncasecmp(hostname + name_length - item_length, item->name,
		                   item_length) == 0;
	}
	return false;
}

static enum network_list_result
table_matches(const struct network_list *list, struct network_item *item, const char *hostname,
              const char *address)
{
	struct table_search search;
	const char *value;
	enum table_result result;

	table_search_use_table(&search, item->table);
	result = table_search_client(&search, hostname, address, list->parent_matches_subdomains,
	                             &value);
	table_search_fini(&search);
	if (result == TABLE_ERROR)
		return NETWORK_LIST_ERROR;
	return result == TABLE_FOUND ? NETWORK_LIST_MATCH : NETWORK_LIST_NO_MATCH;
}

enum network_list_result
network_list_match(struct network_list *list, const char *hostname, const char *address)
{
	unsigned char client[16];
	bool is_ipv4;
	bool has_address = address != NULL && parse_address(address, client, &is_ipv4);

	if (hostname != NULL && (*hostname == '\0' || strcasecmp(hostname, "unknown") == 0))
		hostname = NULL;
	for (size_t i = 0; i < list->count; i++) {
		struct network_item *item = &list->items[i];
		enum network_list_result result = NETWORK_LIST_NO_MATCH;

		switch (item->kind) {
		case NETWORK_ITEM_NETWORK:
			if (has_address && network_contains(item, client))
				result = NETWORK_LIST_MATCH;
			break;
		case NETWORK_ITEM_HOSTNAME:
		case NETWORK_ITEM_DOMAIN:
			if (hostname != NULL && name_matches(list, item, hostname))
				result = NETWORK_LIST_MATCH;
			break;
		case NETWORK_ITEM_TABLE:
			result = table_matches(list, item, hostname, has_address ? address : NULL);
			break;
		}
		if (result == NETWORK_LIST_ERROR)
			return result;
		if (result == NETWORK_LIST_MATCH)
			return item->is_negated ? NETWORK_LIST_NO_MATCH : NETWORK_LIST_MATCH;
	}
	return NETWORK_LIST_NO_MATCH;
}

/* ---- mynetworks_style ----------------------------------------------- */

static unsigned
mask_bits(const unsigned char *mask, size_t size)
{
	unsigned bits = 0;

	for (size_t i = 0; i < size; i++)
		for (unsigned bit = 0; bit < 8; bit++)
			if (mask[i] & (0x80u >> bit))
				bits++;
	return bits;
}

static void
append_network(struct dstring *out, int family, const void *address, unsigned prefix)
{
	unsigned char bytes[16];
	char text[INET6_ADDRSTRLEN];
	size_t size = family == AF_INET ? 4 : 16;

	memcpy(bytes, address, size);
	for (unsigned bit = prefix; bit < size * 8; bit++)
		bytes[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	if (inet_ntop(family, bytes, text, sizeof(text)) == NULL)
		return;
	/* The same network from two interfaces is written once. */
	{
		char item[INET6_ADDRSTRLEN + 8];

		snprintf(item, sizeof(item), family == AF_INET ? "%s/%u" : "[%s]/%u", text, prefix);
		const char *found = strstr(dstring_str(out), item);
		size_t item_length = strlen(item);

		while (found != NULL) {
			if ((found == dstring_str(out) || found[-1] == ' ') &&
			    (found[item_length] == '\0' || found[item_length] == ' '))
				return;
			found = strstr(found + 1, item);
		}
		if (dstring_length(out) > 0)
			dstring_append_char(out, ' ');
		dstring_append_str(out, item);
	}
}

int
network_list_mynetworks(const char *style, struct dstring *out, struct dstring *error)
{
	struct ifaddrs *interfaces;
	enum { STYLE_HOST, STYLE_SUBNET, STYLE_CLASS } which;

	if (strcasecmp(style, "host") == 0) {
		which = STYLE_HOST;
	} else if (strcasecmp(style, "subnet") == 0) {
		which = STYLE_SUBNET;
	} else if (strcasecmp(style, "class") == 0) {
		which = STYLE_CLASS;
	} else {
		dstring_printf(error, "mynetworks_style: unknown style \"%s\" (host, subnet or class)",
		               style);
		return -1;
	}
	if (getifaddrs(&interfaces) < 0) {
		dstring_printf(error, "mynetworks_style: cannot list the network interfaces: %m");
		return -1;
	}
	for (struct ifaddrs *entry = interfaces; entry != NULL; entry = entry->ifa_next) {
		if (entry->ifa_addr == NULL || (entry->ifa_flags & IFF_UP) == 0)
			continue;
		if (entry->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *address = (const void *)entry->ifa_addr;
			const struct sockaddr_in *netmask = (const void *)entry->ifa_netmask;
			unsigned prefix = 32;

			if (which == STYLE_SUBNET && netmask != NULL) {
				prefix = mask_bits((const void *)&netmask->sin_addr, 4);
			} else if (which == STYLE_CLASS) {
				uint32_t host = ntohl(address->sin_addr.s_addr);

				prefix = host < 0x80000000u ? 8 : host < 0xc0000000u ? 16 : 24;
			}
			append_network(out, AF_INET, &address->sin_addr, prefix);
		} else if (entry->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *address = (const void *)entry->ifa_addr;
			const struct sockaddr_in6 *netmask = (const void *)entry->ifa_netmask;
			unsigned prefix = 128;

			/* Link-local addresses need a scope: Postfix leaves them out too. */
			if (IN6_IS_ADDR_LINKLOCAL(&address->sin6_addr))
				continue;
			if (which != STYLE_HOST && netmask != NULL)
				prefix = mask_bits((const void *)&netmask->sin6_addr, 16);
			append_network(out, AF_INET6, &address->sin6_addr, prefix);
		}
	}
	freeifaddrs(interfaces);
	return 0;
}
