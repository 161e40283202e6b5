/*
 * qmgr - the queue manager (docs/qmgr.md).
 *
 * A SERVER_TRIGGER daemon with one process (master.cf: `qmgr unix n - n
 * 300 1 qmgr`), event-driven: everything it does runs on the skeleton's
 * event loop. Triggers (one byte each, any combination):
 *   I  scan incoming/ (cleanup, after each flush that queued mail)
 *   D  scan deferred/ now, ignoring retry times (`hikyaku flush`: "FDI")
 *   F  forget dead destinations: try them again now, and lift
 *      defer_transports for the messages of the next scans of incoming/
 *      and deferred/ (Postfix's QMGR_FLUSH_DFXP)
 *   W  the master's wakeup: scan incoming/, and deferred/ when due
 * It also scans active/ when it starts (messages a previous qmgr left
 * behind: taken up again as they are), incoming/ at start, and deferred/
 * every queue_run_delay. Scans are bounded by qmgr_message_active_limit
 * and qmgr_message_recipient_limit; a scan cut short is resumed when
 * messages finish.
 *
 * What it trusts: nothing in the queue files (strict reader, corrupt/),
 * nothing from the agents (lib/delivery.h's strict codec).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "qmgr.h"
#include "queue_dir.h"
#include "resolve.h"
#include "server.h"
#include "strlist.h"

struct event_loop *qmgr_loop;
struct resolve *qmgr_resolve;

/* Work waiting for the scheduler. */
static bool must_scan_active = true;
static bool must_scan_incoming = true;
static bool must_scan_deferred = true;
static bool is_deferred_flush; /* ignore retry times in the deferred scan */
/* After "F": the messages of the next complete scan lift defer_transports. */
static bool is_incoming_flushed;
static bool is_deferred_flushed;
static bool has_kick;
static int64_t next_deferred_scan_ms;

static void run(void *context);

void
qmgr_kick(void)
{
	if (has_kick || qmgr_loop == NULL)
		return;
	has_kick = true;
	event_timer(qmgr_loop, 0, run, NULL);
}

/* The IDs of queue_name, up to limit of them (a scan reads names only). */
static int
list_queue(const char *queue_name, struct strlist *ids, size_t limit)
{
	struct dstring error;
	struct queue_dir_scan *scan;
	const char *id;

	dstring_init(&error, 512);
	scan = queue_dir_scan_open(NULL, queue_name, &error);
	if (scan == NULL) {
		log_warning("scan %s: %s", queue_name, error.data);
		dstring_fini(&error);
		return -1;
	}
	while (ids->count < limit && (id = queue_dir_scan_next(scan)) != NULL)
		strlist_append(ids, id);
	queue_dir_scan_close(scan);
	dstring_fini(&error);
	return 0;
}

/*
 * Take what the limits allow from queue_name; true when everything in it
 * was seen. With to_active, each file is renamed to active/ first.
 */
static bool
scan_queue(const char *queue_name, bool check_time, bool is_flushed)
{
	bool is_active = strcmp(queue_name, QUEUE_ACTIVE) == 0;
	bool is_deferred = strcmp(queue_name, QUEUE_DEFERRED) == 0;
	time_t now = time(NULL);
	struct strlist ids;
	size_t taken = 0;
	bool is_complete = true;

	if (!qmgr_message_has_room())
		return false;
	strlist_init(&ids);
	/* Bounded: no more names than messages we may still take, plus those skipped. */
	if (list_queue(queue_name, &ids, 100000) != 0) {
		strlist_fini(&ids);
		return true;
	}
	if (ids.count == 100000)
		is_complete = false;
	for (size_t i = 0; i < ids.count; i++) {
		const char *id = ids.items[i];

		if (!qmgr_message_has_room()) {
			is_complete = false;
			break;
		}
		if (is_active) {
			/* Left by an earlier qmgr, or already ours. */
			if (qmgr_message_is_loaded(id))
				continue;
			qmgr_message_take(QUEUE_ACTIVE, id, false, false);
			taken++;
			continue;
		}
		if (is_deferred && check_time) {
			struct dstring path;
			struct stat info;
			int status;

			dstring_init(&path, PATH_MAX);
			queue_dir_path(&path, NULL, QUEUE_DEFERRED, id);
			status = stat(path.data, &info);
			dstring_fini(&path);
			if (status != 0 || info.st_mtime > now)
				continue;
		}
		if (qmgr_message_move(queue_name, QUEUE_ACTIVE, id) != 0)
			continue;
		if (is_deferred)
			qmgr_notice_remove_logs(id);
		qmgr_message_take(QUEUE_ACTIVE, id, is_deferred, is_flushed);
		taken++;
	}
	if (taken > 0)
		log_debug("scan %s: %zu messages taken", queue_name, taken);
	strlist_fini(&ids);
	return is_complete;
}

