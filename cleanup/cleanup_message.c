/*
 * cleanup_message - from content bytes to a queue file: the header is
 * collected (bounded), fixed up and rewritten, then written with the
 * envelope; the body streams to the file as it arrives.
 *
 * What the client sends is untrusted text. What we do with odd input:
 * - CR LF becomes LF; a lone CR stays. A last line without LF gets one.
 * - NUL bytes in the header become spaces (a header is text); in the
 *   body they are kept (8-bit clean storage).
 * - 8-bit bytes are kept, in the header and the body.
 * - A header field over header_size_limit is cut there (the excess is
 *   dropped and logged, as Postfix does). More than
 *   CLEANUP_HEADER_COUNT_MAX fields, or more Received: fields than
 *   hopcount_limit, is a permanent error.
 * - A line that is not a header line before the empty line (a missing
 *   header/body separator) ends the header: an empty line is inserted
 *   and that line starts the body. Body lines of any length are kept.
 * - Content over message_size_limit: permanent error, nothing queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cleanup.h"
#include "cleanup_client.h"
#include "config.h"
#include <dirent.h>
#include "header.h"
#include "log.h"
#include "queue_dir.h"
#include "queue_file.h"
#include "xalloc.h"

static unsigned long temp_sequence;

static int64_t
now_microseconds(void)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (int64_t)now.tv_sec * 1000000 + now.tv_usec;
}

/*
 * cleanup_message_begin: create the temporary file and the queue ID
 * (state 1 in docs/queue.md). Returns 0, or -1 after cleanup_fail.
 */
int
cleanup_message_begin(struct cleanup_state *state)
{
	struct dstring path;
	struct stat info;
	int fd;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s/%ld.%lu", var_queue_directory, QUEUE_TEMP, (long)getpid(),
	               ++temp_sequence);
	fd = open(path.data, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warning("create %s: %m", path.data);
		cleanup_fail(state, 4, "4.3.0 queue file write error");
		dstring_fini(&path);
		return -1;
	}
	if (fstat(fd, &info) < 0)
		log_fatal("fstat %s: %m", path.data);
	queue_id_make(state->queue_id, now_microseconds(), (uint64_t)info.st_ino);
	state->temp_fd = fd;
	state->temp_path = dstring_steal(&path);
	dstring_fini(&path);
	state->is_in_header = true;
	state->is_body_line_start = true;
	dstring_init(&state->line, DSTRING_NO_LIMIT);
	return 0;
}

/* Throw the file away (a failure, or a client that went away). */
void
cleanup_message_discard(struct cleanup_state *state)
{
	if (state->writer != NULL) {
		queue_file_writer_abandon(state->writer);
		state->writer = NULL;
	}
	if (state->temp_path != NULL) {
		if (unlink(state->temp_path) < 0 && errno != ENOENT)
			log_warning("remove %s: %m", state->temp_path);
		free(state->temp_path);
		state->temp_path = NULL;
	}
	if (state->temp_fd >= 0) {
		close(state->temp_fd);
		state->temp_fd = -1;
	}
}

void
cleanup_state_free_message(struct cleanup_state *state)
{
	for (size_t i = 0; i < state->header_count; i++)
		dstring_fini(&state->headers[i].text);
	free(state->headers);
	state->headers = NULL;
	state->header_count = 0;
	if (state->line.data != NULL)
		dstring_fini(&state->line);
	free(state->message_id);
	state->message_id = NULL;
}

static void
write_error(struct cleanup_state *state, const char *what)
{
	if (state->error_status == 0)
		log_warning("%s: write %s (%s): %m", state->queue_id, state->temp_path, what);
	cleanup_fail(state, 4, "4.3.0 queue file write error");
}

/* Write body bytes (state->writer exists). */
static void
put_body(struct cleanup_state *state, const char *data, size_t length)
{
	if (state->error_status != 0 || length == 0)
		return;
	if (queue_file_put_content(state->writer, data, length) < 0)
		write_error(state, "content");
}

/* The date in RFC 5322 form, local time. */
static void format_date(time_t when, struct dstring *out);

/* attribute_value: an envelope attribute's value, "" when not given. */
static const char *
attribute_value(const struct cleanup_state *state, const char *name)
{
	for (size_t i = 0; i < state->attribute_count; i++)
		if (strcmp(state->attributes[i].name, name) == 0)
			return state->attributes[i].value;
	return "";
}

