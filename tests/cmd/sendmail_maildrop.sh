#!/bin/sh
# The maildrop directory: mail submitted while the mail system is down
# waits there and is queued when pickup starts; files pickup cannot trust
# (forged owner, broken format, a symbolic link) go to corrupt/ with a log
# line; stale temporary files of a dead postdrop are removed.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/sendmail_lib.sh"

make_instance
corrupt_at_least() { [ "$(count_files "$queue/corrupt")" -ge "$1" ]; }

# The system is down: sendmail still succeeds, the files wait.
for i in 1 2 3; do
	printf 'Subject: down %s\n\nwaiting\n' "$i" | "$SENDMAIL" -C "$etc" -f down@example.com bob
	expect_status "submission $i while down" 0 $?
done
expect_output "three files wait in maildrop" "3" "$(count_files "$queue/maildrop")"
for f in "$queue"/maildrop/*; do
	head -1 "$f" | grep -q '^hikyaku-maildrop 1$' && pass || fail "$f: bad magic"
	[ "$(stat -c %a "$f")" = 644 ] && pass || fail "$f: mode $(stat -c %a "$f")"
done
expect_output "nothing queued yet" "0" "$(queued_count)"

# Make hostile files before pickup starts, named like real ones: take the
# names of three more real submissions and replace their contents.
for i in 4 5 6 7; do printf 'Subject: x\n\nx\n' | "$SENDMAIL" -C "$etc" bob; done
set -- $(ls "$queue/maildrop" | sort | tail -4)
forged=$1 truncated=$2 junk=$3 link=$4
# Forged: a valid file whose recorded uid is not its owner's.
other_uid=$(( $(id -u) + 1 ))
sed "2,3c\\
uid ${#other_uid}\\
$other_uid" "$queue/maildrop/$forged" > "$work/forged"
cat "$work/forged" > "$queue/maildrop/$forged"
grep -q "^$other_uid\$" "$queue/maildrop/$forged" && pass || fail "forging failed"
# Truncated: the end record is missing.
head -n -2 "$queue/maildrop/$truncated" > "$work/cut"
cat "$work/cut" > "$queue/maildrop/$truncated"
# Junk: NUL bytes and a 100,000-byte line.
{ head -c 100 /dev/zero; head -c 100000 /dev/zero | tr '\0' x; } > "$queue/maildrop/$junk"
# A symbolic link to a file pickup must not read.
rm "$queue/maildrop/$link"
ln -s /etc/passwd "$queue/maildrop/$link"
# Temporary files: one of a postdrop that died two days ago, one fresh.
touch -d '2 days ago' "$queue/maildrop/tmp.1.dead"
touch "$queue/maildrop/tmp.2.busy"

start_mail_system
wait_until 10 has_queued 3 || fail "waiting mail was not queued at start"
wait_until 10 corrupt_at_least 4 || fail "hostile files not moved"
sleep 0.3
expect_output "the three waiting messages are queued" "3" "$(queued_count)"
expect_output "only the fresh temporary file is left" "tmp.2.busy" "$(ls "$queue/maildrop")"
out=$(cat "$log")
expect_contains "forged log line" "forged file: owner uid $(id -u), recorded uid $other_uid" "$out"
expect_contains "truncated log line" "maildrop/$truncated: file ends early" "$out"
expect_contains "junk log line" "maildrop/$junk: not a maildrop file: bad magic line" "$out"
expect_contains "link log line" "maildrop/$link: symbolic link" "$out"
expect_contains "stale temporary file" "removed stale temporary file maildrop/tmp.1.dead" "$out"
[ -L "$(find "$queue/corrupt" -name "$link")" ] && pass || fail "the link was not moved as a link"
expect_contains "moved to corrupt" "moved to corrupt/" "$out"
dump_queue > "$work/all"
expect_contains "waiting message content" "Subject: down 2" "$(cat "$work/all")"

# cleanup refuses for good (-t without any recipient): kept in corrupt/.
before=$(count_files "$queue/corrupt")
printf 'Subject: nobody\n\nx\n' | "$SENDMAIL" -C "$etc" -t
expect_status "-t without recipients is accepted by sendmail" 0 $?
wait_until 10 corrupt_at_least $((before + 1)) || fail "refused message not kept"
expect_contains "refusal logged" "refused by cleanup" "$(cat "$log")"

# postdrop alone: input that is not a submission is refused, nothing stays.
before=$(count_files "$queue/maildrop")
printf 'hikyaku-maildrop 1\nuid 1\n0\n' | "$build/cmd/postdrop" -c "$etc" 2>/dev/null
expect_status "postdrop refuses a uid record" 65 $?
printf 'hikyaku-maildrop 1\nsender 0\n\nrecipient 1\nb\n' | "$build/cmd/postdrop" -c "$etc" 2>/dev/null
expect_status "postdrop refuses a submission without end" 65 $?
expect_output "postdrop left nothing" "$before" "$(count_files "$queue/maildrop")"

stop_mail_system
check_daemon_reports
finish
