/*
 * fuzz_master_cf - master.cf parser and "postconf -M" output on hostile text.
 *
 * Beyond "never crash": every entry the parser accepts must show as text
 * (plain and folded) that parses back, with no problem, to the same entry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "log.h"
#include "master_cf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_entry(const struct master_cf_entry *a, const struct master_cf_entry *b)
{
	if (strcmp(a->service, b->service) != 0 || a->type != b->type ||
	    a->is_private != b->is_private || a->is_unprivileged != b->is_unprivileged ||
	    a->is_chroot != b->is_chroot || a->wakeup_seconds != b->wakeup_seconds ||
	    a->wakeup_only_if_used != b->wakeup_only_if_used || a->max_process != b->max_process ||
	    strcmp(a->command, b->command) != 0 || a->default_columns != b->default_columns ||
	    a->args.count != b->args.count || a->override_count != b->override_count ||
	    a->inet_port != b->inet_port || (a->inet_host == NULL) != (b->inet_host == NULL) ||
	    (a->inet_host != NULL && strcmp(a->inet_host, b->inet_host) != 0))
		return false;
	for (size_t i = 0; i < a->args.count; i++)
		if (strcmp(a->args.items[i], b->args.items[i]) != 0)
			return false;
	for (size_t i = 0; i < a->override_count; i++)
		if (strcmp(a->overrides[i].name, b->overrides[i].name) != 0 ||
		    strcmp(a->overrides[i].value, b->overrides[i].value) != 0)
			return false;
	return true;
}

static void
check_round_trip(const struct master_cf *table, unsigned flags)
{
	struct dstring shown;
	struct master_cf again;

	dstring_init(&shown, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < table->count; i++) {
		master_cf_format_entry(&table->entries[i], flags, &shown);
		dstring_append_char(&shown, '\n');
	}
	master_cf_init(&again);
	if (master_cf_parse(dstring_str(&shown), dstring_length(&shown), "shown", &again) != 0 ||
	    again.count != table->count)
		abort();
	for (size_t i = 0; i < table->count; i++)
		if (!same_entry(&table->entries[i], &again.entries[i]) ||
		    master_cf_find(&again, table->entries[i].service, table->entries[i].type) !=
		        &again.entries[i])
			abort();
	master_cf_fini(&again);
	dstring_fini(&shown);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_log_open;
	struct master_cf table;

	if (!is_log_open) {
		log_open("fuzz", 0);
		is_log_open = true;
	}
	master_cf_init(&table);
	master_cf_parse((const char *)data, size, "fuzz.cf", &table);
	check_round_trip(&table, 0);
	check_round_trip(&table, MASTER_CF_FORMAT_FOLD);
	master_cf_fini(&table);
	return 0;
}
