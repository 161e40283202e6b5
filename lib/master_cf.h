/*
 * master_cf - master.cf: the table of services the master daemon runs.
 *
 * The syntax is Postfix's master(5): one logical line per service,
 *
 *	service type private unpriv chroot wakeup maxproc command [args...]
 *
 * where "-" in a column means its default. Lines whose first non-blank
 * character is '#' are comments, blank lines are skipped, and a line that
 * starts with white space continues the entry before it (comments and blank
 * lines in between do not end the entry). "{ text }" keeps white space
 * inside one argument; "-o name=value" and "-o { name = value }" override
 * a main.cf parameter for this service only.
 *
 * Contract: the parser trusts nothing in the text. Every problem is logged
 * with log_error as "PATH, line N: reason" (N is the first line of the
 * entry), counted, and the entry is dropped; parsing goes on with the next
 * entry, so one run reports every broken entry. The table holds only
 * entries that passed every check, in file order. Values of "-o" overrides
 * are kept as written ($name is expanded later, by config).
 *
 * hikyaku is stricter than Postfix where Postfix would do something
 * surprising: a unix/unix-dgram/fifo/pass service name is one socket name,
 * never a path; a second entry with the same service and type (for inet:
 * the same address, "smtp" and "25" alike) is an error, not a silent
 * replacement. docs/master_cf.md lists every check.
 */
#ifndef HIKYAKU_MASTER_CF_H
#define HIKYAKU_MASTER_CF_H

#include <stdbool.h>
#include <stddef.h>

#include "strlist.h"

struct dstring;

/* A logical line (an entry with its continuation lines) longer than this
 * is an error. */
#define MASTER_CF_LINE_MAX (256 * 1024)
/* More entries than this in one table is an error; parsing stops there. */
#define MASTER_CF_ENTRY_MAX 10000
/* master_cf_read refuses files larger than this. */
#define MASTER_CF_FILE_MAX (64 * 1024 * 1024)
/* Longest service name (a socket name must fit in sockaddr_un) and the
 * longest command name. */
#define MASTER_CF_NAME_MAX 100
/* Longest host part of an inet service. */
#define MASTER_CF_HOST_MAX 255
/* Largest wakeup time in seconds and largest explicit process limit. */
#define MASTER_CF_WAKEUP_MAX 2147483647
#define MASTER_CF_PROCESS_LIMIT_MAX 2147483647
/* max_process of an entry whose maxproc column is "-": use
 * $default_process_limit. */
#define MASTER_CF_PROCESS_LIMIT_DEFAULT (-1)

enum master_cf_type {
	MASTER_CF_INET,       /* TCP listener: service is [host:]port */
	MASTER_CF_UNIX,       /* UNIX stream socket in public/ or private/ */
	MASTER_CF_UNIX_DGRAM, /* UNIX datagram socket in public/ or private/ */
	MASTER_CF_FIFO,       /* named pipe in public/ or private/ */
	MASTER_CF_PASS,       /* UNIX stream socket that receives descriptors */
};

/* Bits of master_cf_entry.default_columns: columns written as "-". */
enum master_cf_column {
	MASTER_CF_COLUMN_PRIVATE = 1 << 0,
	MASTER_CF_COLUMN_UNPRIVILEGED = 1 << 1,
	MASTER_CF_COLUMN_CHROOT = 1 << 2,
	MASTER_CF_COLUMN_WAKEUP = 1 << 3,
	MASTER_CF_COLUMN_PROCESS_LIMIT = 1 << 4,
};

/* One "-o name=value": a main.cf parameter set for this service only. */
struct master_cf_override {
	char *name;
	char *value; /* as written, not expanded; may be empty */
};

