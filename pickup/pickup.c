/*
 * pickup - move local submissions from maildrop/ into the queue.
 *
 * A SERVER_TRIGGER daemon: woken by postdrop's poke after each submission
 * and by the master's timer ("W"), it scans $queue_directory/maildrop and
 * streams each finished file (named by a queue ID; postdrop's "tmp." files
 * are still being written) to cleanup through lib/cleanup_client.h. It
 * also scans once when it starts, so mail submitted while the system was
 * down is taken then.
 *
 * The commit order, which is why a crash loses nothing (docs/maildrop.md):
 *   1. the maildrop file is durable (postdrop synced it before exit 0);
 *   2. pickup copies it to cleanup, which answers CLEANUP_OK only once its
 *      queue file and directory entry are durable;
 *   3. only then pickup unlinks the maildrop file.
 * A crash between 2 and 3 leaves both copies: the message is queued twice
 * at worst, never lost.
 *
 * Pipelining: a scan keeps up to IN_FLIGHT_MAX messages in flight, each
 * on its own cleanup connection, sent to the end and waiting for its
 * verdict (cleanup_client_send_end), so cleanup's group commit makes many
 * of them durable with one flush instead of two flushes per message. Each
 * maildrop file is still unlinked only after its own CLEANUP_OK; a crash
 * with several in flight can queue each of those twice, never lose one.
 *
 * What it trusts: nothing in a maildrop file. It must be a regular file
 * with one link, owned by the uid that postdrop recorded in it (a file
 * anyone else made - root, the mail owner - is "forged"), and must parse
 * strictly within message_size_limit. A file that fails goes to corrupt/
 * with a log line; so does one cleanup refuses for good, because its
 * submitter was already told it was accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "maildrop_file.h"
#include "queue_dir.h"
#include "queue_id.h"
#include "server.h"
#include "stream.h"
#include "strlist.h"
#include "xalloc.h"

/* A postdrop that left its temporary file a day ago is not coming back. */
#define TEMPORARY_FILE_MAX_AGE (24 * 3600)
/* Files taken in one scan; the next trigger or wakeup takes the rest. */
#define FILES_PER_SCAN_MAX 10000

/*
 * Messages in flight to cleanup at once: each holds one connection and
 * waits for its verdict. One under the number of clients at which a
 * cleanup process reports itself busy, so pickup alone never makes the
 * master start a second cleanup: the flushes are shared only inside one
 * process.
 */
#define IN_FLIGHT_MAX (SERVER_MULTI_BUSY_CLIENTS - 1)

/*
 * While messages are in flight and slots are free, maildrop/ is read
 * again this often for files that arrived meanwhile (postdrop's pokes
 * wait in the socket until the scan is over): new files join the batch
 * that cleanup is about to flush. Each look that finds nothing doubles
 * the pause, up to the maximum.
 */
#define RELIST_DELAY_MIN_MS 2
#define RELIST_DELAY_MAX_MS 256

enum pickup_result {
	PICKUP_DONE,    /* queued and removed, or gone already */
	PICKUP_CORRUPT, /* moved to corrupt/ */
	PICKUP_RETRY,   /* left in place: cleanup is down or failed for now */
	PICKUP_SENT,    /* sent to cleanup; its verdict is still to come */
};

/* One maildrop file sent to cleanup, waiting for the verdict. */
struct in_flight {
	char *id;   /* the maildrop file's name (a queue ID) */
	char *path; /* maildrop/ID */
	struct cleanup_client *client;
	long long uid;
	char *sender;
	int64_t deadline; /* event_now_ms() by which the verdict must come */
};

/*
 * Set when a file that should have left maildrop/ in this scan is still
 * there (unlink or the move to corrupt/ failed): the scan then does not
 * read the directory again, which would take that file a second time.
 */
static bool has_stuck_file;

/* The envelope records gathered before the first recipient. */
struct envelope_records {
	long long uid, time;
	char *sender, *full_name, *envid, *ret;
	unsigned notify;
	bool is_extract;
	const char *body; /* sendmail -B: "8BITMIME", "7BIT" or NULL */
};

static void
free_envelope(struct envelope_records *envelope)
{
	free(envelope->sender);
	free(envelope->full_name);
	free(envelope->envid);
	free(envelope->ret);
}

