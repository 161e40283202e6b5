/*
 * master_cf - parse master.cf into a table of services, and show entries
 * the way "postconf -M" does.
 *
 * The text is outside input: it is read in physical lines, joined into
 * logical lines (an entry and its continuation lines) within
 * MASTER_CF_LINE_MAX bytes, split into columns with strlist_split (which
 * handles the "{ }" grouping), and every column is checked against the
 * exact grammar of master(5). A bad entry is reported once (the first
 * problem found), dropped, and parsing goes on; nothing in the text can
 * make the parser allocate without bound or loop without end.
 *
 * What it trusts: the system's services database (getservbyname) for
 * inet port names, with a built-in fallback for the mail ports so a
 * system without /etc/services still starts.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "master_cf.h"
#include "strlist.h"
#include "xalloc.h"

/* The columns before the command, and the command itself. */
#define MASTER_CF_COLUMNS 8

/* At most this many bytes of a bad token are echoed in a message. */
#define ECHO_MAX 80

/* Longest inet port name ("submissions" and friends). */
#define PORT_NAME_MAX 64

static const char *const type_names[] = {
    [MASTER_CF_INET] = "inet", [MASTER_CF_UNIX] = "unix", [MASTER_CF_UNIX_DGRAM] = "unix-dgram",
    [MASTER_CF_FIFO] = "fifo", [MASTER_CF_PASS] = "pass",
};
#define TYPE_COUNT (sizeof(type_names) / sizeof(type_names[0]))

/* Used when the services database does not know a mail port. */
static const struct {
	const char *name;
	unsigned port;
} builtin_ports[] = {
    {"smtp", 25}, {"submission", 587}, {"submissions", 465}, {"smtps", 465}, {"lmtp", 24},
};

/* The state of one master_cf_parse call. */
struct parser {
	const char *path;
	struct master_cf *table;
	int problems;
	struct dstring logical; /* the entry being collected */
	unsigned first_line;    /* its first line; 0: none yet */
	bool is_skipping;       /* it already failed: absorb its continuations */
	bool is_full;           /* MASTER_CF_ENTRY_MAX reached: stop */
};

static int
echo_length(const char *text)
{
	size_t length = strlen(text);

	return length > ECHO_MAX ? ECHO_MAX : (int)length;
}

static void report(struct parser *parser, unsigned line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct parser *parser, unsigned line, const char *format, ...)
{
	struct dstring reason;
	va_list args;

	dstring_init(&reason, DSTRING_NO_LIMIT);
	va_start(args, format);
	dstring_append_vprintf(&reason, format, args);
	va_end(args);
	log_error("%s, line %u: %s", parser->path, line, dstring_str(&reason));
	dstring_fini(&reason);
	parser->problems++;
}

