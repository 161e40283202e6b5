#!/bin/sh
# sendmail as cron, scripts and mail programs use it: each option's effect
# is checked in the queue file that cleanup wrote (sender, recipients,
# headers, content), plus the refusals: a message over
# message_size_limit, no recipients, bad options.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/sendmail_lib.sh"

make_instance "message_size_limit = 100000"
start_mail_system

# submit NAME ARGS... < message: run sendmail, wait until the queue grows
# by one, and leave that message's dump in $work/last.
queued_before=0
submit() {
	name=$1; shift
	"$SENDMAIL" -C "$etc" "$@"
	expect_status "$name: exit status" 0 $?
	wait_until 10 has_queued $((queued_before + 1)) || fail "$name: not queued"
	queued_before=$(queued_count)
	dump_queue > "$work/all"
	# The newest file: queue IDs sort by arrival.
	awk -v id="$(find "$queue/incoming" -type f -printf '%f\n' | sort | tail -1)" '
		/^=== / { on = ($2 == id) } on' "$work/all" > "$work/last"
}
last() { cat "$work/last"; }

# -f, -F and a recipient argument; a lone "." ends the input without -i.
printf 'Subject: one\n\nline 1\n.\nnot read\n' |
	submit "-f/-F" -f ann@example.com -F 'Ann Example' bob@example.org
expect_contains "-f sender" "sender: ann@example.com" "$(last)"
expect_contains "recipient" "recipient: bob@example.org" "$(last)"
expect_contains "-F full name in From:" "Ann Example" "$(last)"
expect_contains "uid attribute" "attribute uid=$(id -u)" "$(last)"
expect_contains "body" "line 1" "$(last)"
case "$(last)" in *"not read"*) fail "a lone dot did not end the input" ;; *) pass ;; esac
expect_contains "pickup log line" "uid=$(id -u) from=<ann@example.com>" "$(cat "$log")"

# -i and -oi: the dot is content.
printf 'Subject: two\n\nbefore\n.\nafter dot\n' | submit "-i" -i -f ann@example.com bob
expect_contains "-i keeps the dot line" "after dot" "$(last)"
printf 'Subject: three\n\n.\nafter dot 2\n' | submit "-oi" -oi -oem -odb -f ann@example.com bob
expect_contains "-oi keeps the dot line" "after dot 2" "$(last)"

# -t: recipients from To/Cc/Bcc as well as the arguments; Bcc is removed.
printf 'To: To One <to1@example.com>, to2@example.com\nCc: cc@example.com\nBcc: secret@example.com\nSubject: t\n\nbody\n' |
	submit "-t" -t -f ann@example.com extra@example.com
for r in to1@example.com to2@example.com cc@example.com secret@example.com extra@example.com; do
	expect_contains "-t recipient $r" "recipient: $r" "$(last)"
done
case "$(last)" in *"Bcc:"*) fail "-t left the Bcc: header" ;; *) pass ;; esac

# CRLF input becomes LF; a final line without a newline gets one; the
# default sender is the login name.
printf 'Subject: crlf\r\n\r\nline\r\nlast' | submit "CRLF" bob
expect_contains "default sender" "sender: $(id -un)" "$(last)"
case "$(last)" in *"$(printf '\r')"*) fail "CR left in the content" ;; *) pass ;; esac
expect_contains "last line" "last" "$(last)"

# -N, -R, -V: DSN options reach the queue file; -f '<>' is the null sender.
printf 'Subject: dsn\n\nx\n' | submit "DSN" -f '<>' -N success,delay -R hdrs -V env-42 bob
if last | grep -qx 'sender: '; then pass; else fail "-f '<>' is not the null sender"; fi
expect_contains "-R" "attribute ret=HDRS" "$(last)"
expect_contains "-V" "attribute envid=env-42" "$(last)"
expect_contains "-N" "recipient: bob@host.example notify=5" "$(last)"

# -bs: an SMTP conversation on a pipe; dot-stuffing; two messages.
out=$(printf 'EHLO client\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<r1@example.com>\r\nDATA\r\nSubject: bs\r\n\r\n..stuffed\r\n.\r\nMAIL FROM:<s2@example.com>\r\nRCPT TO:<r2@example.com>\r\nDATA\r\nSubject: bs2\r\n\r\nx\r\n.\r\nQUIT\r\n' |
	"$SENDMAIL" -C "$etc" -bs)
