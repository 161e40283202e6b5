/*
 * anvil_table - the anvil daemon's counters: per (service, client address),
 * the connections open now, and the connections, messages, recipients and
 * AUTH commands in the current rate window.
 *
 * Bounded: at most ANVIL_ENTRIES_MAX entries. An entry with no open
 * connection is idle; idle entries are kept (their rate still counts)
 * until their rate window has passed (anvil_table_expire) or room is
 * needed for a new client, when the longest idle one goes first. Entries
 * with open connections are never evicted (they are bounded by the
 * connections anvil holds); when every entry is busy, a new client is not
 * counted (anvil_table_connect returns NULL).
 *
 * The hash uses a per-process random seed, so addresses chosen by an
 * attacker cannot all land in one bucket.
 */
#ifndef HIKYAKU_ANVIL_TABLE_H
#define HIKYAKU_ANVIL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define ANVIL_ENTRIES_MAX 20000

struct anvil_table;
struct anvil_entry;

/* rate_unit_ms: the length of a rate window ($anvil_rate_time_unit). */
struct anvil_table *anvil_table_new(int64_t rate_unit_ms);
void anvil_table_free(struct anvil_table *table);

/*
 * anvil_table_connect: one more connection now (ms, monotonic) from
 * address to service. Returns its entry (for anvil_table_disconnect) with
 * *count and *rate including this connection, or NULL when the table is
 * full of busy entries.
 */
struct anvil_entry *anvil_table_connect(struct anvil_table *table, const char *service,
                                        const char *address, int64_t now, unsigned *count,
                                        unsigned *rate);

/* anvil_table_disconnect: one connection of entry ended; *count and *rate
 * get what remains. */
void anvil_table_disconnect(struct anvil_table *table, struct anvil_entry *entry, int64_t now,
                            unsigned *count, unsigned *rate);

/* The events counted per entry besides connections (Postfix's anvil). */
enum anvil_event {
	ANVIL_EVENT_MESSAGE,   /* MAIL FROM: smtpd_client_message_rate_limit */
	ANVIL_EVENT_RECIPIENT, /* RCPT TO: smtpd_client_recipient_rate_limit */
	ANVIL_EVENT_AUTH,      /* AUTH: smtpd_client_auth_rate_limit */
	ANVIL_EVENTS,
};

/*
 * anvil_table_event: one more event of kind now from entry's client (it
 * holds a connection); *rate gets the events of that kind in the current
 * window, this one included. The window is the connections': when it
 * restarts, every rate does.
 */
void anvil_table_event(struct anvil_table *table, struct anvil_entry *entry, enum anvil_event kind,
                       int64_t now, unsigned *rate);

/* anvil_table_matches: is entry the one for (service, address)? */
int anvil_table_matches(const struct anvil_entry *entry, const char *service, const char *address);

/* anvil_table_expire: drop idle entries whose rate window has passed. */
void anvil_table_expire(struct anvil_table *table, int64_t now);

/* The busiest moments since the last anvil_table_reset_statistics, for
 * the periodic "statistics:" log lines. */
struct anvil_statistics {
	unsigned max_count;
	char max_count_key[2 * 256 + 2]; /* "service:address" */
	int64_t max_count_time;          /* wall clock, seconds */
	unsigned max_rate;
	char max_rate_key[2 * 256 + 2];
	int64_t max_rate_time;
	size_t max_entries;
	int64_t max_entries_time;
	/* Per enum anvil_event. */
	unsigned max_event_rate[ANVIL_EVENTS];
	char max_event_key[ANVIL_EVENTS][2 * 256 + 2];
	int64_t max_event_time[ANVIL_EVENTS];
};

const struct anvil_statistics *anvil_table_statistics(const struct anvil_table *table);
void anvil_table_reset_statistics(struct anvil_table *table);
size_t anvil_table_size(const struct anvil_table *table);

#endif
