/*
 * bounce - build RFC 3464 delivery status notifications and queue them
 * through cleanup (see the header for who gets what).
 *
 * The text follows Postfix's default templates (bounce_template_file is
 * not read yet), so users and their filters see familiar notices. What it
 * trusts: the envelope as queue_file_read checked it; the original
 * header is copied line by line, each line cut at 998 bytes, the whole
 * at bounce_size_limit; reasons from delivery agents are cut, stripped of
 * control characters and folded.
 */
#include "bounce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cleanup_client.h"
#include "config.h"
#include "dstring.h"
#include "log.h"
#include "queue_file.h"
#include "recipient_log.h"
#include "xalloc.h"

/* The longest reason or diagnostic written into a notice. */
#define BOUNCE_REASON_MAX 900
/* The longest header line copied from the original. */
#define BOUNCE_LINE_MAX 998
/* cleanup's timeout for one operation of the submission. */
#define BOUNCE_CLEANUP_TIMEOUT_MS 60000

/* What differs between the notices: the copy to the postmaster is one. */
struct notice {
	enum bounce_kind kind;
	bool is_postmaster_copy; /* a copy of a failure/delay to the postmaster */
	bool is_double_bounce;   /* a failed notice: to the postmaster */
	const char *recipient;
};

static const char *
config_string(const char *value, const char *fallback)
{
	return value != NULL && value[0] != '\0' ? value : fallback;
}

static const char *
hostname(void)
{
	return config_string(var_myhostname, "localhost");
}

/* RFC 5322 date, local time, like cleanup's Date:. */
static void
append_date(struct dstring *out, int64_t when)
{
	time_t seconds = (time_t)when;
	struct tm tm;
	char text[64];
	long offset;

	localtime_r(&seconds, &tm);
	offset = tm.tm_gmtoff / 60;
	strftime(text, sizeof(text), "%a, %e %b %Y %H:%M:%S", &tm);
	dstring_append_printf(out, "%s %c%02ld%02ld (%s)", text, offset < 0 ? '-' : '+',
	                      labs(offset) / 60, labs(offset) % 60,
	                      tm.tm_zone ? tm.tm_zone : "UTC");
}

