/*
 * stream - buffered descriptor I/O with timeouts and pluggable I/O
 * functions. The contract is in stream.h.
 *
 * Waiting happens in one place, wait_ready(), with poll(2); the I/O
 * functions themselves never block. Each public call computes its own
 * deadline once (the earlier of now + timeout and the absolute deadline)
 * and hands it down, which is what makes the timeout per operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "stream.h"
#include "xalloc.h"

#define NO_DEADLINE INT64_MAX
#define NANOSECONDS_PER_SECOND 1000000000LL
#define NANOSECONDS_PER_MILLISECOND 1000000LL

struct stream {
	int fd;
	struct stream_ops ops;
	bool is_socket;
	/* Default I/O on a blocking non-socket: poll before each call. */
	bool must_poll_first;
	int timeout_ms;
	int64_t deadline_ns; /* absolute, CLOCK_MONOTONIC, or NO_DEADLINE */
	bool is_eof;
	bool has_error;
	int error_code;
	/* Unread input is read_buffer[read_start .. read_end). */
	size_t read_start;
	size_t read_end;
	size_t write_length;
	char read_buffer[STREAM_BUFFER_SIZE];
	char write_buffer[STREAM_BUFFER_SIZE];
};

static int64_t
now_ns(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		log_panic("clock_gettime(CLOCK_MONOTONIC): %s", strerror(errno));
	return (int64_t)now.tv_sec * NANOSECONDS_PER_SECOND + now.tv_nsec;
}

/* The deadline of an operation that starts now. */
static int64_t
operation_deadline(const struct stream *stream)
{
	int64_t deadline = stream->deadline_ns;

	if (stream->timeout_ms > 0) {
		int64_t by_timeout = now_ns() + stream->timeout_ms * NANOSECONDS_PER_MILLISECOND;

		if (by_timeout < deadline)
			deadline = by_timeout;
	}
	return deadline;
}

static bool
has_passed(int64_t deadline)
{
	return deadline != NO_DEADLINE && now_ns() >= deadline;
}

static enum stream_status
timed_out(void)
{
	errno = ETIMEDOUT;
	return STREAM_TIMEOUT;
}

static enum stream_status
fail(struct stream *stream, int error)
{
	if (!stream->has_error) {
		stream->has_error = true;
		stream->error_code = error;
	}
	errno = stream->error_code;
	return STREAM_ERROR;
}

/* The answer of every call on a stream that already failed. */
static enum stream_status
sticky_error(const struct stream *stream)
{
	errno = stream->error_code;
	return STREAM_ERROR;
}

static ssize_t
default_read(void *context, int fd, void *buffer, size_t size, short *wait_events)
{
	const struct stream *stream = context;

	*wait_events = POLLIN;
	if (stream->is_socket)
		return recv(fd, buffer, size, MSG_DONTWAIT);
	return read(fd, buffer, size);
}

static ssize_t
default_write(void *context, int fd, const void *data, size_t size, short *wait_events)
{
	const struct stream *stream = context;

	*wait_events = POLLOUT;
	if (stream->is_socket)
		return send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(fd, data, size);
}

static enum stream_status
wait_ready(struct stream *stream, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd poll_fd = {.fd = stream->fd, .events = events};
		int timeout = -1;
		int ready;

		if (deadline != NO_DEADLINE) {
			int64_t remaining = deadline - now_ns();

			if (remaining <= 0)
				return timed_out();
			/* Round up: waking early would only poll again. */
			remaining = (remaining + NANOSECONDS_PER_MILLISECOND - 1) /
				    NANOSECONDS_PER_MILLISECOND;
			timeout = remaining > INT_MAX ? INT_MAX : (int)remaining;
		}
		ready = poll(&poll_fd, 1, timeout);
		if (ready > 0) {
			if (poll_fd.revents & POLLNVAL)
				return fail(stream, EBADF);
			return STREAM_OK;
		}
		if (ready < 0 && errno != EINTR)
			return fail(stream, errno);
	}
}

/* Write out the whole output buffer by deadline. */
static enum stream_status
flush_until(struct stream *stream, int64_t deadline)
{
	size_t done = 0;
	enum stream_status status;

	if (stream->has_error)
		return sticky_error(stream);
	while (done < stream->write_length) {
		size_t size = stream->write_length - done;
		short events = POLLOUT;
		ssize_t written;

		if (stream->must_poll_first) {
			/* A blocking pipe that polls writable takes PIPE_BUF bytes at once. */
			if (size > PIPE_BUF)
				size = PIPE_BUF;
			status = wait_ready(stream, POLLOUT, deadline);
			if (status != STREAM_OK)
				goto failed;
		} else if (has_passed(deadline)) {
			status = timed_out();
			goto failed;
		}
		written = stream->ops.write(stream->ops.context, stream->fd,
					    stream->write_buffer + done, size, &events);
		if (written > 0) {
			done += (size_t)written;
		} else if (written == 0) {
			errno = EIO;
			status = STREAM_ERROR;
			goto failed;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			status = wait_ready(stream, events, deadline);
			if (status != STREAM_OK)
				goto failed;
		} else if (errno != EINTR) {
			status = STREAM_ERROR;
			goto failed;
		}
	}
	stream->write_length = 0;
	return STREAM_OK;

failed:
	/* Part of the output may be gone: the stream cannot be trusted again. */
	fail(stream, errno);
	stream->write_length = 0;
	return status;
}

