/*
 * test_master_cf - master.cf parsing, checking and "postconf -M" output.
 *
 * Good texts (Postfix's own master.cf, odd but valid entries) must parse
 * with no problem and show exactly as real postconf -M / -Mf shows them;
 * every kind of bad entry must be reported once, with its file and line,
 * and parsing must go on with the entries after it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "log.h"
#include "master_cf.h"
#include "xalloc.h"

/* /etc/postfix/master.cf of Debian's postfix 3.7.11, verbatim. */
static const char postfix_master_cf[] =
    "#\n"
    "# Postfix master process configuration file.  For details on the format\n"
    "# of the file, see the master(5) manual page (command: \"man 5 master\" or\n"
    "# on-line: http://www.postfix.org/master.5.html).\n"
    "#\n"
    "# Do not forget to execute \"postfix reload\" after editing this file.\n"
    "#\n"
    "# ==========================================================================\n"
    "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
    "#               (yes)   (yes)   (no)    (never) (100)\n"
    "# ==========================================================================\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "#smtp      inet  n       -       y       -       1       postscreen\n"
    "#smtpd     pass  -       -       y       -       -       smtpd\n"
    "#dnsblog   unix  -       -       y       -       0       dnsblog\n"
    "#tlsproxy  unix  -       -       y       -       0       tlsproxy\n"
    "# Choose one: enable submission for loopback clients only, or for any client.\n"
    "#127.0.0.1:submission inet n -   y       -       -       smtpd\n"
    "#submission inet n       -       y       -       -       smtpd\n"
    "#  -o syslog_name=postfix/submission\n"
    "#  -o smtpd_tls_security_level=encrypt\n"
    "#  -o smtpd_sasl_auth_enable=yes\n"
    "#  -o smtpd_tls_auth_only=yes\n"
    "#  -o smtpd_reject_unlisted_recipient=no\n"
    "#     Instead of specifying complex smtpd_<xxx>_restrictions here,\n"
    "#     specify \"smtpd_<xxx>_restrictions=$mua_<xxx>_restrictions\"\n"
    "#     here, and specify mua_<xxx>_restrictions in main.cf (where\n"
    "#     \"<xxx>\" is \"client\", \"helo\", \"sender\", \"relay\", or \"recipient\").\n"
    "#  -o smtpd_client_restrictions=\n"
    "#  -o smtpd_helo_restrictions=\n"
    "#  -o smtpd_sender_restrictions=\n"
    "#  -o smtpd_relay_restrictions=\n"
    "#  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
    "#  -o milter_macro_daemon_name=ORIGINATING\n"
    "# Choose one: enable submissions for loopback clients only, or for any client.\n"
    "#127.0.0.1:submissions inet n  -       y       -       -       smtpd\n"
    "#submissions     inet  n       -       y       -       -       smtpd\n"
    "#  -o syslog_name=postfix/submissions\n"
    "#  -o smtpd_tls_wrappermode=yes\n"
    "#  -o smtpd_sasl_auth_enable=yes\n"
    "#  -o smtpd_reject_unlisted_recipient=no\n"
    "#     Instead of specifying complex smtpd_<xxx>_restrictions here,\n"
    "#     specify \"smtpd_<xxx>_restrictions=$mua_<xxx>_restrictions\"\n"
    "#     here, and specify mua_<xxx>_restrictions in main.cf (where\n"
    "#     \"<xxx>\" is \"client\", \"helo\", \"sender\", \"relay\", or \"recipient\").\n"
    "#  -o smtpd_client_restrictions=\n"
    "#  -o smtpd_helo_restrictions=\n"
    "#  -o smtpd_sender_restrictions=\n"
    "#  -o smtpd_relay_restrictions=\n"
    "#  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
    "#  -o milter_macro_daemon_name=ORIGINATING\n"
    "#628       inet  n       -       y       -       -       qmqpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "cleanup   unix  n       -       y       -       0       cleanup\n"
    "qmgr      unix  n       -       n       300     1       qmgr\n"
    "#qmgr     unix  n       -       n       300     1       oqmgr\n"
    "tlsmgr    unix  -       -       y       1000?   1       tlsmgr\n"
    "rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
    "bounce    unix  -       -       y       -       0       bounce\n"
    "defer     unix  -       -       y       -       0       bounce\n"
    "trace     unix  -       -       y       -       0       bounce\n"
    "verify    unix  -       -       y       -       1       verify\n"
    "flush     unix  n       -       y       1000?   0       flush\n"
    "proxymap  unix  -       -       n       -       -       proxymap\n"
    "proxywrite unix -       -       n       -       1       proxymap\n"
    "smtp      unix  -       -       y       -       -       smtp\n"
    "relay     unix  -       -       y       -       -       smtp\n"
    "        -o syslog_name=postfix/$service_name\n"
    "#       -o smtp_helo_timeout=5 -o smtp_connect_timeout=5\n"
    "showq     unix  n       -       y       -       -       showq\n"
    "error     unix  -       -       y       -       -       error\n"
    "retry     unix  -       -       y       -       -       error\n"
    "discard   unix  -       -       y       -       -       discard\n"
    "local     unix  -       n       n       -       -       local\n"
    "virtual   unix  -       n       n       -       -       virtual\n"
    "lmtp      unix  -       -       y       -       -       lmtp\n"
    "anvil     unix  -       -       y       -       1       anvil\n"
    "scache    unix  -       -       y       -       1       scache\n"
    "postlog   unix-dgram n  -       n       -       1       postlogd\n"
    "#\n"
    "# ====================================================================\n"
    "# Interfaces to non-Postfix software. Be sure to examine the manual\n"
    "# pages of the non-Postfix software to find out what options it wants.\n"
    "#\n"
    "# Many of the following services use the Postfix pipe(8) delivery\n"
    "# agent.  See the pipe(8) man page for information about ${recipient}\n"
    "# and other message envelope options.\n"
    "# ====================================================================\n"
    "#\n"
    "# maildrop. See the Postfix MAILDROP_README file for details.\n"
    "# Also specify in main.cf: maildrop_destination_recipient_limit=1\n"
    "#\n"
    "maildrop  unix  -       n       n       -       -       pipe\n"
    "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
    "#\n"
    "# ====================================================================\n"
    "#\n"
    "# Recent Cyrus versions can use the existing \"lmtp\" master.cf entry.\n"
    "#\n"
    "# Specify in cyrus.conf:\n"
    "#   lmtp    cmd=\"lmtpd -a\" listen=\"localhost:lmtp\" proto=tcp4\n"
    "#\n"
    "# Specify in main.cf one or more of the following:\n"
    "#  mailbox_transport = lmtp:inet:localhost\n"
    "#  virtual_transport = lmtp:inet:localhost\n"
    "#\n"
    "# ====================================================================\n"
    "#\n"
    "# Cyrus 2.1.5 (Amos Gouaux)\n"
    "# Also specify in main.cf: cyrus_destination_recipient_limit=1\n"
    "#\n"
    "#cyrus     unix  -       n       n       -       -       pipe\n"
    "#  flags=DRX user=cyrus argv=/cyrus/bin/deliver -e -r ${sender} -m ${extension} ${user}\n"
    "#\n"
    "# ====================================================================\n"
    "# Old example of delivery via Cyrus.\n"
    "#\n"
    "#old-cyrus unix  -       n       n       -       -       pipe\n"
    "#  flags=R user=cyrus argv=/cyrus/bin/deliver -e -m ${extension} ${user}\n"
    "#\n"
    "# ====================================================================\n"
    "#\n"
    "# See the Postfix UUCP_README file for configuration details.\n"
    "#\n"
    "uucp      unix  -       n       n       -       -       pipe\n"
    "  flags=Fqhu user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)\n"
    "#\n"
    "# Other external delivery methods.\n"
    "#\n"
    "ifmail    unix  -       n       n       -       -       pipe\n"
    "  flags=F user=ftn argv=/usr/lib/ifmail/ifmail -r $nexthop ($recipient)\n"
    "bsmtp     unix  -       n       n       -       -       pipe\n"
    "  flags=Fq. user=bsmtp argv=/usr/lib/bsmtp/bsmtp -t$nexthop -f$sender $recipient\n"
    "scalemail-backend unix -       n       n       -       2       pipe\n"
    "  flags=R user=scalemail argv=/usr/lib/scalemail/bin/scalemail-store ${nexthop} ${user} "
    "${extension}\n"
    "mailman   unix  -       n       n       -       -       pipe\n"
    "  flags=FRX user=list argv=/usr/lib/mailman/bin/postfix-to-mailman.py ${nexthop} ${user}\n";

