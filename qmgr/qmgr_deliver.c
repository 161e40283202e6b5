/*
 * qmgr_deliver - transports, destinations and the delivery requests.
 *
 * A destination is (transport, next hop). Recipients wait in their
 * destination in batches, one batch per message (a request carries one
 * message), split at the transport's recipient limit
 * (TRANSPORT_destination_recipient_limit, else
 * default_destination_recipient_limit).
 *
 * Concurrency. A request is one connection to the agent's socket
 * private/TRANSPORT, and the number open at once is bounded three ways:
 *   - per transport: the maxproc of its master.cf entry (the master runs
 *     no more agents than that; "-" is default_process_limit, 0 is
 *     QMGR_TRANSPORT_LIMIT_MAX);
 *   - per destination: a window that starts at
 *     initial_destination_concurrency and grows by one with each
 *     successful request up to TRANSPORT_destination_concurrency_limit
 *     (else default_destination_concurrency_limit; 0 no limit) - Postfix's
 *     slow start;
 *   - rate: with TRANSPORT_destination_rate_delay (else
 *     default_destination_rate_delay) above 0, one request at a time per
 *     destination, the next starting that long after the last ended
 *     (Postfix: a rate delay implies a destination concurrency of 1);
 *   - failures: a request whose agent could not be reached, crashed, or
 *     reported a destination failure shrinks the window by one; when as
 *     many consecutive requests failed as the window allows (one whole
 *     cohort), the destination is dead: its waiting recipients are
 *     deferred at once with the last reason, and it is tried again after
 *     minimal_backoff_time or on "hikyaku flush" (trigger "F").
 *
 * A request runs on the event loop: connect (non-blocking), write the
 * frames, read results until the end frame. A result is recorded as it
 * comes; whatever is not answered when the connection ends (crash, EOF,
 * a protocol error, ipc_timeout) is deferred: the agent marks what it
 * delivered itself, so nothing is lost and nothing reported is repeated.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr_proto.h"
#include "config.h"
#include "dstring.h"
#include "event.h"
#include "log.h"
#include "master_cf.h"
#include "qmgr.h"
#include "queue_dir.h"
#include "strlist.h"
#include "xalloc.h"

/* Transports with "no limit" still open at most this many requests. */
#define QMGR_TRANSPORT_LIMIT_MAX 1000
/* Destinations known at once; beyond, recipients are deferred. */
#define QMGR_DESTINATIONS_MAX 100000

struct transport {
	char *name;
	int active;
	int limit;             /* requests at once */
	int destination_limit; /* window ceiling; 0 none */
	int recipient_limit;   /* per request */
	int rate_delay;        /* seconds between requests to one destination; 0 none */
	struct transport *next;
};

struct batch {
	struct qmgr_message *message;
	uint32_t *indices;
	size_t count;
	size_t capacity;
	struct batch *next;
};

struct destination {
	struct transport *transport;
	char *next_hop;
	int active;
	int window;
	int failures; /* consecutive failed requests */
	bool is_dead;
	char *dead_reason;
	uint64_t revive_timer;
	int64_t next_start_ms; /* rate delay: no request before this */
	uint64_t rate_timer;   /* wakes the scheduler at next_start_ms */
	struct batch *head;
	struct batch *tail;
	struct destination *next;
};

struct job {
	struct destination *destination;
	struct qmgr_message *message;
	struct delivery_request request;
	struct delivery_recipient *recipients;
	bool *is_answered;
	int fd;
	struct dstring out;
	size_t out_offset;
	struct dstring in;
	uint64_t timer;
	bool has_end;
	bool is_destination_failure;
	bool has_final_result; /* delivered or bounced: the agent works */
	char *problem;         /* why the connection ended early */
};

static struct transport *transports;
static struct destination *destinations;
static size_t destination_count;
static size_t jobs_in_flight;
/* master.cf process limits of unix services, read before the jail. */
static struct strlist limit_names;
static int *limit_values;

