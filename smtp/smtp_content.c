/*
 * smtp_content - the message as SMTP DATA (RFC 5321 section 4.5.2).
 *
 * The queue file holds the content with LF line ends. On the wire each
 * LF becomes CR LF, a line that starts with "." gets another "." in
 * front, and a line longer than smtp_line_length_limit is broken by
 * inserting CR LF SPACE (Postfix's behaviour, which keeps MIME
 * structure and header folding intact). A last line without its LF
 * gets one. The caller sends the final ".", after it checked that the
 * server did not answer early. The content is read with
 * pread(2) in fixed blocks, so a message of any size costs one buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "smtp.h"
#include "stream.h"
#include "xalloc.h"

#define SMTP_CONTENT_BLOCK 65536

int
smtp_content_send(const struct smtp_state *state, struct stream *stream, int line_limit,
                  bool *is_local_error)
{
	char *block = xmalloc(SMTP_CONTENT_BLOCK);
	int64_t at = state->message.content_offset;
	int64_t left = state->message.content_size;
	size_t column = 0; /* bytes on the current output line */
	int status = -1;

	*is_local_error = false;
	while (left > 0) {
		size_t want = left < SMTP_CONTENT_BLOCK ? (size_t)left : SMTP_CONTENT_BLOCK;
		ssize_t n = pread(state->fd, block, want, (off_t)at);
		size_t start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			*is_local_error = true;
			goto done;
		}
		at += n;
		left -= n;
		/* Write runs of ordinary bytes at once; act at line starts, ends and the limit. */
		for (size_t i = 0; i < (size_t)n; i++) {
			char c = block[i];

			if (c == '\n') {
				if (stream_write(stream, block + start, i - start) != STREAM_OK ||
				    stream_write(stream, "\r\n", 2) != STREAM_OK)
					goto done;
				start = i + 1;
				column = 0;
				continue;
			}
			if (column == 0 && c == '.') {
				if (stream_write(stream, block + start, i - start) != STREAM_OK ||
				    stream_write(stream, ".", 1) != STREAM_OK)
					goto done;
				start = i;
			}
			if (line_limit > 0 && column >= (size_t)line_limit) {
				if (stream_write(stream, block + start, i - start) != STREAM_OK ||
				    stream_write(stream, "\r\n ", 3) != STREAM_OK)
					goto done;
				start = i;
				column = 1;
			}
			column++;
		}
		if (stream_write(stream, block + start, (size_t)n - start) != STREAM_OK)
			goto done;
	}
	if (column > 0 && stream_write(stream, "\r\n", 2) != STREAM_OK)
		goto done;
	if (stream_flush(stream) != STREAM_OK)
		goto done;
	status = 0;
done:
	if (status < 0 && !*is_local_error)
		errno = stream_error_code(stream) != 0 ? stream_error_code(stream) : ETIMEDOUT;
	free(block);
	return status;
}