/* What "postconf -M" prints for it. */
static const char postfix_show[] =
    "smtp       inet  n       -       y       -       -       smtpd\n"
    "pickup     unix  n       -       y       60      1       pickup\n"
    "cleanup    unix  n       -       y       -       0       cleanup\n"
    "qmgr       unix  n       -       n       300     1       qmgr\n"
    "tlsmgr     unix  -       -       y       1000?   1       tlsmgr\n"
    "rewrite    unix  -       -       y       -       -       trivial-rewrite\n"
    "bounce     unix  -       -       y       -       0       bounce\n"
    "defer      unix  -       -       y       -       0       bounce\n"
    "trace      unix  -       -       y       -       0       bounce\n"
    "verify     unix  -       -       y       -       1       verify\n"
    "flush      unix  n       -       y       1000?   0       flush\n"
    "proxymap   unix  -       -       n       -       -       proxymap\n"
    "proxywrite unix  -       -       n       -       1       proxymap\n"
    "smtp       unix  -       -       y       -       -       smtp\n"
    "relay      unix  -       -       y       -       -       smtp -o "
    "syslog_name=postfix/$service_name\n"
    "showq      unix  n       -       y       -       -       showq\n"
    "error      unix  -       -       y       -       -       error\n"
    "retry      unix  -       -       y       -       -       error\n"
    "discard    unix  -       -       y       -       -       discard\n"
    "local      unix  -       n       n       -       -       local\n"
    "virtual    unix  -       n       n       -       -       virtual\n"
    "lmtp       unix  -       -       y       -       -       lmtp\n"
    "anvil      unix  -       -       y       -       1       anvil\n"
    "scache     unix  -       -       y       -       1       scache\n"
    "postlog    unix-dgram n  -       n       -       1       postlogd\n"
    "maildrop   unix  -       n       n       -       -       pipe flags=DRXhu user=vmail "
    "argv=/usr/bin/maildrop -d ${recipient}\n"
    "uucp       unix  -       n       n       -       -       pipe flags=Fqhu user=uucp argv=uux "
    "-r -n -z -a$sender - $nexthop!rmail ($recipient)\n"
    "ifmail     unix  -       n       n       -       -       pipe flags=F user=ftn "
    "argv=/usr/lib/ifmail/ifmail -r $nexthop ($recipient)\n"
    "bsmtp      unix  -       n       n       -       -       pipe flags=Fq. user=bsmtp "
    "argv=/usr/lib/bsmtp/bsmtp -t$nexthop -f$sender $recipient\n"
    "scalemail-backend unix - n       n       -       2       pipe flags=R user=scalemail "
    "argv=/usr/lib/scalemail/bin/scalemail-store ${nexthop} ${user} ${extension}\n"
    "mailman    unix  -       n       n       -       -       pipe flags=FRX user=list "
    "argv=/usr/lib/mailman/bin/postfix-to-mailman.py ${nexthop} ${user}\n";