/*
 * format_smtp_received: the Received: header of a message that came over
 * SMTP (smtpd), in Postfix's form, from the envelope attributes smtpd
 * sent; only cleanup knows the queue ID. The attribute values come from
 * the client (HELO name) and are single-line strings, except tls_info,
 * smtpd's comment lines folded with "\n\t" (the protocol refuses no
 * byte, so control characters other than that folding are replaced here).
 *
 *   Received: from HELO (NAME [ADDR])
 *   	(using TLSv1.3 with cipher ... (256/256 bits)
 *   	 key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)
 *   	(No client certificate requested)
 *   	(Authenticated sender: USER)
 *   	by MYHOSTNAME (hikyaku) with ESMTPSA id QUEUEID
 *   	for <rcpt>; DATE
 */
static void
format_smtp_received(const struct cleanup_state *state, time_t now, struct dstring *text)
{
	const char *helo = attribute_value(state, "helo");
	const char *name = attribute_value(state, "client_name");
	const char *address = attribute_value(state, "client_address");
	const char *protocol = attribute_value(state, "protocol");
	const char *tls_info = attribute_value(state, "tls_info");
	size_t start;

	if (name[0] == '\0')
		name = "unknown";
	dstring_printf(text, "Received: from %s (%s [%s])", helo[0] ? helo : name, name, address);
	/*
	 * smtpd's comment lines, already in Postfix's words and folded
	 * ("(using ...)\n\t(Authenticated sender: ...)"); a bare text is an
	 * older smtpd's TLS summary.
	 */
	if (tls_info[0] == '(')
		dstring_append_printf(text, "\n\t%s", tls_info);
	else if (tls_info[0] != '\0')
		dstring_append_printf(text, "\n\t(%s)", tls_info);
	dstring_append_printf(text, "\n\tby %s (%s) with %s id %s", var_myhostname, var_mail_name,
	                      protocol[0] ? protocol : "SMTP", state->queue_id);
	if (state->recipient_count == 1) {
		const char *recipient = state->recipients[0].original[0] != '\0'
		                            ? state->recipients[0].original
		                            : state->recipients[0].address;

		dstring_append_str(text, "\n\tfor <");
		address_externalize(recipient, text);
		dstring_append_str(text, ">; ");
	} else {
		dstring_append_str(text, ";\n\t");
	}
	format_date(now, text);
	/* Client-supplied text: no line breaks or control bytes in a header. */
	start = strlen("Received: ");
	for (size_t i = start; i < text->length; i++) {
		unsigned char byte = (unsigned char)text->data[i];

		if (byte < 0x20 && byte != '\t' && !(byte == '\n' && text->data[i + 1] == '\t'))
			text->data[i] = '?';
		else if (byte == 0x7f)
			text->data[i] = '?';
	}
}

static void
format_date(time_t when, struct dstring *out)
{
	struct tm tm;
	char text[64];
	long offset;

	localtime_r(&when, &tm);
	offset = tm.tm_gmtoff / 60;
	strftime(text, sizeof(text), "%a, %e %b %Y %H:%M:%S", &tm);
	dstring_append_printf(out, "%s %c%02ld%02ld (%s)", text, offset < 0 ? '-' : '+',
	                      labs(offset) / 60, labs(offset) % 60,
	                      tm.tm_zone ? tm.tm_zone : "UTC");
}

static void
add_recipient(struct cleanup_state *state, const char *address, const char *original,
              const char *orcpt, unsigned notify)
{
	struct cleanup_recipient *recipient;

	for (size_t i = 0; i < state->recipient_count && i < (size_t)var_duplicate_filter_limit;
	     i++)
		if (strcmp(state->recipients[i].address, address) == 0 &&
		    strcmp(state->recipients[i].orcpt, orcpt) == 0)
			return; /* a duplicate */
	if (state->recipient_count >= CLEANUP_RECIPIENTS_MAX) {
		cleanup_fail(state, 5, "5.5.3 too many recipients");
		return;
	}
	if (state->recipient_count == state->recipient_capacity) {
		state->recipient_capacity =
		    state->recipient_capacity ? 2 * state->recipient_capacity : 8;
		state->recipients = xreallocarray(state->recipients, state->recipient_capacity,
		                                  sizeof(*state->recipients));
	}
	recipient = &state->recipients[state->recipient_count++];
	recipient->address = xstrdup(address);
	recipient->original = xstrdup(original);
	recipient->orcpt = xstrdup(orcpt);
	recipient->notify = notify;
}