/* Append text with control characters replaced, at most max bytes. */
static void
append_clean(struct dstring *out, const char *text, size_t max)
{
	size_t i;

	for (i = 0; text[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)text[i];
		dstring_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/*
 * Append a header-like "Name: value" field, folded before column 78 at
 * spaces where it can be (RFC 5322 2.2.3), ending in LF.
 */
static void
append_field(struct dstring *out, const char *name, const char *value)
{
	struct dstring clean;
	size_t column, i, word_end;
	const char *text;

	dstring_init(&clean, DSTRING_NO_LIMIT);
	append_clean(&clean, value, BOUNCE_REASON_MAX);
	text = dstring_str(&clean);
	dstring_append_printf(out, "%s: ", name);
	column = strlen(name) + 2;
	for (i = 0; text[i] != '\0';) {
		for (word_end = i + 1; text[word_end] != '\0' && text[word_end] != ' '; word_end++)
			;
		if (text[i] == ' ' && column + (word_end - i) > 78 && column > 8) {
			dstring_append_str(out, "\n   ");
			column = 3;
		}
		dstring_append(out, text + i, word_end - i);
		column += word_end - i;
		i = word_end;
	}
	dstring_append_char(out, '\n');
	dstring_fini(&clean);
}

/* Append paragraph text wrapped at 76 columns, continuation lines indented. */
static void
append_wrapped(struct dstring *out, const char *text)
{
	size_t column = 0, i, word_end;

	for (i = 0; text[i] != '\0';) {
		for (word_end = i + 1; text[word_end] != '\0' && text[word_end] != ' '; word_end++)
			;
		if (text[i] == ' ' && column + (word_end - i) > 76 && column > 8) {
			dstring_append_str(out, "\n   ");
			column = 3;
		}
		dstring_append(out, text + i, word_end - i);
		column += word_end - i;
		i = word_end;
	}
	dstring_append_char(out, '\n');
}

/*
 * The DSN Diagnostic-Code: the agent's own, else the SMTP reply inside a
 * Postfix-style reason ("host X said: 550 ... (in reply to RCPT TO
 * command)"), else "X-Postfix; reason".
 */
static void
diagnostic_code(const struct recipient_log_entry *entry, struct dstring *out)
{
	const char *reason = entry->reason != NULL ? entry->reason : "";
	const char *said, *reply, *in_reply;
	size_t length;

	if (entry->diagnostic != NULL && entry->diagnostic[0] != '\0') {
		dstring_append_str(out, entry->diagnostic);
		return;
	}
	said = strstr(reason, " said: ");
	if (entry->reason != NULL && strncmp(entry->reason, "host ", 5) == 0 && said != NULL) {
		reply = said + 7;
		in_reply = strstr(reply, " (in reply to ");
		length = in_reply != NULL ? (size_t)(in_reply - reply) : strlen(reply);
		dstring_append_str(out, "smtp; ");
		dstring_append(out, reply, length);
		return;
	}
	dstring_append_str(out, "X-Postfix; ");
	dstring_append_str(out, reason[0] != '\0' ? reason : "unknown reason");
}

/* The DSN Remote-MTA: the agent's own, else the host name of relay=. */
static void
remote_mta(const struct recipient_log_entry *entry, struct dstring *out)
{
	const char *relay = entry->relay != NULL ? entry->relay : "";
	const char *bracket = strchr(relay, '[');

	if (entry->remote_mta != NULL && entry->remote_mta[0] != '\0') {
		dstring_append_str(out, entry->remote_mta);
		return;
	}
	if (bracket == NULL || bracket == relay)
		return; /* "local", "none", "" */
	dstring_append_str(out, "dns; ");
	dstring_append(out, relay, (size_t)(bracket - relay));
}

static bool
is_reported(enum bounce_kind kind, unsigned notify)
{
	if (notify & CLEANUP_NOTIFY_NEVER)
		return false;
	switch (kind) {
	case BOUNCE_FAILED:
		return notify == 0 || (notify & CLEANUP_NOTIFY_FAILURE);
	case BOUNCE_DELAYED:
		return notify == 0 || (notify & CLEANUP_NOTIFY_DELAY);
	case BOUNCE_SUCCESS:
		return (notify & CLEANUP_NOTIFY_SUCCESS) != 0;
	}
	return false;
}

/* Whether sender is $double_bounce_sender (any domain). */
static bool
is_double_bounce_sender(const char *sender)
{
	const char *name = config_string(var_double_bounce_sender, "double-bounce");
	size_t length = strlen(name);

	return strncasecmp(sender, name, length) == 0 &&
	       (sender[length] == '\0' || sender[length] == '@');
}

bool
bounce_is_due(const struct bounce_request *request, const char **recipient, bool *is_double_bounce)
{
	const char *sender = request->message->sender;
	size_t i;

	if (recipient != NULL)
		*recipient = NULL;
	if (is_double_bounce != NULL)
		*is_double_bounce = false;
	for (i = 0; i < request->entry_count; i++)
		if (is_reported(request->kind, request->entries[i].notify))
			break;
	if (i == request->entry_count)
		return false;
	if (sender[0] != '\0') {
		if (is_double_bounce_sender(sender))
			return false; /* a double bounce that failed: dropped */
		if (recipient != NULL)
			*recipient = sender;
		return true;
	}
	if (request->kind != BOUNCE_FAILED)
		return false;
	if (recipient != NULL)
		*recipient = config_string(var_2bounce_notice_recipient, "postmaster");
	if (is_double_bounce != NULL)
		*is_double_bounce = true;
	return true;
}

/* Read length bytes of content at offset from the queue file. */
static int
read_content(int fd, int64_t offset, size_t length, struct dstring *out, struct dstring *error)
{
	char buffer[65536];

	while (length > 0) {
		size_t want = length < sizeof(buffer) ? length : sizeof(buffer);
		ssize_t n = pread(fd, buffer, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			dstring_printf(error, "read queue file content: %s",
			               n < 0 ? strerror(errno) : "unexpected end of file");
			return -1;
		}
		dstring_append(out, buffer, (size_t)n);
		offset += n;
		length -= (size_t)n;
	}
	return 0;
}

/*
 * Append the original's header (without the empty line after it), lines
 * cut at BOUNCE_LINE_MAX, at most limit bytes in all (whole lines).
 */
static int
append_original_header(const struct bounce_request *request, size_t limit, struct dstring *out,
                       struct dstring *error)
{
	const struct queue_message *message = request->message;
	struct dstring header;
	size_t start, end, written = 0;
	int64_t size = message->header_size;

	if (size > (int64_t)limit + BOUNCE_LINE_MAX)
		size = (int64_t)limit + BOUNCE_LINE_MAX;
	dstring_init(&header, DSTRING_NO_LIMIT);
	if (read_content(request->queue_fd, message->content_offset, (size_t)size, &header, error) <
	    0) {
		dstring_fini(&header);
		return -1;
	}
	for (start = 0; start < dstring_length(&header); start = end + 1) {
		const char *line = dstring_str(&header) + start;
		const char *newline = memchr(line, '\n', dstring_length(&header) - start);
		size_t length;

		end = newline != NULL ? (size_t)(newline - dstring_str(&header))
		                      : dstring_length(&header);
		length = end - start;
		if (length > 0 && line[length - 1] == '\r')
			length--;
		if (length == 0)
			break; /* the end of the header */
		if (length > BOUNCE_LINE_MAX)
			length = BOUNCE_LINE_MAX;
		if (written + length + 1 > limit)
			break;
		dstring_append(out, line, length);
		dstring_append_char(out, '\n');
		written += length + 1;
	}
	dstring_fini(&header);
	return 0;
}

/* Append the whole original, each line ending in LF. */
static int
append_original_message(const struct bounce_request *request, struct dstring *out,
                        struct dstring *error)
{
	const struct queue_message *message = request->message;
	size_t before = dstring_length(out);

	if (read_content(request->queue_fd, message->content_offset, (size_t)message->content_size,
	                 out, error) < 0)
		return -1;
	if (dstring_length(out) > before && dstring_str(out)[dstring_length(out) - 1] != '\n')
		dstring_append_char(out, '\n');
	return 0;
}

static const char *
subject(const struct notice *notice)
{
	if (notice->is_postmaster_copy)
		return notice->kind == BOUNCE_DELAYED ? "Postmaster Warning: Delayed Mail"
		                                      : "Postmaster Copy: Undelivered Mail";
	if (notice->is_double_bounce)
		return "Undelivered Mail Returned to Sender";
	switch (notice->kind) {
	case BOUNCE_FAILED:
		return "Undelivered Mail Returned to Sender";
	case BOUNCE_DELAYED:
		return "Delayed Mail (still being retried)";
	case BOUNCE_SUCCESS:
		return "Successful Mail Delivery Report";
	}
	return "Mail Delivery Status Report";
}

static void
append_human_part(const struct bounce_request *request, const struct notice *notice,
                  struct dstring *out)
{
	struct dstring line;
	size_t i;

	dstring_append_printf(out, "This is the mail system at host %s.\n\n", hostname());
	switch (notice->kind) {
	case BOUNCE_FAILED:
		if (notice->is_postmaster_copy || notice->is_double_bounce)
			dstring_append_str(out,
			                   "The message below could not be delivered to one or "
			                   "more recipients.\n");
		else
			dstring_append_str(out,
			                   "I'm sorry to have to inform you that your message "
			                   "could not\nbe delivered to one or more recipients. "
			                   "It's attached below.\n");
		if (request->is_expired)
			dstring_append_printf(out,
			                      "\nIt could not be delivered within %d day(s), "
			                      "and delivery was given up.\n",
			                      (request->message->sender[0] == '\0'
			                           ? var_bounce_queue_lifetime
			                           : var_maximal_queue_lifetime) /
			                          86400);
		dstring_append_str(out,
		                   "\nFor further assistance, please send mail to postmaster.\n\n"
		                   "If you do so, please include this problem report. You can\n"
		                   "delete your own text from the attached returned message.\n");
		break;
	case BOUNCE_DELAYED:
		dstring_append_str(
		    out,
		    "####################################################################\n"
		    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
		    "####################################################################\n\n");
		/* Postfix's text says hours; a delay_warning_time under an hour (tests) says so. */
		if (var_delay_warning_time >= 3600 || var_delay_warning_time <= 0)
			dstring_append_printf(out,
			                      "Your message could not be delivered for more than %d "
			                      "hour(s).\n",
			                      var_delay_warning_time / 3600);
		else
			dstring_append_printf(out,
			                      "Your message could not be delivered for more than %d "
			                      "second(s).\n",
			                      var_delay_warning_time);
		dstring_append_printf(out, "It will be retried until it is %d day(s) old.\n",
		                      var_maximal_queue_lifetime / 86400);
		dstring_append_str(out,
		                   "\nFor further assistance, please send mail to postmaster.\n\n"
		                   "If you do so, please include this problem report. You can\n"
		                   "delete your own text from the attached returned message.\n");
		break;
	case BOUNCE_SUCCESS:
		dstring_append_str(
		    out, "Your message was successfully delivered to the destination(s)\n"
		         "listed below. If the message was delivered to mailbox you will\n"
		         "receive no further notifications. Otherwise you may still "
		         "receive\nnotifications of mail delivery errors from other "
		         "systems.\n");
		break;
	}
	dstring_append_str(out, "\n                   The mail system\n");
	dstring_init(&line, DSTRING_NO_LIMIT);
	for (i = 0; i < request->entry_count; i++) {
		const struct recipient_log_entry *entry = &request->entries[i];
		if (!notice->is_postmaster_copy && !is_reported(notice->kind, entry->notify))
			continue;
		dstring_reset(&line);
		dstring_append_str(&line, "<");
		append_clean(&line, entry->address, BOUNCE_REASON_MAX);
		dstring_append_str(&line, ">");
		if (entry->original != NULL && entry->original[0] != '\0' &&
		    strcmp(entry->original, entry->address) != 0) {
			dstring_append_str(&line, " (expanded from <");
			append_clean(&line, entry->original, BOUNCE_REASON_MAX);
			dstring_append_str(&line, ">)");
		}
		dstring_append_str(&line, ": ");
		append_clean(&line,
		             entry->reason != NULL && entry->reason[0] != '\0' ? entry->reason
		                                                               : "no reason given",
		             BOUNCE_REASON_MAX);
		dstring_append_char(out, '\n');
		append_wrapped(out, dstring_str(&line));
	}
	dstring_fini(&line);
}

static const char *
action_for(const struct notice *notice, const struct recipient_log_entry *entry)
{
	if (entry->action != NULL && entry->action[0] != '\0')
		return entry->action;
	switch (notice->kind) {
	case BOUNCE_FAILED:
		return "failed";
	case BOUNCE_DELAYED:
		return "delayed";
	case BOUNCE_SUCCESS:
		return "delivered";
	}
	return "failed";
}

static void
append_status_part(const struct bounce_request *request, const struct notice *notice, int64_t now,
                   struct dstring *out)
{
	const struct queue_message *message = request->message;
	const char *envid = queue_message_attribute(message, QUEUE_ATTR_ENVID);
	struct dstring value;
	size_t i;

	dstring_init(&value, DSTRING_NO_LIMIT);
	dstring_append_printf(out, "Reporting-MTA: dns; %s\n", hostname());
	dstring_append_printf(out, "X-Postfix-Queue-ID: %s\n", message->queue_id);
	dstring_reset(&value);
	dstring_append_str(&value, "rfc822; ");
	dstring_append_str(&value, message->sender);
	append_field(out, "X-Postfix-Sender", dstring_str(&value));
	if (envid != NULL && envid[0] != '\0')
		append_field(out, "Original-Envelope-Id", envid);
	dstring_append_str(out, "Arrival-Date: ");
	append_date(out, message->arrival_microseconds / 1000000);
	dstring_append_char(out, '\n');
	for (i = 0; i < request->entry_count; i++) {
		const struct recipient_log_entry *entry = &request->entries[i];
		const char *dsn = entry->dsn != NULL && entry->dsn[0] != '\0' ? entry->dsn : NULL;

		if (!notice->is_postmaster_copy && !is_reported(notice->kind, entry->notify))
			continue;
		dstring_append_char(out, '\n');
		dstring_reset(&value);
		dstring_append_printf(&value, "rfc822; %s", entry->address);
		append_field(out, "Final-Recipient", dstring_str(&value));
		if (entry->orcpt != NULL && entry->orcpt[0] != '\0') {
			append_field(out, "Original-Recipient", entry->orcpt);
		} else if (entry->original != NULL && entry->original[0] != '\0' &&
		           strcmp(entry->original, entry->address) != 0) {
			dstring_reset(&value);
			dstring_append_printf(&value, "rfc822; %s", entry->original);
			append_field(out, "Original-Recipient", dstring_str(&value));
		}
		dstring_append_printf(out, "Action: %s\n", action_for(notice, entry));
		if (dsn == NULL)
			dsn = notice->kind == BOUNCE_FAILED    ? "5.0.0"
			      : notice->kind == BOUNCE_DELAYED ? "4.0.0"
			                                       : "2.0.0";
		append_field(out, "Status", dsn);
		dstring_reset(&value);
		remote_mta(entry, &value);
		if (dstring_length(&value) > 0)
			append_field(out, "Remote-MTA", dstring_str(&value));
		if (notice->kind != BOUNCE_SUCCESS ||
		    (entry->diagnostic != NULL && entry->diagnostic[0] != '\0') ||
		    (entry->reason != NULL && strncmp(entry->reason, "host ", 5) == 0)) {
			dstring_reset(&value);
			diagnostic_code(entry, &value);
			append_field(out, "Diagnostic-Code", dstring_str(&value));
		}
		if (notice->kind == BOUNCE_DELAYED) {
			dstring_append_str(out, "Last-Attempt-Date: ");
			append_date(out, entry->time > 0 ? entry->time : now);
			dstring_append_str(out, "\nWill-Retry-Until: ");
			append_date(out, message->arrival_microseconds / 1000000 +
			                     var_maximal_queue_lifetime);
			dstring_append_char(out, '\n');
		}
	}
	dstring_fini(&value);
}

static int
build(const struct bounce_request *request, const struct notice *notice, uint64_t seed,
      struct dstring *out, struct dstring *error)
{
	const struct queue_message *message = request->message;
	const char *ret = queue_message_attribute(message, QUEUE_ATTR_RET);
	int64_t now = request->now > 0 ? request->now : (int64_t)time(NULL);
	long long limit = var_bounce_size_limit > 0 ? var_bounce_size_limit : 50000;
	bool is_full = ret != NULL && strcasecmp(ret, "FULL") == 0 &&
	               notice->kind == BOUNCE_FAILED && !notice->is_postmaster_copy &&
	               message->content_size <= limit;
	struct dstring boundary;
	struct tm tm;
	time_t seconds = (time_t)now;
	char stamp[32];

	dstring_init(&boundary, DSTRING_NO_LIMIT);
	dstring_printf(&boundary, "%s.%" PRId64 ".%" PRIx64 "/%s", message->queue_id, now,
	               seed & 0xffffffffu, hostname());
	gmtime_r(&seconds, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);

	dstring_append_printf(out, "Date: ");
	append_date(out, now);
	dstring_append_printf(out, "\nFrom: MAILER-DAEMON@%s (Mail Delivery System)\n", hostname());
	dstring_append_printf(out, "Subject: %s\n", subject(notice));
	dstring_append_str(out, "To: ");
	append_clean(out, notice->recipient, CLEANUP_CLIENT_STRING_MAX);
	dstring_append_printf(out,
	                      "\nAuto-Submitted: auto-replied\n"
	                      "Message-Id: <%s.%s.%" PRIx64 "@%s>\n"
	                      "MIME-Version: 1.0\n"
	                      "Content-Type: multipart/report; report-type=delivery-status;\n"
	                      "\tboundary=\"%s\"\n"
	                      "Content-Transfer-Encoding: 8bit\n\n"
	                      "This is a MIME-encapsulated message.\n\n",
	                      stamp, message->queue_id, seed & 0xffffu, hostname(),
	                      dstring_str(&boundary));

	dstring_append_printf(out,
	                      "--%s\nContent-Description: Notification\n"
	                      "Content-Type: text/plain; charset=us-ascii\n\n",
	                      dstring_str(&boundary));
	append_human_part(request, notice, out);

	dstring_append_printf(out,
	                      "\n--%s\nContent-Description: %s\n"
	                      "Content-Type: message/delivery-status\n\n",
	                      dstring_str(&boundary),
	                      notice->kind == BOUNCE_SUCCESS ? "Delivery report"
	                                                     : "Delivery report");
	append_status_part(request, notice, now, out);

	dstring_append_printf(
	    out,
	    "\n--%s\nContent-Description: %s\nContent-Type: %s\n"
	    "Content-Transfer-Encoding: 8bit\n\n",
	    dstring_str(&boundary),
	    notice->kind == BOUNCE_FAILED
	        ? (is_full ? "Undelivered Message" : "Undelivered Message Headers")
	        : (is_full ? "Message" : "Message Headers"),
	    is_full ? "message/rfc822" : "text/rfc822-headers");
	if ((is_full ? append_original_message(request, out, error)
	             : append_original_header(request, (size_t)limit, out, error)) < 0) {
		dstring_fini(&boundary);
		return -1;
	}
	dstring_append_printf(out, "\n--%s--\n", dstring_str(&boundary));
	dstring_fini(&boundary);
	return 0;
}

int
bounce_build(const struct bounce_request *request, const char *recipient, uint64_t boundary_seed,
             struct dstring *out, struct dstring *error)
{
	struct notice notice = {.kind = request->kind, .recipient = recipient};

	notice.is_double_bounce =
	    request->kind == BOUNCE_FAILED && request->message->sender[0] == '\0';
	return build(request, &notice, boundary_seed, out, error);
}

static uint64_t
random_seed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)now.tv_sec;
}

