#!/bin/sh
# delay_warning_time end to end: mail to a destination that stays down
# (testagent defers it) gets the sender one delay notice once it has been
# queued delay_warning_time (2 s here), delivered by local to the sender's
# Maildir and read back with Python's email module (multipart/report,
# Action: delayed, Status 4.2.0); later retries and a restart of the whole
# system send no second one (the notice is recorded in the queue file's
# mode). No notice for NOTIFY=FAILURE, nor for the null sender. When the
# destination comes back, the mail is delivered and nothing more is sent.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"
: "${LOCAL:?LOCAL must name the local binary}"
PYTHON=/usr/bin/python3

box=$work/box
mkdir -p "$box"
# As root the alias (an inline table, owned by nobody's file) runs as
# default_privs: let it make the Maildir.
chmod 1777 "$box"
make_qmgr_instance "minimal_backoff_time = 1s" "maximal_backoff_time = 2s" \
	"queue_run_delay = 1s" "delay_warning_time = 2s" \
	"mydestination = host.example" "local_transport = local" \
	"alias_maps = inline:{ {sender = $box/Maildir/} }"
ln -s "$LOCAL" "$work/daemon/local"
echo "local     unix  -       n       n       -       -       local" >> "$etc/master.cf"
hk set-permissions > /dev/null 2>&1
start_system

send() { # send SENDER RECIPIENT [sendmail options]
	from=$1 to=$2
	shift 2
	printf 'Subject: delayed\n\nbody\n' |
		MAIL_CONFIG=$etc "$work/bin/sendmail" -f "$from" "$@" "$to"
}
notices() { find "$box/Maildir/new" -type f 2> /dev/null | wc -l | tr -d ' '; }
warnings() { grep -c "sender delay notification" "$log" | tr -d ' '; }
has_notices() { [ "$(notices)" -ge "$1" ]; }

control "down defer"
send sender@host.example rcpt@down.example
expect_status "sendmail" 0 $?
if wait_for 10 logged "to=<rcpt@down.example>.*status=deferred"; then pass; else fail "not deferred"; fi
id=$(sed -n 's/.*: \([0-9A-Za-z]*\): to=<rcpt@down.example>.*status=deferred.*/\1/p' "$log" | head -1)
if wait_for 15 has_notices 1; then pass; else fail "no delay notice in the sender's Maildir"; fi
expect_contains "log line" "$id: sender delay notification:" "$(cat "$log")"

file=$(find "$box/Maildir/new" -type f | head -1)
check=$("$PYTHON" - "$file" "$id" <<'PY'
import email, email.policy, sys
path, queue_id = sys.argv[1:3]
msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.compat32)
def want(what, actual, wanted):
    if actual != wanted:
        raise SystemExit("%s: %r, expected %r" % (what, actual, wanted))
want("content type", msg.get_content_type(), "multipart/report")
want("report-type", msg.get_param("report-type"), "delivery-status")
want("Subject", msg["Subject"], "Delayed Mail (still being retried)")
want("Return-Path", msg["Return-Path"], "<>")
parts = msg.get_payload()
want("parts", [p.get_content_type() for p in parts],
     ["text/plain", "message/delivery-status", "text/rfc822-headers"])
assert "THIS IS A WARNING ONLY" in parts[0].get_payload(), "warning text"
blocks = parts[1].get_payload()
want("X-Postfix-Queue-ID", blocks[0]["X-Postfix-Queue-ID"], queue_id)
want("recipient blocks", len(blocks), 2)
rcpt = blocks[1]
want("Final-Recipient", rcpt["Final-Recipient"], "rfc822; rcpt@down.example")
want("Action", rcpt["Action"], "delayed")
want("Status", rcpt["Status"], "4.2.0")
assert rcpt["Will-Retry-Until"], "Will-Retry-Until"
assert "Subject: delayed" in parts[2].get_payload(), "original headers"
print("ok")
PY
)
expect_output "delay notice parsed with Python's email" ok "$check"

# The queue file records it (group execute bit).
qfile=$(find "$queue/deferred" "$queue/active" -name "$id" -type f 2> /dev/null | head -1)
if [ -n "$qfile" ] && [ -n "$(find "$qfile" -perm -g+x)" ]; then pass; else fail "not recorded in the queue file ($qfile)"; fi

# More retries (1-2 s apart) and a restart of everything: still one.
retries_after=$(grep -c "to=<rcpt@down.example>.*status=deferred" "$log")
retried() { [ "$(grep -c "to=<rcpt@down.example>.*status=deferred" "$log")" -ge $((retries_after + 2)) ]; }
if wait_for 15 retried; then pass; else fail "not retried"; fi
stop_system
start_system
retries_after=$(grep -c "to=<rcpt@down.example>.*status=deferred" "$log")
if wait_for 15 retried; then pass; else fail "not retried after the restart"; fi
expect_output "one notice in the Maildir" 1 "$(notices)"
expect_output "one delay notification logged" 1 "$(warnings)"

# NOTIFY=FAILURE and the null sender: deferred past the time, no notice.
send sender@host.example never@down.example -N failure
send "" null@down.example
twice() {
	[ "$(grep -c "to=<never@down.example>.*status=deferred" "$log")" -ge 3 ] &&
		[ "$(grep -c "to=<null@down.example>.*status=deferred" "$log")" -ge 3 ]
}
if wait_for 20 twice; then pass; else fail "NOTIFY=FAILURE / null sender mail not retried"; fi
expect_output "still one notice" 1 "$(notices)"
expect_output "still one delay notification" 1 "$(warnings)"

# The destination is back: everything is delivered, no more notices.
control
hk flush > /dev/null 2>&1
if wait_for 10 queue_empty; then pass; else fail "queue not empty after the destination came back"; fi
expect_output "delivered" 3 "$(grep -c "down.example" "$record")"
expect_output "no second notice" 1 "$(notices)"

stop_system
check_sanitizer
finish