/* notify_mask: the cleanup_client mask of a checked notify record. */
static unsigned
notify_mask(const char *text)
{
	unsigned mask = 0;

	if (strcmp(text, "NEVER") == 0)
		return CLEANUP_NOTIFY_NEVER;
	if (strstr(text, "SUCCESS") != NULL)
		mask |= CLEANUP_NOTIFY_SUCCESS;
	if (strstr(text, "FAILURE") != NULL)
		mask |= CLEANUP_NOTIFY_FAILURE;
	if (strstr(text, "DELAY") != NULL)
		mask |= CLEANUP_NOTIFY_DELAY;
	return mask;
}

/* keep_envelope: remember one envelope record (all come before recipients). */
static void
keep_envelope(struct envelope_records *envelope, const struct maildrop_record *record)
{
	char *copy = xstrndup(record->data, record->length);

	switch (record->type) {
	case MAILDROP_UID:
		envelope->uid = strtoll(copy, NULL, 10);
		break;
	case MAILDROP_TIME:
		envelope->time = strtoll(copy, NULL, 10);
		break;
	case MAILDROP_SENDER:
		envelope->sender = copy;
		return;
	case MAILDROP_FULL_NAME:
		envelope->full_name = copy;
		return;
	case MAILDROP_FLAGS:
		envelope->is_extract = strstr(copy, MAILDROP_FLAG_EXTRACT) != NULL;
		/* The reader checked the words: each is whole and known. */
		if (strstr(copy, MAILDROP_FLAG_BODY_8BITMIME) != NULL)
			envelope->body = "8BITMIME";
		else if (strstr(copy, MAILDROP_FLAG_BODY_7BIT) != NULL)
			envelope->body = "7BIT";
		break;
	case MAILDROP_ENVID:
		envelope->envid = copy;
		return;
	case MAILDROP_RET:
		envelope->ret = copy;
		return;
	case MAILDROP_NOTIFY:
		envelope->notify = notify_mask(copy);
		break;
	default:
		break;
	}
	free(copy);
}

/* send_envelope: open the cleanup submission once the envelope is known. */
static struct cleanup_client *
send_envelope(const struct envelope_records *records, struct dstring *error)
{
	struct cleanup_envelope envelope;
	struct cleanup_client *client;

	client = cleanup_client_open(CLEANUP_CLIENT_SERVICE_PATH, var_ipc_timeout * 1000, error);
	if (client == NULL)
		return NULL;
	memset(&envelope, 0, sizeof(envelope));
	envelope.flags = CLEANUP_FLAG_LOCAL;
	if (records->is_extract)
		envelope.flags |= CLEANUP_FLAG_EXTRACT_RECIPIENTS | CLEANUP_FLAG_REMOVE_BCC;
	envelope.sender = records->sender;
	envelope.full_name = records->full_name;
	envelope.uid = records->uid;
	envelope.arrival_time = records->time;
	envelope.envid = records->envid;
	envelope.ret = records->ret ? records->ret : "";
	envelope.protocol = "sendmail";
	envelope.body = records->body;
	cleanup_client_envelope(client, &envelope);
	return client;
}

/*
 * move_to_corrupt: keep a file we cannot use where an administrator finds
 * it, out of pickup's way.
 */
static enum pickup_result
move_to_corrupt(const char *path, const char *id, const char *reason)
{
	struct dstring target, directory;

	dstring_init(&target, DSTRING_NO_LIMIT);
	dstring_init(&directory, DSTRING_NO_LIMIT);
	queue_dir_path(&target, NULL, QUEUE_CORRUPT, id);
	queue_dir_subdirectory(&directory, NULL, QUEUE_CORRUPT, id);
	if (rename(path, dstring_str(&target)) < 0 && errno == ENOENT &&
	    mkdir(dstring_str(&directory), 0700) == 0)
		rename(path, dstring_str(&target));
	if (access(path, F_OK) == 0)
		has_stuck_file = true;
	if (access(path, F_OK) == 0)
		log_error("%s: %s; cannot move it to %s: %s", path, reason, dstring_str(&target),
		          strerror(errno));
	else
		log_warning("%s: %s: moved to %s", path, reason, dstring_str(&target));
	dstring_fini(&target);
	dstring_fini(&directory);
	return PICKUP_CORRUPT;
}

/*
 * conclude: the verdict for a message in flight, and what follows from
 * it (step 3 of the commit order). Frees the slot.
 */
