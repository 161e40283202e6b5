#!/bin/sh
# smtpd's hand-off to cleanup: 250 only when cleanup has the message on
# stable storage. A cleanup that is down or stuck gives 451 4.3.0, never
# 250; cleanup's permanent refusal (too many hops) a 5xx with its reason;
# message_size_limit gives 552 5.3.4 after the data (DATA and BDAT).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

printf 'message_size_limit = 4000\n' >> "$etc/main.cf"
smtpd_master_cf smtpd_timeout=3s
smtpd_start || { finish; exit 1; }

# Too big, by DATA: read to the end, then 552; the session goes on.
big=$("$PYTHON" -c 'print("\n".join(["x" * 70] * 100))')
out=$(swaks_run --from a@example.org --to "$rcpt" --body "$big")
expect_contains "DATA too big" "552 5.3.4 Error: message file too big" "$out"
expect_contains "QUIT after 552" "221 2.0.0 Bye" "$out"
expect_output "nothing queued" 0 "$(queued)"
# Too big, by BDAT: refused before the chunk is read.
printf '%s' "$big" > "$work/big"
out=$($talk bdat "$port" a@example.org "$rcpt" "$work/big" 8000)
expect_contains "BDAT too big" "552 5.3.4 Error: message file too big" "$out"
expect_output "still nothing queued" 0 "$(queued)"

# cleanup refuses permanently: more Received: headers than hopcount_limit.
hops=$("$PYTHON" -c 'print("\n".join(["Received: from h%d; Mon, 1 Jan 2024 00:00:00 +0000" % i for i in range(52)]))')
out=$(swaks_run --from a@example.org --to "$rcpt" --data "$hops
Subject: loop

looping")
expect_contains "too many hops" "554 5.4.6" "$out"
expect_output "not queued" 0 "$(queued)"

# cleanup stuck (stopped): the submission times out: 451, never 250.
out=$(swaks_run --from a@example.org --to "$rcpt" --body "starts cleanup")
expect_contains "cleanup runs" "250 2.0.0 Ok: queued as" "$out"
cleanup_pid=$(sed -n 's/.*daemon\/cleanup pid \([0-9]*\) started.*/\1/p' "$work/maillog" | tail -1)
if [ -n "$cleanup_pid" ] && kill -STOP "$cleanup_pid"; then
	before=$(queued)
	out=$(swaks_run --from a@example.org --to "$rcpt" --body "cleanup is stuck")
	kill -CONT "$cleanup_pid"
	expect_contains "stuck cleanup: 451" "451 4.3.0 Error: queue file write error" "$out"
	case "$out" in *"queued as"*) fail "stuck cleanup: 250" ;; *) pass ;; esac
	wait_log "queue file write error" && pass || fail "stuck cleanup: no log line"
else
	fail "cannot find or stop the cleanup process"
fi

# cleanup down: no service at all.
hk stop > /dev/null 2>&1
smtpd_master_cf
sed -i '/^cleanup /d' "$etc/master.cf"
rm -f "$queue/public/cleanup"
smtpd_start || { finish; exit 1; }
out=$(swaks_run --from a@example.org --to "$rcpt" --body "cleanup is down")
expect_contains "cleanup down: 451" "451 4.3.0 Error: queue file write error" "$out"
case "$out" in *"queued as"*) fail "cleanup down: 250" ;; *) pass ;; esac
wait_log "cannot submit to the cleanup service" && pass || fail "cleanup down: no log line"

smtpd_finish
