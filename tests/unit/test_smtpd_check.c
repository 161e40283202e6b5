/*
 * test_smtpd_check - smtpd's restriction lists, table-driven: each case
 * is a few main.cf settings, a stage, a client and an envelope, and the
 * exact reply Postfix would give ("554 5.7.1 <x@example.net>: Relay
 * access denied"). Real tables (texthash, cidr, pcre, inline, unix)
 * written by the test. The classic open-relay tricks each go through the
 * relay decision. DNS-dependent restrictions are in
 * tests/cmd/smtpd_check_dns.sh (they need a DNS server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dstring.h"
#include "log.h"
#include "smtpd_check.h"

static char directory[] = "/tmp/test_smtpd_check.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", directory, name);
	file = fopen(path, "w");
	if (file == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, file);
	fclose(file);
}

static const char *const table_files[][2] = {
    {"users", "alice x\nbob x\npostmaster x\n"},
    {"clients.cidr", "198.51.100.0/28 REJECT go away\n203.0.113.0/24 DEFER 4.7.0 later\n"},
    {"clients", "198.51.100.64 OK\n198.51.100.65 DISCARD\n198.51.100.66 WARN looks odd\n"},
    {"senders", "spam.example REJECT\nfriend@ OK\n<> 550 no bounces here\n"
                "maybe.example DEFER_IF_PERMIT maybe later\nstrict.example strict\n"
                "mixed.example permit_mynetworks, reject\n"
                "dunno.example DUNNO\nbroken.example no_such_restriction\n"},
    {"recipients.pcre", "/^block@/ 550 5.1.1 blocked\n/^tempo@/ 421 closing\n"
                        "/^ok@/ OK\n"},
    {"logins", "alice@mail.example.org alice\nshared@mail.example.org alice, bob\n"},
    {"virtual", "info@virt.example alice\n"},
    {"relay_users", "known@relay.example x\n"},
};

/* The settings every case starts with; "name=value" lines. */
static const char BASE[] = "myhostname=mail.example.org\n"
                           "mydomain=example.org\n"
                           "mydestination=$myhostname, localhost\n"
                           "inet_interfaces=127.0.0.1\n"
                           "mynetworks=127.0.0.0/8, 192.0.2.0/24, [2001:db8::]/32\n"
                           "relay_domains=relay.example\n"
                           "recipient_delimiter=+\n"
                           "alias_maps=\n"
                           "local_recipient_maps=proxy:unix:passwd.byname "
                           "texthash:DIR/users\n";

static void
apply_settings(const char *settings)
{
	const char *line = settings;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t length = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, length);
		char *equals = strchr(copy, '=');
		struct dstring value;

		if (equals != NULL) {
			const char *dir_mark;

			*equals = '\0';
			dstring_init(&value, DSTRING_NO_LIMIT);
			/* DIR in a value is the test's directory. */
			for (const char *cursor = equals + 1; *cursor;) {
				dir_mark = strstr(cursor, "DIR");
				if (dir_mark == NULL) {
					dstring_append_str(&value, cursor);
					break;
				}
				dstring_append(&value, cursor, (size_t)(dir_mark - cursor));
				dstring_append_str(&value, directory);
				cursor = dir_mark + 3;
			}
			config_set(copy, dstring_str(&value), NULL);
			dstring_fini(&value);
		}
		free(copy);
		line = end ? end + 1 : NULL;
	}
}

/* setup: BASE plus settings; the init status, the error in error. */
static int
setup(const char *settings, struct dstring *error)
{
	config_init(NULL);
	apply_settings(BASE);
	apply_settings(settings);
	if (config_apply() != 0)
		return -2;
	dstring_reset(error);
	return smtpd_check_init(error);
}

enum who {
	OUTSIDE,    /* 198.51.100.200, no name */
	INSIDE,     /* 192.0.2.5 in mynetworks */
	AUTHED,     /* outside, SASL user bob */
	LISTED,     /* 198.51.100.1 (clients.cidr REJECT) */
	NAMED,      /* outside with a name */
	TEMPNAME,   /* outside, name lookup failed temporarily */
	ALICE,      /* outside, SASL user alice */
	CIDR_DEFER, /* 203.0.113.9 */
	OK_CLIENT,  /* 198.51.100.64 */
	DISCARDED,  /* 198.51.100.65 */
	WARNED,     /* 198.51.100.66 */
	INSIDE6,    /* 2001:db8::25 */
};