/* The scheduler: scans that are due, then new requests. */
static void
run(void *context)
{
	(void)context;
	has_kick = false;
	if (must_scan_active)
		must_scan_active = !scan_queue(QUEUE_ACTIVE, false, false);
	if (!must_scan_active && must_scan_incoming) {
		must_scan_incoming = !scan_queue(QUEUE_INCOMING, false, is_incoming_flushed);
		if (!must_scan_incoming)
			is_incoming_flushed = false;
	}
	if (!must_scan_active && event_now_ms() >= next_deferred_scan_ms) {
		must_scan_deferred = true;
		next_deferred_scan_ms = event_now_ms() + (int64_t)var_queue_run_delay * 1000;
	}
	if (!must_scan_active && must_scan_deferred) {
		must_scan_deferred =
		    !scan_queue(QUEUE_DEFERRED, !is_deferred_flush, is_deferred_flushed);
		if (!must_scan_deferred)
			is_deferred_flush = is_deferred_flushed = false;
	}
	qmgr_deliver_run();
	qmgr_deliver_collect();
}

/* A timer so that deferred/ is scanned every queue_run_delay even when idle. */
static void
deferred_timer(void *context)
{
	(void)context;
	qmgr_kick();
	event_timer(qmgr_loop, (int64_t)var_queue_run_delay * 1000 + 10, deferred_timer, NULL);
}

static void
qmgr_trigger(const char *data, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		switch (data[i]) {
		case 'I':
			must_scan_incoming = true;
			break;
		case 'D':
			must_scan_deferred = true;
			is_deferred_flush = true;
			break;
		case 'F':
			qmgr_deliver_forget_dead();
			is_incoming_flushed = is_deferred_flushed = true;
			break;
		case 'W':
			must_scan_incoming = true;
			break;
		default:
			break; /* unknown letters are ignored, as Postfix does */
		}
	}
	qmgr_kick();
}

static void
qmgr_pre_jail(int argc, char **argv)
{
	struct resolve_settings settings;

	(void)argc;
	(void)argv;
	/* qmgr is one long-lived process, as Postfix's: max_use does not retire it. */
	var_max_use = INT_MAX;
	qmgr_deliver_init();
	resolve_settings_from_config(&settings);
	settings.sender_dependent_relayhost_maps = var_sender_dependent_relayhost_maps;
	qmgr_resolve = resolve_open(&settings);
}

static void
qmgr_post_jail(void)
{
	struct dstring error;

	dstring_init(&error, 512);
	if (queue_dir_create(".", &error) != 0)
		log_warning("queue directories: %s", error.data);
	dstring_fini(&error);
	qmgr_loop = server_event_loop();
	next_deferred_scan_ms = 0;
	event_timer(qmgr_loop, (int64_t)var_queue_run_delay * 1000 + 10, deferred_timer, NULL);
	qmgr_kick();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .pre_jail = qmgr_pre_jail,
	    .post_jail = qmgr_post_jail,
	    .trigger = qmgr_trigger,
	};

	return server_main(argc, argv, "qmgr", SERVER_TRIGGER, &callbacks);
}