/* What "postconf -Mf" prints for it. */
static const char postfix_show_folded[] =
    "smtp       inet  n       -       y       -       -       smtpd\n"
    "pickup     unix  n       -       y       60      1       pickup\n"
    "cleanup    unix  n       -       y       -       0       cleanup\n"
    "qmgr       unix  n       -       n       300     1       qmgr\n"
    "tlsmgr     unix  -       -       y       1000?   1       tlsmgr\n"
    "rewrite    unix  -       -       y       -       -       trivial-rewrite\n"
    "bounce     unix  -       -       y       -       0       bounce\n"
    "defer      unix  -       -       y       -       0       bounce\n"
    "trace      unix  -       -       y       -       0       bounce\n"
    "verify     unix  -       -       y       -       1       verify\n"
    "flush      unix  n       -       y       1000?   0       flush\n"
    "proxymap   unix  -       -       n       -       -       proxymap\n"
    "proxywrite unix  -       -       n       -       1       proxymap\n"
    "smtp       unix  -       -       y       -       -       smtp\n"
    "relay      unix  -       -       y       -       -       smtp\n"
    "    -o syslog_name=postfix/$service_name\n"
    "showq      unix  n       -       y       -       -       showq\n"
    "error      unix  -       -       y       -       -       error\n"
    "retry      unix  -       -       y       -       -       error\n"
    "discard    unix  -       -       y       -       -       discard\n"
    "local      unix  -       n       n       -       -       local\n"
    "virtual    unix  -       n       n       -       -       virtual\n"
    "lmtp       unix  -       -       y       -       -       lmtp\n"
    "anvil      unix  -       -       y       -       1       anvil\n"
    "scache     unix  -       -       y       -       1       scache\n"
    "postlog    unix-dgram n  -       n       -       1       postlogd\n"
    "maildrop   unix  -       n       n       -       -       pipe flags=DRXhu\n"
    "    user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
    "uucp       unix  -       n       n       -       -       pipe flags=Fqhu\n"
    "    user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)\n"
    "ifmail     unix  -       n       n       -       -       pipe flags=F user=ftn\n"
    "    argv=/usr/lib/ifmail/ifmail -r $nexthop ($recipient)\n"
    "bsmtp      unix  -       n       n       -       -       pipe flags=Fq.\n"
    "    user=bsmtp argv=/usr/lib/bsmtp/bsmtp -t$nexthop -f$sender $recipient\n"
    "scalemail-backend unix - n       n       -       2       pipe flags=R\n"
    "    user=scalemail argv=/usr/lib/scalemail/bin/scalemail-store ${nexthop}\n"
    "    ${user} ${extension}\n"
    "mailman    unix  -       n       n       -       -       pipe flags=FRX\n"
    "    user=list argv=/usr/lib/mailman/bin/postfix-to-mailman.py ${nexthop}\n"
    "    ${user}\n";
/* Odd but valid entries; the expected texts are what postconf -M and -Mf of
 * postfix 3.7.11 print for them. */
static const char odd_master_cf[] =
    "127.0.0.1:2525 inet n - n - 10 smtpd -v -o a=b\n"
    "[::1]:2525 inet  n       -       n       -       10      smtpd\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "  -o { smtpd_tls_security_level = encrypt }\n"
    "  -o smtpd_client_restrictions=\n"
    "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject -v -D\n"
    "a2 unix - - n - - smtpd x { a b }\n"
    "a4 unix y y y 0 0 smtpd -o { x = a b }\n"
    "a5 unix - - n - - smtpd -o {x=y} {c}\n"
    "zz unix - - n 5? - pipe -- -o foo\n"
    "very-long-service-name-here unix-dgram - - n - - postlogd\n"
    "pp unix - n n - - pipe flags=R user=nobody argv=/usr/local/bin/some-long-program-name "
    "--with-option x y z ${recipient}\n";

static const char odd_show[] =
    "127.0.0.1:2525 inet n    -       n       -       10      smtpd -v -o a=b\n"
    "[::1]:2525 inet  n       -       n       -       10      smtpd\n"
    "submission inet  n       -       y       -       -       smtpd -o "
    "syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o "
    "smtpd_client_restrictions= -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject "
    "-v -D\n"
    "a2         unix  -       -       n       -       -       smtpd x {a b}\n"
    "a4         unix  y       y       y       0       0       smtpd -o {x=a b}\n"
    "a5         unix  -       -       n       -       -       smtpd -o x=y c\n"
    "zz         unix  -       -       n       5?      -       pipe -- -o foo\n"
    "very-long-service-name-here unix-dgram - - n -   -       postlogd\n"
    "pp         unix  -       n       n       -       -       pipe flags=R user=nobody "
    "argv=/usr/local/bin/some-long-program-name --with-option x y z ${recipient}\n";

static const char odd_show_folded[] =
    "127.0.0.1:2525 inet n    -       n       -       10      smtpd -v\n"
    "    -o a=b\n"
    "[::1]:2525 inet  n       -       n       -       10      smtpd\n"
    "submission inet  n       -       y       -       -       smtpd\n"
    "    -o syslog_name=postfix/submission\n"
    "    -o smtpd_tls_security_level=encrypt\n"
    "    -o smtpd_client_restrictions=\n"
    "    -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
    "    -v -D\n"
    "a2         unix  -       -       n       -       -       smtpd x {a b}\n"
    "a4         unix  y       y       y       0       0       smtpd\n"
    "    -o {x=a b}\n"
    "a5         unix  -       -       n       -       -       smtpd\n"
    "    -o x=y\n"
    "    c\n"
    "zz         unix  -       -       n       5?      -       pipe -- -o foo\n"
    "very-long-service-name-here unix-dgram - - n -   -       postlogd\n"
    "pp         unix  -       n       n       -       -       pipe flags=R\n"
    "    user=nobody argv=/usr/local/bin/some-long-program-name --with-option x y z\n"
    "    ${recipient}\n";

/* Logged lines go to this file, so tests can check the messages. */
static char log_path[] = "/tmp/test_master_cf.XXXXXX";

static char *
read_log(void)
{
	FILE *file = fopen(log_path, "r");
	struct dstring text;
	int byte;

	dstring_init(&text, DSTRING_NO_LIMIT);
	if (file != NULL) {
		while ((byte = getc(file)) != EOF)
			dstring_append_char(&text, (char)byte);
		fclose(file);
	}
	char *result = dstring_steal(&text);

	dstring_fini(&text);
	return result;
}

static void
clear_log(void)
{
	if (truncate(log_path, 0) < 0)
		perror("truncate");
}

static bool
log_holds(const char *text)
{
	char *logged = read_log();
	bool found = strstr(logged, text) != NULL;

	if (!found)
		fprintf(stderr, "log lacks \"%s\"; it holds:\n%s", text, logged);
	free(logged);
	return found;
}

