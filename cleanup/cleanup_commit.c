/*
 * cleanup_commit - group commit: many clients' queue files made durable
 * by shared flushes, each reply sent only after a flush that covers both
 * the file's data and its directory entry in incoming/ (docs/queue.md,
 * states 3-5).
 *
 * A complete file is renamed from tmp/ to incoming/H/ID at once, and one
 * flush (one syncfs; fsync of the file and of incoming/H in the POSIX
 * fallback) then makes its data and its new name durable together: one
 * flush per batch of messages, and one for a lone message. Only after it
 * does the client get its reply. (A crash of the machine before the
 * flush can leave a file under its final name whose data never reached
 * the disk; its client was never answered and sends again, and the queue
 * manager moves the truncated file to corrupt/ when it cannot read it.)
 *
 * The flush runs from a short timer (COMMIT_DELAY_MS), so every client
 * whose bytes are already readable gets into the batch first, except
 * when the queue is idle (no flush in the last COMMIT_IDLE_MS) and every
 * connected client is already waiting for a flush: nobody can join, and
 * waiting would only add to the reply's latency. Under load, messages
 * keep arriving right after flushes and still wait to share one. And
 * while connections wait in the listen queue (the skeleton accepts one
 * per turn of the loop) the flush waits for them to join, up to
 * COMMIT_WAIT_MAX_MS.
 *
 * After each flush that acknowledged messages, one trigger tells the
 * queue manager to scan incoming/ (public/qmgr, never blocking).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "durable.h"
#include "event.h"
#include "log.h"
#include "queue_dir.h"
#include "server.h"
#include "xalloc.h"

static struct cleanup_state *pending; /* renamed, waiting for the flush */
static bool is_flush_scheduled, is_flush_delayed;
static uint64_t flush_timer;
static unsigned long messages_committed;

static void flush_now(void *context);

/*
 * How long a flush waits for more messages to join it. The server
 * skeleton accepts one connection per turn of the event loop, so clients
 * that connected together are taken in over several turns; a short wait
 * lets them into the same batch (see docs/queue.md, "Group commit").
 */
enum { COMMIT_DELAY_MS = 1, COMMIT_IDLE_MS = 10, COMMIT_WAIT_MAX_MS = 5 };

/*
 * When the oldest message now waiting for a flush joined. While clients
 * wait in the listen queue (one is accepted per turn of the loop), the
 * flush waits for them, up to COMMIT_WAIT_MAX_MS after that.
 */
static int64_t batch_started;

/* When the last flush ended (event_now_ms), for the idle test above. */
static int64_t last_flush_end = INT64_MIN / 2;

static unsigned long
list_length(const struct cleanup_state *list)
{
	unsigned long length = 0;

	for (; list != NULL; list = list->next_commit)
		length++;
	return length;
}

static void
schedule_flush(void)
{
	bool is_busy = event_now_ms() - last_flush_end < COMMIT_IDLE_MS;
	bool can_more_join = is_busy || list_length(pending) < cleanup_clients_connected();

	if (is_flush_scheduled && (is_flush_delayed == can_more_join || !is_flush_delayed))
		return;
	if (is_flush_scheduled)
		event_cancel_timer(server_event_loop(), flush_timer);
	is_flush_scheduled = true;
	is_flush_delayed = can_more_join;
	flush_timer = event_timer(server_event_loop(), can_more_join ? COMMIT_DELAY_MS : 0,
	                          flush_now, NULL);
}

void
cleanup_commit_add(struct cleanup_state *state)
{
	struct dstring path;

	dstring_init(&path, DSTRING_NO_LIMIT);
	queue_dir_path(&path, var_queue_directory, QUEUE_INCOMING, state->queue_id);
	if (rename(state->temp_path, path.data) < 0) {
		log_warning("%s: rename %s to %s: %m", state->queue_id, state->temp_path, path.data);
		dstring_fini(&path);
		cleanup_message_discard(state);
		cleanup_fail(state, 4, "4.3.0 queue file write error");
		cleanup_reply(state); /* may free state */
		return;
	}
	free(state->temp_path);
	state->temp_path = NULL;
	/* The descriptor stays open until the flush (durable.h). */
	durable_add_file(cleanup_durable, state->temp_fd);
	queue_dir_subdirectory(&path, var_queue_directory, QUEUE_INCOMING, state->queue_id);
	durable_add_directory(cleanup_durable, path.data);
	dstring_fini(&path);
	if (pending == NULL)
		batch_started = event_now_ms();
	state->next_commit = pending;
	pending = state;
	schedule_flush();
}

