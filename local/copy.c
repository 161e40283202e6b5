/*
 * copy - the delivered copy of a message: the headers local adds, then
 * the content from the queue file, as mbox text or as is.
 *
 * Added headers, in Postfix's order: Return-Path: <sender>,
 * X-Original-To: (the recipient as first given), Delivered-To: (the
 * recipient local delivers for, the mark that finds forwarding loops).
 * The content comes from the queue file with pread(2), in blocks, so a
 * message of any size costs a fixed buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "header.h"
#include "local.h"
#include "log.h"
#include "mbox.h"
#include "xalloc.h"

#define COPY_BLOCK 65536

/* write_all: all of data to fd; -1 with errno. */
static int
write_all(int fd, const char *data, size_t length)
{
	while (length > 0) {
		ssize_t n = write(fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		data += n;
		length -= (size_t)n;
	}
	return 0;
}

/* put_header: "Name: value\n" with control characters in value made '?'. */
static void
put_header(struct dstring *out, const char *name, const char *value)
{
	dstring_append_printf(out, "%s: ", name);
	for (const char *p = value; *p != '\0'; p++)
		dstring_append_char(out, (unsigned char)*p < ' ' ? '?' : *p);
	dstring_append_char(out, '\n');
}

int
local_copy_write(const struct local_copy *copy, int fd)
{
	const struct local_message *message = copy->message;
	struct dstring out;
	struct mbox_quoter quoter;
	char *block = xmalloc(COPY_BLOCK);
	int64_t at = message->envelope.content_offset;
	int64_t left = message->envelope.content_size;
	int status = -1;
	int saved_errno = 0;

	dstring_init(&out, DSTRING_NO_LIMIT);
	mbox_quoter_init(&quoter);
	if (copy->flags & LOCAL_COPY_FROM_LINE)
		mbox_from_line(&out, copy->sender, time(NULL));
	if (copy->flags & LOCAL_COPY_RETURN_PATH) {
		dstring_append_str(&out, "Return-Path: <");
		for (const char *p = copy->sender; *p != '\0'; p++)
			dstring_append_char(&out, (unsigned char)*p < ' ' ? '?' : *p);
		dstring_append_str(&out, ">\n");
	}
	if ((copy->flags & LOCAL_COPY_ORIGINAL) && var_enable_original_recipient &&
	    copy->original != NULL && *copy->original != '\0')
		put_header(&out, "X-Original-To", copy->original);
	if ((copy->flags & LOCAL_COPY_DELIVERED) && copy->delivered != NULL)
		put_header(&out, "Delivered-To", copy->delivered);
	while (left > 0) {
		size_t want = left < COPY_BLOCK ? (size_t)left : COPY_BLOCK;
		ssize_t n = pread(message->fd, block, want, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved_errno = n < 0 ? errno : EIO;
			goto done;
		}
		if (copy->flags & LOCAL_COPY_QUOTE)
			mbox_quote(&quoter, block, (size_t)n, &out);
		else
			dstring_append(&out, block, (size_t)n);
		if (n > 0)
			quoter.last = block[n - 1];
		at += n;
		left -= n;
		if (dstring_length(&out) >= COPY_BLOCK) {
			if (write_all(fd, dstring_str(&out), dstring_length(&out)) < 0) {
				saved_errno = errno;
				goto done;
			}
			dstring_reset(&out);
		}
	}
	mbox_quote_finish(&quoter, &out);
	if (copy->flags & LOCAL_COPY_BLANK_LINE) {
		if (!mbox_ends_with_newline(&quoter))
			dstring_append_char(&out, '\n');
		dstring_append_char(&out, '\n');
	}
	if (write_all(fd, dstring_str(&out), dstring_length(&out)) < 0) {
		saved_errno = errno;
		goto done;
	}
	status = 0;
done:
	dstring_fini(&out);
	free(block);
	errno = saved_errno;
	return status;
}

/*
 * local_message_read_delivered: every Delivered-To: value in the header,
 * lowercased, to find loops. The header is read within
 * header_size_limit; at most LOCAL_DELIVERED_MAX values are kept.
 */
void
local_message_read_delivered(struct local_message *message)
{
	int64_t size = message->envelope.header_size;
	char *header;
	ssize_t n;
	size_t start = 0;

	if (size > var_header_size_limit + 65536)
		size = var_header_size_limit + 65536;
	if (size <= 0)
		return;
	header = xmalloc((size_t)size + 1);
	do
		n = pread(message->fd, header, (size_t)size,
		          (off_t)message->envelope.content_offset);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = 0;
	header[n] = '\0';
	for (size_t i = 0; i <= (size_t)n; i++) {
		size_t name_length, value_start;
		struct dstring value;

		if (i < (size_t)n && header[i] != '\n')
			continue;
		if (header_classify(header + start, i - start, false, &name_length, &value_start) ==
		        HEADER_LINE_START &&
		    header_name_equals(header + start, name_length, "Delivered-To") &&
		    message->delivered_to.count < LOCAL_DELIVERED_MAX) {
			dstring_init(&value, 4096);
			/* Continuation lines are rare here; the first line holds the address. */
			header_unfold(header + start + value_start, i - start - value_start,
			              &value);
			for (size_t j = 0; j < dstring_length(&value); j++)
				if (value.data[j] >= 'A' && value.data[j] <= 'Z')
					value.data[j] += 'a' - 'A';
			strlist_append(&message->delivered_to, dstring_str(&value));
			dstring_fini(&value);
		}
		start = i + 1;
	}
	free(header);
}