/* Show every entry of table, one per line, as postconf -M does. */
static char *
show_table(const struct master_cf *table, unsigned flags)
{
	struct dstring out;

	dstring_init(&out, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < table->count; i++) {
		master_cf_format_entry(&table->entries[i], flags, &out);
		dstring_append_char(&out, '\n');
	}
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static bool
same_entry(const struct master_cf_entry *a, const struct master_cf_entry *b)
{
	if (strcmp(a->service, b->service) != 0 || a->type != b->type ||
	    a->is_private != b->is_private || a->is_unprivileged != b->is_unprivileged ||
	    a->is_chroot != b->is_chroot || a->wakeup_seconds != b->wakeup_seconds ||
	    a->wakeup_only_if_used != b->wakeup_only_if_used || a->max_process != b->max_process ||
	    strcmp(a->command, b->command) != 0 || a->default_columns != b->default_columns ||
	    a->args.count != b->args.count || a->override_count != b->override_count)
		return false;
	for (size_t i = 0; i < a->args.count; i++)
		if (strcmp(a->args.items[i], b->args.items[i]) != 0)
			return false;
	for (size_t i = 0; i < a->override_count; i++)
		if (strcmp(a->overrides[i].name, b->overrides[i].name) != 0 ||
		    strcmp(a->overrides[i].value, b->overrides[i].value) != 0)
			return false;
	return true;
}

/* The shown text of every entry parses back to the same entry. */
static void
check_round_trip(const struct master_cf *table, unsigned flags)
{
	char *shown = show_table(table, flags);
	struct master_cf again;

	master_cf_init(&again);
	CHECK_INT_EQ(master_cf_parse(shown, strlen(shown), "shown", &again), 0);
	CHECK_INT_EQ(again.count, table->count);
	for (size_t i = 0; i < table->count && i < again.count; i++)
		CHECK(same_entry(&table->entries[i], &again.entries[i]));
	master_cf_fini(&again);
	free(shown);
}

static void
test_postfix_master_cf(void)
{
	struct master_cf table;
	const struct master_cf_entry *entry;
	char *shown;

	master_cf_init(&table);
	CHECK_INT_EQ(master_cf_parse(postfix_master_cf, strlen(postfix_master_cf),
	                             "/etc/postfix/master.cf", &table),
	             0);
	CHECK_INT_EQ(table.count, 31);

	shown = show_table(&table, 0);
	CHECK_STR_EQ(shown, postfix_show);
	free(shown);
	shown = show_table(&table, MASTER_CF_FORMAT_FOLD);
	CHECK_STR_EQ(shown, postfix_show_folded);
	free(shown);
	check_round_trip(&table, 0);
	check_round_trip(&table, MASTER_CF_FORMAT_FOLD);

	entry = master_cf_find(&table, "smtp", MASTER_CF_INET);
	CHECK(entry != NULL);
	if (entry != NULL) {
		CHECK(!entry->is_private);
		CHECK(entry->is_unprivileged);
		CHECK(entry->is_chroot);
		CHECK_INT_EQ(entry->wakeup_seconds, 0);
		CHECK(!entry->wakeup_only_if_used);
		CHECK_INT_EQ(entry->max_process, MASTER_CF_PROCESS_LIMIT_DEFAULT);
		CHECK_STR_EQ(entry->command, "smtpd");
		CHECK_INT_EQ(entry->args.count, 0);
		CHECK_STR_EQ(entry->inet_host, "");
		CHECK_INT_EQ(entry->inet_port, 25);
		CHECK_STR_EQ(entry->origin_path, "/etc/postfix/master.cf");
		CHECK_INT_EQ(entry->origin_line, 12);
		CHECK_INT_EQ(entry->default_columns, MASTER_CF_COLUMN_UNPRIVILEGED |
		                                         MASTER_CF_COLUMN_WAKEUP |
		                                         MASTER_CF_COLUMN_PROCESS_LIMIT);
	}
	/* An inet service is found by its address, whatever its spelling. */
	CHECK(master_cf_find(&table, "25", MASTER_CF_INET) == entry);
	CHECK(master_cf_find(&table, ":smtp", MASTER_CF_INET) == entry);
	CHECK(master_cf_find(&table, "127.0.0.1:25", MASTER_CF_INET) == NULL);
	CHECK(master_cf_find(&table, "bad:port:", MASTER_CF_INET) == NULL);
	entry = master_cf_find(&table, "smtp", MASTER_CF_UNIX);
	CHECK(entry != NULL && strcmp(entry->command, "smtp") == 0);
	CHECK(entry != NULL && entry->inet_host == NULL);
	CHECK(master_cf_find(&table, "smtp", MASTER_CF_FIFO) == NULL);
	CHECK(master_cf_find(&table, "nosuch", MASTER_CF_UNIX) == NULL);

	entry = master_cf_find(&table, "tlsmgr", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->wakeup_seconds == 1000 && entry->wakeup_only_if_used);
	CHECK(entry != NULL && entry->max_process == 1 && entry->is_private);
	entry = master_cf_find(&table, "pickup", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->wakeup_seconds == 60 && !entry->wakeup_only_if_used);
	CHECK(entry != NULL && !entry->is_private);
	entry = master_cf_find(&table, "cleanup", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->max_process == 0);
	entry = master_cf_find(&table, "local", MASTER_CF_UNIX);
	CHECK(entry != NULL && !entry->is_unprivileged && !entry->is_chroot);

	entry = master_cf_find(&table, "relay", MASTER_CF_UNIX);
	CHECK(entry != NULL);
	if (entry != NULL) {
		CHECK_INT_EQ(entry->args.count, 2);
		CHECK_STR_EQ(entry->args.items[0], "-o");
		CHECK_STR_EQ(entry->args.items[1], "syslog_name=postfix/$service_name");
		CHECK_INT_EQ(entry->override_count, 1);
		CHECK_STR_EQ(entry->overrides[0].name, "syslog_name");
		CHECK_STR_EQ(entry->overrides[0].value, "postfix/$service_name");
	}
	entry = master_cf_find(&table, "postlog", MASTER_CF_UNIX_DGRAM);
	CHECK(entry != NULL && strcmp(entry->command, "postlogd") == 0);

	entry = master_cf_find(&table, "maildrop", MASTER_CF_UNIX);
	CHECK(entry != NULL);
	if (entry != NULL) {
		CHECK_INT_EQ(entry->args.count, 5);
		CHECK_STR_EQ(entry->args.items[0], "flags=DRXhu");
		CHECK_STR_EQ(entry->args.items[4], "${recipient}");
		CHECK_INT_EQ(entry->override_count, 0);
	}
	master_cf_fini(&table);
}

static void
test_odd_entries(void)
{
	struct master_cf table;
	const struct master_cf_entry *entry;
	char *shown;

	master_cf_init(&table);
	CHECK_INT_EQ(master_cf_parse(odd_master_cf, strlen(odd_master_cf), "odd.cf", &table), 0);
	CHECK_INT_EQ(table.count, 9);
	shown = show_table(&table, 0);
	CHECK_STR_EQ(shown, odd_show);
	free(shown);
	shown = show_table(&table, MASTER_CF_FORMAT_FOLD);
	CHECK_STR_EQ(shown, odd_show_folded);
	free(shown);
	check_round_trip(&table, 0);
	check_round_trip(&table, MASTER_CF_FORMAT_FOLD);

	entry = master_cf_find(&table, "submission", MASTER_CF_INET);
	CHECK(entry != NULL);
	if (entry != NULL) {
		CHECK_INT_EQ(entry->inet_port, 587);
		CHECK_INT_EQ(entry->override_count, 4);
		CHECK_STR_EQ(entry->overrides[1].name, "smtpd_tls_security_level");
		CHECK_STR_EQ(entry->overrides[1].value, "encrypt");
		CHECK_STR_EQ(entry->overrides[2].name, "smtpd_client_restrictions");
		CHECK_STR_EQ(entry->overrides[2].value, "");
		CHECK_INT_EQ(entry->args.count, 10);
		CHECK_STR_EQ(entry->args.items[9], "-D");
	}
	entry = master_cf_find(&table, "127.0.0.1:2525", MASTER_CF_INET);
	CHECK(entry != NULL && strcmp(entry->inet_host, "127.0.0.1") == 0);
	CHECK(entry != NULL && entry->inet_port == 2525 && entry->max_process == 10);
	entry = master_cf_find(&table, "[::1]:2525", MASTER_CF_INET);
	CHECK(entry != NULL && strcmp(entry->inet_host, "::1") == 0);
	entry = master_cf_find(&table, "a4", MASTER_CF_UNIX);
	CHECK(entry != NULL);
	if (entry != NULL) {
		CHECK(entry->is_private && entry->is_unprivileged && entry->is_chroot);
		CHECK_INT_EQ(entry->default_columns, 0);
		CHECK_INT_EQ(entry->max_process, 0);
		CHECK_STR_EQ(entry->overrides[0].name, "x");
		CHECK_STR_EQ(entry->overrides[0].value, "a b");
	}
	entry = master_cf_find(&table, "a2", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->args.count == 2);
	CHECK(entry != NULL && strcmp(entry->args.items[1], "a b") == 0);
	/* After "--" or the first non-option, "-o" is an ordinary argument. */
	entry = master_cf_find(&table, "zz", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->override_count == 0 && entry->args.count == 3);
	CHECK(entry != NULL && entry->wakeup_seconds == 5 && entry->wakeup_only_if_used);
	entry = master_cf_find(&table, "pp", MASTER_CF_UNIX);
	CHECK(entry != NULL && entry->args.count == 8);
	master_cf_fini(&table);
}

/* Good texts: how they parse, field by field. */
struct good_case {
	const char *name;
	const char *text;
	size_t entries;
	const char *service;   /* the last entry's */
	const char *shown;     /* postconf -M of the last entry */
	const char *args;      /* its args joined with '|' */
	const char *overrides; /* its overrides as name=value joined with '|' */
};

static const struct good_case good_cases[] = {
    {"continuation lines, comments and blank lines between them",
     "relay unix - - n - - smtp\n"
     "# a comment inside the entry\n"
     "\n"
     "   \t\n"
     "\t-o a=1\n"
     "    # an indented comment\n"
     "  -o b=2\n",
     1, "relay", "relay      unix  -       -       n       -       -       smtp -o a=1 -o b=2",
     "-o|a=1|-o|b=2", "a=1|b=2"},
    {"CR LF line ends", "a unix - - n - - smtpd\r\n  -v\r\nb unix - - n - - smtpd\r\n", 2, "b",
     NULL, "", ""},
    {"no final newline", "a unix - - n - - smtpd -v", 1, "a", NULL, "-v", ""},
    {"-o forms", "a unix - - n - - smtpd -oa=1 -o b=$c -o { d = e f } -o{g=h} -vo i= -o j==", 1,
     "a",
     "a          unix  -       -       n       -       -       smtpd -o a=1 -o b=$c -o {d=e f} "
     "-o g=h -v -o i= -o j==",
     "-o|a=1|-o|b=$c|-o|d=e f|-o|g=h|-v|-o|i=|-o|j==", "a=1|b=$c|d=e f|g=h|i=|j=="},
    {"{ } arguments", "a unix - - n - - pipe argv=/bin/x { two words } {} {{nested} x} a{b c}", 1,
     "a",
     "a          unix  -       -       n       -       -       pipe argv=/bin/x "
     "{two words} {} {{nested} x} {a{b c}}",
     "argv=/bin/x|two words||{nested} x|a{b c}", ""},
    {"-o after the first non-option is an argument", "a unix - - n - - pipe -v flags=R -o x=y", 1,
     "a", NULL, "-v|flags=R|-o|x=y", ""},
    {"a lone - ends the options", "a unix - - n - - x - -o y", 1, "a", NULL, "-|-o|y", ""},
    {"inet forms",
     "2525 inet n - n - - smtpd\n"
     ":2526 inet n - n - - smtpd\n"
     "::1:smtp inet n - n - - smtpd\n"
     "[fe80::1%lo]:2525 inet n - n - - smtpd\n"
     "mx.example.org:submissions inet - - n - - smtpd\n",
     5, "mx.example.org:submissions", NULL, "", ""},
    {"same name, different types", "a unix - - n - - x\n25 fifo - - n - - x\n25 inet n - n - - x\n",
     0, NULL, NULL, NULL, NULL},
    {"long service name pushes the columns", "scalemail-backend unix - n n - 2 pipe flags=R", 1,
     "scalemail-backend", "scalemail-backend unix - n       n       -       2       pipe flags=R",
     "flags=R", ""},
    {"largest numbers", "a unix - - n 2147483647? 2147483647 x", 1, "a",
     "a          unix  -       -       n       2147483647? 2147483647 x", "", ""},
    {"an argument starting with '#' is shown in braces", "a unix - - n - - x #y {#z}", 1, "a",
     "a          unix  -       -       n       -       -       x {#y} {#z}", "#y|#z", ""},
    {"high-bit bytes in arguments", "a unix - - n - - x caf\xc3\xa9", 1, "a", NULL, "caf\xc3\xa9",
     ""},
};

static char *
join_args(const struct master_cf_entry *entry)
{
	struct dstring out;

	dstring_init(&out, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < entry->args.count; i++)
		dstring_append_printf(&out, "%s%s", i ? "|" : "", entry->args.items[i]);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static char *
join_overrides(const struct master_cf_entry *entry)
{
	struct dstring out;

	dstring_init(&out, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < entry->override_count; i++)
		dstring_append_printf(&out, "%s%s=%s", i ? "|" : "", entry->overrides[i].name,
		                      entry->overrides[i].value);
	char *result = dstring_steal(&out);

	dstring_fini(&out);
	return result;
}

static void
test_good_cases(void)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *test = &good_cases[i];
		struct master_cf table;
		const struct master_cf_entry *last;
		int problems;

		master_cf_init(&table);
		problems = master_cf_parse(test->text, strlen(test->text), "good.cf", &table);
		if (problems != 0 || (test->entries && table.count != test->entries))
			fprintf(stderr, "good case \"%s\"\n", test->name);
		CHECK_INT_EQ(problems, 0);
		if (test->entries == 0 || table.count != test->entries) {
			master_cf_fini(&table);
			continue;
		}
		last = &table.entries[table.count - 1];
		CHECK_STR_EQ(last->service, test->service);
		if (test->shown != NULL) {
			struct dstring shown;

			dstring_init(&shown, DSTRING_NO_LIMIT);
			master_cf_format_entry(last, 0, &shown);
			CHECK_STR_EQ(dstring_str(&shown), test->shown);
			dstring_fini(&shown);
		}
		if (test->args != NULL) {
			char *args = join_args(last), *overrides = join_overrides(last);

			CHECK_STR_EQ(args, test->args);
			CHECK_STR_EQ(overrides, test->overrides);
			free(args);
			free(overrides);
		}
		check_round_trip(&table, 0);
		check_round_trip(&table, MASTER_CF_FORMAT_FOLD);
		master_cf_fini(&table);
	}
}

