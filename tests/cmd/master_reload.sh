#!/bin/sh
# reload: a new inet listener appears and a removed one goes, while a
# client is mid-session on each (both sessions complete); new processes
# use the new configuration; a broken configuration is refused and the
# running one stays.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/master.sh"

make_instance
removed=$(free_port)
kept=$(free_port)
added=$(free_port)
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$removed inet n - n - - echo
127.0.0.1:$kept inet n - n - - echo
CF
[ "$(id -u)" -eq 0 ] && hk set-permissions > /dev/null 2>&1
hk start > /dev/null 2>&1
expect_status "start" 0 $?

"$PYTHON" "$client" hold "$removed" "$work/ready.removed" "$work/go" > "$work/session.removed" 2>&1 &
"$PYTHON" "$client" hold "$kept" "$work/ready.kept" "$work/go" > "$work/session.kept" 2>&1 &
wait_for test -e "$work/ready.removed"
wait_for test -e "$work/ready.kept"
old_kept=$(awk '{print $3}' "$work/session.kept")

cat > "$work/etc/master.cf" <<CF
127.0.0.1:$kept inet n - n - - echo
127.0.0.1:$added inet n - n - - echo
CF
out=$(hk reload 2>&1)
expect_status "reload" 0 $?
expect_contains "reload says so" "refreshing the hikyaku mail system" "$out"
wait_for log_has "reload -- version"
expect_status "reload logged" 0 $?
out=$(greet "$added")
expect_contains "added listener answers" "hello 127.0.0.1:$added" "$out"
out=$(greet "$kept")
expect_contains "kept listener answers" "hello 127.0.0.1:$kept" "$out"
case "$out" in *" $old_kept") fail "kept service: old process took a new client" ;; *) pass ;; esac

# The sessions that began before the reload finish normally.
touch "$work/go"
wait
expect_contains "session on removed listener completed" "completed" "$(cat "$work/session.removed")"
expect_contains "session on kept listener completed" "completed" "$(cat "$work/session.kept")"
wait_for sh -c "\"$PYTHON\" \"$client\" greet $removed | grep -q error:"
expect_status "removed listener closed" 0 $?

# A broken configuration: refused with file and line, nothing changes.
cp "$work/etc/master.cf" "$work/master.cf.good"
cat >> "$work/etc/master.cf" <<CF
broken unix - - n - - no-such-daemon
CF
out=$(hk reload 2>&1)
expect_status "broken reload" 1 $?
expect_contains "broken reload names the line" "$work/etc/master.cf, line 3: command no-such-daemon" "$out"
expect_contains "broken reload keeps running" "the running configuration stays" "$out"
out=$(greet "$added")
expect_contains "still serving" "hello 127.0.0.1:$added" "$out"
# Even when the master is signalled directly, it keeps the running one.
kill -HUP "$(master_pid)"
wait_for log_has "reload: the configuration in $work/etc has errors: keeping the running one"
expect_status "master refuses a broken reload" 0 $?
out=$(greet "$added")
expect_contains "still serving after refused reload" "hello 127.0.0.1:$added" "$out"

hk stop > /dev/null 2>&1
expect_status "stop" 0 $?
finish
