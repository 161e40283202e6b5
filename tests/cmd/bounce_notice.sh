#!/bin/sh
# Delivery status notifications as their recipients see them: the notice
# lib/bounce queues through the real cleanup is read back from its queue
# file and parsed with Python's email module, field by field (RFC 3464):
# a non-delivery notice with ORCPT and an SMTP diagnostic, NOTIFY=NEVER
# (none), a delay warning, NOTIFY=SUCCESS, the double bounce to the
# postmaster, and a failed double bounce (dropped, never bounced again).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/admin_lib.sh"
check="$SOURCE_DIR/tests/cmd/support/dsn_check.py"
start_cleanup

# send KIND QUEUE_FILE OUTCOME...: prints the notice's queue ID or NONE.
send() {
	out=$("$tool" -c "$etc" send "$@")
	case "$out" in
	"OK "*) set -- $out; echo "$2" ;;
	NONE) echo NONE ;;
	*) echo "notice_tool: $out" >&2; echo FAIL ;;
	esac
}
# dsn NAME NOTICE_ID KIND EXPECT_JSON: dump the notice and check it.
dsn() {
	printf '%s\n' "$4" > "$work/expect.json"
	"$submit" -d "$(path_of incoming "$2")" > "$work/notice"
	out=$("$PYTHON" "$check" "$work/notice" "$3" "$work/expect.json" 2>&1)
	expect_output "$1" "ok" "$out"
}

# A non-delivery notice: two recipients, ORCPT, an SMTP reply and a local error.
id=$(printf 'From: alice@example.org\nSubject: the original\nMessage-ID: <orig@example.org>\n\nsecret body\n' |
	queue_message -f alice@example.org -o 'rfc822;Bob@Example.COM' -r bob@example.com -r carol@example.com)
file=$(path_of incoming "$id")
notice=$(send "$file" failed \
	"0:5.1.1:mx.example.com[192.0.2.1]:host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)" \
	"1:5.2.2:local:mailbox full")
[ "$notice" != FAIL ] && [ "$notice" != NONE ] && pass || fail "failure notice not queued"
dsn "non-delivery notice" "$notice" failed "$(cat <<J
{"envelope_sender": "", "to": "alice@example.org",
 "subject": "Undelivered Mail Returned to Sender",
 "original_type": "text/rfc822-headers", "original_id": "$id",
 "original_sender": "alice@example.org",
 "human": ["could not be delivered to one or more recipients",
           "<bob@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1",
           "<carol@example.com>: mailbox full"],
 "recipients": [
  {"Final-Recipient": "rfc822; bob@example.com", "Original-Recipient": "rfc822;Bob@Example.COM",
   "Action": "failed", "Status": "5.1.1", "Remote-MTA": "dns; mx.example.com",
   "Diagnostic-Code": "smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"},
  {"Final-Recipient": "rfc822; carol@example.com", "Action": "failed", "Status": "5.2.2",
   "Remote-MTA": null, "Diagnostic-Code": "X-Postfix; mailbox full"}],
 "original_has": ["Subject: the original", "Message-ID: <orig@example.org>"],
 "original_lacks": ["secret body"]}
J
)"
expect_contains "logged" "$id: sender non-delivery notification: $notice" "$(cat "$work/maillog")"

# A delay warning for the same message.
notice=$(send "$file" delayed "0:4.4.1:mx.example.com[192.0.2.1]:connect to mx.example.com[192.0.2.1]:25: Connection refused")
dsn "delay notice" "$notice" delayed "$(cat <<J
{"envelope_sender": "", "to": "alice@example.org",
 "subject": "Delayed Mail (still being retried)",
 "original_type": "text/rfc822-headers", "original_id": "$id",
 "original_sender": "alice@example.org",
 "human": ["THIS IS A WARNING ONLY", "<bob@example.com>: connect to mx.example.com[192.0.2.1]:25: Connection refused"],
 "recipients": [
  {"Final-Recipient": "rfc822; bob@example.com", "Action": "delayed", "Status": "4.4.1",
   "Diagnostic-Code": "X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection refused"}],
 "original_has": ["Subject: the original"]}
