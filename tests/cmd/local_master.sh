#!/bin/sh
# local under the master, with the shipped master.cf entry ("local unix -
# n n - - local"): the master starts it on demand on private/local; a
# delivery request there (played by deliver_request, as the queue manager
# will send it) reaches the user's mailbox and Maildir. As root the
# daemon keeps root and each delivery runs as the recipient.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/local_lib.sh"
: "${MASTER:?MASTER must name the master binary}"

mkdir -p "$work/daemon"
ln -s "$MASTER" "$work/daemon/master"
ln -s "$CLEANUP" "$work/daemon/cleanup"
ln -s "$LOCAL" "$work/daemon/local"
printf 'daemon_directory = %s/daemon\n' "$work" >> "$etc/main.cf"
grep -E '^(cleanup|local) ' "$SOURCE_DIR/conf/master.cf" > "$etc/master.cf"
expect_output "shipped local entry" "local     unix  -       n       n       -       -       local" \
	"$(grep '^local ' "$etc/master.cf")"
build_aliases
hk() { "$HIKYAKU" -c "$etc" "$@"; }
trap 'hk abort > /dev/null 2>&1; local_cleanup' EXIT
out=$(hk set-permissions 2>&1)
expect_status "set-permissions" 0 $?
out=$(hk start 2>&1)
expect_status "start" 0 $?
wait_socket "$queue/public/cleanup"
wait_socket "$queue/private/local"

id=$(printf 'Subject: via master\n\nhello\n' | submit_message sender@example.org "$user@host.example")
[ -n "$id" ] && pass || fail "not queued"
out=$(deliver "$id")
expect_output "delivered through the master" "0 delivered 2.0.0 delivered to mailbox" "$out"
expect_output "marked" "D" "$(recipient_states "$id")"
expect_output "mailbox owner" "$user" "$(stat -c %U "$work/spool/$user")"
expect_contains "log line" "hikyaku/local[" "$(cat "$work/maillog")"
expect_contains "log status" "$id: to=<$user@host.example>, relay=local, delay=" "$(cat "$work/maillog")"

# Several requests: the same process serves them (max_use), each answered.
for n in 1 2 3; do
	id=$(printf 'Subject: again %s\n\nhello\n' "$n" | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_output "request $n" "0 delivered 2.0.0 delivered to mailbox" "$out"
done
expect_output "four messages" 4 "$(grep -c '^From ' "$work/spool/$user")"
hk stop > /dev/null 2>&1
expect_status "stop" 0 $?

finish
