/*
 * anvil_table - the bounded counters behind anvil (anvil_table.h).
 *
 * A chained hash table of entries, plus a doubly linked list of the idle
 * ones (no open connection) in the order they became idle: the head is
 * the first to evict. Rates use a fixed window, as Postfix's anvil does:
 * it starts at the first connection counted and restarts once
 * rate_unit_ms has passed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anvil_table.h"
#include "xalloc.h"

#define ANVIL_BUCKETS 8192 /* a power of two */

struct anvil_entry {
	char *service;
	char *address;
	uint32_t hash;
	unsigned count;                    /* connections open now */
	unsigned rate;                     /* connections in the window */
	unsigned event_rate[ANVIL_EVENTS]; /* messages, recipients, AUTHs in the window */
	int64_t window_start;              /* ms */
	struct anvil_entry *bucket_next;
	struct anvil_entry *idle_previous, *idle_next;
	bool is_idle;
};

struct anvil_table {
	struct anvil_entry *buckets[ANVIL_BUCKETS];
	struct anvil_entry *idle_head, *idle_tail;
	size_t size;
	int64_t rate_unit_ms;
	uint32_t seed;
	struct anvil_statistics statistics;
};

static uint32_t
hash_text(uint32_t hash, const char *text)
{
	/* FNV-1a, seeded. */
	for (; *text != '\0'; text++) {
		hash ^= (unsigned char)*text;
		hash *= 16777619U;
	}
	return hash;
}

static uint32_t
entry_hash(const struct anvil_table *table, const char *service, const char *address)
{
	uint32_t hash = hash_text(table->seed ^ 2166136261U, service);

	hash ^= 0xff; /* a separator no string holds */
	hash *= 16777619U;
	return hash_text(hash, address);
}

struct anvil_table *
anvil_table_new(int64_t rate_unit_ms)
{
	struct anvil_table *table = xcalloc(1, sizeof *table);

	table->rate_unit_ms = rate_unit_ms > 0 ? rate_unit_ms : 60000;
	table->seed = arc4random();
	return table;
}

static void
idle_unlink(struct anvil_table *table, struct anvil_entry *entry)
{
	if (!entry->is_idle)
		return;
	if (entry->idle_previous != NULL)
		entry->idle_previous->idle_next = entry->idle_next;
	else
		table->idle_head = entry->idle_next;
	if (entry->idle_next != NULL)
		entry->idle_next->idle_previous = entry->idle_previous;
	else
		table->idle_tail = entry->idle_previous;
	entry->idle_previous = entry->idle_next = NULL;
	entry->is_idle = false;
}

static void
idle_append(struct anvil_table *table, struct anvil_entry *entry)
{
	entry->idle_previous = table->idle_tail;
	entry->idle_next = NULL;
	if (table->idle_tail != NULL)
		table->idle_tail->idle_next = entry;
	else
		table->idle_head = entry;
	table->idle_tail = entry;
	entry->is_idle = true;
}

static void
entry_remove(struct anvil_table *table, struct anvil_entry *entry)
{
	struct anvil_entry **link = &table->buckets[entry->hash & (ANVIL_BUCKETS - 1)];

	while (*link != entry)
		link = &(*link)->bucket_next;
	*link = entry->bucket_next;
	idle_unlink(table, entry);
	free(entry->service);
	free(entry->address);
	free(entry);
	table->size--;
}

void
anvil_table_free(struct anvil_table *table)
{
	if (table == NULL)
		return;
	for (size_t i = 0; i < ANVIL_BUCKETS; i++) {
		while (table->buckets[i] != NULL)
			entry_remove(table, table->buckets[i]);
	}
	free(table);
}

int
anvil_table_matches(const struct anvil_entry *entry, const char *service, const char *address)
{
	return strcmp(entry->service, service) == 0 && strcmp(entry->address, address) == 0;
}

static void
format_key(char *key, size_t size, const struct anvil_entry *entry)
{
	snprintf(key, size, "%s:%s", entry->service, entry->address);
}

