/*
 * qmgr_message - one message in active/, from loading to its end.
 *
 * Loading: the file is opened read-write and read strictly
 * (queue_file_read); a file that does not parse, or whose ID is not its
 * name, goes to corrupt/ with a log line and the queue goes on. Each
 * pending recipient is resolved (lib/resolve.h); the pseudo transports
 * (error:, retry:, discard:) are carried out here, real transports are
 * queued to their destination (qmgr_deliver.c).
 *
 * Finishing, when no recipient is queued or in flight any more:
 *   1. expired (older than maximal_queue_lifetime, bounce_queue_lifetime
 *      for null-sender mail) and still deferred: the deferred recipients
 *      become bounced ("status=expired, returned to sender");
 *   2. bounced recipients: one notice to the sender (qmgr_notice_bounce),
 *      and only once it is queued, the recipients are marked done;
 *   3. deferred recipients left: once the message is delay_warning_time
 *      old, one delay notice (qmgr_notice_delay, recorded in the file's
 *      mode, QMGR_DELAY_WARNED_MODE); the defer log is written, the
 *      file's mtime is set to the next attempt time, the marks are
 *      flushed, and the file is renamed to deferred/;
 *   4. otherwise the file is removed ("QUEUEID: removed").
 * A crash anywhere in between leaves the file in active/, where the next
 * qmgr takes it again: delivered recipients are marked done durably by
 * the agents, so only a notice may be repeated, never a delivery that
 * was reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "qmgr.h"
#include "queue_dir.h"
#include "resolve.h"
#include "strlist.h"
#include "xalloc.h"

/* defer_transports, split once (Postfix: compared by exact name). */
static struct strlist defer_transports;
static bool has_defer_transports;

static struct qmgr_message *messages;
static size_t message_count;
static size_t recipient_count;

/* Loaded IDs, for the scan of active/ (chained hash on the ID). */
#define ID_TABLE_SIZE 8192
static struct qmgr_message *id_table[ID_TABLE_SIZE];

static size_t
id_hash(const char *queue_id)
{
	size_t hash = 5381;

	for (; *queue_id; queue_id++)
		hash = hash * 33 + (unsigned char)*queue_id;
	return hash % ID_TABLE_SIZE;
}

bool
qmgr_message_is_loaded(const char *queue_id)
{
	for (struct qmgr_message *m = id_table[id_hash(queue_id)]; m != NULL; m = m->hash_next)
		if (strcmp(m->queue_id, queue_id) == 0)
			return true;
	return false;
}

size_t
qmgr_message_active_count(void)
{
	return message_count;
}

bool
qmgr_message_has_room(void)
{
	return message_count < (size_t)var_qmgr_message_active_limit &&
	       recipient_count < (size_t)var_qmgr_message_recipient_limit;
}

int
qmgr_message_move(const char *from_queue, const char *to_queue, const char *queue_id)
{
	struct dstring from, to;
	int status;

	dstring_init(&from, DSTRING_NO_LIMIT);
	dstring_init(&to, DSTRING_NO_LIMIT);
	queue_dir_path(&from, NULL, from_queue, queue_id);
	queue_dir_path(&to, NULL, to_queue, queue_id);
	status = rename(from.data, to.data);
	if (status != 0 && errno != ENOENT)
		log_warning("%s: rename %s to %s: %m", queue_id, from.data, to.data);
	dstring_fini(&from);
	dstring_fini(&to);
	return status;
}

void
qmgr_message_corrupt(const char *queue_name, const char *queue_id, const char *reason)
{
	log_warning("%s: corrupt queue file %s/%s: %s: moved to %s/", queue_id, queue_name,
		    queue_id, reason, QUEUE_CORRUPT);
	if (qmgr_message_move(queue_name, QUEUE_CORRUPT, queue_id) != 0)
		log_warning("%s: could not move to %s/: leaving it in %s/", queue_id,
			    QUEUE_CORRUPT, queue_name);
}

static int64_t
now_microseconds(void)
{
	return delivery_now();
}

/* A request-shaped view of one recipient, for delivery_log_result. */
void
qmgr_message_log(const struct qmgr_message *message, uint32_t index,
		 enum delivery_action action, const char *dsn, const char *reason,
		 const char *relay)
{
	const struct queue_recipient *recipient = &message->envelope.recipients[index];
	struct delivery_recipient view = {index, recipient->status_offset, recipient->address,
					  recipient->original, recipient->orcpt,
					  recipient->notify};
	struct delivery_request request;
	struct delivery_result result = {0, action, dsn, reason, relay};

	memset(&request, 0, sizeof(request));
	memcpy(request.queue_id, message->queue_id, sizeof(request.queue_id));
	request.queue_name = QUEUE_ACTIVE;
	request.transport = request.next_hop = request.envid = request.ret = "";
	request.sender = message->envelope.sender;
	request.arrival_time = message->envelope.arrival_microseconds;
	request.active_time = message->active_time;
	request.received_time = now_microseconds();
	request.recipients = &view;
	request.recipient_count = 1;
	delivery_log_result(&request, &result, 0);
}