/* Read more input into an empty buffer, by deadline. */
static enum stream_status
fill(struct stream *stream, int64_t deadline)
{
	enum stream_status status;

	if (stream->has_error)
		return sticky_error(stream);
	if (stream->is_eof)
		return STREAM_EOF;
	if (stream->write_length > 0) {
		status = flush_until(stream, deadline);
		if (status != STREAM_OK)
			return status;
	}
	stream->read_start = stream->read_end = 0;
	for (;;) {
		short events = POLLIN;
		ssize_t length;

		if (stream->must_poll_first) {
			status = wait_ready(stream, POLLIN, deadline);
			if (status != STREAM_OK)
				return status;
		} else if (has_passed(deadline)) {
			return timed_out();
		}
		length = stream->ops.read(stream->ops.context, stream->fd, stream->read_buffer,
					  sizeof(stream->read_buffer), &events);
		if (length > 0) {
			stream->read_end = (size_t)length;
			return STREAM_OK;
		}
		if (length == 0) {
			stream->is_eof = true;
			return STREAM_EOF;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			status = wait_ready(stream, events, deadline);
			if (status != STREAM_OK)
				return status;
		} else if (errno != EINTR) {
			return fail(stream, errno);
		}
	}
}

struct stream *
stream_open(int fd)
{
	struct stream *stream = xcalloc(1, sizeof(*stream));
	struct stat status;

	stream->fd = fd;
	stream->is_socket = fstat(fd, &status) == 0 && S_ISSOCK(status.st_mode);
	stream_set_ops(stream, NULL);
	stream->timeout_ms = 0;
	stream->deadline_ns = NO_DEADLINE;
	return stream;
}

enum stream_status
stream_close(struct stream *stream)
{
	enum stream_status status = stream_flush(stream);
	int saved_errno = status == STREAM_OK ? 0 : errno;

	if (close(stream->fd) < 0 && status == STREAM_OK) {
		status = STREAM_ERROR;
		saved_errno = errno;
	}
	free(stream);
	errno = saved_errno;
	return status;
}

void
stream_free(struct stream *stream)
{
	free(stream);
}

int
stream_fd(const struct stream *stream)
{
	return stream->fd;
}

void
stream_set_ops(struct stream *stream, const struct stream_ops *ops)
{
	if (stream->write_length > 0)
		log_panic("stream_set_ops: %zu bytes of output not flushed", stream->write_length);
	stream_discard_input(stream);
	if (ops != NULL) {
		stream->ops = *ops;
		stream->must_poll_first = false;
	} else {
		stream->ops.read = default_read;
		stream->ops.write = default_write;
		stream->ops.context = stream;
		if (!stream->is_socket) {
			int flags = fcntl(stream->fd, F_GETFL);

			stream->must_poll_first = flags >= 0 && !(flags & O_NONBLOCK);
		}
	}
}

void
stream_set_timeout(struct stream *stream, int milliseconds)
{
	stream->timeout_ms = milliseconds > 0 ? milliseconds : 0;
}

void
stream_set_deadline(struct stream *stream, const struct timespec *deadline)
{
	if (deadline == NULL || deadline->tv_sec >= INT64_MAX / NANOSECONDS_PER_SECOND - 1)
		stream->deadline_ns = NO_DEADLINE;
	else
		stream->deadline_ns =
		    (int64_t)deadline->tv_sec * NANOSECONDS_PER_SECOND + deadline->tv_nsec;
}

enum stream_status
stream_wait(struct stream *stream, short events)
{
	if (stream->has_error)
		return sticky_error(stream);
	return wait_ready(stream, events, operation_deadline(stream));
}

enum stream_status
stream_gets(struct stream *stream, struct dstring *line, size_t max_length)
{
	int64_t deadline = operation_deadline(stream);
	size_t taken = 0;

	if (max_length == 0)
		log_panic("stream_gets: max_length 0");
	for (;;) {
		const char *start, *newline;
		size_t length;

		if (stream->read_start == stream->read_end) {
			enum stream_status status = fill(stream, deadline);

			if (status == STREAM_EOF && taken > 0)
				return STREAM_PARTIAL;
			if (status != STREAM_OK)
				return status;
		}
		start = stream->read_buffer + stream->read_start;
		length = stream->read_end - stream->read_start;
		if (length > max_length - taken)
			length = max_length - taken;
		newline = memchr(start, '\n', length);
		if (newline != NULL)
			length = (size_t)(newline - start) + 1;
		if (dstring_append(line, start, length) < 0) {
			errno = ENOBUFS;
			return STREAM_ERROR;
		}
		stream->read_start += length;
		taken += length;
		if (newline != NULL)
			return STREAM_OK;
		if (taken == max_length)
			return STREAM_PARTIAL;
	}
}

