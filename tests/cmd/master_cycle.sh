#!/bin/sh
# The life of an instance as an administrator sees it: start, status,
# stop, abort; two masters refused; kill -9 of a child and of the master;
# a port in use and a broken master.cf refused with a clear error.
# Run as whoever runs the tests (as root, children run as mail_owner).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/master.sh"

make_instance
port=$(free_port)
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - 2 echo
CF
if [ "$(id -u)" -eq 0 ]; then
	out=$(hk set-permissions 2>&1)
	expect_status "set-permissions" 0 $?
fi

out=$(hk start 2>&1)
expect_status "start" 0 $?
expect_contains "start says so" "starting the hikyaku mail system" "$out"
# start returns once the master listens: no wait here.
out=$(greet "$port")
expect_contains "listening after start" "hello 127.0.0.1:$port" "$out"
out=$(hk status 2>&1)
expect_status "status running" 0 $?
expect_contains "status pid" "is running: PID:" "$out"
first=$(master_pid)
expect_contains "log daemon started" "hikyaku/master[$first]: daemon started" "$(cat "$work/maillog")"
expect_contains "log child start" "service 127.0.0.1:$port/inet: process $work/daemon/echo pid" "$(cat "$work/maillog")"

# Two masters on one queue: refused by start and by the master itself.
out=$(hk start 2>&1)
expect_status "second start" 1 $?
expect_contains "second start" "already running (master pid $first)" "$out"
out=$("$MASTER" -c "$work/etc" 2>&1)
expect_status "second master" 1 $?
expect_contains "second master" "already running (master pid $first)" "$out"

# kill -9 of a child that served a client: the next client gets a new one.
child=$(greet "$port" | awk '{print $3}')
kill -9 "$child"
wait_for process_gone "$child"
out=$(greet "$port")
expect_contains "child replaced" "hello 127.0.0.1:$port" "$out"
case "$out" in *" $child") fail "same child after kill -9" ;; *) pass ;; esac
wait_for log_has "pid $child killed by signal 9"
expect_status "child kill logged" 0 $?

out=$(hk stop 2>&1)
expect_status "stop" 0 $?
expect_contains "stop says so" "stopping the hikyaku mail system" "$out"
out=$(hk status 2>&1)
expect_status "status stopped" 1 $?
out=$(greet "$port")
expect_contains "closed after stop" "error:" "$out"
expect_contains "log stop" "terminating on signal 15" "$(cat "$work/maillog")"
[ -z "$(children_of "$first")" ] && pass || fail "children left after stop"

# kill -9 of the master: its children notice and exit; start works again.
hk start > /dev/null 2>&1
expect_status "start again" 0 $?
second=$(master_pid)
greet "$port" > /dev/null
children=$(children_of "$second")
[ -n "$children" ] && pass || fail "no child to watch"
kill -9 "$second"
for child in $children; do
	wait_for process_gone "$child"
	expect_status "child $child exits after master kill -9" 0 $?
done
out=$(hk status 2>&1)
expect_status "stale pid file is not a running master" 1 $?
out=$(hk start 2>&1)
expect_status "start after kill -9" 0 $?
out=$(greet "$port")
expect_contains "answers after restart" "hello" "$out"

# abort: at once, children killed.
third=$(master_pid)
children=$(children_of "$third")
out=$(hk abort 2>&1)
expect_status "abort" 0 $?
for child in $children; do
	wait_for process_gone "$child"
	expect_status "child $child gone after abort" 0 $?
done
out=$(hk stop 2>&1)
expect_status "stop when stopped" 1 $?
expect_contains "stop when stopped" "not running" "$out"

# A port in use: a clear error, nothing left running.
"$PYTHON" -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(1); open('$work/busy', 'w').close(); time.sleep(15)" &
holder=$!
wait_for test -e "$work/busy"
out=$(hk start 2>&1)
expect_status "port in use" 1 $?
expect_contains "port in use" "bind [127.0.0.1]:$port: Address already in use" "$out"
kill "$holder"
out=$(hk status 2>&1)
expect_status "not running after failed start" 1 $?

# A broken master.cf: every problem with its file and line, no start.
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - 2 echo
nothing   unix  -       -       n       -       -       no-such-daemon
bogus     tcp   n       -       n       -       -       echo
dgram     unix-dgram - -        n       -       -       echo
CF
out=$(hk start 2>&1)
expect_status "broken master.cf" 1 $?
expect_contains "missing command" "$work/etc/master.cf, line 2: command no-such-daemon: $work/daemon/no-such-daemon: No such file or directory" "$out"
expect_contains "bad type" "$work/etc/master.cf, line 3:" "$out"
expect_contains "unsupported type" "$work/etc/master.cf, line 4: type unix-dgram is not supported" "$out"
out=$(hk status 2>&1)
expect_status "broken config not started" 1 $?

finish