static bool
unlink_from(struct cleanup_state **list, struct cleanup_state *state)
{
	for (; *list != NULL; list = &(*list)->next_commit)
		if (*list == state) {
			*list = state->next_commit;
			return true;
		}
	return false;
}

/*
 * Descriptors of files whose client went away while they waited for the
 * flush: registered with durable_flush, so they stay open until it ran.
 */
static int *orphan_fds;
static size_t orphan_count;

/* A client went away while its message waited for the flush: drop it. */
void
cleanup_commit_forget(struct cleanup_state *state)
{
	if (unlink_from(&pending, state) && state->temp_fd >= 0) {
		orphan_fds = xreallocarray(orphan_fds, orphan_count + 1, sizeof(*orphan_fds));
		orphan_fds[orphan_count++] = state->temp_fd;
		state->temp_fd = -1;
	}
}

/* Tell the queue manager to look at incoming/; never wait for it. */
static void
trigger_qmgr(void)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct stat info;
	int fd;

	if ((size_t)snprintf(address.sun_path, sizeof(address.sun_path), "%s/%s/qmgr",
	                     var_queue_directory, QUEUE_PUBLIC) >= sizeof(address.sun_path))
		return;
	if (stat(address.sun_path, &info) < 0)
		return; /* no queue manager: it scans incoming/ when it starts */
	if (S_ISFIFO(info.st_mode)) {
		fd = open(address.sun_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "I", 1) < 0 && errno != EAGAIN)
				log_debug("trigger %s: %m", address.sun_path);
			close(fd);
		}
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
		(void)send(fd, "I", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		log_debug("trigger %s: %m", address.sun_path);
	close(fd);
}

static void
flush_now(void *context)
{
	struct cleanup_state *batch;
	struct dstring error, path;
	unsigned long acknowledged = 0;
	int status;

	(void)context;
	if (server_has_waiting_clients() && event_now_ms() - batch_started < COMMIT_WAIT_MAX_MS) {
		flush_timer = event_timer(server_event_loop(), 0, flush_now, NULL);
		return;
	}
	is_flush_scheduled = false;
	batch = pending;
	pending = NULL;
	dstring_init(&error, 1000);
	dstring_init(&path, DSTRING_NO_LIMIT);
	status = durable_flush(cleanup_durable, &error);
	if (status < 0)
		log_warning("cannot make queue files durable: %s", error.data);

	/*
	 * Wake the queue manager before replying: the last reply may end
	 * this process (max_use), and the mail must not wait for the queue
	 * manager's next timer.
	 */
	if (status == 0 && batch != NULL)
		trigger_qmgr();
	while (batch != NULL) {
		struct cleanup_state *state = batch;

		batch = state->next_commit;
		state->next_commit = NULL;
		close(state->temp_fd);
		state->temp_fd = -1;
		if (status < 0) {
			queue_dir_path(&path, var_queue_directory, QUEUE_INCOMING, state->queue_id);
			unlink(path.data);
			cleanup_fail(state, 4, "4.3.0 queue file write error");
		} else {
			acknowledged++;
			messages_committed++;
		}
		cleanup_reply(state);
	}
	for (size_t i = 0; i < orphan_count; i++)
		close(orphan_fds[i]);
	orphan_count = 0;
	log_debug("flush: %lu acknowledged; %lu sync calls for %lu messages so far", acknowledged,
	          durable_sync_calls(cleanup_durable), messages_committed);
	last_flush_end = batch_started = event_now_ms();
	if (pending != NULL)
		schedule_flush();
	dstring_fini(&error);
	dstring_fini(&path);
}

void
cleanup_commit_statistics(void)
{
	unsigned long calls = durable_sync_calls(cleanup_durable);

	log_info("statistics: %lu messages queued, %lu flushes, %lu sync calls "
	         "(%.2f per message)",
	         messages_committed, durable_flushes(cleanup_durable), calls,
	         messages_committed ? (double)calls / (double)messages_committed : 0.0);
}
