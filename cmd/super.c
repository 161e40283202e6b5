/*
 * hikyaku super - queue maintenance, like Postfix's postsuper(1).
 *
 *   hikyaku super -d ID|ALL [QUEUE]   delete messages
 *   hikyaku super -h ID|ALL [QUEUE]   put messages on hold
 *   hikyaku super -H ID|ALL [QUEUE]   release messages from hold
 *   hikyaku super -r ID|ALL [QUEUE]   requeue messages
 *
 * ID "-" reads IDs from standard input, one per line (postqueue -j | jq |
 * hikyaku super -d -). Options may repeat and combine; each names its own
 * ID. Without QUEUE, -d looks in hold, incoming, active and deferred; -h
 * in incoming, active and deferred; -H in hold; -r in hold, incoming,
 * active and deferred. maildrop and corrupt are only touched when named.
 *
 * Every change is a rename(2) or unlink(2) of the queue file (and of its
 * defer/bounce logs), so it is atomic; a message that moved on meanwhile
 * (delivered, taken by qmgr) is simply not found. Requeue moves the file
 * to incoming/ with its queue ID, its done marks and its content
 * unchanged, and removes its defer log: the queue manager takes it up as
 * new mail at once (it is triggered) and tries every pending recipient
 * now. Unlike Postfix, requeue does not send the message through cleanup
 * again (address rewriting is not redone); docs/queue_admin.md says why.
 *
 * Each message is logged to the mail log in Postfix's form ("ID: removed",
 * "ID: placed on hold", "ID: released from hold", "ID: requeued"), and a
 * summary goes to standard error ("postsuper: Deleted: 3 messages").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_id.h"
#include "recipient_log.h"
#include "strlist.h"
#include "xalloc.h"

enum action {
	ACTION_DELETE,
	ACTION_HOLD,
	ACTION_RELEASE,
	ACTION_REQUEUE,
	ACTION_COUNT,
};

static const char *const delete_queues[] = {QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE,
                                            QUEUE_DEFERRED, NULL};
static const char *const hold_queues[] = {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, NULL};
static const char *const release_queues[] = {QUEUE_HOLD, NULL};

static const struct {
	const char *summary; /* postsuper's words */
	const char *logged;
	const char *const *default_queues;
	const char *target; /* NULL: delete */
} actions[ACTION_COUNT] = {
    [ACTION_DELETE] = {"Deleted", "removed", delete_queues, NULL},
    [ACTION_HOLD] = {"Placed on hold", "placed on hold", hold_queues, QUEUE_HOLD},
    [ACTION_RELEASE] = {"Released from hold", "released from hold", release_queues, QUEUE_DEFERRED},
    [ACTION_REQUEUE] = {"Requeued", "requeued", delete_queues, QUEUE_INCOMING},
};

/* One request from the command line. */
struct request {
	enum action action;
	const char *id; /* an ID, "ALL" or "-" */
};