/*
 * Bad texts. Each case is framed by good entries ("first" before, "last"
 * after), so entries counts that the parser went on.
 */
struct bad_case {
	const char *text;
	size_t length; /* 0: strlen(text) */
	int problems;
	size_t entries; /* besides "first" and "last" */
	const char *message;
};

static const struct bad_case bad_cases[] = {
    /* Column count. */
    {"a unix - - n - -\n", 0, 1, 0,
     "bad.cf, line 2: expected at least 8 columns (service type private unpriv chroot "
     "wakeup maxproc command), found 7"},
    {"a\n", 0, 1, 0, "line 2: expected at least 8 columns"},
    /* Type. */
    {"a tcp - - n - - smtpd\n", 0, 1, 0, "line 2: unknown service type \"tcp\""},
    {"a UNIX - - n - - smtpd\n", 0, 1, 0, "unknown service type \"UNIX\""},
    /* Yes/no columns. */
    {"a unix yes - n - - smtpd\n", 0, 1, 0,
     "line 2: bad private column \"yes\": expected y, n or -"},
    {"a unix - Y n - - smtpd\n", 0, 1, 0, "bad unpriv column \"Y\""},
    {"a unix - - 1 - - smtpd\n", 0, 1, 0, "bad chroot column \"1\""},
    {"2525 inet y - n - - smtpd\n", 0, 1, 0, "line 2: an inet service cannot be private"},
    /* Wakeup. */
    {"a unix - - n 1x - smtpd\n", 0, 1, 0, "line 2: bad wakeup column \"1x\""},
    {"a unix - - n ? - smtpd\n", 0, 1, 0, "bad wakeup column \"?\""},
    {"a unix - - n -? - smtpd\n", 0, 1, 0, "bad wakeup column \"-?\""},
    {"a unix - - n 60?? - smtpd\n", 0, 1, 0, "bad wakeup column \"60??\""},
    {"a unix - - n -5 - smtpd\n", 0, 1, 0, "bad wakeup column \"-5\""},
    {"a unix - - n 2147483648 - smtpd\n", 0, 1, 0, "bad wakeup column"},
    {"a unix - - n 99999999999999999999999 - smtpd\n", 0, 1, 0, "bad wakeup column"},
    /* Process limit. */
    {"a unix - - n - -1 smtpd\n", 0, 1, 0, "line 2: bad maxproc column \"-1\""},
    {"a unix - - n - x smtpd\n", 0, 1, 0, "bad maxproc column \"x\""},
    {"a unix - - n - 2147483648 smtpd\n", 0, 1, 0, "bad maxproc column"},
    {"a unix - - n - 1? smtpd\n", 0, 1, 0, "bad maxproc column \"1?\""},
    /* Ports and hosts. */
    {"0 inet n - n - - smtpd\n", 0, 1, 0, "line 2: port 0 out of range 1-65535"},
    {"65536 inet n - n - - smtpd\n", 0, 1, 0, "port 65536 out of range"},
    {"127.0.0.1:999999999999 inet n - n - - smtpd\n", 0, 1, 0, "out of range"},
    {"nosuchport-xyz inet n - n - - smtpd\n", 0, 1, 0, "unknown port name \"nosuchport-xyz\""},
    {"127.0.0.1: inet n - n - - smtpd\n", 0, 1, 0, "missing port"},
    {"[::1] inet n - n - - smtpd\n", 0, 1, 0, "expected \"[host]:port\""},
    {"[::1:25 inet n - n - - smtpd\n", 0, 1, 0, "missing ']'"},
    {"[]:25 inet n - n - - smtpd\n", 0, 1, 0, "empty host"},
    {"bad!host:25 inet n - n - - smtpd\n", 0, 1, 0, "bad host \"bad!host\""},
    {"127.0.0.1:sm$tp inet n - n - - smtpd\n", 0, 1, 0, "bad port \"sm$tp\""},
    /* Local service names. */
    {"private/a unix - - n - - smtpd\n", 0, 1, 0, "must not hold '/'"},
    {".. unix - - n - - smtpd\n", 0, 1, 0, "bad service name \"..\""},
    {"{} unix - - n - - smtpd\n", 0, 1, 0, "empty service name"},
    {"a:b fifo - - n - - smtpd\n", 0, 1, 0, "bad service name \"a:b\""},
    /* Duplicates. */
    {"a unix - - n - - x\na unix - - n - - y\n", 0, 1, 1,
     "bad.cf, line 3: duplicate service a/unix: first defined at line 2"},
    {"first unix - - n - - x\n", 0, 1, 0, "duplicate service first/unix: first defined at line 1"},
    {"smtp inet n - n - - x\n25 inet n - n - - y\n", 0, 1, 1,
     "line 3: duplicate service 25/inet: first defined as smtp/inet at line 2"},
    {"[::1]:smtp inet n - n - - x\n::1:25 inet n - n - - y\n", 0, 1, 1,
     "duplicate service ::1:25/inet: first defined as [::1]:smtp/inet at line 2"},
    /* Command. */
    {"a unix - - n - - /usr/lib/postfix/smtpd\n", 0, 1, 0,
     "bad command \"/usr/lib/postfix/smtpd\""},
    {"a unix - - n - - ..\n", 0, 1, 0, "bad command \"..\""},
    {"a unix - - n - - {} x\n", 0, 1, 0, "empty command"},
    {"a unix - - n - - { sm tpd }\n", 0, 1, 0, "bad command \"sm tpd\""},
    /* Braces. */
    {"a unix - - n - - smtpd { x\n", 0, 1, 0, "line 2: bad { } grouping: missing '}'"},
    {"a unix - - n - - smtpd x }\n", 0, 1, 0, "bad { } grouping: unexpected '}'"},
    {"a unix - - n - - smtpd {x}y\n", 0, 1, 0, "bad { } grouping: text after '}'"},
    {"a unix - - n - - smtpd -o{x=y}z\n", 0, 1, 0, "bad { } grouping in \"-o{x=y}z\""},
    /* Overrides. */
    {"a unix - - n - - smtpd -o\n", 0, 1, 0, "line 2: -o without name=value"},
    {"a unix - - n - - smtpd -o x\n", 0, 1, 0, "-o \"x\": expected name=value"},
    {"a unix - - n - - smtpd -o =x\n", 0, 1, 0, "missing parameter name"},
    {"a unix - - n - - smtpd -o a-b=c\n", 0, 1, 0, "bad parameter name \"a-b\""},
    {"a unix - - n - - smtpd -o { a b = c }\n", 0, 1, 0, "bad parameter name \"a b\""},
    {"a unix - - n - - smtpd -o {}\n", 0, 1, 0, "expected name=value"},
    {"a unix - - n - - smtpd --o x=y\n", 0, 1, 0, "bad option \"--o\""},
    {"a unix - - n - - smtpd -v -x+ y\n", 0, 1, 0, "bad option \"-x+\""},
    /* NUL and control characters, wherever they are. */
    {"a unix - - n - - sm\0tpd\n", 24, 1, 0, "line 2: NUL byte"},
    {"a unix - - n - - smtpd\n  -o a=\001\n", 0, 1, 0, "line 3: control character 0x01"},
    {"# comment \033[31m\n", 0, 1, 0, "line 2: control character 0x1b"},
    {"a unix - - n - - sm\rtpd\n", 0, 1, 0, "control character 0x0d"},
    {"a unix - - n - - x\x7f\n", 0, 1, 0, "control character 0x7f"},
    {"a unix - - n - - x\fy\n", 0, 1, 0, "control character 0x0c"},
    /* A bad continuation line drops its entry, and only its entry. */
    {"a unix - - n - - smtpd\n  -o\n  -v\n", 0, 1, 0, "line 2: -o \"-v\": expected name=value"},
};

