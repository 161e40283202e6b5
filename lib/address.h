/*
 * address - RFC 5322 / RFC 5321 addresses: finding the addresses in a
 * header's address list, and converting between the external (quoted)
 * and internal (unquoted) forms of a mailbox.
 *
 * Internal form is what the queue and the tables hold: the local part
 * without quotes or backslashes, '@', the domain ("john doe@example.com").
 * External form quotes the local part when it is not a dot-atom
 * ("\"john doe\"@example.com"), as on the wire and in headers.
 *
 * address_list_parse is lenient in what it recognises, as Postfix's
 * tok822 is (obsolete routes, missing brackets, groups, comments
 * anywhere), but bounded: at most token_limit tokens
 * (header_address_token_limit), and every quoted string, comment and
 * literal must end inside the text. 8-bit bytes are atom text (RFC 6532).
 *
 * What it trusts: nothing. It reads only length bytes.
 */
#ifndef HIKYAKU_ADDRESS_H
#define HIKYAKU_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

struct dstring;

/* One address found in an address list. */
struct address_span {
	size_t start, end; /* bytes of the addr-spec in the text: [start, end) */
	char *address;     /* its internal form */
};

struct address_list {
	struct address_span *spans;
	size_t count;
};

/*
 * address_list_parse: find the addresses in text (a header value; folding
 * allowed). Group names, display names and comments are not addresses;
 * an empty group gives none. Returns 0, or -1 with a reason in error
 * (unterminated quote, comment or literal, too many tokens). list must
 * be freed with address_list_fini either way.
 */
int address_list_parse(const char *text, size_t length, size_t token_limit,
                       struct address_list *list, struct dstring *error);
void address_list_fini(struct address_list *list);

/*
 * address_externalize: append address (internal form) to out with its
 * local part quoted when it is not a dot-atom.
 */
void address_externalize(const char *address, struct dstring *out);

/*
 * address_internalize: append the internal form of the addr-spec text
 * (external form, e.g. from an SMTP command) to out: quotes removed and
 * backslash pairs resolved in the local part. Returns -1 on an
 * unterminated quote.
 */
int address_internalize(const char *text, size_t length, struct dstring *out);

/* address_local_needs_quoting: the local part (internal) is not a dot-atom. */
bool address_local_needs_quoting(const char *local, size_t length);

/* address_domain: the domain of an internal address (after the last '@'), or NULL. */
const char *address_domain(const char *address);

/*
 * address_phrase: append a display name to out, quoted when it has
 * characters outside atext and spaces (for a generated From: header).
 */
void address_phrase(const char *name, struct dstring *out);

#endif
