#!/bin/sh
# DSN NOTIFY=SUCCESS for local delivery (RFC 3461): sendmail -N success to
# a local recipient gets the sender one "Successful Mail Delivery Report"
# (multipart/report, Action: delivered, Status: 2.0.0), delivered by local
# to the sender's Maildir and read back with Python's email module. No
# notice without NOTIFY=SUCCESS, and none for the null sender.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"
: "${LOCAL:?LOCAL must name the local binary}"
PYTHON=/usr/bin/python3

box=$work/box
mkdir -p "$box"
chmod 1777 "$box"
make_qmgr_instance "mydestination = host.example" "local_transport = local" \
	"alias_maps = inline:{ {sender = $box/sender/}, {rcpt = $box/rcpt/} }"
ln -s "$LOCAL" "$work/daemon/local"
echo "local     unix  -       n       n       -       -       local" >> "$etc/master.cf"
hk set-permissions > /dev/null 2>&1
start_system

send() { # send SENDER [sendmail options]
	from=$1
	shift
	printf 'Subject: notify test\n\nbody\n' |
		MAIL_CONFIG=$etc "$work/bin/sendmail" -f "$from" "$@" rcpt@host.example
}
count() { find "$box/$1/new" -type f 2> /dev/null | wc -l | tr -d ' '; }
has() { [ "$(count "$1")" -ge "$2" ]; }

send sender@host.example -N success
expect_status "sendmail -N success" 0 $?
if wait_for 15 has rcpt 1; then pass; else fail "not delivered to rcpt"; fi
if wait_for 15 has sender 1; then pass; else fail "no delivery report in the sender's Maildir"; fi
id=$(sed -n 's/.*: \([0-9A-Za-z]*\): to=<rcpt@host.example>.*status=sent.*/\1/p' "$log" | head -1)
expect_contains "log line" "$id: sender delivery status notification:" "$(cat "$log")"

file=$(find "$box/sender/new" -type f | head -1)
check=$("$PYTHON" - "$file" "$id" <<'PY'
import email, email.policy, sys
path, queue_id = sys.argv[1:3]
msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.compat32)
def want(what, actual, wanted):
    if actual != wanted:
        raise SystemExit("%s: %r, expected %r" % (what, actual, wanted))
want("content type", msg.get_content_type(), "multipart/report")
want("report-type", msg.get_param("report-type"), "delivery-status")
want("Subject", msg["Subject"], "Successful Mail Delivery Report")
want("Return-Path", msg["Return-Path"], "<>")
parts = msg.get_payload()
want("first part", parts[0].get_content_type(), "text/plain")
want("second part", parts[1].get_content_type(), "message/delivery-status")
blocks = parts[1].get_payload()
want("X-Postfix-Queue-ID", blocks[0]["X-Postfix-Queue-ID"], queue_id)
want("recipient blocks", len(blocks), 2)
rcpt = blocks[1]
want("Final-Recipient", rcpt["Final-Recipient"], "rfc822; rcpt@host.example")
want("Action", rcpt["Action"], "delivered")
want("Status", rcpt["Status"], "2.0.0")
print("ok")
PY
)
expect_output "delivery report parsed with Python's email" ok "$check"

# Without NOTIFY=SUCCESS, and from the null sender: delivered, no report.
send sender@host.example
send "" -N success
if wait_for 15 has rcpt 3; then pass; else fail "later messages not delivered"; fi
sleep 1
expect_output "one report only" 1 "$(count sender)"
expect_output "one notification logged" 1 "$(grep -c 'sender delivery status notification' "$log")"

finish
