#!/bin/sh
# local: delivery to an mbox in mail_spool_directory and to a Maildir, the
# exact bytes that arrive, the results and log lines the queue manager
# sees, the recipient marked done in the queue file (and never delivered
# twice), an unknown user's bounce, and deferral (never a bounce) when a
# mailbox cannot be written. Read back with Python's mailbox module.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/local_lib.sh"

start_daemons
message() {
	printf 'Subject: %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-Id: <%s@example.org>\n' "$1" "$1"
	printf 'From: sender@example.org\nTo: %s@host.example\n\nFrom the start\n>From quoted already\nFrom\nlast line\n' "$user"
}

# --- mbox in the spool ---
id=$(message one | submit_message sender@example.org "$user@host.example")
[ -n "$id" ] && pass || fail "message not queued"
out=$(deliver "$id")
expect_status "deliver_request" 0 $?
expect_output "mbox result" "0 delivered 2.0.0 delivered to mailbox" "$out"
expect_output "recipient marked done" "D" "$(recipient_states "$id")"
mbox=$work/spool/$user
expect_contains "From line" "From sender@example.org " "$(head -1 "$mbox")"
expected=$(cat <<EOF
Return-Path: <sender@example.org>
X-Original-To: $user@host.example
Delivered-To: $user@host.example
Subject: one
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-Id: <one@example.org>
From: sender@example.org
To: $user@host.example

>From the start
>From quoted already
From
last line
EOF
)
expect_output "mbox bytes" "$expected" "$(tail -n +2 "$mbox")"
# The file ends with the message's newline and one empty line.
expect_output "mbox ends with a blank line" "0a0a" "$(tail -c 2 "$mbox" | od -An -tx1 | tr -d ' \n')"
expect_output "mbox owner and mode" "$user 600" "$(stat -c '%U %a' "$mbox")"
expect_contains "log line" "$id: to=<$user@host.example>, relay=local, delay=" "$(cat "$work/maillog")"
expect_contains "log status" "dsn=2.0.0, status=sent (delivered to mailbox)" "$(cat "$work/maillog")"

# Asked again for a recipient already done: reported, not delivered twice.
out=$(deliver "$id" -r 0)
expect_output "done recipient not redelivered" "0 delivered 2.0.0 already delivered" "$out"

id=$(message two | submit_message "" "$user@host.example")
out=$(deliver "$id")
expect_output "second mbox result" "0 delivered 2.0.0 delivered to mailbox" "$out"
out=$("$PYTHON" - "$mbox" <<'PY'
import mailbox, sys
box = mailbox.mbox(sys.argv[1])
for m in box:
    print(m["Subject"], m.get_from().split()[0], m["Delivered-To"], repr(m.get_payload()))
PY
)
expect_output "python mailbox.mbox" "one sender@example.org $user@host.example '>From the start\\n>From quoted already\\nFrom\\nlast line\\n'
two MAILER-DAEMON $user@host.example '>From the start\\n>From quoted already\\nFrom\\nlast line\\n'" "$out"

# --- unknown user: a bounce result, nothing written ---
id=$(message three | submit_message sender@example.org nosuchuser@host.example "$user@host.example")
out=$(deliver "$id")
expect_output "unknown user" "0 bounced 5.1.1 unknown user: \"nosuchuser\"
1 delivered 2.0.0 delivered to mailbox" "$out"
expect_output "only the delivered recipient is marked" "-D" "$(recipient_states "$id")"
expect_contains "bounce log line" "to=<nosuchuser@host.example>, relay=local, delay=" "$(cat "$work/maillog")"
expect_contains "bounce log status" "dsn=5.1.1, status=bounced (unknown user: \"nosuchuser\")" "$(cat "$work/maillog")"