J
)"
expect_contains "delay logged" "$id: sender delay notification: $notice" "$(cat "$work/maillog")"

# Without NOTIFY=SUCCESS, no delivery notice; with it, one.
expect_output "no success notice by default" NONE "$(send "$file" success "0:2.0.0:local:delivered to mailbox")"
id2=$(printf 'Subject: tell me\n\nx\n' | queue_message -f alice@example.org -n 1 -r dan@example.com)
notice=$(send "$(path_of incoming "$id2")" success "0:2.0.0:mx.example.com[192.0.2.1]:host mx.example.com[192.0.2.1] said: 250 2.0.0 Ok: queued as 4ABC (in reply to end of DATA command)")
dsn "success notice" "$notice" success "$(cat <<J
{"envelope_sender": "", "to": "alice@example.org",
 "subject": "Successful Mail Delivery Report",
 "original_type": "text/rfc822-headers", "original_id": "$id2",
 "original_sender": "alice@example.org",
 "human": ["successfully delivered"],
 "recipients": [
  {"Final-Recipient": "rfc822; dan@example.com", "Action": "delivered", "Status": "2.0.0",
   "Remote-MTA": "dns; mx.example.com", "Diagnostic-Code": "smtp; 250 2.0.0 Ok: queued as 4ABC"}],
 "original_has": ["Subject: tell me"]}
J
)"

# NOTIFY=NEVER: nothing at all.
id3=$(printf 'Subject: never\n\nx\n' | queue_message -f alice@example.org -n 8 -r ed@example.com)
expect_output "NOTIFY=NEVER" NONE "$(send "$(path_of incoming "$id3")" failed "0:5.1.1:local:unknown user")"
id4=$(printf 'Subject: delay only\n\nx\n' | queue_message -f alice@example.org -n 4 -r ed@example.com)
expect_output "NOTIFY=DELAY: no failure notice" NONE "$(send "$(path_of incoming "$id4")" failed "0:5.1.1:local:unknown user")"

# A notice that fails: a double bounce to the postmaster, from double-bounce.
id5=$(printf 'From: MAILER-DAEMON@host.example\nSubject: Undelivered Mail Returned to Sender\n\nx\n' |
	queue_message -f '' -r gone@example.com)
notice=$(send "$(path_of incoming "$id5")" expired "0:4.4.1:none:connect to example.com[192.0.2.9]:25: Connection timed out")
dsn "double bounce" "$notice" failed "$(cat <<J
{"envelope_sender": "double-bounce@host.example", "to": "postmaster@host.example",
 "subject": "Undelivered Mail Returned to Sender",
 "original_type": "text/rfc822-headers", "original_id": "$id5",
 "original_sender": "",
 "human": ["could not be delivered", "delivery was given up"],
 "recipients": [
  {"Final-Recipient": "rfc822; gone@example.com", "Action": "failed", "Status": "4.4.1"}],
 "original_has": ["Subject: Undelivered Mail Returned to Sender"]}
J
)"
expect_contains "double bounce logged" "$id5: postmaster non-delivery notification: $notice" "$(cat "$work/maillog")"
# ... and when that fails too, it is dropped, never bounced again.
expect_output "failed double bounce dropped" NONE "$(send "$(path_of incoming "$notice")" failed "0:5.1.1:local:unknown user")"
expect_contains "drop logged" "$notice: undeliverable postmaster notification discarded" "$(cat "$work/maillog")"
# No delay or success notices for the null sender.
expect_output "no delay notice for <>" NONE "$(send "$(path_of incoming "$id5")" delayed "0:4.4.1:none:x")"

# cleanup down: the notice is a temporary failure, reported, nothing queued.
kill "$cleanup_pid"; wait "$cleanup_pid" 2>/dev/null; cleanup_pid=""
rm -f "$queue/public/cleanup"
out=$("$tool" -c "$etc" send "$file" failed "0:5.1.1:local:x")
expect_status "cleanup down: failure" 1 $?
expect_contains "cleanup down: reason" "FAIL" "$out"
finish
