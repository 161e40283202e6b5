/*
 * cleanup_rewrite - address rewriting in cleanup, as Postfix's cleanup
 * and trivial-rewrite do it for the envelope and the header:
 *
 *  1. qualification: "user" becomes "user@$myorigin" (append_at_myorigin),
 *     "user@host" becomes "user@host.$mydomain" (append_dot_mydomain);
 *  2. canonical mapping: sender_canonical_maps for senders, or
 *     recipient_canonical_maps for recipients, then canonical_maps; each
 *     searched in canonical(5) order: user+ext@domain, user@domain, then
 *     (local domains only) user+ext, user, then @domain (table_search.h).
 *     A result "@domain" keeps the local part; an unmatched extension is
 *     carried over when propagate_unmatched_extensions says "canonical";
 *  3. masquerading (masquerade_domains, masquerade_exceptions) for the
 *     classes in masquerade_classes (envelope recipients: never, as in
 *     Postfix).
 *
 * A table that cannot be read makes the message a temporary failure.
 */
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup.h"
#include "config.h"
#include "log.h"
#include "strlist.h"
#include "table.h"
#include "table_search.h"

static struct table_list *canonical_maps, *sender_canonical_maps, *recipient_canonical_maps;
static struct strlist masquerade_domains, masquerade_exceptions, local_domains;
static bool is_masquerade_class[4];
static bool propagates_extensions;

static struct table_list *
open_maps(const char *specs)
{
	if (specs == NULL || specs[0] == '\0')
		return NULL;
	return table_list_open(specs, TABLE_FOLD_CASE);
}

void
cleanup_rewrite_init(void)
{
	struct strlist classes, propagate;

	canonical_maps = open_maps(var_canonical_maps);
	sender_canonical_maps = open_maps(var_sender_canonical_maps);
	recipient_canonical_maps = open_maps(var_recipient_canonical_maps);
	strlist_init(&masquerade_domains);
	strlist_init(&masquerade_exceptions);
	strlist_init(&local_domains);
	strlist_init(&classes);
	strlist_init(&propagate);
	strlist_split(&masquerade_domains, var_masquerade_domains, STRLIST_COMMA_SPACE, NULL);
	strlist_split(&masquerade_exceptions, var_masquerade_exceptions, STRLIST_COMMA_SPACE, NULL);
	strlist_split(&local_domains, var_mydestination, STRLIST_COMMA_SPACE, NULL);
	strlist_split(&classes, var_masquerade_classes, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < classes.count; i++) {
		if (strcasecmp(classes.items[i], "envelope_sender") == 0)
			is_masquerade_class[CLEANUP_ENVELOPE_SENDER] = true;
		else if (strcasecmp(classes.items[i], "envelope_recipient") == 0)
			is_masquerade_class[CLEANUP_ENVELOPE_RECIPIENT] = true;
		else if (strcasecmp(classes.items[i], "header_sender") == 0)
			is_masquerade_class[CLEANUP_HEADER_SENDER] = true;
		else if (strcasecmp(classes.items[i], "header_recipient") == 0)
			is_masquerade_class[CLEANUP_HEADER_RECIPIENT] = true;
	}
	strlist_split(&propagate, var_propagate_unmatched_extensions, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < propagate.count; i++)
		if (strcasecmp(propagate.items[i], "canonical") == 0)
			propagates_extensions = true;
	strlist_fini(&classes);
	strlist_fini(&propagate);
}

/* Whether domain is one of ours: $myhostname or a plain name in $mydestination. */
static bool
is_local_domain(const char *domain)
{
	if (domain == NULL)
		return true;
	if (var_myhostname != NULL && strcasecmp(domain, var_myhostname) == 0)
		return true;
	for (size_t i = 0; i < local_domains.count; i++)
		if (strcasecmp(domain, local_domains.items[i]) == 0)
			return true;
	return false;
}

static void
qualify(struct dstring *address)
{
	const char *domain = address_domain(address->data);

	if (domain == NULL) {
		if (var_append_at_myorigin && var_myorigin != NULL && var_myorigin[0] != '\0')
			dstring_append_printf(address, "@%s", var_myorigin);
		return;
	}
	if (var_append_dot_mydomain && domain[0] != '\0' && domain[0] != '[' &&
	    strchr(domain, '.') == NULL && var_mydomain != NULL && var_mydomain[0] != '\0')
		dstring_append_printf(address, ".%s", var_mydomain);
}