static void
test_bad_cases(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *test = &bad_cases[i];
		size_t length = test->length ? test->length : strlen(test->text);
		struct dstring text;
		struct master_cf table;
		int problems;

		dstring_init(&text, DSTRING_NO_LIMIT);
		dstring_append_str(&text, "first unix - - n - - smtpd\n");
		dstring_append(&text, test->text, length);
		dstring_append_str(&text, "last unix - - n - - smtpd\n");
		master_cf_init(&table);
		clear_log();
		problems =
		    master_cf_parse(dstring_str(&text), dstring_length(&text), "bad.cf", &table);
		if (problems != test->problems || table.count != test->entries + 2)
			fprintf(stderr, "bad case %zu: \"%s\"\n", i, test->text);
		CHECK_INT_EQ(problems, test->problems);
		CHECK_INT_EQ(table.count, test->entries + 2);
		CHECK(master_cf_find(&table, "first", MASTER_CF_UNIX) != NULL);
		CHECK(master_cf_find(&table, "last", MASTER_CF_UNIX) != NULL);
		CHECK(log_holds(test->message));
		master_cf_fini(&table);
		dstring_fini(&text);
	}
}

static void
test_continuation_without_entry(void)
{
	static const char text[] = "# header\n  -o a=b\n  -v\nok unix - - n - - x\n";
	struct master_cf table;

	master_cf_init(&table);
	clear_log();
	CHECK_INT_EQ(master_cf_parse(text, strlen(text), "lead.cf", &table), 1);
	CHECK_INT_EQ(table.count, 1);
	CHECK(log_holds("lead.cf, line 2: line starts with white space but continues no entry"));
	master_cf_fini(&table);
}