struct check_case {
	const char *settings;
	enum smtpd_check_stage stage;
	enum who who;
	const char *helo;
	const char *sender;
	const char *recipient;
	int code;
	const char *reply; /* exact, when code != 0 */
};

#define CONNECT SMTPD_CHECK_CONNECT
#define HELO SMTPD_CHECK_HELO
#define MAIL SMTPD_CHECK_MAIL
#define RCPT SMTPD_CHECK_RCPT
#define DATA SMTPD_CHECK_DATA
#define EOD SMTPD_CHECK_END_OF_DATA

#define RELAY_DENIED(address) "4.7.1 <" address ">: Relay access denied"
#define UNKNOWN_USER(address)                                                                      \
	"5.1.1 <" address ">: Recipient address rejected: User unknown in local recipient table"

static const char STRICT[] = "smtpd_relay_restrictions=permit_mynetworks, "
                             "permit_sasl_authenticated, reject_unauth_destination\n";

static const struct check_case cases[] = {
    /* The default relay restrictions. */
    {"", RCPT, OUTSIDE, "h.example", "s@example.com", "x@example.net", 450,
     RELAY_DENIED("x@example.net")},
    {STRICT, RCPT, OUTSIDE, "h.example", "s@example.com", "x@example.net", 554,
     "5.7.1 <x@example.net>: Relay access denied"},
    {"relay_domains_reject_code=550\n" "smtpd_relay_restrictions=reject_unauth_destination",
     RCPT, OUTSIDE, "h", "s@example.com", "x@example.net", 550,
     "5.7.1 <x@example.net>: Relay access denied"},
    {"", RCPT, INSIDE, "h", "s@example.com", "x@example.net", 0, NULL},
    {"", RCPT, INSIDE6, "h", "s@example.com", "x@example.net", 0, NULL},
    {"", RCPT, AUTHED, "h", "s@example.com", "x@example.net", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice@mail.example.org", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "ALICE@Mail.Example.ORG", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice+tag@mail.example.org", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "root@mail.example.org", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "root@localhost", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice@[127.0.0.1]", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "nosuchuser@mail.example.org", 550,
     UNKNOWN_USER("nosuchuser@mail.example.org")},
    {"unknown_local_recipient_reject_code=450", RCPT, OUTSIDE, "h", "s@example.com",
     "nosuchuser@mail.example.org", 450,
     "4.1.1 <nosuchuser@mail.example.org>: Recipient address rejected: User unknown in local "
     "recipient table"},
    {"smtpd_reject_unlisted_recipient=no", RCPT, OUTSIDE, "h", "s@example.com",
     "nosuchuser@mail.example.org", 0, NULL},
    {"local_recipient_maps=", RCPT, OUTSIDE, "h", "s@example.com", "nosuchuser@mail.example.org",
     0, NULL},
    /* The classic open-relay tricks, from outside mynetworks. */
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice%example.net@mail.example.org", 550,
     UNKNOWN_USER("alice%example.net@mail.example.org")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice@example.net@mail.example.org", 550,
     UNKNOWN_USER("alice@example.net@mail.example.org")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "example.net!alice@mail.example.org", 550,
     UNKNOWN_USER("example.net!alice@mail.example.org")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice%mail.example.org@example.net", 450,
     RELAY_DENIED("alice%mail.example.org@example.net")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "alice@mail.example.org@example.net", 450,
     RELAY_DENIED("alice@mail.example.org@example.net")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "mail.example.org!alice@example.net", 450,
     RELAY_DENIED("mail.example.org!alice@example.net")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "x@[198.51.100.77]", 450,
     RELAY_DENIED("x@[198.51.100.77]")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "x@mail.example.org.example.net", 450,
     RELAY_DENIED("x@mail.example.org.example.net")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "x@relay.example", 0, NULL},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "x%evil.example@relay.example", 450,
     RELAY_DENIED("x%evil.example@relay.example")},
    {"", RCPT, OUTSIDE, "h", "s@example.com", "evil.example!x@relay.example", 450,
     RELAY_DENIED("evil.example!x@relay.example")},
    {"allow_untrusted_routing=yes", RCPT, OUTSIDE, "h", "s@example.com",
     "x%evil.example@relay.example", 0, NULL},
    /* Relay recipients and virtual alias domains. */
    {"relay_recipient_maps=texthash:DIR/relay_users", RCPT, OUTSIDE, "h", "s@example.com",
     "known@relay.example", 0, NULL},
    {"relay_recipient_maps=texthash:DIR/relay_users", RCPT, OUTSIDE, "h", "s@example.com",
     "unknown@relay.example", 550,
     "5.1.1 <unknown@relay.example>: Recipient address rejected: User unknown in relay "
     "recipient table"},
    {"virtual_alias_maps=texthash:DIR/virtual\nvirtual_alias_domains=virt.example", RCPT,
     OUTSIDE, "h", "s@example.com", "info@virt.example", 0, NULL},
    {"virtual_alias_maps=texthash:DIR/virtual\nvirtual_alias_domains=virt.example", RCPT,
     OUTSIDE, "h", "s@example.com", "other@virt.example", 550,
     "5.1.1 <other@virt.example>: Recipient address rejected: User unknown in virtual alias "
     "table"},
    /* check_client_access with cidr and texthash tables. */
    {"smtpd_client_restrictions=check_client_access cidr:DIR/clients.cidr", RCPT, LISTED, "h",
     "s@example.com", "alice@mail.example.org", 554,
     "5.7.1 <unknown[198.51.100.1]>: Client host rejected: go away"},
    {"smtpd_client_restrictions=check_client_access cidr:DIR/clients.cidr", RCPT, CIDR_DEFER,
     "h", "s@example.com", "alice@mail.example.org", 450,
     "4.7.0 <unknown[203.0.113.9]>: Client host rejected: later"},
    {"smtpd_client_restrictions=check_client_access cidr:DIR/clients.cidr\n"
     "access_map_reject_code=550",
     RCPT, LISTED, "h", "s@example.com", "alice@mail.example.org", 550,
     "5.7.1 <unknown[198.51.100.1]>: Client host rejected: go away"},
    /* A permit ends only its own list: the relay check still runs. */
    {"smtpd_client_restrictions=check_client_access texthash:DIR/clients, reject", RCPT,
     OK_CLIENT, "h", "s@example.com", "x@example.net", 450, RELAY_DENIED("x@example.net")},
    {"smtpd_client_restrictions=check_client_access texthash:DIR/clients, reject", RCPT,
     OK_CLIENT, "h", "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_client_restrictions=check_client_access texthash:DIR/clients, reject", RCPT,
     OUTSIDE, "h", "s@example.com", "alice@mail.example.org", 554,
     "5.7.1 <unknown[198.51.100.200]>: Client host rejected: Access denied"},
    {"smtpd_client_restrictions=check_client_access lmdb:DIR/missing", RCPT, OUTSIDE, "h",
     "s@example.com", "alice@mail.example.org", 451,
     "4.3.0 <unknown[198.51.100.200]>: Temporary lookup failure"},
    /* check_sender_access: domains, parents, user@, the null sender, actions. */
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "x@spam.example", "alice@mail.example.org", 554,
     "5.7.1 <x@spam.example>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "x@sub.spam.example", "alice@mail.example.org", 554,
     "5.7.1 <x@sub.spam.example>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders\n"
     "parent_domain_matches_subdomains=",
     RCPT, OUTSIDE, "h", "x@sub.spam.example", "alice@mail.example.org", 0, NULL},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders, reject", RCPT,
     OUTSIDE, "h", "friend@other.example", "alice@mail.example.org", 0, NULL},
    /* user@domain, then the domain, then user@ (access(5)'s order). */
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "friend@spam.example", "alice@mail.example.org", 554,
     "5.7.1 <friend@spam.example>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "", "alice@mail.example.org", 550, "5.7.1 <>: Sender address rejected: no bounces here"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders, reject", RCPT,
     OUTSIDE, "h", "x@dunno.example", "alice@mail.example.org", 554,
     "5.7.1 <x@dunno.example>: Sender address rejected: Access denied"},
    /* A restriction list as the value, a restriction class, a bad value. */
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, INSIDE, "h",
     "x@mixed.example", "alice@mail.example.org", 0, NULL},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "x@mixed.example", "alice@mail.example.org", 554,
     "5.7.1 <x@mixed.example>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders\n"
     "smtpd_restriction_classes=strict\nstrict=permit_sasl_authenticated, defer",
     RCPT, OUTSIDE, "h", "x@strict.example", "alice@mail.example.org", 450,
     "4.7.1 <x@strict.example>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders\n"
     "smtpd_restriction_classes=strict\nstrict=permit_sasl_authenticated, defer",
     RCPT, AUTHED, "h", "x@strict.example", "alice@mail.example.org", 0, NULL},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "x@broken.example", "alice@mail.example.org", 451, "4.3.5 Server configuration error"},
    /* defer_if_permit: a 450 if nothing else rejects, the reject otherwise. */
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders", RCPT, OUTSIDE, "h",
     "x@maybe.example", "alice@mail.example.org", 450,
     "4.7.1 <x@maybe.example>: Sender address rejected: maybe later"},
    {"smtpd_sender_restrictions=check_sender_access texthash:DIR/senders\n" "%s", RCPT,
     OUTSIDE, "h", "x@maybe.example", "x@example.net", 554,
     "5.7.1 <x@example.net>: Relay access denied"},
    /* check_recipient_access with pcre; a 4xx code of the table's own. */
    {"smtpd_recipient_restrictions=check_recipient_access pcre:DIR/recipients.pcre", RCPT,
     OUTSIDE, "h", "s@example.com", "block@mail.example.org", 550,
     "5.1.1 <block@mail.example.org>: Recipient address rejected: blocked"},
    {"smtpd_recipient_restrictions=check_recipient_access pcre:DIR/recipients.pcre", RCPT,
     OUTSIDE, "h", "s@example.com", "tempo@mail.example.org", 421,
     "4.7.1 <tempo@mail.example.org>: Recipient address rejected: closing"},
    /* The relay restrictions run before the recipient ones. */
    {"smtpd_recipient_restrictions=check_recipient_access pcre:DIR/recipients.pcre", RCPT,
     OUTSIDE, "h", "s@example.com", "ok@example.net", 450, RELAY_DENIED("ok@example.net")},
    {"smtpd_relay_restrictions=\nsmtpd_recipient_restrictions=check_recipient_access "
     "inline:{ok@example.net=OK}, reject_unauth_destination",
     RCPT, OUTSIDE, "h", "s@example.com", "ok@example.net", 0, NULL},
    /* HELO names. */
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "bad_host!",
     "s@example.com", "alice@mail.example.org", 501,
     "5.5.2 <bad_host!>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "a..b",
     "s@example.com", "alice@mail.example.org", 501,
     "5.5.2 <a..b>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "[300.1.1.1]",
     "s@example.com", "alice@mail.example.org", 501,
     "5.5.2 <[300.1.1.1]>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "-x.example",
     "s@example.com", "alice@mail.example.org", 501,
     "5.5.2 <-x.example>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "1.2.3.4",
     "s@example.com", "alice@mail.example.org", 501,
     "5.5.2 <1.2.3.4>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname", RCPT, OUTSIDE, "localhost",
     "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_helo_restrictions=reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
     RCPT, OUTSIDE, "localhost", "s@example.com", "alice@mail.example.org", 504,
     "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"},
    {"smtpd_helo_restrictions=reject_non_fqdn_helo_hostname", RCPT, OUTSIDE, "[192.0.2.1]",
     "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_helo_restrictions=reject_non_fqdn_helo_hostname", RCPT, OUTSIDE,
     "[IPv6:2001:db8::1]", "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_helo_restrictions=reject_non_fqdn_helo_hostname", RCPT, OUTSIDE,
     "mx.example.com.", "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_helo_restrictions=reject_non_fqdn_helo_hostname", RCPT, OUTSIDE, NULL,
     "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_helo_restrictions=check_helo_access inline:{ {mail.example.org=REJECT you are "
     "not me} }",
     RCPT, OUTSIDE, "mail.example.org", "s@example.com", "alice@mail.example.org", 554,
     "5.7.1 <mail.example.org>: Helo command rejected: you are not me"},
    /* Envelope address syntax. */
    {"smtpd_sender_restrictions=reject_non_fqdn_sender", RCPT, OUTSIDE, "h", "user@localhost",
     "alice@mail.example.org", 504,
     "5.5.2 <user@localhost>: Sender address rejected: need fully-qualified address"},
    {"smtpd_sender_restrictions=reject_non_fqdn_sender", RCPT, OUTSIDE, "h", "user",
     "alice@mail.example.org", 504,
     "5.5.2 <user>: Sender address rejected: need fully-qualified address"},
    {"smtpd_sender_restrictions=reject_non_fqdn_sender", RCPT, OUTSIDE, "h", "",
     "alice@mail.example.org", 0, NULL},
    {"smtpd_sender_restrictions=reject_non_fqdn_sender", RCPT, OUTSIDE, "h", "u@[192.0.2.1]",
     "alice@mail.example.org", 0, NULL},
    {"smtpd_recipient_restrictions=reject_non_fqdn_recipient", RCPT, INSIDE, "h",
     "s@example.com", "x@relayhost", 504,
     "5.5.2 <x@relayhost>: Recipient address rejected: need fully-qualified address"},
    {"non_fqdn_reject_code=550\nsmtpd_recipient_restrictions=reject_non_fqdn_recipient", RCPT,
     INSIDE, "h", "s@example.com", "x@relayhost", 550,
     "5.5.2 <x@relayhost>: Recipient address rejected: need fully-qualified address"},
    /* Unlisted senders. */
    {"smtpd_sender_restrictions=reject_unlisted_sender", RCPT, OUTSIDE, "h",
     "nosuchuser@mail.example.org", "alice@mail.example.org", 550,
     "5.1.0 <nosuchuser@mail.example.org>: Sender address rejected: User unknown in local "
     "recipient table"},
    {"smtpd_reject_unlisted_sender=yes", RCPT, OUTSIDE, "h", "nosuchuser@mail.example.org",
     "alice@mail.example.org", 550,
     "5.1.0 <nosuchuser@mail.example.org>: Sender address rejected: User unknown in local "
     "recipient table"},
    {"smtpd_reject_unlisted_sender=yes", RCPT, OUTSIDE, "h", "bob@mail.example.org",
     "alice@mail.example.org", 0, NULL},
    /* The client's host name. */
    {"smtpd_client_restrictions=reject_unknown_client_hostname", RCPT, OUTSIDE, "h",
     "s@example.com", "alice@mail.example.org", 450,
     "4.7.25 Client host rejected: cannot find your hostname, [198.51.100.200]"},
    {"smtpd_client_restrictions=reject_unknown_client_hostname\n"
     "unknown_client_reject_code=550",
     RCPT, OUTSIDE, "h", "s@example.com", "alice@mail.example.org", 550,
     "5.7.25 Client host rejected: cannot find your hostname, [198.51.100.200]"},
    {"smtpd_client_restrictions=reject_unknown_client_hostname\n"
     "unknown_client_reject_code=550",
     RCPT, TEMPNAME, "h", "s@example.com", "alice@mail.example.org", 450,
     "4.7.25 Client host rejected: cannot find your hostname, [198.51.100.200]"},
    {"smtpd_client_restrictions=reject_unknown_client_hostname", RCPT, NAMED, "h",
     "s@example.com", "alice@mail.example.org", 0, NULL},
    {"smtpd_client_restrictions=reject_unknown_reverse_client_hostname", RCPT, OUTSIDE, "h",
     "s@example.com", "alice@mail.example.org", 450,
     "4.7.25 Client host rejected: cannot find your reverse hostname, [198.51.100.200]"},
    /* reject_sender_login_mismatch. */
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_sender_login_mismatch",
     RCPT, AUTHED, "h", "alice@mail.example.org", "x@example.net", 553,
     "5.7.1 <alice@mail.example.org>: Sender address rejected: not owned by user bob"},
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_sender_login_mismatch",
     RCPT, ALICE, "h", "alice@mail.example.org", "x@example.net", 0, NULL},
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_sender_login_mismatch",
     RCPT, AUTHED, "h", "shared@mail.example.org", "x@example.net", 0, NULL},
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_sender_login_mismatch",
     RCPT, OUTSIDE, "h", "alice@mail.example.org", "bob@mail.example.org", 553,
     "5.7.1 <alice@mail.example.org>: Sender address rejected: not logged in"},
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_sender_login_mismatch",
     RCPT, AUTHED, "h", "bob@example.com", "x@example.net", 553,
     "5.7.1 <bob@example.com>: Sender address rejected: not owned by user bob"},
    {"smtpd_sender_login_maps=texthash:DIR/logins\n"
     "smtpd_sender_restrictions=reject_known_sender_login_mismatch",
     RCPT, AUTHED, "h", "bob@example.com", "x@example.net", 0, NULL},
    /* Generic restrictions and their codes. */
    {"smtpd_client_restrictions=reject\nreject_code=550", RCPT, OUTSIDE, "h", "s@example.com",
     "alice@mail.example.org", 550,
     "5.7.1 <unknown[198.51.100.200]>: Client host rejected: Access denied"},
    {"smtpd_client_restrictions=defer", RCPT, OUTSIDE, "h", "s@example.com",
     "alice@mail.example.org", 450,
     "4.7.1 <unknown[198.51.100.200]>: Client host rejected: Access denied"},
    {"smtpd_client_restrictions=permit_mynetworks, reject", RCPT, INSIDE, "h", "s@example.com",
     "alice@mail.example.org", 0, NULL},
    {"smtpd_client_restrictions=warn_if_reject reject", RCPT, OUTSIDE, "h", "s@example.com",
     "alice@mail.example.org", 0, NULL},
    {"smtpd_client_restrictions=warn_if_reject reject, reject", RCPT, OUTSIDE, "h",
     "s@example.com", "alice@mail.example.org", 554,
     "5.7.1 <unknown[198.51.100.200]>: Client host rejected: Access denied"},
    {"smtpd_data_restrictions=reject", DATA, OUTSIDE, "h", "s@example.com", NULL, 554,
     "5.7.1 <DATA>: Data command rejected: Access denied"},
    {"smtpd_end_of_data_restrictions=defer", EOD, OUTSIDE, "h", "s@example.com", NULL, 450,
     "4.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"},
    /* smtpd_delay_reject: when the client, HELO and sender lists run. */
    {"smtpd_client_restrictions=reject", CONNECT, OUTSIDE, NULL, NULL, NULL, 0, NULL},
    {"smtpd_client_restrictions=reject\nsmtpd_delay_reject=no", CONNECT, OUTSIDE, NULL, NULL,
     NULL, 554, "5.7.1 <unknown[198.51.100.200]>: Client host rejected: Access denied"},
    {"smtpd_helo_restrictions=reject", HELO, OUTSIDE, "h.example", NULL, NULL, 0, NULL},
    {"smtpd_helo_restrictions=reject\nsmtpd_delay_reject=no", HELO, OUTSIDE, "h.example", NULL,
     NULL, 554, "5.7.1 <h.example>: Helo command rejected: Access denied"},
    {"smtpd_sender_restrictions=reject", MAIL, OUTSIDE, "h", "s@example.com", NULL, 0, NULL},
    {"smtpd_sender_restrictions=reject\nsmtpd_delay_reject=no", MAIL, OUTSIDE, "h",
     "s@example.com", NULL, 554, "5.7.1 <s@example.com>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=reject", RCPT, OUTSIDE, "h", "s@example.com",
     "alice@mail.example.org", 554,
     "5.7.1 <s@example.com>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions=reject\nsmtpd_delay_reject=no", RCPT, OUTSIDE, "h",
     "s@example.com", "alice@mail.example.org", 0, NULL},
    /* Nesting that never ends is cut off, not a crash. */
    {"smtpd_restriction_classes=loop\nloop=loop\n"
     "smtpd_recipient_restrictions=loop",
     RCPT, INSIDE, "h", "s@example.com", "alice@mail.example.org", 451,
     "4.3.5 Server configuration error"},
};