size_t
qmgr_deliver_in_flight(void)
{
	return jobs_in_flight;
}

/* A per-transport parameter such as smtp_destination_concurrency_limit. */
static int
transport_parameter(const char *transport, const char *suffix, int fallback)
{
	struct dstring name, value, error;
	const char *written;
	int result = fallback;

	dstring_init(&name, DSTRING_NO_LIMIT);
	dstring_init(&value, DSTRING_NO_LIMIT);
	dstring_init(&error, 256);
	dstring_printf(&name, "%s_%s", transport, suffix);
	written = config_lookup(name.data);
	if (written != NULL && config_expand(written, &value, &error) == 0) {
		char *end;
		long number = strtol(value.data, &end, 10);

		if (end != value.data && *end == 0 && number >= 0 && number <= 1000000)
			result = (int)number;
		else
			log_warning("%s: bad value \"%s\": using %d", name.data, value.data,
				    fallback);
	}
	dstring_fini(&name);
	dstring_fini(&value);
	dstring_fini(&error);
	return result;
}

/* A per-transport time such as smtp_destination_rate_delay: seconds. */
static int
transport_time_parameter(const char *transport, const char *suffix, int fallback)
{
	struct dstring name, value, error;
	const char *written;
	int result = fallback;

	dstring_init(&name, DSTRING_NO_LIMIT);
	dstring_init(&value, DSTRING_NO_LIMIT);
	dstring_init(&error, 256);
	dstring_printf(&name, "%s_%s", transport, suffix);
	written = config_lookup(name.data);
	if (written != NULL && config_expand(written, &value, &error) == 0) {
		char *end;
		long number = strtol(value.data, &end, 10);
		long unit = *end == 0 || strcmp(end, "s") == 0 ? 1
			    : strcmp(end, "m") == 0		 ? 60
			    : strcmp(end, "h") == 0		 ? 3600
			    : strcmp(end, "d") == 0		 ? 86400
								 : 0;

		if (end != value.data && unit != 0 && number >= 0 && number <= 86400 / unit)
			result = (int)(number * unit);
		else
			log_warning("%s: bad time value \"%s\": using %ds", name.data, value.data,
				    fallback);
	}
	dstring_fini(&name);
	dstring_fini(&value);
	dstring_fini(&error);
	return result;
}

void
qmgr_deliver_init(void)
{
	struct master_cf table;
	struct dstring path;

	strlist_init(&limit_names);
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/master.cf", var_config_directory);
	master_cf_init(&table);
	if (master_cf_read(path.data, &table) == 0) {
		limit_values = xcalloc(table.count + 1, sizeof(int));
		for (size_t i = 0; i < table.count; i++) {
			const struct master_cf_entry *entry = &table.entries[i];

			if (entry->type != MASTER_CF_UNIX)
				continue;
			limit_values[limit_names.count] =
			    entry->max_process == MASTER_CF_PROCESS_LIMIT_DEFAULT
				? var_default_process_limit
				: entry->max_process;
			strlist_append(&limit_names, entry->service);
		}
	} else {
		log_warning("%s: cannot read the process limits of the transports: using "
			    "default_process_limit",
			    path.data);
	}
	master_cf_fini(&table);
	dstring_fini(&path);
}

static struct transport *
transport_find(const char *name)
{
	struct transport *transport;
	int limit = var_default_process_limit;

	for (transport = transports; transport != NULL; transport = transport->next)
		if (strcmp(transport->name, name) == 0)
			return transport;
	for (size_t i = 0; i < limit_names.count; i++)
		if (strcmp(limit_names.items[i], name) == 0)
			limit = limit_values[i];
	if (limit <= 0 || limit > QMGR_TRANSPORT_LIMIT_MAX)
		limit = QMGR_TRANSPORT_LIMIT_MAX;
	transport = xcalloc(1, sizeof(*transport));
	transport->name = xstrdup(name);
	transport->limit = limit;
	transport->destination_limit = transport_parameter(
	    name, "destination_concurrency_limit", var_default_destination_concurrency_limit);
	transport->recipient_limit = transport_parameter(name, "destination_recipient_limit",
							 var_default_destination_recipient_limit);
	transport->rate_delay = transport_time_parameter(name, "destination_rate_delay",
							 var_default_destination_rate_delay);
	if (transport->recipient_limit <= 0 || transport->recipient_limit > DELIVERY_RECIPIENTS_MAX)
		transport->recipient_limit = DELIVERY_RECIPIENTS_MAX;
	transport->next = transports;
	transports = transport;
	return transport;
}

