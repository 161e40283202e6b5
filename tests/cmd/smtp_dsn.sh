#!/bin/sh
# DSN NOTIFY=SUCCESS through the smtp delivery agent, as Postfix does it:
#   - to a server that does not announce DSN (aiosmtpd): the sender gets
#     a "relayed" notice (Action: relayed, Status: 2.0.0, the server's
#     reply in Diagnostic-Code), here in the sender's Maildir, kept by
#     aiosmtpd's own Mailbox handler for the sender's domain;
#   - to a server that announces DSN: NOTIFY=SUCCESS is passed on in RCPT
#     TO and we send no notice (the server's job now);
#   - NOTIFY without SUCCESS, or no NOTIFY: no notice.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtp_lib.sh"

start_peer sink nodsn
nodsn=$peer_dir
nodsn_port=$peer_port
start_peer record dsn
dsn=$peer_dir
dsn_port=$peer_port
start_peer maildir sender
maildir=$peer_dir/Maildir
sender_port=$peer_port
make_smtp_instance \
	"transport_maps = inline:{ {nodsn.test = smtp:[127.0.0.1]:$nodsn_port}, {dsn.test = smtp:[127.0.0.1]:$dsn_port}, {sender.test = smtp:[127.0.0.1]:$sender_port} }"
start_system

send() { # send NOTIFY RECIPIENT (NOTIFY "-": no -N)
	if [ "$1" = - ]; then
		printf 'Subject: dsn %s\nMessage-ID: <%s@sender.test>\n\nbody\n' "$2" "$2" |
			MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@sender.test "$2"
	else
		printf 'Subject: dsn %s\nMessage-ID: <%s@sender.test>\n\nbody\n' "$2" "$2" |
			MAIL_CONFIG=$etc "$work/bin/sendmail" -i -N "$1" -V "envid-$1" -f sender@sender.test "$2"
	fi
}
in_maildir() { find "$maildir/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
maildir_has() { [ "$(in_maildir)" -ge "$1" ]; }

# 1. NOTIFY=SUCCESS to a server without DSN: a "relayed" notice.
send success relayed@nodsn.test
expect_status "sendmail -N success" 0 $?
if wait_for 20 logged "to=<relayed@nodsn.test>, relay=127.0.0.1\[127.0.0.1\]:$nodsn_port, .*dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as SINK1)"; then pass; else fail "relayed@nodsn.test not sent"; fi
if wait_for 20 maildir_has 1; then pass; else fail "no notice in the sender's Maildir"; fi
expect_contains "notice logged" "sender delivery status notification:" "$(cat "$log")"
expect_contains "no NOTIFY to a server without DSN" "RCPT TO:<relayed@nodsn.test> " "$(cat "$nodsn"/1.env 2>/dev/null)"
expect_output "nothing passed on" 0 "$(grep -c 'NOTIFY' "$nodsn"/1.env 2>/dev/null)"
result=$("$PYTHON" - "$maildir" <<'PY'
import mailbox, sys
box = mailbox.Maildir(sys.argv[1], create=False)
messages = [box[key] for key in box.keys()]
assert len(messages) == 1, "%d messages" % len(messages)
notice = messages[0]
def want(what, actual, expected):
    if actual != expected:
        raise SystemExit("%s: %r, expected %r" % (what, actual, expected))
want("envelope sender", notice["X-MailFrom"], "<>")
want("envelope recipient", notice["X-RcptTo"], "sender@sender.test")
want("subject", notice["Subject"], "Successful Mail Delivery Report")
want("type", notice.get_content_type(), "multipart/report")
want("report-type", notice.get_param("report-type"), "delivery-status")
parts = notice.get_payload()
human = " ".join(parts[0].get_payload(decode=True).decode().split())
assert "<relayed@nodsn.test>: delivery via 127.0.0.1[127.0.0.1]:" in human, human
assert "250 2.0.0 Ok: queued as SINK1" in human, human
want("status part", parts[1].get_content_type(), "message/delivery-status")
fields = {}
for block in parts[1].get_payload():
    for name, value in block.items():
        fields[name] = " ".join(value.split())
want("Original-Envelope-Id", fields.get("Original-Envelope-Id"), "envid-success")
want("Final-Recipient", fields.get("Final-Recipient"), "rfc822; relayed@nodsn.test")
want("Action", fields.get("Action"), "relayed")
want("Status", fields.get("Status"), "2.0.0")
want("Diagnostic-Code", fields.get("Diagnostic-Code"), "smtp; 250 2.0.0 Ok: queued as SINK1")
want("original part", parts[2].get_content_type(), "text/rfc822-headers")
assert "Message-ID: <relayed@nodsn.test@sender.test>" in parts[2].get_payload() \
    or "<relayed@nodsn.test@sender.test>" in str(parts[2]), str(parts[2])
print("ok")
PY
)
expect_output "relayed notice" ok "$result"

# 2. NOTIFY=SUCCESS to a server with DSN: passed on, no notice from us.
send success,delay passon@dsn.test
if wait_for 20 logged "to=<passon@dsn.test>, .*status=sent (250 2.0.0 Ok: queued as RAW)"; then pass; else fail "passon@dsn.test not sent"; fi
expect_contains "NOTIFY passed on" "RCPT TO:<passon@dsn.test> NOTIFY=SUCCESS,DELAY" "$(cat "$dsn/log" 2>/dev/null)"

# 3. NOTIFY without SUCCESS, and no NOTIFY, to the server without DSN.
send failure,delay failureonly@nodsn.test
send - plain@nodsn.test
for who in failureonly plain; do
	if wait_for 20 logged "to=<$who@nodsn.test>, .*status=sent"; then pass; else fail "$who@nodsn.test not sent"; fi
done

# The notice is queued before the sent line is logged: after these, no
# second notice may be on its way. Wait for the queue to drain.
if wait_for 20 queue_empty; then pass; else fail "queue not empty"; fi
expect_output "one notice logged" 1 "$(grep -c 'sender delivery status notification:' "$log")"
sleep 0.5
expect_output "one message in the sender's Maildir" 1 "$(in_maildir)"
check_sanitizer
finish