enum stream_status
stream_skip_line(struct stream *stream)
{
	int64_t deadline = operation_deadline(stream);

	for (;;) {
		const char *start, *newline;

		if (stream->read_start == stream->read_end) {
			enum stream_status status = fill(stream, deadline);

			if (status != STREAM_OK)
				return status;
		}
		start = stream->read_buffer + stream->read_start;
		newline = memchr(start, '\n', stream->read_end - stream->read_start);
		if (newline != NULL) {
			stream->read_start += (size_t)(newline - start) + 1;
			return STREAM_OK;
		}
		stream->read_start = stream->read_end;
	}
}

/* Copy up to size buffered bytes out; the buffer must not be empty. */
static size_t
take_buffered(struct stream *stream, void *buffer, size_t size)
{
	size_t length = stream->read_end - stream->read_start;

	if (length > size)
		length = size;
	memcpy(buffer, stream->read_buffer + stream->read_start, length);
	stream->read_start += length;
	return length;
}

enum stream_status
stream_read(struct stream *stream, void *buffer, size_t size, size_t *length_read)
{
	*length_read = 0;
	if (size == 0)
		return STREAM_OK;
	if (stream->read_start == stream->read_end) {
		enum stream_status status = fill(stream, operation_deadline(stream));

		if (status != STREAM_OK)
			return status;
	}
	*length_read = take_buffered(stream, buffer, size);
	return STREAM_OK;
}

enum stream_status
stream_read_exact(struct stream *stream, void *buffer, size_t size)
{
	int64_t deadline = operation_deadline(stream);
	size_t done = 0;

	while (done < size) {
		if (stream->read_start == stream->read_end) {
			enum stream_status status = fill(stream, deadline);

			if (status != STREAM_OK)
				return status;
		}
		done += take_buffered(stream, (char *)buffer + done, size - done);
	}
	return STREAM_OK;
}

size_t
stream_pending(const struct stream *stream)
{
	return stream->read_end - stream->read_start;
}

size_t
stream_discard_input(struct stream *stream)
{
	size_t dropped = stream->read_end - stream->read_start;

	stream->read_start = stream->read_end = 0;
	return dropped;
}

bool
stream_at_eof(const struct stream *stream)
{
	return stream->is_eof && stream->read_start == stream->read_end;
}

/* stream_write with a deadline, shared by the writing calls. */
static enum stream_status
write_until(struct stream *stream, const void *data, size_t size, int64_t deadline)
{
	const char *cursor = data;

	if (stream->has_error)
		return sticky_error(stream);
	while (size > 0) {
		size_t space = sizeof(stream->write_buffer) - stream->write_length;

		if (space == 0) {
			enum stream_status status = flush_until(stream, deadline);

			if (status != STREAM_OK)
				return status;
			continue;
		}
		if (space > size)
			space = size;
		memcpy(stream->write_buffer + stream->write_length, cursor, space);
		stream->write_length += space;
		cursor += space;
		size -= space;
	}
	return STREAM_OK;
}

enum stream_status
stream_write(struct stream *stream, const void *data, size_t size)
{
	return write_until(stream, data, size, operation_deadline(stream));
}

enum stream_status
stream_puts(struct stream *stream, const char *text)
{
	return stream_write(stream, text, strlen(text));
}

enum stream_status
stream_vprintf(struct stream *stream, const char *format, va_list args)
{
	size_t space = sizeof(stream->write_buffer) - stream->write_length;
	struct dstring text;
	enum stream_status status;
	va_list copy;
	int needed;

	if (stream->has_error)
		return sticky_error(stream);
	/* Usually the text fits in the buffer: format it in place. */
	va_copy(copy, args);
	needed = vsnprintf(stream->write_buffer + stream->write_length, space, format, copy);
	va_end(copy);
	if (needed < 0)
		return STREAM_ERROR;
	if ((size_t)needed < space) {
		stream->write_length += (size_t)needed;
		return STREAM_OK;
	}
	dstring_init(&text, DSTRING_NO_LIMIT);
	if (dstring_append_vprintf(&text, format, args) < 0) {
		dstring_fini(&text);
		errno = ENOMEM;
		return STREAM_ERROR;
	}
	status = stream_write(stream, dstring_str(&text), dstring_length(&text));
	dstring_fini(&text);
	return status;
}

enum stream_status
stream_printf(struct stream *stream, const char *format, ...)
{
	va_list args;
	enum stream_status status;

	va_start(args, format);
	status = stream_vprintf(stream, format, args);
	va_end(args);
	return status;
}

enum stream_status
stream_flush(struct stream *stream)
{
	return flush_until(stream, operation_deadline(stream));
}

bool
stream_has_error(const struct stream *stream)
{
	return stream->has_error;
}

int
stream_error_code(const struct stream *stream)
{
	return stream->has_error ? stream->error_code : 0;
}