static enum pickup_result
conclude(struct in_flight *slot)
{
	struct cleanup_result result;
	enum pickup_result outcome = PICKUP_RETRY;
	struct dstring error;

	dstring_init(&error, 1024);
	cleanup_client_finish(slot->client, &result);
	if (result.status == CLEANUP_OK) {
		log_info("%s: uid=%lld from=<%s>", result.queue_id, slot->uid, slot->sender);
		/* Step 3: the queue file is durable; our copy may go. */
		if (unlink(slot->path) < 0 && errno != ENOENT) {
			log_error("remove %s (queued as %s): %s", slot->path, result.queue_id,
			          strerror(errno));
			has_stuck_file = true;
		}
		outcome = PICKUP_DONE;
	} else if (result.status == CLEANUP_PERMFAIL) {
		dstring_printf(&error, "uid=%lld from=<%s>: refused by cleanup: %s", slot->uid,
		               slot->sender, result.reason);
		outcome = move_to_corrupt(slot->path, slot->id, dstring_str(&error));
	} else {
		log_warning("%s: uid=%lld from=<%s>: %s; will retry", slot->path, slot->uid,
		            slot->sender, result.reason);
	}
	dstring_fini(&error);
	cleanup_client_close(slot->client);
	free(slot->id);
	free(slot->path);
	free(slot->sender);
	memset(slot, 0, sizeof(*slot));
	return outcome;
}

/*
 * copy_file: the records of one open maildrop file to cleanup. Returns
 * PICKUP_SENT when all of it went to cleanup: slot then holds the
 * connection that waits for the verdict (conclude). Anything else is the
 * file's fate already, and slot is empty.
 */
static enum pickup_result
copy_file(const char *path, const char *id, int fd, const struct stat *info,
          struct in_flight *slot)
{
	struct envelope_records envelope = {.uid = -1};
	struct maildrop_reader reader;
	struct maildrop_record record;
	struct cleanup_client *client = NULL;
	struct stream *stream = stream_open(fd);
	enum maildrop_status status;
	enum pickup_result outcome = PICKUP_RETRY;
	struct dstring error;

	dstring_init(&error, 1024);
	maildrop_reader_init(&reader, stream, MAILDROP_QUEUED, var_message_size_limit);
	/* Bounded: each record consumes the file, whose size is limited. */
	while ((status = maildrop_read(&reader, &record)) == MAILDROP_OK) {
		if (record.type == MAILDROP_TIME && envelope.uid != (long long)info->st_uid) {
			dstring_printf(&error, "forged file: owner uid %ld, recorded uid %lld",
			               (long)info->st_uid, envelope.uid);
			status = MAILDROP_INVALID;
			break;
		}
		if (record.type < MAILDROP_RECIPIENT) {
			keep_envelope(&envelope, &record);
			continue;
		}
		if (client == NULL && (client = send_envelope(&envelope, &error)) == NULL)
			break; /* cleanup is not there: retry later */
		if (record.type == MAILDROP_RECIPIENT)
			cleanup_client_recipient(client, record.data, NULL, NULL, envelope.notify);
		else if (record.type == MAILDROP_DATA)
			cleanup_client_write(client, record.data, record.length);
	}
	if (status == MAILDROP_DONE) {
		slot->id = xstrdup(id);
		slot->path = xstrdup(path);
		slot->client = client;
		slot->uid = envelope.uid;
		slot->sender = xstrdup(envelope.sender != NULL ? envelope.sender : "");
		slot->deadline = event_now_ms() + (int64_t)var_ipc_timeout * 1000;
		client = NULL;
		/* A failure to send is known at once: no need to wait for it. */
		outcome = cleanup_client_send_end(slot->client) == 0 ? PICKUP_SENT : conclude(slot);
	} else if (status == MAILDROP_OK) {
		log_warning("%s: cannot reach cleanup: %s; will retry", path, dstring_str(&error));
	} else if (status == MAILDROP_IO) {
		log_warning("%s: %s; will retry", path, maildrop_reader_error(&reader));
	} else {
		/* The submission is abandoned: cleanup drops what it got so far. */
		if (dstring_length(&error) == 0)
			dstring_set(&error, maildrop_reader_error(&reader));
		outcome = move_to_corrupt(path, id, dstring_str(&error));
	}
	cleanup_client_close(client);
	maildrop_reader_fini(&reader);
	stream_free(stream);
	free_envelope(&envelope);
	dstring_fini(&error);
	return outcome;
}

