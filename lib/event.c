/*
 * event - one event loop for descriptors and timers (see event.h).
 *
 * Descriptors: a table indexed by descriptor number holds each watch. Each
 * watch carries a generation number that changes whenever the descriptor
 * is watched anew, and the kernel's event carries the generation it was
 * registered with: an event that became stale inside one batch (a callback
 * unwatched or closed and reopened that descriptor) is dropped instead of
 * reaching the wrong callback.
 *
 * Timers: a binary min-heap ordered by deadline, then by id (so timers
 * with equal deadlines run in the order they were made). Cancelling finds
 * the timer by a linear search; daemons hold few timers per process.
 *
 * The kernel interface is epoll on Linux and poll(2) elsewhere or when
 * HIKYAKU_POSIX_FALLBACK is defined; the behaviour is the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "xalloc.h"

#if defined(__linux__) && !defined(HIKYAKU_POSIX_FALLBACK)
#define EVENT_USE_EPOLL 1
#include <sys/epoll.h>
#else
#define EVENT_USE_EPOLL 0
#include <poll.h>
#endif

/* Events taken from the kernel per wait. */
#define EVENT_BATCH 64

struct watch {
	event_fd_callback callback;
	void *context;
	unsigned events;
	uint32_t generation;
	bool is_watched;
};

struct timer {
	int64_t deadline;
	uint64_t id;
	event_timer_callback callback;
	void *context;
};

struct event_loop {
	struct watch *watches; /* indexed by descriptor */
	size_t watch_capacity;
	size_t watch_count; /* descriptors watched now */
	uint32_t next_generation;
	struct timer *timers; /* min-heap */
	size_t timer_count;
	size_t timer_capacity;
	uint64_t next_timer_id;
	bool is_stopped;
#if EVENT_USE_EPOLL
	int epoll_fd;
#else
	struct pollfd *polls;
	uint32_t *poll_generations;
	size_t poll_capacity;
#endif
};

int64_t
event_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

struct event_loop *
event_loop_new(void)
{
	struct event_loop *loop = xcalloc(1, sizeof(*loop));

	loop->next_generation = 1;
	loop->next_timer_id = 1;
#if EVENT_USE_EPOLL
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		log_fatal("epoll_create1: %m");
#endif
	return loop;
}

void
event_loop_free(struct event_loop *loop)
{
	if (loop == NULL)
		return;
#if EVENT_USE_EPOLL
	close(loop->epoll_fd);
#else
	free(loop->polls);
	free(loop->poll_generations);
#endif
	free(loop->watches);
	free(loop->timers);
	free(loop);
}

#if EVENT_USE_EPOLL
static uint32_t
epoll_mask(unsigned events)
{
	return ((events & EVENT_READ) ? EPOLLIN : 0) | ((events & EVENT_WRITE) ? EPOLLOUT : 0);
}
#endif

void
event_watch(struct event_loop *loop, int fd, unsigned events, event_fd_callback callback,
	    void *context)
{
	struct watch *watch;
	bool was_watched;

	if (fd < 0)
		log_panic("event_watch: bad descriptor %d", fd);
	if ((size_t)fd >= loop->watch_capacity) {
		size_t capacity = loop->watch_capacity ? loop->watch_capacity : 64;

		while (capacity <= (size_t)fd)
			capacity *= 2;
		loop->watches = xreallocarray(loop->watches, capacity, sizeof(*loop->watches));
		memset(loop->watches + loop->watch_capacity, 0,
		       (capacity - loop->watch_capacity) * sizeof(*loop->watches));
		loop->watch_capacity = capacity;
	}
	watch = &loop->watches[fd];
	was_watched = watch->is_watched;
	if (!was_watched) {
		watch->generation = loop->next_generation++;
		watch->is_watched = true;
		loop->watch_count++;
	}
	watch->callback = callback;
	watch->context = context;
	watch->events = events;
#if EVENT_USE_EPOLL
	{
		struct epoll_event request = {
		    .events = epoll_mask(events),
		    .data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)watch->generation << 32,
		};

		if (epoll_ctl(loop->epoll_fd, was_watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
			      &request) < 0)
			log_panic("event_watch: epoll_ctl fd %d: %m", fd);
	}
