#!/bin/sh
# The whole local path as a user sees it: sendmail -> pickup -> cleanup ->
# qmgr -> local -> the mailbox, through the master with the shipped local
# entry; an alias on the way; the queue empty afterwards and Postfix's log
# lines. As root into the test user's Maildir; as an ordinary user into
# our spool mbox.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/local_lib.sh"
: "${MASTER:?MASTER must name the master binary}"
: "${QMGR:?QMGR must name the qmgr binary}"
: "${PICKUP:?PICKUP must name the pickup binary}"

mkdir -p "$work/daemon" "$work/bin"
ln -s "$MASTER" "$work/daemon/master"
ln -s "$CLEANUP" "$work/daemon/cleanup"
ln -s "$PICKUP" "$work/daemon/pickup"
ln -s "$QMGR" "$work/daemon/qmgr"
ln -s "$LOCAL" "$work/daemon/local"
ln -s "$build/cmd/sendmail" "$work/bin/sendmail"
cp "$build/cmd/postdrop" "$work/bin/postdrop"
ln -s "$HIKYAKU" "$work/bin/hikyaku"
cat >> "$etc/main.cf" <<CF
daemon_directory = $work/daemon
command_directory = $work/bin
CF
[ "$is_root" -eq 1 ] && printf 'home_mailbox = Maildir/\n' >> "$etc/main.cf"
{
	grep -E '^(pickup|cleanup|local) ' "$SOURCE_DIR/conf/master.cf"
	echo "qmgr      unix  n       -       n       300     1       qmgr"
} > "$etc/master.cf"
printf 'info: %s\n' "$user" > "$etc/aliases"
build_aliases
hk() { "$HIKYAKU" -c "$etc" "$@"; }
trap 'hk abort > /dev/null 2>&1; local_cleanup' EXIT
hk set-permissions > /dev/null 2>&1
expect_status "set-permissions" 0 $?
out=$(hk start 2>&1)
expect_status "start" 0 $?

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	limit=$(($1 * 10))
	shift
	tries=0
	while ! "$@" && [ "$tries" -lt "$limit" ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	"$@"
}
if [ "$is_root" -eq 1 ]; then
	arrived() { [ "$(find "$home/Maildir/new" -type f 2> /dev/null | wc -l)" -ge "$1" ]; }
	how="delivered to maildir"
else
	arrived() { [ "$(grep -c '^From ' "$work/spool/$user" 2> /dev/null || echo 0)" -ge "$1" ]; }
	how="delivered to mailbox"
fi
queue_empty() { [ -z "$(find "$queue/incoming" "$queue/active" "$queue/deferred" -type f 2> /dev/null)" ]; }

printf 'Subject: end to end\n\nhello through the whole system\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org "$user"
expect_status "sendmail" 0 $?
if wait_for 15 arrived 1; then pass; else fail "not delivered within 15 s"; fi
printf 'Subject: via alias\n\nto info\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org info@host.example
if wait_for 15 arrived 2; then pass; else fail "alias not delivered within 15 s"; fi
if wait_for 10 queue_empty; then pass; else fail "queue not empty"; fi
log=$(cat "$work/maillog")
expect_contains "to= line" "to=<$user@host.example>, orig_to=<$user>, relay=local, delay=" "$log"
expect_contains "status" "dsn=2.0.0, status=sent ($how)" "$log"
expect_contains "alias line" "to=<$user@host.example>, orig_to=<info@host.example>, relay=local" "$log"
if [ "$is_root" -eq 1 ]; then
	content=$(cat "$home"/Maildir/new/*)
else
	content=$(cat "$work/spool/$user")
fi
expect_contains "content" "hello through the whole system" "$content"
expect_contains "Delivered-To" "Delivered-To: $user@host.example" "$content"
expect_contains "Return-Path" "Return-Path: <sender@example.org>" "$content"
hk stop > /dev/null 2>&1

finish