void
qmgr_message_outcome(struct qmgr_message *message, uint32_t index, enum delivery_action action,
		     const char *dsn, const char *reason, const char *relay)
{
	struct qmgr_outcome *outcome;

	if (action == DELIVERY_DELIVERED)
		return;
	if (message->outcome_count == message->outcome_capacity) {
		message->outcome_capacity =
		    message->outcome_capacity ? 2 * message->outcome_capacity : 4;
		message->outcomes = xreallocarray(message->outcomes, message->outcome_capacity,
						  sizeof(*message->outcomes));
	}
	outcome = &message->outcomes[message->outcome_count++];
	outcome->index = index;
	outcome->action = action;
	outcome->dsn = xstrdup(dsn);
	outcome->reason = xstrdup(reason);
	outcome->relay = xstrdup(relay);
}

static void
message_free(struct qmgr_message *message)
{
	if (message->prev != NULL)
		message->prev->next = message->next;
	else
		messages = message->next;
	if (message->next != NULL)
		message->next->prev = message->prev;
	for (struct qmgr_message **link = &id_table[id_hash(message->queue_id)]; *link != NULL;
	     link = &(*link)->hash_next) {
		if (*link == message) {
			*link = message->hash_next;
			break;
		}
	}
	message_count--;
	recipient_count -= message->recipients;
	for (size_t i = 0; i < message->outcome_count; i++) {
		free(message->outcomes[i].dsn);
		free(message->outcomes[i].reason);
		free(message->outcomes[i].relay);
	}
	free(message->outcomes);
	if (message->fd >= 0)
		close(message->fd);
	queue_message_fini(&message->envelope);
	free(message);
	qmgr_kick();
}

static void
mark_done(struct qmgr_message *message, uint32_t index)
{
	if (queue_file_mark_done(message->fd, &message->envelope.recipients[index],
				 QUEUE_RECIPIENT_DONE) != 0)
		log_warning("%s: mark recipient %" PRIu32 " done: %m", message->queue_id, index);
	message->has_unsynced_marks = true;
}

static bool
is_deferred_transport(const char *transport)
{
	if (!has_defer_transports) {
		strlist_init(&defer_transports);
		strlist_split(&defer_transports, var_defer_transports != NULL ? var_defer_transports
									     : "",
			      STRLIST_COMMA_SPACE, NULL);
		has_defer_transports = true;
	}
	for (size_t i = 0; i < defer_transports.count; i++)
		if (strcmp(defer_transports.items[i], transport) == 0)
			return true;
	return false;
}

/* The pseudo transports and resolver failures, decided here. */
static void
resolve_recipient(struct qmgr_message *message, uint32_t index, struct resolve_result *result,
		  struct dstring *error)
{
	const char *address = message->envelope.recipients[index].address;
	const char *text;

	dstring_reset(error);
	if (resolve_address_sender(qmgr_resolve, address, message->envelope.sender, result,
				   error) != RESOLVE_OK) {
		qmgr_message_log(message, index, DELIVERY_DEFERRED, "4.3.0", error->data, "none");
		qmgr_message_outcome(message, index, DELIVERY_DEFERRED, "4.3.0", error->data,
				     "none");
		return;
	}
	text = result->next_hop.data;
	switch (resolve_pseudo_transport(result->transport.data)) {
	case RESOLVE_PSEUDO_ERROR:
	case RESOLVE_PSEUDO_RETRY: {
		bool is_retry = resolve_pseudo_transport(result->transport.data) ==
				RESOLVE_PSEUDO_RETRY;
		enum delivery_action action = is_retry ? DELIVERY_DEFERRED : DELIVERY_BOUNCED;
		char dsn[16];

		/* "5.1.1 text": the code when it fits the action, else a default. */
		snprintf(dsn, sizeof(dsn), "%s", is_retry ? "4.0.0" : "5.0.0");
		size_t code_length = strcspn(text, " ");
		if (code_length < sizeof(dsn)) {
			char code[16];

			memcpy(code, text, code_length);
			code[code_length] = 0;
			if (delivery_dsn_is_valid(code) && code[0] == dsn[0]) {
				memcpy(dsn, code, code_length + 1);
				text += code_length;
				text += strspn(text, " ");
			}
		}
		if (*text == 0)
			text = is_retry ? "delivery temporarily suspended" : "mail for this "
									      "address is not "
									      "deliverable";
		qmgr_message_log(message, index, action, dsn, text, "none");
		qmgr_message_outcome(message, index, action, dsn, text, "none");
		return;
	}
	case RESOLVE_PSEUDO_DISCARD:
		qmgr_message_log(message, index, DELIVERY_DELIVERED, "2.0.0",
				 *text ? text : "discarded", "none");
		mark_done(message, index);
		return;
	case RESOLVE_PSEUDO_NONE:
		break;
	}
	/* defer_transports: kept until a flush (Postfix's "4.3.2 deferred transport"). */
	if (!message->is_flushed && is_deferred_transport(result->transport.data)) {
		qmgr_message_log(message, index, DELIVERY_DEFERRED, "4.3.2", "deferred transport",
				 "none");
		qmgr_message_outcome(message, index, DELIVERY_DEFERRED, "4.3.2",
				     "deferred transport", "none");
		return;
	}
	message->unfinished++;
	qmgr_deliver_add(message, index, result->transport.data, result->next_hop.data);
}