static struct destination *
destination_find(const char *transport_name, const char *next_hop)
{
	struct transport *transport = transport_find(transport_name);
	struct destination *destination;

	for (destination = destinations; destination != NULL; destination = destination->next)
		if (destination->transport == transport &&
		    strcmp(destination->next_hop, next_hop) == 0)
			return destination;
	if (destination_count >= QMGR_DESTINATIONS_MAX)
		return NULL;
	destination = xcalloc(1, sizeof(*destination));
	destination->transport = transport;
	destination->next_hop = xstrdup(next_hop);
	destination->window = var_initial_destination_concurrency;
	destination->next = destinations;
	destinations = destination;
	destination_count++;
	return destination;
}

/* Defer a recipient without trying: qmgr's own to= line. */
static void
defer_now(struct qmgr_message *message, uint32_t index, const char *reason)
{
	qmgr_message_log(message, index, DELIVERY_DEFERRED, "4.4.1", reason, "none");
	qmgr_message_outcome(message, index, DELIVERY_DEFERRED, "4.4.1", reason, "none");
}

void
qmgr_deliver_add(struct qmgr_message *message, uint32_t index, const char *transport,
		 const char *next_hop)
{
	struct destination *destination = destination_find(transport, next_hop);
	struct batch *batch;

	if (destination == NULL || destination->is_dead) {
		defer_now(message, index,
			  destination == NULL ? "too many destinations in memory"
					      : destination->dead_reason);
		qmgr_message_finished(message, 1);
		return;
	}
	batch = destination->tail;
	if (batch == NULL || batch->message != message ||
	    batch->count >= (size_t)destination->transport->recipient_limit) {
		batch = xcalloc(1, sizeof(*batch));
		batch->message = message;
		if (destination->tail != NULL)
			destination->tail->next = batch;
		else
			destination->head = batch;
		destination->tail = batch;
	}
	if (batch->count == batch->capacity) {
		batch->capacity = batch->capacity ? 2 * batch->capacity : 4;
		batch->indices = xreallocarray(batch->indices, batch->capacity, sizeof(uint32_t));
	}
	batch->indices[batch->count++] = index;
}

static void
batch_free(struct batch *batch)
{
	free(batch->indices);
	free(batch);
}

static void
revive(void *context)
{
	struct destination *destination = context;

	destination->is_dead = false;
	destination->failures = 0;
	destination->window = var_initial_destination_concurrency;
	destination->revive_timer = 0;
	qmgr_kick();
}

/* A whole cohort failed: defer everything waiting here. */
static void
destination_die(struct destination *destination, const char *reason)
{
	struct batch *batch;

	free(destination->dead_reason);
	destination->dead_reason = xstrdup(reason);
	destination->is_dead = true;
	log_warning("%s/%s: destination failed: %s: delivery suspended for %ds",
		    destination->transport->name, destination->next_hop, reason,
		    var_minimal_backoff_time);
	destination->revive_timer = event_timer(qmgr_loop, (int64_t)var_minimal_backoff_time * 1000,
						revive, destination);
	while ((batch = destination->head) != NULL) {
		destination->head = batch->next;
		if (destination->head == NULL)
			destination->tail = NULL;
		for (size_t i = 0; i < batch->count; i++)
			defer_now(batch->message, batch->indices[i], reason);
		/* Last: the message may be finished and freed. */
		qmgr_message_finished(batch->message, batch->count);
		batch_free(batch);
	}
}