/* Submit one notice through cleanup; 0 with queue_id filled, or -1. */
static int
submit(const struct bounce_request *request, const struct notice *notice, const char *sender,
       char queue_id[QUEUE_ID_SIZE], struct dstring *error)
{
	struct cleanup_envelope envelope = {0};
	struct cleanup_result result;
	struct cleanup_client *client;
	struct dstring text, path;
	int status = -1;

	dstring_init(&text, DSTRING_NO_LIMIT);
	dstring_init(&path, DSTRING_NO_LIMIT);
	if (build(request, notice, random_seed(), &text, error) < 0)
		goto out;
	if (request->cleanup_path != NULL)
		dstring_set(&path, request->cleanup_path);
	else if (var_queue_directory != NULL && var_queue_directory[0] != '\0')
		dstring_printf(&path, "%s/%s", var_queue_directory, CLEANUP_CLIENT_SERVICE_PATH);
	else
		dstring_set(&path, CLEANUP_CLIENT_SERVICE_PATH);
	client = cleanup_client_open(dstring_str(&path), BOUNCE_CLEANUP_TIMEOUT_MS, error);
	if (client == NULL)
		goto out;
	envelope.sender = sender;
	envelope.uid = -1;
	envelope.protocol = "bounce";
	cleanup_client_envelope(client, &envelope);
	cleanup_client_recipient(client, notice->recipient, NULL, NULL, 0);
	cleanup_client_write(client, dstring_str(&text), dstring_length(&text));
	if (cleanup_client_finish(client, &result) == 0) {
		snprintf(queue_id, QUEUE_ID_SIZE, "%s", result.queue_id);
		status = 0;
	} else {
		dstring_printf(error, "cannot queue notice: %s", result.reason);
	}
	cleanup_client_close(client);
out:
	dstring_fini(&text);
	dstring_fini(&path);
	return status;
}