static void
finish_message(struct qmgr_message *message);

void
qmgr_message_take(const char *queue_name, const char *queue_id, bool was_deferred,
		  bool is_flushed)
{
	struct qmgr_message *message;
	struct dstring path, error;
	struct resolve_result result;
	struct stat info;
	size_t pending = 0;
	int fd;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	queue_dir_path(&path, NULL, queue_name, queue_id);
	fd = open(path.data, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warning("%s: open %s: %m", queue_id, path.data);
		goto out;
	}
	if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
		close(fd);
		qmgr_message_corrupt(queue_name, queue_id, "not a regular file");
		goto out;
	}
	message = xcalloc(1, sizeof(*message));
	message->fd = fd;
	if (queue_file_read(fd, &message->envelope, &error) != 0 ||
	    strcmp(message->envelope.queue_id, queue_id) != 0) {
		if (error.length == 0)
			dstring_printf(&error, "queue ID %s in the file", message->envelope.queue_id);
		close(fd);
		queue_message_fini(&message->envelope);
		free(message);
		qmgr_message_corrupt(queue_name, queue_id, error.data);
		goto out;
	}
	memcpy(message->queue_id, queue_id, strlen(queue_id) + 1);
	message->active_time = now_microseconds();
	message->was_deferred = was_deferred;
	message->is_flushed = is_flushed;
	message->is_delay_warned = (info.st_mode & QMGR_DELAY_WARNED_MODE) != 0;
	for (size_t i = 0; i < message->envelope.recipient_count; i++)
		if (message->envelope.recipients[i].status == QUEUE_RECIPIENT_PENDING)
			pending++;
	message->recipients = pending;
	message->next = messages;
	if (messages != NULL)
		messages->prev = message;
	messages = message;
	message->hash_next = id_table[id_hash(queue_id)];
	id_table[id_hash(queue_id)] = message;
	message_count++;
	recipient_count += pending;
	log_info("%s: from=<%s>, size=%" PRId64 ", nrcpt=%zu (queue active)", queue_id,
		 message->envelope.sender, message->envelope.content_size, pending);

	/* Hold off finishing until every recipient is queued. */
	message->unfinished = 1;
	resolve_result_init(&result);
	for (size_t i = 0; i < message->envelope.recipient_count; i++)
		if (message->envelope.recipients[i].status == QUEUE_RECIPIENT_PENDING)
			resolve_recipient(message, (uint32_t)i, &result, &error);
	resolve_result_fini(&result);
	qmgr_message_finished(message, 1);
out:
	dstring_fini(&path);
	dstring_fini(&error);
}

void
qmgr_message_finished(struct qmgr_message *message, size_t count)
{
	if (count > message->unfinished)
		log_panic("%s: %zu recipients finished, %zu unfinished", message->queue_id, count,
			  message->unfinished);
	message->unfinished -= count;
	if (message->unfinished == 0)
		finish_message(message);
}

static bool
is_expired(const struct qmgr_message *message)
{
	int64_t lifetime = message->envelope.sender[0] == 0 ? var_bounce_queue_lifetime
							     : var_maximal_queue_lifetime;
	int64_t age = now_microseconds() - message->envelope.arrival_microseconds;

	return age >= lifetime * 1000000LL;
}

/* The next attempt: the message's age, within the backoff bounds (Postfix). */
static int64_t
backoff_seconds(const struct qmgr_message *message)
{
	int64_t age = (now_microseconds() - message->envelope.arrival_microseconds) / 1000000;

	if (age > var_maximal_backoff_time)
		age = var_maximal_backoff_time;
	if (age < var_minimal_backoff_time)
		age = var_minimal_backoff_time;
	return age;
}

