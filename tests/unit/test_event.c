/*
 * test_event - the event loop: timers run in deadline order and can be
 * cancelled; descriptors report readiness, a hang-up reports as READ;
 * a callback may unwatch another descriptor whose event is already in
 * the same batch (it must not run); the loop ends when nothing is left.
 */
#include <unistd.h>

#include "check.h"
#include "event.h"

static char order[16];
static size_t order_length;

static void
record(void *context)
{
	order[order_length++] = *(const char *)context;
}

static void
test_timers(void)
{
	struct event_loop *loop = event_loop_new();
	int64_t start = event_now_ms();
	uint64_t cancelled;

	order_length = 0;
	event_timer(loop, 30, record, "c");
	event_timer(loop, 10, record, "a");
	cancelled = event_timer(loop, 20, record, "x");
	event_timer(loop, 20, record, "b");
	event_timer(loop, 10, record, "A"); /* same deadline as "a": after it */
	event_cancel_timer(loop, cancelled);
	event_cancel_timer(loop, 12345); /* unknown: ignored */
	event_loop_run(loop);
	order[order_length] = '\0';
	CHECK_STR_EQ(order, "aAbc");
	CHECK(event_now_ms() - start >= 30);
	event_loop_free(loop);
}

static int pipe_a[2], pipe_b[2];
static int reads_a, reads_b, hangups;

static void
read_b(int fd, unsigned events, void *context)
{
	(void)context;
	reads_b++;
	CHECK(events == EVENT_READ);
	(void)fd;
}

/* Unwatches b, whose event may already be in this batch. */
static void
read_a(int fd, unsigned events, void *context)
{
	struct event_loop *loop = context;
	char byte;

	CHECK(events == EVENT_READ);
	CHECK_INT_EQ(read(fd, &byte, 1), 1);
	reads_a++;
	event_unwatch(loop, pipe_b[0]);
	event_unwatch(loop, fd);
}

static void
read_hangup(int fd, unsigned events, void *context)
{
	char byte;

	CHECK(events & EVENT_READ);
	CHECK_INT_EQ(read(fd, &byte, 1), 0);
	hangups++;
	event_unwatch(context, fd);
}

static void
write_ready(int fd, unsigned events, void *context)
{
	CHECK(events == EVENT_WRITE);
	CHECK_INT_EQ(write(fd, "z", 1), 1);
	event_unwatch(context, fd);
}

static void
test_descriptors(void)
{
	struct event_loop *loop = event_loop_new();

	CHECK(pipe(pipe_a) == 0 && pipe(pipe_b) == 0);
	CHECK_INT_EQ(write(pipe_a[1], "x", 1), 1);
	CHECK_INT_EQ(write(pipe_b[1], "y", 1), 1);
	/* Whichever runs first, a must run and unwatch b if b has not run. */
	event_watch(loop, pipe_a[0], EVENT_READ, read_a, loop);
	event_watch(loop, pipe_b[0], EVENT_READ, read_b, loop);
	event_loop_run(loop);
	CHECK_INT_EQ(reads_a, 1);
	CHECK(reads_b <= 1);

	/* A closed writer is a hang-up: reported as READ, read gives EOF. */
	close(pipe_a[1]);
	event_watch(loop, pipe_a[0], EVENT_READ, read_hangup, loop);
	event_loop_run(loop);
	CHECK_INT_EQ(hangups, 1);

	/* Writability, and event_watch replacing the mask of a watch. */
	event_watch(loop, pipe_b[1], EVENT_READ, read_b, loop);
	event_watch(loop, pipe_b[1], EVENT_WRITE, write_ready, loop);
	event_loop_run(loop);
	close(pipe_a[0]);
	close(pipe_b[0]);
	close(pipe_b[1]);
	event_loop_free(loop);
}

static void
stop_loop(void *context)
{
	event_loop_stop(context);
}

static void
test_stop(void)
{
	struct event_loop *loop = event_loop_new();
	int64_t start = event_now_ms();

	event_timer(loop, 10, stop_loop, loop);
	event_timer(loop, 60000, record, "z"); /* never reached */
	order_length = 0;
	event_loop_run(loop);
	CHECK_INT_EQ(order_length, 0);
	CHECK(event_now_ms() - start < 5000);
	event_loop_free(loop);
}

int
main(void)
{
	test_timers();
	test_descriptors();
	test_stop();
	return check_finish();
}