static void set_error(struct dstring *error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(struct dstring *error, const char *format, ...)
{
	va_list args;

	if (error == NULL)
		return;
	dstring_reset(error);
	va_start(args, format);
	dstring_append_vprintf(error, format, args);
	va_end(args);
}

/* Table and index. */

void
master_cf_init(struct master_cf *table)
{
	table->entries = NULL;
	table->count = 0;
	table->capacity = 0;
	table->index = NULL;
	table->index_size = 0;
}

static void
entry_fini(struct master_cf_entry *entry)
{
	free(entry->service);
	free(entry->command);
	strlist_fini(&entry->args);
	for (size_t i = 0; i < entry->override_count; i++) {
		free(entry->overrides[i].name);
		free(entry->overrides[i].value);
	}
	free(entry->overrides);
	free(entry->inet_host);
	free(entry->origin_path);
}

void
master_cf_fini(struct master_cf *table)
{
	for (size_t i = 0; i < table->count; i++)
		entry_fini(&table->entries[i]);
	free(table->entries);
	free(table->index);
	master_cf_init(table);
}

/*
 * The index key of a service. An inet service is its address, host and
 * port number, so "smtp" and "25" (or "[::1]:25" and "::1:smtp") are the
 * same service, as they are to bind(2).
 */
struct service_key {
	enum master_cf_type type;
	const char *name; /* inet: the host */
	unsigned port;    /* inet only */
};

static struct service_key
entry_key(const struct master_cf_entry *entry)
{
	struct service_key key;

	key.type = entry->type;
	key.name = entry->type == MASTER_CF_INET ? entry->inet_host : entry->service;
	key.port = entry->type == MASTER_CF_INET ? entry->inet_port : 0;
	return key;
}

static size_t
hash_key(const struct service_key *key)
{
	uint64_t hash = 14695981039346656037u; /* FNV-1a */

	for (const unsigned char *byte = (const unsigned char *)key->name; *byte; byte++)
		hash = (hash ^ *byte) * 1099511628211u;
	hash = (hash ^ (unsigned)key->type) * 1099511628211u;
	hash = (hash ^ key->port) * 1099511628211u;
	return (size_t)hash;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
index_slot(const struct master_cf *table, const struct service_key *key)
{
	size_t mask = table->index_size - 1;
	size_t slot = hash_key(key) & mask;

	for (;;) {
		size_t held = table->index[slot];
		struct service_key other;

		if (held == 0)
			return slot;
		other = entry_key(&table->entries[held - 1]);
		if (other.type == key->type && other.port == key->port &&
		    strcmp(other.name, key->name) == 0)
			return slot;
		slot = (slot + 1) & mask;
	}
}

static void
index_add(struct master_cf *table, size_t entry_index)
{
	struct service_key key;

	/* Keep the load under one half so probes stay short and end. */
	if ((table->count + 1) * 2 > table->index_size) {
		size_t size = table->index_size ? table->index_size * 2 : 64;

		while ((table->count + 1) * 2 > size)
			size *= 2;
		free(table->index);
		table->index = xcalloc(size, sizeof(*table->index));
		table->index_size = size;
		for (size_t i = 0; i < table->count; i++) {
			key = entry_key(&table->entries[i]);
			table->index[index_slot(table, &key)] = i + 1;
		}
	}
	key = entry_key(&table->entries[entry_index]);
	table->index[index_slot(table, &key)] = entry_index + 1;
}

static const struct master_cf_entry *
find_key(const struct master_cf *table, const struct service_key *key)
{
	size_t held;

	if (table->index_size == 0)
		return NULL;
	held = table->index[index_slot(table, key)];
	return held ? &table->entries[held - 1] : NULL;
}

const struct master_cf_entry *
master_cf_find(const struct master_cf *table, const char *service, enum master_cf_type type)
{
	const struct master_cf_entry *found;
	struct service_key key;
	char *host;

	key.type = type;
	key.name = service;
	key.port = 0;
	if (type != MASTER_CF_INET)
		return find_key(table, &key);
	if (master_cf_inet_split(service, &host, &key.port, NULL) < 0)
		return NULL;
	key.name = host;
	found = find_key(table, &key);
	free(host);
	return found;
}

const char *
master_cf_type_name(enum master_cf_type type)
{
	if ((unsigned)type >= TYPE_COUNT)
		log_panic("master_cf_type_name: bad type %d", (int)type);
	return type_names[type];
}

int
master_cf_type_parse(const char *name, enum master_cf_type *type)
{
	for (size_t i = 0; i < TYPE_COUNT; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*type = (enum master_cf_type)i;
			return 0;
		}
	}
	return -1;
}

/* Column checks: each returns 0, or -1 with a reason in error. */

static bool
is_name_char(unsigned char byte)
{
	return isascii(byte) && (isalnum(byte) || byte == '.' || byte == '_' || byte == '-');
}

/* A socket or program name: [A-Za-z0-9._-]+, not "." or "..". */
static int
check_plain_name(const char *what, const char *name, struct dstring *error)
{
	size_t length = strlen(name);

	if (length == 0) {
		set_error(error, "empty %s", what);
		return -1;
	}
	if (length > MASTER_CF_NAME_MAX) {
		set_error(error, "%s longer than %d bytes", what, MASTER_CF_NAME_MAX);
		return -1;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		set_error(error, "bad %s \"%s\"", what, name);
		return -1;
	}
	for (size_t i = 0; i < length; i++) {
		if (!is_name_char((unsigned char)name[i])) {
			set_error(error, "bad %s \"%.*s\": only letters, digits, '.', '_' and '-'",
			          what, echo_length(name), name);
			return -1;
		}
	}
	return 0;
}

static int
parse_port(const char *text, unsigned *port, struct dstring *error)
{
	size_t length = strlen(text);
	struct servent *entry;

	if (length == 0) {
		set_error(error, "missing port");
		return -1;
	}
	if (strspn(text, "0123456789") == length) {
		unsigned long value = 0;

		for (size_t i = 0; i < length && value <= 65535; i++)
			value = value * 10 + (unsigned long)(text[i] - '0');
		if (value == 0 || value > 65535) {
			set_error(error, "port %.*s out of range 1-65535", echo_length(text), text);
			return -1;
		}
		*port = (unsigned)value;
		return 0;
	}
	if (length > PORT_NAME_MAX) {
		set_error(error, "port name longer than %d bytes", PORT_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < length; i++) {
		if (!is_name_char((unsigned char)text[i])) {
			set_error(error, "bad port \"%.*s\"", echo_length(text), text);
			return -1;
		}
	}
	if ((entry = getservbyname(text, "tcp")) != NULL) {
		*port = ntohs((uint16_t)entry->s_port);
		if (*port != 0)
			return 0;
	}
	for (size_t i = 0; i < sizeof(builtin_ports) / sizeof(builtin_ports[0]); i++) {
		if (strcmp(text, builtin_ports[i].name) == 0) {
			*port = builtin_ports[i].port;
			return 0;
		}
	}
	set_error(error, "unknown port name \"%s\"", text);
	return -1;
}

static bool
is_host_char(unsigned char byte)
{
	/* Host names, IPv4 and IPv6 addresses (with a %scope). */
	return isascii(byte) && (isalnum(byte) || byte == '.' || byte == '-' || byte == '_' ||
	                         byte == ':' || byte == '%');
}

int
master_cf_inet_split(const char *service, char **host, unsigned *port, struct dstring *error)
{
	const char *host_start, *port_text;
	size_t host_length;

	*host = NULL;
	if (service[0] == '[') {
		const char *close = strchr(service, ']');

		if (close == NULL) {
			set_error(error, "missing ']' in \"%.*s\"", echo_length(service), service);
			return -1;
		}
		if (close[1] != ':') {
			set_error(error, "expected \"[host]:port\", not \"%.*s\"",
			          echo_length(service), service);
			return -1;
		}
		host_start = service + 1;
		host_length = (size_t)(close - host_start);
		port_text = close + 2;
		if (host_length == 0) {
			set_error(error, "empty host in \"%.*s\"", echo_length(service), service);
			return -1;
		}
	} else {
		/* The last ':' ends the host, so "::1:smtp" works as in Postfix. */
		const char *colon = strrchr(service, ':');

		host_start = service;
		host_length = colon ? (size_t)(colon - service) : 0;
		port_text = colon ? colon + 1 : service;
	}
	if (host_length > MASTER_CF_HOST_MAX) {
		set_error(error, "host longer than %d bytes", MASTER_CF_HOST_MAX);
		return -1;
	}
	for (size_t i = 0; i < host_length; i++) {
		if (!is_host_char((unsigned char)host_start[i])) {
			set_error(error, "bad host \"%.*s\"", (int)host_length, host_start);
			return -1;
		}
	}
	if (parse_port(port_text, port, error) < 0)
		return -1;
	*host = xstrndup(host_start, host_length);
	return 0;
}

static int
parse_service(struct master_cf_entry *entry, const char *service, struct dstring *error)
{
	if (entry->type == MASTER_CF_INET) {
		if (service[0] == '\0') {
			set_error(error, "empty service name");
			return -1;
		}
		if (master_cf_inet_split(service, &entry->inet_host, &entry->inet_port, error) < 0)
			return -1;
		return 0;
	}
	if (strchr(service, '/') != NULL) {
		set_error(error,
		          "service name \"%.*s\" must not hold '/': it names one socket "
		          "in public/ or private/",
		          echo_length(service), service);
		return -1;
	}
	return check_plain_name("service name", service, error);
}

static int
parse_bool(const char *column, const char *text, bool default_value, unsigned default_bit,
           bool *value, unsigned *default_columns, struct dstring *error)
{
	if (strcmp(text, "-") == 0) {
		*value = default_value;
		*default_columns |= default_bit;
	} else if (strcmp(text, "y") == 0) {
		*value = true;
	} else if (strcmp(text, "n") == 0) {
		*value = false;
	} else {
		set_error(error, "bad %s column \"%.*s\": expected y, n or -", column,
		          echo_length(text), text);
		return -1;
	}
	return 0;
}

/* Digits within [0, max]; the whole text must be digits. */
static int
parse_number(const char *text, size_t length, long max, long *value)
{
	long result = 0;

	if (length == 0 || strspn(text, "0123456789") < length)
		return -1;
	for (size_t i = 0; i < length; i++) {
		result = result * 10 + (text[i] - '0');
		if (result > max)
			return -1;
	}
	*value = result;
	return 0;
}

static int
parse_wakeup(struct master_cf_entry *entry, const char *text, struct dstring *error)
{
	size_t length = strlen(text);
	long value;

	if (strcmp(text, "-") == 0) {
		entry->default_columns |= MASTER_CF_COLUMN_WAKEUP;
		return 0;
	}
	if (length > 0 && text[length - 1] == '?') {
		entry->wakeup_only_if_used = true;
		length--;
	}
	if (parse_number(text, length, MASTER_CF_WAKEUP_MAX, &value) < 0) {
		set_error(error,
		          "bad wakeup column \"%.*s\": expected seconds (0-%d), "
		          "optionally followed by '?', or -",
		          echo_length(text), text, MASTER_CF_WAKEUP_MAX);
		return -1;
	}
	entry->wakeup_seconds = (unsigned)value;
	return 0;
}

static int
parse_process_limit(struct master_cf_entry *entry, const char *text, struct dstring *error)
{
	long value;

	if (strcmp(text, "-") == 0) {
		entry->max_process = MASTER_CF_PROCESS_LIMIT_DEFAULT;
		entry->default_columns |= MASTER_CF_COLUMN_PROCESS_LIMIT;
		return 0;
	}
	if (parse_number(text, strlen(text), MASTER_CF_PROCESS_LIMIT_MAX, &value) < 0) {
		set_error(error, "bad maxproc column \"%.*s\": expected a number (0-%d) or -",
		          echo_length(text), text, MASTER_CF_PROCESS_LIMIT_MAX);
		return -1;
	}
	entry->max_process = (int)value;
	return 0;
}

static bool
is_white(char byte)
{
	return byte == ' ' || byte == '\t';
}

/* "name=value" after "-o": add it to overrides and args. */
static int
add_override(struct master_cf_entry *entry, const char *setting, struct dstring *error)
{
	const char *equals = strchr(setting, '=');
	const char *name = setting, *name_end, *value, *value_end;
	struct master_cf_override *override;

	if (equals == NULL) {
		set_error(error, "-o \"%.*s\": expected name=value", echo_length(setting), setting);
		return -1;
	}
	/* White space around '=' and inside "{ }" is not part of either. */
	while (is_white(*name))
		name++;
	name_end = equals;
	while (name_end > name && is_white(name_end[-1]))
		name_end--;
	value = equals + 1;
	while (is_white(*value))
		value++;
	value_end = value + strlen(value);
	while (value_end > value && is_white(value_end[-1]))
		value_end--;
	if (name_end == name) {
		set_error(error, "-o \"%.*s\": missing parameter name", echo_length(setting),
		          setting);
		return -1;
	}
	for (const char *cursor = name; cursor < name_end; cursor++) {
		unsigned char byte = (unsigned char)*cursor;

		if (!isascii(byte) || !(isalnum(byte) || byte == '_')) {
			set_error(
			    error, "-o \"%.*s\": bad parameter name \"%.*s\"", echo_length(setting),
			    setting,
			    (int)((name_end - name) > ECHO_MAX ? ECHO_MAX : (name_end - name)),
			    name);
			return -1;
		}
	}
	entry->overrides =
	    xreallocarray(entry->overrides, entry->override_count + 1, sizeof(*entry->overrides));
	override = &entry->overrides[entry->override_count++];
	override->name = xstrndup(name, (size_t)(name_end - name));
	override->value = xstrndup(value, (size_t)(value_end - value));

	strlist_append(&entry->args, "-o");
	{
		struct dstring joined;

		dstring_init(&joined, DSTRING_NO_LIMIT);
		dstring_append_printf(&joined, "%s=%s", override->name, override->value);
		strlist_append(&entry->args, dstring_str(&joined));
		dstring_fini(&joined);
	}
	return 0;
}

/*
 * The arguments after the command. Leading options ("-v", "-D", "-o ...")
 * end at the first argument that is not an option, or "--", as with
 * getopt; a "-o" after that is an argument like any other (pipe's argv=).
 */
static int
parse_arguments(struct master_cf_entry *entry, char **tokens, size_t count, struct dstring *error)
{
	bool is_option = true;

	for (size_t i = 0; i < count; i++) {
		const char *token = tokens[i];
		const char *letter_o;
		char *setting;
		int status;

		if (is_option && (token[0] != '-' || token[1] == '\0' || strcmp(token, "--") == 0))
			is_option = false;
		if (!is_option) {
			strlist_append(&entry->args, token);
			continue;
		}
		/* Option letters, as getopt reads them, up to an 'o' and its value. */
		for (letter_o = token + 1; *letter_o != '\0' && *letter_o != 'o'; letter_o++) {
			if (!isascii((unsigned char)*letter_o) ||
			    !isalnum((unsigned char)*letter_o)) {
				set_error(error, "bad option \"%.*s\"", echo_length(token), token);
				return -1;
			}
		}
		if (*letter_o == '\0') {
			strlist_append(&entry->args, token);
			continue;
		}
		/* "-vo name=value" is "-v -o name=value", as getopt reads it. */
		if (letter_o > token + 1)
			strlist_append_n(&entry->args, token, (size_t)(letter_o - token));
		if (letter_o[1] != '\0') {
			/* "-oname=value", "-o{ name = value }" */
			setting = strlist_strip_group(letter_o + 1);
			if (setting == NULL) {
				set_error(error, "bad { } grouping in \"%.*s\"", echo_length(token),
				          token);
				return -1;
			}
		} else if (i + 1 < count) {
			setting = xstrdup(tokens[++i]);
		} else {
			set_error(error, "-o without name=value");
			return -1;
		}
		status = add_override(entry, setting, error);
		free(setting);
		if (status < 0)
			return -1;
	}
	return 0;
}

/* Parse one logical line into entry; 0, or -1 with the reason in error. */
static int
parse_columns(struct master_cf_entry *entry, const char *text, struct dstring *error)
{
	struct strlist tokens;
	char **column;
	int status = -1;

	strlist_init(&tokens);
	if (strlist_split(&tokens, text, " \t", error) < 0) {
		struct dstring reason;

		dstring_init(&reason, DSTRING_NO_LIMIT);
		dstring_printf(&reason, "bad { } grouping: %s", dstring_str(error));
		dstring_set(error, dstring_str(&reason));
		dstring_fini(&reason);
		goto done;
	}
	column = tokens.items;
	if (tokens.count < MASTER_CF_COLUMNS) {
		set_error(error,
		          "expected at least 8 columns (service type private unpriv chroot "
		          "wakeup maxproc command), found %zu",
		          tokens.count);
		goto done;
	}
	if (master_cf_type_parse(column[1], &entry->type) < 0) {
		set_error(error,
		          "unknown service type \"%.*s\": expected inet, unix, unix-dgram, "
		          "fifo or pass",
		          echo_length(column[1]), column[1]);
		goto done;
	}
	if (parse_service(entry, column[0], error) < 0)
		goto done;
	entry->service = xstrdup(column[0]);
	if (parse_bool("private", column[2], true, MASTER_CF_COLUMN_PRIVATE, &entry->is_private,
	               &entry->default_columns, error) < 0 ||
	    parse_bool("unpriv", column[3], true, MASTER_CF_COLUMN_UNPRIVILEGED,
	               &entry->is_unprivileged, &entry->default_columns, error) < 0 ||
	    parse_bool("chroot", column[4], false, MASTER_CF_COLUMN_CHROOT, &entry->is_chroot,
	               &entry->default_columns, error) < 0)
		goto done;
	if (entry->type == MASTER_CF_INET && entry->is_private) {
		if (!(entry->default_columns & MASTER_CF_COLUMN_PRIVATE)) {
			set_error(error, "an inet service cannot be private");
			goto done;
		}
		/* "-" on an inet service: the only possible value. */
		entry->is_private = false;
	}
	if (parse_wakeup(entry, column[5], error) < 0 ||
	    parse_process_limit(entry, column[6], error) < 0 ||
	    check_plain_name("command", column[7], error) < 0)
		goto done;
	entry->command = xstrdup(column[7]);
	if (parse_arguments(entry, column + MASTER_CF_COLUMNS, tokens.count - MASTER_CF_COLUMNS,
	                    error) < 0)
		goto done;
	status = 0;
done:
	strlist_fini(&tokens);
	return status;
}

static void
parse_entry(struct parser *parser, const char *text, unsigned line)
{
	struct master_cf *table = parser->table;
	struct master_cf_entry entry;
	const struct master_cf_entry *first;
	struct service_key key;
	struct dstring error;

	memset(&entry, 0, sizeof(entry));
	strlist_init(&entry.args);
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (parse_columns(&entry, text, &error) < 0) {
		report(parser, line, "%s", dstring_str(&error));
		goto drop;
	}
	key = entry_key(&entry);
	if ((first = find_key(table, &key)) != NULL) {
		struct dstring where;

		dstring_init(&where, DSTRING_NO_LIMIT);
		if (strcmp(first->service, entry.service) != 0)
			dstring_append_printf(&where, " as %.*s/%s", echo_length(first->service),
			                      first->service, master_cf_type_name(first->type));
		if (strcmp(first->origin_path, parser->path) != 0)
			dstring_append_printf(&where, " at %s, line %u", first->origin_path,
			                      first->origin_line);
		else
			dstring_append_printf(&where, " at line %u", first->origin_line);
		report(parser, line, "duplicate service %.*s/%s: first defined%s",
		       echo_length(entry.service), entry.service, master_cf_type_name(entry.type),
		       dstring_str(&where));
		dstring_fini(&where);
		goto drop;
	}
	if (table->count >= MASTER_CF_ENTRY_MAX) {
		report(parser, line, "more than %d entries; ignoring the rest of the file",
		       MASTER_CF_ENTRY_MAX);
		parser->is_full = true;
		goto drop;
	}
	entry.origin_path = xstrdup(parser->path);
	entry.origin_line = line;
	if (table->count == table->capacity) {
		table->capacity = table->capacity ? table->capacity * 2 : 32;
		table->entries =
		    xreallocarray(table->entries, table->capacity, sizeof(*table->entries));
	}
	table->entries[table->count] = entry;
	index_add(table, table->count);
	table->count++;
	dstring_fini(&error);
	return;
drop:
	entry_fini(&entry);
	dstring_fini(&error);
}

/* Logical lines. */

static void
finish_logical(struct parser *parser)
{
	if (parser->first_line != 0 && !parser->is_skipping)
		parse_entry(parser, dstring_str(&parser->logical), parser->first_line);
	parser->first_line = 0;
	parser->is_skipping = false;
	dstring_reset(&parser->logical);
}

/* The first NUL or control character (other than tab) in line, or NULL. */
static const char *
find_control(const char *line, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)line[i];

		if ((byte < 0x20 && byte != '\t') || byte == 0x7f)
			return line + i;
	}
	return NULL;
}