/*
 * take_file: send one maildrop file to cleanup; see the commit order
 * above. PICKUP_SENT: slot waits for the verdict.
 */
static enum pickup_result
take_file(const char *id, struct in_flight *slot)
{
	struct dstring path;
	enum pickup_result outcome;
	struct stat info;
	int fd;

	dstring_init(&path, DSTRING_NO_LIMIT);
	queue_dir_path(&path, NULL, QUEUE_MAILDROP, id);
	fd = open(dstring_str(&path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int open_error = errno;

		if (open_error != ENOENT && open_error != ELOOP)
			log_warning("open %s: %s", dstring_str(&path), strerror(open_error));
		outcome = open_error == ENOENT ? PICKUP_DONE : PICKUP_RETRY;
		if (open_error == ELOOP)
			outcome = move_to_corrupt(dstring_str(&path), id, "symbolic link");
	} else if (fstat(fd, &info) < 0) {
		log_warning("fstat %s: %s", dstring_str(&path), strerror(errno));
		outcome = PICKUP_RETRY;
	} else if (!S_ISREG(info.st_mode) || info.st_nlink != 1) {
		outcome =
		    move_to_corrupt(dstring_str(&path), id, "not a regular file with one link");
	} else {
		outcome = copy_file(dstring_str(&path), id, fd, &info, slot);
		fd = -1; /* closed with its stream */
	}
	if (fd >= 0)
		close(fd);
	dstring_fini(&path);
	return outcome;
}

/* remove_stale: a postdrop killed mid-write leaves a temporary file. */
static void
remove_stale(const char *name)
{
	struct dstring path;
	struct stat info;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s", QUEUE_MAILDROP, name);
	if (lstat(dstring_str(&path), &info) == 0 &&
	    info.st_mtime + TEMPORARY_FILE_MAX_AGE < time(NULL)) {
		if (unlink(dstring_str(&path)) == 0)
			log_info("removed stale temporary file %s", dstring_str(&path));
	}
	dstring_fini(&path);
}

/*
 * list_names: the finished files in maildrop/ (up to limit names), leaving
 * out those in flight; removes stale temporary files on the way.
 */
static void
list_names(struct strlist *names, const struct in_flight *slots, size_t limit)
{
	struct dirent *entry;
	DIR *directory = opendir(QUEUE_MAILDROP);

	if (directory == NULL) {
		log_error("open directory %s: %s", QUEUE_MAILDROP, strerror(errno));
		return;
	}
	while (names->count < limit && (entry = readdir(directory)) != NULL) {
		if (queue_id_is_valid(entry->d_name)) {
			bool is_in_flight = false;

			for (size_t i = 0; i < IN_FLIGHT_MAX && !is_in_flight; i++)
				is_in_flight = slots[i].id != NULL &&
				               strcmp(slots[i].id, entry->d_name) == 0;
			if (!is_in_flight)
				strlist_append(names, entry->d_name);
		} else if (strncmp(entry->d_name, MAILDROP_TEMPORARY_PREFIX,
		                   strlen(MAILDROP_TEMPORARY_PREFIX)) == 0) {
			remove_stale(entry->d_name);
		}
	}
	closedir(directory);
}

/*
 * wait_for_verdicts: wait until cleanup answered a message in flight, and
 * conclude each answered one; with pause_ms >= 0, wait at most that long.
 * A message whose verdict is not in by its deadline ($ipc_timeout after
 * it was sent) is given up for now with all others in flight (cleanup is
 * stuck; they stay in maildrop/). Returns false after such a give-up or
 * a "try again later" verdict.
 */
static bool
wait_for_verdicts(struct in_flight *slots, size_t *count, int64_t pause_ms)
{
	struct pollfd fds[IN_FLIGHT_MAX];
	size_t index[IN_FLIGHT_MAX], watched = 0;
	int64_t deadline = INT64_MAX, now, wait_ms;
	bool is_healthy = true;
	int ready;

	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (slots[i].client != NULL) {
			fds[watched].fd = cleanup_client_fd(slots[i].client);
			fds[watched].events = POLLIN;
			index[watched++] = i;
			if (slots[i].deadline < deadline)
				deadline = slots[i].deadline;
		}
	do {
		now = event_now_ms();
		wait_ms = deadline > now ? deadline - now : 0;
		if (pause_ms >= 0 && pause_ms < wait_ms)
			wait_ms = pause_ms;
		ready = poll(fds, watched, (int)(wait_ms < INT32_MAX ? wait_ms : INT32_MAX));
	} while (ready < 0 && errno == EINTR);
	if (ready <= 0 && event_now_ms() < deadline)
		return true; /* the pause is over */
	if (ready <= 0) {
		log_warning("no answer from cleanup within %d s for %zu messages; will retry",
		            var_ipc_timeout, watched);
		for (size_t j = 0; j < watched; j++) {
			struct in_flight *slot = &slots[index[j]];

			cleanup_client_close(slot->client);
			free(slot->id);
			free(slot->path);
			free(slot->sender);
			memset(slot, 0, sizeof(*slot));
		}
		*count = 0;
		return false;
	}
	for (size_t j = 0; j < watched; j++) {
		if (fds[j].revents == 0)
			continue;
		if (conclude(&slots[index[j]]) == PICKUP_RETRY)
			is_healthy = false;
		(*count)--;
	}
	return is_healthy;
}

/*
 * scan_maildrop: take every finished file, up to IN_FLIGHT_MAX at a time.
 * When the list runs out, maildrop/ is read again (at once, then every
 * RELIST_DELAY_MIN_MS .. RELIST_DELAY_MAX_MS while messages are in
 * flight), so files that arrive meanwhile join the pipeline; at most
 * FILES_PER_SCAN_MAX files are taken per scan. A temporary failure stops
 * the scan: cleanup is down or struggling, and the next wakeup tries
 * again. The scan returns only when nothing is in flight.
 */
static void
scan_maildrop(void)
{
	struct in_flight slots[IN_FLIGHT_MAX];
	struct strlist names;
	size_t next = 0, in_flight = 0, taken = 0;
	int64_t relist_delay = RELIST_DELAY_MIN_MS, next_relist = 0;
	bool is_stopped = false;

	memset(slots, 0, sizeof(slots));
	has_stuck_file = false;
	strlist_init(&names);
	list_names(&names, slots, FILES_PER_SCAN_MAX);
	for (;;) {
		bool may_relist;

		/* Fill the free slots. */
		while (!is_stopped && in_flight < IN_FLIGHT_MAX && next < names.count) {
			size_t free_slot = 0;

			while (slots[free_slot].client != NULL)
				free_slot++;
			switch (take_file(names.items[next++], &slots[free_slot])) {
			case PICKUP_SENT:
				in_flight++;
				break;
			case PICKUP_RETRY:
				is_stopped = true;
				break;
			default:
				break;
			}
			taken++;
		}
		may_relist = !is_stopped && !has_stuck_file && next == names.count &&
		             taken < FILES_PER_SCAN_MAX && in_flight < IN_FLIGHT_MAX;
		/* The list is done: look for files that came meanwhile. */
		if (may_relist && event_now_ms() >= next_relist) {
			strlist_fini(&names);
			strlist_init(&names);
			next = 0;
			list_names(&names, slots, FILES_PER_SCAN_MAX - taken);
			if (names.count > 0) {
				relist_delay = RELIST_DELAY_MIN_MS;
				continue;
			}
			if (in_flight == 0)
				break;
			next_relist = event_now_ms() + relist_delay;
			if (relist_delay < RELIST_DELAY_MAX_MS)
				relist_delay *= 2;
		}
		if (in_flight == 0)
			break;
		if (!wait_for_verdicts(slots, &in_flight,
		                       may_relist ? next_relist - event_now_ms() : -1))
			is_stopped = true;
	}
	strlist_fini(&names);
}

static void
pickup_post_jail(void)
{
	/* Mail submitted while the system was down waits for this. */
	scan_maildrop();
}

static void
pickup_trigger(const char *data, size_t length)
{
	scan_maildrop();
}

static void
pickup_wakeup(void)
{
	scan_maildrop();
}

int
main(int argc, char **argv)
{
	static const struct server_callbacks callbacks = {
	    .post_jail = pickup_post_jail,
	    .trigger = pickup_trigger,
	    .wakeup = pickup_wakeup,
	};

	return server_main(argc, argv, "pickup", SERVER_TRIGGER, &callbacks);
}