/*
 * Rewrite every address in an address header; the text outside the
 * addresses (display names, comments, folding) is kept as it was.
 */
static void
rewrite_header(struct cleanup_state *state, struct cleanup_header *header,
               enum cleanup_address_class address_class, bool is_extracting)
{
	struct address_list list;
	struct dstring error, rewritten, result, recipient;
	const char *value = header->text.data + header->name_length + 1;
	size_t length = header->text.length - header->name_length - 1, done = 0;
	bool is_changed = false;
	bool is_local = (state->flags & CLEANUP_FLAG_LOCAL) != 0;

	dstring_init(&error, 1000);
	if (address_list_parse(value, length, (size_t)var_header_address_token_limit, &list,
	                       &error) < 0) {
		/* Keep the header as it is; an address we cannot find is not rewritten. */
		address_list_fini(&list);
		dstring_fini(&error);
		return;
	}
	dstring_init(&rewritten, DSTRING_NO_LIMIT);
	dstring_init(&result, DSTRING_NO_LIMIT);
	dstring_append(&result, header->text.data, header->name_length + 1);
	for (size_t i = 0; i < list.count && state->error_status == 0; i++) {
		const struct address_span *span = &list.spans[i];

		if (cleanup_rewrite(span->address, address_class, is_local, &rewritten) < 0) {
			cleanup_fail(state, 4, "%s", rewritten.data);
			break;
		}
		if (is_extracting) {
			/* The envelope recipient: qualified and rewritten as such. */
			dstring_init(&recipient, DSTRING_NO_LIMIT);
			if (cleanup_rewrite(span->address, CLEANUP_ENVELOPE_RECIPIENT, true,
			                    &recipient) < 0)
				cleanup_fail(state, 4, "%s", recipient.data);
			else
				add_recipient(state, recipient.data, span->address, "", 0);
			dstring_fini(&recipient);
		}
		if (strcmp(rewritten.data, span->address) == 0)
			continue;
		dstring_append(&result, value + done, span->start - done);
		address_externalize(rewritten.data, &result);
		done = span->end;
		is_changed = true;
	}
	if (is_changed && state->error_status == 0) {
		dstring_append(&result, value + done, length - done);
		dstring_set(&header->text, "");
		dstring_append(&header->text, result.data, result.length);
	}
	address_list_fini(&list);
	dstring_fini(&error);
	dstring_fini(&rewritten);
	dstring_fini(&result);
}

static void
append_header(struct cleanup_state *state, const char *text)
{
	put_body(state, text, strlen(text));
	put_body(state, "\n", 1);
}

/* Find the Message-ID for the log line. */
static void
remember_message_id(struct cleanup_state *state, const struct cleanup_header *header)
{
	struct dstring value;

	dstring_init(&value, 1000);
	header_unfold(header->text.data + header->name_length + 1,
	              header->text.length - header->name_length - 1, &value);
	free(state->message_id);
	state->message_id = dstring_steal(&value);
	dstring_fini(&value);
}

/*
 * The header is complete: check it, fix it up, and write the envelope and
 * the header to the queue file.
 */