static void
note_statistics(struct anvil_table *table, const struct anvil_entry *entry)
{
	struct anvil_statistics *statistics = &table->statistics;
	int64_t now = (int64_t)time(NULL);

	if (entry->count > statistics->max_count) {
		statistics->max_count = entry->count;
		format_key(statistics->max_count_key, sizeof statistics->max_count_key, entry);
		statistics->max_count_time = now;
	}
	if (entry->rate > statistics->max_rate) {
		statistics->max_rate = entry->rate;
		format_key(statistics->max_rate_key, sizeof statistics->max_rate_key, entry);
		statistics->max_rate_time = now;
	}
	if (table->size > statistics->max_entries) {
		statistics->max_entries = table->size;
		statistics->max_entries_time = now;
	}
}

/* window_check: a window that has passed restarts, with every rate at 0. */
static void
window_check(const struct anvil_table *table, struct anvil_entry *entry, int64_t now)
{
	if (now - entry->window_start >= table->rate_unit_ms) {
		entry->window_start = now;
		entry->rate = 0;
		memset(entry->event_rate, 0, sizeof(entry->event_rate));
	}
}

struct anvil_entry *
anvil_table_connect(struct anvil_table *table, const char *service, const char *address,
                    int64_t now, unsigned *count, unsigned *rate)
{
	uint32_t hash = entry_hash(table, service, address);
	struct anvil_entry *entry = table->buckets[hash & (ANVIL_BUCKETS - 1)];

	/* Chains are short: the seed spreads keys, the size is bounded. */
	while (entry != NULL &&
	       (entry->hash != hash || !anvil_table_matches(entry, service, address)))
		entry = entry->bucket_next;
	if (entry == NULL) {
		if (table->size >= ANVIL_ENTRIES_MAX) {
			if (table->idle_head == NULL)
				return NULL;
			entry_remove(table, table->idle_head);
		}
		entry = xcalloc(1, sizeof *entry);
		entry->service = xstrdup(service);
		entry->address = xstrdup(address);
		entry->hash = hash;
		entry->window_start = now;
		entry->bucket_next = table->buckets[hash & (ANVIL_BUCKETS - 1)];
		table->buckets[hash & (ANVIL_BUCKETS - 1)] = entry;
		table->size++;
	}
	idle_unlink(table, entry);
	window_check(table, entry, now);
	if (entry->count < UINT32_MAX / 2)
		entry->count++;
	if (entry->rate < UINT32_MAX / 2)
		entry->rate++;
	note_statistics(table, entry);
	*count = entry->count;
	*rate = entry->rate;
	return entry;
}

void
anvil_table_disconnect(struct anvil_table *table, struct anvil_entry *entry, int64_t now,
                       unsigned *count, unsigned *rate)
{
	if (entry->count > 0)
		entry->count--;
	window_check(table, entry, now);
	if (entry->count == 0)
		idle_append(table, entry);
	*count = entry->count;
	*rate = entry->rate;
}

void
anvil_table_event(struct anvil_table *table, struct anvil_entry *entry, enum anvil_event kind,
                  int64_t now, unsigned *rate)
{
	struct anvil_statistics *statistics = &table->statistics;

	window_check(table, entry, now);
	if (entry->event_rate[kind] < UINT32_MAX / 2)
		entry->event_rate[kind]++;
	if (entry->event_rate[kind] > statistics->max_event_rate[kind]) {
		statistics->max_event_rate[kind] = entry->event_rate[kind];
		format_key(statistics->max_event_key[kind], sizeof statistics->max_event_key[kind],
		           entry);
		statistics->max_event_time[kind] = (int64_t)time(NULL);
	}
	*rate = entry->event_rate[kind];
}

void
anvil_table_expire(struct anvil_table *table, int64_t now)
{
	struct anvil_entry *entry = table->idle_head;

	/* The idle list holds at most ANVIL_ENTRIES_MAX entries. */
	while (entry != NULL) {
		struct anvil_entry *next = entry->idle_next;

		if (now - entry->window_start >= table->rate_unit_ms)
			entry_remove(table, entry);
		entry = next;
	}
}

const struct anvil_statistics *
anvil_table_statistics(const struct anvil_table *table)
{
	return &table->statistics;
}

void
anvil_table_reset_statistics(struct anvil_table *table)
{
	memset(&table->statistics, 0, sizeof table->statistics);
}

size_t
anvil_table_size(const struct anvil_table *table)
{
	return table->size;
}