static void
test_long_lines(void)
{
	struct dstring text;
	struct master_cf table;

	/* One physical line just within the limit, then one just past it. */
	dstring_init(&text, DSTRING_NO_LIMIT);
	dstring_append_str(&text, "a unix - - n - - x ");
	while (dstring_length(&text) < MASTER_CF_LINE_MAX)
		dstring_append_char(&text, 'y');
	dstring_truncate(&text, MASTER_CF_LINE_MAX);
	dstring_append_str(&text, "\nb unix - - n - - x ");
	while (dstring_length(&text) < 2 * MASTER_CF_LINE_MAX + 100)
		dstring_append_char(&text, 'y');
	dstring_append_str(&text, "\nc unix - - n - - x\n");
	master_cf_init(&table);
	clear_log();
	CHECK_INT_EQ(master_cf_parse(dstring_str(&text), dstring_length(&text), "long.cf", &table),
	             1);
	CHECK_INT_EQ(table.count, 2);
	CHECK(master_cf_find(&table, "a", MASTER_CF_UNIX) != NULL);
	CHECK(master_cf_find(&table, "c", MASTER_CF_UNIX) != NULL);
	CHECK(log_holds("long.cf, line 2: entry longer than 262144 bytes"));
	master_cf_fini(&table);

	/* Many continuation lines add up past the limit: reported once. */
	dstring_reset(&text);
	dstring_append_str(&text, "a unix - - n - - x\n");
	for (int i = 0; i < 30000; i++)
		dstring_append_str(&text, "  argument\n");
	dstring_append_str(&text, "c unix - - n - - x\n");
	master_cf_init(&table);
	clear_log();
	CHECK_INT_EQ(master_cf_parse(dstring_str(&text), dstring_length(&text), "long.cf", &table),
	             1);
	CHECK_INT_EQ(table.count, 1);
	CHECK(log_holds("long.cf, line 1: entry longer than"));
	master_cf_fini(&table);
	dstring_fini(&text);
}

