#!/bin/sh
# Real mail programs calling sendmail as users run them: s-nail (mail(1))
# and mutt, each pointed at the built sendmail, with MAIL_CONFIG naming
# the private instance. What arrives in the queue is checked.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/sendmail_lib.sh"

make_instance
start_mail_system
export MAIL_CONFIG="$etc"
export HOME="$work/home"
mkdir -p "$HOME"

if ! command -v s-nail > /dev/null || ! command -v mutt > /dev/null; then
	fail "s-nail and mutt are needed (tools/packages-test.txt)"
	finish
	exit 1
fi

# s-nail: -r sets the envelope sender (it passes -f), -s the subject.
echo "hello from s-nail" |
	s-nail -n -S mta="$SENDMAIL" -S sendwait -r 'Sam Nail <sam@example.com>' \
		-s 's-nail subject' rcpt1@example.org 2>"$work/s-nail.err"
expect_status "s-nail exit" 0 $?
wait_until 10 has_queued 1 || fail "s-nail message not queued"
out=$(dump_queue)
expect_contains "s-nail sender" "sender: sam@example.com" "$out"
expect_contains "s-nail recipient" "recipient: rcpt1@example.org" "$out"
expect_contains "s-nail subject" "Subject: s-nail subject" "$out"
expect_contains "s-nail body" "hello from s-nail" "$out"

# mutt in batch mode: it runs "sendmail -oem -oi -- recipients".
echo "hello from mutt" |
	mutt -n -F /dev/null -e "set sendmail=\"$SENDMAIL\"" -e 'set from="Mia Mutt <mia@example.com>"' \
		-e 'set use_envelope_from=yes' -e 'set record=""' -e "set folder=\"$HOME\"" \
		-s 'mutt subject' -c cc@example.org rcpt2@example.org 2>"$work/mutt.err"
expect_status "mutt exit" 0 $?
wait_until 10 has_queued 2 || fail "mutt message not queued"
out=$(dump_queue)
expect_contains "mutt sender" "sender: mia@example.com" "$out"
expect_contains "mutt recipient" "recipient: rcpt2@example.org" "$out"
expect_contains "mutt cc recipient" "recipient: cc@example.org" "$out"
expect_contains "mutt subject" "Subject: mutt subject" "$out"
expect_contains "mutt body" "hello from mutt" "$out"

# A lone dot in a body is content (both programs pass -i / -oi).
printf 'first\n.\nlast line\n' |
	s-nail -n -S mta="$SENDMAIL" -S sendwait -s 'dot' rcpt3@example.org 2>>"$work/s-nail.err"
wait_until 10 has_queued 3 || fail "dot message not queued"
expect_contains "dot line kept" "last line" "$(dump_queue)"

stop_mail_system
check_daemon_reports
finish