/* One canonical table list applied to address in place. -1 on a table error. */
static int
canonical(struct table_list *maps, struct dstring *address, struct dstring *error)
{
	struct table_search search;
	struct table_search_address_options options = {0};
	const char *value, *at, *extension;
	enum table_result result;
	struct dstring mapped;
	size_t length;

	if (maps == NULL || address->length == 0)
		return 0;
	table_search_address_options_from_config(&options);
	options.is_local_domain = is_local_domain(address_domain(address->data));
	table_search_use_list(&search, maps);
	result = table_search_address(&search, address->data, &options, &value);
	if (result == TABLE_ERROR) {
		dstring_printf(error, "4.3.0 canonical lookup of %s: %s", address->data,
		               value ? value : "error");
		table_search_fini(&search);
		return -1;
	}
	if (result == TABLE_NOT_FOUND) {
		table_search_fini(&search);
		return 0;
	}
	/* The first address of the result; canonical mapping is one to one. */
	length = strcspn(value, ", \t");
	dstring_init(&mapped, DSTRING_NO_LIMIT);
	at = strrchr(address->data, '@');
	if (length > 0 && value[0] == '@') {
		dstring_append(&mapped, address->data,
		               at ? (size_t)(at - address->data) : address->length);
		dstring_append(&mapped, value, length);
	} else {
		dstring_append(&mapped, value, length);
	}
	extension = table_search_extension(&search);
	if (propagates_extensions && extension[0] != '\0') {
		const char *mapped_at = strrchr(mapped.data, '@');
		size_t local_length = mapped_at ? (size_t)(mapped_at - mapped.data) : mapped.length;

		if (memmem(mapped.data, local_length, extension, strlen(extension)) == NULL) {
			struct dstring with;

			dstring_init(&with, DSTRING_NO_LIMIT);
			dstring_append(&with, mapped.data, local_length);
			dstring_append_str(&with, extension);
			dstring_append_str(&with, mapped.data + local_length);
			dstring_set(&mapped, with.data);
			dstring_fini(&with);
		}
	}
	if (mapped.length > 0)
		dstring_set(address, mapped.data);
	dstring_fini(&mapped);
	table_search_fini(&search);
	return 0;
}

static void
masquerade(struct dstring *address)
{
	const char *at = strrchr(address->data, '@');
	const char *domain;
	size_t domain_length;

	if (at == NULL || masquerade_domains.count == 0)
		return;
	for (size_t i = 0; i < masquerade_exceptions.count; i++)
		if (strlen(masquerade_exceptions.items[i]) == (size_t)(at - address->data) &&
		    strncasecmp(address->data, masquerade_exceptions.items[i],
		                (size_t)(at - address->data)) == 0)
			return;
	domain = at + 1;
	domain_length = strlen(domain);
	for (size_t i = 0; i < masquerade_domains.count; i++) {
		const char *item = masquerade_domains.items[i];
		bool is_exclusion = item[0] == '!';
		size_t item_length;

		if (is_exclusion)
			item++;
		item_length = strlen(item);
		if (item_length == 0)
			continue;
		if (is_exclusion) {
			if (strcasecmp(domain, item) == 0)
				return;
			continue;
		}
		/* A strict subdomain of item becomes item. */
		if (domain_length > item_length + 1 &&
		    strcasecmp(domain + domain_length - item_length, item) == 0 &&
		    domain[domain_length - item_length - 1] == '.') {
			size_t local_length = (size_t)(domain - address->data);

			dstring_truncate(address, local_length);
			dstring_append_str(address, item);
			return;
		}
	}
}

int
cleanup_rewrite(const char *address, enum cleanup_address_class address_class, bool qualify_it,
                struct dstring *out)
{
	struct dstring error;
	bool is_sender =
	    address_class == CLEANUP_ENVELOPE_SENDER || address_class == CLEANUP_HEADER_SENDER;

	dstring_set(out, address);
	if (address[0] == '\0')
		return 0; /* the null sender stays null */
	if (qualify_it)
		qualify(out);
	dstring_init(&error, 1000);
	if (canonical(is_sender ? sender_canonical_maps : recipient_canonical_maps, out, &error) <
	        0 ||
	    canonical(canonical_maps, out, &error) < 0) {
		dstring_set(out, error.data);
		dstring_fini(&error);
		return -1;
	}
	dstring_fini(&error);
	if (is_masquerade_class[address_class])
		masquerade(out);
	return 0;
}
