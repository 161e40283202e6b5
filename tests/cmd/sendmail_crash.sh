#!/bin/sh
# Crashes never lose an acknowledged message: 200 submissions while
# pickup (and now and then cleanup) is killed with SIGKILL at random
# moments and restarted. Every message sendmail acknowledged must end in
# the queue at least once, and a message may be there twice only because
# of a kill (the one in flight between cleanup's answer and pickup's
# unlink), so duplicates never outnumber kills. docs/maildrop.md has the
# commit protocol this checks.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/sendmail_lib.sh"

messages=${CRASH_MESSAGES:-200}
make_instance
start_mail_system

# The submitter runs in the background and records what was acknowledged.
: > "$work/acked"
(
	i=1
	while [ "$i" -le "$messages" ]; do
		if printf 'Subject: crash %s\n\nserial=%s.\n' "$i" "$i" |
			"$SENDMAIL" -C "$etc" -f crash@example.com bob 2>>"$work/sendmail.err"; then
			echo "$i" >> "$work/acked"
		fi
		i=$((i + 1))
	done
	touch "$work/submitted"
) &
submitter=$!

# random_ms LOW HIGH
random_ms() {
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $(( $1 + r % ($2 - $1) ))
}

kills=0
rounds=0
while [ ! -e "$work/submitted" ] && [ "$rounds" -lt 2000 ]; do
	rounds=$((rounds + 1))
	sleep "0.$(printf "%03d" "$(random_ms 5 60)")"
	if [ $((kills % 5)) -eq 4 ]; then
		kill -9 "$cleanup_pid" 2>/dev/null
		wait "$cleanup_pid" 2>/dev/null
		start_cleanup
	else
		kill -9 "$pickup_pid" 2>/dev/null
		wait "$pickup_pid" 2>/dev/null
		start_pickup
	fi
	kills=$((kills + 1))
done
wait "$submitter"

# Let pickup finish: the maildrop empties (a stale tmp. file of a killed
# postdrop would not count, but postdrop is never killed here).
wait_until 60 maildrop_is_empty || fail "maildrop did not empty: $(ls "$queue/maildrop" | head)"
acked=$(wc -l < "$work/acked" | tr -d ' ')
expect_output "every submission was acknowledged" "$messages" "$acked"

dump_queue | grep -o '^serial=[0-9]*\.' | sort | uniq -c | awk '{print $2, $1}' |
	sed 's/^serial=\([0-9]*\)\. /\1 /' | sort -n > "$work/counts"
missing=0
while read -r n; do
	grep -q "^$n " "$work/counts" || { missing=$((missing + 1)); echo "lost: $n" >&2; }
done < "$work/acked"
expect_output "no acknowledged message lost" "0" "$missing"
duplicates=$(awk '$2 > 1 { d += $2 - 1 } END { print d + 0 }' "$work/counts")
if [ "$duplicates" -le "$kills" ]; then pass; else
	fail "$duplicates duplicates after only $kills kills"
fi
echo "crash test: $messages messages, $kills kills, $duplicates duplicates"
corrupt=$(count_files "$queue/corrupt")
expect_output "nothing in corrupt/" "0" "$corrupt"

stop_mail_system
check_daemon_reports
finish