static void
fill_client(struct smtpd_check_client *client, enum who who, const char *helo)
{
	memset(client, 0, sizeof(*client));
	client->name = "unknown";
	client->reverse_name = "unknown";
	client->address = "198.51.100.200";
	client->helo = helo;
	client->protocol = "ESMTP";
	switch (who) {
	case INSIDE:
		client->address = "192.0.2.5";
		break;
	case INSIDE6:
		client->address = "2001:db8::25";
		break;
	case AUTHED:
		client->sasl_username = "bob";
		client->sasl_method = "PLAIN";
		break;
	case ALICE:
		client->sasl_username = "alice";
		client->sasl_method = "PLAIN";
		break;
	case LISTED:
		client->address = "198.51.100.1";
		break;
	case NAMED:
		client->name = client->reverse_name = "host.example.com";
		break;
	case TEMPNAME:
		client->name_tempfail = true;
		break;
	case CIDR_DEFER:
		client->address = "203.0.113.9";
		break;
	case OK_CLIENT:
		client->address = "198.51.100.64";
		break;
	case DISCARDED:
		client->address = "198.51.100.65";
		break;
	case WARNED:
		client->address = "198.51.100.66";
		break;
	case OUTSIDE:
		break;
	}
}

static void
test_cases(void)
{
	struct smtpd_check_result result;
	struct dstring error;
	char settings[2048];

	smtpd_check_result_init(&result);
	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct check_case *test = &cases[i];
		struct smtpd_check_client client;
		int status;

		snprintf(settings, sizeof(settings), "%s", test->settings);
		/* "%s" in a case stands for the strict relay list. */
		if (strstr(settings, "%s") != NULL) {
			char *mark = strstr(settings, "%s");

			snprintf(mark, sizeof(settings) - (size_t)(mark - settings), "%s", STRICT);
		}
		status = setup(settings, &error);
		CHECK_INT_EQ(status, 0);
		if (status != 0) {
			fprintf(stderr, "case %zu: init: %s\n", i, dstring_str(&error));
			continue;
		}
		fill_client(&client, test->who, test->helo);
		smtpd_check(test->stage, &client, test->sender, test->recipient, &result);
		if (result.code != test->code ||
		    (test->reply != NULL && strcmp(dstring_str(&result.reply), test->reply) != 0))
			fprintf(stderr, "case %zu (%s -> %s): got %d %s\n", i,
			        test->sender ? test->sender : "-",
			        test->recipient ? test->recipient : "-", result.code,
			        dstring_str(&result.reply));
		CHECK_INT_EQ(result.code, test->code);
		if (test->reply != NULL)
			CHECK_STR_EQ(dstring_str(&result.reply), test->reply);
	}
	smtpd_check_fini();
	smtpd_check_result_fini(&result);
	dstring_fini(&error);
}