expect_status "-bs exit" 0 $?
expect_contains "-bs greeting" "220 host.example ESMTP" "$out"
expect_contains "-bs EHLO" "250-PIPELINING" "$out"
expect_contains "-bs SIZE" "250-SIZE 100000" "$out"
expect_contains "-bs queued" "250 2.0.0 Ok: queued" "$out"
expect_contains "-bs QUIT" "221 2.0.0 Bye" "$out"
wait_until 10 has_queued $((queued_before + 2)) || fail "-bs messages not queued"
queued_before=$(queued_count)
dump_queue > "$work/all"
expect_contains "-bs unstuffed" "
.stuffed" "$(cat "$work/all")"
expect_contains "-bs second sender" "sender: s2@example.com" "$(cat "$work/all")"
out=$(printf 'HELO c\r\nRCPT TO:<x@y>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\nBOGUS\r\nVRFY x\r\nRSET\r\nMAIL FROM:<c@d> SIZE=999999\r\nQUIT\r\n' |
	"$SENDMAIL" -C "$etc" -bs)
expect_contains "-bs RCPT first" "503 5.5.1 Error: need MAIL command" "$out"
expect_contains "-bs nested MAIL" "503 5.5.1 Error: nested MAIL command" "$out"
expect_contains "-bs DATA without RCPT" "554 5.5.1 Error: no valid recipients" "$out"
expect_contains "-bs unknown" "500 5.5.2 Error: command not recognized" "$out"
expect_contains "-bs VRFY" "502 5.5.1" "$out"
expect_contains "-bs SIZE" "552 5.3.4" "$out"

# Too big: a clear refusal, a non-zero exit, nothing queued or left behind.
out=$(head -c 200000 /dev/zero | tr '\0' 'a' | fold -w 100 | "$SENDMAIL" -C "$etc" bob 2>&1)
expect_status "over message_size_limit" 65 $?
expect_contains "over message_size_limit" "larger than the limit of 100000 bytes" "$out"
out=$(printf 'EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n%s\r\n.\r\nQUIT\r\n' \
	"$(head -c 150000 /dev/zero | tr '\0' 'b' | fold -w 100)" | "$SENDMAIL" -C "$etc" -bs)
expect_contains "-bs too big" "552 5.3.4 Error: message file too big" "$out"
expect_contains "-bs goes on after too big" "221 2.0.0 Bye" "$out"
sleep 0.3
expect_output "nothing queued when too big" "$queued_before" "$(queued_count)"
expect_output "nothing left in maildrop" "0" "$(count_files "$queue/maildrop")"

# Usage errors.
echo x | "$SENDMAIL" -C "$etc" 2>/dev/null
expect_status "no recipients" 64 $?
echo x | "$SENDMAIL" -C "$etc" -bd 2>/dev/null
expect_status "-bd" 64 $?
echo x | "$SENDMAIL" -C "$etc" -R bogus bob 2>/dev/null
expect_status "-R bogus" 64 $?
echo x | "$SENDMAIL" -C "$etc" -f 'a
b' bob 2>/dev/null
expect_status "newline in -f" 64 $?

# MAIL_CONFIG and -C with the main.cf file both choose the instance.
printf 'Subject: env\n\nx\n' | MAIL_CONFIG=$etc "$SENDMAIL" -f env@example.com bob
expect_status "MAIL_CONFIG" 0 $?
printf 'Subject: file\n\nx\n' | "$SENDMAIL" -C "$etc/main.cf" -f file@example.com bob
expect_status "-C main.cf" 0 $?
wait_until 10 has_queued $((queued_before + 2)) || fail "MAIL_CONFIG/-C FILE not queued"
queued_before=$(queued_count)

# -bp and mailq.
stop_pickup
printf 'Subject: waits\n\nx\n' | "$SENDMAIL" -C "$etc" bob
out=$("$SENDMAIL" -C "$etc" -bp)
# hikyaku queue -p (tests/cmd/queue_admin.sh checks the format): maildrop and incoming.
expect_contains "-bp heading" "----Queue ID----- --Size-- ---Arrival Time----" "$out"
expect_contains "-bp lists maildrop and incoming" "in $((queued_before + 1)) Requests." "$out"
ln -s "$SENDMAIL" "$work/mailq"
out2=$(MAIL_CONFIG=$etc "$work/mailq")
expect_output "mailq is sendmail -bp" "$out" "$out2"
mkdir -p "$work/empty/maildrop"
printf 'queue_directory = %s/empty\ncommand_directory = %s/cmd\n' "$work" "$build" \
	> "$work/empty/main.cf"
expect_output "empty queue" "Mail queue is empty" "$("$SENDMAIL" -C "$work/empty" -bp)"

stop_mail_system
check_daemon_reports
finish