void
qmgr_deliver_forget_dead(void)
{
	for (struct destination *d = destinations; d != NULL; d = d->next) {
		if (d->is_dead) {
			event_cancel_timer(qmgr_loop, d->revive_timer);
			revive(d);
		}
	}
}

void
qmgr_deliver_collect(void)
{
	struct destination **link = &destinations;

	while (*link != NULL) {
		struct destination *destination = *link;

		if (destination->head == NULL && destination->active == 0 &&
		    !destination->is_dead && destination->rate_timer == 0) {
			*link = destination->next;
			free(destination->next_hop);
			free(destination->dead_reason);
			free(destination);
			destination_count--;
		} else {
			link = &destination->next;
		}
	}
}

static void job_io(int fd, unsigned events, void *context);

static void
rate_wakeup(void *context)
{
	struct destination *destination = context;

	destination->rate_timer = 0;
	qmgr_kick();
}

/* Whether the rate delay holds destination back now. */
static bool
is_rate_limited(const struct destination *destination)
{
	return destination->transport->rate_delay > 0 &&
	       (destination->active > 0 || event_now_ms() < destination->next_start_ms);
}

/* The connection is over: record what was not answered, free the job. */
static void
job_finish(struct job *job)
{
	struct destination *destination = job->destination;
	struct qmgr_message *message = job->message;
	size_t count = job->request.recipient_count;
	bool is_failure;
	char reason[512];

	if (job->fd >= 0) {
		event_unwatch(qmgr_loop, job->fd);
		close(job->fd);
	}
	if (job->timer != 0)
		event_cancel_timer(qmgr_loop, job->timer);
	snprintf(reason, sizeof(reason), "delivery agent %s: %s", destination->transport->name,
		 job->problem != NULL ? job->problem : "ended without a result");
	for (size_t i = 0; i < count; i++) {
		if (job->is_answered[i])
			continue;
		qmgr_message_log(message, job->recipients[i].queue_index, DELIVERY_DEFERRED,
				 "4.3.0", reason, "none");
		qmgr_message_outcome(message, job->recipients[i].queue_index, DELIVERY_DEFERRED,
				     "4.3.0", reason, "none");
	}
	/* Destination feedback (slow start, back-off). */
	is_failure = job->is_destination_failure || (!job->has_end && !job->has_final_result);
	if (is_failure) {
		destination->failures++;
		if (destination->window > 1)
			destination->window--;
	} else {
		destination->failures = 0;
		if (destination->transport->destination_limit == 0 ||
		    destination->window < destination->transport->destination_limit)
			destination->window++;
	}
	destination->active--;
	destination->transport->active--;
	jobs_in_flight--;
	if (destination->transport->rate_delay > 0) {
		destination->next_start_ms =
		    event_now_ms() + (int64_t)destination->transport->rate_delay * 1000;
		if (destination->rate_timer != 0)
			event_cancel_timer(qmgr_loop, destination->rate_timer);
		destination->rate_timer =
		    event_timer(qmgr_loop, (int64_t)destination->transport->rate_delay * 1000,
				rate_wakeup, destination);
	}
	free(job->problem);
	free(job->recipients);
	free(job->is_answered);
	dstring_fini(&job->out);
	dstring_fini(&job->in);
	free(job);
	if (is_failure && !destination->is_dead && destination->failures >= destination->window)
		destination_die(destination, reason);
	qmgr_message_finished(message, count);
	qmgr_kick();
}

