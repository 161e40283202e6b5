/*
 * stream - a buffered, bidirectional byte stream over one file descriptor,
 * on which the SMTP server and client (and the IPC protocol) live.
 *
 * Contract:
 * - Reading and writing each go through a buffer of STREAM_BUFFER_SIZE
 *   bytes. Bytes are kept raw: CR, NUL and 8-bit bytes pass unchanged.
 * - Every call that may wait is bounded by time. Two limits apply and the
 *   earlier wins: a per-operation timeout (stream_set_timeout), counted
 *   afresh from the start of each call (a whole line, a whole flush, not
 *   each system call, so a client that trickles one byte at a time cannot
 *   stretch an operation), and an absolute deadline on CLOCK_MONOTONIC
 *   (stream_set_deadline). An operation checks the clock before each
 *   system call, so it never overruns its limit by more than one
 *   non-blocking call.
 * - Works on blocking and non-blocking descriptors alike, and never changes
 *   the descriptor's flags: sockets are read and written with MSG_DONTWAIT,
 *   other descriptors (pipes, terminals) are polled before each call.
 *   Writes to a socket use MSG_NOSIGNAL, so a peer that went away is an
 *   EPIPE error, never a SIGPIPE. (Pipes can still raise SIGPIPE: programs
 *   that write to pipes ignore that signal.)
 * - Before a read must wait for the descriptor, pending output is flushed:
 *   replies to pipelined commands are batched while more input is already
 *   buffered, and sent as soon as we would wait for the peer.
 * - I/O errors and write timeouts are sticky: after one, every later call
 *   fails with STREAM_ERROR and the first errno (ETIMEDOUT for a write
 *   timeout). A read timeout is not sticky; the caller decides.
 * - The I/O itself goes through a small table of functions (struct
 *   stream_ops), so TLS plugs in later without changing callers.
 *
 * What it trusts: nothing in the data. A line is at most max_length bytes
 * per call, and every loop is bounded by the buffer, the caller's limits
 * and the timeouts. It trusts its caller to give sane limits, and custom
 * stream_ops not to block.
 *
 * Ownership: stream_open takes the descriptor; stream_close closes it,
 * stream_free leaves it open. A stream is used by one thread at a time.
 */
#ifndef HIKYAKU_STREAM_H
#define HIKYAKU_STREAM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct dstring;
struct stream;

/* The size of each buffer, input and output. */
#define STREAM_BUFFER_SIZE 16384

enum stream_status {
	STREAM_OK,	/* done: a whole line, all bytes asked for, or all written */
	STREAM_PARTIAL, /* stream_gets: a line without its newline (see there) */
	STREAM_EOF,	/* the input ended; nothing was read by this call */
	STREAM_TIMEOUT, /* the timeout or the deadline passed (errno ETIMEDOUT) */
	STREAM_ERROR,	/* errno says why; sticky for I/O errors */
};

/*
 * The I/O functions under a stream. Both must not block: when they cannot
 * make progress they return -1 with errno EAGAIN and set *wait_events to
 * what the stream should poll the descriptor for (POLLIN or POLLOUT; a TLS
 * read may need to write first). read returns 0 at the end of input.
 * Any other -1 is an I/O error, with errno set.
 */
struct stream_ops {
	ssize_t (*read)(void *context, int fd, void *buffer, size_t size, short *wait_events);
	ssize_t (*write)(void *context, int fd, const void *data, size_t size,
			 short *wait_events);
	void *context;
};

/* stream_open: a stream over fd with the default I/O and no time limits. */
struct stream *stream_open(int fd);

/*
 * stream_close: flush pending output (within the time limits), close the
 * descriptor and free the stream. Returns STREAM_OK, or STREAM_TIMEOUT or
 * STREAM_ERROR when the flush or close failed or the stream already had a
 * sticky error (so not all output is known to have left); the stream is
 * gone either way.
 */
enum stream_status stream_close(struct stream *stream);

/*
 * stream_free: free the stream without flushing or closing the descriptor
 * (unflushed output is dropped). For a child after fork, or a descriptor
 * handed on. NULL is allowed.
 */
void stream_free(struct stream *stream);

int stream_fd(const struct stream *stream);

/*
 * stream_set_ops: use these I/O functions from now on (NULL: the default
 * read/send). Input still buffered from the old functions is discarded,
 * so bytes sent before a TLS handshake are never read as if they came
 * through TLS. Pending output at this point is a bug and panics.
 */
