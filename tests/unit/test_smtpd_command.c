/*
 * test_smtpd_command - the SMTP server's parsers (smtpd/smtpd_command.h):
 * paths, MAIL and RCPT parameters, xtext, BDAT, as tables of input and
 * expected result, hostile input included.
 */
#include <limits.h>
#include <string.h>

#include "check.h"
#include "cleanup_client.h"
#include "smtpd_command.h"

/* path_result: the internal form, or "ERROR". */
static const char *
path_result(const char *text, struct dstring *out)
{
	dstring_reset(out);
	if (smtpd_path_parse(text, strlen(text), out) < 0)
		return "ERROR";
	return out->data;
}

static void
test_paths(void)
{
	static const struct {
		const char *text, *expected;
	} cases[] = {
	    {"<user@example.com>", "user@example.com"},
	    {"user@example.com", "user@example.com"},
	    {"<>", ""},
	    {"<postmaster>", "postmaster"},
	    {"<\"john doe\"@example.com>", "john doe@example.com"},
	    {"<\"a\\\"b\"@example.com>", "a\"b@example.com"},
	    {"<\"a@b\"@example.com>", "a@b@example.com"},
	    {"<\"victim@elsewhere.example\">", "ERROR"},
	    {"<@a.example,@b.example:user@c.example>", "user@c.example"},
	    {"<@a.example:user@c.example>", "user@c.example"},
	    {"<user%other.example@mx.example>", "user%other.example@mx.example"},
	    {"<other.example!user@mx.example>", "other.example!user@mx.example"},
	    {"<user@[192.0.2.1]>", "user@[192.0.2.1]"},
	    {"<user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1]"},
	    {"<user@example.com.>", "user@example.com."},
	    {"<us\xc3\xa9r@ex\xc3\xa4mple.com>", "us\xc3\xa9r@ex\xc3\xa4mple.com"},
	    /* Refused. */
	    {"<user@example.com", "ERROR"},
	    {"user@example.com>", "ERROR"},
	    {"<a@b@c>", "ERROR"},
	    {"<a@b>@c", "ERROR"},
	    {"<@example.com>", "ERROR"},
	    {"<@a.example:>", "ERROR"},
	    {"<@a.example user@b>", "ERROR"},
	    {"<user@>", "ERROR"},
	    {"<user@.example.com>", "ERROR"},
	    {"<user@example..com>", "ERROR"},
	    {"<user@[1.2.3.4@evil.example]>", "ERROR"},
	    {"<user@[]>", "ERROR"},
	    {"<\"unterminated@example.com>", "ERROR"},
	    {"<us er@example.com>", "ERROR"},
	    {"<user\x01@example.com>", "ERROR"},
	    {"<\"a\x0d\x0a\"@example.com>", "ERROR"},
	    {"<user@exa mple.com>", "ERROR"},
	    {"<user@example.com;x>", "ERROR"},
	    {"", "ERROR"},
	    {"<", "ERROR"},
	};
	struct dstring out;
	char long_local[1100];

	dstring_init(&out, 100000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_EQ(path_result(cases[i].text, &out), cases[i].expected);
	/* A NUL inside is refused (length-counted input). */
	dstring_reset(&out);
	CHECK(smtpd_path_parse("<a\0b@example.com>", 17, &out) < 0);
	/* SMTPD_ADDRESS_MAX. */
	memset(long_local, 'a', sizeof(long_local));
	long_local[0] = '<';
	memcpy(long_local + 1000, "@example.com>", 14);
	CHECK_STR_EQ(path_result(long_local, &out), "ERROR");
	memcpy(long_local + 400, "@example.com>", 14);
	CHECK(strcmp(path_result(long_local, &out), "ERROR") != 0);
	dstring_fini(&out);
	/*
	 * An output string too small for the local part: refused, never read
	 * past its end (the fuzzer found this; the session's own string is
	 * large enough, the parser must not rely on it).
	 */
	dstring_init(&out, 16);
	CHECK_STR_EQ(path_result("<unqualified-user-name-longer-than-sixteen>", &out), "ERROR");
	dstring_reset(&out);
	CHECK_STR_EQ(path_result("<user-name-longer-than-sixteen@example.com>", &out), "ERROR");
	dstring_fini(&out);
}

/* mail_result: the sender, or the reply. */
static const char *
mail_result(const char *text, struct smtpd_mail_arguments *mail, struct dstring *reply)
{
	smtpd_mail_arguments_fini(mail);
	smtpd_mail_arguments_init(mail);
	dstring_reset(reply);
	if (smtpd_mail_parse(text, strlen(text), mail, reply) < 0)
		return reply->data;
	return mail->sender.data;
}

static void
test_mail(void)
{
	static const struct {
		const char *text, *expected;
	} cases[] = {
	    {"FROM:<a@example.com>", "a@example.com"},
	    {"from: <a@example.com>", "a@example.com"},
	    {"FROM:<>", ""},
	    {"FROM:<a@example.com> SIZE=100 BODY=8BITMIME", "a@example.com"},
	    {"FROM:<\"x y\"@example.com> SMTPUTF8", "x y@example.com"},
	    {"FROM:a@example.com", "a@example.com"},
	    {"TO:<a@example.com>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
	    {"FROM:<a@example.com>x", "501 5.1.7 Bad sender address syntax"},
	    {"FROM:<a b@example.com>", "501 5.1.7 Bad sender address syntax"},
	    {"FROM:<a@example.com> SIZE=x", "501 5.5.4 Bad message size syntax"},
	    {"FROM:<a@example.com> BODY=BINARYMIME", "501 5.5.4 Unsupported BODY parameter value"},
	    {"FROM:<a@example.com> RET=ALL", "501 5.5.4 Bad RET parameter syntax"},
	    {"FROM:<a@example.com> RET=FULL RET=HDRS", "501 5.5.4 Duplicate RET parameter"},
	    {"FROM:<a@example.com> ENVID=a+0Db", "501 5.5.4 Bad ENVID parameter syntax"},
	    {"FROM:<a@example.com> ENVID=a+2", "501 5.5.4 Bad ENVID parameter syntax"},
	    {"FROM:<a@example.com> AUTH=", "501 5.5.4 Bad AUTH parameter syntax"},
	    {"FROM:<a@example.com> XFOO=1", "555 5.5.4 Unsupported option: XFOO=1"},
	    {"FROM:<a@example.com> SMTPUTF8=yes", "555 5.5.4 Unsupported option: SMTPUTF8=yes"},
	};
	struct smtpd_mail_arguments mail;
	struct dstring reply;

	smtpd_mail_arguments_init(&mail);
	dstring_init(&reply, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_EQ(mail_result(cases[i].text, &mail, &reply), cases[i].expected);
	mail_result("FROM:<a@example.com> SIZE=12345 BODY=7BIT RET=hdrs ENVID=QQ+2B1 AUTH=<>",
	            &mail, &reply);
	CHECK_INT_EQ(mail.size, 12345);
	CHECK_INT_EQ(mail.body, SMTPD_BODY_7BIT);
	CHECK_STR_EQ(mail.ret.data, "HDRS");
	CHECK_STR_EQ(mail.envid.data, "QQ+1");
	CHECK_STR_EQ(mail.auth.data, "<>");
	CHECK(mail.has_auth);
	mail_result("FROM:<a@example.com> SIZE=99999999999999999999999", &mail, &reply);
	CHECK_INT_EQ(mail.size, LLONG_MAX);
	smtpd_mail_arguments_fini(&mail);
	dstring_fini(&reply);
}

static void
test_rcpt(void)
{
	struct smtpd_rcpt_arguments rcpt;
	struct dstring reply;

	dstring_init(&reply, 1024);
	smtpd_rcpt_arguments_init(&rcpt);
	const char *good = "TO:<b@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40example.com";

	CHECK_INT_EQ(smtpd_rcpt_parse(good, strlen(good), &rcpt, &reply), 0);
	CHECK_STR_EQ(rcpt.recipient.data, "b@example.com");
	CHECK_INT_EQ(rcpt.notify, CLEANUP_NOTIFY_SUCCESS | CLEANUP_NOTIFY_DELAY);
	CHECK_STR_EQ(rcpt.orcpt.data, "rfc822;b@example.com");
	smtpd_rcpt_arguments_fini(&rcpt);

	static const struct {
		const char *text, *reply;
	} bad[] = {
	    {"TO:<>", "501 5.1.3 Bad recipient address syntax"},
	    {"FROM:<a@b>", "501 5.5.4 Syntax: RCPT TO:<address>"},
	    {"TO:<a@b> NOTIFY=NEVER,SUCCESS", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
	    {"TO:<a@b> NOTIFY=", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
	    {"TO:<a@b> ORCPT=rfc822", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
	    {"TO:<a@b> ORCPT=;a@b", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
	    {"TO:<a@b> ORCPT=rfc822;a+0A", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
	    {"TO:<a@b> SIZE=1", "555 5.5.4 Unsupported option: SIZE=1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtpd_rcpt_arguments_init(&rcpt);
		dstring_reset(&reply);
		CHECK_INT_EQ(smtpd_rcpt_parse(bad[i].text, strlen(bad[i].text), &rcpt, &reply), -1);
		CHECK_STR_EQ(reply.data, bad[i].reply);
		smtpd_rcpt_arguments_fini(&rcpt);
	}
	dstring_fini(&reply);
}

static void
test_bdat_and_split(void)
{
	long long size = -1;
	bool is_last = true;
	struct smtpd_command_line command;

	CHECK_INT_EQ(smtpd_bdat_parse("100", 3, &size, &is_last), 0);
	CHECK_INT_EQ(size, 100);
	CHECK(!is_last);
	CHECK_INT_EQ(smtpd_bdat_parse("0 last", 6, &size, &is_last), 0);
	CHECK_INT_EQ(size, 0);
	CHECK(is_last);
	CHECK_INT_EQ(smtpd_bdat_parse("", 0, &size, &is_last), -1);
	CHECK_INT_EQ(smtpd_bdat_parse("-1", 2, &size, &is_last), -1);
	CHECK_INT_EQ(smtpd_bdat_parse("10 LASTX", 8, &size, &is_last), -1);
	CHECK_INT_EQ(smtpd_bdat_parse("99999999999999999999999", 23, &size, &is_last), 0);
	CHECK_INT_EQ(size, LLONG_MAX);

	smtpd_command_split("MAIL  FROM:<a@b>  ", 18, &command);
	CHECK(smtpd_command_is(&command, "mail"));
	CHECK_INT_EQ(command.arguments_length, 10);
	CHECK(strncmp(command.arguments, "FROM:<a@b>", 10) == 0);
	smtpd_command_split("QUIT", 4, &command);
	CHECK(smtpd_command_is(&command, "QUIT"));
	CHECK_INT_EQ(command.arguments_length, 0);
}

int
main(void)
{
	test_paths();
	test_mail();
	test_rcpt();
	test_bdat_and_split();
	return check_finish();
}