# --- a mailbox that cannot be written: deferred, and the file unchanged ---
size=$(stat -c %s "$mbox")
printf 'mailbox_size_limit = %s\n' "$((size + 10))" >> "$etc/main.cf"
restart_local
id=$(message four | submit_message sender@example.org "$user@host.example")
out=$(deliver "$id")
expect_contains "full mailbox deferred" "0 deferred 4.2.2 cannot update mailbox $mbox: mailbox is full" "$out"
expect_output "not marked" "-" "$(recipient_states "$id")"
expect_output "mailbox unchanged" "$size" "$(stat -c %s "$mbox")"
sed -i '/^mailbox_size_limit/d' "$etc/main.cf"
restart_local
mv "$mbox" "$mbox.real"
ln -s "$mbox.real" "$mbox"
out=$(deliver "$id")
expect_output "symbolic link deferred" "0 deferred 4.2.0 cannot open mailbox $mbox: is a symbolic link" "$out"
rm "$mbox"
mv "$mbox.real" "$mbox"
out=$(deliver "$id")
expect_output "delivered after the fix" "0 delivered 2.0.0 delivered to mailbox" "$out"
if [ "$is_root" -eq 1 ]; then
	# Someone else's file where the mailbox should be.
	chown root "$mbox"
	id=$(message five | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_contains "foreign mailbox deferred" "0 deferred 4.2.0 mailbox $mbox is owned by uid 0" "$out"
	chown "$user" "$mbox"
fi

# --- Maildir (needs a home of our own: root only) ---
if [ "$is_root" -eq 1 ]; then
	printf 'home_mailbox = Maildir/\n' >> "$etc/main.cf"
	restart_local
	id=$(message six | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_output "maildir result" "0 delivered 2.0.0 delivered to maildir" "$out"
	expect_output "maildir marked" "D" "$(recipient_states "$id")"
	file=$(find "$home/Maildir/new" -type f)
	expect_output "one file in new/" 1 "$(echo "$file" | grep -c .)"
	expect_output "nothing left in tmp/" "" "$(ls "$home/Maildir/tmp")"
	expected=$(cat <<EOF
Return-Path: <sender@example.org>
X-Original-To: $user@host.example
Delivered-To: $user@host.example
Subject: six
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-Id: <six@example.org>
From: sender@example.org
To: $user@host.example

From the start
>From quoted already
From
last line
EOF
)
	expect_output "maildir bytes" "$expected" "$(cat "$file")"
	expect_output "maildir owner" "$user $user 600" "$(stat -c '%U %G %a' "$file")"
	expect_output "maildir directories owned by the user" "$user 700" \
		"$(stat -c '%U %a' "$home/Maildir/cur")"
	case "$(basename "$file")" in
	[0-9]*.M*P*Q*.host.example) pass ;;
	*) fail "maildir name $(basename "$file")" ;;
	esac
	expect_contains "maildir log" "status=sent (delivered to maildir)" "$(cat "$work/maillog")"
	out=$("$PYTHON" - "$home/Maildir" <<'PY'
import mailbox, sys
box = mailbox.Maildir(sys.argv[1], create=False)
for key, m in box.items():
    print(m["Subject"], m["Return-Path"], m.get_payload().count("From"))
PY
	)
	expect_output "python mailbox.Maildir" "six <sender@example.org> 3" "$out"

	# new/ that the user cannot write: deferred, tmp/ cleaned.
	chown root "$home/Maildir/new"
	chmod 755 "$home/Maildir/new"
	id=$(message seven | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_contains "unwritable maildir deferred" "0 deferred 4.2.0 maildir delivery failed: move maildir file to new/" "$out"
	expect_output "tmp/ cleaned after failure" "" "$(ls "$home/Maildir/tmp")"
	expect_output "unwritable maildir: not marked" "-" "$(recipient_states "$id")"
	chown "$user" "$home/Maildir/new"
	out=$(deliver "$id")
	expect_output "maildir after the fix" "0 delivered 2.0.0 delivered to maildir" "$out"
fi

stop_daemons
finish
