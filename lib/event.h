/*
 * event - one event loop for descriptors and timers.
 *
 * Built on epoll where the compatibility layer has it and on poll(2)
 * elsewhere (and when HIKYAKU_POSIX_FALLBACK forces it), with the same
 * behaviour. Callbacks run one at a time in the loop's thread; a callback
 * may add or remove any descriptor or timer, its own included.
 */
#ifndef HIKYAKU_EVENT_H
#define HIKYAKU_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum event_kind {
	EVENT_READ = 1 << 0,
	EVENT_WRITE = 1 << 1,
};

struct event_loop;

/* Called with the events that fired (EVENT_READ/EVENT_WRITE; a hang-up or
 * error reports as EVENT_READ so the reader sees EOF or the error). */
typedef void (*event_fd_callback)(int fd, unsigned events, void *context);
typedef void (*event_timer_callback)(void *context);

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);

/* Watch fd for events (a mask of enum event_kind); replaces an earlier watch. */
void event_watch(struct event_loop *loop, int fd, unsigned events, event_fd_callback callback,
		 void *context);
/* Stop watching fd (it is not closed). Safe for an fd not watched.
 * Unwatch a descriptor before closing it: closing a watched descriptor is
 * a bug (the poll(2) build panics on it). */
void event_unwatch(struct event_loop *loop, int fd);

/* Call callback once, delay_ms from now. Returns an id for event_cancel_timer. */
uint64_t event_timer(struct event_loop *loop, int64_t delay_ms, event_timer_callback callback,
		     void *context);
void event_cancel_timer(struct event_loop *loop, uint64_t id);

/* Run until event_loop_stop, or until nothing is watched and no timer is set. */
void event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

/* Milliseconds on the monotonic clock. */
int64_t event_now_ms(void);

#endif
