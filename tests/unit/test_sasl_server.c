/*
 * test_sasl_server - the parts of lib/sasl_server that need no backend:
 * the security-option parser, the mechanism name check, and the Dovecot
 * protocol parsers (replies, MECH lines, tab-unescaping), including the
 * malformed forms they must refuse. The exchanges themselves run against
 * real Cyrus SASL and Dovecot in tests/cmd/sasl_server.sh.
 */
#include <string.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "sasl_server.h"
#include "sasl_server_private.h"

static void
test_security_flags(void)
{
	struct dstring error;
	unsigned flags;

	dstring_init(&error, 1024);
	CHECK_INT_EQ(sasl_server_security_flags("", &flags, &error), 0);
	CHECK_INT_EQ(flags, 0);
	CHECK_INT_EQ(sasl_server_security_flags(NULL, &flags, &error), 0);
	CHECK_INT_EQ(flags, 0);
	CHECK_INT_EQ(sasl_server_security_flags("noanonymous", &flags, &error), 0);
	CHECK_INT_EQ(flags, SASL_SECURITY_NOANONYMOUS);
	CHECK_INT_EQ(sasl_server_security_flags("noplaintext, noanonymous", &flags, &error), 0);
	CHECK_INT_EQ(flags, SASL_SECURITY_NOPLAINTEXT | SASL_SECURITY_NOANONYMOUS);
	CHECK_INT_EQ(sasl_server_security_flags(" NoActive,NODICTIONARY\tmutual_auth "
	                                        "forward_secrecy",
	                                        &flags, &error),
	             0);
	CHECK_INT_EQ(flags, SASL_SECURITY_NOACTIVE | SASL_SECURITY_NODICTIONARY |
	                        SASL_SECURITY_MUTUAL_AUTH | SASL_SECURITY_FORWARD_SECRECY);
	dstring_reset(&error);
	CHECK_INT_EQ(sasl_server_security_flags("noplaintext, nosuch, noanonymous", &flags, &error),
	             -1);
	/* The known words still count; the unknown one is named. */
	CHECK_INT_EQ(flags, SASL_SECURITY_NOPLAINTEXT | SASL_SECURITY_NOANONYMOUS);
	CHECK(strstr(dstring_str(&error), "\"nosuch\"") != NULL);
	dstring_reset(&error);
	CHECK_INT_EQ(sasl_server_security_flags("noanonymous {", &flags, &error), -1);
	dstring_fini(&error);
}

static void
test_mechanism_names(void)
{
	CHECK(sasl_server_mechanism_name_ok("PLAIN", 5));
	CHECK(sasl_server_mechanism_name_ok("CRAM-MD5", 8));
	CHECK(sasl_server_mechanism_name_ok("SCRAM-SHA-256-PLUS", 18));
	CHECK(sasl_server_mechanism_name_ok("X_Y", 3));
	CHECK(!sasl_server_mechanism_name_ok("", 0));
	CHECK(!sasl_server_mechanism_name_ok("plain", 5));
	CHECK(!sasl_server_mechanism_name_ok("PLA IN", 6));
	CHECK(!sasl_server_mechanism_name_ok("PLAIN\t", 6));
	CHECK(!sasl_server_mechanism_name_ok("ABCDEFGHIJKLMNOPQRSTU", 21));
	CHECK(sasl_server_mechanism_name_ok("ABCDEFGHIJKLMNOPQRST", 20));
}

static int
parse(const char *line, struct sasl_dovecot_reply *reply)
{
	struct dstring error;
	int result;

	dstring_init(&error, 1024);
	result = sasl_dovecot_parse_reply(line, strlen(line), reply, &error);
	dstring_fini(&error);
	return result;
}