static void
job_fail(struct job *job, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void
job_fail(struct job *job, const char *format, ...)
{
	char text[400];
	va_list args;

	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	if (job->problem == NULL)
		job->problem = xstrdup(text);
	job_finish(job);
}

static void
job_timeout(void *context)
{
	struct job *job = context;

	job->timer = 0;
	job_fail(job, "no reply within %ds", var_ipc_timeout);
}

/* Take the complete frames in job->in; 1 when the job is over. */
static int
job_read_frames(struct job *job)
{
	size_t used = 0, frame_length;
	struct dstring error;
	int over = 0;

	dstring_init(&error, 512);
	while (!over) {
		enum attr_frame_status status = attr_frame_check(
		    job->in.data + used, job->in.length - used, &frame_length);
		enum delivery_reply_kind kind;
		struct delivery_result result;

		if (status == ATTR_FRAME_INCOMPLETE)
			break;
		if (status == ATTR_FRAME_INVALID ||
		    delivery_reply_decode(job->in.data + used + ATTR_FRAME_HEADER,
					  frame_length - ATTR_FRAME_HEADER,
					  job->request.recipient_count, &kind, &result,
					  &error) != 0) {
			log_warning("%s: delivery agent %s: protocol error: %s", job->message->queue_id,
				    job->destination->transport->name,
				    error.length ? error.data : "frame too large");
			job->problem = xstrdup("protocol error");
			over = 1;
			break;
		}
		used += frame_length;
		if (kind == DELIVERY_REPLY_END) {
			job->has_end = true;
			job->is_destination_failure = result.action == DELIVERY_DEFERRED;
			if (used != job->in.length)
				log_warning("%s: delivery agent %s: data after the end frame",
					    job->message->queue_id, job->destination->transport->name);
			over = 1;
			break;
		}
		if (job->is_answered[result.recipient]) {
			log_warning("%s: delivery agent %s: recipient %" PRIu32 " answered twice",
				    job->message->queue_id, job->destination->transport->name,
				    result.recipient);
			job->problem = xstrdup("protocol error");
			over = 1;
			break;
		}
		job->is_answered[result.recipient] = true;
		if (result.action != DELIVERY_DEFERRED)
			job->has_final_result = true;
		qmgr_message_outcome(job->message, job->recipients[result.recipient].queue_index,
				     result.action, result.dsn, result.reason, result.relay);
	}
	if (used > 0) {
		memmove(job->in.data, job->in.data + used, job->in.length - used);
		dstring_truncate(&job->in, job->in.length - used);
	}
	dstring_fini(&error);
	return over;
}

static void
job_io(int fd, unsigned events, void *context)
{
	struct job *job = context;

	if ((events & EVENT_WRITE) && job->out_offset < job->out.length) {
		ssize_t count = send(fd, job->out.data + job->out_offset,
				     job->out.length - job->out_offset, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (count < 0 && errno != EAGAIN && errno != EINTR) {
			/* The agent may have answered and gone: read what it said. */
			job->out_offset = job->out.length;
		} else if (count > 0) {
			job->out_offset += (size_t)count;
		}
		if (job->out_offset == job->out.length)
			event_watch(qmgr_loop, fd, EVENT_READ, job_io, job);
	}
	if (events & EVENT_READ) {
		char buffer[16384];
		ssize_t count = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);

		if (count < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (count <= 0) {
			job_fail(job, "%s", count == 0 ? "lost connection (crashed?)" : strerror(errno));
			return;
		}
		if (dstring_append(&job->in, buffer, (size_t)count) != 0) {
			job_fail(job, "reply too large");
			return;
		}
		if (job_read_frames(job))
			job_finish(job);
	}
}

/* Start one request for the head batch of destination. */
static void
job_start(struct destination *destination)
{
	struct batch *batch = destination->head;
	struct transport *transport = destination->transport;
	struct qmgr_message *message = batch->message;
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct job *job;
	size_t count = batch->count;

	destination->head = batch->next;
	if (destination->head == NULL)
		destination->tail = NULL;
	job = xcalloc(1, sizeof(*job));
	job->destination = destination;
	job->message = message;
	job->fd = -1;
	job->recipients = xcalloc(count, sizeof(*job->recipients));
	job->is_answered = xcalloc(count, sizeof(bool));
	for (size_t i = 0; i < count; i++) {
		const struct queue_recipient *recipient =
		    &message->envelope.recipients[batch->indices[i]];

		job->recipients[i] = (struct delivery_recipient){
		    batch->indices[i], recipient->status_offset, recipient->address,
		    recipient->original, recipient->orcpt, recipient->notify};
	}
	batch_free(batch);
	job->request.queue_name = QUEUE_ACTIVE;
	memcpy(job->request.queue_id, message->queue_id, sizeof(job->request.queue_id));
	job->request.transport = transport->name;
	job->request.next_hop = destination->next_hop;
	job->request.sender = message->envelope.sender;
	job->request.envid = queue_message_attribute(&message->envelope, QUEUE_ATTR_ENVID)
				 ? queue_message_attribute(&message->envelope, QUEUE_ATTR_ENVID)
				 : "";
	job->request.ret = queue_message_attribute(&message->envelope, QUEUE_ATTR_RET)
			       ? queue_message_attribute(&message->envelope, QUEUE_ATTR_RET)
			       : "";
	job->request.arrival_time = message->envelope.arrival_microseconds;
	job->request.active_time = message->active_time;
	job->request.size = message->envelope.content_size;
	job->request.flags = message->was_deferred ? DELIVERY_FLAG_RETRY : 0;
	job->request.recipients = job->recipients;
	job->request.recipient_count = count;
	dstring_init(&job->out, DSTRING_NO_LIMIT);
	dstring_init(&job->in, ATTR_FRAME_MAX + 16384 + 1);
	destination->active++;
	transport->active++;
	jobs_in_flight++;

	/* Strings over the protocol's limits would be a panic in the encoder. */
	if (strlen(job->request.sender) > DELIVERY_ADDRESS_MAX ||
	    strlen(job->request.envid) > DELIVERY_NAME_MAX ||
	    strlen(job->request.ret) > DELIVERY_NAME_MAX) {
		job_fail(job, "envelope field over the protocol limit");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (strlen(job->recipients[i].address) > DELIVERY_ADDRESS_MAX ||
		    strlen(job->recipients[i].original) > DELIVERY_ADDRESS_MAX ||
		    strlen(job->recipients[i].orcpt) > DELIVERY_ADDRESS_MAX) {
			job_fail(job, "recipient over the protocol limit");
			return;
		}
	}
	delivery_request_encode(&job->out, &job->request);

	snprintf(address.sun_path, sizeof(address.sun_path), "%s/%s", QUEUE_PRIVATE,
		 transport->name);
	job->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (job->fd < 0) {
		job_fail(job, "socket: %s", strerror(errno));
		return;
	}
	if (connect(job->fd, (struct sockaddr *)&address, sizeof(address)) != 0 &&
	    errno != EINPROGRESS) {
		job_fail(job, "connect to %s: %s", address.sun_path, strerror(errno));
		return;
	}
	job->timer = event_timer(qmgr_loop, (int64_t)var_ipc_timeout * 1000, job_timeout, job);
	event_watch(qmgr_loop, job->fd, EVENT_WRITE | EVENT_READ, job_io, job);
}

static bool is_running;
static bool must_run_again;

void
qmgr_deliver_run(void)
{
	/* job_start may finish a job at once, which kicks: no recursion. */
	if (is_running) {
		must_run_again = true;
		return;
	}
	is_running = true;
	do {
		bool has_started;

		must_run_again = false;
		/* Round robin: one request per destination per pass. */
		do {
			has_started = false;
			for (struct destination *d = destinations; d != NULL; d = d->next) {
				if (d->head == NULL || d->is_dead || d->active >= d->window ||
				    d->transport->active >= d->transport->limit ||
				    is_rate_limited(d))
					continue;
				job_start(d);
				has_started = true;
			}
		} while (has_started);
	} while (must_run_again);
	is_running = false;
}