static bool
is_known_queue(const char *name)
{
	static const char *const known[] = {QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE,
	                                    QUEUE_DEFERRED, QUEUE_HOLD,     QUEUE_CORRUPT};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

/* Wake the queue manager for new mail in incoming/ (best effort). */
static void
trigger_queue_manager(void)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct dstring path;
	int fd;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s/qmgr", var_queue_directory, QUEUE_PUBLIC);
	if (dstring_length(&path) < sizeof(address.sun_path)) {
		memcpy(address.sun_path, dstring_str(&path), dstring_length(&path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
			(void)!write(fd, "I", 1);
		if (fd >= 0)
			close(fd);
	}
	dstring_fini(&path);
}

/*
 * Apply action to message id in queue_name. Returns 1 when done, 0 when
 * the message is not there, -1 on an error (logged).
 */
static int
apply(enum action action, const char *queue_name, const char *id)
{
	struct dstring from, to, error;
	const char *target = actions[action].target;
	int result = 0;

	if (target != NULL && strcmp(queue_name, target) == 0)
		return 0;
	dstring_init(&from, DSTRING_NO_LIMIT);
	dstring_init(&to, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	queue_dir_path(&from, var_queue_directory, queue_name, id);
	if (target == NULL) {
		if (unlink(dstring_str(&from)) == 0)
			result = 1;
		else if (errno != ENOENT)
			result = -1;
	} else {
		queue_dir_path(&to, var_queue_directory, target, id);
		if (rename(dstring_str(&from), dstring_str(&to)) == 0)
			result = 1;
		else if (errno != ENOENT)
			result = -1;
	}
	if (result < 0) {
		log_error("%s %s: %m", target == NULL ? "remove" : "rename", dstring_str(&from));
	} else if (result == 1) {
		/* The mail log only: standard error gets the summary. */
		log_open("postsuper", LOG_SINK_SYSLOG);
		log_info("%s: %s", id, actions[action].logged);
		log_open("postsuper", LOG_SINK_SYSLOG | LOG_SINK_STDERR);
		/* The logs: gone with the message; the reasons are stale after a requeue. */
		if (action == ACTION_DELETE &&
		    recipient_log_remove(var_queue_directory, RECIPIENT_LOG_BOUNCE, id, &error) < 0)
			log_warning("%s", dstring_str(&error));
		if ((action == ACTION_DELETE || action == ACTION_REQUEUE) &&
		    recipient_log_remove(var_queue_directory, RECIPIENT_LOG_DEFER, id, &error) < 0)
			log_warning("%s", dstring_str(&error));
	}
	dstring_fini(&from);
	dstring_fini(&to);
	dstring_fini(&error);
	return result;
}

/* Apply action to id in each of queues; the number done. */
static long
apply_id(enum action action, const char *id, const char *const *queues, bool *has_error)
{
	long done = 0;

	for (size_t q = 0; queues[q] != NULL; q++) {
		int result = apply(action, queues[q], id);
		if (result < 0)
			*has_error = true;
		else if (result > 0) {
			done++;
			break; /* an ID is in one queue at a time */
		}
	}
	return done;
}

static long
apply_all(enum action action, const char *const *queues, bool *has_error)
{
	struct dstring error;
	struct strlist ids;
	long done = 0;

	dstring_init(&error, 1024);
	for (size_t q = 0; queues[q] != NULL; q++) {
		struct queue_dir_scan *scan;
		const char *id;
		const char *one[] = {queues[q], NULL};

		/* Collect first: renaming while scanning could show a file twice. */
		strlist_init(&ids);
		scan = queue_dir_scan_open(var_queue_directory, queues[q], &error);
		if (scan == NULL) {
			log_error("%s", dstring_str(&error));
			*has_error = true;
			strlist_fini(&ids);
			continue;
		}
		while ((id = queue_dir_scan_next(scan)) != NULL)
			strlist_append(&ids, id);
		queue_dir_scan_close(scan);
		for (size_t i = 0; i < ids.count; i++)
			done += apply_id(action, ids.items[i], one, has_error);
		strlist_fini(&ids);
	}
	dstring_fini(&error);
	return done;
}

static long
apply_stdin(enum action action, const char *const *queues, bool *has_error)
{
	char line[256];
	long done = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t length = strcspn(line, "\r\n");
		if (line[length] == '\0' && !feof(stdin)) {
			log_warning("skipping an over-long line on standard input");
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
			continue;
		}
		line[length] = '\0';
		if (length == 0)
			continue;
		if (!queue_id_is_valid(line)) {
			log_warning("invalid queue ID: \"%s\"", line);
			*has_error = true;
			continue;
		}
		done += apply_id(action, line, queues, has_error);
	}
	return done;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hikyaku [-c DIR] super [-d ID|ALL|-] [-h ID|ALL|-] [-H ID|ALL|-] "
	                "[-r ID|ALL|-] [QUEUE...]\n");
}

int
command_super(const char *directory, int argc, char **argv)
{
	struct request requests[64];
	size_t request_count = 0;
	long counts[ACTION_COUNT] = {0};
	bool has_error = false, has_stdin = false;
	int option;

	optind = 1;
	while ((option = getopt(argc, argv, "d:h:H:r:")) != -1) {
		enum action action;

		switch (option) {
		case 'd':
			action = ACTION_DELETE;
			break;
		case 'h':
			action = ACTION_HOLD;
			break;
		case 'H':
			action = ACTION_RELEASE;
			break;
		case 'r':
			action = ACTION_REQUEUE;
			break;
		default:
			usage();
			return 2;
		}
		if (request_count == sizeof(requests) / sizeof(requests[0])) {
			log_error("too many requests on the command line");
			return 2;
		}
		if (strcmp(optarg, "-") == 0) {
			if (has_stdin) {
				log_error("standard input can be used only once");
				return 2;
			}
			has_stdin = true;
		} else if (strcmp(optarg, "ALL") != 0 && !queue_id_is_valid(optarg)) {
			log_error("invalid queue ID: \"%s\"", optarg);
			return 2;
		}
		requests[request_count++] = (struct request){action, optarg};
	}
	if (request_count == 0) {
		usage();
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (!is_known_queue(argv[i])) {
			log_error("invalid queue name: \"%s\"", argv[i]);
			return 2;
		}
	directory = instance_directory(directory);
	if (instance_load(directory, false) != 0) {
		log_error("configuration in %s has errors", directory);
		return 1;
	}
	if (var_maillog_file != NULL && var_maillog_file[0] != '\0')
		log_set_file(var_maillog_file);
	log_open("postsuper", LOG_SINK_STDERR | LOG_SINK_SYSLOG);

	for (size_t r = 0; r < request_count; r++) {
		enum action action = requests[r].action;
		const char *const *queues = actions[action].default_queues;
		const char **named = NULL;

		if (optind < argc) {
			named = xcalloc((size_t)(argc - optind) + 1, sizeof(*named));
			for (int i = optind; i < argc; i++)
				named[i - optind] = argv[i];
			queues = named;
		}
		if (strcmp(requests[r].id, "ALL") == 0)
			counts[action] += apply_all(action, queues, &has_error);
		else if (strcmp(requests[r].id, "-") == 0)
			counts[action] += apply_stdin(action, queues, &has_error);
		else
			counts[action] += apply_id(action, requests[r].id, queues, &has_error);
		free(named);
	}
	for (int a = 0; a < ACTION_COUNT; a++)
		if (counts[a] > 0)
			fprintf(stderr, "postsuper: %s: %ld message%s\n", actions[a].summary,
			        counts[a], counts[a] == 1 ? "" : "s");
	if (counts[ACTION_REQUEUE] > 0 || counts[ACTION_RELEASE] > 0)
		trigger_queue_manager();
	return has_error ? 1 : 0;
}
