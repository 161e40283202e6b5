/*
 * table - lookup tables named "type:name", as in Postfix's main.cf.
 *
 * Every routing, access and authentication decision is a lookup in a table
 * such as "lmdb:/etc/hikyaku/transport", "pcre:/etc/hikyaku/s25r" or
 * "inline:{ a=b }". This module parses the name, finds the type in the
 * registry and hands the work to the type's functions (struct table_type).
 * "hash:" and "btree:" mean "lmdb:" here, so a Postfix main.cf works as is.
 *
 * A lookup has three outcomes, and callers must treat them differently:
 * TABLE_FOUND, TABLE_NOT_FOUND, and TABLE_ERROR (the table could not be
 * read: the caller defers, and never takes an error for "not found").
 *
 * Keys are at most TABLE_KEY_MAX bytes; values at most TABLE_VALUE_MAX.
 * With TABLE_FOLD_CASE the key is lowercased before it is looked up (the
 * default for indexed files, as postmap does).
 */
#ifndef HIKYAKU_TABLE_H
#define HIKYAKU_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct dstring;

#define TABLE_KEY_MAX 4096
#define TABLE_VALUE_MAX (1024 * 1024)
/* More tables than this in one "a, b, c" list is an error. */
#define TABLE_LIST_MAX 64

enum table_result {
	TABLE_FOUND,
	TABLE_NOT_FOUND,
	TABLE_ERROR,
};

enum table_flags {
	TABLE_FOLD_CASE = 1 << 0, /* lowercase keys before lookup */
	TABLE_FOR_UPDATE = 1 << 1 /* opened by `hikyaku map -d/-i` */
};

struct table;

/*
 * One table type. open() fills table->state; the others use it. A type
 * that cannot do something leaves the function NULL.
 */
struct table_type {
	const char *name; /* "lmdb", "pcre", ... */
	/* Open name; on failure return -1 with a reason in error. */
	int (*open)(struct table *table, const char *name, unsigned flags,
		    struct dstring *error);
	/*
	 * Look key up (already folded when TABLE_FOLD_CASE). On TABLE_FOUND
	 * the value is in value; on TABLE_ERROR the reason is in value.
	 */
	enum table_result (*lookup)(struct table *table, const char *key, struct dstring *value);
	/* Call visit for each entry in table order; stop when it returns non-zero. */
	int (*iterate)(struct table *table,
		       int (*visit)(const char *key, const char *value, void *context),
		       void *context, struct dstring *error);
	void (*close)(struct table *table);
	/*
	 * The file whose change means the table must be opened again (the
	 * indexed file, the regex file), or NULL when nothing on disk backs it.
	 */
	const char *(*source_file)(struct table *table);
	/*
	 * Pattern tables (pcre, regexp, cidr) are written against the whole
	 * key a client sent; derived keys (parent domains, an address without
	 * its extension) are never looked up in them, as in Postfix.
	 */
	bool is_pattern;
};

struct table {
	const struct table_type *type;
	char *spec;  /* "lmdb:/etc/aliases" as the caller wrote it */
	char *name;  /* "/etc/aliases" */
	unsigned flags;
	void *state; /* the type's own */
	/* What the source file was when opened, to notice a rebuild. */
	bool has_source_identity;
	struct stat source_identity;
	struct dstring *scratch;    /* the last value or error */
	struct dstring *folded_key; /* the key lowercased, for TABLE_FOLD_CASE */
};

/*
 * table_open: open "type:name". Returns NULL with a reason in error for an
 * unknown type, a malformed name, or a table that cannot be opened.
 */
struct table *table_open(const char *spec, unsigned flags, struct dstring *error);
void table_close(struct table *table);

/*
 * table_lookup: look key up. On TABLE_FOUND *value points to the value, on
 * TABLE_ERROR to the reason; either stays valid until the next call on
 * this table. A key longer than TABLE_KEY_MAX is TABLE_NOT_FOUND.
 */
enum table_result table_lookup(struct table *table, const char *key, const char **value);

/* table_iterate: visit every entry; -1 (reason in error) when the type cannot. */
int table_iterate(struct table *table,
		  int (*visit)(const char *key, const char *value, void *context),
		  void *context, struct dstring *error);

/*
 * table_is_stale: whether the file behind the table was replaced or
 * changed since it was opened (a long-running daemon then reopens it).
 */
bool table_is_stale(const struct table *table);

/* table_find_type: the registered type called name ("hash" gives lmdb). */
const struct table_type *table_find_type(const char *name);

/*
 * table_split_spec: split "type:name" into its parts (new strings).
 * Returns -1 with a reason in error when there is no type or no name.
 */
int table_split_spec(const char *spec, char **type, char **name, struct dstring *error);

/*
 * A list of tables searched in order, as in "alias_maps = lmdb:/a, pcre:/b":
 * the first table that has the key answers; an error in a table consulted
 * before any answer is the list's error (a later table must not answer in
 * place of one that could not be read).
 *
 * table_list_open never fails outright: a table that cannot be opened
 * stays in the list as an error that every lookup reports and that is
 * retried, so a daemon defers mail instead of dying or letting it through.
 */
struct table_list;

struct table_list *table_list_open(const char *specs, unsigned flags);
void table_list_close(struct table_list *list);
enum table_result table_list_lookup(struct table_list *list, const char *key, const char **value);
/* table_list_lookup_partial: the same for a derived key: pattern tables are skipped. */
enum table_result table_list_lookup_partial(struct table_list *list, const char *key,
					    const char **value);
size_t table_list_count(const struct table_list *list);

/* Types, registered in table.c. */
extern const struct table_type table_type_lmdb;
extern const struct table_type table_type_texthash;
extern const struct table_type table_type_inline;
extern const struct table_type table_type_static;
extern const struct table_type table_type_cidr;
extern const struct table_type table_type_pcre;
extern const struct table_type table_type_regexp;
extern const struct table_type table_type_unix;

#endif
