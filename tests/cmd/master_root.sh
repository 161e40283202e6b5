#!/bin/sh
# Privilege separation, seen through /proc (root only; elsewhere the test
# passes trivially): set-permissions makes the queue with its owners and
# modes; children run as mail_owner, chrooted where master.cf says so; a
# service with unpriv "n" (like local) keeps root; an unsafe queue
# directory is refused. Then the whole start/stop cycle runs again as an
# ordinary user (nobody), where nothing changes identity.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/master.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "not root: skipped"
	exit 77
fi
make_instance
jailed=$(free_port)
privileged=$(free_port)
plain=$(free_port)
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$jailed inet n - y - - echo
127.0.0.1:$privileged inet n n n - - echo
127.0.0.1:$plain inet n - n - - echo
CF

out=$(hk set-permissions 2>&1)
expect_status "set-permissions" 0 $?
owner_uid=$(id -u hikyaku)
for entry in "maildrop hikyaku hikydrop 1730" "incoming hikyaku hikyaku 700" \
	"deferred hikyaku hikyaku 700" "public hikyaku hikydrop 710" \
	"private hikyaku hikyaku 700" "pid root root 755"; do
	set -- $entry
	expect_output "queue/$1" "$entry" "$1 $(stat -c '%U %G %a' "$work/queue/$1")"
done
expect_output "queue directory" "root 755" "$(stat -c '%U %a' "$work/queue")"
[ -f "$work/queue/etc/services" ] && pass || fail "chroot files not copied"

hk start > /dev/null 2>&1
expect_status "start" 0 $?
# uid_of PID: the real user ID of a process.
uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status"; }
jailed_pid=$(greet "$jailed" | awk '{print $3}')
privileged_pid=$(greet "$privileged" | awk '{print $3}')
plain_pid=$(greet "$plain" | awk '{print $3}')
expect_output "jailed child runs as mail_owner" "$owner_uid" "$(uid_of "$jailed_pid")"
expect_output "jailed child is chrooted" "$work/queue" "$(readlink "/proc/$jailed_pid/root")"
expect_output "plain child runs as mail_owner" "$owner_uid" "$(uid_of "$plain_pid")"
expect_output "plain child is not chrooted" "/" "$(readlink "/proc/$plain_pid/root")"
expect_output "unpriv n keeps root" "0" "$(uid_of "$privileged_pid")"
for child in $(children_of "$(master_pid)"); do
	[ "$child" = "$privileged_pid" ] && continue
	[ "$(uid_of "$child")" != 0 ] && pass || fail "child $child runs as root"
done
hk stop > /dev/null 2>&1
expect_status "stop" 0 $?

# An unsafe queue directory is refused.
chmod 775 "$work/queue"
out=$(hk start 2>&1)
expect_status "group-writable queue" 1 $?
expect_contains "group-writable queue" "is writable by group or others (mode 0775): refusing" "$out"
chmod 755 "$work/queue"
chown nobody "$work/queue"
out=$(hk start 2>&1)
expect_status "queue owned by another user" 1 $?
expect_contains "queue owned by another user" "is owned by user ID $(id -u nobody), not root" "$out"
chown root "$work/queue"

# mail_owner root is refused.
printf 'mail_owner = root\n' >> "$work/etc/main.cf"
out=$(hk start 2>&1)
expect_status "mail_owner root" 1 $?
expect_contains "mail_owner root" "mail_owner root has user ID 0" "$out"

# The same cycle as an ordinary user: its own instance, no identity change.
user_tmp=$(mktemp -d "${TMPDIR:-/tmp}/hikyaku-nobody.XXXXXX")
chown nobody:nogroup "$user_tmp"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR="$user_tmp" \
	HIKYAKU="$HIKYAKU" MASTER="$MASTER" TESTD="$TESTD" SOURCE_DIR="$SOURCE_DIR" \
	/bin/sh "$SOURCE_DIR/tests/cmd/master_cycle.sh" 2>&1)
status=$?
rm -rf "$user_tmp"
expect_status "cycle as nobody" 0 $status
expect_contains "cycle as nobody" " passed, 0 failed" "$out"
[ $status -ne 0 ] && printf '%s\n' "$out" >&2

finish