/* The message's age in seconds. */
static int64_t
age_seconds(const struct qmgr_message *message)
{
	return (now_microseconds() - message->envelope.arrival_microseconds) / 1000000;
}

/*
 * delay_warning_time: once the message is that old with recipients still
 * deferred, one delay notice for them, recorded in the file's mode so
 * that no later attempt (or qmgr) sends another. A notice that could not
 * be queued is tried at the next attempt.
 */
static void
warn_delayed(struct qmgr_message *message, const struct qmgr_outcome *const *deferred,
	     size_t deferred_count)
{
	const struct qmgr_outcome **list;
	size_t count = 0;
	struct stat info;

	if (var_delay_warning_time <= 0 || message->is_delay_warned ||
	    age_seconds(message) < var_delay_warning_time)
		return;
	list = xcalloc(deferred_count + 1, sizeof(*list));
	/* Only the truly deferred: bounces waiting for their notice are not delays. */
	for (size_t i = 0; i < deferred_count; i++)
		if (deferred[i]->action == DELIVERY_DEFERRED)
			list[count++] = deferred[i];
	if (count > 0 && qmgr_notice_delay(message, list, count) == 0) {
		if (fstat(message->fd, &info) != 0 ||
		    fchmod(message->fd, (info.st_mode & 07777) | QMGR_DELAY_WARNED_MODE) != 0)
			log_warning("%s: record the delay notice in the queue file: %m",
				    message->queue_id);
		message->is_delay_warned = true;
		message->has_unsynced_marks = true;
	}
	free(list);
}

static int
sync_marks(struct qmgr_message *message)
{
	if (!message->has_unsynced_marks)
		return 0;
	if (fsync(message->fd) != 0) {
		log_warning("%s: fsync: %m", message->queue_id);
		return -1;
	}
	message->has_unsynced_marks = false;
	return 0;
}

static void
finish_message(struct qmgr_message *message)
{
	const struct qmgr_outcome **bounced, **deferred;
	size_t bounced_count = 0, deferred_count = 0;
	bool expired = false;

	bounced = xcalloc(message->outcome_count + 1, sizeof(*bounced));
	deferred = xcalloc(message->outcome_count + 1, sizeof(*deferred));
	for (size_t i = 0; i < message->outcome_count; i++)
		if (message->outcomes[i].action == DELIVERY_DEFERRED)
			deferred_count++;
	if (deferred_count > 0 && is_expired(message)) {
		expired = true;
		log_info("%s: from=<%s>, status=expired, returned to sender", message->queue_id,
			 message->envelope.sender);
	}
	deferred_count = 0;
	for (size_t i = 0; i < message->outcome_count; i++) {
		const struct qmgr_outcome *outcome = &message->outcomes[i];

		if (outcome->action == DELIVERY_BOUNCED || expired)
			bounced[bounced_count++] = outcome;
		else
			deferred[deferred_count++] = outcome;
	}
	if (bounced_count > 0) {
		if (qmgr_notice_bounce(message, bounced, bounced_count, expired) == 0) {
			for (size_t i = 0; i < bounced_count; i++)
				mark_done(message, bounced[i]->index);
		} else {
			/* Not sent: the recipients wait and are bounced at the next attempt. */
			for (size_t i = 0; i < bounced_count; i++)
				deferred[deferred_count++] = bounced[i];
		}
	}
	if (deferred_count > 0) {
		int64_t now = time(NULL);
		int64_t next = now + backoff_seconds(message);
		int64_t warn = message->envelope.arrival_microseconds / 1000000 +
			       var_delay_warning_time;

		warn_delayed(message, deferred, deferred_count);
		/* Come back in time for the delay notice, not a whole backoff later. */
		if (var_delay_warning_time > 0 && !message->is_delay_warned && warn < next)
			next = warn > now ? warn : now;
		struct timespec times[2] = {{next, 0}, {next, 0}};

		qmgr_notice_defer_log(message, deferred, deferred_count);
		if (futimens(message->fd, times) != 0)
			log_warning("%s: set the retry time: %m", message->queue_id);
		/* Bounced marks must not be lost once the notice went out. */
		sync_marks(message);
		qmgr_message_move(QUEUE_ACTIVE, QUEUE_DEFERRED, message->queue_id);
	} else {
		struct dstring path;

		dstring_init(&path, DSTRING_NO_LIMIT);
		queue_dir_path(&path, NULL, QUEUE_ACTIVE, message->queue_id);
		if (unlink(path.data) == 0 || errno == ENOENT) {
			qmgr_notice_remove_logs(message->queue_id);
			log_info("%s: removed", message->queue_id);
		} else {
			log_warning("%s: remove %s: %m", message->queue_id, path.data);
		}
		dstring_fini(&path);
	}
	free(bounced);
	free(deferred);
	message_free(message);
}