/* The log line, DISCARD, WARN and warn_if_reject. */
static void
test_logs(void)
{
	struct smtpd_check_result result;
	struct smtpd_check_client client;
	struct dstring error;

	smtpd_check_result_init(&result);
	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(setup(STRICT, &error), 0);
	fill_client(&client, OUTSIDE, "h.example.com");
	smtpd_check(RCPT, &client, "s@example.com", "x@example.net", &result);
	CHECK_STR_EQ(dstring_str(&result.log),
	             "reject: RCPT from unknown[198.51.100.200]: 554 5.7.1 <x@example.net>: "
	             "Relay access denied; from=<s@example.com> to=<x@example.net> proto=ESMTP "
	             "helo=<h.example.com>");
	/* A long address still gets its whole reply. */
	{
		char long_address[1100];

		memset(long_address, 'a', 1000);
		snprintf(long_address + 1000, sizeof(long_address) - 1000, "@example.net");
		smtpd_check(RCPT, &client, "s@example.com", long_address, &result);
		CHECK_INT_EQ(result.code, 554);
		CHECK_INT_EQ(dstring_length(&result.reply), strlen(long_address) + 29);
	}
	CHECK(smtpd_check_is_mynetworks("127.0.0.1"));
	CHECK(smtpd_check_is_mynetworks("::ffff:192.0.2.200"));
	CHECK(!smtpd_check_is_mynetworks("198.51.100.1"));

	CHECK_INT_EQ(setup("smtpd_client_restrictions=check_client_access texthash:DIR/clients",
	                   &error),
	             0);
	fill_client(&client, DISCARDED, "h");
	smtpd_check(RCPT, &client, "s@example.com", "alice@mail.example.org", &result);
	CHECK_INT_EQ(result.code, 0);
	CHECK(result.is_discard);
	CHECK(strncmp(dstring_str(&result.log), "discard: RCPT from unknown[198.51.100.65]: ",
	              43) == 0);
	fill_client(&client, WARNED, "h");
	smtpd_check(RCPT, &client, "s@example.com", "alice@mail.example.org", &result);
	CHECK_INT_EQ(result.code, 0);
	CHECK(!result.is_discard);
	CHECK(strstr(dstring_str(&result.log), "warn: RCPT from unknown[198.51.100.66]: ") ==
	      dstring_str(&result.log));
	CHECK(strstr(dstring_str(&result.log), "looks odd") != NULL);

	CHECK_INT_EQ(setup("smtpd_client_restrictions=warn_if_reject reject_unknown_client_hostname",
	                   &error),
	             0);
	fill_client(&client, OUTSIDE, NULL);
	smtpd_check(RCPT, &client, "", "alice@mail.example.org", &result);
	CHECK_INT_EQ(result.code, 0);
	CHECK_STR_EQ(dstring_str(&result.log),
	             "reject_warning: RCPT from unknown[198.51.100.200]: 450 4.7.25 Client host "
	             "rejected: cannot find your hostname, [198.51.100.200]; from=<> "
	             "to=<alice@mail.example.org> proto=ESMTP");
	smtpd_check_fini();
	smtpd_check_result_fini(&result);
	dstring_fini(&error);
}