static void
report_control(struct parser *parser, unsigned line, const char *byte)
{
	if (*byte == '\0')
		report(parser, line, "NUL byte");
	else
		report(parser, line, "control character 0x%02x", (unsigned)(unsigned char)*byte);
}

static void
append_logical(struct parser *parser, const char *line, size_t length)
{
	if ((dstring_length(&parser->logical) > 0 &&
	     dstring_append_char(&parser->logical, ' ') < 0) ||
	    dstring_append(&parser->logical, line, length) < 0) {
		report(parser, parser->first_line, "entry longer than %d bytes",
		       MASTER_CF_LINE_MAX);
		parser->is_skipping = true;
	}
}

static void
handle_line(struct parser *parser, const char *line, size_t length, unsigned line_number)
{
	size_t blank = 0;
	const char *control;

	while (blank < length && is_white(line[blank]))
		blank++;
	if (blank == length)
		return;
	control = find_control(line, length);
	if (line[blank] == '#') {
		if (control != NULL)
			report_control(parser, line_number, control);
		return;
	}
	if (blank > 0) {
		if (parser->first_line == 0) {
			report(parser, line_number,
			       "line starts with white space but continues no entry");
			parser->first_line = line_number;
			parser->is_skipping = true;
			return;
		}
		if (parser->is_skipping)
			return;
		if (control != NULL) {
			report_control(parser, line_number, control);
			parser->is_skipping = true;
			return;
		}
		append_logical(parser, line, length);
		return;
	}
	finish_logical(parser);
	parser->first_line = line_number;
	if (control != NULL) {
		report_control(parser, line_number, control);
		parser->is_skipping = true;
		return;
	}
	append_logical(parser, line, length);
}