/* Whether notify_classes names class (a comma/space list). */
static bool
has_notify_class(const char *class)
{
	const char *list = var_notify_classes != NULL ? var_notify_classes : "";
	size_t length = strlen(class);

	while (*list != '\0') {
		size_t word = strcspn(list, ", \t");
		if (word == length && strncasecmp(list, class, length) == 0)
			return true;
		list += word;
		list += strspn(list, ", \t");
	}
	return false;
}

int
bounce_notify(const struct bounce_request *request, struct bounce_result *result,
              struct dstring *error)
{
	struct notice notice = {.kind = request->kind};
	const char *recipient, *sender = "";
	const char *what;
	char copy_id[QUEUE_ID_SIZE];

	memset(result, 0, sizeof(*result));
	if (!bounce_is_due(request, &recipient, &notice.is_double_bounce)) {
		if (request->kind == BOUNCE_FAILED && request->message->sender[0] != '\0' &&
		    is_double_bounce_sender(request->message->sender))
			log_info("%s: undeliverable postmaster notification discarded",
			         request->message->queue_id);
		return 0;
	}
	notice.recipient = recipient;
	if (notice.is_double_bounce)
		sender = config_string(var_double_bounce_sender, "double-bounce");
	if (submit(request, &notice, sender, result->queue_id, error) < 0)
		return -1;
	snprintf(result->recipient, sizeof(result->recipient), "%s", recipient);
	result->is_double_bounce = notice.is_double_bounce;
	what = notice.is_double_bounce           ? "postmaster non-delivery notification"
	       : request->kind == BOUNCE_FAILED  ? "sender non-delivery notification"
	       : request->kind == BOUNCE_DELAYED ? "sender delay notification"
	                                         : "sender delivery status notification";
	log_info("%s: %s: %s", request->message->queue_id, what, result->queue_id);

	/* notify_classes: a headers-only copy for the postmaster (best effort). */
	if (!notice.is_double_bounce &&
	    ((request->kind == BOUNCE_FAILED && has_notify_class("bounce")) ||
	     (request->kind == BOUNCE_DELAYED && has_notify_class("delay")))) {
		struct notice copy = notice;
		struct dstring copy_error;

		copy.is_postmaster_copy = true;
		copy.recipient =
		    config_string(request->kind == BOUNCE_FAILED ? var_bounce_notice_recipient
		                                                 : var_delay_notice_recipient,
		                  "postmaster");
		dstring_init(&copy_error, 1000);
		if (submit(request, &copy, config_string(var_double_bounce_sender, "double-bounce"),
		           copy_id, &copy_error) == 0)
			log_info("%s: postmaster %s notification: %s", request->message->queue_id,
			         request->kind == BOUNCE_FAILED ? "non-delivery" : "delay",
			         copy_id);
		else
			log_warning("%s: postmaster copy not sent: %s", request->message->queue_id,
			            dstring_str(&copy_error));
		dstring_fini(&copy_error);
	}
	return 0;
}
