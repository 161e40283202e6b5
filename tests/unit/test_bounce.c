/*
 * test_bounce - building delivery status notifications: who gets one
 * (NOTIFY, null sender, double bounce), the parts and fields of the
 * notice, RET=HDRS/FULL and bounce_size_limit. The same notices are
 * parsed with Python's email module in tests/cmd/bounce_notice.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "check.h"
#include "cleanup_client.h"
#include "config.h"
#include "dstring.h"
#include "queue_file.h"
#include "recipient_log.h"

static const char content[] = "Received: from client\n"
                              "From: Alice <alice@example.org>\n"
                              "To: bob@example.com\n"
                              "Subject: hello\n"
                              "\n"
                              "The body line.\n";

/* A queue file in a temporary file; returns its descriptor, message filled. */
static int
make_queue_file(const char *sender, const char *ret, struct queue_message *message)
{
	char path[] = "/tmp/test_bounce.XXXXXX";
	int fd = mkstemp(path);
	struct queue_file_writer *writer;
	struct dstring error;

	unlink(path);
	writer = queue_file_writer_open(fd, "1J0UUC7K0VLAEOGH", 1700000000LL * 1000000);
	queue_file_put_sender(writer, sender);
	if (ret != NULL)
		queue_file_put_attribute(writer, QUEUE_ATTR_RET, ret);
	queue_file_put_attribute(writer, QUEUE_ATTR_ENVID, "ENV-42");
	queue_file_put_recipient(writer, "bob@example.com", "bob@example.com",
	                         "rfc822;Bob@example.com", 0);
	queue_file_put_recipient(writer, "carol@example.com", "list@example.com", "",
	                         CLEANUP_NOTIFY_NEVER);
	queue_file_put_content(writer, content, strlen(content));
	queue_file_writer_finish(writer, (int64_t)(strstr(content, "\n\n") - content) + 2);
	dstring_init(&error, 1000);
	lseek(fd, 0, SEEK_SET);
	if (queue_file_read(fd, message, &error) < 0)
		fprintf(stderr, "queue_file_read: %s\n", dstring_str(&error));
	dstring_fini(&error);
	return fd;
}

static struct recipient_log_entry entries[2] = {
    {.queue_index = 0,
     .address = "bob@example.com",
     .original = "bob@example.com",
     .orcpt = "rfc822;Bob@example.com",
     .notify = 0,
     .action = "failed",
     .dsn = "5.1.1",
     .reason = "host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: "
               "Recipient address rejected: User unknown (in reply to RCPT TO command)",
     .relay = "mx.example.com[192.0.2.1]:25",
     .time = 1700000100},
    {.queue_index = 1,
     .address = "carol@example.com",
     .original = "list@example.com",
     .notify = CLEANUP_NOTIFY_NEVER,
     .action = "failed",
     .dsn = "5.2.2",
     .reason = "mailbox full",
     .relay = "local",
     .time = 1700000100},
};

static void
test_who(void)
{
	struct queue_message message;
	struct bounce_request request = {.entries = entries, .entry_count = 2};
	const char *recipient;
	bool is_double;
	int fd;

	fd = make_queue_file("alice@example.org", NULL, &message);
	request.message = &message;
	request.queue_fd = fd;
	request.kind = BOUNCE_FAILED;
	CHECK(bounce_is_due(&request, &recipient, &is_double));
	CHECK_STR_EQ(recipient, "alice@example.org");
	CHECK(!is_double);
	/* Only NOTIFY=NEVER recipients: nothing. */
	request.entries = &entries[1];
	request.entry_count = 1;
	CHECK(!bounce_is_due(&request, &recipient, &is_double));
	/* SUCCESS must be asked for. */
	request.entries = entries;
	request.entry_count = 1;
	request.kind = BOUNCE_SUCCESS;
	CHECK(!bounce_is_due(&request, NULL, NULL));
	entries[0].notify = CLEANUP_NOTIFY_SUCCESS;
	CHECK(bounce_is_due(&request, NULL, NULL));
	request.kind = BOUNCE_DELAYED;
	CHECK(!bounce_is_due(&request, NULL, NULL)); /* SUCCESS only: no DELAY */
	entries[0].notify = 0;
	CHECK(bounce_is_due(&request, NULL, NULL)); /* default includes DELAY */
	queue_message_fini(&message);
	close(fd);

	/* The null sender: failures go to the postmaster, nothing else at all. */
	fd = make_queue_file("", NULL, &message);
	request.message = &message;
	request.kind = BOUNCE_FAILED;
	CHECK(bounce_is_due(&request, &recipient, &is_double));
	CHECK_STR_EQ(recipient, "postmaster");
	CHECK(is_double);
	request.kind = BOUNCE_DELAYED;
	CHECK(!bounce_is_due(&request, &recipient, &is_double));
	queue_message_fini(&message);
	close(fd);

	/* A double bounce that fails is dropped. */
	fd = make_queue_file("double-bounce@host.example", NULL, &message);
	request.message = &message;
	request.kind = BOUNCE_FAILED;
	CHECK(!bounce_is_due(&request, &recipient, &is_double));
	queue_message_fini(&message);
	close(fd);
}