static void
finish_header(struct cleanup_state *state)
{
	bool has_from = false, has_date = false, has_message_id = false, has_resent = false;
	bool is_extracting = (state->flags & CLEANUP_FLAG_EXTRACT_RECIPIENTS) != 0;
	bool removes_bcc = is_extracting || (state->flags & CLEANUP_FLAG_REMOVE_BCC) != 0;
	int hops = 0;
	struct dstring text;
	time_t now = time(NULL);

	state->is_in_header = false;
	if (state->error_status != 0)
		return;
	for (size_t i = 0; i < state->header_count; i++) {
		struct cleanup_header *header = &state->headers[i];

		if (header->kind == HEADER_FROM)
			has_from = true;
		else if (header->kind == HEADER_DATE)
			has_date = true;
		else if (header->kind == HEADER_MESSAGE_ID) {
			has_message_id = true;
			remember_message_id(state, header);
		} else if (header->kind == HEADER_RECEIVED)
			hops++;
		if (header_name_has_prefix(header->text.data, header->name_length, "Resent-"))
			has_resent = true;
	}
	if (hops > var_hopcount_limit) {
		cleanup_fail(state, 5, "5.4.6 too many hops (%d Received: headers)", hops);
		return;
	}
	for (size_t i = 0; i < state->header_count && state->error_status == 0; i++) {
		struct cleanup_header *header = &state->headers[i];
		bool is_recipient_header = header_is_recipient_kind(header->kind);
		bool is_resent_header = header->kind == HEADER_RESENT_TO ||
		                        header->kind == HEADER_RESENT_CC ||
		                        header->kind == HEADER_RESENT_BCC;

		if (header_is_sender_kind(header->kind))
			rewrite_header(state, header, CLEANUP_HEADER_SENDER, false);
		else if (is_recipient_header)
			rewrite_header(state, header, CLEANUP_HEADER_RECIPIENT,
			               is_extracting && is_resent_header == has_resent);
		if (removes_bcc &&
		    (header->kind == HEADER_BCC || header->kind == HEADER_RESENT_BCC))
			header->is_removed = true;
	}
	if (state->error_status != 0)
		return;
	if (state->recipient_count == 0) {
		cleanup_fail(state, 5, "5.1.0 no recipients specified");
		return;
	}

	state->writer =
	    queue_file_writer_open(state->temp_fd, state->queue_id, state->arrival_microseconds);
	if (state->writer == NULL) {
		write_error(state, "envelope");
		return;
	}
	if (queue_file_put_sender(state->writer, state->sender) < 0) {
		write_error(state, "envelope");
		return;
	}
	for (size_t i = 0; i < state->attribute_count; i++)
		if (state->attributes[i].value[0] != '\0' &&
		    strcmp(state->attributes[i].name, "tls_info") != 0 &&
		    queue_file_put_attribute(state->writer, state->attributes[i].name,
		                             state->attributes[i].value) < 0) {
			write_error(state, "envelope");
			return;
		}
	for (size_t i = 0; i < state->recipient_count; i++)
		if (queue_file_put_recipient(
		        state->writer, state->recipients[i].address, state->recipients[i].original,
		        state->recipients[i].orcpt, state->recipients[i].notify) < 0) {
			write_error(state, "envelope");
			return;
		}

	dstring_init(&text, DSTRING_NO_LIMIT);
	if (state->flags & CLEANUP_FLAG_LOCAL) {
		dstring_printf(&text, "Received: by %s (hikyaku", var_myhostname);
		if (state->uid >= 0)
			dstring_append_printf(&text, ", from userid %lld", (long long)state->uid);
		dstring_append_printf(&text, ")\n\tid %s; ", state->queue_id);
		format_date(now, &text);
		append_header(state, text.data);
	} else if (attribute_value(state, "client_address")[0] != '\0') {
		format_smtp_received(state, now, &text);
		append_header(state, text.data);
	}
	for (size_t i = 0; i < state->header_count; i++) {
		if (state->headers[i].is_removed)
			continue;
		put_body(state, state->headers[i].text.data, state->headers[i].text.length);
		put_body(state, "\n", 1);
	}
	if (!has_date) {
		dstring_set(&text, "Date: ");
		format_date(now, &text);
		append_header(state, text.data);
	}
	if (!has_message_id) {
		struct tm tm;
		char stamp[32];

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		free(state->message_id);
		dstring_printf(&text, "<%s.%s@%s>", stamp, state->queue_id, var_myhostname);
		state->message_id = xstrdup(text.data);
		dstring_printf(&text, "Message-Id: %s", state->message_id);
		append_header(state, text.data);
	}
	if (!has_from && (state->flags & CLEANUP_FLAG_LOCAL)) {
		struct dstring from;

		dstring_init(&from, DSTRING_NO_LIMIT);
		dstring_set(&text, "From: ");
		if (cleanup_rewrite(state->sender[0] ? state->sender : "MAILER-DAEMON",
		                    CLEANUP_HEADER_SENDER, true, &from) < 0) {
			cleanup_fail(state, 4, "%s", from.data);
		} else if (state->full_name[0] != '\0') {
			address_phrase(state->full_name, &text);
			dstring_append_str(&text, " <");
			address_externalize(from.data, &text);
			dstring_append_str(&text, ">");
		} else {
			address_externalize(from.data, &text);
		}
		dstring_fini(&from);
		append_header(state, text.data);
	}
	put_body(state, "\n", 1);
	if (state->writer != NULL)
		state->header_size = queue_file_content_size(state->writer);
	dstring_fini(&text);
	/* The header is written; free it now, the body may be long. */
	for (size_t i = 0; i < state->header_count; i++)
		dstring_fini(&state->headers[i].text);
	free(state->headers);
	state->headers = NULL;
	state->header_count = 0;
}