#endif
}

void
event_unwatch(struct event_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->watch_capacity || !loop->watches[fd].is_watched)
		return;
	loop->watches[fd].is_watched = false;
	loop->watch_count--;
#if EVENT_USE_EPOLL
	/*
	 * The descriptor may already be closed, which removed it, or replaced
	 * by one epoll cannot watch (the skeleton's SIGTERM handler puts
	 * /dev/null in a listening socket's place): neither is an error.
	 */
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF &&
	    errno != ENOENT && errno != EPERM)
		log_warning("event_unwatch: epoll_ctl fd %d: %m", fd);
#endif
}

/* Whether timer a runs before timer b. */
static bool
timer_before(const struct timer *a, const struct timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void
heap_swap(struct event_loop *loop, size_t i, size_t j)
{
	struct timer saved = loop->timers[i];

	loop->timers[i] = loop->timers[j];
	loop->timers[j] = saved;
}

static void
heap_up(struct event_loop *loop, size_t index)
{
	while (index > 0) {
		size_t parent = (index - 1) / 2;

		if (!timer_before(&loop->timers[index], &loop->timers[parent]))
			break;
		heap_swap(loop, index, parent);
		index = parent;
	}
}

static void
heap_down(struct event_loop *loop, size_t index)
{
	for (;;) {
		size_t left = 2 * index + 1, right = left + 1, smallest = index;

		if (left < loop->timer_count && timer_before(&loop->timers[left], &loop->timers[smallest]))
			smallest = left;
		if (right < loop->timer_count &&
		    timer_before(&loop->timers[right], &loop->timers[smallest]))
			smallest = right;
		if (smallest == index)
			return;
		heap_swap(loop, index, smallest);
		index = smallest;
	}
}

static void
heap_remove(struct event_loop *loop, size_t index)
{
	loop->timer_count--;
	if (index == loop->timer_count)
		return;
	loop->timers[index] = loop->timers[loop->timer_count];
	heap_down(loop, index);
	heap_up(loop, index);
}

uint64_t
event_timer(struct event_loop *loop, int64_t delay_ms, event_timer_callback callback, void *context)
{
	struct timer *timer;
	uint64_t id = loop->next_timer_id++;

	if (loop->timer_count == loop->timer_capacity) {
		loop->timer_capacity = loop->timer_capacity ? loop->timer_capacity * 2 : 16;
		loop->timers = xreallocarray(loop->timers, loop->timer_capacity, sizeof(*loop->timers));
	}
	timer = &loop->timers[loop->timer_count++];
	timer->deadline = event_now_ms() + (delay_ms > 0 ? delay_ms : 0);
	timer->id = id;
	timer->callback = callback;
	timer->context = context;
	heap_up(loop, loop->timer_count - 1);
	return id;
}

void
event_cancel_timer(struct event_loop *loop, uint64_t id)
{
	for (size_t i = 0; i < loop->timer_count; i++) {
		if (loop->timers[i].id == id) {
			heap_remove(loop, i);
			return;
		}
	}
}

/*
 * Run the timers that are due now. Only as many as were due when we
 * started: a timer callback that sets a new zero-delay timer does not keep
 * this loop from waiting for descriptors.
 */
static void
run_due_timers(struct event_loop *loop)
{
	int64_t now = event_now_ms();
	size_t budget = loop->timer_count;

	while (budget-- > 0 && loop->timer_count > 0 && !loop->is_stopped &&
	       loop->timers[0].deadline <= now) {
		struct timer due = loop->timers[0];

		heap_remove(loop, 0);
		due.callback(due.context);
	}
}

/* Milliseconds until the first timer, or -1 when there is none. */
static int
wait_timeout(const struct event_loop *loop)
{
	int64_t delay;

	if (loop->timer_count == 0)
		return -1;
	delay = loop->timers[0].deadline - event_now_ms();
	if (delay < 0)
		return 0;
	return delay > 3600000 ? 3600000 : (int)delay;
}

/*
 * Deliver one kernel event to its watch, unless the watch changed since
 * the event was registered. A hang-up or error is delivered as what the
 * watcher waits for, so it sees EOF or the error from its next call.
 */
static void
dispatch(struct event_loop *loop, int fd, uint32_t generation, bool is_readable,
	 bool is_writable, bool is_error)
{
	struct watch *watch;
	unsigned events = 0;

	if ((size_t)fd >= loop->watch_capacity)
		return;
	watch = &loop->watches[fd];
	if (!watch->is_watched || watch->generation != generation)
		return;
	if (is_readable && (watch->events & EVENT_READ))
		events |= EVENT_READ;
	if (is_writable && (watch->events & EVENT_WRITE))
		events |= EVENT_WRITE;
	if (is_error)
		events |= (watch->events & EVENT_READ) || watch->events == 0 ? EVENT_READ : EVENT_WRITE;
	if (events != 0)
		watch->callback(fd, events, watch->context);
}

#if EVENT_USE_EPOLL
static void
wait_and_dispatch(struct event_loop *loop)
{
	struct epoll_event ready[EVENT_BATCH];
	int count = epoll_wait(loop->epoll_fd, ready, EVENT_BATCH, wait_timeout(loop));

	if (count < 0) {
		if (errno != EINTR)
			log_fatal("epoll_wait: %m");
		return;
	}
	for (int i = 0; i < count && !loop->is_stopped; i++) {
		uint32_t flags = ready[i].events;

		dispatch(loop, (int)(uint32_t)ready[i].data.u64, (uint32_t)(ready[i].data.u64 >> 32),
			 (flags & EPOLLIN) != 0, (flags & EPOLLOUT) != 0,
			 (flags & (EPOLLERR | EPOLLHUP)) != 0);
	}
}
#else
static void
wait_and_dispatch(struct event_loop *loop)
{
	size_t count = 0;
	int ready;

	if (loop->poll_capacity < loop->watch_count) {
		loop->poll_capacity = loop->watch_count;
		loop->polls = xreallocarray(loop->polls, loop->poll_capacity, sizeof(*loop->polls));
		loop->poll_generations = xreallocarray(loop->poll_generations, loop->poll_capacity,
						       sizeof(*loop->poll_generations));
	}
	for (size_t fd = 0; fd < loop->watch_capacity && count < loop->watch_count; fd++) {
		const struct watch *watch = &loop->watches[fd];

		if (!watch->is_watched)
			continue;
		loop->polls[count].fd = (int)fd;
		loop->polls[count].events = (short)(((watch->events & EVENT_READ) ? POLLIN : 0) |
						    ((watch->events & EVENT_WRITE) ? POLLOUT : 0));
		loop->polls[count].revents = 0;
		loop->poll_generations[count] = watch->generation;
		count++;
	}
	ready = poll(loop->polls, (nfds_t)count, wait_timeout(loop));
	if (ready < 0) {
		if (errno != EINTR)
			log_fatal("poll: %m");
		return;
	}
	for (size_t i = 0; i < count && ready > 0 && !loop->is_stopped; i++) {
		short flags = loop->polls[i].revents;

		if (flags == 0)
			continue;
		ready--;
		if (flags & POLLNVAL)
			log_panic("event loop: descriptor %d was closed while watched",
				  loop->polls[i].fd);
		dispatch(loop, loop->polls[i].fd, loop->poll_generations[i], (flags & POLLIN) != 0,
			 (flags & POLLOUT) != 0, (flags & (POLLERR | POLLHUP)) != 0);
	}
}
#endif

void
event_loop_run(struct event_loop *loop)
{
	loop->is_stopped = false;
	while (!loop->is_stopped && (loop->watch_count > 0 || loop->timer_count > 0)) {
		wait_and_dispatch(loop);
		if (!loop->is_stopped)
			run_due_timers(loop);
	}
}

void
event_loop_stop(struct event_loop *loop)
{
	loop->is_stopped = true;
}