/* mynetworks computed from mynetworks_style when mynetworks is empty. */
static void
test_mynetworks_style(void)
{
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(setup("mynetworks=\nmynetworks_style=host", &error), 0);
	CHECK(smtpd_check_is_mynetworks("127.0.0.1"));
	CHECK(!smtpd_check_is_mynetworks("127.0.0.2"));
	CHECK(!smtpd_check_is_mynetworks("192.0.2.5"));
	CHECK_INT_EQ(setup("mynetworks=\nmynetworks_style=subnet", &error), 0);
	CHECK(smtpd_check_is_mynetworks("127.0.0.2"));
	CHECK_INT_EQ(setup("mynetworks=\nmynetworks_style=class", &error), 0);
	CHECK(smtpd_check_is_mynetworks("127.1.2.3"));
	CHECK_INT_EQ(setup("mynetworks=\nmynetworks_style=planet", &error), -1);
	CHECK(strstr(dstring_str(&error), "mynetworks_style") != NULL);
	smtpd_check_fini();
	dstring_fini(&error);
}

static void
test_config_errors(void)
{
	static const struct {
		const char *settings;
		const char *parts[2];
	} errors[] = {
	    {"smtpd_recipient_restrictions=permit_mynetworks, bogus_thing",
	     {"smtpd_recipient_restrictions", "bogus_thing"}},
	    {"smtpd_client_restrictions=check_client_access",
	     {"smtpd_client_restrictions", "check_client_access"}},
	    {"smtpd_client_restrictions=check_client_access nosuchtype:/x",
	     {"smtpd_client_restrictions", "nosuchtype"}},
	    {"smtpd_relay_restrictions=permit_mynetworks\nsmtpd_recipient_restrictions=",
	     {"smtpd_relay_restrictions", "reject_unauth_destination"}},
	    {"smtpd_restriction_classes=missing_class", {"missing_class", "definition"}},
	    {"smtpd_restriction_classes=c\nc=reject, what_is_this", {"c", "what_is_this"}},
	    {"smtpd_helo_restrictions=reject_rbl_client", {"smtpd_helo_restrictions", "DNS"}},
	    {"mynetworks=192.0.2.1/24", {"mynetworks", "192.0.2.1/24"}},
	    {"local_recipient_maps=nosuch:x", {"local_recipient_maps", "nosuch"}},
	};
	struct dstring error;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		CHECK_INT_EQ(setup(errors[i].settings, &error), -1);
		for (int part = 0; part < 2; part++) {
			bool found = strstr(dstring_str(&error), errors[i].parts[part]) != NULL;

			CHECK(found);
			if (!found)
				fprintf(stderr, "config case %zu: \"%s\" lacks \"%s\"\n", i,
				        dstring_str(&error), errors[i].parts[part]);
		}
	}
	/* A relay limit inside a class counts (Postfix looks inside too). */
	CHECK_INT_EQ(setup("smtpd_relay_restrictions=\nsmtpd_restriction_classes=limit\n"
	                   "limit=reject_unauth_destination\nsmtpd_recipient_restrictions=limit",
	                   &error),
	             0);
	smtpd_check_fini();
	dstring_fini(&error);
}

int
main(void)
{
	int status;

	log_open("test_smtpd_check", LOG_SINK_STDERR);
	if (mkdtemp(directory) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(table_files) / sizeof(table_files[0]); i++)
		write_file(table_files[i][0], table_files[i][1]);
	test_cases();
	test_logs();
	test_mynetworks_style();
	test_config_errors();
	status = check_finish();
	for (size_t i = 0; i < sizeof(table_files) / sizeof(table_files[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", directory, table_files[i][0]);
		unlink(path);
	}
	rmdir(directory);
	return status;
}