static void
test_build(void)
{
	struct queue_message message;
	struct bounce_request request = {.entries = entries, .entry_count = 2, .now = 1700000200};
	struct dstring out, error;
	const char *text;
	int fd;

	dstring_init(&out, DSTRING_NO_LIMIT);
	dstring_init(&error, 1000);
	fd = make_queue_file("alice@example.org", NULL, &message);
	request.message = &message;
	request.queue_fd = fd;
	request.kind = BOUNCE_FAILED;
	CHECK_INT_EQ(bounce_build(&request, "alice@example.org", 1, &out, &error), 0);
	text = dstring_str(&out);
	CHECK(strstr(text, "\nFrom: MAILER-DAEMON@host.example (Mail Delivery System)\n") != NULL);
	CHECK(strstr(text, "\nSubject: Undelivered Mail Returned to Sender\n") != NULL);
	CHECK(strstr(text, "\nTo: alice@example.org\n") != NULL);
	CHECK(strstr(text, "Content-Type: multipart/report; report-type=delivery-status;") != NULL);
	CHECK(strstr(text, "This is the mail system at host host.example.") != NULL);
	CHECK(strstr(text, "\n<bob@example.com>: host mx.example.com[192.0.2.1] said: 550") !=
	      NULL);
	CHECK(strstr(text, "carol@example.com") == NULL); /* NOTIFY=NEVER */
	CHECK(strstr(text, "\nReporting-MTA: dns; host.example\n") != NULL);
	CHECK(strstr(text, "\nX-Postfix-Queue-ID: 1J0UUC7K0VLAEOGH\n") != NULL);
	CHECK(strstr(text, "\nOriginal-Envelope-Id: ENV-42\n") != NULL);
	CHECK(strstr(text, "\nArrival-Date: ") != NULL);
	CHECK(strstr(text, "\nFinal-Recipient: rfc822; bob@example.com\n") != NULL);
	CHECK(strstr(text, "\nOriginal-Recipient: rfc822;Bob@example.com\n") != NULL);
	CHECK(strstr(text, "\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.com\n") !=
	      NULL);
	CHECK(strstr(text, "\nDiagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient") !=
	      NULL);
	/* The SMTP reply alone: Postfix's "(in reply to ...)" stays in the text part. */
	CHECK(strstr(strstr(text, "Diagnostic-Code") ? strstr(text, "Diagnostic-Code") : "",
	             "(in reply to") == NULL);
	CHECK(strstr(text, "Content-Type: text/rfc822-headers\n") != NULL);
	CHECK(strstr(text, "\nSubject: hello\n") != NULL);
	CHECK(strstr(text, "The body line.") == NULL); /* headers only by default */
	queue_message_fini(&message);
	close(fd);

	/* RET=FULL: the whole message, when it fits. */
	dstring_reset(&out);
	fd = make_queue_file("alice@example.org", "FULL", &message);
	request.message = &message;
	request.queue_fd = fd;
	CHECK_INT_EQ(bounce_build(&request, "alice@example.org", 1, &out, &error), 0);
	text = dstring_str(&out);
	CHECK(strstr(text, "Content-Type: message/rfc822\n") != NULL);
	CHECK(strstr(text, "\nThe body line.\n") != NULL);
	/* ... and headers only when it does not. */
	var_bounce_size_limit = 10;
	dstring_reset(&out);
	CHECK_INT_EQ(bounce_build(&request, "alice@example.org", 1, &out, &error), 0);
	text = dstring_str(&out);
	CHECK(strstr(text, "Content-Type: text/rfc822-headers\n") != NULL);
	CHECK(strstr(text, "The body line.") == NULL);
	var_bounce_size_limit = 50000;

	/* A delay notice. */
	request.kind = BOUNCE_DELAYED;
	entries[0].action = "delayed";
	entries[0].dsn = "4.4.1";
	entries[0].reason = "connect to mx.example.com[192.0.2.1]:25: Connection refused";
	dstring_reset(&out);
	CHECK_INT_EQ(bounce_build(&request, "alice@example.org", 1, &out, &error), 0);
	text = dstring_str(&out);
	CHECK(strstr(text, "Subject: Delayed Mail (still being retried)\n") != NULL);
	CHECK(strstr(text, "THIS IS A WARNING ONLY") != NULL);
	CHECK(strstr(text, "\nAction: delayed\nStatus: 4.4.1\n") != NULL);
	CHECK(strstr(text, "\nDiagnostic-Code: X-Postfix; connect to") != NULL);
	CHECK(strstr(text, "\nWill-Retry-Until: ") != NULL);
	queue_message_fini(&message);
	close(fd);
	dstring_fini(&out);
	dstring_fini(&error);
}

int
main(void)
{
	config_init(NULL);
	var_myhostname = "host.example";
	test_who();
	test_build();
	return check_finish();
}
