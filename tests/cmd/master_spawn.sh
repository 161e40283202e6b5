#!/bin/sh
# On-demand processes: up to maxproc at once, retired after max_use; a
# service that dies at start is throttled, not restarted in a storm;
# wakeup timers (with and without "?"); a SERVER_MULTI service; flush.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/master.sh"

make_instance
limited=$(free_port)
reused=$(free_port)
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$limited inet n - n - 2 echo
127.0.0.1:$reused inet n - n - 1 echo -o max_use=2
crash     unix  -       -       n       -       -       crash
tick      unix  -       -       n       1       1       trigger
lazy      unix  -       -       n       1?      1       trigger
  -o syslog_name=hikyaku/lazy
multi     unix  -       -       n       -       -       multi
CF
[ "$(id -u)" -eq 0 ] && hk set-permissions > /dev/null 2>&1
hk start > /dev/null 2>&1
expect_status "start" 0 $?
master=$(master_pid)

# Three clients at once on a service limited to two processes.
for n in 1 2 3; do
	"$PYTHON" "$client" hold "$limited" "$work/ready.$n" "$work/go" > "$work/session.$n" 2>&1 &
done
wait_for test -e "$work/ready.2"
wait_for log_has "service 127.0.0.1:$limited/inet has reached its process limit 2"
expect_status "limit warning" 0 $?
sleep 0.5
expect_output "third client waits" "2" "$(ls "$work"/ready.* | wc -l | tr -d ' ')"
started=$(log_count "service 127.0.0.1:$limited/inet: process")
expect_output "two processes" "2" "$started"
touch "$work/go"
wait
for n in 1 2 3; do
	expect_contains "session $n completed" "completed" "$(cat "$work/session.$n")"
done
expect_output "still two processes" "2" "$(log_count "service 127.0.0.1:$limited/inet: process")"

# max_use=2: the third client meets a new process; the old one exited 0.
pid1=$(greet "$reused" | awk '{print $3}')
pid2=$(greet "$reused" | awk '{print $3}')
pid3=$(greet "$reused" | awk '{print $3}')
expect_output "reused for the second client" "$pid1" "$pid2"
[ -n "$pid3" ] && [ "$pid3" != "$pid1" ] && pass || fail "max_use: third client pid $pid3, first $pid1"
wait_for log_has "pid $pid1 exit status 0"
expect_status "retired process exit logged" 0 $?

# A command that dies at start: throttled for service_throttle_time (2s).
for n in 1 2 3 4 5 6; do
	"$PYTHON" "$client" trigger "$work/queue/private/crash" "x" > /dev/null 2>&1
	sleep 0.5
done
expect_contains "throttle warning" "$work/daemon/crash: bad command startup -- throttling" "$(cat "$work/maillog")"
starts=$(log_count "service crash/unix: process")
[ "$starts" -ge 1 ] && [ "$starts" -le 3 ] && pass || fail "crash started $starts times in 3 s"

# Wakeups: "tick" got its W's from the start; "lazy" (1?) none before use.
wait_for sh -c "[ \$(grep -c 'hikyaku/trigger.*trigger: W' '$work/maillog') -ge 2 ]"
expect_status "wakeups arrive" 0 $?
expect_output "no wakeup before first use" "0" "$(log_count "hikyaku/lazy/trigger")"
"$PYTHON" "$client" trigger "$work/queue/private/lazy" "hello"
wait_for log_has "hikyaku/lazy/trigger"
wait_for sh -c "grep -q 'hikyaku/lazy/trigger.*trigger: W' '$work/maillog'"
expect_status "wakeups after first use" 0 $?

# SERVER_MULTI over a UNIX socket.
out=$(greet "$work/queue/private/multi")
expect_contains "multi greets" "hello multi" "$out"

# flush: no queue manager configured, then one.
out=$(hk flush 2>&1)
expect_status "flush without qmgr" 1 $?
expect_contains "flush without qmgr" "no queue manager (command qmgr)" "$out"
printf 'qmgr unix n - n 300 1 qmgr\n' >> "$work/etc/master.cf"
hk reload > /dev/null 2>&1
wait_for test -S "$work/queue/public/qmgr"
out=$(hk flush 2>&1)
expect_status "flush" 0 $?
wait_for log_has "hikyaku/qmgr"
wait_for log_has "trigger: FDI"
expect_status "flush reaches qmgr" 0 $?

hk stop > /dev/null 2>&1
expect_status "stop" 0 $?
finish