/* One service: one logical line of master.cf, defaults filled in. */
struct master_cf_entry {
	char *service; /* as written: "smtp", "127.0.0.1:2525", "cleanup" */
	enum master_cf_type type;
	bool is_private;          /* socket in private/ (never for inet) */
	bool is_unprivileged;     /* runs as mail_owner, not root */
	bool is_chroot;           /* chroots to queue_directory */
	unsigned wakeup_seconds;  /* 0: no wakeup */
	bool wakeup_only_if_used; /* "60?": no wakeup before first use */
	int max_process;          /* MASTER_CF_PROCESS_LIMIT_DEFAULT, 0 = no limit */
	char *command;            /* program name in daemon_directory, no '/' */
	/*
	 * Arguments after the command, in order, with "{ }" groups removed
	 * and options normalized: "-oname=value" and "-o { name = value }"
	 * become the two items "-o" "name=value". The "-o" pairs stay here
	 * too, so args is exactly the argv the daemon gets after its name.
	 */
	struct strlist args;
	/* The "-o" settings among the leading options, in order (a later
	 * setting of the same name wins). */
	struct master_cf_override *overrides;
	size_t override_count;
	/* inet only: the service split by master_cf_inet_split. */
	char *inet_host; /* "" means every address of inet_interfaces */
	unsigned inet_port;
	unsigned default_columns; /* enum master_cf_column bits */
	char *origin_path;        /* file and first line of the entry */
	unsigned origin_line;
};

/* The entries of one or more master.cf texts, in the order read. */
struct master_cf {
	struct master_cf_entry *entries;
	size_t count;
	size_t capacity;
	/* Hash index by service and type: slot holds entry index + 1. */
	size_t *index;
	size_t index_size;
};

/* master_cf_init: an empty table. master_cf_fini: free everything in it
 * and leave it empty (it may be used again). */
void master_cf_init(struct master_cf *table);
void master_cf_fini(struct master_cf *table);

/*
 * master_cf_read: append the entries of the file at path to table.
 * Returns the number of problems logged; a file that cannot be opened or
 * read is one problem ("open PATH: reason").
 */
int master_cf_read(const char *path, struct master_cf *table);

/*
 * master_cf_parse: the same for text of length bytes (NUL bytes in it are
 * errors, not ends), naming origin_path in messages and entries.
 */
int master_cf_parse(const char *text, size_t length, const char *origin_path,
                    struct master_cf *table);

/* master_cf_find: the entry for service and type, or NULL. An inet
 * service is matched by address: "25" finds the entry written "smtp". The
 * pointer stays valid until the table changes. */
const struct master_cf_entry *master_cf_find(const struct master_cf *table, const char *service,
                                             enum master_cf_type type);

/* master_cf_type_name: "inet", "unix", "unix-dgram", "fifo" or "pass". */
const char *master_cf_type_name(enum master_cf_type type);
/* master_cf_type_parse: set *type for a name as above; 0, or -1 for an
 * unknown name. */
int master_cf_type_parse(const char *name, enum master_cf_type *type);

/* Flags of master_cf_format_entry. */
enum master_cf_format {
	/* Fold long lines like "postconf -Mf": no line past 79 columns where
	 * an argument allows, continuation lines indented by 4 spaces, each
	 * "-o name=value" on its own line. */
	MASTER_CF_FORMAT_FOLD = 1 << 0,
};

/*
 * master_cf_format_entry: append entry to out as "postconf -M" shows it
 * (the same column positions; "-" where the file said "-"), with no final
 * newline. With MASTER_CF_FORMAT_FOLD the text may hold newlines, as
 * "postconf -Mf". An argument that holds white space, is empty or starts
 * with '{' or '#' is shown in braces, so the output parses back to the
 * same entry.
 */
void master_cf_format_entry(const struct master_cf_entry *entry, unsigned flags,
                            struct dstring *out);

/*
 * master_cf_inet_split: split an inet service ("port", "host:port",
 * "[host]:port", "[ipv6]:port", ":port") into a host (a new string; ""
 * for all of inet_interfaces) and a port number 1-65535; a port may be a
 * service name ("smtp", "submission", "submissions"). Returns 0, or -1
 * with the reason in error (which may be NULL) and *host set to NULL. The
 * host is checked for syntax only, not resolved.
 */
int master_cf_inet_split(const char *service, char **host, unsigned *port, struct dstring *error);

#endif