static void
test_dovecot_replies(void)
{
	struct sasl_dovecot_reply reply;
	struct dstring error;

	sasl_dovecot_reply_init(&reply);
	CHECK_INT_EQ(parse("OK\t1\tuser=alice", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_OK);
	CHECK_INT_EQ(reply.id, 1);
	CHECK_STR_EQ(dstring_str(reply.user), "alice");

	CHECK_INT_EQ(parse("OK\t42\tuser=bob@example.org\tnologin\tunknown=x\tfoo", &reply), 0);
	CHECK_INT_EQ(reply.id, 42);
	CHECK_STR_EQ(dstring_str(reply.user), "bob@example.org");

	CHECK_INT_EQ(parse("CONT\t7\tVXNlcm5hbWU6", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_CONT);
	CHECK_INT_EQ(reply.id, 7);
	CHECK_STR_EQ(dstring_str(reply.data), "VXNlcm5hbWU6");
	CHECK_INT_EQ(parse("CONT\t7\t", &reply), 0);
	CHECK_STR_EQ(dstring_str(reply.data), "");
	CHECK_INT_EQ(parse("CONT\t7", &reply), 0);
	CHECK_STR_EQ(dstring_str(reply.data), "");

	CHECK_INT_EQ(parse("FAIL\t3\tuser=alice", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_FAIL);
	CHECK(!reply.is_temporary);
	CHECK_STR_EQ(dstring_str(reply.reason), "");
	CHECK_INT_EQ(parse("FAIL\t3\ttemp\treason=backend\001tdown", &reply), 0);
	CHECK(reply.is_temporary);
	CHECK_STR_EQ(dstring_str(reply.reason), "backend\tdown");
	CHECK_INT_EQ(parse("FAIL\t3\tcode=temp_fail", &reply), 0);
	CHECK(reply.is_temporary);
	CHECK_INT_EQ(parse("FAIL\t3\tcode=authz_fail", &reply), 0);
	CHECK(!reply.is_temporary);

	/* Unknown commands are not errors: skipped by the caller. */
	CHECK_INT_EQ(parse("SPID\t123", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_OTHER);
	CHECK_INT_EQ(parse("", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_OTHER);
	CHECK_INT_EQ(parse("ok\t1\tuser=a", &reply), 0);
	CHECK_INT_EQ(reply.kind, SASL_DOVECOT_REPLY_OTHER);

	/* Malformed. */
	CHECK_INT_EQ(parse("OK", &reply), -1);
	CHECK_INT_EQ(parse("OK\t", &reply), -1);
	CHECK_INT_EQ(parse("OK\tx1\tuser=a", &reply), -1);
	CHECK_INT_EQ(parse("OK\t-1\tuser=a", &reply), -1);
	CHECK_INT_EQ(parse("OK\t12345678901\tuser=a", &reply), -1);
	CHECK_INT_EQ(parse("CONT\t1 \tabc", &reply), -1);
	CHECK_INT_EQ(parse("OK\t1\tuser=a\001", &reply), -1); /* escape at the end */
	dstring_init(&error, 100);
	CHECK_INT_EQ(sasl_dovecot_parse_reply("OK\t1\tuser=a\0b", 13, &reply, &error), -1);
	dstring_fini(&error);

	/* An escaped line break stays in the user name: the caller refuses it. */
	CHECK_INT_EQ(parse("OK\t1\tuser=a\001nb", &reply), 0);
	CHECK_INT_EQ(dstring_length(reply.user), 3);
	CHECK(memcmp(dstring_str(reply.user), "a\nb", 3) == 0);
	sasl_dovecot_reply_fini(&reply);
}

/* A literal and its length, for the (pointer, length) parsers. */
#define TEXT(literal) literal, sizeof(literal) - 1

static void
test_dovecot_mech(void)
{
	struct dstring name;
	unsigned flags;

	dstring_init(&name, 64);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH\tPLAIN\tplaintext"), &name, &flags), 0);
	CHECK_STR_EQ(dstring_str(&name), "PLAIN");
	CHECK_INT_EQ(flags, SASL_DOVECOT_PLAINTEXT);
	CHECK_INT_EQ(
	    sasl_dovecot_parse_mech(TEXT("MECH\tcram-md5\tdictionary\tactive"), &name, &flags), 0);
	CHECK_STR_EQ(dstring_str(&name), "CRAM-MD5");
	CHECK_INT_EQ(flags, SASL_DOVECOT_DICTIONARY | SASL_DOVECOT_ACTIVE);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH\tANONYMOUS\tanonymous\tprivate\tnew-flag"),
	                                     &name, &flags),
	             0);
	CHECK_INT_EQ(flags, SASL_DOVECOT_ANONYMOUS | SASL_DOVECOT_PRIVATE);
	CHECK_INT_EQ(
	    sasl_dovecot_parse_mech(TEXT("MECH\tX\tforward-secrecy\tmutual-auth"), &name, &flags),
	    0);
	CHECK_INT_EQ(flags, SASL_DOVECOT_FORWARD_SECRECY | SASL_DOVECOT_MUTUAL_AUTH);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH"), &name, &flags), -1);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH\t"), &name, &flags), -1);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH\tPL AIN"), &name, &flags), -1);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECH\tABCDEFGHIJKLMNOPQRSTU"), &name, &flags),
	             -1);
	CHECK_INT_EQ(sasl_dovecot_parse_mech(TEXT("MECHX\tPLAIN"), &name, &flags), -1);
	dstring_fini(&name);
}

static void
test_dovecot_unescape(void)
{
	struct dstring out;

	dstring_init(&out, 64);
	CHECK_INT_EQ(sasl_dovecot_unescape(&out, "a\0011b\001tc\001rd\001ne\0010f\001x", 18), 0);
	CHECK_INT_EQ(dstring_length(&out), 12);
	CHECK(memcmp(dstring_str(&out), "a\001b\tc\rd\ne\0fx", 12) == 0);
	dstring_reset(&out);
	CHECK_INT_EQ(sasl_dovecot_unescape(&out, "abc\001", 4), -1);
	dstring_fini(&out);
}

static void
test_dispatch_errors(void)
{
	struct dstring error;

	dstring_init(&error, 1024);
	CHECK_INT_EQ(sasl_server_setup("gsasl", "x", NULL, &error), -1);
	CHECK(strstr(dstring_str(&error), "unsupported SASL server type") != NULL);
	CHECK(sasl_server_open(&(struct sasl_server_settings){.service = "smtp"}, &error) == NULL);
	dstring_reset(&error);
	CHECK_INT_EQ(sasl_server_setup("dovecot", "", NULL, &error), -1);
	CHECK_INT_EQ(sasl_server_setup("dovecot", "/nonexistent/hikyaku-test/auth", NULL, &error),
	             0);
	dstring_reset(&error);
	CHECK(sasl_server_open(&(struct sasl_server_settings){.service = "smtp"}, &error) == NULL);
	CHECK(strstr(dstring_str(&error), "cannot connect to Dovecot auth socket "
	                                  "/nonexistent/hikyaku-test/auth") != NULL);
	/* One type per process. */
	CHECK_INT_EQ(sasl_server_setup("cyrus", "smtpd", NULL, &error), -1);
	sasl_server_close(NULL);
	dstring_fini(&error);
}

int
main(void)
{
	log_open("test_sasl_server", 0);
	test_security_flags();
	test_mechanism_names();
	test_dovecot_replies();
	test_dovecot_mech();
	test_dovecot_unescape();
	test_dispatch_errors();
	return check_finish();
}