/* One whole header-phase line (without LF) from state->line. */
static void
header_line(struct cleanup_state *state, bool is_complete)
{
	struct dstring *line = &state->line;
	size_t name_length, value_start;
	enum header_line_kind kind;

	if (line->length > 0 && line->data[line->length - 1] == '\r' && is_complete)
		dstring_truncate(line, line->length - 1);
	kind = header_classify(line->data, line->length, state->header_count == 0, &name_length,
	                       &value_start);
	if (kind == HEADER_LINE_EMPTY) {
		finish_header(state);
		dstring_reset(line);
		return;
	}
	if (kind == HEADER_LINE_OTHER) {
		log_info("%s: missing header/body separator: the header ends before a non-header "
		         "line",
		         state->queue_id);
		finish_header(state);
		put_body(state, line->data, line->length);
		if (is_complete)
			put_body(state, "\n", 1);
		state->is_body_line_start = is_complete;
		dstring_reset(line);
		return;
	}
	for (size_t i = 0; i < line->length; i++)
		if (line->data[i] == '\0')
			line->data[i] = ' ';
	if (kind == HEADER_LINE_START) {
		struct cleanup_header *header;

		if (state->header_count >= CLEANUP_HEADER_COUNT_MAX) {
			cleanup_fail(state, 5, "5.6.0 message header has more than %d fields",
			             CLEANUP_HEADER_COUNT_MAX);
			dstring_reset(line);
			return;
		}
		if (state->header_count == state->header_capacity) {
			state->header_capacity =
			    state->header_capacity ? 2 * state->header_capacity : 16;
			state->headers = xreallocarray(state->headers, state->header_capacity,
			                               sizeof(*state->headers));
		}
		header = &state->headers[state->header_count++];
		dstring_init(&header->text, (size_t)var_header_size_limit);
		header->name_length = name_length;
		header->kind = header_kind(line->data, name_length);
		header->is_removed = false;
		/* Normalise "Name :" to "Name:" so the value starts after name_length + 1. */
		dstring_append(&header->text, line->data, name_length);
		dstring_append_char(&header->text, ':');
		line->length > value_start
		    ? (void)dstring_append(&header->text, line->data + value_start,
		                           line->length - value_start)
		    : (void)0;
	} else {
		struct cleanup_header *header = &state->headers[state->header_count - 1];

		dstring_append_char(&header->text, '\n');
		dstring_append(&header->text, line->data, line->length);
	}
	if (state->header_count > 0 &&
	    state->headers[state->header_count - 1].text.has_overflowed) {
		struct cleanup_header *header = &state->headers[state->header_count - 1];

		if (!state->is_line_truncated)
			log_info("%s: header %.*s longer than header_size_limit %lld: cut",
			         state->queue_id, (int)header->name_length, header->text.data,
			         var_header_size_limit);
		state->is_line_truncated = true;
		/* Keep what fits: fill up to the limit. */
		if (header->text.length < header->text.limit)
			dstring_append(&header->text, line->data,
			               header->text.limit - header->text.length < line->length
			                   ? header->text.limit - header->text.length
			                   : line->length);
	}
	dstring_reset(line);
}