int
master_cf_parse(const char *text, size_t length, const char *origin_path, struct master_cf *table)
{
	struct parser parser;
	size_t offset = 0;
	unsigned line_number = 0;

	parser.path = origin_path;
	parser.table = table;
	parser.problems = 0;
	parser.first_line = 0;
	parser.is_skipping = false;
	parser.is_full = false;
	dstring_init(&parser.logical, MASTER_CF_LINE_MAX);
	while (offset < length && !parser.is_full) {
		const char *line = text + offset;
		const char *newline = memchr(line, '\n', length - offset);
		size_t line_length = newline ? (size_t)(newline - line) : length - offset;

		offset += line_length + (newline ? 1 : 0);
		if (line_number < UINT_MAX)
			line_number++;
		/* A file edited on Windows: CR LF ends a line too. */
		if (line_length > 0 && line[line_length - 1] == '\r')
			line_length--;
		handle_line(&parser, line, line_length, line_number);
	}
	if (!parser.is_full)
		finish_logical(&parser);
	dstring_fini(&parser.logical);
	return parser.problems;
}

int
master_cf_read(const char *path, struct master_cf *table)
{
	struct dstring text;
	size_t chunk_size = 64 * 1024;
	char *chunk;
	int fd, problems;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_error("open %s: %s", path, strerror(errno));
		return 1;
	}
	dstring_init(&text, MASTER_CF_FILE_MAX);
	chunk = xmalloc(chunk_size);
	for (;;) {
		ssize_t count = read(fd, chunk, chunk_size);

		if (count < 0 && errno == EINTR)
			continue;
		if (count < 0) {
			log_error("read %s: %s", path, strerror(errno));
			problems = 1;
			goto done;
		}
		if (count == 0)
			break;
		if (dstring_append(&text, chunk, (size_t)count) < 0) {
			log_error("%s: file larger than %d bytes", path, MASTER_CF_FILE_MAX);
			problems = 1;
			goto done;
		}
	}
	problems = master_cf_parse(dstring_str(&text), dstring_length(&text), path, table);
done:
	free(chunk);
	dstring_fini(&text);
	close(fd);
	return problems;
}