void stream_set_ops(struct stream *stream, const struct stream_ops *ops);

/*
 * stream_set_timeout: each later operation must finish within
 * milliseconds; 0 or less means no per-operation limit.
 */
void stream_set_timeout(struct stream *stream, int milliseconds);

/*
 * stream_set_deadline: no operation waits past deadline, an absolute
 * CLOCK_MONOTONIC time; NULL removes the deadline.
 */
void stream_set_deadline(struct stream *stream, const struct timespec *deadline);

/*
 * stream_wait: wait, within the time limits, until the descriptor is ready
 * for events (POLLIN, POLLOUT), for code such as a TLS handshake that does
 * its own I/O on stream_fd. Returns STREAM_OK (ready, or an error or hangup
 * the next call will report), STREAM_TIMEOUT or STREAM_ERROR.
 */
enum stream_status stream_wait(struct stream *stream, short events);

/*
 * stream_gets: append to line the bytes up to and including the next "\n",
 * reading at most max_length bytes (max_length >= 1). Returns:
 * - STREAM_OK: a whole line, ending in "\n" (a CR before it is kept).
 * - STREAM_PARTIAL: no "\n" in the bytes appended: either max_length bytes
 *   were read (the rest of the line stays for the next call), or the input
 *   ended inside the line (stream_at_eof then says so, and the next call
 *   returns STREAM_EOF). A final unterminated line thus comes back as
 *   STREAM_PARTIAL followed by STREAM_EOF.
 * - STREAM_EOF: the input ended before any byte of a line.
 * - STREAM_TIMEOUT, STREAM_ERROR: bytes read before the failure stay
 *   appended to line. If line's own limit is reached, STREAM_ERROR with
 *   errno ENOBUFS; the bytes that did not fit stay in the stream. The
 *   caller's limit should therefore allow max_length more bytes.
 */
enum stream_status stream_gets(struct stream *stream, struct dstring *line, size_t max_length);

/*
 * stream_skip_line: discard input up to and including the next "\n", for
 * example the rest of an overlong line. STREAM_OK when the newline was
 * found, STREAM_EOF when the input ended first, or TIMEOUT or ERROR.
 */
enum stream_status stream_skip_line(struct stream *stream);

/*
 * stream_read: read between 1 and size bytes into buffer, waiting only if
 * nothing is buffered; *length_read says how many. STREAM_EOF when the
 * input has ended (with *length_read 0). size 0 returns STREAM_OK at once.
 */
enum stream_status stream_read(struct stream *stream, void *buffer, size_t size,
			       size_t *length_read);

/*
 * stream_read_exact: read exactly size bytes. On STREAM_EOF (the input
 * ended first), TIMEOUT or ERROR the bytes read before are consumed and
 * the contents of buffer are unspecified.
 */
enum stream_status stream_read_exact(struct stream *stream, void *buffer, size_t size);

/* stream_pending: how many input bytes are buffered and not yet read. */
size_t stream_pending(const struct stream *stream);

/*
 * stream_discard_input: drop the buffered input and return how many bytes
 * were dropped (after STARTTLS: nothing sent before the handshake may be
 * read after it). Bytes still in the kernel are not touched.
 */
size_t stream_discard_input(struct stream *stream);

/* stream_at_eof: the input has ended and every buffered byte was read. */
bool stream_at_eof(const struct stream *stream);

/*
 * stream_write, stream_puts, stream_printf: add output to the buffer,
 * writing out full buffers (within the time limits). Return STREAM_OK, or
 * STREAM_TIMEOUT / STREAM_ERROR (both sticky). Output is sent by
 * stream_flush, by a read that must wait, or by stream_close.
 */
enum stream_status stream_write(struct stream *stream, const void *data, size_t size);
enum stream_status stream_puts(struct stream *stream, const char *text);
enum stream_status stream_printf(struct stream *stream, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
enum stream_status stream_vprintf(struct stream *stream, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));

/* stream_flush: write out all buffered output, within the time limits. */
enum stream_status stream_flush(struct stream *stream);

/* stream_has_error: an I/O error or write timeout happened (sticky). */
bool stream_has_error(const struct stream *stream);

/* stream_error_code: the errno of that sticky error, or 0. */
int stream_error_code(const struct stream *stream);

#endif