static void
test_entry_limit(void)
{
	struct dstring text;
	struct master_cf table;

	dstring_init(&text, DSTRING_NO_LIMIT);
	for (int i = 0; i < MASTER_CF_ENTRY_MAX + 5; i++)
		dstring_append_printf(&text, "s%d unix - - n - - x\n", i);
	master_cf_init(&table);
	clear_log();
	CHECK_INT_EQ(master_cf_parse(dstring_str(&text), dstring_length(&text), "many.cf", &table),
	             1);
	CHECK_INT_EQ(table.count, MASTER_CF_ENTRY_MAX);
	CHECK(log_holds("many.cf, line 10001: more than 10000 entries"));
	CHECK(master_cf_find(&table, "s9999", MASTER_CF_UNIX) != NULL);
	CHECK(master_cf_find(&table, "s0", MASTER_CF_UNIX) != NULL);
	CHECK(master_cf_find(&table, "s10000", MASTER_CF_UNIX) == NULL);
	master_cf_fini(&table);
	dstring_fini(&text);
}

static void
test_read(void)
{
	char path[] = "/tmp/test_master_cf_read.XXXXXX";
	static const char text[] = "smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n";
	struct master_cf table;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_INT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	master_cf_init(&table);
	CHECK_INT_EQ(master_cf_read(path, &table), 0);
	CHECK_INT_EQ(table.count, 2);
	CHECK(table.count == 2 && strcmp(table.entries[1].origin_path, path) == 0);
	CHECK(table.count == 2 && table.entries[1].origin_line == 2);
	/* Reading the same file again into the same table: all duplicates. */
	clear_log();
	CHECK_INT_EQ(master_cf_read(path, &table), 2);
	CHECK(log_holds(", line 2: duplicate service pickup/unix: first defined at line 2"));
	master_cf_fini(&table);
	unlink(path);

	clear_log();
	CHECK_INT_EQ(master_cf_read("/nonexistent/master.cf", &table), 1);
	CHECK(log_holds("open /nonexistent/master.cf: No such file or directory"));
	CHECK_INT_EQ(table.count, 0);
	clear_log();
	CHECK_INT_EQ(master_cf_read("/tmp", &table), 1);
	CHECK(log_holds("read /tmp: Is a directory"));
	master_cf_fini(&table);
}

struct inet_case {
	const char *service;
	int status;
	const char *host;
	unsigned port;
};

static const struct inet_case inet_cases[] = {
    {"25", 0, "", 25},
    {"smtp", 0, "", 25},
    {"submission", 0, "", 587},
    {"submissions", 0, "", 465},
    {"smtps", 0, "", 465},
    {"127.0.0.1:2525", 0, "127.0.0.1", 2525},
    {"localhost:smtp", 0, "localhost", 25},
    {"[::1]:587", 0, "::1", 587},
    {"[2001:db8::1]:submission", 0, "2001:db8::1", 587},
    {"::1:smtp", 0, "::1", 25},
    {":10025", 0, "", 10025},
    {"65535", 0, "", 65535},
    {"000025", 0, "", 25},
    {"", -1, NULL, 0},
    {"0", -1, NULL, 0},
    {"65536", -1, NULL, 0},
    {"host:", -1, NULL, 0},
    {"[::1]", -1, NULL, 0},
    {"[::1]x:25", -1, NULL, 0},
    {"[]:25", -1, NULL, 0},
    {"[::1:25", -1, NULL, 0},
    {"a b:25", -1, NULL, 0},
    {"[a]b]:25", -1, NULL, 0},
    {"no-such-port-name", -1, NULL, 0},
};

static void
test_inet_split(void)
{
	struct dstring error;

	dstring_init(&error, 1000);
	for (size_t i = 0; i < sizeof(inet_cases) / sizeof(inet_cases[0]); i++) {
		const struct inet_case *test = &inet_cases[i];
		char *host = (char *)"unset";
		unsigned port = 0;
		int status = master_cf_inet_split(test->service, &host, &port, &error);

		if (status != test->status)
			fprintf(stderr, "inet case \"%s\": %s\n", test->service,
			        dstring_str(&error));
		CHECK_INT_EQ(status, test->status);
		CHECK_STR_EQ(host, test->host);
		if (status == 0)
			CHECK_INT_EQ(port, test->port);
		else
			CHECK(dstring_length(&error) > 0);
		free(host);
	}
	dstring_fini(&error);
	/* error may be NULL. */
	{
		char *host;
		unsigned port;

		CHECK_INT_EQ(master_cf_inet_split("0", &host, &port, NULL), -1);
	}
}

static void
test_types(void)
{
	enum master_cf_type type;

	static const char *const names[] = {"inet", "unix", "unix-dgram", "fifo", "pass"};
	for (size_t i = 0; i < 5; i++) {
		CHECK_INT_EQ(master_cf_type_parse(names[i], &type), 0);
		CHECK_STR_EQ(master_cf_type_name(type), names[i]);
	}
	CHECK_INT_EQ(master_cf_type_parse("tcp", &type), -1);
	CHECK_INT_EQ(master_cf_type_parse("", &type), -1);
}

int
main(void)
{
	int fd = mkstemp(log_path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	log_open("test_master_cf", 0);
	if (log_set_file(log_path) < 0) {
		perror(log_path);
		return 1;
	}
	test_postfix_master_cf();
	test_odd_entries();
	test_good_cases();
	test_bad_cases();
	test_continuation_without_entry();
	test_long_lines();
	test_entry_limit();
	test_read();
	test_inet_split();
	test_types();
	log_set_file(NULL);
	unlink(log_path);
	return check_finish();
}