/* Body bytes: CR LF becomes LF. */
static void
body_bytes(struct cleanup_state *state, const char *data, size_t length)
{
	size_t start = 0;

	if (state->has_pending_cr) {
		state->has_pending_cr = false;
		if (length > 0 && data[0] == '\n') {
			/* The CR was part of CR LF: drop it. */
		} else {
			put_body(state, "\r", 1);
		}
	}
	for (size_t i = 0; i < length; i++) {
		if (data[i] != '\r')
			continue;
		if (i + 1 == length) {
			put_body(state, data + start, i - start);
			state->has_pending_cr = true;
			start = length;
			break;
		}
		if (data[i + 1] == '\n') {
			put_body(state, data + start, i - start);
			start = i + 1;
		}
	}
	if (start < length) {
		put_body(state, data + start, length - start);
		state->is_body_line_start = data[length - 1] == '\n';
	} else if (length > 0 && !state->has_pending_cr) {
		state->is_body_line_start = data[length - 1] == '\n';
	}
}

void
cleanup_message_content(struct cleanup_state *state, const char *data, size_t length)
{
	size_t line_cap = (size_t)var_header_size_limit + 2;

	state->content_received += (int64_t)length;
	if (state->error_status == 0 && var_message_size_limit > 0 &&
	    state->content_received > var_message_size_limit) {
		cleanup_fail(state, 5, "5.3.4 message size exceeds fixed limit");
		log_info("%s: reject: message size exceeds message_size_limit %lld",
		         state->queue_id, var_message_size_limit);
	}
	if (state->error_status != 0)
		return;
	while (length > 0 && state->is_in_header && state->error_status == 0) {
		const char *newline = memchr(data, '\n', length);
		size_t take = newline ? (size_t)(newline - data) : length;

		if (state->line.length + take > line_cap) {
			/* A very long line: classify it by what we have. */
			size_t room = line_cap - state->line.length;

			dstring_append(&state->line, data, room);
			data += room;
			length -= room;
			header_line(state, false);
			if (!state->is_in_header)
				break; /* it was the first body line: the rest follows */
			/* A header line cut at the limit: drop the rest of it. */
			newline = memchr(data, '\n', length);
			if (newline == NULL) {
				state->is_line_truncated = true;
				dstring_set(&state->line, "");
				return;
			}
			length -= (size_t)(newline + 1 - data);
			data = newline + 1;
			continue;
		}
		dstring_append(&state->line, data, take);
		if (newline == NULL)
			return;
		data += take + 1;
		length -= take + 1;
		header_line(state, true);
		state->is_line_truncated = false;
	}
	if (length > 0 && state->error_status == 0)
		body_bytes(state, data, length);
}

/*
 * cleanup_message_end: the content ended. Finish the file (not yet
 * durable); the caller then hands it to the group commit.
 */
void
cleanup_message_end(struct cleanup_state *state)
{
	if (state->error_status != 0)
		return;
	if (state->is_in_header) {
		if (state->line.length > 0)
			header_line(state, true);
		if (state->is_in_header)
			finish_header(state);
	}
	if (state->error_status != 0)
		return;
	if (state->has_pending_cr) {
		state->has_pending_cr = false;
		put_body(state, "\r", 1);
		state->is_body_line_start = false;
	}
	if (!state->is_body_line_start)
		put_body(state, "\n", 1);
	if (state->error_status != 0)
		return;
	if (queue_file_writer_finish(state->writer, state->header_size) < 0) {
		state->writer = NULL;
		write_error(state, "end");
		return;
	}
	state->writer = NULL;
}

/*
 * cleanup_remove_stale_temp_files: remove tmp/ files left by cleanup
 * processes that no longer run (a crash before the rename: the client was
 * never told the message was queued). Names are PID.SEQUENCE.
 */
void
cleanup_remove_stale_temp_files(void)
{
	struct dstring path;
	struct dirent *entry;
	DIR *dir;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/%s", var_queue_directory, QUEUE_TEMP);
	dir = opendir(path.data);
	if (dir == NULL) {
		log_warning("open %s: %m", path.data);
		dstring_fini(&path);
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(entry->d_name, &end, 10);

		if (end == entry->d_name || *end != '.' || pid <= 0)
			continue;
		if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue;
		dstring_printf(&path, "%s/%s/%s", var_queue_directory, QUEUE_TEMP, entry->d_name);
		if (unlink(path.data) == 0)
			log_info("removed stale temporary file %s", path.data);
	}
	closedir(dir);
	dstring_fini(&path);
}
